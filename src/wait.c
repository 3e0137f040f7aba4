/*
 * wait.c - the wait/wake layer: wait for a 32-bit word in shared memory to
 * change, spinning briefly and then blocking in the kernel, and wake the
 * waiters without a system call when there are none.
 *
 * This file holds what every mechanism shares: the adaptive spin, the
 * wake-request protocol (block_registered and shmkit__notify, model-checked by
 * tests/model/wait.pml) and the wait sets.  The blocking itself is one
 * file per mechanism behind struct sk_wait_ops (wait-mech.h), each
 * compiled where configure found its primitive (m4/shmkit-wait.m4); see
 * wait.h for the contract.  The platform primitives are all "compare and
 * sleep" calls on the word's address (futex, _umtx_op, __futex,
 * os_sync/ulock), so that a store followed by a wake can never slip
 * between a waiter's check and its sleep.  System V semaphores and
 * polling are the portable fallbacks.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include "atomics.h"
#include "error.h"
#include "hooks.h"
#include "proc.h"
#include "wait.h"
#include "wait-mech.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

struct shmkit__wait_stats shmkit__wait_stats;

/* ------------------------------------------------------------------ */
/* The mechanisms of this build                                        */
/* ------------------------------------------------------------------ */

/* Every mechanism configure compiled (the same conditions as the
 * AM_CONDITIONALs of Makefile.am), polling first. */
static const struct sk_wait_ops *const mechanisms[] = {
    &shmkit__wait_poll_ops,
#if defined(SHMKIT_HAVE_LINUX_FUTEX)
    &shmkit__wait_futex_ops,
#endif
#if defined(SHMKIT_HAVE_UMTX)
    &sk_wait_umtx_ops,
#endif
#if defined(SHMKIT_HAVE_OPENBSD_FUTEX)
    &sk_wait_openbsd_ops,
#endif
#if defined(SHMKIT_HAVE_NETBSD_FUTEX)
    &sk_wait_netbsd_ops,
#endif
#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC) || defined(SHMKIT_HAVE_DARWIN_ULOCK)
    &sk_wait_darwin_ops,
#endif
#if defined(SHMKIT_HAVE_SYSV_SEM)
    &shmkit__wait_sem_ops,
#endif
};

/* The operations of MECH (a number that may come from a segment), or NULL
 * if this build has no such mechanism. */
static const struct sk_wait_ops *ops_of(int mech)
{
    size_t i;

    for (i = 0; i < sizeof mechanisms / sizeof mechanisms[0]; i++)
        if (mechanisms[i]->mech == mech)
            return mechanisms[i];
    return NULL;
}

/* configure names its choice (SHMKIT_MECH_NAME, m4/shmkit-wait.m4). */
int shmkit__wait_build_mechanism(void)
{
    int mech;

    for (mech = SK_MECH_POLL; mech <= SK_MECH_LAST; mech++)
        if (strcmp(shmkit__wait_mechanism_name(mech), SHMKIT_MECH_NAME) == 0)
            return mech;
    return SK_MECH_POLL;
}

const char *shmkit__wait_mechanism_name(int mech)
{
    switch (mech) {
    case SK_MECH_POLL: return "poll";
    case SK_MECH_FUTEX: return "futex";
    case SK_MECH_UMTX: return "umtx";
    case SK_MECH_OPENBSD_FUTEX: return "openbsd-futex";
    case SK_MECH_NETBSD_FUTEX: return "netbsd-futex";
    case SK_MECH_DARWIN: return "darwin";
    case SK_MECH_SYSV_SEM: return "sysv-sem";
    default: return "unknown";
    }
}

int shmkit__wait_mechanism_usable(int mech)
{
    const struct sk_wait_ops *ops = ops_of(mech);

    return ops != NULL && ops->can_wait;
}

/* ------------------------------------------------------------------ */
/* Wait sets                                                           */
/* ------------------------------------------------------------------ */

static void waitset_reset(struct sk_waitset *ws)
{
    ws->mech = SK_MECH_POLL;
    ws->wake_mech = SK_MECH_POLL;
    ws->semid = -1;
    ws->followers = 0;
    ws->published[0] = ws->published[1] = 0;
}

