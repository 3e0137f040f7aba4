/*
 * bridge-receive.c - "shmkit-bridge receive ENDPOINT SPEC": write what a
 * sending bridge forwards into the local slot or ring SPEC, on a DEALER
 * socket.
 *
 * The local segment is this side's copy.  A block ring's writer position
 * (the next message number) is exactly what was applied, across kill -9,
 * since a send is atomic: the HELLO asks for that message, and ACKs tell
 * the sender what may leave its ring.  Every frame is validated before
 * anything of it reaches the segment; a bad one ends the program with
 * exit status 6 and nothing of it written.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bridge-proto.h"
#include "bridge.h"
#include "shmkit.h"

/* Frames taken from the socket before the next look at the clock and the
 * next ACK. */
#define BATCH 256
/* A write into a full block ring waits in slices this long, so that
 * heartbeats go on and signals are seen. */
#define WRITE_SLICE_MS 100
/* A block ring's ACK waits this long for more messages to cover (or for
 * a quarter of the window or of the ring), so that ACKs stay off the path
 * of a lone message, which matters for the round trip. */
#define ACK_DELAY_MS 2

/* A run ends with one of these besides an exit status: the sender said
 * BYE (receive --once). */
#define RECEIVE_BYE TOOL_STATUS_OWN

struct receiver {
    const struct bridge_options *o;
    void *sock, *monitor;
    shmkit_ring *ring;            /* the local copy, as its writer: one of */
    shmkit_slot *slot;            /* the two, or neither before a WELCOME */
    int welcomed;                 /* a WELCOME came in this session */
    struct bridge_welcome w;      /* its numbers (its layout is not kept) */
    uint64_t expected;            /* ring: the next message number needed */
    uint64_t applied;             /* slot: the last version written */
    uint64_t acked;               /* block: the last ACK's number */
    uint64_t remote_next;         /* the sender's next, from heartbeats */
    uint32_t unacked;             /* block: messages written since then */
    uint64_t unacked_bytes;       /* and the ring space they take */
    int64_t unacked_since;        /* when the first of them was written */
    int64_t now, heard, sent, hello_at;
    struct bridge_stats stats;
};

static int is_block(const struct receiver *r)
{
    return r->ring != NULL && shmkit_ring_policy(r->ring) == SHMKIT_RING_BLOCK;
}

/* ---- frames to the sender ------------------------------------------------ */

/* Every frame says that this side takes DATA_BATCH. */
static void send_frame(struct receiver *r, unsigned char *frame, size_t len)
{
    if (len >= BRIDGE_HEADER_SIZE)
        frame[5] |= BRIDGE_FLAG_BATCH;
    if (zmq_send(r->sock, frame, len, ZMQ_DONTWAIT) >= 0)
        r->sent = r->now;
}

static void send_header(struct receiver *r, int type, uint64_t number)
{
    unsigned char h[BRIDGE_HEADER_SIZE];

    send_frame(r, h, bridge_encode_header(h, sizeof h, type, number));
}

/* HELLO: the next message (ring) or the last version (slot) this side
 * holds; ANY when it has no copy yet. */
static void send_hello(struct receiver *r)
{
    unsigned char frame[BRIDGE_HEADER_SIZE + BRIDGE_HELLO_PAYLOAD];
    struct bridge_hello h;

    h.window = r->o->window;
    h.window_kib = r->o->window_kib;
    h.flags = r->ring == NULL && r->slot == NULL ? BRIDGE_HELLO_ANY : 0;
    send_frame(r, frame,
               bridge_encode_hello(frame, sizeof frame, r->slot ? r->applied : r->expected, &h));
    r->hello_at = r->now;
}

static void send_ack(struct receiver *r)
{
    unsigned char frame[BRIDGE_HEADER_SIZE + BRIDGE_ACK_PAYLOAD];
    struct bridge_credit c;

    if (!is_block(r) || !r->welcomed || r->expected == r->acked)
        return;
    c.window = r->o->window;
    c.window_kib = r->o->window_kib;
    send_frame(r, frame, bridge_encode_ack(frame, sizeof frame, r->expected, &c));
    r->acked = r->expected;
    r->unacked = 0;
    r->unacked_bytes = 0;
}

/* Whether a block ring's ACK waits to go (ACK_DELAY_MS at the most). */
static int ack_owed(const struct receiver *r)
{
    return r->unacked > 0 && r->welcomed && is_block(r);
}

/* Tell the sender why this side stops (exit STATUS there too), and
 * report it here. */
