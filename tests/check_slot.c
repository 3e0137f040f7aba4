/*
 * check_slot.c - slots on both backends: round trips, torn reads across
 * processes, the writer lease, crashed writers, bad segments, permissions.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef SHMKIT_HAVE_SYSV
#include <sys/ipc.h>
#include <sys/shm.h>
#endif

#include "hooks.h"
#include "internal.h"
#include "testutil.h"
#include "wait.h"

/* ---- a self-checking record for the torn-read tests ---------------- */

#define TORN_WORDS 62
struct checked_record {
    uint64_t seq;
    uint64_t words[TORN_WORDS];
    uint64_t sum; /* seq ^ all words, mixed */
};

static void fill_record(struct checked_record *r, uint64_t seq)
{
    uint64_t sum = tu_mix(seq);
    int i;

    r->seq = seq;
    for (i = 0; i < TORN_WORDS; i++) {
        r->words[i] = tu_mix(seq * 131u + (uint64_t)i);
        sum = tu_mix(sum ^ r->words[i]);
    }
    r->sum = sum;
}

static int record_ok(const struct checked_record *r)
{
    struct checked_record expect;

    fill_record(&expect, r->seq);
    return memcmp(&expect, r, sizeof expect) == 0;
}

/* ---- helpers ------------------------------------------------------- */

/* The slot's version, which must be readable. */
static uint64_t version_of(shmkit_slot *slot)
{
    uint64_t version = 99;

    ck_assert_int_eq(shmkit_slot_version(slot, &version), 0);
    return version;
}

/* A new slot of this test: the test fails otherwise. */
#define create_slot(spec, layout, size) tu_slot_create(spec, layout, size, 0, SHMKIT_EXCL)

/* A mapping of the raw segment, for tests that damage or inspect it. */
static void *map_raw(const char *spec, struct sk_seg *seg)
{
    struct sk_spec parsed;

    ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
    ck_assert_int_eq(shmkit__seg_open(seg, &parsed, 1, SK_HEADER_SIZE), 0);
    return seg->base;
}

/* ---- round trips --------------------------------------------------- */

START_TEST(test_round_trip_layout)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r;
    struct { uint32_t id; double t; } rec = {7, 21.5}, out;
    uint64_t version = 99;

    tu_spec(backend, spec);
    w = create_slot(spec, "id:u32 t:f64", 0);
    ck_assert_uint_eq(shmkit_slot_record_size(w), sizeof rec);
    ck_assert_str_eq(shmkit_layout_text(shmkit_slot_layout(w)), "id:u32 t:f64");
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    /* A new slot holds zeros, version 0. */
    memset(&out, 0xff, sizeof out);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), (int)sizeof out);
    ck_assert_uint_eq(version, 0);
    ck_assert_uint_eq(out.id, 0);
    ck_assert_int_eq(shmkit_slot_write(w, &rec, sizeof rec), 0);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), (int)sizeof out);
    ck_assert_uint_eq(version, 1);
    ck_assert_uint_eq(out.id, 7);
    ck_assert(out.t == 21.5);
    rec.id = 8;
    ck_assert_int_eq(shmkit_slot_write(w, &rec, sizeof rec), 0);
    ck_assert_uint_eq(version_of(r), 2);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, NULL), (int)sizeof out);
    ck_assert_uint_eq(out.id, 8);
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    tu_finish(spec);
}
END_TEST

START_TEST(test_round_trip_raw_sizes)
{
    int backend = tu_backend_of(_i);
    static const size_t sizes[] = {1, 15, 16, 17, 63, 64, 65, 4096, 65536 + 3};
    size_t i, j;

    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char spec[32];
        unsigned char *in = malloc(sizes[i]), *out = malloc(sizes[i] + 8);
        shmkit_slot *w, *r;
        uint64_t v;

        tu_spec(backend, spec);
        w = create_slot(spec, NULL, sizes[i]);
        ck_assert_ptr_null(shmkit_slot_layout(w));
        ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
        for (v = 1; v <= 5; v++) {
            for (j = 0; j < sizes[i]; j++)
                in[j] = (unsigned char)(j * 7 + v);
            ck_assert_int_eq(shmkit_slot_write(w, in, sizes[i]), 0);
            memset(out, 0, sizes[i] + 8);
            ck_assert_int_eq(shmkit_slot_read(r, out, sizes[i] + 8, NULL), (int)sizes[i]);
            ck_assert_int_eq(memcmp(in, out, sizes[i]), 0);
            ck_assert_uint_eq(version_of(r), v);
        }
        shmkit_slot_close(r);
        shmkit_slot_close(w);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
        free(in);
        free(out);
    }
    tu_assert_no_leftovers();
}
END_TEST

START_TEST(test_versions_persist_across_writers)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w;
    uint32_t x = 5;
    int i;

    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_slot_open(&w, spec, SHMKIT_WRITE), 0);
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    ck_assert_uint_eq(version_of(w), 4);
    shmkit_slot_close(w);
    tu_finish(spec);
}
END_TEST

START_TEST(test_create_existing)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *again = NULL;

    tu_spec(backend, spec);
    w = create_slot(spec, "a:u8, b:u16", 0);
    shmkit_slot_close(w);
    /* Without EXCL: opens it, as long as the format matches. */
    ck_assert_int_eq(shmkit_slot_create(&again, spec, "a:u8 b:u16", 0, 0, 0), 0);
    shmkit_slot_close(again);
    ck_assert_int_eq(shmkit_slot_create(&again, spec, "a:u8 b:u16", 4, 0, 0), 0);
    shmkit_slot_close(again);
    ck_assert_int_eq(shmkit_slot_create(&again, spec, "a:u8 b:u16", 0, 0, SHMKIT_EXCL), -EEXIST);
    ck_assert_ptr_null(again);
    ck_assert_int_eq(shmkit_slot_create(&again, spec, "a:u8 b:i16", 0, 0, 0), SHMKIT_ELAYOUT);
    ck_assert_int_eq(shmkit_slot_create(&again, spec, NULL, 4, 0, 0), SHMKIT_ELAYOUT);
    ck_assert_int_eq(shmkit_slot_create(&again, spec, "a:u8 b:u16", 8, 0, 0), SHMKIT_ESIZE);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    /* Raw slot: a different size is a size mismatch. */
    w = create_slot(spec, NULL, 10);
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_slot_create(&again, spec, NULL, 11, 0, 0), SHMKIT_ESIZE);
    tu_finish(spec);
}
END_TEST

