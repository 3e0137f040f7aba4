/*
 * slot.c - the slot: the latest value of a record.
 *
 * Two buffers, each led by its own commit word (doc/FORMAT.md, "Slot"):
 * version n lives in buffer n & 1, whose word is 2n (mod 2^32) once the
 * record is complete and 2n - 1 (odd) while the writer fills it.  The
 * writer publishes in the data itself: it touches no header word on the
 * fast path, and a record of up to 48 bytes shares one 64-byte line with
 * its commit word.  A reader takes the buffer whose word names the newer
 * complete version, copies it and keeps the copy only if the word did not
 * move meanwhile (a seqlock per buffer).  A waiter polls the word of the
 * buffer that the next version will use.  So:
 *   - readers never block the writer and never return a torn record;
 *   - a writer killed mid-update leaves its buffer odd and the other
 *     buffer, the previous version, intact;
 *   - the fast paths are plain loads, stores and one memcpy: no syscalls.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "handle.h"
#include "slot.h"
#include "hooks.h"
#include "wait.h"

#include <errno.h>
#include <signal.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* A reader is lapped only if the writer publishes twice during one copy.
 * After a few spins it yields, and gives up after READ_ATTEMPTS. */
#define READ_SPINS 16
#define READ_ATTEMPTS 100000

struct shmkit_slot {
    struct sk_handle h;          /* first: segment, view, leases (handle.h) */
    struct sk_header *hdr;       /* shared */
    unsigned char *bufs;         /* the two buffers */
    size_t stride;
    size_t record_size;
    shmkit_layout *layout;       /* NULL for raw slots */
    struct sk_waitset ws;
    int writer;
    uint64_t next_version;       /* writer only */
};

/* The header (and commit word) of buffer B, 0 or 1. */
static struct sk_slot_buf *buffer(const shmkit_slot *slot, unsigned b)
{
    return (struct sk_slot_buf *)(void *)(slot->bufs + (size_t)(b & 1u) * slot->stride);
}

/* The commit word of version N: 2N, and 2N - 1 while N is being written. */
static uint32_t commit_of(uint64_t n)
{
    return (uint32_t)n << 1;
}

/* Does commit word C say that buffer B holds a complete version?  Even,
 * and of a version of B's parity (buffer 1's initial 0 is not one). */
static int complete_in(uint32_t c, unsigned b)
{
    return (c & 1u) == 0 && ((c >> 1) & 1u) == b;
}

/* The buffer holding the newer complete version by the commit words C,
 * or -1 if neither holds one.  Two complete words differ by 2 (mod 2^32)
 * in a working slot; the comparison is modulo 2^32. */
static int newest_buffer(const uint32_t c[2])
{
    int ok0 = complete_in(c[0], 0), ok1 = complete_in(c[1], 1);

    if (ok0 && ok1)
        return c[1] - c[0] < 0x80000000u ? 1 : 0;
    return ok1 ? 1 : ok0 ? 0 : -1;
}

static void load_commits(const shmkit_slot *slot, uint32_t c[2])
{
    c[0] = sk_load(&buffer(slot, 0)->commit, SK_ACQUIRE);
    c[1] = sk_load(&buffer(slot, 1)->commit, SK_ACQUIRE);
}

/* Copy the version and (if RECORD) the record of buffer B, whose commit
 * word was C, and check them: 1 if consistent, else 0.  *VERSION gets
 * the copied version either way (for the damage check). */
static int copy_buffer(const shmkit_slot *slot, unsigned b, uint32_t c, void *record,
                       uint64_t *version)
{
    struct sk_slot_buf *bh = buffer(slot, b);

    shmkit__racy_copy(version, &bh->version, sizeof *version);
    if (record != NULL)
        shmkit__racy_copy(record, (unsigned char *)bh + SK_SLOT_BUF_HDR, slot->record_size);
    /* Pairs with the writer's release fence after its odd store: a copy
     * that saw any byte of a later write sees the word moved. */
    sk_fence(SK_ACQUIRE);
    return sk_load(&bh->commit, SK_RELAXED) == c && commit_of(*version) == c;
}

/* Copy the version and (if RECORD) record of the latest complete version
 * consistently.  Returns 0 with *VERSION set, or SHMKIT_ECONTENDED, or
 * SHMKIT_ECORRUPT for words that fail and never move. */
