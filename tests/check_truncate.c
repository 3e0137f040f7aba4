/*
 * check_truncate.c - a POSIX segment shrinks under its mapping (issue 11,
 * item 4).
 *
 * Whoever may write a POSIX object may ftruncate it; touching a mapping
 * past the new end is SIGBUS.  Each test shrinks a live segment (to 0, to
 * the size of the header, to half) while a handle uses it: a slot
 * reader, a slot follower waiting for a version, a block-ring consumer
 * receiving or waiting, an overwrite-ring reader, a writer waiting for
 * space in a full block ring, and an application holding a zero-copy
 * pointer (peek, reserve).  The call must return SHMKIT_ECORRUPT with the
 * detail "segment truncated"; a test that dies of SIGBUS fails (Check
 * reports the signal).  Shrinking is done by a second process where the
 * handle waits, and directly where it does not.
 *
 * Then the handler itself (src/fault.c): it passes a SIGBUS that is not in
 * a shmkit mapping on to the application's handler, and to the default
 * action when there is none; it is installed only by a mapping of a POSIX
 * object (not by System V segments, which cannot shrink, nor by a process
 * that maps nothing); SHMKIT_NO_SIGBUS_HANDLER keeps it out; several
 * threads faulting at once all get the error.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

#define RECORD_SIZE 12000        /* a slot of several pages */
#define RING_CAPACITY 16384      /* a ring of several pages */
#define SHRINK_DELAY_MS 200      /* a waiter is asleep by then */
#define DETECT_LIMIT_MS 2000     /* "within about a second" of idle time */

/* How far a test shrinks the object; _i of the loop tests. */
enum shrink { TO_ZERO, TO_HEADER, TO_HALF, SHRINKS };
static const char *const shrink_names[] = {"to 0", "to the header", "to half"};

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts;

    ts.tv_sec = ms / 1000u;
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The new size of an object of SIZE bytes. */
static off_t shrunk_size(enum shrink how, off_t size)
{
    switch (how) {
    case TO_ZERO: return 0;
    case TO_HEADER: return SK_HEADER_SIZE;
    default: return size / 2;
    }
}

/* The semaphore set (sysv-sem builds) of the segment whose header the
 * test cut off, or -1.  shmkit_unlink cannot find it any more (it leaves
 * what it cannot find, doc/SECURITY.md): unlink_shrunk removes it.  The
 * header survives the other shrinks, and the library must remove the set
 * itself; tests/zz-leftovers.sh checks that it did. */
static int cut_semset = -1;

static void note_cut_semset(const char *spec, enum shrink how)
{
    if (how == TO_ZERO)
        cut_semset = tu_semset_of(spec);
}

static void unlink_shrunk(const char *spec)
{
    shmkit_unlink(spec);
    tu_remove_semset(cut_semset);
    cut_semset = -1;
}

/* Shrink the POSIX object of SPEC as HOW says, as any process with write
 * access could: 0, or -1 with errno. */
static int shrink_object(const char *spec, enum shrink how)
{
    struct stat st;
    int fd, rc;

    note_cut_semset(spec, how);
    fd = shm_open(spec, O_RDWR, 0);

    if (fd < 0)
        return -1;
    rc = fstat(fd, &st) == 0 ? ftruncate(fd, shrunk_size(how, st.st_size)) : -1;
    close(fd);
    return rc;
}

static void shrink_now(const char *spec, enum shrink how)
{
    ck_assert_msg(shrink_object(spec, how) == 0, "shrinking %s: %s", spec, strerror(errno));
}

/* This program, for the checks that need another process (main). */
static const char *self_path;

/* The same from another process after DELAY_MS, while the caller waits:
 * this program again (a fork of a test's process would be a copy of it,
 * whose exit a leak checker would judge). */
static pid_t shrink_later(const char *spec, enum shrink how, unsigned delay_ms)
{
    char how_arg[16], delay_arg[16];
    pid_t pid;

    note_cut_semset(spec, how); /* here: the child is another program */
    snprintf(how_arg, sizeof how_arg, "%d", (int)how);
    snprintf(delay_arg, sizeof delay_arg, "%u", delay_ms);
    pid = tu_fork();
    if (pid == 0) {
        execl(self_path, self_path, "--shrink", spec, how_arg, delay_arg, (char *)NULL);
        _exit(126);
    }
    return pid;
}

