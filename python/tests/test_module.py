# test_module.py - module functions and constants: info(), ls(), unlink(),
# set_wait_mode(), wait_mechanism(), versions, __all__, documentation.
# SPDX-License-Identifier: BSD-2-Clause

import os
import pydoc
import time

import shmkit
import support


class Module(support.TestCase):
    def test_versions(self):
        self.assertEqual(shmkit.__version__, shmkit.version)
        major, minor, patch = (int(x) for x in shmkit.version.split("."))
        self.assertEqual(shmkit.version_number, major * 10000 + minor * 100 + patch)
        self.assertEqual(shmkit.header_version, shmkit.version)

    def test_all(self):
        for name in shmkit.__all__:
            self.assertTrue(hasattr(shmkit, name), name)
        self.assertNotIn("TimeoutError", shmkit.__all__)  # no builtin shadowed

    def test_wait_mode(self):
        self.assertIn(shmkit.wait_mechanism(), ("futex", "umtx", "openbsd-futex",
                                                "netbsd-futex", "darwin", "sysv-sem", "poll"))
        prev = shmkit.set_wait_mode("block")
        self.addCleanup(shmkit.set_wait_mode, prev)
        self.assertEqual(shmkit.set_wait_mode(shmkit.WAIT_SPIN), "block")
        self.assertEqual(shmkit.set_wait_mode("adaptive"), "spin")
        with self.assertRaises(ValueError):
            shmkit.set_wait_mode("sleepy")
        with self.assertRaises(ValueError):
            shmkit.set_wait_mode(7)
        with self.assertRaises(TypeError):
            shmkit.set_wait_mode(None)

    def test_backend_available(self):
        self.assertIsInstance(shmkit.backend_available("posix"), bool)
        with self.assertRaises(ValueError):
            shmkit.backend_available("windows")

    def test_info(self):
        for backend in self.for_backends():
            with self.subTest(backend=backend):
                spec, w = self.slot(backend, layout="a:u8", mode=0o640)
                w.write(a=1)
                i = shmkit.info(spec)
                self.assertEqual(i["spec"], spec)
                self.assertEqual(i["backend"], backend)
                self.assertEqual(i["kind"], "slot")
                self.assertEqual(i["layout"], "a:u8")
                self.assertEqual((i["version"], i["record_size"], i["mode"]), (1, 1, 0o640))
                self.assertEqual(i["owner_uid"], os.geteuid())
                self.assertEqual((i["writer_pid"], i["writer_alive"]), (os.getpid(), True))
                self.assertTrue(i["ready"])
                self.assertLessEqual(abs(i["created"] - time.time()), 60)
                self.assertIsNone(i["policy"])
                rspec, rw = self.ring(backend, 4096, policy="overwrite")
                ri = shmkit.info(rspec)
                self.assertEqual((ri["kind"], ri["policy"], ri["consumers"]),
                                 ("ring", "overwrite", []))
                self.assertIsNone(ri["version"])

    def test_ls(self):
        spec, w = self.slot(layout="a:u8")
        sspec = None
        if "sysv" in self.for_backends():
            sspec, sw = self.slot("sysv", size=8)
        junk = self.spec()
        with open("/dev/shm" + junk, "wb") as f:
            f.write(b"not shmkit")
        found = {d["spec"]: d for d in shmkit.ls()}
        self.assertIn(spec, found)
        self.assertEqual(found[spec]["layout"], "a:u8")
        self.assertNotIn(junk, found)
        if sspec:
            self.assertIn(sspec, found)
        self.assertIn(spec, [d["spec"] for d in shmkit.ls(all=True)])

    def test_unlink(self):
        spec, w = self.slot(layout="a:u8")
        shmkit.unlink(spec)
        self.assertFalse(w.is_current())
        w.write(a=1)  # the mapping stays
        with self.assertRaises(shmkit.NotFoundError):
            shmkit.unlink(spec)

    def test_documentation(self):
        text = pydoc.render_doc(shmkit, renderer=pydoc.plaintext)
        for word in ("Slot", "Ring", "Errors", "fork()", "Threads", "SHMKIT_ECORRUPT",
                     "SHMKIT_ENOTHOLDER", "peek", "reserve", "ls("):
            self.assertIn(word, text)
        for obj in (shmkit.Slot, shmkit.Ring, shmkit.Slot.read, shmkit.Slot.write,
                    shmkit.Slot.follow, shmkit.Ring.peek, shmkit.Ring.reserve,
                    shmkit.Ring.recv, shmkit.info, shmkit.ls, shmkit.Error):
            self.assertTrue(obj.__doc__ and len(obj.__doc__) > 40, obj)

    def test_every_code_is_mapped(self):
        # The module docstring's table names every SHMKIT_E* code.
        doc = shmkit._shmkit.__doc__
        for name in ("EBADSPEC", "ENOTSHMKIT", "EVERSION", "EKIND", "ESIZE", "ELAYOUT",
                     "ECORRUPT", "EBUSY", "ENOBACKEND", "EBADLAYOUT", "ENOFIELD",
                     "EBADVALUE", "ERANGE", "ETOOLONG", "EHALFCREATED", "ECONTENDED",
                     "EOVERWRITTEN", "EOWNER", "ENOTHOLDER"):
            self.assertIn("SHMKIT_" + name, doc)

    def test_repr(self):
        spec, w = self.slot(layout="a:u8")
        self.assertIn(spec, repr(w))
        self.assertIn("writer", repr(w))
        rspec, rw = self.ring()
        self.assertIn("block", repr(rw))

    def test_stubs_cover_the_module(self):
        import ast
        here = os.path.dirname(shmkit.__file__)
        pyi = os.path.join(here, "_shmkit.pyi")
        if not os.path.exists(pyi):
            self.skipTest("no _shmkit.pyi next to the package")
        with open(pyi) as f:
            tree = ast.parse(f.read())
        names = set()
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                names.add(node.name)
            elif isinstance(node, ast.AnnAssign):
                names.add(node.target.id)
        public = {n for n in dir(shmkit._shmkit) if not n.startswith("__")}
        self.assertEqual(public - names, set())
        for cls in ("Slot", "Ring"):
            stub = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
            members = {n.name for n in stub.body if isinstance(n, ast.FunctionDef)}
            real = {n for n in dir(getattr(shmkit, cls)) if not n.startswith("_")}
            self.assertEqual(real - members, set(), cls)
        with open(os.path.join(here, "py.typed")) as f:
            self.assertEqual(f.read(), "")

    def test_error_str_without_library_code(self):
        e = shmkit.Error("plain")
        self.assertEqual(str(e), "plain")
        self.assertIsNone(e.code)

    def test_docstring_example_runs(self):
        import contextlib
        import io as _io
        import textwrap
        doc = shmkit._shmkit.__doc__
        code = doc.split("Examples\n--------\n", 1)[1].split("\nTimeouts", 1)[0]
        code = textwrap.dedent(code)
        weather, jobs = self.spec(), self.spec()
        code = code.replace("'/weather'", repr(weather)).replace("'/jobs'", repr(jobs))
        out = _io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<shmkit docstring>", "exec"), {})
        self.assertEqual(out.getvalue(), "b'job 1'\nb'job 2'\n")
        self.assertEqual(support.leftovers(), [])

    def test_ls_through_the_tool(self):
        # What ls() does where it cannot look itself: 'shmkit ls --json'.
        path = support.tool("shmkit")
        if path is None:
            self.skipTest("the shmkit tool was not found")
        spec, w = self.slot(layout="a:u8")
        found = {d["spec"]: d for d in shmkit._ls_tool(False, path)}
        self.assertIn(spec, found)
        self.assertEqual(found[spec]["kind"], "slot")
