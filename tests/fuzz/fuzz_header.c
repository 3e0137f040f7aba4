/*
 * fuzz_header.c - header validation and the real open paths.
 *
 * Input: one flag byte, then the bytes of a segment.  They are validated
 * in a private buffer of exactly their size (so AddressSanitizer sees any
 * read past the "mapping"), then written into a real POSIX or System V
 * segment and opened with shmkit_info, shmkit_slot_open and
 * shmkit_ring_open; whatever opens is read once.
 *
 * Flags: 0x01 fix the checksum and mark the header READY, so that
 * mutations reach the checks behind the checksum; 0x02 System V instead
 * of POSIX; 0x04 open as the writer; 0x08 SHMKIT_FROM_OLDEST; 0x10 stop
 * after the in-memory validation.
 *
 * Two things the input cannot do, because they would reach outside the
 * segment: name a System V semaphore set (another program's) as the wait
 * set, and leave the state INIT with a valid magic, which only makes the
 * opener wait its 500 ms for a creator (tests/check_header covers that).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"
#include "fuzz.h"
#include "wait.h"

#include <stdlib.h>
#include <string.h>

#define F_FIX_CHECKSUM 0x01
#define F_SYSV 0x02
#define F_WRITER 0x04
#define F_FROM_OLDEST 0x08
#define F_MEMORY_ONLY 0x10

static void defuse(unsigned char *seg, size_t size, int fix)
{
    struct sk_header *h = (struct sk_header *)seg;
    int intact;

    if (size < SK_HEADER_SIZE)
        return;
    intact = shmkit__header_checksum(h) == h->checksum;
    if (h->wait_mech == SK_MECH_SYSV_SEM)
        h->wait_semid = -1;
    if (fix || intact)
        h->checksum = shmkit__header_checksum(h);
    if (fix || memcmp(h->magic, SK_MAGIC, SK_MAGIC_LEN) == 0 ||
        memcmp(h->magic, "\0\0\0\0\0\0\0\0", SK_MAGIC_LEN) == 0)
        sk_store(&h->state, SK_STATE_READY, SK_RELAXED);
}

static void check_view(const struct sk_header_view *v, size_t mapped)
{
    FZ_CHECK(v->total_size >= SK_HEADER_SIZE && v->total_size <= mapped);
    FZ_CHECK(v->payload_offset >= SK_HEADER_SIZE && v->payload_offset <= v->total_size);
    FZ_CHECK(v->payload_size <= v->total_size - v->payload_offset);
    FZ_CHECK(v->kind == SHMKIT_KIND_SLOT || v->kind == SHMKIT_KIND_RING);
    FZ_CHECK(strlen(v->layout) < SK_LAYOUT_AREA);
    /* The consumer table lies between the header and the payload. */
    FZ_CHECK(v->consumers <= SK_RING_MAX_CONSUMERS &&
             v->payload_offset == SK_HEADER_SIZE + (uint64_t)v->consumers * SK_CONSUMER_SIZE);
    FZ_CHECK((v->consumers > 0) ==
             (v->kind == SHMKIT_KIND_RING && !(v->header_flags & SK_HFLAG_OVERWRITE)));
    if (v->kind == SHMKIT_KIND_RING) {
        FZ_CHECK(v->capacity >= SK_RING_MIN_CAPACITY && (v->capacity & (v->capacity - 1)) == 0);
        FZ_CHECK(v->capacity == v->payload_size && v->record_size <= v->capacity / 2 - 16);
    } else {
        FZ_CHECK(v->record_size >= 1 && v->record_size <= SHMKIT_RECORD_MAX);
        FZ_CHECK(v->payload_size == sk_slot_payload_size(v->record_size));
    }
}

static void validate_in_memory(const unsigned char *seg, size_t size)
{
    unsigned char *copy = malloc(size > 0 ? size : 1);
    struct sk_header_view view;
    int mech, semid;

    if (copy == NULL)
        return;
    memcpy(copy, seg, size);
    if (shmkit__header_validate(copy, size, &view) == 0)
        check_view(&view, size);
    else
        FZ_CHECK(shmkit_error_detail()[0] != '\0');
    if (shmkit__header_wait_fields(copy, size, &mech, &semid) == 0)
        FZ_CHECK(mech != SK_MECH_SYSV_SEM || semid == -1);
    free(copy);
}

