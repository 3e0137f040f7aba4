#!/bin/sh
# cli-follow.sh - shmkit-read -f: standard input to a follower and back
# for both ring policies, slot versions as they are published, -n, -t and
# exit status 4, lost messages on an overwrite ring, the single consumer
# of a block ring, signals, and the CPU an idle follower uses.
#
# Background readers always get a -t so that a broken program fails the
# test instead of hanging it.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

# frame_size LEN: bytes a message of LEN bytes takes in a ring (doc/FORMAT.md).
frame_size() {
    echo $(((16 + $1 + 63) / 64 * 64))
}

lines() {
    wc -l <"$1" | tr -d ' '
}

# has_lines FILE N: FILE has at least N lines.
has_lines() {
    [ -f "$1" ] && [ "$(lines "$1")" -ge "$2" ]
}

# ring_full SPEC: shmkit info says the ring is full.
ring_full() {
    _cap=$(sk_info_field "$1" capacity)
    [ "$(sk_info_field "$1" used)" = "$_cap of $_cap bytes (100.0%)" ]
}

# fresh FILE...: empty files.  A background job opens its output files
# after the fork, so a check of them right after starting it could see
# what an earlier job left there.
fresh() {
    for _f; do
        : >"$_f"
    done
}

# signal_name STATUS: the signal that ended a process with STATUS, or "".
signal_name() {
    [ "$1" -gt 128 ] && kill -l "$1" 2>/dev/null
}

round_trip_tests() {
    be=$1
    sk_seq 1 1000 >"$TAP_TMP/seq"

    # Block: a ring of 32 frames, so the writer waits for the reader.
    s=$(sk_spec "$be" 0)
    "$WRITE" --ring 1k "$s" </dev/null
    fresh "$TAP_TMP/out" "$TAP_TMP/err"
    "$READ" -f -n 1000 -t 60 "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    tap_cmd "$be: block: seq 1 1000 through a 1k ring" 0 - - \
        "$WRITE" -t 60 "$s" <"$TAP_TMP/seq"
    sk_wait $pid
    tap_is $? 0 "$be: block: the follower stops after -n 1000"
    tap_ok "$be: block: every line, in order" cmp -s "$TAP_TMP/seq" "$TAP_TMP/out"
    tap_is "$(cat "$TAP_TMP/err")" "" "$be: block: nothing on stderr"
    tap_is "$(sk_info_field "$s" consumer)" none "$be: block: the consumer let go"

    # Overwrite, live: the follower is running (it printed "start") when
    # the lines come; the ring holds them all, so none is lost.
    s=$(sk_spec "$be" 1)
    echo start | "$WRITE" --ring 64k --overwrite "$s"
    fresh "$TAP_TMP/out" "$TAP_TMP/err"
    "$READ" -f -n 1001 -t 60 --from-oldest "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 300 has_lines "$TAP_TMP/out" 1
    tap_is "$(cat "$TAP_TMP/out")" start "$be: overwrite: the follower printed the first line at once"
    tap_cmd "$be: overwrite: seq 1 1000 while following" 0 - - "$WRITE" "$s" <"$TAP_TMP/seq"
    sk_wait $pid
    tap_is $? 0 "$be: overwrite: the follower stops after -n 1001"
    { echo start; cat "$TAP_TMP/seq"; } >"$TAP_TMP/want"
    tap_ok "$be: overwrite: every line, in order" cmp -s "$TAP_TMP/want" "$TAP_TMP/out"
    tap_is "$(cat "$TAP_TMP/err")" "" "$be: overwrite: nothing lost"

    # Overwrite, after the fact: --from-oldest finds what the ring kept.
    tap_cmd "$be: overwrite: --from-oldest afterwards" 0 '' - \
        "$READ" -f -n 1001 -t 60 --from-oldest "$s"
    tap_ok "$be: overwrite: the same lines" cmp -s "$TAP_TMP/want" "$TAP_OUT"
}

