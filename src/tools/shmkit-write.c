/*
 * shmkit-write - publish one record into a shmkit slot, or send standard
 * input into a ring as messages (one per line, or per SIZE bytes with
 * --raw), creating the slot or ring when asked to.
 *
 * Everything that can be checked without the segment (options, spec,
 * layout, FIELD=VALUE assignments, raw input of a known size, ring
 * geometry) is checked before the segment is touched, so a typo never
 * leaves a half-made segment.
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
#include <unistd.h>

#include "shmkit.h"
#include "tool.h"

static const char synopsis[] =
    "shmkit-write [-L LAYOUT | -s SIZE] [-m MODE] [-x] [--any-owner] [--raw]\n"
    "                    SPEC [FIELD=VALUE ...]\n"
    "       shmkit-write [--ring CAPACITY [--overwrite] [--max-message BYTES] [--owned]]\n"
    "                    [-m MODE] [-x] [--any-owner] [-t SECONDS] [--raw -s SIZE]\n"
    "                    SPEC < MESSAGES";

enum {
    OPT_LAYOUT = 1, OPT_SIZE, OPT_MODE, OPT_EXCL, OPT_RAW, OPT_RING, OPT_OVERWRITE,
    OPT_MAX_MESSAGE, OPT_TIMEOUT, OPT_HELP, OPT_VERSION, OPT_OWNED, OPT_ANY_OWNER
};

static const struct tool_option options[] = {
    { OPT_LAYOUT, 'L', "layout", 1 },
    { OPT_SIZE, 's', "size", 1 },
    { OPT_MODE, 'm', "mode", 1 },
    { OPT_EXCL, 'x', "exclusive", 0 },
    { OPT_RAW, 0, "raw", 0 },
    { OPT_RING, 0, "ring", 1 },
    { OPT_OVERWRITE, 0, "overwrite", 0 },
    { OPT_MAX_MESSAGE, 0, "max-message", 1 },
    { OPT_OWNED, 0, "owned", 0 },
    { OPT_ANY_OWNER, 0, "any-owner", 0 },
    { OPT_TIMEOUT, 't', "timeout", 1 },
    { OPT_HELP, 'h', "help", 0 },
    { OPT_VERSION, 'V', "version", 0 },
    { 0, 0, NULL, 0 }
};

/* Ring geometry as shmkit_ring_create() documents it: the capacity is
 * rounded up to a power of two from 256 bytes to 1 GiB, and a message
 * takes at most half of it less a 16-byte frame header. */
#define RING_MIN_CAPACITY 256u
#define RING_MAX_CAPACITY (1u << 30)
#define RING_FRAME_HEADER 16u

/* What the command line asks for. */
struct request {
    const char *spec;
    const char *layout_text;  /* -L, or NULL */
    size_t size;              /* -s, or 0 */
    unsigned mode;            /* -m, or 0 for the library's default 0600 */
    int have_mode;
    int exclusive;            /* -x */
    int raw;                  /* --raw */
    size_t ring_capacity;     /* --ring, or 0 */
    int overwrite;            /* --overwrite */
    size_t max_message;       /* --max-message, or 0 for the largest */
    int timeout_ms;           /* -t, or -1 to wait as long as it takes */
    int owned;                /* --owned: the new ring goes when we exit */
    unsigned any_owner;       /* --any-owner: SHMKIT_ANY_OWNER, else 0 */
    char **assignments;       /* FIELD=VALUE operands */
    int assignment_count;
};

/* What was prepared from it before touching the segment. */
struct prepared {
    shmkit_layout *layout;    /* parsed -L, or NULL */
    unsigned char *input;     /* --raw bytes read in advance, or NULL */
};

