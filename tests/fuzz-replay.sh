#!/bin/sh
# fuzz-replay.sh - replay the committed fuzz corpus (tests/fuzz/corpus/)
# through every fuzz target, built without libFuzzer (tests/fuzz/replay.c):
# each input must run without a crash, an abort (a broken invariant) or a
# sanitizer report in sanitizer builds.  One result per target.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

corpus=$top_srcdir/tests/fuzz/corpus
for target in spec layout header reader; do
    dir=$corpus/$target
    files=$(find "$dir" -type f ! -name '.*' 2>/dev/null | wc -l | tr -d ' ')
    if [ "${files:-0}" -eq 0 ]; then
        tap_fail "$target: no seed corpus in $dir"
        continue
    fi
    tap_cmd "$target: $files corpus inputs replay cleanly" 0 \
        "^$files input\\(s\\) replayed\$" '' \
        "$top_builddir/tests/fuzz/replay_$target" "$dir"
done
tap_done
