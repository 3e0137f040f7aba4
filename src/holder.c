/*
 * holder.c - which process a handle belongs to, without a system call.
 *
 * A handle that takes a lease (the writer's of a slot or ring, the
 * consumer's of a block ring) is copied into every child of fork(), and
 * with it the right to write: the lease in the segment names the parent,
 * and nothing in the child's copy says otherwise.  Comparing getpid() with
 * the lease on every operation would cost a system call (glibc stopped
 * caching the pid in 2.25), so a process-wide generation counter does it
 * instead: a pthread_atfork() child handler increments it, every handle
 * records it when it is opened, and an operation that acts as the lease
 * holder first checks that it has not changed.  That is one load and one
 * compare on the fast path.
 *
 * What it cannot see: a child made by vfork() or by clone() without the
 * fork handlers (a raw clone(2) system call) keeps the parent's
 * generation.  A vfork() child may only call exec or _exit anyway; a raw
 * clone child must not use inherited handles (doc/man/shmkit.3).
 * Threads share the generation: fork() in one thread changes it only in
 * the child, so handles of the parent's other threads stay valid.
 * A library that is unloaded (dlclose) must not leave a handler behind:
 * glibc and FreeBSD drop the handlers of an unloaded object, and musl
 * never unloads one.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "atomics.h"
#include "error.h"
#include "holder.h"

sk_atomic_u32 shmkit__fork_generation;

static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_error;

/* Runs in the child of fork(), single-threaded, before fork() returns. */
static void after_fork_in_child(void)
{
    sk_store(&shmkit__fork_generation, sk_load(&shmkit__fork_generation, SK_RELAXED) + 1,
             SK_RELAXED);
}

static void register_handler(void)
{
    register_error = pthread_atfork(NULL, NULL, after_fork_in_child);
}

int shmkit__holder_stamp(uint32_t *generation)
{
    pthread_once(&register_once, register_handler);
    if (register_error != 0)
        return shmkit__fail(-register_error, "cannot register the fork handler (pthread_atfork)");
    *generation = sk_load(&shmkit__fork_generation, SK_RELAXED);
    return 0;
}

int shmkit__not_holder(const char *role)
{
    return shmkit__fail(SHMKIT_ENOTHOLDER,
                        "this process does not hold the %s lease: the handle was inherited "
                        "through fork(); open the segment again in this process", role);
}
