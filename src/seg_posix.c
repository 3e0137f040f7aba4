/*
 * seg_posix.c - the POSIX shared memory backend (shm_open + mmap).
 *
 * Creation is exclusive (O_CREAT|O_EXCL), so we never adopt an object that
 * somebody else pre-created; the mode is then set with fchmod so the umask
 * cannot widen or narrow it, and the owner is verified.  Space is reserved
 * with posix_fallocate where available, else by writing zeros: on tmpfs an
 * ftruncate'd object is sparse and a full /dev/shm would turn a later
 * write into SIGBUS.
 *
 * Opening checks the size with fstat before mapping: mapping past the end
 * of an object and touching it is SIGBUS on Linux and EINVAL on macOS.
 *
 * The other systems differ (doc/PORTING.md; hooks.h simulates each):
 *   - macOS has no fchmod for shared memory objects (EINVAL; xnu
 *     bsd/kern/posix_shm.c registers no chmod), but applies no umask to
 *     shm_open's mode either, so there the mode is given to shm_open.  It
 *     allows one ftruncate per object and has no posix_fallocate; older
 *     versions answer shm_unlink of a missing name with EINVAL.
 *   - OpenBSD keeps an object as a file in /tmp, creates it with the mode
 *     masked by 0600 and refuses (EPERM) an object owned by another uid
 *     (lib/libc/gen/shm_open.c), so its mode stays owner-only: widening
 *     it would only expose the file itself.
 *   - NetBSD needs a tmpfs mounted on /var/shm, else ENOTSUP
 *     (lib/librt/shm.c).
 *
 * Lease locks: seg_posix_lock.c.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "format.h"
#include "hooks.h"
#include "seg_posix.h"
#include "shmkit.h"

/* The longest name macOS accepts, in bytes with the "/" (PSHMNAMLEN). */
#define SK_MACOS_NAME_MAX 31

/* Systems that allow a POSIX object only to its owner, with mode 0600. */
static int owner_only(void)
{
#if defined(__OpenBSD__)
    return 1;
#else
    return shmkit__hook("openbsd-shm");
#endif
}

/* Systems where fchmod cannot change a POSIX object. */
static int no_fchmod(void)
{
#if defined(__APPLE__)
    return 1;
#else
    return shmkit__hook("macos-shm");
#endif
}

/* Test hooks (hooks.h): the refusals of other systems' shm_open. */
static int simulated_open_error(const char *name)
{
    if (shmkit__hook("netbsd-no-shmfs")) {
        shmkit__hook_fired("netbsd-no-shmfs");
        return ENOTSUP;
    }
    if (shmkit__hook("macos-shm") && strlen(name) > SK_MACOS_NAME_MAX) {
        shmkit__hook_fired("macos-shm:name-too-long");
        return ENAMETOOLONG;
    }
    return 0;
}

/* OpenBSD's shm_open refuses an object that another uid owns. */
static int simulated_owner_check(int fd)
{
    struct stat st;

    if (!shmkit__hook("openbsd-shm") || fstat(fd, &st) != 0 || st.st_uid == geteuid())
        return 0;
    shmkit__hook_fired("openbsd-shm:other-uid");
    return EPERM;
}

/* shm_open.  macOS applies no umask to MODE; the "macos-shm" hook
 * simulates that with umask(0) around the call (process-wide, but only in
 * test builds). */
static int shm_open_here(const char *name, int flags, mode_t mode)
{
    mode_t old;
    int fd;

    if ((flags & O_CREAT) == 0 || !shmkit__hook("macos-shm"))
        return shm_open(name, flags, mode);
    old = umask(0);
    fd = shm_open(name, flags, mode);
    umask(old);
    return fd;
}

/* Flags shm_open is given besides the caller's.  Where shm_open is an
 * open() of a file in a directory that every user may write to (glibc
 * and musl on Linux: /dev/shm/NAME; NetBSD: /var/shm/.shmobj_NAME), a
 * FIFO, a directory, a socket or a symbolic link can be planted under a
 * segment's name: O_NONBLOCK keeps open() from blocking on a FIFO (no
 * writer, no reader: it would wait forever) and O_NOFOLLOW from following
 * a link; every kind but a regular file is then refused after fstat
 * (checked_open).  Both libcs pass the flags on to open().  Elsewhere
 * shm_open must not get them: FreeBSD and OpenBSD refuse unknown flags
 * with EINVAL; objects are no files on FreeBSD and macOS; OpenBSD's
 * shm_open adds O_NOFOLLOW itself and refuses what is not a regular file,
 * but only after an open() that a FIFO can block (doc/SECURITY.md).
 * move_above_stdio sets FD_CLOEXEC on every system.  SK_SHM_PREFIX: the
 * file of "/NAME" is SK_SHM_PREFIX "NAME", for messages. */
