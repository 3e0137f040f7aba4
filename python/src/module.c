/*
 * module.c - the shmkit._shmkit extension module: initialisation, module
 * functions, constants, and the helpers the handle types share (locks,
 * sliced waits with the GIL released).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "pyshmkit.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

unsigned long sk_fork_generation;

/* ---- locks ----------------------------------------------------------------- */

int sk_lock_init(SkHandle *h)
{
    h->busy = 0;
    h->lock = PyThread_allocate_lock();
    h->lock_gen = sk_fork_generation;
    if (h->lock == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

void sk_lock_free(SkHandle *h)
{
    if (h->lock != NULL && h->lock_gen == sk_fork_generation)
        PyThread_free_lock(h->lock);
    h->lock = NULL;
}

int sk_lock(SkHandle *h)
{
    if (h->lock_gen != sk_fork_generation) {
        /* A child of fork(): the parent's thread that may have held the
         * lock is not here.  The old lock is left alone (it may be held). */
        h->lock = PyThread_allocate_lock();
        h->lock_gen = sk_fork_generation;
        if (h->lock == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    if (!PyThread_acquire_lock(h->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(h->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    h->busy = 1;
    return 0;
}

int sk_hold_open_slow(SkHandle *h)
{
    /* Another thread holds the lock (and may be in a C call with the GIL
     * released), or this is a child of fork(): wait for the lock, then let
     * it go at once; with the GIL held nobody takes it before this
     * section ends. */
    while (h->busy || h->lock_gen != sk_fork_generation) {
        if (sk_lock(h) < 0)
            return -1;
        sk_unlock(h);
    }
    if (h->closing) {
        sk_check_open(h, NULL);
        return -1;
    }
    return 0;
}

int sk_lock_open(SkHandle *h)
{
    if (sk_lock(h) < 0)
        return -1;
    if (h->closing) {
        /* close() began (it takes the lock after setting closing) */
        sk_unlock(h);
        sk_check_open(h, NULL);
        return -1;
    }
    return 0;
}

void sk_unlock(SkHandle *h)
{
    h->busy = 0;
    PyThread_release_lock(h->lock);
}

int sk_check_open(SkHandle *h, const void *c_handle)
{
    if (c_handle == NULL || h->closing) {
        PyErr_Format(PyExc_ValueError, "I/O operation on closed shmkit %s (%R)",
                     Py_TYPE(h)->tp_name + sizeof "shmkit." - 1, h->spec);
        return -1;
    }
    return 0;
}

const char *sk_spec_utf8(PyObject *spec)
{
    Py_ssize_t len;
    const char *s = PyUnicode_AsUTF8AndSize(spec, &len);

    if (s != NULL && strlen(s) != (size_t)len) {
        PyErr_SetString(PyExc_ValueError, "embedded null character in spec");
        return NULL;
    }
    return s;
}

void sk_warn_unclosed(PyObject *self, const char *type, PyObject *spec)
{
    PyObject *type_, *value, *tb;

    PyErr_Fetch(&type_, &value, &tb);
    if (PyErr_ResourceWarning(self, 1, "unclosed shmkit.%s %R", type, spec) < 0)
        PyErr_WriteUnraisable(self); /* the warning is an error */
    PyErr_Restore(type_, value, tb);
}

/* ---- waits ----------------------------------------------------------------- */

#define SLICE_MS 200
#define IDLE_CHECK_MS 1000

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sk_parse_timeout(PyObject *obj, double *seconds)
{
    double t;

    if (obj == NULL || obj == Py_None) {
        *seconds = -1.0;
        return 0;
    }
    /* float and int without PyFloat_AsDouble(), which converts an int
     * through a new float object */
    if (PyFloat_CheckExact(obj))
        t = PyFloat_AS_DOUBLE(obj);
    else if (PyLong_CheckExact(obj))
        t = PyLong_AsDouble(obj);
    else
        t = PyFloat_AsDouble(obj);
    if (PyErr_Occurred()) {
        PyErr_Format(PyExc_TypeError, "timeout must be a number of seconds or None, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    if (isnan(t) || t < 0) {
        PyErr_SetString(PyExc_ValueError, "timeout must be >= 0 seconds (or None: forever)");
        return -1;
    }
    *seconds = t;
    return 0;
}

static int retryable(int rc)
{
    return rc == -EAGAIN || rc == -ETIMEDOUT || rc == -EINTR;
}

static void copy_detail(char *detail)
{
    strncpy(detail, shmkit_error_detail(), SK_DETAIL_MAX - 1);
    detail[SK_DETAIL_MAX - 1] = '\0';
}

int sk_wait(SkHandle *h, double timeout, sk_wait_fn fn, void *ctx,
            int (*is_current)(void *ctx), char *detail)
{
    double deadline = 0, idle_since;
    int rc;

    detail[0] = '\0';
    /* Fast path: what is there already (a message, room) is taken with
     * the GIL held and no clock read; such a call does not wait. */
    if (sk_hold_open(h) < 0)
        return SK_WAIT_PYERR;
    rc = fn(ctx, 0);
    if (rc < 0)
        copy_detail(detail);
    if (!retryable(rc))
        return rc;
    if (sk_timeout_is_zero(timeout) && rc != -EINTR) {
        if (PyErr_CheckSignals() < 0)
            return SK_WAIT_PYERR;
        return rc;
    }
    idle_since = now_seconds();
    if (timeout >= 0)
        deadline = idle_since + timeout;
    for (;;) {
        int slice = SLICE_MS, current = 1, check;
        double left = 0;

        if (timeout >= 0) {
            left = deadline - now_seconds();
            if (left <= 0)
                slice = 0;
            else if (left * 1000 < SLICE_MS) {
                double ms = ceil(left * 1000);  /* 1 .. SLICE_MS */

                slice = (int)ms;
            }
        }
        check = is_current != NULL && now_seconds() - idle_since >= IDLE_CHECK_MS / 1000.0;
        if (sk_lock(h) < 0)
            return SK_WAIT_PYERR;
        if (h->closing) {
            sk_unlock(h);
            PyErr_SetString(PyExc_ValueError, "the handle was closed while waiting");
            return SK_WAIT_PYERR;
        }
        Py_BEGIN_ALLOW_THREADS
        rc = fn(ctx, slice);
        if (rc < 0)
            copy_detail(detail);
        if ((rc == -ETIMEDOUT || rc == -EAGAIN) && check) {
            current = is_current(ctx);
            if (current == 0)
                copy_detail(detail);
        }
        Py_END_ALLOW_THREADS
        sk_unlock(h);
        if (rc != -ETIMEDOUT && rc != -EAGAIN && rc != -EINTR)
            return rc;
        if (current == 0)
            return SK_WAIT_REMOVED;
        if (check)
            idle_since = now_seconds();
        if (PyErr_CheckSignals() < 0)
            return SK_WAIT_PYERR;
        if (h->closing) {
            PyErr_SetString(PyExc_ValueError, "the handle was closed while waiting");
            return SK_WAIT_PYERR;
        }
        if (timeout >= 0 && slice == 0 && rc != -EINTR) {
            if (timeout > 0) {
                snprintf(detail, SK_DETAIL_MAX, "nothing within %g s", timeout);
                return -ETIMEDOUT;
            }
            return rc;
        }
    }
}

PyObject *sk_str_timeout;

int sk_parse_args(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                  const char *const *names, Py_ssize_t nmax, Py_ssize_t nreq,
                  const char *fname, PyObject **out)
{
    Py_ssize_t i, j, nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;

    if (nargs > nmax) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd argument%s (%zd given)", fname,
                     nmax, nmax == 1 ? "" : "s", nargs);
        return -1;
    }
    for (i = 0; i < nmax; i++)
        out[i] = i < nargs ? args[i] : NULL;
    for (i = 0; i < nkw; i++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, i);
        /* The names of a call in compiled code are interned: "timeout",
         * the keyword of every waiting call, by identity. */
        int is_timeout = key == sk_str_timeout;

        for (j = 0; j < nmax; j++)
            if (is_timeout ? strcmp(names[j], "timeout") == 0
                           : PyUnicode_CompareWithASCIIString(key, names[j]) == 0)
                break;
        if (j == nmax) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", fname,
                         key);
            return -1;
        }
        if (out[j] != NULL) {
            PyErr_Format(PyExc_TypeError, "argument for %s() given by name ('%s') and "
                         "position (%zd)", fname, names[j], j + 1);
            return -1;
        }
        out[j] = args[nargs + i];
    }
    for (i = 0; i < nreq; i++)
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s' (pos %zd)",
                         fname, names[i], i + 1);
            return -1;
        }
    return 0;
}

/* ---- module functions ------------------------------------------------------- */

static const char *const mode_names[] = { "adaptive", "spin", "block" };

PyDoc_STRVAR(set_wait_mode_doc,
"set_wait_mode(mode) -> str\n\n"
"Choose how this process's waits behave, for every handle: 'adaptive' (spin\n"
"briefly, then block; the default), 'spin' (spin only: lowest latency, burns\n"
"a core) or 'block' (block at once: lowest CPU use).  MODE may also be one of\n"
"the constants WAIT_ADAPTIVE, WAIT_SPIN, WAIT_BLOCK.  Returns the previous\n"
"mode's name.  See shmkit_set_wait_mode(3).");

static PyObject *set_wait_mode(PyObject *self, PyObject *arg)
{
    int mode = -1, i, prev;

    (void)self;
    if (PyUnicode_Check(arg)) {
        for (i = 0; i < 3; i++)
            if (PyUnicode_CompareWithASCIIString(arg, mode_names[i]) == 0)
                mode = i;
    } else if (PyLong_Check(arg)) {
        long v = PyLong_AsLong(arg);
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (v >= 0 && v <= 2)
            mode = (int)v;
    } else {
        return PyErr_Format(PyExc_TypeError, "mode must be a str or an int, not %.100s",
                            Py_TYPE(arg)->tp_name);
    }
    if (mode < 0)
        return PyErr_Format(PyExc_ValueError,
                            "unknown wait mode %R (expected 'adaptive', 'spin' or 'block')",
                            arg);
    prev = shmkit_set_wait_mode(mode);
    if (prev < 0)
        return sk_raise(prev, NULL, NULL);
    return PyUnicode_FromString(prev <= 2 ? mode_names[prev] : "unknown");
}

PyDoc_STRVAR(wait_mechanism_doc,
"wait_mechanism() -> str\n\n"
"The blocking mechanism of this build of libshmkit: 'futex', 'umtx',\n"
"'openbsd-futex', 'netbsd-futex', 'darwin', 'sysv-sem' or 'poll'.");

static PyObject *wait_mechanism(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyUnicode_FromString(shmkit_wait_mechanism());
}

static int backend_of(PyObject *arg)
{
    if (PyUnicode_Check(arg)) {
        if (PyUnicode_CompareWithASCIIString(arg, "posix") == 0)
            return SHMKIT_BACKEND_POSIX;
        if (PyUnicode_CompareWithASCIIString(arg, "sysv") == 0)
            return SHMKIT_BACKEND_SYSV;
    }
    PyErr_Format(PyExc_ValueError, "unknown backend %R (expected 'posix' or 'sysv')", arg);
    return -1;
}

PyDoc_STRVAR(backend_available_doc,
"backend_available(name) -> bool\n\n"
"Whether this build and system support the backend NAME, 'posix' or 'sysv'.");

static PyObject *backend_available(PyObject *self, PyObject *arg)
{
    int b = backend_of(arg);

    (void)self;
    if (b < 0)
        return NULL;
    return PyBool_FromLong(shmkit_backend_available(b));
}

PyDoc_STRVAR(check_spec_doc,
"check_spec(spec) -> str\n\n"
"Check that SPEC is well formed, without touching any segment, and return\n"
"its backend, 'posix' or 'sysv'.  Raises InvalidArgumentError for a\n"
"malformed spec, BackendUnavailableError for a backend this build lacks.");

static PyObject *check_spec(PyObject *self, PyObject *args)
{
    const char *spec;
    int rc;

    (void)self;
    if (!PyArg_ParseTuple(args, "s:check_spec", &spec))
        return NULL;
    rc = shmkit_spec_check(spec);
    if (rc < 0)
        return sk_raise(rc, NULL, PyTuple_GET_ITEM(args, 0));
    return PyUnicode_FromString(rc == SHMKIT_BACKEND_POSIX ? "posix" : "sysv");
}

PyDoc_STRVAR(unlink_doc,
"unlink(spec) -> None\n\n"
"Remove the segment SPEC (shm_unlink or IPC_RMID).  Processes that have it\n"
"open keep their mapping (their is_current() turns False).  Like rm(1) it\n"
"does not check that the segment is shmkit's, but refuses a POSIX name that\n"
"is no shared memory object (NotShmkitError).  NotFoundError if there is\n"
"none.");

static PyObject *unlink_(PyObject *self, PyObject *args)
{
    const char *spec;
    int rc;

    (void)self;
    if (!PyArg_ParseTuple(args, "s:unlink", &spec))
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_unlink(spec);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return sk_raise(rc, NULL, PyTuple_GET_ITEM(args, 0));
    Py_RETURN_NONE;
}

static int set_item(PyObject *d, const char *key, PyObject *v)
{
    int rc;

    if (v == NULL)
        return -1;
    rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *alive(int a)
{
    if (a < 0)
        Py_RETURN_NONE;
    return PyBool_FromLong(a);
}

static PyObject *pid_or_none(long pid)
{
    if (pid == 0)
        Py_RETURN_NONE;
    return PyLong_FromLong(pid);
}

static PyObject *consumers_of(const char *spec, PyObject *specobj)
{
    struct shmkit_consumer *c;
    PyObject *list;
    int n, i, rc;

    Py_BEGIN_ALLOW_THREADS
    n = shmkit_info_consumers(spec, NULL, 0, sizeof *c);
    Py_END_ALLOW_THREADS
    if (n < 0)
        return sk_raise(n, NULL, specobj);
    c = PyMem_Calloc((size_t)n + 1, sizeof *c);
    if (c == NULL)
        return PyErr_NoMemory();
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_info_consumers(spec, c, (size_t)n, sizeof *c);
    Py_END_ALLOW_THREADS
    if (rc < 0) {
        PyMem_Free(c);
        return sk_raise(rc, NULL, specobj);
    }
    if (rc < n)
        n = rc;
    list = PyList_New(n);
    for (i = 0; list != NULL && i < n; i++) {
        PyObject *d = PyDict_New();
        if (d == NULL || set_item(d, "active", PyBool_FromLong(c[i].active)) < 0
            || set_item(d, "alive", alive(c[i].alive)) < 0
            || set_item(d, "pid", pid_or_none(c[i].pid)) < 0
            || set_item(d, "other_pidns", PyBool_FromLong(c[i].other_pidns)) < 0
            || set_item(d, "next_message", PyLong_FromUnsignedLongLong(c[i].next_message)) < 0
            || set_item(d, "lag_messages", PyLong_FromUnsignedLongLong(c[i].lag_messages)) < 0
            || set_item(d, "lag_bytes", PyLong_FromUnsignedLongLong(c[i].lag_bytes)) < 0) {
            Py_XDECREF(d);
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, i, d);
    }
    PyMem_Free(c);
    return list;
}

PyDoc_STRVAR(info_doc,
"info(spec) -> dict\n\n"
"Validate the segment SPEC and describe it (shmkit_info(3)); needs read\n"
"permission only, and works for a segment of any owner.  Keys:\n"
"  spec, backend ('posix'|'sysv'), kind ('slot'|'ring'), format ((major,\n"
"  minor)), total_size, payload_size, owner_uid, mode, creator_pid,\n"
"  creator_alive, writer_pid, writer_alive, attach_count, created (seconds\n"
"  since the epoch), wait_mechanism, owned (bool), ready (bool: False for a\n"
"  half-created segment, see below), creator_other_pidns,\n"
"  writer_other_pidns, consumer_other_pidns (bools: that process is in\n"
"  another PID namespace);\n"
"  slots: record_size, version, layout (text, or None for raw records);\n"
"  rings: policy ('block'|'overwrite'), capacity, max_message, used,\n"
"  messages, consumer_pid, consumer_alive, consumer_entries, and\n"
"  consumers: for a block ring a list of dicts (active, alive, pid,\n"
"  other_pidns, next_message, lag_messages, lag_bytes) from\n"
"  shmkit_info_consumers(3), else [].\n"
"The keys of the other kind are None.  *_alive: True, False or None\n"
"(unknown, or no such process); *_pid: None when there is none;\n"
"attach_count: None where unknown.  A half-created segment raises\n"
"HalfCreatedError.");

static PyObject *info(PyObject *self, PyObject *args)
{
    struct shmkit_info in;
    const char *spec;
    PyObject *specobj, *d;
    int rc, slot, ring;

    (void)self;
    if (!PyArg_ParseTuple(args, "s:info", &spec))
        return NULL;
    specobj = PyTuple_GET_ITEM(args, 0);
    memset(&in, 0, sizeof in);
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_info(spec, &in, sizeof in);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return sk_raise(rc, NULL, specobj);
    slot = in.kind == SHMKIT_KIND_SLOT;
    ring = in.kind == SHMKIT_KIND_RING;
    d = PyDict_New();
    if (d == NULL)
        return NULL;
#define SET(k, v) if (set_item(d, k, v) < 0) goto fail
#define U64(x) PyLong_FromUnsignedLongLong((unsigned long long)(x))
#define NONE_UNLESS(c, v) ((c) ? (v) : (Py_INCREF(Py_None), Py_None))
    Py_INCREF(specobj);
    SET("spec", specobj);
    SET("backend", PyUnicode_FromString(in.backend == SHMKIT_BACKEND_POSIX ? "posix" : "sysv"));
    SET("kind", PyUnicode_FromString(slot ? "slot" : ring ? "ring" : "unknown"));
    SET("format", Py_BuildValue("(II)", in.format_major, in.format_minor));
    SET("total_size", U64(in.total_size));
    SET("payload_size", U64(in.payload_size));
    SET("owner_uid", PyLong_FromLong(in.owner_uid));
    SET("mode", PyLong_FromUnsignedLong(in.mode));
    SET("creator_pid", pid_or_none(in.creator_pid));
    SET("creator_alive", alive(in.creator_alive));
    SET("writer_pid", pid_or_none(in.writer_pid));
    SET("writer_alive", alive(in.writer_alive));
    SET("attach_count", in.attach_count < 0 ? (Py_INCREF(Py_None), Py_None)
                                            : PyLong_FromLong(in.attach_count));
    SET("created", PyLong_FromLongLong((long long)in.created_sec));
    in.wait_mechanism[sizeof in.wait_mechanism - 1] = '\0';
    SET("wait_mechanism", PyUnicode_DecodeASCII(in.wait_mechanism,
                                                (Py_ssize_t)strlen(in.wait_mechanism),
                                                "replace"));
    SET("owned", PyBool_FromLong(in.owned));
    SET("ready", PyBool_FromLong(in.ready));
    SET("creator_other_pidns",
        PyBool_FromLong((in.other_pidns & SHMKIT_INFO_CREATOR_OTHER_PIDNS) != 0));
    SET("writer_other_pidns",
        PyBool_FromLong((in.other_pidns & SHMKIT_INFO_WRITER_OTHER_PIDNS) != 0));
    SET("consumer_other_pidns",
        PyBool_FromLong((in.other_pidns & SHMKIT_INFO_CONSUMER_OTHER_PIDNS) != 0));
    SET("record_size", NONE_UNLESS(slot, U64(in.record_size)));
    SET("version", NONE_UNLESS(slot, U64(in.version)));
    in.layout[sizeof in.layout - 1] = '\0';
    SET("layout", NONE_UNLESS(slot && in.layout[0] != '\0',
                              PyUnicode_DecodeUTF8(in.layout, (Py_ssize_t)strlen(in.layout),
                                                   "replace")));
    SET("policy", NONE_UNLESS(ring, PyUnicode_FromString(in.ring_policy == SHMKIT_RING_BLOCK
                                                             ? "block" : "overwrite")));
    SET("capacity", NONE_UNLESS(ring, U64(in.ring_capacity)));
    SET("max_message", NONE_UNLESS(ring, U64(in.ring_max_message)));
    SET("used", NONE_UNLESS(ring, U64(in.ring_used)));
    SET("messages", NONE_UNLESS(ring, U64(in.ring_messages)));
    SET("consumer_pid", NONE_UNLESS(ring, pid_or_none(in.consumer_pid)));
    SET("consumer_alive", NONE_UNLESS(ring, alive(in.consumer_alive)));
    SET("consumer_entries",
        NONE_UNLESS(ring && in.ring_policy == SHMKIT_RING_BLOCK,
                    PyLong_FromUnsignedLong(in.ring_consumers)));
    if (ring && in.ring_policy == SHMKIT_RING_BLOCK) {
        SET("consumers", consumers_of(spec, specobj));
    } else {
        SET("consumers", PyList_New(0));
    }
#undef SET
#undef U64
#undef NONE_UNLESS
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

PyDoc_STRVAR(after_fork_doc,
"_after_fork() -> None\n\n"
"Internal: called in a fork()ed child (os.register_at_fork) so that each\n"
"handle gets a fresh lock.");

static PyObject *after_fork(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    sk_fork_generation++;
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    { "info", info, METH_VARARGS, info_doc },
    { "unlink", unlink_, METH_VARARGS, unlink_doc },
    { "check_spec", check_spec, METH_VARARGS, check_spec_doc },
    { "set_wait_mode", set_wait_mode, METH_O, set_wait_mode_doc },
    { "wait_mechanism", wait_mechanism, METH_NOARGS, wait_mechanism_doc },
    { "backend_available", backend_available, METH_O, backend_available_doc },
    { "_after_fork", after_fork, METH_NOARGS, after_fork_doc },
    { NULL, NULL, 0, NULL }
};

/* The module's docstring, in parts: as one string literal it would be
 * longer than the 4095 characters ISO C99 compilers must support
 * (-Woverlength-strings).  set_module_doc() joins them into __doc__. */
static const char *const module_doc_parts[] = {
"Exchange data between processes through shared memory (libshmkit).\n"
"\n"
"shmkit is the Python binding of libshmkit, a C library of two kinds of\n"
"shared-memory segments, each named by a spec string: '/NAME' (POSIX\n"
"shm_open), 'sysv:0xKEY', 'sysv:DECIMAL' or 'sysv:PATH:PROJ' (System V).\n"
"\n"
"* Slot: the latest value of a record.  One writer, any number of readers;\n"
"  readers never block the writer and never see a torn record; every record\n"
"  has a version number.  A record is a C struct described by a layout\n"
"  ('id:u32 temp:f64 name:char[16]', see Slot) or raw bytes.\n"
"* Ring: a stream of messages (bytes).  Policy 'block': lossless, each of\n"
"  its consumers (1 by default) receives every message, the writer waits\n"
"  for the slowest.  Policy 'overwrite': broadcast to any number of\n"
"  readers, the writer never waits, a reader that falls behind skips\n"
"  messages and learns how many (Ring.lost).\n"
"\n"
"Both interoperate with C programs and the tools (shmkit-read,\n"
"shmkit-write, shmkit): same segments, same layouts.\n"
"\n"
"Examples\n"
"--------\n"
"    import shmkit\n"
"\n"
"    with shmkit.Slot.create('/weather', 'station:u32 temp_c:f32 name:char[16]',\n"
"                            mode=0o644) as w:\n"
"        w.write(station=10384, temp_c=21.5, name='Tempelhof')\n"
"\n"
"    with shmkit.Slot.open('/weather') as r:\n"
"        record, version = r.read()     # ({'station': 10384, ...}, 1)\n"
"        try:\n"
"            for record, version in r.follow(timeout=1.0):\n"
"                print(version, record['temp_c'])\n"
"        except shmkit.WaitTimeoutError:\n"
"            pass                       # no new record for a second\n"
"\n"
"    with shmkit.Ring.create('/jobs', capacity=65536) as ring:\n"
"        ring.send(b'job 1')\n"
"        res = ring.reserve(64)           # zero-copy: room for 64 bytes\n"
"        with res as buf:                 # a writable memoryview\n"
"            buf[:5] = b'job 2'\n"
"            res.length = 5               # publish only 5 of them\n"
"\n"
"    with shmkit.Ring.open('/jobs') as ring:   # the ring's consumer\n"
"        print(ring.recv(timeout=1))           # b'job 1'\n"
"        with ring.peek() as view:             # zero-copy, read-only\n"
"            print(bytes(view))                # b'job 2'\n"
"\n"
"    shmkit.unlink('/jobs'); shmkit.unlink('/weather')\n"
"\n"
"Timeouts are in seconds (float): None waits forever, 0 does not wait.\n"
"Waits release the GIL and are made of slices of at most 200 ms, between\n"
"which signals are handled: Ctrl-C (KeyboardInterrupt) interrupts them.\n"
"\n",
"Errors\n"
"------\n"
"Every error of libshmkit is raised as a subclass of shmkit.Error (itself\n"
"an OSError), with the attributes code, name, detail (the library's\n"
"shmkit_error_detail(), e.g. 'bad magic'), strerror, errno (system errors\n"
"only) and filename (the spec):\n"
"\n"
"    code                   exception\n"
"    -ENOENT                NotFoundError (also FileNotFoundError)\n"
"    -EEXIST                ExistsError (also FileExistsError)\n"
"    -EACCES, -EPERM        PermissionDeniedError (also PermissionError)\n"
"    SHMKIT_EOWNER          PermissionDeniedError\n"
"    -ETIMEDOUT, -EAGAIN    WaitTimeoutError (also TimeoutError)\n"
"    -EINTR                 not raised: waits handle signals and go on\n"
"    -EINVAL, -EMSGSIZE     InvalidArgumentError (also ValueError)\n"
"    -ENOMEM                MemoryError\n"
"    other -errno           Error, with errno set\n"
"    SHMKIT_EBADSPEC        InvalidArgumentError\n"
"    SHMKIT_ENOTSHMKIT      NotShmkitError (an IncompatibleError)\n"
"    SHMKIT_EVERSION        IncompatibleError\n"
"    SHMKIT_EKIND           IncompatibleError\n"
"    SHMKIT_ESIZE           IncompatibleError\n"
"    SHMKIT_ELAYOUT         IncompatibleError\n"
"    SHMKIT_ECORRUPT        CorruptSegmentError\n"
"    SHMKIT_EBUSY           BusyError\n"
"    SHMKIT_ENOBACKEND      BackendUnavailableError\n"
"    SHMKIT_EBADLAYOUT      InvalidArgumentError\n"
"    SHMKIT_ENOFIELD        InvalidArgumentError (write() raises TypeError\n"
"                           for an unknown field itself)\n"
"    SHMKIT_EBADVALUE       InvalidArgumentError (write(): TypeError)\n"
"    SHMKIT_ERANGE          InvalidArgumentError (write(): OverflowError)\n"
"    SHMKIT_ETOOLONG        InvalidArgumentError (write(): ValueError)\n"
"    SHMKIT_EHALFCREATED    HalfCreatedError\n"
"    SHMKIT_ECONTENDED      ContendedError\n"
"    SHMKIT_EOVERWRITTEN    OverwrittenError\n"
"    SHMKIT_ENOTHOLDER      NotHolderError\n"
"    (a follower's segment removed)  SegmentRemovedError (a NotFoundError)\n"
"\n"
"Misuse is raised as Python does: ValueError for a closed handle or a bad\n"
"argument value, TypeError for a wrong type, io.UnsupportedOperation for a\n"
"writer's call on a reader's handle or the reverse, BufferError for\n"
"zero-copy views still in use.\n"
"\n",
"Threads\n"
"-------\n"
"libshmkit allows one thread at a time per handle.  Each Slot and Ring\n"
"object has a lock, taken (with the GIL released while it waits) around\n"
"every library call, so objects may be shared between threads: calls on one\n"
"object are serialised, calls on different objects run in parallel.\n"
"Long waits hold the lock one slice (200 ms) at a time.  A zero-copy\n"
"peek() or reserve() block belongs to the ring as a whole: while it is\n"
"open, other receives (or sends) on that Ring raise BufferError.\n"
"\n"
"fork()\n"
"------\n"
"A child inherits the parent's objects but not their leases (libshmkit):\n"
"in the child, a writer's write()/send()/reserve() and a block ring\n"
"consumer's recv()/peek() raise NotHolderError; reads (Slot.read, wait,\n"
"version, an overwrite reader's recv) work.  close() in the child releases\n"
"neither the parent's lease nor removes its owned segment.  Each object's\n"
"lock is replaced in the child (os.register_at_fork), so a lock held by\n"
"another thread of the parent at the fork does not deadlock the child.\n"
"Open the segment again in the child to become a writer or consumer.\n"
"\n"
"Resources\n"
"---------\n"
"Handles are closed by close(), by leaving a with block, or when garbage\n"
"collected; the last emits a ResourceWarning (shown with python -X dev).\n"
"Segments stay until unlink() (or 'shmkit rm'), unless created owned=True.\n",
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "shmkit._shmkit", NULL, -1, module_methods,
    NULL, NULL, NULL, NULL
};

PyMODINIT_FUNC PyInit__shmkit(void);

/* __doc__ from module_doc_parts: 0, or -1 with an exception set. */
static int set_module_doc(PyObject *m)
{
    PyObject *doc = PyUnicode_FromString(""), *part, *joined;
    size_t i;
    int rc;

    for (i = 0; doc != NULL && i < sizeof module_doc_parts / sizeof module_doc_parts[0]; i++) {
        if ((part = PyUnicode_FromString(module_doc_parts[i])) == NULL) {
            Py_CLEAR(doc);
            break;
        }
        joined = PyUnicode_Concat(doc, part);
        Py_DECREF(part);
        Py_DECREF(doc);
        doc = joined;
    }
    if (doc == NULL)
        return -1;
    rc = PyObject_SetAttrString(m, "__doc__", doc);
    Py_DECREF(doc);
    return rc;
}

PyMODINIT_FUNC PyInit__shmkit(void)
{
    PyObject *m = PyModule_Create(&module_def);

    if (m == NULL)
        return NULL;
    if (set_module_doc(m) < 0)
        goto fail;
    if (sk_str_timeout == NULL
        && (sk_str_timeout = PyUnicode_InternFromString("timeout")) == NULL)
        goto fail;
    if (sk_errors_init(m) < 0 || sk_slot_init_types(m) < 0 || sk_ring_init_types(m) < 0)
        goto fail;
    if (PyModule_AddStringConstant(m, "version", shmkit_version()) < 0
        || PyModule_AddIntConstant(m, "version_number", (long)shmkit_version_number()) < 0
        || PyModule_AddStringConstant(m, "header_version", SHMKIT_VERSION_STRING) < 0
        || PyModule_AddIntConstant(m, "WAIT_ADAPTIVE", SHMKIT_WAIT_ADAPTIVE) < 0
        || PyModule_AddIntConstant(m, "WAIT_SPIN", SHMKIT_WAIT_SPIN) < 0
        || PyModule_AddIntConstant(m, "WAIT_BLOCK", SHMKIT_WAIT_BLOCK) < 0
        || PyModule_AddIntConstant(m, "MAX_CONSUMERS", SHMKIT_RING_MAX_CONSUMERS) < 0
        || PyModule_AddIntConstant(m, "RECORD_MAX", (long)SHMKIT_RECORD_MAX) < 0)
        goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