static int read_consistent(shmkit_slot *slot, void *record, uint64_t *version)
{
    uint32_t last[2] = {0, 0};
    uint64_t v = 0, last_v = 0;
    int attempt;

    for (attempt = 0; attempt < READ_ATTEMPTS; attempt++) {
        uint32_t c[2];
        int b;

        load_commits(slot, c);
        b = newest_buffer(c);
        if (b >= 0 && copy_buffer(slot, (unsigned)b, c[b], record, &v)) {
            *version = v;
            return 0;
        }
        /* A writer at work moves a commit word, and a writer stopped at
         * any point leaves one buffer complete: words that fail and stay
         * put across a yield are damage, not a race. */
        if (attempt > READ_SPINS && c[0] == last[0] && c[1] == last[1] && v == last_v)
            return shmkit__fail(SHMKIT_ECORRUPT,
                                "slot words inconsistent: commit words %lu and %lu, "
                                "buffer version %llu", (unsigned long)c[0],
                                (unsigned long)c[1], (unsigned long long)v);
        last[0] = c[0];
        last[1] = c[1];
        last_v = v;
        if (attempt >= READ_SPINS)
            sched_yield();
    }
    return shmkit__fail(SHMKIT_ECONTENDED, "lapped by the writer %d times", READ_ATTEMPTS);
}

static shmkit_slot *slot_of(struct sk_handle *handle)
{
    return (shmkit_slot *)handle; /* the first member */
}

/* The slot's pointers and geometry from a validated view. */
static void set_geometry(shmkit_slot *slot, void *base, const struct sk_header_view *view)
{
    slot->hdr = base;
    slot->bufs = (unsigned char *)base + view->payload_offset;
    slot->record_size = (size_t)view->record_size;
    slot->stride = (size_t)sk_slot_buf_stride(view->record_size);
}

static int attach(struct sk_handle *handle)
{
    shmkit_slot *slot = slot_of(handle);

    set_geometry(slot, handle->seg.base, &handle->view);
    shmkit__waitset_attach(&slot->ws, handle->view.wait_mech, handle->view.wait_semid);
    shmkit__waitset_set_followers(&slot->ws, sk_seg_has_followers(&handle->seg));
    if (handle->view.layout[0] != '\0')
        return shmkit_layout_parse(&slot->layout, handle->view.layout);
    return 0;
}

static void detach(struct sk_handle *handle)
{
    shmkit_layout_free(slot_of(handle)->layout);
}

/* Writer setup: the lease, then the version to publish next, after the
 * newest complete one.  A previous writer that died mid-update left its
 * buffer odd: that is the buffer of the next version, so the first write
 * redoes its version number there and repairs it. */
static int become_writer(struct sk_handle *handle)
{
    shmkit_slot *slot = slot_of(handle);
    uint32_t c[2];
    uint64_t v = 0;
    int b, rc = shmkit__handle_lease(handle, SK_LEASE_WRITER, 0);

    if (rc < 0)
        return rc;
    slot->writer = 1;
    load_commits(slot, c);
    b = newest_buffer(c);
    if (b >= 0) {
        memcpy(&v, &buffer(slot, (unsigned)b)->version, sizeof v);
        if (commit_of(v) != c[b]) /* damage: keep what the word says */
            v = c[b] >> 1;
    }
    slot->next_version = v + 1;
    return 0;
}

static int open_existing(struct sk_handle *handle, const struct sk_spec *spec, unsigned flags)
{
    int access = (flags & SHMKIT_WRITE) ? SK_SEG_WRITE : SK_SEG_WAITER;
    int rc = shmkit__handle_map(handle, spec, access | SK_SEG_OWNER_FLAG(flags));

    if (rc == 0 && (flags & SHMKIT_WRITE))
        rc = become_writer(handle);
    return rc;
}

/* What shmkit_slot_create asks for. */
struct slot_args {
    const char *layout;
    size_t record_size;
};

/* The canonical layout text and record size a new slot will have. */
static int plan_create(const void *args_v, struct sk_create_plan *plan)
{
    const struct slot_args *args = args_v;
    struct sk_header_params *p = &plan->params;
    shmkit_layout *layout;
    int rc;

    p->kind = SHMKIT_KIND_SLOT;
    p->record_size = args->record_size;
    if (args->layout == NULL) {
        if (args->record_size == 0 || args->record_size > SHMKIT_RECORD_MAX)
            return shmkit__fail(SHMKIT_ESIZE, "record size must be 1..%u bytes", SHMKIT_RECORD_MAX);
        p->header_flags = SK_HFLAG_RAW;
    } else {
        rc = shmkit_layout_parse(&layout, args->layout);
        if (rc < 0)
            return rc;
        p->record_size = shmkit_layout_size(layout);
        strcpy(plan->layout, shmkit_layout_text(layout));
        shmkit_layout_free(layout);
        if (args->record_size != 0 && args->record_size != p->record_size)
            return shmkit__fail(SHMKIT_ESIZE, "record size %zu differs from the layout's %zu",
                                args->record_size, (size_t)p->record_size);
    }
    p->payload_size = sk_slot_payload_size(p->record_size);
    return 0;
}

