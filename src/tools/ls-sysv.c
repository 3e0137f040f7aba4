/*
 * ls-sysv.c - see ls-sysv.h.
 *
 * Neither SUSv4 nor any system's libc has a call that lists System V
 * segments; each system has its own way, the one its ipcs(1) uses:
 *   - Linux: the lines of /proc/sysvipc/shm (proc(5)).
 *   - FreeBSD: sysctl kern.ipc.shmsegs, an array of struct shmid_kernel
 *     (<sys/shm.h> with _WANT_SYSVSHM_INTERNALS, the way FreeBSD's ipcs
 *     asks for it).
 *   - NetBSD: sysctl kern.ipc.sysvipc_info, MIB {CTL_KERN, KERN_SYSVIPC,
 *     KERN_SYSVIPC_INFO, KERN_SYSVIPC_SHM_INFO}: a struct shm_sysctl_info,
 *     struct shminfo then shminfo.shmmni struct shmid_ds_sysctl
 *     (<sys/shm.h>; a layout made for this sysctl, versioned by the MIB
 *     number: the older layout was KERN_SYSVIPC_OSHM_INFO).
 *   - OpenBSD: sysctl kern.sysvipc_info, MIB {CTL_KERN, KERN_SYSVIPC_INFO,
 *     KERN_SYSVIPC_SHM_INFO}: a struct shm_sysctl_info, struct shminfo
 *     then shminfo.shmmni struct shmid_ds (<sys/shm.h>).
 *   - macOS: ipcs reads sysctl kern.sysv.ipcs.shm with a struct
 *     IPCS_command that no public header declares, and shmctl has no
 *     SHM_STAT: nothing to list with (shmkit(1), BUGS).
 * The kernel's table is read into a zeroed buffer, and every count is
 * bounded by the buffer's size, whatever the kernel says the table holds.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#ifdef __FreeBSD__
/* struct shmid_kernel, the element of kern.ipc.shmsegs. */
#define _WANT_SYSVSHM_INTERNALS 1
#endif

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/sysctl.h>
#endif

#include "ls-sysv.h"

#if defined(__linux__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
/* shmkit keeps a key as the bit pattern of a 32-bit key_t (spec.c).  The
 * BSDs' key_t is a long: a key outside the 32-bit range cannot come from,
 * nor be reached by, a "sysv:0xKEY" spec.  IPC_PRIVATE (0) has no name. */
static int spec_key(long long key, uint32_t *out)
{
    if (key == 0 || key < INT32_MIN || key > INT32_MAX)
        return 0;
    *out = (uint32_t)(int32_t)key;
    return 1;
}

/* Hand one segment to FN, if a spec can name it. */
static int report(sysv_seg_fn fn, void *ctx, long long key, uint64_t size, long uid,
                  unsigned mode, long nattch)
{
    struct sysv_seg seg;

    if (!spec_key(key, &seg.key))
        return 0;
    seg.size = size;
    seg.uid = uid;
    seg.mode = mode & 0777u;
    seg.nattch = nattch;
    return fn(ctx, &seg);
}
#endif

#if defined(__linux__)
#define SYSV_LIST "/proc/sysvipc/shm"

/* One line of /proc/sysvipc/shm: "key shmid perms size cpid lpid nattch
 * uid gid ...", key and perms as the kernel prints them (decimal, octal). */
static int parse_line(const char *line, sysv_seg_fn fn, void *ctx)
{
    long key, cpid, lpid, nattch, uid;
    unsigned long long size;
    unsigned perms;
    int shmid;

    if (sscanf(line, "%ld %d %o %llu %ld %ld %ld %ld", &key, &shmid, &perms, &size, &cpid,
               &lpid, &nattch, &uid) != 8)
        return 0; /* the title line */
    return report(fn, ctx, key, size, uid, perms, nattch);
}

