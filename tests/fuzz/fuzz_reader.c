/*
 * fuzz_reader.c - slot and ring readers against a hostile segment.
 *
 * The library creates a valid segment (first input byte: kind, backend and
 * geometry) and keeps its writer handle.  The rest of the input is a
 * little program, run against that segment by a reader handle and by a
 * second, private read-write mapping that plays a hostile process:
 *
 *   0 POKE   off:u16 n:u8 bytes   overwrite n (1..16) bytes anywhere
 *   1 WORD   idx:u8 value:u32     store a 32-bit word of the writer and
 *                                 reader lines (384..639) or of the
 *                                 payload's first frames/buffers
 *   2 SEND   len:u8               the legitimate writer publishes
 *   3 READ   how:u8               one reader call (recv/peek/release/...)
 *   4 FLIP   off:u16 value:u8     schedule a byte for the mutator thread
 *   5 RACE   how:u8               READ while the mutator thread flips the
 *                                 scheduled bytes between value and their
 *                                 old value as fast as it can
 *   6 REOPEN flags:u8             close the reader and open it again
 *                                 (optionally while the mutator runs)
 *   7 FIXHDR                      recompute the header checksum, so that
 *                                 POKEs into bytes 0..383 reach the
 *                                 checks behind it at the next open
 *
 * Readers must return a message/record or a clean error, never crash,
 * hang (every timeout is 0), leak, or read outside what they return.
 * The header's wait fields are never pointed at a foreign semaphore set,
 * and the original header is restored before the segment is removed so
 * that its wait resources are freed.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"
#include "fuzz.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPS 64
#define MAX_FLIPS 16

enum { K_RAW_SLOT, K_LAYOUT_SLOT, K_BLOCK_RING, K_OVERWRITE_RING };

static const char *const layouts[8] = {
    "a:u8",
    "id:u32 temp:f64 pos:i16[3] label:char[16]",
    "x:f32[4]",
    "t:char[1]",
    "n:i64 m:u64 f:f64[2]",
    "s:char[40] c:u16",
    "b:i8[7] w:u32",
    "d:f64",
};
static const size_t raw_sizes[8] = { 1, 3, 8, 16, 24, 100, 512, 4000 };
static const size_t capacities[4] = { 256, 512, 1024, 4096 };
static const size_t max_messages[4] = { 0, 1, 17, 100 };

struct flip {
    size_t off;
    uint8_t value, old;
};

struct state {
    const char *spec;
    int kind;
    unsigned open_flags;
    shmkit_slot *writer_slot;
    shmkit_ring *writer_ring;
    shmkit_slot *slot;
    shmkit_ring *ring;
    int peeked;
    size_t peek_len;
    const unsigned char *peek_ptr;
    unsigned char *seg;          /* the hostile read-write mapping */
    size_t size;
    unsigned char header[384];   /* as created, restored at the end */
    struct flip flips[MAX_FLIPS];
    int nflips;
    volatile int stop;           /* mutator: stop flipping */
    volatile int rounds;         /* mutator: completed rounds */
};

static void store_byte(unsigned char *p, uint8_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELAXED);
}

/* The state word stays READY outside races: a header left INIT is a
 * creator still at work, for which every open waits 500 ms (by design,
 * and tested by tests/check_header), which would only slow fuzzing. */
static int is_state_byte(size_t off)
{
    return off >= SK_STATE_OFFSET && off < SK_STATE_OFFSET + 4;
}

static void restore_state(struct state *st)
{
    sk_store(&((struct sk_header *)st->seg)->state, SK_STATE_READY, SK_RELEASE);
}

static void *mutator(void *arg)
{
    struct state *st = arg;
    int round = 0, i;

    while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
        for (i = 0; i < st->nflips; i++)
            store_byte(st->seg + st->flips[i].off,
                       (round & 1) ? st->flips[i].old : st->flips[i].value);
        round++;
        __atomic_store_n(&st->rounds, round, __ATOMIC_RELEASE);
    }
    return NULL;
}

/* Run READER with the mutator flipping; it has done a round before the
 * reader starts, so the reader meets changing bytes from the first load. */
static void race(struct state *st, void (*reader)(struct state *, uint8_t), uint8_t how)
{
    pthread_t t;

    st->stop = 0;
    st->rounds = 0;
    if (st->nflips == 0 || pthread_create(&t, NULL, mutator, st) != 0) {
        reader(st, how);
        return;
    }
    while (__atomic_load_n(&st->rounds, __ATOMIC_ACQUIRE) < 1)
        sched_yield(); /* one core: let the mutator run */
    reader(st, how);
    __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
    pthread_join(t, NULL);
    restore_state(st);
}

