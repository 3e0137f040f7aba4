/*
 * ls.c - "shmkit ls" and "shmkit rm --stale".
 *
 * The library cannot name the segments that exist (shm_open and shmget
 * look names up, they do not list them), so the listing asks the system
 * here, in the tool, and judges each candidate with the public
 * shmkit_info().  What each system lets us enumerate:
 *   - POSIX objects: on Linux, the files of /dev/shm (glibc and musl put
 *     them there).  Elsewhere none: FreeBSD >= 13 has the sysctl
 *     kern.ipc.posix_shm_list, but the headers this is built against
 *     need not declare its struct kinfo_posix_shm; NetBSD, OpenBSD and
 *     macOS keep the objects where names cannot be told back.
 *   - System V segments: on Linux, FreeBSD, NetBSD and OpenBSD, as
 *     ls-sysv.c reads them; not on macOS, whose only list is private.
 * "shmkit ls" says what it cannot list instead of guessing (shmkit(1),
 * section BUGS).
 * Only names that a spec can express are candidates: a POSIX name that is
 * not a valid shmkit name cannot be a shmkit segment, and a System V
 * segment of key IPC_PRIVATE (which includes removed ones on Linux)
 * cannot be opened by key.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __linux__
#include <dirent.h>
#endif

#include "shmkit.h"
#include "ls.h"
#include "ls-sysv.h"
#include "segstatus.h"
#include "tool.h"

#define SPEC_MAX 48

struct entry {
    char spec[SPEC_MAX];
    int backend;
    /* What the enumeration itself told, for objects shmkit_info cannot
     * describe: */
    uint64_t size;
    long uid;
    unsigned mode;
    long nattch;          /* -1 unknown */
    /* What shmkit_info said: */
    int rc;
    struct shmkit_info info;
    enum seg_status status;
};

struct list {
    struct entry *v;
    size_t n, cap;
};

static struct entry *add_entry(struct list *l)
{
    struct entry *e;

