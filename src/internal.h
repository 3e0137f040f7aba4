/*
 * internal.h - declarations shared between libshmkit's modules.
 * Nothing here is part of the public API.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_INTERNAL_H
#define SHMKIT_INTERNAL_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmkit.h"
#include "format.h"
#include "fault.h"

#define SK_HIDDEN /* every symbol without SHMKIT_API is hidden */

/* ---- errors (error.c) ------------------------------------------------ */

/* Record the reason for a failure (printf-style) and return CODE, so that
 * call sites read:  return sk_fail(SHMKIT_ENOTSHMKIT, "bad magic"); */
int sk_fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Forget any previous detail (called on entry to public functions). */
void sk_clear_detail(void);
/* -errno, never 0: for system calls that "failed" without setting errno. */
int sk_errno(void);
/* The flags every *_create takes. */
#define SK_CREATE_FLAGS (SHMKIT_EXCL | SHMKIT_WRITE | SHMKIT_OWNED | SHMKIT_ANY_OWNER)
/* -EINVAL for a NULL argument NAME (the API's NULL rule, shmkit.h). */
int sk_null_arg(const char *name);
/* -EINVAL naming the bits of FLAGS outside ALLOWED that CALL refuses. */
int sk_check_flags(unsigned flags, unsigned allowed, const char *call);
/* The failure of a wait for WHAT ("new version") that returned CODE:
 * -EAGAIN, -ETIMEDOUT and -EINTR get a detail of their own; another
 * code keeps the wait's detail, or gets a generic one if it left none
 * (the caller cleared the detail before waiting). */
int sk_wait_failure(int code, const char *what);

/* ---- specs (spec.c) -------------------------------------------------- */

#define SK_POSIX_NAME_MAX 30
#define SK_SPEC_TEXT_MAX 320

struct sk_spec {
    int backend;                        /* enum shmkit_backend */
    char posix_name[SK_POSIX_NAME_MAX + 2]; /* "/NAME" */
    long sysv_key;                      /* key_t value, != IPC_PRIVATE */
    char text[SK_SPEC_TEXT_MAX];        /* the spec as given, for messages */
};

/* Parse SPEC; SHMKIT_EBADSPEC (with detail) or SHMKIT_ENOBACKEND. */
int sk_spec_parse(const char *spec, struct sk_spec *out);

/* ---- segments (segment.c, seg_posix.c, seg_sysv.c) ---------------- */

struct sk_seg {
    struct sk_spec spec;
    void *base;       /* mapping, NULL when closed */
    size_t size;      /* bytes mapped */
    int writable;
    int shmid;        /* SysV id, -1 for POSIX */
    /* A writable mapping of at least the header: BASE itself for writers;
     * for SK_SEG_WAITER readers a second mapping of the same object, made
     * by sk_seg_waiter_view on the first wait and used only for the waiter
     * counters; NULL if none. */
    void *rw_header;
    size_t rw_size;   /* bytes of the second mapping, 0 if none */
    int waiter_tried; /* sk_seg_waiter_view was called */
    long owner_uid;   /* owner of the object (fstat, IPC_STAT) */
    long created_by;  /* pid that created the object through this handle,
                         0 if it was opened: only that process's close
                         removes an owned segment */
    uint64_t ident[2]; /* which object it is (POSIX: st_dev, st_ino; SysV:
                          shmid), so that an owned segment's creator never
                          removes a newer object that took over the name,
                          a reader's waiter view maps the object it reads
                          and sk_seg_is_current can tell a replaced one.
                          A reader keeps no descriptor of the object. */
    int lock_fd;      /* POSIX on Linux, creating and writable handles: a
                         read-write descriptor (>= 3, close-on-exec) that
                         holds the open file description locks of the
                         leases this handle holds; -1 otherwise */
    unsigned locks_held; /* SK_LOCK_* bits held through lock_fd */
    struct sk_seg *lock_next; /* seg_posix.c's list of lock descriptors */
    /* The registry entries of BASE and RW_HEADER for objects that can
     * shrink under their mapping (POSIX), NULL otherwise (fault.h). */
    struct sk_fault_map *watch, *watch_rw;
};

/* Lease locks (lease.c): one byte of the object per lease, locked with an
 * open file description lock by the holder (doc/FORMAT.md, "Lease locks").
 * The byte is the offset of the lease's pid word in the header. */
