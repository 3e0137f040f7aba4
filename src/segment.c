/*
 * segment.c - backend-independent segment operations.
 *
 * A segment is a named piece of shared memory, mapped whole.  This file
 * only dispatches to the POSIX (seg_posix.c) or System V (seg_sysv.c)
 * backend; the backends own every system call.  It also holds the two
 * rules that are the same for every backend:
 *   - ownership: an object owned by another uid is refused unless the
 *     caller allows it (SK_SEG_ANY_OWNER).  A reader that trusted whatever
 *     object has the name could be fed data by any local user who created
 *     it first; root is no exception, it is the most tempting target.
 *   - lifetime: a segment whose header says SK_HFLAG_OWNED is removed when
 *     the process that created it closes the creating handle.
 *   - shrinking: every mapping of an object that can shrink under it (a
 *     POSIX object, which anyone who may write it can ftruncate) is
 *     watched by fault.c from its mmap to its munmap, so that an access
 *     past the new end becomes "segment truncated" instead of SIGBUS.
 *     System V segments cannot change size (shmctl has no resize, shmget
 *     of an existing key never resizes it): they are not watched.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int no_backend(const struct sk_spec *spec)
{
    (void)spec;
    return sk_fail(SHMKIT_ENOBACKEND, "backend not built");
}

static void seg_init(struct sk_seg *seg, const struct sk_spec *spec)
{
    memset(seg, 0, sizeof *seg);
    seg->spec = *spec;
    seg->shmid = -1;
    seg->lock_fd = -1;
}

int sk_seg_check_owner(struct sk_seg *seg, int access, long uid)
{
    long me = (long)geteuid();

    seg->owner_uid = uid;
    if (uid == me || (access & SK_SEG_ANY_OWNER))
        return 0;
    return sk_fail(SHMKIT_EOWNER, "owned by uid %ld, this process runs as uid %ld; "
                   "allow with SHMKIT_ANY_OWNER or --any-owner", uid, me);
}

/* The first thing written into a new segment: the magic and who is
 * creating it, so that a creator killed before it published the header
 * leaves a segment recognisably shmkit's, half-created, with a creator
 * whose death can be checked ("shmkit rm --stale").  The creator writes
 * the same values again with the rest of the header.  Where the backend
 * has lease locks, the creator's lock is taken first and held as long as
 * the creating handle: it says "the creator lives" in any namespace. */
static void stamp_creator(struct sk_seg *seg)
{
    struct sk_header *h = seg->base;
    long pid = (long)getpid();

    seg->created_by = pid;
    if (seg->size < SK_HEADER_SIZE)
        return;
    (void)sk_seg_lock(seg, SK_LOCK_CREATOR); /* a new object: nobody else holds it */
    memcpy(h->magic, SK_MAGIC, SK_MAGIC_LEN);
    h->creator_pid = (uint32_t)pid;
    h->creator_start = sk_proc_start_time(pid);
    h->creator_pidns = sk_pidns_self();
}

/* SEG's object can shrink under a mapping: a POSIX object, except on
 * macOS, which allows one ftruncate per object (the one that sizes it). */
static int can_shrink(const struct sk_seg *seg)
{
#if defined(__APPLE__)
    (void)seg;
    return 0;
#else
    return seg->spec.backend == SHMKIT_BACKEND_POSIX;
#endif
}

static int out_of_registry(void)
{
    return sk_fail(-ENOMEM, "out of memory for the registry of mappings");
}

/* Watch SEG's new mapping before anything touches it: the object may
 * have shrunk since its size was checked. */
static int watch_mapping(struct sk_seg *seg)
{
    if (!can_shrink(seg))
        return 0;
    seg->watch = sk_fault_watch(seg->base, seg->size, seg->writable);
    return seg->watch != NULL ? 0 : out_of_registry();
}

static void close_mapping(struct sk_seg *seg)
{
    sk_fault_unwatch(seg->watch);
    sk_fault_unwatch(seg->watch_rw);
    seg->watch = seg->watch_rw = NULL;
    switch (seg->spec.backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: sk_posix_close(seg); break;
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: sk_sysv_close(seg); break;
#endif
    default: break;
    }
    seg->base = NULL;
    seg->size = 0;
    seg->rw_header = NULL;
    seg->rw_size = 0;
}

int sk_seg_verdict(const struct sk_seg *seg, int rc)
{
    if (seg->watch != NULL)
        sk_fault_probe(seg->base, seg->size);
    return sk_seg_truncated(seg) ? sk_fail(SHMKIT_ECORRUPT, "segment truncated") : rc;
}

static int create_object(struct sk_seg *seg, size_t size, unsigned mode)
{
    switch (seg->spec.backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_create(seg, size, mode);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_create(seg, size, mode);
#endif
    default: return no_backend(&seg->spec);
    }
}

int sk_seg_create(struct sk_seg *seg, const struct sk_spec *spec, size_t size,
                  unsigned mode)
{
    int rc;

    seg_init(seg, spec);
    rc = create_object(seg, size, mode);
    if (rc == 0 && (rc = watch_mapping(seg)) < 0) {
        close_mapping(seg);
        sk_seg_remove(spec);
    }
    if (rc == 0)
        stamp_creator(seg);
    return rc;
}

