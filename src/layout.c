/*
 * layout.c - the record layout language.
 *
 * A layout such as "id:u32 temp:f64 pos:i16[3] label:char[16]" names the
 * fields of a slot's record.  This module parses it, places the fields the
 * way the local C compiler places the members of the equivalent struct,
 * stores "name=value" text into records and prints records as text or JSON.
 *
 * Records live in callers' buffers and in shared memory, so they may be
 * unaligned and their bytes are untrusted: every load and store goes through
 * memcpy, and text fields are never read beyond their N bytes.
 *
 * Numbers go through strtod/strtof and snprintf, which follow LC_NUMERIC.
 * shmkit assumes the "C" numeric locale, the default of every program that
 * does not call setlocale(LC_NUMERIC or LC_ALL, ...); the tools never change
 * it.  A program that selects another numeric locale must switch back to "C"
 * around these calls, or "21.5" may print as "21,5".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "escape.h"
#include "shmkit.h"


/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

/*
 * Natural alignment: every element is aligned to its own size.  This is
 * what C compilers do for struct members on every 64-bit ABI and on ARM,
 * and it makes a layout the same in 32- and 64-bit processes, which share
 * segments.  The one common exception is i386 System V, which places 8-byte
 * members of a struct at multiples of 4; a C struct meant to match a layout
 * there declares those members _Alignas(8) (doc/FORMAT.md, "Layouts").
 */

enum sk_class { SK_SIGNED, SK_UNSIGNED, SK_FLOAT, SK_TEXT };

struct sk_type_info {
    const char *name;
    int type;          /* enum shmkit_type */
    enum sk_class cls;
    size_t size;       /* bytes per element */
    size_t align;      /* natural alignment: the element size */
    unsigned bits;     /* integers: width */
};

#define SK_TYPE(NAME, TYPE, CLS, CTYPE) \
    { #NAME, TYPE, CLS, sizeof(CTYPE), sizeof(CTYPE), \
      (unsigned)(sizeof(CTYPE) * CHAR_BIT) }

/* Indexed by enum shmkit_type - 1. */
static const struct sk_type_info sk_types[] = {
    SK_TYPE(i8, SHMKIT_TYPE_I8, SK_SIGNED, int8_t),
    SK_TYPE(u8, SHMKIT_TYPE_U8, SK_UNSIGNED, uint8_t),
    SK_TYPE(i16, SHMKIT_TYPE_I16, SK_SIGNED, int16_t),
    SK_TYPE(u16, SHMKIT_TYPE_U16, SK_UNSIGNED, uint16_t),
    SK_TYPE(i32, SHMKIT_TYPE_I32, SK_SIGNED, int32_t),
    SK_TYPE(u32, SHMKIT_TYPE_U32, SK_UNSIGNED, uint32_t),
    SK_TYPE(i64, SHMKIT_TYPE_I64, SK_SIGNED, int64_t),
    SK_TYPE(u64, SHMKIT_TYPE_U64, SK_UNSIGNED, uint64_t),
    SK_TYPE(f32, SHMKIT_TYPE_F32, SK_FLOAT, float),
    SK_TYPE(f64, SHMKIT_TYPE_F64, SK_FLOAT, double),
    { "char", SHMKIT_TYPE_CHAR, SK_TEXT, 1, 1, CHAR_BIT },
};

_Static_assert(sizeof sk_types / sizeof sk_types[0] == SHMKIT_TYPE_CHAR,
               "one sk_types entry per enum shmkit_type, in enum order");
_Static_assert(sizeof(float) == 4 && sizeof(double) == 8,
               "f32 and f64 must be IEEE 754 binary32 and binary64");

