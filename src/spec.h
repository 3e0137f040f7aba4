/*
 * spec.h - segment specs: "/NAME" (POSIX) and "sysv:KEY" (spec.c).
 * Internal to libshmkit.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_SPEC_H
#define SHMKIT_SPEC_H

#define SK_POSIX_NAME_MAX 30
#define SK_SPEC_TEXT_MAX 320

struct sk_spec {
    int backend;                        /* enum shmkit_backend */
    char posix_name[SK_POSIX_NAME_MAX + 2]; /* "/NAME" */
    long sysv_key;                      /* key_t value, != IPC_PRIVATE */
    char text[SK_SPEC_TEXT_MAX];        /* the spec as given, for messages */
};

/* Parse SPEC; SHMKIT_EBADSPEC (with detail) or SHMKIT_ENOBACKEND. */
int shmkit__spec_parse(const char *spec, struct sk_spec *out);

#endif /* SHMKIT_SPEC_H */
