/*
 * ring.c - shmkit.Ring: a stream of messages; its zero-copy peek() and
 * reserve() context managers and the buffer exporter behind their views.
 *
 * Zero-copy safety.  A view points into the shared mapping, so:
 * - the exporter (SharedBuffer) holds a reference to its Ring, and the Ring
 *   refuses close() while an exporter has live buffers (BufferError): the
 *   mapping is never unmapped under a view;
 * - at the end of the with block the memoryview handed out is released
 *   and the exporter refuses new buffers;
 * - a view derived from it that is still alive (a slice, a NumPy array)
 *   keeps the message: the block's exit raises BufferError, a peeked
 *   message is released only once those views are gone (by the next
 *   receive), and an uncommitted reservation is not published.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "pyshmkit.h"

#include <errno.h>
#include <string.h>

enum role { ROLE_WRITER, ROLE_CONSUMER, ROLE_READER };

/* What the ring's zero-copy state is. */
enum zstate {
    Z_IDLE,          /* nothing peeked or reserved */
    Z_PEEKING,       /* inside a peek() block */
    Z_PEEK_PENDING,  /* the block ended with derived views alive: the
                        message is still peeked, released when they go */
    Z_RESERVING,     /* inside a reserve() block */
    Z_CANCEL_PENDING /* a reservation that is not published, with views
                        derived from it possibly alive: cancelled
                        (shmkit_ring_cancel) by the next writer call once
                        they are gone, or by close() */
};

typedef struct SkSharedBuffer SkSharedBuffer;
typedef struct SkZeroCopy SkZeroCopy;

typedef struct {
    SkHandle h;
    shmkit_ring *ring;
    int role;
    int policy;
    int owned;
    int any_owner;
    size_t max_message;
    enum zstate z;
    SkSharedBuffer *active;   /* borrowed: the exporter of the current or
                                 pending peek/reservation, or NULL */
    void *reserved;           /* Z_RESERVING, Z_CANCEL_PENDING: the
                                 reservation */
    /* The memory of the last peek()/reserve() context and exporter that
     * were deallocated (not objects: their reference count is 0), reused
     * by the next ones instead of a free and a malloc each (a one-entry
     * free list per ring, as CPython keeps for its own types). */
    SkZeroCopy *spare_zc;
    SkSharedBuffer *spare_exporter;
} SkRing;

struct SkSharedBuffer {
    PyObject_HEAD
    SkRing *ring;             /* strong */
    void *ptr;
    Py_ssize_t len;
    int readonly;
    int valid;                /* 0: refuses new buffers */
    Py_ssize_t exports;
};

static PyObject *policy_name(int policy)
{
    return PyUnicode_FromString(policy == SHMKIT_RING_BLOCK ? "block" : "overwrite");
}

static int parse_policy(PyObject *obj, int *policy)
{
    if (PyUnicode_Check(obj)) {
        if (PyUnicode_CompareWithASCIIString(obj, "block") == 0) {
            *policy = SHMKIT_RING_BLOCK;
            return 0;
        }
        if (PyUnicode_CompareWithASCIIString(obj, "overwrite") == 0) {
            *policy = SHMKIT_RING_OVERWRITE;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "policy must be 'block' or 'overwrite', not %R", obj);
    return -1;
}

/* ---- the buffer exporter ------------------------------------------------------------ */

static SkSharedBuffer *new_exporter(SkRing *ring, void *ptr, size_t len, int readonly)
{
    SkSharedBuffer *b = ring->spare_exporter;

    if (b != NULL) {
        ring->spare_exporter = NULL;
        (void)PyObject_Init((PyObject *)b, &SkSharedBuffer_Type);
    } else if ((b = PyObject_New(SkSharedBuffer, &SkSharedBuffer_Type)) == NULL) {
        return NULL;
    }
    Py_INCREF(ring);
    b->ring = ring;
    b->ptr = ptr;
    b->len = (Py_ssize_t)len;
    b->readonly = readonly;
    b->valid = 1;
    b->exports = 0;
    return b;
}

static int exporter_getbuffer(SkSharedBuffer *self, Py_buffer *view, int flags)
{
    if (!self->valid) {
        PyErr_SetString(PyExc_BufferError, "the shmkit message view was released: its "
                        "with block has ended");
        view->obj = NULL;
        return -1;
    }
    if (PyBuffer_FillInfo(view, (PyObject *)self, self->ptr, self->len, self->readonly,
                          flags) < 0)
        return -1;
    self->exports++;
    return 0;
}

static void exporter_releasebuffer(SkSharedBuffer *self, Py_buffer *view)
{
    (void)view;
    self->exports--;
}

static void exporter_dealloc(SkSharedBuffer *self)
{
    SkRing *ring = self->ring;

    self->ring = NULL;
    if (ring == NULL) {
        PyObject_Del(self);
        return;
    }
    if (ring->active == self)
        ring->active = NULL;
    if (ring->spare_exporter == NULL)
        ring->spare_exporter = self;  /* freed by ring_dealloc at the latest */
    else
        PyObject_Del(self);
    Py_DECREF(ring);
}

static PyBufferProcs exporter_as_buffer = {
    (getbufferproc)exporter_getbuffer,
    (releasebufferproc)exporter_releasebuffer,
};

PyTypeObject SkSharedBuffer_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shmkit.SharedBuffer",
    .tp_basicsize = sizeof(SkSharedBuffer),
    .tp_dealloc = (destructor)exporter_dealloc,
    .tp_as_buffer = &exporter_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Internal: exports a peeked message or a reservation in shared memory.",
};

/* Live buffers of the ring's exporter. */
static Py_ssize_t live_exports(SkRing *self)
{
    return self->active != NULL ? self->active->exports : 0;
}

/* ---- the ring -------------------------------------------------------------------------- */

