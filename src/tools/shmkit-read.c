/*
 * shmkit-read - print the current record of a shmkit slot or the next
 * message of a ring, or follow either (-f) as new records and messages
 * are published.
 *
 * A slot is opened read-only: reading never changes it.  An overwrite ring
 * is read through a private cursor; a block ring is consumed (its reader
 * holds the consumer lease and moves the shared cursor), which is why
 * signals are caught: the handle is closed, and the lease released,
 * before the program ends.
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

#include "shmkit.h"
#include "tool.h"

static const char synopsis[] =
    "shmkit-read [-f|-F] [-n COUNT] [-t SECONDS] [--from-oldest|--from-newest]\n"
    "                   [--any-owner] [-j|--json|--hex|--raw] SPEC";

enum {
    OPT_JSON = 1, OPT_HEX, OPT_RAW, OPT_FOLLOW, OPT_COUNT, OPT_TIMEOUT, OPT_FROM_OLDEST,
    OPT_HELP, OPT_VERSION, OPT_ANY_OWNER, OPT_FOLLOW_NAME, OPT_FROM_NEWEST
};

static const struct tool_option options[] = {
    { OPT_JSON, 'j', "json", 0 },
    { OPT_HEX, 0, "hex", 0 },
    { OPT_RAW, 0, "raw", 0 },
    { OPT_FOLLOW, 'f', "follow", 2 },
    { OPT_FOLLOW_NAME, 'F', NULL, 0 },
    { OPT_COUNT, 'n', "count", 1 },
    { OPT_TIMEOUT, 't', "timeout", 1 },
    { OPT_FROM_OLDEST, 0, "from-oldest", 0 },
    { OPT_FROM_NEWEST, 0, "from-newest", 0 },
    { OPT_ANY_OWNER, 0, "any-owner", 0 },
    { OPT_HELP, 'h', "help", 0 },
    { OPT_VERSION, 'V', "version", 0 },
    { 0, 0, NULL, 0 }
};

/* Output formats.  DEFAULT: FIELD=VALUE lines for layout slots, a hex dump
 * for raw slots, one text line per message for rings. */
enum format { FORMAT_DEFAULT, FORMAT_JSON, FORMAT_HEX, FORMAT_RAW };

/* What the command line asks for. */
struct request {
    const char *spec;
    enum format format;
    int follow;               /* -f, or -F */
    int follow_name;          /* -F: reopen the segment of that name */
    uint64_t count;           /* -n, 0 for no limit */
    int timeout_ms;           /* -t, -1 for none */
    unsigned from;            /* SHMKIT_FROM_OLDEST (--from-oldest),
                                 SHMKIT_FROM_NEWEST (--from-newest) or 0 */
    unsigned open_flags;      /* SHMKIT_ANY_OWNER with --any-owner */
};

/* The message buffer of a ring reader. */
struct message_buffer {
    unsigned char *data;
    size_t size;
};

/* The state of one run: how many records were printed, until when. */
struct session {
    const struct request *req;
    uint64_t limit;           /* records to print, 0 for no limit */
    uint64_t printed;
    int64_t deadline;
    const char *unit;         /* "record" or "message", for messages */
    shmkit_slot *slot;        /* the handle being read, one of the two */
    shmkit_ring *ring;
    uint64_t seen;            /* slot: the last version printed */
    struct message_buffer buf; /* ring: where messages are received */
    int reopened;             /* -F: this handle is not the first one */
    int waiting;              /* -F: waiting for a segment of the name */
    char removed[160];        /* why the segment counts as removed */
};

/* Outcomes of reading a segment that are no exit status: the segment
 * was removed or replaced (s->removed says how), or (-F) there is no
 * segment to read yet. */
#define READ_REMOVED TOOL_STATUS_OWN
#define READ_ABSENT ((tool_status)(TOOL_STATUS_OWN - 1))

