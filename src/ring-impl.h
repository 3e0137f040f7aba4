/*
 * ring-impl.h - the ring's handle and the helpers its files share:
 * ring.c (opening, creating, describing), ring-write.c (the writer) and
 * ring-read.c (consumers and readers).  The format and the protocol are
 * described at the top of ring.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_RING_IMPL_H
#define SHMKIT_RING_IMPL_H

#include "handle.h"
#include "ring.h"
#include "wait.h"

#include <errno.h>
#include <stddef.h>

/* Bounded retries of an overwrite reader that keeps being lapped. */
#define RESYNC_ATTEMPTS 10000

enum ring_role { ROLE_WRITER = 1, ROLE_CONSUMER, ROLE_READER };

struct shmkit_ring {
    struct sk_handle h;         /* first: segment, view, leases (handle.h) */
    struct sk_header *hdr;     /* shared, read-only for overwrite readers */
    unsigned char *data;
    uint32_t cap, mask, max_message;
    uint32_t consumers;         /* block: entries of the consumer table */
    int policy;
    int role;                   /* enum ring_role */
    sk_atomic_u32 busy;         /* a call is using the handle (enter_call) */
    struct sk_waitset ws;

    /* writer */
    uint32_t w_head;            /* private copy of head */
    uint32_t w_tail;            /* block: tail as last loaded (and checked) */
    uint32_t w_oldest;          /* overwrite: private copy of oldest */
    uint32_t w_reclaim;         /* overwrite: private copy of reclaim */
    uint64_t w_seq;             /* next message number */
    uint32_t w_stuck_tail;      /* block: the slowest tail, when it was first seen */
    uint64_t w_stuck_since;     /* ... at this time (0: not stuck) */
    int reserved;               /* a reserve is pending */
    uint32_t r_frame;           /* its frame position */
    uint32_t r_len;             /* its maximum length */
    int pad_pending;            /* a pad frame before r_frame awaits its commit */
    uint32_t pad_pos;           /* its position */

    /* consumer and reader */
    struct sk_consumer *me;     /* a block consumer's entry */
    uint32_t my_state;          /* its state word since we took it */
    uint32_t pos;               /* next frame to read */
    uint64_t seq;               /* expected message number */
    int seq_known;              /* 0 until the first frame is read */
    uint64_t lost;
    int peeked;                 /* a peek is pending */
    uint32_t peek_pos, peek_size;
    uint64_t peek_seq;

    /* a block consumer opened with SHMKIT_ACK (ring-ack.c): pos and seq
     * read ahead, the entry's tail stays at the acknowledged position */
    int ack_mode;
    uint32_t acked_pos;         /* the entry's tail, where message acked_seq starts */
    uint64_t acked_seq;         /* the first message not acknowledged */
};

/* The bytes a frame holding LEN <= max_message bytes takes. */
static inline uint32_t frame_size(uint32_t len)
{
    return (SK_FRAME_HDR + len + SK_FRAME_ALIGN - 1) & ~(SK_FRAME_ALIGN - 1);
}

/* Every frame starts on a frame boundary.  A cursor read from the segment
 * that does not is damage: used as is, a 16-byte frame header at it could
 * straddle the end of the ring, and so the end of the mapping. */
static inline int aligned(uint32_t pos)
{
    return (pos & (SK_FRAME_ALIGN - 1)) == 0;
}

static inline unsigned char *at(const shmkit_ring *ring, uint32_t pos)
{
    return ring->data + (pos & ring->mask);
}

static inline uint32_t to_end(const shmkit_ring *ring, uint32_t pos)
{
    return ring->cap - (pos & ring->mask);
}

/* The frame header at POS (an aligned position: never split by the end). */
static inline struct sk_frame *frame_at(const shmkit_ring *ring, uint32_t pos)
{
    return (struct sk_frame *)(void *)at(ring, pos);
}

