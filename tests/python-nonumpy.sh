#!/bin/sh
# python-nonumpy.sh - the Python module's test suite as tests/python.sh
# runs it, with SHMKIT_TEST_NO_NUMPY=1: the runner hides NumPy, so the
# module's paths without NumPy are tested where NumPy is installed too.
# SPDX-License-Identifier: BSD-2-Clause
SHMKIT_TEST_NO_NUMPY=1
export SHMKIT_TEST_NO_NUMPY
. "${top_srcdir:-.}/tests/python.sh"
