/*
 * layout-assign.c - storing "name=value" text into records (layout.c
 * has the language; numbers follow the "C" numeric locale).
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

#include "layout-impl.h"

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
        return shmkit__fail(SHMKIT_ERANGE,
                            "field \"%s\": %s is out of range for %s (-%" PRIu64 "..%" PRIu64 ")",
                            field->name, quote(q, p, (size_t)(end - p)), t->name, half, half - 1);
    if (t->cls == SK_UNSIGNED)
        return shmkit__fail(SHMKIT_ERANGE,
                            "field \"%s\": %s is out of range for %s (0..%" PRIu64 ")",
                            field->name, quote(q, p, (size_t)(end - p)), t->name,
                            half - 1 + half);
    return shmkit__fail(SHMKIT_ERANGE, "field \"%s\": %s is out of range for %s",
                        field->name, quote(q, p, (size_t)(end - p)), t->name);
}

static int value_error(const struct sk_layout_field *field, const char *p, const char *end)
{
    char q[SK_QUOTE_BUF], label[40];

    return shmkit__fail(SHMKIT_EBADVALUE, "field \"%s\": \"%s\" is not a valid %s",
                        field->name, quote(q, p, (size_t)(end - p)),
                        type_label(label, sizeof label, field));
}

/* V as an element of integer type T: its low bytes, which are also the
 * two's complement form of a signed value (C11 7.20.1.1). */
static void store_integer(const struct sk_type_info *t, uint64_t v, union sk_element *out)
{
    switch (t->size) {
    case 1: out->u8 = (uint8_t)v; break;
    case 2: out->u16 = (uint16_t)v; break;
    case 4: out->u32 = (uint32_t)v; break;
    default: out->u64 = v; break;
    }
}

/* An integer element [P, END) of FIELD into OUT, range-checked. */
static int encode_integer(const struct sk_layout_field *field, const char *p,
                          const char *end, union sk_element *out)
{
    const struct sk_type_info *t = field->type;
    uint64_t magnitude, half = (uint64_t)1 << (t->bits - 1);
    int negative, rc = parse_integer(p, end, &negative, &magnitude);

    if (rc < 0)
        return value_error(field, p, end);
    if (rc > 0)
        return range_error(field, p, end);
    if (t->cls == SK_UNSIGNED) {
        if ((negative && magnitude != 0) || magnitude > half - 1 + half)
            return range_error(field, p, end);
        store_integer(t, magnitude, out);
        return 0;
    }
    if (magnitude > (negative ? half : half - 1))
        return range_error(field, p, end);
    /* Unsigned arithmetic wraps: 0 - magnitude is -magnitude in two's
     * complement, down to the most negative value. */
    store_integer(t, negative ? (uint64_t)0 - magnitude : magnitude, out);
    return 0;
}

/* [P, END) is too large (OVERFLOW) or too small for FIELD's float type. */
static int float_range_error(const struct sk_layout_field *field, const char *p,
                             const char *end, int overflow)
{
    int single = field->type->type == SHMKIT_TYPE_F32;
    char q[SK_QUOTE_BUF], limit[40];

    if (overflow) {
        shmkit__layout_shortest_float(limit, sizeof limit, single ? FLT_MAX : DBL_MAX, single);
        return shmkit__fail(SHMKIT_ERANGE,
                            "field \"%s\": %s is out of range for %s: the largest magnitude is %s",
                            field->name, quote(q, p, (size_t)(end - p)), field->type->name, limit);
    }
    shmkit__layout_shortest_float(limit, sizeof limit, single ? FLT_TRUE_MIN : DBL_TRUE_MIN,
                                  single);
    return shmkit__fail(SHMKIT_ERANGE,
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
        return shmkit__fail(SHMKIT_EBADVALUE, "field \"%s\": empty value", field->name);
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
        return shmkit__fail(SHMKIT_ETOOLONG,
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
        return shmkit__fail(SHMKIT_ETOOLONG,
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

    shmkit__clear_detail();
    if (layout == NULL || record == NULL || name == NULL || value == NULL)
        return shmkit__fail(-EINVAL, "missing layout, record, name or value");
    index = shmkit__layout_find_field(layout, name, strlen(name));
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

    shmkit__clear_detail();
    if (layout == NULL || record == NULL || assignment == NULL)
        return shmkit__fail(-EINVAL, "missing layout, record or assignment");
    equals = strchr(assignment, '=');
    if (equals == NULL)
        return shmkit__fail(SHMKIT_EBADVALUE, "\"%s\": expected name=value",
                            quote(q, assignment, strlen(assignment)));
    index = shmkit__layout_find_field(layout, assignment, (size_t)(equals - assignment));
    if (index < 0)
        return index;
    return set_field(layout, record, (size_t)index, equals + 1);
}