START_TEST(test_api_misuse)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r, *bad = NULL;
    char buf[64] = {0};

    tu_spec(backend, spec);
    ck_assert_int_eq(shmkit_slot_create(&bad, spec, NULL, 0, 0, 0), SHMKIT_ESIZE);
    ck_assert_int_eq(shmkit_slot_create(&bad, spec, NULL, (size_t)SHMKIT_RECORD_MAX + 1, 0, 0),
                     SHMKIT_ESIZE);
    ck_assert_int_eq(shmkit_slot_create(&bad, spec, "x:bogus", 0, 0, 0), SHMKIT_EBADLAYOUT);
    ck_assert_int_eq(shmkit_slot_create(&bad, spec, NULL, 8, 01000, 0), -EINVAL);
    ck_assert_int_eq(shmkit_slot_create(&bad, "bad", NULL, 8, 0, 0), SHMKIT_EBADSPEC);
    ck_assert_ptr_null(bad);
    ck_assert_int_eq(shmkit_slot_open(&bad, spec, 0), -ENOENT);
    w = create_slot(spec, NULL, 8);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_write(r, buf, 8), -EPERM);
    ck_assert_int_eq(shmkit_slot_write(w, buf, 7), SHMKIT_ESIZE);
    ck_assert_int_eq(shmkit_slot_write(w, buf, 9), SHMKIT_ESIZE);
    ck_assert_int_eq(shmkit_slot_read(r, buf, 7, NULL), SHMKIT_ESIZE);
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    shmkit_slot_close(NULL);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    ck_assert_int_eq(shmkit_unlink(spec), -ENOENT);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- torn reads ---------------------------------------------------- */

/* The writer runs at least TORN_SECONDS and until every reader has made
 * TORN_MIN_READS reads and seen TORN_MIN_CHANGES new versions, so that a
 * loaded machine (parallel make check) slows the test instead of failing
 * it; TORN_MAX_SECONDS bounds it. */
#define TORN_SECONDS 1.0
#define TORN_MAX_SECONDS 60.0
#define TORN_READERS 2
#define TORN_MIN_READS 10000u
#define TORN_MIN_CHANGES 1000u

struct torn_board {           /* in an anonymous shared mapping */
    sk_atomic_u32 stop;
    sk_atomic_u32 reads[TORN_READERS];
    sk_atomic_u32 changes[TORN_READERS];
};

static double now_s(void)
{
    return (double)shmkit__monotonic_ns() / 1e9;
}

/* Reader child: read until told to stop; exit 0 only if every record was
 * intact and versions never went backwards. */
static void torn_reader(const char *spec, struct torn_board *board, int id)
{
    shmkit_slot *r;
    struct checked_record rec;
    uint64_t version, last = 0;

    if (shmkit_slot_open(&r, spec, 0) != 0)
        _exit(10);
    while (!sk_load(&board->stop, SK_ACQUIRE)) {
        if (shmkit_slot_read(r, &rec, sizeof rec, &version) != (int)sizeof rec)
            _exit(11);
        if (version > 0 && (!record_ok(&rec) || rec.seq != version))
            _exit(12); /* torn or mismatched */
        if (version < last)
            _exit(13);
        if (version != last)
            sk_fetch_add(&board->changes[id], 1, SK_RELAXED);
        sk_fetch_add(&board->reads[id], 1, SK_RELAXED);
        last = version;
    }
    shmkit_slot_close(r);
    _exit(0);
}

static int readers_satisfied(struct torn_board *board)
{
    int i;

    for (i = 0; i < TORN_READERS; i++)
        if (sk_load(&board->reads[i], SK_RELAXED) < TORN_MIN_READS ||
            sk_load(&board->changes[i], SK_RELAXED) < TORN_MIN_CHANGES)
            return 0;
    return 1;
}

START_TEST(test_no_torn_reads)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w;
    struct checked_record rec;
    pid_t readers[TORN_READERS];
    struct torn_board *board;
    uint64_t seq = 0;
    double start, elapsed;
    int i;

    board = tu_shared_alloc(sizeof *board);
    tu_spec(backend, spec);
    w = create_slot(spec, NULL, sizeof rec);
    for (i = 0; i < TORN_READERS; i++) {
        readers[i] = tu_fork();
        if (readers[i] == 0)
            torn_reader(spec, board, i);
    }
    start = now_s();
    do {
        fill_record(&rec, ++seq);
        ck_assert_int_eq(shmkit_slot_write(w, &rec, sizeof rec), 0);
        elapsed = now_s() - start;
    } while (elapsed < TORN_MAX_SECONDS && (elapsed < TORN_SECONDS || !readers_satisfied(board)));
    sk_store(&board->stop, 1, SK_RELEASE);
    for (i = 0; i < TORN_READERS; i++)
        tu_wait_ok(readers[i], "child");
    ck_assert_msg(readers_satisfied(board), "readers starved for %.0f s", TORN_MAX_SECONDS);
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    tu_shared_free(board, sizeof *board);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- the writer lease ---------------------------------------------- */

