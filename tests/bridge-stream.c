/*
 * bridge-stream.c - the traffic of the shmkit-bridge tests (tests/bridge-*.sh),
 * over the public API only.  Not installed.
 *
 *   bridge-stream produce [--rate N] [--timeout S] SPEC COUNT [SIZE]
 *       Send COUNT numbered, checksummed messages into the existing ring
 *       SPEC (opened as its writer), SIZE bytes each (at least 12) or, without
 *       SIZE, of varying sizes (12 .. 300 bytes, never above the ring's
 *       largest message).  --rate N: at most N messages per second, so that
 *       a test can cut the link or kill a bridge mid-stream.
 *   bridge-stream verify [--timeout S] [--linger MS] [--same-seq] SPEC COUNT
 *       Consume the block ring SPEC (waiting for it to appear) and check that
 *       the messages numbered 0 .. COUNT-1 arrive exactly once, in order, with
 *       good checksums; then that nothing more arrives within --linger MS
 *       (default 300).  --same-seq: each message's ring sequence number must
 *       equal its payload number (the receiver's ring keeps the sender's
 *       numbering).  Prints the first anomaly: gap, duplicate, reorder, bad
 *       checksum or length, extra message.
 *   bridge-stream count-overwrite [--timeout S] [--idle MS] SPEC COUNT
 *       Read the overwrite ring SPEC from its oldest message until message
 *       COUNT-1 arrives, or nothing arrived for --idle MS (default 3000) after
 *       the first message.  Prints "received R lost L ring-lost K tail T":
 *       L counts the numbers missing from 0 .. COUNT-1 (gaps between payload
 *       numbers, before the first and after the last), K what
 *       shmkit_ring_lost says this reader itself missed, T the numbers
 *       missing after the last one received.  Fails on a duplicate, a
 *       reorder or a bad checksum, if R + L != COUNT or if K > L.
 *   bridge-stream slot-produce [--rate N] [--first N] SPEC LAST
 *       Create (or open as writer) the slot SPEC with the layout
 *       "n:u64 x:f64 tag:char[16]" and publish n = FIRST (default 1) .. LAST,
 *       x = n / 4, tag = "v<n>".
 *   bridge-stream slot-last [--timeout S] SPEC EXPECTED
 *       Wait for the slot SPEC (layout as above) to show n = EXPECTED.  Fails
 *       if n ever goes backwards, goes past EXPECTED, or a record is
 *       inconsistent (x != n / 4, tag != "v<n>").  Prints "n N version V".
 *
 * verify, count-overwrite and slot-last take --ready FILE: FILE is created
 * once the segment is open (so that a test starts the traffic after it).
 *
 * A message: u64 number (little-endian), u32 checksum (FNV-1a over the
 * number's 8 bytes and the filler), filler bytes derived from the number.
 * Exit status: 0 ok, 1 an anomaly (or a library error), 2 usage, 4 timed
 * out (what arrived so far is printed).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <shmkit.h>

#define HEAD 12u                 /* number + checksum */
#define VARYING_MAX 300u         /* largest message without SIZE */
#define SLOT_LAYOUT "n:u64 x:f64 tag:char[16]"

static const char *prog = "bridge-stream";

struct opts {
    double rate;      /* messages per second, 0 = unpaced */
    double timeout;   /* seconds */
    long linger_ms;
    long idle_ms;
    int same_seq;
    double first;       /* slot-produce: the first n */
    const char *ready;  /* a file to create once the segment is open */
};

