#!/bin/sh
# cli-removed.sh - followers of a removed or replaced segment (issue 11,
# item 6): shmkit-read -f ends with exit status 3 and "segment removed"
# within about a second of idle time after "shmkit rm" (or ipcrm), also
# when a new segment of the name was created and written meanwhile; -F
# (--follow=name) goes on with the new segment.  Slots, block rings and
# overwrite rings, both backends.
#
# Every follower runs under "timeout" and with -t, so that a follower that
# never notices fails the test instead of hanging it.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

# has_line FILE ERE: some line of FILE matches.
has_line() {
    [ -f "$1" ] && grep -E -e "$2" "$1" >/dev/null
}

# create KIND SPEC VALUE: a slot with id=VALUE, or a ring holding the
# message VALUE.
create() {
    case $1 in
        slot) "$WRITE" -L 'id:u32' "$2" id="$3" ;;
        block) echo "$3" | "$WRITE" --ring 4k "$2" ;;
        overwrite) echo "$3" | "$WRITE" --ring 4k --overwrite "$2" ;;
    esac
}

# add KIND SPEC VALUE: publish VALUE into an existing segment.
add() {
    case $1 in
        slot) "$WRITE" "$2" id="$3" ;;
        *) echo "$3" | "$WRITE" "$2" ;;
    esac
}

# The line shmkit-read prints for VALUE.
shown() {
    case $1 in
        slot) echo "id=$2" ;;
        *) echo "$2" ;;
    esac
}

# remove BACKEND SPEC HOW: "rm" (shmkit rm) or "ipcrm" (System V only;
# the segment's semaphore set, which nothing can find afterwards, is
# noted for sk_remove_all).
remove() {
    if [ "$3" = ipcrm ]; then
        sk_note_semset "$2"
        ipcrm -M "${2#sysv:}"
    else
        "$SHMKIT" rm "$2"
    fi
}

# follow OPTION SPEC [READ-OPTION]: shmkit-read OPTION in the background
# ($pid), its output in out and err; waits until it printed a line.
follow() {
    : >"$TAP_TMP/out"
    : >"$TAP_TMP/err"
    timeout 30 "$READ" "$1" -t 25 ${3:-} "$2" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 100 has_line "$TAP_TMP/out" .
}

# --from-oldest for an overwrite ring (a block ring's consumer resumes its
# entry instead): a reader that -F reopens reads from the oldest message
# anyway.
from_oldest() {
    [ "$1" = overwrite ] && echo --from-oldest
}

# Tenths of a second until process PID ends (at most 100): its status in
# $status, the time in $tenths.
time_exit() {
    tenths=0
    while kill -0 "$1" 2>/dev/null && [ "$tenths" -lt 100 ]; do
        sk_nap
        tenths=$((tenths + 1))
    done
    sk_wait "$1"
    status=$?
}

removed_tests() {
    be=$1 kind=$2 how=$3
    s=$(sk_spec "$be" 0)
    what="$be: $kind: $how"
    create "$kind" "$s" 1
    follow -f "$s" "$(from_oldest "$kind")"
    tap_is "$(cat "$TAP_TMP/out")" "$(shown "$kind" 1)" "$what: -f printed the first one"
    remove "$be" "$s" "$how"
    time_exit $pid
    tap_is "$status" 3 "$what: -f ends with exit status 3 once the segment is removed"
    tap_like "$(cat "$TAP_TMP/err")" "^shmkit-read: $s: segment removed \(" \
        "$what: -f says \"segment removed\""
    # Idle slices are TOOL_WAIT_SLICE_MS (0.5 s): noticed within 1 s, and
    # 3 s leaves room for a loaded machine.
    if [ "$tenths" -le 30 ]; then
        tap_pass "$what: noticed within 3 s ($tenths tenths)"
    else
        tap_fail "$what: noticed within 3 s ($tenths tenths)"
    fi
    sk_remove_all
}

