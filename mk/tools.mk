# mk/tools.mk - included by Makefile.am: the programs shmkit, shmkit-read
# and shmkit-write.
# SPDX-License-Identifier: BSD-2-Clause

bin_PROGRAMS = shmkit shmkit-read shmkit-write
noinst_LTLIBRARIES += libcli.la
# escape.c is self-contained: the tools get their own copy, since the
# library does not export it.
libcli_la_SOURCES = src/tools/tool.c src/tools/tool-args.c src/tools/tool.h src/escape.c \
	src/escape.h

shmkit_SOURCES = src/tools/shmkit.c src/tools/bench/bench.h src/tools/bench/bench-int.h \
	src/tools/bench/bench.c src/tools/bench/options.c src/tools/bench/transport.c \
	src/tools/bench/sides.c src/tools/bench/objects.c src/tools/bench/runner.c \
	src/tools/bench/results.c src/tools/bench/machine.c src/tools/bench/report.c \
	src/tools/bench/util.c src/tools/bench/follow.c
shmkit_SOURCES += src/tools/bench/fanout.c
shmkit_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/tools
shmkit_LDADD = libcli.la libshmkit.la $(BENCH_LIBS)
if ICEORYX
# The peer rows with eclipse iceoryx (m4/shmkit-iceoryx.m4).
shmkit_SOURCES += src/tools/bench/iceoryx.c
shmkit_CPPFLAGS += $(ICEORYX_CFLAGS)
shmkit_LDADD += $(ICEORYX_LIBS)
endif
shmkit_read_SOURCES = src/tools/shmkit-read.c
shmkit_read_LDADD = libcli.la libshmkit.la
shmkit_write_SOURCES = src/tools/shmkit-write.c
shmkit_write_LDADD = libcli.la libshmkit.la

# "shmkit ls" and "shmkit rm --stale" (issue 7, Leftovers).
shmkit_SOURCES += src/tools/ls.c src/tools/ls.h \
	src/tools/ls-sysv.c src/tools/ls-sysv.h \
	src/tools/segstatus.c src/tools/segstatus.h
