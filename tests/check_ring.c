/*
 * check_ring.c - rings on both backends and both policies: lossless
 * delivery across processes (copy and zero-copy), exact loss counts on
 * overwrite rings, wraparound at every boundary, timeouts, leases, and
 * damaged frames.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

/* ---- deterministic messages ---------------------------------------- */

/* Message N: a length in 0..MAX chosen from N, then bytes derived from N,
 * the first 8 of which (when there is room) are N itself. */
static size_t message_len(uint64_t n, size_t max)
{
    return (size_t)(tu_mix(n) % (max + 1));
}

static void fill_message(unsigned char *buf, uint64_t n, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = (unsigned char)(tu_mix(n * 7919u + i) >> 17);
    if (len >= 8)
        memcpy(buf, &n, 8);
}

/* Messages that carry their own number: 8 .. MAX bytes. */
static size_t numbered_len(uint64_t n, size_t max)
{
    return 8 + message_len(n, max - 8);
}

/* Which numbered message is this?  -1 if it is none of ours (damaged). */
static int64_t identify(const unsigned char *buf, size_t len, size_t max)
{
    unsigned char expect[4096];
    uint64_t n;

    if (len < 8 || len > sizeof expect)
        return -1;
    memcpy(&n, buf, 8);
    if (numbered_len(n, max) != len)
        return -1;
    fill_message(expect, n, len);
    return memcmp(expect, buf, len) == 0 ? (int64_t)n : -1;
}

static int check_message(const unsigned char *buf, int len, uint64_t n, size_t max)
{
    unsigned char expect[65536];

    if (len < 0 || (size_t)len != message_len(n, max))
        return 0;
    fill_message(expect, n, (size_t)len);
    return memcmp(expect, buf, (size_t)len) == 0;
}

/* ---- helpers ------------------------------------------------------- */

/* A new ring of this test, and an open one: the test fails otherwise. */
#define create_ring(spec, cap, max, policy) tu_ring_create(spec, cap, max, policy, 0, SHMKIT_EXCL)
#define open_ring(spec, flags) tu_ring_open(spec, flags)
/* Where the frames of a one-consumer block ring start: after the header
 * and its one-entry consumer table. */
#define BLOCK_PAYLOAD (SK_HEADER_SIZE + SK_CONSUMER_SIZE)

/* ---- creation and geometry ----------------------------------------- */

START_TEST(test_geometry)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *again = NULL;
    struct shmkit_info info;

    tu_spec(backend, spec);
    w = create_ring(spec, 1000, 100, SHMKIT_RING_BLOCK);
    ck_assert_uint_eq(shmkit_ring_capacity(w), 1024);   /* rounded up */
    ck_assert_uint_eq(shmkit_ring_max_message(w), 100);
    ck_assert_int_eq(shmkit_ring_policy(w), SHMKIT_RING_BLOCK);
    ck_assert_int_eq(shmkit_ring_send(w, "x", 101, 0), -EMSGSIZE);
    ck_assert_int_eq(tu_ring_create_rc(&again, spec, 1024, 100, SHMKIT_RING_BLOCK, 0,
                                    SHMKIT_EXCL), -EEXIST);
    ck_assert_int_eq(tu_ring_create_rc(&again, spec, 2048, 100, SHMKIT_RING_BLOCK, 0, 0),
                     SHMKIT_ESIZE);
    ck_assert_int_eq(tu_ring_create_rc(&again, spec, 1024, 100, SHMKIT_RING_OVERWRITE, 0, 0),
                     SHMKIT_EKIND);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.kind, SHMKIT_KIND_RING);
    ck_assert_int_eq(info.ring_policy, SHMKIT_RING_BLOCK);
    ck_assert_uint_eq(info.ring_capacity, 1024);
    ck_assert_uint_eq(info.ring_max_message, 100);
    ck_assert_int_eq(info.writer_pid, getpid());
    ck_assert_str_ne(info.wait_mechanism, "");
    shmkit_ring_close(w);
    /* Without max_message: the largest that always fits. */
    ck_assert_int_eq(tu_ring_create_rc(&again, spec, 1024, 0, SHMKIT_RING_BLOCK, 0, 0),
                     SHMKIT_ESIZE);
    tu_finish(spec);
    again = tu_ring_create(spec, 1024, 0, SHMKIT_RING_BLOCK, 0, 0);
    ck_assert_uint_eq(shmkit_ring_max_message(again), 1024 / 2 - 16);
    shmkit_ring_close(again);
    tu_finish(spec);
}
END_TEST

/* The options structure: its initialisers agree, and a size the library
 * does not know is refused before anything is created. */
