# test_zerocopy.py - Ring.peek() and Ring.reserve(): views released after
# the block, refused afterwards, BufferError while derived views live, no
# publication on an exception, close() refused under a live view.
# SPDX-License-Identifier: BSD-2-Clause

import gc

import shmkit
import support


class Peek(support.TestCase):
    def pair(self, policy="block", capacity=4096):
        spec, w = self.ring(capacity=capacity, policy=policy)
        r = self.closing(shmkit.Ring.open(spec, from_oldest=True))
        return w, r

    def test_peek_view_is_released(self):
        w, r = self.pair()
        w.send(b"hello")
        w.send(b"next")
        with r.peek(timeout=1) as view:
            self.assertIsInstance(view, memoryview)
            self.assertTrue(view.readonly)
            self.assertEqual(bytes(view), b"hello")
            with self.assertRaises(TypeError):
                view[0] = 1
            with self.assertRaises(BufferError):
                r.recv(timeout=0)  # the block is open
            kept = view
        with self.assertRaises(ValueError):
            kept[0]
        with self.assertRaises(ValueError):
            bytes(kept)
        self.assertEqual(r.recv(timeout=1), b"next")  # hello was consumed

    def test_exporter_refuses_new_buffers(self):
        w, r = self.pair()
        w.send(b"abc")
        p = r.peek(timeout=1)
        with p as view:
            self.assertIs(p.view, view)
            exporter = view.obj
            self.assertEqual(bytes(memoryview(exporter)), b"abc")
        self.assertIsNone(p.view)
        with self.assertRaises(BufferError):
            memoryview(exporter)
        del exporter

    def test_derived_view_keeps_the_message(self):
        w, r = self.pair()
        w.send(b"0123456789")
        w.send(b"second")
        with self.assertRaises(BufferError):
            with r.peek(timeout=1) as view:
                part = view[2:5]  # shares the managed buffer
        self.assertEqual(bytes(part), b"234")  # still valid: not released
        with self.assertRaises(BufferError):
            r.recv(timeout=0)
        with self.assertRaises(BufferError):
            r.close()
        self.assertFalse(r.closed)
        part.release()
        del part
        gc.collect()
        # The next receive releases the message first.
        self.assertEqual(r.recv(timeout=1), b"second")

    def test_memoryview_of_view(self):
        w, r = self.pair()
        w.send(b"xyz")
        w.send(b"after")
        with self.assertRaises(BufferError):
            with r.peek(timeout=1) as view:
                inner = memoryview(view)  # an export of the view itself
        self.assertEqual(bytes(inner), b"xyz")
        inner.release()
        self.assertEqual(r.recv(timeout=1), b"after")

    def test_exception_in_block_still_releases(self):
        w, r = self.pair()
        w.send(b"a")
        w.send(b"b")
        with self.assertRaises(KeyError):
            with r.peek(timeout=1) as view:
                raise KeyError(bytes(view))
        self.assertEqual(r.recv(timeout=1), b"b")

    def test_peek_timeout_and_role(self):
        w, r = self.pair()
        with self.assertRaises(shmkit.WaitTimeoutError):
            with r.peek(timeout=0.1):
                pass
        with self.assertRaises(Exception):
            w.peek()
        # usable after the timeout
        w.send(b"z")
        with r.peek(timeout=1) as view:
            self.assertEqual(bytes(view), b"z")

    def test_overwritten_peek(self):
        w, r = self.pair(policy="overwrite", capacity=256)
        w.send(b"first" + b"." * 50)
        with self.assertRaises(shmkit.OverwrittenError):
            with r.peek(timeout=1) as view:
                self.assertEqual(len(view), 55)
                for i in range(20):
                    w.send(b"x" * 60)
        self.assertGreaterEqual(len(r.recv(timeout=1)), 0)

    def test_numpy_view(self):
        np = support.numpy_or_none()
        if np is None:
            self.skipTest("NumPy not available")
        w, r = self.pair()
        w.send(bytes(range(8)))
        w.send(b"n")
        with self.assertRaises(BufferError):
            with r.peek(timeout=1) as view:
                arr = np.frombuffer(view, dtype=np.uint8)
        self.assertEqual(int(arr.sum()), 28)
        del arr
        gc.collect()
        self.assertEqual(r.recv(timeout=1), b"n")


