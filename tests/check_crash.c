/*
 * check_crash.c - writers and consumers killed with SIGKILL at random
 * points, more than a thousand times per run, on both backends: slots, and
 * rings of both policies.
 *
 * Every case follows the same plan.  Long-lived reader processes check
 * every record or message they get (each carries its number, the writer
 * "generation" that sent it and its length, repeated in a checksummed head
 * and spread over every byte, see peerutil.h).  Meanwhile the parent forks
 * one short-lived peer after another and kills it with SIGKILL after a
 * random delay drawn from a seeded PRNG (the seed is printed as a TAP
 * comment; SHMKIT_TEST_SEED=N repeats the choices, though not the
 * scheduling).  The next peer must take the lease over without any manual
 * cleanup: shmkit_*_open succeeds right after its predecessor was reaped
 * (a peer whose open fails reports it and exits, which fails the test).
 *
 * What is checked, and the windows the API leaves open:
 *
 * - Slots: a reader never gets a torn record, and the version it returns
 *   is the one written inside the record; versions never go back.  After
 *   the last kill the slot's version is the last one a writer reported
 *   (after shmkit_slot_write returned), or up to one more per writer
 *   killed since that report: a writer killed between publishing and
 *   reporting.
 *
 * - Block rings, killed writer: a writer reports each message after
 *   shmkit_ring_send (or shmkit_ring_commit) returned.  The consumer gets
 *   every reported message exactly once and in order, and the numbering is
 *   continuous across writers.  A writer killed after publishing but
 *   before reporting leaves one message that may or may not arrive (at most
 *   once): per generation the consumer gets "reported" or "reported + 1"
 *   messages.
 *
 * - Overwrite rings, killed writer: readers get intact messages in
 *   increasing order, and shmkit_ring_lost grows by exactly the gap in the
 *   numbering; at the end each reader is at the writer's position.
 *
 * - Block rings, killed consumer: the next consumer takes the consumer
 *   lease over and continues at the shared cursor.  shmkit.h documents
 *   that "the message a consumer was receiving when it died may be
 *   delivered again"; so a consumer that dies after looking at a message
 *   but before moving past it (between shmkit_ring_peek and
 *   shmkit_ring_release, or inside shmkit_ring_recv) leaves it to the next
 *   one.  Consumers here record each message in shared memory: peek
 *   consumers before releasing it (so a message may be recorded twice, at
 *   most once more, and only right after a kill), recv consumers after
 *   shmkit_ring_recv returned (so a consumer killed between the return and
 *   the record took a message that is delivered but unrecorded: at most
 *   one per such consumer).  Nothing else may be lost or repeated, and the
 *   final consumer gets everything the writer sent.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "peerutil.h"
#include "wait.h"
#include "testutil.h"

/* Kills per case and backend; the total over the suite is printed. */
#define SLOT_KILLS 100      /* x 2 record sizes */
#define RING_KILLS 160      /* per policy */
#define CONSUMER_KILLS 130
#define MAX_GENERATIONS 4096

#define CHILD_ALARM_S 60    /* a peer that hangs dies of SIGALRM */
#define REAP_MS 60000

/* ---- state shared between the parent and its peers ------------------- */

struct crash_state {
    struct pu_report report;
    char spec[32];
    int policy;                 /* rings */
    size_t record_size;         /* slots */
    size_t max_message;         /* rings */
    uint64_t seed;              /* stream of the case, for the children */

    int ready;                  /* long-lived readers have opened */
    int done;                   /* the parent is finished: drain and exit */
    int opened;                 /* the current short-lived peer has opened */
    int in_window;              /* consumer: between peek and release */

    /* Writer generations: what each reported as sent or written. */
    uint32_t reported[MAX_GENERATIONS];
    uint32_t consumed[MAX_GENERATIONS]; /* block ring: delivered per generation */
    uint64_t max_reported;      /* slots: newest version reported + 1, 0 none */

    /* Readers' results. */
    uint64_t final_position[2];
    uint64_t received[2], lost[2], overwritten[2], contended[2];

    /* Consumer kills: the last recorded message, as (n + 1) << 1 | peek. */
    uint64_t last_record;
    uint32_t skips_allowed;     /* recv consumers killed since the last record */
    uint64_t duplicates, skips; /* windows seen (informational) */
    uint64_t writer_sent;       /* consumer case: messages the writer sent */
};

static struct crash_state *st;

static struct crash_state *state_new(int backend, uint64_t stream)
{
    struct crash_state *s = tu_shared_alloc(sizeof *s);

    tu_spec(backend, s->spec);
    s->seed = tu_rng_seed(stream);
    return s;
}

static void state_free(struct crash_state *s)
{
    tu_shared_free(s, sizeof *s);
}

/* Fail the test with the first failure any child reported. */
static void assert_no_failures(void)
{
    PU_ASSERT(st->report.failures == 0, "%d failure(s) (seed %llu), first: %s",
                  st->report.failures, (unsigned long long)tu_seed(), st->report.first);
}

static unsigned total_kills;

/* One short-lived peer: fork it, let it run a random while, kill it.  Every
 * fourth peer first gets to open the segment, so that take-overs are
 * exercised whatever the scheduling; the others are also killed during
 * start-up and open.  A peer that exits by itself failed (it reported why). */
static void kill_one(int (*peer)(void *), void *arg, uint64_t *rng, unsigned cycle)
{
    char text[64];
    pid_t pid;
    int status;

    __atomic_store_n(&st->opened, 0, __ATOMIC_RELEASE);
    pid = pu_spawn(peer, arg, CHILD_ALARM_S);
    if (cycle % 4 == 0)
        PU_ASSERT(pu_wait_flag(&st->opened, REAP_MS), "peer %u never opened: %s", cycle,
                      st->report.first);
    pu_delay_ns(pu_kill_delay_ns(rng));
    kill(pid, SIGKILL);
    status = pu_reap(pid, REAP_MS);
    total_kills++;
    PU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
                  "peer %u %s (seed %llu): %s", cycle, tu_status_text(status, text, sizeof text),
                  (unsigned long long)tu_seed(), st->report.first);
}

/* Wait until N long-lived readers have opened the segment. */
static void wait_ready(int n)
{
    uint64_t deadline = tu_now_ns() + (uint64_t)REAP_MS * 1000000u;

    while (__atomic_load_n(&st->ready, __ATOMIC_ACQUIRE) < n) {
        PU_ASSERT(tu_now_ns() < deadline && st->report.failures == 0,
                      "readers did not start: %s", st->report.first);
        pu_delay_ns(200000);
    }
}

