/*
 * ls-sysv.h - enumerate the System V shared memory segments of the
 * system, for "shmkit ls" (ls.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_TOOLS_LS_SYSV_H
#define SHMKIT_TOOLS_LS_SYSV_H

#include <stdint.h>

/* What the system tells about one segment that has a key. */
struct sysv_seg {
    uint32_t key;  /* never IPC_PRIVATE; the bit pattern "sysv:0xKEY" names */
    uint64_t size; /* bytes */
    long uid;      /* owner */
    unsigned mode; /* permission bits */
    long nattch;   /* attach count, -1 if unknown */
};

/* Called for each segment; returns 0 to go on, < 0 to stop. */
typedef int (*sysv_seg_fn)(void *ctx, const struct sysv_seg *seg);

/* Return values of sysv_list_segments. */
#define SYSV_LIST_DONE 0
#define SYSV_LIST_UNSUPPORTED 1 /* this system gives no list */
#define SYSV_LIST_STOPPED (-1)  /* FN returned < 0 */
#define SYSV_LIST_FAILED (-2)   /* the system refused: see errno */

/* Call FN for every System V segment with a key that the system shows. */
int sysv_list_segments(sysv_seg_fn fn, void *ctx);

#endif /* SHMKIT_TOOLS_LS_SYSV_H */
