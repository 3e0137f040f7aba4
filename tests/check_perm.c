/*
 * check_perm.c - permissions, ownership and lifetime of segments:
 * modes whatever the umask, exclusive creation, refusal of another user's
 * segment (and SHMKIT_ANY_OWNER), read-only readers, names that stay in
 * their namespace, owned segments removed by their creator's close, and
 * what "shmkit rm --stale" selects.
 *
 * The other-user cases need a second uid: as root, a child switches to
 * 65534 ("nobody"); otherwise they are skipped with the reason.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "segstatus.h"
#include "testutil.h"

#define NOBODY 65534
#define LAYOUT "id:u32 temp:f64"

/* struct shmkit_info as released in 0.1.0: owned and ready took the room
 * of one reserved word, and the size (the ABI) must not change. */
struct info_0_1_0 {
    int backend, kind;
    unsigned format_major, format_minor;
    uint64_t total_size, payload_size, record_size, version;
    char layout[256];
    long owner_uid;
    unsigned mode;
    long creator_pid;
    int creator_alive;
    long writer_pid;
    int writer_alive;
    long attach_count;
    int64_t created_sec;
    int ring_policy;
    uint64_t ring_capacity, ring_max_message, ring_used, ring_messages;
    long consumer_pid;
    int consumer_alive;
    char wait_mechanism[16];
    uint64_t reserved[8];
};
_Static_assert(sizeof(struct shmkit_info) == sizeof(struct info_0_1_0), "shmkit_info size");
_Static_assert(offsetof(struct shmkit_info, reserved) + sizeof(((struct shmkit_info *)0)->reserved)
               == sizeof(struct shmkit_info), "reserved ends shmkit_info");

/* ---- helpers ------------------------------------------------------------- */

static int exists(const char *spec)
{
    struct shmkit_info info;

    return shmkit_info(spec, &info, sizeof info) != -ENOENT;
}

#define create_slot(slot, spec, mode, flags) \
    (*(slot) = tu_slot_create(spec, LAYOUT, 0, mode, flags))

/* Run FN(SPEC) in a child process as uid/gid 65534; its exit status, or
 * 128 + the signal that ended it. */
static int as_nobody(int (*fn)(const char *spec), const char *spec)
{
    pid_t pid = tu_fork();

    if (pid == 0) {
        if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
            _exit(100);
        _exit(fn(spec));
    }
    return tu_wait_exit_code(pid);
}

#define ROOT_OR_SKIP(what) TU_ROOT_OR_SKIP(what)

/* ---- modes --------------------------------------------------------------- */

static unsigned mode_of(const char *spec)
{
    struct shmkit_info info;

    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    return info.mode & 0777u;
}

/* The mode is the one asked for (default 0600), whatever the umask:
 * neither narrowed by a strict one nor widened by a permissive one. */
START_TEST(test_mode_ignores_umask)
{
    static const struct { mode_t umask; unsigned asked, expect; } cases[] = {
        {0000, 0, 0600}, {0077, 0, 0600}, {0077, 0640, 0640}, {0022, 0666, 0666},
        {0777, 0604, 0604}, {0000, 0700, 0700},
    };
    int backend = tu_backend_of(_i);
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char spec[32];
        shmkit_slot *slot;
        shmkit_ring *ring;
        mode_t old = umask(cases[i].umask);

        create_slot(&slot, tu_spec(backend, spec), cases[i].asked, SHMKIT_EXCL);
        umask(old);
        ck_assert_msg(mode_of(spec) == cases[i].expect, "slot umask %03o mode %03o: got %03o",
                      (unsigned)cases[i].umask, cases[i].asked, mode_of(spec));
        shmkit_slot_close(slot);
        ck_assert_int_eq(shmkit_unlink(spec), 0);

        old = umask(cases[i].umask);
        ring = tu_ring_create(tu_spec(backend, spec), 4096, 0, SHMKIT_RING_BLOCK, cases[i].asked,
                              SHMKIT_EXCL);
        umask(old);
        ck_assert_uint_eq(mode_of(spec), cases[i].expect);
        shmkit_ring_close(ring);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
    }
    tu_assert_no_leftovers();
}
END_TEST

