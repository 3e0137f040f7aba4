# shmkit - exchange data between processes through shared memory.
# SPDX-License-Identifier: BSD-2-Clause
"""Exchange data between processes through shared memory (libshmkit).

See help(shmkit._shmkit) for the overview, examples, the error table and
the rules for threads and fork(); Slot and Ring for the two kinds of
segment.  This package adds ls(), written in Python.
"""

import json as _json
import os as _os
import shutil as _shutil
import subprocess as _subprocess
import sys as _sys

from . import _shmkit
from ._shmkit import *  # noqa: F401,F403
from ._shmkit import (Error, NotShmkitError, PermissionDeniedError, HalfCreatedError,
                      info, version)

__doc__ = _shmkit.__doc__ + "\nls() lists the segments this user can see.\n"

__version__ = version

__all__ = [
    # handles
    "Slot", "Ring", "SlotFollower", "Peek", "Reservation",
    # functions
    "info", "ls", "unlink", "check_spec", "set_wait_mode", "wait_mechanism",
    "backend_available",
    # constants
    "version", "version_number", "header_version", "WAIT_ADAPTIVE", "WAIT_SPIN",
    "WAIT_BLOCK", "MAX_CONSUMERS", "RECORD_MAX",
    # errors
    "Error", "NotFoundError", "SegmentRemovedError", "ExistsError",
    "PermissionDeniedError", "WaitTimeoutError", "BusyError", "NotHolderError",
    "IncompatibleError", "NotShmkitError", "HalfCreatedError", "CorruptSegmentError",
    "ContendedError", "OverwrittenError", "BackendUnavailableError",
    "InvalidArgumentError",
]

# A fork()ed child gets fresh per-object locks (see "fork()" in the docs).
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(after_in_child=_shmkit._after_fork)

_POSIX_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789._-")


def _posix_candidates():
    try:
        names = sorted(_os.listdir("/dev/shm"))
    except OSError:
        return []
    return ["/" + n for n in names
            if 1 <= len(n) <= 30 and n not in (".", "..") and set(n) <= _POSIX_NAME_CHARS]


def _sysv_candidates():
    try:
        with open("/proc/sysvipc/shm", encoding="ascii", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    specs = []
    for line in lines[1:]:
        words = line.split()
        try:
            key = int(words[0])
        except (IndexError, ValueError):
            continue
        if key != 0:
            specs.append("sysv:0x%08x" % (key & 0xFFFFFFFF))
    return specs


def _ls_linux(all):
    result = []
    uid = _os.geteuid()
    for spec in _posix_candidates() + _sysv_candidates():
        try:
            d = info(spec)
        except NotShmkitError:
            continue  # another program's segment
        except (PermissionDeniedError, HalfCreatedError, Error) as e:
            if all:
                result.append({"spec": spec, "error": e})
            continue
        if d["owner_uid"] != uid and not all:
            continue
        result.append(d)
    return result


def _ls_tool(all, program):
    cmd = [program, "ls", "--json"] + (["--all"] if all else [])
    out = _subprocess.run(cmd, check=True, stdout=_subprocess.PIPE).stdout
    return _json.loads(out.decode("utf-8"))


def ls(all: bool = False) -> list:
    """ls(all=False) -> list of dict

    Every shmkit segment this user can see, each described by info(spec)
    (a dict; see info()).

    On Linux it looks at the POSIX objects in /dev/shm and the System V keys
    in /proc/sysvipc/shm (key 0, IPC_PRIVATE, has no spec and is skipped),
    and passes each to info(); names that are no shmkit segment are
    skipped.  Without ALL it lists only segments owned by this user
    (effective uid) that info() can read; with ALL=True also other users'
    segments, and as {'spec': spec, 'error': exception} those it cannot
    read or that are half-created or damaged.

    Elsewhere, if the shmkit tool is on PATH, its 'shmkit ls --json'
    ('--all' with ALL) is run and its JSON returned as it is (the tool's
    keys, not info()'s).  Otherwise NotImplementedError is raised.
    """
    if _sys.platform.startswith("linux") and _os.path.isdir("/dev/shm"):
        return _ls_linux(all)
    program = _shutil.which("shmkit")
    if program is not None:
        return _ls_tool(all, program)
    raise NotImplementedError(
        "shmkit.ls() lists segments itself only on Linux (/dev/shm, /proc/sysvipc/shm); "
        "elsewhere it runs 'shmkit ls --json', and no shmkit tool is on PATH")
