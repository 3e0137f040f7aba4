#!/bin/sh
# limits.sh - the tools when a resource limit is reached: exit status 1, a
# message that names the limit, and no segment left behind.
#
#   - RLIMIT_FSIZE (ulimit -f) below the size of a POSIX object: Linux
#     would kill the process with SIGXFSZ on ftruncate; refused instead;
#   - RLIMIT_AS (ulimit -v) too small to map a segment;
#   - a full /dev/shm: a 1 MiB tmpfs over it in a private mount namespace
#     (unshare -m; Linux, root);
#   - kernel.shmmax and kernel.shmmni lowered in a private IPC namespace
#     (unshare -i; Linux, root);
#   - with --enable-test-hooks, the injected faults (posix_fallocate
#     ENOSPC, mmap ENOMEM) that the namespaces cannot reach elsewhere.
# What cannot run here is a SKIP with the reason.  tests/check_limits.c
# covers the same limits (and RLIMIT_NOFILE) through the library.
#
# SPDX-License-Identifier: BSD-2-Clause
set -u
: "${top_srcdir:=.}"
# shellcheck source=tests/tap.sh
. "$top_srcdir/tests/tap.sh"

hooks=no
[ -f "$top_builddir/config.h" ] &&
    grep -q '^#define SHMKIT_TEST_HOOKS 1' "$top_builddir/config.h" && hooks=yes

# Sanitizers and valgrind need more address space than any small limit.
sanitized=
[ -n "${SHMKIT_TEST_WRAPPER:-}" ] && sanitized="runs under $SHMKIT_TEST_WRAPPER"
[ -n "${ASAN_OPTIONS:-}${TSAN_OPTIONS:-}" ] &&
    sanitized="a sanitizer build reserves address space of its own"

have() {
    case " $SK_BACKENDS " in *" $1 "*) return 0 ;; esac
    return 1
}

# ---------------------------------------------------------------------
# RLIMIT_FSIZE
# ---------------------------------------------------------------------
if have posix; then
    s=$(sk_spec posix 0)
    # 64 KiB of file size; the slot needs two 1 MB records.
    tap_cmd "RLIMIT_FSIZE: a clean error, not SIGXFSZ" 1 - \
        "^shmkit-write: $s: .*RLIMIT_FSIZE" \
        sh -c 'ulimit -f 64 && exec "$@"' sh "$WRITE" -s 1000000 "$s"
    tap_ok "RLIMIT_FSIZE: nothing left" sh -c '! "$1" info "$2" >/dev/null 2>&1' sh \
        "$SK_PLAIN_SHMKIT" "$s"
fi

# ---------------------------------------------------------------------
# RLIMIT_AS: a 64 MiB ring under a 48 MiB address space.
# ---------------------------------------------------------------------
for be in $SK_BACKENDS; do
    s=$(sk_spec "$be" 1)
    if [ -n "$sanitized" ]; then
        tap_skip "$be: RLIMIT_AS" "$sanitized"
        continue
    fi
    tap_cmd "$be: RLIMIT_AS: a clean error" 1 - "^shmkit-write: $s: .*RLIMIT_AS" \
        sh -c 'ulimit -v 49152 && exec "$@"' sh "$WRITE" --ring 64m "$s"
done

# ---------------------------------------------------------------------
# Namespaces (Linux, root)
# ---------------------------------------------------------------------
ns_reason=
if [ "$(uname -s)" != Linux ]; then
    ns_reason="private namespaces are Linux only"
elif [ "$(id -u)" != 0 ]; then
    ns_reason="needs root (CI runs as root)"
elif ! command -v unshare >/dev/null 2>&1; then
    ns_reason="no unshare(1)"
fi

# in_ns FLAG CMD...: run CMD in a new namespace (unshare FLAG) after the
# shell commands $SETUP; its stdout and stderr in $TAP_OUT and $TAP_ERR.
# Afterwards $ns_left holds what the namespace still had ($SHOW_LEFT's
# output), $ns_status CMD's exit status; returns 2 if the namespace or
# SETUP failed (the reason in $TAP_ERR).
in_ns() {
    _flag=$1
    shift
    unshare "$_flag" sh -c '
        eval "$SETUP" || exit 1
        "$@" >"$OUT" 2>"$ERR"
        echo $? >"$STATUS"
        eval "$SHOW_LEFT" >"$LEFT"
        exit 0
    ' sh "$@" 2>"$TAP_TMP/ns-err" </dev/null
    _rc=$?
    if [ "$_rc" -ne 0 ]; then
        cat "$TAP_TMP/ns-err" >"$TAP_ERR"
        return 2
    fi
    ns_status=$(cat "$TAP_TMP/status")
    ns_left=$(cat "$TAP_TMP/left")
    return 0
}
export_ns() {
    OUT=$TAP_OUT ERR=$TAP_ERR STATUS=$TAP_TMP/status LEFT=$TAP_TMP/left SETUP=$1 SHOW_LEFT=$2
    export OUT ERR STATUS LEFT SETUP SHOW_LEFT
}

