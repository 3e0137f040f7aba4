/*
 * check_handles.c - what a handle holds and what it names (issue 11):
 *   - descriptors: none below 3, even when the program closed 0-2, each
 *     close-on-exec, and no descriptor kept per reader handle;
 *   - names that are no segment at all (a FIFO, directory, socket or
 *     symbolic link planted in /dev/shm): refused at once, never followed,
 *     never removed;
 *   - shmkit_slot_is_current / shmkit_ring_is_current: still current,
 *     removed, replaced, for both backends;
 *   - errno is never set to 0 by a successful call.
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shmkit.h"
#include "testutil.h"

#define LAYOUT "id:u32 temp:f64"
#define MAX_FD 1024

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

/* ---- descriptors ---------------------------------------------------------- */

/* The handles of every kind that the tests below open on one backend. */
struct handles {
    shmkit_slot *writer, *reader;
    shmkit_ring *ow_writer, *ow_reader, *bl_writer, *bl_consumer;
    char slot[32], ow[32], bl[32];
};

static void open_handles(struct handles *h, int backend)
{
    memset(h, 0, sizeof *h);
    tu_spec(backend, h->slot);
    tu_spec(backend, h->ow);
    tu_spec(backend, h->bl);
    ck_assert_int_eq(shmkit_slot_create(&h->writer, h->slot, LAYOUT, 0, 0600, 0), 0);
    ck_assert_int_eq(shmkit_slot_open(&h->reader, h->slot, 0), 0);
    h->ow_writer = tu_ring_create(h->ow, 4096, 0, SHMKIT_RING_OVERWRITE, 0600, 0);
    ck_assert_int_eq(shmkit_ring_open(&h->ow_reader, h->ow, 0), 0);
    h->bl_writer = tu_ring_create(h->bl, 4096, 0, SHMKIT_RING_BLOCK, 0600, 0);
    ck_assert_int_eq(shmkit_ring_open(&h->bl_consumer, h->bl, 0), 0);
}

/* Waits make the readers' writable waiter views. */
static void wait_on_handles(struct handles *h)
{
    uint64_t v = 0;

    ck_assert_int_eq(shmkit_slot_version(h->reader, &v), 0);
    ck_assert_int_eq(shmkit_slot_wait(h->reader, v, 1), -ETIMEDOUT);
    ck_assert_int_eq(shmkit_ring_recv(h->ow_reader, &v, sizeof v, 1), -ETIMEDOUT);
    ck_assert_int_eq(shmkit_ring_recv(h->bl_consumer, &v, sizeof v, 1), -ETIMEDOUT);
}