START_TEST(test_second_writer_refused)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *w2 = NULL;
    pid_t child;

    tu_spec(backend, spec);
    w = create_slot(spec, "v:u64", 0);
    /* Same process, second handle. */
    ck_assert_int_eq(shmkit_slot_open(&w2, spec, SHMKIT_WRITE), SHMKIT_EBUSY);
    ck_assert_ptr_null(w2);
    /* Another live process. */
    child = tu_fork();
    if (child == 0) {
        int rc = shmkit_slot_open(&w2, spec, SHMKIT_WRITE);
        _exit(rc == SHMKIT_EBUSY && strstr(shmkit_error_detail(), "pid") != NULL ? 0 : 1);
    }
    tu_wait_ok(child, "child");
    /* After close the lease is free again. */
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_slot_open(&w2, spec, SHMKIT_WRITE), 0);
    shmkit_slot_close(w2);
    tu_finish(spec);
}
END_TEST

START_TEST(test_dead_writer_lease_taken_over)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w;
    struct shmkit_info info;
    int pipefd[2], status;
    pid_t child;
    char c;
    uint64_t x = 1;

    tu_spec(backend, spec);
    w = create_slot(spec, "v:u64", 0);
    shmkit_slot_close(w);
    ck_assert_int_eq(pipe(pipefd), 0);
    child = tu_fork();
    if (child == 0) {
        if (shmkit_slot_open(&w, spec, SHMKIT_WRITE) != 0)
            _exit(1);
        if (write(pipefd[1], "k", 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_pid, child);
    ck_assert_int_eq(info.writer_alive, 1);
    ck_assert_int_eq(shmkit_slot_open(&w, spec, SHMKIT_WRITE), SHMKIT_EBUSY);
    kill(child, SIGKILL);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_alive, 0);
    ck_assert_int_eq(shmkit_slot_open(&w, spec, SHMKIT_WRITE), 0);
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_pid, getpid());
    shmkit_slot_close(w);
    close(pipefd[0]);
    close(pipefd[1]);
    tu_finish(spec);
}
END_TEST

START_TEST(test_reused_pid_lease_taken_over)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w;
    struct sk_seg seg;
    struct sk_header *h;
    uint32_t parent_token = shmkit__proc_start_token((long)getppid());

    if (parent_token == 0)
        return; /* no start times on this platform: nothing to tell apart */
    tu_spec(backend, spec);
    w = create_slot(spec, "v:u64", 0);
    shmkit_slot_close(w);
    /* A lease "held" by our live parent, but with a start time that is
     * not the parent's: the holder's pid was reused, so it is dead. */
    h = map_raw(spec, &seg);
    sk_store(&h->lease_pid, (uint32_t)getppid(), SK_RELAXED);
    sk_store(&h->lease_token, parent_token ^ 0x40000000u, SK_RELAXED);
    ck_assert_int_eq(shmkit_slot_open(&w, spec, SHMKIT_WRITE), 0);
    shmkit_slot_close(w);
    /* With the right token the parent is a live writer. */
    sk_store(&h->lease_pid, (uint32_t)getppid(), SK_RELAXED);
    sk_store(&h->lease_token, parent_token, SK_RELAXED);
    ck_assert_int_eq(shmkit_slot_open(&w, spec, SHMKIT_WRITE), SHMKIT_EBUSY);
    shmkit__seg_close(&seg);
    tu_finish(spec);
}
END_TEST

/* Kill a writer at random points of its write loop; the slot must always
 * read as an intact record, and the next writer must take over. */
START_TEST(test_writer_killed_mid_update)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r;
    struct checked_record rec;
    uint64_t version, last = 0, rng = tu_rng_seed(0xb111);
    int round;

    tu_spec(backend, spec);
    w = create_slot(spec, NULL, sizeof rec);
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    for (round = 0; round < 60; round++) {
        int status;
        pid_t child = tu_fork();

        if (child == 0) {
            uint64_t seq;
            if (shmkit_slot_open(&w, spec, SHMKIT_WRITE) != 0 || shmkit_slot_version(w, &seq) != 0)
                _exit(1);
            for (seq++;; seq++) {
                fill_record(&rec, seq);
                shmkit_slot_write(w, &rec, sizeof rec);
            }
        }
        /* Let the child publish at least once (a loaded machine may not
         * schedule it for a while), then kill it at a random point. */
        ck_assert_int_eq(shmkit_slot_wait(r, last, 10000), 0);
        shmkit__sleep_ns(tu_below(&rng, 3000) * 1000u);
        kill(child, SIGKILL);
        ck_assert_int_eq(waitpid(child, &status, 0), child);
        ck_assert_int_eq(shmkit_slot_read(r, &rec, sizeof rec, &version), (int)sizeof rec);
        if (version > 0) {
            ck_assert_msg(record_ok(&rec), "torn record after kill in round %d", round);
            ck_assert_uint_eq(rec.seq, version);
        }
        ck_assert_uint_ge(version, last);
        last = version;
    }
    ck_assert_uint_gt(last, 0);
    shmkit_slot_close(r);
    tu_finish(spec);
}
END_TEST

/* The commit word and version of slot buffer B of a raw mapping. */
static struct sk_slot_buf *raw_buffer(const struct sk_seg *seg, size_t record_size, unsigned b)
{
    unsigned char *bufs = (unsigned char *)seg->base + SK_HEADER_SIZE;

    return (struct sk_slot_buf *)(void *)(bufs + b * (size_t)sk_slot_buf_stride(record_size));
}

/* A write interrupted after its odd commit word (as a crash would leave
 * it): readers keep the previous record, and the next writer redoes that
 * version in the same buffer, which repairs its word. */
