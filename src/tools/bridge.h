/*
 * bridge.h - shmkit-bridge, which carries a slot or a ring to another
 * machine over ZeroMQ: the entry points of its subcommands and what its
 * files share.  The wire format and the semantics are in doc/BRIDGE.md.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_BRIDGE_H
#define SHMKIT_BRIDGE_H

/* The bridge's exit status beyond tool.h's: the network (an endpoint that
 * cannot be bound or connected, refused by the peer, a protocol error). */
#define TOOL_EXIT_NETWORK 6

/* The subcommands, each called with ARGV[0] the subcommand's name; each
 * returns an exit status (tool.h). */
int bridge_send_main(int argc, char **argv);    /* bridge-send.c */
int bridge_receive_main(int argc, char **argv); /* bridge-receive.c */
int bridge_bench_main(int argc, char **argv);   /* bridge-bench.c */
/* bridge_keygen_main: bridge-curve.h */

#endif /* SHMKIT_BRIDGE_H */
