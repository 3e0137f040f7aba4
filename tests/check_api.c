/*
 * check_api.c - the C API as a careless or unlucky application uses it:
 * handles inherited through fork(), NULL arguments, flags that make no
 * sense, operations on the wrong kind of handle, and the error detail
 * left by waits that fail.
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
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "testutil.h"

/* Variant 0 of a ring test uses a blocking ring, variant 1 an overwriting one. */
#define POLICY_OF_I (tu_variant_of(_i) == 0 ? SHMKIT_RING_BLOCK : SHMKIT_RING_OVERWRITE)

static int detail_has(const char *text)
{
    return strstr(shmkit_error_detail(), text) != NULL;
}

/* ---- handles inherited through fork() ------------------------------ */

/* A child writing through the parent's slot handle published the same
 * version number as the parent; now it is refused, may still read, and
 * its close leaves the parent's lease alone. */
START_TEST(test_fork_slot_writer_refused)
{
    int backend = tu_backend_of(_i);
    char spec[32], rec[16] = "parent", buf[16];
    struct shmkit_info info;
    shmkit_slot *w, *again;
    uint64_t version;
    pid_t pid;

    tu_spec(backend, spec);
    ck_assert_int_eq(shmkit_slot_create(&w, spec, NULL, sizeof rec, 0600, SHMKIT_EXCL), 0);
    ck_assert_int_eq(shmkit_slot_write(w, rec, sizeof rec), 0);
    pid = tu_fork();
    if (pid == 0) {
        CHILD_CHECK(shmkit_slot_write(w, "child", sizeof rec) == SHMKIT_ENOTHOLDER);
        CHILD_CHECK(detail_has("fork"));
        CHILD_CHECK(shmkit_slot_read(w, buf, sizeof buf, &version) == (int)sizeof buf);
        CHILD_CHECK(version == 1 && strcmp(buf, "parent") == 0);
        CHILD_CHECK(shmkit_slot_wait(w, 0, 0) == 0);
        shmkit_slot_close(w);
        /* The parent still holds the lease. */
        CHILD_CHECK(shmkit_slot_open(&again, spec, SHMKIT_WRITE) == SHMKIT_EBUSY);
        _exit(0);
    }
    tu_wait_ok(pid, CHILD);
    ck_assert_int_eq(shmkit_slot_write(w, rec, sizeof rec), 0);
    ck_assert_int_eq(shmkit_slot_read(w, buf, sizeof buf, &version), (int)sizeof buf);
    ck_assert_uint_eq(version, 2);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_pid, (long)getpid());
    ck_assert_int_eq(info.writer_alive, 1);
    shmkit_slot_close(w);
    tu_finish(spec);
}
END_TEST

/* Daemon style: the process that opened the writer forks and exits.  The
 * grandchild used to go on writing while shmkit_info called the writer
 * dead and a new process took the lease as well. */
START_TEST(test_fork_daemon_grandchild_refused)
{
    int backend = tu_backend_of(_i);
    char spec[32], rec[16] = "first", buf[16];
    struct shmkit_info info;
    shmkit_slot *w, *next;
    uint64_t version;
    int fds[2], child_rc = 0;
    pid_t first;

    tu_spec(backend, spec);
    ck_assert_int_eq(pipe(fds), 0);
    first = tu_fork();
    if (first == 0) {
        pid_t me = getpid();

        close(fds[0]);
        CHILD_CHECK(shmkit_slot_create(&w, spec, NULL, sizeof rec, 0600, SHMKIT_EXCL) == 0);
        CHILD_CHECK(shmkit_slot_write(w, rec, sizeof rec) == 0);
        if (fork() == 0) {
            int i, rc;

            for (i = 0; i < 10000 && getppid() == me; i++)
                usleep(1000); /* until the parent has exited */
            rc = getppid() == me ? -1 : shmkit_slot_write(w, "grandchild", sizeof rec);
            CHILD_CHECK(write(fds[1], &rc, sizeof rc) == (ssize_t)sizeof rc);
            shmkit_slot_close(w);
            _exit(0);
        }
        _exit(0); /* without closing: the lease names a dead process */
    }
    close(fds[1]);
    tu_wait_ok(first, CHILD);
    ck_assert_int_eq(read(fds[0], &child_rc, sizeof child_rc), (ssize_t)sizeof child_rc);
    close(fds[0]);
    ck_assert_int_eq(child_rc, SHMKIT_ENOTHOLDER);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_alive, 0);
    ck_assert_int_eq(shmkit_slot_open(&next, spec, SHMKIT_WRITE), 0);
    ck_assert_int_eq(shmkit_slot_read(next, buf, sizeof buf, &version), (int)sizeof buf);
    ck_assert_uint_eq(version, 1);
    ck_assert_str_eq(buf, "first");
    shmkit_slot_close(next);
    tu_finish(spec);
}
END_TEST

/* A forked producer's messages were overwritten by the parent's with
 * lost at 0, and a forked consumer and its parent both received every
 * message.  Now the child's writer and consumer operations are refused;
 * an overwrite reader may still read. */
