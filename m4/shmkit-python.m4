# shmkit-python.m4 - the Python module shmkit (python/, mk/python.mk).
#
# SPDX-License-Identifier: BSD-2-Clause

# SHMKIT_PYTHON
# -------------
# --enable-python / --disable-python; the default builds the module when
# an interpreter of Python 3.8 or later (PYTHON=..., else the first python3
# on PATH: AM_PATH_PYTHON) and its <Python.h> are found, and --enable-python
# makes their absence an error.  The compiler flags come from the
# interpreter's sysconfig (no python3-config, which need not match PYTHON),
# unless PYTHON_CFLAGS is given (which cross builds need: without it,
# a cross build has no module).  The Python headers are
# included with -isystem where the compiler has it, so that the project's
# warnings (and CI's -Werror) cover the module's code but not Python's own
# headers.  Sets build_python (yes/no), python_status (for the summary),
# PYTHON_CFLAGS, PYTHON_LDFLAGS and the conditional BUILD_PYTHON.
#
# The package is installed in $(pkgpythondir) = $(pythondir)/shmkit, the
# interpreter's site-packages under configure's prefix as AM_PATH_PYTHON
# computes it, so "make distcheck" and DESTDIR work; --with-python-dir=DIR
# names another directory (Debian: /usr/lib/python3/dist-packages).
AC_DEFUN([SHMKIT_PYTHON], [
AC_ARG_ENABLE([python],
  [AS_HELP_STRING([--enable-python],
    [build the Python module shmkit (default: if Python >= 3.8 and its headers are found)])],
  [], [enable_python=auto])
AS_CASE([$enable_python], [yes|no|auto], [],
        [AC_MSG_ERROR([bad value '$enable_python' for --enable-python (yes, no or auto)])])
AC_ARG_WITH([python-dir],
  [AS_HELP_STRING([--with-python-dir=DIR],
    [install the Python package in DIR/shmkit (default: the interpreter's
     site-packages under the prefix), e.g. /usr/lib/python3/dist-packages])],
  [], [with_python_dir=])
AS_CASE([$with_python_dir], [yes|no],
        [AC_MSG_ERROR([--with-python-dir needs a directory])])
AC_ARG_VAR([PYTHON_CFLAGS],
  [C compiler flags for the Python module (where <Python.h> is), overriding the interpreter's sysconfig])

build_python=no
python_status=
PYTHON_LDFLAGS=
AS_IF([test "x$enable_python" = xno], [
  python_status="no (--disable-python)"
], [test "x$enable_shared" = xno], [
  # An extension module is a shared object, linked with the shared libshmkit.
  python_status="no (--disable-shared: the module needs the shared library)"
], [
  AM_PATH_PYTHON([3.8], [], [:])
  AS_IF([test "x$PYTHON" = x:], [
    python_status="no (no Python 3.8 or later: name one with PYTHON=...)"
  ], [test "x$cross_compiling" = xyes && test -z "$PYTHON_CFLAGS"], [
    # The interpreter here runs on the build machine: its headers
    # (pyconfig.h) describe the build machine, not the host.
    python_status="no (cross-compiling: give the host Python's PYTHON_CFLAGS)"
  ], [
    AS_IF([test -z "$PYTHON_CFLAGS"], [
      AC_MSG_CHECKING([for the include directories of $PYTHON])
      shmkit_py_inc=`$PYTHON -c "import sysconfig; p = sysconfig.get_paths(); print(p[['include']]); print(p[['platinclude']])" 2>&AS_MESSAGE_LOG_FD | uniq`
      shmkit_py_inc=`echo $shmkit_py_inc`
      AC_MSG_RESULT([$shmkit_py_inc])
      SHMKIT_CHECK_CFLAG([-isystem /], [shmkit_py_isystem=-isystem], [shmkit_py_isystem=-I])
      for shmkit_dir in $shmkit_py_inc; do
        PYTHON_CFLAGS="${PYTHON_CFLAGS:+$PYTHON_CFLAGS }$shmkit_py_isystem $shmkit_dir"
      done
    ])
    AC_MSG_CHECKING([for Python.h with $PYTHON_CFLAGS])
    shmkit_save_CPPFLAGS=$CPPFLAGS
    CPPFLAGS="$CPPFLAGS $PYTHON_CFLAGS"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#if PY_VERSION_HEX < 0x03080000
#error "Python 3.8 or later is needed"
#endif
]], [[return PyLong_Check(Py_None);]])],
      [shmkit_py_header=yes], [shmkit_py_header=no])
    CPPFLAGS=$shmkit_save_CPPFLAGS
    AC_MSG_RESULT([$shmkit_py_header])
    AS_IF([test "x$shmkit_py_header" = xyes], [
      build_python=yes
      python_status="yes ($PYTHON, Python $PYTHON_VERSION)"
    ], [
      python_status="no (no <Python.h> for $PYTHON: install its development package, e.g. python3-dev)"
    ])
  ])
])
AS_IF([test "x$enable_python" = xyes && test "x$build_python" != xyes],
      [AC_MSG_ERROR([--enable-python: cannot build the Python module: $python_status])])
AS_IF([test "x$build_python" = xyes], [
  # The module uses libm (ceil for timeouts): LIBM, where it is separate.
  LT_LIB_M
  # Extension modules take the interpreter's symbols when they are loaded;
  # the macOS linker must be told to leave them undefined.
  AS_CASE([$host_os], [darwin*], [PYTHON_LDFLAGS="-Wl,-undefined,dynamic_lookup"])
  AS_IF([test -n "$with_python_dir"], [
    pythondir=$with_python_dir
    pyexecdir=$with_python_dir
  ])
])
AC_SUBST([build_python])
AC_SUBST([python_status])
AC_SUBST([PYTHON_LDFLAGS])
AM_CONDITIONAL([BUILD_PYTHON], [test "x$build_python" = xyes])
])
