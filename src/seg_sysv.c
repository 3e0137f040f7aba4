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
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "hooks.h"
#include "shmkit.h"

/* The sysctl that raises each System V limit, named in error messages.
 * Sources: PostgreSQL's "Managing Kernel Resources" chapter (Linux,
 * FreeBSD, macOS), FreeBSD sys/kern/sysv_shm.c (kern.ipc.shmmni and
 * shmseg are boot-time tunables there), NetBSD sys/kern/sysv_shm.c
 * (kern.ipc.shmmaxpgs plays the part of shmall), OpenBSD sysctl(2)
 * (kern.shminfo.*).  SK_SHMSEG_ADVICE is advice to append to a message:
 * Linux has no per-process limit on attached segments. */
#if defined(__APPLE__)
#define SK_SYSCTL_SHMMAX "kern.sysv.shmmax"
#define SK_SYSCTL_SHMALL "kern.sysv.shmall"
#define SK_SYSCTL_SHMMNI "kern.sysv.shmmni"
#define SK_SHMSEG_ADVICE " (raise kern.sysv.shmseg)"
#elif defined(__OpenBSD__)
#define SK_SYSCTL_SHMMAX "kern.shminfo.shmmax"
#define SK_SYSCTL_SHMALL "kern.shminfo.shmall"
#define SK_SYSCTL_SHMMNI "kern.shminfo.shmmni"
#define SK_SHMSEG_ADVICE " (raise kern.shminfo.shmseg)"
#elif defined(__NetBSD__)
#define SK_SYSCTL_SHMMAX "kern.ipc.shmmax"
#define SK_SYSCTL_SHMALL "kern.ipc.shmmaxpgs"
#define SK_SYSCTL_SHMMNI "kern.ipc.shmmni"
#define SK_SHMSEG_ADVICE " (raise kern.ipc.shmseg)"
#elif defined(__FreeBSD__) || defined(__DragonFly__)
#define SK_SYSCTL_SHMMAX "kern.ipc.shmmax"
#define SK_SYSCTL_SHMALL "kern.ipc.shmall"
#define SK_SYSCTL_SHMMNI "kern.ipc.shmmni"
#define SK_SHMSEG_ADVICE " (raise kern.ipc.shmseg)"
#else
#define SK_SYSCTL_SHMMAX "kernel.shmmax"
#define SK_SYSCTL_SHMALL "kernel.shmall"
#define SK_SYSCTL_SHMMNI "kernel.shmmni"
#define SK_SHMSEG_ADVICE ""
#endif

/* ENOMEM is the total size limit on the BSDs and macOS, only a lack of
 * kernel memory on Linux (whose total size limit gives ENOSPC). */
#ifdef __linux__
#define SK_ENOMEM_ADVICE ""
#else
#define SK_ENOMEM_ADVICE " (system limit reached: raise " SK_SYSCTL_SHMALL ")"
#endif

/* Test hooks (hooks.h): fail the way a limit or a jail would. */
#ifdef SHMKIT_TEST_HOOKS
static int simulated_shmget_error(void)
{
    static const struct {
        const char *hook;
        int err;
    } sims[] = {
        {"sysv-shmget-einval", EINVAL},
        {"sysv-shmget-enospc", ENOSPC},
        {"sysv-shmget-enomem", ENOMEM},
        {"sysv-enosys", ENOSYS},
    };
    size_t i;

    for (i = 0; i < sizeof sims / sizeof sims[0]; i++)
        if (shmkit__hook(sims[i].hook)) {
            shmkit__hook_fired(sims[i].hook);
            return sims[i].err;
        }
    return 0;
}
#else
#define simulated_shmget_error() 0
#endif

static int create_id(key_t key, size_t size, int flags)
{
    int err = simulated_shmget_error();

    if (err != 0) {
        errno = err;
        return -1;
    }
    return shmget(key, size, flags);
}

/* FreeBSD jails without sysvshm, and kernels without System V IPC. */
static int sysv_unavailable(void)
{
    return shmkit__fail(SHMKIT_ENOBACKEND, "shmget: System V shared memory is not available "
                        "here (a FreeBSD jail needs sysvshm=new); use a /NAME spec");
}

/* The failure of a shmget that looks a key up. */
static int lookup_failure(void)
{
    return errno == ENOSYS ? sysv_unavailable()
                           : shmkit__fail(shmkit__errno(), "shmget: %s", strerror(errno));
}

/* Explain the errors that come from system limits, naming what to raise:
 * EINVAL is a size above shmmax (or below shmmin), ENOSPC the number of
 * segments (shmmni) or, on Linux, the total size (shmall). */
