/*
 * proc.c - process identity and time helpers.
 *
 * A pid alone does not identify a process: pids are reused.  shmkit pairs a
 * pid with the process's start time, read from /proc on Linux and from the
 * kern.proc sysctl on the BSDs and macOS.  Where neither is available the
 * start time is unknown (0) and liveness falls back to "a process with this
 * pid exists".
 *
 * A pid also means something only in one PID namespace (Linux: containers,
 * unshare -p).  kill() looks a pid up in the caller's namespace, /proc in
 * the namespace of the proc mount, which may be another one (unshare -p
 * without --mount-proc).  So this file also names the caller's namespace
 * (shmkit__pidns_self) and reads the caller's own start time through
 * /proc/self, which is right whatever namespace /proc shows; other pids
 * are looked up in /proc only when /proc shows the caller's namespace.
 * lease.c never judges a pid recorded in another namespace by its number.
 *
 * A zombie (killed, not yet reaped by its parent) still has its pid, but
 * it can never write again: it counts as dead (Linux: state Z or X in
 * /proc/PID/stat; the BSDs and macOS: the zombie state of kern.proc).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proc.h"

#if !defined(SHMKIT_PORTABLE_PROFILE) && defined(__linux__)
#define SK_START_PROC 1
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__NetBSD__) || \
      defined(__APPLE__) || defined(__DragonFly__)
#define SK_START_SYSCTL 1
#include <sys/param.h>
#include <sys/sysctl.h>
#if defined(__FreeBSD__) || defined(__DragonFly__)
#include <sys/user.h>
#endif
#endif

int shmkit__proc_exists(long pid)
{
    if (pid <= 0 || pid > INT_MAX)
        return 0;
    /* EPERM: it exists but belongs to somebody else. */
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

#ifdef SK_START_PROC
/* What /proc/PID/stat says of a process: its state (field 3) and its start
 * time in clock ticks since boot (field 22).  The command name (field 2)
 * may contain spaces and parentheses, so parsing starts after the last
 * ')'.  WHO is a pid or "self".  0 if it cannot be read. */
static int read_proc_stat(const char *who, char *state, uint64_t *start)
{
    char path[64], buf[1024];
    unsigned long long ticks = 0;
    FILE *f;
    size_t n;
    char *p;
    int field;

    snprintf(path, sizeof path, "/proc/%s/stat", who);
    f = fopen(path, "re"); /* close-on-exec: no descriptor may leak to a child */
    if (f == NULL)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL || p[1] != ' ' || p[2] == '\0')
        return 0;
    *state = p[2];
    /* After ')' come fields 3, 4, ...: skip to field 22. */
    for (field = 2; field < 22 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL || sscanf(p + 1, "%llu", &ticks) != 1)
        return 0;
    *start = (uint64_t)ticks;
    return 1;
}

/* 1 if /proc shows this process's PID namespace: /proc/self then names
 * the pid that getpid() returns.  Under unshare -p without --mount-proc
 * it shows the parent namespace, where our pids name other processes. */
static int proc_shows_own_pidns(void)
{
    char link[32];
    ssize_t n = readlink("/proc/self", link, sizeof link - 1);

    if (n <= 0)
        return 0;
    link[n] = '\0';
    return strtol(link, NULL, 10) == (long)getpid();
}

/* State and start time of PID, or of this process. */
static int proc_stat_of(long pid, char *state, uint64_t *start)
{
    char who[24];

    if (pid == (long)getpid())
        return read_proc_stat("self", state, start);
    if (!proc_shows_own_pidns())
        return 0;
    snprintf(who, sizeof who, "%ld", pid);
    return read_proc_stat(who, state, start);
}

static uint64_t start_time_proc(long pid)
{
    uint64_t start = 0;
    char state;

    return proc_stat_of(pid, &state, &start) ? start : 0;
}

/* Z: zombie, X: dead (being reaped). */
static int zombie_proc(long pid)
{
    uint64_t start;
    char state;

    return proc_stat_of(pid, &state, &start) && (state == 'Z' || state == 'X');
}
#endif

#ifdef SK_START_SYSCTL
/* The zombie flag of kern.proc, where the headers name it (guarded, so
 * that a system that spells it differently keeps "alive until reaped"). */
#if defined(__OpenBSD__) && defined(PS_ZOMBIE) && defined(SDEAD)
#define SK_KP_ZOMBIE(kp) (((kp).p_psflags & PS_ZOMBIE) != 0 || (kp).p_stat == SDEAD)
#elif !defined(__OpenBSD__) && defined(SZOMB)
#define SK_KP_ZOMBIE(kp) ((kp).SK_KP_STAT == SZOMB)
#else
#define SK_KP_ZOMBIE(kp) 0
#endif

/* Start time in microseconds since the epoch from the kern.proc sysctl
 * (0 if unknown), and whether the process is a zombie. */
