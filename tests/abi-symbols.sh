#!/bin/sh
# abi-symbols.sh - ABI guard: the shared library exports exactly the public
# API, no more and no less.  (TAP, POSIX sh.)
#
# Three lists must agree:
#   - the functions src/shmkit.h declares with SHMKIT_API (the contract),
#   - the symbols src/libshmkit.map exports (the version script),
#   - the symbols the built .libs/libshmkit.so really exports
#     (nm -D --defined-only).
# A helper that lost its "static", a SHMKIT_API forgotten on a new function
# or a map entry without a declaration each fail one of the tests below.
# Where the symbols carry versions, each must carry the node the map puts
# it in, so that a symbol never moves between version nodes.
#
# Skipped where there is no ELF shared library to inspect (--disable-shared,
# macOS) or no nm.  $NM overrides the nm program.
#
# Copyright (c) 2026 The shmkit authors.
# SPDX-License-Identifier: BSD-2-Clause

: "${top_srcdir:=.}" "${top_builddir:=.}"
header=$top_srcdir/src/shmkit.h
map=$top_srcdir/src/libshmkit.map
lib=$top_builddir/.libs/libshmkit.so
nm_prog=${NM:-nm}

skip_all() {
    echo "1..0 # SKIP $1"
    exit 0
}

[ -f "$lib" ] || skip_all "no shared library $lib (static-only build or not ELF)"
# $NM may hold options ("nm -B"), so it is split on purpose.
# shellcheck disable=SC2086
$nm_prog -D --defined-only "$lib" >/dev/null 2>&1 ||
    skip_all "'$nm_prog -D --defined-only' does not work here"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-abi.XXXXXX") || {
    echo "Bail out! cannot create a scratch directory"
    exit 1
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

count=0
failures=0
pass() { count=$((count + 1)); echo "ok $count - $1"; }
fail() { count=$((count + 1)); failures=$((failures + 1)); echo "not ok $count - $1"; }
# diag_file TITLE FILE: show FILE's lines as TAP diagnostics.
diag_file() {
    echo "# $1"
    sed 's/^/#   /' "$2"
}
# same A B DESC ONLY_A ONLY_B: pass if sorted lists A and B are equal,
# else name what is only in one of them.
same() {
    comm -23 "$1" "$2" >"$tmp/only-a"
    comm -13 "$1" "$2" >"$tmp/only-b"
    if [ -s "$tmp/only-a" ] || [ -s "$tmp/only-b" ]; then
        fail "$3"
        [ -s "$tmp/only-a" ] && diag_file "$4:" "$tmp/only-a"
        [ -s "$tmp/only-b" ] && diag_file "$5:" "$tmp/only-b"
    else
        pass "$3"
    fi
}

echo "1..5"

# --- 1. the public API from the header ----------------------------------
# Every declaration starts a line with SHMKIT_API; the function name is the
# identifier before the first "(", which may follow on a later line when
# the return type stands alone on the first.
awk '
    /^[ \t]*SHMKIT_API[ \t]/ { decl = ""; open = 1; declared++ }
    open { decl = decl " " $0 }
    open && /\(/ {
        sub(/\(.*/, "", decl)
        n = split(decl, words, /[ \t*]+/)
        print words[n]
        open = 0
    }
    END { print declared > "/dev/stderr" }
' "$header" 2>"$tmp/declared" | LC_ALL=C sort >"$tmp/api"
declared=$(cat "$tmp/declared")
grep -v -E '^shmkit_[a-z0-9_]+$' "$tmp/api" >"$tmp/bad-names"
names=$(LC_ALL=C sort -u "$tmp/api" | wc -l | tr -d ' ')
if [ "$declared" -gt 0 ] && [ "$names" -eq "$declared" ] && [ ! -s "$tmp/bad-names" ]; then
    pass "shmkit.h declares $declared public functions, each named shmkit_*"
else
    fail "shmkit.h declares $declared public functions, each named shmkit_*"
    echo "# $declared SHMKIT_API declarations, $names distinct names"
    [ -s "$tmp/bad-names" ] && diag_file "names outside shmkit_*:" "$tmp/bad-names"
fi

# --- 2. the version script against the header ---------------------------
# "name node" pairs from the global: parts of the map's version nodes.
awk '
    { sub(/#.*/, "") }
    /^[ \t]*\/\*/, /\*\// { next }
    /^[ \t]*[A-Za-z_][A-Za-z0-9_.]*[ \t]*\{/ { node = $1; sub(/\{.*/, "", node); scope = "global"; next }
    /^[ \t]*\}/ { node = ""; next }
    /^[ \t]*global:/ { scope = "global"; next }
    /^[ \t]*local:/ { scope = "local"; next }
    node != "" && scope == "global" && /^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]*;/ {
        name = $1; sub(/;.*/, "", name); print name, node
    }
' "$map" | LC_ALL=C sort >"$tmp/map-versioned"
cut -d' ' -f1 "$tmp/map-versioned" | LC_ALL=C sort >"$tmp/map"
same "$tmp/api" "$tmp/map" \
    "libshmkit.map exports exactly the functions shmkit.h declares" \
    "declared in shmkit.h but missing from libshmkit.map" \
    "in libshmkit.map but not declared with SHMKIT_API in shmkit.h"

# --- 3 and 4. the built library against the header ----------------------
# nm lines are "VALUE TYPE NAME[@@NODE]"; linker-made absolute symbols
# (type A) name the version nodes themselves, and a few symbols are made by
# the linker when no version script hides them.
# shellcheck disable=SC2086
$nm_prog -D --defined-only "$lib" | awk '
    NF >= 3 && $2 != "A" { sub(/@@/, "@", $3); print $3 }
' | grep -v -E '^(_init|_fini|_edata|_end|__bss_start|_etext|_DYNAMIC|_GLOBAL_OFFSET_TABLE_)(@.*)?$' |
    LC_ALL=C sort >"$tmp/exported-versioned"
sed 's/@.*//' "$tmp/exported-versioned" | LC_ALL=C sort -u >"$tmp/exported"
comm -23 "$tmp/exported" "$tmp/api" >"$tmp/unintended"
comm -13 "$tmp/exported" "$tmp/api" >"$tmp/missing"
if [ -s "$tmp/unintended" ]; then
    fail "libshmkit.so exports nothing outside the public API"
    diag_file "exported but not declared with SHMKIT_API in shmkit.h:" "$tmp/unintended"
else
    pass "libshmkit.so exports nothing outside the public API"
fi
if [ -s "$tmp/missing" ]; then
    fail "libshmkit.so exports every public function"
    diag_file "declared in shmkit.h but not exported:" "$tmp/missing"
else
    pass "libshmkit.so exports every public function"
fi

# --- 5. symbol versions --------------------------------------------------
if grep '@' "$tmp/exported-versioned" >/dev/null; then
    tr ' ' '@' <"$tmp/map-versioned" | LC_ALL=C sort >"$tmp/map-at"
    same "$tmp/map-at" "$tmp/exported-versioned" \
        "every exported symbol carries the version node libshmkit.map gives it" \
        "expected by libshmkit.map (name@node)" \
        "exported by libshmkit.so (name@node)"
else
    echo "ok 5 - every exported symbol carries the version node libshmkit.map gives it # SKIP the library was linked without the version script"
    count=$((count + 1))
fi

[ "$failures" -eq 0 ]
