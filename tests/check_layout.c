/*
 * check_layout.c - unit tests of the layout language (src/layout.c):
 * parsing, field placement, encoding values, decoding to text and JSON.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmkit.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* The random tests' generator, seeded in main from the run's seed (which
 * tu_run prints when a test fails: SHMKIT_TEST_SEED repeats it). */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
    return tu_rand(&rng_state);
}

static shmkit_layout *parse_ok(const char *text)
{
    shmkit_layout *layout = NULL;
    int rc = shmkit_layout_parse(&layout, text);

    ck_assert_msg(rc == 0, "parse \"%s\": %d (%s)", text, rc, shmkit_error_detail());
    ck_assert_ptr_nonnull(layout);
    return layout;
}

/* TEXT must be refused with SHMKIT_EBADLAYOUT and a detail containing
 * WANT, and the output pointer must be cleared. */
static void expect_bad_layout(const char *text, const char *want)
{
    shmkit_layout *layout = (shmkit_layout *)&rng_state; /* any non-NULL */
    int rc = shmkit_layout_parse(&layout, text);

    ck_assert_msg(rc == SHMKIT_EBADLAYOUT, "\"%.60s\" gave %d, not EBADLAYOUT", text, rc);
    ck_assert_ptr_null(layout);
    ck_assert_msg(strstr(shmkit_error_detail(), want) != NULL,
                  "\"%.60s\": detail \"%s\" lacks \"%s\"", text, shmkit_error_detail(), want);
}

static struct shmkit_field field_of(const shmkit_layout *layout, const char *name)
{
    struct shmkit_field field;
    int index = shmkit_layout_find(layout, name);

    ck_assert_msg(index >= 0, "no field %s", name);
    ck_assert_int_eq(shmkit_layout_field(layout, (size_t)index, &field), 0);
    return field;
}

/* The text of field NAME formatted by the library. */
static const char *format_of(const shmkit_layout *layout, const void *record,
                             const char *name, char *buf, size_t len)
{
    int index = shmkit_layout_find(layout, name);
    int n;

    ck_assert_int_ge(index, 0);
    n = shmkit_layout_format(layout, record, (size_t)index, buf, len);
    ck_assert_msg(n >= 0 && (size_t)n < len, "format %s: %d", name, n);
    return buf;
}

static int64_t load_signed(const unsigned char *p, size_t size)
{
    int8_t a; int16_t b; int32_t c; int64_t d;

    switch (size) {
    case 1: memcpy(&a, p, 1); return a;
    case 2: memcpy(&b, p, 2); return b;
    case 4: memcpy(&c, p, 4); return c;
    default: memcpy(&d, p, 8); return d;
    }
}

static uint64_t load_unsigned(const unsigned char *p, size_t size)
{
    uint8_t a; uint16_t b; uint32_t c; uint64_t d;

    switch (size) {
    case 1: memcpy(&a, p, 1); return a;
    case 2: memcpy(&b, p, 2); return b;
    case 4: memcpy(&c, p, 4); return c;
    default: memcpy(&d, p, 8); return d;
    }
}

static double load_f64(const unsigned char *p)
{
    double d;
    memcpy(&d, p, sizeof d);
    return d;
}

static float load_f32(const unsigned char *p)
{
    float f;
    memcpy(&f, p, sizeof f);
    return f;
}

/* Set NAME=VALUE and expect CODE; on failure the record must be untouched. */
static void expect_set(const shmkit_layout *layout, unsigned char *record,
                       const char *name, const char *value, int code)
{
    size_t size = shmkit_layout_size(layout);
    unsigned char *before = malloc(size);
    int rc;

    ck_assert_ptr_nonnull(before);
    memcpy(before, record, size);
    rc = shmkit_layout_set(layout, record, name, value);
    ck_assert_msg(rc == code, "set %s=\"%s\": %d, expected %d (%s)", name, value, rc, code,
                  shmkit_error_detail());
    if (code != 0) {
        ck_assert_msg(memcmp(before, record, size) == 0,
                      "set %s=\"%s\" failed but changed the record", name, value);
        ck_assert_msg(shmkit_error_detail()[0] != '\0', "no detail for %s=\"%s\"", name, value);
    }
    free(before);
}

/* ------------------------------------------------------------------ */
/* Parsing valid layouts                                               */
/* ------------------------------------------------------------------ */

START_TEST(test_parse_canonical_text)
{
    static const char *const forms[] = {
        "id:u32 temp:f64 pos:i16[3] label:char[16]",
        "id:u32,temp:f64,pos:i16[3],label:char[16]",
        "  ,id:u32 ,, temp:f64,\tpos:i16[3]\n label:char[16],  ",
        "id:u32, temp:f64, pos:i16[003], label:char[16]",
    };
    size_t i;

    for (i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        shmkit_layout *layout = parse_ok(forms[i]);
        shmkit_layout *again;

        ck_assert_str_eq(shmkit_layout_text(layout), forms[0]);
        ck_assert_uint_eq(shmkit_layout_count(layout), 4);
        /* The canonical text parses to the same layout. */
        again = parse_ok(shmkit_layout_text(layout));
        ck_assert_str_eq(shmkit_layout_text(again), shmkit_layout_text(layout));
        ck_assert_uint_eq(shmkit_layout_size(again), shmkit_layout_size(layout));
        shmkit_layout_free(again);
        shmkit_layout_free(layout);
    }
}
END_TEST

START_TEST(test_parse_fields_described)
{
    shmkit_layout *layout = parse_ok("id:u32 temp:f64 pos:i16[3] label:char[16] one:u8[1]");
    struct shmkit_field f;

    ck_assert_int_eq(shmkit_layout_field(layout, 0, &f), 0);
    ck_assert_str_eq(f.name, "id");
    ck_assert_int_eq(f.type, SHMKIT_TYPE_U32);
    ck_assert_uint_eq(f.count, 1);
    ck_assert_int_eq(f.is_array, 0);
    ck_assert_uint_eq(f.size, sizeof(uint32_t));

    f = field_of(layout, "pos");
    ck_assert_int_eq(f.type, SHMKIT_TYPE_I16);
    ck_assert_uint_eq(f.count, 3);
    ck_assert_int_eq(f.is_array, 1);
    ck_assert_uint_eq(f.size, 3 * sizeof(int16_t));

    f = field_of(layout, "label");
    ck_assert_int_eq(f.type, SHMKIT_TYPE_CHAR);
    ck_assert_uint_eq(f.count, 16);
    ck_assert_int_eq(f.is_array, 0);
    ck_assert_uint_eq(f.size, 16);

    f = field_of(layout, "one");
    ck_assert_int_eq(f.is_array, 1);
    ck_assert_uint_eq(f.count, 1);

    ck_assert_int_eq(shmkit_layout_field(layout, 5, &f), -EINVAL);
    ck_assert_int_eq(shmkit_layout_field(layout, (size_t)-1, &f), -EINVAL);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_parse_every_type)
{
    static const struct { const char *name; int type; size_t size; } types[] = {
        { "i8", SHMKIT_TYPE_I8, sizeof(int8_t) },   { "u8", SHMKIT_TYPE_U8, sizeof(uint8_t) },
        { "i16", SHMKIT_TYPE_I16, sizeof(int16_t) }, { "u16", SHMKIT_TYPE_U16, sizeof(uint16_t) },
        { "i32", SHMKIT_TYPE_I32, sizeof(int32_t) }, { "u32", SHMKIT_TYPE_U32, sizeof(uint32_t) },
        { "i64", SHMKIT_TYPE_I64, sizeof(int64_t) }, { "u64", SHMKIT_TYPE_U64, sizeof(uint64_t) },
        { "f32", SHMKIT_TYPE_F32, sizeof(float) },   { "f64", SHMKIT_TYPE_F64, sizeof(double) },
    };
    size_t i;

    for (i = 0; i < sizeof types / sizeof types[0]; i++) {
        char text[64];
        shmkit_layout *layout;
        struct shmkit_field f;

        snprintf(text, sizeof text, "x:%s", types[i].name);
        layout = parse_ok(text);
        ck_assert_int_eq(shmkit_layout_field(layout, 0, &f), 0);
        ck_assert_int_eq(f.type, types[i].type);
        ck_assert_uint_eq(f.size, types[i].size);
        ck_assert_uint_eq(shmkit_layout_size(layout), types[i].size);
        shmkit_layout_free(layout);

        snprintf(text, sizeof text, "x:%s[5]", types[i].name);
        layout = parse_ok(text);
        ck_assert_str_eq(shmkit_layout_text(layout), text);
        ck_assert_uint_eq(shmkit_layout_size(layout), 5 * types[i].size);
        shmkit_layout_free(layout);
    }
}
END_TEST

/* Types of 1, 2 and 4 bytes are naturally aligned on every ABI shmkit
 * supports; check_layout_c compares 8-byte types against the compiler. */