static tool_status give_up(struct receiver *r, tool_status status, const char *fmt, ...)
    TOOL_PRINTF(3, 4);
static tool_status give_up(struct receiver *r, tool_status status, const char *fmt, ...)
{
    unsigned char frame[BRIDGE_HEADER_SIZE + BRIDGE_ERROR_MAX];
    char text[BRIDGE_ERROR_MAX + 1];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    send_frame(r, frame, bridge_encode_error(frame, sizeof frame, (int)status, text));
    return tool_error(status, r->o->spec, "%s", text);
}

/* ---- the local segment --------------------------------------------------- */

/* Open an existing local copy as its writer; none is no error. */
static tool_status open_local(struct receiver *r)
{
    int kind = tool_segment_kind(r->o->spec), rc;

    if (kind == SHMKIT_KIND_RING) {
        if ((rc = shmkit_ring_open(&r->ring, r->o->spec, SHMKIT_WRITE)) < 0)
            return tool_fail(r->o->spec, "open", rc);
        r->expected = shmkit_ring_position(r->ring);
    } else if (kind == SHMKIT_KIND_SLOT) {
        if ((rc = shmkit_slot_open(&r->slot, r->o->spec, SHMKIT_WRITE)) < 0)
            return tool_fail(r->o->spec, "open", rc);
    } else if ((rc = shmkit_info(r->o->spec, &(struct shmkit_info){ 0 },
                                 sizeof(struct shmkit_info))) != -ENOENT) {
        return tool_fail(r->o->spec, NULL, rc); /* something that is no segment */
    }
    return TOOL_GO_ON;
}

static tool_status create_ring(struct receiver *r, uint64_t first)
{
    struct shmkit_ring_options opt = SHMKIT_RING_OPTIONS_INIT;
    int rc;

    opt.capacity = r->w.capacity;
    opt.max_message = r->w.max_message;
    opt.policy = (int)r->w.policy;
    opt.mode = r->o->mode;
    opt.consumers = r->o->consumers;
    opt.first_seq = first;
    if ((rc = shmkit_ring_create(&r->ring, r->o->spec, &opt)) < 0)
        return give_up(r, tool_exit_status(rc), "cannot create the local ring: %s (%s)",
                       shmkit_strerror(rc), shmkit_error_detail());
    r->expected = shmkit_ring_position(r->ring);
    bridge_notice(r->o, "created a %s ring of %lu bytes",
                  r->w.policy == SHMKIT_RING_BLOCK ? "block" : "overwrite",
                  (unsigned long)shmkit_ring_capacity(r->ring));
    return TOOL_GO_ON;
}

static tool_status create_slot(struct receiver *r, const struct bridge_welcome *w)
{
    char layout[BRIDGE_LAYOUT_MAX + 1];
    int rc;

    memcpy(layout, w->layout, w->layout_len);
    layout[w->layout_len] = '\0';
    rc = shmkit_slot_create(&r->slot, r->o->spec, w->layout_len ? layout : NULL,
                            w->layout_len ? 0 : w->record_size, r->o->mode, 0);
    if (rc < 0)
        return give_up(r, tool_exit_status(rc), "cannot create the local slot: %s (%s)",
                       shmkit_strerror(rc), shmkit_error_detail());
    bridge_notice(r->o, "created a slot of %lu-byte records", (unsigned long)w->record_size);
    return TOOL_GO_ON;
}

/* An existing local copy must have the sender's shape: else nothing is
 * written and both sides stop with exit status 5. */
