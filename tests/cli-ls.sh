#!/bin/sh
# cli-ls.sh - shmkit ls, shmkit rm --stale, owned segments (shmkit-write
# --owned), modes (-m) and another user's segments (--any-owner).
# SPDX-License-Identifier: BSD-2-Clause
set -u
. "${top_srcdir:-.}/tests/tap.sh"

FIFO=$TAP_TMP/fifo

# The line of "shmkit ls" for spec $1, from the listing in file $2.
ls_line() {
    awk -v spec="$1" '$1 == spec' "$2"
}

# Column $2 of the "shmkit ls" line for spec $1 (columns: spec kind size
# owner mode lifetime creator writer attach status).
ls_field() {
    "$SHMKIT" ls "$1" 2>/dev/null | awk -v spec="$1" -v n="$2" '$1 == spec {print $n}'
}

exists() {
    "$SHMKIT" info "$1" >/dev/null 2>&1
}

gone() {
    "$SHMKIT" info "$1" >/dev/null 2>&1
    [ $? -eq 3 ]
}

# has_writer SPEC: a writer holds the segment's lease.
has_writer() {
    [ "$(sk_info_field "$1" writer)" != none ]
}

# Start "shmkit-write --ring --owned SPEC" reading a FIFO that stays
# open, so that it runs until it is killed; sets $writer.  Returns once
# the writer holds its lease: the ring exists a moment before that.
start_owned_writer() {
    rm -f "$FIFO"
    mkfifo "$FIFO" || return 1
    "$WRITE" --ring 4096 --owned "$1" <"$FIFO" &
    writer=$!
    sk_track "$writer"
    exec 3>"$FIFO"
    sk_wait_until 100 exists "$1" && sk_wait_until 100 has_writer "$1"
}

stop_writer() {
    kill "-$1" "$writer" 2>/dev/null
    sk_wait "$writer"
    exec 3>&-
}

ls_tests() {
    be=$1
    me=$(id -u)

    # A persistent slot whose creator has exited: listed, ok.
    s=$(sk_spec "$be" 0)
    "$WRITE" -L 'id:u32' "$s" id=7
    tap_cmd "$be: ls" 0 '^SPEC +KIND +SIZE +OWNER +MODE +LIFETIME +CREATOR +WRITER +CONSUMERS +ATTACH +STATUS$' - \
        "$SHMKIT" ls
    cp "$TAP_OUT" "$TAP_TMP/ls"
    tap_like "$(ls_line "$s" "$TAP_TMP/ls")" \
        "^$s +slot +[0-9]+ +[^ ]+ +0600 +persistent +[0-9]+\\(dead\\) +- +- +[-0-9]+ +ok\$" \
        "$be: ls lists a persistent slot as ok"
    tap_cmd "$be: ls SPEC" 0 "^$s " - "$SHMKIT" ls "$s"
    tap_is "$(grep -c . "$TAP_OUT")" 2 "$be: ls SPEC lists only SPEC"
    if [ "$be" = sysv ]; then
        tap_is "$(ls_field "$s" 10)" 0 "$be: ls attach count"
    else
        tap_is "$(ls_field "$s" 10)" - "$be: no attach count for POSIX"
    fi
    tap_cmd "$be: ls --json" 0 '^\[$' - "$SHMKIT" ls --json "$s"
    tap_like "$(cat "$TAP_OUT")" \
        "^\\{\"spec\":\"$s\",\"backend\":\"$be\",\"kind\":\"slot\",\"size\":[0-9]+,\"owner_uid\":$me,.*\"mode\":\"0600\",\"lifetime\":\"persistent\",\"creator_pid\":[0-9]+,\"creator_alive\":false,\"writer_pid\":null,.*\"status\":\"ok\"\\}\$" \
        "$be: ls --json object"
    if command -v python3 >/dev/null 2>&1; then
        tap_ok "$be: ls --json is one JSON array" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))
