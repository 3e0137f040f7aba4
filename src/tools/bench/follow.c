/*
 * follow.c - the read-only follower rows of "shmkit bench" (--rows follow,
 * issue 13): a reader that may not write the segment, which sleeps in the
 * kernel on the data word and is woken by the writer's gap clock
 * (src/wait.c, "Followers").
 *
 *   wake    a writer publishes every FOLLOW_PERIOD_NS to a follower, which
 *           takes the time of each delivery against the time the writer
 *           put in the record: the wake-up latency (median, p99);
 *   idle    a follower waits with nothing arriving: its CPU;
 *   writer  what followers cost a writer that nobody waits for: a 64 B
 *           overwrite ring on a 0644 segment (a clock read per message)
 *           against one on a 0600 segment (none), interleaved in blocks
 *           in one process; and the cost of one clock read.
 *
 * The follower has no write permission: as root it switches to uid 65534
 * on a 0644 segment; otherwise the segment is 0444 (its owner may read,
 * not write; the creating handle keeps its read-write mapping).  These
 * rows run their own processes: the segments need a mode and a follower
 * that the row objects (objects.c) do not make.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench-int.h"

#define FOLLOW_PERIOD_NS 1000000u  /* wake rows: one publication per ms */
#define FOLLOW_WAKES 400           /* ... this many (--quick: 20) */
#define FOLLOW_NOBODY 65534
#define WRITER_BLOCK 20000         /* writer row: messages per timed block */
#define WRITER_BLOCKS 40           /* ... blocks per segment (--quick: 2) */
#define CLOCK_READS 1000000

/* A follower row's record: the message number and when it was sent. */
struct follow_msg {
    uint64_t seq;
    uint64_t sent_ns;
};

/* What the children report, in a shared anonymous page. */
struct follow_page {
    struct side_report rep[2];
    uint64_t received;             /* wake rows: the follower's last message */
    double base_msgs_s;            /* writer row: the 0600 ring */
    double clock_ns;               /* writer row: one clock read */
};

