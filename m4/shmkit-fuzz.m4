# m4/shmkit-fuzz.m4 - libFuzzer targets (tests/fuzz/README.md).
# SPDX-License-Identifier: BSD-2-Clause

# SHMKIT_FUZZ
# -----------
# --enable-fuzz: build the libFuzzer targets of tests/fuzz/ and a copy of
# the library instrumented for them, so that "make fuzz" can run them.
# Needs a compiler that links -fsanitize=fuzzer (clang with its libFuzzer
# runtime); asking for it without one is an error, not a silent no.
# Substitutes:
#   FUZZ_CFLAGS   instrumentation of the library copy and the targets
#   FUZZ_LDFLAGS  the link of the targets (libFuzzer's main, sanitizers)
#   FUZZ_PTHREAD  -pthread where the compiler takes it: the reader target
#                 runs a mutator thread, also in its plain "make check"
#                 replay build
# and defines the automake conditional ENABLE_FUZZ.  Nothing is run, so
# this works when cross-compiling.
AC_DEFUN([SHMKIT_FUZZ], [
AC_ARG_ENABLE([fuzz],
  [AS_HELP_STRING([--enable-fuzz],
    [build the libFuzzer targets for "make fuzz" (needs clang with libFuzzer)])],
  [], [enable_fuzz=no])

FUZZ_PTHREAD=
SHMKIT_CHECK_CFLAG([-pthread], [FUZZ_PTHREAD=-pthread])

FUZZ_CFLAGS=
FUZZ_LDFLAGS=
AS_IF([test "x$enable_fuzz" = xyes], [
  AC_CACHE_CHECK([whether $CC links libFuzzer targets with ASan and UBSan],
                 [shmkit_cv_libfuzzer], [
    shmkit_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -fsanitize=fuzzer,address,undefined"
    AC_LINK_IFELSE([AC_LANG_SOURCE([[
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return size > 0 && data[0] == 0;
}]])],
      [shmkit_cv_libfuzzer=yes], [shmkit_cv_libfuzzer=no])
    CFLAGS=$shmkit_save_CFLAGS])
  AS_IF([test "x$shmkit_cv_libfuzzer" != xyes],
    [AC_MSG_ERROR([--enable-fuzz: $CC cannot link a program with -fsanitize=fuzzer,address,undefined.
Use clang with its libFuzzer runtime (Debian/Ubuntu: package libclang-rt-NN-dev for clang NN,
libclang-common-NN-dev on older releases), e.g. ./configure CC=clang --enable-fuzz])])
  FUZZ_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g"
  FUZZ_LDFLAGS="-fsanitize=fuzzer,address,undefined"
])
AC_SUBST([FUZZ_CFLAGS])
AC_SUBST([FUZZ_LDFLAGS])
AC_SUBST([FUZZ_PTHREAD])
AM_CONDITIONAL([ENABLE_FUZZ], [test "x$enable_fuzz" = xyes])
])