/* The commit word of a published frame at POS: its position, tagged.  A
 * word from an earlier lap (or message bytes that happen to lie there)
 * names another position, except after 2^32 bytes, which no reader can be
 * behind by (block) or survive unnoticed (overwrite: see overwritten). */
static inline uint32_t commit_tag(uint32_t pos, uint32_t flags)
{
    return pos | SK_FRAME_COMMITTED | flags;
}

/* Is COMMIT, read at POS, the commit word of a frame published there? */
static inline int committed(uint32_t pos, uint32_t commit)
{
    return commit == commit_tag(pos, 0) || commit == commit_tag(pos, SK_FRAME_PAD);
}

static inline int is_pad(uint32_t commit)
{
    return (commit & SK_FRAME_PAD) != 0;
}

/* The commit word at POS, with acquire order: the frame's other bytes are
 * complete when it reads as committed. */
static inline uint32_t load_commit(const shmkit_ring *ring, uint32_t pos)
{
    return sk_load(&frame_at(ring, pos)->commit, SK_ACQUIRE);
}

/* Milliseconds left until DEADLINE (0: none) for shmkit__wait_changed. */
static inline int remaining_ms(uint64_t deadline, int timeout_ms)
{
    uint64_t now;

    if (timeout_ms <= 0)
        return timeout_ms;
    now = shmkit__monotonic_ns();
    if (now >= deadline)
        return 0;
    return (int)((deadline - now + 999999u) / 1000000u);
}

static inline uint64_t deadline_of(int timeout_ms)
{
    return timeout_ms > 0 ? shmkit__monotonic_ns() + (uint64_t)timeout_ms * 1000000u : 0;
}

/* What a wait that found nothing returns when the time is up. */
static inline int expired(int timeout_ms)
{
    return timeout_ms == 0 ? -EAGAIN : -ETIMEDOUT;
}

/* The rest of a frame header (length and message number), written before
 * the commit word and read after it. */
static inline void put_frame(shmkit_ring *ring, uint32_t pos, uint32_t len, uint64_t seq)
{
    struct sk_frame f;

    f.len = len;
    f.seq = seq;
    shmkit__racy_write(at(ring, pos) + offsetof(struct sk_frame, len), &f.len,
                       SK_FRAME_HDR - offsetof(struct sk_frame, len));
}

