# support.py - helpers shared by the shmkit module's tests (run by run.py).
# SPDX-License-Identifier: BSD-2-Clause
"""Segment names, backends, the C tools and cleanup for the tests.

Names are unique per test process and match what tests/zz-leftovers.sh
checks: POSIX /skt.py.<pid>.<n>, System V keys 0x40000000 + (pid << 8) + n
with n < 256.
"""

import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import unittest

import shmkit

PID = os.getpid()
_posix_counter = itertools.count(1)
_sysv_counter = itertools.count(1)
_lock = threading.Lock()


def numpy_hidden():
    return os.environ.get("SHMKIT_TEST_NO_NUMPY") == "1"


def numpy_or_none():
    """numpy, or None when hidden (SHMKIT_TEST_NO_NUMPY=1) or missing."""
    if numpy_hidden():
        return None
    try:
        import numpy
    except ImportError:
        return None
    return numpy


def backends():
    """The backends to test: SHMKIT_BACKENDS, else those the module has."""
    env = os.environ.get("SHMKIT_BACKENDS")
    if env:
        return env.split()
    return [b for b in ("posix", "sysv") if shmkit.backend_available(b)]


def posix_spec():
    with _lock:
        return "/skt.py.%d.%d" % (PID, next(_posix_counter))


def sysv_spec():
    with _lock:
        n = next(_sysv_counter)
    if n >= 256:
        raise RuntimeError("more than 255 System V test keys in one process")
    return "sysv:0x%08x" % (0x40000000 + (PID << 8) + n)


def new_spec(backend):
    return posix_spec() if backend == "posix" else sysv_spec()


def unlink_quietly(spec):
    try:
        shmkit.unlink(spec)
    except shmkit.NotFoundError:
        pass


def leftovers():
    """Segments of this process still there: POSIX names and SysV specs."""
    left = []
    prefix = "skt.py.%d." % PID
    try:
        left += ["/" + n for n in os.listdir("/dev/shm") if n.startswith(prefix)]
    except OSError:
        pass
    try:
        with open("/proc/sysvipc/shm") as f:
            for line in f.read().splitlines()[1:]:
                key = int(line.split()[0]) & 0xFFFFFFFF
                if 0x40000000 + (PID << 8) <= key < 0x40000000 + (PID << 8) + 256:
                    left.append("sysv:0x%08x" % key)
    except (OSError, ValueError, IndexError):
        pass
    return left


def tool(name):
    """Path of the C tool NAME: $SHMKIT_TOOLS_DIR/NAME, else from PATH."""
    d = os.environ.get("SHMKIT_TOOLS_DIR")
    if d:
        path = os.path.join(d, name)
        return path if os.access(path, os.X_OK) else None
    return shutil.which(name)


def run_tool(name, *args, input=None, timeout=20, check=True):
    path = tool(name)
    if path is None:
        raise unittest.SkipTest("%s not found (set SHMKIT_TOOLS_DIR)" % name)
    p = subprocess.run([path] + list(args), input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s %s: exit %d: %s" % (name, " ".join(args), p.returncode,
                                                     p.stderr.decode(errors="replace")))
    return p


def read_json(spec, *extra):
    out = run_tool("shmkit-read", "--json", *extra, spec).stdout.decode()
    return [json.loads(line) for line in out.splitlines() if line.strip()]


class Counter(threading.Thread):
    """A thread that counts while the main thread waits in C: proof that the
    GIL is released."""

    def __init__(self):
        super().__init__(daemon=True)
        self.count = 0
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.count += 1
            time.sleep(0.001)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.join()


class TestCase(unittest.TestCase):
    """A TestCase whose segments are removed after each test."""

    def spec(self, backend="posix"):
        s = new_spec(backend)
        self.addCleanup(unlink_quietly, s)
        return s

    def forget_semset(self, spec):
        """Remove, after the test, the System V semaphore set of the POSIX
        segment SPEC (--with-wait=sysv-sem builds), read from its header
        now: a test that corrupts the header or chowns the segment takes
        it out of what unlink may remove (doc/SECURITY.md)."""
        with open("/dev/shm" + spec, "rb") as f:
            head = f.read(96)
        if len(head) < 96:
            return
        mech = int.from_bytes(head[88:92], sys.byteorder)
        semid = int.from_bytes(head[92:96], sys.byteorder, signed=True)
        if mech == 7 and semid >= 0:  # FORMAT.md: wait_mech 7 is sysv-sem
            self.addCleanup(subprocess.run, ["ipcrm", "-s", str(semid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def closing(self, handle):
        self.addCleanup(handle.close)
        return handle

    def slot(self, backend="posix", layout=None, size=None, **kw):
        spec = self.spec(backend)
        return spec, self.closing(shmkit.Slot.create(spec, layout, size, **kw))

    def ring(self, backend="posix", capacity=4096, **kw):
        spec = self.spec(backend)
        return spec, self.closing(shmkit.Ring.create(spec, capacity, **kw))

    def for_backends(self):
        bs = backends()
        if not bs:
            self.skipTest("no backend available")
        return bs