#if defined(__linux__)
#define SK_SHM_OPEN_FLAGS (O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
#define SK_SHM_PREFIX "/dev/shm/"
#elif defined(__NetBSD__)
#define SK_SHM_OPEN_FLAGS (O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC)
#define SK_SHM_PREFIX "/var/shm/.shmobj_"
#else
#define SK_SHM_OPEN_FLAGS 0
#endif

/* Make FD close-on-exec and at least 3.  A program started with standard
 * input, output or error closed gets its next descriptors there, and a
 * kept O_RDWR descriptor 1 would take its printf()s into the segment.
 * Returns the descriptor to use (FD itself or a copy, FD then closed), or
 * -1 with errno set and FD closed. */
static int move_above_stdio(int fd)
{
    int moved, err;

    if (fd > 2) {
        int flags = fcntl(fd, F_GETFD);

        if (flags >= 0 && (flags & FD_CLOEXEC) == 0)
            fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
        return fd;
    }
#ifdef F_DUPFD_CLOEXEC
    moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
#else
    moved = fcntl(fd, F_DUPFD, 3);
    if (moved >= 0)
        fcntl(moved, F_SETFD, FD_CLOEXEC);
#endif
    err = errno;
    close(fd);
    errno = err;
    return moved;
}

int shmkit__posix_open_object(const char *name, int flags, mode_t mode)
{
    int fd, err = simulated_open_error(name);

    if (err == 0) {
        fd = shm_open_here(name, flags | SK_SHM_OPEN_FLAGS, mode);
        if (fd >= 0)
            fd = move_above_stdio(fd);
        if (fd < 0 || (err = simulated_owner_check(fd)) == 0)
            return fd;
        close(fd);
    }
    errno = err;
    return -1;
}

/* What a file of MODE is, for "not a shmkit segment (a FIFO)"; NULL for
 * a regular file, the only kind a shared memory object can be. */
static const char *file_kind(mode_t mode)
{
    if (S_ISREG(mode))
        return NULL;
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
#ifdef S_ISSOCK
    if (S_ISSOCK(mode))
        return "a socket";
#endif
    return "not a regular file";
}

/* After shm_open of NAME failed with errno: if the name is there but is
 * no shared memory object (open fails with ELOOP on a symbolic link,
 * ENXIO on a socket, EISDIR or glibc's EINVAL on a directory opened for
 * writing, EACCES on another user's FIFO...), record what it is and
 * return 1; else 0 with errno kept.  Only for the message: the open
 * failed either way. */
static int explain_non_object(const char *name)
{
#ifdef SK_SHM_PREFIX
    char path[sizeof SK_SHM_PREFIX + SK_POSIX_NAME_MAX + 1];
    struct stat st;
    int err = errno;
    const char *kind;

    if (err != ENOENT && name[0] == '/' && strlen(name) <= SK_POSIX_NAME_MAX + 1) {
        snprintf(path, sizeof path, "%s%s", SK_SHM_PREFIX, name + 1);
        if (lstat(path, &st) == 0 && (kind = file_kind(st.st_mode)) != NULL) {
            shmkit__fail(SHMKIT_ENOTSHMKIT, "%s", kind);
            return 1;
        }
    }
    errno = err;
#else
    (void)name;
#endif
    return 0;
}

/* Where POSIX shared memory takes its space from, for messages. */
#if defined(__linux__)
#define SK_SHM_STORE "/dev/shm"
#elif defined(__NetBSD__)
#define SK_SHM_STORE "the tmpfs on /var/shm"
#else
#define SK_SHM_STORE "the space for shared memory"
#endif

/* The limit behind an errno that means "out of some resource", appended
 * to a message so that it says what to raise or free; "" for the rest. */
const char *shmkit__posix_limit_advice(int err)
{
    switch (err) {
    case EMFILE:
        return " (this process has too many open files: raise RLIMIT_NOFILE, ulimit -n)";
    case ENFILE:
        return " (the system's table of open files is full)";
    case ENOSPC:
        return " (" SK_SHM_STORE " is full or too small)";
    case ENOMEM:
        return " (out of memory or address space: see RLIMIT_AS, ulimit -v)";
    case EFBIG:
        return " (beyond the file size limit: RLIMIT_FSIZE, ulimit -f)";
    default:
        return "";
    }
}

