/*
 * atomics.h - the few atomic operations shmkit needs, on 32-bit words.
 *
 * Shared memory is touched by processes that may be built by different
 * compilers, so every shared atomic is a plain, lock-free 32-bit word: C11
 * <stdatomic.h> where the compiler has it, the GCC/Clang __atomic builtins
 * otherwise.  64-bit quantities that must be read consistently are protected
 * by a protocol (see slot.c), never by a 64-bit atomic that might be
 * emulated with a process-local lock.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_ATOMICS_H
#define SHMKIT_ATOMICS_H

#include <stdint.h>

#if defined(HAVE_STDATOMIC_H) && !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
typedef _Atomic uint32_t sk_atomic_u32;
#define SK_RELAXED memory_order_relaxed
#define SK_ACQUIRE memory_order_acquire
#define SK_RELEASE memory_order_release
#define SK_ACQ_REL memory_order_acq_rel
#define SK_SEQ_CST memory_order_seq_cst
#define sk_load(p, mo) atomic_load_explicit((p), (mo))
#define sk_store(p, v, mo) atomic_store_explicit((p), (v), (mo))
#define sk_fetch_add(p, v, mo) atomic_fetch_add_explicit((p), (v), (mo))
#define sk_fetch_sub(p, v, mo) atomic_fetch_sub_explicit((p), (v), (mo))
#define sk_fetch_or(p, v, mo) atomic_fetch_or_explicit((p), (v), (mo))
#define sk_exchange(p, v) atomic_exchange_explicit((p), (v), memory_order_acq_rel)
#define sk_fence(mo) atomic_thread_fence(mo)
/* Strong compare-and-swap; *expected is updated on failure. */
#define sk_cas(p, expected, desired) \
    atomic_compare_exchange_strong_explicit((p), (expected), (desired), \
                                            memory_order_acq_rel, memory_order_acquire)
#if ATOMIC_INT_LOCK_FREE != 2
#error "shmkit needs lock-free 32-bit atomics"
#endif
#else
typedef uint32_t sk_atomic_u32;
#define SK_RELAXED __ATOMIC_RELAXED
#define SK_ACQUIRE __ATOMIC_ACQUIRE
#define SK_RELEASE __ATOMIC_RELEASE
#define SK_ACQ_REL __ATOMIC_ACQ_REL
#define SK_SEQ_CST __ATOMIC_SEQ_CST
#define sk_load(p, mo) __atomic_load_n((p), (mo))
#define sk_store(p, v, mo) __atomic_store_n((p), (v), (mo))
#define sk_fetch_add(p, v, mo) __atomic_fetch_add((p), (v), (mo))
#define sk_fetch_sub(p, v, mo) __atomic_fetch_sub((p), (v), (mo))
#define sk_fetch_or(p, v, mo) __atomic_fetch_or((p), (v), (mo))
#define sk_exchange(p, v) __atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define sk_fence(mo) __atomic_thread_fence(mo)
#define sk_cas(p, expected, desired) \
    __atomic_compare_exchange_n((p), (expected), (desired), 0, \
                                __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#endif

#endif /* SHMKIT_ATOMICS_H */
