/*
 * check_wait.c - the wait/wake layer (src/wait.c) with every mechanism this
 * build can use: the one configure chose, polling, and System V semaphores
 * where the system has them.  Each mechanism is a test case named after it.
 *
 * The waited-on words live in an anonymous shared mapping inherited by
 * forked children, as they would in a segment.  Every wait in a child has
 * a finite timeout, so a lost wake-up shows as a failure, never as a hang.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(HAVE_SYS_SEM_H) && defined(HAVE_SYS_IPC_H)
#include <sys/ipc.h>
#include <sys/sem.h>
#define TEST_HAVE_SEM 1
#endif

#include "hooks.h"
#include "internal.h"
#include "wait.h"
#include "testutil.h"

#define MS 1000000ull                /* nanoseconds per millisecond */
#define PINGPONG_ROUNDS 20000u
#define ROUND_TIMEOUT_MS 5000        /* a lost wake-up fails after this */
#define CHILD_TIMEOUT_MS 10000

static int mechs[3];
static int nmechs;

/* The words, shared with the children. */
struct shared {
    sk_atomic_u32 word;
    sk_atomic_u32 waiters;
    sk_atomic_u32 reply;          /* ping-pong: the child's word */
    sk_atomic_u32 reply_waiters;
    sk_atomic_u32 flag;
    sk_atomic_u32 signals;        /* handler runs counted by a child */
    sk_atomic_u32 result[8];
    sk_atomic_u32 hold;           /* hook tests: 1 holds a waiter at a point */
    sk_atomic_u32 held;           /* ... which it sets once it is there */
    sk_atomic_u32 phase;          /* hook tests: the other waiter's progress */
};

static struct shared *sh;
static struct sk_waitset ws;
static pid_t ws_owner;

/* Remove the semaphore set even when an assertion ends the test early
 * (Check then exits the test process); children leave with _exit. */
static void cleanup_waitset(void)
{
    if (getpid() == ws_owner && ws.semid >= 0)
        shmkit__waitset_destroy(&ws);
}

/* Set up the waitset of mechanism number I (test-case loop index) and a
 * fresh shared area. */
static int begin(int i)
{
    static int registered;
    int mech = mechs[i];

    sh = tu_shared_alloc(sizeof *sh);
    ws_owner = getpid();
    if (!registered) {
        atexit(cleanup_waitset);
        registered = 1;
    }
    ck_assert_int_eq(shmkit__waitset_create_with(&ws, mech, 0600), 0);
    ck_assert_int_eq(ws.mech, mech);
    ck_assert_int_eq(ws.wake_mech, mech);
    if (mech == SK_MECH_SYSV_SEM)
        ck_assert_int_ge(ws.semid, 0);
    else
        ck_assert_int_eq(ws.semid, -1);
    return mech;
}

static void finish(void)
{
    shmkit__waitset_destroy(&ws);
    ck_assert_int_eq(ws.semid, -1);
    ck_assert_int_eq(munmap(sh, sizeof *sh), 0);
    sh = NULL;
}

static uint64_t now_ns(void)
{
    return shmkit__monotonic_ns();
}

static void sleep_ms(unsigned ms)
{
    shmkit__sleep_ns((uint64_t)ms * MS);
}

static uint32_t load(sk_atomic_u32 *p)
{
    return sk_load(p, SK_ACQUIRE);
}

static uint32_t wakes(void)
{
    return sk_load(&shmkit__wait_stats.wakes, SK_RELAXED);
}

/* Whether the wake request *P is asked for (its low bit): the request is
 * a generation counter, see shmkit__notify in src/wait.c. */
static int asked(sk_atomic_u32 *p)
{
    return (load(p) & SK_WAKE_ASKED) != 0;
}

/* Poll until *P == VALUE or MS_LIMIT passes: 1 if reached. */
static int await_value(sk_atomic_u32 *p, uint32_t value, unsigned ms_limit)
{
    uint64_t end = now_ns() + (uint64_t)ms_limit * MS;

    while (load(p) != value) {
        if (now_ns() > end)
            return 0;
        shmkit__sleep_ns(200000);
    }
    return 1;
}

/* Poll until the request *P is asked for or MS_LIMIT passes: 1 if so. */
static int await_asked(sk_atomic_u32 *p, unsigned ms_limit)
{
    uint64_t end = now_ns() + (uint64_t)ms_limit * MS;

    while (!asked(p)) {
        if (now_ns() > end)
            return 0;
        shmkit__sleep_ns(200000);
    }
    return 1;
}

/* Wait for PID to exit within MS_LIMIT and return its exit status (-1 and
 * SIGKILL if it did not, -2 if it died of a signal). */
static int reap(pid_t pid, unsigned ms_limit)
{
    int status = tu_wait(pid, (int)ms_limit);

    if (status == -1 || status == TU_TIMED_OUT)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -2;
}

static pid_t spawn(void)
{
    pid_t pid = tu_fork();

    return pid;
}

static const char *mode_name(int mode)
{
    if (mode == SK_WAIT_MODE_SPIN)
        return "spin";
    return mode == SK_WAIT_MODE_BLOCK ? "blocking" : "adaptive";
}

static const int all_modes[] = {SK_WAIT_MODE_ADAPTIVE, SK_WAIT_MODE_SPIN, SK_WAIT_MODE_BLOCK};

/* ---- timeouts ------------------------------------------------------ */

