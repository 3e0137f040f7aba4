/*
 * slot.c - shmkit.Slot: the latest value of a record, and its follower
 * iterator.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "pyshmkit.h"

#include <errno.h>
#include <string.h>

typedef struct {
    SkHandle h;
    shmkit_slot *slot;
    int writer;
    int owned;
    size_t size;              /* record size */
    SkLayout layout;          /* count 0 and text NULL for a raw slot */
    int has_layout;
    PyObject *dtype;          /* cached */
} SkSlot;

/* Records up to this size are read and written with the GIL held: the
 * copy is shorter than the GIL round trip. */
#define SMALL_RECORD 65536

static int get_version(SkSlot *self, uint64_t *version);

static PyObject *new_slot(PyObject *spec, shmkit_slot *slot, int writer, int owned)
{
    SkSlot *self = PyObject_GC_New(SkSlot, &SkSlot_Type);
    const shmkit_layout *layout;

    if (self == NULL) {
        shmkit_slot_close(slot);
        return NULL;
    }
    self->h.lock = NULL;
    self->h.closing = 0;
    self->h.weakreflist = NULL;
    Py_INCREF(spec);
    self->h.spec = spec;
    self->slot = slot;
    self->writer = writer;
    self->owned = owned;
    self->size = shmkit_slot_record_size(slot);
    self->has_layout = 0;
    self->dtype = NULL;
    memset(&self->layout, 0, sizeof self->layout);
    PyObject_GC_Track(self);
    if (sk_lock_init(&self->h) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    layout = shmkit_slot_layout(slot);
    if (layout != NULL) {
        if (sk_layout_init(&self->layout, layout) < 0) {
            Py_DECREF(self);
            return NULL;
        }
        self->has_layout = 1;
    }
    return (PyObject *)self;
}

static void close_slot(SkSlot *self)
{
    shmkit_slot *slot = self->slot;

    self->slot = NULL;
    if (slot != NULL) {
        Py_BEGIN_ALLOW_THREADS
        shmkit_slot_close(slot);
        Py_END_ALLOW_THREADS
    }
}

static int slot_traverse(SkSlot *self, visitproc visit, void *arg)
{
    Py_VISIT(self->dtype);
    return 0;
}

static int slot_clear(SkSlot *self)
{
    Py_CLEAR(self->dtype);
    return 0;
}

/* PEP 442 finalizer: the ResourceWarning may keep a reference to the
 * object (warnings.catch_warnings records the source). */
static void slot_finalize(SkSlot *self)
{
    if (self->slot != NULL) {
        sk_warn_unclosed((PyObject *)self, "Slot", self->h.spec);
        close_slot(self);
    }
}

static void slot_dealloc(SkSlot *self)
{
    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0)
        return; /* resurrected */
    PyObject_GC_UnTrack(self);
    close_slot(self);
    if (self->h.weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    sk_lock_free(&self->h);
    sk_layout_clear(&self->layout);
    Py_CLEAR(self->dtype);
    Py_CLEAR(self->h.spec);
    PyObject_GC_Del(self);
}

static int check_open(SkSlot *self)
{
    return sk_check_open(&self->h, self->slot);
}

/* ---- create / open ---------------------------------------------------------- */

PyDoc_STRVAR(slot_create_doc,
"Slot.create(spec, layout=None, size=None, mode=0o600, exclusive=False,\n"
"            owned=False, any_owner=False) -> Slot\n\n"
"Create the slot SPEC and open it as its writer.  LAYOUT: the record's\n"
"layout text ('id:u32 temp:f64 name:char[16]', as shmkit-write -L takes it);\n"
"without it, SIZE gives the size of a raw record in bytes.  With both, SIZE\n"
"must be the layout's size.  MODE: permission bits, applied exactly,\n"
"whatever the umask.  If the segment exists it is opened as its writer\n"
"instead and must match (IncompatibleError otherwise), unless EXCLUSIVE\n"
"(then ExistsError).  OWNED: the slot lives only as long as this handle:\n"
"removed by close() (or 'shmkit rm --stale' once this process died).\n"
"ANY_OWNER: accept an existing segment owned by another user.  A new\n"
"record is all zero bytes, version 0.  BusyError if another live process\n"
"is the writer.");

static PyObject *slot_create(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "spec", "layout", "size", "mode", "exclusive", "owned",
                              "any_owner", NULL };
    PyObject *spec, *layout_obj = Py_None, *size_obj = Py_None;
    const char *layout = NULL;
    Py_ssize_t size = 0;
    unsigned int mode = 0600;
    int exclusive = 0, owned = 0, any_owner = 0, rc;
    unsigned flags;
    shmkit_slot *slot = NULL;
    const char *specs;

    (void)cls;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|OOIppp:create", kwlist, &spec,
                                     &layout_obj, &size_obj, &mode, &exclusive, &owned,
                                     &any_owner))
        return NULL;
    if ((specs = sk_spec_utf8(spec)) == NULL)
        return NULL;
    if (layout_obj != Py_None) {
        Py_ssize_t len;
        if (!PyUnicode_Check(layout_obj))
            return PyErr_Format(PyExc_TypeError, "layout must be a str, not %.100s",
                                Py_TYPE(layout_obj)->tp_name);
        if ((layout = PyUnicode_AsUTF8AndSize(layout_obj, &len)) == NULL)
            return NULL;
        if ((size_t)len != strlen(layout))
            return PyErr_Format(PyExc_ValueError, "embedded null character in layout");
    }
    if (size_obj != Py_None) {
        size = PyNumber_AsSsize_t(size_obj, PyExc_OverflowError);
        if (size == -1 && PyErr_Occurred())
            return NULL;
        if (size <= 0 || (size_t)size > SHMKIT_RECORD_MAX)
            return PyErr_Format(PyExc_ValueError, "size must be 1 to %u bytes",
                                (unsigned)SHMKIT_RECORD_MAX);
    }
    if (layout == NULL && size == 0)
        return PyErr_Format(PyExc_TypeError, "Slot.create() needs a layout or a size");
    if (mode == 0 || mode > 07777)
        return PyErr_Format(PyExc_ValueError, "mode must be 0o1 to 0o7777, not 0o%o", mode);
    if (layout != NULL) {
        /* Both: a size that is not the layout's is a bad argument, not a
         * segment that does not match (the library's SHMKIT_ESIZE). */
        shmkit_layout *parsed = NULL;
        size_t lsize;
        rc = shmkit_layout_parse(&parsed, layout);
        if (rc < 0)
            return sk_raise(rc, NULL, NULL);
        lsize = shmkit_layout_size(parsed);
        shmkit_layout_free(parsed);
        if (size != 0 && (size_t)size != lsize)
            return PyErr_Format(PyExc_ValueError, "size=%zd differs from the layout's size "
                                "(%zu bytes)", size, lsize);
    }
    flags = (exclusive ? SHMKIT_EXCL : 0) | (owned ? SHMKIT_OWNED : 0)
            | (any_owner ? SHMKIT_ANY_OWNER : 0);
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_slot_create(&slot, specs, layout, (size_t)size, mode, flags);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return sk_raise(rc, NULL, spec);
    return new_slot(spec, slot, 1, owned);
}

