#!/bin/sh
# bench-smoke.sh - "shmkit bench" keeps working: a run of a fraction of a
# second, its table, JSON and CSV outputs, usage errors, and no shared
# memory left behind, even when it is interrupted.  No timing assertions:
# the figures depend on the machine and its load.
#
# SPDX-License-Identifier: BSD-2-Clause

. "$top_srcdir/tests/tap.sh"

# Run the bench in the background so that its pid (which names its
# segments) is known; stdout and stderr go to $TAP_OUT and $TAP_ERR.
BENCH_PID=
run_bench() {
    "$SHMKIT" bench "$@" >"$TAP_OUT" 2>"$TAP_ERR" &
    BENCH_PID=$!
    wait "$BENCH_PID"
    TAP_STATUS=$?
}

# Segments, POSIX and System V, named after the bench process PID.
bench_leftovers() {
    ls /dev/shm 2>/dev/null | grep -E "^shmkit-bench\\.$1\\." | sed 's,^,/dev/shm/,'
    if command -v ipcs >/dev/null 2>&1; then
        ipcs -m 2>/dev/null | grep -i -E "0x6b$(printf '%04x' $(($1 & 0xffff)))[0-9a-f]{2}"
    fi
    return 0
}

check_no_leftovers() {
    _left=$(bench_leftovers "$1")
    if [ -z "$_left" ]; then
        tap_pass "$2: no segment left behind"
    else
        tap_fail "$2: no segment left behind"
        tap_diag "left behind:" "$_left"
    fi
}

show_output() {
    tap_diag "exit status $TAP_STATUS; stdout:"
    head -n 60 "$TAP_OUT" | sed 's/^/#   /'
    tap_diag "stderr:"
    head -n 20 "$TAP_ERR" | sed 's/^/#   /'
}

# The private (key 0) message queues that exist now, one "msqid lspid
# lrpid" line each where /proc/sysvipc/msg says who used them (Linux),
# else one "msqid" line each from ipcs.
msg_queues() {
    if [ -r /proc/sysvipc/msg ]; then
        awk 'NR > 1 && $1 == 0 { print $2, $6, $7 }' /proc/sysvipc/msg | sort
    elif command -v ipcs >/dev/null 2>&1; then
        ipcs -q 2>/dev/null | awk '$1 ~ /^0x0+$/ { print $2 }' | sort
    fi
}

# Process $1 exists (0 and empty mean "nobody": kill -0 0 would signal
# our own process group).
alive() {
    [ -n "$1" ] && [ "$1" != 0 ] && kill -0 "$1" 2>/dev/null
}

# The queues of the list in $1 that are not in the list $2 and that no
# live process used last: queues the bench left behind.  Tests run in
# parallel, and another bench's queue in use has a live sender or
# receiver; one it made a moment ago and has not used yet is gone or in
# use a second later, so a queue counts only if it stays so.
leaked_queues() {
    local after=$1 before=$2 id spid rpid
    echo "$after" | while read -r id spid rpid; do
        [ -n "$id" ] || continue
        echo "$before" | grep -q -E "^$id( |\$)" && continue
        if alive "$spid" || alive "$rpid"; then
            continue
        fi
        echo "$id"
    done
}

check_no_queue_left() {
    local label=$1 before=$2 suspects
    suspects=$(leaked_queues "$(msg_queues)" "$before")
    if [ -n "$suspects" ]; then
        sleep 1
        suspects=$(leaked_queues "$(msg_queues)" "$before")
    fi
    tap_is "$suspects" "" "$label: no message queue left behind"
}

# ---- the table --------------------------------------------------------

queues_before=$(msg_queues)
run_bench --quick
if [ "$TAP_STATUS" -eq 0 ]; then
    tap_pass "bench --quick exits 0"
else
    tap_fail "bench --quick exits 0"
    show_output
fi
table=$(cat "$TAP_OUT")
tap_like "$table" '^shmkit bench .* wait mechanism ' "header names the machine and wait mechanism"
tap_like "$table" '^load average .*pinning: off' "header reports load and pinning"
tap_like "$table" '^Round-trip latency' "latency section"
for row in 'word +raw-atomic +- ' 'word +raw-wait +- ' \
           '64 +slot +adaptive ' '64 +slot +spin ' '64 +slot +block ' \
           '64 +ring +adaptive ' '64 +ring-zc +block ' '4k +ring-zc +spin ' \
           '32 +slot +adaptive ' '32 +ring +spin ' '32 +ring-zc +adaptive ' \
           '64 +pipe +- ' '64 +unix +- '; do
    tap_like "$table" "^$row *[0-9]" "latency row: $row"
done
tap_like "$table" '^One-way throughput' "throughput section"
for row in '64 +ring ' '64 +ring-zc ' '64 +pipe ' '64 +unix ' '64 +memcpy ' '64k +ring '; do
    tap_like "$table" "^$row *[0-9]" "throughput row: $row"
done
tap_like "$table" '^ +slot +adaptive waited [0-9.]+ s, cpu [0-9.]+ %' "idle slot row"
tap_like "$table" '^ +ring +adaptive waited [0-9.]+ s, cpu [0-9.]+ %' "idle ring row"
tap_like "$table" '^Targets \(ratios within this run\)' "targets section"
tap_like "$table" 'round trip 64 B, slot, adaptive +<= 2 x raw-atomic +[0-9.]+ +(met|NOT met)' \
    "adaptive slot target evaluated"
