/*
 * error.c - error codes, their descriptions and names, per-thread details.
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

/* A code with the name of its constant and its description. */
struct code_entry {
    int code;
    const char *name;
    const char *text;
};

/* The library's own codes: the one list, SHMKIT_ERRNO_MAP in shmkit.h. */
#define LIBRARY_ENTRY(name, value, text) {value, #name, text},
static const struct code_entry library_codes[] = {SHMKIT_ERRNO_MAP(LIBRARY_ENTRY)};
#undef LIBRARY_ENTRY

/* The errno values the library returns, from its own checks and from the
 * system calls it makes, described here rather than by strerror(), which
 * may format into a buffer that every thread shares.  The wording is the
 * one users know from strerror(), but for two they meet most, said in
 * shmkit's words.  Where two names share a value the first one names it. */
#define SYSTEM_ENTRY(name, text) {-(name), #name, text}
static const struct code_entry system_codes[] = {
    SYSTEM_ENTRY(ENOENT, "no such segment"),
    SYSTEM_ENTRY(EEXIST, "segment already exists"),
    SYSTEM_ENTRY(EPERM, "Operation not permitted"),
    SYSTEM_ENTRY(EACCES, "Permission denied"),
    SYSTEM_ENTRY(EINVAL, "Invalid argument"),
    SYSTEM_ENTRY(EAGAIN, "Resource temporarily unavailable"),
    SYSTEM_ENTRY(ETIMEDOUT, "Operation timed out"),
    SYSTEM_ENTRY(EINTR, "Interrupted system call"),
    SYSTEM_ENTRY(EMSGSIZE, "Message too long"),
    SYSTEM_ENTRY(ENOMEM, "Cannot allocate memory"),
    SYSTEM_ENTRY(ENOSPC, "No space left on device"),
    SYSTEM_ENTRY(EDQUOT, "Disk quota exceeded"),
    SYSTEM_ENTRY(EFBIG, "File too large"),
    SYSTEM_ENTRY(EOVERFLOW, "Value too large for defined data type"),
    SYSTEM_ENTRY(ERANGE, "Numerical result out of range"),
    SYSTEM_ENTRY(EMFILE, "Too many open files"),
    SYSTEM_ENTRY(ENFILE, "Too many open files in system"),
    SYSTEM_ENTRY(ENAMETOOLONG, "File name too long"),
    SYSTEM_ENTRY(ELOOP, "Too many levels of symbolic links"),
    SYSTEM_ENTRY(ENOTDIR, "Not a directory"),
    SYSTEM_ENTRY(EISDIR, "Is a directory"),
    SYSTEM_ENTRY(EROFS, "Read-only file system"),
    SYSTEM_ENTRY(ETXTBSY, "Text file busy"),
    SYSTEM_ENTRY(ENODEV, "No such device"),
    SYSTEM_ENTRY(ENXIO, "No such device or address"),
    SYSTEM_ENTRY(EBADF, "Bad file descriptor"),
    SYSTEM_ENTRY(EFAULT, "Bad address"),
    SYSTEM_ENTRY(EIO, "Input/output error"),
    SYSTEM_ENTRY(EBUSY, "Device or resource busy"),
    SYSTEM_ENTRY(EIDRM, "Identifier removed"),
    SYSTEM_ENTRY(E2BIG, "Argument list too long"),
    SYSTEM_ENTRY(ESRCH, "No such process"),
    SYSTEM_ENTRY(EDEADLK, "Resource deadlock avoided"),
    SYSTEM_ENTRY(ENOLCK, "No locks available"),
    SYSTEM_ENTRY(ENOSYS, "Function not implemented"),
    SYSTEM_ENTRY(ENOTSUP, "Operation not supported"),
    SYSTEM_ENTRY(EOPNOTSUPP, "Operation not supported"),
    SYSTEM_ENTRY(ECANCELED, "Operation canceled"),
    SYSTEM_ENTRY(ENOTTY, "Inappropriate ioctl for device"),
};
#undef SYSTEM_ENTRY

/* "system error N" for any other errno value, as constant strings, so that
 * no thread formats into a buffer another one is reading: row N of this
 * table.  Every supported system's errno values are far below 300. */