START_TEST(test_options)
{
    int backend = tu_backend_of(_i);
    struct shmkit_ring_options init = SHMKIT_RING_OPTIONS_INIT, options;
    struct shmkit_info info;
    size_t cap = 0, max = 0, bytes = 0;
    char spec[32];
    shmkit_ring *w = NULL;

    memset(&options, 0xa5, sizeof options);
    shmkit_ring_options_init(&options);
    ck_assert_uint_eq(options.size, sizeof options);
    ck_assert_uint_eq(options.capacity, 0);
    ck_assert_uint_eq(options.max_message, 0);
    ck_assert_int_eq(options.policy, SHMKIT_RING_BLOCK);
    ck_assert_uint_eq(options.mode, 0);
    ck_assert_uint_eq(options.flags, 0);
    /* The macro's, member by member (padding bytes may differ). */
    ck_assert_uint_eq(init.size, options.size);
    ck_assert_uint_eq(init.capacity, options.capacity);
    ck_assert_uint_eq(init.max_message, options.max_message);
    ck_assert_int_eq(init.policy, options.policy);
    ck_assert_uint_eq(init.mode, options.mode);
    ck_assert_uint_eq(init.flags, options.flags);
    shmkit_ring_options_init(NULL); /* does nothing */

    tu_spec(backend, spec);
    options.capacity = 4096;
    options.flags = SHMKIT_EXCL;
    options.size = 0; /* not set up */
    w = (shmkit_ring *)&info;
    ck_assert_int_eq(shmkit_ring_create(&w, spec, &options), -EINVAL);
    ck_assert_ptr_null(w);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "SHMKIT_RING_OPTIONS_INIT"));
    options.size = sizeof options + 8; /* a later version's */
    ck_assert_int_eq(shmkit_ring_create(&w, spec, &options), -EINVAL);
    ck_assert_int_eq(shmkit_ring_size(&options, &cap, &max, &bytes), -EINVAL);
    ck_assert_int_eq(shmkit_ring_create(&w, spec, NULL), -EINVAL);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), -ENOENT);

    /* What shmkit_ring_size says is what shmkit_ring_create makes. */
    options.size = sizeof options;
    options.capacity = 3000;
    options.policy = SHMKIT_RING_OVERWRITE;
    ck_assert_int_eq(shmkit_ring_size(&options, &cap, &max, &bytes), 0);
    ck_assert_int_eq(shmkit_ring_create(&w, spec, &options), 0);
    ck_assert_uint_eq(shmkit_ring_capacity(w), cap);
    ck_assert_uint_eq(shmkit_ring_max_message(w), max);
    ck_assert_int_eq(shmkit_ring_policy(w), SHMKIT_RING_OVERWRITE);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.total_size, bytes);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* shmkit_ring_size: the geometry of rings, without creating one. */
START_TEST(test_ring_size)
{
    static const struct {
        size_t capacity, max_message;
        int policy, rc;
        size_t cap, max;
    } cases[] = {
        { 1, 0, SHMKIT_RING_BLOCK, 0, 256, 256 / 2 - 16 },
        { 256, 0, SHMKIT_RING_OVERWRITE, 0, 256, 256 / 2 - 16 },
        { 257, 0, SHMKIT_RING_BLOCK, 0, 512, 512 / 2 - 16 },
        { 1000, 100, SHMKIT_RING_BLOCK, 0, 1024, 100 },
        { 4096, 4096 / 2 - 16, SHMKIT_RING_BLOCK, 0, 4096, 4096 / 2 - 16 },
        { (size_t)1 << 30, 0, SHMKIT_RING_OVERWRITE, 0, (size_t)1 << 30, ((size_t)1 << 29) - 16 },
        { 0, 0, SHMKIT_RING_BLOCK, SHMKIT_ESIZE, 0, 0 },
        { ((size_t)1 << 30) + 1, 0, SHMKIT_RING_BLOCK, SHMKIT_ESIZE, 0, 0 },
        { 4096, 4096 / 2 - 15, SHMKIT_RING_BLOCK, SHMKIT_ESIZE, 0, 0 },
        { 4096, (size_t)1 << 30, SHMKIT_RING_BLOCK, SHMKIT_ESIZE, 0, 0 },
        { 4096, 0, 7, -EINVAL, 0, 0 },
    };
    struct shmkit_ring_options options = SHMKIT_RING_OPTIONS_INIT;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t cap = 0, max = 0, bytes = 0;
        int rc;

        options.capacity = cases[i].capacity;
        options.max_message = cases[i].max_message;
        options.policy = cases[i].policy;
        rc = shmkit_ring_size(&options, &cap, &max, &bytes);
        ck_assert_msg(rc == cases[i].rc, "case %zu: %d (%s)", i, rc, shmkit_error_detail());
        if (rc < 0) {
            ck_assert_str_ne(shmkit_error_detail(), "");
            continue;
        }
        ck_assert_uint_eq(cap, cases[i].cap);
        ck_assert_uint_eq(max, cases[i].max);
        ck_assert_uint_eq(bytes, SK_HEADER_SIZE + cases[i].cap +
                                     (cases[i].policy == SHMKIT_RING_BLOCK ? SK_CONSUMER_SIZE : 0));
        /* Every output is optional. */
        ck_assert_int_eq(shmkit_ring_size(&options, NULL, NULL, NULL), 0);
    }
}
END_TEST

