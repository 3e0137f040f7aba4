# tap.sh - tiny TAP helpers for the shell tests (POSIX sh).
#
# Source it from a test script:   . "$top_srcdir/tests/tap.sh"
#
#   tap_plan N                   print the plan up front (optional)
#   tap_done                     print the plan at the end if none was given,
#                                and exit 0 if every test passed, else 1
#   tap_pass DESC / tap_fail DESC
#   tap_ok DESC CMD [ARG...]     passes if CMD exits 0
#   tap_is GOT WANT DESC         passes if the two strings are equal
#   tap_like TEXT ERE DESC       passes if a line of TEXT matches ERE
#   tap_cmd DESC STATUS OUT ERR CMD [ARG...]
#                                runs CMD (stdin from the caller, /dev/null
#                                by default), passes if it exits with STATUS
#                                and its stdout / stderr match OUT / ERR:
#                                  ''     anything
#                                  '-'    must be empty
#                                  '!ERE' no line may match ERE
#                                  'ERE'  some line must match ERE
#                                The output stays in "$TAP_OUT" and
#                                "$TAP_ERR", the status in $TAP_STATUS.
#   tap_skip DESC REASON         a test that cannot run here ("# SKIP")
#   tap_diag TEXT...             a diagnostic line ("# TEXT")
#   tap_at_exit CMD              run CMD (a string) when the script exits,
#                                however it exits
#   $TAP_TMP                     a private scratch directory, removed at exit
#
# Every failure prints what went wrong as diagnostics, so a failing test
# can be understood from the log alone.

tap_count=0
tap_failures=0
tap_planned=no
tap_exit_hook=:

# Tests must not read the terminal by accident.
exec </dev/null

TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/shmkit-tap.XXXXXX") || {
    echo "Bail out! cannot create a scratch directory"
    exit 1
}
TAP_OUT=$TAP_TMP/stdout
TAP_ERR=$TAP_TMP/stderr
TAP_STATUS=0

tap_cleanup_() {
    eval "$tap_exit_hook"
    rm -rf "$TAP_TMP"
}
trap 'tap_cleanup_' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

tap_at_exit() {
    tap_exit_hook=$1
}

tap_plan() {
    tap_planned=yes
    echo "1..$1"
}

tap_diag() {
    printf '%s\n' "$@" | sed 's/^/# /'
}

tap_pass() {
    tap_count=$((tap_count + 1))
    echo "ok $tap_count - $1"
}

tap_fail() {
    tap_count=$((tap_count + 1))
    tap_failures=$((tap_failures + 1))
    echo "not ok $tap_count - $1"
}

tap_skip() {
    tap_count=$((tap_count + 1))
    echo "ok $tap_count - $1 # SKIP $2"
}

tap_ok() {
    _tap_desc=$1
    shift
    if "$@"; then
        tap_pass "$_tap_desc"
    else
        tap_fail "$_tap_desc"
        tap_diag "command failed: $*"
    fi
}

tap_is() {
    if [ "$1" = "$2" ]; then
        tap_pass "$3"
    else
        tap_fail "$3"
        tap_diag "got:      '$1'" "expected: '$2'"
    fi
}

tap_like() {
    if printf '%s\n' "$1" | grep -E -e "$2" >/dev/null; then
        tap_pass "$3"
    else
        tap_fail "$3"
        tap_diag "got:      '$1'" "expected to match: $2"
    fi
}

# tap_match_ FILE PATTERN: the pattern rules of tap_cmd.
tap_match_() {
    case $2 in
        '') return 0 ;;
        -) test ! -s "$1" ;;
        !*) ! grep -E -e "${2#!}" "$1" >/dev/null ;;
        *) grep -E -e "$2" "$1" >/dev/null ;;
    esac
}

tap_cmd() {
    _tap_desc=$1 _tap_want_status=$2 _tap_want_out=$3 _tap_want_err=$4
    shift 4
    "$@" >"$TAP_OUT" 2>"$TAP_ERR"
    TAP_STATUS=$?
    _tap_why=
    [ "$TAP_STATUS" -eq "$_tap_want_status" ] ||
        _tap_why="exit status $TAP_STATUS, expected $_tap_want_status"
    tap_match_ "$TAP_OUT" "$_tap_want_out" ||
        _tap_why="${_tap_why:+$_tap_why; }stdout does not match '$_tap_want_out'"
    tap_match_ "$TAP_ERR" "$_tap_want_err" ||
        _tap_why="${_tap_why:+$_tap_why; }stderr does not match '$_tap_want_err'"
    if [ -z "$_tap_why" ]; then
        tap_pass "$_tap_desc"
        return 0
    fi
    tap_fail "$_tap_desc"
    tap_diag "command: $*" "$_tap_why"
    [ -s "$TAP_OUT" ] && { tap_diag "stdout:"; head -n 20 "$TAP_OUT" | sed 's/^/#   /'; }
    [ -s "$TAP_ERR" ] && { tap_diag "stderr:"; head -n 20 "$TAP_ERR" | sed 's/^/#   /'; }
    return 1
}

