/*
 * check_hostile.c - a hostile process scribbles over a live segment while
 * readers use it.
 *
 * For each backend and each kind (slot, block ring, overwrite ring) the
 * parent creates a segment and forks:
 *   - a hostile process that maps it read-write and, in a loop, rewrites at
 *     random: words of the writer and reader lines (leases, counters,
 *     cursors), ring cursors set near or far from each other and
 *     misaligned, frame headers (len, flags, seq) and slot buffer headers,
 *     payload bytes, and now and then a byte of the static header, the
 *     checksum or the state word (restored soon after, so that opens keep
 *     succeeding part of the time);
 *   - a legitimate writer that keeps publishing (and reopens after errors);
 *   - reader processes that open, read, wait, receive, peek, release and
 *     query (lost, position, info), close and reopen, with short timeouts.
 *
 * Readers must return a record or a clean error from a fixed list, never
 * crash (each runs in a child whose exit status is checked: a signal such
 * as SIGSEGV or SIGBUS fails the test), never hang (alarm() turns a hang
 * into SIGALRM, which fails the test too), and never hand out memory
 * outside the segment: lengths are checked against the buffer and the
 * maximum, bytes past the length the caller allowed must stay untouched,
 * and every byte of a peeked message is read; on Linux the peeked range is
 * also checked against the segment's mapping in /proc/self/maps.  The
 * writer must not crash either.
 *
 * SHMKIT_TEST_SEED repeats the random choices (not the scheduling);
 * SHMKIT_CRASH_SCALE=K makes each run K times longer.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "peerutil.h"
#include "testutil.h"

#define RUN_MS 700          /* per kind and backend, times SHMKIT_CRASH_SCALE */
#define READERS 3
#define CHILD_ALARM_S 30
#define REAP_MS 60000
#define RECORD_SIZE 200
#define RING_CAPACITY 4096
#define RING_MAX 500
#define CANARY 0xa5

enum kind { KIND_SLOT, KIND_BLOCK, KIND_OVERWRITE };
static const char *const kind_names[] = {"slot", "block ring", "overwrite ring"};

struct hostile_state {
    struct pu_report report;
    char spec[32];
    int kind;
    uint64_t seed;
    int done;
    uint64_t mutations, writes, calls, records, errors, opens, bad_opens;
};

static struct hostile_state *st;

/* ---- the hostile process -------------------------------------------- */

struct scribbler {
    unsigned char *base;
    size_t size;
    uint64_t rng;
    /* A static-header byte changed, to restore: offset + 1, or 0. */
    size_t damaged;
    unsigned char original;
};

/* The block ring's consumer (entry 0 of the consumer table, after the
 * header) keeps its tail at CONSUMER_TAIL, and its payload follows the
 * table; the other kinds have no table. */
#define CONSUMER_TAIL (SK_HEADER_SIZE + offsetof(struct sk_consumer, tail))

static size_t tail_offset(void)
{
    return st->kind == KIND_BLOCK ? CONSUMER_TAIL : 524u;
}

static size_t payload_offset(void)
{
    return SK_HEADER_SIZE + (st->kind == KIND_BLOCK ? SK_CONSUMER_SIZE : 0u);
}

static uint32_t load32(const struct scribbler *s, size_t off)
{
    return sk_load((sk_atomic_u32 *)(void *)(s->base + off), SK_RELAXED);
}

static void store32(struct scribbler *s, size_t off, uint32_t v)
{
    sk_store((sk_atomic_u32 *)(void *)(s->base + off), v, SK_RELAXED);
}

/* A value for a cursor: near another cursor, misaligned, far, or random. */
static uint32_t cursor_value(struct scribbler *s)
{
    const size_t cursors[] = {392, 396, 400, 404, tail_offset()};
    uint32_t near = load32(s, cursors[tu_below(&s->rng, 5)]);

    switch (tu_below(&s->rng, 6)) {
    case 0: return near;
    case 1: return near + 16u * (uint32_t)tu_below(&s->rng, 64);
    case 2: return near - 16u * (uint32_t)tu_below(&s->rng, 64);
    case 3: return near + (uint32_t)tu_below(&s->rng, 16);       /* misaligned */
    case 4: return near + RING_CAPACITY * (uint32_t)tu_below(&s->rng, 3) - 8u;
    default: return (uint32_t)tu_rand(&s->rng);
    }
}

