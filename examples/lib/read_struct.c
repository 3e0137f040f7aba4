/*
 * read_struct.c - read the C struct that write_struct published with
 * libshmkit, and optionally remove the segment.
 *
 *   usage: read_struct [--remove] [SPEC]
 *
 *   SPEC      the segment (default /weather-demo), as given to write_struct
 *   --remove  remove the segment after reading it
 *
 * It prints a "# version N" line and then the record as "field=value"
 * lines, the same lines that "shmkit-read SPEC" prints.
 *
 * Compare with examples/raw/read_struct.c: opening validates the whole
 * header (a foreign segment, a segment of the wrong size and a half-created
 * segment are refused with a precise error), the mapping is read-only, the
 * read is never torn, and the version tells whether the record is new.
 *
 * Copyright (c) 2026 The shmkit authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shmkit.h>

#include "../weather.h"

static const char *progname = "read_struct";

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

/* 0 if SLOT holds struct weather records, else an error code.  The header
 * was validated by shmkit_slot_open(); this checks that the slot is the
 * one this program expects: same layout, so the same struct. */
static int check_layout(const shmkit_slot *slot)
{
    const shmkit_layout *theirs = shmkit_slot_layout(slot);
    shmkit_layout *ours;
    int rc, same;

    if (theirs == NULL)     /* a raw slot: no layout to compare */
        return SHMKIT_ELAYOUT;
    /* Parse ours to get its canonical text, which is what the header stores. */
    rc = shmkit_layout_parse(&ours, WEATHER_LAYOUT);
    if (rc < 0)
        return rc;
    same = strcmp(shmkit_layout_text(ours), shmkit_layout_text(theirs)) == 0
           && shmkit_layout_size(ours) == sizeof(struct weather);
    shmkit_layout_free(ours);
    return same ? 0 : SHMKIT_ELAYOUT;
}

int main(int argc, char **argv)
{
    const char *spec = "/weather-demo";
    struct weather record;
    shmkit_slot *slot;
    uint64_t version;
    int remove = 0;
    int rc, i;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--remove") == 0) {
            remove = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: %s [--remove] [SPEC]\n", progname);
            return 0;
        } else if (argv[i][0] != '-' && i + 1 == argc) {
            spec = argv[i];
        } else {
            fprintf(stderr, "usage: %s [--remove] [SPEC]\n", progname);
            return 2;
        }
    }

    /* Open read-only (flags 0): maps the segment with PROT_READ or
     * SHM_RDONLY after checking its size and validating its header. */
    rc = shmkit_slot_open(&slot, spec, 0);
    if (rc < 0)
        return report(spec, rc);

    rc = check_layout(slot);
    if (rc < 0) {
        const shmkit_layout *layout = shmkit_slot_layout(slot);
        fprintf(stderr, "%s: %s: holds \"%s\", not struct weather records\n", progname,
                spec, layout != NULL ? shmkit_layout_text(layout) : "raw records");
        shmkit_slot_close(slot);
        return 1;
    }

    /* Copy the latest record.  The library retries (a bounded number of
     * times) if the writer replaced it during the copy, so RECORD is
     * always one whole record, and VERSION says which. */
    rc = shmkit_slot_read(slot, &record, sizeof record, &version);
    if (rc < 0) {
        report(spec, rc);
        shmkit_slot_close(slot);
        return 1;
    }
    shmkit_slot_close(slot);

    printf("# version %llu\n", (unsigned long long)version);
    weather_print(stdout, &record);

    if (remove) {
        rc = shmkit_unlink(spec);
        if (rc < 0)
            return report(spec, rc);
    }
    return 0;
}
