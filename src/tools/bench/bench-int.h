/*
 * bench-int.h - what the parts of "shmkit bench" share: the run context
 * (options, rows, notes, targets), a row's job and objects, the shared
 * control page the children report through, and the modules' functions.
 *
 *   options.c    the command line
 *   transport.c  messages and the endpoints of every transport (children)
 *   sides.c      what the two sides of a row do (children)
 *   objects.c    the objects of a row, made and removed by the parent
 *   runner.c     signals, fork, watchdog, pinning, and the rows in order
 *   results.c    rows, notes, ratios and targets of the run
 *   fanout.c     the fan-out rows: one block ring, 1, 2 and 4 consumers
 *   follow.c     the read-only follower rows (their own processes)
 *   machine.c    the machine description
 *   report.c     table, CSV and JSON
 *   util.c       clocks, sizes and names
 *   bench.c      bench_main
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_BENCH_INT_H
#define SHMKIT_BENCH_INT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __linux__
#define BENCH_CAN_PIN 1
/* musl's toolchain may lack the kernel headers: no raw futex row then. */
#if defined(HAVE_LINUX_FUTEX_H) || !defined(HAVE_CONFIG_H)
#define BENCH_RAW_FUTEX 1
#endif
#endif

/* Message queues: configure checks for them; a build without config.h
 * (a quick standalone compile) assumes the POSIX systems we target. */
#if defined(HAVE_MQUEUE_H) && defined(HAVE_MQ_OPEN)
#define BENCH_POSIX_MQ 1
#include <mqueue.h>
#endif
#if defined(HAVE_SYS_MSG_H) || !defined(HAVE_CONFIG_H)
#define BENCH_SYSV_MQ 1
#endif

/* eclipse iceoryx's C binding: configure --with-iceoryx (iceoryx.c). */
#ifdef HAVE_ICEORYX
#define BENCH_ICEORYX 1
#endif

#if (defined(HAVE_STDATOMIC_H) || !defined(HAVE_CONFIG_H)) && !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
typedef _Atomic uint32_t bench_word;
#define WORD_LOAD(p) atomic_load_explicit((p), memory_order_acquire)
#define WORD_STORE(p, v) atomic_store_explicit((p), (v), memory_order_release)
#else
typedef uint32_t bench_word;
#define WORD_LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define WORD_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#endif

#include "shmkit.h"
#include "tool.h"

/* ------------------------------------------------------------------ */
/* Constants and types                                                 */
/* ------------------------------------------------------------------ */

#define WAIT_MS 10000            /* any single wait: a stuck peer is an error */
#define STOP_SEQ UINT64_MAX      /* message number that ends a row */
#define STOP_WORD UINT32_MAX     /* the same for the raw ping-pongs */
#define MAX_SIZES 16
#define MAX_RESULTS 512
#define MAX_NOTES 64
#define MAX_TARGETS 32
#define NOTE_LEN 200
#define MIN_SIZE 8               /* a message carries its 8-byte number */
#define MAX_SIZE (64u << 20)
#define ICEORYX_MAX_SIZE 4096u   /* iceoryx rows: iox-roudi's built-in chunk pools */
#define FANOUT_MAX 4             /* consumers of the largest fan-out row */
#define MAX_SIDES (1 + FANOUT_MAX) /* processes of one row, at most */
#define KIB 1024u
#define MIB (1024u * 1024u)

enum transport {
    T_RAW_ATOMIC, T_RAW_WAIT, T_SLOT, T_RING, T_RING_ZC, T_PIPE, T_UNIX,
    T_POSIX_MQ, T_SYSV_MQ, T_ICEORYX, T_MEMCPY, T_COUNT
};

extern const char *const transport_names[T_COUNT];

enum section { S_LATENCY = 1, S_THROUGHPUT = 2, S_IDLE = 4, S_FANOUT = 8, S_FOLLOW = 16 };

#define NO_MODE (-1)
#define MODE_BITS 3  /* SHMKIT_WAIT_ADAPTIVE, _SPIN, _BLOCK */
/* A job that measures the adaptive and the spin row of a kind together:
 * both sides switch modes every PAIR_BLOCK round trips (sides.c). */
#define PAIRED_MODES (-2)
#define PAIR_BLOCK 1000