int shmkit__waitset_create_with(struct sk_waitset *ws, int mech, unsigned mode)
{
    const struct sk_wait_ops *ops = ops_of(mech);

    waitset_reset(ws);
    if (ops == NULL || !ops->can_wait)
        return -ENOTSUP;
    if (ops->create != NULL) {
        int rc = ops->create(ws, mode);

        if (rc != 0)
            return rc;
    }
    ws->mech = mech;
    ws->wake_mech = mech;
    return 0;
}

int shmkit__waitset_create(struct sk_waitset *ws, unsigned mode)
{
    return shmkit__waitset_create_with(ws, shmkit__wait_build_mechanism(), mode);
}

void shmkit__waitset_attach(struct sk_waitset *ws, int mech, int semid)
{
    const struct sk_wait_ops *ops = ops_of(mech);

    waitset_reset(ws);
    if (ops == NULL || (ops->adopt != NULL && !ops->adopt(ws, semid)))
        return; /* poll, and wake nobody */
    if (ops->can_wait)
        ws->mech = mech;
    ws->wake_mech = mech;
}

/* Whether followers can sleep on a data word with MECH and be woken by
 * it: a compare-and-sleep keyed by the page's object and offset across
 * processes, which also works on a read-only mapping.  Checked in the
 * kernels' sources: Linux get_futex_key takes a read-only page for
 * FUTEX_WAIT (the FUTEX_READ retry, since 3.14); OpenBSD futex_get keys
 * a shared mapping by its uvm object and offset with no protection
 * check, and compares with copyin; darwin's shared ulock keys by
 * vm_map_page_info's object id and offset, also read-only.  NetBSD's
 * __futex keys shared words by uvm_voaddr_acquire, which we believe
 * takes read-only entries too (not verified; a failing wait would nap
 * 1 ms, see sleep_result).  Not FreeBSD: umtx_key_get looks the address
 * up with VM_PROT_WRITE, so a read-only mapping gets EFAULT. */
static int wakes_by_address(int mech)
{
    return mech == SK_MECH_FUTEX || mech == SK_MECH_OPENBSD_FUTEX ||
           mech == SK_MECH_NETBSD_FUTEX || mech == SK_MECH_DARWIN;
}

void shmkit__waitset_set_followers(struct sk_waitset *ws, int followers)
{
    ws->followers = followers && wakes_by_address(ws->wake_mech);
    ws->published[0] = ws->published[1] = 0;
}

/* Free what the mechanism of WS holds for the segment: only if OWNER_UID
 * made it, unless that is NULL. */
static void waitset_free(struct sk_waitset *ws, const long *owner_uid)
{
    const struct sk_wait_ops *ops = ops_of(ws->mech);

    if (ops != NULL && ops->destroy != NULL)
        ops->destroy(ws, owner_uid);
    waitset_reset(ws);
}

void shmkit__waitset_destroy_owned(struct sk_waitset *ws, long uid)
{
    waitset_free(ws, &uid);
}

void shmkit__waitset_destroy(struct sk_waitset *ws)
{
    waitset_free(ws, NULL);
}

/* ------------------------------------------------------------------ */
/* Block and wake                                                      */
/* ------------------------------------------------------------------ */

/* Whether DEADLINE (0: none) has passed. */
static int deadline_passed(uint64_t deadline)
{
    struct shmkit__wait_timeout t;

    return shmkit__wait_timeout(deadline, &t) != 0;
}

/* What shmkit__wait_block reports for the result RC of a mechanism's sleep.
 * A primitive that failed in a way that leaves nothing to sleep on
 * (ENOSYS under a seccomp filter, EFAULT, a semaphore set removed...)
 * degrades to a nap of up to 1 ms reported as a spurious wake-up, rather
 * than failing the wait: the caller re-checks its condition and calls
 * again (the word given may be a wake request that other waiters set
 * again, which polling it would never see move). */
static int sleep_result(int rc, uint64_t deadline)
{
    switch (rc) {
    case 0:
    case -ETIMEDOUT:
    case -EINTR:
        return rc;
    case -EAGAIN:     /* the word no longer held the value */
        return 0;
#if defined(ECANCELED)
    case -ECANCELED:  /* OpenBSD: a signal arrived with SA_RESTART: wait again */
        return 0;
#endif
    default:
        return shmkit__wait_nap_until(SK_UNWOKEN_POLL_NS, deadline);
    }
}