static PyObject *new_ring(PyObject *spec, shmkit_ring *ring, int writer, int owned,
                          int any_owner)
{
    SkRing *self = PyObject_New(SkRing, &SkRing_Type);

    if (self == NULL) {
        shmkit_ring_close(ring);
        return NULL;
    }
    self->h.lock = NULL;
    self->h.closing = 0;
    self->h.weakreflist = NULL;
    Py_INCREF(spec);
    self->h.spec = spec;
    self->ring = ring;
    self->policy = shmkit_ring_policy(ring);
    self->role = writer ? ROLE_WRITER
                        : self->policy == SHMKIT_RING_BLOCK ? ROLE_CONSUMER : ROLE_READER;
    self->owned = owned;
    self->any_owner = any_owner;
    self->max_message = shmkit_ring_max_message(ring);
    self->z = Z_IDLE;
    self->active = NULL;
    self->reserved = NULL;
    self->spare_zc = NULL;
    self->spare_exporter = NULL;
    if (sk_lock_init(&self->h) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static void close_ring(SkRing *self)
{
    shmkit_ring *ring = self->ring;

    self->ring = NULL;
    self->z = Z_IDLE;
    self->reserved = NULL;
    if (self->active != NULL)
        self->active->valid = 0;
    if (ring != NULL) {
        Py_BEGIN_ALLOW_THREADS
        shmkit_ring_close(ring);
        Py_END_ALLOW_THREADS
    }
}

static void ring_finalize(SkRing *self)
{
    if (self->ring != NULL) {
        sk_warn_unclosed((PyObject *)self, "Ring", self->h.spec);
        close_ring(self);
    }
}

static void ring_dealloc(SkRing *self)
{
    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0)
        return; /* resurrected */
    close_ring(self);
    if (self->h.weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    sk_lock_free(&self->h);
    Py_CLEAR(self->h.spec);
    /* Spares only: a live context or exporter holds the ring. */
    if (self->spare_zc != NULL)
        PyObject_Del(self->spare_zc);
    if (self->spare_exporter != NULL)
        PyObject_Del(self->spare_exporter);
    PyObject_Del(self);
}

static int check_open(SkRing *self)
{
    return sk_check_open(&self->h, self->ring);
}

static int check_role(SkRing *self, int writer, const char *what)
{
    if (check_open(self) < 0)
        return -1;
    if (writer && self->role != ROLE_WRITER) {
        PyErr_Format(SkUnsupportedOperation, "%s: %R was opened as a reader: open it with "
                     "Ring.open(spec, write=True) or Ring.create() to send", what,
                     self->h.spec);
        return -1;
    }
    if (!writer && self->role == ROLE_WRITER) {
        PyErr_Format(SkUnsupportedOperation, "%s: this handle of %R is the ring's writer: "
                     "open the ring again (without write=True) to receive", what,
                     self->h.spec);
        return -1;
    }
    return 0;
}

/* Cancel the reservation (libshmkit's shmkit_ring_cancel): nothing is
 * published, and the next send or reserve may go ahead.  Only once no view
 * of it is alive: the memory is given back to the ring.  0, or -1 with an
 * exception set. */
static int cancel_reservation(SkRing *self)
{
    int rc;

    if (sk_hold_open(&self->h) < 0)
        return -1;
    rc = shmkit_ring_cancel(self->ring);
    self->z = Z_IDLE;
    if (self->active != NULL)
        self->active->valid = 0;
    self->active = NULL;
    self->reserved = NULL;
    if (rc < 0 && rc != -EINVAL) {  /* -EINVAL: nothing reserved any more */
        sk_raise(rc, NULL, self->h.spec);
        return -1;
    }
    return 0;
}

/* Bring the zero-copy state to Z_IDLE before another call: release a
 * pending peeked message, cancel a pending reservation, once no view of it
 * is alive.  0, or -1 with an exception set. */
static int settle(SkRing *self)
{
    int rc;

    switch (self->z) {
    case Z_IDLE:
        return 0;
    case Z_PEEKING:
    case Z_RESERVING:
        PyErr_Format(PyExc_BufferError, "a %s() block is open on this ring (%R): finish it "
                     "first", self->z == Z_PEEKING ? "peek" : "reserve", self->h.spec);
        return -1;
    case Z_PEEK_PENDING:
        if (live_exports(self) > 0) {
            PyErr_Format(PyExc_BufferError, "a view of the message peeked from %R is still "
                         "alive: release it (del it, or call its release()) first",
                         self->h.spec);
            return -1;
        }
        if (sk_hold_open(&self->h) < 0)
            return -1;
        rc = shmkit_ring_release(self->ring);
        self->z = Z_IDLE;
        if (self->active != NULL)
            self->active->valid = 0;
        self->active = NULL;
        /* The block reported the views already; a message overwritten
         * meanwhile is not news to report on another call. */
        if (rc < 0 && rc != SHMKIT_EOVERWRITTEN) {
            sk_raise(rc, NULL, self->h.spec);
            return -1;
        }
        return 0;
    case Z_CANCEL_PENDING:
        if (live_exports(self) > 0) {
            PyErr_Format(PyExc_BufferError, "a view of an unpublished reservation of %R is "
                         "still alive: release it (del it, or call its release()) first",
                         self->h.spec);
            return -1;
        }
        return cancel_reservation(self);
    }
    return 0;
}

/* ---- create / open -------------------------------------------------------------------- */

static int fill_options(struct shmkit_ring_options *o, Py_ssize_t capacity,
                        Py_ssize_t max_message, PyObject *policy_obj, Py_ssize_t consumers)
{
    shmkit_ring_options_init(o);
    if (capacity <= 0) {
        PyErr_SetString(PyExc_ValueError, "capacity must be a positive number of bytes");
        return -1;
    }
    if (max_message < 0) {
        PyErr_SetString(PyExc_ValueError, "max_message must be >= 0 (0: the largest)");
        return -1;
    }
    if (parse_policy(policy_obj, &o->policy) < 0)
        return -1;
    if (consumers < 1 || consumers > SHMKIT_RING_MAX_CONSUMERS) {
        PyErr_Format(PyExc_ValueError, "consumers must be 1 to %d", SHMKIT_RING_MAX_CONSUMERS);
        return -1;
    }
    if (o->policy == SHMKIT_RING_OVERWRITE && consumers != 1) {
        PyErr_SetString(PyExc_ValueError, "an overwrite ring has any number of readers, not "
                        "consumers: consumers= goes with policy='block' only");
        return -1;
    }
    o->capacity = (size_t)capacity;
    o->max_message = (size_t)max_message;
    o->consumers = (unsigned)consumers;
    return 0;
}

/* A geometry that shmkit_ring_size() refuses: a bad argument value. */
static PyObject *geometry_error(int rc)
{
    const char *detail = shmkit_error_detail();

    if (detail[0] != '\0')
        return PyErr_Format(PyExc_ValueError, "%s (%s)", shmkit_strerror(rc), detail);
    return PyErr_Format(PyExc_ValueError, "%s", shmkit_strerror(rc));
}

PyDoc_STRVAR(ring_create_doc,
"Ring.create(spec, capacity, max_message=0, policy='block', consumers=1,\n"
"            mode=0o600, exclusive=False, owned=False, any_owner=False) -> Ring\n\n"
"Create the ring SPEC and open it as its writer.  CAPACITY: bytes of message\n"
"data, rounded up to a power of two (256 bytes .. 1 GiB).  MAX_MESSAGE: the\n"
"largest message, at most capacity / 2 - 16; 0: that largest.  POLICY:\n"
"'block' (lossless: every consumer receives every message, the writer waits\n"
"for the slowest) or 'overwrite' (the writer never waits; readers that fall\n"
"behind skip).  CONSUMERS: block rings: how many consumers at once (1 ..\n"
"MAX_CONSUMERS).  MODE, EXCLUSIVE, OWNED, ANY_OWNER: as for Slot.create().\n"
"An existing ring is opened as its writer instead and must match\n"
"(IncompatibleError otherwise).  See also Ring.geometry().");

static PyObject *ring_create(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "spec", "capacity", "max_message", "policy", "consumers", "mode",
                              "exclusive", "owned", "any_owner", NULL };
    PyObject *spec, *policy_obj = NULL;
    Py_ssize_t capacity, max_message = 0, consumers = 1;
    unsigned int mode = 0600;
    int exclusive = 0, owned = 0, any_owner = 0, rc;
    struct shmkit_ring_options o;
    shmkit_ring *ring = NULL;
    const char *specs;
    PyObject *block = NULL;

    (void)cls;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Un|nOnIppp:create", kwlist, &spec,
                                     &capacity, &max_message, &policy_obj, &consumers, &mode,
                                     &exclusive, &owned, &any_owner))
        return NULL;
    if ((specs = sk_spec_utf8(spec)) == NULL)
        return NULL;
    if (policy_obj == NULL) {
        if ((block = PyUnicode_FromString("block")) == NULL)
            return NULL;
        policy_obj = block;
    }
    rc = fill_options(&o, capacity, max_message, policy_obj, consumers);
    Py_XDECREF(block);
    if (rc < 0)
        return NULL;
    if (mode == 0 || mode > 07777)
        return PyErr_Format(PyExc_ValueError, "mode must be 0o1 to 0o7777, not 0o%o", mode);
    rc = shmkit_ring_size(&o, NULL, NULL, NULL);
    if (rc < 0)
        return geometry_error(rc);
    o.mode = mode;
    o.flags = (exclusive ? SHMKIT_EXCL : 0) | (owned ? SHMKIT_OWNED : 0)
              | (any_owner ? SHMKIT_ANY_OWNER : 0);
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_ring_create(&ring, specs, &o);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return sk_raise(rc, NULL, spec);
    return new_ring(spec, ring, 1, owned, any_owner);
}

