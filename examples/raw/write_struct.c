/*
 * write_struct.c - put a C struct into System V shared memory.
 *
 * The classic teaching demo (write_struct puts a struct into a segment,
 * read_struct reads it back), written with the five <sys/shm.h> calls only
 * and done right: every call is error-checked, the segment is created
 * exclusively with owner-only permissions, and a segment that already
 * exists is used only if it is ours and of the right size.
 *
 *   usage: write_struct [-f PATH] [-p PROJ] [-k KEY]
 *                       [-s STATION] [-t TEMP] [-n NAME]
 *
 *   -f PATH  file for ftok(3) (default /tmp); it must exist
 *   -p PROJ  project id for ftok(3), 1-255 (default 87, 'W')
 *   -k KEY   use this key (decimal or 0x hex) instead of ftok
 *   -s, -t, -n  station number, temperature and name of the record
 *
 * The segment stays after the program exits: that is the point, a reader
 * runs later.  "read_struct --remove" (or ipcrm -m ID) removes it.
 *
 * The naive version, as found in countless tutorials:
 *
 *     key_t key = ftok("/tmp", 'W');
 *     int id = shmget(key, sizeof(struct weather), IPC_CREAT | 0666);
 *     struct weather *w = shmat(id, NULL, 0);
 *     w->station = 10384;
 *     w->temp_c = 21.5f;
 *     ...
 *     shmdt(w);
 *
 * and its bugs (this program avoids the ones that can be avoided with
 * these calls, and says so where it cannot):
 *
 *   - Torn reads: a reader that copies the struct while the writer is
 *     between two field assignments sees half the old record and half the
 *     new one.  Nothing in <sys/shm.h> prevents it; below the record is
 *     built privately and copied in one memcpy, which makes the window
 *     small, not empty.
 *   - No change notification: a reader cannot tell whether the record is
 *     new, nor sleep until it is; it can only poll and compare bytes.
 *   - Stale segments: a System V segment lives until IPC_RMID or a reboot,
 *     so every crashed or forgetful program leaves one behind (ipcs -m).
 *   - Wrong size, foreign segment: with IPC_CREAT, shmget() returns an
 *     existing segment of that key as long as it is at least as large as
 *     asked, so the naive writer scribbles over another program's memory,
 *     and a reader maps whatever has the key.
 *   - ftok collisions: ftok() keeps only a few bits of the file's inode and
 *     device and 8 bits of the project id, so unrelated paths can give the
 *     same key, and recreating the file changes the key.
 *   - Permissions: 0666 lets every local user read and overwrite the data.
 *   - Portability: the demo usually only ever ran on Linux; macOS allows
 *     4 MiB and 8 segments per process by default, OpenBSD and NetBSD refuse
 *     to attach a removed segment, jails and pledge may forbid System V IPC.
 *
 * examples/lib/write_struct.c does the same with libshmkit, which fixes all
 * of these: a seqlock with two buffers (no torn reads), a version number
 * (change detection), a validated header with the layout, sizes and a
 * checksum (no foreign or wrong-size segments), a writer lease that
 * recognises a dead writer, explicit keys or POSIX names, 0600 by default.
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
#include <unistd.h>

#include "../weather.h"

static const char *progname = "write_struct";

struct options {
    const char *path;  /* ftok path */
    long proj;         /* ftok project id */
    long key;          /* explicit key, 0 = use ftok */
    long station;
    double temp_c;
    const char *name;
};

