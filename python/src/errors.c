/*
 * errors.c - the exception classes of shmkit and the mapping of libshmkit's
 * error codes onto them (the table is in the module docstring, module.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "pyshmkit.h"

#include <errno.h>
#include <string.h>

PyObject *SkError;
PyObject *SkSegmentRemovedError;
PyObject *SkUnsupportedOperation;

static PyObject *SkNotFoundError, *SkExistsError, *SkPermissionDeniedError,
    *SkWaitTimeoutError, *SkBusyError, *SkNotHolderError, *SkIncompatibleError,
    *SkNotShmkitError, *SkHalfCreatedError, *SkCorruptSegmentError, *SkContendedError,
    *SkOverwrittenError, *SkBackendUnavailableError, *SkInvalidArgumentError;

/* Error.__str__: "SPEC: TEXT (DETAIL)", as the tools print errors. */
static PyObject *error_str(PyObject *unused, PyObject *self)
{
    PyObject *spec = NULL, *text = NULL, *detail = NULL, *result = NULL;

    (void)unused;
    spec = PyObject_GetAttrString(self, "filename");
    text = PyObject_GetAttrString(self, "strerror");
    detail = PyObject_GetAttrString(self, "detail");
    if (spec == NULL || text == NULL || detail == NULL || text == Py_None) {
        /* raised by hand with other arguments: as OSError says it */
        PyErr_Clear();
        result = ((PyTypeObject *)PyExc_OSError)->tp_str(self);
        goto out;
    }
    if (detail != Py_None && PyObject_IsTrue(detail) == 1) {
        if (spec != Py_None)
            result = PyUnicode_FromFormat("%S: %S (%S)", spec, text, detail);
        else
            result = PyUnicode_FromFormat("%S (%S)", text, detail);
    } else if (spec != Py_None) {
        result = PyUnicode_FromFormat("%S: %S", spec, text);
    } else {
        result = PyObject_Str(text);
    }
out:
    Py_XDECREF(spec);
    Py_XDECREF(text);
    Py_XDECREF(detail);
    return result;
}

static PyMethodDef error_str_def = { "__str__", error_str, METH_O, NULL };

static PyObject *new_error(PyObject *module, const char *name, const char *doc,
                           PyObject *base1, PyObject *base2)
{
    char qualified[64];
    PyObject *bases, *cls;

    snprintf(qualified, sizeof qualified, "shmkit.%s", name);
    bases = base2 != NULL ? PyTuple_Pack(2, base1, base2) : PyTuple_Pack(1, base1);
    if (bases == NULL)
        return NULL;
    cls = PyErr_NewExceptionWithDoc(qualified, doc, bases, NULL);
    Py_DECREF(bases);
    if (cls == NULL)
        return NULL;
    Py_INCREF(cls);
    if (PyModule_AddObject(module, name, cls) < 0) {
        Py_DECREF(cls);
        Py_DECREF(cls);
        return NULL;
    }
    return cls;
}