/* Exclusive creation never adopts an existing object: SHMKIT_EXCL says
 * -EEXIST and leaves it alone. */
START_TEST(test_create_is_exclusive)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *first, *second = NULL;

    create_slot(&first, tu_spec(backend, spec), 0640, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_slot_create(&second, spec, LAYOUT, 0, 0600, SHMKIT_EXCL), -EEXIST);
    ck_assert_ptr_null(second);
    ck_assert_uint_eq(mode_of(spec), 0640); /* not changed to the second mode */
    shmkit_slot_close(first);
    tu_finish(spec);
}
END_TEST

/* A reader's mappings of the segment are all read-only; the writer's are
 * not (which shows the check can see a writable one).  Linux: /proc. */
static int mappings_of(const char *spec, int *writable)
{
    char pattern[64], line[512];
    struct sk_spec parsed;
    FILE *maps = fopen("/proc/self/maps", "r");
    int n = 0;

    if (maps == NULL)
        return -1;
    ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
    if (parsed.backend == SHMKIT_BACKEND_POSIX)
        snprintf(pattern, sizeof pattern, "/dev/shm%s", parsed.posix_name);
    else
        snprintf(pattern, sizeof pattern, "/SYSV%08lx", (unsigned long)(uint32_t)parsed.sysv_key);
    *writable = 0;
    while (fgets(line, sizeof line, maps) != NULL) {
        static const char deleted[] = " (deleted)"; /* System V, on Linux */
        char perms[8];
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len >= sizeof deleted && strcmp(line + len - (sizeof deleted - 1), deleted) == 0)
            line[len -= sizeof deleted - 1] = '\0';
        if (len < strlen(pattern) || strcmp(line + len - strlen(pattern), pattern) != 0)
            continue;
        if (sscanf(line, "%*s %7s", perms) == 1 && perms[1] == 'w')
            *writable = 1;
        n++;
    }
    fclose(maps);
    return n;
}

START_TEST(test_readers_map_read_only)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *writer, *reader;
    shmkit_ring *ring, *ring_reader;
    int writable, n;

    create_slot(&writer, tu_spec(backend, spec), 0600, SHMKIT_EXCL);
    n = mappings_of(spec, &writable);
    if (n < 0) {
        printf("# SKIP readers map read-only: no /proc/self/maps\n");
        shmkit_slot_close(writer);
        shmkit_unlink(spec);
        return;
    }
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(writable, 1);
    shmkit_slot_close(writer);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    ck_assert_int_eq(mappings_of(spec, &writable), 1);
    ck_assert_int_eq(writable, 0);
    shmkit_slot_close(reader);
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    ring = tu_ring_create(tu_spec(backend, spec), 4096, 0, SHMKIT_RING_OVERWRITE, 0600,
                          SHMKIT_EXCL);
    shmkit_ring_close(ring);
    ck_assert_int_eq(shmkit_ring_open(&ring_reader, spec, 0), 0);
    ck_assert_int_eq(mappings_of(spec, &writable), 1);
    ck_assert_int_eq(writable, 0);
    shmkit_ring_close(ring_reader);
    tu_finish(spec);
}
END_TEST

/* ---- names --------------------------------------------------------------- */

/* Names that would leave the namespace (a directory, the parent, another
 * name after a NUL) or exceed the limits are refused before anything is
 * created. */
START_TEST(test_names_stay_in_namespace)
{
    static const char *const bad[] = {
        "/a/b", "/../skt", "/..", "/.", "//skt", "/skt/", "/skt/../x", "/",
        "/0123456789012345678901234567890", "/a\\b", "/a b", "sysv:0x0", "sysv:../x",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        shmkit_slot *slot = NULL;
        struct shmkit_info info;
        ck_assert_msg(shmkit_slot_create(&slot, bad[i], LAYOUT, 0, 0600, 0) == SHMKIT_EBADSPEC,
                      "created \"%s\"", bad[i]);
        ck_assert_ptr_null(slot);
        ck_assert_int_eq(shmkit_info(bad[i], &info, sizeof info), SHMKIT_EBADSPEC);
        ck_assert_int_eq(shmkit_unlink(bad[i]), SHMKIT_EBADSPEC);
    }
    /* A C string ends at its NUL: "/skt\0/../x" names "/skt" and nothing
     * else; what follows the NUL is never seen (the tools cannot even be
     * given a NUL). */
    ck_assert_int_eq(shmkit_spec_check("/skt\0/../x"), shmkit_spec_check("/skt"));
    /* 30 characters is the longest name. */
    if (shmkit_backend_available(SHMKIT_BACKEND_POSIX)) {
        ck_assert_int_eq(shmkit_spec_check("/012345678901234567890123456789"),
                         SHMKIT_BACKEND_POSIX);
        ck_assert_int_eq(shmkit_spec_check("/..."), SHMKIT_BACKEND_POSIX);
    }
}
END_TEST

