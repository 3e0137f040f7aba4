# m4/shmkit-zmq.m4 - libzmq for shmkit-bridge.
# SPDX-License-Identifier: BSD-2-Clause

# SHMKIT_ZMQ
# ----------
# --with-zmq (default: check): build shmkit-bridge against libzmq >= 4.2
# (Debian's libzmq3-dev), found with pkg-config (ZMQ_CFLAGS and ZMQ_LIBS,
# when given, override it).  The bridge refuses to run without CURVE
# encryption on anything but loopback, so a libzmq built without CURVE
# (no libsodium or tweetnacl) does not count: zmq_has("curve") must be
# there.  That is a link test, not a run (configure runs no test program,
# for cross builds); the bridge asks zmq_has("curve") again at run time.
# --with-zmq that cannot be satisfied is an error; --without-zmq and a
# failed check leave shmkit-bridge out.  Only shmkit-bridge links ZMQ_LIBS.
# Defines HAVE_ZMQ, substitutes ZMQ_CFLAGS and ZMQ_LIBS, and the automake
# conditional HAVE_ZMQ; have_zmq is yes or no.
AC_DEFUN([SHMKIT_ZMQ], [
AC_ARG_WITH([zmq],
  [AS_HELP_STRING([--with-zmq],
    [build shmkit-bridge, which needs libzmq >= 4.2 with CURVE (default: if found)])],
  [], [with_zmq=check])
AC_ARG_VAR([ZMQ_CFLAGS], [C compiler flags for libzmq, overriding pkg-config])
AC_ARG_VAR([ZMQ_LIBS], [linker flags for libzmq, overriding pkg-config])

have_zmq=no
AS_IF([test "x$with_zmq" != xno], [
  AS_IF([test -z "$ZMQ_LIBS" && test -n "$PKG_CONFIG"], [
    PKG_CHECK_EXISTS([libzmq >= 4.2], [
      ZMQ_CFLAGS=`$PKG_CONFIG --cflags "libzmq >= 4.2" 2>/dev/null`
      ZMQ_LIBS=`$PKG_CONFIG --libs "libzmq >= 4.2" 2>/dev/null`])])
  AS_IF([test -n "$ZMQ_LIBS"], [
    AC_MSG_CHECKING([whether libzmq links with zmq_has and CURVE])
    shmkit_save_CPPFLAGS=$CPPFLAGS
    shmkit_save_LIBS=$LIBS
    CPPFLAGS="$CPPFLAGS $ZMQ_CFLAGS"
    LIBS="$ZMQ_LIBS $LIBS"
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <zmq.h>
#if ZMQ_VERSION < ZMQ_MAKE_VERSION(4, 2, 0)
#error libzmq older than 4.2
#endif]], [[return zmq_has("curve") + (zmq_curve_keypair((char *)0, (char *)0) == 0);]])],
                   [have_zmq=yes])
    CPPFLAGS=$shmkit_save_CPPFLAGS
    LIBS=$shmkit_save_LIBS
    AC_MSG_RESULT([$have_zmq])])
  AS_IF([test "x$have_zmq" != xyes && test "x$with_zmq" = xyes],
    [AC_MSG_ERROR([--with-zmq: libzmq >= 4.2 (pkg-config libzmq) was not found or does not link.
Debian/Ubuntu: apt-get install libzmq3-dev pkg-config; elsewhere set ZMQ_CFLAGS and
ZMQ_LIBS, or configure --without-zmq to build without shmkit-bridge])])
])
AS_IF([test "x$have_zmq" = xyes],
  [AC_DEFINE([HAVE_ZMQ], [1], [Define to 1 to build shmkit-bridge (libzmq).])],
  [ZMQ_CFLAGS= ZMQ_LIBS=])
AC_SUBST([ZMQ_CFLAGS])
AC_SUBST([ZMQ_LIBS])
AC_SUBST([have_zmq])
AM_CONDITIONAL([HAVE_ZMQ], [test "x$have_zmq" = xyes])
])
