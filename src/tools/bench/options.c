/*
 * options.c - the command line of "shmkit bench".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-int.h"
#include "bench.h"

enum {
    OPT_HELP = 1, OPT_SIZES, OPT_TP_SIZES, OPT_DURATION, OPT_ROWS, OPT_ONLY, OPT_MODES,
    OPT_BACKEND, OPT_QUICK, OPT_PIN, OPT_CSV, OPT_JSON
};

static const struct tool_option bench_options[] = {
    { OPT_HELP, 'h', "help", 0 },
    { OPT_SIZES, 0, "sizes", 1 },
    { OPT_TP_SIZES, 0, "throughput-sizes", 1 },
    { OPT_DURATION, 0, "duration", 1 },
    { OPT_ROWS, 0, "rows", 1 },
    { OPT_ONLY, 0, "only", 1 },
    { OPT_MODES, 0, "modes", 1 },
    { OPT_BACKEND, 0, "backend", 1 },
    { OPT_QUICK, 0, "quick", 0 },
    { OPT_PIN, 0, "pin", 0 },
    { OPT_CSV, 0, "csv", 1 },
    { OPT_JSON, 0, "json", 0 },
    { 0, 0, NULL, 0 }
};

/* Split a comma-separated LIST; call FN on each item (0, or -1 if the
 * item is bad).  A bad list gets a usage message that names the option
 * and says what HINT allows. */
static tool_status for_each_item(const char *list, const char *option, const char *hint,
                                 int (*fn)(const char *item, void *ctx), void *ctx)
{
    char buf[512], *item, *save = NULL;

    if (strlen(list) >= sizeof buf)
        return tool_usage_error("%s: list too long", option);
    snprintf(buf, sizeof buf, "%s", list);
    if (buf[0] == '\0')
        return tool_usage_error("%s: empty list", option);
    for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save))
        if (fn(item, ctx) < 0)
            return tool_usage_error("%s: '%s' is not %s", option, item, hint);
    return TOOL_GO_ON;
}

#define SIZE_HINT "a size of 8 bytes .. 64M (suffixes k, M), at most 16 sizes"

struct size_list {
    size_t *sizes;
    int *n;
};

static int add_size(const char *item, void *ctx)
{
    struct size_list *l = ctx;
    size_t size;

    if (*l->n == MAX_SIZES || tool_parse_bytes(item, MIN_SIZE, MAX_SIZE, &size) != 0)
        return -1;
    l->sizes[(*l->n)++] = size;
    return 0;
}

static int add_section(const char *item, void *ctx)
{
    unsigned *bits = ctx;

    if (strcmp(item, "latency") == 0)
        *bits |= S_LATENCY;
    else if (strcmp(item, "throughput") == 0)
        *bits |= S_THROUGHPUT;
    else if (strcmp(item, "idle") == 0)
        *bits |= S_IDLE;
    else if (strcmp(item, "fanout") == 0)
        *bits |= S_FANOUT;
    else if (strcmp(item, "follow") == 0)
        *bits |= S_FOLLOW;
    else
        return -1;
    return 0;
}

static int add_transport(const char *item, void *ctx)
{
    unsigned *bits = ctx;
    int t;

    if (strcmp(item, "raw") == 0) {
        *bits |= 1u << T_RAW_ATOMIC | 1u << T_RAW_WAIT;
        return 0;
    }
    if (strcmp(item, "mq") == 0) {
        *bits |= 1u << T_POSIX_MQ | 1u << T_SYSV_MQ;
        return 0;
    }
    for (t = 0; t < T_COUNT; t++)
        if (strcmp(item, transport_names[t]) == 0) {
            *bits |= 1u << t;
            return 0;
        }
    return -1;
}

static int add_mode(const char *item, void *ctx)
{
    unsigned *bits = ctx;
    int m;

    for (m = 0; m < MODE_BITS; m++)
        if (strcmp(item, mode_name(m)) == 0) {
            *bits |= 1u << m;
            return 0;
        }
    return -1;
}

static int parse_duration(const char *text, double *seconds)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(v >= 0.001 && v <= 3600.0))
        return -1;
    *seconds = v;
    return 0;
}

static void default_options(struct options *opt)
{
    static const size_t lat[] = { 32, 64, 4 * KIB, 64 * KIB };
    static const size_t tp[] = { 64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB };

    memset(opt, 0, sizeof *opt);
    memcpy(opt->lat_sizes, lat, sizeof lat);
    opt->n_lat = 4;
    memcpy(opt->tp_sizes, tp, sizeof tp);
    opt->n_tp = 8;
    opt->duration = 0.5;
    opt->idle_seconds = 1.0;
    opt->sections = S_LATENCY | S_THROUGHPUT | S_IDLE | S_FANOUT | S_FOLLOW;
    opt->only = (1u << T_COUNT) - 1;
    opt->modes = (1u << MODE_BITS) - 1;
    opt->backend = shmkit_backend_available(SHMKIT_BACKEND_POSIX) ? SHMKIT_BACKEND_POSIX
                                                                  : SHMKIT_BACKEND_SYSV;
    opt->min_count = 1000;
    opt->max_samples = 1u << 21;
    opt->memcpy_pool = 64 * MIB;
}

/* --quick: a fraction of a second in all, for tests; explicit options
 * still win.  The peer rows start a daemon: only when --only names them. */
