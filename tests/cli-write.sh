#!/bin/sh
# cli-write.sh - shmkit-write: creating slots, publishing records, partial
# updates, raw records, and that a refused command leaves nothing behind.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

LAYOUT='a:i8 b:u8 c:i16 d:u16 e:i32 f:u32 g:i64 h:u64 x:f32 y:f64 arr:i16[3] name:char[8]'
ASSIGN='a=-128 b=255 c=-32768 d=65535 e=-2147483648 f=4294967295 g=-9223372036854775808 h=18446744073709551615 x=1.5 y=21.5 arr=1,-2,3 name=hello'
EXPECTED=$(printf '%s\n' $ASSIGN)

# replace FIELD VALUE: EXPECTED-style text with one field changed.
replace() {
    printf '%s\n' "$1" | sed "s/^$2=.*/$2=$3/"
}

read_text() {
    "$READ" "$1" 2>&1
}

layout_slot_tests() {
    be=$1
    s=$(sk_spec "$be" 0)

    # shellcheck disable=SC2086 # ASSIGN is meant to be split
    tap_cmd "$be: create a slot with every type" 0 - - "$WRITE" -L "$LAYOUT" "$s" $ASSIGN
    tap_is "$(read_text "$s")" "$EXPECTED" "$be: every type reads back as written"
    tap_is "$(sk_info_field "$s" version)" 1 "$be: first record is version 1"
    tap_is "$(sk_info_field "$s" layout)" "$LAYOUT" "$be: layout stored in canonical form"
    tap_is "$(sk_info_field "$s" record-size)" 64 "$be: record size like the C struct"

    tap_cmd "$be: update two fields" 0 - - "$WRITE" "$s" b=7 name=hi
    want=$(replace "$(replace "$EXPECTED" b 7)" name hi)
    tap_is "$(read_text "$s")" "$want" "$be: a partial update keeps the other fields"
    tap_is "$(sk_info_field "$s" version)" 2 "$be: each write increments the version"

    tap_cmd "$be: republish without assignments" 0 - - "$WRITE" "$s"
    tap_is "$(read_text "$s")" "$want" "$be: republishing keeps the record"
    tap_is "$(sk_info_field "$s" version)" 3 "$be: republishing increments the version"

    tap_cmd "$be: -L in another spelling of the same layout" 0 - - \
        "$WRITE" -L 'a:i8,b:u8, c:i16  d:u16 e:i32 f:u32 g:i64 h:u64 x:f32 y:f64 arr:i16[3] name:char[8]' \
        "$s" e=0x7fffffff
    want=$(replace "$want" e 2147483647)
    tap_is "$(read_text "$s")" "$want" "$be: hex integer accepted"

    tap_cmd "$be: short array" 0 - - "$WRITE" "$s" arr=5
    want=$(replace "$want" arr 5,0,0)
    tap_is "$(read_text "$s")" "$want" "$be: missing array elements become zero"

    tap_cmd "$be: -x on an existing slot" 1 - "^shmkit-write: $s: already exists\$" \
        "$WRITE" -x -L "$LAYOUT" "$s" b=1
    tap_cmd "$be: out-of-range value refused" 2 - "^shmkit-write: $s: b=256: " \
        "$WRITE" "$s" a=1 b=256
    tap_is "$(read_text "$s")" "$want" "$be: refused commands change nothing"
    tap_is "$(sk_info_field "$s" version)" 5 "$be: refused commands publish nothing"

    tap_cmd "$be: -L of another layout refused" 5 - "^shmkit-write: $s: " \
        "$WRITE" -L 'a:i8' "$s"
    tap_cmd "$be: -s on a layout slot refused" 5 - "^shmkit-write: $s: " \
        "$WRITE" -s 64 "$s"
}

mode_tests() {
    be=$1
    s=$(sk_spec "$be" 1)
    tap_cmd "$be: create with -x -m 0640" 0 - - "$WRITE" -x -m 0640 -L 'v:u32' "$s" v=0x10
    tap_is "$(read_text "$s")" "v=16" "$be: value of a new exclusive slot"
    tap_is "$(sk_info_field "$s" mode)" 0640 "$be: -m sets the mode"
    if [ "$be" = posix ] && [ -f "$(sk_posix_file 1)" ]; then
        perms=$(ls -l "$(sk_posix_file 1)" | cut -c1-10)
        tap_is "$perms" "-rw-r-----" "$be: -m sets the object's permissions"
    fi

    s=$(sk_spec "$be" 2)
    tap_cmd "$be: create without assignments" 0 - - "$WRITE" -L 'v:u32 t:char[4]' "$s"
    tap_is "$(read_text "$s")" "$(printf 'v=0\nt=')" "$be: a new slot starts all zero"
    tap_is "$(sk_info_field "$s" mode)" 0600 "$be: default mode 0600"
    tap_is "$(sk_info_field "$s" version)" 1 "$be: the zero record is published"
}

