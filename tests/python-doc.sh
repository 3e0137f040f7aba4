#!/bin/sh
# python-doc.sh - every Python example of doc/PYTHON.md runs: each
# ```python block (its first line names it, "# NAME.py - ...") is run as
# a script against the module of this build, with the segments it names
# renamed to names unique to this test (/skd.PID.N), the segments it
# expects prepared first (the weather slot that the doc makes with
# shmkit-write, the ring that print_ring.py reads), waits of a minute
# shortened, and what it prints compared with what the doc says for the
# lines that matter.  Nothing may be left behind.
#
# Environment: PYTHON (default python3), SHMKIT_PYTHONPATH (a directory
# holding the built package shmkit, put first on PYTHONPATH; the test
# skips without it or when the module cannot be imported from it).
#
# SPDX-License-Identifier: BSD-2-Clause
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
PYTHON=${PYTHON:-python3}

if [ -z "${SHMKIT_PYTHONPATH:-}" ]; then
    echo "1..0 # SKIP SHMKIT_PYTHONPATH is not set (no built Python module)"
    exit 0
fi
build=$(cd "$top_builddir" && pwd) || exit 1
PYTHONPATH=$SHMKIT_PYTHONPATH${PYTHONPATH:+:$PYTHONPATH}
LD_LIBRARY_PATH=$build/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
DYLD_LIBRARY_PATH=$build/.libs${DYLD_LIBRARY_PATH:+:$DYLD_LIBRARY_PATH}
PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH LD_LIBRARY_PATH DYLD_LIBRARY_PATH PYTHONDONTWRITEBYTECODE
if ! why=$("$PYTHON" -c 'import shmkit' 2>&1); then
    echo "1..0 # SKIP cannot import shmkit from $SHMKIT_PYTHONPATH: $(printf '%s' "$why" | tail -n 1)"
    exit 0
fi

exec "$PYTHON" - "$top_srcdir/doc/PYTHON.md" <<'EOF'
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

import shmkit

doc = open(sys.argv[1], encoding="utf-8").read()
blocks = []
for m in re.finditer(r"^```python\n(.*?)^```", doc, re.S | re.M):
    body = m.group(1)
    first = body.split("\n", 1)[0]
    name = re.match(r"# (\S+\.py) - ", first)
    blocks.append((name.group(1) if name else "block at offset %d" % m.start(), body))

# Every spec literal of the examples, renamed consistently.
names = {}


def rename(match):
    old = match.group(1)
    if old not in names:
        names[old] = "/skd.%d.%d" % (os.getpid(), len(names))
    return '"%s"' % names[old]


WEATHER_LAYOUT = "station:u32 temp_c:f32 pressure_hpa:f64 wind:i16[3] name:char[16] samples:u32"


def spec(old):
    rename(re.match(r"(.*)", old))
    return names[old]


def weather_slot():
    # What the doc's shmkit-write (or examples/lib/write_struct) makes.
    with shmkit.Slot.create(spec("/weather-demo"), layout=WEATHER_LAYOUT) as s:
        if s.version == 0:
            s.write(station=10384, temp_c=21.5, pressure_hpa=1013.25, wind=[31, -12, 0],
                    name="Tempelhof", samples=12)


def feed_ring():
    # seq 1 5 | shmkit-write --ring 64k /feed-py; shmkit rm after a while.
    with shmkit.Ring.create(spec("/feed-py"), capacity=64 * 1024) as r:
        for i in range(1, 6):
            r.send(b"%d" % i)

    def remove():
        time.sleep(1.5)
        shmkit.unlink(spec("/feed-py"))

    t = threading.Thread(target=remove)
    t.start()
    return t


def have_numpy():
    try:
        import numpy  # noqa: F401
        return True
    except ImportError:
        return False