/* ---- another user's segments --------------------------------------------- */

/* Children running as nobody: create a segment and exit, leaving it. */
static int nobody_creates_slot(const char *spec)
{
    shmkit_slot *slot;
    int rc = shmkit_slot_create(&slot, spec, LAYOUT, 0, 0644, SHMKIT_EXCL);

    if (rc != 0)
        return 1;
    shmkit_slot_close(slot);
    return 0;
}

static int nobody_creates_ring(const char *spec)
{
    shmkit_ring *ring;

    if (tu_ring_create_rc(&ring, spec, 4096, 0, SHMKIT_RING_OVERWRITE, 0644, SHMKIT_EXCL) != 0)
        return 1;
    shmkit_ring_close(ring);
    return 0;
}

static void assert_owner_detail(void)
{
    char expect[64];

    snprintf(expect, sizeof expect, "owned by uid %d, this process runs as uid %ld", NOBODY,
             (long)geteuid());
    ck_assert_msg(strstr(shmkit_error_detail(), expect) != NULL, "detail: %s",
                  shmkit_error_detail());
}

/* Root opens nobody's segments: refused without SHMKIT_ANY_OWNER, with a
 * message naming both uids; allowed with it. */
START_TEST(test_other_owner_refused)
{
    int backend = tu_backend_of(_i);
    ROOT_OR_SKIP("other-uid refusal");
    char spec[32];
    struct shmkit_info info;
    shmkit_slot *slot = NULL;
    shmkit_ring *ring = NULL;

    ck_assert_int_eq(as_nobody(nobody_creates_slot, tu_spec(backend, spec)), 0);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0); /* inspection: any owner */
    ck_assert_int_eq(info.owner_uid, NOBODY);
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, 0), SHMKIT_EOWNER);
    ck_assert_ptr_null(slot);
    assert_owner_detail();
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, SHMKIT_WRITE), SHMKIT_EOWNER);
    ck_assert_int_eq(shmkit_slot_create(&slot, spec, LAYOUT, 0, 0600, 0), SHMKIT_EOWNER);
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, SHMKIT_ANY_OWNER), 0);
    shmkit_slot_close(slot);
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, SHMKIT_WRITE | SHMKIT_ANY_OWNER), 0);
    shmkit_slot_close(slot);
    ck_assert_int_eq(shmkit_slot_create(&slot, spec, LAYOUT, 0, 0600, SHMKIT_ANY_OWNER), 0);
    shmkit_slot_close(slot);
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    ck_assert_int_eq(as_nobody(nobody_creates_ring, tu_spec(backend, spec)), 0);
    ck_assert_int_eq(shmkit_ring_open(&ring, spec, 0), SHMKIT_EOWNER);
    assert_owner_detail();
    ck_assert_int_eq(shmkit_ring_open(&ring, spec, SHMKIT_WRITE), SHMKIT_EOWNER);
    ck_assert_int_eq(tu_ring_create_rc(&ring, spec, 4096, 0, SHMKIT_RING_OVERWRITE, 0600, 0),
                     SHMKIT_EOWNER);
    ck_assert_int_eq(shmkit_ring_open(&ring, spec, SHMKIT_ANY_OWNER), 0);
    shmkit_ring_close(ring);
    ck_assert_int_eq(shmkit_ring_open(&ring, spec, SHMKIT_WRITE | SHMKIT_ANY_OWNER), 0);
    shmkit_ring_close(ring);
    tu_finish(spec);
}
END_TEST

/* The other way round: nobody reads root's world-readable segment only
 * with SHMKIT_ANY_OWNER.  Exit codes: 0 as expected, else which step. */