static const struct sk_type_info *type_by_name(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < sizeof sk_types / sizeof sk_types[0]; i++)
        if (strlen(sk_types[i].name) == len && memcmp(sk_types[i].name, name, len) == 0)
            return &sk_types[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* The layout object                                                   */
/* ------------------------------------------------------------------ */

struct sk_layout_field {
    char name[SHMKIT_LAYOUT_MAX_NAME + 1];
    const struct sk_type_info *type;
    size_t count;      /* 1 for scalars, N for T[N] and char[N] */
    int is_array;      /* T[N], not char[N] */
    size_t offset;
    size_t size;
};

struct shmkit_layout {
    size_t nfields;
    size_t size;       /* record size, a multiple of align */
    size_t align;      /* largest member alignment, >= 1 */
    size_t text_len;
    char text[SHMKIT_LAYOUT_MAX_TEXT + 1];  /* canonical form */
    struct sk_layout_field fields[SHMKIT_LAYOUT_MAX_FIELDS];
};

/*
 * The printable form of [S, S+N) (escape.h) in BUF, for an error detail,
 * cut with "..." after about 40 characters so that one long value cannot
 * crowd the rest of the detail out.
 */
#define SK_QUOTE_BUF 48

static const char *quote(char *buf, const char *s, size_t n)
{
    return sk_escape(buf, SK_QUOTE_BUF, s, n);
}

static size_t round_up(size_t value, size_t align)
{
    /* Callers keep VALUE <= SHMKIT_RECORD_MAX, so this cannot wrap. */
    return (value + align - 1) / align * align;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

/* Fields may be separated by any mix of these. */
static int is_separator(char c)
{
    return c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r';
}

static int is_name_start(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Check the name [NAME, NAME+LEN) of field NUMBER (1-based). */
static int check_name(const shmkit_layout *layout, size_t number, const char *name,
                      size_t len)
{
    char q[SK_QUOTE_BUF];
    size_t i;

    if (len == 0)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu: missing name before ':'", number);
    if (!is_name_start(name[0]))
        return sk_fail(SHMKIT_EBADLAYOUT,
                       "field %zu \"%s\": name must start with a letter or '_'",
                       number, quote(q, name, len));
    for (i = 1; i < len; i++)
        if (!is_name_char(name[i]))
            return sk_fail(SHMKIT_EBADLAYOUT,
                           "field %zu \"%s\": name may hold only letters, digits and '_'",
                           number, quote(q, name, len));
    if (len > SHMKIT_LAYOUT_MAX_NAME)
        return sk_fail(SHMKIT_EBADLAYOUT,
                       "field %zu \"%s\": name longer than %d characters",
                       number, quote(q, name, len), SHMKIT_LAYOUT_MAX_NAME);
    for (i = 0; i < layout->nfields; i++)
        if (strlen(layout->fields[i].name) == len
            && memcmp(layout->fields[i].name, name, len) == 0)
            return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": duplicate name",
                           number, quote(q, name, len));
    return 0;
}

/*
 * Parse the array length in "[N]" at P (just after '[') up to END, the end
 * of the field's text.  The element size bounds N so that N * ELEM_SIZE
 * cannot overflow.
 */
static int parse_count(const char *p, const char *end, size_t elem_size, size_t number,
                       const char *name, size_t *count)
{
    const char *close = memchr(p, ']', (size_t)(end - p)), *q;
    size_t n = 0, limit = SHMKIT_RECORD_MAX / elem_size;
    int too_large = 0;
    char buf[SK_QUOTE_BUF];

    if (close == NULL)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": missing ']'", number, name);
    if (close == p)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": missing array length",
                       number, name);
    for (q = p; q < close; q++) {
        size_t digit;

        /* Quote just what is between the brackets, which is what could
         * not be read. */
        if (!is_digit(*q))
            return sk_fail(SHMKIT_EBADLAYOUT,
                           "field %zu \"%s\": expected a decimal element count in [], "
                           "not \"%s\"", number, name, quote(buf, p, (size_t)(close - p)));
        digit = (size_t)(*q - '0');
        /* Stop accumulating past the limit: N * 10 could wrap a 32-bit
         * size_t long before the digits end. */
        if (!too_large && n > (limit - digit) / 10)
            too_large = 1;
        else if (!too_large)
            n = n * 10 + digit;
    }
    if (close + 1 != end)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": unexpected \"%s\" after ']'",
                       number, name, quote(buf, close + 1, (size_t)(end - close - 1)));
    if (too_large)
        return sk_fail(SHMKIT_EBADLAYOUT,
                       "field %zu \"%s\": array length %s makes the record larger "
                       "than %u bytes", number, name,
                       quote(buf, p, (size_t)(close - p)), SHMKIT_RECORD_MAX);
    if (n == 0)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": array length must be at least 1",
                       number, name);
    *count = n;
    return 0;
}

/* Parse the type text [P, END) (after ':') of FIELD, field NUMBER. */
static int parse_type(struct sk_layout_field *field, size_t number, const char *p,
                      const char *end)
{
    const char *type_end = p;
    char q[SK_QUOTE_BUF];

    while (type_end < end && *type_end != '[')
        type_end++;
    if (type_end == p)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": missing type after ':'",
                       number, field->name);
    field->type = type_by_name(p, (size_t)(type_end - p));
    if (field->type == NULL)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": unknown type \"%s\"",
                       number, field->name, quote(q, p, (size_t)(type_end - p)));
    field->count = 1;
    field->is_array = type_end < end && field->type->cls != SK_TEXT;
    if (type_end == end) {
        if (field->type->cls == SK_TEXT)
            return sk_fail(SHMKIT_EBADLAYOUT,
                           "field %zu \"%s\": char needs a length, e.g. char[16]",
                           number, field->name);
        return 0;
    }
    return parse_count(type_end + 1, end, field->type->size, number, field->name,
                       &field->count);
}