START_TEST(test_bad_arguments)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *r = NULL, *w;
    shmkit_slot *slot;
    void *p;
    const void *cp;
    char buf[8];

    tu_spec(backend, spec);
    ck_assert_int_eq(tu_ring_create_rc(&r, spec, 0, 0, SHMKIT_RING_BLOCK, 0, 0), SHMKIT_ESIZE);
    ck_assert_int_eq(tu_ring_create_rc(&r, spec, 4096, 2048, SHMKIT_RING_BLOCK, 0, 0),
                     SHMKIT_ESIZE);
    ck_assert_int_eq(tu_ring_create_rc(&r, spec, 4096, 0, 7, 0, 0), -EINVAL);
    ck_assert_int_eq(tu_ring_create_rc(&r, spec, 4096, 0, SHMKIT_RING_BLOCK, 01000, 0), -EINVAL);
    ck_assert_int_eq(shmkit_ring_open(&r, spec, 0), -ENOENT);
    ck_assert_ptr_null(r);
    w = create_ring(spec, 4096, 0, SHMKIT_RING_BLOCK);
    ck_assert_int_eq(shmkit_ring_recv(w, buf, sizeof buf, 0), -EPERM);
    ck_assert_int_eq(shmkit_ring_commit(w, 0), -EINVAL);
    ck_assert_int_eq(shmkit_ring_reserve(w, &p, 10, 0), 0);
    ck_assert_int_eq(shmkit_ring_send(w, "x", 1, 0), -EINVAL);
    ck_assert_int_eq(shmkit_ring_commit(w, 11), -EINVAL);
    ck_assert_int_eq(shmkit_ring_commit(w, 10), 0);
    r = open_ring(spec, 0);
    ck_assert_int_eq(shmkit_ring_send(r, "x", 1, 0), -EPERM);
    ck_assert_int_eq(shmkit_ring_release(r), -EINVAL);
    ck_assert_int_eq(shmkit_ring_peek(r, &cp, 0), 10);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), -EINVAL);
    ck_assert_int_eq(shmkit_ring_release(r), 0);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), -EAGAIN);
    /* A ring is not a slot, and a slot is not a ring. */
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, 0), SHMKIT_EKIND);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    tu_finish(spec);
    ck_assert_int_eq(shmkit_slot_create(&slot, spec, NULL, 8, 0, 0), 0);
    ck_assert_int_eq(shmkit_ring_open(&r, spec, 0), SHMKIT_EKIND);
    shmkit_slot_close(slot);
    tu_finish(spec);
}
END_TEST

/* ---- wraparound at every boundary ----------------------------------- */

/* How wrap_all_offsets sends: by copy, reserve and commit, or by copy
 * after a reservation of the same size that is cancelled (which may have
 * written a pad frame and, overwrite, reclaimed room). */
enum wrap_send { WRAP_COPY, WRAP_ZERO_COPY, WRAP_CANCEL_FIRST };

/* Reserve LEN bytes, scribble over them and cancel: nothing may show. */
static void reserve_and_cancel(shmkit_ring *w, unsigned len)
{
    void *p;

    ck_assert_int_eq(shmkit_ring_reserve(w, &p, len, 0), 0);
    memset(p, 0xee, len);
    ck_assert_int_eq(shmkit_ring_cancel(w), 0);
    ck_assert_int_eq(shmkit_ring_cancel(w), -EINVAL);
}

/* In one process, with a 256-byte ring: start the stream at every 16-byte
 * offset and send frames of every size, so that frames end exactly at the
 * end, need a pad of every length, and start right after a pad. */
static void wrap_all_offsets(int backend, int policy, enum wrap_send how)
{
    char spec[32];
    unsigned offset, len;
    unsigned char in[112], out[112];

    for (offset = 0; offset < 256; offset += 16) {
        shmkit_ring *w, *r;
        uint64_t n = 0;

        tu_spec(backend, spec);
        w = create_ring(spec, 256, 112, policy);
        r = open_ring(spec, SHMKIT_FROM_OLDEST);
        /* Move the stream to OFFSET with empty messages (16 bytes each). */
        for (len = 0; len < offset; len += 16) {
            ck_assert_int_eq(shmkit_ring_send(w, "", 0, 0), 0);
            ck_assert_int_eq(shmkit_ring_recv(r, out, sizeof out, 0), 0);
            n++;
        }
        for (len = 0; len <= 112; len++) {
            int got;
            fill_message(in, n, len);
            if (how == WRAP_CANCEL_FIRST) {
                const void *q;

                reserve_and_cancel(w, len);
                ck_assert_int_eq(shmkit_ring_peek(r, &q, 0), -EAGAIN);
            }
            if (how == WRAP_ZERO_COPY) {
                void *p;
                const void *q;
                ck_assert_int_eq(shmkit_ring_reserve(w, &p, len, 0), 0);
                memcpy(p, in, len);
                ck_assert_int_eq(shmkit_ring_commit(w, len), 0);
                got = shmkit_ring_peek(r, &q, 0);
                ck_assert_int_eq(got, (int)len);
                memcpy(out, q, len);
                ck_assert_int_eq(shmkit_ring_release(r), 0);
            } else {
                ck_assert_int_eq(shmkit_ring_send(w, in, len, 0), 0);
                got = shmkit_ring_recv(r, out, sizeof out, 0);
            }
            ck_assert_msg(got == (int)len && memcmp(in, out, len) == 0,
                          "offset %u, length %u: got %d", offset, len, got);
            ck_assert_uint_eq(shmkit_ring_position(r), n + 1);
            n++;
        }
        ck_assert_uint_eq(shmkit_ring_lost(r), 0);
        shmkit_ring_close(r);
        shmkit_ring_close(w);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
    }
    tu_assert_no_leftovers();
}

START_TEST(test_wrap_block_copy)
{
    wrap_all_offsets(tu_backend_of(_i), SHMKIT_RING_BLOCK, WRAP_COPY);
}
END_TEST

START_TEST(test_wrap_block_zero_copy)
{
    wrap_all_offsets(tu_backend_of(_i), SHMKIT_RING_BLOCK, WRAP_ZERO_COPY);
}
END_TEST

START_TEST(test_wrap_block_cancel)
{
    wrap_all_offsets(tu_backend_of(_i), SHMKIT_RING_BLOCK, WRAP_CANCEL_FIRST);
}
END_TEST

START_TEST(test_wrap_overwrite)
{
    wrap_all_offsets(tu_backend_of(_i), SHMKIT_RING_OVERWRITE, WRAP_COPY);
}
END_TEST

START_TEST(test_wrap_overwrite_cancel)
{
    wrap_all_offsets(tu_backend_of(_i), SHMKIT_RING_OVERWRITE, WRAP_CANCEL_FIRST);
}
END_TEST

/* ---- block policy: full ring, timeouts, consumers ------------------- */

