/*
 * info.c - whole-segment operations: describe, remove; library version.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"
#include "wait.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

SHMKIT_API const char *shmkit_version(void)
{
    return SHMKIT_VERSION_STRING;
}

SHMKIT_API unsigned shmkit_version_number(void)
{
    return SHMKIT_VERSION_NUMBER;
}

/* The pid and liveness of ROLE's lease holder, in any PID namespace. */
static void describe_lease(struct sk_seg *seg, enum sk_lease_role role, long *pid, int *alive,
                           unsigned other_bit, struct shmkit_info *info)
{
    struct sk_holder_info holder;

    sk_lease_describe(seg, role, &holder);
    *pid = holder.pid;
    *alive = holder.alive;
    if (holder.pid != 0 && holder.other_pidns)
        info->other_pidns |= other_bit;
}

static void describe_creator(struct sk_seg *seg, int owned_or_half, struct shmkit_info *info)
{
    struct sk_holder_info creator;

    sk_creator_describe(seg, owned_or_half, &creator);
    info->creator_pid = creator.pid;
    info->creator_alive = creator.alive;
    if (creator.pid != 0 && creator.other_pidns)
        info->other_pidns |= SHMKIT_INFO_CREATOR_OTHER_PIDNS;
}

static int describe(struct sk_seg *seg, struct shmkit_info *info)
{
    struct sk_header_view view;
    int rc = sk_header_validate(seg->base, seg->size, &view);

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
    describe_lease(seg, SK_LEASE_WRITER, &info->writer_pid, &info->writer_alive,
                   SHMKIT_INFO_WRITER_OTHER_PIDNS, info);
    snprintf(info->wait_mechanism, sizeof info->wait_mechanism, "%s",
             sk_wait_mechanism_name(view.wait_mech));
    if (view.kind == SHMKIT_KIND_RING) {
        sk_ring_describe(seg->base, &view, info);
        if (info->ring_policy == SHMKIT_RING_BLOCK)
            describe_lease(seg, SK_LEASE_CONSUMER, &info->consumer_pid, &info->consumer_alive,
                           SHMKIT_INFO_CONSUMER_OTHER_PIDNS, info);
        return 0;
    }
    return sk_slot_peek_version(seg->base, &view, &info->version);
}

/* A header that never became READY: who was creating it, as far as the
 * creator got (sk_seg_create writes the magic and the creator first).
 * Untrusted: only used to ask whether that process is alive; a pid of 0
 * (nothing written, or not ours) means unknown. */
static void describe_half_created(struct sk_seg *seg, struct shmkit_info *info)
{
    struct sk_header h;

    sk_racy_copy(&h, seg->base, offsetof(struct sk_header, checksum));
    if (memcmp(h.magic, SK_MAGIC, SK_MAGIC_LEN) != 0 || h.creator_pid == 0) {
        info->creator_alive = -1;
        return;
    }
    describe_creator(seg, 1, info);
}

SHMKIT_API int shmkit_info(const char *spec_text, struct shmkit_info *info)
{
    struct sk_spec spec;
    struct sk_seg_stat st;
    struct sk_seg seg;
    int rc;

    sk_clear_detail();
    if (info == NULL)
        return sk_null_arg("info");
    memset(info, 0, sizeof *info);
    if ((rc = sk_spec_parse(spec_text, &spec)) < 0 || (rc = sk_seg_stat(&spec, &st)) < 0)
        return rc;
    info->backend = spec.backend;
    info->owner_uid = st.uid;
    info->mode = st.mode;
    info->attach_count = st.nattch;
    info->total_size = st.size;
    /* Inspection only, for any owner: owner_uid tells the caller whose it is. */
    rc = sk_seg_open(&seg, &spec, SK_SEG_READ | SK_SEG_ANY_OWNER, SK_HEADER_SIZE);
    if (rc < 0)
        return rc;
    rc = sk_seg_verdict(&seg, describe(&seg, info));
    if (rc == SHMKIT_EHALFCREATED)
        describe_half_created(&seg, info);
    sk_seg_close(&seg);
    return rc;
}

/* A shmkit segment may own wait resources outside shared memory (a System
 * V semaphore set): free them with the segment, even if the segment is
 * damaged, as long as its header is a checksummed shmkit header (the set
 * itself is checked by sk_waitset_attach before it is touched). */
static void destroy_wait_resources(const struct sk_spec *spec)
{
    struct sk_seg_stat st;
    struct sk_waitset ws;
    struct sk_seg seg;
    int mech, semid;

    if (sk_seg_stat(spec, &st) < 0 ||
        sk_seg_open(&seg, spec, SK_SEG_READ | SK_SEG_ANY_OWNER, SK_HEADER_SIZE) < 0)
        return;
    if (sk_header_wait_fields(seg.base, seg.size, &mech, &semid) == 0 &&
        mech == SK_MECH_SYSV_SEM && semid >= 0) {
        sk_waitset_attach(&ws, mech, semid);
        sk_waitset_destroy_owned(&ws, st.uid);
    }
    sk_seg_close(&seg);
}

int sk_remove_segment(const struct sk_spec *spec)
{
    char detail[256];

    /* Looking at the header may record a detail of its own: keep ours. */
    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    destroy_wait_resources(spec);
    sk_fail(0, "%s", detail);
    return sk_seg_remove(spec);
}

SHMKIT_API int shmkit_unlink(const char *spec_text)
{
    struct sk_spec spec;
    int rc;

    sk_clear_detail();
    rc = sk_spec_parse(spec_text, &spec);
    if (rc < 0)
        return rc;
    return sk_remove_segment(&spec);
}