#define SK_LOCK_CREATOR 0x1u  /* byte 68: creator_pid */
#define SK_LOCK_WRITER 0x2u   /* byte 384: lease_pid */
#define SK_LOCK_CONSUMER 0x4u /* byte 516: consumer_pid */
/* Results of sk_seg_lock_probe. */
#define SK_LOCK_FREE 0       /* nobody holds it */
#define SK_LOCK_HELD 1       /* a live process holds it */
#define SK_LOCK_NONE (-1)    /* no lock here (System V, no OFD locks, or
                                the probe failed): judge otherwise */

/* Access modes of sk_seg_open. */
#define SK_SEG_READ 0   /* read-only mapping */
#define SK_SEG_WRITE 1  /* read-write mapping */
#define SK_SEG_WAITER 2 /* read-only, and able to make a writable header view */
/* Or'ed into the access mode: accept an object owned by another uid
 * (SHMKIT_ANY_OWNER); without it sk_seg_open fails with SHMKIT_EOWNER. */
#define SK_SEG_ANY_OWNER 0x10
#define SK_SEG_ACCESS_MASK 0x0f
/* The SK_SEG_ANY_OWNER bit for the public FLAGS of an *_open/_create. */
#define SK_SEG_OWNER_FLAG(flags) (((flags) & SHMKIT_ANY_OWNER) ? SK_SEG_ANY_OWNER : 0)
/* The SK_HFLAG_OWNED header bit for the public FLAGS of a *_create. */
#define SK_HFLAG_OWNED_IF(flags) (((flags) & SHMKIT_OWNED) ? (uint16_t)SK_HFLAG_OWNED : 0)

struct sk_seg_stat {
    uint64_t size;
    long uid;
    unsigned mode;
    long nattch;      /* -1 where the backend cannot tell */
};

/* Create SPEC exclusively with SIZE bytes (reserved up front where the
 * system allows, so later writes cannot SIGBUS), permission bits MODE
 * applied exactly, and map it read-write.  -EEXIST if it exists.  On any
 * failure nothing is left behind. */
int sk_seg_create(struct sk_seg *seg, const struct sk_spec *spec, size_t size,
                  unsigned mode);
/* Map an existing segment with ACCESS (SK_SEG_*).  Its size is checked
 * before mapping: fewer than MIN_SIZE bytes is SHMKIT_ENOTSHMKIT, never
 * SIGBUS. */
int sk_seg_open(struct sk_seg *seg, const struct sk_spec *spec, int access,
                size_t min_size);
/* Unmap.  When the process that created the segment through SEG closes it
 * and its header says SK_HFLAG_OWNED, the segment is removed too. */
void sk_seg_close(struct sk_seg *seg);
/* The writable header view of a segment opened with SK_SEG_WAITER (made on
 * first use) or SK_SEG_WRITE; NULL if the caller may not write to it. */
void *sk_seg_waiter_view(struct sk_seg *seg);
/* 1 if SEG's spec still names the object SEG mapped; 0 if it was removed
 * or replaced (the detail says which); a negative code if that cannot be
 * told.  A system call or two: not for fast paths. */
int sk_seg_is_current(const struct sk_seg *seg);
int sk_seg_remove(const struct sk_spec *spec);
int sk_seg_stat(const struct sk_spec *spec, struct sk_seg_stat *st);

/* Non-zero once an access found that the object shrank under SEG's
 * mapping (fault.h): what was read from it since may be zeros.  No system
 * call: one atomic load. */
static inline int sk_seg_truncated(const struct sk_seg *seg)
{
    return sk_fault_truncated(seg->watch) || sk_fault_truncated(seg->watch_rw);
}
/* RC, or SHMKIT_ECORRUPT with the detail "segment truncated" if SEG's
 * object shrank under its mapping: whatever RC says may rest on zeros.
 * Called by every operation after it touched the mapping.  It also
 * touches the last byte of the mapping (one load, no system call): an
 * object cut in the middle of a page zeroes the rest of that page, which
 * never faults, so an operation may have read such zeros without a
 * fault, while the mapping's end faults for any cut before its last page. */
int sk_seg_verdict(const struct sk_seg *seg, int rc);
/* Waiters block at most this long at a time (sk_idle_slice), then ask
 * sk_seg_verdict: a segment can shrink without any publication that would
 * wake them. */
#define SK_IDLE_SLICE_MS 500
static inline int sk_idle_slice(int left_ms)
{
    return left_ms < 0 || left_ms > SK_IDLE_SLICE_MS ? SK_IDLE_SLICE_MS : left_ms;
}

