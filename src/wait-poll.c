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
#include <stddef.h>
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

int shmkit__wait_poll_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline,
                            uint64_t max_step)
{
    uint64_t step = SK_POLL_MIN_NS;

    for (;;) {
        int rc;

        if (sk_load(word, SK_ACQUIRE) != expected)
            return 0;
        rc = shmkit__wait_nap_until(step, deadline);
        if (rc != 0)
            return rc;
        if (step < max_step)
            step = step * 2 < max_step ? step * 2 : max_step;
    }
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
