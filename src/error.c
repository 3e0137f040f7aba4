/*
 * error.c - error codes, their descriptions and per-thread details.
 *
 * Codes are negative: -errno for system errors (keeping the system's
 * meaning), enum shmkit_errcode for the library's own.  The detail string
 * tells *why* (e.g. "bad magic"), which a code alone cannot.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "escape.h"

#ifdef HAVE_THREAD_LOCAL
#define SK_THREAD_LOCAL _Thread_local
#else
#define SK_THREAD_LOCAL /* single-threaded fallback */
#endif

static SK_THREAD_LOCAL char error_detail[256];

struct code_text {
    int code;
    const char *text;
};

static const struct code_text library_codes[] = {
    {SHMKIT_EBADSPEC, "bad segment spec"},
    {SHMKIT_ENOTSHMKIT, "not a shmkit segment"},
    {SHMKIT_EVERSION, "incompatible segment format version"},
    {SHMKIT_EKIND, "wrong segment kind"},
    {SHMKIT_ESIZE, "size mismatch"},
    {SHMKIT_ELAYOUT, "layout mismatch"},
    {SHMKIT_ECORRUPT, "corrupt segment"},
    {SHMKIT_EBUSY, "writer busy"},
    {SHMKIT_ENOBACKEND, "backend not available"},
    {SHMKIT_EBADLAYOUT, "bad layout"},
    {SHMKIT_ENOFIELD, "unknown field"},
    {SHMKIT_EBADVALUE, "bad value"},
    {SHMKIT_ERANGE, "value out of range"},
    {SHMKIT_ETOOLONG, "value too long"},
    {SHMKIT_EHALFCREATED, "segment creation incomplete"},
    {SHMKIT_ECONTENDED, "record changed during every retry"},
    {SHMKIT_EOVERWRITTEN, "message overwritten before release"},
    {SHMKIT_EOWNER, "segment owned by another user"},
    {SHMKIT_ENOTHOLDER, "this process does not hold the lease (handle inherited through fork?)"},
};

SHMKIT_API const char *shmkit_strerror(int code)
{
    size_t i;

    if (code == 0)
        return "success";
    for (i = 0; i < sizeof library_codes / sizeof library_codes[0]; i++)
        if (library_codes[i].code == code)
            return library_codes[i].text;
    if (code < 0 && code > -1000) {
        /* Friendlier wording for the errno values users meet most. */
        switch (-code) {
        case ENOENT: return "no such segment";
        case EEXIST: return "segment already exists";
        default: return strerror(-code);
        }
    }
    return "unknown error";
}

SHMKIT_API const char *shmkit_error_detail(void)
{
    return error_detail;
}

void sk_clear_detail(void)
{
    error_detail[0] = '\0';
}

/* Details quote specs, layouts and values from callers and from shared
 * memory: they are escaped here, once for every message, so that no
 * control character reaches a terminal through shmkit_error_detail(). */
int sk_fail(int code, const char *fmt, ...)
{
    char raw[sizeof error_detail];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    sk_escape(error_detail, sizeof error_detail, raw, strlen(raw));
    return code;
}

int sk_null_arg(const char *name)
{
    return sk_fail(-EINVAL, "%s is NULL", name);
}

int sk_check_flags(unsigned flags, unsigned allowed, const char *call)
{
    if ((flags & ~allowed) != 0)
        return sk_fail(-EINVAL, "flags 0x%x are unknown or make no sense for %s",
                       flags & ~allowed, call);
    return 0;
}

int sk_wait_failure(int code, const char *what)
{
    switch (code) {
    case -EAGAIN:
        return sk_fail(code, "no %s yet (timeout 0)", what);
    case -ETIMEDOUT:
        return sk_fail(code, "no %s before the timeout", what);
    case -EINTR:
        return sk_fail(code, "interrupted by a signal handler while waiting (no %s yet)", what);
    default:
        if (error_detail[0] == '\0')
            sk_fail(code, "waiting (no %s yet): %s", what, shmkit_strerror(code));
        return code;
    }
}

int sk_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}
