/*
 * check_follow.c - read-only followers (issue 13, section 3): a reader
 * that may not write the segment sleeps in the kernel on the data word,
 * and the writer wakes it by its gap clock (src/wait.c, "Followers").
 *
 * The wait layer's follower path first, on a word in an anonymous shared
 * mapping (no second uid needed); then the public API, with a follower
 * that really has no write permission: a child that switches to uid
 * 65534 and opens root's 0644 segment read-only (skipped unless root).
 * The follower's progress comes back through a shared anonymous mapping,
 * which it may still write.  Every wait has a finite timeout: a lost
 * wake-up fails, never hangs.  The "burst then silence" rounds are the
 * shape of a lost wake-up: the last publication of a fast burst is the
 * one whose wake the writer may skip.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "internal.h"
#include "segment.h"
#include "wait.h"
#include "testutil.h"

#define MS 1000000ull
#define ROUNDS 300u
#define ROUND_TIMEOUT_MS 5000     /* a lost wake-up fails after this */
#define ASLEEP_TIMEOUT_MS 3000
/* The public API's followers sleep in idle slices (SK_IDLE_SLICE_MS, 500
 * ms), whose end would also find a publication whose wake-up was lost:
 * a round must end well before. */
#define PROMPT_MS 300

/* What a follower child and the parent share. */
struct follow_shared {
    sk_atomic_u32 word;     /* the data word (wait-layer tests) */
    sk_atomic_u32 waiters;  /* its wake request, which nobody asks in */
    sk_atomic_u32 seen;     /* the newest value the follower got */
    sk_atomic_u32 ready;    /* the follower is set up */
    sk_atomic_u32 failed;   /* the follower's error, if any */
};

static struct follow_shared *sh;

static uint32_t load(sk_atomic_u32 *p)
{
    return sk_load(p, SK_ACQUIRE);
}

/* Wait up to TIMEOUT_MS for *P to reach VALUE (or for the follower to
 * fail): 1 if it did. */
static int await_value(sk_atomic_u32 *p, uint32_t value, int timeout_ms)
{
    uint64_t end = tu_now_ns() + (uint64_t)timeout_ms * MS;

    while (load(p) != value && load(&sh->failed) == 0) {
        if (tu_now_ns() > end)
            return 0;
        shmkit__sleep_ns(20000);
    }
    return load(p) == value;
}

/* Spin for about NS nanoseconds. */
static void spin_ns(uint64_t ns)
{
    uint64_t end = tu_now_ns() + ns;

    while (tu_now_ns() < end)
        ;
}

#if defined(__linux__) && defined(SYS_futex)
/* 1 once PID sleeps in the kernel in a futex call (/proc/PID/stat state
 * 'S', /proc/PID/syscall naming SYS_futex) within TIMEOUT_MS; 0 if it
 * never did; -1 if /proc cannot tell. */
static int asleep_on_futex(pid_t pid, int timeout_ms)
{
    uint64_t end = tu_now_ns() + (uint64_t)timeout_ms * MS;
    char path[64], buf[512];

    do {
        FILE *f;
        long nr = -1;
        char state = '?';
        const char *p;

        snprintf(path, sizeof path, "/proc/%ld/syscall", (long)pid);
        if ((f = fopen(path, "r")) == NULL)
            return -1;
        if (fscanf(f, "%ld", &nr) != 1)
            nr = -1;
        fclose(f);
        snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
        if ((f = fopen(path, "r")) == NULL)
            return -1;
        if (fgets(buf, sizeof buf, f) != NULL && (p = strrchr(buf, ')')) != NULL &&
            p[1] == ' ')
            state = p[2];
        fclose(f);
        if (nr == SYS_futex && state == 'S')
            return 1;
        shmkit__sleep_ns(1000000);
    } while (tu_now_ns() < end);
    return 0;
}
#else
static int asleep_on_futex(pid_t pid, int timeout_ms)
{
    (void)pid;
    (void)timeout_ms;
    return -1;
}
#endif

/* Whether this build's mechanism lets followers sleep in the kernel (a
 * --with-wait=sysv-sem or poll build leaves them napping). */
static int build_wakes_followers(void)
{
    struct sk_waitset probe;

    shmkit__waitset_attach(&probe, shmkit__wait_build_mechanism(), -1);
    shmkit__waitset_set_followers(&probe, 1);
    return probe.followers;
}

/* Check that the follower PID falls asleep in the kernel (when /proc can
 * tell, and where the mechanism lets it). */
static void assert_asleep(pid_t pid, const char *what)
{
    int asleep;

    if (!build_wakes_followers()) {
        printf("# %s: followers nap with the %s mechanism\n", what,
               shmkit__wait_mechanism_name(shmkit__wait_build_mechanism()));
        return;
    }
    asleep = asleep_on_futex(pid, ASLEEP_TIMEOUT_MS);
    if (asleep < 0)
        printf("# %s: /proc cannot tell whether the follower sleeps\n", what);
    else
        ck_assert_msg(asleep == 1, "%s: the follower did not sleep in a futex call", what);
}

