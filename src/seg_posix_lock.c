/*
 * seg_posix_lock.c - the POSIX backend's lease locks (lease.c), and the
 * list of lock descriptors that a fork()ed child lets go of.
 *
 * Lease locks (lease.c): on Linux, a creating or writable handle keeps a
 * read-write descriptor of its object (moved to >= 3, close-on-exec) and
 * holds an open file description lock (F_OFD_SETLK, Linux 3.15) on one
 * byte per lease it holds.  The kernel drops such a lock when the last
 * reference to that open file description goes, which includes the death
 * of the process in any PID namespace.  The lock descriptor is an open
 * file description of its own, never the one a mapping was made from (a
 * mapping references it too, and a forked child inherits mappings).
 * Descriptors are shared with
 * a fork()ed child: a pthread_atfork child handler closes the child's copy
 * of every lock descriptor, so that a child (a daemon's fork-and-exit, a
 * worker) never keeps its parent's leases alive, and the child's handles
 * hold no lease.  A child made by a raw clone() without the atfork
 * handlers, or that inherits a lock descriptor in some other way, would
 * keep the lock until it exits (doc/SECURITY.md).  The other systems have
 * no OFD locks (FreeBSD's F_SETLK locks belong to the process, are
 * released by any close of the object and are not inherited, which is no
 * token of the lease): there the lease relies on pids (doc/PORTING.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "error.h"
#include "format.h"
#include "seg_posix.h"
#include "shmkit.h"

/* Not in the portable profile, which runs the code paths of the BSDs. */
#if defined(__linux__) && defined(F_OFD_SETLK) && !defined(SHMKIT_PORTABLE_PROFILE)
#define SK_OFD_LOCKS 1
#include <pthread.h>
#endif

#ifdef SK_OFD_LOCKS
/* Every handle's lock descriptor, for the fork child handler. */
static pthread_mutex_t lock_list_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t lock_list_once = PTHREAD_ONCE_INIT;
static struct sk_seg *lock_list;

static void lock_list_prepare(void)
{
    pthread_mutex_lock(&lock_list_mutex);
}

static void lock_list_parent(void)
{
    pthread_mutex_unlock(&lock_list_mutex);
}

/* In a fork()ed child: drop the child's references to the lock open file
 * descriptions (the parent's locks stay), and forget the leases. */
static void lock_list_child(void)
{
    struct sk_seg *seg;

    for (seg = lock_list; seg != NULL; seg = seg->lock_next) {
        close(seg->lock_fd);
        seg->lock_fd = -1;
        memset(seg->locks_held, 0, sizeof seg->locks_held);
    }
    lock_list = NULL;
    pthread_mutex_unlock(&lock_list_mutex);
}

static void lock_list_init(void)
{
    pthread_atfork(lock_list_prepare, lock_list_parent, lock_list_child);
}

static void lock_list_add(struct sk_seg *seg)
{
    pthread_once(&lock_list_once, lock_list_init);
    pthread_mutex_lock(&lock_list_mutex);
    seg->lock_next = lock_list;
    lock_list = seg;
    pthread_mutex_unlock(&lock_list_mutex);
}

static void lock_list_remove(struct sk_seg *seg)
{
    struct sk_seg **p;

    pthread_mutex_lock(&lock_list_mutex);
    for (p = &lock_list; *p != NULL; p = &(*p)->lock_next) {
        if (*p == seg) {
            *p = seg->lock_next;
            break;
        }
    }
    pthread_mutex_unlock(&lock_list_mutex);
}

/* A new open file description of the object open on FD, read-write.
 * Not a dup() of FD: a mapping holds a reference to the open file
 * description it was made from, and a forked child inherits the mapping,
 * so a lock on that description would live as long as the child.
 * /proc/self/fd names the object itself (no race with a new object under
 * the name); without /proc the name is opened again and checked. */
static int reopen_object(const struct sk_seg *seg, int fd)
{
    char path[40];
    struct stat st, mine;
    int again;

    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    again = open(path, O_RDWR | O_CLOEXEC);
    if (again < 0)
        again = shmkit__posix_open_object(seg->spec.posix_name, O_RDWR, 0);
    if (again < 0)
        return -1;
    if (fstat(fd, &mine) != 0 || fstat(again, &st) != 0 || st.st_dev != mine.st_dev ||
        st.st_ino != mine.st_ino) {
        close(again);
        errno = ESTALE;
        return -1;
    }
    return again;
}

/* Keep a new read-write open file description of the object open on FD
 * as SEG's lock descriptor, at 3 or above and close-on-exec: one below 3
 * could be taken for a standard stream, and one inherited through exec
 * would keep the locks. */
