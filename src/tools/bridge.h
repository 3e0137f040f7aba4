/*
 * bridge.h - shmkit-bridge, which carries a slot or a ring to another
 * machine over ZeroMQ: the entry points of its subcommands and what its
 * files share.  The wire format and the semantics are in doc/BRIDGE.md.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_BRIDGE_H
#define SHMKIT_BRIDGE_H

/* The bridge's exit status beyond the other tools' is tool.h's
 * TOOL_EXIT_NETWORK. */

/* The subcommands, each called with ARGV[0] the subcommand's name; each
 * returns an exit status (tool.h). */
int bridge_send_main(int argc, char **argv);    /* bridge-send.c */
int bridge_receive_main(int argc, char **argv); /* bridge-receive.c */
int bridge_bench_main(int argc, char **argv);   /* bridge-bench.c */
/* bridge_keygen_main: bridge-curve.h */


/* ---- what send and receive share (bridge.c) ------------------------------ */

#include <stdint.h>

#include "bridge-curve.h"
#include "tool.h"

/* receive's defaults: messages and KiB in flight. */
#define BRIDGE_WINDOW_DEFAULT 16384u
#define BRIDGE_WINDOW_KIB_DEFAULT 8192u
/* The sockets' queue limits (ZMQ_SNDHWM, ZMQ_RCVHWM), in messages. */
#define BRIDGE_HWM 10000
/* A sender's queue per peer holds about this many bytes at most: its HWM
 * is this over its largest frame (at least 4 frames, at most BRIDGE_HWM),
 * so that a slow receiver of large messages cannot make it hoard memory. */
#define BRIDGE_QUEUE_BYTES (64u << 20)

/* The command line of send and receive. */
struct bridge_options {
    const char *spec;          /* the local segment */
    const char *endpoint;      /* the ZeroMQ endpoint */
    int sending;               /* 1 send, 0 receive */
    int bind;                  /* 1 bind, 0 connect */
    struct bridge_security sec;
    int stats_ms;              /* --stats, 0 for none */
    int heartbeat_ms;          /* --heartbeat, 1000 by default */
    int quiet;                 /* -q */
    int from_oldest;           /* send --from-oldest */
    uint32_t window;           /* receive --window, messages */
    uint32_t window_kib;       /* receive --window-bytes, in KiB */
    unsigned consumers;        /* receive --consumers (0: the library's 1) */
    unsigned mode;             /* receive --mode (0: 0600) */
    int once;                  /* receive --once */
    int send_hwm;              /* ZMQ_SNDHWM in frames, 0 for BRIDGE_HWM */
};

/* Parse the options and operands of send (O->sending) or receive, ARGV[0]
 * being the subcommand: TOOL_GO_ON, or the exit status (--help too). */
tool_status bridge_parse_options(int argc, char **argv, struct bridge_options *o);

/* A socket of TYPE (ZMQ_ROUTER, ZMQ_DEALER) with the bridge's options,
 * security applied, bound or connected as O says, in *SOCKP; a connecting
 * socket's handshake monitor in *MONITORP (may be NULL).  TOOL_GO_ON or
 * the exit status after saying why. */
tool_status bridge_socket_open(void *ctx, int type, const struct bridge_options *o,
                               void **sockp, void **monitorp);

/* The monotonic clock in milliseconds. */
int64_t bridge_now_ms(void);

/* Print "PROG: SPEC: MESSAGE" to stderr unless -q. */
void bridge_notice(const struct bridge_options *o, const char *fmt, ...) TOOL_PRINTF(2, 3);

/* Counters of --stats. */
struct bridge_stats {
    uint64_t messages, bytes;  /* this interval */
    uint64_t lost;             /* since the start */
    uint64_t total;            /* messages since the start */
    int64_t since;             /* the interval's start, bridge_now_ms */
};
/* Count one message of LEN bytes. */
static inline void bridge_stats_count(struct bridge_stats *s, size_t len)
{
    s->messages++;
    s->bytes += len;
    s->total++;
}
/* Print the --stats line once an interval has passed since S->since. */
void bridge_stats_tick(const struct bridge_options *o, struct bridge_stats *s, uint64_t lag,
                       unsigned peers, int64_t now);

#endif /* SHMKIT_BRIDGE_H */
