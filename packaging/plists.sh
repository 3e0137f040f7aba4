#!/bin/sh
# plists.sh - what each port's packing list must say, derived from the
# files that 'make install' installed.  (POSIX sh.)
#
#   plists.sh DESTDIR OUTDIR
#       Reads the tree DESTDIR that 'make install DESTDIR=...' filled and
#       writes to OUTDIR, one entry a line, sorted:
#         freebsd.plist    devel/shmkit/pkg-plist of the FreeBSD port
#         freebsd.docs     its PORTDOCS (files of DOCSDIR)
#         openbsd.plist    devel/shmkit/pkg/PLIST of the OpenBSD port
#         pkgsrc.plist     devel/shmkit/PLIST of the pkgsrc package
#         unknown          installed files none of the rules below place
#       Exits 1 if a file is unknown (a new kind of file needs a rule).
#   plists.sh --update DESTDIR
#       Rewrites the packing lists under packaging/ from DESTDIR.
#
# The rules are each ports system's conventions (tests/ports-plist.sh
# checks the committed lists with them):
#   - FreeBSD (Porter's Handbook, "Advanced pkg-plist practices"):
#     USES=libtool deletes the .la file and names the shared library
#     libshmkit.so.MAJOR with a libshmkit.so link; pkg-config files live in
#     libdata/pkgconfig (the port passes --with-pkgconfigdir); manual pages
#     are compressed, share/man/manN/NAME.N.gz; documentation goes through
#     PORTDOCS, not the plist.
#   - OpenBSD (bsd.port.mk(5), pkg_create(1)): the ports libtool installs
#     only libshmkit.so.${LIBshmkit_VERSION} from SHARED_LIBS, marked @lib;
#     @static-lib for the archive, @bin for programs, @man for manual pages
#     under man/ (CONFIGURE_STYLE=gnu passes --mandir=${PREFIX}/man);
#     directories the port creates are listed with a trailing "/".
#   - pkgsrc (pkgsrc guide, "PLIST issues"): libtool libraries are listed by
#     their .la file only; manual pages as man/manN/NAME.N (PKGMANDIR).
# Installed paths are recognised by their shape (.../bin/NAME,
# .../include/shmkit.h and shmkit-version.h, .../libshmkit.*,
# .../pkgconfig/shmkit.pc, .../manN/NAME.N, .../doc/shmkit/NAME), so any
# --prefix, --libdir or --mandir works.
#
# SPDX-License-Identifier: BSD-2-Clause

set -u

usage() {
    echo "usage: $0 DESTDIR OUTDIR | --update DESTDIR" >&2
    exit 2
}

update=no
if [ "${1:-}" = --update ]; then
    update=yes
    shift
    [ $# -eq 1 ] || usage
    here=$(cd "$(dirname "$0")" && pwd)
    out=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-plists.XXXXXX") || exit 1
    trap 'rm -rf "$out"' EXIT
else
    [ $# -eq 2 ] || usage
    out=$2
fi
dest=$1
[ -d "$dest" ] || { echo "$0: $dest: no such directory" >&2; exit 2; }

: >"$out/freebsd.plist"
: >"$out/freebsd.docs"
: >"$out/openbsd.plist"
: >"$out/pkgsrc.plist"
: >"$out/unknown"

add() { printf '%s\n' "$2" >>"$out/$1"; }

# Every installed file or link, as a path under DESTDIR.
(cd "$dest" && find . \( -type f -o -type l \) -print) | sed 's|^\.||' |
    LC_ALL=C sort >"$out/installed"

while IFS= read -r path; do
    base=${path##*/}
    case $path in
    */bin/*)
        add freebsd.plist "bin/$base"
        add openbsd.plist "@bin bin/$base"
        add pkgsrc.plist "bin/$base"
        ;;
    */include/shmkit.h | */include/shmkit-version.h)
        add freebsd.plist "include/$base"
        add openbsd.plist "include/$base"
        add pkgsrc.plist "include/$base"
        ;;
    */pkgconfig/shmkit.pc)
        add freebsd.plist "libdata/pkgconfig/$base"
        add openbsd.plist "lib/pkgconfig/$base"
        add pkgsrc.plist "lib/pkgconfig/$base"
        ;;
    */libshmkit.la)
        add openbsd.plist "lib/$base"
        add pkgsrc.plist "lib/$base"
        ;;
    */libshmkit.a)
        add freebsd.plist "lib/$base"
        add openbsd.plist "@static-lib lib/$base"
        ;;
    */libshmkit.so | */libshmkit.so.[0-9]*)
        # FreeBSD keeps the link and the file named by the major number,
        # not the Linux-style libshmkit.so.MAJOR.AGE.REVISION.
        case $base in
        libshmkit.so | libshmkit.so.[0-9] | libshmkit.so.[0-9][0-9])
            add freebsd.plist "lib/$base" ;;
        esac
        add openbsd.plist '@lib lib/libshmkit.so.${LIBshmkit_VERSION}'
        ;;
    */man/man[1-9]/*)
        section=${path%/*}
        section=${section##*/}
        add freebsd.plist "share/man/$section/$base.gz"
        add openbsd.plist "@man man/$section/$base"
        add pkgsrc.plist "man/$section/$base"
        ;;
    */doc/shmkit/*)
        add freebsd.docs "$base"
        add openbsd.plist "share/doc/shmkit/"
        add openbsd.plist "share/doc/shmkit/$base"
        add pkgsrc.plist "share/doc/shmkit/$base"
        ;;
    *)
        add unknown "$path"
        ;;
    esac
done <"$out/installed"

# Sort by path, ignoring the @annotation of OpenBSD entries.
sort_entries() {
    awk '{ key = $0; sub(/^@[a-z-]+ /, "", key); print key "\t" $0 }' "$1" |
        LC_ALL=C sort -u | cut -f2- >"$1.sorted"
    mv "$1.sorted" "$1"
}
for list in freebsd.plist freebsd.docs openbsd.plist pkgsrc.plist; do
    sort_entries "$out/$list"
done

if [ -s "$out/unknown" ]; then
    echo "$0: no packing-list rule for:" >&2
    sed 's/^/  /' "$out/unknown" >&2
    exit 1
fi

if [ "$update" = yes ]; then
    cp "$out/freebsd.plist" "$here/freebsd/devel/shmkit/pkg-plist"
    cp "$out/openbsd.plist" "$here/openbsd/devel/shmkit/pkg/PLIST"
    { echo '@comment $NetBSD$'; cat "$out/pkgsrc.plist"; } >"$here/pkgsrc/devel/shmkit/PLIST"
    docs=$(tr '\n' ' ' <"$out/freebsd.docs" | sed 's/ $//')
    sed "s|^PORTDOCS=.*|PORTDOCS=	$docs|" "$here/freebsd/devel/shmkit/Makefile" \
        >"$out/Makefile" && cp "$out/Makefile" "$here/freebsd/devel/shmkit/Makefile"
    echo "updated the packing lists under $here"
fi
exit 0
