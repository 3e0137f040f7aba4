#!/bin/sh
# bridge-pyzmq.sh - doc/bridge_slot_client.py, the plain pyzmq client of
# doc/BRIDGE.md, against a sending bridge: it gets the slot's current
# record at once (last-value cache), then each new version, decoded from
# the WELCOME's layout.  Then two fake receivers of a block ring's
# stream, written from doc/BRIDGE.md: one that leaves the BATCH flag clear
# gets DATA frames only, one that sets it gets DATA_BATCH frames (several
# messages in one) whose numbers follow each other.  And a late ACK of an
# earlier session (HELLOs queued during an outage) moves the stream on
# instead of ending it.  Skipped with the reason without pyzmq.
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

cat >"$TAP_TMP/ring_client.py" <<'EOF'
# ring_client.py ENDPOINT FLAGS COUNT: a DEALER that says HELLO (any start,
# header flags FLAGS), acknowledges what it gets, and prints what kinds of
# frames carried the messages numbered from the WELCOME's on, COUNT of them.
import struct, sys
import zmq

endpoint, flags, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(endpoint)

def frame(kind, number, payload=b""):
    return b"SKB1" + struct.pack("<BBHQ", kind, flags, 1, number) + payload

s.send(frame(1, 0, struct.pack("<III", 100000, 65536, 1)))
start, need, data, batches, biggest = None, None, 0, 0, 0
while need is None or need - start < count:
    if not s.poll(30000):
        sys.exit("nothing for 30 s at message %s" % need)
    f = s.recv()
    kind, number = f[4], struct.unpack("<Q", f[8:16])[0]
    if kind == 2:
        start = need = number
        continue
    if kind == 3:
        msgs = [f[16:]]
        data += 1
    elif kind == 8:
        msgs, at = [], 16
        while at < len(f):
            (n,) = struct.unpack("<I", f[at:at + 4])
            msgs.append(f[at + 4:at + 4 + n])
            at += 4 + n
        batches += 1
        biggest = max(biggest, len(msgs))
    else:
        continue
    if need is None or number != need:
        sys.exit("frame numbered %d where %s was due" % (number, need))
    need += len(msgs)
    s.send(frame(4, need, struct.pack("<II", 100000, 65536)))
print("data %s batch %s several %s" % ("yes" if data else "no", "yes" if batches else "no",
                                        "yes" if biggest > 1 else "no"))
EOF

# ring_client_case FLAGS WANT DESC: 2000 messages already in a block ring,
# forwarded from the oldest to the fake receiver.
ring_client_case() {
    ring=$(br_spec "$be" 1)
    tap_cmd "$3: a block ring" 0 - - "$WRITE" --ring 1048576 "$ring"
    tap_cmd "$3: 2000 messages in it" 0 '^sent 2000$' - "$STREAM" produce "$ring" 2000 40
    port=$(br_free_port)
    br_start snd "$BRIDGE" send -q --from-oldest "$ring" "tcp://127.0.0.1:$port"
    tap_cmd "$3" 0 "^$2\$" - "$BR_PY" "$TAP_TMP/ring_client.py" "tcp://127.0.0.1:$port" "$1" 2000
    br_stop snd 10
    br_is_status $? 0 snd "$3: the sending bridge exits 0 on SIGTERM"
    "$SK_PLAIN_SHMKIT" rm -f "$ring"
}
ring_client_case 0 "data yes batch no several no" "a client without the BATCH flag gets DATA frames only"
ring_client_case 1 "data no batch yes several yes" \
    "a client with the BATCH flag gets the ready messages in DATA_BATCH frames"

# A late ACK: the receiver's HELLOs queue up while the link is down and
# each one restarts the session, so an ACK of an earlier session can
# name more than the current one has sent.  The sender must go on from
# there (a WELCOME at that number), not refuse the receiver.
cat >"$TAP_TMP/late_ack.py" <<'EOF'
import struct, sys
import zmq

ctx = zmq.Context()
s = ctx.socket(zmq.DEALER)
s.setsockopt(zmq.LINGER, 0)
s.connect(sys.argv[1])

def frame(kind, number, payload=b""):
    return b"SKB1" + struct.pack("<BBHQ", kind, 0, 1, number) + payload

def recv():
    if not s.poll(30000):
        sys.exit("nothing for 30 s")
    f = s.recv()
    return f[4], struct.unpack("<Q", f[8:16])[0], f

s.send(frame(1, 0, struct.pack("<III", 100000, 65536, 1)))   # HELLO, any start
got = 0
while got < 100:
    kind, number, f = recv()
    if kind == 3:
        got = number + 1
s.send(frame(1, 0, struct.pack("<III", 1, 1, 0)))            # HELLO again: need 0, window 1
while True:                                                   # its WELCOME(0)
    kind, number, f = recv()
    if kind == 2:
        break
s.send(frame(4, 100, struct.pack("<II", 100000, 65536)))     # the late ACK of 100
while True:
    kind, number, f = recv()
    if kind == 6:
        print("error", f[16:].decode("utf-8", "replace"))
        break
    if kind == 2:
        print("welcome", number)
        break
EOF
ring=$(br_spec "$be" 2)
tap_cmd "late ACK: a block ring" 0 - - "$WRITE" --ring 1048576 "$ring"
tap_cmd "late ACK: 2000 messages in it" 0 '^sent 2000$' - "$STREAM" produce "$ring" 2000 40
port=$(br_free_port)
br_start snd "$BRIDGE" send -q --from-oldest "$ring" "tcp://127.0.0.1:$port"
tap_cmd "late ACK: the sender goes on from the ACK's number" 0 '^welcome 100$' - \
    "$BR_PY" "$TAP_TMP/late_ack.py" "tcp://127.0.0.1:$port"
br_stop snd 10
br_is_status $? 0 snd "late ACK: the sending bridge exits 0 on SIGTERM"
"$SK_PLAIN_SHMKIT" rm -f "$ring"

tap_done
