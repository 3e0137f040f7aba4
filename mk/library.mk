# mk/library.mk - included by Makefile.am: libshmkit.
# SPDX-License-Identifier: BSD-2-Clause

include_HEADERS = src/shmkit.h
nodist_include_HEADERS = src/shmkit-version.h
pkgconfig_DATA = shmkit.pc

# Everything is compiled once into a convenience library: the installed
# library wraps it with the export controls, and the unit tests link it
# directly so they can reach internal functions.
noinst_LTLIBRARIES += libshmkit-core.la
libshmkit_core_la_CPPFLAGS = $(AM_CPPFLAGS) -DSHMKIT_BUILDING_LIBRARY
libshmkit_core_la_CFLAGS = $(SHMKIT_WARN_CFLAGS) $(SHMKIT_VISIBILITY_CFLAGS)
libshmkit_core_la_SOURCES = \
	src/atomics.h \
	src/backend.h \
	src/copy.c \
	src/copy.h \
	src/error.c \
	src/error.h \
	src/escape.c \
	src/escape.h \
	src/fault.c \
	src/fault.h \
	src/format.h \
	src/handle.c \
	src/handle.h \
	src/header.c \
	src/header.h \
	src/holder.c \
	src/holder.h \
	src/hooks.h \
	src/info.c \
	src/internal.h \
	src/layout.c \
	src/layout-assign.c \
	src/layout-format.c \
	src/layout-impl.h \
	src/lease.c \
	src/lease.h \
	src/proc.c \
	src/proc.h \
	src/ring.c \
	src/ring.h \
	src/ring-impl.h \
	src/ring-ack.c \
	src/ring-consumers.c \
	src/ring-read.c \
	src/ring-write.c \
	src/segment.c \
	src/segment.h \
	src/slot.c \
	src/slot.h \
	src/spec.c \
	src/spec.h \
	src/wait.c \
	src/wait.h \
	src/wait-mech.h \
	src/wait-poll.c
# One file per wait mechanism, each where configure found its primitive
# (m4/shmkit-wait.m4).
if MECH_FUTEX
libshmkit_core_la_SOURCES += src/wait-futex.c
endif
if MECH_UMTX
libshmkit_core_la_SOURCES += src/wait-umtx.c
endif
if MECH_OPENBSD_FUTEX
libshmkit_core_la_SOURCES += src/wait-openbsd.c
endif
if MECH_NETBSD_FUTEX
libshmkit_core_la_SOURCES += src/wait-netbsd.c
endif
if MECH_DARWIN
libshmkit_core_la_SOURCES += src/wait-darwin.c
endif
if MECH_SYSV_SEM
libshmkit_core_la_SOURCES += src/wait-sem.c
endif
# The SHMKIT_TEST_SIMULATE hooks exist only in a --enable-test-hooks build.
if TEST_HOOKS
libshmkit_core_la_SOURCES += src/hooks.c
endif
# The backends configure selected (backend.h); segment.c lists them.
if HAVE_POSIX
libshmkit_core_la_SOURCES += src/seg_posix.c src/seg_posix.h src/seg_posix_lock.c
endif
if HAVE_SYSV
libshmkit_core_la_SOURCES += src/seg_sysv.c
endif

lib_LTLIBRARIES = libshmkit.la
libshmkit_la_SOURCES =
libshmkit_la_LIBADD = libshmkit-core.la
libshmkit_la_LDFLAGS = -version-info $(SHMKIT_LT_VERSION_INFO) -no-undefined
if HAVE_VERSION_SCRIPT
libshmkit_la_LDFLAGS += -Wl,--version-script=$(top_srcdir)/src/libshmkit.map
endif
EXTRA_libshmkit_la_DEPENDENCIES = $(top_srcdir)/src/libshmkit.map
EXTRA_DIST += src/libshmkit.map