int sysv_list_segments(sysv_seg_fn fn, void *ctx)
{
    FILE *f = fopen(SYSV_LIST, "r");
    char line[512];
    int rc = 0;

    if (f == NULL)
        return SYSV_LIST_UNSUPPORTED; /* no /proc, or no System V IPC */
    while (rc == 0 && fgets(line, sizeof line, f) != NULL)
        rc = parse_line(line, fn, ctx);
    fclose(f);
    return rc < 0 ? SYSV_LIST_STOPPED : SYSV_LIST_DONE;
}

#elif defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)

/* The mode bits FreeBSD and NetBSD set on a slot in use and on a removed
 * segment still attached: SHMSEG_ALLOCATED and SHMSEG_REMOVED of their
 * <sys/shm.h>, declared for the kernel only; ipcs(1) tests the number.
 * OpenBSD has no such "allocated" bit, and its SHMSEG_REMOVED is 0x0200
 * (sys/kern/sysv_shm.c).  A removed segment's key is IPC_PRIVATE on all
 * three, so report() would skip it anyway. */
#if defined(__OpenBSD__)
#define SLOT_REMOVED 0x0200
#else
#define SLOT_ALLOCATED 0x0800
#define SLOT_REMOVED 0x0400
#endif

/* Read the table into BUF (NULL: just its size into *LEN). */
static int read_shm_table(void *buf, size_t *len);
/* Hand each segment of the table read (SIZE bytes, zero after what the
 * kernel wrote) to FN. */
static int walk_table(const void *table, size_t size, sysv_seg_fn fn, void *ctx);

#if defined(__FreeBSD__)
static int read_shm_table(void *buf, size_t *len)
{
    return sysctlbyname("kern.ipc.shmsegs", buf, len, NULL, 0);
}

/* One struct shmid_kernel per slot the kernel has allocated, its kernel
 * pointers cleared; a slot that is free or that this jail cannot see
 * comes blank, marked free (sys/kern/sysv_shm.c, sysctl_shmsegs). */
static int walk_table(const void *table, size_t size, sysv_seg_fn fn, void *ctx)
{
    const struct shmid_kernel *slot = table;
    size_t i, n = size / sizeof *slot;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i++) {
        const struct shmid_ds *ds = &slot[i].u;
        if ((ds->shm_perm.mode & SLOT_ALLOCATED) == 0 || (ds->shm_perm.mode & SLOT_REMOVED) != 0)
            continue;
        rc = report(fn, ctx, (long long)ds->shm_perm.key, (uint64_t)ds->shm_segsz,
                    (long)ds->shm_perm.uid, ds->shm_perm.mode, (long)ds->shm_nattch);
    }
    return rc;
}

#elif defined(__NetBSD__)
static int read_shm_table(void *buf, size_t *len)
{
    const int mib[] = { CTL_KERN, KERN_SYSVIPC, KERN_SYSVIPC_INFO, KERN_SYSVIPC_SHM_INFO };

    return sysctl(mib, 4, buf, len, NULL, 0);
}

/* struct shminfo, then shminfo.shmmni slots; a slot in use has
 * SLOT_ALLOCATED in its mode. */
static int walk_table(const void *table, size_t size, sysv_seg_fn fn, void *ctx)
{
    const size_t first = offsetof(struct shm_sysctl_info, shmids);
    const struct shm_sysctl_info *info = table;
    const struct shmid_ds_sysctl *slot;
    size_t i, n;
    int rc = 0;

    if (size < first)
        return 0;
    slot = (const struct shmid_ds_sysctl *)((const char *)table + first);
    n = (size - first) / sizeof *slot;
    if (info->shminfo.shmmni < n)
        n = info->shminfo.shmmni;
    for (i = 0; rc == 0 && i < n; i++) {
        const struct ipc_perm_sysctl *perm = &slot[i].shm_perm;
        if ((perm->mode & SLOT_ALLOCATED) == 0 || (perm->mode & SLOT_REMOVED) != 0)
            continue;
        /* _key holds the key_t (a long) widened to 64 bits. */
        rc = report(fn, ctx, (long long)(int64_t)perm->_key, slot[i].shm_segsz,
                    (long)perm->uid, perm->mode, (long)slot[i].shm_nattch);
    }
    return rc;
}