START_TEST(test_parse_offsets_and_padding)
{
    shmkit_layout *layout = parse_ok("a:u8 b:u32 c:u8 d:u16 e:char[3] f:i16 g:u8");

    ck_assert_uint_eq(field_of(layout, "a").offset, 0);
    ck_assert_uint_eq(field_of(layout, "b").offset, 4);
    ck_assert_uint_eq(field_of(layout, "c").offset, 8);
    ck_assert_uint_eq(field_of(layout, "d").offset, 10);
    ck_assert_uint_eq(field_of(layout, "e").offset, 12);
    ck_assert_uint_eq(field_of(layout, "f").offset, 16);
    ck_assert_uint_eq(field_of(layout, "g").offset, 18);
    /* 19 bytes of fields, rounded up to the u32's alignment. */
    ck_assert_uint_eq(shmkit_layout_size(layout), 20);
    ck_assert_uint_eq(shmkit_layout_align(layout), 4);
    shmkit_layout_free(layout);

    layout = parse_ok("a:u8 b:char[5] c:i8[2]");
    ck_assert_uint_eq(shmkit_layout_size(layout), 8);
    ck_assert_uint_eq(shmkit_layout_align(layout), 1);
    shmkit_layout_free(layout);

    layout = parse_ok("a:u16 b:u8");
    ck_assert_uint_eq(shmkit_layout_size(layout), 4);
    ck_assert_uint_eq(shmkit_layout_align(layout), 2);
    shmkit_layout_free(layout);

    /* Every 8-byte type is aligned to at least 4 and at most 8. */
    layout = parse_ok("a:u8 b:f64 c:u8 d:i64");
    ck_assert_uint_ge(field_of(layout, "b").offset, 4);
    ck_assert_uint_le(field_of(layout, "b").offset, 8);
    ck_assert_uint_eq(field_of(layout, "b").offset % shmkit_layout_align(layout), 0);
    ck_assert_uint_eq(shmkit_layout_size(layout) % shmkit_layout_align(layout), 0);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_parse_limits_reached)
{
    char name[SHMKIT_LAYOUT_MAX_NAME + 1], text[600];
    shmkit_layout *layout;
    int i;

    /* A name of exactly the maximum length. */
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(text, sizeof text, "%s:u8", name);
    layout = parse_ok(text);
    ck_assert_str_eq(field_of(layout, name).name, name);
    shmkit_layout_free(layout);

    /* Canonical text of exactly SHMKIT_LAYOUT_MAX_TEXT characters: seven
     * fields of 34 characters, separators, one of 10. */
    text[0] = '\0';
    for (i = 0; i < 7; i++) {
        memset(name, 'a' + i, SHMKIT_LAYOUT_MAX_NAME);
        name[SHMKIT_LAYOUT_MAX_NAME] = '\0';
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s:u8 ", name);
    }
    strcat(text, "zzzzzzz:u8");
    ck_assert_uint_eq(strlen(text), SHMKIT_LAYOUT_MAX_TEXT);
    layout = parse_ok(text);
    ck_assert_str_eq(shmkit_layout_text(layout), text);
    shmkit_layout_free(layout);

    /* Input longer than the limit is fine when its canonical form is not. */
    snprintf(text, sizeof text, ",,%*s a:u8 %*s b:u8,,", 250, "", 250, "");
    layout = parse_ok(text);
    ck_assert_str_eq(shmkit_layout_text(layout), "a:u8 b:u8");
    shmkit_layout_free(layout);

    /* The largest record. */
    snprintf(text, sizeof text, "big:u64[%u]", SHMKIT_RECORD_MAX / 8u);
    layout = parse_ok(text);
    ck_assert_uint_eq(shmkit_layout_size(layout), SHMKIT_RECORD_MAX);
    shmkit_layout_free(layout);
    snprintf(text, sizeof text, "t:char[%u]", SHMKIT_RECORD_MAX);
    layout = parse_ok(text);
    ck_assert_uint_eq(shmkit_layout_size(layout), SHMKIT_RECORD_MAX);
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bad layouts                                                         */
/* ------------------------------------------------------------------ */

START_TEST(test_bad_layout_details)
{
    static const struct { const char *text, *want; } cases[] = {
        { "a:u8 x:u128", "field 2 \"x\": unknown type \"u128\"" },
        { "x:U8", "unknown type \"U8\"" },
        { "x:int", "unknown type \"int\"" },
        { "x:u8:u8", "unknown type \"u8:u8\"" },
        { "x:char", "char needs a length" },
        { "1x:u8", "field 1 \"1x\": name must start with a letter" },
        { "a-b:u8", "name may hold only letters, digits and '_'" },
        { "a:u8 :u16", "field 2: missing name" },
        { "a", "field 1 \"a\": expected name:type" },
        { "a :u8", "field 1 \"a\": expected name:type" },
        { "a:", "field 1 \"a\": missing type" },
        { "a:[3]", "missing type" },
        { "a:u8 b:i16 a:u32", "field 3 \"a\": duplicate name" },
        { "a:u8[0]", "array length must be at least 1" },
        { "a:char[0]", "array length must be at least 1" },
        { "a:u8[000]", "array length must be at least 1" },
        { "a:u8[3", "missing ']'" },
        { "a:u8[", "missing ']'" },
        { "a:u8[]", "missing array length" },
        { "a:u8[x]", "expected a decimal element count in [], not \"x\"" },
        { "a:u8[-1]", "not \"-1\"" },
        /* Just the bad token is quoted, without the ']'. */
        { "a:u8[0x10]", "field 1 \"a\": expected a decimal element count in [], "
                        "not \"0x10\"" },
        { "a:u8[3x]", "not \"3x\"" },
        { "a:u8[3x", "missing ']'" },
        { "a:u8[1 2]", "missing ']'" },
        { "a:u8[3]x", "unexpected \"x\" after ']'" },
        { "a:u8[3][4]", "unexpected \"[4]\" after ']'" },
        { "", "empty layout" },
        { " , ,\t\n", "empty layout" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad_layout(cases[i].text, cases[i].want);
    expect_bad_layout("", "empty layout");
}
END_TEST

/* No byte outside printable ASCII in the current detail. */
static void assert_detail_printable(void)
{
    const char *d = shmkit_error_detail();

    for (; *d != '\0'; d++)
        ck_assert_msg(*d >= 0x20 && *d < 0x7f, "byte 0x%02x in detail \"%s\"",
                      (unsigned)(unsigned char)*d, shmkit_error_detail());
}

START_TEST(test_bad_layout_unprintable_quoted)
{
    /* Untrusted bytes never reach the detail verbatim: they are escaped
     * the way C would write them, so the message still says what they
     * were. */
    expect_bad_layout("a:u8\x01\x1b" "x", "unknown type \"u8\\x01\\x1bx\"");
    assert_detail_printable();
    expect_bad_layout("a\x02" "b:u8", "field 1 \"a\\x02b\": name may hold only");
    assert_detail_printable();
    expect_bad_layout("a:u8[1\x7f]", "not \"1\\x7f\"");
    assert_detail_printable();
    expect_bad_layout("a:u8[\xc3\xa9]", "not \"\\xc3\\xa9\"");
    assert_detail_printable();
    expect_bad_layout("a:u8\v", "unknown type \"u8\\x0b\"");
    assert_detail_printable();
}
END_TEST

/* Field names and values in the details of set and assign. */
START_TEST(test_set_unprintable_quoted)
{
    shmkit_layout *layout = parse_ok("n:u8 f:f32 v:i8[2]");
    unsigned char record[16] = { 0 };

    ck_assert_int_eq(shmkit_layout_assign(layout, record, "n\t=1"), SHMKIT_ENOFIELD);
    ck_assert_str_eq(shmkit_error_detail(), "no field \"n\\t\"");
    ck_assert_int_eq(shmkit_layout_set(layout, record, "\x1b[2J", "1"), SHMKIT_ENOFIELD);
    ck_assert_str_eq(shmkit_error_detail(), "no field \"\\x1b[2J\"");
    ck_assert_int_eq(shmkit_layout_set(layout, record, "n", "1\x1b"), SHMKIT_EBADVALUE);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "\"1\\x1b\" is not a valid u8"));
    ck_assert_int_eq(shmkit_layout_set(layout, record, "v", "1,\x01x"), SHMKIT_EBADVALUE);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "\"\\x01x\""));
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "\x01\n"), SHMKIT_EBADVALUE);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "\"\\x01\\n\": expected name=value"));
    assert_detail_printable();
    shmkit_layout_free(layout);
}
END_TEST

/* A long unprintable value is cut with "..." without splitting an
 * escape, and the detail stays printable. */