static void assert_exited_cleanly(pid_t pid, const char *who)
{
    char text[64];
    int status = pu_reap(pid, REAP_MS);

    PU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s (seed %llu): %s", who,
                  tu_status_text(status, text, sizeof text), (unsigned long long)tu_seed(),
                  st->report.first);
}

/* ------------------------------------------------------------------ */
/* Slots                                                               */
/* ------------------------------------------------------------------ */

/* A writer generation: versions continue from the slot's, each record
 * names its own version. */
static int slot_writer(void *arg)
{
    uint32_t gen = (uint32_t)(uintptr_t)arg, idx;
    unsigned char rec[4096];
    shmkit_slot *w;
    uint64_t n;
    int rc = shmkit_slot_open(&w, st->spec, SHMKIT_WRITE);

    if (rc != 0)
        pu_child_die(&st->report, 3, "writer %u: open: %s (%s)", gen, shmkit_strerror(rc),
                     shmkit_error_detail());
    __atomic_store_n(&st->opened, 1, __ATOMIC_RELEASE);
    rc = shmkit_slot_version(w, &n);
    if (rc != 0)
        pu_child_die(&st->report, 3, "writer %u: version: %s (%s)", gen, shmkit_strerror(rc),
                     shmkit_error_detail());
    n++;
    for (idx = 0;; idx++, n++) {
        pu_msg_fill(rec, st->record_size, n, gen, idx);
        rc = shmkit_slot_write(w, rec, st->record_size);
        if (rc != 0)
            pu_child_die(&st->report, 4, "writer %u: write: %s", gen, shmkit_strerror(rc));
        __atomic_store_n(&st->max_reported, n + 1, __ATOMIC_RELEASE);
        __atomic_store_n(&st->reported[gen], idx + 1, __ATOMIC_RELEASE);
    }
}

/* Check one record read with version V, against what this reader saw. */
static void check_slot_record(const unsigned char *rec, int rc, uint64_t v, uint64_t *last_v,
                              uint32_t *last_gen, int who)
{
    struct pu_msg_head h;
    char why[160];

    if (rc != (int)st->record_size)
        pu_child_die(&st->report, 5, "reader %d: read returned %d (%s)", who, rc,
                     rc < 0 ? shmkit_strerror(rc) : "size");
    if (v == 0)
        return; /* never written: all zero */
    if (pu_msg_check(rec, st->record_size, &h, why, sizeof why) != 0)
        pu_child_die(&st->report, 6, "reader %d: version %llu: %s", who, (unsigned long long)v,
                     why);
    if (h.n != v)
        pu_child_die(&st->report, 6, "reader %d: version %llu holds the record of %llu", who,
                     (unsigned long long)v, (unsigned long long)h.n);
    if (v < *last_v || (v > *last_v && h.gen < *last_gen))
        pu_child_die(&st->report, 6, "reader %d: version %llu (gen %u) after %llu (gen %u)", who,
                     (unsigned long long)v, h.gen, (unsigned long long)*last_v, *last_gen);
    *last_v = v;
    *last_gen = h.gen;
}

/* Reader 0 reads in a loop; reader 1 waits for each new version. */
static int slot_reader(void *arg)
{
    int who = (int)(uintptr_t)arg;
    unsigned char rec[4096 + 64];
    uint64_t last_v = 0, v;
    uint32_t last_gen = 0;
    shmkit_slot *r;
    int rc = shmkit_slot_open(&r, st->spec, 0);

    if (rc != 0)
        pu_child_die(&st->report, 3, "reader %d: open: %s", who, shmkit_strerror(rc));
    __atomic_add_fetch(&st->ready, 1, __ATOMIC_ACQ_REL);
    while (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
        if (who == 1) {
            rc = shmkit_slot_wait(r, last_v, 20);
            if (rc != 0 && rc != -ETIMEDOUT)
                pu_child_die(&st->report, 5, "reader 1: wait: %s", shmkit_strerror(rc));
        }
        rc = shmkit_slot_read(r, rec, sizeof rec, &v);
        check_slot_record(rec, rc, v, &last_v, &last_gen, who);
        st->received[who]++;
    }
    st->final_position[who] = last_v;
    shmkit_slot_close(r);
    return 0;
}

static void run_slot_kills(int backend, size_t record_size, uint64_t stream)
{
    shmkit_slot *w;
    pid_t readers[2];
    unsigned char rec[4096];
    uint64_t rng, v, reported;
    struct pu_msg_head h;
    char why[160];
    unsigned cycle, kills = SLOT_KILLS * pu_scale(), unreported = 0;
    int i, rc;

    st = state_new(backend, stream);
    rng = st->seed;
    st->record_size = record_size;
    ck_assert_int_eq(shmkit_slot_create(&w, st->spec, NULL, record_size, 0, SHMKIT_EXCL), 0);
    shmkit_slot_close(w);
    for (i = 0; i < 2; i++)
        readers[i] = pu_spawn(slot_reader, (void *)(uintptr_t)i, CHILD_ALARM_S);
    wait_ready(2);
    for (cycle = 1; cycle <= kills; cycle++) {
        uint64_t before = st->max_reported;
        kill_one(slot_writer, (void *)(uintptr_t)cycle, &rng, cycle);
        /* Each writer killed since the last report may have published one
         * version that it could not report. */
        unreported = st->max_reported != before ? 1 : unreported + 1;
    }

    /* The lease of the last killed writer is taken over at once. */
    PU_ASSERT(shmkit_slot_open(&w, st->spec, SHMKIT_WRITE) == 0, "take-over: %s",
                  shmkit_error_detail());
    rc = shmkit_slot_read(w, rec, sizeof rec, &v);
    PU_ASSERT(rc == (int)record_size, "final read: %d", rc);
    reported = st->max_reported; /* newest reported version + 1 */
    PU_ASSERT(reported > 0, "no writer ever wrote");
    PU_ASSERT(v >= reported - 1 && v - (reported - 1) <= unreported,
              "slot at version %llu, writers reported up to %llu, %u killed since",
              (unsigned long long)v, (unsigned long long)reported - 1, unreported);
    PU_ASSERT(pu_msg_check(rec, record_size, &h, why, sizeof why) == 0 && h.n == v,
                  "final record: %s", why);
    shmkit_slot_close(w);

    __atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
    for (i = 0; i < 2; i++)
        assert_exited_cleanly(readers[i], "slot reader");
    assert_no_failures();
    printf("# slot %s %zu-byte records: %u writers killed, %llu versions, reads %llu + %llu\n",
           tu_backend_name(backend), record_size, kills, (unsigned long long)v,
           (unsigned long long)st->received[0], (unsigned long long)st->received[1]);
    pu_cleanup();
    state_free(st);
    tu_assert_no_leftovers();
}

