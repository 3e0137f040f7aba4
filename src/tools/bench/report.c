/*
 * report.c - the output of "shmkit bench": the table, CSV and JSON.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench-int.h"

/* A number with a fixed width, or "-" when it is missing. */
static void put_num(FILE *f, int width, int prec, double v)
{
    if (isnan(v) || v < 0)
        fprintf(f, " %*s", width, "-");
    else
        fprintf(f, " %*.*f", width, prec, v);
}

static void put_ratio(FILE *f, double v)
{
    if (isnan(v))
        fprintf(f, " %8s", "-");
    else
        fprintf(f, " %8.*f", v < 10 ? 2 : v < 100 ? 1 : 0, v);
}

static void print_header(const struct bench_run *run)
{
    const struct options *opt = &run->opt;
    const struct machine *m = &run->machine;

    printf("shmkit bench %s: %ld CPUs (%s), %s, wait mechanism %s\n", shmkit_version(),
           m->ncpu, m->cpu_model, m->kernel, shmkit_wait_mechanism());
    if (m->have_load)
        printf("load average %.2f %.2f %.2f; ", m->load[0], m->load[1], m->load[2]);
    printf("pinning: %s\n", m->pinning);
    printf("segments: %s backend; each row: %.3g s measured after %.3g s of warm-up, "
           "at least %zu round trips or messages\n",
           opt->backend == SHMKIT_BACKEND_SYSV ? "System V" : "POSIX", opt->duration,
           opt->warmup, opt->min_count);
}

static void latency_heading(void)
{
    printf("\nRound-trip latency in microseconds (p10/p90: spread; cpu: %% of a core, "
           "side A / side B)\n");
    printf("%-5s %-10s %-8s %9s %9s %9s %9s %8s %5s %5s %8s %8s %8s\n", "size", "transport",
           "mode", "median", "p10", "p90", "p99", "n", "cpuA", "cpuB", "x atomic", "x wait",
           "x pipe");
}

static void latency_line(const struct bench_run *run, const struct result *r)
{
    char sz[24];

    printf("%-5s %-10s %-8s", r->size ? size_text(r->size, sz, sizeof sz) : "word",
           transport_names[r->transport], mode_name(r->mode));
    if (!r->ok) {
        printf(" %s\n", r->skipped ? "skipped (see notes)" : r->note);
        return;
    }
    put_num(stdout, 9, 3, r->median / 1e3);
    put_num(stdout, 9, 3, r->p10 / 1e3);
    put_num(stdout, 9, 3, r->p90 / 1e3);
    put_num(stdout, 9, 3, r->p99 / 1e3);
    printf(" %8llu", (unsigned long long)r->n);
    put_num(stdout, 5, 0, r->cpu[0]);
    put_num(stdout, 5, 0, r->cpu[1]);
    put_ratio(stdout, x_raw_atomic(run, r));
    put_ratio(stdout, x_raw_wait(run, r));
    put_ratio(stdout, x_pipe(run, r));
    putchar('\n');
}

static void throughput_heading(void)
{
    printf("\nOne-way throughput (cpu: %% of a core, producer / consumer)\n");
    printf("%-5s %-10s %12s %10s %5s %5s %8s %8s\n", "size", "transport", "msgs/s", "MB/s",
           "cpuP", "cpuC", "x pipe", "x memcpy");
}

static void throughput_line(const struct bench_run *run, const struct result *r)
{
    char sz[24];

    printf("%-5s %-10s", size_text(r->size, sz, sizeof sz), transport_names[r->transport]);
    if (!r->ok) {
        printf(" %s\n", r->skipped ? "skipped (see notes)" : r->note);
        return;
    }
    put_num(stdout, 12, 0, r->msgs_s);
    put_num(stdout, 10, 1, r->bytes_s / 1e6);
    put_num(stdout, 5, 0, r->cpu[0]);
    put_num(stdout, 5, 0, r->cpu[1]);
    put_ratio(stdout, x_pipe(run, r));
    put_ratio(stdout, x_memcpy(run, r));
    putchar('\n');
}

static void idle_heading(void)
{
    printf("\nIdle reader, adaptive mode, nothing arriving (cpu: %% of a core)\n");
}