START_TEST(test_timeout_accuracy)
{
    int mech = begin(_i);
    unsigned m;

    for (m = 0; m < 3; m++) {
        uint64_t t0 = now_ns(), elapsed;
        int rc = shmkit__wait_changed(&ws, 0, &sh->word, 0, &sh->waiters, 300, all_modes[m]);

        elapsed = now_ns() - t0;
        ck_assert_msg(rc == -ETIMEDOUT, "%s/%s: rc %d", shmkit__wait_mechanism_name(mech),
                      mode_name(all_modes[m]), rc);
        ck_assert_msg(elapsed >= 300 * MS, "%s: timed out after %llu ns",
                      mode_name(all_modes[m]), (unsigned long long)elapsed);
        ck_assert_msg(elapsed < 2300 * MS, "%s: timed out after %llu ns",
                      mode_name(all_modes[m]), (unsigned long long)elapsed);
        /* A waiter that blocked leaves its wake request behind (one useless
         * wake-up later); a spinning one never asked. */
        ck_assert_int_eq(asked(&sh->waiters), all_modes[m] == SK_WAIT_MODE_SPIN ? 0 : 1);
        sk_store(&sh->waiters, 0, SK_RELEASE);
    }
    /* A reader that cannot register (read-only mapping). */
    {
        uint64_t t0 = now_ns(), elapsed;

        ck_assert_int_eq(
            shmkit__wait_changed(&ws, 0, &sh->word, 0, NULL, 200, SK_WAIT_MODE_ADAPTIVE),
            -ETIMEDOUT);
        elapsed = now_ns() - t0;
        ck_assert(elapsed >= 200 * MS && elapsed < 2200 * MS);
    }
    /* The primitive itself, with an absolute deadline. */
    {
        uint64_t t0 = now_ns(), deadline = t0 + 150 * MS;
        int rc;

        do
            rc = shmkit__wait_block(&ws, 1, &sh->word, 0, deadline);
        while (rc == 0 && load(&sh->word) == 0);
        ck_assert_int_eq(rc, -ETIMEDOUT);
        ck_assert(now_ns() >= deadline);
        ck_assert(now_ns() - t0 < 2150 * MS);
        ck_assert_int_eq(shmkit__wait_block(&ws, 1, &sh->word, 0, deadline), -ETIMEDOUT);
    }
    finish();
}
END_TEST

START_TEST(test_immediate_return_when_changed)
{
    begin(_i);
    unsigned m;

    sk_store(&sh->word, 7, SK_RELEASE);
    for (m = 0; m < 3; m++) {
        uint64_t t0 = now_ns();

        ck_assert_int_eq(
            shmkit__wait_changed(&ws, 0, &sh->word, 6, &sh->waiters, -1, all_modes[m]), 0);
        ck_assert_int_eq(
            shmkit__wait_changed(&ws, 0, &sh->word, 6, &sh->waiters, 5000, all_modes[m]), 0);
        ck_assert_int_eq(shmkit__wait_changed(&ws, 0, &sh->word, 6, NULL, -1, all_modes[m]), 0);
        ck_assert(now_ns() - t0 < 2000 * MS);
    }
    ck_assert_int_eq(shmkit__wait_block(&ws, 0, &sh->word, 6, 0), 0);
    ck_assert_int_eq(asked(&sh->waiters), 0);
    finish();
}
END_TEST

START_TEST(test_timeout_zero_only_checks)
{
    begin(_i);
    unsigned m;

    sk_store(&sh->word, 3, SK_RELEASE);
    for (m = 0; m < 3; m++) {
        uint64_t t0 = now_ns();

        ck_assert_int_eq(shmkit__wait_changed(&ws, 0, &sh->word, 3, &sh->waiters, 0, all_modes[m]),
                         -ETIMEDOUT);
        ck_assert_int_eq(
            shmkit__wait_changed(&ws, 0, &sh->word, 2, &sh->waiters, 0, all_modes[m]), 0);
        ck_assert(now_ns() - t0 < 2000 * MS);
    }
    ck_assert_int_eq(asked(&sh->waiters), 0);
    finish();
}
END_TEST

/* ---- wake-ups across processes ------------------------------------- */

START_TEST(test_wake_from_other_process)
{
    begin(_i);
    unsigned m;

    for (m = 0; m < 3; m++) {
        int mode = all_modes[m];
        uint32_t seen = load(&sh->word);
        pid_t pid = spawn();
        int rc;

        if (pid == 0) {
            uint32_t before = wakes();

            /* Store only once the parent has registered as a waiter (a
             * spinning parent never registers: give it time instead). */
            if (mode == SK_WAIT_MODE_SPIN)
                sleep_ms(50);
            else if (!await_asked(&sh->waiters, CHILD_TIMEOUT_MS))
                _exit(3);
            sleep_ms(20);
            sk_store(&sh->word, seen + 1, SK_RELEASE);
            shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
            sk_store(&sh->result[0], wakes() - before, SK_RELEASE);
            _exit(0);
        }
        rc = shmkit__wait_changed(&ws, 0, &sh->word, seen, &sh->waiters, CHILD_TIMEOUT_MS, mode);
        ck_assert_msg(rc == 0, "%s: rc %d", mode_name(mode), rc);
        ck_assert_uint_eq(load(&sh->word), seen + 1);
        ck_assert_int_eq(reap(pid, CHILD_TIMEOUT_MS), 0);
        /* The notifier consumed the request it acted on. */
        ck_assert_int_eq(asked(&sh->waiters), 0);
        /* The writer saw the waiter and woke it (or nobody, if it spun). */
        ck_assert_uint_eq(load(&sh->result[0]), mode == SK_WAIT_MODE_SPIN ? 0 : 1);
    }
    finish();
}
END_TEST

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The child of the ping-pong: answer each ping R with pong R. */
static void pong_loop(int mode)
{
    uint32_t r;

    for (r = 1; r <= PINGPONG_ROUNDS; r++) {
        int rc = shmkit__wait_changed(&ws, 0, &sh->word, r - 1, &sh->waiters, ROUND_TIMEOUT_MS,
                                      mode);

        if (rc != 0 || load(&sh->word) != r) {
            sk_store(&sh->result[0], r, SK_RELEASE);
            sk_store(&sh->result[1], (uint32_t)-rc, SK_RELEASE);
            _exit(1);
        }
        sk_store(&sh->reply, r, SK_RELEASE);
        shmkit__notify(&ws, 1, &sh->reply, &sh->reply_waiters);
    }
    _exit(0);
}