PyDoc_STRVAR(ring_geometry_doc,
"Ring.geometry(capacity, max_message=0, policy='block', consumers=1)\n"
"    -> (capacity, max_message, segment_size)\n\n"
"The geometry Ring.create() would give (shmkit_ring_size): the capacity\n"
"rounded up, the largest message and the bytes of the segment.");

static PyObject *ring_geometry(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "capacity", "max_message", "policy", "consumers", NULL };
    PyObject *policy_obj = NULL, *block = NULL;
    Py_ssize_t capacity, max_message = 0, consumers = 1;
    struct shmkit_ring_options o;
    size_t cap = 0, max = 0, seg = 0;
    int rc;

    (void)cls;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "n|nOn:geometry", kwlist, &capacity,
                                     &max_message, &policy_obj, &consumers))
        return NULL;
    if (policy_obj == NULL) {
        if ((block = PyUnicode_FromString("block")) == NULL)
            return NULL;
        policy_obj = block;
    }
    rc = fill_options(&o, capacity, max_message, policy_obj, consumers);
    Py_XDECREF(block);
    if (rc < 0)
        return NULL;
    rc = shmkit_ring_size(&o, &cap, &max, &seg);
    if (rc < 0)
        return geometry_error(rc);
    return Py_BuildValue("(nnn)", (Py_ssize_t)cap, (Py_ssize_t)max, (Py_ssize_t)seg);
}

PyDoc_STRVAR(ring_open_doc,
"Ring.open(spec, write=False, from_oldest=False, from_newest=False,\n"
"          any_owner=False) -> Ring\n\n"
"Open the existing ring SPEC.  WRITE=True: as its writer (BusyError if\n"
"another live process is).  Otherwise as a reader, whose role depends on\n"
"the ring's policy:\n"
"  block: one of its consumers (needs write permission).  By default it\n"
"    resumes an entry that a consumer left (closed or died) where it\n"
"    stopped, else joins a vacant entry at the newest message;\n"
"    FROM_NEWEST / FROM_OLDEST join afresh at the newest message or the\n"
"    oldest the ring keeps.  BusyError when every entry has a live\n"
"    consumer.\n"
"  overwrite: a read-only reader with a private cursor, starting at the\n"
"    newest message, or the oldest retained one with FROM_OLDEST.\n"
"ANY_OWNER: accept a segment owned by another user.");

static PyObject *ring_open(PyObject *cls, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = { "spec", "write", "from_oldest", "from_newest", "any_owner",
                              NULL };
    PyObject *spec;
    int write = 0, oldest = 0, newest = 0, any_owner = 0, rc;
    shmkit_ring *ring = NULL;
    const char *specs;
    unsigned flags;

    (void)cls;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|pppp:open", kwlist, &spec, &write,
                                     &oldest, &newest, &any_owner))
        return NULL;
    if ((specs = sk_spec_utf8(spec)) == NULL)
        return NULL;
    if (oldest && newest)
        return PyErr_Format(PyExc_ValueError, "give from_oldest or from_newest, not both");
    if (write && (oldest || newest))
        return PyErr_Format(PyExc_ValueError, "from_oldest and from_newest are for readers, "
                            "not with write=True");
    flags = (write ? SHMKIT_WRITE : 0) | (oldest ? SHMKIT_FROM_OLDEST : 0)
            | (newest ? SHMKIT_FROM_NEWEST : 0) | (any_owner ? SHMKIT_ANY_OWNER : 0);
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_ring_open(&ring, specs, flags);
    Py_END_ALLOW_THREADS
    if (rc < 0)
        return sk_raise(rc, NULL, spec);
    return new_ring(spec, ring, write, 0, any_owner);
}

static PyObject *ring_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    (void)type;
    (void)args;
    (void)kwargs;
    PyErr_SetString(PyExc_TypeError,
                    "cannot create 'shmkit.Ring' instances: use Ring.create() or Ring.open()");
    return NULL;
}

/* ---- sending ---------------------------------------------------------------------------- */

struct send_ctx {
    SkRing *self;
    const void *msg;
    size_t len;
    void *ptr;
};

static int send_once(void *ctx, int timeout_ms)
{
    struct send_ctx *s = ctx;

    return shmkit_ring_send(s->self->ring, s->msg, s->len, timeout_ms);
}

PyDoc_STRVAR(ring_send_doc,
"send(data, timeout=None) -> None\n\n"
"Send DATA (a bytes-like object of 0 .. max_message bytes) as one message.\n"
"Block rings: waits while the ring is full, at most TIMEOUT seconds (None:\n"
"forever; 0: not at all), then WaitTimeoutError; nothing is sent then.\n"
"Overwrite rings never wait.  ValueError for a message too long.  Writer\n"
"handles only.");

static int retryable(int rc)
{
    return rc == -EAGAIN || rc == -ETIMEDOUT || rc == -EINTR;
}

/* Optional TIMEOUT argument: NULL or None -> -1 (forever). */
static int timeout_arg(PyObject *obj, double *timeout)
{
    if (obj == NULL) {
        *timeout = -1.0;
        return 0;
    }
    return sk_parse_timeout(obj, timeout);
}

