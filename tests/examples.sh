#!/bin/sh
# examples.sh - the teaching examples: the raw System V write_struct /
# read_struct and the libshmkit ones exchange what they should, refuse what
# they must, agree with the tools and with doc/read_slot.py, and leave
# nothing behind.
# SPDX-License-Identifier: BSD-2-Clause
set -u
# shellcheck source=tests/tap.sh
. "${top_srcdir:-.}/tests/tap.sh"
: "${top_builddir:=.}" "${top_srcdir:=.}"

RAW_WRITE=$top_builddir/examples/raw/write_struct
RAW_READ=$top_builddir/examples/raw/read_struct
LIB_WRITE=$top_builddir/examples/lib/write_struct
LIB_READ=$top_builddir/examples/lib/read_struct
# $WRITE, $READ and $SHMKIT come from tap.sh (and its SHMKIT_TEST_WRAPPER).

# Names unique to this script: POSIX /skt.ex.PID.N; System V keys in the
# scheme of the Check suites (0x40000000 + (pid << 8) + low byte) with our
# own pid, so no concurrently running test can have them.  The low bytes
# 0x80-0x8f are ours.  zz-leftovers.sh checks both ranges too.
NUMBERS='0 1 2 3 4 5 6 7'
ex_key() {
    printf '0x%08x' $((0x40000000 + (($$ & 0xfffff) << 8) + 0x80 + $1))
}
ex_posix() {
    printf '/skt.ex.%s.%s' "$$" "$1"
}
ex_spec() {
    case $1 in
        posix) ex_posix "$2" ;;
        sysv) printf 'sysv:%s' "$(ex_key "$2")" ;;
    esac
}

FTOK_FILE=$TAP_TMP/ftok-file
FTOK_PROJ=200
: >"$FTOK_FILE"

# Remove everything this script may have created; used at exit and by the
# last test.  The system's tools are used too, in case ours are broken.
# shellcheck disable=SC2317 # called at exit
ex_cleanup() {
    for n in $NUMBERS; do
        "$SHMKIT" rm -f "$(ex_posix "$n")" "sysv:$(ex_key "$n")" >/dev/null 2>&1
        rm -f "/dev/shm/skt.ex.$$.$n" 2>/dev/null
        ipcrm -M "$(ex_key "$n")" >/dev/null 2>&1
    done
    [ -f "$FTOK_FILE" ] && "$SHMKIT" rm -f "sysv:$FTOK_FILE:$FTOK_PROJ" >/dev/null 2>&1
    return 0
}
tap_at_exit ex_cleanup

BACKENDS=
[ "${SHMKIT_HAVE_POSIX:-yes}" = yes ] && BACKENDS="$BACKENDS posix"
[ "${SHMKIT_HAVE_SYSV:-yes}" = yes ] && BACKENDS="$BACKENDS sysv"

# The lines read_struct prints for a record written with STATION, TEMP and
# NAME (the other fields are fixed by weather_fill in examples/weather.h).
expected() {
    printf '%s\n' "station=$1" "temp_c=$2" pressure_hpa=1013.25 wind=31,-12,0 \
        "name=$3" samples=12
}

# ---------------------------------------------------------------------
# Raw System V examples
# ---------------------------------------------------------------------

raw_tests() {
    key=$(ex_key 0)
    station=$(($$ % 100000 + 7))

    tap_cmd "raw: write_struct creates the segment" 0 '^wrote station' - \
        "$RAW_WRITE" -k "$key" -s "$station" -t 12.25 -n "raw$$"
    tap_cmd "raw: read_struct succeeds" 0 '' - "$RAW_READ" -k "$key"
    tap_is "$(cat "$TAP_OUT")" "$(expected "$station" 12.25 "raw$$")" \
        "raw: read_struct prints what write_struct wrote"

    "$RAW_WRITE" -k "$key" -s 4242 -t -0.5 -n 'b\ck' >/dev/null
    tap_cmd "raw: read_struct after a second write" 0 '' - "$RAW_READ" -k "$key"
    tap_is "$(cat "$TAP_OUT")" "$(expected 4242 -0.5 'b\\ck')" \
        "raw: the second write replaced the record (and the name is escaped)"

    tap_cmd "raw: read_struct --remove" 0 '^station=4242$' - "$RAW_READ" -k "$key" --remove
    tap_cmd "raw: the segment is gone after --remove" 1 - 'no segment with key' \
        "$RAW_READ" -k "$key"

    # A segment of another size under the key: a raw shmkit slot of 100 bytes.
    other=$(ex_key 1)
    "$WRITE" -s 100 "sysv:$other" >/dev/null 2>&1
    tap_cmd "raw: read_struct refuses a segment of the wrong size" 1 - \
        'has [0-9]+ bytes, a struct weather has [0-9]+.*refusing' "$RAW_READ" -k "$other"
    tap_cmd "raw: write_struct refuses to overwrite it" 1 - 'refusing to overwrite' \
        "$RAW_WRITE" -k "$other"
    tap_cmd "raw: ... and the other segment is intact" 0 '^kind: slot' - \
        "$SHMKIT" info "sysv:$other"
    "$SHMKIT" rm "sysv:$other"

    # ftok, as in the classic demo, on a file of our own.
    tap_cmd "raw: write_struct with ftok" 0 '^wrote station 77 ' - \
        "$RAW_WRITE" -f "$FTOK_FILE" -p "$FTOK_PROJ" -s 77 -n ftok
    tap_cmd "raw: read_struct with ftok, --remove" 0 '^name=ftok$' - \
        "$RAW_READ" -f "$FTOK_FILE" -p "$FTOK_PROJ" --remove
    tap_cmd "raw: the ftok segment is gone" 3 - '' \
        "$SHMKIT" info "sysv:$FTOK_FILE:$FTOK_PROJ"
    tap_cmd "raw: ftok on a missing file is an error" 1 - 'ftok\(.*\): ' \
        "$RAW_READ" -f "$TAP_TMP/no-such-file"

    tap_cmd "raw: key 0 (IPC_PRIVATE) is a usage error" 2 - 'bad key' "$RAW_WRITE" -k 0
    tap_cmd "raw: an unknown option is a usage error" 2 - '^usage:' "$RAW_READ" -x 1
    tap_cmd "raw: --help" 0 '^usage:' - "$RAW_READ" --help
}

