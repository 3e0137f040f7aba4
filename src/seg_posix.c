/*
 * seg_posix.c - the POSIX shared memory backend (shm_open + mmap).
 *
 * Creation is exclusive (O_CREAT|O_EXCL), so we never adopt an object that
 * somebody else pre-created; the mode is then set with fchmod so the umask
 * cannot widen or narrow it, and the owner is verified.  Space is reserved
 * with posix_fallocate where available: on tmpfs an ftruncate'd object is
 * sparse and a full /dev/shm would turn a later write into SIGBUS.
 *
 * Opening checks the size with fstat before mapping: mapping past the end
 * of an object and touching it is SIGBUS on Linux and EINVAL on macOS.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"

#ifdef SHMKIT_HAVE_POSIX

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int map_fd(struct sk_seg *seg, int fd, size_t size, int writable)
{
    int prot = PROT_READ | (writable ? PROT_WRITE : 0);
    void *base = mmap(NULL, size, prot, MAP_SHARED, fd, 0);

    if (base == MAP_FAILED)
        return sk_fail(sk_errno(), "mmap of %zu bytes: %s", size, strerror(errno));
    seg->base = base;
    seg->size = size;
    seg->writable = writable;
    if (writable)
        seg->rw_header = base;
    return 0;
}

/* A waiter's writable view of the header, from the descriptor kept since
 * the data mapping was made, so that both are the same object even if the
 * name was unlinked and reused meanwhile.  Optional: without it the reader
 * waits by polling. */
void sk_posix_waiter_view(struct sk_seg *seg)
{
    void *p;

    if (seg->waiter_fd < 0)
        return;
    p = mmap(NULL, SK_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, seg->waiter_fd, 0);
    if (p != MAP_FAILED) {
        seg->rw_header = p;
        seg->rw_size = SK_HEADER_SIZE;
    }
    close(seg->waiter_fd);
    seg->waiter_fd = -1;
}

static int reserve_space(int fd, size_t size)
{
    if (ftruncate(fd, (off_t)size) != 0)
        return sk_fail(sk_errno(), "ftruncate to %zu bytes: %s", size, strerror(errno));
#ifdef HAVE_POSIX_FALLOCATE
    {
        int rc = posix_fallocate(fd, 0, (off_t)size);
        /* Filesystems without fallocate support (EINVAL, EOPNOTSUPP, ENODEV)
         * keep the sparse object; running out of space is fatal. */
        if (rc == ENOSPC || rc == EFBIG || rc == ENOMEM)
            return sk_fail(-rc, "cannot reserve %zu bytes of shared memory: %s",
                           size, strerror(rc));
    }
#endif
    return 0;
}

static int check_new_object(int fd, unsigned mode)
{
    struct stat st;

    if (fchmod(fd, (mode_t)mode) != 0)
        return sk_fail(sk_errno(), "fchmod: %s", strerror(errno));
    if (fstat(fd, &st) != 0)
        return sk_fail(sk_errno(), "fstat: %s", strerror(errno));
    if (st.st_uid != geteuid())
        return sk_fail(-EACCES, "new object is owned by uid %ld, not us",
                       (long)st.st_uid);
    return 0;
}

int sk_posix_create(struct sk_seg *seg, size_t size, unsigned mode)
{
    const char *name = seg->spec.posix_name;
    int fd, rc;

    fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, (mode_t)(mode & 0600));
    if (fd < 0)
        return sk_fail(sk_errno(), "shm_open: %s", strerror(errno));
    rc = check_new_object(fd, mode);
    if (rc == 0)
        rc = reserve_space(fd, size);
    if (rc == 0)
        rc = map_fd(seg, fd, size, 1);
    close(fd);
    if (rc < 0)
        shm_unlink(name);
    return rc;
}

int sk_posix_open(struct sk_seg *seg, int access, size_t min_size)
{
    struct stat st;
    int fd = -1, rc, fd_writable = access != SK_SEG_READ;

    if (access == SK_SEG_WAITER) {
        fd = shm_open(seg->spec.posix_name, O_RDWR, 0);
        fd_writable = fd >= 0;
    }
    if (fd < 0)
        fd = shm_open(seg->spec.posix_name, access == SK_SEG_WRITE ? O_RDWR : O_RDONLY, 0);
    if (fd < 0)
        return sk_fail(sk_errno(), "shm_open: %s", strerror(errno));
    if (fstat(fd, &st) != 0) {
        rc = sk_fail(sk_errno(), "fstat: %s", strerror(errno));
    } else if (st.st_size <= 0) {
        rc = sk_fail(SHMKIT_ENOTSHMKIT, "empty object");
    } else if ((uintmax_t)st.st_size < min_size) {
        rc = sk_fail(SHMKIT_ENOTSHMKIT, "object of %jd bytes is smaller than a header",
                     (intmax_t)st.st_size);
    } else if ((uintmax_t)st.st_size > SIZE_MAX) {
        rc = sk_fail(SHMKIT_ESIZE, "object too large to map");
    } else {
        rc = map_fd(seg, fd, (size_t)st.st_size, access == SK_SEG_WRITE);
    }
    if (rc == 0 && access == SK_SEG_WAITER && fd_writable)
        seg->waiter_fd = fd; /* kept for sk_posix_waiter_view */
    else
        close(fd);
    return rc;
}

void sk_posix_close(struct sk_seg *seg)
{
    if (seg->waiter_fd >= 0)
        close(seg->waiter_fd);
    if (seg->rw_size != 0)
        munmap(seg->rw_header, seg->rw_size);
    munmap(seg->base, seg->size);
}

int sk_posix_remove(const struct sk_spec *spec)
{
    if (shm_unlink(spec->posix_name) != 0) {
        /* macOS answers EINVAL for a missing name. */
        int err = errno == EINVAL ? ENOENT : errno;
        return sk_fail(-err, "shm_unlink: %s", strerror(err));
    }
    return 0;
}

int sk_posix_stat(const struct sk_spec *spec, struct sk_seg_stat *st)
{
    struct stat sb;
    int fd = shm_open(spec->posix_name, O_RDONLY, 0);

    if (fd < 0)
        return sk_fail(sk_errno(), "shm_open: %s", strerror(errno));
    if (fstat(fd, &sb) != 0) {
        int rc = sk_fail(sk_errno(), "fstat: %s", strerror(errno));
        close(fd);
        return rc;
    }
    close(fd);
    st->size = sb.st_size > 0 ? (uint64_t)sb.st_size : 0;
    st->uid = (long)sb.st_uid;
    st->mode = (unsigned)sb.st_mode & 07777u;
    return 0;
}

#endif /* SHMKIT_HAVE_POSIX */