static void print_help(void)
{
    printf("usage: %s\n\n", synopsis);
    fputs(
        "Publish one record into the shmkit slot SPEC (\"/NAME\", \"sysv:PATH:PROJ\",\n"
        "\"sysv:0xKEY\"; see shmkit(1)).  Fields named by FIELD=VALUE are updated,\n"
        "the others keep their current value; without assignments the current\n"
        "record is published again under a new version.\n"
        "\n"
        "  -L, --layout=LAYOUT  record layout, e.g. \"id:u32 temp:f64 name:char[16]\";\n"
        "                       creates the slot if needed, else must match it\n"
        "  -s, --size=SIZE      raw record of SIZE bytes; creates the slot if needed,\n"
        "                       else must match it\n"
        "  -m, --mode=MODE      permission bits of a new slot, octal (default 0600)\n"
        "  -x, --exclusive      fail if the slot or ring already exists\n"
        "      --any-owner      write to a segment that another user owns (refused\n"
        "                       by default)\n"
        "      --raw            read the record's bytes from standard input\n"
        "\n"
        "Rings: send each line of standard input (without its newline) as one\n"
        "message, or with --raw -s SIZE each SIZE bytes, into the ring SPEC.\n"
        "\n"
        "      --ring=CAPACITY  ring of CAPACITY bytes (suffixes k, m, g: 1024-based,\n"
        "                       rounded up to a power of two); creates the ring if\n"
        "                       needed, else must match it.  Without --ring, SPEC may\n"
        "                       be an existing ring.\n"
        "      --overwrite      the new ring overwrites old messages (default: block,\n"
        "                       the writer waits while the ring is full)\n"
        "      --max-message=BYTES\n"
        "                       largest message of the new ring (default and most:\n"
        "                       CAPACITY / 2 - 16)\n"
        "      --owned          the new ring lives only as long as this program: it\n"
        "                       is removed when shmkit-write exits, or by\n"
        "                       \"shmkit rm --stale\" if it was killed (default:\n"
        "                       persistent, it stays for readers that come later)\n"
        "  -t, --timeout=SECONDS\n"
        "                       give up (exit status 4) when the ring stays full for\n"
        "                       SECONDS (decimals allowed); also how long to wait for\n"
        "                       the writer lease held by another live writer (exit\n"
        "                       status 1 after it; default 5 seconds)\n"
        "  -h, --help           show this help and exit\n"
        "  -V, --version        show the version and exit\n"
        "\n"
        "Exit status: 0 ok, 1 runtime error, 2 usage error, 3 no such segment,\n"
        "4 timed out, 5 incompatible or corrupt segment.\n",
        stdout);
}

/* Parse options and operands into REQ.  Returns -1 to go on, or the exit
 * status (for --help, --version and usage errors). */
static int parse_command_line(int argc, char **argv, struct request *req)
{
    struct tool_args args;
    int id;

    memset(req, 0, sizeof *req);
    req->timeout_ms = -1;
    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, options)) > 0) {
        switch (id) {
        case OPT_RING:
            if (tool_parse_bytes(args.arg, 1, RING_MAX_CAPACITY, &req->ring_capacity) != 0)
                return tool_usage_error("bad ring capacity '%s' (expected 1 to 1g bytes, "
                                        "e.g. 4096 or 64k)", args.arg);
            break;
        case OPT_OVERWRITE:
            req->overwrite = 1;
            break;
        case OPT_MAX_MESSAGE:
            if (tool_parse_bytes(args.arg, 1, RING_MAX_CAPACITY, &req->max_message) != 0)
                return tool_usage_error("bad message size '%s' (expected 1 to 1g bytes)",
                                        args.arg);
            break;
        case OPT_TIMEOUT:
            if (tool_parse_seconds(args.arg, &req->timeout_ms) != 0)
                return tool_usage_error("bad timeout '%s' (expected seconds from 0 to %d, "
                                        "e.g. 2 or 0.5)", args.arg, TOOL_MAX_TIMEOUT_S);
            break;
        case OPT_LAYOUT:
            req->layout_text = args.arg;
            break;
        case OPT_SIZE:
            if (tool_parse_size(args.arg, &req->size) != 0)
                return tool_usage_error("bad size '%s' (expected 1 to %u bytes)",
                                        args.arg, (unsigned)SHMKIT_RECORD_MAX);
            break;
        case OPT_MODE:
            /* 0 would mean "default" to the library, so refuse it rather
             * than silently create a 0600 slot. */
            if (tool_parse_mode(args.arg, &req->mode) != 0 || req->mode == 0)
                return tool_usage_error("bad mode '%s' (expected octal 1 to 0777)",
                                        args.arg);
            req->have_mode = 1;
            break;
        case OPT_EXCL:
            req->exclusive = 1;
            break;
        case OPT_RAW:
            req->raw = 1;
            break;
        case OPT_OWNED:
            req->owned = 1;
            break;
        case OPT_ANY_OWNER:
            req->any_owner = SHMKIT_ANY_OWNER;
            break;
        case OPT_HELP:
            print_help();
            return tool_close_stdout(TOOL_EXIT_OK);
        case OPT_VERSION:
            return tool_close_stdout(tool_print_version());
        }
    }
    if (id == TOOL_OPT_ERROR)
        return TOOL_EXIT_USAGE;
    if (args.index >= argc)
        return tool_usage_error("missing SPEC");
    req->spec = argv[args.index];
    req->assignments = argv + args.index + 1;
    req->assignment_count = argc - args.index - 1;
    return -1;
}