START_TEST(test_interrupted_write_keeps_previous)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r;
    struct sk_seg seg;
    struct sk_slot_buf *buf0;
    uint32_t x = 11, out;
    uint64_t version;

    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0); /* version 1, buffer 1 */
    shmkit_slot_close(w);
    (void)map_raw(spec, &seg);
    /* Half of version 2: buffer 0 marked odd, then scribbled. */
    buf0 = raw_buffer(&seg, sizeof x, 0);
    sk_store(&buf0->commit, 3u, SK_RELAXED);
    memset((unsigned char *)buf0 + 4, 0xee, SK_SLOT_BUF_HDR - 4 + sizeof x);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), 4);
    ck_assert_uint_eq(version, 1);
    ck_assert_uint_eq(out, 11);
    ck_assert_int_eq(shmkit_slot_wait(r, 1, 0), -EAGAIN);
    ck_assert_int_eq(shmkit_slot_open(&w, spec, SHMKIT_WRITE), 0);
    x = 12;
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    ck_assert_uint_eq(sk_load(&buf0->commit, SK_RELAXED), 4u);
    ck_assert_int_eq(shmkit_slot_wait(r, 1, 0), 0);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), 4);
    ck_assert_uint_eq(version, 2);
    ck_assert_uint_eq(out, 12);
    shmkit_slot_close(w);
    shmkit_slot_close(r);
    shmkit__seg_close(&seg);
    tu_finish(spec);
}
END_TEST

/* Small records travel in the line of their commit word: the payload and
 * every buffer start on a 64-byte boundary, and a record of up to 48
 * bytes ends within the first 64 bytes of its buffer. */
START_TEST(test_small_records_share_the_commit_line)
{
    static const size_t sizes[] = {1, 8, 32, 48, 49, 64, 200};
    int backend = tu_backend_of(_i);
    char spec[32];
    size_t i;

    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        shmkit_slot *w;
        struct sk_seg seg;
        struct sk_header *h;
        uintptr_t b0, b1;

        tu_spec(backend, spec);
        w = create_slot(spec, NULL, sizes[i]);
        h = map_raw(spec, &seg);
        b0 = (uintptr_t)raw_buffer(&seg, sizes[i], 0);
        b1 = (uintptr_t)raw_buffer(&seg, sizes[i], 1);
        ck_assert_uint_eq(h->payload_offset % 64, 0);
        ck_assert_uint_eq(b0 % 64, 0);
        ck_assert_uint_eq(b1 % 64, 0);
        ck_assert_uint_eq(b1 - b0 == 64, sizes[i] <= 48);
        shmkit_slot_close(w);
        shmkit__seg_close(&seg);
        tu_finish(spec);
    }
}
END_TEST

/* A peer that writes buffers it should not: a complete-looking word in
 * the wrong buffer (buffers swapped), versions going backwards, a word
 * that stays odd.  Readers take what the words allow and never a record
 * whose version does not match its word. */
START_TEST(test_hostile_buffer_words)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r;
    struct sk_seg seg;
    struct sk_slot_buf *buf0, *buf1;
    uint32_t x = 1, out;
    uint64_t version, v;

    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    for (x = 1; x <= 3; x++) /* versions 1..3; 3 in buffer 1, 2 in buffer 0 */
        ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    (void)map_raw(spec, &seg);
    buf0 = raw_buffer(&seg, sizeof x, 0);
    buf1 = raw_buffer(&seg, sizeof x, 1);
    /* Buffer 0 claims version 5, which belongs in buffer 1: ignored. */
    v = 5;
    memcpy(&buf0->version, &v, sizeof v);
    sk_store(&buf0->commit, 10u, SK_RELAXED);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), 4);
    ck_assert_uint_eq(version, 3);
    ck_assert_uint_eq(out, 3);
    /* Buffer 0 odd forever: buffer 1 still reads. */
    sk_store(&buf0->commit, 0xffffffffu, SK_RELAXED);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), 4);
    ck_assert_uint_eq(version, 3);
    /* Both odd forever: damage, reported at once. */
    sk_store(&buf1->commit, 5u, SK_RELAXED);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), SHMKIT_ECORRUPT);
    ck_assert_int_eq(shmkit_slot_wait(r, 3, 0), SHMKIT_ECORRUPT);
    /* A version going backwards (buffer 0 says 0, buffer 1 says 1): the
     * newest of the two is read, and a waiter for 3 keeps waiting. */
    v = 0;
    memcpy(&buf0->version, &v, sizeof v);
    sk_store(&buf0->commit, 0u, SK_RELAXED);
    v = 1;
    memcpy(&buf1->version, &v, sizeof v);
    sk_store(&buf1->commit, 2u, SK_RELAXED);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), 4);
    ck_assert_uint_eq(version, 1);
    ck_assert_int_eq(shmkit_slot_wait(r, 3, 0), -EAGAIN);
    /* The writer goes on from its own count, and readers follow. */
    x = 4;
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), 4);
    ck_assert_uint_eq(version, 4);
    ck_assert_uint_eq(out, 4);
    shmkit_slot_close(w);
    shmkit_slot_close(r);
    shmkit__seg_close(&seg);
    tu_finish(spec);
}
END_TEST

/* Slot words that are inconsistent and stay so (a complete word names a
 * version its buffer does not hold, and no writer moves anything) are
 * damage, not a race with a writer: readers report it at once instead of
 * retrying for seconds, which would let anyone with write access stall
 * every reader. */
START_TEST(test_stuck_inconsistent_words_corrupt)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r;
    struct sk_seg seg;
    uint32_t x = 5, out;
    uint64_t version, t0;

    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    shmkit_slot_close(w);
    (void)map_raw(spec, &seg);
    /* Buffer 1 holds version 1; its word now says version 7. */
    sk_store(&raw_buffer(&seg, sizeof x, 1)->commit, 14u, SK_RELAXED);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    t0 = shmkit__monotonic_ns();
    ck_assert_int_eq(shmkit_slot_read(r, &out, sizeof out, &version), SHMKIT_ECORRUPT);
    /* Not a timing assertion: 100000 yielding retries take far longer than
     * 32 attempts; a generous bound only tells the two apart. */
    ck_assert_msg(shmkit__monotonic_ns() - t0 < 200000000u, "took %llu ns",
                  (unsigned long long)(shmkit__monotonic_ns() - t0));
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "inconsistent"));
    shmkit_slot_close(r);
    shmkit__seg_close(&seg);
    tu_finish(spec);
}
END_TEST

