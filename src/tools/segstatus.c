/*
 * segstatus.c - see segstatus.h.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>

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