/* Why shm_open (or shm_unlink) failed, with what to do about the
 * system-specific cases. */
static int open_failure(void)
{
    int err = errno;

    if (err == EINTR)
        return shmkit__fail(-EINTR, "shm_open interrupted by a signal");

    if (err == ENOTSUP || err == EOPNOTSUPP)
        return shmkit__fail(SHMKIT_ENOBACKEND, "POSIX shared memory is not available here "
                            "(NetBSD needs a tmpfs on /var/shm); use a sysv: spec");
    /* OpenBSD: EACCES from the 0600 file, EPERM from the owner check. */
    if ((err == EPERM || err == EACCES) && owner_only())
        return shmkit__fail(-err, "shm_open: %s: this system shares POSIX shared memory only "
                            "between processes of the same user; use a sysv: spec", strerror(err));
    return shmkit__fail(shmkit__errno(), "shm_open: %s%s", strerror(err),
                        shmkit__posix_limit_advice(err));
}

/* Open the existing object NAME with FLAGS (O_RDONLY or O_RDWR) and fstat
 * it into ST; anything but a regular file is refused, before anything of
 * it is read or mapped.  Returns the descriptor or a negative code (with
 * detail). */
static int checked_open(const char *name, int flags, struct stat *st)
{
    const char *kind;
    int fd = shmkit__posix_open_object(name, flags, 0), rc;

    if (fd < 0)
        return explain_non_object(name) ? SHMKIT_ENOTSHMKIT : open_failure();
    if (fstat(fd, st) != 0)
        rc = shmkit__fail(shmkit__errno(), "fstat: %s", strerror(errno));
    else if ((kind = file_kind(st->st_mode)) != NULL)
        rc = shmkit__fail(SHMKIT_ENOTSHMKIT, "%s", kind);
    else
        return fd;
    close(fd);
    return rc;
}

static int map_fd(struct sk_seg *seg, int fd, size_t size, int writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *base = MAP_FAILED;
    struct stat st;

    /* macOS refuses to map past the end of an object (tested: we never do). */
    if (shmkit__hook("macos-shm") && fstat(fd, &st) == 0 && (uintmax_t)st.st_size < size) {
        shmkit__hook_fired("macos-shm:map-past-end");
        errno = EINVAL;
    } else if (shmkit__hook("posix-mmap-enomem")) {
        shmkit__hook_fired("posix-mmap-enomem");
        errno = ENOMEM;
    } else {
        base = mmap(NULL, size, prot, MAP_SHARED, fd, 0);
    }
    if (base == MAP_FAILED)
        return shmkit__fail(shmkit__errno(), "mmap of %zu bytes: %s%s", size, strerror(errno),
                            shmkit__posix_limit_advice(errno));
    sk_seg_set_mapping(seg, base, size, writable);
    return 0;
}

/* Undo map_fd. */
static void unmap(struct sk_seg *seg)
{
    munmap(seg->base, seg->size);
    seg->base = NULL;
    seg->rw_header = NULL;
}

/* A waiter's writable view of the header.  Readers keep no descriptor
 * (a thousand handles would hold a thousand): the name is opened again,
 * read-write, and mapped only if it still names the object mapped at
 * open (same st_dev and st_ino).  Optional: without it, because the
 * reader may not write to the object or the name now names another one,
 * the reader waits by polling.  Failing here is not a failure of the
 * wait, so the error detail is left as it was. */
static void sk_posix_waiter_view(struct sk_seg *seg)
{
    char detail[256];
    struct stat st;
    void *p;
    int fd;

    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    fd = checked_open(seg->spec.posix_name, O_RDWR, &st);
    shmkit__fail(0, "%s", detail);
    if (fd < 0)
        return;
    if ((uint64_t)st.st_dev == seg->ident[0] && (uint64_t)st.st_ino == seg->ident[1]
        && (uintmax_t)st.st_size >= SK_HEADER_SIZE) {
        p = mmap(NULL, SK_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED) {
            seg->rw_header = p;
            seg->rw_size = SK_HEADER_SIZE;
        }
    }
    close(fd);
}