/* The other process of shrink_later. */
static int shrink_main(const char *spec, const char *how, const char *delay_ms)
{
    sleep_ms((unsigned)atoi(delay_ms));
    return shrink_object(spec, (enum shrink)atoi(how)) == 0 ? 0 : 1;
}

/* RC is the documented answer to a shrunk segment. */
#define ck_assert_truncated(rc, what)                                                        \
    do {                                                                                     \
        int rc_ = (rc);                                                                      \
        ck_assert_msg(rc_ == SHMKIT_ECORRUPT, "%s: %d (%s: %s), expected SHMKIT_ECORRUPT",   \
                      (what), rc_, shmkit_strerror(rc_), shmkit_error_detail());             \
        ck_assert_str_eq(shmkit_error_detail(), "segment truncated");                        \
    } while (0)

static void record_of(unsigned char *rec, unsigned char fill)
{
    memset(rec, fill, RECORD_SIZE);
}

/* A new slot SPEC of several pages, written once, with a writer *W and a
 * reader *R: 0 or an error code (usable outside a Check test). */
static int make_slot(char *spec, shmkit_slot **w, shmkit_slot **r)
{
    static unsigned char rec[RECORD_SIZE];
    int rc;

    tu_posix_spec(spec);
    record_of(rec, 0x5a);
    if ((rc = shmkit_slot_create(w, spec, NULL, RECORD_SIZE, 0600, 0)) < 0)
        return rc;
    if ((rc = shmkit_slot_write(*w, rec, RECORD_SIZE)) == 0 &&
        (rc = shmkit_slot_open(r, spec, 0)) == 0)
        return 0;
    shmkit_slot_close(*w);
    shmkit_unlink(spec);
    return rc;
}

static void drop_slot(const char *spec, shmkit_slot *w, shmkit_slot *r)
{
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    unlink_shrunk(spec);
}

static shmkit_slot *new_slot(char *spec, shmkit_slot **reader)
{
    shmkit_slot *w;
    int rc = make_slot(spec, &w, reader);

    ck_assert_msg(rc == 0, "slot %s: %s (%s)", spec, shmkit_strerror(rc), shmkit_error_detail());
    return w;
}

static shmkit_ring *new_ring(char *spec, int policy, shmkit_ring **reader)
{
    shmkit_ring *w;

    tu_posix_spec(spec);
    w = tu_ring_create(spec, RING_CAPACITY, 0, policy, 0600, 0);
    ck_assert_int_eq(shmkit_ring_open(reader, spec, 0), 0);
    return w;
}

/* ---- slots ---------------------------------------------------------- */

/* A reader whose next read finds the object shrunk, and a writer whose
 * next write does. */
START_TEST(test_slot_read_and_write)
{
    static unsigned char rec[RECORD_SIZE];
    char spec[32];
    shmkit_slot *r, *w = new_slot(spec, &r);
    uint64_t v = 99;

    ck_assert_int_eq(shmkit_slot_read(r, rec, sizeof rec, &v), RECORD_SIZE);
    ck_assert_uint_eq(v, 1);
    shrink_now(spec, (enum shrink)_i);
    ck_assert_truncated(shmkit_slot_read(r, rec, sizeof rec, &v), shrink_names[_i]);
    /* Sticky: the handle never reads the zeros as a record. */
    ck_assert_truncated(shmkit_slot_read(r, rec, sizeof rec, &v), "second read");
    ck_assert_truncated(shmkit_slot_version(r, &v), "version");
    ck_assert_uint_eq(v, 1); /* left alone */
    ck_assert_truncated(shmkit_slot_wait(r, 0, 0), "wait");
    record_of(rec, 0x33);
    ck_assert_truncated(shmkit_slot_write(w, rec, RECORD_SIZE), "write");
    ck_assert_truncated(shmkit_slot_write(w, rec, RECORD_SIZE), "second write");
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    unlink_shrunk(spec);
    tu_assert_no_leftovers();
}
END_TEST

/* A follower asleep in shmkit_slot_wait, with no publication to wake it:
 * it must notice within about a second (forever and with a timeout). */
