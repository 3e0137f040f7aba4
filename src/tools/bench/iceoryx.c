/*
 * iceoryx.c - the peer rows of "shmkit bench" with eclipse iceoryx 2
 * (its C binding): the daemon iox-roudi, which the parent starts and
 * stops, and the endpoints the children loan, publish, take and release
 * chunks with.  Compiled only when configure found the binding
 * (--with-iceoryx, m4/shmkit-iceoryx.m4).
 *
 * The rows use the same loops as shmkit's (sides.c); an endpoint is one
 * publisher per direction it sends on and one subscriber per direction
 * it receives from, lossless (the publisher waits for a full queue) and
 * read by busy polling, as the raw-atomic row and shmkit's spinning
 * readers do.  Messages are written and read in place, like ring-zc's.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <iceoryx_binding_c/api.h>

#include "bench-int.h"

#define ROUDI_READY_MS 10000   /* how long iox-roudi may take to be ready */
#define ROUDI_STOP_MS 5000     /* SIGTERM, then SIGKILL after this */
#define ROUDI_READY_TEXT "RouDi is ready for clients"
#define IOX_QUEUE 256          /* the subscriber queue, iceoryx's maximum */
#define RUNTIME_DIR "/tmp/"    /* where iceoryx 2.0 puts a runtime's socket */
#define RUNTIME_PREFIX "shmkit-bench-"   /* + pid: the runtime's name */

/* ------------------------------------------------------------------ */
/* The daemon (parent)                                                 */
/* ------------------------------------------------------------------ */

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !bench_signal_caught())
        ;
}

/* iox-roudi on PATH, else in /usr/bin: its path into BUF, or -1. */
static int find_roudi(char *buf, size_t len)
{
    const char *path = getenv("PATH");
    char dirs[4096], *dir, *save = NULL;

    snprintf(dirs, sizeof dirs, "%s:/usr/bin", path != NULL ? path : "");
    for (dir = strtok_r(dirs, ":", &save); dir != NULL; dir = strtok_r(NULL, ":", &save)) {
        if (dir[0] != '/')
            continue; /* never a relative PATH entry */
        if ((size_t)snprintf(buf, len, "%s/iox-roudi", dir) < len && access(buf, X_OK) == 0)
            return 0;
    }
    return -1;
}

/* In the child: iox-roudi with its output in OUT_FD, in its own process
 * group (a terminal's ^C is for the bench, which stops it), ended if the
 * bench dies, without a core file (it aborts when another one runs). */
