/*
 * wait-poll.c - time for the wait layer, and the polling mechanism.
 *
 * Every mechanism turns its deadline into a timeout here
 * (shmkit__wait_timeout), and naps here when its primitive fails.  Polling --
 * nanosleep with backoff, watching the word itself -- is the mechanism of
 * last resort: always compiled, what a process uses when it cannot use a
 * segment's mechanism, and what a reader that cannot register as a waiter
 * does.  It needs nobody to wake it, so its wake-up does nothing.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "error.h"
#include "proc.h"
#include "wait-mech.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/select.h>
#include <time.h>

struct timespec shmkit__timespec_from_ns(uint64_t ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / SK_NS_PER_SEC);
    ts.tv_nsec = (long)(ns % SK_NS_PER_SEC);
    return ts;
}

int shmkit__wait_timeout(uint64_t deadline, struct shmkit__wait_timeout *t)
{
    uint64_t now;

    t->deadline = deadline;
    t->left_ns = 0;
    t->rel.tv_sec = 0;
    t->rel.tv_nsec = 0;
    if (deadline == 0)
        return 0;
    now = shmkit__monotonic_ns();
    if (now >= deadline)
        return -ETIMEDOUT;
    t->left_ns = deadline - now;
    t->rel = shmkit__timespec_from_ns(t->left_ns);
    return 0;
}

int shmkit__wait_nap_until(uint64_t ns, uint64_t deadline)
{
    struct shmkit__wait_timeout t;
    struct timespec ts;

    if (shmkit__wait_timeout(deadline, &t) != 0)
        return -ETIMEDOUT;
    if (deadline != 0 && t.left_ns < ns)
        ns = t.left_ns;
    ts = shmkit__timespec_from_ns(ns);
    if (nanosleep(&ts, NULL) == 0)
        return 0;
    return errno == EINTR ? -EINTR : 0;
}

int shmkit__wait_block_signals(sigset_t *saved)
{
    sigset_t block;

    sigfillset(&block);
    sigdelset(&block, SIGBUS);
    sigdelset(&block, SIGSEGV);
    sigdelset(&block, SIGFPE);
    sigdelset(&block, SIGILL);
    sigdelset(&block, SIGTRAP);
#if defined(SIGSYS)
    sigdelset(&block, SIGSYS);
#endif
    return pthread_sigmask(SIG_BLOCK, &block, saved) == 0;
}

/*
 * A poller spends part of its wait in user space between naps, and a
 * signal handler that ran there would leave no trace (the next nap would
 * not be interrupted), although shmkit.h promises -EINTR "if a signal
 * handler ran"; under load, when a woken poller waits for a CPU, that is
 * a large part of the wait.  So signals stay blocked while the word is
 * looked at, and each nap unblocks them atomically (pselect with the
 * caller's mask): a handler can only run inside a nap, which then
 * returns EINTR.
 */
int shmkit__wait_poll_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline,
                            uint64_t max_step)
{
    uint64_t step = SK_POLL_MIN_NS;
    sigset_t saved;
    int masked = shmkit__wait_block_signals(&saved), rc;

    for (;;) {
        struct shmkit__wait_timeout t;
        struct timespec ts;
        int slept;

        if (sk_load(word, SK_ACQUIRE) != expected) {
            rc = 0;
            break;
        }
        if (shmkit__wait_timeout(deadline, &t) != 0) {
            rc = -ETIMEDOUT;
            break;
        }
        ts = shmkit__timespec_from_ns(deadline != 0 && t.left_ns < step ? t.left_ns : step);
        slept = masked ? pselect(0, NULL, NULL, NULL, &ts, &saved) : nanosleep(&ts, NULL);
        if (slept != 0 && errno == EINTR) {
            rc = -EINTR;
            break;
        }
        if (step < max_step)
            step = step * 2 < max_step ? step * 2 : max_step;
    }
    if (masked)
        (void)pthread_sigmask(SIG_SETMASK, &saved, NULL);
    return rc;
}

static int poll_block(const struct sk_wait_sleep *s)
{
    return shmkit__wait_poll_block(s->word, s->expected, s->timeout.deadline, SK_POLL_MAX_NS);
}

/* The waiters look for themselves. */
static void poll_wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    (void)ws;
    (void)index;
    (void)word;
}

const struct sk_wait_ops shmkit__wait_poll_ops = {
    .mech = SK_MECH_POLL, .can_wait = 1, .block = poll_block, .wake_all = poll_wake_all,
};