START_TEST(test_slot_wait_idle)
{
    static const int timeouts[] = {-1, 10000};
    size_t t;

    for (t = 0; t < sizeof timeouts / sizeof timeouts[0]; t++) {
        char spec[32];
        shmkit_slot *r, *w = new_slot(spec, &r);
        pid_t child = shrink_later(spec, (enum shrink)_i, SHRINK_DELAY_MS);
        uint64_t start = now_ms();

        alarm(20);
        ck_assert_truncated(shmkit_slot_wait(r, 1, timeouts[t]), shrink_names[_i]);
        alarm(0);
        ck_assert_msg(now_ms() - start < SHRINK_DELAY_MS + DETECT_LIMIT_MS,
                      "noticed after %llu ms", (unsigned long long)(now_ms() - start));
        tu_wait_ok(child, "the shrinking child");
        shmkit_slot_close(r);
        shmkit_slot_close(w);
        unlink_shrunk(spec);
    }
    tu_assert_no_leftovers();
}
END_TEST

/* A segment that shrinks right after it was mapped and before its header
 * was read: the open path reports it instead of "bad magic" or a wait for
 * a header "still being created". */
START_TEST(test_shrinks_during_open)
{
    struct sk_header_view view;
    struct sk_spec sk;
    struct sk_seg seg;
    char spec[32];
    shmkit_slot *r, *w = new_slot(spec, &r);

    ck_assert_int_eq(shmkit__spec_parse(spec, &sk), 0);
    ck_assert_int_eq(shmkit__seg_open(&seg, &sk, SK_SEG_READ, SK_HEADER_SIZE), 0);
    shrink_now(spec, (enum shrink)_i);
    ck_assert_truncated(
        shmkit__seg_verdict(&seg, shmkit__header_validate(seg.base, seg.size, &view)),
        "validate");
    shmkit__seg_close(&seg);
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    unlink_shrunk(spec);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- rings ---------------------------------------------------------- */

/* A block consumer with a message ready, then one asleep waiting for the
 * next: both get the error, the sleeper within about a second. */
START_TEST(test_block_consumer)
{
    char spec[32], buf[64];
    shmkit_ring *c, *w = new_ring(spec, SHMKIT_RING_BLOCK, &c);
    pid_t child;
    uint64_t start;

    ck_assert_int_eq(shmkit_ring_send(w, "one", 3, 0), 0);
    ck_assert_int_eq(shmkit_ring_send(w, "two", 3, 0), 0);
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), 3);
    shrink_now(spec, (enum shrink)_i);
    ck_assert_truncated(shmkit_ring_recv(c, buf, sizeof buf, 0), shrink_names[_i]);
    ck_assert_truncated(shmkit_ring_recv(c, buf, sizeof buf, 1000), "second recv");
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    unlink_shrunk(spec);

    w = new_ring(spec, SHMKIT_RING_BLOCK, &c);
    child = shrink_later(spec, (enum shrink)_i, SHRINK_DELAY_MS);
    start = now_ms();
    alarm(20);
    ck_assert_truncated(shmkit_ring_recv(c, buf, sizeof buf, -1), "recv asleep");
    alarm(0);
    ck_assert_msg(now_ms() - start < SHRINK_DELAY_MS + DETECT_LIMIT_MS, "noticed after %llu ms",
                  (unsigned long long)(now_ms() - start));
    tu_wait_ok(child, "the shrinking child");
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    unlink_shrunk(spec);
    tu_assert_no_leftovers();
}
END_TEST

/* An overwrite reader, with a message ready and asleep. */
START_TEST(test_overwrite_reader)
{
    char spec[32], buf[64];
    shmkit_ring *r, *w = new_ring(spec, SHMKIT_RING_OVERWRITE, &r);
    pid_t child;

    ck_assert_int_eq(shmkit_ring_send(w, "one", 3, 0), 0);
    shrink_now(spec, (enum shrink)_i);
    ck_assert_truncated(shmkit_ring_recv(r, buf, sizeof buf, 0), shrink_names[_i]);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    unlink_shrunk(spec);

    w = new_ring(spec, SHMKIT_RING_OVERWRITE, &r);
    child = shrink_later(spec, (enum shrink)_i, SHRINK_DELAY_MS);
    alarm(20);
    ck_assert_truncated(shmkit_ring_recv(r, buf, sizeof buf, 10000), "recv asleep");
    alarm(0);
    tu_wait_ok(child, "the shrinking child");
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    unlink_shrunk(spec);
    tu_assert_no_leftovers();
}
END_TEST

