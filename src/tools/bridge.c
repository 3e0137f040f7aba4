/*
 * shmkit-bridge - carry a slot or a ring to another machine over ZeroMQ:
 * "send" forwards a local segment, "receive" writes what arrives into a
 * local one; "keygen" makes CURVE keys, "bench" measures.  This file holds
 * main, the subcommand dispatch, and what send and receive share: their
 * options, their socket, notices and the --stats line.
 *
 * Framing, reconnection, queues and encryption are libzmq's; the bridge
 * adds the segment semantics on top (bridge-send.c, bridge-receive.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "bridge.h"
#include "shmkit.h"

static const char synopsis[] =
    "shmkit-bridge send [OPTIONS] SPEC ENDPOINT\n"
    "       shmkit-bridge receive [OPTIONS] ENDPOINT SPEC\n"
    "       shmkit-bridge keygen [-f] NAME\n"
    "       shmkit-bridge bench [--quick] [--sizes LIST] [--duration S] [--csv]\n"
    "       shmkit-bridge --help | --version";

enum {
    OPT_BIND = 1, OPT_CONNECT, OPT_SERVER_KEY, OPT_CLIENT_KEYS, OPT_CLIENT_KEY, OPT_INSECURE,
    OPT_STATS, OPT_HEARTBEAT, OPT_QUIET, OPT_FROM_OLDEST, OPT_WINDOW, OPT_WINDOW_BYTES,
    OPT_CONSUMERS, OPT_MODE, OPT_ONCE, OPT_HELP, OPT_VERSION
};

static const struct tool_option options[] = {
    { OPT_BIND, 0, "bind", 0 },
    { OPT_CONNECT, 0, "connect", 0 },
    { OPT_SERVER_KEY, 0, "curve-server-key", 1 },
    { OPT_CLIENT_KEYS, 0, "curve-client-keys", 1 },
    { OPT_CLIENT_KEY, 0, "curve-client-key", 1 },
    { OPT_INSECURE, 0, "insecure", 0 },
    { OPT_STATS, 0, "stats", 1 },
    { OPT_HEARTBEAT, 0, "heartbeat", 1 },
    { OPT_QUIET, 'q', "quiet", 0 },
    { OPT_FROM_OLDEST, 0, "from-oldest", 0 },
    { OPT_WINDOW, 0, "window", 1 },
    { OPT_WINDOW_BYTES, 0, "window-bytes", 1 },
    { OPT_CONSUMERS, 0, "consumers", 1 },
    { OPT_MODE, 0, "mode", 1 },
    { OPT_ONCE, 0, "once", 0 },
    { OPT_HELP, 'h', "help", 0 },
    { OPT_VERSION, 'V', "version", 0 },
    { 0, 0, NULL, 0 }
};

static void print_help(void)
{
    printf("usage: %s\n\n", synopsis);
    fputs(
        "Carry the shmkit slot or ring SPEC to another machine over ZeroMQ.\n"
        "\"send\" forwards the local SPEC to the receivers at ENDPOINT (tcp://HOST:PORT\n"
        "or ipc://PATH); \"receive\" writes what arrives into the local SPEC, creating\n"
        "it like the sender's if it does not exist.  Block rings arrive exactly\n"
        "once, slots as their latest value, overwrite rings with counted gaps.\n"
        "\n"
        "      --bind, --connect       bind or connect ENDPOINT (default: send binds,\n"
        "                              receive connects)\n"
        "      --curve-server-key FILE binding side: its key pair (NAME.key);\n"
        "                              connecting side: the server's public key\n"
        "      --curve-client-keys FILE binding side: the client keys let in\n"
        "      --curve-client-key FILE connecting side: its key pair\n"
        "      --insecure              bind a non-loopback endpoint without CURVE\n"
        "      --stats SECONDS         print throughput, lag and losses to stderr\n"
        "      --heartbeat MS          idle heartbeat (default 1000); a peer silent\n"
        "                              for 5 heartbeats is gone\n"
        "  -q, --quiet                 no notices\n"
        "  send:\n"
        "      --from-oldest           rings: start at the oldest message kept\n"
        "      --window N              ignored: the receiver sets the window\n"
        "  receive:\n"
        "      --window N              messages in flight (default 16384)\n"
        "      --window-bytes N        bytes in flight (default 8M; k/M/G suffixes)\n"
        "      --consumers N           a block ring created: its consumers\n"
        "      --mode OCTAL            permissions of a segment created (default 0600)\n"
        "      --once                  exit once the sender says goodbye\n"
        "  -h, --help                  show this help and exit\n"
        "  -V, --version               show the version and exit\n"
        "\n"
        "Exit status: 0 ok, 1 runtime error, 2 usage error, 3 no such segment,\n"
        "4 timed out, 5 incompatible segment, 6 network or protocol error.\n",
        stdout);
}

/* ---- options ------------------------------------------------------------- */

