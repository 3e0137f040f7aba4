#!/bin/sh
# cli-errors.sh - every exit status of the three programs and the format of
# their error messages: "PROG: SPEC: cause (detail)".
#   0 ok, 1 runtime error, 2 usage error, 3 no such segment,
#   4 timed out (-t), 5 incompatible segment
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

PROGRAMS='shmkit-write shmkit-read shmkit'
VERSION=
[ -f "$top_builddir/config.h" ] &&
    VERSION=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$top_builddir/config.h")
VERSION_RE=$(printf '%s' "${VERSION:-[0-9]+.[0-9]+.[0-9]+}" | sed 's/\./\\./g')

help_and_version_tests() {
    for p in $PROGRAMS; do
        tap_cmd "$p --help" 0 "^usage: $p " - "$(sk_program "$p")" --help
        tap_cmd "$p -h" 0 "^usage: $p " - "$(sk_program "$p")" -h
        tap_cmd "$p --version" 0 "^$p \\(shmkit\\) $VERSION_RE\$" - "$(sk_program "$p")" --version
        tap_is "$(wc -l <"$TAP_OUT" | tr -d ' ')" 1 "$p --version prints one line"
        tap_cmd "$p --bogus" 2 - "^$p: unknown option '--bogus'\$" "$(sk_program "$p")" --bogus
        tap_like "$(cat "$TAP_ERR")" "^usage: $p " "$p prints its usage on a bad option"
        tap_cmd "$p -q" 2 - "^$p: unknown option '-q'\$" "$(sk_program "$p")" -q /x
        tap_cmd "$p --help=yes" 2 - "option '--help' takes no argument" \
            "$(sk_program "$p")" --help=yes
    done
}

usage_tests() {
    tap_cmd "shmkit-read without SPEC" 2 - '^shmkit-read: missing SPEC$' "$READ"
    tap_cmd "shmkit-write without SPEC" 2 - '^shmkit-write: missing SPEC$' "$WRITE" -L v:u8
    tap_cmd "-m without its argument" 2 - "option '-m' needs an argument" "$WRITE" -L v:u8 -m
    tap_cmd "--layout without its argument" 2 - "option '--layout' needs an argument" \
        "$WRITE" --layout
    for mode in 0800 abc 1777 0 '' -1 06000 ' 644'; do
        tap_cmd "bad mode '$mode'" 2 - "^shmkit-write: bad mode '$mode'" \
            "$WRITE" -L v:u8 -m "$mode" /x
    done
    tap_cmd "bundled -xm with a bad mode" 2 - "bad mode '9'" "$WRITE" -L v:u8 -xm9 /x
    for size in 0 -1 abc 1k 2147483648 0x; do
        tap_cmd "bad size '$size'" 2 - "^shmkit-write: bad size '$size'" "$WRITE" -s "$size" /x
    done
    tap_cmd "-L and -s together" 2 - 'either -L or -s' "$WRITE" -L v:u8 -s 1 /x
    tap_cmd "-x without -L or -s" 2 - '-x only applies when creating' "$WRITE" -x /x
    tap_cmd "-m without -L or -s" 2 - '-m only applies when creating' "$WRITE" -m 644 /x
    tap_cmd "--raw with assignments" 2 - '--raw takes no FIELD=VALUE' "$WRITE" --raw /x v=1
    tap_cmd "-s with assignments" 2 - 'raw slot .* no fields' "$WRITE" -s 4 /x v=1
    tap_cmd "--json with --hex" 2 - 'choose one of' "$READ" --json --hex /x
}

# Specs that no program may accept (exit 2 before touching anything).
bad_spec_tests() {
    long=/$(printf '%031d' 0)
    set -- '/a/b' 'foo' "$long" '' '/' '/.' '/..' '/a b' 'posix:/a'
    [ "$SHMKIT_HAVE_SYSV" = yes ] &&
        set -- "$@" 'sysv:0' 'sysv:0x' 'sysv:0xZZ' 'sysv:/tmp:0' 'sysv:/tmp:256' \
            'sysv:' 'sysv:-1' 'sysv:0x1ffffffff'
    for spec; do
        tap_cmd "shmkit-read '$spec'" 2 - "^shmkit-read: $spec: bad segment spec" "$READ" "$spec"
        tap_cmd "shmkit-write '$spec'" 2 - "^shmkit-write: $spec: " "$WRITE" -L v:u8 "$spec" v=1
        tap_cmd "shmkit info '$spec'" 2 - "^shmkit: $spec: " "$SHMKIT" info "$spec"
        tap_cmd "shmkit rm '$spec'" 2 - "^shmkit: $spec: " "$SHMKIT" rm "$spec"
    done
}