/* A writer asleep because the block ring is full. */
START_TEST(test_writer_waiting_for_space)
{
    char spec[32], msg[1000];
    shmkit_ring *c, *w = new_ring(spec, SHMKIT_RING_BLOCK, &c);
    pid_t child;
    uint64_t start;
    int rc;

    memset(msg, 'm', sizeof msg);
    while ((rc = shmkit_ring_send(w, msg, sizeof msg, 0)) == 0)
        ;
    ck_assert_int_eq(rc, -EAGAIN);
    child = shrink_later(spec, (enum shrink)_i, SHRINK_DELAY_MS);
    start = now_ms();
    alarm(20);
    ck_assert_truncated(shmkit_ring_send(w, msg, sizeof msg, -1), shrink_names[_i]);
    alarm(0);
    ck_assert_msg(now_ms() - start < SHRINK_DELAY_MS + DETECT_LIMIT_MS, "noticed after %llu ms",
                  (unsigned long long)(now_ms() - start));
    tu_wait_ok(child, "the shrinking child");
    ck_assert_truncated(shmkit_ring_send(w, msg, 10, 0), "next send");
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    unlink_shrunk(spec);
    tu_assert_no_leftovers();
}
END_TEST

/* The application holds a peeked message, the object shrinks, the
 * application reads the message: no crash, each byte is the message's or
 * zero (all zeros once the mapping was replaced), and the release says to
 * discard them. */
START_TEST(test_peek_pointer)
{
    static const int policies[] = {SHMKIT_RING_BLOCK, SHMKIT_RING_OVERWRITE};
    size_t p;

    for (p = 0; p < 2; p++) {
        char spec[32], msg[3000];
        shmkit_ring *r, *w = new_ring(spec, policies[p], &r);
        const volatile unsigned char *data;
        const void *ptr;
        size_t i, nonzero = 0, other = 0;

        memset(msg, 'p', sizeof msg);
        /* A message across pages, away from the header's page. */
        ck_assert_int_eq(shmkit_ring_send(w, msg, 1000, 0), 0);
        ck_assert_int_eq(shmkit_ring_send(w, msg, sizeof msg, 0), 0);
        ck_assert_int_eq(shmkit_ring_recv(r, msg, sizeof msg, 0), 1000);
        ck_assert_int_eq(shmkit_ring_peek(r, &ptr, 0), (int)sizeof msg);
        data = ptr;
        ck_assert_uint_eq(data[0], 'p');
        shrink_now(spec, (enum shrink)_i);
        for (i = 0; i < sizeof msg; i++) {
            nonzero += data[i] != 0;
            other += data[i] != 0 && data[i] != 'p';
        }
        ck_assert_uint_eq(other, 0);
        if (_i == TO_ZERO)
            ck_assert_uint_eq(nonzero, 0);
        ck_assert_truncated(shmkit_ring_release(r), shrink_names[_i]);
        ck_assert_truncated(shmkit_ring_peek(r, &ptr, 0), "next peek");
        shmkit_ring_close(r);
        shmkit_ring_close(w);
        unlink_shrunk(spec);
    }
    tu_assert_no_leftovers();
}
END_TEST

/* The application fills a reserved message when the object shrinks: no
 * crash (the writes land in private pages or in bytes cut off), and the
 * commit says the message is lost. */
START_TEST(test_reserve_pointer)
{
    char spec[32];
    shmkit_ring *c, *w = new_ring(spec, SHMKIT_RING_BLOCK, &c);
    void *ptr;

    ck_assert_int_eq(shmkit_ring_send(w, "first", 5, 0), 0);
    ck_assert_int_eq(shmkit_ring_reserve(w, &ptr, 3000, 0), 0);
    shrink_now(spec, (enum shrink)_i);
    memset(ptr, 'r', 3000);
    ck_assert_truncated(shmkit_ring_commit(w, 3000), shrink_names[_i]);
    ck_assert_truncated(shmkit_ring_reserve(w, &ptr, 10, 0), "next reserve");
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    unlink_shrunk(spec);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- threads -------------------------------------------------------- */

#define THREADS 4

struct reader_thread {
    pthread_t id;
    shmkit_slot *slot;
    int rc;
    char detail[64];
};

static void *read_until_error(void *arg)
{
    static __thread unsigned char rec[RECORD_SIZE];
    struct reader_thread *t = arg;
    int rc;

    do
        rc = shmkit_slot_read(t->slot, rec, sizeof rec, NULL);
    while (rc == RECORD_SIZE);
    t->rc = rc;
    snprintf(t->detail, sizeof t->detail, "%s", shmkit_error_detail());
    return NULL;
}

/* Several threads, each with its handle, fault at once. */
START_TEST(test_threads_fault_at_once)
{
    struct reader_thread t[THREADS];
    char spec[32];
    shmkit_slot *r0, *w = new_slot(spec, &r0);
    int i;

    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(shmkit_slot_open(&t[i].slot, spec, 0), 0);
        ck_assert_int_eq(pthread_create(&t[i].id, NULL, read_until_error, &t[i]), 0);
    }
    sleep_ms(50);
    shrink_now(spec, TO_ZERO);
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(t[i].id, NULL), 0);
        ck_assert_int_eq(t[i].rc, SHMKIT_ECORRUPT);
        ck_assert_str_eq(t[i].detail, "segment truncated");
        shmkit_slot_close(t[i].slot);
    }
    shmkit_slot_close(r0);
    shmkit_slot_close(w);
    unlink_shrunk(spec);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- the handler and the application's SIGBUS ----------------------- */