static void print_help(void)
{
    printf("usage: %s\n\n", synopsis);
    fputs(
        "Print the current record of the shmkit slot SPEC (\"/NAME\",\n"
        "\"sysv:PATH:PROJ\", \"sysv:0xKEY\"; see shmkit(1)): one FIELD=VALUE line per\n"
        "field for slots with a layout, a hex dump for raw slots.  For a ring,\n"
        "print the next message as a line of text: an overwrite ring's newest\n"
        "message, or the oldest unconsumed message of a block ring, which is\n"
        "consumed; wait for one if there is none.\n"
        "\n"
        "A block ring has one or more consumer entries (shmkit-write --consumers):\n"
        "each consumer receives every message.  shmkit-read takes over an entry\n"
        "that a consumer left (it closed or died) and goes on where it stopped;\n"
        "with none left, it joins a free entry at the newest message.  When it\n"
        "exits, its entry is left for the next shmkit-read (the writer drops it\n"
        "if it holds the writer back while another consumer is alive).  When\n"
        "every entry is held by a live consumer, it fails (exit status 1).\n"
        "\n"
        "  -f, --follow        go on printing every new record or message; end\n"
        "                      with exit status 3 if the segment is removed\n"
        "  -F, --follow=name   the same, but when the segment is removed or\n"
        "                      replaced, wait for a segment of that name and\n"
        "                      go on with it (also if there is none yet)\n"
        "  -n, --count=COUNT   stop after COUNT records or messages (needs -f)\n"
        "  -t, --timeout=SECONDS\n"
        "                      give up after SECONDS (decimals allowed) with exit\n"
        "                      status 4 unless COUNT records came first\n"
        "      --from-oldest   rings: start at the oldest message kept (a block\n"
        "                      ring: join as a new consumer there)\n"
        "      --from-newest   block rings: join as a new consumer at the newest\n"
        "                      message rather than resume a left entry\n"
        "      --any-owner     read a segment that another user owns (refused\n"
        "                      by default: its owner controls what you read)\n"
        "  -j, --json          JSON: one object per slot record; one\n"
        "                      {\"seq\":N,\"data\":\"...\"} line per ring message\n"
        "      --hex           hex dump of each record or message\n"
        "      --raw           the bytes as they are\n"
        "  -h, --help          show this help and exit\n"
        "  -V, --version       show the version and exit\n"
        "\n"
        "On an overwrite ring, messages lost to a fast writer are reported on\n"
        "standard error: \"shmkit-read: SPEC: N messages lost\".\n"
        "\n"
        "Exit status: 0 ok, 1 runtime error, 2 usage error, 3 no such segment\n"
        "(or it was removed while being read), 4 timed out, 5 incompatible or\n"
        "corrupt segment.\n",
        stdout);
}

static tool_status choose_format(struct request *req, int id)
{
    enum format chosen = id == OPT_JSON ? FORMAT_JSON : id == OPT_HEX ? FORMAT_HEX : FORMAT_RAW;

    if (req->format != FORMAT_DEFAULT && req->format != chosen)
        return tool_usage_error("choose one of --json, --hex and --raw");
    req->format = chosen;
    return TOOL_GO_ON;
}

/* The open flag of --from-oldest or --from-newest (option ID). */
static unsigned from_flag(int id)
{
    return id == OPT_FROM_OLDEST ? SHMKIT_FROM_OLDEST : SHMKIT_FROM_NEWEST;
}

/* Where a ring reader starts, as the option said. */
static const char *from_option(unsigned from)
{
    return from == SHMKIT_FROM_OLDEST ? "--from-oldest" : "--from-newest";
}

/* Handle option ID (its argument in ARG) for the request CTX. */
static tool_status take_option(void *ctx, int id, const char *arg)
{
    struct request *req = ctx;

    switch (id) {
    case OPT_HELP:
        print_help();
        return tool_close_stdout(TOOL_EXIT_OK);
    case OPT_VERSION:
        return tool_close_stdout(tool_print_version());
    case OPT_FOLLOW:
        if (arg != NULL && strcmp(arg, "name") != 0 && strcmp(arg, "descriptor") != 0)
            return tool_usage_error("bad --follow '%s' (expected name or descriptor)", arg);
        req->follow = 1;
        req->follow_name = arg != NULL && strcmp(arg, "name") == 0;
        return TOOL_GO_ON;
    case OPT_FOLLOW_NAME:
        req->follow = 1;
        req->follow_name = 1;
        return TOOL_GO_ON;
    case OPT_COUNT:
        if (tool_parse_count(arg, &req->count) != 0)
            return tool_usage_error("bad count '%s' (expected a whole number from 1)", arg);
        return TOOL_GO_ON;
    case OPT_TIMEOUT:
        return tool_take_timeout(arg, &req->timeout_ms);
    case OPT_FROM_OLDEST:
    case OPT_FROM_NEWEST:
        if (req->from != 0 && req->from != from_flag(id))
            return tool_usage_error("give either --from-oldest or --from-newest, not both");
        req->from = from_flag(id);
        return TOOL_GO_ON;
    case OPT_ANY_OWNER:
        req->open_flags |= SHMKIT_ANY_OWNER;
        return TOOL_GO_ON;
    default:
        return choose_format(req, id);
    }
}

