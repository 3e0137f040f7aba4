/*
 * hooks.h - test hooks that make Linux behave like a BSD or macOS in the
 * few places where libshmkit must cope with their differences.
 *
 * A build configured with --enable-test-hooks (SHMKIT_TEST_HOOKS) reads
 * the environment variable SHMKIT_TEST_SIMULATE, a comma-separated list of
 * behaviour names; the backends then fail a system call the way the named
 * system (or an exhausted resource limit) would (see doc/PORTING.md for the list and what each simulates).
 * In every other build shmkit__hook() is the constant 0, so the simulation code
 * is compiled away and a release library has no hook at all.
 *
 * Behaviour names used by the library:
 *   sysv-no-attach-after-rmid  shmat of a removed System V segment: EINVAL
 *   macos-shm                  POSIX shm as on macOS: no fchmod, one
 *                              ftruncate, no posix_fallocate, mapping past
 *                              the end EINVAL, shm_unlink of a missing name
 *                              EINVAL, names of at most 31 bytes
 *   openbsd-shm                POSIX shm as on OpenBSD: modes narrowed to
 *                              0600, objects of another uid refused (EPERM)
 *   netbsd-no-shmfs            no tmpfs on /var/shm: shm_open ENOTSUP
 *   sysv-shmget-einval, sysv-shmget-enospc, sysv-shmget-enomem,
 *   sysv-shmat-emfile, sysv-enosys
 *                              System V limits and jails: the errno named
 *   sysv-shmat-enomem          shmat out of address space: ENOMEM
 *   posix-ftruncate-efbig      ftruncate at creation: EFBIG
 *   posix-fallocate-enospc     posix_fallocate at creation: ENOSPC (a full
 *                              /dev/shm, after the real call succeeded)
 *   creator-dies-before-publish
 *                              slot and ring creation: SIGKILL after the
 *                              header is written, before it is published
 *                              (a creator killed half-way)
 *   posix-mmap-enomem          mmap of a POSIX object: ENOMEM
 *                              (resource limits the tests cannot reach with
 *                              namespaces or setrlimit on every system)
 *
 * Hook points (sk_hook_point) are the other kind of hook: places in a
 * protocol where a test may stop or delay the calling thread, to force an
 * interleaving (tests/check_wait.c) or to shake the timing (stress
 * tests).  A test sets shmkit__hook_point_fn; the library calls it with the
 * point's name.  Points used by the library:
 *   wait-asked           waiter: after asking for a wake-up, before it
 *                        re-reads the waited-on word
 *   wait-before-sleep    waiter: after the re-read found the word
 *                        unchanged, before the kernel's compare-and-sleep
 *                        (sysv-sem: before its GETVAL)
 *   sem-before-semop     sysv-sem waiter: after the re-check of the
 *                        request, before the semop that sleeps
 *   notify-stored        notifier: after the store of the word, before
 *                        its fence and its look at the request
 *   notify-before-wake   notifier: after it took the request, before the
 *                        wake-up system call
 *   notify-wake-followers notifier on a segment with followers: the gap
 *                        clock says a follower may sleep on the word,
 *                        before the wake-up system call (wait.c)
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_HOOKS_H
#define SHMKIT_HOOKS_H

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#ifdef SHMKIT_TEST_HOOKS

/* Non-zero if NAME is in SHMKIT_TEST_SIMULATE (read at every call, so a
 * test can change it between cases). */
int shmkit__hook(const char *name);
/* Record that the simulation NAME changed the outcome of a call. */
void shmkit__hook_fired(const char *name);
/* How often shmkit__hook_fired(NAME) was called in this process: a test uses
 * it to prove that the simulated path really ran. */
unsigned long shmkit__hook_fired_count(const char *name);

/* Called at every hook point when set (process-wide; set it before the
 * threads that reach the points start, or from a forked child). */
extern void (*volatile shmkit__hook_point_fn)(const char *point);
#define sk_hook_point(name)                                   \
    do {                                                      \
        void (*sk_hook_fn_)(const char *) = shmkit__hook_point_fn; \
        if (sk_hook_fn_ != 0)                                 \
            sk_hook_fn_(name);                                \
    } while (0)

#else

/* A plain 0, so that compilers see a constant condition (and clang's
 * -Wunreachable-code takes it for configuration, not dead code). */
#define shmkit__hook(name) 0
#define shmkit__hook_fired(name) ((void)0)
#define sk_hook_point(name) ((void)0)

#endif

#endif /* SHMKIT_HOOKS_H */