/* Append FIELD's canonical form to the layout's text. */
static int append_text(shmkit_layout *layout, const struct sk_layout_field *field)
{
    char piece[SHMKIT_LAYOUT_MAX_NAME + 40];
    int n;

    if (field->type->cls == SK_TEXT || field->is_array)
        n = snprintf(piece, sizeof piece, "%s%s:%s[%zu]", layout->nfields ? " " : "",
                     field->name, field->type->name, field->count);
    else
        n = snprintf(piece, sizeof piece, "%s%s:%s", layout->nfields ? " " : "",
                     field->name, field->type->name);
    if (n < 0 || (size_t)n >= sizeof piece
        || layout->text_len + (size_t)n > SHMKIT_LAYOUT_MAX_TEXT)
        return sk_fail(SHMKIT_EBADLAYOUT,
                       "layout longer than %d characters (in canonical form)",
                       SHMKIT_LAYOUT_MAX_TEXT);
    memcpy(layout->text + layout->text_len, piece, (size_t)n + 1);
    layout->text_len += (size_t)n;
    return 0;
}

/* Parse one field's text [P, END) and place the field after the others. */
static int add_field(shmkit_layout *layout, const char *p, const char *end)
{
    size_t number = layout->nfields + 1;
    struct sk_layout_field *field;
    const char *colon;
    char q[SK_QUOTE_BUF];
    int rc;

    if (layout->nfields == SHMKIT_LAYOUT_MAX_FIELDS)
        return sk_fail(SHMKIT_EBADLAYOUT, "more than %d fields", SHMKIT_LAYOUT_MAX_FIELDS);
    colon = memchr(p, ':', (size_t)(end - p));
    if (colon == NULL)
        return sk_fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": expected name:type",
                       number, quote(q, p, (size_t)(end - p)));
    rc = check_name(layout, number, p, (size_t)(colon - p));
    if (rc < 0)
        return rc;

    field = &layout->fields[layout->nfields];
    memcpy(field->name, p, (size_t)(colon - p));
    field->name[colon - p] = '\0';
    rc = parse_type(field, number, colon + 1, end);
    if (rc < 0)
        return rc;

    /* count <= SHMKIT_RECORD_MAX / size, and the running size stays within
     * SHMKIT_RECORD_MAX, so none of these sums can wrap. */
    field->size = field->count * field->type->size;
    field->offset = round_up(layout->size, field->type->align);
    if (field->offset > SHMKIT_RECORD_MAX
        || field->size > SHMKIT_RECORD_MAX - field->offset)
        return sk_fail(SHMKIT_EBADLAYOUT,
                       "field %zu \"%s\": record larger than %u bytes",
                       number, field->name, SHMKIT_RECORD_MAX);
    rc = append_text(layout, field);
    if (rc < 0)
        return rc;
    layout->size = field->offset + field->size;
    if (field->type->align > layout->align)
        layout->align = field->type->align;
    layout->nfields++;
    return 0;
}

/* Split TEXT into fields and place them. */
static int parse_fields(shmkit_layout *layout, const char *text)
{
    const char *p = text;
    int rc;

    for (;;) {
        const char *start;

        while (is_separator(*p))
            p++;
        if (*p == '\0')
            break;
        start = p;
        while (*p != '\0' && !is_separator(*p))
            p++;
        rc = add_field(layout, start, p);
        if (rc < 0)
            return rc;
    }
    if (layout->nfields == 0)
        return sk_fail(SHMKIT_EBADLAYOUT, "empty layout: no fields");
    /* Trailing padding, as a C compiler adds it so that arrays of the
     * struct keep every member aligned. */
    layout->size = round_up(layout->size, layout->align);
    if (layout->size > SHMKIT_RECORD_MAX)
        return sk_fail(SHMKIT_EBADLAYOUT, "record larger than %u bytes", SHMKIT_RECORD_MAX);
    return 0;
}

SHMKIT_API int shmkit_layout_parse(shmkit_layout **layoutp, const char *text)
{
    shmkit_layout *layout;
    int rc;

    sk_clear_detail();
    if (layoutp == NULL)
        return sk_fail(-EINVAL, "no place to store the layout");
    *layoutp = NULL;
    if (text == NULL)
        return sk_null_arg("text");
    layout = calloc(1, sizeof *layout);
    if (layout == NULL)
        return sk_fail(-ENOMEM, "cannot allocate a layout");
    layout->align = 1;
    rc = parse_fields(layout, text);
    if (rc < 0) {
        free(layout);
        return rc;
    }
    *layoutp = layout;
    return 0;
}

SHMKIT_API void shmkit_layout_free(shmkit_layout *layout)
{
    free(layout);
}

SHMKIT_API const char *shmkit_layout_text(const shmkit_layout *layout)
{
    return layout ? layout->text : "";
}

SHMKIT_API size_t shmkit_layout_size(const shmkit_layout *layout)
{
    return layout ? layout->size : 0;
}

SHMKIT_API size_t shmkit_layout_align(const shmkit_layout *layout)
{
    return layout ? layout->align : 1;
}

SHMKIT_API size_t shmkit_layout_count(const shmkit_layout *layout)
{
    return layout ? layout->nfields : 0;
}

SHMKIT_API int shmkit_layout_field(const shmkit_layout *layout, size_t index,
                                   struct shmkit_field *field)
{
    const struct sk_layout_field *f;