/* A value for a length: around the ring's limits, or random. */
static uint32_t length_value(struct scribbler *s)
{
    switch (tu_below(&s->rng, 7)) {
    case 0: return 0;
    case 1: return (uint32_t)tu_below(&s->rng, RING_MAX + 1);
    case 2: return RING_MAX + (uint32_t)tu_below(&s->rng, 32);
    case 3: return RING_CAPACITY - 16u * (uint32_t)tu_below(&s->rng, 4);
    case 4: return 16u * (uint32_t)tu_below(&s->rng, RING_CAPACITY / 16 + 1);
    case 5: return UINT32_MAX - (uint32_t)tu_below(&s->rng, 32);
    default: return (uint32_t)tu_rand(&s->rng);
    }
}

static void mutate_frame(struct scribbler *s, size_t payload)
{
    size_t off = payload + 16u * (size_t)tu_below(&s->rng, RING_CAPACITY / 16);
    uint64_t seq;

    if (tu_below(&s->rng, 3) == 0) {
        /* A plausible message frame near the end of the ring, which only
         * the check against the end keeps readers from following out of
         * the segment. */
        off = payload + RING_CAPACITY - 16u * (1 + (size_t)tu_below(&s->rng, 32));
        store32(s, off, (uint32_t)tu_below(&s->rng, RING_MAX + 1));
        store32(s, off + 4, 0);
        return;
    }
    switch (tu_below(&s->rng, 3)) {
    case 0:
        store32(s, off, length_value(s));
        break;
    case 1: {
        static const uint32_t flags[] = {0, 1, 2, 3, 0x80000000u};
        store32(s, off + 4, tu_below(&s->rng, 4) ? flags[tu_below(&s->rng, 5)]
                                                 : (uint32_t)tu_rand(&s->rng));
        break;
    }
    default:
        memcpy(&seq, s->base + off + 8, 8);
        seq += tu_below(&s->rng, 2) ? tu_below(&s->rng, 5) - 2 : tu_rand(&s->rng);
        memcpy(s->base + off + 8, &seq, 8);
        break;
    }
}

/* A slot buffer header: its commit word near a plausible one (either
 * buffer's, odd or even, so that buffers look swapped, versions go
 * backwards or a write never ends), or its version beside the word. */
static void mutate_slot_buffer(struct scribbler *s, size_t payload)
{
    size_t stride = (size_t)sk_slot_buf_stride(RECORD_SIZE);
    size_t off = payload + stride * (size_t)tu_below(&s->rng, 2);
    size_t other = payload + stride * (size_t)tu_below(&s->rng, 2);
    uint64_t v;

    switch (tu_below(&s->rng, 4)) {
    case 0:
        store32(s, off, load32(s, other) + (uint32_t)tu_below(&s->rng, 7) - 3u);
        return;
    case 1:
        store32(s, off, (uint32_t)tu_rand(&s->rng));
        return;
    default:
        break;
    }
    memcpy(&v, s->base + off + 8, 8);
    switch (tu_below(&s->rng, 3)) {
    case 0: v = (uint64_t)(load32(s, off) >> 1) + tu_below(&s->rng, 5) - 2; break;
    case 1: v += (uint64_t)1 << 32; break;
    default: v = tu_rand(&s->rng); break;
    }
    memcpy(s->base + off + 8, &v, 8);
}

/* Make the ring's cursors agree again (all at head), so that messages
 * flow between the damage and readers get past their checks. */
static void repair_cursors(struct scribbler *s)
{
    uint32_t head = load32(s, 392) & ~(uint32_t)15;

    store32(s, 392, head);
    store32(s, 396, head);
    store32(s, 400, head);
    store32(s, 404, head);
    store32(s, tail_offset(), head);
}

/* Damage a byte of bytes 0..383 (identity, geometry, checksum, state,
 * layout), or restore the one damaged before. */
