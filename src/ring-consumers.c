/*
 * ring-consumers.c - the consumer table of a block ring: how a consumer
 * joins it, and how the writer finds the slowest consumer and drops the
 * dead ones (doc/FORMAT.md, "Consumers").
 *
 * A block ring has N consumer entries (N chosen at creation, 1 by
 * default), one 128-byte line each after the header.  An entry holds a
 * lease (pid, token, namespace, as the writer's), a state word and a tail:
 * the end of the frames that consumer has consumed.  An ACTIVE entry's
 * tail holds the writer back: every consumer receives every message, and
 * the writer waits for the slowest active one.
 *
 * Entries and crashes.  A consumer that closes its handle or dies leaves
 * its entry active, with no live holder: the ring keeps its messages, and
 * the next consumer that opens the ring without SHMKIT_FROM_NEWEST or
 * SHMKIT_FROM_OLDEST takes the entry over and continues where the last one
 * stopped (with one consumer, this is the single consumer of shmkit 0.1).
 * It never wedges the writer while another consumer is alive: when such an
 * entry is what the writer waits for, and its tail has not moved for a
 * while, the writer drops it (makes it vacant) as long as an entry with a
 * live holder exists.  With no live consumer at all, the writer waits, as
 * a single-consumer ring always did: the messages are kept.
 *
 * The state word is a generation counter whose low bit says "active".
 * Whoever changes what an entry means (a consumer resuming it, a consumer
 * joining it afresh, the writer dropping it) does so with a compare-and-
 * swap that adds to the generation, so the writer cannot drop an entry
 * that a new consumer has just taken over: one of the two CASes fails.
 *
 * Joining afresh, at the newest or the oldest retained message, races
 * with a writer that is about to overwrite that message.  The writer
 * scans the table only when the minimum it loaded last says the ring is
 * full; it then stores the minimum it found in `oldest` and scans again,
 * and a joiner stores its tail and state and then loads `oldest`: the two
 * halves of a Dekker pattern (seq_cst fences on both sides).  Either the
 * writer's second scan sees the joiner, or the joiner sees the `oldest`
 * from the writer's first scan, and then starts no earlier than it.
 * Everything before `oldest` may be overwritten at any time; everything
 * from it on is kept until the next scan, which sees the joiner.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "ring-impl.h"

#include "lease.h"

/* How often a writer that waits for a consumer whose tail does not move
 * checks whether that consumer is still alive (rings of 2 or more). */
#define SK_CONSUMER_CHECK_MS 50

/* Bounded retries of a joiner against a writer that keeps scanning. */
#define JOIN_ATTEMPTS 1000

static struct sk_consumer *entry(const shmkit_ring *ring, uint32_t i)
{
    return sk_consumer_entry(ring->hdr, i);
}

/* The state after STATE with the next generation, active or vacant. */
static uint32_t next_state(uint32_t state, int active)
{
    return (((state >> 1) + 1u) << 1) | (active ? SK_CONSUMER_ACTIVE : 0u);
}

static int is_active(uint32_t state)
{
    return (state & SK_CONSUMER_ACTIVE) != 0;
}

/* Does a live process hold entry I's lease?  1 yes, 0 no (none, or dead),
 * -1 cannot tell (counted as alive by callers that would drop it). */
static int holder_alive(shmkit_ring *ring, uint32_t i)
{
    struct sk_holder_info holder;

    shmkit__lease_describe(&ring->h.seg, SK_LEASE_CONSUMER, i, &holder);
    return holder.pid == 0 ? 0 : holder.alive;
}

/* ------------------------------------------------------------------ */
/* The writer                                                          */
/* ------------------------------------------------------------------ */

/* One pass over the table: the oldest tail of an active entry (HEAD if
 * none is active) in *MIN, and its entry in *SLOWEST (-1 if none); on
 * damage, *MIN is the damaged tail.
 *
 * A tail more than a capacity behind head has been lapped: the writer
 * never does that to a consumer it saw, so it is a joiner that the
 * writer's last scan missed, between its first store and its correction
 * (above), or damage.  Either way the writer goes on without it: the
 * joiner corrects itself before it reads, and a consumer with a damaged
 * tail finds frames of another lap and reports the damage.  A tail ahead
 * of head, or off the frame grid, is damage the writer reports. */
