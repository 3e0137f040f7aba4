/*
 * wait.c - the wait/wake layer: wait for a 32-bit word in shared memory to
 * change, spinning briefly and then blocking in the kernel, and wake the
 * waiters without a system call when there are none.
 *
 * One blocking primitive per platform, chosen by configure
 * (m4/shmkit-wait.m4); see wait.h for the contract.  The platform
 * primitives are all "compare and sleep" calls on the word's address
 * (futex, _umtx_op, __futex, os_sync/ulock), so that a store followed by a
 * wake can never slip between a waiter's check and its sleep.  System V
 * semaphores and polling are the portable fallbacks.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "atomics.h"
#include "error.h"
#include "hooks.h"
#include "proc.h"
#include "wait.h"

/* A mechanism chosen by configure is available by definition (this also
 * lets the file be compiled for a platform with just -DSHMKIT_WAIT_xxx). */
#if defined(SHMKIT_WAIT_FUTEX) && !defined(SHMKIT_HAVE_LINUX_FUTEX)
#define SHMKIT_HAVE_LINUX_FUTEX 1
#endif
#if defined(SHMKIT_WAIT_UMTX) && !defined(SHMKIT_HAVE_UMTX)
#define SHMKIT_HAVE_UMTX 1
#endif
#if defined(SHMKIT_WAIT_OPENBSD_FUTEX) && !defined(SHMKIT_HAVE_OPENBSD_FUTEX)
#define SHMKIT_HAVE_OPENBSD_FUTEX 1
#endif
#if defined(SHMKIT_WAIT_NETBSD_FUTEX) && !defined(SHMKIT_HAVE_NETBSD_FUTEX)
#define SHMKIT_HAVE_NETBSD_FUTEX 1
#endif
#if defined(SHMKIT_WAIT_DARWIN_OS_SYNC) && !defined(SHMKIT_HAVE_DARWIN_OS_SYNC)
#define SHMKIT_HAVE_DARWIN_OS_SYNC 1
#endif
#if defined(SHMKIT_WAIT_DARWIN_ULOCK) && !defined(SHMKIT_HAVE_DARWIN_ULOCK)
#define SHMKIT_HAVE_DARWIN_ULOCK 1
#endif
#if defined(SHMKIT_WAIT_SYSV_SEM) && !defined(SHMKIT_HAVE_SYSV_SEM)
#define SHMKIT_HAVE_SYSV_SEM 1
#endif

/* The portable profile never waits on a Linux futex, but it still wakes
 * the futex waiters of a segment made by a normal build. */
#if defined(SHMKIT_HAVE_LINUX_FUTEX) && !defined(SHMKIT_PORTABLE_PROFILE)
#define SK_CAN_WAIT_FUTEX 1
#endif
#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC) || defined(SHMKIT_HAVE_DARWIN_ULOCK)
#define SK_HAVE_DARWIN 1
#endif
/* Wait with os_sync when the build may, unless configure chose ulock. */
#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC) && !defined(SHMKIT_WAIT_DARWIN_ULOCK)
#define SK_DARWIN_WAITS_OS_SYNC 1
#endif
#if defined(SK_CAN_WAIT_FUTEX) || defined(SHMKIT_HAVE_UMTX) || defined(SHMKIT_HAVE_OPENBSD_FUTEX) \
    || defined(SHMKIT_HAVE_NETBSD_FUTEX) || defined(SK_HAVE_DARWIN)
#define SK_HAVE_COMPARE_AND_SLEEP 1
#endif
#if defined(SHMKIT_HAVE_SYSV_SEM) && defined(HAVE_SEMTIMEDOP) && HAVE_SEMTIMEDOP \
    && (!defined(HAVE_DECL_SEMTIMEDOP) || HAVE_DECL_SEMTIMEDOP)
#define SK_HAVE_SEMTIMEDOP 1
#endif

#if defined(SHMKIT_HAVE_LINUX_FUTEX)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#if defined(SHMKIT_HAVE_UMTX)
#include <sys/types.h>
#include <sys/umtx.h>
#endif

#if defined(SHMKIT_HAVE_OPENBSD_FUTEX)
#include <sys/time.h>
#include <sys/futex.h>
#endif

#if defined(SHMKIT_HAVE_NETBSD_FUTEX)
#include <sys/syscall.h>
#include <sys/futex.h>
#include <unistd.h>
#endif

#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC)
#include <os/clock.h>
#include <os/os_sync_wait_on_address.h>
#endif