PyDoc_STRVAR(slot_open_doc,
"Slot.open(spec, write=False, any_owner=False) -> Slot\n\n"
"Open the existing slot SPEC: read-only by default (readers never block the\n"
"writer), or as its writer with WRITE=True (SHMKIT_WRITE: BusyError if\n"
"another live process is the writer; the lease of a dead one is taken\n"
"over).  ANY_OWNER (SHMKIT_ANY_OWNER): accept a segment owned by another\n"
"user (refused by default with PermissionDeniedError: its owner controls\n"
"what you read).  NotFoundError if there is none; IncompatibleError for a\n"
"ring or another format version.");

static PyObject *slot_open(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "spec", "write", "any_owner", NULL };
    PyObject *spec;
    int write = 0, any_owner = 0, rc;
    shmkit_slot *slot = NULL;
    const char *specs;

    (void)cls;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|pp:open", kwlist, &spec, &write,
                                     &any_owner))
        return NULL;
    if ((specs = sk_spec_utf8(spec)) == NULL)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_slot_open(&slot, specs,
                          (write ? SHMKIT_WRITE : 0) | (any_owner ? SHMKIT_ANY_OWNER : 0));
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return sk_raise(rc, NULL, spec);
    return new_slot(spec, slot, write, 0);
}

static PyObject *slot_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    (void)args;
    (void)kwargs;
    PyErr_SetString(PyExc_TypeError,
                    "cannot create 'shmkit.Slot' instances: use Slot.create() or Slot.open()");
    return NULL;
}

/* ---- reading ------------------------------------------------------------------ */

