/*
 * check_limits.c - running out of a resource is a clear error that leaves
 * nothing behind.
 *
 * Every case makes a segment creation (or open) fail for lack of some
 * resource and then checks four things: the error code, a detail that
 * names the limit (so the message says what to raise or free), no segment
 * object left, and no descriptor or mapping leaked.  The limits are
 * reached for real where the test can do so without harming the machine:
 *   - sizes beyond what the header can describe: always;
 *   - RLIMIT_NOFILE and RLIMIT_AS: setrlimit in a forked child;
 *   - a full /dev/shm: a 1 MiB tmpfs mounted over it in a private mount
 *     namespace (Linux, root; skipped with the reason otherwise);
 *   - kernel.shmmax, shmall, shmmni: lowered in a private IPC namespace
 *     (Linux, root; skipped with the reason otherwise);
 * and by the fault-injection hooks (--enable-test-hooks) where they
 * cannot be: posix-fallocate-enospc, posix-ftruncate-efbig,
 * posix-mmap-enomem, sysv-shmat-enomem.
 *
 * Children report failures on stderr and by their exit status: Check's
 * assertions belong to the test process itself.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* unshare(2) */
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#include <sys/mount.h>
#endif

#include "hooks.h"
#include "internal.h"
#include "testutil.h"

/* Exit status of a child that could not set its limit up: a skip. */
#define CHILD_SKIP 77

/* Address sanitizers reserve terabytes of shadow memory: RLIMIT_AS is
 * then measured from a huge base, which still works, but their own
 * allocator may need fresh address space at any time. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

/* ------------------------------------------------------------------ */
/* What a clean failure looks like                                     */
/* ------------------------------------------------------------------ */

/* Descriptors open in this process (the first 1024 are plenty here). */
static int open_fds(void)
{
    int fd, n = 0;

    for (fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) != -1)
            n++;
    return n;
}

/* 1 if a mapping of the segment SPEC shows in /proc/self/maps, 0 if not,
 * -1 where the system has no such file.  POSIX objects appear as
 * /dev/shm/NAME, System V segments as /SYSV<key in 8 hex digits>. */
static int mapped(const char *spec)
{
    char needle[64], line[512];
    FILE *maps = fopen("/proc/self/maps", "r");
    int found = 0;

    if (maps == NULL)
        return -1;
    if (strncmp(spec, "sysv:0x", 7) == 0)
        snprintf(needle, sizeof needle, "/SYSV%08lx ", strtoul(spec + 7, NULL, 16));
    else
        snprintf(needle, sizeof needle, "/dev/shm%s ", spec);
    while (!found && fgets(line, sizeof line, maps) != NULL) {
        line[strcspn(line, "\n")] = ' ';
        found = strstr(line, needle) != NULL;
    }
    fclose(maps);
    return found;
}

/* Why RC, returned for SPEC, is not a clean failure with code WANT and a
 * detail containing NEEDLE, given FDS descriptors open before; NULL if it
 * is.  Usable from a child, where Check's assertions are not. */
static const char *unclean(int rc, int want, const char *needle, const char *spec, int fds)
{
    static char why[512];
    struct shmkit_info info;
    int info_rc;

    if (rc != want) {
        snprintf(why, sizeof why, "%s: got %d (%s: %s), expected %d (%s)", spec, rc,
                 shmkit_strerror(rc), shmkit_error_detail(), want, shmkit_strerror(want));
        return why;
    }
    if (strstr(shmkit_error_detail(), needle) == NULL) {
        snprintf(why, sizeof why, "%s: detail \"%s\" does not name \"%s\"", spec,
                 shmkit_error_detail(), needle);
        return why;
    }
    if (open_fds() != fds) {
        snprintf(why, sizeof why, "%s: %d descriptors open after the failure, %d before",
                 spec, open_fds(), fds);
        return why;
    }
    if (mapped(spec) == 1) {
        snprintf(why, sizeof why, "%s: still mapped after the failure", spec);
        return why;
    }
    info_rc = shmkit_info(spec, &info, sizeof info);
    if (info_rc != -ENOENT) {
        snprintf(why, sizeof why, "%s: left behind (shmkit_info: %s)", spec,
                 shmkit_strerror(info_rc));
        return why;
    }
    return NULL;
}

