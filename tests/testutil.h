/*
 * testutil.h - helpers shared by the Check suites.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_TESTUTIL_H
#define SHMKIT_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Run SUITE with TAP on stdout (one line per test case, for automake's
 * tap-driver) and return the process exit status. */
int tu_run(Suite *suite);

/* A POSIX spec "/skt.PID.N" unique to this process and call.  BUF needs 32
 * bytes.  Returns BUF. */
char *tu_posix_spec(char *buf);
/* A SysV spec "sysv:0xKEY" whose key is unique to this process and call
 * (keys 0x40000000 + ((pid & 0xfffff) << 8) + N, below 0x50000000).  BUF needs 32 bytes. */
char *tu_sysv_spec(char *buf);
/* tu_posix_spec or tu_sysv_spec by BACKEND (enum shmkit_backend). */
char *tu_spec(int backend, char *buf);
/* Number of the backends this build has: fills BACKENDS (size 2). */
int tu_backends(int *backends);

/* shmkit_ring_create with the options as arguments, for the tests that
 * set them all. */
struct shmkit_ring;
int tu_ring_create(struct shmkit_ring **ringp, const char *spec, size_t capacity,
                   size_t max_message, int policy, unsigned mode, unsigned flags);

/* Fail the test unless no segment created by tu_*_spec in this process is
 * left behind. */
void tu_assert_no_leftovers(void);

#endif
