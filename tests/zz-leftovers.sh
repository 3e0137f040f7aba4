#!/bin/sh
# Runs after every other test (see Makefile.am): the suite must leave no
# shared memory behind.  Test segments are named /skt*.* (POSIX, with the
# pid of the test in the name) and use System V keys 0x40000000-0x5fffffff
# that encode the test's pid too (tests/testutil.c, tests/tap.sh,
# tests/examples.sh).  A segment counts as left behind once both the test
# process and the creating process have exited; segments of processes
# still running belong to a concurrent test run on the same machine.
#
# Test 3: the System V semaphore sets of --with-wait=sysv-sem builds (one
# per segment, doc/SECURITY.md).  An IPC_PRIVATE set names neither its
# segment nor its creator, so a set counts as left behind when it is ours
# (owner uid), has the 4 semaphores of a shmkit set, was created since
# this run of the suite began (tests/suite-start, made by "make check"
# before any test; ctime in /proc/sysvipc/sem), is at least
# SET_MIN_AGE seconds old, and no existing segment's header names it
# (tests/semid-of over /dev/shm and every System V key).  The age leaves
# out the sets of a concurrent run whose segments are being created or
# removed; a young set is looked at again once it is old enough.  Linux
# only (elsewhere no ctime of all sets at hand): skipped there.
echo "1..3"

alive() { kill -0 "$1" 2>/dev/null || [ -d "/proc/$1" ]; }

leaked=""
for f in $(ls /dev/shm 2>/dev/null | grep -E '^skt[a-z]*\.' || true); do
    # skt.PID.N, skt.cli.PID.N, skt.ex.PID.N, sktl.0000PID.X (check_portability's
    # longest names): the first all-digit part, without leading zeros.
    pid=$(echo "$f" | tr '.' '\n' | grep -m1 -E '^[0-9]+$' | sed 's/^0*\([0-9]\)/\1/' || true)
    if [ -z "$pid" ] || ! alive "$pid"; then
        leaked="$leaked $f"
    fi
done
if [ -z "$leaked" ]; then
    echo "ok 1 - no POSIX test segment left in /dev/shm"
else
    echo "not ok 1 - POSIX test segments left behind:"
    for f in $leaked; do echo "# $f"; done
fi

if command -v ipcs >/dev/null 2>&1; then
    me=$(id -un)
    # "ipcs -m" gives key and shmid; "ipcs -m -p" gives shmid and creator pid.
    ipcs -m -p 2>/dev/null | awk 'NR > 3 && $1 ~ /^[0-9]+$/ {print $1, $3}' > "${TMPDIR:-/tmp}/skt-cpid.$$"
    leaked=$(ipcs -m 2>/dev/null | awk -v me="$me" '$1 ~ /^0x[45]/ && $3 == me {print $1, $2}' |
        while read -r key id; do
            cpid=$(awk -v id="$id" '$1 == id {print $2}' "${TMPDIR:-/tmp}/skt-cpid.$$")
            k=$((key))
            case $key in
            0x4*) tpid=$(( (k - 0x40000000) >> 8 )) ;;
            *) tpid=$(( ((k - 0x50000000) >> 4) & 0xfffff )) ;;
            esac
            if { [ -z "$cpid" ] || ! alive "$cpid"; } && ! alive "$tpid"; then echo "$key"; fi
        done)
    rm -f "${TMPDIR:-/tmp}/skt-cpid.$$"
    if [ -z "$leaked" ]; then
        echo "ok 2 - no System V test segment left (ipcs -m)"
    else
        echo "not ok 2 - System V test segments left behind:"
        echo "$leaked" | sed 's/^/# /'
    fi
else
    echo "ok 2 # SKIP ipcs not available"
fi

# ---------------------------------------------------------------------
# 3: System V semaphore sets
# ---------------------------------------------------------------------
SET_MIN_AGE=10
SEMID_OF=${top_builddir:-.}/tests/semid-of
START_FILE=${top_builddir:-.}/tests/suite-start

# The sets named by the header of an existing segment, one per line.
named_sets() {
    set --
    for f in /dev/shm/*; do
        [ -f "$f" ] && set -- "$@" "/${f#/dev/shm/}"
    done
    # Keys are printed in decimal, as signed ints; key 0 (IPC_PRIVATE)
    # cannot be named, and shmkit never uses it.
    for k in $(awk 'NR > 1 && $1 != 0 {print $1}' /proc/sysvipc/shm 2>/dev/null); do
        set -- "$@" "sysv:$(printf '0x%08x' $((k & 0xffffffff)))"
    done
    [ $# -eq 0 ] || "$SEMID_OF" "$@"
}

# Prints "old SEMID" or "young SEMID AGE" for each set of ours since the
# start that no segment names.
unnamed_sets() {
    now=$(date +%s)
    awk -v me="$(id -u)" -v start="$start" \
        'NR > 1 && $4 == 4 && $5 == me && $10 >= start {print $2, $10}' /proc/sysvipc/sem |
        while read -r id ctime; do
            [ -n "$named" ] && echo "$named" | grep -x -F -e "$id" >/dev/null && continue
            age=$((now - ctime))
            if [ "$age" -ge "$SET_MIN_AGE" ]; then echo "old $id"; else echo "young $id $age"; fi
        done
}

# The unnamed sets of ours since the start, old enough to be judged; the
# young ones are judged after a wait (at most SET_MIN_AGE seconds).
left_sets() {
    candidates=$(awk -v me="$(id -u)" -v start="$start" \
        'NR > 1 && $4 == 4 && $5 == me && $10 >= start' /proc/sysvipc/sem)
    [ -n "$candidates" ] || return 0
    named=$(named_sets)
    found=$(unnamed_sets)
    youngest=$(echo "$found" | awk '$1 == "young" && (min == "" || $3 < min) {min = $3} END {print min}')
    if [ -n "$youngest" ]; then
        sleep $((SET_MIN_AGE - youngest))
        named=$(named_sets)
        found=$(unnamed_sets)
    fi
    echo "$found" | awk '$1 == "old" {print $2}'
}

if [ ! -r /proc/sysvipc/sem ]; then
    echo "ok 3 # SKIP no /proc/sysvipc/sem (Linux only): semaphore sets not checked"
elif [ ! -x "$SEMID_OF" ]; then
    echo "ok 3 # SKIP tests/semid-of not built: semaphore sets not checked"
elif ! start=$(cat "$START_FILE" 2>/dev/null) || [ -z "$start" ]; then
    echo "ok 3 # SKIP no $START_FILE (made by make check): semaphore sets not checked"
else
    leaked=$(left_sets)
    if [ -z "$leaked" ]; then
        echo "ok 3 - no System V semaphore set left behind (/proc/sysvipc/sem)"
    else
        echo "not ok 3 - System V semaphore sets left behind (ipcs -s -i ID; ipcrm -s ID):"
        for id in $leaked; do echo "# semid $id"; done
    fi
fi