static int follow_pipe_wait(int fd)
{
    char c;
    ssize_t r;

    while ((r = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    return r == 1 ? 0 : -1;
}

static void follow_pipe_post(int fd)
{
    while (write(fd, "g", 1) < 0 && errno == EINTR)
        ;
}

#ifdef BENCH_CAN_PIN
static void follow_pin(const struct bench_run *run, int side)
{
    cpu_set_t set;

    if (!run->opt.pin)
        return;
    CPU_ZERO(&set);
    CPU_SET(run->pin_cpus[side], &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}
#else
static void follow_pin(const struct bench_run *run, int side)
{
    (void)run;
    (void)side;
}
#endif

/* The mode of a follower row's segment (see the top of the file). */
static unsigned follow_mode(void)
{
    return geteuid() == 0 ? 0644u : 0444u;
}

/* Create SPEC for TRANSPORT (a slot of one record, or an overwrite ring
 * of 64-byte messages) with MODE; the writer's handle in *SLOT or *RING. */
static int follow_create(int transport, const char *spec, unsigned mode, shmkit_slot **slot,
                         shmkit_ring **ring)
{
    struct shmkit_ring_options o;

    *slot = NULL;
    *ring = NULL;
    if (transport == T_SLOT)
        return shmkit_slot_create(slot, spec, NULL, 64, mode, SHMKIT_EXCL);
    shmkit_ring_options_init(&o);
    o.capacity = 64 * KIB;
    o.max_message = 64;
    o.policy = SHMKIT_RING_OVERWRITE;
    o.mode = mode;
    o.flags = SHMKIT_EXCL;
    return shmkit_ring_create(ring, spec, &o);
}

static void follow_close(shmkit_slot *slot, shmkit_ring *ring)
{
    if (slot != NULL)
        shmkit_slot_close(slot);
    if (ring != NULL)
        shmkit_ring_close(ring);
}

/* In a follower child: give up write permission and open SPEC read-only. */
static int follower_open(int transport, const char *spec, shmkit_slot **slot,
                         shmkit_ring **ring)
{
    if (geteuid() == 0 && (setgid(FOLLOW_NOBODY) != 0 || setuid(FOLLOW_NOBODY) != 0))
        return -EPERM;
    *slot = NULL;
    *ring = NULL;
    if (transport == T_SLOT)
        return shmkit_slot_open(slot, spec, SHMKIT_ANY_OWNER);
    return shmkit_ring_open(ring, spec, SHMKIT_ANY_OWNER);
}

/* The next record a follower receives (timeout TIMEOUT_MS), into *M. */
static int follower_next(shmkit_slot *slot, shmkit_ring *ring, uint64_t *seen,
                         struct follow_msg *m, int timeout_ms)
{
    unsigned char buf[64];
    int rc;

    if (slot != NULL) {
        rc = shmkit_slot_wait(slot, *seen, timeout_ms);
        if (rc == 0)
            rc = shmkit_slot_read(slot, buf, sizeof buf, seen);
    } else {
        rc = shmkit_ring_recv(ring, buf, sizeof buf, timeout_ms);
    }
    if (rc >= 0)
        memcpy(m, buf, sizeof *m);
    return rc < 0 ? rc : 0;
}

/* The wake row's follower: the latency of every delivery until STOP_SEQ. */
static int wake_follower(int transport, const char *spec, int ready_fd,
                         struct follow_page *page)
{
    struct side_report *rep = &page->rep[1];
    uint64_t *lat = calloc(FOLLOW_WAKES, sizeof *lat);
    shmkit_slot *slot;
    shmkit_ring *ring;
    uint64_t seen = 0;
    struct window win;
    size_t n = 0;
    int rc = follower_open(transport, spec, &slot, &ring);

    follow_pipe_post(ready_fd);
    if (rc < 0 || lat == NULL) {
        free(lat);
        return report_fail(rep, "follower: open: %s", shmkit_strerror(rc));
    }
    window_start(&win);
    for (;;) {
        struct follow_msg m;

        rc = follower_next(slot, ring, &seen, &m, WAIT_MS);
        if (rc < 0) {
            free(lat);
            return report_fail(rep, "follower: %s", shmkit_strerror(rc));
        }
        if (m.seq == STOP_SEQ)
            break;
        if (n < FOLLOW_WAKES)
            lat[n++] = now_ns() - m.sent_ns;
        __atomic_store_n(&page->received, m.seq, __ATOMIC_RELEASE);
    }
    window_end(&win, rep);
    follow_close(slot, ring);
    if (n > 0)
        summarize(lat, n, rep);
    free(lat);
    if (n == 0)
        return report_fail(rep, "follower: nothing arrived");
    rep->ok = 1;
    return 0;
}

/* The idle row's follower: one wait of IDLE_MS with nothing arriving. */
static int idle_follower(int transport, const char *spec, int ready_fd, int idle_ms,
                         struct side_report *rep)
{
    shmkit_slot *slot;
    shmkit_ring *ring;
    struct follow_msg m;
    uint64_t seen = 0;
    struct window win;
    int rc = follower_open(transport, spec, &slot, &ring);

    follow_pipe_post(ready_fd);
    if (rc < 0)
        return report_fail(rep, "follower: open: %s", shmkit_strerror(rc));
    window_start(&win);
    rc = follower_next(slot, ring, &seen, &m, idle_ms);
    window_end(&win, rep);
    follow_close(slot, ring);
    if (rc != -ETIMEDOUT)
        return report_fail(rep, "the wait returned %d, not a timeout", rc);
    rep->ok = 1;
    return 0;
}

static int publish(shmkit_slot *slot, shmkit_ring *ring, uint64_t seq)
{
    unsigned char buf[64];
    struct follow_msg m;

    memset(buf, 0, sizeof buf);
    m.seq = seq;
    m.sent_ns = now_ns();
    memcpy(buf, &m, sizeof m);
    if (slot != NULL)
        return shmkit_slot_write(slot, buf, sizeof buf);
    return shmkit_ring_send(ring, buf, sizeof buf, 0);
}

/* Until the follower has received message SEQ (at most WAIT_MS): a slow
 * follower (valgrind, a loaded machine) must not find a slot's records
 * overwritten by the next ones, and it times each wake-up from a sleep. */
static int await_received(const struct follow_page *page, uint64_t seq)
{
    double end = now_s() + WAIT_MS / 1000.0;

    while (__atomic_load_n(&page->received, __ATOMIC_ACQUIRE) < seq) {
        if (now_s() > end)
            return -1;
        usleep(100);
    }
    return 0;
}

/* The wake row's writer: WAKES publications FOLLOW_PERIOD_NS apart, each
 * after the follower received the one before. */
static int wake_writer(shmkit_slot *slot, shmkit_ring *ring, int wakes,
                       struct follow_page *page)
{
    struct side_report *rep = &page->rep[0];
    struct timespec period = { 0, FOLLOW_PERIOD_NS };
    uint64_t seq;

    nanosleep(&period, NULL); /* the follower gets to sleep first */
    for (seq = 1; seq <= (uint64_t)wakes; seq++) {
        if (publish(slot, ring, seq) < 0)
            return report_fail(rep, "writer: publish failed");
        if (await_received(page, seq) < 0)
            return report_fail(rep, "writer: message %llu not received in %d ms",
                               (unsigned long long)seq, WAIT_MS);
        nanosleep(&period, NULL);
    }
    if (publish(slot, ring, STOP_SEQ) < 0)
        return report_fail(rep, "writer: publish failed");
    rep->ok = 1;
    return 0;
}

/* Reap PID within LIMIT_S seconds (then killed): 0 if it exited with 0. */
static int follow_reap(pid_t pid, double limit_s)
{
    double end = now_s() + limit_s;
    int status;

    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);

        if (r == pid)
            return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_s() > end || bench_signal_caught()) {
            kill(pid, SIGKILL);
            (void)waitpid(pid, &status, 0);
            return -1;
        }
        usleep(2000);
    }
}