START_TEST(test_block_full_and_timeouts)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *r;
    unsigned char buf[64];
    uint64_t t0;
    int sent = 0;

    tu_spec(backend, spec);
    w = create_ring(spec, 256, 48, SHMKIT_RING_BLOCK);
    r = open_ring(spec, 0);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), -EAGAIN);
    t0 = shmkit__monotonic_ns();
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 50), -ETIMEDOUT);
    ck_assert_uint_ge(shmkit__monotonic_ns() - t0, 50u * 1000000u);
    /* 64-byte frames: exactly four fit. */
    while (shmkit_ring_send(w, buf, 48, 0) == 0)
        sent++;
    ck_assert_int_eq(sent, 4);
    ck_assert_int_eq(shmkit_ring_send(w, buf, 48, 0), -EAGAIN);
    t0 = shmkit__monotonic_ns();
    ck_assert_int_eq(shmkit_ring_send(w, buf, 48, 50), -ETIMEDOUT);
    ck_assert_uint_ge(shmkit__monotonic_ns() - t0, 50u * 1000000u);
    /* A too small buffer leaves the message where it is. */
    ck_assert_int_eq(shmkit_ring_recv(r, buf, 47, 0), -EMSGSIZE);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, 48, 0), 48);
    ck_assert_int_eq(shmkit_ring_send(w, buf, 48, 0), 0);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

START_TEST(test_consumer_lease)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *c, *c2 = NULL;
    struct shmkit_info info;
    int pipefd[2], status;
    pid_t child;
    char buf[16], ch;
    int i;

    tu_spec(backend, spec);
    w = create_ring(spec, 4096, 0, SHMKIT_RING_BLOCK);
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(shmkit_ring_send(w, &i, sizeof i, 0), 0);
    c = open_ring(spec, 0);
    ck_assert_int_eq(shmkit_ring_open(&c2, spec, 0), SHMKIT_EBUSY);
    ck_assert_ptr_null(c2);
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), (int)sizeof i);
    ck_assert_int_eq(*(int *)buf, 0);
    shmkit_ring_close(c);
    /* A consumer that dies: the next one continues where it stopped. */
    ck_assert_int_eq(pipe(pipefd), 0);
    child = tu_fork();
    if (child == 0) {
        shmkit_ring *cc;
        char b[16];
        if (shmkit_ring_open(&cc, spec, 0) != 0 || shmkit_ring_recv(cc, b, sizeof b, 0) != 4 ||
            *(int *)b != 1 || write(pipefd[1], "k", 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    ck_assert_int_eq(read(pipefd[0], &ch, 1), 1);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.consumer_pid, child);
    ck_assert_int_eq(info.consumer_alive, 1);
    ck_assert_uint_eq(info.ring_messages, 10);
    ck_assert_int_eq(shmkit_ring_open(&c2, spec, 0), SHMKIT_EBUSY);
    kill(child, SIGKILL);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    c = open_ring(spec, 0);
    for (i = 2; i < 10; i++) {
        ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), (int)sizeof i);
        ck_assert_int_eq(*(int *)buf, i);
    }
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), -EAGAIN);
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    close(pipefd[0]);
    close(pipefd[1]);
    tu_finish(spec);
}
END_TEST

START_TEST(test_writer_takeover_keeps_sequence)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *r;
    char buf[16];
    int i, status;
    pid_t child;

    tu_spec(backend, spec);
    w = create_ring(spec, 4096, 0, SHMKIT_RING_OVERWRITE);
    r = open_ring(spec, SHMKIT_FROM_OLDEST);
    ck_assert_int_eq(shmkit_ring_send(w, "a", 1, 0), 0);
    shmkit_ring_close(w);
    child = tu_fork();
    if (child == 0) {
        shmkit_ring *cw;
        if (shmkit_ring_open(&cw, spec, SHMKIT_WRITE) != 0)
            _exit(1);
        for (i = 0; i < 3; i++)
            if (shmkit_ring_send(cw, "b", 1, 0) != 0)
                _exit(2);
        _exit(0); /* dies holding the lease */
    }
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_int_eq(status, 0);
    w = open_ring(spec, SHMKIT_WRITE);
    ck_assert_uint_eq(shmkit_ring_position(w), 4);
    ck_assert_int_eq(shmkit_ring_send(w, "c", 1, 0), 0);
    for (i = 0; i < 5; i++) {
        ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), 1);
        ck_assert_int_eq(buf[0], i == 0 ? 'a' : i < 4 ? 'b' : 'c');
        ck_assert_uint_eq(shmkit_ring_position(r), (uint64_t)i + 1);
    }
    ck_assert_uint_eq(shmkit_ring_lost(r), 0);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* ---- the commit words (format 3) ------------------------------------- */

/* Message bytes of an earlier lap lie where the next frame will start,
 * and here every 32-bit word of every message is the commit word that a
 * frame starting at its position one lap later would carry.  A consumer
 * that has caught up polls exactly such a position: it must see the
 * frame as unpublished (the writer clears that word before publishing
 * the frame before it) and never take the message bytes for a frame. */
#define TAG_CAP 1024u

static void fill_with_future_tags(unsigned char *msg, uint32_t payload_pos, size_t len)
{
    size_t k;

    for (k = 0; k + 4 <= len; k += 4) {
        uint32_t tag = (payload_pos + (uint32_t)k + TAG_CAP) | SK_FRAME_COMMITTED;

        memcpy(msg + k, &tag, 4);
    }
}