/* An existing slot opened by a creator must have the requested format. */
static int match(const struct sk_handle *handle, const struct sk_header_params *planned)
{
    const char *have = handle->view.layout, *want = planned->layout;
    size_t record_size = (size_t)handle->view.record_size;

    if (strcmp(have, want) != 0 && have[0] == '\0')
        return shmkit__fail(SHMKIT_ELAYOUT, "segment is a raw slot of %zu-byte records, "
                            "with no layout", record_size);
    if (strcmp(have, want) != 0 && want[0] == '\0')
        return shmkit__fail(SHMKIT_ELAYOUT, "segment is not a raw slot: it has layout \"%s\"",
                            have);
    if (strcmp(have, want) != 0)
        return shmkit__fail(SHMKIT_ELAYOUT, "segment has layout \"%s\"", have);
    if (record_size != planned->record_size)
        return shmkit__fail(SHMKIT_ESIZE, "segment has %zu-byte records, not %zu", record_size,
                            (size_t)planned->record_size);
    return 0;
}

static const struct sk_kind slot_kind = {
    .kind = SHMKIT_KIND_SLOT, .name = "slot", .handle_size = sizeof(shmkit_slot),
    .handlep_name = "slotp", .open_call = "shmkit_slot_open",
    .create_call = "shmkit_slot_create", .open_flags = SHMKIT_WRITE | SHMKIT_ANY_OWNER,
    .attach = attach, .detach = detach, .open = open_existing,
    .plan = plan_create, .match = match, .become_writer = become_writer,
};

SHMKIT_API int shmkit_slot_open(shmkit_slot **slotp, const char *spec_text, unsigned flags)
{
    return shmkit__handle_open(&slot_kind, slotp, spec_text, flags);
}

SHMKIT_API int shmkit_slot_create(shmkit_slot **slotp, const char *spec_text,
                                  const char *layout, size_t record_size, unsigned mode,
                                  unsigned flags)
{
    struct slot_args args = { layout, record_size };

    return shmkit__handle_create(&slot_kind, slotp, spec_text, &args, mode, flags);
}

SHMKIT_API void shmkit_slot_close(shmkit_slot *slot)
{
    if (slot != NULL)
        shmkit__handle_close(&slot->h);
}

SHMKIT_API int shmkit_slot_read(shmkit_slot *slot, void *buf, size_t len, uint64_t *version)
{
    uint64_t v;
    int rc;

    if (slot == NULL)
        return shmkit__null_arg("slot");
    if (buf == NULL && len != 0)
        return shmkit__null_arg("buf");
    if (len < slot->record_size)
        return shmkit__fail(SHMKIT_ESIZE, "buffer of %zu bytes for a %zu-byte record", len,
                            slot->record_size);
    /* A copy of zeros, from a mapping replaced because the object shrank,
     * is consistent: the verdict tells it from a record. */
    rc = shmkit__seg_verdict(&slot->h.seg, read_consistent(slot, buf, &v));
    if (rc < 0)
        return rc;
    if (version != NULL)
        *version = v;
    return (int)slot->record_size;
}

SHMKIT_API int shmkit_slot_write(shmkit_slot *slot, const void *record, size_t len)
{
    uint64_t n;
    struct sk_slot_buf *bh;

    if (slot == NULL)
        return shmkit__null_arg("slot");
    if (record == NULL && len != 0)
        return shmkit__null_arg("record");
    n = slot->next_version;
    if (!slot->writer)
        return shmkit__fail(-EPERM, "handle was not opened as the writer");
    if (!sk_same_process(slot->h.fork_gen))
        return shmkit__not_holder("writer");
    if (len != slot->record_size)
        return shmkit__fail(SHMKIT_ESIZE, "record of %zu bytes for a %zu-byte slot", len,
                            slot->record_size);
    if (sk_seg_truncated(&slot->h.seg))
        return shmkit__seg_verdict(&slot->h.seg, 0);
    bh = buffer(slot, (unsigned)n);
    sk_store(&bh->commit, commit_of(n) - 1u, SK_RELAXED);
    /* Order the odd word before the record stores (pairs with the
     * reader's acquire fence before it loads the word again). */
    sk_fence(SK_RELEASE);
    shmkit__racy_write((unsigned char *)bh + SK_SLOT_BUF_HDR, record, len);
    shmkit__racy_write(&bh->version, &n, sizeof n);
    sk_store(&bh->commit, commit_of(n), SK_RELEASE);
    shmkit__notify(&slot->ws, SK_WAIT_IDX_DATA, &bh->commit, &slot->hdr->waiters);
    slot->next_version = n + 1;
    /* Into private zero pages if the object shrank: nobody saw it. */
    return shmkit__seg_verdict(&slot->h.seg, 0);
}

