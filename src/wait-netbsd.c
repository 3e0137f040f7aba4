/*
 * wait-netbsd.c - the NetBSD __futex system call (NetBSD 10), compiled
 * where configure found it.
 *
 * __futex(int *uaddr, int op, int val, const struct timespec *timeout,
 * int *uaddr2, int val2, int val3), as in sys/kern/sys_futex.c: shared
 * unless FUTEX_PRIVATE_FLAG; FUTEX_WAIT's timeout is relative, on
 * CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME.  Reached through syscall(2).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "wait-mech.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <sys/futex.h>
#include <unistd.h>

static int netbsd_futex_block(const struct sk_wait_sleep *s)
{
    if (syscall(SYS___futex, (void *)s->word, FUTEX_WAIT, (int)s->expected,
                sk_wait_timeout_rel(&s->timeout), (void *)NULL, 0, 0) == 0)
        return 0;
    return -errno;
}

static void netbsd_futex_wake_all(const struct sk_waitset *ws, unsigned index,
                                  sk_atomic_u32 *word)
{
    (void)ws;
    (void)index;
    (void)syscall(SYS___futex, (void *)word, FUTEX_WAKE, INT_MAX, (void *)NULL, (void *)NULL,
                  0, 0);
}

const struct sk_wait_ops sk_wait_netbsd_ops = {
    .mech = SK_MECH_NETBSD_FUTEX, .can_wait = 1,
    .block = netbsd_futex_block, .wake_all = netbsd_futex_wake_all,
};
