/*
 * fanout.c - the fan-out rows of "shmkit bench": one block ring of 64-byte
 * messages, one writer and 1, 2 or 4 consumers, each in its own process.
 * Every consumer receives every message (the lossless fan-out of issue
 * 13), so the rate that matters is the one each consumer sees: a row
 * reports the mean and the slowest consumer's, and the writer's.
 *
 * The sides are the throughput rows' own (sides.c): the writer is side 0
 * and the consumers sides 1 .. N, each timing its own window from the
 * message the writer marks.  The ring has N consumer entries and every
 * consumer joins afresh with SHMKIT_FROM_OLDEST before the writer starts,
 * so each has an entry of its own from the first message on.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench-int.h"

#define FANOUT_SIZE 64

/* The consumer counts of the rows of one wait mode, in the table's order. */
static const int fanout_counts[] = { 1, 2, FANOUT_MAX };
#define N_COUNTS (int)(sizeof fanout_counts / sizeof fanout_counts[0])

/* The rows of a mode are measured in rounds, 1, 2, 4, 1, 2, 4, ..., each
 * round a third of the row's duration, and each row reports its median
 * round: this guest's speed changes from one second to the next (see
 * sides.c, "Paired rows"), and rows measured one after the other would
 * compare two states of the machine rather than two consumer counts. */
#define FANOUT_ROUNDS 3

/* The figures of one round of a row: consumers report in side[1 .. N]. */
static void take_round(struct result *r, const struct control *ctl, int consumers)
{
    const struct side_report *writer = &ctl->side[0];
    double sum = 0, cpu = 0, slowest = INFINITY;
    int k;

    for (k = 1; k <= consumers; k++) {
        const struct side_report *c = &ctl->side[k];

        sum += c->msgs_s;
        cpu += cpu_percent(c);
        if (c->msgs_s < slowest)
            slowest = c->msgs_s;
    }
    r->n = writer->n;
    r->msgs_s = sum / consumers;
    r->bytes_s = r->msgs_s * (double)r->size;
    r->slowest_msgs_s = slowest;
    r->writer_msgs_s = writer->wall > 0 ? (double)writer->n / writer->wall : NAN;
    r->cpu[0] = cpu_percent(writer);
    r->cpu[1] = cpu / consumers;
}

/* Point JOB at the row of MODE with CONSUMERS (start_row resets these). */
static void aim_job(struct job *job, int mode, int consumers)
{
    job->section = S_FANOUT;
    job->transport = T_RING;
    job->mode = mode;
    job->size = FANOUT_SIZE;
    job->consumers = consumers;
    job->rx_flags = SHMKIT_FROM_OLDEST;
}

/* One round of row R into ROUND: 0, or -1 with R failed. */
static int run_round(struct job *job, struct result *r, struct result *round)
{
    static const side_fn fns[MAX_SIDES] = { throughput_producer, throughput_consumer,
                                            throughput_consumer, throughput_consumer,
                                            throughput_consumer };

    aim_job(job, r->mode, r->consumers);
    r->ok = 0;
    run_row(job, r, 1 + r->consumers, fns);
    if (!r->ok)
        return -1;
    *round = *r;
    take_round(round, job->ctl, r->consumers);
    return 0;
}

/* R's figures: those of its median round by the slowest consumer. */
static void take_median(struct result *r, struct result *rounds, int n)
{
    int i, j;

    for (i = 1; i < n; i++)
        for (j = i; j > 0 && rounds[j].slowest_msgs_s < rounds[j - 1].slowest_msgs_s; j--) {
            struct result t = rounds[j];
            rounds[j] = rounds[j - 1];
            rounds[j - 1] = t;
        }
    *r = rounds[n / 2];
    /* For the CSV and JSON, which have no columns of their own for these. */
    snprintf(r->note, sizeof r->note, "%d consumers; slowest %.4g msg/s; writer %.4g msg/s; "
             "median of %d rounds", r->consumers, r->slowest_msgs_s, r->writer_msgs_s, n);
}

/* The rows of MODE, measured in interleaved rounds. */
static void fanout_mode(struct job *job, int mode)
{
    const struct options *opt = job->opt;
    struct options round_opt = *opt;
    struct result *rows[N_COUNTS], rounds[N_COUNTS][FANOUT_ROUNDS];
    int k, i, failed[N_COUNTS];

    for (k = 0; k < N_COUNTS; k++) {
        if ((rows[k] = start_row(job, S_FANOUT, T_RING, mode, FANOUT_SIZE)) == NULL)
            return;
        rows[k]->consumers = fanout_counts[k];
        failed[k] = 0;
    }
    round_opt.duration = opt->duration / FANOUT_ROUNDS;
    round_opt.warmup = opt->warmup / FANOUT_ROUNDS;
    job->opt = &round_opt;
    for (i = 0; i < FANOUT_ROUNDS && !bench_signal_caught(); i++)
        for (k = 0; k < N_COUNTS; k++)
            if (!failed[k])
                failed[k] = run_round(job, rows[k], &rounds[k][i]) < 0;
    job->opt = opt;
    for (k = 0; k < N_COUNTS; k++)
        if (!failed[k] && i == FANOUT_ROUNDS)
            take_median(rows[k], rounds[k], FANOUT_ROUNDS);
        else if (rows[k]->ok)
            rows[k]->ok = 0; /* interrupted: no median */
}

