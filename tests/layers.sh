#!/bin/sh
# layers.sh - the library's modules form layers with no cycles (TAP,
# POSIX sh, awk, sed and nm).
#
# The include graph comes from the '#include "..."' lines of src/*.c and
# src/*.h; the call graph from the object files of libshmkit-core: a
# global symbol that one module's object leaves undefined and another's
# defines is an edge between the two.  src/tools/ is not the library.
#
# Every edge must go down the layer table below or stay within a layer,
# and the graph (includes and calls together) must have no cycle.  A new
# source file gets a line in the table; a module that needs one of a
# higher layer is a design question, not a table edit.
#
# Run by hand from a built tree:  top_srcdir=. top_builddir=. sh tests/layers.sh
#
# Copyright (c) 2026 The shmkit authors.
# SPDX-License-Identifier: BSD-2-Clause

: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/tap.sh"

# The layers, bottom up: module, layer, its files in src/ (shell patterns).
#  0  definitions every module may use: the public API, the shared
#     format, the atomics
#  1  building blocks: errors, processes and time, racy copies, test
#     hooks, the SIGBUS registry, lease holders across fork(), escaping
#  2  specs ("/NAME", "sysv:KEY")
#  3  plain OS mechanisms: the backends' operations table and the
#     backends (they report size, owner and identity, and decide
#     nothing), the wait mechanisms
#  4  the segment header and the record layout language
#  5  segments (owner rule, owned removal, wait resources' teardown) and
#     leases
#  6  the two kinds, slot and ring, and the open path they share
#     (handle)
#  7  whole-segment operations: shmkit_info, shmkit_unlink
#  8  internal.h, the umbrella header for the unit tests: no library
#     file includes it
layer_table='
base     0  shmkit*.h format.h atomics.h
error    1  error*.c error*.h
proc     1  proc.c proc.h
copy     1  copy.c copy.h
hooks    1  hooks.c hooks.h
fault    1  fault.c fault.h
holder   1  holder.c holder.h
escape   1  escape.c escape.h
spec     2  spec.c spec.h
backend  3  backend.h
posix    3  seg_posix*.c seg_posix*.h
sysv     3  seg_sysv*.c seg_sysv*.h
wait     3  wait*.c wait*.h
header   4  header.c header.h
layout   4  layout*.c layout*.h
segment  5  segment.c segment.h
lease    5  lease.c lease.h
slot     6  slot*.c slot*.h
ring     6  ring*.c ring*.h
handle   6  handle.c handle.h
info     7  info.c info.h
umbrella 8  internal.h
'

src=$top_srcdir/src
edges=$TAP_TMP/edges      # FROM TO EVIDENCE, one edge a line
unknown=$TAP_TMP/unknown
: >"$edges"
: >"$unknown"

# module_of FILE: the module of src/FILE (a base name), or "".
module_of() {
    printf '%s\n' "$layer_table" | while read -r mod lay pats; do
        [ -n "$mod" ] || continue
        for pat in $pats; do
            # shellcheck disable=SC2254
            case $1 in
                $pat) echo "$mod"; exit 0 ;;
            esac
        done
    done
}

# ---- the include graph ----------------------------------------------

for path in "$src"/*.c "$src"/*.h; do
    file=${path##*/}
    from=$(module_of "$file")
    if [ -z "$from" ]; then
        echo "src/$file" >>"$unknown"
        continue
    fi
    sed -n 's/^[ 	]*#[ 	]*include[ 	]*"\([^"]*\)".*/\1/p' "$path" |
    while read -r inc; do
        [ "$inc" = config.h ] && continue
        to=$(module_of "${inc##*/}")
        if [ -z "$to" ]; then
            echo "src/$inc (included by src/$file)" >>"$unknown"
        elif [ "$to" != "$from" ]; then
            echo "$from $to $file:#include\"$inc\""
        fi
    done >>"$edges"
done

if [ -s "$unknown" ]; then
    tap_fail "every file of src/ has a module in the layer table"
    sort -u "$unknown" | sed 's/^/not in the table: /' | tap_diag "$(cat)"
else
    tap_pass "every file of src/ has a module in the layer table"
