/*
 * bridge-curve.c - STUB until the real security module is merged: only
 * the loopback rule; no CURVE, no ZAP handler, no handshake monitor.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "bridge-curve.h"
#include "bridge.h"
#include "tool.h"

int bridge_keygen_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "shmkit-bridge: keygen: not built yet\n");
    return 1;
}

int bridge_endpoint_is_loopback(const char *endpoint)
{
    return strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0
           || strncmp(endpoint, "tcp://127.", 10) == 0 || strncmp(endpoint, "tcp://[::1]", 11) == 0
           || strncmp(endpoint, "tcp://localhost:", 16) == 0;
}

int bridge_security_apply(void *ctx, void *socket, const struct bridge_security *sec,
                          int binding, const char *endpoint)
{
    (void)ctx;
    (void)socket;
    if (sec->server_key != NULL || sec->client_keys != NULL || sec->client_key != NULL)
        return tool_error(TOOL_EXIT_USAGE, endpoint, "CURVE: not built yet");
    if (binding && !sec->insecure && !bridge_endpoint_is_loopback(endpoint))
        return tool_usage_error("%s: binding a non-loopback endpoint needs CURVE keys "
                                "or --insecure", endpoint);
    return TOOL_GO_ON;
}

void bridge_security_stop(void)
{
}

void *bridge_monitor_open(void *ctx, void *socket)
{
    (void)ctx;
    (void)socket;
    return NULL;
}

int bridge_monitor_check(void *monitor)
{
    (void)monitor;
    return TOOL_GO_ON;
}

void bridge_monitor_close(void *monitor)
{
    (void)monitor;
}
