/*
 * results.c - the rows, notes, ratios and targets of a "shmkit bench" run.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench-int.h"

void add_note(struct bench_run *run, const char *fmt, ...)
{
    va_list ap;

    if (run->n_notes == MAX_NOTES)
        return;
    va_start(ap, fmt);
    vsnprintf(run->notes[run->n_notes++], NOTE_LEN, fmt, ap);
    va_end(ap);
}

struct result *new_result(struct bench_run *run, int section, int transport, int mode,
                          size_t size)
{
    struct result *r;

    if (run->n_results == MAX_RESULTS)
        return NULL;
    r = &run->results[run->n_results++];
    memset(r, 0, sizeof *r);
    r->section = section;
    r->transport = transport;
    r->mode = mode;
    r->size = size;
    r->cpu[0] = r->cpu[1] = -1.0;
    r->median = r->p10 = r->p90 = r->p99 = NAN;
    r->msgs_s = r->bytes_s = NAN;
    return r;
}

/* ------------------------------------------------------------------ */
/* Ratios                                                              */
/* ------------------------------------------------------------------ */

static const struct result *find_result(const struct bench_run *run, int section,
                                        int transport, int mode, size_t size)
{
    int i;

    for (i = 0; i < run->n_results; i++) {
        const struct result *r = &run->results[i];
        if (r->ok && r->section == section && r->transport == transport && r->mode == mode &&
            r->size == size)
            return r;
    }
    return NULL;
}

/* A / B, NAN if either is missing. */
static double ratio(double a, const struct result *b, int throughput)
{
    double d;

    if (b == NULL)
        return NAN;
    d = throughput ? b->msgs_s : b->median;
    return d > 0 && !isnan(a) ? a / d : NAN;
}

double x_raw_atomic(const struct bench_run *run, const struct result *r)
{
    return ratio(r->median, find_result(run, S_LATENCY, T_RAW_ATOMIC, NO_MODE, 0), 0);
}

double x_raw_wait(const struct bench_run *run, const struct result *r)
{
    return ratio(r->median, find_result(run, S_LATENCY, T_RAW_WAIT, NO_MODE, 0), 0);
}

double x_pipe(const struct bench_run *run, const struct result *r)
{
    if (r->section == S_LATENCY)
        return ratio(r->median, find_result(run, S_LATENCY, T_PIPE, NO_MODE, r->size), 0);
    return ratio(r->msgs_s, find_result(run, S_THROUGHPUT, T_PIPE, NO_MODE, r->size), 1);
}

double x_memcpy(const struct bench_run *run, const struct result *r)
{
    return ratio(r->msgs_s, find_result(run, S_THROUGHPUT, T_MEMCPY, NO_MODE, r->size), 1);
}

/* A spin row's median against the adaptive row of its transport and size
 * (the two are measured together, see sides.c). */
static double x_adaptive(const struct bench_run *run, const struct result *r)
{
    return ratio(r->median,
                 find_result(run, S_LATENCY, r->transport, SHMKIT_WAIT_ADAPTIVE, r->size), 0);
}

/* R's median as a multiple of iceoryx's round trip of the same size. */
static double x_iceoryx(const struct bench_run *run, const struct result *r)
{
    return ratio(r->median, find_result(run, S_LATENCY, T_ICEORYX, NO_MODE, r->size), 0);
}

static double cpu_of_side_a(const struct bench_run *run, const struct result *r)
{
    (void)run;
    return r->cpu[0];
}

/* ------------------------------------------------------------------ */
/* Targets                                                             */
/* ------------------------------------------------------------------ */

enum bound { AT_MOST, AT_LEAST, BELOW };

/* A goal for some transports: the row it judges (section, mode, size),
 * what is measured on it and the bound.  Its line in the report reads
 * "BEFORE<transport>AFTER". */
struct goal {
    int section, mode;
    size_t size;
    const char *before, *after, *goal;
    double (*measure)(const struct bench_run *run, const struct result *r);
    enum bound bound;
    double limit;
    int transports[3];    /* T_COUNT ends the list */
};

