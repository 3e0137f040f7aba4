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
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#define BENCH_CAN_PIN 1
/* musl's toolchain may lack the kernel headers: no raw futex row then. */
#if defined(HAVE_LINUX_FUTEX_H) || !defined(HAVE_CONFIG_H)
#include <linux/futex.h>
#include <sys/syscall.h>
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
#include <sys/ipc.h>
#include <sys/msg.h>
#endif

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
#include <sys/sysctl.h>
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
#define NOTE_LEN 200
#define MIN_SIZE 8               /* a message carries its 8-byte number */
#define MAX_SIZE (64u << 20)
#define KIB 1024u
#define MIB (1024u * 1024u)

enum transport {
    T_RAW_ATOMIC, T_RAW_WAIT, T_SLOT, T_RING, T_RING_ZC, T_PIPE, T_UNIX,
    T_POSIX_MQ, T_SYSV_MQ, T_MEMCPY, T_COUNT
};

static const char *const transport_names[T_COUNT] = {
    "raw-atomic", "raw-wait", "slot", "ring", "ring-zc", "pipe", "unix",
    "posix-mq", "sysv-mq", "memcpy"
};

enum section { S_LATENCY = 1, S_THROUGHPUT = 2, S_IDLE = 4 };

#define NO_MODE (-1)
#define MODE_BITS 3  /* SHMKIT_WAIT_ADAPTIVE, _SPIN, _BLOCK */

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
    _Alignas(128) struct side_report side[2];
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

