/*
 * check_ack.c - acknowledged consumption (SHMKIT_ACK, shmkit_ring_ack,
 * shmkit_ring_rewind, shmkit_ring_acked) and options.first_seq: a block
 * ring's consumer that reads ahead keeps what it has not acknowledged in
 * the ring (the writer waits for it, a successor after a kill -9 gets it
 * again), across wrap-arounds with pad frames and with other consumers;
 * and rings whose message numbers start at first_seq, also past 2^32.
 *
 * Copyright (c) 2026 The shmkit authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

#define CAP 4096u
#define MSG_MAX 200u

/* Message N: its number, then bytes that depend on it, 8..MAX long. */
static size_t make_message(uint64_t n, unsigned char *buf, size_t max)
{
    size_t len = 8 + (size_t)(tu_mix(n) % (max - 7)), i;

    memcpy(buf, &n, sizeof n);
    for (i = 8; i < len; i++)
        buf[i] = (unsigned char)(n * 31u + i);
    return len;
}

/* Is BUF (LEN bytes, or an error) exactly message N? */
static int is_message(uint64_t n, const void *buf, int len, size_t max)
{
    unsigned char want[MSG_MAX];

    return len >= 0 && (size_t)len == make_message(n, want, max) &&
           memcmp(buf, want, (size_t)len) == 0;
}

static int detail_has(const char *text)
{
    return strstr(shmkit_error_detail(), text) != NULL;
}

/* Send message N (MAX: its largest size) with TIMEOUT_MS: the result. */
static int send_one(shmkit_ring *w, uint64_t n, size_t max, int timeout_ms)
{
    unsigned char buf[MSG_MAX];

    return shmkit_ring_send(w, buf, make_message(n, buf, max), timeout_ms);
}

static void send_messages(shmkit_ring *w, uint64_t from, uint64_t to)
{
    uint64_t n;

    for (n = from; n < to; n++) {
        int rc = send_one(w, n, MSG_MAX, 0);

        ck_assert_msg(rc == 0, "send %llu: %d %s (%s)", (unsigned long long)n, rc,
                      shmkit_strerror(rc), shmkit_error_detail());
    }
}

/* Receive messages FROM .. TO - 1, in order. */
static void receive(shmkit_ring *r, uint64_t from, uint64_t to)
{
    unsigned char buf[MSG_MAX];
    uint64_t n;

    for (n = from; n < to; n++) {
        int len = shmkit_ring_recv(r, buf, sizeof buf, 0);

        ck_assert_msg(is_message(n, buf, len, MSG_MAX), "message %llu: %d (%s)",
                      (unsigned long long)n, len, shmkit_error_detail());
        ck_assert_uint_eq(shmkit_ring_position(r), n + 1);
    }
}

/* Receive messages FROM .. TO - 1 exactly, then nothing more. */
static void receive_exactly(shmkit_ring *r, uint64_t from, uint64_t to)
{
    char buf[MSG_MAX];

    receive(r, from, to);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), -EAGAIN);
}

static struct shmkit_consumer entry_of(const char *spec, unsigned i)
{
    struct shmkit_consumer table[4];
    int n = shmkit_info_consumers(spec, table, 4, sizeof table[0]);

    ck_assert_msg(n > (int)i, "info_consumers: %d (%s)", n, shmkit_error_detail());
    return table[i];
}

/* A new block ring (SHMKIT_EXCL) numbered from FIRST_SEQ. */
static shmkit_ring *create_numbered(const char *spec, size_t capacity, unsigned consumers,
                                    uint64_t first_seq)
{
    struct shmkit_ring_options options;
    shmkit_ring *w = NULL;
    int rc;

    shmkit_ring_options_init(&options);
    options.capacity = capacity;
    options.consumers = consumers;
    options.flags = SHMKIT_EXCL;
    options.first_seq = first_seq;
    rc = shmkit_ring_create(&w, spec, &options);
    ck_assert_msg(rc == 0, "create %s: %d (%s)", spec, rc, shmkit_error_detail());
    return w;
}

/* ------------------------------------------------------------------ */