int shmkit__wait_block(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                       uint32_t expected, uint64_t deadline_ns)
{
    const struct sk_wait_ops *ops = ops_of(ws->mech);
    struct sk_wait_sleep s;
    int rc;

    if (sk_load(word, SK_ACQUIRE) != expected)
        return 0;
    if (shmkit__wait_timeout(deadline_ns, &s.timeout) != 0)
        return -ETIMEDOUT;
    if (ops == NULL || !ops->can_wait)
        ops = &shmkit__wait_poll_ops;
    s.ws = ws;
    s.index = index;
    s.word = word;
    s.expected = expected;
    rc = sleep_result(ops->block(&s), deadline_ns);
    /* A primitive with a coarser clock may give up a little early: that is
     * a spurious wake-up, and the caller waits again. */
    if (rc == -ETIMEDOUT && !deadline_passed(deadline_ns))
        rc = 0;
    return rc;
}

void shmkit__wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    const struct sk_wait_ops *ops = ops_of(ws->wake_mech);

    sk_fetch_add(&shmkit__wait_stats.wakes, 1u, SK_RELAXED);
    if (ops != NULL)
        ops->wake_all(ws, index, word);
}

/* ------------------------------------------------------------------ */
/* Adaptive wait and notify                                            */
/* ------------------------------------------------------------------ */

/* Tell the CPU we are spinning: frees the pipeline for the sibling
 * hyperthread and saves power, without giving up the time slice. */
static void cpu_relax(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__ __volatile__("pause" ::: "memory");
#elif defined(__GNUC__) && (defined(__aarch64__) || (defined(__ARM_ARCH) && __ARM_ARCH >= 7))
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * Signals during a spin.  A handler that runs while we spin in user space
 * leaves no trace that a loop without system calls could see, yet
 * shmkit.h promises -EINTR "if a signal handler ran".  Masking signals for
 * every wait would cost the fast path two system calls (~300 ns, as much
 * as a whole ping-pong round trip), so a spin runs unmasked for its first
 * SK_SIGNAL_GRACE_NS -- longer than a typical hand-off, so that most
 * waits end before -- and then blocks signals and looks for pending ones
 * (sigpending) every SK_SIGNAL_POLL_NS (see spin_until).  A pending signal
 * that the caller's own mask lets through is then delivered (unblocked:
 * its handler runs) and the wait returns -EINTR if that handler was
 * installed without SA_RESTART; with SA_RESTART it goes on, as a
 * restarted system call would.  The caller's mask is restored before the
 * wait returns or sleeps in the kernel, whose sleep then reports signals
 * itself.  The window: a handler that runs during the grace period (or
 * in the instant between the last check and the kernel sleep) is not
 * reported, and the wait goes on.
 *
 * Faults are never blocked: a SIGSEGV or SIGBUS raised while blocked
 * kills the process whatever its handler.
 */
#ifndef SK_SIGNAL_GRACE_NS
#define SK_SIGNAL_GRACE_NS 5000u
#endif

#if defined(NSIG)
#define SK_NSIG NSIG
#else
#define SK_NSIG 65
#endif

struct sig_watch {
    int masked;       /* 1 while we hold signals blocked */
    sigset_t saved;   /* the thread's mask before */
};

static void watch_start(struct sig_watch *sw)
{
    sw->masked = shmkit__wait_block_signals(&sw->saved);
}

static void watch_stop(struct sig_watch *sw)
{
    if (sw->masked)
        (void)pthread_sigmask(SIG_SETMASK, &sw->saved, NULL);
    sw->masked = 0;
}

/* Whether the handler of SIG makes a wait return -EINTR: a function
 * installed without SA_RESTART (SIG_DFL and SIG_IGN run no handler). */
static int interrupts_wait(int sig)
{
    struct sigaction sa;

    if (sigaction(sig, NULL, &sa) != 0 || (sa.sa_flags & SA_RESTART) != 0)
        return 0;
    return (sa.sa_flags & SA_SIGINFO) != 0 ||
           (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN);
}

/* At a periodic check of a watched spin: deliver the pending signals that
 * the caller's mask lets through (their handlers run now) and return
 * -EINTR if one of them interrupts waits; 0 otherwise, with the signals
 * blocked again.  Only those signals are unblocked, so that one arriving
 * meanwhile waits for the next check instead of going unreported. */
