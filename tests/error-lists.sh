#!/bin/sh
# error-lists.sh - every library error code of src/shmkit.h is described
# where users and tests look for it: shmkit_strerror(3), the ERRORS of
# shmkit(3), the table of src/error.c and tests/check_errors.c (which
# checks that each has its own text).  shmkit_strerror(3) once omitted
# SHMKIT_EOWNER.  (TAP, POSIX sh.)
#
# Copyright (c) 2026 The shmkit authors.
# SPDX-License-Identifier: BSD-2-Clause

: "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"

codes=$(sed -n 's/^ *\(SHMKIT_E[A-Z0-9]*\) *= *-\{0,1\}[0-9]*.*/\1/p' "$top_srcdir/src/shmkit.h")
[ -n "$codes" ] || {
    echo "Bail out! no SHMKIT_E* codes found in src/shmkit.h"
    exit 1
}

for code in $codes; do
    value=$(sed -n "s/^ *$code *= *\\(-[0-9]*\\).*/\\1/p" "$top_srcdir/src/shmkit.h")
    for place in doc/man/shmkit_strerror.3 doc/man/shmkit.3 src/error.c tests/check_errors.c; do
        if grep -q "$code\\b" "$top_srcdir/$place"; then
            tap_pass "$code in $place"
        else
            tap_fail "$code in $place"
        fi
    done
    # The man page gives the value next to the name.
    value_text=$(printf '%s' "$value" | sed 's/^-/\\\\-/')
    if grep -A1 "^\\.B $code\$" "$top_srcdir/doc/man/shmkit_strerror.3" |
        grep -q "($value_text)"; then
        tap_pass "$code has its value ($value) in shmkit_strerror.3"
    else
        tap_fail "$code has its value ($value) in shmkit_strerror.3"
    fi
done
tap_done
