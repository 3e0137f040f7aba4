/*
 * header.h - creating and validating segment headers (header.c).
 * Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_HEADER_H
#define SHMKIT_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "shmkit.h"

/* The SK_HFLAG_OWNED header bit for the public FLAGS of a *_create. */
#define SK_HFLAG_OWNED_IF(flags) (((flags) & SHMKIT_OWNED) ? (uint16_t)SK_HFLAG_OWNED : 0)

/* Parameters of a new segment's header. */
struct sk_header_params {
    int kind;
    uint16_t header_flags;
    uint64_t total_size;
    uint64_t payload_offset;
    uint64_t payload_size;
    uint64_t record_size;
    uint64_t capacity;
    uint32_t consumers;   /* block ring: entries of the consumer table */
    uint64_t first_seq;   /* ring: the number of its first message */
    const char *layout;   /* canonical layout text or "" */
    int wait_mech;        /* enum sk_wait_mech */
    int wait_semid;       /* sysv-sem set, -1 if none */
};

/* A validated private copy of the immutable part of a header.  Modules use
 * these values, never the shared ones, after validation. */
struct sk_header_view {
    int kind;
    unsigned format_major, format_minor;
    uint16_t header_flags;
    uint64_t total_size;
    uint64_t payload_offset;
    uint64_t payload_size;
    uint64_t record_size;
    uint64_t capacity;
    uint32_t consumers;   /* block ring: 1..SK_RING_MAX_CONSUMERS */
    long creator_pid;
    uint64_t creator_start;
    int64_t created_sec;
    int wait_mech;        /* as recorded: untrusted, checked by wait.c */
    int wait_semid;
    char layout[SK_LAYOUT_AREA];
};

/* The first thing written into a new mapping of SIZE bytes at BASE: the
 * magic and this process as its creator (nothing if SIZE is smaller than
 * a header).  shmkit__header_init writes the same values again. */
void shmkit__header_stamp_creator(void *base, size_t size);
/* Fill a zeroed header (state stays INIT). */
void shmkit__header_init(struct sk_header *h, const struct sk_header_params *p);
/* Checksum it and mark it READY (release), the last step of creation. */
void shmkit__header_publish(struct sk_header *h);
uint32_t shmkit__header_checksum(const struct sk_header *h);
/* Validate the header of a mapping of MAPPED bytes into VIEW.  Waits a
 * bounded time for a header that is still being created.  Errors:
 * SHMKIT_ENOTSHMKIT, SHMKIT_EVERSION, SHMKIT_ECORRUPT, SHMKIT_EHALFCREATED. */
int shmkit__header_validate(const void *base, size_t mapped, struct sk_header_view *view);
/* 1 if the header of the mapping is complete, valid and says
 * SK_HFLAG_OWNED; 0 for anything else, without waiting. */
int shmkit__header_says_owned(const void *base, size_t mapped);
/* The wait fields of a header whose identity and checksum are intact,
 * whatever else is wrong with it, or of a half-created header with our
 * magic (for removal), without waiting. */
int shmkit__header_wait_fields(const void *base, size_t mapped, int *mech, int *semid);

#endif /* SHMKIT_HEADER_H */
