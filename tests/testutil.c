/*
 * testutil.c - the test-utility library of the Check suites.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef SHMKIT_HAVE_SYSV
#include <sys/ipc.h>
#include <sys/shm.h>
#endif
#ifdef SHMKIT_HAVE_SYSV_SEM
#include <sys/ipc.h>
#include <sys/sem.h>
#endif

#include "shmkit.h"
#include "segment.h"
#include "spec.h"

#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif

/* ==== segment names and their registry ================================== */

/* Every name tu_spec gives out is recorded in memory shared with all the
 * processes forked (or executed) after tu_run mapped it: Check's test
 * processes and their children.  A failed assertion ends a forked test
 * process at once (_exit, no teardown), so the names must outlive it: the
 * next test's setup, or tu_run at the end, removes what a failed test
 * left. */
#define MAX_NAMES 1024
#define SPEC_LEN 32

struct name_registry {
    int count; /* names given out since the last clean-up (may pass MAX_NAMES) */
    char specs[MAX_NAMES][SPEC_LEN];
};

static struct name_registry *registry;
static unsigned tu_counter;

/* The registry is a deleted temporary file whose descriptor stays open
 * across exec: a suite that runs itself again (check_truncate's fresh
 * processes) finds it through $SHMKIT_TEST_REGISTRY_FD. */
#define REGISTRY_FD_VAR "SHMKIT_TEST_REGISTRY_FD"

static int inherited_registry_fd(void)
{
    const char *env = getenv(REGISTRY_FD_VAR);

    return env != NULL && *env != '\0' ? atoi(env) : -1;
}

static int new_registry_fd(void)
{
    const char *dir = getenv("TMPDIR");
    char path[512], number[16];
    int fd;

    snprintf(path, sizeof path, "%s/skt-names.XXXXXX",
             dir != NULL && *dir != '\0' ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0 || unlink(path) != 0 || ftruncate(fd, (off_t)sizeof *registry) != 0) {
        perror("testutil: the name registry");
        abort();
    }
    snprintf(number, sizeof number, "%d", fd);
    setenv(REGISTRY_FD_VAR, number, 1);
    return fd;
}