#define ASSERT_CLEAN(rc, want, needle, spec, fds)                             \
    do {                                                                      \
        const char *why_ = unclean((rc), (want), (needle), (spec), (fds));    \
        ck_assert_msg(why_ == NULL, "%s", why_);                              \
    } while (0)

/* In a child: report WHY (if not NULL) and remember the failure. */
static int child_failures;

static void child_check(const char *why, int line)
{
    if (why != NULL) {
        fprintf(stderr, "check_limits.c:%d: %s\n", line, why);
        child_failures++;
    }
}

#define CHILD_CLEAN(rc, want, needle, spec, fds) \
    child_check(unclean((rc), (want), (needle), (spec), (fds)), __LINE__)

static void child_fail(int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void child_fail(int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "check_limits.c:%d: ", line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    child_failures++;
}

/* Run BODY in a child with ARG; the test fails if the child reports a
 * failure or dies, and says why it skipped if it exits CHILD_SKIP. */
static void in_child(int (*body)(int arg), int arg, const char *what)
{
    pid_t pid;
    int status;

    fflush(NULL);
    pid = tu_fork();
    if (pid == 0) {
        int result;

        child_failures = 0;
        result = body(arg);
        fflush(NULL); /* the "# SKIP" notes: _exit flushes nothing */
        _exit(result);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "%s: child killed by signal %d", what,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (WEXITSTATUS(status) == CHILD_SKIP)
        return; /* the child printed "# SKIP ..." */
    ck_assert_msg(WEXITSTATUS(status) == 0, "%s: %d failure(s), see above", what,
                  WEXITSTATUS(status));
}

static int child_result(void)
{
    return child_failures > 125 ? 125 : child_failures;
}

static void skip_note(const char *what, const char *why)
{
    printf("# SKIP %s: %s\n", what, why);
    fflush(stdout);
}

/* Create a slot of RECORD bytes (kind 0) or a ring of RECORD bytes of
 * capacity (kind 1) at SPEC; closes it again on success. */
static int create_kind(int kind, const char *spec, size_t record)
{
    shmkit_slot *slot = NULL;
    shmkit_ring *ring = NULL;
    int rc;

    if (kind == 0) {
        rc = shmkit_slot_create(&slot, spec, NULL, record, 0600, SHMKIT_EXCL);
        if (rc == 0)
            shmkit_slot_close(slot);
    } else {
        rc = tu_ring_create_rc(&ring, spec, record, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
        if (rc == 0)
            shmkit_ring_close(ring);
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* Sizes beyond what the header can describe                           */
/* ------------------------------------------------------------------ */

START_TEST(test_sizes_beyond_format)
{
    int backends[2], nb = tu_backends(backends), b, fds = open_fds();
    char spec[32];
    shmkit_slot *slot = NULL;
    shmkit_ring *ring = NULL;
    shmkit_layout *layout = NULL;

    for (b = 0; b < nb; b++) {
        tu_spec(backends[b], spec);
        ASSERT_CLEAN(tu_ring_create_rc(&ring, spec, (size_t)SK_RING_MAX_CAPACITY + 1, 0,
                                    SHMKIT_RING_BLOCK, 0600, 0),
                     SHMKIT_ESIZE, "capacity", spec, fds);
        ASSERT_CLEAN(tu_ring_create_rc(&ring, spec, SIZE_MAX, 0, SHMKIT_RING_OVERWRITE, 0600, 0),
                     SHMKIT_ESIZE, "capacity", spec, fds);
        /* Messages no ring can hold: the detail gives the real limit (it
         * once named a wrapped-around capacity). */
        ASSERT_CLEAN(tu_ring_create_rc(&ring, spec, 4096, SIZE_MAX, SHMKIT_RING_BLOCK, 0600, 0),
                     SHMKIT_ESIZE, "larger than any ring can hold (536870896", spec, fds);
        ASSERT_CLEAN(tu_ring_create_rc(&ring, spec, 4096, (size_t)UINT32_MAX + 1,
                                    SHMKIT_RING_BLOCK, 0600, 0),
                     SHMKIT_ESIZE, "larger than any ring can hold", spec, fds);
        ASSERT_CLEAN(tu_ring_create_rc(&ring, spec, 4096, 4096, SHMKIT_RING_BLOCK, 0600, 0),
                     SHMKIT_ESIZE, "need a capacity of at least 8224", spec, fds);
        ASSERT_CLEAN(shmkit_slot_create(&slot, spec, NULL, (size_t)SHMKIT_RECORD_MAX + 1, 0600, 0),
                     SHMKIT_ESIZE, "record size", spec, fds);
        ASSERT_CLEAN(shmkit_slot_create(&slot, spec, NULL, SIZE_MAX, 0600, 0),
                     SHMKIT_ESIZE, "record size", spec, fds);
        /* A layout whose record would be larger than the limit, by an
         * array whose byte size wraps a 32-bit size_t too. */
        ASSERT_CLEAN(shmkit_slot_create(&slot, spec, "a:u64[536870912]", 0, 0600, 0),
                     SHMKIT_EBADLAYOUT, "", spec, fds);
        ASSERT_CLEAN(shmkit_slot_create(&slot, spec, "a:u8[1073741824] b:u8", 0, 0600, 0),
                     SHMKIT_EBADLAYOUT, "", spec, fds);
        ck_assert_ptr_null(slot);
        ck_assert_ptr_null(ring);
    }
    /* The largest record is accepted by the layout language... */
    ck_assert_int_eq(shmkit_layout_parse(&layout, "a:u8[1073741824]"), 0);
    ck_assert_uint_eq(shmkit_layout_size(layout), SHMKIT_RECORD_MAX);
    shmkit_layout_free(layout);
    /* ...and its segment size is computed without wrapping. */
    ck_assert_uint_gt(sk_slot_payload_size(SHMKIT_RECORD_MAX), 2 * (uint64_t)SHMKIT_RECORD_MAX);
    tu_assert_no_leftovers();
}
END_TEST

/* ------------------------------------------------------------------ */
/* RLIMIT_NOFILE and RLIMIT_AS                                         */
/* ------------------------------------------------------------------ */

/* The lowest free descriptor: with RLIMIT_NOFILE at that number no new
 * descriptor can be opened. */
static int lowest_free_fd(void)
{
    int fd;

    for (fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) == -1)
            return fd;
    return -1;
}

/* Set the soft RLIMIT_NOFILE to N (RL holds the current limits). */
static int lower_nofile(struct rlimit *rl, rlim_t n)
{
    rl->rlim_cur = n;
    return setrlimit(RLIMIT_NOFILE, rl) == 0;
}

static int nofile_child(int kind)
{
    struct rlimit rl;
    char spec[32], spec2[32];
    shmkit_slot *slot = NULL;
    int fds, rc;

    tu_posix_spec(spec);
    tu_posix_spec(spec2);
    /* An existing segment, to be opened under the limit. */
    rc = create_kind(kind, spec2, 1024);
    if (rc != 0) {
        child_fail(__LINE__, "create %s: %s", spec2, shmkit_strerror(rc));
        return child_result();
    }
    /* Only the soft limit, so that it can be raised again to look for
     * leftovers (shmkit_info needs a descriptor too). */
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || !lower_nofile(&rl, (rlim_t)lowest_free_fd())) {
        printf("# SKIP RLIMIT_NOFILE: setrlimit: %s\n", strerror(errno));
        shmkit_unlink(spec2);
        return CHILD_SKIP;
    }
    fds = open_fds();
    rc = create_kind(kind, spec, 1024);
    lower_nofile(&rl, rl.rlim_max);
    CHILD_CLEAN(rc, -EMFILE, "RLIMIT_NOFILE", spec, fds);
    lower_nofile(&rl, (rlim_t)lowest_free_fd());
    if (kind == 0) {
        rc = shmkit_slot_open(&slot, spec2, 0);
    } else {
        shmkit_ring *ring = NULL;
        rc = shmkit_ring_open(&ring, spec2, 0);
    }
    if (rc != -EMFILE || strstr(shmkit_error_detail(), "RLIMIT_NOFILE") == NULL)
        child_fail(__LINE__, "open %s: %d (%s) instead of -EMFILE naming RLIMIT_NOFILE",
                   spec2, rc, shmkit_error_detail());
    lower_nofile(&rl, rl.rlim_max);
    if (open_fds() != fds || mapped(spec2) == 1)
        child_fail(__LINE__, "open %s leaked a descriptor or mapping", spec2);
    if (shmkit_unlink(spec2) != 0)
        child_fail(__LINE__, "unlink %s", spec2);
    return child_result();
}

START_TEST(test_rlimit_nofile)
{
    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX)) {
        skip_note("RLIMIT_NOFILE", "no POSIX backend (System V needs no descriptor)");
        return;
    }
    in_child(nofile_child, _i, "RLIMIT_NOFILE");
}
END_TEST

/* The size of this process's address space in bytes, 0 if unknown. */
static uint64_t address_space_size(void)
{
    char line[256];
    unsigned long long kib = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmSize: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return (uint64_t)kib * 1024;
}

/* 64 MiB segments under a limit of 16 MiB more than is mapped now: the
 * mapping cannot fit, small allocations still can. */
#define AS_HEADROOM (16u << 20)
#define AS_SEGMENT (64u << 20)

static int as_child(int backend)
{
    struct rlimit rl;
    uint64_t now = address_space_size();
    char spec[32];
    int fds, kind;

    if (now == 0) {
        printf("# SKIP RLIMIT_AS: no /proc/self/status to measure the address space\n");
        return CHILD_SKIP;
    }
    rl.rlim_cur = rl.rlim_max = (rlim_t)(now + AS_HEADROOM);
    if (setrlimit(RLIMIT_AS, &rl) != 0) {
        printf("# SKIP RLIMIT_AS: setrlimit: %s\n", strerror(errno));
        return CHILD_SKIP;
    }
    for (kind = 0; kind < 2; kind++) {
        tu_spec(backend, spec);
        fds = open_fds();
        /* A slot holds two records: half the size each. */
        CHILD_CLEAN(create_kind(kind, spec, kind == 0 ? AS_SEGMENT / 2 : AS_SEGMENT), -ENOMEM,
                    "RLIMIT_AS", spec, fds);
    }
    return child_result();
}

START_TEST(test_rlimit_as)
{
#ifdef UNDER_SANITIZER
    skip_note("RLIMIT_AS", "the sanitizer's allocator needs address space of its own");
    return;
#endif
    in_child(as_child, tu_backend_of(_i), "RLIMIT_AS");
}
END_TEST

/* ------------------------------------------------------------------ */
/* Linux namespaces: a full /dev/shm, lowered System V limits          */
/* ------------------------------------------------------------------ */

#ifdef __linux__

/* Entries in /dev/shm: in the private tmpfs, all of them are ours. */
static int shm_entries(void)
{
    DIR *d = opendir("/dev/shm");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* A private mount namespace with a 1 MiB tmpfs on /dev/shm, or a skip. */
static int small_dev_shm(void)
{
    if (geteuid() != 0) {
        printf("# SKIP full /dev/shm: mounting a tmpfs needs root\n");
        return CHILD_SKIP;
    }
    if (unshare(CLONE_NEWNS) != 0) {
        printf("# SKIP full /dev/shm: unshare(CLONE_NEWNS): %s\n", strerror(errno));
        return CHILD_SKIP;
    }
    /* Keep our mount from propagating back into the real namespace. */
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
        || mount("skt-limits", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=1777")
               != 0) {
        printf("# SKIP full /dev/shm: mount: %s\n", strerror(errno));
        return CHILD_SKIP;
    }
    return 0;
}

static int full_shm_child(int unused)
{
    char spec[32], spec2[32];
    shmkit_slot *a = NULL;
    int fds, rc = small_dev_shm(), kind;
    size_t half = 300u << 10; /* a slot of two 300 KiB records: 600 KiB */

    (void)unused;
    if (rc != 0)
        return rc;
    /* Larger than the whole tmpfs: refused at creation, not SIGBUS later. */
    for (kind = 0; kind < 2; kind++) {
        fds = open_fds();
        CHILD_CLEAN(create_kind(kind, tu_posix_spec(spec), 2u << 20), -ENOSPC, "/dev/shm",
                    spec, fds);
        if (shm_entries() != 0)
            child_fail(__LINE__, "%d object(s) left in /dev/shm", shm_entries());
    }
    /* Space is reserved at creation: a second 600 KiB slot cannot fit
     * next to the first (without posix_fallocate it would, sparse, and a
     * write to either would then be SIGBUS). */
    rc = shmkit_slot_create(&a, tu_posix_spec(spec), NULL, half, 0600, SHMKIT_EXCL);
    if (rc != 0) {
        child_fail(__LINE__, "first slot: %s (%s)", shmkit_strerror(rc), shmkit_error_detail());
        return child_result();
    }
    fds = open_fds();
    CHILD_CLEAN(create_kind(0, tu_posix_spec(spec2), half), -ENOSPC, "/dev/shm", spec2, fds);
    if (shm_entries() != 1)
        child_fail(__LINE__, "%d objects in /dev/shm, expected the first slot only",
                   shm_entries());
    /* The first slot is usable in full. */
    {
        char *record = malloc(half);

        if (record == NULL)
            return 125;
        memset(record, 0x5a, half);
        rc = shmkit_slot_write(a, record, half);
        if (rc != 0)
            child_fail(__LINE__, "write: %s", shmkit_strerror(rc));
        free(record);
    }
    shmkit_slot_close(a);
    shmkit_unlink(spec);
    /* Once the space is free again, the same creation succeeds. */
    rc = create_kind(0, spec2, half);
    if (rc != 0)
        child_fail(__LINE__, "slot after freeing space: %s", shmkit_strerror(rc));
    shmkit_unlink(spec2);
    return child_result();
}

START_TEST(test_full_dev_shm)
{
    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX)) {
        skip_note("full /dev/shm", "no POSIX backend");
        return;
    }
    in_child(full_shm_child, 0, "full /dev/shm");
}
END_TEST

