/*
 * lease.c - the single-writer lease (also the single-consumer lease of
 * block rings).
 *
 * Two 32-bit words in the header: the holder's pid and a token of its
 * process start time (0 while being set, or where the platform cannot tell).
 * No process-shared mutex is used (OpenBSD, NetBSD and macOS lack robust
 * ones), so a crashed holder can never leave the lease "locked": anyone can
 * see that the holder is dead and take the lease over.
 *
 * Protocol (doc/FORMAT.md, "Writer lease"):
 *   acquire free:   CAS pid 0 -> me, then store token.
 *   take over dead: CAS token old -> 0, then CAS pid old -> me, then store
 *                   token.  Clearing the token first means that a third
 *                   process never sees our pid paired with the dead
 *                   holder's token (which would look like a reused pid).
 *   release:        store token 0, then CAS pid me -> 0.
 * A holder with token 0 whose pid exists counts as alive: it is between
 * its CAS and its token store.  A lease naming our own pid with another
 * token was left by an earlier process with the same pid: it is taken
 * over like any dead holder's.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"

#include <errno.h>
#include <unistd.h>

#define LEASE_ATTEMPTS 64

static int take_free(sk_atomic_u32 *pid_word, sk_atomic_u32 *token_word, uint32_t me,
                     uint32_t my_token)
{
    uint32_t expected = 0;

    if (!sk_cas(pid_word, &expected, me))
        return 0;
    sk_store(token_word, my_token, SK_RELEASE);
    return 1;
}

static int take_over(sk_atomic_u32 *pid_word, sk_atomic_u32 *token_word, uint32_t holder,
                     uint32_t holder_token, uint32_t me, uint32_t my_token)
{
    uint32_t expected = holder_token;

    if (holder_token != 0 && !sk_cas(token_word, &expected, 0))
        return 0;
    expected = holder;
    if (!sk_cas(pid_word, &expected, me))
        return 0;
    sk_store(token_word, my_token, SK_RELEASE);
    return 1;
}

/* A lease that names this process's pid with another start token was left
 * by an earlier process that had the same pid (pids are reused, and a
 * holder killed with SIGKILL never releases): that holder is dead.  With a
 * token of 0 it may be another thread of ours between its two stores, so
 * it counts as ours. */
static int earlier_process_with_my_pid(uint32_t token, uint32_t my_token)
{
    return token != 0 && my_token != 0 && token != my_token;
}

int sk_lease_acquire(sk_atomic_u32 *pid_word, sk_atomic_u32 *token_word, const char *role)
{
    uint32_t me = (uint32_t)getpid();
    uint32_t my_token = sk_self_token();
    int attempt;

    for (attempt = 0; attempt < LEASE_ATTEMPTS; attempt++) {
        uint32_t holder = sk_load(pid_word, SK_ACQUIRE);
        uint32_t token = sk_load(token_word, SK_ACQUIRE);

        /* The two words are read one after the other: if the pid changed
         * in between, the token may be the next holder's, and clearing it
         * in take_over would strip a live holder of its identity. */
        if (sk_load(pid_word, SK_ACQUIRE) != holder)
            continue;
        if (holder == 0) {
            if (take_free(pid_word, token_word, me, my_token))
                return 0;
            continue;
        }
        if (holder == me && !earlier_process_with_my_pid(token, my_token))
            return sk_fail(SHMKIT_EBUSY, "this process (pid %lu) is already the %s",
                           (unsigned long)holder, role);
        if (holder != me && sk_proc_alive((long)holder, token))
            return sk_fail(SHMKIT_EBUSY, "pid %lu is the %s", (unsigned long)holder, role);
        if (take_over(pid_word, token_word, holder, token, me, my_token))
            return 0;
    }
    return sk_fail(SHMKIT_EBUSY, "%s lease contended", role);
}

void sk_lease_release(sk_atomic_u32 *pid_word, sk_atomic_u32 *token_word)
{
    uint32_t me = (uint32_t)getpid();

    if (sk_load(pid_word, SK_RELAXED) != me)
        return; /* taken over meanwhile: it is not ours to clear */
    sk_store(token_word, 0, SK_RELAXED);
    sk_cas(pid_word, &me, 0);
}
