/*
 * peerutil.h - helpers of the crashing- and hostile-peer suites
 * (check_crash.c, check_hostile.c), on top of testutil.h (seeded PRNG,
 * shared memory, child waiting, segment clean-up): soak scale, kill
 * delays, failure reports from children, self-checking messages, and
 * children killed even when an assertion ends the test early.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_PEERUTIL_H
#define SHMKIT_PEERUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "testutil.h"

/* ---- the run -------------------------------------------------------- */

/* $SHMKIT_CRASH_SCALE (1 .. 100, default 1): soak runs multiply work. */
unsigned pu_scale(void);
/* Print "# NAME seed S ..." on stdout as a TAP comment, before the run. */
void pu_announce_seed(const char *suite);

/* ---- time ----------------------------------------------------------- */

/* Wait NS nanoseconds: spinning below 100 us (nanosleep's own overhead
 * would hide the short delays), sleeping above. */
void pu_delay_ns(uint64_t ns);
/* A random delay for killing a peer: often short (inside one call), some-
 * times zero (during start-up) and sometimes a few milliseconds. */
uint64_t pu_kill_delay_ns(uint64_t *rng);

/* ---- failures -------------------------------------------------------- */

/* Failure reports: children record the first failure's text here. */
struct pu_report {
    int failures;          /* count, updated atomically */
    char first[512];       /* text of the first failure */
};
/* Record a failure (printf-style); thread- and process-safe. */
void pu_fail(struct pu_report *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* pu_fail and _exit(CODE): for children, which never return into Check. */
void pu_child_die(struct pu_report *r, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

/* ---- clean-up ------------------------------------------------------- */

/* Children registered here are killed by pu_cleanup: at the normal end of
 * a test, before a PU_ASSERT fails it (a failed assertion _exit()s a forked
 * Check test at once, running no handler), and by an atexit handler for
 * the CK_FORK=no mode.  Segments need no registration: every name from
 * tu_spec is removed by the test case's fixture (tu_tcase). */
void pu_track_pid(pid_t pid);
void pu_untrack_pid(pid_t pid);
/* Kill (SIGKILL) and reap every tracked child, then remove the segments
 * of the test (tu_remove_names). */
void pu_cleanup(void);

/* Like ck_assert_msg, but cleans up first.  COND is evaluated once. */
#define PU_ASSERT(cond, ...)            \
    do {                                \
        if (!(cond)) {                  \
            pu_cleanup();               \
            ck_abort_msg(__VA_ARGS__);  \
        }                               \
    } while (0)

/* Fork a child that runs FN(ARG) and _exit()s with its result; the child
 * gets alarm(ALARM_S) so that a hang ends it by SIGALRM.  Tracked. */
pid_t pu_spawn(int (*fn)(void *), void *arg, unsigned alarm_s);
/* Reap PID (tracked); returns its wait status, as tu_wait: at most
 * TIMEOUT_MS, then it is killed and the answer is TU_TIMED_OUT. */
int pu_reap(pid_t pid, int timeout_ms);

/* Wait (bounded by TIMEOUT_MS) until *FLAG is non-zero: 1, or 0 on time-out. */
int pu_wait_flag(const volatile int *flag, int timeout_ms);

/* ---- self-checking messages ------------------------------------------ */

/* A message or record of LEN >= PU_MSG_MIN bytes: a 24-byte head naming its
 * number, the generation (writer process) and index within it, and its
 * length, then bytes derived from all of them, with a checksum.  Any torn
 * or mixed copy fails pu_msg_check. */
#define PU_MSG_MIN 24u
struct pu_msg_head {
    uint64_t n;       /* ring message number / slot version */
    uint32_t gen;     /* writer generation */
    uint32_t idx;     /* index of the message within the generation */
    uint32_t len;     /* total length */
    uint32_t check;   /* checksum of the above */
};
void pu_msg_fill(void *buf, size_t len, uint64_t n, uint32_t gen, uint32_t idx);
/* 0 if BUF (LEN bytes) is an intact message, with its head in *HEAD;
 * -1 otherwise, with a reason in WHY. */
int pu_msg_check(const void *buf, size_t len, struct pu_msg_head *head, char *why,
                 size_t whylen);

#endif
