/*
 * check_portability.c - what the BSDs and macOS do differently, run here.
 *
 * Two kinds of tests:
 *   - always: what every system must get right and Linux can show
 *     directly (names of 30 characters, no mapping past the end, removal
 *     while mapped, a missing name, process identity);
 *   - with --enable-test-hooks: the library is made to fail the way a BSD
 *     or macOS would (SHMKIT_TEST_SIMULATE, src/hooks.h) and must cope,
 *     with the messages doc/PORTING.md promises.  Each such test checks
 *     through shmkit__hook_fired_count() that the simulated path really ran.
 * Without the hooks the second kind is skipped, and says so on stdout.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef SHMKIT_HAVE_SYSV
#include <sys/ipc.h>
#include <sys/shm.h>
#endif

#include "hooks.h"
#include "internal.h"
#include "testutil.h"

/* A record for the slots of these tests. */
struct sample {
    uint64_t seq;
    char text[24];
};

static struct sample sample_of(uint64_t seq)
{
    struct sample s;

    memset(&s, 0, sizeof s);
    s.seq = seq;
    snprintf(s.text, sizeof s.text, "sample %llu", (unsigned long long)seq);
    return s;
}

#define create_slot(spec, mode) \
    tu_slot_create(spec, NULL, sizeof(struct sample), mode, SHMKIT_EXCL)

static void write_sample(shmkit_slot *slot, uint64_t seq)
{
    struct sample s = sample_of(seq);

    ck_assert_int_eq(shmkit_slot_write(slot, &s, sizeof s), 0);
}

/* A child that waits on READER for a version newer than SINCE and exits 0
 * if it saw exactly the sample EXPECT; for the hook tests it also checks
 * that the simulation HOOK fired in it (NULL: no such check). */
static pid_t spawn_waiter(shmkit_slot *reader, uint64_t since, uint64_t expect, const char *hook)
{
    pid_t pid = tu_fork();

    if (pid == 0) {
        struct sample got, want = sample_of(expect);
        uint64_t version = 0;
        int ok = shmkit_slot_wait(reader, since, 10000) == 0 &&
                 shmkit_slot_read(reader, &got, sizeof got, &version) == (int)sizeof got &&
                 version == expect && memcmp(&got, &want, sizeof got) == 0;
#ifdef SHMKIT_TEST_HOOKS
        if (hook != NULL && shmkit__hook_fired_count(hook) == 0)
            ok = 0;
#else
        (void)hook;
#endif
        _exit(ok ? 0 : 1);
    }
    return pid;
}

/* Removal, then a wait that starts afterwards: on the BSDs and macOS a
 * SysV reader can no longer attach its waiter view, and must still see
 * the next version (by polling).  HOOK as for spawn_waiter. */
static void wait_after_removal(int backend, const char *hook)
{
    char spec[32];
    shmkit_slot *writer, *reader = NULL, *late = NULL;
    pid_t child;

    tu_spec(backend, spec);
    writer = create_slot(spec, 0600);
    write_sample(writer, 1);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    ck_assert_int_eq(shmkit_slot_open(&late, spec, 0), -ENOENT);
    child = spawn_waiter(reader, 1, 2, hook);
    /* Let the child start waiting (it works either way). */
    shmkit__sleep_ns(50000000u);
    write_sample(writer, 2);
    tu_wait_ok(child, "waiter after removal");
    shmkit_slot_close(reader);
    shmkit_slot_close(writer);
    tu_assert_no_leftovers();
}

/* ------------------------------------------------------------------ */
/* Always                                                              */
/* ------------------------------------------------------------------ */

/* Removal while mapped: readers keep their mapping and keep waiting. */
START_TEST(test_wait_after_removal)
{
    wait_after_removal(tu_backend_of(_i), NULL);
}
END_TEST

/* macOS allows names of 31 bytes: "/" and 30 characters, the longest
 * spec; one character more is refused before any system call. */
