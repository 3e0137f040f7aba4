/*
 * ring-ack.c - acknowledged consumption: a block ring's consumer opened
 * with SHMKIT_ACK reads ahead of what it has acknowledged.
 *
 * Such a consumer's recv, peek and release move only its private cursor
 * (ring->pos, ring->seq, ring-read.c); its entry's shared tail stays at
 * the acknowledged position (ring->acked_pos, where message
 * ring->acked_seq starts) until shmkit_ring_ack moves it.  The tail is
 * everything others know of the consumer: the writer never overwrites
 * from it on, so the frames the cursor has read past are intact, and a
 * consumer that takes the entry over after this one died resumes there
 * and receives them again.  That is what a forwarder needs that must not
 * lose a message it read but its far side has not stored yet.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "ring-impl.h"

/* The acknowledging calls act only on an ACK consumer's handle, in the
 * process that holds its lease: 0, or the error. */
static int check_ack_consumer(const shmkit_ring *ring, const char *call)
{
    if (ring->role != ROLE_CONSUMER || !ring->ack_mode)
        return shmkit__fail(-EINVAL, "%s is for a block ring's consumer opened with SHMKIT_ACK",
                            call);
    if (!sk_same_process(ring->h.fork_gen))
        return shmkit__not_holder("consumer");
    return 0;
}

static int damaged_between(const shmkit_ring *ring, uint32_t pos, const char *what)
{
    return shmkit__fail(SHMKIT_ECORRUPT, "frame at %lu, between the acknowledged position %lu "
                        "and the cursor %lu, %s", (unsigned long)pos,
                        (unsigned long)ring->acked_pos, (unsigned long)ring->pos, what);
}

/* One frame at POS, before the cursor: its size in *SIZE and (1) if it
 * holds a message, whose number must be SEQ.  These frames were checked
 * when the cursor read them, and the writer cannot have overwritten them
 * since, but the segment is untrusted: another process may have. */
static int acked_frame(const shmkit_ring *ring, uint32_t pos, uint64_t seq, uint32_t *size)
{
    uint32_t left = ring->pos - pos, commit;
    struct sk_frame f;
    int rc;

    if (left == 0 || left > ring->cap || !aligned(pos))
        return damaged_between(ring, pos, "is missing");
    commit = load_commit(ring, pos);
    if (!committed(pos, commit))
        return damaged_between(ring, pos, "is no longer committed");
    get_frame(ring, pos, &f);
    if ((rc = shmkit__ring_check_frame(ring, pos, commit, &f, size)) < 0)
        return rc;
    if (*size > left)
        return damaged_between(ring, pos, "runs past the cursor");
    if (is_pad(commit))
        return 0;
    if (f.seq != seq)
        return damaged_between(ring, pos, "holds another message");
    return 1;
}

/* The position where message SEQ starts (acked_seq < SEQ < seq): the
 * frames from the acknowledged position on are walked again, each
 * message and pad frame checked, never past the cursor.  Each frame takes
 * at least SK_FRAME_ALIGN bytes, so the walk ends within a capacity. */
static int position_of(const shmkit_ring *ring, uint64_t seq, uint32_t *out)
{
    uint32_t pos = ring->acked_pos, size;
    uint64_t next = ring->acked_seq;

    while (next < seq) {
        int rc = acked_frame(ring, pos, next, &size);

        if (rc < 0)
            return rc;
        next += (uint64_t)rc;
        pos += size;
    }
    *out = pos;
    return 0;
}

/* Where the messages below SEQ end, for the tail: the cursor itself when
 * everything read is acknowledged (the usual case: no walk), else found by
 * walking from the acknowledged position. */
static int end_of_acked(const shmkit_ring *ring, uint64_t seq, uint32_t *end)
{
    int rc;

    if (seq == ring->seq) {
        *end = ring->pos;
        return 0;
    }
    rc = shmkit__seg_verdict(&ring->h.seg, position_of(ring, seq, end));
    return rc < 0 ? shmkit__ring_consumer_failure(ring, rc) : 0;
}

static int ack_messages(shmkit_ring *ring, uint64_t seq)
{
    uint32_t end = ring->acked_pos;
    int rc = check_ack_consumer(ring, "shmkit_ring_ack");

    if (rc < 0)
        return rc;
    if (seq < ring->acked_seq || seq > ring->seq)
        return shmkit__fail(-EINVAL, "acknowledging the messages below %llu: it must lie between "
                            "%llu (acknowledged so far) and %llu (the position)",
                            (unsigned long long)seq, (unsigned long long)ring->acked_seq,
                            (unsigned long long)ring->seq);
    if (seq == ring->acked_seq)
        return 0;
    /* Moving the tail of an entry taken over or dropped would hand its
     * new holder's messages to the writer. */
    if ((rc = shmkit__ring_still_mine(ring)) < 0 || (rc = end_of_acked(ring, seq, &end)) < 0)
        return rc;
    ring->acked_pos = end;
    ring->acked_seq = seq;
    shmkit__ring_store_tail(ring, end);
    return 0;
}

static int rewind_cursor(shmkit_ring *ring)
{
    int rc = check_ack_consumer(ring, "shmkit_ring_rewind");

    if (rc < 0)
        return rc;
    if (ring->peeked)
        return shmkit__fail(-EINVAL, "a peeked message is not released yet");
    ring->pos = ring->acked_pos;
    ring->seq = ring->acked_seq;
    ring->seq_known = 1;
    return 0;
}

SHMKIT_API int shmkit_ring_ack(shmkit_ring *ring, uint64_t seq)
{
    int rc = enter_call(ring, NULL);

    return rc < 0 ? rc : leave_call(ring, ack_messages(ring, seq));
}

SHMKIT_API int shmkit_ring_rewind(shmkit_ring *ring)
{
    int rc = enter_call(ring, NULL);

    return rc < 0 ? rc : leave_call(ring, rewind_cursor(ring));
}
