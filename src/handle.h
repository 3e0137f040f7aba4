/*
 * handle.h - what slot and ring handles share: opening a segment of the
 * right kind, creating one or opening a matching one, the leases a handle
 * holds and closing it (handle.c).
 *
 * A kind (slot.c, ring.c) embeds struct sk_handle as the first member of
 * its handle and describes itself with a struct sk_kind: the generic code
 * does the steps every kind takes in the same order, and calls the kind
 * for what only the kind knows.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_HANDLE_H
#define SHMKIT_HANDLE_H

#include "atomics.h"
#include "backend.h"
#include "copy.h"
#include "error.h"
#include "fault.h"
#include "format.h"
#include "header.h"
#include "holder.h"
#include "lease.h"
#include "proc.h"
#include "segment.h"
#include "shmkit.h"
#include "spec.h"

struct sk_kind;

/* The first member of every handle. */
struct sk_handle {
    struct sk_seg seg;
    struct sk_header_view view; /* validated private copy */
    const struct sk_kind *kind;
    uint32_t fork_gen;          /* shmkit__holder_stamp when opened */
    unsigned leases;            /* 1 << enum sk_lease_role, held by this handle */
    uint32_t consumer_index;    /* the consumer lease's entry, if held */
};

/* What a *_create asks for: the header of a new segment, which an
 * existing segment must match. */
struct sk_create_plan {
    struct sk_header_params params;
    char layout[SK_LAYOUT_AREA]; /* params.layout points here */
};

struct sk_kind {
    int kind;                  /* SHMKIT_KIND_* */
    const char *name;          /* "slot", for messages */
    size_t handle_size;        /* sizeof the kind's handle */
    const char *handlep_name;  /* the out-parameter, for shmkit__null_arg */
    const char *open_call, *create_call; /* for shmkit__check_flags */
    unsigned open_flags;       /* the flags *_open accepts */
    /* Optional: refuse combinations of FLAGS the mask cannot express. */
    int (*check_open_flags)(unsigned flags);
    /* The kind's view of a mapping whose header is validated and of
     * this kind: pointers into it, geometry, wait set. */
    int (*attach)(struct sk_handle *handle);
    /* Optional: free what attach allocated. */
    void (*detach)(struct sk_handle *handle);
    /* Map and set up an existing segment for an *_open with FLAGS,
     * taking the role FLAGS ask for (shmkit__handle_map does the mapping). */
    int (*open)(struct sk_handle *handle, const struct sk_spec *spec, unsigned flags);
    /* Check a *_create's ARGS and plan the header of the new segment
     * (kind, header flags, payload size, record size, capacity, layout). */
    int (*plan)(const void *args, struct sk_create_plan *plan);
    /* An existing segment a creator opened must have the planned format. */
    int (*match)(const struct sk_handle *handle, const struct sk_header_params *planned);
    /* Take the writer's role (a creator's handle is the writer). */
    int (*become_writer)(struct sk_handle *handle);
};

/* The whole of an *_open: check the arguments, map SPEC_TEXT, check its
 * kind, let KIND open it, and store the handle in HANDLEP, the address of
 * the caller's pointer to the kind's handle (shmkit_slot **), or NULL
 * there on failure. */
int shmkit__handle_open(const struct sk_kind *kind, void *handlep, const char *spec_text,
                        unsigned flags);
/* The whole of a *_create: check the arguments, plan the segment from
 * ARGS (kind->plan), create it, or (without SHMKIT_EXCL) open an existing
 * one that matches the plan, as the writer; store the handle in HANDLEP. */
int shmkit__handle_create(const struct sk_kind *kind, void *handlep, const char *spec_text,
                          const void *args, unsigned mode, unsigned flags);
/* Map SPEC with ACCESS (SK_SEG_*), validate its header, check that it is
 * of the handle's kind and attach the kind to it. */
int shmkit__handle_map(struct sk_handle *handle, const struct sk_spec *spec, int access);
/* Take ROLE's lease for the handle (a consumer's: that of entry INDEX),
 * which shmkit__handle_close gives back. */
int shmkit__handle_lease(struct sk_handle *handle, enum sk_lease_role role, uint32_t index);
/* Release the leases (unless the handle was inherited through fork()),
 * unmap and free. */
void shmkit__handle_close(struct sk_handle *handle);

#endif /* SHMKIT_HANDLE_H */