#if defined(SHMKIT_HAVE_DARWIN_ULOCK)
/* __ulock_wait/__ulock_wake are exported by libSystem since macOS 10.12 but
 * declared in no public header.  Declarations and constants as in XNU's
 * bsd/sys/ulock.h (apple-oss-distributions/xnu): UL_COMPARE_AND_WAIT_SHARED
 * is operation 3 (compare a 32-bit word, key by the physical page so that
 * other processes mapping it share the queue), ULF_WAKE_ALL 0x00000100,
 * ULF_NO_ERRNO 0x01000000 (return -errno instead of setting errno).  The
 * wait returns the number of remaining waiters (>= 0) when woken, and its
 * timeout is in microseconds, 0 meaning none. */
extern int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us);
extern int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
#define SK_UL_COMPARE_AND_WAIT_SHARED 3u
#define SK_ULF_WAKE_ALL 0x00000100u
#define SK_ULF_NO_ERRNO 0x01000000u
#endif

#if defined(SHMKIT_HAVE_SYSV_SEM)
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/sem.h>
/* The fourth argument of semctl; callers define it (Linux does not). */
union sk_semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};
#endif

struct sk_wait_stats sk_wait_stats;

/* Polling backoff: first nap and longest nap. */
#define SK_POLL_MIN_NS 20000u
#define SK_POLL_MAX_NS 2000000u

#define SK_NS_PER_SEC 1000000000u

/* ------------------------------------------------------------------ */
/* Names and availability                                              */
/* ------------------------------------------------------------------ */

int sk_wait_build_mechanism(void)
{
#if defined(SHMKIT_WAIT_FUTEX)
    return SK_WAIT_FUTEX;
#elif defined(SHMKIT_WAIT_UMTX)
    return SK_WAIT_UMTX;
#elif defined(SHMKIT_WAIT_OPENBSD_FUTEX)
    return SK_WAIT_OPENBSD_FUTEX;
#elif defined(SHMKIT_WAIT_NETBSD_FUTEX)
    return SK_WAIT_NETBSD_FUTEX;
#elif defined(SHMKIT_WAIT_DARWIN)
    return SK_WAIT_DARWIN;
#elif defined(SHMKIT_WAIT_SYSV_SEM)
    return SK_WAIT_SYSV_SEM;
#else
    return SK_WAIT_POLL;
#endif
}

const char *sk_wait_mechanism_name(int mech)
{
    switch (mech) {
    case SK_WAIT_POLL: return "poll";
    case SK_WAIT_FUTEX: return "futex";
    case SK_WAIT_UMTX: return "umtx";
    case SK_WAIT_OPENBSD_FUTEX: return "openbsd-futex";
    case SK_WAIT_NETBSD_FUTEX: return "netbsd-futex";
    case SK_WAIT_DARWIN: return "darwin";
    case SK_WAIT_SYSV_SEM: return "sysv-sem";
    default: return "unknown";
    }
}

int sk_wait_mechanism_usable(int mech)
{
    switch (mech) {
    case SK_WAIT_POLL:
        return 1;
#if defined(SK_CAN_WAIT_FUTEX)
    case SK_WAIT_FUTEX:
        return 1;
#endif
#if defined(SHMKIT_HAVE_UMTX)
    case SK_WAIT_UMTX:
        return 1;
#endif
#if defined(SHMKIT_HAVE_OPENBSD_FUTEX)
    case SK_WAIT_OPENBSD_FUTEX:
        return 1;
#endif
#if defined(SHMKIT_HAVE_NETBSD_FUTEX)
    case SK_WAIT_NETBSD_FUTEX:
        return 1;
#endif
#if defined(SK_HAVE_DARWIN)
    case SK_WAIT_DARWIN:
        return 1;
#endif
#if defined(SHMKIT_HAVE_SYSV_SEM)
    case SK_WAIT_SYSV_SEM:
        return 1;
#endif
    default:
        return 0;
    }
}

/* Whether this process can wake the waiters of a segment using MECH. */
static int can_wake(int mech)
{
#if defined(SHMKIT_HAVE_LINUX_FUTEX)
    if (mech == SK_WAIT_FUTEX)
        return 1;
#endif
    return sk_wait_mechanism_usable(mech);
}

/* ------------------------------------------------------------------ */
/* Time                                                                */
/* ------------------------------------------------------------------ */

static struct timespec timespec_from_ns(uint64_t ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / SK_NS_PER_SEC);
    ts.tv_nsec = (long)(ns % SK_NS_PER_SEC);
    return ts;
}

/* Nanoseconds left until DEADLINE (> 0), or 0 if it has passed. */
static uint64_t ns_left(uint64_t deadline)
{
    uint64_t now = sk_monotonic_ns();

    return now < deadline ? deadline - now : 0;
}

/* Sleep NS nanoseconds: 0, or -EINTR if a signal handler ran (the caller
 * returns it, so that signals are never swallowed by a wait). */
