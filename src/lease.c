/*
 * lease.c - the single-writer lease (also the lease of each consumer of
 * a block ring), and who is alive for shmkit_info.
 *
 * Three 32-bit words in the header: the holder's pid, a token of its
 * process start time (0 while being set, or where the platform cannot
 * tell) and the id of its PID namespace (0 unknown).  No process-shared
 * mutex is used (OpenBSD, NetBSD and macOS lack robust ones), so a crashed
 * holder can never leave the lease "locked": anyone who can see that the
 * holder is dead takes the lease over.
 *
 * Whether the holder is alive.  A pid means something only in its own PID
 * namespace (containers that share /dev/shm or an IPC namespace): judged
 * by its number from another namespace, a live writer looks dead and two
 * writers tear each other's records.  So a pid recorded in another
 * namespace is never judged by its number; instead:
 *   - POSIX segments on Linux: the holder keeps an open file description
 *     lock (F_OFD_SETLK) on one byte of the object for as long as it holds
 *     the lease.  The kernel drops it when the holder's last reference to
 *     that open file description goes away, in particular when it dies, in
 *     whatever namespace.  The lock is taken before the words are written
 *     and dropped after they are cleared, so whoever gets the lock knows
 *     that every holder that took it is gone.  The words still matter for
 *     holders that take no lock (shmkit 0.1).  fork() shares the open file
 *     description: the library closes its lock descriptors in a forked
 *     child (seg_posix.c), so a child never keeps its parent's lease alive.
 *   - System V segments, and POSIX ones elsewhere: no such token (a
 *     SEM_UNDO semaphore would be one, at the price of a second IPC object
 *     per segment that leaks whenever the segment is removed by ipcrm, and
 *     of SEMMNI).  A holder in another namespace counts as alive while the
 *     segment is attached by any process but the one asking (System V
 *     shm_nattch: a dead process is detached); where even that is unknown
 *     it counts as alive, and the lease is never taken over.
 *   - A holder in our namespace (or recorded without one) is judged by pid
 *     and start time as before; a zombie counts as dead (proc.c).
 *
 * Protocol (doc/FORMAT.md, "Writer lease"):
 *   acquire free:   [lock]; CAS pid 0 -> me, store pidns, store token.
 *   take over dead: [lock]; CAS token old -> 0, then CAS pid old -> me,
 *                   store pidns, store token.  Clearing the token first
 *                   means that a third process never sees our pid paired
 *                   with the dead holder's token (which would look like a
 *                   reused pid).
 *   release:        store token 0, store pidns 0, CAS pid me -> 0, [unlock].
 * The token is stored last (release), so whoever sees a token also sees
 * the pidns that goes with it.  A holder with token 0 is between its CAS
 * and its token store: it counts as alive while its pid exists here or,
 * where that cannot say (another namespace), while the segment is
 * attached by anyone else.  A lease naming our own pid, our namespace and
 * another token was left by an earlier process with the same pid: it is
 * taken over like any dead holder's.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

#include "atomics.h"
#include "backend.h"
#include "copy.h"
#include "error.h"
#include "format.h"
#include "lease.h"
#include "proc.h"
#include "segment.h"

#define LEASE_ATTEMPTS 64

/* The header words and the lock byte of one lease. */
struct lease {
    sk_atomic_u32 *pid, *token, *pidns;
    unsigned lock;
    const char *name;
};

struct holder {
    uint32_t pid, token, pidns;
};

/* The lease of ROLE; a consumer's is in entry INDEX of the consumer
 * table, which the caller checked against the segment's validated size. */
static void lease_of(struct sk_seg *seg, enum sk_lease_role role, uint32_t index, struct lease *l)
{
    struct sk_header *h = seg->base;

    if (role == SK_LEASE_CONSUMER) {
        struct sk_consumer *c = sk_consumer_entry(h, index);

        *l = (struct lease){&c->pid, &c->token, &c->pidns,
                            (unsigned)((unsigned char *)&c->pid - (unsigned char *)h),
                            "consumer"};
    } else {
        *l = (struct lease){&h->lease_pid, &h->lease_token, &h->lease_pidns, SK_LOCK_WRITER,
                            "writer"};
    }
}

