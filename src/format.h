/*
 * format.h - the in-memory format of a shmkit segment, version 3.0.
 *
 * doc/FORMAT.md is the normative description; this struct must match it
 * byte for byte (the _Static_asserts below pin every offset).  All fields
 * are fixed-width and in native byte order; there are no pointers, so 32-
 * and 64-bit processes on one machine share segments.
 *
 * The header is split into 128-byte lines (the largest common cache line,
 * Apple M-series) so that fields written by the writer and fields written
 * by readers never share a line:
 *   0..127    static line: written once by the creator, then immutable
 *   128..383  layout text (NUL-terminated, part of the checksum)
 *   384..511  writer line: lease and publication counters
 *   512..639  reader line: zero (the consumers have their own lines)
 *   640..767  wake-request line: waiters and notifiers (wait.c), rest zero
 * A block ring's consumer table follows the header: one 128-byte line per
 * consumer (struct sk_consumer), `consumers` of them, then the payload.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_FORMAT_H
#define SHMKIT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "atomics.h"

#define SK_MAGIC "SHMKIT\0\0"
#define SK_MAGIC_LEN 8
#define SK_FORMAT_MAJOR 3 /* 3.0: ring frames and slot buffers carry commit words,
                           block rings a consumer table;
                           2.0: wake requests are generation counters,
                           PID namespaces of the creator and lease holders */
#define SK_FORMAT_MINOR 0
#define SK_BYTE_ORDER_MARK 0x01020304u
#define SK_HEADER_SIZE 768u
#define SK_LINE 128u
#define SK_LAYOUT_AREA 256u

/* state word */
#define SK_STATE_INIT 0u  /* zero-filled: creator has not finished */
#define SK_STATE_READY 1u /* header complete and checksummed */

/* header_flags bits */
#define SK_HFLAG_RAW 0x0001u       /* slot without layout */
#define SK_HFLAG_OVERWRITE 0x0002u /* ring with the overwrite policy */
#define SK_HFLAG_OWNED 0x0004u     /* lives only as long as its creator */
#define SK_HFLAGS_KNOWN (SK_HFLAG_RAW | SK_HFLAG_OVERWRITE | SK_HFLAG_OWNED)

/* Slot payload: two buffers, each a 16-byte buffer header (its commit
 * word first) followed by the record, the whole rounded up to a multiple
 * of 64 bytes: a record of up to 48 bytes shares one 64-byte line with
 * its commit word. */
#define SK_SLOT_BUF_HDR 16u
#define SK_SLOT_BUF_ALIGN 64u

/* The slot geometry these rules give (doc/FORMAT.md): the bytes of one
 * buffer, and of the payload, for records of RECORD_SIZE bytes.  Part of
 * the format, so that header.c can check a header against it without
 * knowing slots. */
static inline uint64_t sk_slot_buf_stride(uint64_t record_size)
{
    uint64_t raw = SK_SLOT_BUF_HDR + record_size;

    return (raw + SK_SLOT_BUF_ALIGN - 1) / SK_SLOT_BUF_ALIGN * SK_SLOT_BUF_ALIGN;
}

static inline uint64_t sk_slot_payload_size(uint64_t record_size)
{
    return 2 * sk_slot_buf_stride(record_size);
}

/* Ring payload: CAPACITY bytes (a power of two) of frames.  A frame is a
 * 16-byte frame header and the message, padded to a multiple of 64 bytes
 * (a cache line), so a message of up to 48 bytes shares one line with its
 * commit word and a frame header is never split by the end of the ring; a
 * frame that would not fit before the end is preceded by a pad frame that
 * fills it.  The commit word, the frame header's first word, is written
 * last: readers poll it, not a shared cursor (doc/FORMAT.md, "Ring"). */
#define SK_FRAME_HDR 16u
#define SK_FRAME_ALIGN 64u
#define SK_FRAME_COMMITTED 0x1u    /* commit word: the frame is published */
#define SK_FRAME_PAD 0x2u          /* commit word: padding, no message */
#define SK_FRAME_TAG_BITS 0x3fu    /* the commit word's bits below the position */
#define SK_RING_MIN_CAPACITY 256u
#define SK_RING_MAX_CAPACITY (1u << 30)

/* Wait indices (wait.h): which semaphore a word uses under sysv-sem. */
#define SK_WAIT_IDX_DATA 0u  /* slot version / ring head: readers wait */
#define SK_WAIT_IDX_SPACE 1u /* ring tail: the writer waits for space */