/* Receive every message published, the last being number COUNT - 1. */
static void drain_to(shmkit_ring *r, uint64_t count)
{
    unsigned char got[512];
    int rc;

    while ((rc = shmkit_ring_recv(r, got, sizeof got, 0)) >= 0)
        ck_assert_uint_le((size_t)rc, sizeof got);
    ck_assert_int_eq(rc, -EAGAIN);
    ck_assert_uint_eq(shmkit_ring_position(r), count);
}

START_TEST(test_stale_bytes_never_read_as_committed)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *r;
    unsigned char msg[512];
    uint32_t pos = 0; /* where the writer puts the next frame */
    uint64_t n;

    tu_spec(backend, spec);
    w = create_ring(spec, TAG_CAP, 0, SHMKIT_RING_BLOCK);
    r = open_ring(spec, 0);
    for (n = 0; n < 20000; n++) {
        size_t len = (size_t)(tu_mix(n) % 200u);
        uint32_t fsize = (uint32_t)((SK_FRAME_HDR + len + SK_FRAME_ALIGN - 1) &
                                    ~(size_t)(SK_FRAME_ALIGN - 1));
        int rc;

        if (fsize > TAG_CAP - pos % TAG_CAP)
            pos += TAG_CAP - pos % TAG_CAP; /* a pad frame first */
        fill_with_future_tags(msg, pos + SK_FRAME_HDR, len);
        rc = shmkit_ring_send(w, msg, len, 0);
        if (rc == -EAGAIN) { /* full: the consumer makes room */
            drain_to(r, n);
            rc = shmkit_ring_send(w, msg, len, 0);
        }
        ck_assert_int_eq(rc, 0);
        pos += fsize;
        /* Read everything, then look once more at the next position,
         * which holds the old message bytes. */
        if (tu_mix(n + 77) % 3 == 0)
            drain_to(r, n + 1);
    }
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* A writer that died after publishing a frame's commit word but before
 * storing head, newest and the sequence hints leaves them one message
 * behind.  The next writer finds the true end from the commit words: it
 * neither overwrites the published message nor reuses its number. */
START_TEST(test_writer_repairs_lagging_head)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *r;
    struct sk_spec parsed;
    struct sk_seg seg;
    struct sk_header *h;
    char buf[16];
    uint32_t head, newest;
    int i;

    tu_spec(backend, spec);
    w = create_ring(spec, 4096, 0, SHMKIT_RING_BLOCK);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(shmkit_ring_send(w, (char[]){(char)('a' + i)}, 1, 0), 0);
    ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
    ck_assert_int_eq(shmkit__seg_open(&seg, &parsed, SK_SEG_WRITE, SK_HEADER_SIZE), 0);
    h = seg.base;
    head = sk_load(&h->head, SK_RELAXED);
    newest = sk_load(&h->newest, SK_RELAXED);
    ck_assert_uint_eq(head, 3 * SK_FRAME_ALIGN);
    ck_assert_uint_eq(newest, 2 * SK_FRAME_ALIGN);
    shmkit_ring_close(w);
    /* As if the writer had died just after the third commit word. */
    sk_store(&h->head, newest, SK_RELAXED);
    sk_store(&h->newest, SK_FRAME_ALIGN, SK_RELAXED);
    sk_store(&h->seq_lo, 2, SK_RELAXED);
    w = open_ring(spec, SHMKIT_WRITE);
    ck_assert_uint_eq(shmkit_ring_position(w), 3);
    ck_assert_uint_eq(sk_load(&h->head, SK_RELAXED), head); /* repaired */
    ck_assert_int_eq(shmkit_ring_send(w, "d", 1, 0), 0);
    r = open_ring(spec, 0);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), 1);
        ck_assert_int_eq(buf[0], 'a' + i);
        ck_assert_uint_eq(shmkit_ring_position(r), (uint64_t)i + 1);
    }
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), -EAGAIN);
    shmkit__seg_close(&seg);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* ---- lossless delivery between processes ----------------------------- */

#define STREAM_MESSAGES 1000000u
#define STREAM_MAX 200u

/* Consumer child: receive every message in order and check it. */
static void stream_consumer(const char *spec, int zero_copy)
{
    shmkit_ring *c;
    unsigned char buf[STREAM_MAX];
    uint64_t n;

    if (shmkit_ring_open(&c, spec, 0) != 0)
        _exit(10);
    for (n = 0; n < STREAM_MESSAGES; n++) {
        int len;
        if (zero_copy) {
            const void *p;
            len = shmkit_ring_peek(c, &p, 10000);
            if (len >= 0 && !check_message(p, len, n, STREAM_MAX))
                _exit(12);
            if (len >= 0 && shmkit_ring_release(c) != 0)
                _exit(13);
        } else {
            len = shmkit_ring_recv(c, buf, sizeof buf, 10000);
            if (len >= 0 && !check_message(buf, len, n, STREAM_MAX))
                _exit(12);
        }
        if (len < 0)
            _exit(11);
    }
    if (shmkit_ring_recv(c, buf, sizeof buf, 0) != -EAGAIN)
        _exit(14); /* nothing beyond what was sent */
    shmkit_ring_close(c);
    _exit(0);
}

/* The writer of lossless_stream failed at message N: say why, and how the
 * consumer is doing (a consumer that exited early fills the ring). */
static void stream_writer_failed(pid_t child, uint64_t n, int rc)
{
    int status = 0;
    pid_t r = waitpid(child, &status, WNOHANG);

    ck_abort_msg("message %llu: %s (%s); consumer %s (status 0x%x)", (unsigned long long)n,
                 shmkit_strerror(rc), shmkit_error_detail(),
                 r == child ? "exited" : "still running", r == child ? status : 0);
}