/* Someone other than the asking process has SEG attached: 1 yes, 0 no,
 * -1 unknown.  The asker is attached once itself (its handle). */
static int attached_by_others(const struct sk_seg *seg)
{
    long n = shmkit__seg_nattch(seg);

    return n < 0 ? -1 : n > 1;
}

/* Is holder H alive?  1 alive, 0 dead, -1 cannot tell.  LOCK is what the
 * lease lock says of other processes (SK_LOCK_*). */
static int holder_alive(const struct sk_seg *seg, const struct holder *h, int lock)
{
    if (lock == SK_LOCK_HELD)
        return 1;
    if (shmkit__pidns_is_mine(h->pidns)) {
        if (shmkit__proc_alive((long)h->pid, h->token))
            return 1;
        /* Token 0 where tokens exist: a holder between its CAS and its
         * stores, whose namespace is not recorded yet.  If it took a lock,
         * LOCK said so; without one, on a system with namespaces, its pid
         * may be another namespace's. */
        if (h->token == 0 && h->pidns == 0 && lock == SK_LOCK_NONE && shmkit__self_token() != 0 &&
            shmkit__pidns_self() != 0)
            return attached_by_others(seg) == 1;
        return 0;
    }
    /* Another namespace: its pid means nothing here.  A holder that
     * recorded its namespace also took the lock where there is one. */
    if (lock == SK_LOCK_FREE)
        return 0;
    return attached_by_others(seg);
}

static void load_holder(const struct lease *l, struct holder *h)
{
    h->pid = sk_load(l->pid, SK_ACQUIRE);
    h->token = sk_load(l->token, SK_ACQUIRE);
    h->pidns = sk_load(l->pidns, SK_ACQUIRE);
}

static int take_free(const struct lease *l, uint32_t me, uint32_t my_token, uint32_t my_ns)
{
    uint32_t expected = 0;

    if (!sk_cas(l->pid, &expected, me))
        return 0;
    sk_store(l->pidns, my_ns, SK_RELAXED);
    sk_store(l->token, my_token, SK_RELEASE);
    return 1;
}

static int take_over(const struct lease *l, const struct holder *old, uint32_t me,
                     uint32_t my_token, uint32_t my_ns)
{
    uint32_t expected = old->token;

    if (old->token != 0 && !sk_cas(l->token, &expected, 0))
        return 0;
    expected = old->pid;
    if (!sk_cas(l->pid, &expected, me))
        return 0;
    sk_store(l->pidns, my_ns, SK_RELAXED);
    sk_store(l->token, my_token, SK_RELEASE);
    return 1;
}

/* H names this very process: our pid in our namespace, and a token that
 * is ours or not stored yet (another thread of ours between its stores).
 * Another token is an earlier process that had our pid: it is dead. */
static int is_me(const struct holder *h, uint32_t me, uint32_t my_token, uint32_t my_ns)
{
    if (h->pid != me || (h->pidns != 0 && h->pidns != my_ns))
        return 0;
    return h->token == 0 || my_token == 0 || h->token == my_token;
}

static int busy(const struct lease *l, const struct holder *h, uint32_t my_ns)
{
    if (h->pid == 0)
        return shmkit__fail(SHMKIT_EBUSY, "another process is becoming the %s", l->name);
    if (is_me(h, (uint32_t)getpid(), shmkit__self_token(), my_ns))
        return shmkit__fail(SHMKIT_EBUSY, "this process (pid %lu) is already the %s",
                            (unsigned long)h->pid, l->name);
    if (!shmkit__pidns_is_mine(h->pidns))
        return shmkit__fail(SHMKIT_EBUSY, "pid %lu of another PID namespace is the %s",
                            (unsigned long)h->pid, l->name);
    return shmkit__fail(SHMKIT_EBUSY, "pid %lu is the %s", (unsigned long)h->pid, l->name);
}