static int watch_poll(struct sig_watch *sw)
{
    sigset_t pending, deliver;
    int sig, any = 0, interrupted = 0;

    if (!sw->masked || sigpending(&pending) != 0)
        return 0;
    sigemptyset(&deliver);
    for (sig = 1; sig < SK_NSIG; sig++) {
        if (sigismember(&pending, sig) != 1 || sigismember(&sw->saved, sig) == 1)
            continue;
        sigaddset(&deliver, sig);
        any = 1;
        interrupted = interrupted || interrupts_wait(sig);
    }
    if (!any)
        return 0;
    (void)pthread_sigmask(SIG_UNBLOCK, &deliver, NULL);
    if (interrupted) {
        watch_stop(sw);
        return -EINTR;
    }
    (void)pthread_sigmask(SIG_BLOCK, &deliver, NULL);
    return 0;
}

/*
 * The periodic work of a long spin is paced by the clock, not by the
 * number of turns: a turn lasts as long as the CPU's pause instruction,
 * which varies a hundredfold between CPUs (a few cycles on older x86, 36
 * ns on an AMD EPYC 7002 guest, 140 cycles on recent Intel), so a count
 * of turns yielded every few microseconds on some CPUs and every 50 on
 * others.  A spin reads the clock every SK_SPIN_TURNS turns; once the
 * signal grace period is over it looks for pending signals every
 * SK_SIGNAL_POLL_NS (a system call each: at every clock read that was a
 * sigpending per 2 us of every long spin); and a spin of the spin mode
 * gives the CPU away every SK_YIELD_NS.  That bounds what a hand-off
 * costs when the two processes share a CPU (the other one runs only when
 * we yield): each hand-off waited for 1024 turns before, 40-50 us here,
 * so a spin-mode ping-pong on one CPU took 93-97 us per round trip
 * against 75-77 us for the adaptive mode, which sleeps after SK_SPIN_NS;
 * with a yield every 10 us, 27 us (doc/BENCHMARKS.md, issue 13).  Between dedicated cores a yield finds
 * nothing else to run and costs ~200 ns of a wait that is already
 * 10 us long.  A hand-off shorter than the grace period makes no system
 * call at all.
 */
#define SK_SPIN_TURNS 64u

#ifndef SK_SIGNAL_POLL_NS
#define SK_SIGNAL_POLL_NS 20000u
#endif

#ifndef SK_YIELD_NS
#define SK_YIELD_NS 10000u
#endif

/* Spin while *WORD == SEEN until the monotonic time END (0: forever);
 * START is when the wait began.  YIELDING gives the CPU away now and
 * then, for long spins on machines with fewer cores than spinning
 * processes.  Watches for signals once the grace period is over (SW:
 * the caller restores the mask with watch_stop). */
static int spin_until(sk_atomic_u32 *word, uint32_t seen, uint64_t start, uint64_t end,
                      int yielding, struct sig_watch *sw)
{
    uint64_t next_watch = start + SK_SIGNAL_GRACE_NS, next_yield = start + SK_YIELD_NS;
    unsigned n = 0;

    for (;;) {
        uint64_t now;

        if (sk_load(word, SK_ACQUIRE) != seen)
            return 0;
        cpu_relax();
        if (++n % SK_SPIN_TURNS != 0)
            continue;
        now = shmkit__monotonic_ns();
        if (end != 0 && now >= end)
            return -ETIMEDOUT;
        if (now >= next_watch) {
            int rc = 0;

            if (sw->masked)
                rc = watch_poll(sw);
            else
                watch_start(sw);
            if (rc != 0)
                return rc;
            next_watch = now + SK_SIGNAL_POLL_NS;
        }
        if (yielding && now >= next_yield) {
            (void)sched_yield();
            next_yield = now + SK_YIELD_NS;
        }
    }
}

/* Ask for a wake-up in *WAITERS and block until the word changes, the
 * deadline passes or a signal handler runs.  The sleep is on the request
 * word, while it still holds the generation we asked in (see "Why no
 * wake-up is lost" below): a notifier that consumed our request before we
 * got into the kernel started a new generation, so the kernel's compare
 * fails at once and we ask again.  Sleeping on WORD instead, or on a
 * one-bit request that another waiter can set again, loses that wake-up. */
