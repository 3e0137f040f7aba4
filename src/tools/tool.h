/*
 * tool.h - helpers shared by the shmkit programs (shmkit, shmkit-read,
 * shmkit-write): statuses and exit codes, error messages, waits in
 * slices, signals, hex dumps and JSON strings (tool.c); options, operands
 * and option values (tool-args.c).
 *
 * The programs use only the public API in <shmkit.h>; nothing here reaches
 * into the library's internals.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifndef SHMKIT_TOOL_H
#define SHMKIT_TOOL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What a program, or one step of it, ends with (curl's ParameterError is
 * the model): an exit status, 0 and up, shared by all programs and
 * documented in their man pages; or, for a step, an outcome that gives
 * no exit status of its own. */
typedef enum tool_status {
    TOOL_STATUS_OWN = -3,       /* a program's own outcomes count down from here */
    TOOL_SIGNALLED = -2,        /* a caught signal stopped the work: main()
                                   releases its handles and dies by it */
    TOOL_GO_ON = -1,            /* the step is done: carry on */
    TOOL_EXIT_OK = 0,
    TOOL_EXIT_RUNTIME = 1,      /* anything not listed below */
    TOOL_EXIT_USAGE = 2,        /* bad option, spec, field, value or layout */
    TOOL_EXIT_NOENT = 3,        /* no such segment */
    TOOL_EXIT_TIMEDOUT = 4,     /* a -t timeout expired */
    TOOL_EXIT_INCOMPATIBLE = 5, /* not a shmkit segment, wrong format, corrupt */
    TOOL_EXIT_NETWORK = 6       /* shmkit-bridge: an endpoint that cannot be
                                   bound or connected, refused by the peer,
                                   a protocol error */
} tool_status;

/* printf-style checks of a function's format (argument FMT) and its
 * arguments (from FIRST on), where the compiler has them. */
#if defined(__GNUC__)
#define TOOL_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define TOOL_PRINTF(fmt, first)
#endif

/* ---- program identity and messages ------------------------------------- */

/* Open /dev/null on each of standard input, output and error that is
 * closed, so that no descriptor the program or the library opens later
 * becomes one of them (printf() would write into a segment).  Called
 * first thing by every program; exits with TOOL_EXIT_RUNTIME if
 * /dev/null cannot be opened. */
void tool_open_std_fds(void);

/* Name the program for messages and give its synopsis, one or more lines
 * starting with the program name, printed after "usage: " on usage errors. */
void tool_init(const char *prog, const char *synopsis);
const char *tool_prog(void);

/* The exit status for a shmkit return CODE (negative errno or
 * shmkit_errcode; 0 gives TOOL_EXIT_OK). */
tool_status tool_exit_status(int code);

/* Report the failure CODE of the shmkit call just made on SPEC:
 *   PROG: SPEC: CONTEXT: strerror (detail)
 * SPEC and CONTEXT may be NULL (then their part is left out); the detail
 * part appears when shmkit_error_detail() is not empty.  Call it right after
 * the failing call, before any other shmkit call replaces the detail.
 * Returns tool_exit_status(CODE). */
tool_status tool_fail(const char *spec, const char *context, int code);

/* Print "PROG: SPEC: MESSAGE" (SPEC may be NULL) and return STATUS. */
tool_status tool_error(tool_status status, const char *spec, const char *fmt, ...)
    TOOL_PRINTF(3, 4);

/* Print "PROG: MESSAGE" and the synopsis to stderr; returns
 * TOOL_EXIT_USAGE. */
tool_status tool_usage_error(const char *fmt, ...) TOOL_PRINTF(1, 2);
tool_status tool_usage_verror(const char *fmt, va_list ap) TOOL_PRINTF(1, 0);

/* TOOL_GO_ON if SPEC is well-formed, else the exit status after saying
 * why. */
tool_status tool_check_spec(const char *spec);

/* The end of a run that ended with STATUS: a signal caught ends the
 * program by that signal, as if it had not been caught (so call this once
 * the handles are closed); otherwise the exit status, TOOL_EXIT_RUNTIME
 * for an outcome that is none. */
int tool_end(tool_status status);

/* The kind of the segment SPEC (SHMKIT_KIND_SLOT or SHMKIT_KIND_RING) as
 * shmkit_info() finds it, or 0 if it cannot tell (no such segment, not a
 * valid one: opening it then says why).  The segment may be replaced
 * before the caller opens it: the open checks the kind again. */
int tool_segment_kind(const char *spec);

/* Print "PROG (shmkit) VERSION" on stdout; returns the exit status. */
tool_status tool_print_version(void);

/* Flush and close stdout and report a write error (a full disk, a closed
 * pipe with SIGPIPE ignored) as a runtime error.  Returns STATUS when
 * everything was written, TOOL_EXIT_RUNTIME otherwise. */
tool_status tool_close_stdout(tool_status status);

/* ---- option parsing (tool-args.c) -------------------------------------- */
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
    int has_arg;           /* 1 if the option takes an argument; 2 if
                              only its long form may take one, as
                              --name=VALUE (arg NULL without it) */
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

/* Read the options of ARGS, handing each to TAKE (its id and argument)
 * until it returns something else than TOOL_GO_ON.  TOOL_GO_ON once the
 * operands start at ARGS->index, else the status that ends the run
 * (--help, --version, a usage error). */