static PyObject *ring_send(SkRing *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    static const char *const names[] = { "data", "timeout" };
    char detail[SK_DETAIL_MAX];
    PyObject *a[2];
    struct send_ctx s;
    Py_buffer data;
    int have_view = 0, rc;
    double timeout;

    if (nargs == 1 && kwnames == NULL) {  /* send(data): the common case */
        a[0] = args[0];
        a[1] = NULL;
    } else if (sk_parse_args(args, nargs, kwnames, names, 2, 1, "send", a) < 0) {
        return NULL;
    }
    if (check_role(self, 1, "send()") < 0 || timeout_arg(a[1], &timeout) < 0
        || settle(self) < 0)
        return NULL;
    s.self = self;
    if (PyBytes_CheckExact(a[0])) {
        s.msg = PyBytes_AS_STRING(a[0]);
        s.len = (size_t)PyBytes_GET_SIZE(a[0]);
    } else if (PyByteArray_CheckExact(a[0])
               && (size_t)PyByteArray_GET_SIZE(a[0]) <= self->max_message
               && PyByteArray_GET_SIZE(a[0]) <= 65536) {
        /* A bytearray, no Py_buffer: only for a send that keeps the GIL
         * from start to end (no other thread can resize the bytearray
         * then), the first try; when it has to wait, the bytearray is
         * sent through a buffer (which locks its size). */
        if (sk_hold_open(&self->h) < 0)
            return NULL;
        rc = shmkit_ring_send(self->ring, PyByteArray_AS_STRING(a[0]),
                              (size_t)PyByteArray_GET_SIZE(a[0]), 0);
        if (rc >= 0)
            Py_RETURN_NONE;
        if (self->policy == SHMKIT_RING_OVERWRITE || sk_timeout_is_zero(timeout) || !retryable(rc)) {
            strncpy(detail, shmkit_error_detail(), SK_DETAIL_MAX - 1);
            detail[SK_DETAIL_MAX - 1] = '\0';
            return sk_raise_wait(rc, detail, self->h.spec);
        }
        goto with_buffer;  /* a block ring that is full: wait */
    } else {
    with_buffer:
        if (!PyObject_CheckBuffer(a[0]) || PyUnicode_Check(a[0]))
            return PyErr_Format(PyExc_TypeError, "send() argument 'data' must be a "
                                "bytes-like object, not %.100s", Py_TYPE(a[0])->tp_name);
        if (PyObject_GetBuffer(a[0], &data, PyBUF_SIMPLE) < 0)
            return NULL;
        have_view = 1;
        s.msg = data.buf;
        s.len = (size_t)data.len;
    }
    if (s.len > self->max_message) {
        PyErr_Format(PyExc_ValueError, "message of %zu bytes, %R takes at most %zu", s.len,
                     self->h.spec, self->max_message);
        goto fail;
    }
    if (self->policy == SHMKIT_RING_OVERWRITE || sk_timeout_is_zero(timeout)) {
        /* Never waits: no slices, and the GIL only for large copies. */
        int large = s.len > 65536;

        if ((large ? sk_lock_open(&self->h) : sk_hold_open(&self->h)) < 0)
            goto fail;
        if (!large) {
            rc = shmkit_ring_send(self->ring, s.msg, s.len, 0);
        } else {
            Py_BEGIN_ALLOW_THREADS
            rc = shmkit_ring_send(self->ring, s.msg, s.len, 0);
            Py_END_ALLOW_THREADS
        }
        if (rc < 0) {
            strncpy(detail, shmkit_error_detail(), SK_DETAIL_MAX - 1);
            detail[SK_DETAIL_MAX - 1] = '\0';
        }
        if (large)
            sk_unlock(&self->h);
    } else {
        /* First try at once with the GIL held and no clock read; waits
         * only when the ring is full. */
        rc = sk_wait(&self->h, timeout, send_once, &s, NULL, detail);
    }
    if (have_view)
        PyBuffer_Release(&data);
    if (rc < 0)
        return sk_raise_wait(rc, detail, self->h.spec);
    Py_RETURN_NONE;
fail:
    if (have_view)
        PyBuffer_Release(&data);
    return NULL;
}

/* ---- receiving ---------------------------------------------------------------------------- */

#define FIRST_BUFFER 4096

struct recv_ctx {
    SkRing *self;
    void *buf;
    size_t len;
    const void *ptr;          /* peek */
};

static int recv_once(void *ctx, int timeout_ms)
{
    struct recv_ctx *r = ctx;

    return shmkit_ring_recv(r->self->ring, r->buf, r->len, timeout_ms);
}

static int peek_once(void *ctx, int timeout_ms)
{
    struct recv_ctx *r = ctx;

    return shmkit_ring_peek(r->self->ring, &r->ptr, timeout_ms);
}

static int ring_current(void *ctx)
{
    struct recv_ctx *r = ctx;

    return shmkit_ring_is_current(r->self->ring);
}

/* Receive the next message, longer than FIRST_BUFFER, as bytes: peek at
 * it and copy it straight into the bytes object, then release it (one
 * copy, no buffer of max_message bytes).  From sk_wait()'s return to the
 * release the GIL is held and no Python code runs, so no other thread
 * uses the handle meanwhile (none is busy: see sk_hold_open()).  An
 * overwrite reader whose message was overwritten during the copy
 * (SHMKIT_EOVERWRITTEN) discards the copy and receives the next one, as
 * shmkit_ring_recv() does.  A MemoryError loses the message (as it did
 * when the bytes object was allocated after the receive). */
static PyObject *receive_large(SkRing *self, double timeout, int check_current)
{
    char detail[SK_DETAIL_MAX];
    struct recv_ctx r;
    PyObject *result;
    int rc;

    r.self = self;
    for (;;) {
        r.ptr = NULL;
        rc = sk_wait(&self->h, timeout, peek_once, &r, check_current ? ring_current : NULL,
                     detail);
        if (rc < 0)
            return sk_raise_wait(rc, detail, self->h.spec);
        result = PyBytes_FromStringAndSize(r.ptr, rc);
        rc = shmkit_ring_release(self->ring);
        if (rc == SHMKIT_EOVERWRITTEN) {
            Py_XDECREF(result);
            if (result == NULL)
                return NULL;
            continue;
        }
        if (rc < 0) {
            Py_XDECREF(result);
            return sk_raise(rc, NULL, self->h.spec);
        }
        return result;
    }
}

/* Receive the next message as bytes. */
static PyObject *receive(SkRing *self, double timeout, int check_current)
{
    char detail[SK_DETAIL_MAX];
    unsigned char first[FIRST_BUFFER];
    struct recv_ctx r;
    int rc;

    if (settle(self) < 0)
        return NULL;
    r.self = self;
    r.buf = first;
    r.len = sizeof first;
    rc = sk_wait(&self->h, timeout, recv_once, &r, check_current ? ring_current : NULL,
                 detail);
    if (rc == -EMSGSIZE)
        return receive_large(self, timeout, check_current);
    if (rc < 0)
        return sk_raise_wait(rc, detail, self->h.spec);
    return PyBytes_FromStringAndSize(r.buf, rc);
}

PyDoc_STRVAR(ring_recv_doc,
"recv(timeout=None) -> bytes\n\n"
"Receive the next message (a copy).  Waits for one at most TIMEOUT seconds\n"
"(None: forever; 0: not at all), then WaitTimeoutError.  A block ring's\n"
"consumer consumes it; an overwrite reader that fell behind skips to the\n"
"oldest message the ring keeps and counts the skipped ones in lost.  Reader\n"
"handles only.  Releases the GIL while it waits; Ctrl-C works.");

static PyObject *ring_recv(SkRing *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    static const char *const names[] = { "timeout" };
    PyObject *a[1] = { NULL };
    double timeout;

    if ((nargs != 0 || kwnames != NULL)
        && sk_parse_args(args, nargs, kwnames, names, 1, 0, "recv", a) < 0)
        return NULL;
    if (check_role(self, 0, "recv()") < 0 || timeout_arg(a[0], &timeout) < 0)
        return NULL;
    return receive(self, timeout, 0);
}

