/*
 * segment.c - backend-independent segment operations.
 *
 * A segment is a named piece of shared memory, mapped whole.  This file
 * dispatches to the backend of a spec (backend.h: seg_posix.c,
 * seg_sysv.c, the ones that were built), which owns every system call and
 * reports what it finds.  It holds the rules that are the same for every
 * backend:
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
 *   - removal: a segment goes with the wait resources its header names
 *     (a System V semaphore set), whoever removes it.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "fault.h"
#include "header.h"
#include "segment.h"
#include "wait.h"

/* The backends this build has. */
static const struct sk_backend_ops *const backends[] = {
#ifdef SHMKIT_HAVE_POSIX
    &shmkit__posix_backend,
#endif
#ifdef SHMKIT_HAVE_SYSV
    &shmkit__sysv_backend,
#endif
    NULL
};

static const struct sk_backend_ops *backend_of(const struct sk_spec *spec)
{
    size_t i;

    for (i = 0; backends[i] != NULL; i++)
        if (backends[i]->backend == spec->backend)
            return backends[i];
    return NULL;
}

/* The backend of SEG (for an open one, seg_init checked that it exists). */
static const struct sk_backend_ops *ops_of(const struct sk_seg *seg)
{
    return backend_of(&seg->spec);
}

static int no_backend(void)
{
    return shmkit__fail(SHMKIT_ENOBACKEND, "backend not built");
}

/* SEG, closed, for SPEC; 0, or SHMKIT_ENOBACKEND. */
static int seg_init(struct sk_seg *seg, const struct sk_spec *spec)
{
    memset(seg, 0, sizeof *seg);
    seg->spec = *spec;
    seg->shmid = -1;
    seg->lock_fd = -1;
    return backend_of(spec) != NULL ? 0 : no_backend();
}

/* Record UID as SEG's owner; SHMKIT_EOWNER unless it is our effective uid
 * or ACCESS includes SK_SEG_ANY_OWNER. */
static int check_owner(struct sk_seg *seg, int access, long uid)
{
    long me = (long)geteuid();

    seg->owner_uid = uid;
    if (uid == me || (access & SK_SEG_ANY_OWNER))
        return 0;
    return shmkit__fail(SHMKIT_EOWNER, "owned by uid %ld, this process runs as uid %ld; "
                        "allow with SHMKIT_ANY_OWNER or --any-owner", uid, me);
}

/* The first thing written into a new segment: the magic and who is
 * creating it (shmkit__header_stamp_creator).  Where the backend has lease
 * locks, the creator's lock is taken first and held as long as the
 * creating handle: it says "the creator lives" in any namespace. */
static void stamp_creator(struct sk_seg *seg)
{
    seg->created_by = (long)getpid();
    if (seg->size < SK_HEADER_SIZE)
        return;
    (void)shmkit__seg_lock(seg, SK_LOCK_CREATOR); /* a new object: nobody else holds it */
    shmkit__header_stamp_creator(seg->base, seg->size);
}

static int out_of_registry(void)
{
    return shmkit__fail(-ENOMEM, "out of memory for the registry of mappings");
}

/* Watch SEG's new mapping before anything touches it: the object may
 * have shrunk since its size was checked. */
static int watch_mapping(struct sk_seg *seg)
{
    if (!ops_of(seg)->can_shrink)
        return 0;
    seg->watch = shmkit__fault_watch(seg->base, seg->size, seg->writable);
    return seg->watch != NULL ? 0 : out_of_registry();
}

static void close_mapping(struct sk_seg *seg)
{
    shmkit__fault_unwatch(seg->watch);
    shmkit__fault_unwatch(seg->watch_rw);
    seg->watch = seg->watch_rw = NULL;
    ops_of(seg)->close(seg);
    seg->base = NULL;
    seg->size = 0;
    seg->rw_header = NULL;
    seg->rw_size = 0;
}

int shmkit__seg_verdict(const struct sk_seg *seg, int rc)
{
    if (seg->watch != NULL)
        shmkit__fault_probe(seg->base, seg->size);
    return sk_seg_truncated(seg) ? shmkit__fail(SHMKIT_ECORRUPT, "segment truncated") : rc;
}

int shmkit__seg_create(struct sk_seg *seg, const struct sk_spec *spec, size_t size,
                       unsigned mode)
{
    int rc = seg_init(seg, spec);

    if (rc == 0)
        rc = ops_of(seg)->create(seg, size, mode);
    if (rc == 0 && (rc = watch_mapping(seg)) < 0) {
        close_mapping(seg);
        shmkit__seg_remove(spec);
    }
    if (rc == 0)
        stamp_creator(seg);
    return rc;
}

/* Look the object up, apply the owner rule to what the backend found
 * (before anything of it is mapped: a System V segment's shm_nattch does
 * not even change), then map it. */
static int open_object(struct sk_seg *seg, int access, size_t min_size)
{
    const struct sk_backend_ops *ops = ops_of(seg);
    int mode = access & SK_SEG_ACCESS_MASK;
    struct sk_seg_found found;
    int rc = ops->find(seg, mode, &found);

    if (rc < 0)
        return rc;
    if ((rc = check_owner(seg, access, found.uid)) < 0) {
        ops->forget(&found);
        return rc;
    }
    return ops->map(seg, mode, &found, min_size);
}

