#!/bin/sh
# bridge-pyzmq.sh - doc/bridge_slot_client.py, the plain pyzmq client of
# doc/BRIDGE.md, against a sending bridge: it gets the slot's current
# record at once (last-value cache), then each new version, decoded from
# the WELCOME's layout.  Skipped with the reason without pyzmq.
# SPDX-License-Identifier: BSD-2-Clause
set -u
BR_TEST=py
. "${top_srcdir:-.}/tests/bridge-lib.sh"

if [ -z "$BR_PY" ]; then
    tap_skip "the pyzmq slot client" "no Python with pyzmq (import zmq failed; Debian: python3-zmq)"
    tap_done
fi
be=${SK_BACKENDS# }
be=${be%% *}
if [ -z "$be" ]; then
    tap_skip "the pyzmq slot client" "no shared memory backend in this build"
    tap_done
fi
CLIENT=$top_srcdir/doc/bridge_slot_client.py

lines() {
    [ -f "$TAP_TMP/cli.out" ] && [ "$(wc -l <"$TAP_TMP/cli.out")" -ge "$1" ]
}

src=$(br_spec "$be" 0)
tap_cmd "a slot x:i32 y:f64" 0 - - "$WRITE" -L 'x:i32 y:f64' "$src" x=1 y=0.5
port=$(br_free_port)
br_start snd "$BRIDGE" send -q "$src" "tcp://127.0.0.1:$port"
br_start cli "$BR_PY" "$CLIENT" "tcp://127.0.0.1:$port" 3
# Each write once the client has printed the previous record, so that it
# sees every version.
br_until 30 lines 1
tap_cmd "write x=2" 0 - - "$WRITE" "$src" x=2 y=1.25
br_until 30 lines 2
tap_cmd "write x=-3" 0 - - "$WRITE" "$src" x=-3 y=-2
br_wait cli 30
br_is_status $? 0 cli "the client ends after 3 records"
tap_is "$(cat "$TAP_TMP/cli.out")" "version 1: x=1 y=0.5
version 2: x=2 y=1.25
version 3: x=-3 y=-2.0" "the client prints the current record, then each new version"
br_stop snd 10
br_is_status $? 0 snd "the sending bridge exits 0 on SIGTERM"

tap_done