START_TEST(test_long_unprintable_value_cut)
{
    shmkit_layout *layout = parse_ok("n:u8");
    unsigned char record[1] = { 0 };
    char value[200];
    const char *d, *dots;

    memset(value, '\x01', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    ck_assert_int_eq(shmkit_layout_set(layout, record, "n", value), SHMKIT_EBADVALUE);
    assert_detail_printable();
    d = shmkit_error_detail();
    dots = strstr(d, "...\"");
    ck_assert_msg(dots != NULL, "no cut in \"%s\"", d);
    ck_assert_msg((dots - strstr(d, "\\x01")) % 4 == 0, "escape split in \"%s\"", d);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_bad_layout_name_too_long)
{
    char text[80];

    memset(text, 'n', SHMKIT_LAYOUT_MAX_NAME + 1);
    strcpy(text + SHMKIT_LAYOUT_MAX_NAME + 1, ":u8");
    expect_bad_layout(text, "name longer than 31 characters");
}
END_TEST

START_TEST(test_bad_layout_text_too_long)
{
    char text[600], name[SHMKIT_LAYOUT_MAX_NAME + 1];
    int i;

    /* The exact-limit layout of test_parse_limits_reached, one more. */
    text[0] = '\0';
    for (i = 0; i < 7; i++) {
        memset(name, 'a' + i, SHMKIT_LAYOUT_MAX_NAME);
        name[SHMKIT_LAYOUT_MAX_NAME] = '\0';
        snprintf(text + strlen(text), sizeof text - strlen(text), "%s:u8 ", name);
    }
    strcat(text, "zzzzzzzz:u8");
    ck_assert_uint_eq(strlen(text), SHMKIT_LAYOUT_MAX_TEXT + 1);
    expect_bad_layout(text, "longer than 255 characters");
}
END_TEST

START_TEST(test_bad_layout_too_many_fields)
{
    char text[2000];
    size_t len = 0;
    int i;

    for (i = 0; i <= SHMKIT_LAYOUT_MAX_FIELDS; i++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%c%d:u8 ", 'a' + i % 26, i);
    /* The canonical text limit is reached before the field limit. */
    expect_bad_layout(text, "");
    ck_assert_msg(strstr(shmkit_error_detail(), "fields")
                  || strstr(shmkit_error_detail(), "longer than"),
                  "detail: %s", shmkit_error_detail());
}
END_TEST

START_TEST(test_bad_layout_too_large)
{
    char text[128];

    snprintf(text, sizeof text, "a:u64[%u]", SHMKIT_RECORD_MAX / 8u + 1);
    expect_bad_layout(text, "larger than");
    snprintf(text, sizeof text, "a:char[%u]", SHMKIT_RECORD_MAX + 1u);
    expect_bad_layout(text, "larger than");
    /* Each field fits, the sum does not. */
    snprintf(text, sizeof text, "a:u8 b:u64[%u]", SHMKIT_RECORD_MAX / 8u);
    expect_bad_layout(text, "field 2 \"b\": record larger than");
    snprintf(text, sizeof text, "a:char[%u] b:u8", SHMKIT_RECORD_MAX);
    expect_bad_layout(text, "record larger than");
    /* Lengths that wrap 32- and 64-bit arithmetic. */
    expect_bad_layout("a:u32[4294967296]", "larger than");
    expect_bad_layout("a:u64[2305843009213693952]", "larger than");
    expect_bad_layout("a:u8[99999999999999999999999999999999]", "larger than");
}
END_TEST

START_TEST(test_parse_bad_arguments)
{
    ck_assert_int_eq(shmkit_layout_parse(NULL, "a:u8"), -EINVAL);
    shmkit_layout_free(NULL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Finding fields                                                      */
/* ------------------------------------------------------------------ */

START_TEST(test_find)
{
    shmkit_layout *layout = parse_ok("alpha:u8 beta:u8 alphabet:u8");

    ck_assert_int_eq(shmkit_layout_find(layout, "alpha"), 0);
    ck_assert_int_eq(shmkit_layout_find(layout, "beta"), 1);
    ck_assert_int_eq(shmkit_layout_find(layout, "alphabet"), 2);
    ck_assert_int_eq(shmkit_layout_find(layout, "alph"), SHMKIT_ENOFIELD);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "\"alph\""));
    ck_assert_int_eq(shmkit_layout_find(layout, "Alpha"), SHMKIT_ENOFIELD);
    ck_assert_int_eq(shmkit_layout_find(layout, ""), SHMKIT_ENOFIELD);
    ck_assert_int_eq(shmkit_layout_find(layout, NULL), -EINVAL);
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Setting integers                                                    */
/* ------------------------------------------------------------------ */

struct int_type {
    const char *name;
    int is_signed;
    size_t size;
    int64_t min;
    uint64_t max;
    const char *below_min;  /* NULL: computed as min - 1 */
    const char *above_max;  /* NULL: computed as max + 1 */
};

static const struct int_type int_types[] = {
    { "i8", 1, 1, INT8_MIN, INT8_MAX, NULL, NULL },
    { "u8", 0, 1, 0, UINT8_MAX, NULL, NULL },
    { "i16", 1, 2, INT16_MIN, INT16_MAX, NULL, NULL },
    { "u16", 0, 2, 0, UINT16_MAX, NULL, NULL },
    { "i32", 1, 4, INT32_MIN, INT32_MAX, NULL, NULL },
    { "u32", 0, 4, 0, UINT32_MAX, NULL, NULL },
    { "i64", 1, 8, INT64_MIN, INT64_MAX, "-9223372036854775809", NULL },
    { "u64", 0, 8, 0, UINT64_MAX, NULL, "18446744073709551616" },
};

START_TEST(test_set_integer_bounds)
{
    const struct int_type *t = &int_types[_i];
    unsigned char record[16];
    char text[32], value[48], low[48], high[48];
    shmkit_layout *layout;

    snprintf(text, sizeof text, "pad:u8 v:%s", t->name);
    layout = parse_ok(text);
    memset(record, 0x5a, sizeof record);

    snprintf(value, sizeof value, "%" PRId64, t->min);
    expect_set(layout, record, "v", value, 0);
    if (t->is_signed)
        ck_assert_int_eq(load_signed(record + field_of(layout, "v").offset, t->size), t->min);
    else
        ck_assert_uint_eq(load_unsigned(record + field_of(layout, "v").offset, t->size), 0);
    ck_assert_str_eq(format_of(layout, record, "v", text, sizeof text), value);

    snprintf(value, sizeof value, "%" PRIu64, t->max);
    expect_set(layout, record, "v", value, 0);
    ck_assert_uint_eq(load_unsigned(record + field_of(layout, "v").offset, t->size), t->max);
    ck_assert_str_eq(format_of(layout, record, "v", text, sizeof text), value);
    /* The neighbouring byte is never touched. */
    ck_assert_uint_eq(record[0], 0x5a);

    if (t->below_min)
        snprintf(low, sizeof low, "%s", t->below_min);
    else if (t->is_signed)
        snprintf(low, sizeof low, "%" PRId64, t->min - 1);
    else
        snprintf(low, sizeof low, "-1");
    if (t->above_max)
        snprintf(high, sizeof high, "%s", t->above_max);
    else
        snprintf(high, sizeof high, "%" PRIu64, t->max + 1);
    expect_set(layout, record, "v", low, SHMKIT_ERANGE);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "out of range"));
    expect_set(layout, record, "v", high, SHMKIT_ERANGE);
    expect_set(layout, record, "v", "99999999999999999999999999", SHMKIT_ERANGE);
    expect_set(layout, record, "v", "-99999999999999999999999999", SHMKIT_ERANGE);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_set_integer_syntax)
{
    shmkit_layout *layout = parse_ok("s:i8 u:u8 w:u64 x:i64 y:i32");
    unsigned char record[32];
    size_t s = field_of(layout, "s").offset, u = field_of(layout, "u").offset;
    size_t w = field_of(layout, "w").offset, x = field_of(layout, "x").offset;
    size_t y = field_of(layout, "y").offset;
    static const char *const junk[] = {
        "", " ", "12abc", "abc", "1.5", "1e3", "--1", "+-1", "-", "+", "0x", "0xg",
        "0b101", "1 2", "1,2", "12 abc", "0x-1", "1_000", "١",
    };
    size_t i;

    memset(record, 0, sizeof record);
    expect_set(layout, record, "u", "0xff", 0);
    ck_assert_uint_eq(record[u], 0xff);
    expect_set(layout, record, "u", "0XA", 0);
    ck_assert_uint_eq(record[u], 10);
    expect_set(layout, record, "u", "0x100", SHMKIT_ERANGE);
    expect_set(layout, record, "u", "007", 0);           /* decimal, not octal */
    ck_assert_uint_eq(record[u], 7);
    expect_set(layout, record, "u", "010", 0);
    ck_assert_uint_eq(record[u], 10);
    expect_set(layout, record, "u", "  42\t", 0);        /* blanks around */
    ck_assert_uint_eq(record[u], 42);
    expect_set(layout, record, "u", "+43", 0);
    ck_assert_uint_eq(record[u], 43);
    expect_set(layout, record, "u", "-0", 0);
    ck_assert_uint_eq(record[u], 0);
    expect_set(layout, record, "u", "-1", SHMKIT_ERANGE);
    expect_set(layout, record, "u", "-0x1", SHMKIT_ERANGE);
    expect_set(layout, record, "s", "-0x80", 0);
    ck_assert_int_eq(load_signed(record + s, 1), -128);
    expect_set(layout, record, "s", "0x7f", 0);
    ck_assert_int_eq(load_signed(record + s, 1), 127);
    expect_set(layout, record, "s", "0x80", SHMKIT_ERANGE);
    expect_set(layout, record, "s", "-0x81", SHMKIT_ERANGE);
    expect_set(layout, record, "w", "0xFFFFFFFFFFFFFFFF", 0);
    ck_assert_uint_eq(load_unsigned(record + w, 8), UINT64_MAX);
    expect_set(layout, record, "w", "0x10000000000000000", SHMKIT_ERANGE);
    expect_set(layout, record, "w", "0x0000000000000000000001", 0);
    ck_assert_uint_eq(load_unsigned(record + w, 8), 1);
    expect_set(layout, record, "x", "-0x8000000000000000", 0);
    ck_assert_int_eq(load_signed(record + x, 8), INT64_MIN);
    expect_set(layout, record, "y", "-2147483648", 0);
    ck_assert_int_eq(load_signed(record + y, 4), INT32_MIN);

    for (i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        expect_set(layout, record, "y", junk[i], SHMKIT_EBADVALUE);
        expect_set(layout, record, "w", junk[i], SHMKIT_EBADVALUE);
    }
    /* Syntax errors win over size: garbage after many digits. */
    expect_set(layout, record, "u", "99999999999999999999999x", SHMKIT_EBADVALUE);
    expect_set(layout, record, "y", "12abc", SHMKIT_EBADVALUE);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "\"12abc\""));
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "field \"y\""));
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Setting floats                                                      */
/* ------------------------------------------------------------------ */

START_TEST(test_set_floats)
{
    shmkit_layout *layout = parse_ok("f:f32 d:f64");
    unsigned char record[16];
    size_t f = field_of(layout, "f").offset, d = field_of(layout, "d").offset;
    static const char *const junk[] = { "", "abc", "1.5x", "1.5 2", "1,5", "0x", "e5", "--1",
                                        "1.5.2", "nanx" };
    size_t i;

    memset(record, 0, sizeof record);
    expect_set(layout, record, "d", "21.5", 0);
    ck_assert(load_f64(record + d) == 21.5);
    expect_set(layout, record, "d", "0.1", 0);
    ck_assert(load_f64(record + d) == 0.1);
    expect_set(layout, record, "f", "0.1", 0);
    ck_assert(load_f32(record + f) == 0.1f);
    expect_set(layout, record, "d", "42", 0);
    ck_assert(load_f64(record + d) == 42.0);
    expect_set(layout, record, "d", "  -1.25e3 ", 0);
    ck_assert(load_f64(record + d) == -1250.0);
    expect_set(layout, record, "d", "0x1p-3", 0);
    ck_assert(load_f64(record + d) == 0.125);
    expect_set(layout, record, "d", "-0", 0);
    ck_assert(load_f64(record + d) == 0.0 && signbit(load_f64(record + d)));
    expect_set(layout, record, "d", "nan", 0);
    ck_assert(isnan(load_f64(record + d)));
    expect_set(layout, record, "d", "inf", 0);
    ck_assert(isinf(load_f64(record + d)) && load_f64(record + d) > 0);
    expect_set(layout, record, "f", "-infinity", 0);
    ck_assert(isinf(load_f32(record + f)) && load_f32(record + f) < 0);

    /* Overflow is an error, and so is a nonzero value that would be stored
     * as 0; values that round to a subnormal are stored (see
     * test_set_float_limits). */
    expect_set(layout, record, "d", "1e400", SHMKIT_ERANGE);
    expect_set(layout, record, "d", "-1e400", SHMKIT_ERANGE);
    expect_set(layout, record, "f", "1e39", SHMKIT_ERANGE);
    expect_set(layout, record, "f", "-3.5e38", SHMKIT_ERANGE);
    expect_set(layout, record, "f", "3.4028234e38", 0);
    ck_assert(load_f32(record + f) == FLT_MAX);
    expect_set(layout, record, "f", "1e-45", 0);
    ck_assert(load_f32(record + f) > 0 && load_f32(record + f) < FLT_MIN);
    expect_set(layout, record, "d", "4.9406564584124654e-324", 0);
    ck_assert(load_f64(record + d) > 0 && load_f64(record + d) < DBL_MIN);
    expect_set(layout, record, "d", "1e-400", SHMKIT_ERANGE);

    for (i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        expect_set(layout, record, "d", junk[i], SHMKIT_EBADVALUE);
        expect_set(layout, record, "f", junk[i], SHMKIT_EBADVALUE);
    }
    shmkit_layout_free(layout);
}
END_TEST

