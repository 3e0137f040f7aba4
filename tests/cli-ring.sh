#!/bin/sh
# cli-ring.sh - rings from the command line: shmkit-write --ring (lines and
# --raw records from standard input, block and overwrite policies, a full
# ring with -t), reading one message with shmkit-read, shmkit info of a
# ring, and every refusal with its exit status.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

have_python=no
command -v python3 >/dev/null 2>&1 && have_python=yes

# The ring's frames (doc/FORMAT.md): a 16-byte header, then the message
# padded to a multiple of 64 bytes (a cache line).
frame_size() {
    echo $(((16 + $1 + 63) / 64 * 64))
}

# Expected "used:" text of shmkit info: BYTES of CAPACITY, tenths truncated.
used_text() {
    _t=$(($1 * 1000 / $2))
    echo "$1 of $2 bytes ($((_t / 10)).$((_t % 10))%)"
}

# input CMD...: a file holding the output of CMD, for standard input.
input() {
    "$@" >"$TAP_TMP/input"
    echo "$TAP_TMP/input"
}

block_tests() {
    be=$1
    s=$(sk_spec "$be" 0)
    tap_cmd "$be: seq 1 10 into a new block ring" 0 - - \
        "$WRITE" --ring 1k "$s" <"$(input sk_seq 1 10)"

    tap_cmd "$be: info on a block ring" 0 '' - "$SHMKIT" info "$s"
    cp "$TAP_OUT" "$TAP_TMP/info"
    field() {
        sed -n "s/^$1: //p" "$TAP_TMP/info"
    }
    frame=$(frame_size 2) # every line of seq 1 10 has one or two bytes
    tap_is "$(field kind)" ring "$be: info kind"
    tap_is "$(field policy)" block "$be: info policy"
    tap_is "$(field capacity)" 1024 "$be: info capacity (1k = 1024)"
    tap_is "$(field max-message)" $((1024 / 2 - 16)) "$be: info max-message (largest)"
    tap_is "$(field used)" "$(used_text $((10 * frame)) 1024)" "$be: info fill level"
    tap_is "$(field messages)" 10 "$be: info messages published"
    tap_is "$(field writer)" none "$be: info writer (released at exit)"
    tap_is "$(field consumer)" none "$be: info consumer"
    tap_is "$(field consumers)" 1 "$be: info consumer entries"
    tap_is "$(field 'consumer 0')" "none, left, next message 0, lag 10 messages, $((10 * frame)) bytes" \
        "$be: info: the entry keeps the messages for the next consumer"
    if [ -n "$SK_WAIT_MECHANISM" ]; then
        tap_is "$(field wait)" "$SK_WAIT_MECHANISM" "$be: info wait mechanism"
    else
        tap_like "$(field wait)" "^($SK_WAIT_MECHANISMS)\$" "$be: info wait mechanism"
    fi
    tap_is "$(sed 's/:.*//' "$TAP_TMP/info" | tr '\n' ' ')" \
        "spec backend kind format lifetime size payload-size policy capacity max-message used messages owner mode creator writer consumer consumers consumer 0 wait $([ "$be" = sysv ] && echo 'attached ')created " \
        "$be: info keys of a ring in order"

    tap_cmd "$be: read consumes the oldest message" 0 '^1$' - "$READ" "$s"
    tap_is "$(cat "$TAP_OUT")" 1 "$be: exactly one message"
    tap_cmd "$be: the next read gets the next one" 0 '^2$' - "$READ" "$s"
    tap_is "$(sk_info_field "$s" used)" "$(used_text $((8 * frame)) 1024)" \
        "$be: consumed messages free their room"
    tap_cmd "$be: --json" 0 '' - "$READ" --json "$s"
    tap_is "$(cat "$TAP_OUT")" '{"seq":2,"data":"3"}' "$be: --json gives seq and data"
    tap_cmd "$be: --hex" 0 '' - "$READ" --hex "$s"
    tap_is "$(cat "$TAP_OUT")" "$(printf '%s\n' \
        '00000000  34                                                |4|' 00000001)" \
        "$be: --hex dumps the message"
    tap_cmd "$be: --raw" 0 '' - "$READ" --raw "$s"
    tap_is "$(od -An -c "$TAP_OUT" | tr -d ' ')" 5 "$be: --raw adds no newline"

    tap_cmd "$be: append to the ring without --ring" 0 - - \
        "$WRITE" "$s" <"$(input sk_seq 11 12)"
    tap_is "$(sk_info_field "$s" messages)" 12 "$be: appended messages counted"
    tap_cmd "$be: --ring with the same geometry opens it" 0 - - \
        "$WRITE" --ring 1024 "$s" <"$(input echo 13)"
    tap_is "$(sk_info_field "$s" messages)" 13 "$be: ... and sends"
    tap_cmd "$be: -f -n 8 gets the rest in order" 0 '' - "$READ" -f -n 8 "$s"
    tap_is "$(sk_flat "$TAP_OUT")" '6 7 8 9 10 11 12 13 ' "$be: 6 to 13"
    tap_is "$(sk_info_field "$s" used)" "$(used_text 0 1024)" "$be: the ring is empty"

    tap_cmd "$be: read of an empty ring, -t 0.2" 4 - \
        "^shmkit-read: $s: timed out waiting for a message\$" "$READ" -t 0.2 "$s"
    tap_cmd "$be: read of an empty ring, -t 0" 4 - 'timed out' "$READ" -t 0 "$s"
    tap_is "$(sk_info_field "$s" consumer)" none "$be: a reader that timed out let go"

    tap_cmd "$be: --ring of another capacity" 5 - "^shmkit-write: $s: size mismatch" \
        "$WRITE" --ring 2k "$s"
    tap_cmd "$be: --ring of another max message" 5 - "^shmkit-write: $s: size mismatch" \
        "$WRITE" --ring 1k --max-message 100 "$s"
    tap_cmd "$be: --ring of another policy" 5 - "^shmkit-write: $s: wrong segment kind" \
        "$WRITE" --ring 1k --overwrite "$s"
    tap_cmd "$be: -x --ring on an existing ring" 1 - "^shmkit-write: $s: already exists\$" \
        "$WRITE" -x --ring 1k "$s"
    tap_cmd "$be: -L on a ring" 5 - "^shmkit-write: $s: wrong segment kind" \
        "$WRITE" -L v:u8 "$s" v=1
    tap_cmd "$be: assignments on a ring" 5 - "^shmkit-write: $s: wrong segment kind" \
        "$WRITE" "$s" v=1
    tap_cmd "$be: --raw without -s on a ring" 2 - '--raw needs -s SIZE' \
        "$WRITE" --raw "$s"
    tap_cmd "$be: -s without --raw on a ring" 2 - '-s needs --raw' "$WRITE" -s 4 "$s"
    tap_is "$(sk_info_field "$s" messages)" 13 "$be: refused commands sent nothing"
    tap_is "$(sk_info_field "$s" consumer)" none "$be: refused reads let go"
}

