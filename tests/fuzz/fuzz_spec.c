/*
 * fuzz_spec.c - segment specs: shmkit_spec_check and shmkit__spec_parse.
 *
 * The input is the spec text (cut at its first NUL).  Checked besides
 * "no crash": the two entry points agree, a parsed POSIX name keeps the
 * namespace rules (no '/' after the first, never "." or ".."), a System V
 * key is never IPC_PRIVATE, the text is recorded unchanged, and an error
 * detail is printable ASCII.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "internal.h"
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

static void check_parsed(const char *text, const struct sk_spec *spec)
{
    FZ_CHECK(strcmp(spec->text, text) == 0);
    if (spec->backend == SHMKIT_BACKEND_POSIX) {
        const char *name = spec->posix_name + 1;

        FZ_CHECK(spec->posix_name[0] == '/');
        FZ_CHECK(strchr(name, '/') == NULL);
        FZ_CHECK(strlen(name) >= 1 && strlen(name) <= SK_POSIX_NAME_MAX);
        FZ_CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
        FZ_CHECK(strcmp(spec->posix_name, text) == 0);
    } else {
        FZ_CHECK(spec->backend == SHMKIT_BACKEND_SYSV);
        FZ_CHECK(spec->sysv_key != 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct sk_spec spec;
    int rc, backend;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    rc = shmkit__spec_parse(text, &spec);
    backend = shmkit_spec_check(text);
    if (rc == 0) {
        check_parsed(text, &spec);
        FZ_CHECK(backend == spec.backend);
    } else {
        const char *d;

        FZ_CHECK(backend == rc);
        FZ_CHECK(shmkit_error_detail()[0] != '\0');
        for (d = shmkit_error_detail(); *d != '\0'; d++)
            FZ_CHECK(*d >= 0x20 && *d < 0x7f);  /* the spec's bytes escaped */
    }
    free(text);
    return 0;
}
