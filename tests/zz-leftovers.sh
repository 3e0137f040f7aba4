#!/bin/sh
# Runs after every other test (see Makefile.am): the suite must leave no
# shared memory behind.  Test segments are named /skt*.* (POSIX, with the
# pid of the test in the name) and use System V keys 0x40000000-0x5fffffff
# that encode the test's pid too (tests/testutil.c, tests/tap.sh,
# tests/examples.sh).  A segment counts as left behind once both the test
# process and the creating process have exited; segments of processes
# still running belong to a concurrent test run on the same machine.
echo "1..2"

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
