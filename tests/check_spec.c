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
    ck_assert_int_eq(shmkit__spec_parse(text, &spec), 0);
    ck_assert_int_eq(spec.backend, SHMKIT_BACKEND_POSIX);
    ck_assert_str_eq(spec.posix_name, text);
    ck_assert_int_eq(shmkit_spec_check(text), SHMKIT_BACKEND_POSIX);
}
END_TEST

START_TEST(test_invalid)
{
    struct sk_spec spec;
    const char *text = invalid[_i];
    int rc = shmkit__spec_parse(text, &spec);

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
        ck_assert_int_eq(shmkit__spec_parse(cases[i].text, &spec), 0);
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
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:1", &a), 0);
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:255", &b), 0);
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:1", &c), 0);
    ck_assert_int_ne(a.sysv_key, 0);
    ck_assert_int_ne(a.sysv_key, b.sysv_key);
    ck_assert_int_eq(a.sysv_key, c.sysv_key);
    /* ftok of a path with a colon in it: the last colon separates PROJ. */
    ck_assert_int_eq(shmkit__spec_parse("sysv:/nonexistent:dir/x:7", &a), -ENOENT);
    ck_assert_int_eq(shmkit__spec_parse("sysv:/nonexistent-shmkit-path:1", &a), -ENOENT);
}
END_TEST

/* PROJ is a number from 1 to 255 in decimal or, like KEY, in hex with 0x. */
START_TEST(test_sysv_proj_hex)
{
    static const char *const bad[] = { "0x0", "0x100", "0x", "0x-1", "+16", " 16", "16 ",
                                       "0x1g", "0o20" };
    struct sk_spec a, b;
    char text[64];
    size_t i;

    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        return;
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:0x10", &a), 0);
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:16", &b), 0);
    ck_assert_int_eq(a.sysv_key, b.sysv_key);
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:0XfF", &a), 0);
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:255", &b), 0);
    ck_assert_int_eq(a.sysv_key, b.sysv_key);
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:010", &a), 0);  /* decimal, not octal */
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:10", &b), 0);
    ck_assert_int_eq(a.sysv_key, b.sysv_key);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "sysv:/tmp:%s", bad[i]);
        ck_assert_int_eq(shmkit__spec_parse(text, &a), SHMKIT_EBADSPEC);
        /* The detail quotes what could not be read. */
        snprintf(text, sizeof text, "not \"%s\"", bad[i]);
        ck_assert_msg(strstr(shmkit_error_detail(), text) != NULL, "detail \"%s\" lacks %s",
                      shmkit_error_detail(), text);
        ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "decimal or 0x hex"));
    }
}
END_TEST

/* Control characters of a spec are escaped in the detail. */
START_TEST(test_detail_escaped)
{
    struct sk_spec spec;
    const char *d;

    if (!shmkit_backend_available(SHMKIT_BACKEND_SYSV))
        return;
    ck_assert_int_eq(shmkit__spec_parse("sysv:/nonexistent-skt\n\x1b[31m:1", &spec), -ENOENT);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "/nonexistent-skt\\n\\x1b[31m"));
    ck_assert_int_eq(shmkit__spec_parse("sysv:/tmp:1\t\x01", &spec), SHMKIT_EBADSPEC);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "not \"1\\t\\x01\""));
    for (d = shmkit_error_detail(); *d != '\0'; d++)
        ck_assert_msg(*d >= 0x20 && *d < 0x7f, "byte 0x%02x in \"%s\"",
                      (unsigned)(unsigned char)*d, shmkit_error_detail());
}
END_TEST

START_TEST(test_too_long)
{
    char text[SK_SPEC_TEXT_MAX + 10];
    struct sk_spec spec;

    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    memcpy(text, "sysv:/", 6);
    ck_assert_int_eq(shmkit__spec_parse(text, &spec), SHMKIT_EBADSPEC);
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
    tcase_add_test(tc, test_sysv_proj_hex);
    tcase_add_test(tc, test_detail_escaped);
    tcase_add_test(tc, test_too_long);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(spec_suite());
}
