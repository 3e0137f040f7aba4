/*
 * wait-futex.c - the Linux futex, compiled where configure found it.
 *
 * Without FUTEX_PRIVATE_FLAG the futex is keyed by the page's backing
 * object, so that processes mapping the segment share the queue.  The
 * FUTEX_WAIT timeout is relative, on CLOCK_MONOTONIC.
 *
 * The portable profile (--enable-portable-profile) runs the code paths of
 * the BSDs and macOS, so it never waits on a futex; it still wakes the
 * futex waiters of a segment made by a normal build.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "wait-mech.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

static int futex_block(const struct sk_wait_sleep *s)
{
    long rc = syscall(SYS_futex, (void *)s->word, (long)FUTEX_WAIT, (long)s->expected,
                      sk_wait_timeout_rel(&s->timeout), (void *)NULL, 0L);

    return rc == 0 ? 0 : -errno;
}

static void futex_wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    (void)ws;
    (void)index;
    (void)syscall(SYS_futex, (void *)word, (long)FUTEX_WAKE, (long)INT_MAX, (void *)NULL,
                  (void *)NULL, 0L);
}

#if defined(SHMKIT_PORTABLE_PROFILE)
#define SK_FUTEX_CAN_WAIT 0
#else
#define SK_FUTEX_CAN_WAIT 1
#endif

const struct sk_wait_ops shmkit__wait_futex_ops = {
    .mech = SK_MECH_FUTEX, .can_wait = SK_FUTEX_CAN_WAIT,
    .block = futex_block, .wake_all = futex_wake_all,
};