struct sk_header {
    /* --- static line (0..127): immutable once state is READY --- */
    char magic[SK_MAGIC_LEN];  /*   0 */
    uint16_t format_major;     /*   8 */
    uint16_t format_minor;     /*  10 */
    uint16_t kind;             /*  12  enum shmkit_kind */
    uint16_t header_flags;     /*  14  SK_HFLAG_* */
    uint32_t byte_order;       /*  16  SK_BYTE_ORDER_MARK, native order */
    uint32_t header_size;      /*  20  SK_HEADER_SIZE */
    uint64_t total_size;       /*  24  bytes of the segment */
    uint64_t payload_offset;   /*  32  multiple of 64, >= header_size */
    uint64_t payload_size;     /*  40 */
    uint64_t record_size;      /*  48  slot: record bytes */
    uint64_t capacity;         /*  56  ring: data bytes; slot: 0 */
    uint32_t layout_len;       /*  64  strlen(layout), < SK_LAYOUT_AREA */
    uint32_t creator_pid;      /*  68 */
    uint64_t creator_start;    /*  72  creator's process start time (platform units) */
    int64_t created_sec;       /*  80  creation time, seconds since epoch */
    uint32_t wait_mech;        /*  88  enum sk_wait_mech of the creator's build */
    int32_t wait_semid;        /*  92  sysv-sem: semaphore set id, else -1 */
    uint32_t creator_pidns;    /*  96  creator's PID namespace id, 0 unknown */
    uint32_t consumers;        /* 100  block ring: entries of the consumer table; else 0 */
    uint8_t reserved0[16];     /* 104  zero */
    uint32_t checksum;         /* 120  FNV-1a of bytes 0..119 and 128..383 */
    sk_atomic_u32 state;       /* 124  SK_STATE_*; set last by the creator */

    /* --- layout (128..383) --- */
    char layout[SK_LAYOUT_AREA]; /* 128 */

    /* --- writer line (384..511): written by the writer --- */
    sk_atomic_u32 lease_pid;   /* 384  writer pid, 0 = free */
    sk_atomic_u32 lease_token; /* 388  writer start-time token, 0 = unknown */
    sk_atomic_u32 head;        /* 392  ring: end of the published frames; slot: 0 */
    sk_atomic_u32 reclaim;     /* 396  ring: bytes before reclaim - capacity may be overwritten;
                                        slot: 0 */
    sk_atomic_u32 newest;      /* 400  ring: start of the newest frame */
    sk_atomic_u32 oldest;      /* 404  ring (overwrite): start of the oldest retained frame */
    sk_atomic_u32 seq_lo;      /* 408  ring: messages published, low 32 bits */
    sk_atomic_u32 seq_hi;      /* 412  ring: high 32 bits */
    sk_atomic_u32 lease_pidns; /* 416  writer's PID namespace id, 0 unknown */
    uint8_t writer_reserved[92]; /* 420 */

    /* --- reader line (512..639): zero.  Before 3.0 it held the one
     * consumer's lease and tail; they moved to the consumer table. --- */
    uint8_t reader_reserved[128]; /* 512 */

    /* --- wake-request line (640..767): written only by waiters about to
     * sleep and by the notifiers that wake them, so that checking for a
     * sleeper costs the writer and the consumer no miss on each other's
     * line (wait.c, shmkit__notify) --- */
    /* Wake requests: generation counters, low bit "asked" (FORMAT.md 11). */
    sk_atomic_u32 waiters;       /* 640  wake request for slot commit words / head (readers) */
    sk_atomic_u32 space_waiters; /* 644  ring (block): wake request for tail (the writer) */
    uint8_t reserved1[120];    /* 648 */
};

/* A block ring's consumers: at most this many, each one line of the
 * consumer table that follows the header (doc/FORMAT.md, "Consumers"). */
#define SK_RING_MAX_CONSUMERS 256u
#define SK_CONSUMER_SIZE 128u

/* The state word of a consumer entry: a generation counter whose low bit
 * says the entry is active, i.e. its tail holds the writer back.  Every
 * change of the entry's meaning (taken over, dropped, joined) adds to the
 * generation, so that a compare-and-swap against a state loaded earlier
 * fails if anything happened to the entry meanwhile (ring.c). */
#define SK_CONSUMER_ACTIVE 0x1u

/* One consumer of a block ring.  Written by its consumer, except STATE,
 * which the writer may also change (from active to vacant, for a dead
 * consumer that holds it back: ring-write.c). */
struct sk_consumer {
    sk_atomic_u32 pid;    /*  0  lease: the consumer's pid, 0 = none */
    sk_atomic_u32 token;  /*  4  lease: its start-time token */
    sk_atomic_u32 pidns;  /*  8  lease: its PID namespace id, 0 unknown */
    sk_atomic_u32 state;  /* 12  generation << 1 | SK_CONSUMER_ACTIVE */
    sk_atomic_u32 tail;   /* 16  end of the frames this consumer consumed */
    uint32_t reserved0;   /* 20  zero */
    sk_atomic_u32 seq_lo; /* 24  number of the next message it will read (for */
    sk_atomic_u32 seq_hi; /* 28  shmkit info's lag: untrusted, shown only) */
    uint8_t reserved[96]; /* 32  zero */
};

