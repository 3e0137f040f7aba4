/*
 * write_struct.c - put a C struct into shared memory with libshmkit.
 *
 * The library version of examples/raw/write_struct.c: the same struct, the
 * same two programs, none of the raw version's bugs.
 *
 *   usage: write_struct [-s STATION] [-t TEMP] [-n NAME] [SPEC]
 *
 *   SPEC  the segment (default /weather-demo): "/NAME" for POSIX shared
 *         memory, "sysv:0xKEY" or "sysv:PATH:PROJ" for System V
 *
 * What the library adds, compared with the raw version:
 *   - the slot holds two buffers and a version counter (a seqlock): a
 *     reader never sees a half-written record, and a writer killed in the
 *     middle of an update leaves the previous record intact;
 *   - every record has a version number, so readers can tell new from old;
 *   - the segment starts with a validated header (magic, format version,
 *     sizes, the layout text, a checksum): a reader refuses a segment of
 *     another program or of another record layout instead of mapping it;
 *   - one writer at a time, through a lease that names the writer's
 *     process, so a second writer is refused and a dead writer's lease is
 *     taken over;
 *   - the layout lets the command-line tools read and write the record:
 *     shmkit-read /weather-demo, shmkit-write /weather-demo temp_c=19;
 *   - permissions are 0600 unless asked otherwise.
 *
 * The segment stays after the program exits; "read_struct --remove" or
 * "shmkit rm SPEC" removes it.
 *
 * Copyright (c) 2026 The shmkit authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmkit.h>

#include "../weather.h"

static const char *progname = "write_struct";

struct options {
    const char *spec;
    long station;
    double temp_c;
    const char *name;
};

/* Print the usage line (to stdout for --help) and exit with STATUS. */
static void usage(int status)
{
    fprintf(status == 0 ? stdout : stderr,
            "usage: %s [-s STATION] [-t TEMP] [-n NAME] [SPEC]\n", progname);
    exit(status);
}

/* Report a failed shmkit call: the error and, when the library recorded
 * one, the detail, e.g. "/weather-demo: not a shmkit segment (bad magic)". */
static int report(const char *spec, int code)
{
    const char *detail = shmkit_error_detail();

    if (detail[0] != '\0')
        fprintf(stderr, "%s: %s: %s (%s)\n", progname, spec, shmkit_strerror(code), detail);
    else
        fprintf(stderr, "%s: %s: %s\n", progname, spec, shmkit_strerror(code));
    return 1;
}

/* Parse a whole number in [MIN, MAX], or exit. */
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

    o->spec = "/weather-demo";
    o->station = 10384;
    o->temp_c = 21.5;
    o->name = "Tempelhof";
    for (i = 1; i < argc; i++) {
        const char *opt = argv[i];

        if (strcmp(opt, "--help") == 0 || strcmp(opt, "-h") == 0)
            usage(0);
        if (opt[0] != '-') {          /* the spec, last */
            if (i + 1 != argc)
                usage(2);
            o->spec = opt;
            break;
        }
        if (i + 1 >= argc || opt[1] == '\0' || opt[2] != '\0')
            usage(2);
        i++;
        switch (opt[1]) {
        case 's': o->station = parse_number(argv[i], 0, 0x7fffffffL, "station"); break;
        case 't': o->temp_c = parse_real(argv[i], "temperature"); break;
        case 'n': o->name = argv[i]; break;
        default: usage(2);
        }
    }
}

int main(int argc, char **argv)
{
    struct options o;
    struct weather record;
    shmkit_slot *slot;
    uint64_t version;
    int rc;

    parse_options(argc, argv, &o);

    /* Create the slot, or open it if it exists, as its writer.  Giving
     * both the layout and sizeof(struct weather) makes the library check
     * that they agree (SHMKIT_ESIZE otherwise), and an existing slot must
     * have the same layout (SHMKIT_ELAYOUT).  0600: owner only. */
    rc = shmkit_slot_create(&slot, o.spec, WEATHER_LAYOUT, sizeof record, 0600, 0);
    if (rc < 0)
        return report(o.spec, rc);

    /* Publish the record.  Readers see either the previous record or this
     * one, whole, never a mix. */
    weather_fill(&record, (uint32_t)o.station, (float)o.temp_c, o.name);
    rc = shmkit_slot_write(slot, &record, sizeof record);
    if (rc < 0) {
        report(o.spec, rc);
        shmkit_slot_close(slot);
        return 1;
    }
    rc = shmkit_slot_version(slot, &version);
    if (rc < 0) {
        report(o.spec, rc);
        shmkit_slot_close(slot);
        return 1;
    }
    printf("wrote station %lu to %s (version %llu)\n", (unsigned long)record.station,
           o.spec, (unsigned long long)version);

    /* Release the handle and the writer lease; the segment stays. */
    shmkit_slot_close(slot);
    return 0;
}
