/*
 * bridge-curve.h - shmkit-bridge's security: CURVE key files and
 * "shmkit-bridge keygen", the ZAP handler that admits only listed client
 * keys, the loopback rule for binding without keys, and the watch on a
 * connecting socket's handshakes (bridge-curve.c).
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_BRIDGE_CURVE_H
#define SHMKIT_BRIDGE_CURVE_H

/* The security options of send and receive, as given on the command line
 * (NULL or 0: not given). */
struct bridge_security {
    const char *server_key;  /* --curve-server-key: binding side, its key
                                pair; connecting side, the server's public key */
    const char *client_keys; /* --curve-client-keys: binding side, the client
                                public keys allowed in */
    const char *client_key;  /* --curve-client-key: connecting side, its key pair */
    int insecure;            /* --insecure: bind anywhere without keys */
};

/* "shmkit-bridge keygen [-f] NAME": write NAME.key and NAME.pub.  Returns
 * an exit status (tool.h). */
int bridge_keygen_main(int argc, char **argv);

/* Apply SEC to SOCKET (of context CTX) before it binds (BINDING != 0) or
 * connects to ENDPOINT: the CURVE options, the ZAP handler for a binding
 * side, and the rule that without keys only loopback endpoints may be
 * bound unless SEC->insecure.  Returns TOOL_GO_ON, or an exit status
 * after printing the error. */
int bridge_security_apply(void *ctx, void *socket, const struct bridge_security *sec,
                          int binding, const char *endpoint);

/* Stop the ZAP handler, if one runs; before zmq_ctx_term.  Idempotent. */
void bridge_security_stop(void);

/* Non-zero if ENDPOINT stays on this machine: ipc://, inproc://, or tcp://
 * on 127.0.0.0/8, [::1] or localhost. */
int bridge_endpoint_is_loopback(const char *endpoint);

/* Watch SOCKET's handshakes (zmq_socket_monitor): returns a handle, or
 * NULL if monitoring is not available (then checks report nothing). */
void *bridge_monitor_open(void *ctx, void *socket);
/* Without blocking: TOOL_GO_ON, or, after printing why, TOOL_EXIT_NETWORK
 * if the peer refused this side's keys or the handshake failed. */
int bridge_monitor_check(void *monitor);
void bridge_monitor_close(void *monitor);

#endif /* SHMKIT_BRIDGE_CURVE_H */