PyDoc_STRVAR(ring_recv_into_doc,
"recv_into(buffer, timeout=None) -> int\n\n"
"Receive the next message into BUFFER (a writable bytes-like object) and\n"
"return its length.  InvalidArgumentError (a ValueError, -EMSGSIZE) if it\n"
"is longer than the buffer: the message then stays for the next receive.\n"
"Otherwise as recv().");

static PyObject *ring_recv_into(SkRing *self, PyObject *const *args, Py_ssize_t nargs,
                                PyObject *kwnames)
{
    static const char *const names[] = { "buffer", "timeout" };
    char detail[SK_DETAIL_MAX];
    PyObject *a[2];
    struct recv_ctx r;
    Py_buffer view;
    double timeout;
    int rc;

    if (nargs == 1 && kwnames == NULL) {
        a[0] = args[0];
        a[1] = NULL;
    } else if (sk_parse_args(args, nargs, kwnames, names, 2, 1, "recv_into", a) < 0) {
        return NULL;
    }
    if (!PyObject_CheckBuffer(a[0]) || PyUnicode_Check(a[0]))
        return PyErr_Format(PyExc_TypeError, "recv_into() argument 'buffer' must be a "
                            "read-write bytes-like object, not %.100s",
                            Py_TYPE(a[0])->tp_name);
    if (PyObject_GetBuffer(a[0], &view, PyBUF_WRITABLE) < 0) {
        if (PyErr_ExceptionMatches(PyExc_BufferError)) {  /* as "w*" says it */
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "recv_into() argument 'buffer' must be a "
                         "read-write bytes-like object, not %.100s", Py_TYPE(a[0])->tp_name);
        }
        return NULL;
    }
    if (check_role(self, 0, "recv_into()") < 0 || timeout_arg(a[1], &timeout) < 0
        || settle(self) < 0) {
        PyBuffer_Release(&view);
        return NULL;
    }
    r.self = self;
    r.buf = view.buf;
    r.len = (size_t)view.len;
    rc = sk_wait(&self->h, timeout, recv_once, &r, NULL, detail);
    PyBuffer_Release(&view);
    if (rc < 0)
        return sk_raise_wait(rc, detail, self->h.spec);
    return PyLong_FromLong(rc);
}

static PyObject *ring_iternext(SkRing *self)
{
    if (check_role(self, 0, "iteration") < 0)
        return NULL;
    return receive(self, -1.0, 1);
}

static PyObject *ring_iter(SkRing *self)
{
    if (check_role(self, 0, "iteration") < 0)
        return NULL;
    Py_INCREF(self);
    return (PyObject *)self;
}

/* ---- peek ------------------------------------------------------------------------------------ */

struct SkZeroCopy {
    PyObject_HEAD
    SkRing *ring;
    double timeout;
    SkSharedBuffer *exporter;
    PyObject *view;
    Py_ssize_t n;             /* reserve: the size asked */
    Py_ssize_t length;        /* reserve: the bytes to commit */
    int entered, done;
};

static SkZeroCopy *new_zero_copy(PyTypeObject *type, SkRing *ring, double timeout)
{
    /* Not tracked by the GC: it refers only to its ring, exporter and
     * memoryview, none of which can refer back to it, so it is never in
     * a cycle (and a GC object per message is measurable). */
    SkZeroCopy *z = ring->spare_zc;

    if (z != NULL) {
        ring->spare_zc = NULL;
        (void)PyObject_Init((PyObject *)z, type);
    } else if ((z = PyObject_New(SkZeroCopy, type)) == NULL) {
        return NULL;
    }
    Py_INCREF(ring);
    z->ring = ring;
    z->timeout = timeout;
    z->exporter = NULL;
    z->view = NULL;
    z->n = z->length = 0;
    z->entered = z->done = 0;
    return z;
}

static void zc_dealloc(SkZeroCopy *z)
{
    SkRing *ring;

    if (z->entered && !z->done && z->ring != NULL && z->ring->ring != NULL) {
        /* Entered but never exited (__enter__ called by hand): as if the
         * block ended with views alive: the peeked message is released
         * by the next receive, the reservation is cancelled by the next
         * writer call (or close()), unpublished. */
        z->done = 1;
        if (z->exporter != NULL)
            z->exporter->valid = 0;
        z->ring->z = Py_TYPE(z) == &SkPeek_Type ? Z_PEEK_PENDING : Z_CANCEL_PENDING;
    }
    Py_CLEAR(z->view);
    Py_CLEAR(z->exporter);
    ring = z->ring;
    z->ring = NULL;
    if (ring != NULL && ring->spare_zc == NULL)
        ring->spare_zc = z;  /* freed by ring_dealloc at the latest */
    else
        PyObject_Del(z);
    Py_XDECREF(ring);
}

static PyObject *memoryview_release;  /* memoryview.release, the method descriptor */

/* Hand out a memoryview of PTR .. PTR + LEN through a new exporter. */
static PyObject *export(SkZeroCopy *z, void *ptr, size_t len, int readonly)
{
    z->exporter = new_exporter(z->ring, ptr, len, readonly);
    if (z->exporter == NULL)
        return NULL;
    z->view = PyMemoryView_FromObject((PyObject *)z->exporter);
    if (z->view == NULL)
        return NULL;
    z->ring->active = z->exporter;
    Py_INCREF(z->view);
    return z->view;
}

/* End the block's view: release the memoryview handed out and make the
 * exporter refuse new buffers.  Returns the exporter's live buffers
 * (views derived from the one handed out). */
static Py_ssize_t unexport(SkZeroCopy *z)
{
    if (z->view != NULL) {
        /* the unbound method: no lookup, no bound method object */
#if PY_VERSION_HEX >= 0x03090000
        PyObject *r = PyObject_Vectorcall(memoryview_release, &z->view, 1, NULL);
#else
        PyObject *r = PyObject_CallFunctionObjArgs(memoryview_release, z->view, NULL);
#endif
        if (r == NULL)
            PyErr_Clear(); /* it has exports of its own: counted below */
        Py_XDECREF(r);
    }
    if (z->exporter == NULL)
        return 0;
    z->exporter->valid = 0;
    return z->exporter->exports;
}

/* __exit__(exc_type=None, exc_value=None, tb=None): EXC_TYPE (borrowed),
 * or NULL with TypeError set. */
static PyObject *exit_exc_type(PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs > 3) {
        PyErr_Format(PyExc_TypeError, "__exit__ expected at most 3 arguments, got %zd", nargs);
        return NULL;
    }
    return nargs > 0 ? args[0] : Py_None;
}

static PyObject *peek_enter(SkZeroCopy *z, PyObject *unused)
{
    char detail[SK_DETAIL_MAX];
    SkRing *self = z->ring;
    struct recv_ctx r;
    int rc;

    (void)unused;
    if (z->entered) {
        PyErr_SetString(PyExc_RuntimeError, "a peek() context can be entered only once");
        return NULL;
    }
    if (check_role(self, 0, "peek()") < 0 || settle(self) < 0)
        return NULL;
    r.self = self;
    r.ptr = NULL;
    /* Other receives on this object are refused from now on, also while
     * this one waits (between its slices). */
    self->z = Z_PEEKING;
    rc = sk_wait(&self->h, z->timeout, peek_once, &r, NULL, detail);
    if (rc < 0) {
        self->z = Z_IDLE;
        return sk_raise_wait(rc, detail, self->h.spec);
    }
    z->entered = 1;
    {
        PyObject *view = export(z, (void *)r.ptr, (size_t)rc, 1);
        if (view == NULL) {
            /* Give the message back to the ring's state: released by the
             * next receive. */
            self->z = Z_PEEK_PENDING;
            if (z->exporter != NULL)
                z->exporter->valid = 0;
            z->done = 1;
        }
        return view;
    }
}