/* Parse the command line into REQ and check it. */
static tool_status parse_command_line(int argc, char **argv, struct request *req)
{
    struct tool_args args;
    tool_status status;

    memset(req, 0, sizeof *req);
    req->format = FORMAT_DEFAULT;
    req->timeout_ms = -1;
    tool_args_init(&args, argc, argv);
    if ((status = tool_take_options(&args, options, take_option, req)) != TOOL_GO_ON
        || (status = tool_spec_operand(&args, "", 1, &req->spec)) != TOOL_GO_ON)
        return status;
    if (req->count != 0 && !req->follow)
        return tool_usage_error("-n needs -f");
    return tool_check_spec(req->spec);
}

/* ---- output ------------------------------------------------------------ */

/* Make what was printed visible at once (follow mode feeds pipes).  A
 * write error stops the program; tool_close_stdout() reports it. */
static tool_status flush_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout))
        return TOOL_EXIT_RUNTIME;
    return TOOL_GO_ON;
}

typedef int formatter(const shmkit_layout *, const void *, char *, size_t);

/* Print RECORD through FORMAT (snprintf semantics), growing the buffer when
 * the stack one is too small.  Returns the exit status. */
static int print_formatted(const char *spec, formatter *format,
                           const shmkit_layout *layout, const void *record,
                           const char *end)
{
    char small[4096];
    char *text = small;
    int n = format(layout, record, small, sizeof small);

    if (n < 0)
        return tool_fail(spec, NULL, n);
    if ((size_t)n >= sizeof small) {
        text = malloc((size_t)n + 1);
        if (text == NULL)
            return tool_error(TOOL_EXIT_RUNTIME, spec, "out of memory");
        n = format(layout, record, text, (size_t)n + 1);
    }
    if (n >= 0) {
        fputs(text, stdout);
        fputs(end, stdout);
    }
    if (text != small)
        free(text);
    return n < 0 ? tool_fail(spec, NULL, n) : TOOL_EXIT_OK;
}

/* Print one slot record; FIRST is 0 for every record after the first one
 * of a follow run, which the multi-line formats separate by an empty
 * line. */
static int print_record(const char *spec, enum format format, const shmkit_layout *layout,
                        const unsigned char *record, size_t size, int first)
{
    if (format == FORMAT_DEFAULT)
        format = layout != NULL ? FORMAT_DEFAULT : FORMAT_HEX;
    if (!first && (format == FORMAT_DEFAULT || format == FORMAT_HEX))
        putchar('\n');
    switch (format) {
    case FORMAT_RAW:
        fwrite(record, 1, size, stdout);
        return TOOL_EXIT_OK;
    case FORMAT_HEX:
        tool_hexdump(stdout, record, size);
        return TOOL_EXIT_OK;
    case FORMAT_JSON:
        /* A raw record has no fields to name; --hex and --raw show it. */
        if (layout == NULL)
            return tool_error(TOOL_EXIT_USAGE, spec,
                              "--json needs a slot with a layout; use --hex or --raw");
        return print_formatted(spec, shmkit_layout_to_json, layout, record, "\n");
    default:
        return print_formatted(spec, shmkit_layout_to_text, layout, record, "");
    }
}

/* Print one ring message, number SEQ. */
static void print_message(enum format format, uint64_t seq, const void *data, size_t len,
                          int first)
{
    switch (format) {
    case FORMAT_RAW:
        fwrite(data, 1, len, stdout);
        break;
    case FORMAT_HEX:
        if (!first)
            putchar('\n');
        tool_hexdump(stdout, data, len);
        break;
    case FORMAT_JSON:
        printf("{\"seq\":%llu,\"data\":", (unsigned long long)seq);
        tool_json_string(stdout, data, len);
        fputs("}\n", stdout);
        break;
    default:
        fwrite(data, 1, len, stdout);
        putchar('\n');
    }
}

