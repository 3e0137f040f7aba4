/*
 * ring.c - the ring: a stream of variable-length messages.
 *
 * Frames (doc/FORMAT.md, "Ring"): a 16-byte frame header {len, flags, seq}
 * and the message padded to 16 bytes, laid out back to back in CAPACITY
 * bytes (a power of two).  Positions are 32-bit byte counters that only
 * grow (modulo 2^32); position p lives at offset p & (capacity - 1).  A
 * frame never wraps: when it would not fit before the end, a pad frame
 * fills the rest and the frame starts at offset 0.  Messages are at most
 * capacity / 2 - 16 bytes, so one always fits in an empty ring.
 *
 * Publication: the writer fills a frame, then stores `head` (release).
 * Readers never read past head.
 *
 * Block policy: the consumer stores `tail` (release) after each message;
 * the writer never overwrites [tail, head) and waits on `tail` when full.
 *
 * Overwrite policy: before overwriting anything the writer moves `oldest`
 * to the first frame it will keep, then `reclaim` to the end of the space
 * it is about to write (a release fence orders both before the data).  The
 * bytes at positions older than reclaim - capacity may be garbage.  A
 * reader copies a frame, then (acquire fence) loads reclaim: if its
 * position has fallen behind reclaim - capacity the copy is discarded and
 * the reader jumps to `oldest`; the sequence number of the frame found
 * there tells exactly how many messages it lost.
 *
 * Everything read from the segment is checked: lengths against the
 * maximum and against head, frames against the end of the ring, sequence
 * numbers against what the reader expects, cursors against the capacity.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomics.h"
#include "backend.h"
#include "copy.h"
#include "error.h"
#include "format.h"
#include "header.h"
#include "holder.h"
#include "hooks.h"
#include "kinds.h"
#include "lease.h"
#include "proc.h"
#include "segment.h"
#include "shmkit.h"
#include "spec.h"
#include "wait.h"

/* Bounded retries of an overwrite reader that keeps being lapped. */
#define RESYNC_ATTEMPTS 10000

enum ring_role { ROLE_WRITER = 1, ROLE_CONSUMER, ROLE_READER };

struct shmkit_ring {
    struct sk_seg seg;
    struct sk_header_view view;
    struct sk_header *hdr;      /* shared, read-only for overwrite readers */
    unsigned char *data;
    uint32_t cap, mask, max_message;
    int policy;
    int role;
    uint32_t fork_gen;          /* sk_holder_stamp when opened */
    sk_atomic_u32 busy;         /* a call is using the handle (enter_call) */
    struct sk_waitset ws;

    /* writer */
    uint32_t w_head;            /* private copy of head */
    uint32_t w_tail;            /* block: tail as last loaded (and checked) */
    uint32_t w_oldest;          /* overwrite: private copy of oldest */
    uint32_t w_reclaim;         /* overwrite: private copy of reclaim */
    uint64_t w_seq;             /* next message number */
    int reserved;               /* a reserve is pending */
    uint32_t r_frame;           /* its frame position */
    uint32_t r_len;             /* its maximum length */

    /* consumer and reader */
    uint32_t pos;               /* next frame to read */
    uint32_t r_head;            /* block consumer: head as last loaded */
    uint64_t seq;               /* expected message number */
    int seq_known;              /* 0 until the first frame is read */
    uint64_t lost;
    int peeked;                 /* a peek is pending */
    uint32_t peek_pos, peek_size;
    uint64_t peek_seq;
};

static uint32_t frame_size(uint32_t len)
{
    return SK_FRAME_HDR + ((len + SK_FRAME_ALIGN - 1) & ~(SK_FRAME_ALIGN - 1));
}

/* Every frame starts on a frame boundary.  A cursor read from the segment
 * that does not is damage: used as is, a 16-byte frame header at it could
 * straddle the end of the ring, and so the end of the mapping. */
static int aligned(uint32_t pos)
{
    return (pos & (SK_FRAME_ALIGN - 1)) == 0;
}

static unsigned char *at(const shmkit_ring *ring, uint32_t pos)
{
    return ring->data + (pos & ring->mask);
}

static uint32_t to_end(const shmkit_ring *ring, uint32_t pos)
{
    return ring->cap - (pos & ring->mask);
}

/* Milliseconds left until DEADLINE (0: none) for sk_wait_changed. */
static int remaining_ms(uint64_t deadline, int timeout_ms)
{
    uint64_t now;

    if (timeout_ms <= 0)
        return timeout_ms;
    now = sk_monotonic_ns();
    if (now >= deadline)
        return 0;
    return (int)((deadline - now + 999999u) / 1000000u);
}

static uint64_t deadline_of(int timeout_ms)
{
    return timeout_ms > 0 ? sk_monotonic_ns() + (uint64_t)timeout_ms * 1000000u : 0;
}

/* What a wait that found nothing returns when the time is up. */
static int expired(int timeout_ms)
{
    return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
}

/* Errors about the caller's misuse must not read as damage to the
 * segment.  When a writer's or consumer's check fails, the shared cursors
 * are read again: if they are consistent with each other and show that the
 * shared cursor moved on from where this handle left it, another process
 * acted as the holder of this handle's lease (a copy of the handle in a
 * child the fork handler did not see, or a process that wrote the
 * cursors), and that is reported as SHMKIT_ENOTHOLDER, not as
 * SHMKIT_ECORRUPT.  Only failures pay for this. */
static int moved_on_consistently(const shmkit_ring *ring, uint32_t mine, uint32_t shared,
                                 uint32_t head, uint32_t tail)
{
    uint32_t moved = shared - mine;

    return aligned(head) && aligned(tail) && (uint32_t)(head - tail) <= ring->cap &&
           moved != 0 && moved <= (uint32_t)(head - mine);
}

