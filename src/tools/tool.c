/*
 * tool.c - helpers shared by the shmkit programs.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmkit.h"

static const char *prog_name = "shmkit";
static const char *prog_synopsis = "";

void tool_init(const char *prog, const char *synopsis)
{
    prog_name = prog;
    prog_synopsis = synopsis;
}

const char *tool_prog(void)
{
    return prog_name;
}

/* ---- exit statuses and messages ---------------------------------------- */

int tool_exit_status(int code)
{
    switch (code) {
    case 0:
        return TOOL_EXIT_OK;
    case -ENOENT:
        return TOOL_EXIT_NOENT;
    case -ETIMEDOUT:
        return TOOL_EXIT_TIMEDOUT;
    case SHMKIT_EBADSPEC:
    case SHMKIT_EBADLAYOUT:
    case SHMKIT_ENOFIELD:
    case SHMKIT_EBADVALUE:
    case SHMKIT_ERANGE:
    case SHMKIT_ETOOLONG:
        return TOOL_EXIT_USAGE;
    case SHMKIT_ENOTSHMKIT:
    case SHMKIT_EVERSION:
    case SHMKIT_EKIND:
    case SHMKIT_ESIZE:
    case SHMKIT_ELAYOUT:
    case SHMKIT_ECORRUPT:
    case SHMKIT_EHALFCREATED:
        return TOOL_EXIT_INCOMPATIBLE;
    default:
        /* Permissions, a busy writer, a missing backend, no memory: the
         * command was fine but could not be carried out here and now. */
        return TOOL_EXIT_RUNTIME;
    }
}

/* "PROG: " or "PROG: SPEC: " */
static void print_prefix(const char *spec)
{
    if (spec != NULL)
        fprintf(stderr, "%s: %s: ", prog_name, spec);
    else
        fprintf(stderr, "%s: ", prog_name);
}

int tool_fail(const char *spec, const char *context, int code)
{
    /* Copy the detail first: it is only valid until the next shmkit call,
     * and shmkit_strerror() is one. */
    char detail[256];
    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());

    print_prefix(spec);
    if (context != NULL)
        fprintf(stderr, "%s: ", context);
    fputs(shmkit_strerror(code), stderr);
    if (detail[0] != '\0')
        fprintf(stderr, " (%s)", detail);
    fputc('\n', stderr);
    return tool_exit_status(code);
}

int tool_error(int status, const char *spec, const char *fmt, ...)
{
    va_list ap;

    print_prefix(spec);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 0)))
#endif
static void print_usage_error(const char *fmt, va_list ap)
{
    print_prefix(NULL);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nusage: %s\nTry '%s --help' for more information.\n",
            prog_synopsis, prog_name);
}

int tool_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    print_usage_error(fmt, ap);
    va_end(ap);
    return TOOL_EXIT_USAGE;
}

int tool_print_version(void)
{
    printf("%s (shmkit) %s\n", prog_name, shmkit_version());
    return TOOL_EXIT_OK;
}

int tool_close_stdout(int status)
{
    /* ferror catches errors of earlier writes whose data was flushed long
     * ago; fclose catches the last buffer's. */
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int saved = errno;

    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed)
        return status;
    fprintf(stderr, "%s: write error on standard output: %s\n", prog_name,
            saved != 0 ? strerror(saved) : "unknown error");
    return TOOL_EXIT_RUNTIME;
}

/* ---- option parsing ---------------------------------------------------- */

void tool_args_init(struct tool_args *args, int argc, char **argv)
{
    args->argc = argc;
    args->argv = argv;
    args->index = 1;
    args->bundle = NULL;
    args->arg = NULL;
}

static const struct tool_option *find_short(const struct tool_option *options, char c)
{
    for (; options->id != 0; options++)
        if (options->short_name != 0 && options->short_name == c)
            return options;
    return NULL;
}

static const struct tool_option *find_long(const struct tool_option *options,
                                           const char *name, size_t len)
{
    for (; options->id != 0; options++)
        if (options->long_name != NULL && strlen(options->long_name) == len
            && memcmp(options->long_name, name, len) == 0)
            return options;
    return NULL;
}

