# mk/api.mk - included by Makefile.am.
# The C API as a careless or unlucky application uses it (issue 11,
# item 8): handles inherited through fork(), NULL arguments, flags, the
# wrong kind of handle, error details of failed waits.
# SPDX-License-Identifier: BSD-2-Clause

CHECK_SUITES += tests/check_api
tests_check_api_CFLAGS = $(CHECK_COMMON_CFLAGS)
tests_check_api_LDADD = $(CHECK_COMMON_LDADD)
