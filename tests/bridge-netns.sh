#!/bin/sh
# bridge-netns.sh - shmkit-bridge between two "hosts": two network
# namespaces joined by a veth pair (10.X.Y.1/24 and 10.X.Y.2/24, X.Y and the
# names from this script's pid, removed at exit), the sending bridge in one
# (binding its address with --insecure), the receiving bridge in the other.
# Shared memory is not namespaced by "ip netns exec": both ends see the
# same segments, so the two ends use two different ones.  Mid-stream the
# link is cut (ip link set ... down) for 3 s, longer than the bridges'
# heartbeat timeout, and restored; then the sending bridge is killed with
# SIGKILL and restarted; then the receiving bridge.
#   - block ring: every numbered, checksummed message exactly once, in order;
#   - slot: the receiver converges to the last version, never backwards;
#   - overwrite ring (cut and sender kill only): every number arrives or is
#     counted as lost by the receiving bridge (received + lost = sent).
# Root only, and only where "ip netns add" works: skipped with the reason
# otherwise.
# SPDX-License-Identifier: BSD-2-Clause
set -u
BR_TEST=netns
. "${top_srcdir:-.}/tests/bridge-lib.sh"

if [ "$(id -u)" -ne 0 ]; then
    tap_skip "network namespace tests" "not root: cannot create network namespaces"
    tap_done
fi
if ! command -v ip >/dev/null 2>&1; then
    tap_skip "network namespace tests" "no ip(8) (iproute2)"
    tap_done
fi
if [ "$SHMKIT_HAVE_POSIX" != yes ]; then
    tap_skip "network namespace tests" "no POSIX backend in this build"
    tap_done
fi

NA=skbr-a-$$ NB=skbr-b-$$ VA=vska$$ VB=vskb$$
NET=10.$((($$ >> 8) & 255)).$(($$ & 255))
A=$NET.1 B=$NET.2
BR_AT_EXIT='ip netns del "$NA" 2>/dev/null; ip netns del "$NB" 2>/dev/null'
if ! ip netns add "$NA" 2>"$TAP_TMP/netns.err"; then
    tap_skip "network namespace tests" "ip netns add fails here: $(head -n 1 "$TAP_TMP/netns.err")"
    tap_done
fi
setup() {
    ip netns add "$NB" &&
        ip link add "$VA" type veth peer name "$VB" &&
        ip link set "$VA" netns "$NA" && ip link set "$VB" netns "$NB" &&
        ip -n "$NA" addr add "$A/24" dev "$VA" && ip -n "$NB" addr add "$B/24" dev "$VB" &&
        ip -n "$NA" link set lo up && ip -n "$NB" link set lo up &&
        ip -n "$NA" link set "$VA" up && ip -n "$NB" link set "$VB" up
}
if ! setup 2>"$TAP_TMP/netns.err"; then
    tap_skip "network namespace tests" "cannot set up the veth pair: $(head -n 1 "$TAP_TMP/netns.err")"
    tap_done
fi
# B reaches A: a TCP connection to a closed port of A is refused (not
# timed out).  ping is not always installed.
pingable() {
    if command -v ping >/dev/null 2>&1; then
        ip netns exec "$NB" ping -c 1 -W 1 "$A" >/dev/null 2>&1
        return
    fi
    ip netns exec "$NB" python3 -c 'import socket, sys
try:
    socket.create_connection((sys.argv[1], 9), 1)
except ConnectionRefusedError:
    sys.exit(0)
sys.exit(1)' "$A" 2>/dev/null
}
if br_until 20 pingable; then
    tap_pass "the two namespaces reach each other ($A, $B)"
else
    tap_fail "the two namespaces reach each other ($A, $B)"
    tap_done
fi

PORT=7700
EP=tcp://$A:$PORT
HB="--heartbeat 200"

send_in_a() {
    br_start snd ip netns exec "$NA" "$BRIDGE" send -q --insecure $HB "$@" "$EP"
}
receive_in_b() {
    br_start rcv ip netns exec "$NB" "$BRIDGE" receive $HB "$@"
}

info_field() {
    "$SK_PLAIN_SHMKIT" info "$1" 2>/dev/null | sed -n "s/^$2: //p"
}

# reached SPEC FIELD N: the segment's FIELD (messages, version) is >= N.
reached() {
    _m=$(info_field "$1" "$2")
    [ -n "$_m" ] && [ "$_m" -ge "$3" ]
}

# midway WHAT SPEC FIELD N: wait until SPEC's FIELD reaches N.
midway() {
    if br_until 90 reached "$2" "$3" "$4"; then
        tap_pass "$1: $3 $4 reached"
    else
        tap_fail "$1: $3 $4 reached"
        tap_diag "$3: $(info_field "$2" "$3")"
        br_show snd
        br_show rcv
    fi
}

cut_link() {
    tap_ok "$1: link down" ip -n "$NA" link set "$VA" down
    sleep 3 # the outage itself: longer than 5 heartbeats of 200 ms
    tap_ok "$1: link up" ip -n "$NA" link set "$VA" up
}

