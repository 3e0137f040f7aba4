# mk/library.mk - included by Makefile.am: libshmkit.
# SPDX-License-Identifier: BSD-2-Clause

include_HEADERS = src/shmkit.h
pkgconfig_DATA = shmkit.pc

# Everything is compiled once into a convenience library: the installed
# library wraps it with the export controls, and the unit tests link it
# directly so they can reach internal functions.
noinst_LTLIBRARIES += libshmkit-core.la
libshmkit_core_la_CPPFLAGS = $(AM_CPPFLAGS) -DSHMKIT_BUILDING_LIBRARY
libshmkit_core_la_CFLAGS = $(SHMKIT_WARN_CFLAGS) $(SHMKIT_VISIBILITY_CFLAGS)
libshmkit_core_la_SOURCES = \
	src/atomics.h \
	src/format.h \
	src/internal.h \
	src/hooks.h \
	src/copy.c \
	src/error.c \
	src/escape.c \
	src/escape.h \
	src/fault.c \
	src/fault.h \
	src/header.c \
	src/holder.c \
	src/hooks.c \
	src/info.c \
	src/layout.c \
	src/lease.c \
	src/proc.c \
	src/ring.c \
	src/seg_posix.c \
	src/seg_sysv.c \
	src/segment.c \
	src/slot.c \
	src/spec.c \
	src/wait.c \
	src/wait.h

lib_LTLIBRARIES = libshmkit.la
libshmkit_la_SOURCES =
libshmkit_la_LIBADD = libshmkit-core.la
libshmkit_la_LDFLAGS = -version-info $(SHMKIT_LT_VERSION_INFO) -no-undefined
if HAVE_VERSION_SCRIPT
libshmkit_la_LDFLAGS += -Wl,--version-script=$(top_srcdir)/src/libshmkit.map
endif
EXTRA_libshmkit_la_DEPENDENCIES = $(top_srcdir)/src/libshmkit.map
EXTRA_DIST += src/libshmkit.map
