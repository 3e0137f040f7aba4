#!/bin/sh
# error-lists.sh - every library error code of src/shmkit.h (its one list,
# SHMKIT_ERRNO_MAP, from which the enum and the library's texts and names
# are made) is described where users and tests look for it:
# shmkit_strerror(3) with its value and text, the ERRORS of shmkit(3), and
# tests/check_errors.c (which pins each code's value and name).
# shmkit_strerror(3) once omitted SHMKIT_EOWNER.  (TAP, POSIX sh.)
#
# Copyright (c) 2026 The shmkit authors.
# SPDX-License-Identifier: BSD-2-Clause

: "${top_srcdir:=.}"
. "$top_srcdir/tests/tap.sh"

header=$top_srcdir/src/shmkit.h
strerror_page=$top_srcdir/doc/man/shmkit_strerror.3

# The entries of SHMKIT_ERRNO_MAP, XX(SHMKIT_ENAME, -VALUE, "text") (an
# entry may span lines), as "NAME<tab>VALUE<tab>text" lines.
map_entries() {
    awk '
        /^#define SHMKIT_ERRNO_MAP/ { on = 1 }
        on {
            line = $0
            more = sub(/\\[ \t]*$/, "", line)
            map = map " " line
            if (!more) on = 0
        }
        END {
            entry = "XX\\(SHMKIT_E[A-Z0-9]+, *-[0-9]+, *\"[^\"]*\"\\)"
            while (match(map, entry)) {
                e = substr(map, RSTART + 3, RLENGTH - 4)
                map = substr(map, RSTART + RLENGTH)
                n = index(e, ","); name = substr(e, 1, n - 1); e = substr(e, n + 1)
                n = index(e, ","); value = substr(e, 1, n - 1); text = substr(e, n + 1)
                sub(/^ */, "", value); sub(/^ *"/, "", text); sub(/"$/, "", text)
                print name "\t" value "\t" text
            }
        }' "$header"
}

# The paragraph of CODE under ERRORS in shmkit_strerror(3), on one line.
man_entry() {
    awk -v code="$1" '
        $0 == ".B " code { on = 1; next }
        on && /^\.(TP|SH)/ { exit }
        on { printf "%s ", $0 }' "$strerror_page"
}

entries=$(map_entries)
[ -n "$entries" ] || {
    echo "Bail out! no XX(SHMKIT_E*, ...) entries found in SHMKIT_ERRNO_MAP of src/shmkit.h"
    exit 1
}

tab=$(printf '\t')
while IFS=$tab read -r code value text; do
    for place in doc/man/shmkit_strerror.3 doc/man/shmkit.3 tests/check_errors.c; do
        if grep -q "$code\\b" "$top_srcdir/$place"; then
            tap_pass "$code in $place"
        else
            tap_fail "$code in $place"
        fi
    done
    # The man page gives the value and the text next to the name.
    value_text=$(printf '%s' "$value" | sed 's/^-/\\-/')
    if man_entry "$code" | grep -qF "($value_text) \\(dq$text\\(dq"; then
        tap_pass "$code has its value ($value) and text in shmkit_strerror.3"
    else
        tap_fail "$code has its value ($value) and text (\"$text\") in shmkit_strerror.3"
    fi
done <<EOF
$entries
EOF
tap_done