START_TEST(test_longest_posix_name)
{
    char spec[40], longer[40];
    shmkit_slot *writer, *reader = NULL;
    struct sample got;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    snprintf(spec, sizeof spec, "/sktl.%08ld.%s", (long)getpid(), "0123456789abcdef");
    spec[31] = '\0';
    ck_assert_uint_eq(strlen(spec), 31);
    writer = create_slot(spec, 0600);
    write_sample(writer, 7);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_read(reader, &got, sizeof got, NULL), (int)sizeof got);
    ck_assert_uint_eq(got.seq, 7);
    shmkit_slot_close(reader);
    shmkit_slot_close(writer);
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    snprintf(longer, sizeof longer, "%sx", spec);
    ck_assert_int_eq(shmkit_spec_check(longer), SHMKIT_EBADSPEC);
    ck_assert_int_eq(shmkit_slot_create(&reader, longer, NULL, 8, 0600, 0), SHMKIT_EBADSPEC);
}
END_TEST

/* An object smaller than a header is refused after fstat, never mapped
 * past its end (SIGBUS on Linux, EINVAL on macOS). */
START_TEST(test_small_object_not_mapped)
{
    char spec[32];
    shmkit_slot *slot = NULL;
    struct shmkit_info info;
    int fd;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    tu_posix_spec(spec);
    fd = shm_open(spec, O_RDWR | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 64), 0);
    close(fd);
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, 0), SHMKIT_ENOTSHMKIT);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), SHMKIT_ENOTSHMKIT);
    ck_assert_int_eq(shm_unlink(spec), 0);
    tu_assert_no_leftovers();
}
END_TEST

/* A missing name is -ENOENT on every system (macOS 10.x: EINVAL). */
START_TEST(test_unlink_missing)
{
    int backend = tu_backend_of(_i);
    {
        char spec[32];

        tu_spec(backend, spec);
        ck_assert_int_eq(shmkit_unlink(spec), -ENOENT);
    }
}
END_TEST

/* Process identity: a start time where the platform has one (not in the
 * portable profile on Linux, which skips /proc), and a dead child is
 * seen as dead whatever the platform can tell. */
START_TEST(test_process_identity)
{
    uint32_t token = shmkit__self_token();
    pid_t child;
    int status;

#if defined(SHMKIT_PORTABLE_PROFILE) && defined(__linux__)
    ck_assert_uint_eq(token, 0);
#elif defined(__linux__)
    ck_assert_uint_ne(token, 0);
#endif
    ck_assert_int_eq(shmkit__proc_alive((long)getpid(), token), 1);
    child = tu_fork();
    if (child == 0)
        _exit(0);
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_int_eq(shmkit__proc_alive((long)child, token), 0);
    ck_assert_int_eq(shmkit__proc_alive((long)child, 0), 0);
}
END_TEST

/* ------------------------------------------------------------------ */
/* With the test hooks                                                 */
/* ------------------------------------------------------------------ */

#ifdef SHMKIT_TEST_HOOKS

static void simulate(const char *names)
{
    ck_assert_int_eq(setenv("SHMKIT_TEST_SIMULATE", names, 1), 0);
}

static void simulate_nothing(void)
{
    ck_assert_int_eq(unsetenv("SHMKIT_TEST_SIMULATE"), 0);
}

static void assert_detail_has(const char *needle)
{
    const char *detail = shmkit_error_detail();

    ck_assert_msg(strstr(detail, needle) != NULL, "detail \"%s\" lacks \"%s\"", detail, needle);
}

START_TEST(test_hook_list)
{
    simulate("first,macos-shm,last");
    ck_assert_int_eq(shmkit__hook("macos-shm"), 1);
    ck_assert_int_eq(shmkit__hook("first"), 1);
    ck_assert_int_eq(shmkit__hook("last"), 1);
    ck_assert_int_eq(shmkit__hook("macos"), 0);
    ck_assert_int_eq(shmkit__hook("shm"), 0);
    ck_assert_int_eq(shmkit__hook("macos-shm,"), 0);
    simulate("");
    ck_assert_int_eq(shmkit__hook("macos-shm"), 0);
    simulate_nothing();
    ck_assert_int_eq(shmkit__hook("macos-shm"), 0);
}
END_TEST

