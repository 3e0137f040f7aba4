/*
 * check_layout_c.c - layouts against C: for several structs, the offsets,
 * sizes, types and the record size computed by the layout language equal
 * what this C compiler does (offsetof, sizeof, _Alignof), field by field;
 * values written through the C struct read back through the layout and
 * the other way round.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <check.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmkit.h"
#include "testutil.h"
#include "../examples/weather.h"

/* What the compiler says about one member. */
struct member {
    const char *name;
    size_t offset;
    size_t size;
    int type;     /* enum shmkit_type of the (element) type */
    size_t count; /* elements: 1 for scalars */
};

/* enum shmkit_type of an expression of a fixed-width type, or 0. */
#define TYPE_OF(x) _Generic((x), \
    int8_t: SHMKIT_TYPE_I8, uint8_t: SHMKIT_TYPE_U8, \
    int16_t: SHMKIT_TYPE_I16, uint16_t: SHMKIT_TYPE_U16, \
    int32_t: SHMKIT_TYPE_I32, uint32_t: SHMKIT_TYPE_U32, \
    int64_t: SHMKIT_TYPE_I64, uint64_t: SHMKIT_TYPE_U64, \
    float: SHMKIT_TYPE_F32, double: SHMKIT_TYPE_F64, \
    char: SHMKIT_TYPE_CHAR, default: 0)

#define MEMBER_OF(S, m) (((struct S *)0)->m)
/* A scalar member and an array member (char[N] is an array of char). */
#define SCALAR(S, m) \
    { #m, offsetof(struct S, m), sizeof MEMBER_OF(S, m), TYPE_OF(MEMBER_OF(S, m)), 1 }
#define ARRAY(S, m) \
    { #m, offsetof(struct S, m), sizeof MEMBER_OF(S, m), TYPE_OF(MEMBER_OF(S, m)[0]), \
      sizeof MEMBER_OF(S, m) / sizeof MEMBER_OF(S, m)[0] }

/* Parse TEXT and compare it with the C struct described by MEMBERS,
 * SIZE and ALIGN. */
static void check_against_c(const char *text, const struct member *members, size_t n,
                            size_t size, size_t align)
{
    shmkit_layout *layout = NULL;
    size_t i;

    ck_assert_msg(shmkit_layout_parse(&layout, text) == 0, "%s: %s", text,
                  shmkit_error_detail());
    ck_assert_uint_eq(shmkit_layout_count(layout), n);
    for (i = 0; i < n; i++) {
        struct shmkit_field f;

        ck_assert_int_eq(shmkit_layout_field(layout, i, &f), 0);
        ck_assert_str_eq(f.name, members[i].name);
        ck_assert_msg(members[i].type != 0, "%s: member type not fixed-width", f.name);
        ck_assert_msg(f.type == members[i].type, "%s: type %d, C has %d", f.name, f.type,
                      members[i].type);
        ck_assert_msg(f.offset == members[i].offset, "%s: offset %zu, C has %zu", f.name,
                      f.offset, members[i].offset);
        ck_assert_msg(f.size == members[i].size, "%s: size %zu, C has %zu", f.name, f.size,
                      members[i].size);
        ck_assert_msg(f.count == members[i].count, "%s: count %zu, C has %zu", f.name,
                      f.count, members[i].count);
    }
    ck_assert_msg(shmkit_layout_size(layout) == size, "%s: size %zu, sizeof %zu", text,
                  shmkit_layout_size(layout), size);
    ck_assert_msg(shmkit_layout_align(layout) == align, "%s: align %zu, _Alignof %zu", text,
                  shmkit_layout_align(layout), align);
    shmkit_layout_free(layout);
}

#define CHECK_STRUCT(S, layout_text, ...) do { \
        static const struct member members_[] = { __VA_ARGS__ }; \
        check_against_c(layout_text, members_, sizeof members_ / sizeof members_[0], \
                        sizeof(struct S), _Alignof(struct S)); \
    } while (0)