/* Store TEXT into the float field "x" and check the bits it gives. */
static void expect_float_bits(const shmkit_layout *layout, const char *text,
                              const void *bits, size_t size)
{
    unsigned char record[8] = { 0 };

    ck_assert_msg(shmkit_layout_set(layout, record, "x", text) == 0, "set %s: %s", text,
                  shmkit_error_detail());
    ck_assert_msg(memcmp(record, bits, size) == 0, "%s stored other bits", text);
}

/* Both ends of both float types, positive and negative. */
START_TEST(test_set_float_limits)
{
    shmkit_layout *f32 = parse_ok("x:f32"), *f64 = parse_ok("x:f64");
    unsigned char record[8] = { 0 };
    float fv;
    double dv;
    static const char *const f32_out[] = {
        "1e-50", "-1e-50", "7e-46", "-7e-46", "0x1p-150", "1e-4000",
        "0.00000000000000000000000000000000000000000000001",
        "1e39", "-1e39", "3.5e38", "0x1p128", "1e999999",
    };
    static const char *const f64_out[] = {
        "1e-400", "-1e-400", "2.4e-324", "-2.4e-324", "0x1p-1075", "1e-99999",
        "1e309", "-1e309", "1.8e308", "0x1p1024",
    };
    static const char *const zeros[] = { "0", "-0", "0.0", "0e-999", "-0.000e+5", "0x0p-9999",
                                         "0x.0p0", "+0" };
    size_t i;

    for (i = 0; i < sizeof f32_out / sizeof f32_out[0]; i++)
        expect_set(f32, record, "x", f32_out[i], SHMKIT_ERANGE);
    for (i = 0; i < sizeof f64_out / sizeof f64_out[0]; i++)
        expect_set(f64, record, "x", f64_out[i], SHMKIT_ERANGE);
    /* The detail says which end was passed. */
    expect_set(f32, record, "x", "1e-50", SHMKIT_ERANGE);
    ck_assert_str_eq(shmkit_error_detail(), "field \"x\": 1e-50 is out of range for f32: "
                     "not 0 but would be stored as 0; the smallest magnitude is 1e-45");
    expect_set(f64, record, "x", "-1e309", SHMKIT_ERANGE);
    ck_assert_str_eq(shmkit_error_detail(), "field \"x\": -1e309 is out of range for f64: "
                     "the largest magnitude is 1.7976931348623157e+308");

    /* Zero in any spelling is zero, not an underflow. */
    for (i = 0; i < sizeof zeros / sizeof zeros[0]; i++) {
        expect_set(f32, record, "x", zeros[i], 0);
        expect_set(f64, record, "x", zeros[i], 0);
    }

    /* Subnormals are stored: rounding to the smallest one, not to 0. */
    fv = FLT_TRUE_MIN;
    expect_float_bits(f32, "1e-45", &fv, 4);
    expect_float_bits(f32, "8e-46", &fv, 4);
    expect_float_bits(f32, "0x1p-149", &fv, 4);
    fv = -FLT_TRUE_MIN;
    expect_float_bits(f32, "-1.4e-45", &fv, 4);
    fv = FLT_MIN;
    expect_float_bits(f32, "1.17549435e-38", &fv, 4);
    fv = FLT_MAX;
    expect_float_bits(f32, "3.4028235e38", &fv, 4);
    fv = -FLT_MAX;
    expect_float_bits(f32, "-3.40282356e38", &fv, 4);   /* rounds down to FLT_MAX */
    dv = DBL_TRUE_MIN;
    expect_float_bits(f64, "5e-324", &dv, 8);
    expect_float_bits(f64, "2.5e-324", &dv, 8);
    expect_float_bits(f64, "0x1.8p-1075", &dv, 8);
    dv = -DBL_TRUE_MIN;
    expect_float_bits(f64, "-4.9406564584124654e-324", &dv, 8);
    dv = DBL_MIN;
    expect_float_bits(f64, "2.2250738585072014e-308", &dv, 8);
    dv = -DBL_MAX;
    expect_float_bits(f64, "-1.7976931348623157e308", &dv, 8);
    shmkit_layout_free(f32);
    shmkit_layout_free(f64);
}
END_TEST

/* The text of the extreme values reads back to the same bits. */
START_TEST(test_round_trip_float_limits)
{
    shmkit_layout *f32 = parse_ok("x:f32"), *f64 = parse_ok("x:f64");
    const float fl[] = { FLT_TRUE_MIN, -FLT_TRUE_MIN, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX,
                         FLT_MIN - FLT_TRUE_MIN, 2 * FLT_TRUE_MIN, FLT_EPSILON };
    const double dl[] = { DBL_TRUE_MIN, -DBL_TRUE_MIN, DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX,
                          DBL_MIN - DBL_TRUE_MIN, 3 * DBL_TRUE_MIN, DBL_EPSILON };
    unsigned char record[8], again[8];
    char text[64];
    size_t i;

    for (i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        memcpy(record, &fl[i], 4);
        ck_assert_int_gt(shmkit_layout_format(f32, record, 0, text, sizeof text), 0);
        memset(again, 0, sizeof again);
        ck_assert_msg(shmkit_layout_set(f32, again, "x", text) == 0, "f32 %s: %s", text,
                      shmkit_error_detail());
        ck_assert_msg(memcmp(record, again, 4) == 0, "f32 %s does not read back", text);
    }
    for (i = 0; i < sizeof dl / sizeof dl[0]; i++) {
        memcpy(record, &dl[i], 8);
        ck_assert_int_gt(shmkit_layout_format(f64, record, 0, text, sizeof text), 0);
        memset(again, 0, sizeof again);
        ck_assert_msg(shmkit_layout_set(f64, again, "x", text) == 0, "f64 %s: %s", text,
                      shmkit_error_detail());
        ck_assert_msg(memcmp(record, again, 8) == 0, "f64 %s does not read back", text);
    }
    shmkit_layout_free(f32);
    shmkit_layout_free(f64);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Setting text and arrays                                             */
/* ------------------------------------------------------------------ */

START_TEST(test_set_text)
{
    shmkit_layout *layout = parse_ok("n:u8 t:char[8] one:char[1]");
    unsigned char record[16];
    size_t t = field_of(layout, "t").offset;
    size_t i;

    memset(record, 0xaa, sizeof record);
    expect_set(layout, record, "t", "ab", 0);
    ck_assert_int_eq(memcmp(record + t, "ab\0\0\0\0\0\0", 8), 0);
    ck_assert_uint_eq(record[t + 8], 0xaa);            /* beyond the field */
    expect_set(layout, record, "t", "1234567", 0);     /* N - 1 bytes */
    ck_assert_int_eq(memcmp(record + t, "1234567", 8), 0);
    expect_set(layout, record, "t", "12345678", SHMKIT_ETOOLONG);
    ck_assert_str_eq(shmkit_error_detail(),
                     "field \"t\": text too long: 8 bytes, char[8] holds at most 7");
    expect_set(layout, record, "t", "a much longer text", SHMKIT_ETOOLONG);
    expect_set(layout, record, "t", "", 0);
    for (i = 0; i < 8; i++)
        ck_assert_uint_eq(record[t + i], 0);
    /* Commas, blanks and '=' are text like any other. */
    expect_set(layout, record, "t", " a,b=c", 0);
    ck_assert_str_eq((const char *)record + t, " a,b=c");
    /* char[1] holds only the empty text. */
    expect_set(layout, record, "one", "", 0);
    expect_set(layout, record, "one", "x", SHMKIT_ETOOLONG);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_set_arrays)
{
    shmkit_layout *layout = parse_ok("v:i16[3] u:u8[2] d:f64[2]");
    unsigned char record[64];
    size_t v = field_of(layout, "v").offset, u = field_of(layout, "u").offset;
    size_t d = field_of(layout, "d").offset;

    memset(record, 0x77, sizeof record);
    expect_set(layout, record, "v", "1,-2,3", 0);
    ck_assert_int_eq(load_signed(record + v, 2), 1);
    ck_assert_int_eq(load_signed(record + v + 2, 2), -2);
    ck_assert_int_eq(load_signed(record + v + 4, 2), 3);
    /* Fewer values leave the rest zero. */
    expect_set(layout, record, "v", "9", 0);
    ck_assert_int_eq(load_signed(record + v, 2), 9);
    ck_assert_int_eq(load_signed(record + v + 2, 2), 0);
    ck_assert_int_eq(load_signed(record + v + 4, 2), 0);
    expect_set(layout, record, "v", " 4 , 0x10,-0x8000 ", 0);
    ck_assert_int_eq(load_signed(record + v + 2, 2), 16);
    ck_assert_int_eq(load_signed(record + v + 4, 2), INT16_MIN);

    /* Too many elements is not "text too long". */
    expect_set(layout, record, "v", "1,2,3,4", SHMKIT_ETOOLONG);
    ck_assert_str_eq(shmkit_error_detail(),
                     "field \"v\": too many elements: 4 given, i16[3] holds 3");
    expect_set(layout, record, "v", "1,x,3,4,,", SHMKIT_ETOOLONG);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "6 given"));
    expect_set(layout, record, "v", "1,,2", SHMKIT_EBADVALUE);
    expect_set(layout, record, "v", "1,2,", SHMKIT_EBADVALUE);
    expect_set(layout, record, "v", ",1", SHMKIT_EBADVALUE);
    expect_set(layout, record, "v", "", SHMKIT_EBADVALUE);
    expect_set(layout, record, "v", "1,x", SHMKIT_EBADVALUE);
    /* An error in a late element leaves the early ones untouched. */
    expect_set(layout, record, "u", "1,300", SHMKIT_ERANGE);
    expect_set(layout, record, "u", "255,0", 0);
    ck_assert_uint_eq(record[u], 255);
    ck_assert_uint_eq(record[u + 1], 0);

    expect_set(layout, record, "d", "1.5,-inf", 0);
    ck_assert(load_f64(record + d) == 1.5);
    ck_assert(isinf(load_f64(record + d + 8)));
    expect_set(layout, record, "d", "1.5,1e999", SHMKIT_ERANGE);
    expect_set(layout, record, "d", "1.5;2", SHMKIT_EBADVALUE);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_set_unknown_field_and_arguments)
{
    shmkit_layout *layout = parse_ok("a:u8");
    unsigned char record[1] = { 3 };

    expect_set(layout, record, "b", "1", SHMKIT_ENOFIELD);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "\"b\""));
    expect_set(layout, record, "", "1", SHMKIT_ENOFIELD);
    ck_assert_int_eq(shmkit_layout_set(layout, NULL, "a", "1"), -EINVAL);
    ck_assert_int_eq(shmkit_layout_set(layout, record, "a", NULL), -EINVAL);
    ck_assert_int_eq(shmkit_layout_set(NULL, record, "a", "1"), -EINVAL);
    ck_assert_uint_eq(record[0], 3);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_assign)
{
    shmkit_layout *layout = parse_ok("id:u32 label:char[8] v:u8[3]");
    unsigned char record[32], before[32];
    char buf[32];
    char longname[100];

    memset(record, 0, sizeof record);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "id=77"), 0);
    ck_assert_str_eq(format_of(layout, record, "id", buf, sizeof buf), "77");
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "label=a=b"), 0);
    ck_assert_str_eq(format_of(layout, record, "label", buf, sizeof buf), "a=b");
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "label="), 0);
    ck_assert_str_eq(format_of(layout, record, "label", buf, sizeof buf), "");
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "v=1,2,3"), 0);
    ck_assert_str_eq(format_of(layout, record, "v", buf, sizeof buf), "1,2,3");

    memcpy(before, record, sizeof record);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "id"), SHMKIT_EBADVALUE);
    ck_assert_ptr_nonnull(strstr(shmkit_error_detail(), "name=value"));
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "=5"), SHMKIT_ENOFIELD);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "ID=5"), SHMKIT_ENOFIELD);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "id =5"), SHMKIT_ENOFIELD);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "id=-5"), SHMKIT_ERANGE);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "id="), SHMKIT_EBADVALUE);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "label=123456789"), SHMKIT_ETOOLONG);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "v=1,2,3,4"), SHMKIT_ETOOLONG);
    memset(longname, 'i', sizeof longname - 3);
    strcpy(longname + sizeof longname - 3, "=1");
    ck_assert_int_eq(shmkit_layout_assign(layout, record, longname), SHMKIT_ENOFIELD);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, NULL), -EINVAL);
    ck_assert_int_eq(memcmp(before, record, sizeof record), 0);
    shmkit_layout_free(layout);
}
END_TEST

