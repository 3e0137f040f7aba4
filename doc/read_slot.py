#!/usr/bin/env python3
# read_slot.py - read the latest record of a shmkit slot without libshmkit,
# following doc/FORMAT.md (segment format 3.0).  It shows that the format
# document is complete: everything below comes from it.
#
# usage: read_slot.py SPEC
#   SPEC  /NAME           POSIX shared memory
#         sysv:0xKEY      System V, explicit key (or sysv:DECIMAL)
#
# Prints "# version N" and then the record as "field=value" lines, like
# shmkit-read.  Exit status: 0 ok, 1 error, 2 usage, 3 no such segment,
# 5 not a (valid, compatible) shmkit slot.
#
# System V needs the sysv_ipc module (Debian: python3-sysv-ipc).
#
# Memory ordering: Python has no atomic loads or fences.  The seqlock check
# below is exact on x86 and x86-64, where loads are not reordered with other
# loads; on weakly ordered CPUs (ARM, POWER) a copy could in principle pass
# the check while torn.  Use libshmkit (or a language with atomics) there.
#
# Copyright (c) 2026 The shmkit authors.
# SPDX-License-Identifier: BSD-2-Clause

import ctypes
import mmap
import os
import re
import struct
import sys
import time

HEADER_SIZE = 768
MAGIC = b"SHMKIT\0\0"
BYTE_ORDER_MARK = 0x01020304
FORMAT_MAJOR = 3
KIND_SLOT = 1
KIND_RING = 2
HFLAG_RAW = 0x0001
STATE_READY = 1
LAYOUT_AREA = 256
RECORD_MAX = 1 << 30
SLOT_BUF_HDR = 16
SLOT_BUF_ALIGN = 64
OFF_STATE = 124
BUF_COMMIT = 0      # in a slot buffer: u32 commit word
BUF_VERSION = 8     # in a slot buffer: u64 version
READ_ATTEMPTS = 100000

# Bytes 0..127, native byte order, no padding ("="): magic, format_major,
# format_minor, kind, header_flags, byte_order, header_size, total_size,
# payload_offset, payload_size, record_size, capacity, layout_len,
# creator_pid, creator_start, created_sec, wait_mech, wait_semid,
# creator_pidns, consumers, reserved0, checksum, state.
STATIC_LINE = struct.Struct("=8sHHHHIIQQQQQIIQqIiII16sII")
assert STATIC_LINE.size == 128

EXIT_ERROR, EXIT_USAGE, EXIT_NOENT, EXIT_BAD = 1, 2, 3, 5


class SlotError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def bad(message):
    return SlotError(EXIT_BAD, message)


# ---------------------------------------------------------------------
# Mapping the segment read-only, size checked first
# ---------------------------------------------------------------------

class PosixSegment:
    """A POSIX shared memory object, mapped read-only."""

    def __init__(self, name):
        fd = self._open(name)
        try:
            size = os.fstat(fd).st_size
            # Check the size before mapping: touching a mapping beyond the
            # end of the object is SIGBUS.
            if size < HEADER_SIZE:
                raise bad("not a shmkit segment (object of %d bytes is smaller "
                          "than a header)" % size)
            self.size = size
            self.mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ)
        finally:
            os.close(fd)

    @staticmethod
    def _open(name):
        try:
            try:
                # CPython's shm_open binding (used by multiprocessing), so
                # that systems without /dev/shm work too.
                import _posixshmem
                return _posixshmem.shm_open(name, os.O_RDONLY, mode=0)
            except ImportError:
                return os.open("/dev/shm" + name, os.O_RDONLY)
        except FileNotFoundError:
            raise SlotError(EXIT_NOENT, "no such segment")

    def read(self, offset, count):
        return self.mm[offset:offset + count]

    def close(self):
        self.mm.close()


class SysvSegment:
    """A System V segment, attached read-only."""

    def __init__(self, key):
        try:
            import sysv_ipc
        except ImportError:
            raise SlotError(EXIT_ERROR, "System V needs the Python module sysv_ipc "
                            "(Debian: python3-sysv-ipc)")
        # sysv_ipc's SharedMemory(key) attaches read-write; look the id up
        # with shmget(key, 0, 0) and attach it with SHM_RDONLY instead.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
        shmid = libc.shmget(key, 0, 0)
        if shmid < 0:
            err = ctypes.get_errno()
            if err == 2:  # ENOENT
                raise SlotError(EXIT_NOENT, "no such segment")
            raise SlotError(EXIT_ERROR, "shmget: " + os.strerror(err))
        self.shm = sysv_ipc.attach(shmid, flags=sysv_ipc.SHM_RDONLY)
        # A System V mapping is exactly the segment, so reading cannot
        # fault; still refuse a segment too small for a header.
        self.size = self.shm.size
        if self.size < HEADER_SIZE:
            self.shm.detach()
            raise bad("not a shmkit segment (segment of %d bytes is smaller "
                      "than a header)" % self.size)

    def read(self, offset, count):
        return self.shm.read(count, offset)

    def close(self):
        self.shm.detach()


