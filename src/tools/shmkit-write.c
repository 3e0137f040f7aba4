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
    "       shmkit-write [--ring CAPACITY [--overwrite | --consumers N]\n"
    "                    [--max-message BYTES] [--owned]]\n"
    "                    [-m MODE] [-x] [--any-owner] [-t SECONDS] [--raw -s SIZE]\n"
    "                    SPEC < MESSAGES";

enum {
    OPT_LAYOUT = 1, OPT_SIZE, OPT_MODE, OPT_EXCL, OPT_RAW, OPT_RING, OPT_OVERWRITE,
    OPT_MAX_MESSAGE, OPT_TIMEOUT, OPT_HELP, OPT_VERSION, OPT_OWNED, OPT_ANY_OWNER,
    OPT_CONSUMERS
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
    { OPT_CONSUMERS, 0, "consumers", 1 },
    { OPT_OWNED, 0, "owned", 0 },
    { OPT_ANY_OWNER, 0, "any-owner", 0 },
    { OPT_TIMEOUT, 't', "timeout", 1 },
    { OPT_HELP, 'h', "help", 0 },
    { OPT_VERSION, 'V', "version", 0 },
    { 0, 0, NULL, 0 }
};

/* The largest ring capacity, for parsing --ring and --max-message. */
#define RING_MAX_CAPACITY (1u << 30)

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
    unsigned consumers;       /* --consumers, or 0 for the library's 1 */
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
        "                       the writer waits while the ring is full)\n",
        stdout);
    printf("      --consumers=N    consumer entries of the new block ring, 1 to %u\n"
           "                       (default 1): up to N shmkit-read at once, each\n"
           "                       receives every message; the writer waits for the\n"
           "                       slowest\n",
           (unsigned)SHMKIT_RING_MAX_CONSUMERS);
    fputs(
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

/* The flag that option ID sets, or NULL. */
static int *flag_of(struct request *req, int id)
{
    switch (id) {
    case OPT_EXCL: return &req->exclusive;
    case OPT_RAW: return &req->raw;
    case OPT_OVERWRITE: return &req->overwrite;
    case OPT_OWNED: return &req->owned;
    default: return NULL;
    }
}

/* Handle option ID (its argument in ARG) for the request CTX. */
static tool_status take_option(void *ctx, int id, const char *arg)
{
    struct request *req = ctx;
    int *flag = flag_of(req, id);
    uint64_t count;

    if (flag != NULL) {
        *flag = 1;
        return TOOL_GO_ON;
    }
    switch (id) {
    case OPT_RING:
        if (tool_parse_bytes(arg, 1, RING_MAX_CAPACITY, &req->ring_capacity) != 0)
            return tool_usage_error("bad ring capacity '%s' (expected 1 to 1g bytes, "
                                    "e.g. 4096 or 64k)", arg);
        return TOOL_GO_ON;
    case OPT_MAX_MESSAGE:
        if (tool_parse_bytes(arg, 1, RING_MAX_CAPACITY, &req->max_message) != 0)
            return tool_usage_error("bad message size '%s' (expected 1 to 1g bytes)", arg);
        return TOOL_GO_ON;
    case OPT_CONSUMERS:
        if (tool_parse_count(arg, &count) != 0 || count > SHMKIT_RING_MAX_CONSUMERS)
            return tool_usage_error("bad consumer count '%s' (expected 1 to %u)", arg,
                                    (unsigned)SHMKIT_RING_MAX_CONSUMERS);
        req->consumers = (unsigned)count;
        return TOOL_GO_ON;
    case OPT_TIMEOUT:
        return tool_take_timeout(arg, &req->timeout_ms);
    case OPT_LAYOUT:
        req->layout_text = arg;
        return TOOL_GO_ON;
    case OPT_SIZE:
        if (tool_parse_size(arg, &req->size) != 0)
            return tool_usage_error("bad size '%s' (expected 1 to %u bytes)", arg,
                                    (unsigned)SHMKIT_RECORD_MAX);
        return TOOL_GO_ON;
    case OPT_MODE:
        /* 0 would mean "default" to the library, so refuse it rather
         * than silently create a 0600 slot. */
        if (tool_parse_mode(arg, &req->mode) != 0 || req->mode == 0)
            return tool_usage_error("bad mode '%s' (expected octal 1 to 0777)", arg);
        req->have_mode = 1;
        return TOOL_GO_ON;
    case OPT_ANY_OWNER:
        req->any_owner = SHMKIT_ANY_OWNER;
        return TOOL_GO_ON;
    case OPT_HELP:
        print_help();
        return tool_close_stdout(TOOL_EXIT_OK);
    default: /* OPT_VERSION */
        return tool_close_stdout(tool_print_version());
    }
}

/* The options of the ring that --ring creates. */
static void ring_options(const struct request *req, struct shmkit_ring_options *ro)
{
    shmkit_ring_options_init(ro);
    ro->capacity = req->ring_capacity;
    ro->max_message = req->max_message;
    ro->policy = req->overwrite ? SHMKIT_RING_OVERWRITE : SHMKIT_RING_BLOCK;
    ro->consumers = req->consumers;
    ro->mode = req->mode;
    ro->flags = (req->exclusive ? SHMKIT_EXCL : 0) | (req->owned ? SHMKIT_OWNED : 0) |
                     req->any_owner;
}

/* Ring options that make no sense together, or a geometry that
 * shmkit_ring_create() would refuse. */
static tool_status check_ring_combinations(const struct request *req)
{
    struct shmkit_ring_options ro;
    size_t cap = 0, largest = 0, max;
    int rc;

    if (req->ring_capacity == 0) {
        if (req->owned)
            return tool_usage_error("--owned only applies when creating a ring: give "
                                    "--ring CAPACITY (an owned slot would be removed "
                                    "as soon as shmkit-write exits)");
        if (req->overwrite || req->max_message != 0 || req->consumers != 0)
            return tool_usage_error("%s only applies when creating a ring: "
                                    "give --ring CAPACITY",
                                    req->overwrite       ? "--overwrite"
                                    : req->consumers != 0 ? "--consumers"
                                                          : "--max-message");
        return TOOL_GO_ON;
    }
    if (req->overwrite && req->consumers != 0)
        return tool_usage_error("an overwrite ring has any number of readers, not "
                                "consumers: --consumers does not go with --overwrite");
    ring_options(req, &ro);
    ro.max_message = 0; /* the largest message of that capacity */
    rc = shmkit_ring_size(&ro, &cap, &largest, NULL);
    if (rc < 0) /* not with a capacity that --ring accepted */
        return tool_fail(req->spec, NULL, rc);
    max = req->max_message != 0 ? req->max_message : largest;
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
    return TOOL_GO_ON;
}

/* Option combinations that make no sense, whatever the segment holds. */
static tool_status check_combinations(const struct request *req)
{
    tool_status status;
    int i;

    if ((status = check_ring_combinations(req)) != TOOL_GO_ON)
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
    return TOOL_GO_ON;
}

/* Parse options and operands into REQ and check them. */
static tool_status parse_command_line(int argc, char **argv, struct request *req)
{
    struct tool_args args;
    tool_status status;

    memset(req, 0, sizeof *req);
    req->timeout_ms = -1;
    tool_args_init(&args, argc, argv);
    if ((status = tool_take_options(&args, options, take_option, req)) != TOOL_GO_ON
        || (status = tool_spec_operand(&args, "", 0, &req->spec)) != TOOL_GO_ON)
        return status;
    req->assignments = argv + args.index + 1;
    req->assignment_count = argc - args.index - 1;
    if ((status = check_combinations(req)) != TOOL_GO_ON)
        return status;
    return tool_check_spec(req->spec);
}

/* Apply every assignment to RECORD; on failure report it and return the
 * exit status. */
static tool_status apply_assignments(const struct request *req, const shmkit_layout *layout,
                                     void *record)
{
    int i, rc;

    for (i = 0; i < req->assignment_count; i++) {
        rc = shmkit_layout_assign(layout, record, req->assignments[i]);
        if (rc < 0)
            return tool_fail(req->spec, req->assignments[i], rc);
    }
    return TOOL_GO_ON;
}

/* Read exactly SIZE bytes from stdin into a new buffer, *BUFP. */
static tool_status read_input(const struct request *req, size_t size, unsigned char **bufp)
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
    return TOOL_GO_ON;
}

