/*
 * check_errors.c - error codes, their texts, names and details; version.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "shmkit.h"
#include "testutil.h"

/* The library's codes, written out here on purpose rather than taken from
 * SHMKIT_ERRNO_MAP: the values are ABI and the names API, so a change to
 * the map must also change this copy. */
static const struct expected_code {
    int code;
    int value;
    const char *name;
} expected_codes[] = {
    {SHMKIT_EBADSPEC, -1001, "SHMKIT_EBADSPEC"},
    {SHMKIT_ENOTSHMKIT, -1002, "SHMKIT_ENOTSHMKIT"},
    {SHMKIT_EVERSION, -1003, "SHMKIT_EVERSION"},
    {SHMKIT_EKIND, -1004, "SHMKIT_EKIND"},
    {SHMKIT_ESIZE, -1005, "SHMKIT_ESIZE"},
    {SHMKIT_ELAYOUT, -1006, "SHMKIT_ELAYOUT"},
    {SHMKIT_ECORRUPT, -1007, "SHMKIT_ECORRUPT"},
    {SHMKIT_EBUSY, -1008, "SHMKIT_EBUSY"},
    {SHMKIT_ENOBACKEND, -1009, "SHMKIT_ENOBACKEND"},
    {SHMKIT_EBADLAYOUT, -1010, "SHMKIT_EBADLAYOUT"},
    {SHMKIT_ENOFIELD, -1011, "SHMKIT_ENOFIELD"},
    {SHMKIT_EBADVALUE, -1012, "SHMKIT_EBADVALUE"},
    {SHMKIT_ERANGE, -1013, "SHMKIT_ERANGE"},
    {SHMKIT_ETOOLONG, -1014, "SHMKIT_ETOOLONG"},
    {SHMKIT_EHALFCREATED, -1015, "SHMKIT_EHALFCREATED"},
    {SHMKIT_ECONTENDED, -1016, "SHMKIT_ECONTENDED"},
    {SHMKIT_EOVERWRITTEN, -1017, "SHMKIT_EOVERWRITTEN"},
    {SHMKIT_EOWNER, -1018, "SHMKIT_EOWNER"},
    {SHMKIT_ENOTHOLDER, -1019, "SHMKIT_ENOTHOLDER"},
};
#define NCODES (sizeof expected_codes / sizeof expected_codes[0])

/* The map as the header gives it, for applications that expand it. */
struct map_entry {
    int code;
    const char *name;
    const char *text;
};
#define MAP_ENTRY(name, value, text) {name, #name, text},
static const struct map_entry map_entries[] = {SHMKIT_ERRNO_MAP(MAP_ENTRY)};
#undef MAP_ENTRY
#define NMAP (sizeof map_entries / sizeof map_entries[0])

/* errno values get texts from 1 up to this; beyond, "unknown error". */
#define NUMBERED_LIMIT 300

START_TEST(test_codes_keep_values_and_names)
{
    size_t i;

    for (i = 0; i < NCODES; i++) {
        ck_assert_int_eq(expected_codes[i].code, expected_codes[i].value);
        ck_assert_str_eq(shmkit_strerror_name(expected_codes[i].code), expected_codes[i].name);
    }
    ck_assert_int_eq(SHMKIT_ERRCODE_BASE, -1000);
}
END_TEST

/* Every entry of SHMKIT_ERRNO_MAP is a code above, in the same order, and
 * the library describes and names it as the map says. */
START_TEST(test_map_is_the_library_table)
{
    size_t i;

    ck_assert_uint_eq(NMAP, NCODES);
    for (i = 0; i < NMAP; i++) {
        ck_assert_int_eq(map_entries[i].code, expected_codes[i].code);
        ck_assert_str_eq(map_entries[i].name, expected_codes[i].name);
        ck_assert_str_eq(shmkit_strerror(map_entries[i].code), map_entries[i].text);
        ck_assert_str_eq(shmkit_strerror_name(map_entries[i].code), map_entries[i].name);
    }
}
END_TEST