# ---------------------------------------------------------------------
# libshmkit examples, per backend
# ---------------------------------------------------------------------

lib_tests() {
    be=$1
    s=$(ex_spec "$be" 2)
    station=$(($$ % 100000 + 11))

    tap_cmd "$be lib: write_struct creates the slot" 0 '\(version 1\)$' - \
        "$LIB_WRITE" -s "$station" -t 3.75 -n "lib$$" "$s"
    tap_cmd "$be lib: read_struct succeeds" 0 '' - "$LIB_READ" "$s"
    tap_is "$(cat "$TAP_OUT")" "$(printf '# version 1\n'; expected "$station" 3.75 "lib$$")" \
        "$be lib: read_struct prints version 1 and what write_struct wrote"

    tap_cmd "$be lib: shmkit-read decodes the C struct" 0 '' - "$READ" "$s"
    tap_is "$(cat "$TAP_OUT")" "$(expected "$station" 3.75 "lib$$")" \
        "$be lib: shmkit-read prints the same fields as read_struct"
    tap_is "$("$SHMKIT" info "$s" 2>/dev/null | sed -n 's/^layout: //p')" \
        "$(sed -n 's/^ *"\(station:[^"]*\)"$/\1/p' "$top_srcdir/examples/weather.h")" \
        "$be lib: WEATHER_LAYOUT is in canonical form"

    "$WRITE" "$s" temp_c=-8.5 >/dev/null
    tap_cmd "$be lib: read_struct after a partial update by shmkit-write" 0 '' - \
        "$LIB_READ" "$s"
    tap_is "$(cat "$TAP_OUT")" "$(printf '# version 2\n'; expected "$station" -8.5 "lib$$")" \
        "$be lib: version 2 with the new temperature, other fields kept"

    python_tests "$be" "$s"

    tap_cmd "$be lib: read_struct --remove" 0 '^# version 2$' - "$LIB_READ" --remove "$s"
    tap_cmd "$be lib: the slot is gone after --remove" 1 - ': no such segment' \
        "$LIB_READ" "$s"

    # A slot of another layout: the writer refuses to write, the reader to read.
    other=$(ex_spec "$be" 3)
    "$WRITE" -L 'a:u32 b:f64' "$other" a=1 >/dev/null
    tap_cmd "$be lib: write_struct refuses a slot of another layout" 1 - \
        "^write_struct: $other: layout mismatch" "$LIB_WRITE" "$other"
    tap_cmd "$be lib: read_struct refuses a slot of another layout" 1 - \
        'not struct weather records' "$LIB_READ" "$other"
    tap_cmd "$be lib: ... and that slot is unchanged" 0 '^a=1$' - "$READ" "$other"
    "$SHMKIT" rm "$other"

    # A segment that is not a shmkit segment at all.
    foreign=$(ex_spec "$be" 4)
    if [ "$be" = sysv ]; then
        "$RAW_WRITE" -k "$(ex_key 4)" >/dev/null
        made=yes
    elif [ -d /dev/shm ]; then
        head -c 1000 /dev/zero | tr '\0' 'x' >"/dev/shm/skt.ex.$$.4"
        made=yes
    else
        made=no
    fi
    if [ "$made" = yes ]; then
        tap_cmd "$be lib: read_struct refuses a foreign segment" 1 - \
            "^read_struct: $foreign: not a shmkit segment" "$LIB_READ" "$foreign"
        tap_cmd "$be lib: write_struct refuses a foreign segment" 1 - \
            "^write_struct: $foreign: not a shmkit segment" "$LIB_WRITE" "$foreign"
        "$SHMKIT" rm "$foreign"
    else
        tap_skip "$be lib: foreign segments" "no /dev/shm to make one in"
    fi
}

# doc/read_slot.py, the FORMAT.md example, reads the slot S like shmkit-read.
python_tests() {
    be=$1 s=$2
    py=
    for candidate in python3 /usr/bin/python3; do
        command -v "$candidate" >/dev/null 2>&1 || continue
        if [ "$be" = posix ] || "$candidate" -c 'import sysv_ipc' 2>/dev/null; then
            py=$candidate
            break
        fi
    done
    if [ -z "$py" ]; then
        tap_skip "$be: doc/read_slot.py reads the slot" "no python3 (with sysv_ipc for System V)"
        return
    fi
    tap_cmd "$be: doc/read_slot.py reads the slot" 0 '^# version 2$' - \
        "$py" "$top_srcdir/doc/read_slot.py" "$s"
    tap_is "$(cat "$TAP_OUT")" "$("$LIB_READ" "$s")" \
        "$be: doc/read_slot.py prints what read_struct prints"
}

# ---------------------------------------------------------------------

if [ "${SHMKIT_HAVE_SYSV:-yes}" = yes ]; then
    raw_tests
else
    tap_skip "raw System V examples" "System V backend not in this build"
fi
for be in $BACKENDS; do
    lib_tests "$be"
done

# The Python program in FORMAT.md is doc/read_slot.py, verbatim.
awk '/^```python$/ { inside = 1; next } /^```$/ { inside = 0 } inside' \
    "$top_srcdir/doc/FORMAT.md" >"$TAP_TMP/format-example.py"
tap_ok "FORMAT.md's Python example is doc/read_slot.py" \
    cmp -s "$TAP_TMP/format-example.py" "$top_srcdir/doc/read_slot.py"

# FORMAT.md's header table covers the 768 bytes without gap or overlap and
# agrees with read_slot.py, which the tests above check against the library.
# shellcheck disable=SC2317 # called through tap_ok
check_format_table() {
    python3 - "$top_srcdir/doc/FORMAT.md" "$top_srcdir/doc/read_slot.py" <<'PYEOF'
import importlib.util, re, struct, sys
rows = [(int(m.group(1)), int(m.group(2)), m.group(3))
        for m in re.finditer(r"^\| (\d+) \| (\d+) \| [^|]+ \| `(\w+)` \|",
                             open(sys.argv[1]).read(), re.M)]
spec = importlib.util.spec_from_file_location("read_slot", sys.argv[2])
rs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rs)
end = 0
for offset, size, name in rows:
    assert offset == end, "gap or overlap before %s at %d" % (name, offset)
    end = offset + size
assert end == rs.HEADER_SIZE == 768, "table ends at %d" % end
at = {name: (offset, size) for offset, size, name in rows}
offset = 0
for code in re.findall(r"\d*[a-zA-Z]", rs.STATIC_LINE.format[1:]):
    size = struct.calcsize("=" + code)
    assert (offset, size) in at.values(), "read_slot.py field at %d" % offset
    offset += size
assert at["state"][0] == rs.OFF_STATE and at["layout"] == (128, rs.LAYOUT_AREA)
# The slot buffer header of section 7 agrees with read_slot.py too.
buf = {m.group(2): int(m.group(1))
       for m in re.finditer(r"^\| (\d+) \| \d+ \| [^|]+ \| `buf\.(\w+)` \|",
                            open(sys.argv[1]).read(), re.M)}
assert buf == {"commit": rs.BUF_COMMIT, "reserved": 4, "version": rs.BUF_VERSION}, buf
PYEOF
}
if command -v python3 >/dev/null 2>&1; then
    tap_ok "FORMAT.md's header table is complete and matches read_slot.py" check_format_table
else
    tap_skip "FORMAT.md's header table is complete and matches read_slot.py" "no python3"
fi

# Nothing left behind: neither under our names nor under our keys.
left=
for n in $NUMBERS; do
    for be in $BACKENDS; do
        "$SHMKIT" info "$(ex_spec "$be" "$n")" >/dev/null 2>&1
        [ $? -eq 3 ] || left="$left $(ex_spec "$be" "$n")"
    done
done
if [ "${SHMKIT_HAVE_SYSV:-yes}" = yes ]; then
    "$SHMKIT" info "sysv:$FTOK_FILE:$FTOK_PROJ" >/dev/null 2>&1
    [ $? -eq 3 ] || left="$left sysv:$FTOK_FILE:$FTOK_PROJ"
fi
if [ -z "$left" ]; then
    tap_pass "no segment left behind"
else
    tap_fail "no segment left behind"
    tap_diag "left behind:$left"
fi

tap_done