static void idle_line(const struct bench_run *run, const struct result *r)
{
    (void)run;
    printf("%-5s %-10s %-8s", "", transport_names[r->transport], mode_name(r->mode));
    if (!r->ok)
        printf(" %s\n", r->note);
    else
        printf(" waited %.3f s, cpu %.3f %%\n", r->seconds, r->cpu[0]);
}

/* The rows of SECTION, one LINE each, under the HEADING (none if there
 * are no rows). */
static void print_section(const struct bench_run *run, int section, void (*heading)(void),
                          void (*line)(const struct bench_run *, const struct result *))
{
    int i, any = 0;

    for (i = 0; i < run->n_results; i++) {
        if (run->results[i].section != section)
            continue;
        if (!any++)
            heading();
        line(run, &run->results[i]);
    }
}

static void print_targets(const struct bench_run *run)
{
    int i, shown = 0;

    for (i = 0; i < run->n_targets; i++) {
        const struct target *t = &run->targets[i];
        if (t->met < 0)
            continue; /* its rows were not selected */
        if (!shown++)
            printf("\nTargets (ratios within this run)\n");
        printf("  %-40s %-20s %10.3f  %s\n", t->what, t->goal, t->measured,
               t->met ? "met" : "NOT met");
    }
}

static void print_notes(const struct bench_run *run)
{
    int i;

    if (run->n_notes == 0)
        return;
    printf("\nNotes\n");
    for (i = 0; i < run->n_notes; i++)
        printf("  - %s\n", run->notes[i]);
}

void print_table(const struct bench_run *run)
{
    print_header(run);
    print_section(run, S_LATENCY, latency_heading, latency_line);
    print_section(run, S_THROUGHPUT, throughput_heading, throughput_line);
    print_section(run, S_IDLE, idle_heading, idle_line);
    print_fanout(run);
    print_section(run, S_FOLLOW, follow_heading, follow_line);
    print_targets(run);
    print_notes(run);
}

/* CSV: one line per row, empty fields where a value does not apply. */
static void csv_num(FILE *f, double v)
{
    if (isnan(v) || v < 0)
        fputs(",", f);
    else
        fprintf(f, ",%.6g", v);
}