struct job {
    const struct options *opt;
    int section, transport, mode;
    size_t size;
    struct control *ctl;
    struct objects obj;
    int ready_fd;         /* child: write one byte when set up */
    int go_fd;            /* child: one byte arrives when all may start */
    int raw_fallback;     /* raw-wait measured with the library (no raw primitive) */
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
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static volatile uint64_t checksum_sink;   /* keeps the consumer's reads */
static volatile sig_atomic_t caught_signal;
static volatile sig_atomic_t watchdog_fired;

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t now_ns(void)
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

/* A measured window of one side: wall and CPU time. */
struct window {
    double wall0, cpu0;
};

static void window_start(struct window *w)
{
    w->cpu0 = cpu_s();
    w->wall0 = now_s();
}

static void window_end(const struct window *w, struct side_report *rep)
{
    rep->wall = now_s() - w->wall0;
    rep->cpu = cpu_s() - w->cpu0;
}

static void cpu_relax(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__ __volatile__("pause" ::: "memory");
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int report_fail(struct side_report *rep, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(rep->note, sizeof rep->note, fmt, ap);
    va_end(ap);
    rep->ok = 0;
    return -1;
}

/* "64", "4k", "64k", "1M", or the exact number of bytes. */
static const char *size_text(size_t size, char *buf, size_t len)
{
    if (size >= MIB && size % MIB == 0)
        snprintf(buf, len, "%zuM", size / MIB);
    else if (size >= KIB && size % KIB == 0)
        snprintf(buf, len, "%zuk", size / KIB);
    else
        snprintf(buf, len, "%zu", size);
    return buf;
}

static const char *mode_name(int mode)
{
    switch (mode) {
    case SHMKIT_WAIT_ADAPTIVE: return "adaptive";
    case SHMKIT_WAIT_SPIN: return "spin";
    case SHMKIT_WAIT_BLOCK: return "block";
    default: return "-";
    }
}

/* Ring capacities (documented in doc/BENCHMARKS.md): room for at least
 * four frames, and at least 64 KiB (latency) or 1 MiB (throughput), so
 * that a producer is never throttled by a small ring; shmkit_ring_create
 * rounds the capacity up to a power of two. */
static void ring_options(int section, size_t size, struct shmkit_ring_options *options)
{
    size_t floor = section == S_THROUGHPUT ? MIB : 64 * KIB;
    size_t frames = 4 * (size + 32);

    shmkit_ring_options_init(options);
    options->capacity = frames > floor ? frames : floor;
    options->max_message = size;
    options->mode = 0600;
    options->flags = SHMKIT_EXCL;
}

/* ------------------------------------------------------------------ */
/* Messages: what producers write and consumers read                   */
/* ------------------------------------------------------------------ */

static void produce(unsigned char *p, size_t size, uint64_t seq)
{
    memset(p, (int)(seq & 0xffu), size);
    memcpy(p, &seq, sizeof seq);
}

/* A sum of 64-bit words in four independent chains, so that reading is
 * limited by the memory system rather than by one chain of additions. */
static uint64_t sum_bytes(const unsigned char *p, size_t n)
{
    uint64_t s[4] = { 0, 0, 0, 0 }, w[4];
    size_t i;

    for (i = 0; i + sizeof w <= n; i += sizeof w) {
        memcpy(w, p + i, sizeof w);
        s[0] += w[0];
        s[1] += w[1];
        s[2] += w[2];
        s[3] += w[3];
    }
    for (; i < n; i++)
        s[0] += p[i];
    return s[0] + s[1] + s[2] + s[3];
}

/* Read a whole message of LEN bytes; 0 and its number, or -1 if it is
 * not what a producer of SIZE-byte messages writes. */
static int consume(const unsigned char *p, size_t len, size_t size, uint64_t *seq)
{
    if (len != size)
        return -1;
    memcpy(seq, p, sizeof *seq);
    checksum_sink += sum_bytes(p, len);
    if (*seq != STOP_SEQ && len > 8 && p[len - 1] != (unsigned char)(*seq & 0xffu))
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The raw wait mechanism                                              */
/* ------------------------------------------------------------------ */

#ifdef BENCH_RAW_FUTEX
/* Shared (not private) futexes: the word is in a page shared across fork. */
static int raw_block(bench_word *word, uint32_t expected)
{
    struct timespec ts = { WAIT_MS / 1000, 0 };

    if (syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, &ts, NULL, 0) == 0)
        return 0;
    return errno == EAGAIN || errno == EINTR ? 0 : -errno;
}

static void raw_wake(bench_word *word)
{
    (void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}
#endif

/* ------------------------------------------------------------------ */
/* Endpoints                                                           */
/* ------------------------------------------------------------------ */

/* A failed shmkit call: its message and the library's detail. */
static int ep_fail(struct endpoint *ep, const char *what, int code)
{
    const char *detail = shmkit_error_detail();

    return report_fail(&ep->job->ctl->side[ep->side], "%s: %s%s%s%s", what,
                       shmkit_strerror(code), detail[0] ? " (" : "", detail,
                       detail[0] ? ")" : "");
}

/* A failed system call. */
static int ep_errno(struct endpoint *ep, const char *what)
{
    return report_fail(&ep->job->ctl->side[ep->side], "%s: %s", what, strerror(errno));
}

/* Open the sending end of direction TX and the receiving end of RX
 * (either may be -1). */
static int ep_open(struct endpoint *ep, const struct job *job, int side, int tx, int rx)
{
    const struct objects *o = &job->obj;
    int rc = 0;

    memset(ep, 0, sizeof *ep);
    ep->job = job;
    ep->side = side;
    ep->transport = job->transport;
    ep->size = job->size;
    ep->dir_tx = tx;
    ep->dir_rx = rx;
    ep->fd_tx = ep->fd_rx = -1;
    /* A private buffer, with room for a System V message type before it. */
    ep->alloc = malloc(job->size + 64);
    if (ep->alloc == NULL)
        return ep_errno(ep, "malloc");
    ep->buf = ep->alloc + 64;
    memset(ep->alloc, 0, job->size + 64);

    switch (ep->transport) {
    case T_SLOT:
        if (tx >= 0 && (rc = shmkit_slot_open(&ep->slot_tx, o->seg[tx], SHMKIT_WRITE)) < 0)
            return ep_fail(ep, "slot open (writer)", rc);
        if (rx >= 0 && (rc = shmkit_slot_open(&ep->slot_rx, o->seg[rx], 0)) < 0)
            return ep_fail(ep, "slot open (reader)", rc);
        /* Set up the wait path now (its writable view of the header is
         * mapped on first use), before the parent removes the names. */
        if (rx >= 0)
            (void)shmkit_slot_wait(ep->slot_rx, 0, 0);
        break;
    case T_RING:
    case T_RING_ZC:
        if (tx >= 0 && (rc = shmkit_ring_open(&ep->ring_tx, o->seg[tx], SHMKIT_WRITE)) < 0)
            return ep_fail(ep, "ring open (writer)", rc);
        if (rx >= 0 && (rc = shmkit_ring_open(&ep->ring_rx, o->seg[rx], 0)) < 0)
            return ep_fail(ep, "ring open (consumer)", rc);
        if (rx >= 0)
            (void)shmkit_ring_recv(ep->ring_rx, ep->buf, ep->size, 0);
        break;
    case T_PIPE:
        ep->fd_tx = tx >= 0 ? o->pipe_fd[tx][1] : -1;
        ep->fd_rx = rx >= 0 ? o->pipe_fd[rx][0] : -1;
        break;
    case T_UNIX:
        /* Direction 0 goes from sock[0] to sock[1], direction 1 back. */
        ep->fd_tx = tx >= 0 ? o->sock[tx] : -1;
        ep->fd_rx = rx >= 0 ? o->sock[1 - rx] : -1;
        break;
    default:
        break;
    }
    return 0;
}

static void ep_close(struct endpoint *ep)
{
    shmkit_slot_close(ep->slot_tx);
    shmkit_slot_close(ep->slot_rx);
    shmkit_ring_close(ep->ring_tx);
    shmkit_ring_close(ep->ring_rx);
    free(ep->alloc);
    ep->alloc = NULL;
}

static int write_full(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_full(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = EPIPE;
            return -1;
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Send message SEQ. */
static int ep_send(struct endpoint *ep, uint64_t seq)
{
    struct control *ctl = ep->job->ctl;
    int rc;

    switch (ep->transport) {
    case T_RAW_ATOMIC:
        /* One word: A writes 2i+1, B answers 2i+2. */
        ep->raw_last = seq == STOP_SEQ ? STOP_WORD
                                       : (uint32_t)(2 * seq + 1 + (uint64_t)ep->dir_tx);
        WORD_STORE(&ctl->atomic_word.w, ep->raw_last);
        return 0;
#ifdef BENCH_RAW_FUTEX
    case T_RAW_WAIT: {
        bench_word *w = &ctl->wait_word[ep->dir_tx].w;
        WORD_STORE(w, seq == STOP_SEQ ? STOP_WORD : (uint32_t)(seq + 1));
        raw_wake(w);
        return 0;
    }
#endif
    case T_SLOT:
        produce(ep->buf, ep->size, seq);
        rc = shmkit_slot_write(ep->slot_tx, ep->buf, ep->size);
        return rc < 0 ? ep_fail(ep, "shmkit_slot_write", rc) : 0;
    case T_RING:
        produce(ep->buf, ep->size, seq);
        rc = shmkit_ring_send(ep->ring_tx, ep->buf, ep->size, WAIT_MS);
        return rc < 0 ? ep_fail(ep, "shmkit_ring_send", rc) : 0;
    case T_RING_ZC: {
        void *p;
        rc = shmkit_ring_reserve(ep->ring_tx, &p, ep->size, WAIT_MS);
        if (rc < 0)
            return ep_fail(ep, "shmkit_ring_reserve", rc);
        produce(p, ep->size, seq);
        rc = shmkit_ring_commit(ep->ring_tx, ep->size);
        return rc < 0 ? ep_fail(ep, "shmkit_ring_commit", rc) : 0;
    }
    case T_PIPE:
    case T_UNIX:
        produce(ep->buf, ep->size, seq);
        return write_full(ep->fd_tx, ep->buf, ep->size) < 0 ? ep_errno(ep, "write") : 0;
#ifdef BENCH_POSIX_MQ
    case T_POSIX_MQ:
        produce(ep->buf, ep->size, seq);
        while (mq_send(ep->job->obj.mq[ep->dir_tx], (const char *)ep->buf, ep->size, 0) != 0)
            if (errno != EINTR)
                return ep_errno(ep, "mq_send");
        return 0;
#endif
#ifdef BENCH_SYSV_MQ
    case T_SYSV_MQ: {
        long type = 1;
        unsigned char *m = ep->buf - sizeof type;
        memcpy(m, &type, sizeof type);
        produce(ep->buf, ep->size, seq);
        while (msgsnd(ep->job->obj.msqid[ep->dir_tx], m, ep->size, 0) != 0)
            if (errno != EINTR)
                return ep_errno(ep, "msgsnd");
        return 0;
    }
#endif
    default:
        return ep_fail(ep, "send", -ENOTSUP);
    }
}

static int ep_bad_message(struct endpoint *ep, size_t len)
{
    const char *what = len != ep->size ? "message of the wrong length" : "damaged message";

    return report_fail(&ep->job->ctl->side[ep->side], "%s (%zu bytes)", what, len);
}

static int recv_raw_atomic(struct endpoint *ep, uint64_t *seq)
{
    bench_word *w = &ep->job->ctl->atomic_word.w;
    unsigned n = 0;
    uint32_t v;

    while ((v = WORD_LOAD(w)) == ep->raw_last) {
        cpu_relax();
        /* Never starve a partner that shares our CPU (no pinning). */
        if ((++n & 0xffffu) == 0)
            sched_yield();
    }
    ep->raw_last = v;
    *seq = v == STOP_WORD ? STOP_SEQ : (uint64_t)(v - 1u) / 2;
    return 0;
}

#ifdef BENCH_RAW_FUTEX
static int recv_raw_wait(struct endpoint *ep, uint64_t *seq)
{
    bench_word *w = &ep->job->ctl->wait_word[ep->dir_rx].w;
    uint32_t v;
    uint64_t deadline = now_ns() + (uint64_t)WAIT_MS * 1000000u;

    while ((v = WORD_LOAD(w)) == ep->raw_seen[ep->dir_rx]) {
        int rc = raw_block(w, v);
        if (rc < 0)
            return ep_fail(ep, "futex wait", rc);
        if (now_ns() > deadline)
            return ep_fail(ep, "futex wait", -ETIMEDOUT);
    }
    ep->raw_seen[ep->dir_rx] = v;
    *seq = v == STOP_WORD ? STOP_SEQ : (uint64_t)v - 1;
    return 0;
}
#endif

/* Wait for the next slot version and read it. */
static int recv_slot(struct endpoint *ep, uint64_t *seq)
{
    uint64_t version;
    int rc;

    do
        rc = shmkit_slot_wait(ep->slot_rx, ep->slot_seen, WAIT_MS);
    while (rc == -EINTR);
    if (rc < 0)
        return ep_fail(ep, "shmkit_slot_wait", rc);
    rc = shmkit_slot_read(ep->slot_rx, ep->buf, ep->size, &version);
    if (rc < 0)
        return ep_fail(ep, "shmkit_slot_read", rc);
    ep->slot_seen = version;
    return consume(ep->buf, (size_t)rc, ep->size, seq) < 0 ? ep_bad_message(ep, (size_t)rc)
                                                             : 0;
}

static int recv_ring(struct endpoint *ep, uint64_t *seq)
{
    int rc;

    do
        rc = shmkit_ring_recv(ep->ring_rx, ep->buf, ep->size, WAIT_MS);
    while (rc == -EINTR);
    if (rc < 0)
        return ep_fail(ep, "shmkit_ring_recv", rc);
    return consume(ep->buf, (size_t)rc, ep->size, seq) < 0 ? ep_bad_message(ep, (size_t)rc)
                                                             : 0;
}

static int recv_ring_zc(struct endpoint *ep, uint64_t *seq)
{
    const void *p;
    int rc;

    do
        rc = shmkit_ring_peek(ep->ring_rx, &p, WAIT_MS);
    while (rc == -EINTR);
    if (rc < 0)
        return ep_fail(ep, "shmkit_ring_peek", rc);
    if (consume(p, (size_t)rc, ep->size, seq) < 0)
        return ep_bad_message(ep, (size_t)rc);
    rc = shmkit_ring_release(ep->ring_rx);
    return rc < 0 ? ep_fail(ep, "shmkit_ring_release", rc) : 0;
}

/* Receive the next message: its number in *SEQ (STOP_SEQ at the end). */
static int ep_recv(struct endpoint *ep, uint64_t *seq)
{
    switch (ep->transport) {
    case T_RAW_ATOMIC:
        return recv_raw_atomic(ep, seq);
#ifdef BENCH_RAW_FUTEX
    case T_RAW_WAIT:
        return recv_raw_wait(ep, seq);
#endif
    case T_SLOT:
        return recv_slot(ep, seq);
    case T_RING:
        return recv_ring(ep, seq);
    case T_RING_ZC:
        return recv_ring_zc(ep, seq);
    case T_PIPE:
    case T_UNIX:
        if (read_full(ep->fd_rx, ep->buf, ep->size) < 0)
            return ep_errno(ep, "read");
        return consume(ep->buf, ep->size, ep->size, seq) < 0 ? ep_bad_message(ep, ep->size) : 0;
#ifdef BENCH_POSIX_MQ
    case T_POSIX_MQ: {
        ssize_t n;
        mqd_t q = ep->job->obj.mq[ep->dir_rx];
        while ((n = mq_receive(q, (char *)ep->buf, ep->size, NULL)) < 0)
            if (errno != EINTR)
                return ep_errno(ep, "mq_receive");
        return consume(ep->buf, (size_t)n, ep->size, seq) < 0 ? ep_bad_message(ep, (size_t)n)
                                                                : 0;
    }
#endif
#ifdef BENCH_SYSV_MQ
    case T_SYSV_MQ: {
        ssize_t n;
        while ((n = msgrcv(ep->job->obj.msqid[ep->dir_rx], ep->buf - sizeof(long), ep->size,
                           0, 0)) < 0)
            if (errno != EINTR)
                return ep_errno(ep, "msgrcv");
        return consume(ep->buf, (size_t)n, ep->size, seq) < 0 ? ep_bad_message(ep, (size_t)n)
                                                                : 0;
    }
#endif
    default:
        return ep_fail(ep, "receive", -ENOTSUP);
    }
}

/* ------------------------------------------------------------------ */
/* What the children do                                                */
/* ------------------------------------------------------------------ */

/* Tell the parent that this side has opened everything, and wait until
 * every side has (nothing is sent before the consumer is ready). */
static void sync_start(const struct job *job)
{
    char c = 'r';

    while (write(job->ready_fd, &c, 1) < 0 && errno == EINTR)
        ;
    close(job->ready_fd);
    while (read(job->go_fd, &c, 1) < 0 && errno == EINTR)
        ;
    close(job->go_fd);
}

static int compare_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static double percentile(const uint64_t *sorted, size_t n, double p)
{
    return (double)sorted[(size_t)(p * (double)(n - 1) + 0.5)];
}

static void summarize(uint64_t *samples, size_t n, struct side_report *rep)
{
    qsort(samples, n, sizeof *samples, compare_u64);
    rep->n = n;
    rep->median = percentile(samples, n, 0.5);
    rep->p10 = percentile(samples, n, 0.10);
    rep->p90 = percentile(samples, n, 0.90);
    rep->p99 = percentile(samples, n, 0.99);
}

/* One round trip from side A: send I, receive the answer I. */
static int round_trip(struct endpoint *ep, uint64_t i)
{
    uint64_t got;

    if (ep_send(ep, i) < 0 || ep_recv(ep, &got) < 0)
        return -1;
    if (got != i)
        return report_fail(&ep->job->ctl->side[0], "answer %llu to message %llu",
                           (unsigned long long)got, (unsigned long long)i);
    return 0;
}

static int latency_side_a(const struct job *job)
{
    const struct options *opt = job->opt;
    struct side_report *rep = &job->ctl->side[0];
    struct endpoint ep;
    struct window win;
    uint64_t *samples, i = 0, t0, t1, end;
    size_t n = 0;
    double warm_end;
    int rc = -1;

    samples = malloc(opt->max_samples * sizeof *samples);
    if (samples == NULL)
        return report_fail(rep, "out of memory for %zu samples", opt->max_samples);
    memset(samples, 0, opt->max_samples * sizeof *samples); /* fault the pages in now */
    if (ep_open(&ep, job, 0, 0, 1) < 0)
        goto out;
    sync_start(job);

    warm_end = now_s() + opt->warmup;
    for (; i < 10 || now_s() < warm_end; i++)
        if (round_trip(&ep, i) < 0)
            goto out;

    window_start(&win);
    t0 = now_ns();
    end = t0 + (uint64_t)(opt->duration * 1e9);
    for (;; i++) {
        if (round_trip(&ep, i) < 0)
            goto out;
        t1 = now_ns();
        samples[n++] = t1 - t0;
        t0 = t1;
        if (n == opt->max_samples || (n >= opt->min_count && t1 >= end))
            break;
    }
    window_end(&win, rep);
    if (ep_send(&ep, STOP_SEQ) < 0)
        goto out;
    summarize(samples, n, rep);
    rep->ok = 1;
    rc = 0;
out:
    ep_close(&ep);
    free(samples);
    return rc;
}

static int latency_side_b(const struct job *job)
{
    struct side_report *rep = &job->ctl->side[1];
    struct endpoint ep;
    struct window win;
    uint64_t expect = 0, seq;
    int rc = -1;

    if (ep_open(&ep, job, 1, 1, 0) < 0)
        goto out;
    sync_start(job);
    if (ep_recv(&ep, &seq) < 0)
        goto out;
    window_start(&win);
    while (seq != STOP_SEQ) {
        if (seq != expect) {
            report_fail(rep, "message %llu where %llu was expected", (unsigned long long)seq,
                        (unsigned long long)expect);
            goto out;
        }
        expect++;
        if (ep_send(&ep, seq) < 0 || ep_recv(&ep, &seq) < 0)
            goto out;
    }
    window_end(&win, rep);
    rep->n = expect;
    rep->ok = 1;
    rc = 0;
out:
    ep_close(&ep);
    return rc;
}

/* How many messages between two looks at the clock: about 64 KiB. */
static uint64_t clock_stride(size_t size)
{
    return size >= 65536 ? 1 : 65536 / size;
}

static int throughput_producer(const struct job *job)
{
    const struct options *opt = job->opt;
    struct side_report *rep = &job->ctl->side[0];
    struct endpoint ep;
    struct window win;
    uint64_t seq = 0, from, stride = clock_stride(job->size);
    double end;
    int rc = -1;

    if (ep_open(&ep, job, 0, 0, -1) < 0)
        goto out;
    sync_start(job);
    end = now_s() + opt->warmup;
    for (;;) {
        if (ep_send(&ep, seq++) < 0)
            goto out;
        if (seq % stride == 0 && seq >= 10 && now_s() >= end)
            break;
    }
    /* The consumer times from message FROM on. */
    from = seq;
    job->ctl->from_seq = from;
    WORD_STORE(&job->ctl->measuring, 1u);
    window_start(&win);
    end = win.wall0 + opt->duration;
    for (;;) {
        if (ep_send(&ep, seq++) < 0)
            goto out;
        if ((seq - from) % stride == 0 && seq - from >= opt->min_count && now_s() >= end)
            break;
    }
    window_end(&win, rep);
    if (ep_send(&ep, STOP_SEQ) < 0)
        goto out;
    rep->n = seq - from;
    rep->ok = 1;
    rc = 0;
out:
    ep_close(&ep);
    return rc;
}

static int throughput_consumer(const struct job *job)
{
    struct side_report *rep = &job->ctl->side[1];
    struct endpoint ep;
    struct window win;
    uint64_t expect = 0, seq, from = 0, last = 0;
    int started = 0, rc = -1;

    memset(&win, 0, sizeof win);
    if (ep_open(&ep, job, 1, -1, 0) < 0)
        goto out;
    sync_start(job);
    for (;;) {
        if (ep_recv(&ep, &seq) < 0)
            goto out;
        if (seq == STOP_SEQ)
            break;
        if (seq != expect) {
            report_fail(rep, "message %llu where %llu was expected", (unsigned long long)seq,
                        (unsigned long long)expect);
            goto out;
        }
        expect++;
        last = seq;
        if (!started && WORD_LOAD(&job->ctl->measuring) != 0 && seq >= job->ctl->from_seq) {
            started = 1;
            from = seq;
            window_start(&win);
        }
    }
    if (!started || last == from) {
        report_fail(rep, "too few messages to time");
        goto out;
    }
    window_end(&win, rep);
    /* Messages from+1 .. last arrived within the window. */
    rep->n = last - from;
    rep->msgs_s = (double)rep->n / rep->wall;
    rep->bytes_s = rep->msgs_s * (double)job->size;
    rep->ok = 1;
    rc = 0;
out:
    ep_close(&ep);
    return rc;
}

/* Single-threaded memcpy between buffers larger than the caches, in
 * chunks of the message size, walking through both buffers. */
static int memcpy_side(const struct job *job)
{
    const struct options *opt = job->opt;
    struct side_report *rep = &job->ctl->side[0];
    size_t pool = opt->memcpy_pool, size = job->size, off = 0;
    unsigned char *src, *dst;
    struct window win;
    uint64_t n = 0;
    double end;

    if (pool < 4 * size)
        pool = 4 * size;
    pool -= pool % size;
    src = malloc(pool);
    dst = malloc(pool);
    if (src == NULL || dst == NULL) {
        free(src);
        free(dst);
        return report_fail(rep, "out of memory for two %zu-byte buffers", pool);
    }
    memset(src, 0x5a, pool);
    memset(dst, 0xa5, pool);
    sync_start(job);
    end = now_s() + opt->warmup;
    for (;;) {
        memcpy(dst + off, src + off, size);
        off = off + size == pool ? 0 : off + size;
        if (++n % clock_stride(size) == 0 && now_s() >= end)
            break;
    }
    window_start(&win);
    end = win.wall0 + opt->duration;
    for (n = 0;;) {
        memcpy(dst + off, src + off, size);
        off = off + size == pool ? 0 : off + size;
        if (++n % clock_stride(size) == 0 && n >= opt->min_count && now_s() >= end)
            break;
    }
    window_end(&win, rep);
    checksum_sink += dst[off];
    rep->n = n;
    rep->msgs_s = (double)n / rep->wall;
    rep->bytes_s = rep->msgs_s * (double)size;
    rep->ok = 1;
    free(src);
    free(dst);
    return 0;
}

/* An adaptive reader waiting with nothing arriving. */
static int idle_side(const struct job *job)
{
    struct side_report *rep = &job->ctl->side[0];
    int ms = (int)(job->opt->idle_seconds * 1000.0 + 0.5);
    struct endpoint ep;
    struct window win;
    int rc;

    if (ep_open(&ep, job, 0, -1, 0) < 0) {
        ep_close(&ep);
        return -1;
    }
    sync_start(job);
    window_start(&win);
    if (job->transport == T_SLOT) {
        rc = shmkit_slot_wait(ep.slot_rx, 0, ms);
    } else {
        rc = shmkit_ring_recv(ep.ring_rx, ep.buf, ep.size, ms);
    }
    window_end(&win, rep);
    ep_close(&ep);
    if (rc != -ETIMEDOUT)
        return report_fail(rep, "the wait returned %d (%s), not a timeout", rc,
                           shmkit_strerror(rc));
    rep->ok = 1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The parent: objects, children, watchdog                             */
/* ------------------------------------------------------------------ */

static unsigned name_counter;

static void make_spec(const struct options *opt, char *buf, size_t len)
{
    unsigned n = name_counter++;

    if (opt->backend == SHMKIT_BACKEND_SYSV)
        snprintf(buf, len, "sysv:0x%08lx",
                 0x6b000000ul + (((unsigned long)getpid() & 0xffffu) << 8) + (n & 0xffu));
    else
        snprintf(buf, len, "/shmkit-bench.%ld.%u", (long)getpid(), n);
}

static void objects_init(struct objects *o)
{
    memset(o, 0, sizeof *o);
    o->pipe_fd[0][0] = o->pipe_fd[0][1] = o->pipe_fd[1][0] = o->pipe_fd[1][1] = -1;
    o->sock[0] = o->sock[1] = -1;
    o->msqid[0] = o->msqid[1] = -1;
}

static void remove_segments(struct objects *o)
{
    int d;

    for (d = 0; d < 2; d++)
        if (o->seg[d][0] != '\0') {
            (void)shmkit_unlink(o->seg[d]);
            o->seg[d][0] = '\0';
        }
}

static void objects_free(struct objects *o)
{
    int d, e;

    remove_segments(o);
    for (d = 0; d < 2; d++) {
        for (e = 0; e < 2; e++)
            if (o->pipe_fd[d][e] >= 0)
                close(o->pipe_fd[d][e]);
        if (o->sock[d] >= 0)
            close(o->sock[d]);
#ifdef BENCH_POSIX_MQ
        if (o->have_mq[d])
            mq_close(o->mq[d]);
#endif
#ifdef BENCH_SYSV_MQ
        if (o->msqid[d] >= 0)
            (void)msgctl(o->msqid[d], IPC_RMID, NULL);
#endif
    }
    objects_init(o);
}

#ifdef BENCH_POSIX_MQ
/* A queue of one SIZE-byte message; removed by name at once, the
 * descriptors live on in the children. */
static int make_posix_mq(const struct job *job, mqd_t *q, char *why, size_t len)
{
    struct mq_attr attr;
    char name[64];

    memset(&attr, 0, sizeof attr);
    attr.mq_maxmsg = 1;
    attr.mq_msgsize = (long)job->size;
    snprintf(name, sizeof name, "/shmkit-bench.%ld.mq%u", (long)getpid(), name_counter++);
    *q = mq_open(name, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
    if (*q == (mqd_t)-1) {
        snprintf(why, len, "mq_open with %zu-byte messages: %s%s", job->size, strerror(errno),
                 errno == EINVAL || errno == EMFILE || errno == ENOMEM
                     ? " (above the system's mq limits)" : "");
        return -1;
    }
    (void)mq_unlink(name);
    return 0;
}
#endif

#ifdef BENCH_SYSV_MQ
/* A private queue; probe that a SIZE-byte message fits (msgmax). */
static int make_sysv_mq(const struct job *job, int *id, char *why, size_t len)
{
    unsigned char *m;
    long type = 1;
    int rc = 0;

    *id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
    if (*id < 0) {
        snprintf(why, len, "msgget: %s", strerror(errno));
        return -1;
    }
    m = calloc(1, sizeof type + job->size);
    if (m == NULL) {
        snprintf(why, len, "out of memory");
        return -1;
    }
    memcpy(m, &type, sizeof type);
    if (msgsnd(*id, m, job->size, IPC_NOWAIT) != 0) {
        snprintf(why, len, "msgsnd of %zu bytes: %s%s", job->size, strerror(errno),
                 errno == EINVAL || errno == EAGAIN ? " (above msgmax or msgmnb)" : "");
        rc = -1;
    } else {
        (void)msgrcv(*id, m, job->size, 0, IPC_NOWAIT);
    }
    free(m);
    return rc;
}
#endif

/* Create what the row needs.  0, or -1 with WHY set (the row is skipped). */
static int objects_make(struct job *job, char *why, size_t len)
{
    struct objects *o = &job->obj;
    int d, rc = 0;

    for (d = 0; d < 2; d++) {
        switch (job->transport) {
        case T_SLOT: {
            shmkit_slot *s;
            make_spec(job->opt, o->seg[d], sizeof o->seg[d]);
            rc = shmkit_slot_create(&s, o->seg[d], NULL, job->size, 0600, SHMKIT_EXCL);
            if (rc < 0) {
                o->seg[d][0] = '\0';
                snprintf(why, len, "shmkit_slot_create: %s (%s)", shmkit_strerror(rc),
                         shmkit_error_detail());
                return -1;
            }
            shmkit_slot_close(s);
            break;
        }
        case T_RING:
        case T_RING_ZC: {
            struct shmkit_ring_options options;
            shmkit_ring *r;
            make_spec(job->opt, o->seg[d], sizeof o->seg[d]);
            ring_options(job->section, job->size, &options);
            rc = shmkit_ring_create(&r, o->seg[d], &options);
            if (rc < 0) {
                o->seg[d][0] = '\0';
                snprintf(why, len, "shmkit_ring_create: %s (%s)", shmkit_strerror(rc),
                         shmkit_error_detail());
                return -1;
            }
            shmkit_ring_close(r);
            break;
        }
        case T_PIPE:
            if (pipe(o->pipe_fd[d]) != 0) {
                snprintf(why, len, "pipe: %s", strerror(errno));
                return -1;
            }
            break;
        case T_UNIX:
            if (d == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, o->sock) != 0) {
                snprintf(why, len, "socketpair: %s", strerror(errno));
                return -1;
            }
            break;
#ifdef BENCH_POSIX_MQ
        case T_POSIX_MQ:
            if (make_posix_mq(job, &o->mq[d], why, len) < 0)
                return -1;
            o->have_mq[d] = 1;
            break;
#endif
#ifdef BENCH_SYSV_MQ
        case T_SYSV_MQ:
            if (make_sysv_mq(job, &o->msqid[d], why, len) < 0)
                return -1;
            break;
#endif
        default:
            break;
        }
    }
    return 0;
}

static void on_signal(int sig)
{
    if (sig == SIGALRM)
        watchdog_fired = 1;
    else
        caught_signal = sig;
}

static void catch_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: waitpid and read return EINTR */
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* A signal ignored at start stays ignored (nohup, background
         * jobs of a non-interactive shell), as in the other tools. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN &&
            sigs[i] != SIGALRM)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* In a child: what the parent caught goes back to the default action
 * (the parent ends its children itself); what was ignored stays so. */
static void default_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
    size_t i;

    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == on_signal)
            signal(sigs[i], SIG_DFL);
    }
}

#ifdef BENCH_CAN_PIN
static int pin_cpus[2] = { -1, -1 };

/* The first two CPUs this process may run on. */
static int find_pin_cpus(void)
{
    cpu_set_t set;
    int cpu, found = 0;

    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    for (cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++)
        if (CPU_ISSET(cpu, &set))
            pin_cpus[found++] = cpu;
    return found == 2 ? 0 : -1;
}

static void pin_side(int side)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(pin_cpus[side], &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}
#endif

typedef int (*side_fn)(const struct job *job);

/* In the child: set up the process, run FN, leave. */
static _Noreturn void child_main(struct job *job, int side, side_fn fn)
{
    default_signals();
#ifdef BENCH_CAN_PIN
    if (job->opt->pin)
        pin_side(side);
#else
    (void)side;
#endif
    if (job->mode != NO_MODE)
        (void)shmkit_set_wait_mode(job->mode);
    _exit(fn(job) == 0 ? 0 : 1);
}

static void kill_children(const pid_t *pids, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
}

/* Wait for every child in PIDS (ours, started by run_job); a failure, a
 * signal or the watchdog ends the others.  0 if all exited with 0. */
static int reap_children(pid_t *pids, int n)
{
    int left = 0, ok = 1, i;

    for (i = 0; i < n; i++)
        left += pids[i] > 0;
    while (left > 0) {
        int status;
        pid_t pid;

        if (caught_signal || watchdog_fired) {
            kill_children(pids, n);
            ok = 0;
        }
        pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno != EINTR)
                break;
            continue;
        }
        for (i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            pids[i] = -1;
            left--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                ok = 0;
                kill_children(pids, n);
            }
        }
    }
    return ok ? 0 : -1;
}