/* ---- segments that are not (good) shmkit slots --------------------- */

/* Create a raw segment of SIZE bytes filled with BYTE, bypassing shmkit's
 * header. */
static void make_foreign(const char *spec, size_t size, int byte)
{
    struct sk_spec parsed;
    struct sk_seg seg;

    ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
    if (size == 0) {
        int fd;
        ck_assert_int_eq(parsed.backend, SHMKIT_BACKEND_POSIX);
        fd = shm_open(parsed.posix_name, O_RDWR | O_CREAT | O_EXCL, 0600);
        ck_assert_int_ge(fd, 0);
        close(fd);
        return;
    }
    ck_assert_int_eq(shmkit__seg_create(&seg, &parsed, size, 0600), 0);
    memset(seg.base, byte, size);
    shmkit__seg_close(&seg);
}

START_TEST(test_foreign_segments)
{
    int backend = tu_backend_of(_i);
    static const struct { size_t size; int byte; int expect; } cases[] = {
        {100, 0x11, SHMKIT_ENOTSHMKIT},       /* smaller than a header */
        {4096, 0xa5, SHMKIT_ENOTSHMKIT},      /* random-looking bytes */
        {SK_HEADER_SIZE, 'S', SHMKIT_ENOTSHMKIT},
        {4096, 0, SHMKIT_EHALFCREATED},       /* zero-filled: never initialised */
    };
    shmkit_slot *s = NULL;
    struct shmkit_info info;
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char spec[32];
        tu_spec(backend, spec);
        make_foreign(spec, cases[i].size, cases[i].byte);
        ck_assert_int_eq(shmkit_slot_open(&s, spec, 0), cases[i].expect);
        ck_assert_int_eq(shmkit_slot_open(&s, spec, SHMKIT_WRITE), cases[i].expect);
        ck_assert_int_eq(shmkit_slot_create(&s, spec, NULL, 8, 0, 0), cases[i].expect);
        ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), cases[i].expect);
        ck_assert_ptr_null(s);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
    }
    if (backend == SHMKIT_BACKEND_POSIX) {
        char spec[32];
        tu_spec(backend, spec);
        make_foreign(spec, 0, 0);            /* empty object */
        ck_assert_int_eq(shmkit_slot_open(&s, spec, 0), SHMKIT_ENOTSHMKIT);
        ck_assert_str_eq(shmkit_error_detail(), "empty object");
        ck_assert_int_eq(shmkit_unlink(spec), 0);
    }
    tu_assert_no_leftovers();
}
END_TEST

START_TEST(test_wrong_kind_and_version)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *s = NULL;
    struct sk_seg seg;
    struct sk_header *h;

    tu_spec(backend, spec);
    w = create_slot(spec, "v:u64", 0);
    shmkit_slot_close(w);
    h = map_raw(spec, &seg);
    /* A "ring" with a slot's geometry is no valid ring (the right kind of
     * segment with the wrong kind is tested in check_ring). */
    h->kind = SHMKIT_KIND_RING;
    h->checksum = shmkit__header_checksum(h);
    ck_assert_int_eq(shmkit_slot_open(&s, spec, 0), SHMKIT_ECORRUPT);
    h->kind = SHMKIT_KIND_SLOT;
    h->format_major = 9;
    h->format_minor = 0;
    h->checksum = shmkit__header_checksum(h);
    ck_assert_int_eq(shmkit_slot_open(&s, spec, 0), SHMKIT_EVERSION);
    {
        char want[64];

        snprintf(want, sizeof want, "format 9.0, this library reads %d.x", SK_FORMAT_MAJOR);
        ck_assert_str_eq(shmkit_error_detail(), want);
    }
    /* Format 1.0 (shmkit 0.1): its one-bit wake requests would bring the
     * lost wake-up back into a shared segment, so 1.0 and 2.0 never mix. */
    h->format_major = 1;
    h->checksum = shmkit__header_checksum(h);
    ck_assert_int_eq(shmkit_slot_open(&s, spec, 0), SHMKIT_EVERSION);
    h->format_major = SK_FORMAT_MAJOR;
    h->record_size = 1u << 20; /* claims more than the segment holds */
    h->checksum = shmkit__header_checksum(h);
    ck_assert_int_eq(shmkit_slot_open(&s, spec, 0), SHMKIT_ECORRUPT);
    ck_assert_ptr_null(s);
    shmkit__seg_close(&seg);
    tu_finish(spec);
}
END_TEST

/* ---- permissions and mappings -------------------------------------- */

START_TEST(test_mode_exact_despite_umask)
{
    int backend = tu_backend_of(_i);
    static const unsigned modes[] = {0, 0600, 0640, 0644, 0666, 0400};
    size_t i;
    mode_t old = umask(077);

    for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char spec[32];
        shmkit_slot *w = NULL;
        struct shmkit_info info;

        tu_spec(backend, spec);
        ck_assert_int_eq(shmkit_slot_create(&w, spec, NULL, 8, modes[i], SHMKIT_EXCL), 0);
        ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
        ck_assert_uint_eq(info.mode, modes[i] == 0 ? 0600 : modes[i]);
        ck_assert_int_eq(info.owner_uid, (long)geteuid());
        shmkit_slot_close(w);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
    }
    umask(old);
    tu_assert_no_leftovers();
}
END_TEST

