/*
 * check_fanout.c - block rings with several consumers (issue 13, item 2):
 * every consumer receives every message in order; consumers that close or
 * die are resumed by the next one or dropped, and never wedge the writer
 * while another consumer lives; consumers join at the newest or oldest
 * message; the consumer table shows up in shmkit_info_consumers.  The last
 * test kills and replaces consumers at random while others read.
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
#define MSG_MAX 56u

/* Message N: its number, then bytes that depend on it, 8..MSG_MAX long
 * (frames of one and two cache lines). */
static size_t make_message(uint64_t n, unsigned char *buf)
{
    size_t len = 8 + (size_t)(tu_mix(n) % (MSG_MAX - 7)), i;

    memcpy(buf, &n, sizeof n);
    for (i = 8; i < len; i++)
        buf[i] = (unsigned char)(n * 31u + i);
    return len;
}

/* Is BUF (LEN bytes) exactly message N? */
static int is_message(uint64_t n, const unsigned char *buf, int len)
{
    unsigned char want[MSG_MAX];

    return len >= 0 && (size_t)len == make_message(n, want) && memcmp(buf, want, (size_t)len) == 0;
}

static void send_messages(shmkit_ring *w, uint64_t from, uint64_t to, int timeout_ms)
{
    unsigned char buf[MSG_MAX];
    uint64_t n;

    for (n = from; n < to; n++) {
        size_t len = make_message(n, buf);
        int rc = shmkit_ring_send(w, buf, len, timeout_ms);

        ck_assert_msg(rc == 0, "send %llu: %d %s (%s)", (unsigned long long)n, rc,
                      shmkit_strerror(rc), shmkit_error_detail());
    }
}

/* In a child: receive messages FIRST .. LAST - 1 exactly, in order. */
static void receive_exactly(shmkit_ring *r, uint64_t first, uint64_t last)
{
    unsigned char buf[MSG_MAX];
    uint64_t n;

    for (n = first; n < last; n++) {
        int len = shmkit_ring_recv(r, buf, sizeof buf, 20000);

        CHILD_CHECK(is_message(n, buf, len));
    }
}

/* A child that joins SPEC as a consumer with FLAGS, counts itself in
 * *READY, and receives messages FIRST .. LAST - 1 exactly.  (A consumer
 * handle does not cross fork(): each child opens its own.) */
static pid_t spawn_reader(const char *spec, unsigned flags, uint64_t first, uint64_t last,
                          sk_atomic_u32 *ready, int slow)
{
    pid_t pid = tu_fork();

    if (pid == 0) {
        shmkit_ring *r = NULL;

        CHILD_CHECK(shmkit_ring_open(&r, spec, flags) == 0);
        CHILD_CHECK(shmkit_ring_position(r) == first);
        if (slow)
            (void)shmkit_set_wait_mode(SHMKIT_WAIT_BLOCK);
        sk_fetch_add(ready, 1, SK_SEQ_CST);
        receive_exactly(r, first, last);
        shmkit_ring_close(r);
        _exit(0);
    }
    return pid;
}

static void wait_ready(sk_atomic_u32 *ready, unsigned n)
{
    while (sk_load(ready, SK_SEQ_CST) < n)
        usleep(1000);
}

static struct shmkit_consumer entry_of(const char *spec, unsigned i)
{
    struct shmkit_consumer table[SHMKIT_RING_MAX_CONSUMERS];
    int n = shmkit_info_consumers(spec, table, SHMKIT_RING_MAX_CONSUMERS, sizeof table[0]);

    ck_assert_msg(n > (int)i, "info_consumers: %d (%s)", n, shmkit_error_detail());
    return table[i];
}

/* ------------------------------------------------------------------ */