/* A whole number LO .. HI into *VALUE: 0 or -1. */
static int parse_number(const char *text, uint64_t lo, uint64_t hi, uint64_t *value)
{
    return tool_parse_count(text, value) == 0 && *value >= lo && *value <= hi ? 0 : -1;
}

/* Options that only one subcommand takes. */
static tool_status take_side_option(struct bridge_options *o, int id, const char *arg)
{
    uint64_t n;
    size_t bytes;

    if (id == OPT_FROM_OLDEST && o->sending) {
        o->from_oldest = 1;
        return TOOL_GO_ON;
    }
    if (id == OPT_WINDOW) {
        if (parse_number(arg, 1, UINT32_MAX, &n) != 0)
            return tool_usage_error("bad --window '%s' (expected 1 .. 4294967295)", arg);
        o->window = (uint32_t)n;
        return TOOL_GO_ON;
    }
    if (o->sending)
        return tool_usage_error("send: that option is for receive");
    switch (id) {
    case OPT_WINDOW_BYTES:
        if (tool_parse_bytes(arg, 1, (size_t)UINT32_MAX, &bytes) != 0)
            return tool_usage_error("bad --window-bytes '%s' (expected 1 .. 4G)", arg);
        o->window_kib = (uint32_t)((bytes + 1023) / 1024);
        return TOOL_GO_ON;
    case OPT_CONSUMERS:
        if (parse_number(arg, 1, SHMKIT_RING_MAX_CONSUMERS, &n) != 0)
            return tool_usage_error("bad --consumers '%s' (expected 1 .. %d)", arg,
                                    SHMKIT_RING_MAX_CONSUMERS);
        o->consumers = (unsigned)n;
        return TOOL_GO_ON;
    case OPT_MODE:
        if (tool_parse_mode(arg, &o->mode) != 0)
            return tool_usage_error("bad --mode '%s' (expected octal 0 .. 0777)", arg);
        return TOOL_GO_ON;
    default: /* OPT_ONCE */
        o->once = 1;
        return TOOL_GO_ON;
    }
}

static tool_status take_option(void *ctx, int id, const char *arg)
{
    struct bridge_options *o = ctx;
    uint64_t n;

    switch (id) {
    case OPT_HELP:
        print_help();
        return tool_close_stdout(TOOL_EXIT_OK);
    case OPT_VERSION:
        return tool_close_stdout(tool_print_version());
    case OPT_BIND:
    case OPT_CONNECT:
        o->bind = id == OPT_BIND;
        return TOOL_GO_ON;
    case OPT_SERVER_KEY:
        o->sec.server_key = arg;
        return TOOL_GO_ON;
    case OPT_CLIENT_KEYS:
        o->sec.client_keys = arg;
        return TOOL_GO_ON;
    case OPT_CLIENT_KEY:
        o->sec.client_key = arg;
        return TOOL_GO_ON;
    case OPT_INSECURE:
        o->sec.insecure = 1;
        return TOOL_GO_ON;
    case OPT_STATS:
        if (tool_parse_seconds(arg, &o->stats_ms) != 0 || o->stats_ms <= 0)
            return tool_usage_error("bad --stats '%s' (expected seconds)", arg);
        return TOOL_GO_ON;
    case OPT_HEARTBEAT:
        if (parse_number(arg, 1, 3600000, &n) != 0)
            return tool_usage_error("bad --heartbeat '%s' (expected 1 .. 3600000 ms)", arg);
        o->heartbeat_ms = (int)n;
        return TOOL_GO_ON;
    case OPT_QUIET:
        o->quiet = 1;
        return TOOL_GO_ON;
    default:
        return take_side_option(o, id, arg);
    }
}

tool_status bridge_parse_options(int argc, char **argv, struct bridge_options *o)
{
    struct tool_args args;
    tool_status status;
    int sending = o->sending;

    memset(o, 0, sizeof *o);
    o->sending = sending;
    o->bind = sending;
    o->heartbeat_ms = 1000;
    o->window = BRIDGE_WINDOW_DEFAULT;
    o->window_kib = BRIDGE_WINDOW_KIB_DEFAULT;
    tool_args_init(&args, argc, argv);
    args.index = 1; /* past the subcommand */
    if ((status = tool_take_options(&args, options, take_option, o)) != TOOL_GO_ON)
        return status;
    if (argc - args.index != 2)
        return tool_usage_error("%s: expected %s", argv[0],
                                sending ? "SPEC ENDPOINT" : "ENDPOINT SPEC");
    o->spec = argv[args.index + !sending];
    o->endpoint = argv[args.index + sending];
    return tool_check_spec(o->spec);
}