    sk_clear_detail();
    if (layout == NULL || field == NULL || index >= layout->nfields)
        return sk_fail(-EINVAL, "no field number %zu", index);
    f = &layout->fields[index];
    field->name = f->name;
    field->type = f->type->type;
    field->count = f->count;
    field->is_array = f->is_array;
    field->offset = f->offset;
    field->size = f->size;
    return 0;
}

/* Index of the field named [NAME, NAME+LEN), or SHMKIT_ENOFIELD. */
static int find_field(const shmkit_layout *layout, const char *name, size_t len)
{
    char q[SK_QUOTE_BUF];
    size_t i;

    for (i = 0; i < layout->nfields; i++)
        if (strlen(layout->fields[i].name) == len
            && memcmp(layout->fields[i].name, name, len) == 0)
            return (int)i;
    return sk_fail(SHMKIT_ENOFIELD, "no field \"%s\"", quote(q, name, len));
}

SHMKIT_API int shmkit_layout_find(const shmkit_layout *layout, const char *name)
{
    sk_clear_detail();
    if (layout == NULL || name == NULL)
        return sk_fail(-EINVAL, "no layout or no name");
    return find_field(layout, name, strlen(name));
}

/* ------------------------------------------------------------------ */
/* Encoding text values into records                                   */
/* ------------------------------------------------------------------ */

/* One element of any numeric type; its first `size` bytes are the
 * element's native representation. */
