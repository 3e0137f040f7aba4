/*
 * escape.h - printable text for messages.
 *
 * Error messages quote text from the command line and from shared memory
 * (specs, layouts, field names, values).  Written raw, a control character
 * in that text could forge extra lines or drive the terminal, so every
 * message passes through shmkit__escape.  This file and escape.c use nothing
 * else from the library: they are compiled into the library (error.c,
 * layout.c) and into the tools (tool.c), which see only the public API.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_ESCAPE_H
#define SHMKIT_ESCAPE_H

#include <stddef.h>

/*
 * The printable form of the N bytes at S in BUF of SIZE bytes (SIZE >= 4),
 * NUL-terminated: printable ASCII and the backslash as they are, newline,
 * tab and carriage return as \n, \t and \r, every other byte (controls,
 * DEL, bytes from 0x80 up) as \xHH.  The backslash is left alone so that
 * escaping text that is already escaped changes nothing.  If the result
 * does not fit, it is cut after the last escape that fits together with
 * "...", which marks the cut.  Returns BUF.
 */
const char *shmkit__escape(char *buf, size_t size, const char *s, size_t n);

#endif /* SHMKIT_ESCAPE_H */