/* ---- the socket ---------------------------------------------------------- */

/* Set an int option; libzmq refuses only what this build cannot do. */
static int set_int(void *sock, int option, int value)
{
    return zmq_setsockopt(sock, option, &value, sizeof value);
}

/* The options every bridge socket gets, before it binds or connects:
 * reconnection with backoff (100 ms doubling up to 5 s), queues deep
 * enough for a window of small messages, and, on the sender's ROUTER,
 * an error rather than a silent drop for a peer that is gone. */
static int configure_socket(void *sock, int type, const struct bridge_options *o)
{
    int rc = set_int(sock, ZMQ_RECONNECT_IVL, 100);

    rc |= set_int(sock, ZMQ_RECONNECT_IVL_MAX, 5000);
    rc |= set_int(sock, ZMQ_SNDHWM, o->send_hwm > 0 ? o->send_hwm : BRIDGE_HWM);
    rc |= set_int(sock, ZMQ_RCVHWM, BRIDGE_HWM);
    rc |= set_int(sock, ZMQ_LINGER, 2000);
    if (type == ZMQ_ROUTER)
        rc |= set_int(sock, ZMQ_ROUTER_MANDATORY, 1);
    return rc;
}

tool_status bridge_socket_open(void *ctx, int type, const struct bridge_options *o,
                               void **sockp, void **monitorp)
{
    void *sock = zmq_socket(ctx, type);
    tool_status status;

    *sockp = sock;
    *monitorp = NULL;
    if (sock == NULL)
        return tool_error(TOOL_EXIT_RUNTIME, o->endpoint, "zmq_socket: %s",
                          zmq_strerror(zmq_errno()));
    if (configure_socket(sock, type, o) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, o->endpoint, "zmq_setsockopt: %s",
                          zmq_strerror(zmq_errno()));
    status = bridge_security_apply(ctx, sock, &o->sec, o->bind, o->endpoint);
    if (status != TOOL_GO_ON)
        return status;
    if (!o->bind)
        *monitorp = bridge_monitor_open(ctx, sock);
    if ((o->bind ? zmq_bind(sock, o->endpoint) : zmq_connect(sock, o->endpoint)) != 0)
        return tool_error(TOOL_EXIT_NETWORK, o->endpoint, "cannot %s: %s",
                          o->bind ? "bind" : "connect", zmq_strerror(zmq_errno()));
    return TOOL_GO_ON;
}

/* ---- messages and statistics --------------------------------------------- */

int64_t bridge_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bridge_notice(const struct bridge_options *o, const char *fmt, ...)
{
    va_list ap;

    if (o->quiet)
        return;
    fprintf(stderr, "%s: %s: ", tool_prog(), o->spec);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void bridge_stats_tick(const struct bridge_options *o, struct bridge_stats *s, uint64_t lag,
                       unsigned peers, int64_t now)
{
    double seconds;

    if (o->stats_ms <= 0 || now - s->since < o->stats_ms)
        return;
    seconds = (double)(now - s->since) / 1000.0;
    fprintf(stderr,
            "%s: %s: %.0f msg/s, %.2f MB/s, lag %llu, lost %llu, peers %u, total %llu\n",
            tool_prog(), o->spec, (double)s->messages / seconds,
            (double)s->bytes / seconds / 1e6, (unsigned long long)lag,
            (unsigned long long)s->lost, peers, (unsigned long long)s->total);
    s->messages = s->bytes = 0;
    s->since = now;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";

    tool_open_std_fds();
    tool_init("shmkit-bridge", synopsis);
    if (strcmp(cmd, "send") == 0)
        return bridge_send_main(argc - 1, argv + 1);
    if (strcmp(cmd, "receive") == 0)
        return bridge_receive_main(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return bridge_keygen_main(argc - 1, argv + 1);
    if (strcmp(cmd, "bench") == 0)
        return bridge_bench_main(argc - 1, argv + 1);
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        print_help();
        return tool_close_stdout(TOOL_EXIT_OK);
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0)
        return tool_close_stdout(tool_print_version());
    if (argc < 2)
        return tool_usage_error("a command is needed: send, receive, keygen or bench");
    return tool_usage_error("unknown command '%s'", cmd);
}