union sk_element {
    int8_t i8; uint8_t u8; int16_t i16; uint16_t u16;
    int32_t i32; uint32_t u32; int64_t i64; uint64_t u64;
    float f32; double f64;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Parse [P, END) as an integer: an optional sign, then decimal digits
 * (leading zeros are decimal, not octal) or 0x and hex digits.  Returns 0
 * with the sign and magnitude, 1 if the syntax is right but the magnitude
 * exceeds 64 bits, or -1 for anything that is not an integer.
 */
static int parse_integer(const char *p, const char *end, int *negative, uint64_t *magnitude)
{
    unsigned base = 10;
    uint64_t m = 0;
    int overflow = 0;

    *negative = 0;
    if (p < end && (*p == '-' || *p == '+'))
        *negative = *p++ == '-';
    if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    if (p == end)
        return -1;
    for (; p < end; p++) {
        int digit = hex_value(*p);

        if (digit < 0 || (unsigned)digit >= base)
            return -1;
        if (m > (UINT64_MAX - (unsigned)digit) / base)
            overflow = 1;
        else
            m = m * base + (unsigned)digit;
    }
    *magnitude = m;
    return overflow;
}

/* Name of FIELD's element type for messages, e.g. "u8" or "i16[3]". */
static const char *type_label(char *buf, size_t size, const struct sk_layout_field *field)
{
    if (field->is_array)
        snprintf(buf, size, "%s[%zu]", field->type->name, field->count);
    else
        snprintf(buf, size, "%s", field->type->name);
    return buf;
}

static int range_error(const struct sk_layout_field *field, const char *p, const char *end)
{
    const struct sk_type_info *t = field->type;
    char q[SK_QUOTE_BUF];
    uint64_t half = (uint64_t)1 << (t->bits - 1);

    if (t->cls == SK_SIGNED)
        return sk_fail(SHMKIT_ERANGE,
                       "field \"%s\": %s is out of range for %s (-%" PRIu64 "..%" PRIu64 ")",
                       field->name, quote(q, p, (size_t)(end - p)), t->name, half, half - 1);
    if (t->cls == SK_UNSIGNED)
        return sk_fail(SHMKIT_ERANGE,
                       "field \"%s\": %s is out of range for %s (0..%" PRIu64 ")",
                       field->name, quote(q, p, (size_t)(end - p)), t->name,
                       half - 1 + half);
    return sk_fail(SHMKIT_ERANGE, "field \"%s\": %s is out of range for %s",
                   field->name, quote(q, p, (size_t)(end - p)), t->name);
}

static int value_error(const struct sk_layout_field *field, const char *p, const char *end)
{
    char q[SK_QUOTE_BUF], label[40];

    return sk_fail(SHMKIT_EBADVALUE, "field \"%s\": \"%s\" is not a valid %s",
                   field->name, quote(q, p, (size_t)(end - p)),
                   type_label(label, sizeof label, field));
}

/* An integer element [P, END) of FIELD into OUT, range-checked. */
static int encode_integer(const struct sk_layout_field *field, const char *p,
                          const char *end, union sk_element *out)
{
    const struct sk_type_info *t = field->type;
    uint64_t magnitude, half = (uint64_t)1 << (t->bits - 1);
    int negative, rc = parse_integer(p, end, &negative, &magnitude);
    int64_t s;

    if (rc < 0)
        return value_error(field, p, end);
    if (rc > 0)
        return range_error(field, p, end);
    if (t->cls == SK_UNSIGNED) {
        if ((negative && magnitude != 0) || magnitude > half - 1 + half)
            return range_error(field, p, end);
        switch (t->type) {
        case SHMKIT_TYPE_U8: out->u8 = (uint8_t)magnitude; break;
        case SHMKIT_TYPE_U16: out->u16 = (uint16_t)magnitude; break;
        case SHMKIT_TYPE_U32: out->u32 = (uint32_t)magnitude; break;
        default: out->u64 = magnitude; break;
        }
        return 0;
    }
    if (magnitude > (negative ? half : half - 1))
        return range_error(field, p, end);
    /* -(magnitude - 1) - 1 reaches INT64_MIN without overflowing. */
    s = negative ? (magnitude == 0 ? 0 : -(int64_t)(magnitude - 1) - 1) : (int64_t)magnitude;
    switch (t->type) {
    case SHMKIT_TYPE_I8: out->i8 = (int8_t)s; break;
    case SHMKIT_TYPE_I16: out->i16 = (int16_t)s; break;
    case SHMKIT_TYPE_I32: out->i32 = (int32_t)s; break;
    default: out->i64 = s; break;
    }
    return 0;
}

static void shortest_float(char *buf, size_t size, double v, int single);

/* [P, END) is too large (OVERFLOW) or too small for FIELD's float type. */
static int float_range_error(const struct sk_layout_field *field, const char *p,
                             const char *end, int overflow)
{
    int single = field->type->type == SHMKIT_TYPE_F32;
    char q[SK_QUOTE_BUF], limit[40];

    if (overflow) {
        shortest_float(limit, sizeof limit, single ? FLT_MAX : DBL_MAX, single);
        return sk_fail(SHMKIT_ERANGE,
                       "field \"%s\": %s is out of range for %s: the largest magnitude is %s",
                       field->name, quote(q, p, (size_t)(end - p)), field->type->name, limit);
    }
    shortest_float(limit, sizeof limit, single ? FLT_TRUE_MIN : DBL_TRUE_MIN, single);
    return sk_fail(SHMKIT_ERANGE,
                   "field \"%s\": %s is out of range for %s: not 0 but would be stored as 0; "
                   "the smallest magnitude is %s",
                   field->name, quote(q, p, (size_t)(end - p)), field->type->name, limit);
}

/*
 * Whether the number [P, END), already checked by strtod, has a nonzero
 * significand: a nonzero digit before the exponent ("1e-999", "0x1p-9999",
 * but not "0e5" or "-0.0").  NaN and infinity never reach this question.
 */
static int has_nonzero_digit(const char *p, const char *end)
{
    int hex;

    if (p < end && (*p == '-' || *p == '+'))
        p++;
    hex = end - p > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
    if (hex)
        p += 2;
    for (; p < end; p++) {
        if (hex ? *p == 'p' || *p == 'P' : *p == 'e' || *p == 'E')
            break;
        if (*p != '0' && *p != '.')
            return 1;
    }
    return 0;
}

/*
 * A floating-point element [P, END) of FIELD into OUT.  strtof parses f32
 * directly, since rounding through double could round twice.
 *
 * Out of range, both ways: a value whose magnitude rounds to infinity
 * (overflow) or a nonzero value that rounds to zero (total underflow) is
 * an error, since storing either would silently store another number.
 * Values below the smallest normal number that round to a nonzero
 * subnormal are stored, with the precision subnormals have: every value
 * the formatter prints, subnormals included, must read back.  errno is
 * not consulted for underflow because C leaves it to the implementation
 * (glibc sets ERANGE for subnormal results too).
 */
static int encode_float(const struct sk_layout_field *field, const char *p,
                        const char *end, union sk_element *out)
{
    char *stop;
    int overflow, zero, saved = errno;

    /* P starts with no blank and END is followed by a blank, ',' or NUL,
     * where strtod stops in the "C" locale.  strtod reports overflow only
     * through errno; the caller's errno is put back, as no library call
     * may leave it 0 (POSIX). */
    errno = 0;
    if (field->type->type == SHMKIT_TYPE_F32) {
        out->f32 = strtof(p, &stop);
        overflow = errno == ERANGE && isinf(out->f32);
        zero = fpclassify(out->f32) == FP_ZERO;
    } else {
        out->f64 = strtod(p, &stop);
        overflow = errno == ERANGE && isinf(out->f64);
        zero = fpclassify(out->f64) == FP_ZERO;
    }
    errno = saved;
    if (stop != end)
        return value_error(field, p, end);
    if (overflow)
        return float_range_error(field, p, end, 1);
    if (zero && has_nonzero_digit(p, end))
        return float_range_error(field, p, end, 0);
    return 0;
}

/* Encode the numeric element [P, END), blanks around it allowed, into DST
 * (NULL: only validate). */
static int encode_element(const struct sk_layout_field *field, const char *p,
                          const char *end, unsigned char *dst)
{
    union sk_element element;
    int rc;

    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    if (p == end)
        return sk_fail(SHMKIT_EBADVALUE, "field \"%s\": empty value", field->name);
    if (field->type->cls == SK_FLOAT)
        rc = encode_float(field, p, end, &element);
    else
        rc = encode_integer(field, p, end, &element);
    if (rc == 0 && dst != NULL)
        memcpy(dst, &element, field->type->size);
    return rc;
}

static int encode_text(const struct sk_layout_field *field, const char *value,
                       unsigned char *dst)
{
    size_t len = strlen(value);

    if (len >= field->count)
        return sk_fail(SHMKIT_ETOOLONG,
                       "field \"%s\": text too long: %zu bytes, char[%zu] holds at most %zu",
                       field->name, len, field->count, field->count - 1);
    if (dst != NULL) {
        memcpy(dst, value, len);
        memset(dst + len, 0, field->count - len);
    }
    return 0;
}

/*
 * Encode VALUE into FIELD at DST, or only validate it when DST is NULL.
 * Callers validate first so that a record is never left half-updated.
 */
static int encode_field(const struct sk_layout_field *field, const char *value,
                        unsigned char *dst)
{
    size_t elem_size = field->type->size, n = 0, given;
    const char *p;
    int rc;

    if (field->type->cls == SK_TEXT)
        return encode_text(field, value, dst);
    if (!field->is_array) {
        return encode_element(field, value, value + strlen(value), dst);
    }
    given = 1;
    for (p = value; (p = strchr(p, ',')) != NULL; p++)
        given++;
    if (given > field->count)
        return sk_fail(SHMKIT_ETOOLONG,
                       "field \"%s\": too many elements: %zu given, %s[%zu] holds %zu",
                       field->name, given, field->type->name, field->count, field->count);
    for (p = value;;) {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);

        rc = encode_element(field, p, end, dst ? dst + n * elem_size : NULL);
        if (rc < 0)
            return rc;
        n++;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    if (dst != NULL)
        memset(dst + n * elem_size, 0, (field->count - n) * elem_size);
    return 0;
}

static int set_field(const shmkit_layout *layout, void *record, size_t index,
                     const char *value)
{
    const struct sk_layout_field *field = &layout->fields[index];
    int rc = encode_field(field, value, NULL);

    if (rc < 0)
        return rc;
    return encode_field(field, value, (unsigned char *)record + field->offset);
}

SHMKIT_API int shmkit_layout_set(const shmkit_layout *layout, void *record,
                                 const char *name, const char *value)
{
    int index;

    sk_clear_detail();
    if (layout == NULL || record == NULL || name == NULL || value == NULL)
        return sk_fail(-EINVAL, "missing layout, record, name or value");
    index = find_field(layout, name, strlen(name));
    if (index < 0)
        return index;
    return set_field(layout, record, (size_t)index, value);
}

SHMKIT_API int shmkit_layout_assign(const shmkit_layout *layout, void *record,
                                    const char *assignment)
{
    const char *equals;
    char q[SK_QUOTE_BUF];
    int index;

    sk_clear_detail();
    if (layout == NULL || record == NULL || assignment == NULL)
        return sk_fail(-EINVAL, "missing layout, record or assignment");
    equals = strchr(assignment, '=');
    if (equals == NULL)
        return sk_fail(SHMKIT_EBADVALUE, "\"%s\": expected name=value",
                       quote(q, assignment, strlen(assignment)));
    index = find_field(layout, assignment, (size_t)(equals - assignment));
    if (index < 0)
        return index;
    return set_field(layout, record, (size_t)index, equals + 1);
}

/* ------------------------------------------------------------------ */
/* Decoding records into text                                          */
/* ------------------------------------------------------------------ */

/* An output buffer with snprintf semantics: LEN counts every byte
 * produced, at most CAP - 1 of them are stored. */
struct sk_out {
    char *buf;
    size_t cap;
    size_t len;
};

static void out_mem(struct sk_out *o, const char *s, size_t n)
{
    size_t room = o->cap > 0 && o->len < o->cap - 1 ? o->cap - 1 - o->len : 0;

    if (room > 0)
        memcpy(o->buf + o->len, s, n < room ? n : room);
    /* Saturate rather than wrap; out_finish reports anything this long. */
    o->len = n > SIZE_MAX - o->len ? SIZE_MAX : o->len + n;
}

static void out_str(struct sk_out *o, const char *s)
{
    out_mem(o, s, strlen(s));
}

static void out_char(struct sk_out *o, char c)
{
    out_mem(o, &c, 1);
}

static int out_finish(struct sk_out *o)
{
    if (o->cap > 0)
        o->buf[o->len < o->cap - 1 ? o->len : o->cap - 1] = '\0';
    if (o->len > INT_MAX)
        return sk_fail(-EOVERFLOW, "formatted record longer than %d bytes", INT_MAX);
    return (int)o->len;
}

/*
 * The shortest "%.Ng" form of V that reads back as exactly V: 21.5 prints
 * as "21.5", not "21.500000" or "21.499999999999999".  SINGLE selects f32,
 * which needs at most 9 significant digits (FLT_DECIMAL_DIG); f64 at most
 * 17 (DBL_DECIMAL_DIG).
 */
static void shortest_g(char *buf, size_t size, double v, int single)
{
    int digits, max = single ? FLT_DECIMAL_DIG : DBL_DECIMAL_DIG;

    for (digits = 1; digits <= max; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (single ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v)
            return;
    }
}

/*
 * Like shortest_g, but whole numbers below 1e16 print without an exponent:
 * "%g" turns 100 into "1e+02" once one digit suffices.  The digits of the
 * shortest form are padded with zeros, which keeps the same decimal value
 * (so it still reads back exactly) and adds no noise digits to f32 values.
 */
static void shortest_float(char *buf, size_t size, double v, int single)
{
    char *e, *p, digits[32];
    size_t n = 0;
    long exponent;

    shortest_g(buf, size, v, single);
    e = strchr(buf, 'e');
    if (e == NULL)
        return;
    exponent = strtol(e + 1, NULL, 10);
    if (exponent < 0 || exponent >= 16)
        return;
    for (p = buf; p < e; p++)
        if (*p != '.')
            digits[n++] = *p;
    /* The mantissa holds at most 17 digits and, since %g chose the
     * exponent form, fewer than exponent + 1 of them. */
    while (n < sizeof digits - 1 && n < (size_t)exponent + 1 + (buf[0] == '-'))
        digits[n++] = '0';
    digits[n] = '\0';
    snprintf(buf, size, "%s", digits);
}

static void format_float(struct sk_out *o, double v, int single, int json)
{
    char tmp[40];

    if (isnan(v))
        out_str(o, json ? "null" : "nan");
    else if (isinf(v))
        out_str(o, json ? "null" : v < 0 ? "-inf" : "inf");
    else {
        shortest_float(tmp, sizeof tmp, v, single);
        out_str(o, tmp);
    }
}

/* One numeric element of type T at SRC (possibly unaligned). */
static void format_element(struct sk_out *o, const struct sk_type_info *t,
                           const unsigned char *src, int json)
{
    union sk_element e;
    char tmp[32];

    memcpy(&e, src, t->size);
    switch (t->type) {
    case SHMKIT_TYPE_I8: snprintf(tmp, sizeof tmp, "%d", (int)e.i8); break;
    case SHMKIT_TYPE_U8: snprintf(tmp, sizeof tmp, "%u", (unsigned)e.u8); break;
    case SHMKIT_TYPE_I16: snprintf(tmp, sizeof tmp, "%d", (int)e.i16); break;
    case SHMKIT_TYPE_U16: snprintf(tmp, sizeof tmp, "%u", (unsigned)e.u16); break;
    case SHMKIT_TYPE_I32: snprintf(tmp, sizeof tmp, "%" PRId32, e.i32); break;
    case SHMKIT_TYPE_U32: snprintf(tmp, sizeof tmp, "%" PRIu32, e.u32); break;
    case SHMKIT_TYPE_I64: snprintf(tmp, sizeof tmp, "%" PRId64, e.i64); break;
    case SHMKIT_TYPE_U64: snprintf(tmp, sizeof tmp, "%" PRIu64, e.u64); break;
    case SHMKIT_TYPE_F32: format_float(o, e.f32, 1, json); return;
    default: format_float(o, e.f64, 0, json); return;
    }
    out_str(o, tmp);
}

/* Text mode: \\, \n, \t, and \xHH for other control and non-ASCII
 * bytes, so that each value stays on one printable line. */
static void escape_text_byte(struct sk_out *o, unsigned char c)
{
    char tmp[8];

    switch (c) {
    case '\\': out_str(o, "\\\\"); return;
    case '\n': out_str(o, "\\n"); return;
    case '\t': out_str(o, "\\t"); return;
    }
    if (c < 0x20 || c >= 0x7f) {
        snprintf(tmp, sizeof tmp, "\\x%02x", (unsigned)c);
        out_str(o, tmp);
    } else {
        out_char(o, (char)c);
    }
}

/* JSON (RFC 8259): \" \\ and the short control escapes; every other
 * control byte, DEL and every byte that is not part of well-formed UTF-8
 * as \u00XX (the byte read as Latin-1). */
static void escape_json_byte(struct sk_out *o, unsigned char c)
{
    char tmp[8];

    switch (c) {
    case '"': out_str(o, "\\\""); return;
    case '\\': out_str(o, "\\\\"); return;
    case '\n': out_str(o, "\\n"); return;
    case '\t': out_str(o, "\\t"); return;
    case '\r': out_str(o, "\\r"); return;
    case '\b': out_str(o, "\\b"); return;
    case '\f': out_str(o, "\\f"); return;
    }
    if (c < 0x20 || c >= 0x7f) {
        snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)c);
        out_str(o, tmp);
    } else {
        out_char(o, (char)c);
    }
}