def open_segment(spec):
    if re.fullmatch(r"/[A-Za-z0-9._-]{1,30}", spec) and spec not in ("/.", "/.."):
        return PosixSegment(spec)
    m = re.fullmatch(r"sysv:(0[xX][0-9A-Fa-f]+|[0-9]+)", spec)
    if m:
        key = int(m.group(1), 0)
        if 0 < key <= 0xFFFFFFFF:
            # key_t is a signed 32-bit int: keep the bit pattern.
            return SysvSegment(key - (1 << 32) if key >= 1 << 31 else key)
    raise SlotError(EXIT_USAGE, "bad spec (expected /NAME, sysv:0xKEY or sysv:DECIMAL)")


def u32(seg, offset):
    return struct.unpack("=I", seg.read(offset, 4))[0]


# ---------------------------------------------------------------------
# The layout language
# ---------------------------------------------------------------------

# Type name -> (struct code, size).  The alignment is measured like a C
# compiler places a member after a char: calcsize("@cX") - size.
TYPES = {"i8": "b", "u8": "B", "i16": "h", "u16": "H", "i32": "i", "u32": "I",
         "i64": "q", "u64": "Q", "f32": "f", "f64": "d", "char": "s"}
FIELD_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]{0,30}):([a-z0-9]+)(?:\[([0-9]+)\])?")


def member_align(code):
    return struct.calcsize("@c" + code) - struct.calcsize("@" + code)


def parse_layout(text):
    """[(name, type, count, is_array, offset)], record size."""
    fields, offset, align, names = [], 0, 1, set()
    for item in re.split(r"[ ,\t\r\n]+", text.strip(" ,\t\r\n")):
        m = FIELD_RE.fullmatch(item)
        if not m or m.group(2) not in TYPES or m.group(1) in names:
            raise ValueError("bad field %r" % item)
        name, tname, count = m.group(1), m.group(2), m.group(3)
        if tname == "char" and count is None:
            raise ValueError("char needs a length")
        n = int(count) if count is not None else 1
        code = TYPES[tname]
        size = 1 if code == "s" else struct.calcsize("=" + code)
        a = 1 if code == "s" else member_align(code)
        if n < 1 or n * size > RECORD_MAX:
            raise ValueError("bad array length in %r" % item)
        offset = (offset + a - 1) // a * a
        fields.append((name, tname, n, count is not None and code != "s", offset))
        names.add(name)
        offset += n * size
        align = max(align, a)
    if not fields or len(fields) > 64:
        raise ValueError("no fields or too many")
    return fields, (offset + align - 1) // align * align


def canonical_layout(fields):
    return " ".join("%s:%s[%d]" % (name, tname, n) if is_array or tname == "char"
                    else "%s:%s" % (name, tname)
                    for name, tname, n, is_array, offset in fields)


def shortest(x, single):
    """The shortest %g form that reads back as exactly X."""
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    for digits in range(1, 18):
        text = "%.*g" % (digits, x)
        back = float(text)
        if single:
            back = struct.unpack("=f", struct.pack("=f", back))[0]
        if back == x:
            return text
    return text


def escape_text(raw):
    out = []
    for c in raw.split(b"\0", 1)[0]:
        if c == 0x5C:
            out.append("\\\\")
        elif c == 0x0A:
            out.append("\\n")
        elif c == 0x09:
            out.append("\\t")
        elif c < 0x20 or c >= 0x7F:
            out.append("\\x%02x" % c)
        else:
            out.append(chr(c))
    return "".join(out)


def format_record(fields, record):
    lines = []
    for name, tname, count, is_array, offset in fields:
        if tname == "char":
            value = escape_text(record[offset:offset + count])
        else:
            code = TYPES[tname]
            values = struct.unpack_from("=%d%s" % (count, code), record, offset)
            if code in "fd":
                values = [shortest(v, code == "f") for v in values]
            value = ",".join(str(v) for v in values)
        lines.append("%s=%s" % (name, value))
    return "\n".join(lines)


# ---------------------------------------------------------------------
# Header validation (FORMAT.md, "Validation")
# ---------------------------------------------------------------------

def fnv1a(data, h=0x811C9DC5):
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def wait_until_ready(seg):
    deadline = time.monotonic() + 0.5
    while u32(seg, OFF_STATE) != STATE_READY:
        if seg.read(0, 8) not in (MAGIC, bytes(8)):
            raise bad("not a shmkit segment (bad magic)")
        if time.monotonic() >= deadline:
            raise bad("segment creation incomplete (creator died or is still busy)")
        time.sleep(0.001)


