/*
 * header.c - creating and validating segment headers.
 *
 * A header is untrusted input.  Validation works on a private snapshot of
 * the immutable part (bytes 0..383), so a hostile or buggy process that
 * rewrites the header after we checked it cannot change what we use: every
 * later access goes through the validated sk_header_view.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "copy.h"
#include "error.h"
#include "fault.h"
#include "header.h"
#include "proc.h"

#define FNV_OFFSET 0x811c9dc5u
#define FNV_PRIME 0x01000193u

/* How long an opener waits for a creator that is still initialising. */
#define CREATION_WAIT_NS (500u * 1000u * 1000u)
#define CREATION_POLL_NS (1u * 1000u * 1000u)

static uint32_t fnv1a(uint32_t hash, const unsigned char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        hash ^= p[i];
        hash *= FNV_PRIME;
    }
    return hash;
}

static uint32_t checksum_bytes(const unsigned char *h)
{
    uint32_t hash = fnv1a(FNV_OFFSET, h, SK_CHECKSUM_OFFSET);

    return fnv1a(hash, h + offsetof(struct sk_header, layout), SK_LAYOUT_AREA);
}

uint32_t shmkit__header_checksum(const struct sk_header *h)
{
    return checksum_bytes((const unsigned char *)h);
}

/* This process as the creator of H. */
static void write_creator(struct sk_header *h)
{
    long pid = (long)getpid();

    h->creator_pid = (uint32_t)pid;
    h->creator_start = shmkit__proc_start_time(pid);
    h->creator_pidns = shmkit__pidns_self();
}

/* The magic and the creator go first, so that a creator killed before it
 * published the header leaves a segment recognisably shmkit's,
 * half-created, with a creator whose death can be checked ("shmkit rm
 * --stale"). */
void shmkit__header_stamp_creator(void *base, size_t size)
{
    struct sk_header *h = base;

    if (size < SK_HEADER_SIZE)
        return;
    memcpy(h->magic, SK_MAGIC, SK_MAGIC_LEN);
    write_creator(h);
}

void shmkit__header_init(struct sk_header *h, const struct sk_header_params *p)
{
    size_t layout_len = strlen(p->layout);

    memcpy(h->magic, SK_MAGIC, SK_MAGIC_LEN);
    h->format_major = SK_FORMAT_MAJOR;
    h->format_minor = SK_FORMAT_MINOR;
    h->kind = (uint16_t)p->kind;
    h->header_flags = p->header_flags;
    h->byte_order = SK_BYTE_ORDER_MARK;
    h->header_size = SK_HEADER_SIZE;
    h->total_size = p->total_size;
    h->payload_offset = p->payload_offset;
    h->payload_size = p->payload_size;
    h->record_size = p->record_size;
    h->capacity = p->capacity;
    h->layout_len = (uint32_t)layout_len;
    h->consumers = p->consumers;
    write_creator(h);
    h->created_sec = (int64_t)time(NULL);
    h->wait_mech = (uint32_t)p->wait_mech;
    h->wait_semid = p->wait_semid;
    memcpy(h->layout, p->layout, layout_len + 1);
    /* A ring's message numbers start here (a copy of another ring keeps
     * its numbers): the count a writer resumes from when no frame is
     * committed yet (ring.c, published_state). */
    sk_store(&h->seq_lo, (uint32_t)p->first_seq, SK_RELAXED);
    sk_store(&h->seq_hi, (uint32_t)(p->first_seq >> 32), SK_RELAXED);
    /* The first consumer entry is active from the start, at position 0:
     * a block ring keeps what is sent before any consumer comes, for the
     * first one that does (ring.c, "Consumers"). */
    if (p->consumers > 0)
        sk_store(&sk_consumer_entry(h, 0)->state, SK_CONSUMER_ACTIVE, SK_RELAXED);
}

void shmkit__header_publish(struct sk_header *h)
{
    h->checksum = shmkit__header_checksum(h);
    /* Release: a reader that sees READY sees every field above. */
    sk_store(&h->state, SK_STATE_READY, SK_RELEASE);
}

