#!/bin/sh
# bench-python.sh - bench/python keeps working: a --quick run without
# iceoryx2 against the shmkit module of this build, its table (every row
# and target line with numbers), its JSON, a usage error, and nothing left
# behind (segments, processes), even when it is interrupted.  No timing
# assertions: the figures depend on the machine and its load.
#
# Environment: PYTHON (default python3), SHMKIT_PYTHONPATH (a directory
# holding the built package shmkit, put first on PYTHONPATH; the test
# skips without it or when the module cannot be imported from it).
#
# SPDX-License-Identifier: BSD-2-Clause

. "$top_srcdir/tests/tap.sh"

PYTHON=${PYTHON:-python3}
BENCH=$top_srcdir/bench/python

if [ -z "${SHMKIT_PYTHONPATH:-}" ]; then
    echo "1..0 # SKIP SHMKIT_PYTHONPATH is not set (no built Python module)"
    exit 0
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "1..0 # SKIP no Python interpreter ($PYTHON)"
    exit 0
fi
build=$(cd "$top_builddir" && pwd) || exit 1
PYTHONPATH=$SHMKIT_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}
LD_LIBRARY_PATH=$build/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
DYLD_LIBRARY_PATH=$build/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH LD_LIBRARY_PATH DYLD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE
if ! why=$("$PYTHON" -c 'import shmkit' 2>&1); then
    echo "1..0 # SKIP cannot import shmkit from $SHMKIT_PYTHONPATH: $(printf '%s' "$why" | tail -n 1)"
    exit 0
fi

# Run the bench in the background so that its pid (which names its
# segments) is known; stdout and stderr go to $TAP_OUT and $TAP_ERR.
BENCH_PID=
run_bench() {
    "$PYTHON" "$BENCH" "$@" >"$TAP_OUT" 2>"$TAP_ERR" &
    BENCH_PID=$!
    sk_track "$BENCH_PID"
    sk_wait "$BENCH_PID"
    TAP_STATUS=$?
}

show_output() {
    tap_diag "exit status $TAP_STATUS; stdout:"
    head -n 60 "$TAP_OUT" | sed 's/^/#   /'
    tap_diag "stderr:"
    head -n 20 "$TAP_ERR" | sed 's/^/#   /'
}

# Segments and row processes of bench process $1: both carry
# "skb.py.PID." in their names and command lines.
check_nothing_left() {
    _left=$(ls /dev/shm 2>/dev/null | grep -E "^skb\\.py\\.$1\\.")
    _procs=$(ps -eo pid=,args= 2>/dev/null | grep -F "skb.py.$1." | grep -v grep)
    if [ -z "$_left$_procs" ]; then
        tap_pass "$2: nothing left behind"
    else
        tap_fail "$2: nothing left behind"
        tap_diag "segments:" "$_left" "processes:" "$_procs"
    fi
}

# ---- the table --------------------------------------------------------

run_bench --quick --no-iceoryx2
if [ "$TAP_STATUS" -eq 0 ]; then
    tap_pass "bench/python --quick --no-iceoryx2 exits 0"
else
    tap_fail "bench/python --quick --no-iceoryx2 exits 0"
    show_output
fi
table=$(cat "$TAP_OUT")
num='[0-9]+\.[0-9]+'
tap_like "$table" '^shmkit Python bench: [0-9]+ CPUs .* Python [0-9]' "header names the machine and Python"
tap_like "$table" '^shmkit module [^ ]+ \(' "header names the shmkit module"
tap_like "$table" '^iceoryx2: skipped: --no-iceoryx2' "header says iceoryx2 was left out"
tap_like "$table" '^load average .*pinning: off' "header reports load and pinning"
tap_like "$table" '^Round-trip latency, 64 B' "latency section"
for row in 'py-spin-flag +- ' 'shmkit-slot +adaptive ' 'shmkit-slot +spin ' \
           'shmkit-ring +adaptive ' 'shmkit-ring +spin ' 'shmkit-ring-zc +adaptive ' \
           'shmkit-ring-zc +spin ' 'mp-pipe +- ' 'mp-shm-queue +- '; do
    tap_like "$table" "^$row +$num +$num +$num +$num +[0-9]+ " "latency row: $row"
