/*
 * slot.h - what other modules use of the slot (slot.c): a look at the
 * version of a mapped slot (its geometry is part of the format: format.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_SLOT_H
#define SHMKIT_SLOT_H

#include <stdint.h>

struct sk_header_view;

/* Version of the slot in a validated mapping (for shmkit_info). */
int shmkit__slot_peek_version(void *base, const struct sk_header_view *view, uint64_t *version);

#endif /* SHMKIT_SLOT_H */
