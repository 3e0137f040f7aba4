/*
 * error.h - failures and their details, and the argument rules of the
 * public calls (error.c).  Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_ERROR_H
#define SHMKIT_ERROR_H

#include "shmkit.h"

/* Record the reason for a failure (printf-style) and return CODE, so that
 * call sites read:  return shmkit__fail(SHMKIT_ENOTSHMKIT, "bad magic"); */
int shmkit__fail(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Forget any previous detail (called on entry to public functions). */
void shmkit__clear_detail(void);
/* -errno, never 0: for system calls that "failed" without setting errno. */
int shmkit__errno(void);
/* The flags every *_create takes. */
#define SK_CREATE_FLAGS (SHMKIT_EXCL | SHMKIT_WRITE | SHMKIT_OWNED | SHMKIT_ANY_OWNER)
/* -EINVAL for a NULL argument NAME (the API's NULL rule, shmkit.h). */
int shmkit__null_arg(const char *name);
/* -EINVAL naming the bits of FLAGS outside ALLOWED that CALL refuses. */
int shmkit__check_flags(unsigned flags, unsigned allowed, const char *call);
/* The failure of a wait for WHAT ("new version") that returned CODE:
 * -EAGAIN, -ETIMEDOUT and -EINTR get a detail of their own; another
 * code keeps the wait's detail, or gets a generic one if it left none
 * (the caller cleared the detail before waiting). */
int shmkit__wait_failure(int code, const char *what);

#endif /* SHMKIT_ERROR_H */
