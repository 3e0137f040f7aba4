/*
 * sides.c - what the two sides of a "shmkit bench" row do, each in its
 * own child process: the latency ping-pong, the throughput producer and
 * consumer, memcpy, and the idle reader.
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
#include <unistd.h>

#include "bench-int.h"

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

void summarize(uint64_t *samples, size_t n, struct side_report *rep)
{
    qsort(samples, n, sizeof *samples, compare_u64);
    rep->n = n;
    rep->median = percentile(samples, n, 0.5);
    rep->p10 = percentile(samples, n, 0.10);
    rep->p90 = percentile(samples, n, 0.90);
    rep->p99 = percentile(samples, n, 0.99);
}

/* Message SEQ came where message *EXPECT was due: 0 and the next one
 * due in *EXPECT, or -1 with the side's report failed. */
static int in_order(struct side_report *rep, uint64_t seq, uint64_t *expect)
{
    if (seq != *expect)
        return report_fail(rep, "message %llu where %llu was expected",
                           (unsigned long long)seq, (unsigned long long)*expect);
    ++*expect;
    return 0;
}

/* N messages of SIZE bytes in the window just measured into REP. */
static void set_rate(struct side_report *rep, uint64_t n, size_t size)
{
    rep->n = n;
    rep->msgs_s = (double)n / rep->wall;
    rep->bytes_s = rep->msgs_s * (double)size;
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

/*
 * Paired rows.  This VM's own round trip moves between two levels from
 * one minute to the next (a raw cache-line ping-pong: 50 ns or 400-500
 * ns, with nothing else running in the guest: the host moves its vCPUs),
 * so two rows measured one after the other can differ by that factor
 * whatever they do.  The adaptive and the spin row of a kind are
 * therefore measured by the same two processes, which switch modes every
 * PAIR_BLOCK round trips, at the same message number on both sides: each
 * row gets its share of every state of the machine.  Lane 0 is the
 * adaptive row, lane 1 the spin row; an unpaired job has lane 0 only.
 */
static int lane_of(const struct job *job, uint64_t i)
{
    return job->mode == PAIRED_MODES ? (int)((i / PAIR_BLOCK) % 2) : 0;
}

/* Before round trip I: the wait mode of its lane, on both sides. */
static void enter_lane(const struct job *job, uint64_t i)
{
    static const int lane_modes[2] = { SHMKIT_WAIT_ADAPTIVE, SHMKIT_WAIT_SPIN };

    if (job->mode == PAIRED_MODES && i % PAIR_BLOCK == 0)
        (void)shmkit_set_wait_mode(lane_modes[lane_of(job, i)]);
}

/* Side A's round-trip times, per lane. */
struct lanes {
    int count;            /* 1, or 2 for a paired job */
    size_t cap;           /* samples per lane */
    uint64_t *samples[2];
    size_t n[2];
};

static int lanes_init(struct lanes *l, const struct job *job)
{
    size_t max = job->opt->max_samples;

    memset(l, 0, sizeof *l);
    l->count = job->mode == PAIRED_MODES ? 2 : 1;
    l->cap = max / (size_t)l->count;
    l->samples[0] = malloc(max * sizeof *l->samples[0]);
    if (l->samples[0] == NULL)
        return report_fail(&job->ctl->side[0], "out of memory for %zu samples", max);
    memset(l->samples[0], 0, max * sizeof *l->samples[0]); /* fault the pages in now */
    l->samples[1] = l->samples[0] + l->cap;
    return 0;
}

/* Whether the measurement is over: a lane is full, or every lane has
 * its minimum count and the time T is past END. */
static int lanes_done(const struct lanes *l, size_t min_count, uint64_t t, uint64_t end)
{
    int k, enough = 1;

    for (k = 0; k < l->count; k++) {
        if (l->n[k] == l->cap)
            return 1;
        enough = enough && l->n[k] >= min_count;
    }
    return enough && t >= end;
}

/* The summaries: lane 0 into side A's report, lane 1 into the spin lane's
 * (with the same measured window: the CPU columns are the pair's). */
static void lanes_summarize(struct lanes *l, const struct job *job)
{
    struct side_report *rep = &job->ctl->side[0];

    summarize(l->samples[0], l->n[0], rep);
    rep->ok = 1;
    if (l->count == 2) {
        struct side_report *spin = &job->ctl->spin_lane;

        spin->wall = rep->wall;
        spin->cpu = rep->cpu;
        summarize(l->samples[1], l->n[1], spin);
        spin->ok = 1;
    }
}

int latency_side_a(const struct job *job)
{
    const struct options *opt = job->opt;
    struct side_report *rep = &job->ctl->side[0];
    struct endpoint ep;
    struct window win;
    struct lanes lanes;
    uint64_t i = 0, t0, t1, end;
    double warm_end;
    int rc = -1;

    if (lanes_init(&lanes, job) < 0)
        return -1;
    if (ep_open(&ep, job, 0, 0, 1) < 0)
        goto out;
    sync_start(job);

    warm_end = now_s() + opt->warmup;
    for (; i < 10 || now_s() < warm_end; i++) {
        enter_lane(job, i);
        if (round_trip(&ep, i) < 0)
            goto out;
    }

    window_start(&win);
    t0 = now_ns();
    end = t0 + (uint64_t)(opt->duration * 1e9);
    for (;; i++) {
        int lane = lane_of(job, i);

        enter_lane(job, i);
        if (round_trip(&ep, i) < 0)
            goto out;
        t1 = now_ns();
        lanes.samples[lane][lanes.n[lane]++] = t1 - t0;
        t0 = t1;
        if (lanes_done(&lanes, opt->min_count, t1, end))
            break;
    }
    window_end(&win, rep);
    if (ep_send(&ep, STOP_SEQ) < 0)
        goto out;
    lanes_summarize(&lanes, job);
    rc = 0;
out:
    ep_close(&ep);
    free(lanes.samples[0]);
    return rc;
}

int latency_side_b(const struct job *job)
{
    struct side_report *rep = &job->ctl->side[1];
    struct endpoint ep;
    struct window win;
    uint64_t expect = 0, seq;
    int rc = -1;

    if (ep_open(&ep, job, 1, 1, 0) < 0)
        goto out;
    sync_start(job);
    enter_lane(job, expect);
    if (ep_recv(&ep, &seq) < 0)
        goto out;
    window_start(&win);
    while (seq != STOP_SEQ) {
        if (in_order(rep, seq, &expect) < 0)
            goto out;
        if (ep_send(&ep, seq) < 0)
            goto out;
        enter_lane(job, expect);
        if (ep_recv(&ep, &seq) < 0)
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

int throughput_producer(const struct job *job)
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

/* Side 1, or one of a fan-out row's consumers (sides 1 .. N): each
 * times its own window. */
int throughput_consumer(const struct job *job)
{
    struct side_report *rep = &job->ctl->side[job->side];
    struct endpoint ep;
    struct window win;
    uint64_t expect = 0, seq, from = 0, last = 0;
    int started = 0, rc = -1;

    memset(&win, 0, sizeof win);
    if (ep_open(&ep, job, job->side, -1, 0) < 0)
        goto out;
    sync_start(job);
    for (;;) {
        if (ep_recv(&ep, &seq) < 0)
            goto out;
        if (seq == STOP_SEQ)
            break;
        if (in_order(rep, seq, &expect) < 0)
            goto out;
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
    set_rate(rep, last - from, job->size);
    rep->ok = 1;
    rc = 0;
out:
    ep_close(&ep);
    return rc;
}

/* Single-threaded memcpy between buffers larger than the caches, in
 * chunks of the message size, walking through both buffers. */
int memcpy_side(const struct job *job)
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
    keep_read(dst[off]);
    set_rate(rep, n, size);
    rep->ok = 1;
    free(src);
    free(dst);
    return 0;
}

/* An adaptive reader waiting with nothing arriving. */
int idle_side(const struct job *job)
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