/* Two processes pass a counter back and forth; a lost wake-up would leave
 * one of them waiting until ROUND_TIMEOUT_MS: a failure.  Prints the median
 * round trip to stderr (the test log). */
static void pingpong(int i, int mode)
{
    int mech = begin(i);
    uint64_t *rtt = malloc(PINGPONG_ROUNDS * sizeof *rtt);
    uint32_t r, failed_round = 0, wakes_before;
    int failed_rc = 0;
    pid_t pid;

    ck_assert_ptr_nonnull(rtt);
    pid = spawn();
    if (pid == 0)
        pong_loop(mode);
    wakes_before = wakes();
    for (r = 1; r <= PINGPONG_ROUNDS; r++) {
        uint64_t t0 = now_ns();
        int rc;

        sk_store(&sh->word, r, SK_RELEASE);
        shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
        rc = shmkit__wait_changed(&ws, 1, &sh->reply, r - 1, &sh->reply_waiters, ROUND_TIMEOUT_MS,
                                  mode);
        rtt[r - 1] = now_ns() - t0;
        if (rc != 0 || load(&sh->reply) != r) {
            failed_round = r;
            failed_rc = rc;
            break;
        }
    }
    if (failed_round != 0)
        kill(pid, SIGKILL);
    ck_assert_int_eq(reap(pid, CHILD_TIMEOUT_MS), failed_round != 0 ? -2 : 0);
    ck_assert_msg(failed_round == 0, "%s/%s: round %u: rc %d, reply %u",
                  shmkit__wait_mechanism_name(mech), mode_name(mode), failed_round, failed_rc,
                  load(&sh->reply));
    qsort(rtt, PINGPONG_ROUNDS, sizeof *rtt, cmp_u64);
    fprintf(stderr, "# ping-pong %s/%s: %u rounds, round trip median %.1f us, p99 %.1f us"
            " (%u wake calls by the parent)\n",
            shmkit__wait_mechanism_name(mech), mode_name(mode), PINGPONG_ROUNDS,
            (double)rtt[PINGPONG_ROUNDS / 2] / 1000.0,
            (double)rtt[PINGPONG_ROUNDS * 99 / 100] / 1000.0, wakes() - wakes_before);
    free(rtt);
    /* A request is not a count: each round moves its generation on by at
     * most 2 (asked, then consumed), however often the waiter asked. */
    ck_assert_uint_le(load(&sh->waiters), 2 * PINGPONG_ROUNDS + 1);
    ck_assert_uint_le(load(&sh->reply_waiters), 2 * PINGPONG_ROUNDS + 1);
    finish();
}

START_TEST(test_pingpong_adaptive)
{
    pingpong(_i, SK_WAIT_MODE_ADAPTIVE);
}
END_TEST

START_TEST(test_pingpong_spin)
{
    pingpong(_i, SK_WAIT_MODE_SPIN);
}
END_TEST

START_TEST(test_pingpong_blocking)
{
    pingpong(_i, SK_WAIT_MODE_BLOCK);
}
END_TEST

/* 1 when process PID sleeps (state S in /proc/PID/stat), 0 when it does
 * not, -1 where there is no /proc to tell. */
static int asleep(pid_t pid)
{
    char path[64], buf[512], *p;
    size_t n;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
    f = fopen(path, "r");
    if (f == NULL)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' && p[2] == 'S';
}

/* Wait until the N processes PIDS, which have said they are about to
 * wait, sleep: 1 once /proc shows them all asleep, 0 after MS_LIMIT, -1
 * without /proc (they were then given 50 ms, which usually suffices). */
static int await_sleepers(const pid_t *pids, unsigned n, unsigned ms_limit)
{
    uint64_t end = now_ns() + (uint64_t)ms_limit * MS;
    unsigned k;

    for (;;) {
        int all = 1;

        for (k = 0; k < n; k++) {
            int state = asleep(pids[k]);

            if (state < 0) {
                sleep_ms(50);
                return -1;
            }
            all = all && state == 1;
        }
        if (all)
            return 1;
        if (now_ns() > end)
            return 0;
        shmkit__sleep_ns(100000);
    }
}

/* Several waiters share one wake request: one notify must wake them all,
 * with a single wake call, and consume the request.  The waiters wait
 * without a timeout (one would hide a lost wake-up: a wait that times out
 * after the word changed reports the change), so a waiter left asleep is
 * still there when the parent stops waiting for it: killed, and a failure. */
START_TEST(test_one_notify_wakes_all_waiters)
{
    enum { NWAITERS = 4 };
    pid_t pids[NWAITERS];
    int status[NWAITERS];
    uint32_t before, woke;
    unsigned k;
    int ready, slept;

    begin(_i);
    for (k = 0; k < NWAITERS; k++) {
        pids[k] = spawn();
        if (pids[k] == 0) {
            int rc;

            sk_fetch_add(&sh->flag, 1u, SK_SEQ_CST);
            rc = shmkit__wait_changed(&ws, 2, &sh->word, 0, &sh->waiters, -1,
                                      k % 2 ? SK_WAIT_MODE_BLOCK : SK_WAIT_MODE_ADAPTIVE);
            sk_store(&sh->result[k], (uint32_t)-rc, SK_RELEASE);
            _exit(rc == 0 && load(&sh->word) == 1 ? 0 : 1);
        }
    }
    ready = await_value(&sh->flag, NWAITERS, CHILD_TIMEOUT_MS) &&
            await_asked(&sh->waiters, CHILD_TIMEOUT_MS);
    slept = ready ? await_sleepers(pids, NWAITERS, CHILD_TIMEOUT_MS) : 0;
    before = wakes();
    sk_store(&sh->word, 1, SK_RELEASE);
    shmkit__notify(&ws, 2, &sh->word, &sh->waiters);
    woke = wakes() - before;
    for (k = 0; k < NWAITERS; k++)
        status[k] = reap(pids[k], CHILD_TIMEOUT_MS);
    ck_assert(ready);
    ck_assert_int_ne(slept, 0);
    ck_assert_uint_eq(woke, 1);
    for (k = 0; k < NWAITERS; k++)
        ck_assert_msg(status[k] == 0, "waiter %u: exit %d, rc -%u", k, status[k],
                      load(&sh->result[k]));
    /* Consumed by the wake-up; nobody asked again (all saw the change). */
    if (slept == 1)
        ck_assert_int_eq(asked(&sh->waiters), 0);
    finish();
}
END_TEST

