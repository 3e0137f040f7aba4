/*
 * check_errors.c - error codes, their strings and details; version.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>

#include "shmkit.h"
#include "testutil.h"

static const int library_codes[] = {
    SHMKIT_EBADSPEC, SHMKIT_ENOTSHMKIT, SHMKIT_EVERSION, SHMKIT_EKIND, SHMKIT_ESIZE,
    SHMKIT_ELAYOUT, SHMKIT_ECORRUPT, SHMKIT_EBUSY, SHMKIT_ENOBACKEND, SHMKIT_EBADLAYOUT,
    SHMKIT_ENOFIELD, SHMKIT_EBADVALUE, SHMKIT_ERANGE, SHMKIT_ETOOLONG, SHMKIT_EHALFCREATED,
    SHMKIT_ECONTENDED, SHMKIT_EOVERWRITTEN, SHMKIT_EOWNER, SHMKIT_ENOTHOLDER,
};
#define NCODES (sizeof library_codes / sizeof library_codes[0])

START_TEST(test_library_strings_distinct)
{
    size_t i, j;

    for (i = 0; i < NCODES; i++) {
        const char *a = shmkit_strerror(library_codes[i]);
        ck_assert_ptr_nonnull(a);
        ck_assert_str_ne(a, "unknown error");
        ck_assert_int_gt((int)strlen(a), 3);
        for (j = 0; j < i; j++)
            ck_assert_str_ne(a, shmkit_strerror(library_codes[j]));
    }
}
END_TEST

START_TEST(test_required_wording)
{
    ck_assert_str_eq(shmkit_strerror(SHMKIT_ENOTSHMKIT), "not a shmkit segment");
    ck_assert_str_eq(shmkit_strerror(SHMKIT_EBADSPEC), "bad segment spec");
    ck_assert_str_eq(shmkit_strerror(SHMKIT_EBUSY), "writer busy");
    ck_assert_str_eq(shmkit_strerror(-ENOENT), "no such segment");
    ck_assert_str_eq(shmkit_strerror(0), "success");
}
END_TEST

START_TEST(test_errno_codes_keep_meaning)
{
    ck_assert_str_eq(shmkit_strerror(-EACCES), strerror(EACCES));
    ck_assert_str_eq(shmkit_strerror(-ENOSPC), strerror(ENOSPC));
    ck_assert_str_eq(shmkit_strerror(-ETIMEDOUT), strerror(ETIMEDOUT));
}
END_TEST

START_TEST(test_unknown_codes)
{
    ck_assert_str_eq(shmkit_strerror(-1000), "unknown error");
    ck_assert_str_eq(shmkit_strerror(-999999), "unknown error");
    ck_assert_str_eq(shmkit_strerror(42), "unknown error");
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

static Suite *errors_suite(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("errors");

    tcase_add_test(tc, test_library_strings_distinct);
    tcase_add_test(tc, test_required_wording);
    tcase_add_test(tc, test_errno_codes_keep_meaning);
    tcase_add_test(tc, test_unknown_codes);
    tcase_add_test(tc, test_detail_set_and_cleared);
    tcase_add_test(tc, test_version);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(errors_suite());
}
