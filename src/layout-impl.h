/*
 * layout-impl.h - the layout object and what layout.c (parsing),
 * layout-assign.c (text values into records) and layout-format.c
 * (records into text and JSON) share.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_LAYOUT_IMPL_H
#define SHMKIT_LAYOUT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "escape.h"
#include "error.h"
#include "shmkit.h"

enum sk_class { SK_SIGNED, SK_UNSIGNED, SK_FLOAT, SK_TEXT };

struct sk_type_info {
    const char *name;
    int type;          /* enum shmkit_type */
    enum sk_class cls;
    size_t size;       /* bytes per element */
    size_t align;      /* natural alignment: the element size */
    unsigned bits;     /* integers: width */
};

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

/* One element of any numeric type; its first `size` bytes are the
 * element's native representation. */
union sk_element {
    int8_t i8; uint8_t u8; int16_t i16; uint16_t u16;
    int32_t i32; uint32_t u32; int64_t i64; uint64_t u64;
    float f32; double f64;
};

/*
 * The printable form of [S, S+N) (escape.h) in BUF, for an error detail,
 * cut with "..." after about 40 characters so that one long value cannot
 * crowd the rest of the detail out.
 */
#define SK_QUOTE_BUF 48

static inline const char *quote(char *buf, const char *s, size_t n)
{
    return shmkit__escape(buf, SK_QUOTE_BUF, s, n);
}

/* Index of the field named [NAME, NAME+LEN), or SHMKIT_ENOFIELD. */
int shmkit__layout_find_field(const shmkit_layout *layout, const char *name, size_t len);

/* The shortest text of V that reads back as exactly V (SINGLE: as an
 * f32), in BUF of SIZE bytes (layout-format.c). */
void shmkit__layout_shortest_float(char *buf, size_t size, double v, int single);

#endif /* SHMKIT_LAYOUT_IMPL_H */