/* ftruncate, exactly once per object: macOS refuses a second one with
 * EINVAL, which the "macos-shm" hook simulates here. */
static int truncate_once(int fd, size_t size)
{
    struct stat st;

    if (shmkit__hook("macos-shm") && fstat(fd, &st) == 0 && st.st_size != 0) {
        shmkit__hook_fired("macos-shm:second-ftruncate");
        errno = EINVAL;
        return -1;
    }
    if (shmkit__hook("posix-ftruncate-efbig")) {
        shmkit__hook_fired("posix-ftruncate-efbig");
        errno = EFBIG;
        return -1;
    }
    return ftruncate(fd, (off_t)size);
}

/* Growing a file past RLIMIT_FSIZE raises SIGXFSZ, which kills the process
 * by default, and Linux applies that to tmpfs objects too (ftruncate and
 * fallocate alike).  Refuse such a size before trying. */
static int within_fsize_limit(size_t size)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY
        || (uintmax_t)size <= (uintmax_t)rl.rlim_cur)
        return 1;
    errno = EFBIG;
    return 0;
}

/* EDQUOT: out of the user's disk quota (not every system has it). */
static int is_quota_error(int err)
{
#ifdef EDQUOT
    return err == EDQUOT;
#else
    (void)err;
    return 0;
#endif
}

/* Where posix_fallocate is missing (OpenBSD, macOS), reserve the space by
 * writing zeros over the new object, so that a full file system is an
 * error now rather than SIGBUS at the first store into a hole later.
 * OpenBSD keeps the object as a file in /tmp, where this works; macOS
 * objects are anonymous memory that cannot be written with pwrite (and
 * have no file system to fill), so any other failure keeps the object as
 * ftruncate made it. */
static int reserve_by_writing(int fd, size_t size)
{
    static const char zeros[65536];
    size_t done = 0;

    while (done < size) {
        size_t n = size - done < sizeof zeros ? size - done : sizeof zeros;
        ssize_t w = pwrite(fd, zeros, n, (off_t)done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == ENOSPC || errno == EFBIG || is_quota_error(errno)))
            return shmkit__fail(shmkit__errno(), "cannot reserve %zu bytes of shared memory: %s%s",
                                size, strerror(errno), shmkit__posix_limit_advice(errno));
        if (w <= 0)
            return 0;
        done += (size_t)w;
    }
    return 0;
}

static int reserve_space(int fd, size_t size)
{
    /* off_t is signed, and narrower than size_t on a 32-bit system built
     * without large file support (the conversion is then implementation
     * defined, which the round trip detects). */
    off_t as_offset = (off_t)size;

    if (as_offset < 0 || (uintmax_t)as_offset != (uintmax_t)size)
        return shmkit__fail(SHMKIT_ESIZE, "%zu bytes are more than this system's file offsets can "
                            "describe", size);
    if (!within_fsize_limit(size) || truncate_once(fd, size) != 0)
        return shmkit__fail(shmkit__errno(), "ftruncate to %zu bytes: %s%s", size, strerror(errno),
                            shmkit__posix_limit_advice(errno));
#ifdef HAVE_POSIX_FALLOCATE
    if (shmkit__hook("macos-shm")) {
        shmkit__hook_fired("macos-shm:no-fallocate");
        return reserve_by_writing(fd, size);
    } else {
        int rc = posix_fallocate(fd, 0, (off_t)size);

        if (shmkit__hook("posix-fallocate-enospc")) {
            shmkit__hook_fired("posix-fallocate-enospc");
            rc = ENOSPC;
        }
        /* Filesystems without fallocate support (EINVAL, EOPNOTSUPP, ENODEV)
         * keep the sparse object; running out of space is fatal. */
        if (rc == ENOSPC || rc == EFBIG || rc == ENOMEM)
            return shmkit__fail(-rc, "cannot reserve %zu bytes of shared memory: %s%s",
                                size, strerror(rc), shmkit__posix_limit_advice(rc));
    }
    return 0;
#else
    return reserve_by_writing(fd, size);
#endif
}

/* The mode a new object ends up with: MODE, or its owner bits where only
 * the owner may use an object (OpenBSD). */
static unsigned effective_mode(unsigned mode)
{
    if (owner_only() && (mode & 0600) != mode) {
        shmkit__hook_fired("openbsd-shm:narrowed");
        return mode & 0600;
    }
    return mode;
}