/* The same, round after round: in each round every waiter sleeps, then one
 * notify must wake them all.  A lost wake-up stops a waiter until its
 * timeout and fails the test; the wake calls are counted too: at most one
 * per round, however many waiters asked. */
START_TEST(test_many_waiters_many_rounds)
{
    enum { NWAITERS = 3, ROUNDS = 150 };
    pid_t pids[NWAITERS];
    int status[NWAITERS];
    uint32_t r, before, stuck = 0;
    unsigned k;

    begin(_i);
    for (k = 0; k < NWAITERS; k++) {
        pids[k] = spawn();
        if (pids[k] == 0) {
            for (r = 1; r <= ROUNDS; r++) {
                int rc = shmkit__wait_changed(&ws, 0, &sh->word, r - 1, &sh->waiters, -1,
                                              k == 0 ? SK_WAIT_MODE_ADAPTIVE : SK_WAIT_MODE_BLOCK);

                if (rc != 0 || load(&sh->word) != r)
                    _exit(1);
                sk_store(&sh->result[k], r, SK_RELEASE);
            }
            _exit(0);
        }
    }
    before = wakes();
    for (r = 1; r <= ROUNDS && stuck == 0; r++) {
        for (k = 0; k < NWAITERS; k++)
            if (!await_value(&sh->result[k], r - 1, ROUND_TIMEOUT_MS))
                stuck = r;
        if (stuck == 0 && await_sleepers(pids, NWAITERS, ROUND_TIMEOUT_MS) == 0)
            stuck = r;
        sk_store(&sh->word, r, SK_RELEASE);
        shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
    }
    for (k = 0; k < NWAITERS; k++)
        status[k] = reap(pids[k], ROUND_TIMEOUT_MS); /* kills a stuck one */
    ck_assert_msg(stuck == 0, "a waiter was not woken before round %u", stuck);
    for (k = 0; k < NWAITERS; k++)
        ck_assert_msg(status[k] == 0, "waiter %u failed (round %u)", k,
                      load(&sh->result[k]) + 1);
    ck_assert_uint_le(wakes() - before, ROUNDS);
    ck_assert_uint_ge(wakes() - before, ROUNDS / 2); /* they did sleep and ask */
    finish();
}
END_TEST

/* ---- the lost wake-up of issue 11, forced -------------------------- */

#if defined(SHMKIT_TEST_HOOKS)
/* Hook for waiter B: stop at "wait-before-sleep" (it asked for a wake-up
 * and saw the word unchanged; the kernel sleep is next) while sh->hold. */
static void hold_before_sleep(const char *point)
{
    uint64_t end = now_ns() + 20000 * MS;

    if (strcmp(point, "wait-before-sleep") != 0 || !load(&sh->hold))
        return;
    sk_store(&sh->held, 1, SK_RELEASE);
    while (load(&sh->hold) && now_ns() < end)
        shmkit__sleep_ns(200000);
}

/* The interleaving of issue 11, step by step: reader B asks for a wake-up
 * and sees the word unchanged; before it enters the kernel, the writer
 * publishes, takes the request and wakes A, which was asleep; A sees the
 * new word, asks again and sleeps; then B goes on into the kernel.  B must
 * not sleep: its word has changed (with shmkit 0.1's one-bit request B
 * found the 1 that A had set again and slept until the next publication;
 * this test then failed after its 3 s bound). */
