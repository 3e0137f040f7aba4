/*
 * wait-openbsd.c - OpenBSD futex(2), compiled where configure found it.
 *
 * Shared between processes unless FUTEX_PRIVATE_FLAG is given (since 6.4);
 * relative timeout.  Errors come back as -1 and errno; the first kernels
 * (6.2, 6.3) returned the error number itself, which we accept too.
 * ECANCELED means a signal arrived with SA_RESTART set: wait.c then waits
 * again.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "wait-mech.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <sys/time.h>
#include <sys/futex.h>

static int openbsd_futex_block(const struct sk_wait_sleep *s)
{
    int rc = futex((volatile uint32_t *)(void *)s->word, FUTEX_WAIT, (int)s->expected,
                   sk_wait_timeout_rel(&s->timeout), NULL);

    if (rc == 0)
        return 0;
    return rc > 0 ? -rc : -errno;
}

static void openbsd_futex_wake_all(const struct sk_waitset *ws, unsigned index,
                                   sk_atomic_u32 *word)
{
    (void)ws;
    (void)index;
    (void)futex((volatile uint32_t *)(void *)word, FUTEX_WAKE, INT_MAX, NULL, NULL);
}

const struct sk_wait_ops sk_wait_openbsd_ops = {
    .mech = SK_MECH_OPENBSD_FUTEX, .can_wait = 1,
    .block = openbsd_futex_block, .wake_all = openbsd_futex_wake_all,
};