/* Parse -L, rehearse the assignments on a scratch record and read --raw
 * input of a known size, all before any segment is touched. */
static tool_status prepare(const struct request *req, struct prepared *prep)
{
    size_t size = req->size;
    tool_status status;
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
        status = apply_assignments(req, prep->layout, scratch);
        free(scratch);
        if (status != TOOL_GO_ON)
            return status;
    }
    if (req->raw && size != 0)
        return read_input(req, size, &prep->input);
    return TOOL_GO_ON;
}

/* ---- waiting for the writer lease ------------------------------------- */

/* Scripts run one-shot writers side by side: one that finds the lease held
 * by a live writer waits for it a short, bounded time (-t, else this long)
 * before it fails with "lease busy". */
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
static tool_status open_slot(const struct request *req, const struct prepared *prep,
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
static tool_status publish(const struct request *req, struct prepared *prep,
                           shmkit_slot *slot, unsigned char *record)
{
    size_t size = shmkit_slot_record_size(slot);
    const shmkit_layout *layout = shmkit_slot_layout(slot);
    tool_status status;
    int rc;

    if (req->raw) {
        if (prep->input == NULL && (status = read_input(req, size, &prep->input)) != TOOL_GO_ON)
            return status;
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
        if (layout != NULL && (status = apply_assignments(req, layout, record)) != TOOL_GO_ON)
            return status;
    }
    rc = shmkit_slot_write(slot, record, size);
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : TOOL_EXIT_OK;
}

static tool_status run_slot(const struct request *req)
{
    struct prepared prep = { NULL, NULL };
    shmkit_slot *slot = NULL;
    unsigned char *record = NULL;
    tool_status status = prepare(req, &prep);

    if (status == TOOL_GO_ON)
        status = open_slot(req, &prep, &slot);
    if (status == TOOL_GO_ON) {
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
 * read more. */
static tool_status fill_input(const struct request *req, struct input *in)
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
            return TOOL_SIGNALLED;
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
    return TOOL_GO_ON;
}

/* The next line, without its newline (a last line without one counts),
 * in *MSG and *LEN: TOOL_GO_ON for a line, TOOL_EXIT_OK at the end of the
 * input, or the status that ends the run: a line longer than MAX is not
 * sent, not even in part. */
static tool_status next_line(const struct request *req, struct input *in, size_t max,
                             const unsigned char **msg, size_t *len)
{
    for (;;) {
        const unsigned char *p = in->buf + in->start;
        size_t avail = in->end - in->start;
        const unsigned char *nl = memchr(p + in->scanned, '\n', avail - in->scanned);
        size_t n = nl != NULL ? (size_t)(nl - p) : avail;
        tool_status status;

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
            return TOOL_GO_ON;
        }
        if (in->eof)
            return TOOL_EXIT_OK;
        in->scanned = avail;
        if ((status = fill_input(req, in)) != TOOL_GO_ON)
            return status;
    }
}

/* The next SIZE-byte record in *MSG: TOOL_GO_ON for a record,
 * TOOL_EXIT_OK at the end of the input, or the status that ends the run:
 * a short last record is an error, and is not sent. */
static tool_status next_record(const struct request *req, struct input *in, size_t size,
                               const unsigned char **msg)
{
    for (;;) {
        size_t avail = in->end - in->start;
        tool_status status;

        if (avail >= size) {
            *msg = in->buf + in->start;
            in->start += size;
            in->number++;
            return TOOL_GO_ON;
        }
        if (in->eof && avail == 0)
            return TOOL_EXIT_OK;
        if (in->eof)
            return tool_error(TOOL_EXIT_RUNTIME, req->spec,
                              "record %llu: expected %zu bytes, got %zu on standard input",
                              in->number + 1, size, avail);
        if ((status = fill_input(req, in)) != TOOL_GO_ON)
            return status;
    }
}

/* One message to send, and where it came from (for messages). */
struct sending {
    const struct request *req;
    shmkit_ring *ring;
    const struct input *in;
    const void *msg;
    size_t len;
};

static int try_send(void *ctx, int timeout_ms)
{
    const struct sending *s = ctx;

    return shmkit_ring_send(s->ring, s->msg, s->len, timeout_ms);
}

static tool_status no_room(void *ctx)
{
    const struct sending *s = ctx;

    return tool_error(TOOL_EXIT_TIMEDOUT, s->req->spec,
                      "%s %llu: timed out waiting for room in the ring",
                      s->req->raw ? "record" : "line", s->in->number);
}

/* Send one message, waiting (block policy) while the ring is full: for
 * -t at most, in slices so that a signal is noticed. */
static tool_status send_message(const struct request *req, shmkit_ring *ring,
                                const struct input *in, const void *msg, size_t len)
{
    struct sending s = { req, ring, in, msg, len };
    struct tool_wait w;
    tool_status status;
    int rc;

    w.deadline = tool_deadline(req->timeout_ms);
    w.attempt = try_send;
    w.idle = NULL;
    w.expired = no_room;
    w.ctx = &s;
    if ((status = tool_wait(&w, &rc)) != TOOL_GO_ON)
        return status;
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : TOOL_GO_ON;
}

/* Send standard input, line by line or record by record. */
static tool_status send_input(const struct request *req, shmkit_ring *ring)
{
    size_t max = shmkit_ring_max_message(ring);
    struct input in;
    tool_status status;

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
        if (status == TOOL_GO_ON)
            status = send_message(req, ring, &in, msg, len);
        if (status != TOOL_GO_ON)
            break;
    }
    free(in.buf);
    return status;
}