START_TEST(test_slot_writer_killed)
{
    run_slot_kills(tu_backend_of(_i), tu_variant_of(_i) ? 4000 : 40, 100 + (uint64_t)_i);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Rings: killed writers                                               */
/* ------------------------------------------------------------------ */

static size_t random_len(uint64_t *rng)
{
    /* Mostly small messages (many frames, frequent wrap-around), some
     * up to the maximum. */
    size_t span = tu_below(rng, 4) == 0 ? st->max_message : 64;

    return PU_MSG_MIN + (size_t)tu_below(rng, span - PU_MSG_MIN + 1);
}

/* A writer generation: odd generations send by copy, even ones reserve
 * (sometimes more than they commit) and commit. */
static int ring_writer(void *arg)
{
    uint32_t gen = (uint32_t)(uintptr_t)arg, idx;
    uint64_t rng = tu_mix(st->seed ^ gen) | 1;
    unsigned char msg[4096];
    shmkit_ring *w;
    int rc = shmkit_ring_open(&w, st->spec, SHMKIT_WRITE);

    if (rc != 0)
        pu_child_die(&st->report, 3, "writer %u: open: %s (%s)", gen, shmkit_strerror(rc),
                     shmkit_error_detail());
    __atomic_store_n(&st->opened, 1, __ATOMIC_RELEASE);
    for (idx = 0;; idx++) {
        size_t len = random_len(&rng);
        uint64_t n = shmkit_ring_position(w);

        if (gen & 1) {
            pu_msg_fill(msg, len, n, gen, idx);
            rc = shmkit_ring_send(w, msg, len, -1);
        } else {
            size_t room = len + (size_t)tu_below(&rng, st->max_message - len + 1);
            void *p;
            rc = shmkit_ring_reserve(w, &p, room, -1);
            if (rc == 0) {
                pu_msg_fill(p, len, n, gen, idx);
                rc = shmkit_ring_commit(w, len);
            }
        }
        if (rc != 0)
            pu_child_die(&st->report, 4, "writer %u: message %u: %s (%s)", gen, idx,
                         shmkit_strerror(rc), shmkit_error_detail());
        __atomic_store_n(&st->reported[gen], idx + 1, __ATOMIC_RELEASE);
    }
}

/* Receive one message by copy or in place; returns its length or a
 * negative code.  In place, the message is copied out before the release,
 * and an overwritten one (overwrite rings) is reported as
 * SHMKIT_EOVERWRITTEN after the cursor moved past it. */
static int receive(shmkit_ring *r, unsigned char *buf, size_t buflen, int peek, int timeout_ms)
{
    const void *p;
    int rc, rel;

    if (!peek)
        return shmkit_ring_recv(r, buf, buflen, timeout_ms);
    rc = shmkit_ring_peek(r, &p, timeout_ms);
    if (rc < 0)
        return rc;
    if ((size_t)rc > buflen)
        pu_child_die(&st->report, 6, "peek: %d bytes, more than the maximum %zu", rc,
                     st->max_message);
    memcpy(buf, p, (size_t)rc);
    rel = shmkit_ring_release(r);
    if (rel == SHMKIT_EOVERWRITTEN)
        return rel;
    if (rel != 0)
        pu_child_die(&st->report, 6, "release: %s", shmkit_strerror(rel));
    return rc;
}

/* Block consumer of the killed-writer case: every message in order, each
 * generation's messages 0, 1, 2, ... */
static int block_consumer(void *arg)
{
    uint64_t rng = tu_mix(st->seed ^ 0xc0ffee) | 1;
    unsigned char buf[4096];
    uint32_t gen = 0, next_idx = 0;
    struct pu_msg_head h;
    char why[160];
    shmkit_ring *r;
    int rc = shmkit_ring_open(&r, st->spec, 0);

    (void)arg;
    if (rc != 0)
        pu_child_die(&st->report, 3, "consumer: open: %s", shmkit_strerror(rc));
    __atomic_add_fetch(&st->ready, 1, __ATOMIC_ACQ_REL);
    for (;;) {
        uint64_t pos = shmkit_ring_position(r);
        int done = __atomic_load_n(&st->done, __ATOMIC_ACQUIRE);

        rc = receive(r, buf, sizeof buf, tu_below(&rng, 2) == 0, done ? 0 : 20);
        if (rc == -ETIMEDOUT && !done)
            continue;
        if (rc == -EAGAIN && done)
            break;
        if (rc < 0)
            pu_child_die(&st->report, 5, "consumer: message %llu: %s (%s)",
                         (unsigned long long)pos, shmkit_strerror(rc), shmkit_error_detail());
        if (pu_msg_check(buf, (size_t)rc, &h, why, sizeof why) != 0)
            pu_child_die(&st->report, 6, "consumer: %s", why);
        if (h.n != pos || shmkit_ring_position(r) != pos + 1)
            pu_child_die(&st->report, 6, "consumer: message %llu at position %llu",
                         (unsigned long long)h.n, (unsigned long long)pos);
        if (h.gen >= MAX_GENERATIONS || h.gen < gen || (h.gen == gen && h.idx != next_idx) ||
            (h.gen > gen && h.idx != 0))
            pu_child_die(&st->report, 6,
                         "consumer: message %llu is gen %u idx %u, expected gen %u idx %u "
                         "(or the first of a later one)",
                         (unsigned long long)h.n, h.gen, h.idx, gen, next_idx);
        gen = h.gen;
        next_idx = h.idx + 1;
        st->consumed[gen] = next_idx;
        st->received[0]++;
    }
    st->final_position[0] = shmkit_ring_position(r);
    shmkit_ring_close(r);
    return 0;
}

/* Overwrite reader WHO: 0 starts at the oldest message and receives by
 * copy, 1 starts at the newest and peeks. */
static int overwrite_reader(void *arg)
{
    int who = (int)(uintptr_t)arg;
    unsigned char buf[4096];
    uint64_t last_n = 0;
    int have_last = 0;
    struct pu_msg_head h;
    char why[160];
    shmkit_ring *r;
    int rc = shmkit_ring_open(&r, st->spec, who == 0 ? SHMKIT_FROM_OLDEST : 0);

    if (rc != 0)
        pu_child_die(&st->report, 3, "reader %d: open: %s", who, shmkit_strerror(rc));
    __atomic_add_fetch(&st->ready, 1, __ATOMIC_ACQ_REL);
    for (;;) {
        uint64_t pos = shmkit_ring_position(r), lost = shmkit_ring_lost(r);
        int done = __atomic_load_n(&st->done, __ATOMIC_ACQUIRE);

        rc = receive(r, buf, sizeof buf, who == 1, done ? 0 : 20);
        if (rc == -ETIMEDOUT && !done)
            continue;
        if (rc == -EAGAIN && done)
            break;
        if (rc == SHMKIT_ECONTENDED) { /* lapped 10000 times in one call */
            st->contended[who]++;
            continue;
        }
        if (rc == SHMKIT_EOVERWRITTEN) {
            /* Discarded; the cursor moved past it all the same. */
            st->overwritten[who]++;
            last_n = shmkit_ring_position(r) - 1;
            have_last = 1;
            continue;
        }
        if (rc < 0)
            pu_child_die(&st->report, 5, "reader %d: %s (%s)", who, shmkit_strerror(rc),
                         shmkit_error_detail());
        if (pu_msg_check(buf, (size_t)rc, &h, why, sizeof why) != 0)
            pu_child_die(&st->report, 6, "reader %d: %s", who, why);
        if (have_last && h.n <= last_n)
            pu_child_die(&st->report, 6, "reader %d: message %llu after %llu", who,
                         (unsigned long long)h.n, (unsigned long long)last_n);
        /* The gap since the expected position is exactly the loss. */
        if (h.n < pos || shmkit_ring_lost(r) - lost != h.n - pos ||
            shmkit_ring_position(r) != h.n + 1)
            pu_child_die(&st->report, 6,
                         "reader %d: message %llu at position %llu, lost %llu -> %llu, "
                         "position after %llu",
                         who, (unsigned long long)h.n, (unsigned long long)pos,
                         (unsigned long long)lost, (unsigned long long)shmkit_ring_lost(r),
                         (unsigned long long)shmkit_ring_position(r));
        last_n = h.n;
        have_last = 1;
        st->received[who]++;
    }
    st->final_position[who] = shmkit_ring_position(r);
    st->lost[who] = shmkit_ring_lost(r);
    shmkit_ring_close(r);
    return 0;
}

static void check_block_generations(unsigned kills)
{
    unsigned g, late = 0;

    for (g = 1; g <= kills; g++) {
        uint32_t reported = st->reported[g], consumed = st->consumed[g];
        PU_ASSERT(consumed == reported || consumed == reported + 1,
                      "writer %u reported %u messages sent, the consumer got %u (seed %llu)", g,
                      reported, consumed, (unsigned long long)tu_seed());
        late += consumed != reported;
    }
    printf("# %u messages were published by a writer killed before it could report them\n",
           late);
}

static void run_ring_writer_kills(int backend, int policy, uint64_t stream)
{
    unsigned cycle, kills = RING_KILLS * pu_scale();
    int nreaders = policy == SHMKIT_RING_BLOCK ? 1 : 2, i;
    shmkit_ring *w;
    pid_t readers[2];
    uint64_t rng, end;

    ck_assert_uint_lt(kills, MAX_GENERATIONS);
    st = state_new(backend, stream);
    rng = st->seed;
    st->policy = policy;
    st->max_message = 400;
    /* A small ring: messages wrap around, pad frames, a full ring. */
    w = tu_ring_create(st->spec, 2048, st->max_message, policy, 0, SHMKIT_EXCL);
    shmkit_ring_close(w);
    for (i = 0; i < nreaders; i++)
        readers[i] = pu_spawn(policy == SHMKIT_RING_BLOCK ? block_consumer : overwrite_reader,
                              (void *)(uintptr_t)i, CHILD_ALARM_S);
    wait_ready(nreaders);
    for (cycle = 1; cycle <= kills; cycle++)
        kill_one(ring_writer, (void *)(uintptr_t)cycle, &rng, cycle);

    PU_ASSERT(shmkit_ring_open(&w, st->spec, SHMKIT_WRITE) == 0, "take-over: %s",
                  shmkit_error_detail());
    end = shmkit_ring_position(w);
    __atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
    for (i = 0; i < nreaders; i++)
        assert_exited_cleanly(readers[i], "reader");
    shmkit_ring_close(w);
    assert_no_failures();
    for (i = 0; i < nreaders; i++)
        PU_ASSERT(st->final_position[i] == end, "reader %d ends at %llu, the writer at %llu",
                      i, (unsigned long long)st->final_position[i], (unsigned long long)end);
    if (policy == SHMKIT_RING_BLOCK) {
        PU_ASSERT(st->received[0] == end, "consumer received %llu of %llu",
                  (unsigned long long)st->received[0], (unsigned long long)end);
        check_block_generations(kills);
    } else {
        /* Both readers opened the empty ring: every message was received,
         * counted as lost, or (peek) overwritten while peeked. */
        for (i = 0; i < nreaders; i++)
            PU_ASSERT(st->received[i] + st->lost[i] + st->overwritten[i] == end,
                          "reader %d: %llu received + %llu lost + %llu overwritten != %llu", i,
                          (unsigned long long)st->received[i], (unsigned long long)st->lost[i],
                          (unsigned long long)st->overwritten[i], (unsigned long long)end);
    }
    printf("# ring %s %s: %u writers killed, %llu messages; received %llu/%llu, lost %llu/%llu, "
           "overwritten while peeked %llu, contended %llu/%llu\n",
           tu_backend_name(backend), policy == SHMKIT_RING_BLOCK ? "block" : "overwrite", kills,
           (unsigned long long)end, (unsigned long long)st->received[0],
           (unsigned long long)st->received[1], (unsigned long long)st->lost[0],
           (unsigned long long)st->lost[1], (unsigned long long)st->overwritten[1],
           (unsigned long long)st->contended[0], (unsigned long long)st->contended[1]);
    pu_cleanup();
    state_free(st);
    tu_assert_no_leftovers();
}

START_TEST(test_block_writer_killed)
{
    run_ring_writer_kills(tu_backend_of(_i), SHMKIT_RING_BLOCK, 200 + (uint64_t)_i);
}
END_TEST

START_TEST(test_overwrite_writer_killed)
{
    run_ring_writer_kills(tu_backend_of(_i), SHMKIT_RING_OVERWRITE, 300 + (uint64_t)_i);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Block rings: killed consumers                                       */
/* ------------------------------------------------------------------ */

/* The writer of the consumer case: sends until told to stop. */
static int steady_writer(void *arg)
{
    uint64_t rng = tu_mix(st->seed ^ 0xbeef) | 1;
    unsigned char msg[4096];
    shmkit_ring *w;
    uint32_t idx;
    int rc = shmkit_ring_open(&w, st->spec, SHMKIT_WRITE);

    (void)arg;
    if (rc != 0)
        pu_child_die(&st->report, 3, "writer: open: %s", shmkit_strerror(rc));
    __atomic_add_fetch(&st->ready, 1, __ATOMIC_ACQ_REL);
    for (idx = 0; !__atomic_load_n(&st->done, __ATOMIC_ACQUIRE); idx++) {
        size_t len = random_len(&rng);
        pu_msg_fill(msg, len, idx, 0, idx);
        rc = shmkit_ring_send(w, msg, len, 50);
        if (rc == -ETIMEDOUT) { /* full, no consumer: try again */
            idx--;
            continue;
        }
        if (rc != 0)
            pu_child_die(&st->report, 4, "writer: %s", shmkit_strerror(rc));
        __atomic_store_n(&st->writer_sent, (uint64_t)idx + 1, __ATOMIC_RELEASE);
    }
    shmkit_ring_close(w);
    return 0;
}

#define RECORD_PEEK 1u

/* Record message N, received by a consumer in MODE, as one store: a kill
 * lands before or after it, never in the middle. */
static void record(uint64_t n, unsigned mode)
{
    __atomic_store_n(&st->last_record, (n + 1) << 1 | mode, __ATOMIC_RELEASE);
}

/* Is message N, the first this consumer gets, allowed after what the
 * consumers before it recorded?  See the comment at the top. */
static int first_allowed(uint64_t n, char *why, size_t whylen)
{
    uint64_t last = __atomic_load_n(&st->last_record, __ATOMIC_ACQUIRE);
    uint64_t next = last >> 1; /* the message after the last recorded, 0 if none */
    int last_peek = (last & RECORD_PEEK) != 0;

    if (n == next)
        return 0;
    if (last != 0 && last_peek && n + 1 == next) {
        __atomic_add_fetch(&st->duplicates, 1, __ATOMIC_ACQ_REL);
        return 0;
    }
    if (n > next && n - next <= st->skips_allowed) {
        __atomic_add_fetch(&st->skips, n - next, __ATOMIC_ACQ_REL);
        return 0;
    }
    snprintf(why, whylen, "first message %llu after %s%llu recorded (%s), %u recv consumer(s) "
             "killed since", (unsigned long long)n, last == 0 ? "none " : "",
             (unsigned long long)next - 1, last_peek ? "peek" : "recv", st->skips_allowed);
    return -1;
}

/* Check message BUF (RC bytes) received at POS, the first this consumer
 * gets if *PREV is UINT64_MAX, else the one after *PREV.  0 or -1 with WHY. */
static int check_consumed(const unsigned char *buf, int rc, uint64_t pos, uint64_t *prev,
                          char *why, size_t whylen)
{
    struct pu_msg_head h;

    if (pu_msg_check(buf, (size_t)rc, &h, why, whylen) != 0)
        return -1;
    if (h.n != pos) {
        snprintf(why, whylen, "message %llu at position %llu", (unsigned long long)h.n,
                 (unsigned long long)pos);
        return -1;
    }
    if (*prev == UINT64_MAX ? first_allowed(h.n, why, whylen) != 0 : h.n != *prev + 1) {
        if (*prev != UINT64_MAX)
            snprintf(why, whylen, "message %llu after %llu", (unsigned long long)h.n,
                     (unsigned long long)*prev);
        return -1;
    }
    *prev = h.n;
    return 0;
}

/* A consumer that is killed at a random point: recv consumers record after
 * the receive, peek consumers between the peek and the release (and do
 * some more work there, so that many kills land in that window). */
static int killed_consumer(void *arg)
{
    unsigned mode = (unsigned)(uintptr_t)arg;
    unsigned char buf[4096];
    uint64_t prev = UINT64_MAX;
    char why[200];
    shmkit_ring *r;
    int rc = shmkit_ring_open(&r, st->spec, 0);

    if (rc != 0)
        pu_child_die(&st->report, 3, "consumer: open: %s (%s)", shmkit_strerror(rc),
                     shmkit_error_detail());
    __atomic_store_n(&st->opened, 1, __ATOMIC_RELEASE);
    for (;;) {
        uint64_t pos = shmkit_ring_position(r);
        const void *p;

        buf[0] = 0;
        if (mode == RECORD_PEEK) {
            rc = shmkit_ring_peek(r, &p, 50);
            if (rc >= 0) {
                __atomic_store_n(&st->in_window, 1, __ATOMIC_RELEASE);
                memcpy(buf, p, (size_t)rc);
            }
        } else {
            rc = shmkit_ring_recv(r, buf, sizeof buf, 50);
        }
        if (rc == -ETIMEDOUT)
            continue;
        if (rc < 0)
            pu_child_die(&st->report, 5, "consumer: %s (%s)", shmkit_strerror(rc),
                         shmkit_error_detail());
        if (check_consumed(buf, rc, pos, &prev, why, sizeof why) != 0)
            pu_child_die(&st->report, 6, "consumer (%s): %s", mode ? "peek" : "recv", why);
        record(prev, mode);
        if (mode == RECORD_PEEK) {
            pu_delay_ns(2000);
            rc = shmkit_ring_release(r);
            __atomic_store_n(&st->in_window, 0, __ATOMIC_RELEASE);
            if (rc != 0)
                pu_child_die(&st->report, 5, "consumer: release: %s", shmkit_strerror(rc));
        }
    }
}

START_TEST(test_block_consumer_killed)
{
    int backend = tu_backend_of(_i);
    unsigned cycle, kills = CONSUMER_KILLS * pu_scale(), in_window = 0;
    unsigned char buf[4096];
    char why[200];
    shmkit_ring *w, *c;
    uint64_t rng, prev = UINT64_MAX, sent;
    pid_t writer;
    int rc;

    st = state_new(backend, 400 + (uint64_t)_i);
    rng = st->seed;
    st->policy = SHMKIT_RING_BLOCK;
    st->max_message = 300;
    w = tu_ring_create(st->spec, 4096, st->max_message, SHMKIT_RING_BLOCK, 0, SHMKIT_EXCL);
    shmkit_ring_close(w);
    writer = pu_spawn(steady_writer, NULL, CHILD_ALARM_S);
    wait_ready(1);
    for (cycle = 1; cycle <= kills; cycle++) {
        unsigned mode = (unsigned)tu_below(&rng, 2);
        uint64_t before = st->last_record;

        kill_one(killed_consumer, (void *)(uintptr_t)mode, &rng, cycle);
        in_window += st->in_window;
        st->in_window = 0;
        /* Each recv consumer killed since the last record may have taken
         * one message it could not record. */
        if (st->last_record != before)
            st->skips_allowed = 0;
        st->skips_allowed += mode != RECORD_PEEK;
    }
    /* The next consumer takes over at once and gets the rest. */
    __atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
    PU_ASSERT(shmkit_ring_open(&c, st->spec, 0) == 0, "consumer take-over: %s",
                  shmkit_error_detail());
    assert_exited_cleanly(writer, "writer");
    sent = st->writer_sent;
    for (;;) {
        uint64_t pos = shmkit_ring_position(c);
        rc = shmkit_ring_recv(c, buf, sizeof buf, 0);
        if (rc == -EAGAIN)
            break;
        PU_ASSERT(rc >= 0, "final consumer: %s", shmkit_strerror(rc));
        PU_ASSERT(check_consumed(buf, rc, pos, &prev, why, sizeof why) == 0,
                      "final consumer (seed %llu): %s", (unsigned long long)tu_seed(), why);
        record(prev, 0);
    }
    assert_no_failures();
    PU_ASSERT(shmkit_ring_position(c) == sent, "consumer ends at %llu, the writer sent %llu",
                  (unsigned long long)shmkit_ring_position(c), (unsigned long long)sent);
    shmkit_ring_close(c);
    printf("# block consumer %s: %u consumers killed (%u between peek and release), %llu "
           "messages, %llu delivered again, %llu taken by a killed recv consumer\n",
           tu_backend_name(backend), kills, in_window, (unsigned long long)sent,
           (unsigned long long)st->duplicates, (unsigned long long)st->skips);
    pu_cleanup();
    state_free(st);
    tu_assert_no_leftovers();
}
END_TEST

/* ------------------------------------------------------------------ */
/* Leases held by dead processes                                       */
/* ------------------------------------------------------------------ */

/* A segment of the POSIX backend without a lock descriptor, whose header
 * is H (the lease words only, no object): the lease protocol as it runs
 * where there are no lease locks. */
static void lockless_seg(struct sk_seg *seg, struct sk_header *h)
{
    memset(seg, 0, sizeof *seg);
    memset(h, 0, sizeof *h);
    seg->spec.backend = SHMKIT_BACKEND_POSIX;
    seg->base = h;
    seg->size = sizeof *h;
    seg->shmid = -1;
    seg->lock_fd = -1;
}

/* A lease recorded for this very pid but with another start token was
 * left by an earlier process that had the same pid (pids are reused): it
 * is dead, and its lease is taken over. */
START_TEST(test_lease_of_earlier_process_with_my_pid)
{
    struct sk_header h;
    struct sk_seg seg;
    uint32_t mine = shmkit__self_token();

    if (mine == 0)
        return; /* start times unknown here: a pid is all there is */
    lockless_seg(&seg, &h);
    sk_store(&h.lease_pid, (uint32_t)getpid(), SK_RELAXED);
    sk_store(&h.lease_token, mine + 1 != 0 ? mine + 1 : 2, SK_RELAXED);
    sk_store(&h.lease_pidns, shmkit__pidns_self(), SK_RELAXED);
    ck_assert_int_eq(shmkit__lease_acquire(&seg, SK_LEASE_WRITER, 0), 0);
    ck_assert_uint_eq(sk_load(&h.lease_token, SK_RELAXED), mine);
    /* Held by this process now: a second acquisition is refused. */
    ck_assert_int_eq(shmkit__lease_acquire(&seg, SK_LEASE_WRITER, 0), SHMKIT_EBUSY);
    shmkit__lease_release(&seg, SK_LEASE_WRITER, 0);
    ck_assert_uint_eq(sk_load(&h.lease_pid, SK_RELAXED), 0);
}
END_TEST

/* A dead holder's lease goes to the next process even when the holder
 * died between its stores (pid set, token still 0). */
START_TEST(test_lease_of_holder_killed_mid_acquire)
{
    struct {
        struct sk_header h;
        struct sk_consumer consumer; /* entry 0 of the table */
    } h;
    struct sk_seg seg;
    int status;
    pid_t child = tu_fork();

    if (child == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    lockless_seg(&seg, &h.h);
    memset(&h.consumer, 0, sizeof h.consumer);
    seg.size = sizeof h;
    sk_store(&h.consumer.pid, (uint32_t)child, SK_RELAXED);
    sk_store(&h.consumer.token, 0, SK_RELAXED);
    ck_assert_int_eq(shmkit__lease_acquire(&seg, SK_LEASE_CONSUMER, 0), 0);
    ck_assert_uint_eq(sk_load(&h.consumer.pid, SK_RELAXED), (uint32_t)getpid());
    shmkit__lease_release(&seg, SK_LEASE_CONSUMER, 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Lease holders in another PID namespace, zombies, forked children     */
/* ------------------------------------------------------------------ */

#define NS_WORDS 1000 /* the u32[1000] slot */
#define NS_RECORD (NS_WORDS * sizeof(uint32_t))
#define NS_SKIP 77    /* exit status of the middle child: no namespace */

/* A process of a new PID namespace (Linux: unshare(CLONE_NEWPID) moves
 * only the children of its caller, so it is a grandchild): INNER is its
 * pid as seen here, MIDDLE the child that waits for it and exits with its
 * status, READY the read end of a pipe on which it reports. */
struct ns_proc {
    pid_t middle, inner;
    int ready;
};

/* Start FN(SPEC, REPORT_FD) in a new PID namespace.  0, or NS_SKIP
 * (reason printed) where this system will not make one, or this build
 * does not tell namespaces apart (the portable profile, like the BSDs). */
static int ns_start(struct ns_proc *np, void (*fn)(const char *, int), const char *spec)
{
    int pid_pipe[2], report[2], status;
    pid_t inner = -1;

    if (shmkit__pidns_self() == 0) {
        printf("# SKIP PID namespaces: this build does not tell them apart "
               "(no /proc, or the portable profile)\n");
        return NS_SKIP;
    }

    ck_assert_int_eq(pipe(pid_pipe), 0);
    ck_assert_int_eq(pipe(report), 0);
    np->middle = tu_fork();
    if (np->middle == 0) {
        close(pid_pipe[0]);
        close(report[0]);
#if defined(__linux__) && defined(CLONE_NEWPID)
        if (unshare(CLONE_NEWPID) == 0)
            inner = fork();
#endif
        if (inner == 0)
            fn(spec, report[1]); /* pid 1 of the new namespace */
        close(report[1]);
        if (write(pid_pipe[1], &inner, sizeof inner) != (ssize_t)sizeof inner || inner < 0)
            _exit(NS_SKIP);
        _exit(waitpid(inner, &status, 0) == inner && WIFEXITED(status) ? WEXITSTATUS(status)
                                                                         : 3);
    }
    close(pid_pipe[1]);
    close(report[1]);
    np->ready = report[0];
    if (read(pid_pipe[0], &np->inner, sizeof np->inner) != (ssize_t)sizeof np->inner ||
        np->inner < 0) {
        printf("# SKIP PID namespaces: unshare(CLONE_NEWPID) is not permitted here "
               "(needs root and a kernel with PID namespaces)\n");
        waitpid(np->middle, &status, 0);
        close(pid_pipe[0]);
        close(np->ready);
        return NS_SKIP;
    }
    close(pid_pipe[0]);
    return 0;
}

/* The inner process's report (a character), 0 if it said nothing. */
static char ns_report(const struct ns_proc *np)
{
    char c = 0;

    return read(np->ready, &c, 1) == 1 ? c : 0;
}

/* Reap the middle child, which exits with the inner process's status. */
static int ns_join(struct ns_proc *np)
{
    int status = 0;

    ck_assert_int_eq(waitpid(np->middle, &status, 0), np->middle);
    close(np->ready);
    return status;
}

/* Kill the inner process (and so its namespace), reap the middle child. */
static int ns_stop(struct ns_proc *np)
{
    kill(np->inner, SIGKILL);
    return ns_join(np);
}

/* Fill every word of a record with V. */
static void fill_record(uint32_t *rec, uint32_t v)
{
    size_t i;

    for (i = 0; i < NS_WORDS; i++)
        rec[i] = v;
}

static int record_torn(const uint32_t *rec)
{
    size_t i;

    for (i = 1; i < NS_WORDS; i++)
        if (rec[i] != rec[0])
            return 1;
    return 0;
}

/* The inner process: become the writer of SPEC, report 'y' (or 'n' and
 * exit), then write records of its own pattern until killed. */
static void ns_writer(const char *spec, int report)
{
    uint32_t rec[NS_WORDS];
    shmkit_slot *s;
    uint32_t i;
    char c;

    c = shmkit_slot_open(&s, spec, SHMKIT_WRITE) == 0 ? 'y' : 'n';
    if (write(report, &c, 1) != 1 || c != 'y')
        _exit(1);
    for (i = 0;; i++) {
        fill_record(rec, 0x10000000u | (i & 0xffffffu));
        shmkit_slot_write(s, rec, sizeof rec);
    }
}

/* The inner process: try to become the writer of SPEC while another
 * process (outside) is; exit 0 if refused with SHMKIT_EBUSY. */
static void ns_second_writer(const char *spec, int report)
{
    shmkit_slot *s;
    int rc = shmkit_slot_open(&s, spec, SHMKIT_WRITE);
    char c = rc == SHMKIT_EBUSY ? 'b' : rc == 0 ? 'y' : 'e';

    if (write(report, &c, 1) != 1)
        _exit(2);
    _exit(c == 'b' ? 0 : 1);
}

static shmkit_slot *ns_create_slot(int backend, char *spec)
{
    uint32_t rec[NS_WORDS];
    shmkit_slot *s;

    tu_spec(backend, spec);
    ck_assert_int_eq(shmkit_slot_create(&s, spec, NULL, NS_RECORD, 0600, SHMKIT_EXCL), 0);
    fill_record(rec, 0);
    ck_assert_int_eq(shmkit_slot_write(s, rec, sizeof rec), 0);
    return s;
}

/* A writer in another PID namespace is alive to us: a second writer here
 * is refused (else the two would tear records: the issue saw 20 % of the
 * reads of a u32[1000] slot torn) and shmkit_info calls it alive.
 * Once it is killed its lease is taken over (the kernel dropped its lease
 * lock, or, System V, its attachment). */
START_TEST(test_pidns_writer_inside)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct ns_proc np;
    struct shmkit_info info;
    shmkit_slot *creator = ns_create_slot(backend, spec), *second = NULL, *reader = NULL;
    uint32_t got[NS_WORDS];
    unsigned i;
    int rc;

    shmkit_slot_close(creator);
    if (ns_start(&np, ns_writer, spec) == NS_SKIP) {
        shmkit_unlink(spec);
        return;
    }
    ck_assert_int_eq(ns_report(&np), 'y');
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    rc = shmkit_slot_open(&second, spec, SHMKIT_WRITE);
    if (rc == 0) {
        shmkit_slot_close(second);
        ck_abort_msg("%s: a second writer got the lease of a live writer in another PID "
                     "namespace", tu_backend_name(backend));
    }
    ck_assert_int_eq(rc, SHMKIT_EBUSY);
    ck_assert_msg(strstr(shmkit_error_detail(), "another PID namespace") != NULL, "%s",
                  shmkit_error_detail());
    /* One writer: every record is whole. */
    for (i = 0; i < 2000; i++) {
        ck_assert_int_eq(shmkit_slot_read(reader, got, sizeof got, NULL), (int)sizeof got);
        ck_assert_msg(!record_torn(got), "torn record %u", i);
    }
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_alive, 1);
    ck_assert_uint_eq(info.other_pidns & SHMKIT_INFO_WRITER_OTHER_PIDNS,
                      SHMKIT_INFO_WRITER_OTHER_PIDNS);
    ns_stop(&np);
    /* Dead now.  POSIX (Linux): the kernel dropped its lease lock, the
     * lease is taken over at once.  System V has no such token: a holder
     * in another namespace counts as alive while any other process has the
     * segment attached (doc/SECURITY.md), here our reader. */
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    if (backend == SHMKIT_BACKEND_SYSV) {
        ck_assert_int_eq(info.writer_alive, 1);
        ck_assert_int_eq(shmkit_slot_open(&second, spec, SHMKIT_WRITE), SHMKIT_EBUSY);
        shmkit_slot_close(reader);
        reader = NULL;
        ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    }
    ck_assert_int_eq(info.writer_alive, 0);
    ck_assert_int_eq(shmkit_slot_open(&second, spec, SHMKIT_WRITE), 0);
    shmkit_slot_close(second);
    if (reader != NULL)
        shmkit_slot_close(reader);
    tu_finish(spec);
}
END_TEST

/* And the other way round: a writer here is alive to a process in a new
 * PID namespace, where our pid names nobody (or somebody else). */
START_TEST(test_pidns_writer_outside)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct ns_proc np;
    shmkit_slot *writer = ns_create_slot(backend, spec);
    int status;

    if (ns_start(&np, ns_second_writer, spec) == NS_SKIP) {
        shmkit_slot_close(writer);
        shmkit_unlink(spec);
        return;
    }
    ck_assert_int_eq(ns_report(&np), 'b');
    status = ns_join(&np);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    shmkit_slot_close(writer);
    tu_finish(spec);
}
END_TEST

/* A writer killed but not reaped (a zombie) can never write again: its
 * lease is taken over at once, and shmkit_info calls it dead. */
START_TEST(test_zombie_writer)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct shmkit_info info;
    shmkit_slot *s = ns_create_slot(backend, spec), *w;
    int fds[2], status;
    char c = 0;
    pid_t child;

    shmkit_slot_close(s);
    if (shmkit__self_token() == 0) {
        printf("# SKIP zombies: this build cannot read process states "
               "(no /proc, or the portable profile)\n");
        ck_assert_int_eq(shmkit_unlink(spec), 0);
        return;
    }
    ck_assert_int_eq(pipe(fds), 0);
    child = tu_fork();
    if (child == 0) {
        c = shmkit_slot_open(&w, spec, SHMKIT_WRITE) == 0 ? 'y' : 'n';
        if (write(fds[1], &c, 1) == 1)
            pause();
        _exit(1);
    }
    ck_assert_int_eq(read(fds[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    ck_assert_int_eq(kill(child, SIGKILL), 0);
    /* Not reaped: wait until it is a zombie (waitid with WNOWAIT). */
    {
        siginfo_t si;

        memset(&si, 0, sizeof si);
        ck_assert_int_eq(waitid(P_PID, (id_t)child, &si, WEXITED | WNOWAIT), 0);
    }
    ck_assert_int_eq(shmkit__proc_alive((long)child, 0), 0);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_pid, (long)child);
    ck_assert_int_eq(info.writer_alive, 0);
    ck_assert_int_eq(shmkit_slot_open(&w, spec, SHMKIT_WRITE), 0);
    shmkit_slot_close(w);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    close(fds[0]);
    close(fds[1]);
    tu_finish(spec);
}
END_TEST

/* A daemon's fork-and-exit: the writer forks, the child lives on with the
 * inherited handle and the writer dies.  The child must not keep the
 * writer's lease alive (its copy of the lock descriptor is closed by the
 * library's fork child handler, which has run once the child's fork()
 * returned): the lease goes to the next writer. */
START_TEST(test_fork_child_keeps_no_lease)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    shmkit_slot *s = ns_create_slot(backend, spec), *w;
    int fds[2], status;
    pid_t holder, daemon = -1;

    shmkit_slot_close(s);
    ck_assert_int_eq(pipe(fds), 0);
    holder = tu_fork();
    if (holder == 0) {
        if (shmkit_slot_open(&w, spec, SHMKIT_WRITE) != 0)
            _exit(1);
        daemon = fork();
        if (daemon == 0) {
            /* The daemon: lives on with the handle.  Its fork() has
             * returned, so the child handler has run: say so. */
            daemon = getpid();
            if (write(fds[1], &daemon, sizeof daemon) != (ssize_t)sizeof daemon)
                _exit(2);
            close(fds[1]);
            pause();
            _exit(0);
        }
        _exit(0); /* the writer dies without closing its handle */
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], &daemon, sizeof daemon), (ssize_t)sizeof daemon);
    ck_assert_int_eq(waitpid(holder, &status, 0), holder);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ck_assert_msg(shmkit_slot_open(&w, spec, SHMKIT_WRITE) == 0, "%s: %s",
                  tu_backend_name(backend), shmkit_error_detail());
    shmkit_slot_close(w);
    kill(daemon, SIGKILL);
    close(fds[0]);
    tu_finish(spec);
}
END_TEST

