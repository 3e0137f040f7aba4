#!/bin/sh
# cli-read.sh - shmkit-read: text, JSON, hex and raw output of layout and
# raw slots, and that reading changes nothing.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

LAYOUT='n:i32 t:f64 pos:i16[3] ok:u8 label:char[12] big:u64'

have_python=no
command -v python3 >/dev/null 2>&1 && have_python=yes
have_hexdump=no
command -v hexdump >/dev/null 2>&1 && have_hexdump=yes

# check_json FILE PYTHON-EXPRESSION: FILE holds one JSON object (d) for
# which the expression is true.
check_json() {
    python3 -c '
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
assert text.endswith("}\n") and text.count("\n") == 1, "one object, one newline"
d = json.loads(text)
assert eval(sys.argv[2]), "wrong values: %r" % (d,)
' "$1" "$2"
}

layout_tests() {
    be=$1
    s=$(sk_spec "$be" 0)
    "$WRITE" -L "$LAYOUT" "$s" n=-42 t=21.5 pos=1,-2,3 ok=1 'label=hello world' \
        big=18446744073709551615
    tap_is "$(sk_info_field "$s" version)" 1 "$be: test slot written"

    tap_cmd "$be: text output" 0 '' - "$READ" "$s"
    tap_is "$(cat "$TAP_OUT")" "$(printf '%s\n' n=-42 t=21.5 pos=1,-2,3 ok=1 \
        'label=hello world' big=18446744073709551615)" "$be: FIELD=VALUE lines"

    tap_cmd "$be: --json" 0 '^\{.*\}$' - "$READ" --json "$s"
    cp "$TAP_OUT" "$TAP_TMP/json"
    if [ "$have_python" = yes ]; then
        tap_ok "$be: --json is valid JSON with the values" check_json "$TAP_TMP/json" \
            'd == {"n": -42, "t": 21.5, "pos": [1, -2, 3], "ok": 1, "label": "hello world", "big": 18446744073709551615}'
    else
        tap_skip "$be: --json is valid JSON with the values" "no python3"
    fi
    tap_cmd "$be: -j" 0 '' - "$READ" -j "$s"
    tap_ok "$be: -j is --json" cmp -s "$TAP_OUT" "$TAP_TMP/json"

    "$READ" --raw "$s" >"$TAP_TMP/raw"
    tap_is "$(wc -c <"$TAP_TMP/raw" | tr -d ' ')" "$(sk_info_field "$s" record-size)" \
        "$be: --raw writes exactly the record"
    tap_cmd "$be: --hex" 0 '^00000000  ' - "$READ" --hex "$s"
    if [ "$have_hexdump" = yes ]; then
        # hexdump collapses repeated lines into "*"; --hex does not, so
        # compare only when the record has no two equal 16-byte lines.
        hexdump -C "$TAP_TMP/raw" >"$TAP_TMP/hexdump"
        if grep -q '^\*' "$TAP_TMP/hexdump"; then
            tap_skip "$be: --hex looks like hexdump -C" "repeated lines"
        else
            tap_ok "$be: --hex looks like hexdump -C" cmp -s "$TAP_OUT" "$TAP_TMP/hexdump"
        fi
    else
        tap_skip "$be: --hex looks like hexdump -C" "no hexdump"
    fi
    tap_cmd "$be: label bytes in the ASCII column" 0 '\|.*hello wor' - "$READ" --hex "$s"

    tap_is "$(sk_info_field "$s" version)" 1 "$be: reading does not publish"
    tap_cmd "$be: --hex and --raw together" 2 - 'choose one of' "$READ" --hex --raw "$s"
    tap_cmd "$be: operand after SPEC" 2 - "unexpected argument 'x'" "$READ" "$s" x
    if [ -c /dev/full ]; then
        tap_cmd "$be: write error on stdout" 1 - \
            '^shmkit-read: write error on standard output: ' sh -c '"$1" "$2" >/dev/full' sh "$READ" "$s"
    else
        tap_skip "$be: write error on stdout" "no /dev/full"
    fi
}

raw_tests() {
    be=$1
    s=$(sk_spec "$be" 1)
    # 40 bytes: every byte value class (NUL, control, ASCII, high).
    printf 'shmkit\000\001\037 ~\177\200\377abcdefghijklmnopqrstuvwxyz' >"$TAP_TMP/in40"
    tap_is "$(wc -c <"$TAP_TMP/in40" | tr -d ' ')" 40 "$be: test input has 40 bytes"
    tap_cmd "$be: raw slot from a file" 0 - - "$WRITE" -s 40 --raw "$s" <"$TAP_TMP/in40"

    "$READ" --raw "$s" >"$TAP_TMP/out40"
    tap_ok "$be: --raw round trip" cmp -s "$TAP_TMP/in40" "$TAP_TMP/out40"

    tap_cmd "$be: a raw slot prints a hex dump by default" 0 '' - "$READ" "$s"
    cp "$TAP_OUT" "$TAP_TMP/default"
    tap_is "$(cat "$TAP_TMP/default")" \
"00000000  73 68 6d 6b 69 74 00 01  1f 20 7e 7f 80 ff 61 62  |shmkit... ~...ab|
00000010  63 64 65 66 67 68 69 6a  6b 6c 6d 6e 6f 70 71 72  |cdefghijklmnopqr|
00000020  73 74 75 76 77 78 79 7a                           |stuvwxyz|
00000028" "$be: hex dump format"
    tap_cmd "$be: --hex on a raw slot" 0 '' - "$READ" --hex "$s"
    tap_ok "$be: --hex is the default for raw slots" cmp -s "$TAP_OUT" "$TAP_TMP/default"
    if [ "$have_hexdump" = yes ]; then
        hexdump -C "$TAP_TMP/in40" >"$TAP_TMP/hexdump"
        tap_ok "$be: hex dump equals hexdump -C" cmp -s "$TAP_TMP/default" "$TAP_TMP/hexdump"
    else
        tap_skip "$be: hex dump equals hexdump -C" "no hexdump"
    fi
    tap_cmd "$be: --json on a raw slot" 2 - "^shmkit-read: $s: --json needs a slot with a layout" \
        "$READ" --json "$s"
}

# --json writes UTF-8 text as it is and each byte of anything else as
# \u00XX.
utf8_tests() {
    be=$1
    s=$(sk_spec "$be" 11)
    "$WRITE" -L 'city:char[16] bad:char[8]' "$s" "city=$(printf 'Z\303\274rich \342\202\254')" \
        "bad=$(printf 'a\303\377\355\240\200')"
    tap_cmd "$be: --json with UTF-8 text" 0 '' - "$READ" --json "$s"
    tap_is "$(cat "$TAP_OUT")" \
        "$(printf '{"city":"Z\303\274rich \342\202\254","bad":"a\\u00c3\\u00ff\\u00ed\\u00a0\\u0080"}')" \
        "$be: UTF-8 as it is, other bytes as \\u00XX"
    if [ "$have_python" = yes ]; then
        tap_ok "$be: --json with UTF-8 is valid JSON" check_json "$TAP_OUT" \
            'd == {"city": "Z\u00fcrich \u20ac", "bad": "a\u00c3\u00ff\u00ed\u00a0\u0080"}'
    else
        tap_skip "$be: --json with UTF-8 is valid JSON" "no python3"
    fi
}

for be in $SK_BACKENDS; do
    utf8_tests "$be"
    layout_tests "$be"
    raw_tests "$be"
done

sk_remove_all
sk_check_no_leftovers
tap_done