/*
 * The length of the well-formed UTF-8 sequence (RFC 3629) at S, which has
 * N > 0 bytes left, or 0 if none starts there: a continuation byte, C0, C1
 * or F5..FF, an overlong form, a surrogate (U+D800..DFFF), a code point
 * above U+10FFFF, or a sequence that N cuts short.
 */
static size_t utf8_length(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf; /* bounds of byte 2 */
    size_t len, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (c == 0xe0)
        lo = 0xa0;      /* below: overlong */
    else if (c == 0xed)
        hi = 0x9f;      /* above: surrogates */
    else if (c == 0xf0)
        lo = 0x90;      /* below: overlong */
    else if (c == 0xf4)
        hi = 0x8f;      /* above: beyond U+10FFFF */
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

/*
 * A well-formed multi-byte sequence of LEN bytes at S: as it is, except
 * the C1 controls U+0080..U+009F (a terminal may act on them) and U+2028,
 * U+2029 (line breaks to JavaScript and to some line-oriented tools),
 * which are escaped.
 */
static void put_json_sequence(struct sk_out *o, const unsigned char *s, size_t len)
{
    char tmp[8];

    if (len == 2 && s[0] == 0xc2 && s[1] <= 0x9f) {
        snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)s[1]);
        out_str(o, tmp);
    } else if (len == 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
        out_str(o, s[2] == 0xa8 ? "\\u2028" : "\\u2029");
    } else {
        out_mem(o, (const char *)s, len);
    }
}