/* The capacity a ring created with REQUESTED bytes gets. */
static size_t ring_capacity_of(size_t requested)
{
    size_t cap = RING_MIN_CAPACITY;

    while (cap < requested && cap < RING_MAX_CAPACITY)
        cap <<= 1;
    return cap;
}

/* Ring options that make no sense together, or a geometry that
 * shmkit_ring_create() would refuse. */
static int check_ring_combinations(const struct request *req)
{
    size_t cap = ring_capacity_of(req->ring_capacity);
    size_t largest = cap / 2 - RING_FRAME_HEADER;
    size_t max = req->max_message != 0 ? req->max_message : largest;

    if (req->ring_capacity == 0) {
        if (req->owned)
            return tool_usage_error("--owned only applies when creating a ring: give "
                                    "--ring CAPACITY (an owned slot would be removed "
                                    "as soon as shmkit-write exits)");
        if (req->overwrite || req->max_message != 0)
            return tool_usage_error("%s only applies when creating a ring: "
                                    "give --ring CAPACITY",
                                    req->overwrite ? "--overwrite" : "--max-message");
        return -1;
    }
    if (req->layout_text != NULL)
        return tool_usage_error("a ring has no layout: -L does not go with --ring");
    if (req->assignment_count > 0)
        return tool_usage_error("a ring takes its messages from standard input, "
                                "not FIELD=VALUE operands");
    if (req->max_message > largest)
        return tool_usage_error("messages of %zu bytes do not fit a ring of %zu bytes "
                                "(at most %zu)", req->max_message, cap, largest);
    if (req->size > max)
        return tool_usage_error("records of %zu bytes are longer than the largest "
                                "message (%zu bytes)", req->size, max);
    return -1;
}

/* Option combinations that make no sense, whatever the segment holds. */
static int check_combinations(const struct request *req)
{
    int i, status;

    if ((status = check_ring_combinations(req)) >= 0)
        return status;
    if (req->layout_text != NULL && req->size != 0)
        return tool_usage_error("give either -L or -s, not both");
    if ((req->exclusive || req->have_mode) && req->layout_text == NULL && req->size == 0
        && req->ring_capacity == 0)
        return tool_usage_error("%s only applies when creating: give -L LAYOUT, -s SIZE "
                                "or --ring CAPACITY", req->exclusive ? "-x" : "-m");
    if (req->raw && req->assignment_count > 0)
        return tool_usage_error("--raw takes no FIELD=VALUE assignments");
    if (req->size != 0 && req->assignment_count > 0)
        return tool_usage_error("a raw slot (-s) has no fields to assign");
    for (i = 0; i < req->assignment_count; i++) {
        const char *equals = strchr(req->assignments[i], '=');
        if (equals == NULL || equals == req->assignments[i])
            return tool_usage_error("'%s' is not FIELD=VALUE", req->assignments[i]);
    }
    return -1;
}

