# mk/crash.mk - included by Makefile.am.
# SPDX-License-Identifier: BSD-2-Clause
#
# Crashing and hostile peers (issue 7): writers and consumers killed with
# SIGKILL at random points, and a process that scribbles over a live
# segment while readers run.  SHMKIT_CRASH_SEED=N replays a run's random
# choices; SHMKIT_CRASH_SCALE=K multiplies the number of kills and the
# duration of the hostile runs (soak testing).

CHECK_SUITES += tests/check_crash tests/check_hostile
tests_check_crash_SOURCES = tests/check_crash.c tests/peerutil.c tests/peerutil.h
tests_check_hostile_SOURCES = tests/check_hostile.c tests/peerutil.c tests/peerutil.h
if HAVE_CHECK
tests_check_crash_CFLAGS = $(CHECK_COMMON_CFLAGS)
tests_check_crash_LDADD = $(CHECK_COMMON_LDADD)
tests_check_hostile_CFLAGS = $(CHECK_COMMON_CFLAGS)
tests_check_hostile_LDADD = $(CHECK_COMMON_LDADD)
endif
