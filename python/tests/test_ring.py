# test_ring.py - shmkit.Ring: both policies on every backend, messages
# exchanged with the C tools, fan-out, iteration, threads and the GIL.
# SPDX-License-Identifier: BSD-2-Clause

import io
import subprocess
import sys
import threading
import time

import shmkit
import support


class RingBasics(support.TestCase):
    def test_send_recv_both_policies(self):
        for backend in self.for_backends():
            for policy in ("block", "overwrite"):
                with self.subTest(backend=backend, policy=policy):
                    spec, w = self.ring(backend, 4096, policy=policy)
                    r = self.closing(shmkit.Ring.open(spec, from_oldest=True))
                    self.assertEqual(r.policy, policy)
                    self.assertEqual(r.role, "consumer" if policy == "block" else "reader")
                    self.assertEqual(w.role, "writer")
                    msgs = [b"", b"x", b"hello" * 100, bytes(range(256))]
                    for m in msgs:
                        w.send(m)
                    self.assertEqual(w.position, 4)
                    for i, m in enumerate(msgs):
                        self.assertEqual(r.recv(timeout=1), m)
                        self.assertEqual(r.position, i + 1)
                    self.assertEqual(r.lost, 0)
                    with self.assertRaises(shmkit.WaitTimeoutError):
                        r.recv(timeout=0)

    def test_geometry_and_properties(self):
        cap, mx, seg = shmkit.Ring.geometry(1000)
        self.assertEqual((cap, mx), (1024, 1024 // 2 - 16))
        self.assertGreater(seg, cap)
        spec, w = self.ring(capacity=1000, max_message=100)
        self.assertEqual((w.capacity, w.max_message), (1024, 100))
        with self.assertRaises(ValueError):
            w.send(b"x" * 101)
        with self.assertRaises(ValueError):
            shmkit.Ring.create(self.spec(), 4096, policy="lossy")
        with self.assertRaises(ValueError):
            shmkit.Ring.create(self.spec(), 4096, policy="overwrite", consumers=2)
        with self.assertRaises(ValueError):
            shmkit.Ring.create(self.spec(), 4096, max_message=4000)
        with self.assertRaises(ValueError):
            shmkit.Ring.geometry(4096, max_message=4000)
        # An existing ring of another geometry: incompatible.
        with self.assertRaises(shmkit.IncompatibleError):
            shmkit.Ring.create(spec, 8192)
        i = shmkit.info(spec)
        self.assertEqual((i["kind"], i["policy"], i["capacity"], i["max_message"]),
                         ("ring", "block", 1024, 100))
        self.assertEqual(len(i["consumers"]), 1)

    def test_roles(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        with self.assertRaises(io.UnsupportedOperation):
            w.recv()
        with self.assertRaises(io.UnsupportedOperation):
            r.send(b"x")
        with self.assertRaises(io.UnsupportedOperation):
            iter(w)
        with self.assertRaises(ValueError):
            shmkit.Ring.open(spec, from_oldest=True, from_newest=True)
        with self.assertRaises(TypeError):
            shmkit.Ring()

    def test_recv_into(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        w.send(b"abcdef")
        buf = bytearray(3)
        with self.assertRaises(shmkit.InvalidArgumentError):
            r.recv_into(buf, timeout=1)  # too small: the message stays
        buf = bytearray(10)
        self.assertEqual(r.recv_into(buf, timeout=1), 6)
        self.assertEqual(buf[:6], b"abcdef")

    def test_large_messages(self):
        spec, w = self.ring(capacity=1 << 20)
        r = self.closing(shmkit.Ring.open(spec))
        big = bytes(range(256)) * 1000
        w.send(big)
        self.assertEqual(r.recv(timeout=1), big)

    def test_large_messages_overwritten_while_copied(self):
        # recv() of a large message peeks, copies and releases: on an
        # overwrite ring whose writer (another process) laps the reader,
        # a message overwritten during the copy is discarded and never
        # returned torn.
        spec, w = self.ring(capacity=1 << 16, policy="overwrite")
        r = self.closing(shmkit.Ring.open(spec))
        code = ("import shmkit, sys, time\n"
                "w = shmkit.Ring.open(sys.argv[1], write=True)\n"
                "end = time.monotonic() + 1.0\n"
                "i = 0\n"
                "while time.monotonic() < end:\n"
                "    i += 1\n"
                "    w.send(bytes([i % 251]) * (20000 + i % 3000))\n"
                "w.close()\n")
        w.close()  # the child is the writer now
        child = subprocess.Popen([sys.executable, "-c", code, spec])
        try:
            got = 0
            while child.poll() is None or got == 0:
                try:
                    m = r.recv(timeout=0.2)
                except shmkit.WaitTimeoutError:
                    if child.poll() is not None:
                        break
                    continue
                self.assertGreaterEqual(len(m), 20000)
                self.assertEqual(m.count(m[:1]), len(m), "a torn message")
                got += 1
        finally:
            child.wait(timeout=30)
        self.assertEqual(child.returncode, 0)
        self.assertGreater(got, 0)

    def test_block_full_times_out(self):
        spec, w = self.ring(capacity=256)
        r = self.closing(shmkit.Ring.open(spec))
        with self.assertRaises(shmkit.WaitTimeoutError):
            for i in range(100):
                w.send(b"x" * 50, timeout=0.1)
        self.assertEqual(r.recv(timeout=0), b"x" * 50)

    def test_overwrite_lost(self):
        spec, w = self.ring(capacity=256, policy="overwrite")
        r = self.closing(shmkit.Ring.open(spec, from_oldest=True))
        for i in range(100):
            w.send(b"%03d" % i + b"." * 20)
        first = r.recv(timeout=1)
        self.assertGreater(r.lost, 0)
        self.assertEqual(int(first[:3]), r.lost)

    def test_fan_out(self):
        spec, w = self.ring(capacity=4096, consumers=3)
        cs = [self.closing(shmkit.Ring.open(spec, from_oldest=True)) for i in range(3)]
        with self.assertRaises(shmkit.BusyError):
            shmkit.Ring.open(spec, from_newest=True)
        for i in range(50):
            w.send(b"m%d" % i)
        for c in cs:
            self.assertEqual([c.recv(timeout=1) for i in range(50)],
                             [b"m%d" % i for i in range(50)])
        entries = shmkit.info(spec)["consumers"]
        self.assertEqual(len(entries), 3)
        self.assertTrue(all(e["pid"] is not None for e in entries))

    def test_iteration_and_removal(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        for m in (b"a", b"b"):
            w.send(m)
        it = iter(r)
        self.assertEqual(next(it), b"a")
        self.assertEqual(next(it), b"b")
        shmkit.unlink(spec)
        t0 = time.monotonic()
        with self.assertRaises(shmkit.SegmentRemovedError):
            next(it)
        self.assertLess(time.monotonic() - t0, 5)

    def test_recv_releases_the_gil(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        threading.Timer(0.4, w.send, args=(b"late",)).start()
        with support.Counter() as counter:
            self.assertEqual(r.recv(timeout=10), b"late")
        self.assertGreater(counter.count, 20)

    def test_two_threads_recv_on_one_ring(self):
        spec, w = self.ring(capacity=65536)
        r = self.closing(shmkit.Ring.open(spec))
        got = [[], []]

        def reader(k):
            try:
                while True:
                    got[k].append(r.recv(timeout=0.5))
            except shmkit.WaitTimeoutError:
                pass

        ts = [threading.Thread(target=reader, args=(k,)) for k in range(2)]
        for t in ts:
            t.start()
        sent = [b"%d" % i for i in range(2000)]
        for m in sent:
            w.send(m, timeout=5)
        for t in ts:
            t.join()
        self.assertEqual(sorted(got[0] + got[1], key=int), sent)
        self.assertEqual(got[0], sorted(got[0], key=int))

    def test_two_threads_send_on_one_ring(self):
        # A small block ring: the senders wait for room (the lock held, the
        # GIL released) while the other tries its first, GIL-held attempt;
        # the two readers, likewise on one handle.  Nothing lost, nothing
        # duplicated, each sender's messages in order.
        spec, w = self.ring(capacity=1024)
        r = self.closing(shmkit.Ring.open(spec))
        n = 3000
        got = [[], []]

        def sender(k):
            for i in range(n):
                w.send(b"%d:%d" % (k, i), timeout=10)

        def reader(k):
            try:
                while True:
                    got[k].append(r.recv(timeout=1))
            except shmkit.WaitTimeoutError:
                pass

        ts = [threading.Thread(target=sender, args=(k,)) for k in range(2)]
        ts += [threading.Thread(target=reader, args=(k,)) for k in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        every = got[0] + got[1]
        self.assertEqual(len(every), 2 * n)
        for k in range(2):
            mine = sorted(int(m.split(b":")[1]) for m in every if m.startswith(b"%d:" % k))
            self.assertEqual(mine, list(range(n)))
            for part in got:
                seq = [int(m.split(b":")[1]) for m in part if m.startswith(b"%d:" % k)]
                self.assertEqual(seq, sorted(seq))

    def test_closed(self):
        spec, w = self.ring()
        with shmkit.Ring.open(spec) as r:
            pass
        self.assertTrue(r.closed)
        for call in (r.recv, lambda: r.lost, lambda: r.position, r.peek, r.is_current,
                     lambda: next(r)):
            with self.assertRaises(ValueError):
                call()
        w.close()
        with self.assertRaises(ValueError):
            w.send(b"x")
        with self.assertRaises(ValueError):
            w.reserve(1)


class RingTools(support.TestCase):
    def test_c_writer_python_reader(self):
        for backend in self.for_backends():
            for policy in ("block", "overwrite"):
                with self.subTest(backend=backend, policy=policy):
                    spec = self.spec(backend)
                    args = ["--ring", "64k"] + (["--overwrite"] if policy == "overwrite" else [])
                    support.run_tool("shmkit-write", *args, spec,
                                     input=b"one\ntwo\n\nthree\n")
                    with shmkit.Ring.open(spec, from_oldest=True) as r:
                        self.assertEqual(r.policy, policy)
                        self.assertEqual([r.recv(timeout=1) for i in range(4)],
                                         [b"one", b"two", b"", b"three"])

    def test_python_writer_c_reader(self):
        for backend in self.for_backends():
            for policy in ("block", "overwrite"):
                with self.subTest(backend=backend, policy=policy):
                    spec, w = self.ring(backend, 65536, policy=policy)
                    msgs = [b"alpha", b"with \"quotes\"", b"\xff\x00bin", b""]
                    for m in msgs:
                        w.send(m)
                    res = w.reserve(16)
                    with res as buf:
                        buf[:4] = b"zero"
                        res.length = 4
                    extra = ["--from-oldest"]
                    recs = support.read_json(spec, "-f", "-n", "5", "-t", "10", *extra)
                    self.assertEqual([r["seq"] for r in recs], [0, 1, 2, 3, 4])
                    self.assertEqual([r["data"] for r in recs],
                                     ["alpha", "with \"quotes\"", "\u00ff\u0000bin", "",
                                      "zero"])
                    if policy == "overwrite":  # a block ring's messages were consumed
                        raw = support.run_tool("shmkit-read", "-f", "-n", "1", "--raw",
                                               "--from-oldest", "-t", "10", spec).stdout
                        self.assertEqual(raw, b"alpha")

    def test_fan_out_with_c_consumers(self):
        spec, w = self.ring(capacity=65536, consumers=2)
        mine = self.closing(shmkit.Ring.open(spec, from_oldest=True))
        for i in range(10):
            w.send(b"%d" % i)
        recs = support.read_json(spec, "-f", "-n", "10", "-t", "10", "--from-oldest")
        self.assertEqual([r["data"] for r in recs], [str(i) for i in range(10)])
        self.assertEqual([mine.recv(timeout=1) for i in range(10)],
                         [b"%d" % i for i in range(10)])


class Interrupts(support.TestCase):
    def test_signal_interrupts_a_wait(self):
        import signal

        class Alarm(Exception):
            pass

        def handler(signum, frame):
            raise Alarm

        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        old = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, old)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        t0 = time.monotonic()
        with self.assertRaises(Alarm):
            r.recv()  # forever, but for the handler
        self.assertLess(time.monotonic() - t0, 3)
        # the ring is still usable
        w.send(b"after")
        self.assertEqual(r.recv(timeout=1), b"after")
        # and a slot wait the same
        sspec, sw = self.slot(layout="a:u8")
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with self.assertRaises(Alarm):
            sw.wait(0)


class Threads(support.TestCase):
    def test_close_ends_another_threads_recv(self):
        spec, w = self.ring()
        r = shmkit.Ring.open(spec)
        closer = threading.Timer(0.3, r.close)
        closer.start()
        t0 = time.monotonic()
        with self.assertRaises(ValueError):
            r.recv()
        self.assertLess(time.monotonic() - t0, 3)
        closer.join()
        self.assertTrue(r.closed)

    def test_peek_waiting_refuses_other_receives(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        entered = threading.Event()
        result = []

        def peeker():
            p = r.peek(timeout=5)
            entered.set()
            with p as view:
                result.append(bytes(view))

        t = threading.Thread(target=peeker)
        t.start()
        entered.wait()
        time.sleep(0.2)  # the peeker waits for a message now
        with self.assertRaises(BufferError):
            r.recv(timeout=0)
        w.send(b"for the peeker")
        t.join()
        self.assertEqual(result, [b"for the peeker"])
        w.send(b"next")
        self.assertEqual(r.recv(timeout=1), b"next")
