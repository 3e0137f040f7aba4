/*
 * lease.h - the writer's and the consumer's leases of a segment, and
 * what an observer knows of their holders and of the creator (lease.c).
 * Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_LEASE_H
#define SHMKIT_LEASE_H

#include <stdint.h>

#include "backend.h"

/* The leases of a segment. */
enum sk_lease_role { SK_LEASE_WRITER, SK_LEASE_CONSUMER };

/* Take ROLE's lease of SEG (mapped writable) for this process (a
 * consumer's: that of entry INDEX, which the caller checked; the writer
 * ignores INDEX): 0 on
 * success, SHMKIT_EBUSY (detail names the holder) if a live process holds
 * it.  A dead holder's lease is taken over, in any PID namespace where
 * the system can tell (lease.c). */
int shmkit__lease_acquire(struct sk_seg *seg, enum sk_lease_role role, uint32_t index);
void shmkit__lease_release(struct sk_seg *seg, enum sk_lease_role role, uint32_t index);

/* What an observer knows of a lease holder or of the creator. */
struct sk_holder_info {
    long pid;        /* as recorded (in the holder's namespace), 0 none */
    int alive;       /* 1 alive, 0 dead, -1 unknown or none */
    int other_pidns; /* 1 if the process is in another PID namespace */
};
void shmkit__lease_describe(struct sk_seg *seg, enum sk_lease_role role, uint32_t index,
                            struct sk_holder_info *out);
/* The creator recorded in SEG's header (untrusted, as far as the creator
 * got); OWNED_OR_HALF: the segment is owned by its creator or not yet
 * complete, so that the creating handle's end is the creator's end. */
void shmkit__creator_describe(struct sk_seg *seg, int owned_or_half, struct sk_holder_info *out);

#endif /* SHMKIT_LEASE_H */