count_timeout_tests() {
    be=$1
    s=$(sk_spec "$be" 2)
    sk_seq 1 2 | "$WRITE" --ring 1k "$s"
    tap_cmd "$be: block: -f -n 5 -t 0.3 with 2 messages" 4 '' \
        "^shmkit-read: $s: timed out after 2 of 5 messages\$" "$READ" -f -n 5 -t 0.3 "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '1 2 ' "$be: block: the 2 were printed"
    sk_seq 3 12 | "$WRITE" "$s"
    tap_cmd "$be: block: -n 3" 0 '' - "$READ" -f -n 3 -t 10 "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '3 4 5 ' "$be: block: exactly 3"
    tap_is "$(sk_info_field "$s" messages)" 12 "$be: block: messages published"
    tap_cmd "$be: block: -f -t 0.3 without -n" 4 '' \
        "^shmkit-read: $s: timed out after 7 messages\$" "$READ" -f -t 0.3 "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '6 7 8 9 10 11 12 ' \
        "$be: block: -n 3 consumed only what it printed"

    s=$(sk_spec "$be" 3)
    sk_seq 1 2 | "$WRITE" --ring 1k --overwrite "$s"
    tap_cmd "$be: overwrite: -f -n 5 -t 0.3 --from-oldest" 4 '' 'timed out after 2 of 5' \
        "$READ" -f -n 5 -t 0.3 --from-oldest "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '1 2 ' "$be: overwrite: the 2 were printed"
    tap_cmd "$be: overwrite: -f -n 5 -t 0.3 starts at the newest" 4 '' \
        'timed out after 1 of 5' "$READ" -f -n 5 -t 0.3 "$s"
    tap_is "$(cat "$TAP_OUT")" 2 "$be: overwrite: only the newest"
    tap_cmd "$be: -f -n 2 --json" 0 '' - "$READ" -f -n 2 --from-oldest --json "$s"
    tap_is "$(cat "$TAP_OUT")" "$(printf '%s\n' '{"seq":0,"data":"1"}' '{"seq":1,"data":"2"}')" \
        "$be: one JSON object per line"
    tap_cmd "$be: -f -n 2 --hex" 0 '' - "$READ" -f -n 2 --from-oldest --hex "$s"
    tap_is "$(cat "$TAP_OUT")" "$(printf '%s\n' \
        '00000000  31                                                |1|' 00000001 '' \
        '00000000  32                                                |2|' 00000001)" \
        "$be: hex dumps separated by an empty line"
}

slot_tests() {
    be=$1
    s=$(sk_spec "$be" 4)
    "$WRITE" -L 'v:u32' "$s" v=0
    fresh "$TAP_TMP/out" "$TAP_TMP/err"
    "$READ" -f -n 4 -t 60 --json "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    # One version at a time: a writer faster than the reader would have
    # versions replaced before they are seen, and only the latest printed.
    ok=yes
    for v in 1 2 3; do
        sk_wait_until 300 has_lines "$TAP_TMP/out" $v || ok="no (before v=$v)"
        "$WRITE" "$s" v=$v
    done
    tap_is "$ok" yes "$be: slot: each record printed as soon as it was published"
    sk_wait $pid
    tap_is $? 0 "$be: slot: -f -n 4 stops after 4 records"
    tap_is "$(sk_flat "$TAP_TMP/out")" '{"v":0} {"v":1} {"v":2} {"v":3} ' \
        "$be: slot: the current record, then every new version"
    tap_is "$(cat "$TAP_TMP/err")" "" "$be: slot: nothing on stderr"

    tap_cmd "$be: slot: -f -n 3 -t 0.3, nothing new" 4 '' \
        "^shmkit-read: $s: timed out after 1 of 3 records\$" "$READ" -f -n 3 -t 0.3 "$s"
    tap_is "$(cat "$TAP_OUT")" v=3 "$be: slot: the current record once, not again"

    fresh "$TAP_TMP/out" "$TAP_TMP/err"
    "$READ" -f -n 2 -t 60 "$s" >"$TAP_TMP/out" 2>&1 &
    pid=$!
    sk_track $pid
    sk_wait_until 300 has_lines "$TAP_TMP/out" 1
    "$WRITE" "$s" v=4
    sk_wait $pid
    tap_is $? 0 "$be: slot: text follow"
    tap_is "$(cat "$TAP_TMP/out")" "$(printf 'v=3\n\nv=4')" \
        "$be: slot: text records separated by an empty line"
}