/* Backend entry points used by segment.c. */
int sk_posix_create(struct sk_seg *seg, size_t size, unsigned mode);
int sk_posix_open(struct sk_seg *seg, int access, size_t min_size);
void sk_posix_close(struct sk_seg *seg);
void sk_posix_waiter_view(struct sk_seg *seg);
int sk_posix_remove(const struct sk_spec *spec);
int sk_posix_stat(const struct sk_spec *spec, struct sk_seg_stat *st);
int sk_sysv_create(struct sk_seg *seg, size_t size, unsigned mode);
int sk_sysv_open(struct sk_seg *seg, int access, size_t min_size);
void sk_sysv_close(struct sk_seg *seg);
void sk_sysv_waiter_view(struct sk_seg *seg);
int sk_sysv_remove(const struct sk_spec *spec);
int sk_sysv_stat(const struct sk_spec *spec, struct sk_seg_stat *st);
/* Backends: record UID as SEG's owner; SHMKIT_EOWNER unless it is our
 * effective uid or ACCESS includes SK_SEG_ANY_OWNER. */
int sk_seg_check_owner(struct sk_seg *seg, int access, long uid);
/* Lease locks on SEG (SK_LOCK_* bit LOCK): take it without waiting (0,
 * SHMKIT_EBUSY if another open file description holds it, 1 if this
 * segment has no lease locks, or another error); release it; and probe
 * it for another holder (SK_LOCK_FREE, SK_LOCK_HELD, SK_LOCK_NONE). */
int sk_seg_lock(struct sk_seg *seg, unsigned lock);
void sk_seg_unlock(struct sk_seg *seg, unsigned lock);
int sk_seg_lock_probe(struct sk_seg *seg, unsigned lock);
/* Attachments of SEG's object (System V shm_nattch), -1 where unknown. */
long sk_seg_nattch(const struct sk_seg *seg);
int sk_posix_lock(struct sk_seg *seg, unsigned lock);
void sk_posix_unlock(struct sk_seg *seg, unsigned lock);
int sk_posix_lock_probe(struct sk_seg *seg, unsigned lock);
long sk_sysv_nattch(const struct sk_seg *seg);
/* Backends: 1 if SEG's name still refers to the object SEG created. */
int sk_posix_is_same(const struct sk_seg *seg);
int sk_sysv_is_same(const struct sk_seg *seg);
/* Backends of sk_seg_is_current. */
int sk_posix_is_current(const struct sk_seg *seg);
int sk_sysv_is_current(const struct sk_seg *seg);

/* ---- removal (info.c) ---------------------------------------------- */

/* Remove SPEC and the wait resources its header names (what
 * shmkit_unlink does, without clearing the error detail). */
int sk_remove_segment(const struct sk_spec *spec);

/* ---- processes (proc.c) --------------------------------------------- */

/* 32-bit token of a process's start time, never 0 when known; 0 when the
 * platform cannot tell or the process does not exist. */
uint32_t sk_proc_start_token(long pid);
/* 64-bit start time in platform units (0 unknown), for the header. */
uint64_t sk_proc_start_time(long pid);
/* The 32-bit token of a 64-bit start time (0 stays 0). */
uint32_t sk_token_from_start(uint64_t start);
/* 1 if a process with PID exists, 0 if not. */
int sk_proc_exists(long pid);
/* 1 if the process identified by PID and start TOKEN (0 = unknown) is alive,
 * 0 if it is dead or its pid was reused. */
int sk_proc_alive(long pid, uint32_t token);
uint32_t sk_self_token(void);
/* 32-bit id of this process's PID namespace, never 0 when known; 0 where
 * the system has none or cannot tell (Linux without /proc). */
uint32_t sk_pidns_self(void);
/* 1 if a pid recorded with namespace id NS can be judged by its number
 * here: NS is ours, or 0 (not recorded: format 1.0, or no namespaces). */
int sk_pidns_is_mine(uint32_t ns);

/* ---- header (header.c) --------------------------------------------- */

/* Parameters of a new segment's header. */
struct sk_header_params {
    int kind;
    uint16_t header_flags;
    uint64_t total_size;
    uint64_t payload_offset;
    uint64_t payload_size;
    uint64_t record_size;
    uint64_t capacity;
    const char *layout;   /* canonical layout text or "" */
    int wait_mech;        /* enum sk_wait_mech */
    int wait_semid;       /* sysv-sem set, -1 if none */
};

/* A validated private copy of the immutable part of a header.  Modules use
 * these values, never the shared ones, after validation. */
struct sk_header_view {
    int kind;
    unsigned format_major, format_minor;
    uint16_t header_flags;
    uint64_t total_size;
    uint64_t payload_offset;
    uint64_t payload_size;
    uint64_t record_size;
    uint64_t capacity;
    long creator_pid;
    uint64_t creator_start;
    int64_t created_sec;
    int wait_mech;        /* as recorded: untrusted, checked by wait.c */
    int wait_semid;
    char layout[SK_LAYOUT_AREA];
};

