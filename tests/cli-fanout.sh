#!/bin/sh
# cli-fanout.sh - block rings with several consumers, from the command
# line: shmkit-write --consumers, shmkit-read -f as one of the consumers
# (each receives every line), their entries and lag in shmkit info and
# shmkit ls, a consumer killed mid-stream, a consumer that resumes where
# the last one stopped, --from-newest and --from-oldest, and the busy
# error when every entry is taken.
#
# Background readers and writers always get a -t, and every wait for
# them is bounded, so that a broken program fails the test instead of
# hanging it.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

lines() {
    wc -l <"$1" | tr -d ' '
}

# has_lines FILE N: FILE has at least N lines.
has_lines() {
    [ -f "$1" ] && [ "$(lines "$1")" -ge "$2" ]
}

# fresh FILE...: empty files (a background job opens its output after the
# fork: a check right after starting it could see an earlier job's).
fresh() {
    for _f; do
        : >"$_f"
    done
}

# entry SPEC PID: the "consumer I: ..." line of shmkit info for PID's entry.
entry() {
    "$SHMKIT" info "$1" 2>/dev/null | grep -E "^consumer [0-9]+: $2 \\("
}

# active SPEC PID...: shmkit info shows each PID holding an active entry.
active() {
    _s=$1
    shift
    for _p; do
        entry "$_s" "$_p" | grep -E '\(alive\), active, ' >/dev/null || return 1
    done
}

# ring_full SPEC: shmkit info says the ring is full.
ring_full() {
    _cap=$(sk_info_field "$1" capacity)
    [ "$(sk_info_field "$1" used)" = "$_cap of $_cap bytes (100.0%)" ]
}

# start_reader OUT ARG...: shmkit-read ARG... in the background, its
# output in OUT and its pid in $reader.
start_reader() {
    _out=$1
    shift
    fresh "$_out" "$_out.err"
    "$READ" "$@" >"$_out" 2>"$_out.err" &
    reader=$!
    sk_track $reader
}

write_tests() {
    be=$1
    s=$(sk_spec "$be" 0)
    tap_cmd "$be: --consumers=0 is refused" 2 - "bad consumer count '0'" \
        "$WRITE" --ring 1k --consumers=0 "$s"
    tap_cmd "$be: --consumers above the most is refused" 2 - 'expected 1 to [0-9]+' \
        "$WRITE" --ring 1k --consumers=100000 "$s"
    tap_cmd "$be: --consumers with --overwrite is refused" 2 - 'does not go with --overwrite' \
        "$WRITE" --ring 1k --overwrite --consumers=2 "$s"
    tap_cmd "$be: --consumers without --ring is refused" 2 - \
        '--consumers only applies when creating a ring' "$WRITE" --consumers=2 "$s"
    tap_cmd "$be: a ring of 3 consumer entries" 0 - - \
        "$WRITE" --ring 1k --consumers=3 "$s" </dev/null
    tap_is "$(sk_info_field "$s" consumers)" 3 "$be: info counts the entries"
    tap_is "$(sk_info_field "$s" consumer)" none "$be: info: no consumer yet"
    tap_cmd "$be: another count does not match the ring" 5 - \
        "^shmkit-write: $s: .*ring has 3 consumer entries" \
        "$WRITE" --ring 1k --consumers=2 "$s" </dev/null
    tap_cmd "$be: the same count does" 0 - - "$WRITE" --ring 1k --consumers=3 "$s" </dev/null
    tap_cmd "$be: --from-newest on a slot" 2 - \
        "^shmkit-read: $(sk_spec "$be" 1): --from-newest applies to rings, not slots" \
        sh -c '"$1" -L v:u8 "$2" v=1 && "$3" --from-newest "$2"' sh "$WRITE" \
        "$(sk_spec "$be" 1)" "$READ"
    tap_cmd "$be: --from-newest with --from-oldest" 2 - 'not both' \
        "$READ" --from-newest --from-oldest "$s"
}

# Two followers each receive every one of 2000 lines through a ring of
# 16 frames; one is stopped for a while, so that the writer waits for it
# and info shows its lag.
fanout_tests() {
    be=$1
    s=$(sk_spec "$be" 2)
    sk_seq 1 2000 >"$TAP_TMP/seq"
    "$WRITE" --ring 1k --consumers=3 "$s" </dev/null
    start_reader "$TAP_TMP/a" -f -n 2000 -t 60 "$s"
    a=$reader
    start_reader "$TAP_TMP/b" -f -n 2000 -t 60 "$s"
    b=$reader
    sk_wait_until 300 active "$s" $a $b
    tap_ok "$be: info shows both consumers active and alive" active "$s" $a $b
    tap_like "$("$SHMKIT" ls "$s" | sed -n 2p)" "^$s +ring .* 2/3 +[-0-9]+ +ok\$" \
        "$be: ls counts 2 live consumers of 3"
    kill -STOP $b
    "$WRITE" -t 60 "$s" <"$TAP_TMP/seq" >"$TAP_TMP/w" 2>&1 &
    w=$!
    sk_track $w
    sk_wait_until 300 ring_full "$s"
    tap_like "$(entry "$s" $b)" \
        "^consumer [0-9]+: $b \\(alive\\), active, next message 0, lag 16 messages, 1024 bytes\$" \
        "$be: info shows the stopped consumer's lag"
    # The other one reads what the writer could send, and waits.
    sk_wait_until 300 eval 'entry "$s" $a | grep "lag 0 " >/dev/null'
    tap_like "$(entry "$s" $a)" "^consumer [0-9]+: $a \\(alive\\), active, next message 16, lag 0 " \
        "$be: ... and the other one's"
    "$SHMKIT" ls --json "$s" >"$TAP_TMP/json"
    tap_like "$(cat "$TAP_TMP/json")" "\"consumer_entries\":3,\"consumers\":\\[\\{\"index\":" \
        "$be: ls --json lists the consumer entries"
    if command -v python3 >/dev/null 2>&1; then
        tap_ok "$be: ls --json: both consumers, one with a lag" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))[0]["consumers"]
