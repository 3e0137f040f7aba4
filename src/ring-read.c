/*
 * ring-read.c - the ring's readers: a block ring's consumer, which moves
 * the shared tail, and an overwrite ring's readers, which detect being
 * lapped and resynchronise (ring.c has the protocol).  No system call on
 * the way unless the reader has to wait.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "ring-impl.h"

/* A block consumer's cursor against its entry's tail, which only the
 * consumer moves and which it stores after every move.  An ACK consumer
 * reads ahead of its tail: what it stored there is its acked position. */
static int consumer_state_disagrees(const shmkit_ring *ring)
{
    uint32_t tail = sk_load(&ring->me->tail, SK_ACQUIRE);
    uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE);
    uint32_t mine = ring->ack_mode ? ring->acked_pos : ring->pos;

    return shmkit__ring_moved_on(ring, mine, tail, head, tail,
                                 "the consumer cursor in the segment",
                                 "consumed as this handle's consumer");
}

/* Wait until the commit word at the cursor moves away from SEEN (ring.c:
 * the writer stores it when it publishes the frame there).  Readers
 * register as waiters through their writable header view; one that may
 * not write to the segment has none and is left to poll (wait.h). */
static int wait_for_data(shmkit_ring *ring, uint32_t seen, uint64_t deadline, int timeout_ms)
{
    struct sk_header *rw = shmkit__seg_waiter_view(&ring->h.seg);
    int left = remaining_ms(deadline, timeout_ms);
    int rc;

    if (left == 0)
        return shmkit__wait_failure(expired(timeout_ms), "message");
    if (ring->role == ROLE_CONSUMER && (rc = shmkit__ring_still_mine(ring)) < 0)
        return rc;
    shmkit__clear_detail();
    /* In slices, so that a segment that shrank is noticed without a
     * publication: the end of a slice is a spurious wake-up. */
    rc = shmkit__wait_changed(&ring->ws, SK_WAIT_IDX_DATA, &frame_at(ring, ring->pos)->commit,
                              seen, rw != NULL ? &rw->waiters : NULL, sk_idle_slice(left),
                              shmkit__wait_mode_get());
    if (rc < 0 && rc != -ETIMEDOUT)
        return shmkit__wait_failure(rc, "message");
    return shmkit__seg_verdict(&ring->h.seg, 0);
}

/* Account for the message number of a frame just read. */
static int check_sequence(shmkit_ring *ring, uint64_t seq)
{
    if (ring->seq_known && seq != ring->seq) {
        if (ring->policy == SHMKIT_RING_BLOCK || seq < ring->seq)
            return shmkit__fail(SHMKIT_ECORRUPT, "message %llu where %llu was expected",
                                (unsigned long long)seq, (unsigned long long)ring->seq);
        ring->lost += seq - ring->seq;
    }
    return 0;
}

void shmkit__ring_note_sequence(shmkit_ring *ring)
{
    uint64_t seq = ring->ack_mode ? ring->acked_seq : ring->seq;

    sk_store(&ring->me->seq_lo, (uint32_t)seq, SK_RELAXED);
    sk_store(&ring->me->seq_hi, (uint32_t)(seq >> 32), SK_RELAXED);
}

void shmkit__ring_store_tail(shmkit_ring *ring, uint32_t tail)
{
    struct sk_consumer *me = ring->me;

    shmkit__ring_note_sequence(ring);
    sk_store(&me->tail, tail, SK_RELEASE);
    shmkit__notify(&ring->ws, SK_WAIT_IDX_SPACE, &me->tail, &ring->hdr->space_waiters);
}

/* Move the cursor SIZE bytes on; a block consumer publishes it in its
 * entry, with the number of the next message (for shmkit info), unless
 * it acknowledges explicitly: then the messages stay until
 * shmkit_ring_ack (ring-ack.c). */
static void move_cursor(shmkit_ring *ring, uint32_t size)
{
    ring->pos += size;
    if (ring->policy == SHMKIT_RING_BLOCK && !ring->ack_mode)
        shmkit__ring_store_tail(ring, ring->pos);
}

/* The frame at the cursor is not committed (its commit word read COMMIT):
 * 1 if the reader should wait for it, 0 to look again (an overwrite reader
 * that was lapped has moved), or an error.  Only here, off the fast path,
 * is the writer's head loaded: it is stored after the commit words, so a
 * head past the cursor means the frame there must be committed by now. */