/* The mode shm_open creates with: owner-only until the owner is checked,
 * except where fchmod cannot set it afterwards (macOS, no umask there). */
static mode_t creation_mode(unsigned mode)
{
    return (mode_t)(no_fchmod() ? mode : mode & 0600);
}

/* Set the mode, then check what we got: owned by us with exactly MODE.
 * O_EXCL guarantees that the object is new, so an object another user
 * pre-created under the name fails with EEXIST before we get here; the
 * check catches what O_EXCL cannot (a system that ignores or narrows the
 * mode, a shm_open that hands out someone else's object). */
static int check_new_object(struct sk_seg *seg, int fd, unsigned mode)
{
    struct stat st;

    if (no_fchmod())
        shmkit__hook_fired("macos-shm:no-fchmod");
    else if (fchmod(fd, (mode_t)mode) != 0)
        return shmkit__fail(shmkit__errno(), "fchmod: %s", strerror(errno));
    if (fstat(fd, &st) != 0)
        return shmkit__fail(shmkit__errno(), "fstat: %s", strerror(errno));
    if (st.st_uid != geteuid())
        return shmkit__fail(-EACCES, "new object is owned by uid %ld, not by uid %ld (us)",
                            (long)st.st_uid, (long)geteuid());
    if (((unsigned)st.st_mode & 0777u) != mode)
        return shmkit__fail(-EACCES, "new object has mode %04o, not the %04o asked for",
                            (unsigned)st.st_mode & 0777u, mode);
    seg->owner_uid = (long)st.st_uid;
    seg->mode = (unsigned)st.st_mode & 0777u;
    seg->ident[0] = (uint64_t)st.st_dev;
    seg->ident[1] = (uint64_t)st.st_ino;
    return 0;
}

static int sk_posix_create(struct sk_seg *seg, size_t size, unsigned mode)
{
    const char *name = seg->spec.posix_name;
    int fd, rc;

    mode = effective_mode(mode);
    fd = shmkit__posix_open_object(name, O_RDWR | O_CREAT | O_EXCL, creation_mode(mode));
    if (fd < 0)
        return open_failure();
    rc = check_new_object(seg, fd, mode);
    if (rc == 0)
        rc = reserve_space(fd, size);
    if (rc == 0)
        rc = map_fd(seg, fd, size, 1);
    if (rc == 0 && (rc = shmkit__posix_keep_lock_fd(seg, fd)) < 0)
        unmap(seg);
    close(fd);
    if (rc < 0)
        shm_unlink(name);
    return rc;
}

static int sk_posix_find(struct sk_seg *seg, int access, struct sk_seg_found *found)
{
    struct stat st;
    int fd = checked_open(seg->spec.posix_name, access == SK_SEG_WRITE ? O_RDWR : O_RDONLY,
                          &st);

    if (fd < 0)
        return fd;
    found->uid = (long)st.st_uid;
    found->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    found->handle = fd;
    seg->mode = (unsigned)st.st_mode & 0777u;
    seg->ident[0] = (uint64_t)st.st_dev;
    seg->ident[1] = (uint64_t)st.st_ino;
    return 0;
}

static void sk_posix_forget(struct sk_seg_found *found)
{
    close(found->handle);
}

static int sk_posix_map(struct sk_seg *seg, int access, struct sk_seg_found *found,
                        size_t min_size)
{
    int fd = found->handle, rc;

    if (found->size == 0)
        rc = shmkit__fail(SHMKIT_ENOTSHMKIT, "empty object");
    else if (found->size < min_size)
        rc = shmkit__fail(SHMKIT_ENOTSHMKIT, "object of %ju bytes is smaller than a header",
                          (uintmax_t)found->size);
    else if (found->size > SIZE_MAX)
        rc = shmkit__fail(SHMKIT_ESIZE, "object too large to map");
    else
        rc = map_fd(seg, fd, (size_t)found->size, access == SK_SEG_WRITE);
    /* A writable handle may take leases: keep a descriptor for the locks. */
    if (rc == 0 && access == SK_SEG_WRITE && (rc = shmkit__posix_keep_lock_fd(seg, fd)) < 0)
        unmap(seg);
    close(fd);
    return rc;
}

/* 1 if NAME still names the object SEG mapped, 0 if it names nothing or
 * something else (a new object, or one of the non-objects checked_open
 * refuses), a negative code if that cannot be told (no permission to
 * open the name, out of descriptors). */