static inline void get_frame(const shmkit_ring *ring, uint32_t pos, struct sk_frame *f)
{
    shmkit__racy_copy(&f->len, at(ring, pos) + offsetof(struct sk_frame, len),
                      SK_FRAME_HDR - offsetof(struct sk_frame, len));
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
static inline int in_use(void)
{
    return shmkit__fail(-EINVAL, "the handle is in use by another thread "
                            "(a handle is for one thread at a time)");
}

/* The API's NULL rule (shmkit.h), checked on entry: RING, then the
 * pointer argument named MISSING if the caller found it NULL. */
static inline int null_args(const shmkit_ring *ring, const char *missing)
{
    if (ring == NULL)
        return shmkit__null_arg("ring");
    return missing != NULL ? shmkit__null_arg(missing) : 0;
}

static inline int enter_call(shmkit_ring *ring, const char *missing)
{
    int rc = null_args(ring, missing);

    if (rc < 0)
        return rc;
    return sk_exchange(&ring->busy, 1) != 0 ? in_use() : 0;
}

static inline int enter_writer_call(shmkit_ring *ring, const char *missing)
{
    int rc = null_args(ring, missing);

    if (rc < 0)
        return rc;
    if (sk_load(&ring->busy, SK_RELAXED) != 0)
        return in_use();
    sk_store(&ring->busy, 1, SK_RELAXED);
    return 0;
}

static inline int leave_call(shmkit_ring *ring, int rc)
{
    sk_store(&ring->busy, 0, SK_RELEASE);
    return rc;
}

/* Overwrite readers: was POS overwritten (or about to be) by now?  Called
 * after copying, behind an acquire fence. */
static inline int overwritten(const shmkit_ring *ring, uint32_t pos)
{
    uint32_t reclaim;

    sk_fence(SK_ACQUIRE);
    reclaim = sk_load(&ring->hdr->reclaim, SK_RELAXED);
    return (uint32_t)(reclaim - pos) > ring->cap;
}

/* Jump to the oldest retained frame after being lapped. */
static inline void resync(shmkit_ring *ring)
{
    ring->pos = sk_load(&ring->hdr->oldest, SK_ACQUIRE);
}

/* The frame at POS, whose commit word read COMMIT (committed) and whose
 * length is F->len, as far as it can be checked without knowing whether it
 * was overwritten: SHMKIT_ECORRUPT if it cannot be a frame.  On success
 * *SIZE is the bytes it takes, pad or message. */
int shmkit__ring_check_frame(const shmkit_ring *ring, uint32_t pos, uint32_t commit,
                             const struct sk_frame *f, uint32_t *size);
/* The end of the frames published from POS on (a valid, committed chain,
 * at most a capacity long); *SEQ is set to the number after the last
 * message in it, and left alone if there is none. */
uint32_t shmkit__ring_published_end(const shmkit_ring *ring, uint32_t pos, uint64_t *seq);
/* The consumer table (ring-consumers.c).  The writer's view: the oldest
 * tail of an active consumer (head if none) and its entry (-1 if none),
 * with the join handshake; after a wait in which the slowest tail
 * SLOWEST_TAIL did not move, dropping dead consumers that hold it back from NEED bytes
 * once it has not moved for 50 ms, while a live one exists (1 if any was
 * dropped); how long to wait for the slowest before asking that (LEFT_MS:
 * the time left). */
int shmkit__ring_scan_consumers(shmkit_ring *ring, uint32_t *min, int *slowest);
int shmkit__ring_drop_dead(shmkit_ring *ring, uint32_t slowest_tail, uint32_t need);
int shmkit__ring_check_interval(const shmkit_ring *ring, int left_ms);
/* A consumer's: take an entry (resume one whose holder is gone, or join
 * one afresh at the newest or oldest message, as FLAGS say) and set
 * ring->me and ring->pos. */
int shmkit__ring_join(shmkit_ring *ring, unsigned flags);
/* The oldest tail of an active consumer of the ring at H (CONSUMERS
 * entries, capacity CAP) within CAP of HEAD; HEAD if none. */
uint32_t shmkit__ring_oldest_kept(const struct sk_header *h, uint32_t consumers, uint32_t cap,
                                  uint32_t head);
/* 0 if the consumer's entry is still the one it joined, else (the writer
 * dropped it, or another process took it over, judging this one dead)
 * SHMKIT_ENOTHOLDER with a detail.  Checked before sleeping only. */
int shmkit__ring_still_mine(const shmkit_ring *ring);
/* Store the consumer's next message number in its entry (ring-read.c):
 * for an ACK consumer, the first one not acknowledged. */
void shmkit__ring_note_sequence(shmkit_ring *ring);
/* Publish TAIL as the end of what the consumer is done with, with its
 * message number, and wake a writer waiting for space (ring-read.c). */
void shmkit__ring_store_tail(shmkit_ring *ring, uint32_t tail);
/* A consumer's error RC as the caller should see it: SHMKIT_ECORRUPT
 * becomes SHMKIT_ENOTHOLDER when the entry's tail moved on from where
 * this handle left it (ring-read.c). */
int shmkit__ring_consumer_failure(const shmkit_ring *ring, int rc);

/* Errors about the caller's misuse must not read as damage: 1, with
 * SHMKIT_ENOTHOLDER and a detail, if the shared cursor WHAT has moved
 * from MINE, where this handle left it, to SHARED consistently with HEAD
 * and TAIL, so that another process DID what this handle's lease holder
 * does; 0 otherwise (see ring.c). */
int shmkit__ring_moved_on(const shmkit_ring *ring, uint32_t mine, uint32_t shared, uint32_t head,
                          uint32_t tail, const char *what, const char *did);

#endif /* SHMKIT_RING_IMPL_H */