/* Readers map read-only: the kernel's view of the mapping says so. */
START_TEST(test_reader_mapping_read_only)
{
    int backend = tu_backend_of(_i);
    char spec[32], line[512];
    shmkit_slot *w, *r;
    FILE *maps;
    int readable_only = 0, writable = 0;

    tu_spec(backend, spec);
    w = create_slot(spec, NULL, 100000); /* a size no other mapping has */
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) {
        shmkit_slot_close(r);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
        return; /* no /proc: nothing to inspect here */
    }
    while (fgets(line, sizeof line, maps) != NULL) {
        int is_ours = backend == SHMKIT_BACKEND_POSIX ? strstr(line, spec) != NULL
                                                       : strstr(line, "/SYSV") != NULL;
        if (!is_ours)
            continue;
        if (strncmp(strchr(line, ' ') + 1, "r--s", 4) == 0)
            readable_only++;
        else
            writable++;
    }
    fclose(maps);
    ck_assert_int_eq(readable_only, 1);
    ck_assert_int_eq(writable, 0);
    shmkit_slot_close(r);
    tu_finish(spec);
}
END_TEST

START_TEST(test_info_fields)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w;
    struct shmkit_info info;
    int16_t rec[3] = {1, 2, 3};

    tu_spec(backend, spec);
    w = create_slot(spec, "p:i16[3]", 0);
    ck_assert_int_eq(shmkit_slot_write(w, rec, sizeof rec), 0);
    ck_assert_int_eq(shmkit_slot_write(w, rec, sizeof rec), 0);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.backend, backend);
    ck_assert_int_eq(info.kind, SHMKIT_KIND_SLOT);
    ck_assert_uint_eq(info.format_major, SK_FORMAT_MAJOR);
    ck_assert_uint_eq(info.record_size, 6);
    ck_assert_str_eq(info.layout, "p:i16[3]");
    ck_assert_uint_eq(info.version, 2);
    ck_assert_int_eq(info.creator_pid, getpid());
    ck_assert_int_eq(info.creator_alive, 1);
    ck_assert_int_eq(info.writer_pid, getpid());
    ck_assert_int_eq(info.writer_alive, 1);
    ck_assert_uint_ge(info.total_size, SK_HEADER_SIZE + 2 * 64);
    ck_assert_int_gt(info.created_sec, 1600000000);
    if (backend == SHMKIT_BACKEND_SYSV)
        ck_assert_int_eq(info.attach_count, 1);
    else
        ck_assert_int_eq(info.attach_count, -1);
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_pid, 0);
    ck_assert_int_eq(info.writer_alive, -1);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), -ENOENT);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- waiting for new versions ------------------------------------- */

static void on_signal(int sig)
{
    (void)sig;
}

START_TEST(test_wait_for_versions)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r;
    uint32_t x = 1;
    uint64_t t0, version;
    pid_t child;
    int i;

    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    r = NULL;
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_wait(r, 0, 0), -EAGAIN);
    t0 = shmkit__monotonic_ns();
    ck_assert_int_eq(shmkit_slot_wait(r, 0, 30), -ETIMEDOUT);
    ck_assert_uint_ge(shmkit__monotonic_ns() - t0, 30u * 1000000u);
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    ck_assert_int_eq(shmkit_slot_wait(r, 0, 0), 0);      /* version 1 > 0 */
    ck_assert_int_eq(shmkit_slot_wait(r, 1, 0), -EAGAIN);
    /* Another process publishes versions 2..101, paced so that the reader
     * is sometimes spinning and sometimes blocked when they come: a lost
     * wake-up shows as a 5 s timeout. */
    shmkit_slot_close(w);
    child = tu_fork();
    if (child == 0) {
        shmkit_slot *cw;
        uint32_t v;
        if (shmkit_slot_open(&cw, spec, SHMKIT_WRITE) != 0)
            _exit(1);
        for (v = 2; v <= 101; v++) {
            if (shmkit_slot_write(cw, &v, sizeof v) != 0)
                _exit(2);
            shmkit__sleep_ns((v % 3) * 40000u);
        }
        _exit(0);
    }
    version = 1;
    for (i = 0; i < 100 && version < 101; i++) {
        uint32_t got;
        ck_assert_int_eq(shmkit_slot_wait(r, version, 5000), 0);
        ck_assert_int_eq(shmkit_slot_read(r, &got, sizeof got, &version), 4);
        ck_assert_uint_eq(got, version);
    }
    ck_assert_uint_eq(version, 101);
    tu_wait_ok(child, "child");
    shmkit_slot_close(r);
    tu_finish(spec);
}
END_TEST

/* Several readers wait for every version of one slot; they share the
 * slot's wake request, so each write must wake all of them.  Readers wait
 * without a timeout (a timeout would hide a lost wake-up behind a late
 * success); one left asleep makes the writer give up waiting for its
 * acknowledgement, and the test fails. */
START_TEST(test_many_readers_all_woken)
{
    int backend = tu_backend_of(_i);
    enum { NREADERS = 3, VERSIONS = 300 };
    char spec[32];
    shmkit_slot *w;
    sk_atomic_u32 *acks;
    pid_t pids[NREADERS];
    uint32_t v, stuck = 0;
    int k, status;

    acks = tu_shared_alloc(NREADERS * sizeof *acks);
    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    for (k = 0; k < NREADERS; k++) {
        pids[k] = tu_fork();
        if (pids[k] == 0) {
            shmkit_slot *r;
            uint64_t version = 0;

            alarm(60);
            shmkit_set_wait_mode(k == 0 ? SHMKIT_WAIT_ADAPTIVE : SHMKIT_WAIT_BLOCK);
            if (shmkit_slot_open(&r, spec, 0) != 0)
                _exit(1);
            while (version < VERSIONS) {
                uint32_t got;

                if (shmkit_slot_wait(r, version, -1) != 0 ||
                    shmkit_slot_read(r, &got, sizeof got, &version) != 4 || got != version)
                    _exit(2);
                sk_store(&acks[k], (uint32_t)version, SK_RELEASE);
            }
            _exit(0);
        }
    }
    for (v = 1; v <= VERSIONS && stuck == 0; v++) {
        uint64_t end = shmkit__monotonic_ns() + 20000u * 1000000ull;

        for (k = 0; k < NREADERS && stuck == 0; k++)
            while (sk_load(&acks[k], SK_ACQUIRE) != v - 1 && stuck == 0) {
                if (shmkit__monotonic_ns() > end)
                    stuck = v;
                shmkit__sleep_ns(20000);
            }
        ck_assert_int_eq(shmkit_slot_write(w, &v, sizeof v), 0);
    }
    for (k = 0; k < NREADERS; k++) {
        if (stuck != 0)
            kill(pids[k], SIGKILL);
        ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
        ck_assert_msg(stuck != 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                      "reader %d: status 0x%x", k, status);
    }
    ck_assert_msg(stuck == 0, "a reader was not woken for version %u", stuck - 1);
    shmkit_slot_close(w);
    tu_shared_free(acks, NREADERS * sizeof *acks);
    tu_finish(spec);
}
END_TEST

