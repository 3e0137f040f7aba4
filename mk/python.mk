# mk/python.mk - included by Makefile.am (before mk/tests.mk): the Python
# module shmkit under python/ (m4/shmkit-python.m4 decides whether it is
# built).  The package shmkit is installed in $(pkgpythondir) and
# $(pkgpyexecdir), site-packages/shmkit under the prefix (or the
# --with-python-dir directory): its Python files, type stubs and the
# extension shmkit._shmkit, a libtool module over libshmkit.
# python/pyproject.toml and python/setup.py build the same package with
# pip against an installed libshmkit (pkg-config).
# SPDX-License-Identifier: BSD-2-Clause

# The extension's sources: they include only <Python.h>, the standard
# headers and <shmkit.h>.
PY_EXT_SOURCES = \
	python/src/pyshmkit.h \
	python/src/module.c \
	python/src/errors.c \
	python/src/layout.c \
	python/src/slot.c \
	python/src/ring.c
# The package's other files, installed next to the extension.
PY_PKG_FILES = \
	python/shmkit/__init__.py \
	python/shmkit/_shmkit.pyi \
	python/shmkit/py.typed

# Everything under python/ is in the tarball, whether this build has the
# module or not: pip builds from the unpacked tarball's python/ too.  The
# test modules python/tests/test_*.py are added by dist-python-tests
# below, whatever their names.
EXTRA_DIST += \
	$(PY_EXT_SOURCES) \
	$(PY_PKG_FILES) \
	python/MANIFEST.in \
	python/README.md \
	python/pyproject.toml \
	python/setup.py \
	python/tests/pyoffsets.c \
	python/tests/run.py \
	python/tests/support.py

# The module's suite, with and without NumPy (skipped, with the reason,
# when the module is not built), and the packaging checks, which run in
# every build.
SHELL_TESTS += tests/python.sh tests/python-nonumpy.sh tests/python-packaging.sh
# bench/python still runs (--quick, no timing asserted), and every Python
# example of doc/PYTHON.md runs and prints what the doc says; both skip
# without SHMKIT_PYTHONPATH (no module in this build).
SHELL_TESTS += tests/bench-python.sh tests/python-doc.sh
EXTRA_DIST += bench/python
# What the Python tests need to know (mk/tests.mk adds it to the
# environment of every test).
PYTHON_TESTS_ENVIRONMENT = \
	SHMKIT_BUILD_PYTHON='$(build_python)'; SHMKIT_PYTHON='$(PYTHON)'; \
	SHMKIT_PYTHON_STATUS='$(python_status)'; SHMKIT_VERSION='$(PACKAGE_VERSION)'; \
	export SHMKIT_BUILD_PYTHON SHMKIT_PYTHON SHMKIT_PYTHON_STATUS SHMKIT_VERSION; \
	if test '$(build_python)' = yes; then \
	  SHMKIT_PYTHONPATH='$(abs_builddir)/python/build-tree'; PYTHON='$(PYTHON)'; \
	  export SHMKIT_PYTHONPATH PYTHON; \
	fi;

if BUILD_PYTHON
# A libtool module named _shmkit, so the installed file is _shmkit.so (the
# interpreter imports that name as well as _shmkit$(EXT_SUFFIX); libtool
# picks a module's file name itself).  -shared: no static archive;
# only the module's init function is exported.  Python's headers come
# with -isystem (PYTHON_CFLAGS), so the project's warnings, -Werror
# included, apply to the module's own code only.  No libpython: the
# interpreter that loads the module provides its symbols.
pkgpyexec_LTLIBRARIES = python/_shmkit.la
python__shmkit_la_SOURCES = $(PY_EXT_SOURCES)
python__shmkit_la_CPPFLAGS = $(AM_CPPFLAGS) $(PYTHON_CFLAGS)
python__shmkit_la_CFLAGS = $(SHMKIT_WARN_CFLAGS)
python__shmkit_la_LDFLAGS = -module -avoid-version -shared \
	-export-symbols-regex '^PyInit__shmkit$$' $(PYTHON_LDFLAGS)
python__shmkit_la_LIBADD = libshmkit.la $(LIBM)

# automake byte-compiles the .py files it installs (py-compile).
nodist_pkgpython_PYTHON = python/shmkit/__init__.py
nodist_pkgpython_DATA = python/shmkit/_shmkit.pyi python/shmkit/py.typed

# Prints the offsets of the C structs for the tests; libc only.
check_PROGRAMS += python/tests/pyoffsets
python_tests_pyoffsets_SOURCES = python/tests/pyoffsets.c
python_tests_pyoffsets_LDADD =

# The package as the tests import it: python/build-tree/shmkit holds
# copies of the package's files (from the source tree: VPATH builds) and
# of the module libtool built.
PY_BUILD_TREE = python/build-tree/shmkit
check_DATA += $(PY_BUILD_TREE)/.built
$(PY_BUILD_TREE)/.built: python/_shmkit.la $(PY_PKG_FILES)
	$(AM_V_GEN)rm -rf $(PY_BUILD_TREE) && $(MKDIR_P) $(PY_BUILD_TREE) && \
	for f in $(PY_PKG_FILES); do \
	  cp "$(srcdir)/$$f" $(PY_BUILD_TREE)/ || exit 1; \
	done && \
	dlname=`sed -n "s/^dlname='\(.*\)'$$/\1/p" python/_shmkit.la` && \
	test -n "$$dlname" && \
	cp "python/.libs/$$dlname" $(PY_BUILD_TREE)/ && \
	touch $@

endif

# The libtool archive is of no use in site-packages: only the module is
# kept (and removed again by "make uninstall").
install-exec-hook: install-exec-python
install-exec-python:
	if test "$(build_python)" = yes; then \
	  rm -f "$(DESTDIR)$(pkgpyexecdir)/_shmkit.la"; \
	fi
uninstall-hook: uninstall-python
uninstall-python:
	if test "$(build_python)" = yes; then \
	  rm -f "$(DESTDIR)$(pkgpyexecdir)/_shmkit.so"; \
	fi
.PHONY: install-exec-python uninstall-python

clean-local: clean-python
clean-python:
	rm -rf python/build-tree python/tests/__pycache__
.PHONY: clean-python

# The test modules, whatever they are called.
dist-hook: dist-python-tests
dist-python-tests:
	for f in $(srcdir)/python/tests/test_*.py; do \
	  test -f "$$f" || continue; \
	  cp -p "$$f" "$(distdir)/python/tests/" || exit 1; \
	done
.PHONY: dist-python-tests
