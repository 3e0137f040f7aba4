# test_numpy.py - Slot.dtype against the C compiler's offsetof/sizeof
# (pyoffsets), read_array(), and the clear ImportError without NumPy.
# SPDX-License-Identifier: BSD-2-Clause

import json
import os
import subprocess
import unittest

import shmkit
import support

np = support.numpy_or_none()


def pyoffsets():
    path = os.environ.get("SHMKIT_PYOFFSETS")
    if not path:
        raise unittest.SkipTest("SHMKIT_PYOFFSETS is not set (the pyoffsets program)")
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest("SHMKIT_PYOFFSETS=%s is not an executable" % path)
    return json.loads(subprocess.run([path], check=True, stdout=subprocess.PIPE).stdout)


@unittest.skipIf(np is None, "NumPy not available (or hidden by SHMKIT_TEST_NO_NUMPY)")
class WithNumpy(support.TestCase):
    def test_dtype_matches_c(self):
        for rec in pyoffsets():
            with self.subTest(struct=rec["name"]):
                spec, w = self.slot(layout=rec["layout"])
                dt = w.dtype
                self.assertIs(w.dtype, dt)  # cached
                self.assertEqual(dt.itemsize, rec["size"])
                self.assertEqual(w.record_size, rec["size"])
                self.assertEqual(dt.alignment, rec["align"])
                self.assertTrue(dt.isalignedstruct)
                self.assertEqual(list(dt.names), [f["name"] for f in rec["fields"]])
                for f in rec["fields"]:
                    ftype, off = dt.fields[f["name"]][:2]
                    self.assertEqual(off, f["offset"], f["name"])
                    self.assertEqual(ftype.itemsize, f["size"], f["name"])

    def test_read_array(self):
        spec, w = self.slot(layout="id:u32 temp:f64 name:char[8] v:i16[3]")
        w.write(id=3, temp=1.5, name="abc", v=[1, 2, 3])
        rec, version = w.read_array()
        self.assertIsInstance(rec, np.void)
        self.assertEqual(version, 1)
        self.assertEqual(rec.dtype, w.dtype)
        self.assertEqual(int(rec["id"]), 3)
        self.assertEqual(float(rec["temp"]), 1.5)
        self.assertEqual(bytes(rec["name"]), b"abc")
        self.assertEqual(list(rec["v"]), [1, 2, 3])
        # A record built in NumPy is written as bytes.
        arr = np.zeros((), dtype=w.dtype)
        arr["id"] = 9
        arr["name"] = b"numpy"
        w.write(arr)
        self.assertEqual(w.read()[0]["name"], "numpy")
        self.assertEqual(w.read()[0]["id"], 9)
        # ... and so is the numpy.void of read_array(), changed.
        rec, version = w.read_array()
        rec["id"] = 10
        self.assertEqual(w.write(rec), version + 1)
        self.assertEqual(w.read()[0]["id"], 10)

    def test_numpy_values_for_fields(self):
        spec, w = self.slot(layout="a:u8 b:f32 c:i32[2]")
        w.write(a=np.uint8(7), b=np.float32(0.5), c=np.array([1, 2], dtype=np.int64))
        self.assertEqual(w.read()[0], {"a": 7, "b": 0.5, "c": [1, 2]})


@unittest.skipUnless(support.numpy_hidden(), "NumPy is not hidden (SHMKIT_TEST_NO_NUMPY)")
class WithoutNumpy(support.TestCase):
    def test_import_error(self):
        spec, w = self.slot(layout="a:u8")
        with self.assertRaises(ImportError) as cm:
            w.dtype
        self.assertIn("NumPy", str(cm.exception))
        with self.assertRaises(ImportError) as cm:
            w.read_array()
        self.assertIn("NumPy", str(cm.exception))
        # everything else works
        w.write(a=1)
        self.assertEqual(w.read(), ({"a": 1}, 1))
