/*
 * check_threads.c - several threads of one process using libshmkit at
 * once, each with its own handles: a slot writer and its readers, a block
 * ring's writer and consumer, an overwrite ring's readers.
 *
 * Every other suite runs one thread per process (peers are forked), so
 * this is where ThreadSanitizer (.ci/sanitize) can see the library's
 * process-wide state being shared: the per-thread error detail, the wait
 * mode, the cached process identity, the test hook counters.  Each handle
 * maps the segment on its own, so TSan does not see the seqlock's
 * intended races between mappings (src/copy.c); it would report any race
 * on memory that threads really share.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "shmkit.h"
#include "testutil.h"

#define RECORDS 2000u
#define READERS 3
#define WAIT_MS 20000

/* A record large enough that a copy racing the writer would be torn. */
#define COPIES 255

struct pair {
    uint64_t seq;
    uint64_t triple[COPIES]; /* each 3 * seq: a torn record breaks them */
};

static void fill(struct pair *p, uint64_t seq)
{
    int i;

    p->seq = seq;
    for (i = 0; i < COPIES; i++)
        p->triple[i] = 3 * seq;
}

static int intact(const struct pair *p)
{
    int i;

    for (i = 0; i < COPIES; i++)
        if (p->triple[i] != 3 * p->seq)
            return 0;
    return 1;
}

struct job {
    char spec[32];
    char missing[32];   /* a spec that names no segment */
    int failed;         /* set by the thread: the first failure's line */
    char why[160];      /* and what went wrong */
    unsigned long seen; /* records or messages checked */
};

static void job_fail(struct job *job, int line, const char *what, int rc)
{
    if (job->failed == 0) {
        job->failed = line;
        snprintf(job->why, sizeof job->why, "%s: %d (%s: %s)", what, rc, shmkit_strerror(rc),
                 shmkit_error_detail());
    }
}

#define JOB_CHECK(job, cond, what, rc)                \
    do {                                              \
        if (!(cond)) {                                \
            job_fail((job), __LINE__, (what), (rc));  \
            goto out;                                 \
        }                                             \
    } while (0)

static void assert_job(const struct job *job, const char *who)
{
    ck_assert_msg(job->failed == 0, "%s, line %d: %s", who, job->failed, job->why);
}

/* ---- slot ----------------------------------------------------------- */

static void *slot_writer(void *arg)
{
    struct job *job = arg;
    shmkit_slot *slot = NULL;
    struct pair p;
    int rc = shmkit_slot_open(&slot, job->spec, SHMKIT_WRITE);
    uint64_t i;

    JOB_CHECK(job, rc == 0, "writer open", rc);
    for (i = 1; i <= RECORDS; i++) {
        fill(&p, i);
        rc = shmkit_slot_write(slot, &p, sizeof p);
        JOB_CHECK(job, rc == 0, "write", rc);
    }
out:
    shmkit_slot_close(slot);
    return NULL;
}

static void *slot_reader(void *arg)
{
    struct job *job = arg;
    shmkit_slot *slot = NULL, *missing = NULL;
    struct pair p;
    uint64_t version = 0, last = 0;
    int rc;

    /* Failures in other threads do not disturb this one's. */
    rc = shmkit_slot_open(&missing, job->missing, 0);
    JOB_CHECK(job, rc == -ENOENT, "open of a missing slot", rc);
    rc = shmkit_slot_open(&slot, job->spec, 0);
    JOB_CHECK(job, rc == 0, "reader open", rc);
    while (last < RECORDS) {
        rc = shmkit_slot_wait(slot, last, WAIT_MS);
        JOB_CHECK(job, rc == 0, "wait", rc);
        rc = shmkit_slot_read(slot, &p, sizeof p, &version);
        JOB_CHECK(job, rc == (int)sizeof p, "read", rc);
        JOB_CHECK(job, intact(&p) && p.seq == version, "torn record", (int)p.seq);
        JOB_CHECK(job, version > last, "version went back", (int)version);
        last = version;
        job->seen++;
    }
out:
    shmkit_slot_close(slot);
    return NULL;
}