/* Apply every assignment to RECORD; on failure report it and return the
 * exit status, else -1. */
static int apply_assignments(const struct request *req, const shmkit_layout *layout,
                             void *record)
{
    int i, rc;

    for (i = 0; i < req->assignment_count; i++) {
        rc = shmkit_layout_assign(layout, record, req->assignments[i]);
        if (rc < 0)
            return tool_fail(req->spec, req->assignments[i], rc);
    }
    return -1;
}

/* Read exactly SIZE bytes from stdin into a new buffer.  Returns -1 and
 * sets *BUFP, or the exit status after reporting the problem. */
static int read_input(const struct request *req, size_t size, unsigned char **bufp)
{
    unsigned char *buf = malloc(size);
    size_t got;

    if (buf == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
    got = fread(buf, 1, size, stdin);
    if (ferror(stdin)) {
        int saved = errno;
        free(buf);
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "reading standard input: %s",
                          strerror(saved));
    }
    if (got < size || getchar() != EOF) {
        free(buf);
        if (got < size)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec,
                              "expected %zu bytes, got %zu on standard input", size, got);
        return tool_error(TOOL_EXIT_RUNTIME, req->spec,
                          "expected %zu bytes, got more on standard input", size);
    }
    *bufp = buf;
    return -1;
}

/* Parse -L, rehearse the assignments on a scratch record and read --raw
 * input of a known size, all before any segment is touched. */
static int prepare(const struct request *req, struct prepared *prep)
{
    size_t size = req->size;
    int rc;

    if (req->layout_text != NULL) {
        void *scratch;
        rc = shmkit_layout_parse(&prep->layout, req->layout_text);
        if (rc < 0)
            return tool_fail(req->spec, "-L", rc);
        size = shmkit_layout_size(prep->layout);
        scratch = calloc(1, size);
        if (scratch == NULL)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
        rc = apply_assignments(req, prep->layout, scratch);
        free(scratch);
        if (rc >= 0)
            return rc;
    }
    if (req->raw && size != 0)
        return read_input(req, size, &prep->input);
    return -1;
}

/* ---- waiting for the writer lease ------------------------------------- */

/* Scripts run one-shot writers side by side: one that finds the lease held
 * by a live writer waits for it a short, bounded time (-t, else this long)
 * before it fails with "writer busy". */
#define LEASE_WAIT_DEFAULT_MS 5000
#define LEASE_PAUSE_FIRST_US 500u
#define LEASE_PAUSE_MAX_US 50000u

struct lease_wait {
    int64_t deadline;
    unsigned pause_us;
    unsigned seed;
};

static void lease_wait_init(struct lease_wait *w, const struct request *req)
{
    w->deadline = tool_deadline(req->timeout_ms >= 0 ? req->timeout_ms : LEASE_WAIT_DEFAULT_MS);
    w->pause_us = LEASE_PAUSE_FIRST_US;
    w->seed = (unsigned)getpid();
}

/* The lease was busy: pause, then 1 to try again, or 0 once the deadline
 * has passed (or a signal was caught).  Pauses double up to a bound and
 * are jittered, so that writers that collided do not retry in step. */
static int lease_wait_again(struct lease_wait *w)
{
    struct timespec ts;
    unsigned pause;

    if (tool_expired(w->deadline) || tool_signal_caught())
        return 0;
    pause = w->pause_us / 2 + (unsigned)rand_r(&w->seed) % (w->pause_us / 2 + 1);
    ts.tv_sec = 0;
    ts.tv_nsec = (long)pause * 1000;
    nanosleep(&ts, NULL);
    if (w->pause_us < LEASE_PAUSE_MAX_US)
        w->pause_us *= 2;
    return !tool_signal_caught();
}

/* Open (or create, if -L or -s say how) the slot as its writer, waiting
 * for a busy lease. */