static int open_object(struct sk_seg *seg, int access, size_t min_size)
{
    switch (seg->spec.backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_open(seg, access, min_size);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_open(seg, access, min_size);
#endif
    default: return no_backend(&seg->spec);
    }
}

int sk_seg_open(struct sk_seg *seg, const struct sk_spec *spec, int access,
                size_t min_size)
{
    int rc;

    /* The backends see the access mode and call sk_seg_check_owner with
     * the whole of it; their own comparisons use the masked mode. */
    seg_init(seg, spec);
    rc = open_object(seg, access, min_size);
    if (rc == 0 && (rc = watch_mapping(seg)) < 0)
        close_mapping(seg);
    return rc;
}

/* The header of SEG is complete and says the segment is owned.  A header
 * still in creation (a creator that failed half-way removes the segment
 * itself) or a damaged one is not owned: keeping a segment is the safe
 * mistake. */
static int header_says_owned(const struct sk_seg *seg)
{
    const struct sk_header *h = seg->base;
    struct sk_header_view view;

    if (seg->size < SK_HEADER_SIZE || sk_load(&h->state, SK_ACQUIRE) != SK_STATE_READY)
        return 0;
    return sk_header_validate(seg->base, seg->size, &view) == 0 &&
           (view.header_flags & SK_HFLAG_OWNED) != 0;
}

static int still_same_object(const struct sk_seg *seg)
{
    switch (seg->spec.backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_is_same(seg);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_is_same(seg);
#endif
    default: return 0;
    }
}

/* The creator of an owned segment closes it: remove it (and its wait
 * resources), unless the name now belongs to another object, because
 * somebody removed ours and created a new one.  A fork()ed child closing
 * an inherited handle is not the creator. */
static void remove_if_owned(const struct sk_seg *seg)
{
    char detail[256];

    if (seg->created_by == 0 || seg->created_by != (long)getpid())
        return;
    /* A close must not replace the detail of the failure that led to it. */
    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    if (header_says_owned(seg) && still_same_object(seg))
        sk_remove_segment(&seg->spec);
    sk_fail(0, "%s", detail);
}

void sk_seg_close(struct sk_seg *seg)
{
    if (seg->base == NULL)
        return;
    remove_if_owned(seg);
    close_mapping(seg);
}

/* Watch the waiter's second mapping of a POSIX object like the first; if
 * that is impossible, give it up (the waiter then polls). */
static void watch_waiter_view(struct sk_seg *seg)
{
    if (!can_shrink(seg) || seg->rw_size == 0)
        return;
    seg->watch_rw = sk_fault_watch(seg->rw_header, seg->rw_size, 1);
    if (seg->watch_rw == NULL) {
        munmap(seg->rw_header, seg->rw_size);
        seg->rw_header = NULL;
        seg->rw_size = 0;
    }
}

void *sk_seg_waiter_view(struct sk_seg *seg)
{
    if (seg->rw_header != NULL || seg->waiter_tried || seg->base == NULL)
        return seg->rw_header;
    seg->waiter_tried = 1;
    switch (seg->spec.backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: sk_posix_waiter_view(seg); break;
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: sk_sysv_waiter_view(seg); break;
#endif
    default: break;
    }
    watch_waiter_view(seg);
    return seg->rw_header;
}

int sk_seg_is_current(const struct sk_seg *seg)
{
    if (seg->base == NULL)
        return sk_fail(-EBADF, "handle not open");
    switch (seg->spec.backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_is_current(seg);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_is_current(seg);
#endif
    default: return no_backend(&seg->spec);
    }
}

int sk_seg_remove(const struct sk_spec *spec)
{
    switch (spec->backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_remove(spec);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_remove(spec);
#endif
    default: return no_backend(spec);
    }
}

int sk_seg_stat(const struct sk_spec *spec, struct sk_seg_stat *st)
{
    memset(st, 0, sizeof *st);
    st->nattch = -1;
    switch (spec->backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_stat(spec, st);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_stat(spec, st);
#endif
    default: return no_backend(spec);
    }
}

int sk_seg_lock(struct sk_seg *seg, unsigned lock)
{
#ifdef SHMKIT_HAVE_POSIX
    if (seg->spec.backend == SHMKIT_BACKEND_POSIX)
        return sk_posix_lock(seg, lock);
#endif
    (void)seg;
    (void)lock;
    return 1;
}

void sk_seg_unlock(struct sk_seg *seg, unsigned lock)
{
#ifdef SHMKIT_HAVE_POSIX
    if (seg->spec.backend == SHMKIT_BACKEND_POSIX)
        sk_posix_unlock(seg, lock);
#endif
    (void)seg;
    (void)lock;
}

int sk_seg_lock_probe(struct sk_seg *seg, unsigned lock)
{
#ifdef SHMKIT_HAVE_POSIX
    if (seg->spec.backend == SHMKIT_BACKEND_POSIX)
        return sk_posix_lock_probe(seg, lock);
#endif
    (void)seg;
    (void)lock;
    return SK_LOCK_NONE;
}

long sk_seg_nattch(const struct sk_seg *seg)
{
#ifdef SHMKIT_HAVE_SYSV
    if (seg->spec.backend == SHMKIT_BACKEND_SYSV)
        return sk_sysv_nattch(seg);
#endif
    (void)seg;
    return -1;
}