#ifdef SHMKIT_TEST_HOOKS
static int sem_set_exists(int semid)
{
    union {
        int val;
        struct semid_ds *buf;
        unsigned short *array;
    } arg;
    struct semid_ds ds;

    arg.buf = &ds;
    return semctl(semid, 0, IPC_STAT, arg) == 0;
}

/* A creator killed after it made its wait resources and before it
 * published the header: removing the half-created segment (shmkit rm,
 * rm --stale) removes its System V semaphore set too (sysv-sem builds;
 * the other mechanisms have nothing outside the segment). */
START_TEST(test_half_created_leaks_no_semaphores)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct shmkit_info info;
    struct sk_spec parsed;
    struct sk_seg seg;
    const struct sk_header *h;
    int status, mech, semid;
    shmkit_slot *s;
    pid_t child;

    tu_spec(backend, spec);
    child = tu_fork();
    if (child == 0) {
        setenv("SHMKIT_TEST_SIMULATE", "creator-dies-before-publish", 1);
        shmkit_slot_create(&s, spec, NULL, 64, 0600, 0);
        _exit(1);
    }
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), SHMKIT_EHALFCREATED);
    ck_assert_int_eq(info.creator_alive, 0);
    ck_assert_int_eq(shmkit__spec_parse(spec, &parsed), 0);
    ck_assert_int_eq(shmkit__seg_open(&seg, &parsed, SK_SEG_READ, SK_HEADER_SIZE), 0);
    h = seg.base;
    mech = (int)h->wait_mech;
    semid = h->wait_semid;
    shmkit__seg_close(&seg);
    if (mech != SK_MECH_SYSV_SEM) {
        printf("# SKIP semaphore sets of half-created segments: this build waits with %s\n",
               shmkit__wait_mechanism_name(mech));
    } else {
        ck_assert_int_eq(sem_set_exists(semid), 1);
    }
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    ck_assert_msg(mech != SK_MECH_SYSV_SEM || !sem_set_exists(semid),
                  "%s: the semaphore set %d of a half-created segment was left behind",
                  tu_backend_name(backend), semid);
    tu_assert_no_leftovers();
}
END_TEST
#endif

