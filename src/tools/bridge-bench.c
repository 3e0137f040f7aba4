/*
 * bridge-bench.c - "shmkit-bridge bench": what the bridge costs next to
 * plain ZeroMQ over tcp://127.0.0.1, measured in the same run so that the
 * ratios hold on a noisy shared machine.
 *
 * Rows, per message size:
 *   push/pull          ZeroMQ PUSH -> PULL throughput
 *   req/rep            ZeroMQ REQ <-> REP round trip (median, p99)
 *   bridge block       writer -> ring A -> send -> receive -> ring A2 -> consumer
 *   bridge overwrite   the same with overwrite rings, the writer offering
 *                      the push/pull rate of the same size (losses counted)
 *   bridge round trip  P -> A -> bridge -> A2 -> Q -> B -> bridge -> B2 -> P
 *   ring round trip    P -> A -> Q -> B -> P on this machine, no bridge,
 *                      P and Q in the library's default (adaptive) wait
 *   ring trip, asleep  the same with P and Q in block mode: four hand-offs
 *                      to a sleeping process, as many as the bridges add
 *                      to ZeroMQ's round trip (each of them sleeps)
 *
 * Every role is a process of its own (fork), the bridges included: they
 * run bridge_send_main and bridge_receive_main in a child, as the
 * command line would.  The parent never touches ZeroMQ (a context does not
 * survive fork) and only creates and removes the rings and watches the
 * children, which report through a pipe.  Messages carry their number
 * in their first 8 bytes; the receiving end checks it.  A rate runs from
 * the producer's first send to the consumer's last receive, and each row
 * also reports the CPU time all its processes used per message (or per
 * round trip): on a machine with fewer cores than processes, that is what
 * bounds the rate.  Speed targets are
 * reported, never enforced: the exit status says only whether every row
 * ran.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bridge.h"
#include "shmkit.h"
#include "tool.h"

/* ---- options ----------------------------------------------------------- */

#define MAX_SIZES 16
#define MAX_SIZE (64u << 20)    /* a ring of 8x that still fits in 1 GiB */
#define QUICK_MESSAGES 3000     /* --quick: per throughput row */
#define QUICK_TRIPS 300         /* --quick: per round trip row */
#define WARMUP_TRIPS 50
#define MAX_SAMPLES 2000000
#define START_TIMEOUT_MS 15000  /* bridges connected, rings created */
#define STALL_TIMEOUT_MS 10000  /* a lossless stream that stops is broken */
#define IDLE_END_MS 1000        /* overwrite: the end mark may be lost */

struct bench {
    int quick, csv;
    size_t sizes[MAX_SIZES];
    int nsizes;
    int duration_ms;
    uint64_t max_messages;      /* 0: as many as the duration allows */
    uint64_t max_trips;
};

static const char bench_usage[] =
    "usage: shmkit-bridge bench [--quick] [--sizes LIST] [--duration SECONDS] [--csv]\n"
    "Measure the bridge against plain ZeroMQ over tcp://127.0.0.1.\n"
    "  --quick           a short run (a few thousand small messages), for tests\n"
    "  --sizes LIST      message sizes, comma-separated, at least 8 bytes\n"
    "                    (default 64,4096,1048576; suffixes k, m)\n"
    "  --duration S      seconds per row (default 1)\n"
    "  --csv             machine-readable output\n";

enum { OPT_QUICK = 1, OPT_SIZES, OPT_DURATION, OPT_CSV, OPT_HELP };

static const struct tool_option bench_options[] = {
    { OPT_QUICK, 0, "quick", 0 },
    { OPT_SIZES, 0, "sizes", 1 },
    { OPT_DURATION, 0, "duration", 1 },
    { OPT_CSV, 0, "csv", 0 },
    { OPT_HELP, 'h', "help", 0 },
    { 0, 0, NULL, 0 }
};

static tool_status parse_sizes(struct bench *b, const char *list)
{
    char buf[512], *item, *save = NULL;

    if (strlen(list) >= sizeof buf)
        return tool_usage_error("bench: --sizes: list too long");
    strcpy(buf, list);
    b->nsizes = 0;
    for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
        if (b->nsizes == MAX_SIZES)
            return tool_usage_error("bench: --sizes: at most %d sizes", MAX_SIZES);
        if (tool_parse_bytes(item, 8, MAX_SIZE, &b->sizes[b->nsizes]) != 0)
            return tool_usage_error("bench: --sizes: '%s' is not a size of 8 bytes .. 64M",
                                    item);
        b->nsizes++;
    }
    if (b->nsizes == 0)
        return tool_usage_error("bench: --sizes: no size");
    return TOOL_GO_ON;
}

static tool_status bench_take(void *ctx, int id, const char *arg)
{
    struct bench *b = ctx;

    switch (id) {
    case OPT_QUICK:
        b->quick = 1;
        return TOOL_GO_ON;
    case OPT_SIZES:
        return parse_sizes(b, arg);
    case OPT_DURATION:
        if (tool_parse_seconds(arg, &b->duration_ms) != 0 || b->duration_ms <= 0)
            return tool_usage_error("bench: --duration: '%s' is not a number of seconds", arg);
        return TOOL_GO_ON;
    case OPT_CSV:
        b->csv = 1;
        return TOOL_GO_ON;
    default:
        fputs(bench_usage, stdout);
        return tool_close_stdout(TOOL_EXIT_OK);
    }
}

/* ---- time -------------------------------------------------------------- */

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

/* ---- what a child reports ---------------------------------------------- */

enum role {
    ROLE_PULL, ROLE_PUSH, ROLE_REP, ROLE_REQ, ROLE_SEND, ROLE_RECEIVE,
    ROLE_WRITER, ROLE_CONSUMER, ROLE_PING, ROLE_ECHO
};

static const char *const role_names[] = {
    "PULL consumer", "PUSH producer", "REP echo", "REQ client", "bridge send",
    "bridge receive", "ring writer", "ring consumer", "round trip P", "round trip Q"
};

enum { KIND_READY = 1, KIND_RESULT, KIND_FAILED };

/* One write to the report pipe, smaller than PIPE_BUF, so that reports of
 * several children never mix. */
struct report {
    int role, kind;
    uint64_t count, bytes, lost, bad;
    int64_t first_ns, last_ns;
    double median_us, p99_us;
    char text[160];             /* READY: an endpoint; FAILED: why */
};

/* What a child needs: set by the parent before fork. */
struct job {
    int role;
    int report_fd;
    size_t size;
    int policy;                 /* rings: enum shmkit_ring_policy */
    int duration_ms;
    uint64_t max_messages;
    double offer_rate;          /* ring writer: messages per second, 0 as fast as it can */
    int sleep_wait;             /* round trip P and Q: SHMKIT_WAIT_BLOCK */
    char endpoint[160];
    const char *ring_in, *ring_out;
};

