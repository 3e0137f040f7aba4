/*
 * tool.h - helpers shared by the shmkit programs (shmkit, shmkit-read,
 * shmkit-write): error messages, exit codes, option parsing, hex dumps.
 *
 * The programs use only the public API in <shmkit.h>; nothing here reaches
 * into the library's internals.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_TOOL_H
#define SHMKIT_TOOL_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses shared by all programs (documented in their man pages). */
enum tool_exit {
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_RUNTIME = 1,      /* anything not listed below */
    TOOL_EXIT_USAGE = 2,        /* bad option, spec, field, value or layout */
    TOOL_EXIT_NOENT = 3,        /* no such segment */
    TOOL_EXIT_TIMEDOUT = 4,     /* timed out (follow mode) */
    TOOL_EXIT_INCOMPATIBLE = 5  /* not a shmkit segment, wrong format, corrupt */
};

/* ---- program identity and messages ---------------------------------- */

/* Name the program for messages and give its synopsis, one or more lines
 * starting with the program name, printed after "usage: " on usage errors. */
void tool_init(const char *prog, const char *synopsis);
const char *tool_prog(void);

/* The exit status for a shmkit return CODE (negative errno or
 * shmkit_errcode; 0 gives TOOL_EXIT_OK). */
int tool_exit_status(int code);

/* Report the failure CODE of the shmkit call just made on SPEC:
 *   PROG: SPEC: CONTEXT: strerror (detail)
 * SPEC and CONTEXT may be NULL (then their part is left out); the detail
 * part appears when shmkit_error_detail() is not empty.  Call it right after
 * the failing call, before any other shmkit call replaces the detail.
 * Returns tool_exit_status(CODE). */
int tool_fail(const char *spec, const char *context, int code);

/* Print "PROG: SPEC: MESSAGE" (SPEC may be NULL) and return STATUS. */
int tool_error(int status, const char *spec, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Print "PROG: MESSAGE" and the synopsis to stderr; returns
 * TOOL_EXIT_USAGE. */
int tool_usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* Print "PROG (shmkit) VERSION" on stdout; returns the exit status. */
int tool_print_version(void);

/* Flush and close stdout and report a write error (a full disk, a closed
 * pipe with SIGPIPE ignored) as a runtime error.  Returns STATUS when
 * everything was written, TOOL_EXIT_RUNTIME otherwise. */
int tool_close_stdout(int status);

/* ---- option parsing ---------------------------------------------------- */
/*
 * A small portable replacement for getopt_long (which POSIX lacks):
 *   -a -b, bundled -ab, -mMODE, -m MODE, --long, --long=VALUE, --long VALUE,
 *   "--" ends the options, a lone "-" is an operand.
 * Options end at the first operand (POSIX utility syntax guideline 9), so
 * FIELD=VALUE arguments like "t=-5" are never taken for options.
 */

struct tool_option {
    int id;                /* > 0, returned by tool_next_option */
    char short_name;       /* 0 if none */
    const char *long_name; /* without the dashes, NULL if none */
    int has_arg;           /* 1 if the option takes an argument */
};

struct tool_args {
    int argc;
    char **argv;
    int index;             /* next argv element to look at */
    const char *bundle;    /* rest of a bundle of short options, or NULL */
    const char *arg;       /* argument of the option just returned */
};

#define TOOL_OPT_END 0     /* no more options: operands start at ->index */
#define TOOL_OPT_ERROR (-1) /* a usage error was printed */

void tool_args_init(struct tool_args *args, int argc, char **argv);
/* The next option's id; OPTIONS ends with an entry whose id is 0. */
int tool_next_option(struct tool_args *args, const struct tool_option *options);

/* ---- value parsing ----------------------------------------------------- */

/* An octal permission mode 0..0777 ("0640", "640").  0 on success, -1 on
 * bad input. */
int tool_parse_mode(const char *text, unsigned *mode);
/* A record size: decimal or 0x hex, 1 .. SHMKIT_RECORD_MAX.  0 or -1. */
int tool_parse_size(const char *text, size_t *size);

/* ---- output ------------------------------------------------------------ */

/* Dump LEN bytes like "hexdump -C": 8-digit hex offset, 16 bytes in two
 * groups of 8, printable ASCII between bars, and a last line with the
 * length.  Repeated lines are not collapsed. */
void tool_hexdump(FILE *out, const void *data, size_t len);

#endif /* SHMKIT_TOOL_H */