int shmkit__seg_open(struct sk_seg *seg, const struct sk_spec *spec, int access,
                     size_t min_size)
{
    int rc = seg_init(seg, spec);

    if (rc == 0)
        rc = open_object(seg, access, min_size);
    if (rc == 0 && (rc = watch_mapping(seg)) < 0)
        close_mapping(seg);
    return rc;
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
    if (shmkit__header_says_owned(seg->base, seg->size) && ops_of(seg)->is_same(seg))
        shmkit__remove_segment(&seg->spec);
    shmkit__fail(0, "%s", detail);
}

void shmkit__seg_close(struct sk_seg *seg)
{
    if (seg->base == NULL)
        return;
    remove_if_owned(seg);
    close_mapping(seg);
}

/* Watch the waiter's second mapping of an object that can shrink like the
 * first; if that is impossible, give it up (the waiter then polls). */
static void watch_waiter_view(struct sk_seg *seg)
{
    if (!ops_of(seg)->can_shrink || seg->rw_size == 0)
        return;
    seg->watch_rw = shmkit__fault_watch(seg->rw_header, seg->rw_size, 1);
    if (seg->watch_rw == NULL) {
        munmap(seg->rw_header, seg->rw_size);
        seg->rw_header = NULL;
        seg->rw_size = 0;
    }
}

void *shmkit__seg_waiter_view(struct sk_seg *seg)
{
    if (seg->rw_header != NULL || seg->waiter_tried || seg->base == NULL)
        return seg->rw_header;
    seg->waiter_tried = 1;
    ops_of(seg)->waiter_view(seg);
    watch_waiter_view(seg);
    return seg->rw_header;
}

int shmkit__seg_is_current(const struct sk_seg *seg)
{
    if (seg->base == NULL)
        return shmkit__fail(-EBADF, "handle not open");
    return ops_of(seg)->is_current(seg);
}

int shmkit__seg_remove(const struct sk_spec *spec)
{
    const struct sk_backend_ops *ops = backend_of(spec);

    return ops != NULL ? ops->remove(spec) : no_backend();
}

int shmkit__seg_stat(const struct sk_spec *spec, struct shmkit__seg_stat *st)
{
    const struct sk_backend_ops *ops = backend_of(spec);

    memset(st, 0, sizeof *st);
    st->nattch = -1;
    return ops != NULL ? ops->stat(spec, st) : no_backend();
}

int shmkit__seg_wait_semid(const struct sk_spec *spec)
{
    struct sk_seg seg;
    int mech, semid = -1;

    if (shmkit__seg_open(&seg, spec, SK_SEG_READ | SK_SEG_ANY_OWNER, SK_HEADER_SIZE) < 0)
        return -1;
    if (shmkit__header_wait_fields(seg.base, seg.size, &mech, &semid) != 0 ||
        mech != SK_MECH_SYSV_SEM)
        semid = -1;
    shmkit__seg_close(&seg);
    return semid < 0 ? -1 : semid;
}

/* A shmkit segment may own wait resources outside shared memory (a System
 * V semaphore set): free them with the segment, even if the segment is
 * damaged, as long as its header is a checksummed shmkit header (the set
 * itself is checked by shmkit__waitset_attach before it is touched).
 * Only a set created by the segment's owner is removed: a header is
 * writable by whoever may write the segment, and must not get the
 * remover (root running "shmkit rm --stale", say) to remove some other
 * set of its own (doc/SECURITY.md). */
static void destroy_wait_resources(const struct sk_spec *spec)
{
    struct shmkit__seg_stat st;
    struct sk_waitset ws;
    int semid;

    if (shmkit__seg_stat(spec, &st) < 0 || (semid = shmkit__seg_wait_semid(spec)) < 0)
        return;
    shmkit__waitset_attach(&ws, SK_MECH_SYSV_SEM, semid);
    shmkit__waitset_destroy_owned(&ws, st.uid);
}

int shmkit__remove_segment(const struct sk_spec *spec)
{
    char detail[256];

    /* Looking at the header may record a detail of its own: keep ours. */
    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    destroy_wait_resources(spec);
    shmkit__fail(0, "%s", detail);
    return shmkit__seg_remove(spec);
}

/* The lease locks and the attachment count are asked of segments made by
 * hand too (the unit tests): a backend that is not built has none. */
int shmkit__seg_lock(struct sk_seg *seg, unsigned lock)
{
    const struct sk_backend_ops *ops = ops_of(seg);

    return ops != NULL && ops->lock != NULL ? ops->lock(seg, lock) : 1;
}

void shmkit__seg_unlock(struct sk_seg *seg, unsigned lock)
{
    const struct sk_backend_ops *ops = ops_of(seg);

    if (ops != NULL && ops->unlock != NULL)
        ops->unlock(seg, lock);
}

int shmkit__seg_lock_probe(struct sk_seg *seg, unsigned lock)
{
    const struct sk_backend_ops *ops = ops_of(seg);

    return ops != NULL && ops->lock_probe != NULL ? ops->lock_probe(seg, lock) : SK_LOCK_NONE;
}

long shmkit__seg_nattch(const struct sk_seg *seg)
{
    const struct sk_backend_ops *ops = ops_of(seg);

    return ops != NULL && ops->nattch != NULL ? ops->nattch(seg) : -1;
}
