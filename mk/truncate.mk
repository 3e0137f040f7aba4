# mk/truncate.mk - included by Makefile.am.
# A POSIX segment that shrinks under its mapping (issue 11, item 4): the
# library's SIGBUS handler (src/fault.c) and what every call returns.
# SPDX-License-Identifier: BSD-2-Clause

CHECK_SUITES += tests/check_truncate
tests_check_truncate_CFLAGS = $(CHECK_COMMON_CFLAGS) -pthread
tests_check_truncate_LDFLAGS = -pthread
tests_check_truncate_LDADD = $(CHECK_COMMON_LDADD)

SHELL_TESTS += tests/cli-truncate.sh
