/*
 * ring.c - the ring: a stream of variable-length messages.  This file
 * opens, creates and describes rings; ring-write.c is the writer and
 * ring-read.c the readers.
 *
 * Frames (doc/FORMAT.md, "Ring"): a 16-byte frame header {commit, len,
 * seq} and the message, padded to a multiple of 64 bytes (a cache line),
 * laid out back to back in CAPACITY bytes (a power of two).  Positions are
 * 32-bit byte counters that only grow (modulo 2^32); position p lives at
 * offset p & (capacity - 1).  A frame never wraps: when it would not fit
 * before the end, a pad frame fills the rest and the frame starts at
 * offset 0.  Messages are at most capacity / 2 - 16 bytes, so one always
 * fits in an empty ring.
 *
 * Publication is in the frame itself, as in Aeron's log buffers: the
 * writer fills the frame, clears the commit word of the frame after it,
 * then stores the frame's commit word (release): its own position, tagged
 * committed (and pad).  A reader polls the commit word of the frame it
 * will read next, so a message of up to 48 bytes reaches it in the one
 * cache line that also holds its commit word, and the cursors shared by
 * the writer and the readers stay off the fast path.  The writer still
 * keeps `head` (the end of the published frames, stored after the commit
 * words) for new readers, for `shmkit info` and for readers about to sleep;
 * a word that names another position is one that was not published on this
 * lap (message bytes of an earlier lap may lie there: the clearing makes
 * sure that the word after the newest frame never does).
 *
 * Block policy: the consumer stores `tail` (release) after each message;
 * the writer never overwrites [tail, head) and waits on `tail` when full.
 * It loads tail only when the tail it loaded last says the ring is full.
 *
 * Overwrite policy: before overwriting anything the writer moves `oldest`
 * to the first frame it will keep, then `reclaim` to the end of the space
 * it is about to write (a release fence orders both before the data).  The
 * bytes at positions older than reclaim - capacity may be garbage.  A
 * reader copies a frame, then (acquire fence) loads reclaim: if its
 * position has fallen behind reclaim - capacity the copy is discarded and
 * the reader jumps to `oldest`; the sequence number of the frame found
 * there tells exactly how many messages it lost.
 *
 * Everything read from the segment is checked: commit words against the
 * position, lengths against the maximum, frames against the end of the
 * ring, sequence numbers against what the reader expects, cursors against
 * the capacity.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#include "ring-impl.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Checks the writer and the readers share                             */
/* ------------------------------------------------------------------ */

/* Errors about the caller's misuse must not read as damage to the
 * segment.  When a writer's or consumer's check fails, the shared cursors
 * are read again: if they are consistent with each other and show that the
 * shared cursor moved on from where this handle left it, another process
 * acted as the holder of this handle's lease (a copy of the handle in a
 * child the fork handler did not see, or a process that wrote the
 * cursors), and that is reported as SHMKIT_ENOTHOLDER, not as
 * SHMKIT_ECORRUPT.  Only failures pay for this. */
int shmkit__ring_moved_on(const shmkit_ring *ring, uint32_t mine, uint32_t shared, uint32_t head,
                          uint32_t tail, const char *what, const char *did)
{
    uint32_t moved = shared - mine;

    if (!aligned(head) || !aligned(tail) || (uint32_t)(head - tail) > ring->cap || moved == 0 ||
        moved > (uint32_t)(head - mine))
        return 0;
    shmkit__fail(SHMKIT_ENOTHOLDER,
                 "%s is %lu, not %lu where this handle left it: another process %s "
                 "(a copy of the handle?)",
                 what, (unsigned long)shared, (unsigned long)mine, did);
    return 1;
}

/* The frame at POS as far as it can be checked without knowing whether it
 * was overwritten: SHMKIT_ECORRUPT if it cannot be a frame. */
int shmkit__ring_check_frame(const shmkit_ring *ring, uint32_t pos, uint32_t commit,
                             const struct sk_frame *f, uint32_t *size)
{
    uint32_t room = to_end(ring, pos);

    if (is_pad(commit)) {
        if (f->len != room)
            return shmkit__fail(SHMKIT_ECORRUPT, "bad pad frame at %lu", (unsigned long)pos);
        *size = room;
        return 0;
    }
    if (f->len > ring->max_message)
        return shmkit__fail(SHMKIT_ECORRUPT, "bad frame at %lu (length %lu)", (unsigned long)pos,
                            (unsigned long)f->len);
    *size = frame_size(f->len);
    if (*size > room)
        return shmkit__fail(SHMKIT_ECORRUPT, "frame at %lu runs past the end of the ring",
                            (unsigned long)pos);
    return 0;
}

