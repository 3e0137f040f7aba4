# mk/bridge-tests.mk - included by Makefile.am after mk/bridge.mk: the
# end-to-end tests of shmkit-bridge (issue 15).  The scripts are always in
# the suite and print "1..0 # SKIP" with the reason when the bridge is not
# built; their helper, tests/bridge-stream (numbered, checksummed traffic
# over the public API), is built only with the bridge.
# SPDX-License-Identifier: BSD-2-Clause

if HAVE_ZMQ
check_PROGRAMS += tests/bridge-stream
tests_bridge_stream_SOURCES = tests/bridge-stream.c
tests_bridge_stream_LDADD = libshmkit.la
endif
EXTRA_DIST += tests/bridge-stream.c tests/bridge-lib.sh doc/bridge_slot_client.py

# Loopback, every kind, both backends; kill -9 of either bridge; CURVE;
# garbage frames and mismatched layouts; the pyzmq example; two network
# namespaces (root only, skipped with the reason elsewhere).
SHELL_TESTS += \
	tests/bridge-loopback.sh \
	tests/bridge-crash.sh \
	tests/bridge-curve.sh \
	tests/bridge-bad.sh \
	tests/bridge-pyzmq.sh \
	tests/bridge-netns.sh \
	tests/bench-bridge.sh
