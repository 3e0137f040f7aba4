/*
 * runner.c - how "shmkit bench" runs its rows: signals, the children
 * (fork, start in step, watchdog, reaping), pinning, and the rows in the
 * order the report lists them.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-int.h"

/* Set by the signal handler: a signal that ends the run, the watchdog of
 * the row. */
static volatile sig_atomic_t caught_signal;
static volatile sig_atomic_t watchdog_fired;

static void on_signal(int sig)
{
    if (sig == SIGALRM)
        watchdog_fired = 1;
    else
        caught_signal = sig;
}

void bench_catch_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: waitpid and read return EINTR */
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* A signal ignored at start stays ignored (nohup, background
         * jobs of a non-interactive shell), as in the other tools. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN &&
            sigs[i] != SIGALRM)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

int bench_signal_caught(void)
{
    return (int)caught_signal;
}

/* In a child: what the parent caught goes back to the default action
 * (the parent ends its children itself); what was ignored stays so. */
static void default_signals(void)
{
    static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
    size_t i;

    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == on_signal)
            signal(sigs[i], SIG_DFL);
    }
}

/* The first CPUs this process may run on, one per side at most. */
int find_pin_cpus(struct bench_run *run)
{
#ifdef BENCH_CAN_PIN
    cpu_set_t set;
    int cpu, found = 0;

    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return -1;
    for (cpu = 0; cpu < CPU_SETSIZE && found < MAX_SIDES; cpu++)
        if (CPU_ISSET(cpu, &set))
            run->pin_cpus[found++] = cpu;
    run->n_pin_cpus = found;
    return found >= 2 ? 0 : -1;
#else
    (void)run;
    return -1;
#endif
}

#ifdef BENCH_CAN_PIN
static void pin_side(const struct bench_run *run, int side)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(run->pin_cpus[side % run->n_pin_cpus], &set);
    (void)sched_setaffinity(0, sizeof set, &set);
}
#endif

/* In the child: set up the process, run FN, leave.  Sides beyond the
 * CPUs found share them in turn (a fan-out row's consumers). */
static _Noreturn void child_main(struct job *job, int side, side_fn fn)
{
    default_signals();
    job->side = side;
#ifdef BENCH_CAN_PIN
    if (job->opt->pin)
        pin_side(job->run, side);
#else
    (void)side;
#endif
    if (job->mode >= 0) /* a paired job's sides set theirs (sides.c) */
        (void)shmkit_set_wait_mode(job->mode);
    _exit(fn(job) == 0 ? 0 : 1);
}

static void kill_children(const pid_t *pids, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGKILL);
}

/* Wait for every child in PIDS (ours, started by run_job); a failure, a
 * signal or the watchdog ends the others.  0 if all exited with 0.  The
 * run's iox-roudi, if it ends meanwhile, is marked as gone. */
static int reap_children(struct bench_run *run, pid_t *pids, int n)
{
    int left = 0, ok = 1, i;

    for (i = 0; i < n; i++)
        left += pids[i] > 0;
    while (left > 0) {
        int status;
        pid_t pid;

        if (caught_signal || watchdog_fired) {
            kill_children(pids, n);
            ok = 0;
        }
        pid = waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno != EINTR)
                break;
            continue;
        }
#ifdef BENCH_ICEORYX
        if (roudi_reaped(run, (long)pid, status))
            continue;
#else
        (void)run;
#endif
        for (i = 0; i < n; i++) {
            if (pids[i] != pid)
                continue;
            pids[i] = -1;
            left--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                ok = 0;
                kill_children(pids, n);
            }
        }
    }
    return ok ? 0 : -1;
}

/* Read one byte per child from the ready pipe (EOF if one died). */
static void await_ready(int fd, int n)
{
    char c;
    int got = 0;

    while (got < n) {
        ssize_t r = read(fd, &c, 1);
        if (r == 1)
            got++;
        else if (r == 0 || (r < 0 && errno != EINTR) || caught_signal || watchdog_fired)
            break;
    }
}

