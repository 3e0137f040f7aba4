#!/bin/sh
# bridge-loopback.sh - shmkit-bridge end to end on one machine, over
# tcp://127.0.0.1:PORT and ipc://PATH, with POSIX and System V segments, for
# every kind:
#   - block ring: COUNT numbered, checksummed messages arrive exactly once
#     and in order in a ring the receiving bridge creates itself (same
#     geometry, same message numbers), and the sending bridge's consumer
#     entry ends with everything acknowledged;
#   - slot: the receiver converges to the last version, started before the
#     sender in one case and after it in the other (the last value at once,
#     without a new write), and again after a restart into the existing slot;
#   - overwrite ring: every message number arrives or is counted as lost.
# Each case ends with SIGTERM to both bridges: they exit 0, and no segment
# of this script is left but the two it removes itself.
# SPDX-License-Identifier: BSD-2-Clause
set -u
BR_TEST=loop
. "${top_srcdir:-.}/tests/bridge-lib.sh"

COUNT=3000
LAYOUT='n:u64 x:f64 tag:char[16]'

endpoint() {
    case $1 in
        tcp) echo "tcp://127.0.0.1:$(br_free_port "$2")" ;;
        ipc) echo "ipc://$TAP_TMP/sock.$2" ;;
    esac
}

# stop_both WHAT: SIGTERM to both bridges, each must exit 0.
stop_both() {
    br_stop rcv 10
    br_is_status $? 0 rcv "$1: the receiving bridge exits 0 on SIGTERM"
    br_stop snd 10
    br_is_status $? 0 snd "$1: the sending bridge exits 0 on SIGTERM"
}

# only_these WHAT SPEC...: the segments of this script that exist are
# exactly SPEC...; then they are removed.
only_these() {
    _what=$1
    shift
    got=$(br_our_segments | sort | tr '\n' ' ')
    want=$(for s in "$@"; do echo "$s"; done | sort | tr '\n' ' ')
    tap_is "$got" "$want" "$_what: no segment left but the test's own"
    for s in "$@"; do "$SK_PLAIN_SHMKIT" rm -f "$s"; done
}

info_field() {
    "$SK_PLAIN_SHMKIT" info "$1" 2>/dev/null | sed -n "s/^$2: //p"
}

acked_all() {
    info_field "$1" 'consumer 0' | grep -E "next message $2, lag 0 messages" >/dev/null
}

block_case() {
    tr=$1 be=$2 what="$1 $2 block ring"
    src=$(br_spec "$be" 0) dst=$(br_spec "$be" 1) ep=$(endpoint "$tr" 1)
    tap_cmd "$what: source ring" 0 - - "$WRITE" --ring 65536 "$src"
    br_start snd "$BRIDGE" send -q "$src" "$ep"
    br_start rcv "$BRIDGE" receive -q "$ep" "$dst"
    br_start ver "$STREAM" verify --timeout 90 --same-seq "$dst" "$COUNT"
    tap_cmd "$what: $COUNT messages of varying sizes sent" 0 "^sent $COUNT\$" - \
        "$STREAM" produce --timeout 90 "$src" "$COUNT"
    br_wait ver 120
    br_is_status $? 0 ver "$what: every message exactly once, in order, same numbers"
    tap_is "$(info_field "$dst" kind) $(info_field "$dst" policy) $(info_field "$dst" capacity)" \
        "ring block 65536" "$what: the receiver created its ring with the source's geometry"
    if br_until 20 acked_all "$src" "$COUNT"; then
        tap_pass "$what: the sending bridge acknowledged every message in the source ring"
    else
        tap_fail "$what: the sending bridge acknowledged every message in the source ring"
        tap_diag "consumer 0: $(info_field "$src" 'consumer 0')"
    fi
    stop_both "$what"
    only_these "$what" "$src" "$dst"
}

