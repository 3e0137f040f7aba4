/*
 * check_bridge_proto.c - shmkit-bridge's wire format (src/tools/
 * bridge-proto.c): every frame type encodes and decodes to itself, and
 * every malformed frame is rejected with a reason before a loop could use
 * it: short frames, bad magic, version or type, payloads of the wrong
 * size, a layout beyond the frame or not parsing, error texts too long,
 * numbers a segment cannot have.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "bridge-proto.h"
#include "testutil.h"

static unsigned char frame[BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED + BRIDGE_LAYOUT_MAX + 64];
static struct bridge_frame f;
static char why[200];

static int decode(size_t len)
{
    why[0] = '\0';
    return bridge_decode(frame, len, &f, why, sizeof why);
}

/* Decoding LEN bytes of frame fails with a reason containing WANT. */
static void assert_rejected(size_t len, const char *want)
{
    ck_assert_int_eq(decode(len), -1);
    ck_assert_msg(strstr(why, want) != NULL, "reason '%s' lacks '%s'", why, want);
}

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static const struct bridge_welcome ring_welcome = {
    SHMKIT_KIND_RING, SHMKIT_RING_BLOCK, 65536, 1000, 0, 0x1122334455667788ull, NULL, 0
};

static size_t encode_slot_welcome(const char *layout, uint32_t record_size)
{
    struct bridge_welcome w = { SHMKIT_KIND_SLOT, 0, 0, 0, record_size, 42, layout,
                                layout ? strlen(layout) : 0 };

    return bridge_encode_welcome(frame, sizeof frame, 7, &w);
}

/* ---- round trips --------------------------------------------------------- */

START_TEST(test_header_types)
{
    static const int types[] = { BRIDGE_DATA, BRIDGE_HEARTBEAT, BRIDGE_BYE };
    size_t i;

    for (i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t len = bridge_encode_header(frame, sizeof frame, types[i], UINT64_MAX - i);
        ck_assert_uint_eq(len, BRIDGE_HEADER_SIZE);
        ck_assert_int_eq(memcmp(frame, "SKB1", 4), 0);
        ck_assert_int_eq(frame[6], 1);
        ck_assert_int_eq(decode(len), 0);
        ck_assert_int_eq(f.type, types[i]);
        ck_assert_uint_eq(f.number, UINT64_MAX - i);
        ck_assert_uint_eq(f.payload_len, 0);
    }
    ck_assert_uint_eq(bridge_encode_header(frame, 15, BRIDGE_BYE, 0), 0);
}
END_TEST

START_TEST(test_data)
{
    size_t len = bridge_encode_data_header(frame, 99);

    memcpy(frame + len, "hello", 5);
    ck_assert_int_eq(decode(len + 5), 0);
    ck_assert_int_eq(f.type, BRIDGE_DATA);
    ck_assert_uint_eq(f.number, 99);
    ck_assert_uint_eq(f.payload_len, 5);
    ck_assert_int_eq(memcmp(f.payload, "hello", 5), 0);
}
END_TEST

START_TEST(test_hello)
{
    struct bridge_hello h = { 512, 4096, BRIDGE_HELLO_ANY };
    size_t len = bridge_encode_hello(frame, sizeof frame, 1234, &h);

    ck_assert_uint_eq(len, BRIDGE_HEADER_SIZE + BRIDGE_HELLO_PAYLOAD);
    ck_assert_int_eq(decode(len), 0);
    ck_assert_int_eq(f.type, BRIDGE_HELLO);
    ck_assert_uint_eq(f.number, 1234);
    ck_assert_uint_eq(f.u.hello.window, 512);
    ck_assert_uint_eq(f.u.hello.window_kib, 4096);
    ck_assert_uint_eq(f.u.hello.flags, BRIDGE_HELLO_ANY);
    /* A plain client's bare HELLO: ANY, the default window. */
    bridge_encode_header(frame, sizeof frame, BRIDGE_HELLO, 0);
    ck_assert_int_eq(decode(BRIDGE_HEADER_SIZE), 0);
    ck_assert_uint_eq(f.u.hello.flags, BRIDGE_HELLO_ANY);
    ck_assert_uint_eq(f.u.hello.window, BRIDGE_DEFAULT_WINDOW);
    ck_assert_uint_eq(bridge_encode_hello(frame, len - 1, 0, &h), 0);
}
END_TEST