overwrite_tests() {
    be=$1
    s=$(sk_spec "$be" 1)
    tap_cmd "$be: 100 lines into an overwrite ring of 256 bytes" 0 - - \
        "$WRITE" --ring 256 --overwrite "$s" <"$(input sk_seq 1 100)"
    kept=$((256 / $(frame_size 3)))
    tap_is "$(sk_info_field "$s" policy)" overwrite "$be: info policy"
    tap_is "$(sk_info_field "$s" used)" "$(used_text $((kept * $(frame_size 3))) 256)" \
        "$be: info fill level of a full overwrite ring"
    tap_is "$(sk_info_field "$s" messages)" 100 "$be: info messages"
    tap_is "$("$SHMKIT" info "$s" | grep -c '^consumer:')" 0 "$be: no consumer line"
    tap_cmd "$be: read gets the newest" 0 '^100$' - "$READ" "$s"
    tap_cmd "$be: ... and does not consume it" 0 '^100$' - "$READ" "$s"
    tap_cmd "$be: --from-oldest gets the oldest kept" 0 "^$((100 - kept + 1))\$" - \
        "$READ" --from-oldest "$s"
    tap_cmd "$be: --json --from-oldest" 0 "^\\{\"seq\":$((100 - kept)),\"data\":\"$((100 - kept + 1))\"\\}\$" - \
        "$READ" --json --from-oldest "$s"
    tap_cmd "$be: the writer never waits (1000 more, -t 0)" 0 - - \
        "$WRITE" -t 0 "$s" <"$(input sk_seq 1 1000)"
    tap_is "$(sk_info_field "$s" messages)" 1100 "$be: all of them published"
    tap_cmd "$be: --ring of another policy" 5 - "^shmkit-write: $s: wrong segment kind" \
        "$WRITE" --ring 256 "$s"
}

