# mk/docs.mk - included by Makefile.am: the manual pages, the installed
# documents, the examples and the benchmark plots.
# SPDX-License-Identifier: BSD-2-Clause

dist_man_MANS = \
	doc/man/shmkit.1 \
	doc/man/shmkit-read.1 \
	doc/man/shmkit-write.1 \
	doc/man/shmkit.3
# shmkit-bridge's page is installed with the program (mk/bridge.mk).
EXTRA_DIST += doc/man/shmkit-bridge.1
if HAVE_ZMQ
man1_MANS = doc/man/shmkit-bridge.1
endif

# Section 3 manual pages: one page per group of functions, and a one-line
# ".so" page for every other function name (lintian wants a page per name).
dist_man_MANS += \
	doc/man/shmkit_backend_available.3 doc/man/shmkit_error_detail.3 \
	doc/man/shmkit_info.3 doc/man/shmkit_info_consumers.3 \
	doc/man/shmkit_layout_align.3 \
	doc/man/shmkit_layout_assign.3 doc/man/shmkit_layout_count.3 \
	doc/man/shmkit_layout_field.3 doc/man/shmkit_layout_find.3 \
	doc/man/shmkit_layout_format.3 doc/man/shmkit_layout_free.3 \
	doc/man/shmkit_layout_parse.3 doc/man/shmkit_layout_set.3 \
	doc/man/shmkit_layout_size.3 doc/man/shmkit_layout_text.3 \
	doc/man/shmkit_layout_to_json.3 doc/man/shmkit_layout_to_text.3 \
	doc/man/shmkit_slot_close.3 doc/man/shmkit_slot_create.3 \
	doc/man/shmkit_slot_layout.3 doc/man/shmkit_slot_open.3 \
	doc/man/shmkit_slot_read.3 doc/man/shmkit_slot_record_size.3 \
	doc/man/shmkit_slot_version.3 doc/man/shmkit_slot_write.3 \
	doc/man/shmkit_spec_check.3 doc/man/shmkit_strerror.3 \
	doc/man/shmkit_strerror_name.3 \
	doc/man/shmkit_unlink.3 doc/man/shmkit_version.3 \
	doc/man/shmkit_version_number.3
dist_man_MANS += \
	doc/man/shmkit_ring_ack.3 doc/man/shmkit_ring_acked.3 doc/man/shmkit_ring_rewind.3 \
	doc/man/shmkit_ring_capacity.3 doc/man/shmkit_ring_close.3 \
	doc/man/shmkit_ring_cancel.3 doc/man/shmkit_ring_commit.3 doc/man/shmkit_ring_create.3 \
	doc/man/shmkit_ring_lost.3 doc/man/shmkit_ring_max_message.3 \
	doc/man/shmkit_ring_open.3 doc/man/shmkit_ring_options_init.3 \
	doc/man/shmkit_ring_peek.3 doc/man/shmkit_ring_size.3 \
	doc/man/shmkit_ring_policy.3 doc/man/shmkit_ring_position.3 \
	doc/man/shmkit_ring_recv.3 doc/man/shmkit_ring_release.3 \
	doc/man/shmkit_ring_reserve.3 doc/man/shmkit_ring_send.3 \
	doc/man/shmkit_set_wait_mode.3 doc/man/shmkit_slot_wait.3 \
	doc/man/shmkit_wait_mechanism.3
dist_man_MANS += \
	doc/man/shmkit_slot_is_current.3 doc/man/shmkit_ring_is_current.3

# The format document and its Python reference reader are installed docs.
dist_doc_DATA = doc/FORMAT.md doc/SECURITY.md doc/read_slot.py
EXTRA_DIST += doc/HACKING.md doc/PYTHON.md doc/BRIDGE.md

# ------------------------------------------------------------------
# Examples: the teaching demo, raw sys/shm.h and on the library.
# Built by 'make check' so that they cannot rot; run by 'make demo'.
# ------------------------------------------------------------------

EXAMPLE_BINS = examples/lib/write_struct examples/lib/read_struct
if HAVE_SYSV
EXAMPLE_BINS += examples/raw/write_struct examples/raw/read_struct
endif
check_PROGRAMS += $(EXAMPLE_BINS)
EXTRA_PROGRAMS = examples/raw/write_struct examples/raw/read_struct
examples_raw_write_struct_SOURCES = examples/raw/write_struct.c examples/weather.h
examples_raw_read_struct_SOURCES = examples/raw/read_struct.c examples/weather.h
# Only the C library (the default LDADD is the Check suites').
examples_raw_write_struct_LDADD =
examples_raw_read_struct_LDADD =
examples_lib_write_struct_SOURCES = examples/lib/write_struct.c examples/weather.h
examples_lib_write_struct_LDADD = libshmkit.la
examples_lib_read_struct_SOURCES = examples/lib/read_struct.c examples/weather.h
examples_lib_read_struct_LDADD = libshmkit.la
EXTRA_DIST += examples/demo.sh

demo: $(EXAMPLE_BINS) $(bin_PROGRAMS)
	$(SHELL) $(top_srcdir)/examples/demo.sh $(top_builddir)
.PHONY: demo

# ------------------------------------------------------------------
# Benchmarks (doc/BENCHMARKS.md): a full run and its plots.
# ------------------------------------------------------------------

BENCH_FLAGS = --pin
bench-plot: shmkit$(EXEEXT)
	./shmkit$(EXEEXT) bench $(BENCH_FLAGS) --csv bench.csv | tee bench.txt
	gnuplot -e "csv='bench.csv'; outdir='$(srcdir)/doc'" $(srcdir)/doc/bench-plot.gp
.PHONY: bench-plot
CLEANFILES += bench.csv bench.txt
EXTRA_DIST += doc/BENCHMARKS.md doc/bench-plot.gp doc/bench.csv \
	doc/bench-latency.svg doc/bench-throughput.svg