#define NUMBERED_TEN(p) p "0", p "1", p "2", p "3", p "4", p "5", p "6", p "7", p "8", p "9"
#define NUMBERED_HUNDRED(p)                                                    \
    NUMBERED_TEN(p "0"), NUMBERED_TEN(p "1"), NUMBERED_TEN(p "2"),             \
    NUMBERED_TEN(p "3"), NUMBERED_TEN(p "4"), NUMBERED_TEN(p "5"),             \
    NUMBERED_TEN(p "6"), NUMBERED_TEN(p "7"), NUMBERED_TEN(p "8"),             \
    NUMBERED_TEN(p "9")
static const char numbered_system_errors[][sizeof "system error 299"] = {
    NUMBERED_TEN("system error "),                                    /* 0-9 */
    NUMBERED_TEN("system error 1"), NUMBERED_TEN("system error 2"),   /* 10-99 */
    NUMBERED_TEN("system error 3"), NUMBERED_TEN("system error 4"),
    NUMBERED_TEN("system error 5"), NUMBERED_TEN("system error 6"),
    NUMBERED_TEN("system error 7"), NUMBERED_TEN("system error 8"),
    NUMBERED_TEN("system error 9"),
    NUMBERED_HUNDRED("system error 1"), NUMBERED_HUNDRED("system error 2"), /* 100-299 */
};
#undef NUMBERED_HUNDRED
#undef NUMBERED_TEN

#define COUNT(table) (sizeof(table) / sizeof((table)[0]))

static const struct code_entry *find_entry(int code)
{
    const struct code_entry *table = code <= SHMKIT_ERRCODE_BASE ? library_codes : system_codes;
    size_t n = code <= SHMKIT_ERRCODE_BASE ? COUNT(library_codes) : COUNT(system_codes);
    size_t i;

    for (i = 0; i < n; i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

SHMKIT_API const char *shmkit_strerror(int code)
{
    const struct code_entry *entry;

    if (code == 0)
        return "success";
    entry = find_entry(code);
    if (entry != NULL)
        return entry->text;
    if (code < 0 && -code < (int)COUNT(numbered_system_errors))
        return numbered_system_errors[-code];
    return "unknown error";
}

SHMKIT_API const char *shmkit_strerror_name(int code)
{
    const struct code_entry *entry;

    if (code == 0)
        return "OK";
    entry = find_entry(code);
    return entry != NULL ? entry->name : "unknown";
}

SHMKIT_API const char *shmkit_error_detail(void)
{
    return error_detail;
}

void shmkit__clear_detail(void)
{
    error_detail[0] = '\0';
}

/* Details quote specs, layouts and values from callers and from shared
 * memory: they are escaped here, once for every message, so that no
 * control character reaches a terminal through shmkit_error_detail(). */
int shmkit__fail(int code, const char *fmt, ...)
{
    char raw[sizeof error_detail];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    shmkit__escape(error_detail, sizeof error_detail, raw, strlen(raw));
    return code;
}

int shmkit__null_arg(const char *name)
{
    return shmkit__fail(-EINVAL, "%s is NULL", name);
}

int shmkit__check_flags(unsigned flags, unsigned allowed, const char *call)
{
    if ((flags & ~allowed) != 0)
        return shmkit__fail(-EINVAL, "flags 0x%x are unknown or make no sense for %s",
                            flags & ~allowed, call);
    return 0;
}

int shmkit__wait_failure(int code, const char *what)
{
    switch (code) {
    case -EAGAIN:
        return shmkit__fail(code, "no %s yet (timeout 0)", what);
    case -ETIMEDOUT:
        return shmkit__fail(code, "no %s before the timeout", what);
    case -EINTR:
        return shmkit__fail(code, "interrupted by a signal handler while waiting (no %s yet)",
                            what);
    default:
        if (error_detail[0] == '\0')
            shmkit__fail(code, "waiting (no %s yet): %s", what, shmkit_strerror(code));
        return code;
    }
}

int shmkit__errno(void)
{
    return errno > 0 ? -errno : -EIO;
}