/* The commit word at WORD moved: start fetching the rest of its buffer,
 * the lines after the word's, which the caller will read next.  Only the
 * first few: larger records are a matter of bandwidth, not latency. */
static void prefetch_record(const shmkit_slot *slot, const sk_atomic_u32 *word)
{
#if defined(__GNUC__)
    const unsigned char *line = (const unsigned char *)word;
    size_t off, end = SK_SLOT_BUF_HDR + slot->record_size;

    if (end > 4 * SK_SLOT_BUF_ALIGN)
        end = 4 * SK_SLOT_BUF_ALIGN;
    for (off = SK_SLOT_BUF_ALIGN; off < end; off += SK_SLOT_BUF_ALIGN)
        __builtin_prefetch(line + off, 0, 3);
#else
    (void)slot;
    (void)word;
#endif
}

SHMKIT_API int shmkit_slot_wait(shmkit_slot *slot, uint64_t since_version, int timeout_ms)
{
    uint64_t deadline = 0; /* read the clock only if we have to wait */
    struct sk_header *rw;
    sk_atomic_u32 *word;

    if (slot == NULL)
        return shmkit__null_arg("slot");
    rw = shmkit__seg_waiter_view(&slot->h.seg);
    /* The word to watch: the commit word of the buffer that the next
     * version, since_version + 1, will be written to.  Its line is also
     * the one the reader will read next. */
    word = &buffer(slot, (unsigned)((since_version + 1) & 1u))->commit;
    for (;;) {
        /* Take the word before looking at the version: a publication
         * between the two then changes the word and ends the wait. */
        uint32_t seen = sk_load(word, SK_ACQUIRE);
        uint64_t version;
        int rc = shmkit__seg_verdict(&slot->h.seg, read_consistent(slot, NULL, &version)), left;

        if (rc < 0)
            return rc;
        if (version > since_version)
            return 0;
        left = timeout_ms;
        if (timeout_ms > 0) {
            uint64_t now = shmkit__monotonic_ns();
            if (deadline == 0)
                deadline = now + (uint64_t)timeout_ms * 1000000u;
            if (now >= deadline)
                return shmkit__wait_failure(-ETIMEDOUT, "new version");
            left = (int)((deadline - now + 999999u) / 1000000u);
        }
        if (timeout_ms == 0)
            return shmkit__wait_failure(-EAGAIN, "new version");
        shmkit__clear_detail();
        /* In slices, so that a segment that shrank is noticed without a
         * publication; the deadline is checked above. */
        rc = shmkit__wait_changed(&slot->ws, SK_WAIT_IDX_DATA, word, seen,
                                  rw != NULL ? &rw->waiters : NULL, sk_idle_slice(left),
                                  shmkit__wait_mode_get());
        if (rc < 0 && rc != -ETIMEDOUT)
            return shmkit__wait_failure(rc, "new version");
        if (rc == 0)
            prefetch_record(slot, word);
        if ((rc = shmkit__seg_verdict(&slot->h.seg, 0)) < 0)
            return rc;
    }
}

SHMKIT_API int shmkit_slot_is_current(const shmkit_slot *slot)
{
    shmkit__clear_detail();
    if (slot == NULL)
        return shmkit__fail(-EINVAL, "slot handle is NULL");
    return shmkit__seg_is_current(&slot->h.seg);
}

SHMKIT_API int shmkit_slot_version(shmkit_slot *slot, uint64_t *version)
{
    uint64_t v;
    int rc;

    if (slot == NULL)
        return shmkit__null_arg("slot");
    if (version == NULL)
        return shmkit__null_arg("version");
    rc = shmkit__seg_verdict(&slot->h.seg, read_consistent(slot, NULL, &v));
    if (rc == 0)
        *version = v;
    return rc;
}

SHMKIT_API size_t shmkit_slot_record_size(const shmkit_slot *slot)
{
    if (slot == NULL) {
        shmkit__null_arg("slot");
        return 0;
    }
    return slot->record_size;
}

SHMKIT_API const shmkit_layout *shmkit_slot_layout(const shmkit_slot *slot)
{
    if (slot == NULL) {
        shmkit__null_arg("slot");
        return NULL;
    }
    return slot->layout;
}

/* For shmkit_info(): the version of a validated slot mapping. */
int shmkit__slot_peek_version(void *base, const struct sk_header_view *view, uint64_t *version)
{
    shmkit_slot slot;

    memset(&slot, 0, sizeof slot);
    slot.h.seg.base = base;
    slot.h.view = *view;
    set_geometry(&slot, base, view);
    return read_consistent(&slot, NULL, version);
}