/* Read the record into BUF under the lock.  The version in *VERSION. */
static int read_record(SkSlot *self, void *buf, uint64_t *version, char *detail)
{
    int large = self->size > SMALL_RECORD, rc;

    if ((large ? sk_lock_open(&self->h) : sk_hold_open(&self->h)) < 0)
        return SK_WAIT_PYERR;
    if (!large) {
        rc = shmkit_slot_read(self->slot, buf, self->size, version);
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = shmkit_slot_read(self->slot, buf, self->size, version);
        Py_END_ALLOW_THREADS
    }
    if (rc < 0) {
        strncpy(detail, shmkit_error_detail(), SK_DETAIL_MAX - 1);
        detail[SK_DETAIL_MAX - 1] = '\0';
    }
    if (large)
        sk_unlock(&self->h);
    return rc;
}

/* The current record as a dict (layout) or bytes (raw), and its version. */
static PyObject *read_value(SkSlot *self, uint64_t *version)
{
    char detail[SK_DETAIL_MAX];
    unsigned char small[512];
    unsigned char *buf = small;
    PyObject *result;
    int rc;

    if (!self->has_layout) {
        result = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)self->size);
        if (result == NULL)
            return NULL;
        rc = read_record(self, PyBytes_AS_STRING(result), version, detail);
        if (rc < 0) {
            Py_DECREF(result);
            return sk_raise_wait(rc, detail, self->h.spec);
        }
        return result;
    }
    if (self->size > sizeof small && (buf = PyMem_Malloc(self->size)) == NULL)
        return PyErr_NoMemory();
    rc = read_record(self, buf, version, detail);
    if (rc < 0)
        result = sk_raise_wait(rc, detail, self->h.spec);
    else
        result = sk_record_to_dict(&self->layout, buf);
    if (buf != small)
        PyMem_Free(buf);
    return result;
}

static PyObject *with_version(PyObject *value, uint64_t version)
{
    PyObject *v, *t;

    if (value == NULL)
        return NULL;
    v = PyLong_FromUnsignedLongLong(version);
    if (v == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(value);
        Py_DECREF(v);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, value);
    PyTuple_SET_ITEM(t, 1, v);
    return t;
}

PyDoc_STRVAR(slot_read_doc,
"read() -> (record, version)\n\n"
"The latest record and its version (0 for a slot never written).  RECORD is\n"
"a dict by field name for a layout slot (ints, floats, str for char[N] (the\n"
"bytes up to the first NUL, decoded as UTF-8 with 'surrogateescape'), lists\n"
"for arrays) or bytes for a raw slot.  Never torn, never blocks the writer;\n"
"ContendedError if the writer replaced the record during every bounded\n"
"retry.");

static PyObject *slot_read(SkSlot *self, PyObject *unused)
{
    uint64_t version = 0;

    (void)unused;
    if (check_open(self) < 0)
        return NULL;
    {
        PyObject *value = read_value(self, &version);
        return with_version(value, version);
    }
}

PyDoc_STRVAR(slot_read_into_doc,
"read_into(buffer) -> int\n\n"
"Copy the latest record's bytes into BUFFER (a writable bytes-like object of\n"
"at least record_size bytes) and return its version.");

static PyObject *slot_read_into(SkSlot *self, PyObject *arg)
{
    char detail[SK_DETAIL_MAX];
    Py_buffer view;
    uint64_t version = 0;
    int rc;

    if (check_open(self) < 0)
        return NULL;
    if (!PyArg_Parse(arg, "w*:read_into", &view))
        return NULL;
    if ((size_t)view.len < self->size) {
        PyBuffer_Release(&view);
        return PyErr_Format(PyExc_ValueError, "buffer of %zd bytes is smaller than the record "
                            "(%zu bytes)", view.len, self->size);
    }
    rc = read_record(self, view.buf, &version, detail);
    PyBuffer_Release(&view);
    if (rc < 0)
        return sk_raise_wait(rc, detail, self->h.spec);
    return PyLong_FromUnsignedLongLong(version);
}

/* ---- writing ---------------------------------------------------------------- */

static int check_writer(SkSlot *self)
{
    if (check_open(self) < 0)
        return -1;
    if (!self->writer) {
        PyErr_Format(SkUnsupportedOperation, "%R was opened read-only: open it with "
                     "Slot.open(spec, write=True) or Slot.create() to write", self->h.spec);
        return -1;
    }
    return 0;
}

