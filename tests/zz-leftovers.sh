#!/bin/sh
# Runs after every other test (see Makefile.am): the suite must leave no
# shared memory behind.  Test segments are named /skt.* (POSIX) and use
# System V keys 0x40000000-0x7fffffff (Check suites: 0x4..., CLI tests and
# examples: 0x5... and above).
echo "1..2"

left=$(ls /dev/shm 2>/dev/null | grep '^skt\.' || true)
if [ -z "$left" ]; then
    echo "ok 1 - no POSIX test segment left in /dev/shm"
else
    echo "not ok 1 - POSIX test segments left behind:"
    echo "$left" | sed 's/^/# /'
fi

if command -v ipcs >/dev/null 2>&1; then
    me=$(id -un)
    left=$(ipcs -m 2>/dev/null | awk -v me="$me" '$1 ~ /^0x[4-7]/ && $3 == me {print $1, $2}')
    if [ -z "$left" ]; then
        echo "ok 2 - no System V test segment left (ipcs -m)"
    else
        echo "not ok 2 - System V test segments left behind:"
        echo "$left" | sed 's/^/# /'
    fi
else
    echo "ok 2 # SKIP ipcs not available"
fi
