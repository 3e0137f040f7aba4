# bridge-lib.sh - what the shmkit-bridge tests (tests/bridge-*.sh) share.
# Source it instead of tests/tap.sh, after setting BR_TEST to a short name
# of letters (it goes into the segment names):
#
#   BR_TEST=loop; . "${top_srcdir:-.}/tests/bridge-lib.sh"
#
# Prints "1..0 # SKIP" and exits when the bridge or tests/bridge-stream is
# not built (before tap.sh prints anything).
#
#   $BRIDGE $STREAM              shmkit-bridge, tests/bridge-stream
#   br_spec BACKEND N            a spec unique to this script, N = 0..15:
#                                  posix  /skt.br<BR_TEST>.PID.N
#                                  sysv   tap.sh's sk_spec sysv N
#                                (both watched by tests/zz-leftovers.sh;
#                                removed at exit)
#   br_free_port                 a free TCP port on 127.0.0.1
#   br_start NAME CMD [ARG...]   run CMD in the background; its output in
#                                $TAP_TMP/NAME.out and NAME.err, its pid in
#                                NAME.pid, its exit status in NAME.status
#                                once it ended (killed: 128 + signal)
#   br_pid NAME                  its pid
#   br_running NAME              whether it still runs
#   br_wait NAME SECONDS         wait until it ended, at most SECONDS (then
#                                kill -9 it); its exit status, or 124 on
#                                timeout
#   br_kill SIGNAL NAME          send it SIGNAL
#   br_stop NAME [SECONDS]       SIGTERM, then br_wait (default 10 s)
#   br_until SECONDS CMD...      run CMD every tenth of a second until it
#                                succeeds, at most SECONDS; its status
#   br_exists SPEC               the segment exists (shmkit info works)
#   br_show NAME                 its stderr and stdout as diagnostics
#   br_is_status GOT WANT NAME DESC
#                                tap_is on an exit status, with NAME's
#                                output when it fails
#   br_listening PORT            something accepts connections on
#                                127.0.0.1:PORT
#   br_our_segments              this script's segments that exist, one a
#                                line (posix names, sysv keys)
#   $BR_PY                       a Python with pyzmq, or empty
#
# Every process started with br_start is killed at exit (SIGTERM, then
# SIGKILL), before the segments are removed.
# SPDX-License-Identifier: BSD-2-Clause

: "${top_builddir:=.}" "${top_srcdir:=.}" "${BR_TEST:=x}"
BRIDGE=$top_builddir/shmkit-bridge
STREAM=$top_builddir/tests/bridge-stream
if [ ! -x "$BRIDGE" ]; then
    echo "1..0 # SKIP shmkit-bridge is not built (configure found no libzmq >= 4.2 with CURVE, or --without-zmq)"
    exit 0
fi
if [ ! -x "$STREAM" ]; then
    echo "1..0 # SKIP tests/bridge-stream is not built: run the tests with make check"
    exit 0
fi

. "$top_srcdir/tests/tap.sh"

br_spec() {
    case $1 in
        posix) printf '/skt.br%s.%s.%s' "$BR_TEST" "$$" "$2" ;;
        *) sk_spec "$@" ;;
    esac
}

BR_NAMES=
br_start() {
    _br_name=$1
    shift
    rm -f "$TAP_TMP/$_br_name.status" "$TAP_TMP/$_br_name.pid"
    # The subshell waits for CMD and records its status, so that a test can
    # poll for the end of a process that the shell would otherwise keep as
    # a zombie (kill -0 succeeds on a zombie).
    (
        trap - EXIT HUP INT TERM
        "$@" >"$TAP_TMP/$_br_name.out" 2>"$TAP_TMP/$_br_name.err" &
        echo $! >"$TAP_TMP/$_br_name.pid.tmp"
        mv "$TAP_TMP/$_br_name.pid.tmp" "$TAP_TMP/$_br_name.pid"
        wait $!
        echo $? >"$TAP_TMP/$_br_name.status.tmp"
        mv "$TAP_TMP/$_br_name.status.tmp" "$TAP_TMP/$_br_name.status"
    ) &
    sk_track $!
    case " $BR_NAMES " in *" $_br_name "*) ;; *) BR_NAMES="$BR_NAMES $_br_name" ;; esac
    # The pid file is written at once; wait for it (bounded).
    _br_n=0
    while [ ! -f "$TAP_TMP/$_br_name.pid" ] && [ $_br_n -lt 100 ]; do
        sk_nap
        _br_n=$((_br_n + 1))
    done
}