raw_tests() {
    be=$1
    s=$(sk_spec "$be" 3)
    zero16=$TAP_TMP/zero16 data16=$TAP_TMP/data16 other16=$TAP_TMP/other16 got=$TAP_TMP/got
    dd if=/dev/zero of="$zero16" bs=16 count=1 2>/dev/null
    printf '0123456789abcdef' >"$data16"
    printf 'ABCDEFGHIJKLMNOP' >"$other16"

    tap_cmd "$be: create a raw slot" 0 - - "$WRITE" -s 16 "$s"
    "$READ" --raw "$s" >"$got"
    tap_ok "$be: a new raw slot reads as zero bytes" cmp -s "$got" "$zero16"

    tap_cmd "$be: --raw with -s" 0 - - "$WRITE" -s 16 --raw "$s" <"$data16"
    "$READ" --raw "$s" >"$got"
    tap_ok "$be: raw bytes read back" cmp -s "$got" "$data16"

    tap_cmd "$be: --raw without -s" 0 - - "$WRITE" --raw "$s" <"$other16"
    "$READ" --raw "$s" >"$got"
    tap_ok "$be: raw bytes replaced" cmp -s "$got" "$other16"
    tap_is "$(sk_info_field "$s" version)" 3 "$be: raw writes increment the version"

    printf 'abc' >"$TAP_TMP/short"
    tap_cmd "$be: short raw input" 1 - \
        "^shmkit-write: $s: expected 16 bytes, got 3 on standard input\$" \
        "$WRITE" --raw "$s" <"$TAP_TMP/short"
    printf '0123456789abcdefX' >"$TAP_TMP/long"
    tap_cmd "$be: long raw input" 1 - "expected 16 bytes, got more" \
        "$WRITE" --raw "$s" <"$TAP_TMP/long"
    "$READ" --raw "$s" >"$got"
    tap_ok "$be: bad raw input changes nothing" cmp -s "$got" "$other16"
    tap_is "$(sk_info_field "$s" version)" 3 "$be: bad raw input publishes nothing"

    tap_cmd "$be: assignments on a raw slot" 2 - "^shmkit-write: $s: raw slot has no fields" \
        "$WRITE" "$s" v=1
    tap_cmd "$be: -s of another size" 5 - "^shmkit-write: $s: " "$WRITE" -s 32 "$s"
    tap_cmd "$be: -L on a raw slot" 5 - "^shmkit-write: $s: " "$WRITE" -L 'v:u8[16]' "$s"

    s=$(sk_spec "$be" 4)
    dd if=/dev/zero bs=8 count=1 2>/dev/null | tr '\000' 'z' >"$TAP_TMP/z8"
    tap_cmd "$be: --raw on a layout slot" 0 - - "$WRITE" -L 'w:char[8]' --raw "$s" <"$TAP_TMP/z8"
    "$READ" --raw "$s" >"$got"
    tap_ok "$be: --raw bytes of a layout slot read back" cmp -s "$got" "$TAP_TMP/z8"
}

# A command refused for its arguments must not leave a segment behind.
nothing_created_tests() {
    be=$1
    s=$(sk_spec "$be" 5)
    tap_cmd "$be: out of range with -L" 2 - "^shmkit-write: $s: v=256: " \
        "$WRITE" -L 'v:u8' "$s" v=256
    tap_cmd "$be: unknown field with -L" 2 - "^shmkit-write: $s: w=1: " \
        "$WRITE" -L 'v:u8' "$s" w=1
    tap_cmd "$be: text too long with -L" 2 - "^shmkit-write: $s: t=abcd: " \
        "$WRITE" -L 't:char[4]' "$s" t=abcd
    tap_cmd "$be: bad value with -L" 2 - "^shmkit-write: $s: v=x: " \
        "$WRITE" -L 'v:u8' "$s" v=x
    tap_cmd "$be: bad layout" 2 - "^shmkit-write: $s: -L: " "$WRITE" -L 'v:u99' "$s"
    tap_cmd "$be: not an assignment" 2 - "'v' is not FIELD=VALUE" "$WRITE" -L 'v:u8' "$s" v
    tap_cmd "$be: short raw input with -L" 1 - "expected 1 bytes, got 0" \
        "$WRITE" -L 'v:u8' --raw "$s" </dev/null
    tap_cmd "$be: no -L or -s for a new slot" 2 - \
        "^shmkit-write: $s: no such segment; give -L LAYOUT or -s SIZE to create it\$" \
        "$WRITE" "$s" v=1
    tap_cmd "$be: none of them created the slot" 3 - '' "$SHMKIT" info "$s"
}

