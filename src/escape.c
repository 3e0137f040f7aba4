/*
 * escape.c - printable text for messages (see escape.h).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "escape.h"

#include <string.h>

/* Longest escape of one byte ("\xHH") plus its NUL. */
#define SK_ESCAPE_BYTE_MAX 5

/* The printable form of byte C in OUT; its length (1, 2 or 4). */
static size_t escape_byte(unsigned char c, char out[SK_ESCAPE_BYTE_MAX])
{
    static const char hex[] = "0123456789abcdef";
    char letter = c == '\n' ? 'n' : c == '\t' ? 't' : c == '\r' ? 'r' : 0;

    if (letter != 0) {
        out[0] = '\\', out[1] = letter, out[2] = '\0';
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c, out[1] = '\0';
        return 1;
    }
    out[0] = '\\', out[1] = 'x', out[2] = hex[c >> 4], out[3] = hex[c & 0xf];
    out[4] = '\0';
    return 4;
}

const char *shmkit__escape(char *buf, size_t size, const char *s, size_t n)
{
    size_t i, len = 0;

    for (i = 0; i < n; i++) {
        char piece[SK_ESCAPE_BYTE_MAX];
        size_t k = escape_byte((unsigned char)s[i], piece);
        /* Keep room for "..." and the NUL unless this is the last byte. */
        size_t reserve = i + 1 < n ? 4 : 1;

        if (len + k + reserve > size) {
            memcpy(buf + len, "...", 4);
            return buf;
        }
        memcpy(buf + len, piece, k);
        len += k;
    }
    buf[len] = '\0';
    return buf;
}
