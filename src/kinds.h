/*
 * kinds.h - what shmkit_info (info.c) asks of the two kinds of segment:
 * slot.c and ring.c.  Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_KINDS_H
#define SHMKIT_KINDS_H

#include <stdint.h>

#include "header.h"
#include "shmkit.h"

/* Version of the slot in a validated mapping (for shmkit_info). */
int sk_slot_peek_version(void *base, const struct sk_header_view *view, uint64_t *version);
/* Ring fields of shmkit_info from a validated mapping. */
void sk_ring_describe(void *base, const struct sk_header_view *view, struct shmkit_info *info);

#endif /* SHMKIT_KINDS_H */