/* Frame header of a ring frame.  COMMIT is 0 until the frame is
 * published, then the frame's own position (a multiple of SK_FRAME_ALIGN)
 * with SK_FRAME_COMMITTED, and SK_FRAME_PAD for a pad frame: a word left
 * from an earlier lap of the ring names another position. */
struct sk_frame {
    sk_atomic_u32 commit; /* written last, release */
    uint32_t len;         /* message bytes; pad frames: the whole frame's bytes */
    uint64_t seq;         /* message number, from 0; pad frames: 0 */
};

/* Per-buffer header of a slot buffer: the buffer's seqlock.  Version n
 * lives in buffer n & 1; its commit word is 2n (mod 2^32) when the record
 * is complete and 2n - 1 (odd) while the writer fills it (slot.c). */
struct sk_slot_buf {
    sk_atomic_u32 commit; /* 0  written last, with release ordering */
    uint32_t reserved;    /* 4  zero */
    uint64_t version;     /* 8  full 64-bit version of the record that follows */
};

/* Entry I of the consumer table after header H (I < H's consumers). */
static inline struct sk_consumer *sk_consumer_entry(const struct sk_header *h, uint32_t i)
{
    return (struct sk_consumer *)(void *)((unsigned char *)(uintptr_t)h + SK_HEADER_SIZE +
                                          (size_t)i * SK_CONSUMER_SIZE);
}

#define SK_CHECKSUM_OFFSET 120u
#define SK_STATE_OFFSET 124u

_Static_assert(sizeof(struct sk_header) == SK_HEADER_SIZE, "header size");
_Static_assert(offsetof(struct sk_header, byte_order) == 16, "byte_order");
_Static_assert(offsetof(struct sk_header, total_size) == 24, "total_size");
_Static_assert(offsetof(struct sk_header, layout_len) == 64, "layout_len");
_Static_assert(offsetof(struct sk_header, created_sec) == 80, "created_sec");
_Static_assert(offsetof(struct sk_header, checksum) == SK_CHECKSUM_OFFSET, "checksum");
_Static_assert(offsetof(struct sk_header, state) == SK_STATE_OFFSET, "state");
_Static_assert(offsetof(struct sk_header, layout) == 128, "layout");
_Static_assert(offsetof(struct sk_header, lease_pid) == 384, "writer line");
_Static_assert(offsetof(struct sk_header, wait_mech) == 88, "wait_mech");
_Static_assert(offsetof(struct sk_header, head) == 392, "head");
_Static_assert(offsetof(struct sk_header, reclaim) == 396, "reclaim");
_Static_assert(offsetof(struct sk_header, consumers) == 100, "consumers");
_Static_assert(offsetof(struct sk_header, waiters) == 640, "wake-request line");
_Static_assert(offsetof(struct sk_header, space_waiters) == 644, "space_waiters");
_Static_assert(offsetof(struct sk_header, creator_pidns) == 96, "creator_pidns");
_Static_assert(offsetof(struct sk_header, lease_pidns) == 416, "lease_pidns");
_Static_assert(offsetof(struct sk_header, creator_pid) == 68, "creator lock byte");
_Static_assert(sizeof(struct sk_consumer) == SK_CONSUMER_SIZE, "consumer entry");
_Static_assert(offsetof(struct sk_consumer, tail) == 16 && offsetof(struct sk_consumer, seq_lo) == 24,
               "consumer entry fields");
_Static_assert(sizeof(struct sk_frame) == SK_FRAME_HDR, "frame header");
_Static_assert(offsetof(struct sk_frame, len) == 4 && offsetof(struct sk_frame, seq) == 8,
               "frame header fields");
_Static_assert(SK_FRAME_TAG_BITS < SK_FRAME_ALIGN, "commit tag below the position");
_Static_assert(offsetof(struct sk_header, reserved1) == 648, "reserved");
_Static_assert(sizeof(sk_atomic_u32) == 4, "32-bit atomics");
_Static_assert(sizeof(struct sk_slot_buf) == SK_SLOT_BUF_HDR, "slot buffer header");
_Static_assert(offsetof(struct sk_slot_buf, version) == 8, "slot buffer version");
_Static_assert(SK_SLOT_BUF_ALIGN % 4 == 0 && SK_SLOT_BUF_HDR + 48 == SK_SLOT_BUF_ALIGN,
               "a 48-byte record and its commit word fill one aligned 64-byte line");

#endif /* SHMKIT_FORMAT_H */
