/*
 * pyshmkit.h - internal header of the shmkit._shmkit extension module.
 *
 * The extension uses libshmkit's public API (<shmkit.h>) only, so that it
 * builds against an installed libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef PYSHMKIT_H
#define PYSHMKIT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stddef.h>
#include <stdint.h>

#include <shmkit.h>

/* ---- handles and their locks ------------------------------------------- */

/* Incremented in a fork()ed child (shmkit._shmkit._after_fork, registered
 * with os.register_at_fork): a handle whose lock was allocated in another
 * generation gets a new one, since a thread of the parent may have held
 * the old one at the fork. */
extern unsigned long sk_fork_generation;

/* What every handle object has first. */
typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock;  /* serialises the C calls on the handle */
    unsigned long lock_gen;   /* sk_fork_generation when it was allocated */
    PyObject *spec;           /* str */
    int closing;              /* close() asked: waits stop at the next slice */
    int busy;                 /* the lock is held by a thread (sk_lock), which
                                 may have released the GIL; read and written
                                 with the GIL held */
    PyObject *weakreflist;
} SkHandle;

/* Take the handle's lock, releasing the GIL if it is taken by another
 * thread, for a section that may release the GIL (busy is set while it is
 * held).  0, or -1 with MemoryError set. */
int sk_lock(SkHandle *h);
/* The same, then ValueError (and the lock not held) if the handle is
 * being closed or closed. */
int sk_lock_open(SkHandle *h);
void sk_unlock(SkHandle *h);
int sk_lock_init(SkHandle *h);

/* Hold the handle for a section that keeps the GIL from start to end (C
 * calls only: no Python code, no allocation of objects the GC tracks, no
 * Py_BEGIN_ALLOW_THREADS): the GIL itself serialises such sections, so
 * none takes the lock, which costs an atomic operation and, in CPython
 * 3.11, a clock read.  Only while no thread holds the lock (busy): then it
 * waits for it as sk_lock() does.  0, or -1 with an exception set (as
 * sk_lock_open(): ValueError once close() began).  Nothing to undo. */
int sk_hold_open_slow(SkHandle *h);
static inline int sk_hold_open(SkHandle *h)
{
    if (h->busy || h->closing || h->lock_gen != sk_fork_generation)
        return sk_hold_open_slow(h);
    return 0;
}
void sk_lock_free(SkHandle *h);

/* A C call that may wait: called with the handle's lock held and the GIL
 * released; returns a libshmkit result. */
typedef int (*sk_wait_fn)(void *ctx, int timeout_ms);

#define SK_WAIT_PYERR (-2000000)    /* a Python exception is set */
#define SK_WAIT_REMOVED (-2000001)  /* the segment was removed or replaced */
#define SK_DETAIL_MAX 256

/* Timeout argument: None -> -1 (forever), a number of seconds >= 0.
 * 0 or -1 with an exception set. */
int sk_parse_timeout(PyObject *obj, double *seconds);

/* A parsed timeout (never NaN) that does not wait: 0 seconds.  Spelled
 * with two ordered comparisons rather than ==, for -Wfloat-equal: it is
 * exactly 0 only when the caller gave 0, which is what is meant. */
static inline int sk_timeout_is_zero(double seconds)
{
    return !(seconds < 0) && !(seconds > 0);
}

/* Call FN once with timeout 0 and the GIL held (what is there already
 * is taken without a GIL round trip or a clock read; TIMEOUT 0 ends
 * there), then in slices of at most 200 ms until it returns anything but a
 * timeout (or -EINTR), or TIMEOUT seconds (< 0: forever) have passed,
 * with the handle's lock held and the GIL released during each call;
 * signals are checked between slices (a handler's exception ends the
 * wait: SK_WAIT_PYERR).  CHECK_CURRENT: IS_CURRENT is called after each
 * second of idle time, and 0 from it ends the wait with SK_WAIT_REMOVED.
 * The detail of a libshmkit failure is copied into DETAIL. */
int sk_wait(SkHandle *h, double timeout, sk_wait_fn fn, void *ctx,
            int (*is_current)(void *ctx), char *detail);

/* "timeout", interned. */
extern PyObject *sk_str_timeout;

/* METH_FASTCALL | METH_KEYWORDS arguments: up to NMAX, named NAMES, into
 * OUT (borrowed references; NULL for one not given); the first NREQ are
 * required.  0, or -1 with TypeError set. */
int sk_parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                  const char *const *names, Py_ssize_t nmax, Py_ssize_t nreq,
                  const char *fname, PyObject **out);

/* The UTF-8 text of the spec SPEC (a str); NULL with ValueError for an
 * embedded NUL. */
const char *sk_spec_utf8(PyObject *spec);

/* Raise ValueError if the handle is closed; 0 if it is open. */
int sk_check_open(SkHandle *h, const void *c_handle);

/* ---- errors -------------------------------------------------------------- */

extern PyObject *SkError;
extern PyObject *SkSegmentRemovedError;
extern PyObject *SkUnsupportedOperation;  /* io.UnsupportedOperation */

int sk_errors_init(PyObject *module);
/* Raise the exception for libshmkit's RC with DETAIL (NULL: the current
 * shmkit_error_detail()) about SPEC (may be NULL).  Returns NULL. */
PyObject *sk_raise(int rc, const char *detail, PyObject *spec);
/* The same for an sk_wait() result (SK_WAIT_PYERR: already set). */
PyObject *sk_raise_wait(int rc, const char *detail, PyObject *spec);

/* ---- layouts ------------------------------------------------------------- */

typedef struct {
    struct shmkit_field f;
    PyObject *name;           /* str, interned */
} SkField;

typedef struct {
    size_t count;
    size_t size;
    SkField *fields;
    PyObject *text;           /* str */
} SkLayout;

/* Describe LAYOUT in *OUT: 0, or -1 with an exception set. */
int sk_layout_init(SkLayout *out, const shmkit_layout *layout);
void sk_layout_clear(SkLayout *l);
/* The record as a dict by field name. */
PyObject *sk_record_to_dict(const SkLayout *l, const unsigned char *record);
/* Convert VALUE for field F into F's bytes at DST (f.size bytes). */
int sk_field_from_py(const SkField *f, PyObject *value, unsigned char *dst);
/* Index of field NAME (str), or -1 (no exception set). */
Py_ssize_t sk_layout_find(const SkLayout *l, PyObject *name);
/* numpy, imported lazily: a clear ImportError if it cannot be. */
PyObject *sk_import_numpy(const char *what);
/* The NumPy structured dtype equal to the layout byte for byte. */
PyObject *sk_layout_dtype(const SkLayout *l);

/* ---- types ----------------------------------------------------------------- */

extern PyTypeObject SkSlot_Type;
extern PyTypeObject SkSlotFollow_Type;
extern PyTypeObject SkRing_Type;
extern PyTypeObject SkSharedBuffer_Type;
extern PyTypeObject SkPeek_Type;
extern PyTypeObject SkReservation_Type;

int sk_slot_init_types(PyObject *module);
int sk_ring_init_types(PyObject *module);

/* Warn about a handle that is garbage-collected while open. */
void sk_warn_unclosed(PyObject *self, const char *type, PyObject *spec);

#endif /* PYSHMKIT_H */