/* ---- stress: many readers, random delays between protocol steps ---- */

/* Readers x versions: every reader must see every version (the writer
 * waits for all of them before the next), 100 000 wake-ups per backend. */
#define STRESS_READERS 4
#define STRESS_VERSIONS 25000u
/* A reader that has not seen a version after this long lost its wake-up. */
#define STRESS_LOST_MS 5000u

static uint64_t stress_rng;

#if defined(SHMKIT_TEST_HOOKS)
static uint32_t stress_random(void)
{
    return (uint32_t)tu_rand(&stress_rng);
}

/* Hook point handler (test-hook builds): at every step of the wait and
 * notify protocols, give the CPU away one time in 8 and sleep up to 50 us
 * one time in 64, so that every interleaving of waiters and notifier gets
 * its chance. */
static void stress_delay(const char *point)
{
    uint32_t r = stress_random();

    (void)point;
    if ((r & 63u) == 0) {
        struct timespec ts = {0, (long)((r >> 8) % 50000u)};

        nanosleep(&ts, NULL);
    } else if ((r & 7u) == 1) {
        sched_yield();
    }
}
#endif /* SHMKIT_TEST_HOOKS */

/* The many-readers case, 10^5 wake-ups with random delays between the
 * steps of the protocol (test-hook builds; other builds run it without the
 * delays).  A lost wake-up leaves a reader behind for STRESS_LOST_MS. */
START_TEST(test_many_readers_stress)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w;
    sk_atomic_u32 *acks;
    pid_t pids[STRESS_READERS];
    uint32_t v, stuck = 0, wakes_before;
    uint64_t t0;
    int k, status;

    printf("# stress (%s): seed %llu (set SHMKIT_TEST_SEED to repeat)%s\n",
           tu_backend_name(backend), (unsigned long long)tu_seed(),
#if defined(SHMKIT_TEST_HOOKS)
           ""
#else
           ", no delays (not a test-hook build)"
#endif
    );
    fflush(stdout);
    acks = tu_shared_alloc(STRESS_READERS * sizeof *acks);
    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    for (k = 0; k < STRESS_READERS; k++) {
        pids[k] = tu_fork();
        if (pids[k] == 0) {
            shmkit_slot *r;
            uint64_t version = 0;

            alarm(120);
            stress_rng = tu_rng_seed(0x57e55 + (uint64_t)k + 1);
#if defined(SHMKIT_TEST_HOOKS)
            shmkit__hook_point_fn = stress_delay;
#endif
            shmkit_set_wait_mode(k == 0 ? SHMKIT_WAIT_ADAPTIVE : SHMKIT_WAIT_BLOCK);
            if (shmkit_slot_open(&r, spec, 0) != 0)
                _exit(1);
            while (version < STRESS_VERSIONS) {
                uint32_t got;

                if (shmkit_slot_wait(r, version, -1) != 0 ||
                    shmkit_slot_read(r, &got, sizeof got, &version) != 4 || got != version)
                    _exit(2);
                sk_store(&acks[k], (uint32_t)version, SK_RELEASE);
            }
            _exit(0);
        }
    }
    stress_rng = tu_rng_seed(0x57e55);
#if defined(SHMKIT_TEST_HOOKS)
    shmkit__hook_point_fn = stress_delay;
#endif
    wakes_before = sk_load(&shmkit__wait_stats.wakes, SK_RELAXED);
    t0 = shmkit__monotonic_ns();
    for (v = 1; v <= STRESS_VERSIONS && stuck == 0; v++) {
        uint64_t end = 0;

        for (k = 0; k < STRESS_READERS && stuck == 0; k++) {
            unsigned spins = 0;

            /* Poll the ack briefly, then in 10 us naps: yielding instead
             * would hand a loaded machine's CPU to a busy neighbour for a
             * whole time slice at every version. */
            while (sk_load(&acks[k], SK_ACQUIRE) != v - 1 && stuck == 0) {
                struct timespec nap = {0, 10000};

                if (++spins < 64)
                    continue;
                if ((spins & 15u) == 0) {
                    uint64_t now = shmkit__monotonic_ns();

                    if (end == 0)
                        end = now + STRESS_LOST_MS * 1000000ull;
                    else if (now > end)
                        stuck = v - 1;
                }
                nanosleep(&nap, NULL);
            }
        }
        if (stuck == 0)
            ck_assert_int_eq(shmkit_slot_write(w, &v, sizeof v), 0);
    }
#if defined(SHMKIT_TEST_HOOKS)
    shmkit__hook_point_fn = NULL;