    if (l->n == l->cap) {
        size_t cap = l->cap != 0 ? l->cap * 2 : 32;
        struct entry *v = realloc(l->v, cap * sizeof *v);
        if (v == NULL)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    e->nattch = -1;
    return e;
}

/* ---- enumeration --------------------------------------------------------- */

/* Return values of the list_* functions. */
#define LIST_DONE 0
#define LIST_UNSUPPORTED 1 /* this system gives no list */
#define LIST_FAILED (-1)   /* a message was printed */

#ifdef __linux__
#define SHM_DIR "/dev/shm"

static int add_posix(struct list *l, const char *name)
{
    char spec[SPEC_MAX], path[SPEC_MAX + sizeof SHM_DIR];
    struct stat st;
    struct entry *e;

    if (strlen(name) + 2 > sizeof spec)
        return 0; /* longer than any valid name */
    snprintf(spec, sizeof spec, "/%s", name);
    if (shmkit_spec_check(spec) != SHMKIT_BACKEND_POSIX)
        return 0;
    snprintf(path, sizeof path, "%s/%s", SHM_DIR, name);
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0; /* gone meanwhile, or not an object */
    if ((e = add_entry(l)) == NULL)
        return -1;
    memcpy(e->spec, spec, sizeof spec);
    e->backend = SHMKIT_BACKEND_POSIX;
    e->size = (uint64_t)st.st_size;
    e->uid = (long)st.st_uid;
    e->mode = (unsigned)st.st_mode & 07777u;
    return 0;
}

static int list_posix(struct list *l)
{
    DIR *dir = opendir(SHM_DIR);
    struct dirent *d;
    int rc = 0;

    if (dir == NULL) {
        if (errno == ENOENT)
            return LIST_DONE; /* no POSIX shared memory mounted: nothing */
        tool_error(TOOL_EXIT_RUNTIME, NULL, "%s: %s", SHM_DIR, strerror(errno));
        return LIST_FAILED;
    }
    while (rc == 0 && (d = readdir(dir)) != NULL)
        rc = add_posix(l, d->d_name);
    closedir(dir);
    if (rc < 0) {
        tool_error(TOOL_EXIT_RUNTIME, NULL, "out of memory");
        return LIST_FAILED;
    }
    return LIST_DONE;
}

/* E names a file of /dev/shm that is no shared memory object at all: a
 * FIFO, directory, socket or symbolic link planted under the name.  The
 * listing never shows those (add_posix), and one named on the command
 * line is an error, as "shmkit info" says. */
static int names_non_object(const struct entry *e)
{
    char path[SPEC_MAX + sizeof SHM_DIR];
    struct stat st;

    if (e->backend != SHMKIT_BACKEND_POSIX)
        return 0;
    snprintf(path, sizeof path, "%s%s", SHM_DIR, e->spec);
    return lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
}

#else  /* !__linux__ */
static int list_posix(struct list *l)
{
    (void)l;
    return LIST_UNSUPPORTED;
}

/* Elsewhere POSIX objects are no files: nothing can be planted. */
static int names_non_object(const struct entry *e)
{
    (void)e;
    return 0;
}
#endif

/* One System V segment that sysv_list_segments found. */
static int add_sysv(void *ctx, const struct sysv_seg *seg)
{
    struct entry *e = add_entry(ctx);

    if (e == NULL)
        return -1;
    snprintf(e->spec, sizeof e->spec, "sysv:0x%08" PRIx32, seg->key);
    e->backend = SHMKIT_BACKEND_SYSV;
    e->size = seg->size;
    e->uid = seg->uid;
    e->mode = seg->mode;
    e->nattch = seg->nattch;
    return 0;
}

static int list_sysv(struct list *l)
{
    switch (sysv_list_segments(add_sysv, l)) {
    case SYSV_LIST_DONE:
        return LIST_DONE;
    case SYSV_LIST_UNSUPPORTED:
        return LIST_UNSUPPORTED;
    case SYSV_LIST_STOPPED:
        tool_error(TOOL_EXIT_RUNTIME, NULL, "out of memory");
        return LIST_FAILED;
    default:
        tool_error(TOOL_EXIT_RUNTIME, NULL, "listing System V segments: %s", strerror(errno));
        return LIST_FAILED;
    }
}

static int by_spec(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;

    if (x->backend != y->backend)
        return x->backend - y->backend;
    return strcmp(x->spec, y->spec);
}

/* Ask shmkit_info about E.  An object it cannot describe keeps what the
 * enumeration saw. */
static void judge(struct entry *e)
{
    /* An object that shrinks while it is looked at is SHMKIT_ECORRUPT
     * ("segment truncated"), not SIGBUS: the library handles that. */
    e->rc = shmkit_info(e->spec, &e->info, sizeof e->info);
    e->status = seg_status_of(e->rc, &e->info);
    if (e->rc == 0 || e->rc == SHMKIT_EHALFCREATED)
        return;
    e->info.backend = e->backend;
    e->info.total_size = e->size;
    e->info.owner_uid = e->uid;
    e->info.mode = e->mode;
    e->info.attach_count = e->nattch;
}

/* The segments named on the command line, as they are. */
static int list_given(struct list *l, char **specs, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        struct entry *e = add_entry(l);
        if (e == NULL) {
            tool_error(TOOL_EXIT_RUNTIME, NULL, "out of memory");
            return LIST_FAILED;
        }
        snprintf(e->spec, sizeof e->spec, "%s", specs[i]);
        e->backend = shmkit_spec_check(specs[i]);
    }
    return LIST_DONE;
}

/* Judge every entry of L. */
static void judge_all(struct list *l)
{
    size_t i;

    for (i = 0; i < l->n; i++)
        judge(&l->v[i]);
}

/* Check the SPECs given: each must be well formed (usage error), exist
 * (no such segment) and be an object at all (not a shmkit segment), as
 * "shmkit info" would say. */
static int check_given(struct list *l)
{
    size_t i;
    int worst = TOOL_EXIT_OK;

    for (i = 0; i < l->n; i++) {
        struct entry *e = &l->v[i];
        struct shmkit_info info;
        int rc = 0;
        /* Ask again, so that the error detail is this call's. */
        if (e->backend < 0)
            rc = shmkit_spec_check(e->spec);
        else if (e->rc == -ENOENT || (e->rc == SHMKIT_ENOTSHMKIT && names_non_object(e)))
            rc = shmkit_info(e->spec, &info, sizeof info);
        if (rc < 0) {
            int status = tool_fail(e->spec, NULL, rc);
            if (status > worst)
                worst = status;
            e->status = SEG_NONE; /* not printed */
        }
    }
    return worst;
}

/* Enumerate every backend of this build into L, or take the SPECs OPT
 * names, and judge each entry.  Returns LIST_FAILED if a message was
 * printed, else the exit status for the SPECs. */
