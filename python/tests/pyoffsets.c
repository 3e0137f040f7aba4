/*
 * pyoffsets - print, as JSON, the offsetof and sizeof of a few C structs
 * and the shmkit layout text of each, so that the Python tests can check
 * that shmkit.Slot.dtype places every field where the C compiler does.
 *
 * Output: [{"name": ..., "layout": ..., "size": N, "align": N,
 *           "fields": [{"name": ..., "offset": N, "size": N}, ...]}, ...]
 *
 * Standard C only (no libshmkit): build with "cc -o pyoffsets pyoffsets.c".
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Padding everywhere: small, large, small. */
struct mixed {
    uint8_t a;
    uint32_t b;
    uint16_t c;
    uint64_t d;
    int8_t e;
    double f;
    int16_t g;
};

/* Arrays and text of odd lengths. */
struct arrays {
    uint8_t tag;
    int16_t pos[3];
    float vel[3];
    uint8_t flags[5];
    int64_t big[2];
    char name[7];
    uint32_t tail[1];
};

/* Text first, then a word, then short text. */
struct labels {
    char label[13];
    uint32_t id;
    char unit[3];
    char one[1];
};

/* The README's weather record. */
struct weather {
    uint32_t station;
    float temp_c;
    char name[16];
};

/* Descending sizes: no padding but the tail. */
struct descending {
    double j;
    uint64_t i;
    int64_t h;
    float g;
    uint32_t f;
    int32_t e;
    uint16_t d;
    int16_t c;
    uint8_t b;
    int8_t a;
};

/* Only bytes: alignment 1. */
struct u8only {
    uint8_t a;
    uint8_t b[3];
    int8_t c;
    char d[2];
};

#define FIELD(S, m) { #m, offsetof(struct S, m), sizeof(((struct S *)0)->m) }

struct field {
    const char *name;
    size_t offset, size;
};

struct record {
    const char *name, *layout;
    size_t size, align;
    const struct field *fields;
    size_t count;
};

static const struct field mixed_fields[] = {
    FIELD(mixed, a), FIELD(mixed, b), FIELD(mixed, c), FIELD(mixed, d),
    FIELD(mixed, e), FIELD(mixed, f), FIELD(mixed, g),
};
static const struct field arrays_fields[] = {
    FIELD(arrays, tag), FIELD(arrays, pos), FIELD(arrays, vel), FIELD(arrays, flags),
    FIELD(arrays, big), FIELD(arrays, name), FIELD(arrays, tail),
};
static const struct field labels_fields[] = {
    FIELD(labels, label), FIELD(labels, id), FIELD(labels, unit), FIELD(labels, one),
};
static const struct field weather_fields[] = {
    FIELD(weather, station), FIELD(weather, temp_c), FIELD(weather, name),
};
static const struct field descending_fields[] = {
    FIELD(descending, j), FIELD(descending, i), FIELD(descending, h), FIELD(descending, g),
    FIELD(descending, f), FIELD(descending, e), FIELD(descending, d), FIELD(descending, c),
    FIELD(descending, b), FIELD(descending, a),
};
static const struct field u8only_fields[] = {
    FIELD(u8only, a), FIELD(u8only, b), FIELD(u8only, c), FIELD(u8only, d),
};

#define RECORD(S, text) \
    { #S, text, sizeof(struct S), _Alignof(struct S), S##_fields, \
      sizeof S##_fields / sizeof S##_fields[0] }

static const struct record records[] = {
    RECORD(mixed, "a:u8 b:u32 c:u16 d:u64 e:i8 f:f64 g:i16"),
    RECORD(arrays, "tag:u8 pos:i16[3] vel:f32[3] flags:u8[5] big:i64[2] name:char[7] "
                   "tail:u32[1]"),
    RECORD(labels, "label:char[13] id:u32 unit:char[3] one:char[1]"),
    RECORD(weather, "station:u32 temp_c:f32 name:char[16]"),
    RECORD(descending, "j:f64 i:u64 h:i64 g:f32 f:u32 e:i32 d:u16 c:i16 b:u8 a:i8"),
    RECORD(u8only, "a:u8 b:u8[3] c:i8 d:char[2]"),
};

int main(void)
{
    size_t r, i, n = sizeof records / sizeof records[0];

    printf("[");
    for (r = 0; r < n; r++) {
        const struct record *rec = &records[r];
        printf("%s\n {\"name\": \"%s\", \"layout\": \"%s\", \"size\": %zu, \"align\": %zu, "
               "\"fields\": [", r ? "," : "", rec->name, rec->layout, rec->size, rec->align);
        for (i = 0; i < rec->count; i++)
            printf("%s{\"name\": \"%s\", \"offset\": %zu, \"size\": %zu}", i ? ", " : "",
                   rec->fields[i].name, rec->fields[i].offset, rec->fields[i].size);
        printf("]}");
    }
    printf("\n]\n");
    return ferror(stdout) ? 1 : 0;
}
