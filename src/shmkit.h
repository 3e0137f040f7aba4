/*
 * shmkit.h - exchange data between processes through shared memory.
 *
 * Copyright (c) 2026 The shmkit authors.
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * Conventions
 * -----------
 * - Handles are opaque; create them with the *_create / *_open / *_parse
 *   functions and release them with the matching *_close / *_free.
 * - Functions that can fail return an int: 0 (or a non-negative count) on
 *   success and a negative code on failure.  Codes in the range -1 .. -999
 *   are negated errno values and keep the system's meaning (-ENOENT: no such
 *   segment, -EACCES: permission denied, ...).  Codes from -1000 down are the
 *   library's own (enum shmkit_errcode).  shmkit_strerror() describes either
 *   kind; shmkit_error_detail() gives the reason behind the most recent
 *   failure in the calling thread (for example "bad magic").
 * - A segment is named by a spec string:
 *     "/NAME"           POSIX shared memory (shm_open).  NAME is 1-30
 *                       characters from [A-Za-z0-9._-], not "." or "..".
 *     "sysv:PATH:PROJ"  System V, key = ftok(PATH, PROJ), PROJ 1-255 in
 *                       decimal or 0x hex ("sysv:/srv/app:0x41").
 *     "sysv:0xKEY"      System V with an explicit key (hex),
 *     "sysv:DECIMAL"    or decimal; key 0 (IPC_PRIVATE) is refused.
 * - Everything read from shared memory is treated as untrusted input and
 *   validated before use.  Readers map segments read-only.
 * - NULL: a NULL handle or a NULL pointer that a call needs (an output
 *   pointer, a spec, a layout text, a buffer) is -EINVAL with a detail
 *   naming the argument.  Exceptions: a data pointer may be NULL when its
 *   length is 0; the LAYOUT of shmkit_slot_create and the VERSION of
 *   shmkit_slot_read are optional; the *_close and *_free functions accept
 *   NULL and do nothing, as free() does; functions that cannot return a
 *   code (sizes, positions, shmkit_slot_layout, shmkit_layout_text) return
 *   0, NULL or "" for a NULL handle.
 * - Flags: a flag bit a call does not take (unknown bits, or one that
 *   makes no sense for it, such as SHMKIT_EXCL on an open) is -EINVAL with
 *   a detail naming the bits.
 * - The wrong kind of handle: a writer's operation on a reader's handle,
 *   or a reader's on the writer's, is -EPERM.  A call out of order on the
 *   right handle (a commit without a reserve) is -EINVAL.
 * - Threads: a handle may be used by one thread at a time.  A ring
 *   reader's call (recv, peek, release) that finds its handle in use by
 *   another thread returns -EINVAL ("in use by another thread") without
 *   touching it; the writer's calls (send, reserve, commit) catch most
 *   such overlaps the same way, without a barrier on their fast path.
 *   Slot handles are not checked.  Errors about the
 *   caller's misuse never read as damage to the segment: SHMKIT_ECORRUPT
 *   is reported only when the segment itself is inconsistent.
 * - fork(): a child inherits its parent's handles but not its leases.
 *   Operations that act as the lease holder (shmkit_slot_write,
 *   shmkit_ring_send/reserve/commit, a block ring consumer's
 *   shmkit_ring_recv/peek/release) fail with SHMKIT_ENOTHOLDER in the
 *   child; read-only operations (shmkit_slot_read/wait/version, an
 *   overwrite reader's receive) work, and closing an inherited handle
 *   neither releases the parent's lease nor removes its owned segment.  A
 *   child opens the segment again to become a writer or consumer.  The
 *   check costs no system call: a pthread_atfork handler marks children;
 *   children made without it (vfork, a raw clone system call) must not
 *   use inherited handles at all.
 * - Descriptors: a reader handle keeps no file descriptor open for its
 *   segment (it opens the name again, briefly, on its first wait).  Every
 *   descriptor the library opens is close-on-exec, and none is ever 0, 1
 *   or 2: one the system hands out there (the program closed its standard
 *   input, output or error) is moved above 2 at once.
 * - errno: the return value tells the error.  A successful call may
 *   change errno, but never sets it to 0 (as no POSIX function does).
 * - A POSIX name that is no shared memory object (a FIFO, directory,
 *   socket, symbolic link or device that somebody made in /dev/shm) is
 *   refused with SHMKIT_ENOTSHMKIT by every call, without blocking and
 *   without following the link; shmkit_error_detail() says what it is
 *   ("a FIFO").  An open interrupted by a signal handler returns -EINTR
 *   (possible only where shm_open can block on a FIFO: OpenBSD).
 *
 * The in-memory format is documented byte by byte in doc/FORMAT.md.
 */
#ifndef SHMKIT_H
#define SHMKIT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Symbol visibility: the library is built with hidden visibility and
 * exports exactly the functions marked SHMKIT_API. */
