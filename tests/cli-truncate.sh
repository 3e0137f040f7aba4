#!/bin/sh
# cli-truncate.sh - a POSIX segment shrinks under the tools (issue 11,
# item 4): shmkit-read -f of a slot, of a block ring and of an overwrite
# ring, and shmkit-write waiting for space in a full block ring, while the
# object is truncated to 0, to the header's size and to half, without any
# publication afterwards.  Each must end within about a second with exit
# status 5 and "segment truncated", never with SIGBUS (status 135).
# Every segment spans several pages: a cut inside the last page of a
# mapping faults nowhere (doc/SECURITY.md).  System V segments cannot
# shrink: nothing to test there.
#
# Background programs always get a -t so that a broken program fails the
# test instead of hanging it.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

case " $SK_BACKENDS " in
*" posix "*) ;;
*)
    tap_skip "truncation tests" "POSIX shared memory not in this build (System V segments cannot shrink)"
    tap_done
    ;;
esac

HEADER_SIZE=768

# shrink_to HOW FILE: the new size of FILE for "zero", "header", "half".
shrink_to() {
    case $1 in
    zero) echo 0 ;;
    header) echo $HEADER_SIZE ;;
    half) echo $(($(wc -c <"$2") / 2)) ;;
    esac
}

# shrink HOW FILE: truncate FILE as any process that may write it could.
# A cut below the header takes the id of its semaphore set (sysv-sem
# builds) with it, which shmkit rm then cannot remove: noted first, for
# sk_remove_all (at exit).  The other cuts leave the header, and shmkit
# rm must remove the set (zz-leftovers.sh checks).
shrink() {
    _size=$(shrink_to "$1" "$2")
    [ "$_size" -lt "$HEADER_SIZE" ] && sk_note_semset "/${2#/dev/shm/}"
    if command -v truncate >/dev/null 2>&1; then
        truncate -s "$_size" "$2"
    else
        perl -e 'truncate($ARGV[0], $ARGV[1]) or die "$!\n"' "$2" "$_size"
    fi
}

# expect_truncated DESC PID START: PID ends with status 5 and the message,
# within about a second of the truncation at START (date +%s); then the
# shrunk segment ($s) can still be removed.
expect_truncated() {
    sk_wait "$2"
    _status=$?
    _took=$(($(date +%s) - $3))
    tap_is "$_status" 5 "$1: exit status 5 (not 135, SIGBUS)"
    tap_like "$(cat "$TAP_TMP/err")" 'segment truncated' "$1: says the segment was truncated"
    if [ "$_took" -le 3 ]; then
        tap_pass "$1: within about a second"
    else
        tap_fail "$1: within about a second"
        tap_diag "took $_took s"
    fi
    tap_cmd "$1: shmkit rm removes it" 0 - - "$SHMKIT" rm "$s"
}

# started FILE: the follower printed its first line.
started() {
    [ -s "$1" ]
}

# ring_full SPEC: shmkit info says the ring is full.
ring_full() {
    _cap=$(sk_info_field "$1" capacity)
    [ "$(sk_info_field "$1" used)" = "$_cap of $_cap bytes (100.0%)" ]
}

n=0
for how in zero header half; do
    # A slot follower, idle: nothing is published after the truncation.
    s=$(sk_spec posix $n)
    f=$(sk_posix_file $n)
    n=$((n + 1))
    "$WRITE" -s 12000 "$s" </dev/null
    "$WRITE" "$s"
    : >"$TAP_TMP/out"
    "$READ" -f -t 30 --hex "$s" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 100 started "$TAP_TMP/out"
    start=$(date +%s)
    shrink "$how" "$f"
    expect_truncated "slot follower, $how" $pid "$start"

    # A block-ring consumer and an overwrite-ring reader, idle.
    for policy in block overwrite; do
        s=$(sk_spec posix $n)
        f=$(sk_posix_file $n)
        n=$((n + 1))
        if [ $policy = block ]; then
            echo first | "$WRITE" --ring 16k "$s"
            set -- "$s"
        else
            echo first | "$WRITE" --ring 16k --overwrite "$s"
            set -- --from-oldest "$s"
        fi
        : >"$TAP_TMP/out"
        "$READ" -f -t 30 "$@" >"$TAP_TMP/out" 2>"$TAP_TMP/err" &
        pid=$!
        sk_track $pid
        sk_wait_until 100 started "$TAP_TMP/out"
        start=$(date +%s)
        shrink "$how" "$f"
        expect_truncated "$policy ring follower, $how" $pid "$start"
    done

    # A writer waiting for space in a full block ring.
    s=$(sk_spec posix $n)
    f=$(sk_posix_file $n)
    n=$((n + 1))
    "$WRITE" --ring 16k "$s" </dev/null
    sk_seq 1 5000 | "$WRITE" -t 30 "$s" 2>"$TAP_TMP/err" &
    pid=$!
    sk_track $pid
    sk_wait_until 100 ring_full "$s"
    start=$(date +%s)
    shrink "$how" "$f"
    expect_truncated "writer waiting for space, $how" $pid "$start"
done

sk_check_no_leftovers
tap_done
