/*
 * handle.c - opening and creating slot and ring handles (handle.h).
 *
 * Creation publishes a complete header last (shmkit__header_publish), so an
 * opener sees either no segment, a half-created one (which it waits for
 * a bounded time, header.c) or a whole one.  A creator that finds the
 * segment already there opens it instead, unless SHMKIT_EXCL, and then
 * insists that it has the format it would have created.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "handle.h"
#include "hooks.h"
#include "wait.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

int shmkit__handle_map(struct sk_handle *handle, const struct sk_spec *spec, int access)
{
    const struct sk_kind *kind = handle->kind;
    int rc = shmkit__seg_open(&handle->seg, spec, access, SK_HEADER_SIZE);

    if (rc == 0)
        rc = shmkit__seg_verdict(&handle->seg,
                                 shmkit__header_validate(handle->seg.base, handle->seg.size,
                                                         &handle->view));
    if (rc < 0)
        return rc;
    if (handle->view.kind != kind->kind)
        return shmkit__fail(SHMKIT_EKIND, "segment is a %s, not a %s",
                            handle->view.kind == SHMKIT_KIND_SLOT ? "slot" : "ring", kind->name);
    return kind->attach(handle);
}

int shmkit__handle_lease(struct sk_handle *handle, enum sk_lease_role role, uint32_t index)
{
    int rc = shmkit__lease_acquire(&handle->seg, role, index);

    if (rc == 0) {
        handle->leases |= 1u << role;
        if (role == SK_LEASE_CONSUMER)
            handle->consumer_index = index;
    }
    return rc;
}

void shmkit__handle_close(struct sk_handle *handle)
{
    /* A child closing a handle inherited through fork() neither releases
     * the parent's lease nor removes the parent's owned segment. */
    if (!sk_same_process(handle->fork_gen))
        handle->seg.created_by = 0;
    else if (handle->leases & (1u << SK_LEASE_WRITER))
        shmkit__lease_release(&handle->seg, SK_LEASE_WRITER, 0);
    else if (handle->leases & (1u << SK_LEASE_CONSUMER))
        shmkit__lease_release(&handle->seg, SK_LEASE_CONSUMER, handle->consumer_index);
    shmkit__seg_close(&handle->seg);
    if (handle->kind->detach != NULL)
        handle->kind->detach(handle);
    free(handle);
}

/* A zeroed handle of KIND, stamped with this process's fork generation. */
static int new_handle(const struct sk_kind *kind, struct sk_handle **out)
{
    struct sk_handle *handle = calloc(1, kind->handle_size);
    int rc;

    *out = NULL;
    if (handle == NULL)
        return shmkit__fail(-ENOMEM, "cannot allocate a %s handle", kind->name);
    handle->kind = kind;
    rc = shmkit__holder_stamp(&handle->fork_gen);
    if (rc < 0) {
        free(handle);
        return rc;
    }
    *out = handle;
    return 0;
}

/* Store HANDLE in the caller's pointer at HANDLEP, a shmkit_slot ** or
 * shmkit_ring **.  All pointers to structures have the same
 * representation (C11 6.2.5), and HANDLE, the first member of the kind's
 * handle, has its address. */
static void store(void *handlep, struct sk_handle *handle)
{
    memcpy(handlep, &handle, sizeof handle);
}

/* The start of every *_open and *_create: no stale detail, and no stale
 * handle for the caller. */
static int start_call(const struct sk_kind *kind, void *handlep)
{
    shmkit__clear_detail();
    if (handlep == NULL)
        return shmkit__null_arg(kind->handlep_name);
    store(handlep, NULL);
    return 0;
}

/* Store HANDLE in HANDLEP if RC says it is ready, or close it. */
static int hand_over(struct sk_handle *handle, void *handlep, int rc)
{
    if (rc < 0) {
        shmkit__handle_close(handle);
        return rc;
    }
    store(handlep, handle);
    return 0;
}

