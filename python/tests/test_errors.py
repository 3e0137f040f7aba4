# test_errors.py - every exception class raised by a real condition, with
# the library's code, name and detail.
# SPDX-License-Identifier: BSD-2-Clause

import errno
import os
import subprocess
import sys
import time

import shmkit
import support


def shm_path(spec):
    return "/dev/shm" + spec


class Errors(support.TestCase):
    def test_hierarchy(self):
        for name in ("NotFoundError", "ExistsError", "PermissionDeniedError",
                     "WaitTimeoutError", "BusyError", "NotHolderError", "IncompatibleError",
                     "NotShmkitError", "HalfCreatedError", "CorruptSegmentError",
                     "ContendedError", "OverwrittenError", "BackendUnavailableError",
                     "InvalidArgumentError", "SegmentRemovedError"):
            cls = getattr(shmkit, name)
            self.assertTrue(issubclass(cls, shmkit.Error), name)
        self.assertTrue(issubclass(shmkit.Error, OSError))
        self.assertTrue(issubclass(shmkit.NotFoundError, FileNotFoundError))
        self.assertTrue(issubclass(shmkit.ExistsError, FileExistsError))
        self.assertTrue(issubclass(shmkit.PermissionDeniedError, PermissionError))
        self.assertTrue(issubclass(shmkit.WaitTimeoutError, TimeoutError))
        self.assertTrue(issubclass(shmkit.InvalidArgumentError, ValueError))
        self.assertTrue(issubclass(shmkit.NotShmkitError, shmkit.IncompatibleError))
        self.assertTrue(issubclass(shmkit.SegmentRemovedError, shmkit.NotFoundError))

    def test_not_found(self):
        for backend in self.for_backends():
            with self.subTest(backend=backend):
                spec = self.spec(backend)
                for call in (lambda: shmkit.Slot.open(spec), lambda: shmkit.Ring.open(spec),
                             lambda: shmkit.info(spec), lambda: shmkit.unlink(spec)):
                    with self.assertRaises(shmkit.NotFoundError) as cm:
                        call()
                    e = cm.exception
                    self.assertIsInstance(e, FileNotFoundError)
                    self.assertEqual(e.errno, errno.ENOENT)
                    self.assertEqual((e.code, e.name, e.filename), (-errno.ENOENT, "ENOENT",
                                                                    spec))
                    self.assertIsInstance(e.detail, str)
                    self.assertIn(spec, str(e))

    def test_exists(self):
        spec, w = self.slot(layout="a:u8")
        with self.assertRaises(FileExistsError):
            shmkit.Ring.create(spec, 4096, exclusive=True)

    def test_owner(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to chown a segment to another user")
        spec, w = self.slot(layout="a:u8")
        w.close()
        self.forget_semset(spec)
        os.chown(shm_path(spec), 65534, 65534)
        with self.assertRaises(shmkit.PermissionDeniedError) as cm:
            shmkit.Slot.open(spec)
        self.assertIsInstance(cm.exception, PermissionError)
        self.assertEqual(cm.exception.name, "SHMKIT_EOWNER")
        with shmkit.Slot.open(spec, any_owner=True) as r:
            self.assertEqual(r.read()[1], 0)

    def test_permission_denied(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to run a child as nobody")
        # An interpreter in root's home (pyenv) or a build tree nobody may
        # read cannot run as nobody: that says nothing about shmkit.
        try:
            probe = subprocess.run([sys.executable, "-c", "import shmkit"], user=65534,
                                   group=65534, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   timeout=30)
        except PermissionError as e:
            self.skipTest("nobody cannot run %s: %s" % (sys.executable, e))
        if probe.returncode != 0:
            why = probe.stderr.decode(errors="replace").strip().splitlines()
            self.skipTest("nobody cannot run %s with shmkit: %s"
                          % (sys.executable, why[-1] if why else "exit %d" % probe.returncode))
        for backend in self.for_backends():
            with self.subTest(backend=backend):
                spec, w = self.slot(backend, layout="a:u8", mode=0o600)
                code = ("import shmkit, sys\n"
                        "try:\n"
                        "    shmkit.Slot.open(%r, any_owner=True)\n"
                        "except shmkit.PermissionDeniedError as e:\n"
                        "    print(e.name); sys.exit(0)\n"
                        "sys.exit(1)\n" % spec)
                p = subprocess.run([sys.executable, "-c", code], user=65534, group=65534,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
                self.assertEqual(p.returncode, 0, p.stderr.decode(errors="replace"))
                self.assertEqual(p.stdout.decode().strip(), "EACCES")

    def test_busy_same_process(self):
        spec, w = self.slot(layout="a:u8")
        with self.assertRaises(shmkit.BusyError) as cm:
            shmkit.Slot.open(spec, write=True)
        self.assertEqual(cm.exception.name, "SHMKIT_EBUSY")
        self.assertIsNone(cm.exception.errno)

    def test_busy_live_c_writer(self):
        path = support.tool("shmkit-write")
        if path is None:
            self.skipTest("shmkit-write not found")
        spec = self.spec()
        p = subprocess.Popen([path, "--ring", "4k", spec], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            p.stdin.write(b"first\n")
            p.stdin.flush()
            deadline = time.monotonic() + 10
            while True:
                try:
                    if shmkit.info(spec)["messages"] == 1:
                        break
                except (shmkit.NotFoundError, shmkit.HalfCreatedError, shmkit.NotShmkitError):
                    pass
                self.assertLess(time.monotonic(), deadline, "shmkit-write made no ring")
                time.sleep(0.02)
            with shmkit.Ring.open(spec) as r:
                self.assertEqual(r.recv(timeout=10), b"first")
                with self.assertRaises(shmkit.BusyError) as cm:
                    shmkit.Ring.open(spec, write=True)
                self.assertIn(str(p.pid), cm.exception.detail)
        finally:
            p.stdin.close()
            p.wait(10)
            p.stderr.close()

    def test_incompatible(self):
        spec, w = self.slot(layout="a:u8")
        with self.assertRaises(shmkit.IncompatibleError) as cm:
            shmkit.Ring.open(spec)
        self.assertEqual(cm.exception.name, "SHMKIT_EKIND")
        w.close()
        with self.assertRaises(shmkit.IncompatibleError) as cm:
            shmkit.Slot.create(spec, "a:u16")
        self.assertEqual(cm.exception.name, "SHMKIT_ELAYOUT")
        rspec, rw = self.ring()
        with self.assertRaises(shmkit.IncompatibleError) as cm:
            shmkit.Slot.open(rspec)
        self.assertEqual(cm.exception.name, "SHMKIT_EKIND")

    def test_corrupt(self):
        spec, w = self.slot(layout="a:u8")
        w.close()
        self.forget_semset(spec)
        with open(shm_path(spec), "r+b") as f:
            f.seek(104)  # reserved0, covered by the header checksum (FORMAT.md)
            b = f.read(1)
            f.seek(104)
            f.write(bytes([b[0] ^ 0xFF]))
        for call in (lambda: shmkit.info(spec), lambda: shmkit.Slot.open(spec)):
            with self.assertRaises(shmkit.CorruptSegmentError) as cm:
                call()
            self.assertEqual(cm.exception.name, "SHMKIT_ECORRUPT")
            self.assertIn("checksum", cm.exception.detail)

    def test_not_shmkit_and_half_created(self):
        spec = self.spec()
        with open(shm_path(spec), "wb") as f:
            f.write(b"\x7fELF" + b"x" * 4092)
        with self.assertRaises(shmkit.NotShmkitError) as cm:
            shmkit.Slot.open(spec)
        self.assertIn("magic", cm.exception.detail)
        with open(shm_path(spec), "wb") as f:
            f.write(b"\0" * 4096)
        with self.assertRaises(shmkit.HalfCreatedError):
            shmkit.info(spec)

    def test_invalid_arguments(self):
        for bad in ("noslash", "/", "sysv:0", "/" + "x" * 40, "/a/b"):
            with self.assertRaises(shmkit.InvalidArgumentError, msg=bad) as cm:
                shmkit.Slot.open(bad)
            self.assertIsInstance(cm.exception, ValueError)
        with self.assertRaises(ValueError):
            shmkit.check_spec("bad")
        self.assertEqual(shmkit.check_spec("/ok"), "posix")
        self.assertEqual(shmkit.check_spec("sysv:0x1234"), "sysv")
        with self.assertRaises(ValueError):
            shmkit.Slot.open("/a\0b")
        with self.assertRaises(TypeError):
            shmkit.Slot.open(b"/bytes")

    def test_backend_unavailable(self):
        missing = [b for b in ("posix", "sysv") if not shmkit.backend_available(b)]
        if not missing:
            self.skipTest("both backends are available")
        spec = "/x" if missing[0] == "posix" else "sysv:0x1234"
        with self.assertRaises(shmkit.BackendUnavailableError):
            shmkit.Slot.open(spec)

    def test_timeout_message(self):
        spec, w = self.ring()
        r = self.closing(shmkit.Ring.open(spec))
        t0 = time.monotonic()
        with self.assertRaises(shmkit.WaitTimeoutError) as cm:
            r.recv(timeout=0.2)
        self.assertGreaterEqual(time.monotonic() - t0, 0.19)
        self.assertEqual(cm.exception.errno, errno.ETIMEDOUT)
        self.assertIn(spec, str(cm.exception))
