#!/bin/sh
# bridge-crash.sh - a block ring carried by shmkit-bridge over loopback TCP
# survives kill -9 of either bridge: while a writer sends a few thousand
# numbered, checksummed messages at a steady rate, the sending bridge is
# killed with SIGKILL mid-stream and restarted (it resumes its own consumer
# entry at the last acknowledged message), then the receiving bridge is
# (it resumes at its local ring's writer position).  Every message arrives
# exactly once and in order, with the source's numbers; then both bridges
# exit 0 on SIGTERM and nothing is left behind.  Done for each backend.
# SPDX-License-Identifier: BSD-2-Clause
set -u
BR_TEST=crash
. "${top_srcdir:-.}/tests/bridge-lib.sh"

COUNT=4000
RATE=800

info_field() {
    "$SK_PLAIN_SHMKIT" info "$1" 2>/dev/null | sed -n "s/^$2: //p"
}

# reached SPEC N: the ring SPEC has had at least N messages published.
reached() {
    _m=$(info_field "$1" messages)
    [ -n "$_m" ] && [ "$_m" -ge "$2" ]
}

# kill9 NAME DST AT WHAT: once DST has AT messages, SIGKILL NAME (which must
# still be running: mid-stream) and wait for it to die.
kill9() {
    if br_until 60 reached "$2" "$3"; then
        tap_pass "$4: $3 messages through before the kill"
    else
        tap_fail "$4: $3 messages through before the kill"
        tap_diag "messages in the receiver's ring: $(info_field "$2" messages)"
        br_show snd
        br_show rcv
    fi
    if br_running "$1"; then
        br_kill KILL "$1"
        br_wait "$1" 10
        br_is_status $? 137 "$1" "$4: killed by SIGKILL mid-stream"
    else
        tap_fail "$4: killed by SIGKILL mid-stream"
        tap_diag "it had ended already"
        br_show "$1"
    fi
    at=$(info_field "$2" messages)
    if [ -n "$at" ] && [ "$at" -lt "$COUNT" ]; then
        tap_pass "$4: the stream was not over ($at of $COUNT)"
    else
        tap_fail "$4: the stream was not over ($at of $COUNT)"
    fi
}

for be in $SK_BACKENDS; do
    src=$(br_spec "$be" 0) dst=$(br_spec "$be" 1)
    ep="tcp://127.0.0.1:$(br_free_port)"
    tap_cmd "$be: source block ring" 0 - - "$WRITE" --ring 262144 "$src"
    br_start snd "$BRIDGE" send -q "$src" "$ep"
    br_start rcv "$BRIDGE" receive -q "$ep" "$dst"
    br_start ver "$STREAM" verify --timeout 150 --same-seq "$dst" "$COUNT"
    br_start prod "$STREAM" produce --rate "$RATE" --timeout 150 "$src" "$COUNT"

    kill9 snd "$dst" 1000 "$be: sending bridge"
    br_start snd "$BRIDGE" send -q "$src" "$ep"
    kill9 rcv "$dst" 2500 "$be: receiving bridge"
    br_start rcv "$BRIDGE" receive -q "$ep" "$dst"

    br_wait prod 160
    br_is_status $? 0 prod "$be: the writer sent all $COUNT messages"
    br_wait ver 160
    br_is_status $? 0 ver "$be: every message exactly once, in order, same numbers"
    br_stop rcv 10
    br_is_status $? 0 rcv "$be: the restarted receiving bridge exits 0 on SIGTERM"
    br_stop snd 10
    br_is_status $? 0 snd "$be: the restarted sending bridge exits 0 on SIGTERM"
    got=$(br_our_segments | sort | tr '\n' ' ')
    want=$(printf '%s\n' "$src" "$dst" | sort | tr '\n' ' ')
    tap_is "$got" "$want" "$be: no segment left but the test's own"
    "$SK_PLAIN_SHMKIT" rm -f "$src" "$dst"
done

tap_done