lines_tests() {
    be=$1
    s=$(sk_spec "$be" 2)
    tap_cmd "$be: create with -x -m 0640 and no input" 0 - - \
        "$WRITE" -x -m 0640 --ring 512 --max-message 8 "$s"
    tap_is "$(sk_info_field "$s" mode)" 0640 "$be: -m sets the ring's mode"
    tap_is "$(sk_info_field "$s" max-message)" 8 "$be: --max-message"
    tap_is "$(sk_info_field "$s" messages)" 0 "$be: no input, no message"

    printf 'short\n0123456789\nafter\n' >"$TAP_TMP/long"
    tap_cmd "$be: a line longer than the largest message" 1 - \
        "^shmkit-write: $s: line 2 is longer than 8 bytes, the largest message of the ring\$" \
        "$WRITE" "$s" <"$TAP_TMP/long"
    tap_is "$(sk_info_field "$s" messages)" 1 "$be: the lines before it were sent, not it"
    tap_cmd "$be: ... the line before it" 0 '^short$' - "$READ" "$s"

    printf '12345678\n\n\na b\tc\nlast' >"$TAP_TMP/edge"
    tap_cmd "$be: exactly 8 bytes, empty lines, no final newline" 0 - - \
        "$WRITE" "$s" <"$TAP_TMP/edge"
    tap_is "$(sk_info_field "$s" messages)" 6 "$be: one message per line"
    tap_cmd "$be: read them back" 0 '' - "$READ" -f -n 5 "$s"
    printf '12345678\n\n\na b\tc\nlast\n' >"$TAP_TMP/expected"
    tap_ok "$be: lines read back as written (plus the final newline)" \
        cmp -s "$TAP_OUT" "$TAP_TMP/expected"
}

json_tests() {
    be=$1
    s=$(sk_spec "$be" 3)
    printf 'q"b\\s\tt\001\377\n' >"$TAP_TMP/odd"
    "$WRITE" --ring 256 "$s" <"$TAP_TMP/odd"
    tap_cmd "$be: --json escapes" 0 '' - "$READ" --json "$s"
    tap_is "$(cat "$TAP_OUT")" '{"seq":0,"data":"q\"b\\s\tt\u0001\u00ff"}' \
        "$be: quotes, backslashes, controls and high bytes escaped"
    if [ "$have_python" = yes ]; then
        tap_ok "$be: valid JSON that gives the bytes back" python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).read())
assert d["data"].encode("latin-1") == open(sys.argv[2], "rb").read()[:-1], d
' "$TAP_OUT" "$TAP_TMP/odd"
    else
        tap_skip "$be: valid JSON that gives the bytes back" "no python3"
    fi
}

raw_tests() {
    be=$1
    s=$(sk_spec "$be" 4)
    dd if=/dev/urandom of="$TAP_TMP/random" bs=16 count=64 2>/dev/null
    tap_is "$(wc -c <"$TAP_TMP/random" | tr -d ' ')" 1024 "$be: 64 random records of 16 bytes"
    tap_cmd "$be: --raw -s 16 into a new ring" 0 - - \
        "$WRITE" --ring 4k --raw -s 16 "$s" <"$TAP_TMP/random"
    tap_is "$(sk_info_field "$s" messages)" 64 "$be: one message per record"
    "$READ" -f -n 64 --raw "$s" >"$TAP_TMP/back"
    tap_ok "$be: --raw round trip" cmp -s "$TAP_TMP/random" "$TAP_TMP/back"

    dd if="$TAP_TMP/random" of="$TAP_TMP/short" bs=40 count=1 2>/dev/null
    tap_cmd "$be: a short last record" 1 - \
        "^shmkit-write: $s: record 3: expected 16 bytes, got 8 on standard input\$" \
        "$WRITE" --raw -s 16 "$s" <"$TAP_TMP/short"
    tap_is "$(sk_info_field "$s" messages)" 66 "$be: the whole records before it were sent"
    tap_cmd "$be: records longer than the ring's messages" 5 - \
        "^shmkit-write: $s: records of 4096 bytes do not fit" \
        "$WRITE" --raw -s 4096 "$s" <"$TAP_TMP/random"
    tap_is "$(sk_info_field "$s" messages)" 66 "$be: ... sent nothing"
}

full_tests() {
    be=$1
    s=$(sk_spec "$be" 5)
    fits=$((256 / $(frame_size 2)))
    tap_cmd "$be: a block ring full for -t 0.2" 4 - \
        "^shmkit-write: $s: line $((fits + 1)): timed out waiting for room in the ring\$" \
        "$WRITE" --ring 256 -t 0.2 "$s" <"$(input sk_seq 1 20)"
    tap_is "$(sk_info_field "$s" messages)" "$fits" "$be: the lines that fitted were sent"
    tap_cmd "$be: -t 0 does not wait" 4 - "line 1: timed out" \
        "$WRITE" -t 0 "$s" <"$(input echo x)"
    tap_is "$(sk_info_field "$s" writer)" none "$be: the writer let go"
    tap_cmd "$be: a consumer makes room" 0 '^1$' - "$READ" "$s"
    tap_cmd "$be: now one more fits" 0 - - "$WRITE" -t 0 "$s" <"$(input echo x)"
}

