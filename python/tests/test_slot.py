# test_slot.py - shmkit.Slot: values, raw slots, waits, follow, and records
# exchanged with the C tools (shmkit-write -> Python, Python -> shmkit-read)
# on every backend.
# SPDX-License-Identifier: BSD-2-Clause

import io
import math
import threading
import time

import shmkit
import support

LAYOUT = "id:u32 temp:f64 name:char[16] pos:i16[3] flags:u8 big:i64 ubig:u64 f:f32"


class SlotValues(support.TestCase):
    def test_defaults_and_round_trip(self):
        spec, w = self.slot(layout=LAYOUT)
        rec, version = w.read()
        self.assertEqual(version, 0)
        self.assertEqual(rec, {"id": 0, "temp": 0.0, "name": "", "pos": [0, 0, 0],
                               "flags": 0, "big": 0, "ubig": 0, "f": 0.0})
        self.assertEqual(w.write(id=7, temp=-1.25, name="Tempelhof", pos=[1, -2, 3],
                                 flags=255, big=-2**63, ubig=2**64 - 1, f=0.5), 1)
        r = self.closing(shmkit.Slot.open(spec))
        rec, version = r.read()
        self.assertEqual(version, 1)
        self.assertEqual(rec, {"id": 7, "temp": -1.25, "name": "Tempelhof",
                               "pos": [1, -2, 3], "flags": 255, "big": -2**63,
                               "ubig": 2**64 - 1, "f": 0.5})
        self.assertEqual(r.version, 1)
        self.assertEqual(r.layout, LAYOUT)
        self.assertEqual(r.fields, ("id", "temp", "name", "pos", "flags", "big", "ubig", "f"))
        self.assertFalse(r.writable)
        self.assertTrue(w.writable)

    def test_unnamed_fields_keep_their_value(self):
        # As shmkit-write: the fields not named keep their current value.
        spec, w = self.slot(layout=LAYOUT)
        w.write(id=1, name="a", pos=[4, 5, 6])
        w.write(temp=2.0)
        rec, v = w.read()
        self.assertEqual((rec["id"], rec["name"], rec["pos"], rec["temp"], v),
                         (1, "a", [4, 5, 6], 2.0, 2))
        # No argument: the same record again, under a new version.
        self.assertEqual(w.write(), 3)
        self.assertEqual(w.read()[0], rec)
        # A mapping is the same as keywords.
        w.write({"id": 9})
        self.assertEqual(w.read()[0]["id"], 9)

    def test_short_array_zero_fills(self):
        spec, w = self.slot(layout="v:i32[4]")
        w.write(v=[1, 2, 3, 4])
        w.write(v=(9,))
        self.assertEqual(w.read()[0]["v"], [9, 0, 0, 0])

    def test_text(self):
        spec, w = self.slot(layout="s:char[8]")
        w.write(s="1234567")
        self.assertEqual(w.read()[0]["s"], "1234567")
        w.write(s=b"ab\xffc")  # bytes; not UTF-8: round-trips via surrogateescape
        s = w.read()[0]["s"]
        self.assertEqual(s, "ab\udcffc")
        w.write(s=s)
        self.assertEqual(w.read()[0]["s"], s)
        w.write(s="é")
        self.assertEqual(w.read()[0]["s"], "é")
        with self.assertRaises(ValueError):
            w.write(s="12345678")  # 8 bytes do not fit char[8]
        with self.assertRaises(ValueError):
            w.write(s="a\0b")
        with self.assertRaises(TypeError):
            w.write(s=5)

    def test_bad_values_publish_nothing(self):
        spec, w = self.slot(layout=LAYOUT)
        w.write(id=1)
        for kw, exc in [({"id": -1}, OverflowError), ({"id": 2**32}, OverflowError),
                        ({"flags": 256}, OverflowError), ({"big": 2**63}, OverflowError),
                        ({"ubig": -1}, OverflowError), ({"f": 1e300}, OverflowError),
                        ({"id": 1.5}, TypeError), ({"id": "1"}, TypeError),
                        ({"temp": "x"}, TypeError), ({"pos": [1, 2, 3, 4]}, ValueError),
                        ({"pos": 5}, TypeError), ({"pos": [1, 2**20]}, OverflowError),
                        ({"nosuch": 1}, TypeError), ({"id": 2, "nosuch": 1}, TypeError)]:
            with self.assertRaises(exc, msg=repr(kw)):
                w.write(**kw)
        rec, v = w.read()
        self.assertEqual((rec["id"], v), (1, 1))

    def test_floats(self):
        spec, w = self.slot(layout="a:f32 b:f64")
        w.write(a=float("inf"), b=float("nan"))
        rec = w.read()[0]
        self.assertEqual(rec["a"], float("inf"))
        self.assertTrue(math.isnan(rec["b"]))
        w.write(a=3, b=0.1)  # ints are taken; f32 is rounded
        rec = w.read()[0]
        self.assertEqual(rec["a"], 3.0)
        self.assertEqual(rec["b"], 0.1)

    def test_bytes_write_and_read_into(self):
        spec, w = self.slot(layout="a:u8 b:u32")
        self.assertEqual(w.record_size, 8)
        w.write(bytes([1, 0, 0, 0, 2, 0, 0, 0]))
        self.assertEqual(w.read()[0], {"a": 1, "b": 2})
        buf = bytearray(10)
        self.assertEqual(w.read_into(buf), 1)
        self.assertEqual(buf[:8], bytes([1, 0, 0, 0, 2, 0, 0, 0]))
        with self.assertRaises(ValueError):
            w.read_into(bytearray(7))
        with self.assertRaises(TypeError):
            w.read_into(b"12345678")  # not writable
        with self.assertRaises(ValueError):
            w.write(b"1234567")
        with self.assertRaises(TypeError):
            w.write(b"12345678", a=1)

    def test_raw_slot(self):
        spec, w = self.slot(size=5)
        self.assertIsNone(w.layout)
        self.assertEqual(w.read(), (b"\0" * 5, 0))
        w.write(b"hello")
        r = self.closing(shmkit.Slot.open(spec))
        self.assertEqual(r.read(), (b"hello", 1))
        with self.assertRaises(TypeError):
            w.write(a=1)
        with self.assertRaises(TypeError):
            r.dtype

    def test_create_arguments(self):
        with self.assertRaises(TypeError):
            shmkit.Slot.create(self.spec())  # neither layout nor size
        with self.assertRaises(shmkit.InvalidArgumentError):
            shmkit.Slot.create(self.spec(), "a:u9")
        with self.assertRaises(ValueError):
            shmkit.Slot.create(self.spec(), size=0)
        with self.assertRaises(ValueError):
            shmkit.Slot.create(self.spec(), "a:u8 b:f64", size=9)
        sspec, s16 = self.slot(layout="a:u8 b:f64", size=16)
        self.assertEqual(s16.record_size, 16)
        s16.close()
        with self.assertRaises(shmkit.IncompatibleError):  # raw, 16 bytes: no layout
            shmkit.Slot.create(sspec, size=16)
        with self.assertRaises(shmkit.InvalidArgumentError):
            shmkit.Slot.create("no-slash", size=4)
        with self.assertRaises(TypeError):
            shmkit.Slot()
        spec, w = self.slot(layout="a:u8", mode=0o640)
        self.assertEqual(shmkit.info(spec)["mode"], 0o640)
        # Opened again as the writer: refused while we hold the lease.
        with self.assertRaises(shmkit.BusyError):
            shmkit.Slot.create(spec, "a:u8")
        with self.assertRaises(shmkit.ExistsError):
            shmkit.Slot.create(spec, "a:u8", exclusive=True)

    def test_owned(self):
        spec = self.spec()
        w = shmkit.Slot.create(spec, "a:u8", owned=True)
        self.assertTrue(shmkit.info(spec)["owned"])
        w.close()
        with self.assertRaises(shmkit.NotFoundError):
            shmkit.info(spec)

    def test_open_for_writing(self):
        spec, w = self.slot(layout="a:u8")
        w.close()
        w2 = self.closing(shmkit.Slot.open(spec, write=True))
        self.assertEqual(w2.write(a=3), 1)
        r = self.closing(shmkit.Slot.open(spec))
        with self.assertRaises(io.UnsupportedOperation):
            r.write(a=1)

    def test_closed_handle(self):
        spec, w = self.slot(layout="a:u8")
        with shmkit.Slot.open(spec) as r:
            self.assertFalse(r.closed)
        self.assertTrue(r.closed)
        r.close()  # twice is fine
        for call in (r.read, r.write, lambda: r.version, lambda: r.wait(0),
                     lambda: r.read_into(bytearray(1)), r.is_current, r.follow):
            with self.assertRaises(ValueError):
                call()
        self.assertIn("closed", repr(r))

    def test_unclosed_handle_warns(self):
        spec, w = self.slot(layout="a:u8")
        r = shmkit.Slot.open(spec)
        with self.assertWarns(ResourceWarning):
            del r
            import gc
            gc.collect()