/* Print the usage line (to stdout for --help) and exit with STATUS. */
static void usage(int status)
{
    fprintf(status == 0 ? stdout : stderr,
            "usage: %s [-f PATH] [-p PROJ] [-k KEY] [-s STATION] [-t TEMP] [-n NAME]\n",
            progname);
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

/* Parse a temperature, or exit. */
static double parse_real(const char *text, const char *what)
{
    char *end;
    double value;

    errno = 0;
    value = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0') {
        fprintf(stderr, "%s: bad %s '%s'\n", progname, what, text);
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
    o->station = 10384;
    o->temp_c = 21.5;
    o->name = "Tempelhof";
    /* Every option takes an argument: walk the arguments in pairs. */
    for (i = 1; i < argc; i += 2) {
        const char *opt = argv[i];
        const char *arg = argv[i + 1];

        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
            usage(0);
        if (arg == NULL || opt[0] != '-' || opt[1] == '\0' || opt[2] != '\0')
            usage(2);
        switch (opt[1]) {
        case 'f': o->path = arg; break;
        case 'p': o->proj = parse_number(arg, 1, 255, "project id"); break;
        /* Keys above 0x7fffffff do not fit every system's key_t. */
        case 'k': o->key = parse_number(arg, 1, 0x7fffffffL, "key"); break;
        case 's': o->station = parse_number(arg, 0, 0x7fffffffL, "station"); break;
        case 't': o->temp_c = parse_real(arg, "temperature"); break;
        case 'n': o->name = arg; break;
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

/* Get the id of the segment for KEY, creating it if needed; refuse an
 * existing segment that is not ours or not exactly our size. */
static int get_segment(key_t key)
{
    struct shmid_ds ds;
    int id;

    /* shmget(IPC_CREAT | IPC_EXCL): create a new segment of exactly our
     * size, owner read/write only (System V segments ignore the umask).
     * EXCL makes the call fail with EEXIST instead of silently handing us
     * someone else's segment.  The new segment is zero-filled. */
    id = shmget(key, sizeof(struct weather), IPC_CREAT | IPC_EXCL | 0600);
    if (id >= 0)
        return id;
    if (errno != EEXIST) {
        fprintf(stderr, "%s: shmget(key 0x%08lx): %s\n", progname,
                (unsigned long)(uint32_t)key, strerror(errno));
        exit(1);
    }

    /* It exists (a previous run, or a key collision).  shmget() without
     * IPC_CREAT and with size 0 returns the id of whatever has the key. */
    id = shmget(key, 0, 0);
    if (id < 0) {
        fprintf(stderr, "%s: shmget(key 0x%08lx): %s\n", progname,
                (unsigned long)(uint32_t)key, strerror(errno));
        exit(1);
    }
    /* shmctl(IPC_STAT) copies the segment's kernel record: size, owner,
     * permissions, attach count.  Check before attaching. */
    if (shmctl(id, IPC_STAT, &ds) < 0) {
        fprintf(stderr, "%s: shmctl(%d, IPC_STAT): %s\n", progname, id, strerror(errno));
        exit(1);
    }
    if (ds.shm_perm.uid != geteuid()) {
        fprintf(stderr, "%s: key 0x%08lx belongs to uid %ld: refusing to overwrite"
                " another user's segment\n", progname, (unsigned long)(uint32_t)key,
                (long)ds.shm_perm.uid);
        exit(1);
    }
    if ((size_t)ds.shm_segsz != sizeof(struct weather)) {
        fprintf(stderr, "%s: key 0x%08lx is taken by a segment of %lu bytes, not %lu:"
                " refusing to overwrite it\n", progname, (unsigned long)(uint32_t)key,
                (unsigned long)ds.shm_segsz, (unsigned long)sizeof(struct weather));
        exit(1);
    }
    return id;
}

int main(int argc, char **argv)
{
    struct options o;
    struct weather record;
    void *shared;
    key_t key;
    int id;

    parse_options(argc, argv, &o);
    key = segment_key(&o);
    id = get_segment(key);

    /* shmat(): map the segment into our address space; NULL lets the
     * system choose the address, 0 asks for read/write access.  It returns
     * (void *)-1, not NULL, on failure. */
    shared = shmat(id, NULL, 0);
    if (shared == (void *)-1) {
        fprintf(stderr, "%s: shmat(%d): %s\n", progname, id, strerror(errno));
        return 1;
    }

    /* Build the record privately, then copy it in one go.  A reader that
     * copies at the same moment can still see a mix of old and new bytes:
     * plain shared memory has no way to tell it (see the top of the file). */
    weather_fill(&record, (uint32_t)o.station, (float)o.temp_c, o.name);
    memcpy(shared, &record, sizeof record);

    /* shmdt(): unmap.  The segment itself stays until IPC_RMID. */
    if (shmdt(shared) < 0) {
        fprintf(stderr, "%s: shmdt: %s\n", progname, strerror(errno));
        return 1;
    }
    printf("wrote station %lu to key 0x%08lx (shmid %d, %lu bytes)\n",
           (unsigned long)record.station, (unsigned long)(uint32_t)key, id,
           (unsigned long)sizeof record);
    return 0;
}
