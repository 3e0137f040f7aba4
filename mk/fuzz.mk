# mk/fuzz.mk - included by Makefile.am: the fuzz targets (tests/fuzz/README.md).
# SPDX-License-Identifier: BSD-2-Clause
#
# Always: each target is linked with tests/fuzz/replay.c into
# tests/fuzz/replay_TARGET, and tests/fuzz-replay.sh replays the committed
# corpus with them under "make check" (any compiler).
# With ./configure --enable-fuzz: the libFuzzer builds tests/fuzz/fuzz_TARGET
# against an instrumented copy of the library, and "make fuzz" runs each for
# FUZZ_TIME seconds ("make -j2 fuzz" runs two at a time; "make fuzz-TARGET"
# runs one).

FUZZ_TIME = 60
FUZZ_REPLAYS = \
	tests/fuzz/replay_spec \
	tests/fuzz/replay_layout \
	tests/fuzz/replay_header \
	tests/fuzz/replay_reader
check_PROGRAMS += $(FUZZ_REPLAYS)

FUZZ_COMMON_SOURCES = tests/fuzz/fuzz.h tests/fuzz/fuzz_seg.c
FUZZ_REPLAY_SOURCES = tests/fuzz/replay.c $(FUZZ_COMMON_SOURCES)
# Per-program flags give the replay objects names of their own.
FUZZ_REPLAY_FLAGS = $(AM_CFLAGS) $(FUZZ_PTHREAD)
FUZZ_REPLAY_LIBS = libshmkit-core.la
tests_fuzz_replay_spec_SOURCES = tests/fuzz/fuzz_spec.c $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_spec_CFLAGS = $(FUZZ_REPLAY_FLAGS)
tests_fuzz_replay_spec_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_replay_layout_SOURCES = tests/fuzz/fuzz_layout.c $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_layout_CFLAGS = $(FUZZ_REPLAY_FLAGS)
tests_fuzz_replay_layout_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_replay_header_SOURCES = tests/fuzz/fuzz_header.c $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_header_CFLAGS = $(FUZZ_REPLAY_FLAGS)
tests_fuzz_replay_header_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_replay_reader_SOURCES = tests/fuzz/fuzz_reader.c $(FUZZ_REPLAY_SOURCES)
tests_fuzz_replay_reader_CFLAGS = $(FUZZ_REPLAY_FLAGS)
tests_fuzz_replay_reader_LDADD = $(FUZZ_REPLAY_LIBS)
tests_fuzz_replay_reader_LDFLAGS = $(FUZZ_PTHREAD)

SHELL_TESTS += tests/fuzz-replay.sh

EXTRA_DIST += \
	tests/fuzz/README.md \
	tests/fuzz/run-fuzzer.sh \
	tests/fuzz/corpus

FUZZ_RUN = $(SHELL) $(srcdir)/tests/fuzz/run-fuzzer.sh $(FUZZ_TIME) $(srcdir)/tests/fuzz/corpus

if ENABLE_FUZZ
# The library once more, instrumented for coverage and the sanitizers.
noinst_LTLIBRARIES += libshmkit-fuzz.la
libshmkit_fuzz_la_SOURCES = $(libshmkit_core_la_SOURCES)
libshmkit_fuzz_la_CPPFLAGS = $(libshmkit_core_la_CPPFLAGS)
libshmkit_fuzz_la_CFLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)

FUZZ_BINS = \
	tests/fuzz/fuzz_spec \
	tests/fuzz/fuzz_layout \
	tests/fuzz/fuzz_header \
	tests/fuzz/fuzz_reader
noinst_PROGRAMS = $(FUZZ_BINS)
FUZZ_BIN_FLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS) $(FUZZ_PTHREAD)
FUZZ_BIN_LINK = $(FUZZ_LDFLAGS) $(FUZZ_PTHREAD)
FUZZ_BIN_LIBS = libshmkit-fuzz.la
tests_fuzz_fuzz_spec_SOURCES = tests/fuzz/fuzz_spec.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_fuzz_spec_CFLAGS = $(FUZZ_BIN_FLAGS)
tests_fuzz_fuzz_spec_LDFLAGS = $(FUZZ_BIN_LINK)
tests_fuzz_fuzz_spec_LDADD = $(FUZZ_BIN_LIBS)
tests_fuzz_fuzz_layout_SOURCES = tests/fuzz/fuzz_layout.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_fuzz_layout_CFLAGS = $(FUZZ_BIN_FLAGS)
tests_fuzz_fuzz_layout_LDFLAGS = $(FUZZ_BIN_LINK)
tests_fuzz_fuzz_layout_LDADD = $(FUZZ_BIN_LIBS)
tests_fuzz_fuzz_header_SOURCES = tests/fuzz/fuzz_header.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_fuzz_header_CFLAGS = $(FUZZ_BIN_FLAGS)
tests_fuzz_fuzz_header_LDFLAGS = $(FUZZ_BIN_LINK)
tests_fuzz_fuzz_header_LDADD = $(FUZZ_BIN_LIBS)
tests_fuzz_fuzz_reader_SOURCES = tests/fuzz/fuzz_reader.c $(FUZZ_COMMON_SOURCES)
tests_fuzz_fuzz_reader_CFLAGS = $(FUZZ_BIN_FLAGS)
tests_fuzz_fuzz_reader_LDFLAGS = $(FUZZ_BIN_LINK)
tests_fuzz_fuzz_reader_LDADD = $(FUZZ_BIN_LIBS)

fuzz: fuzz-spec fuzz-layout fuzz-header fuzz-reader
fuzz-spec: tests/fuzz/fuzz_spec$(EXEEXT)
	$(FUZZ_RUN) tests/fuzz/fuzz_spec$(EXEEXT) spec -max_len=512
fuzz-layout: tests/fuzz/fuzz_layout$(EXEEXT)
	$(FUZZ_RUN) tests/fuzz/fuzz_layout$(EXEEXT) layout -max_len=4096
fuzz-header: tests/fuzz/fuzz_header$(EXEEXT)
	$(FUZZ_RUN) tests/fuzz/fuzz_header$(EXEEXT) header -max_len=12288
fuzz-reader: tests/fuzz/fuzz_reader$(EXEEXT)
	$(FUZZ_RUN) tests/fuzz/fuzz_reader$(EXEEXT) reader -max_len=1024
else
fuzz fuzz-spec fuzz-layout fuzz-header fuzz-reader:
	@echo "make fuzz needs a build configured with --enable-fuzz (clang with libFuzzer):" >&2
	@echo "  ./configure CC=clang --enable-fuzz" >&2
	@exit 1
endif
.PHONY: fuzz fuzz-spec fuzz-layout fuzz-header fuzz-reader