pids = sorted(e["pid"] for e in c)
assert pids == sorted([int(sys.argv[2]), int(sys.argv[3])]), c
assert all(e["alive"] is True and e["state"] == "active" for e in c), c
assert sorted(e["lag_messages"] for e in c) == [0, 16], c' "$TAP_TMP/json" $a $b
    else
        tap_skip "$be: ls --json: both consumers, one with a lag" "no python3 to parse it"
    fi
    kill -CONT $b
    sk_wait $w
    tap_is $? 0 "$be: the writer sends 2000 lines through 16 frames"
    sk_wait $a
    tap_is $? 0 "$be: the first consumer stops after -n 2000"
    sk_wait $b
    tap_is $? 0 "$be: the second one too"
    tap_ok "$be: the first received every line, in order" cmp -s "$TAP_TMP/seq" "$TAP_TMP/a"
    tap_ok "$be: the second received every line, in order" cmp -s "$TAP_TMP/seq" "$TAP_TMP/b"
    tap_is "$(cat "$TAP_TMP/a.err" "$TAP_TMP/b.err" "$TAP_TMP/w")" "" "$be: nothing on stderr"
    tap_is "$(sk_info_field "$s" consumer)" none "$be: both let go"
    tap_is "$("$SHMKIT" info "$s" | grep -c '^consumer [0-9]*: none, left, next message 2000, lag 0 messages, 0 bytes$')" \
        2 "$be: info shows both entries left, at the end"
}

# A consumer killed by SIGKILL while the writer waits for it: the writer
# drops its entry and finishes; the other consumer receives everything.
kill_tests() {
    be=$1
    s=$(sk_spec "$be" 3)
    sk_seq 1 2000 >"$TAP_TMP/seq"
    sk_seq 11 2000 >"$TAP_TMP/rest"
    "$WRITE" --ring 1k --consumers=3 "$s" </dev/null
    start_reader "$TAP_TMP/a" -f -n 2000 -t 60 "$s"
    a=$reader
    start_reader "$TAP_TMP/b" -f -t 60 "$s"
    b=$reader
    sk_wait_until 300 active "$s" $a $b
    sk_seq 1 10 | "$WRITE" -t 60 "$s"
    sk_wait_until 300 has_lines "$TAP_TMP/b" 10
    kill -STOP $b
    "$WRITE" -t 60 "$s" <"$TAP_TMP/rest" >"$TAP_TMP/w" 2>&1 &
    w=$!
    sk_track $w
    sk_wait_until 300 ring_full "$s"
    tap_ok "$be: the writer waits for the stopped consumer" ring_full "$s"
    kill -KILL $b
    sk_wait $b
    sk_wait $w
    tap_is $? 0 "$be: the writer finishes after the consumer is killed"
    sk_wait $a
    tap_is $? 0 "$be: the other consumer stops after -n 2000"
    tap_ok "$be: ... and received every line, in order" cmp -s "$TAP_TMP/seq" "$TAP_TMP/a"
    tap_is "$(sk_flat "$TAP_TMP/b")" "$(sk_seq 1 10 | tr '\n' ' ')" \
        "$be: the killed one received what came before"
    tap_like "$(entry "$s" $b)" "^consumer [0-9]+: $b \\(dead\\), (left|vacant)" \
        "$be: info shows the killed consumer dead, its entry left or dropped"
    tap_is "$("$SHMKIT" info "$s" | grep -c '^consumer.*(alive)')" 0 \
        "$be: info: no consumer alive once the other has exited"
}

