# mk/tests.mk - included by Makefile.am: the test suite, TAP through
# automake's parallel harness.  The Check unit suites are tests/check_*,
# the shell tests tests/*.sh (helpers in tests/tap.sh).
# SPDX-License-Identifier: BSD-2-Clause

LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
TEST_EXTENSIONS = .sh
SH_LOG_DRIVER = $(LOG_DRIVER)
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(top_srcdir)'; top_builddir='$(top_builddir)'; \
	SHMKIT_HAVE_SYSV='$(have_sysv)'; SHMKIT_HAVE_POSIX='$(have_posix)'; \
	SHMKIT_MAKE='$(MAKE)'; SHMKIT_HAVE_ICEORYX='$(have_iceoryx)'; \
	export top_srcdir top_builddir SHMKIT_HAVE_SYSV SHMKIT_HAVE_POSIX SHMKIT_MAKE \
	SHMKIT_HAVE_ICEORYX; \
	$(PYTHON_TESTS_ENVIRONMENT)

# ------------------------------------------------------------------
# Check unit suites
# ------------------------------------------------------------------

CHECK_SUITES += \
	tests/check_errors \
	tests/check_header \
	tests/check_layout \
	tests/check_layout_c \
	tests/check_ring \
	tests/check_slot \
	tests/check_spec \
	tests/check_wait \
	tests/check_portability
if HAVE_CHECK
# tests/libtestutil.la (it includes <check.h>) is built only with Check.
check_LTLIBRARIES = tests/libtestutil.la
tests_libtestutil_la_SOURCES = tests/testutil.c tests/testutil.h
check_PROGRAMS += $(CHECK_SUITES)
TESTS += $(CHECK_SUITES)
# The suites take automake's defaults, written once here: tests/check_NAME
# is built from tests/check_NAME.c with Check's flags and linked with the
# test utilities and the library's internals.  Every other program names
# its own LDADD.  Check's compiler flags (where <check.h> is, -pthread)
# reach the tools and examples too, harmlessly; the library names its own
# flags and does not get them.
AM_CFLAGS += $(CHECK_CFLAGS)
LDADD = tests/libtestutil.la libshmkit-core.la $(CHECK_LIBS)
else
TESTS += tests/check-skipped.sh
endif
EXTRA_DIST += tests/check-skipped.sh

# The C API as a careless or unlucky application uses it (issue 11,
# item 8): handles inherited through fork(), NULL arguments, flags, the
# wrong kind of handle, error details of failed waits.
CHECK_SUITES += tests/check_api

# Crashing and hostile peers (issue 7): writers and consumers killed with
# SIGKILL at random points, and a process that scribbles over a live
# segment while readers run.  SHMKIT_CRASH_SEED=N replays a run's random
# choices; SHMKIT_CRASH_SCALE=K multiplies the number of kills and the
# duration of the hostile runs (soak testing).
CHECK_SUITES += tests/check_crash tests/check_hostile

# Block rings with several consumers (issue 13): every message to every
# consumer, consumers that leave or die, joins, and consumers killed and
# replaced at random while others read.
CHECK_SUITES += tests/check_fanout

# Acknowledged consumption (SHMKIT_ACK) and rings numbered from first_seq:
# a forwarder that reads ahead, killed and replaced, loses nothing.
CHECK_SUITES += tests/check_ack
tests_check_crash_SOURCES = tests/check_crash.c tests/peerutil.c tests/peerutil.h
tests_check_hostile_SOURCES = tests/check_hostile.c tests/peerutil.c tests/peerutil.h

# What a handle holds and names (issue 11): descriptors 0-2 and
# close-on-exec, FIFOs, directories, sockets and links planted under a
# segment's name, and followers of a removed or replaced segment.
CHECK_SUITES += tests/check_handles

# Permissions, ownership and segment lifetime.
CHECK_SUITES += tests/check_perm
tests_check_perm_SOURCES = tests/check_perm.c src/tools/segstatus.c \
	src/tools/segstatus.h
tests_check_perm_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/tools