START_TEST(test_slot_threads)
{
    struct job writer, readers[READERS];
    pthread_t wt, rt[READERS];
    shmkit_slot *slot = NULL;
    int i;

    memset(&writer, 0, sizeof writer);
    tu_spec(tu_backend_of(_i), writer.spec);
    ck_assert_int_eq(shmkit_slot_create(&slot, writer.spec, NULL, sizeof(struct pair), 0600,
                                        SHMKIT_EXCL), 0);
    shmkit_slot_close(slot); /* releases the lease for the writer thread */
    for (i = 0; i < READERS; i++) {
        readers[i] = writer;
        tu_spec(tu_backend_of(_i), readers[i].missing);
        ck_assert_int_eq(pthread_create(&rt[i], NULL, slot_reader, &readers[i]), 0);
    }
    ck_assert_int_eq(pthread_create(&wt, NULL, slot_writer, &writer), 0);
    ck_assert_int_eq(pthread_join(wt, NULL), 0);
    for (i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_join(rt[i], NULL), 0);
    ck_assert_int_eq(shmkit_unlink(writer.spec), 0);
    assert_job(&writer, "writer");
    for (i = 0; i < READERS; i++) {
        assert_job(&readers[i], "reader");
        ck_assert_uint_gt(readers[i].seen, 0);
    }
    tu_assert_no_leftovers();
}
END_TEST

/* ---- block ring: every message once, in order ---------------------- */

static void *ring_writer(void *arg)
{
    struct job *job = arg;
    shmkit_ring *ring = NULL;
    struct pair p;
    int rc = shmkit_ring_open(&ring, job->spec, SHMKIT_WRITE);
    uint64_t i;

    JOB_CHECK(job, rc == 0, "ring writer open", rc);
    for (i = 1; i <= RECORDS; i++) {
        fill(&p, i);
        rc = shmkit_ring_send(ring, &p, sizeof p, WAIT_MS);
        JOB_CHECK(job, rc == 0, "send", rc);
    }
out:
    shmkit_ring_close(ring);
    return NULL;
}

static void *ring_consumer(void *arg)
{
    struct job *job = arg;
    shmkit_ring *ring = NULL;
    struct pair p;
    int rc = shmkit_ring_open(&ring, job->spec, 0);
    uint64_t i;

    JOB_CHECK(job, rc == 0, "consumer open", rc);
    for (i = 1; i <= RECORDS; i++) {
        rc = shmkit_ring_recv(ring, &p, sizeof p, WAIT_MS);
        JOB_CHECK(job, rc == (int)sizeof p, "recv", rc);
        JOB_CHECK(job, p.seq == i && intact(&p), "message out of order or torn",
                  (int)p.seq);
        job->seen++;
    }
out:
    shmkit_ring_close(ring);
    return NULL;
}