# A consumer that exits leaves its entry; the next plain shmkit-read
# resumes it.  --from-newest and --from-oldest join afresh.
join_tests() {
    be=$1
    s=$(sk_spec "$be" 4)
    sk_seq 1 5 | "$WRITE" --ring 4k --consumers=2 "$s"
    tap_cmd "$be: a consumer reads two lines and exits" 0 '' - "$READ" -f -n 2 -t 10 "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '1 2 ' "$be: ... the first two"
    tap_like "$("$SHMKIT" info "$s" | grep '^consumer [0-9]*:')" \
        '^consumer 0: none, left, next message 2, lag 3 messages, 192 bytes$' \
        "$be: info shows its entry left, with its lag"
    tap_cmd "$be: the next one resumes where it stopped" 0 '^3$' - "$READ" -t 10 "$s"
    tap_cmd "$be: ... and the next" 0 '' - "$READ" -f -n 2 -t 10 "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '4 5 ' "$be: ... gets the rest"

    # --from-newest: the newest line already sent, then what comes after.
    start_reader "$TAP_TMP/n" -f -n 3 -t 30 --from-newest "$s"
    n=$reader
    sk_wait_until 300 active "$s" $n
    sk_wait_until 300 has_lines "$TAP_TMP/n" 1
    sk_seq 6 7 | "$WRITE" -t 30 "$s"
    sk_wait $n
    tap_is $? 0 "$be: --from-newest -n 3 ends"
    tap_is "$(sk_flat "$TAP_TMP/n")" '5 6 7 ' "$be: --from-newest starts at the newest line"
    tap_is "$(sk_info_field "$s" consumers)" 2 "$be: info still counts 2 entries"
    tap_is "$("$SHMKIT" info "$s" | grep -c '^consumer [0-9]*: none, left, ')" 2 \
        "$be: both entries left"
    tap_cmd "$be: a plain read resumes a left entry" 0 '^[67]$' - "$READ" -t 10 "$s"

    # --from-oldest on a block ring: a new consumer at the oldest line kept.
    s=$(sk_spec "$be" 5)
    sk_seq 1 3 | "$WRITE" --ring 4k --consumers=2 "$s"
    tap_cmd "$be: --from-oldest on a block ring" 0 '^1$' - "$READ" --from-oldest "$s"
    tap_cmd "$be: ... leaves the other entry alone" 0 '' - "$READ" -f -n 3 -t 10 "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '1 2 3 ' "$be: ... which still has every line"
}

# Every entry held by a live consumer: the next one is refused.
busy_tests() {
    be=$1
    s=$(sk_spec "$be" 6)
    "$WRITE" --ring 1k --consumers=2 "$s" </dev/null
    start_reader "$TAP_TMP/a" -f -t 60 "$s"
    a=$reader
    start_reader "$TAP_TMP/b" -f -t 60 "$s"
    b=$reader
    sk_wait_until 300 active "$s" $a $b
    tap_cmd "$be: a third consumer is refused" 1 - \
        "^shmkit-read: $s: lease busy \\(all 2 consumer entries are held by live consumers\\)\$" \
        "$READ" -t 0 "$s"
    tap_cmd "$be: ... also with --from-newest" 1 - 'all 2 consumer entries are held' \
        "$READ" --from-newest -t 0 "$s"
    tap_cmd "$be: ... also in follow mode" 1 - 'all 2 consumer entries are held' \
        "$READ" -f -t 1 "$s"
    kill -TERM $a $b
    sk_wait $a
    sk_wait $b
    tap_is "$(sk_info_field "$s" consumer)" none "$be: the two let go"
    echo next | "$WRITE" -t 10 "$s"
    tap_cmd "$be: then a consumer gets in" 0 '^next$' - "$READ" -t 10 "$s"
}

# rm --stale on an owned ring whose creator died: a live consumer in any
# entry keeps it, not only one in the first entry held ("consumer").
stale_tests() {
    be=$1
    s=$(sk_spec "$be" 7)
    rm -f "$TAP_TMP/fifo"
    mkfifo "$TAP_TMP/fifo" || return 1
    "$WRITE" -t 60 --ring 1k --owned --consumers=2 "$s" <"$TAP_TMP/fifo" &
    w=$!
    sk_track $w
    exec 3>"$TAP_TMP/fifo"
    sk_wait_until 300 eval '[ "$(sk_info_field "$s" writer)" = "$w (alive)" ]'
    start_reader "$TAP_TMP/a" -f -t 60 "$s"
    a=$reader
    sk_wait_until 300 active "$s" $a
    start_reader "$TAP_TMP/b" -f -t 60 "$s"
    b=$reader
    sk_wait_until 300 active "$s" $a $b
    kill -KILL $a $w
    sk_wait $a
    sk_wait $w
    exec 3>&-
    tap_is "$(sk_info_field "$s" consumer)" "$b (alive)" \
        "$be: info names the live consumer, not the dead one of the first entry"
    tap_like "$("$SHMKIT" ls "$s" | sed -n 2p)" "^$s +ring .* 1/2 +[-0-9]+ +stale\$" \
        "$be: ls: stale, with one live consumer of 2"
    "$SHMKIT" rm --stale "$s" >/dev/null 2>&1
    tap_is "$(sk_info_field "$s" lifetime)" owned "$be: rm --stale leaves it to the live consumer"
    kill -TERM $b
    sk_wait $b
    tap_cmd "$be: once that one is gone, rm --stale removes it" 0 "^removed $s \\(stale\\)\$" - \
        "$SHMKIT" rm --stale "$s"
}

for be in $SK_BACKENDS; do
    write_tests "$be"
    fanout_tests "$be"
    kill_tests "$be"
    join_tests "$be"
    busy_tests "$be"
    stale_tests "$be"
done

sk_remove_all
sk_check_no_leftovers
tap_done
