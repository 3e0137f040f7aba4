/*
 * copy.h - copies of shared memory that another process may be writing
 * (copy.c).  Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_COPY_H
#define SHMKIT_COPY_H

#include <stddef.h>

/* Copy N bytes that another process may be writing concurrently.  The
 * caller validates the copy afterwards (seqlock style) and discards it if a
 * write overlapped.  See copy.c for why this is not a plain memcpy under
 * ThreadSanitizer. */
void shmkit__racy_copy(void *dst, const volatile void *src, size_t n);
/* The writer's side: store N bytes that readers may be copying. */
void shmkit__racy_write(volatile void *dst, const void *src, size_t n);

#endif /* SHMKIT_COPY_H */
