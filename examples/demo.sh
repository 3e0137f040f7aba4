#!/bin/sh
# demo.sh BUILDDIR - the teaching demo ("make demo").
#
# Runs a writer and then a reader three ways: the classic raw System V
# programs, the same programs on libshmkit, and the command-line tools, and
# removes everything it created, even when interrupted.  Segment names are
# unique to the run.  Exits non-zero if any step does not behave as shown.
#
# BUILDDIR is where the programs were built (they may be libtool wrapper
# scripts); the script itself may live in another directory (VPATH builds).
#
# Copyright (c) 2026 The shmkit authors.
# SPDX-License-Identifier: BSD-2-Clause

set -u

builddir=${1:-.}
srcdir=$(cd "$(dirname "$0")/.." && pwd) || exit 1

RAW_WRITE=$builddir/examples/raw/write_struct
RAW_READ=$builddir/examples/raw/read_struct
LIB_WRITE=$builddir/examples/lib/write_struct
LIB_READ=$builddir/examples/lib/read_struct
SHMKIT_WRITE=$builddir/shmkit-write
SHMKIT_READ=$builddir/shmkit-read
SHMKIT=$builddir/shmkit

for prog in "$LIB_WRITE" "$LIB_READ" "$SHMKIT_WRITE" "$SHMKIT_READ" "$SHMKIT"; do
    if [ ! -x "$prog" ]; then
        echo "demo.sh: $prog is missing: run 'make demo' (or 'make' first)" >&2
        exit 1
    fi
done

# The layout of struct weather, taken from the header so it cannot drift.
LAYOUT=$(sed -n 's/^ *"\(station:[^"]*\)"$/\1/p' "$srcdir/examples/weather.h")
if [ -z "$LAYOUT" ]; then
    echo "demo.sh: cannot find WEATHER_LAYOUT in $srcdir/examples/weather.h" >&2
    exit 1
fi

# Names unique to this run.  System V keys come from ftok on a file of our
# own, as in the classic demo; project ids 42-44 keep them away from the
# key ranges of the test suite.
FTOK_FILE=$(mktemp "${TMPDIR:-/tmp}/shmkit-demo.XXXXXX") || exit 1
PROJ=42
RAW_SPEC=sysv:$FTOK_FILE:$PROJ
LIB_SPEC='' CLI_SPEC=''

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    # shmkit rm removes any segment, shmkit's or not; -f: missing is fine.
    "$SHMKIT" rm -f "$RAW_SPEC" ${LIB_SPEC:+"$LIB_SPEC"} ${CLI_SPEC:+"$CLI_SPEC"} >/dev/null 2>&1
    rm -f "$FTOK_FILE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# has_backend SPEC: the build supports SPEC's backend (SPEC need not exist).
has_backend() {
    ! "$SHMKIT" info "$1" 2>&1 | grep 'backend not available' >/dev/null
}
have_sysv=no
has_backend "$RAW_SPEC" && have_sysv=yes
if has_backend "/weather-demo.$$"; then
    LIB_SPEC=/weather-demo.$$
    CLI_SPEC=/weather-cli.$$
else
    LIB_SPEC=sysv:$FTOK_FILE:43
    CLI_SPEC=sysv:$FTOK_FILE:44
fi
if [ "$have_sysv" = yes ] && { [ ! -x "$RAW_WRITE" ] || [ ! -x "$RAW_READ" ]; }; then
    echo "demo.sh: $RAW_WRITE or $RAW_READ is missing: run 'make demo'" >&2
    exit 1
fi

heading() {
    printf '\n==== %s ====\n\n' "$*"
}

# quote ARG: ARG as a shell word, quoted only if it needs to be.
quote() {
    case $1 in
        *[!A-Za-z0-9_./:=,+@%-]* | '') printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")" ;;
        *) printf '%s' "$1" ;;
    esac
}

# run STATUS PROG [ARG...]: show the command as a user would type it (from
# the build directory), run it, and stop the demo unless it exits with
# STATUS.  Messages on stderr are shown in place.
run() {
    want=$1
    prog=$2
    shift 2
    line=${prog#"$builddir/"}
    for arg in "$@"; do
        line="$line $(quote "$arg")"
    done
    printf '$ %s\n' "$line"
    "$prog" "$@" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        printf 'demo.sh: FAILED: exit status %s, expected %s: %s\n' "$got" "$want" "$line" >&2
        exit 1
    fi
}

if [ "$have_sysv" = yes ]; then
    heading "1. The classic demo, done right: raw System V (ftok, shmget, shmat, shmdt, shmctl)"
    echo "write_struct puts a struct weather into a System V segment; read_struct"
    echo "checks the segment's size before attaching it read-only, and removes it."
    echo
    run 0 "$RAW_WRITE" -f "$FTOK_FILE" -p "$PROJ" -s 10384 -t 21.5 -n Tempelhof
    run 0 "$RAW_READ" -f "$FTOK_FILE" -p "$PROJ"
    echo
    echo "The library refuses that segment: it has no shmkit header (exit status 5)."
    run 5 "$SHMKIT" info "$RAW_SPEC"
    run 0 "$RAW_READ" -f "$FTOK_FILE" -p "$PROJ" --remove
else
    heading "1. The classic demo: skipped, this build has no System V backend"
fi

heading "2. The same programs on libshmkit"
echo "A slot with a validated header, a version number and torn-read-free reads."
echo
run 0 "$LIB_WRITE" -s 10384 -t 21.5 -n Tempelhof "$LIB_SPEC"
run 0 "$LIB_READ" "$LIB_SPEC"

heading "3. The tools on the slot the C program wrote"
echo "The layout in the header lets the tools decode and update the C struct."
echo
run 0 "$SHMKIT_READ" "$LIB_SPEC"
run 0 "$SHMKIT_WRITE" "$LIB_SPEC" temp_c=19.75 samples=13
run 0 "$SHMKIT_READ" --json "$LIB_SPEC"
run 0 "$LIB_READ" "$LIB_SPEC"
run 0 "$SHMKIT" info "$LIB_SPEC"
run 0 "$SHMKIT" rm "$LIB_SPEC"

heading "4. A slot made with the tools alone"
run 0 "$SHMKIT_WRITE" -L "$LAYOUT" "$CLI_SPEC" station=10865 temp_c=-3.5 \
    pressure_hpa=1021.5 wind=12,40,0 name=Brocken
run 0 "$SHMKIT_READ" "$CLI_SPEC"
run 0 "$SHMKIT_READ" --json "$CLI_SPEC"
echo
echo "The C reader reads it too: same layout, same struct."
run 0 "$LIB_READ" --remove "$CLI_SPEC"
echo
echo "Removed; reading it again reports it missing (exit status 3)."
run 3 "$SHMKIT_READ" "$CLI_SPEC"

heading "Done: every segment of the demo has been removed"
exit 0