static struct follow_page *page_new(void)
{
    void *p = mmap(NULL, sizeof(struct follow_page), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED)
        return NULL;
    memset(p, 0, sizeof(struct follow_page));
    return p;
}

/* Fork the follower child of a wake or idle row; its pid, or -1.  The
 * child reports readiness on READY[1]. */
static pid_t start_follower(struct bench_run *run, int transport, const char *spec,
                            int ready[2], struct follow_page *page, int idle)
{
    int idle_ms = (int)(run->opt.idle_seconds * 1000.0 + 0.5), rc;
    pid_t pid = fork();

    if (pid != 0)
        return pid;
    close(ready[0]);
    follow_pin(run, 1);
    if (idle)
        rc = idle_follower(transport, spec, ready[1], idle_ms, &page->rep[1]);
    else
        rc = wake_follower(transport, spec, ready[1], page);
    _exit(rc == 0 ? 0 : 1);
}

/* One wake or idle row of TRANSPORT. */
static void follower_row(struct bench_run *run, int transport, int idle)
{
    struct result *r = new_result(run, S_FOLLOW, transport, SHMKIT_WAIT_ADAPTIVE, idle ? 0 : 64);
    struct follow_page *page;
    shmkit_slot *slot;
    shmkit_ring *ring;
    char spec[48];
    int ready[2], rc;
    pid_t pid;

    if (r == NULL || bench_signal_caught())
        return;
    make_spec(run, spec, sizeof spec);
    if ((page = page_new()) == NULL) {
        snprintf(r->note, sizeof r->note, "mmap: %s", strerror(errno));
        return;
    }
    rc = follow_create(transport, spec, follow_mode(), &slot, &ring);
    if (rc < 0 || pipe(ready) != 0) {
        snprintf(r->note, sizeof r->note, "create %s: %s", spec, shmkit_strerror(rc));
        follow_close(slot, ring);
        (void)shmkit_unlink(spec);
        munmap(page, sizeof *page);
        return;
    }
    fflush(stdout);
    pid = start_follower(run, transport, spec, ready, page, idle);
    close(ready[1]);
    if (pid > 0)
        (void)follow_pipe_wait(ready[0]);
    close(ready[0]);
    (void)shmkit_unlink(spec);
    if (pid > 0 && !idle)
        (void)wake_writer(slot, ring, run->opt.quick ? 20 : FOLLOW_WAKES, page);
    rc = pid > 0 ? follow_reap(pid, run->opt.idle_seconds + 30.0) : -1;
    follow_close(slot, ring);
    if (rc < 0 || !page->rep[1].ok) {
        snprintf(r->note, sizeof r->note, "failed: %.180s",
                 page->rep[1].note[0] != '\0' ? page->rep[1].note : "the follower failed");
    } else {
        const struct side_report *f = &page->rep[1];

        r->ok = 1;
        take_percentiles(r, f);
        r->seconds = f->wall;
        r->cpu[1] = f->wall > 0 ? 100.0 * f->cpu / f->wall : -1.0;
        if (idle)
            r->cpu[0] = r->cpu[1];
    }
    munmap(page, sizeof *page);
}

/* Seconds to send N 64-byte messages on RING. */
static double timed_sends(shmkit_ring *ring, size_t n)
{
    unsigned char buf[64];
    double t0 = now_s();
    size_t i;

    memset(buf, 0, sizeof buf);
    for (i = 0; i < n; i++) {
        memcpy(buf, &i, sizeof i);
        if (shmkit_ring_send(ring, buf, sizeof buf, 0) < 0)
            return NAN;
    }
    return now_s() - t0;
}

/* The writer row, in a child: both rings in alternating blocks. */
static int writer_cost(struct bench_run *run, const char *spec_private, const char *spec_shared,
                       struct follow_page *page)
{
    int blocks = run->opt.quick ? 2 : WRITER_BLOCKS, b;
    shmkit_slot *unused;
    shmkit_ring *ring[2];
    double t[2] = { 0, 0 }, t0;
    int i;

