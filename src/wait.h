/*
 * wait.h - waiting for a 32-bit word in shared memory to change, and
 * waking the processes that wait for it.  Internal to libshmkit.
 *
 * A segment has SK_WAIT_WORDS "wait indices".  Each word that someone may
 * wait on (a slot's version, a ring's head or tail) is given one index and
 * a wake-request word in the segment; the index only matters to the
 * System V semaphore mechanism, where it selects the semaphore.  Several
 * words may share an index: that costs spurious wake-ups, never lost ones.
 *
 * The blocking mechanism is chosen by configure (m4/shmkit-wait.m4) and
 * recorded in the segment by its creator, so that a process of another
 * build can still wait (by polling, at worst) and wake the others.
 *
 * The usual pair of calls:
 *
 *   reader:  rc = shmkit__wait_changed(&ws, IDX, &h->version, seen, &h->waiters,
 *                                 timeout_ms, SK_WAIT_MODE_ADAPTIVE);
 *   writer:  sk_store(&h->version, seen + 1, SK_RELEASE);
 *            shmkit__notify(&ws, IDX, &h->version, &h->waiters);
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_WAIT_H
#define SHMKIT_WAIT_H

#include <stdint.h>

#include "atomics.h"

/* Mechanism numbers.  They are stored in segment headers: never renumber.
 * (configure's choice is SHMKIT_MECH_* in config.h; the wait modes below
 * are SK_WAIT_MODE_*, the public ones SHMKIT_WAIT_*.) */
enum sk_wait_mech {
    SK_MECH_POLL = 1,          /* nanosleep with backoff (wait-poll.c) */
    SK_MECH_FUTEX,             /* Linux futex, shared (wait-futex.c) */
    SK_MECH_UMTX,              /* FreeBSD _umtx_op UMTX_OP_WAIT_UINT (wait-umtx.c) */
    SK_MECH_OPENBSD_FUTEX,     /* OpenBSD futex() (wait-openbsd.c) */
    SK_MECH_NETBSD_FUTEX,      /* NetBSD __futex (wait-netbsd.c) */
    SK_MECH_DARWIN,            /* os_sync_wait_on_address or __ulock_wait (wait-darwin.c) */
    SK_MECH_SYSV_SEM           /* a System V semaphore set per segment (wait-sem.c) */
};
#define SK_MECH_LAST SK_MECH_SYSV_SEM

/* The low bit of a wake request: "somebody asked in this generation"
 * (the request is a generation counter, see shmkit__notify in wait.c). */
#define SK_WAKE_ASKED 1u

/* Wait indices per segment (sysv-sem: semaphores per set). */
#define SK_WAIT_WORDS 4

/* Modes of shmkit__wait_changed; the same numbers as the public SHMKIT_WAIT_*. */
enum sk_wait_mode {
    SK_WAIT_MODE_ADAPTIVE = 0, /* spin for SK_SPIN_NS, then block */
    SK_WAIT_MODE_SPIN,         /* spin (yielding now and then) until the timeout */
    SK_WAIT_MODE_BLOCK         /* block at once */
};

/* How long the adaptive mode spins before blocking.  A wake-up through the
 * kernel costs tens of microseconds on a VM; a writer that answers within
 * this window is seen without any system call.  Bounded so that an idle
 * reader costs nothing. */
#ifndef SK_SPIN_NS
#define SK_SPIN_NS 30000u
#endif

/* Longest sleep when nobody will wake us (a reader that cannot write the
 * segment, hence cannot register as a waiter, where the writer does not
 * wake followers: see below): the wake latency then. */
#define SK_UNWOKEN_POLL_NS 1000000u

/* Followers: readers that cannot write the segment, on a segment whose
 * mode lets such readers in (sk_seg_has_followers).  A follower spins at
 * least SK_FOLLOWER_SPIN_NS after it starts waiting, in every wait mode,
 * and then sleeps in the kernel on the data word itself; the writer wakes
 * the sleepers of the word after a publication that comes at least
 * SK_FOLLOWER_GAP_NS after the one before the last (the gap clock, see
 * "Followers" in wait.c).  The gap must stay below the spin, with a
 * margin for the clock reads and the time between a follower's last look
 * at the clock and its kernel compare (which only makes it later). */
#ifndef SK_FOLLOWER_SPIN_NS
#define SK_FOLLOWER_SPIN_NS 50000u
#endif
#ifndef SK_FOLLOWER_GAP_NS
#define SK_FOLLOWER_GAP_NS 40000u
#endif
_Static_assert(SK_FOLLOWER_GAP_NS + 5000u <= SK_FOLLOWER_SPIN_NS,
               "a follower spins longer than the writer's gap, with a margin");

/* sysv-sem: semaphore values run from 1 to this limit, then wrap to 1 (see
 * wait-sem.c); the limit stays well below SEMVMX (32767 everywhere). */
#define SK_SEM_GEN_LIMIT 16384

/* The wait resources of one segment, in this process. */
struct sk_waitset {
    int mech;        /* how this process waits (enum sk_wait_mech) */
    int wake_mech;   /* how it wakes others: the segment's mechanism when
                        this build can wake it, else SK_MECH_POLL (nothing) */
    int semid;       /* sysv-sem: the semaphore set, -1 otherwise */
    int followers;   /* 1: readers without write access may sleep on the
                        data words (shmkit__waitset_set_followers) */
    uint64_t published[2]; /* a writer's gap clock: the monotonic times of
                        its last two notifies with followers, newest
                        first, 0 before (private to the handle) */
};

/* Test hook: counts shmkit__wake_all calls in this process, so that tests can
 * check that a writer without waiters makes no wake-up system call. */
struct shmkit__wait_stats {
    sk_atomic_u32 wakes;
};
extern struct shmkit__wait_stats shmkit__wait_stats;

