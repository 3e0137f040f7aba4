/*
 * check_header.c - header validation with every field corrupted in turn.
 *
 * Headers are built in private memory with the library's own init and
 * publish functions, then damaged field by field; shmkit__header_validate must
 * refuse each damaged copy with the right code.  Fields covered by the
 * checksum are damaged twice: once as they are (the checksum catches it)
 * and once with the checksum recomputed (the field's own rule catches it).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testutil.h"

#define LAYOUT "a:u32 b:f64"
#define RECORD 16u

static union {
    struct sk_header h;
    unsigned char bytes[4096];
} seg;
static size_t mapped;

static void build_slot_header(void)
{
    struct sk_header_params p;

    memset(&seg, 0, sizeof seg);
    memset(&p, 0, sizeof p);
    p.kind = SHMKIT_KIND_SLOT;
    p.payload_offset = SK_HEADER_SIZE;
    p.payload_size = sk_slot_payload_size(RECORD);
    p.total_size = p.payload_offset + p.payload_size;
    p.record_size = RECORD;
    p.layout = LAYOUT;
    shmkit__header_init(&seg.h, &p);
    shmkit__header_publish(&seg.h);
    mapped = (size_t)p.total_size;
}

static int validate(void)
{
    struct sk_header_view view;

    return shmkit__header_validate(seg.bytes, mapped, &view);
}

/* Recompute the checksum so that only the field's own rule can object. */
static int validate_resealed(void)
{
    seg.h.checksum = shmkit__header_checksum(&seg.h);
    return validate();
}

START_TEST(test_valid)
{
    struct sk_header_view view;

    build_slot_header();
    ck_assert_int_eq(shmkit__header_validate(seg.bytes, mapped, &view), 0);
    ck_assert_int_eq(view.kind, SHMKIT_KIND_SLOT);
    ck_assert_uint_eq(view.record_size, RECORD);
    ck_assert_uint_eq(view.payload_offset, SK_HEADER_SIZE);
    ck_assert_str_eq(view.layout, LAYOUT);
    ck_assert_uint_eq(view.total_size, mapped);
    /* A bigger mapping (SysV rounds to pages) is fine. */
    ck_assert_int_eq(shmkit__header_validate(seg.bytes, sizeof seg.bytes, &view), 0);
}
END_TEST

START_TEST(test_every_static_byte_is_checked)
{
    size_t i;

    /* Flip each byte of the checksummed area: always refused. */
    for (i = 0; i < 384; i++) {
        if (i >= SK_CHECKSUM_OFFSET && i < 128)
            continue; /* checksum and state: tested separately */
        build_slot_header();
        seg.bytes[i] ^= 0x5a;
        ck_assert_msg(validate() < 0, "flipping byte %zu went unnoticed", i);
    }
}
END_TEST

START_TEST(test_magic)
{
    build_slot_header();
    seg.h.magic[0] = 'X';
    ck_assert_int_eq(validate(), SHMKIT_ENOTSHMKIT);
    ck_assert_str_eq(shmkit_error_detail(), "bad magic");
    build_slot_header();
    seg.h.magic[7] = 1;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ENOTSHMKIT);
}
END_TEST

START_TEST(test_version_fields)
{
    build_slot_header();
    seg.h.format_major = SK_FORMAT_MAJOR + 1;
    ck_assert_int_eq(validate(), SHMKIT_EVERSION);
    build_slot_header();
    seg.h.format_major = 0;
    ck_assert_int_eq(validate_resealed(), SHMKIT_EVERSION);
    /* A newer minor version only adds: still readable. */
    build_slot_header();
    seg.h.format_minor = SK_FORMAT_MINOR + 3;
    ck_assert_int_eq(validate_resealed(), 0);
    build_slot_header();
    seg.h.byte_order = 0x04030201u;
    ck_assert_int_eq(validate_resealed(), SHMKIT_EVERSION);
}
END_TEST

START_TEST(test_checksum_field)
{
    build_slot_header();
    seg.h.checksum ^= 1u;
    ck_assert_int_eq(validate(), SHMKIT_ECORRUPT);
}
END_TEST

START_TEST(test_header_size)
{
    build_slot_header();
    seg.h.header_size = SK_HEADER_SIZE + 64;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
}
END_TEST

START_TEST(test_kind)
{
    build_slot_header();
    seg.h.kind = 0;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.kind = 77;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
}
END_TEST

START_TEST(test_total_size)
{
    build_slot_header();
    seg.h.total_size = mapped + 1;       /* claims more than is mapped */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.total_size = SK_HEADER_SIZE - 1;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.total_size = UINT64_MAX;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
}
END_TEST

START_TEST(test_payload_offset)
{
    static const uint64_t bad[] = {0, 64, SK_HEADER_SIZE - 64, SK_HEADER_SIZE + 1,
                                   SK_HEADER_SIZE + 32, UINT64_MAX - 63, 4096};
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        build_slot_header();
        seg.h.payload_offset = bad[i];
        ck_assert_msg(validate_resealed() == SHMKIT_ECORRUPT, "offset %llu accepted",
                      (unsigned long long)bad[i]);
    }
}
END_TEST

START_TEST(test_payload_size)
{
    build_slot_header();
    seg.h.payload_size += 64;            /* runs past the end */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.payload_size = UINT64_MAX;     /* offset + size overflows */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.payload_size -= 64;            /* too small for two buffers */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
}
END_TEST

START_TEST(test_record_size)
{
    static const uint64_t bad[] = {0, RECORD - 8, RECORD + 8, (uint64_t)SHMKIT_RECORD_MAX + 1,
                                   UINT64_MAX};
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        build_slot_header();
        seg.h.record_size = bad[i];
        ck_assert_msg(validate_resealed() == SHMKIT_ECORRUPT, "record size %llu accepted",
                      (unsigned long long)bad[i]);
    }
}
END_TEST