int shmkit__handle_open(const struct sk_kind *kind, void *handlep, const char *spec_text,
                        unsigned flags)
{
    struct sk_handle *handle = NULL;
    struct sk_spec spec;
    int rc = start_call(kind, handlep);

    if (rc == 0)
        rc = shmkit__check_flags(flags, kind->open_flags, kind->open_call);
    if (rc == 0 && kind->check_open_flags != NULL)
        rc = kind->check_open_flags(flags);
    if (rc == 0)
        rc = shmkit__spec_parse(spec_text, &spec);
    if (rc == 0)
        rc = new_handle(kind, &handle);
    if (rc < 0)
        return rc;
    rc = shmkit__seg_verdict(&handle->seg, kind->open(handle, &spec, flags));
    return hand_over(handle, handlep, rc);
}

/* Create SPEC as planned, with permission bits MODE, as its writer. */
static int create_new(struct sk_handle *handle, const struct sk_spec *spec,
                      struct sk_header_params *p, unsigned mode)
{
    struct sk_waitset ws;
    int rc = shmkit__seg_create(&handle->seg, spec, (size_t)p->total_size, mode);

    if (rc < 0)
        return rc;
    shmkit__waitset_create(&ws, mode);
    p->wait_mech = ws.mech;
    p->wait_semid = ws.semid;
    shmkit__header_init(handle->seg.base, p);
    if (shmkit__hook("creator-dies-before-publish"))
        raise(SIGKILL); /* test builds: a creator killed half-way */
    shmkit__header_publish(handle->seg.base);
    rc = shmkit__header_validate(handle->seg.base, handle->seg.size, &handle->view);
    if (rc == 0)
        rc = handle->kind->attach(handle);
    if (rc == 0)
        rc = handle->kind->become_writer(handle);
    if (rc < 0) {
        shmkit__waitset_destroy(&ws);
        shmkit__seg_remove(spec);
    }
    return rc;
}

/* The segment a creator found in its way, if it is what it would have
 * made: HANDLE starts afresh (only its fork stamp is kept). */
static int open_match(struct sk_handle *handle, const struct sk_spec *spec,
                      const struct sk_header_params *planned, unsigned flags)
{
    const struct sk_kind *kind = handle->kind;
    uint32_t gen = handle->fork_gen;
    int rc;

    memset(handle, 0, kind->handle_size);
    handle->kind = kind;
    handle->fork_gen = gen;
    shmkit__clear_detail();
    rc = shmkit__handle_map(handle, spec, SK_SEG_WRITE | SK_SEG_OWNER_FLAG(flags));
    if (rc == 0)
        rc = kind->match(handle, planned);
    if (rc == 0)
        rc = kind->become_writer(handle);
    return rc;
}

int shmkit__handle_create(const struct sk_kind *kind, void *handlep, const char *spec_text,
                          const void *args, unsigned mode, unsigned flags)
{
    struct sk_create_plan plan;
    struct sk_handle *handle = NULL;
    struct sk_spec spec;
    int rc = start_call(kind, handlep);

    if (rc < 0)
        return rc;
    if (mode > 0777)
        return shmkit__fail(-EINVAL, "mode %o has bits outside 0777", mode);
    memset(&plan, 0, sizeof plan);
    plan.params.layout = plan.layout;
    if ((rc = shmkit__check_flags(flags, SK_CREATE_FLAGS, kind->create_call)) < 0 ||
        (rc = shmkit__spec_parse(spec_text, &spec)) < 0 || (rc = kind->plan(args, &plan)) < 0 ||
        (rc = new_handle(kind, &handle)) < 0)
        return rc;
    plan.params.header_flags |= SK_HFLAG_OWNED_IF(flags);
    plan.params.payload_offset =
        SK_HEADER_SIZE + (uint64_t)plan.params.consumers * SK_CONSUMER_SIZE;
    plan.params.total_size = plan.params.payload_offset + plan.params.payload_size;
    rc = create_new(handle, &spec, &plan.params, mode != 0 ? mode : 0600);
    if (rc == -EEXIST && !(flags & SHMKIT_EXCL))
        rc = open_match(handle, &spec, &plan.params, flags);
    return hand_over(handle, handlep, shmkit__seg_verdict(&handle->seg, rc));
}