START_TEST(test_ack)
{
    struct bridge_credit c = { 100, 200 };
    size_t len = bridge_encode_ack(frame, sizeof frame, 1ull << 40, &c);

    ck_assert_int_eq(decode(len), 0);
    ck_assert_int_eq(f.type, BRIDGE_ACK);
    ck_assert_uint_eq(f.number, 1ull << 40);
    ck_assert_uint_eq(f.u.ack.window, 100);
    ck_assert_uint_eq(f.u.ack.window_kib, 200);
}
END_TEST

START_TEST(test_welcome_ring)
{
    size_t len = bridge_encode_welcome(frame, sizeof frame, 5, &ring_welcome);

    ck_assert_uint_eq(len, BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED);
    ck_assert_int_eq(decode(len), 0);
    ck_assert_int_eq(f.type, BRIDGE_WELCOME);
    ck_assert_uint_eq(f.number, 5);
    ck_assert_uint_eq(f.u.welcome.kind, SHMKIT_KIND_RING);
    ck_assert_uint_eq(f.u.welcome.policy, SHMKIT_RING_BLOCK);
    ck_assert_uint_eq(f.u.welcome.capacity, 65536);
    ck_assert_uint_eq(f.u.welcome.max_message, 1000);
    ck_assert_uint_eq(f.u.welcome.stream, 0x1122334455667788ull);
    ck_assert_uint_eq(f.u.welcome.layout_len, 0);
}
END_TEST

START_TEST(test_welcome_slot)
{
    const char *layout = "id:u32 temp:f64";
    size_t len = encode_slot_welcome(layout, 16);

    ck_assert_int_eq(decode(len), 0);
    ck_assert_uint_eq(f.u.welcome.kind, SHMKIT_KIND_SLOT);
    ck_assert_uint_eq(f.u.welcome.record_size, 16);
    ck_assert_uint_eq(f.u.welcome.layout_len, strlen(layout));
    ck_assert_int_eq(memcmp(f.u.welcome.layout, layout, strlen(layout)), 0);
    /* A raw slot. */
    ck_assert_int_eq(decode(encode_slot_welcome(NULL, 100)), 0);
    ck_assert_uint_eq(f.u.welcome.record_size, 100);
    ck_assert_uint_eq(f.u.welcome.layout_len, 0);
}
END_TEST

START_TEST(test_error)
{
    size_t len = bridge_encode_error(frame, sizeof frame, 5, "not a copy");
    char text[64];

    ck_assert_int_eq(decode(len), 0);
    ck_assert_int_eq(f.type, BRIDGE_ERROR);
    ck_assert_int_eq(bridge_error_exit_code(f.number), 5);
    bridge_error_text(&f, text, sizeof text);
    ck_assert_str_eq(text, "not a copy");
    ck_assert_int_eq(bridge_error_exit_code(2), 2);
    ck_assert_int_eq(bridge_error_exit_code(6), 6);
    ck_assert_int_eq(bridge_error_exit_code(0), 6);
    ck_assert_int_eq(bridge_error_exit_code(1ull << 33), 6);
}
END_TEST

START_TEST(test_error_cut)
{
    char text[BRIDGE_ERROR_MAX + 8];
    size_t len;

    /* 1023 x, then a 2-byte character that does not fit whole. */
    memset(text, 'x', BRIDGE_ERROR_MAX - 1);
    strcpy(text + BRIDGE_ERROR_MAX - 1, "\xc3\xa9zz");
    len = bridge_encode_error(frame, sizeof frame, 6, text);
    ck_assert_uint_eq(len, BRIDGE_HEADER_SIZE + BRIDGE_ERROR_MAX - 1);
    ck_assert_int_eq(decode(len), 0);
}
END_TEST

START_TEST(test_error_text_sanitized)
{
    size_t len = bridge_encode_error(frame, sizeof frame, 6, "a\033[2Jb\n");
    char text[64];

    ck_assert_int_eq(decode(len), 0);
    bridge_error_text(&f, text, sizeof text);
    ck_assert_str_eq(text, "a?[2Jb?");
}
END_TEST