static PyObject *peek_exit(SkZeroCopy *z, PyObject *const *args, Py_ssize_t nargs)
{
    SkRing *self = z->ring;
    PyObject *exc_type;
    Py_ssize_t live;
    int rc;

    if ((exc_type = exit_exc_type(args, nargs)) == NULL)
        return NULL;
    if (!z->entered || z->done)
        Py_RETURN_FALSE;
    z->done = 1;
    live = unexport(z);
    if (self->ring == NULL) /* closed inside the block */
        Py_RETURN_FALSE;
    if (live > 0) {
        self->z = Z_PEEK_PENDING;
        PyErr_Format(PyExc_BufferError, "%zd view(s) derived from the peeked message of %R "
                     "are still alive: the message stays peeked (valid) until they are "
                     "released, then the next receive releases it", live, self->h.spec);
        return NULL;
    }
    if (sk_hold_open(&self->h) < 0)
        return NULL;
    rc = shmkit_ring_release(self->ring);
    self->z = Z_IDLE;
    self->active = NULL;
    if (rc < 0 && exc_type == Py_None)
        return sk_raise(rc, NULL, self->h.spec);
    Py_RETURN_FALSE;
}

PyDoc_STRVAR(ring_peek_doc,
"peek(timeout=None) -> context manager\n\n"
"Receive the next message without a copy:\n\n"
"    with ring.peek(timeout=1.0) as view:\n"
"        header = bytes(view[:8])\n\n"
"VIEW is a read-only memoryview of the message in shared memory, valid\n"
"inside the block; waiting for a message is as for recv() (on entering).\n"
"On leaving the block (however it ends) the view is released (using it\n"
"raises ValueError, and no new buffer can be taken from it) and the message\n"
"is released: consumed.  On an overwrite ring the writer may overwrite the\n"
"message meanwhile: leaving then raises OverwrittenError (unless the block\n"
"raised), and what was read must be discarded; trust it only once the block\n"
"ended without error.  A view derived from VIEW that is still alive at the\n"
"end (a slice, numpy.frombuffer) keeps the message valid: leaving raises\n"
"BufferError, and the message is released by the first receive after those\n"
"views are gone (which raises BufferError until then).  While the block is\n"
"open, other receives on this Ring raise BufferError, and close() too.");

static PyObject *ring_peek(SkRing *self, PyObject *const *args, Py_ssize_t nargs,
                           PyObject *kwnames)
{
    static const char *const names[] = { "timeout" };
    PyObject *a[1] = { NULL };
    double timeout;

    if ((nargs != 0 || kwnames != NULL)
        && sk_parse_args(args, nargs, kwnames, names, 1, 0, "peek", a) < 0)
        return NULL;
    if (check_role(self, 0, "peek()") < 0 || timeout_arg(a[0], &timeout) < 0)
        return NULL;
    return (PyObject *)new_zero_copy(&SkPeek_Type, self, timeout);
}

/* ---- reserve ------------------------------------------------------------------------------------ */

struct reserve_ctx {
    SkRing *self;
    size_t len;
    void *ptr;
};

static int reserve_once(void *ctx, int timeout_ms)
{
    struct reserve_ctx *r = ctx;

    return shmkit_ring_reserve(r->self->ring, &r->ptr, r->len, timeout_ms);
}

static PyObject *reserve_enter(SkZeroCopy *z, PyObject *unused)
{
    char detail[SK_DETAIL_MAX];
    SkRing *self = z->ring;
    struct reserve_ctx r;
    PyObject *view;
    int rc;

    (void)unused;
    if (z->entered) {
        PyErr_SetString(PyExc_RuntimeError, "a reserve() context can be entered only once");
        return NULL;
    }
    if (check_role(self, 1, "reserve()") < 0 || settle(self) < 0)
        return NULL;
    r.self = self;
    r.len = (size_t)z->n;
    r.ptr = NULL;
    self->z = Z_RESERVING; /* other sends are refused, also while waiting */
    rc = sk_wait(&self->h, z->timeout, reserve_once, &r, NULL, detail);
    if (rc < 0) {
        self->z = Z_IDLE;
        return sk_raise_wait(rc, detail, self->h.spec);
    }
    self->reserved = r.ptr;
    z->entered = 1;
    view = export(z, self->reserved, (size_t)z->n, 0);
    if (view == NULL) {
        /* Cancelled by the next writer call (a view may exist). */
        self->z = Z_CANCEL_PENDING;
        if (z->exporter != NULL)
            z->exporter->valid = 0;
        z->done = 1;
    }
    return view;
}

static PyObject *reserve_exit(SkZeroCopy *z, PyObject *const *args, Py_ssize_t nargs)
{
    SkRing *self = z->ring;
    PyObject *exc_type;
    Py_ssize_t live;
    int rc;

    if ((exc_type = exit_exc_type(args, nargs)) == NULL)
        return NULL;
    if (!z->entered || z->done)
        Py_RETURN_FALSE;
    z->done = 1;
    live = unexport(z);
    if (self->ring == NULL)
        Py_RETURN_FALSE;
    if (live > 0) {
        /* A view derived from the reservation may still be written to:
         * the memory is not given back to the ring (cancelled) before it
         * is gone; nothing is published. */
        self->z = Z_CANCEL_PENDING;
        if (exc_type != Py_None)
            Py_RETURN_FALSE; /* the block's exception goes on */
        PyErr_Format(PyExc_BufferError, "%zd view(s) derived from the reservation in %R are "
                     "still alive: nothing was published", live, self->h.spec);
        return NULL;
    }
    if (exc_type != Py_None) {
        /* Nothing is published: the reservation is dropped at once. */
        if (cancel_reservation(self) < 0)
            return NULL;
        Py_RETURN_FALSE;
    }
    if (sk_hold_open(&self->h) < 0)
        return NULL;
    rc = shmkit_ring_commit(self->ring, (size_t)z->length);
    self->z = Z_IDLE;
    self->active = NULL;
    self->reserved = NULL;
    if (rc < 0)
        return sk_raise(rc, NULL, self->h.spec);
    Py_RETURN_FALSE;
}

static PyObject *reservation_get_length(SkZeroCopy *z, void *closure)
{
    (void)closure;
    return PyLong_FromSsize_t(z->length);
}

static int reservation_set_length(SkZeroCopy *z, PyObject *value, void *closure)
{
    Py_ssize_t n;

    (void)closure;
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "cannot delete length");
        return -1;
    }
    n = PyNumber_AsSsize_t(value, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred())
        return -1;
    if (n < 0 || n > z->n) {
        PyErr_Format(PyExc_ValueError, "length must be 0 to %zd (the bytes reserved)", z->n);
        return -1;
    }
    z->length = n;
    return 0;
}