int shmkit__posix_keep_lock_fd(struct sk_seg *seg, int fd)
{
    int again = reopen_object(seg, fd), moved;

    if (again >= 0 && again < 3) {
        moved = fcntl(again, F_DUPFD_CLOEXEC, 3);
        close(again);
        again = moved;
    }
    if (again < 0)
        return shmkit__fail(shmkit__errno(), "cannot open a descriptor for the lease lock: %s%s",
                            strerror(errno), shmkit__posix_limit_advice(errno));
    seg->lock_fd = again;
    lock_list_add(seg);
    return 0;
}

void shmkit__posix_drop_lock_fd(struct sk_seg *seg)
{
    if (seg->lock_fd < 0)
        return;
    lock_list_remove(seg);
    close(seg->lock_fd);
    seg->lock_fd = -1;
    memset(seg->locks_held, 0, sizeof seg->locks_held);
}

_Static_assert(SK_LOCK_CREATOR == offsetof(struct sk_header, creator_pid) &&
               SK_LOCK_WRITER == offsetof(struct sk_header, lease_pid),
               "a lease lock is the byte of its pid word");

/* Where LOCK is in SEG's list of held locks (-1: not held). */
static int held_index(const struct sk_seg *seg, unsigned lock)
{
    int i;

    for (i = 0; i < SK_LOCKS_MAX; i++)
        if (seg->locks_held[i] == lock)
            return i;
    return -1;
}

static void note_held(struct sk_seg *seg, unsigned lock)
{
    int i = held_index(seg, lock);

    if (i < 0)
        i = held_index(seg, 0);
    if (i >= 0)
        seg->locks_held[i] = lock;
}

static void lock_request(struct flock *fl, short type, unsigned lock)
{
    memset(fl, 0, sizeof *fl);
    fl->l_type = type;
    fl->l_whence = SEEK_SET;
    fl->l_start = (off_t)lock;
    fl->l_len = 1;
    fl->l_pid = 0; /* required for OFD locks */
}

int shmkit__posix_lock(struct sk_seg *seg, unsigned lock)
{
    struct flock fl;

    if (seg->lock_fd < 0)
        return 1;
    lock_request(&fl, F_WRLCK, lock);
    if (fcntl(seg->lock_fd, F_OFD_SETLK, &fl) == 0) {
        note_held(seg, lock);
        return 0;
    }
    if (errno == EAGAIN || errno == EACCES)
        return SHMKIT_EBUSY;
    if (errno == EINVAL)
        return 1; /* a kernel before 3.15: no OFD locks */
    return shmkit__fail(shmkit__errno(), "fcntl(F_OFD_SETLK): %s", strerror(errno));
}

void shmkit__posix_unlock(struct sk_seg *seg, unsigned lock)
{
    struct flock fl;

    int i = held_index(seg, lock);

    if (seg->lock_fd < 0 || lock == 0 || i < 0)
        return;
    lock_request(&fl, F_UNLCK, lock);
    fcntl(seg->lock_fd, F_OFD_SETLK, &fl);
    seg->locks_held[i] = 0;
}

/* A descriptor of SEG's own object for a probe: its lock descriptor, or
 * the name opened again if it still names the same object. */
static int probe_fd(const struct sk_seg *seg, int *opened)
{
    struct stat st;
    int fd;

    *opened = 0;
    if (seg->lock_fd >= 0)
        return seg->lock_fd;
    fd = shmkit__posix_open_object(seg->spec.posix_name, O_RDONLY, 0);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != seg->ident[0] ||
        (uint64_t)st.st_ino != seg->ident[1]) {
        close(fd);
        return -1;
    }
    *opened = 1;
    return fd;
}

int shmkit__posix_lock_probe(struct sk_seg *seg, unsigned lock)
{
    struct flock fl;
    int opened, fd = probe_fd(seg, &opened), rc = SK_LOCK_NONE;

    if (fd < 0)
        return SK_LOCK_NONE;
    /* F_OFD_GETLK needs no write access: it asks whether a write lock
     * could be placed, which any other lock on the byte prevents. */
    lock_request(&fl, F_WRLCK, lock);
    if (fcntl(fd, F_OFD_GETLK, &fl) == 0)
        rc = fl.l_type == F_UNLCK ? SK_LOCK_FREE : SK_LOCK_HELD;
    if (opened)
        close(fd);
    return rc;
}
#else
int shmkit__posix_keep_lock_fd(struct sk_seg *seg, int fd)
{
    (void)seg;
    (void)fd;
    return 0;
}

void shmkit__posix_drop_lock_fd(struct sk_seg *seg)
{
    (void)seg;
}

int shmkit__posix_lock(struct sk_seg *seg, unsigned lock)
{
    (void)seg;
    (void)lock;
    return 1;
}

void shmkit__posix_unlock(struct sk_seg *seg, unsigned lock)
{
    (void)seg;
    (void)lock;
}

int shmkit__posix_lock_probe(struct sk_seg *seg, unsigned lock)
{
    (void)seg;
    (void)lock;
    return SK_LOCK_NONE;
}
#endif