/* The LEN bytes at S as the characters of a JSON string: UTF-8 as it is
 * (the output is UTF-8, as RFC 8259 requires), anything else escaped byte
 * by byte, so that the output is valid JSON whatever the bytes. */
static void format_json_text(struct sk_out *o, const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t k = utf8_length(s + i, len - i);

        if (k <= 1) {
            escape_json_byte(o, s[i]);  /* ASCII, or a byte of no sequence */
            i++;
        } else {
            put_json_sequence(o, s + i, k);
            i += k;
        }
    }
}

/* Text of N bytes at S, up to the first NUL and never beyond N (the record
 * is untrusted and may lack the NUL). */
static void format_text(struct sk_out *o, const unsigned char *s, size_t n, int json)
{
    const unsigned char *nul = memchr(s, '\0', n);
    size_t i, len = nul ? (size_t)(nul - s) : n;

    if (json) {
        out_char(o, '"');
        format_json_text(o, s, len);
        out_char(o, '"');
        return;
    }
    for (i = 0; i < len; i++)
        escape_text_byte(o, s[i]);
}

static void format_field(struct sk_out *o, const struct sk_layout_field *field,
                         const void *record, int json)
{
    const unsigned char *src = (const unsigned char *)record + field->offset;
    size_t i;

    if (field->type->cls == SK_TEXT) {
        format_text(o, src, field->count, json);
        return;
    }
    if (!field->is_array) {
        format_element(o, field->type, src, json);
        return;
    }
    if (json)
        out_char(o, '[');
    for (i = 0; i < field->count; i++) {
        if (i > 0)
            out_char(o, ',');
        format_element(o, field->type, src + i * field->type->size, json);
    }
    if (json)
        out_char(o, ']');
}