/* Tell the test that the segment is open (--ready FILE). */
static void ready(const struct opts *o)
{
    FILE *f;

    if (o->ready != NULL && (f = fopen(o->ready, "w")) != NULL)
        fclose(f);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(double seconds)
{
    struct timespec ts;

    if (seconds <= 0)
        return;
    ts.tv_sec = (time_t)seconds;
    ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Milliseconds left until DEADLINE, at least 1. */
static int left_ms(double deadline)
{
    double left = (deadline - now()) * 1000.0;

    return left < 1.0 ? 1 : left > 1e9 ? 1000000000 : (int)left;
}

static void put64(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t checksum(const unsigned char *msg, size_t len)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < len; i++) {
        if (i >= 8 && i < HEAD)
            continue;
        h = (h ^ msg[i]) * 16777619u;
    }
    return h;
}

static size_t message_size(uint64_t number, size_t size, size_t max)
{
    size_t top = max < VARYING_MAX ? max : VARYING_MAX;

    if (size != 0)
        return size;
    return HEAD + (size_t)((number * 37u) % (top - HEAD + 1));
}

static void make_message(unsigned char *msg, uint64_t number, size_t len)
{
    uint32_t sum;
    size_t i;

    put64(msg, number);
    for (i = HEAD; i < len; i++)
        msg[i] = (unsigned char)(number * 131u + i * 7u + (number >> 8));
    sum = checksum(msg, len);
    for (i = 0; i < 4; i++)
        msg[8 + i] = (unsigned char)(sum >> (8 * i));
}

/* 0 if MSG (LEN bytes) is a good message; its number in *NUMBER when LEN
 * allows. */
static int check_message(const unsigned char *msg, size_t len, uint64_t *number)
{
    uint32_t sum = 0;
    size_t i;

    if (len < HEAD)
        return -1;
    *number = get64(msg);
    for (i = 0; i < 4; i++)
        sum |= (uint32_t)msg[8 + i] << (8 * i);
    return sum == checksum(msg, len) ? 0 : -1;
}

static int fail(const char *what, int code)
{
    fprintf(stderr, "%s: %s: %s%s%s\n", prog, what, shmkit_strerror(code),
            *shmkit_error_detail() ? ": " : "", shmkit_error_detail());
    return 1;
}

/* Open the ring SPEC with FLAGS, waiting until DEADLINE for it to exist
 * (the receiving bridge creates it). */
static int open_ring(shmkit_ring **ring, const char *spec, unsigned flags, double deadline)
{
    int rc;

    for (;;) {
        rc = shmkit_ring_open(ring, spec, flags);
        if (rc == 0)
            return 0;
        if ((rc != -ENOENT && rc != SHMKIT_EHALFCREATED) || now() > deadline)
            break;
        nap(0.01);
    }
    if (rc == -ENOENT || rc == SHMKIT_EHALFCREATED) {
        fprintf(stderr, "%s: %s: timed out waiting for the ring to appear\n", prog, spec);
        exit(4);
    }
    fail(spec, rc);
    exit(1);
}

static int produce(const struct opts *o, const char *spec, uint64_t count, size_t size)
{
    shmkit_ring *ring;
    unsigned char *msg;
    double start, deadline;
    uint64_t i;
    size_t max;
    int rc;

    rc = shmkit_ring_open(&ring, spec, SHMKIT_WRITE);
    if (rc != 0)
        return fail(spec, rc);
    max = shmkit_ring_max_message(ring);
    if (size > max || (size != 0 && size < HEAD) || max < HEAD) {
        fprintf(stderr, "%s: %s: size %zu: must be %u .. %zu\n", prog, spec, size, HEAD, max);
        shmkit_ring_close(ring);
        return 2;
    }
    msg = malloc(max);
    if (msg == NULL)
        return 1;
    start = now();
    deadline = start + o->timeout;
    for (i = 0; i < count; i++) {
        size_t len = message_size(i, size, max);

        if (o->rate > 0)
            nap(start + (double)i / o->rate - now());
        make_message(msg, i, len);
        rc = shmkit_ring_send(ring, msg, len, left_ms(deadline));
        if (rc == -ETIMEDOUT) {
            fprintf(stderr, "%s: %s: timed out sending message %llu of %llu\n", prog, spec,
                    (unsigned long long)i, (unsigned long long)count);
            free(msg);
            shmkit_ring_close(ring);
            return 4;
        }
        if (rc != 0) {
            free(msg);
            shmkit_ring_close(ring);
            return fail(spec, rc);
        }
    }
    printf("sent %llu\n", (unsigned long long)count);
    free(msg);
    shmkit_ring_close(ring);
    return 0;
}

static int verify(const struct opts *o, const char *spec, uint64_t count)
{
    double deadline = now() + o->timeout;
    shmkit_ring *ring;
    unsigned char *msg;
    uint64_t expected = 0, number;
    size_t max;
    int rc, status = 0;

    open_ring(&ring, spec, 0, deadline);
    ready(o);
    max = shmkit_ring_max_message(ring);
    msg = malloc(max ? max : 1);
    if (msg == NULL)
        return 1;
    while (expected < count) {
        uint64_t seq = shmkit_ring_position(ring);

        rc = shmkit_ring_recv(ring, msg, max, left_ms(deadline));
        if (rc == -ETIMEDOUT) {
            fprintf(stderr, "%s: %s: timed out: %llu of %llu messages arrived in order\n",
                    prog, spec, (unsigned long long)expected, (unsigned long long)count);
            status = 4;
            break;
        }
        if (rc < 0) {
            status = fail(spec, rc);
            break;
        }
        if (check_message(msg, (size_t)rc, &number) != 0) {
            fprintf(stderr, "%s: %s: bad checksum or length: message %llu (length %d) after %llu good\n",
                    prog, spec, (unsigned long long)seq, rc, (unsigned long long)expected);
            status = 1;
            break;
        }
        if (number != expected) {
            if (number > expected)
                fprintf(stderr, "%s: %s: gap: got message %llu, expected %llu (%llu missing)\n",
                        prog, spec, (unsigned long long)number, (unsigned long long)expected,
                        (unsigned long long)(number - expected));
            else
                fprintf(stderr, "%s: %s: %s: got message %llu again, expected %llu\n", prog,
                        spec, number + 1 == expected ? "duplicate" : "duplicate or reorder",
                        (unsigned long long)number, (unsigned long long)expected);
            status = 1;
            break;
        }
        if (o->same_seq && seq != number) {
            fprintf(stderr, "%s: %s: message %llu has ring sequence number %llu\n", prog, spec,
                    (unsigned long long)number, (unsigned long long)seq);
            status = 1;
            break;
        }
        expected++;
    }
    if (status == 0 && o->linger_ms > 0) {
        rc = shmkit_ring_recv(ring, msg, max, (int)o->linger_ms);
        if (rc >= 0) {
            number = 0;
            check_message(msg, (size_t)rc, &number);
            fprintf(stderr, "%s: %s: extra message after the last: number %llu, length %d\n",
                    prog, spec, (unsigned long long)number, rc);
            status = 1;
        } else if (rc != -ETIMEDOUT) {
            status = fail(spec, rc);
        }
    }
    if (status == 0)
        printf("verified %llu\n", (unsigned long long)count);
    free(msg);
    shmkit_ring_close(ring);
    return status;
}

static int count_overwrite(const struct opts *o, const char *spec, uint64_t count)
{
    double deadline = now() + o->timeout, last_arrival = 0;
    uint64_t received = 0, lost = 0, expected = 0, number, tail = 0, ring_lost;
    shmkit_ring *ring;
    unsigned char *msg;
    size_t max;
    int rc, status = 0;

    open_ring(&ring, spec, SHMKIT_FROM_OLDEST, deadline);
    ready(o);
    max = shmkit_ring_max_message(ring);
    msg = malloc(max ? max : 1);
    if (msg == NULL)
        return 1;
    while (expected < count) {
        int wait = left_ms(deadline);

        if (received > 0) {
            int idle = (int)((last_arrival + (double)o->idle_ms / 1000.0 - now()) * 1000.0);

            if (idle < wait)
                wait = idle < 1 ? 1 : idle;
        }
        rc = shmkit_ring_recv(ring, msg, max, wait);
        if (rc == -ETIMEDOUT) {
            if (received == 0 || now() > deadline) {
                fprintf(stderr, "%s: %s: timed out: %llu messages arrived, next expected %llu\n",
                        prog, spec, (unsigned long long)received, (unsigned long long)expected);
                status = 4;
            }
            break;
        }
        if (rc < 0) {
            status = fail(spec, rc);
            break;
        }
        last_arrival = now();
        if (check_message(msg, (size_t)rc, &number) != 0) {
            fprintf(stderr, "%s: %s: bad checksum or length (length %d) after message %llu\n",
                    prog, spec, rc, (unsigned long long)expected);
            status = 1;
            break;
        }
        if (number < expected || number >= count) {
            fprintf(stderr, "%s: %s: %s: got message %llu, expected %llu or later\n", prog, spec,
                    number >= count ? "out of range" : "duplicate or reorder",
                    (unsigned long long)number, (unsigned long long)expected);
            status = 1;
            break;
        }
        lost += number - expected;
        expected = number + 1;
        received++;
    }
    ring_lost = shmkit_ring_lost(ring);
    if (status == 0 && expected < count) {
        tail = count - expected;
        lost += tail;
    }
    printf("received %llu lost %llu ring-lost %llu tail %llu\n", (unsigned long long)received,
           (unsigned long long)lost, (unsigned long long)ring_lost, (unsigned long long)tail);
    if (status == 0 && received + lost != count) {
        fprintf(stderr, "%s: %s: received %llu + lost %llu != %llu\n", prog, spec,
                (unsigned long long)received, (unsigned long long)lost, (unsigned long long)count);
        status = 1;
    }
    if (status == 0 && ring_lost > lost) {
        fprintf(stderr, "%s: %s: the ring says %llu lost, the numbers only %llu\n", prog, spec,
                (unsigned long long)ring_lost, (unsigned long long)lost);
        status = 1;
    }
    free(msg);
    shmkit_ring_close(ring);
    return status;
}

struct slot_fields {
    size_t n, x, tag, tag_len;
};

static int slot_fields(shmkit_slot *slot, const char *spec, struct slot_fields *f)
{
    const shmkit_layout *layout = shmkit_slot_layout(slot);
    struct shmkit_field field;
    int i;

    if (layout == NULL || strcmp(shmkit_layout_text(layout), SLOT_LAYOUT) != 0) {
        fprintf(stderr, "%s: %s: layout is \"%s\", expected \"%s\"\n", prog, spec,
                layout ? shmkit_layout_text(layout) : "(raw)", SLOT_LAYOUT);
        return -1;
    }
    i = shmkit_layout_find(layout, "n");
    shmkit_layout_field(layout, (size_t)i, &field);
    f->n = field.offset;
    i = shmkit_layout_find(layout, "x");
    shmkit_layout_field(layout, (size_t)i, &field);
    f->x = field.offset;
    i = shmkit_layout_find(layout, "tag");
    shmkit_layout_field(layout, (size_t)i, &field);
    f->tag = field.offset;
    f->tag_len = field.size;
    return 0;
}

static int slot_produce(const struct opts *o, const char *spec, uint64_t count)
{
    struct slot_fields f;
    unsigned char rec[64];
    shmkit_slot *slot;
    double start;
    uint64_t n;
    int rc;

    rc = shmkit_slot_create(&slot, spec, SLOT_LAYOUT, 0, 0, 0);
    if (rc != 0)
        return fail(spec, rc);
    if (slot_fields(slot, spec, &f) != 0 || shmkit_slot_record_size(slot) > sizeof rec) {
        shmkit_slot_close(slot);
        return 1;
    }
    start = now();
    for (n = (uint64_t)o->first; n <= count; n++) {
        double x = (double)n / 4.0;

        if (o->rate > 0)
            nap(start + (double)(n - (uint64_t)o->first) / o->rate - now());
        memset(rec, 0, sizeof rec);
        memcpy(rec + f.n, &n, sizeof n);
        memcpy(rec + f.x, &x, sizeof x);
        snprintf((char *)rec + f.tag, f.tag_len, "v%llu", (unsigned long long)n);
        rc = shmkit_slot_write(slot, rec, shmkit_slot_record_size(slot));
        if (rc != 0) {
            shmkit_slot_close(slot);
            return fail(spec, rc);
        }
    }
    printf("published %llu\n", (unsigned long long)count);
    shmkit_slot_close(slot);
    return 0;
}

static int slot_last(const struct opts *o, const char *spec, uint64_t want)
{
    double deadline = now() + o->timeout;
    uint64_t n = 0, prev = 0, version = 0;
    unsigned char rec[64];
    struct slot_fields f;
    shmkit_slot *slot;
    int rc, status = 0;

    for (;;) {
        rc = shmkit_slot_open(&slot, spec, 0);
        if (rc == 0)
            break;
        if ((rc != -ENOENT && rc != SHMKIT_EHALFCREATED) || now() > deadline) {
            if (rc == -ENOENT || rc == SHMKIT_EHALFCREATED) {
                fprintf(stderr, "%s: %s: timed out waiting for the slot to appear\n", prog, spec);
                return 4;
            }
            return fail(spec, rc);
        }
        nap(0.01);
    }
    if (slot_fields(slot, spec, &f) != 0 || shmkit_slot_record_size(slot) > sizeof rec) {
        shmkit_slot_close(slot);
        return 1;
    }
    ready(o);
    for (;;) {
        char tag[32];
        double x;

        rc = shmkit_slot_read(slot, rec, sizeof rec, &version);
        if (rc < 0) {
            status = fail(spec, rc);
            break;
        }
        memcpy(&n, rec + f.n, sizeof n);
        memcpy(&x, rec + f.x, sizeof x);
        snprintf(tag, sizeof tag, "v%llu", (unsigned long long)n);
        if (version > 0 && (x != (double)n / 4.0 ||
                            strncmp((const char *)rec + f.tag, tag, f.tag_len) != 0)) {
            fprintf(stderr, "%s: %s: inconsistent record at version %llu: n %llu, x %g, tag %.16s\n",
                    prog, spec, (unsigned long long)version, (unsigned long long)n, x,
                    (const char *)rec + f.tag);
            status = 1;
            break;
        }
        if (n < prev) {
            fprintf(stderr, "%s: %s: went backwards: n %llu after %llu\n", prog, spec,
                    (unsigned long long)n, (unsigned long long)prev);
            status = 1;
            break;
        }
        prev = n;
        if (n == want)
            break;
        if (n > want) {
            fprintf(stderr, "%s: %s: n %llu is past the expected last value %llu\n", prog, spec,
                    (unsigned long long)n, (unsigned long long)want);
            status = 1;
            break;
        }
        rc = shmkit_slot_wait(slot, version, left_ms(deadline));
        if (rc == -ETIMEDOUT || now() > deadline) {
            fprintf(stderr, "%s: %s: timed out: n %llu (version %llu), expected %llu\n", prog,
                    spec, (unsigned long long)n, (unsigned long long)version,
                    (unsigned long long)want);
            status = 4;
            break;
        }
        if (rc != 0 && rc != -EINTR) {
            status = fail(spec, rc);
            break;
        }
    }
    if (status == 0)
        printf("n %llu version %llu\n", (unsigned long long)n, (unsigned long long)version);
    shmkit_slot_close(slot);
    return status;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: %s produce [--rate N] [--timeout S] SPEC COUNT [SIZE]\n"
            "       %s verify [--timeout S] [--linger MS] [--same-seq] [--ready FILE] SPEC COUNT\n"
            "       %s count-overwrite [--timeout S] [--idle MS] [--ready FILE] SPEC COUNT\n"
            "       %s slot-produce [--rate N] [--first N] SPEC LAST\n"
            "       %s slot-last [--timeout S] [--ready FILE] SPEC EXPECTED\n",
            prog, prog, prog, prog, prog);
    return 2;
}

