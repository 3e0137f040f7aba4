/*
 * wait-mech.h - the interface between the wait layer (wait.c: spinning,
 * the wake-request protocol, notify) and its blocking mechanisms, one file
 * each: wait-futex.c, wait-umtx.c, wait-openbsd.c, wait-netbsd.c,
 * wait-darwin.c, wait-sem.c and wait-poll.c.  Internal to the wait layer.
 *
 * A mechanism file is compiled when configure found its primitive on the
 * platform (an AM_CONDITIONAL in Makefile.am; wait-poll.c always), whatever
 * mechanism configure chose for new segments: a process can then still
 * wait on, or at least wake, the segments of another build.  Each file
 * defines one struct sk_wait_ops; wait.c lists the compiled ones and picks
 * by the mechanism number a segment records.
 *
 * The mechanisms never call wait.c: they use wait-poll.c (deadlines and
 * naps) and the hooks, nothing above.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_WAIT_MECH_H
#define SHMKIT_WAIT_MECH_H

/* First: the SHMKIT_HAVE_* and HAVE_* results, and what atomics.h reads. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <time.h>

#include <signal.h>

#include "atomics.h"
#include "wait.h"

#define SK_NS_PER_SEC 1000000000u

/* Polling backoff: first nap and longest nap. */
#define SK_POLL_MIN_NS 20000u
#define SK_POLL_MAX_NS 2000000u

/* A deadline turned into a timeout, by shmkit__wait_timeout (wait-poll.c). */
struct shmkit__wait_timeout {
    uint64_t deadline;     /* CLOCK_MONOTONIC nanoseconds, 0: none */
    uint64_t left_ns;      /* time left (> 0); 0 when there is no deadline */
    struct timespec rel;   /* LEFT_NS as a timespec */
};

/* The one place where an absolute deadline (shmkit__monotonic_ns time, 0: none)
 * becomes a relative timeout: -ETIMEDOUT if it has passed, else 0 with *T
 * filled in.  Recomputed before every kernel call. */
int shmkit__wait_timeout(uint64_t deadline, struct shmkit__wait_timeout *t);

/* T's relative timeout for calls that take a timespec: NULL (sleep without
 * a limit) when there is no deadline. */
static inline const struct timespec *sk_wait_timeout_rel(const struct shmkit__wait_timeout *t)
{
    return t->deadline != 0 ? &t->rel : NULL;
}

/* NS nanoseconds as a timespec (also for absolute CLOCK_MONOTONIC times). */
struct timespec shmkit__timespec_from_ns(uint64_t ns);

/* Nap for NS, or until DEADLINE (0: none) if that comes first: 0,
 * -ETIMEDOUT if the deadline has passed already, -EINTR if a signal handler
 * ran (never swallowed by a wait). */
int shmkit__wait_nap_until(uint64_t ns, uint64_t deadline);

/* Block the signals a handler could catch (never the faults: a blocked
 * SIGSEGV or SIGBUS kills whatever its handler) in the calling thread;
 * SAVED gets the mask before.  1 if they are blocked. */
int shmkit__wait_block_signals(sigset_t *saved);

/* Sleep while *WORD == EXPECTED, with exponential backoff from
 * SK_POLL_MIN_NS up to MAX_STEP, until DEADLINE (0: none): 0 once the word
 * differs, -ETIMEDOUT or -EINTR. */
int shmkit__wait_poll_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline,
                            uint64_t max_step);

/* One sleep, as shmkit__wait_block asks a mechanism for it. */
struct sk_wait_sleep {
    const struct sk_waitset *ws;
    unsigned index;                /* the wait index (selects a semaphore) */
    sk_atomic_u32 *word;
    uint32_t expected;             /* sleep while *WORD holds this */
    struct shmkit__wait_timeout timeout;
};

/* A mechanism.  Only BLOCK and WAKE_ALL are required; the others are NULL
 * for mechanisms that have no resources of their own in a segment. */
struct sk_wait_ops {
    int mech;        /* enum sk_wait_mech */
    int can_wait;    /* 0: this build only wakes the waiters of such a
                        segment (the portable profile and the Linux futex) */

    /* Sleep while *S->WORD == S->EXPECTED, until woken or S's deadline.
     * Returns 0 (woken, the word differs, or spuriously: the caller
     * re-checks), or the negative errno of the primitive: -EAGAIN (the
     * word differed), -ETIMEDOUT, -EINTR, -ECANCELED (a restarting
     * signal); any other error makes wait.c nap and report a spurious
     * wake-up, since there is then nothing to sleep on. */
    int (*block)(const struct sk_wait_sleep *s);

    /* Wake every process sleeping on WORD (INDEX: see sk_wait_sleep). */
    void (*wake_all)(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word);

    /* The creator makes the segment's resources with permission bits MODE
     * (sets WS->semid): 0 or -errno. */
    int (*create)(struct sk_waitset *ws, unsigned mode);
    /* An opener takes RESOURCE, read from the segment (untrusted), into
     * WS if it is valid: 1, or 0 if it is not (then nothing is taken). */
    int (*adopt)(struct sk_waitset *ws, int resource);
    /* Free WS's resources: only if OWNER_UID made them, unless it is NULL. */
    void (*destroy)(struct sk_waitset *ws, const long *owner_uid);
};

/* The mechanisms; only those that configure compiled exist (wait.c refers
 * to each under its SHMKIT_HAVE_* condition). */
extern const struct sk_wait_ops shmkit__wait_poll_ops;
extern const struct sk_wait_ops shmkit__wait_futex_ops;
extern const struct sk_wait_ops sk_wait_umtx_ops;
extern const struct sk_wait_ops sk_wait_openbsd_ops;
extern const struct sk_wait_ops sk_wait_netbsd_ops;
extern const struct sk_wait_ops sk_wait_darwin_ops;
extern const struct sk_wait_ops shmkit__wait_sem_ops;

#endif /* SHMKIT_WAIT_MECH_H */
