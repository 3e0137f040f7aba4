/*
 * slot.h - what other modules use of the slot (slot.c): its geometry and
 * a look at the version of a mapped slot.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_SLOT_H
#define SHMKIT_SLOT_H

#include <stdint.h>

struct sk_header_view;

/* Bytes from one buffer of a slot of RECORD_SIZE-byte records to the
 * next (its header and record, rounded up to SK_SLOT_BUF_ALIGN), and the
 * payload of such a slot: its two buffers. */
uint64_t sk_slot_buf_stride(uint64_t record_size);
uint64_t sk_slot_payload_size(uint64_t record_size);

/* Version of the slot in a validated mapping (for shmkit_info). */
int sk_slot_peek_version(void *base, const struct sk_header_view *view, uint64_t *version);

#endif /* SHMKIT_SLOT_H */