static int write_bytes(SkSlot *self, const void *rec, char *detail)
{
    int large = self->size > SMALL_RECORD, rc;

    if ((large ? sk_lock_open(&self->h) : sk_hold_open(&self->h)) < 0)
        return SK_WAIT_PYERR;
    if (!large) {
        rc = shmkit_slot_write(self->slot, rec, self->size);
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = shmkit_slot_write(self->slot, rec, self->size);
        Py_END_ALLOW_THREADS
    }
    if (rc < 0) {
        strncpy(detail, shmkit_error_detail(), SK_DETAIL_MAX - 1);
        detail[SK_DETAIL_MAX - 1] = '\0';
    }
    if (large)
        sk_unlock(&self->h);
    return rc;
}

/* Fields named in KWARGS: their new bytes in STAGE, marked in SET. */
static int stage_fields(SkSlot *self, PyObject *kwargs, unsigned char *stage, char *set)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    while (PyDict_Next(kwargs, &pos, &key, &value)) {
        Py_ssize_t i = sk_layout_find(&self->layout, key);
        const SkField *f;
        if (i < 0) {
            PyErr_Format(PyExc_TypeError, "write() got an unknown field %R (the layout is "
                         "'%U')", key, self->layout.text);
            return -1;
        }
        f = &self->layout.fields[i];
        if (sk_field_from_py(f, value, stage + f->f.offset) < 0)
            return -1;
        set[i] = 1;
    }
    return 0;
}

PyDoc_STRVAR(slot_write_doc,
"write(record=None, /, **fields) -> int\n\n"
"Publish a new record and return its version.  Writer handles only\n"
"(io.UnsupportedOperation otherwise).\n\n"
"write(bytes_like): the record's bytes, exactly record_size of them (e.g.\n"
"bytes, a ctypes struct, a NumPy record of dtype).\n"
"write(**fields) (layout slots): the named fields get the values given; the\n"
"others keep their current value, as with shmkit-write (read-modify-write\n"
"as the lease holder: nobody else publishes in between).  write() with no\n"
"argument publishes the current record again under a new version.\n"
"write(mapping) is write(**mapping).  Values: see Slot; a wrong type is a\n"
"TypeError, an integer out of range an OverflowError, text too long a\n"
"ValueError; nothing is published then.  NotHolderError in a child of\n"
"fork().");

static PyObject *slot_write(SkSlot *self, PyObject *args, PyObject *kwargs)
{
    char detail[SK_DETAIL_MAX];
    PyObject *record = NULL, *fields = kwargs;
    unsigned char small[1024];
    unsigned char *cur = small, *stage = NULL;
    char *set = NULL;
    uint64_t version = 0;
    size_t i;
    int large, rc;

    if (!PyArg_UnpackTuple(args, "write", 0, 1, &record))
        return NULL;
    if (check_writer(self) < 0)
        return NULL;
    if (record != NULL && PyDict_Check(record)) {
        if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0)
            return PyErr_Format(PyExc_TypeError, "write() takes a mapping or fields, not both");
        fields = record;
        record = NULL;
    }
    if (record != NULL) {
        Py_buffer view;
        if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0)
            return PyErr_Format(PyExc_TypeError, "write() takes a record or fields, not both");
        if (PyObject_GetBuffer(record, &view, PyBUF_C_CONTIGUOUS) < 0)
            return NULL;
        if ((size_t)view.len != self->size) {
            PyBuffer_Release(&view);
            return PyErr_Format(PyExc_ValueError, "record of %zd bytes, the slot's are %zu "
                                "bytes", view.len, self->size);
        }
        rc = write_bytes(self, view.buf, detail);
        PyBuffer_Release(&view);
        goto done;
    }
    if (fields != NULL && PyDict_GET_SIZE(fields) > 0 && !self->has_layout)
        return PyErr_Format(PyExc_TypeError, "%R is a raw slot: it has no fields; write its "
                            "bytes", self->h.spec);
    if (self->size > sizeof small && (cur = PyMem_Malloc(self->size)) == NULL)
        return PyErr_NoMemory();
    if (fields != NULL && PyDict_GET_SIZE(fields) > 0) {
        stage = PyMem_Calloc(1, self->size);
        set = PyMem_Calloc(self->layout.count, 1);
        if (stage == NULL || set == NULL) {
            PyErr_NoMemory();
            goto fail;
        }
        if (stage_fields(self, fields, stage, set) < 0)
            goto fail;
    }
    /* Read, modify and write under one hold of the handle. */
    large = self->size > SMALL_RECORD;
    if ((large ? sk_lock_open(&self->h) : sk_hold_open(&self->h)) < 0)
        goto fail;
    rc = shmkit_slot_read(self->slot, cur, self->size, NULL);
    if (rc >= 0) {
        for (i = 0; set != NULL && i < self->layout.count; i++)
            if (set[i])
                memcpy(cur + self->layout.fields[i].f.offset,
                       stage + self->layout.fields[i].f.offset, self->layout.fields[i].f.size);
        if (!large) {
            rc = shmkit_slot_write(self->slot, cur, self->size);
        } else {
            Py_BEGIN_ALLOW_THREADS
            rc = shmkit_slot_write(self->slot, cur, self->size);
            Py_END_ALLOW_THREADS
        }
    }
    if (rc < 0) {
        strncpy(detail, shmkit_error_detail(), SK_DETAIL_MAX - 1);
        detail[SK_DETAIL_MAX - 1] = '\0';
    }
    if (large)
        sk_unlock(&self->h);
    if (cur != small)
        PyMem_Free(cur);
    PyMem_Free(stage);
    PyMem_Free(set);
