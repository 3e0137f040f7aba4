# setup.py - the extension shmkit._shmkit for pip (metadata: pyproject.toml).
#
# The extension links the installed libshmkit, found with
#     pkg-config --cflags --libs shmkit
# (PKG_CONFIG names another pkg-config; PKG_CONFIG_PATH finds a shmkit.pc
# outside the default directories, e.g. PREFIX/lib/pkgconfig after
# "./configure --prefix=PREFIX && make install").  pkg-config runs only
# when the extension is built, so an sdist needs no libshmkit.
# SPDX-License-Identifier: BSD-2-Clause

import os
import re
import shlex
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))


def project_version():
    """The version in pyproject.toml: libshmkit must be at least that."""
    with open(os.path.join(HERE, "pyproject.toml"), encoding="utf-8") as f:
        m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)
    return m.group(1) if m else None


def pkg_config(*options):
    """The words pkg-config prints for shmkit, or exit with a clear error."""
    prog = os.environ.get("PKG_CONFIG", "pkg-config")
    version = project_version()
    module = "shmkit >= %s" % version if version else "shmkit"
    cmd = shlex.split(prog) + list(options) + [module]
    try:
        out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
    except FileNotFoundError:
        sys.exit("error: shmkit: %s not found: pkg-config is needed to find libshmkit "
                 "(install pkg-config, or name it with PKG_CONFIG=...)" % prog)
    except subprocess.CalledProcessError as e:
        sys.exit("error: shmkit: libshmkit (%s) not found: '%s' failed:\n  %s\n"
                 "Install libshmkit and its pkg-config file shmkit.pc (Debian: libshmkit-dev; "
                 "from source: ./configure && make install), and if shmkit.pc is not in "
                 "pkg-config's default path, set PKG_CONFIG_PATH to its directory "
                 "(e.g. PREFIX/lib/pkgconfig)."
                 % (module, " ".join(cmd), e.stderr.strip().replace("\n", "\n  ")))
    return shlex.split(out.stdout)


class BuildExtWithPkgConfig(build_ext):
    """build_ext with libshmkit's flags from pkg-config."""

    def build_extensions(self):
        cflags = pkg_config("--cflags")
        libs = pkg_config("--libs")
        for ext in self.extensions:
            ext.include_dirs += [w[2:] for w in cflags if w.startswith("-I")]
            ext.extra_compile_args += [w for w in cflags if not w.startswith("-I")]
            ext.library_dirs += [w[2:] for w in libs if w.startswith("-L")]
            ext.libraries += [w[2:] for w in libs if w.startswith("-l")]
            ext.extra_link_args += [w for w in libs if w[:2] not in ("-L", "-l")]
        super().build_extensions()


setup(
    packages=["shmkit"],
    package_data={"shmkit": ["_shmkit.pyi", "py.typed"]},
    include_package_data=False,
    ext_modules=[
        Extension(
            "shmkit._shmkit",
            sources=["src/module.c", "src/errors.c", "src/layout.c", "src/slot.c",
                     "src/ring.c"],
            depends=["src/pyshmkit.h"],
        ),
    ],
    cmdclass={"build_ext": BuildExtWithPkgConfig},
)
