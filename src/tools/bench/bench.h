/*
 * bench.h - "shmkit bench": latency and throughput of shmkit's slots and
 * rings against pipes, UNIX sockets, message queues and the machine's own
 * limits, measured in one run (doc/BENCHMARKS.md).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_BENCH_H
#define SHMKIT_BENCH_H

/* For the command table of shmkit.c: synopsis, one-line summary, help. */
#define BENCH_SYNOPSIS                                                           \
    "shmkit bench [--quick] [--sizes LIST] [--throughput-sizes LIST]\n"          \
    "                    [--duration SECONDS] [--rows LIST] [--only LIST]\n"     \
    "                    [--modes LIST] [--backend posix|sysv] [--pin]\n"        \
    "                    [--csv FILE] [--json]"
#define BENCH_SUMMARY "measure latency and throughput against pipes, sockets and queues"
#define BENCH_HELP                                                                  \
    "Measure, between two processes (fork), the round-trip latency of slots and\n"  \
    "rings (copy and zero-copy; wait modes spin, block and adaptive), pipes, UNIX\n" \
    "stream sockets and message queues; one-way throughput of rings, pipes and\n"   \
    "sockets against memcpy; the CPU use of each side; and the CPU use of an idle\n" \
    "adaptive reader.  Reference rows give the machine's limits: a cache-line\n"    \
    "ping-pong on one atomic word and a ping-pong through the raw wait mechanism.\n" \
    "Peer rows (eclipse iceoryx, if built) run under an iox-roudi the bench starts\n" \
    "and stops.  Every row runs in fresh segments that are removed when it ends.\n"  \
    "\n"                                                                            \
    "  --sizes LIST             latency message sizes (default 32,64,4k,64k)\n"     \
    "  --throughput-sizes LIST  throughput sizes (default 64,256,1k,4k,16k,64k,\n"  \
    "                           256k,1M)\n"                                         \
    "  --duration SECONDS       measuring time per row (default 0.5), after a\n"    \
    "                           warm-up of a tenth of it\n"                         \
    "  --rows LIST              latency,throughput,idle,fanout,follow (default\n"   \
    "                           all); fanout: 1, 2 and 4 consumers of one ring;\n" \
    "                           follow: read-only followers and their writer\n"  \
    "  --only LIST              transports: raw (raw-atomic, raw-wait), slot,\n"    \
    "                           ring, ring-zc, pipe, unix, mq (posix-mq, sysv-mq),\n" \
    "                           iceoryx, memcpy (default all)\n"                    \
    "  --modes LIST             wait modes: adaptive,spin,block (default all);\n"   \
    "                           adaptive and spin rows are measured together,\n"   \
    "                           alternating every 1000 round trips\n"              \
    "  --backend posix|sysv     segment backend (default posix if built)\n"         \
    "  --quick                  tiny durations and few sizes, for tests\n"          \
    "  --pin                    pin the two processes to two different CPUs\n"     \
    "  --csv FILE               also write every row to FILE as CSV\n"              \
    "  --json                   print JSON on stdout instead of the table\n"        \
    "  -h, --help               show this help and exit\n"

/* Run the benchmark; ARGV[0] is the command name ("bench").  Returns the
 * exit status: 0, 1 (a measurement failed) or 2 (usage error). */
int bench_main(int argc, char **argv);

#endif /* SHMKIT_BENCH_H */
