/*
 * read_struct.c - read the C struct that write_struct put into System V
 * shared memory, and optionally remove the segment.
 *
 *   usage: read_struct [-f PATH] [-p PROJ] [-k KEY] [--remove]
 *
 *   -f PATH   file for ftok(3) (default /tmp), as given to write_struct
 *   -p PROJ   project id for ftok(3), 1-255 (default 87, 'W')
 *   -k KEY    use this key (decimal or 0x hex) instead of ftok
 *   --remove  remove the segment after reading it (shmctl IPC_RMID)
 *
 * It prints the record as "field=value" lines, like shmkit-read.
 *
 * Done right, within what <sys/shm.h> offers:
 *   - it never creates a segment (no IPC_CREAT): a reader that creates
 *     one on a typo leaves an empty segment behind;
 *   - it checks the segment's size with shmctl(IPC_STAT) BEFORE attaching,
 *     and refuses a segment that is not exactly one struct weather;
 *   - it attaches read-only (SHM_RDONLY), so a bug here cannot corrupt the
 *     data other programs see;
 *   - it copies the record out and detaches at once, then treats the copy
 *     as untrusted (the name may lack its NUL).
 *
 * What it cannot fix (see the top of write_struct.c): the copy may be torn
 * if the writer is writing at the same moment, the reader cannot tell
 * whether the record is new, and a segment of the right size that belongs
 * to another program is accepted.  examples/lib/read_struct.c does the same
 * with libshmkit and has none of these problems.
 *
 * Copyright (c) 2026 The shmkit authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */

/* shmget() and friends belong to the X/Open System Interfaces of POSIX. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif

#include <sys/types.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../weather.h"

static const char *progname = "read_struct";

struct options {
    const char *path;  /* ftok path */
    long proj;         /* ftok project id */
    long key;          /* explicit key, 0 = use ftok */
    int remove;        /* --remove given */
};

/* Print the usage line (to stdout for --help) and exit with STATUS. */
static void usage(int status)
{
    fprintf(status == 0 ? stdout : stderr,
            "usage: %s [-f PATH] [-p PROJ] [-k KEY] [--remove]\n", progname);
    exit(status);
}

/* Parse a whole number in [MIN, MAX] (decimal or 0x hex), or exit. */
static long parse_number(const char *text, long min, long max, const char *what)
{
    char *end;
    long value;

    errno = 0;
    value = strtol(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0' || value < min || value > max) {
        fprintf(stderr, "%s: bad %s '%s' (expected %ld to %ld)\n",
                progname, what, text, min, max);
        exit(2);
    }
    return value;
}

static void parse_options(int argc, char **argv, struct options *o)
{
    int i;

    o->path = "/tmp";
    o->proj = 'W';
    o->key = 0;
    o->remove = 0;
    for (i = 1; i < argc; i++) {
        const char *opt = argv[i];

        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
            usage(0);
        if (strcmp(opt, "--remove") == 0) {
            o->remove = 1;
            continue;
        }
        /* The other options take an argument. */
        if (i + 1 >= argc || opt[0] != '-' || opt[1] == '\0' || opt[2] != '\0')
            usage(2);
        i++;
        switch (opt[1]) {
        case 'f': o->path = argv[i]; break;
        case 'p': o->proj = parse_number(argv[i], 1, 255, "project id"); break;
        /* Keys above 0x7fffffff do not fit every system's key_t. */
        case 'k': o->key = parse_number(argv[i], 1, 0x7fffffffL, "key"); break;
        default: usage(2);
        }
    }
}

/* The key of the segment: explicit, or derived from a file with ftok(3).
 * ftok fails only if it cannot stat(2) the file. */
static key_t segment_key(const struct options *o)
{
    key_t key;

    if (o->key != 0)
        return (key_t)o->key;
    key = ftok(o->path, (int)o->proj);
    if (key == (key_t)-1) {
        fprintf(stderr, "%s: ftok(%s, %ld): %s\n", progname, o->path, o->proj,
                strerror(errno));
        exit(1);
    }
    return key;
}

/* The id of the existing segment for KEY, checked to hold exactly one
 * struct weather; exits otherwise. */
static int find_segment(key_t key)
{
    struct shmid_ds ds;
    int id;

    /* shmget() without IPC_CREAT only looks the key up; size 0 accepts a
     * segment of any size, because we want to check the size ourselves and
     * say what is wrong (shmget would only say EINVAL). */
    id = shmget(key, 0, 0);
    if (id < 0) {
        if (errno == ENOENT)
            fprintf(stderr, "%s: no segment with key 0x%08lx (run write_struct first)\n",
                    progname, (unsigned long)(uint32_t)key);
        else
            fprintf(stderr, "%s: shmget(key 0x%08lx): %s\n", progname,
                    (unsigned long)(uint32_t)key, strerror(errno));
        exit(1);
    }

    /* shmctl(IPC_STAT) fills DS with the segment's size, owner and mode
     * without attaching it.  The size of a shmid never changes, so what we
     * check here is what shmat() will map. */
    if (shmctl(id, IPC_STAT, &ds) < 0) {
        fprintf(stderr, "%s: shmctl(%d, IPC_STAT): %s\n", progname, id, strerror(errno));
        exit(1);
    }
    if ((size_t)ds.shm_segsz != sizeof(struct weather)) {
        fprintf(stderr,
                "%s: key 0x%08lx: segment has %lu bytes, a struct weather has %lu:"
                " not ours, refusing to read it\n",
                progname, (unsigned long)(uint32_t)key, (unsigned long)ds.shm_segsz,
                (unsigned long)sizeof(struct weather));
        exit(1);
    }
    /* Anyone may have written a world-writable segment: say so. */
    if (ds.shm_perm.mode & 0002)
        fprintf(stderr, "%s: warning: key 0x%08lx is writable by every user (mode %03o)\n",
                progname, (unsigned long)(uint32_t)key, (unsigned)(ds.shm_perm.mode & 0777));
    return id;
}

/* Copy the record out of segment ID; exits on failure. */
static void read_record(int id, struct weather *record)
{
    void *shared;

    /* shmat(SHM_RDONLY): map read-only.  Writing through this pointer
     * would crash this program instead of corrupting the shared data. */
    shared = shmat(id, NULL, SHM_RDONLY);
    if (shared == (void *)-1) {
        fprintf(stderr, "%s: shmat(%d, SHM_RDONLY): %s\n", progname, id, strerror(errno));
        exit(1);
    }

    /* One copy, then work on the private copy only.  If write_struct runs
     * at this very moment the copy can be torn: raw shared memory cannot
     * detect that (libshmkit's slot can). */
    memcpy(record, shared, sizeof *record);

    /* shmdt(): unmap; the segment stays. */
    if (shmdt(shared) < 0) {
        fprintf(stderr, "%s: shmdt: %s\n", progname, strerror(errno));
        exit(1);
    }
}

int main(int argc, char **argv)
{
    struct options o;
    struct weather record;
    int id;

    parse_options(argc, argv, &o);
    id = find_segment(segment_key(&o));
    read_record(id, &record);
    weather_print(stdout, &record);

    if (o.remove) {
        /* shmctl(IPC_RMID): remove the segment.  It disappears once the
         * last process detaches; we already did.  Without this (or
         * ipcrm), it would stay until the next reboot. */
        if (shmctl(id, IPC_RMID, NULL) < 0) {
            fprintf(stderr, "%s: shmctl(%d, IPC_RMID): %s\n", progname, id, strerror(errno));
            return 1;
        }
    }
    return 0;
}