# A follower stopped (SIGSTOP) while the writer laps it: the ring keeps
# 256 / 32 = 8 of the 100 lines, so 92 are lost, reported on stderr as
# soon as the follower reads on, and it goes on with the 8 kept.
lost_tests() {
    be=$1
    s=$(sk_spec "$be" 5)
    frame=$(frame_size 5) # "start" and 1 .. 100 have at most 5 bytes
    kept=$((256 / frame))
    lost=$((100 - kept))
    echo start | "$WRITE" --ring 256 --overwrite "$s"
    fresh "$TAP_TMP/out" "$TAP_TMP/err"
    "$READ" -f -n $((1 + kept)) -t 60 --from-oldest "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 300 has_lines "$TAP_TMP/out" 1
    kill -STOP $pid
    sk_seq 1 100 | "$WRITE" "$s"
    kill -CONT $pid
    sk_wait $pid
    tap_is $? 0 "$be: lost: the follower goes on after the loss"
    tap_is "$(cat "$TAP_TMP/err")" "shmkit-read: $s: $lost messages lost" \
        "$be: lost: the exact count on stderr"
    tap_is "$(sk_flat "$TAP_TMP/out")" "start $(sk_seq $((lost + 1)) 100 | tr '\n' ' ')" \
        "$be: lost: then the messages kept, none damaged"
}

consumer_tests() {
    be=$1
    s=$(sk_spec "$be" 6)
    sk_seq 1 3 | "$WRITE" --ring 1k "$s"
    fresh "$TAP_TMP/out" "$TAP_TMP/err"
    "$READ" -f -t 60 "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 300 has_lines "$TAP_TMP/out" 3
    tap_is "$(sk_info_field "$s" consumer)" "$pid (alive)" "$be: info names the consumer"
    tap_cmd "$be: a second consumer is refused" 1 - \
        "^shmkit-read: $s: lease busy \\(pid $pid is the consumer\\)\$" "$READ" -t 0 "$s"
    tap_cmd "$be: ... also in follow mode" 1 - 'consumer' "$READ" -f -t 1 "$s"
    kill -TERM $pid
    sk_wait $pid
    st=$?
    tap_is "$(signal_name $st)" TERM "$be: SIGTERM ends the follower by SIGTERM (status $st)"
    tap_is "$(sk_flat "$TAP_TMP/out")" '1 2 3 ' "$be: what it printed before"
    tap_is "$(cat "$TAP_TMP/err")" "" "$be: no message for a signal"
    tap_is "$(sk_info_field "$s" consumer)" none "$be: it released the consumer lease"
    echo 4 | "$WRITE" "$s"
    tap_cmd "$be: the next consumer goes on" 0 '^4$' - "$READ" -t 10 "$s"

    # A writer waiting for room in a full ring.
    fresh "$TAP_TMP/out" "$TAP_TMP/err"
    sk_seq 1 100 | "$WRITE" -t 60 "$s" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 300 ring_full "$s"
    tap_is "$(sk_info_field "$s" writer)" "$pid (alive)" "$be: info names the waiting writer"
    kill -TERM $pid
    sk_wait $pid
    st=$?
    tap_is "$(signal_name $st)" TERM "$be: SIGTERM ends the waiting writer (status $st)"
    tap_is "$(sk_info_field "$s" writer)" none "$be: it released the writer lease"
}