/* Is the frame at POS, START or after it within a capacity, committed and
 * valid?  Then 1, with its commit word, header and size. */
static int chain_link(const shmkit_ring *ring, uint32_t start, uint32_t pos, uint32_t *commit,
                      struct sk_frame *f, uint32_t *size)
{
    if (!aligned(pos) || (uint32_t)(pos - start) >= ring->cap)
        return 0;
    *commit = load_commit(ring, pos);
    if (!committed(pos, *commit))
        return 0;
    get_frame(ring, pos, f);
    return shmkit__ring_check_frame(ring, pos, *commit, f, size) == 0;
}

uint32_t shmkit__ring_published_end(const shmkit_ring *ring, uint32_t pos, uint64_t *seq)
{
    uint32_t start = pos, commit, size;
    struct sk_frame f;

    for (; chain_link(ring, start, pos, &commit, &f, &size); pos += size)
        if (!is_pad(commit))
            *seq = f.seq + 1;
    return pos;
}

/* ------------------------------------------------------------------ */
/* Roles: where a new writer, consumer or reader starts                */
/* ------------------------------------------------------------------ */

static uint64_t published_count(const struct sk_header *h)
{
    return (uint64_t)sk_load(&h->seq_hi, SK_RELAXED) << 32 | sk_load(&h->seq_lo, SK_RELAXED);
}

/* The `newest` hint if it can be a frame before HEAD, else HEAD. */
static uint32_t newest_hint(const shmkit_ring *ring, uint32_t head)
{
    uint32_t newest = sk_load(&ring->hdr->newest, SK_RELAXED);

    return (uint32_t)(head - newest) <= ring->cap && aligned(newest) ? newest : head;
}

/* The end of the published frames and the number of the next message to
 * publish.  The head and sequence hints are stored after the commit words
 * (see publish), so a writer that died in between leaves them behind: the
 * frames committed after the `newest` hint tell the truth. */
static uint32_t published_state(const shmkit_ring *ring, uint64_t *next_seq)
{
    uint32_t head = sk_load(&ring->hdr->head, SK_ACQUIRE);

    *next_seq = published_count(ring->hdr);
    if (!aligned(head))
        return head; /* the caller reports it */
    return shmkit__ring_published_end(ring, newest_hint(ring, head), next_seq);
}

static shmkit_ring *ring_of(struct sk_handle *handle)
{
    return (shmkit_ring *)handle; /* the first member */
}

/* The writer's cursors from the header, which a dead writer may have left
 * behind or another process may have damaged. */
static int become_writer(struct sk_handle *handle)
{
    shmkit_ring *ring = ring_of(handle);
    struct sk_header *h = ring->hdr;
    uint32_t head;
    int rc = shmkit__handle_lease(handle, SK_LEASE_WRITER, 0);

    if (rc < 0)
        return rc;
    ring->role = ROLE_WRITER;
    head = ring->w_head = published_state(ring, &ring->w_seq);
    ring->w_reclaim = sk_load(&h->reclaim, SK_RELAXED);
    ring->w_oldest = sk_load(&h->oldest, SK_RELAXED);
    if (!aligned(head))
        return shmkit__fail(SHMKIT_ECORRUPT, "head %lu is not on a frame boundary",
                            (unsigned long)head);
    /* reclaim may announce the commit word after a frame (ring-write.c) */
    if ((uint32_t)(ring->w_reclaim - head) > ring->cap || ring->w_reclaim % SK_FRAME_HDR != 0)
        ring->w_reclaim = head;
    if ((uint32_t)(head - ring->w_oldest) > ring->cap || !aligned(ring->w_oldest))
        ring->w_oldest = head;
    sk_store(&h->head, head, SK_RELEASE); /* repaired, if a writer died before storing it */
    ring->w_tail = head - ring->cap; /* "full": the first send loads tail */
    shmkit__clear_detail();
    return 0;
}

/* Where a reader starting at ring->pos is in the message numbering, so
 * that losses are counted from its very first message: the number of the
 * first message at or after pos, or of the next one to be published.  An
 * overwrite reader whose start is overwritten meanwhile moves to oldest.
 * The count of published messages is taken before looking at pos: taken
 * after, it would count a message published at pos in between, one too
 * many for a reader that then receives that message. */
