/*
 * bridge-proto.h - shmkit-bridge's wire format: build and check the frames
 * that the two bridges exchange (bridge-proto.c).  Pure functions on
 * buffers, with no ZeroMQ and no segment, so that the unit test
 * (tests/check_bridge_proto.c) can feed them every malformed input.
 *
 * Every frame starts with a 16-byte header, integers little-endian:
 *   0  4  magic "SKB1"        5  1  flags (BRIDGE_FLAG_*)
 *   4  1  type                6  2  protocol version, 1
 *   8  8  number (meaning per type)
 * and a payload whose format the type fixes (doc/BRIDGE.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_BRIDGE_PROTO_H
#define SHMKIT_BRIDGE_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define BRIDGE_HEADER_SIZE 16
#define BRIDGE_PROTOCOL_VERSION 1

enum bridge_type {
    BRIDGE_HELLO = 1,     /* receiver -> sender: what it needs, its window */
    BRIDGE_WELCOME = 2,   /* sender -> receiver: the segment's shape */
    BRIDGE_DATA = 3,      /* sender -> receiver: a message or record */
    BRIDGE_ACK = 4,       /* receiver -> sender: written up to number */
    BRIDGE_HEARTBEAT = 5, /* either way, when idle */
    BRIDGE_ERROR = 6,     /* either way: exit code and message */
    BRIDGE_BYE = 7,       /* either way: clean shutdown */
    BRIDGE_DATA_BATCH = 8 /* sender -> receiver: consecutive ring messages */
};

/* Header flags.  BATCH, in every frame a receiver sends: it takes
 * DATA_BATCH.  A peer that does not know a flag ignores it, so a sender
 * batches only for receivers that say so. */
#define BRIDGE_FLAG_BATCH 0x1u

/* DATA_BATCH's payload: one or more records of a u32 length and that many
 * bytes, the messages numbered from the header's number on. */
#define BRIDGE_BATCH_RECORD 4

/* Payload sizes of the fixed formats. */
#define BRIDGE_HELLO_PAYLOAD 12   /* u32 window, u32 window_kib, u32 flags */
#define BRIDGE_ACK_PAYLOAD 8      /* u32 window, u32 window_kib */
#define BRIDGE_WELCOME_FIXED 26   /* WELCOME's payload before the layout */
#define BRIDGE_ERROR_MAX 1024     /* longest ERROR message, bytes */
#define BRIDGE_LAYOUT_MAX 65535   /* u16 layout_len */

/* HELLO flags: the receiver has no local copy yet. */
#define BRIDGE_HELLO_ANY 0x1u
/* A plain client's 16-byte HELLO gets this window. */
#define BRIDGE_DEFAULT_WINDOW 1024u
#define BRIDGE_DEFAULT_WINDOW_KIB 8192u

/* The largest ring the library makes (1 GiB) bounds the numbers of a
 * WELCOME: capacity, max_message. */
#define BRIDGE_RING_CAPACITY_MIN 256u
#define BRIDGE_RING_CAPACITY_MAX (1u << 30)

struct bridge_hello {
    uint32_t window;      /* messages in flight, >= 1 */
    uint32_t window_kib;  /* KiB in flight, >= 1 */
    uint32_t flags;       /* BRIDGE_HELLO_ANY */
};

struct bridge_credit {    /* ACK's payload */
    uint32_t window;
    uint32_t window_kib;
};

struct bridge_welcome {
    unsigned kind;        /* SHMKIT_KIND_SLOT or SHMKIT_KIND_RING */
    unsigned policy;      /* ring: SHMKIT_RING_BLOCK or _OVERWRITE; slot 0 */
    uint32_t capacity;    /* ring */
    uint32_t max_message; /* ring */
    uint32_t record_size; /* slot */
    uint64_t stream;      /* the sending segment's identity (informative) */
    const char *layout;   /* slot: canonical layout text, not NUL-ended */
    size_t layout_len;    /* 0: a raw slot, or a ring */
};