/* ------------------------------------------------------------------ */
/* The structs                                                         */
/* ------------------------------------------------------------------ */

/* Mixed sizes: padding after nearly every member, and at the end. */
struct mixed {
    uint8_t a;
    uint32_t b;
    uint16_t c;
    uint64_t d;
    int8_t e;
    double f;
    int16_t g;
};

START_TEST(test_mixed_sizes)
{
    CHECK_STRUCT(mixed, "a:u8 b:u32 c:u16 d:u64 e:i8 f:f64 g:i16",
                 SCALAR(mixed, a), SCALAR(mixed, b), SCALAR(mixed, c), SCALAR(mixed, d),
                 SCALAR(mixed, e), SCALAR(mixed, f), SCALAR(mixed, g));
}
END_TEST

/* Numeric arrays of every width, and text. */
struct arrays {
    uint8_t tag;
    int16_t pos[3];
    float vel[3];
    uint8_t flags[5];
    int64_t big[2];
    char name[7];
    uint32_t tail[1];
};

START_TEST(test_arrays)
{
    CHECK_STRUCT(arrays, "tag:u8 pos:i16[3] vel:f32[3] flags:u8[5] big:i64[2] "
                         "name:char[7] tail:u32[1]",
                 SCALAR(arrays, tag), ARRAY(arrays, pos), ARRAY(arrays, vel),
                 ARRAY(arrays, flags), ARRAY(arrays, big), ARRAY(arrays, name),
                 ARRAY(arrays, tail));
}
END_TEST

/* Text fields of odd lengths around an integer. */
struct labels {
    char label[13];
    uint32_t id;
    char unit[3];
    char one[1];
};

START_TEST(test_text_fields)
{
    CHECK_STRUCT(labels, "label:char[13] id:u32 unit:char[3] one:char[1]",
                 ARRAY(labels, label), SCALAR(labels, id), ARRAY(labels, unit),
                 ARRAY(labels, one));
}
END_TEST

/* The largest member is a u16: alignment and size rounding by 2. */
struct u16max {
    uint8_t a;
    uint16_t b;
    uint8_t c;
    char s[4];
    int16_t d[3];
    int8_t e;
};

START_TEST(test_largest_u16)
{
    CHECK_STRUCT(u16max, "a:u8 b:u16 c:u8 s:char[4] d:i16[3] e:i8",
                 SCALAR(u16max, a), SCALAR(u16max, b), SCALAR(u16max, c),
                 ARRAY(u16max, s), ARRAY(u16max, d), SCALAR(u16max, e));
}
END_TEST

/* An f32 followed by an f64 (4 bytes of padding on most ABIs, none on
 * i386), and an f32 at the end (tail padding). */
struct f32f64 {
    float x;
    double y;
    float z;
};

START_TEST(test_f32_then_f64)
{
    CHECK_STRUCT(f32f64, "x:f32 y:f64 z:f32",
                 SCALAR(f32f64, x), SCALAR(f32f64, y), SCALAR(f32f64, z));
}
END_TEST

/* Bytes only: no padding at all. */
struct u8only {
    uint8_t a;
    uint8_t b[3];
    int8_t c;
    char d[2];
};

START_TEST(test_u8_only)
{
    CHECK_STRUCT(u8only, "a:u8 b:u8[3] c:i8 d:char[2]",
                 SCALAR(u8only, a), ARRAY(u8only, b), SCALAR(u8only, c), ARRAY(u8only, d));
}
END_TEST

/* Every type once, smallest first, then largest first. */
struct ascending {
    int8_t a; uint8_t b; int16_t c; uint16_t d; int32_t e; uint32_t f;
    float g; int64_t h; uint64_t i; double j;
};

struct descending {
    double j; uint64_t i; int64_t h; float g; uint32_t f; int32_t e;
    uint16_t d; int16_t c; uint8_t b; int8_t a;
};