/* Bytes 0..383 of the shared header, copied after observing READY. */
struct header_copy {
    union {
        struct sk_header h;
        unsigned char bytes[sizeof(struct sk_header)];
    } u;
};

/* The magic is ours, or still all zero because the creator has not
 * written it yet. */
static int magic_ours_or_blank(const struct sk_header *shared)
{
    static const char blank[SK_MAGIC_LEN];
    char magic[SK_MAGIC_LEN];

    shmkit__racy_copy(magic, shared->magic, SK_MAGIC_LEN);
    return memcmp(magic, SK_MAGIC, SK_MAGIC_LEN) == 0 ||
           memcmp(magic, blank, SK_MAGIC_LEN) == 0;
}

/* A segment is usable once its creator stored READY.  Until then wait a
 * bounded time: creation takes microseconds, so a header that stays
 * incomplete belongs to a creator that died (or to a zero-filled segment
 * that shmkit never initialised). */
static int wait_until_ready(const struct sk_header *shared)
{
    uint64_t deadline = 0;

    while (sk_load(&shared->state, SK_ACQUIRE) != SK_STATE_READY) {
        uint64_t now = shmkit__monotonic_ns();

        /* A header that shrank away reads as zeros, like a blank one. */
        if (shmkit__fault_truncated_at(shared))
            return shmkit__fail(SHMKIT_ECORRUPT, "segment truncated");
        if (!magic_ours_or_blank(shared))
            return shmkit__fail(SHMKIT_ENOTSHMKIT, "bad magic");
        if (deadline == 0)
            deadline = now + CREATION_WAIT_NS;
        else if (now >= deadline)
            return shmkit__fail(SHMKIT_EHALFCREATED,
                                "header never completed (creator died or is still busy)");
        shmkit__sleep_ns(CREATION_POLL_NS);
    }
    return 0;
}

static int check_identity(const struct sk_header *h)
{
    if (memcmp(h->magic, SK_MAGIC, SK_MAGIC_LEN) != 0)
        return shmkit__fail(SHMKIT_ENOTSHMKIT, "bad magic");
    if (h->byte_order != SK_BYTE_ORDER_MARK)
        return shmkit__fail(SHMKIT_EVERSION, "written with a different byte order");
    if (h->format_major != SK_FORMAT_MAJOR)
        return shmkit__fail(SHMKIT_EVERSION, "format %u.%u, this library reads %u.x",
                            h->format_major, h->format_minor, SK_FORMAT_MAJOR);
    if (h->header_size != SK_HEADER_SIZE)
        return shmkit__fail(SHMKIT_ECORRUPT, "header size %lu, expected %u",
                            (unsigned long)h->header_size, SK_HEADER_SIZE);
    if (shmkit__header_checksum(h) != h->checksum)
        return shmkit__fail(SHMKIT_ECORRUPT, "header checksum mismatch");
    return 0;
}

static int check_geometry(const struct sk_header *h, size_t mapped)
{
    if (h->total_size < SK_HEADER_SIZE || h->total_size > mapped)
        return shmkit__fail(SHMKIT_ECORRUPT, "total size %llu outside 768..%zu",
                            (unsigned long long)h->total_size, mapped);
    if (h->payload_offset < SK_HEADER_SIZE || h->payload_offset % 64 != 0 ||
        h->payload_offset > h->total_size)
        return shmkit__fail(SHMKIT_ECORRUPT, "bad payload offset %llu",
                            (unsigned long long)h->payload_offset);
    if (h->payload_size > h->total_size - h->payload_offset)
        return shmkit__fail(SHMKIT_ECORRUPT, "payload of %llu bytes runs past the end",
                            (unsigned long long)h->payload_size);
    return 0;
}

