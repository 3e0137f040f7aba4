#!/bin/sh
# bridge-curve.sh - shmkit-bridge's security:
#   - "shmkit-bridge keygen NAME" writes NAME.key (mode 0600) and NAME.pub,
#     refuses to overwrite them without -f;
#   - a CURVE pair works (a block ring, every message exactly once);
#   - a client whose key is not listed is refused: the receiving bridge
#     exits 6 with a message naming authentication, and writes nothing;
#     so is a client without CURVE;
#   - the traffic is not readable on the wire: as root with tcpdump, a
#     capture on lo of a CURVE run does not contain a marker string that
#     the messages carry, while a capture of a plain run does (so the check
#     can fail); skipped with the reason otherwise;
#   - binding a non-loopback endpoint without keys and without --insecure
#     exits 2 (usage), on either side; with --insecure it runs.
# SPDX-License-Identifier: BSD-2-Clause
set -u
BR_TEST=curve
. "${top_srcdir:-.}/tests/bridge-lib.sh"

be=${SK_BACKENDS# }
be=${be%% *}
if [ -z "$be" ]; then
    tap_skip "CURVE tests" "no shared memory backend in this build"
    tap_done
fi
K=$TAP_TMP/keys
mkdir "$K"

# ---------------------------------------------------------------------
# keygen
# ---------------------------------------------------------------------
for name in server client other; do
    tap_cmd "keygen $name" 0 '' '' "$BRIDGE" keygen "$K/$name"
done
tap_ok "keygen: NAME.key and NAME.pub exist" test -s "$K/server.key" -a -s "$K/server.pub"
mode=$(stat -c %a "$K/server.key" 2>/dev/null || stat -f %Lp "$K/server.key")
tap_is "$mode" 600 "keygen: the key pair's file has mode 0600"
if grep -F -f "$K/server.pub" "$K/client.pub" >/dev/null 2>&1; then
    tap_fail "keygen: two runs give different keys"
else
    tap_pass "keygen: two runs give different keys"
fi
cp "$K/server.key" "$TAP_TMP/server.key.before"
"$BRIDGE" keygen "$K/server" >"$TAP_OUT" 2>"$TAP_ERR"
st=$?
if [ $st -ne 0 ] && [ -s "$TAP_ERR" ]; then
    tap_pass "keygen refuses to overwrite without -f (exit $st, with a message)"
else
    tap_fail "keygen refuses to overwrite without -f"
    tap_diag "exit status $st; stderr: $(cat "$TAP_ERR")"
fi
tap_ok "keygen without -f left the key alone" cmp -s "$K/server.key" "$TAP_TMP/server.key.before"
tap_cmd "keygen -f overwrites" 0 '' '' "$BRIDGE" keygen -f "$K/server"
if cmp -s "$K/server.key" "$TAP_TMP/server.key.before"; then
    tap_fail "keygen -f made a new key"
else
    tap_pass "keygen -f made a new key"
fi
# The binding side admits the keys listed in a file; NAME.pub is one.
cat "$K/client.pub" >"$K/allowed"

SERVER="--curve-server-key $K/server.key --curve-client-keys $K/allowed"
CLIENT="--curve-server-key $K/server.pub --curve-client-key $K/client.key"

# ---------------------------------------------------------------------
# A CURVE pair works
# ---------------------------------------------------------------------
src=$(br_spec "$be" 0) dst=$(br_spec "$be" 1)
port=$(br_free_port)
ep="tcp://127.0.0.1:$port"
"$WRITE" --ring 65536 "$src"
br_start snd "$BRIDGE" send -q $SERVER "$src" "$ep"
br_start rcv "$BRIDGE" receive -q $CLIENT "$ep" "$dst"
br_start ver "$STREAM" verify --timeout 60 "$dst" 1000
tap_cmd "curve: 1000 messages sent" 0 "^sent 1000$" - "$STREAM" produce --timeout 60 "$src" 1000
br_wait ver 90
br_is_status $? 0 ver "curve: a listed client gets every message exactly once, in order"

# ---------------------------------------------------------------------
# Refused clients
# ---------------------------------------------------------------------
dst2=$(br_spec "$be" 2)
br_start bad "$BRIDGE" receive $(echo "$CLIENT" | sed 's/client\.key/other.key/') "$ep" "$dst2"
br_wait bad 30
br_is_status $? 6 bad "curve: a client whose key is not listed is refused (exit 6)"
tap_like "$(cat "$TAP_TMP/bad.err")" '[Aa]uthenticat' "curve: the refusal names authentication"
if br_exists "$dst2"; then
    tap_fail "curve: the refused client wrote nothing (no local segment)"
else
    tap_pass "curve: the refused client wrote nothing (no local segment)"
fi
br_start plain "$BRIDGE" receive "$ep" "$dst2"
br_wait plain 30
br_is_status $? 6 plain "curve: a client without CURVE is refused (exit 6)"
"$SK_PLAIN_SHMKIT" rm -f "$dst2"
br_running snd
tap_is $? 0 "curve: the sending bridge survives refused clients"

br_stop rcv 10
br_is_status $? 0 rcv "curve: the receiving bridge exits 0 on SIGTERM"
br_stop snd 10
br_is_status $? 0 snd "curve: the sending bridge exits 0 on SIGTERM"
"$SK_PLAIN_SHMKIT" rm -f "$src" "$dst"

# ---------------------------------------------------------------------
# Not readable on the wire
# ---------------------------------------------------------------------
MARKER="SKBRIDGE-PLAINTEXT-MARKER-$$"

# capture WHAT SECURITY...: run a ring through a pair of bridges on a
# fresh port while tcpdump captures it; 0 if the marker arrived.
captured_some() {
    [ "$(wc -c <"$TAP_TMP/cap.pcap" 2>/dev/null || echo 0)" -gt 1000 ]
}
capture() {
    _what=$1
    shift
    _src=$(br_spec "$be" 3) _dst=$(br_spec "$be" 4)
    _port=$(br_free_port)
    _ep="tcp://127.0.0.1:$_port"
    rm -f "$TAP_TMP/cap.pcap"
    br_start dump tcpdump --immediate-mode -Z root -i lo -n -U -s 0 -w "$TAP_TMP/cap.pcap" "tcp port $_port"
    br_until 20 grep -i 'listening' "$TAP_TMP/dump.err" >/dev/null
    "$WRITE" --ring 65536 "$_src"
    if [ "$_what" = curve ]; then
        br_start snd "$BRIDGE" send -q $SERVER "$_src" "$_ep"
        br_start rcv "$BRIDGE" receive -q $CLIENT "$_ep" "$_dst"
    else
        br_start snd "$BRIDGE" send -q "$_src" "$_ep"
        br_start rcv "$BRIDGE" receive -q "$_ep" "$_dst"
    fi
    br_until 30 br_exists "$_dst"
    for _i in 1 2 3 4 5 6 7 8 9 10; do echo "$MARKER $_i"; done >"$TAP_TMP/lines"
    "$WRITE" "$_src" <"$TAP_TMP/lines"
    "$READ" -t 30 "$_dst" >"$TAP_TMP/got" 2>&1
    _arrived=$?
    br_stop rcv 10 >/dev/null
    br_stop snd 10 >/dev/null
    # Packets reach the file as tcpdump reads them (-U, immediate mode):
    # give it a moment to write what it saw before it is stopped.
    br_until 5 captured_some >/dev/null
    br_stop dump 10 >/dev/null
    "$SK_PLAIN_SHMKIT" rm -f "$_src" "$_dst"
    [ $_arrived -eq 0 ] && grep -F "$MARKER 1" "$TAP_TMP/got" >/dev/null
}

if [ "$(id -u)" -ne 0 ]; then
    tap_skip "curve: no plaintext on the wire" "not root: no capture with tcpdump"
elif ! command -v tcpdump >/dev/null 2>&1; then
    tap_skip "curve: no plaintext on the wire" "tcpdump not installed"
else
    if capture plain; then
        tap_pass "plain: the marked messages crossed"
        if grep -a -F "$MARKER" "$TAP_TMP/cap.pcap" >/dev/null; then
            tap_pass "plain: the capture shows the marker (the check can fail)"
        else
            tap_fail "plain: the capture shows the marker (the check can fail)"
            tap_diag "capture: $(wc -c <"$TAP_TMP/cap.pcap" 2>/dev/null) bytes" \
                "$(tail -n 3 "$TAP_TMP/dump.err")"
        fi
    else
        tap_fail "plain: the marked messages crossed"
        br_show rcv
    fi
    if capture curve; then
        tap_pass "curve: the marked messages crossed"
        bytes=$(wc -c <"$TAP_TMP/cap.pcap" 2>/dev/null)
        if [ "${bytes:-0}" -lt 1000 ]; then
            tap_fail "curve: something was captured"
            tap_diag "capture: ${bytes:-no} bytes"
        elif grep -a -F "$MARKER" "$TAP_TMP/cap.pcap" >/dev/null; then
            tap_fail "curve: the capture does not show the marker"
        else
            tap_pass "curve: the capture does not show the marker ($bytes bytes captured)"
        fi
    else
        tap_fail "curve: the marked messages crossed"
        br_show rcv
    fi
fi

# ---------------------------------------------------------------------
# Non-loopback endpoints need keys or --insecure
# ---------------------------------------------------------------------
src=$(br_spec "$be" 5)
"$WRITE" --ring 65536 "$src"
port=$(br_free_port)
tap_cmd "send: binding tcp://0.0.0.0 without keys is a usage error" 2 - '.' \
    "$BRIDGE" send "$src" "tcp://0.0.0.0:$port"
tap_cmd "receive --bind: binding tcp://0.0.0.0 without keys is a usage error" 2 - '.' \
    "$BRIDGE" receive --bind "tcp://0.0.0.0:$port" "$(br_spec "$be" 6)"
if br_exists "$(br_spec "$be" 6)"; then
    tap_fail "receive --bind: nothing created after the refusal"
else
    tap_pass "receive --bind: nothing created after the refusal"
fi
br_start ins "$BRIDGE" send -q --insecure "$src" "tcp://0.0.0.0:$port"
if br_until 20 br_listening "$port" && br_running ins; then
    tap_pass "send --insecure binds tcp://0.0.0.0 and runs"
else
    tap_fail "send --insecure binds tcp://0.0.0.0 and runs"
    br_show ins
fi
br_stop ins 10
br_is_status $? 0 ins "send --insecure exits 0 on SIGTERM"
"$SK_PLAIN_SHMKIT" rm -f "$src"

tap_done
