# mk/leftovers.mk - included by Makefile.am.
# SPDX-License-Identifier: BSD-2-Clause

# "shmkit ls" and "shmkit rm --stale" (issue 7, Leftovers).
shmkit_SOURCES += src/tools/ls.c src/tools/ls.h \
	src/tools/ls-sysv.c src/tools/ls-sysv.h \
	src/tools/segstatus.c src/tools/segstatus.h

# Permissions, ownership and segment lifetime.
CHECK_SUITES += tests/check_perm
tests_check_perm_SOURCES = tests/check_perm.c src/tools/segstatus.c \
	src/tools/segstatus.h
tests_check_perm_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/tools
tests_check_perm_CFLAGS = $(CHECK_COMMON_CFLAGS)
tests_check_perm_LDADD = $(CHECK_COMMON_LDADD)

SHELL_TESTS += tests/cli-ls.sh