# Values refused by the layout of an existing slot: exit 2, nothing written.
bad_value_tests() {
    be=$1
    s=$(sk_spec "$be" 0)
    "$WRITE" -L 'v:u8 t:char[4] a:i8[2]' "$s" v=1
    tap_cmd "$be: unknown field" 2 - "^shmkit-write: $s: w=1: .+" "$WRITE" "$s" w=1
    tap_cmd "$be: out of range" 2 - "^shmkit-write: $s: v=256: .+" "$WRITE" "$s" v=256
    tap_cmd "$be: negative unsigned" 2 - "^shmkit-write: $s: v=-1: .+" "$WRITE" "$s" v=-1
    tap_cmd "$be: text too long" 2 - "^shmkit-write: $s: t=abcd: .+" "$WRITE" "$s" t=abcd
    tap_cmd "$be: too many array values" 2 - "^shmkit-write: $s: a=1,2,3: .+" "$WRITE" "$s" a=1,2,3
    tap_cmd "$be: bad number" 2 - "^shmkit-write: $s: v=1x: .+" "$WRITE" "$s" v=1x
    tap_cmd "$be: -x on an existing slot" 1 - "^shmkit-write: $s: already exists\$" \
        "$WRITE" -x -L 'v:u8 t:char[4] a:i8[2]' "$s"
    tap_is "$("$READ" "$s" | tr '\n' ' ')" 'v=1 t= a=0,0 ' "$be: refused writes change nothing"
    tap_is "$(sk_info_field "$s" version)" 1 "$be: refused writes publish nothing"

    tap_cmd "$be: layout mismatch" 5 - "^shmkit-write: $s: .+" "$WRITE" -L 'v:u16' "$s" v=1
    tap_cmd "$be: size mismatch" 5 - "^shmkit-write: $s: .+" "$WRITE" -s 3 "$s"
    tap_cmd "$be: --json still works" 0 '"v": ?1' - "$READ" --json "$s"
}

missing_tests() {
    be=$1
    s=$(sk_spec "$be" 1)
    tap_cmd "$be: read a missing segment" 3 - "^shmkit-read: $s: no such segment( \\(.+\\))?\$" \
        "$READ" "$s"
    tap_is "$(wc -l <"$TAP_ERR" | tr -d ' ')" 1 "$be: one line of error"
    tap_cmd "$be: info on a missing segment" 3 - "^shmkit: $s: .+\$" "$SHMKIT" info "$s"
    tap_cmd "$be: rm of a missing segment" 3 - "^shmkit: $s: .+\$" "$SHMKIT" rm "$s"
    tap_cmd "$be: write to a missing segment without -L" 2 - \
        "^shmkit-write: $s: no such segment; give -L LAYOUT or -s SIZE to create it\$" \
        "$WRITE" "$s" v=1
    if [ "$be" = sysv ]; then
        # ftok() of a path that does not exist: no such segment either.
        for s in "sysv:/nonexistent/skt.cli.$$:1" 'sysv:0:1'; do
            tap_cmd "$be: read $s" 3 - "^shmkit-read: $s: .+" "$READ" "$s"
            tap_cmd "$be: write -L $s" 3 - "^shmkit-write: $s: .+" "$WRITE" -L v:u8 "$s"
        done
    fi
}

# incompatible SPEC WHAT: every program refuses it with exit 5.
incompatible() {
    tap_cmd "$be: read $2" 5 - "^shmkit-read: $1: not a shmkit segment( \\(.+\\))?\$" "$READ" "$1"
    tap_cmd "$be: info $2" 5 - "^shmkit: $1: not a shmkit segment" "$SHMKIT" info "$1"
    tap_cmd "$be: write $2" 5 - "^shmkit-write: $1: not a shmkit segment" "$WRITE" "$1"
    tap_cmd "$be: write -L $2" 5 - "^shmkit-write: $1: not a shmkit segment" \
        "$WRITE" -L v:u8 "$1" v=1
    tap_cmd "$be: rm $2" 0 - - "$SHMKIT" rm "$1"
}

foreign_posix_tests() {
    be=posix
    if [ ! -d /dev/shm ]; then
        tap_skip "$be: foreign segments" "no /dev/shm"
        return
    fi
    head -c 4096 /dev/urandom >"$(sk_posix_file 2)"
    tap_cmd "$be: the message for a foreign segment" 5 - \
        "^shmkit-read: $(sk_spec posix 2): not a shmkit segment \\(bad magic\\)\$" \
        "$READ" "$(sk_spec posix 2)"
    incompatible "$(sk_spec posix 2)" "a foreign segment"
    : >"$(sk_posix_file 3)"
    incompatible "$(sk_spec posix 3)" "an empty segment"
    head -c 100 /dev/zero >"$(sk_posix_file 4)"
    incompatible "$(sk_spec posix 4)" "a short segment of zeros"
}