overwrite_case() {
    tr=$1 be=$2 what="$1 $2 overwrite ring"
    src=$(br_spec "$be" 4) dst=$(br_spec "$be" 5) ep=$(endpoint "$tr" 3)
    tap_cmd "$what: source ring" 0 - - "$WRITE" --ring 1048576 --overwrite "$src"
    br_start snd "$BRIDGE" send -q "$src" "$ep"
    br_start rcv "$BRIDGE" receive --stats 1 "$ep" "$dst"
    # The receiver creates its ring when the sender's WELCOME arrives: from
    # then on the sender has this peer and forwards every new message.
    if br_until 30 br_exists "$dst"; then
        tap_pass "$what: the receiver created its ring"
    else
        tap_fail "$what: the receiver created its ring"
        br_show rcv
    fi
    rm -f "$TAP_TMP/cnt.ready"
    br_start cnt "$STREAM" count-overwrite --ready "$TAP_TMP/cnt.ready" --idle 3000 \
        --timeout 90 "$dst" "$COUNT"
    br_until 30 test -f "$TAP_TMP/cnt.ready"
    tap_cmd "$what: $COUNT messages sent" 0 "^sent $COUNT\$" - \
        "$STREAM" produce --rate 5000 "$src" "$COUNT"
    br_wait cnt 120
    br_is_status $? 0 cnt "$what: numbers in order, checksums good, received + lost = $COUNT"
    set -- $(cat "$TAP_TMP/cnt.out") x x x x x x x x
    received=$2 lost=$4 ring_lost=$6
    tap_diag "$what: $(cat "$TAP_TMP/cnt.out")"
    # What the receiving bridge counted as lost (its --stats lines, the
    # latest, taken once a line was printed after the last message).
    nstats=$(grep -c 'lost' "$TAP_TMP/rcv.err")
    br_until 5 test "$(grep -c 'lost' "$TAP_TMP/rcv.err")" -gt "$nstats"
    stats=$(grep 'lost' "$TAP_TMP/rcv.err" | tail -n 1)
    bridge_lost=$(printf '%s\n' "$stats" | sed -n 's/.*lost \([0-9][0-9]*\).*/\1/p')
    if [ -z "$bridge_lost" ]; then
        tap_fail "$what: the receiving bridge's --stats report losses"
        br_show rcv
    else
        tap_is "$((received + bridge_lost + ring_lost))" "$COUNT" \
            "$what: received + lost by the bridge + lost by the local reader = sent (stats: $stats)"
    fi
    stop_both "$what"
    only_these "$what" "$src" "$dst"
}

slot_case() {
    tr=$1 be=$2 first=$3 what="$1 $2 slot, $3 first"
    src=$(br_spec "$be" 2) dst=$(br_spec "$be" 3) ep=$(endpoint "$tr" 2)
    if [ "$first" = receiver ]; then
        br_start rcv "$BRIDGE" receive -q "$ep" "$dst"
        tap_cmd "$what: source slot" 0 - - "$WRITE" -L "$LAYOUT" "$src" n=0 x=0 tag=v0
        br_start snd "$BRIDGE" send -q "$src" "$ep"
        last=0
    else
        tap_cmd "$what: source slot, 50 versions" 0 '^published 50$' - "$STREAM" slot-produce "$src" 50
        br_start snd "$BRIDGE" send -q "$src" "$ep"
        br_start rcv "$BRIDGE" receive -q "$ep" "$dst"
        # The last value at once, with no new write.
        tap_cmd "$what: a new receiver gets the current value" 0 '^n 50 ' - \
            "$STREAM" slot-last --timeout 30 "$dst" 50
        last=50
    fi
    tap_cmd "$what: 300 more versions" 0 "^published $((last + 300))\$" - \
        "$STREAM" slot-produce --rate 1000 --first $((last + 1)) "$src" $((last + 300))
    tap_cmd "$what: the receiver's slot converges to the last version, never backwards" \
        0 "^n $((last + 300)) " - "$STREAM" slot-last --timeout 30 "$dst" $((last + 300))
    tap_is "$(info_field "$dst" layout)" "$(info_field "$src" layout)" \
        "$what: the receiver's slot has the source's layout"
    # Restarted into its existing slot: it catches up again.
    br_stop rcv 10
    br_is_status $? 0 rcv "$what: the receiving bridge exits 0 on SIGTERM"
    "$STREAM" slot-produce --first $((last + 301)) "$src" $((last + 350)) >/dev/null
    br_start rcv "$BRIDGE" receive -q "$ep" "$dst"
    tap_cmd "$what: restarted, the receiver catches up with the existing slot" \
        0 "^n $((last + 350)) " - "$STREAM" slot-last --timeout 30 "$dst" $((last + 350))
    stop_both "$what"
    only_these "$what" "$src" "$dst"
}

for tr in tcp ipc; do
    for be in $SK_BACKENDS; do
        block_case "$tr" "$be"
        slot_case "$tr" "$be" receiver
        slot_case "$tr" "$be" sender
        overwrite_case "$tr" "$be"
    done
done

tap_done