tap_done() {
    [ "$tap_planned" = yes ] || echo "1..$tap_count"
    if [ "$tap_failures" -ne 0 ]; then
        tap_diag "$tap_failures of $tap_count tests failed"
        exit 1
    fi
    exit 0
}

# ---------------------------------------------------------------------
# shmkit helpers for the cli-*.sh tests
# ---------------------------------------------------------------------
#
#   $WRITE $READ $SHMKIT         the programs in $top_builddir (run under
#                                $SHMKIT_TEST_WRAPPER when it is set)
#   sk_program NAME              the same for shmkit, shmkit-read or
#                                shmkit-write by name
#   $SK_BACKENDS                 the backends to test ("posix sysv"); a SKIP
#                                was printed for each one not built
#   sk_spec BACKEND N            a spec unique to this script, N = 0..15:
#                                  posix  /skt.cli.PID.N
#                                  sysv   sysv:0xKEY, KEY = 0x50000000
#                                         + (PID % 0x100000) * 16 + N
#                                (the range zz-leftovers.sh watches)
#   sk_posix_file N              the /dev/shm file of /skt.cli.PID.N
#   sk_remove_all                removes every segment sk_spec can name,
#                                and the sets sk_note_semset noted
#   sk_note_semset SPEC          note the System V semaphore set that
#                                SPEC's header names (sysv-sem builds),
#                                before the test takes SPEC away behind the
#                                library's back (ipcrm -M, truncation below
#                                the header, a chown): shmkit rm could not
#                                find or remove the set afterwards
#   sk_check_no_leftovers        one test: none of them exists any more
#   sk_info_field SPEC KEY       the value of "KEY: value" in shmkit info
#   $SK_WAIT_MECHANISM           the wait mechanism of this build (from
#                                config.h), or "" if unknown
#   $SK_WAIT_MECHANISMS          every mechanism name, as an ERE alternation
#   sk_nap                       sleep a tenth of a second (a whole one
#                                where sleep takes integers only)
#   sk_wait_until TRIES CMD...   run CMD every tenth of a second until it
#                                succeeds, at most TRIES times; the status
#                                of the last try
#   sk_seq FIRST LAST            the numbers FIRST to LAST, one a line
#                                (seq(1) is not POSIX)
#   sk_flat FILE                 FILE's lines joined, each followed by a
#                                space
#   sk_track PID                 a background process to kill at exit (if
#                                the script dies before waiting for it)
#   sk_wait PID                  wait for it; its exit status
#
# Segments (and noted semaphore sets) are removed at exit even when the
# script dies half-way.

: "${top_builddir:=.}" "${top_srcdir:=.}"
: "${SHMKIT_HAVE_SYSV:=yes}" "${SHMKIT_HAVE_POSIX:=yes}"
WRITE=$top_builddir/shmkit-write
READ=$top_builddir/shmkit-read
SHMKIT=$top_builddir/shmkit
# The plain programs, for this file's own clean-up and leftover checks
# (they need no checking and would be slow under a wrapper) and for tests
# that measure the program itself, such as its CPU time.
SK_PLAIN_SHMKIT=$SHMKIT
SK_PLAIN_READ=$READ
SK_PLAIN_WRITE=$WRITE