static int sk_posix_is_current(const struct sk_seg *seg)
{
    char kind[64];
    struct stat st;
    int fd = checked_open(seg->spec.posix_name, O_RDONLY, &st);

    if (fd == -ENOENT) {
        shmkit__fail(0, "its name no longer exists");
        return 0;
    }
    if (fd == SHMKIT_ENOTSHMKIT) {
        snprintf(kind, sizeof kind, "%s", shmkit_error_detail());
        shmkit__fail(0, "its name now names %s", kind);
        return 0;
    }
    if (fd < 0)
        return fd;
    close(fd);
    if ((uint64_t)st.st_dev == seg->ident[0] && (uint64_t)st.st_ino == seg->ident[1])
        return 1;
    shmkit__fail(0, "its name now names another object");
    return 0;
}

static int sk_posix_is_same(const struct sk_seg *seg)
{
    char detail[256];
    int same;

    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    same = sk_posix_is_current(seg) == 1;
    shmkit__fail(0, "%s", detail);
    return same;
}

static void sk_posix_close(struct sk_seg *seg)
{
    shmkit__posix_drop_lock_fd(seg);
    if (seg->rw_size != 0)
        munmap(seg->rw_header, seg->rw_size);
    munmap(seg->base, seg->size);
}

/* shm_unlink, or the NetBSD and old-macOS failures a test simulates. */
static int unlink_object(const char *name)
{
    int err = simulated_open_error(name);

    if (err == 0) {
        if (shm_unlink(name) == 0)
            return 0;
        if (errno != ENOENT || !shmkit__hook("macos-shm"))
            return -1;
        shmkit__hook_fired("macos-shm:unlink-einval");
        err = EINVAL;
    }
    errno = err;
    return -1;
}

/* shm_unlink removes whatever has the name, like rm(1); but a FIFO, a
 * directory, a socket or a symbolic link that somebody planted where a
 * segment was expected is no shared memory object, and removing it could
 * hurt whoever made it for another purpose: refuse.  (The name may change
 * between this look and the unlink; then the unlink removes what is
 * there, as rm(1) would.)  A name that cannot be opened (no permission)
 * is unlinked as before: removal needs no read permission. */
static int refuse_non_object(const char *name)
{
    char detail[256];
    struct stat st;
    int fd;

    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    fd = checked_open(name, O_RDONLY, &st);
    if (fd == SHMKIT_ENOTSHMKIT)
        return fd;
    if (fd >= 0)
        close(fd);
    shmkit__fail(0, "%s", detail);
    return 0;
}

static int sk_posix_remove(const struct sk_spec *spec)
{
    int err = refuse_non_object(spec->posix_name);

    if (err < 0)
        return err;
    if (unlink_object(spec->posix_name) == 0)
        return 0;
    if (errno == ENOTSUP || errno == EOPNOTSUPP)
        return open_failure();
    /* macOS 10.x answers EINVAL for a missing name. */
    err = errno == EINVAL ? ENOENT : errno;
    return shmkit__fail(-err, "shm_unlink: %s", strerror(err));
}

static int sk_posix_stat(const struct sk_spec *spec, struct shmkit__seg_stat *st)
{
    struct stat sb;
    int fd = checked_open(spec->posix_name, O_RDONLY, &sb);

    if (fd < 0)
        return fd;
    close(fd);
    st->size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
    st->uid = (long)sb.st_uid;
    st->mode = (unsigned)sb.st_mode & 07777u;
    return 0;
}

/* macOS allows one ftruncate per object, the one that sizes it: there an
 * object cannot shrink under a mapping. */
#if defined(__APPLE__)
#define SK_POSIX_CAN_SHRINK 0
#else
#define SK_POSIX_CAN_SHRINK 1
#endif

const struct sk_backend_ops shmkit__posix_backend = {
    .backend = SHMKIT_BACKEND_POSIX,
    .can_shrink = SK_POSIX_CAN_SHRINK,
    .create = sk_posix_create,
    .find = sk_posix_find,
    .map = sk_posix_map,
    .forget = sk_posix_forget,
    .close = sk_posix_close,
    .waiter_view = sk_posix_waiter_view,
    .is_current = sk_posix_is_current,
    .is_same = sk_posix_is_same,
    .remove = sk_posix_remove,
    .stat = sk_posix_stat,
    .lock = shmkit__posix_lock,
    .unlock = shmkit__posix_unlock,
    .lock_probe = shmkit__posix_lock_probe,
};
