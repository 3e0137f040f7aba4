/*
 * seg_posix.h - what the files of the POSIX backend share: seg_posix.c
 * (objects, mappings) and seg_posix_lock.c (lease locks).  Internal to
 * the backend; segment.c sees it through shmkit__posix_backend (backend.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_SEG_POSIX_H
#define SHMKIT_SEG_POSIX_H

#include <sys/types.h>

#include "backend.h"

/* shm_open of NAME with FLAGS (and the flags every open gets), the
 * descriptor moved to >= 3 and close-on-exec; -1 with errno set. */
int shmkit__posix_open_object(const char *name, int flags, mode_t mode);
/* Advice to append to a message about ERR ("" if none): which limit to
 * raise or what to free. */
const char *shmkit__posix_limit_advice(int err);

/* Keep a read-write descriptor of the object open on FD for SEG's lease
 * locks (where the system has OFD locks), and let go of it. */
int shmkit__posix_keep_lock_fd(struct sk_seg *seg, int fd);
void shmkit__posix_drop_lock_fd(struct sk_seg *seg);
/* The lease lock operations of shmkit__posix_backend. */
int shmkit__posix_lock(struct sk_seg *seg, unsigned lock);
void shmkit__posix_unlock(struct sk_seg *seg, unsigned lock);
int shmkit__posix_lock_probe(struct sk_seg *seg, unsigned lock);

#endif /* SHMKIT_SEG_POSIX_H */
