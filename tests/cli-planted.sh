#!/bin/sh
# cli-planted.sh - FIFOs, directories, sockets and symbolic links planted
# in /dev/shm under a segment's name (issue 11, item 5).  shmkit 0.1's
# "shmkit info", "shmkit-read", "shmkit ls /NAME" and "shmkit rm" blocked
# forever in open() on a FIFO, and gave exit status 1 with an errno text
# for the rest.  Now each is refused at once with exit status 5 and
# "not a shmkit segment (a FIFO)" (a directory, a socket, a symbolic
# link), whoever planted it and whoever runs the program, and "shmkit rm"
# leaves it where it is.
#
# Linux only: elsewhere POSIX objects are no files of a directory that
# users can write to.  Every command runs under "timeout 10", so that a
# program that blocks fails the test instead of hanging it.  The
# unprivileged cases run as nobody through runuser, setpriv or su (we are
# root in CI), or are skipped with the reason.
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

if [ "$(uname -s)" != Linux ] || [ ! -d /dev/shm ] || [ "$SHMKIT_HAVE_POSIX" != yes ]; then
    echo "1..0 # SKIP needs Linux, /dev/shm and the POSIX backend"
    exit 0
fi

NOBODY=65534

# $as_nobody: the words that run a command as uid and gid 65534 (we are
# root), or "" if no tool here can.
as_nobody=
if [ "$(id -u)" = 0 ]; then
    for _try in "runuser -u nobody --" \
        "setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --"; do
        # shellcheck disable=SC2086
        if [ "$($_try id -u 2>/dev/null)" = $NOBODY ]; then
            as_nobody=$_try
            break
        fi
    done
fi
nobody_reason="not root, or neither runuser nor setpriv can switch to uid $NOBODY"
# The build may lie below a directory nobody cannot enter (mktemp -d makes
# them 0700): then nobody cannot run the programs, which says nothing
# about them.
# shellcheck disable=SC2086
if [ -n "$as_nobody" ] && ! $as_nobody "$READ" --version >/dev/null 2>&1; then
    as_nobody=
    nobody_reason="uid $NOBODY cannot run $READ (a parent directory it may not enter)"
fi

# plant KIND PATH [AS]: make a KIND (fifo, dir, socket, link, dangling,
# chardev: root only)
# at PATH, as root or (AS=nobody) as nobody.  The links point at the real
# segment's file, $real_file.
plant() {
    _as=
    [ "${3:-}" = nobody ] && _as=$as_nobody
    case $1 in
        fifo) $_as mkfifo -m 0644 "$2" ;;
        dir) $_as mkdir "$2" ;;
        socket) $_as "$python" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$2" ;;
        link) $_as ln -s "$real_file" "$2" ;;
        chardev) $_as mknod -m 0666 "$2" c 1 3 ;; # /dev/null's numbers
        dangling) $_as ln -s "$real_file.none" "$2" ;;
    esac
}

# A python3 that nobody can run too (not one in root's home).
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

kind_text() {
    case $1 in
        fifo) echo "a FIFO" ;;
        dir) echo "a directory" ;;
        socket) echo "a socket" ;;
        chardev) echo "a character device" ;;
        *) echo "a symbolic link" ;;
    esac
}

# refused DESC CMD...: exit status 5 at once, "not a shmkit segment (KIND)"
# and nothing on standard output ($out: but the header of "shmkit ls").
refused() {
    _desc=$1
    shift
    tap_cmd "$_desc" 5 "${out:--}" "^[a-z-]+: $spec: not a shmkit segment \\($text\\)$" \
        timeout 10 "$@"
}

# planted_tests KIND BY: the programs on a KIND planted by BY (root or
# nobody), run as root; the unprivileged reader too when BY is root.
planted_tests() {
    kind=$1 by=$2
    spec=$(sk_spec posix 0)
    file=$(sk_posix_file 0)
    text=$(kind_text "$kind")
    what="$kind planted by $by"
    real=$(sk_spec posix 1)
    real_file=$(sk_posix_file 1)
    "$WRITE" -m 0644 -L 'id:u32' "$real" id=42
    if ! plant "$kind" "$file" "$by"; then
        tap_skip "$what" "cannot make one here"
        sk_remove_all
        return
    fi
    refused "$what: shmkit info" "$SHMKIT" info "$spec"
    refused "$what: shmkit info --any-owner" "$SHMKIT" info --any-owner "$spec"
    refused "$what: shmkit-read" "$READ" "$spec"
    refused "$what: shmkit-read -f -t 1" "$READ" -f -t 1 "$spec"
    refused "$what: shmkit-read --any-owner" "$READ" --any-owner "$spec"
    refused "$what: shmkit-write (slot)" "$WRITE" -L 'id:u32' "$spec" id=1
    refused "$what: shmkit-write --ring" "$WRITE" --ring 4k "$spec"
    out="!$spec"
    refused "$what: shmkit ls /NAME" "$SHMKIT" ls "$spec"
    out=
    refused "$what: shmkit rm" "$SHMKIT" rm "$spec"
    refused "$what: shmkit rm -f" "$SHMKIT" rm -f "$spec"
    if [ -e "$file" ] || [ -L "$file" ]; then
        tap_pass "$what: shmkit rm left it where it was"
    else
        tap_fail "$what: shmkit rm left it where it was"
    fi
    tap_cmd "$what: plain shmkit ls does not list it" 0 "!$spec" - timeout 10 "$SHMKIT" ls -a
    if [ "$by" = root ]; then
        if [ -z "$as_nobody" ]; then
            tap_skip "$what: shmkit-read as nobody" "$nobody_reason"
        else
            refused "$what: shmkit-read --any-owner as nobody (no write permission)" \
                $as_nobody "$READ" --any-owner "$spec"
            refused "$what: shmkit info as nobody" $as_nobody "$SHMKIT" info --any-owner "$spec"
        fi
    fi
    tap_cmd "$what: the real segment is untouched" 0 "^id=42$" - "$READ" "$real"
    rm -rf "$file"
    sk_remove_all
}

for kind in fifo dir socket link dangling chardev; do
    planted_tests "$kind" root
    [ "$kind" = chardev ] && continue # only root may make one
    if [ -z "$as_nobody" ]; then
        tap_skip "$kind planted by nobody" "$nobody_reason"
    else
        planted_tests "$kind" nobody
    fi
done

# A block ring is consumed through a read-write mapping: a reader without
# write permission is told so (item 7), on both backends.
for be in $SK_BACKENDS; do
    s=$(sk_spec "$be" 2)
    "$WRITE" -m 0644 --ring 4k "$s" </dev/null
    if [ -z "$as_nobody" ]; then
        tap_skip "$be: block ring read without write permission" "$nobody_reason"
    else
        tap_cmd "$be: block ring read without write permission" 1 - \
            "Permission denied \\(consuming a block ring needs write permission" \
            timeout 10 $as_nobody "$READ" --any-owner -t 1 "$s"
    fi
    sk_remove_all
done

sk_check_no_leftovers
tap_done
