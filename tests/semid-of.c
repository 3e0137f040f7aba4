/*
 * semid-of.c - "tests/semid-of SPEC...": for each segment whose header
 * names a System V semaphore set (a --with-wait=sysv-sem build), print the
 * set's id, one per line; nothing for the others (other mechanisms,
 * missing segments, headers cut off).
 *
 * For the shell tests that take a segment away behind the library's back
 * (ipcrm -M, truncation below the header, a private mount namespace):
 * shmkit_unlink cannot find the set afterwards, so the test reads its id
 * first and removes it with ipcrm -s (tests/tap.sh, sk_rm_semset); and for
 * tests/zz-leftovers.sh, which must not count the sets of segments that
 * still exist as leaked.  A System V spec can only be read by a program:
 * hence this one, on the library's own reading of the header.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>

#include "segment.h"
#include "spec.h"

int main(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        struct sk_spec spec;
        int semid;

        if (shmkit__spec_parse(argv[i], &spec) != 0)
            continue;
        semid = shmkit__seg_wait_semid(&spec);
        if (semid >= 0)
            printf("%d\n", semid);
    }
    return 0;
}