static Suite *crash_suite(void)
{
    Suite *s = suite_create("crash");
    TCase *lease = tu_tcase(s, "lease"), *slots = tu_tcase(s, "slots"),
          *block = tu_tcase(s, "block"), *overwrite = tu_tcase(s, "overwrite"),
          *consumer = tu_tcase(s, "consumer");

    tcase_add_test(lease, test_lease_of_earlier_process_with_my_pid);
    tcase_add_test(lease, test_lease_of_holder_killed_mid_acquire);
    tcase_set_timeout(slots, 300);
    tcase_set_timeout(block, 300);
    tcase_set_timeout(overwrite, 300);
    tcase_set_timeout(consumer, 300);
    tu_add_backend_test(slots, test_slot_writer_killed, 2);
    tu_add_backend_test(block, test_block_writer_killed, 1);
    tu_add_backend_test(overwrite, test_overwrite_writer_killed, 1);
    tu_add_backend_test(consumer, test_block_consumer_killed, 1);
    tu_add_backend_test(lease, test_pidns_writer_inside, 1);
    tu_add_backend_test(lease, test_pidns_writer_outside, 1);
    tu_add_backend_test(lease, test_zombie_writer, 1);
    tu_add_backend_test(lease, test_fork_child_keeps_no_lease, 1);
#ifdef SHMKIT_TEST_HOOKS
    tu_add_backend_test(lease, test_half_created_leaks_no_semaphores, 1);
#endif
    return s;
}

int main(void)
{
    pu_announce_seed("check_crash");
    return tu_run(crash_suite());
}