START_TEST(test_every_type)
{
    CHECK_STRUCT(ascending, "a:i8 b:u8 c:i16 d:u16 e:i32 f:u32 g:f32 h:i64 i:u64 j:f64",
                 SCALAR(ascending, a), SCALAR(ascending, b), SCALAR(ascending, c),
                 SCALAR(ascending, d), SCALAR(ascending, e), SCALAR(ascending, f),
                 SCALAR(ascending, g), SCALAR(ascending, h), SCALAR(ascending, i),
                 SCALAR(ascending, j));
    CHECK_STRUCT(descending, "j:f64 i:u64 h:i64 g:f32 f:u32 e:i32 d:u16 c:i16 b:u8 a:i8",
                 SCALAR(descending, j), SCALAR(descending, i), SCALAR(descending, h),
                 SCALAR(descending, g), SCALAR(descending, f), SCALAR(descending, e),
                 SCALAR(descending, d), SCALAR(descending, c), SCALAR(descending, b),
                 SCALAR(descending, a));
}
END_TEST

/* The teaching demo's record and the layout it documents. */
START_TEST(test_weather_example)
{
    CHECK_STRUCT(weather, WEATHER_LAYOUT,
                 SCALAR(weather, station), SCALAR(weather, temp_c),
                 SCALAR(weather, pressure_hpa), ARRAY(weather, wind), ARRAY(weather, name),
                 SCALAR(weather, samples));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Values across the two views                                         */
/* ------------------------------------------------------------------ */

static shmkit_layout *parse_ok(const char *text)
{
    shmkit_layout *layout = NULL;

    ck_assert_msg(shmkit_layout_parse(&layout, text) == 0, "%s: %s", text,
                  shmkit_error_detail());
    return layout;
}

static const char *format_field(const shmkit_layout *layout, const void *record,
                                const char *name, char *buf, size_t len)
{
    int index = shmkit_layout_find(layout, name);

    ck_assert_int_ge(index, 0);
    ck_assert_int_ge(shmkit_layout_format(layout, record, (size_t)index, buf, len), 0);
    return buf;
}

/* Written through C, read through the layout. */
START_TEST(test_c_to_layout)
{
    shmkit_layout *layout = parse_ok("a:u8 b:u32 c:u16 d:u64 e:i8 f:f64 g:i16");
    struct mixed m;
    char buf[64], want[64];

    memset(&m, 0xee, sizeof m); /* padding must not leak into any field */
    m.a = 200;
    m.b = 4000000000u;
    m.c = 65000;
    m.d = UINT64_C(0x0123456789abcdef);
    m.e = -100;
    m.f = -2.5e-8;
    m.g = -30000;
    snprintf(want, sizeof want, "%u", (unsigned)m.a);
    ck_assert_str_eq(format_field(layout, &m, "a", buf, sizeof buf), want);
    snprintf(want, sizeof want, "%" PRIu32, m.b);
    ck_assert_str_eq(format_field(layout, &m, "b", buf, sizeof buf), want);
    snprintf(want, sizeof want, "%u", (unsigned)m.c);
    ck_assert_str_eq(format_field(layout, &m, "c", buf, sizeof buf), want);
    snprintf(want, sizeof want, "%" PRIu64, m.d);
    ck_assert_str_eq(format_field(layout, &m, "d", buf, sizeof buf), want);
    snprintf(want, sizeof want, "%d", (int)m.e);
    ck_assert_str_eq(format_field(layout, &m, "e", buf, sizeof buf), want);
    ck_assert(strtod(format_field(layout, &m, "f", buf, sizeof buf), NULL) == m.f);
    snprintf(want, sizeof want, "%d", (int)m.g);
    ck_assert_str_eq(format_field(layout, &m, "g", buf, sizeof buf), want);
    shmkit_layout_free(layout);
}
END_TEST

/* Written through the layout, read through C. */
START_TEST(test_layout_to_c)
{
    shmkit_layout *layout = parse_ok("tag:u8 pos:i16[3] vel:f32[3] flags:u8[5] big:i64[2] "
                                     "name:char[7] tail:u32[1]");
    struct arrays a;

    ck_assert_uint_eq(shmkit_layout_size(layout), sizeof a);
    memset(&a, 0, sizeof a);
    ck_assert_int_eq(shmkit_layout_assign(layout, &a, "tag=7"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, &a, "pos=-1,2,-32768"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, &a, "vel=0.5,-1.25,3e10"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, &a, "flags=1,2,3,4,255"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, &a, "big=-9223372036854775808,0x7f"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, &a, "name=abcdef"), 0);
    ck_assert_int_eq(shmkit_layout_assign(layout, &a, "tail=4294967295"), 0);
    ck_assert_uint_eq(a.tag, 7);
    ck_assert_int_eq(a.pos[0], -1);
    ck_assert_int_eq(a.pos[1], 2);
    ck_assert_int_eq(a.pos[2], INT16_MIN);
    ck_assert(a.vel[0] == 0.5f && a.vel[1] == -1.25f && a.vel[2] == 3e10f);
    ck_assert_uint_eq(a.flags[0], 1);
    ck_assert_uint_eq(a.flags[4], 255);
    ck_assert_int_eq(a.big[0], INT64_MIN);
    ck_assert_int_eq(a.big[1], 0x7f);
    ck_assert_str_eq(a.name, "abcdef");
    ck_assert_uint_eq(a.tail[0], UINT32_MAX);
    shmkit_layout_free(layout);
}
END_TEST

/* The demo's record filled by its own helper reads back field by field. */
START_TEST(test_weather_values)
{
    shmkit_layout *layout = parse_ok(WEATHER_LAYOUT);
    struct weather w;
    char buf[256], want[256];

    weather_fill(&w, 4711, 21.5f, "Zugspitze");
    snprintf(want, sizeof want,
             "station=4711\ntemp_c=21.5\npressure_hpa=1013.25\nwind=%d,%d,%d\n"
             "name=Zugspitze\nsamples=%lu\n", w.wind[0], w.wind[1], w.wind[2],
             (unsigned long)w.samples);
    ck_assert_int_eq(shmkit_layout_to_text(layout, &w, buf, sizeof buf), (int)strlen(want));
    ck_assert_str_eq(buf, want);
    shmkit_layout_free(layout);
}
END_TEST

static Suite *layout_c_suite(void)
{
    Suite *suite = suite_create("layout_c");
    TCase *tc = tcase_create("layout_c");

    tcase_add_test(tc, test_mixed_sizes);
    tcase_add_test(tc, test_arrays);
    tcase_add_test(tc, test_text_fields);
    tcase_add_test(tc, test_largest_u16);
    tcase_add_test(tc, test_f32_then_f64);
    tcase_add_test(tc, test_u8_only);
    tcase_add_test(tc, test_every_type);
    tcase_add_test(tc, test_weather_example);
    tcase_add_test(tc, test_c_to_layout);
    tcase_add_test(tc, test_layout_to_c);
    tcase_add_test(tc, test_weather_values);
    suite_add_tcase(suite, tc);
    return suite;
}

/* Layouts use natural alignment (doc/FORMAT.md); a C compiler matches it
 * unless the ABI under-aligns 8-byte struct members (i386 System V). */
struct probe_f64 { char c; double x; };
struct probe_i64 { char c; int64_t x; };

int main(void)
{
    if (offsetof(struct probe_f64, x) != 8 || offsetof(struct probe_i64, x) != 8) {
        printf("1..0 # SKIP this ABI aligns 8-byte struct members to %zu\n",
               offsetof(struct probe_f64, x));
        return 0;
    }
    return tu_run(layout_c_suite());
}