int sk_errors_init(PyObject *module)
{
    PyObject *io, *func, *meth;

    io = PyImport_ImportModule("io");
    if (io == NULL)
        return -1;
    SkUnsupportedOperation = PyObject_GetAttrString(io, "UnsupportedOperation");
    Py_DECREF(io);
    if (SkUnsupportedOperation == NULL)
        return -1;

    SkError = new_error(module, "Error",
        "Base class of shmkit's errors; a subclass of OSError.\n\n"
        "Attributes: errno (the errno value for system errors, else None),\n"
        "strerror (shmkit_strerror's text), filename (the segment spec, or None),\n"
        "code (libshmkit's negative error code), name (its constant's name, e.g.\n"
        "'SHMKIT_ECORRUPT' or 'ENOENT') and detail (shmkit_error_detail's text,\n"
        "e.g. 'bad magic'; may be '').",
        PyExc_OSError, NULL);
    if (SkError == NULL)
        return -1;
    func = PyCFunction_New(&error_str_def, NULL);
    if (func == NULL)
        return -1;
    meth = PyInstanceMethod_New(func);
    Py_DECREF(func);
    if (meth == NULL || PyObject_SetAttrString(SkError, "__str__", meth) < 0) {
        Py_XDECREF(meth);
        return -1;
    }
    Py_DECREF(meth);
    if (PyObject_SetAttrString(SkError, "code", Py_None) < 0
        || PyObject_SetAttrString(SkError, "name", Py_None) < 0
        || PyObject_SetAttrString(SkError, "detail", Py_None) < 0)
        return -1;

#define NEW(var, name, doc, b1, b2) \
    if ((var = new_error(module, name, doc, b1, b2)) == NULL) return -1
    NEW(SkNotFoundError, "NotFoundError",
        "No such segment (-ENOENT); also a FileNotFoundError.", SkError,
        PyExc_FileNotFoundError);
    NEW(SkSegmentRemovedError, "SegmentRemovedError",
        "The segment a follower (Slot.follow(), iterating a Ring) reads was removed,\n"
        "or removed and replaced by another of the same name; a NotFoundError.\n"
        "Open the spec again to follow the new segment.",
        SkNotFoundError, NULL);
    NEW(SkExistsError, "ExistsError",
        "The segment exists (create with exclusive=True, -EEXIST); also a\n"
        "FileExistsError.", SkError, PyExc_FileExistsError);
    NEW(SkPermissionDeniedError, "PermissionDeniedError",
        "No permission (-EACCES, -EPERM), or the segment is owned by another user\n"
        "(SHMKIT_EOWNER: pass any_owner=True if you trust its owner); also a\n"
        "PermissionError.", SkError, PyExc_PermissionError);
    NEW(SkWaitTimeoutError, "WaitTimeoutError",
        "A wait timed out (-ETIMEDOUT), or timeout=0 found nothing (-EAGAIN); also\n"
        "a TimeoutError.", SkError, PyExc_TimeoutError);
    NEW(SkBusyError, "BusyError",
        "Another live process (or another handle of this one) holds the lease the\n"
        "call needs: the writer lease, or a block ring's consumer lease\n"
        "(SHMKIT_EBUSY); the detail says who.", SkError, NULL);
    NEW(SkNotHolderError, "NotHolderError",
        "This process does not hold the handle's lease: the handle was inherited\n"
        "through fork() (SHMKIT_ENOTHOLDER).  Open the segment again in the child.",
        SkError, NULL);
    NEW(SkIncompatibleError, "IncompatibleError",
        "The segment does not match what was asked: another format version\n"
        "(SHMKIT_EVERSION), a slot opened as a ring or the reverse (SHMKIT_EKIND),\n"
        "another size (SHMKIT_ESIZE) or layout (SHMKIT_ELAYOUT).", SkError, NULL);
    NEW(SkNotShmkitError, "NotShmkitError",
        "The name is no shmkit segment (SHMKIT_ENOTSHMKIT): another program's\n"
        "segment, or something that is no shared memory object at all; an\n"
        "IncompatibleError.", SkIncompatibleError, NULL);
    NEW(SkHalfCreatedError, "HalfCreatedError",
        "The segment's creator died, or is still busy, before finishing it\n"
        "(SHMKIT_EHALFCREATED).", SkError, NULL);
    NEW(SkCorruptSegmentError, "CorruptSegmentError",
        "The header or data fail validation, or the segment shrank under the\n"
        "handle (SHMKIT_ECORRUPT).", SkError, NULL);
    NEW(SkContendedError, "ContendedError",
        "The record (or an overwrite ring's messages) changed during every bounded\n"
        "retry (SHMKIT_ECONTENDED).", SkError, NULL);
    NEW(SkOverwrittenError, "OverwrittenError",
        "The writer of an overwrite ring overwrote a peeked message before it was\n"
        "released (SHMKIT_EOVERWRITTEN): what was read from the view must be\n"
        "discarded.", SkError, NULL);
    NEW(SkBackendUnavailableError, "BackendUnavailableError",
        "The spec's backend is not available in this build or system\n"
        "(SHMKIT_ENOBACKEND).", SkError, NULL);
    NEW(SkInvalidArgumentError, "InvalidArgumentError",
        "An argument libshmkit refused: a malformed spec (SHMKIT_EBADSPEC) or\n"
        "layout (SHMKIT_EBADLAYOUT), an unknown field, a bad or out-of-range\n"
        "value, a message too long (-EMSGSIZE), -EINVAL; also a ValueError.",
        SkError, PyExc_ValueError);
#undef NEW
    return 0;
}