START_TEST(test_forced_aba_interleaving)
{
    pid_t a, b, both[2];
    int status_a, status_b, b_done;
    uint32_t before;

    if (begin(_i) == SK_MECH_POLL) {
        /* Pollers watch the word itself: there is no sleep to hold. */
        finish();
        return;
    }
    a = spawn();
    if (a == 0) {
        int rc = shmkit__wait_changed(&ws, 0, &sh->word, 0, &sh->waiters, -1, SK_WAIT_MODE_BLOCK);

        if (rc != 0 || load(&sh->word) != 1)
            _exit(1);
        sk_store(&sh->phase, 1, SK_RELEASE); /* saw version 1, waits for 2 */
        rc = shmkit__wait_changed(&ws, 0, &sh->word, 1, &sh->waiters, -1, SK_WAIT_MODE_BLOCK);
        _exit(rc == 0 && load(&sh->word) == 2 ? 0 : 2);
    }
    ck_assert(await_asked(&sh->waiters, CHILD_TIMEOUT_MS));
    ck_assert_int_ne(await_sleepers(&a, 1, CHILD_TIMEOUT_MS), 0);

    sk_store(&sh->hold, 1, SK_RELEASE);
    b = spawn();
    if (b == 0) {
        int rc;

        shmkit__hook_point_fn = hold_before_sleep;
        rc = shmkit__wait_changed(&ws, 0, &sh->word, 0, &sh->waiters, -1, SK_WAIT_MODE_BLOCK);
        sk_store(&sh->result[0], (uint32_t)-rc, SK_RELEASE);
        sk_store(&sh->result[1], load(&sh->word), SK_RELEASE);
        sk_store(&sh->flag, 1, SK_RELEASE);
        _exit(0);
    }
    ck_assert(await_value(&sh->held, 1, CHILD_TIMEOUT_MS));

    /* The writer publishes version 1 and takes the request: A wakes.  The
     * request is consumed: it is no longer the value A and B asked in (A
     * may already have woken and asked again, which is a new value too;
     * with 0.1's one-bit flag it could be the same 1). */
    before = load(&sh->waiters);
    sk_store(&sh->word, 1, SK_RELEASE);
    shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
    ck_assert_uint_ne(load(&sh->waiters), before);
    /* A asks again and sleeps (for version 2). */
    ck_assert(await_value(&sh->phase, 1, CHILD_TIMEOUT_MS));
    ck_assert(await_asked(&sh->waiters, CHILD_TIMEOUT_MS));
    ck_assert_int_ne(await_sleepers(&a, 1, CHILD_TIMEOUT_MS), 0);

    /* Now B enters the kernel: it must come back at once. */
    sk_store(&sh->hold, 0, SK_RELEASE);
    b_done = await_value(&sh->flag, 1, 3000);

    /* Version 2 ends A's wait (and a B that slept through version 1). */
    sk_store(&sh->word, 2, SK_RELEASE);
    shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
    both[0] = a;
    both[1] = b;
    status_a = reap(both[0], CHILD_TIMEOUT_MS);
    status_b = reap(both[1], CHILD_TIMEOUT_MS);
    ck_assert_msg(b_done, "%s: reader B slept although the word had changed (lost wake-up)",
                  shmkit__wait_mechanism_name(ws.mech));
    ck_assert_uint_eq(load(&sh->result[0]), 0);
    ck_assert_uint_eq(load(&sh->result[1]), 1);
    ck_assert_int_eq(status_a, 0);
    ck_assert_int_eq(status_b, 0);
    finish();
}
END_TEST
#endif /* SHMKIT_TEST_HOOKS */

/* ---- signals ------------------------------------------------------- */

static void count_signal(int sig)
{
    (void)sig;
    sk_fetch_add(&sh->signals, 1u, SK_RELAXED);
}

/* The child: a first wait interrupted by SIGUSR1 (handler without
 * SA_RESTART), then a second wait that must still get its wake-up. */
static void eintr_child(int mode)
{
    struct sigaction sa;
    int rc;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        _exit(3);
    sk_store(&sh->flag, 1, SK_RELEASE); /* handler installed */
    rc = shmkit__wait_changed(&ws, 0, &sh->word, 0, &sh->waiters, 20000, mode);
    sk_store(&sh->result[0], (uint32_t)-rc, SK_RELEASE);
    sk_store(&sh->flag, 2, SK_RELEASE); /* first wait over */
    do /* a late signal may interrupt this one too: waiting again is safe */
        rc = shmkit__wait_changed(&ws, 0, &sh->word, 0, &sh->waiters, CHILD_TIMEOUT_MS, mode);
    while (rc == -EINTR);
    sk_store(&sh->result[1], (uint32_t)-rc, SK_RELEASE);
    sk_store(&sh->result[2], load(&sh->word), SK_RELEASE);
    _exit(0);
}

static void eintr_case(int mode)
{
    pid_t pid;
    uint64_t end;
    int slept;

    sk_store(&sh->word, 0, SK_RELEASE);
    sk_store(&sh->flag, 0, SK_RELEASE);
    sk_store(&sh->signals, 0, SK_RELEASE);
    pid = spawn();
    if (pid == 0)
        eintr_child(mode);
    ck_assert(await_value(&sh->flag, 1, CHILD_TIMEOUT_MS));
    ck_assert(await_asked(&sh->waiters, CHILD_TIMEOUT_MS));
    /* A signal may land just before the child enters the kernel; keep
     * signalling until its wait returns. */
    end = now_ns() + CHILD_TIMEOUT_MS * MS;
    while (load(&sh->flag) != 2 && now_ns() < end) {
        kill(pid, SIGUSR1);
        sleep_ms(20);
    }
    ck_assert_uint_eq(load(&sh->flag), 2);
    /* The second wait asks for a wake-up (the first one's request may
     * still be there) and sleeps; then the wake-up must reach it. */
    ck_assert(await_asked(&sh->waiters, CHILD_TIMEOUT_MS));
    slept = await_sleepers(&pid, 1, CHILD_TIMEOUT_MS);
    ck_assert_int_ne(slept, 0);
    sk_store(&sh->word, 1, SK_RELEASE);
    shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
    ck_assert_int_eq(reap(pid, CHILD_TIMEOUT_MS + 2000), 0);
    ck_assert_uint_ge(load(&sh->signals), 1);
    ck_assert_msg(load(&sh->result[0]) == EINTR, "%s: first wait: rc -%u", mode_name(mode),
                  load(&sh->result[0]));
    ck_assert_msg(load(&sh->result[1]) == 0, "%s: second wait: rc -%u", mode_name(mode),
                  load(&sh->result[1]));
    ck_assert_uint_eq(load(&sh->result[2]), 1);
    if (slept == 1)
        ck_assert_int_eq(asked(&sh->waiters), 0); /* consumed by the wake-up */
}

START_TEST(test_signal_interrupts_wait)
{
    begin(_i);
    eintr_case(SK_WAIT_MODE_BLOCK);
    eintr_case(SK_WAIT_MODE_ADAPTIVE);
    finish();
}
END_TEST

/* An untimed wait ended by signals (SIGUSR1 every 30 ms) whose handler
 * counts them in sh->signals.  RESTART installs it with SA_RESTART.
 * EXPECT_EINTR: the wait must return -EINTR within 3 s; otherwise it must
 * go on through 3 handled signals and return 0 at the next change. */