/* Read one byte per child from the ready pipe (EOF if one died). */
static void await_ready(int fd, int n)
{
    char c;
    int got = 0;

    while (got < n) {
        ssize_t r = read(fd, &c, 1);
        if (r == 1)
            got++;
        else if (r == 0 || (r < 0 && errno != EINTR) || caught_signal || watchdog_fired)
            break;
    }
}

/* Run FNS[0..NSIDES-1] in as many children and fill RES. */
static void run_job(struct job *job, int nsides, const side_fn *fns, struct result *res)
{
    pid_t pids[2] = { -1, -1 };
    int ready[2], go[2], side, started = 0, rc;
    char go_bytes[2] = { 'g', 'g' };
    double limit = job->opt->warmup + job->opt->duration + job->opt->idle_seconds + 30.0;

    memset(job->ctl, 0, sizeof *job->ctl);
    objects_init(&job->obj);
    if (objects_make(job, res->note, sizeof res->note) < 0) {
        objects_free(&job->obj);
        res->skipped = 1;
        return;
    }
    fflush(stdout);
    fflush(stderr);
    if (pipe(ready) != 0) {
        snprintf(res->note, sizeof res->note, "pipe: %s", strerror(errno));
        objects_free(&job->obj);
        return;
    }
    if (pipe(go) != 0) {
        snprintf(res->note, sizeof res->note, "pipe: %s", strerror(errno));
        close(ready[0]);
        close(ready[1]);
        objects_free(&job->obj);
        return;
    }
    watchdog_fired = 0;
    alarm((unsigned)limit);
    for (side = 0; side < nsides; side++) {
        pids[side] = fork();
        if (pids[side] == 0) {
            close(ready[0]);
            close(go[1]);
            job->ready_fd = ready[1];
            job->go_fd = go[0];
            child_main(job, side, fns[side]);
        }
        if (pids[side] < 0) {
            snprintf(res->note, sizeof res->note, "fork: %s", strerror(errno));
            break;
        }
        started++;
    }
    close(ready[1]);
    close(go[0]);
    await_ready(ready[0], started);
    close(ready[0]);
    /* Both sides have their mappings: the names can go now, so that an
     * interrupted bench leaves nothing behind.  (A System V semaphore set
     * goes with its segment, so that wait mechanism keeps them.) */
    if (strcmp(shmkit_wait_mechanism(), "sysv-sem") != 0)
        remove_segments(&job->obj);
    while (write(go[1], go_bytes, (size_t)started) < 0 && errno == EINTR)
        ;
    close(go[1]);
    rc = reap_children(pids, nsides);
    alarm(0);
    objects_free(&job->obj);
    if (started < nsides)
        return;
    if (rc < 0 || !job->ctl->side[0].ok || (nsides > 1 && !job->ctl->side[1].ok)) {
        const char *why = !job->ctl->side[0].ok && job->ctl->side[0].note[0] != '\0'
                              ? job->ctl->side[0].note
                              : job->ctl->side[1].note;
        snprintf(res->note, sizeof res->note, "failed: %.180s",
                 caught_signal ? "interrupted"
                 : watchdog_fired ? "timed out"
                 : why[0] != '\0' ? why : "a side exited abnormally");
        return;
    }
    res->ok = 1;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

static struct result results[MAX_RESULTS];
static int n_results;
static char notes[MAX_NOTES][NOTE_LEN];
static int n_notes;

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void add_note(const char *fmt, ...)
{
    va_list ap;

    if (n_notes == MAX_NOTES)
        return;
    va_start(ap, fmt);
    vsnprintf(notes[n_notes++], NOTE_LEN, fmt, ap);
    va_end(ap);
}

static struct result *new_result(int section, int transport, int mode, size_t size)
{
    struct result *r;

    if (n_results == MAX_RESULTS)
        return NULL;
    r = &results[n_results++];
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

static double cpu_percent(const struct side_report *rep)
{
    return rep->wall > 0 ? 100.0 * rep->cpu / rep->wall : -1.0;
}

/* Progress on stderr for the table output, so a long run shows life. */
static void progress(const struct options *opt, const struct result *r)
{
    char sz[24];

    if (opt->json || opt->quick || !isatty(STDERR_FILENO))
        return;
    fprintf(stderr, "\r%-10s %-10s %-8s %-6s", r->section == S_LATENCY ? "latency"
                                               : r->section == S_THROUGHPUT ? "throughput"
                                                                           : "idle",
            transport_names[r->transport], mode_name(r->mode),
            r->size ? size_text(r->size, sz, sizeof sz) : "word");
    fflush(stderr);
}

static void progress_done(const struct options *opt)
{
    if (!opt->json && !opt->quick && isatty(STDERR_FILENO))
        fprintf(stderr, "\r%40s\r", "");
}

static void run_row(struct job *job, struct result *r, int nsides, const side_fn *fns)
{
    progress(job->opt, r);
    run_job(job, nsides, fns, r);
    if (!r->ok && !r->skipped && r->note[0] == '\0')
        snprintf(r->note, sizeof r->note, "failed");
}

static void latency_row(struct job *job, int transport, int mode, size_t size)
{
    static const side_fn fns[2] = { latency_side_a, latency_side_b };
    struct result *r = new_result(S_LATENCY, transport, mode, size);

    if (r == NULL || caught_signal)
        return;
    job->section = S_LATENCY;
    job->transport = transport;
    job->mode = mode;
    job->size = size ? size : MIN_SIZE;
#ifndef BENCH_RAW_FUTEX
    if (transport == T_RAW_WAIT) {
        /* No raw primitive here: the library's slot in block mode. */
        job->transport = T_SLOT;
        job->mode = SHMKIT_WAIT_BLOCK;
    }
#endif
    run_row(job, r, 2, fns);
    if (r->ok) {
        const struct side_report *a = &job->ctl->side[0];
        r->n = a->n;
        r->median = a->median;
        r->p10 = a->p10;
        r->p90 = a->p90;
        r->p99 = a->p99;
        r->cpu[0] = cpu_percent(a);
        r->cpu[1] = cpu_percent(&job->ctl->side[1]);
    }
}

static void throughput_row(struct job *job, int transport, size_t size)
{
    static const side_fn pair[2] = { throughput_producer, throughput_consumer };
    static const side_fn single[1] = { memcpy_side };
    struct result *r = new_result(S_THROUGHPUT, transport, NO_MODE, size);

    if (r == NULL || caught_signal)
        return;
    job->section = S_THROUGHPUT;
    job->transport = transport;
    job->mode = NO_MODE;
    job->size = size;
    if (transport == T_MEMCPY) {
        run_row(job, r, 1, single);
        if (r->ok) {
            r->n = job->ctl->side[0].n;
            r->msgs_s = job->ctl->side[0].msgs_s;
            r->bytes_s = job->ctl->side[0].bytes_s;
            r->cpu[0] = cpu_percent(&job->ctl->side[0]);
        }
        return;
    }
    run_row(job, r, 2, pair);
    if (r->ok) {
        r->n = job->ctl->side[1].n;
        r->msgs_s = job->ctl->side[1].msgs_s;
        r->bytes_s = job->ctl->side[1].bytes_s;
        r->cpu[0] = cpu_percent(&job->ctl->side[0]);
        r->cpu[1] = cpu_percent(&job->ctl->side[1]);
    }
}

static void idle_row(struct job *job, int transport)
{
    static const side_fn single[1] = { idle_side };
    struct result *r = new_result(S_IDLE, transport, SHMKIT_WAIT_ADAPTIVE, 64);

    if (r == NULL || caught_signal)
        return;
    job->section = S_IDLE;
    job->transport = transport;
    job->mode = SHMKIT_WAIT_ADAPTIVE;
    job->size = 64;
    run_row(job, r, 1, single);
    if (r->ok) {
        r->seconds = job->ctl->side[0].wall;
        r->cpu[0] = cpu_percent(&job->ctl->side[0]);
    }
}

static int selected(const struct options *opt, int transport)
{
    return (opt->only >> transport) & 1u;
}

static int library_transport(int t)
{
    return t == T_SLOT || t == T_RING || t == T_RING_ZC;
}

static void run_latency(struct job *job)
{
    static const int modes[MODE_BITS] = { SHMKIT_WAIT_ADAPTIVE, SHMKIT_WAIT_SPIN,
                                          SHMKIT_WAIT_BLOCK };
    const struct options *opt = job->opt;
    int i, t, m;

    for (t = T_RAW_ATOMIC; t <= T_RAW_WAIT; t++)
        if (selected(opt, t))
            latency_row(job, t, NO_MODE, 0);
    for (i = 0; i < opt->n_lat; i++) {
        for (t = T_SLOT; t <= T_SYSV_MQ; t++) {
            if (!selected(opt, t))
                continue;
            if (!library_transport(t)) {
                latency_row(job, t, NO_MODE, opt->lat_sizes[i]);
                continue;
            }
            for (m = 0; m < MODE_BITS; m++)
                if ((opt->modes >> modes[m]) & 1u)
                    latency_row(job, t, modes[m], opt->lat_sizes[i]);
        }
    }
}

static void run_throughput(struct job *job)
{
    static const int order[] = { T_RING, T_RING_ZC, T_PIPE, T_UNIX, T_MEMCPY };
    const struct options *opt = job->opt;
    size_t k;
    int i;

    for (i = 0; i < opt->n_tp; i++)
        for (k = 0; k < sizeof order / sizeof order[0]; k++)
            if (selected(opt, order[k]))
                throughput_row(job, order[k], opt->tp_sizes[i]);
}

static void run_idle(struct job *job)
{
    if (selected(job->opt, T_SLOT))
        idle_row(job, T_SLOT);
    if (selected(job->opt, T_RING))
        idle_row(job, T_RING);
}

/* ------------------------------------------------------------------ */
/* Ratios and targets                                                  */
/* ------------------------------------------------------------------ */

static const struct result *find_result(int section, int transport, int mode, size_t size)
{
    int i;

    for (i = 0; i < n_results; i++) {
        const struct result *r = &results[i];
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

static double x_raw_atomic(const struct result *r)
{
    return ratio(r->median, find_result(S_LATENCY, T_RAW_ATOMIC, NO_MODE, 0), 0);
}

static double x_raw_wait(const struct result *r)
{
    return ratio(r->median, find_result(S_LATENCY, T_RAW_WAIT, NO_MODE, 0), 0);
}

static double x_pipe(const struct result *r)
{
    if (r->section == S_LATENCY)
        return ratio(r->median, find_result(S_LATENCY, T_PIPE, NO_MODE, r->size), 0);
    return ratio(r->msgs_s, find_result(S_THROUGHPUT, T_PIPE, NO_MODE, r->size), 1);
}

static double x_memcpy(const struct result *r)
{
    return ratio(r->msgs_s, find_result(S_THROUGHPUT, T_MEMCPY, NO_MODE, r->size), 1);
}

struct target {
    char what[96];
    char goal[48];
    double measured;      /* the ratio or the percentage */
    int met;              /* 1, 0, or -1 not measured */
};

#define MAX_TARGETS 16
static struct target targets[MAX_TARGETS];
static int n_targets;

static void add_target(const char *what, const char *goal, double measured, int met)
{
    struct target *t;

    if (n_targets == MAX_TARGETS)
        return;
    t = &targets[n_targets++];
    snprintf(t->what, sizeof t->what, "%s", what);
    snprintf(t->goal, sizeof t->goal, "%s", goal);
    t->measured = measured;
    t->met = isnan(measured) ? -1 : met;
}

static void evaluate_targets(void)
{
    static const int lib[] = { T_SLOT, T_RING, T_RING_ZC };
    char what[96];
    size_t k;

    n_targets = 0;
    for (k = 0; k < 3; k++) {
        const struct result *r = find_result(S_LATENCY, lib[k], SHMKIT_WAIT_ADAPTIVE, 64);
        double x = r != NULL ? x_raw_atomic(r) : NAN;
        snprintf(what, sizeof what, "round trip 64 B, %s, adaptive", transport_names[lib[k]]);
        add_target(what, "<= 2 x raw-atomic", x, x <= 2.0);
    }
    for (k = 0; k < 3; k++) {
        const struct result *r = find_result(S_LATENCY, lib[k], SHMKIT_WAIT_BLOCK, 64);
        double x = r != NULL ? x_raw_wait(r) : NAN;
        snprintf(what, sizeof what, "round trip 64 B, %s, block", transport_names[lib[k]]);
        add_target(what, "<= 1.2 x raw-wait", x, x <= 1.2);
    }
    for (k = 1; k < 3; k++) {
        const struct result *r = find_result(S_THROUGHPUT, lib[k], NO_MODE, 64);
        double x = r != NULL ? x_pipe(r) : NAN;
        snprintf(what, sizeof what, "throughput 64 B, %s", transport_names[lib[k]]);
        add_target(what, ">= 50 x pipe", x, x >= 50.0);
    }
    {
        const struct result *r = find_result(S_THROUGHPUT, T_RING, NO_MODE, MIB);
        double x = r != NULL ? x_memcpy(r) : NAN;
        add_target("throughput 1 MiB, ring (copy)", ">= 0.4 x memcpy", x, x >= 0.4);
        r = find_result(S_THROUGHPUT, T_RING_ZC, NO_MODE, MIB);
        x = r != NULL ? x_memcpy(r) : NAN;
        add_target("throughput 1 MiB, ring-zc", ">= 0.8 x memcpy", x, x >= 0.8);
    }
    for (k = 0; k < 2; k++) {
        const struct result *r = find_result(S_IDLE, lib[k], SHMKIT_WAIT_ADAPTIVE, 64);
        double x = r != NULL ? r->cpu[0] : NAN;
        snprintf(what, sizeof what, "idle adaptive %s reader, CPU %%",
                 transport_names[lib[k]]);
        add_target(what, "< 1 % of a core", x, x < 1.0);
    }
}

/* ------------------------------------------------------------------ */
/* The machine                                                         */
/* ------------------------------------------------------------------ */

struct machine {
    long ncpu;
    char cpu_model[128];
    char kernel[256];
    double load[3];
    int have_load;
    char pinning[96];
};

static void trim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

static void cpu_model(char *buf, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];

    snprintf(buf, len, "unknown");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            char *colon = strchr(line, ':');
            if (colon == NULL)
                continue;
            if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0 ||
                strncmp(line, "cpu model", 9) == 0) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                snprintf(buf, len, "%s", colon);
                trim(buf);
                break;
            }
        }
        fclose(f);
        return;
    }
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__)
    {
        size_t n = len;
        if (sysctlbyname("machdep.cpu.brand_string", buf, &n, NULL, 0) != 0) {
            n = len;
            if (sysctlbyname("hw.model", buf, &n, NULL, 0) != 0)
                snprintf(buf, len, "unknown");
        }
    }