static void learn_sequence(shmkit_ring *ring)
{
    int attempt;

    for (attempt = 0; attempt < RESYNC_ATTEMPTS; attempt++) {
        uint32_t pos = ring->pos, commit, size;
        uint64_t seq = 0, next = 0;
        int found = 0;
        struct sk_frame f;

        (void)published_state(ring, &next);

        /* The first message committed at or after pos, pads skipped. */
        for (; chain_link(ring, ring->pos, pos, &commit, &f, &size); pos += size) {
            if (!is_pad(commit)) {
                seq = f.seq;
                found = 1;
                break;
            }
        }
        if (ring->policy == SHMKIT_RING_OVERWRITE && overwritten(ring, ring->pos)) {
            resync(ring);
            continue;
        }
        if (!found)
            seq = next; /* none yet: the next one */
        ring->seq = seq;
        ring->seq_known = 1;
        break;
    }
    shmkit__clear_detail();
}

/* A block ring's consumer takes an entry of the consumer table
 * (ring-consumers.c) and starts at its position.  With SHMKIT_ACK that
 * position, the entry's tail, is also what it has acknowledged. */
static int become_consumer(shmkit_ring *ring, unsigned flags)
{
    int rc = shmkit__ring_join(ring, flags);

    if (rc < 0)
        return rc;
    ring->role = ROLE_CONSUMER;
    learn_sequence(ring);
    if (flags & SHMKIT_ACK) {
        ring->ack_mode = 1;
        ring->acked_pos = ring->pos;
        ring->acked_seq = ring->seq;
    }
    shmkit__ring_note_sequence(ring);
    return 0;
}

/* An overwrite reader starts at the newest frame (the hint may lag by one
 * message) or at the oldest retained one. */
static void become_reader(shmkit_ring *ring, unsigned flags)
{
    struct sk_header *h = ring->hdr;
    uint32_t head = sk_load(&h->head, SK_ACQUIRE);
    uint32_t start = sk_load((flags & SHMKIT_FROM_OLDEST) ? &h->oldest : &h->newest,
                             SK_ACQUIRE);

    ring->role = ROLE_READER;
    ring->pos = (uint32_t)(head - start) <= ring->cap && aligned(start) ? start : head;
    learn_sequence(ring);
}
/* ------------------------------------------------------------------ */
/* Opening                                                             */
/* ------------------------------------------------------------------ */

static int attach(struct sk_handle *handle)
{
    shmkit_ring *ring = ring_of(handle);
    const struct sk_header_view *v = &handle->view;

    ring->hdr = handle->seg.base;
    ring->data = (unsigned char *)handle->seg.base + v->payload_offset;
    ring->cap = (uint32_t)v->capacity;
    ring->mask = ring->cap - 1;
    ring->max_message = (uint32_t)v->record_size;
    ring->consumers = v->consumers;
    ring->policy = (v->header_flags & SK_HFLAG_OVERWRITE) ? SHMKIT_RING_OVERWRITE
                                                          : SHMKIT_RING_BLOCK;
    shmkit__waitset_attach(&ring->ws, v->wait_mech, v->wait_semid);
    shmkit__waitset_set_followers(&ring->ws, ring->policy == SHMKIT_RING_OVERWRITE &&
                                                 sk_seg_has_followers(&handle->seg));
    return 0;
}

/* A block ring's consumer moves the shared cursor, so it maps the ring
 * read-write: say so when that is what was refused. */
static int explain_consumer_access(int rc)
{
    char detail[200];

    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    return shmkit__fail(rc, "consuming a block ring needs write permission%s%s",
                        detail[0] != '\0' ? ": " : "", detail);
}