static PyObject *zc_get_view(SkZeroCopy *z, void *closure)
{
    (void)closure;
    if (z->view == NULL || z->done)
        Py_RETURN_NONE;
    Py_INCREF(z->view);
    return z->view;
}

PyDoc_STRVAR(ring_reserve_doc,
"reserve(size, timeout=None) -> Reservation (a context manager)\n\n"
"Send a message without a copy: make room for up to SIZE bytes and write\n"
"them in place in shared memory:\n\n"
"    res = ring.reserve(256)\n"
"    with res as buf:              # buf: writable memoryview of 256 bytes\n"
"        n = fill(buf)\n"
"        res.length = n            # commit only the first n bytes\n\n"
"On a normal exit the first res.length bytes (SIZE unless set) are\n"
"published as one message.  Nothing is visible to readers before that.  If\n"
"the block raises, nothing is published: the reservation is cancelled\n"
"(shmkit_ring_cancel) and the next send() or reserve() goes ahead.  The\n"
"view is released on exit (using it raises ValueError).  A view derived\n"
"from it that is still alive at the end makes a normal exit raise\n"
"BufferError; nothing is published, and the reservation is cancelled by\n"
"the first send() or reserve() after that view is gone (until then they\n"
"raise BufferError) or by close().  Waiting for room (block rings) as for\n"
"send(), on entering.  Writer handles only.");

static PyObject *ring_reserve(SkRing *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
    static const char *const names[] = { "size", "timeout" };
    PyObject *a[2];
    Py_ssize_t n;
    double timeout;
    SkZeroCopy *z;

    if (nargs == 1 && kwnames == NULL) {
        a[0] = args[0];
        a[1] = NULL;
    } else if (sk_parse_args(args, nargs, kwnames, names, 2, 1, "reserve", a) < 0) {
        return NULL;
    }
    if (PyLong_CheckExact(a[0])) {
        n = PyLong_AsSsize_t(a[0]);
    } else {
        if (!PyIndex_Check(a[0]))
            return PyErr_Format(PyExc_TypeError, "reserve() argument 'size' must be an "
                                "integer, not %.100s", Py_TYPE(a[0])->tp_name);
        n = PyNumber_AsSsize_t(a[0], PyExc_OverflowError);
    }
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (check_role(self, 1, "reserve()") < 0 || timeout_arg(a[1], &timeout) < 0)
        return NULL;
    if (n < 0 || (size_t)n > self->max_message)
        return PyErr_Format(PyExc_ValueError, "size must be 0 to %zu (the largest message of "
                            "%R), not %zd", self->max_message, self->h.spec, n);
    z = new_zero_copy(&SkReservation_Type, self, timeout);
    if (z != NULL)
        z->n = z->length = n;
    return (PyObject *)z;
}

/* ---- properties and the rest ----------------------------------------------------------------- */

static PyObject *ring_get_u64(SkRing *self, uint64_t (*fn)(const shmkit_ring *))
{
    uint64_t v;

    if (check_open(self) < 0 || sk_hold_open(&self->h) < 0)
        return NULL;
    v = fn(self->ring);
    return PyLong_FromUnsignedLongLong(v);
}

static PyObject *ring_get_lost(SkRing *self, void *closure)
{
    (void)closure;
    return ring_get_u64(self, shmkit_ring_lost);
}

static PyObject *ring_get_position(SkRing *self, void *closure)
{
    (void)closure;
    return ring_get_u64(self, shmkit_ring_position);
}

static PyObject *ring_get_capacity(SkRing *self, void *closure)
{
    (void)closure;
    if (check_open(self) < 0)
        return NULL;
    return PyLong_FromSize_t(shmkit_ring_capacity(self->ring));
}

static PyObject *ring_get_max_message(SkRing *self, void *closure)
{
    (void)closure;
    return PyLong_FromSize_t(self->max_message);
}

static PyObject *ring_get_policy(SkRing *self, void *closure)
{
    (void)closure;
    return policy_name(self->policy);
}

static PyObject *ring_get_role(SkRing *self, void *closure)
{
    static const char *const names[] = { "writer", "consumer", "reader" };

    (void)closure;
    return PyUnicode_FromString(names[self->role]);
}

static PyObject *ring_get_spec(SkRing *self, void *closure)
{
    (void)closure;
    Py_INCREF(self->h.spec);
    return self->h.spec;
}

static PyObject *ring_get_closed(SkRing *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->ring == NULL);
}

static PyObject *ring_get_writable(SkRing *self, void *closure)
{
    (void)closure;
    return PyBool_FromLong(self->role == ROLE_WRITER);
}

PyDoc_STRVAR(ring_is_current_doc,
"is_current() -> bool\n\n"
"As Slot.is_current(): False once the ring was removed or replaced.");

static PyObject *ring_is_current(SkRing *self, PyObject *unused)
{
    int rc;

    (void)unused;
    if (check_open(self) < 0 || sk_lock_open(&self->h) < 0)
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    rc = shmkit_ring_is_current(self->ring);
    Py_END_ALLOW_THREADS
    sk_unlock(&self->h);
    if (rc < 0)
        return sk_raise(rc, NULL, self->h.spec);
    return PyBool_FromLong(rc);
}

PyDoc_STRVAR(ring_close_doc,
"close() -> None\n\n"
"Release the handle and its lease (an owned ring is removed).  The segment\n"
"and its messages stay.  A block consumer leaves its entry for the next\n"
"consumer, which resumes there; an uncommitted reservation is discarded.\n"
"BufferError (and the ring stays open) while a view of a peeked message or\n"
"reservation is alive.  Closing twice does nothing.");

static PyObject *ring_close(SkRing *self, PyObject *unused)
{
    (void)unused;
    if (self->ring == NULL)
        Py_RETURN_NONE;
    if (live_exports(self) > 0) {
        PyErr_Format(PyExc_BufferError, "cannot close %R: a view of a %s is still alive",
                     self->h.spec, self->role == ROLE_WRITER ? "reservation" : "peeked message");
        return NULL;
    }
    self->h.closing = 1;
    if (sk_lock(&self->h) < 0)
        return NULL;
    close_ring(self);
    sk_unlock(&self->h);
    Py_RETURN_NONE;
}

static PyObject *ring_enter(SkRing *self, PyObject *unused)
{
    (void)unused;
    if (check_open(self) < 0)
        return NULL;
    Py_INCREF(self);
    return (PyObject *)self;
}

static PyObject *ring_exit(SkRing *self, PyObject *args)
{
    (void)args;
    return ring_close(self, NULL);
}

static PyObject *ring_repr(SkRing *self)
{
    static const char *const names[] = { "writer", "consumer", "reader" };

    if (self->ring == NULL)
        return PyUnicode_FromFormat("<shmkit.Ring %R closed>", self->h.spec);
    return PyUnicode_FromFormat("<shmkit.Ring %R %s policy=%s capacity=%zu>", self->h.spec,
                                names[self->role],
                                self->policy == SHMKIT_RING_BLOCK ? "block" : "overwrite",
                                shmkit_ring_capacity(self->ring));
}