static void mutate_static(struct scribbler *s)
{
    size_t off;

    if (s->damaged != 0) {
        s->base[s->damaged - 1] = s->original;
        s->damaged = 0;
        return;
    }
    switch (tu_below(&s->rng, 4)) {
    case 0: off = 120 + (size_t)tu_below(&s->rng, 8); break; /* checksum, state */
    case 1: off = (size_t)tu_below(&s->rng, 64); break;       /* identity, sizes */
    default: off = (size_t)tu_below(&s->rng, 384); break;
    }
    s->original = s->base[off];
    s->base[off] ^= (unsigned char)(1u << tu_below(&s->rng, 8));
    s->damaged = off + 1;
}

static void mutate(struct scribbler *s)
{
    size_t payload = payload_offset(), data = s->size - payload;
    uint64_t r = tu_below(&s->rng, 100);

    if (r < 20) {
        store32(s, 384 + 4 * (size_t)tu_below(&s->rng, 32),
                tu_below(&s->rng, 2) ? cursor_value(s) : (uint32_t)tu_rand(&s->rng));
    } else if (r < 30) {
        /* The consumer's words: its entry of the consumer table (block),
         * the reader line that held them before (the others). */
        size_t line = st->kind == KIND_BLOCK ? SK_HEADER_SIZE : 512;

        store32(s, line + 4 * (size_t)tu_below(&s->rng, 32),
                tu_below(&s->rng, 2) ? cursor_value(s) : (uint32_t)tu_below(&s->rng, 4));
    } else if (r < 50) {
        const size_t cursors[] = {392, 396, 400, 404, tail_offset(), 408, 412};
        store32(s, cursors[tu_below(&s->rng, 7)], cursor_value(s));
    } else if (r < 70) {
        if (st->kind == KIND_SLOT)
            mutate_slot_buffer(s, payload);
        else
            mutate_frame(s, payload);
    } else if (r < 80 && st->kind != KIND_SLOT) {
        repair_cursors(s);
    } else if (r < 95) {
        size_t n = 1 + (size_t)tu_below(&s->rng, 16), off = (size_t)tu_below(&s->rng, data - n);
        size_t i;
        for (i = 0; i < n; i++)
            s->base[payload + off + i] = (unsigned char)tu_rand(&s->rng);
    } else {
        mutate_static(s);
    }
}

static int hostile(void *arg)
{
    struct scribbler s;
    struct sk_spec spec;
    struct sk_seg seg;
    int rc;

    (void)arg;
    memset(&s, 0, sizeof s);
    memset(&seg, 0, sizeof seg);
    if ((rc = shmkit__spec_parse(st->spec, &spec)) != 0 ||
        (rc = shmkit__seg_open(&seg, &spec, SK_SEG_WRITE, SK_HEADER_SIZE)) != 0)
        pu_child_die(&st->report, 3, "hostile: open: %s", shmkit_strerror(rc));
    s.base = seg.base;
    s.size = seg.size;
    s.rng = tu_mix(st->seed ^ 0x5c71b1e) | 1;
    while (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
        mutate(&s);
        st->mutations++;
        pu_delay_ns(tu_below(&s.rng, 4) ? tu_below(&s.rng, 20000) : 200000);
    }
    if (s.damaged != 0)
        mutate_static(&s);
    shmkit__seg_close(&seg);
    return 0;
}

/* ---- clean errors ----------------------------------------------------- */

/* The codes a call may return on a damaged segment. */
static int clean_error(int rc)
{
    switch (rc) {
    case -EAGAIN: case -ETIMEDOUT: case -EINTR: case -EMSGSIZE:
    case SHMKIT_ENOTSHMKIT: case SHMKIT_EVERSION: case SHMKIT_EKIND:
    case SHMKIT_ECORRUPT: case SHMKIT_EBUSY: case SHMKIT_EHALFCREATED:
    case SHMKIT_ECONTENDED: case SHMKIT_EOVERWRITTEN: case SHMKIT_ESIZE:
    /* A peer that moves a block ring's cursors consistently acts as a
     * second writer or consumer: the library cannot tell it from a copy
     * of the handle in another process, and says so. */
    case SHMKIT_ENOTHOLDER:
        return 1;
    default:
        return 0;
    }
}