static int scan_once(const shmkit_ring *ring, uint32_t head, uint32_t *min, int *slowest)
{
    uint32_t i;

    for (i = 0; i < ring->consumers; i++) {
        struct sk_consumer *c = entry(ring, i);
        uint32_t tail;

        if (!is_active(sk_load(&c->state, SK_ACQUIRE)))
            continue;
        tail = sk_load(&c->tail, SK_ACQUIRE);
        if ((int32_t)(head - tail) < 0 || !aligned(tail)) {
            *min = tail;
            return shmkit__fail(SHMKIT_ECORRUPT, "consumer %lu's cursor %lu out of range",
                                (unsigned long)i, (unsigned long)tail);
        }
        if ((uint32_t)(head - tail) > ring->cap)
            continue;
        if ((uint32_t)(head - tail) > (uint32_t)(head - *min)) {
            *min = tail;
            *slowest = (int)i;
        }
    }
    return 0;
}

int shmkit__ring_scan_consumers(shmkit_ring *ring, uint32_t *min, int *slowest)
{
    uint32_t head = ring->w_head;
    int rc;

    *min = head;
    *slowest = -1;
    if ((rc = scan_once(ring, head, min, slowest)) < 0 || ring->consumers == 1)
        return rc; /* one entry: nobody joins past it (join_fresh) */
    /* The writer's half of the join handshake: announce, fence, scan. */
    sk_store(&ring->hdr->oldest, *min, SK_SEQ_CST);
    sk_fence(SK_SEQ_CST);
    return scan_once(ring, head, min, slowest);
}

/* Has the slowest tail been TAIL for SK_CONSUMER_CHECK_MS?  Counted
 * across calls (a send with a short timeout, retried, must not drop a
 * consumer that is only slow to restart). */
static int stuck_long(shmkit_ring *ring, uint32_t tail)
{
    uint64_t now = shmkit__monotonic_ns();

    if (ring->w_stuck_since == 0 || ring->w_stuck_tail != tail) {
        ring->w_stuck_tail = tail;
        ring->w_stuck_since = now;
        return 0;
    }
    return now - ring->w_stuck_since >= (uint64_t)SK_CONSUMER_CHECK_MS * 1000000u;
}

/* The writer has waited for the slowest consumer, at TAIL, in vain: once
 * that has lasted long enough, drop every entry that holds it back from
 * NEED bytes of space and that no live process holds, if some live
 * process holds another.  1 if one was dropped. */
int shmkit__ring_drop_dead(shmkit_ring *ring, uint32_t slowest_tail, uint32_t need)
{
    uint32_t i;
    int live = 0, dropped = 0;

    if (ring->consumers < 2 || !stuck_long(ring, slowest_tail))
        return 0;
    for (i = 0; i < ring->consumers && !live; i++)
        live = is_active(sk_load(&entry(ring, i)->state, SK_ACQUIRE)) && holder_alive(ring, i) == 1;
    for (i = 0; i < ring->consumers && live; i++) {
        struct sk_consumer *c = entry(ring, i);
        uint32_t state = sk_load(&c->state, SK_ACQUIRE);
        uint32_t tail = sk_load(&c->tail, SK_ACQUIRE);

        if (!is_active(state) || ring->cap - (uint32_t)(ring->w_head - tail) >= need ||
            holder_alive(ring, i) != 0)
            continue;
        /* Fails if a consumer took the entry over since the load. */
        dropped |= sk_cas(&c->state, &state, next_state(state, 0));
    }
    return dropped;
}

int shmkit__ring_check_interval(const shmkit_ring *ring, int left_ms)
{
    int slice = sk_idle_slice(left_ms);

    return ring->consumers > 1 && slice > SK_CONSUMER_CHECK_MS ? SK_CONSUMER_CHECK_MS : slice;
}

/* ------------------------------------------------------------------ */
/* The consumers                                                       */
/* ------------------------------------------------------------------ */

uint32_t shmkit__ring_oldest_kept(const struct sk_header *h, uint32_t consumers, uint32_t cap,
                                  uint32_t head)
{
    uint32_t i, oldest = head;

    for (i = 0; i < consumers; i++) {
        struct sk_consumer *c = sk_consumer_entry(h, i);
        uint32_t tail = sk_load(&c->tail, SK_ACQUIRE);

        if ((sk_load(&c->state, SK_ACQUIRE) & SK_CONSUMER_ACTIVE) && aligned(tail) &&
            (uint32_t)(head - tail) <= cap && (uint32_t)(head - tail) > (uint32_t)(head - oldest))
            oldest = tail;
    }
    return oldest;
}