static int block_registered(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                            uint32_t seen, sk_atomic_u32 *waiters, uint64_t deadline)
{
    for (;;) {
        uint32_t asked;
        int rc;

        /* W1: ask (seq_cst read-modify-write), W2: re-read the word
         * (seq_cst): the waiter's half of the Dekker pattern.  Asked again
         * before every sleep, because a notifier consumes the request when
         * it wakes us (or another waiter of the word). */
        asked = sk_fetch_or(waiters, SK_WAKE_ASKED, SK_SEQ_CST) | SK_WAKE_ASKED;
        sk_hook_point("wait-asked");
        if (sk_load(word, SK_SEQ_CST) != seen)
            return 0;
        if (ws->mech == SK_MECH_POLL) /* no kernel sleep: watch the word */
            return shmkit__wait_poll_block(word, seen, deadline, SK_POLL_MAX_NS);
        sk_hook_point("wait-before-sleep");
        /* W3: sleep while the request is still the generation we asked in. */
        rc = shmkit__wait_block(ws, index, waiters, asked, deadline);
        if (rc != 0)
            return rc;
        /* Woken by the change (the usual case): do not ask again. */
        if (sk_load(word, SK_ACQUIRE) != seen)
            return 0;
    }
}

/* A follower's sleep, after its spin: on WORD itself, which the writer
 * wakes by its gap clock (see "Followers" below), until the word changes,
 * the deadline passes or a signal handler runs.  A wake-up without a
 * change (another word's publication on the same futex hash, a reader
 * calling FUTEX_WAKE) sleeps again: the compare is only later then. */
static int block_follower(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                          uint32_t seen, uint64_t deadline)
{
    for (;;) {
        int rc = shmkit__wait_block(ws, index, word, seen, deadline);

        if (sk_load(word, SK_ACQUIRE) != seen)
            return 0;
        if (rc != 0)
            return rc;
    }
}

/* Whether a waiter without a wake request (WAITERS == NULL) sleeps on the
 * data word: the segment has followers and this build waits with the
 * mechanism the writer wakes with. */
static int sleeps_as_follower(const struct sk_waitset *ws, const sk_atomic_u32 *waiters)
{
    return waiters == NULL && ws->followers && ws->mech == ws->wake_mech;
}

int shmkit__wait_changed(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                         uint32_t seen, sk_atomic_u32 *waiters, int timeout_ms, int mode)
{
    struct sig_watch sw;
    uint64_t deadline = 0, now;
    int follower = sleeps_as_follower(ws, waiters);
    int rc;

    sw.masked = 0;

    if (sk_load(word, SK_ACQUIRE) != seen)
        return 0;
    if (timeout_ms == 0)
        return -ETIMEDOUT;
    now = shmkit__monotonic_ns(); /* once: a clock read costs ~20 ns on a VM */
    if (timeout_ms > 0)
        deadline = now + (uint64_t)timeout_ms * 1000000u;

    /* A follower spins its window in every mode, the block mode too: the
     * writer's gap clock counts on it (see "Followers" below). */
    if (mode != SK_WAIT_MODE_BLOCK || follower) {
        /* One path for both spinning modes, so that the spin mode's
         * hand-off costs what the adaptive mode's does. */
        int spin_only = mode == SK_WAIT_MODE_SPIN;
        uint64_t end = now + (follower ? SK_FOLLOWER_SPIN_NS : SK_SPIN_NS);

        if (spin_only || (deadline != 0 && deadline < end))
            end = deadline;
        rc = spin_until(word, seen, now, end, spin_only, &sw);
        /* Before the kernel sleep, which reports signals itself: deliver
         * what is pending, then restore the caller's mask. */
        if (rc == -ETIMEDOUT && !spin_only)
            rc = watch_poll(&sw);
        watch_stop(&sw);
        if (sk_load(word, SK_ACQUIRE) != seen)
            return 0;
        if (rc != 0 || spin_only)
            return rc;
        if (deadline_passed(deadline))
            return -ETIMEDOUT;
    }

    if (follower)
        /* Spun the whole window: the writer's gap clock covers the sleep. */
        rc = block_follower(ws, index, word, seen, deadline);
    else if (waiters == NULL)
        /* Nobody can know we wait, so nobody will wake us: short naps. */
        rc = shmkit__wait_poll_block(word, seen, deadline, SK_UNWOKEN_POLL_NS);
    else
        rc = block_registered(ws, index, word, seen, waiters, deadline);
    /* A signal or the deadline racing with a change is still a change. */
    if (rc != 0 && sk_load(word, SK_ACQUIRE) != seen)
        rc = 0;
    return rc;
}