def validate_header(seg):
    wait_until_ready(seg)
    snap = seg.read(0, 384)  # everything below uses this private copy
    (magic, major, minor, kind, flags, bom, header_size, total_size,
     payload_offset, payload_size, record_size, capacity, layout_len,
     creator_pid, creator_start, created_sec, wait_mech, wait_semid,
     creator_pidns, consumers, reserved0, checksum,
     state) = STATIC_LINE.unpack_from(snap)
    if magic != MAGIC:
        raise bad("not a shmkit segment (bad magic)")
    if bom != BYTE_ORDER_MARK:
        raise bad("incompatible segment format version (byte order)")
    if major != FORMAT_MAJOR:
        raise bad("incompatible segment format version %d.%d" % (major, minor))
    if header_size != HEADER_SIZE:
        raise bad("corrupt segment (header size %d)" % header_size)
    if fnv1a(snap[128:384], fnv1a(snap[0:120])) != checksum:
        raise bad("corrupt segment (header checksum mismatch)")
    # Python integers do not overflow; the comparisons are written in the
    # overflow-safe order a C reader needs anyway.
    if total_size < HEADER_SIZE or total_size > seg.size:
        raise bad("corrupt segment (total size %d)" % total_size)
    if (payload_offset < HEADER_SIZE or payload_offset % 64 != 0
            or payload_offset > total_size
            or payload_offset != HEADER_SIZE + 128 * consumers):
        raise bad("corrupt segment (payload offset %d)" % payload_offset)
    if payload_size > total_size - payload_offset:
        raise bad("corrupt segment (payload runs past the end)")
    if layout_len >= LAYOUT_AREA:
        raise bad("corrupt segment (layout length %d)" % layout_len)
    layout = snap[128:128 + layout_len + 1]
    if b"\0" in layout[:layout_len] or layout[layout_len] != 0:
        raise bad("corrupt segment (layout text not terminated at its length)")
    if kind == KIND_RING:
        raise SlotError(EXIT_BAD, "wrong segment kind (a ring, not a slot)")
    if kind != KIND_SLOT:
        raise bad("corrupt segment (unknown kind %d)" % kind)
    if consumers != 0:
        raise bad("corrupt segment (a slot with %d consumer entries)" % consumers)
    if record_size == 0 or record_size > RECORD_MAX:
        raise bad("corrupt segment (record size %d)" % record_size)
    stride = (SLOT_BUF_HDR + record_size + SLOT_BUF_ALIGN - 1) // SLOT_BUF_ALIGN * SLOT_BUF_ALIGN
    if payload_size != 2 * stride:
        raise bad("corrupt segment (payload size %d)" % payload_size)
    if bool(flags & HFLAG_RAW) != (layout_len == 0):
        raise bad("corrupt segment (raw flag and layout disagree)")
    fields = None
    if layout_len:
        try:
            text = layout[:layout_len].decode("ascii")
            fields, size = parse_layout(text)
        except (ValueError, UnicodeDecodeError):
            raise bad("corrupt segment (layout text does not parse)")
        if canonical_layout(fields) != text:
            raise bad("corrupt segment (layout text not in canonical form)")
        if size != record_size:
            raise bad("corrupt segment (layout size %d, record size %d)" % (size, record_size))
    return payload_offset, stride, record_size, fields


# ---------------------------------------------------------------------
# The slot reader protocol (FORMAT.md, "Slot")
# ---------------------------------------------------------------------

def complete_in(commit, b):
    """Does commit word COMMIT say that buffer B holds a complete version?"""
    return commit & 1 == 0 and (commit >> 1) & 1 == b


def newest_buffer(c):
    """The buffer holding the newer complete version, or None."""
    ok0, ok1 = complete_in(c[0], 0), complete_in(c[1], 1)
    if ok0 and ok1:
        return 1 if (c[1] - c[0]) & 0xFFFFFFFF < 0x80000000 else 0
    return 1 if ok1 else 0 if ok0 else None


def read_record(seg, payload_offset, stride, record_size):
    for attempt in range(READ_ATTEMPTS):
        # load both commit words (acquire)
        c = [u32(seg, payload_offset + i * stride + BUF_COMMIT) for i in (0, 1)]
        b = newest_buffer(c)
        if b is not None:
            start = payload_offset + b * stride
            copy = seg.read(start, SLOT_BUF_HDR + record_size)
            again = u32(seg, start + BUF_COMMIT)    # (acquire fence) load it again
            version = struct.unpack_from("=Q", copy, BUF_VERSION)[0]
            if again == c[b] and (version << 1) & 0xFFFFFFFF == c[b]:
                return version, copy[SLOT_BUF_HDR:]
        if attempt >= 16:
            time.sleep(0)
    raise SlotError(EXIT_ERROR, "record changed during every retry")


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: read_slot.py SPEC\n")
        return EXIT_USAGE
    spec = argv[1]
    try:
        seg = open_segment(spec)
        try:
            payload_offset, stride, record_size, fields = validate_header(seg)
            version, record = read_record(seg, payload_offset, stride, record_size)
        finally:
            seg.close()
    except SlotError as e:
        sys.stderr.write("read_slot.py: %s: %s\n" % (spec, e))
        return e.status
    except OSError as e:
        sys.stderr.write("read_slot.py: %s: %s\n" % (spec, e.strerror or e))
        return EXIT_ERROR
    print("# version %d" % version)
    print(format_record(fields, record) if fields else "record=" + record.hex())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
