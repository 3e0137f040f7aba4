/*
 * layout.c - records of a layout slot as Python dicts and back, and the
 * NumPy structured dtype that matches a layout byte for byte.
 *
 * Values (as shmkit-read and shmkit-write treat them):
 *   i8 .. u64      int; writing checks the range (OverflowError)
 *   f32, f64       float; writing takes anything float() takes; a finite
 *                  value too large for f32 is an OverflowError (as
 *                  struct.pack does)
 *   T[N]           list of N values; writing takes a sequence of at most
 *                  N values, the rest become 0
 *   char[N]        str: the bytes up to the first NUL, decoded as UTF-8
 *                  with errors='surrogateescape' (any bytes round-trip);
 *                  writing takes str (encoded the same way) or bytes of
 *                  at most N-1 bytes without NUL; the rest is NUL-padded
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "pyshmkit.h"

#include <float.h>
#include <math.h>
#include <string.h>

int sk_layout_init(SkLayout *out, const shmkit_layout *layout)
{
    size_t i, n = shmkit_layout_count(layout);
    const char *text = shmkit_layout_text(layout);

    memset(out, 0, sizeof *out);
    out->fields = PyMem_Calloc(n ? n : 1, sizeof *out->fields);
    if (out->fields == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    out->count = n;
    out->size = shmkit_layout_size(layout);
    out->text = PyUnicode_FromString(text);
    if (out->text == NULL)
        goto fail;
    for (i = 0; i < n; i++) {
        int rc = shmkit_layout_field(layout, i, &out->fields[i].f);
        if (rc < 0) {
            sk_raise(rc, NULL, NULL);
            goto fail;
        }
        out->fields[i].name = PyUnicode_InternFromString(out->fields[i].f.name);
        if (out->fields[i].name == NULL)
            goto fail;
    }
    return 0;
fail:
    sk_layout_clear(out);
    return -1;
}

void sk_layout_clear(SkLayout *l)
{
    size_t i;

    if (l->fields != NULL)
        for (i = 0; i < l->count; i++)
            Py_CLEAR(l->fields[i].name);
    PyMem_Free(l->fields);
    l->fields = NULL;
    l->count = 0;
    Py_CLEAR(l->text);
}

Py_ssize_t sk_layout_find(const SkLayout *l, PyObject *name)
{
    size_t i;

    for (i = 0; i < l->count; i++)
        if (l->fields[i].name == name)
            return (Py_ssize_t)i;
    for (i = 0; i < l->count; i++) {
        int eq = PyUnicode_Compare(l->fields[i].name, name);
        if (eq == 0)
            return (Py_ssize_t)i;
        if (PyErr_Occurred())
            PyErr_Clear();
    }
    return -1;
}

static size_t elem_size(int type)
{
    switch (type) {
    case SHMKIT_TYPE_I8: case SHMKIT_TYPE_U8: case SHMKIT_TYPE_CHAR: return 1;
    case SHMKIT_TYPE_I16: case SHMKIT_TYPE_U16: return 2;
    case SHMKIT_TYPE_I32: case SHMKIT_TYPE_U32: case SHMKIT_TYPE_F32: return 4;
    default: return 8;
    }
}

static const char *type_name(int type)
{
    static const char *const names[] = { "?", "i8", "u8", "i16", "u16", "i32", "u32",
                                         "i64", "u64", "f32", "f64", "char" };
    return type >= 1 && type <= 11 ? names[type] : "?";
}

static PyObject *elem_to_py(int type, const unsigned char *p)
{
    switch (type) {
    case SHMKIT_TYPE_I8: { int8_t v; memcpy(&v, p, 1); return PyLong_FromLong(v); }
    case SHMKIT_TYPE_U8: { uint8_t v; memcpy(&v, p, 1); return PyLong_FromLong(v); }
    case SHMKIT_TYPE_I16: { int16_t v; memcpy(&v, p, 2); return PyLong_FromLong(v); }
    case SHMKIT_TYPE_U16: { uint16_t v; memcpy(&v, p, 2); return PyLong_FromLong(v); }
    case SHMKIT_TYPE_I32: { int32_t v; memcpy(&v, p, 4); return PyLong_FromLong(v); }
    case SHMKIT_TYPE_U32: { uint32_t v; memcpy(&v, p, 4);
                            return PyLong_FromUnsignedLong(v); }
    case SHMKIT_TYPE_I64: { int64_t v; memcpy(&v, p, 8); return PyLong_FromLongLong(v); }
    case SHMKIT_TYPE_U64: { uint64_t v; memcpy(&v, p, 8);
                            return PyLong_FromUnsignedLongLong(v); }
    case SHMKIT_TYPE_F32: { float v; memcpy(&v, p, 4); return PyFloat_FromDouble(v); }
    default: { double v; memcpy(&v, p, 8); return PyFloat_FromDouble(v); }
    }
}

static PyObject *field_to_py(const SkField *f, const unsigned char *rec)
{
    const unsigned char *p = rec + f->f.offset;
    size_t i, es;
    PyObject *list;

    if (f->f.type == SHMKIT_TYPE_CHAR) {
        const unsigned char *nul = memchr(p, '\0', f->f.count);
        size_t len = nul != NULL ? (size_t)(nul - p) : f->f.count;
        return PyUnicode_DecodeUTF8((const char *)p, (Py_ssize_t)len, "surrogateescape");
    }
    if (!f->f.is_array)
        return elem_to_py(f->f.type, p);
    es = elem_size(f->f.type);
    list = PyList_New((Py_ssize_t)f->f.count);
    if (list == NULL)
        return NULL;
    for (i = 0; i < f->f.count; i++) {
        PyObject *v = elem_to_py(f->f.type, p + i * es);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, v);
    }
    return list;
}

PyObject *sk_record_to_dict(const SkLayout *l, const unsigned char *record)
{
    PyObject *d = PyDict_New();
    size_t i;

    if (d == NULL)
        return NULL;
    for (i = 0; i < l->count; i++) {
        PyObject *v = field_to_py(&l->fields[i], record);
        if (v == NULL || PyDict_SetItem(d, l->fields[i].name, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(v);
    }
    return d;
}

static int out_of_range(const SkField *f, PyObject *value)
{
    PyErr_Format(PyExc_OverflowError, "field '%U' (%s): %R is out of range", f->name,
                 type_name(f->f.type), value);
    return -1;
}

static int elem_from_py(const SkField *f, PyObject *value, unsigned char *p)
{
    int type = f->f.type;

    if (type == SHMKIT_TYPE_F32 || type == SHMKIT_TYPE_F64) {
        double v;
        if (!PyFloat_Check(value) && !PyLong_Check(value)
            && Py_TYPE(value)->tp_as_number == NULL) {
            PyErr_Format(PyExc_TypeError, "field '%U' (%s) takes a number, not %.100s",
                         f->name, type_name(type), Py_TYPE(value)->tp_name);
            return -1;
        }
        v = PyFloat_AsDouble(value);
        if (PyErr_Occurred()) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "field '%U' (%s) takes a number, not %.100s",
                             f->name, type_name(type), Py_TYPE(value)->tp_name);
            }
            return -1;
        }
        if (type == SHMKIT_TYPE_F32) {
            float x;
            if (v > FLT_MAX || v < -FLT_MAX) {
                if (isfinite(v))
                    return out_of_range(f, value);
            }
            x = (float)v;
            memcpy(p, &x, 4);
        } else {
            memcpy(p, &v, 8);
        }
        return 0;
    }
    {
        PyObject *index = PyNumber_Index(value);
        long long s = 0;
        unsigned long long u = 0;
        int overflow = 0, is_unsigned = type == SHMKIT_TYPE_U8 || type == SHMKIT_TYPE_U16
                                        || type == SHMKIT_TYPE_U32 || type == SHMKIT_TYPE_U64;

        if (index == NULL) {
            if (PyErr_ExceptionMatches(PyExc_TypeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError, "field '%U' (%s) takes an int, not %.100s",
                             f->name, type_name(type), Py_TYPE(value)->tp_name);
            }
            return -1;
        }
        if (is_unsigned) {
            u = PyLong_AsUnsignedLongLong(index);
            if (u == (unsigned long long)-1 && PyErr_Occurred()) {
                PyErr_Clear();
                overflow = 1;
            }
        } else {
            s = PyLong_AsLongLongAndOverflow(index, &overflow);
            if (s == -1 && PyErr_Occurred()) {
                Py_DECREF(index);
                return -1;
            }
        }
        Py_DECREF(index);
        if (overflow)
            return out_of_range(f, value);
        switch (type) {
        case SHMKIT_TYPE_I8:
            if (s < INT8_MIN || s > INT8_MAX)
                return out_of_range(f, value);
            { int8_t v = (int8_t)s; memcpy(p, &v, 1); }
            break;
        case SHMKIT_TYPE_U8:
            if (u > UINT8_MAX)
                return out_of_range(f, value);
            { uint8_t v = (uint8_t)u; memcpy(p, &v, 1); }
            break;
        case SHMKIT_TYPE_I16:
            if (s < INT16_MIN || s > INT16_MAX)
                return out_of_range(f, value);
            { int16_t v = (int16_t)s; memcpy(p, &v, 2); }
            break;
        case SHMKIT_TYPE_U16:
            if (u > UINT16_MAX)
                return out_of_range(f, value);
            { uint16_t v = (uint16_t)u; memcpy(p, &v, 2); }
            break;
        case SHMKIT_TYPE_I32:
            if (s < INT32_MIN || s > INT32_MAX)
                return out_of_range(f, value);
            { int32_t v = (int32_t)s; memcpy(p, &v, 4); }
            break;
        case SHMKIT_TYPE_U32:
            if (u > UINT32_MAX)
                return out_of_range(f, value);
            { uint32_t v = (uint32_t)u; memcpy(p, &v, 4); }
            break;
        case SHMKIT_TYPE_I64:
            { int64_t v = (int64_t)s; memcpy(p, &v, 8); }
            break;
        default:
            { uint64_t v = (uint64_t)u; memcpy(p, &v, 8); }
            break;
        }
        return 0;
    }
}

int sk_field_from_py(const SkField *f, PyObject *value, unsigned char *dst)
{
    size_t i, es;

    memset(dst, 0, f->f.size);
    if (f->f.type == SHMKIT_TYPE_CHAR) {
        PyObject *encoded = NULL;
        const char *bytes;
        Py_ssize_t len;
        Py_buffer view;
        int have_view = 0;

        if (PyUnicode_Check(value)) {
            encoded = PyUnicode_AsEncodedString(value, "utf-8", "surrogateescape");
            if (encoded == NULL)
                return -1;
            bytes = PyBytes_AS_STRING(encoded);
            len = PyBytes_GET_SIZE(encoded);
        } else if (PyObject_CheckBuffer(value)) {
            if (PyObject_GetBuffer(value, &view, PyBUF_SIMPLE) < 0)
                return -1;
            have_view = 1;
            bytes = view.buf;
            len = view.len;
        } else {
            PyErr_Format(PyExc_TypeError, "field '%U' (char[%zu]) takes str or bytes, not %.100s",
                         f->name, f->f.count, Py_TYPE(value)->tp_name);
            return -1;
        }
        if ((size_t)len > f->f.count - 1 || memchr(bytes, '\0', (size_t)len) != NULL) {
            if ((size_t)len > f->f.count - 1)
                PyErr_Format(PyExc_ValueError,
                             "field '%U' (char[%zu]): %zd bytes do not fit (at most %zu)",
                             f->name, f->f.count, len, f->f.count - 1);
            else
                PyErr_Format(PyExc_ValueError, "field '%U' (char[%zu]): embedded NUL byte",
                             f->name, f->f.count);
            Py_XDECREF(encoded);
            if (have_view)
                PyBuffer_Release(&view);
            return -1;
        }
        memcpy(dst, bytes, (size_t)len);
        Py_XDECREF(encoded);
        if (have_view)
            PyBuffer_Release(&view);
        return 0;
    }
    if (!f->f.is_array)
        return elem_from_py(f, value, dst);
    {
        PyObject *seq;
        Py_ssize_t n;

        if (PyUnicode_Check(value) || PyBytes_Check(value) || PyByteArray_Check(value)) {
            PyErr_Format(PyExc_TypeError, "field '%U' (%s[%zu]) takes a sequence of numbers, "
                         "not %.100s", f->name, type_name(f->f.type), f->f.count,
                         Py_TYPE(value)->tp_name);
            return -1;
        }
        seq = PySequence_Fast(value, "");
        if (seq == NULL) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "field '%U' (%s[%zu]) takes a sequence of numbers, "
                         "not %.100s", f->name, type_name(f->f.type), f->f.count,
                         Py_TYPE(value)->tp_name);
            return -1;
        }
        n = PySequence_Fast_GET_SIZE(seq);
        if ((size_t)n > f->f.count) {
            PyErr_Format(PyExc_ValueError, "field '%U' (%s[%zu]): %zd values do not fit",
                         f->name, type_name(f->f.type), f->f.count, n);
            Py_DECREF(seq);
            return -1;
        }
        es = elem_size(f->f.type);
        for (i = 0; i < (size_t)n; i++) {
            if (elem_from_py(f, PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i), dst + i * es) < 0) {
                Py_DECREF(seq);
                return -1;
            }
        }
        Py_DECREF(seq);
        return 0;
    }
}

PyObject *sk_import_numpy(const char *what)
{
    PyObject *np = PyImport_ImportModule("numpy");

    if (np == NULL && PyErr_ExceptionMatches(PyExc_ImportError)) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        PyErr_Format(PyExc_ImportError,
                     "%s needs NumPy, which cannot be imported (install numpy, "
                     "e.g. python3-numpy or pip install numpy)", what);
        {
            PyObject *t2, *v2, *tb2;
            PyErr_Fetch(&t2, &v2, &tb2);
            PyErr_NormalizeException(&t2, &v2, &tb2);
            if (value != NULL)
                PyException_SetCause(v2, value); /* steals value */
            else
                Py_XDECREF(value);
            PyErr_Restore(t2, v2, tb2);
        }
        Py_XDECREF(type);
        Py_XDECREF(tb);
    }
    return np;
}