/* ---- the mode rule ------------------------------------------------------- */

START_TEST(test_modes_with_followers)
{
    static const struct {
        unsigned mode;
        int followers;
    } cases[] = {
        {0600, 0}, {0660, 0}, {0666, 0}, {0700, 0}, {0200, 0}, {0000, 0},
        {0644, 1}, {0640, 1}, {0604, 1}, {0664, 1}, {0646, 1}, {0400, 1}, {0444, 1},
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sk_seg seg;

        memset(&seg, 0, sizeof seg);
        seg.mode = cases[i].mode;
        ck_assert_msg(sk_seg_has_followers(&seg) == cases[i].followers, "mode %04o",
                      cases[i].mode);
    }
}
END_TEST

/* ---- the wait layer ------------------------------------------------------ */

/* The build's mechanism, if followers can sleep with it; else the test is
 * skipped (returns 0). */
static int follower_waitset(struct sk_waitset *ws)
{
    int mech = shmkit__wait_build_mechanism();

    ck_assert_int_eq(shmkit__waitset_create_with(ws, mech, 0600), 0);
    shmkit__waitset_set_followers(ws, 1);
    if (!ws->followers) {
        printf("# SKIP followers nap with the %s mechanism\n", shmkit__wait_mechanism_name(mech));
        shmkit__waitset_destroy(ws);
        return 0;
    }
    return 1;
}

/* The follower child: follow the word until it reaches LAST, in MODE. */
static int follow_word(struct sk_waitset *ws, uint32_t last, int mode)
{
    uint32_t seen = load(&sh->word);

    sk_store(&sh->ready, 1, SK_RELEASE);
    while (seen != last) {
        int rc = shmkit__wait_changed(ws, 0, &sh->word, seen, NULL, ROUND_TIMEOUT_MS, mode);

        if (rc != 0 && rc != -EINTR) {
            sk_store(&sh->failed, (uint32_t)-rc, SK_RELEASE);
            return 1;
        }
        seen = load(&sh->word);
        sk_store(&sh->seen, seen, SK_RELEASE);
    }
    return 0;
}

/* The writer's side of one publication: followers cannot ask, so only
 * the gap clock wakes them. */
static void publish(struct sk_waitset *ws, uint32_t value)
{
    sk_store(&sh->word, value, SK_RELEASE);
    shmkit__notify(ws, 0, &sh->word, &sh->waiters);
}

/* Bursts of 1..16 publications at random gaps (none, or up to ~80 us:
 * both sides of the writer's 40 us gap), each followed by silence until
 * the follower has the last one.  Every few rounds the writer first waits
 * until the follower sleeps in the kernel. */
static void bursts_then_silence(int mode)
{
    struct sk_waitset ws;
    uint64_t rng = tu_rng_seed(17), gaps = tu_rng_seed(18);
    uint32_t value = 0, r, last = 0;
    pid_t pid;

    if (!follower_waitset(&ws))
        return;
    sh = tu_shared_alloc(sizeof *sh);
    for (r = 0; r < ROUNDS; r++)
        last += 1 + (uint32_t)tu_below(&rng, 16);
    rng = tu_rng_seed(17);
    pid = tu_fork();
    if (pid == 0)
        _exit(follow_word(&ws, last, mode));
    ck_assert(await_value(&sh->ready, 1, ROUND_TIMEOUT_MS));
    for (r = 0; r < ROUNDS; r++) {
        uint32_t n = 1 + (uint32_t)tu_below(&rng, 16), i;

        if (r % 50 == 0)
            assert_asleep(pid, "idle follower");
        for (i = 0; i < n; i++) {
            uint64_t gap = tu_below(&gaps, 4) == 0 ? 0 : tu_below(&gaps, 80000);

            spin_ns(gap);
            publish(&ws, ++value);
        }
        ck_assert_msg(await_value(&sh->seen, value, ROUND_TIMEOUT_MS),
                      "round %u: the follower has %u, not %u (error %u): a lost wake-up", r,
                      load(&sh->seen), value, load(&sh->failed));
    }
    ck_assert_int_eq(tu_wait_exit_code(pid), 0);
    shmkit__waitset_destroy(&ws);
    tu_shared_free(sh, sizeof *sh);
    sh = NULL;
}

START_TEST(test_follower_bursts_adaptive)
{
    bursts_then_silence(SK_WAIT_MODE_ADAPTIVE);
}
END_TEST

START_TEST(test_follower_bursts_block)
{
    bursts_then_silence(SK_WAIT_MODE_BLOCK);
}
END_TEST