assert isinstance(a, list) and len(a) == 1 and a[0]["spec"] == sys.argv[2], a' "$TAP_OUT" "$s"
    else
        tap_skip "$be: ls --json is one JSON array" "no python3 to parse it"
    fi
    # Persistent: rm --stale never removes it, creator dead or not.
    tap_cmd "$be: rm --stale leaves a persistent segment" 0 - - "$SHMKIT" rm --stale "$s"
    tap_ok "$be: persistent segment still there" exists "$s"

    # An owned ring while its creator runs: owned, ok; removed when the
    # creator ends normally (here by SIGTERM, which it catches).
    s=$(sk_spec "$be" 1)
    if start_owned_writer "$s"; then
        tap_pass "$be: shmkit-write --owned creates the ring"
        tap_like "$("$SHMKIT" ls "$s")" \
            "^$s +ring .* owned +$writer\\(alive\\) +$writer\\(alive\\) .* ok\$" \
            "$be: ls shows an owned ring with its live creator"
        tap_like "$("$SHMKIT" info "$s")" '^lifetime: owned$' "$be: info says owned"
        tap_cmd "$be: rm --stale leaves a live owner's ring" 0 - - "$SHMKIT" rm --stale "$s"
        stop_writer TERM
        tap_ok "$be: owned ring removed when its creator exits" gone "$s"
    else
        tap_fail "$be: shmkit-write --owned creates the ring"
        stop_writer TERM
    fi

    # Killed: stale; rm --stale --dry-run says so and keeps it; rm --stale
    # removes it.
    s=$(sk_spec "$be" 2)
    if start_owned_writer "$s"; then
        stop_writer KILL
        tap_like "$("$SHMKIT" ls "$s")" "^$s +ring .* owned +$writer\\(dead\\) .* stale\$" \
            "$be: ls shows a killed owner's ring as stale"
        tap_cmd "$be: rm --stale --dry-run" 0 "^would remove $s \\(stale\\)\$" - \
            "$SHMKIT" rm --stale --dry-run "$s"
        tap_ok "$be: dry run removes nothing" exists "$s"
        tap_cmd "$be: rm --stale -n lists it among all" 0 "^would remove $s \\(stale\\)\$" - \
            "$SHMKIT" rm --stale -n
        tap_cmd "$be: rm --stale" 0 "^removed $s \\(stale\\)\$" - "$SHMKIT" rm --stale "$s"
        tap_ok "$be: stale ring removed" gone "$s"
    else
        tap_fail "$be: shmkit-write --owned creates the ring"
        stop_writer KILL
    fi

    # -m is exact whatever the umask; the default is 0600.
    s=$(sk_spec "$be" 3)
    (umask 077 && "$WRITE" -m 0644 -L 'id:u32' "$s")
    tap_is "$(ls_field "$s" 5)" 0644 "$be: -m 0644 under umask 077"
    "$SHMKIT" rm "$s"
    (umask 000 && "$WRITE" -L 'id:u32' "$s")
    tap_is "$(ls_field "$s" 5)" 0600 "$be: default 0600 under umask 000"
}

# Containers that share /dev/shm or an IPC namespace: a creator and writer
# in another PID namespace (unshare -p, here pid 1 there) is alive while it
# lives, whatever its pid names here, and rm --stale never removes its
# owned ring; once it is killed, the ring is stale.
pidns_usable() {
    ! grep -q '^#define SHMKIT_PORTABLE_PROFILE' "$top_builddir/config.h" 2>/dev/null &&
        [ "$(id -u)" -eq 0 ] && unshare -p -f --mount-proc --kill-child true >/dev/null 2>&1
}

writer_dead() {
    "$SHMKIT" info "$1" 2>/dev/null | grep -q '^writer: .*(dead'
}

pidns_tests() {
    be=$1
    s=$(sk_spec "$be" 6)
    rm -f "$FIFO"
    mkfifo "$FIFO" || return 1
    unshare -p -f --mount-proc --kill-child "$WRITE" --ring 4096 --owned "$s" <"$FIFO" &
    writer=$!
    sk_track "$writer"
    exec 3>"$FIFO"
    if ! sk_wait_until 100 exists "$s"; then
        tap_fail "$be: a writer in another PID namespace creates an owned ring"
        stop_writer KILL
        return
    fi
    tap_like "$("$SHMKIT" ls "$s")" \
        "^$s +ring .* owned +1\\(alive,other-pidns\\) +1\\(alive,other-pidns\\) .* ok\$" \
        "$be: ls shows the creator and writer in another PID namespace alive"
    tap_like "$("$SHMKIT" info "$s")" '^writer: 1 \(alive, other pid namespace\)$' \
        "$be: info says the writer lives in another PID namespace"
    tap_cmd "$be: rm --stale leaves the owned ring of another namespace" 0 - - \
        "$SHMKIT" rm --stale "$s"
    tap_ok "$be: it is still there" exists "$s"
    tap_cmd "$be: a second writer here is refused" 1 - "^shmkit-write: $s: .*busy" \
        "$WRITE" -t 0.2 "$s" </dev/null
    # The writer is pid 1 of its namespace, the child of unshare here:
    # --kill-child kills it with unshare.
    stop_writer KILL
    sk_wait_until 100 writer_dead "$s"
    tap_like "$("$SHMKIT" ls "$s")" "^$s +ring .* owned +1\\(dead,other-pidns\\) .* stale\$" \
        "$be: killed, its owned ring is stale"
    tap_cmd "$be: rm --stale removes it" 0 "^removed $s \\(stale\\)\$" - "$SHMKIT" rm --stale "$s"
    tap_ok "$be: gone" gone "$s"
}