# SHMKIT_TEST_WRAPPER (opt-in, e.g. "valgrind -q --error-exitcode=99"): a
# command line that runs each of the three programs.  $WRITE, $READ,
# $SHMKIT and "$(sk_program NAME)" then name small scripts that run the
# program under it, so that quoted "$WRITE" keeps working.  The programs
# must be real executables, not libtool wrapper scripts (configure
# --disable-shared), or the wrapper would check the shell.  With
# SHMKIT_TEST_WRAPPER_EVERY=N only the 1st, N+1st, 2N+1st... run of the
# script goes through the wrapper (the counter is shared by the script's
# background jobs, loosely: a race only changes which runs are picked).
sk_program() {
    printf '%s/%s' "$SK_PROGRAM_DIR" "$1"
}
SK_PROGRAM_DIR=$top_builddir
if [ -n "${SHMKIT_TEST_WRAPPER:-}" ]; then
    _sk_abs=$(cd "$top_builddir" && pwd) || exit 1
    SK_PROGRAM_DIR=$TAP_TMP/wrapped
    mkdir "$SK_PROGRAM_DIR" || exit 1
    for _sk_prog in shmkit shmkit-read shmkit-write; do
        cat >"$SK_PROGRAM_DIR/$_sk_prog" <<EOF
#!/bin/sh
n=\$(cat "$SK_PROGRAM_DIR/count" 2>/dev/null) || n=0
# Background jobs share the file: the rename keeps each update whole, and
# anything unexpected counts as 0 (only which runs are picked changes).
case \$n in ''|*[!0-9]*) n=0 ;; esac
echo \$((n + 1)) >"$SK_PROGRAM_DIR/count.\$\$" &&
    mv -f "$SK_PROGRAM_DIR/count.\$\$" "$SK_PROGRAM_DIR/count"
[ \$((n % \${SHMKIT_TEST_WRAPPER_EVERY:-1})) -eq 0 ] &&
    exec \$SHMKIT_TEST_WRAPPER "$_sk_abs/$_sk_prog" "\$@"
exec "$_sk_abs/$_sk_prog" "\$@"
EOF
        chmod +x "$SK_PROGRAM_DIR/$_sk_prog"
    done
    export SHMKIT_TEST_WRAPPER
    WRITE=$(sk_program shmkit-write)
    READ=$(sk_program shmkit-read)
    SHMKIT=$(sk_program shmkit)
fi
SK_NUMBERS='0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15'

# The backends to test; a SKIP for each one this build lacks.
SK_BACKENDS=
for _sk_be in posix sysv; do
    if [ "$_sk_be" = posix ]; then _sk_have=$SHMKIT_HAVE_POSIX; else _sk_have=$SHMKIT_HAVE_SYSV; fi
    if [ "$_sk_have" = yes ]; then
        SK_BACKENDS="$SK_BACKENDS $_sk_be"
    else
        tap_skip "$_sk_be backend tests" "$_sk_be backend not in this build"
    fi
done

sk_sysv_key() {
    printf '0x%08x' $((0x50000000 + ($$ % 0x100000) * 16 + $1))
}

sk_spec() {
    case $1 in
        posix) printf '/skt.cli.%s.%s' "$$" "$2" ;;
        sysv) printf 'sysv:%s' "$(sk_sysv_key "$2")" ;;
        *) echo "sk_spec: bad backend $1" >&2; exit 1 ;;
    esac
}

sk_posix_file() {
    printf '/dev/shm/skt.cli.%s.%s' "$$" "$1"
}

sk_remove_all() {
    for _sk_n in $SK_NUMBERS; do
        [ "$SHMKIT_HAVE_POSIX" = yes ] && "$SK_PLAIN_SHMKIT" rm -f "$(sk_spec posix "$_sk_n")" 2>/dev/null
        [ "$SHMKIT_HAVE_SYSV" = yes ] && "$SK_PLAIN_SHMKIT" rm -f "$(sk_spec sysv "$_sk_n")" 2>/dev/null
        # In case the program is broken: the system's own tools.
        rm -f "$(sk_posix_file "$_sk_n")" 2>/dev/null
        ipcrm -M "$(sk_sysv_key "$_sk_n")" >/dev/null 2>&1
    done
    for _sk_id in $SK_SEMSETS; do
        ipcrm -s "$_sk_id" >/dev/null 2>&1
    done
    SK_SEMSETS=
    return 0
}

# tests/semid-of reads the header (a System V segment has no file to read);
# built by make check.  Without it a noted set is left for
# zz-leftovers.sh to report.
SK_SEMSETS=
sk_note_semset() {
    if [ -x "$top_builddir/tests/semid-of" ]; then
        SK_SEMSETS="$SK_SEMSETS $("$top_builddir/tests/semid-of" "$1")"
    fi
}

