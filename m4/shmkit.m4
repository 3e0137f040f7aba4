# shmkit.m4 - configure helpers for shmkit.
# SPDX-License-Identifier: BSD-2-Clause

# SHMKIT_CHECK_CFLAG(FLAG, [ACTION-IF-ACCEPTED], [ACTION-IF-NOT])
# -------------------------------------------------------------
# Compile a trivial program with FLAG added.  -Werror is added too because
# clang only warns about options it does not know.
AC_DEFUN([SHMKIT_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([shmkit_var], [shmkit_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [shmkit_var], [
    shmkit_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
                      [AS_VAR_SET([shmkit_var], [yes])],
                      [AS_VAR_SET([shmkit_var], [no])])
    CFLAGS=$shmkit_save_CFLAGS])
  AS_VAR_IF([shmkit_var], [yes], [$2], [$3])
  AS_VAR_POPDEF([shmkit_var])
])

# SHMKIT_CHECK_LOCK_FREE(BITS, C11-MACRO, SHELL-VAR)
# ------------------------------------------------
# Compile-time only (no program is run): the C11 macro from <stdatomic.h>,
# or GCC's predefined __GCC_ATOMIC_*_LOCK_FREE without it.  2 means always
# lock-free, which is what memory shared between processes requires.
AC_DEFUN([SHMKIT_CHECK_LOCK_FREE], [
  AC_CACHE_CHECK([whether $1-bit atomics are always lock-free], [shmkit_cv_lock_free_$1], [
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#ifdef HAVE_STDATOMIC_H
#include <stdatomic.h>
#endif
#if defined($2)
#  if $2 != 2
#    error not lock-free
#  endif
#elif $1 == 32 && defined(__GCC_ATOMIC_INT_LOCK_FREE)
#  if __GCC_ATOMIC_INT_LOCK_FREE != 2
#    error not lock-free
#  endif
#elif $1 == 64 && defined(__GCC_ATOMIC_LLONG_LOCK_FREE)
#  if __GCC_ATOMIC_LLONG_LOCK_FREE != 2
#    error not lock-free
#  endif
#else
#  error unknown
#endif
]], [])], [shmkit_cv_lock_free_$1=yes], [shmkit_cv_lock_free_$1=no])])
  $3=$shmkit_cv_lock_free_$1
])
