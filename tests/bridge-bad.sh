#!/bin/sh
# bridge-bad.sh - shmkit-bridge against bad input, with fake peers written
# with pyzmq (skipped with the reason when "import zmq" fails):
#   - a fake sender (ROUTER) answers a receiving bridge's HELLO with a
#     WELCOME and then garbage: a short frame, a bad magic, a bad protocol
#     version, an unknown type, DATA longer than the WELCOME's max_message,
#     a slot record of the wrong size, a WELCOME whose layout does not
#     parse, DATA_BATCH frames with a record cut short, with a good message
#     before one that is too long (nothing of it may be written), numbered
#     ahead of the block ring, or sent for a slot.  Each time the receiving bridge exits 6 with a message and the
#     local segment (which exists beforehand) is unchanged: same record and
#     version, same number of messages;
#   - a WELCOME whose layout does not match the existing local slot: exit 5,
#     the slot unchanged;
#   - an unknown peer: a DEALER that sends garbage to a receiving bridge's
#     bound endpoint (exit 6, nothing written), and one that sends garbage
#     to a sending bridge (it answers ERROR, drops that peer, keeps serving
#     a real receiver).
# The receiving bridge's HELLO itself is checked by the fake sender.
# SPDX-License-Identifier: BSD-2-Clause
set -u
BR_TEST=bad
. "${top_srcdir:-.}/tests/bridge-lib.sh"

if [ -z "$BR_PY" ]; then
    tap_skip "fake peers" "no Python with pyzmq (import zmq failed; Debian: python3-zmq)"
    tap_done
