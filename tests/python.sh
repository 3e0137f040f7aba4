#!/bin/sh
# python.sh - the Python module's test suite, python/tests/run.py (TAP),
# against the module of this build: python/build-tree/shmkit (made by
# mk/python.mk for "make check") first on sys.path, the uninstalled
# libshmkit found through LD_LIBRARY_PATH, and the tools, the libtool
# wrappers at the top of the build tree.  Prints "1..0 # SKIP" with the
# reason when this build has no Python module.
# tests/python-nonumpy.sh runs it with SHMKIT_TEST_NO_NUMPY=1.
# SPDX-License-Identifier: BSD-2-Clause
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"

if [ "${SHMKIT_BUILD_PYTHON:-no}" != yes ]; then
    echo "1..0 # SKIP the Python module is not built: ${SHMKIT_PYTHON_STATUS:-unknown (run through make check)}"
    exit 0
fi

build=$(cd "$top_builddir" && pwd) || exit 1
tree=$build/python/build-tree
if [ ! -f "$tree/shmkit/.built" ]; then
    echo "Bail out! $tree/shmkit is missing: run the tests with make check"
    exit 1
fi

SHMKIT_TOOLS_DIR=$build
SHMKIT_PYOFFSETS=$build/python/tests/pyoffsets
PYTHONPATH=$tree${PYTHONPATH:+:$PYTHONPATH}
LD_LIBRARY_PATH=$build/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
DYLD_LIBRARY_PATH=$build/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
# No __pycache__ in the source tree (read-only in distcheck) or the build tree.
PYTHONDONTWRITEBYTECODE=1
export SHMKIT_TOOLS_DIR SHMKIT_PYOFFSETS PYTHONPATH LD_LIBRARY_PATH DYLD_LIBRARY_PATH \
    PYTHONDONTWRITEBYTECODE
exec "$SHMKIT_PYTHON" -X dev "$top_srcdir/python/tests/run.py"