#else /* __OpenBSD__ */
static int read_shm_table(void *buf, size_t *len)
{
    int mib[] = { CTL_KERN, KERN_SYSVIPC_INFO, KERN_SYSVIPC_SHM_INFO };

    return sysctl(mib, 3, buf, len, NULL, 0);
}

/* struct shminfo, then shminfo.shmmni copies of the kernel's struct
 * shmid_ds, zero for a free slot: OpenBSD's ipcs takes a non-null
 * shm_internal for a slot in use. */
static int walk_table(const void *table, size_t size, sysv_seg_fn fn, void *ctx)
{
    const size_t first = offsetof(struct shm_sysctl_info, shmids);
    const struct shm_sysctl_info *info = table;
    const struct shmid_ds *slot;
    size_t i, n;
    int rc = 0;

    if (size < first || info->shminfo.shmmni < 0)
        return 0;
    slot = (const struct shmid_ds *)((const char *)table + first);
    n = (size - first) / sizeof *slot;
    if ((size_t)info->shminfo.shmmni < n)
        n = (size_t)info->shminfo.shmmni;
    for (i = 0; rc == 0 && i < n; i++) {
        if (slot[i].shm_internal == NULL || (slot[i].shm_perm.mode & SLOT_REMOVED) != 0 ||
            slot[i].shm_segsz < 0)
            continue;
        rc = report(fn, ctx, (long long)slot[i].shm_perm.key, (uint64_t)slot[i].shm_segsz,
                    (long)slot[i].shm_perm.uid, slot[i].shm_perm.mode,
                    (long)slot[i].shm_nattch);
    }
    return rc;
}
#endif

/* Errors that mean "no System V shared memory here", not a failure: no
 * such sysctl (FreeBSD without the sysvshm module: ENOENT), a kernel
 * without SYSVSHM (EOPNOTSUPP, EINVAL), a FreeBSD jail without sysvshm
 * (ENOSYS). */
static int means_unsupported(int e)
{
    return e == ENOENT || e == EOPNOTSUPP || e == EINVAL || e == ENOSYS;
}

/* Read the table into a zeroed buffer with room to spare, since segments
 * may be created between asking for the size and reading; ENOMEM (still
 * too small): try bigger, a few times.  Returns the buffer and its size
 * in *SIZE, or NULL with errno set. */
static void *read_table(size_t *size)
{
    size_t want = 0;
    int tries;

    if (read_shm_table(NULL, &want) != 0)
        return NULL;
    for (tries = 0; tries < 4; tries++) {
        size_t have, len;
        void *buf;
        int e;
        if (want > SIZE_MAX / 4) {
            errno = ENOMEM;
            return NULL;
        }
        have = want + want / 2 + 4096;
        if ((buf = calloc(1, have)) == NULL)
            return NULL;
        len = have;
        if (read_shm_table(buf, &len) == 0) {
            *size = have;
            return buf;
        }
        e = errno;
        free(buf);
        if (e != ENOMEM) {
            errno = e;
            return NULL;
        }
        want = have * 2;
    }
    errno = ENOMEM;
    return NULL;
}

int sysv_list_segments(sysv_seg_fn fn, void *ctx)
{
    size_t size = 0;
    void *table = read_table(&size);
    int rc;

    if (table == NULL)
        return means_unsupported(errno) ? SYSV_LIST_UNSUPPORTED : SYSV_LIST_FAILED;
    rc = walk_table(table, size, fn, ctx);
    free(table);
    return rc < 0 ? SYSV_LIST_STOPPED : SYSV_LIST_DONE;
}

#else /* macOS and the rest */
int sysv_list_segments(sysv_seg_fn fn, void *ctx)
{
    (void)fn;
    (void)ctx;
    return SYSV_LIST_UNSUPPORTED;
}
#endif
