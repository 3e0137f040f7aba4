/*
 * shmkit-write - publish one record into a shmkit slot, creating the slot
 * when asked to.
 *
 * Everything that can be checked without the segment (options, spec,
 * layout, FIELD=VALUE assignments, raw input of a known size) is checked
 * before the segment is touched, so a typo never leaves a half-made slot.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmkit.h"
#include "tool.h"

static const char synopsis[] =
    "shmkit-write [-L LAYOUT | -s SIZE] [-m MODE] [-x] [--raw] SPEC [FIELD=VALUE ...]";

enum { OPT_LAYOUT = 1, OPT_SIZE, OPT_MODE, OPT_EXCL, OPT_RAW, OPT_HELP, OPT_VERSION };

static const struct tool_option options[] = {
    { OPT_LAYOUT, 'L', "layout", 1 },
    { OPT_SIZE, 's', "size", 1 },
    { OPT_MODE, 'm', "mode", 1 },
    { OPT_EXCL, 'x', "exclusive", 0 },
    { OPT_RAW, 0, "raw", 0 },
    { OPT_HELP, 'h', "help", 0 },
    { OPT_VERSION, 'V', "version", 0 },
    { 0, 0, NULL, 0 }
};

/* What the command line asks for. */
struct request {
    const char *spec;
    const char *layout_text;  /* -L, or NULL */
    size_t size;              /* -s, or 0 */
    unsigned mode;            /* -m, or 0 for the library's default 0600 */
    int have_mode;
    int exclusive;            /* -x */
    int raw;                  /* --raw */
    char **assignments;       /* FIELD=VALUE operands */
    int assignment_count;
};

/* What was prepared from it before touching the segment. */
struct prepared {
    shmkit_layout *layout;    /* parsed -L, or NULL */
    unsigned char *input;     /* --raw bytes read in advance, or NULL */
};

static void print_help(void)
{
    printf("usage: %s\n\n", synopsis);
    fputs(
        "Publish one record into the shmkit slot SPEC (\"/NAME\", \"sysv:PATH:PROJ\",\n"
        "\"sysv:0xKEY\"; see shmkit(1)).  Fields named by FIELD=VALUE are updated,\n"
        "the others keep their current value; without assignments the current\n"
        "record is published again under a new version.\n"
        "\n"
        "  -L, --layout=LAYOUT  record layout, e.g. \"id:u32 temp:f64 name:char[16]\";\n"
        "                       creates the slot if needed, else must match it\n"
        "  -s, --size=SIZE      raw record of SIZE bytes; creates the slot if needed,\n"
        "                       else must match it\n"
        "  -m, --mode=MODE      permission bits of a new slot, octal (default 0600)\n"
        "  -x, --exclusive      fail if the slot already exists\n"
        "      --raw            read the record's bytes from standard input\n"
        "  -h, --help           show this help and exit\n"
        "  -V, --version        show the version and exit\n"
        "\n"
        "Exit status: 0 ok, 1 runtime error, 2 usage error, 3 no such segment,\n"
        "5 incompatible or corrupt segment.\n",
        stdout);
}

/* Parse options and operands into REQ.  Returns -1 to go on, or the exit
 * status (for --help, --version and usage errors). */
static int parse_command_line(int argc, char **argv, struct request *req)
{
    struct tool_args args;
    int id;

    memset(req, 0, sizeof *req);
    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, options)) > 0) {
        switch (id) {
        case OPT_LAYOUT:
            req->layout_text = args.arg;
            break;
        case OPT_SIZE:
            if (tool_parse_size(args.arg, &req->size) != 0)
                return tool_usage_error("bad size '%s' (expected 1 to %u bytes)",
                                        args.arg, (unsigned)SHMKIT_RECORD_MAX);
            break;
        case OPT_MODE:
            /* 0 would mean "default" to the library, so refuse it rather
             * than silently create a 0600 slot. */
            if (tool_parse_mode(args.arg, &req->mode) != 0 || req->mode == 0)
                return tool_usage_error("bad mode '%s' (expected octal 1 to 0777)",
                                        args.arg);
            req->have_mode = 1;
            break;
        case OPT_EXCL:
            req->exclusive = 1;
            break;
        case OPT_RAW:
            req->raw = 1;
            break;
        case OPT_HELP:
            print_help();
            return tool_close_stdout(TOOL_EXIT_OK);
        case OPT_VERSION:
            return tool_close_stdout(tool_print_version());
        }
    }
    if (id == TOOL_OPT_ERROR)
        return TOOL_EXIT_USAGE;
    if (args.index >= argc)
        return tool_usage_error("missing SPEC");
    req->spec = argv[args.index];
    req->assignments = argv + args.index + 1;
    req->assignment_count = argc - args.index - 1;
    return -1;
}

/* Option combinations that make no sense, whatever the segment holds. */
static int check_combinations(const struct request *req)
{
    int i;

    if (req->layout_text != NULL && req->size != 0)
        return tool_usage_error("give either -L or -s, not both");
    if ((req->exclusive || req->have_mode) && req->layout_text == NULL && req->size == 0)
        return tool_usage_error("%s only applies when creating: give -L LAYOUT or -s SIZE",
                                req->exclusive ? "-x" : "-m");
    if (req->raw && req->assignment_count > 0)
        return tool_usage_error("--raw takes no FIELD=VALUE assignments");
    if (req->size != 0 && req->assignment_count > 0)
        return tool_usage_error("a raw slot (-s) has no fields to assign");
    for (i = 0; i < req->assignment_count; i++) {
        const char *equals = strchr(req->assignments[i], '=');
        if (equals == NULL || equals == req->assignments[i])
            return tool_usage_error("'%s' is not FIELD=VALUE", req->assignments[i]);
    }
    return -1;
}