static int write_sysctl(const char *name, unsigned long value)
{
    char path[64];
    FILE *f;
    int ok;

    snprintf(path, sizeof path, "/proc/sys/kernel/%s", name);
    f = fopen(path, "w");
    if (f == NULL)
        return -1;
    ok = fprintf(f, "%lu\n", value) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* System V segments in this IPC namespace (lines of /proc/sysvipc/shm
 * after its heading). */
static int sysv_segments(void)
{
    char line[512];
    FILE *f = fopen("/proc/sysvipc/shm", "r");
    int n = -1;

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof line, f) != NULL)
        n++;
    fclose(f);
    return n;
}

/* A private IPC namespace whose limits can be lowered, or a skip. */
static int private_ipc(void)
{
    if (geteuid() != 0) {
        printf("# SKIP System V limits: lowering kernel.shm* needs root\n");
        return CHILD_SKIP;
    }
    if (unshare(CLONE_NEWIPC) != 0) {
        printf("# SKIP System V limits: unshare(CLONE_NEWIPC): %s\n", strerror(errno));
        return CHILD_SKIP;
    }
    if (write_sysctl("shmmax", 65536) != 0) {
        printf("# SKIP System V limits: cannot write kernel.shmmax: %s\n", strerror(errno));
        return CHILD_SKIP;
    }
    return 0;
}

