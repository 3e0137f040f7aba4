#!/bin/sh
# bench-bridge.sh - "shmkit-bridge bench" keeps working: a --quick run
# prints every row (plain ZeroMQ PUSH/PULL and REQ/REP, the bridge's block
# and overwrite rings and its round trip) with the ratios and verdicts,
# --csv prints the same rows, usage errors exit 2, and no segment or
# child process is left behind.  No timing assertions: the figures depend
# on the machine and its load (doc/BENCHMARKS.md has them).
#
# SPDX-License-Identifier: BSD-2-Clause
: "${top_builddir:=.}" "${top_srcdir:=.}"
BRIDGE=$top_builddir/shmkit-bridge
if [ ! -x "$BRIDGE" ]; then
    echo "1..0 # SKIP shmkit-bridge is not built (configure found no libzmq >= 4.2 with CURVE, or --without-zmq)"
    exit 0
fi
. "$top_srcdir/tests/tap.sh"

# run_bench ARGS...: the bench in the background, so that its pid (which
# names its segments, /skb.PID.*) is known.
run_bench() {
    "$BRIDGE" bench "$@" >"$TAP_OUT" 2>"$TAP_ERR" &
    BENCH_PID=$!
    wait "$BENCH_PID"
    TAP_STATUS=$?
}

leftovers() {
    ls /dev/shm 2>/dev/null | grep -E "^skb\\.$1\\." || true
    # Children of the bench: bridges and peers it forked.
    ps -o pid= --ppid "$1" 2>/dev/null || true
}

has_row() {
    if grep -E "$1" "$TAP_OUT" >/dev/null; then
        tap_pass "$2"
    else
        tap_fail "$2"
        sed 's/^/#   /' "$TAP_OUT" "$TAP_ERR"
    fi
}

run_bench --quick --sizes 64
tap_is "$TAP_STATUS" 0 "bench --quick exits 0"
has_row '^row .* cpu us +vs plain$' "the header names the CPU time per message"
has_row '^push/pull +64 +[0-9]+ ' "a plain PUSH/PULL row"
has_row '^req/rep +64 .* [0-9.]+ +[0-9.]+ +- *$' "a plain REQ/REP row"
has_row '^bridge block +64 +[0-9]+ .*[0-9.]+x$' "a bridge block ring row with its ratio"
has_row '^bridge overwrite +64 +[0-9]+ .*[0-9.]+x$' "a bridge overwrite ring row with its ratio"
has_row '^bridge round trip +64 .*[+-][0-9.]+ us$' "a bridge round-trip row with the time it adds"
has_row '^ring round trip +64 .* [0-9.]+ +[0-9.]+ +[0-9.]+ +- *$' "a local ring round-trip row"
has_row '^ring trip, asleep +64 .* [0-9.]+ +[0-9.]+ +[0-9.]+ +- *$' "a local round-trip row with sleeping processes"
has_row '^round trip 64 bytes: adds -?[0-9.]+ us = 4 hand-offs' "the round trip taken apart"
has_row '^verdict: bridge block .*target >= 0\.7x' "the block ring verdict"
has_row '^verdict: bridge round trip .*target <= 20 us' "the round-trip verdict"
tap_is "$(leftovers "$BENCH_PID")" "" "no segment or child left by the run"

run_bench --quick --sizes 64 --csv
tap_is "$TAP_STATUS" 0 "bench --quick --csv exits 0"
has_row '^row,size,sent,received,lost,msg_per_s,.*,cpu_us,vs_plain,note$' "the CSV header"
has_row '^bridge block,64,[0-9]+,[0-9]+,0,' "a CSV bridge block row, nothing lost"

tap_cmd "an unknown option is a usage error" 2 - 'unknown option' "$BRIDGE" bench --bogus
tap_cmd "a size of 0 is a usage error" 2 - 'size' "$BRIDGE" bench --sizes 0

tap_done
