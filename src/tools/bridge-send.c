/*
 * bridge-send.c - "shmkit-bridge send SPEC ENDPOINT": forward the local
 * slot or ring SPEC to the receiving bridges on a ROUTER socket.
 *
 *   block ring      one receiver at a time, exactly once: the bridge is a
 *                   consumer with acknowledged consumption (SHMKIT_ACK),
 *                   sends within the receiver's credit (window) and
 *                   acknowledges in the ring only what the receiver
 *                   acknowledged as written, so a slow or absent far side
 *                   holds the local writer back and nothing is lost when
 *                   either bridge dies;
 *   overwrite ring  a reader; every message to every live peer, dropped
 *                   for a peer whose queue is full;
 *   slot            every new version to every live peer, and the current
 *                   one to a peer that says HELLO.
 *
 * A ring's messages that are ready together travel in one DATA_BATCH
 * frame (up to BATCH_BYTES) to receivers that take it, which spares
 * ZeroMQ a message per ring message; a lone message goes as a DATA.
 *
 * The loop alternates a short wait on the segment with a look at the
 * socket that does not wait; with nothing to send (no credit, no peer) it
 * waits on the socket instead.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bridge-proto.h"
#include "bridge.h"
#include "shmkit.h"

/* The segment wait between looks at the socket: short, since HELLOs and
 * ACKs wait that long.  The bridge waits in block mode (no spinning: on
 * a machine with fewer cores than busy processes a spinning bridge takes
 * the CPU that the other end of the stream needs). */
#define WAIT_MS 2
/* Messages sent between looks at the socket. */
#define BATCH 4096
/* A DATA_BATCH frame gathers messages up to this many bytes. */
#define BATCH_BYTES 65536u
/* The block ring's in-flight bookkeeping bounds the window. */
#define WINDOW_MAX 65536u
/* Housekeeping (heartbeats, silent peers, stats) at most this often. */
#define HOUSEKEEPING_MS 10
/* SIGTERM: how long to wait for the last ACK. */
#define DRAIN_MS 2000

struct peer {
    unsigned char id[256];        /* its ROUTER routing id */
    size_t id_len;
    int64_t heard;                /* when it last sent a frame */
    int64_t sent;                 /* when it was last sent one */
    uint64_t version;             /* slot: the last version it was sent */
    int batch;                    /* it takes DATA_BATCH (BRIDGE_FLAG_BATCH) */
};

/* A block ring's message in flight: its number and size. */
struct inflight {
    uint64_t seq;
    uint32_t len;
};

struct sender {
    const struct bridge_options *o;
    void *sock, *monitor;
    shmkit_ring *ring;            /* one of the two */
    shmkit_slot *slot;
    int policy;                   /* ring: SHMKIT_RING_BLOCK or _OVERWRITE */
    struct bridge_welcome welcome;
    char layout[256];
    size_t max_len;
    /* The frame being gathered in buf: a header, then COUNT records (a u32
     * length and the message) of USED bytes, numbered from FIRST.  A block
     * ring's frame that met a full queue (the HWM) waits in pending_msg
     * (PENDING) and is sent before anything else. */
    unsigned char *buf;
    size_t used;
    uint32_t count;
    uint64_t first;
    int pending;
    zmq_msg_t pending_msg;
    struct peer *peers;
    unsigned npeers, peers_cap;
    uint64_t next;                /* the number of the next DATA */
    uint64_t lost_seen;           /* overwrite: shmkit_ring_lost so far */
    /* Block ring session (peers[0]). */
    uint64_t peer_acked;          /* all below are written over there */
    uint32_t window, window_kib;
    struct inflight *fifo;
    size_t fifo_head, fifo_count;
    uint64_t bytes_inflight;
    uint64_t ring_inflight;       /* the ring space they hold, about */
    int drained;                  /* the last look at the ring found nothing */
    int64_t now, housekept;
    struct bridge_stats stats;
};

static int is_block(const struct sender *s)
{
    return s->ring != NULL && s->policy == SHMKIT_RING_BLOCK;
}

/* The ring space a message of LEN bytes takes, at most: its frame header
 * and alignment. */
static uint64_t ring_bytes(size_t len)
{
    return ((uint64_t)len + 16 + 15) & ~(uint64_t)15;
}

/* Whether the block ring's writer may be waiting for room that only an
 * ACK can make: what is in flight leaves less than two of the largest
 * frames (one may go to padding at the ring's end). */
static int writer_may_wait(const struct sender *s)
{
    return s->ring_inflight + 2 * ring_bytes(s->max_len) > s->welcome.capacity;
}

/* ---- peers --------------------------------------------------------------- */

static struct peer *find_peer(struct sender *s, const void *id, size_t len)
{
    unsigned i;

