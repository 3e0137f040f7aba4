# mk/model.mk - included by Makefile.am.
# SPDX-License-Identifier: BSD-2-Clause

# The wait/notify protocol, model-checked with Spin (issue 11); skipped
# when spin or a C compiler is missing.
SHELL_TESTS += tests/model.sh
EXTRA_DIST += tests/model/wait.pml
