# m4/shmkit-fuzz.m4 - libFuzzer support (placeholder until the fuzz targets land).
# SPDX-License-Identifier: BSD-2-Clause
AC_DEFUN([SHMKIT_FUZZ], [
AM_CONDITIONAL([ENABLE_FUZZ], [false])
])