/* (a) No attach after IPC_RMID: the reader's waiter view fails, and the
 * reader polls instead, still seeing the next version. */
START_TEST(test_sysv_no_attach_after_rmid)
{
    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        return;
#ifndef SHM_DEST
    printf("# sysv-no-attach-after-rmid skipped: no SHM_DEST to tell a removed segment\n");
    return;
#endif
    simulate("sysv-no-attach-after-rmid");
    wait_after_removal(SHMKIT_BACKEND_SYSV, "sysv-no-attach-after-rmid");
}
END_TEST

/* (a) The same simulation never refuses a segment that still has its
 * name: the view made before removal is the normal one. */
START_TEST(test_sysv_attach_before_rmid)
{
    char spec[32];
    shmkit_slot *writer, *reader = NULL;
    unsigned long before = shmkit__hook_fired_count("sysv-no-attach-after-rmid");
    pid_t child;

    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        return;
    simulate("sysv-no-attach-after-rmid");
    writer = create_slot(tu_sysv_spec(spec), 0600);
    write_sample(writer, 1);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_wait(reader, 1, 20), -ETIMEDOUT); /* makes the view */
    ck_assert_uint_eq(shmkit__hook_fired_count("sysv-no-attach-after-rmid"), before);
    child = spawn_waiter(reader, 1, 2, NULL);
    shmkit__sleep_ns(50000000u);
    write_sample(writer, 2);
    tu_wait_ok(child, "waiter");
    shmkit_slot_close(reader);
    shmkit_slot_close(writer);
    tu_finish(spec);
}
END_TEST

/* (b) macOS: no fchmod (the mode goes to shm_open), one ftruncate, no
 * posix_fallocate, never a mapping past the end, names of 31 bytes. */
START_TEST(test_macos_create)
{
    char spec[40];
    shmkit_slot *writer, *reader = NULL;
    struct shmkit_info info;
    struct sample got;
    unsigned long no_fchmod = shmkit__hook_fired_count("macos-shm:no-fchmod");
    mode_t old_umask;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    simulate("macos-shm");
    snprintf(spec, sizeof spec, "/sktm.%08ld.%s", (long)getpid(), "0123456789abcdef");
    spec[31] = '\0';
    /* The mode reaches shm_open, where macOS applies no umask. */
    old_umask = umask(077);
    writer = create_slot(spec, 0640);
    umask(old_umask);
    ck_assert_uint_gt(shmkit__hook_fired_count("macos-shm:no-fchmod"), no_fchmod);
#ifdef HAVE_POSIX_FALLOCATE
    ck_assert_uint_gt(shmkit__hook_fired_count("macos-shm:no-fallocate"), 0);
#endif
    write_sample(writer, 3);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_read(reader, &got, sizeof got, NULL), (int)sizeof got);
    ck_assert_uint_eq(got.seq, 3);
    ck_assert_int_eq(shmkit_slot_wait(reader, 3, 10), -ETIMEDOUT);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.mode, 0640);
    ck_assert_uint_eq(shmkit__hook_fired_count("macos-shm:second-ftruncate"), 0);
    ck_assert_uint_eq(shmkit__hook_fired_count("macos-shm:map-past-end"), 0);
    ck_assert_uint_eq(shmkit__hook_fired_count("macos-shm:name-too-long"), 0);
    shmkit_slot_close(reader);
    shmkit_slot_close(writer);
    tu_finish(spec);
}
END_TEST

/* (b) A foreign object too small for a header, as macOS sees it: creating
 * over it fails with -EEXIST before any ftruncate, opening it is refused
 * after fstat, without a mapping past its end. */
START_TEST(test_macos_existing_object)
{
    char spec[32];
    shmkit_slot *slot = NULL;
    int fd;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    simulate("macos-shm");
    tu_posix_spec(spec);
    fd = shm_open(spec, O_RDWR | O_CREAT | O_EXCL, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, 64), 0);
    close(fd);
    ck_assert_int_eq(shmkit_slot_create(&slot, spec, NULL, 8, 0600, SHMKIT_EXCL), -EEXIST);
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, 0), SHMKIT_ENOTSHMKIT);
    ck_assert_uint_eq(shmkit__hook_fired_count("macos-shm:second-ftruncate"), 0);
    ck_assert_uint_eq(shmkit__hook_fired_count("macos-shm:map-past-end"), 0);
    tu_finish(spec);
}
END_TEST

