/*
 * fuzz_layout.c - layout parsing, and decoding and encoding of records.
 *
 * Input: one flag byte, the layout text up to the first NUL, then the
 * record's bytes (zero-filled if the input ends first), then assignments
 * ("name=value", NUL-separated) applied to the record.
 *
 * Checked besides "no crash": the canonical text parses to itself; fields
 * lie inside the record, aligned, and can be found by name; every
 * formatter honours snprintf semantics exactly (buffers are allocated to
 * the size asked for, so AddressSanitizer sees any overrun); a failed
 * assignment leaves the record unchanged; numbers read back what was
 * printed; JSON output is well-formed UTF-8 without raw control
 * characters; error details are printable ASCII.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "fuzz.h"
#include "shmkit.h"

#include <stdlib.h>
#include <string.h>

/* Records larger than this are parsed but not decoded: a 1 GiB record is
 * valid, and only slow. */
#define DECODE_MAX 65536u

typedef int (*whole_formatter)(const shmkit_layout *, const void *, char *, size_t);

/* Run a formatter with no buffer, a buffer of exactly the size it asked
 * for and a truncating one of SMALL bytes; the truncated text must be a
 * prefix of the full one.  Returns the full text (malloc'd) or NULL. */
static char *format_checked(const shmkit_layout *layout, const void *record, size_t index,
                            whole_formatter whole, size_t small)
{
    char *full, *cut;
    int n = whole ? whole(layout, record, NULL, 0)
                  : shmkit_layout_format(layout, record, index, NULL, 0);
    int m;

    FZ_CHECK(n >= 0);
    full = malloc((size_t)n + 1);
    cut = malloc(small + 1);
    if (full == NULL || cut == NULL) {
        free(full);
        free(cut);
        return NULL;
    }
    m = whole ? whole(layout, record, full, (size_t)n + 1)
              : shmkit_layout_format(layout, record, index, full, (size_t)n + 1);
    FZ_CHECK(m == n && strlen(full) == (size_t)n);
    m = whole ? whole(layout, record, cut, small)
              : shmkit_layout_format(layout, record, index, cut, small);
    FZ_CHECK(m == n);
    if (small > 0) {
        size_t kept = strlen(cut);

        FZ_CHECK(kept == ((size_t)n < small - 1 ? (size_t)n : small - 1));
        FZ_CHECK(memcmp(cut, full, kept) == 0);
    }
    free(cut);
    return full;
}

/* An error detail is printable ASCII: untrusted bytes are escaped. */
static void check_detail(void)
{
    const char *d;

    for (d = shmkit_error_detail(); *d != '\0'; d++)
        FZ_CHECK(*d >= 0x20 && *d < 0x7f);
}

/* The length of the well-formed UTF-8 sequence at S (NUL-terminated), or
 * 0; written apart from the library's: decode, then judge the value. */