static int nobody_reads(const char *spec)
{
    shmkit_slot *slot;

    if (shmkit_slot_open(&slot, spec, 0) != SHMKIT_EOWNER)
        return 1;
    if (shmkit_slot_open(&slot, spec, SHMKIT_ANY_OWNER) != 0)
        return 2;
    shmkit_slot_close(slot);
    /* Without write permission the lease cannot be taken, flag or not. */
    if (shmkit_slot_open(&slot, spec, SHMKIT_WRITE | SHMKIT_ANY_OWNER) != -EACCES)
        return 3;
    return 0;
}

START_TEST(test_other_owner_allowed_read_only)
{
    int backend = tu_backend_of(_i);
    ROOT_OR_SKIP("other-uid allowance");
    char spec[32];
    shmkit_slot *slot;

    create_slot(&slot, tu_spec(backend, spec), 0644, SHMKIT_EXCL);
    ck_assert_int_eq(as_nobody(nobody_reads, spec), 0);
    shmkit_slot_close(slot);
    tu_finish(spec);
}
END_TEST

/* An object that another user created first under our name: exclusive
 * creation says -EEXIST, creation without SHMKIT_EXCL refuses to adopt it
 * (SHMKIT_EOWNER), and it is left as it was. */
START_TEST(test_precreated_by_other_user)
{
    int backend = tu_backend_of(_i);
    ROOT_OR_SKIP("pre-created object of another uid");
    char spec[32];
    struct shmkit_info info;
    shmkit_slot *slot = NULL;

    ck_assert_int_eq(as_nobody(nobody_creates_slot, tu_spec(backend, spec)), 0);
    ck_assert_int_eq(shmkit_slot_create(&slot, spec, LAYOUT, 0, 0600, SHMKIT_EXCL), -EEXIST);
    ck_assert_int_eq(shmkit_slot_create(&slot, spec, LAYOUT, 0, 0600, 0), SHMKIT_EOWNER);
    ck_assert_ptr_null(slot);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.owner_uid, NOBODY);
    ck_assert_uint_eq(info.mode & 0777u, 0644);
    ck_assert_int_eq(info.writer_pid, 0);
    tu_finish(spec);
}
END_TEST

/* ---- owned segments ------------------------------------------------------- */

START_TEST(test_owned_removed_on_close)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct shmkit_info info;
    shmkit_slot *slot;
    shmkit_ring *ring;

    create_slot(&slot, tu_spec(backend, spec), 0600, SHMKIT_EXCL | SHMKIT_OWNED);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.owned, 1);
    ck_assert_int_eq(info.ready, 1);
    shmkit_slot_close(slot);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), -ENOENT);

    ring = tu_ring_create(tu_spec(backend, spec), 4096, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_OWNED);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.owned, 1);
    shmkit_ring_close(ring);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), -ENOENT);

    /* The default is persistent. */
    create_slot(&slot, tu_spec(backend, spec), 0600, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.owned, 0);
    shmkit_slot_close(slot);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    tu_finish(spec);
}
END_TEST

static shmkit_slot *inherited;

/* A fork()ed child closes the creator's handle it inherited: it is not
 * the creator. */
static int child_closes_inherited(const char *spec)
{
    shmkit_slot *other;

    shmkit_slot_close(inherited);
    if (shmkit_slot_open(&other, spec, 0) != 0)
        return 1;
    shmkit_slot_close(other);
    return 0;
}

static int fork_and_run(int (*fn)(const char *spec), const char *spec)
{
    pid_t pid = tu_fork();

    if (pid == 0)
        _exit(fn(spec));
    return tu_wait_exit_code(pid);
}

START_TEST(test_owned_kept_on_close_by_others)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *creator, *reader;

    create_slot(&creator, tu_spec(backend, spec), 0600, SHMKIT_EXCL | SHMKIT_OWNED);
    /* Another handle of the creating process. */
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    shmkit_slot_close(reader);
    ck_assert(exists(spec));
    /* Another process, and a child closing the creator's own handle. */
    inherited = creator;
    ck_assert_int_eq(fork_and_run(child_closes_inherited, spec), 0);
    ck_assert(exists(spec));
    shmkit_slot_close(creator);
    ck_assert(!exists(spec));
    tu_assert_no_leftovers();
}
END_TEST