START_TEST(test_layout_len)
{
    build_slot_header();
    seg.h.layout_len = SK_LAYOUT_AREA;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.layout_len = 0xffffffffu;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.layout_len -= 1;               /* NUL is not at layout_len */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.layout[3] = '\0';              /* NUL before layout_len */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
}
END_TEST

START_TEST(test_layout_unterminated)
{
    build_slot_header();
    memset(seg.h.layout, 'x', SK_LAYOUT_AREA);
    seg.h.layout_len = SK_LAYOUT_AREA - 1;
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
}
END_TEST

START_TEST(test_layout_text)
{
    static const char *const not_canonical[] = {
        "a:u32\nb:f64", "a:u32\tb:f64", "a:u32,b:f64", "a:u32  b:f64", " a:u32 b:f64",
        "a:u32 b:f64 ", "a:u8[016]", "a:u32,\r\n b:f64",
    };
    size_t i;

    build_slot_header();
    memcpy(seg.h.layout, "a:u32 b:f65", 11);   /* same length, bad type */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    memcpy(seg.h.layout, "a:u32 b:i32", 11);   /* parses, wrong size (8) */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    memcpy(seg.h.layout, "a:u64 b:f64", 11);   /* same size: accepted */
    ck_assert_int_eq(validate_resealed(), 0);
    /* Parses to the right size but is not canonical: a control character
     * or another separator between the fields, a leading zero. */
    for (i = 0; i < sizeof not_canonical / sizeof not_canonical[0]; i++) {
        build_slot_header();
        memset(seg.h.layout, 0, sizeof seg.h.layout);
        seg.h.layout_len = (uint32_t)strlen(not_canonical[i]);
        memcpy(seg.h.layout, not_canonical[i], seg.h.layout_len);
        ck_assert_msg(validate_resealed() == SHMKIT_ECORRUPT, "\"%s\" accepted",
                      not_canonical[i]);
        ck_assert_str_eq(shmkit_error_detail(), "layout text not in canonical form");
    }
}
END_TEST

START_TEST(test_raw_flag)
{
    build_slot_header();
    seg.h.header_flags |= SK_HFLAG_RAW;        /* raw with a layout */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    build_slot_header();
    seg.h.layout[0] = '\0';
    seg.h.layout_len = 0;                      /* no layout, not raw */
    ck_assert_int_eq(validate_resealed(), SHMKIT_ECORRUPT);
    seg.h.header_flags |= SK_HFLAG_RAW;        /* now consistent */
    ck_assert_int_eq(validate_resealed(), 0);
}
END_TEST

START_TEST(test_too_small_mapping)
{
    struct sk_header_view view;

    build_slot_header();
    ck_assert_int_eq(shmkit__header_validate(seg.bytes, SK_HEADER_SIZE - 1, &view),
                     SHMKIT_ENOTSHMKIT);
    ck_assert_int_eq(shmkit__header_validate(seg.bytes, 0, &view), SHMKIT_ENOTSHMKIT);
}
END_TEST

START_TEST(test_half_created)
{
    build_slot_header();
    sk_store(&seg.h.state, SK_STATE_INIT, SK_RELAXED);
    ck_assert_int_eq(validate(), SHMKIT_EHALFCREATED);
    /* Zero-filled, as a fresh SysV segment whose creator died. */
    memset(&seg, 0, sizeof seg);
    ck_assert_int_eq(validate(), SHMKIT_EHALFCREATED);
    /* Foreign bytes are refused at once, without waiting. */
    memset(&seg, 0xa5, sizeof seg);
    ck_assert_int_eq(validate(), SHMKIT_ENOTSHMKIT);
}
END_TEST

START_TEST(test_checksum_vector)
{
    /* Pin the documented algorithm (doc/FORMAT.md): FNV-1a 32 over bytes
     * 0..119 then 128..383.  All-zero input gives the FNV value of 376
     * zero bytes, computed here independently. */
    uint32_t h = 0x811c9dc5u;
    int i;

    memset(&seg, 0, sizeof seg);
    for (i = 0; i < 376; i++)
        h = (h ^ 0u) * 0x01000193u;
    ck_assert_uint_eq(shmkit__header_checksum(&seg.h), h);
    seg.bytes[130] = 1; /* inside the layout area: covered */
    ck_assert_uint_ne(shmkit__header_checksum(&seg.h), h);
    seg.bytes[130] = 0;
    seg.bytes[400] = 1; /* writer line: not covered */
    ck_assert_uint_eq(shmkit__header_checksum(&seg.h), h);
}
END_TEST

static Suite *header_suite(void)
{
    Suite *s = suite_create("header");
    TCase *tc = tcase_create("header");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_valid);
    tcase_add_test(tc, test_every_static_byte_is_checked);
    tcase_add_test(tc, test_magic);
    tcase_add_test(tc, test_version_fields);
    tcase_add_test(tc, test_checksum_field);
    tcase_add_test(tc, test_header_size);
    tcase_add_test(tc, test_kind);
    tcase_add_test(tc, test_total_size);
    tcase_add_test(tc, test_payload_offset);
    tcase_add_test(tc, test_payload_size);
    tcase_add_test(tc, test_record_size);
    tcase_add_test(tc, test_layout_len);
    tcase_add_test(tc, test_layout_unterminated);
    tcase_add_test(tc, test_layout_text);
    tcase_add_test(tc, test_raw_flag);
    tcase_add_test(tc, test_too_small_mapping);
    tcase_add_test(tc, test_half_created);
    tcase_add_test(tc, test_checksum_vector);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(header_suite());
}