static void signal_case(int mode, int restart, int timeout_ms, int expect_eintr)
{
    const char *what = restart ? "SA_RESTART" : "no SA_RESTART";
    uint64_t end;
    pid_t pid;
    int done;

    sk_store(&sh->word, 0, SK_RELEASE);
    sk_store(&sh->flag, 0, SK_RELEASE);
    sk_store(&sh->signals, 0, SK_RELEASE);
    pid = spawn();
    if (pid == 0) {
        struct sigaction sa;
        int rc;

        memset(&sa, 0, sizeof sa);
        sa.sa_handler = count_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = restart ? SA_RESTART : 0;
        if (sigaction(SIGUSR1, &sa, NULL) != 0)
            _exit(3);
        sk_store(&sh->flag, 1, SK_RELEASE);
        rc = shmkit__wait_changed(&ws, 0, &sh->word, 0, &sh->waiters, timeout_ms, mode);
        sk_store(&sh->result[0], (uint32_t)-rc, SK_RELEASE);
        sk_store(&sh->flag, 2, SK_RELEASE);
        _exit(0);
    }
    ck_assert(await_value(&sh->flag, 1, CHILD_TIMEOUT_MS));
    end = now_ns() + (expect_eintr ? 3000 : CHILD_TIMEOUT_MS) * MS;
    while (load(&sh->flag) == 1 && now_ns() < end &&
           (expect_eintr || load(&sh->signals) < 3)) {
        kill(pid, SIGUSR1);
        sleep_ms(30);
    }
    done = load(&sh->flag) == 2;
    if (!expect_eintr) {
        ck_assert_msg(!done, "%s/%s, %s: the wait returned -%u after a signal",
                      shmkit__wait_mechanism_name(ws.mech), mode_name(mode), what,
                      load(&sh->result[0]));
        sk_store(&sh->word, 1, SK_RELEASE);
        shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
        done = await_value(&sh->flag, 2, CHILD_TIMEOUT_MS);
    }
    ck_assert_int_eq(reap(pid, CHILD_TIMEOUT_MS), done ? 0 : -1);
    ck_assert_msg(done, "%s/%s, %s: the wait did not return", shmkit__wait_mechanism_name(ws.mech),
                  mode_name(mode), what);
    ck_assert_uint_ge(load(&sh->signals), 1);
    ck_assert_msg(load(&sh->result[0]) == (expect_eintr ? EINTR : 0u),
                  "%s/%s, %s: rc -%u", shmkit__wait_mechanism_name(ws.mech), mode_name(mode), what,
                  load(&sh->result[0]));
}

/* shmkit.h: an untimed wait returns -EINTR when a handler installed
 * without SA_RESTART ran, in every mode (shmkit 0.1 spun on for ever in
 * the spin mode). */
START_TEST(test_signal_ends_untimed_wait)
{
    unsigned m;

    begin(_i);
    for (m = 0; m < 3; m++)
        signal_case(all_modes[m], 0, -1, 1);
    finish();
}
END_TEST

/* What SA_RESTART changes (documented in shmkit_set_wait_mode(3)): a
 * spinning wait goes on, as does a futex sleep without a deadline (the
 * kernel restarts it); semop and the polling naps are never restarted:
 * -EINTR; a futex sleep with a deadline is not restarted either. */
START_TEST(test_signal_with_sa_restart)
{
    int mech = begin(_i);
    int kernel_restarts = mech == SK_MECH_FUTEX;

    signal_case(SK_WAIT_MODE_SPIN, 1, -1, 0);
    signal_case(SK_WAIT_MODE_ADAPTIVE, 1, -1, !kernel_restarts);
    signal_case(SK_WAIT_MODE_BLOCK, 1, -1, !kernel_restarts);
    if (mech == SK_MECH_FUTEX)
        signal_case(SK_WAIT_MODE_BLOCK, 1, 20000, 1);
    finish();
}
END_TEST

/* ---- costs --------------------------------------------------------- */