static int nap(uint64_t ns)
{
    struct timespec ts = timespec_from_ns(ns);

    if (nanosleep(&ts, NULL) == 0)
        return 0;
    return errno == EINTR ? -EINTR : 0;
}

/* ------------------------------------------------------------------ */
/* Polling: the fallback every other mechanism degrades to             */
/* ------------------------------------------------------------------ */

/* Nap for NS, or until DEADLINE (0: none) if that comes first:
 * -ETIMEDOUT if it has passed already, -EINTR for a signal, else 0. */
static int nap_until(uint64_t ns, uint64_t deadline)
{
    if (deadline != 0) {
        uint64_t left = ns_left(deadline);

        if (left == 0)
            return -ETIMEDOUT;
        if (left < ns)
            ns = left;
    }
    return nap(ns);
}

/* Sleep while *WORD == EXPECTED with exponential backoff from
 * SK_POLL_MIN_NS up to MAX_STEP, honouring DEADLINE (0: none). */
static int poll_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline,
                      uint64_t max_step)
{
    uint64_t step = SK_POLL_MIN_NS;

    for (;;) {
        int rc;

        if (sk_load(word, SK_ACQUIRE) != expected)
            return 0;
        rc = nap_until(step, deadline);
        if (rc != 0)
            return rc;
        if (step < max_step)
            step = step * 2 < max_step ? step * 2 : max_step;
    }
}

/* A kernel primitive failed in a way that leaves us nothing to sleep on
 * (ENOSYS under a seccomp filter, a semaphore set removed...): nap once,
 * up to 1 ms, and report a spurious wake-up.  The caller re-checks its
 * condition and calls again: the word we were given may be a wake request
 * that other waiters set again, which polling it would never see move. */
static int degraded_nap(uint64_t deadline)
{
    return nap_until(SK_UNWOKEN_POLL_NS, deadline);
}

#if defined(SK_HAVE_COMPARE_AND_SLEEP)
/* Map the errno of a failed compare-and-sleep call.  Anything unexpected
 * (ENOSYS under a seccomp filter, EFAULT...) degrades to polling rather
 * than failing the wait. */
static int blocked_result(int err, sk_atomic_u32 *word, uint32_t expected, uint64_t deadline)
{
    switch (err) {
    case EAGAIN:     /* the word no longer held EXPECTED */
        return 0;
    case ETIMEDOUT:
        return -ETIMEDOUT;
    case EINTR:
        return -EINTR;
#if defined(ECANCELED)
    case ECANCELED:  /* OpenBSD: a signal arrived with SA_RESTART: wait again */
        return 0;
#endif
    default:
        (void)word;
        (void)expected;
        return degraded_nap(deadline);
    }
}
#endif

/* ------------------------------------------------------------------ */
/* Kernel compare-and-sleep primitives                                 */
/* ------------------------------------------------------------------ */

#if defined(SK_CAN_WAIT_FUTEX)
/* Without FUTEX_PRIVATE_FLAG the futex is keyed by the page's backing
 * object, so that processes mapping the segment share the queue.  The
 * FUTEX_WAIT timeout is relative on CLOCK_MONOTONIC: recomputed from the
 * deadline at each call. */
static int futex_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline)
{
    struct timespec rel, *relp = NULL;

    if (deadline != 0) {
        uint64_t left = ns_left(deadline);

        if (left == 0)
            return -ETIMEDOUT;
        rel = timespec_from_ns(left);
        relp = &rel;
    }
    if (syscall(SYS_futex, (void *)word, (long)FUTEX_WAIT, (long)expected, relp,
                (void *)NULL, 0L) == 0)
        return 0;
    return blocked_result(errno, word, expected, deadline);
}
#endif

#if defined(SHMKIT_HAVE_LINUX_FUTEX)
static void futex_wake_all(sk_atomic_u32 *word)
{
    (void)syscall(SYS_futex, (void *)word, (long)FUTEX_WAKE, (long)INT_MAX, (void *)NULL,
                  (void *)NULL, 0L);
}
#endif

#if defined(SHMKIT_HAVE_UMTX)
/* FreeBSD _umtx_op(2): UMTX_OP_WAIT_UINT compares the u_int at the address
 * and sleeps; without the _PRIVATE variant the sleep queue is the
 * process-shared one when the word lies in a shared mapping.  The timeout
 * is a struct _umtx_time passed in uaddr2 with its size in uaddr; we give
 * the deadline itself (UMTX_ABSTIME on CLOCK_MONOTONIC, the clock of
 * sk_monotonic_ns).  The wait is not restarted after a signal: EINTR. */
