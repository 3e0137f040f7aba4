/*
 * bridge-bench.c - STUB until the real "shmkit-bridge bench" is merged.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>

#include "bridge.h"

int bridge_bench_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "shmkit-bridge: bench: not built yet\n");
    return 1;
}
