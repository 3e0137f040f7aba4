#!/bin/sh
# ports-plist.sh - the packing lists of the FreeBSD, OpenBSD and pkgsrc
# ports under packaging/ list exactly what 'make install' installs, mapped
# to each system's conventions by packaging/plists.sh, and the ports build
# the version that configure knows.  (TAP, POSIX sh.)
#
# Runs 'make install DESTDIR=<scratch>' in $top_builddir with a clean make
# environment; $SHMKIT_MAKE names the make program (default: make).
# The lists describe the ports' builds, so they are compared only with a
# build of the same layout: shared and static libraries, documents in
# .../doc/shmkit.  Other layouts (--disable-shared, --disable-static,
# Gentoo's --docdir=.../shmkit-VERSION-r1) skip the comparison, with the
# reason; the version checks run in any case.
# After installing a new file, run
#   sh packaging/plists.sh --update <DESTDIR of a make install>
# and commit the updated lists.
#
# SPDX-License-Identifier: BSD-2-Clause

: "${top_srcdir:=.}" "${top_builddir:=.}"
. "$top_srcdir/tests/tap.sh"

pkg=$top_srcdir/packaging
freebsd=$pkg/freebsd/devel/shmkit
openbsd=$pkg/openbsd/devel/shmkit
pkgsrc=$pkg/pkgsrc/devel/shmkit
dest=$TAP_TMP/dest
want=$TAP_TMP/want
mkdir "$want"

# list FILE: the entries of a packing list, without comments, sorted.
list() {
    grep -v -e '^@comment' -e '^[[:space:]]*$' "$1" | LC_ALL=C sort
}

# same GOT WANT DESC: pass if the sorted lists are equal, else show both
# sides of the difference.
same() {
    if cmp -s "$1" "$2"; then
        tap_pass "$3"
        return
    fi
    tap_fail "$3"
    comm -23 "$1" "$2" | sed 's/^/#   listed but not installed: /'
    comm -13 "$1" "$2" | sed 's/^/#   installed but not listed: /'
}

# makefile_var NAME: the value of NAME in the Makefile, unexpanded.
makefile_var() {
    sed -n "s/^$1 = //p" "$top_builddir/Makefile"
}

# libtool_var NAME: libtool's configuration (the first value: the C one).
libtool_var() {
    "$top_builddir/libtool" --config 2>/dev/null | sed -n "s/^$1=//p" | sed -n 1p
}

# not_the_ports_layout: why this build installs otherwise than the ports'
# builds do, or nothing if it installs the same way.
not_the_ports_layout() {
    [ "$(libtool_var build_libtool_libs)" = yes ] ||
        { echo "no shared library in this build (--disable-shared)"; return; }
    [ "$(libtool_var build_old_libs)" = yes ] ||
        { echo "no static library in this build (--disable-static)"; return; }
    docdir=$(makefile_var docdir)
    case $docdir in
    '${datarootdir}/doc/${PACKAGE_TARNAME}' | */doc/shmkit) ;;
    *) echo "documents go to $docdir, not .../doc/shmkit (--docdir)" ;;
    esac
}

# --- 1. make install ------------------------------------------------------
make_prog=${SHMKIT_MAKE:-make}
if (unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES GNUMAKEFLAGS
    cd "$top_builddir" && $make_prog install DESTDIR="$dest") \
    >"$TAP_TMP/install.log" 2>&1; then
    tap_pass "make install DESTDIR=... succeeds"
else
    tap_fail "make install DESTDIR=... succeeds"
    tail -n 30 "$TAP_TMP/install.log" | sed 's/^/# /'
fi

# The ports configure --disable-python (checked below): the Python
# package a build with the module installed (site-packages/shmkit, the
# directories holding py.typed and the extension) is not theirs to list.
find "$dest" -type f \( -name py.typed -o -name '_shmkit*.so' \) -path '*/shmkit/*' |
    while read -r f; do dirname "$f"; done | LC_ALL=C sort -u | while read -r d; do
    rm -rf "$d"
    # The directories above it that held nothing else (.../site-packages,
    # .../python3.X).
    rmdir -p "$(dirname "$d")" 2>/dev/null