START_TEST(test_directions)
{
    ck_assert(bridge_type_from_sender(BRIDGE_WELCOME));
    ck_assert(bridge_type_from_sender(BRIDGE_DATA));
    ck_assert(!bridge_type_from_sender(BRIDGE_HELLO));
    ck_assert(!bridge_type_from_sender(BRIDGE_ACK));
    ck_assert(bridge_type_from_receiver(BRIDGE_ACK));
    ck_assert(!bridge_type_from_receiver(BRIDGE_DATA));
    ck_assert(bridge_type_from_sender(BRIDGE_DATA_BATCH));
    ck_assert(!bridge_type_from_receiver(BRIDGE_DATA_BATCH));
    ck_assert_str_eq(bridge_type_name(BRIDGE_DATA_BATCH), "DATA_BATCH");
    ck_assert(bridge_type_from_receiver(BRIDGE_BYE) && bridge_type_from_sender(BRIDGE_BYE));
    ck_assert_str_eq(bridge_type_name(BRIDGE_HEARTBEAT), "HEARTBEAT");
    ck_assert_str_eq(bridge_type_name(0), "?");
    ck_assert_str_eq(bridge_type_name(99), "?");
}
END_TEST

/* A DATA_BATCH numbered FIRST of the N messages LENS (each filled with
 * its index): the frame's length. */
static size_t encode_batch(uint64_t first, const uint32_t *lens, int n)
{
    size_t at = bridge_encode_batch_header(frame, first);
    int i;

    for (i = 0; i < n; i++) {
        bridge_encode_batch_length(frame + at, lens[i]);
        memset(frame + at + BRIDGE_BATCH_RECORD, i, lens[i]);
        at += BRIDGE_BATCH_RECORD + lens[i];
    }
    return at;
}

START_TEST(test_batch)
{
    static const uint32_t lens[] = { 3, 0, 1000, 17 };
    struct bridge_batch_walk walk;
    const void *msg;
    size_t len;
    int i;

    ck_assert_int_eq(decode(encode_batch(41, lens, 4)), 0);
    ck_assert_int_eq(f.type, BRIDGE_DATA_BATCH);
    ck_assert_uint_eq(f.number, 41);
    ck_assert_uint_eq(f.u.batch.count, 4);
    ck_assert_uint_eq(f.u.batch.largest, 1000);
    bridge_batch_start(&walk, &f);
    for (i = 0; i < 4; i++) {
        ck_assert_int_eq(bridge_batch_next(&walk, &msg, &len), 1);
        ck_assert_uint_eq(len, lens[i]);
        if (len > 0) {
            ck_assert_int_eq(((const unsigned char *)msg)[0], i);
            ck_assert_int_eq(((const unsigned char *)msg)[len - 1], i);
        }
    }
    ck_assert_int_eq(bridge_batch_next(&walk, &msg, &len), 0);
    /* Flags travel in the header and come back out of it. */
    bridge_encode_header_flags(frame, sizeof frame, BRIDGE_ACK, BRIDGE_FLAG_BATCH, 5);
    put32(frame + 16, 1);
    put32(frame + 20, 1);
    ck_assert_int_eq(decode(BRIDGE_HEADER_SIZE + BRIDGE_ACK_PAYLOAD), 0);
    ck_assert_uint_eq(f.flags, BRIDGE_FLAG_BATCH);
}
END_TEST

/* ---- malformed frames ---------------------------------------------------- */

START_TEST(test_bad_batch)
{
    static const uint32_t lens[] = { 8, 8 };
    size_t len = encode_batch(0, lens, 2);

    assert_rejected(BRIDGE_HEADER_SIZE, "DATA_BATCH without a message");
    /* A record cut short, and a length beyond the frame. */
    assert_rejected(len - 1, "message 1 of 8 bytes where 7 are left");
    put32(frame + BRIDGE_HEADER_SIZE, 0xffffffffu);
    assert_rejected(len, "message 0 of 4294967295 bytes");
    put32(frame + BRIDGE_HEADER_SIZE, 8);
    /* Bytes after the last record that cannot be one. */
    assert_rejected(len + 3 < sizeof frame ? len + 3 : 0, "3 stray bytes after 2 messages");
    /* Numbers that would wrap. */
    len = encode_batch(UINT64_MAX, lens, 2);
    assert_rejected(len, "past 2^64");
    len = encode_batch(UINT64_MAX, lens, 1);
    ck_assert_int_eq(decode(len), 0);
}
END_TEST

START_TEST(test_short)
{
    size_t len;

    bridge_encode_header(frame, sizeof frame, BRIDGE_BYE, 0);
    for (len = 0; len < BRIDGE_HEADER_SIZE; len++)
        assert_rejected(len, "frame of");
}
END_TEST

