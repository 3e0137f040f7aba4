# mk/limits.mk - included by Makefile.am.
# Resource limits (tests/check_limits.c, tests/limits.sh), the sanitizer
# CI script and the threat model.
# SPDX-License-Identifier: BSD-2-Clause

CHECK_SUITES += tests/check_limits
tests_check_limits_CFLAGS = $(CHECK_COMMON_CFLAGS)
tests_check_limits_LDADD = $(CHECK_COMMON_LDADD)

SHELL_TESTS += tests/limits.sh

EXTRA_DIST += .ci/sanitize

# Threads of one process sharing the library (for ThreadSanitizer).
CHECK_SUITES += tests/check_threads
tests_check_threads_CFLAGS = $(CHECK_COMMON_CFLAGS) -pthread
tests_check_threads_LDFLAGS = -pthread
tests_check_threads_LDADD = $(CHECK_COMMON_LDADD)