/* The note of the first side that failed (or ""); NULL if none did. */
static const char *failed_side(const struct control *ctl, int nsides)
{
    const char *why = NULL;
    int side;

    for (side = 0; side < nsides; side++)
        if (!ctl->side[side].ok && (why == NULL || why[0] == '\0'))
            why = ctl->side[side].note;
    return why;
}

/* Run FNS[0..NSIDES-1] (NSIDES <= MAX_SIDES) in as many children and
 * fill RES. */
static void run_job(struct job *job, int nsides, const side_fn *fns, struct result *res)
{
    pid_t pids[MAX_SIDES];
    int ready[2], go[2], side, started = 0, rc;
    char go_bytes[MAX_SIDES];
    const char *why;
    double limit = job->opt->warmup + job->opt->duration + job->opt->idle_seconds + 30.0;

    for (side = 0; side < MAX_SIDES; side++)
        pids[side] = -1;
    memset(go_bytes, 'g', sizeof go_bytes);
    memset(job->ctl, 0, sizeof *job->ctl);
    objects_init(&job->obj);
    if (objects_make(job, res->note, sizeof res->note) < 0) {
        objects_free(&job->obj);
        res->skipped = 1;
        return;
    }
    fflush(stdout);
    fflush(stderr);
    if (pipe(ready) != 0) {
        snprintf(res->note, sizeof res->note, "pipe: %s", strerror(errno));
        objects_free(&job->obj);
        return;
    }
    if (pipe(go) != 0) {
        snprintf(res->note, sizeof res->note, "pipe: %s", strerror(errno));
        close(ready[0]);
        close(ready[1]);
        objects_free(&job->obj);
        return;
    }
    watchdog_fired = 0;
    alarm((unsigned)limit);
    for (side = 0; side < nsides; side++) {
        pids[side] = fork();
        if (pids[side] == 0) {
            close(ready[0]);
            close(go[1]);
            job->ready_fd = ready[1];
            job->go_fd = go[0];
            child_main(job, side, fns[side]);
        }
        if (pids[side] < 0) {
            snprintf(res->note, sizeof res->note, "fork: %s", strerror(errno));
            break;
        }
        started++;
    }
    close(ready[1]);
    close(go[0]);
    await_ready(ready[0], started);
    close(ready[0]);
    /* Both sides have their mappings: the names can go now, so that an
     * interrupted bench leaves nothing behind.  (A System V semaphore set
     * goes with its segment, so that wait mechanism keeps them.) */
    if (strcmp(shmkit_wait_mechanism(), "sysv-sem") != 0)
        remove_segments(&job->obj);
    while (write(go[1], go_bytes, (size_t)started) < 0 && errno == EINTR)
        ;
    close(go[1]);
    rc = reap_children(job->run, pids, nsides);
    alarm(0);
    objects_free(&job->obj);
    if (started < nsides)
        return;
    why = failed_side(job->ctl, nsides);
    if (rc < 0 || why != NULL) {
        if (why == NULL)
            why = "";
        snprintf(res->note, sizeof res->note, "failed: %.180s",
                 caught_signal ? "interrupted"
                 : watchdog_fired ? "timed out"
                 : why[0] != '\0' ? why : "a side exited abnormally");
        return;
    }
    res->ok = 1;
}

/* ------------------------------------------------------------------ */
/* Rows                                                                */
/* ------------------------------------------------------------------ */

double cpu_percent(const struct side_report *rep)
{
    return rep->wall > 0 ? 100.0 * rep->cpu / rep->wall : -1.0;
}

/* Progress on stderr for the table output, so a long run shows life. */
static void progress(const struct options *opt, const struct result *r)
{
    char sz[24];

    if (opt->json || opt->quick || !isatty(STDERR_FILENO))
        return;
    fprintf(stderr, "\r%-10s %-10s %-8s %-6s", section_name(r->section),
            transport_names[r->transport], mode_name(r->mode),
            r->size ? size_text(r->size, sz, sizeof sz) : "word");
    fflush(stderr);
}

static void progress_done(const struct options *opt)
{
    if (!opt->json && !opt->quick && isatty(STDERR_FILENO))
        fprintf(stderr, "\r%40s\r", "");
}