static void report_send(const struct job *job, struct report *r)
{
    r->role = job->role;
    if (write(job->report_fd, r, sizeof *r) != (ssize_t)sizeof *r)
        tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: %s: cannot report", role_names[job->role]);
}

static void report_ready(const struct job *job, const char *text)
{
    struct report r;

    memset(&r, 0, sizeof r);
    r.kind = KIND_READY;
    snprintf(r.text, sizeof r.text, "%s", text);
    report_send(job, &r);
}

/* Report failure (already printed) and return the child's exit status. */
static int report_failed(const struct job *job, const char *why)
{
    struct report r;

    memset(&r, 0, sizeof r);
    r.kind = KIND_FAILED;
    snprintf(r.text, sizeof r.text, "%s", why);
    report_send(job, &r);
    return TOOL_EXIT_RUNTIME;
}

/* ---- counting numbered messages ---------------------------------------- */

struct tally {
    uint64_t expected, count, bytes, lost, bad;
    int64_t first_ns, last_ns;
};

static void put_number(void *buf, uint64_t n)
{
    memcpy(buf, &n, sizeof n);
}

static uint64_t get_number(const void *buf)
{
    uint64_t n;

    memcpy(&n, buf, sizeof n);
    return n;
}

/* Count one data message: a gap is lost messages, a number seen before
 * (or a short message) is bad. */
static void tally_take(struct tally *t, const void *msg, size_t len)
{
    uint64_t n;

    t->last_ns = now_ns();
    if (t->count++ == 0)
        t->first_ns = t->last_ns;
    t->bytes += len;
    if (len < sizeof n) {
        t->bad++;
        return;
    }
    n = get_number(msg);
    if (n > t->expected)
        t->lost += n - t->expected;
    else if (n < t->expected)
        t->bad++;
    if (n >= t->expected)
        t->expected = n + 1;
}

static void report_tally(const struct job *job, const struct tally *t)
{
    struct report r;

    memset(&r, 0, sizeof r);
    r.kind = KIND_RESULT;
    r.count = t->count;
    r.bytes = t->bytes;
    r.lost = t->lost;
    r.bad = t->bad;
    r.first_ns = t->first_ns;
    r.last_ns = t->last_ns;
    report_send(job, &r);
}

/* Should a producer stop? After the duration, or the --quick count. */
static int producer_done(const struct job *job, uint64_t sent, int64_t start)
{
    if (job->max_messages != 0 && sent >= job->max_messages)
        return 1;
    /* A signal ends the run too (the caller then fails): a peer that keeps
     * up never makes a send fail, which is where signals are seen. */
    return (sent & 63) == 0 && (tool_signal_caught() != 0 ||
                                now_ns() - start >= (int64_t)job->duration_ms * 1000000);
}

/* ---- round trip samples ------------------------------------------------ */

struct samples {
    double *us;
    size_t n, room;
};

static void samples_add(struct samples *s, int64_t ns)
{
    if (s->n < s->room)
        s->us[s->n++] = (double)ns / 1000.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void report_samples(const struct job *job, struct samples *s)
{
    struct report r;

    memset(&r, 0, sizeof r);
    r.kind = KIND_RESULT;
    r.count = s->n;
    if (s->n > 0) {
        size_t p99 = s->n * 99 / 100;

        qsort(s->us, s->n, sizeof *s->us, cmp_double);
        r.median_us = s->us[s->n / 2];
        r.p99_us = s->us[p99 < s->n ? p99 : s->n - 1];
    }
    report_send(job, &r);
}

/* ---- plain ZeroMQ ------------------------------------------------------ */

/* A socket of TYPE in CTX with a receive timeout, so that loops notice
 * signals, and no linger beyond LINGER_MS. */
static void *zsocket(void *ctx, int type, int linger_ms)
{
    void *s = zmq_socket(ctx, type);
    int timeout = 200;

    if (s != NULL) {
        zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout, sizeof timeout);
        zmq_setsockopt(s, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    }
    return s;
}

/* Bind S to an ephemeral loopback port and report READY with it. */
static int zbind_ready(const struct job *job, void *s)
{
    char endpoint[96];
    size_t len = sizeof endpoint;

    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0 ||
        zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0) {
        tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: bind: %s", zmq_strerror(zmq_errno()));
        return -1;
    }
    report_ready(job, endpoint);
    return 0;
}

/* Receive one message into MSG: 0, or -1 once a signal came or the
 * stream stalled (after printing why). */
static int zrecv(const struct job *job, void *s, zmq_msg_t *msg)
{
    int64_t deadline = now_ns() + (int64_t)STALL_TIMEOUT_MS * 1000000;

    while (zmq_msg_recv(msg, s, 0) < 0) {
        if (tool_signal_caught() != 0)
            return -1;
        if (zmq_errno() != EAGAIN && zmq_errno() != EINTR) {
            tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: %s: %s", role_names[job->role],
                       zmq_strerror(zmq_errno()));
            return -1;
        }
        if (now_ns() > deadline) {
            tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: %s: nothing for %d s",
                       role_names[job->role], STALL_TIMEOUT_MS / 1000);
            return -1;
        }
    }
    return 0;
}

/* Send LEN bytes of BUF, retrying while the peer is slow. */
static int zsend(const struct job *job, void *s, const void *buf, size_t len)
{
    int64_t deadline = now_ns() + (int64_t)STALL_TIMEOUT_MS * 1000000;

    while (zmq_send(s, buf, len, 0) < 0) {
        if (tool_signal_caught() != 0 || (zmq_errno() != EAGAIN && zmq_errno() != EINTR) ||
            now_ns() > deadline) {
            if (tool_signal_caught() == 0)
                tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: %s: send: %s",
                           role_names[job->role], zmq_strerror(zmq_errno()));
            return -1;
        }
    }
    return 0;
}

static int pull_loop(const struct job *job, void *s)
{
    struct tally t;
    zmq_msg_t msg;

    memset(&t, 0, sizeof t);
    zmq_msg_init(&msg);
    for (;;) {
        if (zrecv(job, s, &msg) != 0) {
            zmq_msg_close(&msg);
            return -1;
        }
        if (zmq_msg_size(&msg) == 0)
            break; /* the end mark */
        tally_take(&t, zmq_msg_data(&msg), zmq_msg_size(&msg));
    }
    zmq_msg_close(&msg);
    report_tally(job, &t);
    return 0;
}

static int role_pull(const struct job *job)
{
    void *ctx = zmq_ctx_new();
    void *s = zsocket(ctx, ZMQ_PULL, 0);
    int rc = s != NULL && zbind_ready(job, s) == 0 ? pull_loop(job, s) : -1;

    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "PULL consumer failed");
}

static int push_loop(const struct job *job, void *s, unsigned char *buf)
{
    int64_t start = now_ns();
    uint64_t sent = 0;
    struct report r;

    while (!producer_done(job, sent, start)) {
        put_number(buf, sent);
        if (zsend(job, s, buf, job->size) != 0)
            return -1;
        sent++;
    }
    if (tool_signal_caught() != 0 || zsend(job, s, buf, 0) != 0)
        return -1;
    memset(&r, 0, sizeof r);
    r.kind = KIND_RESULT;
    r.count = sent;
    r.first_ns = start;
    report_send(job, &r);
    return 0;
}