/* The name was removed and reused while the creator held its handle: the
 * creator's close leaves the newcomer alone. */
START_TEST(test_owned_close_spares_a_new_segment)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct shmkit_info info;
    shmkit_slot *old, *newer;

    create_slot(&old, tu_spec(backend, spec), 0600, SHMKIT_EXCL | SHMKIT_OWNED);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    create_slot(&newer, spec, 0600, SHMKIT_EXCL);
    shmkit_slot_close(newer);
    shmkit_slot_close(old);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.owned, 0);
    tu_finish(spec);
}
END_TEST

/* ---- what rm --stale selects ----------------------------------------------- */

/* Children that die leaving something behind. */
static int child_owned_slot(const char *spec)
{
    shmkit_slot *slot;

    return shmkit_slot_create(&slot, spec, LAYOUT, 0, 0600, SHMKIT_EXCL | SHMKIT_OWNED) == 0
               ? 0 : 1; /* exits without closing: a crash */
}

static int child_persistent_slot(const char *spec)
{
    shmkit_slot *slot;

    return shmkit_slot_create(&slot, spec, LAYOUT, 0, 0600, SHMKIT_EXCL) == 0 ? 0 : 1;
}

/* Dies right after the object exists, before the header is written. */
static int child_half_created(const char *spec)
{
    struct sk_spec parsed;
    struct sk_seg seg;

    if (shmkit__spec_parse(spec, &parsed) != 0)
        return 1;
    return shmkit__seg_create(&seg, &parsed, 4096, 0600) == 0 ? 0 : 2;
}

static enum seg_status status_of(const char *spec, struct shmkit_info *info)
{
    int rc = shmkit_info(spec, info, sizeof *info);

    return seg_status_of(rc, info);
}

START_TEST(test_stale_selection)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct shmkit_info info;
    enum seg_status st;
    shmkit_slot *slot, *mine;

    /* Owned, creator dead, nobody attached: stale, removable. */
    ck_assert_int_eq(fork_and_run(child_owned_slot, tu_spec(backend, spec)), 0);
    st = status_of(spec, &info);
    ck_assert_int_eq(info.owned, 1);
    ck_assert_int_eq(info.creator_alive, 0);
    ck_assert_int_eq(st, SEG_STALE);
    ck_assert(seg_removable_stale(st, &info));
    /* ... but not while somebody uses it. */
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, SHMKIT_WRITE), 0);
    st = status_of(spec, &info);
    ck_assert_int_eq(st, SEG_STALE);
    ck_assert(!seg_removable_stale(st, &info)); /* a live writer (and SysV: attached) */
    shmkit_slot_close(slot);
    if (backend == SHMKIT_BACKEND_SYSV) {
        ck_assert_int_eq(shmkit_slot_open(&slot, spec, 0), 0);
        st = status_of(spec, &info);
        ck_assert_int_eq(info.attach_count, 1);
        ck_assert(!seg_removable_stale(st, &info));
        shmkit_slot_close(slot);
    }
    st = status_of(spec, &info);
    ck_assert(seg_removable_stale(st, &info));
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    /* Persistent, creator dead: ok, never removed. */
    ck_assert_int_eq(fork_and_run(child_persistent_slot, tu_spec(backend, spec)), 0);
    st = status_of(spec, &info);
    ck_assert_int_eq(st, SEG_OK);
    ck_assert_int_eq(info.creator_alive, 0);
    ck_assert(!seg_removable_stale(st, &info));
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    /* Owned, creator alive: ok. */
    create_slot(&mine, tu_spec(backend, spec), 0600, SHMKIT_EXCL | SHMKIT_OWNED);
    st = status_of(spec, &info);
    ck_assert_int_eq(st, SEG_OK);
    ck_assert(!seg_removable_stale(st, &info));
    shmkit_slot_close(mine);
    ck_assert(!exists(spec));
    tu_assert_no_leftovers();
}
END_TEST

