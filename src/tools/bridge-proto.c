/*
 * bridge-proto.c - shmkit-bridge's frames: encoding, and the validation of
 * everything a peer sends before any of it is used (bridge-proto.h).
 *
 * The peer is untrusted: a decoder that accepted a frame promises the
 * loops that every length matches the bytes there are and every number is
 * one the library takes, so that nothing malformed reaches a segment.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge-proto.h"
#include "shmkit.h"
#include "tool.h"

static const unsigned char magic[4] = { 'S', 'K', 'B', '1' };

/* ---- little-endian integers ---------------------------------------------- */

static void put16(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put32(unsigned char *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get16(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t get32(const unsigned char *p)
{
    return get16(p) | get16(p + 2) << 16;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

/* ---- names and directions ------------------------------------------------ */

const char *bridge_type_name(int type)
{
    static const char *const names[] = { "?", "HELLO", "WELCOME", "DATA", "ACK",
                                         "HEARTBEAT", "ERROR", "BYE", "DATA_BATCH" };

    return type >= BRIDGE_HELLO && type <= BRIDGE_DATA_BATCH ? names[type] : names[0];
}

int bridge_type_from_sender(int type)
{
    return type != BRIDGE_HELLO && type != BRIDGE_ACK;
}

int bridge_type_from_receiver(int type)
{
    return type != BRIDGE_WELCOME && type != BRIDGE_DATA && type != BRIDGE_DATA_BATCH;
}

int bridge_error_exit_code(uint64_t number)
{
    return number == 2 || number == 5 || number == 6 ? (int)number : 6;
}

/* ---- encoding ------------------------------------------------------------ */

size_t bridge_encode_header(void *buf, size_t size, int type, uint64_t number)
{
    return bridge_encode_header_flags(buf, size, type, 0, number);
}

size_t bridge_encode_header_flags(void *buf, size_t size, int type, unsigned flags,
                                  uint64_t number)
{
    unsigned char *p = buf;

    if (size < BRIDGE_HEADER_SIZE)
        return 0;
    memcpy(p, magic, sizeof magic);
    p[4] = (unsigned char)type;
    p[5] = (unsigned char)flags;
    put16(p + 6, BRIDGE_PROTOCOL_VERSION);
    put64(p + 8, number);
    return BRIDGE_HEADER_SIZE;
}

void bridge_encode_batch_length(void *record, uint32_t len)
{
    put32(record, len);
}

size_t bridge_encode_hello(void *buf, size_t size, uint64_t number,
                           const struct bridge_hello *hello)
{
    unsigned char *p = buf;

    if (size < BRIDGE_HEADER_SIZE + BRIDGE_HELLO_PAYLOAD)
        return 0;
    bridge_encode_header(p, size, BRIDGE_HELLO, number);
    put32(p + 16, hello->window);
    put32(p + 20, hello->window_kib);
    put32(p + 24, hello->flags);
    return BRIDGE_HEADER_SIZE + BRIDGE_HELLO_PAYLOAD;
}

size_t bridge_encode_ack(void *buf, size_t size, uint64_t number,
                         const struct bridge_credit *credit)
{
    unsigned char *p = buf;

    if (size < BRIDGE_HEADER_SIZE + BRIDGE_ACK_PAYLOAD)
        return 0;
    bridge_encode_header(p, size, BRIDGE_ACK, number);
    put32(p + 16, credit->window);
    put32(p + 20, credit->window_kib);
    return BRIDGE_HEADER_SIZE + BRIDGE_ACK_PAYLOAD;
}

size_t bridge_welcome_size(const struct bridge_welcome *welcome)
{
    return BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED + welcome->layout_len;
}

size_t bridge_encode_welcome(void *buf, size_t size, uint64_t number,
                             const struct bridge_welcome *w)
{
    unsigned char *p = buf;
    size_t total = bridge_welcome_size(w);

    if (w->layout_len > BRIDGE_LAYOUT_MAX || size < total)
        return 0;
    bridge_encode_header(p, size, BRIDGE_WELCOME, number);
    p += BRIDGE_HEADER_SIZE;
    p[0] = (unsigned char)w->kind;
    p[1] = (unsigned char)w->policy;
    put16(p + 2, 0);
    put32(p + 4, w->capacity);
    put32(p + 8, w->max_message);
    put32(p + 12, w->record_size);
    put64(p + 16, w->stream);
    put16(p + 24, (uint32_t)w->layout_len);
    if (w->layout_len > 0)
        memcpy(p + BRIDGE_WELCOME_FIXED, w->layout, w->layout_len);
    return total;
}

/* The length of TEXT's first LEN bytes or less, cut so that no UTF-8
 * sequence is split: back over continuation bytes (10xxxxxx) to the
 * start of the character that straddles the cut. */
static size_t utf8_cut(const char *text, size_t len, size_t max)
{
    if (len <= max)
        return len;
    while (max > 0 && ((unsigned char)text[max] & 0xc0) == 0x80)
        max--;
    return max;
}

size_t bridge_encode_error(void *buf, size_t size, int code, const char *text)
{
    size_t len = utf8_cut(text, strlen(text), BRIDGE_ERROR_MAX);

    if (size < BRIDGE_HEADER_SIZE + len)
        return 0;
    bridge_encode_header(buf, size, BRIDGE_ERROR, (uint64_t)code);
    memcpy((unsigned char *)buf + BRIDGE_HEADER_SIZE, text, len);
    return BRIDGE_HEADER_SIZE + len;
}

/* ---- decoding ------------------------------------------------------------ */

/* Store the reason of a rejection in WHY; returns -1. */
static int reject(char *why, size_t why_size, const char *fmt, ...) TOOL_PRINTF(3, 4);
static int reject(char *why, size_t why_size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (why_size > 0)
        vsnprintf(why, why_size, fmt, ap);
    va_end(ap);
    return -1;
}

static int decode_hello(struct bridge_frame *f, char *why, size_t why_size)
{
    struct bridge_hello *h = &f->u.hello;

    if (f->payload_len == 0) {
        /* A plain client: start wherever the sender is. */
        h->window = BRIDGE_DEFAULT_WINDOW;
        h->window_kib = BRIDGE_DEFAULT_WINDOW_KIB;
        h->flags = BRIDGE_HELLO_ANY;
        return 0;
    }
    if (f->payload_len != BRIDGE_HELLO_PAYLOAD)
        return reject(why, why_size, "HELLO payload of %zu bytes (expected 0 or %d)",
                      f->payload_len, BRIDGE_HELLO_PAYLOAD);
    h->window = get32(f->payload);
    h->window_kib = get32(f->payload + 4);
    h->flags = get32(f->payload + 8);
    if (h->window == 0 || h->window_kib == 0)
        return reject(why, why_size, "HELLO with an empty window (%u messages, %u KiB)",
                      (unsigned)h->window, (unsigned)h->window_kib);
    return 0;
}

static int decode_ack(struct bridge_frame *f, char *why, size_t why_size)
{
    if (f->payload_len != BRIDGE_ACK_PAYLOAD)
        return reject(why, why_size, "ACK payload of %zu bytes (expected %d)", f->payload_len,
                      BRIDGE_ACK_PAYLOAD);
    f->u.ack.window = get32(f->payload);
    f->u.ack.window_kib = get32(f->payload + 4);
    if (f->u.ack.window == 0 || f->u.ack.window_kib == 0)
        return reject(why, why_size, "ACK with an empty window (%u messages, %u KiB)",
                      (unsigned)f->u.ack.window, (unsigned)f->u.ack.window_kib);
    return 0;
}

/* A ring WELCOME: the geometry of a ring the library can make. */
static int check_ring_welcome(const struct bridge_welcome *w, char *why, size_t why_size)
{
    uint32_t c = w->capacity;

    if (w->policy != SHMKIT_RING_BLOCK && w->policy != SHMKIT_RING_OVERWRITE)
        return reject(why, why_size, "WELCOME with ring policy %u", w->policy);
    if (c < BRIDGE_RING_CAPACITY_MIN || c > BRIDGE_RING_CAPACITY_MAX || (c & (c - 1)) != 0)
        return reject(why, why_size, "WELCOME with ring capacity %lu (expected a power of "
                      "two, 256 .. 1 GiB)", (unsigned long)c);
    if (w->max_message == 0 || w->max_message > c / 2 - 16)
        return reject(why, why_size, "WELCOME with largest message %lu for capacity %lu",
                      (unsigned long)w->max_message, (unsigned long)c);
    if (w->record_size != 0 || w->layout_len != 0)
        return reject(why, why_size, "WELCOME of a ring with a record size or layout");
    return 0;
}

/* The layout text of a slot WELCOME must parse and give RECORD_SIZE. */
static int check_layout(const struct bridge_welcome *w, char *why, size_t why_size)
{
    shmkit_layout *layout = NULL;
    char *text = malloc(w->layout_len + 1);
    int rc;

    if (text == NULL)
        return reject(why, why_size, "out of memory");
    memcpy(text, w->layout, w->layout_len);
    text[w->layout_len] = '\0';
    if (strlen(text) != w->layout_len)
        rc = reject(why, why_size, "WELCOME layout contains a NUL byte");
    else if ((rc = shmkit_layout_parse(&layout, text)) < 0)
        rc = reject(why, why_size, "WELCOME layout does not parse: %s (%s)",
                    shmkit_strerror(rc), shmkit_error_detail());
    else if (shmkit_layout_size(layout) != w->record_size)
        rc = reject(why, why_size, "WELCOME layout of %zu bytes for records of %lu",
                    shmkit_layout_size(layout), (unsigned long)w->record_size);
    shmkit_layout_free(layout);
    free(text);
    return rc < 0 ? -1 : 0;
}

static int check_slot_welcome(const struct bridge_welcome *w, char *why, size_t why_size)
{
    if (w->policy != 0 || w->capacity != 0 || w->max_message != 0)
        return reject(why, why_size, "WELCOME of a slot with a ring policy or geometry");
    if (w->record_size == 0 || w->record_size > SHMKIT_RECORD_MAX)
        return reject(why, why_size, "WELCOME with record size %lu (expected 1 .. %lu)",
                      (unsigned long)w->record_size, (unsigned long)SHMKIT_RECORD_MAX);
    return w->layout_len > 0 ? check_layout(w, why, why_size) : 0;
}

static int decode_welcome(struct bridge_frame *f, char *why, size_t why_size)
{
    struct bridge_welcome *w = &f->u.welcome;
    const unsigned char *p = f->payload;

    if (f->payload_len < BRIDGE_WELCOME_FIXED)
        return reject(why, why_size, "WELCOME payload of %zu bytes (expected at least %d)",
                      f->payload_len, BRIDGE_WELCOME_FIXED);
    w->kind = p[0];
    w->policy = p[1];
    w->capacity = get32(p + 4);
    w->max_message = get32(p + 8);
    w->record_size = get32(p + 12);
    w->stream = get64(p + 16);
    w->layout_len = get16(p + 24);
    w->layout = (const char *)p + BRIDGE_WELCOME_FIXED;
    if (w->layout_len != f->payload_len - BRIDGE_WELCOME_FIXED)
        return reject(why, why_size, "WELCOME layout of %zu bytes in %zu bytes of payload",
                      w->layout_len, f->payload_len);
    if (w->kind == SHMKIT_KIND_RING)
        return check_ring_welcome(w, why, why_size);
    if (w->kind == SHMKIT_KIND_SLOT)
        return check_slot_welcome(w, why, why_size);
    return reject(why, why_size, "WELCOME of segment kind %u", w->kind);
}

static int decode_error(struct bridge_frame *f, char *why, size_t why_size)
{
    if (f->payload_len > BRIDGE_ERROR_MAX)
        return reject(why, why_size, "ERROR message of %zu bytes (at most %d)",
                      f->payload_len, BRIDGE_ERROR_MAX);
    if (memchr(f->payload, '\0', f->payload_len) != NULL)
        return reject(why, why_size, "ERROR message contains a NUL byte");
    f->u.error.text = (const char *)f->payload;
    f->u.error.len = f->payload_len;
    return 0;
}

/* Every record lies within the payload, and there is at least one.  The
 * lengths are checked against the ring by the receiver (the WELCOME). */
static int decode_batch(struct bridge_frame *f, char *why, size_t why_size)
{
    const unsigned char *p = f->payload, *end = f->payload + f->payload_len;

    if (f->payload_len == 0)
        return reject(why, why_size, "DATA_BATCH without a message");
    while (p < end) {
        uint32_t len;

        if ((size_t)(end - p) < BRIDGE_BATCH_RECORD)
            return reject(why, why_size, "DATA_BATCH with %zu stray bytes after %llu messages",
                          (size_t)(end - p), (unsigned long long)f->u.batch.count);
        len = get32(p);
        p += BRIDGE_BATCH_RECORD;
        if (len > (size_t)(end - p))
            return reject(why, why_size, "DATA_BATCH message %llu of %lu bytes where %zu are left",
                          (unsigned long long)f->u.batch.count, (unsigned long)len,
                          (size_t)(end - p));
        p += len;
        f->u.batch.count++;
        if (len > f->u.batch.largest)
            f->u.batch.largest = len;
    }
    if (f->number + (f->u.batch.count - 1) < f->number)
        return reject(why, why_size, "DATA_BATCH numbers past 2^64");
    return 0;
}

void bridge_batch_start(struct bridge_batch_walk *walk, const struct bridge_frame *f)
{
    walk->next = f->payload;
    walk->end = f->payload + f->payload_len;
}

int bridge_batch_next(struct bridge_batch_walk *walk, const void **msg, size_t *len)
{
    if ((size_t)(walk->end - walk->next) < BRIDGE_BATCH_RECORD)
        return 0;
    *len = get32(walk->next);
    *msg = walk->next + BRIDGE_BATCH_RECORD;
    walk->next += BRIDGE_BATCH_RECORD + *len;
    return 1;
}

static int decode_payload(struct bridge_frame *f, char *why, size_t why_size)
{
    switch (f->type) {
    case BRIDGE_HELLO:
        return decode_hello(f, why, why_size);
    case BRIDGE_WELCOME:
        return decode_welcome(f, why, why_size);
    case BRIDGE_DATA:
        return 0; /* its length is checked against the WELCOME */
    case BRIDGE_DATA_BATCH:
        return decode_batch(f, why, why_size);
    case BRIDGE_ACK:
        return decode_ack(f, why, why_size);
    case BRIDGE_ERROR:
        return decode_error(f, why, why_size);
    default: /* HEARTBEAT, BYE */
        if (f->payload_len != 0)
            return reject(why, why_size, "%s with %zu bytes of payload (expected none)",
                          bridge_type_name(f->type), f->payload_len);
        return 0;
    }
}

int bridge_decode(const void *frame, size_t len, struct bridge_frame *out, char *why,
                  size_t why_size)
{
    const unsigned char *p = frame;
    uint32_t version;

    memset(out, 0, sizeof *out);
    if (len < BRIDGE_HEADER_SIZE)
        return reject(why, why_size, "frame of %zu bytes (a header has %d)", len,
                      BRIDGE_HEADER_SIZE);
    if (memcmp(p, magic, sizeof magic) != 0)
        return reject(why, why_size, "bad magic (not a shmkit-bridge peer)");
    if ((version = get16(p + 6)) != BRIDGE_PROTOCOL_VERSION)
        return reject(why, why_size, "protocol version %u (this bridge speaks %d)",
                      (unsigned)version, BRIDGE_PROTOCOL_VERSION);
    out->type = p[4];
    if (out->type < BRIDGE_HELLO || out->type > BRIDGE_DATA_BATCH)
        return reject(why, why_size, "unknown frame type %d", out->type);
    out->flags = p[5];
    out->number = get64(p + 8);
    out->payload = p + BRIDGE_HEADER_SIZE;
    out->payload_len = len - BRIDGE_HEADER_SIZE;
    return decode_payload(out, why, why_size);
}

void bridge_error_text(const struct bridge_frame *frame, char *out, size_t size)
{
    size_t i, n = frame->u.error.len;

    if (size == 0)
        return;
    if (n > size - 1)
        n = size - 1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)frame->u.error.text[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[n] = '\0';
}