/* Where a fresh consumer starts: the newest frame (the hint may lag by a
 * message), or the oldest frame kept for an active consumer (the
 * handshake then moves it up to what the writer still keeps). */
static uint32_t join_position(const shmkit_ring *ring, unsigned flags)
{
    struct sk_header *h = ring->hdr;
    uint32_t head = sk_load(&h->head, SK_ACQUIRE), start;

    if (!aligned(head))
        return head; /* damage: the first read reports it */
    if (flags & SHMKIT_FROM_OLDEST)
        return shmkit__ring_oldest_kept(h, ring->consumers, ring->cap, head);
    start = sk_load(&h->newest, SK_ACQUIRE);
    return (uint32_t)(head - start) <= ring->cap && aligned(start) ? start : head;
}

static void store_position(struct sk_consumer *c, uint32_t tail)
{
    sk_store(&c->tail, tail, SK_RELEASE);
}

/* An active entry's tail never moves back: the writer may be writing
 * up to where that tail, loaded earlier, allowed it to. */
static uint32_t not_before_tail(const shmkit_ring *ring, struct sk_consumer *c, uint32_t state,
                                uint32_t pos)
{
    uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE), tail = sk_load(&c->tail, SK_ACQUIRE);

    if (!is_active(state) || (uint32_t)(head - tail) > ring->cap || !aligned(tail))
        return pos;
    return (int32_t)(pos - tail) < 0 ? tail : pos;
}

/* Make entry I (whose lease we hold, and whose state read STATE) a fresh
 * consumer's: at the newest or oldest message, never before what the
 * writer may overwrite (the handshake above).  The only entry of a
 * one-consumer ring is always active: not moving its tail back is all
 * it takes there, and its writer saves the handshake. */
static int join_fresh(shmkit_ring *ring, uint32_t i, uint32_t state, unsigned flags)
{
    struct sk_consumer *c = entry(ring, i);
    uint32_t pos = not_before_tail(ring, c, state, join_position(ring, flags));
    int attempt;

    store_position(c, pos);
    /* Only the writer changes an entry whose lease we hold, and only
     * once (dropping it): a second failure is someone else's doing. */
    if (!sk_cas(&c->state, &state, next_state(state, 1)) &&
        !sk_cas(&c->state, &state, next_state(state, 1)))
        return shmkit__fail(SHMKIT_ECORRUPT, "consumer entry %lu changed under its lease",
                            (unsigned long)i);
    ring->my_state = next_state(state, 1);
    for (attempt = 0; attempt < JOIN_ATTEMPTS && ring->consumers > 1; attempt++) {
        uint32_t oldest;

        sk_fence(SK_SEQ_CST);
        oldest = sk_load(&ring->hdr->oldest, SK_SEQ_CST);
        if (!aligned(oldest) || (int32_t)(pos - oldest) >= 0) {
            ring->pos = pos;
            return 0;
        }
        pos = oldest; /* the writer may be overwriting before it: start there */
        store_position(c, pos);
    }
    if (ring->consumers == 1) {
        ring->pos = pos;
        return 0;
    }
    return shmkit__fail(SHMKIT_ECONTENDED, "could not join: the writer kept moving");
}

/* Take entry I's lease: 1 taken, 0 held by a live process (the lease's
 * detail names it: the error detail of a one-consumer ring), or an
 * error. */
static int take_lease(shmkit_ring *ring, uint32_t i)
{
    int rc = shmkit__handle_lease(&ring->h, SK_LEASE_CONSUMER, i);

    return rc == SHMKIT_EBUSY ? 0 : rc < 0 ? rc : 1;
}

/* Take entry I over from a holder that is gone and continue at its tail,
 * if it is still active and nobody else got there first.  1 done, 0 not
 * this entry, or an error. */
