/*
 * format.h - the in-memory format of a shmkit segment, version 1.0.
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
 *   512..639  reader line: reserved for readers' shared state (rings)
 *   640..767  reserved, zero
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
#define SK_FORMAT_MAJOR 1
#define SK_FORMAT_MINOR 0
#define SK_BYTE_ORDER_MARK 0x01020304u
#define SK_HEADER_SIZE 768u
#define SK_LINE 128u
#define SK_LAYOUT_AREA 256u

/* state word */
#define SK_STATE_INIT 0u  /* zero-filled: creator has not finished */
#define SK_STATE_READY 1u /* header complete and checksummed */

/* header_flags bits */
#define SK_HFLAG_RAW 0x0001u /* slot without layout */

/* Slot payload: two buffers, each a 16-byte buffer header followed by the
 * record, the whole rounded up to a multiple of 64 bytes. */
#define SK_SLOT_BUF_HDR 16u
#define SK_SLOT_BUF_ALIGN 64u

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
    uint64_t creator_start;    /*  72  creator's process start time token */
    int64_t created_sec;       /*  80  creation time, seconds since epoch */
    uint8_t reserved0[32];     /*  88  zero */
    uint32_t checksum;         /* 120  FNV-1a of bytes 0..119 and 128..383 */
    sk_atomic_u32 state;       /* 124  SK_STATE_*; set last by the creator */

    /* --- layout (128..383) --- */
    char layout[SK_LAYOUT_AREA]; /* 128 */

    /* --- writer line (384..511) --- */
    sk_atomic_u32 lease_pid;   /* 384  writer pid, 0 = free */
    sk_atomic_u32 lease_token; /* 388  writer start-time token, 0 = unknown */
    sk_atomic_u32 pub;         /* 392  slot: low 32 bits of published version */
    sk_atomic_u32 begin;       /* 396  slot: low 32 bits of version being written */
    uint8_t writer_reserved[112]; /* 400 */

    /* --- reader line (512..639) --- */
    uint8_t reader_reserved[128]; /* 512 */

    /* --- reserved line (640..767) --- */
    uint8_t reserved1[128];    /* 640 */
};

/* Per-buffer header of a slot buffer. */
struct sk_slot_buf {
    uint64_t version; /* full 64-bit version of the record that follows */
    uint64_t reserved;
};

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
_Static_assert(offsetof(struct sk_header, pub) == 392, "pub");
_Static_assert(offsetof(struct sk_header, reader_reserved) == 512, "reader line");
_Static_assert(offsetof(struct sk_header, reserved1) == 640, "reserved line");
_Static_assert(sizeof(sk_atomic_u32) == 4, "32-bit atomics");
_Static_assert(sizeof(struct sk_slot_buf) == SK_SLOT_BUF_HDR, "slot buffer header");

#endif /* SHMKIT_FORMAT_H */
