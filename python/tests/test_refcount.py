# test_refcount.py - no reference leaks in the hot methods: the reference
# counts of arguments and results stay put over 10000 calls, and the total
# (sys.gettotalrefcount, debug builds of Python only) too.
# SPDX-License-Identifier: BSD-2-Clause

import sys
import threading
import time

import shmkit
import support

N = 10000


class RefCounts(support.TestCase):
    def assert_stable(self, fn, *objs):
        fn()  # warm up caches
        before = [sys.getrefcount(o) for o in objs]
        total = getattr(sys, "gettotalrefcount", None)
        t0 = total() if total else 0
        for i in range(N):
            fn()
        after = [sys.getrefcount(o) for o in objs]
        self.assertEqual(before, after)
        if total:
            self.assertLess(total() - t0, 100)

    def test_slot_hot_methods(self):
        spec, w = self.slot(layout="id:u32 temp:f64 name:char[8] v:i16[2]")
        r = self.closing(shmkit.Slot.open(spec))
        name, value, arr = "abc", 1234567, [1, 2]
        self.assert_stable(lambda: w.write(id=value, name=name, v=arr), name, value, arr,
                           w)
        self.assert_stable(r.read, r)
        rec = bytes(w.record_size)
        self.assert_stable(lambda: w.write(rec), rec)
        buf = bytearray(w.record_size)
        self.assert_stable(lambda: r.read_into(buf), buf)
        self.assert_stable(lambda: r.version, r)
        # results: the objects handed out are new each time
        res, v = r.read()
        self.assertEqual(sys.getrefcount(res), 2)

    def test_ring_hot_methods(self):
        spec, w = self.ring(capacity=65536)
        r = self.closing(shmkit.Ring.open(spec))
        msg = b"message"

        def round_trip():
            w.send(msg)
            got = r.recv(timeout=1)
            assert got == msg

        self.assert_stable(round_trip, msg, w, r)
        buf = bytearray(16)

        def into():
            w.send(msg)
            r.recv_into(buf, timeout=1)

        self.assert_stable(into, buf)

        def zero_copy():
            with w.reserve(7) as b:
                b[:] = msg
            with r.peek(timeout=1) as view:
                assert view == msg

        self.assert_stable(zero_copy, w, r)
        w.send(msg)
        got = r.recv(timeout=1)
        self.assertEqual(sys.getrefcount(got), 2)

    def test_ring_fast_paths(self):
        # the argument forms of the fast-call parser and the cancelled
        # reservation
        spec, w = self.ring(capacity=65536)
        r = self.closing(shmkit.Ring.open(spec))
        data = bytearray(b"x" * 64)
        view = memoryview(data)
        timeout = 1.5

        def forms():
            w.send(data)
            w.send(view, 1.5)
            w.send(data=view, timeout=timeout)
            r.recv(timeout)
            r.recv(timeout=timeout)
            r.recv_into(data, timeout)

        self.assert_stable(forms, data, view, timeout, w, r)

        # int timeouts (no float object made) and a keyword name that is
        # not the interned "timeout" (the by-value comparison)
        itimeout = 2
        name = "".join(["time", "out"])
        kw = {name: itimeout}

        def timeouts():
            w.send(data, itimeout)
            w.send(data, **kw)
            w.send(data, timeout=0)
            r.recv(itimeout)
            r.recv(**kw)
            with r.peek(timeout=0):
                pass

        self.assert_stable(timeouts, data, itimeout, name, w, r)
        for bad in (10 ** 400, "1"):
            with self.assertRaises(TypeError):
                r.recv(bad)
        with self.assertRaises(ValueError):
            r.recv(-1)

        def cancelled():
            try:
                with w.reserve(size=16, timeout=timeout) as b:
                    b[0] = 1
                    raise KeyError
            except KeyError:
                pass
            with w.reserve(8):
                pass
            with r.peek(timeout) as v:
                assert len(v) == 8

        self.assert_stable(cancelled, w, r, timeout)

        def bad_args():
            for call in (lambda: w.send(), lambda: w.send(data, 1, 2),
                         lambda: w.send(data, tymeout=1), lambda: w.send("text"),
                         lambda: r.recv(timeout, timeout=timeout), lambda: w.reserve("8"),
                         lambda: r.recv_into(b"readonly")):
                try:
                    call()
                except TypeError:
                    pass
                else:
                    raise AssertionError("no TypeError")

        self.assert_stable(bad_args, data, w, r, timeout)

    def test_ring_large_and_bytearray(self):
        # recv of a message longer than the first buffer (peek, one copy,
        # release) and the bytearray send, which has no Py_buffer, on both
        # policies and through the full-ring fallback
        for policy in ("block", "overwrite"):
            spec, w = self.ring(capacity=65536, policy=policy)
            r = self.closing(shmkit.Ring.open(spec))
            big = bytes(range(256)) * 40
            arr = bytearray(b"y" * 100)

            def large():
                w.send(big)
                got = r.recv(timeout=1)
                assert got == big
                assert sys.getrefcount(got) == 2
                w.send(arr)
                assert r.recv(timeout=1) == arr

            self.assert_stable(large, big, arr, w, r)

        spec, w = self.ring(capacity=4096, max_message=1000)
        r = self.closing(shmkit.Ring.open(spec))
        arr = bytearray(1000)

        def full():
            k = 0
            while True:  # fill the ring: the first try only
                try:
                    w.send(arr, timeout=0)
                except shmkit.WaitTimeoutError:
                    break
                k += 1
            assert k > 0
            for _ in range(k):
                assert r.recv(timeout=1) == arr

        self.assert_stable(full, arr, w, r)

        # a full block ring: the bytearray waits through a buffer, which
        # keeps another thread from resizing it meanwhile
        k = 0
        while True:
            try:
                w.send(arr, timeout=0)
            except shmkit.WaitTimeoutError:
                break
            k += 1
        seen = []

        def drain():
            time.sleep(0.1)
            try:
                arr.extend(b"x")
            except BufferError:
                seen.append("BufferError")
            for _ in range(k + 1):
                seen.append(len(r.recv(timeout=5)))

        t = threading.Thread(target=drain)
        t.start()
        w.send(arr, timeout=5)
        t.join()
        self.assertEqual(seen, ["BufferError"] + [1000] * (k + 1))

    def test_zero_copy_reuse(self):
        # Contexts and exporters reuse the memory of the ring's last freed
        # ones: contexts kept alive, dropped unentered or in another
        # order, views and exporters kept past the block, and a ring
        # dropped before its contexts.
        spec, w = self.ring(capacity=65536)
        r = self.closing(shmkit.Ring.open(spec))

        def orders():
            a = w.reserve(4)
            b = w.reserve(4)  # not entered: a new one (a is alive)
            with a as buf:
                buf[:] = b"abcd"
                kept = buf.obj  # the exporter, kept past the block
            del b
            with w.reserve(2) as buf:
                buf[:] = b"ef"
            with self.assertRaises(BufferError):
                memoryview(kept)  # refuses new buffers for good
            p1 = r.peek(timeout=1)
            with p1 as v:
                assert v == b"abcd"
            del a, kept
            with r.peek(timeout=1) as v:
                assert bytes(v) == b"ef"
            with self.assertRaises(ValueError):
                v[0]
            with w.reserve(1) as buf:
                buf[0] = 7
            with r.peek(timeout=1) as v:
                assert v[0] == 7

        self.assert_stable(orders, w, r)
        # the contexts outlive their rings
        w2 = shmkit.Ring.create(self.spec("posix"), 4096, owned=True)
        ctx, spare = w2.reserve(8), w2.reserve(8)
        del spare  # its memory is kept by the ring for the next
        with ctx as buf:
            buf[:] = bytes(8)
        w2.close()
        del w2  # freed with its spare memory; ctx holds it until here
        self.assertIsNone(ctx.view)
        del ctx

    def test_slot_fast_paths(self):
        spec, w = self.slot(size=64)
        r = self.closing(shmkit.Slot.open(spec))
        rec = bytearray(64)
        self.assert_stable(lambda: w.write(rec), rec, w)
        self.assert_stable(lambda: r.version, r)
        self.assert_stable(r.read, r)

    def test_errors_do_not_leak(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))

        def timeout():
            try:
                r.recv(timeout=0)
            except shmkit.WaitTimeoutError:
                pass

        self.assert_stable(timeout, r)