static int check_layout_text(const struct sk_header *h)
{
    if (h->layout_len >= SK_LAYOUT_AREA)
        return shmkit__fail(SHMKIT_ECORRUPT, "layout length %lu too large",
                            (unsigned long)h->layout_len);
    if (memchr(h->layout, '\0', h->layout_len) != NULL || h->layout[h->layout_len] != '\0')
        return shmkit__fail(SHMKIT_ECORRUPT, "layout text not terminated at its length");
    return 0;
}

/* The payload starts right after the header and the consumer table. */
static int check_consumer_table(const struct sk_header *h, uint32_t min, uint32_t max)
{
    if (h->consumers < min || h->consumers > max)
        return shmkit__fail(SHMKIT_ECORRUPT, "%lu consumer entries, expected %lu..%lu",
                            (unsigned long)h->consumers, (unsigned long)min, (unsigned long)max);
    if (h->payload_offset != SK_HEADER_SIZE + (uint64_t)h->consumers * SK_CONSUMER_SIZE)
        return shmkit__fail(SHMKIT_ECORRUPT, "payload offset %llu does not follow %lu consumer "
                            "entries", (unsigned long long)h->payload_offset,
                            (unsigned long)h->consumers);
    return 0;
}

static int check_slot(const struct sk_header *h)
{
    int raw = (h->header_flags & SK_HFLAG_RAW) != 0;
    int rc = check_consumer_table(h, 0, 0);

    if (rc < 0)
        return rc;

    if (h->record_size == 0 || h->record_size > SHMKIT_RECORD_MAX)
        return shmkit__fail(SHMKIT_ECORRUPT, "record size %llu out of range",
                            (unsigned long long)h->record_size);
    if (h->payload_size != sk_slot_payload_size(h->record_size))
        return shmkit__fail(SHMKIT_ECORRUPT, "payload size %llu does not fit record size %llu",
                            (unsigned long long)h->payload_size,
                            (unsigned long long)h->record_size);
    if (raw != (h->layout_len == 0))
        return shmkit__fail(SHMKIT_ECORRUPT, "raw flag and layout disagree");
    if (!raw) {
        shmkit_layout *layout;

        rc = shmkit_layout_parse(&layout, h->layout);
        if (rc < 0)
            return shmkit__fail(SHMKIT_ECORRUPT, "layout text does not parse");
        /* Creators store the canonical text, made of [A-Za-z0-9_:[] ] only:
         * anything else (a tab, a newline, an escape sequence between the
         * fields) would reach terminals through shmkit info. */
        if (strcmp(shmkit_layout_text(layout), h->layout) != 0)
            rc = shmkit__fail(SHMKIT_ECORRUPT, "layout text not in canonical form");
        else if (shmkit_layout_size(layout) != h->record_size)
            rc = shmkit__fail(SHMKIT_ECORRUPT, "layout size %zu differs from record size %llu",
                              shmkit_layout_size(layout), (unsigned long long)h->record_size);
        shmkit_layout_free(layout);
        return rc;
    }
    return 0;
}

/* Ring geometry (ring.c relies on every rule here). */
static int check_ring(const struct sk_header *h)
{
    uint64_t cap = h->capacity;

    if (cap < SK_RING_MIN_CAPACITY || cap > SK_RING_MAX_CAPACITY || (cap & (cap - 1)) != 0)
        return shmkit__fail(SHMKIT_ECORRUPT, "ring capacity %llu is not a power of two in range",
                            (unsigned long long)cap);
    if (h->payload_size != cap)
        return shmkit__fail(SHMKIT_ECORRUPT, "payload size %llu differs from capacity %llu",
                            (unsigned long long)h->payload_size, (unsigned long long)cap);
    if (h->record_size > cap / 2 - SK_FRAME_HDR)
        return shmkit__fail(SHMKIT_ECORRUPT, "largest message %llu too big for capacity %llu",
                            (unsigned long long)h->record_size, (unsigned long long)cap);
    if (h->layout_len != 0 || (h->header_flags & SK_HFLAG_RAW))
        return shmkit__fail(SHMKIT_ECORRUPT, "ring with slot attributes");
    if (h->header_flags & SK_HFLAG_OVERWRITE)
        return check_consumer_table(h, 0, 0);
    return check_consumer_table(h, 1, SK_RING_MAX_CONSUMERS);
}