foreign_sysv_tests() {
    be=sysv
    # Python's sysv_ipc module makes the segments: the first python3 that
    # has it, of $PYTHON, the one on PATH and the system's (/usr/bin; on
    # the BSDs /usr/local/bin).
    python=
    tried=
    for candidate in ${PYTHON:+"$PYTHON"} python3 /usr/bin/python3 /usr/local/bin/python3; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        tried="$tried $(command -v "$candidate")"
        if "$candidate" -c 'import sysv_ipc' >/dev/null 2>&1; then
            python=$candidate
            break
        fi
    done
    if [ -z "$python" ]; then
        tap_skip "$be: foreign segments" \
            "no python3 with the sysv_ipc module (tried:${tried:- none}; Debian: python3-sysv-ipc)"
        return
    fi
    # make_sysv N SIZE: a segment full of random bytes.
    make_sysv() {
        "$python" -c '
import os, sys, sysv_ipc
m = sysv_ipc.SharedMemory(int(sys.argv[1], 16), sysv_ipc.IPC_CREX, mode=0o600,
                          size=int(sys.argv[2]))
m.write(os.urandom(int(sys.argv[2])))
m.detach()' "$(sk_sysv_key "$1")" "$2"
    }
    make_sysv 2 4096
    incompatible "$(sk_spec sysv 2)" "a foreign segment"
    make_sysv 3 16
    incompatible "$(sk_spec sysv 3)" "a tiny foreign segment"
}

# A live writer holds the lease: a second writer is a runtime error.
busy_tests() {
    be=$1
    s=$(sk_spec "$be" 5)
    fifo=$TAP_TMP/fifo.$be
    "$WRITE" -s 4 "$s"
    mkfifo "$fifo"
    # The first writer takes the lease, then waits for its input, which
    # ends when the fifo is opened and closed below.
    cat "$fifo" | "$WRITE" --raw "$s" 2>/dev/null &
    tries=0
    while [ "$(sk_info_field "$s" writer)" = none ] && [ $tries -lt 110 ]; do
        [ $tries -ge 100 ] && sleep 1 # slow machine: stop spinning
        tries=$((tries + 1))
    done
    tap_like "$(sk_info_field "$s" writer)" '^[0-9]+ \(alive\)$' "$be: info shows the live writer"
    tap_cmd "$be: second writer refused" 1 - "^shmkit-write: $s: .*busy" "$WRITE" -t 0.2 "$s"
    : >"$fifo"
    wait
    tap_is "$(sk_info_field "$s" writer)" none "$be: lease released"
    tap_is "$(sk_info_field "$s" version)" 1 "$be: neither writer published"
}

# -t expired: exit status 4, for both programs.
timeout_tests() {
    be=$1
    s=$(sk_spec "$be" 7)
    "$WRITE" --ring 256 "$s" </dev/null
    tap_cmd "$be: read of an empty ring, -t 0" 4 - \
        "^shmkit-read: $s: timed out waiting for a message\$" "$READ" -t 0 "$s"
    tap_is "$(wc -l <"$TAP_ERR" | tr -d ' ')" 1 "$be: one line of error"
    tap_cmd "$be: follow an empty ring, -t 0.1" 4 - \
        "^shmkit-read: $s: timed out after 0 messages\$" "$READ" -f -t 0.1 "$s"
    tap_cmd "$be: follow a slot for 2 records, -t 0" 4 '' \
        "^shmkit-read: $(sk_spec "$be" 0): timed out after 1 of 2 records\$" \
        "$READ" -f -n 2 -t 0 "$(sk_spec "$be" 0)"
    # 256 bytes hold 4 frames of 64 bytes.
    printf 'message\n' >"$TAP_TMP/one"
    for i in 1 2 3 4; do "$WRITE" "$s" <"$TAP_TMP/one"; done
    tap_cmd "$be: write to a full ring, -t 0" 4 - \
        "^shmkit-write: $s: line 1: timed out waiting for room in the ring\$" \
        "$WRITE" -t 0 "$s" <"$TAP_TMP/one"
    tap_is "$(sk_info_field "$s" messages)" 4 "$be: the ring was full"
}

# A backend this build lacks is a runtime error naming the backend.
missing_backend_tests() {
    for be in posix sysv; do
        case " $SK_BACKENDS " in *" $be "*) continue ;; esac
        s=$(sk_spec "$be" 6)
        tap_cmd "$be: spec of a backend this build lacks" 1 - \
            "^shmkit-read: $s: backend not available \\(.*(POSIX|System V)" "$READ" "$s"
    done
}

# one_clean_line DESC: the last command's stderr is one line without ESC or
# any other control byte besides its newline.
one_clean_line() {
    tap_is "$(wc -l <"$TAP_ERR" | tr -d ' ')" 1 "$1: one line"
    if LC_ALL=C grep -q '[[:cntrl:]]' "$TAP_ERR"; then
        tap_fail "$1: no control characters"
        tap_diag "stderr: $(od -c "$TAP_ERR" | head -n 5)"
    else
        tap_pass "$1: no control characters"
    fi
}