static const struct goal goals[] = {
    { S_LATENCY, SHMKIT_WAIT_ADAPTIVE, 64, "round trip 64 B, ", ", adaptive",
      "<= 2 x raw-atomic", x_raw_atomic, AT_MOST, 2.0, { T_SLOT, T_RING, T_RING_ZC } },
    { S_LATENCY, SHMKIT_WAIT_ADAPTIVE, 32, "round trip 32 B, ", ", adaptive",
      "<= 1.5 x raw-atomic", x_raw_atomic, AT_MOST, 1.5, { T_SLOT, T_RING, T_RING_ZC } },
    { S_LATENCY, SHMKIT_WAIT_SPIN, 64, "round trip 64 B, ", ", spin", "<= 1.0 x adaptive",
      x_adaptive, AT_MOST, 1.0, { T_SLOT, T_RING, T_RING_ZC } },
    { S_LATENCY, SHMKIT_WAIT_BLOCK, 64, "round trip 64 B, ", ", block",
      "<= 1.2 x raw-wait", x_raw_wait, AT_MOST, 1.2, { T_SLOT, T_RING, T_RING_ZC } },
    { S_THROUGHPUT, NO_MODE, 64, "throughput 64 B, ", "", ">= 50 x pipe", x_pipe, AT_LEAST,
      50.0, { T_RING, T_RING_ZC, T_COUNT } },
    { S_THROUGHPUT, NO_MODE, 64, "throughput 64 B, ", "", ">= 0.35 x memcpy", x_memcpy,
      AT_LEAST, 0.35, { T_RING, T_RING_ZC, T_COUNT } },
    { S_THROUGHPUT, NO_MODE, MIB, "throughput 1 MiB, ", " (copy)", ">= 0.4 x memcpy",
      x_memcpy, AT_LEAST, 0.4, { T_RING, T_COUNT } },
    { S_THROUGHPUT, NO_MODE, MIB, "throughput 1 MiB, ", "", ">= 0.8 x memcpy", x_memcpy,
      AT_LEAST, 0.8, { T_RING_ZC, T_COUNT } },
    { S_LATENCY, SHMKIT_WAIT_ADAPTIVE, 64, "round trip 64 B, ", ", adaptive",
      "<= 0.2 x iceoryx", x_iceoryx, AT_MOST, 0.2, { T_RING, T_COUNT } },
    { S_IDLE, SHMKIT_WAIT_ADAPTIVE, 64, "idle adaptive ", " reader, CPU %", "< 1 % of a core",
      cpu_of_side_a, BELOW, 1.0, { T_SLOT, T_RING, T_COUNT } },
    { S_FANOUT, SHMKIT_WAIT_ADAPTIVE, 64, "fan-out 64 B, ", ", 4 consumers, adaptive",
      ">= 0.5 x 1, per consumer", x_single_consumer, AT_LEAST, 0.5, { T_RING, T_COUNT } },
    { S_FOLLOW, SHMKIT_WAIT_ADAPTIVE, 64, "read-only follower wake-up, ", ", median us",
      "<= 100 us", follow_wake_us, AT_MOST, 100.0, { T_SLOT, T_RING, T_COUNT } },
    { S_FOLLOW, SHMKIT_WAIT_ADAPTIVE, 0, "idle read-only follower, ", ", CPU %",
      "< 0.1 % of a core", cpu_of_side_a, BELOW, 0.1, { T_SLOT, T_RING, T_COUNT } },
};

static int within(const struct goal *g, double x)
{
    switch (g->bound) {
    case AT_MOST: return x <= g->limit;
    case AT_LEAST: return x >= g->limit;
    default: return x < g->limit;
    }
}

/* Judge goal G for TRANSPORT. */
static void add_target(struct bench_run *run, const struct goal *g, int transport)
{
    const struct result *r = find_result(run, g->section, transport, g->mode, g->size);
    double x = r != NULL ? g->measure(run, r) : NAN;
    struct target *t;

    if (run->n_targets == MAX_TARGETS)
        return;
    t = &run->targets[run->n_targets++];
    snprintf(t->what, sizeof t->what, "%s%s%s", g->before, transport_names[transport],
             g->after);
    snprintf(t->goal, sizeof t->goal, "%s", g->goal);
    t->measured = x;
    t->met = isnan(x) ? -1 : within(g, x);
}

void evaluate_targets(struct bench_run *run)
{
    size_t k, i;

    run->n_targets = 0;
    for (k = 0; k < sizeof goals / sizeof goals[0]; k++)
        for (i = 0; i < 3 && goals[k].transports[i] != T_COUNT; i++)
            add_target(run, &goals[k], goals[k].transports[i]);
}
