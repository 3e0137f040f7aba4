/*
 * info.c - whole-segment operations: describe, remove; library version.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "copy.h"
#include "error.h"
#include "format.h"
#include "header.h"
#include "ring.h"
#include "slot.h"
#include "lease.h"
#include "segment.h"
#include "shmkit.h"
#include "spec.h"
#include "wait.h"

SHMKIT_API const char *shmkit_version(void)
{
    return SHMKIT_VERSION_STRING;
}

SHMKIT_API unsigned shmkit_version_number(void)
{
    return SHMKIT_VERSION_NUMBER;
}

/* The pid and liveness of ROLE's lease holder (a consumer's: of entry
 * INDEX), in any PID namespace. */
static void describe_lease(struct sk_seg *seg, enum sk_lease_role role, uint32_t index, long *pid,
                           int *alive, unsigned other_bit, struct shmkit_info *info)
{
    struct sk_holder_info holder;

    shmkit__lease_describe(seg, role, index, &holder);
    *pid = holder.pid;
    *alive = holder.alive;
    if (holder.pid != 0 && holder.other_pidns)
        info->other_pidns |= other_bit;
}

static void describe_creator(struct sk_seg *seg, int owned_or_half, struct shmkit_info *info)
{
    struct sk_holder_info creator;

    shmkit__creator_describe(seg, owned_or_half, &creator);
    info->creator_pid = creator.pid;
    info->creator_alive = creator.alive;
    if (creator.pid != 0 && creator.other_pidns)
        info->other_pidns |= SHMKIT_INFO_CREATOR_OTHER_PIDNS;
}

/* The consumer entry shmkit_info describes: the first with a live lease
 * holder, else the first with any holder, else entry 0. */
static uint32_t first_held_consumer(struct sk_seg *seg, const struct sk_header_view *view)
{
    uint32_t i, held = view->consumers;

    for (i = 0; i < view->consumers; i++) {
        struct sk_holder_info holder;

        if (sk_load(&sk_consumer_entry(seg->base, i)->pid, SK_RELAXED) == 0)
            continue;
        shmkit__lease_describe(seg, SK_LEASE_CONSUMER, i, &holder);
        if (holder.alive == 1)
            return i;
        if (held == view->consumers)
            held = i;
    }
    return held < view->consumers ? held : 0;
}

static int describe(struct sk_seg *seg, struct shmkit_info *info)
{
    struct sk_header_view view;
    int rc = shmkit__header_validate(seg->base, seg->size, &view);

    if (rc < 0)
        return rc;
    info->kind = view.kind;
    info->format_major = view.format_major;
    info->format_minor = view.format_minor;
    info->total_size = view.total_size;
    info->payload_size = view.payload_size;
    info->record_size = view.record_size;
    memcpy(info->layout, view.layout, sizeof info->layout);
    info->created_sec = view.created_sec;
    info->owned = (view.header_flags & SK_HFLAG_OWNED) != 0;
    info->ready = 1;
    describe_creator(seg, info->owned, info);
    describe_lease(seg, SK_LEASE_WRITER, 0, &info->writer_pid, &info->writer_alive,
                   SHMKIT_INFO_WRITER_OTHER_PIDNS, info);
    snprintf(info->wait_mechanism, sizeof info->wait_mechanism, "%s",
             shmkit__wait_mechanism_name(view.wait_mech));
    if (view.kind == SHMKIT_KIND_RING) {
        shmkit__ring_describe(seg->base, &view, info);
        if (info->ring_policy == SHMKIT_RING_BLOCK)
            describe_lease(seg, SK_LEASE_CONSUMER, first_held_consumer(seg, &view),
                           &info->consumer_pid, &info->consumer_alive,
                           SHMKIT_INFO_CONSUMER_OTHER_PIDNS, info);
        return 0;
    }
    return shmkit__slot_peek_version(seg->base, &view, &info->version);
}

/* A header that never became READY: who was creating it, as far as the
 * creator got (shmkit__seg_create writes the magic and the creator first).
 * Untrusted: only used to ask whether that process is alive; a pid of 0
 * (nothing written, or not ours) means unknown. */
static void describe_half_created(struct sk_seg *seg, struct shmkit_info *info)
{
    struct sk_header h;

    shmkit__racy_copy(&h, seg->base, offsetof(struct sk_header, checksum));
    if (memcmp(h.magic, SK_MAGIC, SK_MAGIC_LEN) != 0 || h.creator_pid == 0) {
        info->creator_alive = -1;
        return;
    }
    describe_creator(seg, 1, info);
}