tap_like "$table" 'round trip 32 B, ring, adaptive +<= 1.5 x raw-atomic +[0-9.]+ +(met|NOT met)' \
    "32 B ring target evaluated"
tap_like "$table" 'round trip 64 B, ring-zc, spin +<= 1.0 x adaptive +[0-9.]+ +(met|NOT met)' \
    "spin against adaptive target evaluated"
tap_like "$table" 'throughput 64 B, ring +>= 0.35 x memcpy +[0-9.]+ +(met|NOT met)' \
    "one-way against memcpy target evaluated"
tap_like "$table" 'adaptive and spin rows .* measured by the same two processes' \
    "the note says the two modes are measured together"
tap_like "$table" '^4 +adaptive +[0-9.]+ +[0-9.]+ +[0-9.]+ ' "fan-out row in the default run"
check_no_leftovers "$BENCH_PID" "bench --quick"
check_no_queue_left "bench --quick" "$queues_before"

# ---- JSON and CSV -----------------------------------------------------

csv=$TAP_TMP/bench.csv
run_bench --quick --json --csv "$csv" --rows latency,idle --sizes 64
tap_is "$TAP_STATUS" 0 "bench --quick --json --csv exits 0"
if command -v python3 >/dev/null 2>&1; then
    if python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
assert d["machine"]["cpus"] >= 1
assert any(r["transport"] == "slot" and r["mode"] == "adaptive" and r["ok"] for r in rows)
assert any(r["section"] == "idle" for r in rows)
assert all(r["section"] != "throughput" for r in rows)
assert len(d["targets"]) > 0
' "$TAP_OUT" 2>"$TAP_TMP/py.err"; then
        tap_pass "--json output parses and has the selected rows"
    else
        tap_fail "--json output parses and has the selected rows"
        sed 's/^/#   /' "$TAP_TMP/py.err"
        show_output
    fi
else
    tap_skip "--json output parses" "python3 not available"
fi
tap_like "$(head -n 1 "$csv" 2>/dev/null)" '^section,transport,mode,size,n,median_ns,' "--csv writes a header"
tap_like "$(cat "$csv" 2>/dev/null)" '^latency,slot,adaptive,64,[0-9]+,[0-9]' "--csv has the rows"
check_no_leftovers "$BENCH_PID" "bench --json"

# ---- fan-out ------------------------------------------------------------

csv=$TAP_TMP/fanout.csv
run_bench --quick --rows fanout --csv "$csv"
if [ "$TAP_STATUS" -eq 0 ]; then
    tap_pass "bench --rows fanout exits 0"
else
    tap_fail "bench --rows fanout exits 0"
    show_output
fi
table=$(cat "$TAP_OUT")
tap_like "$table" '^Fan-out: one block ring, 64 B, .* on [0-9]+ CPUs' "fan-out section names the CPUs"
for row in '1 +adaptive ' '2 +adaptive ' '4 +adaptive ' '1 +block ' '4 +block ' '4 +spin '; do
    tap_like "$table" "^$row *[0-9]" "fan-out row: $row"
done
tap_like "$table" 'fan-out 64 B, ring, 4 consumers, adaptive +>= 0.5 x 1, per consumer +[0-9.]+ +(met|NOT met)' \
    "fan-out target evaluated"
tap_like "$(cat "$csv" 2>/dev/null)" '^fanout,ring,spin,64,[0-9]+,.*"4 consumers; slowest ' \
    "--csv has the fan-out rows"
check_no_leftovers "$BENCH_PID" "bench --rows fanout"

# ---- System V segments ------------------------------------------------

if [ "$SHMKIT_HAVE_SYSV" = yes ]; then
    run_bench --quick --backend sysv --rows latency --only slot,ring-zc --modes block --sizes 64
    tap_is "$TAP_STATUS" 0 "bench --backend sysv exits 0"
    tap_like "$(cat "$TAP_OUT")" '^64 +ring-zc +block +[0-9]' "bench --backend sysv measures"
    check_no_leftovers "$BENCH_PID" "bench --backend sysv"
else
    tap_skip "bench --backend sysv" "System V backend not in this build"
fi

# ---- usage errors -----------------------------------------------------

tap_cmd "unknown option is a usage error" 2 - 'usage: ' "$SHMKIT" bench --no-such-option
tap_cmd "a size below 8 bytes is a usage error" 2 - "'4' is not a size" "$SHMKIT" bench --sizes 64,4
tap_cmd "an unknown transport is a usage error" 2 - 'usage: ' "$SHMKIT" bench --only carrier-pigeon
tap_cmd "a zero duration is a usage error" 2 - 'duration' "$SHMKIT" bench --duration 0
tap_cmd "--help prints the options" 0 '--throughput-sizes' - "$SHMKIT" bench --help

# ---- interrupted ------------------------------------------------------

sk_check_interrupted "an interrupted bench" 1 \
    "$SHMKIT" bench --rows latency --only slot --modes spin --sizes 64 --duration 20
check_no_leftovers "$SK_INTERRUPTED" "interrupted bench"

tap_done