static void quick_options(struct options *opt, int sizes_given, int tp_given, int dur_given,
                          int only_given)
{
    static const size_t lat[] = { 32, 64, 4 * KIB };
    static const size_t tp[] = { 64, 64 * KIB };

    if (!sizes_given) {
        memcpy(opt->lat_sizes, lat, sizeof lat);
        opt->n_lat = 3;
    }
    if (!tp_given) {
        memcpy(opt->tp_sizes, tp, sizeof tp);
        opt->n_tp = 2;
    }
    if (!dur_given)
        opt->duration = 0.005;
    opt->idle_seconds = 0.02;
    opt->min_count = 20;
    opt->max_samples = 1u << 16;
    opt->memcpy_pool = 4 * MIB;
    if (!only_given)
        opt->only &= ~(1u << T_ICEORYX);
}

/* The command line as it is read: the lists go to OPT or, for the
 * selections, replace its defaults at the end; what was given is kept
 * for --quick. */
struct parsing {
    struct options *opt;
    struct size_list lat, tp;
    unsigned sections, only, modes;
    int sizes_given, tp_given, dur_given;
};

static tool_status take_backend(struct options *opt, const char *arg)
{
    if (strcmp(arg, "posix") == 0)
        opt->backend = SHMKIT_BACKEND_POSIX;
    else if (strcmp(arg, "sysv") == 0)
        opt->backend = SHMKIT_BACKEND_SYSV;
    else
        return tool_usage_error("--backend: '%s' is not posix or sysv", arg);
    if (!shmkit_backend_available(opt->backend))
        return tool_usage_error("--backend: %s is not in this build", arg);
    return TOOL_GO_ON;
}

/* The flag that option ID sets, or NULL. */
static int *flag_of(struct options *opt, int id)
{
    switch (id) {
    case OPT_QUICK: return &opt->quick;
    case OPT_PIN: return &opt->pin;
    case OPT_JSON: return &opt->json;
    default: return NULL;
    }
}

/* Handle option ID (its argument in ARG) for the parsing CTX. */
static tool_status take_option(void *ctx, int id, const char *arg)
{
    struct parsing *p = ctx;
    int *flag = flag_of(p->opt, id);

    if (flag != NULL) {
        *flag = 1;
        return TOOL_GO_ON;
    }
    switch (id) {
    case OPT_HELP:
        fputs("usage: " BENCH_SYNOPSIS "\n\n" BENCH_HELP, stdout);
        return tool_close_stdout(TOOL_EXIT_OK);
    case OPT_SIZES:
        p->opt->n_lat = 0;
        p->sizes_given = 1;
        return for_each_item(arg, "--sizes", SIZE_HINT, add_size, &p->lat);
    case OPT_TP_SIZES:
        p->opt->n_tp = 0;
        p->tp_given = 1;
        return for_each_item(arg, "--throughput-sizes", SIZE_HINT, add_size, &p->tp);
    case OPT_DURATION:
        if (parse_duration(arg, &p->opt->duration) < 0)
            return tool_usage_error("--duration: '%s' is not 0.001 .. 3600 seconds", arg);
        p->dur_given = 1;
        return TOOL_GO_ON;
    case OPT_ROWS:
        return for_each_item(arg, "--rows", "latency, throughput, idle, fanout or follow", add_section,
                             &p->sections);
    case OPT_ONLY:
        return for_each_item(arg, "--only", "a transport (see --help)", add_transport,
                             &p->only);
    case OPT_MODES:
        return for_each_item(arg, "--modes", "adaptive, spin or block", add_mode, &p->modes);
    case OPT_BACKEND:
        return take_backend(p->opt, arg);
    default: /* OPT_CSV */
        p->opt->csv = arg;
        return TOOL_GO_ON;
    }
}

tool_status parse_options(int argc, char **argv, struct options *opt)
{
    struct tool_args args;
    struct parsing p;
    tool_status status;

    default_options(opt);
    memset(&p, 0, sizeof p);
    p.opt = opt;
    p.lat.sizes = opt->lat_sizes;
    p.lat.n = &opt->n_lat;
    p.tp.sizes = opt->tp_sizes;
    p.tp.n = &opt->n_tp;
    tool_args_init(&args, argc, argv);
    if ((status = tool_take_options(&args, bench_options, take_option, &p)) != TOOL_GO_ON)
        return status;
    if (args.index < argc)
        return tool_usage_error("unexpected argument '%s'", argv[args.index]);
    if (p.sections != 0)
        opt->sections = p.sections;
    if (p.only != 0)
        opt->only = p.only;
    if (p.modes != 0)
        opt->modes = p.modes;
    /* Fan-out rows: the modes selected when --rows or --modes asks for
     * them, the adaptive ones alone in the default run (under 2 s). */
    opt->fanout_modes = p.sections != 0 || p.modes != 0 ? opt->modes
                                                       : 1u << SHMKIT_WAIT_ADAPTIVE;
    if (opt->quick)
        quick_options(opt, p.sizes_given, p.tp_given, p.dur_given, p.only != 0);
    opt->warmup = opt->duration / 10 < 0.002 ? 0.002 : opt->duration / 10;
    return TOOL_GO_ON;
}

int selected(const struct options *opt, int transport)
{
    return (opt->only >> transport) & 1u;
}

int paired_modes(const struct options *opt)
{
    unsigned pair = 1u << SHMKIT_WAIT_ADAPTIVE | 1u << SHMKIT_WAIT_SPIN;

    return (opt->modes & pair) == pair;
}
