#!/bin/sh
# bench-iceoryx.sh - the eclipse iceoryx rows of "shmkit bench" (configure
# --with-iceoryx): a short run measures them next to shmkit's ring with
# sane numbers, and the iox-roudi the bench starts for them is gone
# afterwards, with everything it and the rows' runtimes made, also when
# the bench is interrupted.  No timing assertions beyond sanity: the
# figures depend on the machine and its load.  Skipped where the rows are
# not built or iox-roudi is missing.
#
# SPDX-License-Identifier: BSD-2-Clause

. "$top_srcdir/tests/tap.sh"

# The plain program: the rows busy-poll through a C++ library, which a
# test wrapper (valgrind) would make meaningless and slow.
BENCH=$SK_PLAIN_SHMKIT

if [ "$SHMKIT_HAVE_ICEORYX" != yes ]; then
    tap_cmd "a build without iceoryx says so instead of the rows" 0 \
        '^  - iceoryx: not built \(configure --with-iceoryx\)' - \
        "$BENCH" bench --quick --only ring,iceoryx --rows latency --sizes 64 --modes adaptive
    tap_skip "iceoryx rows" "not built (configure --with-iceoryx)"
    tap_done
fi
if ! command -v iox-roudi >/dev/null 2>&1 && [ ! -x /usr/bin/iox-roudi ]; then
    tap_skip "iceoryx rows" "iox-roudi not found (Debian package iceoryx)"
    tap_done
fi

# The iox-roudi processes that exist now, one pid a line.
roudi_pids() {
    ps -e -o pid= -o comm= 2>/dev/null | awk '$2 == "iox-roudi" { print $1 }' | sort
}

# What an iox-roudi and the rows' iceoryx runtimes leave in /dev/shm and
# /tmp when they are not stopped cleanly.
iceoryx_files() {
    for f in /dev/shm/iceoryx_mgmt "/dev/shm/$(id -un)" /tmp/roudi /tmp/roudi.lock \
             /tmp/iox-unique-roudi.lock; do
        if [ -e "$f" ]; then echo "$f"; fi
    done
    ls /tmp 2>/dev/null | grep -E '^shmkit-bench-[0-9]+(\.lock)?$' | sed 's,^,/tmp/,'
    return 0
}

roudi_before=$(roudi_pids)
files_before=$(iceoryx_files)
if [ -n "$roudi_before" ]; then
    tap_skip "iceoryx rows" "an iox-roudi is running already (pid $(echo $roudi_before))"
    tap_done
fi

# The bench's iox-roudi and what it made are gone (any survivor is
# stopped here, by its pid, so that it does not outlive the test).
check_roudi_gone() {
    _new=$(roudi_pids)
    tap_is "$(echo $_new)" "" "$1: no iox-roudi of the bench survives"
    for _pid in $_new; do
        kill -TERM "$_pid" 2>/dev/null
    done
    _left=$(iceoryx_files)
    tap_is "$(echo $_left)" "$(echo $files_before)" "$1: no iceoryx shared memory or files left"
}

show_output() {
    tap_diag "exit status $TAP_STATUS; stdout:"
    head -n 40 "$TAP_OUT" | sed 's/^/#   /'
    tap_diag "stderr:"
    head -n 20 "$TAP_ERR" | sed 's/^/#   /'
}

# ---- the rows ----------------------------------------------------------

csv=$TAP_TMP/bench.csv
"$BENCH" bench --only ring,iceoryx --rows latency,throughput --sizes 64 \
    --throughput-sizes 64 --modes adaptive --duration 0.2 --csv "$csv" \
    >"$TAP_OUT" 2>"$TAP_ERR"
TAP_STATUS=$?
table=$(cat "$TAP_OUT")
why=$(printf '%s\n' "$table" | sed -n 's/^  - iceoryx: no rows: //p')
if [ -n "$why" ]; then
    # Another RouDi's lock, too small a /dev/shm...: the bench reports it.
    tap_is "$TAP_STATUS" 0 "bench exits 0 when iox-roudi cannot start"
    tap_skip "iceoryx rows" "iox-roudi did not start: $why"
    check_roudi_gone "bench without iox-roudi"
    tap_done
fi
if [ "$TAP_STATUS" -eq 0 ]; then
    tap_pass "bench with the iceoryx rows exits 0"
else
    tap_fail "bench with the iceoryx rows exits 0"
    show_output
fi
tap_like "$table" '^64 +iceoryx +- +[0-9]' "latency row: 64 iceoryx"
tap_like "$table" '^64 +iceoryx +[0-9]+ ' "throughput row: 64 iceoryx"
tap_like "$table" 'round trip 64 B, ring, adaptive +<= 0.2 x iceoryx +[0-9.]+ +(met|NOT met)' \
    "the iceoryx target is evaluated"

# Sane numbers, from the CSV: section,transport,mode,size,n,median_ns,
# p10_ns,p90_ns,p99_ns,msgs_per_s,...  A round trip between 10 ns and
# 10 s with p10 <= median <= p90 over at least 1000 of them; more than
# 1000 messages a second one way.  The ceiling is absurdity, not speed:
# two busy-polling processes under the sanitizer suites next to them
# have taken 25 ms a round trip (CI).
sane=$(awk -F, '
    $2 == "iceoryx" && $1 == "latency" {
        lat = ($5 >= 1000 && $6 > 10 && $6 < 1e10 && $7 <= $6 && $6 <= $8) ? "ok" : "bad: " $0
    }
    $2 == "iceoryx" && $1 == "throughput" {
        tp = ($5 >= 1000 && $10 > 1000) ? "ok" : "bad: " $0
    }
    END { print "latency " lat; print "throughput " tp }' "$csv" 2>/dev/null)
tap_like "$sane" '^latency ok$' "iceoryx round trip: sane numbers"
tap_like "$sane" '^throughput ok$' "iceoryx one-way: sane numbers"
printf '%s\n' "$sane" | grep -q bad && tap_diag "$sane"
check_roudi_gone "bench"

# ---- interrupted -------------------------------------------------------

# Two seconds: iox-roudi is up and the row runs.
sk_check_interrupted "an interrupted bench" 2 \
    "$BENCH" bench --only iceoryx --rows latency --sizes 64 --duration 30
check_roudi_gone "interrupted bench"

tap_done
