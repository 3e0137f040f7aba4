/*
 * transport.c - what the children of "shmkit bench" send and receive:
 * the messages producers write and consumers read, the raw wait
 * mechanism, and the endpoints of every transport.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-int.h"

#ifdef BENCH_RAW_FUTEX
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#ifdef BENCH_SYSV_MQ
#include <sys/ipc.h>
#include <sys/msg.h>
#endif

static volatile uint64_t checksum_sink;   /* keeps the consumer's reads */

void keep_read(uint64_t value)
{
    checksum_sink += value;
}

void cpu_relax(void)
{
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __asm__ __volatile__("pause" ::: "memory");
#elif defined(__GNUC__) && defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
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
int ep_open(struct endpoint *ep, const struct job *job, int side, int tx, int rx)
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
        if (rx >= 0 && (rc = shmkit_ring_open(&ep->ring_rx, o->seg[rx], job->rx_flags)) < 0)
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
#ifdef BENCH_ICEORYX
    case T_ICEORYX:
        return iox_open(ep, tx, rx);
#endif
    default:
        break;
    }
    return 0;
}

void ep_close(struct endpoint *ep)
{
    shmkit_slot_close(ep->slot_tx);
    shmkit_slot_close(ep->slot_rx);
    shmkit_ring_close(ep->ring_tx);
    shmkit_ring_close(ep->ring_rx);
#ifdef BENCH_ICEORYX
    iox_close(ep);
#endif
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
int ep_send(struct endpoint *ep, uint64_t seq)
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
#ifdef BENCH_ICEORYX
    case T_ICEORYX: {
        void *p;
        if (iox_loan(ep, &p) < 0)
            return -1;
        produce(p, ep->size, seq);
        iox_publish(ep, p);
        return 0;
    }
#endif
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

#ifdef BENCH_ICEORYX
/* In place, as ring-zc: the chunk carries no length the C binding shows,
 * so the message is taken to be of the row's size. */
static int recv_iceoryx(struct endpoint *ep, uint64_t *seq)
{
    const void *p;
    int rc;

    if (iox_take(ep, &p) < 0)
        return -1;
    rc = consume(p, ep->size, ep->size, seq);
    iox_release(ep, p);
    return rc < 0 ? ep_bad_message(ep, ep->size) : 0;
}
#endif

/* Receive the next message: its number in *SEQ (STOP_SEQ at the end). */
int ep_recv(struct endpoint *ep, uint64_t *seq)
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
#ifdef BENCH_ICEORYX
    case T_ICEORYX:
        return recv_iceoryx(ep, seq);
#endif
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

