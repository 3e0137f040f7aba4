/*
 * testutil.h - the test-utility library of the Check suites: running a
 * suite (TAP on stdout), test cases whose fixture removes the segments a
 * test created even when it fails, the backend loop (a backend this build
 * lacks reports SKIP), unique segment names, waiting for children, and
 * one seeded pseudo-random generator.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_TESTUTIL_H
#define SHMKIT_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shmkit.h"

/* ---- running a suite -------------------------------------------------- */

/* Run SUITE with TAP on stdout (one line per test, for automake's
 * tap-driver), a "# SKIP" line for every test left out for a missing
 * backend, and the seed as a TAP comment when a test failed.  Returns the
 * process exit status. */
int tu_run(Suite *suite);

/* A test case NAME added to SUITE, with the segment fixture: every name
 * that tu_spec gave out during a test (in the test process or its
 * children) is removed after the test, also when it failed.  A passing
 * test that left a segment behind fails (in Check's default fork mode). */
TCase *tu_tcase(Suite *suite, const char *name);

/* ---- the backend loop -------------------------------------------------- */

/* Loop index I of a backend test: I = variant * TU_NBACKENDS + backend
 * index (0 POSIX, 1 System V). */
#define TU_NBACKENDS 2

/* Add TEST to TC (made by tu_tcase) once per backend this build has and
 * per variant 0 .. VARIANTS-1; for each backend it lacks, one "# SKIP" line
 * per variant instead. */
void tu_add_backend_test(TCase *tc, const TTest *test, int variants);
/* The backend (enum shmkit_backend) of loop index I. */
int tu_backend_of(int i);
/* The variant of loop index I. */
#define tu_variant_of(i) ((i) / TU_NBACKENDS)
/* "posix" or "sysv", for messages. */
const char *tu_backend_name(int backend);
/* Number of the backends this build has: fills BACKENDS (size 2). */
int tu_backends(int *backends);

/* ---- segment names ----------------------------------------------------- */

/* A POSIX spec "/skt.PID.N" unique to this process and call.  BUF needs 32
 * bytes.  Returns BUF.  The name is removed after the test (tu_tcase). */
char *tu_posix_spec(char *buf);
/* A SysV spec "sysv:0xKEY" whose key is unique to this process and call
 * (keys 0x40000000 + ((pid & 0xfffff) << 8) + N, below 0x50000000).  BUF needs
 * 32 bytes.  Removed after the test, like tu_posix_spec. */
char *tu_sysv_spec(char *buf);
/* tu_posix_spec or tu_sysv_spec by BACKEND (enum shmkit_backend). */
char *tu_spec(int backend, char *buf);

/* shmkit_ring_create with the options as arguments, returning its
 * result: for the tests that check the error. */
struct shmkit_ring;
int tu_ring_create_rc(struct shmkit_ring **ringp, const char *spec, size_t capacity,
                      size_t max_message, int policy, unsigned mode, unsigned flags);

/* Fail the test unless no segment created by tu_*_spec in this process is
 * left behind. */
void tu_assert_no_leftovers(void);
/* The end of a test: shmkit_unlink must remove each spec given, then
 * tu_assert_no_leftovers. */
#define tu_finish(...) tu_finish_specs(__VA_ARGS__, (const char *)NULL)
void tu_finish_specs(const char *spec, ...);
/* Remove every segment still present under a name tu_spec gave out since
 * the test began (the fixture's clean-up; for tests that must clean up
 * before their end).  Returns how many there were. */
int tu_remove_names(void);

/* The System V semaphore set SPEC's header names (sysv-sem builds), or
 * -1; and its removal (nothing for -1).  For a test that takes a segment
 * away behind the library's back (truncation below the header, ipcrm):
 * it reads the id first, since shmkit_unlink cannot find the set later. */
int tu_semset_of(const char *spec);
void tu_remove_semset(int semid);

/* ---- segments that must be created -------------------------------------- */