struct options {
    size_t lat_sizes[MAX_SIZES];
    int n_lat;
    size_t tp_sizes[MAX_SIZES];
    int n_tp;
    double duration;      /* seconds measured per row */
    double warmup;        /* seconds discarded before */
    double idle_seconds;
    unsigned sections;    /* enum section bits */
    unsigned only;        /* bit per enum transport */
    unsigned modes;       /* bit per shmkit wait mode */
    unsigned fanout_modes; /* the same for the fan-out rows */
    int backend;
    int quick, pin, json;
    const char *csv;
    size_t min_count;     /* round trips or messages per row, at least */
    size_t max_samples;   /* latency samples kept per row, at most */
    size_t memcpy_pool;   /* bytes of each memcpy buffer */
};

/* One row of the output. */
struct result {
    int section;
    int transport;
    int mode;             /* shmkit wait mode or NO_MODE */
    size_t size;          /* 0: the raw rows (one 32-bit word) */
    int ok;               /* 0: failed or skipped, see note */
    int skipped;
    char note[NOTE_LEN];
    uint64_t n;           /* round trips or messages measured */
    double median, p10, p90, p99;  /* ns */
    double msgs_s, bytes_s;
    double cpu[2];        /* % of one core: side A / producer, side B / consumer */
    double seconds;       /* idle: how long the reader waited */
    int consumers;        /* fan-out: consumer processes (msgs_s: their mean) */
    double slowest_msgs_s, writer_msgs_s;  /* fan-out: per second */
    double base_msgs_s;   /* follow, writer row: the 0600 ring's rate */
    double clock_ns;      /* follow, writer row: one clock read */
};

/* A goal of issue 5, judged by ratios within the run. */
struct target {
    char what[96];
    char goal[48];
    double measured;      /* the ratio or the percentage */
    int met;              /* 1, 0, or -1 not measured */
};

struct machine {
    long ncpu;
    char cpu_model[128];
    char kernel[256];
    double load[3];
    int have_load;
    char pinning[96];
};

/* The iox-roudi the bench started for the iceoryx rows. */
struct roudi {
    int state;            /* 0 not tried yet, 1 running, -1 none */
    long pid;             /* -1 when there is none to stop */
};

/* Everything one run of the bench collects, in place of file-scope
 * arrays: the parent fills it row by row, the report reads it. */
struct bench_run {
    struct options opt;
    struct machine machine;
    struct result results[MAX_RESULTS];
    int n_results;
    char notes[MAX_NOTES][NOTE_LEN];
    int n_notes;
    struct target targets[MAX_TARGETS];
    int n_targets;
    unsigned name_counter;  /* numbers the names of the rows' objects */
    int pin_cpus[MAX_SIDES]; /* --pin: side k runs on pin_cpus[k % n_pin_cpus] */
    int n_pin_cpus;
    struct roudi roudi;
};

/* What a child reports, in the shared control page. */
struct side_report {
    int ok;
    char note[NOTE_LEN];
    double wall, cpu;     /* seconds of its measured window */
    uint64_t n;
    double median, p10, p90, p99;
    double msgs_s, bytes_s;
};

/* A word alone on a 128-byte line (no false sharing between words). */
struct lone_word {
    _Alignas(128) bench_word w;
};

/* The shared control page: reports, and the words of the raw rows. */
struct control {
    struct lone_word atomic_word;          /* raw-atomic */
    struct lone_word wait_word[2];         /* raw-wait: [direction] */
    _Alignas(128) bench_word measuring;    /* throughput: from_seq is valid */
    uint64_t from_seq;
    _Alignas(128) struct side_report side[MAX_SIDES];  /* fan-out: 0 writer, 1.. consumers */
    struct side_report spin_lane;          /* PAIRED_MODES: side A's spin rows */
};

/* The objects of one row, made by the parent. */
struct objects {
    char seg[2][48];      /* segment specs per direction, "" if none */
    int pipe_fd[2][2];    /* pipe: [direction][0 read, 1 write] */
    int sock[2];          /* socketpair: [side] */
#ifdef BENCH_POSIX_MQ
    mqd_t mq[2];
#endif
    int have_mq[2];
    int msqid[2];         /* System V queues, -1 if none */
};

