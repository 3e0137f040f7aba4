/*
 * fault.h - surviving a segment that shrinks under its mapping.
 * Internal to libshmkit; see fault.c for the mechanism and why.
 *
 * Every mapping of an object that can shrink (POSIX shared memory) is
 * "watched": registered with its address, size and protection.  If an
 * access to it faults because the object became shorter than the mapping
 * (SIGBUS), the library's handler replaces the whole mapping with private
 * zero pages and marks it truncated; the access that faulted then goes on
 * and reads zeros (or writes into a page that no other process sees).
 * Every operation that read or wrote the mapping asks sk_fault_truncated()
 * before it trusts what it read, and fails with SHMKIT_ECORRUPT, "segment
 * truncated", if the mapping was replaced.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_FAULT_H
#define SHMKIT_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "atomics.h"

/* The state of a watched mapping (sk_fault_map.state). */
enum sk_fault_state {
    SK_FAULT_INTACT = 0,     /* the object's pages, as mapped */
    SK_FAULT_REPLACING,      /* a handler is replacing it (counts as truncated) */
    SK_FAULT_REPLACED,       /* private zero pages since a fault past the end */
    SK_FAULT_FAILED          /* the replacement failed: the fault was fatal */
};

/* One registered mapping.  Entries live in a registry that is never
 * freed, so that the signal handler can walk it at any time. */
struct sk_fault_map {
    sk_atomic_u32 use;       /* free, claimed or live (fault.c) */
    sk_atomic_u32 state;     /* enum sk_fault_state */
    void *base;              /* written before `use` becomes live */
    size_t size;
    int prot;
};

/* Watch the mapping [BASE, BASE + SIZE), read-write if WRITABLE, else
 * read-only, installing the SIGBUS handler if it is not (fault.c says
 * when).  Call it right after mmap and before the first access.  Returns
 * the entry for sk_fault_truncated and shmkit__fault_unwatch, or NULL (out of
 * memory). */
struct sk_fault_map *shmkit__fault_watch(void *base, size_t size, int writable);

/* Stop watching; call it before munmap.  NULL is ignored. */
void shmkit__fault_unwatch(struct sk_fault_map *map);

/* Non-zero once MAP (NULL: never) was found truncated.  No system call:
 * a compiler barrier against the handler, which runs in the same thread
 * when the faulting access is ours, and one atomic load. */
static inline int sk_fault_truncated(const struct sk_fault_map *map)
{
    if (map == NULL)
        return 0;
#if defined(HAVE_STDATOMIC_H) && !defined(__STDC_NO_ATOMICS__)
    atomic_signal_fence(memory_order_seq_cst);
    return sk_load((sk_atomic_u32 *)&map->state, SK_ACQUIRE) != SK_FAULT_INTACT;
#else
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n(&map->state, __ATOMIC_ACQUIRE) != SK_FAULT_INTACT;
#endif
}

/* Non-zero if ADDR lies in a watched mapping that was found truncated
 * (for code that has an address but no handle: header validation). */
int shmkit__fault_truncated_at(const void *addr);

/* Touch the last byte of the mapping [BASE, BASE + SIZE): if the object
 * no longer reaches its last page, this faults and the mapping is marked
 * truncated.  A plain load, for waiters that see no publication. */
void shmkit__fault_probe(const void *base, size_t size);

/* Non-zero if the handler is installed in this process (tests). */
int shmkit__fault_handler_installed(void);

#endif /* SHMKIT_FAULT_H */