#endif
    for (k = 0; k < STRESS_READERS; k++) {
        if (stuck != 0)
            kill(pids[k], SIGKILL);
        ck_assert_int_eq(waitpid(pids[k], &status, 0), pids[k]);
        ck_assert_msg(stuck != 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0),
                      "reader %d: status 0x%x", k, status);
    }
    ck_assert_msg(stuck == 0, "seed %llu: a reader was not woken for version %u",
                  (unsigned long long)tu_seed(), stuck);
    printf("# stress (%s): %u readers x %u versions = %u wake-ups, none lost, in %.2f s"
           " (%u wake calls)\n",
           backend == SHMKIT_BACKEND_SYSV ? "sysv" : "posix", STRESS_READERS, STRESS_VERSIONS,
           STRESS_READERS * STRESS_VERSIONS, (double)(shmkit__monotonic_ns() - t0) / 1e9,
           sk_load(&shmkit__wait_stats.wakes, SK_RELAXED) - wakes_before);
    shmkit_slot_close(w);
    tu_shared_free(acks, STRESS_READERS * sizeof *acks);
    tu_finish(spec);
}
END_TEST

START_TEST(test_wait_interrupted)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w, *r;
    struct sigaction sa;
    struct itimerval it;
    uint32_t x = 7;
    int rc;

    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART */
    sigaction(SIGALRM, &sa, NULL);
    /* A signal every 20 ms, so that one lands while the wait is blocked
     * even if a loaded machine delays the start of the wait. */
    memset(&it, 0, sizeof it);
    it.it_value.tv_usec = 20000;
    it.it_interval.tv_usec = 20000;
    setitimer(ITIMER_REAL, &it, NULL);
    shmkit_set_wait_mode(SHMKIT_WAIT_BLOCK);
    rc = shmkit_slot_wait(r, 0, 3000);
    memset(&it, 0, sizeof it);
    setitimer(ITIMER_REAL, &it, NULL);
    ck_assert_int_eq(rc, -EINTR);
    /* Waiting again still sees the next publication. */
    ck_assert_int_eq(shmkit_slot_write(w, &x, sizeof x), 0);
    ck_assert_int_eq(shmkit_slot_wait(r, 0, 3000), 0);
    ck_assert_int_eq(shmkit_set_wait_mode(SHMKIT_WAIT_ADAPTIVE), SHMKIT_WAIT_BLOCK);
    ck_assert_int_eq(shmkit_set_wait_mode(99), -EINVAL);
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    tu_finish(spec);
}
END_TEST

/* A reader blocked for 2 s must not burn the CPU: the spin is bounded. */
START_TEST(test_idle_waiter_cpu)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *w;
    struct rusage ru;
    pid_t child;
    double cpu;

    tu_spec(backend, spec);
    w = create_slot(spec, "x:u32", 0);
    child = tu_fork();
    if (child == 0) {
        shmkit_slot *r;
        if (shmkit_slot_open(&r, spec, 0) != 0)
            _exit(1);
        _exit(shmkit_slot_wait(r, 0, 2000) == -ETIMEDOUT ? 0 : 2);
    }
    tu_wait_ok(child, "child");
    ck_assert_int_eq(getrusage(RUSAGE_CHILDREN, &ru), 0);
    cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
          ru.ru_stime.tv_usec / 1e6;
    printf("# idle slot reader (%s): %.1f%% of a core over 2 s\n", shmkit_wait_mechanism(),
           cpu / 2.0 * 100.0);
    ck_assert_msg(cpu < 0.1, "idle reader used %.3f s of CPU in 2 s", cpu);
    shmkit_slot_close(w);
    tu_finish(spec);
}
END_TEST

static Suite *slot_suite(void)
{
    Suite *s = suite_create("slot");
    TCase *basic = tu_tcase(s, "basic"), *procs = tu_tcase(s, "processes");
    TCase *stress = tu_tcase(s, "stress"), *bad = tu_tcase(s, "bad-segments");

    tcase_set_timeout(basic, 60);
    tcase_set_timeout(procs, 120);
    tcase_set_timeout(bad, 60);
    tu_add_backend_test(basic, test_round_trip_layout, 1);
    tu_add_backend_test(basic, test_round_trip_raw_sizes, 1);
    tu_add_backend_test(basic, test_versions_persist_across_writers, 1);
    tu_add_backend_test(basic, test_create_existing, 1);
    tu_add_backend_test(basic, test_api_misuse, 1);
    tu_add_backend_test(basic, test_mode_exact_despite_umask, 1);
    tu_add_backend_test(basic, test_reader_mapping_read_only, 1);
    tu_add_backend_test(basic, test_info_fields, 1);
    tu_add_backend_test(basic, test_small_records_share_the_commit_line, 1);
    tu_add_backend_test(procs, test_no_torn_reads, 1);
    tu_add_backend_test(procs, test_second_writer_refused, 1);
    tu_add_backend_test(procs, test_dead_writer_lease_taken_over, 1);
    tu_add_backend_test(procs, test_reused_pid_lease_taken_over, 1);
    tu_add_backend_test(procs, test_writer_killed_mid_update, 1);
    tu_add_backend_test(procs, test_interrupted_write_keeps_previous, 1);
    tu_add_backend_test(procs, test_wait_for_versions, 1);
    tu_add_backend_test(procs, test_wait_interrupted, 1);
    tu_add_backend_test(procs, test_many_readers_all_woken, 1);
    tu_add_backend_test(procs, test_idle_waiter_cpu, 1);
    tu_add_backend_test(bad, test_foreign_segments, 1);
    tu_add_backend_test(bad, test_wrong_kind_and_version, 1);
    tu_add_backend_test(bad, test_stuck_inconsistent_words_corrupt, 1);
    tu_add_backend_test(bad, test_hostile_buffer_words, 1);
    /* 10^5 wake-ups per backend: ~1 s on an idle machine, up to ~40 s
     * beside busy loops on 2 cores. */
    tcase_set_timeout(stress, 300);
    tu_add_backend_test(stress, test_many_readers_stress, 1);
    return s;
}

int main(void)
{
    return tu_run(slot_suite());
}