/* (b) shm_unlink of a missing name answers EINVAL on macOS 10.x: the
 * library still reports -ENOENT. */
START_TEST(test_macos_unlink_missing)
{
    char spec[32];
    unsigned long before = shmkit__hook_fired_count("macos-shm:unlink-einval");

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    simulate("macos-shm");
    ck_assert_int_eq(shmkit_unlink(tu_posix_spec(spec)), -ENOENT);
    ck_assert_uint_gt(shmkit__hook_fired_count("macos-shm:unlink-einval"), before);
}
END_TEST

/* (c) OpenBSD: a wider mode is narrowed to 0600 and info tells the truth;
 * without the simulation the same call keeps the mode. */
START_TEST(test_openbsd_mode)
{
    char spec[32];
    shmkit_slot *writer;
    struct shmkit_info info;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    simulate_nothing();
    writer = create_slot(tu_posix_spec(spec), 0644);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.mode, 0644);
    shmkit_slot_close(writer);
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    simulate("openbsd-shm");
    writer = create_slot(tu_posix_spec(spec), 0644);
    ck_assert_uint_gt(shmkit__hook_fired_count("openbsd-shm:narrowed"), 0);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_uint_eq(info.mode, 0600);
    shmkit_slot_close(writer);
    tu_finish(spec);
}
END_TEST

/* (c) OpenBSD: an object of another uid is refused, with a message that
 * says why.  Giving the object away needs root. */
START_TEST(test_openbsd_other_uid)
{
    char spec[32];
    shmkit_slot *writer, *reader = NULL;
    struct shmkit_info info;
    int fd;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    if (geteuid() != 0) {
        printf("# openbsd-shm other-uid case skipped: chown needs root\n");
        return;
    }
    simulate_nothing();
    writer = create_slot(tu_posix_spec(spec), 0600);
    fd = shm_open(spec, O_RDWR, 0);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fchown(fd, 65534, 65534), 0);
    close(fd);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, SHMKIT_ANY_OWNER), 0); /* root, allowed */
    shmkit_slot_close(reader);

    /* Even a caller that accepts other owners is refused by the kernel. */
    simulate("openbsd-shm");
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, SHMKIT_ANY_OWNER), -EPERM);
    assert_detail_has("same user");
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), -EPERM);
    ck_assert_uint_gt(shmkit__hook_fired_count("openbsd-shm:other-uid"), 0);
    shmkit_slot_close(writer);
    tu_finish(spec);
}
END_TEST

/* (d) NetBSD without a tmpfs on /var/shm: every POSIX call says so and
 * suggests the System V backend. */
START_TEST(test_netbsd_no_shmfs)
{
    char spec[32];
    shmkit_slot *slot = NULL;
    struct shmkit_info info;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    simulate("netbsd-no-shmfs");
    tu_posix_spec(spec);
    ck_assert_int_eq(shmkit_slot_create(&slot, spec, NULL, 8, 0600, 0), SHMKIT_ENOBACKEND);
    assert_detail_has("/var/shm");
    assert_detail_has("sysv:");
    ck_assert_int_eq(shmkit_slot_open(&slot, spec, 0), SHMKIT_ENOBACKEND);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), SHMKIT_ENOBACKEND);
    ck_assert_int_eq(shmkit_unlink(spec), SHMKIT_ENOBACKEND);
    assert_detail_has("/var/shm");
    ck_assert_uint_gt(shmkit__hook_fired_count("netbsd-no-shmfs"), 0);
    simulate_nothing();
    tu_assert_no_leftovers();
}
END_TEST

/* (e) System V limits: each errno, the error it gives and the sysctl the
 * message names (this system's; see seg_sysv.c for the others). */