/*
 * Why no wake-up is lost.  *WAITERS, the wake request of a word, is a
 * generation counter whose low bit (SK_WAKE_ASKED) means "somebody asked
 * for a wake-up in this generation".  Every waiter of the word shares it.
 * The waiter does
 *     W1: asked = fetch_or(waiters, 1) | 1   (seq_cst)
 *     W2: read word (seq_cst); return if it changed
 *     W3: sleep while waiters == asked       (the kernel's compare-and-sleep)
 * and the notifier
 *     S1: store word (release)               S2: fence (seq_cst)
 *     S3: r = load waiters (seq_cst)         S4: if r is odd and
 *         CAS(waiters, r, r + 1) succeeds -- a new, even generation: the
 *         request is consumed -- wake every sleeper of *WAITERS
 * In the single total order of the seq_cst operations, either W1 precedes
 * S3 and the notifier sees the request (if its CAS fails, another
 * notifier's CAS succeeded after our W1 and that one wakes: nothing else
 * changes an odd request); or S2 precedes W1, and then W2 sees the new
 * word and the waiter does not sleep.  A waiter that has passed W2 sleeps
 * only while the request still holds ITS generation: a notifier that
 * consumed it (perhaps one whose publication the waiter had already seen)
 * made the request differ, the compare-and-sleep calls compare it again
 * under the kernel's queue lock, and the wake-up follows the change; the
 * semaphore path compares generations too (see wait-sem.c).
 *
 * Why a generation and not a flag (shmkit 0.1 stored 1, and notifiers
 * exchanged it with 0): with several waiters of one word, waiter B asks
 * (1) and sees the word unchanged; the writer publishes, takes the
 * request (0) and wakes nobody, as nobody sleeps yet; waiter A, which saw
 * the new version, asks again (1) and sleeps; B's compare now finds the 1
 * it expected and B sleeps through a change -- until the next publication,
 * which may never come (issue 11).  With generations B expects g | 1 and
 * finds g + 2 | 1 (A asked in the next generation): the compare fails, B
 * asks again and sees the new word.  tests/model/wait.pml checks both
 * protocols with Spin.
 *
 * The one hole is wrap-around: the counter gains 2 per consumed request,
 * so B sleeps through a change only if exactly 2^31 requests are consumed
 * (each a wake-up system call) between B's W1 and its W3.
 *
 * Every wake primitive (wait-*.c) is a broadcast (FUTEX_WAKE and UMTX_OP_WAKE
 * with INT_MAX, ULF_WAKE_ALL, os_sync_wake_by_address_all, a new semaphore
 * generation), so the one wake that consumes the request wakes every
 * waiter that shared it, and a waiter woken without a change asks again.
 * A request that outlives its waiter (a timeout, a signal, a change seen
 * at W2) costs at most one useless wake-up later.  Unlike a count, the
 * request is consumed by the first wake-up: a stream of publications
 * makes one system call per sleep, not one per publication until the
 * woken waiter gets to run.  And a notifier with no waiter reads an even
 * request and makes no system call at all.
 */

