/*
 * layout.c - the record layout language: types and parsing.
 * layout-assign.c stores text values into records, layout-format.c
 * prints records as text or JSON.
 *
 * A layout such as "id:u32 temp:f64 pos:i16[3] label:char[16]" names the
 * fields of a slot's record.  This file parses it and places the fields
 * the way the local C compiler places the members of the equivalent
 * struct.
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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout-impl.h"

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
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu: missing name before ':'", number);
    if (!is_name_start(name[0]))
        return shmkit__fail(SHMKIT_EBADLAYOUT,
                            "field %zu \"%s\": name must start with a letter or '_'",
                            number, quote(q, name, len));
    for (i = 1; i < len; i++)
        if (!is_name_char(name[i]))
            return shmkit__fail(SHMKIT_EBADLAYOUT,
                                "field %zu \"%s\": name may hold only letters, digits and '_'",
                                number, quote(q, name, len));
    if (len > SHMKIT_LAYOUT_MAX_NAME)
        return shmkit__fail(SHMKIT_EBADLAYOUT,
                            "field %zu \"%s\": name longer than %d characters",
                            number, quote(q, name, len), SHMKIT_LAYOUT_MAX_NAME);
    for (i = 0; i < layout->nfields; i++)
        if (strlen(layout->fields[i].name) == len
            && memcmp(layout->fields[i].name, name, len) == 0)
            return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": duplicate name",
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
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": missing ']'", number, name);
    if (close == p)
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": missing array length",
                            number, name);
    for (q = p; q < close; q++) {
        size_t digit;

        /* Quote just what is between the brackets, which is what could
         * not be read. */
        if (!is_digit(*q))
            return shmkit__fail(SHMKIT_EBADLAYOUT,
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
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": unexpected \"%s\" after ']'",
                            number, name, quote(buf, close + 1, (size_t)(end - close - 1)));
    if (too_large)
        return shmkit__fail(SHMKIT_EBADLAYOUT,
                            "field %zu \"%s\": array length %s makes the record larger "
                            "than %u bytes", number, name,
                            quote(buf, p, (size_t)(close - p)), SHMKIT_RECORD_MAX);
    if (n == 0)
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": array length must be at least 1",
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
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": missing type after ':'",
                            number, field->name);
    field->type = type_by_name(p, (size_t)(type_end - p));
    if (field->type == NULL)
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": unknown type \"%s\"",
                            number, field->name, quote(q, p, (size_t)(type_end - p)));
    field->count = 1;
    field->is_array = type_end < end && field->type->cls != SK_TEXT;
    if (type_end == end) {
        if (field->type->cls == SK_TEXT)
            return shmkit__fail(SHMKIT_EBADLAYOUT,
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
        return shmkit__fail(SHMKIT_EBADLAYOUT,
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
        return shmkit__fail(SHMKIT_EBADLAYOUT, "more than %d fields", SHMKIT_LAYOUT_MAX_FIELDS);
    colon = memchr(p, ':', (size_t)(end - p));
    if (colon == NULL)
        return shmkit__fail(SHMKIT_EBADLAYOUT, "field %zu \"%s\": expected name:type",
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
        return shmkit__fail(SHMKIT_EBADLAYOUT,
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
        return shmkit__fail(SHMKIT_EBADLAYOUT, "empty layout: no fields");
    /* Trailing padding, as a C compiler adds it so that arrays of the
     * struct keep every member aligned. */
    layout->size = round_up(layout->size, layout->align);
    if (layout->size > SHMKIT_RECORD_MAX)
        return shmkit__fail(SHMKIT_EBADLAYOUT, "record larger than %u bytes", SHMKIT_RECORD_MAX);
    return 0;
}

SHMKIT_API int shmkit_layout_parse(shmkit_layout **layoutp, const char *text)
{
    shmkit_layout *layout;
    int rc;

    shmkit__clear_detail();
    if (layoutp == NULL)
        return shmkit__fail(-EINVAL, "no place to store the layout");
    *layoutp = NULL;
    if (text == NULL)
        return shmkit__null_arg("text");
    layout = calloc(1, sizeof *layout);
    if (layout == NULL)
        return shmkit__fail(-ENOMEM, "cannot allocate a layout");
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

    shmkit__clear_detail();
    if (layout == NULL || field == NULL || index >= layout->nfields)
        return shmkit__fail(-EINVAL, "no field number %zu", index);
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
int shmkit__layout_find_field(const shmkit_layout *layout, const char *name, size_t len)
{
    char q[SK_QUOTE_BUF];
    size_t i;

    for (i = 0; i < layout->nfields; i++)
        if (strlen(layout->fields[i].name) == len
            && memcmp(layout->fields[i].name, name, len) == 0)
            return (int)i;
    return shmkit__fail(SHMKIT_ENOFIELD, "no field \"%s\"", quote(q, name, len));
}

SHMKIT_API int shmkit_layout_find(const shmkit_layout *layout, const char *name)
{
    shmkit__clear_detail();
    if (layout == NULL || name == NULL)
        return shmkit__fail(-EINVAL, "no layout or no name");
    return shmkit__layout_find_field(layout, name, strlen(name));
}