/* One row being measured: what the parent set up for the children. */
struct job {
    struct bench_run *run;
    const struct options *opt;
    int section, transport, mode;         /* mode: a wait mode, NO_MODE or PAIRED_MODES */
    size_t size;
    int consumers;        /* fan-out: entries of the ring's consumer table, else 0 */
    unsigned rx_flags;    /* the consumers' shmkit_ring_open flags */
    int side;             /* child: which side this process is */
    struct control *ctl;
    struct objects obj;
    int ready_fd;         /* child: write one byte when set up */
    int go_fd;            /* child: one byte arrives when all may start */
};

/* One end of a row in a child: what it sends on and receives from. */
struct endpoint {
    const struct job *job;
    int side;             /* 0: A or producer, 1: B or consumer */
    int transport;
    size_t size;
    unsigned char *buf;   /* private message buffer (System V: after the mtype) */
    unsigned char *alloc;
    shmkit_slot *slot_tx, *slot_rx;
    uint64_t slot_seen;
    shmkit_ring *ring_tx, *ring_rx;
    int fd_tx, fd_rx;
    int dir_tx, dir_rx;   /* directions, -1 if none */
    uint32_t raw_last;    /* raw-atomic: last value seen or written */
    uint32_t raw_seen[2]; /* raw-wait: last value seen per direction */
    struct iox_ends *iox; /* iceoryx: publisher and subscriber */
};

/* A side of a row, run in a child: 0, or -1 with its report's note set. */
typedef int (*side_fn)(const struct job *job);

/* ---- util.c ------------------------------------------------------------ */

double now_s(void);
uint64_t now_ns(void);

/* A measured window of one side: wall and CPU time. */
struct window {
    double wall0, cpu0;
};

void window_start(struct window *w);
void window_end(const struct window *w, struct side_report *rep);

/* Set REP's note and mark it failed; returns -1. */
int report_fail(struct side_report *rep, const char *fmt, ...) TOOL_PRINTF(2, 3);

/* "64", "4k", "64k", "1M", or the exact number of bytes. */
const char *size_text(size_t size, char *buf, size_t len);
const char *mode_name(int mode);
const char *section_name(int section);
/* The options of the ring of a row (doc/BENCHMARKS.md). */
void ring_options(int section, size_t size, struct shmkit_ring_options *options);

/* ---- options.c --------------------------------------------------------- */

/* Parse the command line into OPT: TOOL_GO_ON, or the exit status after
 * --help or a usage error. */
tool_status parse_options(int argc, char **argv, struct options *opt);
int selected(const struct options *opt, int transport);
/* Whether the adaptive and spin rows are measured together (PAIRED_MODES). */
int paired_modes(const struct options *opt);

/* ---- transport.c ------------------------------------------------------- */

/* Open the sending end of direction TX and the receiving end of RX
 * (either may be -1).  0, or -1 with the side's report failed. */
int ep_open(struct endpoint *ep, const struct job *job, int side, int tx, int rx);
void ep_close(struct endpoint *ep);
/* Send message SEQ. */
int ep_send(struct endpoint *ep, uint64_t seq);
/* Receive the next message: its number in *SEQ (STOP_SEQ at the end). */
int ep_recv(struct endpoint *ep, uint64_t *seq);
/* Keep VALUE, read from a buffer, from being optimized away. */
void keep_read(uint64_t value);
/* The pause of a busy-polling loop. */
void cpu_relax(void);

/* ---- iceoryx.c (BENCH_ICEORYX) ------------------------------------------ */

/* Parent: start iox-roudi once for the run (0 if it runs, -1 with a
 * note); stop it by its pid; whether a process waitpid reaped (its pid
 * and status) was it. */
int roudi_start(struct bench_run *run);
void roudi_stop(struct bench_run *run);
int roudi_reaped(struct bench_run *run, long pid, int status);
/* Children: the endpoint's publisher (TX) and subscriber (RX), as
 * ep_open; chunks loaned and published, taken and released. */
int iox_open(struct endpoint *ep, int tx, int rx);
void iox_close(struct endpoint *ep);
int iox_loan(struct endpoint *ep, void **payload);
void iox_publish(struct endpoint *ep, void *payload);
int iox_take(struct endpoint *ep, const void **payload);
void iox_release(struct endpoint *ep, const void *payload);