class SlotWaits(support.TestCase):
    def test_wait(self):
        spec, w = self.slot(layout="a:u32")
        r = self.closing(shmkit.Slot.open(spec))
        with self.assertRaises(shmkit.WaitTimeoutError) as cm:
            r.wait(0, timeout=0)
        self.assertIsInstance(cm.exception, TimeoutError)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            r.wait(0, timeout=0.3)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        w.write(a=1)
        self.assertEqual(r.wait(0, timeout=0), 1)
        with self.assertRaises(ValueError):
            r.wait(0, timeout=-1)
        with self.assertRaises(TypeError):
            r.wait(0, timeout="1")

    def test_wait_releases_the_gil(self):
        spec, w = self.slot(layout="a:u32")
        r = self.closing(shmkit.Slot.open(spec))

        def later():
            time.sleep(0.4)
            w.write(a=5)

        t = threading.Thread(target=later)
        with support.Counter() as counter:
            t.start()
            self.assertEqual(r.wait(0, timeout=10), 1)
        t.join()
        self.assertGreater(counter.count, 20)

    def test_follow(self):
        spec, w = self.slot(layout="a:u32")
        w.write(a=1)
        r = self.closing(shmkit.Slot.open(spec))
        it = r.follow(since=0, timeout=0.2)
        self.assertEqual(next(it), ({"a": 1}, 1))
        with self.assertRaises(TimeoutError):
            next(it)
        w.write(a=2)
        w.write(a=3)
        self.assertEqual(next(it), ({"a": 3}, 3))  # the latest, once
        # since=None: only what comes after now
        it2 = r.follow(timeout=0.1)
        with self.assertRaises(TimeoutError):
            next(it2)

    def test_follow_ends_when_removed(self):
        spec, w = self.slot(layout="a:u32")
        r = self.closing(shmkit.Slot.open(spec))
        shmkit.unlink(spec)
        with self.assertRaises(shmkit.SegmentRemovedError) as cm:
            next(r.follow(timeout=5))
        self.assertIsInstance(cm.exception, FileNotFoundError)
        self.assertFalse(r.is_current())

    def test_close_from_another_thread_ends_a_wait(self):
        spec, w = self.slot(layout="a:u32")
        r = shmkit.Slot.open(spec)
        closer = threading.Timer(0.3, r.close)
        closer.start()
        with self.assertRaises(ValueError):
            r.wait(0, timeout=10)
        closer.join()
        self.assertTrue(r.closed)

    def test_threads_share_a_writer(self):
        spec, w = self.slot(layout="a:u32 b:u32")

        def work(n):
            for i in range(300):
                w.write(a=i, b=i)

        ts = [threading.Thread(target=work, args=(n,)) for n in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(w.version, 900)


class SlotTools(support.TestCase):
    def test_c_writer_python_reader(self):
        for backend in self.for_backends():
            with self.subTest(backend=backend):
                spec = self.spec(backend)
                support.run_tool("shmkit-write", "-L", "station:u32 temp_c:f32 name:char[16] "
                                 "v:i16[3]", spec, "station=10384", "temp_c=21.5",
                                 "name=Tempelhof", "v=1,-2")
                with shmkit.Slot.open(spec) as r:
                    self.assertEqual(r.read(), ({"station": 10384, "temp_c": 21.5,
                                                 "name": "Tempelhof", "v": [1, -2, 0]}, 1))
                    support.run_tool("shmkit-write", spec, "temp_c=19.75")
                    self.assertEqual(r.wait(1, timeout=5), 2)
                    self.assertEqual(r.read()[0]["temp_c"], 19.75)

    def test_python_writer_c_reader(self):
        for backend in self.for_backends():
            with self.subTest(backend=backend):
                spec, w = self.slot(backend, layout=LAYOUT)
                w.write(id=7, temp=0.1, name="x\"y\\z", pos=[1, -2, 3], flags=9,
                        big=-5, ubig=2**64 - 1, f=1.5)
                rec = support.read_json(spec)[0]
                self.assertEqual(rec, w.read()[0])
                text = support.run_tool("shmkit-read", spec).stdout.decode()
                self.assertIn("temp=0.1\n", text)
                self.assertIn("pos=1,-2,3\n", text)
                self.assertIn("ubig=18446744073709551615\n", text)

    def test_raw_with_tools(self):
        for backend in self.for_backends():
            with self.subTest(backend=backend):
                spec, w = self.slot(backend, size=4)
                w.write(b"\x01\x02\x03\x04")
                out = support.run_tool("shmkit-read", "--raw", spec).stdout
                self.assertEqual(out, b"\x01\x02\x03\x04")
                w.close()  # the tool needs the writer lease
                support.run_tool("shmkit-write", "--raw", spec, input=b"abcd")
                with shmkit.Slot.open(spec) as r:
                    self.assertEqual(r.read(), (b"abcd", 2))

    def test_follow_c_writes(self):
        spec = self.spec()
        support.run_tool("shmkit-write", "-L", "a:u32", spec, "a=1")
        got = []
        with shmkit.Slot.open(spec) as r:
            def writer():
                for i in range(2, 5):
                    time.sleep(0.05)
                    support.run_tool("shmkit-write", spec, "a=%d" % i)
            t = threading.Thread(target=writer)
            t.start()
            try:
                for rec, v in r.follow(since=0, timeout=5):
                    got.append(rec["a"])
                    if rec["a"] == 4:
                        break
            finally:
                t.join()
        self.assertEqual(got[0], 1)
        self.assertEqual(got[-1], 4)
        self.assertEqual(got, sorted(set(got)))