static int shmget_failure(size_t size)
{
    int err = errno;

    switch (err) {
    case EINVAL:
        return shmkit__fail(-EINVAL, "shmget of %zu bytes: size outside the system limits "
                            "(raise " SK_SYSCTL_SHMMAX ")", size);
    case ENOSPC:
        return shmkit__fail(-err, "shmget of %zu bytes: %s (system limit reached: raise "
                            SK_SYSCTL_SHMMNI " or " SK_SYSCTL_SHMALL ")", size, strerror(err));
    case ENOMEM:
        return shmkit__fail(-err, "shmget of %zu bytes: %s" SK_ENOMEM_ADVICE, size, strerror(err));
    case ENOSYS:
        return sysv_unavailable();
    default:
        return shmkit__fail(shmkit__errno(), "shmget: %s", strerror(err));
    }
}

/* shmat, or the failure a test simulates: attaching a segment already
 * removed with IPC_RMID is EINVAL on the BSDs and macOS (Linux, and
 * FreeBSD with kern.ipc.shm_allow_removed=1, allow it), and macOS allows
 * only 8 attached segments per process by default. */
static void *attach_id(int shmid, int flags)
{
#ifdef SHM_DEST
    if (shmkit__hook("sysv-no-attach-after-rmid")) {
        struct shmid_ds ds;

        if (shmctl(shmid, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & SHM_DEST) != 0) {
            shmkit__hook_fired("sysv-no-attach-after-rmid");
            errno = EINVAL;
            return (void *)-1;
        }
    }
#endif
    if (shmkit__hook("sysv-shmat-emfile")) {
        shmkit__hook_fired("sysv-shmat-emfile");
        errno = EMFILE;
        return (void *)-1;
    }
    if (shmkit__hook("sysv-shmat-enomem")) {
        shmkit__hook_fired("sysv-shmat-enomem");
        errno = ENOMEM;
        return (void *)-1;
    }
    return shmat(shmid, NULL, flags);
}

static int attach(struct sk_seg *seg, int shmid, size_t size, int writable)
{
    void *base = attach_id(shmid, writable ? 0 : SHM_RDONLY);

    if (base == (void *)-1) {
        if (errno == EMFILE)
            return shmkit__fail(-EMFILE, "shmat: too many segments attached by this process"
                                SK_SHMSEG_ADVICE);
        if (errno == ENOMEM)
            return shmkit__fail(-ENOMEM, "shmat of %zu bytes: %s (out of address space: see "
                                "RLIMIT_AS, ulimit -v)", size, strerror(ENOMEM));
        return shmkit__fail(shmkit__errno(), "shmat: %s", strerror(errno));
    }
    sk_seg_set_mapping(seg, base, size, writable);
    seg->shmid = shmid;
    return 0;
}

/* A waiter's writable view: a second attach of the same id (System V
 * cannot map part of a segment).  Optional: without it the reader waits
 * by polling.  That is what happens on the BSDs and macOS once the
 * segment has been removed (IPC_RMID) since the reader opened it. */
static void sk_sysv_waiter_view(struct sk_seg *seg)
{
    void *p = attach_id(seg->shmid, 0);

    if (p != (void *)-1) {
        seg->rw_header = p;
        seg->rw_size = seg->size;
    }
}

static int stat_id(int shmid, struct shmid_ds *ds)
{
    if (shmctl(shmid, IPC_STAT, ds) != 0)
        return shmkit__fail(shmkit__errno(), "shmctl(IPC_STAT): %s", strerror(errno));
    return 0;
}

static int sk_sysv_create(struct sk_seg *seg, size_t size, unsigned mode)
{
    struct shmid_ds ds;
    int shmid, rc;

    /* System V modes are not filtered by the umask: MODE is exact. */
    shmid = create_id((key_t)seg->spec.sysv_key, size, IPC_CREAT | IPC_EXCL | (int)(mode & 0777));
    if (shmid < 0)
        return errno == EEXIST ? shmkit__fail(-EEXIST, "segment exists") : shmget_failure(size);
    /* IPC_EXCL made it new; still check what we got, as for POSIX. */
    rc = stat_id(shmid, &ds);
    if (rc == 0 && ds.shm_perm.uid != geteuid())
        rc = shmkit__fail(-EACCES, "new segment is owned by uid %ld, not by uid %ld (us)",
                          (long)ds.shm_perm.uid, (long)geteuid());
    if (rc == 0 && ((unsigned)ds.shm_perm.mode & 0777u) != (mode & 0777u))
        rc = shmkit__fail(-EACCES, "new segment has mode %04o, not the %04o asked for",
                          (unsigned)ds.shm_perm.mode & 0777u, mode & 0777u);
    if (rc == 0) {
        seg->owner_uid = (long)ds.shm_perm.uid;
        seg->mode = (unsigned)ds.shm_perm.mode & 0777u;
        seg->ident[0] = (uint64_t)shmid;
        rc = attach(seg, shmid, size, 1);
    }
    if (rc < 0)
        shmctl(shmid, IPC_RMID, NULL);
    return rc;
}