    for (i = 0; i < s->npeers; i++)
        if (s->peers[i].id_len == len && memcmp(s->peers[i].id, id, len) == 0)
            return &s->peers[i];
    return NULL;
}

static struct peer *add_peer(struct sender *s, const void *id, size_t len)
{
    struct peer *p;

    if (s->npeers == s->peers_cap) {
        unsigned cap = s->peers_cap ? 2 * s->peers_cap : 8;
        p = realloc(s->peers, cap * sizeof *p);
        if (p == NULL)
            return NULL;
        s->peers = p;
        s->peers_cap = cap;
    }
    p = &s->peers[s->npeers++];
    memcpy(p->id, id, len);
    p->id_len = len;
    p->heard = p->sent = s->now;
    p->version = 0;
    p->batch = 0;
    return p;
}

static void drop_peer(struct sender *s, struct peer *p, const char *why)
{
    bridge_notice(s->o, "peer dropped: %s", why);
    *p = s->peers[--s->npeers];
}

/* Send FRAME (LEN bytes) to P without waiting: 0, or -errno (EAGAIN: its
 * queue is full; EHOSTUNREACH: it is gone). */
static int peer_send(struct sender *s, struct peer *p, const void *frame, size_t len)
{
    if (zmq_send(s->sock, p->id, p->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send(s->sock, frame, len, ZMQ_DONTWAIT) < 0)
        return -zmq_errno();
    p->sent = s->now;
    return 0;
}

static void send_header(struct sender *s, struct peer *p, int type, uint64_t number)
{
    unsigned char h[BRIDGE_HEADER_SIZE];

    bridge_encode_header(h, sizeof h, type, number);
    peer_send(s, p, h, sizeof h);
}

/* Tell the peer with routing id ID why it is refused (exit CODE there),
 * and forget it. */
static void refuse(struct sender *s, const void *id, size_t id_len, int code, const char *why)
{
    unsigned char frame[BRIDGE_HEADER_SIZE + BRIDGE_ERROR_MAX];
    struct peer tmp, *p = find_peer(s, id, id_len);
    size_t len = bridge_encode_error(frame, sizeof frame, code, why);

    if (p == NULL) {
        memcpy(tmp.id, id, id_len);
        tmp.id_len = id_len;
        p = &tmp;
    }
    peer_send(s, p, frame, len);
    if (p != &tmp)
        drop_peer(s, p, why);
    else
        bridge_notice(s->o, "peer refused: %s", why);
}

/* ---- the local segment --------------------------------------------------- */

/* Whether the block ring SPEC has an entry that a consumer left (closed or
 * died): the bridge takes it over rather than join afresh. */
static int has_left_entry(const char *spec)
{
    struct shmkit_consumer c[SHMKIT_RING_MAX_CONSUMERS];
    int i, n = shmkit_info_consumers(spec, c, SHMKIT_RING_MAX_CONSUMERS, sizeof c[0]);

    for (i = 0; i < n && i < SHMKIT_RING_MAX_CONSUMERS; i++)
        if (c[i].active && c[i].alive != 1)
            return 1;
    return 0;
}

static tool_status open_ring(struct sender *s, const struct shmkit_info *info)
{
    unsigned flags = 0;
    int rc;

    if (info->ring_policy == SHMKIT_RING_BLOCK) {
        flags = SHMKIT_ACK;
        if (s->o->from_oldest && !has_left_entry(s->o->spec))
            flags |= SHMKIT_FROM_OLDEST;
    } else if (s->o->from_oldest) {
        flags = SHMKIT_FROM_OLDEST;
    }
    if ((rc = shmkit_ring_open(&s->ring, s->o->spec, flags)) < 0)
        return tool_fail(s->o->spec, "open", rc);
    s->policy = shmkit_ring_policy(s->ring);
    s->max_len = shmkit_ring_max_message(s->ring);
    s->welcome.kind = SHMKIT_KIND_RING;
    s->welcome.policy = (unsigned)s->policy;
    s->welcome.capacity = (uint32_t)shmkit_ring_capacity(s->ring);
    s->welcome.max_message = (uint32_t)s->max_len;
    s->next = shmkit_ring_position(s->ring);
    return TOOL_GO_ON;
}

static tool_status open_slot(struct sender *s)
{
    const shmkit_layout *layout;
    int rc;

    if ((rc = shmkit_slot_open(&s->slot, s->o->spec, 0)) < 0)
        return tool_fail(s->o->spec, "open", rc);
    s->max_len = shmkit_slot_record_size(s->slot);
    s->welcome.kind = SHMKIT_KIND_SLOT;
    s->welcome.record_size = (uint32_t)s->max_len;
    if ((layout = shmkit_slot_layout(s->slot)) != NULL) {
        snprintf(s->layout, sizeof s->layout, "%s", shmkit_layout_text(layout));
        s->welcome.layout = s->layout;
        s->welcome.layout_len = strlen(s->layout);
    }
    return TOOL_GO_ON;
}

/* The bytes after buf's header: a batch, or one record of the largest
 * message. */
static size_t gather_room(const struct sender *s)
{
    size_t one = BRIDGE_BATCH_RECORD + s->max_len;

    return one > BATCH_BYTES ? one : BATCH_BYTES;
}

/* The socket's ZMQ_SNDHWM, in frames: about BRIDGE_QUEUE_BYTES of the
 * largest frame per peer. */
static int send_hwm(const struct sender *s)
{
    size_t frames = BRIDGE_QUEUE_BYTES / (BRIDGE_HEADER_SIZE + gather_room(s));

    return frames < 4 ? 4 : frames > BRIDGE_HWM ? BRIDGE_HWM : (int)frames;
}

static tool_status open_segment(struct sender *s)
{
    struct shmkit_info info;
    tool_status status;
    int rc;

    if ((rc = shmkit_info(s->o->spec, &info, sizeof info)) < 0)
        return tool_fail(s->o->spec, NULL, rc);
    status = info.kind == SHMKIT_KIND_RING ? open_ring(s, &info) : open_slot(s);
    if (status != TOOL_GO_ON)
        return status;
    /* The stream's identity: where and when the segment was made. */
    s->welcome.stream = (uint64_t)info.created_sec * 1000000000u ^ (uint64_t)info.creator_pid;
    s->buf = malloc(BRIDGE_HEADER_SIZE + gather_room(s));
    s->fifo = malloc(WINDOW_MAX * sizeof *s->fifo);
    if (s->buf == NULL || s->fifo == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, s->o->spec, "out of memory");
    return TOOL_GO_ON;
}

/* ---- sessions ------------------------------------------------------------ */

/* A frame that waits for room is for the block session that ends. */
static void forget_pending(struct sender *s)
{
    if (s->pending)
        zmq_msg_close(&s->pending_msg);
    s->pending = 0;
}

/* A WELCOME that meets a full queue (frames of the session it ends can
 * fill it) waits as the block session's pending frame, since DATA
 * without it would be dropped.  A broadcast peer that misses one says
 * HELLO again after a heartbeat. */
static void send_welcome(struct sender *s, struct peer *p, uint64_t number)
{
    unsigned char frame[BRIDGE_HEADER_SIZE + BRIDGE_WELCOME_FIXED + sizeof s->layout];
    size_t len = bridge_encode_welcome(frame, sizeof frame, number, &s->welcome);

    if (peer_send(s, p, frame, len) != -EAGAIN || !is_block(s) || s->pending)
        return;
    if (zmq_msg_init_size(&s->pending_msg, len) == 0) {
        memcpy(zmq_msg_data(&s->pending_msg), frame, len);
        s->pending = 1;
    }
}

/* Block ring: move the cursor to message NEED, which the receiver's copy
 * lacks, or to the first unacknowledged one if the receiver needs less
 * (those were acknowledged to another; it counts them as lost).  Returns
 * the WELCOME's number, or -1 if the receiver is ahead of this ring. */
static int64_t block_start(struct sender *s, const struct bridge_hello *h, uint64_t need)
{
    uint64_t acked;
    int rc;

    if ((rc = shmkit_ring_rewind(s->ring)) < 0)
        return rc;
    acked = shmkit_ring_acked(s->ring);
    if ((h->flags & BRIDGE_HELLO_ANY) || need <= acked)
        return (int64_t)acked;
    while (shmkit_ring_position(s->ring) < need) {
        rc = shmkit_ring_recv(s->ring, s->buf + BRIDGE_HEADER_SIZE, s->max_len, 0);
        if (rc < 0)
            return rc == -EAGAIN ? -1 : rc;
    }
    if ((rc = shmkit_ring_ack(s->ring, need)) < 0)
        return rc;
    return (int64_t)need;
}

static void hello_block(struct sender *s, const void *id, size_t id_len,
                        const struct bridge_hello *h, uint64_t need)
{
    int64_t start;
    struct peer *p;

    if (s->npeers > 0 && find_peer(s, id, id_len) == NULL)
        refuse(s, s->peers[0].id, s->peers[0].id_len, TOOL_EXIT_NETWORK,
               "another receiver took over");
    s->npeers = 0;
    forget_pending(s);
    s->used = s->count = 0;
    if ((start = block_start(s, h, need)) < 0) {
        refuse(s, id, id_len, start == -1 ? TOOL_EXIT_INCOMPATIBLE : TOOL_EXIT_RUNTIME,
               start == -1 ? "receiver is ahead of this stream: its ring is not a copy of this one"
                           : shmkit_strerror((int)start));
        return;
    }
    if ((p = add_peer(s, id, id_len)) == NULL)
        return;
    s->next = s->peer_acked = (uint64_t)start;
    s->window = h->window < WINDOW_MAX ? h->window : WINDOW_MAX;
    s->window_kib = h->window_kib;
    s->fifo_head = s->fifo_count = 0;
    s->bytes_inflight = s->ring_inflight = 0;
    s->drained = 0;
    send_welcome(s, p, s->next);
    bridge_notice(s->o, "receiver joined at message %llu", (unsigned long long)s->next);
}

/* Overwrite ring or slot: one more peer (or the same again). */
static void hello_broadcast(struct sender *s, const void *id, size_t id_len)
{
    struct peer *p = find_peer(s, id, id_len);
    uint64_t version = 0;
    int rc;

    if (p == NULL && (p = add_peer(s, id, id_len)) == NULL)
        return;
    if (s->slot == NULL) {
        send_welcome(s, p, s->next);
        bridge_notice(s->o, "receiver joined at message %llu", (unsigned long long)s->next);
        return;
    }
    /* A slot is a last-value cache: the current record at once. */
    rc = shmkit_slot_read(s->slot, s->buf + BRIDGE_HEADER_SIZE, s->max_len, &version);
    send_welcome(s, p, version);
    if (rc >= 0 && version > 0) {
        bridge_encode_data_header(s->buf, version);
        if (peer_send(s, p, s->buf, BRIDGE_HEADER_SIZE + s->max_len) == 0)
            p->version = version;
    }
    bridge_notice(s->o, "receiver joined at version %llu", (unsigned long long)version);
}

/* ACK number M: everything below M is written over there. */
static void take_ack(struct sender *s, struct peer *p, const struct bridge_frame *f)
{
    uint64_t m = f->number;

    if (!is_block(s) || p != &s->peers[0])
        return;
    if (m < s->peer_acked)
        return; /* from an earlier session, which a new HELLO restarted */
    if (m > s->next) {
        /* The receiver has more than this session sent: it had them from
         * an earlier one (HELLOs queue up while the link is down, and each
         * restarts the session).  Go on from M as for a HELLO. */
        struct bridge_hello h = { f->u.ack.window, f->u.ack.window_kib, 0 };
        unsigned char id[sizeof p->id];
        size_t id_len = p->id_len;

        memcpy(id, p->id, id_len);
        hello_block(s, id, id_len, &h, m);
        if ((p = find_peer(s, id, id_len)) != NULL)
            p->batch = (f->flags & BRIDGE_FLAG_BATCH) != 0;
        return;
    }
    if (m > s->peer_acked && shmkit_ring_ack(s->ring, m) < 0) {
        refuse(s, p->id, p->id_len, TOOL_EXIT_NETWORK, "ACK out of this ring's range");
        return;
    }
    s->peer_acked = m;
    s->window = f->u.ack.window < WINDOW_MAX ? f->u.ack.window : WINDOW_MAX;
    s->window_kib = f->u.ack.window_kib;
    s->drained = 0; /* the writer may have written into the room made */
    while (s->fifo_count > 0 && s->fifo[s->fifo_head].seq < m) {
        s->bytes_inflight -= s->fifo[s->fifo_head].len;
        s->ring_inflight -= ring_bytes(s->fifo[s->fifo_head].len);
        s->fifo_head = (s->fifo_head + 1) % WINDOW_MAX;
        s->fifo_count--;
    }
}

/* A HELLO from the peer ID.  An ACK or a HEARTBEAT from a peer this
 * bridge does not know counts as one: the receiver's, after this bridge
 * restarted or forgot it, carries the number it needs (or the version it
 * holds), so the stream resumes at once instead of after the receiver's
 * silence timeout.  Its window is the default one until its next ACK. */
static void take_hello(struct sender *s, const void *id, size_t id_len,
                       const struct bridge_frame *f)
{
    struct bridge_hello h = { BRIDGE_DEFAULT_WINDOW, BRIDGE_DEFAULT_WINDOW_KIB, 0 };

    if (f->type == BRIDGE_HELLO)
        h = f->u.hello;
    if (is_block(s))
        hello_block(s, id, id_len, &h, f->number);
    else
        hello_broadcast(s, id, id_len);
}

/* One frame from the peer ID. */
static void take_frame(struct sender *s, const void *id, size_t id_len, const void *data,
                       size_t len)
{
    struct bridge_frame f;
    struct peer *p;
    char why[160], text[BRIDGE_ERROR_MAX + 1];

    if (bridge_decode(data, len, &f, why, sizeof why) != 0) {
        refuse(s, id, id_len, TOOL_EXIT_NETWORK, why);
        return;
    }
    if (!bridge_type_from_receiver(f.type)) {
        snprintf(why, sizeof why, "unexpected %s from a receiver", bridge_type_name(f.type));
        refuse(s, id, id_len, TOOL_EXIT_NETWORK, why);
        return;
    }
    p = find_peer(s, id, id_len);
    if (f.type == BRIDGE_HELLO || (p == NULL && (f.type == BRIDGE_ACK ||
                                                 f.type == BRIDGE_HEARTBEAT))) {
        take_hello(s, id, id_len, &f);
        if ((p = find_peer(s, id, id_len)) != NULL)
            p->batch = (f.flags & BRIDGE_FLAG_BATCH) != 0;
        return;
    }
    if (p == NULL)
        return; /* a peer forgotten, saying goodbye or failing */
    p->heard = s->now;
    p->batch = (f.flags & BRIDGE_FLAG_BATCH) != 0;
    if (f.type == BRIDGE_ACK)
        take_ack(s, p, &f);
    else if (f.type == BRIDGE_ERROR) {
        bridge_error_text(&f, text, sizeof text);
        drop_peer(s, p, text);
    } else if (f.type == BRIDGE_BYE)
        drop_peer(s, p, "it said goodbye");
}

/* Take what the socket has, without waiting.  TOOL_GO_ON, or an exit
 * status. */
static tool_status drain_socket(struct sender *s)
{
    unsigned char id[256], data[BRIDGE_HEADER_SIZE + BRIDGE_ERROR_MAX + 1];
    int n, i, more;
    size_t size = sizeof more;

    for (i = 0; i < BATCH; i++) {
        int id_len = zmq_recv(s->sock, id, sizeof id, ZMQ_DONTWAIT);
        if (id_len < 0)
            return zmq_errno() == EAGAIN || zmq_errno() == EINTR
                       ? TOOL_GO_ON
                       : tool_error(TOOL_EXIT_NETWORK, s->o->endpoint, "receive: %s",
                                    zmq_strerror(zmq_errno()));
        n = zmq_recv(s->sock, data, sizeof data, 0);
        more = 0;
        zmq_getsockopt(s->sock, ZMQ_RCVMORE, &more, &size);
        while (more) { /* a peer that sends several frames is broken */
            zmq_recv(s->sock, data, 0, 0);
            zmq_getsockopt(s->sock, ZMQ_RCVMORE, &more, &size);
            n = -2;
        }
        if (n < 0 || id_len > (int)sizeof id)
            refuse(s, id, (size_t)id_len, TOOL_EXIT_NETWORK, "malformed message");
        else
            take_frame(s, id, (size_t)id_len, data,
                       (size_t)n > sizeof data ? sizeof data : (size_t)n);
    }
    return TOOL_GO_ON;
}

/* ---- sending ------------------------------------------------------------- */

/* Whether the block session may send one more message. */
static int has_credit(const struct sender *s)
{
    return s->npeers == 1 && s->next - s->peer_acked < s->window
           && s->fifo_count < WINDOW_MAX
           && (s->fifo_count == 0 || s->bytes_inflight < (uint64_t)s->window_kib * 1024);
}

/* Whether every peer takes DATA_BATCH: otherwise a frame holds one
 * message. */
static int peers_batch(const struct sender *s)
{
    unsigned i;

    for (i = 0; i < s->npeers; i++)
        if (!s->peers[i].batch)
            return 0;
    return 1;
}

/* Encode the header of the frame gathered in buf, the first TAKE records
 * of it: a DATA_BATCH, or a DATA for a lone message (its header written
 * over the record's length, so that the message follows it).  Returns
 * the frame's length, and where it starts in *AT. */
static size_t seal(struct sender *s, size_t take, uint32_t count, size_t *at)
{
    if (count == 1) {
        *at = BRIDGE_BATCH_RECORD;
        bridge_encode_data_header(s->buf + *at, s->first);
        return BRIDGE_HEADER_SIZE + take - BRIDGE_BATCH_RECORD;
    }
    *at = 0;
    bridge_encode_batch_header(s->buf, s->first);
    return BRIDGE_HEADER_SIZE + take;
}

/* Frames this long or longer go to ZeroMQ without a copy: buf itself,
 * freed by ZeroMQ once sent, and a fresh buf takes its place.  Shorter
 * ones are copied, which costs less than a buffer. */
#define ZERO_COPY_MIN 4096u

static void free_frame(void *data, void *hint)
{
    (void)data;
    free(hint);
}

/* Make MSG the frame of LEN bytes at AT in buf.  What buf holds after the
 * frame (CARRY bytes: a message that starts the next frame) moves to the
 * start of the next frame.  0, or -1 (out of memory). */
static int frame_msg(struct sender *s, zmq_msg_t *msg, size_t at, size_t len, size_t carry)
{
    unsigned char *old = s->buf, *fresh = NULL;

    if (len >= ZERO_COPY_MIN && (fresh = malloc(BRIDGE_HEADER_SIZE + gather_room(s))) != NULL
        && zmq_msg_init_data(msg, old + at, len, free_frame, old) == 0) {
        memcpy(fresh + BRIDGE_HEADER_SIZE, old + at + len, carry);
        s->buf = fresh;
        return 0;
    }
    free(fresh);
    if (zmq_msg_init_size(msg, len) != 0)
        return -1;
    memcpy(zmq_msg_data(msg), old + at, len);
    memmove(old + BRIDGE_HEADER_SIZE, old + at + len, carry);
    return 0;
}

/* MSG to the peer P without waiting: 0 (MSG is then empty), or -errno
 * (MSG unchanged).  A ROUTER takes or refuses the routing id frame and
 * its message together. */
static int peer_send_msg(struct sender *s, struct peer *p, zmq_msg_t *msg)
{
    if (zmq_send(s->sock, p->id, p->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send(msg, s->sock, ZMQ_DONTWAIT) < 0)
        return -zmq_errno();
    p->sent = s->now;
    return 0;
}

/* MSG to the block peer.  A full queue keeps it for later. */
static void block_send(struct sender *s, zmq_msg_t *msg)
{
    int rc = peer_send_msg(s, &s->peers[0], msg);

    if (rc == -EAGAIN) {
        zmq_msg_init(&s->pending_msg);
        zmq_msg_move(&s->pending_msg, msg);
        zmq_msg_close(msg);
        s->pending = 1;
        return;
    }
    zmq_msg_close(msg);
    if (rc < 0)
        drop_peer(s, &s->peers[0], "unreachable");
}

/* The frame that met a full queue: 0 sent (or its peer is gone), 1 the
 * queue is still full. */
static int send_pending(struct sender *s)
{
    int rc = s->npeers == 1 ? peer_send_msg(s, &s->peers[0], &s->pending_msg) : -EHOSTUNREACH;

    if (rc == -EAGAIN)
        return 1;
    if (rc < 0 && s->npeers == 1)
        drop_peer(s, &s->peers[0], "unreachable");
    forget_pending(s);
    return 0;
}

/* MSG (COUNT messages) to every peer; a peer whose queue is full misses
 * them.  The copies share MSG's bytes. */
static void broadcast(struct sender *s, zmq_msg_t *msg, uint32_t count)
{
    unsigned i = 0;

    while (i < s->npeers) {
        zmq_msg_t copy;
        int rc;

        zmq_msg_init(&copy);
        zmq_msg_copy(&copy, msg);
        if ((rc = peer_send_msg(s, &s->peers[i], &copy)) < 0)
            zmq_msg_close(&copy);
        if (rc == -EAGAIN)
            s->stats.lost += count;
        if (rc < 0 && rc != -EAGAIN) {
            drop_peer(s, &s->peers[i], "unreachable");
            continue;
        }
        i++;
    }
    zmq_msg_close(msg);
}

/* Send the first TAKE bytes and COUNT records gathered in buf; the CARRY
 * bytes after them start the next frame. */
static void send_gathered(struct sender *s, size_t take, uint32_t count, size_t carry)
{
    size_t at, len = seal(s, take, count, &at);
    zmq_msg_t msg;

    if (frame_msg(s, &msg, at, len, carry) != 0) {
        bridge_notice(s->o, "out of memory: %u messages not sent", (unsigned)count);
        s->stats.lost += count;
        return;
    }
    if (is_block(s))
        block_send(s, &msg);
    else
        broadcast(s, &msg, count);
}

/* Send everything gathered. */
static void flush(struct sender *s)
{
    if (s->count > 0 && s->npeers > 0)
        send_gathered(s, s->used, s->count, 0);
    s->used = s->count = 0;
}

/* The message numbered SEQ, just gathered at the end of buf (REC bytes
 * with its length), does not follow the others: the ring's writer
 * overwrote messages (overwrite ring), or dropped this bridge's entry
 * (block ring).  The others go first, and it starts a new frame.  Returns
 * -1 if the block peer had to be dropped: the stream cannot go on in
 * order behind a frame that waits for room (its next HELLO rewinds). */
static int gather_gap(struct sender *s, uint64_t seq, size_t rec)
{
    if (s->count > 0 && s->npeers > 0)
        send_gathered(s, s->used, s->count, rec);
    else
        memmove(s->buf + BRIDGE_HEADER_SIZE, s->buf + BRIDGE_HEADER_SIZE + s->used, rec);
    s->used = s->count = 0;
    if (is_block(s)) {
        if (s->pending || s->npeers == 0) {
            if (s->npeers == 1)
                drop_peer(s, &s->peers[0], "a gap in the ring while the peer's queue is full");
            forget_pending(s);
            return -1;
        }
        /* Tell the receiver where the stream goes on: it counts the gap
         * as lost. */
        send_welcome(s, &s->peers[0], seq);
        s->stats.lost += seq - s->next;
        s->next = seq;
    }
    return 0;
}

/* Bookkeeping of a block ring's message SEQ of LEN bytes, now gathered. */
static void block_account(struct sender *s, uint64_t seq, size_t len)
{
    struct inflight *e = &s->fifo[(s->fifo_head + s->fifo_count++) % WINDOW_MAX];

    e->seq = seq;
    e->len = (uint32_t)len;
    s->bytes_inflight += len;
    s->ring_inflight += ring_bytes(len);
}

/* Copy the ring's next message into buf: 1, 0 if none came within
 * WAIT_MS, or an error.  An overwrite ring's message overwritten while it
 * was copied is dropped (the gap in the numbers tells the receiver). */
static int gather_one(struct sender *s, int wait_ms)
{
    const void *msg;
    unsigned char *rec;
    uint64_t seq;
    int len = shmkit_ring_peek(s->ring, &msg, wait_ms), rc;

    if (len == -ETIMEDOUT || len == -EAGAIN || len == -EINTR)
        return 0;
    if (len < 0)
        return len;
    if (s->count > 0 && (s->used + BRIDGE_BATCH_RECORD + (size_t)len > BATCH_BYTES
                         || !peers_batch(s)))
        flush(s);
    rec = s->buf + BRIDGE_HEADER_SIZE + s->used;
    memcpy(rec + BRIDGE_BATCH_RECORD, msg, (size_t)len);
    if ((rc = shmkit_ring_release(s->ring)) == SHMKIT_EOVERWRITTEN) {
        s->stats.lost++;
        return 1;
    }
    if (rc < 0)
        return rc;
    bridge_encode_batch_length(rec, (uint32_t)len);
    seq = shmkit_ring_position(s->ring) - 1;
    if (s->count > 0 ? seq != s->first + s->count : is_block(s) && seq != s->next) {
        if (gather_gap(s, seq, BRIDGE_BATCH_RECORD + (size_t)len) < 0)
            return 1;
    }
    if (s->count++ == 0)
        s->first = seq;
    s->used += BRIDGE_BATCH_RECORD + (size_t)len;
    s->next = seq + 1;
    if (is_block(s))
        block_account(s, seq, (size_t)len);
    bridge_stats_count(&s->stats, (size_t)len);
    return 1;
}

/* Ring: gather up to BATCH messages, the first after a wait of up to
 * WAIT_MS, into frames, and send them. */
static tool_status pump_ring(struct sender *s)
{
    int i, rc;

    for (i = 0; i < BATCH; i++) {
        if (s->pending && send_pending(s) != 0)
            return TOOL_GO_ON;
        if (is_block(s) && !has_credit(s))
            break;
        rc = gather_one(s, i == 0 && s->count == 0 ? WAIT_MS : 0);
        s->drained = rc == 0;
        if (rc == 0)
            break;
        if (rc < 0)
            return tool_fail(s->o->spec, "receive", rc);
        if (!is_block(s)) {
            s->stats.lost += shmkit_ring_lost(s->ring) - s->lost_seen;
            s->lost_seen = shmkit_ring_lost(s->ring);
        }
    }
    if (!s->pending)
        flush(s);
    return TOOL_GO_ON;
}

/* The DATA of the slot's VERSION, in buf, to every peer that lacks it
 * (one that joined since it was published got it with its WELCOME); a
 * peer whose queue is full misses it. */
static void slot_broadcast(struct sender *s, uint64_t version)
{
    unsigned i = 0;

    while (i < s->npeers) {
        struct peer *p = &s->peers[i];
        int rc = p->version >= version
                     ? 0 : peer_send(s, p, s->buf, BRIDGE_HEADER_SIZE + s->max_len);

        if (rc == -EAGAIN)
            s->stats.lost++;
        if (rc < 0 && rc != -EAGAIN) {
            drop_peer(s, p, "unreachable");
            continue;
        }
        p->version = version;
        i++;
    }
    bridge_stats_count(&s->stats, s->max_len);
}

/* Slot: a new version after a wait of up to WAIT_MS, to every peer. */
static tool_status pump_slot(struct sender *s)
{
    uint64_t version = 0;
    int rc = shmkit_slot_wait(s->slot, s->next, WAIT_MS);

    if (rc == -ETIMEDOUT || rc == -EAGAIN || rc == -EINTR)
        return TOOL_GO_ON;
    if (rc >= 0)
        rc = shmkit_slot_read(s->slot, s->buf + BRIDGE_HEADER_SIZE, s->max_len, &version);
    if (rc < 0)
        return tool_fail(s->o->spec, "read", rc);
    if (version <= s->next)
        return TOOL_GO_ON;
    s->next = version;
    bridge_encode_data_header(s->buf, version);
    slot_broadcast(s, version);
    return TOOL_GO_ON;
}

/* Whether there is anything to send: otherwise wait on the socket. */
static int can_pump(const struct sender *s)
{
    if (s->slot != NULL)
        return s->npeers > 0;
    /* A block ring read to its end, whose writer may wait for the room an
     * ACK makes: wait for the ACK (a wait on the ring would hold it up). */
    if (is_block(s))
        return s->pending ? 1 : has_credit(s) && !(s->drained && writer_may_wait(s));
    return 1; /* overwrite: keep reading, so that a new peer starts fresh */
}

/* Wait up to MS for the socket to have something (or room, when a frame
 * is pending). */
static void wait_socket(struct sender *s, int ms)
{
    zmq_pollitem_t item = { s->sock, 0, ZMQ_POLLIN, 0 };

    if (s->pending)
        item.events |= ZMQ_POLLOUT;
    zmq_poll(&item, 1, ms);
}

/* ---- housekeeping -------------------------------------------------------- */

static tool_status housekeeping(struct sender *s)
{
    int hb = s->o->heartbeat_ms;
    unsigned i = 0;

    if (s->now - s->housekept < HOUSEKEEPING_MS)
        return TOOL_GO_ON;
    s->housekept = s->now;
    while (i < s->npeers) {
        struct peer *p = &s->peers[i];
        if (s->now - p->heard >= 5 * (int64_t)hb) {
            drop_peer(s, p, "silent for 5 heartbeats");
            continue;
        }
        if (s->now - p->sent >= hb)
            send_header(s, p, BRIDGE_HEARTBEAT, s->next);
        i++;
    }
    bridge_stats_tick(s->o, &s->stats, is_block(s) ? s->next - s->peer_acked : 0, s->npeers,
                      s->now);
    return bridge_monitor_check(s->monitor);
}

/* SIGTERM or SIGINT: send what is owed (a block ring: wait up to DRAIN_MS
 * for the last ACK), then BYE. */
static void drain(struct sender *s)
{
    int64_t end = bridge_now_ms() + DRAIN_MS;
    unsigned i;

    while (is_block(s) && s->npeers == 1 && s->peer_acked < s->next
           && (s->now = bridge_now_ms()) < end) {
        if (s->pending)
            send_pending(s);
        else
            flush(s);
        wait_socket(s, 20);
        drain_socket(s);
    }
    for (i = 0; i < s->npeers; i++)
        send_header(s, &s->peers[i], BRIDGE_BYE, s->next);
}

static tool_status run(struct sender *s)
{
    tool_status status;

    for (;;) {
        s->now = bridge_now_ms();
        if (tool_signal_caught()) {
            drain(s);
            return TOOL_EXIT_OK;
        }
        if ((status = drain_socket(s)) != TOOL_GO_ON)
            return status;
        if (!can_pump(s))
            wait_socket(s, HOUSEKEEPING_MS * 5);
        else if ((status = s->slot != NULL ? pump_slot(s) : pump_ring(s)) != TOOL_GO_ON)
            return status;
        if ((status = housekeeping(s)) != TOOL_GO_ON)
            return status;
    }
}

int bridge_send_main(int argc, char **argv)
{
    struct bridge_options o;
    struct sender s;
    tool_status status;
    void *ctx;

    o.sending = 1;
    if ((status = bridge_parse_options(argc, argv, &o)) != TOOL_GO_ON)
        return status;
    memset(&s, 0, sizeof s);
    s.o = &o;
    s.now = s.stats.since = bridge_now_ms();
    tool_catch_signals();
    shmkit_set_wait_mode(SHMKIT_WAIT_BLOCK);
    if ((status = open_segment(&s)) == TOOL_GO_ON) {
        ctx = zmq_ctx_new();
        o.send_hwm = send_hwm(&s);
        status = bridge_socket_open(ctx, ZMQ_ROUTER, &o, &s.sock, &s.monitor);
        if (status == TOOL_GO_ON)
            status = run(&s);
        if (s.sock != NULL)
            zmq_setsockopt(s.sock, ZMQ_LINGER, &(int){ status == TOOL_EXIT_OK ? 500 : 0 },
                           sizeof(int));
        bridge_monitor_close(s.monitor);
        if (s.sock != NULL)
            zmq_close(s.sock);
        bridge_security_stop();
        zmq_ctx_term(ctx);
    }
    shmkit_ring_close(s.ring);
    shmkit_slot_close(s.slot);
    forget_pending(&s);
    free(s.buf);
    free(s.fifo);
    free(s.peers);
    /* A signal asked for the clean stop that just happened: exit 0. */
    return status == TOOL_EXIT_OK ? TOOL_EXIT_OK : tool_end(status);
}