static int try_open_slot(const struct request *req, const struct prepared *prep,
                         shmkit_slot **slotp)
{
    struct lease_wait wait;
    int rc;

    lease_wait_init(&wait, req);
    do {
        if (req->layout_text == NULL && req->size == 0)
            rc = shmkit_slot_open(slotp, req->spec, SHMKIT_WRITE | req->any_owner);
        else /* Without SHMKIT_EXCL the library opens an existing slot
              * instead and checks that its layout or size matches ours. */
            rc = shmkit_slot_create(slotp, req->spec,
                                    prep->layout != NULL ? shmkit_layout_text(prep->layout)
                                                         : NULL,
                                    prep->layout != NULL ? 0 : req->size, req->mode,
                                    (req->exclusive ? SHMKIT_EXCL : 0) | req->any_owner);
    } while (rc == SHMKIT_EBUSY && lease_wait_again(&wait));
    return rc;
}

/* Open the slot as its writer, creating it if -L or -s say how. */
static int open_slot(const struct request *req, const struct prepared *prep,
                     shmkit_slot **slotp)
{
    int rc = try_open_slot(req, prep, slotp);

    if (req->layout_text == NULL && req->size == 0) {
        if (rc == -ENOENT)
            return tool_error(TOOL_EXIT_USAGE, req->spec,
                              "no such segment; give -L LAYOUT or -s SIZE to create it");
        return rc < 0 ? tool_fail(req->spec, NULL, rc) : -1;
    }
    if (rc == -EEXIST)
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "already exists");
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : -1;
}

/* Build the new record in RECORD (the slot's record size) and publish it. */
static int publish(const struct request *req, struct prepared *prep, shmkit_slot *slot,
                   unsigned char *record)
{
    size_t size = shmkit_slot_record_size(slot);
    const shmkit_layout *layout = shmkit_slot_layout(slot);
    int rc;

    if (req->raw) {
        if (prep->input == NULL && (rc = read_input(req, size, &prep->input)) >= 0)
            return rc;
        memcpy(record, prep->input, size);
    } else {
        if (req->assignment_count > 0 && layout == NULL)
            return tool_error(TOOL_EXIT_USAGE, req->spec,
                              "raw slot has no fields; use --raw to write its bytes");
        /* Read-modify-write as the lease holder: nobody else can publish
         * between the read and the write. */
        rc = shmkit_slot_read(slot, record, size, NULL);
        if (rc < 0)
            return tool_fail(req->spec, NULL, rc);
        if (layout != NULL && (rc = apply_assignments(req, layout, record)) >= 0)
            return rc;
    }
    rc = shmkit_slot_write(slot, record, size);
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : TOOL_EXIT_OK;
}

static int run_slot(const struct request *req)
{
    struct prepared prep = { NULL, NULL };
    shmkit_slot *slot = NULL;
    unsigned char *record = NULL;
    int status = prepare(req, &prep);

    if (status < 0)
        status = open_slot(req, &prep, &slot);
    if (status < 0) {
        record = malloc(shmkit_slot_record_size(slot));
        status = record != NULL ? publish(req, &prep, slot, record)
                                : tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
    }
    free(record);
    if (slot != NULL)
        shmkit_slot_close(slot);
    free(prep.input);
    if (prep.layout != NULL)
        shmkit_layout_free(prep.layout);
    return status;
}

/* ---- rings --------------------------------------------------------------- */

/* A status meaning "stopped by a signal": main() then dies by it. */
#define STATUS_SIGNALLED (-2)

/* The input buffer starts at this size and doubles while a line or record
 * does not fit; it never needs more than twice the largest message. */
#define FIRST_INPUT_SIZE 65536u

/* Standard input, read in blocks; lines and records are sent straight from
 * the buffer. */
struct input {
    unsigned char *buf;
    size_t size;
    size_t start, end;        /* the bytes not handed out yet */
    size_t scanned;           /* bytes from start known to hold no newline */
    int eof;
    unsigned long long number; /* of the last line or record handed out */
};

/* Move the unread bytes to the front, make room if there is none, and
 * read more.  Returns -1 to go on, or the status that ends the run. */