static const char *np_code(int type)
{
    switch (type) {
    case SHMKIT_TYPE_I8: return "i1";
    case SHMKIT_TYPE_U8: return "u1";
    case SHMKIT_TYPE_I16: return "i2";
    case SHMKIT_TYPE_U16: return "u2";
    case SHMKIT_TYPE_I32: return "i4";
    case SHMKIT_TYPE_U32: return "u4";
    case SHMKIT_TYPE_I64: return "i8";
    case SHMKIT_TYPE_U64: return "u8";
    case SHMKIT_TYPE_F32: return "f4";
    default: return "f8";
    }
}

PyObject *sk_layout_dtype(const SkLayout *l)
{
    PyObject *np, *names = NULL, *formats = NULL, *offsets = NULL, *spec = NULL, *dtype = NULL;
    size_t i;

    np = sk_import_numpy("shmkit.Slot.dtype");
    if (np == NULL)
        return NULL;
    names = PyList_New((Py_ssize_t)l->count);
    formats = PyList_New((Py_ssize_t)l->count);
    offsets = PyList_New((Py_ssize_t)l->count);
    if (names == NULL || formats == NULL || offsets == NULL)
        goto out;
    for (i = 0; i < l->count; i++) {
        const SkField *f = &l->fields[i];
        PyObject *fmt, *off;
        if (f->f.type == SHMKIT_TYPE_CHAR)
            fmt = PyUnicode_FromFormat("S%zu", f->f.count);
        else if (f->f.is_array)
            fmt = Py_BuildValue("(s(n))", np_code(f->f.type), (Py_ssize_t)f->f.count);
        else
            fmt = PyUnicode_FromString(np_code(f->f.type));
        off = PyLong_FromSize_t(f->f.offset);
        if (fmt == NULL || off == NULL) {
            Py_XDECREF(fmt);
            Py_XDECREF(off);
            goto out;
        }
        Py_INCREF(f->name);
        PyList_SET_ITEM(names, (Py_ssize_t)i, f->name);
        PyList_SET_ITEM(formats, (Py_ssize_t)i, fmt);
        PyList_SET_ITEM(offsets, (Py_ssize_t)i, off);
    }
    spec = Py_BuildValue("{sOsOsOsnsO}", "names", names, "formats", formats, "offsets",
                         offsets, "itemsize", (Py_ssize_t)l->size, "aligned", Py_True);
    if (spec == NULL)
        goto out;
    dtype = PyObject_CallMethod(np, "dtype", "O", spec);
out:
    Py_XDECREF(spec);
    Py_XDECREF(names);
    Py_XDECREF(formats);
    Py_XDECREF(offsets);
    Py_DECREF(np);
    return dtype;
}