static void use_slot(shmkit_slot *slot, int writer)
{
    size_t size = shmkit_slot_record_size(slot);
    unsigned char *rec = malloc(size), *back = malloc(size);
    const shmkit_layout *layout = shmkit_slot_layout(slot);
    uint64_t version = 0, again = 0;

    if (rec != NULL && back != NULL) {
        if (shmkit_slot_read(slot, rec, size, &version) == (int)size && layout != NULL) {
            char json[512];

            FZ_CHECK(shmkit_layout_size(layout) == size);
            FZ_CHECK(shmkit_layout_to_json(layout, rec, json, sizeof json) >= 0);
        }
        shmkit_slot_version(slot, &again);
        shmkit_slot_wait(slot, version, 0);
        if (writer) {
            /* Alone with the segment, the writer reads back what it wrote. */
            memset(rec, 0x5a, size);
            FZ_CHECK(shmkit_slot_write(slot, rec, size) == 0);
            FZ_CHECK(shmkit_slot_read(slot, back, size, &again) == (int)size);
            FZ_CHECK(memcmp(rec, back, size) == 0);
        }
    }
    free(rec);
    free(back);
}

static void use_ring(shmkit_ring *ring, int writer)
{
    size_t max = shmkit_ring_max_message(ring);
    unsigned char *msg = malloc(max + 1);
    const void *p;
    int n;

    FZ_CHECK(max <= shmkit_ring_capacity(ring) / 2 - 16);
    if (msg == NULL)
        return;
    if (writer) {
        memset(msg, 0x5a, max);
        shmkit_ring_send(ring, msg, max, 0);
    } else {
        n = shmkit_ring_recv(ring, msg, max, 0);
        FZ_CHECK(n < 0 || (size_t)n <= max);
        n = shmkit_ring_peek(ring, &p, 0);
        FZ_CHECK(n < 0 || (size_t)n <= max);
        if (n >= 0) {
            memcpy(msg, p, (size_t)n);
            shmkit_ring_release(ring);
        }
        shmkit_ring_lost(ring);
    }
    shmkit_ring_position(ring);
    free(msg);
}

static void open_for_real(const char *spec, const unsigned char *seg, size_t size,
                          uint8_t flags)
{
    unsigned open_flags = ((flags & F_WRITER) ? SHMKIT_WRITE : 0) |
                          ((flags & F_FROM_OLDEST) ? SHMKIT_FROM_OLDEST : 0);
    struct shmkit_info info;
    shmkit_slot *slot;
    shmkit_ring *ring;

    if (spec == NULL || fz_fill(spec, seg, size) < 0)
        return;
    if (shmkit_info(spec, &info, sizeof info) == 0) {
        FZ_CHECK(info.kind == SHMKIT_KIND_SLOT || info.kind == SHMKIT_KIND_RING);
        FZ_CHECK(info.total_size <= size && memchr(info.layout, '\0', sizeof info.layout));
    }
    if (shmkit_slot_open(&slot, spec, open_flags) == 0) {
        use_slot(slot, (flags & F_WRITER) != 0);
        shmkit_slot_close(slot);
    }
    if (shmkit_ring_open(&ring, spec, open_flags) == 0) {
        use_ring(ring, (flags & F_WRITER) != 0);
        shmkit_ring_close(ring);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t flags;
    unsigned char *seg;

    if (size == 0)
        return 0;
    flags = data[0];
    size--;
    seg = malloc(size > 0 ? size : 1);
    if (seg == NULL)
        return 0;
    memcpy(seg, data + 1, size);
    defuse(seg, size, flags & F_FIX_CHECKSUM);
    validate_in_memory(seg, size);
    if (!(flags & F_MEMORY_ONLY))
        open_for_real(fz_spec(flags & F_SYSV), seg, size, flags);
    free(seg);
    return 0;
}
