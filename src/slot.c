/*
 * slot.c - the slot: the latest value of a record.
 *
 * Two buffers and two counters (doc/FORMAT.md, "Slot").  To publish
 * version n the writer announces it in `begin`, fills buffer n & 1 (the one
 * readers are not using) and stores n in `pub`.  A reader copies buffer
 * pub & 1 and keeps the copy only if the writer did not start writing that
 * same buffer meanwhile (begin - pub <= 1).  So:
 *   - readers never block the writer and never return a torn record;
 *   - a writer killed mid-update leaves the previous version intact;
 *   - the fast paths are plain loads, stores and one memcpy: no syscalls.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sched.h>
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

/* A reader is lapped only if the writer publishes twice during one copy.
 * After a few spins it yields, and gives up after READ_ATTEMPTS. */
#define READ_SPINS 16
#define READ_ATTEMPTS 100000

struct shmkit_slot {
    struct sk_seg seg;
    struct sk_header_view view;  /* validated private copy */
    struct sk_header *hdr;       /* shared */
    unsigned char *bufs;         /* the two buffers */
    size_t stride;
    size_t record_size;
    shmkit_layout *layout;       /* NULL for raw slots */
    struct sk_waitset ws;
    int writer;
    uint32_t fork_gen;           /* sk_holder_stamp when opened */
    uint64_t next_version;       /* writer only */
};

static unsigned char *buffer(const shmkit_slot *slot, uint32_t v)
{
    return slot->bufs + (size_t)(v & 1u) * slot->stride;
}

/* Copy buffer header and (if RECORD) record of the latest version
 * consistently.  Returns 0 with *VERSION set, or SHMKIT_ECONTENDED. */
static int read_consistent(shmkit_slot *slot, void *record, uint64_t *version)
{
    struct sk_slot_buf bh;
    uint32_t last_v = 0, last_b = 0;
    uint64_t last_bv = 0;
    int attempt;

    for (attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        uint32_t v = sk_load(&slot->hdr->pub, SK_ACQUIRE);
        const unsigned char *buf = buffer(slot, v);
        uint32_t b;

        sk_racy_copy(&bh, buf, sizeof bh);
        if (record != NULL)
            sk_racy_copy(record, buf + SK_SLOT_BUF_HDR, slot->record_size);
        sk_fence(SK_ACQUIRE);
        b = sk_load(&slot->hdr->begin, SK_RELAXED);
        if ((uint32_t)(b - v) <= 1u && (uint32_t)bh.version == v) {
            *version = bh.version;
            return 0;
        }
        /* A writer at work moves pub or begin, and a writer stopped at
         * any point leaves words that pass the check above: words that
         * fail it and stay put across a yield are damage, not a race. */
        if (attempt > READ_SPINS && v == last_v && b == last_b && bh.version == last_bv)
            return sk_fail(SHMKIT_ECORRUPT,
                           "slot words inconsistent: pub %lu, begin %lu, buffer version %llu",
                           (unsigned long)v, (unsigned long)b, (unsigned long long)bh.version);
        last_v = v;
        last_b = b;
        last_bv = bh.version;
        if (attempt >= READ_SPINS)
            sched_yield();
    }
    return sk_fail(SHMKIT_ECONTENDED, "lapped by the writer %d times", READ_ATTEMPTS);
}

