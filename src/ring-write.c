/*
 * ring-write.c - the ring's writer: making room (waiting for the consumer
 * under the block policy, reclaiming the oldest frames under the
 * overwrite policy), filling frames and publishing them in their commit
 * words (ring.c has the protocol).  No system call on the way unless the writer has to wait.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "ring-impl.h"

#include <string.h>

/* The writer's private head against the segment's, with TAIL (block: the
 * slowest consumer's) as the other cursor.  With no reservation pending
 * they are equal. */
static int writer_state_disagrees(const shmkit_ring *ring, uint32_t tail)
{
    uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE);

    return shmkit__ring_moved_on(ring, ring->w_head, head, head, tail, "the ring's head",
                                 "wrote as this handle's writer");
}

/* Bytes the next frame of FSIZE bytes takes from head, pad included. */
static uint32_t space_needed(const shmkit_ring *ring, uint32_t fsize)
{
    uint32_t room = to_end(ring, ring->w_head);

    return fsize <= room ? fsize : room + fsize;
}

/* The slowest consumer's tail, as the table says now (ring-consumers.c),
 * checked; *SLOWEST is its entry, -1 if no consumer is active. */
static int load_tail(shmkit_ring *ring, uint32_t *tail, int *slowest)
{
    int rc = shmkit__ring_scan_consumers(ring, tail, slowest);

    if (rc == SHMKIT_ECORRUPT) {
        /* Zeros of a shrunk object first, then misuse, then damage. */
        int verdict = shmkit__seg_verdict(&ring->h.seg, 0);

        if (verdict < 0)
            return verdict;
        if (writer_state_disagrees(ring, *tail))
            return SHMKIT_ENOTHOLDER;
    }
    return rc;
}

/* Wait until the slowest consumer moves (its entry SLOWEST, last seen at
 * TAIL), or a slice passes; after a slice without a move, drop the
 * consumers that are gone if a live one waits behind them. */
static int wait_for_consumer(shmkit_ring *ring, int slowest, uint32_t tail, uint32_t need,
                             int left)
{
    sk_atomic_u32 *word = &sk_consumer_entry(ring->hdr, (uint32_t)slowest)->tail;
    int rc;

    shmkit__clear_detail();
    /* In slices, as wait_for_data; the deadline is checked by the caller. */
    rc = shmkit__wait_changed(&ring->ws, SK_WAIT_IDX_SPACE, word, tail, &ring->hdr->space_waiters,
                              shmkit__ring_check_interval(ring, left), shmkit__wait_mode_get());
    if (rc == -ETIMEDOUT)
        (void)shmkit__ring_drop_dead(ring, tail, need);
    else if (rc < 0)
        return shmkit__wait_failure(rc, "free space");
    return shmkit__seg_verdict(&ring->h.seg, 0);
}

/* Block policy: wait until NEED bytes are free.  Consumers' tails only
 * grow, so the space the last loaded minimum left free is still free:
 * the consumer table, which consumers write after every message, is
 * scanned (and checked) again only when that space is not enough.  This
 * keeps the consumers' lines out of the writer's cache on most messages. */
static int wait_for_space(shmkit_ring *ring, uint32_t need, int timeout_ms)
{
    uint64_t deadline = 0; /* read the clock only if we have to wait */

    if (ring->cap - (ring->w_head - ring->w_tail) >= need)
        return 0;
    for (;;) {
        uint32_t tail;
        int slowest, left, rc;

        if ((rc = load_tail(ring, &tail, &slowest)) < 0)
            return rc;
        ring->w_tail = tail;
        if (ring->cap - (ring->w_head - tail) >= need)
            return 0;
        if (deadline == 0)
            deadline = deadline_of(timeout_ms);
        left = remaining_ms(deadline, timeout_ms);
        if (left == 0)
            return shmkit__wait_failure(expired(timeout_ms), "free space");
        if ((rc = wait_for_consumer(ring, slowest, tail, need, left)) < 0)
            return rc;
    }
}

/* Overwrite policy: give up the oldest frames until NEW_END - oldest fits
 * in the ring, then announce the overwrite: up to NEW_END, and the commit
 * word after it if publishing will clear it (clear_next_commit), which
 * lies before the oldest frame kept then.  The writer walks its own
 * frames; if another process damaged them, everything older than head is
 * given up rather than trusting the damage. */