static PyMethodDef ring_methods[] = {
    { "create", (PyCFunction)(void (*)(void))ring_create,
      METH_VARARGS | METH_KEYWORDS | METH_CLASS, ring_create_doc },
    { "open", (PyCFunction)(void (*)(void))ring_open,
      METH_VARARGS | METH_KEYWORDS | METH_CLASS, ring_open_doc },
    { "geometry", (PyCFunction)(void (*)(void))ring_geometry,
      METH_VARARGS | METH_KEYWORDS | METH_CLASS, ring_geometry_doc },
    { "send", (PyCFunction)(void (*)(void))ring_send, METH_FASTCALL | METH_KEYWORDS,
      ring_send_doc },
    { "recv", (PyCFunction)(void (*)(void))ring_recv, METH_FASTCALL | METH_KEYWORDS,
      ring_recv_doc },
    { "recv_into", (PyCFunction)(void (*)(void))ring_recv_into,
      METH_FASTCALL | METH_KEYWORDS,
      ring_recv_into_doc },
    { "peek", (PyCFunction)(void (*)(void))ring_peek, METH_FASTCALL | METH_KEYWORDS,
      ring_peek_doc },
    { "reserve", (PyCFunction)(void (*)(void))ring_reserve, METH_FASTCALL | METH_KEYWORDS,
      ring_reserve_doc },
    { "is_current", (PyCFunction)ring_is_current, METH_NOARGS, ring_is_current_doc },
    { "close", (PyCFunction)ring_close, METH_NOARGS, ring_close_doc },
    { "__enter__", (PyCFunction)ring_enter, METH_NOARGS, "Return the open ring." },
    { "__exit__", (PyCFunction)ring_exit, METH_VARARGS, "Close the ring." },
    { NULL, NULL, 0, NULL }
};

static PyGetSetDef ring_getset[] = {
    { "lost", (getter)ring_get_lost, NULL,
      "Overwrite readers: messages skipped because the writer overwrote them,\n"
      "since the handle was opened (0 for others).  Compare it before and after\n"
      "a receive.", NULL },
    { "position", (getter)ring_get_position, NULL,
      "Sequence number of the next message this reader will receive (messages\n"
      "are numbered from 0), or the writer's next.", NULL },
    { "capacity", (getter)ring_get_capacity, NULL, "Bytes of message data.", NULL },
    { "max_message", (getter)ring_get_max_message, NULL, "The largest message.", NULL },
    { "policy", (getter)ring_get_policy, NULL, "'block' or 'overwrite'.", NULL },
    { "role", (getter)ring_get_role, NULL,
      "'writer', 'consumer' (block ring reader) or 'reader' (overwrite ring).", NULL },
    { "spec", (getter)ring_get_spec, NULL, "The segment spec.", NULL },
    { "closed", (getter)ring_get_closed, NULL, "True once closed.", NULL },
    { "writable", (getter)ring_get_writable, NULL, "True for the writer's handle.", NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

PyDoc_STRVAR(ring_doc,
"A shmkit ring: a stream of messages (bytes, 0 .. max_message each).\n\n"
"Get one with Ring.create() (the writer) or Ring.open() (a reader, or the\n"
"writer with write=True).  Policy 'block': lossless, each consumer receives\n"
"every message in order and the writer waits for the slowest; 'overwrite':\n"
"the writer never waits, readers that fall behind skip messages (lost).\n\n"
"Iterating a reader (for msg in ring) receives message after message,\n"
"waiting as long as it takes; it never ends by itself: when nothing came\n"
"for a second it checks that the ring is still there, and raises\n"
"SegmentRemovedError (a NotFoundError) once the ring was removed or\n"
"replaced.  Use recv(timeout=...) to bound a wait.\n\n"
"Handles are closed by close(), a with block or garbage collection\n"
"(ResourceWarning).  Thread-safe: calls are serialised by a per-object\n"
"lock; a peek()/reserve() block makes other receives/sends on the object\n"
"raise BufferError until it ends.  After fork() the child's copy of a\n"
"writer or block consumer raises NotHolderError.");

PyTypeObject SkRing_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shmkit.Ring",
    .tp_basicsize = sizeof(SkRing),
    .tp_dealloc = (destructor)ring_dealloc,
    .tp_repr = (reprfunc)ring_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = ring_doc,
    .tp_weaklistoffset = offsetof(SkRing, h.weakreflist),
    .tp_iter = (getiterfunc)ring_iter,
    .tp_iternext = (iternextfunc)ring_iternext,
    .tp_methods = ring_methods,
    .tp_getset = ring_getset,
    .tp_new = ring_new,
    .tp_finalize = (destructor)ring_finalize,
};

static PyMethodDef peek_methods[] = {
    { "__enter__", (PyCFunction)peek_enter, METH_NOARGS,
      "Wait for the next message and return a read-only memoryview of it." },
    { "__exit__", (PyCFunction)(void (*)(void))peek_exit, METH_FASTCALL,
      "Release the view and the message." },
    { NULL, NULL, 0, NULL }
};

static PyGetSetDef peek_getset[] = {
    { "view", (getter)zc_get_view, NULL, "The memoryview inside the block, else None.", NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject SkPeek_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shmkit.Peek",
    .tp_basicsize = sizeof(SkZeroCopy),
    .tp_dealloc = (destructor)zc_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = ring_peek_doc,
    .tp_methods = peek_methods,
    .tp_getset = peek_getset,
};

static PyMethodDef reservation_methods[] = {
    { "__enter__", (PyCFunction)reserve_enter, METH_NOARGS,
      "Wait for room and return a writable memoryview of the reservation." },
    { "__exit__", (PyCFunction)(void (*)(void))reserve_exit, METH_FASTCALL,
      "Publish the first length bytes (normal exit), or nothing (exception)." },
    { NULL, NULL, 0, NULL }
};

static PyGetSetDef reservation_getset[] = {
    { "length", (getter)reservation_get_length, (setter)reservation_set_length,
      "Bytes to publish on a normal exit: 0 .. size (default size).", NULL },
    { "view", (getter)zc_get_view, NULL, "The memoryview inside the block, else None.", NULL },
    { NULL, NULL, NULL, NULL, NULL }
};

PyTypeObject SkReservation_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "shmkit.Reservation",
    .tp_basicsize = sizeof(SkZeroCopy),
    .tp_dealloc = (destructor)zc_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = ring_reserve_doc,
    .tp_methods = reservation_methods,
    .tp_getset = reservation_getset,
};

int sk_ring_init_types(PyObject *module)
{
    PyTypeObject *types[] = { &SkRing_Type, &SkSharedBuffer_Type, &SkPeek_Type,
                              &SkReservation_Type };
    const char *names[] = { "Ring", "SharedBuffer", "Peek", "Reservation" };
    size_t i;

    if (memoryview_release == NULL
        && (memoryview_release = PyObject_GetAttrString((PyObject *)&PyMemoryView_Type,
                                                        "release")) == NULL)
        return -1;
    for (i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (PyType_Ready(types[i]) < 0)
            return -1;
        Py_INCREF(types[i]);
        if (PyModule_AddObject(module, names[i], (PyObject *)types[i]) < 0) {
            Py_DECREF(types[i]);
            return -1;
        }
    }
    return 0;
}