/* Fill a zeroed header (state stays INIT). */
void sk_header_init(struct sk_header *h, const struct sk_header_params *p);
/* Checksum it and mark it READY (release), the last step of creation. */
void sk_header_publish(struct sk_header *h);
uint32_t sk_header_checksum(const struct sk_header *h);
/* Validate the header of a mapping of MAPPED bytes into VIEW.  Waits a
 * bounded time for a header that is still being created.  Errors:
 * SHMKIT_ENOTSHMKIT, SHMKIT_EVERSION, SHMKIT_ECORRUPT, SHMKIT_EHALFCREATED. */
int sk_header_validate(const void *base, size_t mapped, struct sk_header_view *view);
/* The wait fields of a header whose identity and checksum are intact,
 * whatever else is wrong with it, or of a half-created header with our
 * magic (for removal), without waiting. */
int sk_header_wait_fields(const void *base, size_t mapped, int *mech, int *semid);

/* ---- slot (slot.h) and ring (ring.h) --------------------------------- */

#include "slot.h"
#include "ring.h"

/* ---- waiting (wait.c) ----------------------------------------------- */

/* The process-wide wait mode (enum sk_wait_mode) set by shmkit_set_wait_mode. */
int sk_wait_mode_get(void);

/* ---- lease (lease.c) ------------------------------------------------ */

/* The leases of a segment. */
enum sk_lease_role { SK_LEASE_WRITER, SK_LEASE_CONSUMER };

/* Take ROLE's lease of SEG (mapped writable) for this process: 0 on
 * success, SHMKIT_EBUSY (detail names the holder) if a live process holds
 * it.  A dead holder's lease is taken over, in any PID namespace where
 * the system can tell (lease.c). */
int sk_lease_acquire(struct sk_seg *seg, enum sk_lease_role role);
void sk_lease_release(struct sk_seg *seg, enum sk_lease_role role);

/* What an observer knows of a lease holder or of the creator. */
struct sk_holder_info {
    long pid;        /* as recorded (in the holder's namespace), 0 none */
    int alive;       /* 1 alive, 0 dead, -1 unknown or none */
    int other_pidns; /* 1 if the process is in another PID namespace */
};
void sk_lease_describe(struct sk_seg *seg, enum sk_lease_role role, struct sk_holder_info *out);
/* The creator recorded in SEG's header (untrusted, as far as the creator
 * got); OWNED_OR_HALF: the segment is owned by its creator or not yet
 * complete, so that the creating handle's end is the creator's end. */
void sk_creator_describe(struct sk_seg *seg, int owned_or_half, struct sk_holder_info *out);

/* ---- lease holders across fork() (holder.c) ------------------------- */

/* Incremented in the child of every fork() (pthread_atfork); read through
 * sk_same_process only. */
extern sk_atomic_u32 sk_fork_generation
#if defined(__GNUC__) && defined(SHMKIT_BUILDING_LIBRARY)
    __attribute__((visibility("hidden")))
#endif
    ;
/* Register the fork handler (once per process) and store the current
 * generation in *GENERATION, for a handle being opened.  -ENOMEM (with a
 * detail) if the handler cannot be registered. */
int sk_holder_stamp(uint32_t *generation);
/* 1 if a handle stamped with GENERATION was opened by this very process,
 * 0 if it was inherited through fork().  No system call. */
static inline int sk_same_process(uint32_t generation)
{
    return sk_load(&sk_fork_generation, SK_RELAXED) == generation;
}
/* The failure of an operation that acts as the holder of ROLE's lease
 * ("writer", "consumer") through an inherited handle: SHMKIT_ENOTHOLDER. */
int sk_not_holder(const char *role);

/* ---- racy copies (copy.c) ------------------------------------------ */

/* Copy N bytes that another process may be writing concurrently.  The
 * caller validates the copy afterwards (seqlock style) and discards it if a
 * write overlapped.  See copy.c for why this is not a plain memcpy under
 * ThreadSanitizer. */
void sk_racy_copy(void *dst, const volatile void *src, size_t n);
/* The writer's side: store N bytes that readers may be copying. */
void sk_racy_write(volatile void *dst, const void *src, size_t n);

/* ---- time (proc.c) -------------------------------------------------- */

uint64_t sk_monotonic_ns(void);
void sk_sleep_ns(uint64_t ns);

#endif /* SHMKIT_INTERNAL_H */
