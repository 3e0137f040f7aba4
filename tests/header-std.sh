#!/bin/sh
# header-std.sh - the installed headers (<shmkit.h> and the configured
# <shmkit-version.h> it includes) compile alone, as an application sees
# them, under every C standard from C89 to C17 and every C++ standard from
# C++98 to C++17, with -pedantic-errors: SHMKIT_ERRNO_MAP must make an
# enum without a trailing comma (C89, C++98), and an application can
# expand it itself.  $CC and $CXX choose the compilers (default cc and
# c++); a standard a compiler does not know is skipped.  (TAP, POSIX sh.)
#
# Copyright (c) 2026 The shmkit authors.
# SPDX-License-Identifier: BSD-2-Clause

: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/tap.sh"

cc=${CC:-cc}
cxx=${CXX:-c++}

# The two headers alone in a directory, as "make install" puts them.
mkdir "$TAP_TMP/include"
cp "$top_srcdir/src/shmkit.h" "$top_builddir/src/shmkit-version.h" "$TAP_TMP/include/" || {
    echo "Bail out! cannot copy the headers (is src/shmkit-version.h configured?)"
    exit 1
}

cat >"$TAP_TMP/app.c" <<'APP'
#include <shmkit.h>

#define NAME_CASE(name, value, text) case name: return #name;
static const char *name_of(int code)
{
    switch (code) {
    SHMKIT_ERRNO_MAP(NAME_CASE)
    default: return "unknown";
    }
}

int main(void)
{
    enum shmkit_errcode busy = SHMKIT_EBUSY;
    return name_of(busy)[0] == 'S' && SHMKIT_VERSION_NUMBER >= 0 ? 0 : 1;
}
APP
cp "$TAP_TMP/app.c" "$TAP_TMP/app.cc"

# compiles COMPILER STD SOURCE: one test, skipped where COMPILER does not
# take -std=STD at all.
compiles() {
    if ! printf 'int x;\n' >"$TAP_TMP/empty.$3" ||
        ! $1 -std="$2" -c "$TAP_TMP/empty.$3" -o "$TAP_TMP/empty.o" >/dev/null 2>&1; then
        tap_skip "the headers compile as $2" "$1 does not take -std=$2"
        return
    fi
    tap_cmd "the headers compile as $2 ($1 -pedantic-errors -Werror)" 0 '' '' \
        $1 -std="$2" -pedantic-errors -Wall -Wextra -Werror -I"$TAP_TMP/include" \
        -c "$TAP_TMP/app.$3" -o "$TAP_TMP/app.o"
}

for std in c89 c99 c11 c17; do
    compiles "$cc" "$std" c
done
for std in c++98 c++11 c++14 c++17; do
    compiles "$cxx" "$std" cc
done
tap_done