fi
be=${SK_BACKENDS# }
be=${be%% *}
if [ -z "$be" ]; then
    tap_skip "bad input tests" "no shared memory backend in this build"
    tap_done
fi

cat >"$TAP_TMP/fake.py" <<'EOF'
# fake.py sender ENDPOINT SCENARIO [ARGS]: a ROUTER that binds ENDPOINT,
#   checks the HELLO of the receiving bridge that connects, answers it as
#   SCENARIO says, and waits (at most 20 s) for the bridge to go.
# fake.py dealer ENDPOINT SCENARIO: a DEALER that connects, sends garbage
#   and prints what comes back within 5 s ("error CODE TEXT" or "nothing").
import struct, sys, time
import zmq

HELLO, WELCOME, DATA, ACK, HEARTBEAT, ERROR, BYE, DATA_BATCH = range(1, 9)
LAYOUT = b"n:u64 x:f64 tag:char[16]"

def frame(kind, number, payload=b"", magic=b"SKB1", version=1):
    return magic + struct.pack("<BBHQ", kind, 0, version, number) + payload

def welcome(number, kind=1, policy=0, capacity=0, max_message=0, record=32,
            layout=LAYOUT):
    return frame(WELCOME, number, struct.pack("<BBHIIIQH", kind, policy, 0, capacity,
                                              max_message, record, 0x5eed, len(layout)) + layout)

def slot_welcome():
    return welcome(1)

def ring_welcome(a):
    return welcome(0, kind=2, policy=1, capacity=int(a[0]), max_message=int(a[1]),
                   record=0, layout=b"")

def batch(number, *messages, cut=0):
    body = b"".join(struct.pack("<I", len(m)) + m for m in messages)
    return frame(DATA_BATCH, number, body[:len(body) - cut])

SCENARIOS = {
    "short": lambda a: [slot_welcome(), b"SKB1\x03"],
    "magic": lambda a: [slot_welcome(), frame(DATA, 2, bytes(32), magic=b"XKB1")],
    "version": lambda a: [slot_welcome(), frame(DATA, 2, bytes(32), version=2)],
    "type": lambda a: [slot_welcome(), frame(99, 2, bytes(32))],
    "recsize": lambda a: [slot_welcome(), frame(DATA, 2, bytes(31))],
    "badlayout": lambda a: [welcome(1, layout=b"n:u64 x:")],
    "mismatch": lambda a: [welcome(1, record=16, layout=b"a:i32 b:f64"), frame(DATA, 2, bytes(16))],
    # a block ring of the given geometry, then a message one byte too long
    "toolong": lambda a: [welcome(0, kind=2, policy=1, capacity=int(a[0]), max_message=int(a[1]),
                                  record=0, layout=b""),
                          frame(DATA, 0, bytes(int(a[1]) + 1))],
    "batchlong": lambda a: [ring_welcome(a), batch(0, bytes(8), bytes(int(a[1]) + 1))],
    "batchcut": lambda a: [ring_welcome(a), batch(0, bytes(8), bytes(50), cut=40)],
    "batchahead": lambda a: [ring_welcome(a), batch(5, bytes(8), bytes(8))],
    "batchslot": lambda a: [slot_welcome(), batch(2, bytes(32), bytes(32))],
}

def sender(endpoint, scenario, args):
    ctx = zmq.Context()
    s = ctx.socket(zmq.ROUTER)
    s.setsockopt(zmq.LINGER, 2000)
    s.bind(endpoint)
    if not s.poll(20000):
        print("no HELLO within 20 s")
        return 1
    peer, hello = s.recv_multipart()
    problems = []
    if len(hello) not in (16, 28):
        problems.append("length %d" % len(hello))
    if hello[:4] != b"SKB1":
        problems.append("magic %r" % hello[:4])
    else:
        kind, flags, version, number = struct.unpack("<BBHQ", hello[4:16])
        if kind != HELLO or version != 1:
            problems.append("type %d version %d" % (kind, version))
        if not flags & 1:
            problems.append("no BATCH flag")
    print("hello " + ("ok" if not problems else "bad: " + ", ".join(problems)), flush=True)
    for f in SCENARIOS[scenario](args):
        s.send_multipart([peer, f])
    # Until the bridge hangs up (or 20 s): answer nothing more.
    deadline = time.time() + 20
    while time.time() < deadline:
        if s.poll(200):
            s.recv_multipart()
    return 0

def dealer(endpoint, scenario):
    ctx = zmq.Context()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    junk = {"garbage": b"this is not a shmkit-bridge frame",
            "hello": frame(HELLO, 0, struct.pack("<III", 1024, 8192, 1)) + b"x"}[scenario]
    s.send(junk)
    if s.poll(5000):
        reply = s.recv()
        if len(reply) >= 16 and reply[:4] == b"SKB1" and reply[4] == ERROR:
            number = struct.unpack("<Q", reply[8:16])[0]
            print("error %d %s" % (number, reply[16:].decode("utf-8", "replace")))
            return 0
        print("reply %r" % reply[:32])
        return 0
    print("nothing")
    return 0

if __name__ == "__main__":
    if sys.argv[1] == "sender":
        sys.exit(sender(sys.argv[2], sys.argv[3], sys.argv[4:]))
    sys.exit(dealer(sys.argv[2], sys.argv[3]))
EOF

LAYOUT='n:u64 x:f64 tag:char[16]'
slot=$(br_spec "$be" 0)
ring=$(br_spec "$be" 1)
tap_cmd "a local slot" 0 - - "$WRITE" -L "$LAYOUT" "$slot" n=7 x=1.75 tag=v7
tap_cmd "a local block ring" 0 - - "$WRITE" --ring 65536 --max-message 100 "$ring"
ring_max=$("$SK_PLAIN_SHMKIT" info "$ring" | sed -n 's/^max-message: //p')
ring_cap=$("$SK_PLAIN_SHMKIT" info "$ring" | sed -n 's/^capacity: //p')

# state SPEC: what must not change (the record, the version, the count of
# messages).
state() {
    "$SK_PLAIN_SHMKIT" info "$1" 2>&1 | grep -E '^(version|messages|layout|record-size|capacity):'
    case $("$SK_PLAIN_SHMKIT" info "$1" 2>/dev/null | sed -n 's/^kind: //p') in
        slot) "$SK_PLAIN_READ" "$1" 2>&1 ;;
    esac
}