# The names of ours that still exist, one per line.
sk_leftovers_() {
    if [ -d /dev/shm ]; then
        ls /dev/shm 2>/dev/null | grep -E "^skt\\.cli\\.$$\\." | sed 's,^,/dev/shm/,'
    fi
    if command -v ipcs >/dev/null 2>&1; then
        _sk_ipcs=$(ipcs -m 2>/dev/null)
        for _sk_n in $SK_NUMBERS; do
            _sk_key=$(sk_sysv_key "$_sk_n")
            # Linux prints keys in hex; the BSDs may print them in decimal,
            # which elsewhere could match some other column.
            case $(uname -s) in
                Linux) _sk_pattern=$_sk_key ;;
                *) _sk_pattern="$_sk_key|$(printf '%d' "$_sk_key")" ;;
            esac
            printf '%s\n' "$_sk_ipcs" | grep -i -w -E -e "$_sk_pattern" >/dev/null &&
                echo "sysv key $_sk_key"
        done
    fi
    for _sk_n in $SK_NUMBERS; do
        for _sk_be in $SK_BACKENDS; do
            "$SK_PLAIN_SHMKIT" info "$(sk_spec "$_sk_be" "$_sk_n")" >/dev/null 2>&1
            [ $? -eq 3 ] || echo "$(sk_spec "$_sk_be" "$_sk_n") (shmkit info)"
        done
    done
}

sk_check_no_leftovers() {
    _sk_left=$(sk_leftovers_)
    if [ -z "$_sk_left" ]; then
        tap_pass "no segment left behind"
    else
        tap_fail "no segment left behind"
        tap_diag "left behind:" "$_sk_left"
    fi
}

sk_info_field() {
    "$SHMKIT" info "$1" 2>/dev/null | sed -n "s/^$2: //p"
}

SK_WAIT_MECHANISMS='futex|umtx|openbsd-futex|netbsd-futex|darwin|sysv-sem|poll'
SK_WAIT_MECHANISM=
[ -f "$top_builddir/config.h" ] &&
    SK_WAIT_MECHANISM=$(sed -n 's/^#define SHMKIT_MECH_NAME "\(.*\)"$/\1/p' \
        "$top_builddir/config.h")

# POSIX sleep takes whole seconds; every system shmkit runs on takes
# fractions too, but be safe.
sk_nap() {
    sleep 0.1 2>/dev/null || sleep 1
}

sk_wait_until() {
    _sk_tries=$1
    shift
    while :; do
        "$@" && return 0
        _sk_tries=$((_sk_tries - 1))
        [ "$_sk_tries" -gt 0 ] || return 1
        sk_nap
    done
}

sk_seq() {
    awk -v first="$1" -v last="$2" 'BEGIN { for (i = first; i <= last; i++) print i }'
}

sk_flat() {
    tr '\n' ' ' <"$1"
}

SK_PIDS=

sk_track() {
    SK_PIDS="$SK_PIDS $1"
}

sk_wait() {
    wait "$1" 2>/dev/null
    _sk_status=$?
    SK_PIDS=$(printf ' %s ' $SK_PIDS | sed "s/ $1 / /")
    return $_sk_status
}

# sk_check_interrupted DESC SECONDS CMD [ARG...]: run CMD in the
# background (stdout, stderr in $TAP_OUT, $TAP_ERR), send it SIGTERM after
# SECONDS and pass if it ends by the signal.  Its pid in $SK_INTERRUPTED,
# its status in $TAP_STATUS.
sk_check_interrupted() {
    _sk_desc=$1 _sk_after=$2
    shift 2
    "$@" >"$TAP_OUT" 2>"$TAP_ERR" &
    SK_INTERRUPTED=$!
    sleep "$_sk_after"
    kill -TERM "$SK_INTERRUPTED" 2>/dev/null
    wait "$SK_INTERRUPTED"
    TAP_STATUS=$?
    if [ "$TAP_STATUS" -gt 128 ]; then
        tap_pass "$_sk_desc ends by the signal"
        return 0
    fi
    tap_fail "$_sk_desc ends by the signal"
    tap_diag "command: $*" "exit status $TAP_STATUS; stdout:"
    head -n 40 "$TAP_OUT" | sed 's/^/#   /'
    tap_diag "stderr:"
    head -n 20 "$TAP_ERR" | sed 's/^/#   /'
    return 1
}

# Stopped ones (kill -STOP) must be continued to die of SIGTERM.
sk_kill_background() {
    for _sk_pid in $SK_PIDS; do
        kill -CONT "$_sk_pid" 2>/dev/null
        kill -TERM "$_sk_pid" 2>/dev/null
    done
    return 0
}

tap_at_exit 'sk_kill_background; sk_remove_all'