START_TEST(test_consumer_table_geometry)
{
    char spec[32];
    struct shmkit_ring_options options = SHMKIT_RING_OPTIONS_INIT;
    struct shmkit_info info;
    shmkit_ring *w, *r, *c[64];
    size_t bytes;
    unsigned i;

    options.capacity = CAP;
    options.consumers = 64;
    ck_assert_int_eq(shmkit_ring_size(&options, NULL, NULL, &bytes), 0);
    ck_assert_uint_eq(bytes, SK_HEADER_SIZE + 64 * SK_CONSUMER_SIZE + CAP);
    options.consumers = SHMKIT_RING_MAX_CONSUMERS + 1;
    ck_assert_int_eq(shmkit_ring_size(&options, NULL, NULL, &bytes), -EINVAL);
    options.consumers = 2;
    options.policy = SHMKIT_RING_OVERWRITE;
    ck_assert_int_eq(shmkit_ring_size(&options, NULL, NULL, &bytes), -EINVAL);

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, 64);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.ring_consumers, 64);
    ck_assert_int_eq(shmkit_info_consumers(spec, NULL, 0, sizeof(struct shmkit_consumer)), 64);
    /* Entry 0 keeps what is sent before anyone comes; the rest are free. */
    ck_assert_int_eq(entry_of(spec, 0).active, 1);
    ck_assert_int_eq(entry_of(spec, 1).active, 0);
    ck_assert_int_eq(entry_of(spec, 0).pid, 0);
    /* 64 consumers at once (handles of one process: one lease each). */
    for (i = 0; i < 64; i++)
        c[i] = tu_ring_open(spec, i % 2 ? SHMKIT_FROM_NEWEST : 0);
    ck_assert_int_eq(shmkit_ring_open(&r, spec, 0), SHMKIT_EBUSY);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "all 64 consumer entries"));
    ck_assert_int_eq(entry_of(spec, 63).pid, (long)getpid());
    ck_assert_int_eq(entry_of(spec, 63).alive, 1);
    send_messages(w, 0, 3, 0);
    for (i = 0; i < 64; i++) {
        unsigned char buf[MSG_MAX];

        ck_assert(is_message(0, buf, shmkit_ring_recv(c[i], buf, sizeof buf, 0)));
    }
    ck_assert_int_eq(entry_of(spec, 5).lag_messages, 2);
    for (i = 0; i < 64; i++)
        shmkit_ring_close(c[i]);
    ck_assert_int_eq(entry_of(spec, 5).pid, 0);
    ck_assert_int_eq(entry_of(spec, 5).active, 1); /* left, kept for the next */
    /* Flags that contradict each other, or a writer that would join. */
    ck_assert_int_eq(shmkit_ring_open(&r, spec, SHMKIT_FROM_NEWEST | SHMKIT_FROM_OLDEST),
                     -EINVAL);
    ck_assert_int_eq(shmkit_ring_open(&r, spec, SHMKIT_WRITE | SHMKIT_FROM_NEWEST), -EINVAL);
    shmkit_ring_close(w);
    ck_assert_int_eq(shmkit_info_consumers(spec, NULL, 0, 1), -EINVAL);
    tu_finish(spec);
}
END_TEST

/* Every consumer receives every message, in order, while the writer
 * waits for the slowest: the consumers read at different speeds. */
START_TEST(test_every_consumer_every_message)
{
    enum { CONSUMERS = 4, MESSAGES = 20000 };
    char spec[32];
    shmkit_ring *w;
    sk_atomic_u32 *ready = tu_shared_alloc(sizeof *ready);
    pid_t pid[CONSUMERS];
    int i;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, CONSUMERS);
    for (i = 0; i < CONSUMERS; i++)
        pid[i] = spawn_reader(spec, SHMKIT_FROM_OLDEST, 0, MESSAGES, ready, i == 0);
    wait_ready(ready, CONSUMERS);
    send_messages(w, 0, MESSAGES, 20000);
    for (i = 0; i < CONSUMERS; i++)
        tu_wait_ok(pid[i], CHILD);
    shmkit_ring_close(w);
    tu_shared_free(ready, sizeof *ready);
    tu_finish(spec);
}
END_TEST

/* A consumer that closed (variant 0) or was killed (variant 1) without
 * reading does not wedge the writer while another consumer reads: the
 * writer drops its entry.  The live consumer gets everything. */