setup = {
    "read_weather.py": weather_slot,
    "wait_weather.py": weather_slot,
    "follow_weather.py": weather_slot,
    "weather_numpy.py": weather_slot,
    "print_ring.py": feed_ring,
}
expect = {
    "read_weather.py": [r"^version 1 layout station:u32 ", r"^10384 Tempelhof 21.5 C$",
                        r"^wind \[31, -12, 0\]$"],
    "wait_weather.py": [r"^no new record for 60 s$"],
    "follow_weather.py": [r"^1 Tempelhof 21.5$"],
    "weather_numpy.py": [r"^10384 b'Tempelhof' \[ *31 +-12 +0\]$"],
    "write_weather.py": [r"^published version 6$"],
    "raw_slot.py": [r"^42 1$"],
    "jobs.py": [r"^job: resize 1.jpg$", r"^job: resize 2.jpg$"],
    "fanout.py": [r"^consumer 0 got \[b'0', b'1', b'2'\]$",
                  r"^consumer 1 got \[b'0', b'1', b'2'\]$"],
    "print_ring.py": [r"^1$", r"^5$"],
    "ticks.py": [r"^first message still there: b'tick [0-9]+' - lost so far: [0-9]+$"],
    "zero_copy.py": [r"^7 21.5 16$", r"^b'hello'$"],
    "segments.py": [r"^slot posix [0-9]+ 0o600$"],
    "errors.py": [r"^NotFoundError /skd\.[0-9]+\.[0-9]+ ENOENT$", r"^InvalidArgumentError - ",
                  r"^nothing newer than version 0 within 0.1 s$"],
}

print("1..%d" % (len(blocks) + 2))
n = 0
failed = 0
tmp = tempfile.mkdtemp(prefix="shmkit-pydoc.")
try:
    for name, body in blocks:
        n += 1
        if name == "weather_numpy.py" and not have_numpy():
            print("ok %d - %s # SKIP NumPy is not installed" % (n, name))
            continue
        code = re.sub(r'"(/[A-Za-z0-9._-]+)"', rename, body)
        code = code.replace("timeout=60", "timeout=0.5").replace("time.sleep(1)", "time.sleep(0.01)")
        path = os.path.join(tmp, name if name.endswith(".py") else "block%d.py" % n)
        with open(path, "w", encoding="utf-8") as f:
            f.write(code)
        helper = setup.get(name, lambda: None)()
        try:
            r = subprocess.run([sys.executable, path], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=60)
            out, err, rc = r.stdout, r.stderr, r.returncode
        except subprocess.TimeoutExpired as e:
            out, err, rc = e.stdout or "", e.stderr or "", "timeout"
        if isinstance(helper, threading.Thread):
            helper.join()
        missing = [p for p in expect.get(name, []) if not re.search(p, out, re.M)]
        if rc == 0 and not missing and name in expect:
            print("ok %d - %s" % (n, name))
        else:
            failed += 1
            print("not ok %d - %s" % (n, name))
            if name not in expect:
                print("# no expected output for this block: add it to tests/python-doc.sh")
            print("# exit status %s; missing: %s" % (rc, missing))
            for line in (out + err).splitlines()[-15:]:
                print("#   " + line)
    n += 1
    unknown = sorted(set(expect) - {b[0] for b in blocks})
    if unknown:
        failed += 1
        print("not ok %d - every expected block is in the doc\n# gone: %s" % (n, unknown))
    else:
        print("ok %d - every expected block is in the doc" % n)
finally:
    for new in names.values():
        try:
            shmkit.unlink(new)
        except shmkit.NotFoundError:
            pass
        except Exception as e:
            print("# cannot remove %s: %s" % (new, e))
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    os.rmdir(tmp)
n += 1
left = [x for x in names.values() if os.path.exists("/dev/shm" + x)]
if left:
    failed += 1
    print("not ok %d - the examples' segments are removed\n# %s" % (n, left))
else:
    print("ok %d - the examples' segments are removed" % n)
sys.exit(1 if failed else 0)
EOF
