/*
 * ring.h - what other modules use of the ring (ring.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_RING_H
#define SHMKIT_RING_H

struct sk_header_view;
struct shmkit_info;

/* Ring fields of shmkit_info from a validated mapping. */
void shmkit__ring_describe(void *base, const struct sk_header_view *view, struct shmkit_info *info);

#endif /* SHMKIT_RING_H */