START_TEST(test_fork_ring_handles)
{
    int backend = tu_backend_of(_i);
    int policy = POLICY_OF_I;
    char spec[32], buf[16];
    struct shmkit_info info;
    shmkit_ring *w, *c;
    const void *p;
    void *slot;
    pid_t pid;

    tu_spec(backend, spec);
    w = tu_ring_create(spec, 4096, 0, policy, 0600, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_ring_open(&c, spec,
                                      policy == SHMKIT_RING_OVERWRITE ? SHMKIT_FROM_OLDEST : 0),
                     0);
    ck_assert_int_eq(shmkit_ring_send(w, "p0", 3, 0), 0);
    pid = tu_fork();
    if (pid == 0) {
        CHILD_CHECK(shmkit_ring_send(w, "c0", 3, 0) == SHMKIT_ENOTHOLDER);
        CHILD_CHECK(detail_has("fork"));
        CHILD_CHECK(shmkit_ring_reserve(w, &slot, 3, 0) == SHMKIT_ENOTHOLDER);
        CHILD_CHECK(shmkit_ring_commit(w, 0) == SHMKIT_ENOTHOLDER);
        CHILD_CHECK(shmkit_ring_cancel(w) == SHMKIT_ENOTHOLDER);
        if (policy == SHMKIT_RING_BLOCK) {
            CHILD_CHECK(shmkit_ring_recv(c, buf, sizeof buf, 0) == SHMKIT_ENOTHOLDER);
            CHILD_CHECK(shmkit_ring_peek(c, &p, 0) == SHMKIT_ENOTHOLDER);
            CHILD_CHECK(shmkit_ring_release(c) == SHMKIT_ENOTHOLDER);
        } else {
            CHILD_CHECK(shmkit_ring_recv(c, buf, sizeof buf, 0) == 3 && strcmp(buf, "p0") == 0);
        }
        shmkit_ring_close(c);
        shmkit_ring_close(w);
        _exit(0);
    }
    tu_wait_ok(pid, CHILD);
    ck_assert_int_eq(shmkit_ring_send(w, "p1", 3, 0), 0);
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), 3);
    ck_assert_str_eq(buf, "p0");
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), 3);
    ck_assert_str_eq(buf, "p1");
    ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), -EAGAIN);
    ck_assert_uint_eq(shmkit_ring_lost(c), 0);
    ck_assert_uint_eq(shmkit_ring_position(w), 2);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_pid, (long)getpid());
    if (policy == SHMKIT_RING_BLOCK)
        ck_assert_int_eq(info.consumer_pid, (long)getpid());
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* A child's close of an inherited handle removes neither the parent's
 * owned segment nor its lease. */
START_TEST(test_fork_child_close_keeps_owned)
{
    int backend = tu_backend_of(_i);
    char spec[32];
    struct shmkit_info info;
    shmkit_ring *w;
    pid_t pid;

    tu_spec(backend, spec);
    w = tu_ring_create(spec, 4096, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL | SHMKIT_OWNED);
    pid = tu_fork();
    if (pid == 0) {
        shmkit_ring_close(w);
        exit(0);
    }
    tu_wait_ok(pid, CHILD);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), 0);
    ck_assert_int_eq(info.writer_pid, (long)getpid());
    ck_assert_int_eq(shmkit_ring_send(w, "x", 1, 0), 0);
    shmkit_ring_close(w);
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), -ENOENT);
    tu_assert_no_leftovers();
}
END_TEST

/* A child the fork handler cannot see (vfork, a raw clone) is simulated
 * by giving it back the parent's generation.  What it does through the
 * inherited handles must then read as misuse, not as segment damage:
 * the parent's writer used to fail with "consumer cursor out of range",
 * its consumer with "head and cursor out of range". */
static void pretend_handler_missed(uint32_t parent_generation)
{
    sk_store(&shmkit__fork_generation, parent_generation, SK_RELAXED);
}