/* The largest structure a caller may pass: far more than struct
 * shmkit_info will ever need, and a guard against a size that is no
 * sizeof at all. */
#define SK_INFO_SIZE_MAX 4096

/* INFO_SIZE, the caller's sizeof(struct shmkit_info): this is the first
 * version of the structure, so anything smaller cannot be one.  A later
 * library keeps accepting this size and fills only its fields. */
static int check_info_size(size_t info_size)
{
    if (info_size < sizeof(struct shmkit_info))
        return shmkit__fail(-EINVAL,
                            "info_size %zu is smaller than struct shmkit_info (%zu bytes): "
                            "pass sizeof(struct shmkit_info)", info_size,
                            sizeof(struct shmkit_info));
    if (info_size > SK_INFO_SIZE_MAX)
        return shmkit__fail(-EINVAL, "info_size %zu is not the size of a struct shmkit_info",
                            info_size);
    return 0;
}

SHMKIT_API int shmkit_info(const char *spec_text, struct shmkit_info *info, size_t info_size)
{
    struct sk_spec spec;
    struct shmkit__seg_stat st;
    struct sk_seg seg;
    int rc;

    shmkit__clear_detail();
    if (info == NULL)
        return shmkit__null_arg("info");
    if ((rc = check_info_size(info_size)) < 0)
        return rc;
    memset(info, 0, info_size);
    if ((rc = shmkit__spec_parse(spec_text, &spec)) < 0 || (rc = shmkit__seg_stat(&spec, &st)) < 0)
        return rc;
    info->backend = spec.backend;
    info->owner_uid = st.uid;
    info->mode = st.mode;
    info->attach_count = st.nattch;
    info->total_size = st.size;
    /* Inspection only, for any owner: owner_uid tells the caller whose it is. */
    rc = shmkit__seg_open(&seg, &spec, SK_SEG_READ | SK_SEG_ANY_OWNER, SK_HEADER_SIZE);
    if (rc < 0)
        return rc;
    rc = shmkit__seg_verdict(&seg, describe(&seg, info));
    if (rc == SHMKIT_EHALFCREATED)
        describe_half_created(&seg, info);
    shmkit__seg_close(&seg);
    return rc;
}

/* The consumer entries of a validated mapping, as shmkit_info_consumers. */
static int describe_consumers(struct sk_seg *seg, struct shmkit_consumer *out, size_t count)
{
    struct sk_header_view view;
    uint32_t i;
    int rc = shmkit__header_validate(seg->base, seg->size, &view);

    if (rc < 0)
        return rc;
    if (view.kind != SHMKIT_KIND_RING || view.consumers == 0)
        return shmkit__fail(SHMKIT_EKIND, "only block rings have consumers");
    for (i = 0; i < view.consumers && i < count; i++)
        shmkit__ring_describe_consumer(seg, &view, i, &out[i]);
    return (int)view.consumers;
}

SHMKIT_API int shmkit_info_consumers(const char *spec_text, struct shmkit_consumer *out,
                                     size_t count, size_t entry_size)
{
    struct sk_spec spec;
    struct sk_seg seg;
    int rc;

    shmkit__clear_detail();
    if (out == NULL && count != 0)
        return shmkit__null_arg("out");
    if (entry_size != sizeof(struct shmkit_consumer))
        return shmkit__fail(-EINVAL, "entry_size %zu is not sizeof(struct shmkit_consumer) (%zu)",
                            entry_size, sizeof(struct shmkit_consumer));
    if (count > 0)
        memset(out, 0, count * sizeof *out);
    if ((rc = shmkit__spec_parse(spec_text, &spec)) < 0)
        return rc;
    rc = shmkit__seg_open(&seg, &spec, SK_SEG_READ | SK_SEG_ANY_OWNER, SK_HEADER_SIZE);
    if (rc < 0)
        return rc;
    rc = shmkit__seg_verdict(&seg, describe_consumers(&seg, out, count));
    shmkit__seg_close(&seg);
    return rc;
}

SHMKIT_API int shmkit_unlink(const char *spec_text)
{
    struct sk_spec spec;
    int rc;

    shmkit__clear_detail();
    rc = shmkit__spec_parse(spec_text, &spec);
    if (rc < 0)
        return rc;
    return shmkit__remove_segment(&spec);
}