fi

# ---- the call graph ---------------------------------------------------

# libtool keeps the object of a source in .libs/ (shared) or next to the
# .lo (static only).
objects=
for lo in "$top_builddir"/src/libshmkit_core_la-*.lo; do
    [ -f "$lo" ] || continue
    base=${lo%.lo}
    dir=${base%/*}
    name=${base##*/}
    if [ -f "$dir/.libs/$name.o" ]; then
        objects="$objects $dir/.libs/$name.o"
    elif [ -f "$base.o" ]; then
        objects="$objects $base.o"
    fi
done

calls=no
if [ -z "$objects" ]; then
    tap_skip "calls go down the layers" "no objects of libshmkit-core in $top_builddir/src"
elif ! command -v nm >/dev/null 2>&1; then
    tap_skip "calls go down the layers" "nm not found"
else
    calls=yes
    symbols=$TAP_TMP/symbols   # MODULE TYPE SYMBOL
    : >"$symbols"
    for o in $objects; do
        name=${o##*/libshmkit_core_la-}
        name=${name%.o}.c
        mod=$(module_of "$name")
        [ -n "$mod" ] || { echo "src/$name" >>"$unknown"; continue; }
        nm -P -g "$o" | awk -v mod="$mod" 'NF >= 2 { print mod, $2, $1 }' >>"$symbols"
    done
    awk '
        $2 != "U" { def[$3] = $1; next }
        { use[++n] = $1 " " $3 }
        END {
            for (i = 1; i <= n; i++) {
                split(use[i], f, " ")
                if ((f[2] in def) && def[f[2]] != f[1])
                    print f[1], def[f[2]], "calls:" f[2]
            }
        }' "$symbols" >>"$edges"
fi

# ---- the verdicts -----------------------------------------------------

# Edges whose target sits on a higher layer than their source.
upward() {
    printf '%s\n' "$layer_table" | awk -v kind="$1" '
        NR == FNR { if (NF >= 2) layer[$1] = $2; next }
        (kind == "include" && $3 !~ /^calls:/) || (kind == "call" && $3 ~ /^calls:/) {
            if (layer[$2] + 0 > layer[$1] + 0)
                print $1 " (layer " layer[$1] ") -> " $2 " (layer " layer[$2] "): " $3
        }' - "$edges" | sort -u
}

up=$(upward include)
if [ -z "$up" ]; then
    tap_pass "includes go down the layers"
else
    tap_fail "includes go down the layers"
    tap_diag "$up"
fi

if [ "$calls" = yes ]; then
    up=$(upward call)
    if [ -z "$up" ]; then
        tap_pass "calls go down the layers"
    else
        tap_fail "calls go down the layers"
        tap_diag "$up"
    fi
fi

# Cycles of the module graph (includes and calls together), by depth-first
# search: a back edge closes a cycle, printed with the evidence of each
# of its edges.
cycles=$(awk '
    !(($1 SUBSEP $2) in seen) {
        seen[$1, $2] = $3
        out[$1] = out[$1] " " $2
        node[$1] = 1; node[$2] = 1
    }
    function visit(v,    i, k, w, list, c, j) {
        state[v] = 1; stack[++depth] = v
        k = split(out[v], list, " ")
        for (i = 1; i <= k; i++) {
            w = list[i]
            if (state[w] == 1) {
                c = ""
                for (j = depth; stack[j] != w; j--) ;
                for (; j < depth; j++)
                    c = c stack[j] " -> " stack[j + 1] " (" seen[stack[j], stack[j + 1]] "); "
                print c v " -> " w " (" seen[v, w] ")"
            } else if (state[w] == 0) {
                visit(w)
            }
        }
        depth--; state[v] = 2
    }
    END { for (v in node) if (state[v] == 0) visit(v) }' "$edges")
if [ -z "$cycles" ]; then
    tap_pass "no cycle between modules"
else
    tap_fail "no cycle between modules"
    tap_diag "$cycles"
fi

tap_diag "$(awk '{ print $1 " -> " $2 }' "$edges" | sort -u | wc -l | tr -d ' ') module edges checked"
tap_done
