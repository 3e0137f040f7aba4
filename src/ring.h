/*
 * ring.h - what other modules use of the ring (ring.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_RING_H
#define SHMKIT_RING_H

#include <stdint.h>

struct sk_header_view;
struct sk_seg;
struct shmkit_info;
struct shmkit_consumer;

/* Ring fields of shmkit_info from a validated mapping. */
void shmkit__ring_describe(void *base, const struct sk_header_view *view, struct shmkit_info *info);
/* Consumer I (< view->consumers) of a validated block ring mapping. */
void shmkit__ring_describe_consumer(struct sk_seg *seg, const struct sk_header_view *view,
                                    uint32_t i, struct shmkit_consumer *out);

#endif /* SHMKIT_RING_H */
