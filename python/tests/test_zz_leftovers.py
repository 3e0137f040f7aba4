# test_zz_leftovers.py - runs last (test modules run in name order): no
# segment of this test process may remain, POSIX or System V.
# SPDX-License-Identifier: BSD-2-Clause

import gc
import unittest

import support


class Leftovers(unittest.TestCase):
    def test_no_segment_left(self):
        gc.collect()
        left = support.leftovers()
        for spec in left:
            support.unlink_quietly(spec)  # for the next run's sake
        self.assertEqual(left, [], "segments left behind by the tests")