static tool_status check_local(struct receiver *r, const struct bridge_welcome *w)
{
    const shmkit_layout *l;
    const char *text;

    if (r->ring != NULL) {
        if (w->kind != SHMKIT_KIND_RING)
            return give_up(r, TOOL_EXIT_INCOMPATIBLE, "the local copy is a ring, the sender's a slot");
        if ((unsigned)shmkit_ring_policy(r->ring) != w->policy
            || shmkit_ring_capacity(r->ring) != w->capacity
            || shmkit_ring_max_message(r->ring) != w->max_message)
            return give_up(r, TOOL_EXIT_INCOMPATIBLE,
                           "the local ring (%s, %zu bytes, messages up to %zu) is not like the "
                           "sender's (%s, %lu bytes, messages up to %lu)",
                           shmkit_ring_policy(r->ring) == SHMKIT_RING_BLOCK ? "block" : "overwrite",
                           shmkit_ring_capacity(r->ring), shmkit_ring_max_message(r->ring),
                           w->policy == SHMKIT_RING_BLOCK ? "block" : "overwrite",
                           (unsigned long)w->capacity, (unsigned long)w->max_message);
        return TOOL_GO_ON;
    }
    if (w->kind != SHMKIT_KIND_SLOT)
        return give_up(r, TOOL_EXIT_INCOMPATIBLE, "the local copy is a slot, the sender's a ring");
    l = shmkit_slot_layout(r->slot);
    text = l != NULL ? shmkit_layout_text(l) : "";
    if (shmkit_slot_record_size(r->slot) != w->record_size || strlen(text) != w->layout_len
        || memcmp(text, w->layout, w->layout_len) != 0)
        return give_up(r, TOOL_EXIT_INCOMPATIBLE,
                       "the local slot's records (%zu bytes, layout \"%s\") are not like the "
                       "sender's (%lu bytes, layout \"%.*s\")",
                       shmkit_slot_record_size(r->slot), text, (unsigned long)w->record_size,
                       (int)w->layout_len, w->layout);
    return TOOL_GO_ON;
}

/* ---- frames from the sender ---------------------------------------------- */

static tool_status take_welcome(struct receiver *r, const struct bridge_frame *f)
{
    const struct bridge_welcome *w = &f->u.welcome;
    tool_status status;
    int had_copy = r->ring != NULL || r->slot != NULL;

    r->w = *w;
    r->w.layout = NULL;
    if (had_copy)
        status = check_local(r, w);
    else
        status = w->kind == SHMKIT_KIND_RING ? create_ring(r, f->number) : create_slot(r, w);
    if (status != TOOL_GO_ON)
        return status;
    if (r->ring != NULL && f->number > r->expected) {
        /* Acknowledged to another receiver, or dropped from the sender's
         * ring: this copy never gets them. */
        if (had_copy || is_block(r))
            bridge_notice(r->o, "messages %llu .. %llu are lost to this copy",
                          (unsigned long long)r->expected, (unsigned long long)f->number - 1);
        if (had_copy)
            r->stats.lost += f->number - r->expected;
        r->expected = f->number;
    }
    if (!r->welcomed)
        bridge_notice(r->o, "connected: %s from %s %llu",
                      w->kind == SHMKIT_KIND_SLOT ? "slot" : "ring",
                      w->kind == SHMKIT_KIND_SLOT ? "version" : "message",
                      (unsigned long long)f->number);
    r->welcomed = 1;
    /* The session starts at the WELCOME's number: what it sends again
     * below this copy's next message is dropped as duplicates, and an ACK
     * soon (ACK_DELAY_MS) lets it leave the sender's ring. */
    r->acked = is_block(r) && f->number < r->expected ? f->number : r->expected;
    r->unacked = r->acked < r->expected ? 1 : 0;
    r->unacked_bytes = 0;
    r->unacked_since = r->now;
    return TOOL_GO_ON;
}

/* Write a block ring's message; a full ring waits, in slices, while
 * heartbeats go on. */
static tool_status write_block(struct receiver *r, const void *data, size_t len)
{
    int rc;

    while ((rc = shmkit_ring_send(r->ring, data, len, WRITE_SLICE_MS)) == -ETIMEDOUT
           || rc == -EINTR) {
        if (tool_signal_caught())
            return TOOL_SIGNALLED;
        r->now = bridge_now_ms();
        send_ack(r); /* what is written meanwhile */
        if (r->now - r->sent >= r->o->heartbeat_ms)
            send_header(r, BRIDGE_HEARTBEAT, r->expected);
    }
    return rc < 0 ? give_up(r, tool_exit_status(rc), "write: %s (%s)", shmkit_strerror(rc),
                            shmkit_error_detail())
                  : TOOL_GO_ON;
}