/* Apply every assignment to RECORD; on failure report it and return the
 * exit status, else -1. */
static int apply_assignments(const struct request *req, const shmkit_layout *layout,
                             void *record)
{
    int i, rc;

    for (i = 0; i < req->assignment_count; i++) {
        rc = shmkit_layout_assign(layout, record, req->assignments[i]);
        if (rc < 0)
            return tool_fail(req->spec, req->assignments[i], rc);
    }
    return -1;
}

/* Read exactly SIZE bytes from stdin into a new buffer.  Returns -1 and
 * sets *BUFP, or the exit status after reporting the problem. */
static int read_input(const struct request *req, size_t size, unsigned char **bufp)
{
    unsigned char *buf = malloc(size);
    size_t got;

    if (buf == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
    got = fread(buf, 1, size, stdin);
    if (ferror(stdin)) {
        int saved = errno;
        free(buf);
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "reading standard input: %s",
                          strerror(saved));
    }
    if (got < size || getchar() != EOF) {
        free(buf);
        if (got < size)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec,
                              "expected %zu bytes, got %zu on standard input", size, got);
        return tool_error(TOOL_EXIT_RUNTIME, req->spec,
                          "expected %zu bytes, got more on standard input", size);
    }
    *bufp = buf;
    return -1;
}

/* Parse -L, rehearse the assignments on a scratch record and read --raw
 * input of a known size, all before any segment is touched. */
static int prepare(const struct request *req, struct prepared *prep)
{
    size_t size = req->size;
    int rc;

    if (req->layout_text != NULL) {
        void *scratch;
        rc = shmkit_layout_parse(&prep->layout, req->layout_text);
        if (rc < 0)
            return tool_fail(req->spec, "-L", rc);
        size = shmkit_layout_size(prep->layout);
        scratch = calloc(1, size);
        if (scratch == NULL)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
        rc = apply_assignments(req, prep->layout, scratch);
        free(scratch);
        if (rc >= 0)
            return rc;
    }
    if (req->raw && size != 0)
        return read_input(req, size, &prep->input);
    return -1;
}

/* Open the slot as its writer, creating it if -L or -s say how. */
static int open_slot(const struct request *req, const struct prepared *prep,
                     shmkit_slot **slotp)
{
    int rc;

    if (req->layout_text == NULL && req->size == 0) {
        rc = shmkit_slot_open(slotp, req->spec, SHMKIT_WRITE);
        if (rc == -ENOENT)
            return tool_error(TOOL_EXIT_USAGE, req->spec,
                              "no such segment; give -L LAYOUT or -s SIZE to create it");
        return rc < 0 ? tool_fail(req->spec, NULL, rc) : -1;
    }
    /* Without SHMKIT_EXCL the library opens an existing slot instead and
     * checks that its layout or size matches ours. */
    rc = shmkit_slot_create(slotp, req->spec,
                            prep->layout != NULL ? shmkit_layout_text(prep->layout) : NULL,
                            prep->layout != NULL ? 0 : req->size, req->mode,
                            req->exclusive ? SHMKIT_EXCL : 0);
    if (rc == -EEXIST)
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "already exists");
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : -1;
}

/* Build the new record in RECORD (the slot's record size) and publish it. */
static int publish(const struct request *req, struct prepared *prep, shmkit_slot *slot,
                   unsigned char *record)
{
    size_t size = shmkit_slot_record_size(slot);
    const shmkit_layout *layout = shmkit_slot_layout(slot);
    int rc;

    if (req->raw) {
        if (prep->input == NULL && (rc = read_input(req, size, &prep->input)) >= 0)
            return rc;
        memcpy(record, prep->input, size);
    } else {
        if (req->assignment_count > 0 && layout == NULL)
            return tool_error(TOOL_EXIT_USAGE, req->spec,
                              "raw slot has no fields; use --raw to write its bytes");
        /* Read-modify-write as the lease holder: nobody else can publish
         * between the read and the write. */
        rc = shmkit_slot_read(slot, record, size, NULL);
        if (rc < 0)
            return tool_fail(req->spec, NULL, rc);
        if (layout != NULL && (rc = apply_assignments(req, layout, record)) >= 0)
            return rc;
    }
    rc = shmkit_slot_write(slot, record, size);
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : TOOL_EXIT_OK;
}

static int run(const struct request *req)
{
    struct prepared prep = { NULL, NULL };
    shmkit_slot *slot = NULL;
    unsigned char *record = NULL;
    int status = prepare(req, &prep);

    if (status < 0)
        status = open_slot(req, &prep, &slot);
    if (status < 0) {
        record = malloc(shmkit_slot_record_size(slot));
        status = record != NULL ? publish(req, &prep, slot, record)
                                : tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
    }
    free(record);
    if (slot != NULL)
        shmkit_slot_close(slot);
    free(prep.input);
    if (prep.layout != NULL)
        shmkit_layout_free(prep.layout);
    return status;
}

int main(int argc, char **argv)
{
    struct request req;
    int status, rc;

    tool_init("shmkit-write", synopsis);
    status = parse_command_line(argc, argv, &req);
    if (status >= 0)
        return status;
    status = check_combinations(&req);
    if (status >= 0)
        return status;
    rc = shmkit_spec_check(req.spec);
    if (rc < 0)
        return tool_fail(req.spec, NULL, rc);
    return run(&req);
}
