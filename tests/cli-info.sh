#!/bin/sh
# cli-info.sh - shmkit info and shmkit rm, and the shmkit command itself.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

info_tests() {
    be=$1
    s=$(sk_spec "$be" 0)
    "$WRITE" -L 'id:u32 temp:f64' "$s" id=1
    "$WRITE" "$s" id=2
    "$WRITE" "$s" temp=3.25

    tap_cmd "$be: info" 0 '' - "$SHMKIT" info "$s"
    cp "$TAP_OUT" "$TAP_TMP/info"
    field() {
        sed -n "s/^$1: //p" "$TAP_TMP/info"
    }
    tap_is "$(field spec)" "$s" "$be: info spec"
    tap_is "$(field backend)" "$be" "$be: info backend"
    tap_is "$(field kind)" slot "$be: info kind"
    tap_like "$(field format)" '^[0-9]+\.[0-9]+$' "$be: info format version"
    tap_is "$(field layout)" 'id:u32 temp:f64' "$be: info layout"
    tap_is "$(field record-size)" 16 "$be: info record size"
    tap_is "$(field version)" 3 "$be: info version counts the writes"
    size=$(field size) payload=$(field payload-size)
    sizes_ok() {
        [ "${size:-0}" -gt "${payload:-0}" ] && [ "${payload:-0}" -ge 16 ]
    }
    tap_ok "$be: total size > payload size >= record size" sizes_ok
    uid=$(id -u) user=$(id -un 2>/dev/null || echo '?')
    tap_like "$(field owner)" "^$uid( \\($user\\))?\$" "$be: info owner"
    tap_is "$(field mode)" 0600 "$be: info mode"
    tap_like "$(field creator)" '^[1-9][0-9]* \(dead\)$' "$be: info creator (exited)"
    tap_is "$(field writer)" none "$be: info writer (lease released)"
    if [ "$be" = sysv ]; then
        tap_is "$(field attached)" 0 "$be: info attach count"
    else
        tap_is "$(grep -c '^attached:' "$TAP_TMP/info")" 0 "$be: no attach count for POSIX"
    fi
    tap_like "$(field created)" "^$(date -u +%Y)-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\$" \
        "$be: info creation time"
    if [ -n "$SK_WAIT_MECHANISM" ]; then
        tap_is "$(field wait)" "$SK_WAIT_MECHANISM" "$be: info wait mechanism (the build's)"
    else
        tap_like "$(field wait)" "^($SK_WAIT_MECHANISMS)\$" "$be: info wait mechanism"
    fi
    tap_is "$(sed 's/:.*//' "$TAP_TMP/info" | tr '\n' ' ')" \
        "spec backend kind format lifetime size payload-size record-size layout version owner mode creator writer wait $([ "$be" = sysv ] && echo 'attached ')created " \
        "$be: info keys in order"

    s=$(sk_spec "$be" 1)
    "$WRITE" -s 24 "$s"
    tap_cmd "$be: info on a raw slot" 0 '^layout: \(raw\)$' - "$SHMKIT" info "$s"
    tap_like "$(cat "$TAP_OUT")" '^record-size: 24$' "$be: raw record size"

    s=$(sk_spec "$be" 2)
    tap_cmd "$be: info on a missing segment" 3 - "^shmkit: $s: .+" "$SHMKIT" info "$s"
}

rm_tests() {
    be=$1
    a=$(sk_spec "$be" 3) b=$(sk_spec "$be" 4) c=$(sk_spec "$be" 5) missing=$(sk_spec "$be" 6)
    for x in "$a" "$b" "$c"; do "$WRITE" -s 8 "$x"; done
    tap_cmd "$be: rm of several" 0 - - "$SHMKIT" rm "$a" "$b" "$c"
    for x in "$a" "$b" "$c"; do
        tap_cmd "$be: $x removed" 3 - '' "$SHMKIT" info "$x"
    done

    for x in "$a" "$b"; do "$WRITE" -s 8 "$x"; done
    tap_cmd "$be: rm goes on after errors" 3 - "^shmkit: $missing: " \
        "$SHMKIT" rm "$a" "$missing" /bad/spec "$b"
    tap_like "$(cat "$TAP_ERR")" '^shmkit: /bad/spec: ' "$be: rm reports each error"
    tap_is "$(wc -l <"$TAP_ERR" | tr -d ' ')" 2 "$be: one line per error"
    tap_cmd "$be: segments before and after the errors removed" 3 - '' "$SHMKIT" info "$b"
    tap_cmd "$be: rm -f ignores missing segments" 0 - - "$SHMKIT" rm -f "$missing" "$a"
    tap_cmd "$be: rm of a missing segment" 3 - "^shmkit: $missing: " "$SHMKIT" rm "$missing"
    tap_cmd "$be: rm -f still reports bad specs" 2 - "^shmkit: foo: " "$SHMKIT" rm -f foo
}

command_tests() {
    tap_cmd "shmkit --help" 0 '^usage: shmkit ' - "$SHMKIT" --help
    tap_like "$(cat "$TAP_OUT")" '^  info ' "shmkit --help lists info"
    tap_like "$(cat "$TAP_OUT")" '^  rm ' "shmkit --help lists rm"
    tap_cmd "shmkit help" 0 '^usage: shmkit ' - "$SHMKIT" help
    tap_cmd "shmkit help info" 0 '^usage: shmkit info \[--any-owner\] SPEC' - "$SHMKIT" help info
    tap_cmd "shmkit info --help" 0 '^usage: shmkit info \[--any-owner\] SPEC' - "$SHMKIT" info --help
    tap_cmd "shmkit rm -h" 0 '^usage: shmkit rm ' - "$SHMKIT" rm -h
    tap_cmd "shmkit help nosuch" 2 - "unknown command 'nosuch'" "$SHMKIT" help nosuch
    tap_cmd "shmkit --version" 0 '^shmkit \(shmkit\) [0-9]+\.[0-9]+\.[0-9]+$' - "$SHMKIT" --version
    tap_cmd "shmkit without a command" 2 - '^usage: shmkit ' "$SHMKIT"
    tap_cmd "unknown command" 2 - "^shmkit: unknown command 'frob'\$" "$SHMKIT" frob
    tap_cmd "unknown option" 2 - "^shmkit: unknown option '--frob'\$" "$SHMKIT" --frob
    tap_cmd "info without SPEC" 2 - '^usage: shmkit info \[--any-owner\] SPEC' "$SHMKIT" info
    tap_cmd "info with two SPECs" 2 - "unexpected argument" "$SHMKIT" info /a /b
    tap_cmd "info with a bad option" 2 - "unknown option '-z'" "$SHMKIT" info -z /a
    tap_cmd "rm without SPEC" 2 - '^usage: shmkit rm ' "$SHMKIT" rm
}

command_tests
for be in $SK_BACKENDS; do
    info_tests "$be"
    rm_tests "$be"
done

sk_remove_all
sk_check_no_leftovers
tap_done