br_pid() {
    cat "$TAP_TMP/$1.pid" 2>/dev/null
}

br_running() {
    [ -f "$TAP_TMP/$1.pid" ] && [ ! -f "$TAP_TMP/$1.status" ]
}

br_kill() {
    _br_p=$(br_pid "$2")
    [ -n "$_br_p" ] && br_running "$2" && kill "-$1" "$_br_p" 2>/dev/null
    return 0
}

br_wait() {
    _br_tries=$(($2 * 10))
    while [ ! -f "$TAP_TMP/$1.status" ]; do
        if [ "$_br_tries" -le 0 ]; then
            br_kill KILL "$1"
            _br_n=0
            while [ ! -f "$TAP_TMP/$1.status" ] && [ $_br_n -lt 50 ]; do
                sk_nap
                _br_n=$((_br_n + 1))
            done
            return 124
        fi
        sk_nap
        _br_tries=$((_br_tries - 1))
    done
    return "$(cat "$TAP_TMP/$1.status")"
}

br_stop() {
    br_kill TERM "$1"
    br_wait "$1" "${2:-10}"
}

br_until() {
    _br_tries=$(($1 * 10))
    shift
    while :; do
        "$@" && return 0
        _br_tries=$((_br_tries - 1))
        [ "$_br_tries" -gt 0 ] || return 1
        sk_nap
    done
}

br_exists() {
    "$SK_PLAIN_SHMKIT" info "$1" >/dev/null 2>&1
}

br_show() {
    for _br_f in err out; do
        if [ -s "$TAP_TMP/$1.$_br_f" ]; then
            tap_diag "$1 std$_br_f:"
            tail -n 15 "$TAP_TMP/$1.$_br_f" | sed 's/^/#   /'
        fi
    done
    return 0
}

# tap_is on a process's exit status, with its output when it fails.
br_is_status() {
    if [ "$1" = "$2" ]; then
        tap_pass "$4"
    else
        tap_fail "$4"
        tap_diag "exit status $1, expected $2"
        br_show "$3"
    fi
}

br_free_port() {
    for _br_py in python3 /usr/bin/python3 python; do
        command -v "$_br_py" >/dev/null 2>&1 || continue
        "$_br_py" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null && return 0
    done
    # No Python: a port derived from the pid, in the dynamic range.
    echo $((49152 + ($$ * 7 + ${1:-0}) % 16000))
}

br_listening() {
    for _br_py in python3 /usr/bin/python3 python; do
        command -v "$_br_py" >/dev/null 2>&1 || continue
        "$_br_py" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 2)
s.close()' "$1" >/dev/null 2>&1
        return
    done
    return 1
}

br_our_segments() {
    ls /dev/shm 2>/dev/null | grep -E "^skt\\.br$BR_TEST\\.$$\\." | sed 's,^,/,'
    if command -v ipcs >/dev/null 2>&1; then
        _br_ipcs=$(ipcs -m 2>/dev/null)
        for _br_n in $SK_NUMBERS; do
            _br_key=$(sk_sysv_key "$_br_n")
            printf '%s\n' "$_br_ipcs" | grep -i -w -e "$_br_key" >/dev/null &&
                echo "sysv:$_br_key"
        done
    fi
    return 0
}

br_remove_ours() {
    for _br_n in $SK_NUMBERS; do
        "$SK_PLAIN_SHMKIT" rm -f "$(br_spec posix "$_br_n")" 2>/dev/null
        rm -f "/dev/shm/skt.br$BR_TEST.$$.$_br_n" 2>/dev/null
    done
    return 0
}

br_cleanup_() {
    for _br_name in $BR_NAMES; do
        br_kill TERM "$_br_name"
    done
    for _br_name in $BR_NAMES; do
        br_running "$_br_name" && br_wait "$_br_name" 3 >/dev/null
    done
    sk_kill_background
    br_remove_ours
    sk_remove_all
    eval "${BR_AT_EXIT:-:}"
}
tap_at_exit br_cleanup_

# A Python that has pyzmq: the build's, python3 on PATH, Debian's.
BR_PY=
for _br_py in ${SHMKIT_PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$_br_py" >/dev/null 2>&1 &&
        "$_br_py" -c 'import zmq' >/dev/null 2>&1; then
        BR_PY=$_br_py
        break
    fi
done