static void lossless_stream(int backend, int zero_copy)
{
    char spec[32];
    shmkit_ring *w;
    unsigned char buf[STREAM_MAX];
    struct shmkit_info info;
    pid_t child;
    uint64_t n;

    tu_spec(backend, spec);
    w = create_ring(spec, 16384, STREAM_MAX, SHMKIT_RING_BLOCK);
    child = tu_fork();
    if (child == 0)
        stream_consumer(spec, zero_copy);
    for (n = 0; n < STREAM_MESSAGES; n++) {
        size_t len = message_len(n, STREAM_MAX);
        int rc;
        if (zero_copy) {
            void *p;
            rc = shmkit_ring_reserve(w, &p, STREAM_MAX, 10000);
            if (rc == 0) {
                fill_message(p, n, len);
                rc = shmkit_ring_commit(w, len);
            }
        } else {
            fill_message(buf, n, len);
            rc = shmkit_ring_send(w, buf, len, 10000);
        }
        if (rc != 0)
            stream_writer_failed(child, n, rc);
    }
    tu_wait_ok(child, "child");
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.ring_messages, STREAM_MESSAGES);
    ck_assert_uint_eq(info.ring_used, 0);
    shmkit_ring_close(w);
    tu_finish(spec);
}

START_TEST(test_lossless_copy)
{
    lossless_stream(tu_backend_of(_i), 0);
}
END_TEST

START_TEST(test_lossless_zero_copy)
{
    lossless_stream(tu_backend_of(_i), 1);
}
END_TEST

/* ---- full speed: cached cursors and wake requests under stress ------ */

#define SPEED_MAX 64u
#define SPEED_SECONDS 0.3

/* Consumer child of full_speed_stream: every message, in order, intact,
 * until the stop message (SPEED_MAX + 1 bytes); the count goes to *COUNT.
 * It waits without a timeout: a lost wake-up leaves it stuck until the
 * alarm kills it (a failure), instead of hiding behind a timeout. */
static void speed_consumer(const char *spec, int mode, int zero_copy, uint64_t *count)
{
    unsigned char buf[SPEED_MAX + 1];
    shmkit_ring *c;
    uint64_t n;

    alarm(60);
    shmkit_set_wait_mode(mode);
    if (shmkit_ring_open(&c, spec, 0) != 0)
        _exit(10);
    for (n = 0;; n++) {
        const void *p = buf;
        int len = zero_copy ? shmkit_ring_peek(c, &p, -1)
                            : shmkit_ring_recv(c, buf, sizeof buf, -1);

        if (len == (int)SPEED_MAX + 1)
            break;
        if (len < 0 || !check_message(p, len, n, SPEED_MAX))
            _exit(11);
        if (zero_copy && shmkit_ring_release(c) != 0)
            _exit(12);
    }
    *count = n;
    shmkit_ring_close(c);
    _exit(0);
}

/* Writer and consumer as fast as they go for SPEED_SECONDS through a
 * 1 KiB ring, so that the writer runs out of space and the consumer out
 * of data all the time: the cached cursors are reloaded at every lap, and
 * with MODE block each side sleeps and wakes the other again and again. */
static void full_speed_stream(int backend, int mode, int zero_copy)
{
    unsigned char buf[SPEED_MAX + 1];
    uint64_t *count, n;
    char spec[32];
    shmkit_ring *w;
    pid_t child;
    int old = shmkit_set_wait_mode(mode);
    uint64_t end = shmkit__monotonic_ns() + (uint64_t)(SPEED_SECONDS * 1e9);

    count = tu_shared_alloc(sizeof *count);
    tu_spec(backend, spec);
    w = create_ring(spec, 1024, SPEED_MAX + 1, SHMKIT_RING_BLOCK);
    child = tu_fork();
    if (child == 0)
        speed_consumer(spec, mode, zero_copy, count);
    for (n = 0; n < 1000 || shmkit__monotonic_ns() < end; n++) {
        size_t len = message_len(n, SPEED_MAX);

        fill_message(buf, n, len);
        ck_assert_int_eq(shmkit_ring_send(w, buf, len, -1), 0);
    }
    ck_assert_int_eq(shmkit_ring_send(w, buf, SPEED_MAX + 1, -1), 0);
    tu_wait_ok(child, "child");
    ck_assert_uint_eq(*count, n);
    fprintf(stderr, "# full speed, %s mode%s: %llu messages\n",
            mode == SHMKIT_WAIT_BLOCK ? "block" : "adaptive", zero_copy ? ", zero-copy" : "",
            (unsigned long long)n);
    shmkit_set_wait_mode(old);
    shmkit_ring_close(w);
    tu_shared_free(count, sizeof *count);
    tu_finish(spec);
}

/* Zero-copy on the first backend of this build in one mode, on the other
 * in the other mode. */
static int is_first(int backend)
{
    int backends[2];

    tu_backends(backends);
    return backend == backends[0];
}

START_TEST(test_full_speed_adaptive)
{
    full_speed_stream(tu_backend_of(_i), SHMKIT_WAIT_ADAPTIVE, is_first(tu_backend_of(_i)));
}
END_TEST

START_TEST(test_full_speed_block)
{
    full_speed_stream(tu_backend_of(_i), SHMKIT_WAIT_BLOCK, !is_first(tu_backend_of(_i)));
}
END_TEST

/* ---- overwrite policy: exact losses, never a damaged message -------- */

#define OW_MESSAGES 200000u
#define OW_MAX 300u

/* Reader child: reads slowly now and then; every message must be intact,
 * in order, and the reported losses must account exactly for the gaps. */
