/*
 * segstatus.h - what "shmkit ls" calls a segment, and what "shmkit rm
 * --stale" may remove: pure decisions on what shmkit_info() reported, kept
 * apart from the listing so that tests can check them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_SEGSTATUS_H
#define SHMKIT_SEGSTATUS_H

#include "shmkit.h"

enum seg_status {
    SEG_NONE = 0,     /* not judged: an error was reported instead */
    SEG_OK,           /* a complete shmkit segment */
    SEG_STALE,        /* owned, and its creator is dead */
    SEG_HALF_CREATED, /* shmkit's magic, never completed, creator dead */
    SEG_CREATING,     /* shmkit's magic, not completed yet, creator alive */
    SEG_INVALID,      /* shmkit's magic, but fails validation (corrupt,
                         other format version) */
    SEG_UNREADABLE,   /* we may not read it: cannot tell */
    SEG_FOREIGN       /* not a shmkit segment */
};

/* The status of a segment that shmkit_info() described with return code
 * RC (0 or negative) and INFO. */
enum seg_status seg_status_of(int rc, const struct shmkit_info *info);

/* The name "shmkit ls" prints for STATUS. */
const char *seg_status_name(enum seg_status status);

/* Non-zero if "shmkit ls" shows a segment of STATUS without -a: those
 * that are shmkit's. */
int seg_status_listed(enum seg_status status);

/* Non-zero if "shmkit rm --stale" may remove a segment of STATUS described
 * by INFO: a stale owned segment, or a half-created one, that nobody has
 * attached (where the system tells) and whose writer and consumer leases
 * (if any) are not held by a live process.  Never a persistent, foreign,
 * invalid or unreadable one. */
int seg_removable_stale(enum seg_status status, const struct shmkit_info *info);

/* ---- the consumer entries of a block ring ---- */

/* How "shmkit info" and "shmkit ls" name the state of consumer entry C:
 * "active" (held by a process that is alive, or may be), "left" (no live
 * holder: the ring keeps its messages for the next consumer), "vacant"
 * (not active, but a process still holds or held its lease); NULL for a
 * vacant entry that nobody holds, which they do not show. */
const char *seg_consumer_state(const struct shmkit_consumer *c);

/* How many of CONSUMERS[0 .. N - 1] a live process holds. */
unsigned seg_live_consumers(const struct shmkit_consumer *consumers, unsigned n);

/* Describe the consumer entries of the block ring SPEC: a new array in
 * *OUT (free it) of *N entries, and 0; or a negative error code, as
 * shmkit_info_consumers. */
int seg_read_consumers(const char *spec, struct shmkit_consumer **out, unsigned *n);

#endif /* SHMKIT_SEGSTATUS_H */