static tool_status take_ring_data(struct receiver *r, uint64_t seq, const void *data,
                                  size_t len)
{
    tool_status status;
    int rc;

    if (len > r->w.max_message)
        return give_up(r, TOOL_EXIT_NETWORK, "DATA of %zu bytes, beyond the largest message %lu",
                       len, (unsigned long)r->w.max_message);
    if (seq < r->expected)
        return TOOL_GO_ON; /* a duplicate, or older than what this copy has */
    if (is_block(r)) {
        if (seq > r->expected)
            return give_up(r, TOOL_EXIT_NETWORK, "DATA %llu where %llu was due",
                           (unsigned long long)seq, (unsigned long long)r->expected);
        if ((status = write_block(r, data, len)) != TOOL_GO_ON)
            return status;
        /* A quarter of the window, or of the sender's ring (a copy's
         * capacity is the same): the sender gets credit, and its writer
         * room, before either runs out. */
        r->unacked_bytes += len + 16;
        if (r->unacked++ == 0)
            r->unacked_since = r->now;
        if (r->unacked >= r->o->window / 4 + 1
            || r->unacked_bytes >= (uint64_t)r->o->window_kib * 256
            || r->unacked_bytes >= r->w.capacity / 4)
            send_ack(r);
    } else {
        r->stats.lost += seq - r->expected;
        if ((rc = shmkit_ring_send(r->ring, data, len, 0)) < 0)
            return give_up(r, tool_exit_status(rc), "write: %s", shmkit_strerror(rc));
    }
    r->expected = seq + 1;
    bridge_stats_count(&r->stats, len);
    return TOOL_GO_ON;
}

/* A DATA_BATCH: the whole frame is checked before any of it is written
 * (every length within the ring's largest message, a block ring's numbers
 * starting at or before the one due), then its messages go in as DATAs
 * would.  A receiver of a slot never asked for one. */
static tool_status take_ring_batch(struct receiver *r, const struct bridge_frame *f)
{
    struct bridge_batch_walk walk;
    const void *msg;
    size_t len;
    uint64_t seq = f->number;
    tool_status status = TOOL_GO_ON;

    if (r->ring == NULL)
        return give_up(r, TOOL_EXIT_NETWORK, "DATA_BATCH for a slot");
    if (f->u.batch.largest > r->w.max_message)
        return give_up(r, TOOL_EXIT_NETWORK, "DATA_BATCH with a message of %zu bytes, beyond "
                       "the largest message %lu", f->u.batch.largest,
                       (unsigned long)r->w.max_message);
    if (is_block(r) && seq > r->expected)
        return give_up(r, TOOL_EXIT_NETWORK, "DATA_BATCH from %llu where %llu was due",
                       (unsigned long long)seq, (unsigned long long)r->expected);
    bridge_batch_start(&walk, f);
    while (status == TOOL_GO_ON && bridge_batch_next(&walk, &msg, &len))
        status = take_ring_data(r, seq++, msg, len);
    return status;
}

static tool_status take_slot_data(struct receiver *r, uint64_t version, const void *data,
                                  size_t len)
{
    int rc;

    if (len != r->w.record_size)
        return give_up(r, TOOL_EXIT_NETWORK, "DATA of %zu bytes for records of %lu", len,
                       (unsigned long)r->w.record_size);
    if (version <= r->applied)
        return TOOL_GO_ON; /* never backwards */
    if ((rc = shmkit_slot_write(r->slot, data, len)) < 0)
        return tool_fail(r->o->spec, "write", rc);
    r->applied = version;
    bridge_stats_count(&r->stats, len);
    return TOOL_GO_ON;
}

static tool_status take_frame(struct receiver *r, const void *data, size_t len)
{
    struct bridge_frame f;
    char why[160], text[BRIDGE_ERROR_MAX + 1];
    int code;

    if (bridge_decode(data, len, &f, why, sizeof why) != 0)
        return give_up(r, TOOL_EXIT_NETWORK, "bad frame from the sender: %s", why);
    if (!bridge_type_from_sender(f.type))
        return give_up(r, TOOL_EXIT_NETWORK, "unexpected %s from the sender",
                       bridge_type_name(f.type));
    r->heard = r->now;
    switch (f.type) {
    case BRIDGE_WELCOME:
        return take_welcome(r, &f);
    case BRIDGE_DATA:
        /* Sent before the sender saw this side's latest HELLO (after a
         * silence or a reconnection): it comes again after the WELCOME. */
        if (!r->welcomed)
            return TOOL_GO_ON;
        return r->slot != NULL ? take_slot_data(r, f.number, f.payload, f.payload_len)
                               : take_ring_data(r, f.number, f.payload, f.payload_len);
    case BRIDGE_DATA_BATCH:
        return r->welcomed ? take_ring_batch(r, &f) : TOOL_GO_ON;
    case BRIDGE_ERROR:
        bridge_error_text(&f, text, sizeof text);
        code = bridge_error_exit_code(f.number);
        return tool_error((tool_status)code, r->o->spec, "the sender refused: %s", text);
    case BRIDGE_BYE:
        send_ack(r);
        r->welcomed = 0;
        bridge_notice(r->o, "the sender said goodbye");
        return r->o->once ? RECEIVE_BYE : TOOL_GO_ON;
    default: /* HEARTBEAT */
        r->remote_next = f.number;
        return TOOL_GO_ON;
    }
}