static int umtx_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline)
{
    struct _umtx_time abstime;
    void *size = NULL, *timeout = NULL;

    if (deadline != 0) {
        memset(&abstime, 0, sizeof abstime);
        abstime._timeout = timespec_from_ns(deadline);
        abstime._flags = UMTX_ABSTIME;
        abstime._clockid = CLOCK_MONOTONIC;
        size = (void *)(uintptr_t)sizeof abstime;
        timeout = &abstime;
    }
    if (_umtx_op((void *)word, UMTX_OP_WAIT_UINT, (unsigned long)expected, size, timeout) == 0)
        return 0;
    return blocked_result(errno, word, expected, deadline);
}

static void umtx_wake_all(sk_atomic_u32 *word)
{
    (void)_umtx_op((void *)word, UMTX_OP_WAKE, (unsigned long)INT_MAX, NULL, NULL);
}
#endif

#if defined(SHMKIT_HAVE_OPENBSD_FUTEX)
/* OpenBSD futex(2): shared between processes unless FUTEX_PRIVATE_FLAG is
 * given (since 6.4); relative timeout.  Errors come back as -1 and errno;
 * the first kernels (6.2, 6.3) returned the error number itself, which we
 * accept too.  ECANCELED means a signal arrived with SA_RESTART set. */
static int openbsd_futex_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline)
{
    struct timespec rel, *relp = NULL;
    int rc;

    if (deadline != 0) {
        uint64_t left = ns_left(deadline);

        if (left == 0)
            return -ETIMEDOUT;
        rel = timespec_from_ns(left);
        relp = &rel;
    }
    rc = futex((volatile uint32_t *)(void *)word, FUTEX_WAIT, (int)expected, relp, NULL);
    if (rc == 0)
        return 0;
    return blocked_result(rc > 0 ? rc : errno, word, expected, deadline);
}

static void openbsd_futex_wake_all(sk_atomic_u32 *word)
{
    (void)futex((volatile uint32_t *)(void *)word, FUTEX_WAKE, INT_MAX, NULL, NULL);
}
#endif

#if defined(SHMKIT_HAVE_NETBSD_FUTEX)
/* NetBSD __futex(int *uaddr, int op, int val, const struct timespec *timeout,
 * int *uaddr2, int val2, int val3), as in sys/kern/sys_futex.c: shared
 * unless FUTEX_PRIVATE_FLAG; FUTEX_WAIT's timeout is relative, on
 * CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME. */
static int netbsd_futex_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline)
{
    struct timespec rel, *relp = NULL;

    if (deadline != 0) {
        uint64_t left = ns_left(deadline);

        if (left == 0)
            return -ETIMEDOUT;
        rel = timespec_from_ns(left);
        relp = &rel;
    }
    if (syscall(SYS___futex, (void *)word, FUTEX_WAIT, (int)expected, relp, (void *)NULL,
                0, 0) == 0)
        return 0;
    return blocked_result(errno, word, expected, deadline);
}

static void netbsd_futex_wake_all(sk_atomic_u32 *word)
{
    (void)syscall(SYS___futex, (void *)word, FUTEX_WAKE, INT_MAX, (void *)NULL, (void *)NULL,
                  0, 0);
}
#endif

#if defined(SK_HAVE_DARWIN)
#if defined(SK_DARWIN_WAITS_OS_SYNC)
/* macOS 14.4+: the public API.  Its timeout is relative, in nanoseconds,
 * and must not be 0; it returns the number of remaining waiters, or -1. */