START_TEST(test_gone_consumer_dropped)
{
    enum { MESSAGES = 4 * CAP / 64 };
    char spec[32];
    shmkit_ring *w, *gone;
    sk_atomic_u32 *ready = tu_shared_alloc(sizeof *ready);
    pid_t reader, victim = -1;
    uint64_t start = tu_now_ns();

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, 2);
    if (tu_variant_of(_i) == 0) {
        gone = tu_ring_open(spec, SHMKIT_FROM_NEWEST);
        ck_assert_int_eq(entry_of(spec, 1).pid, (long)getpid());
        shmkit_ring_close(gone);
    } else {
        victim = tu_fork();
        if (victim == 0) {
            gone = tu_ring_open(spec, SHMKIT_FROM_NEWEST);
            pause();
            _exit(0);
        }
        while (entry_of(spec, 1).pid != (long)victim)
            usleep(1000);
        kill(victim, SIGKILL);
        ck_assert_int_eq(tu_wait_exit_code(victim), 128 + SIGKILL);
    }
    ck_assert_int_eq(entry_of(spec, 1).active, 1);
    reader = spawn_reader(spec, 0, 0, MESSAGES, ready, 0); /* resumes entry 0 */
    wait_ready(ready, 1);
    send_messages(w, 0, MESSAGES, 20000);
    tu_wait_ok(reader, CHILD);
    ck_assert_int_eq(entry_of(spec, 1).active, 0);
    ck_assert_int_eq(entry_of(spec, 0).active, 1);
    /* Dropped within a few of the writer's checks, not after a long wait. */
    ck_assert_uint_lt(tu_now_ns() - start, 15000000000ull);
    shmkit_ring_close(w);
    tu_shared_free(ready, sizeof *ready);
    tu_finish(spec);
}
END_TEST

/* With no live consumer at all, a left entry is kept: the writer waits,
 * and the next consumer continues where the last one stopped. */
START_TEST(test_left_entry_resumed)
{
    char spec[32];
    unsigned char buf[MSG_MAX];
    shmkit_ring *w, *c;
    unsigned sent = 0;
    int rc;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, 3);
    c = tu_ring_open(spec, 0);
    send_messages(w, 0, 10, 0);
    receive_exactly(c, 0, 3);
    shmkit_ring_close(c);
    /* Fill the ring: the left entry still holds the writer back. */
    while ((rc = shmkit_ring_send(w, buf, make_message(10 + sent, buf), 0)) == 0)
        sent++;
    ck_assert_int_eq(rc, -EAGAIN);
    ck_assert_uint_lt(sent, CAP / 64);
    c = tu_ring_open(spec, 0);
    ck_assert_uint_eq(shmkit_ring_position(c), 3);
    receive_exactly(c, 3, 10 + sent);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* A one-consumer ring: the only entry is taken afresh, but never moved
 * back behind what its last consumer consumed (the writer may already be
 * overwriting that). */
START_TEST(test_one_entry_joined_afresh)
{
    char spec[32];
    shmkit_ring *w, *c;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, 1);
    c = tu_ring_open(spec, 0);
    send_messages(w, 0, 10, 0);
    receive_exactly(c, 0, 3);
    shmkit_ring_close(c);
    c = tu_ring_open(spec, SHMKIT_FROM_OLDEST);
    ck_assert_uint_eq(shmkit_ring_position(c), 3);
    shmkit_ring_close(c);
    c = tu_ring_open(spec, SHMKIT_FROM_NEWEST);
    ck_assert_uint_eq(shmkit_ring_position(c), 9);
    receive_exactly(c, 9, 10);
    shmkit_ring_close(c);
    c = tu_ring_open(spec, SHMKIT_FROM_OLDEST);
    ck_assert_uint_eq(shmkit_ring_position(c), 10);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* Fresh consumers start at the newest message or at the oldest the ring
 * keeps, whatever the left entries hold. */