static void slow_reader(const char *spec, int zero_copy, int *ready_fd)
{
    shmkit_ring *r;
    unsigned char buf[OW_MAX];
    uint64_t expect = 0, received = 0, lost_before = 0;

    if (shmkit_ring_open(&r, spec, SHMKIT_FROM_OLDEST) != 0)
        _exit(10);
    if (write(ready_fd[1], "r", 1) != 1)
        _exit(10);
    for (;;) {
        int64_t n;
        int len;
        if (zero_copy) {
            const void *p;
            len = shmkit_ring_peek(r, &p, 2000);
            if (len < 0)
                break;
            memcpy(buf, p, (size_t)len);
            if (shmkit_ring_release(r) == SHMKIT_EOVERWRITTEN)
                continue; /* what we saw may be damaged: discard */
        } else {
            len = shmkit_ring_recv(r, buf, sizeof buf, 2000);
            if (len < 0)
                break;
        }
        n = identify(buf, (size_t)len, OW_MAX);
        if (n < 0)
            _exit(12); /* damaged message handed out */
        if ((uint64_t)n < expect)
            _exit(13); /* out of order */
        if ((uint64_t)n - expect != shmkit_ring_lost(r) - lost_before && !zero_copy) {
            fprintf(stderr, "# message %lld after %llu: %llu reported lost\n", (long long)n,
                    (unsigned long long)expect,
                    (unsigned long long)(shmkit_ring_lost(r) - lost_before));
            _exit(14); /* gap not reported exactly */
        }
        lost_before = shmkit_ring_lost(r);
        expect = (uint64_t)n + 1;
        received++;
        if (received % 64 == 0)
            usleep(200); /* fall behind now and then */
    }
    if (expect != OW_MESSAGES)
        _exit(15); /* the last message must arrive */
    if (!zero_copy && received + shmkit_ring_lost(r) != OW_MESSAGES)
        _exit(16);
    if (shmkit_ring_lost(r) == 0)
        _exit(17); /* the test must actually overrun the reader */
    shmkit_ring_close(r);
    _exit(0);
}

static void overwrite_stream(int backend, int zero_copy)
{
    char spec[32];
    shmkit_ring *w;
    unsigned char buf[OW_MAX];
    int ready[2];
    pid_t child;
    uint64_t n;
    char c;

    tu_spec(backend, spec);
    w = create_ring(spec, 4096, OW_MAX, SHMKIT_RING_OVERWRITE);
    ck_assert_int_eq(pipe(ready), 0);
    child = tu_fork();
    if (child == 0)
        slow_reader(spec, zero_copy, ready);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    for (n = 0; n < OW_MESSAGES; n++) {
        size_t len = numbered_len(n, OW_MAX);
        fill_message(buf, n, len);
        ck_assert_int_eq(shmkit_ring_send(w, buf, len, 0), 0);
    }
    tu_wait_ok(child, "child");
    close(ready[0]);
    close(ready[1]);
    shmkit_ring_close(w);
    tu_finish(spec);
}

START_TEST(test_overwrite_exact_losses)
{
    overwrite_stream(tu_backend_of(_i), 0);
}
END_TEST

START_TEST(test_overwrite_zero_copy)
{
    overwrite_stream(tu_backend_of(_i), 1);
}
END_TEST

START_TEST(test_overwrite_new_reader_starts_at_newest)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *r, *old;
    int i;
    char buf[8];

    tu_spec(backend, spec);
    w = create_ring(spec, 256, 0, SHMKIT_RING_OVERWRITE);
    r = open_ring(spec, 0);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), -EAGAIN);
    shmkit_ring_close(r);
    for (i = 0; i < 40; i++)  /* 40 frames of 64 bytes, 4 fit: 36 overwritten */
        ck_assert_int_eq(shmkit_ring_send(w, &i, 1, 0), 0);
    r = open_ring(spec, 0);
    old = open_ring(spec, SHMKIT_FROM_OLDEST);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), 1);
    ck_assert_int_eq(buf[0], 39);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), -EAGAIN);
    ck_assert_int_eq(shmkit_ring_recv(old, buf, sizeof buf, 0), 1);
    ck_assert_int_eq(buf[0], 36);
    ck_assert_uint_eq(shmkit_ring_lost(old), 0);
    ck_assert_uint_eq(shmkit_ring_position(old), 37);
    /* Now lap the oldest reader by a known amount. */
    for (i = 40; i < 100; i++)
        ck_assert_int_eq(shmkit_ring_send(w, &i, 1, 0), 0);
    ck_assert_int_eq(shmkit_ring_recv(old, buf, sizeof buf, 0), 1);
    ck_assert_int_eq(buf[0], 96);
    ck_assert_uint_eq(shmkit_ring_lost(old), 96 - 37);
    shmkit_ring_close(old);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* ---- damaged segments ---------------------------------------------- */