static int open_existing(struct sk_handle *handle, const struct sk_spec *spec, unsigned flags)
{
    shmkit_ring *ring = ring_of(handle);
    int rc;

    if (flags & SHMKIT_WRITE) {
        rc = shmkit__handle_map(handle, spec, SK_SEG_WRITE | SK_SEG_OWNER_FLAG(flags));
        return rc < 0 ? rc : become_writer(handle);
    }
    /* Only the header tells the policy: map read-only first, and again
     * read-write for a block consumer, which moves the shared cursor. */
    rc = shmkit__handle_map(handle, spec, SK_SEG_WAITER | SK_SEG_OWNER_FLAG(flags));
    if (rc < 0)
        return rc;
    if (ring->policy == SHMKIT_RING_OVERWRITE) {
        if (flags & SHMKIT_ACK)
            return shmkit__fail(-EINVAL, "SHMKIT_ACK is for a block ring's consumers: an "
                                "overwrite ring's readers take nothing from the writer");
        become_reader(ring, flags);
        return 0;
    }
    shmkit__seg_close(&handle->seg);
    rc = shmkit__handle_map(handle, spec, SK_SEG_WRITE | SK_SEG_OWNER_FLAG(flags));
    if (rc == -EACCES || rc == -EPERM)
        return explain_consumer_access(rc);
    if (rc == 0 && ring->policy != SHMKIT_RING_BLOCK)
        rc = shmkit__fail(SHMKIT_EKIND, "ring changed while being opened");
    return rc < 0 ? rc : become_consumer(ring, flags);
}

static int check_open_flags(unsigned flags)
{
    unsigned from = flags & (SHMKIT_FROM_OLDEST | SHMKIT_FROM_NEWEST);

    if ((flags & SHMKIT_WRITE) && from != 0)
        return shmkit__fail(-EINVAL, "SHMKIT_FROM_%s is for readers, not with SHMKIT_WRITE",
                            from == SHMKIT_FROM_NEWEST ? "NEWEST" : "OLDEST");
    if (from == (SHMKIT_FROM_OLDEST | SHMKIT_FROM_NEWEST))
        return shmkit__fail(-EINVAL, "SHMKIT_FROM_OLDEST and SHMKIT_FROM_NEWEST together");
    if ((flags & SHMKIT_WRITE) && (flags & SHMKIT_ACK))
        return shmkit__fail(-EINVAL, "SHMKIT_ACK is for a block ring's consumers, not with "
                            "SHMKIT_WRITE");
    return 0;
}

/* ------------------------------------------------------------------ */
/* Geometry and creation                                               */
/* ------------------------------------------------------------------ */

static uint32_t round_capacity(size_t capacity)
{
    uint32_t cap = SK_RING_MIN_CAPACITY;

    while (cap < capacity && cap < SK_RING_MAX_CAPACITY)
        cap <<= 1;
    return cap;
}

/* The options as a program compiled before first_seq knew them: it
 * passes this size, and its struct ends there. */
struct ring_options_before_first_seq {
    size_t size;
    size_t capacity;
    size_t max_message;
    int policy;
    unsigned mode;
    unsigned flags;
    unsigned consumers;
};

/* Does OPTIONS, of the size its caller gave, have member MEMBER? */
#define HAS_OPTION(options, member)                                          \
    ((options)->size >= offsetof(struct shmkit_ring_options, member) +        \
                            sizeof((options)->member))

_Static_assert(sizeof(struct ring_options_before_first_seq) <
                   offsetof(struct shmkit_ring_options, first_seq) + sizeof(uint64_t),
               "the older options end before first_seq");

/* OPTIONS as the caller filled them: set up by SHMKIT_RING_OPTIONS_INIT
 * or shmkit_ring_options_init of this version or an earlier one.  A
 * member that the caller's struct lacks takes its default (HAS_OPTION):
 * only the sizes of the versions are accepted, so that a size that is
 * garbage is not mistaken for one. */
static int check_options(const struct shmkit_ring_options *options)
{
    if (options == NULL)
        return shmkit__null_arg("options");
    if (options->size != sizeof *options &&
        options->size != sizeof(struct ring_options_before_first_seq))
        return shmkit__fail(-EINVAL, "ring options of %zu bytes, this library knows %zu: set them "
                            "up with SHMKIT_RING_OPTIONS_INIT or shmkit_ring_options_init",
                            options->size, sizeof *options);
    return 0;
}

/* The number of a new ring's first message (checked by check_options). */
static uint64_t first_seq_of(const struct shmkit_ring_options *options)
{
    return HAS_OPTION(options, first_seq) ? options->first_seq : 0;
}

/* The consumer entries of a ring created with OPTIONS. */
static int resolve_consumers(const struct shmkit_ring_options *options, uint32_t *consumers)
{
    if (options->policy == SHMKIT_RING_OVERWRITE) {
        if (options->consumers > 1)
            return shmkit__fail(-EINVAL, "an overwrite ring has readers, not consumers: "
                                "consumers must be 0 or 1");
        *consumers = 0;
        return 0;
    }
    if (options->consumers > SK_RING_MAX_CONSUMERS)
        return shmkit__fail(-EINVAL, "%u consumers, a ring takes at most %u", options->consumers,
                            (unsigned)SK_RING_MAX_CONSUMERS);
    *consumers = options->consumers == 0 ? 1 : options->consumers;
    return 0;
}