/* The writer's private head against the segment's, with TAIL (block) as
 * the other cursor.  With no reservation pending they are equal. */
static int writer_state_disagrees(const shmkit_ring *ring, uint32_t tail)
{
    uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE);

    if (!moved_on_consistently(ring, ring->w_head, head, head, tail))
        return 0;
    sk_fail(SHMKIT_ENOTHOLDER,
            "the ring's head is %lu, not %lu where this writer left it: another process "
            "wrote as this handle's writer (a copy of the handle?)",
            (unsigned long)head, (unsigned long)ring->w_head);
    return 1;
}

/* A block consumer's cursor against the segment's tail, which only the
 * consumer moves and which it stores after every move. */
static int consumer_state_disagrees(const shmkit_ring *ring)
{
    uint32_t tail = sk_load(&ring->hdr->tail, SK_ACQUIRE);
    uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE);

    if (!moved_on_consistently(ring, ring->pos, tail, head, tail))
        return 0;
    sk_fail(SHMKIT_ENOTHOLDER,
            "the consumer cursor in the segment is %lu, not %lu where this handle left it: "
            "another process consumed as this handle's consumer (a copy of the handle?)",
            (unsigned long)tail, (unsigned long)ring->pos);
    return 1;
}

/* Handles are for one thread at a time.  Every call that moves a handle's
 * private state marks it busy, so that two threads using one handle at
 * once get -EINVAL instead of corrupting its cursors, which would then
 * blame the segment.
 *
 * Readers' calls take the mark with an atomic exchange: exact, and cheap
 * there (the handle's own cache line, and a reader's pending stores are
 * to private memory or to `tail`, which the writer rarely loads).  The
 * writer's calls only load and store it: an exchange is a full barrier on
 * most machines, and the writer's pending stores are message bytes in
 * lines the consumer has just read, so each send would wait for them to
 * reach its cache.  For writers the check catches most overlaps, not all;
 * writer_state_disagrees then tells misuse from damage where the cursors
 * allow it. */
static int in_use(void)
{
    return sk_fail(-EINVAL, "the handle is in use by another thread "
                            "(a handle is for one thread at a time)");
}

static int enter_call(shmkit_ring *ring)
{
    return sk_exchange(&ring->busy, 1) != 0 ? in_use() : 0;
}

static int enter_writer_call(shmkit_ring *ring)
{
    if (sk_load(&ring->busy, SK_RELAXED) != 0)
        return in_use();
    sk_store(&ring->busy, 1, SK_RELAXED);
    return 0;
}

static int leave_call(shmkit_ring *ring, int rc)
{
    sk_store(&ring->busy, 0, SK_RELEASE);
    return rc;
}

/* Wait until head moves away from SEEN.  Readers register as waiters
 * through their writable header view; one that may not write to the
 * segment has none and is left to poll (wait.h). */