void run_row(struct job *job, struct result *r, int nsides, const side_fn *fns)
{
    progress(job->opt, r);
    run_job(job, nsides, fns, r);
    if (!r->ok && !r->skipped && r->note[0] == '\0')
        snprintf(r->note, sizeof r->note, "failed");
}

/* A new row and the job that measures it; NULL when the run is
 * interrupted or has no room for more rows. */
struct result *start_row(struct job *job, int section, int transport, int mode, size_t size)
{
    struct result *r = new_result(job->run, section, transport, mode, size);

    if (r == NULL || caught_signal)
        return NULL;
    job->consumers = 0;
    job->rx_flags = 0;
    job->section = section;
    job->transport = transport;
    job->mode = mode;
    job->size = size;
    return r;
}

void take_percentiles(struct result *r, const struct side_report *rep)
{
    r->n = rep->n;
    r->median = rep->median;
    r->p10 = rep->p10;
    r->p90 = rep->p90;
    r->p99 = rep->p99;
}

/* A latency row's figures: the round trips side A timed (REP), the CPU
 * of both sides. */
static void take_latency(struct result *r, const struct side_report *rep,
                         const struct control *ctl)
{
    take_percentiles(r, rep);
    r->cpu[0] = cpu_percent(&ctl->side[0]);
    r->cpu[1] = cpu_percent(&ctl->side[1]);
}

static void latency_row(struct job *job, int transport, int mode, size_t size)
{
    static const side_fn fns[2] = { latency_side_a, latency_side_b };
    struct result *r = start_row(job, S_LATENCY, transport, mode, size);

    if (r == NULL)
        return;
    job->size = size ? size : MIN_SIZE;
#ifndef BENCH_RAW_FUTEX
    if (transport == T_RAW_WAIT) {
        /* No raw primitive here: the library's slot in block mode. */
        job->transport = T_SLOT;
        job->mode = SHMKIT_WAIT_BLOCK;
    }
#endif
    run_row(job, r, 2, fns);
    if (r->ok)
        take_latency(r, &job->ctl->side[0], job->ctl);
}

/* The adaptive and the spin row of TRANSPORT, measured together by one
 * pair of processes that alternate between the modes (sides.c). */
static void latency_pair(struct job *job, int transport, size_t size)
{
    static const side_fn fns[2] = { latency_side_a, latency_side_b };
    struct result *spin, *r = start_row(job, S_LATENCY, transport, SHMKIT_WAIT_ADAPTIVE, size);

    if (r == NULL)
        return;
    /* No room for the spin row: the adaptive one alone. */
    spin = new_result(job->run, S_LATENCY, transport, SHMKIT_WAIT_SPIN, size);
    if (spin != NULL)
        job->mode = PAIRED_MODES;
    run_row(job, r, 2, fns);
    if (r->ok)
        take_latency(r, &job->ctl->side[0], job->ctl);
    if (spin == NULL)
        return;
    spin->ok = r->ok;
    spin->skipped = r->skipped;
    memcpy(spin->note, r->note, sizeof spin->note);
    if (spin->ok)
        take_latency(spin, &job->ctl->spin_lane, job->ctl);
}

/* The rate the side that timed the messages (REP) measured. */
static void take_rate(struct result *r, const struct side_report *rep)
{
    r->n = rep->n;
    r->msgs_s = rep->msgs_s;
    r->bytes_s = rep->bytes_s;
}

static void throughput_row(struct job *job, int transport, size_t size)
{
    static const side_fn pair[2] = { throughput_producer, throughput_consumer };
    static const side_fn single[1] = { memcpy_side };
    struct result *r = start_row(job, S_THROUGHPUT, transport, NO_MODE, size);
    const struct side_report *side = job->ctl->side;

    if (r == NULL)
        return;
    if (transport == T_MEMCPY) {
        run_row(job, r, 1, single);
        if (r->ok) {
            take_rate(r, &side[0]);
            r->cpu[0] = cpu_percent(&side[0]);
        }
        return;
    }
    run_row(job, r, 2, pair);
    if (r->ok) {
        take_rate(r, &side[1]);
        r->cpu[0] = cpu_percent(&side[0]);
        r->cpu[1] = cpu_percent(&side[1]);
    }
}