/* Take what the socket has, up to BATCH frames. */
static tool_status drain_socket(struct receiver *r)
{
    zmq_msg_t msg;
    tool_status status = TOOL_GO_ON;
    int i, n;

    zmq_msg_init(&msg);
    for (i = 0; i < BATCH && status == TOOL_GO_ON; i++) {
        if ((n = zmq_msg_recv(&msg, r->sock, ZMQ_DONTWAIT)) < 0) {
            if (zmq_errno() != EAGAIN && zmq_errno() != EINTR)
                status = tool_error(TOOL_EXIT_NETWORK, r->o->endpoint, "receive: %s",
                                    zmq_strerror(zmq_errno()));
            break;
        }
        status = zmq_msg_more(&msg)
                     ? give_up(r, TOOL_EXIT_NETWORK, "a message of several frames")
                     : take_frame(r, zmq_msg_data(&msg), zmq_msg_size(&msg));
    }
    zmq_msg_close(&msg);
    return status;
}

/* ---- the loop ------------------------------------------------------------ */

static tool_status housekeeping(struct receiver *r)
{
    int64_t hb = r->o->heartbeat_ms;

    if (r->welcomed && r->now - r->heard >= 5 * hb) {
        bridge_notice(r->o, "the sender is silent: saying HELLO again");
        r->welcomed = 0;
        send_hello(r);
    } else if (!r->welcomed && r->now - r->hello_at >= hb) {
        send_hello(r);
    } else if (r->now - r->sent >= hb) {
        send_header(r, BRIDGE_HEARTBEAT, r->slot ? r->applied : r->expected);
    }
    bridge_stats_tick(r->o, &r->stats,
                      r->remote_next > r->expected && r->ring ? r->remote_next - r->expected : 0,
                      r->welcomed ? 1u : 0u, r->now);
    return bridge_monitor_check(r->monitor);
}

static tool_status run(struct receiver *r)
{
    zmq_pollitem_t item = { r->sock, 0, ZMQ_POLLIN, 0 };
    int wait_ms = r->o->heartbeat_ms < 200 ? r->o->heartbeat_ms / 2 + 1 : 100, ready;
    tool_status status;

    r->now = r->heard = bridge_now_ms();
    send_hello(r);
    for (;;) {
        if (tool_signal_caught()) {
            send_ack(r);
            send_header(r, BRIDGE_BYE, r->expected);
            return TOOL_EXIT_OK;
        }
        ready = zmq_poll(&item, 1, ack_owed(r) ? ACK_DELAY_MS : wait_ms);
        r->now = bridge_now_ms();
        if ((status = drain_socket(r)) != TOOL_GO_ON)
            return status == RECEIVE_BYE ? TOOL_EXIT_OK : status;
        if (ack_owed(r) && (ready == 0 || r->now - r->unacked_since >= ACK_DELAY_MS))
            send_ack(r);
        if ((status = housekeeping(r)) != TOOL_GO_ON)
            return status;
    }
}

int bridge_receive_main(int argc, char **argv)
{
    struct bridge_options o;
    struct receiver r;
    tool_status status;
    void *ctx;

    o.sending = 0;
    if ((status = bridge_parse_options(argc, argv, &o)) != TOOL_GO_ON)
        return status;
    memset(&r, 0, sizeof r);
    r.o = &o;
    r.stats.since = bridge_now_ms();
    tool_catch_signals();
    shmkit_set_wait_mode(SHMKIT_WAIT_BLOCK);
    if ((status = open_local(&r)) == TOOL_GO_ON) {
        ctx = zmq_ctx_new();
        status = bridge_socket_open(ctx, ZMQ_DEALER, &o, &r.sock, &r.monitor);
        if (status == TOOL_GO_ON)
            status = run(&r);
        if (r.sock != NULL)
            zmq_setsockopt(r.sock, ZMQ_LINGER, &(int){ status == TOOL_EXIT_OK ? 500 : 100 },
                           sizeof(int));
        bridge_monitor_close(r.monitor);
        if (r.sock != NULL)
            zmq_close(r.sock);
        bridge_security_stop();
        zmq_ctx_term(ctx);
    }
    shmkit_ring_close(r.ring);
    shmkit_slot_close(r.slot);
    return status == TOOL_EXIT_OK ? TOOL_EXIT_OK : tool_end(status);
}
