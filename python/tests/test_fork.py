# test_fork.py - handles inherited through fork(): reads work in the child,
# lease holders' calls raise NotHolderError, and the parent's lease stays.
# SPDX-License-Identifier: BSD-2-Clause

import os
import warnings

import shmkit
import support


def in_child(fn):
    """Run FN in a fork()ed child; its exit status (0: all as expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads (3.12)
        pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = fn()
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


class Fork(support.TestCase):
    def test_slot_in_child(self):
        spec, w = self.slot(layout="a:u32")
        w.write(a=5)

        def child():
            rec, v = w.read()
            assert rec == {"a": 5} and v == 1
            try:
                w.write(a=6)
            except shmkit.NotHolderError:
                pass
            else:
                return 2
            w.close()  # releases nothing of the parent's
            with shmkit.Slot.open(spec) as r:
                assert r.read()[0]["a"] == 5
            return 0

        self.assertEqual(in_child(child), 0)
        self.assertEqual(shmkit.info(spec)["writer_pid"], os.getpid())
        self.assertEqual(w.write(a=7), 2)

    def test_ring_in_child(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        w.send(b"x")

        def child():
            for call in (lambda: w.send(b"y"), lambda: r.recv(timeout=0)):
                try:
                    call()
                except shmkit.NotHolderError:
                    pass
                else:
                    return 2
            return 0

        self.assertEqual(in_child(child), 0)
        self.assertEqual(r.recv(timeout=1), b"x")