static int fill_input(const struct request *req, struct input *in)
{
    ssize_t n;

    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    if (in->end == in->size) {
        unsigned char *bigger = realloc(in->buf, in->size * 2);
        if (bigger == NULL)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
        in->buf = bigger;
        in->size *= 2;
    }
    for (;;) {
        if (tool_signal_caught())
            return STATUS_SIGNALLED;
        n = read(STDIN_FILENO, in->buf + in->end, in->size - in->end);
        if (n >= 0)
            break;
        if (errno != EINTR)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec, "reading standard input: %s",
                              strerror(errno));
    }
    if (n == 0)
        in->eof = 1;
    in->end += (size_t)n;
    return -1;
}

/* The next line, without its newline (a last line without one counts),
 * in *MSG and *LEN.  Returns -1 for a line, TOOL_EXIT_OK at the end of the
 * input, or the status that ends the run: a line longer than MAX is not
 * sent, not even in part. */
static int next_line(const struct request *req, struct input *in, size_t max,
                     const unsigned char **msg, size_t *len)
{
    for (;;) {
        const unsigned char *p = in->buf + in->start;
        size_t avail = in->end - in->start;
        const unsigned char *nl = memchr(p + in->scanned, '\n', avail - in->scanned);
        size_t n = nl != NULL ? (size_t)(nl - p) : avail;
        int status;

        if (n > max)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec,
                              "line %llu is longer than %zu bytes, the largest message "
                              "of the ring", in->number + 1, max);
        if (nl != NULL || (in->eof && avail > 0)) {
            *msg = p;
            *len = n;
            in->start += nl != NULL ? n + 1 : n;
            in->scanned = 0;
            in->number++;
            return -1;
        }
        if (in->eof)
            return TOOL_EXIT_OK;
        in->scanned = avail;
        if ((status = fill_input(req, in)) != -1)
            return status;
    }
}

/* The next SIZE-byte record in *MSG.  Returns -1 for a record,
 * TOOL_EXIT_OK at the end of the input, or the status that ends the run:
 * a short last record is an error, and is not sent. */
static int next_record(const struct request *req, struct input *in, size_t size,
                       const unsigned char **msg)
{
    for (;;) {
        size_t avail = in->end - in->start;
        int status;

        if (avail >= size) {
            *msg = in->buf + in->start;
            in->start += size;
            in->number++;
            return -1;
        }
        if (in->eof && avail == 0)
            return TOOL_EXIT_OK;
        if (in->eof)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec,
                              "record %llu: expected %zu bytes, got %zu on standard input",
                              in->number + 1, size, avail);
        if ((status = fill_input(req, in)) != -1)
            return status;
    }
}

/* Send one message, waiting (block policy) while the ring is full: for
 * -t at most, in slices so that a signal is noticed.  Returns -1 once it
 * is sent, or the status that ends the run. */
static int send_message(const struct request *req, shmkit_ring *ring, const struct input *in,
                        const void *msg, size_t len)
{
    int64_t deadline = tool_deadline(req->timeout_ms);

    for (;;) {
        int rc = shmkit_ring_send(ring, msg, len, tool_wait_slice(deadline));

        if (rc == 0)
            return -1;
        if (tool_signal_caught())
            return STATUS_SIGNALLED;
        if (rc == -EINTR || ((rc == -ETIMEDOUT || rc == -EAGAIN) && !tool_expired(deadline)))
            continue;
        if (rc == -ETIMEDOUT || rc == -EAGAIN)
            return tool_error(TOOL_EXIT_TIMEDOUT, req->spec,
                              "%s %llu: timed out waiting for room in the ring",
                              req->raw ? "record" : "line", in->number);
        return tool_fail(req->spec, NULL, rc);
    }
}