static double children_cpu_seconds(void)
{
    struct rusage ru;

    ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6
           + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A waiter blocked for 1 s in adaptive mode uses under 5% of a core: the
 * spin phase is bounded.  A reader that cannot register naps 1 ms at a
 * time (about 1% of a core here): it gets twice the allowance, for loaded
 * machines. */
START_TEST(test_idle_waiter_uses_little_cpu)
{
    int mech = begin(_i);
    int variant;

    for (variant = 0; variant < 2; variant++) {
        double before = children_cpu_seconds(), used;
        pid_t pid = spawn();

        if (pid == 0) {
            int rc = shmkit__wait_changed(&ws, 0, &sh->word, 0, variant ? NULL : &sh->waiters, 1000,
                                          SK_WAIT_MODE_ADAPTIVE);

            _exit(rc == -ETIMEDOUT ? 0 : 1);
        }
        ck_assert_int_eq(reap(pid, CHILD_TIMEOUT_MS), 0);
        used = children_cpu_seconds() - before;
        fprintf(stderr, "# idle wait %s%s: %.2f%% of a core for 1 s\n",
                shmkit__wait_mechanism_name(mech), variant ? " (unregistered)" : "", used * 100.0);
        ck_assert_msg(used < (variant ? 0.10 : 0.05), "%s: %.3f s of CPU in a 1 s wait",
                      shmkit__wait_mechanism_name(mech), used);
    }
    finish();
}
END_TEST

/* A writer pays no wake-up call when nobody waits. */
START_TEST(test_notify_without_waiters_skips_wake)
{
    uint32_t before;

    begin(_i);
    before = wakes();
    sk_store(&sh->word, 1, SK_RELEASE);
    shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
    ck_assert_uint_eq(wakes(), before);
    sk_store(&sh->waiters, 1, SK_RELEASE); /* somebody asked for a wake-up */
    sk_store(&sh->word, 2, SK_RELEASE);
    shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
    ck_assert_uint_eq(wakes(), before + 1);
    /* The request is consumed: a stream of publications does not keep
     * waking a waiter that has not gone back to sleep yet. */
    ck_assert_int_eq(asked(&sh->waiters), 0);
    sk_store(&sh->word, 3, SK_RELEASE);
    shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
    ck_assert_uint_eq(wakes(), before + 1);
    finish();
}
END_TEST

/* ---- System V semaphore sets --------------------------------------- */

#if defined(TEST_HAVE_SEM)
/* The fourth argument of semctl (Linux leaves it to the caller). */
union test_semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

/* 1 if `ipcs -s` lists SEMID, 0 if not, -1 if ipcs cannot be run. */
static int ipcs_lists(int semid)
{
    char line[512], id[32];
    FILE *p = popen("ipcs -s 2>/dev/null", "r");
    int found = 0, lines = 0;

    if (p == NULL)
        return -1;
    snprintf(id, sizeof id, "%d", semid);
    while (fgets(line, sizeof line, p) != NULL) {
        char *save = NULL, *tok = strtok_r(line, " \t\n", &save);

        lines++;
        /* Linux: "key semid owner ..."; BSD: "s ID KEY ...": the second column. */
        if (tok != NULL && (tok = strtok_r(NULL, " \t\n", &save)) != NULL && strcmp(tok, id) == 0)
            found = 1;
    }
    if (pclose(p) != 0 || lines == 0)
        return -1;
    return found;
}

START_TEST(test_semaphore_set_removed)
{
    struct semid_ds ds;
    union test_semun arg;
    int semid, listed;

    begin(_i);
    semid = ws.semid;
    ck_assert_int_ge(semid, 0);
    listed = ipcs_lists(semid);
    if (listed < 0)
        fprintf(stderr, "# ipcs -s unavailable: checking with semctl only\n");
    else
        ck_assert_int_eq(listed, 1);
    arg.buf = &ds;
    ck_assert_int_eq(semctl(semid, 0, IPC_STAT, arg), 0);
    ck_assert_int_eq(ds.sem_nsems, SK_WAIT_WORDS);
    finish();
    ck_assert_int_ne(semctl(semid, 0, IPC_STAT, arg), 0);
    ck_assert(errno == EINVAL || errno == EIDRM);
    if (listed >= 0)
        ck_assert_int_eq(ipcs_lists(semid), 0);
}
END_TEST

/* The generation semaphore wraps from SK_SEM_GEN_LIMIT back to 1; waiters
 * blocked across the wrap must still be woken. */
START_TEST(test_semaphore_generation_wraps)
{
    union test_semun arg;
    pid_t pid;
    uint32_t r;
    int semval;

    begin(_i);
    arg.val = SK_SEM_GEN_LIMIT - 1;
    ck_assert_int_eq(semctl(ws.semid, 0, SETVAL, arg), 0);
    pid = spawn();
    if (pid == 0) {
        for (r = 1; r <= 3; r++) {
            int rc = shmkit__wait_changed(&ws, 0, &sh->word, r - 1, &sh->waiters, CHILD_TIMEOUT_MS,
                                          SK_WAIT_MODE_BLOCK);

            if (rc != 0)
                _exit(10 + (int)r);
            sk_store(&sh->reply, r, SK_RELEASE);
        }
        _exit(0);
    }
    for (r = 1; r <= 3; r++) {
        ck_assert(await_asked(&sh->waiters, CHILD_TIMEOUT_MS));
        sleep_ms(30); /* blocked in semop by now */
        sk_store(&sh->word, r, SK_RELEASE);
        shmkit__notify(&ws, 0, &sh->word, &sh->waiters);
        ck_assert_msg(await_value(&sh->reply, r, CHILD_TIMEOUT_MS), "round %u not woken", r);
    }
    ck_assert_int_eq(reap(pid, CHILD_TIMEOUT_MS), 0);
    /* LIMIT-1 -> LIMIT -> 1 (wrapped) -> 2 */
    semval = semctl(ws.semid, 0, GETVAL);
    ck_assert_int_eq(semval, 2);
    finish();
}
END_TEST
#endif /* TEST_HAVE_SEM */

/* ---- attaching to a segment's record -------------------------------- */

START_TEST(test_attach_checks_the_record)
{
    struct sk_waitset a;
    int build = shmkit__wait_build_mechanism();

    shmkit__waitset_attach(&a, 999, 5);
    ck_assert_int_eq(a.mech, SK_MECH_POLL);
    ck_assert_int_eq(a.wake_mech, SK_MECH_POLL);
    ck_assert_int_eq(a.semid, -1);
    shmkit__waitset_attach(&a, SK_MECH_POLL, -1);
    ck_assert_int_eq(a.mech, SK_MECH_POLL);
    if (build != SK_MECH_SYSV_SEM) {
        shmkit__waitset_attach(&a, build, -1);
        ck_assert_int_eq(a.mech, build);
        ck_assert_int_eq(a.wake_mech, build);
        ck_assert_int_eq(a.semid, -1);
    }
    /* A futex segment opened by a build that must not wait on futexes
     * (the portable profile) still wakes its futex waiters. */
    shmkit__waitset_attach(&a, SK_MECH_FUTEX, -1);
    ck_assert_int_eq(a.mech,
                     shmkit__wait_mechanism_usable(SK_MECH_FUTEX) ? SK_MECH_FUTEX : SK_MECH_POLL);
#if defined(SHMKIT_HAVE_LINUX_FUTEX)
    ck_assert_int_eq(a.wake_mech, SK_MECH_FUTEX);
#else
    ck_assert_int_eq(a.wake_mech, SK_MECH_POLL);
#endif
    /* A semaphore set that is missing, or not one of ours. */
    shmkit__waitset_attach(&a, SK_MECH_SYSV_SEM, -1);
    ck_assert_int_eq(a.mech, SK_MECH_POLL);
    ck_assert_int_eq(a.semid, -1);
#if defined(TEST_HAVE_SEM)
    if (shmkit__wait_mechanism_usable(SK_MECH_SYSV_SEM)) {
        struct sk_waitset made;
        int foreign = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);

        ck_assert_int_ge(foreign, 0);
        shmkit__waitset_attach(&a, SK_MECH_SYSV_SEM, foreign);
        ck_assert_int_eq(a.mech, SK_MECH_POLL);
        ck_assert_int_eq(a.semid, -1);
        ck_assert_int_eq(semctl(foreign, 0, IPC_RMID), 0);

        ck_assert_int_eq(shmkit__waitset_create_with(&made, SK_MECH_SYSV_SEM, 0600), 0);
        shmkit__waitset_attach(&a, SK_MECH_SYSV_SEM, made.semid);
        ck_assert_int_eq(a.mech, SK_MECH_SYSV_SEM);
        ck_assert_int_eq(a.wake_mech, SK_MECH_SYSV_SEM);
        ck_assert_int_eq(a.semid, made.semid);
        shmkit__waitset_destroy(&made);
        ck_assert_int_eq(made.semid, -1);
        /* Removed under our feet: waits fall back to polling. */
        {
            sk_atomic_u32 w = 0, n = 0;

            ck_assert_int_eq(shmkit__wait_changed(&a, 0, &w, 0, &n, 50, SK_WAIT_MODE_BLOCK),
                             -ETIMEDOUT);
            shmkit__wake_all(&a, 0, &w);
            ck_assert_uint_eq(n, 1); /* the timed-out waiter's request stays */
        }
    }
#endif
}
END_TEST