static void csv_text(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

int write_csv(const struct bench_run *run, const char *path)
{
    FILE *f = fopen(path, "w");
    int i, bad;

    if (f == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, path, "%s", strerror(errno));
    fputs("section,transport,mode,size,n,median_ns,p10_ns,p90_ns,p99_ns,msgs_per_s,"
          "bytes_per_s,cpu_a_pct,cpu_b_pct,idle_s,x_raw_atomic,x_raw_wait,x_pipe,x_memcpy,"
          "note\n", f);
    for (i = 0; i < run->n_results; i++) {
        const struct result *r = &run->results[i];
        fprintf(f, "%s,%s,%s,%zu", section_name(r->section), transport_names[r->transport],
                mode_name(r->mode), r->size);
        if (r->ok)
            fprintf(f, ",%llu", (unsigned long long)r->n);
        else
            fputs(",", f);
        csv_num(f, r->median);
        csv_num(f, r->p10);
        csv_num(f, r->p90);
        csv_num(f, r->p99);
        csv_num(f, r->msgs_s);
        csv_num(f, r->bytes_s);
        csv_num(f, r->cpu[0]);
        csv_num(f, r->cpu[1]);
        csv_num(f, r->section == S_IDLE && r->ok ? r->seconds : NAN);
        csv_num(f, r->section == S_LATENCY ? x_raw_atomic(run, r) : NAN);
        csv_num(f, r->section == S_LATENCY ? x_raw_wait(run, r) : NAN);
        csv_num(f, (r->section & (S_LATENCY | S_THROUGHPUT)) ? x_pipe(run, r) : NAN);
        csv_num(f, r->section == S_THROUGHPUT ? x_memcpy(run, r) : NAN);
        fputc(',', f);
        csv_text(f, r->note);
        fputc('\n', f);
    }
    bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return tool_error(TOOL_EXIT_RUNTIME, path, "write error: %s", strerror(errno));
    return 0;
}

static void json_num(const char *key, double v, int last)
{
    if (isnan(v) || v < 0)
        printf("\"%s\": null%s", key, last ? "" : ", ");
    else
        printf("\"%s\": %.6g%s", key, v, last ? "" : ", ");
}

static void json_str(const char *key, const char *value, int last)
{
    printf("\"%s\": ", key);
    tool_json_string(stdout, value, strlen(value));
    fputs(last ? "" : ", ", stdout);
}

void print_json(const struct bench_run *run)
{
    const struct options *opt = &run->opt;
    const struct machine *m = &run->machine;
    int i;

    printf("{\n  \"version\": \"%s\",\n  \"machine\": {", shmkit_version());
    printf("\"cpus\": %ld, ", m->ncpu);
    json_str("cpu_model", m->cpu_model, 0);
    json_str("kernel", m->kernel, 0);
    json_str("wait_mechanism", shmkit_wait_mechanism(), 0);
    if (m->have_load)
        printf("\"load\": [%.2f, %.2f, %.2f], ", m->load[0], m->load[1], m->load[2]);
    else
        printf("\"load\": null, ");
    json_str("pinning", m->pinning, 1);
    printf("},\n  \"settings\": {\"backend\": \"%s\", ",
           opt->backend == SHMKIT_BACKEND_SYSV ? "sysv" : "posix");
    json_num("duration_s", opt->duration, 0);
    json_num("warmup_s", opt->warmup, 0);
    printf("\"min_count\": %zu, \"quick\": %s},\n  \"rows\": [", opt->min_count,
           opt->quick ? "true" : "false");
    for (i = 0; i < run->n_results; i++) {
        const struct result *r = &run->results[i];
        printf("%s\n    {\"section\": \"%s\", \"transport\": \"%s\", \"mode\": ",
               i ? "," : "", section_name(r->section), transport_names[r->transport]);
        if (r->mode == NO_MODE)
            printf("null, ");
        else
            printf("\"%s\", ", mode_name(r->mode));
        printf("\"size\": %zu, \"ok\": %s, \"n\": %llu, ", r->size, r->ok ? "true" : "false",
               (unsigned long long)r->n);
        json_num("median_ns", r->median, 0);
        json_num("p10_ns", r->p10, 0);
        json_num("p90_ns", r->p90, 0);
        json_num("p99_ns", r->p99, 0);
        json_num("msgs_per_s", r->msgs_s, 0);
        json_num("bytes_per_s", r->bytes_s, 0);
        json_num("cpu_a_pct", r->cpu[0], 0);
        json_num("cpu_b_pct", r->cpu[1], 0);
        json_num("idle_s", r->section == S_IDLE && r->ok ? r->seconds : NAN, 0);
        json_num("x_raw_atomic", r->section == S_LATENCY ? x_raw_atomic(run, r) : NAN, 0);
        json_num("x_raw_wait", r->section == S_LATENCY ? x_raw_wait(run, r) : NAN, 0);
        json_num("x_pipe", (r->section & (S_LATENCY | S_THROUGHPUT)) ? x_pipe(run, r) : NAN, 0);
        json_num("x_memcpy", r->section == S_THROUGHPUT ? x_memcpy(run, r) : NAN, 0);
        if (r->section == S_FANOUT)
            printf("\"consumers\": %d, ", r->consumers);
        json_str("note", r->note, 1);
        putchar('}');
    }
    printf("\n  ],\n  \"targets\": [");
    for (i = 0; i < run->n_targets; i++) {
        const struct target *t = &run->targets[i];
        printf("%s\n    {", i ? "," : "");
        json_str("what", t->what, 0);
        json_str("goal", t->goal, 0);
        json_num("measured", t->measured, 0);
        printf("\"met\": %s}", t->met < 0 ? "null" : t->met ? "true" : "false");
    }
    printf("\n  ],\n  \"notes\": [");
    for (i = 0; i < run->n_notes; i++) {
        printf("%s\n    ", i ? "," : "");
        tool_json_string(stdout, run->notes[i], strlen(run->notes[i]));
    }
    printf("\n  ]\n}\n");
}