START_TEST(test_damaged_frames)
{
    int backend = tu_backend_of(_i);
    /* Commit words and lengths of the first frame (position 0, published:
     * the head is past it): too long, not the tag of position 0, a pad
     * that does not reach the end of the ring. */
    static const struct { uint32_t commit, len; } bad[] = {
        {SK_FRAME_COMMITTED, 4096}, {SK_FRAME_COMMITTED, 2033},
        {SK_FRAME_COMMITTED, 0xffffffffu}, {SK_FRAME_COMMITTED | 0x80u, 16},
        {4096u | SK_FRAME_COMMITTED, 5}, {0, 5},
        {SK_FRAME_COMMITTED | SK_FRAME_PAD, 32},
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char spec[32];
        shmkit_ring *w, *r;
        struct sk_spec parsed;
        struct sk_seg seg;
        struct sk_frame f;
        char buf[4096];

        tu_spec(backend, spec);
        w = create_ring(spec, 4096, 0, SHMKIT_RING_BLOCK);
        ck_assert_int_eq(shmkit_ring_send(w, "hello", 5, 0), 0);
        ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
        ck_assert_int_eq(shmkit__seg_open(&seg, &parsed, SK_SEG_WRITE, SK_HEADER_SIZE), 0);
        f.len = bad[i].len;
        f.seq = 0;
        memcpy((char *)seg.base + BLOCK_PAYLOAD + offsetof(struct sk_frame, len), &f.len,
               SK_FRAME_HDR - offsetof(struct sk_frame, len));
        sk_store((sk_atomic_u32 *)((char *)seg.base + BLOCK_PAYLOAD), bad[i].commit,
                 SK_RELAXED);
        r = open_ring(spec, 0);
        ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), SHMKIT_ECORRUPT);
        shmkit_ring_close(r);
        /* A consumer cursor beyond the head is refused too: the writer
         * loads the shared tail again only when the space it knows of runs
         * out, and then detects the damage instead of trusting it (and
         * before it has sent more than the ring can hold). */
        sk_store(&sk_consumer_entry(seg.base, 0)->tail, 12345u, SK_RELAXED);
        {
            int rc = 0, sent = 0;

            while (sent <= (int)(4096 / SK_FRAME_ALIGN) && (rc = shmkit_ring_send(w, "x", 1, 0)) == 0)
                sent++;
            ck_assert_int_eq(rc, SHMKIT_ECORRUPT);
            ck_assert_int_lt(sent, (int)(4096 / SK_FRAME_ALIGN));
            ck_assert_int_eq(shmkit_ring_send(w, "x", 1, 0), SHMKIT_ECORRUPT);
        }
        shmkit__seg_close(&seg);
        shmkit_ring_close(w);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
    }
    tu_assert_no_leftovers();
}
END_TEST

/* Cursors that are not on a frame boundary are refused: a writer taking
 * over a ring whose head was damaged must not write a frame header across
 * the end of the ring (and of the mapping), and a consumer must not read
 * one there. */
START_TEST(test_misaligned_cursors)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_ring *w, *r;
    struct sk_spec parsed;
    struct sk_seg seg;
    struct sk_header *h;
    char buf[64];

    tu_spec(backend, spec);
    w = create_ring(spec, 256, 0, SHMKIT_RING_BLOCK);
    shmkit_ring_close(w);
    ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
    ck_assert_int_eq(shmkit__seg_open(&seg, &parsed, SK_SEG_WRITE, SK_HEADER_SIZE), 0);
    h = seg.base;
    sk_store(&h->head, 248u, SK_RELAXED);
    sk_store(&sk_consumer_entry(h, 0)->tail, 248u, SK_RELAXED);
    ck_assert_int_eq(shmkit_ring_open(&w, spec, SHMKIT_WRITE), SHMKIT_ECORRUPT);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "frame boundary"));
    /* A consumer whose cursor is misaligned reports it instead of reading
     * a frame header at it. */
    sk_store(&h->head, 256u, SK_RELAXED);
    sk_store(&sk_consumer_entry(h, 0)->tail, 8u, SK_RELAXED);
    r = open_ring(spec, 0);
    ck_assert_int_eq(shmkit_ring_recv(r, buf, sizeof buf, 0), SHMKIT_ECORRUPT);
    shmkit_ring_close(r);
    shmkit__seg_close(&seg);
    tu_finish(spec);
}
END_TEST

static Suite *ring_suite(void)
{
    Suite *s = suite_create("ring");
    TCase *basic = tu_tcase(s, "basic"), *streams = tu_tcase(s, "streams");

    tcase_set_timeout(basic, 60);
    tcase_set_timeout(streams, 300);
    tu_add_backend_test(basic, test_geometry, 1);
    tu_add_backend_test(basic, test_options, 1);
    tcase_add_test(basic, test_ring_size);
    tu_add_backend_test(basic, test_bad_arguments, 1);
    tu_add_backend_test(basic, test_wrap_block_copy, 1);
    tu_add_backend_test(basic, test_wrap_block_zero_copy, 1);
    tu_add_backend_test(basic, test_wrap_overwrite, 1);
    tu_add_backend_test(basic, test_wrap_block_cancel, 1);
    tu_add_backend_test(basic, test_wrap_overwrite_cancel, 1);
    tu_add_backend_test(basic, test_block_full_and_timeouts, 1);
    tu_add_backend_test(basic, test_consumer_lease, 1);
    tu_add_backend_test(basic, test_writer_takeover_keeps_sequence, 1);
    tu_add_backend_test(basic, test_stale_bytes_never_read_as_committed, 1);
    tu_add_backend_test(basic, test_writer_repairs_lagging_head, 1);
    tu_add_backend_test(basic, test_overwrite_new_reader_starts_at_newest, 1);
    tu_add_backend_test(basic, test_damaged_frames, 1);
    tu_add_backend_test(basic, test_misaligned_cursors, 1);
    tu_add_backend_test(streams, test_lossless_copy, 1);
    tu_add_backend_test(streams, test_lossless_zero_copy, 1);
    tu_add_backend_test(streams, test_full_speed_adaptive, 1);
    tu_add_backend_test(streams, test_full_speed_block, 1);
    tu_add_backend_test(streams, test_overwrite_exact_losses, 1);
    tu_add_backend_test(streams, test_overwrite_zero_copy, 1);
    return s;
}

int main(void)
{
    return tu_run(ring_suite());
}
