/*
 * weather.h - the record of the teaching demo, as a C struct and as the
 * equivalent shmkit layout.
 *
 * The same struct is exchanged by the raw System V programs (examples/raw/)
 * and by the libshmkit programs (examples/lib/).  Its fields have mixed
 * sizes on purpose, so that the compiler inserts padding; a shmkit layout
 * places fields with the same natural C alignment, so WEATHER_LAYOUT
 * describes this struct byte for byte and the command-line tools can read
 * and write what the C programs exchange:
 *
 *   offset  size  field
 *        0     4  station        u32
 *        4     4  temp_c         f32
 *        8     8  pressure_hpa   f64
 *       16     6  wind           i16[3]
 *       22    16  name           char[16]
 *       38     2  (padding, so that samples is 4-aligned)
 *       40     4  samples        u32
 *       44     4  (tail padding: the size is a multiple of 8, the
 *                  alignment of the double)
 *   size 48
 *
 * (Those are the numbers of the usual ABIs; on i386 a double inside a
 * struct is only 4-aligned.  The library example checks sizeof against the
 * layout's size at run time instead of assuming.)
 *
 * Copyright (c) 2026 The shmkit authors.
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef WEATHER_H
#define WEATHER_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct weather {
    uint32_t station;     /* station number */
    float temp_c;         /* air temperature, degrees Celsius */
    double pressure_hpa;  /* air pressure, hectopascal */
    int16_t wind[3];      /* wind vector east, north, up, in dm/s */
    char name[16];        /* station name, NUL-terminated */
    uint32_t samples;     /* measurements averaged into this record */
};

/* The same record in shmkit's layout language (canonical form: fields
 * separated by single spaces), field for field in declaration order. */
#define WEATHER_LAYOUT \
    "station:u32 temp_c:f32 pressure_hpa:f64 wind:i16[3] name:char[16] samples:u32"

/* Fill W with the demo's record: STATION, TEMP_C and NAME from the command
 * line, the other fields fixed.  NAME longer than 15 bytes is cut. */
static inline void weather_fill(struct weather *w, uint32_t station,
                                float temp_c, const char *name)
{
    /* memset first: the padding bytes go into shared memory too, and they
     * must not carry leftovers from this process's stack. */
    memset(w, 0, sizeof *w);
    w->station = station;
    w->temp_c = temp_c;
    w->pressure_hpa = 1013.25;
    w->wind[0] = 31;
    w->wind[1] = -12;
    w->wind[2] = 0;
    strncpy(w->name, name, sizeof w->name - 1);
    w->samples = 12;
}

/* Print X with the fewest significant digits that read back exactly, the
 * way shmkit-read does (21.5 prints as "21.5", not "21.500000"). */
static inline void weather_print_double(FILE *out, double x, int is_float)
{
    char buf[40];
    int digits;

    if (isnan(x) || isinf(x)) {   /* bytes from shared memory may be anything */
        fputs(isnan(x) ? "nan" : x < 0 ? "-inf" : "inf", out);
        return;
    }
    for (digits = 1; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, x);
        if (is_float ? strtof(buf, NULL) == (float)x : strtod(buf, NULL) == x)
            break;
    }
    fputs(buf, out);
}

/* Print one byte of text on one printable line, escaped like shmkit-read:
 * \\, \n, \t, and \xHH for other control and non-ASCII bytes. */
static inline void weather_print_text_byte(FILE *out, unsigned char c)
{
    if (c == '\\')
        fputs("\\\\", out);
    else if (c == '\n')
        fputs("\\n", out);
    else if (c == '\t')
        fputs("\\t", out);
    else if (c < 0x20 || c >= 0x7f)
        fprintf(out, "\\x%02x", c);
    else
        putc(c, out);
}

/* Print W as "field=value" lines, in the format of shmkit-read. */
static inline void weather_print(FILE *out, const struct weather *w)
{
    /* The name came from shared memory: never trust it to be terminated,
     * nor to be printable. */
    const char *end = memchr(w->name, '\0', sizeof w->name);
    size_t name_len = end ? (size_t)(end - w->name) : sizeof w->name;
    size_t i;

    fprintf(out, "station=%lu\n", (unsigned long)w->station);
    fputs("temp_c=", out);
    weather_print_double(out, w->temp_c, 1);
    fputs("\npressure_hpa=", out);
    weather_print_double(out, w->pressure_hpa, 0);
    fprintf(out, "\nwind=%d,%d,%d\n", w->wind[0], w->wind[1], w->wind[2]);
    fputs("name=", out);
    for (i = 0; i < name_len; i++)
        weather_print_text_byte(out, (unsigned char)w->name[i]);
    putc('\n', out);
    fprintf(out, "samples=%lu\n", (unsigned long)w->samples);
}

#endif /* WEATHER_H */