START_TEST(test_join_newest_and_oldest)
{
    char spec[32];
    shmkit_ring *w, *oldest, *newest, *first;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, 3);
    send_messages(w, 0, 5, 0);
    oldest = tu_ring_open(spec, SHMKIT_FROM_OLDEST);
    newest = tu_ring_open(spec, SHMKIT_FROM_NEWEST);
    ck_assert_uint_eq(shmkit_ring_position(oldest), 0);
    ck_assert_uint_eq(shmkit_ring_position(newest), 4);
    receive_exactly(newest, 4, 5);
    receive_exactly(oldest, 0, 5);
    /* Entry 0, kept since creation, is what a plain open resumes. */
    first = tu_ring_open(spec, 0);
    ck_assert_uint_eq(shmkit_ring_position(first), 0);
    send_messages(w, 5, 8, 0);
    receive_exactly(first, 0, 8);
    receive_exactly(newest, 5, 8);
    receive_exactly(oldest, 5, 8);
    shmkit_ring_close(first);
    shmkit_ring_close(newest);
    shmkit_ring_close(oldest);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* "The oldest message kept" is the oldest some active consumer has not
 * read: once every consumer read everything, a consumer joining at the
 * oldest gets only what comes next. */
START_TEST(test_oldest_is_what_consumers_keep)
{
    char spec[32];
    shmkit_ring *w, *a, *b, *late;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, 4);
    a = tu_ring_open(spec, 0);             /* entry 0, kept from the start */
    b = tu_ring_open(spec, SHMKIT_FROM_OLDEST);
    send_messages(w, 0, 5, 0);
    receive_exactly(b, 0, 5);
    late = tu_ring_open(spec, SHMKIT_FROM_OLDEST); /* a has read nothing */
    ck_assert_uint_eq(shmkit_ring_position(late), 0);
    receive_exactly(late, 0, 5); /* its entry, left, keeps nothing older */
    shmkit_ring_close(late);
    receive_exactly(a, 0, 5);
    late = tu_ring_open(spec, SHMKIT_FROM_OLDEST);
    ck_assert_uint_eq(shmkit_ring_position(late), 5);
    send_messages(w, 5, 6, 0);
    receive_exactly(late, 5, 6);
    shmkit_ring_close(late);
    shmkit_ring_close(b);
    shmkit_ring_close(a);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* The zero-copy API, per consumer: each peeks every message in place. */
START_TEST(test_zero_copy_per_consumer)
{
    char spec[32];
    shmkit_ring *w, *c[2];
    const void *p;
    uint64_t n;
    int i;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, 256, 2);
    c[0] = tu_ring_open(spec, 0);
    c[1] = tu_ring_open(spec, SHMKIT_FROM_OLDEST);
    for (n = 0; n < 100; n++) {
        send_messages(w, n, n + 1, 0);
        for (i = 0; i < 2; i++) {
            int len = shmkit_ring_peek(c[i], &p, 0);

            ck_assert(is_message(n, p, len));
            ck_assert_int_eq(shmkit_ring_release(c[i]), 0);
        }
    }
    shmkit_ring_close(c[0]);
    shmkit_ring_close(c[1]);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* A consumer whose entry was dropped (the writer judged it dead: a
 * holder in a PID namespace it cannot see, say) learns it when it is
 * about to wait, instead of reading frames the writer no longer keeps
 * for it. */
START_TEST(test_dropped_consumer_told)
{
    char spec[32], buf[MSG_MAX];
    struct sk_spec parsed;
    struct sk_seg seg;
    struct sk_consumer *entry;
    shmkit_ring *w, *c;
    uint32_t state;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, 2);
    c = tu_ring_open(spec, 0);
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), -EAGAIN);
    ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
    ck_assert_int_eq(shmkit__seg_open(&seg, &parsed, SK_SEG_WRITE, SK_HEADER_SIZE), 0);
    entry = sk_consumer_entry(seg.base, 0);
    state = sk_load(&entry->state, SK_RELAXED);
    ck_assert_uint_eq(state & SK_CONSUMER_ACTIVE, SK_CONSUMER_ACTIVE);
    sk_store(&entry->state, state + 1, SK_RELAXED); /* the next generation, vacant */
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 10), SHMKIT_ENOTHOLDER);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "dropped"));
    shmkit__seg_close(&seg);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Consumers killed and replaced at random while others read           */
/* ------------------------------------------------------------------ */

#define CHURN_MESSAGES 100000u
#define CHURN_STABLE 2
#define CHURN_ENTRIES 4

/* A replacement: joins (resuming a dead one's entry, or afresh at the
 * newest message) and checks that what it receives is the stream from
 * its first message on, without a gap or a repeat, until it is killed. */