/* Send standard input, line by line or record by record. */
static int send_input(const struct request *req, shmkit_ring *ring)
{
    size_t max = shmkit_ring_max_message(ring);
    struct input in;
    int status;

    memset(&in, 0, sizeof in);
    in.size = FIRST_INPUT_SIZE;
    in.buf = malloc(in.size);
    if (in.buf == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "out of memory");
    for (;;) {
        const unsigned char *msg = NULL;
        size_t len = req->size;

        status = req->raw ? next_record(req, &in, req->size, &msg)
                          : next_line(req, &in, max, &msg, &len);
        if (status == -1)
            status = send_message(req, ring, &in, msg, len);
        if (status != -1)
            break;
    }
    free(in.buf);
    return status;
}

/* How a ring's messages come from standard input: lines, or --raw with
 * -s SIZE.  Returns -1 if the options say it consistently. */
static int check_ring_input(const struct request *req)
{
    if (req->raw && req->size == 0)
        return tool_usage_error("--raw needs -s SIZE for a ring: the size of each message");
    if (!req->raw && req->size != 0)
        return tool_usage_error("-s needs --raw for a ring: messages of SIZE raw bytes");
    return -1;
}

/* Create the ring (--ring) or open the existing one as its writer,
 * waiting for a busy lease. */
static int open_ring(const struct request *req, shmkit_ring **ringp)
{
    struct lease_wait wait;
    int rc;

    lease_wait_init(&wait, req);
    do {
        if (req->ring_capacity == 0)
            rc = shmkit_ring_open(ringp, req->spec, SHMKIT_WRITE | req->any_owner);
        else /* Without SHMKIT_EXCL an existing ring is opened instead and
              * must have the same policy, capacity and largest message. */
            rc = shmkit_ring_create(ringp, req->spec, req->ring_capacity, req->max_message,
                                    req->overwrite ? SHMKIT_RING_OVERWRITE : SHMKIT_RING_BLOCK,
                                    req->mode, (req->exclusive ? SHMKIT_EXCL : 0) |
                                    (req->owned ? SHMKIT_OWNED : 0) | req->any_owner);
    } while (rc == SHMKIT_EBUSY && lease_wait_again(&wait));
    if (rc == -EEXIST && req->ring_capacity != 0)
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "already exists");
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : -1;
}

static int run_ring(const struct request *req)
{
    shmkit_ring *ring;
    size_t max;
    int status;

    if ((status = check_ring_input(req)) >= 0 || (status = open_ring(req, &ring)) >= 0)
        return status;
    max = shmkit_ring_max_message(ring);
    if (req->raw && req->size > max)
        status = tool_error(TOOL_EXIT_INCOMPATIBLE, req->spec,
                            "records of %zu bytes do not fit: the ring takes messages of "
                            "at most %zu bytes", req->size, max);
    else
        status = send_input(req, ring);
    shmkit_ring_close(ring);
    return status;
}

/* A command for a ring: --ring, or a SPEC that names an existing ring and
 * nothing that only a slot could mean (a layout, assignments, -x, -m). */
static int wants_ring(const struct request *req)
{
    struct shmkit_info info;

    if (req->ring_capacity != 0)
        return 1;
    if (req->layout_text != NULL || req->assignment_count > 0 || req->exclusive
        || req->have_mode)
        return 0;
    /* Anything but an existing, valid ring goes the slot way, which
     * reports whatever is wrong with the segment. */
    return shmkit_info(req->spec, &info, sizeof info) == 0 && info.kind == SHMKIT_KIND_RING;
}

static int run(const struct request *req)
{
    if (!wants_ring(req))
        return run_slot(req);
    tool_catch_signals();
    return run_ring(req);
}

int main(int argc, char **argv)
{
    struct request req;
    int status, rc;

    tool_open_std_fds();
    tool_init("shmkit-write", synopsis);
    status = parse_command_line(argc, argv, &req);
    if (status >= 0)
        return status;
    status = check_combinations(&req);
    if (status >= 0)
        return status;
    rc = shmkit_spec_check(req.spec);
    if (rc < 0)
        return tool_fail(req.spec, NULL, rc);
    status = run(&req);
    /* The ring is closed: a signal caught now ends the program as it
     * would have. */
    tool_die_by_signal();
    return status >= 0 ? status : TOOL_EXIT_RUNTIME;
}