done
tap_like "$table" '^iceoryx2 +poll +skipped: --no-iceoryx2' "latency row: iceoryx2 skipped"
tap_like "$table" '^One-way throughput, 64 B' "throughput section"
for row in 'shmkit-ring +adaptive ' 'shmkit-ring-zc +adaptive ' 'mp-pipe +- ' 'mp-shm-queue +- '; do
    tap_like "$table" "^$row +[0-9]+ +$num " "throughput row: $row"
done
tap_like "$table" '^Per-call cost in one process' "per-call section"
for call in 'slot\.write\(64 B\)' 'slot\.read\(\)' 'ring\.send \+ ring\.recv \(64 B\)' \
            'ring\.reserve \+ ring\.peek \(64 B\)'; do
    tap_like "$table" "^  $call +[0-9]+\$" "per-call row: $call"
done
tap_like "$table" '^  C API: no figures given' "per-call section says there are no C figures"
tap_like "$table" '^Targets \(ratios within this run\)' "targets section"
tap_like "$table" 'round trip 64 B, slot, adaptive +<= 0.5 x iceoryx2 +not measured \(--no-iceoryx2\)' \
    "slot round-trip target not measured without iceoryx2"
tap_like "$table" 'round trip 64 B, ring, adaptive +<= 0.5 x iceoryx2 +not measured \(--no-iceoryx2\)' \
    "ring round-trip target not measured without iceoryx2"
tap_like "$table" 'throughput 64 B, ring, adaptive +>= 2 x iceoryx2 +not measured \(--no-iceoryx2\)' \
    "throughput target against iceoryx2 not measured without it"
tap_like "$table" "throughput 64 B, ring, adaptive +>= 10 x mp-pipe +$num +(met|NOT met)\$" \
    "throughput target against the pipe evaluated"
tap_like "$table" 'per-call overhead over the C API +reported +[0-9]+ +ns \(ns per call alone' \
    "per-call overhead reported"
check_nothing_left "$BENCH_PID" "bench/python --quick"

# ---- JSON and a C comparison -----------------------------------------

cfile=$TAP_TMP/c.csv
cat >"$cfile" <<'EOF'
section,transport,mode,size,n,median_ns,p10_ns,p90_ns,p99_ns,msgs_per_s,bytes_per_s,cpu_a_pct,cpu_b_pct,idle_s,x_raw_atomic,x_raw_wait,x_pipe,x_memcpy,note
latency,slot,spin,64,1000,565,499,668,772,,,100,100,,2.41,0.01,0.01,,""
latency,ring,spin,64,1000,593,501,689,906,,,99,99,,2.45,0.01,0.01,,""
throughput,ring,-,64,1000,,,,,14283821,914164544,100,100,,,,3.89,0.11,""
EOF
run_bench --quick --no-iceoryx2 --json --only shmkit-slot,shmkit-ring,mp-pipe --c-bench "$cfile"
tap_is "$TAP_STATUS" 0 "bench/python --json --c-bench exits 0"
if "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
assert d["machine"]["cpus"] >= 1
assert any(r["transport"] == "shmkit-ring" and r["mode"] == "adaptive" and r["ok"] for r in rows)
assert all(r["transport"] != "py-spin-flag" for r in rows)
assert d["per_call_ns"]["slot.read()"] > 0
assert any(c["transport"] == "ring" for c in d["c_comparison"])
t = [t for t in d["targets"] if t["goal"] == "reported"][0]
assert t["measured"] is not None and "Python - C" in t["how"], t
' "$TAP_OUT" 2>"$TAP_TMP/py.err"; then
    tap_pass "--json output parses, has the rows and the C comparison"
else
    tap_fail "--json output parses, has the rows and the C comparison"
    sed 's/^/#   /' "$TAP_TMP/py.err"
    show_output
fi
check_nothing_left "$BENCH_PID" "bench/python --json"

# ---- usage errors -----------------------------------------------------

tap_cmd "a zero duration is a usage error" 2 - 'duration' "$PYTHON" "$BENCH" --duration 0
tap_cmd "an unknown transport is a usage error" 2 - 'unknown transport' \
    "$PYTHON" "$BENCH" --only carrier-pigeon
tap_cmd "--help prints the options" 0 '--no-iceoryx2' - "$PYTHON" "$BENCH" --help

# ---- interrupted ------------------------------------------------------

sk_check_interrupted "an interrupted bench/python" 1 \
    "$PYTHON" "$BENCH" --no-iceoryx2 --only shmkit-slot,shmkit-ring --duration 20
sleep 1
check_nothing_left "$SK_INTERRUPTED" "interrupted bench/python"

tap_done
