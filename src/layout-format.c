/*
 * layout-format.c - printing records as text or JSON (layout.c has
 * the language; numbers follow the "C" numeric locale).
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
        return shmkit__fail(-EOVERFLOW, "formatted record longer than %d bytes", INT_MAX);
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
void shmkit__layout_shortest_float(char *buf, size_t size, double v, int single)
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
        shmkit__layout_shortest_float(tmp, sizeof tmp, v, single);
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

/* One byte of a text field, escaped so that the value stays on one
 * printable line (text) or in one JSON string (RFC 8259).  Text: \\, \n,
 * \t, and \xHH for other control and non-ASCII bytes.  JSON: \" \\ and
 * the short control escapes, and \u00XX for every other control byte, DEL
 * and every byte that is not part of well-formed UTF-8 (the byte read as
 * Latin-1). */
static void escape_byte(struct sk_out *o, unsigned char c, int json)
{
    /* Pairs: a byte, and the letter of its two-character escape. */
    const char *pair = json ? "\"\"\\\\\nn\tt\rr\bb\ff" : "\\\\\nn\tt";
    char tmp[8];

    for (; *pair != '\0'; pair += 2) {
        if ((unsigned char)pair[0] == c) {
            char escape[3] = { '\\', pair[1], '\0' };

            out_str(o, escape);
            return;
        }
    }
    if (c < 0x20 || c >= 0x7f) {
        snprintf(tmp, sizeof tmp, json ? "\\u%04x" : "\\x%02x", (unsigned)c);
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
            escape_byte(o, s[i], 1); /* ASCII, or a byte of no sequence */
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
        escape_byte(o, s[i], 0);
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

    shmkit__clear_detail();
    if (layout == NULL || record == NULL || index >= layout->nfields)
        return shmkit__fail(-EINVAL, "no layout, no record or no field number %zu", index);
    if (buf == NULL && len != 0)
        return shmkit__null_arg("buf");
    format_field(&o, &layout->fields[index], record, 0);
    return out_finish(&o);
}

/* A record as text: one "name=value" line per field. */
static void put_text_record(struct sk_out *o, const shmkit_layout *layout, const void *record)
{
    size_t i;

    for (i = 0; i < layout->nfields; i++) {
        out_str(o, layout->fields[i].name);
        out_char(o, '=');
        format_field(o, &layout->fields[i], record, 0);
        out_char(o, '\n');
    }
}

/* A record as one JSON object. */
static void put_json_record(struct sk_out *o, const shmkit_layout *layout, const void *record)
{
    size_t i;

    out_char(o, '{');
    for (i = 0; i < layout->nfields; i++) {
        if (i > 0)
            out_char(o, ',');
        /* Names are [A-Za-z0-9_]: nothing to escape. */
        out_char(o, '"');
        out_str(o, layout->fields[i].name);
        out_str(o, "\":");
        format_field(o, &layout->fields[i], record, 1);
    }
    out_char(o, '}');
}

/* The whole of shmkit_layout_to_text and _to_json: PUT writes the record. */
static int format_record(const shmkit_layout *layout, const void *record, char *buf, size_t len,
                         void (*put)(struct sk_out *, const shmkit_layout *, const void *))
{
    struct sk_out o = { buf, buf ? len : 0, 0 };

    shmkit__clear_detail();
    if (layout == NULL || record == NULL)
        return shmkit__fail(-EINVAL, "no layout or no record");
    if (buf == NULL && len != 0)
        return shmkit__null_arg("buf");
    put(&o, layout, record);
    return out_finish(&o);
}

SHMKIT_API int shmkit_layout_to_text(const shmkit_layout *layout, const void *record,
                                     char *buf, size_t len)
{
    return format_record(layout, record, buf, len, put_text_record);
}

SHMKIT_API int shmkit_layout_to_json(const shmkit_layout *layout, const void *record,
                                     char *buf, size_t len)
{
    return format_record(layout, record, buf, len, put_json_record);
}