/* What the writer pays: nothing without followers and without requests;
 * with followers, a wake-up for its first two publications (there is no
 * publication before the last yet), whatever the timing. */
START_TEST(test_writer_wakes_by_gap_clock)
{
    struct sk_waitset ws;
    sk_atomic_u32 word = 0, waiters = 0;
    uint32_t before, i;

    ck_assert_int_eq(shmkit__waitset_create_with(&ws, shmkit__wait_build_mechanism(), 0600), 0);
    shmkit__waitset_set_followers(&ws, 0);
    before = sk_load(&shmkit__wait_stats.wakes, SK_RELAXED);
    for (i = 1; i <= 100; i++) {
        sk_store(&word, i, SK_RELEASE);
        shmkit__notify(&ws, 0, &word, &waiters);
    }
    ck_assert_uint_eq(sk_load(&shmkit__wait_stats.wakes, SK_RELAXED), before);
    shmkit__waitset_set_followers(&ws, 1);
    if (ws.followers) {
        for (i = 1; i <= 2; i++) {
            sk_store(&word, 100 + i, SK_RELEASE);
            shmkit__notify(&ws, 0, &word, &waiters);
            ck_assert_uint_eq(sk_load(&shmkit__wait_stats.wakes, SK_RELAXED), before + i);
        }
    }
    shmkit__waitset_destroy(&ws);
    /* Mechanisms that cannot wake by address leave followers napping. */
    shmkit__waitset_attach(&ws, SK_MECH_POLL, -1);
    shmkit__waitset_set_followers(&ws, 1);
    ck_assert_int_eq(ws.followers, 0);
}
END_TEST

/* ---- the public API, with a follower that may not write ------------------ */

/* The segment of a public-API test: a slot of two u32 (its value: the
 * version) or an overwrite ring of u32 messages (its value: the last
 * message). */
struct target {
    int is_ring;
    shmkit_slot *slot;
    shmkit_ring *ring;
    uint64_t value;
};

/* The writer's side: publish VALUE. */
static int publish_value(struct target *t, uint32_t value)
{
    uint32_t record[2] = {value, 0};

    if (t->is_ring)
        return shmkit_ring_send(t->ring, &value, sizeof value, 0);
    return shmkit_slot_write(t->slot, record, sizeof record);
}

/* The follower's side: wait for the next publication and take its value
 * into T->value.  0, or the error. */
static int next_value(struct target *t)
{
    uint32_t msg;
    int rc;

    if (t->is_ring) {
        rc = shmkit_ring_recv(t->ring, &msg, sizeof msg, ROUND_TIMEOUT_MS);
        if (rc == (int)sizeof msg)
            t->value = msg;
        return rc < 0 ? rc : 0;
    }
    rc = shmkit_slot_wait(t->slot, t->value, ROUND_TIMEOUT_MS);
    return rc == 0 ? shmkit_slot_version(t->slot, &t->value) : rc;
}

/* The follower child: as nobody, open SPEC read-only and follow it until
 * the value LAST, reporting each value in sh->seen. */
static int follow_segment(int is_ring, const char *spec, uint32_t last)
{
    struct target t;

    memset(&t, 0, sizeof t);
    t.is_ring = is_ring;
    if (setgid(TU_NOBODY) != 0 || setuid(TU_NOBODY) != 0)
        return 100;
    if (is_ring ? shmkit_ring_open(&t.ring, spec, SHMKIT_ANY_OWNER | SHMKIT_FROM_OLDEST)
                : shmkit_slot_open(&t.slot, spec, SHMKIT_ANY_OWNER))
        return 2;
    sk_store(&sh->ready, 1, SK_RELEASE);
    while (t.value < last) {
        int rc = next_value(&t);

        if (rc < 0 && rc != -EINTR) {
            sk_store(&sh->failed, (uint32_t)-rc, SK_RELEASE);
            return 3;
        }
        sk_store(&sh->seen, (uint32_t)t.value, SK_RELEASE);
    }
    if (is_ring)
        shmkit_ring_close(t.ring);
    else
        shmkit_slot_close(t.slot);
    return 0;
}

/* Root writes a 0644 slot or overwrite ring in bursts of 1..8
 * publications at random gaps, each followed by silence until the
 * follower, a child running as nobody, has the last one: within
 * PROMPT_MS, so that no wake-up was lost.  Every few rounds the follower
 * must first be asleep in the kernel. */
