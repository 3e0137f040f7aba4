/*
 * spec.c - parsing of segment specs ("/NAME", "sysv:PATH:PROJ", "sysv:KEY").
 *
 * One syntax for the API and the tools.  The POSIX name rules are strict on
 * purpose: 30 characters fit macOS's 31-byte limit, and the character set
 * keeps names inside their namespace on every system (no "/", no "..").
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "shmkit.h"
#include "spec.h"

#ifdef SHMKIT_HAVE_SYSV
#include <sys/ipc.h>
#endif

static int is_name_char(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

static int parse_posix(const char *spec, struct sk_spec *out)
{
    const char *name = spec + 1;
    size_t len = strlen(name), i;

    if (len == 0)
        return shmkit__fail(SHMKIT_EBADSPEC, "empty POSIX name");
    if (len > SK_POSIX_NAME_MAX)
        return shmkit__fail(SHMKIT_EBADSPEC, "POSIX name longer than %d characters",
                            SK_POSIX_NAME_MAX);
    for (i = 0; i < len; i++)
        if (!is_name_char((unsigned char)name[i]))
            return shmkit__fail(SHMKIT_EBADSPEC,
                                "character %zu of the POSIX name is not one of A-Z a-z 0-9 . _ -",
                                i + 1);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return shmkit__fail(SHMKIT_EBADSPEC, "POSIX name cannot be \".\" or \"..\"");
    out->backend = SHMKIT_BACKEND_POSIX;
    memcpy(out->posix_name, spec, len + 2);
    return 0;
}

/* Parse an unsigned number: decimal, or hex with 0x.  Strict: no sign, no
 * spaces, no trailing junk. */
static int parse_unsigned(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    unsigned long long v;
    int base = 10, saved, overflow;

    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (!isxdigit((unsigned char)s[0]) || (base == 10 && !isdigit((unsigned char)s[0])))
        return -1;
    /* strtoull reports overflow only through errno; the caller's errno is
     * put back, as no library call may leave it 0 (POSIX). */
    saved = errno;
    errno = 0;
    v = strtoull(s, &end, base);
    overflow = errno != 0;
    errno = saved;
    if (overflow || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

#ifdef SHMKIT_HAVE_SYSV
static int parse_sysv_path(const char *rest, struct sk_spec *out)
{
    const char *colon = strrchr(rest, ':');
    char path[SK_SPEC_TEXT_MAX];
    unsigned long long proj;
    key_t key;
    size_t path_len;

    if (parse_unsigned(colon + 1, 255, &proj) != 0 || proj == 0)
        return shmkit__fail(SHMKIT_EBADSPEC,
                            "PROJ must be a number from 1 to 255, decimal or 0x hex, not \"%.40s\"",
                            colon + 1);
    path_len = (size_t)(colon - rest);
    if (path_len == 0)
        return shmkit__fail(SHMKIT_EBADSPEC, "empty ftok path");
    if (path_len >= sizeof path)
        return shmkit__fail(SHMKIT_EBADSPEC, "ftok path too long");
    memcpy(path, rest, path_len);
    path[path_len] = '\0';
    key = ftok(path, (int)proj);
    if (key == (key_t)-1)
        return shmkit__fail(errno == ENOENT ? -ENOENT : shmkit__errno(),
                            "ftok(\"%s\", %llu) failed", path, proj);
    out->sysv_key = (long)key;
    return 0;
}
#endif

/* The key_t value with the 32-bit pattern BITS, which is what ftok and
 * ipcs show.  key_t is a signed 32-bit int on Linux and macOS, so keys with
 * the top bit set are negative there; on the 64-bit BSDs it is a long and
 * ftok's keys are never negative, so sign-extending would name no key. */
static long key_from_bits(uint32_t bits)
{
    return sizeof(key_t) > sizeof(int32_t) ? (long)bits : (long)(int32_t)bits;
}

static int parse_sysv(const char *spec, struct sk_spec *out)
{
    const char *rest = spec + 5;
    unsigned long long key;

    if (*rest == '\0')
        return shmkit__fail(SHMKIT_EBADSPEC, "missing System V key after \"sysv:\"");
    if (strchr(rest, ':') == NULL) {
        if (parse_unsigned(rest, 0xffffffffull, &key) != 0)
            return shmkit__fail(SHMKIT_EBADSPEC,
                                "System V key must be 0xHEX or DECIMAL up to 0xffffffff");
        if (key == 0)
            return shmkit__fail(SHMKIT_EBADSPEC,
                                "key 0 is IPC_PRIVATE, which cannot be shared by name");
        out->backend = SHMKIT_BACKEND_SYSV;
        out->sysv_key = key_from_bits((uint32_t)key);
        return 0;
    }
#ifdef SHMKIT_HAVE_SYSV
    out->backend = SHMKIT_BACKEND_SYSV;
    return parse_sysv_path(rest, out);
#else
    return shmkit__fail(SHMKIT_ENOBACKEND, "this build has no System V backend");
#endif
}

int shmkit__spec_parse(const char *spec, struct sk_spec *out)
{
    int rc;

    memset(out, 0, sizeof *out);
    if (spec == NULL)
        return shmkit__null_arg("spec");
    if (*spec == '\0')
        return shmkit__fail(SHMKIT_EBADSPEC, "empty spec");
    if (strlen(spec) >= sizeof out->text)
        return shmkit__fail(SHMKIT_EBADSPEC, "spec too long");
    strcpy(out->text, spec);
    if (spec[0] == '/')
        rc = parse_posix(spec, out);
    else if (strncmp(spec, "sysv:", 5) == 0)
        rc = parse_sysv(spec, out);
    else
        return shmkit__fail(SHMKIT_EBADSPEC, "expected /NAME, sysv:PATH:PROJ or sysv:KEY");
    if (rc < 0)
        return rc;
    if (!shmkit_backend_available(out->backend))
        return shmkit__fail(SHMKIT_ENOBACKEND, "this build has no %s backend",
                            out->backend == SHMKIT_BACKEND_SYSV ? "System V" : "POSIX");
    return 0;
}

SHMKIT_API int shmkit_backend_available(int backend)
{
    switch (backend) {
#ifdef SHMKIT_HAVE_POSIX
    case SHMKIT_BACKEND_POSIX: return 1;
#endif
#ifdef SHMKIT_HAVE_SYSV
    case SHMKIT_BACKEND_SYSV: return 1;
#endif
    default: return 0;
    }
}

SHMKIT_API int shmkit_spec_check(const char *spec)
{
    struct sk_spec parsed;
    int rc;

    shmkit__clear_detail();
    rc = shmkit__spec_parse(spec, &parsed);
    return rc < 0 ? rc : parsed.backend;
}
