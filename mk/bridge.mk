# mk/bridge.mk - included by Makefile.am: shmkit-bridge, which carries a
# slot or a ring to another machine over ZeroMQ (issue 15), built when
# configure found libzmq (m4/shmkit-zmq.m4), and the unit test of its wire
# format, which needs no libzmq and is always built.
# SPDX-License-Identifier: BSD-2-Clause

if HAVE_ZMQ
bin_PROGRAMS += shmkit-bridge
endif
shmkit_bridge_SOURCES = src/tools/bridge.c src/tools/bridge.h \
	src/tools/bridge-proto.c src/tools/bridge-proto.h \
	src/tools/bridge-send.c src/tools/bridge-receive.c \
	src/tools/bridge-curve.c src/tools/bridge-curve.h \
	src/tools/bridge-bench.c
shmkit_bridge_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/tools $(ZMQ_CFLAGS)
# -pthread: the ZAP handler runs in a thread of its own (bridge-curve.c).
shmkit_bridge_CFLAGS = $(AM_CFLAGS) -pthread
shmkit_bridge_LDFLAGS = -pthread
shmkit_bridge_LDADD = libcli.la libshmkit.la $(ZMQ_LIBS)

# The frames' encoding and validation (src/tools/bridge-proto.c): pure
# functions, tested against every malformed input.
CHECK_SUITES += tests/check_bridge_proto
tests_check_bridge_proto_SOURCES = tests/check_bridge_proto.c \
	src/tools/bridge-proto.c src/tools/bridge-proto.h
tests_check_bridge_proto_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/tools

# The security module (src/tools/bridge-curve.c): key files, keygen, the
# ZAP handler, the loopback rule and the handshake monitor, over real
# CURVE connections on 127.0.0.1: needs libzmq.
if HAVE_ZMQ
CHECK_SUITES += tests/check_bridge_curve
endif
tests_check_bridge_curve_SOURCES = tests/check_bridge_curve.c \
	src/tools/bridge-curve.c src/tools/bridge-curve.h
tests_check_bridge_curve_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/tools $(ZMQ_CFLAGS)
tests_check_bridge_curve_CFLAGS = $(AM_CFLAGS) -pthread
tests_check_bridge_curve_LDFLAGS = -pthread
tests_check_bridge_curve_LDADD = tests/libtestutil.la libcli.la libshmkit-core.la $(ZMQ_LIBS) $(CHECK_LIBS)