START_TEST(test_library_strings_distinct)
{
    size_t i, j;

    for (i = 0; i < NCODES; i++) {
        const char *a = shmkit_strerror(expected_codes[i].code);
        ck_assert_ptr_nonnull(a);
        ck_assert_str_ne(a, "unknown error");
        ck_assert_int_gt((int)strlen(a), 3);
        for (j = 0; j < i; j++)
            ck_assert_str_ne(a, shmkit_strerror(expected_codes[j].code));
    }
}
END_TEST

START_TEST(test_required_wording)
{
    ck_assert_str_eq(shmkit_strerror(SHMKIT_ENOTSHMKIT), "not a shmkit segment");
    ck_assert_str_eq(shmkit_strerror(SHMKIT_EBADSPEC), "bad segment spec");
    /* One text for both leases, the writer's and a block ring's consumer's. */
    ck_assert_str_eq(shmkit_strerror(SHMKIT_EBUSY), "lease busy");
    ck_assert_str_eq(shmkit_strerror(-ENOENT), "no such segment");
    ck_assert_str_eq(shmkit_strerror(-EEXIST), "segment already exists");
    ck_assert_str_eq(shmkit_strerror(0), "success");
}
END_TEST

/* errno codes keep the system's meaning, in the wording strerror() gives
 * on most systems, without calling it. */
START_TEST(test_errno_codes_keep_meaning)
{
    ck_assert_str_eq(shmkit_strerror(-EACCES), "Permission denied");
    ck_assert_str_eq(shmkit_strerror(-ENOSPC), "No space left on device");
    ck_assert_str_eq(shmkit_strerror(-EINVAL), "Invalid argument");
    ck_assert_str_eq(shmkit_strerror(-ETIMEDOUT), "Operation timed out");
    ck_assert_str_eq(shmkit_strerror(-EMSGSIZE), "Message too long");
    ck_assert_str_eq(shmkit_strerror_name(-EACCES), "EACCES");
    ck_assert_str_eq(shmkit_strerror_name(-ENOENT), "ENOENT");
    ck_assert_str_eq(shmkit_strerror_name(-EAGAIN), "EAGAIN");
    ck_assert_str_eq(shmkit_strerror_name(-EINTR), "EINTR");
    ck_assert_str_eq(shmkit_strerror_name(-ETIMEDOUT), "ETIMEDOUT");
}
END_TEST

/* Every errno value has a text: its own, or "system error N"; a name is
 * known exactly for those with their own text. */
START_TEST(test_every_errno_value_described)
{
    char numbered[32];
    int e;

    for (e = 1; e < NUMBERED_LIMIT; e++) {
        const char *text = shmkit_strerror(-e);
        const char *name = shmkit_strerror_name(-e);

        snprintf(numbered, sizeof numbered, "system error %d", e);
        ck_assert_ptr_nonnull(text);
        ck_assert_ptr_nonnull(name);
        if (strcmp(name, "unknown") == 0) {
            ck_assert_str_eq(text, numbered);
        } else {
            ck_assert_msg(name[0] == 'E', "errno %d named %s", e, name);
            ck_assert_str_ne(text, numbered);
            ck_assert_str_ne(text, "unknown error");
        }
    }
}
END_TEST

START_TEST(test_unknown_codes)
{
    static const int unknown[] = {
        SHMKIT_ERRCODE_BASE, -1020, -999999, INT_MIN, -999, -NUMBERED_LIMIT, 1, 42, INT_MAX,
    };
    size_t i;

    for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        ck_assert_str_eq(shmkit_strerror(unknown[i]), "unknown error");
        ck_assert_str_eq(shmkit_strerror_name(unknown[i]), "unknown");
    }
    ck_assert_str_eq(shmkit_strerror_name(0), "OK");
}
END_TEST

/* Threads: every code, described at once by several threads, gets the
 * same text and name as in a quiet moment: the same constant strings (the
 * same pointers) with the same contents (compared with copies, which a
 * shared buffer that another thread overwrites could not match). */
#define THREADS 8
#define ROUNDS 20
#define FIRST_CODE (-1100)
#define NPROBES (NUMBERED_LIMIT + 1 - FIRST_CODE)

static const char *quiet_text[NPROBES];
static const char *quiet_name[NPROBES];
static char quiet_text_copy[NPROBES][96];
static char quiet_name_copy[NPROBES][32];