static int sysv_limits_child(int kind)
{
    char spec[32], spec2[32];
    int fds, rc = private_ipc();
    long page = sysconf(_SC_PAGESIZE);

    if (rc != 0)
        return rc;
    fds = open_fds();
    /* kernel.shmmax (set to 64 KiB by private_ipc). */
    CHILD_CLEAN(create_kind(kind, tu_sysv_spec(spec), 128u << 10), -EINVAL, "kernel.shmmax",
                spec, fds);
    /* kernel.shmall: the total, in pages. */
    if (write_sysctl("shmmax", 1ul << 30) != 0 || write_sysctl("shmall", 16) != 0) {
        child_fail(__LINE__, "cannot write kernel.shmall");
        return child_result();
    }
    CHILD_CLEAN(create_kind(kind, tu_sysv_spec(spec), 32 * (size_t)page), -ENOSPC,
                "kernel.shmall", spec, fds);
    /* kernel.shmmni: the number of segments. */
    if (write_sysctl("shmall", 1ul << 20) != 0 || write_sysctl("shmmni", 1) != 0) {
        child_fail(__LINE__, "cannot write kernel.shmmni");
        return child_result();
    }
    rc = create_kind(kind, tu_sysv_spec(spec2), 1024);
    if (rc != 0)
        child_fail(__LINE__, "first segment: %s", shmkit_strerror(rc));
    CHILD_CLEAN(create_kind(kind, tu_sysv_spec(spec), 1024), -ENOSPC, "kernel.shmmni", spec,
                fds);
    if (sysv_segments() != 1)
        child_fail(__LINE__, "%d System V segments, expected 1", sysv_segments());
    shmkit_unlink(spec2);
    return child_result();
}