done:
    if (rc < 0)
        return sk_raise_wait(rc, detail, self->h.spec);
    if (get_version(self, &version) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(version);
fail:
    if (cur != small)
        PyMem_Free(cur);
    PyMem_Free(stage);
    PyMem_Free(set);
    return NULL;
}

/* ---- waiting -------------------------------------------------------------------- */

/* The version of the latest record, under the lock: 0, or -1 with an
 * exception set. */
static int get_version(SkSlot *self, uint64_t *version)
{
    int rc;

    if (sk_hold_open(&self->h) < 0)
        return -1;
    rc = shmkit_slot_version(self->slot, version);
    if (rc < 0) {
        sk_raise(rc, NULL, self->h.spec);
        return -1;
    }
    return 0;
}

struct wait_ctx {
    SkSlot *self;
    uint64_t since;
};

static int wait_once(void *ctx, int timeout_ms)
{
    struct wait_ctx *w = ctx;

    return shmkit_slot_wait(w->self->slot, w->since, timeout_ms);
}

static int slot_current(void *ctx)
{
    struct wait_ctx *w = ctx;

    return shmkit_slot_is_current(w->self->slot);
}

static int wait_version(SkSlot *self, uint64_t since, double timeout, int check_current,
                        uint64_t *version)
{
    struct wait_ctx w = { self, since };
    char detail[SK_DETAIL_MAX];
    int rc = sk_wait(&self->h, timeout, wait_once, &w, check_current ? slot_current : NULL,
                     detail);

    if (rc < 0) {
        sk_raise_wait(rc, detail, self->h.spec);
        return -1;
    }
    return get_version(self, version);
}

PyDoc_STRVAR(slot_wait_doc,
"wait(since, timeout=None) -> int\n\n"
"Wait until a version newer than SINCE is published and return the newest\n"
"version.  TIMEOUT in seconds; None waits forever, 0 only checks.  Raises\n"
"WaitTimeoutError (a TimeoutError) when it expires.  Releases the GIL and\n"
"handles signals every 200 ms (Ctrl-C works).  Returns at once if the\n"
"version is already newer.");

static PyObject *slot_wait(SkSlot *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "since", "timeout", NULL };
    unsigned long long since;
    PyObject *timeout_obj = Py_None;
    double timeout;
    uint64_t version = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "K|O:wait", kwlist, &since, &timeout_obj))
        return NULL;
    if (check_open(self) < 0 || sk_parse_timeout(timeout_obj, &timeout) < 0)
        return NULL;
    if (wait_version(self, since, timeout, 0, &version) < 0)
        return NULL;
    return PyLong_FromUnsignedLongLong(version);
}

/* ---- properties and the rest ----------------------------------------------------- */

static PyObject *slot_get_version(SkSlot *self, void *closure)
{
    uint64_t version = 0;
    int rc;

    (void)closure;
    if (check_open(self) < 0)
        return NULL;
    if (sk_hold_open(&self->h) < 0)
        return NULL;
    rc = shmkit_slot_version(self->slot, &version);
    if (rc < 0)
        return sk_raise(rc, NULL, self->h.spec);
    return PyLong_FromUnsignedLongLong(version);
}

static PyObject *slot_get_layout(SkSlot *self, void *closure)
{
    (void)closure;
    if (!self->has_layout)
        Py_RETURN_NONE;
    Py_INCREF(self->layout.text);
    return self->layout.text;
}

static PyObject *slot_get_fields(SkSlot *self, void *closure)
{
    PyObject *t = PyTuple_New((Py_ssize_t)self->layout.count);
    size_t i;

    (void)closure;
    for (i = 0; t != NULL && i < self->layout.count; i++) {
        Py_INCREF(self->layout.fields[i].name);
        PyTuple_SET_ITEM(t, (Py_ssize_t)i, self->layout.fields[i].name);
    }
    return t;
}