/* A usage error inside the option parser. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int option_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    print_usage_error(fmt, ap);
    va_end(ap);
    return TOOL_OPT_ERROR;
}

/* "--name", "--name=value" or "--name value"; ARGV[INDEX - 1] is TEXT. */
static int next_long(struct tool_args *args, const struct tool_option *options,
                     const char *text)
{
    const char *name = text + 2;
    const char *equals = strchr(name, '=');
    size_t len = equals != NULL ? (size_t)(equals - name) : strlen(name);
    const struct tool_option *opt = find_long(options, name, len);

    if (opt == NULL)
        return option_error("unknown option '--%.*s'", (int)len, name);
    if (!opt->has_arg) {
        if (equals != NULL)
            return option_error("option '--%s' takes no argument", opt->long_name);
        return opt->id;
    }
    if (equals != NULL) {
        args->arg = equals + 1;
    } else if (args->index < args->argc) {
        args->arg = args->argv[args->index++];
    } else {
        return option_error("option '--%s' needs an argument", opt->long_name);
    }
    return opt->id;
}

/* The next letter of a bundle such as "-xm0640". */
static int next_short(struct tool_args *args, const struct tool_option *options)
{
    char c = *args->bundle++;
    const struct tool_option *opt = find_short(options, c);

    if (*args->bundle == '\0')
        args->bundle = NULL;
    if (opt == NULL)
        return option_error("unknown option '-%c'", c);
    if (!opt->has_arg)
        return opt->id;
    if (args->bundle != NULL) {          /* -mMODE */
        args->arg = args->bundle;
        args->bundle = NULL;
    } else if (args->index < args->argc) { /* -m MODE */
        args->arg = args->argv[args->index++];
    } else {
        return option_error("option '-%c' needs an argument", c);
    }
    return opt->id;
}

int tool_next_option(struct tool_args *args, const struct tool_option *options)
{
    const char *text;

    args->arg = NULL;
    if (args->bundle != NULL)
        return next_short(args, options);
    if (args->index >= args->argc)
        return TOOL_OPT_END;
    text = args->argv[args->index];
    if (text[0] != '-' || text[1] == '\0') /* an operand, or "-" */
        return TOOL_OPT_END;
    args->index++;
    if (text[1] == '-') {
        if (text[2] == '\0')                /* "--" */
            return TOOL_OPT_END;
        return next_long(args, options, text);
    }
    args->bundle = text + 1;
    return next_short(args, options);
}

/* ---- value parsing ----------------------------------------------------- */

int tool_parse_mode(const char *text, unsigned *mode)
{
    unsigned value = 0;
    const char *p;

    if (*text == '\0' || strlen(text) > 4)
        return -1;
    for (p = text; *p != '\0'; p++) {
        if (*p < '0' || *p > '7')
            return -1;
        value = value * 8 + (unsigned)(*p - '0');
    }
    if (value > 0777)
        return -1;
    *mode = value;
    return 0;
}

int tool_parse_size(const char *text, size_t *size)
{
    unsigned long long value;
    char *end;
    int base = 10;

    /* Digits only: strtoull would accept signs and blanks. */
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    if (*text == '\0' || strspn(text, base == 16 ? "0123456789abcdefABCDEF"
                                                 : "0123456789") != strlen(text))
        return -1;
    errno = 0;
    value = strtoull(text, &end, base);
    if (errno != 0 || *end != '\0' || value == 0 || value > SHMKIT_RECORD_MAX)
        return -1;
    *size = (size_t)value;
    return 0;
}

/* ---- hex dump ---------------------------------------------------------- */

static void hexdump_line(FILE *out, const unsigned char *bytes, size_t offset,
                         size_t n)
{
    size_t i;

    fprintf(out, "%08lx  ", (unsigned long)offset);
    for (i = 0; i < 16; i++) {
        if (i < n)
            fprintf(out, "%02x ", bytes[i]);
        else
            fputs("   ", out);
        if (i == 7)
            fputc(' ', out);
    }
    fputs(" |", out);
    for (i = 0; i < n; i++)
        fputc(bytes[i] >= 0x20 && bytes[i] < 0x7f ? bytes[i] : '.', out);
    fputs("|\n", out);
}

void tool_hexdump(FILE *out, const void *data, size_t len)
{
    const unsigned char *bytes = data;
    size_t offset;

    for (offset = 0; offset < len; offset += 16)
        hexdump_line(out, bytes + offset, offset, len - offset < 16 ? len - offset : 16);
    fprintf(out, "%08lx\n", (unsigned long)len);
}
