/*
 * tool-args.c - the command line of the shmkit programs: options (a
 * portable getopt_long), operands and the values of options.
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
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "shmkit.h"

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
TOOL_PRINTF(1, 2) static int option_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tool_usage_verror(fmt, ap);
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
    if (opt->has_arg == 2) {             /* --name or --name=VALUE */
        args->arg = equals != NULL ? equals + 1 : NULL;
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
    if (opt->has_arg != 1)
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

tool_status tool_take_options(struct tool_args *args, const struct tool_option *options,
                              tool_status (*take)(void *ctx, int id, const char *arg),
                              void *ctx)
{
    tool_status status;
    int id;

    while ((id = tool_next_option(args, options)) > 0)
        if ((status = take(ctx, id, args->arg)) != TOOL_GO_ON)
            return status;
    return id == TOOL_OPT_ERROR ? TOOL_EXIT_USAGE : TOOL_GO_ON;
}

tool_status tool_spec_operand(const struct tool_args *args, const char *cmd, int alone,
                              const char **spec)
{
    if (args->index >= args->argc)
        return tool_usage_error("%smissing SPEC", cmd);
    if (alone && args->index + 1 < args->argc)
        return tool_usage_error("%sunexpected argument '%s'", cmd,
                                args->argv[args->index + 1]);
    *spec = args->argv[args->index];
    return TOOL_GO_ON;
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

/* Digits only, as strtoull would accept signs and blanks.  Returns the
 * value of the leading digits and points *END after them; -1 if there are
 * none or they overflow. */
static int parse_digits(const char *text, unsigned long long *value, const char **end)
{
    size_t n = strspn(text, "0123456789");
    unsigned long long v = 0;
    size_t i;

    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        unsigned digit = (unsigned)(text[i] - '0');
        if (v > (ULLONG_MAX - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *value = v;
    *end = text + n;
    return 0;
}

int tool_parse_bytes(const char *text, size_t min, size_t max, size_t *bytes)
{
    unsigned long long value, unit = 1;
    const char *end;

    if (parse_digits(text, &value, &end) != 0)
        return -1;
    switch (*end) {
    case '\0': break;
    case 'k': case 'K': unit = 1ull << 10; end++; break;
    case 'm': case 'M': unit = 1ull << 20; end++; break;
    case 'g': case 'G': unit = 1ull << 30; end++; break;
    default: return -1;
    }
    if (*end != '\0' || value > ULLONG_MAX / unit)
        return -1;
    value *= unit;
    if (value < min || value > max)
        return -1;
    *bytes = (size_t)value;
    return 0;
}

int tool_parse_count(const char *text, uint64_t *count)
{
    unsigned long long value;
    const char *end;

    if (parse_digits(text, &value, &end) != 0 || *end != '\0' || value == 0)
        return -1;
    *count = (uint64_t)value;
    return 0;
}

int tool_parse_seconds(const char *text, int *ms)
{
    unsigned long long whole = 0, millis = 0;
    const char *p = text;
    int places = 0, nonzero_beyond = 0;

    /* "2", "2.", "0.5", ".5"; not "." nor "". */
    if (*p != '.' && parse_digits(p, &whole, &p) != 0)
        return -1;
    if (*p == '.') {
        p++;
        if (p == text + 1 && (*p < '0' || *p > '9'))
            return -1;
        for (; *p >= '0' && *p <= '9'; p++, places++) {
            if (places < 3)
                millis = millis * 10 + (unsigned)(*p - '0');
            else if (*p != '0')
                nonzero_beyond = 1;
        }
        for (; places < 3; places++)
            millis *= 10;
    }
    if (*p != '\0' || whole > TOOL_MAX_TIMEOUT_S)
        return -1;
    millis += whole * 1000 + (unsigned)nonzero_beyond;
    if (millis > (unsigned long long)TOOL_MAX_TIMEOUT_S * 1000)
        return -1;
    *ms = (int)millis;
    return 0;
}

tool_status tool_take_timeout(const char *text, int *ms)
{
    if (tool_parse_seconds(text, ms) != 0)
        return tool_usage_error("bad timeout '%s' (expected seconds from 0 to %d, "
                                "e.g. 2 or 0.5)", text, TOOL_MAX_TIMEOUT_S);
    return TOOL_GO_ON;
}