tool_status tool_take_options(struct tool_args *args, const struct tool_option *options,
                              tool_status (*take)(void *ctx, int id, const char *arg),
                              void *ctx);

/* The operand SPEC at ARGS->index into *SPEC.  A usage error if there is
 * none, or if ALONE and more arguments follow; its message starts with
 * CMD ("", or a command's name and a colon). */
tool_status tool_spec_operand(const struct tool_args *args, const char *cmd, int alone,
                              const char **spec);

/* ---- value parsing ----------------------------------------------------- */

/* An octal permission mode 0..0777 ("0640", "640").  0 on success, -1 on
 * bad input. */
int tool_parse_mode(const char *text, unsigned *mode);
/* A record size: decimal or 0x hex, 1 .. SHMKIT_RECORD_MAX.  0 or -1. */
int tool_parse_size(const char *text, size_t *size);
/* A ring capacity or message size: decimal with an optional suffix k/K,
 * m/M or g/G (1024-based), MIN .. MAX bytes.  0 or -1. */
int tool_parse_bytes(const char *text, size_t min, size_t max, size_t *bytes);
/* A count: decimal, 1 .. UINT64_MAX.  0 or -1. */
int tool_parse_count(const char *text, uint64_t *count);
/* A timeout in seconds, decimals allowed ("2", "0.5", ".25"), up to
 * TOOL_MAX_TIMEOUT_S; stored in milliseconds, rounded up so that a tiny
 * timeout still waits.  0 or -1. */
#define TOOL_MAX_TIMEOUT_S 2000000
int tool_parse_seconds(const char *text, int *ms);
/* The argument of -t, --timeout: TOOL_GO_ON, or a usage error. */
tool_status tool_take_timeout(const char *text, int *ms);

/* ---- deadlines --------------------------------------------------------- */

/* A point in time on the monotonic clock, in milliseconds; TOOL_NEVER for
 * "no deadline". */
#define TOOL_NEVER (-1)
/* The deadline TIMEOUT_MS from now (TOOL_NEVER if TIMEOUT_MS < 0). */
int64_t tool_deadline(int timeout_ms);
/* Milliseconds left until DEADLINE (0 once it has passed), capped at
 * TOOL_WAIT_SLICE_MS, and TOOL_WAIT_SLICE_MS for TOOL_NEVER.
 *
 * Waiting in slices bounds how long a signal that arrives just before a
 * wait begins (after the caller's last look at tool_signal_caught()) can
 * go unnoticed. */
#define TOOL_WAIT_SLICE_MS 500
int tool_wait_slice(int64_t deadline);
/* Non-zero once DEADLINE has passed (never for TOOL_NEVER). */
int tool_expired(int64_t deadline);

/* ---- waiting in slices ------------------------------------------------- */

/* A wait for what another process does (a new record, a message, room in
 * a ring), made of tries of at most TOOL_WAIT_SLICE_MS so that signals
 * are noticed, up to a deadline.  The callbacks get CTX. */
struct tool_wait {
    int64_t deadline;
    /* One try that waits at most TIMEOUT_MS: >= 0 once it succeeded,
     * -EINTR, -ETIMEDOUT or -EAGAIN when nothing came, another negative
     * code when it failed. */
    int (*attempt)(void *ctx, int timeout_ms);
    /* A try found nothing and the deadline is still ahead: TOOL_GO_ON to
     * try again, or the status that ends the wait.  NULL: try again. */
    tool_status (*idle)(void *ctx);
    /* The deadline passed: report it and return the exit status. */
    tool_status (*expired)(void *ctx);
    void *ctx;
};

/* Try until W->attempt succeeds or fails: TOOL_GO_ON with its result in
 * *RESULT (a failure, negative, is for the caller to report),
 * TOOL_SIGNALLED once a signal was caught, or what W->idle or W->expired
 * returned. */
tool_status tool_wait(const struct tool_wait *w, int *result);

/* ---- signals ----------------------------------------------------------- */

/* Catch SIGINT, SIGTERM, SIGHUP and SIGPIPE without SA_RESTART, so that a
 * wait in the library returns -EINTR and the program can release its
 * handles (a block ring's consumer lease) before it ends.  A signal that
 * was ignored when the program started stays ignored (nohup, background
 * jobs of a non-interactive shell). */
void tool_catch_signals(void);
/* The signal caught, or 0. */
int tool_signal_caught(void);
/* End the program by the signal caught, as if it had not been caught, so
 * that the parent sees the usual status (a shell reports 128 + N).
 * Returns only if no signal was caught. */
void tool_die_by_signal(void);

/* ---- output ------------------------------------------------------------ */

/* Dump LEN bytes like "hexdump -C": 8-digit hex offset, 16 bytes in two
 * groups of 8, printable ASCII between bars, and a last line with the
 * length.  Repeated lines are not collapsed. */
void tool_hexdump(FILE *out, const void *data, size_t len);

/* Print LEN bytes as a JSON string (with the quotes): \" \\ and the short
 * escapes, every other control or non-ASCII byte as \u00XX, so that the
 * output is ASCII and valid JSON whatever the bytes.  A program reads the
 * bytes back by encoding the decoded string as Latin-1.  (Ring messages
 * are bytes; a slot's text fields go through shmkit_layout_to_json, which
 * writes well-formed UTF-8 as it is.) */
void tool_json_string(FILE *out, const void *data, size_t len);

#endif /* SHMKIT_TOOL_H */
