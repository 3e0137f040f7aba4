#!/bin/sh
# run-fuzzer.sh - run one libFuzzer target for "make fuzz" (mk/fuzz.mk).
#
#   run-fuzzer.sh SECONDS CORPUS_ROOT BINARY NAME [LIBFUZZER_FLAG...]
#
# Fuzzes for SECONDS with CORPUS_ROOT/NAME as the seeds, which are only
# read: new inputs go to fuzz-work/NAME/new, findings (crash-*, leak-*,
# timeout-*, oom-*) to fuzz-work/NAME/.  Prints libFuzzer's final
# coverage and speed; on failure the end of the log and the reproducer.
# The work directory is removed after a clean run unless FUZZ_KEEP is set.
# Exits non-zero if the target crashed, hung, leaked or ran out of memory.
#
# SPDX-License-Identifier: BSD-2-Clause
set -u

seconds=$1 corpus=$2 bin=$3 name=$4
shift 4
work=fuzz-work/$name
rm -rf "$work"
mkdir -p "$work/new" || exit 1

# -timeout: one input may take a while on a loaded machine (bounded
# retries of a reader on a contended record), but not this long.
"./$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/" "$@" \
    "$work/new" "$corpus/$name" >"$work/log" 2>&1
rc=$?

# A crash ends the target before its atexit handler: remove the segments
# of fuzzing processes that are gone (/skt.fz.PID, System V keys
# 0x40000000 + PID << 8 + 0xff, see tests/fuzz/fuzz_seg.c).
alive() { kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ]; }
for f in /dev/shm/skt.fz.*; do
    [ -e "$f" ] || continue
    pid=${f##*.}
    alive "$pid" || rm -f "$f"
done
if command -v ipcs >/dev/null 2>&1 && command -v ipcrm >/dev/null 2>&1; then
    ipcs -m 2>/dev/null | awk -v me="$(id -un)" '$1 ~ /^0x4.....ff$/ && $3 == me {print $1}' |
        while read -r key; do
            pid=$(( (key - 0x40000000) >> 8 ))
            alive "$pid" || ipcrm -M "$key" 2>/dev/null
        done
fi

done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1)
stats=$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb):' \
    "$work/log" | sed 's/^stat:://' | tr '\n' ' ')
if [ "$rc" -eq 0 ]; then
    echo "fuzz $name: ok, ${seconds}s: ${done_line:-?} $stats"
    [ -n "${FUZZ_KEEP:-}" ] || rm -rf "$work"
    exit 0
fi
echo "fuzz $name: FAILED (exit $rc) after ${done_line:-?}"
tail -n 60 "$work/log" | sed 's/^/  | /'
for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*; do
    [ -e "$a" ] && echo "  reproducer: $a (replay: tests/fuzz/replay_$name $a)"
done
exit 1