static uint64_t start_time_sysctl(long pid, int *zombie)
{
    *zombie = 0;
#if defined(__FreeBSD__) || defined(__DragonFly__)
#define SK_KP_STAT ki_stat
    struct kinfo_proc kp;
    size_t len = sizeof kp;
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid};

    if (sysctl(mib, 4, &kp, &len, NULL, 0) != 0 || len != sizeof kp)
        return 0;
    *zombie = SK_KP_ZOMBIE(kp);
    return (uint64_t)kp.ki_start.tv_sec * 1000000u + (uint64_t)kp.ki_start.tv_usec;
#elif defined(__NetBSD__) || defined(__OpenBSD__)
#define SK_KP_STAT p_stat
    /* One sysctl; NetBSD names its version of it kinfo_proc2. */
#if defined(__NetBSD__)
    struct kinfo_proc2 kp;
    int mib[6] = {CTL_KERN, KERN_PROC2, KERN_PROC_PID, (int)pid, (int)sizeof kp, 1};
#else
    struct kinfo_proc kp;
    int mib[6] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid, (int)sizeof kp, 1};
#endif
    size_t len = sizeof kp;

    if (sysctl(mib, 6, &kp, &len, NULL, 0) != 0 || len != sizeof kp)
        return 0;
    *zombie = SK_KP_ZOMBIE(kp);
    return (uint64_t)kp.p_ustart_sec * 1000000u + (uint64_t)kp.p_ustart_usec;
#elif defined(__APPLE__)
#define SK_KP_STAT kp_proc.p_stat
    struct kinfo_proc kp;
    size_t len = sizeof kp;
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid};

    if (sysctl(mib, 4, &kp, &len, NULL, 0) != 0 || len != sizeof kp)
        return 0;
    *zombie = SK_KP_ZOMBIE(kp);
    return (uint64_t)kp.kp_proc.p_starttime.tv_sec * 1000000u +
           (uint64_t)kp.kp_proc.p_starttime.tv_usec;
#else
    (void)pid;
    return 0;
#endif
}
#endif

/* 1 if PID is a zombie: it exists, but has exited and waits to be reaped. */
static int proc_zombie(long pid)
{
#if defined(SK_START_PROC)
    return zombie_proc(pid);
#elif defined(SK_START_SYSCTL)
    int zombie;

    start_time_sysctl(pid, &zombie);
    return zombie;
#else
    (void)pid;
    return 0;
#endif
}

uint64_t shmkit__proc_start_time(long pid)
{
    if (pid <= 0 || pid > INT_MAX)
        return 0;
#if defined(SK_START_PROC)
    return start_time_proc(pid);
#elif defined(SK_START_SYSCTL)
    int zombie;

    return start_time_sysctl(pid, &zombie);
#else
    return 0;
#endif
}

uint32_t shmkit__token_from_start(uint64_t start)
{
    uint32_t token;

    if (start == 0)
        return 0;
    token = (uint32_t)(start ^ (start >> 32));
    return token != 0 ? token : 1;
}

uint32_t shmkit__proc_start_token(long pid)
{
    return shmkit__token_from_start(shmkit__proc_start_time(pid));
}

int shmkit__proc_alive(long pid, uint32_t token)
{
    uint32_t now;

    if (!shmkit__proc_exists(pid) || proc_zombie(pid))
        return 0;
    if (token == 0)
        return 1;
    now = shmkit__proc_start_token(pid);
    /* Unknown now (e.g. /proc hidden): trust the pid. */
    return now == 0 || now == token;
}

uint32_t shmkit__self_token(void)
{
    return shmkit__proc_start_token((long)getpid());
}

/* Linux names a PID namespace by the inode (on the nsfs device) of
 * /proc/self/ns/pid.  Those inodes are 32-bit numbers (proc_inum); a wider
 * one is folded with its device into a 32-bit id that is never 0. */
uint32_t shmkit__pidns_self(void)
{
#if defined(__linux__) && !defined(SHMKIT_PORTABLE_PROFILE)
    struct stat st;
    uint64_t id;

    if (stat("/proc/self/ns/pid", &st) != 0)
        return 0;
    id = (uint64_t)st.st_ino;
    if (id != 0 && id <= UINT32_MAX)
        return (uint32_t)id;
    id ^= (uint64_t)st.st_dev * 0x9e3779b97f4a7c15u;
    id ^= id >> 32;
    return (uint32_t)id != 0 ? (uint32_t)id : 1;
#else
    return 0; /* no PID namespaces (or the portable profile, which runs the
                 BSDs' code paths): every pid is in "ours" */
#endif
}

int shmkit__pidns_is_mine(uint32_t ns)
{
    return ns == 0 || ns == shmkit__pidns_self();
}

uint64_t shmkit__monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void shmkit__sleep_ns(uint64_t ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