static int collect(struct list *l, const struct ls_options *opt)
{
    static const struct {
        int backend;
        const char *what;
        int (*list)(struct list *);
    } sources[] = {
        { SHMKIT_BACKEND_POSIX, "POSIX shared memory objects", list_posix },
        { SHMKIT_BACKEND_SYSV, "System V segments", list_sysv },
    };
    size_t i;

    if (opt->nspecs > 0) {
        if (list_given(l, opt->specs, opt->nspecs) == LIST_FAILED)
            return LIST_FAILED;
        for (i = 0; i < l->n; i++)
            if (l->v[i].backend > 0)
                judge(&l->v[i]);
        return check_given(l);
    }
    for (i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        int rc;
        if (!shmkit_backend_available(sources[i].backend))
            continue;
        rc = sources[i].list(l);
        if (rc == LIST_FAILED)
            return rc;
        if (rc == LIST_UNSUPPORTED)
            fprintf(stderr, "%s: %s cannot be listed on this system; "
                    "use \"shmkit info SPEC\"\n", tool_prog(), sources[i].what);
    }
    if (l->n > 1)
        qsort(l->v, l->n, sizeof l->v[0], by_spec);
    judge_all(l);
    return LIST_DONE;
}

/* ---- printing ------------------------------------------------------------ */

static const char *kind_name(const struct entry *e)
{
    if (e->rc != 0)
        return NULL;
    return e->info.kind == SHMKIT_KIND_SLOT ? "slot"
         : e->info.kind == SHMKIT_KIND_RING ? "ring" : NULL;
}

static const char *lifetime_name(const struct entry *e)
{
    if (e->rc != 0)
        return NULL;
    return e->info.owned ? "owned" : "persistent";
}

/* Creator and writer are known for complete segments, the creator also
 * for half-created ones. */
static int creator_known(const struct entry *e)
{
    return e->info.creator_pid != 0 && (e->rc == 0 || e->rc == SHMKIT_EHALFCREATED);
}

static const char *alive_name(int alive)
{
    return alive == 1 ? "alive" : alive == 0 ? "dead" : "unknown";
}

static void owner_text(long uid, char *buf, size_t len)
{
    const struct passwd *pw = getpwuid((uid_t)uid);

    if (pw != NULL && pw->pw_name != NULL)
        snprintf(buf, len, "%s", pw->pw_name);
    else
        snprintf(buf, len, "%ld", uid);
}

/* "PID(alive)"; a process in another PID namespace (a container), whose
 * pid is the one it has there, "PID(alive,other-pidns)". */
static void process_text(long pid, int alive, int other_pidns, int known, char *buf, size_t len)
{
    if (!known || pid == 0)
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, "%ld(%s%s)", pid, alive_name(alive), other_pidns ? ",other-pidns" : "");
}

static int block_ring(const struct entry *e)
{
    return e->rc == 0 && e->info.kind == SHMKIT_KIND_RING &&
           e->info.ring_policy == SHMKIT_RING_BLOCK;
}

/* A block ring's consumers, "LIVE/ENTRIES" ("-" for anything else, or a
 * ring that is gone by now). */
static void consumers_text(const struct entry *e, char *buf, size_t len)
{
    struct shmkit_consumer *consumers;
    unsigned n;

    if (!block_ring(e) || seg_read_consumers(e->spec, &consumers, &n) < 0) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%u/%u", seg_live_consumers(consumers, n), n);
    free(consumers);
}

static void print_text_row(const struct entry *e)
{
    const struct shmkit_info *in = &e->info;
    char owner[32], creator[48], writer[48], attached[24], consumers[24];
    const char *kind = kind_name(e), *life = lifetime_name(e);

    owner_text(in->owner_uid, owner, sizeof owner);
    process_text(in->creator_pid, in->creator_alive,
                 (in->other_pidns & SHMKIT_INFO_CREATOR_OTHER_PIDNS) != 0, creator_known(e),
                 creator, sizeof creator);
    process_text(in->writer_pid, in->writer_alive,
                 (in->other_pidns & SHMKIT_INFO_WRITER_OTHER_PIDNS) != 0, e->rc == 0, writer,
                 sizeof writer);
    if (in->attach_count >= 0)
        snprintf(attached, sizeof attached, "%ld", in->attach_count);
    else
        snprintf(attached, sizeof attached, "-");
    consumers_text(e, consumers, sizeof consumers);
    printf("%-20s %-4s %10" PRIu64 " %-10s %04o %-10s %-15s %-15s %9s %6s  %s\n", e->spec,
           kind != NULL ? kind : "-", in->total_size, owner, in->mode & 07777u,
           life != NULL ? life : "-", creator, writer, consumers, attached,
           seg_status_name(e->status));
}

