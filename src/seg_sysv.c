/*
 * seg_sysv.c - the System V shared memory backend (shmget/shmat).
 *
 * The size is read with IPC_STAT before attaching, so a segment smaller
 * than a header is refused without ever being touched.  Readers attach with
 * SHM_RDONLY.  Removal (IPC_RMID) never relies on attaching afterwards:
 * Linux allows attaching a removed segment, the BSDs and macOS do not.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"

#ifdef SHMKIT_HAVE_SYSV

#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#if defined(__linux__)
#define SK_SHM_SYSCTL "kernel.shmmax / kernel.shmall / kernel.shmmni"
#else
#define SK_SHM_SYSCTL "kern.ipc.shmmax / kern.ipc.shmall / kern.ipc.shmmni"
#endif

/* Explain the errors that come from system limits, naming what to raise. */
static int shmget_failure(size_t size)
{
    int err = errno;

    switch (err) {
    case EINVAL:
        return sk_fail(-EINVAL, "shmget of %zu bytes: size outside the system limits (raise %s)",
                       size, SK_SHM_SYSCTL);
    case ENOSPC:
    case ENOMEM:
        return sk_fail(-err, "shmget of %zu bytes: %s (system limit reached; see %s)",
                       size, strerror(err), SK_SHM_SYSCTL);
    case EMFILE:
        return sk_fail(-err, "shmget: too many segments attached by this process");
    default:
        return sk_fail(sk_errno(), "shmget: %s", strerror(err));
    }
}

static int attach(struct sk_seg *seg, int shmid, size_t size, int writable)
{
    void *base = shmat(shmid, NULL, writable ? 0 : SHM_RDONLY);

    if (base == (void *)-1) {
        if (errno == EMFILE)
            return sk_fail(-EMFILE, "shmat: too many segments attached by this process "
                           "(kern.sysv.shmseg on macOS)");
        return sk_fail(sk_errno(), "shmat: %s", strerror(errno));
    }
    seg->base = base;
    seg->size = size;
    seg->writable = writable;
    seg->shmid = shmid;
    if (writable)
        seg->rw_header = base;
    return 0;
}

/* A waiter's writable view: a second attach of the same id (System V
 * cannot map part of a segment).  Optional: without it the reader waits
 * by polling. */
void sk_sysv_waiter_view(struct sk_seg *seg)
{
    void *p = shmat(seg->shmid, NULL, 0);

    if (p != (void *)-1) {
        seg->rw_header = p;
        seg->rw_size = seg->size;
    }
}

static int stat_id(int shmid, struct shmid_ds *ds)
{
    if (shmctl(shmid, IPC_STAT, ds) != 0)
        return sk_fail(sk_errno(), "shmctl(IPC_STAT): %s", strerror(errno));
    return 0;
}

int sk_sysv_create(struct sk_seg *seg, size_t size, unsigned mode)
{
    struct shmid_ds ds;
    int shmid, rc;

    /* System V modes are not filtered by the umask: MODE is exact. */
    shmid = shmget((key_t)seg->spec.sysv_key, size, IPC_CREAT | IPC_EXCL | (int)(mode & 0777));
    if (shmid < 0)
        return errno == EEXIST ? sk_fail(-EEXIST, "segment exists") : shmget_failure(size);
    rc = stat_id(shmid, &ds);
    if (rc == 0 && ds.shm_perm.uid != geteuid())
        rc = sk_fail(-EACCES, "new segment is owned by uid %ld, not us", (long)ds.shm_perm.uid);
    if (rc == 0)
        rc = attach(seg, shmid, size, 1);
    if (rc < 0)
        shmctl(shmid, IPC_RMID, NULL);
    return rc;
}

static int lookup(const struct sk_spec *spec, struct shmid_ds *ds)
{
    int shmid = shmget((key_t)spec->sysv_key, 0, 0);
    int rc;

    if (shmid < 0)
        return sk_fail(sk_errno(), "shmget: %s", strerror(errno));
    rc = stat_id(shmid, ds);
    return rc < 0 ? rc : shmid;
}

int sk_sysv_open(struct sk_seg *seg, int access, size_t min_size)
{
    struct shmid_ds ds;
    int shmid = lookup(&seg->spec, &ds);

    if (shmid < 0)
        return shmid;
    if ((size_t)ds.shm_segsz < min_size)
        return sk_fail(SHMKIT_ENOTSHMKIT, "segment of %zu bytes is smaller than a header",
                       (size_t)ds.shm_segsz);
    /* SK_SEG_WAITER: the id is kept, the writable view comes later. */
    return attach(seg, shmid, (size_t)ds.shm_segsz, access == SK_SEG_WRITE);
}

void sk_sysv_close(struct sk_seg *seg)
{
    if (seg->rw_size != 0)
        shmdt(seg->rw_header);
    shmdt(seg->base);
    seg->shmid = -1;
}

int sk_sysv_remove(const struct sk_spec *spec)
{
    int shmid = shmget((key_t)spec->sysv_key, 0, 0);

    if (shmid < 0)
        return sk_fail(sk_errno(), "shmget: %s", strerror(errno));
    if (shmctl(shmid, IPC_RMID, NULL) != 0)
        return sk_fail(sk_errno(), "shmctl(IPC_RMID): %s", strerror(errno));
    return 0;
}

int sk_sysv_stat(const struct sk_spec *spec, struct sk_seg_stat *st)
{
    struct shmid_ds ds;
    int shmid = lookup(spec, &ds);

    if (shmid < 0)
        return shmid;
    st->size = (uint64_t)ds.shm_segsz;
    st->uid = (long)ds.shm_perm.uid;
    st->mode = (unsigned)ds.shm_perm.mode & 0777u;
    st->nattch = (long)ds.shm_nattch;
    return 0;
}

#endif /* SHMKIT_HAVE_SYSV */