# Read-only followers that sleep in the kernel (issue 13, section 3).
CHECK_SUITES += tests/check_follow

# Resource limits (tests/check_limits.c, tests/limits.sh).
CHECK_SUITES += tests/check_limits

# Threads of one process sharing the library (for ThreadSanitizer).
CHECK_SUITES += tests/check_threads
tests_check_errors_CFLAGS = $(AM_CFLAGS) -pthread
tests_check_errors_LDFLAGS = -pthread
tests_check_threads_CFLAGS = $(AM_CFLAGS) -pthread
tests_check_threads_LDFLAGS = -pthread

# A POSIX segment that shrinks under its mapping (issue 11, item 4): the
# library's SIGBUS handler (src/fault.c) and what every call returns.
CHECK_SUITES += tests/check_truncate
tests_check_truncate_CFLAGS = $(AM_CFLAGS) -pthread
tests_check_truncate_LDFLAGS = -pthread

# ------------------------------------------------------------------
# Shell tests
# ------------------------------------------------------------------

SHELL_TESTS += \
	tests/bench-smoke.sh \
	tests/cli-errors.sh \
	tests/cli-fanout.sh \
	tests/cli-follow.sh \
	tests/cli-info.sh \
	tests/cli-read.sh \
	tests/cli-ring.sh \
	tests/cli-write.sh \
	tests/examples.sh
# ABI guard: the library exports exactly the functions of shmkit.h.
SHELL_TESTS += tests/abi-symbols.sh
# ... and the static archive defines only shmkit_ names.
SHELL_TESTS += tests/static-symbols.sh
# The ports' packing lists match what 'make install' installs.
SHELL_TESTS += tests/ports-plist.sh
# Every error code is described in the man pages and tested.
SHELL_TESTS += tests/error-lists.sh
# The installed headers compile as C89-C17 and C++98-C++17.
SHELL_TESTS += tests/header-std.sh
# The library's modules form layers with no cycles (includes and calls).
SHELL_TESTS += tests/layers.sh
# Handles (see check_handles above).
SHELL_TESTS += tests/cli-fds.sh tests/cli-planted.sh tests/cli-removed.sh
# "shmkit ls" and "shmkit rm --stale".
SHELL_TESTS += tests/cli-ls.sh
# Resource limits (see check_limits above).
SHELL_TESTS += tests/limits.sh
# A POSIX segment that shrinks (see check_truncate above).
SHELL_TESTS += tests/cli-truncate.sh
# The wait/notify protocol, model-checked with Spin (issue 11); skipped
# when spin or a C compiler is missing.
SHELL_TESTS += tests/model.sh
# The bench's eclipse iceoryx rows and its iox-roudi (skipped when not
# built; the only test that starts an iox-roudi).
SHELL_TESTS += tests/bench-iceoryx.sh
EXTRA_DIST += tests/model/wait.pml tests/model/join.pml

# Not a test: prints the semaphore set a segment's header names, for the
# shell tests that take segments away behind the library's back and for
# tests/zz-leftovers.sh (tests/tap.sh, sk_note_semset).  On the library's
# internals, without Check.
check_PROGRAMS += tests/semid-of
tests_semid_of_LDADD = libshmkit-core.la

# When this run of the suite began (seconds since the epoch), for
# tests/zz-leftovers.sh: only System V semaphore sets made since then can
# be this run's.  check_DATA is made before any test starts, anew by every
# "make check" and "make recheck".
check_DATA += tests/suite-start
tests/suite-start: FORCE
	@$(MKDIR_P) tests && date +%s >$@
FORCE:
CLEANFILES += tests/suite-start

TESTS += $(SHELL_TESTS) tests/zz-leftovers.sh
EXTRA_DIST += $(SHELL_TESTS) tests/zz-leftovers.sh tests/tap.sh

# The leftover check must see every other test finished.
LEFTOVER_DEPS = $(SHELL_TESTS:.sh=.log)
if HAVE_CHECK
LEFTOVER_DEPS += $(CHECK_SUITES:=.log)
endif
tests/zz-leftovers.log: $(LEFTOVER_DEPS)