static _Noreturn void exec_roudi(const char *path, int out_fd)
{
    struct rlimit no_core = { 0, 0 };
    int null_fd = open("/dev/null", O_RDONLY);

    (void)setpgid(0, 0);
#ifdef __linux__
    (void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    (void)setrlimit(RLIMIT_CORE, &no_core);
    if (null_fd >= 0)
        (void)dup2(null_fd, STDIN_FILENO);
    (void)dup2(out_fd, STDOUT_FILENO);
    (void)dup2(out_fd, STDERR_FILENO);
    execl(path, "iox-roudi", (char *)NULL);
    _exit(127);
}

/* LINE without its colour codes (escape sequences up to their 'm'). */
static void strip_colours(char *line)
{
    char *to = line;

    for (; *line != '\0'; line++) {
        if (*line != '\033') {
            *to++ = *line;
            continue;
        }
        while (line[1] != '\0' && *line != 'm')
            line++;
    }
    *to = '\0';
}

/* The line of iox-roudi's output that says what went wrong (its first
 * fatal error, else its last error, else its last line), without its
 * time stamp, level and colour codes, into WHY. */
static void roudi_complaint(int fd, char *why, size_t len)
{
    char out[8192], *line, *save = NULL, *best = NULL, *last = NULL;
    const char *text;
    ssize_t n = pread(fd, out, sizeof out - 1, 0);

    out[n > 0 ? n : 0] = '\0';
    for (line = strtok_r(out, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        strip_colours(line);
        last = line;
        if ((strstr(line, "Fatal") != NULL || strstr(line, "Error") != NULL) &&
            (best == NULL || strstr(best, "Fatal") == NULL))
            best = line;
    }
    text = best != NULL ? best : last != NULL ? last : "no output";
    if (strstr(text, "]: ") != NULL)
        text = strstr(text, "]: ") + 3;
    snprintf(why, len, "%s", text);
}

/* Wait until the output in FD says iox-roudi is ready: 0, or -1 with WHY
 * set if it ended or took too long. */
static int await_roudi(struct bench_run *run, int fd, char *why, size_t len)
{
    char out[8192];
    int waited, status;

    for (waited = 0; waited < ROUDI_READY_MS && !bench_signal_caught(); waited += 5) {
        ssize_t n = pread(fd, out, sizeof out - 1, 0);
        out[n > 0 ? n : 0] = '\0';
        if (strstr(out, ROUDI_READY_TEXT) != NULL)
            return 0;
        if (waitpid((pid_t)run->roudi.pid, &status, WNOHANG) == (pid_t)run->roudi.pid) {
            run->roudi.pid = -1;
            roudi_complaint(fd, why, len);
            return -1;
        }
        sleep_ms(5);
    }
    snprintf(why, len, "not ready after %d ms", waited);
    return -1;
}

/* Start iox-roudi for the iceoryx rows, once: 0 if it runs, -1 if not
 * (a note says why; the rows are left out). */
int roudi_start(struct bench_run *run)
{
    char path[512], why[160];
    FILE *out;

    if (run->roudi.state != 0)
        return run->roudi.state > 0 ? 0 : -1;
    run->roudi.state = -1;
    run->roudi.pid = -1;
    if (find_roudi(path, sizeof path) < 0) {
        add_note(run, "iceoryx: no rows: iox-roudi not found on PATH or in /usr/bin "
                 "(Debian package iceoryx)");
        return -1;
    }
    out = tmpfile(); /* unlinked at once: nothing left behind */
    if (out == NULL) {
        add_note(run, "iceoryx: no rows: tmpfile: %s", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    run->roudi.pid = fork();
    if (run->roudi.pid == 0)
        exec_roudi(path, fileno(out));
    if (run->roudi.pid < 0) {
        add_note(run, "iceoryx: no rows: fork: %s", strerror(errno));
        fclose(out);
        return -1;
    }
    if (await_roudi(run, fileno(out), why, sizeof why) < 0) {
        roudi_stop(run);
        add_note(run, "iceoryx: no rows: %s did not start: %.120s", path, why);
        fclose(out);
        return -1;
    }
    fclose(out);
    run->roudi.state = 1;
    return 0;
}

/* Remove what a killed iox-roudi of ours leaves (it removes all of it on
 * a clean stop): its shared memory and, in /tmp, its socket and locks. */
static void roudi_leftovers(void)
{
    static const char *const files[] = { "/tmp/roudi", "/tmp/roudi.lock",
                                         "/tmp/iox-unique-roudi.lock" };
    const struct passwd *pw = getpwuid(geteuid());
    char name[300];
    size_t i;

    (void)shm_unlink("/iceoryx_mgmt");
    if (pw != NULL && snprintf(name, sizeof name, "/%s", pw->pw_name) < (int)sizeof name)
        (void)shm_unlink(name);
    for (i = 0; i < sizeof files / sizeof files[0]; i++)
        (void)unlink(files[i]);
}

/* What the iceoryx runtime of process PID leaves in /tmp when the process
 * ends without running its C++ destructors (_exit, a crash): the socket
 * it talks to iox-roudi through and its lock. */
static void runtime_leftovers(long pid)
{
    char path[64];

    snprintf(path, sizeof path, RUNTIME_DIR RUNTIME_PREFIX "%ld", pid);
    (void)unlink(path);
    snprintf(path, sizeof path, RUNTIME_DIR RUNTIME_PREFIX "%ld.lock", pid);
    (void)unlink(path);
}

/* Process PID, reaped by waitpid elsewhere with STATUS, ended: 1 if it
 * was the run's iox-roudi (never signalled again then; what it leaves
 * when killed is removed), 0 if a child of a row, whose iceoryx runtime's
 * files are removed once iox-roudi has run. */
int roudi_reaped(struct bench_run *run, long pid, int status)
{
    if (pid <= 0 || run->roudi.state == 0)
        return 0;
    if (pid != run->roudi.pid) {
        runtime_leftovers(pid);
        return 0;
    }
    run->roudi.pid = -1;
    run->roudi.state = -1;
    if (WIFSIGNALED(status))
        roudi_leftovers();
    add_note(run, "iceoryx: iox-roudi ended during the run; the iceoryx rows after it are "
             "left out");
    return 1;
}

/* Stop our iox-roudi by its pid: SIGTERM, SIGKILL if it has not ended
 * after a while, and wait for it. */
void roudi_stop(struct bench_run *run)
{
    pid_t pid = (pid_t)run->roudi.pid;
    int status, waited;

    if (pid <= 0)
        return;
    run->roudi.pid = -1;
    run->roudi.state = -1;
    (void)kill(pid, SIGTERM);
    for (waited = 0; waited < ROUDI_STOP_MS; waited += 5) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r < 0 && errno != EINTR)
            return;
        if (r == pid) {
            if (WIFSIGNALED(status))   /* it did not clean up */
                roudi_leftovers();
            return;
        }
        sleep_ms(5);
    }
    (void)kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    roudi_leftovers();
}

/* ------------------------------------------------------------------ */
/* Endpoints (children)                                                */
/* ------------------------------------------------------------------ */

struct iox_ends {
    iox_pub_storage_t pub_storage;
    iox_sub_storage_t sub_storage;
    iox_pub_t pub;        /* NULL if the endpoint does not send */
    iox_sub_t sub;        /* NULL if it does not receive */
};

/* The report of the side ENDPOINT is on. */
#define SIDE_REPORT(ep) (&(ep)->job->ctl->side[(ep)->side])

/* Wait until the publisher has its subscriber and the subscriber its
 * publisher: iox-roudi connects them in its own time, and a message
 * published before would be lost. */
static int iox_connect(struct endpoint *ep)
{
    struct iox_ends *e = ep->iox;
    int waited;

    for (waited = 0; waited < WAIT_MS; waited++) {
        int pub_ok = e->pub == NULL || iox_pub_has_subscribers(e->pub);
        int sub_ok = e->sub == NULL ||
                     iox_sub_get_subscription_state(e->sub) == SubscribeState_SUBSCRIBED;
        if (pub_ok && sub_ok)
            return 0;
        sleep_ms(1);
    }
    return report_fail(SIDE_REPORT(ep), "iceoryx: %s not connected after %d ms",
                    e->pub != NULL && !iox_pub_has_subscribers(e->pub) ? "publisher"
                                                                       : "subscriber",
                    WAIT_MS);
}

/* Register with iox-roudi and make the publisher of direction TX and the
 * subscriber of RX (either may be -1).  The service is the bench's pid,
 * the instance the row's number, the event the direction. */
int iox_open(struct endpoint *ep, int tx, int rx)
{
    char runtime[64], service[32], instance[32];
    struct iox_ends *e = calloc(1, sizeof *e);

    if (e == NULL)
        return report_fail(SIDE_REPORT(ep), "iceoryx: out of memory");
    ep->iox = e;
    iox_set_loglevel(Iceoryx_LogLevel_Error);
    snprintf(runtime, sizeof runtime, RUNTIME_PREFIX "%ld", (long)getpid());
    snprintf(service, sizeof service, "shmkit-bench-%ld", (long)getppid());
    snprintf(instance, sizeof instance, "row-%d", ep->job->run->n_results);
    iox_runtime_init(runtime);
    if (tx >= 0) {
        iox_pub_options_t options;
        iox_pub_options_init(&options);
        options.historyCapacity = 0;
        options.subscriberTooSlowPolicy = ConsumerTooSlowPolicy_WAIT_FOR_CONSUMER;
        e->pub = iox_pub_init(&e->pub_storage, service, instance, tx ? "d1" : "d0", &options);
    }
    if (rx >= 0) {
        iox_sub_options_t options;
        iox_sub_options_init(&options);
        options.queueCapacity = IOX_QUEUE;
        options.historyRequest = 0;
        options.queueFullPolicy = QueueFullPolicy_BLOCK_PRODUCER;
        e->sub = iox_sub_init(&e->sub_storage, service, instance, rx ? "d1" : "d0", &options);
    }
    return iox_connect(ep);
}

void iox_close(struct endpoint *ep)
{
    struct iox_ends *e = ep->iox;

    if (e == NULL)
        return;
    if (e->sub != NULL)
        iox_sub_deinit(e->sub);
    if (e->pub != NULL)
        iox_pub_deinit(e->pub);
    iox_runtime_shutdown();
    runtime_leftovers((long)getpid()); /* the process ends with _exit */
    free(e);
    ep->iox = NULL;
}

/* A chunk for the next message, to be written in place. */
int iox_loan(struct endpoint *ep, void **payload)
{
    enum iox_AllocationResult r = iox_pub_loan_chunk(ep->iox->pub, payload,
                                                     (uint32_t)ep->size);

    return r == AllocationResult_SUCCESS
               ? 0
               : report_fail(SIDE_REPORT(ep), "iox_pub_loan_chunk failed: AllocationResult %d",
                             (int)r);
}

void iox_publish(struct endpoint *ep, void *payload)
{
    iox_pub_publish_chunk(ep->iox->pub, payload);
}

/* Poll for the next chunk; yield now and then so that a partner on the
 * same CPU (no pinning) still runs, and give up after WAIT_MS. */
int iox_take(struct endpoint *ep, const void **payload)
{
    uint64_t deadline = 0;
    unsigned n = 0;

    for (;;) {
        enum iox_ChunkReceiveResult r = iox_sub_take_chunk(ep->iox->sub, payload);
        if (r == ChunkReceiveResult_SUCCESS)
            return 0;
        if (r != ChunkReceiveResult_NO_CHUNK_AVAILABLE)
            return report_fail(SIDE_REPORT(ep), "iox_sub_take_chunk failed: ChunkReceiveResult %d",
                               (int)r);
        cpu_relax();
        if ((++n & 0xffffu) != 0)
            continue;
        sched_yield();
        if (deadline == 0)
            deadline = now_ns() + (uint64_t)WAIT_MS * 1000000u;
        else if (now_ns() > deadline)
            return report_fail(SIDE_REPORT(ep), "iox_sub_take_chunk: no message for %d ms",
                               WAIT_MS);
    }
}

void iox_release(struct endpoint *ep, const void *payload)
{
    iox_sub_release_chunk(ep->iox->sub, payload);
}