static void expect_clean(int rc, const char *call, int who)
{
    if (rc < 0 && !clean_error(rc))
        pu_child_die(&st->report, 5, "reader %d: %s: %d (%s: %s)", who, call, rc,
                     shmkit_strerror(rc), shmkit_error_detail());
    if (rc < 0)
        __atomic_add_fetch(&st->errors, 1, __ATOMIC_RELAXED);
}

/* Bytes LEN.. of BUF (of SIZE) still hold the canary. */
static void expect_untouched(const unsigned char *buf, size_t len, size_t size,
                             const char *call, int who)
{
    size_t i;

    for (i = len; i < size; i++)
        if (buf[i] != CANARY)
            pu_child_die(&st->report, 6, "reader %d: %s wrote byte %zu of a %zu-byte buffer",
                         who, call, i, len);
}

/* ---- the writer -------------------------------------------------------- */

static int legit_writer(void *arg)
{
    uint64_t rng = tu_mix(st->seed ^ 0x3417e5) | 1;
    unsigned char msg[RING_MAX + RECORD_SIZE];
    shmkit_slot *slot = NULL;
    shmkit_ring *ring = NULL;
    uint32_t idx = 0;

    (void)arg;
    while (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
        int rc;
        if (slot == NULL && ring == NULL) {
            rc = st->kind == KIND_SLOT ? shmkit_slot_open(&slot, st->spec, SHMKIT_WRITE)
                                       : shmkit_ring_open(&ring, st->spec, SHMKIT_WRITE);
            if (rc != 0) {
                pu_delay_ns(1000000);
                continue;
            }
        }
        if (slot != NULL) {
            pu_msg_fill(msg, RECORD_SIZE, idx, 0, idx);
            rc = shmkit_slot_write(slot, msg, RECORD_SIZE);
        } else {
            size_t len = PU_MSG_MIN + (size_t)tu_below(&rng, RING_MAX - PU_MSG_MIN + 1);
            pu_msg_fill(msg, len, idx, 0, idx);
            rc = shmkit_ring_send(ring, msg, len, 1);
        }
        idx++;
        st->writes++;
        if (rc != 0 && rc != -ETIMEDOUT && rc != -EAGAIN) {
            /* The segment was damaged: start again from its header. */
            shmkit_slot_close(slot);
            shmkit_ring_close(ring);
            slot = NULL;
            ring = NULL;
        }
        if (tu_below(&rng, 8) == 0)
            pu_delay_ns(tu_below(&rng, 100000));
    }
    shmkit_slot_close(slot);
    shmkit_ring_close(ring);
    return 0;
}

/* ---- readers ----------------------------------------------------------- */

#ifdef __linux__
/* The mapping of /proc/self/maps that contains ADDR: 0 with [*LO, *HI). */
static int mapping_of(const void *addr, uintptr_t *lo, uintptr_t *hi)
{
    char line[512];
    FILE *f = fopen("/proc/self/maps", "r");
    uintptr_t a = (uintptr_t)addr;
    int found = -1;

    if (f == NULL)
        return -1;
    while (found != 0 && fgets(line, sizeof line, f) != NULL) {
        unsigned long l, h;
        if (sscanf(line, "%lx-%lx", &l, &h) == 2 && l <= a && a < h) {
            *lo = l;
            *hi = h;
            found = 0;
        }
    }
    fclose(f);
    return found;
}
#endif

/* A peeked message of LEN bytes at P: inside the segment's payload, and
 * readable (a pointer outside the mapping faults here, in the child). */
static void check_peeked(const void *p, int len, int who, uint64_t *count)
{
    const volatile unsigned char *b = p;
    unsigned sum = 0;
    int i;

    if (len > RING_MAX)
        pu_child_die(&st->report, 6, "reader %d: peek returned %d bytes, maximum %d", who, len,
                     RING_MAX);
    for (i = 0; i < len; i++)
        sum += b[i];
    (void)sum;
#ifdef __linux__
    ++*count;
    {
        uintptr_t lo = 0, hi = 0, a = (uintptr_t)p;
        if (mapping_of(p, &lo, &hi) != 0 || a - lo < payload_offset() + SK_FRAME_HDR ||
            a + (uintptr_t)len > lo + payload_offset() + RING_CAPACITY)
            pu_child_die(&st->report, 6,
                         "reader %d: peeked %d bytes at offset %ld of its mapping, outside the "
                         "payload", who, len, (long)(a - lo));
    }
#else
    (void)count;
#endif
}

