# mk/crash.mk - included by Makefile.am.
# SPDX-License-Identifier: BSD-2-Clause