static void json_text_or_null(const char *key, const char *text)
{
    printf(",\"%s\":", key);
    if (text != NULL)
        tool_json_string(stdout, text, strlen(text));
    else
        fputs("null", stdout);
}

static const char *json_bool(int value)
{
    return value == 1 ? "true" : value == 0 ? "false" : "null";
}

static void json_process(const char *key, long pid, int alive, int known)
{
    if (!known || pid == 0) {
        printf(",\"%s_pid\":null,\"%s_alive\":null", key, key);
        return;
    }
    printf(",\"%s_pid\":%ld,\"%s_alive\":%s", key, pid, key, json_bool(alive));
}

/* "KEY_other_pidns": the process is in another PID namespace (its pid is
 * the one it has there); null where there is no such process. */
static void json_other_pidns(const char *key, long pid, unsigned bit, const struct entry *e,
                             int known)
{
    if (!known || pid == 0)
        printf(",\"%s_other_pidns\":null", key);
    else
        printf(",\"%s_other_pidns\":%s", key, (e->info.other_pidns & bit) ? "true" : "false");
}

/* One consumer entry I, as "shmkit info" shows it (segstatus.h). */
static void json_consumer(unsigned i, const struct shmkit_consumer *c)
{
    printf("{\"index\":%u", i);
    if (c->pid != 0)
        printf(",\"pid\":%ld,\"alive\":%s,\"other_pidns\":%s", c->pid, json_bool(c->alive),
               json_bool(c->other_pidns));
    else
        fputs(",\"pid\":null,\"alive\":null,\"other_pidns\":null", stdout);
    printf(",\"state\":\"%s\"", seg_consumer_state(c));
    if (c->active)
        printf(",\"next_message\":%" PRIu64 ",\"lag_messages\":%" PRIu64
               ",\"lag_bytes\":%" PRIu64 "}", c->next_message, c->lag_messages, c->lag_bytes);
    else
        fputs(",\"next_message\":null,\"lag_messages\":null,\"lag_bytes\":null}", stdout);
}

/* "consumer_entries" (how many the ring has) and "consumers" (the ones
 * in use): null but for a block ring. */
static void json_consumers(const struct entry *e)
{
    struct shmkit_consumer *consumers;
    unsigned i, n;
    int first = 1;

    if (!block_ring(e) || seg_read_consumers(e->spec, &consumers, &n) < 0) {
        fputs(",\"consumer_entries\":null,\"consumers\":null", stdout);
        return;
    }
    printf(",\"consumer_entries\":%u,\"consumers\":[", n);
    for (i = 0; i < n; i++) {
        if (seg_consumer_state(&consumers[i]) == NULL)
            continue;
        if (!first)
            putchar(',');
        json_consumer(i, &consumers[i]);
        first = 0;
    }
    putchar(']');
    free(consumers);
}

static void print_json_object(const struct entry *e)
{
    const struct shmkit_info *in = &e->info;
    const struct passwd *pw = getpwuid((uid_t)in->owner_uid);

    fputs("{\"spec\":", stdout);
    tool_json_string(stdout, e->spec, strlen(e->spec));
    printf(",\"backend\":\"%s\"", e->backend == SHMKIT_BACKEND_SYSV ? "sysv" : "posix");
    json_text_or_null("kind", kind_name(e));
    printf(",\"size\":%" PRIu64 ",\"owner_uid\":%ld", in->total_size, in->owner_uid);
    json_text_or_null("owner", pw != NULL ? pw->pw_name : NULL);
    printf(",\"mode\":\"%04o\"", in->mode & 07777u);
    json_text_or_null("lifetime", lifetime_name(e));
    json_process("creator", in->creator_pid, in->creator_alive, creator_known(e));
    json_process("writer", in->writer_pid, in->writer_alive, e->rc == 0);
    json_process("consumer", in->consumer_pid, in->consumer_alive, block_ring(e));
    json_other_pidns("creator", in->creator_pid, SHMKIT_INFO_CREATOR_OTHER_PIDNS, e,
                     creator_known(e));
    json_other_pidns("writer", in->writer_pid, SHMKIT_INFO_WRITER_OTHER_PIDNS, e, e->rc == 0);
    json_other_pidns("consumer", in->consumer_pid, SHMKIT_INFO_CONSUMER_OTHER_PIDNS, e,
                     block_ring(e));
    json_consumers(e);
    if (in->attach_count >= 0)
        printf(",\"attached\":%ld", in->attach_count);
    else
        fputs(",\"attached\":null", stdout);
    printf(",\"status\":\"%s\"}", seg_status_name(e->status));
}