#ifndef SHMKIT_API
#  if defined(SHMKIT_BUILDING_LIBRARY) && defined(__GNUC__) && __GNUC__ >= 4
#    define SHMKIT_API __attribute__((visibility("default")))
#  else
#    define SHMKIT_API
#  endif
#endif

/* ------------------------------------------------------------------ */
/* Version                                                             */
/* ------------------------------------------------------------------ */

/* SHMKIT_VERSION_MAJOR, _MINOR, _PATCH, _STRING and _NUMBER (MAJOR * 10000 +
 * MINOR * 100 + PATCH, for compile-time comparisons): the version of this
 * header, generated by configure from its one source, AC_INIT. */
#include "shmkit-version.h"

/* The version of the library actually linked, as "MAJOR.MINOR.PATCH". */
SHMKIT_API const char *shmkit_version(void);
/* The same as a number built like SHMKIT_VERSION_NUMBER. */
SHMKIT_API unsigned shmkit_version_number(void);

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* The library's own error codes, written once: this list makes enum
 * shmkit_errcode, the texts of shmkit_strerror() and the names of
 * shmkit_strerror_name().  XX(NAME, VALUE, TEXT) for each; an application
 * may expand it too (#define MY_XX(name, value, text) ...). */
#define SHMKIT_ERRNO_MAP(XX)                                                           \
    /* malformed segment spec */                                                      \
    XX(SHMKIT_EBADSPEC, -1001, "bad segment spec")                                    \
    /* segment exists but is not a shmkit segment */                                  \
    XX(SHMKIT_ENOTSHMKIT, -1002, "not a shmkit segment")                              \
    /* shmkit segment of an incompatible format version */                            \
    XX(SHMKIT_EVERSION, -1003, "incompatible segment format version")                 \
    /* slot opened as ring or vice versa */                                           \
    XX(SHMKIT_EKIND, -1004, "wrong segment kind")                                     \
    /* record or buffer size does not match */                                        \
    XX(SHMKIT_ESIZE, -1005, "size mismatch")                                          \
    /* layout does not match the segment's */                                         \
    XX(SHMKIT_ELAYOUT, -1006, "layout mismatch")                                      \
    /* header or data fails validation, or the segment shrank under the handle       \
     * (detail "segment truncated"; shmkit(3)) */                                     \
    XX(SHMKIT_ECORRUPT, -1007, "corrupt segment")                                     \
    /* another live process (or another handle of this one) holds the lease the      \
     * call needs: the writer lease, or a block ring's consumer lease; the detail    \
     * says which and who ("pid 42 is the consumer") */                               \
    XX(SHMKIT_EBUSY, -1008, "lease busy")                                             \
    /* backend not available in this build or system */                               \
    XX(SHMKIT_ENOBACKEND, -1009, "backend not available")                             \
    /* layout text cannot be parsed */                                                \
    XX(SHMKIT_EBADLAYOUT, -1010, "bad layout")                                        \
    /* no field of that name in the layout */                                         \
    XX(SHMKIT_ENOFIELD, -1011, "unknown field")                                       \
    /* value text cannot be parsed for the field's type */                            \
    XX(SHMKIT_EBADVALUE, -1012, "bad value")                                          \
    /* value out of range for the field's type */                                     \
    XX(SHMKIT_ERANGE, -1013, "value out of range")                                    \
    /* text or array value longer than the field */                                   \
    XX(SHMKIT_ETOOLONG, -1014, "value too long")                                      \
    /* creator died (or is still busy) before finishing */                            \
    XX(SHMKIT_EHALFCREATED, -1015, "segment creation incomplete")                     \
    /* record kept changing during every bounded retry */                             \
    XX(SHMKIT_ECONTENDED, -1016, "record changed during every retry")                 \
    /* peeked message overwritten before release */                                   \
    XX(SHMKIT_EOVERWRITTEN, -1017, "message overwritten before release")              \
    /* segment owned by another user (SHMKIT_ANY_OWNER) */                            \
    XX(SHMKIT_EOWNER, -1018, "segment owned by another user")                         \
    /* this process does not hold the handle's lease (a handle inherited through      \
     * fork()) */                                                                     \
    XX(SHMKIT_ENOTHOLDER, -1019,                                                      \
       "this process does not hold the lease (handle inherited through fork?)")

/* Every enumerator is followed by a comma, so the list ends with one that
 * is no error: C89 and C++98 allow no comma after the last enumerator.
 * Library codes are below SHMKIT_ERRCODE_BASE, errno codes above it. */
#define SHMKIT_ERRCODE_ENUM_(name, value, text) name = value,
enum shmkit_errcode {
    SHMKIT_ERRNO_MAP(SHMKIT_ERRCODE_ENUM_)
    SHMKIT_ERRCODE_BASE = -1000
};
#undef SHMKIT_ERRCODE_ENUM_

/* A description of CODE (a negative errno value or a shmkit_errcode),
 * never NULL: "corrupt segment", "Permission denied"; an errno value
 * without a text of its own is "system error N", any other code "unknown
 * error".  The string is constant (the caller must not modify or free it)
 * and valid for the life of the process.  Thread-safe: it does not call
 * strerror(). */
SHMKIT_API const char *shmkit_strerror(int code);

/* The name of CODE's constant, never NULL: "SHMKIT_ECORRUPT" for a
 * shmkit_errcode, "EACCES" for -EACCES, "OK" for 0, and "unknown" for a
 * code the library does not know.  Constant, thread-safe, for logs and
 * bindings that map codes to names. */
SHMKIT_API const char *shmkit_strerror_name(int code);

/* The reason behind the most recent failure of a shmkit call in the calling
 * thread, e.g. "bad magic" or "header checksum mismatch"; "" if none was
 * recorded.  Valid until the next shmkit call in the same thread. */
SHMKIT_API const char *shmkit_error_detail(void);

/* ------------------------------------------------------------------ */
/* Segments                                                            */
/* ------------------------------------------------------------------ */

enum shmkit_backend { SHMKIT_BACKEND_POSIX = 1, SHMKIT_BACKEND_SYSV = 2 };
enum shmkit_kind { SHMKIT_KIND_SLOT = 1, SHMKIT_KIND_RING = 2 };
enum shmkit_ring_policy { SHMKIT_RING_BLOCK = 1, SHMKIT_RING_OVERWRITE = 2 };

/* Flags for the *_create and *_open functions. */
#define SHMKIT_EXCL 0x0001u  /* create: fail with -EEXIST if the segment exists */
#define SHMKIT_WRITE 0x0002u /* open: as the writer (takes the writer lease) */
#define SHMKIT_FROM_OLDEST 0x0004u /* ring open: start at the oldest retained
                                      message (a block ring's consumer: as a
                                      new consumer, see "Rings") */
#define SHMKIT_FROM_NEWEST 0x0008u /* ring open, block policy: join as a new
                                      consumer at the newest message */
#define SHMKIT_ACK 0x0010u /* ring open, block policy consumer: acknowledged
                              consumption (see shmkit_ring_ack) */
#define SHMKIT_OWNED 0x0100u /* create: the segment lives only as long as its
                                creator: removed when the creating process
                                closes the handle, or by "shmkit rm --stale"
                                once it died.  Default: persistent. */
#define SHMKIT_ANY_OWNER 0x0200u /* open (and create of an existing segment):
                                    accept a segment owned by another user;
                                    without it that is SHMKIT_EOWNER */

/* Non-zero if this build supports BACKEND. */
SHMKIT_API int shmkit_backend_available(int backend);

/* Check that SPEC is well formed without touching any segment.
 * Returns the backend (> 0) or SHMKIT_EBADSPEC / SHMKIT_ENOBACKEND. */
SHMKIT_API int shmkit_spec_check(const char *spec);

/* What shmkit_info() reports about a segment. */
struct shmkit_info {
    int backend;                 /* enum shmkit_backend */
    int kind;                    /* enum shmkit_kind */
    unsigned format_major;       /* format version of the segment */
    unsigned format_minor;
    uint64_t total_size;         /* bytes of shared memory */
    uint64_t payload_size;       /* bytes after the header */
    uint64_t record_size;        /* slot: bytes per record */
    uint64_t version;            /* slot: number of records published */
    char layout[256];            /* slot layout text, "" for raw records */
    long owner_uid;              /* owner of the segment object */
    unsigned mode;               /* permission bits */
    long creator_pid;
    int creator_alive;           /* 1 alive, 0 dead, -1 unknown */
    long writer_pid;             /* 0 if no writer holds the lease */
    int writer_alive;            /* 1 alive, 0 dead, -1 unknown or no writer */
    long attach_count;           /* SysV shm_nattch, -1 where unknown */
    int64_t created_sec;         /* creation time, seconds since the epoch */
    /* Rings (zero for slots): */
    int ring_policy;             /* enum shmkit_ring_policy */
    uint64_t ring_capacity;      /* bytes of message data */
    uint64_t ring_max_message;   /* largest message accepted */
    uint64_t ring_used;          /* bytes not yet consumed (block) or retained */
    uint64_t ring_messages;      /* messages published so far */
    long consumer_pid;           /* block policy: the first consumer entry
                                    with a lease holder; 0 if none */
    int consumer_alive;          /* 1 alive, 0 dead, -1 unknown or none */
    char wait_mechanism[16];     /* how waiters block on this segment */
    int owned;                   /* 1 owned (SHMKIT_OWNED), 0 persistent */
    int ready;                   /* 1 creation complete; 0 half-created (then
                                    only backend, owner_uid, mode, total_size,
                                    attach_count and creator_* are set) */
    unsigned other_pidns;        /* SHMKIT_INFO_*_OTHER_PIDNS bits: that
                                    process is in another PID namespace (a
                                    container); its pid is as seen there */
    unsigned ring_consumers;     /* block policy: entries of the consumer
                                    table (shmkit_info_consumers) */
    uint64_t reserved[6];        /* room for later fields; zero */
};

/* Bits of shmkit_info.other_pidns.  The *_alive fields of such a process
 * come from the kernel's lease locks or attach counts, never from its pid
 * (shmkit_info(3), doc/SECURITY.md). */
#define SHMKIT_INFO_CREATOR_OTHER_PIDNS 0x1u
#define SHMKIT_INFO_WRITER_OTHER_PIDNS 0x2u
#define SHMKIT_INFO_CONSUMER_OTHER_PIDNS 0x4u

/* Validate the segment named by SPEC and describe it.  Works with read
 * permission only, and for a segment of any owner: it only inspects, and
 * reports the owner in owner_uid for the caller to judge (the *_open
 * functions refuse another user's segment without SHMKIT_ANY_OWNER).
 * Errors as for shmkit_slot_open(); on SHMKIT_EHALFCREATED the fields
 * listed at `ready' are filled in.
 *
 * INFO_SIZE is sizeof(struct shmkit_info) as the caller was compiled:
 *     struct shmkit_info info;
 *     rc = shmkit_info(spec, &info, sizeof info);
 * so that the structure can grow: a later library fills only the fields
 * of a smaller (older) structure, and a structure larger than this
 * library's gets zeros in the fields it does not know.  A size smaller
 * than this first version's (or above 4096) is -EINVAL. */
SHMKIT_API int shmkit_info(const char *spec, struct shmkit_info *info, size_t info_size);

/* One consumer entry of a block ring, as shmkit_info_consumers reports it. */
struct shmkit_consumer {
    int active;              /* 1: the ring keeps messages for this entry
                                (its position holds the writer back) */
    int alive;               /* lease holder: 1 alive, 0 dead, -1 unknown
                                or none */
    long pid;                /* lease holder, 0 if none */
    int other_pidns;         /* 1: pid is as seen in another PID namespace */
    unsigned reserved32;     /* zero */
    uint64_t next_message;   /* number of the next message it will read, as
                                the consumer reported it */
    uint64_t lag_messages;   /* messages published that it has not read */
    uint64_t lag_bytes;      /* bytes of the ring it holds (active only) */
    uint64_t reserved[4];    /* zero */
};

/* Describe the consumer entries of the block ring SPEC: fills OUT[0 ..
 * min(COUNT, N) - 1] and returns N, the entries the ring has (so that
 * COUNT 0 and OUT NULL ask for N alone).  ENTRY_SIZE is
 * sizeof(struct shmkit_consumer) as the caller was compiled.  Needs read
 * permission only.  Errors as shmkit_info; SHMKIT_EKIND for a slot or an
 * overwrite ring, which have no consumer table. */
SHMKIT_API int shmkit_info_consumers(const char *spec, struct shmkit_consumer *out, size_t count,
                                     size_t entry_size);

/* Remove the segment named by SPEC (shm_unlink or IPC_RMID).  Processes that
 * have it mapped keep their mapping (shmkit_slot_is_current tells them).
 * Does not check that the segment is a shmkit segment, like rm(1), but
 * refuses a POSIX name that is no shared memory object at all (a FIFO,
 * directory, socket or symbolic link in /dev/shm) with SHMKIT_ENOTSHMKIT:
 * somebody made it for another purpose. */
SHMKIT_API int shmkit_unlink(const char *spec);

/* ------------------------------------------------------------------ */
/* Layouts: the record format of a slot                                */
/* ------------------------------------------------------------------ */
/*
 * A layout is a list of "name:type" fields separated by spaces or commas,
 * e.g. "id:u32 temp:f64 pos:i16[3] label:char[16]".  Types: i8 u8 i16 u16
 * i32 u32 i64 u64 f32 f64, numeric arrays T[N] and text char[N].  Fields are
 * placed with natural alignment (each element aligned to its size), so a
 * layout matches the equivalent C struct byte for byte on every 64-bit ABI
 * and on ARM (size rounded up to the largest alignment); on i386, declare
 * 8-byte members _Alignas(8).  The layout is the same in 32- and 64-bit
 * processes.  Numbers are read and printed in the "C" locale's format:
 * programs that call setlocale() keep LC_NUMERIC as "C".
 */

typedef struct shmkit_layout shmkit_layout;

enum shmkit_type {
    SHMKIT_TYPE_I8 = 1, SHMKIT_TYPE_U8, SHMKIT_TYPE_I16, SHMKIT_TYPE_U16,
    SHMKIT_TYPE_I32, SHMKIT_TYPE_U32, SHMKIT_TYPE_I64, SHMKIT_TYPE_U64,
    SHMKIT_TYPE_F32, SHMKIT_TYPE_F64, SHMKIT_TYPE_CHAR
};

/* Limits of the layout language. */
#define SHMKIT_LAYOUT_MAX_TEXT 255    /* canonical text, without the NUL */
#define SHMKIT_LAYOUT_MAX_NAME 31     /* field name length */
#define SHMKIT_LAYOUT_MAX_FIELDS 64
#define SHMKIT_RECORD_MAX (1u << 30)  /* largest record of any slot */

struct shmkit_field {
    const char *name;  /* valid as long as the layout */
    int type;          /* enum shmkit_type */
    size_t count;      /* elements: 1 for a scalar, N for T[N] and char[N] */
    int is_array;      /* 1 for T[N] (not char[N]) */
    size_t offset;     /* byte offset in the record */
    size_t size;       /* bytes occupied */
};

/* Parse TEXT.  Field names: [A-Za-z_][A-Za-z0-9_]*, unique.  Errors:
 * SHMKIT_EBADLAYOUT (with a detail naming the problem), -ENOMEM. */
SHMKIT_API int shmkit_layout_parse(shmkit_layout **layoutp, const char *text);
SHMKIT_API void shmkit_layout_free(shmkit_layout *layout);

/* Canonical text: fields separated by single spaces, e.g. "a:u8 b:f64". */
SHMKIT_API const char *shmkit_layout_text(const shmkit_layout *layout);
SHMKIT_API size_t shmkit_layout_size(const shmkit_layout *layout);
SHMKIT_API size_t shmkit_layout_align(const shmkit_layout *layout);
SHMKIT_API size_t shmkit_layout_count(const shmkit_layout *layout);
/* Describe field INDEX (0-based).  -EINVAL if out of range. */
SHMKIT_API int shmkit_layout_field(const shmkit_layout *layout, size_t index,
                                   struct shmkit_field *field);
/* Index of field NAME, or SHMKIT_ENOFIELD. */
SHMKIT_API int shmkit_layout_find(const shmkit_layout *layout, const char *name);

/* Store VALUE (text) into field NAME of RECORD (shmkit_layout_size bytes).
 * Integers: decimal or 0x hex, range-checked.  Floats: strtod syntax,
 * rounded to the type; SHMKIT_ERANGE if the value would become infinite
 * or, not being zero, zero (subnormal results are stored).
 * char[N]: up to N-1 bytes, NUL-padded.  Arrays: comma-separated values,
 * fewer than N leave the rest zero.  RECORD is unchanged on error.
 * Errors: SHMKIT_ENOFIELD, SHMKIT_EBADVALUE, SHMKIT_ERANGE, SHMKIT_ETOOLONG. */
SHMKIT_API int shmkit_layout_set(const shmkit_layout *layout, void *record,
                                 const char *name, const char *value);
/* The same with one "name=value" argument. */
SHMKIT_API int shmkit_layout_assign(const shmkit_layout *layout, void *record,
                                    const char *assignment);

/* Format field INDEX of RECORD as text into BUF (snprintf semantics: returns
 * the length the full text needs, writes at most LEN bytes including the
 * NUL).  Floats print in the shortest form that reads back exactly; text is
 * printed up to its first NUL with backslash escapes for \, control and
 * non-ASCII bytes; arrays comma-separated. */
SHMKIT_API int shmkit_layout_format(const shmkit_layout *layout, const void *record,
                                   size_t index, char *buf, size_t len);
/* All fields as "name=value\n" lines (snprintf semantics). */
SHMKIT_API int shmkit_layout_to_text(const shmkit_layout *layout, const void *record,
                                     char *buf, size_t len);
/* All fields as one JSON object without a trailing newline: numbers as JSON
 * numbers (non-finite floats as null), arrays as JSON arrays, text as JSON
 * strings (snprintf semantics).  Well-formed UTF-8 text is written as it
 * is (with ", \, controls and U+2028/U+2029 escaped); each byte that is
 * not part of well-formed UTF-8 is written as \u00XX.  The output is
 * always valid UTF-8 and valid JSON. */
SHMKIT_API int shmkit_layout_to_json(const shmkit_layout *layout, const void *record,
                                     char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Slots: the latest value of a record                                 */
/* ------------------------------------------------------------------ */
/*
 * One writer at a time (a lease: the writer's pid, process start time and
 * PID namespace in the header; the lease of a dead writer is taken over,
 * also from another PID namespace where the system can tell: see
 * doc/SECURITY.md), any number of readers.  On Linux a writer or creating
 * handle of a POSIX segment keeps one file descriptor (3 or above,
 * close-on-exec) that holds the lease's lock, as does a block ring's
 * consumer; a fork()ed child's copy is closed at the fork.  Readers never block the writer and never see a torn record: the
 * writer fills the inactive one of two buffers and then publishes it, so a
 * writer killed mid-update leaves the previous record intact.
 */

typedef struct shmkit_slot shmkit_slot;

/* Create the slot SPEC and open it as its writer.  LAYOUT (may be NULL for
 * raw records) gives the record format; RECORD_SIZE is the record size for
 * raw slots and must be 0 or the layout's size otherwise.  MODE: permission
 * bits (0 means 0600), applied exactly, whatever the umask.  If the segment
 * exists and FLAGS lacks SHMKIT_EXCL, it is opened as writer instead and must
 * match: SHMKIT_ELAYOUT or SHMKIT_ESIZE otherwise.  The new record is all
 * zero bytes, version 0. */
SHMKIT_API int shmkit_slot_create(shmkit_slot **slotp, const char *spec,
                                  const char *layout, size_t record_size,
                                  unsigned mode, unsigned flags);

/* Open the existing slot SPEC: read-only by default, or as its writer with
 * SHMKIT_WRITE (SHMKIT_EBUSY if another live process is the writer).
 * Errors: -ENOENT, -EACCES, SHMKIT_EBADSPEC, SHMKIT_ENOTSHMKIT,
 * SHMKIT_EVERSION, SHMKIT_EKIND, SHMKIT_ECORRUPT, SHMKIT_EHALFCREATED, ... */
SHMKIT_API int shmkit_slot_open(shmkit_slot **slotp, const char *spec, unsigned flags);

/* Release the handle (and the writer lease).  The segment stays.  NULL
 * is allowed. */
SHMKIT_API void shmkit_slot_close(shmkit_slot *slot);

/* Copy the latest record into BUF (LEN >= record size; BUF NULL is
 * -EINVAL, there is no "query" mode: see shmkit_slot_version and
 * shmkit_slot_record_size) and store its version (0 for a slot never
 * written) in *VERSION if not NULL.  Returns the record size.
 * SHMKIT_ECONTENDED if the writer replaced the record during every
 * bounded retry. */
SHMKIT_API int shmkit_slot_read(shmkit_slot *slot, void *buf, size_t len,
                                uint64_t *version);

/* Publish RECORD (exactly the record size).  Writer handles only (-EPERM
 * otherwise; SHMKIT_ENOTHOLDER through a handle inherited through fork()).
 * Returns 0. */
SHMKIT_API int shmkit_slot_write(shmkit_slot *slot, const void *record, size_t len);

/* Wait until a version newer than SINCE_VERSION is published.  TIMEOUT_MS:
 * < 0 waits forever, 0 only checks (-EAGAIN if there is none).  Returns 0,
 * -ETIMEDOUT, or -EINTR if a signal handler ran (wait again if you like: no
 * publication is missed; see "Signals" at shmkit_set_wait_mode for what
 * SA_RESTART changes and two windows of a few microseconds).  Spins
 * briefly, then blocks (see shmkit_set_wait_mode).  A reader without write
 * permission on the segment cannot register as a waiter and polls instead
 * (about 1 ms latency). */
SHMKIT_API int shmkit_slot_wait(shmkit_slot *slot, uint64_t since_version, int timeout_ms);

/* Whether the handle's spec still names the segment the handle mapped:
 * 1 yes; 0 if the segment was removed (shmkit_unlink, "shmkit rm",
 * ipcrm), or removed and replaced by a new segment of the same name, or
 * the name now names something that is no segment (the handle then only
 * sees a segment nobody else will open again: reopen by name to follow
 * the new one); shmkit_error_detail() then says which.  A negative code
 * if that cannot be told now (-EACCES: the name may no longer be opened;
 * -EMFILE).  POSIX: the name is opened again and compared by device and
 * inode; System V: the id is checked with IPC_STAT (gone, or marked
 * SHM_DEST) and the key looked up again.  Costs a few system calls: call
 * it when a wait times out, not per record.  Safe in any process that
 * holds the handle, writer or reader. */
SHMKIT_API int shmkit_slot_is_current(const shmkit_slot *slot);

/* Store the version of the latest published record (0 for a slot never
 * written) in *VERSION, without copying the record.  Returns 0, or an
 * error as shmkit_slot_read (*VERSION is then left alone). */
SHMKIT_API int shmkit_slot_version(shmkit_slot *slot, uint64_t *version);
SHMKIT_API size_t shmkit_slot_record_size(const shmkit_slot *slot);
/* The slot's parsed layout, or NULL for a raw slot.  Owned by the slot. */
SHMKIT_API const shmkit_layout *shmkit_slot_layout(const shmkit_slot *slot);

/* ------------------------------------------------------------------ */
/* Rings: a stream of messages                                         */
/* ------------------------------------------------------------------ */
/*
 * Variable-length messages (0 .. max_message bytes) in a ring of
 * `capacity` bytes, one writer at a time (the same lease as slots).
 *
 * SHMKIT_RING_BLOCK: lossless, to up to `consumers` consumers (chosen at
 *   creation, 1 by default): every consumer receives every message, in
 *   order, and the writer waits while the ring is full for the slowest.
 *   Each consumer's position lives in the segment (an entry of its
 *   consumer table).  A consumer that closes or dies leaves its entry
 *   behind: the ring keeps its messages, and the next consumer that opens
 *   the ring (flags 0) takes the entry over and continues where it
 *   stopped (the message a consumer was receiving when it died may be
 *   delivered again).  With SHMKIT_FROM_NEWEST or SHMKIT_FROM_OLDEST a
 *   consumer joins afresh, at the newest message or at the oldest the
 *   ring still keeps.  A left entry never wedges the writer while another
 *   consumer is alive: when it is what the writer waits for, the writer
 *   drops it (within about 50 ms).  With no live consumer, the writer
 *   waits.  When every entry has a live consumer, the next one gets
 *   SHMKIT_EBUSY.
 * SHMKIT_RING_OVERWRITE: broadcast to any number of read-only readers with
 *   private cursors; the writer never waits; a reader that falls behind
 *   skips to the oldest retained message and learns exactly how many it
 *   lost (shmkit_ring_lost); it is never handed a partially overwritten
 *   message.  A new reader starts at the newest message, or at the oldest
 *   retained one with SHMKIT_FROM_OLDEST.
 *
 * Timeouts are in milliseconds: < 0 waits forever; 0 does not wait and
 * fails with -EAGAIN; > 0 fails with -ETIMEDOUT when it expires.  Waits
 * return -EINTR if a signal handler ran (see "Signals" at
 * shmkit_set_wait_mode).
 */

typedef struct shmkit_ring shmkit_ring;

/* How to create a ring.  Set it up with SHMKIT_RING_OPTIONS_INIT or
 * shmkit_ring_options_init, which fill SIZE and the defaults, then set
 * the members wanted: later versions may add members at the end, and
 * SIZE tells the library which ones a caller knows.
 *   capacity     bytes of message data, rounded up to a power of two
 *                (256 bytes .. 1 GiB); no default: it must be set.
 *   max_message  the largest message, at most capacity / 2 - 16 so that
 *                every message fits whatever the ring's state; 0 (the
 *                default): that largest possible.
 *   policy       enum shmkit_ring_policy; SHMKIT_RING_BLOCK by default.
 *   mode, flags  as for shmkit_slot_create (0: 0600, and no flags).
 *   consumers    block policy: how many consumers the ring takes at once,
 *                1 .. SHMKIT_RING_MAX_CONSUMERS; 0 (the default): 1.
 *                Each costs 128 bytes of the segment.
 *   first_seq    the number of the ring's first message (0 by default):
 *                a copy of another ring keeps that ring's numbers. */
struct shmkit_ring_options {
    size_t size;          /* sizeof(struct shmkit_ring_options) */
    size_t capacity;
    size_t max_message;
    int policy;
    unsigned mode;
    unsigned flags;
    unsigned consumers;
    uint64_t first_seq;
};
#define SHMKIT_RING_OPTIONS_INIT \
    { sizeof(struct shmkit_ring_options), 0, 0, SHMKIT_RING_BLOCK, 0, 0, 0, 0 }
#define SHMKIT_RING_MAX_CONSUMERS 256
/* The same as SHMKIT_RING_OPTIONS_INIT, for options already declared. */
SHMKIT_API void shmkit_ring_options_init(struct shmkit_ring_options *options);

/* The geometry a ring created with OPTIONS gets: its CAPACITY (rounded
 * up), its largest message and the bytes of its segment (header
 * included); any of the three may be NULL.  Errors as shmkit_ring_create
 * gives for OPTIONS: -EINVAL (no options, a SIZE this library does not
 * know, an unknown policy), SHMKIT_ESIZE. */
SHMKIT_API int shmkit_ring_size(const struct shmkit_ring_options *options, size_t *capacity,
                                size_t *max_message, size_t *segment_size);

/* Create the ring SPEC as OPTIONS say and open it as its writer.  An
 * existing segment: as shmkit_slot_create (a different capacity or
 * maximum is SHMKIT_ESIZE, a different policy or a slot SHMKIT_EKIND). */
SHMKIT_API int shmkit_ring_create(shmkit_ring **ringp, const char *spec,
                                  const struct shmkit_ring_options *options);

/* Open the existing ring SPEC: as its writer with SHMKIT_WRITE; otherwise
 * as the consumer (block policy: needs write permission, SHMKIT_EBUSY if
 * another live process consumes) or as a read-only reader (overwrite
 * policy; SHMKIT_FROM_OLDEST chooses where it starts). */
SHMKIT_API int shmkit_ring_open(shmkit_ring **ringp, const char *spec, unsigned flags);

/* Release the handle and its lease.  The segment and its messages stay.
 * NULL is allowed. */
SHMKIT_API void shmkit_ring_close(shmkit_ring *ring);

/* Writer: copy LEN bytes in as one message.  -EMSGSIZE if LEN exceeds the
 * maximum; block policy: waits while the ring is full.  The writer's
 * calls (send, reserve, commit) return -EPERM on another handle and
 * SHMKIT_ENOTHOLDER in a process that inherited the handle (fork). */
SHMKIT_API int shmkit_ring_send(shmkit_ring *ring, const void *msg, size_t len,
                                int timeout_ms);

/* Writer, zero-copy: make room for a message of up to LEN bytes and point
 * *PTR at it; then shmkit_ring_commit publishes its first N <= LEN bytes.
 * Nothing is visible to readers before the commit.  If the segment shrinks
 * meanwhile, *PTR stays writable until the commit (or close), which then
 * returns SHMKIT_ECORRUPT, "segment truncated": nothing was sent. */
SHMKIT_API int shmkit_ring_reserve(shmkit_ring *ring, void **ptr, size_t len,
                                   int timeout_ms);
SHMKIT_API int shmkit_ring_commit(shmkit_ring *ring, size_t len);
/* Writer: drop the reservation instead (an error while filling it in);
 * nothing is published, and the next send or reserve may go ahead.
 * -EINVAL if nothing is reserved. */
SHMKIT_API int shmkit_ring_cancel(shmkit_ring *ring);

/* Reader: copy the next message into BUF and return its length.
 * -EMSGSIZE if LEN is too small (the message stays; shmkit_ring_peek tells
 * its size).  The reader's calls (recv, peek, release) return -EPERM on
 * the writer's handle, and on a block ring's consumer handle inherited
 * through fork() SHMKIT_ENOTHOLDER. */
SHMKIT_API int shmkit_ring_recv(shmkit_ring *ring, void *buf, size_t len, int timeout_ms);

/* Reader, zero-copy: point *PTR at the next message in shared memory and
 * return its length; shmkit_ring_release then moves past it.  On an
 * overwrite ring the writer may overwrite a message that is being looked
 * at: release then returns SHMKIT_EOVERWRITTEN, and what was seen must be
 * discarded.  If the segment shrinks meanwhile, *PTR stays readable until
 * the release (or close), bytes read through it may be zeros, and release
 * returns SHMKIT_ECORRUPT, "segment truncated": discard them too. */
SHMKIT_API int shmkit_ring_peek(shmkit_ring *ring, const void **ptr, int timeout_ms);
SHMKIT_API int shmkit_ring_release(shmkit_ring *ring);

/* Acknowledged consumption (a block ring's consumer opened with
 * SHMKIT_ACK): recv and release move only the handle's cursor, and the
 * messages read stay in the ring (the writer waits for them; a consumer
 * that takes the entry over after a crash receives them again) until
 * shmkit_ring_ack acknowledges every message numbered below SEQ, which
 * must lie between shmkit_ring_acked and shmkit_ring_position.  For
 * forwarding a ring without losing messages when the forwarder dies.
 * shmkit_ring_rewind moves the cursor back to the first unacknowledged
 * message.  -EINVAL on any other handle, or (rewind) while a message is
 * peeked. */
SHMKIT_API int shmkit_ring_ack(shmkit_ring *ring, uint64_t seq);
SHMKIT_API int shmkit_ring_rewind(shmkit_ring *ring);
/* The number of the first message not acknowledged yet. */
SHMKIT_API uint64_t shmkit_ring_acked(const shmkit_ring *ring);

/* Overwrite readers: messages skipped because the writer overwrote them,
 * since the handle was opened. */
SHMKIT_API uint64_t shmkit_ring_lost(const shmkit_ring *ring);
/* Sequence number of the next message this reader will receive (messages
 * are numbered from 0), or the writer's next. */
SHMKIT_API uint64_t shmkit_ring_position(const shmkit_ring *ring);

/* As shmkit_slot_is_current, for a ring handle. */
SHMKIT_API int shmkit_ring_is_current(const shmkit_ring *ring);

SHMKIT_API size_t shmkit_ring_capacity(const shmkit_ring *ring);
SHMKIT_API size_t shmkit_ring_max_message(const shmkit_ring *ring);
SHMKIT_API int shmkit_ring_policy(const shmkit_ring *ring);

/* ------------------------------------------------------------------ */
/* Waiting                                                             */
/* ------------------------------------------------------------------ */

enum shmkit_wait_mode {
    SHMKIT_WAIT_ADAPTIVE = 0, /* spin briefly, then block (default) */
    SHMKIT_WAIT_SPIN = 1,     /* spin only: lowest latency, burns a core */
    SHMKIT_WAIT_BLOCK = 2     /* block at once: lowest CPU use */
};

/* How this process's waits behave (all handles).  Returns the previous
 * mode, or -EINVAL.
 *
 * Signals: in every mode a wait returns -EINTR when a handler installed
 * without SA_RESTART runs in the waiting thread, except in two windows: the
 * first 5 us of a spin (spin mode, adaptive's spin phase: no system call
 * can see a handler run, and masking signals for every wait would cost as
 * much as a round trip; after that the spin blocks signals other than
 * faults and delivers pending ones every few microseconds), and the
 * instant before a kernel sleep.  With SA_RESTART a spin goes on, and a
 * kernel sleep goes on when the kernel restarts it (Linux futex without a
 * timeout) or returns -EINTR (semop, the polling naps, a futex sleep with a
 * timeout).  Details: shmkit_set_wait_mode(3). */
SHMKIT_API int shmkit_set_wait_mode(int mode);

/* The blocking mechanism of this build: "futex", "umtx", "openbsd-futex",
 * "netbsd-futex", "darwin", "sysv-sem" or "poll". */
SHMKIT_API const char *shmkit_wait_mechanism(void);

#ifdef __cplusplus
}
#endif

#endif /* SHMKIT_H */