# bad_sender SCENARIO SPEC STATUS DESC [ARGS]
bad_sender() {
    _sc=$1 _spec=$2 _want=$3 _desc=$4
    shift 4
    before=$(state "$_spec")
    port=$(br_free_port)
    br_start fake "$BR_PY" "$TAP_TMP/fake.py" sender "tcp://127.0.0.1:$port" "$_sc" "$@"
    br_start rcv "$BRIDGE" receive "tcp://127.0.0.1:$port" "$_spec"
    br_wait rcv 30
    br_is_status $? "$_want" rcv "$_desc: the receiving bridge exits $_want"
    tap_like "$(cat "$TAP_TMP/rcv.err")" '^shmkit-bridge: .*[a-z]' "$_desc: with a message"
    tap_diag "$(head -n 2 "$TAP_TMP/rcv.err")"
    tap_is "$(state "$_spec")" "$before" "$_desc: the local segment is unchanged"
    br_stop fake 30 >/dev/null
    tap_is "$(head -n 1 "$TAP_TMP/fake.out")" "hello ok" "$_desc: the bridge's HELLO was well-formed"
}

bad_sender short "$slot" 6 "a frame shorter than a header"
bad_sender magic "$slot" 6 "a bad magic"
bad_sender version "$slot" 6 "protocol version 2"
bad_sender type "$slot" 6 "an unknown frame type"
bad_sender recsize "$slot" 6 "a slot record of the wrong size"
bad_sender badlayout "$slot" 6 "a WELCOME whose layout does not parse"
bad_sender mismatch "$slot" 5 "a WELCOME whose layout does not match the local slot"
bad_sender toolong "$ring" 6 "DATA longer than max_message" "$ring_cap" "$ring_max"
bad_sender batchlong "$ring" 6 "a DATA_BATCH with a message longer than max_message" \
    "$ring_cap" "$ring_max"
bad_sender batchcut "$ring" 6 "a DATA_BATCH with a record cut short" "$ring_cap" "$ring_max"
bad_sender batchahead "$ring" 6 "a DATA_BATCH ahead of the block ring" "$ring_cap" "$ring_max"
bad_sender batchslot "$slot" 6 "a DATA_BATCH for a slot"

# An unknown peer at a receiving bridge's bound endpoint.
port=$(br_free_port)
before=$(state "$slot")
br_start rcv "$BRIDGE" receive --bind "tcp://127.0.0.1:$port" "$slot"
br_until 20 br_listening "$port"
tap_cmd "unknown peer: a DEALER sends a HELLO to a receiving bridge" 0 '' - \
    "$BR_PY" "$TAP_TMP/fake.py" dealer "tcp://127.0.0.1:$port" hello
br_wait rcv 30
br_is_status $? 6 rcv "unknown peer: the receiving bridge exits 6"
tap_like "$(cat "$TAP_TMP/rcv.err")" '^shmkit-bridge: .*[a-z]' "unknown peer: with a message"
tap_is "$(state "$slot")" "$before" "unknown peer: the local slot is unchanged"

# An unknown peer at a sending bridge: ERROR back, the bridge goes on.
src=$(br_spec "$be" 2) dst=$(br_spec "$be" 3)
"$STREAM" slot-produce "$src" 10 >/dev/null
port=$(br_free_port)
br_start snd "$BRIDGE" send "$src" "tcp://127.0.0.1:$port"
br_until 20 br_listening "$port"
tap_cmd "unknown peer: garbage to a sending bridge is answered with ERROR" 0 '^error [0-9]+ .' - \
    "$BR_PY" "$TAP_TMP/fake.py" dealer "tcp://127.0.0.1:$port" garbage
br_running snd
tap_is $? 0 "unknown peer: the sending bridge goes on"
br_start rcv "$BRIDGE" receive -q "tcp://127.0.0.1:$port" "$dst"
tap_cmd "unknown peer: a real receiver still gets the slot" 0 '^n 10 ' - \
    "$STREAM" slot-last --timeout 30 "$dst" 10
br_stop rcv 10
br_is_status $? 0 rcv "the receiving bridge exits 0 on SIGTERM"
br_stop snd 10
br_is_status $? 0 snd "the sending bridge exits 0 on SIGTERM"

tap_done