#elif defined(__OpenBSD__)
    {
        int mib[2] = { CTL_HW, HW_MODEL };
        size_t n = len;
        if (sysctl(mib, 2, buf, &n, NULL, 0) != 0)
            snprintf(buf, len, "unknown");
    }
#endif
}

static void describe_machine(const struct options *opt, struct machine *m)
{
    struct utsname u;

    memset(m, 0, sizeof *m);
    m->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_model(m->cpu_model, sizeof m->cpu_model);
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    m->have_load = getloadavg(m->load, 3) == 3;
    if (!opt->pin) {
        snprintf(m->pinning, sizeof m->pinning, "off (the scheduler places both sides)");
        return;
    }
#ifdef BENCH_CAN_PIN
    if (find_pin_cpus() == 0)
        snprintf(m->pinning, sizeof m->pinning, "side A on CPU %d, side B on CPU %d",
                 pin_cpus[0], pin_cpus[1]);
    else
        snprintf(m->pinning, sizeof m->pinning, "off (fewer than two CPUs available)");
#else
    snprintf(m->pinning, sizeof m->pinning, "off (not supported on this platform)");
#endif
}

/* ------------------------------------------------------------------ */
/* Output: table, CSV, JSON                                            */
/* ------------------------------------------------------------------ */

static const char *section_name(int s)
{
    return s == S_LATENCY ? "latency" : s == S_THROUGHPUT ? "throughput" : "idle";
}

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