static int is_ring(const struct state *st)
{
    return st->kind == K_BLOCK_RING || st->kind == K_OVERWRITE_RING;
}

static void close_reader(struct state *st)
{
    shmkit_slot_close(st->slot);
    shmkit_ring_close(st->ring);
    st->slot = NULL;
    st->ring = NULL;
    st->peeked = 0;
}

static void open_reader(struct state *st, uint8_t how)
{
    (void)how;
    if (st->slot != NULL || st->ring != NULL)
        return;
    if (is_ring(st))
        shmkit_ring_open(&st->ring, st->spec, st->open_flags);
    else
        shmkit_slot_open(&st->slot, st->spec, 0);
}

static void read_slot(struct state *st, uint8_t how)
{
    size_t size = shmkit_slot_record_size(st->slot);
    const shmkit_layout *layout = shmkit_slot_layout(st->slot);
    /* Sometimes a buffer one byte short, which must be refused. */
    size_t len = (how & 0x10) && size > 0 ? size - 1 : size;
    unsigned char *rec = malloc(len > 0 ? len : 1);
    uint64_t version = 0;
    int n;

    if (rec == NULL)
        return;
    switch (how % 3) {
    case 0:
        n = shmkit_slot_read(st->slot, rec, len, &version);
        FZ_CHECK(n < 0 || (len == size && (size_t)n == size));
        if (n > 0 && layout != NULL) {
            char text[256];
            FZ_CHECK(shmkit_layout_to_text(layout, rec, text, sizeof text) >= 0);
        }
        break;
    case 1:
        n = shmkit_slot_version(st->slot, &version);
        FZ_CHECK(n == 0 || n <= -1000);
        break;
    default:
        n = shmkit_slot_wait(st->slot, (how & 0x20) ? 0 : UINT64_MAX - 1, 0);
        FZ_CHECK(n == 0 || n == -EAGAIN || n <= -1000);
        break;
    }
    free(rec);
}

static void read_ring(struct state *st, uint8_t how)
{
    size_t max = shmkit_ring_max_message(st->ring);
    size_t len = (how & 0x10) ? how >> 5 : max;
    unsigned char *buf;
    const void *p;
    int n;

    switch (how % 4) {
    case 0:
        buf = malloc(len > 0 ? len : 1);
        if (buf == NULL)
            return;
        n = shmkit_ring_recv(st->ring, buf, len, 0);
        FZ_CHECK(n < 0 || ((size_t)n <= len && (size_t)n <= max));
        free(buf);
        break;
    case 1:
        n = shmkit_ring_peek(st->ring, &p, 0);
        FZ_CHECK(n < 0 || (size_t)n <= max);
        if (n >= 0) {
            st->peeked = 1;
            st->peek_ptr = p;
            st->peek_len = (size_t)n;
        }
        break;
    case 2:
        if (st->peeked) {
            /* Touch every byte that peek handed out: it must be mapped. */
            volatile unsigned sum = 0;
            size_t i;

            for (i = 0; i < st->peek_len; i++)
                sum += st->peek_ptr[i];
            (void)sum;
            st->peeked = 0;
        }
        shmkit_ring_release(st->ring);
        break;
    default:
        shmkit_ring_lost(st->ring);
        shmkit_ring_position(st->ring);
        break;
    }
}

static void reader_call(struct state *st, uint8_t how)
{
    open_reader(st, how);
    if (st->slot != NULL)
        read_slot(st, how);
    else if (st->ring != NULL)
        read_ring(st, how);
}

static void reopen(struct state *st, uint8_t how)
{
    close_reader(st);
    open_reader(st, how);
}

static void send(struct state *st, uint8_t len)
{
    unsigned char msg[256];

    memset(msg, len, sizeof msg);
    if (st->writer_ring != NULL) {
        shmkit_ring_send(st->writer_ring, msg, len % (shmkit_ring_max_message(st->writer_ring) + 1),
                         0);
    } else if (st->writer_slot != NULL) {
        size_t size = shmkit_slot_record_size(st->writer_slot);
        unsigned char *rec = malloc(size);

        if (rec != NULL) {
            memset(rec, len, size);
            shmkit_slot_write(st->writer_slot, rec, size);
            free(rec);
        }
    }
}

/* Recompute the checksum over whatever the POKEs left, with the wait
 * fields of the original header (see the top of the file). */
