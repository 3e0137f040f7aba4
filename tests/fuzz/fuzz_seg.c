/*
 * fuzz_seg.c - the segments of the fuzz targets (see fuzz.h).
 *
 * The bytes are put in place with the raw system calls, not with the
 * library, because the point is to hand the library segments that it did
 * not make.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "fuzz.h"
#include "shmkit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef SHMKIT_HAVE_SYSV
#include <sys/ipc.h>
#include <sys/shm.h>
#endif

/* Remove the segments when a sanitizer ends the process too, so that a
 * crash found by the fuzzer leaves nothing in /dev/shm. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define FZ_SANITIZER 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FZ_SANITIZER 1
#endif
#ifdef FZ_SANITIZER
void __sanitizer_set_death_callback(void (*callback)(void));
#endif

static char posix_spec[32];
static char sysv_spec[32];

#ifdef SHMKIT_HAVE_SYSV
static long sysv_key_value;

static int is_sysv(const char *spec)
{
    return strncmp(spec, "sysv:", 5) == 0;
}
#endif

static void remove_raw(void)
{
#ifdef SHMKIT_HAVE_POSIX
    if (posix_spec[0] != '\0')
        shm_unlink(posix_spec);
#endif
#ifdef SHMKIT_HAVE_SYSV
    if (sysv_spec[0] != '\0') {
        int id = shmget((key_t)sysv_key_value, 0, 0);

        if (id >= 0)
            shmctl(id, IPC_RMID, NULL);
    }
#endif
}

static void init_specs(void)
{
    unsigned long pid = (unsigned long)getpid();

    if (posix_spec[0] != '\0')
        return;
    /* skt.NAME.PID: tests/zz-leftovers.sh finds the pid in the name. */
    snprintf(posix_spec, sizeof posix_spec, "/skt.fz.%lu", pid);
#ifdef SHMKIT_HAVE_SYSV
    /* testutil.c's scheme (0x40000000 + pid << 8 + N) with N = 0xff,
     * which the Check suites never reach in one process. */
    sysv_key_value = (long)(int32_t)(uint32_t)(0x40000000ul + ((pid & 0xffffful) << 8) + 0xfful);
    snprintf(sysv_spec, sizeof sysv_spec, "sysv:0x%lx",
             (unsigned long)(uint32_t)sysv_key_value);
#endif
    atexit(remove_raw);
#ifdef FZ_SANITIZER
    __sanitizer_set_death_callback(remove_raw);
#endif
}

const char *fz_posix_spec(void)
{
    init_specs();
#ifdef SHMKIT_HAVE_POSIX
    return posix_spec;
#else
    return NULL;
#endif
}

const char *fz_spec(int want_sysv)
{
    const char *posix = fz_posix_spec(), *sysv = fz_sysv_spec();

    return (want_sysv && sysv != NULL) || posix == NULL ? sysv : posix;
}

const char *fz_sysv_spec(void)
{
    init_specs();
    return sysv_spec[0] != '\0' ? sysv_spec : NULL;
}

void fz_fail(const char *what)
{
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    remove_raw(); /* abort() skips atexit */
    abort();
}

void fz_remove(const char *spec)
{
    shmkit_unlink(spec);
}

#ifdef SHMKIT_HAVE_POSIX
static int fill_posix(const char *name, const void *bytes, size_t size)
{
    int fd = shm_open(name, O_RDWR | O_CREAT, 0600), rc = 0;
    void *p;

    if (fd < 0)
        return -errno;
    /* Shrink to nothing first: no byte of the previous input survives. */
    if (ftruncate(fd, 0) != 0 || ftruncate(fd, (off_t)size) != 0) {
        rc = -errno;
    } else if (size > 0) {
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) {
            rc = -errno;
        } else {
            memcpy(p, bytes, size);
            munmap(p, size);
        }
    }
    close(fd);
    return rc;
}
#endif

#ifdef SHMKIT_HAVE_SYSV
static int fill_sysv(const void *bytes, size_t size)
{
    int id = shmget((key_t)sysv_key_value, 0, 0);
    void *p;

    if (id >= 0)
        shmctl(id, IPC_RMID, NULL);
    if (size == 0)
        return -EINVAL;
    id = shmget((key_t)sysv_key_value, size, IPC_CREAT | IPC_EXCL | 0600);
    if (id < 0)
        return -errno;
    p = shmat(id, NULL, 0);
    if (p == (void *)-1) {
        int rc = -errno;

        shmctl(id, IPC_RMID, NULL);
        return rc;
    }
    memcpy(p, bytes, size);
    shmdt(p);
    return 0;
}
#endif

int fz_fill(const char *spec, const void *bytes, size_t size)
{
    init_specs();
#ifdef SHMKIT_HAVE_SYSV
    if (is_sysv(spec))
        return fill_sysv(bytes, size);
#endif
#ifdef SHMKIT_HAVE_POSIX
    return fill_posix(spec, bytes, size);
#else
    (void)bytes;
    (void)size;
    return -ENOSYS;
#endif
}

unsigned char *fz_map(const char *spec, size_t *size)
{
    void *p;

    init_specs();
#ifdef SHMKIT_HAVE_SYSV
    if (is_sysv(spec)) {
        struct shmid_ds ds;
        int id = shmget((key_t)sysv_key_value, 0, 0);

        if (id < 0 || shmctl(id, IPC_STAT, &ds) != 0)
            return NULL;
        p = shmat(id, NULL, 0);
        if (p == (void *)-1)
            return NULL;
        *size = (size_t)ds.shm_segsz;
        return p;
    }
#endif
#ifdef SHMKIT_HAVE_POSIX
    {
        struct stat st;
        int fd = shm_open(spec, O_RDWR, 0);

        if (fd < 0)
            return NULL;
        if (fstat(fd, &st) != 0 || st.st_size <= 0) {
            close(fd);
            return NULL;
        }
        p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (p == MAP_FAILED)
            return NULL;
        *size = (size_t)st.st_size;
        return p;
    }
#else
    (void)p;
    return NULL;
#endif
}

void fz_unmap(const char *spec, unsigned char *base, size_t size)
{
#ifdef SHMKIT_HAVE_SYSV
    if (is_sysv(spec)) {
        shmdt(base);
        return;
    }
#else
    (void)spec;
#endif
    munmap(base, size);
}