for be in $SK_BACKENDS; do
    ls_tests "$be"
    if pidns_usable; then
        pidns_tests "$be"
    else
        tap_skip "$be: PID namespaces" "not root, unshare -p --kill-child not permitted, or the portable profile"
    fi
done

# Usage errors.
tap_cmd "--owned needs --ring" 2 - '--owned only applies when creating a ring' \
    "$WRITE" --owned -L 'id:u32' "$(sk_spec posix 4)"
tap_cmd "rm --dry-run needs --stale" 2 - 'dry-run goes with --stale' "$SHMKIT" rm -n /x
tap_cmd "ls of a bad spec" 2 "!^/a/b" '^shmkit: /a/b: bad segment spec' "$SHMKIT" ls /a/b
tap_cmd "ls of a missing segment" 3 "!^/skt" "no such segment" "$SHMKIT" ls "$(sk_spec posix 5)"
for name in '/a/b' '/..' '/.' '//x' '/x/../y'; do
    tap_cmd "names stay in their namespace: $name" 2 - 'bad segment spec' \
        "$WRITE" -L 'id:u32' "$name"
done

# A POSIX object that is not a shmkit segment: foreign, listed only with
# -a, never removed by rm --stale.  Linux keeps POSIX objects in /dev/shm.
posix_dir_tests() {
    s=$(sk_spec posix 6)
    f=$(sk_posix_file 6)
    printf 'not shmkit' >"$f"
    tap_cmd "foreign object not listed" 0 "!^$s " - "$SHMKIT" ls
    tap_cmd "ls -a lists it as foreign" 0 "^$s +- +10 .* foreign\$" - "$SHMKIT" ls -a
    tap_cmd "rm --stale leaves a foreign object" 0 - - "$SHMKIT" rm --stale "$s"
    tap_ok "foreign object still there" test -f "$f"
    rm -f "$f"

    # Another user's segment (made so with chown): refused without
    # --any-owner, with both uids in the message.
    if [ "$(id -u)" -ne 0 ]; then
        tap_skip "another user's segment" "needs root to give a segment away"
        return
    fi
    s=$(sk_spec posix 7)
    "$WRITE" -m 0644 -L 'id:u32' "$s" id=5
    # Its semaphore set (sysv-sem builds) stays root's, and the library
    # removes only a set its segment's owner made (doc/SECURITY.md).
    sk_note_semset "$s"
    chown 65534 "$(sk_posix_file 7)"
    tap_cmd "shmkit-read refuses another user's slot" 1 - \
        "^shmkit-read: $s: segment owned by another user \\(owned by uid 65534, this process runs as uid 0; allow with SHMKIT_ANY_OWNER or --any-owner\\)\$" \
        "$READ" "$s"
    tap_cmd "shmkit-read --any-owner reads it" 0 '^id=5$' - "$READ" --any-owner "$s"
    tap_cmd "shmkit-write refuses it" 1 - 'owned by uid 65534' "$WRITE" "$s" id=6
    tap_cmd "shmkit-write --any-owner writes it" 0 - - "$WRITE" --any-owner "$s" id=6
    tap_cmd "shmkit info refuses it" 1 - 'owned by uid 65534, this process runs as uid 0' \
        "$SHMKIT" info "$s"
    tap_cmd "shmkit info --any-owner" 0 '^owner: 65534' - "$SHMKIT" info --any-owner "$s"
    tap_cmd "ls lists it" 0 "^$s +slot .* ok\$" - "$SHMKIT" ls "$s"
}

if [ "$SHMKIT_HAVE_POSIX" = yes ] && [ -d /dev/shm ] && [ "$(uname -s)" = Linux ]; then
    posix_dir_tests
else
    tap_skip "foreign objects and other users" "needs the POSIX backend in /dev/shm (Linux)"
fi

sk_remove_all
sk_check_no_leftovers
tap_done