static int role_push(const struct job *job)
{
    unsigned char *buf = calloc(1, job->size);
    void *ctx = zmq_ctx_new();
    void *s = zsocket(ctx, ZMQ_PUSH, 10000);
    int rc = -1;

    if (buf != NULL && s != NULL && zmq_connect(s, job->endpoint) == 0)
        rc = push_loop(job, s, buf);
    if (rc != 0) {
        int zero = 0; /* stopped: what is queued no longer matters */

        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    }
    zmq_close(s); /* lingers until the end mark is out */
    zmq_ctx_term(ctx);
    free(buf);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "PUSH producer failed");
}

static int role_rep(const struct job *job)
{
    void *ctx = zmq_ctx_new();
    void *s = zsocket(ctx, ZMQ_REP, 1000);
    zmq_msg_t msg;
    int rc = s != NULL && zbind_ready(job, s) == 0 ? 0 : -1;

    zmq_msg_init(&msg);
    while (rc == 0 && (rc = zrecv(job, s, &msg)) == 0) {
        size_t len = zmq_msg_size(&msg);

        if (zmq_msg_send(&msg, s, 0) < 0)
            rc = -1;
        else if (len == 0)
            break;
    }
    zmq_msg_close(&msg);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "REP echo failed");
}

/* One REQ round trip of message number N; its time, or -1. */
static int64_t req_trip(const struct job *job, void *s, unsigned char *buf, size_t len,
                        uint64_t n)
{
    int64_t start = now_ns();
    zmq_msg_t msg;
    int ok;

    if (len > 0)
        put_number(buf, n);
    if (zsend(job, s, buf, len) != 0)
        return -1;
    zmq_msg_init(&msg);
    ok = zrecv(job, s, &msg) == 0 && zmq_msg_size(&msg) == len &&
         (len == 0 || get_number(zmq_msg_data(&msg)) == n);
    zmq_msg_close(&msg);
    return ok ? now_ns() - start : -1;
}

static int req_loop(const struct job *job, void *s, unsigned char *buf, struct samples *smp)
{
    int64_t start = 0;
    uint64_t n;

    for (n = 0;; n++) {
        int64_t ns;

        if (n == WARMUP_TRIPS)
            start = now_ns();
        if (n >= WARMUP_TRIPS && producer_done(job, n - WARMUP_TRIPS, start))
            break;
        if ((ns = req_trip(job, s, buf, job->size, n)) < 0)
            return -1;
        if (n >= WARMUP_TRIPS)
            samples_add(smp, ns);
    }
    return tool_signal_caught() != 0 || req_trip(job, s, buf, 0, 0) < 0 ? -1 : 0;
}

static int role_req(const struct job *job)
{
    struct samples smp = { calloc(MAX_SAMPLES, sizeof(double)), 0, MAX_SAMPLES };
    unsigned char *buf = calloc(1, job->size);
    void *ctx = zmq_ctx_new();
    void *s = zsocket(ctx, ZMQ_REQ, 0);
    int rc = -1;

    if (smp.us != NULL && buf != NULL && s != NULL && zmq_connect(s, job->endpoint) == 0)
        rc = req_loop(job, s, buf, &smp);
    if (rc == 0)
        report_samples(job, &smp);
    zmq_close(s);
    zmq_ctx_term(ctx);
    free(buf);
    free(smp.us);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "REQ client failed");
}

/* ---- rings ------------------------------------------------------------- */

/* Open SPEC with FLAGS once it exists (a receiving bridge creates it when
 * its session starts): 0, or -1 after printing why. */
static int ring_await(shmkit_ring **ring, const char *spec, unsigned flags)
{
    int64_t deadline = now_ns() + (int64_t)START_TIMEOUT_MS * 1000000;
    int rc;

    while ((rc = shmkit_ring_open(ring, spec, flags)) != 0) {
        if (tool_signal_caught() != 0)
            return -1;
        if (now_ns() > deadline) {
            tool_fail(spec, "bench: open", rc);
            return -1;
        }
        sleep_ms(5);
    }
    return 0;
}

/* After a receive or peek that returned RC < 0: whether to try again
 * (it timed out or was interrupted, no signal asks to stop, and DEADLINE
 * is not passed).  Any other error is printed, as WHAT of SPEC. */
static int keep_waiting(int rc, const char *spec, const char *what, int64_t deadline)
{
    if (tool_signal_caught() != 0)
        return 0;
    if (rc != -ETIMEDOUT && rc != -EINTR && rc != -EAGAIN) {
        tool_fail(spec, what, rc);
        return 0;
    }
    return now_ns() <= deadline;
}

/* Receive the next message of RING into BUF (of ROOM bytes): its length,
 * or -1 (signal, error, or nothing for IDLE_MS). */
static int ring_next(shmkit_ring *ring, const char *spec, void *buf, size_t room, int idle_ms)
{
    int64_t deadline = now_ns() + (int64_t)idle_ms * 1000000;
    int rc;

    while ((rc = shmkit_ring_recv(ring, buf, room, 100)) < 0)
        if (!keep_waiting(rc, spec, "bench: receive", deadline))
            return -1;
    return rc;
}

/* Send BUF into RING, waiting while the ring is full (block). */
static int ring_put(shmkit_ring *ring, const char *spec, const void *buf, size_t len)
{
    int64_t deadline = now_ns() + (int64_t)STALL_TIMEOUT_MS * 1000000;
    int rc;

    while ((rc = shmkit_ring_send(ring, buf, len, 100)) != 0) {
        if (tool_signal_caught() != 0)
            return -1;
        if ((rc != -ETIMEDOUT && rc != -EINTR) || now_ns() > deadline) {
            tool_fail(spec, "bench: send", rc);
            return -1;
        }
    }
    return 0;
}

/* Look at the next message of RING in place, as a PULL socket's reader
 * looks at a message in ZeroMQ's buffer: copy its first bytes (its
 * number) to HEAD and release it.  Its length; -2 if an overwrite ring's
 * writer overwrote it meanwhile (not counted); -1 as ring_next. */
static int ring_look(shmkit_ring *ring, const char *spec, unsigned char head[8], int idle_ms)
{
    int64_t deadline = now_ns() + (int64_t)idle_ms * 1000000;
    const void *msg;
    int rc;

    while ((rc = shmkit_ring_peek(ring, &msg, 100)) < 0)
        if (!keep_waiting(rc, spec, "bench: peek", deadline))
            return -1;
    memcpy(head, msg, rc < 8 ? (size_t)rc : 8);
    switch (shmkit_ring_release(ring)) {
    case 0:
        return rc;
    case SHMKIT_EOVERWRITTEN:
        return -2;
    default:
        tool_fail(spec, "bench: release", SHMKIT_ECORRUPT);
        return -1;
    }
}