static void idle_row(struct job *job, int transport)
{
    static const side_fn single[1] = { idle_side };
    struct result *r = start_row(job, S_IDLE, transport, SHMKIT_WAIT_ADAPTIVE, 64);

    if (r == NULL)
        return;
    run_row(job, r, 1, single);
    if (r->ok) {
        r->seconds = job->ctl->side[0].wall;
        r->cpu[0] = cpu_percent(&job->ctl->side[0]);
    }
}

static int library_transport(int t)
{
    return t == T_SLOT || t == T_RING || t == T_RING_ZC;
}

/* Whether the iceoryx row of SIZE bytes runs: iox-roudi's built-in
 * chunk pools take its messages and it has been started. */
static int iceoryx_row(struct job *job, size_t size)
{
#ifdef BENCH_ICEORYX
    return size <= ICEORYX_MAX_SIZE && roudi_start(job->run) == 0;
#else
    (void)job;
    (void)size;
    return 0;
#endif
}

static void run_latency(struct job *job)
{
    static const int modes[MODE_BITS] = { SHMKIT_WAIT_ADAPTIVE, SHMKIT_WAIT_SPIN,
                                          SHMKIT_WAIT_BLOCK };
    const struct options *opt = job->opt;
    int paired = paired_modes(opt);
    int i, t, m;

    for (t = T_RAW_ATOMIC; t <= T_RAW_WAIT; t++)
        if (selected(opt, t))
            latency_row(job, t, NO_MODE, 0);
    for (i = 0; i < opt->n_lat; i++) {
        for (t = T_SLOT; t <= T_ICEORYX; t++) {
            if (!selected(opt, t) || (t == T_ICEORYX && !iceoryx_row(job, opt->lat_sizes[i])))
                continue;
            if (!library_transport(t)) {
                latency_row(job, t, NO_MODE, opt->lat_sizes[i]);
                continue;
            }
            for (m = 0; m < MODE_BITS; m++) {
                if (!((opt->modes >> modes[m]) & 1u) ||
                    (paired && modes[m] == SHMKIT_WAIT_SPIN))
                    continue;
                if (paired && modes[m] == SHMKIT_WAIT_ADAPTIVE)
                    latency_pair(job, t, opt->lat_sizes[i]);
                else
                    latency_row(job, t, modes[m], opt->lat_sizes[i]);
            }
        }
    }
}

static void run_throughput(struct job *job)
{
    static const int order[] = { T_RING, T_RING_ZC, T_ICEORYX, T_PIPE, T_UNIX, T_MEMCPY };
    const struct options *opt = job->opt;
    size_t k;
    int i;

    for (i = 0; i < opt->n_tp; i++)
        for (k = 0; k < sizeof order / sizeof order[0]; k++)
            if (selected(opt, order[k]) &&
                (order[k] != T_ICEORYX || iceoryx_row(job, opt->tp_sizes[i])))
                throughput_row(job, order[k], opt->tp_sizes[i]);
}

static void run_idle(struct job *job)
{
    if (selected(job->opt, T_SLOT))
        idle_row(job, T_SLOT);
    if (selected(job->opt, T_RING))
        idle_row(job, T_RING);
}

void run_rows(struct bench_run *run, struct control *ctl)
{
    struct job job;

    memset(&job, 0, sizeof job);
    job.run = run;
    job.opt = &run->opt;
    job.ctl = ctl;
    if (run->opt.sections & S_LATENCY)
        run_latency(&job);
    if (run->opt.sections & S_THROUGHPUT)
        run_throughput(&job);
    if (run->opt.sections & S_IDLE)
        run_idle(&job);
    if (run->opt.sections & S_FANOUT)
        run_fanout(&job);
    if (run->opt.sections & S_FOLLOW)
        run_follow(run);
#ifdef BENCH_ICEORYX
    roudi_stop(run);
#endif
    progress_done(&run->opt);
}
