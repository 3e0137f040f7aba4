/*
 * shmkit-read - print the current record of a shmkit slot as FIELD=VALUE
 * lines, JSON, a hex dump or raw bytes.
 *
 * The slot is opened read-only: reading never changes the segment.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmkit.h"
#include "tool.h"

static const char synopsis[] = "shmkit-read [-j|--json] [--hex] [--raw] SPEC";

enum { OPT_JSON = 1, OPT_HEX, OPT_RAW, OPT_HELP, OPT_VERSION };

static const struct tool_option options[] = {
    { OPT_JSON, 'j', "json", 0 },
    { OPT_HEX, 0, "hex", 0 },
    { OPT_RAW, 0, "raw", 0 },
    { OPT_HELP, 'h', "help", 0 },
    { OPT_VERSION, 'V', "version", 0 },
    { 0, 0, NULL, 0 }
};

/* Output formats; DEFAULT is text for layout slots and hex for raw ones. */
enum format { FORMAT_DEFAULT, FORMAT_JSON, FORMAT_HEX, FORMAT_RAW };

static void print_help(void)
{
    printf("usage: %s\n\n", synopsis);
    fputs(
        "Print the current record of the shmkit slot SPEC (\"/NAME\",\n"
        "\"sysv:PATH:PROJ\", \"sysv:0xKEY\"; see shmkit(1)): one FIELD=VALUE line per\n"
        "field for slots with a layout, a hex dump for raw slots.\n"
        "\n"
        "  -j, --json      one JSON object (slots with a layout only)\n"
        "      --hex       hex dump of the record's bytes\n"
        "      --raw       the record's bytes as they are\n"
        "  -h, --help      show this help and exit\n"
        "  -V, --version   show the version and exit\n"
        "\n"
        "Exit status: 0 ok, 1 runtime error, 2 usage error, 3 no such segment,\n"
        "5 incompatible or corrupt segment.\n",
        stdout);
}

/* Parse the command line into *FORMAT and *SPEC.  Returns -1 to go on, or
 * the exit status. */
static int parse_command_line(int argc, char **argv, enum format *format,
                              const char **spec)
{
    struct tool_args args;
    int id;

    *format = FORMAT_DEFAULT;
    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, options)) > 0) {
        enum format chosen;
        switch (id) {
        case OPT_HELP:
            print_help();
            return tool_close_stdout(TOOL_EXIT_OK);
        case OPT_VERSION:
            return tool_close_stdout(tool_print_version());
        default:
            chosen = id == OPT_JSON ? FORMAT_JSON : id == OPT_HEX ? FORMAT_HEX : FORMAT_RAW;
            if (*format != FORMAT_DEFAULT && *format != chosen)
                return tool_usage_error("choose one of --json, --hex and --raw");
            *format = chosen;
        }
    }
    if (id == TOOL_OPT_ERROR)
        return TOOL_EXIT_USAGE;
    if (args.index >= argc)
        return tool_usage_error("missing SPEC");
    if (args.index + 1 < argc)
        return tool_usage_error("unexpected argument '%s'", argv[args.index + 1]);
    *spec = argv[args.index];
    return -1;
}

typedef int formatter(const shmkit_layout *, const void *, char *, size_t);

/* Print RECORD through FORMAT (snprintf semantics), growing the buffer when
 * the stack one is too small.  Returns the exit status. */
static int print_formatted(const char *spec, formatter *format,
                           const shmkit_layout *layout, const void *record,
                           const char *end)
{
    char small[4096];
    char *text = small;
    int n = format(layout, record, small, sizeof small);

    if (n < 0)
        return tool_fail(spec, NULL, n);
    if ((size_t)n >= sizeof small) {
        text = malloc((size_t)n + 1);
        if (text == NULL)
            return tool_error(TOOL_EXIT_RUNTIME, spec, "out of memory");
        n = format(layout, record, text, (size_t)n + 1);
    }
    if (n >= 0) {
        fputs(text, stdout);
        fputs(end, stdout);
    }
    if (text != small)
        free(text);
    return n < 0 ? tool_fail(spec, NULL, n) : TOOL_EXIT_OK;
}

static int print_record(const char *spec, enum format format, const shmkit_layout *layout,
                        const unsigned char *record, size_t size)
{
    if (format == FORMAT_DEFAULT)
        format = layout != NULL ? FORMAT_DEFAULT : FORMAT_HEX;
    switch (format) {
    case FORMAT_RAW:
        fwrite(record, 1, size, stdout);
        return TOOL_EXIT_OK;
    case FORMAT_HEX:
        tool_hexdump(stdout, record, size);
        return TOOL_EXIT_OK;
    case FORMAT_JSON:
        /* A raw record has no fields to name; --hex and --raw show it. */
        if (layout == NULL)
            return tool_error(TOOL_EXIT_USAGE, spec,
                              "--json needs a slot with a layout; use --hex or --raw");
        return print_formatted(spec, shmkit_layout_to_json, layout, record, "\n");
    default:
        return print_formatted(spec, shmkit_layout_to_text, layout, record, "");
    }
}

static int read_slot(const char *spec, enum format format)
{
    shmkit_slot *slot;
    unsigned char *record;
    size_t size;
    int rc, status;

    rc = shmkit_slot_open(&slot, spec, 0);
    if (rc < 0)
        return tool_fail(spec, NULL, rc);
    size = shmkit_slot_record_size(slot);
    record = malloc(size);
    if (record == NULL) {
        status = tool_error(TOOL_EXIT_RUNTIME, spec, "out of memory");
    } else {
        rc = shmkit_slot_read(slot, record, size, NULL);
        status = rc < 0 ? tool_fail(spec, NULL, rc)
                        : print_record(spec, format, shmkit_slot_layout(slot), record, size);
    }
    free(record);
    shmkit_slot_close(slot);
    return status;
}

int main(int argc, char **argv)
{
    enum format format;
    const char *spec = NULL;
    int status, rc;

    tool_init("shmkit-read", synopsis);
    status = parse_command_line(argc, argv, &format, &spec);
    if (status >= 0)
        return status;
    rc = shmkit_spec_check(spec);
    if (rc < 0)
        return tool_fail(spec, NULL, rc);
    return tool_close_stdout(read_slot(spec, format));
}