/* The consumer at the far end: counts until the end mark (an empty
 * message), or, on an overwrite ring where the mark may be lost, until
 * the stream stays idle. */
static int role_consumer(const struct job *job)
{
    unsigned char head[8];
    int idle = job->policy == SHMKIT_RING_OVERWRITE ? IDLE_END_MS : STALL_TIMEOUT_MS;
    shmkit_ring *ring = NULL;
    struct tally t;
    int len, rc = -1;

    memset(&t, 0, sizeof t);
    if (ring_await(&ring, job->ring_in, SHMKIT_FROM_OLDEST) == 0) {
        report_ready(job, "");
        while ((len = ring_look(ring, job->ring_in, head,
                                t.count > 0 ? idle : START_TIMEOUT_MS)) > 0 || len == -2)
            if (len > 0)
                tally_take(&t, head, (size_t)len);
        rc = len == 0 || (t.count > 0 && job->policy == SHMKIT_RING_OVERWRITE &&
                          tool_signal_caught() == 0) ? 0 : -1;
    }
    if (rc == 0)
        report_tally(job, &t);
    shmkit_ring_close(ring);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "ring consumer failed");
}

/* Keep a producer that started at START and sent SENT messages at RATE
 * messages per second (0: no pacing): sleep while it is ahead. */
static void pace(double rate, uint64_t sent, int64_t start)
{
    int64_t due, ahead;

    if (rate <= 0 || (sent & 31) != 0)
        return;
    due = start + (int64_t)((double)sent * 1e9 / rate);
    if ((ahead = due - now_ns()) > 100000) {
        struct timespec ts = { (time_t)(ahead / 1000000000), (long)(ahead % 1000000000) };
        nanosleep(&ts, NULL);
    }
}

static int role_writer(const struct job *job)
{
    unsigned char *buf = calloc(1, job->size);
    shmkit_ring *ring = NULL;
    int64_t start = now_ns();
    struct report r;
    uint64_t sent = 0;
    int rc = -1, i;

    if (buf != NULL && shmkit_ring_open(&ring, job->ring_out, SHMKIT_WRITE) == 0) {
        start = now_ns();
        for (rc = 0; rc == 0 && !producer_done(job, sent, start); sent++) {
            pace(job->offer_rate, sent, start);
            put_number(buf, sent);
            rc = ring_put(ring, job->ring_out, buf, job->size);
        }
        if (tool_signal_caught() != 0)
            rc = -1;
        /* The end mark; an overwrite ring may drop one. */
        for (i = 0; rc == 0 && i < (job->policy == SHMKIT_RING_OVERWRITE ? 3 : 1); i++)
            rc = ring_put(ring, job->ring_out, buf, 0);
    } else if (buf != NULL) {
        tool_error(TOOL_EXIT_RUNTIME, job->ring_out, "bench: cannot open as writer");
    }
    memset(&r, 0, sizeof r);
    r.kind = KIND_RESULT;
    r.count = sent;
    r.first_ns = start;
    if (rc == 0)
        report_send(job, &r);
    shmkit_ring_close(ring);
    free(buf);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "ring writer failed");
}

/* Round trip, P: send on ring_out (A), receive the echo from ring_in (B2). */
static int ping_loop(const struct job *job, shmkit_ring *out, shmkit_ring *in,
                     unsigned char *buf, struct samples *smp)
{
    int64_t start = 0, t0;
    uint64_t n;
    int len;

    for (n = 0;; n++) {
        if (n == WARMUP_TRIPS)
            start = now_ns();
        if (n >= WARMUP_TRIPS && producer_done(job, n - WARMUP_TRIPS, start))
            break;
        put_number(buf, n);
        t0 = now_ns();
        if (ring_put(out, job->ring_out, buf, job->size) != 0)
            return -1;
        len = ring_next(in, job->ring_in, buf, job->size, STALL_TIMEOUT_MS);
        if (len != (int)job->size || get_number(buf) != n) {
            tool_error(TOOL_EXIT_RUNTIME, job->ring_in, "bench: round trip %llu: %s",
                       (unsigned long long)n, len < 0 ? "no answer" : "wrong answer");
            return -1;
        }
        if (n >= WARMUP_TRIPS)
            samples_add(smp, now_ns() - t0);
    }
    return tool_signal_caught() != 0 ? -1 : ring_put(out, job->ring_out, buf, 0);
}

static int role_ping(const struct job *job)
{
    struct samples smp = { calloc(MAX_SAMPLES, sizeof(double)), 0, MAX_SAMPLES };
    unsigned char *buf = calloc(1, job->size);
    shmkit_ring *out = NULL, *in = NULL;
    int rc = -1;

    if (job->sleep_wait)
        shmkit_set_wait_mode(SHMKIT_WAIT_BLOCK);
    if (smp.us != NULL && buf != NULL && shmkit_ring_open(&out, job->ring_out, SHMKIT_WRITE) == 0 &&
        ring_await(&in, job->ring_in, SHMKIT_FROM_OLDEST) == 0)
        rc = ping_loop(job, out, in, buf, &smp);
    if (rc == 0)
        report_samples(job, &smp);
    shmkit_ring_close(out);
    shmkit_ring_close(in);
    free(buf);
    free(smp.us);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "round trip P failed");
}

/* Round trip, Q: everything from ring_in (A2) goes back into ring_out (B),
 * the end mark included. */
static int role_echo(const struct job *job)
{
    unsigned char *buf = malloc(job->size);
    shmkit_ring *in = NULL, *out = NULL;
    int rc = -1, len;

    if (job->sleep_wait)
        shmkit_set_wait_mode(SHMKIT_WAIT_BLOCK);
    if (buf != NULL && shmkit_ring_open(&out, job->ring_out, SHMKIT_WRITE) == 0 &&
        ring_await(&in, job->ring_in, SHMKIT_FROM_OLDEST) == 0) {
        report_ready(job, "");
        while ((len = ring_next(in, job->ring_in, buf, job->size, START_TIMEOUT_MS * 4)) >= 0 &&
               (rc = ring_put(out, job->ring_out, buf, (size_t)len)) == 0 && len > 0)
            ;
        if (len < 0)
            rc = -1;
    }
    shmkit_ring_close(in);
    shmkit_ring_close(out);
    free(buf);
    return rc == 0 ? TOOL_EXIT_OK : report_failed(job, "round trip Q failed");
}

/* The bridges, as the command line would run them. */
static int role_send(const struct job *job)
{
    char *argv[] = { (char *)"send", (char *)"-q", (char *)"--from-oldest",
                     (char *)job->ring_in, (char *)job->endpoint, NULL };

    return bridge_send_main(5, argv);
}

static int role_receive(const struct job *job)
{
    char *argv[] = { (char *)"receive", (char *)"-q", (char *)job->endpoint,
                     (char *)job->ring_out, NULL };

    return bridge_receive_main(4, argv);
}