START_TEST(test_sysv_namespace_limits)
{
    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV)) {
        skip_note("System V limits", "no System V backend");
        return;
    }
    in_child(sysv_limits_child, _i, "System V limits");
}
END_TEST

#endif /* __linux__ */

/* ------------------------------------------------------------------ */
/* Fault injection (--enable-test-hooks)                               */
/* ------------------------------------------------------------------ */

#ifdef SHMKIT_TEST_HOOKS

static const struct fault {
    const char *hook;
    int backend;
    int code;
    const char *needle;
} faults[] = {
    {"posix-fallocate-enospc", SHMKIT_BACKEND_POSIX, -ENOSPC, "is full"},
    {"posix-ftruncate-efbig", SHMKIT_BACKEND_POSIX, -EFBIG, "RLIMIT_FSIZE"},
    {"posix-mmap-enomem", SHMKIT_BACKEND_POSIX, -ENOMEM, "RLIMIT_AS"},
    {"sysv-shmat-enomem", SHMKIT_BACKEND_SYSV, -ENOMEM, "RLIMIT_AS"},
};
#define NFAULTS ((int)(sizeof faults / sizeof faults[0]))

/* Loop index I: fault I / 2, creating a slot (even) or a ring (odd). */
START_TEST(test_fault)
{
    const struct fault *f = &faults[_i / 2];
    int kind = _i % 2, fds = open_fds();
    unsigned long before = shmkit__hook_fired_count(f->hook);
    char spec[32];

    if (!shmkit_backend_available(f->backend))
        return;
    tu_spec(f->backend, spec);
    ck_assert_int_eq(setenv("SHMKIT_TEST_SIMULATE", f->hook, 1), 0);
    ASSERT_CLEAN(create_kind(kind, spec, 4096), f->code, f->needle, spec, fds);
    ck_assert_int_eq(unsetenv("SHMKIT_TEST_SIMULATE"), 0);
    ck_assert_uint_gt(shmkit__hook_fired_count(f->hook), before);
    /* Without the fault the same creation succeeds. */
    ck_assert_int_eq(create_kind(kind, spec, 4096), 0);
    tu_finish(spec);
}
END_TEST