/* The mechanism configure chose for this build. */
int shmkit__wait_build_mechanism(void);

/* "futex", "umtx", "openbsd-futex", "netbsd-futex", "darwin", "sysv-sem",
 * "poll"; "unknown" for any other number (it may come from a segment). */
const char *shmkit__wait_mechanism_name(int mech);

/* 1 if this build can wait with MECH, 0 if not. */
int shmkit__wait_mechanism_usable(int mech);

/* For the creator of a segment: set up the segment's wait resources with
 * the build mechanism (sysv-sem: a new semaphore set of SK_WAIT_WORDS with
 * permission bits MODE & 0777).  Record ws->mech and ws->semid in the
 * segment for shmkit__waitset_attach, and call shmkit__waitset_destroy when the
 * segment is removed.  Returns 0, or -errno if the semaphore set could not
 * be made: WS is then still usable, with SK_MECH_POLL. */
int shmkit__waitset_create(struct sk_waitset *ws, unsigned mode);

/* The same with a chosen mechanism (tests, and --with-wait experiments):
 * -ENOTSUP, and WS set to SK_MECH_POLL, if this build cannot use MECH. */
int shmkit__waitset_create_with(struct sk_waitset *ws, int mech, unsigned mode);

/* For a process opening a segment: use the mechanism MECH and semaphore set
 * SEMID recorded in its header (untrusted: both are checked).  If this
 * build cannot wait with MECH it waits by polling, but still wakes the
 * segment's waiters whenever it can (the semaphore set if SEMID is valid,
 * a kernel primitive of this platform), so that builds interoperate. */
void shmkit__waitset_attach(struct sk_waitset *ws, int mech, int semid);

/* Tell WS whether the segment may have followers (sk_seg_has_followers),
 * after shmkit__waitset_attach.  Only where the mechanism sleeps and wakes
 * by address across processes, also on a read-only mapping (futex,
 * OpenBSD and NetBSD futex, darwin; not umtx, whose shared keys need a
 * writable mapping, nor sysv-sem or poll): then a writer's notify reads
 * the clock and wakes the data word by the gap clock, and a follower's
 * wait sleeps on that word.  Elsewhere followers nap as before. */
void shmkit__waitset_set_followers(struct sk_waitset *ws, int followers);

/* shmkit__waitset_destroy for a set whose id was read from a segment owned by
 * UID: the set is removed only if UID created it. */
void shmkit__waitset_destroy_owned(struct sk_waitset *ws, long uid);

/* Free the segment's wait resources (sysv-sem: remove the semaphore set),
 * when the segment itself is removed.  WS becomes SK_MECH_POLL. */
void shmkit__waitset_destroy(struct sk_waitset *ws);

/* Block while *WORD == EXPECTED, until woken or until the CLOCK_MONOTONIC
 * time DEADLINE_NS (0: no deadline).  INDEX selects the semaphore
 * (sysv-sem).  Returns 0 when woken, when *WORD differs, or spuriously (the
 * caller re-checks), -ETIMEDOUT once the deadline has passed, -EINTR when a
 * signal handler ran.  The caller must be registered as a waiter (see
 * shmkit__wait_changed) for a wake-up to be guaranteed. */
int shmkit__wait_block(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                       uint32_t expected, uint64_t deadline_ns);

/* Wake every process blocked on WORD (INDEX: its semaphore for sysv-sem).
 * Prefer shmkit__notify, which skips the system call when nobody waits. */
void shmkit__wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word);

/* Wait until *WORD != SEEN; what the slot and the ring call.
 *
 * SK_WAIT_MODE_ADAPTIVE spins up to SK_SPIN_NS (with a CPU pause hint), then
 * asks for a wake-up in *WAITERS, re-checks and blocks; SK_WAIT_MODE_SPIN only
 * spins; SK_WAIT_MODE_BLOCK asks and blocks at once.  WAITERS is the wake
 * request of WORD in the segment (a generation counter whose low bit asks
 * for a wake-up, shared by every waiter of WORD, see shmkit__notify in wait.c;
 * a waiter that times out may leave it asked), or NULL when the caller
 * cannot write to the segment: nobody can then know it waits.  Such a
 * follower spins SK_FOLLOWER_SPIN_NS in every mode (SK_WAIT_MODE_BLOCK
 * too) and then, if WS has followers, sleeps in the kernel on WORD, which
 * the writer wakes by its gap clock (wait.c, "Followers"); otherwise it
 * sleeps in steps of at most SK_UNWOKEN_POLL_NS (about 1 ms of wake
 * latency).  WORD must then be the word that the writer's next
 * publication stores and notifies.
 *
 * TIMEOUT_MS < 0 waits forever, 0 only checks.  Returns 0 as soon as the
 * word differs from SEEN, -ETIMEDOUT, or -EINTR if a signal handler ran
 * while blocked (and the word had not changed): the caller decides whether
 * to wait again; no wake-up is lost by returning. */
int shmkit__wait_changed(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                         uint32_t seen, sk_atomic_u32 *waiters, int timeout_ms, int mode);

/* The writer's side, called after storing a new value to *WORD (release
 * order): if a waiter asked in *WAITERS, consumes the request (starts the
 * next generation) and wakes every waiter of WORD; makes no system call
 * at all when nobody asked.  If WS has followers, also reads the clock
 * and wakes the sleepers of *WORD itself when the gap clock says one may
 * sleep there (updating WS's clock: one thread at a time per WS). */
void shmkit__notify(struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word,
                    sk_atomic_u32 *waiters);

/* The process-wide wait mode (enum sk_wait_mode) set by shmkit_set_wait_mode. */
int shmkit__wait_mode_get(void);

#endif /* SHMKIT_WAIT_H */