/* How a ring's messages come from standard input: lines, or --raw with
 * -s SIZE: TOOL_GO_ON if the options say it consistently. */
static tool_status check_ring_input(const struct request *req)
{
    if (req->raw && req->size == 0)
        return tool_usage_error("--raw needs -s SIZE for a ring: the size of each message");
    if (!req->raw && req->size != 0)
        return tool_usage_error("-s needs --raw for a ring: messages of SIZE raw bytes");
    return TOOL_GO_ON;
}

/* Create the ring (--ring) or open the existing one as its writer,
 * waiting for a busy lease. */
static tool_status open_ring(const struct request *req, shmkit_ring **ringp)
{
    struct shmkit_ring_options ro;
    struct lease_wait wait;
    int rc;

    ring_options(req, &ro);
    lease_wait_init(&wait, req);
    do {
        if (req->ring_capacity == 0)
            rc = shmkit_ring_open(ringp, req->spec, SHMKIT_WRITE | req->any_owner);
        else /* Without SHMKIT_EXCL an existing ring is opened instead and
              * must have the same policy, capacity and largest message. */
            rc = shmkit_ring_create(ringp, req->spec, &ro);
    } while (rc == SHMKIT_EBUSY && lease_wait_again(&wait));
    if (rc == -EEXIST && req->ring_capacity != 0)
        return tool_error(TOOL_EXIT_RUNTIME, req->spec, "already exists");
    return rc < 0 ? tool_fail(req->spec, NULL, rc) : -1;
}

static tool_status run_ring(const struct request *req)
{
    shmkit_ring *ring;
    size_t max;
    tool_status status;

    if ((status = check_ring_input(req)) != TOOL_GO_ON
        || (status = open_ring(req, &ring)) != TOOL_GO_ON)
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
    if (req->ring_capacity != 0)
        return 1;
    if (req->layout_text != NULL || req->assignment_count > 0 || req->exclusive
        || req->have_mode)
        return 0;
    /* Anything but an existing, valid ring goes the slot way, which
     * reports whatever is wrong with the segment. */
    return tool_segment_kind(req->spec) == SHMKIT_KIND_RING;
}

static tool_status run(const struct request *req)
{
    if (!wants_ring(req))
        return run_slot(req);
    tool_catch_signals();
    return run_ring(req);
}

int main(int argc, char **argv)
{
    struct request req;
    tool_status status;

    tool_open_std_fds();
    tool_init("shmkit-write", synopsis);
    status = parse_command_line(argc, argv, &req);
    if (status == TOOL_GO_ON)
        status = run(&req);
    /* The ring is closed: a signal caught now ends the program as it
     * would have. */
    return tool_end(status);
}