/* Records in callers' buffers need not be aligned. */
START_TEST(test_unaligned_record)
{
    shmkit_layout *layout = parse_ok("a:u8 d:f64 q:i64[2] s:u16");
    size_t size = shmkit_layout_size(layout);
    unsigned char *storage = calloc(1, size + 8);
    unsigned char *record = storage + 1;
    char buf[128];

    ck_assert_ptr_nonnull(storage);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "d=2.75"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "q=-3,0x7fffffffffffffff"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "s=65535"), 0);
    ck_assert_int_eq(shmkit_layout_to_text(layout, record, buf, sizeof buf),
                     (int)strlen("a=0\nd=2.75\nq=-3,9223372036854775807\ns=65535\n"));
    ck_assert_str_eq(buf, "a=0\nd=2.75\nq=-3,9223372036854775807\ns=65535\n");
    free(storage);
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Formatting                                                          */
/* ------------------------------------------------------------------ */

/* The text of double V in f64 (or f32 if SINGLE) as the library prints it. */
static const char *print_float(double v, int single, char *buf, size_t len)
{
    shmkit_layout *layout = parse_ok(single ? "x:f32" : "x:f64");
    unsigned char record[8];
    float f = (float)v;
    int n;

    if (single)
        memcpy(record, &f, sizeof f);
    else
        memcpy(record, &v, sizeof v);
    n = shmkit_layout_format(layout, record, 0, buf, len);
    ck_assert_int_ge(n, 0);
    ck_assert_uint_eq((size_t)n, strlen(buf));
    shmkit_layout_free(layout);
    return buf;
}

START_TEST(test_format_shortest_floats)
{
    char buf[64];

    ck_assert_str_eq(print_float(21.5, 0, buf, sizeof buf), "21.5");
    ck_assert_str_eq(print_float(21.5, 1, buf, sizeof buf), "21.5");
    ck_assert_str_eq(print_float(0.1, 0, buf, sizeof buf), "0.1");
    ck_assert_str_eq(print_float(0.1, 1, buf, sizeof buf), "0.1");
    ck_assert_str_eq(print_float(1.0 / 3, 0, buf, sizeof buf), "0.3333333333333333");
    ck_assert_str_eq(print_float(1.0 / 3, 1, buf, sizeof buf), "0.33333334");
    ck_assert_str_eq(print_float(1e300, 0, buf, sizeof buf), "1e+300");
    ck_assert_str_eq(print_float(1e-300, 0, buf, sizeof buf), "1e-300");
    ck_assert_str_eq(print_float(-0.0, 0, buf, sizeof buf), "-0");
    ck_assert_str_eq(print_float(-0.0, 1, buf, sizeof buf), "-0");
    ck_assert_str_eq(print_float(0.0, 0, buf, sizeof buf), "0");
    ck_assert_str_eq(print_float(100, 0, buf, sizeof buf), "100");
    ck_assert_str_eq(print_float(-100, 1, buf, sizeof buf), "-100");
    ck_assert_str_eq(print_float(1e15, 0, buf, sizeof buf), "1000000000000000");
    ck_assert_str_eq(print_float(1e15, 1, buf, sizeof buf), "1000000000000000");
    ck_assert_str_eq(print_float(1e16, 0, buf, sizeof buf), "1e+16");
    ck_assert_str_eq(print_float(0.0001, 0, buf, sizeof buf), "0.0001");
    ck_assert_str_eq(print_float(1.5e-5, 0, buf, sizeof buf), "1.5e-05");
    ck_assert_str_eq(print_float(DBL_MAX, 0, buf, sizeof buf), "1.7976931348623157e+308");
    ck_assert_str_eq(print_float(FLT_MAX, 1, buf, sizeof buf), "3.4028235e+38");
    ck_assert_str_eq(print_float(5e-324, 0, buf, sizeof buf), "5e-324");
    ck_assert_str_eq(print_float(NAN, 0, buf, sizeof buf), "nan");
    ck_assert_str_eq(print_float(-NAN, 1, buf, sizeof buf), "nan");
    ck_assert_str_eq(print_float(INFINITY, 0, buf, sizeof buf), "inf");
    ck_assert_str_eq(print_float(-INFINITY, 1, buf, sizeof buf), "-inf");
}
END_TEST

START_TEST(test_format_integers_and_arrays)
{
    shmkit_layout *layout = parse_ok("a:i8 b:u64 c:i32[4] d:u8[1]");
    unsigned char record[64];
    char buf[128];

    memset(record, 0, sizeof record);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "a=-7"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "b=18446744073709551615"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "c=1,-2147483648,3"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "d=200"), 0);
    ck_assert_str_eq(format_of(layout, record, "a", buf, sizeof buf), "-7");
    ck_assert_str_eq(format_of(layout, record, "b", buf, sizeof buf), "18446744073709551615");
    ck_assert_str_eq(format_of(layout, record, "c", buf, sizeof buf), "1,-2147483648,3,0");
    ck_assert_str_eq(format_of(layout, record, "d", buf, sizeof buf), "200");
    ck_assert_int_eq(shmkit_layout_to_json(layout, record, buf, sizeof buf),
                     (int)strlen(buf));
    ck_assert_str_eq(buf, "{\"a\":-7,\"b\":18446744073709551615,"
                          "\"c\":[1,-2147483648,3,0],\"d\":[200]}");
    ck_assert_int_eq(shmkit_layout_format(layout, record, 4, buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(shmkit_layout_format(layout, NULL, 0, buf, sizeof buf), -EINVAL);
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_format_text_escapes)
{
    shmkit_layout *layout = parse_ok("t:char[16] u:char[4] z:u8");
    unsigned char record[32];
    size_t t = field_of(layout, "t").offset, u = field_of(layout, "u").offset;
    char buf[128];

    memset(record, 0, sizeof record);
    memcpy(record + t, "a\\b\n\t\x01\x7f\xff\xc3\xa9\"z", 13);
    ck_assert_str_eq(format_of(layout, record, "t", buf, sizeof buf),
                     "a\\\\b\\n\\t\\x01\\x7f\\xff\\xc3\\xa9\"z");
    /* Printed up to the first NUL only. */
    memcpy(record + t, "ab\0cd", 5);
    ck_assert_str_eq(format_of(layout, record, "t", buf, sizeof buf), "ab");
    /* A field without NUL stops at its N bytes, not at the next field. */
    memcpy(record + u, "wxyz", 4);
    record[field_of(layout, "z").offset] = 'Q';
    ck_assert_str_eq(format_of(layout, record, "u", buf, sizeof buf), "wxyz");
    ck_assert_int_eq(shmkit_layout_to_json(layout, record, buf, sizeof buf),
                     (int)strlen(buf));
    ck_assert_str_eq(buf, "{\"t\":\"ab\",\"u\":\"wxyz\",\"z\":81}");
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_json_escapes)
{
    shmkit_layout *layout = parse_ok("t:char[32] n:f64 i:f32[3]");
    unsigned char record[64];
    size_t t = field_of(layout, "t").offset;
    double nan = NAN;
    char buf[256];

    memset(record, 0, sizeof record);
    memcpy(record + t, "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f\x80\xff", 17);
    memcpy(record + field_of(layout, "n").offset, &nan, sizeof nan);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "i=inf,-inf,2.5"), 0);
    ck_assert_int_eq(shmkit_layout_to_json(layout, record, buf, sizeof buf),
                     (int)strlen(buf));
    ck_assert_str_eq(buf, "{\"t\":\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f"
                          "\\u0080\\u00ff\",\"n\":null,\"i\":[null,null,2.5]}");
    shmkit_layout_free(layout);
}
END_TEST