START_TEST(test_bad_header)
{
    bridge_encode_header(frame, sizeof frame, BRIDGE_BYE, 0);
    frame[0] = 'X';
    assert_rejected(BRIDGE_HEADER_SIZE, "magic");
    bridge_encode_header(frame, sizeof frame, BRIDGE_BYE, 0);
    frame[3] = '2';
    assert_rejected(BRIDGE_HEADER_SIZE, "magic");
    bridge_encode_header(frame, sizeof frame, BRIDGE_BYE, 0);
    frame[6] = 2;
    assert_rejected(BRIDGE_HEADER_SIZE, "version 2");
    frame[6] = 1;
    frame[7] = 1;
    assert_rejected(BRIDGE_HEADER_SIZE, "version 257");
    frame[7] = 0;
    frame[6] = 0;
    assert_rejected(BRIDGE_HEADER_SIZE, "version 0");
    bridge_encode_header(frame, sizeof frame, 0, 0);
    assert_rejected(BRIDGE_HEADER_SIZE, "unknown frame type 0");
    bridge_encode_header(frame, sizeof frame, 9, 0);
    assert_rejected(BRIDGE_HEADER_SIZE, "unknown frame type 9");
    bridge_encode_header(frame, sizeof frame, 255, 0);
    assert_rejected(BRIDGE_HEADER_SIZE, "unknown frame type 255");
    /* Flags are ignored. */
    bridge_encode_header(frame, sizeof frame, BRIDGE_BYE, 0);
    frame[5] = 0xff;
    ck_assert_int_eq(decode(BRIDGE_HEADER_SIZE), 0);
}
END_TEST

START_TEST(test_payload_sizes)
{
    struct bridge_hello h = { 1, 1, 0 };
    struct bridge_credit c = { 1, 1 };
    size_t len;

    len = bridge_encode_hello(frame, sizeof frame, 0, &h);
    assert_rejected(len - 1, "HELLO payload of 11");
    assert_rejected(len + 1, "HELLO payload of 13");
    assert_rejected(BRIDGE_HEADER_SIZE + 4, "HELLO payload of 4");
    len = bridge_encode_ack(frame, sizeof frame, 0, &c);
    assert_rejected(len - 1, "ACK payload of 7");
    assert_rejected(len + 1, "ACK payload of 9");
    assert_rejected(BRIDGE_HEADER_SIZE, "ACK payload of 0");
    bridge_encode_header(frame, sizeof frame, BRIDGE_HEARTBEAT, 0);
    assert_rejected(BRIDGE_HEADER_SIZE + 1, "HEARTBEAT with 1 bytes");
    bridge_encode_header(frame, sizeof frame, BRIDGE_BYE, 0);
    assert_rejected(BRIDGE_HEADER_SIZE + 8, "BYE with 8 bytes");
    len = bridge_encode_welcome(frame, sizeof frame, 0, &ring_welcome);
    assert_rejected(BRIDGE_HEADER_SIZE, "WELCOME payload of 0");
    assert_rejected(len - 1, "WELCOME payload of 25");
}
END_TEST

START_TEST(test_empty_windows)
{
    struct bridge_hello h = { 0, 1, 0 };
    struct bridge_credit c = { 1, 0 };

    assert_rejected(bridge_encode_hello(frame, sizeof frame, 0, &h), "empty window");
    h.window = 1;
    h.window_kib = 0;
    assert_rejected(bridge_encode_hello(frame, sizeof frame, 0, &h), "empty window");
    assert_rejected(bridge_encode_ack(frame, sizeof frame, 0, &c), "empty window");
    c.window = 0;
    c.window_kib = 1;
    assert_rejected(bridge_encode_ack(frame, sizeof frame, 0, &c), "empty window");
}
END_TEST

START_TEST(test_layout_len)
{
    size_t len = encode_slot_welcome("id:u32", 4);
    unsigned char *layout_len = frame + BRIDGE_HEADER_SIZE + 24;

    /* layout_len beyond the frame, and short of it. */
    layout_len[0] = 7;
    assert_rejected(len, "WELCOME layout of 7 bytes");
    layout_len[0] = 0xff;
    layout_len[1] = 0xff;
    assert_rejected(len, "WELCOME layout of 65535 bytes");
    layout_len[0] = 5;
    layout_len[1] = 0;
    assert_rejected(len, "WELCOME layout of 5 bytes");
    /* The frame cut inside the layout. */
    len = encode_slot_welcome("id:u32", 4);
    assert_rejected(len - 1, "WELCOME layout of 6 bytes");
}
END_TEST

