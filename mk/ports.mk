# mk/ports.mk - included by Makefile.am: the ports to the BSDs
# (doc/PORTING.md) and the cross-build script.
# SPDX-License-Identifier: BSD-2-Clause

EXTRA_DIST += \
	doc/PORTING.md \
	packaging/cross-build \
	packaging/README.md \
	packaging/plists.sh \
	packaging/freebsd/devel/shmkit/Makefile \
	packaging/freebsd/devel/shmkit/distinfo \
	packaging/freebsd/devel/shmkit/pkg-descr \
	packaging/freebsd/devel/shmkit/pkg-plist \
	packaging/openbsd/devel/shmkit/Makefile \
	packaging/openbsd/devel/shmkit/distinfo \
	packaging/openbsd/devel/shmkit/pkg/DESCR \
	packaging/openbsd/devel/shmkit/pkg/PLIST \
	packaging/pkgsrc/devel/shmkit/DESCR \
	packaging/pkgsrc/devel/shmkit/Makefile \
	packaging/pkgsrc/devel/shmkit/PLIST \
	packaging/pkgsrc/devel/shmkit/buildlink3.mk \
	packaging/pkgsrc/devel/shmkit/distinfo

# Cross-compile for the BSDs and macOS with zig cc (needs the ziglang
# Python package); see packaging/cross-build.
cross-build:
	$(SHELL) $(top_srcdir)/packaging/cross-build
.PHONY: cross-build