/* Opening an existing segment when the mapping fails leaks nothing. */
START_TEST(test_fault_on_open)
{
    const struct fault *f = &faults[_i == 0 ? 2 : 3];
    int fds, rc;
    char spec[32];
    shmkit_slot *slot = NULL;

    if (!shmkit_backend_available(f->backend))
        return;
    tu_spec(f->backend, spec);
    ck_assert_int_eq(create_kind(0, spec, 64), 0);
    fds = open_fds();
    ck_assert_int_eq(setenv("SHMKIT_TEST_SIMULATE", f->hook, 1), 0);
    rc = shmkit_slot_open(&slot, spec, 0);
    ck_assert_int_eq(unsetenv("SHMKIT_TEST_SIMULATE"), 0);
    ck_assert_int_eq(rc, f->code);
    ck_assert_ptr_null(slot);
    ck_assert_int_eq(open_fds(), fds);
    ck_assert_int_ne(mapped(spec), 1);
    tu_finish(spec);
}
END_TEST

#endif /* SHMKIT_TEST_HOOKS */

static Suite *limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *always = tu_tcase(s, "limits");

    tcase_add_test(always, test_sizes_beyond_format);
    tcase_add_loop_test(always, test_rlimit_nofile, 0, 2);
    tu_add_backend_test(always, test_rlimit_as, 1);
#ifdef __linux__
    tcase_add_test(always, test_full_dev_shm);
    tcase_add_loop_test(always, test_sysv_namespace_limits, 0, 2);
#else
    printf("# SKIP full /dev/shm and System V limits in namespaces: Linux only\n");
#endif
    tcase_set_timeout(always, 60);
#ifdef SHMKIT_TEST_HOOKS
    {
        TCase *hooks = tu_tcase(s, "injected");

        tcase_add_loop_test(hooks, test_fault, 0, 2 * NFAULTS);
        tcase_add_loop_test(hooks, test_fault_on_open, 0, 2);
        tcase_set_timeout(hooks, 60);
    }
#else
    printf("# SKIP injected faults (posix-fallocate-enospc, posix-ftruncate-efbig, "
           "posix-mmap-enomem, sysv-shmat-enomem): this build has no test hooks "
           "(configure --enable-test-hooks)\n");
#endif
    fflush(stdout);
    return s;
}

int main(void)
{
    return tu_run(limits_suite());
}