# "shmkit-read -f | head -n 1": once head is gone, the next message the
# follower prints ends it by SIGPIPE (or, if SIGPIPE was ignored when the
# test started, by a write error), and the consumer lease is released.
sigpipe_tests() {
    be=$1
    s=$(sk_spec "$be" 10)
    echo first | "$WRITE" --ring 1k "$s"
    fresh "$TAP_TMP/out" "$TAP_TMP/err" "$TAP_TMP/status"
    { "$READ" -f -t 60 "$s"; echo $? >"$TAP_TMP/status"; } | head -n 1 >"$TAP_TMP/out" &
    pid=$!
    sk_track $pid
    sk_wait_until 300 has_lines "$TAP_TMP/out" 1
    # Each new message is printed into the pipe; a few after head exits,
    # the follower learns that nobody reads.
    n=0
    while [ ! -s "$TAP_TMP/status" ] && [ $n -lt 300 ]; do
        echo more | "$WRITE" -t 10 "$s"
        sk_nap
        n=$((n + 1))
    done
    sk_wait $pid
    st=$(cat "$TAP_TMP/status" 2>/dev/null)
    if [ "$(signal_name "${st:-0}")" = PIPE ]; then
        tap_pass "$be: a closed pipe ends the follower by SIGPIPE"
    elif [ "${st:-}" = 1 ]; then
        tap_pass "$be: a closed pipe ends the follower (SIGPIPE ignored: write error)"
    else
        tap_fail "$be: a closed pipe ends the follower"
        tap_diag "status: '${st:-none}'"
    fi
    tap_is "$(cat "$TAP_TMP/out")" first "$be: head got the first line"
    tap_is "$(sk_info_field "$s" consumer)" none "$be: the consumer lease was released"
}

# "A reader blocked in follow mode for 2 s uses under 5% of a core": the
# CPU time of each follower (user + system, children's line of `times`),
# all of them waiting at once.
cpu_tests() {
    be=$1
    s_block=$(sk_spec "$be" 7) s_over=$(sk_spec "$be" 8) s_slot=$(sk_spec "$be" 9)
    "$WRITE" --ring 4k "$s_block" </dev/null
    "$WRITE" --ring 4k --overwrite "$s_over" </dev/null
    "$WRITE" -L 'v:u32' "$s_slot"
    pids=
    for kind in block over slot; do
        eval "s=\$s_$kind"
        # The plain program: a test wrapper's (valgrind's) own CPU time
        # is not the follower's.
        sh -c '"$1" -f -t 2 "$2" >/dev/null 2>&1; echo "status $?"; times' sh "$SK_PLAIN_READ" "$s" \
            >"$TAP_TMP/cpu.$kind" 2>&1 &
        pids="$pids $!"
        sk_track $!
    done
    for pid in $pids; do sk_wait "$pid"; done
    for kind in block over slot; do
        f=$TAP_TMP/cpu.$kind
        # "status 4", the shell's own times, then its children's:
        # "0m0.001s 0m0.002s".
        cpu=$(sed -n 3p "$f" | awk '{
            t = 0
            for (i = 1; i <= 2; i++) {
                if (split($i, p, "m") != 2) { print "?"; exit }
                sub(/s$/, "", p[2]); t += p[1] * 60 + p[2]
            }
            printf "%.3f\n", t }')
        if [ "$(sed -n 1p "$f")" != "status 4" ]; then
            tap_fail "$be: an idle $kind follower uses under 5% of a core"
            tap_diag "the follower did not time out:" "$(cat "$f")"
        elif ! printf '%s\n' "$cpu" | grep -E '^[0-9]+\.[0-9]+$' >/dev/null; then
            tap_skip "$be: an idle $kind follower uses under 5% of a core" \
                "cannot read the output of times: $(sk_flat "$f")"
        else
            tap_ok "$be: an idle $kind follower uses under 5% of a core ($cpu s in 2 s)" \
                awk -v t="$cpu" 'BEGIN { exit !(t < 0.1) }'
        fi
    done
}

for be in $SK_BACKENDS; do
    round_trip_tests "$be"
    count_timeout_tests "$be"
    slot_tests "$be"
    lost_tests "$be"
    consumer_tests "$be"
    sigpipe_tests "$be"
    cpu_tests "$be"
done

sk_remove_all
sk_check_no_leftovers
tap_done
