/*
 * peerutil.c - helpers of the crashing- and hostile-peer suites.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "peerutil.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the run and time ----------------------------------------------- */

unsigned pu_scale(void)
{
    const char *env = getenv("SHMKIT_CRASH_SCALE");
    long v = env != NULL ? strtol(env, NULL, 10) : 1;

    return v < 1 ? 1u : v > 100 ? 100u : (unsigned)v;
}

void pu_announce_seed(const char *suite)
{
    printf("# %s: seed %llu (SHMKIT_TEST_SEED=%llu repeats the random choices), scale %u\n",
           suite, (unsigned long long)tu_seed(), (unsigned long long)tu_seed(), pu_scale());
    fflush(stdout);
}

void pu_delay_ns(uint64_t ns)
{
    struct timespec ts;

    if (ns < 100000u) {
        uint64_t end = tu_now_ns() + ns;
        while (tu_now_ns() < end)
            ;
        return;
    }
    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

uint64_t pu_kill_delay_ns(uint64_t *rng)
{
    switch (tu_below(rng, 8)) {
    case 0: return 0;                                     /* start-up, open */
    case 1: case 2: return tu_below(rng, 50000);          /* first calls */
    case 3: case 4: case 5: return 50000 + tu_below(rng, 950000);
    default: return 1000000 + tu_below(rng, 3000000);
    }
}

/* ---- shared state and failures -------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 0)))
#endif
static void vfail(struct pu_report *r, const char *fmt, va_list ap)
{
    if (__atomic_fetch_add(&r->failures, 1, __ATOMIC_ACQ_REL) == 0)
        vsnprintf(r->first, sizeof r->first, fmt, ap);
}

void pu_fail(struct pu_report *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(r, fmt, ap);
    va_end(ap);
}

void pu_child_die(struct pu_report *r, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfail(r, fmt, ap);
    va_end(ap);
    _exit(code);
}

/* ---- clean-up ------------------------------------------------------- */

#define MAX_TRACKED 64
static pid_t tracked_pids[MAX_TRACKED];
static pid_t tracking_process;

static void cleanup_at_exit(void)
{
    /* Children inherit the handler: only the process that registered it
     * cleans up (children leave with _exit anyway). */
    if (getpid() == tracking_process)
        pu_cleanup();
}

static void ensure_handler(void)
{
    if (tracking_process != getpid()) {
        tracking_process = getpid();
        memset(tracked_pids, 0, sizeof tracked_pids);
        atexit(cleanup_at_exit);
    }
}

void pu_track_pid(pid_t pid)
{
    int i;

    ensure_handler();
    for (i = 0; i < MAX_TRACKED; i++)
        if (tracked_pids[i] == 0) {
            tracked_pids[i] = pid;
            return;
        }
    abort(); /* a test bug: too many children at once */
}

void pu_untrack_pid(pid_t pid)
{
    int i;

    for (i = 0; i < MAX_TRACKED; i++)
        if (tracked_pids[i] == pid)
            tracked_pids[i] = 0;
}

void pu_cleanup(void)
{
    size_t i;

    for (i = 0; i < MAX_TRACKED; i++)
        if (tracked_pids[i] > 0) {
            kill(tracked_pids[i], SIGKILL);
            while (waitpid(tracked_pids[i], NULL, 0) < 0 && errno == EINTR)
                ;
            tracked_pids[i] = 0;
        }
    tu_remove_names();
}

pid_t pu_spawn(int (*fn)(void *), void *arg, unsigned alarm_s)
{
    pid_t pid = fork();

    if (pid < 0) {
        perror("fork");
        abort();
    }
    if (pid == 0) {
        alarm(alarm_s);
        _exit(fn(arg));
    }
    pu_track_pid(pid);
    return pid;
}

int pu_reap(pid_t pid, int timeout_ms)
{
    int status = tu_wait(pid, timeout_ms);

    pu_untrack_pid(pid);
    return status;
}

int pu_wait_flag(const volatile int *flag, int timeout_ms)
{
    uint64_t deadline = tu_now_ns() + (uint64_t)timeout_ms * 1000000u;

    while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) == 0) {
        if (tu_now_ns() >= deadline)
            return 0;
        pu_delay_ns(200000);
    }
    return 1;
}

/* ---- self-checking messages ------------------------------------------ */

static uint32_t head_check(const struct pu_msg_head *h)
{
    return (uint32_t)tu_mix(h->n ^ ((uint64_t)h->gen << 32 | h->idx) ^
                            ((uint64_t)h->len << 48));
}

static unsigned char body_byte(uint64_t seed, size_t k)
{
    return (unsigned char)((seed >> ((k & 7u) * 8u)) + k * 131u);
}

void pu_msg_fill(void *buf, size_t len, uint64_t n, uint32_t gen, uint32_t idx)
{
    unsigned char *p = buf;
    struct pu_msg_head h;
    uint64_t seed;
    size_t k;

    h.n = n;
    h.gen = gen;
    h.idx = idx;
    h.len = (uint32_t)len;
    h.check = head_check(&h);
    seed = tu_mix(h.check ^ n);
    memcpy(p, &h, sizeof h);
    for (k = sizeof h; k < len; k++)
        p[k] = body_byte(seed, k);
}

int pu_msg_check(const void *buf, size_t len, struct pu_msg_head *head, char *why,
                 size_t whylen)
{
    const unsigned char *p = buf;
    uint64_t seed;
    size_t k;

    if (len < sizeof *head) {
        snprintf(why, whylen, "message of %zu bytes, shorter than its head", len);
        return -1;
    }
    memcpy(head, p, sizeof *head);
    if (head->len != len || head->check != head_check(head)) {
        snprintf(why, whylen, "bad head (n %llu gen %u idx %u len %u, %zu bytes received)",
                 (unsigned long long)head->n, head->gen, head->idx, head->len, len);
        return -1;
    }
    seed = tu_mix(head->check ^ head->n);
    for (k = sizeof *head; k < len; k++)
        if (p[k] != body_byte(seed, k)) {
            snprintf(why, whylen, "message %llu (gen %u idx %u) torn at byte %zu of %zu",
                     (unsigned long long)head->n, head->gen, head->idx, k, len);
            return -1;
        }
    return 0;
}