/* ---- waiting ------------------------------------------------------------ */

/* A slice of a wait ended with nothing new: is the segment still the one
 * of that name?  A follower of a removed segment would wait forever: the
 * writer of a new segment of the name writes elsewhere.  Checked only
 * when idle (a few system calls per slice, TOOL_WAIT_SLICE_MS).  A check
 * that cannot tell (the name may no longer be opened) keeps waiting. */
static tool_status check_removed(void *ctx)
{
    struct session *s = ctx;
    int rc = s->slot != NULL ? shmkit_slot_is_current(s->slot)
                             : shmkit_ring_is_current(s->ring);

    if (rc != 0)
        return TOOL_GO_ON;
    snprintf(s->removed, sizeof s->removed, "%s", shmkit_error_detail());
    return READ_REMOVED;
}

/* The deadline of -t passed. */
static tool_status timed_out(void *ctx)
{
    const struct session *s = ctx;

    if (!s->req->follow)
        return tool_error(TOOL_EXIT_TIMEDOUT, s->req->spec, "timed out waiting for a %s",
                          s->unit);
    if (s->limit != 0)
        return tool_error(TOOL_EXIT_TIMEDOUT, s->req->spec, "timed out after %llu of %llu %ss",
                          (unsigned long long)s->printed, (unsigned long long)s->limit,
                          s->unit);
    return tool_error(TOOL_EXIT_TIMEDOUT, s->req->spec, "timed out after %llu %s%s",
                      (unsigned long long)s->printed, s->unit, s->printed == 1 ? "" : "s");
}

/* Wait in slices for what ATTEMPT brings: its result in *RC. */
static tool_status wait_for(struct session *s, int (*attempt)(void *ctx, int timeout_ms),
                            int *rc)
{
    struct tool_wait w;

    w.deadline = s->deadline;
    w.attempt = attempt;
    w.idle = check_removed;
    w.expired = timed_out;
    w.ctx = s;
    return tool_wait(&w, rc);
}

static int done(const struct session *s)
{
    return s->limit != 0 && s->printed >= s->limit;
}

/* ---- slots --------------------------------------------------------------- */

static int wait_for_version(void *ctx, int timeout_ms)
{
    struct session *s = ctx;

    return shmkit_slot_wait(s->slot, s->seen, timeout_ms);
}

/* Print the current record, then (follow mode) every new version until
 * the count is reached.  A writer faster than the printing may publish
 * several versions between two reads: the latest is printed, and no
 * version twice. */
static tool_status follow_slot(struct session *s, unsigned char *record)
{
    const shmkit_layout *layout = shmkit_slot_layout(s->slot);
    size_t size = shmkit_slot_record_size(s->slot);
    uint64_t version;
    tool_status status;
    int rc;

    for (;;) {
        rc = shmkit_slot_read(s->slot, record, size, &version);
        if (rc < 0)
            return tool_fail(s->req->spec, NULL, rc);
        /* The first record, unless this is a segment -F reopened: its
         * record counts only once it was written. */
        if ((s->printed == 0 && !s->reopened) || version > s->seen) {
            status = print_record(s->req->spec, s->req->format, layout, record, size,
                                  s->printed == 0);
            if (status != TOOL_EXIT_OK)
                return status;
            s->printed++;
            s->seen = version;
            if (s->req->follow && (status = flush_output()) != TOOL_GO_ON)
                return status;
        }
        if (done(s))
            return TOOL_EXIT_OK;
        if (tool_signal_caught())
            return TOOL_SIGNALLED;
        if ((status = wait_for(s, wait_for_version, &rc)) != TOOL_GO_ON)
            return status;
        if (rc < 0)
            return tool_fail(s->req->spec, NULL, rc);
    }
}