    if (follow_create(T_RING, spec_private, 0600, &unused, &ring[0]) < 0 ||
        follow_create(T_RING, spec_shared, 0644, &unused, &ring[1]) < 0)
        return report_fail(&page->rep[0], "cannot create the rings");
    (void)timed_sends(ring[0], WRITER_BLOCK); /* warm-up */
    (void)timed_sends(ring[1], WRITER_BLOCK);
    for (b = 0; b < 2 * blocks; b++)
        t[b % 2] += timed_sends(ring[b % 2], WRITER_BLOCK);
    shmkit_ring_close(ring[0]);
    shmkit_ring_close(ring[1]);
    t0 = now_s();
    for (i = 0; i < CLOCK_READS; i++)
        keep_read(now_ns());
    page->clock_ns = (now_s() - t0) * 1e9 / CLOCK_READS;
    page->base_msgs_s = (double)blocks * WRITER_BLOCK / t[0];
    page->rep[0].msgs_s = (double)blocks * WRITER_BLOCK / t[1];
    page->rep[0].n = (uint64_t)blocks * WRITER_BLOCK;
    page->rep[0].ok = !isnan(t[0]) && !isnan(t[1]);
    return page->rep[0].ok ? 0 : report_fail(&page->rep[0], "a send failed");
}

static void writer_row(struct bench_run *run)
{
    struct result *r = new_result(run, S_FOLLOW, T_RING, NO_MODE, 64);
    struct follow_page *page;
    char spec[2][48];
    pid_t pid;

    if (r == NULL || bench_signal_caught())
        return;
    if ((page = page_new()) == NULL) {
        snprintf(r->note, sizeof r->note, "mmap: %s", strerror(errno));
        return;
    }
    make_spec(run, spec[0], sizeof spec[0]);
    make_spec(run, spec[1], sizeof spec[1]);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        follow_pin(run, 0);
        _exit(writer_cost(run, spec[0], spec[1], page) == 0 ? 0 : 1);
    }
    if (pid < 0 || follow_reap(pid, 60.0) < 0 || !page->rep[0].ok) {
        snprintf(r->note, sizeof r->note, "failed: %.180s",
                 page->rep[0].note[0] != '\0' ? page->rep[0].note : "the writer failed");
    } else {
        r->ok = 1;
        r->n = page->rep[0].n;
        r->msgs_s = page->rep[0].msgs_s;
        r->base_msgs_s = page->base_msgs_s;
        r->clock_ns = page->clock_ns;
    }
    (void)shmkit_unlink(spec[0]);
    (void)shmkit_unlink(spec[1]);
    munmap(page, sizeof *page);
}

void run_follow(struct bench_run *run)
{
    static const int transports[] = { T_SLOT, T_RING };
    size_t i;

    for (i = 0; i < sizeof transports / sizeof transports[0]; i++) {
        if (!selected(&run->opt, transports[i]))
            continue;
        follower_row(run, transports[i], 0);
        follower_row(run, transports[i], 1);
    }
    if (selected(&run->opt, T_RING))
        writer_row(run);
}

/* ------------------------------------------------------------------ */
/* Report and targets                                                  */
/* ------------------------------------------------------------------ */

void follow_heading(void)
{
    printf("\nRead-only followers (no write permission: they sleep on the data word; "
           "microseconds, cpu: %% of a core)\n");
}

void follow_line(const struct bench_run *run, const struct result *r)
{
    (void)run;
    printf("%-10s ", transport_names[r->transport]);
    if (!r->ok) {
        printf("%s\n", r->note);
        return;
    }
    if (r->mode == NO_MODE)
        printf("writer 64 B, nobody waiting: 0644 %.0f msgs/s, 0600 %.0f msgs/s, "
               "x 0600 %.3f; a clock read %.1f ns\n",
               r->msgs_s, r->base_msgs_s, follow_writer_ratio(run, r), r->clock_ns);
    else if (r->size == 0)
        printf("idle follower: waited %.3f s, cpu %.3f %%\n", r->seconds, r->cpu[0]);
    else
        printf("wake-up at 1 ms intervals: median %.1f, p10 %.1f, p90 %.1f, p99 %.1f "
               "(n %llu), cpu %.2f %%\n",
               r->median / 1e3, r->p10 / 1e3, r->p90 / 1e3, r->p99 / 1e3,
               (unsigned long long)r->n, r->cpu[1]);
}

double follow_wake_us(const struct bench_run *run, const struct result *r)
{
    (void)run;
    return r->median / 1e3;
}

double follow_writer_ratio(const struct bench_run *run, const struct result *r)
{
    (void)run;
    return r->base_msgs_s > 0 ? r->msgs_s / r->base_msgs_s : NAN;
}