usage_tests() {
    s=/skt.never.used
    for cap in 0 2g 1x -1 k '' 1.5k 0x100 99999999999999999999999; do
        tap_cmd "--ring '$cap'" 2 - "^shmkit-write: bad ring capacity '$cap'" \
            "$WRITE" --ring "$cap" "$s"
    done
    tap_cmd "--max-message 0" 2 - "bad message size '0'" \
        "$WRITE" --ring 1k --max-message 0 "$s"
    tap_cmd "--max-message too big for the capacity" 2 - \
        'messages of 200 bytes do not fit a ring of 256 bytes \(at most 112\)' \
        "$WRITE" --ring 200 --max-message 200 "$s"
    tap_cmd "--max-message up to CAPACITY / 2 - 16" 2 - \
        'messages of 113 bytes do not fit a ring of 256 bytes' \
        "$WRITE" --ring 256 --max-message 113 "$s"
    tap_cmd "-s longer than --max-message" 2 - 'records of 9 bytes are longer' \
        "$WRITE" --ring 256 --max-message 8 --raw -s 9 "$s"
    tap_cmd "--overwrite without --ring" 2 - '--overwrite only applies when creating a ring' \
        "$WRITE" --overwrite "$s"
    tap_cmd "--max-message without --ring" 2 - '--max-message only applies when creating a ring' \
        "$WRITE" --max-message 8 "$s"
    tap_cmd "--ring with -L" 2 - '-L does not go with --ring' "$WRITE" --ring 1k -L v:u8 "$s"
    tap_cmd "--ring with assignments" 2 - 'not FIELD=VALUE operands' \
        "$WRITE" --ring 1k "$s" v=1
    tap_cmd "--ring --raw without -s" 2 - '--raw needs -s SIZE' "$WRITE" --ring 1k --raw "$s"
    tap_cmd "--ring -s without --raw" 2 - '-s needs --raw' "$WRITE" --ring 1k -s 4 "$s"
    for t in abc -1 1.2.3 . '' 1e3 99999999; do
        tap_cmd "shmkit-write -t '$t'" 2 - "bad timeout '$t'" "$WRITE" -t "$t" "$s"
        tap_cmd "shmkit-read -t '$t'" 2 - "bad timeout '$t'" "$READ" -t "$t" "$s"
    done
    for n in 0 -1 x 1.5 ''; do
        tap_cmd "shmkit-read -n '$n'" 2 - "bad count '$n'" "$READ" -f -n "$n" "$s"
    done
    tap_cmd "-n without -f" 2 - '^shmkit-read: -n needs -f$' "$READ" -n 3 "$s"
    tap_cmd "nothing was created" 3 - '' "$SHMKIT" info "$s"
}

# Values accepted for the capacity, and what they become.
capacity_tests() {
    be=$1
    n=6
    for pair in 1:256 300:512 4K:4096 64k:65536 1m:1048576 1M:1048576; do
        s=$(sk_spec "$be" $n)
        tap_cmd "$be: --ring ${pair%%:*}" 0 - - "$WRITE" --ring "${pair%%:*}" "$s"
        tap_is "$(sk_info_field "$s" capacity)" "${pair#*:}" \
            "$be: --ring ${pair%%:*} gives ${pair#*:} bytes"
        "$SHMKIT" rm "$s"
        n=$((n + 1))
    done
}

slot_tests() {
    be=$1
    s=$(sk_spec "$be" 12)
    "$WRITE" -L 'v:u8' "$s" v=1
    tap_cmd "$be: --ring on an existing slot" 5 - \
        "^shmkit-write: $s: wrong segment kind \\(segment is a slot, not a ring\\)\$" \
        "$WRITE" --ring 1k "$s"
    tap_cmd "$be: --from-oldest on a slot" 2 - \
        "^shmkit-read: $s: --from-oldest applies to rings, not slots\$" \
        "$READ" --from-oldest "$s"
    tap_cmd "$be: -t on a slot read: no wait" 0 '^v=1$' - "$READ" -t 0 "$s"
    tap_cmd "$be: slot writes still work" 0 - - "$WRITE" "$s" v=2
    tap_cmd "$be: ... and -t does not matter there" 0 - - "$WRITE" -t 0 "$s" v=3
    tap_is "$("$READ" "$s")" v=3 "$be: slot written"
}

for be in $SK_BACKENDS; do
    block_tests "$be"
    overwrite_tests "$be"
    lines_tests "$be"
    json_tests "$be"
    raw_tests "$be"
    full_tests "$be"
    capacity_tests "$be"
    slot_tests "$be"
done
usage_tests

sk_remove_all
sk_check_no_leftovers
tap_done