/* ---- sides.c ----------------------------------------------------------- */

/* Latency: side A times the round trips, side B answers. */
int latency_side_a(const struct job *job);
int latency_side_b(const struct job *job);
/* Throughput: the producer sends as fast as it can, the consumer times. */
int throughput_producer(const struct job *job);
int throughput_consumer(const struct job *job);
/* One process: memcpy between two buffers; an idle adaptive reader. */
int memcpy_side(const struct job *job);
int idle_side(const struct job *job);
/* Sort N SAMPLES (nanoseconds) and put their count and percentiles in REP. */
void summarize(uint64_t *samples, size_t n, struct side_report *rep);

/* ---- runner.c (rows) --------------------------------------------------- */

/* A row's count and percentiles from the side report REP. */
void take_percentiles(struct result *r, const struct side_report *rep);

/* ---- follow.c ---------------------------------------------------------- */

/* The read-only follower rows (--rows follow): wake-up, idle, writer. */
void run_follow(struct bench_run *run);
void follow_heading(void);
void follow_line(const struct bench_run *run, const struct result *r);
/* A wake row's median in microseconds; the writer row's 0644 / 0600 rate. */
double follow_wake_us(const struct bench_run *run, const struct result *r);
double follow_writer_ratio(const struct bench_run *run, const struct result *r);

/* ---- objects.c --------------------------------------------------------- */

/* A segment name no other object of this run has: the pid and a counter. */
void make_spec(struct bench_run *run, char *buf, size_t len);
void objects_init(struct objects *o);
/* Create what the row needs.  0, or -1 with WHY set (the row is skipped). */
int objects_make(struct job *job, char *why, size_t len);
/* Remove the segments' names (the children keep their mappings). */
void remove_segments(struct objects *o);
void objects_free(struct objects *o);

/* ---- runner.c ---------------------------------------------------------- */

void bench_catch_signals(void);
/* The signal that interrupted the run (SIGINT, SIGTERM, SIGHUP), or 0. */
int bench_signal_caught(void);
/* The CPUs this process may run on (up to MAX_SIDES), into RUN->pin_cpus:
 * 0, or -1 if fewer than two. */
int find_pin_cpus(struct bench_run *run);
/* Measure every row the options select, into RUN->results. */
void run_rows(struct bench_run *run, struct control *ctl);
/* A new row and the job that measures it (NULL: interrupted or no room);
 * run it in NSIDES children running FNS; a side's CPU use in %. */
struct result *start_row(struct job *job, int section, int transport, int mode, size_t size);
void run_row(struct job *job, struct result *r, int nsides, const side_fn *fns);
double cpu_percent(const struct side_report *rep);

/* ---- fanout.c ---------------------------------------------------------- */

/* The fan-out rows: a writer and 1, 2, 4 consumers of one block ring. */
void run_fanout(struct job *job);
/* The slowest consumer's rate with FANOUT_MAX consumers as a multiple of
 * the single consumer's, both in R's wait mode. */
double x_single_consumer(const struct bench_run *run, const struct result *r);
/* The fan-out section of the table (nothing if it has no rows). */
void print_fanout(const struct bench_run *run);

/* ---- results.c --------------------------------------------------------- */

void add_note(struct bench_run *run, const char *fmt, ...) TOOL_PRINTF(2, 3);
/* A new row, NULL when there is no room left. */
struct result *new_result(struct bench_run *run, int section, int transport, int mode,
                          size_t size);
/* R's median or rate as a multiple of a reference row's: NAN without it. */
double x_raw_atomic(const struct bench_run *run, const struct result *r);
double x_raw_wait(const struct bench_run *run, const struct result *r);
double x_pipe(const struct bench_run *run, const struct result *r);
double x_memcpy(const struct bench_run *run, const struct result *r);
void evaluate_targets(struct bench_run *run);

/* ---- machine.c --------------------------------------------------------- */

void describe_machine(struct bench_run *run);

/* ---- report.c ---------------------------------------------------------- */

void print_table(const struct bench_run *run);
void print_json(const struct bench_run *run);
/* 0, or the exit status after a reported write error. */
int write_csv(const struct bench_run *run, const char *path);

#endif /* SHMKIT_BENCH_INT_H */