static tool_status read_slot(struct session *s)
{
    unsigned char *record;
    tool_status status;

    s->unit = "record";
    s->seen = 0;
    if (s->req->from != 0)
        return tool_error(TOOL_EXIT_USAGE, s->req->spec, "%s applies to rings, not slots",
                          from_option(s->req->from));
    if (!s->req->follow)
        s->limit = 1;
    record = malloc(shmkit_slot_record_size(s->slot));
    if (record == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, s->req->spec, "out of memory");
    status = follow_slot(s, record);
    free(record);
    return status;
}

/* ---- rings --------------------------------------------------------------- */

/* The message buffer starts small and grows to the ring's largest message
 * the first time a bigger message comes. */
#define FIRST_BUFFER_SIZE 65536u

static int grow_buffer(struct message_buffer *buf, size_t size)
{
    unsigned char *bigger = realloc(buf->data, size > 0 ? size : 1);

    if (bigger == NULL)
        return -1;
    buf->data = bigger;
    buf->size = size;
    return 0;
}

static int wait_for_message(void *ctx, int timeout_ms)
{
    struct session *s = ctx;

    return shmkit_ring_recv(s->ring, s->buf.data, s->buf.size, timeout_ms);
}

/* Receive the next message into s->buf and store its length in *LEN,
 * waiting in slices up to the deadline. */
static tool_status receive(struct session *s, size_t *len)
{
    size_t max = shmkit_ring_max_message(s->ring);
    tool_status status;
    int rc;

    for (;;) {
        if ((status = wait_for(s, wait_for_message, &rc)) != TOOL_GO_ON)
            return status;
        if (rc >= 0) {
            *len = (size_t)rc;
            return TOOL_GO_ON;
        }
        if (rc != -EMSGSIZE || s->buf.size >= max)
            return tool_fail(s->req->spec, NULL, rc);
        if (grow_buffer(&s->buf, max) != 0)
            return tool_error(TOOL_EXIT_RUNTIME, s->req->spec, "out of memory");
    }
}

/* Tell about messages the writer overwrote before we could read them, as
 * soon as the library notices. */
static void report_losses(const struct session *s, uint64_t *reported)
{
    uint64_t lost = shmkit_ring_lost(s->ring);

    if (lost > *reported) {
        unsigned long long n = (unsigned long long)(lost - *reported);
        tool_error(0, s->req->spec, "%llu message%s lost", n, n == 1 ? "" : "s");
        *reported = lost;
    }
}

static tool_status follow_ring(struct session *s)
{
    uint64_t reported = 0;
    size_t len = 0;
    tool_status status;

    while (!done(s)) {
        if (tool_signal_caught())
            return TOOL_SIGNALLED;
        if ((status = receive(s, &len)) != TOOL_GO_ON)
            return status;
        report_losses(s, &reported);
        /* The reader's position is now just past the message. */
        print_message(s->req->format, shmkit_ring_position(s->ring) - 1, s->buf.data, len,
                      s->printed == 0);
        s->printed++;
        if ((status = flush_output()) != TOOL_GO_ON)
            return status;
    }
    return TOOL_EXIT_OK;
}

static tool_status read_ring(struct session *s)
{
    size_t max = shmkit_ring_max_message(s->ring);
    tool_status status;

    s->unit = "message";
    if (!s->req->follow)
        s->limit = 1;
    if (grow_buffer(&s->buf, max < FIRST_BUFFER_SIZE ? max : FIRST_BUFFER_SIZE) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, s->req->spec, "out of memory");
    status = follow_ring(s);
    free(s->buf.data);
    s->buf.data = NULL;
    s->buf.size = 0;
    return status;
}

/* ---- main ---------------------------------------------------------------- */

/* Open errors that -F waits out: no segment of the name yet, or one that
 * its creator is still making (empty, or without a complete header). */
static int absent(int rc)
{
    return rc == -ENOENT || rc == SHMKIT_EHALFCREATED || rc == SHMKIT_ENOTSHMKIT;
}

/* The status of a failed open: READ_ABSENT for what -F waits out. */
static tool_status open_failed(const struct session *s, int rc)
{
    if (s->req->follow_name && absent(rc))
        return READ_ABSENT;
    return tool_fail(s->req->spec, NULL, rc);
}

/* Where a ring reader starts.  A ring that -F reopens is new, all of it:
 * an overwrite ring is read from its oldest message, and a block ring's
 * consumer resumes an entry, as the first consumer of a new ring does
 * (joining afresh would leave the entry that the ring keeps for it behind
 * for the writer to drop).  BLOCK: shmkit_info said block policy. */
