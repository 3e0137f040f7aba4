# mk/handles.mk - included by Makefile.am.
# SPDX-License-Identifier: BSD-2-Clause
#
# What a handle holds and names (issue 11): descriptors 0-2 and
# close-on-exec, FIFOs, directories, sockets and links planted under a
# segment's name, and followers of a removed or replaced segment.

CHECK_SUITES += tests/check_handles
if HAVE_CHECK
tests_check_handles_CFLAGS = $(CHECK_COMMON_CFLAGS)
tests_check_handles_LDADD = $(CHECK_COMMON_LDADD)
endif

SHELL_TESTS += tests/cli-fds.sh tests/cli-planted.sh tests/cli-removed.sh
