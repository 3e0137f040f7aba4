/*
 * holder.h - lease holders across fork() (holder.c).  Internal to
 * libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_HOLDER_H
#define SHMKIT_HOLDER_H

#include <stdint.h>

#include "atomics.h"

/* Incremented in the child of every fork() (pthread_atfork); read through
 * sk_same_process only. */
extern sk_atomic_u32 shmkit__fork_generation
#if defined(__GNUC__) && defined(SHMKIT_BUILDING_LIBRARY)
    __attribute__((visibility("hidden")))
#endif
    ;
/* Register the fork handler (once per process) and store the current
 * generation in *GENERATION, for a handle being opened.  -ENOMEM (with a
 * detail) if the handler cannot be registered. */
int shmkit__holder_stamp(uint32_t *generation);
/* 1 if a handle stamped with GENERATION was opened by this very process,
 * 0 if it was inherited through fork().  No system call. */
static inline int sk_same_process(uint32_t generation)
{
    return sk_load(&shmkit__fork_generation, SK_RELAXED) == generation;
}
/* The failure of an operation that acts as the holder of ROLE's lease
 * ("writer", "consumer") through an inherited handle: SHMKIT_ENOTHOLDER. */
int shmkit__not_holder(const char *role);

#endif /* SHMKIT_HOLDER_H */
