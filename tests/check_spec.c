/*
 * check_spec.c - segment spec parsing, valid and invalid.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

static const char *const valid_posix[] = {
    "/a", "/A.b_c-9", "/012345678901234567890123456789", "/...", "/-", "/_x",
};

static const char *const invalid[] = {
    "", "a", "/", "//", "/a/b", "/.", "/..", "/0123456789012345678901234567890",
    "/a b", "/a\tb", "/\xc3\xa9", "/a:b", "/a\\b", "shm:/a", "SYSV:0x1", " /a",
    "sysv:", "sysv:0", "sysv:0x0", "sysv:0x", "sysv:0x100000000", "sysv:4294967296",
    "sysv:-1", "sysv:+1", "sysv:12ab", "sysv: 1", "sysv:1 ", "sysv:0xg1",
    "sysv:/tmp:0", "sysv:/tmp:256", "sysv:/tmp:", "sysv::1", "sysv:/tmp:-1", "sysv:/tmp:1x",
};

START_TEST(test_valid_posix)
{
    struct sk_spec spec;
    const char *text = valid_posix[_i];

    if (!shmkit_backend_available(SHMKIT_BACKEND_POSIX))
        return;
    ck_assert_int_eq(sk_spec_parse(text, &spec), 0);
    ck_assert_int_eq(spec.backend, SHMKIT_BACKEND_POSIX);
    ck_assert_str_eq(spec.posix_name, text);
    ck_assert_int_eq(shmkit_spec_check(text), SHMKIT_BACKEND_POSIX);
}
END_TEST

START_TEST(test_invalid)
{
    struct sk_spec spec;
    const char *text = invalid[_i];
    int rc = sk_spec_parse(text, &spec);

    ck_assert_msg(rc == SHMKIT_EBADSPEC || rc == SHMKIT_ENOBACKEND,
                  "spec \"%s\" gave %d", text, rc);
    ck_assert_int_eq(shmkit_spec_check(text), rc);
    if (rc == SHMKIT_EBADSPEC)
        ck_assert_msg(shmkit_error_detail()[0] != '\0', "no detail for \"%s\"", text);
}
END_TEST

START_TEST(test_null_spec)
{
    ck_assert_int_eq(shmkit_spec_check(NULL), -EINVAL);
}
END_TEST

START_TEST(test_sysv_keys)
{
    static const struct { const char *text; long key; } cases[] = {
        {"sysv:0x1234", 0x1234}, {"sysv:4660", 0x1234}, {"sysv:0X00ff", 0xff},
        {"sysv:1", 1}, {"sysv:0x7fffffff", 0x7fffffff},
        {"sysv:0xffffffff", -1}, {"sysv:4294967295", -1}, {"sysv:0x80000000", -2147483647L - 1},
    };
    struct sk_spec spec;
    size_t i;

    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        return;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert_int_eq(sk_spec_parse(cases[i].text, &spec), 0);
        ck_assert_int_eq(spec.backend, SHMKIT_BACKEND_SYSV);
        ck_assert_int_eq(spec.sysv_key, cases[i].key);
        ck_assert_str_eq(spec.text, cases[i].text);
    }
}
END_TEST

START_TEST(test_sysv_ftok)
{
    struct sk_spec a, b, c;

    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        return;
    ck_assert_int_eq(sk_spec_parse("sysv:/tmp:1", &a), 0);
    ck_assert_int_eq(sk_spec_parse("sysv:/tmp:255", &b), 0);
    ck_assert_int_eq(sk_spec_parse("sysv:/tmp:1", &c), 0);
    ck_assert_int_ne(a.sysv_key, 0);
    ck_assert_int_ne(a.sysv_key, b.sysv_key);
    ck_assert_int_eq(a.sysv_key, c.sysv_key);
    /* ftok of a path with a colon in it: the last colon separates PROJ. */
    ck_assert_int_eq(sk_spec_parse("sysv:/nonexistent:dir/x:7", &a), -ENOENT);
    ck_assert_int_eq(sk_spec_parse("sysv:/nonexistent-shmkit-path:1", &a), -ENOENT);
}
END_TEST

START_TEST(test_too_long)
{
    char text[SK_SPEC_TEXT_MAX + 10];
    struct sk_spec spec;

    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    memcpy(text, "sysv:/", 6);
    ck_assert_int_eq(sk_spec_parse(text, &spec), SHMKIT_EBADSPEC);
}
END_TEST

static Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("spec");

    tcase_add_loop_test(tc, test_valid_posix, 0, (int)(sizeof valid_posix / sizeof *valid_posix));
    tcase_add_loop_test(tc, test_invalid, 0, (int)(sizeof invalid / sizeof *invalid));
    tcase_add_test(tc, test_null_spec);
    tcase_add_test(tc, test_sysv_keys);
    tcase_add_test(tc, test_sysv_ftok);
    tcase_add_test(tc, test_too_long);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(spec_suite());
}