done

# The ports configure --without-zmq too: shmkit-bridge and its page,
# which a build with libzmq installs, are not theirs to list.
find "$dest" -type f \( -name 'shmkit-bridge' -o -name 'shmkit-bridge.1*' \) -exec rm -f {} +

compare_lists() {
    # --- 2. every installed file has a packing-list rule ---------------------
    if sh "$pkg/plists.sh" "$dest" "$want" 2>"$TAP_TMP/plists.err" &&
        [ -s "$want/pkgsrc.plist" ]; then
        tap_pass "packaging/plists.sh places every installed file"
    else
        tap_fail "packaging/plists.sh places every installed file"
        sed 's/^/# /' "$TAP_TMP/plists.err"
    fi

    # --- 3-6. the committed lists ---------------------------------------------
    list "$freebsd/pkg-plist" >"$TAP_TMP/freebsd"
    same "$TAP_TMP/freebsd" "$want/freebsd.plist" "FreeBSD pkg-plist matches make install"

    sed -n 's/^PORTDOCS=[[:space:]]*//p' "$freebsd/Makefile" | tr ' \t' '\n\n' |
        grep -v '^$' | LC_ALL=C sort >"$TAP_TMP/portdocs"
    same "$TAP_TMP/portdocs" "$want/freebsd.docs" "FreeBSD PORTDOCS match the installed documents"

    list "$openbsd/pkg/PLIST" >"$TAP_TMP/openbsd"
    LC_ALL=C sort "$want/openbsd.plist" >"$TAP_TMP/openbsd-want"
    same "$TAP_TMP/openbsd" "$TAP_TMP/openbsd-want" "OpenBSD PLIST matches make install"

    list "$pkgsrc/PLIST" >"$TAP_TMP/pkgsrc"
    same "$TAP_TMP/pkgsrc" "$want/pkgsrc.plist" "pkgsrc PLIST matches make install"
}

other_layout=$(not_the_ports_layout)
if [ -z "$other_layout" ]; then
    compare_lists
else
    tap_skip "the packing lists match make install" "$other_layout"
fi

# --- 7. the version ------------------------------------------------------------
version=$(makefile_var PACKAGE_VERSION)
fb=$(sed -n 's/^DISTVERSION=[[:space:]]*//p' "$freebsd/Makefile")
ob=$(sed -n 's/^DISTNAME =[[:space:]]*shmkit-//p' "$openbsd/Makefile")
ps=$(sed -n 's/^DISTNAME=[[:space:]]*shmkit-//p' "$pkgsrc/Makefile")
tap_is "$fb $ob $ps" "$version $version $version" \
    "the three ports build version $version"

# --- 8. the ports build without the Python module ------------------------------
without=
for f in "$freebsd/Makefile" "$openbsd/Makefile" "$pkgsrc/Makefile"; do
    grep -q -e '--disable-python' "$f" || without="$without $f"
done
if [ -z "$without" ]; then
    tap_pass "the three ports configure --disable-python"
else
    tap_fail "the three ports configure --disable-python"
    tap_diag "no --disable-python in:$without"
fi

# --- 9. distinfo names the tarball of that version -----------------------------
missing=
for f in "$freebsd/distinfo" "$openbsd/distinfo" "$pkgsrc/distinfo"; do
    grep -q "(shmkit-$version\\.tar\\.gz)" "$f" || missing="$missing $f"
done
if [ -z "$missing" ]; then
    tap_pass "every distinfo names shmkit-$version.tar.gz"
else
    tap_fail "every distinfo names shmkit-$version.tar.gz"
    tap_diag "wrong tarball in:$missing"
fi

tap_done