static size_t utf8_sequence(const unsigned char *s, uint32_t *cp)
{
    static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len, i;
    uint32_t v;

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

/* JSON output is well-formed UTF-8 without raw control characters (C0,
 * DEL, C1) or U+2028/U+2029, whatever the record's bytes. */
static void check_json_text(const char *json)
{
    const unsigned char *s = (const unsigned char *)json;

    while (*s != '\0') {
        uint32_t cp = 0;
        size_t len;

        FZ_CHECK(*s >= 0x20 && *s != 0x7f);
        if (*s < 0x80) {
            s++;
            continue;
        }
        len = utf8_sequence(s, &cp);
        FZ_CHECK(len > 0);
        FZ_CHECK(cp > 0x9f && cp != 0x2028 && cp != 0x2029);
        s += len;
    }
}

static void check_structure(const shmkit_layout *layout)
{
    shmkit_layout *again;
    size_t i, size = shmkit_layout_size(layout), align = shmkit_layout_align(layout);
    struct shmkit_field f;

    FZ_CHECK(shmkit_layout_parse(&again, shmkit_layout_text(layout)) == 0);
    FZ_CHECK(strcmp(shmkit_layout_text(again), shmkit_layout_text(layout)) == 0);
    FZ_CHECK(shmkit_layout_size(again) == size);
    shmkit_layout_free(again);
    FZ_CHECK(strlen(shmkit_layout_text(layout)) <= SHMKIT_LAYOUT_MAX_TEXT);
    FZ_CHECK(size > 0 && size <= SHMKIT_RECORD_MAX && align > 0 && size % align == 0);
    FZ_CHECK(shmkit_layout_count(layout) >= 1 &&
             shmkit_layout_count(layout) <= SHMKIT_LAYOUT_MAX_FIELDS);
    for (i = 0; i < shmkit_layout_count(layout); i++) {
        FZ_CHECK(shmkit_layout_field(layout, i, &f) == 0);
        FZ_CHECK(f.offset <= size && f.size <= size - f.offset);
        FZ_CHECK(f.count > 0 && f.size % f.count == 0);
        FZ_CHECK(f.offset % (f.size / f.count) == 0);
        FZ_CHECK(shmkit_layout_find(layout, f.name) == (int)i);
    }
    FZ_CHECK(shmkit_layout_field(layout, i, &f) < 0);
}

static int is_integer(int type)
{
    return type >= SHMKIT_TYPE_I8 && type <= SHMKIT_TYPE_U64;
}

/* Print each field and store the text back: integers come back bit for
 * bit, floats print the same again (NaN payloads may differ).  Text is
 * printed with escapes that are not read back, so it is left out. */
static void check_round_trip(const shmkit_layout *layout, unsigned char *record, size_t size)
{
    unsigned char *copy = malloc(size);
    size_t i;

    if (copy == NULL)
        return;
    for (i = 0; i < shmkit_layout_count(layout); i++) {
        struct shmkit_field f;
        char *text, *again;

        shmkit_layout_field(layout, i, &f);
        if (f.type == SHMKIT_TYPE_CHAR)
            continue;
        text = format_checked(layout, record, i, NULL, 0);
        if (text == NULL)
            continue;
        memcpy(copy, record, size);
        FZ_CHECK(shmkit_layout_set(layout, copy, f.name, text) == 0);
        if (is_integer(f.type)) {
            FZ_CHECK(memcmp(copy, record, size) == 0);
        } else {
            again = format_checked(layout, copy, i, NULL, 0);
            FZ_CHECK(again != NULL && strcmp(again, text) == 0);
            free(again);
        }
        free(text);
    }
    free(copy);
}

/* Apply the NUL-separated assignments in [P, END); a failure must leave
 * the record as it was. */
static void apply_assignments(const shmkit_layout *layout, unsigned char *record, size_t size,
                              const char *p, const char *end, int by_name)
{
    unsigned char *before = malloc(size);

    if (before == NULL)
        return;
    while (p < end) {
        size_t len = strnlen(p, (size_t)(end - p));
        char *a = malloc(len + 1), *eq;
        int rc;

        if (a == NULL)
            break;
        memcpy(a, p, len);
        a[len] = '\0';
        memcpy(before, record, size);
        eq = strchr(a, '=');
        if (by_name && eq != NULL) {
            *eq = '\0';
            rc = shmkit_layout_set(layout, record, a, eq + 1);
        } else {
            rc = shmkit_layout_assign(layout, record, a);
        }
        if (rc < 0) {
            FZ_CHECK(memcmp(before, record, size) == 0);
            check_detail();
        }
        free(a);
        p += len + 1;
    }
    free(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t flags;
    const char *text, *rest, *end = (const char *)data + size;
    size_t text_len, rsize, given, i;
    shmkit_layout *layout = NULL;
    unsigned char *record;
    char *copy, *s;

    if (size == 0)
        return 0;
    flags = data[0];
    text = (const char *)data + 1;
    text_len = strnlen(text, size - 1);
    /* The record starts after the NUL, if there is one. */
    rest = text + text_len + (text_len < size - 1 ? 1 : 0);
    copy = malloc(text_len + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, text, text_len);
    copy[text_len] = '\0';
    if (shmkit_layout_parse(&layout, copy) < 0) {
        FZ_CHECK(layout == NULL && shmkit_error_detail()[0] != '\0');
        check_detail();
        free(copy);
        return 0;
    }
    free(copy);
    check_structure(layout);
    rsize = shmkit_layout_size(layout);
    if (rsize > DECODE_MAX || (record = calloc(1, rsize)) == NULL) {
        shmkit_layout_free(layout);
        return 0;
    }
    given = (size_t)(end - rest) < rsize ? (size_t)(end - rest) : rsize;
    memcpy(record, rest, given);
    rest += given;
    for (i = 0; i < shmkit_layout_count(layout); i++)
        free(format_checked(layout, record, i, NULL, flags & 0x3f));
    free(format_checked(layout, record, 0, shmkit_layout_to_text, flags & 0x3f));
    s = format_checked(layout, record, 0, shmkit_layout_to_json, flags & 0x3f);
    if (s != NULL)
        check_json_text(s);
    free(s);
    apply_assignments(layout, record, rsize, rest, end, flags & 0x40);
    if (flags & 0x80)
        check_round_trip(layout, record, rsize);
    s = format_checked(layout, record, 0, shmkit_layout_to_json, 0);
    free(s);
    free(record);
    shmkit_layout_free(layout);
    return 0;
}