/* The capacity, maximum message size and consumer entries a ring created
 * with OPTIONS will have (checked by check_options). */
static int resolve_geometry(const struct shmkit_ring_options *options, uint32_t *cap,
                            uint32_t *max, uint32_t *consumers)
{
    size_t max_message = options->max_message;
    int rc;

    if (options->policy != SHMKIT_RING_BLOCK && options->policy != SHMKIT_RING_OVERWRITE)
        return shmkit__fail(-EINVAL, "unknown ring policy %d", options->policy);
    if ((rc = resolve_consumers(options, consumers)) < 0)
        return rc;
    if (options->capacity == 0 || options->capacity > SK_RING_MAX_CAPACITY)
        return shmkit__fail(SHMKIT_ESIZE, "capacity must be 1 byte .. 1 GiB");
    *cap = round_capacity(options->capacity);
    if (max_message > SK_RING_MAX_CAPACITY / 2 - SK_FRAME_HDR)
        return shmkit__fail(SHMKIT_ESIZE,
                            "messages of %zu bytes are larger than any ring can hold (%u at most)",
                            max_message, (unsigned)(SK_RING_MAX_CAPACITY / 2 - SK_FRAME_HDR));
    if (max_message == 0)
        max_message = *cap / 2 - SK_FRAME_HDR;
    if (max_message > *cap / 2 - SK_FRAME_HDR)
        return shmkit__fail(SHMKIT_ESIZE, "messages of %zu bytes need a capacity of at least %zu",
                            max_message, (max_message + SK_FRAME_HDR) * 2);
    *max = (uint32_t)max_message;
    return 0;
}

/* The header of a ring created with the options ARGS. */
static int plan_create(const void *args, struct sk_create_plan *plan)
{
    const struct shmkit_ring_options *options = args;
    struct sk_header_params *p = &plan->params;
    uint32_t cap, max, consumers;
    int rc = resolve_geometry(options, &cap, &max, &consumers);

    if (rc < 0)
        return rc;
    p->kind = SHMKIT_KIND_RING;
    p->header_flags = options->policy == SHMKIT_RING_OVERWRITE ? SK_HFLAG_OVERWRITE : 0;
    p->payload_size = cap;
    p->record_size = max;
    p->capacity = cap;
    p->consumers = consumers;
    p->first_seq = first_seq_of(options);
    return 0;
}

static int match(const struct sk_handle *handle, const struct sk_header_params *planned)
{
    const shmkit_ring *ring = (const shmkit_ring *)handle;
    int policy = (planned->header_flags & SK_HFLAG_OVERWRITE) ? SHMKIT_RING_OVERWRITE
                                                              : SHMKIT_RING_BLOCK;

    if (ring->policy != policy)
        return shmkit__fail(SHMKIT_EKIND, "ring has the %s policy",
                            ring->policy == SHMKIT_RING_BLOCK ? "block" : "overwrite");
    if (ring->cap != planned->capacity || ring->max_message != planned->record_size)
        return shmkit__fail(SHMKIT_ESIZE, "ring has capacity %lu and messages up to %lu",
                            (unsigned long)ring->cap, (unsigned long)ring->max_message);
    if (ring->consumers != planned->consumers)
        return shmkit__fail(SHMKIT_ESIZE, "ring has %lu consumer entries",
                            (unsigned long)ring->consumers);
    return 0;
}

static const struct sk_kind ring_kind = {
    .kind = SHMKIT_KIND_RING, .name = "ring", .handle_size = sizeof(shmkit_ring),
    .handlep_name = "ringp", .open_call = "shmkit_ring_open",
    .create_call = "shmkit_ring_create",
    .open_flags = SHMKIT_WRITE | SHMKIT_FROM_OLDEST | SHMKIT_FROM_NEWEST | SHMKIT_ACK |
                  SHMKIT_ANY_OWNER,
    .check_open_flags = check_open_flags, .attach = attach, .open = open_existing,
    .plan = plan_create, .match = match, .become_writer = become_writer,
};