static PyObject *class_of(int rc)
{
    switch (rc) {
    case -ENOENT: return SkNotFoundError;
    case -EEXIST: return SkExistsError;
    case -EACCES: case -EPERM: case SHMKIT_EOWNER: return SkPermissionDeniedError;
    case -ETIMEDOUT: case -EAGAIN: return SkWaitTimeoutError;
    case SHMKIT_EBUSY: return SkBusyError;
    case SHMKIT_ENOTHOLDER: return SkNotHolderError;
    case SHMKIT_EVERSION: case SHMKIT_EKIND: case SHMKIT_ESIZE: case SHMKIT_ELAYOUT:
        return SkIncompatibleError;
    case SHMKIT_ENOTSHMKIT: return SkNotShmkitError;
    case SHMKIT_EHALFCREATED: return SkHalfCreatedError;
    case SHMKIT_ECORRUPT: return SkCorruptSegmentError;
    case SHMKIT_ECONTENDED: return SkContendedError;
    case SHMKIT_EOVERWRITTEN: return SkOverwrittenError;
    case SHMKIT_ENOBACKEND: return SkBackendUnavailableError;
    case SHMKIT_EBADSPEC: case SHMKIT_EBADLAYOUT: case SHMKIT_ENOFIELD:
    case SHMKIT_EBADVALUE: case SHMKIT_ERANGE: case SHMKIT_ETOOLONG:
    case -EINVAL: case -EMSGSIZE:
        return SkInvalidArgumentError;
    default: return SkError;
    }
}

PyObject *sk_raise(int rc, const char *detail, PyObject *spec)
{
    PyObject *cls, *args, *exc, *v;
    int err = rc < 0 && rc > SHMKIT_ERRCODE_BASE ? -rc : 0;

    if (detail == NULL)
        detail = shmkit_error_detail();
    if (rc == -ENOMEM && (detail == NULL || detail[0] == '\0'))
        return PyErr_NoMemory();
    cls = class_of(rc);
    if (spec == NULL)
        spec = Py_None;
    /* OSError(errno, strerror, filename): errno None for library codes. */
    if (err != 0)
        args = Py_BuildValue("(isO)", err, shmkit_strerror(rc), spec);
    else
        args = Py_BuildValue("(OsO)", Py_None, shmkit_strerror(rc), spec);
    if (args == NULL)
        return NULL;
    exc = PyObject_Call(cls, args, NULL);
    Py_DECREF(args);
    if (exc == NULL)
        return NULL;
    if ((v = PyLong_FromLong(rc)) == NULL || PyObject_SetAttrString(exc, "code", v) < 0)
        goto fail;
    Py_DECREF(v);
    if ((v = PyUnicode_FromString(shmkit_strerror_name(rc))) == NULL
        || PyObject_SetAttrString(exc, "name", v) < 0)
        goto fail;
    Py_DECREF(v);
    if ((v = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail), "backslashreplace"))
            == NULL
        || PyObject_SetAttrString(exc, "detail", v) < 0)
        goto fail;
    Py_DECREF(v);
    PyErr_SetObject(cls, exc);
    Py_DECREF(exc);
    return NULL;
fail:
    Py_XDECREF(v);
    Py_DECREF(exc);
    return NULL;
}

PyObject *sk_raise_wait(int rc, const char *detail, PyObject *spec)
{
    if (rc == SK_WAIT_PYERR)
        return NULL;
    if (rc == SK_WAIT_REMOVED) {
        PyObject *args = Py_BuildValue("(isO)", ENOENT, "segment removed", spec);
        PyObject *exc;
        if (args == NULL)
            return NULL;
        exc = PyObject_Call(SkSegmentRemovedError, args, NULL);
        Py_DECREF(args);
        if (exc == NULL)
            return NULL;
        if (PyObject_SetAttrString(exc, "code", Py_None) == 0
            && PyObject_SetAttrString(exc, "name", Py_None) == 0) {
            PyObject *d = PyUnicode_DecodeUTF8(detail, (Py_ssize_t)strlen(detail),
                                               "backslashreplace");
            if (d != NULL && PyObject_SetAttrString(exc, "detail", d) == 0)
                PyErr_SetObject(SkSegmentRemovedError, exc);
            Py_XDECREF(d);
        }
        Py_DECREF(exc);
        return NULL;
    }
    return sk_raise(rc, detail, spec);
}
