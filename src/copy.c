/*
 * copy.c - copying bytes that another process may be writing.
 *
 * Readers of a slot (and of an overwrite ring) copy a record while the
 * writer may be rewriting the same bytes; the copy is then detected as
 * stale by the publication counters and thrown away (a seqlock: the reader
 * loads the counter, copies, issues an acquire fence, loads the counter
 * again; the writer bumps the counter, issues a release fence, writes).
 * In the C11 memory model such a racing plain access is a data race, and
 * undefined behaviour, even though the torn result is never used.  The
 * race-free form is to make every access to the shared bytes a relaxed
 * atomic: the fences then order them against the counters (Boehm, "Can
 * Seqlocks Get Along With Programming Language Memory Models?", MSPC 2012).
 *
 * Under ThreadSanitizer we do exactly that, one byte at a time, so that
 * TSan reports no race on these buffers and any race it does report is a
 * real one elsewhere.  Elsewhere memcpy is used: it is several times
 * faster for large records, and the compilers and CPUs we target give it
 * the behaviour the seqlock needs on memory shared with another process
 * (the calls cannot be moved across the fences, and a torn copy is only
 * discarded), as the Linux kernel's seqlock readers rely on too.
 *
 * What TSan can and cannot see here: it follows the threads of one
 * process and identifies memory by virtual address, so it sees these
 * copies race only between threads that use the same mapping; a writer in
 * another process, or in another mapping of the same object, is invisible
 * to it.  gcc also warns (-Wtsan) that TSan does not model
 * atomic_thread_fence, so it cannot check the seqlock's ordering: that is
 * what the crash and hostile-peer tests (tests/check_crash.c,
 * tests/check_hostile.c) are for.  No TSan suppression is needed or used.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <string.h>

#include "copy.h"

#if defined(__SANITIZE_THREAD__)
#define SK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SK_TSAN 1
#endif
#endif

void shmkit__racy_copy(void *dst, const volatile void *src, size_t n)
{
#ifdef SK_TSAN
    unsigned char *d = dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t i;

    for (i = 0; i < n; i++)
        d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
#else
    if (n != 0) /* a NULL buffer of length 0 is allowed (shmkit.h) */
        memcpy(dst, (const void *)src, n);
#endif
}

void shmkit__racy_write(volatile void *dst, const void *src, size_t n)
{
#ifdef SK_TSAN
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = src;
    size_t i;

    for (i = 0; i < n; i++)
        __atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
#else
    if (n != 0) /* a NULL message of length 0 is allowed (shmkit.h) */
        memcpy((void *)dst, src, n);
#endif
}