# kill_restart WHAT NAME CMD...: SIGKILL NAME (still running), restart it.
kill_restart() {
    _what=$1 _name=$2
    shift 2
    if br_running "$_name"; then
        br_kill KILL "$_name"
        br_wait "$_name" 10
        br_is_status $? 137 "$_name" "$_what: $_name killed by SIGKILL mid-stream"
    else
        tap_fail "$_what: $_name killed by SIGKILL mid-stream"
        tap_diag "it had ended already"
        br_show "$_name"
    fi
    "$@"
}

stop_both() {
    br_stop rcv 10
    br_is_status $? 0 rcv "$1: the receiving bridge exits 0 on SIGTERM"
    br_stop snd 10
    br_is_status $? 0 snd "$1: the sending bridge exits 0 on SIGTERM"
}

# ---------------------------------------------------------------------
# Block ring
# ---------------------------------------------------------------------
COUNT=3000
src=$(br_spec posix 0) dst=$(br_spec posix 1)
"$WRITE" --ring 65536 "$src"
send_in_a "$src"
receive_in_b "$EP" "$dst"
br_start ver "$STREAM" verify --timeout 240 --same-seq "$dst" "$COUNT"
br_start prod "$STREAM" produce --rate 400 --timeout 240 "$src" "$COUNT"
midway block "$dst" messages 500
cut_link block
midway block "$dst" messages 1200
kill_restart block snd send_in_a "$src"
midway block "$dst" messages 2000
kill_restart block rcv receive_in_b "$EP" "$dst"
br_wait prod 240
br_is_status $? 0 prod "block: the writer sent all $COUNT messages"
br_wait ver 240
br_is_status $? 0 ver "block: every message exactly once, in order, same numbers"
stop_both block
"$SK_PLAIN_SHMKIT" rm -f "$src" "$dst"

# ---------------------------------------------------------------------
# Slot
# ---------------------------------------------------------------------
src=$(br_spec posix 2) dst=$(br_spec posix 3)
"$STREAM" slot-produce "$src" 1 >/dev/null
send_in_a "$src"
receive_in_b "$EP" "$dst"
br_start prod "$STREAM" slot-produce --rate 200 --first 2 "$src" 1500
midway slot "$src" version 300
cut_link slot
midway slot "$src" version 800
kill_restart slot snd send_in_a "$src"
midway slot "$src" version 1100
kill_restart slot rcv receive_in_b "$EP" "$dst"
br_wait prod 60
br_is_status $? 0 prod "slot: the writer published 1500 versions"
tap_cmd "slot: the receiver converges to the last version, never backwards" \
    0 '^n 1500 ' - "$STREAM" slot-last --timeout 60 "$dst" 1500
stop_both slot
"$SK_PLAIN_SHMKIT" rm -f "$src" "$dst"

# ---------------------------------------------------------------------
# Overwrite ring
# ---------------------------------------------------------------------
src=$(br_spec posix 4) dst=$(br_spec posix 5)
"$WRITE" --ring 1048576 --overwrite "$src"
send_in_a "$src"
receive_in_b --stats 1 "$EP" "$dst"
br_until 60 br_exists "$dst"
rm -f "$TAP_TMP/cnt.ready"
br_start cnt "$STREAM" count-overwrite --ready "$TAP_TMP/cnt.ready" --idle 5000 \
    --timeout 240 "$dst" "$COUNT"
br_until 30 test -f "$TAP_TMP/cnt.ready"
br_start prod "$STREAM" produce --rate 400 "$src" "$COUNT"
midway overwrite "$src" messages 800
cut_link overwrite
midway overwrite "$src" messages 2000
kill_restart overwrite snd send_in_a "$src"
br_wait prod 60
br_is_status $? 0 prod "overwrite: the writer sent all $COUNT messages"
br_wait cnt 240
br_is_status $? 0 cnt "overwrite: numbers in order, checksums good, received + lost = $COUNT"
set -- $(cat "$TAP_TMP/cnt.out") x x x x x x x x
received=$2 lost=$4 ring_lost=$6 tail=$8
tap_diag "overwrite: $(cat "$TAP_TMP/cnt.out")"
tap_is "$tail" 0 "overwrite: the last message arrived"
nstats=$(grep -c 'lost' "$TAP_TMP/rcv.err")
br_until 5 test "$(grep -c 'lost' "$TAP_TMP/rcv.err")" -gt "$nstats"
stats=$(grep 'lost' "$TAP_TMP/rcv.err" | tail -n 1)
bridge_lost=$(printf '%s\n' "$stats" | sed -n 's/.*lost \([0-9][0-9]*\).*/\1/p')
tap_is "$((received + ${bridge_lost:-999999999} + ring_lost))" "$COUNT" \
    "overwrite: received + counted as lost by the bridge + by the local reader = sent (stats: $stats)"
stop_both overwrite
"$SK_PLAIN_SHMKIT" rm -f "$src" "$dst"

tap_done