static int not_committed(shmkit_ring *ring, uint32_t commit)
{
    uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE);
    uint32_t ahead = head - ring->pos;

    /* At the head, or past it: the writer stores head after the commit
     * words, so a reader may have read frames it has not counted yet. */
    if ((int32_t)ahead <= 0)
        return 1;
    if (ring->policy == SHMKIT_RING_OVERWRITE &&
        (ahead > ring->cap || overwritten(ring, ring->pos))) {
        resync(ring);
        return 0;
    }
    if (ahead <= ring->cap && committed(ring->pos, load_commit(ring, ring->pos)))
        return 0;
    if (ring->policy == SHMKIT_RING_OVERWRITE && overwritten(ring, ring->pos)) {
        resync(ring);
        return 0;
    }
    if (ahead > ring->cap)
        return shmkit__fail(SHMKIT_ECORRUPT, "head %lu and cursor %lu out of range",
                            (unsigned long)head, (unsigned long)ring->pos);
    return shmkit__fail(SHMKIT_ECORRUPT, "frame at %lu is not committed (commit word %#lx) "
                        "but the head is at %lu", (unsigned long)ring->pos,
                        (unsigned long)commit, (unsigned long)head);
}

/* A cursor off the frame grid: damage, or (overwrite) a reader that was
 * lapped while it read oldest.  0 to look again, or an error. */
static int misaligned(shmkit_ring *ring)
{
    if (ring->policy == SHMKIT_RING_BLOCK ||
        !aligned(sk_load(&ring->hdr->oldest, SK_ACQUIRE)))
        return shmkit__fail(SHMKIT_ECORRUPT, "cursor %lu is not on a frame boundary",
                            (unsigned long)ring->pos);
    resync(ring);
    return 0;
}

/* Find the next message: on success its frame is at ring->pos with header
 * *F and total size *SIZE, and (if BUF) its bytes are copied to BUF.
 * Pad frames are skipped.  BUFLEN < length: -EMSGSIZE.  The fast path
 * reads the frame's own line and nothing the writer writes elsewhere. */
static int next_frame(shmkit_ring *ring, void *buf, size_t buflen, struct sk_frame *f,
                      uint32_t *size, int timeout_ms)
{
    uint64_t deadline = 0; /* read the clock only if we have to wait */
    int attempt, rc;

    for (attempt = 0; attempt < RESYNC_ATTEMPTS; attempt++) {
        uint32_t commit;
        int copied = 0;

        if (!aligned(ring->pos)) {
            if ((rc = misaligned(ring)) < 0)
                return rc;
            continue;
        }
        commit = load_commit(ring, ring->pos);
        if (!committed(ring->pos, commit)) {
            rc = not_committed(ring, commit);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                if (deadline == 0)
                    deadline = deadline_of(timeout_ms);
                if ((rc = wait_for_data(ring, commit, deadline, timeout_ms)) < 0)
                    return rc;
                attempt--; /* waiting is not a retry */
            }
            continue;
        }
        get_frame(ring, ring->pos, f);
        rc = shmkit__ring_check_frame(ring, ring->pos, commit, f, size);
        if (rc == 0 && !is_pad(commit) && buf != NULL && f->len <= buflen) {
            shmkit__racy_copy(buf, at(ring, ring->pos + SK_FRAME_HDR), f->len);
            copied = 1;
        }
        if (ring->policy == SHMKIT_RING_OVERWRITE && overwritten(ring, ring->pos)) {
            resync(ring);
            continue;
        }
        if (rc < 0)
            return rc;
        if (is_pad(commit)) {
            move_cursor(ring, *size);
            attempt--;
            continue;
        }
        if (buf != NULL && !copied)
            return shmkit__fail(-EMSGSIZE, "message of %lu bytes, buffer of %zu",
                                (unsigned long)f->len, buflen);
        rc = check_sequence(ring, f->seq);
        return rc < 0 ? rc : 0;
    }
    return shmkit__fail(SHMKIT_ECONTENDED, "lapped by the writer %d times", RESYNC_ATTEMPTS);
}

/* Move past the message just read. */
static void advance(shmkit_ring *ring, uint64_t seq, uint32_t size)
{
    ring->seq = seq + 1;
    ring->seq_known = 1;
    move_cursor(ring, size);
}

