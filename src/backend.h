/*
 * backend.h - what a shared memory backend does: plain system calls that
 * create, look up, map and remove an object and report its size, owner
 * and identity.  The rules (who may open what, when an owned segment is
 * removed, watching for shrinking) are segment.c's, on what the backend
 * reports; a backend calls nothing above it.
 *
 * Backends: seg_posix.c (shm_open + mmap), seg_sysv.c (shmget + shmat).
 * Each is compiled only where configure selected it, and segment.c lists
 * the ones that were.  Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_BACKEND_H
#define SHMKIT_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "spec.h"

struct sk_backend_ops;
struct sk_fault_map;

/* A mapped segment (segment.h has its operations). */
/* Lease locks one handle may hold: the creator's, the writer's and one
 * consumer's. */
#define SK_LOCKS_MAX 3

struct sk_seg {
    struct sk_spec spec;
    void *base;       /* mapping, NULL when closed */
    size_t size;      /* bytes mapped */
    int writable;
    int shmid;        /* SysV id, -1 for POSIX */
    /* A writable mapping of at least the header: BASE itself for writers;
     * for SK_SEG_WAITER readers a second mapping of the same object, made
     * by shmkit__seg_waiter_view on the first wait and used only for the waiter
     * counters; NULL if none. */
    void *rw_header;
    size_t rw_size;   /* bytes of the second mapping, 0 if none */
    int waiter_tried; /* shmkit__seg_waiter_view was called */
    long owner_uid;   /* owner of the object (fstat, IPC_STAT) */
    unsigned mode;    /* its permission bits (& 0777) when opened or created:
                         who may follow it read-only (sk_seg_has_followers) */
    long created_by;  /* pid that created the object through this handle,
                         0 if it was opened: only that process's close
                         removes an owned segment */
    uint64_t ident[2]; /* which object it is (POSIX: st_dev, st_ino; SysV:
                          shmid), so that an owned segment's creator never
                          removes a newer object that took over the name,
                          a reader's waiter view maps the object it reads
                          and shmkit__seg_is_current can tell a replaced one.
                          A reader keeps no descriptor of the object. */
    int lock_fd;      /* POSIX on Linux, creating and writable handles: a
                         read-write descriptor (>= 3, close-on-exec) that
                         holds the open file description locks of the
                         leases this handle holds; -1 otherwise */
    unsigned locks_held[SK_LOCKS_MAX]; /* lock bytes held through lock_fd, 0 = none */
    struct sk_seg *lock_next; /* seg_posix_lock.c's list of lock descriptors */
    /* The registry entries of BASE and RW_HEADER for objects that can
     * shrink under their mapping (POSIX), NULL otherwise (fault.h). */
    struct sk_fault_map *watch, *watch_rw;
};

/* Record the backend's new mapping of SIZE bytes at BASE in SEG; a
 * writable mapping is also the writable view of the header. */
static inline void sk_seg_set_mapping(struct sk_seg *seg, void *base, size_t size,
                                      int writable)
{
    seg->base = base;
    seg->size = size;
    seg->writable = writable;
    if (writable)
        seg->rw_header = base;
}

/* Access modes of a mapping. */
#define SK_SEG_READ 0   /* read-only mapping */
#define SK_SEG_WRITE 1  /* read-write mapping */
#define SK_SEG_WAITER 2 /* read-only, and able to make a writable header view */

/* Lease locks (lease.c): one byte of the object per lease, locked with an
 * open file description lock by the holder (doc/FORMAT.md, "Lease locks").
 * A lock is named by its byte, the offset of the lease's pid word: */
#define SK_LOCK_CREATOR 68u  /* creator_pid */
#define SK_LOCK_WRITER 384u  /* lease_pid */
/* consumer I of a block ring: the pid word of its entry (lease.c) */
/* Results of a lock probe. */
#define SK_LOCK_FREE 0       /* nobody holds it */
#define SK_LOCK_HELD 1       /* a live process holds it */
#define SK_LOCK_NONE (-1)    /* no lock here (System V, no OFD locks, or
                                the probe failed): judge otherwise */

/* What shmkit__seg_stat reports of a named object. */
struct shmkit__seg_stat {
    uint64_t size;
    long uid;
    unsigned mode;
    long nattch;      /* -1 where the backend cannot tell */
};

/* An existing object looked up by find, for map or forget. */
struct sk_seg_found {
    long uid;         /* its owner */
    uint64_t size;    /* its size in bytes */
    int handle;       /* POSIX: the open descriptor; SysV: the id */
};

/* A backend.  Every function records a detail with its failures. */
struct sk_backend_ops {
    int backend; /* enum shmkit_backend */
    /* 1 if an object can shrink under a mapping (fault.h watches it). */
    int can_shrink;
    /* Create SEG->spec exclusively with SIZE bytes (reserved up front
     * where the system allows), permission bits MODE applied exactly, and
     * map it read-write; record owner_uid and ident.  -EEXIST if it
     * exists.  On any failure nothing is left behind. */
    int (*create)(struct sk_seg *seg, size_t size, unsigned mode);
    /* Look up the existing object of SEG->spec for ACCESS (SK_SEG_*):
     * report its owner and size in FOUND, touching nothing of it.  FOUND
     * then goes to map or forget. */
    int (*find)(struct sk_seg *seg, int access, struct sk_seg_found *found);
    /* Map what find found with ACCESS; fewer than MIN_SIZE bytes is
     * SHMKIT_ENOTSHMKIT.  Lets go of FOUND whatever the outcome. */
    int (*map)(struct sk_seg *seg, int access, struct sk_seg_found *found, size_t min_size);
    /* Let go of FOUND without mapping it (the object was refused). */
    void (*forget)(struct sk_seg_found *found);
    /* Unmap both mappings and release what the handle holds. */
    void (*close)(struct sk_seg *seg);
    /* Make SEG->rw_header, a writable view of the header, if possible;
     * failing is no error (the waiter then polls). */
    void (*waiter_view)(struct sk_seg *seg);
    /* 1 if the spec still names SEG's object, 0 if it was removed or
     * replaced (the detail says which), a negative code if that cannot be
     * told.  is_same: the same answer as 1 or 0, details untouched. */
    int (*is_current)(const struct sk_seg *seg);
    int (*is_same)(const struct sk_seg *seg);
    int (*remove)(const struct sk_spec *spec);
    /* Fill ST (zeroed, nattch -1) for the object SPEC names. */
    int (*stat)(const struct sk_spec *spec, struct shmkit__seg_stat *st);
    /* Lease locks, NULL where the backend has none (segment.h). */
    int (*lock)(struct sk_seg *seg, unsigned lock);
    void (*unlock)(struct sk_seg *seg, unsigned lock);
    int (*lock_probe)(struct sk_seg *seg, unsigned lock);
    /* Attachments of SEG's object, NULL where the backend cannot tell. */
    long (*nattch)(const struct sk_seg *seg);
};

/* The backends, defined only where built (segment.c lists them). */
extern const struct sk_backend_ops shmkit__posix_backend;
extern const struct sk_backend_ops shmkit__sysv_backend;

#endif /* SHMKIT_BACKEND_H */