START_TEST(test_block_ring_threads)
{
    struct job writer, consumer;
    pthread_t wt, ct;
    shmkit_ring *ring = NULL;
    int backend = tu_backend_of(_i);

    memset(&writer, 0, sizeof writer);
    tu_spec(backend, writer.spec);
    /* A small ring, so that the writer also waits for room. */
    ring = tu_ring_create(writer.spec, 8192, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    shmkit_ring_close(ring);
    consumer = writer;
    ck_assert_int_eq(pthread_create(&ct, NULL, ring_consumer, &consumer), 0);
    ck_assert_int_eq(pthread_create(&wt, NULL, ring_writer, &writer), 0);
    ck_assert_int_eq(pthread_join(wt, NULL), 0);
    ck_assert_int_eq(pthread_join(ct, NULL), 0);
    ck_assert_int_eq(shmkit_unlink(writer.spec), 0);
    assert_job(&writer, "writer");
    assert_job(&consumer, "consumer");
    ck_assert_uint_eq(consumer.seen, RECORDS);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- one handle shared by two threads (not allowed) ---------------- */

/* Handles are for one thread at a time.  Two threads receiving through
 * one handle used to corrupt its private cursors, and the next check
 * blamed the segment (SHMKIT_ECORRUPT).  Now a call that finds the handle
 * busy returns -EINVAL, and everything that is received is intact, in
 * order for each thread and (block policy) received exactly once. */
#define SHARED_MESSAGES 20000u

struct shared_reader {
    shmkit_ring *ring;          /* the one handle both threads use */
    int policy;
    unsigned *writer_done;
    unsigned long *received;    /* by both threads */
    unsigned long long *seq_sum;
    struct job job;
    unsigned long refused;      /* -EINVAL: handle in use */
};

static void *ring_writer_n(void *arg)
{
    struct job *job = arg;
    shmkit_ring *ring = NULL;
    uint64_t i;
    int rc = shmkit_ring_open(&ring, job->spec, SHMKIT_WRITE);

    JOB_CHECK(job, rc == 0, "writer open", rc);
    for (i = 1; i <= SHARED_MESSAGES; i++) {
        uint64_t msg[4] = {i, 3 * i, 5 * i, 7 * i};

        rc = shmkit_ring_send(ring, msg, sizeof msg, WAIT_MS);
        JOB_CHECK(job, rc == 0, "send", rc);
    }
out:
    shmkit_ring_close(ring);
    return NULL;
}

static void *shared_reader_thread(void *arg)
{
    struct shared_reader *sr = arg;
    struct job *job = &sr->job;
    uint64_t last = 0;

    for (;;) {
        uint64_t msg[4];
        int rc = shmkit_ring_recv(sr->ring, msg, sizeof msg, 0);

        if (rc == -EINVAL) {
            JOB_CHECK(job, strstr(shmkit_error_detail(), "thread") != NULL,
                      "-EINVAL without the reason", rc);
            sr->refused++;
            continue;
        }
        if (rc == -EAGAIN) {
            if (__atomic_load_n(sr->writer_done, __ATOMIC_ACQUIRE))
                break;
            continue;
        }
        JOB_CHECK(job, rc == (int)sizeof msg, "recv", rc);
        JOB_CHECK(job, msg[1] == 3 * msg[0] && msg[2] == 5 * msg[0] && msg[3] == 7 * msg[0],
                  "torn message", (int)msg[0]);
        JOB_CHECK(job, msg[0] > last, "message out of order", (int)msg[0]);
        last = msg[0];
        job->seen++;
        __atomic_fetch_add(sr->received, 1, __ATOMIC_RELAXED);
        __atomic_fetch_add(sr->seq_sum, (unsigned long long)msg[0], __ATOMIC_RELAXED);
    }
out:
    return NULL;
}

START_TEST(test_shared_handle_misuse_not_corrupt)
{
    int backend = tu_backend_of(_i);
    int policy = tu_variant_of(_i) == 0 ? SHMKIT_RING_BLOCK : SHMKIT_RING_OVERWRITE;
    struct shared_reader readers[2];
    struct job writer;
    pthread_t wt, rt[2];
    shmkit_ring *ring = NULL, *shared = NULL;
    unsigned writer_done = 0;
    unsigned long received = 0;
    unsigned long long seq_sum = 0;
    int i;

    memset(&writer, 0, sizeof writer);
    tu_spec(backend, writer.spec);
    ring = tu_ring_create(writer.spec, 4096, 0, policy, 0600, SHMKIT_EXCL);
    shmkit_ring_close(ring);
    ck_assert_int_eq(shmkit_ring_open(&shared, writer.spec, 0), 0);
    for (i = 0; i < 2; i++) {
        memset(&readers[i], 0, sizeof readers[i]);
        readers[i].ring = shared;
        readers[i].policy = policy;
        readers[i].writer_done = &writer_done;
        readers[i].received = &received;
        readers[i].seq_sum = &seq_sum;
        ck_assert_int_eq(pthread_create(&rt[i], NULL, shared_reader_thread, &readers[i]), 0);
    }
    ck_assert_int_eq(pthread_create(&wt, NULL, ring_writer_n, &writer), 0);
    ck_assert_int_eq(pthread_join(wt, NULL), 0);
    __atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(rt[i], NULL), 0);
    shmkit_ring_close(shared);
    ck_assert_int_eq(shmkit_unlink(writer.spec), 0);
    assert_job(&writer, "writer");
    for (i = 0; i < 2; i++)
        assert_job(&readers[i].job, "reader");
    if (policy == SHMKIT_RING_BLOCK) {
        ck_assert_uint_eq(received, SHARED_MESSAGES);
        ck_assert_uint_eq(seq_sum, (unsigned long long)SHARED_MESSAGES *
                                       (SHARED_MESSAGES + 1) / 2);
    }
    tu_assert_no_leftovers();
}
END_TEST

static Suite *threads_suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tu_tcase(s, "threads");

    tu_add_backend_test(tc, test_slot_threads, 1);
    tu_add_backend_test(tc, test_block_ring_threads, 1);
    tu_add_backend_test(tc, test_shared_handle_misuse_not_corrupt, 2);
    tcase_set_timeout(tc, 120);
    return s;
}

int main(void)
{
    return tu_run(threads_suite());
}