static void fix_header(struct state *st)
{
    struct sk_header *h = (struct sk_header *)st->seg;

    memcpy(&h->wait_mech, st->header + offsetof(struct sk_header, wait_mech),
           sizeof h->wait_mech + sizeof h->wait_semid);
    h->checksum = shmkit__header_checksum(h);
    restore_state(st);
}

static void poke(struct state *st, size_t off, const unsigned char *bytes, size_t n)
{
    size_t i;

    for (i = 0; i < n && off + i < st->size; i++)
        if (!is_state_byte(off + i))
            store_byte(st->seg + off + i, bytes[i]);
}

/* The words that move: the writer and reader lines, and the first 64
 * words of the payload (frame headers, slot buffer headers). */
static void poke_word(struct state *st, uint8_t idx, uint32_t value)
{
    size_t off = idx < 64 ? 384 + (size_t)idx * 4 : SK_HEADER_SIZE + (size_t)(idx - 64) * 4;

    if (off + 4 <= st->size)
        __atomic_store_n((uint32_t *)(void *)(st->seg + off), value, __ATOMIC_RELAXED);
}

static void run_op(struct state *st, struct fz_input *in)
{
    unsigned char bytes[16];
    uint8_t op = fz_u8(in), n, how;
    size_t off, i;

    switch (op % 8) {
    case 0:
        off = fz_u16(in) % st->size;
        n = (uint8_t)(fz_u8(in) % 16 + 1);
        for (i = 0; i < n; i++)
            bytes[i] = fz_u8(in);
        poke(st, off, bytes, n);
        break;
    case 1:
        n = fz_u8(in);
        poke_word(st, n, fz_u32(in));
        break;
    case 2:
        send(st, fz_u8(in));
        break;
    case 3:
        reader_call(st, fz_u8(in));
        break;
    case 4:
        off = fz_u16(in) % st->size;
        n = fz_u8(in);
        if (st->nflips < MAX_FLIPS) {
            st->flips[st->nflips].off = off;
            st->flips[st->nflips].value = n;
            st->flips[st->nflips].old = st->seg[off];
            st->nflips++;
        }
        break;
    case 5:
        how = fz_u8(in);
        open_reader(st, how); /* opening is REOPEN's business */
        race(st, reader_call, how);
        break;
    case 6:
        how = fz_u8(in);
        if (how & 1)
            race(st, reopen, how);
        else
            reopen(st, how);
        break;
    default:
        fix_header(st);
        break;
    }
}

static int create(struct state *st, uint8_t config)
{
    size_t g = config >> 4;
    int rc;

    st->kind = config & 3;
    st->open_flags = (config & 8) ? SHMKIT_FROM_OLDEST : 0;
    switch (st->kind) {
    case K_RAW_SLOT:
        rc = shmkit_slot_create(&st->writer_slot, st->spec, NULL, raw_sizes[g % 8], 0,
                                SHMKIT_EXCL);
        break;
    case K_LAYOUT_SLOT:
        rc = shmkit_slot_create(&st->writer_slot, st->spec, layouts[g % 8], 0, 0, SHMKIT_EXCL);
        break;
    default: {
        struct shmkit_ring_options options = SHMKIT_RING_OPTIONS_INIT;

        options.capacity = capacities[g % 4];
        options.max_message = max_messages[g / 4 % 4];
        options.policy = st->kind == K_BLOCK_RING ? SHMKIT_RING_BLOCK : SHMKIT_RING_OVERWRITE;
        options.flags = SHMKIT_EXCL;
        rc = shmkit_ring_create(&st->writer_ring, st->spec, &options);
        break;
    }
    }
    if (rc < 0)
        return rc;
    st->seg = fz_map(st->spec, &st->size);
    if (st->seg == NULL || st->size < SK_HEADER_SIZE)
        return -EIO;
    memcpy(st->header, st->seg, sizeof st->header);
    return 0;
}

static void destroy(struct state *st)
{
    close_reader(st);
    shmkit_slot_close(st->writer_slot);
    shmkit_ring_close(st->writer_ring);
    if (st->seg != NULL) {
        memcpy(st->seg, st->header, sizeof st->header);
        fz_unmap(st->spec, st->seg, st->size);
    }
    fz_remove(st->spec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_input in = { data, size };
    struct state *st = calloc(1, sizeof *st);
    uint8_t config = fz_u8(&in);
    int ops;

    if (st == NULL)
        return 0;
    st->spec = fz_spec(config & 4);
    fz_remove(st->spec); /* a leftover of an input that crashed */
    if (create(st, config) == 0)
        for (ops = 0; ops < MAX_OPS && in.left > 0; ops++)
            run_op(st, &in);
    destroy(st);
    free(st);
    return 0;
}
