/*
 * segment.h - segments: mapping a named object through its backend, the
 * owner rule, owned segments' removal and the watch for shrinking
 * (segment.c).  Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_SEGMENT_H
#define SHMKIT_SEGMENT_H

#include <stddef.h>

#include "backend.h"
#include "fault.h"
#include "shmkit.h"
#include "spec.h"

/* Or'ed into the access mode (SK_SEG_READ, _WRITE, _WAITER of backend.h):
 * accept an object owned by another uid (SHMKIT_ANY_OWNER); without it
 * shmkit__seg_open fails with SHMKIT_EOWNER. */
#define SK_SEG_ANY_OWNER 0x10
#define SK_SEG_ACCESS_MASK 0x0f
/* The SK_SEG_ANY_OWNER bit for the public FLAGS of an *_open/_create. */
#define SK_SEG_OWNER_FLAG(flags) (((flags) & SHMKIT_ANY_OWNER) ? SK_SEG_ANY_OWNER : 0)

/* Create SPEC exclusively with SIZE bytes (reserved up front where the
 * system allows, so later writes cannot SIGBUS), permission bits MODE
 * applied exactly, and map it read-write.  -EEXIST if it exists.  On any
 * failure nothing is left behind.  The header's magic and creator are
 * written at once (shmkit__header_stamp_creator). */
int shmkit__seg_create(struct sk_seg *seg, const struct sk_spec *spec, size_t size,
                       unsigned mode);
/* Map an existing segment with ACCESS (SK_SEG_*).  Its owner and size are
 * checked before mapping: fewer than MIN_SIZE bytes is SHMKIT_ENOTSHMKIT,
 * never SIGBUS. */
int shmkit__seg_open(struct sk_seg *seg, const struct sk_spec *spec, int access,
                     size_t min_size);
/* Unmap.  When the process that created the segment through SEG closes it
 * and its header says SK_HFLAG_OWNED, the segment is removed too. */
void shmkit__seg_close(struct sk_seg *seg);
/* The writable header view of a segment opened with SK_SEG_WAITER (made on
 * first use) or SK_SEG_WRITE; NULL if the caller may not write to it. */
void *shmkit__seg_waiter_view(struct sk_seg *seg);
/* 1 if SEG's spec still names the object SEG mapped; 0 if it was removed
 * or replaced (the detail says which); a negative code if that cannot be
 * told.  A system call or two: not for fast paths. */
int shmkit__seg_is_current(const struct sk_seg *seg);
/* Remove the object SPEC names (only that: see shmkit__remove_segment). */
int shmkit__seg_remove(const struct sk_spec *spec);
int shmkit__seg_stat(const struct sk_spec *spec, struct shmkit__seg_stat *st);
/* The id of the System V semaphore set that SPEC's header names (a
 * sysv-sem segment whose header is intact), or -1.  For removal, and for
 * the tests that take a segment away behind the library's back. */
int shmkit__seg_wait_semid(const struct sk_spec *spec);
/* Remove SPEC and the wait resources its header names (what
 * shmkit_unlink does, without clearing the error detail). */
int shmkit__remove_segment(const struct sk_spec *spec);

/* Lease locks on SEG (SK_LOCK_* bit LOCK): take it without waiting (0,
 * SHMKIT_EBUSY if another open file description holds it, 1 if this
 * segment has no lease locks, or another error); release it; and probe
 * it for another holder (SK_LOCK_FREE, SK_LOCK_HELD, SK_LOCK_NONE). */
int shmkit__seg_lock(struct sk_seg *seg, unsigned lock);
void shmkit__seg_unlock(struct sk_seg *seg, unsigned lock);
int shmkit__seg_lock_probe(struct sk_seg *seg, unsigned lock);
/* Attachments of SEG's object (System V shm_nattch), -1 where unknown. */
long shmkit__seg_nattch(const struct sk_seg *seg);

/* Non-zero once an access found that the object shrank under SEG's
 * mapping (fault.h): what was read from it since may be zeros.  No system
 * call: one atomic load. */
static inline int sk_seg_truncated(const struct sk_seg *seg)
{
    return sk_fault_truncated(seg->watch) || sk_fault_truncated(seg->watch_rw);
}
/* RC, or SHMKIT_ECORRUPT with the detail "segment truncated" if SEG's
 * object shrank under its mapping: whatever RC says may rest on zeros.
 * Called by every operation after it touched the mapping.  It also
 * touches the last byte of the mapping (one load, no system call): an
 * object cut in the middle of a page zeroes the rest of that page, which
 * never faults, so an operation may have read such zeros without a
 * fault, while the mapping's end faults for any cut before its last page. */
int shmkit__seg_verdict(const struct sk_seg *seg, int rc);
/* Whether a process may read SEG's object without being allowed to write
 * it: some class of its permission bits (owner, group, other) has read
 * and not write (0644, 0640, 0604; not 0600, 0660 or 0666).  Such a
 * reader cannot ask for wake-ups and follows the segment by sleeping on
 * its data words, which the writer then wakes by its gap clock (wait.c,
 * "Followers").  From the bits when the handle opened the object: a
 * chmod since is not seen (ACLs are not looked at either). */
static inline int sk_seg_has_followers(const struct sk_seg *seg)
{
    unsigned m = seg->mode;

    return (m & 0600u) == 0400u || (m & 0060u) == 0040u || (m & 0006u) == 0004u;
}

/* Waiters block at most this long at a time (sk_idle_slice), then ask
 * shmkit__seg_verdict: a segment can shrink without any publication that would
 * wake them. */
#define SK_IDLE_SLICE_MS 500
static inline int sk_idle_slice(int left_ms)
{
    return left_ms < 0 || left_ms > SK_IDLE_SLICE_MS ? SK_IDLE_SLICE_MS : left_ms;
}

#endif /* SHMKIT_SEGMENT_H */
