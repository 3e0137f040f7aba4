#!/bin/sh
# The static archive defines no global name outside the library's
# prefixes: public functions are shmkit_*, internal ones shmkit__* (two
# underscores), so that an application linking libshmkit.a cannot collide
# with them (an internal "sk_fail" could).  $NM overrides the nm program.
# SPDX-License-Identifier: BSD-2-Clause

: "${top_builddir:=.}"
lib=$top_builddir/.libs/libshmkit.a
nm_prog=${NM:-nm}

if [ ! -f "$lib" ]; then
    echo "1..0 # SKIP no static archive $lib (--disable-static)"
    exit 0
fi
# shellcheck disable=SC2086
if ! $nm_prog -g "$lib" >/dev/null 2>&1; then
    echo "1..0 # SKIP '$nm_prog -g' cannot read $lib"
    exit 0
fi

echo "1..2"
# Defined global symbols: "ADDRESS TYPE NAME" with an upper-case type that
# is not U (undefined); macOS prefixes C names with "_".
# shellcheck disable=SC2086
names=$($nm_prog -g "$lib" 2>/dev/null |
    awk 'NF == 3 && $2 ~ /^[A-TV-Z]$/ { n = $3; sub(/^_/, "", n); print n }' | sort -u)
if [ -n "$names" ]; then
    echo "ok 1 - the archive defines global symbols ($(echo "$names" | wc -l | tr -d ' '))"
else
    echo "not ok 1 - the archive defines global symbols"
fi
# ASan adds a twin "_odr_asan.NAME" of each global variable NAME.
stray=$(echo "$names" | grep -v -e '^shmkit_' -e '^_*odr_asan\.shmkit_' || true)
if [ -z "$stray" ]; then
    echo "ok 2 - every global symbol of libshmkit.a starts with shmkit_"
else
    echo "not ok 2 - global symbols outside the shmkit_ prefix in libshmkit.a:"
    echo "$stray" | sed 's/^/# /'
fi