SHMKIT_API int shmkit_layout_format(const shmkit_layout *layout, const void *record,
                                   size_t index, char *buf, size_t len)
{
    struct sk_out o = { buf, buf ? len : 0, 0 };

    sk_clear_detail();
    if (layout == NULL || record == NULL || index >= layout->nfields)
        return sk_fail(-EINVAL, "no layout, no record or no field number %zu", index);
    if (buf == NULL && len != 0)
        return sk_null_arg("buf");
    format_field(&o, &layout->fields[index], record, 0);
    return out_finish(&o);
}

SHMKIT_API int shmkit_layout_to_text(const shmkit_layout *layout, const void *record,
                                     char *buf, size_t len)
{
    struct sk_out o = { buf, buf ? len : 0, 0 };
    size_t i;

    sk_clear_detail();
    if (layout == NULL || record == NULL)
        return sk_fail(-EINVAL, "no layout or no record");
    if (buf == NULL && len != 0)
        return sk_null_arg("buf");
    for (i = 0; i < layout->nfields; i++) {
        out_str(&o, layout->fields[i].name);
        out_char(&o, '=');
        format_field(&o, &layout->fields[i], record, 0);
        out_char(&o, '\n');
    }
    return out_finish(&o);
}

SHMKIT_API int shmkit_layout_to_json(const shmkit_layout *layout, const void *record,
                                     char *buf, size_t len)
{
    struct sk_out o = { buf, buf ? len : 0, 0 };
    size_t i;

    sk_clear_detail();
    if (layout == NULL || record == NULL)
        return sk_fail(-EINVAL, "no layout or no record");
    if (buf == NULL && len != 0)
        return sk_null_arg("buf");
    out_char(&o, '{');
    for (i = 0; i < layout->nfields; i++) {
        if (i > 0)
            out_char(&o, ',');
        /* Names are [A-Za-z0-9_]: nothing to escape. */
        out_char(&o, '"');
        out_str(&o, layout->fields[i].name);
        out_str(&o, "\":");
        format_field(&o, &layout->fields[i], record, 1);
    }
    out_char(&o, '}');
    return out_finish(&o);
}