/* Every descriptor not open in BEFORE: none of 0-2, all close-on-exec. */
static void check_descriptors(const char *before, const char *when, int saved_stderr)
{
    int fd;

    for (fd = 0; fd < 3; fd++)
        if (fd_is_open(fd)) {
            dup2(saved_stderr, 2);
            ck_abort_msg("descriptor %d is open %s", fd, when);
        }
    for (fd = 3; fd < MAX_FD; fd++)
        if (!before[fd] && fd_is_open(fd))
            ck_assert_msg((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0,
                          "descriptor %d is not close-on-exec %s", fd, when);
}

static void close_handles(struct handles *h)
{
    shmkit_slot_close(h->reader);
    shmkit_slot_close(h->writer);
    shmkit_ring_close(h->ow_reader);
    shmkit_ring_close(h->ow_writer);
    shmkit_ring_close(h->bl_consumer);
    shmkit_ring_close(h->bl_writer);
    shmkit_unlink(h->slot);
    shmkit_unlink(h->ow);
    shmkit_unlink(h->bl);
}

/* A program started with standard input, output and error closed: no
 * descriptor of the library's may land on 0, 1 or 2 (where the program's
 * printf()s would go into a segment), and each one it holds is
 * close-on-exec.  Before the fix a POSIX reader kept its O_RDWR
 * descriptor on 0. */
START_TEST(test_no_descriptor_below_3)
{
    int backend = tu_backend_of(_i);
    char before[MAX_FD];
    struct handles h;
    int saved[3], fd;

    for (fd = 0; fd < 3; fd++) {
        saved[fd] = fcntl(fd, F_DUPFD_CLOEXEC, 100);
        ck_assert_int_ge(saved[fd], 100);
    }
    for (fd = 0; fd < MAX_FD; fd++)
        before[fd] = (char)fd_is_open(fd);
    close(0);
    close(1);
    close(2);
    open_handles(&h, backend);
    check_descriptors(before, "after opening handles", saved[2]);
    wait_on_handles(&h);
    check_descriptors(before, "after waiting on them", saved[2]);
    close_handles(&h);
    for (fd = 0; fd < 3; fd++) {
        ck_assert_int_eq(dup2(saved[fd], fd), fd);
        close(saved[fd]);
    }
    tu_assert_no_leftovers();
}
END_TEST

/* A reader handle holds no descriptor: 200 of them open under a limit of
 * 32 descriptors (before the fix each POSIX reader kept one until its
 * first wait, and the 29th open failed with EMFILE), and each still
 * registers as a waiter and is woken. */
START_TEST(test_readers_hold_no_descriptor)
{
    int backend = tu_backend_of(_i);
    enum { N = 200 };
    static shmkit_slot *readers[N];
    struct rlimit old, low;
    shmkit_slot *writer;
    unsigned char rec[16] = { 1 };
    char spec[32];
    int i;

    tu_spec(backend, spec);
    ck_assert_int_eq(shmkit_slot_create(&writer, spec, LAYOUT, 0, 0600, 0), 0);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 32;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    for (i = 0; i < N; i++) {
        int rc = shmkit_slot_open(&readers[i], spec, 0);
        if (rc != 0) {
            setrlimit(RLIMIT_NOFILE, &old);
            ck_abort_msg("open of reader %d: %s (%s)", i, shmkit_strerror(rc),
                         shmkit_error_detail());
        }
    }
    for (i = 0; i < N; i++)
        ck_assert_int_eq(shmkit_slot_wait(readers[i], 0, 0), -EAGAIN);
    ck_assert_int_eq(shmkit_slot_write(writer, rec, sizeof rec), 0);
    for (i = 0; i < N; i++) {
        ck_assert_int_eq(shmkit_slot_wait(readers[i], 0, 1000), 0);
        shmkit_slot_close(readers[i]);
    }
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    shmkit_slot_close(writer);
    tu_finish(spec);
}
END_TEST

/* ---- shmkit_*_is_current ------------------------------------------------- */

/* Slot handles: current, then removed (the reader still maps it), then
 * replaced by a new slot of the same name; a handle on the new one is
 * current.  For System V the removed segment lives on while attached
 * (Linux: SHM_DEST) and the key then names a new id. */
START_TEST(test_slot_is_current)
{
    int backend = tu_backend_of(_i);
    shmkit_slot *writer, *reader, *fresh;
    char spec[32];

    tu_spec(backend, spec);
    ck_assert_int_eq(shmkit_slot_create(&writer, spec, LAYOUT, 0, 0600, 0), 0);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    ck_assert_int_eq(shmkit_slot_is_current(reader), 1);
    ck_assert_int_eq(shmkit_slot_is_current(writer), 1);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    ck_assert_int_eq(shmkit_slot_is_current(reader), 0);
    ck_assert_msg(shmkit_error_detail()[0] != '\0', "no detail says why");
    ck_assert_int_eq(shmkit_slot_is_current(writer), 0);
    ck_assert_int_eq(shmkit_slot_create(&fresh, spec, LAYOUT, 0, 0600, SHMKIT_EXCL), 0);
    ck_assert_int_eq(shmkit_slot_is_current(reader), 0);
    /* (System V on Linux says SHM_DEST first: removed, kept while attached.) */
    ck_assert_msg(backend != SHMKIT_BACKEND_POSIX || strstr(shmkit_error_detail(), "another"),
                  "detail: %s", shmkit_error_detail());
    ck_assert_int_eq(shmkit_slot_is_current(writer), 0);
    ck_assert_int_eq(shmkit_slot_is_current(fresh), 1);
    ck_assert_int_eq(shmkit_slot_is_current(NULL), -EINVAL);
    shmkit_slot_close(reader);
    shmkit_slot_close(writer);
    shmkit_slot_close(fresh);
    tu_finish(spec);
}
END_TEST

/* Ring handles of both policies: the writer, a block ring's consumer, an
 * overwrite ring's reader. */
START_TEST(test_ring_is_current)
{
    int backend = tu_backend_of(_i);
    static const int policies[] = { SHMKIT_RING_BLOCK, SHMKIT_RING_OVERWRITE };
    size_t p;

    for (p = 0; p < 2; p++) {
        shmkit_ring *writer, *reader, *fresh;
        char spec[32];

        tu_spec(backend, spec);
        writer = tu_ring_create(spec, 4096, 0, policies[p], 0600, 0);
        ck_assert_int_eq(shmkit_ring_open(&reader, spec, 0), 0);
        ck_assert_int_eq(shmkit_ring_is_current(reader), 1);
        ck_assert_int_eq(shmkit_ring_is_current(writer), 1);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
        ck_assert_int_eq(shmkit_ring_is_current(reader), 0);
        ck_assert_int_eq(shmkit_ring_is_current(writer), 0);
        fresh = tu_ring_create(spec, 4096, 0, policies[p], 0600, SHMKIT_EXCL);
        ck_assert_int_eq(shmkit_ring_is_current(reader), 0);
        ck_assert_int_eq(shmkit_ring_is_current(fresh), 1);
        shmkit_ring_close(reader);
        shmkit_ring_close(writer);
        shmkit_ring_close(fresh);
        ck_assert_int_eq(shmkit_unlink(spec), 0);
    }
    ck_assert_int_eq(shmkit_ring_is_current(NULL), -EINVAL);
    tu_assert_no_leftovers();
}
END_TEST

/* ---- planted names (Linux: POSIX objects are files of /dev/shm) ---------- */

#ifdef __linux__
/* "/skt.PID.N" -> "/dev/shm/skt.PID.N" */
static void shm_path(const char *spec, char *path, size_t len)
{
    snprintf(path, len, "/dev/shm%s", spec);
}

enum planted { FIFO, DIRECTORY, SOCKET, LINK_TO_SEGMENT, DANGLING_LINK };
static const char *const planted_kind[] = {
    "a FIFO", "a directory", "a socket", "a symbolic link", "a symbolic link"
};

static void plant(enum planted what, const char *path, const char *target)
{
    struct sockaddr_un sa;
    int fd;

    switch (what) {
    case FIFO:
        ck_assert_int_eq(mkfifo(path, 0644), 0);
        break;
    case DIRECTORY:
        ck_assert_int_eq(mkdir(path, 0755), 0);
        break;
    case SOCKET:
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        close(fd);
        break;
    case LINK_TO_SEGMENT:
    case DANGLING_LINK:
        ck_assert_int_eq(symlink(target, path), 0);
        break;
    }
}

static void unplant(const char *path)
{
    if (rmdir(path) != 0)
        unlink(path);
}

static void assert_refused(int rc, const char *what, const char *kind)
{
    ck_assert_msg(rc == SHMKIT_ENOTSHMKIT, "%s: %d (%s), expected SHMKIT_ENOTSHMKIT", what,
                  rc, shmkit_error_detail());
    ck_assert_msg(strcmp(shmkit_error_detail(), kind) == 0, "%s: detail \"%s\", expected \"%s\"",
                  what, shmkit_error_detail(), kind);
}

/* Each kind of non-object under a segment's name: every open, info and
 * unlink is refused with SHMKIT_ENOTSHMKIT and a detail naming the kind,
 * at once (a FIFO used to block open() forever: alarm() would end the
 * test), and the planted thing is still there afterwards. */
START_TEST(test_planted_names_refused)
{
    enum planted what = (enum planted)_i;
    char spec[32], real[32], path[64], real_path[64];
    const char *kind = planted_kind[what];
    struct shmkit_info info;
    shmkit_slot *slot = NULL, *writer = NULL;
    shmkit_ring *ring = NULL;
    struct stat st;

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    tu_posix_spec(spec);
    tu_posix_spec(real);
    shm_path(spec, path, sizeof path);
    shm_path(real, real_path, sizeof real_path);
    if (what == LINK_TO_SEGMENT)
        ck_assert_int_eq(shmkit_slot_create(&writer, real, LAYOUT, 0, 0644, 0), 0);
    plant(what, path, real_path);
    alarm(20);
    assert_refused(shmkit_slot_open(&slot, spec, 0), "slot open", kind);
    assert_refused(shmkit_slot_open(&slot, spec, SHMKIT_WRITE), "slot open as writer", kind);
    assert_refused(shmkit_ring_open(&ring, spec, 0), "ring open", kind);
    assert_refused(shmkit_slot_create(&slot, spec, LAYOUT, 0, 0600, 0), "slot create", kind);
    assert_refused(shmkit_info(spec, &info, sizeof info), "info", kind);
    assert_refused(shmkit_unlink(spec), "unlink", kind);
    alarm(0);
    ck_assert_msg(lstat(path, &st) == 0, "the planted %s was removed", kind);
    unplant(path);
    if (writer != NULL) {
        /* The segment the link pointed at is untouched. */
        ck_assert_int_eq(shmkit_slot_is_current(writer), 1);
        shmkit_slot_close(writer);
        ck_assert_int_eq(shmkit_unlink(real), 0);
    }
    tu_assert_no_leftovers();
}
END_TEST

/* A segment removed and its name taken by a FIFO: the handle is not
 * current, and finding that out does not block. */
START_TEST(test_replaced_by_fifo)
{
    shmkit_slot *reader, *writer;
    char spec[32], path[64];

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    tu_posix_spec(spec);
    shm_path(spec, path, sizeof path);
    ck_assert_int_eq(shmkit_slot_create(&writer, spec, LAYOUT, 0, 0600, 0), 0);
    ck_assert_int_eq(shmkit_slot_open(&reader, spec, 0), 0);
    ck_assert_int_eq(shmkit_unlink(spec), 0);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    alarm(20);
    ck_assert_int_eq(shmkit_slot_is_current(reader), 0);
    ck_assert_msg(strstr(shmkit_error_detail(), "a FIFO") != NULL, "detail: %s",
                  shmkit_error_detail());
    alarm(0);
    unlink(path);
    shmkit_slot_close(reader);
    shmkit_slot_close(writer);
    tu_assert_no_leftovers();
}
END_TEST
#endif /* __linux__ */

/* ---- errno ---------------------------------------------------------------- */

#define KEEPS_ERRNO(call)                                                      \
    do {                                                                       \
        errno = 1234;                                                          \
        ck_assert_int_ge((call), 0);                                           \
        ck_assert_msg(errno != 0, "%s set errno to 0", #call);                 \
    } while (0)

/* No successful call sets errno to 0 (POSIX: no function does); the
 * System V spec parser did, for every call that takes a spec. */
START_TEST(test_errno_never_zeroed)
{
    int backend = tu_backend_of(_i);
    struct shmkit_info info;
    shmkit_slot *writer, *reader;
    shmkit_ring *ring;
    char spec[32], rspec[32];

    tu_spec(backend, spec);
    tu_spec(backend, rspec);
    KEEPS_ERRNO(shmkit_spec_check(spec));
    KEEPS_ERRNO(shmkit_slot_create(&writer, spec, LAYOUT, 0, 0600, 0));
    KEEPS_ERRNO(shmkit_slot_open(&reader, spec, 0));
    KEEPS_ERRNO(shmkit_info(spec, &info, sizeof info));
    KEEPS_ERRNO(shmkit_slot_is_current(reader));
    KEEPS_ERRNO(tu_ring_create_rc(&ring, rspec, 4096, 0, SHMKIT_RING_OVERWRITE, 0600, 0));
    shmkit_ring_close(ring);
    KEEPS_ERRNO(shmkit_ring_open(&ring, rspec, 0));
    shmkit_ring_close(ring);
    shmkit_slot_close(reader);
    shmkit_slot_close(writer);
    KEEPS_ERRNO(shmkit_unlink(spec));
    KEEPS_ERRNO(shmkit_unlink(rspec));
    tu_assert_no_leftovers();
}
END_TEST

/* The float parser of the layout functions did too (strtod's errno). */
START_TEST(test_layout_set_keeps_errno)
{
    unsigned char record[16] = {0};
    shmkit_layout *layout;

    KEEPS_ERRNO(shmkit_layout_parse(&layout, LAYOUT));
    KEEPS_ERRNO(shmkit_layout_set(layout, record, "temp", "21.5"));
    KEEPS_ERRNO(shmkit_layout_assign(layout, record, "temp=-0.25"));
    shmkit_layout_free(layout);
}
END_TEST

static Suite *handles_suite(void)
{
    Suite *s = suite_create("handles");
    TCase *tc = tu_tcase(s, "handles");

    tu_add_backend_test(tc, test_no_descriptor_below_3, 1);
    tu_add_backend_test(tc, test_readers_hold_no_descriptor, 1);
    tu_add_backend_test(tc, test_slot_is_current, 1);
    tu_add_backend_test(tc, test_ring_is_current, 1);
    tcase_add_test(tc, test_layout_set_keeps_errno);
#ifdef __linux__
    tcase_add_loop_test(tc, test_planted_names_refused, FIFO, DANGLING_LINK + 1);
    tcase_add_test(tc, test_replaced_by_fifo);
#endif
    tu_add_backend_test(tc, test_errno_never_zeroed, 1);
    tcase_set_timeout(tc, 60);
    return s;
}

int main(void)
{
    return tu_run(handles_suite());
}
