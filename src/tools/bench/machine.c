/*
 * machine.c - what "shmkit bench" says about the machine it ran on:
 * CPUs, CPU model, kernel, load and pinning.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench-int.h"

#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__) || defined(__OpenBSD__)
#include <sys/types.h>
#include <sys/sysctl.h>
#endif

static void trim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

static void cpu_model(char *buf, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];

    snprintf(buf, len, "unknown");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            char *colon = strchr(line, ':');
            if (colon == NULL)
                continue;
            if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0 ||
                strncmp(line, "cpu model", 9) == 0) {
                colon++;
                while (*colon == ' ' || *colon == '\t')
                    colon++;
                snprintf(buf, len, "%s", colon);
                trim(buf);
                break;
            }
        }
        fclose(f);
        return;
    }
#if defined(__APPLE__) || defined(__FreeBSD__) || defined(__NetBSD__)
    {
        size_t n = len;
        if (sysctlbyname("machdep.cpu.brand_string", buf, &n, NULL, 0) != 0) {
            n = len;
            if (sysctlbyname("hw.model", buf, &n, NULL, 0) != 0)
                snprintf(buf, len, "unknown");
        }
    }
#elif defined(__OpenBSD__)
    {
        int mib[2] = { CTL_HW, HW_MODEL };
        size_t n = len;
        if (sysctl(mib, 2, buf, &n, NULL, 0) != 0)
            snprintf(buf, len, "unknown");
    }
#endif
}

void describe_machine(struct bench_run *run)
{
    struct machine *m = &run->machine;
    struct utsname u;

    memset(m, 0, sizeof *m);
    m->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_model(m->cpu_model, sizeof m->cpu_model);
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s %s %s", u.sysname, u.release, u.machine);
    m->have_load = getloadavg(m->load, 3) == 3;
    if (!run->opt.pin) {
        snprintf(m->pinning, sizeof m->pinning, "off (the scheduler places both sides)");
        return;
    }
#ifdef BENCH_CAN_PIN
    if (find_pin_cpus(run) == 0)
        snprintf(m->pinning, sizeof m->pinning, "side A on CPU %d, side B on CPU %d",
                 run->pin_cpus[0], run->pin_cpus[1]);
    else
        snprintf(m->pinning, sizeof m->pinning, "off (fewer than two CPUs available)");
#else
    snprintf(m->pinning, sizeof m->pinning, "off (not supported on this platform)");
#endif
}