/* A consumer's SHMKIT_ECORRUPT is damage only if the segment's tail
 * agrees with the handle's cursor.  A segment that shrank reads as zeros,
 * whose tail disagrees too: "truncated" is the truer verdict there. */
int shmkit__ring_consumer_failure(const shmkit_ring *ring, int rc)
{
    if (rc == SHMKIT_ECORRUPT && ring->role == ROLE_CONSUMER && !sk_seg_truncated(&ring->h.seg)
        && consumer_state_disagrees(ring))
        return SHMKIT_ENOTHOLDER;
    return rc;
}

static int check_reader(const shmkit_ring *ring)
{
    if (ring->role == ROLE_WRITER)
        return shmkit__fail(-EPERM, "the writer's handle cannot read");
    if (ring->role == ROLE_CONSUMER && !sk_same_process(ring->h.fork_gen))
        return shmkit__not_holder("consumer");
    if (ring->peeked)
        return shmkit__fail(-EINVAL, "a peeked message is not released yet");
    return 0;
}

static int recv_message(shmkit_ring *ring, void *buf, size_t len, int timeout_ms)
{
    struct sk_frame f;
    uint32_t size;
    int rc = check_reader(ring);

    if (rc < 0)
        return rc;
    rc = next_frame(ring, buf != NULL ? buf : (void *)&f, buf != NULL ? len : 0, &f, &size,
                    timeout_ms);
    /* Zeros from a mapping replaced because the object shrank can make a
     * frame (length 0) that passes the checks: the verdict tells. */
    rc = shmkit__seg_verdict(&ring->h.seg, rc);
    if (rc < 0)
        return shmkit__ring_consumer_failure(ring, rc);
    advance(ring, f.seq, size);
    return (int)f.len;
}

static int peek_message(shmkit_ring *ring, const void **ptr, int timeout_ms)
{
    struct sk_frame f;
    uint32_t size;
    int rc = check_reader(ring);

    if (rc < 0)
        return rc;
    rc = shmkit__seg_verdict(&ring->h.seg, next_frame(ring, NULL, 0, &f, &size, timeout_ms));
    if (rc < 0)
        return shmkit__ring_consumer_failure(ring, rc);
    ring->peeked = 1;
    ring->peek_pos = ring->pos;
    ring->peek_size = size;
    ring->peek_seq = f.seq;
    *ptr = at(ring, ring->pos + SK_FRAME_HDR);
    return (int)f.len;
}

static int release_message(shmkit_ring *ring)
{
    int lost;

    if (ring->role == ROLE_WRITER)
        return shmkit__fail(-EPERM, "the writer's handle cannot read");
    if (ring->role == ROLE_CONSUMER && !sk_same_process(ring->h.fork_gen))
        return shmkit__not_holder("consumer");
    if (!ring->peeked)
        return shmkit__fail(-EINVAL, "nothing peeked");
    ring->peeked = 0;
    lost = ring->policy == SHMKIT_RING_OVERWRITE && overwritten(ring, ring->peek_pos);
    advance(ring, ring->peek_seq, ring->peek_size);
    /* The bytes read through the pointer may have been zeros since the
     * object shrank: that is worse than overwritten. */
    if (shmkit__seg_verdict(&ring->h.seg, 0) < 0)
        return SHMKIT_ECORRUPT;
    return lost ? shmkit__fail(SHMKIT_EOVERWRITTEN, "message %llu overwritten while peeked",
                               (unsigned long long)ring->peek_seq)
                : 0;
}

SHMKIT_API int shmkit_ring_recv(shmkit_ring *ring, void *buf, size_t len, int timeout_ms)
{
    int rc = enter_call(ring, buf == NULL && len != 0 ? "buf" : NULL);

    return rc < 0 ? rc : leave_call(ring, recv_message(ring, buf, len, timeout_ms));
}

SHMKIT_API int shmkit_ring_peek(shmkit_ring *ring, const void **ptr, int timeout_ms)
{
    int rc = enter_call(ring, ptr == NULL ? "ptr" : NULL);

    return rc < 0 ? rc : leave_call(ring, peek_message(ring, ptr, timeout_ms));
}

SHMKIT_API int shmkit_ring_release(shmkit_ring *ring)
{
    int rc = enter_call(ring, NULL);

    return rc < 0 ? rc : leave_call(ring, release_message(ring));
}