# The messages for a slot opened with the wrong kind of format, and for
# floats beyond either end of their type.
mismatch_and_range_tests() {
    be=$1
    s=$(sk_spec "$be" 12)
    "$WRITE" -s 8 "$s"
    tap_cmd "$be: -L on a raw slot" 5 - \
        "^shmkit-write: $s: layout mismatch \\(segment is a raw slot of 8-byte records, with no layout\\)\$" \
        "$WRITE" -L 'v:u8' "$s" v=1
    "$SHMKIT" rm "$s"
    "$WRITE" -L 'v:u8 f:f32 d:f64' "$s"
    tap_cmd "$be: -s on a slot with a layout" 5 - \
        "^shmkit-write: $s: layout mismatch \\(segment is not a raw slot: it has layout \"v:u8 f:f32 d:f64\"\\)\$" \
        "$WRITE" -s 16 "$s"
    for v in f=1e-50 f=-1e-50 d=1e-400 d=-1e-400; do
        tap_cmd "$be: $v would be stored as 0" 2 - \
            "^shmkit-write: $s: $v: value out of range \\(.*not 0 but would be stored as 0" \
            "$WRITE" "$s" "$v"
    done
    for v in f=1e39 f=-1e39 d=1e309 d=-1e309; do
        tap_cmd "$be: $v overflows" 2 - \
            "^shmkit-write: $s: $v: value out of range \\(.*the largest magnitude is " \
            "$WRITE" "$s" "$v"
    done
    tap_is "$(sk_info_field "$s" version)" 1 "$be: none of them published"
    tap_cmd "$be: subnormals are stored" 0 - - "$WRITE" "$s" f=1e-45 d=-5e-324
    tap_is "$(read_text "$s" | tr '\n' ' ')" 'v=0 f=1e-45 d=-5e-324 ' "$be: subnormals read back"
}

# Scripts run one-shot writers side by side: one that finds the lease held
# by a live writer waits for it (a short, bounded time) instead of failing.
concurrent_tests() {
    be=$1
    s=$(sk_spec "$be" 6)
    st=$TAP_TMP/status.$be
    "$WRITE" -L 'n:u32' "$s" n=7
    before=$(sk_info_field "$s" version)
    : >"$st"
    for i in $(sk_seq 1 80); do
        { "$WRITE" "$s" 2>>"$st.err"; echo "$?" >>"$st"; } &
    done
    wait
    tap_is "$(wc -l <"$st" | tr -d ' ') $(grep -c '^0$' "$st")" "80 80" \
        "$be: 80 concurrent one-shot writers all succeed"
    [ -s "$st.err" ] && tap_diag "$(head -3 "$st.err")"
    tap_is "$(sk_info_field "$s" version)" $((before + 80)) \
        "$be: each of them published once"
}

has_writer() {
    [ "$(sk_info_field "$1" writer)" != none ]
}

# A writer that holds the lease while it waits for its input: another one
# waits for it, -t bounds that wait.
lease_wait_tests() {
    be=$1
    s=$(sk_spec "$be" 7)
    fifo=$TAP_TMP/lease-fifo.$be
    "$WRITE" -s 4 "$s"
    before=$(sk_info_field "$s" version)
    mkfifo "$fifo"
    cat "$fifo" | "$WRITE" --raw "$s" 2>/dev/null &
    sk_wait_until 100 has_writer "$s"
    tap_cmd "$be: -t bounds the wait for a busy lease" 1 - "^shmkit-write: $s: .*busy" \
        "$WRITE" -t 0.3 "$s"
    "$WRITE" -t 20 "$s" &
    waiter=$!
    sk_nap
    printf abcd >"$fifo"
    sk_wait "$waiter"
    tap_is "$?" 0 "$be: a waiting writer gets the lease once it is released"
    wait
    tap_is "$(sk_info_field "$s" version)" $((before + 2)) "$be: both writers published"
}

for be in $SK_BACKENDS; do
    mismatch_and_range_tests "$be"
    concurrent_tests "$be"
    lease_wait_tests "$be"
    layout_slot_tests "$be"
    mode_tests "$be"
    raw_tests "$be"
    nothing_created_tests "$be"
done

sk_remove_all
sk_check_no_leftovers
tap_done
