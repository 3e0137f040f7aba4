/*
 * hooks.c - the SHMKIT_TEST_SIMULATE test hooks (see hooks.h).  Compiled
 * only when configure was given --enable-test-hooks (Makefile.am).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "hooks.h"

#ifndef SHMKIT_TEST_HOOKS
#error "hooks.c belongs to --enable-test-hooks builds only (see Makefile.am)"
#endif

#include <stdlib.h>
#include <string.h>

#include "atomics.h"

/* Counters for shmkit__hook_fired_count, one per distinct name.  Names are
 * string literals of the library, so a short table is enough; a name that
 * does not fit is simply not counted. */
#define SK_HOOK_SLOTS 32

void (*volatile shmkit__hook_point_fn)(const char *point);

static struct {
    const char *name;
    sk_atomic_u32 count;
} fired[SK_HOOK_SLOTS];

int shmkit__hook(const char *name)
{
    const char *list = getenv("SHMKIT_TEST_SIMULATE");
    size_t len = strlen(name);

    while (list != NULL && *list != '\0') {
        const char *end = strchr(list, ',');
        size_t item = end != NULL ? (size_t)(end - list) : strlen(list);

        if (item == len && strncmp(list, name, len) == 0)
            return 1;
        list = end != NULL ? end + 1 : NULL;
    }
    return 0;
}

static int slot_of(const char *name, int add)
{
    int i;

    for (i = 0; i < SK_HOOK_SLOTS && fired[i].name != NULL; i++)
        if (strcmp(fired[i].name, name) == 0)
            return i;
    if (!add || i == SK_HOOK_SLOTS)
        return -1;
    /* Tests are single-threaded where they count; a race here could only
     * lose a count, never corrupt memory. */
    fired[i].name = name;
    return i;
}

void shmkit__hook_fired(const char *name)
{
    int i = slot_of(name, 1);

    if (i >= 0)
        (void)sk_fetch_add(&fired[i].count, 1u, SK_RELAXED);
}

unsigned long shmkit__hook_fired_count(const char *name)
{
    int i = slot_of(name, 0);

    return i >= 0 ? (unsigned long)sk_load(&fired[i].count, SK_RELAXED) : 0ul;
}