#if defined(__APPLE__)
#define SHMMAX "kern.sysv.shmmax"
#define SHMMNI "kern.sysv.shmmni"
#define SHMALL "kern.sysv.shmall"
#define SHMSEG "kern.sysv.shmseg"
#elif defined(__OpenBSD__)
#define SHMMAX "kern.shminfo.shmmax"
#define SHMMNI "kern.shminfo.shmmni"
#define SHMALL "kern.shminfo.shmall"
#define SHMSEG "kern.shminfo.shmseg"
#elif defined(__NetBSD__)
#define SHMMAX "kern.ipc.shmmax"
#define SHMMNI "kern.ipc.shmmni"
#define SHMALL "kern.ipc.shmmaxpgs"
#define SHMSEG "kern.ipc.shmseg"
#elif defined(__FreeBSD__)
#define SHMMAX "kern.ipc.shmmax"
#define SHMMNI "kern.ipc.shmmni"
#define SHMALL "kern.ipc.shmall"
#define SHMSEG "kern.ipc.shmseg"
#else
#define SHMMAX "kernel.shmmax"
#define SHMMNI "kernel.shmmni"
#define SHMALL "Cannot allocate memory" /* Linux: ENOMEM is not a limit */
#define SHMSEG "attached by this process"
#endif

static const struct {
    const char *hook;
    int code;
    const char *needle;
} sysv_limits[] = {
    {"sysv-shmget-einval", -EINVAL, SHMMAX},
    {"sysv-shmget-enospc", -ENOSPC, SHMMNI},
    {"sysv-shmget-enomem", -ENOMEM, SHMALL},
    {"sysv-shmat-emfile", -EMFILE, SHMSEG},
    {"sysv-enosys", SHMKIT_ENOBACKEND, "sysvshm=new"},
};

START_TEST(test_sysv_limits)
{
    const char *hook = sysv_limits[_i].hook;
    char spec[32];
    shmkit_slot *slot = NULL;
    unsigned long before = shmkit__hook_fired_count(hook);

    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        return;
    simulate(hook);
    ck_assert_int_eq(shmkit_slot_create(&slot, tu_sysv_spec(spec), NULL, 8, 0600, 0),
                     sysv_limits[_i].code);
    assert_detail_has(sysv_limits[_i].needle);
    ck_assert_uint_gt(shmkit__hook_fired_count(hook), before);
    simulate_nothing();
    tu_assert_no_leftovers();
}
END_TEST

#endif /* SHMKIT_TEST_HOOKS */

static Suite *portability_suite(void)
{
    Suite *s = suite_create("portability");
    TCase *always = tu_tcase(s, "always");

    tu_add_backend_test(always, test_wait_after_removal, 1);
    tcase_add_test(always, test_longest_posix_name);
    tcase_add_test(always, test_small_object_not_mapped);
    tu_add_backend_test(always, test_unlink_missing, 1);
    tcase_add_test(always, test_process_identity);
    tcase_set_timeout(always, 60);
#ifdef SHMKIT_TEST_HOOKS
    {
        TCase *hooks = tu_tcase(s, "simulated");

        tcase_add_test(hooks, test_hook_list);
        tcase_add_test(hooks, test_sysv_no_attach_after_rmid);
        tcase_add_test(hooks, test_sysv_attach_before_rmid);
        tcase_add_test(hooks, test_macos_create);
        tcase_add_test(hooks, test_macos_existing_object);
        tcase_add_test(hooks, test_macos_unlink_missing);
        tcase_add_test(hooks, test_openbsd_mode);
        tcase_add_test(hooks, test_openbsd_other_uid);
        tcase_add_test(hooks, test_netbsd_no_shmfs);
        tcase_add_loop_test(hooks, test_sysv_limits, 0,
                            (int)(sizeof sysv_limits / sizeof sysv_limits[0]));
        tcase_set_timeout(hooks, 60);
    }
#else
    printf("# SKIP simulated BSD and macOS behaviours (sysv-no-attach-after-rmid, macos-shm, "
           "openbsd-shm, netbsd-no-shmfs, System V limits): this build has no test hooks "
           "(configure --enable-test-hooks)\n");
    fflush(stdout);
#endif
    return s;
}

int main(void)
{
    return tu_run(portability_suite());
}