static int wait_for_data(shmkit_ring *ring, uint32_t seen, uint64_t deadline, int timeout_ms)
{
    struct sk_header *rw = sk_seg_waiter_view(&ring->seg);
    int left = remaining_ms(deadline, timeout_ms);
    int rc;

    if (left == 0)
        return sk_wait_failure(expired(timeout_ms), "message");
    sk_clear_detail();
    /* In slices, so that a segment that shrank is noticed without a
     * publication: the end of a slice is a spurious wake-up. */
    rc = sk_wait_changed(&ring->ws, SK_WAIT_IDX_DATA, rw != NULL ? &rw->head : &ring->hdr->head,
                         seen, rw != NULL ? &rw->waiters : NULL, sk_idle_slice(left),
                         sk_wait_mode_get());
    if (rc < 0 && rc != -ETIMEDOUT)
        return sk_wait_failure(rc, "message");
    return sk_seg_verdict(&ring->seg, 0);
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

/* Copy a frame header in or out; frame headers are 16-aligned in the
 * ring, so they never cross its end. */
static void put_frame(shmkit_ring *ring, uint32_t pos, uint32_t len, uint32_t flags,
                      uint64_t seq)
{
    struct sk_frame f;

    f.len = len;
    f.flags = flags;
    f.seq = seq;
    sk_racy_write(at(ring, pos), &f, sizeof f);
}

static void get_frame(const shmkit_ring *ring, uint32_t pos, struct sk_frame *f)
{
    sk_racy_copy(f, at(ring, pos), sizeof *f);
}

/* Bytes the next frame of FSIZE bytes takes from head, pad included. */
static uint32_t space_needed(const shmkit_ring *ring, uint32_t fsize)
{
    uint32_t room = to_end(ring, ring->w_head);

    return fsize <= room ? fsize : room + fsize;
}

/* Block policy: wait until NEED bytes are free.  The consumer's tail only
 * grows, so the space the last loaded tail left free is still free: the
 * shared word, which the consumer writes after every message, is loaded
 * (and checked) again only when that space is not enough.  This keeps the
 * consumer's line out of the writer's cache on most messages. */
static int wait_for_space(shmkit_ring *ring, uint32_t need, int timeout_ms)
{
    uint64_t deadline = 0; /* read the clock only if we have to wait */

    if (ring->cap - (ring->w_head - ring->w_tail) >= need)
        return 0;
    for (;;) {
        uint32_t tail = sk_load(&ring->hdr->tail, SK_ACQUIRE);
        uint32_t used = ring->w_head - tail;
        int left, rc;

        if (used > ring->cap) {
            /* Zeros of a shrunk object first, then misuse, then damage. */
            if ((rc = sk_seg_verdict(&ring->seg, 0)) < 0)
                return rc;
            return writer_state_disagrees(ring, tail)
                       ? SHMKIT_ENOTHOLDER
                       : sk_fail(SHMKIT_ECORRUPT, "consumer cursor %lu out of range",
                                 (unsigned long)tail);
        }
        ring->w_tail = tail;
        if (ring->cap - used >= need)
            return 0;
        if (deadline == 0)
            deadline = deadline_of(timeout_ms);
        left = remaining_ms(deadline, timeout_ms);
        if (left == 0)
            return sk_wait_failure(expired(timeout_ms), "free space");
        sk_clear_detail();
        /* In slices, as wait_for_data; the deadline is checked above. */
        rc = sk_wait_changed(&ring->ws, SK_WAIT_IDX_SPACE, &ring->hdr->tail, tail,
                             &ring->hdr->space_waiters, sk_idle_slice(left),
                             sk_wait_mode_get());
        if (rc < 0 && rc != -ETIMEDOUT)
            return sk_wait_failure(rc, "free space");
        if ((rc = sk_seg_verdict(&ring->seg, 0)) < 0)
            return rc;
    }
}

/* Overwrite policy: give up the oldest frames until NEW_END - oldest fits
 * in the ring, then announce the overwrite.  The writer walks its own
 * frames; if another process damaged them, everything older than head is
 * given up rather than trusting the damage. */
static void reclaim_space(shmkit_ring *ring, uint32_t new_end)
{
    uint32_t oldest = ring->w_oldest;

    while ((uint32_t)(new_end - oldest) > ring->cap) {
        struct sk_frame f;
        uint32_t size;

        get_frame(ring, oldest, &f);
        size = (f.flags & SK_FRAME_PAD) ? f.len : frame_size(f.len);
        if (f.len > ring->cap || size == 0 || size % SK_FRAME_ALIGN != 0 ||
            size > to_end(ring, oldest) || (uint32_t)(ring->w_head - oldest) < size) {
            oldest = ring->w_head;
            break;
        }
        oldest += size;
    }
    ring->w_oldest = oldest;
    sk_store(&ring->hdr->oldest, oldest, SK_RELEASE);
    if ((int32_t)(new_end - ring->w_reclaim) > 0) {
        ring->w_reclaim = new_end;
        sk_store(&ring->hdr->reclaim, new_end, SK_RELAXED);
    }
    /* Readers must see oldest and reclaim before any overwritten byte
     * (pairs with their acquire fence before loading reclaim). */
    sk_fence(SK_RELEASE);
}

/* Make room for a frame of LEN bytes and return its position (after any
 * pad frame, which is written here). */
static int make_room(shmkit_ring *ring, size_t len, int timeout_ms, uint32_t *frame_pos)
{
    uint32_t fsize, need, room;
    int rc;

    if (ring->role != ROLE_WRITER)
        return sk_fail(-EPERM, "handle was not opened as the writer");
    if (!sk_same_process(ring->fork_gen))
        return sk_not_holder("writer");
    if (ring->reserved)
        return sk_fail(-EINVAL, "a reserved message is not committed yet");
    if (len > ring->max_message)
        return sk_fail(-EMSGSIZE, "message of %zu bytes, the ring takes at most %lu", len,
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
    if (need != fsize) {
        put_frame(ring, ring->w_head, room, SK_FRAME_PAD, 0);
        ring->w_head += room;
    }
    *frame_pos = ring->w_head;
    return 0;
}

/* Publish the frame at POS holding LEN bytes. */
static void publish(shmkit_ring *ring, uint32_t pos, uint32_t len)
{
    struct sk_header *h = ring->hdr;

    put_frame(ring, pos, len, 0, ring->w_seq);
    ring->w_seq++;
    ring->w_head = pos + frame_size(len);
    sk_store(&h->head, ring->w_head, SK_RELEASE);
    /* newest and seq are hints for new readers and for the next writer,
     * stored after head: a writer that dies in between leaves them one
     * message behind, which both tolerate. */
    sk_store(&h->newest, pos, SK_RELAXED);
    sk_store(&h->seq_lo, (uint32_t)ring->w_seq, SK_RELAXED);
    sk_store(&h->seq_hi, (uint32_t)(ring->w_seq >> 32), SK_RELAXED);
    sk_notify(&ring->ws, SK_WAIT_IDX_DATA, &h->head, &h->waiters);
}

static int send_message(shmkit_ring *ring, const void *msg, size_t len, int timeout_ms)
{
    uint32_t pos;
    int rc = sk_seg_verdict(&ring->seg, make_room(ring, len, timeout_ms, &pos));

    if (rc < 0)
        return rc;
    sk_racy_write(at(ring, pos + SK_FRAME_HDR), msg, len);
    publish(ring, pos, (uint32_t)len);
    /* Into private zero pages if the object shrank: nobody saw it. */
    return sk_seg_verdict(&ring->seg, 0);
}

static int reserve_message(shmkit_ring *ring, void **ptr, size_t len, int timeout_ms)
{
    uint32_t pos;
    int rc = sk_seg_verdict(&ring->seg, make_room(ring, len, timeout_ms, &pos));

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
    if (ring->role != ROLE_WRITER)
        return sk_fail(-EPERM, "handle was not opened as the writer");
    if (!sk_same_process(ring->fork_gen))
        return sk_not_holder("writer");
    if (!ring->reserved)
        return sk_fail(-EINVAL, "nothing reserved");
    if (len > ring->r_len)
        return sk_fail(-EINVAL, "commit of %zu bytes after reserving %lu", len,
                       (unsigned long)ring->r_len);
    ring->reserved = 0;
    publish(ring, ring->r_frame, (uint32_t)len);
    /* The message, written through the pointer, went to private zero
     * pages if the object shrank meanwhile. */
    return sk_seg_verdict(&ring->seg, 0);
}

SHMKIT_API int shmkit_ring_send(shmkit_ring *ring, const void *msg, size_t len, int timeout_ms)
{
    int rc;

    if (ring == NULL)
        return sk_null_arg("ring");
    if (msg == NULL && len != 0)
        return sk_null_arg("msg");
    rc = enter_writer_call(ring);
    return rc < 0 ? rc : leave_call(ring, send_message(ring, msg, len, timeout_ms));
}

SHMKIT_API int shmkit_ring_reserve(shmkit_ring *ring, void **ptr, size_t len, int timeout_ms)
{
    int rc;

    if (ring == NULL)
        return sk_null_arg("ring");
    if (ptr == NULL)
        return sk_null_arg("ptr");
    rc = enter_writer_call(ring);
    return rc < 0 ? rc : leave_call(ring, reserve_message(ring, ptr, len, timeout_ms));
}

SHMKIT_API int shmkit_ring_commit(shmkit_ring *ring, size_t len)
{
    int rc;

    if (ring == NULL)
        return sk_null_arg("ring");
    rc = enter_writer_call(ring);
    return rc < 0 ? rc : leave_call(ring, commit_message(ring, len));
}

/* ------------------------------------------------------------------ */
/* Readers                                                             */
/* ------------------------------------------------------------------ */

/* The frame at POS as far as it can be checked without knowing whether it
 * was overwritten: SHMKIT_ECORRUPT if it cannot be a frame. */
static int check_frame(const shmkit_ring *ring, uint32_t pos, uint32_t head,
                       const struct sk_frame *f, uint32_t *size)
{
    uint32_t avail = head - pos, room = to_end(ring, pos);

    if (f->flags & SK_FRAME_PAD) {
        if (f->len != room || room > avail)
            return sk_fail(SHMKIT_ECORRUPT, "bad pad frame at %lu", (unsigned long)pos);
        *size = room;
        return 0;
    }
    if (f->flags != 0 || f->len > ring->max_message)
        return sk_fail(SHMKIT_ECORRUPT, "bad frame at %lu (length %lu)", (unsigned long)pos,
                       (unsigned long)f->len);
    *size = frame_size(f->len);
    if (*size > avail || *size > room)
        return sk_fail(SHMKIT_ECORRUPT, "frame at %lu runs past %s", (unsigned long)pos,
                       *size > avail ? "the head" : "the end of the ring");
    return 0;
}

/* Overwrite readers: was POS overwritten (or about to be) by now?  Called
 * after copying, behind an acquire fence. */
static int overwritten(const shmkit_ring *ring, uint32_t pos)
{
    uint32_t reclaim;

    sk_fence(SK_ACQUIRE);
    reclaim = sk_load(&ring->hdr->reclaim, SK_RELAXED);
    return (uint32_t)(reclaim - pos) > ring->cap;
}

/* Account for the message number of a frame just read. */
static int check_sequence(shmkit_ring *ring, uint64_t seq)
{
    if (ring->seq_known && seq != ring->seq) {
        if (ring->policy == SHMKIT_RING_BLOCK || seq < ring->seq)
            return sk_fail(SHMKIT_ECORRUPT, "message %llu where %llu was expected",
                           (unsigned long long)seq, (unsigned long long)ring->seq);
        ring->lost += seq - ring->seq;
    }
    return 0;
}

/* Jump to the oldest retained frame after being lapped. */
static void resync(shmkit_ring *ring)
{
    ring->pos = sk_load(&ring->hdr->oldest, SK_ACQUIRE);
}

/* Move the cursor SIZE bytes on; a block consumer publishes it. */
static void move_cursor(shmkit_ring *ring, uint32_t size)
{
    ring->pos += size;
    if (ring->policy == SHMKIT_RING_BLOCK) {
        struct sk_header *h = ring->hdr;

        sk_store(&h->tail, ring->pos, SK_RELEASE);
        sk_notify(&ring->ws, SK_WAIT_IDX_SPACE, &h->tail, &h->space_waiters);
    }
}

/* The head to read up to.  A block consumer reuses the head it loaded last
 * (acquire) until it has read everything before it: the frames there were
 * complete then and nobody else moves its cursor, so it loads the writer's
 * line only once per batch of published messages.  An overwrite reader
 * always loads it: it may be lapped and moved past any earlier head. */
static uint32_t current_head(shmkit_ring *ring)
{
    if (ring->policy == SHMKIT_RING_BLOCK && ring->r_head != ring->pos)
        return ring->r_head;
    ring->r_head = sk_load(&ring->hdr->head, SK_ACQUIRE);
    return ring->r_head;
}

/* Find the next message: on success its frame is at ring->pos with header
 * *F and total size *SIZE, and (if BUF) its bytes are copied to BUF.
 * Pad frames are skipped.  BUFLEN < length: -EMSGSIZE. */
static int next_frame(shmkit_ring *ring, void *buf, size_t buflen, struct sk_frame *f,
                      uint32_t *size, int timeout_ms)
{
    uint64_t deadline = 0; /* read the clock only if we have to wait */
    int attempt, rc;

    for (attempt = 0; attempt < RESYNC_ATTEMPTS; attempt++) {
        uint32_t head = current_head(ring);
        int copied = 0;

        if (head == ring->pos) {
            if (deadline == 0)
                deadline = deadline_of(timeout_ms);
            rc = wait_for_data(ring, head, deadline, timeout_ms);
            if (rc < 0)
                return rc;
            attempt--; /* waiting is not a retry */
            continue;
        }
        if ((uint32_t)(head - ring->pos) > ring->cap) {
            if (ring->policy == SHMKIT_RING_BLOCK)
                return sk_fail(SHMKIT_ECORRUPT, "head %lu and cursor %lu out of range",
                               (unsigned long)head, (unsigned long)ring->pos);
            resync(ring);
            continue;
        }
        if (!aligned(ring->pos)) {
            if (ring->policy == SHMKIT_RING_BLOCK || !aligned(sk_load(&ring->hdr->oldest,
                                                                      SK_ACQUIRE)))
                return sk_fail(SHMKIT_ECORRUPT, "cursor %lu is not on a frame boundary",
                               (unsigned long)ring->pos);
            resync(ring);
            continue;
        }
        get_frame(ring, ring->pos, f);
        rc = check_frame(ring, ring->pos, head, f, size);
        if (rc == 0 && !(f->flags & SK_FRAME_PAD) && buf != NULL && f->len <= buflen) {
            sk_racy_copy(buf, at(ring, ring->pos + SK_FRAME_HDR), f->len);
            copied = 1;
        }
        if (ring->policy == SHMKIT_RING_OVERWRITE && overwritten(ring, ring->pos)) {
            resync(ring);
            continue;
        }
        if (rc < 0)
            return rc;
        if (f->flags & SK_FRAME_PAD) {
            move_cursor(ring, *size);
            attempt--;
            continue;
        }
        if (buf != NULL && !copied)
            return sk_fail(-EMSGSIZE, "message of %lu bytes, buffer of %zu",
                           (unsigned long)f->len, buflen);
        rc = check_sequence(ring, f->seq);
        return rc < 0 ? rc : 0;
    }
    return sk_fail(SHMKIT_ECONTENDED, "lapped by the writer %d times", RESYNC_ATTEMPTS);
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
static int reader_failure(const shmkit_ring *ring, int rc)
{
    if (rc == SHMKIT_ECORRUPT && ring->role == ROLE_CONSUMER && !sk_seg_truncated(&ring->seg)
        && consumer_state_disagrees(ring))
        return SHMKIT_ENOTHOLDER;
    return rc;
}

static int check_reader(const shmkit_ring *ring)
{
    if (ring->role == ROLE_WRITER)
        return sk_fail(-EPERM, "the writer's handle cannot read");
    if (ring->role == ROLE_CONSUMER && !sk_same_process(ring->fork_gen))
        return sk_not_holder("consumer");
    if (ring->peeked)
        return sk_fail(-EINVAL, "a peeked message is not released yet");
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
    rc = sk_seg_verdict(&ring->seg, rc);
    if (rc < 0)
        return reader_failure(ring, rc);
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
    rc = sk_seg_verdict(&ring->seg, next_frame(ring, NULL, 0, &f, &size, timeout_ms));
    if (rc < 0)
        return reader_failure(ring, rc);
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
        return sk_fail(-EPERM, "the writer's handle cannot read");
    if (ring->role == ROLE_CONSUMER && !sk_same_process(ring->fork_gen))
        return sk_not_holder("consumer");
    if (!ring->peeked)
        return sk_fail(-EINVAL, "nothing peeked");
    ring->peeked = 0;
    lost = ring->policy == SHMKIT_RING_OVERWRITE && overwritten(ring, ring->peek_pos);
    advance(ring, ring->peek_seq, ring->peek_size);
    /* The bytes read through the pointer may have been zeros since the
     * object shrank: that is worse than overwritten. */
    if (sk_seg_verdict(&ring->seg, 0) < 0)
        return SHMKIT_ECORRUPT;
    return lost ? sk_fail(SHMKIT_EOVERWRITTEN, "message %llu overwritten while peeked",
                          (unsigned long long)ring->peek_seq)
                : 0;
}

SHMKIT_API int shmkit_ring_recv(shmkit_ring *ring, void *buf, size_t len, int timeout_ms)
{
    int rc;

    if (ring == NULL)
        return sk_null_arg("ring");
    if (buf == NULL && len != 0)
        return sk_null_arg("buf");
    rc = enter_call(ring);
    return rc < 0 ? rc : leave_call(ring, recv_message(ring, buf, len, timeout_ms));
}

SHMKIT_API int shmkit_ring_peek(shmkit_ring *ring, const void **ptr, int timeout_ms)
{
    int rc;

    if (ring == NULL)
        return sk_null_arg("ring");
    if (ptr == NULL)
        return sk_null_arg("ptr");
    rc = enter_call(ring);
    return rc < 0 ? rc : leave_call(ring, peek_message(ring, ptr, timeout_ms));
}

SHMKIT_API int shmkit_ring_release(shmkit_ring *ring)
{
    int rc;

    if (ring == NULL)
        return sk_null_arg("ring");
    rc = enter_call(ring);
    return rc < 0 ? rc : leave_call(ring, release_message(ring));
}

/* ------------------------------------------------------------------ */
/* Opening and creating                                                */
/* ------------------------------------------------------------------ */

static uint64_t published_count(const struct sk_header *h)
{
    return (uint64_t)sk_load(&h->seq_hi, SK_RELAXED) << 32 | sk_load(&h->seq_lo, SK_RELAXED);
}

/* The number of the message after the frames from POS up to HEAD, the
 * last of which is the newest: POS is the `newest` hint, which a writer
 * that died after storing head (see publish) leaves one message behind. */
static uint64_t sequence_after(const shmkit_ring *ring, uint32_t pos, uint32_t head)
{
    uint64_t seq = published_count(ring->hdr);

    while (pos != head && (uint32_t)(head - pos) <= ring->cap && aligned(pos)) {
        struct sk_frame f;
        uint32_t size;

        get_frame(ring, pos, &f);
        if (check_frame(ring, pos, head, &f, &size) < 0)
            break;
        if (!(f.flags & SK_FRAME_PAD))
            seq = f.seq + 1;
        pos += size;
    }
    return seq;
}

/* The writer's cursors from the header, which a dead writer may have left
 * behind or another process may have damaged. */
static int become_writer(shmkit_ring *ring)
{
    struct sk_header *h = ring->hdr;
    uint32_t head;
    int rc = sk_lease_acquire(&ring->seg, SK_LEASE_WRITER);

    if (rc < 0)
        return rc;
    ring->role = ROLE_WRITER;
    head = ring->w_head = sk_load(&h->head, SK_ACQUIRE);
    ring->w_reclaim = sk_load(&h->reclaim, SK_RELAXED);
    ring->w_oldest = sk_load(&h->oldest, SK_RELAXED);
    if (!aligned(head))
        return sk_fail(SHMKIT_ECORRUPT, "head %lu is not on a frame boundary",
                       (unsigned long)head);
    if ((uint32_t)(ring->w_reclaim - head) > ring->cap || !aligned(ring->w_reclaim))
        ring->w_reclaim = head;
    if ((uint32_t)(head - ring->w_oldest) > ring->cap || !aligned(ring->w_oldest))
        ring->w_oldest = head;
    ring->w_seq = sequence_after(ring, sk_load(&h->newest, SK_RELAXED), head);
    ring->w_tail = head - ring->cap; /* "full": the first send loads tail */
    sk_clear_detail();
    return 0;
}

/* Where a reader starting at ring->pos is in the message numbering, so
 * that losses are counted from its very first message: the number of the
 * first message at or after pos, or of the next one to be published.  An
 * overwrite reader whose start is overwritten meanwhile moves to oldest. */
static void learn_sequence(shmkit_ring *ring)
{
    int attempt;

    for (attempt = 0; attempt < RESYNC_ATTEMPTS; attempt++) {
        uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE), pos = ring->pos;
        struct sk_frame f;
        uint32_t size;
        int rc = 0;

        if ((uint32_t)(head - pos) > ring->cap || !aligned(pos))
            rc = -1;
        /* Frame sizes are multiples of the alignment (check_frame), so
         * an aligned start keeps every later position aligned. */
        while (rc == 0 && pos != head) {
            get_frame(ring, pos, &f);
            rc = check_frame(ring, pos, head, &f, &size);
            if (rc == 0 && !(f.flags & SK_FRAME_PAD))
                break;
            pos += size;
        }
        if (ring->policy == SHMKIT_RING_OVERWRITE && overwritten(ring, ring->pos)) {
            resync(ring);
            continue;
        }
        if (rc < 0)
            break; /* damaged: the first read reports it */
        ring->seq = pos == head ? sequence_after(ring, sk_load(&ring->hdr->newest, SK_RELAXED),
                                                 head)
                                : f.seq;
        ring->seq_known = 1;
        break;
    }
    sk_clear_detail();
}

static int become_consumer(shmkit_ring *ring)
{
    struct sk_header *h = ring->hdr;
    int rc = sk_lease_acquire(&ring->seg, SK_LEASE_CONSUMER);

    if (rc < 0)
        return rc;
    ring->role = ROLE_CONSUMER;
    ring->pos = sk_load(&h->tail, SK_ACQUIRE);
    ring->r_head = ring->pos; /* "empty": the first read loads head */
    learn_sequence(ring);
    return 0;
}

/* An overwrite reader starts at the newest frame (the hint may lag by one
 * message) or at the oldest retained one. */
static void become_reader(shmkit_ring *ring, unsigned flags)
{
    struct sk_header *h = ring->hdr;
    uint32_t head = sk_load(&h->head, SK_ACQUIRE);
    uint32_t start = sk_load((flags & SHMKIT_FROM_OLDEST) ? &h->oldest : &h->newest,
                             SK_ACQUIRE);

    ring->role = ROLE_READER;
    ring->pos = (uint32_t)(head - start) <= ring->cap && aligned(start) ? start : head;
    learn_sequence(ring);
}

static int setup_handle(shmkit_ring *ring)
{
    const struct sk_header_view *v = &ring->view;

    if (v->kind != SHMKIT_KIND_RING)
        return sk_fail(SHMKIT_EKIND, "segment is a slot, not a ring");
    ring->hdr = ring->seg.base;
    ring->data = (unsigned char *)ring->seg.base + v->payload_offset;
    ring->cap = (uint32_t)v->capacity;
    ring->mask = ring->cap - 1;
    ring->max_message = (uint32_t)v->record_size;
    ring->policy = (v->header_flags & SK_HFLAG_OVERWRITE) ? SHMKIT_RING_OVERWRITE
                                                          : SHMKIT_RING_BLOCK;
    sk_waitset_attach(&ring->ws, v->wait_mech, v->wait_semid);
    return 0;
}

static void free_handle(shmkit_ring *ring)
{
    /* A child closing a handle inherited through fork() neither releases
     * the parent's lease nor removes the parent's owned segment. */
    if (!sk_same_process(ring->fork_gen))
        ring->seg.created_by = 0;
    else if (ring->role == ROLE_WRITER)
        sk_lease_release(&ring->seg, SK_LEASE_WRITER);
    else if (ring->role == ROLE_CONSUMER)
        sk_lease_release(&ring->seg, SK_LEASE_CONSUMER);
    sk_seg_close(&ring->seg);
    free(ring);
}

/* Map SPEC with ACCESS and validate it as a ring. */
static int map_ring(shmkit_ring *ring, const struct sk_spec *spec, int access)
{
    int rc = sk_seg_open(&ring->seg, spec, access, SK_HEADER_SIZE);

    if (rc == 0)
        rc = sk_seg_verdict(&ring->seg, sk_header_validate(ring->seg.base, ring->seg.size,
                                                           &ring->view));
    return rc == 0 ? setup_handle(ring) : rc;
}

/* A block ring's consumer moves the shared cursor, so it maps the ring
 * read-write: say so when that is what was refused. */
static int explain_consumer_access(int rc)
{
    char detail[200];

    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    return sk_fail(rc, "consuming a block ring needs write permission%s%s",
                   detail[0] != '\0' ? ": " : "", detail);
}

static int open_existing(shmkit_ring *ring, const struct sk_spec *spec, unsigned flags)
{
    int rc;

    if (flags & SHMKIT_WRITE) {
        rc = map_ring(ring, spec, SK_SEG_WRITE | SK_SEG_OWNER_FLAG(flags));
        return rc < 0 ? rc : become_writer(ring);
    }
    /* Only the header tells the policy: map read-only first, and again
     * read-write for a block consumer, which moves the shared cursor. */
    rc = map_ring(ring, spec, SK_SEG_WAITER | SK_SEG_OWNER_FLAG(flags));
    if (rc < 0)
        return rc;
    if (ring->policy == SHMKIT_RING_OVERWRITE) {
        become_reader(ring, flags);
        return 0;
    }
    sk_seg_close(&ring->seg);
    rc = map_ring(ring, spec, SK_SEG_WRITE | SK_SEG_OWNER_FLAG(flags));
    if (rc == -EACCES || rc == -EPERM)
        return explain_consumer_access(rc);
    if (rc == 0 && ring->policy != SHMKIT_RING_BLOCK)
        rc = sk_fail(SHMKIT_EKIND, "ring changed while being opened");
    return rc < 0 ? rc : become_consumer(ring);
}

SHMKIT_API int shmkit_ring_open(shmkit_ring **ringp, const char *spec_text, unsigned flags)
{
    struct sk_spec spec;
    shmkit_ring *ring;
    int rc;

    sk_clear_detail();
    if (ringp == NULL)
        return sk_null_arg("ringp");
    *ringp = NULL;
    rc = sk_check_flags(flags, SHMKIT_WRITE | SHMKIT_FROM_OLDEST | SHMKIT_ANY_OWNER,
                        "shmkit_ring_open");
    if (rc == 0 && (flags & SHMKIT_WRITE) && (flags & SHMKIT_FROM_OLDEST))
        rc = sk_fail(-EINVAL, "SHMKIT_FROM_OLDEST is for readers, not with SHMKIT_WRITE");
    if (rc == 0)
        rc = sk_spec_parse(spec_text, &spec);
    if (rc < 0)
        return rc;
    ring = calloc(1, sizeof *ring);
    if (ring == NULL)
        return sk_fail(-ENOMEM, "cannot allocate a ring handle");
    rc = sk_holder_stamp(&ring->fork_gen);
    if (rc == 0)
        rc = sk_seg_verdict(&ring->seg, open_existing(ring, &spec, flags));
    if (rc < 0) {
        free_handle(ring);
        return rc;
    }
    *ringp = ring;
    return 0;
}

static uint32_t round_capacity(size_t capacity)
{
    uint32_t cap = SK_RING_MIN_CAPACITY;

    while (cap < capacity && cap < SK_RING_MAX_CAPACITY)
        cap <<= 1;
    return cap;
}

/* The capacity and maximum message size a new ring will have. */
static int resolve_geometry(size_t capacity, size_t max_message, int policy, uint32_t *cap,
                            uint32_t *max)
{
    if (policy != SHMKIT_RING_BLOCK && policy != SHMKIT_RING_OVERWRITE)
        return sk_fail(-EINVAL, "unknown ring policy %d", policy);
    if (capacity == 0 || capacity > SK_RING_MAX_CAPACITY)
        return sk_fail(SHMKIT_ESIZE, "capacity must be 1 byte .. 1 GiB");
    *cap = round_capacity(capacity);
    if (max_message > SK_RING_MAX_CAPACITY / 2 - SK_FRAME_HDR)
        return sk_fail(SHMKIT_ESIZE,
                       "messages of %zu bytes are larger than any ring can hold (%u at most)",
                       max_message, (unsigned)(SK_RING_MAX_CAPACITY / 2 - SK_FRAME_HDR));
    if (max_message == 0)
        max_message = *cap / 2 - SK_FRAME_HDR;
    if (max_message > *cap / 2 - SK_FRAME_HDR)
        return sk_fail(SHMKIT_ESIZE, "messages of %zu bytes need a capacity of at least %zu",
                       max_message, (max_message + SK_FRAME_HDR) * 2);
    *max = (uint32_t)max_message;
    return 0;
}

static int create_new(shmkit_ring *ring, const struct sk_spec *spec, uint32_t cap,
                      uint32_t max, int policy, unsigned mode, unsigned flags)
{
    struct sk_header_params p;
    struct sk_waitset ws;
    int rc;

    memset(&p, 0, sizeof p);
    p.kind = SHMKIT_KIND_RING;
    p.header_flags = (policy == SHMKIT_RING_OVERWRITE ? SK_HFLAG_OVERWRITE : 0)
                     | SK_HFLAG_OWNED_IF(flags);
    p.payload_offset = SK_HEADER_SIZE;
    p.payload_size = cap;
    p.total_size = p.payload_offset + cap;
    p.record_size = max;
    p.capacity = cap;
    p.layout = "";
    rc = sk_seg_create(&ring->seg, spec, (size_t)p.total_size, mode);
    if (rc < 0)
        return rc;
    sk_waitset_create(&ws, mode);
    p.wait_mech = ws.mech;
    p.wait_semid = ws.semid;
    sk_header_init(ring->seg.base, &p);
    if (sk_hook("creator-dies-before-publish"))
        raise(SIGKILL); /* test builds: a creator killed half-way */
    sk_header_publish(ring->seg.base);
    rc = sk_header_validate(ring->seg.base, ring->seg.size, &ring->view);
    if (rc == 0)
        rc = setup_handle(ring);
    if (rc == 0)
        rc = become_writer(ring);
    if (rc < 0) {
        sk_waitset_destroy(&ws);
        sk_seg_remove(spec);
    }
    return rc;
}

static int check_match(const shmkit_ring *ring, uint32_t cap, uint32_t max, int policy)
{
    if (ring->policy != policy)
        return sk_fail(SHMKIT_EKIND, "ring has the %s policy",
                       ring->policy == SHMKIT_RING_BLOCK ? "block" : "overwrite");
    if (ring->cap != cap || ring->max_message != max)
        return sk_fail(SHMKIT_ESIZE, "ring has capacity %lu and messages up to %lu",
                       (unsigned long)ring->cap, (unsigned long)ring->max_message);
    return 0;
}

SHMKIT_API int shmkit_ring_create(shmkit_ring **ringp, const char *spec_text, size_t capacity,
                                  size_t max_message, int policy, unsigned mode,
                                  unsigned flags)
{
    struct sk_spec spec;
    shmkit_ring *ring;
    uint32_t cap = 0, max = 0;
    int rc;

    sk_clear_detail();
    if (ringp == NULL)
        return sk_null_arg("ringp");
    *ringp = NULL;
    if (mode > 0777)
        return sk_fail(-EINVAL, "mode %o has bits outside 0777", mode);
    if ((rc = sk_check_flags(flags, SK_CREATE_FLAGS, "shmkit_ring_create")) < 0 ||
        (rc = sk_spec_parse(spec_text, &spec)) < 0 ||
        (rc = resolve_geometry(capacity, max_message, policy, &cap, &max)) < 0)
        return rc;
    ring = calloc(1, sizeof *ring);
    if (ring == NULL)
        return sk_fail(-ENOMEM, "cannot allocate a ring handle");
    rc = sk_holder_stamp(&ring->fork_gen);
    if (rc == 0)
        rc = create_new(ring, &spec, cap, max, policy, mode != 0 ? mode : 0600, flags);
    if (rc == -EEXIST && !(flags & SHMKIT_EXCL)) {
        uint32_t gen = ring->fork_gen;

        memset(ring, 0, sizeof *ring);
        ring->fork_gen = gen;
        sk_clear_detail();
        rc = map_ring(ring, &spec, SK_SEG_WRITE | SK_SEG_OWNER_FLAG(flags));
        if (rc == 0)
            rc = check_match(ring, cap, max, policy);
        if (rc == 0)
            rc = become_writer(ring);
    }
    rc = sk_seg_verdict(&ring->seg, rc);
    if (rc < 0) {
        free_handle(ring);
        return rc;
    }
    *ringp = ring;
    return 0;
}

SHMKIT_API void shmkit_ring_close(shmkit_ring *ring)
{
    if (ring != NULL)
        free_handle(ring);
}

SHMKIT_API int shmkit_ring_is_current(const shmkit_ring *ring)
{
    sk_clear_detail();
    if (ring == NULL)
        return sk_fail(-EINVAL, "ring handle is NULL");
    return sk_seg_is_current(&ring->seg);
}

/* The accessors below return 0 for a NULL handle (shmkit.h). */
static int null_ring(const shmkit_ring *ring)
{
    if (ring != NULL)
        return 0;
    sk_null_arg("ring");
    return 1;
}

SHMKIT_API uint64_t shmkit_ring_lost(const shmkit_ring *ring)
{
    return null_ring(ring) ? 0 : ring->lost;
}

SHMKIT_API uint64_t shmkit_ring_position(const shmkit_ring *ring)
{
    if (null_ring(ring))
        return 0;
    return ring->role == ROLE_WRITER ? ring->w_seq : ring->seq;
}

SHMKIT_API size_t shmkit_ring_capacity(const shmkit_ring *ring)
{
    return null_ring(ring) ? 0 : ring->cap;
}

SHMKIT_API size_t shmkit_ring_max_message(const shmkit_ring *ring)
{
    return null_ring(ring) ? 0 : ring->max_message;
}

SHMKIT_API int shmkit_ring_policy(const shmkit_ring *ring)
{
    return null_ring(ring) ? -EINVAL : ring->policy;
}

/* For shmkit_info(): the state of a validated ring mapping. */
void sk_ring_describe(void *base, const struct sk_header_view *view, struct shmkit_info *info)
{
    struct sk_header *h = base;
    uint32_t head = sk_load(&h->head, SK_ACQUIRE);
    int overwrite = (view->header_flags & SK_HFLAG_OVERWRITE) != 0;
    uint32_t from = sk_load(overwrite ? &h->oldest : &h->tail, SK_ACQUIRE);
    uint32_t used = head - from;

    info->ring_policy = overwrite ? SHMKIT_RING_OVERWRITE : SHMKIT_RING_BLOCK;
    info->ring_capacity = view->capacity;
    info->ring_max_message = view->record_size;
    info->ring_used = used <= view->capacity ? used : view->capacity;
    info->ring_messages = published_count(h);
    /* consumer_pid and consumer_alive: info.c (sk_lease_describe) */
}