/* How the processes of a row are placed, for the note. */
static void placement(const struct bench_run *run, char *buf, size_t len)
{
    size_t used;
    int k;

    if (!run->opt.pin || run->n_pin_cpus < 2) {
        snprintf(buf, len, "placed by the scheduler");
        return;
    }
    used = (size_t)snprintf(buf, len, "pinned: the writer on CPU %d, consumers 1-%d on CPUs",
                            run->pin_cpus[0], FANOUT_MAX);
    for (k = 1; k <= FANOUT_MAX && used < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s %d", k > 1 ? "," : "",
                                 run->pin_cpus[k % run->n_pin_cpus]);
}

void run_fanout(struct job *job)
{
    /* Adaptive first: the mode of the target, and the default. */
    static const int modes[MODE_BITS] = { SHMKIT_WAIT_ADAPTIVE, SHMKIT_WAIT_BLOCK,
                                          SHMKIT_WAIT_SPIN };
    struct bench_run *run = job->run;
    char where[NOTE_LEN / 2];
    size_t m;

    if (!selected(job->opt, T_RING))
        return;
    placement(run, where, sizeof where);
    add_note(run, "fan-out: a 1 MiB block ring, 64 B send/recv, consumers joined with "
             "SHMKIT_FROM_OLDEST, all in the row's mode; %ld CPUs for up to %d processes",
             run->machine.ncpu, MAX_SIDES);
    add_note(run, "fan-out processes %s", where);
    for (m = 0; m < MODE_BITS; m++) {
        if (!((job->opt->fanout_modes >> modes[m]) & 1u))
            continue;
        fanout_mode(job, modes[m]);
    }
}

/* ------------------------------------------------------------------ */
/* Ratios and the table                                                */
/* ------------------------------------------------------------------ */

static const struct result *find_fanout(const struct bench_run *run, int mode, int consumers)
{
    int i;

    for (i = 0; i < run->n_results; i++) {
        const struct result *r = &run->results[i];
        if (r->ok && r->section == S_FANOUT && r->mode == mode && r->consumers == consumers)
            return r;
    }
    return NULL;
}

/* R's slowest consumer against the single consumer of R's mode. */
static double x_one(const struct bench_run *run, const struct result *r)
{
    const struct result *one = find_fanout(run, r->mode, 1);

    if (one == NULL || !(one->slowest_msgs_s > 0))
        return NAN;
    return r->slowest_msgs_s / one->slowest_msgs_s;
}

double x_single_consumer(const struct bench_run *run, const struct result *r)
{
    const struct result *most = find_fanout(run, r->mode, FANOUT_MAX);

    return most != NULL ? x_one(run, most) : NAN;
}

static void put_rate(double msgs_s)
{
    if (isnan(msgs_s) || msgs_s < 0)
        printf(" %9s", "-");
    else
        printf(" %9.2f", msgs_s / 1e6);
}

static void fanout_line(const struct bench_run *run, const struct result *r)
{
    double x = x_one(run, r);

    printf("%-5d %-8s", r->consumers, mode_name(r->mode));
    if (!r->ok) {
        printf(" %s\n", r->skipped ? "skipped (see notes)" : r->note);
        return;
    }
    put_rate(r->msgs_s);
    put_rate(r->slowest_msgs_s);
    put_rate(r->writer_msgs_s);
    printf(" %5.0f %5.0f", r->cpu[0], r->cpu[1]);
    if (isnan(x))
        printf(" %8s\n", "-");
    else
        printf(" %8.2f\n", x);
}

void print_fanout(const struct bench_run *run)
{
    int i, any = 0;

    for (i = 0; i < run->n_results; i++) {
        if (run->results[i].section != S_FANOUT)
            continue;
        if (!any++) {
            printf("\nFan-out: one block ring, 64 B, a writer and N consumer processes on %ld "
                   "CPUs\n(M msgs/s per consumer: mean, slowest; the writer's; cpu: %% of a "
                   "core, writer / mean consumer;\nx 1: slowest against the single consumer "
                   "of the same mode)\n", run->machine.ncpu);
            printf("%-5s %-8s %9s %9s %9s %5s %5s %8s\n", "cons", "mode", "per-cons",
                   "slowest", "writer", "cpuW", "cpuC", "x 1");
        }
        fanout_line(run, &run->results[i]);
    }
}