START_TEST(test_bad_layouts)
{
    char nul[] = "id:u32";

    assert_rejected(encode_slot_welcome("id:nosuchtype", 4), "does not parse");
    assert_rejected(encode_slot_welcome("id:u32 id:u32", 8), "does not parse");
    assert_rejected(encode_slot_welcome("id:u32", 8), "layout of 4 bytes for records of 8");
    /* A NUL byte inside the layout text. */
    encode_slot_welcome(nul, 4);
    frame[BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED + 2] = '\0';
    assert_rejected(BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED + 6, "NUL");
}
END_TEST

START_TEST(test_welcome_numbers)
{
    struct bridge_welcome w = ring_welcome;

    w.kind = 3;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "kind 3");
    w.kind = 0;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "kind 0");
    w = ring_welcome;
    w.policy = 0;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "ring policy 0");
    w.policy = 3;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "ring policy 3");
    w = ring_welcome;
    w.capacity = 128;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "capacity 128");
    w.capacity = 65537;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "capacity 65537");
    w.capacity = 1u << 31;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "capacity");
    w = ring_welcome;
    w.max_message = 0;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "largest message 0");
    w.max_message = 65536 / 2 - 15;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "largest message");
    w.max_message = 65536 / 2 - 16;
    ck_assert_int_eq(decode(bridge_encode_welcome(frame, sizeof frame, 0, &w)), 0);
    w = ring_welcome;
    w.record_size = 4;
    assert_rejected(bridge_encode_welcome(frame, sizeof frame, 0, &w), "ring with a record");
    /* Slots. */
    assert_rejected(encode_slot_welcome(NULL, 0), "record size 0");
    assert_rejected(encode_slot_welcome(NULL, SHMKIT_RECORD_MAX + 1), "record size");
    ck_assert_int_eq(decode(encode_slot_welcome(NULL, SHMKIT_RECORD_MAX)), 0);
    encode_slot_welcome(NULL, 8);
    frame[BRIDGE_HEADER_SIZE + 1] = SHMKIT_RING_BLOCK;
    assert_rejected(BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED, "slot with a ring");
    encode_slot_welcome(NULL, 8);
    put32(frame + BRIDGE_HEADER_SIZE + 4, 4096);
    assert_rejected(BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED, "slot with a ring");
}
END_TEST

START_TEST(test_error_too_long)
{
    size_t len = bridge_encode_error(frame, sizeof frame, 6, "x");

    memset(frame + BRIDGE_HEADER_SIZE, 'y', BRIDGE_ERROR_MAX + 1);
    assert_rejected(BRIDGE_HEADER_SIZE + BRIDGE_ERROR_MAX + 1, "ERROR message of 1025");
    ck_assert_int_eq(decode(BRIDGE_HEADER_SIZE + BRIDGE_ERROR_MAX), 0);
    len = bridge_encode_error(frame, sizeof frame, 6, "ab");
    frame[BRIDGE_HEADER_SIZE + 1] = '\0';
    assert_rejected(len, "NUL");
}
END_TEST

static Suite *bridge_proto_suite(void)
{
    Suite *s = suite_create("bridge_proto");
    TCase *tc = tcase_create("round trips");

    tcase_add_test(tc, test_header_types);
    tcase_add_test(tc, test_data);
    tcase_add_test(tc, test_hello);
    tcase_add_test(tc, test_ack);
    tcase_add_test(tc, test_welcome_ring);
    tcase_add_test(tc, test_welcome_slot);
    tcase_add_test(tc, test_error);
    tcase_add_test(tc, test_error_cut);
    tcase_add_test(tc, test_error_text_sanitized);
    tcase_add_test(tc, test_directions);
    tcase_add_test(tc, test_batch);
    suite_add_tcase(s, tc);
    tc = tcase_create("malformed");
    tcase_add_test(tc, test_short);
    tcase_add_test(tc, test_bad_header);
    tcase_add_test(tc, test_payload_sizes);
    tcase_add_test(tc, test_empty_windows);
    tcase_add_test(tc, test_layout_len);
    tcase_add_test(tc, test_bad_layouts);
    tcase_add_test(tc, test_welcome_numbers);
    tcase_add_test(tc, test_error_too_long);
    tcase_add_test(tc, test_bad_batch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(bridge_proto_suite());
}