static unsigned start_flags(const struct session *s, int block)
{
    if (!s->reopened)
        return s->req->from;
    return block ? 0 : SHMKIT_FROM_OLDEST;
}

/* Open SPEC as a ring or as a slot. */
static int open_as(struct session *s, int ring, int block)
{
    const struct request *req = s->req;

    if (ring)
        return shmkit_ring_open(&s->ring, req->spec, req->open_flags | start_flags(s, block));
    return shmkit_slot_open(&s->slot, req->spec, req->open_flags);
}

/* Open SPEC as what it is, once: shmkit_info tells the kind.  A segment
 * replaced by one of the other kind before the open fails it with
 * SHMKIT_EKIND, and is opened as that kind; where shmkit_info cannot
 * tell, the slot open says what is wrong with the segment. */
static int open_segment(struct session *s, int *ring)
{
    struct shmkit_info info;
    int rc, block;

    rc = shmkit_info(s->req->spec, &info, sizeof info);
    *ring = rc == 0 && info.kind == SHMKIT_KIND_RING;
    block = *ring && info.ring_policy == SHMKIT_RING_BLOCK;
    rc = open_as(s, *ring, block);
    if (rc == SHMKIT_EKIND) {
        *ring = !*ring;
        rc = open_as(s, *ring, 0);
    }
    return rc;
}

/* Open SPEC and read it. */
static tool_status read_segment(struct session *s)
{
    tool_status status;
    int ring, rc = open_segment(s, &ring);

    if (rc < 0)
        return open_failed(s, rc);
    if (s->waiting)
        tool_error(0, s->req->spec, "following the new segment");
    s->waiting = 0;
    if (ring) {
        status = read_ring(s);
        shmkit_ring_close(s->ring);
        s->ring = NULL;
    } else {
        status = read_slot(s);
        shmkit_slot_close(s->slot);
        s->slot = NULL;
    }
    return status;
}

/* -F: sleep a slice before looking for the segment again. */
static tool_status nap(struct session *s)
{
    int ms = tool_wait_slice(s->deadline);
    struct timespec ts;

    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    nanosleep(&ts, NULL); /* a signal ends it early: looked at next */
    if (tool_signal_caught())
        return TOOL_SIGNALLED;
    if (!tool_expired(s->deadline))
        return TOOL_GO_ON;
    if (s->unit == NULL) /* no segment was ever opened */
        return tool_error(TOOL_EXIT_TIMEDOUT, s->req->spec,
                          "timed out waiting for the segment to appear");
    return timed_out(s);
}

/* Read SPEC; with -F, again and again as segments of the name come and
 * go, with a note on standard error each time. */
static tool_status run(const struct request *req)
{
    struct session s;
    tool_status status;

    memset(&s, 0, sizeof s);
    s.req = req;
    s.limit = req->count;
    s.deadline = tool_deadline(req->timeout_ms);
    for (;;) {
        status = read_segment(&s);
        if (status == READ_REMOVED && !req->follow_name)
            return tool_error(TOOL_EXIT_NOENT, req->spec, "segment removed (%s)", s.removed);
        if (status == READ_REMOVED) {
            tool_error(0, req->spec, "segment removed (%s); waiting for a new one",
                       s.removed);
            s.waiting = 1;
            s.reopened = 1;
            continue; /* a new segment may be there already */
        }
        if (status != READ_ABSENT)
            return status;
        if (!s.waiting)
            tool_error(0, req->spec, "no such segment yet; waiting for one");
        s.waiting = 1;
        s.reopened = 1;
        if ((status = nap(&s)) != TOOL_GO_ON)
            return status;
    }
}

int main(int argc, char **argv)
{
    struct request req;
    tool_status status;

    tool_open_std_fds();
    tool_init("shmkit-read", synopsis);
    status = parse_command_line(argc, argv, &req);
    if (status != TOOL_GO_ON)
        return status;
    tool_catch_signals();
    status = run(&req);
    /* The handles are closed: now a signal caught (SIGPIPE included, which
     * also made the last write fail) ends the program as it would have. */
    return tool_close_stdout(tool_end(status));
}