static void reclaim_space(shmkit_ring *ring, uint32_t new_end)
{
    uint32_t oldest = ring->w_oldest, announce;

    while ((uint32_t)(new_end - oldest) > ring->cap) {
        uint32_t commit = load_commit(ring, oldest), size;
        struct sk_frame f;

        get_frame(ring, oldest, &f);
        if (!committed(oldest, commit) || (uint32_t)(ring->w_head - oldest) < SK_FRAME_HDR ||
            shmkit__ring_check_frame(ring, oldest, commit, &f, &size) < 0 ||
            (uint32_t)(ring->w_head - oldest) < size) {
            oldest = ring->w_head;
            break;
        }
        oldest += size;
    }
    ring->w_oldest = oldest;
    sk_store(&ring->hdr->oldest, oldest, SK_RELEASE);
    announce = new_end + (new_end != oldest + ring->cap ? SK_FRAME_HDR : 0);
    if ((int32_t)(announce - ring->w_reclaim) > 0) {
        ring->w_reclaim = announce;
        sk_store(&ring->hdr->reclaim, announce, SK_RELAXED);
    }
    /* Readers must see oldest and reclaim before any overwritten byte
     * (pairs with their acquire fence before loading reclaim). */
    sk_fence(SK_RELEASE);
}

/* The writer's calls act only on the writer's handle, in the process
 * that holds its lease: 0, or the error. */
static int check_writer(const shmkit_ring *ring)
{
    if (ring->role != ROLE_WRITER)
        return shmkit__fail(-EPERM, "handle was not opened as the writer");
    if (!sk_same_process(ring->h.fork_gen))
        return shmkit__not_holder("writer");
    return 0;
}

/* Make room for a frame of LEN bytes and return its position (after any
 * pad frame, which is written here). */
static int make_room(shmkit_ring *ring, size_t len, int timeout_ms, uint32_t *frame_pos)
{
    uint32_t fsize, need, room;
    int rc;

    if ((rc = check_writer(ring)) < 0)
        return rc;
    if (ring->reserved)
        return shmkit__fail(-EINVAL, "a reserved message is not committed yet");
    if (len > ring->max_message)
        return shmkit__fail(-EMSGSIZE, "message of %zu bytes, the ring takes at most %lu", len,
                            (unsigned long)ring->max_message);
    fsize = frame_size((uint32_t)len);
    need = space_needed(ring, fsize);
    if (ring->policy == SHMKIT_RING_BLOCK) {
        rc = wait_for_space(ring, need, timeout_ms);
        if (rc < 0)
            return rc;
    } else {
        reclaim_space(ring, ring->w_head + need);
    }
    room = to_end(ring, ring->w_head);
    if (fsize > room) {
        /* Its commit word is stored after the frame's (publish). */
        put_frame(ring, ring->w_head, room, 0);
        ring->pad_pending = 1;
        ring->pad_pos = ring->w_head;
        ring->w_head += room;
    }
    *frame_pos = ring->w_head;
    return 0;
}

/* Clear the commit word at END, where the frame after the one being
 * published will go, unless that is the first byte the writer may not
 * touch (the consumer's tail, or the oldest retained frame, a capacity
 * back): the word there is then the header of that frame, which names its
 * own position, a lap older.  Anywhere else the bytes may be the middle
 * of an older message, which could read as this lap's commit word. */
static void clear_next_commit(shmkit_ring *ring, uint32_t end)
{
    uint32_t limit = (ring->policy == SHMKIT_RING_BLOCK ? ring->w_tail : ring->w_oldest) +
                     ring->cap;

    if (end != limit)
        sk_store(&frame_at(ring, end)->commit, 0, SK_RELAXED);
}

/* Publish the frame at POS holding LEN bytes (and the pad frame before it,
 * if any).  The order is the protocol (ring.c): the commit word of the
 * next frame is cleared first, so that a reader that sees this frame
 * committed cannot see an old word there; the pad's commit word is stored
 * last, so that a reader that skips the pad finds this frame committed. */