/* A frame as bridge_decode found it: pointers into the frame's bytes. */
struct bridge_frame {
    int type;             /* enum bridge_type */
    unsigned flags;       /* BRIDGE_FLAG_* */
    uint64_t number;
    const unsigned char *payload;
    size_t payload_len;
    union {
        struct bridge_hello hello;
        struct bridge_welcome welcome;
        struct bridge_credit ack;
        struct {
            const char *text; /* not NUL-ended */
            size_t len;
        } error;
        struct {
            uint64_t count;   /* messages, >= 1 */
            size_t largest;   /* the longest message's length */
        } batch;
    } u;
};

/* A walk over the messages of a DATA_BATCH that bridge_decode accepted. */
struct bridge_batch_walk {
    const unsigned char *next, *end;
};

/* Check the LEN bytes of FRAME and fill *OUT.  0 if the frame is
 * well-formed: at least a header, the magic, version 1, a known type, and
 * a payload of the type's size and format (a plain client's HELLO without
 * payload gets BRIDGE_HELLO_ANY and the default window).  A WELCOME's
 * numbers must describe a segment this library can make and its layout
 * text parse to RECORD_SIZE bytes.  -1 otherwise, with the reason in
 * WHY (WHY_SIZE bytes, NUL-ended). */
int bridge_decode(const void *frame, size_t len, struct bridge_frame *out, char *why,
                  size_t why_size);

/* Start walking the DATA_BATCH F; each bridge_batch_next gives the next
 * message (1), or 0 after the last. */
void bridge_batch_start(struct bridge_batch_walk *walk, const struct bridge_frame *f);
int bridge_batch_next(struct bridge_batch_walk *walk, const void **msg, size_t *len);

/* Whether TYPE is a frame that a sender sends (WELCOME, DATA, DATA_BATCH)
 * or only a receiver (HELLO, ACK); the rest go both ways. */
int bridge_type_from_sender(int type);
int bridge_type_from_receiver(int type);
/* "HELLO", ..., "?" */
const char *bridge_type_name(int type);

/* Each encoder writes a whole frame into BUF (SIZE bytes) and returns its
 * length, or 0 if it does not fit. */
size_t bridge_encode_header(void *buf, size_t size, int type, uint64_t number);
/* The same with header flags FLAGS. */
size_t bridge_encode_header_flags(void *buf, size_t size, int type, unsigned flags,
                                  uint64_t number);
size_t bridge_encode_hello(void *buf, size_t size, uint64_t number,
                           const struct bridge_hello *hello);
size_t bridge_encode_ack(void *buf, size_t size, uint64_t number,
                         const struct bridge_credit *credit);
size_t bridge_encode_welcome(void *buf, size_t size, uint64_t number,
                             const struct bridge_welcome *welcome);
/* DATA: the header only; the message goes right after it in BUF. */
#define bridge_encode_data_header(buf, number) \
    bridge_encode_header((buf), BRIDGE_HEADER_SIZE, BRIDGE_DATA, (number))
/* DATA_BATCH: the header, and each record's length before its bytes. */
#define bridge_encode_batch_header(buf, number) \
    bridge_encode_header((buf), BRIDGE_HEADER_SIZE, BRIDGE_DATA_BATCH, (number))
void bridge_encode_batch_length(void *record, uint32_t len);
/* ERROR with exit code CODE and TEXT, cut to BRIDGE_ERROR_MAX bytes at a
 * UTF-8 character boundary. */
size_t bridge_encode_error(void *buf, size_t size, int code, const char *text);

/* The size of a WELCOME frame for WELCOME. */
size_t bridge_welcome_size(const struct bridge_welcome *welcome);

/* The exit code an ERROR frame's NUMBER asks for: 2, 5 or 6; anything
 * else counts as 6 (the network). */
int bridge_error_exit_code(uint64_t number);

/* Copy the error text of FRAME into OUT (SIZE bytes, NUL-ended) with every
 * control byte shown as '?', so that a peer cannot drive the terminal. */
void bridge_error_text(const struct bridge_frame *frame, char *out, size_t size);

#endif /* SHMKIT_BRIDGE_PROTO_H */
