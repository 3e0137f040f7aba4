/*
 * wait-umtx.c - FreeBSD _umtx_op(2), compiled where configure found it.
 *
 * UMTX_OP_WAIT_UINT compares the u_int at the address and sleeps; without
 * the _PRIVATE variant the sleep queue is the process-shared one when the
 * word lies in a shared mapping.  The timeout is a struct _umtx_time
 * passed in uaddr2 with its size in uaddr; we give the deadline itself
 * (UMTX_ABSTIME on CLOCK_MONOTONIC, the clock of shmkit__monotonic_ns).  The
 * wait is not restarted after a signal: EINTR.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "wait-mech.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <string.h>
#include <sys/types.h>
#include <sys/umtx.h>

static int umtx_block(const struct sk_wait_sleep *s)
{
    struct _umtx_time abstime;
    void *size = NULL, *timeout = NULL;

    if (s->timeout.deadline != 0) {
        memset(&abstime, 0, sizeof abstime);
        abstime._timeout = shmkit__timespec_from_ns(s->timeout.deadline);
        abstime._flags = UMTX_ABSTIME;
        abstime._clockid = CLOCK_MONOTONIC;
        size = (void *)(uintptr_t)sizeof abstime;
        timeout = &abstime;
    }
    if (_umtx_op((void *)s->word, UMTX_OP_WAIT_UINT, (unsigned long)s->expected, size,
                 timeout) == 0)
        return 0;
    return -errno;
}

static void umtx_wake_all(const struct sk_waitset *ws, unsigned index, sk_atomic_u32 *word)
{
    (void)ws;
    (void)index;
    (void)_umtx_op((void *)word, UMTX_OP_WAKE, (unsigned long)INT_MAX, NULL, NULL);
}

const struct sk_wait_ops sk_wait_umtx_ops = {
    .mech = SK_MECH_UMTX, .can_wait = 1, .block = umtx_block, .wake_all = umtx_wake_all,
};