# Control characters from the command line are escaped in messages.
escape_tests() {
    esc=$(printf '\033')
    nl=$(printf '\nx')  # $(...) drops trailing newlines
    nl=${nl%x}
    spec="/a${nl}b${esc}[2J"
    tap_cmd "shmkit-read: spec with a newline and ESC" 2 - \
        '^shmkit-read: /a\\nb\\x1b\[2J: bad segment spec' "$READ" "$spec"
    one_clean_line "shmkit-read: spec with a newline and ESC"
    tap_cmd "shmkit-write: spec with a newline and ESC" 2 - \
        '^shmkit-write: /a\\nb\\x1b\[2J: bad segment spec' "$WRITE" -L v:u8 "$spec" v=1
    one_clean_line "shmkit-write: spec with a newline and ESC"
    tap_cmd "shmkit info: spec with a newline and ESC" 2 - \
        '^shmkit: /a\\nb\\x1b\[2J: bad segment spec' "$SHMKIT" info "$spec"
    one_clean_line "shmkit info: spec with a newline and ESC"
    tap_cmd "layout with ESC" 2 - \
        '^shmkit-write: /x: -L: bad layout \(field 1 "v": unknown type "u8\\x1b"\)$' \
        "$WRITE" -L "v:u8$esc" /x v=1
    one_clean_line "layout with ESC"
    tap_cmd "bad count with ESC" 2 - "^shmkit-read: bad count '1\\\\x1b\\[2J'" \
        "$READ" -f -n "1${esc}[2J" /x
    tap_is "$(grep -c "$esc" "$TAP_ERR")" 0 "bad count with ESC: escaped"
    tap_cmd "unknown option with a tab" 2 - "^shmkit-write: unknown option '--a\\\\tb'\$" \
        "$WRITE" "--a$(printf '\t')b" /x
    tap_cmd "unexpected argument with a CR" 2 - \
        "^shmkit-read: unexpected argument 'x\\\\ry'" "$READ" /x "x$(printf '\r')y"
    tap_is "$(grep -c "$(printf '\r')" "$TAP_ERR")" 0 "unexpected argument with a CR: escaped"
}

# Messages for values that do not fit: too many elements is not "text too long".
too_long_tests() {
    be=$1
    s=$(sk_spec "$be" 13)
    "$WRITE" -L 'a:i8[3] t:char[4]' "$s"
    tap_cmd "$be: too many elements" 2 - \
        "^shmkit-write: $s: a=1,2,3,4: value too long \\(field \"a\": too many elements: 4 given, i8\\[3\\] holds 3\\)\$" \
        "$WRITE" "$s" a=1,2,3,4
    tap_cmd "$be: text too long" 2 - \
        "^shmkit-write: $s: t=abcd: value too long \\(field \"t\": text too long: 4 bytes, char\\[4\\] holds at most 3\\)\$" \
        "$WRITE" "$s" t=abcd
    nl=$(printf '\nx')
    nl=${nl%x}
    tap_cmd "$be: field name with a newline" 2 - \
        "^shmkit-write: $s: a\\\\nb=1: unknown field \\(no field \"a\\\\nb\"\\)\$" \
        "$WRITE" "$s" "a${nl}b=1"
    one_clean_line "$be: field name with a newline"
}

# PROJ in hex names the same key as in decimal.
hex_proj_tests() {
    [ "$SHMKIT_HAVE_SYSV" = yes ] || { tap_skip "sysv:PATH:0xPROJ" "no System V backend"; return; }
    dir=$TAP_TMP/ftok
    mkdir -p "$dir"
    tap_cmd "create sysv:PATH:0x2a" 0 - - "$WRITE" -L v:u8 "sysv:$dir:0x2a" v=42
    tap_cmd "read it as sysv:PATH:42" 0 '^v=42$' - "$READ" "sysv:$dir:42"
    tap_cmd "PROJ 0x100 refused" 2 - \
        "^shmkit-read: sysv:$dir:0x100: bad segment spec \\(PROJ must be a number from 1 to 255, decimal or 0x hex, not \"0x100\"\\)\$" \
        "$READ" "sysv:$dir:0x100"
    tap_cmd "remove sysv:PATH:0X2A" 0 - - "$SHMKIT" rm "sysv:$dir:0X2A"
}

help_and_version_tests
usage_tests
bad_spec_tests
escape_tests
hex_proj_tests
missing_backend_tests
for be in $SK_BACKENDS; do
    bad_value_tests "$be"
    too_long_tests "$be"
    missing_tests "$be"
    busy_tests "$be"
    timeout_tests "$be"
    "foreign_${be}_tests"
done

sk_remove_all
sk_check_no_leftovers
tap_done
