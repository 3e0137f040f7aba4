# m4/shmkit-iceoryx.m4 - eclipse iceoryx for the peer rows of "shmkit bench".
# SPDX-License-Identifier: BSD-2-Clause

# SHMKIT_ICEORYX
# --------------
# --with-iceoryx (default: check): build the iceoryx rows of "shmkit bench"
# (src/tools/bench/iceoryx.c) against iceoryx's C binding, Debian's
# libiceoryx-binding-c-dev.  It ships no pkg-config file, only CMake
# files (iceoryx_binding_cConfig.cmake) that put the headers under
# PREFIX/include/iceoryx/vX.Y.Z and link "stdc++;pthread" besides, so:
#   - ICEORYX_CFLAGS and ICEORYX_LIBS, when given, are used as they are;
#   - else the newest /usr/include/iceoryx/v* or /usr/local/include/iceoryx/v*
#     (not when cross-compiling) goes on the include path with -isystem
#     (its headers are not -Wstrict-prototypes clean), and the library is
#     -liceoryx_binding_c, with iceoryx's other libraries and the C++
#     runtime only if a link needs them (a static library does).
# --with-iceoryx that cannot be satisfied is an error; --without-iceoryx
# and a failed check leave the rows out (the bench prints a note).  Only
# the shmkit program links ICEORYX_LIBS: never the library.
# Defines HAVE_ICEORYX, substitutes ICEORYX_CFLAGS and ICEORYX_LIBS, and
# the automake conditional ICEORYX; have_iceoryx is yes or no.
AC_DEFUN([SHMKIT_ICEORYX], [
AC_ARG_WITH([iceoryx],
  [AS_HELP_STRING([--with-iceoryx],
    [build the eclipse iceoryx rows of "shmkit bench" (default: if its C binding is found)])],
  [], [with_iceoryx=check])
AC_ARG_VAR([ICEORYX_CFLAGS], [C compiler flags for iceoryx's C binding])
AC_ARG_VAR([ICEORYX_LIBS], [linker flags for iceoryx's C binding])

have_iceoryx=no
AS_IF([test "x$with_iceoryx" != xno], [
  AS_IF([test -z "$ICEORYX_CFLAGS" && test "x$cross_compiling" != xyes], [
    for shmkit_iox_dir in /usr/include/iceoryx/v* /usr/local/include/iceoryx/v*; do
      AS_IF([test -f "$shmkit_iox_dir/iceoryx_binding_c/api.h"],
            [ICEORYX_CFLAGS="-isystem $shmkit_iox_dir"])
    done])
  shmkit_save_CPPFLAGS=$CPPFLAGS
  shmkit_save_LIBS=$LIBS
  CPPFLAGS="$CPPFLAGS $ICEORYX_CFLAGS"
  AC_CHECK_HEADERS([iceoryx_binding_c/api.h], [
    AC_MSG_CHECKING([how to link iceoryx's C binding])
    for shmkit_iox_libs in "$ICEORYX_LIBS" "-liceoryx_binding_c" \
        "-liceoryx_binding_c -liceoryx_posh -liceoryx_hoofs -liceoryx_platform -lstdc++ -lpthread"; do
      test -n "$shmkit_iox_libs" || continue
      LIBS="$shmkit_iox_libs $shmkit_save_LIBS"
      AC_LINK_IFELSE([AC_LANG_PROGRAM([[#include <iceoryx_binding_c/api.h>]],
                                      [[iox_runtime_init("configure");]])],
                     [have_iceoryx=yes; ICEORYX_LIBS=$shmkit_iox_libs; break])
    done
    AC_MSG_RESULT([${ICEORYX_LIBS:-no}])])
  CPPFLAGS=$shmkit_save_CPPFLAGS
  LIBS=$shmkit_save_LIBS
  AS_IF([test "x$have_iceoryx" != xyes && test "x$with_iceoryx" = xyes],
    [AC_MSG_ERROR([--with-iceoryx: iceoryx's C binding (iceoryx_binding_c/api.h, -liceoryx_binding_c)
was not found or does not link.  Debian/Ubuntu: apt-get install libiceoryx-binding-c-dev iceoryx;
elsewhere set ICEORYX_CFLAGS and ICEORYX_LIBS, or configure --without-iceoryx])])
])
AS_IF([test "x$have_iceoryx" = xyes],
  [AC_DEFINE([HAVE_ICEORYX], [1],
             [Define to 1 to build the eclipse iceoryx rows of shmkit bench.])],
  [ICEORYX_CFLAGS= ICEORYX_LIBS=])
AC_SUBST([ICEORYX_CFLAGS])
AC_SUBST([ICEORYX_LIBS])
AC_SUBST([have_iceoryx])
AM_CONDITIONAL([ICEORYX], [test "x$have_iceoryx" = xyes])
])
