#!/bin/sh
# cli-fds.sh - every program started with standard input, output or error
# closed (issue 11, item 3).  shmkit 0.1 let the library's O_RDWR
# descriptor become fd 1 of "shmkit-read -f /x >&-", and the program's
# output went into the segment.  Now the programs open /dev/null on a
# closed 0, 1 or 2 first thing, and the library never keeps a descriptor
# below 3: each run must exit with its documented status and leave the
# segment intact (read again afterwards).
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

# A wrapper such as valgrind (SHMKIT_TEST_WRAPPER) opens its log file on
# the lowest free descriptor, which is the closed one, and the program
# then writes into the wrapper's log: the test would check the wrapper.
# What a program does with a closed descriptor is its own business, so
# these runs use the plain programs.
WRITE=$SK_PLAIN_WRITE READ=$SK_PLAIN_READ SHMKIT=$SK_PLAIN_SHMKIT

# intact_slot SPEC WHAT: the slot still holds id=7 temp=21.5.
intact_slot() {
    tap_cmd "$2: the slot is intact afterwards" 0 "^temp=21.5$" - "$READ" "$1"
}

# intact_ring SPEC WHAT: the overwrite ring still holds "hello" and
# "world" and nothing else.
intact_ring() {
    "$READ" -f -n 2 -t 5 --from-oldest "$1" >"$TAP_TMP/ring" 2>&1
    tap_is "$(sk_flat "$TAP_TMP/ring")" "hello world " "$2: the overwrite ring is intact afterwards"
    tap_is "$(sk_info_field "$1" messages)" 2 "$2: the ring holds its 2 messages"
}

# run_closed FD STATUS WHAT CMD...: run CMD with FD closed (0, 1 or 2);
# passes if it exits with STATUS.
run_closed() {
    _fd=$1 _want=$2 _what=$3
    shift 3
    case $_fd in
        0) "$@" <&- >"$TAP_TMP/o" 2>"$TAP_TMP/e" ;;
        1) "$@" >&- 2>"$TAP_TMP/e" ;;
        2) "$@" 2>&- >"$TAP_TMP/o" ;;
    esac
    tap_is $? "$_want" "$_what: exit status $_want"
}

fd_tests() {
    be=$1 fd=$2
    slot=$(sk_spec "$be" 0)
    ow=$(sk_spec "$be" 1)
    block=$(sk_spec "$be" 2)
    tag="$be: fd $fd closed"

    run_closed "$fd" 0 "$tag: shmkit-write creates a slot" \
        "$WRITE" -L 'id:u32 temp:f64' "$slot" id=7 temp=21.5
    intact_slot "$slot" "$tag: shmkit-write"
    run_closed "$fd" 0 "$tag: shmkit-write updates a slot" "$WRITE" "$slot" id=7
    intact_slot "$slot" "$tag: shmkit-write update"
    run_closed "$fd" 0 "$tag: shmkit-read of a slot" "$READ" "$slot"
    intact_slot "$slot" "$tag: shmkit-read"
    # -f until -t: it prints, waits and (2>&-) reports the timeout.
    run_closed "$fd" 4 "$tag: shmkit-read -f of a slot" "$READ" -f -t 0.3 "$slot"
    intact_slot "$slot" "$tag: shmkit-read -f"

    printf 'hello\nworld\n' | "$WRITE" --ring 4k --overwrite "$ow"
    # With stdin closed (/dev/null) the writer sends nothing.
    run_closed "$fd" 0 "$tag: shmkit-write to an overwrite ring" "$WRITE" "$ow"
    intact_ring "$ow" "$tag: shmkit-write"
    run_closed "$fd" 0 "$tag: shmkit-read of an overwrite ring" "$READ" "$ow"
    intact_ring "$ow" "$tag: shmkit-read"
    run_closed "$fd" 4 "$tag: shmkit-read -f of an overwrite ring" \
        "$READ" -f -t 0.3 --from-oldest "$ow"
    intact_ring "$ow" "$tag: shmkit-read -f"

    printf 'a\nb\n' | "$WRITE" --ring 4k "$block"
    run_closed "$fd" 0 "$tag: shmkit-read -f -n 2 of a block ring" "$READ" -f -n 2 "$block"
    tap_is "$(sk_info_field "$block" used)" "0 of 4096 bytes (0.0%)" \
        "$tag: the block ring was consumed"
    tap_cmd "$tag: the block ring is intact afterwards" 0 "^kind: ring$" - "$SHMKIT" info "$block"

    run_closed "$fd" 0 "$tag: shmkit info" "$SHMKIT" info "$slot"
    run_closed "$fd" 0 "$tag: shmkit ls" "$SHMKIT" ls "$slot" "$ow"
    intact_slot "$slot" "$tag: shmkit info and ls"
    run_closed "$fd" 0 "$tag: shmkit rm" "$SHMKIT" rm "$slot" "$ow" "$block"
    tap_cmd "$tag: shmkit rm removed them" 3 - "no such segment" "$SHMKIT" info "$slot"
    # Errors still end with their status: no such segment.
    run_closed "$fd" 3 "$tag: shmkit-read of a missing segment" "$READ" "$slot"
    run_closed "$fd" 3 "$tag: shmkit info of a missing segment" "$SHMKIT" info "$slot"
    sk_remove_all
}

for be in $SK_BACKENDS; do
    for fd in 0 1 2; do
        fd_tests "$be" "$fd"
    done
done

# All three closed at once: output goes nowhere, the segment stays.
s=$(sk_spec posix 3)
[ "$SHMKIT_HAVE_POSIX" = yes ] || s=$(sk_spec sysv 3)
"$WRITE" -L 'id:u32 temp:f64' "$s" id=7 temp=21.5
"$READ" -f -t 0.3 "$s" <&- >&- 2>&-
tap_is $? 4 "0, 1 and 2 closed: shmkit-read -f ends with 4"
intact_slot "$s" "0, 1 and 2 closed"
sk_remove_all

sk_check_no_leftovers
tap_done