struct describer {
    pthread_t thread;
    unsigned mismatches;
};

static void *describe_all(void *arg)
{
    struct describer *d = arg;
    int round, i;

    for (round = 0; round < ROUNDS; round++)
        for (i = 0; i < NPROBES; i++) {
            int code = FIRST_CODE + i;
            const char *text = shmkit_strerror(code);
            const char *name = shmkit_strerror_name(code);

            if (text != quiet_text[i] || strcmp(text, quiet_text_copy[i]) != 0 ||
                name != quiet_name[i] || strcmp(name, quiet_name_copy[i]) != 0)
                d->mismatches++;
        }
    return NULL;
}

START_TEST(test_concurrent_calls_give_stable_texts)
{
    struct describer d[THREADS];
    int i;

    for (i = 0; i < NPROBES; i++) {
        quiet_text[i] = shmkit_strerror(FIRST_CODE + i);
        quiet_name[i] = shmkit_strerror_name(FIRST_CODE + i);
        ck_assert_uint_lt(strlen(quiet_text[i]), sizeof quiet_text_copy[i]);
        ck_assert_uint_lt(strlen(quiet_name[i]), sizeof quiet_name_copy[i]);
        strcpy(quiet_text_copy[i], quiet_text[i]);
        strcpy(quiet_name_copy[i], quiet_name[i]);
    }
    for (i = 0; i < THREADS; i++) {
        d[i].mismatches = 0;
        ck_assert_int_eq(pthread_create(&d[i].thread, NULL, describe_all, &d[i]), 0);
    }
    for (i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(d[i].thread, NULL), 0);
        ck_assert_msg(d[i].mismatches == 0, "thread %d: %u texts or names changed", i,
                      d[i].mismatches);
    }
}
END_TEST

START_TEST(test_detail_set_and_cleared)
{
    shmkit_slot *slot = (shmkit_slot *)&slot;

    ck_assert_int_eq(shmkit_slot_open(&slot, "/a/b", 0), SHMKIT_EBADSPEC);
    ck_assert_ptr_null(slot);
    ck_assert_str_ne(shmkit_error_detail(), "");
    ck_assert_int_gt(shmkit_spec_check(shmkit_backend_available(SHMKIT_BACKEND_POSIX)
                                       ? "/x" : "sysv:0x10"), 0);
    ck_assert_str_eq(shmkit_error_detail(), "");
}
END_TEST

START_TEST(test_version)
{
    ck_assert_str_eq(shmkit_version(), SHMKIT_VERSION_STRING);
    ck_assert_str_eq(shmkit_version(), PACKAGE_VERSION);
    ck_assert_uint_eq(shmkit_version_number(), SHMKIT_VERSION_NUMBER);
    ck_assert_uint_eq(SHMKIT_VERSION_NUMBER,
                      SHMKIT_VERSION_MAJOR * 10000u + SHMKIT_VERSION_MINOR * 100u +
                      SHMKIT_VERSION_PATCH);
}
END_TEST

/* The version macros come from configure's one version: the parts spell
 * the string. */
START_TEST(test_version_parts_spell_the_string)
{
    char text[32];

    snprintf(text, sizeof text, "%d.%d.%d", SHMKIT_VERSION_MAJOR, SHMKIT_VERSION_MINOR,
             SHMKIT_VERSION_PATCH);
    ck_assert_str_eq(text, SHMKIT_VERSION_STRING);
}
END_TEST

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("errors");

    /* Check's default is 4 s; test_concurrent_calls_give_stable_texts makes
     * half a million calls, which under TSan, next to the other sanitizer
     * suites on two CPUs, once took longer than that. */
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_codes_keep_values_and_names);
    tcase_add_test(tc, test_map_is_the_library_table);
    tcase_add_test(tc, test_library_strings_distinct);
    tcase_add_test(tc, test_required_wording);
    tcase_add_test(tc, test_errno_codes_keep_meaning);
    tcase_add_test(tc, test_every_errno_value_described);
    tcase_add_test(tc, test_unknown_codes);
    tcase_add_test(tc, test_concurrent_calls_give_stable_texts);
    tcase_add_test(tc, test_detail_set_and_cleared);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_version_parts_spell_the_string);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(errors_suite());
}
