#!/usr/bin/env python3
"""Receive a slot's records from `shmkit-bridge send SPEC ENDPOINT` with
plain pyzmq (Debian: python3-zmq), as doc/BRIDGE.md's wire format says.

    python3 bridge_slot_client.py tcp://HOST:PORT [COUNT]

Prints "version V: name=value ..." for the current record at once (the
bridge is a last-value cache), then for every new version; stops after
COUNT records if given.  Fields are decoded from the WELCOME's layout text
("x:i32 y:f64 ..."), laid out with natural C alignment; arrays are not
handled, char[N] is.  SPDX-License-Identifier: BSD-2-Clause
"""
import struct
import sys

import zmq

HELLO, WELCOME, DATA, HEARTBEAT, ERROR = 1, 2, 3, 5, 6
TYPES = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "i32": "i", "u32": "I",
         "i64": "q", "u64": "Q", "f32": "f", "f64": "d"}


def header(kind, number):  # 16 bytes: magic, type, flags, version 1, number
    return b"SKB1" + struct.pack("<BBHQ", kind, 0, 1, number)


def decoder(layout):
    """A struct format and the field names for a layout's text."""
    fmt, names, offset = "<", [], 0
    for field in layout.split():
        name, kind = field.split(":")
        if kind.startswith("char["):
            code, size, align = kind[5:-1] + "s", int(kind[5:-1]), 1
        else:
            code = TYPES[kind]
            size = align = struct.calcsize(code)
        pad = -offset % align
        fmt, offset = fmt + "x" * pad + code, offset + pad + size
        names.append(name)
    return fmt, names


def main():
    count = int(sys.argv[2]) if len(sys.argv) > 2 else -1
    sock = zmq.Context().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(sys.argv[1])
    sock.send(header(HELLO, 0))  # a plain client: no payload, "start anywhere"
    fmt, names, version = None, [], 0
    while count != 0:
        if not sock.poll(1000):  # idle: a heartbeat keeps us known
            sock.send(header(HEARTBEAT, version))
            continue
        msg = sock.recv()
        kind, number = msg[4], struct.unpack_from("<Q", msg, 8)[0]
        if kind == WELCOME:
            # kind, policy, reserved, capacity, max_message, record_size,
            # stream, layout_len; then the layout text
            fields = struct.unpack_from("<BBHIIIQH", msg, 16)
            fmt, names = decoder(msg[42:42 + fields[-1]].decode())
        elif kind == DATA and fmt is not None:
            values = struct.unpack_from(fmt, msg, 16)
            text = (v.rstrip(b"\0").decode() if isinstance(v, bytes) else v for v in values)
            print("version %d: %s" % (number, " ".join(
                "%s=%s" % nv for nv in zip(names, text))), flush=True)
            version, count = number, count - 1
        elif kind == ERROR:
            sys.exit("refused (%d): %s" % (number, msg[16:].decode()))


if __name__ == "__main__":
    main()