static int resume(shmkit_ring *ring, uint32_t i)
{
    struct sk_consumer *c = entry(ring, i);
    uint32_t state = sk_load(&c->state, SK_ACQUIRE);
    int rc;

    if (!is_active(state))
        return 0;
    rc = take_lease(ring, i); /* it tells whether the holder is gone */
    if (rc <= 0)
        return rc;
    state = sk_load(&c->state, SK_ACQUIRE);
    /* Claimed with a new generation, so that the writer cannot drop it
     * between our check and our first read (its CAS fails). */
    if (is_active(state) && sk_cas(&c->state, &state, next_state(state, 1))) {
        ring->my_state = next_state(state, 1);
        ring->pos = sk_load(&c->tail, SK_ACQUIRE);
        return 1;
    }
    rc = join_fresh(ring, i, state, 0); /* dropped meanwhile: join as new */
    return rc < 0 ? rc : 1;
}

/* Join entry I afresh if its lease can be had: 1 done, 0 busy, or an
 * error.  An active entry is taken only if TAKE_ACTIVE (no vacant one
 * was free). */
static int join_entry(shmkit_ring *ring, uint32_t i, unsigned flags, int take_active)
{
    uint32_t state = sk_load(&entry(ring, i)->state, SK_ACQUIRE);
    int rc;

    if (is_active(state) && !take_active)
        return 0;
    rc = take_lease(ring, i);
    if (rc <= 0)
        return rc;
    rc = join_fresh(ring, i, sk_load(&entry(ring, i)->state, SK_ACQUIRE), flags);
    return rc < 0 ? rc : 1;
}

int shmkit__ring_join(shmkit_ring *ring, unsigned flags)
{
    int fresh = (flags & (SHMKIT_FROM_OLDEST | SHMKIT_FROM_NEWEST)) != 0, take_active, rc = 0;
    uint32_t i;

    for (i = 0; i < ring->consumers && !fresh && rc == 0; i++)
        rc = resume(ring, i);
    for (take_active = 0; take_active <= 1 && rc == 0; take_active++)
        for (i = 0; i < ring->consumers && rc == 0; i++)
            rc = join_entry(ring, i, flags, take_active);
    if (rc < 0)
        return rc;
    if (rc == 0 && ring->consumers == 1)
        return SHMKIT_EBUSY; /* the lease's detail names the consumer */
    if (rc == 0)
        return shmkit__fail(SHMKIT_EBUSY, "all %lu consumer entries are held by live consumers",
                            (unsigned long)ring->consumers);
    ring->me = entry(ring, ring->h.consumer_index);
    shmkit__clear_detail();
    return 0;
}

int shmkit__ring_still_mine(const shmkit_ring *ring)
{
    uint32_t state = sk_load(&ring->me->state, SK_ACQUIRE);

    if (state == ring->my_state)
        return 0;
    return shmkit__fail(SHMKIT_ENOTHOLDER, "this consumer's entry %lu was %s (state %#lx, "
                        "expected %#lx): the writer dropped it or another consumer took it over, "
                        "judging its holder dead", (unsigned long)ring->h.consumer_index,
                        is_active(state) ? "taken over" : "dropped", (unsigned long)state,
                        (unsigned long)ring->my_state);
}

/* ------------------------------------------------------------------ */
/* Describing                                                          */
/* ------------------------------------------------------------------ */

void shmkit__ring_describe_consumer(struct sk_seg *seg, const struct sk_header_view *view,
                                    uint32_t i, struct shmkit_consumer *out)
{
    struct sk_header *h = seg->base;
    struct sk_consumer *c = sk_consumer_entry(h, i);
    struct sk_holder_info holder;
    uint32_t head = sk_load(&h->head, SK_ACQUIRE), tail = sk_load(&c->tail, SK_ACQUIRE);
    uint64_t next = (uint64_t)sk_load(&c->seq_hi, SK_RELAXED) << 32 | sk_load(&c->seq_lo, SK_RELAXED);
    uint64_t published =
        (uint64_t)sk_load(&h->seq_hi, SK_RELAXED) << 32 | sk_load(&h->seq_lo, SK_RELAXED);

    shmkit__lease_describe(seg, SK_LEASE_CONSUMER, i, &holder);
    out->active = is_active(sk_load(&c->state, SK_ACQUIRE));
    out->pid = holder.pid;
    out->alive = holder.alive;
    out->other_pidns = holder.pid != 0 && holder.other_pidns;
    out->next_message = next;
    /* Numbers a consumer stores are shown, not trusted: clamp. */
    out->lag_messages = out->active && next <= published ? published - next : 0;
    out->lag_bytes = out->active && (uint32_t)(head - tail) <= view->capacity ? head - tail : 0;
}
