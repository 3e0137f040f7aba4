/*
 * util.c - small helpers of "shmkit bench": clocks, the measured window of a
 * side, failure notes, and the names and sizes the report prints.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "bench-int.h"

const char *const transport_names[T_COUNT] = {
    "raw-atomic", "raw-wait", "slot", "ring", "ring-zc", "pipe", "unix",
    "posix-mq", "sysv-mq", "iceoryx", "memcpy"
};

double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_s(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
}

void window_start(struct window *w)
{
    w->cpu0 = cpu_s();
    w->wall0 = now_s();
}

void window_end(const struct window *w, struct side_report *rep)
{
    rep->wall = now_s() - w->wall0;
    rep->cpu = cpu_s() - w->cpu0;
}

int report_fail(struct side_report *rep, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rep->note, sizeof rep->note, fmt, ap);
    va_end(ap);
    rep->ok = 0;
    return -1;
}

/* "64", "4k", "64k", "1M", or the exact number of bytes. */
const char *size_text(size_t size, char *buf, size_t len)
{
    if (size >= MIB && size % MIB == 0)
        snprintf(buf, len, "%zuM", size / MIB);
    else if (size >= KIB && size % KIB == 0)
        snprintf(buf, len, "%zuk", size / KIB);
    else
        snprintf(buf, len, "%zu", size);
    return buf;
}

const char *mode_name(int mode)
{
    /* Indexed by the public SHMKIT_WAIT_* values (0, 1, 2). */
    static const char *const names[] = {"adaptive", "spin", "block"};

    return mode >= 0 && mode < (int)(sizeof names / sizeof names[0]) ? names[mode] : "-";
}

const char *section_name(int section)
{
    return section == S_LATENCY      ? "latency"
           : section == S_THROUGHPUT ? "throughput"
           : section == S_FANOUT     ? "fanout"
           : section == S_FOLLOW     ? "follow"
                                     : "idle";
}

/* Ring capacities (documented in doc/BENCHMARKS.md): room for at least
 * four frames, and at least 64 KiB (latency) or 1 MiB (throughput and
 * fan-out), so
 * that a producer is never throttled by a small ring; shmkit_ring_create
 * rounds the capacity up to a power of two. */
void ring_options(int section, size_t size, struct shmkit_ring_options *options)
{
    size_t floor = section == S_THROUGHPUT || section == S_FANOUT ? MIB : 64 * KIB;
    size_t frames = 4 * (size + 32);

    shmkit_ring_options_init(options);
    options->capacity = frames > floor ? frames : floor;
    options->max_message = size;
    options->mode = 0600;
    options->flags = SHMKIT_EXCL;
}

