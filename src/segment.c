/*
 * segment.c - backend-independent segment operations.
 *
 * A segment is a named piece of shared memory, mapped whole.  This file
 * only dispatches to the POSIX (seg_posix.c) or System V (seg_sysv.c)
 * backend; the backends own every system call.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

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
    seg->waiter_fd = -1;
}

int sk_seg_create(struct sk_seg *seg, const struct sk_spec *spec, size_t size,
                  unsigned mode)
{
    seg_init(seg, spec);
    switch (spec->backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_create(seg, size, mode);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_create(seg, size, mode);
#endif
    default: return no_backend(spec);
    }
}

int sk_seg_open(struct sk_seg *seg, const struct sk_spec *spec, int access,
                size_t min_size)
{
    seg_init(seg, spec);
    switch (spec->backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return sk_posix_open(seg, access, min_size);
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return sk_sysv_open(seg, access, min_size);
#endif
    default: return no_backend(spec);
    }
}

void sk_seg_close(struct sk_seg *seg)
{
    if (seg->base == NULL)
        return;
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
    return seg->rw_header;
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