static void churn_consumer(const char *spec, unsigned flags)
{
    unsigned char buf[MSG_MAX];
    shmkit_ring *r = NULL;
    uint64_t n;
    int rc = shmkit_ring_open(&r, spec, flags);

    if (rc == SHMKIT_EBUSY)
        _exit(0); /* every entry taken: a valid outcome */
    CHILD_CHECK(rc == 0);
    for (n = shmkit_ring_position(r);; n++) {
        int len = shmkit_ring_recv(r, buf, sizeof buf, 20000);

        if (len == -ETIMEDOUT)
            _exit(0);
        CHILD_CHECK(is_message(n, buf, len));
    }
}

/* In a child: replace consumers at random, each killed after 1..20 ms,
 * until *DONE; exit with 0, or with the line of a failed check. */
static void replace_consumers(const char *spec, sk_atomic_u32 *done)
{
    uint64_t rng = tu_rng_seed(131);
    unsigned kills = 0;

    while (!sk_load(done, SK_ACQUIRE)) {
        pid_t churn = fork();
        int status;

        CHILD_CHECK(churn >= 0);
        if (churn == 0)
            churn_consumer(spec, tu_below(&rng, 2) ? SHMKIT_FROM_NEWEST : 0);
        usleep((useconds_t)(1000 + tu_below(&rng, 20000)));
        kill(churn, SIGKILL);
        CHILD_CHECK(waitpid(churn, &status, 0) == churn);
        /* Killed, or done (EBUSY, or no message for 20 s): never a
         * failed check. */
        CHILD_CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
                    (WIFEXITED(status) && WEXITSTATUS(status) == 0));
        kills++;
    }
    CHILD_CHECK(kills > 0);
    _exit(0);
}

START_TEST(test_consumers_killed_and_replaced)
{
    char spec[32];
    shmkit_ring *w;
    sk_atomic_u32 *shared = tu_shared_alloc(2 * sizeof *shared), *ready = shared, *done = shared + 1;
    pid_t manager, readers[CHURN_STABLE];
    int i;

    tu_spec(tu_backend_of(_i), spec);
    w = tu_fanout_create(spec, CAP, CHURN_ENTRIES);
    for (i = 0; i < CHURN_STABLE; i++)
        readers[i] = spawn_reader(spec, SHMKIT_FROM_OLDEST, 0, CHURN_MESSAGES, ready, 0);
    wait_ready(ready, CHURN_STABLE);
    manager = tu_fork();
    if (manager == 0)
        replace_consumers(spec, done);
    send_messages(w, 0, CHURN_MESSAGES, 20000);
    sk_store(done, 1, SK_RELEASE);
    tu_wait_ok(manager, "the process that kills and replaces consumers");
    for (i = 0; i < CHURN_STABLE; i++)
        tu_wait_ok(readers[i], CHILD);
    shmkit_ring_close(w);
    tu_shared_free(shared, 2 * sizeof *shared);
    tu_finish(spec);
}
END_TEST

static Suite *fanout_suite(void)
{
    Suite *s = suite_create("fanout");
    TCase *basic = tcase_create("basic"), *crash = tcase_create("crash");

    suite_add_tcase(s, basic);
    suite_add_tcase(s, crash);
    tcase_set_timeout(basic, 120);
    tcase_set_timeout(crash, 300);
    tu_add_backend_test(basic, test_consumer_table_geometry, 1);
    tu_add_backend_test(basic, test_every_consumer_every_message, 1);
    tu_add_backend_test(basic, test_gone_consumer_dropped, 2);
    tu_add_backend_test(basic, test_left_entry_resumed, 1);
    tu_add_backend_test(basic, test_join_newest_and_oldest, 1);
    tu_add_backend_test(basic, test_one_entry_joined_afresh, 1);
    tu_add_backend_test(basic, test_oldest_is_what_consumers_keep, 1);
    tu_add_backend_test(basic, test_zero_copy_per_consumer, 1);
    tu_add_backend_test(basic, test_dropped_consumer_told, 1);
    tu_add_backend_test(crash, test_consumers_killed_and_replaced, 1);
    return s;
}

int main(void)
{
    return tu_run(fanout_suite());
}