SHMKIT_API int shmkit_ring_open(shmkit_ring **ringp, const char *spec_text, unsigned flags)
{
    return shmkit__handle_open(&ring_kind, ringp, spec_text, flags);
}

SHMKIT_API void shmkit_ring_options_init(struct shmkit_ring_options *options)
{
    static const struct shmkit_ring_options defaults = SHMKIT_RING_OPTIONS_INIT;

    if (options != NULL)
        *options = defaults;
}

SHMKIT_API int shmkit_ring_size(const struct shmkit_ring_options *options, size_t *capacity,
                                size_t *max_message, size_t *segment_size)
{
    uint32_t cap, max, consumers;
    int rc;

    shmkit__clear_detail();
    if ((rc = check_options(options)) < 0 ||
        (rc = resolve_geometry(options, &cap, &max, &consumers)) < 0)
        return rc;
    if (capacity != NULL)
        *capacity = cap;
    if (max_message != NULL)
        *max_message = max;
    if (segment_size != NULL)
        *segment_size = (size_t)SK_HEADER_SIZE + (size_t)consumers * SK_CONSUMER_SIZE + cap;
    return 0;
}

SHMKIT_API int shmkit_ring_create(shmkit_ring **ringp, const char *spec_text,
                                  const struct shmkit_ring_options *options)
{
    int rc;

    shmkit__clear_detail();
    if (ringp != NULL)
        *ringp = NULL;
    rc = check_options(options);
    if (rc < 0)
        return rc;
    return shmkit__handle_create(&ring_kind, ringp, spec_text, options, options->mode,
                                 options->flags);
}

SHMKIT_API void shmkit_ring_close(shmkit_ring *ring)
{
    if (ring != NULL)
        shmkit__handle_close(&ring->h);
}

SHMKIT_API int shmkit_ring_is_current(const shmkit_ring *ring)
{
    shmkit__clear_detail();
    if (ring == NULL)
        return shmkit__fail(-EINVAL, "ring handle is NULL");
    return shmkit__seg_is_current(&ring->h.seg);
}

/* The accessors below return 0 for a NULL handle (shmkit.h). */
static int null_ring(const shmkit_ring *ring)
{
    if (ring != NULL)
        return 0;
    shmkit__null_arg("ring");
    return 1;
}

SHMKIT_API uint64_t shmkit_ring_lost(const shmkit_ring *ring)
{
    return null_ring(ring) ? 0 : ring->lost;
}

SHMKIT_API uint64_t shmkit_ring_position(const shmkit_ring *ring)
{
    if (null_ring(ring))
        return 0;
    return ring->role == ROLE_WRITER ? ring->w_seq : ring->seq;
}

/* Every other handle has acknowledged what it has read: its position. */
SHMKIT_API uint64_t shmkit_ring_acked(const shmkit_ring *ring)
{
    if (null_ring(ring))
        return 0;
    return ring->ack_mode ? ring->acked_seq : shmkit_ring_position(ring);
}

SHMKIT_API size_t shmkit_ring_capacity(const shmkit_ring *ring)
{
    return null_ring(ring) ? 0 : ring->cap;
}

SHMKIT_API size_t shmkit_ring_max_message(const shmkit_ring *ring)
{
    return null_ring(ring) ? 0 : ring->max_message;
}

SHMKIT_API int shmkit_ring_policy(const shmkit_ring *ring)
{
    return null_ring(ring) ? -EINVAL : ring->policy;
}

/* For shmkit_info(): the state of a validated ring mapping. */
void shmkit__ring_describe(void *base, const struct sk_header_view *view, struct shmkit_info *info)
{
    struct sk_header *h = base;
    uint32_t head = sk_load(&h->head, SK_ACQUIRE);
    int overwrite = (view->header_flags & SK_HFLAG_OVERWRITE) != 0;
    uint32_t from = overwrite ? sk_load(&h->oldest, SK_ACQUIRE)
                              : shmkit__ring_oldest_kept(h, view->consumers,
                                                         (uint32_t)view->capacity, head);
    uint32_t used = head - from;

    info->ring_policy = overwrite ? SHMKIT_RING_OVERWRITE : SHMKIT_RING_BLOCK;
    info->ring_capacity = view->capacity;
    info->ring_max_message = view->record_size;
    info->ring_used = used <= view->capacity ? used : view->capacity;
    info->ring_messages = published_count(h);
    info->ring_consumers = view->consumers;
    /* consumer_pid and consumer_alive: info.c (shmkit__lease_describe) */
}
