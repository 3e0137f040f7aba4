#!/bin/sh
# python-packaging.sh - python/pyproject.toml and python/setup.py agree
# with the build system: pip builds the version that configure knows, from
# the extension sources that mk/python.mk compiles, and the metadata is
# complete.  Runs in every build, with or without the Python module.
# (TAP, POSIX sh.)
# SPDX-License-Identifier: BSD-2-Clause
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
# shellcheck source=tests/tap.sh
. "$top_srcdir/tests/tap.sh"

py=$top_srcdir/python
version=${SHMKIT_VERSION:-$(sed -n 's/^PACKAGE_VERSION = //p' "$top_builddir/Makefile")}

got=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$py/pyproject.toml")
tap_is "$got" "$version" "pyproject.toml has configure's version $version"

# The sources the Makefile compiles into the module (PY_EXT_SOURCES) and
# those setup.py names.
make_srcs=$(sed -n '/^PY_EXT_SOURCES = /,/[^\\]$/p' "$top_builddir/Makefile" |
    grep -o 'python/src/[A-Za-z0-9_]*\.c' | sed 's|^python/||' | LC_ALL=C sort | tr '\n' ' ')
setup_srcs=$(grep -o '"src/[A-Za-z0-9_]*\.c"' "$py/setup.py" | tr -d '"' | LC_ALL=C sort |
    tr '\n' ' ')
tap_is "$setup_srcs" "$make_srcs" \
    "setup.py builds the extension from the sources mk/python.mk compiles"

# The metadata, read with tomllib (Python 3.11 or later) where there is one.
tomlpy=
for candidate in "${SHMKIT_PYTHON:-}" python3 /usr/bin/python3; do
    if [ -z "$candidate" ] || [ "$candidate" = : ]; then
        continue
    fi
    if "$candidate" -c 'import tomllib' >/dev/null 2>&1; then
        tomlpy=$candidate
        break
    fi
done
# shellcheck disable=SC2317 # called through tap_ok
check_metadata() {
    "$tomlpy" - "$py/pyproject.toml" <<'PYEOF'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    p = tomllib.load(f)["project"]
for key in ("name", "version", "description", "readme", "license", "authors",
            "maintainers", "classifiers", "requires-python", "optional-dependencies",
            "urls"):
    assert p.get(key), "no %s" % key
assert p["name"] == "shmkit"
assert p["license"] == {"text": "BSD-2-Clause"}, p["license"]
assert "numpy" in p["optional-dependencies"]
assert p["requires-python"] == ">=3.8"
PYEOF
}
if [ -n "$tomlpy" ]; then
    tap_ok "pyproject.toml parses and has the complete metadata" check_metadata
else
    tap_skip "pyproject.toml parses and has the complete metadata" "no Python with tomllib"
fi

tap_done
