#!/usr/bin/env python3
# run.py - run the shmkit module's tests (test_*.py here) and print TAP:
# "1..N", then "ok N - name", "not ok N - name" followed by "# " lines of
# diagnostics, or "ok N - name # SKIP reason".  Exit status 0 iff no test
# failed.
#
# Environment: SHMKIT_TOOLS_DIR (the C tools), SHMKIT_PYOFFSETS (the
# pyoffsets program), SHMKIT_BACKENDS (e.g. "posix sysv"), and
# SHMKIT_TEST_NO_NUMPY=1 to run as if NumPy were not installed.
# Run it with python3 -X dev: ResourceWarnings (unclosed handles) and other
# exceptions that Python could only report as "unraisable" fail the test
# in which they happened.
# SPDX-License-Identifier: BSD-2-Clause

import os
import sys
import traceback
import unittest
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))

if os.environ.get("SHMKIT_TEST_NO_NUMPY") == "1":
    sys.modules["numpy"] = None  # "import numpy" raises ImportError

sys.path.insert(1, HERE)  # support.py; the package stays first on sys.path

# Warnings are errors (python -X dev shows them all): a ResourceWarning
# from a finalizer then reaches sys.unraisablehook, below.
warnings.simplefilter("error")

_unraisable = []


def _hook(u):
    _unraisable.append("%s: %s (in %r)" % (u.exc_type.__name__, u.exc_value, u.object))


sys.unraisablehook = _hook


def _flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            yield from _flatten(t)
        else:
            yield t


class TapResult(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.n = 0
        self.failed = 0
        self._problems = []
        self._skip = None

    def startTest(self, test):
        super().startTest(test)
        self._problems = []
        self._skip = None
        del _unraisable[:]

    def _diag(self, err):
        return "".join(traceback.format_exception(*err))

    def addError(self, test, err):
        super().addError(test, err)
        self._problems.append(self._diag(err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._problems.append(self._diag(err))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._problems.append("%s\n%s" % (subtest, self._diag(err)))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._skip = reason

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._problems.append("unexpected success")

    def stopTest(self, test):
        super().stopTest(test)
        import gc
        gc.collect()
        if _unraisable:
            self._problems.append("unraisable exceptions (e.g. unclosed handles):\n"
                                  + "\n".join(_unraisable))
            del _unraisable[:]
        self.n += 1
        name = test.id()
        if name.startswith("test_"):
            name = name[len("test_"):]
        if self._problems:
            self.failed += 1
            print("not ok %d - %s" % (self.n, name))
            for p in self._problems:
                for line in p.rstrip().splitlines():
                    print("# " + line)
        elif self._skip is not None:
            print("ok %d - %s # SKIP %s" % (self.n, name, self._skip.replace("\n", " ")))
        else:
            print("ok %d - %s" % (self.n, name))
        sys.stdout.flush()


def main():
    loader = unittest.TestLoader()
    try:
        suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    except Exception:
        print("Bail out! cannot load the tests")
        traceback.print_exc()
        return 1
    tests = list(_flatten(suite))
    print("1..%d" % len(tests))
    sys.stdout.flush()
    result = TapResult()
    for t in tests:
        t(result)
    return 0 if result.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