/* Reading moves the position only; ack moves what others see. */
START_TEST(test_read_ahead_then_ack)
{
    char spec[32];
    shmkit_ring *w, *c;
    struct shmkit_consumer e;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_ring_create(spec, CAP, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    c = tu_ring_open(spec, SHMKIT_ACK);
    ck_assert_uint_eq(shmkit_ring_acked(c), 0);
    send_messages(w, 0, 10);
    receive_exactly(c, 0, 10);
    ck_assert_uint_eq(shmkit_ring_position(c), 10);
    ck_assert_uint_eq(shmkit_ring_acked(c), 0);
    e = entry_of(spec, 0);
    ck_assert_uint_eq(e.next_message, 0);
    ck_assert_uint_eq(e.lag_messages, 10);
    ck_assert_uint_gt(e.lag_bytes, 0);

    ck_assert_int_eq(shmkit_ring_ack(c, 4), 0);
    ck_assert_uint_eq(shmkit_ring_acked(c), 4);
    e = entry_of(spec, 0);
    ck_assert_uint_eq(e.next_message, 4);
    ck_assert_uint_eq(e.lag_messages, 6);
    ck_assert_int_eq(shmkit_ring_ack(c, 4), 0); /* no-op */
    ck_assert_int_eq(shmkit_ring_ack(c, 10), 0);
    ck_assert_uint_eq(shmkit_ring_acked(c), 10);
    e = entry_of(spec, 0);
    ck_assert_uint_eq(e.next_message, 10);
    ck_assert_uint_eq(e.lag_messages, 0);
    ck_assert_uint_eq(e.lag_bytes, 0);
    ck_assert_uint_eq(shmkit_ring_position(c), 10);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* The writer waits for the acknowledged tail, not for the cursor. */
START_TEST(test_writer_waits_for_acked)
{
    char spec[32], buf[MSG_MAX];
    shmkit_ring *w, *c;
    uint64_t sent = 0;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_ring_create(spec, 1024, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    c = tu_ring_open(spec, SHMKIT_ACK);
    while (send_one(w, sent, 40, 0) == 0)
        sent++;
    ck_assert_uint_gt(sent, 4);
    while (shmkit_ring_recv(c, buf, sizeof buf, 0) >= 0)
        ;
    ck_assert_uint_eq(shmkit_ring_position(c), sent);
    ck_assert_int_eq(send_one(w, sent, 40, 0), -EAGAIN);
    ck_assert_int_eq(send_one(w, sent, 40, 30), -ETIMEDOUT);
    /* One message acknowledged frees one frame of up to 48 bytes. */
    ck_assert_int_eq(shmkit_ring_ack(c, 1), 0);
    ck_assert_int_eq(shmkit_ring_send(w, buf, 8, 0), 0);
    ck_assert_int_eq(shmkit_ring_send(w, buf, 8, 0), -EAGAIN);
    ck_assert_int_eq(shmkit_ring_ack(c, sent), 0);
    ck_assert_int_eq(send_one(w, sent + 1, 40, 0), 0);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* Rewind goes back to the first unacknowledged message, exactly. */
START_TEST(test_rewind_redelivers)
{
    char spec[32];
    shmkit_ring *w, *c;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_ring_create(spec, CAP, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    c = tu_ring_open(spec, SHMKIT_ACK);
    ck_assert_int_eq(shmkit_ring_rewind(c), 0); /* nothing read: nothing changes */
    receive_exactly(c, 0, 0);
    send_messages(w, 0, 12);
    receive_exactly(c, 0, 12);
    ck_assert_int_eq(shmkit_ring_ack(c, 5), 0);
    ck_assert_int_eq(shmkit_ring_rewind(c), 0);
    ck_assert_uint_eq(shmkit_ring_position(c), 5);
    ck_assert_uint_eq(shmkit_ring_acked(c), 5);
    receive_exactly(c, 5, 12);
    send_messages(w, 12, 20);
    ck_assert_int_eq(shmkit_ring_rewind(c), 0);
    receive_exactly(c, 5, 20);
    ck_assert_int_eq(shmkit_ring_ack(c, 20), 0);
    ck_assert_int_eq(shmkit_ring_rewind(c), 0);
    receive_exactly(c, 20, 20);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* An ack must lie between what is acknowledged and the position. */
START_TEST(test_ack_out_of_range)
{
    char spec[32];
    shmkit_ring *w, *c;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_ring_create(spec, CAP, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    c = tu_ring_open(spec, SHMKIT_ACK);
    send_messages(w, 0, 8);
    ck_assert_int_eq(shmkit_ring_ack(c, 1), -EINVAL); /* nothing read yet */
    receive_exactly(c, 0, 8);
    ck_assert_int_eq(shmkit_ring_ack(c, 9), -EINVAL);
    ck_assert(detail_has("position"));
    ck_assert_int_eq(shmkit_ring_ack(c, UINT64_MAX), -EINVAL);
    ck_assert_int_eq(shmkit_ring_ack(c, 6), 0);
    ck_assert_int_eq(shmkit_ring_ack(c, 5), -EINVAL);
    ck_assert(detail_has("acknowledged"));
    ck_assert_int_eq(shmkit_ring_ack(c, 0), -EINVAL);
    ck_assert_uint_eq(shmkit_ring_acked(c), 6);
    ck_assert_uint_eq(entry_of(spec, 0).next_message, 6);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* A consumer that read ahead and acknowledged part dies (variant 0:
 * _exit without closing, 1: SIGKILL); the next one, plain (flags 0) or
 * ACK, resumes at the first message it did not acknowledge. */
START_TEST(test_killed_consumer_resumed_at_acked)
{
    char spec[32];
    shmkit_ring *w, *c;
    int variant = tu_variant_of(_i);
    pid_t pid;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_ring_create(spec, CAP, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    send_messages(w, 0, 10);
    pid = tu_fork();
    if (pid == 0) {
        shmkit_ring *r = NULL;
        unsigned char buf[MSG_MAX];
        int i;

        CHILD_CHECK(shmkit_ring_open(&r, spec, SHMKIT_ACK) == 0);
        for (i = 0; i < 10; i++)
            CHILD_CHECK(is_message((uint64_t)i, buf, shmkit_ring_recv(r, buf, sizeof buf, 0),
                                   MSG_MAX));
        CHILD_CHECK(shmkit_ring_ack(r, 4) == 0);
        if (variant == 1)
            raise(SIGKILL);
        _exit(0);
    }
    ck_assert_int_eq(tu_wait_exit_code(pid), variant == 1 ? 128 + SIGKILL : 0);
    c = tu_ring_open(spec, SHMKIT_ACK);
    ck_assert_uint_eq(shmkit_ring_acked(c), 4);
    ck_assert_uint_eq(shmkit_ring_position(c), 4);
    receive_exactly(c, 4, 10);
    shmkit_ring_close(c); /* acknowledged nothing: the next one starts at 4 too */
    c = tu_ring_open(spec, 0);
    ck_assert_uint_eq(shmkit_ring_acked(c), 4);
    receive_exactly(c, 4, 10);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* Many laps of a small ring with messages of sizes that force pad
 * frames, read ahead, acknowledged at random points and rewound now and
 * then: every message arrives in order, again after a rewind. */
START_TEST(test_wrap_with_pads)
{
    enum { MESSAGES = 30000, MAX = 180 };
    char spec[32];
    unsigned char buf[MSG_MAX];
    shmkit_ring *w, *c;
    uint64_t rng = tu_rng_seed(_i), sent = 0, next = 0, acked = 0, rewinds = 0, steps = 0;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_ring_create(spec, 1024, MAX, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    c = tu_ring_open(spec, SHMKIT_ACK);
    while (acked < MESSAGES) {
        int rc = sent < MESSAGES ? send_one(w, sent, MAX, 0) : -EAGAIN, len;

        if (rc == 0) {
            sent++;
            continue;
        }
        ck_assert_int_eq(rc, -EAGAIN);
        /* The ring is full (or all is sent): read some, ack some. */
        while ((len = shmkit_ring_recv(c, buf, sizeof buf, 0)) != -EAGAIN) {
            ck_assert_msg(is_message(next, buf, len, MAX), "message %llu: %d (%s)",
                          (unsigned long long)next, len, shmkit_error_detail());
            next++;
            if (tu_below(&rng, 4) == 0)
                break;
        }
        ck_assert_uint_eq(shmkit_ring_position(c), next);
        acked = ++steps % 4 == 0 ? next : acked + tu_below(&rng, next - acked + 1);
        ck_assert_int_eq(shmkit_ring_ack(c, acked), 0);
        ck_assert_uint_eq(shmkit_ring_acked(c), acked);
        if (tu_below(&rng, 8) == 0) {
            ck_assert_int_eq(shmkit_ring_rewind(c), 0);
            next = acked;
            rewinds++;
        }
    }
    ck_assert_uint_gt(rewinds, 0);
    ck_assert_uint_eq(shmkit_ring_position(w), MESSAGES);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* Peek and release read ahead too; ack is allowed while a message is
 * peeked, rewind is not. */
START_TEST(test_peek_release_under_ack)
{
    char spec[32];
    shmkit_ring *w, *c;
    const void *p;
    int len;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_ring_create(spec, CAP, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    c = tu_ring_open(spec, SHMKIT_ACK);
    send_messages(w, 0, 3);
    len = shmkit_ring_peek(c, &p, 0);
    ck_assert(is_message(0, p, len, MSG_MAX));
    ck_assert_int_eq(shmkit_ring_release(c), 0);
    ck_assert_uint_eq(shmkit_ring_position(c), 1);
    ck_assert_uint_eq(shmkit_ring_acked(c), 0);
    ck_assert_uint_eq(entry_of(spec, 0).next_message, 0);
    len = shmkit_ring_peek(c, &p, 0);
    ck_assert(is_message(1, p, len, MSG_MAX));
    ck_assert_int_eq(shmkit_ring_ack(c, 2), -EINVAL); /* not released: not read */
    ck_assert_int_eq(shmkit_ring_ack(c, 1), 0);
    ck_assert_int_eq(shmkit_ring_rewind(c), -EINVAL);
    ck_assert(detail_has("peeked"));
    ck_assert_int_eq(shmkit_ring_release(c), 0);
    ck_assert_int_eq(shmkit_ring_rewind(c), 0);
    ck_assert_uint_eq(shmkit_ring_position(c), 1);
    receive_exactly(c, 1, 3);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* Every handle but an ACK consumer's refuses ack and rewind, and
 * SHMKIT_ACK is refused where it makes no sense; in a child, the
 * consumer's calls are refused as the others are. */
START_TEST(test_wrong_handles)
{
    char spec[32], ospec[32];
    shmkit_ring *w, *c, *o, *r, *bad = NULL;
    pid_t pid;

    tu_spec(tu_backend_of(_i), spec);
    tu_spec(tu_backend_of(_i), ospec);
    w = tu_fanout_create(spec, CAP, 2);
    c = tu_ring_open(spec, 0);
    send_messages(w, 0, 2);
    receive_exactly(c, 0, 2);
    ck_assert_int_eq(shmkit_ring_ack(w, 0), -EINVAL);
    ck_assert(detail_has("SHMKIT_ACK"));
    ck_assert_int_eq(shmkit_ring_rewind(w), -EINVAL);
    ck_assert_int_eq(shmkit_ring_ack(c, 1), -EINVAL);
    ck_assert_int_eq(shmkit_ring_rewind(c), -EINVAL);
    ck_assert_uint_eq(shmkit_ring_acked(c), 2); /* = its position */
    ck_assert_uint_eq(shmkit_ring_acked(w), 2);
    ck_assert_int_eq(shmkit_ring_open(&bad, spec, SHMKIT_ACK | SHMKIT_WRITE), -EINVAL);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(tu_ring_create_rc(&bad, ospec, CAP, 0, SHMKIT_RING_BLOCK, 0600,
                                       SHMKIT_ACK), -EINVAL);

    o = tu_ring_create(ospec, CAP, 0, SHMKIT_RING_OVERWRITE, 0600, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_ring_open(&bad, ospec, SHMKIT_ACK), -EINVAL);
    ck_assert_int_eq(shmkit_ring_open(&bad, ospec, SHMKIT_ACK | SHMKIT_FROM_OLDEST), -EINVAL);
    r = tu_ring_open(ospec, SHMKIT_FROM_OLDEST);
    ck_assert_int_eq(shmkit_ring_ack(r, 0), -EINVAL);
    ck_assert_int_eq(shmkit_ring_rewind(r), -EINVAL);

    shmkit_ring_close(c);
    c = tu_ring_open(spec, SHMKIT_ACK | SHMKIT_FROM_NEWEST); /* at message 1, the newest */
    send_messages(w, 2, 4);
    receive_exactly(c, 1, 4);
    pid = tu_fork();
    if (pid == 0) {
        CHILD_CHECK(shmkit_ring_ack(c, 3) == SHMKIT_ENOTHOLDER);
        CHILD_CHECK(shmkit_ring_rewind(c) == SHMKIT_ENOTHOLDER);
        _exit(0);
    }
    tu_wait_ok(pid, CHILD);
    ck_assert_int_eq(shmkit_ring_ack(c, 3), 0);
    shmkit_ring_close(r);
    shmkit_ring_close(o);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec, ospec);
}
END_TEST

/* A ring numbered from first_seq (variant 0: 1000, 1: just below 2^32,
 * so that the numbers cross it, 2: 2^40): the writer, consumers joining
 * in every way, the acknowledged position and shmkit_info all use the
 * stream's numbers; an existing ring keeps its numbers. */
static const uint64_t first_seqs[] = {1000u, 0xFFFFFFF0u, (uint64_t)1 << 40};

START_TEST(test_first_seq)
{
    uint64_t first = first_seqs[tu_variant_of(_i)];
    char spec[32];
    struct shmkit_info info;
    struct shmkit_consumer e;
    shmkit_ring *w, *a, *n, *o, *again = NULL;

    tu_spec(tu_backend_of(_i), spec);
    w = create_numbered(spec, 4 * CAP, 3, first);
    ck_assert_uint_eq(shmkit_ring_position(w), first);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.ring_messages, first);
    a = tu_ring_open(spec, SHMKIT_ACK);
    ck_assert_uint_eq(shmkit_ring_position(a), first);
    ck_assert_uint_eq(shmkit_ring_acked(a), first);
    ck_assert_uint_eq(entry_of(spec, 0).next_message, first);
    ck_assert_uint_eq(entry_of(spec, 0).lag_messages, 0);

    send_messages(w, first, first + 40);
    ck_assert_uint_eq(shmkit_ring_position(w), first + 40);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.ring_messages, first + 40);
    receive(a, first, first + 1);
    ck_assert_uint_eq(shmkit_ring_acked(a), first);
    n = tu_ring_open(spec, SHMKIT_FROM_NEWEST);
    ck_assert_uint_eq(shmkit_ring_position(n), first + 39);
    o = tu_ring_open(spec, SHMKIT_FROM_OLDEST | SHMKIT_ACK);
    ck_assert_uint_eq(shmkit_ring_position(o), first);
    ck_assert_uint_eq(shmkit_ring_acked(o), first);
    receive_exactly(n, first + 39, first + 40);
    receive_exactly(a, first + 1, first + 40);
    ck_assert_int_eq(shmkit_ring_ack(a, first + 20), 0);
    e = entry_of(spec, 0);
    ck_assert_uint_eq(e.next_message, first + 20);
    ck_assert_uint_eq(e.lag_messages, 20);
    ck_assert_int_eq(shmkit_ring_ack(a, first + 40), 0);
    receive_exactly(o, first, first + 40);
    ck_assert_int_eq(shmkit_ring_ack(o, first + 40), 0);

    /* Created again (the writer's lease free), or opened: the numbers go on. */
    shmkit_ring_close(w);
    w = NULL;
    {
        struct shmkit_ring_options options = SHMKIT_RING_OPTIONS_INIT;

        options.capacity = 4 * CAP;
        options.consumers = 3;
        options.first_seq = 7;
        ck_assert_int_eq(shmkit_ring_create(&again, spec, &options), 0);
    }
    ck_assert_uint_eq(shmkit_ring_position(again), first + 40);
    send_messages(again, first + 40, first + 42);
    receive_exactly(a, first + 40, first + 42);
    shmkit_ring_close(again);
    w = tu_ring_open(spec, SHMKIT_WRITE);
    ck_assert_uint_eq(shmkit_ring_position(w), first + 42);
    shmkit_ring_close(o);
    shmkit_ring_close(n);
    shmkit_ring_close(a);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* The options as a program compiled before first_seq passes them, its
 * struct followed by bytes that are not its own: first_seq is 0. */
struct options_before_first_seq {
    size_t size;
    size_t capacity;
    size_t max_message;
    int policy;
    unsigned mode;
    unsigned flags;
    unsigned consumers;
};

START_TEST(test_options_of_an_older_program)
{
    char spec[32];
    struct {
        struct options_before_first_seq options;
        unsigned char beyond[32];
    } old;
    struct shmkit_ring_options current;
    const struct shmkit_ring_options *as_passed = (const void *)&old.options;
    shmkit_ring *w = NULL, *c;
    size_t cap = 0;

    memset(&current, 0xff, sizeof current);
    shmkit_ring_options_init(&current);
    ck_assert_uint_eq(current.first_seq, 0);
    ck_assert_uint_eq(current.size, sizeof current);

    tu_spec(tu_backend_of(_i), spec);
    memset(&old, 0xff, sizeof old);
    old.options.size = sizeof old.options;
    old.options.capacity = 1000;
    old.options.max_message = 0;
    old.options.policy = SHMKIT_RING_BLOCK;
    old.options.mode = 0600;
    old.options.flags = SHMKIT_EXCL;
    old.options.consumers = 0;
    ck_assert_int_eq(shmkit_ring_size(as_passed, &cap, NULL, NULL), 0);
    ck_assert_uint_eq(cap, 1024);
    ck_assert_int_eq(shmkit_ring_create(&w, spec, as_passed), 0);
    ck_assert_uint_eq(shmkit_ring_position(w), 0);
    c = tu_ring_open(spec, SHMKIT_ACK);
    ck_assert_uint_eq(shmkit_ring_acked(c), 0);
    send_messages(w, 0, 2);
    receive_exactly(c, 0, 2);
    /* A size that no version had is refused. */
    old.options.size = sizeof old.options + 1;
    ck_assert_int_eq(shmkit_ring_size(as_passed, &cap, NULL, NULL), -EINVAL);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* An ACK consumer next to a plain one: the writer waits for the ACK
 * consumer's acknowledged tail even when both have read everything. */
START_TEST(test_fanout_ack_and_plain)
{
    char spec[32], buf[MSG_MAX];
    shmkit_ring *w, *a, *p;
    uint64_t sent = 0;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, 1024, 2);
    a = tu_ring_open(spec, SHMKIT_ACK);
    p = tu_ring_open(spec, SHMKIT_FROM_OLDEST);
    while (send_one(w, sent, MSG_MAX, 0) == 0)
        sent++;
    receive_exactly(p, 0, sent);
    while (shmkit_ring_recv(a, buf, sizeof buf, 0) >= 0)
        ;
    ck_assert_uint_eq(shmkit_ring_position(a), sent);
    ck_assert_int_eq(send_one(w, sent, MSG_MAX, 0), -EAGAIN);
    ck_assert_uint_eq(entry_of(spec, 0).lag_messages, sent);
    ck_assert_uint_eq(entry_of(spec, 1).lag_messages, 0);
    ck_assert_int_eq(shmkit_ring_ack(a, sent), 0);
    ck_assert_int_eq(send_one(w, sent, MSG_MAX, 0), 0);
    receive_exactly(p, sent, sent + 1);
    ck_assert_int_eq(shmkit_ring_rewind(a), 0);
    ck_assert_uint_eq(shmkit_ring_position(a), sent);
    shmkit_ring_close(p);
    shmkit_ring_close(a);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The forwarder: killed at random, replaced, nothing lost             */
/* ------------------------------------------------------------------ */

/* What the far side has stored: the next message it needs. */
struct far_side {
    sk_atomic_u32 stored_lo, stored_hi;
};

static uint64_t stored_of(struct far_side *far)
{
    return (uint64_t)sk_load(&far->stored_hi, SK_SEQ_CST) << 32 |
           sk_load(&far->stored_lo, SK_SEQ_CST);
}

static void store_next(struct far_side *far, uint64_t next)
{
    sk_store(&far->stored_lo, (uint32_t)next, SK_SEQ_CST);
    sk_store(&far->stored_hi, (uint32_t)(next >> 32), SK_SEQ_CST);
}

/* A forwarding child (it never returns): resumes at the acknowledged message, which the far
 * side must have stored already, forwards what the far side does not
 * have yet (duplicates are recognised by number), and acknowledges
 * only every few messages, behind what it has read. */
static void forward(const char *spec, struct far_side *far, uint64_t first, uint64_t last)
{
    shmkit_ring *r = NULL;
    unsigned char buf[MSG_MAX];
    uint64_t n;

    CHILD_CHECK(shmkit_ring_open(&r, spec, SHMKIT_ACK) == 0);
    n = shmkit_ring_acked(r);
    CHILD_CHECK(n == shmkit_ring_position(r) && n >= first && n <= stored_of(far));
    for (; n < last; n++) {
        int len = shmkit_ring_recv(r, buf, sizeof buf, 20000);

        CHILD_CHECK(is_message(n, buf, len, MSG_MAX));
        if (n == stored_of(far))
            store_next(far, n + 1);
        if (n % 7 == 3 && n - 2 >= shmkit_ring_acked(r))
            CHILD_CHECK(shmkit_ring_ack(r, n - 2) == 0);
    }
    CHILD_CHECK(shmkit_ring_ack(r, last) == 0);
    shmkit_ring_close(r);
    _exit(0);
}

START_TEST(test_forwarder_killed_and_replaced)
{
    enum { MESSAGES = 100000, KILLS = 40 };
    uint64_t first = tu_variant_of(_i) == 0 ? 0 : 0xFFFFF000u;
    char spec[32];
    struct far_side *far = tu_shared_alloc(sizeof *far);
    uint64_t rng = tu_rng_seed(_i);
    pid_t writer, child;
    int kills = 0, status;

    tu_spec(tu_backend_of(_i), spec);
    shmkit_ring_close(create_numbered(spec, CAP, 1, first));
    store_next(far, first);
    writer = tu_fork();
    if (writer == 0) {
        shmkit_ring *w = NULL;
        uint64_t n;

        CHILD_CHECK(shmkit_ring_open(&w, spec, SHMKIT_WRITE) == 0);
        for (n = first; n < first + MESSAGES; n++)
            CHILD_CHECK(send_one(w, n, MSG_MAX, 60000) == 0);
        _exit(0);
    }
    for (;;) {
        child = tu_fork();
        if (child == 0)
            forward(spec, far, first, first + MESSAGES);
        usleep((useconds_t)(200 + tu_below(&rng, 2000)));
        if (stored_of(far) == first + MESSAGES || kills >= KILLS)
            break;
        kill(child, SIGKILL);
        status = tu_wait_exit_code(child);
        ck_assert_msg(status == 0 || status == 128 + SIGKILL, "forwarder ended with %d", status);
        kills++;
    }
    tu_wait_ok(child, CHILD);
    tu_wait_ok(writer, CHILD);
    printf("# %d forwarders killed\n", kills);
    ck_assert_uint_eq(stored_of(far), first + MESSAGES);
    ck_assert_uint_eq(entry_of(spec, 0).next_message, first + MESSAGES);
    tu_shared_free(far, sizeof *far);
    tu_finish(spec);
}
END_TEST

static Suite *ack_suite(void)
{
    Suite *s = suite_create("ack");
    TCase *basic = tu_tcase(s, "basic"), *crash = tu_tcase(s, "crash");

    tcase_set_timeout(basic, 120);
    tcase_set_timeout(crash, 300);
    tu_add_backend_test(basic, test_read_ahead_then_ack, 1);
    tu_add_backend_test(basic, test_writer_waits_for_acked, 1);
    tu_add_backend_test(basic, test_rewind_redelivers, 1);
    tu_add_backend_test(basic, test_ack_out_of_range, 1);
    tu_add_backend_test(basic, test_killed_consumer_resumed_at_acked, 2);
    tu_add_backend_test(basic, test_wrap_with_pads, 1);
    tu_add_backend_test(basic, test_peek_release_under_ack, 1);
    tu_add_backend_test(basic, test_wrong_handles, 1);
    tu_add_backend_test(basic, test_first_seq, 3);
    tu_add_backend_test(basic, test_options_of_an_older_program, 1);
    tu_add_backend_test(basic, test_fanout_ack_and_plain, 1);
    tu_add_backend_test(crash, test_forwarder_killed_and_replaced, 2);
    return s;
}

int main(void)
{
    return tu_run(ack_suite());
}