START_TEST(test_mechanism_names)
{
    static const int all[] = {SK_MECH_POLL, SK_MECH_FUTEX, SK_MECH_UMTX, SK_MECH_OPENBSD_FUTEX,
                              SK_MECH_NETBSD_FUTEX, SK_MECH_DARWIN, SK_MECH_SYSV_SEM};
    unsigned i, j;

    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        ck_assert_str_ne(shmkit__wait_mechanism_name(all[i]), "unknown");
        for (j = 0; j < i; j++)
            ck_assert_str_ne(shmkit__wait_mechanism_name(all[i]),
                             shmkit__wait_mechanism_name(all[j]));
    }
    ck_assert_str_eq(shmkit__wait_mechanism_name(0), "unknown");
    ck_assert_str_eq(shmkit__wait_mechanism_name(SK_MECH_SYSV_SEM + 1), "unknown");
    ck_assert_str_eq(shmkit__wait_mechanism_name(SK_MECH_POLL), "poll");
#ifdef SHMKIT_MECH_NAME
    ck_assert_str_eq(shmkit__wait_mechanism_name(shmkit__wait_build_mechanism()),
                     SHMKIT_MECH_NAME);
#endif
    ck_assert(shmkit__wait_mechanism_usable(shmkit__wait_build_mechanism()));
    ck_assert(shmkit__wait_mechanism_usable(SK_MECH_POLL));
    ck_assert(!shmkit__wait_mechanism_usable(0));
    ck_assert(!shmkit__wait_mechanism_usable(999));
    fprintf(stderr, "# build mechanism: %s\n",
            shmkit__wait_mechanism_name(shmkit__wait_build_mechanism()));
}
END_TEST

/* ---- suite ---------------------------------------------------------- */

static void add_mech(int mech)
{
    int k;

    for (k = 0; k < nmechs; k++)
        if (mechs[k] == mech)
            return;
    if (shmkit__wait_mechanism_usable(mech))
        mechs[nmechs++] = mech;
}

static Suite *wait_suite(void)
{
    Suite *s = suite_create("wait");
    TCase *common = tu_tcase(s, "common");
    int k;

    add_mech(shmkit__wait_build_mechanism());
    add_mech(SK_MECH_POLL);
    add_mech(SK_MECH_SYSV_SEM);
    tcase_add_test(common, test_mechanism_names);
    tcase_add_test(common, test_attach_checks_the_record);
    for (k = 0; k < nmechs; k++) {
        TCase *tc = tu_tcase(s, shmkit__wait_mechanism_name(mechs[k]));

        tcase_set_timeout(tc, 300);
        tcase_add_loop_test(tc, test_timeout_accuracy, k, k + 1);
        tcase_add_loop_test(tc, test_immediate_return_when_changed, k, k + 1);
        tcase_add_loop_test(tc, test_timeout_zero_only_checks, k, k + 1);
        tcase_add_loop_test(tc, test_wake_from_other_process, k, k + 1);
        tcase_add_loop_test(tc, test_pingpong_adaptive, k, k + 1);
        tcase_add_loop_test(tc, test_pingpong_spin, k, k + 1);
        tcase_add_loop_test(tc, test_pingpong_blocking, k, k + 1);
        tcase_add_loop_test(tc, test_one_notify_wakes_all_waiters, k, k + 1);
        tcase_add_loop_test(tc, test_many_waiters_many_rounds, k, k + 1);
#if defined(SHMKIT_TEST_HOOKS)
        tcase_add_loop_test(tc, test_forced_aba_interleaving, k, k + 1);
#endif
        tcase_add_loop_test(tc, test_signal_interrupts_wait, k, k + 1);
        tcase_add_loop_test(tc, test_signal_ends_untimed_wait, k, k + 1);
        tcase_add_loop_test(tc, test_signal_with_sa_restart, k, k + 1);
        tcase_add_loop_test(tc, test_idle_waiter_uses_little_cpu, k, k + 1);
        tcase_add_loop_test(tc, test_notify_without_waiters_skips_wake, k, k + 1);
#if defined(TEST_HAVE_SEM)
        if (mechs[k] == SK_MECH_SYSV_SEM) {
            tcase_add_loop_test(tc, test_semaphore_set_removed, k, k + 1);
            tcase_add_loop_test(tc, test_semaphore_generation_wraps, k, k + 1);
        }
#endif
    }
    return s;
}

int main(void)
{
    return tu_run(wait_suite());
}
