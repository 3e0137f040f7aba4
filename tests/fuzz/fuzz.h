/*
 * fuzz.h - shared by the fuzz targets (tests/fuzz/fuzz_*.c), their
 * libFuzzer builds and tests/fuzz/replay.c.
 *
 * Each target defines LLVMFuzzerTestOneInput.  Built with
 * -fsanitize=fuzzer it is driven by libFuzzer ("make fuzz"); built with
 * replay.c it replays the committed corpus under "make check" with any
 * compiler.
 *
 * Segments: each fuzzing process uses one POSIX name "/skt.fz.PID" and
 * one System V key derived from its pid (the ranges tests/zz-leftovers.sh
 * watches), recreated for every input and removed at exit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_FUZZ_H
#define SHMKIT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* This process's specs; each is NULL if the build lacks its backend.  The
 * first call arranges for both segments to be removed at exit (and when a
 * sanitizer kills the process). */
const char *fz_posix_spec(void);
const char *fz_sysv_spec(void);
/* System V if WANT_SYSV and the build has it, else POSIX if it has that. */
const char *fz_spec(int want_sysv);

/* Replace the segment SPEC (one of the two above) by a new one of SIZE
 * bytes holding BYTES, as a foreign process could have made it.  0 or
 * -errno.  A System V segment cannot be empty: SIZE 0 is -EINVAL. */
int fz_fill(const char *spec, const void *bytes, size_t size);

/* A private read-write mapping of the existing segment SPEC, as a hostile
 * process with write permission would have; *SIZE receives its size.
 * NULL on failure.  Undo with fz_unmap. */
unsigned char *fz_map(const char *spec, size_t *size);
void fz_unmap(const char *spec, unsigned char *base, size_t size);

/* Remove SPEC if it exists (the library's shmkit_unlink, which also frees
 * the wait resources of a shmkit header it can still read). */
void fz_remove(const char *spec);

/* Bytes of the input, consumed front to back; reading past the end yields
 * zeros, so every input is a complete program. */
struct fz_input {
    const uint8_t *p;
    size_t left;
};

static inline uint8_t fz_u8(struct fz_input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t fz_u16(struct fz_input *in)
{
    uint16_t lo = fz_u8(in);

    return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

static inline uint32_t fz_u32(struct fz_input *in)
{
    uint32_t lo = fz_u16(in);

    return lo | (uint32_t)fz_u16(in) << 16;
}

/* Stop the fuzzer on a broken invariant, with a message libFuzzer shows. */
void fz_fail(const char *what);
#define FZ_CHECK(cond) ((cond) ? (void)0 : fz_fail(#cond))

#endif
