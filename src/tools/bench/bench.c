/*
 * bench.c - "shmkit bench": how fast shmkit moves data between two
 * processes, next to the other ways of doing it and to the machine's own
 * limits, all measured in one run so that the ratios mean something.
 *
 * Every measurement ("row") runs in two fresh child processes (fork): side
 * A and side B.  The parent creates the row's objects (segments with
 * unique names, pipes, queues), starts the children, removes the named
 * objects as soon as both children have opened them (so that nothing is
 * left behind even if the bench is killed), waits for the children under a
 * watchdog, and collects what they report through a shared anonymous page.
 *
 * What the sides do with the bytes is the same for every transport, so the
 * comparison is fair:
 *   - the producer generates each message where it will be sent from: it
 *     writes every byte (memset to the low byte of the message number, then
 *     the 8-byte number at the start).  Copying transports (slot, ring copy,
 *     pipe, socket, queues) generate it in a private buffer and then send
 *     it; the zero-copy ring generates it in place (reserve, commit);
 *   - the consumer reads every byte once (a 64-bit sum) and checks the
 *     number and the last byte.  Copying transports first copy the message
 *     into a private buffer (recv, read); the zero-copy ring reads it in
 *     place (peek, release).
 *
 * Latency: side A sends message i, side B receives it and answers with
 * message i of the same size, A receives the answer: one round trip, timed
 * by A with one monotonic clock read per round trip.  Warm-up round trips
 * are discarded; the row is time bounded with a minimum count.
 *
 * Throughput: A sends messages as fast as it can, B receives them; after
 * the warm-up A marks the first measured message number in the shared page
 * and B times from that message to the stop message.
 *
 * CPU: each side takes getrusage(RUSAGE_SELF) around its measured window
 * and reports user + system time as a percentage of the wall time.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench-int.h"

static void explain(struct bench_run *run)
{
    char sz[24];
    int i;

    add_note(run, "ring capacity: the smallest power of two holding 4 frames of the message, and "
             "at least 64 KiB (latency) or 1 MiB (throughput); block policy");
    add_note(run, "producers write every byte of each message (in place for ring-zc), consumers "
             "read every byte once (in place for ring-zc, after the copy otherwise)");
    if ((run->opt.sections & S_LATENCY) && paired_modes(&run->opt))
        add_note(run, "the adaptive and spin rows of a transport and size are measured by the same "
                 "two processes, switching modes every %d round trips (doc/BENCHMARKS.md)",
                 PAIR_BLOCK);
    add_note(run, "throughput rings use the default (adaptive) wait mode; memcpy copies between "
             "two %s buffers in message-size chunks, in one process",
             size_text(run->opt.memcpy_pool, sz, sizeof sz));
#ifndef BENCH_RAW_FUTEX
    add_note(run, "raw-wait: no raw wait primitive is used on this platform; the row is the "
             "library's slot in block mode (wait mechanism %s)", shmkit_wait_mechanism());
#else
    add_note(run, "raw-wait: FUTEX_WAIT / FUTEX_WAKE on two shared words, no spinning; raw-atomic: "
             "one 32-bit word flipped by both sides, spinning with a pause instruction");
#endif
#ifdef BENCH_ICEORYX
    if (selected(&run->opt, T_ICEORYX))
        add_note(run, "iceoryx: eclipse iceoryx's C binding through the iox-roudi the bench "
                 "starts; chunks written and read in place, lossless, busy polling; sizes up "
                 "to %s", size_text(ICEORYX_MAX_SIZE, sz, sizeof sz));
#endif
    for (i = 0; i < run->n_results; i++) {
        const struct result *r = &run->results[i];
        if (r->skipped)
            add_note(run, "%s %s: skipped: %s", transport_names[r->transport],
                     size_text(r->size, sz, sizeof sz), r->note);
    }
}

/* Drop the rows of transports this build does not have, with a note. */
static void restrict_to_build(struct bench_run *run)
{
    struct options *opt = &run->opt;

#ifndef BENCH_POSIX_MQ
    if (selected(opt, T_POSIX_MQ))
        add_note(run, "posix-mq: POSIX message queues are not in this build");
    opt->only &= ~(1u << T_POSIX_MQ);
#endif
#ifndef BENCH_SYSV_MQ
    if (selected(opt, T_SYSV_MQ))
        add_note(run, "sysv-mq: System V message queues are not in this build");
    opt->only &= ~(1u << T_SYSV_MQ);
#endif
#ifndef BENCH_ICEORYX
    if (selected(opt, T_ICEORYX))
        add_note(run, "iceoryx: not built (configure --with-iceoryx)");
    opt->only &= ~(1u << T_ICEORYX);
#endif
    (void)opt;
}

/* Report the rows that failed (not those skipped): the exit status. */
static tool_status report_failures(const struct bench_run *run)
{
    tool_status status = TOOL_EXIT_OK;
    int i;

    for (i = 0; i < run->n_results; i++) {
        const struct result *r = &run->results[i];
        if (!r->ok && !r->skipped) {
            status = TOOL_EXIT_RUNTIME;
            fprintf(stderr, "%s: bench: %s %s: %s\n", tool_prog(), section_name(r->section),
                    transport_names[r->transport], r->note);
        }
    }
    return status;
}

/* Measure, then report; the rows are in RUN. */
static tool_status bench_run(struct bench_run *run)
{
    struct control *ctl;
    tool_status status;
    int sig;

    ctl = mmap(NULL, sizeof *ctl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
    if (ctl == MAP_FAILED)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: mmap: %s", strerror(errno));
    describe_machine(run);
    if (run->opt.pin && strncmp(run->machine.pinning, "off", 3) == 0)
        run->opt.pin = 0;
    restrict_to_build(run);
    bench_catch_signals();
    run_rows(run, ctl);
    munmap(ctl, sizeof *ctl);
    if ((sig = bench_signal_caught()) != 0) {
        signal(sig, SIG_DFL);
        raise(sig);
        return TOOL_EXIT_RUNTIME;
    }

    explain(run);
    evaluate_targets(run);
    status = report_failures(run);
    if (run->opt.json)
        print_json(run);
    else
        print_table(run);
    if (run->opt.csv != NULL && write_csv(run, run->opt.csv) != 0)
        status = TOOL_EXIT_RUNTIME;
    return tool_close_stdout(status);
}

int bench_main(int argc, char **argv)
{
    struct bench_run *run = calloc(1, sizeof *run);
    tool_status status;

    if (run == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: out of memory");
    run->pin_cpus[0] = run->pin_cpus[1] = -1;
    status = parse_options(argc, argv, &run->opt);
    if (status == TOOL_GO_ON)
        status = bench_run(run);
    free(run);
    return status;
}