static int lookup(const struct sk_spec *spec, struct shmid_ds *ds)
{
    int shmid = shmget((key_t)spec->sysv_key, 0, 0);
    int rc;

    if (shmid < 0)
        return lookup_failure();
    rc = stat_id(shmid, ds);
    return rc < 0 ? rc : shmid;
}

static int sk_sysv_find(struct sk_seg *seg, int access, struct sk_seg_found *found)
{
    struct shmid_ds ds;
    int shmid = lookup(&seg->spec, &ds);

    (void)access;
    if (shmid < 0)
        return shmid;
    found->uid = (long)ds.shm_perm.uid;
    found->size = (uint64_t)ds.shm_segsz;
    found->handle = shmid;
    seg->mode = (unsigned)ds.shm_perm.mode & 0777u;
    return 0;
}

/* Nothing of the segment was touched: not even shm_nattch changed. */
static void sk_sysv_forget(struct sk_seg_found *found)
{
    (void)found;
}

static int sk_sysv_map(struct sk_seg *seg, int access, struct sk_seg_found *found,
                       size_t min_size)
{
    if ((size_t)found->size < min_size)
        return shmkit__fail(SHMKIT_ENOTSHMKIT, "segment of %zu bytes is smaller than a header",
                            (size_t)found->size);
    seg->ident[0] = (uint64_t)found->handle;
    /* SK_SEG_WAITER: the id is kept, the writable view comes later. */
    return attach(seg, found->handle, (size_t)found->size, access == SK_SEG_WRITE);
}

/* Removed: the id is gone (EIDRM, or EINVAL once it was freed), or it is
 * marked for destruction (SHM_DEST: Linux keeps a removed segment while
 * it is attached, under the private key), or the key now names another
 * id, or none.  Any other failure (EACCES after a chmod) cannot tell. */
static int sk_sysv_is_current(const struct sk_seg *seg)
{
    struct shmid_ds ds;
    int shmid;

    if (shmctl(seg->shmid, IPC_STAT, &ds) != 0) {
        if (errno != EIDRM && errno != EINVAL)
            return shmkit__fail(shmkit__errno(), "shmctl(IPC_STAT): %s", strerror(errno));
        shmkit__fail(0, "removed with IPC_RMID");
        return 0;
    }
#ifdef SHM_DEST
    if ((ds.shm_perm.mode & SHM_DEST) != 0) {
        shmkit__fail(0, "removed with IPC_RMID, kept while attached");
        return 0;
    }
#endif
    shmid = shmget((key_t)seg->spec.sysv_key, 0, 0);
    if (shmid < 0 && errno != ENOENT)
        return shmkit__fail(shmkit__errno(), "shmget: %s", strerror(errno));
    if (shmid < 0) {
        shmkit__fail(0, "its key no longer exists");
        return 0;
    }
    if (shmid != seg->shmid) {
        shmkit__fail(0, "its key now names another segment");
        return 0;
    }
    return 1;
}

static int sk_sysv_is_same(const struct sk_seg *seg)
{
    int shmid = shmget((key_t)seg->spec.sysv_key, 0, 0);

    return shmid >= 0 && (uint64_t)shmid == seg->ident[0];
}

static void sk_sysv_close(struct sk_seg *seg)
{
    if (seg->rw_size != 0)
        shmdt(seg->rw_header);
    shmdt(seg->base);
    seg->shmid = -1;
}

/* shm_nattch of SEG's own segment (by id: the key may name another one by
 * now), -1 if it cannot be read. */
static long sk_sysv_nattch(const struct sk_seg *seg)
{
    struct shmid_ds ds;

    if (seg->shmid < 0 || shmctl(seg->shmid, IPC_STAT, &ds) != 0)
        return -1;
    return (long)ds.shm_nattch;
}

static int sk_sysv_remove(const struct sk_spec *spec)
{
    int shmid = shmget((key_t)spec->sysv_key, 0, 0);

    if (shmid < 0)
        return lookup_failure();
    if (shmctl(shmid, IPC_RMID, NULL) != 0)
        return shmkit__fail(shmkit__errno(), "shmctl(IPC_RMID): %s", strerror(errno));
    return 0;
}

static int sk_sysv_stat(const struct sk_spec *spec, struct shmkit__seg_stat *st)
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

const struct sk_backend_ops shmkit__sysv_backend = {
    .backend = SHMKIT_BACKEND_SYSV,
    .can_shrink = 0, /* shmctl has no resize, shmget never resizes */
    .create = sk_sysv_create,
    .find = sk_sysv_find,
    .map = sk_sysv_map,
    .forget = sk_sysv_forget,
    .close = sk_sysv_close,
    .waiter_view = sk_sysv_waiter_view,
    .is_current = sk_sysv_is_current,
    .is_same = sk_sysv_is_same,
    .remove = sk_sysv_remove,
    .stat = sk_sysv_stat,
    .nattch = sk_sysv_nattch,
};