/* The JSON of the N bytes at TEXT in a char[24] field, with the bytes
 * after them NUL. */
static int json_valid(const char *s);

static const char *json_text(const char *text, size_t n, char *buf, size_t len)
{
    shmkit_layout *layout = parse_ok("t:char[24]");
    unsigned char record[24];
    int rc;

    ck_assert_uint_le(n, sizeof record);
    memset(record, 0, sizeof record);
    memcpy(record, text, n);
    rc = shmkit_layout_to_json(layout, record, buf, len);
    shmkit_layout_free(layout);
    ck_assert_msg(rc > 0 && (size_t)rc < len, "to_json: %d", rc);
    ck_assert_msg(json_valid(buf), "invalid JSON: %s", buf);
    return buf;
}

#define JSON_TEXT(bytes, buf) json_text(bytes, sizeof bytes - 1, buf, sizeof buf)

START_TEST(test_json_utf8_as_is)
{
    char buf[256];

    /* Well-formed UTF-8 of every length is written as it is. */
    ck_assert_str_eq(JSON_TEXT("Z\xc3\xbcrich", buf), "{\"t\":\"Z\xc3\xbcrich\"}");
    ck_assert_str_eq(JSON_TEXT("\xe2\x82\xac 5", buf), "{\"t\":\"\xe2\x82\xac 5\"}");
    ck_assert_str_eq(JSON_TEXT("\xf0\x9f\x98\x80", buf), "{\"t\":\"\xf0\x9f\x98\x80\"}");
    /* The edges of each length and of the surrogate gap. */
    ck_assert_str_eq(JSON_TEXT("\xc2\xa0\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80", buf),
                     "{\"t\":\"\xc2\xa0\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\"}");
    ck_assert_str_eq(JSON_TEXT("\xef\xbf\xbd\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", buf),
                     "{\"t\":\"\xef\xbf\xbd\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}");
    /* Still escaped: quote, backslash, C0 controls, DEL, the C1 controls
     * (even well-formed) and U+2028, U+2029; U+2027 is not. */
    ck_assert_str_eq(JSON_TEXT("\"\\\x01\x7f\xc2\x80\xc2\x85\xc2\x9f", buf),
                     "{\"t\":\"\\\"\\\\\\u0001\\u007f\\u0080\\u0085\\u009f\"}");
    ck_assert_str_eq(JSON_TEXT("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\xa7", buf),
                     "{\"t\":\"\\u2028\\u2029\xe2\x80\xa7\"}");
}
END_TEST

/* Every byte that is not part of well-formed UTF-8 is one \u00XX escape,
 * and judging it does not swallow the bytes after it. */
START_TEST(test_json_utf8_invalid_bytes)
{
    static const struct { const char *bytes, *json; } cases[] = {
        /* continuation bytes without a lead */
        { "\x80", "\\u0080" }, { "a\xbf" "b", "a\\u00bfb" },
        /* C0, C1 leads: always overlong */
        { "\xc0\xaf", "\\u00c0\\u00af" }, { "\xc1\xbf", "\\u00c1\\u00bf" },
        /* overlong 3- and 4-byte forms */
        { "\xe0\x80\xaf", "\\u00e0\\u0080\\u00af" },
        { "\xe0\x9f\xbf", "\\u00e0\\u009f\\u00bf" },
        { "\xf0\x8f\xbf\xbf", "\\u00f0\\u008f\\u00bf\\u00bf" },
        /* surrogates */
        { "\xed\xa0\x80", "\\u00ed\\u00a0\\u0080" },
        { "\xed\xbf\xbf", "\\u00ed\\u00bf\\u00bf" },
        /* above U+10FFFF, and the leads F5..FF */
        { "\xf4\x90\x80\x80", "\\u00f4\\u0090\\u0080\\u0080" },
        { "\xf5\x80\x80\x80", "\\u00f5\\u0080\\u0080\\u0080" },
        { "\xf8\xfb\xfc\xfe\xff", "\\u00f8\\u00fb\\u00fc\\u00fe\\u00ff" },
        /* sequences cut short by another byte: the rest is judged anew */
        { "\xe2\x82x", "\\u00e2\\u0082x" },
        { "\xc3\xc3\xbc", "\\u00c3\xc3\xbc" },
        { "\xf0\x9f\x98\xc3\xa9", "\\u00f0\\u009f\\u0098\xc3\xa9" },
        /* Latin-1 text reads as Latin-1 */
        { "Z\xfcrich", "Z\\u00fcrich" },
    };
    char buf[256], want[256];
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(want, sizeof want, "{\"t\":\"%s\"}", cases[i].json);
        ck_assert_str_eq(json_text(cases[i].bytes, strlen(cases[i].bytes), buf, sizeof buf),
                         want);
    }
}
END_TEST

/* The text ends at the first NUL or at the field's end, also in the
 * middle of a sequence, whose bytes after it are never read. */