static void publish(shmkit_ring *ring, uint32_t pos, uint32_t len)
{
    struct sk_header *h = ring->hdr;
    uint32_t end = pos + frame_size(len);
    struct sk_frame *first = frame_at(ring, pos);

    clear_next_commit(ring, end);
    put_frame(ring, pos, len, ring->w_seq);
    sk_store(&first->commit, commit_tag(pos, 0), SK_RELEASE);
    if (ring->pad_pending) {
        first = frame_at(ring, ring->pad_pos);
        sk_store(&first->commit, commit_tag(ring->pad_pos, SK_FRAME_PAD), SK_RELEASE);
        ring->pad_pending = 0;
    }
    ring->w_seq++;
    ring->w_head = end;
    /* head, newest and seq are hints for new readers, for sleepers and
     * for the next writer, stored after the commit words: a writer that
     * dies in between leaves them behind, and the next one repairs them
     * from the commit words (ring.c, published_state). */
    sk_store(&h->head, end, SK_RELEASE);
    sk_store(&h->newest, pos, SK_RELAXED);
    sk_store(&h->seq_lo, (uint32_t)ring->w_seq, SK_RELAXED);
    sk_store(&h->seq_hi, (uint32_t)(ring->w_seq >> 32), SK_RELAXED);
    /* Readers that wait sleep on the request in the header; the word they
     * watch is the commit word of the first frame stored above. */
    shmkit__notify(&ring->ws, SK_WAIT_IDX_DATA, &first->commit, &h->waiters);
}

static int send_message(shmkit_ring *ring, const void *msg, size_t len, int timeout_ms)
{
    uint32_t pos;
    int rc = shmkit__seg_verdict(&ring->h.seg, make_room(ring, len, timeout_ms, &pos));

    if (rc < 0)
        return rc;
    shmkit__racy_write(at(ring, pos + SK_FRAME_HDR), msg, len);
    publish(ring, pos, (uint32_t)len);
    /* Into private zero pages if the object shrank: nobody saw it. */
    return shmkit__seg_verdict(&ring->h.seg, 0);
}

static int reserve_message(shmkit_ring *ring, void **ptr, size_t len, int timeout_ms)
{
    uint32_t pos;
    int rc = shmkit__seg_verdict(&ring->h.seg, make_room(ring, len, timeout_ms, &pos));

    if (rc < 0)
        return rc;
    ring->reserved = 1;
    ring->r_frame = pos;
    ring->r_len = (uint32_t)len;
    *ptr = at(ring, pos + SK_FRAME_HDR);
    return 0;
}

static int commit_message(shmkit_ring *ring, size_t len)
{
    int rc = check_writer(ring);

    if (rc < 0)
        return rc;
    if (!ring->reserved)
        return shmkit__fail(-EINVAL, "nothing reserved");
    if (len > ring->r_len)
        return shmkit__fail(-EINVAL, "commit of %zu bytes after reserving %lu", len,
                            (unsigned long)ring->r_len);
    ring->reserved = 0;
    publish(ring, ring->r_frame, (uint32_t)len);
    /* The message, written through the pointer, went to private zero
     * pages if the object shrank meanwhile. */
    return shmkit__seg_verdict(&ring->h.seg, 0);
}

/* Drop the reservation.  The writer's cursor stays where make_room left
 * it: a pad frame it wrote at the end of the ring is published with the
 * next message, as it would have been with this one, and on an overwrite
 * ring the room it reclaimed stays reclaimed (those messages were lost to
 * readers as soon as it was taken). */
static int cancel_message(shmkit_ring *ring)
{
    int rc = check_writer(ring);

    if (rc < 0)
        return rc;
    if (!ring->reserved)
        return shmkit__fail(-EINVAL, "nothing reserved");
    ring->reserved = 0;
    return 0;
}

SHMKIT_API int shmkit_ring_send(shmkit_ring *ring, const void *msg, size_t len, int timeout_ms)
{
    int rc = enter_writer_call(ring, msg == NULL && len != 0 ? "msg" : NULL);

    return rc < 0 ? rc : leave_call(ring, send_message(ring, msg, len, timeout_ms));
}

SHMKIT_API int shmkit_ring_reserve(shmkit_ring *ring, void **ptr, size_t len, int timeout_ms)
{
    int rc = enter_writer_call(ring, ptr == NULL ? "ptr" : NULL);

    return rc < 0 ? rc : leave_call(ring, reserve_message(ring, ptr, len, timeout_ms));
}

SHMKIT_API int shmkit_ring_commit(shmkit_ring *ring, size_t len)
{
    int rc = enter_writer_call(ring, NULL);

    return rc < 0 ? rc : leave_call(ring, commit_message(ring, len));
}

SHMKIT_API int shmkit_ring_cancel(shmkit_ring *ring)
{
    int rc = enter_writer_call(ring, NULL);

    return rc < 0 ? rc : leave_call(ring, cancel_message(ring));
}