static int darwin_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline)
{
    int rc;

    if (deadline == 0) {
        rc = os_sync_wait_on_address((void *)word, expected, sizeof(uint32_t),
                                     OS_SYNC_WAIT_ON_ADDRESS_SHARED);
    } else {
        uint64_t left = ns_left(deadline);

        if (left == 0)
            return -ETIMEDOUT;
        rc = os_sync_wait_on_address_with_timeout((void *)word, expected, sizeof(uint32_t),
                                                  OS_SYNC_WAIT_ON_ADDRESS_SHARED,
                                                  OS_CLOCK_MACH_ABSOLUTE_TIME, left);
    }
    if (rc >= 0)
        return 0;
    return blocked_result(errno, word, expected, deadline);
}
#else
static int darwin_block(sk_atomic_u32 *word, uint32_t expected, uint64_t deadline)
{
    uint32_t timeout_us = 0; /* none */
    int rc;

    if (deadline != 0) {
        uint64_t left = ns_left(deadline), us;

        if (left == 0)
            return -ETIMEDOUT;
        us = (left + 999u) / 1000u;
        /* A longer wait times out early; sk_wait_block then reports a
         * spurious wake-up and the caller waits again. */
        timeout_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
    rc = __ulock_wait(SK_UL_COMPARE_AND_WAIT_SHARED | SK_ULF_NO_ERRNO, (void *)word, expected,
                      timeout_us);
    if (rc >= 0)
        return 0;
    return blocked_result(-rc, word, expected, deadline);
}
#endif

/* Both wake calls when both exist: os_sync's shared waits are built on the
 * same kernel queues as UL_COMPARE_AND_WAIT_SHARED, but a second call costs
 * little (it only happens when someone waits) and guarantees that builds
 * for older macOS deployment targets interoperate. */
static void darwin_wake_all(sk_atomic_u32 *word)
{
#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC)
    (void)os_sync_wake_by_address_all((void *)word, sizeof(uint32_t),
                                      OS_SYNC_WAKE_BY_ADDRESS_SHARED);
#endif
#if defined(SHMKIT_HAVE_DARWIN_ULOCK)
    int tries;

    for (tries = 0; tries < 4; tries++) {
        if (__ulock_wake(SK_UL_COMPARE_AND_WAIT_SHARED | SK_ULF_WAKE_ALL | SK_ULF_NO_ERRNO,
                         (void *)word, 0) != -EINTR)
            break;
    }
#endif
}
#endif /* SK_HAVE_DARWIN */

/* ------------------------------------------------------------------ */
/* System V semaphores                                                 */
/* ------------------------------------------------------------------ */

#if defined(SHMKIT_HAVE_SYSV_SEM)
/*
 * A semaphore cannot compare a word in memory and sleep atomically, and a
 * counting semaphore used as a token pile loses wake-ups: a waiter that has
 * checked the word but not yet called semop is not counted by GETNCNT, and a
 * waiter that is woken, returns and waits again can take a token meant for
 * another one.  So the semaphore is not consumed at all; it is a generation
 * number G in [1, SK_SEM_GEN_LIMIT]:
 *
 *   waker:   G += 1  (or, at the limit, G = 1 in one semop that also adds)
 *   waiter:  g = GETVAL; re-check the word; then one atomic semop of
 *              { -g IPC_NOWAIT, +g }          G >= g, else G wrapped: return
 *              { -(g+1), +(g+1) }             sleep while G <= g
 *            which leaves G unchanged and sleeps only while no wake-up has
 *            happened since g was read.
 *
 * A wake-up that precedes the GETVAL also precedes the re-check (both are
 * ordered by the semaphore set's lock), so the waiter sees the new word; a
 * wake-up after the GETVAL makes G > g or G < g, and the semop does not
 * sleep, or stops sleeping: nothing can be lost, and no stale token is ever
 * left behind.  Every waiter blocked on the semaphore is woken by each
 * wake-up (broadcast), as the futex path does.  Semaphore operations are
 * applied in order and all or nothing, on Linux, the BSDs and macOS alike,
 * and sleepers re-evaluate their whole operation when woken.
 *
 * The one theoretical hole is an ABA: exactly SK_SEM_GEN_LIMIT - 1 wake-ups
 * (with waiters) between a waiter's GETVAL and its semop.
 */

/* Check that SEMID looks like a set made by sk_waitset_create: it came from
 * shared memory, and posting to somebody else's semaphores would be bad. */
static int sem_set_valid(int semid)
{
    struct semid_ds ds;
    union sk_semun arg;

    if (semid < 0)
        return 0;
    memset(&ds, 0, sizeof ds);
    arg.buf = &ds;
    if (semctl(semid, 0, IPC_STAT, arg) != 0)
        return 0;
    return ds.sem_nsems == SK_WAIT_WORDS;
}

static int sem_create(unsigned mode, int *semid_out)
{
    union sk_semun arg;
    int semid, num;

    /* The owner always keeps read and alter rights: it is the writer. */
    semid = semget(IPC_PRIVATE, SK_WAIT_WORDS,
                   IPC_CREAT | IPC_EXCL | (int)((mode & 0777u) | 0600u));
    if (semid < 0)
        return -errno;
    arg.val = 1;
    for (num = 0; num < SK_WAIT_WORDS; num++) {
        if (semctl(semid, num, SETVAL, arg) != 0) {
            int err = errno;

            (void)semctl(semid, 0, IPC_RMID);
            return -err;
        }
    }
    *semid_out = semid;
    return 0;
}

static void sem_set_op(struct sembuf *op, unsigned short num, int delta, int flags)
{
    op->sem_num = num;
    op->sem_op = (short)delta;
    op->sem_flg = (short)flags;
}

static int sem_block(int semid, unsigned index, sk_atomic_u32 *word, uint32_t expected,
                     uint64_t deadline)
{
    unsigned short num = (unsigned short)(index % SK_WAIT_WORDS);
    struct sembuf ops[4];
    int gen, rc;

#if !defined(SK_HAVE_SEMTIMEDOP)
    /* Without semtimedop a timed wait cannot sleep in semop: it polls. */
    if (deadline != 0)
        return degraded_nap(deadline);
#endif
    gen = semctl(semid, num, GETVAL);
    if (gen < 1 || gen > SK_SEM_GEN_LIMIT)
        /* Removed with its segment, not ours to alter, or meddled with. */
        return degraded_nap(deadline);
    if (sk_load(word, SK_SEQ_CST) != expected)
        return 0;
    sk_hook_point("sem-before-semop");
    sem_set_op(&ops[0], num, -gen, IPC_NOWAIT);
    sem_set_op(&ops[1], num, gen, 0);
    sem_set_op(&ops[2], num, -(gen + 1), 0);
    sem_set_op(&ops[3], num, gen + 1, 0);
#if defined(SK_HAVE_SEMTIMEDOP)
    if (deadline != 0) {
        uint64_t left = ns_left(deadline);
        struct timespec rel;

        if (left == 0)
            return -ETIMEDOUT;
        rel = timespec_from_ns(left);
        rc = semtimedop(semid, ops, 4, &rel);
    } else {
        rc = semop(semid, ops, 4);
    }
#else
    rc = semop(semid, ops, 4);
#endif
    if (rc == 0)
        return 0;
    switch (errno) {
    case EINTR:
        return -EINTR;
    case EAGAIN: /* the generation wrapped, or semtimedop timed out */
        return deadline != 0 && ns_left(deadline) == 0 ? -ETIMEDOUT : 0;
    default:     /* EIDRM, EACCES, EINVAL...: fall back to polling */
        return degraded_nap(deadline);
    }
}

static void sem_wake_all(int semid, unsigned index)
{
    unsigned short num = (unsigned short)(index % SK_WAIT_WORDS);
    int tries;

    for (tries = 0; tries < 8; tries++) {
        struct sembuf ops[2];
        int gen = semctl(semid, num, GETVAL), nops = 1;

        if (gen < 0)
            return; /* the set is gone or not ours: nothing to wake */
        if (gen >= 1 && gen < SK_SEM_GEN_LIMIT) {
            sem_set_op(&ops[0], num, 1, 0);
        } else {
            /* Back to 1.  The +1 is what makes every system re-evaluate
             * the sleepers; the IPC_NOWAIT keeps a concurrent waker from
             * blocking us. */
            sem_set_op(&ops[0], num, -gen, IPC_NOWAIT);
            sem_set_op(&ops[1], num, 1, 0);
            nops = 2;
        }
        if (semop(semid, ops, (size_t)nops) == 0 || (errno != EAGAIN && errno != EINTR))
            return;
    }
}
#endif /* SHMKIT_HAVE_SYSV_SEM */

/* ------------------------------------------------------------------ */
/* Wait sets                                                           */
/* ------------------------------------------------------------------ */

static void waitset_reset(struct sk_waitset *ws)
{
    ws->mech = SK_WAIT_POLL;
    ws->wake_mech = SK_WAIT_POLL;
    ws->semid = -1;
}

int sk_waitset_create_with(struct sk_waitset *ws, int mech, unsigned mode)
{
    waitset_reset(ws);
    if (!sk_wait_mechanism_usable(mech))
        return -ENOTSUP;
#if defined(SHMKIT_HAVE_SYSV_SEM)
    if (mech == SK_WAIT_SYSV_SEM) {
        int rc = sem_create(mode, &ws->semid);

        if (rc != 0)
            return rc;
    }
#else
    (void)mode;
#endif
    ws->mech = mech;
    ws->wake_mech = mech;
    return 0;
}

int sk_waitset_create(struct sk_waitset *ws, unsigned mode)
{
    return sk_waitset_create_with(ws, sk_wait_build_mechanism(), mode);
}

void sk_waitset_attach(struct sk_waitset *ws, int mech, int semid)
{
    waitset_reset(ws);
    if (mech == SK_WAIT_SYSV_SEM) {
#if defined(SHMKIT_HAVE_SYSV_SEM)
        if (sem_set_valid(semid)) {
            ws->mech = SK_WAIT_SYSV_SEM;
            ws->wake_mech = SK_WAIT_SYSV_SEM;
            ws->semid = semid;
        }
#else
        (void)semid;
#endif
        return;
    }
    if (sk_wait_mechanism_usable(mech))
        ws->mech = mech;
    if (can_wake(mech))
        ws->wake_mech = mech;
}

void sk_waitset_destroy_owned(struct sk_waitset *ws, long uid)
{
#if defined(SHMKIT_HAVE_SYSV_SEM)
    struct semid_ds ds;
    union sk_semun arg;

    memset(&ds, 0, sizeof ds);
    arg.buf = &ds;
    /* The set id came from a segment: only a set made by the segment's
     * owner is the segment's. */
    if (ws->semid >= 0 && semctl(ws->semid, 0, IPC_STAT, arg) == 0 &&
        (long)ds.sem_perm.cuid == uid)
        (void)semctl(ws->semid, 0, IPC_RMID);
#else
    (void)uid;
#endif
    waitset_reset(ws);
}

void sk_waitset_destroy(struct sk_waitset *ws)
{
#if defined(SHMKIT_HAVE_SYSV_SEM)
    if (ws->semid >= 0)
        (void)semctl(ws->semid, 0, IPC_RMID);
#endif
    waitset_reset(ws);
}

/* ------------------------------------------------------------------ */
/* Block and wake                                                      */
/* ------------------------------------------------------------------ */

int sk_wait_block(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                  uint32_t expected, uint64_t deadline_ns)
{
    int rc;

    if (sk_load(word, SK_ACQUIRE) != expected)
        return 0;
    if (deadline_ns != 0 && ns_left(deadline_ns) == 0)
        return -ETIMEDOUT;
    switch (ws->mech) {
#if defined(SK_CAN_WAIT_FUTEX)
    case SK_WAIT_FUTEX:
        rc = futex_block(word, expected, deadline_ns);
        break;
#endif
#if defined(SHMKIT_HAVE_UMTX)
    case SK_WAIT_UMTX:
        rc = umtx_block(word, expected, deadline_ns);
        break;
#endif
#if defined(SHMKIT_HAVE_OPENBSD_FUTEX)
    case SK_WAIT_OPENBSD_FUTEX:
        rc = openbsd_futex_block(word, expected, deadline_ns);
        break;
#endif
#if defined(SHMKIT_HAVE_NETBSD_FUTEX)
    case SK_WAIT_NETBSD_FUTEX:
        rc = netbsd_futex_block(word, expected, deadline_ns);
        break;
#endif
#if defined(SK_HAVE_DARWIN)
    case SK_WAIT_DARWIN:
        rc = darwin_block(word, expected, deadline_ns);
        break;
#endif
#if defined(SHMKIT_HAVE_SYSV_SEM)
    case SK_WAIT_SYSV_SEM:
        rc = ws->semid >= 0 ? sem_block(ws->semid, index, word, expected, deadline_ns)
                            : poll_block(word, expected, deadline_ns, SK_POLL_MAX_NS);
        break;
#endif
    default:
        rc = poll_block(word, expected, deadline_ns, SK_POLL_MAX_NS);
        break;
    }
    (void)index;
    /* A primitive with a coarser clock may give up a little early: that is
     * a spurious wake-up, and the caller waits again. */
    if (rc == -ETIMEDOUT && (deadline_ns == 0 || ns_left(deadline_ns) != 0))
        rc = 0;
    return rc;
}

void sk_wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    sk_fetch_add(&sk_wait_stats.wakes, 1u, SK_RELAXED);
    switch (ws->wake_mech) {
#if defined(SHMKIT_HAVE_LINUX_FUTEX)
    case SK_WAIT_FUTEX:
        futex_wake_all(word);
        break;
#endif
#if defined(SHMKIT_HAVE_UMTX)
    case SK_WAIT_UMTX:
        umtx_wake_all(word);
        break;
#endif
#if defined(SHMKIT_HAVE_OPENBSD_FUTEX)
    case SK_WAIT_OPENBSD_FUTEX:
        openbsd_futex_wake_all(word);
        break;
#endif
#if defined(SHMKIT_HAVE_NETBSD_FUTEX)
    case SK_WAIT_NETBSD_FUTEX:
        netbsd_futex_wake_all(word);
        break;
#endif
#if defined(SK_HAVE_DARWIN)
    case SK_WAIT_DARWIN:
        darwin_wake_all(word);
        break;
#endif
#if defined(SHMKIT_HAVE_SYSV_SEM)
    case SK_WAIT_SYSV_SEM:
        if (ws->semid >= 0)
            sem_wake_all(ws->semid, index);
        break;
#endif
    default: /* poll: the waiters look for themselves */
        break;
    }
    (void)index;
    (void)word;
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
 * (sigpending) at each of its periodic clock checks.  A pending signal
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
    sw->masked = pthread_sigmask(SIG_BLOCK, &block, &sw->saved) == 0;
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

/* Spin while *WORD == SEEN until the monotonic time END (0: forever);
 * START is when the wait began.  YIELDING gives the CPU away now and
 * then, for long spins on machines with fewer cores than spinning
 * processes.  Watches for signals once the grace period is over (SW:
 * the caller restores the mask with watch_stop). */
static int spin_until(sk_atomic_u32 *word, uint32_t seen, uint64_t start, uint64_t end,
                      int yielding, struct sig_watch *sw)
{
    unsigned n = 0;

    for (;;) {
        if (sk_load(word, SK_ACQUIRE) != seen)
            return 0;
        cpu_relax();
        if ((++n & 63u) == 0) {
            uint64_t now = sk_monotonic_ns();

            if (end != 0 && now >= end)
                return -ETIMEDOUT;
            if (sw->masked) {
                int rc = watch_poll(sw);

                if (rc != 0)
                    return rc;
            } else if (now - start >= SK_SIGNAL_GRACE_NS) {
                watch_start(sw);
            }
            if (yielding && (n & 1023u) == 0)
                (void)sched_yield();
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
        if (ws->mech == SK_WAIT_POLL) /* no kernel sleep: watch the word */
            return poll_block(word, seen, deadline, SK_POLL_MAX_NS);
        sk_hook_point("wait-before-sleep");
        /* W3: sleep while the request is still the generation we asked in. */
        rc = sk_wait_block(ws, index, waiters, asked, deadline);
        if (rc != 0)
            return rc;
        /* Woken by the change (the usual case): do not ask again. */
        if (sk_load(word, SK_ACQUIRE) != seen)
            return 0;
    }
}

int sk_wait_changed(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                    uint32_t seen, sk_atomic_u32 *waiters, int timeout_ms, int mode)
{
    struct sig_watch sw;
    uint64_t deadline = 0, now;
    int rc;

    sw.masked = 0;

    if (sk_load(word, SK_ACQUIRE) != seen)
        return 0;
    if (timeout_ms == 0)
        return -ETIMEDOUT;
    now = sk_monotonic_ns(); /* once: a clock read costs ~20 ns on a VM */
    if (timeout_ms > 0)
        deadline = now + (uint64_t)timeout_ms * 1000000u;

    if (mode == SK_WAIT_SPIN) {
        rc = spin_until(word, seen, now, deadline, 1, &sw);
        watch_stop(&sw);
        return rc == -EINTR && sk_load(word, SK_ACQUIRE) != seen ? 0 : rc;
    }
    if (mode != SK_WAIT_BLOCKING) {
        uint64_t end = now + SK_SPIN_NS;

        if (deadline != 0 && deadline < end)
            end = deadline;
        rc = spin_until(word, seen, now, end, 0, &sw);
        /* Before the kernel sleep, which reports signals itself: deliver
         * what is pending, then restore the caller's mask. */
        if (rc == -ETIMEDOUT)
            rc = watch_poll(&sw);
        watch_stop(&sw);
        if (sk_load(word, SK_ACQUIRE) != seen)
            return 0;
        if (rc != 0)
            return rc;
        if (deadline != 0 && ns_left(deadline) == 0)
            return -ETIMEDOUT;
    }

    if (waiters == NULL)
        /* Nobody can know we wait, so nobody will wake us: short naps. */
        rc = poll_block(word, seen, deadline, SK_UNWOKEN_POLL_NS);
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
 * semaphore path compares generations too (see sem_block).
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
 * Every wake primitive here is a broadcast (FUTEX_WAKE and UMTX_OP_WAKE
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
void sk_notify(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
               sk_atomic_u32 *waiters)
{
    uint32_t asked;

    sk_hook_point("notify-stored");
    sk_fence(SK_SEQ_CST);
    if (waiters == NULL) {
        sk_wake_all(ws, index, word);
        return;
    }
    asked = sk_load(waiters, SK_SEQ_CST);
    if ((asked & SK_WAKE_ASKED) == 0 || !sk_cas(waiters, &asked, asked + 1u))
        return; /* nobody asked, or another notifier took the request */
    sk_hook_point("notify-before-wake");
    sk_wake_all(ws, index, waiters);
}

/* ------------------------------------------------------------------ */
/* The public knobs                                                    */
/* ------------------------------------------------------------------ */

/* Process-wide wait mode; an atomic so that threads may change it. */
static sk_atomic_u32 process_wait_mode = SK_WAIT_ADAPTIVE;

int sk_wait_mode_get(void)
{
    return (int)sk_load(&process_wait_mode, SK_RELAXED);
}

_Static_assert((int)SHMKIT_WAIT_ADAPTIVE == (int)SK_WAIT_ADAPTIVE &&
               (int)SHMKIT_WAIT_SPIN == (int)SK_WAIT_SPIN &&
               (int)SHMKIT_WAIT_BLOCK == (int)SK_WAIT_BLOCKING,
               "public and internal wait modes agree");

SHMKIT_API int shmkit_set_wait_mode(int mode)
{
    if (mode < SHMKIT_WAIT_ADAPTIVE || mode > SHMKIT_WAIT_BLOCK)
        return sk_fail(-EINVAL, "unknown wait mode %d", mode);
    return (int)sk_exchange(&process_wait_mode, (uint32_t)mode);
}

SHMKIT_API const char *shmkit_wait_mechanism(void)
{
    return sk_wait_mechanism_name(sk_wait_build_mechanism());
}