START_TEST(test_json_utf8_field_end)
{
    shmkit_layout *layout = parse_ok("a:char[3] b:char[2] c:u8 d:char[4]");
    unsigned char record[16];
    char buf[256];

    memset(record, 0, sizeof record);
    /* "a" is full: 'x' then the first 2 bytes of a 3-byte sequence whose
     * last byte would be the first of "b". */
    memcpy(record + field_of(layout, "a").offset, "x\xe2\x82", 3);
    memcpy(record + field_of(layout, "b").offset, "\xac\xf0", 2);
    record[field_of(layout, "c").offset] = 0x9f;
    /* A sequence cut by NUL padding, and bytes after the NUL ignored. */
    memcpy(record + field_of(layout, "d").offset, "\xc3\0\xbc", 3);
    ck_assert_int_gt(shmkit_layout_to_json(layout, record, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "{\"a\":\"x\\u00e2\\u0082\",\"b\":\"\\u00ac\\u00f0\","
                          "\"c\":159,\"d\":\"\\u00c3\"}");
    ck_assert(json_valid(buf));
    /* A complete sequence that fills the field exactly, with no NUL. */
    memcpy(record + field_of(layout, "a").offset, "\xe2\x82\xac", 3);
    memcpy(record + field_of(layout, "d").offset, "\xf0\x9f\x98\x80", 4);
    ck_assert_int_gt(shmkit_layout_to_json(layout, record, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "{\"a\":\"\xe2\x82\xac\",\"b\":\"\\u00ac\\u00f0\","
                          "\"c\":159,\"d\":\"\xf0\x9f\x98\x80\"}");
    /* A valid sequence followed by NUL padding. */
    memset(record + field_of(layout, "d").offset, 0, 4);
    memcpy(record + field_of(layout, "d").offset, "\xc3\xbc", 2);
    ck_assert_int_gt(shmkit_layout_to_json(layout, record, buf, sizeof buf), 0);
    ck_assert_ptr_nonnull(strstr(buf, "\"d\":\"\xc3\xbc\"}"));
    shmkit_layout_free(layout);
}
END_TEST

/* Append code point CP to OUT as UTF-8; the length. */
static size_t utf8_encode(uint32_t cp, unsigned char *out)
{
    if (cp < 0x80)
        return out[0] = (unsigned char)cp, 1;
    if (cp < 0x800)
        return out[0] = (unsigned char)(0xc0 | cp >> 6),
               out[1] = (unsigned char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Random text of code points that need no escape comes out byte for byte. */
START_TEST(test_json_utf8_random_text_as_is)
{
    shmkit_layout *layout = parse_ok("t:char[64]");
    unsigned char record[64];
    char buf[256], want[256];
    int iter;

    for (iter = 0; iter < 20000; iter++) {
        size_t len = 0;

        memset(record, 0, sizeof record);
        while (len + 4 < sizeof record - 1 && rng_next() % 16 != 0) {
            uint32_t cp;

            do {
                /* Mostly small code points, some anywhere up to U+10FFFF. */
                uint64_t r = rng_next();
                cp = (uint32_t)(r % 4 == 0 ? (r >> 8) % 0x110000 : (r >> 8) % 0x3000);
            } while (cp < 0x20 || cp == '"' || cp == '\\' || (cp >= 0x7f && cp <= 0x9f)
                     || cp == 0x2028 || cp == 0x2029 || (cp >= 0xd800 && cp <= 0xdfff));
            len += utf8_encode(cp, record + len);
        }
        snprintf(want, sizeof want, "{\"t\":\"%s\"}", (const char *)record);
        ck_assert_int_gt(shmkit_layout_to_json(layout, record, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, want);
        ck_assert(json_valid(buf));
    }
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_to_text_lines)
{
    shmkit_layout *layout = parse_ok("id:u32 temp:f64 pos:i16[3] label:char[16]");
    unsigned char record[64];
    char buf[256];

    memset(record, 0, sizeof record);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "id=7"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "temp=21.5"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "pos=1,-2"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "label=north\tgate"), 0);
    ck_assert_int_eq(shmkit_layout_to_text(layout, record, buf, sizeof buf),
                     (int)strlen(buf));
    ck_assert_str_eq(buf, "id=7\ntemp=21.5\npos=1,-2,0\nlabel=north\\tgate\n");
    ck_assert_int_eq(shmkit_layout_to_json(layout, record, buf, sizeof buf),
                     (int)strlen(buf));
    ck_assert_str_eq(buf, "{\"id\":7,\"temp\":21.5,\"pos\":[1,-2,0],\"label\":\"north\\tgate\"}");
    ck_assert_int_eq(shmkit_layout_to_text(layout, NULL, buf, sizeof buf), -EINVAL);
    ck_assert_int_eq(shmkit_layout_to_json(NULL, record, buf, sizeof buf), -EINVAL);
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */
/* snprintf semantics                                                  */
/* ------------------------------------------------------------------ */

enum { MODE_FORMAT, MODE_TEXT, MODE_JSON };

static int produce(int mode, const shmkit_layout *layout, const void *record, char *buf,
                   size_t len)
{
    if (mode == MODE_FORMAT)
        return shmkit_layout_format(layout, record, 2, buf, len);
    if (mode == MODE_TEXT)
        return shmkit_layout_to_text(layout, record, buf, len);
    return shmkit_layout_to_json(layout, record, buf, len);
}

START_TEST(test_snprintf_semantics)
{
    shmkit_layout *layout = parse_ok("a:u16 b:f64 c:i32[5] t:char[12]");
    unsigned char record[64];
    char full[256], buf[256];
    int mode = _i, n;
    size_t len;

    memset(record, 0, sizeof record);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "a=513"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "b=-0.001"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "c=10,-20,30,-40,50"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, record, "t=\x01x\\\"y"), 0);

    n = produce(mode, layout, record, NULL, 0);
    ck_assert_int_gt(n, 0);
    ck_assert_int_eq(produce(mode, layout, record, full, sizeof full), n);
    ck_assert_uint_eq(strlen(full), (size_t)n);
    for (len = 0; len <= (size_t)n + 2; len++) {
        memset(buf, '#', sizeof buf);
        ck_assert_int_eq(produce(mode, layout, record, buf, len), n);
        if (len > 0) {
            size_t kept = len - 1 < (size_t)n ? len - 1 : (size_t)n;
            ck_assert_int_eq(memcmp(buf, full, kept), 0);
            ck_assert_int_eq(buf[kept], '\0');
        }
        ck_assert_int_eq(buf[len], '#');   /* nothing written beyond LEN */
    }
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Round trips with random values                                      */
/* ------------------------------------------------------------------ */

/* Significant digits in a decimal printed by %g (padding zeros of a whole
 * number do not count). */
static int significant_digits(const char *s)
{
    char digits[64];
    size_t n = 0, start = 0;

    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && n < sizeof digits - 1)
            digits[n++] = *s;
    while (start < n && digits[start] == '0')
        start++;
    while (n > start && digits[n - 1] == '0')
        n--;
    return n > start ? (int)(n - start) : 1;
}

/* Format V (given as its bits) and check that it reads back to the same
 * bits and that one digit fewer would not. */
static void check_float_round_trip(const shmkit_layout *layout, const void *bits, int single)
{
    unsigned char record[8], again[8];
    char text[64], shorter[400];
    size_t size = single ? 4 : 8;
    int digits;

    memcpy(record, bits, size);
    memset(again, 0, sizeof again);
    ck_assert_int_ge(shmkit_layout_format(layout, record, 0, text, sizeof text), 1);
    ck_assert_msg(shmkit_layout_set(layout, again, "x", text) == 0, "set %s: %s", text,
                  shmkit_error_detail());
    ck_assert_msg(memcmp(record, again, size) == 0, "%s does not read back exactly", text);
    digits = significant_digits(text);
    if (digits > 1) {
        double v = single ? (double)load_f32(record) : load_f64(record);

        snprintf(shorter, sizeof shorter, "%.*g", digits - 1, v);
        if (single)
            ck_assert_msg(strtof(shorter, NULL) != (float)v, "%s: %s is shorter", text, shorter);
        else
            ck_assert_msg(strtod(shorter, NULL) != v, "%s: %s is shorter", text, shorter);
    }
}

START_TEST(test_round_trip_f64)
{
    shmkit_layout *layout = parse_ok("x:f64");
    int i;

    for (i = 0; i < 20000; i++) {
        uint64_t bits = rng_next();
        double v;

        if (i % 4 == 1)
            bits &= 0x800fffffffffffffull;       /* subnormal (or zero) */
        else if (i % 4 == 2)
            bits = (bits & 0x800fffffffffffffull) | ((uint64_t)(1023 + (int)(rng_next() % 80)
                                                                 - 40) << 52);
        memcpy(&v, &bits, sizeof v);
        if (isnan(v))
            continue;
        check_float_round_trip(layout, &bits, 0);
    }
    shmkit_layout_free(layout);
}
END_TEST

START_TEST(test_round_trip_f32)
{
    shmkit_layout *layout = parse_ok("x:f32");
    int i;

    for (i = 0; i < 20000; i++) {
        uint32_t bits = (uint32_t)rng_next();
        float v;

        if (i % 4 == 1)
            bits &= 0x807fffffu;                 /* subnormal (or zero) */
        else if (i % 4 == 2)
            bits = (bits & 0x807fffffu) | ((uint32_t)(127 + (int)(rng_next() % 40) - 20) << 23);
        memcpy(&v, &bits, sizeof v);
        if (isnan(v))
            continue;
        check_float_round_trip(layout, &bits, 1);
    }
    shmkit_layout_free(layout);
}
END_TEST

/* A layout with every type; random records of it. */
static const char *const all_types_layout =
    "a:i8 b:u8 c:i16 d:u16 e:i32 f:u32 g:i64 h:u64 i:f32 j:f64 "
    "k:i8[3] l:u16[2] m:i64[2] n:f32[2] o:f64[3] t:char[9] z:u8";

/* Random bytes; with PRINTABLE, text fields hold printable ASCII without
 * '\\' (which the text form escapes) and floats are not NaN, so that the
 * text form reads back exactly. */
static void random_record(const shmkit_layout *layout, unsigned char *record, int printable)
{
    size_t i, j, size = shmkit_layout_size(layout);

    for (i = 0; i < size; i++)
        record[i] = (unsigned char)rng_next();
    if (!printable)
        return;
    for (i = 0; i < shmkit_layout_count(layout); i++) {
        struct shmkit_field f;

        ck_assert_int_eq(shmkit_layout_field(layout, i, &f), 0);
        if (f.type == SHMKIT_TYPE_CHAR) {
            size_t len = (size_t)(rng_next() % f.count);

            for (j = 0; j < f.count; j++) {
                char c = (char)(' ' + rng_next() % 95);
                record[f.offset + j] = j < len ? (unsigned char)(c == '\\' ? '/' : c) : 0;
            }
        }
        for (j = 0; j < f.count && f.type == SHMKIT_TYPE_F64; j++)
            if (isnan(load_f64(record + f.offset + 8 * j)))
                memset(record + f.offset + 8 * j, 0, 8);
        for (j = 0; j < f.count && f.type == SHMKIT_TYPE_F32; j++)
            if (isnan(load_f32(record + f.offset + 4 * j)))
                memset(record + f.offset + 4 * j, 0, 4);
    }
}

/* Every field's bytes equal in A and B (padding may differ). */
static void assert_fields_equal(const shmkit_layout *layout, const unsigned char *a,
                                const unsigned char *b, const char *context)
{
    size_t i;

    for (i = 0; i < shmkit_layout_count(layout); i++) {
        struct shmkit_field f;

        ck_assert_int_eq(shmkit_layout_field(layout, i, &f), 0);
        ck_assert_msg(memcmp(a + f.offset, b + f.offset, f.size) == 0,
                      "field %s differs after a round trip of: %s", f.name, context);
    }
}

/* format -> set gives identical bytes, field by field, every type. */
START_TEST(test_round_trip_every_type)
{
    shmkit_layout *layout = parse_ok(all_types_layout);
    size_t size = shmkit_layout_size(layout);
    unsigned char *record = malloc(size), *again = malloc(size);
    char text[512];
    int iter;

    ck_assert_ptr_nonnull(record);
    ck_assert_ptr_nonnull(again);
    for (iter = 0; iter < 3000; iter++) {
        size_t i;

        random_record(layout, record, 1);
        memset(again, 0, size);
        for (i = 0; i < shmkit_layout_count(layout); i++) {
            struct shmkit_field f;
            int n = shmkit_layout_format(layout, record, i, text, sizeof text);

            ck_assert_int_eq(shmkit_layout_field(layout, i, &f), 0);
            ck_assert_msg(n > 0 || f.type == SHMKIT_TYPE_CHAR, "field %s: %d", f.name, n);
            ck_assert_uint_lt((size_t)n, sizeof text);
            ck_assert_msg(shmkit_layout_set(layout, again, f.name, text) == 0,
                          "set %s=%s: %s", f.name, text, shmkit_error_detail());
        }
        assert_fields_equal(layout, record, again, "format");
    }
    free(record);
    free(again);
    shmkit_layout_free(layout);
}
END_TEST

/* to_text -> assign each line gives identical bytes. */
START_TEST(test_round_trip_to_text)
{
    shmkit_layout *layout = parse_ok(all_types_layout);
    size_t size = shmkit_layout_size(layout);
    unsigned char *record = malloc(size), *again = malloc(size);
    char text[2048];
    int iter;

    ck_assert_ptr_nonnull(record);
    ck_assert_ptr_nonnull(again);
    for (iter = 0; iter < 1000; iter++) {
        char *line, *next;
        size_t lines = 0;

        random_record(layout, record, 1);
        memset(again, 0, size);
        ck_assert_int_lt(shmkit_layout_to_text(layout, record, text, sizeof text),
                         (int)sizeof text);
        for (line = text; *line; line = next) {
            next = strchr(line, '\n');
            ck_assert_ptr_nonnull(next);
            *next++ = '\0';
            ck_assert_msg(shmkit_layout_assign(layout, again, line) == 0, "%s: %s", line,
                          shmkit_error_detail());
            lines++;
        }
        ck_assert_uint_eq(lines, shmkit_layout_count(layout));
        assert_fields_equal(layout, record, again, "to_text");
    }
    free(record);
    free(again);
    shmkit_layout_free(layout);
}
END_TEST

/* Random integers of every width survive format -> set. */
START_TEST(test_round_trip_integers)
{
    const struct int_type *t = &int_types[_i];
    char text[32], out[32];
    unsigned char record[8], again[8];
    shmkit_layout *layout;
    int i;

    snprintf(text, sizeof text, "x:%s", t->name);
    layout = parse_ok(text);
    for (i = 0; i < 5000; i++) {
        uint64_t bits = rng_next() >> (rng_next() % 64);

        memcpy(record, &bits, sizeof record);
        ck_assert_int_gt(shmkit_layout_format(layout, record, 0, out, sizeof out), 0);
        memset(again, 0, sizeof again);
        ck_assert_int_eq(shmkit_layout_set(layout, again, "x", out), 0);
        ck_assert_int_eq(memcmp(record, again, t->size), 0);
        if (t->is_signed)
            ck_assert_int_eq(strtoll(out, NULL, 10), load_signed(record, t->size));
        else
            ck_assert_uint_eq(strtoull(out, NULL, 10), load_unsigned(record, t->size));
    }
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */
/* JSON validity                                                       */
/* ------------------------------------------------------------------ */

/* One UTF-8 sequence at S (NUL-terminated) decoded into *CP: its length,
 * or 0 if it is not well-formed.  Written apart from the library's
 * checker, by decoding and then judging the code point. */
static int utf8_decode(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    uint32_t v;
    int len, i;

    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, v = s[0] & 0x1fu;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, v = s[0] & 0x0fu;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, v = s[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3fu);
    }
    if (v < min[len] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return len;
}

/* A strict RFC 8259 checker for what to_json produces (objects, arrays,
 * strings, numbers, null): strings must be well-formed UTF-8 without raw
 * control characters (C0, DEL, C1) or U+2028, U+2029. */
static int json_value(const char **p);

static int json_string(const char **p)
{
    const char *s = *p;
    int i;

    if (*s++ != '"')
        return 0;
    while (*s != '"') {
        unsigned char c = (unsigned char)*s;
        uint32_t cp;

        if (c < 0x20 || c == 0x7f)
            return 0;
        if (c >= 0x80) {
            int len = utf8_decode((const unsigned char *)s, &cp);

            if (len == 0 || cp <= 0x9f || cp == 0x2028 || cp == 0x2029)
                return 0;
            s += len;
            continue;
        }
        if (c == '\\') {
            s++;
            if (*s == 'u') {
                for (i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", s[i]) || s[i] == '\0')
                        return 0;
                s += 4;
            } else if (*s == '\0' || !strchr("\"\\/bfnrt", *s)) {
                return 0;
            }
        }
        s++;
    }
    *p = s + 1;
    return 1;
}

static int json_digits(const char **p)
{
    const char *s = *p;

    while (**p >= '0' && **p <= '9')
        (*p)++;
    return *p > s;
}

static int json_number(const char **p)
{
    if (**p == '-')
        (*p)++;
    if (**p == '0')
        (*p)++;
    else if (**p < '1' || **p > '9' || !json_digits(p))
        return 0;
    if (**p == '.') {
        (*p)++;
        if (!json_digits(p))
            return 0;
    }
    if (**p == 'e' || **p == 'E') {
        (*p)++;
        if (**p == '+' || **p == '-')
            (*p)++;
        if (!json_digits(p))
            return 0;
    }
    return 1;
}

static int json_list(const char **p, char close, int members)
{
    (*p)++;
    if (**p == close) {
        (*p)++;
        return 1;
    }
    for (;;) {
        if (members && (!json_string(p) || *(*p)++ != ':'))
            return 0;
        if (!json_value(p))
            return 0;
        if (**p == close) {
            (*p)++;
            return 1;
        }
        if (*(*p)++ != ',')
            return 0;
    }
}

static int json_value(const char **p)
{
    if (**p == '{')
        return json_list(p, '}', 1);
    if (**p == '[')
        return json_list(p, ']', 0);
    if (**p == '"')
        return json_string(p);
    if (strncmp(*p, "null", 4) == 0) {
        *p += 4;
        return 1;
    }
    return json_number(p);
}

static int json_valid(const char *s)
{
    return s[0] == '{' && json_value(&s) && *s == '\0';
}

START_TEST(test_json_checker_rejects)
{
    /* The checker itself must be able to fail. */
    ck_assert(json_valid("{\"a\":1,\"b\":[1,2.5e+3,null],\"c\":\"x\\u00e9\"}"));
    ck_assert(!json_valid("{\"a\":nan}"));
    ck_assert(!json_valid("{\"a\":inf}"));
    ck_assert(!json_valid("{\"a\":01}"));
    ck_assert(!json_valid("{\"a\":\"\x01\"}"));
    ck_assert(!json_valid("{\"a\":\"\\x01\"}"));
    ck_assert(json_valid("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}"));
    ck_assert(!json_valid("{\"a\":\"\xc3\"}"));
    ck_assert(!json_valid("{\"a\":\"\xc0\xaf\"}"));
    ck_assert(!json_valid("{\"a\":\"\xed\xa0\x80\"}"));
    ck_assert(!json_valid("{\"a\":\"\xf4\x90\x80\x80\"}"));
    ck_assert(!json_valid("{\"a\":\"\xc2\x85\"}"));
    ck_assert(!json_valid("{\"a\":\"\xe2\x80\xa8\"}"));
    ck_assert(!json_valid("{\"a\":\"\x7f\"}"));
    ck_assert(!json_valid("{\"a\":[1,]}"));
    ck_assert(!json_valid("{\"a\":1}\n"));
}
END_TEST

START_TEST(test_json_random_records_valid)
{
    shmkit_layout *layout = parse_ok(all_types_layout);
    size_t size = shmkit_layout_size(layout);
    unsigned char *record = malloc(size);
    char json[2048];
    int iter;

    ck_assert_ptr_nonnull(record);
    for (iter = 0; iter < 5000; iter++) {
        int n;

        random_record(layout, record, iter % 2);
        n = shmkit_layout_to_json(layout, record, json, sizeof json);
        ck_assert_int_gt(n, 0);
        ck_assert_int_lt(n, (int)sizeof json);
        ck_assert_msg(json_valid(json), "invalid JSON: %s", json);
    }
    free(record);
    shmkit_layout_free(layout);
}
END_TEST

/* Random bytes print as one line per field in text mode. */
START_TEST(test_text_random_records_printable)
{
    shmkit_layout *layout = parse_ok(all_types_layout);
    size_t size = shmkit_layout_size(layout);
    unsigned char *record = malloc(size);
    char text[2048];
    int iter;

    ck_assert_ptr_nonnull(record);
    for (iter = 0; iter < 3000; iter++) {
        size_t i, lines = 0;
        int n;

        random_record(layout, record, 0);
        n = shmkit_layout_to_text(layout, record, text, sizeof text);
        ck_assert_int_gt(n, 0);
        ck_assert_int_lt(n, (int)sizeof text);
        for (i = 0; i < (size_t)n; i++) {
            unsigned char c = (unsigned char)text[i];

            ck_assert_msg(c == '\n' || (c >= 0x20 && c < 0x7f), "byte 0x%02x in text", c);
            lines += c == '\n';
        }
        ck_assert_uint_eq(lines, shmkit_layout_count(layout));
    }
    free(record);
    shmkit_layout_free(layout);
}
END_TEST

/* ------------------------------------------------------------------ */

static Suite *layout_suite(void)
{
    Suite *suite = suite_create("layout");
    TCase *tc = tcase_create("layout");
    int ntypes = (int)(sizeof int_types / sizeof int_types[0]);

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_parse_canonical_text);
    tcase_add_test(tc, test_parse_fields_described);
    tcase_add_test(tc, test_parse_every_type);
    tcase_add_test(tc, test_parse_offsets_and_padding);
    tcase_add_test(tc, test_parse_limits_reached);
    tcase_add_test(tc, test_bad_layout_details);
    tcase_add_test(tc, test_bad_layout_unprintable_quoted);
    tcase_add_test(tc, test_set_unprintable_quoted);
    tcase_add_test(tc, test_long_unprintable_value_cut);
    tcase_add_test(tc, test_bad_layout_name_too_long);
    tcase_add_test(tc, test_bad_layout_text_too_long);
    tcase_add_test(tc, test_bad_layout_too_many_fields);
    tcase_add_test(tc, test_bad_layout_too_large);
    tcase_add_test(tc, test_parse_bad_arguments);
    tcase_add_test(tc, test_find);
    tcase_add_loop_test(tc, test_set_integer_bounds, 0, ntypes);
    tcase_add_test(tc, test_set_integer_syntax);
    tcase_add_test(tc, test_set_floats);
    tcase_add_test(tc, test_set_float_limits);
    tcase_add_test(tc, test_round_trip_float_limits);
    tcase_add_test(tc, test_set_text);
    tcase_add_test(tc, test_set_arrays);
    tcase_add_test(tc, test_set_unknown_field_and_arguments);
    tcase_add_test(tc, test_assign);
    tcase_add_test(tc, test_unaligned_record);
    tcase_add_test(tc, test_format_shortest_floats);
    tcase_add_test(tc, test_format_integers_and_arrays);
    tcase_add_test(tc, test_format_text_escapes);
    tcase_add_test(tc, test_json_escapes);
    tcase_add_test(tc, test_json_utf8_as_is);
    tcase_add_test(tc, test_json_utf8_invalid_bytes);
    tcase_add_test(tc, test_json_utf8_field_end);
    tcase_add_test(tc, test_json_utf8_random_text_as_is);
    tcase_add_test(tc, test_to_text_lines);
    tcase_add_loop_test(tc, test_snprintf_semantics, MODE_FORMAT, MODE_JSON + 1);
    tcase_add_test(tc, test_round_trip_f64);
    tcase_add_test(tc, test_round_trip_f32);
    tcase_add_test(tc, test_round_trip_every_type);
    tcase_add_test(tc, test_round_trip_to_text);
    tcase_add_loop_test(tc, test_round_trip_integers, 0, ntypes);
    tcase_add_test(tc, test_json_checker_rejects);
    tcase_add_test(tc, test_json_random_records_valid);
    tcase_add_test(tc, test_text_random_records_printable);
    suite_add_tcase(suite, tc);
    return suite;
}

int main(void)
{
    rng_state = tu_rng_seed(0x1a70);
    return tu_run(layout_suite());
}