static void print_header(const struct options *opt, const struct machine *m)
{
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

static void print_latency(void)
{
    char sz[24];
    int i, any = 0;

    for (i = 0; i < n_results; i++) {
        const struct result *r = &results[i];
        if (r->section != S_LATENCY)
            continue;
        if (!any++) {
            printf("\nRound-trip latency in microseconds (p10/p90: spread; cpu: %% of a core, "
                   "side A / side B)\n");
            printf("%-5s %-10s %-8s %9s %9s %9s %9s %8s %5s %5s %8s %8s %8s\n", "size",
                   "transport", "mode", "median", "p10", "p90", "p99", "n", "cpuA", "cpuB",
                   "x atomic", "x wait", "x pipe");
        }
        printf("%-5s %-10s %-8s", r->size ? size_text(r->size, sz, sizeof sz) : "word",
               transport_names[r->transport], mode_name(r->mode));
        if (!r->ok) {
            printf(" %s\n", r->skipped ? "skipped (see notes)" : r->note);
            continue;
        }
        put_num(stdout, 9, 3, r->median / 1e3);
        put_num(stdout, 9, 3, r->p10 / 1e3);
        put_num(stdout, 9, 3, r->p90 / 1e3);
        put_num(stdout, 9, 3, r->p99 / 1e3);
        printf(" %8llu", (unsigned long long)r->n);
        put_num(stdout, 5, 0, r->cpu[0]);
        put_num(stdout, 5, 0, r->cpu[1]);
        put_ratio(stdout, x_raw_atomic(r));
        put_ratio(stdout, x_raw_wait(r));
        put_ratio(stdout, x_pipe(r));
        putchar('\n');
    }
}

static void print_throughput(void)
{
    char sz[24];
    int i, any = 0;

    for (i = 0; i < n_results; i++) {
        const struct result *r = &results[i];
        if (r->section != S_THROUGHPUT)
            continue;
        if (!any++) {
            printf("\nOne-way throughput (cpu: %% of a core, producer / consumer)\n");
            printf("%-5s %-10s %12s %10s %5s %5s %8s %8s\n", "size", "transport", "msgs/s",
                   "MB/s", "cpuP", "cpuC", "x pipe", "x memcpy");
        }
        printf("%-5s %-10s", size_text(r->size, sz, sizeof sz), transport_names[r->transport]);
        if (!r->ok) {
            printf(" %s\n", r->skipped ? "skipped (see notes)" : r->note);
            continue;
        }
        put_num(stdout, 12, 0, r->msgs_s);
        put_num(stdout, 10, 1, r->bytes_s / 1e6);
        put_num(stdout, 5, 0, r->cpu[0]);
        put_num(stdout, 5, 0, r->cpu[1]);
        put_ratio(stdout, x_pipe(r));
        put_ratio(stdout, x_memcpy(r));
        putchar('\n');
    }
}

static void print_idle(void)
{
    int i, any = 0;

    for (i = 0; i < n_results; i++) {
        const struct result *r = &results[i];
        if (r->section != S_IDLE)
            continue;
        if (!any++)
            printf("\nIdle reader, adaptive mode, nothing arriving (cpu: %% of a core)\n");
        printf("%-5s %-10s %-8s", "", transport_names[r->transport], mode_name(r->mode));
        if (!r->ok) {
            printf(" %s\n", r->note);
            continue;
        }
        printf(" waited %.3f s, cpu %.3f %%\n", r->seconds, r->cpu[0]);
    }
}

static void print_targets(void)
{
    int i, shown = 0;

    for (i = 0; i < n_targets; i++) {
        const struct target *t = &targets[i];
        if (t->met < 0)
            continue; /* its rows were not selected */
        if (!shown++)
            printf("\nIssue 5 targets (ratios within this run)\n");
        printf("  %-40s %-18s %10.3f  %s\n", t->what, t->goal, t->measured,
               t->met ? "met" : "NOT met");
    }
}

static void print_notes(void)
{
    int i;

    if (n_notes == 0)
        return;
    printf("\nNotes\n");
    for (i = 0; i < n_notes; i++)
        printf("  - %s\n", notes[i]);
}

static void print_table(const struct options *opt, const struct machine *m)
{
    print_header(opt, m);
    print_latency();
    print_throughput();
    print_idle();
    print_targets();
    print_notes();
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

static int write_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    int i, bad;

    if (f == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, path, "%s", strerror(errno));
    fputs("section,transport,mode,size,n,median_ns,p10_ns,p90_ns,p99_ns,msgs_per_s,"
          "bytes_per_s,cpu_a_pct,cpu_b_pct,idle_s,x_raw_atomic,x_raw_wait,x_pipe,x_memcpy,"
          "note\n", f);
    for (i = 0; i < n_results; i++) {
        const struct result *r = &results[i];
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
        csv_num(f, r->section == S_LATENCY ? x_raw_atomic(r) : NAN);
        csv_num(f, r->section == S_LATENCY ? x_raw_wait(r) : NAN);
        csv_num(f, r->section != S_IDLE ? x_pipe(r) : NAN);
        csv_num(f, r->section == S_THROUGHPUT ? x_memcpy(r) : NAN);
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

static void print_json(const struct options *opt, const struct machine *m)
{
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
    for (i = 0; i < n_results; i++) {
        const struct result *r = &results[i];
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
        json_num("x_raw_atomic", r->section == S_LATENCY ? x_raw_atomic(r) : NAN, 0);
        json_num("x_raw_wait", r->section == S_LATENCY ? x_raw_wait(r) : NAN, 0);
        json_num("x_pipe", r->section != S_IDLE ? x_pipe(r) : NAN, 0);
        json_num("x_memcpy", r->section == S_THROUGHPUT ? x_memcpy(r) : NAN, 0);
        json_str("note", r->note, 1);
        putchar('}');
    }
    printf("\n  ],\n  \"targets\": [");
    for (i = 0; i < n_targets; i++) {
        const struct target *t = &targets[i];
        printf("%s\n    {", i ? "," : "");
        json_str("what", t->what, 0);
        json_str("goal", t->goal, 0);
        json_num("measured", t->measured, 0);
        printf("\"met\": %s}", t->met < 0 ? "null" : t->met ? "true" : "false");
    }
    printf("\n  ],\n  \"notes\": [");
    for (i = 0; i < n_notes; i++) {
        printf("%s\n    ", i ? "," : "");
        tool_json_string(stdout, notes[i], strlen(notes[i]));
    }
    printf("\n  ]\n}\n");
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

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

/* Option parsing returns -1 once tool_usage_error() has said why. */
static int usage_failed(int status)
{
    (void)status;
    return -1;
}

/* Split a comma-separated LIST; call FN on each item.  -1 on error, with
 * a usage message that names the option and says what HINT allows. */
static int for_each_item(const char *list, const char *option, const char *hint,
                         int (*fn)(const char *item, void *ctx), void *ctx)
{
    char buf[512], *item, *save = NULL;

    if (strlen(list) >= sizeof buf)
        return usage_failed(tool_usage_error("%s: list too long", option));
    snprintf(buf, sizeof buf, "%s", list);
    if (buf[0] == '\0')
        return usage_failed(tool_usage_error("%s: empty list", option));
    for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save))
        if (fn(item, ctx) < 0) {
            tool_usage_error("%s: '%s' is not %s", option, item, hint);
            return -1;
        }
    return 0;
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
    static const size_t lat[] = { 64, 4 * KIB, 64 * KIB };
    static const size_t tp[] = { 64, 256, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, MIB };

    memset(opt, 0, sizeof *opt);
    memcpy(opt->lat_sizes, lat, sizeof lat);
    opt->n_lat = 3;
    memcpy(opt->tp_sizes, tp, sizeof tp);
    opt->n_tp = 8;
    opt->duration = 0.5;
    opt->idle_seconds = 1.0;
    opt->sections = S_LATENCY | S_THROUGHPUT | S_IDLE;
    opt->only = (1u << T_COUNT) - 1;
    opt->modes = (1u << MODE_BITS) - 1;
    opt->backend = shmkit_backend_available(SHMKIT_BACKEND_POSIX) ? SHMKIT_BACKEND_POSIX
                                                                  : SHMKIT_BACKEND_SYSV;
    opt->min_count = 1000;
    opt->max_samples = 1u << 21;
    opt->memcpy_pool = 64 * MIB;
}

/* --quick: a fraction of a second in all, for tests; explicit options
 * still win. */
static void quick_options(struct options *opt, int sizes_given, int tp_given, int dur_given)
{
    static const size_t lat[] = { 64, 4 * KIB };
    static const size_t tp[] = { 64, 64 * KIB };

    if (!sizes_given) {
        memcpy(opt->lat_sizes, lat, sizeof lat);
        opt->n_lat = 2;
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
}

static int parse_options(int argc, char **argv, struct options *opt)
{
    struct tool_args args;
    struct size_list lat = { NULL, NULL }, tp = { NULL, NULL };
    unsigned sections = 0, only = 0, modes = 0;
    int id, sizes_given = 0, tp_given = 0, dur_given = 0;

    default_options(opt);
    lat.sizes = opt->lat_sizes;
    lat.n = &opt->n_lat;
    tp.sizes = opt->tp_sizes;
    tp.n = &opt->n_tp;
    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, bench_options)) > 0) {
        switch (id) {
        case OPT_HELP:
            fputs("usage: " BENCH_SYNOPSIS "\n\n" BENCH_HELP, stdout);
            return 1;
        case OPT_SIZES:
            opt->n_lat = 0;
            sizes_given = 1;
            if (for_each_item(args.arg, "--sizes", SIZE_HINT, add_size, &lat) < 0)
                return -1;
            break;
        case OPT_TP_SIZES:
            opt->n_tp = 0;
            tp_given = 1;
            if (for_each_item(args.arg, "--throughput-sizes", SIZE_HINT, add_size, &tp) < 0)
                return -1;
            break;
        case OPT_DURATION:
            if (parse_duration(args.arg, &opt->duration) < 0)
                return usage_failed(tool_usage_error(
                    "--duration: '%s' is not 0.001 .. 3600 seconds", args.arg));
            dur_given = 1;
            break;
        case OPT_ROWS:
            if (for_each_item(args.arg, "--rows", "latency, throughput or idle", add_section,
                              &sections) < 0)
                return -1;
            break;
        case OPT_ONLY:
            if (for_each_item(args.arg, "--only", "a transport (see --help)", add_transport,
                              &only) < 0)
                return -1;
            break;
        case OPT_MODES:
            if (for_each_item(args.arg, "--modes", "adaptive, spin or block", add_mode,
                              &modes) < 0)
                return -1;
            break;
        case OPT_BACKEND:
            if (strcmp(args.arg, "posix") == 0)
                opt->backend = SHMKIT_BACKEND_POSIX;
            else if (strcmp(args.arg, "sysv") == 0)
                opt->backend = SHMKIT_BACKEND_SYSV;
            else
                return usage_failed(
                    tool_usage_error("--backend: '%s' is not posix or sysv", args.arg));
            if (!shmkit_backend_available(opt->backend))
                return usage_failed(
                    tool_usage_error("--backend: %s is not in this build", args.arg));
            break;
        case OPT_QUICK:
            opt->quick = 1;
            break;
        case OPT_PIN:
            opt->pin = 1;
            break;
        case OPT_CSV:
            opt->csv = args.arg;
            break;
        case OPT_JSON:
            opt->json = 1;
            break;
        default:
            break;
        }
    }
    if (id == TOOL_OPT_ERROR)
        return -1;
    if (args.index < argc)
        return usage_failed(tool_usage_error("unexpected argument '%s'", argv[args.index]));
    if (sections != 0)
        opt->sections = sections;
    if (only != 0)
        opt->only = only;
    if (modes != 0)
        opt->modes = modes;
    if (opt->quick)
        quick_options(opt, sizes_given, tp_given, dur_given);
    opt->warmup = opt->duration / 10 < 0.002 ? 0.002 : opt->duration / 10;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Main                                                                */
/* ------------------------------------------------------------------ */

static void explain(const struct options *opt)
{
    char sz[24];
    int i;

    add_note("ring capacity: the smallest power of two holding 4 frames of the message, and "
             "at least 64 KiB (latency) or 1 MiB (throughput); block policy");
    add_note("producers write every byte of each message (in place for ring-zc), consumers "
             "read every byte once (in place for ring-zc, after the copy otherwise)");
    add_note("throughput rings use the default (adaptive) wait mode; memcpy copies between "
             "two %s buffers in message-size chunks, in one process",
             size_text(opt->memcpy_pool, sz, sizeof sz));
#ifndef BENCH_RAW_FUTEX
    add_note("raw-wait: no raw wait primitive is used on this platform; the row is the "
             "library's slot in block mode (wait mechanism %s)", shmkit_wait_mechanism());
#else
    add_note("raw-wait: FUTEX_WAIT / FUTEX_WAKE on two shared words, no spinning; raw-atomic: "
             "one 32-bit word flipped by both sides, spinning with a pause instruction");
#endif
    for (i = 0; i < n_results; i++) {
        const struct result *r = &results[i];
        if (r->skipped)
            add_note("%s %s: skipped: %s", transport_names[r->transport],
                     size_text(r->size, sz, sizeof sz), r->note);
    }
}

/* Drop the rows of transports this build does not have, with a note. */
static void restrict_to_build(struct options *opt)
{
#ifndef BENCH_POSIX_MQ
    if (selected(opt, T_POSIX_MQ))
        add_note("posix-mq: POSIX message queues are not in this build");
    opt->only &= ~(1u << T_POSIX_MQ);
#endif
#ifndef BENCH_SYSV_MQ
    if (selected(opt, T_SYSV_MQ))
        add_note("sysv-mq: System V message queues are not in this build");
    opt->only &= ~(1u << T_SYSV_MQ);
#endif
    (void)opt;
}

int bench_main(int argc, char **argv)
{
    struct options opt;
    struct machine machine;
    struct job job;
    struct control *ctl;
    int rc, status = TOOL_EXIT_OK, i;

    rc = parse_options(argc, argv, &opt);
    if (rc != 0)
        return rc > 0 ? tool_close_stdout(TOOL_EXIT_OK) : TOOL_EXIT_USAGE;
    ctl = mmap(NULL, sizeof *ctl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANON, -1, 0);
    if (ctl == MAP_FAILED)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: mmap: %s", strerror(errno));
    describe_machine(&opt, &machine);
    if (opt.pin && strncmp(machine.pinning, "off", 3) == 0)
        opt.pin = 0;
    restrict_to_build(&opt);
    catch_signals();

    memset(&job, 0, sizeof job);
    job.opt = &opt;
    job.ctl = ctl;
    if (opt.sections & S_LATENCY)
        run_latency(&job);
    if (opt.sections & S_THROUGHPUT)
        run_throughput(&job);
    if (opt.sections & S_IDLE)
        run_idle(&job);
    progress_done(&opt);
    munmap(ctl, sizeof *ctl);
    if (caught_signal) {
        signal(caught_signal, SIG_DFL);
        raise(caught_signal);
        return TOOL_EXIT_RUNTIME;
    }

    explain(&opt);
    evaluate_targets();
    for (i = 0; i < n_results; i++)
        if (!results[i].ok && !results[i].skipped) {
            status = TOOL_EXIT_RUNTIME;
            fprintf(stderr, "%s: bench: %s %s: %s\n", tool_prog(),
                    section_name(results[i].section), transport_names[results[i].transport],
                    results[i].note);
        }
    if (opt.json)
        print_json(&opt, &machine);
    else
        print_table(&opt, &machine);
    if (opt.csv != NULL && write_csv(opt.csv) != 0)
        status = TOOL_EXIT_RUNTIME;
    return tool_close_stdout(status);
}