static int number(const char *text, double *value)
{
    char *end;

    errno = 0;
    *value = strtod(text, &end);
    return end == text || *end != '\0' || errno != 0 || *value < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    struct opts o = {0, 60, 300, 3000, 0, 1, NULL};
    const char *cmd, *spec;
    double v, count, size = 0;
    int i;

    if (argc < 2)
        return usage();
    cmd = argv[1];
    for (i = 2; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--same-seq") == 0) {
            o.same_seq = 1;
            continue;
        }
        if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc) {
            o.ready = argv[++i];
            continue;
        }
        if (i + 1 >= argc || number(argv[i + 1], &v) != 0)
            return usage();
        if (strcmp(argv[i], "--rate") == 0)
            o.rate = v;
        else if (strcmp(argv[i], "--timeout") == 0)
            o.timeout = v;
        else if (strcmp(argv[i], "--linger") == 0)
            o.linger_ms = (long)v;
        else if (strcmp(argv[i], "--idle") == 0)
            o.idle_ms = (long)v;
        else if (strcmp(argv[i], "--first") == 0 && v >= 1)
            o.first = v;
        else
            return usage();
        i++;
    }
    if (argc - i < 2 || argc - i > 3 || number(argv[i + 1], &count) != 0)
        return usage();
    spec = argv[i];
    if (argc - i == 3 && (strcmp(cmd, "produce") != 0 || number(argv[i + 2], &size) != 0))
        return usage();
    if (strcmp(cmd, "produce") == 0)
        return produce(&o, spec, (uint64_t)count, (size_t)size);
    if (strcmp(cmd, "verify") == 0)
        return verify(&o, spec, (uint64_t)count);
    if (strcmp(cmd, "count-overwrite") == 0)
        return count_overwrite(&o, spec, (uint64_t)count);
    if (strcmp(cmd, "slot-produce") == 0)
        return slot_produce(&o, spec, (uint64_t)count);
    if (strcmp(cmd, "slot-last") == 0)
        return slot_last(&o, spec, (uint64_t)count);
    return usage();
}
