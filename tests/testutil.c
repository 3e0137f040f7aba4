/*
 * testutil.c - helpers shared by the Check suites.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shmkit.h"

static unsigned tu_counter;

int tu_run(Suite *suite)
{
    SRunner *runner = srunner_create(suite);
    int failed;

    /* "-" sends TAP to stdout; CK_SILENT keeps Check's own summary off it. */
    srunner_set_tap(runner, "-");
    srunner_run_all(runner, CK_SILENT);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

char *tu_posix_spec(char *buf)
{
    snprintf(buf, 32, "/skt.%ld.%u", (long)getpid(), tu_counter++ & 0xffffu);
    return buf;
}

char *tu_sysv_spec(char *buf)
{
    unsigned long key = 0x40000000ul + (((unsigned long)getpid() & 0xffffful) << 8)
                        + (tu_counter++ & 0xffu);
    snprintf(buf, 32, "sysv:0x%lx", key);
    return buf;
}

char *tu_spec(int backend, char *buf)
{
    return backend == SHMKIT_BACKEND_SYSV ? tu_sysv_spec(buf) : tu_posix_spec(buf);
}

int tu_backends(int *backends)
{
    int n = 0;
    if (shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        backends[n++] = SHMKIT_BACKEND_POSIX;
    if (shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        backends[n++] = SHMKIT_BACKEND_SYSV;
    return n;
}

int tu_ring_create(shmkit_ring **ringp, const char *spec, size_t capacity, size_t max_message,
                   int policy, unsigned mode, unsigned flags)
{
    struct shmkit_ring_options options = SHMKIT_RING_OPTIONS_INIT;

    options.capacity = capacity;
    options.max_message = max_message;
    options.policy = policy;
    options.mode = mode;
    options.flags = flags;
    return shmkit_ring_create(ringp, spec, &options);
}

void tu_assert_no_leftovers(void)
{
    struct shmkit_info info;
    char spec[32];
    unsigned n;
    long pid = (long)getpid();

    for (n = 0; n < tu_counter && n <= 0xffffu; n++) {
        snprintf(spec, sizeof spec, "/skt.%ld.%u", pid, n);
        if (shmkit_backend_available(SHMKIT_BACKEND_POSIX))
            ck_assert_msg(shmkit_info(spec, &info, sizeof info) == -ENOENT, "left behind: %s",
                          spec);
        snprintf(spec, sizeof spec, "sysv:0x%lx",
                 0x40000000ul + (((unsigned long)pid & 0xffffful) << 8) + (n & 0xffu));
        if (shmkit_backend_available(SHMKIT_BACKEND_SYSV))
            ck_assert_msg(shmkit_info(spec, &info, sizeof info) == -ENOENT, "left behind: %s",
                          spec);
    }
}