static void slot_calls(shmkit_slot *slot, uint64_t *rng, int who)
{
    unsigned char buf[RECORD_SIZE + 64];
    uint64_t v = 0;
    int rc;

    switch (tu_below(rng, 4)) {
    case 0: case 1:
        memset(buf, CANARY, sizeof buf);
        rc = shmkit_slot_read(slot, buf, RECORD_SIZE + (size_t)tu_below(rng, 2) * 32, &v);
        expect_clean(rc, "shmkit_slot_read", who);
        if (rc >= 0 && rc != RECORD_SIZE)
            pu_child_die(&st->report, 6, "reader %d: read returned %d", who, rc);
        expect_untouched(buf, RECORD_SIZE, sizeof buf, "shmkit_slot_read", who);
        st->records += rc > 0;
        break;
    case 2:
        if (tu_below(rng, 2))
            expect_clean(shmkit_slot_version(slot, &v), "shmkit_slot_version", who);
        else
            v = tu_rand(rng);
        rc = shmkit_slot_wait(slot, v, (int)tu_below(rng, 4));
        expect_clean(rc, "shmkit_slot_wait", who);
        break;
    default:
        expect_clean(shmkit_slot_version(slot, &v), "shmkit_slot_version", who);
        if (shmkit_slot_record_size(slot) != RECORD_SIZE || shmkit_slot_layout(slot) != NULL)
            pu_child_die(&st->report, 6, "reader %d: the handle's geometry changed", who);
        break;
    }
}

static void ring_calls(shmkit_ring *ring, uint64_t *rng, int who, uint64_t *peeks)
{
    unsigned char buf[RING_MAX + 64];
    const void *p;
    size_t len;
    int rc;

    switch (tu_below(rng, 5)) {
    case 0: case 1:
        len = tu_below(rng, 4) ? RING_MAX : (size_t)tu_below(rng, RING_MAX + 1);
        memset(buf, CANARY, sizeof buf);
        rc = shmkit_ring_recv(ring, buf, len, (int)tu_below(rng, 4));
        expect_clean(rc, "shmkit_ring_recv", who);
        if (rc >= 0 && (size_t)rc > len)
            pu_child_die(&st->report, 6, "reader %d: received %d bytes into %zu", who, rc, len);
        /* Beyond the length allowed, nothing is written, whatever the
         * outcome (below it, a failed call may leave a discarded copy). */
        expect_untouched(buf, len, sizeof buf, "shmkit_ring_recv", who);
        st->records += rc >= 0;
        break;
    case 2: case 3:
        rc = shmkit_ring_peek(ring, &p, (int)tu_below(rng, 4));
        expect_clean(rc, "shmkit_ring_peek", who);
        if (rc >= 0) {
            check_peeked(p, rc, who, peeks);
            rc = shmkit_ring_release(ring);
            expect_clean(rc, "shmkit_ring_release", who);
            st->records++;
        }
        break;
    default:
        (void)shmkit_ring_lost(ring);
        (void)shmkit_ring_position(ring);
        if (shmkit_ring_capacity(ring) != RING_CAPACITY ||
            shmkit_ring_max_message(ring) != RING_MAX)
            pu_child_die(&st->report, 6, "reader %d: the handle's geometry changed", who);
        break;
    }
}