static int (*const role_main[])(const struct job *) = {
    role_pull, role_push, role_rep, role_req, role_send, role_receive,
    role_writer, role_consumer, role_ping, role_echo
};

/* ---- the parent: children, segments, reports ---------------------------- */

#define MAX_CHILDREN 8
#define MAX_SEGMENTS 4
#define MAX_PENDING 16

struct child {
    pid_t pid;
    int role;
    int done;                   /* reaped */
    int status;                 /* its wait status, once done */
};

/* What one row started: cleaned up whatever happens. */
struct row {
    struct child children[MAX_CHILDREN];
    int nchildren;
    char segments[MAX_SEGMENTS][40];
    int nsegments;
    int fds[2];                 /* the report pipe */
    struct report pending[MAX_PENDING];
    int npending;
    double cpu_start;           /* the CPU seconds of children reaped before */
    char failure[200];          /* why the row failed, "" if it did not */
};

/* CPU seconds (user and system) of every child reaped so far. */
static double children_cpu(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
           + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static unsigned segment_serial;

/* A segment name unique to this run, noted for removal. */
static const char *row_segment(struct row *row, const char *what)
{
    char *name = row->segments[row->nsegments++];

    snprintf(name, sizeof row->segments[0], "/skb.%ld.%u.%s", (long)getpid(),
             ++segment_serial, what);
    shmkit_unlink(name);
    return name;
}

static int row_open(struct row *row)
{
    memset(row, 0, sizeof *row);
    row->cpu_start = children_cpu();
    if (pipe(row->fds) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: pipe: %s", strerror(errno));
    return TOOL_GO_ON;
}

static int row_spawn(struct row *row, struct job *job, int role)
{
    struct child *c = &row->children[row->nchildren];
    pid_t pid;

    job->role = role;
    job->report_fd = row->fds[1];
    fflush(stdout);
    fflush(stderr);
    if ((pid = fork()) < 0)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: fork: %s", strerror(errno));
    if (pid == 0) {
        close(row->fds[0]);
        _exit(role_main[role](job));
    }
    c->pid = pid;
    c->role = role;
    c->done = 0;
    row->nchildren++;
    return TOOL_GO_ON;
}

/* Note why the row failed; the first reason is the one that counts. */
TOOL_PRINTF(2, 3) static void row_fail(struct row *row, const char *fmt, ...)
{
    va_list ap;

    if (row->failure[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(row->failure, sizeof row->failure, fmt, ap);
    va_end(ap);
}

/* Reap the children that ended; a bridge that ends, or any child that
 * fails, fails the row. */
static void row_reap(struct row *row)
{
    int i;

    for (i = 0; i < row->nchildren; i++) {
        struct child *c = &row->children[i];

        if (c->done || waitpid(c->pid, &c->status, WNOHANG) != c->pid)
            continue;
        c->done = 1;
        if (WIFSIGNALED(c->status))
            row_fail(row, "%s died by signal %d", role_names[c->role], WTERMSIG(c->status));
        else if (WEXITSTATUS(c->status) != 0 || c->role == ROLE_SEND || c->role == ROLE_RECEIVE)
            row_fail(row, "%s exited with status %d", role_names[c->role],
                     WEXITSTATUS(c->status));
    }
}

/* Read the reports that arrived within WAIT_MS into the mailbox. */
static void row_read(struct row *row, int wait_ms)
{
    struct pollfd p = { row->fds[0], POLLIN, 0 };

    while (poll(&p, 1, wait_ms) > 0 && row->npending < MAX_PENDING) {
        struct report *r = &row->pending[row->npending];

        if (read(row->fds[0], r, sizeof *r) != (ssize_t)sizeof *r)
            return;
        if (r->kind == KIND_FAILED)
            row_fail(row, "%s", r->text);
        row->npending++;
        wait_ms = 0;
    }
}

/* Take the report KIND of ROLE from the mailbox. */
static int row_take(struct row *row, int role, int kind, struct report *out)
{
    int i;

    for (i = 0; i < row->npending; i++)
        if (row->pending[i].role == role && row->pending[i].kind == kind) {
            *out = row->pending[i];
            row->pending[i] = row->pending[--row->npending];
            return 1;
        }
    return 0;
}

/* Wait for the report KIND of ROLE, up to TIMEOUT_MS: TOOL_GO_ON, or
 * TOOL_SIGNALLED, or TOOL_EXIT_RUNTIME with row->failure set. */
static int row_await(struct row *row, int role, int kind, int timeout_ms, struct report *out)
{
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000;

    for (;;) {
        if (row_take(row, role, kind, out))
            return TOOL_GO_ON;
        if (tool_signal_caught() != 0)
            return TOOL_SIGNALLED;
        row_reap(row);
        if (row->failure[0] != '\0')
            return TOOL_EXIT_RUNTIME;
        if (now_ns() > deadline) {
            row_fail(row, "no word from %s in %d s", role_names[role], timeout_ms / 1000);
            return TOOL_EXIT_RUNTIME;
        }
        row_read(row, 100);
    }
}

/* Stop every child still running (SIGTERM: the bridges leave cleanly;
 * then SIGKILL after 3 s), reap them, remove the segments. */
static void row_close(struct row *row)
{
    int64_t deadline = now_ns() + 3000000000LL;
    int i, left;

    for (i = 0; i < row->nchildren; i++)
        if (!row->children[i].done)
            kill(row->children[i].pid, SIGTERM);
    do {
        left = 0;
        for (i = 0; i < row->nchildren; i++) {
            struct child *c = &row->children[i];

            if (!c->done && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
                c->done = 1;
            left += !c->done;
        }
        if (left > 0)
            sleep_ms(10);
    } while (left > 0 && now_ns() < deadline);
    for (i = 0; i < row->nchildren; i++)
        if (!row->children[i].done) {
            kill(row->children[i].pid, SIGKILL);
            waitpid(row->children[i].pid, &row->children[i].status, 0);
        }
    for (i = 0; i < row->nsegments; i++)
        shmkit_unlink(row->segments[i]);
    close(row->fds[0]);
    close(row->fds[1]);
}

/* ---- the rows ----------------------------------------------------------- */

enum {
    ROW_PUSHPULL, ROW_BLOCK, ROW_OVERWRITE, ROW_REQREP, ROW_TRIP, ROW_RINGTRIP, ROW_RINGSLEEP,
    NROWS
};

static const char *const row_names[NROWS] = {
    "push/pull", "bridge block", "bridge overwrite", "req/rep", "bridge round trip",
    "ring round trip", "ring trip, asleep"
};

struct result {
    int ran;                    /* 1: the numbers below are measured */
    double msg_s, mb_s;
    uint64_t sent, received, lost;
    double median_us, p99_us;
    double cpu_us;              /* CPU of the row's processes per message or trip */
    char note[200];             /* why it did not run, or what went wrong */
};

static void job_init(struct job *job, const struct bench *b, size_t size, uint64_t max)
{
    memset(job, 0, sizeof *job);
    job->size = size;
    job->duration_ms = b->duration_ms;
    job->max_messages = max;
}

/* A loopback endpoint on a port free right now (a bridge binds it a
 * moment later; a thief in between makes the row fail and retry). */
static int free_endpoint(char *endpoint, size_t size)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
         getsockname(fd, (struct sockaddr *)&sa, &len) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: no free port: %s", strerror(errno));
    snprintf(endpoint, size, "tcp://127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    return TOOL_GO_ON;
}

/* Rings of 8 messages at least, 1 MiB at least: room for the bridge's
 * window without making small messages wait. */
static int ring_make(const char *spec, int policy, size_t size)
{
    struct shmkit_ring_options o = SHMKIT_RING_OPTIONS_INIT;
    shmkit_ring *ring;
    size_t capacity = 4u << 20;
    int rc;

    while (capacity < 32 * (size + 16))
        capacity *= 2;
    o.capacity = capacity;
    o.max_message = size;
    o.policy = policy;
    if ((rc = shmkit_ring_create(&ring, spec, &o)) != 0)
        return tool_fail(spec, "bench: create", rc);
    shmkit_ring_close(ring);
    return TOOL_GO_ON;
}

/* The consumer's tally R; the rate runs from FIRST_NS, the producer's
 * first send (0: the consumer's first receive). */
static void result_tally(struct result *res, const struct report *r, size_t size,
                         int64_t first_ns)
{
    int64_t from = first_ns > 0 && first_ns < r->first_ns ? first_ns : r->first_ns;
    double secs = (double)(r->last_ns - from) / 1e9;

    res->ran = 1;
    res->received = r->count;
    res->lost = r->lost;
    if (r->count > 1 && secs > 0) {
        res->msg_s = (double)(from < r->first_ns ? r->count : r->count - 1) / secs;
        res->mb_s = res->msg_s * (double)size / 1e6;
    }
    if (r->bad > 0)
        snprintf(res->note, sizeof res->note, "%llu messages out of order",
                 (unsigned long long)r->bad);
}

/* A round trip row's result: the samples P reported in R. */
static void result_trip(struct result *res, const struct report *r)
{
    res->ran = 1;
    res->received = r->count;
    res->median_us = r->median_us;
    res->p99_us = r->p99_us;
}

/* The end of a row: a failure becomes the result's note.  TOOL_SIGNALLED
 * stops the bench; anything else goes on with the next row. */
static int row_end(struct row *row, int status, struct result *res)
{
    if (status != TOOL_GO_ON && status != TOOL_SIGNALLED && res->note[0] == '\0')
        snprintf(res->note, sizeof res->note, "%s",
                 row->failure[0] != '\0' ? row->failure : "did not run");
    if (status != TOOL_GO_ON)
        res->ran = 0;
    row_close(row);
    if (res->received > 0)
        res->cpu_us = (children_cpu() - row->cpu_start) * 1e6 / (double)res->received;
    return status == TOOL_SIGNALLED ? TOOL_SIGNALLED : TOOL_GO_ON;
}

/* How long a producer's row may take before it counts as stuck. */
static int row_timeout(const struct bench *b)
{
    return b->duration_ms + STALL_TIMEOUT_MS + IDLE_END_MS;
}

static int run_pushpull(const struct bench *b, size_t size, struct result *res)
{
    struct row row;
    struct job job;
    struct report r, c;
    int status = row_open(&row);

    job_init(&job, b, size, b->max_messages);
    if (status == TOOL_GO_ON)
        status = row_spawn(&row, &job, ROLE_PULL);
    if (status == TOOL_GO_ON)
        status = row_await(&row, ROLE_PULL, KIND_READY, START_TIMEOUT_MS, &r);
    if (status == TOOL_GO_ON) {
        snprintf(job.endpoint, sizeof job.endpoint, "%s", r.text);
        status = row_spawn(&row, &job, ROLE_PUSH);
    }
    if (status == TOOL_GO_ON)
        status = row_await(&row, ROLE_PULL, KIND_RESULT, row_timeout(b), &c);
    if (status == TOOL_GO_ON)
        status = row_await(&row, ROLE_PUSH, KIND_RESULT, row_timeout(b), &r);
    if (status == TOOL_GO_ON) {
        result_tally(res, &c, size, r.first_ns);
        res->sent = r.count;
    }
    return row_end(&row, status, res);
}

static int run_reqrep(const struct bench *b, size_t size, struct result *res)
{
    struct row row;
    struct job job;
    struct report r;
    int status = row_open(&row);

    job_init(&job, b, size, b->max_trips);
    if (status == TOOL_GO_ON)
        status = row_spawn(&row, &job, ROLE_REP);
    if (status == TOOL_GO_ON)
        status = row_await(&row, ROLE_REP, KIND_READY, START_TIMEOUT_MS, &r);
    if (status == TOOL_GO_ON) {
        snprintf(job.endpoint, sizeof job.endpoint, "%s", r.text);
        status = row_spawn(&row, &job, ROLE_REQ);
    }
    if (status == TOOL_GO_ON)
        status = row_await(&row, ROLE_REQ, KIND_RESULT, row_timeout(b), &r);
    if (status == TOOL_GO_ON)
        result_trip(res, &r);
    return row_end(&row, status, res);
}

/* Start a bridge pair carrying FROM to TO (created by the receiver). */
static int spawn_bridges(struct row *row, const struct job *base, const char *from,
                         const char *to)
{
    struct job job = *base;
    int status = free_endpoint(job.endpoint, sizeof job.endpoint);

    job.ring_in = from;
    job.ring_out = to;
    if (status == TOOL_GO_ON)
        status = row_spawn(row, &job, ROLE_SEND);
    if (status == TOOL_GO_ON)
        status = row_spawn(row, &job, ROLE_RECEIVE);
    return status;
}

/* Writer -> A -> send -> receive -> A2 -> consumer. */
static int stream_row(struct row *row, const struct bench *b, size_t size, int policy,
                      double offer_rate, struct result *res)
{
    const char *a = row_segment(row, "a"), *a2 = row_segment(row, "a2");
    struct report w, c;
    struct job job;
    int status;

    job_init(&job, b, size, b->max_messages);
    job.policy = policy;
    job.offer_rate = offer_rate;
    if ((status = ring_make(a, policy, size)) == TOOL_GO_ON)
        status = spawn_bridges(row, &job, a, a2);
    job.ring_in = a2;
    job.ring_out = a;
    if (status == TOOL_GO_ON)
        status = row_spawn(row, &job, ROLE_CONSUMER);
    if (status == TOOL_GO_ON)
        status = row_await(row, ROLE_CONSUMER, KIND_READY, START_TIMEOUT_MS, &c);
    if (status == TOOL_GO_ON)
        status = row_spawn(row, &job, ROLE_WRITER);
    if (status == TOOL_GO_ON)
        status = row_await(row, ROLE_WRITER, KIND_RESULT, row_timeout(b), &w);
    if (status == TOOL_GO_ON)
        status = row_await(row, ROLE_CONSUMER, KIND_RESULT, row_timeout(b), &c);
    if (status != TOOL_GO_ON)
        return status;
    result_tally(res, &c, size, w.first_ns);
    res->sent = w.count;
    res->lost = w.count > c.count ? w.count - c.count : 0;
    if (policy == SHMKIT_RING_BLOCK && (c.count != w.count || c.lost != 0) &&
        res->note[0] == '\0')
        snprintf(res->note, sizeof res->note, "NOT exactly once: sent %llu, received %llu",
                 (unsigned long long)w.count, (unsigned long long)c.count);
    return TOOL_GO_ON;
}

/* Q echoes Q_IN into Q_OUT, then P sends on P_OUT and times the answers
 * on P_IN: TOOL_GO_ON with the result in RES, or a failure. */
static int ping_pong(struct row *row, const struct bench *b, struct job *job, const char *q_in,
                     const char *q_out, const char *p_in, const char *p_out,
                     struct result *res)
{
    struct report r;
    int status;

    job->ring_in = q_in;
    job->ring_out = q_out;
    if ((status = row_spawn(row, job, ROLE_ECHO)) == TOOL_GO_ON)
        status = row_await(row, ROLE_ECHO, KIND_READY, START_TIMEOUT_MS, &r);
    job->ring_in = p_in;
    job->ring_out = p_out;
    if (status == TOOL_GO_ON)
        status = row_spawn(row, job, ROLE_PING);
    if (status == TOOL_GO_ON)
        status = row_await(row, ROLE_PING, KIND_RESULT, row_timeout(b), &r);
    if (status == TOOL_GO_ON)
        result_trip(res, &r);
    return status;
}

/* P -> A -> bridge -> A2 -> Q -> B -> bridge -> B2 -> P. */
static int trip_row(struct row *row, const struct bench *b, size_t size, struct result *res)
{
    const char *a = row_segment(row, "a"), *a2 = row_segment(row, "a2");
    const char *bb = row_segment(row, "b"), *b2 = row_segment(row, "b2");
    struct job job;
    int status;

    job_init(&job, b, size, b->max_trips);
    job.policy = SHMKIT_RING_BLOCK;
    if ((status = ring_make(a, SHMKIT_RING_BLOCK, size)) == TOOL_GO_ON)
        status = ring_make(bb, SHMKIT_RING_BLOCK, size);
    if (status == TOOL_GO_ON)
        status = spawn_bridges(row, &job, a, a2);
    if (status == TOOL_GO_ON)
        status = spawn_bridges(row, &job, bb, b2);
    if (status == TOOL_GO_ON)
        status = ping_pong(row, b, &job, a2, bb, b2, a, res);
    return status;
}

/* P -> A -> Q -> B -> P through local rings only, P and Q waiting in
 * block mode if SLEEP. */
static int ring_trip(const struct bench *b, size_t size, int sleep, struct result *res)
{
    struct row row;
    struct job job;
    const char *a, *bb;
    int status = row_open(&row);

    if (status != TOOL_GO_ON)
        return row_end(&row, status, res);
    a = row_segment(&row, "a");
    bb = row_segment(&row, "b");
    job_init(&job, b, size, b->max_trips);
    job.policy = SHMKIT_RING_BLOCK;
    job.sleep_wait = sleep;
    if ((status = ring_make(a, SHMKIT_RING_BLOCK, size)) == TOOL_GO_ON)
        status = ring_make(bb, SHMKIT_RING_BLOCK, size);
    if (status == TOOL_GO_ON)
        status = ping_pong(&row, b, &job, a, bb, bb, a, res);
    return row_end(&row, status, res);
}

static int run_ringtrip(const struct bench *b, size_t size, struct result *res)
{
    return ring_trip(b, size, 0, res);
}

static int run_ringsleep(const struct bench *b, size_t size, struct result *res)
{
    return ring_trip(b, size, 1, res);
}

/* A bridge row, tried again (up to 3 times) if a bridge could not bind
 * its port: another process may have taken it since we looked.  ROWS
 * holds the rows of this size so far: an overwrite ring's writer offers
 * the push/pull rate, since it would otherwise write as fast as it can
 * into a ring nobody waits on and take the CPU the bridges need. */
static int run_bridge_row(const struct bench *b, size_t size, int which, struct result *rows)
{
    struct result *res = &rows[which];
    double offer = rows[ROW_PUSHPULL].ran ? rows[ROW_PUSHPULL].msg_s : 0;
    int attempt, status = TOOL_GO_ON;

    for (attempt = 0; attempt < 3; attempt++) {
        struct row row;

        memset(res, 0, sizeof *res);
        if ((status = row_open(&row)) != TOOL_GO_ON)
            break;
        if (which == ROW_TRIP)
            status = trip_row(&row, b, size, res);
        else
            status = which == ROW_BLOCK
                         ? stream_row(&row, b, size, SHMKIT_RING_BLOCK, 0, res)
                         : stream_row(&row, b, size, SHMKIT_RING_OVERWRITE, offer, res);
        if (status == TOOL_GO_ON || strstr(row.failure, "bridge send exited with status 6") == NULL)
            return row_end(&row, status, res);
        row_end(&row, status, res);
    }
    return status == TOOL_SIGNALLED ? TOOL_SIGNALLED : TOOL_GO_ON;
}

/* ---- output -------------------------------------------------------------- */

/* The bridge row's comparison with plain ZeroMQ, as text: a ratio of
 * throughputs, or the round trip added. */
static void compare(char *buf, size_t size, const struct result *row, int which,
                    const struct result *plain)
{
    if (which == ROW_PUSHPULL || which == ROW_REQREP || which == ROW_RINGTRIP
        || which == ROW_RINGSLEEP || !row->ran || !plain->ran)
        snprintf(buf, size, "-");
    else if (which == ROW_TRIP)
        snprintf(buf, size, "%+.1f us", row->median_us - plain->median_us);
    else
        snprintf(buf, size, "%.2fx", plain->msg_s > 0 ? row->msg_s / plain->msg_s : 0.0);
}

static const struct result *plain_of(const struct result *rows, int which)
{
    return &rows[which == ROW_TRIP || which == ROW_REQREP ? ROW_REQREP : ROW_PUSHPULL];
}

static void print_header(const struct bench *b)
{
    int i;

    if (b->csv) {
        printf("row,size,sent,received,lost,msg_per_s,mb_per_s,median_us,p99_us,cpu_us,"
               "vs_plain,note\n");
        return;
    }
    printf("shmkit-bridge bench: tcp://127.0.0.1, %.1f s per row%s, sizes", b->duration_ms / 1000.0,
           b->quick ? " (--quick)" : "");
    for (i = 0; i < b->nsizes; i++)
        printf("%s%zu", i ? "," : " ", b->sizes[i]);
    printf("\n%-18s %8s %11s %9s %8s %10s %9s %8s %10s\n", "row", "size", "msg/s", "MB/s",
           "lost", "median us", "p99 us", "cpu us", "vs plain");
}

static void print_row(const struct bench *b, size_t size, const struct result *rows, int which)
{
    const struct result *r = &rows[which];
    int trip = which == ROW_REQREP || which == ROW_TRIP || which == ROW_RINGTRIP
               || which == ROW_RINGSLEEP;
    char vs[32];

    compare(vs, sizeof vs, r, which, plain_of(rows, which));
    if (b->csv) {
        printf("%s,%zu,%llu,%llu,%llu,%.0f,%.2f,%.2f,%.2f,%.3f,%s,\"%s\"\n", row_names[which],
               size, (unsigned long long)r->sent, (unsigned long long)r->received,
               (unsigned long long)r->lost, r->msg_s, r->mb_s, r->median_us, r->p99_us,
               r->cpu_us, vs, r->note);
    } else if (!r->ran) {
        printf("%-18s %8zu   did not run: %s\n", row_names[which], size, r->note);
    } else if (trip) {
        printf("%-18s %8zu %11s %9s %8s %10.1f %9.1f %8.2f %10s\n", row_names[which], size, "-",
               "-", "-", r->median_us, r->p99_us, r->cpu_us, vs);
    } else {
        char lost[32];

        snprintf(lost, sizeof lost, which == ROW_PUSHPULL ? "-" : "%llu",
                 (unsigned long long)r->lost);
        printf("%-18s %8zu %11.0f %9.1f %8s %10s %9s %8.2f %10s\n", row_names[which], size,
               r->msg_s, r->mb_s, lost, "-", "-", r->cpu_us, vs);
        if (r->note[0] != '\0')
            printf("%-18s %8s   %s\n", "", "", r->note);
    }
    fflush(stdout);
}

/* One target over every size: the worst case and whether it holds. */
static void verdict(const struct bench *b, struct result (*res)[NROWS], int which,
                    double target)
{
    double worst = 0;
    size_t at = 0;
    int i, seen = 0;

    for (i = 0; i < b->nsizes; i++) {
        const struct result *r = &res[i][which], *p = plain_of(res[i], which);
        double v;

        if (!r->ran || !p->ran || (which != ROW_TRIP && p->msg_s <= 0))
            continue;
        v = which == ROW_TRIP ? r->median_us - p->median_us : r->msg_s / p->msg_s;
        if (!seen++ || (which == ROW_TRIP ? v > worst : v < worst)) {
            worst = v;
            at = b->sizes[i];
        }
    }
    if (!seen)
        printf("verdict: %-18s not measured\n", row_names[which]);
    else if (which == ROW_TRIP)
        printf("verdict: %-18s adds %.1f us at worst (%zu bytes), target <= %.0f us: %s\n",
               row_names[which], worst, at, target, worst <= target ? "met" : "NOT met");
    else
        printf("verdict: %-18s %.2fx push/pull at worst (%zu bytes), target >= %.1fx: %s\n",
               row_names[which], worst, at, target, worst >= target ? "met" : "NOT met");
}

/* ---- main --------------------------------------------------------------- */

static int (*const row_run[NROWS])(const struct bench *, size_t, struct result *) = {
    run_pushpull, NULL, NULL, run_reqrep, NULL, run_ringtrip, run_ringsleep
};

/* The round trip's added time, taken apart per size: four hand-offs to
 * a sleeping process (two local ring round trips in block mode: the
 * bridges sleep, and wake for each message), and what is left, the
 * bridges' own work. */
static void trip_parts(const struct bench *b, struct result (*res)[NROWS])
{
    int i;

    for (i = 0; i < b->nsizes; i++) {
        const struct result *t = &res[i][ROW_TRIP], *q = &res[i][ROW_REQREP];
        const struct result *l = &res[i][ROW_RINGSLEEP];

        if (t->ran && q->ran && l->ran)
            printf("round trip %zu bytes: adds %.1f us = 4 hand-offs to a sleeping process "
                   "(%.1f us) + %.1f us of the bridges' own\n", b->sizes[i],
                   t->median_us - q->median_us, 2 * l->median_us,
                   t->median_us - q->median_us - 2 * l->median_us);
    }
}

static int run_size(const struct bench *b, size_t size, struct result *rows)
{
    int which, status = TOOL_GO_ON;

    for (which = 0; which < NROWS && status == TOOL_GO_ON; which++) {
        memset(&rows[which], 0, sizeof rows[which]);
        if (row_run[which] != NULL)
            status = row_run[which](b, size, &rows[which]);
        else
            status = run_bridge_row(b, size, which, rows);
        if (status == TOOL_GO_ON)
            print_row(b, size, rows, which);
    }
    return status;
}

static int run_all(const struct bench *b)
{
    struct result (*res)[NROWS] = calloc((size_t)b->nsizes, sizeof *res);
    int i, which, status = TOOL_GO_ON, failed = 0;

    if (res == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "bench: out of memory");
    print_header(b);
    for (i = 0; i < b->nsizes && status == TOOL_GO_ON; i++)
        status = run_size(b, b->sizes[i], res[i]);
    for (i = 0; i < b->nsizes && status == TOOL_GO_ON; i++)
        for (which = 0; which < NROWS; which++)
            failed |= !res[i][which].ran ||
                      (which == ROW_BLOCK && strstr(res[i][which].note, "NOT exactly") != NULL);
    if (status == TOOL_GO_ON && !b->csv) {
        verdict(b, res, ROW_BLOCK, 0.7);
        verdict(b, res, ROW_OVERWRITE, 0.9);
        verdict(b, res, ROW_TRIP, 20);
        trip_parts(b, res);
    }
    free(res);
    if (status == TOOL_GO_ON)
        status = failed ? TOOL_EXIT_RUNTIME : TOOL_EXIT_OK;
    return tool_close_stdout(status);
}

int bridge_bench_main(int argc, char **argv)
{
    struct bench b;
    struct tool_args args;
    tool_status status;

    memset(&b, 0, sizeof b);
    b.duration_ms = -1;
    tool_args_init(&args, argc, argv);
    if ((status = tool_take_options(&args, bench_options, bench_take, &b)) != TOOL_GO_ON)
        return status;
    if (args.index < argc)
        return tool_usage_error("bench: unexpected argument '%s'", argv[args.index]);
    if (b.nsizes == 0)
        parse_sizes(&b, b.quick ? "64,4096" : "64,4096,1048576");
    if (b.duration_ms < 0)
        b.duration_ms = b.quick ? 300 : 1000;
    if (b.quick) {
        b.max_messages = QUICK_MESSAGES;
        b.max_trips = QUICK_TRIPS;
    }
    /* Children inherit the handlers: every role notices SIGINT and SIGTERM
     * and ends; the parent then stops the rest and removes the rings. */
    tool_catch_signals();
    return tool_end(run_all(&b));
}