static void *map_registry_fd(int fd)
{
    if (fd < 0)
        return MAP_FAILED;
    return mmap(NULL, sizeof *registry, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

static void map_registry(void)
{
    void *p;

    if (registry != NULL)
        return;
    p = map_registry_fd(inherited_registry_fd());
    if (p == MAP_FAILED) /* none inherited (or closed since): a new one */
        p = map_registry_fd(new_registry_fd());
    if (p == MAP_FAILED) {
        perror("testutil: mmap of the name registry");
        abort();
    }
    registry = p;
}

static void record_name(const char *spec)
{
    int i;

    map_registry();
    i = __atomic_fetch_add(&registry->count, 1, __ATOMIC_ACQ_REL);
    if (i < MAX_NAMES)
        snprintf(registry->specs[i], SPEC_LEN, "%s", spec);
    else
        fprintf(stderr, "testutil: more than %d names in one test: %s not tracked\n", MAX_NAMES,
                spec);
}

static void posix_name(char *buf, long pid, unsigned n)
{
    snprintf(buf, SPEC_LEN, "/skt.%ld.%u", pid, n & 0xffffu);
}

static unsigned long sysv_key(long pid, unsigned n)
{
    return 0x40000000ul + (((unsigned long)pid & 0xffffful) << 8) + (n & 0xffu);
}

char *tu_posix_spec(char *buf)
{
    posix_name(buf, (long)getpid(), tu_counter++);
    record_name(buf);
    return buf;
}

char *tu_sysv_spec(char *buf)
{
    snprintf(buf, SPEC_LEN, "sysv:0x%lx", sysv_key((long)getpid(), tu_counter++));
    record_name(buf);
    return buf;
}

char *tu_spec(int backend, char *buf)
{
    return backend == SHMKIT_BACKEND_SYSV ? tu_sysv_spec(buf) : tu_posix_spec(buf);
}

void tu_assert_no_leftovers(void)
{
    struct shmkit_info info;
    char spec[SPEC_LEN];
    unsigned n;
    long pid = (long)getpid();

    for (n = 0; n < tu_counter && n <= 0xffffu; n++) {
        posix_name(spec, pid, n);
        if (shmkit_backend_available(SHMKIT_BACKEND_POSIX) &&
            shmkit_info(spec, &info, sizeof info) != -ENOENT)
            ck_abort_msg("left behind: %s", spec);
        snprintf(spec, sizeof spec, "sysv:0x%lx", sysv_key(pid, n));
        if (shmkit_backend_available(SHMKIT_BACKEND_SYSV) &&
            shmkit_info(spec, &info, sizeof info) != -ENOENT)
            ck_abort_msg("left behind: %s", spec);
    }
}

void tu_finish_specs(const char *spec, ...)
{
    va_list ap;

    va_start(ap, spec);
    for (; spec != NULL; spec = va_arg(ap, const char *)) {
        int rc = shmkit_unlink(spec);

        if (rc != 0)
            ck_abort_msg("shmkit_unlink(%s): %d (%s: %s)", spec, rc, shmkit_strerror(rc),
                         shmkit_error_detail());
    }
    va_end(ap);
    tu_assert_no_leftovers();
}

/* The clean-up does not rely on the library under test alone: what
 * shmkit_unlink leaves (a broken library, a FIFO planted under the name)
 * is removed with plain system calls.  Nothing is opened: a FIFO would
 * block.  Returns 1 if SPEC named something. */
static int remove_spec(const char *spec)
{
    int removed = shmkit_unlink(spec) == 0; /* with the wait resources */

    if (strncmp(spec, "sysv:", 5) == 0) {
#ifdef SHMKIT_HAVE_SYSV
        int id = shmget((key_t)strtoul(spec + 5, NULL, 0), 0, 0);

        if (id >= 0 && shmctl(id, IPC_RMID, NULL) == 0)
            removed = 1;
#endif
    } else {
#ifdef SHMKIT_HAVE_POSIX
        if (shm_unlink(spec) == 0)
            removed = 1;
#endif
#ifdef __linux__
        /* check_handles plants directories in /dev/shm. */
        char path[SPEC_LEN + 16];

        snprintf(path, sizeof path, "/dev/shm%s", spec);
        if (rmdir(path) == 0)
            removed = 1;
#endif
    }
    return removed;
}

/* Remove what the names given out still hold; WHY, if not NULL, says on
 * stderr why each segment was there. */
static int remove_names(const char *why)
{
    int i, n, removed = 0;

    if (registry == NULL)
        return 0;
    n = __atomic_exchange_n(&registry->count, 0, __ATOMIC_ACQ_REL);
    for (i = 0; i < n && i < MAX_NAMES; i++) {
        if (remove_spec(registry->specs[i])) {
            if (why != NULL)
                fprintf(stderr, "testutil: removed %s, left behind by %s\n", registry->specs[i],
                        why);
            removed++;
        }
    }
    return removed;
}

int tu_remove_names(void)
{
    return remove_names(NULL);
}

/* ==== semaphore sets of segments ======================================= */

int tu_semset_of(const char *spec)
{
    struct sk_spec sk;

    return shmkit__spec_parse(spec, &sk) == 0 ? shmkit__seg_wait_semid(&sk) : -1;
}

void tu_remove_semset(int semid)
{
#ifdef SHMKIT_HAVE_SYSV_SEM
    if (semid >= 0)
        (void)semctl(semid, 0, IPC_RMID);
#else
    (void)semid; /* no System V semaphores on this system */
#endif
}

/* ==== test cases and the fixture ======================================== */

/* Set by tu_run: in Check's fork mode a test's teardown runs only when
 * the test itself passed. */
static int forking = 1;

static void names_setup(void)
{
    /* What a failed test (ended by _exit) left behind. */
    remove_names("a failed test");
}

static void names_teardown(void)
{
    int left = remove_names("the test");

    /* In no-fork mode a failed test comes here too: its failure is the one
     * to report. */
    if (forking && left != 0)
        ck_abort_msg("the test left %d segment(s) behind (now removed)", left);
}

#define MAX_TCASES 32
static struct {
    TCase *tc;
    const char *name;
} tcases[MAX_TCASES];
static int ntcases;

TCase *tu_tcase(Suite *suite, const char *name)
{
    TCase *tc = tcase_create(name);

    if (ntcases == MAX_TCASES)
        abort(); /* a suite bug: raise MAX_TCASES */
    tcases[ntcases].tc = tc;
    tcases[ntcases++].name = name;
    tcase_add_checked_fixture(tc, names_setup, names_teardown);
    suite_add_tcase(suite, tc);
    return tc;
}

static const char *tcase_name_of(TCase *tc)
{
    int i;

    for (i = 0; i < ntcases; i++)
        if (tcases[i].tc == tc)
            return tcases[i].name;
    return "?";
}

/* ==== the backend loop =================================================== */

static const int all_backends[TU_NBACKENDS] = { SHMKIT_BACKEND_POSIX, SHMKIT_BACKEND_SYSV };

#define MAX_SKIPS 256
static struct {
    const char *tcase, *test, *file;
    int backend, variant, variants;
} skips[MAX_SKIPS];
static int nskips;

int tu_backend_of(int i)
{
    return all_backends[i % TU_NBACKENDS];
}

const char *tu_backend_name(int backend)
{
    return backend == SHMKIT_BACKEND_SYSV ? "sysv" : "posix";
}

int tu_backends(int *backends)
{
    int b, n = 0;

    for (b = 0; b < TU_NBACKENDS; b++)
        if (shmkit_backend_available(all_backends[b]))
            backends[n++] = all_backends[b];
    return n;
}

void tu_add_backend_test(TCase *tc, const TTest *test, int variants)
{
    int v, b;

    for (v = 0; v < variants; v++)
        for (b = 0; b < TU_NBACKENDS; b++) {
            int i = v * TU_NBACKENDS + b;

            if (shmkit_backend_available(all_backends[b])) {
                tcase_add_loop_test(tc, test, i, i + 1);
                continue;
            }
            if (nskips == MAX_SKIPS)
                abort(); /* a suite bug: raise MAX_SKIPS */
            skips[nskips].tcase = tcase_name_of(tc);
            skips[nskips].test = test->name;
            skips[nskips].file = test->file;
            skips[nskips].backend = all_backends[b];
            skips[nskips].variants = variants;
            skips[nskips++].variant = v;
        }
}

/* ==== running a suite ===================================================== */

/* CK_RUN_CASE selects one test case: the SKIP lines follow it. */
static int tcase_selected(const char *name)
{
    const char *only = getenv("CK_RUN_CASE");

    return only == NULL || *only == '\0' || strcmp(only, name) == 0;
}

/* Copy Check's TAP (in PATH) to stdout with the SKIP lines before the plan,
 * which Check writes last. */
static void copy_tap_with_skips(const char *path)
{
    char line[4096];
    int run = 0, k;
    FILE *in = fopen(path, "r");

    if (in == NULL) {
        perror(path);
        abort();
    }
    while (fgets(line, sizeof line, in) != NULL) {
        if (strncmp(line, "1..", 3) == 0)
            run = atoi(line + 3);
        else
            fputs(line, stdout);
    }
    fclose(in);
    for (k = 0; k < nskips; k++) {
        const char *backend = tu_backend_name(skips[k].backend);
        char variant[32] = "";

        if (!tcase_selected(skips[k].tcase))
            continue;
        if (skips[k].variants > 1)
            snprintf(variant, sizeof variant, ", variant %d", skips[k].variant);
        printf("ok %d - %s:%s:%s (%s%s) # SKIP %s backend not in this build\n", ++run,
               skips[k].file, skips[k].tcase, skips[k].test, backend, variant, backend);
    }
    printf("1..%d\n", run);
}

static void run_with_skips(SRunner *runner)
{
    const char *dir = getenv("TMPDIR");
    char path[512];
    int fd;

    snprintf(path, sizeof path, "%s/skt-tap.XXXXXX", dir != NULL && *dir != '\0' ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0) {
        perror(path);
        abort();
    }
    close(fd);
    srunner_set_tap(runner, path);
    srunner_run_all(runner, CK_SILENT);
    copy_tap_with_skips(path);
    unlink(path);
}

int tu_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    int failed;

    map_registry();
    tu_seed(); /* chosen once, before the test processes are forked */
    forking = srunner_fork_status(runner) == CK_FORK;
    if (nskips == 0) {
        /* "-" sends TAP to stdout; CK_SILENT keeps Check's own summary off it. */
        srunner_set_tap(runner, "-");
        srunner_run_all(runner, CK_SILENT);
    } else {
        run_with_skips(runner);
    }
    remove_names("a failed test"); /* the last test's, if it failed */
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    if (failed != 0)
        printf("# seed %llu: SHMKIT_TEST_SEED=%llu repeats the random choices\n",
               (unsigned long long)tu_seed(), (unsigned long long)tu_seed());
    fflush(stdout);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* ==== segments that must be created ====================================== */

#define CHECK_CREATED(rc, what, spec)                                                        \
    do {                                                                                    \
        if ((rc) != 0)                                                                      \
            ck_abort_msg("%s %s: %s (%s)", what, spec, shmkit_strerror(rc),                   \
                         shmkit_error_detail());                                             \
    } while (0)

shmkit_slot *tu_slot_create(const char *spec, const char *layout, size_t record_size,
                            unsigned mode, unsigned flags)
{
    shmkit_slot *slot = NULL;
    int rc = shmkit_slot_create(&slot, spec, layout, record_size, mode, flags);

    CHECK_CREATED(rc, "create", spec);
    return slot;
}

int tu_ring_create_rc(shmkit_ring **ringp, const char *spec, size_t capacity, size_t max_message,
                      int policy, unsigned mode, unsigned flags)
{
    struct shmkit_ring_options options = SHMKIT_RING_OPTIONS_INIT;

    options.capacity = capacity;
    options.max_message = max_message;
    options.policy = policy;
    options.mode = mode;
    options.flags = flags;
    return shmkit_ring_create(ringp, spec, &options);
}

shmkit_ring *tu_ring_create(const char *spec, size_t capacity, size_t max_message, int policy,
                            unsigned mode, unsigned flags)
{
    shmkit_ring *ring = NULL;
    int rc = tu_ring_create_rc(&ring, spec, capacity, max_message, policy, mode, flags);

    CHECK_CREATED(rc, "create", spec);
    return ring;
}

shmkit_ring *tu_fanout_create(const char *spec, size_t capacity, unsigned consumers)
{
    struct shmkit_ring_options options = SHMKIT_RING_OPTIONS_INIT;
    shmkit_ring *ring = NULL;
    int rc;

    options.capacity = capacity;
    options.consumers = consumers;
    options.flags = SHMKIT_EXCL;
    rc = shmkit_ring_create(&ring, spec, &options);
    CHECK_CREATED(rc, "create", spec);
    return ring;
}

shmkit_ring *tu_ring_open(const char *spec, unsigned flags)
{
    shmkit_ring *ring = NULL;
    int rc = shmkit_ring_open(&ring, spec, flags);

    CHECK_CREATED(rc, "open", spec);
    return ring;
}

/* ==== children ============================================================ */

pid_t tu_fork(void)
{
    pid_t pid;

    fflush(NULL); /* buffered output must not be written twice */
    pid = fork();
    if (pid < 0)
        ck_abort_msg("fork: %s", strerror(errno));
    return pid;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000l };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int wait_blocking(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

int tu_wait(pid_t pid, int timeout_ms)
{
    uint64_t deadline = tu_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000u;
    int status;

    if (timeout_ms < 0)
        return wait_blocking(pid);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (tu_now_ns() >= deadline) {
            kill(pid, SIGKILL);
            wait_blocking(pid);
            return TU_TIMED_OUT;
        }
        sleep_ms(1);
    }
}

const char *tu_status_text(int status, char *buf, size_t len)
{
    if (status == -1)
        snprintf(buf, len, "not a child");
    else if (status == TU_TIMED_OUT)
        snprintf(buf, len, "still running after the time-out (killed)");
    else if (WIFEXITED(status))
        snprintf(buf, len, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, len, "status 0x%x", (unsigned)status);
    return buf;
}

void tu_wait_ok(pid_t pid, const char *what)
{
    int status = tu_wait(pid, -1);
    char text[80];

    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        ck_abort_msg("%s failed: %s", what, tu_status_text(status, text, sizeof text));
}

int tu_wait_exit_code(pid_t pid)
{
    int status = tu_wait(pid, -1);

    if (status == -1)
        ck_abort_msg("waitpid %ld: %s", (long)pid, strerror(errno));
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

/* ==== memory shared with children ========================================= */

void *tu_shared_alloc(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        ck_abort_msg("mmap of %zu shared bytes: %s", size, strerror(errno));
    return p;
}

void tu_shared_free(void *p, size_t size)
{
    munmap(p, size);
}

/* ==== pseudo-random numbers =============================================== */

static uint64_t run_seed;
static int seed_chosen;

uint64_t tu_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static const char *seed_from_environment(void)
{
    const char *env = getenv("SHMKIT_TEST_SEED");

    if (env == NULL || *env == '\0')
        env = getenv("SHMKIT_CRASH_SEED"); /* the crash suites' older name */
    return env != NULL && *env != '\0' ? env : NULL;
}

uint64_t tu_seed(void)
{
    const char *env;

    if (seed_chosen)
        return run_seed;
    env = seed_from_environment();
    if (env != NULL)
        run_seed = strtoull(env, NULL, 0);
    else
        run_seed = tu_mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)) & 0xffffffffffull;
    seed_chosen = 1;
    return run_seed;
}

uint64_t tu_rng_seed(uint64_t stream)
{
    uint64_t s = tu_mix(tu_seed() ^ tu_mix(stream));

    return s != 0 ? s : 1;
}

uint64_t tu_rand(uint64_t *state)
{
    uint64_t x = *state;

    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545f4914f6cdd1dull;
}

uint64_t tu_below(uint64_t *state, uint64_t n)
{
    return tu_rand(state) % n;
}

/* ==== time ================================================================ */

uint64_t tu_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