# ns_case DESC FLAG SETUP SHOW_LEFT ERE CMD...: CMD in the namespace exits
# 1 with a line of stderr matching ERE, and SHOW_LEFT prints nothing.
ns_case() {
    _desc=$1 _flag=$2 _ere=$5
    export_ns "$3" "$4"
    shift 5
    if [ -n "$ns_reason" ]; then
        tap_skip "$_desc" "$ns_reason"
        return
    fi
    if ! in_ns "$_flag" "$@"; then
        tap_skip "$_desc" "unshare $_flag refused: $(head -n 1 "$TAP_ERR")"
        return
    fi
    _why=
    [ "$ns_status" = 1 ] || _why="exit status $ns_status, expected 1"
    grep -E -e "$_ere" "$TAP_ERR" >/dev/null || _why="${_why:+$_why; }stderr does not match '$_ere'"
    [ -z "$ns_left" ] || _why="${_why:+$_why; }left behind: $ns_left"
    if [ -z "$_why" ]; then
        tap_pass "$_desc"
    else
        tap_fail "$_desc"
        tap_diag "command: $*" "$_why" "stderr:"
        sed 's/^/#   /' "$TAP_ERR"
    fi
}

tmpfs_setup='mount -t tmpfs -o size=1m,mode=1777 skt-limits /dev/shm'
tmpfs_left='ls -A /dev/shm'
if have posix; then
    s=$(sk_spec posix 2)
    ns_case "full /dev/shm: a 4 MiB ring" -m "$tmpfs_setup" "$tmpfs_left" \
        "^shmkit-write: $s: .*/dev/shm is full" "$WRITE" --ring 4m "$s"
    ns_case "full /dev/shm: a 2 MB slot" -m "$tmpfs_setup" "$tmpfs_left" \
        "^shmkit-write: $s: .*/dev/shm is full" "$WRITE" -s 1000000 "$s"
    # Space is reserved at creation: a second 600 KiB slot does not fit
    # beside a first one (sparse objects would, and SIGBUS later).  The
    # first one is removed with shmkit rm before the namespace goes: its
    # semaphore set (sysv-sem builds) is in the host's IPC namespace.
    ns_case "full /dev/shm: space is reserved at creation" -m "$tmpfs_setup" "$tmpfs_left" \
        "^shmkit-write: $s: .*/dev/shm is full" \
        sh -c '"$1" -s 307200 "$3" </dev/null || exit
            "$1" -s 307200 "$4"; rc=$?; "$2" rm "$3"; exit $rc' sh \
        "$WRITE" "$SHMKIT" "$(sk_spec posix 3)" "$s"
fi

# The first segment of the shmmni case is left in the private IPC
# namespace, and goes with it, semaphore set and all.
sysv_left='tail -n +2 /proc/sysvipc/shm'
if have sysv; then
    s=$(sk_spec sysv 4)
    ns_case "kernel.shmmax: a 128 KiB ring" -i 'echo 65536 >/proc/sys/kernel/shmmax' \
        "$sysv_left" "^shmkit-write: $s: .*kernel\\.shmmax" "$WRITE" --ring 128k "$s"
    ns_case "kernel.shmmni: a second segment" -i 'echo 1 >/proc/sys/kernel/shmmni' \
        "$sysv_left | grep -v -w $(printf %d "$(sk_sysv_key 5)")" \
        "^shmkit-write: $s: .*kernel\\.shmmni" \
        sh -c '"$1" -s 8 "$2" && exec "$1" -s 8 "$3"' sh "$WRITE" "$(sk_spec sysv 5)" "$s"
fi

# ---------------------------------------------------------------------
# Injected faults (--enable-test-hooks)
# ---------------------------------------------------------------------
fault() {
    _hook=$1 _be=$2 _ere=$3
    s=$(sk_spec "$_be" 6)
    if [ "$hooks" != yes ]; then
        tap_skip "$_be: $_hook" "no test hooks in this build (configure --enable-test-hooks)"
        return
    fi
    have "$_be" || return 0
    tap_cmd "$_be: $_hook" 1 - "^shmkit-write: $s: .*$_ere" \
        env SHMKIT_TEST_SIMULATE="$_hook" "$WRITE" --ring 4k "$s"
    tap_ok "$_be: $_hook: nothing left" sh -c '! "$1" info "$2" >/dev/null 2>&1' sh \
        "$SK_PLAIN_SHMKIT" "$s"
}
fault posix-fallocate-enospc posix 'is full'
fault posix-mmap-enomem posix 'RLIMIT_AS'
fault sysv-shmat-enomem sysv 'RLIMIT_AS'
fault sysv-shmget-enospc sysv 'kernel\.shmmni'

sk_check_no_leftovers
tap_done