/* A new blocking ring SPEC of BACKEND, its writer *W and its consumer *C. */
static void block_ring_pair(int backend, char *spec, shmkit_ring **w, shmkit_ring **c)
{
    tu_spec(backend, spec);
    *w = tu_ring_create(spec, 256, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    *c = tu_ring_open(spec, 0);
}

START_TEST(test_unseen_child_writer_not_corrupt)
{
    uint32_t generation = sk_load(&shmkit__fork_generation, SK_RELAXED);
    char spec[32], msg[40] = "m", buf[64];
    shmkit_ring *w, *c;
    int i, rc;
    pid_t pid;

    block_ring_pair(tu_backend_of(_i), spec, &w, &c);
    pid = tu_fork();
    if (pid == 0) {
        pretend_handler_missed(generation);
        for (i = 0; i < 3; i++)
            CHILD_CHECK(shmkit_ring_send(w, msg, sizeof msg, 0) == 0);
        _exit(0);
    }
    tu_wait_ok(pid, CHILD);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(shmkit_ring_recv(c, buf, sizeof buf, 0), (int)sizeof msg);
    rc = shmkit_ring_send(w, msg, sizeof msg, 0);
    ck_assert_msg(rc == SHMKIT_ENOTHOLDER, "send: %d %s (%s)", rc, shmkit_strerror(rc),
                  shmkit_error_detail());
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

START_TEST(test_unseen_child_consumer_not_corrupt)
{
    uint32_t generation = sk_load(&shmkit__fork_generation, SK_RELAXED);
    char spec[32], msg[40] = "m", buf[64];
    shmkit_ring *w, *c;
    int i, rc;
    pid_t pid;

    block_ring_pair(tu_backend_of(_i), spec, &w, &c);
    for (i = 0; i < 2; i++)
        ck_assert_int_eq(shmkit_ring_send(w, msg, sizeof msg, 0), 0);
    pid = tu_fork();
    if (pid == 0) {
        pretend_handler_missed(generation);
        for (i = 0; i < 2; i++)
            CHILD_CHECK(shmkit_ring_recv(c, buf, sizeof buf, 0) == (int)sizeof msg);
        _exit(0);
    }
    tu_wait_ok(pid, CHILD);
    /* The child's receives made room: these wrap over the frames the
     * parent's consumer still thinks are next. */
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(shmkit_ring_send(w, msg, sizeof msg, 0), 0);
    rc = shmkit_ring_recv(c, buf, sizeof buf, 0);
    ck_assert_msg(rc == SHMKIT_ENOTHOLDER, "recv: %d %s (%s)", rc, shmkit_strerror(rc),
                  shmkit_error_detail());
    shmkit_ring_close(c);
    shmkit_ring_close(w);
    tu_finish(spec);
}
END_TEST

/* ---- the error detail of failed waits ------------------------------ */

static char stale[256];

/* Leave an unrelated detail behind, as an earlier failed call would. */
static void provoke_unrelated_detail(void)
{
    shmkit_slot *s;

    ck_assert_int_eq(shmkit_slot_open(&s, "no-such-spec", 0), SHMKIT_EBADSPEC);
    snprintf(stale, sizeof stale, "%s", shmkit_error_detail());
    ck_assert_str_ne(stale, "");
}

#define ASSERT_OWN_DETAIL(call, code)                                            \
    do {                                                                         \
        int rc_;                                                                 \
        provoke_unrelated_detail();                                              \
        rc_ = (call);                                                            \
        ck_assert_int_eq(rc_, (code));                                           \
        ck_assert_msg(strcmp(shmkit_error_detail(), stale) != 0 &&               \
                          shmkit_error_detail()[0] != '\0',                      \
                      "%s: detail \"%s\"", #call, shmkit_error_detail());        \
    } while (0)

START_TEST(test_wait_failures_set_detail)
{
    int backend = tu_backend_of(_i);
    char spec[32], rspec[32], buf[64] = {0};
    shmkit_slot *w, *r;
    shmkit_ring *rw, *rc;
    const void *p;
    int i;

    tu_spec(backend, spec);
    tu_spec(backend, rspec);
    ck_assert_int_eq(shmkit_slot_create(&w, spec, NULL, 8, 0600, SHMKIT_EXCL), 0);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    ASSERT_OWN_DETAIL(shmkit_slot_wait(r, 0, 0), -EAGAIN);
    ASSERT_OWN_DETAIL(shmkit_slot_wait(r, 0, 10), -ETIMEDOUT);
    ASSERT_OWN_DETAIL(shmkit_slot_wait(w, 0, 0), -EAGAIN);

    rw = tu_ring_create(rspec, 256, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_ring_open(&rc, rspec, 0), 0);
    ASSERT_OWN_DETAIL(shmkit_ring_recv(rc, buf, sizeof buf, 0), -EAGAIN);
    ASSERT_OWN_DETAIL(shmkit_ring_recv(rc, buf, sizeof buf, 10), -ETIMEDOUT);
    ASSERT_OWN_DETAIL(shmkit_ring_peek(rc, &p, 0), -EAGAIN);
    ASSERT_OWN_DETAIL(shmkit_ring_peek(rc, &p, 10), -ETIMEDOUT);
    for (i = 0; i < 100 && shmkit_ring_send(rw, buf, 40, 0) == 0; i++)
        ;
    ASSERT_OWN_DETAIL(shmkit_ring_send(rw, buf, 40, 0), -EAGAIN);
    ASSERT_OWN_DETAIL(shmkit_ring_send(rw, buf, 40, 10), -ETIMEDOUT);
    shmkit_ring_close(rc);
    shmkit_ring_close(rw);
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    tu_finish(spec, rspec);
}
END_TEST

static void on_alarm(int sig)
{
    (void)sig;
}

/* -EINTR (in the blocking wait mode; the spinning one is another
 * matter) gets a detail too: slot wait, ring receive, send waiting for
 * space. */
START_TEST(test_interrupted_wait_sets_detail)
{
    int backend = tu_backend_of(_i);
    /* Every 50 ms until the wait returns: a process delayed past the
     * first signal before it begins to wait (a loaded machine) still gets
     * one during the wait. */
    struct itimerval every = {{0, 50000}, {0, 50000}}, off = {{0, 0}, {0, 0}};
    struct sigaction sa;
    char spec[32], buf[64] = {0};
    shmkit_slot *w, *r;
    shmkit_ring *rw, *rc;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
    tu_spec(backend, spec);
    ck_assert_int_eq(shmkit_slot_create(&w, spec, NULL, 8, 0600, SHMKIT_EXCL), 0);
    ck_assert_int_eq(shmkit_slot_open(&r, spec, 0), 0);
    ck_assert_int_eq(shmkit_set_wait_mode(SHMKIT_WAIT_BLOCK) >= 0, 1);
    provoke_unrelated_detail();
    ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
    ck_assert_int_eq(shmkit_slot_wait(r, 0, 10000), -EINTR);
    ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
    ck_assert_msg(strcmp(shmkit_error_detail(), stale) != 0 && detail_has("signal"),
                  "detail \"%s\"", shmkit_error_detail());
    shmkit_slot_close(r);
    shmkit_slot_close(w);
    ck_assert_int_eq(shmkit_unlink(spec), 0);

    /* A ring reader waiting for a message, a writer waiting for space. */
    tu_spec(backend, spec);
    rw = tu_ring_create(spec, 256, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_ring_open(&rc, spec, 0), 0);
    provoke_unrelated_detail();
    ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
    ck_assert_int_eq(shmkit_ring_recv(rc, buf, sizeof buf, 10000), -EINTR);
    ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
    ck_assert_msg(strcmp(shmkit_error_detail(), stale) != 0 && detail_has("signal"),
                  "recv: detail \"%s\"", shmkit_error_detail());
    while (shmkit_ring_send(rw, buf, 40, 0) == 0)
        ;
    provoke_unrelated_detail();
    ck_assert_int_eq(setitimer(ITIMER_REAL, &every, NULL), 0);
    ck_assert_int_eq(shmkit_ring_send(rw, buf, 40, 10000), -EINTR);
    ck_assert_int_eq(setitimer(ITIMER_REAL, &off, NULL), 0);
    ck_assert_msg(strcmp(shmkit_error_detail(), stale) != 0 && detail_has("signal"),
                  "send: detail \"%s\"", shmkit_error_detail());
    shmkit_ring_close(rc);
    shmkit_ring_close(rw);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    shmkit_set_wait_mode(SHMKIT_WAIT_ADAPTIVE);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- NULL arguments ------------------------------------------------- */

/* Valid objects for the calls below, so that each call has exactly one
 * NULL argument. */
struct null_ctx {
    char spec[32], rspec[32];
    shmkit_slot *w, *r;
    shmkit_ring *rw, *rc;
    shmkit_layout *layout;
    /* Output handles of the calls that fail: a failing create or open
     * stores NULL there, which must not overwrite the handles above. */
    shmkit_slot *out_slot;
    shmkit_ring *out_ring;
    shmkit_layout *out_layout;
    unsigned char record[64];
    char buf[64];
    void *scratch;
    const void *cscratch;
    struct shmkit_info info;
    struct shmkit_field field;
    struct shmkit_ring_options ring_options;
    uint64_t version;
};

static struct null_ctx nc;

typedef int (*null_call)(void);

#define NULL_CALL(name, expr) static int name(void) { return (expr); }
NULL_CALL(n_slot_create_slotp, shmkit_slot_create(NULL, nc.spec, NULL, 8, 0600, 0))
NULL_CALL(n_slot_create_spec, shmkit_slot_create(&nc.out_slot, NULL, NULL, 8, 0600, 0))
NULL_CALL(n_slot_open_slotp, shmkit_slot_open(NULL, nc.spec, 0))
NULL_CALL(n_slot_open_spec, shmkit_slot_open(&nc.out_slot, NULL, 0))
NULL_CALL(n_slot_read_slot, shmkit_slot_read(NULL, nc.buf, 8, NULL))
NULL_CALL(n_slot_read_buf, shmkit_slot_read(nc.r, NULL, 8, NULL))
NULL_CALL(n_slot_write_slot, shmkit_slot_write(NULL, nc.record, 8))
NULL_CALL(n_slot_write_record, shmkit_slot_write(nc.w, NULL, 8))
NULL_CALL(n_slot_wait_slot, shmkit_slot_wait(NULL, 0, 0))
NULL_CALL(n_slot_version_slot, shmkit_slot_version(NULL, &nc.version))
NULL_CALL(n_slot_version_version, shmkit_slot_version(nc.r, NULL))
NULL_CALL(n_ring_create_ringp, shmkit_ring_create(NULL, nc.rspec, &nc.ring_options))
NULL_CALL(n_ring_create_spec, shmkit_ring_create(&nc.out_ring, NULL, &nc.ring_options))
NULL_CALL(n_ring_create_options, shmkit_ring_create(&nc.out_ring, nc.rspec, NULL))
NULL_CALL(n_ring_size_options, shmkit_ring_size(NULL, NULL, NULL, NULL))
NULL_CALL(n_ring_open_ringp, shmkit_ring_open(NULL, nc.rspec, 0))
NULL_CALL(n_ring_open_spec, shmkit_ring_open(&nc.out_ring, NULL, 0))
NULL_CALL(n_ring_send_ring, shmkit_ring_send(NULL, nc.buf, 4, 0))
NULL_CALL(n_ring_send_msg, shmkit_ring_send(nc.rw, NULL, 4, 0))
NULL_CALL(n_ring_reserve_ring, shmkit_ring_reserve(NULL, &nc.scratch, 4, 0))
NULL_CALL(n_ring_reserve_ptr, shmkit_ring_reserve(nc.rw, NULL, 4, 0))
NULL_CALL(n_ring_commit_ring, shmkit_ring_commit(NULL, 0))
NULL_CALL(n_ring_cancel_ring, shmkit_ring_cancel(NULL))
NULL_CALL(n_ring_recv_ring, shmkit_ring_recv(NULL, nc.buf, sizeof nc.buf, 0))
NULL_CALL(n_ring_recv_buf, shmkit_ring_recv(nc.rc, NULL, sizeof nc.buf, 0))
NULL_CALL(n_ring_peek_ring, shmkit_ring_peek(NULL, &nc.cscratch, 0))
NULL_CALL(n_ring_peek_ptr, shmkit_ring_peek(nc.rc, NULL, 0))
NULL_CALL(n_ring_release_ring, shmkit_ring_release(NULL))
NULL_CALL(n_ring_policy_ring, shmkit_ring_policy(NULL))
NULL_CALL(n_ring_ack_ring, shmkit_ring_ack(NULL, 0))
NULL_CALL(n_ring_rewind_ring, shmkit_ring_rewind(NULL))
NULL_CALL(n_info_spec, shmkit_info(NULL, &nc.info, sizeof nc.info))
NULL_CALL(n_info_info, shmkit_info(nc.spec, NULL, sizeof nc.info))
NULL_CALL(n_unlink_spec, shmkit_unlink(NULL))
NULL_CALL(n_spec_check_spec, shmkit_spec_check(NULL))
NULL_CALL(n_layout_parse_layoutp, shmkit_layout_parse(NULL, "a:u8"))
NULL_CALL(n_layout_parse_text, shmkit_layout_parse(&nc.out_layout, NULL))
NULL_CALL(n_layout_field_layout, shmkit_layout_field(NULL, 0, &nc.field))
NULL_CALL(n_layout_field_field, shmkit_layout_field(nc.layout, 0, NULL))
NULL_CALL(n_layout_find_layout, shmkit_layout_find(NULL, "a"))
NULL_CALL(n_layout_find_name, shmkit_layout_find(nc.layout, NULL))
NULL_CALL(n_layout_set_layout, shmkit_layout_set(NULL, nc.record, "a", "1"))
NULL_CALL(n_layout_set_record, shmkit_layout_set(nc.layout, NULL, "a", "1"))
NULL_CALL(n_layout_set_name, shmkit_layout_set(nc.layout, nc.record, NULL, "1"))
NULL_CALL(n_layout_set_value, shmkit_layout_set(nc.layout, nc.record, "a", NULL))
NULL_CALL(n_layout_assign_layout, shmkit_layout_assign(NULL, nc.record, "a=1"))
NULL_CALL(n_layout_assign_record, shmkit_layout_assign(nc.layout, NULL, "a=1"))
NULL_CALL(n_layout_assign_text, shmkit_layout_assign(nc.layout, nc.record, NULL))
NULL_CALL(n_layout_format_layout, shmkit_layout_format(NULL, nc.record, 0, nc.buf, 8))
NULL_CALL(n_layout_format_record, shmkit_layout_format(nc.layout, NULL, 0, nc.buf, 8))
NULL_CALL(n_layout_format_buf, shmkit_layout_format(nc.layout, nc.record, 0, NULL, 8))
NULL_CALL(n_layout_to_text_layout, shmkit_layout_to_text(NULL, nc.record, nc.buf, 8))
NULL_CALL(n_layout_to_text_record, shmkit_layout_to_text(nc.layout, NULL, nc.buf, 8))
NULL_CALL(n_layout_to_text_buf, shmkit_layout_to_text(nc.layout, nc.record, NULL, 8))
NULL_CALL(n_layout_to_json_layout, shmkit_layout_to_json(NULL, nc.record, nc.buf, 8))
NULL_CALL(n_layout_to_json_record, shmkit_layout_to_json(nc.layout, NULL, nc.buf, 8))
NULL_CALL(n_layout_to_json_buf, shmkit_layout_to_json(nc.layout, nc.record, NULL, 8))

static const struct {
    const char *what;
    null_call call;
} null_calls[] = {
#define N(fn) {#fn, fn}
    N(n_slot_create_slotp), N(n_slot_create_spec), N(n_slot_open_slotp), N(n_slot_open_spec),
    N(n_slot_read_slot), N(n_slot_read_buf), N(n_slot_write_slot), N(n_slot_write_record),
    N(n_slot_wait_slot), N(n_slot_version_slot), N(n_slot_version_version),
    N(n_ring_create_ringp), N(n_ring_create_spec),
    N(n_ring_create_options), N(n_ring_size_options),
    N(n_ring_open_ringp), N(n_ring_open_spec), N(n_ring_send_ring), N(n_ring_send_msg),
    N(n_ring_reserve_ring), N(n_ring_reserve_ptr), N(n_ring_commit_ring), N(n_ring_cancel_ring),
    N(n_ring_recv_ring), N(n_ring_recv_buf), N(n_ring_peek_ring), N(n_ring_peek_ptr),
    N(n_ring_release_ring), N(n_ring_policy_ring), N(n_ring_ack_ring), N(n_ring_rewind_ring),
    N(n_info_spec), N(n_info_info),
    N(n_unlink_spec), N(n_spec_check_spec), N(n_layout_parse_layoutp),
    N(n_layout_parse_text), N(n_layout_field_layout), N(n_layout_field_field),
    N(n_layout_find_layout), N(n_layout_find_name), N(n_layout_set_layout),
    N(n_layout_set_record), N(n_layout_set_name), N(n_layout_set_value),
    N(n_layout_assign_layout), N(n_layout_assign_record), N(n_layout_assign_text),
    N(n_layout_format_layout), N(n_layout_format_record), N(n_layout_format_buf),
    N(n_layout_to_text_layout), N(n_layout_to_text_record), N(n_layout_to_text_buf),
    N(n_layout_to_json_layout), N(n_layout_to_json_record), N(n_layout_to_json_buf),
#undef N
};

static void null_setup(int backend)
{
    memset(&nc, 0, sizeof nc);
    tu_spec(backend, nc.spec);
    tu_spec(backend, nc.rspec);
    shmkit_ring_options_init(&nc.ring_options);
    nc.ring_options.capacity = 256;
    nc.ring_options.mode = 0600;
    ck_assert_int_eq(shmkit_slot_create(&nc.w, nc.spec, NULL, 8, 0600, SHMKIT_EXCL), 0);
    ck_assert_int_eq(shmkit_slot_open(&nc.r, nc.spec, 0), 0);
    nc.rw = tu_ring_create(nc.rspec, 256, 0, SHMKIT_RING_BLOCK, 0600, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_ring_open(&nc.rc, nc.rspec, 0), 0);
    ck_assert_int_eq(shmkit_layout_parse(&nc.layout, "a:u8"), 0);
}

static void null_teardown(void)
{
    shmkit_layout_free(nc.layout);
    shmkit_ring_close(nc.rc);
    shmkit_ring_close(nc.rw);
    shmkit_slot_close(nc.r);
    shmkit_slot_close(nc.w);
    ck_assert_int_eq(shmkit_unlink(nc.spec), 0);
    ck_assert_int_eq(shmkit_unlink(nc.rspec), 0);
}

/* Table-driven: every public function that takes a pointer returns
 * -EINVAL with a detail for a NULL one, and crashes on none. */
START_TEST(test_null_arguments_einval)
{
    int backend = tu_backend_of(_i);
    size_t i;

    null_setup(backend);
    for (i = 0; i < sizeof null_calls / sizeof null_calls[0]; i++) {
        int rc;

        provoke_unrelated_detail();
        rc = null_calls[i].call();
        ck_assert_msg(rc == -EINVAL, "%s returned %d (%s)", null_calls[i].what, rc,
                      shmkit_error_detail());
        ck_assert_msg(shmkit_error_detail()[0] != '\0' &&
                          strcmp(shmkit_error_detail(), stale) != 0,
                      "%s: detail \"%s\"", null_calls[i].what, shmkit_error_detail());
    }
    null_teardown();
    tu_assert_no_leftovers();
}
END_TEST

/* Functions that cannot return a code give a neutral value for a NULL
 * handle; the close and free functions accept NULL as free() does. */
START_TEST(test_null_handles_neutral)
{
    ck_assert_uint_eq(shmkit_slot_record_size(NULL), 0);
    ck_assert_ptr_null(shmkit_slot_layout(NULL));
    ck_assert_uint_eq(shmkit_ring_lost(NULL), 0);
    ck_assert_uint_eq(shmkit_ring_position(NULL), 0);
    ck_assert_uint_eq(shmkit_ring_acked(NULL), 0);
    ck_assert_uint_eq(shmkit_ring_capacity(NULL), 0);
    ck_assert_uint_eq(shmkit_ring_max_message(NULL), 0);
    ck_assert_str_eq(shmkit_layout_text(NULL), "");
    ck_assert_uint_eq(shmkit_layout_size(NULL), 0);
    ck_assert_uint_eq(shmkit_layout_count(NULL), 0);
    shmkit_slot_close(NULL);
    shmkit_ring_close(NULL);
    shmkit_layout_free(NULL);
}
END_TEST

/* A data pointer may be NULL when its length is 0. */
START_TEST(test_null_with_zero_length)
{
    int backend = tu_backend_of(_i);

    null_setup(backend);
    ck_assert_int_eq(shmkit_ring_send(nc.rw, NULL, 0, 0), 0);
    ck_assert_int_eq(shmkit_ring_recv(nc.rc, NULL, 0, 0), 0);
    ck_assert_int_eq(shmkit_slot_read(nc.r, NULL, 0, NULL), SHMKIT_ESIZE);
    ck_assert_int_eq(shmkit_layout_to_text(nc.layout, nc.record, NULL, 0), 4);
    null_teardown();
    tu_assert_no_leftovers();
}
END_TEST

/* ---- flags ---------------------------------------------------------- */

#define ASSERT_FLAGS_REFUSED(call, bits)                                        \
    do {                                                                        \
        ck_assert_int_eq((call), -EINVAL);                                      \
        ck_assert_msg(detail_has(bits), "%s: detail \"%s\" does not name %s",   \
                      #call, shmkit_error_detail(), bits);                      \
    } while (0)

START_TEST(test_flags_refused)
{
    int backend = tu_backend_of(_i);
    char spec[32], rspec[32];
    struct shmkit_info info;
    shmkit_slot *s;
    shmkit_ring *r, *w;

    tu_spec(backend, spec);
    tu_spec(backend, rspec);
    ASSERT_FLAGS_REFUSED(shmkit_slot_create(&s, spec, NULL, 8, 0600, 0x8000u), "0x8000");
    ASSERT_FLAGS_REFUSED(shmkit_slot_create(&s, spec, NULL, 8, 0600, SHMKIT_FROM_OLDEST),
                         "0x4");
    ASSERT_FLAGS_REFUSED(tu_ring_create_rc(&r, rspec, 256, 0, SHMKIT_RING_BLOCK, 0600,
                                        0x10000u | SHMKIT_EXCL), "0x10000");
    ASSERT_FLAGS_REFUSED(tu_ring_create_rc(&r, rspec, 256, 0, SHMKIT_RING_OVERWRITE, 0600,
                                        SHMKIT_FROM_OLDEST), "0x4");
    ck_assert_int_eq(shmkit_info(spec, &info, sizeof info), -ENOENT);
    ck_assert_int_eq(shmkit_info(rspec, &info, sizeof info), -ENOENT);

    ck_assert_int_eq(shmkit_slot_create(&s, spec, NULL, 8, 0600, SHMKIT_EXCL), 0);
    w = tu_ring_create(rspec, 256, 0, SHMKIT_RING_OVERWRITE, 0600, SHMKIT_EXCL);
    shmkit_slot_close(s);
    ASSERT_FLAGS_REFUSED(shmkit_slot_open(&s, spec, 0x8000u), "0x8000");
    ASSERT_FLAGS_REFUSED(shmkit_slot_open(&s, spec, SHMKIT_EXCL), "0x1");
    ASSERT_FLAGS_REFUSED(shmkit_slot_open(&s, spec, SHMKIT_OWNED | SHMKIT_WRITE), "0x100");
    ASSERT_FLAGS_REFUSED(shmkit_slot_open(&s, spec, SHMKIT_FROM_OLDEST), "0x4");
    ASSERT_FLAGS_REFUSED(shmkit_slot_open(&s, spec, SHMKIT_ACK), "0x10");
    ASSERT_FLAGS_REFUSED(shmkit_ring_open(&r, rspec, 0x8000u), "0x8000");
    ASSERT_FLAGS_REFUSED(shmkit_ring_open(&r, rspec, SHMKIT_EXCL), "0x1");
    ASSERT_FLAGS_REFUSED(shmkit_ring_open(&r, rspec, SHMKIT_OWNED), "0x100");
    ASSERT_FLAGS_REFUSED(shmkit_ring_open(&r, rspec, SHMKIT_WRITE | SHMKIT_FROM_OLDEST),
                         "SHMKIT_FROM_OLDEST");
    ASSERT_FLAGS_REFUSED(shmkit_ring_open(&r, rspec, SHMKIT_WRITE | SHMKIT_ACK), "SHMKIT_ACK");
    /* An overwrite ring's readers take nothing: nothing to acknowledge. */
    ASSERT_FLAGS_REFUSED(shmkit_ring_open(&r, rspec, SHMKIT_ACK), "SHMKIT_ACK");
    /* The accepted ones still work. */
    ck_assert_int_eq(shmkit_slot_open(&s, spec, SHMKIT_ANY_OWNER), 0);
    shmkit_slot_close(s);
    ck_assert_int_eq(shmkit_ring_open(&r, rspec, SHMKIT_FROM_OLDEST | SHMKIT_ANY_OWNER), 0);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    tu_finish(spec, rspec);
}
END_TEST

/* shmkit_info takes the caller's sizeof(struct shmkit_info), so that the
 * structure can grow: a size no version had is -EINVAL with a detail that
 * says what to pass, and a larger (later) structure gets zeros past the
 * fields this library knows. */
START_TEST(test_info_size)
{
    int backend = tu_backend_of(_i);
    union {
        struct shmkit_info info;
        unsigned char bytes[sizeof(struct shmkit_info) + 64];
    } later;
    char spec[32];
    shmkit_slot *s;
    size_t i;

    tu_spec(backend, spec);
    ck_assert_int_eq(shmkit_slot_create(&s, spec, NULL, 8, 0600, SHMKIT_EXCL), 0);
    memset(&later, 0xff, sizeof later);
    ck_assert_int_eq(shmkit_info(spec, &later.info, sizeof later.info - 1), -EINVAL);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "sizeof(struct shmkit_info)"));
    ck_assert_int_eq(later.bytes[0], 0xff); /* untouched */
    ck_assert_int_eq(shmkit_info(spec, &later.info, 0), -EINVAL);
    ck_assert_int_eq(shmkit_info(spec, &later.info, 5000), -EINVAL);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "info_size 5000"));
    ck_assert_int_eq(shmkit_info(spec, &later.info, sizeof later), 0);
    ck_assert_int_eq(later.info.kind, SHMKIT_KIND_SLOT);
    ck_assert_uint_eq(later.info.record_size, 8);
    for (i = sizeof later.info; i < sizeof later; i++)
        ck_assert_int_eq(later.bytes[i], 0);
    shmkit_slot_close(s);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- the wrong kind of handle --------------------------------------- */

/* One rule: a writer's operation on a reader's handle, or a reader's on
 * the writer's, is -EPERM. */
START_TEST(test_wrong_handle_eperm)
{
    int backend = tu_backend_of(_i);
    int policy = POLICY_OF_I;
    char spec[32], rspec[32], buf[16] = {0};
    shmkit_slot *sw, *sr;
    shmkit_ring *w, *r;
    const void *p;
    void *slot;

    tu_spec(backend, spec);
    tu_spec(backend, rspec);
    ck_assert_int_eq(shmkit_slot_create(&sw, spec, NULL, 8, 0600, SHMKIT_EXCL), 0);
    ck_assert_int_eq(shmkit_slot_open(&sr, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_write(sr, buf, 8), -EPERM);
    w = tu_ring_create(rspec, 256, 0, policy, 0600, SHMKIT_EXCL);
    ck_assert_int_eq(shmkit_ring_open(&r, rspec, 0), 0);
    ck_assert_int_eq(shmkit_ring_send(r, buf, 4, 0), -EPERM);
    ck_assert_int_eq(shmkit_ring_reserve(r, &slot, 4, 0), -EPERM);
    ck_assert_int_eq(shmkit_ring_commit(r, 0), -EPERM);
    ck_assert_int_eq(shmkit_ring_cancel(r), -EPERM);
    ck_assert(detail_has("writer"));
    ck_assert_int_eq(shmkit_ring_recv(w, buf, sizeof buf, 0), -EPERM);
    ck_assert_int_eq(shmkit_ring_peek(w, &p, 0), -EPERM);
    ck_assert_int_eq(shmkit_ring_release(w), -EPERM);
    /* On the right handle, out of order: -EINVAL. */
    ck_assert_int_eq(shmkit_ring_commit(w, 0), -EINVAL);
    ck_assert_int_eq(shmkit_ring_cancel(w), -EINVAL);
    ck_assert_int_eq(shmkit_ring_release(r), -EINVAL);
    shmkit_ring_close(r);
    shmkit_ring_close(w);
    shmkit_slot_close(sr);
    shmkit_slot_close(sw);
    tu_finish(spec, rspec);
}
END_TEST

/* ---- error codes ------------------------------------------------------ */

START_TEST(test_enotholder_described)
{
    ck_assert_str_ne(shmkit_strerror(SHMKIT_ENOTHOLDER), "unknown error");
    ck_assert_ptr_nonnull(strstr(shmkit_strerror(SHMKIT_ENOTHOLDER), "lease"));
}
END_TEST

static Suite *api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *forks = tu_tcase(s, "fork"), *details = tu_tcase(s, "details");
    TCase *args = tu_tcase(s, "arguments");

    tu_add_backend_test(forks, test_fork_slot_writer_refused, 1);
    tu_add_backend_test(forks, test_fork_daemon_grandchild_refused, 1);
    tu_add_backend_test(forks, test_fork_ring_handles, 2);
    tu_add_backend_test(forks, test_fork_child_close_keeps_owned, 1);
    tu_add_backend_test(forks, test_unseen_child_writer_not_corrupt, 1);
    tu_add_backend_test(forks, test_unseen_child_consumer_not_corrupt, 1);
    tu_add_backend_test(details, test_wait_failures_set_detail, 1);
    tu_add_backend_test(details, test_interrupted_wait_sets_detail, 1);
    tu_add_backend_test(args, test_null_arguments_einval, 1);
    tcase_add_test(args, test_null_handles_neutral);
    tu_add_backend_test(args, test_null_with_zero_length, 1);
    tu_add_backend_test(args, test_flags_refused, 1);
    tu_add_backend_test(args, test_info_size, 1);
    tu_add_backend_test(args, test_wrong_handle_eperm, 2);
    tcase_add_test(args, test_enotholder_described);
    return s;
}

int main(void)
{
    return tu_run(api_suite());
}