static PyObject *slot_get_record_size(SkSlot *self, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(self->size);
}

static PyObject *slot_get_spec(SkSlot *self, void *closure)
{
    (void)closure;
    Py_INCREF(self->h.spec);
    return self->h.spec;
}

static PyObject *slot_get_closed(SkSlot *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->slot == NULL);
}

static PyObject *slot_get_writable(SkSlot *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->writer);
}

static PyObject *slot_get_dtype(SkSlot *self, void *closure)
{
    (void)closure;
    if (!self->has_layout) {
        PyErr_Format(PyExc_TypeError, "%R is a raw slot: it has no layout, so no dtype",
                     self->h.spec);
        return NULL;
    }
    if (self->dtype == NULL && (self->dtype = sk_layout_dtype(&self->layout)) == NULL)
        return NULL;
    Py_INCREF(self->dtype);
    return self->dtype;
}

PyDoc_STRVAR(slot_read_array_doc,
"read_array() -> (numpy.void, version)\n\n"
"The latest record as a NumPy structured scalar (numpy.void) of dtype, with\n"
"its version.  The scalar owns a private, writable copy of the bytes\n"
"(rec['temp'], rec['name'] -> bytes for char[N] fields); it can be passed\n"
"back to write().  Needs NumPy (imported on first use; ImportError\n"
"otherwise).");

static PyObject *slot_read_array(SkSlot *self, PyObject *unused)
{
    char detail[SK_DETAIL_MAX];
    PyObject *dtype, *np, *buf, *arr, *item;
    uint64_t version = 0;
    int rc;

    (void)unused;
    if (check_open(self) < 0)
        return NULL;
    if ((dtype = slot_get_dtype(self, NULL)) == NULL)
        return NULL;
    np = sk_import_numpy("shmkit.Slot.read_array()");
    if (np == NULL) {
        Py_DECREF(dtype);
        return NULL;
    }
    buf = PyByteArray_FromStringAndSize(NULL, (Py_ssize_t)self->size);
    if (buf == NULL)
        goto fail;
    rc = read_record(self, PyByteArray_AS_STRING(buf), &version, detail);
    if (rc < 0) {
        sk_raise_wait(rc, detail, self->h.spec);
        Py_DECREF(buf);
        goto fail;
    }
    arr = PyObject_CallMethod(np, "frombuffer", "OO", buf, dtype);
    Py_DECREF(buf);
    if (arr == NULL)
        goto fail;
    item = PySequence_GetItem(arr, 0);
    Py_DECREF(arr);
    Py_DECREF(np);
    Py_DECREF(dtype);
    return with_version(item, version);
fail:
    Py_DECREF(np);
    Py_DECREF(dtype);
    return NULL;
}

PyDoc_STRVAR(slot_is_current_doc,
"is_current() -> bool\n\n"
"Whether the spec still names the segment this handle mapped: False once\n"
"it was removed (unlink, 'shmkit rm', ipcrm) or removed and replaced by a\n"
"new segment of the same name; reopen by name to follow the new one.  Costs\n"
"a few system calls: call it when a wait times out, not per record.");

