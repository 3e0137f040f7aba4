/*
 * copy.c - copying bytes that another process may be writing.
 *
 * Readers of a slot copy a record while the writer may (rarely) be
 * rewriting the same buffer; the copy is then detected as stale by the
 * publication counters and thrown away.  In the C11 memory model such a
 * racing plain read is a data race even though its result is never used,
 * and ThreadSanitizer reports it.  Under TSan we therefore copy with relaxed
 * atomic loads, which are race-free by definition and cost nothing in
 * correctness; elsewhere memcpy is used because it is several times faster
 * for large records and every compiler and CPU we target gives it the
 * expected behaviour on memory shared with another process (this is the
 * seqlock reader of the Linux kernel and of Boehm, "Can Seqlocks Get Along
 * With Programming Language Memory Models?", MSPC 2012).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"

#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define SK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SK_TSAN 1
#endif
#endif

void sk_racy_copy(void *dst, const volatile void *src, size_t n)
{
#ifdef SK_TSAN
    unsigned char *d = dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t i;

    for (i = 0; i < n; i++)
        d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
#else
    memcpy(dst, (const void *)src, n);
#endif
}

void sk_racy_write(volatile void *dst, const void *src, size_t n)
{
#ifdef SK_TSAN
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = src;
    size_t i;

    for (i = 0; i < n; i++)
        __atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
#else
    memcpy((void *)dst, src, n);
#endif
}