static void follower_rounds(int backend, int is_ring)
{
    uint64_t rng = tu_rng_seed(29 + (uint64_t)is_ring);
    uint32_t value = 0, r, last = ROUNDS * 8, before;
    struct target t;
    char spec[32];
    pid_t pid;

    memset(&t, 0, sizeof t);
    t.is_ring = is_ring;
    sh = tu_shared_alloc(sizeof *sh);
    if (is_ring)
        t.ring = tu_ring_create(tu_spec(backend, spec), 4096, 64, SHMKIT_RING_OVERWRITE, 0644,
                                SHMKIT_EXCL);
    else
        t.slot = tu_slot_create(tu_spec(backend, spec), "a:u32 b:u32", 0, 0644, SHMKIT_EXCL);
    pid = tu_fork();
    if (pid == 0)
        _exit(follow_segment(is_ring, spec, last));
    ck_assert(await_value(&sh->ready, 1, ROUND_TIMEOUT_MS));
    before = sk_load(&shmkit__wait_stats.wakes, SK_RELAXED);
    for (r = 0; r < ROUNDS; r++) {
        uint32_t n = 1 + (uint32_t)tu_below(&rng, 8), i;

        if (r % 60 == 0)
            assert_asleep(pid, is_ring ? "ring follower" : "slot follower");
        for (i = 0; i < n && value < last; i++) {
            spin_ns(tu_below(&rng, 2) == 0 ? 0 : tu_below(&rng, 80000));
            ck_assert_int_eq(publish_value(&t, ++value), 0);
        }
        ck_assert_msg(await_value(&sh->seen, value, PROMPT_MS),
                      "round %u: the follower has %u, not %u (error %u)", r, load(&sh->seen),
                      value, load(&sh->failed));
    }
    while (value < last)
        ck_assert_int_eq(publish_value(&t, ++value), 0);
    ck_assert_int_eq(tu_wait_exit_code(pid), 0);
    /* The writer did wake the follower (its first publications always do),
     * where the mechanism lets followers sleep; elsewhere they nap. */
    if (build_wakes_followers())
        ck_assert_uint_gt(sk_load(&shmkit__wait_stats.wakes, SK_RELAXED), before);
    else
        ck_assert_uint_eq(sk_load(&shmkit__wait_stats.wakes, SK_RELAXED), before);
    if (is_ring)
        shmkit_ring_close(t.ring);
    else
        shmkit_slot_close(t.slot);
    tu_shared_free(sh, sizeof *sh);
    sh = NULL;
    tu_finish(spec);
}

START_TEST(test_slot_follower_sleeps_and_wakes)
{
    TU_ROOT_OR_SKIP("read-only slot follower");
    follower_rounds(tu_backend_of(_i), 0);
}
END_TEST

START_TEST(test_ring_follower_sleeps_and_wakes)
{
    TU_ROOT_OR_SKIP("read-only ring follower");
    follower_rounds(tu_backend_of(_i), 1);
}
END_TEST

/* A writer of a segment no read-only reader can open makes no wake-up
 * call while nobody waits; one that followers can open wakes at its
 * first two publications (no publication before the last yet). */
START_TEST(test_writer_calls_by_mode)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    uint32_t record[2] = {0, 0}, before, i;
    shmkit_slot *slot;
    int wakes;

    slot = tu_slot_create(tu_spec(backend, spec), "a:u32 b:u32", 0, 0600, SHMKIT_EXCL);
    before = sk_load(&shmkit__wait_stats.wakes, SK_RELAXED);
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(shmkit_slot_write(slot, record, sizeof record), 0);
    ck_assert_uint_eq(sk_load(&shmkit__wait_stats.wakes, SK_RELAXED), before);
    shmkit_slot_close(slot);
    tu_finish(spec);

    /* Whether this build wakes followers at all. */
    wakes = build_wakes_followers();
    slot = tu_slot_create(tu_spec(backend, spec), "a:u32 b:u32", 0, 0644, SHMKIT_EXCL);
    before = sk_load(&shmkit__wait_stats.wakes, SK_RELAXED);
    for (i = 1; i <= 2; i++) {
        ck_assert_int_eq(shmkit_slot_write(slot, record, sizeof record), 0);
        ck_assert_uint_eq(sk_load(&shmkit__wait_stats.wakes, SK_RELAXED),
                          before + (wakes ? i : 0));
    }
    shmkit_slot_close(slot);
    tu_finish(spec);
}
END_TEST

static Suite *follow_suite(void)
{
    Suite *s = suite_create("follow");
    TCase *tc = tu_tcase(s, "follow");

    tcase_add_test(tc, test_modes_with_followers);
    tcase_add_test(tc, test_follower_bursts_adaptive);
    tcase_add_test(tc, test_follower_bursts_block);
    tcase_add_test(tc, test_writer_wakes_by_gap_clock);
    tu_add_backend_test(tc, test_slot_follower_sleeps_and_wakes, 1);
    tu_add_backend_test(tc, test_ring_follower_sleeps_and_wakes, 1);
    tu_add_backend_test(tc, test_writer_calls_by_mode, 1);
    tcase_set_timeout(tc, 120);
    return s;
}

int main(void)
{
    return tu_run(follow_suite());
}