START_TEST(test_half_created_selection)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct shmkit_info info;
    struct sk_spec parsed;
    struct sk_seg seg;
    enum seg_status st;
    pid_t me = getpid();

    /* Creator died before writing the header: half-created, removable. */
    ck_assert_int_eq(fork_and_run(child_half_created, tu_spec(backend, spec)), 0);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), SHMKIT_EHALFCREATED);
    ck_assert_int_eq(info.ready, 0);
    ck_assert_int_gt(info.creator_pid, 0);
    ck_assert_int_ne(info.creator_pid, me);
    st = seg_status_of(SHMKIT_EHALFCREATED, &info);
    ck_assert_int_eq(st, SEG_HALF_CREATED);
    ck_assert(seg_removable_stale(st, &info));
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    /* Creator alive (still creating, as far as anyone can tell): kept. */
    ck_assert_int_eq(shmkit__spec_parse(tu_spec(backend, spec), &parsed), 0);
    ck_assert_int_eq(shmkit__seg_create(&seg, &parsed, 4096, 0600), 0);
    st = status_of(spec, &info);
    ck_assert_int_eq(info.creator_pid, me);
    ck_assert_int_eq(st, SEG_CREATING);
    ck_assert(!seg_removable_stale(st, &info));

    /* Zero-filled, no magic: nothing says it is ours: foreign, kept. */
    memset(seg.base, 0, SK_HEADER_SIZE);
    st = status_of(spec, &info);
    ck_assert_int_eq(st, SEG_FOREIGN);
    ck_assert(!seg_removable_stale(st, &info));
    shmkit__seg_close(&seg);
    tu_finish(spec);
}
END_TEST

/* Statuses that only the return code decides. */
START_TEST(test_status_of_errors)
{
    struct shmkit_info info;

    memset(&info, 0, sizeof info);
    info.owned = 1;
    info.creator_alive = 0;
    info.attach_count = -1;
    ck_assert_int_eq(seg_status_of(SHMKIT_ECORRUPT, &info), SEG_INVALID);
    ck_assert_int_eq(seg_status_of(SHMKIT_EVERSION, &info), SEG_INVALID);
    ck_assert_int_eq(seg_status_of(SHMKIT_ENOTSHMKIT, &info), SEG_FOREIGN);
    ck_assert_int_eq(seg_status_of(-EACCES, &info), SEG_UNREADABLE);
    ck_assert_int_eq(seg_status_of(0, &info), SEG_STALE);
    ck_assert(!seg_removable_stale(SEG_INVALID, &info));
    ck_assert(!seg_removable_stale(SEG_FOREIGN, &info));
    ck_assert(!seg_removable_stale(SEG_UNREADABLE, &info));
    ck_assert(seg_removable_stale(SEG_STALE, &info));
    info.creator_alive = -1; /* cannot tell: keep */
    ck_assert_int_eq(seg_status_of(0, &info), SEG_OK);
    ck_assert(!seg_removable_stale(SEG_STALE, &info));
    ck_assert(seg_status_listed(SEG_STALE) && seg_status_listed(SEG_HALF_CREATED));
    ck_assert(!seg_status_listed(SEG_FOREIGN) && !seg_status_listed(SEG_UNREADABLE));
}
END_TEST

static Suite *perm_suite(void)
{
    Suite *s = suite_create("perm");
    TCase *tc = tu_tcase(s, "perm");

    tu_add_backend_test(tc, test_mode_ignores_umask, 1);
    tu_add_backend_test(tc, test_create_is_exclusive, 1);
    tu_add_backend_test(tc, test_readers_map_read_only, 1);
    tcase_add_test(tc, test_names_stay_in_namespace);
    tu_add_backend_test(tc, test_other_owner_refused, 1);
    tu_add_backend_test(tc, test_other_owner_allowed_read_only, 1);
    tu_add_backend_test(tc, test_precreated_by_other_user, 1);
    tu_add_backend_test(tc, test_owned_removed_on_close, 1);
    tu_add_backend_test(tc, test_owned_kept_on_close_by_others, 1);
    tu_add_backend_test(tc, test_owned_close_spares_a_new_segment, 1);
    tu_add_backend_test(tc, test_stale_selection, 1);
    tu_add_backend_test(tc, test_half_created_selection, 1);
    tcase_add_test(tc, test_status_of_errors);
    tcase_set_timeout(tc, 60);
    return s;
}

int main(void)
{
    return tu_run(perm_suite());
}