class Reserve(support.TestCase):
    def pair(self, policy="block", capacity=4096, **kw):
        spec, w = self.ring(capacity=capacity, policy=policy, **kw)
        r = self.closing(shmkit.Ring.open(spec, from_oldest=True))
        return spec, w, r

    def test_commit_full_and_partial(self):
        spec, w, r = self.pair()
        with w.reserve(4) as buf:
            self.assertFalse(buf.readonly)
            self.assertEqual(len(buf), 4)
            buf[:] = b"full"
        res = w.reserve(100)
        with res as buf:
            buf[:3] = b"abc"
            res.length = 3
            with self.assertRaises(ValueError):
                res.length = 101
        with self.assertRaises(ValueError):
            buf[0] = 1
        self.assertEqual(r.recv(timeout=1), b"full")
        self.assertEqual(r.recv(timeout=1), b"abc")
        with w.reserve(0):
            pass
        self.assertEqual(r.recv(timeout=1), b"")
        with self.assertRaises(ValueError):
            w.reserve(w.max_message + 1)

    def test_exception_publishes_nothing(self):
        # An exception inside the block cancels the reservation
        # (shmkit_ring_cancel): nothing is published, the next send goes
        # ahead, and the consumer receives exactly the messages that follow.
        for policy in ("block", "overwrite"):
            with self.subTest(policy=policy):
                spec, w, r = self.pair(policy=policy)
                w.send(b"before")
                with self.assertRaises(RuntimeError):
                    with w.reserve(10) as buf:
                        buf[:4] = b"oops"
                        raise RuntimeError("abandon")
                w.send(b"fits")
                # larger than the cancelled reservation: no special case
                w.send(b"longer than the ten bytes reserved")
                with self.assertRaises(ZeroDivisionError):
                    with w.reserve(4) as buf:
                        buf[:] = b"gone"
                        1 / 0
                with w.reserve(5) as buf:
                    buf[:] = b"after"
                self.assertFalse(w.closed)
                got = []
                while True:
                    try:
                        got.append(r.recv(timeout=0.1))
                    except shmkit.WaitTimeoutError:
                        break
                self.assertEqual(got, [b"before", b"fits",
                                       b"longer than the ten bytes reserved", b"after"])
                self.assertEqual(r.lost, 0)

    def test_exception_with_derived_view(self):
        # A derived view still alive: the reservation is not given back
        # while it can be written through; the next writer call raises
        # BufferError, and once the view is gone it cancels the reservation.
        for policy in ("block", "overwrite"):
            with self.subTest(policy=policy):
                spec, w, r = self.pair(policy=policy)
                with self.assertRaises(RuntimeError):
                    with w.reserve(8) as buf:
                        part = buf[:4]
                        raise RuntimeError
                with self.assertRaises(BufferError):
                    w.send(b"x")
                with self.assertRaises(BufferError):
                    w.reserve(4).__enter__()
                part[:] = b"live"  # still valid memory, never published
                del part
                gc.collect()
                w.send(b"next")
                with w.reserve(3) as buf:
                    buf[:] = b"zc!"
                self.assertEqual(r.recv(timeout=1), b"next")
                self.assertEqual(r.recv(timeout=1), b"zc!")
                with self.assertRaises(shmkit.WaitTimeoutError):
                    r.recv(timeout=0.1)

    def test_cancel_loop_does_not_fill_the_ring(self):
        # Cancelled reservations take no room: many more than the ring
        # holds, on a block ring with nobody receiving.
        spec, w, r = self.pair(capacity=4096)
        for i in range(1000):
            try:
                with w.reserve(256, timeout=0) as buf:
                    buf[0] = i & 0xFF
                    raise KeyError
            except KeyError:
                pass
        w.send(b"only", timeout=0)
        self.assertEqual(r.recv(timeout=1), b"only")
        with self.assertRaises(shmkit.WaitTimeoutError):
            r.recv(timeout=0)

    def test_abandoned_then_reserve_again(self):
        spec, w, r = self.pair(policy="overwrite")
        with self.assertRaises(ZeroDivisionError):
            with w.reserve(8):
                1 / 0
        with w.reserve(5) as buf:
            buf[:] = b"again"
        self.assertEqual(r.recv(timeout=1), b"again")

    def test_derived_view_blocks_commit(self):
        spec, w, r = self.pair()
        with self.assertRaises(BufferError):
            with w.reserve(4) as buf:
                buf[:] = b"half"
                part = buf[:2]
        with self.assertRaises(BufferError):
            w.send(b"x")
        with self.assertRaises(BufferError):
            w.close()
        del part
        gc.collect()
        with self.assertRaises(shmkit.WaitTimeoutError):
            r.recv(timeout=0.1)  # nothing was published
        w.send(b"ok")
        self.assertEqual(r.recv(timeout=1), b"ok")

    def test_close_inside_block_refused(self):
        spec, w, r = self.pair()
        with w.reserve(3) as buf:
            with self.assertRaises(BufferError):
                w.close()
            buf[:] = b"end"
        self.assertEqual(r.recv(timeout=1), b"end")

    def test_owned_ring_abandoned_reservation(self):
        spec, w, r = self.pair(owned=True)
        with self.assertRaises(RuntimeError):
            with w.reserve(2):
                raise RuntimeError
        w.send(b"longer than the abandoned reservation")
        self.assertEqual(r.recv(timeout=1), b"longer than the abandoned reservation")


class NeverExited(support.TestCase):
    def test_contexts_dropped_without_exit(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        w.send(b"one")
        w.send(b"two")
        p = r.peek(timeout=1)
        view = p.__enter__()
        self.assertEqual(bytes(view), b"one")
        del p, view
        gc.collect()
        self.assertEqual(r.recv(timeout=1), b"two")  # "one" was released
        res = w.reserve(8)
        buf = res.__enter__()
        buf[:3] = b"xyz"
        del res, buf
        gc.collect()
        with self.assertRaises(shmkit.WaitTimeoutError):
            r.recv(timeout=0.1)  # not published
        w.send(b"three")
        self.assertEqual(r.recv(timeout=1), b"three")

    def test_enter_twice(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        w.send(b"a")
        p = r.peek(timeout=1)
        with p:
            with self.assertRaises(RuntimeError):
                p.__enter__()