int ls_run(const struct ls_options *opt)
{
    struct list l = { NULL, 0, 0 };
    size_t i;
    int first = 1, status = collect(&l, opt);

    if (status == LIST_FAILED) {
        free(l.v);
        return TOOL_EXIT_RUNTIME;
    }
    if (opt->json)
        fputs("[", stdout);
    else
        printf("%-20s %-4s %10s %-10s %-4s %-10s %-15s %-15s %9s %6s  %s\n", "SPEC", "KIND",
               "SIZE", "OWNER", "MODE", "LIFETIME", "CREATOR", "WRITER", "CONSUMERS", "ATTACH",
               "STATUS");
    for (i = 0; i < l.n; i++) {
        /* A SPEC given by name is shown whatever it is. */
        if (l.v[i].status == SEG_NONE || (!opt->all && opt->nspecs == 0 &&
                                   !seg_status_listed(l.v[i].status)))
            continue;
        if (opt->json) {
            fputs(first ? "\n" : ",\n", stdout);
            print_json_object(&l.v[i]);
        } else {
            print_text_row(&l.v[i]);
        }
        first = 0;
    }
    if (opt->json)
        fputs(first ? "]\n" : "\n]\n", stdout);
    free(l.v);
    return tool_close_stdout(status);
}

/* ---- rm --stale ---------------------------------------------------------- */

/* Whether a live process consumes the block ring SPEC (described by
 * INFO): info->consumer_pid names only the first entry held.  A ring that
 * cannot be described now counts as consumed: it is left alone. */
static int live_consumer(const char *spec, const struct shmkit_info *info)
{
    struct shmkit_consumer *consumers;
    unsigned n, live;

    if (info->kind != SHMKIT_KIND_RING || info->ring_policy != SHMKIT_RING_BLOCK)
        return 0;
    if (seg_read_consumers(spec, &consumers, &n) < 0)
        return 1;
    live = seg_live_consumers(consumers, n);
    free(consumers);
    return live > 0;
}

/* Look again right before removing: the creator may have been a process
 * that was still starting, another process may have attached, or the name
 * may now belong to a new segment.  (A window remains between this look
 * and the removal: neither shm_unlink nor IPC_RMID by key can be made
 * conditional on what the object is.) */
static int still_removable(const struct entry *e, enum seg_status *status)
{
    struct shmkit_info info;
    int rc = shmkit_info(e->spec, &info, sizeof info);

    *status = seg_status_of(rc, &info);
    return seg_removable_stale(*status, &info) && !live_consumer(e->spec, &info);
}

static int remove_entry(const struct entry *e, int dry_run)
{
    enum seg_status status;
    int rc;

    if (!still_removable(e, &status))
        return TOOL_EXIT_OK;
    if (dry_run) {
        printf("would remove %s (%s)\n", e->spec, seg_status_name(status));
        return TOOL_EXIT_OK;
    }
    rc = shmkit_unlink(e->spec);
    if (rc == -ENOENT)
        return TOOL_EXIT_OK; /* somebody else removed it meanwhile */
    if (rc < 0)
        return tool_fail(e->spec, NULL, rc);
    printf("removed %s (%s)\n", e->spec, seg_status_name(status));
    return TOOL_EXIT_OK;
}

int ls_remove_stale(const struct ls_options *opt)
{
    struct list l = { NULL, 0, 0 };
    size_t i;
    int worst = collect(&l, opt);

    if (worst == LIST_FAILED) {
        free(l.v);
        return TOOL_EXIT_RUNTIME;
    }
    for (i = 0; i < l.n; i++) {
        int one;
        if (l.v[i].status == SEG_NONE || !seg_removable_stale(l.v[i].status, &l.v[i].info))
            continue;
        one = remove_entry(&l.v[i], opt->dry_run);
        if (one > worst)
            worst = one;
        fflush(stdout);
    }
    free(l.v);
    return tool_close_stdout(worst);
}