static int setup_handle(shmkit_slot *slot)
{
    int rc;

    if (slot->view.kind != SHMKIT_KIND_SLOT)
        return sk_fail(SHMKIT_EKIND, "segment is a ring, not a slot");
    slot->hdr = slot->seg.base;
    slot->bufs = (unsigned char *)slot->seg.base + slot->view.payload_offset;
    slot->record_size = (size_t)slot->view.record_size;
    slot->stride = (size_t)sk_slot_buf_stride(slot->view.record_size);
    sk_waitset_attach(&slot->ws, slot->view.wait_mech, slot->view.wait_semid);
    if (slot->view.layout[0] != '\0') {
        rc = shmkit_layout_parse(&slot->layout, slot->view.layout);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Writer setup: the lease, then the version to publish next.  If the
 * previous writer died between `begin` and `pub`, we simply redo its
 * version number into the same (unpublished) buffer. */
static int become_writer(shmkit_slot *slot)
{
    struct sk_slot_buf bh;
    uint32_t v;
    int rc = sk_lease_acquire(&slot->seg, SK_LEASE_WRITER);

    if (rc < 0)
        return rc;
    slot->writer = 1;
    v = sk_load(&slot->hdr->pub, SK_ACQUIRE);
    memcpy(&bh, buffer(slot, v), sizeof bh);
    slot->next_version = ((uint32_t)bh.version == v ? bh.version : (uint64_t)v) + 1;
    return 0;
}

static void free_handle(shmkit_slot *slot)
{
    /* A child closing a handle inherited through fork() neither releases
     * the parent's lease nor removes the parent's owned segment. */
    if (!sk_same_process(slot->fork_gen))
        slot->seg.created_by = 0;
    else if (slot->writer)
        sk_lease_release(&slot->seg, SK_LEASE_WRITER);
    sk_seg_close(&slot->seg);
    shmkit_layout_free(slot->layout);
    free(slot);
}

/* Map SPEC with ACCESS and validate it as a slot. */
static int map_slot(shmkit_slot *slot, const struct sk_spec *spec, int access)
{
    int rc = sk_seg_open(&slot->seg, spec, access, SK_HEADER_SIZE);

    if (rc == 0)
        rc = sk_seg_verdict(&slot->seg, sk_header_validate(slot->seg.base, slot->seg.size,
                                                           &slot->view));
    return rc == 0 ? setup_handle(slot) : rc;
}

static int open_existing(shmkit_slot *slot, const struct sk_spec *spec, unsigned flags)
{
    int rc = map_slot(slot, spec, ((flags & SHMKIT_WRITE) ? SK_SEG_WRITE : SK_SEG_WAITER)
                                  | SK_SEG_OWNER_FLAG(flags));

    if (rc == 0 && (flags & SHMKIT_WRITE))
        rc = become_writer(slot);
    return rc;
}

SHMKIT_API int shmkit_slot_open(shmkit_slot **slotp, const char *spec_text, unsigned flags)
{
    struct sk_spec spec;
    shmkit_slot *slot;
    int rc;

    sk_clear_detail();
    if (slotp == NULL)
        return sk_null_arg("slotp");
    *slotp = NULL;
    rc = sk_check_flags(flags, SHMKIT_WRITE | SHMKIT_ANY_OWNER, "shmkit_slot_open");
    if (rc == 0)
        rc = sk_spec_parse(spec_text, &spec);
    if (rc < 0)
        return rc;
    slot = calloc(1, sizeof *slot);
    if (slot == NULL)
        return sk_fail(-ENOMEM, "cannot allocate a slot handle");
    rc = sk_holder_stamp(&slot->fork_gen);
    if (rc == 0)
        rc = sk_seg_verdict(&slot->seg, open_existing(slot, &spec, flags));
    if (rc < 0) {
        free_handle(slot);
        return rc;
    }
    *slotp = slot;
    return 0;
}

/* The canonical layout text and record size a new slot will have. */
static int resolve_format(const char *layout_text, size_t record_size, char *canonical,
                          size_t *size_out)
{
    shmkit_layout *layout;
    int rc;

    canonical[0] = '\0';
    if (layout_text == NULL) {
        if (record_size == 0 || record_size > SHMKIT_RECORD_MAX)
            return sk_fail(SHMKIT_ESIZE, "record size must be 1..%u bytes", SHMKIT_RECORD_MAX);
        *size_out = record_size;
        return 0;
    }
    rc = shmkit_layout_parse(&layout, layout_text);
    if (rc < 0)
        return rc;
    *size_out = shmkit_layout_size(layout);
    strcpy(canonical, shmkit_layout_text(layout));
    shmkit_layout_free(layout);
    if (record_size != 0 && record_size != *size_out)
        return sk_fail(SHMKIT_ESIZE, "record size %zu differs from the layout's %zu",
                       record_size, *size_out);
    return 0;
}

static int create_new(shmkit_slot *slot, const struct sk_spec *spec, const char *canonical,
                      size_t record_size, unsigned mode, unsigned flags)
{
    struct sk_header_params p;
    struct sk_waitset ws;
    int rc;

    memset(&p, 0, sizeof p);
    p.kind = SHMKIT_KIND_SLOT;
    p.header_flags = (canonical[0] == '\0' ? SK_HFLAG_RAW : 0) | SK_HFLAG_OWNED_IF(flags);
    p.payload_offset = SK_HEADER_SIZE;
    p.payload_size = sk_slot_payload_size(record_size);
    p.total_size = p.payload_offset + p.payload_size;
    p.record_size = record_size;
    p.layout = canonical;
    rc = sk_seg_create(&slot->seg, spec, (size_t)p.total_size, mode);
    if (rc < 0)
        return rc;
    sk_waitset_create(&ws, mode);
    p.wait_mech = ws.mech;
    p.wait_semid = ws.semid;
    sk_header_init(slot->seg.base, &p);
    if (sk_hook("creator-dies-before-publish"))
        raise(SIGKILL); /* test builds: a creator killed half-way */
    sk_header_publish(slot->seg.base);
    rc = sk_header_validate(slot->seg.base, slot->seg.size, &slot->view);
    if (rc == 0)
        rc = setup_handle(slot);
    if (rc == 0)
        rc = become_writer(slot);
    if (rc < 0) {
        sk_waitset_destroy(&ws);
        sk_seg_remove(spec);
    }
    return rc;
}

/* An existing slot opened by a creator must have the requested format. */
static int check_match(const shmkit_slot *slot, const char *canonical, size_t record_size)
{
    if (strcmp(slot->view.layout, canonical) != 0 && slot->view.layout[0] == '\0')
        return sk_fail(SHMKIT_ELAYOUT, "segment is a raw slot of %zu-byte records, "
                       "with no layout", slot->record_size);
    if (strcmp(slot->view.layout, canonical) != 0 && canonical[0] == '\0')
        return sk_fail(SHMKIT_ELAYOUT, "segment is not a raw slot: it has layout \"%s\"",
                       slot->view.layout);
    if (strcmp(slot->view.layout, canonical) != 0)
        return sk_fail(SHMKIT_ELAYOUT, "segment has layout \"%s\"", slot->view.layout);
    if (slot->record_size != record_size)
        return sk_fail(SHMKIT_ESIZE, "segment has %zu-byte records, not %zu",
                       slot->record_size, record_size);
    return 0;
}

SHMKIT_API int shmkit_slot_create(shmkit_slot **slotp, const char *spec_text,
                                  const char *layout, size_t record_size, unsigned mode,
                                  unsigned flags)
{
    char canonical[SK_LAYOUT_AREA];
    struct sk_spec spec;
    shmkit_slot *slot;
    int rc;

    sk_clear_detail();
    if (slotp == NULL)
        return sk_null_arg("slotp");
    *slotp = NULL;
    if (mode > 0777)
        return sk_fail(-EINVAL, "mode %o has bits outside 0777", mode);
    if ((rc = sk_check_flags(flags, SK_CREATE_FLAGS, "shmkit_slot_create")) < 0 ||
        (rc = sk_spec_parse(spec_text, &spec)) < 0 ||
        (rc = resolve_format(layout, record_size, canonical, &record_size)) < 0)
        return rc;
    slot = calloc(1, sizeof *slot);
    if (slot == NULL)
        return sk_fail(-ENOMEM, "cannot allocate a slot handle");
    rc = sk_holder_stamp(&slot->fork_gen);
    if (rc == 0)
        rc = create_new(slot, &spec, canonical, record_size, mode != 0 ? mode : 0600, flags);
    if (rc == -EEXIST && !(flags & SHMKIT_EXCL)) {
        uint32_t gen = slot->fork_gen;

        memset(slot, 0, sizeof *slot);
        slot->fork_gen = gen;
        sk_clear_detail();
        rc = map_slot(slot, &spec, SK_SEG_WRITE | SK_SEG_OWNER_FLAG(flags));
        if (rc == 0)
            rc = check_match(slot, canonical, record_size);
        if (rc == 0)
            rc = become_writer(slot);
    }
    rc = sk_seg_verdict(&slot->seg, rc);
    if (rc < 0) {
        free_handle(slot);
        return rc;
    }
    *slotp = slot;
    return 0;
}

SHMKIT_API void shmkit_slot_close(shmkit_slot *slot)
{
    if (slot != NULL)
        free_handle(slot);
}

SHMKIT_API int shmkit_slot_read(shmkit_slot *slot, void *buf, size_t len, uint64_t *version)
{
    uint64_t v;
    int rc;

    if (slot == NULL)
        return sk_null_arg("slot");
    if (buf == NULL && len != 0)
        return sk_null_arg("buf");
    if (len < slot->record_size)
        return sk_fail(SHMKIT_ESIZE, "buffer of %zu bytes for a %zu-byte record", len,
                       slot->record_size);
    /* A copy of zeros, from a mapping replaced because the object shrank,
     * is consistent: the verdict tells it from a record. */
    rc = sk_seg_verdict(&slot->seg, read_consistent(slot, buf, &v));
    if (rc < 0)
        return rc;
    if (version != NULL)
        *version = v;
    return (int)slot->record_size;
}

SHMKIT_API int shmkit_slot_write(shmkit_slot *slot, const void *record, size_t len)
{
    uint64_t n;
    unsigned char *buf;
    struct sk_slot_buf bh;

    if (slot == NULL)
        return sk_null_arg("slot");
    if (record == NULL && len != 0)
        return sk_null_arg("record");
    n = slot->next_version;
    if (!slot->writer)
        return sk_fail(-EPERM, "handle was not opened as the writer");
    if (!sk_same_process(slot->fork_gen))
        return sk_not_holder("writer");
    if (len != slot->record_size)
        return sk_fail(SHMKIT_ESIZE, "record of %zu bytes for a %zu-byte slot", len,
                       slot->record_size);
    if (sk_seg_truncated(&slot->seg))
        return sk_seg_verdict(&slot->seg, 0);
    buf = buffer(slot, (uint32_t)n);
    memset(&bh, 0, sizeof bh);
    bh.version = n;
    sk_store(&slot->hdr->begin, (uint32_t)n, SK_RELAXED);
    /* Order the announcement before the buffer stores (pairs with the
     * reader's acquire fence before it loads `begin`). */
    sk_fence(SK_RELEASE);
    sk_racy_write(buf + SK_SLOT_BUF_HDR, record, len);
    sk_racy_write(buf, &bh, sizeof bh);
    sk_store(&slot->hdr->pub, (uint32_t)n, SK_RELEASE);
    sk_notify(&slot->ws, SK_WAIT_IDX_DATA, &slot->hdr->pub, &slot->hdr->waiters);
    slot->next_version = n + 1;
    /* Into private zero pages if the object shrank: nobody saw it. */
    return sk_seg_verdict(&slot->seg, 0);
}

SHMKIT_API int shmkit_slot_wait(shmkit_slot *slot, uint64_t since_version, int timeout_ms)
{
    uint64_t deadline = 0; /* read the clock only if we have to wait */
    struct sk_header *rw;
    sk_atomic_u32 *word;

    if (slot == NULL)
        return sk_null_arg("slot");
    rw = sk_seg_waiter_view(&slot->seg);
    word = rw != NULL ? &rw->pub : &slot->hdr->pub;
    for (;;) {
        /* Take the word before looking at the version: a publication
         * between the two then changes the word and ends the wait. */
        uint32_t seen = sk_load(word, SK_ACQUIRE);
        uint64_t version;
        int rc = sk_seg_verdict(&slot->seg, read_consistent(slot, NULL, &version)), left;

        if (rc < 0)
            return rc;
        if (version > since_version)
            return 0;
        left = timeout_ms;
        if (timeout_ms > 0) {
            uint64_t now = sk_monotonic_ns();
            if (deadline == 0)
                deadline = now + (uint64_t)timeout_ms * 1000000u;
            if (now >= deadline)
                return sk_wait_failure(-ETIMEDOUT, "new version");
            left = (int)((deadline - now + 999999u) / 1000000u);
        }
        if (timeout_ms == 0)
            return sk_wait_failure(-EAGAIN, "new version");
        sk_clear_detail();
        /* In slices, so that a segment that shrank is noticed without a
         * publication; the deadline is checked above. */
        rc = sk_wait_changed(&slot->ws, SK_WAIT_IDX_DATA, word, seen,
                             rw != NULL ? &rw->waiters : NULL, sk_idle_slice(left),
                             sk_wait_mode_get());
        if (rc < 0 && rc != -ETIMEDOUT)
            return sk_wait_failure(rc, "new version");
        if ((rc = sk_seg_verdict(&slot->seg, 0)) < 0)
            return rc;
    }
}

SHMKIT_API int shmkit_slot_is_current(const shmkit_slot *slot)
{
    sk_clear_detail();
    if (slot == NULL)
        return sk_fail(-EINVAL, "slot handle is NULL");
    return sk_seg_is_current(&slot->seg);
}

SHMKIT_API uint64_t shmkit_slot_version(shmkit_slot *slot)
{
    uint64_t v = 0;

    if (slot == NULL) {
        sk_null_arg("slot");
        return 0;
    }
    return sk_seg_verdict(&slot->seg, read_consistent(slot, NULL, &v)) == 0 ? v : 0;
}

SHMKIT_API size_t shmkit_slot_record_size(const shmkit_slot *slot)
{
    if (slot == NULL) {
        sk_null_arg("slot");
        return 0;
    }
    return slot->record_size;
}

SHMKIT_API const shmkit_layout *shmkit_slot_layout(const shmkit_slot *slot)
{
    if (slot == NULL) {
        sk_null_arg("slot");
        return NULL;
    }
    return slot->layout;
}

/* For shmkit_info(): the version of a validated slot mapping. */
int sk_slot_peek_version(void *base, const struct sk_header_view *view, uint64_t *version)
{
    shmkit_slot slot;

    memset(&slot, 0, sizeof slot);
    slot.seg.base = base;
    slot.view = *view;
    slot.hdr = base;
    slot.bufs = (unsigned char *)base + view->payload_offset;
    slot.record_size = (size_t)view->record_size;
    slot.stride = (size_t)sk_slot_buf_stride(view->record_size);
    return read_consistent(&slot, NULL, version);
}