/*
 * Followers.  A reader that may not write the segment (a 0644 segment's
 * group and others) cannot ask for a wake-up, and nothing it could write
 * may exist: a request word that readers write lets a hostile reader
 * restore the value a notifier compares and so suppress the others'
 * wake-ups.  So a follower sleeps on the data word itself (the commit
 * word of the frame or buffer the next publication stores: futexes and
 * their kin work on a read-only mapping, see wakes_by_address), and the
 * writer, which cannot know whether anybody sleeps there, wakes that word
 * unless the clock proves that nobody can be asleep on it:
 *
 *   follower: F1 sees publication j-1 committed (the frame or version
 *             before the one it waits for); F2 t0 = clock; F3 spins while
 *             the word is unchanged until clock >= t0 + SK_FOLLOWER_SPIN_NS;
 *             F4 the kernel's compare-and-sleep on the word.
 *   writer:   for publication j, W1 stores the word (release), W2 fence
 *             (seq_cst), W3 a_j = clock, W4 wakes the word's sleepers
 *             unless a_j - a_(j-2) < SK_FOLLOWER_GAP_NS.
 *
 * The writer stored publication j-1 after it read a_(j-2) (program
 * order: W3 of j-2 before W1 of j-1), so F1, hence F2, comes after
 * a_(j-2), and F4 comes after a_(j-2) + SPIN.  A skipped wake means
 * a_j < a_(j-2) + GAP < a_(j-2) + SPIN, and W1 of j was globally visible
 * before a_j (W2 drains the store buffer before the clock is read): F4's
 * compare sees the new word and the follower does not sleep.  Without an
 * a_(j-2) (the first two publications of a writer handle) the writer
 * always wakes, as after any pause of GAP: one FUTEX_WAKE per publication
 * that follows the one before the last by 40 us or more, none in a
 * faster stream.  A follower woken without a change, or at the end of an
 * idle slice, sleeps again without a new spin: its compare is only later.
 * Why j-2 and not j-1: a follower may see j-1 between its W1 and W3, that
 * is before a_(j-1).
 *
 * What this relies on: a monotonic clock that agrees across CPUs
 * (CLOCK_MONOTONIC is one clock for the whole system; on x86 the vDSO
 * reads the TSC with rdtsc_ordered, after the fence's stores, and Linux
 * refuses a TSC that is not synchronised between CPUs as its clock
 * source); that the follower's F1 load is done before F2 reads the clock
 * (the same rdtsc_ordered, or the ISB of the arm64 vDSO); and that F4
 * follows the follower's last clock read (a system call).  A follower
 * that waits for a word the next publication does not store (a slot
 * reader asking for a version beyond the next one) is only sure to see
 * it at the end of its idle slice (SK_IDLE_SLICE_MS): shmkit's readers
 * watch the next publication's word.  tests/model/wait.pml has no clock,
 * so the argument is here and in doc/FORMAT.md, section 11, not in Spin.
 */
static void wake_followers(struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    uint64_t now = shmkit__monotonic_ns(); /* a_j, after the caller's fence */
    uint64_t before_last = ws->published[1];

    ws->published[1] = ws->published[0];
    ws->published[0] = now;
    if (before_last != 0 && now - before_last < SK_FOLLOWER_GAP_NS)
        return; /* nobody can be asleep on WORD yet */
    sk_hook_point("notify-wake-followers");
    shmkit__wake_all(ws, index, word);
}

void shmkit__notify(struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                    sk_atomic_u32 *waiters)
{
    uint32_t asked;

    sk_hook_point("notify-stored");
    sk_fence(SK_SEQ_CST);
    if (waiters == NULL) {
        shmkit__wake_all(ws, index, word);
        return;
    }
    asked = sk_load(waiters, SK_SEQ_CST);
    /* Unless nobody asked, or another notifier took the request. */
    if ((asked & SK_WAKE_ASKED) != 0 && sk_cas(waiters, &asked, asked + 1u)) {
        sk_hook_point("notify-before-wake");
        shmkit__wake_all(ws, index, waiters);
    }
    if (ws->followers)
        wake_followers(ws, index, word);
}

/* ------------------------------------------------------------------ */
/* The public knobs                                                    */
/* ------------------------------------------------------------------ */

/* Process-wide wait mode; an atomic so that threads may change it. */
static sk_atomic_u32 process_wait_mode = SK_WAIT_MODE_ADAPTIVE;

int shmkit__wait_mode_get(void)
{
    return (int)sk_load(&process_wait_mode, SK_RELAXED);
}

_Static_assert((int)SHMKIT_WAIT_ADAPTIVE == (int)SK_WAIT_MODE_ADAPTIVE &&
               (int)SHMKIT_WAIT_SPIN == (int)SK_WAIT_MODE_SPIN &&
               (int)SHMKIT_WAIT_BLOCK == (int)SK_WAIT_MODE_BLOCK,
               "public and internal wait modes agree");

SHMKIT_API int shmkit_set_wait_mode(int mode)
{
    if (mode < SHMKIT_WAIT_ADAPTIVE || mode > SHMKIT_WAIT_BLOCK)
        return shmkit__fail(-EINVAL, "unknown wait mode %d", mode);
    return (int)sk_exchange(&process_wait_mode, (uint32_t)mode);
}

SHMKIT_API const char *shmkit_wait_mechanism(void)
{
    return shmkit__wait_mechanism_name(shmkit__wait_build_mechanism());
}