/* A file of the application's own, mapped and then truncated: touching
 * it is a SIGBUS that is none of shmkit's business. */
static volatile unsigned char *own_truncated_mapping(size_t size)
{
    char path[] = "/tmp/shmkit-truncate.XXXXXX";
    int fd = mkstemp(path);
    void *p;

    if (fd < 0)
        return NULL;
    unlink(path);
    if (ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        return NULL;
    }
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED || ftruncate(fd, 0) != 0) {
        close(fd);
        return NULL;
    }
    close(fd);
    return p;
}

static sigjmp_buf app_jump;
static volatile sig_atomic_t app_calls;
static void *volatile app_fault_addr;

static void app_handler(int sig, siginfo_t *info, void *ctx)
{
    (void)sig;
    (void)ctx;
    app_calls++;
    app_fault_addr = info->si_addr;
    siglongjmp(app_jump, 1);
}

/* The checks of the handler's installation need a process that has
 * never mapped a segment: this program again (Check may run every test in
 * one process, CK_FORK=no), told which check to run. */

struct child_check {
    const char *name;
    int (*fn)(void);
};

static int chain_to_application(void);
static int default_fault(void);
static int default_sent(void);
static int installed_when_needed(void);
static int opted_out(void);

static const struct child_check child_checks[] = {
    {"chain", chain_to_application},
    {"default-fault", default_fault},
    {"default-sent", default_sent},
    {"installed", installed_when_needed},
    {"opted-out", opted_out},
};

static int run_child_check(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof child_checks / sizeof child_checks[0]; i++)
        if (strcmp(child_checks[i].name, name) == 0)
            return child_checks[i].fn();
    return 127;
}

static int run_in_child(const char *name)
{
    int status;
    pid_t pid = tu_fork();

    if (pid == 0) {
        execl(self_path, self_path, "--child", name, (char *)NULL);
        _exit(126);
    }
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return status;
}

/* Runs in a fresh process: exit 0 when every check passed, else the
 * number of the check that failed. */
static int chain_to_application(void)
{
    struct sigaction sa;
    volatile unsigned char *own;
    char spec[32];
    shmkit_slot *w, *r;
    unsigned char rec[RECORD_SIZE];

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = app_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGBUS, &sa, NULL) != 0)
        return 10;
    if (make_slot(spec, &w, &r) != 0) /* installs shmkit's handler in front of ours */
        return 15;
    if (!shmkit__fault_handler_installed())
        return 11;
    own = own_truncated_mapping(8192);
    if (own == NULL)
        return 12;
    if (sigsetjmp(app_jump, 1) == 0)
        (void)own[100];
    if (app_calls != 1 || app_fault_addr != (void *)(own + 100))
        return 13;
    /* shmkit's own faults still end as errors, not in our handler. */
    if (shrink_object(spec, TO_ZERO) != 0 ||
        shmkit_slot_read(r, rec, sizeof rec, NULL) != SHMKIT_ECORRUPT || app_calls != 1)
        return 14;
    drop_slot(spec, w, r);
    return 0;
}

START_TEST(test_chains_to_application_handler)
{
    int status = run_in_child("chain");

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "child: status %#x (exit %d, signal %d)", status,
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    tu_assert_no_leftovers();
}
END_TEST

/* SIGBUS back to the default action, whatever a sanitizer runtime
 * installed (AddressSanitizer handles SIGBUS: the library would pass the
 * signal to it, which reports and exits). */
static int default_disposition(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, NULL);
}

/* Without an application handler, a SIGBUS outside shmkit's mappings
 * still kills the process with SIGBUS, whether a fault or sent. */