static int check_kind(const struct sk_header *h)
{
    switch (h->kind) {
    case SHMKIT_KIND_SLOT: return check_slot(h);
    case SHMKIT_KIND_RING: return check_ring(h);
    default: return shmkit__fail(SHMKIT_ECORRUPT, "unknown kind %u", h->kind);
    }
}

/* A complete header must be intact (checksum).  A half-created one has
 * no checksum yet: it counts if it carries our magic, so that the wait
 * resources of a creator that died before publishing (its sysv-sem set,
 * recorded by shmkit__header_init) are removed with the segment; the caller
 * checks that such a set belongs to the segment's owner. */
int shmkit__header_wait_fields(const void *base, size_t mapped, int *mech, int *semid)
{
    struct header_copy copy;
    uint32_t state;
    int rc = 0;

    if (mapped < SK_HEADER_SIZE)
        return shmkit__fail(SHMKIT_ENOTSHMKIT, "no header");
    state = sk_load(&((const struct sk_header *)base)->state, SK_ACQUIRE);
    shmkit__racy_copy(copy.u.bytes, base, offsetof(struct sk_header, lease_pid));
    if (state == SK_STATE_READY)
        rc = check_identity(&copy.u.h);
    else if (memcmp(copy.u.h.magic, SK_MAGIC, SK_MAGIC_LEN) != 0)
        rc = shmkit__fail(SHMKIT_ENOTSHMKIT, "no shmkit header");
    if (rc < 0)
        return rc;
    *mech = (int)copy.u.h.wait_mech;
    *semid = copy.u.h.wait_semid;
    return 0;
}

static void fill_view(const struct sk_header *h, struct sk_header_view *view)
{
    memset(view, 0, sizeof *view);
    view->kind = h->kind;
    view->format_major = h->format_major;
    view->format_minor = h->format_minor;
    view->header_flags = h->header_flags;
    view->total_size = h->total_size;
    view->payload_offset = h->payload_offset;
    view->payload_size = h->payload_size;
    view->record_size = h->record_size;
    view->capacity = h->capacity;
    view->consumers = h->consumers;
    view->creator_pid = (long)h->creator_pid;
    view->creator_start = h->creator_start;
    view->created_sec = h->created_sec;
    view->wait_mech = (int)h->wait_mech;
    view->wait_semid = h->wait_semid;
    memcpy(view->layout, h->layout, h->layout_len + 1);
}

int shmkit__header_validate(const void *base, size_t mapped, struct sk_header_view *view)
{
    const struct sk_header *shared = base;
    struct header_copy copy;
    int rc;

    if (mapped < SK_HEADER_SIZE)
        return shmkit__fail(SHMKIT_ENOTSHMKIT, "smaller than a header");
    rc = wait_until_ready(shared);
    if (rc < 0)
        return rc;
    memset(&copy, 0, sizeof copy);
    shmkit__racy_copy(copy.u.bytes, base, offsetof(struct sk_header, lease_pid));
    if ((rc = check_identity(&copy.u.h)) < 0 || (rc = check_geometry(&copy.u.h, mapped)) < 0 ||
        (rc = check_layout_text(&copy.u.h)) < 0 || (rc = check_kind(&copy.u.h)) < 0)
        return rc;
    fill_view(&copy.u.h, view);
    return 0;
}

/* A header still in creation (a creator that failed half-way removes the
 * segment itself) or a damaged one is not owned: keeping a segment is the
 * safe mistake. */
int shmkit__header_says_owned(const void *base, size_t mapped)
{
    const struct sk_header *h = base;
    struct sk_header_view view;

    if (mapped < SK_HEADER_SIZE || sk_load(&h->state, SK_ACQUIRE) != SK_STATE_READY)
        return 0;
    return shmkit__header_validate(base, mapped, &view) == 0 &&
           (view.header_flags & SK_HFLAG_OWNED) != 0;
}
