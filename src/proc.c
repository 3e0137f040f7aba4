/*
 * proc.c - process identity and time helpers.
 *
 * A pid alone does not identify a process: pids are reused.  shmkit pairs a
 * pid with the process's start time, read from /proc on Linux and from the
 * kern.proc sysctl on the BSDs and macOS.  Where neither is available the
 * start time is unknown (0) and liveness falls back to "a process with this
 * pid exists".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

int sk_proc_exists(long pid)
{
    if (pid <= 0 || pid > INT_MAX)
        return 0;
    /* EPERM: it exists but belongs to somebody else. */
    return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

#ifdef SK_START_PROC
/* Field 22 of /proc/PID/stat: start time in clock ticks since boot.  The
 * command name (field 2) may contain spaces and parentheses, so parsing
 * starts after the last ')'. */
static uint64_t start_time_proc(long pid)
{
    char path[64], buf[1024];
    unsigned long long start = 0;
    FILE *f;
    size_t n;
    char *p;
    int field;

    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    f = fopen(path, "re"); /* close-on-exec: no descriptor may leak to a child */
    if (f == NULL)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    if (p == NULL)
        return 0;
    /* After ')' come fields 3, 4, ...: skip to field 22. */
    for (field = 2; field < 22 && p != NULL; field++)
        p = strchr(p + 1, ' ');
    if (p == NULL || sscanf(p + 1, "%llu", &start) != 1)
        return 0;
    return (uint64_t)start;
}
#endif

#ifdef SK_START_SYSCTL
/* Start time in microseconds since the epoch from the kern.proc sysctl. */
static uint64_t start_time_sysctl(long pid)
{
#if defined(__FreeBSD__) || defined(__DragonFly__)
    struct kinfo_proc kp;
    size_t len = sizeof kp;
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid};

    if (sysctl(mib, 4, &kp, &len, NULL, 0) != 0 || len != sizeof kp)
        return 0;
    return (uint64_t)kp.ki_start.tv_sec * 1000000u + (uint64_t)kp.ki_start.tv_usec;
#elif defined(__NetBSD__)
    struct kinfo_proc2 kp;
    size_t len = sizeof kp;
    int mib[6] = {CTL_KERN, KERN_PROC2, KERN_PROC_PID, (int)pid, (int)sizeof kp, 1};

    if (sysctl(mib, 6, &kp, &len, NULL, 0) != 0 || len != sizeof kp)
        return 0;
    return (uint64_t)kp.p_ustart_sec * 1000000u + (uint64_t)kp.p_ustart_usec;
#elif defined(__OpenBSD__)
    struct kinfo_proc kp;
    size_t len = sizeof kp;
    int mib[6] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid, (int)sizeof kp, 1};

    if (sysctl(mib, 6, &kp, &len, NULL, 0) != 0 || len != sizeof kp)
        return 0;
    return (uint64_t)kp.p_ustart_sec * 1000000u + (uint64_t)kp.p_ustart_usec;
#elif defined(__APPLE__)
    struct kinfo_proc kp;
    size_t len = sizeof kp;
    int mib[4] = {CTL_KERN, KERN_PROC, KERN_PROC_PID, (int)pid};

    if (sysctl(mib, 4, &kp, &len, NULL, 0) != 0 || len != sizeof kp)
        return 0;
    return (uint64_t)kp.kp_proc.p_starttime.tv_sec * 1000000u +
           (uint64_t)kp.kp_proc.p_starttime.tv_usec;
#else
    (void)pid;
    return 0;
#endif
}
#endif

uint64_t sk_proc_start_time(long pid)
{
    if (pid <= 0 || pid > INT_MAX)
        return 0;
#if defined(SK_START_PROC)
    return start_time_proc(pid);
#elif defined(SK_START_SYSCTL)
    return start_time_sysctl(pid);
#else
    return 0;
#endif
}

uint32_t sk_token_from_start(uint64_t start)
{
    uint32_t token;

    if (start == 0)
        return 0;
    token = (uint32_t)(start ^ (start >> 32));
    return token != 0 ? token : 1;
}

uint32_t sk_proc_start_token(long pid)
{
    return sk_token_from_start(sk_proc_start_time(pid));
}

int sk_proc_alive(long pid, uint32_t token)
{
    uint32_t now;

    if (!sk_proc_exists(pid))
        return 0;
    if (token == 0)
        return 1;
    now = sk_proc_start_token(pid);
    /* Unknown now (e.g. /proc hidden): trust the pid. */
    return now == 0 || now == token;
}

uint32_t sk_self_token(void)
{
    return sk_proc_start_token((long)getpid());
}

uint64_t sk_monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sk_sleep_ns(uint64_t ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