static PyObject *slot_is_current(SkSlot *self, PyObject *unused)
{
    int rc;

    (void)unused;
    if (check_open(self) < 0 || sk_lock_open(&self->h) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_slot_is_current(self->slot);
    Py_END_ALLOW_THREADS
    sk_unlock(&self->h);
    if (rc < 0)
        return sk_raise(rc, NULL, self->h.spec);
    return PyBool_FromLong(rc);
}

PyDoc_STRVAR(slot_close_doc,
"close() -> None\n\n"
"Release the handle (and the writer lease; an owned slot is removed).  The\n"
"segment stays.  Closing twice does nothing.  Waits of other threads on this\n"
"handle end with ValueError within 200 ms.");

static PyObject *slot_close(SkSlot *self, PyObject *unused)
{
    (void)unused;
    if (self->slot == NULL)
        Py_RETURN_NONE;
    self->h.closing = 1;
    if (sk_lock(&self->h) < 0)
        return NULL;
    close_slot(self);
    sk_unlock(&self->h);
    Py_RETURN_NONE;
}

static PyObject *slot_enter(SkSlot *self, PyObject *unused)
{
    (void)unused;
    if (check_open(self) < 0)
        return NULL;
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *slot_exit(SkSlot *self, PyObject *args)
{
    (void)args;
    return slot_close(self, NULL);
}

static PyObject *slot_repr(SkSlot *self)
{
    if (self->slot == NULL)
        return PyUnicode_FromFormat("<shmkit.Slot %R closed>", self->h.spec);
    if (self->has_layout)
        return PyUnicode_FromFormat("<shmkit.Slot %R %s layout=%R>", self->h.spec,
                                    self->writer ? "writer" : "reader", self->layout.text);
    return PyUnicode_FromFormat("<shmkit.Slot %R %s size=%zu>", self->h.spec,
                                self->writer ? "writer" : "reader", self->size);
}

/* ---- follow ------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD
    SkSlot *slot;
    uint64_t since;
    double timeout;
} SkSlotFollow;

PyDoc_STRVAR(slot_follow_doc,
"follow(since=None, timeout=None) -> iterator of (record, version)\n\n"
"Iterate over new records as they are published: each step waits for a\n"
"version newer than the last one yielded and yields read()'s (record,\n"
"version).  SINCE: start after this version; None (the default) means the\n"
"current version, so only records published from now on are yielded; 0\n"
"yields the current record first if one was ever written.  A writer faster\n"
"than the loop may publish several versions in between: the latest is\n"
"yielded, and no version twice.\n"
"TIMEOUT bounds each wait (seconds; None: forever): when no new record comes\n"
"within it, the iterator raises WaitTimeoutError (a TimeoutError; catch it\n"
"to stop following quietly).  When nothing came for a second it checks that\n"
"the segment is still there, and raises SegmentRemovedError (a\n"
"NotFoundError) once it was removed or replaced.");

static PyObject *slot_follow(SkSlot *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "since", "timeout", NULL };
    PyObject *since_obj = Py_None, *timeout_obj = Py_None;
    SkSlotFollow *it;
    double timeout;
    uint64_t since = 0;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:follow", kwlist, &since_obj,
                                     &timeout_obj))
        return NULL;
    if (check_open(self) < 0 || sk_parse_timeout(timeout_obj, &timeout) < 0)
        return NULL;
    if (since_obj == Py_None) {
        if (get_version(self, &since) < 0)
            return NULL;
    } else {
        since = PyLong_AsUnsignedLongLong(since_obj);
        if (since == (uint64_t)-1 && PyErr_Occurred())
            return NULL;
    }
    it = PyObject_GC_New(SkSlotFollow, &SkSlotFollow_Type);
    if (it == NULL)
        return NULL;
    Py_INCREF(self);
    it->slot = self;
    it->since = since;
    it->timeout = timeout;
    PyObject_GC_Track(it);
    return (PyObject *)it;
}

static void follow_dealloc(SkSlotFollow *it)
{
    PyObject_GC_UnTrack(it);
    Py_CLEAR(it->slot);
    PyObject_GC_Del(it);
}

static int follow_traverse(SkSlotFollow *it, visitproc visit, void *arg)
{
    Py_VISIT(it->slot);
    return 0;
}

static PyObject *follow_next(SkSlotFollow *it)
{
    SkSlot *self = it->slot;
    uint64_t version = 0;
    PyObject *value;

    if (check_open(self) < 0)
        return NULL;
    if (wait_version(self, it->since, it->timeout, 1, &version) < 0)
        return NULL;
    value = read_value(self, &version);
    if (value == NULL)
        return NULL;
    it->since = version;
    return with_version(value, version);
}

PyTypeObject SkSlotFollow_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shmkit.SlotFollower",
    .tp_basicsize = sizeof(SkSlotFollow),
    .tp_dealloc = (destructor)follow_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Iterator returned by Slot.follow().",
    .tp_traverse = (traverseproc)follow_traverse,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)follow_next,
};

/* ---- the type ------------------------------------------------------------------------ */

static PyMethodDef slot_methods[] = {
    { "create", (PyCFunction)(void (*)(void))slot_create,
      METH_VARARGS | METH_KEYWORDS | METH_CLASS, slot_create_doc },
    { "open", (PyCFunction)(void (*)(void))slot_open,
      METH_VARARGS | METH_KEYWORDS | METH_CLASS, slot_open_doc },
    { "read", (PyCFunction)slot_read, METH_NOARGS, slot_read_doc },
    { "read_into", (PyCFunction)slot_read_into, METH_O, slot_read_into_doc },
    { "read_array", (PyCFunction)slot_read_array, METH_NOARGS, slot_read_array_doc },
    { "write", (PyCFunction)(void (*)(void))slot_write, METH_VARARGS | METH_KEYWORDS,
      slot_write_doc },
    { "wait", (PyCFunction)(void (*)(void))slot_wait, METH_VARARGS | METH_KEYWORDS,
      slot_wait_doc },
    { "follow", (PyCFunction)(void (*)(void))slot_follow, METH_VARARGS | METH_KEYWORDS,
      slot_follow_doc },
    { "is_current", (PyCFunction)slot_is_current, METH_NOARGS, slot_is_current_doc },
    { "close", (PyCFunction)slot_close, METH_NOARGS, slot_close_doc },
    { "__enter__", (PyCFunction)slot_enter, METH_NOARGS, "Return the open slot." },
    { "__exit__", (PyCFunction)slot_exit, METH_VARARGS, "Close the slot." },
    { NULL, NULL, 0, NULL }
};

static PyGetSetDef slot_getset[] = {
    { "version", (getter)slot_get_version, NULL,
      "Version of the latest record (0 for a slot never written), without a copy.", NULL },
    { "layout", (getter)slot_get_layout, NULL,
      "Canonical layout text ('a:u8 b:f64'), or None for a raw slot.", NULL },
    { "fields", (getter)slot_get_fields, NULL, "Field names in layout order (a tuple).",
      NULL },
    { "record_size", (getter)slot_get_record_size, NULL, "Bytes per record.", NULL },
    { "dtype", (getter)slot_get_dtype, NULL,
      "NumPy structured dtype equal to the layout byte for byte (same names,\n"
      "offsets and itemsize as the C struct; aligned; native byte order;\n"
      "char[N] as 'S<N>', T[N] as subarrays).  Needs NumPy (ImportError\n"
      "otherwise); TypeError for a raw slot.", NULL },
    { "spec", (getter)slot_get_spec, NULL, "The segment spec.", NULL },
    { "closed", (getter)slot_get_closed, NULL, "True once closed.", NULL },
    { "writable", (getter)slot_get_writable, NULL, "True for the writer's handle.", NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

PyDoc_STRVAR(slot_doc,
"A shmkit slot: the latest value of a record, with a version number.\n\n"
"Get one with Slot.create() (creates, or opens an existing matching slot,\n"
"as its writer) or Slot.open() (a reader, or the writer with write=True).\n"
"One writer at a time (a lease; a dead writer's is taken over), any number\n"
"of readers; readers never block the writer and never see a torn record.\n\n"
"Layouts: 'name:type' fields separated by spaces or commas; types i8 u8 i16\n"
"u16 i32 u32 i64 u64 f32 f64, numeric arrays T[N], text char[N]; placed with\n"
"natural C alignment, so a layout matches the equivalent C struct.  In\n"
"Python a record is a dict: ints; floats; lists for T[N]; str for char[N]\n"
"(bytes up to the first NUL, UTF-8 with 'surrogateescape', so any bytes\n"
"round-trip; writing takes str or bytes of at most N-1 bytes).\n\n"
"A handle is closed by close(), a with block or garbage collection\n"
"(ResourceWarning); a closed one raises ValueError.  Thread-safe: calls are\n"
"serialised by a per-object lock.  After fork() the child's copy can read\n"
"but not write (NotHolderError).");

PyTypeObject SkSlot_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shmkit.Slot",
    .tp_basicsize = sizeof(SkSlot),
    .tp_dealloc = (destructor)slot_dealloc,
    .tp_repr = (reprfunc)slot_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = slot_doc,
    .tp_traverse = (traverseproc)slot_traverse,
    .tp_clear = (inquiry)slot_clear,
    .tp_weaklistoffset = offsetof(SkSlot, h.weakreflist),
    .tp_methods = slot_methods,
    .tp_getset = slot_getset,
    .tp_new = slot_new,
    .tp_finalize = (destructor)slot_finalize,
};

int sk_slot_init_types(PyObject *module)
{
    if (PyType_Ready(&SkSlot_Type) < 0 || PyType_Ready(&SkSlotFollow_Type) < 0)
        return -1;
    Py_INCREF(&SkSlot_Type);
    if (PyModule_AddObject(module, "Slot", (PyObject *)&SkSlot_Type) < 0) {
        Py_DECREF(&SkSlot_Type);
        return -1;
    }
    Py_INCREF(&SkSlotFollow_Type);
    if (PyModule_AddObject(module, "SlotFollower", (PyObject *)&SkSlotFollow_Type) < 0) {
        Py_DECREF(&SkSlotFollow_Type);
        return -1;
    }
    return 0;
}