# replaced BACKEND KIND: rm + create + write while -f follows: exit 3;
# then the same with -F: the new segment's record or message is printed.
replaced_tests() {
    be=$1 kind=$2
    s=$(sk_spec "$be" 1)
    what="$be: $kind: replaced"

    create "$kind" "$s" 1
    follow -f "$s" "$(from_oldest "$kind")"
    "$SHMKIT" rm "$s"
    create "$kind" "$s" 2
    add "$kind" "$s" 3
    time_exit $pid
    tap_is "$status" 3 "$what: -f ends with exit status 3"
    tap_like "$(cat "$TAP_TMP/err")" "segment removed" "$what: -f says \"segment removed\""
    tap_is "$(cat "$TAP_TMP/out")" "$(shown "$kind" 1)" \
        "$what: -f printed nothing of the new segment"
    "$SHMKIT" rm "$s"

    # -F: the first segment's 1, then the new one's 2 and 3 (-n 3).
    create "$kind" "$s" 1
    follow -F "$s" "-n 3 $(from_oldest "$kind")"
    "$SHMKIT" rm "$s"
    create "$kind" "$s" 2
    # A slot shows its latest record: wait for 2 before writing 3.
    [ "$kind" = slot ] && sk_wait_until 100 has_line "$TAP_TMP/out" "^id=2$"
    add "$kind" "$s" 3
    time_exit $pid
    tap_is "$status" 0 "$what: -F -n 3 ends with exit status 0"
    if [ "$kind" = slot ]; then
        want=$(printf 'id=1\n\nid=2\n\nid=3')
    else
        want=$(printf '1\n2\n3')
    fi
    tap_is "$(cat "$TAP_TMP/out")" "$want" "$what: -F printed the new segment's records"
    tap_like "$(cat "$TAP_TMP/err")" "segment removed .*waiting for a new one" \
        "$what: -F notes the removal"
    tap_like "$(cat "$TAP_TMP/err")" "following the new segment" \
        "$what: -F notes the new segment"
    sk_remove_all
}

# -F on a name that does not exist yet waits for it (--follow=name spelt
# out); -F with a timeout and nothing coming ends with 4.
absent_tests() {
    be=$1
    s=$(sk_spec "$be" 2)
    : >"$TAP_TMP/out"
    : >"$TAP_TMP/err"
    timeout 30 "$READ" --follow=name -n 1 -t 25 "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 100 has_line "$TAP_TMP/err" "no such segment yet"
    "$WRITE" -L 'id:u32' "$s" id=5
    time_exit $pid
    tap_is "$status" 0 "$be: --follow=name waits for a segment that does not exist yet"
    tap_is "$(cat "$TAP_TMP/out")" "id=5" "$be: --follow=name printed its record"
    tap_cmd "$be: -F -t 1 on a missing segment times out (4)" 4 - \
        "timed out waiting for the segment to appear" \
        timeout 30 "$READ" -F -t 1 "$(sk_spec "$be" 3)"
    tap_cmd "$be: -f on a missing segment is still exit status 3" 3 - "no such segment" \
        timeout 30 "$READ" -f -t 1 "$(sk_spec "$be" 3)"
    sk_remove_all
}

# A one-shot read of a block ring waiting for a message (no -f) ends too.
oneshot_tests() {
    be=$1
    s=$(sk_spec "$be" 4)
    "$WRITE" --ring 4k "$s" </dev/null
    timeout 30 "$READ" -t 25 "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 100 sh -c "[ \"\$(\"$SHMKIT\" info \"$s\" | sed -n 's/^consumer: //p')\" != none ]"
    "$SHMKIT" rm "$s"
    time_exit $pid
    tap_is "$status" 3 "$be: a read waiting for a block ring message ends with 3 on removal"
    sk_remove_all
}

tap_cmd "--follow=bad is a usage error" 2 - "bad --follow" "$READ" --follow=bad /x

for be in $SK_BACKENDS; do
    for kind in slot block overwrite; do
        removed_tests "$be" "$kind" rm
        [ "$be" = sysv ] && removed_tests "$be" "$kind" ipcrm
        replaced_tests "$be" "$kind"
    done
    absent_tests "$be"
    oneshot_tests "$be"
done

sk_check_no_leftovers
tap_done
