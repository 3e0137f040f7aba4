/*
 * wait-darwin.c - macOS, compiled where configure found
 * os_sync_wait_on_address (macOS 14.4+, and a deployment target that has
 * it) or __ulock_wait (10.12+).
 *
 * Waits with os_sync when the build has it, else with __ulock_wait; wakes
 * with both when both exist: os_sync's shared waits are built on the same
 * kernel queues as UL_COMPARE_AND_WAIT_SHARED, but a second call costs
 * little (it only happens when someone waits) and guarantees that builds
 * for older macOS deployment targets interoperate.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "wait-mech.h"

#include <errno.h>
#include <stdint.h>

#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC)
#include <os/clock.h>
#include <os/os_sync_wait_on_address.h>
#endif

#if defined(SHMKIT_HAVE_DARWIN_ULOCK)
/* __ulock_wait/__ulock_wake are exported by libSystem since macOS 10.12 but
 * declared in no public header.  Declarations and constants as in XNU's
 * bsd/sys/ulock.h (apple-oss-distributions/xnu): UL_COMPARE_AND_WAIT_SHARED
 * is operation 3 (compare a 32-bit word, key by the physical page so that
 * other processes mapping it share the queue), ULF_WAKE_ALL 0x00000100,
 * ULF_NO_ERRNO 0x01000000 (return -errno instead of setting errno).  The
 * wait returns the number of remaining waiters (>= 0) when woken, and its
 * timeout is in microseconds, 0 meaning none. */
extern int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout_us);
extern int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
#define SK_UL_COMPARE_AND_WAIT_SHARED 3u
#define SK_ULF_WAKE_ALL 0x00000100u
#define SK_ULF_NO_ERRNO 0x01000000u
#endif

#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC)
/* macOS 14.4+: the public API.  Its timeout is relative, in nanoseconds,
 * and must not be 0; it returns the number of remaining waiters, or -1. */
static int darwin_block(const struct sk_wait_sleep *s)
{
    int rc;

    if (s->timeout.deadline == 0)
        rc = os_sync_wait_on_address((void *)s->word, s->expected, sizeof(uint32_t),
                                     OS_SYNC_WAIT_ON_ADDRESS_SHARED);
    else
        rc = os_sync_wait_on_address_with_timeout((void *)s->word, s->expected,
                                                  sizeof(uint32_t),
                                                  OS_SYNC_WAIT_ON_ADDRESS_SHARED,
                                                  OS_CLOCK_MACH_ABSOLUTE_TIME,
                                                  s->timeout.left_ns);
    return rc >= 0 ? 0 : -errno;
}
#else
static int darwin_block(const struct sk_wait_sleep *s)
{
    uint32_t timeout_us = 0; /* none */
    int rc;

    if (s->timeout.deadline != 0) {
        uint64_t us = (s->timeout.left_ns + 999u) / 1000u;

        /* A longer wait times out early; shmkit__wait_block then reports a
         * spurious wake-up and the caller waits again. */
        timeout_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
    rc = __ulock_wait(SK_UL_COMPARE_AND_WAIT_SHARED | SK_ULF_NO_ERRNO, (void *)s->word,
                      s->expected, timeout_us);
    return rc >= 0 ? 0 : rc;
}
#endif

static void darwin_wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    (void)ws;
    (void)index;
#if defined(SHMKIT_HAVE_DARWIN_OS_SYNC)
    (void)os_sync_wake_by_address_all((void *)word, sizeof(uint32_t),
                                      OS_SYNC_WAKE_BY_ADDRESS_SHARED);
#endif
#if defined(SHMKIT_HAVE_DARWIN_ULOCK)
    for (int tries = 0; tries < 4; tries++) {
        if (__ulock_wake(SK_UL_COMPARE_AND_WAIT_SHARED | SK_ULF_WAKE_ALL | SK_ULF_NO_ERRNO,
                         (void *)word, 0) != -EINTR)
            break;
    }
#endif
}

const struct sk_wait_ops sk_wait_darwin_ops = {
    .mech = SK_MECH_DARWIN, .can_wait = 1, .block = darwin_block, .wake_all = darwin_wake_all,
};
