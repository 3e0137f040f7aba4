#!/bin/sh
# model.sh - model-check the wait/notify protocol (tests/model/wait.pml)
# and the join of a block ring's consumer (tests/model/join.pml) with Spin: the old protocol of shmkit 0.1 (a one-bit wake request) must
# give an error trail -- the lost wake-up of issue 11 -- and the protocol
# of src/wait.c (a generation counter) none, for slot readers sharing a
# request and for both directions of a block ring, with the futex-style
# compare-and-sleep mechanisms and with System V semaphores.
#
# Needs spin (Debian package "spin") and a C compiler for the verifier it
# generates; without them the tests are skipped.  SHMKIT_MODEL_FULL=1 also
# runs the larger configurations (about 20 s more).
#
# SPDX-License-Identifier: BSD-2-Clause

: "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"

# Spin and its verifier write next to the model: work on copies.
cp "$top_srcdir/tests/model/wait.pml" "$top_srcdir/tests/model/join.pml" "$TAP_TMP/" || {
    echo "Bail out! cannot copy tests/model/*.pml"
    exit 1
}
model=wait.pml

cc=
for c in ${SHMKIT_MODEL_CC:-} cc gcc clang; do
    if command -v "$c" >/dev/null 2>&1; then
        cc=$c
        break
    fi
done

# check DESC WANT DEFINES...: generate the verifier for the model with the
# given -D options, run an exhaustive safety search (assertions and
# invalid end states), and pass if the number of errors is WANT ("0", or
# "some": an error trail is expected).
check() {
    _desc=$1 _want=$2
    shift 2
    rm -f "$TAP_TMP"/pan* "$TAP_TMP/$model.trail"
    if ! (cd "$TAP_TMP" && spin "$@" -a "$model") >"$TAP_TMP/spin.log" 2>&1 ||
        ! (cd "$TAP_TMP" && "$cc" -O1 -DSAFETY -DCOLLAPSE -o pan pan.c) \
            >"$TAP_TMP/cc.log" 2>&1; then
        tap_fail "$_desc"
        tap_diag "could not build the verifier ($*):" \
            "$(cat "$TAP_TMP/spin.log" "$TAP_TMP/cc.log")"
        return
    fi
    # -m: depth bound (the deepest runs here are ~160 steps); -w: hash table.
    (cd "$TAP_TMP" && ./pan -m20000 -w22) >"$TAP_TMP/pan.log" 2>&1
    _errors=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' "$TAP_TMP/pan.log")
    _summary=$(grep -E 'errors:|states, stored|violated|invalid end state \(|pan: elapsed' \
        "$TAP_TMP/pan.log")
    if [ -z "$_errors" ]; then
        tap_fail "$_desc"
        tap_diag "pan gave no result ($*):" "$(cat "$TAP_TMP/pan.log")"
    elif [ "$_want" = some ] && [ "$_errors" -gt 0 ] && [ -f "$TAP_TMP/$model.trail" ]; then
        tap_pass "$_desc"
        tap_diag "$*:" "$_summary"
        # The error trail, shared-memory and kernel steps only: who asked,
        # who published and consumed the request, who fell asleep.
        tap_diag "trail (step, process, action):"
        (cd "$TAP_TMP" && spin "$@" -t -p "$model" 2>&1) |
            grep -E '\[(req|word|sleeping_on|sem_asleep|gen)\[[^]]*\] = ' |
            sed -e 's/^ *\([0-9]*\):[[:space:]]*proc *\([0-9]*\) (\([a-z_]*\)[^[]*\[\(.*\)\]$/    \1 \3(\2) \4/' |
            while IFS= read -r line; do tap_diag "$line"; done
    elif [ "$_want" = 0 ] && [ "$_errors" -eq 0 ] &&
        grep -q 'Full statespace search' "$TAP_TMP/pan.log" &&
        ! grep -q 'Search not completed' "$TAP_TMP/pan.log"; then
        tap_pass "$_desc"
        tap_diag "$*:" "$_summary"
    else
        tap_fail "$_desc"
        tap_diag "expected errors: $_want ($*):" "$(cat "$TAP_TMP/pan.log")"
    fi
}

if ! command -v spin >/dev/null 2>&1; then
    tap_skip "wait protocol model" "spin is not installed (Debian package spin)"
    tap_done
fi
if [ -z "$cc" ]; then
    tap_skip "wait protocol model" "no C compiler (cc, gcc, clang) for Spin's verifier"
    tap_done
fi
tap_diag "$(spin -V 2>&1 | head -n 1)"

# The old protocol loses a wake-up: the interleaving of issue 11.
check "old protocol, 2 slot readers, futex: the lost wake-up is found" some \
    -DOLD=1 -DREADERS=2 -DRING=0
check "old protocol, 2 slot readers, sysv-sem: the lost wake-up is found" some \
    -DOLD=1 -DSEM=1 -DREADERS=2 -DRING=0
# One old build among new ones loses wake-ups too: hence format 2.0.
check "an old reader among new ones, futex: a lost wake-up is found" some \
    -DMIXED=1 -DREADERS=2 -DRING=0
# With one waiter per request (the two directions of a block ring) the old
# protocol did not lose wake-ups: the A-B-A needs a second waiter.
check "old protocol, block ring, both directions: no lost wake-up" 0 \
    -DOLD=1 -DREADERS=0 -DRING=1

# The new protocol.
check "new protocol, 3 slot readers, futex: no lost wake-up" 0 \
    -DREADERS=3 -DRING=0
check "new protocol, block ring, capacity 1, futex: no lost wake-up" 0 \
    -DREADERS=0 -DRING=1 -DCAPACITY=1
check "new protocol, block ring, capacity 2, futex: no lost wake-up" 0 \
    -DREADERS=0 -DRING=1 -DCAPACITY=2 -DMESSAGES=4
check "new protocol, 2 slot readers, sysv-sem: no lost wake-up" 0 \
    -DSEM=1 -DREADERS=2 -DRING=0
check "new protocol, block ring, sysv-sem: no lost wake-up" 0 \
    -DSEM=1 -DREADERS=0 -DRING=1
# A consumer joining a block ring afresh (doc/FORMAT.md 10.6): the writer
# never overwrites what it has not consumed; without the writer's second
# scan, or without the joiner's check of `oldest`, it would.
model=join.pml
check "join handshake, ring of 2 frames: never lapped" 0
check "join without the writer's second scan: lapped" some -DNO_RESCAN=1
check "join without the joiner's check of oldest: lapped" some -DNO_CHECK=1
model=wait.pml

if [ "${SHMKIT_MODEL_FULL:-0}" = 1 ]; then
    check "join handshake, ring of 3 frames, 8 messages: never lapped" 0 \
        -DCAP=3 -DMESSAGES=8
    check "new protocol, 3 slot readers, 3 versions, futex: no lost wake-up" 0 \
        -DREADERS=3 -DRING=0 -DVERSIONS=3
    check "new protocol, 3 slot readers, sysv-sem: no lost wake-up" 0 \
        -DSEM=1 -DREADERS=3 -DRING=0
else
    tap_skip "larger configurations" "set SHMKIT_MODEL_FULL=1 to run them"
fi
tap_done