/* The word protocol, with LOCK what the lease lock says of others. */
static int acquire_words(struct sk_seg *seg, const struct lease *l, int lock)
{
    uint32_t me = (uint32_t)getpid(), my_token = shmkit__self_token(), my_ns = shmkit__pidns_self();
    struct holder h;
    int attempt;

    for (attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
        load_holder(l, &h);
        /* The words are read one after the other: if the pid changed in
         * between, the token may be the next holder's, and clearing it in
         * take_over would strip a live holder of its identity. */
        if (sk_load(l->pid, SK_ACQUIRE) != h.pid)
            continue;
        if (h.pid == 0) {
            if (take_free(l, me, my_token, my_ns))
                return 0;
            continue;
        }
        if (is_me(&h, me, my_token, my_ns) || holder_alive(seg, &h, lock) != 0)
            return busy(l, &h, my_ns);
        if (take_over(l, &h, me, my_token, my_ns))
            return 0;
    }
    return shmkit__fail(SHMKIT_EBUSY, "%s lease contended", l->name);
}

int shmkit__lease_acquire(struct sk_seg *seg, enum sk_lease_role role, uint32_t index)
{
    struct lease l;
    struct holder h;
    int lock, rc;

    lease_of(seg, role, index, &l);
    lock = shmkit__seg_lock(seg, l.lock);
    if (lock == SHMKIT_EBUSY) {
        load_holder(&l, &h);
        return busy(&l, &h, shmkit__pidns_self());
    }
    if (lock < 0)
        return lock;
    /* Holding the lock, no other lock holder exists: LOCK_FREE. */
    rc = acquire_words(seg, &l, lock == 0 ? SK_LOCK_FREE : SK_LOCK_NONE);
    if (rc < 0 && lock == 0)
        shmkit__seg_unlock(seg, l.lock);
    return rc;
}

void shmkit__lease_release(struct sk_seg *seg, enum sk_lease_role role, uint32_t index)
{
    uint32_t me = (uint32_t)getpid();
    struct lease l;

    lease_of(seg, role, index, &l);
    /* Taken over meanwhile, or the same pid in another namespace: it is
     * not ours to clear. */
    if (sk_load(l.pid, SK_RELAXED) == me && shmkit__pidns_is_mine(sk_load(l.pidns, SK_RELAXED))) {
        sk_store(l.token, 0, SK_RELAXED);
        sk_store(l.pidns, 0, SK_RELAXED);
        sk_cas(l.pid, &me, 0);
    }
    shmkit__seg_unlock(seg, l.lock);
}

void shmkit__lease_describe(struct sk_seg *seg, enum sk_lease_role role, uint32_t index,
                            struct sk_holder_info *out)
{
    struct lease l;
    struct holder h;

    lease_of(seg, role, index, &l);
    load_holder(&l, &h);
    out->pid = (long)h.pid;
    out->other_pidns = !shmkit__pidns_is_mine(h.pidns);
    out->alive = h.pid == 0 ? -1 : holder_alive(seg, &h, shmkit__seg_lock_probe(seg, l.lock));
}

void shmkit__creator_describe(struct sk_seg *seg, int owned_or_half, struct sk_holder_info *out)
{
    struct sk_header hdr;
    struct holder h;
    int lock;

    /* The static line, as far as the creator got (untrusted numbers). */
    shmkit__racy_copy(&hdr, seg->base, offsetof(struct sk_header, checksum));
    h.pid = hdr.creator_pid;
    h.token = shmkit__token_from_start(hdr.creator_start);
    h.pidns = hdr.creator_pidns;
    out->pid = (long)h.pid;
    out->other_pidns = !shmkit__pidns_is_mine(h.pidns);
    if (h.pid == 0) {
        out->alive = -1;
        return;
    }
    /* The creator's lock lasts as long as its creating handle.  For an
     * owned or half-created segment that is what "the creator is alive"
     * must mean; for a persistent one the creator may live on without it,
     * which only its pid could tell, and only in our namespace. */
    lock = shmkit__seg_lock_probe(seg, SK_LOCK_CREATOR);
    if (lock == SK_LOCK_HELD)
        out->alive = 1;
    else if (!out->other_pidns)
        out->alive = shmkit__proc_alive((long)h.pid, h.token);
    else if (owned_or_half)
        out->alive = holder_alive(seg, &h, lock);
    else
        out->alive = -1;
}