static int default_fault(void)
{
    char spec[32];
    shmkit_slot *w, *r;
    volatile unsigned char *own = own_truncated_mapping(8192);

    if (default_disposition() != 0)
        return 24;

    if (make_slot(spec, &w, &r) != 0)
        return 23;
    drop_slot(spec, w, r);
    if (own == NULL || !shmkit__fault_handler_installed())
        return 20;
    (void)own[100];
    return 21;
}

static int default_sent(void)
{
    char spec[32];
    shmkit_slot *w, *r;

    if (default_disposition() != 0)
        return 24;

    if (make_slot(spec, &w, &r) != 0)
        return 23;
    drop_slot(spec, w, r);
    if (!shmkit__fault_handler_installed())
        return 20;
    raise(SIGBUS);
    return 22;
}

START_TEST(test_default_action_outside_mappings)
{
    int status = run_in_child("default-fault");

    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
                  "fault: status %#x", status);
    status = run_in_child("default-sent");
    ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS,
                  "raise: status %#x", status);
    tu_assert_no_leftovers();
}
END_TEST

/* Installed by the first POSIX mapping only. */
static int installed_when_needed(void)
{
    shmkit_layout *layout;
    shmkit_slot *w, *r;
    char spec[32];
    int backends[2], n = tu_backends(backends), i;

    if (shmkit_layout_parse(&layout, "a:u32") != 0)
        return 30;
    shmkit_layout_free(layout);
    if (shmkit__fault_handler_installed())
        return 31;
    for (i = 0; i < n; i++) {
        if (backends[i] != SHMKIT_BACKEND_SYSV)
            continue;
        tu_sysv_spec(spec);
        if (shmkit_slot_create(&w, spec, NULL, 64, 0600, 0) != 0)
            return 32;
        shmkit_slot_close(w);
        shmkit_unlink(spec);
        if (shmkit__fault_handler_installed())
            return 33; /* System V segments cannot shrink */
    }
    if (make_slot(spec, &w, &r) != 0)
        return 35;
    if (!shmkit__fault_handler_installed())
        return 34;
    drop_slot(spec, w, r);
    return 0;
}

static int opted_out(void)
{
    shmkit_slot *w, *r;
    char spec[32];
    int installed;

    setenv("SHMKIT_NO_SIGBUS_HANDLER", "1", 1);
    if (make_slot(spec, &w, &r) != 0)
        return 41;
    installed = shmkit__fault_handler_installed();
    drop_slot(spec, w, r);
    return installed ? 40 : 0;
}

START_TEST(test_installed_only_when_needed)
{
    int status = run_in_child("installed");

    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
    status = run_in_child("opted-out");
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "opt-out: status %#x",
                  status);
    tu_assert_no_leftovers();
}
END_TEST

static Suite *truncate_suite(void)
{
    Suite *s = suite_create("truncate");
    TCase *slot = tu_tcase(s, "slot"), *ring = tu_tcase(s, "ring");
    TCase *handler = tu_tcase(s, "handler");

    tcase_set_timeout(slot, 60);
    tcase_set_timeout(ring, 60);
    tcase_set_timeout(handler, 60);
    tcase_add_loop_test(slot, test_slot_read_and_write, 0, SHRINKS);
    tcase_add_loop_test(slot, test_slot_wait_idle, 0, SHRINKS);
    tcase_add_loop_test(slot, test_shrinks_during_open, 0, SHRINKS);
    tcase_add_loop_test(ring, test_block_consumer, 0, SHRINKS);
    tcase_add_loop_test(ring, test_overwrite_reader, 0, SHRINKS);
    tcase_add_loop_test(ring, test_writer_waiting_for_space, 0, SHRINKS);
    tcase_add_loop_test(ring, test_peek_pointer, 0, SHRINKS);
    tcase_add_loop_test(ring, test_reserve_pointer, 0, SHRINKS);
    tcase_add_test(handler, test_threads_fault_at_once);
    tcase_add_test(handler, test_chains_to_application_handler);
    tcase_add_test(handler, test_default_action_outside_mappings);
    tcase_add_test(handler, test_installed_only_when_needed);
    return s;
}

int main(int argc, char **argv)
{
    self_path = argv[0];
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return run_child_check(argv[2]);
    if (argc == 5 && strcmp(argv[1], "--shrink") == 0)
        return shrink_main(argv[2], argv[3], argv[4]);
    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX)) {
        printf("1..0 # SKIP POSIX shared memory not in this build (System V segments "
               "cannot shrink)\n");
        return 0;
    }
    return tu_run(truncate_suite());
}
