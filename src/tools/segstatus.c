/*
 * segstatus.c - see segstatus.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>

#include "segstatus.h"

enum seg_status seg_status_of(int rc, const struct shmkit_info *info)
{
    switch (rc) {
    case 0:
        return info->owned && info->creator_alive == 0 ? SEG_STALE : SEG_OK;
    case SHMKIT_EHALFCREATED:
        /* creator_pid is set only when the header carries shmkit's magic:
         * a zero-filled object of someone else's is not ours to judge. */
        if (info->creator_pid == 0)
            return SEG_FOREIGN;
        return info->creator_alive == 0 ? SEG_HALF_CREATED : SEG_CREATING;
    case SHMKIT_EVERSION:
    case SHMKIT_ECORRUPT:
        return SEG_INVALID;
    case -EACCES:
    case -EPERM:
        return SEG_UNREADABLE;
    default:
        return SEG_FOREIGN;
    }
}

const char *seg_status_name(enum seg_status status)
{
    switch (status) {
    case SEG_OK: return "ok";
    case SEG_STALE: return "stale";
    case SEG_HALF_CREATED: return "half-created";
    case SEG_CREATING: return "creating";
    case SEG_INVALID: return "invalid";
    case SEG_UNREADABLE: return "unreadable";
    case SEG_FOREIGN: return "foreign";
    case SEG_NONE: break;
    }
    return "unknown";
}

int seg_status_listed(enum seg_status status)
{
    return status != SEG_FOREIGN && status != SEG_UNREADABLE;
}

/* 1 for a live process; "unknown" (-1) counts as no process. */
static int held_by_live_process(long pid, int alive)
{
    return pid != 0 && alive == 1;
}

int seg_removable_stale(enum seg_status status, const struct shmkit_info *info)
{
    if (status != SEG_STALE && status != SEG_HALF_CREATED)
        return 0;
    if (info->creator_alive != 0 || info->attach_count > 0)
        return 0;
    if (status == SEG_HALF_CREATED)
        return 1;
    return info->owned && !held_by_live_process(info->writer_pid, info->writer_alive) &&
           !held_by_live_process(info->consumer_pid, info->consumer_alive);
}

const char *seg_consumer_state(const struct shmkit_consumer *c)
{
    if (!c->active)
        return c->pid != 0 ? "vacant" : NULL;
    return c->pid != 0 && c->alive != 0 ? "active" : "left";
}

unsigned seg_live_consumers(const struct shmkit_consumer *consumers, unsigned n)
{
    unsigned i, live = 0;

    for (i = 0; i < n; i++)
        if (held_by_live_process(consumers[i].pid, consumers[i].alive))
            live++;
    return live;
}

int seg_read_consumers(const char *spec, struct shmkit_consumer **out, unsigned *n)
{
    /* Room for the most a ring can have, so that one call describes the
     * table even if the segment is replaced meanwhile. */
    struct shmkit_consumer *v = calloc(SHMKIT_RING_MAX_CONSUMERS, sizeof *v);
    int rc;

    if (v == NULL)
        return -ENOMEM;
    rc = shmkit_info_consumers(spec, v, SHMKIT_RING_MAX_CONSUMERS, sizeof *v);
    if (rc < 0) {
        free(v);
        return rc;
    }
    *out = v;
    *n = rc < SHMKIT_RING_MAX_CONSUMERS ? (unsigned)rc : SHMKIT_RING_MAX_CONSUMERS;
    return 0;
}