static int reader(void *arg)
{
    int who = (int)(uintptr_t)arg;
    uint64_t rng = tu_mix(st->seed ^ (uint64_t)who) | 1, peeks = 0;
    shmkit_slot *slot = NULL;
    shmkit_ring *ring = NULL;
    struct shmkit_info info;

    while (!__atomic_load_n(&st->done, __ATOMIC_ACQUIRE)) {
        int rc;
        if (slot == NULL && ring == NULL) {
            rc = st->kind == KIND_SLOT ? shmkit_slot_open(&slot, st->spec, 0)
                                       : shmkit_ring_open(&ring, st->spec,
                                                          tu_below(&rng, 2) ? SHMKIT_FROM_OLDEST
                                                                            : 0);
            st->opens++;
            if (rc != 0) {
                expect_clean(rc, "open", who);
                st->bad_opens++;
                pu_delay_ns(tu_below(&rng, 500000));
                continue;
            }
        }
        if (slot != NULL)
            slot_calls(slot, &rng, who);
        else
            ring_calls(ring, &rng, who, &peeks);
        st->calls++;
        if (tu_below(&rng, 64) == 0) {
            rc = shmkit_info(st->spec, &info, sizeof info);
            expect_clean(rc, "shmkit_info", who);
        }
        if (tu_below(&rng, 100) == 0) {
            shmkit_slot_close(slot);
            shmkit_ring_close(ring);
            slot = NULL;
            ring = NULL;
        }
    }
    shmkit_slot_close(slot);
    shmkit_ring_close(ring);
    return 0;
}

/* ---- the test ------------------------------------------------------------ */

static void assert_clean_exit(pid_t pid, const char *who)
{
    char text[64];
    int status = pu_reap(pid, REAP_MS);

    PU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "%s %s (%s, seed %llu): %s", who, tu_status_text(status, text, sizeof text),
                  kind_names[st->kind], (unsigned long long)tu_seed(), st->report.first);
}

START_TEST(test_hostile_peer)
{
    int backend = tu_backend_of(_i), kind = tu_variant_of(_i), i;
    pid_t scribbler, writer, readers[READERS];
    shmkit_slot *slot;
    shmkit_ring *ring;

    st = tu_shared_alloc(sizeof *st);
    st->kind = kind;
    st->seed = tu_rng_seed(500 + (uint64_t)_i);
    tu_spec(backend, st->spec);
    if (kind == KIND_SLOT) {
        ck_assert_int_eq(shmkit_slot_create(&slot, st->spec, NULL, RECORD_SIZE, 0, SHMKIT_EXCL),
                         0);
        shmkit_slot_close(slot);
    } else {
        ring = tu_ring_create(st->spec, RING_CAPACITY, RING_MAX,
                              kind == KIND_BLOCK ? SHMKIT_RING_BLOCK : SHMKIT_RING_OVERWRITE, 0,
                              SHMKIT_EXCL);
        shmkit_ring_close(ring);
    }
    writer = pu_spawn(legit_writer, NULL, CHILD_ALARM_S);
    for (i = 0; i < READERS; i++)
        readers[i] = pu_spawn(reader, (void *)(uintptr_t)i, CHILD_ALARM_S);
    scribbler = pu_spawn(hostile, NULL, CHILD_ALARM_S);
    pu_delay_ns((uint64_t)RUN_MS * pu_scale() * 1000000u);
    __atomic_store_n(&st->done, 1, __ATOMIC_RELEASE);
    assert_clean_exit(scribbler, "hostile process");
    for (i = 0; i < READERS; i++)
        assert_clean_exit(readers[i], "reader");
    assert_clean_exit(writer, "writer");
    PU_ASSERT(st->report.failures == 0, "%d failure(s) (%s, seed %llu), first: %s",
                  st->report.failures, kind_names[kind], (unsigned long long)tu_seed(),
                  st->report.first);
    /* Every assertion above could only fail if something ran. */
    PU_ASSERT(st->mutations > 0 && st->calls > 0, "nothing ran");
    printf("# %s %s: %llu mutations, %llu writes, %llu opens (%llu refused), %llu calls, "
           "%llu records, %llu clean errors\n",
           backend == SHMKIT_BACKEND_SYSV ? "sysv" : "posix", kind_names[kind],
           (unsigned long long)st->mutations, (unsigned long long)st->writes,
           (unsigned long long)st->opens, (unsigned long long)st->bad_opens,
           (unsigned long long)st->calls, (unsigned long long)st->records,
           (unsigned long long)st->errors);
    pu_cleanup();
    tu_shared_free(st, sizeof *st);
    tu_assert_no_leftovers();
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *tc = tu_tcase(s, "hostile");

    tcase_set_timeout(tc, 300);
    tu_add_backend_test(tc, test_hostile_peer, 3);
    return s;
}

int main(void)
{
    pu_announce_seed("check_hostile");
    return tu_run(hostile_suite());
}