/* shmkit_slot_create, shmkit_ring_create and shmkit_ring_open, failing
 * the test with the error and its detail.  The suites create rings through
 * tu_ring_create and tu_ring_create_rc only, so that a change of
 * shmkit_ring_create's arguments has one call to fix. */
shmkit_slot *tu_slot_create(const char *spec, const char *layout, size_t record_size,
                            unsigned mode, unsigned flags);
shmkit_ring *tu_ring_create(const char *spec, size_t capacity, size_t max_message, int policy,
                            unsigned mode, unsigned flags);
shmkit_ring *tu_ring_open(const char *spec, unsigned flags);
/* A new block ring (SHMKIT_EXCL) with CONSUMERS consumer entries. */
shmkit_ring *tu_fanout_create(const char *spec, size_t capacity, unsigned consumers);

/* ---- children ---------------------------------------------------------- */

/* In a forked child, in place of ck_assert (which a child must not use
 * after fork without the fork mode): exit with the line of the first
 * failed check (mod 250, + 1), which tu_wait_ok(pid, CHILD) reports. */
#define CHILD "child (exit N: see the CHILD_CHECK near that line)"
#define CHILD_CHECK(cond)                      \
    do {                                       \
        if (!(cond))                           \
            _exit(__LINE__ % 250 + 1);         \
    } while (0)

/* tu_wait's answer for a child that did not end in time (it was killed
 * with SIGKILL and reaped). */
#define TU_TIMED_OUT (-2)

/* fork() after flushing stdio; fails the test when fork fails. */
pid_t tu_fork(void);
/* Reap child PID and return its wait status: -1 if PID is not a child,
 * TU_TIMED_OUT if it ran longer than TIMEOUT_MS (< 0: no limit). */
int tu_wait(pid_t pid, int timeout_ms);
/* "exited 0", "killed by signal 9 (Killed)", "still running after the
 * time-out (killed)", ... for messages. */
const char *tu_status_text(int status, char *buf, size_t len);
/* Reap PID (no time limit) and fail the test unless it exited with status
 * 0; WHAT names the child in the message. */
void tu_wait_ok(pid_t pid, const char *what);
/* Reap PID: its exit status, or 128 + the signal that ended it. */
int tu_wait_exit_code(pid_t pid);

/* ---- memory shared with children ----------------------------------------- */

/* SIZE zeroed bytes shared with the children forked after the call; the
 * test fails if there is no memory. */
void *tu_shared_alloc(size_t size);
void tu_shared_free(void *p, size_t size);

/* ---- pseudo-random numbers ---------------------------------------------- */

/* The run's seed: $SHMKIT_TEST_SEED (or $SHMKIT_CRASH_SEED), else chosen
 * from the time and pid.  tu_run prints it when a test failed. */
uint64_t tu_seed(void);
/* A mixing function (splitmix64's finalizer): a hash, not a generator. */
uint64_t tu_mix(uint64_t x);
/* A generator state for stream STREAM of the run's seed (never 0). */
uint64_t tu_rng_seed(uint64_t stream);
/* xorshift64*: STATE must not be 0 (tu_rng_seed takes care of that). */
uint64_t tu_rand(uint64_t *state);
/* 0 .. N-1 (N > 0). */
uint64_t tu_below(uint64_t *state, uint64_t n);

/* ---- a second uid ------------------------------------------------------ */

/* The uid (and gid) tests switch to, as root, for a second user. */
#define TU_NOBODY 65534
/* End the test with a "# SKIP" line (naming WHAT) unless it runs as root,
 * which can switch to TU_NOBODY. */
#define TU_ROOT_OR_SKIP(what)                                                      \
    do {                                                                           \
        if (geteuid() != 0) {                                                      \
            printf("# SKIP %s: needs a second uid (run as root to switch to %d)\n", \
                   what, TU_NOBODY);                                               \
            return;                                                                \
        }                                                                          \
    } while (0)

/* ---- time -------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t tu_now_ns(void);

#endif
