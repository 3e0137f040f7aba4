/*
 * tool.c - helpers shared by the shmkit programs.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include "tool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "shmkit.h"

void tool_open_std_fds(void)
{
    int fd;

    for (fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        /* The lowest free descriptor: FD itself, as the lower ones are
         * open by now. */
        if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
            _exit(TOOL_EXIT_RUNTIME);
    }
}

static const char *prog_name = "shmkit";
static const char *prog_synopsis = "";

void tool_init(const char *prog, const char *synopsis)
{
    prog_name = prog;
    prog_synopsis = synopsis;
}

const char *tool_prog(void)
{
    return prog_name;
}

/* ---- exit statuses and messages ---------------------------------------- */

tool_status tool_exit_status(int code)
{
    switch (code) {
    case 0:
        return TOOL_EXIT_OK;
    case -ENOENT:
        return TOOL_EXIT_NOENT;
    case -ETIMEDOUT:
        return TOOL_EXIT_TIMEDOUT;
    case SHMKIT_EBADSPEC:
    case SHMKIT_EBADLAYOUT:
    case SHMKIT_ENOFIELD:
    case SHMKIT_EBADVALUE:
    case SHMKIT_ERANGE:
    case SHMKIT_ETOOLONG:
        return TOOL_EXIT_USAGE;
    case SHMKIT_ENOTSHMKIT:
    case SHMKIT_EVERSION:
    case SHMKIT_EKIND:
    case SHMKIT_ESIZE:
    case SHMKIT_ELAYOUT:
    case SHMKIT_ECORRUPT:
    case SHMKIT_EHALFCREATED:
        return TOOL_EXIT_INCOMPATIBLE;
    default:
        /* Permissions, a busy writer, a missing backend, no memory: the
         * command was fine but could not be carried out here and now. */
        return TOOL_EXIT_RUNTIME;
    }
}

/* ---- messages ----------------------------------------------------------
 *
 * Every message is assembled in a buffer and written as one line by
 * put_message, which escapes control characters and non-ASCII bytes
 * (escape.h): specs, field names and values come from the command line and
 * details from segments, and none of them may forge a line or drive the
 * terminal.
 */

struct message {
    char text[2048];
    size_t len;
};

TOOL_PRINTF(2, 0) static void message_vadd(struct message *m, const char *fmt, va_list ap)
{
    size_t room = sizeof m->text - m->len;
    int n = vsnprintf(m->text + m->len, room, fmt, ap);

    /* A cut message keeps what fitted. */
    if (n > 0)
        m->len += (size_t)n < room ? (size_t)n : room - 1;
}

TOOL_PRINTF(2, 3) static void message_add(struct message *m, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    message_vadd(m, fmt, ap);
    va_end(ap);
}

/* Start M with "PROG: " or "PROG: SPEC: ". */
static void message_start(struct message *m, const char *spec)
{
    m->len = 0;
    m->text[0] = '\0';
    if (spec != NULL)
        message_add(m, "%s: %s: ", prog_name, spec);
    else
        message_add(m, "%s: ", prog_name);
}

/* Write M to stderr, escaped, as one line in one write (stderr is
 * unbuffered), so that lines of processes sharing it do not mix. */
static void put_message(const struct message *m)
{
    /* Room for every byte escaped (4 characters), the newline, the NUL. */
    char line[sizeof m->text * 4 + 2];
    size_t len;

    shmkit__escape(line, sizeof line - 1, m->text, m->len);
    len = strlen(line);
    line[len] = '\n';
    line[len + 1] = '\0';
    fputs(line, stderr);
}

tool_status tool_fail(const char *spec, const char *context, int code)
{
    /* Copy the detail first: it is only valid until the next shmkit call,
     * and shmkit_strerror() is one. */
    char detail[256];
    struct message m;

    snprintf(detail, sizeof detail, "%s", shmkit_error_detail());
    message_start(&m, spec);
    if (context != NULL)
        message_add(&m, "%s: ", context);
    message_add(&m, "%s", shmkit_strerror(code));
    if (detail[0] != '\0')
        message_add(&m, " (%s)", detail);
    put_message(&m);
    return tool_exit_status(code);
}

tool_status tool_error(tool_status status, const char *spec, const char *fmt, ...)
{
    struct message m;
    va_list ap;

    message_start(&m, spec);
    va_start(ap, fmt);
    message_vadd(&m, fmt, ap);
    va_end(ap);
    put_message(&m);
    return status;
}

tool_status tool_usage_verror(const char *fmt, va_list ap)
{
    struct message m;

    message_start(&m, NULL);
    message_vadd(&m, fmt, ap);
    put_message(&m);
    fprintf(stderr, "usage: %s\nTry '%s --help' for more information.\n",
            prog_synopsis, prog_name);
    return TOOL_EXIT_USAGE;
}

tool_status tool_usage_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tool_usage_verror(fmt, ap);
    va_end(ap);
    return TOOL_EXIT_USAGE;
}

tool_status tool_check_spec(const char *spec)
{
    int rc = shmkit_spec_check(spec);

    return rc < 0 ? tool_fail(spec, NULL, rc) : TOOL_GO_ON;
}

int tool_segment_kind(const char *spec)
{
    struct shmkit_info info;

    return shmkit_info(spec, &info, sizeof info) == 0 ? info.kind : 0;
}

int tool_end(tool_status status)
{
    tool_die_by_signal();
    return status >= 0 ? (int)status : TOOL_EXIT_RUNTIME;
}

tool_status tool_print_version(void)
{
    printf("%s (shmkit) %s\n", prog_name, shmkit_version());
    return TOOL_EXIT_OK;
}

tool_status tool_close_stdout(tool_status status)
{
    /* ferror catches errors of earlier writes whose data was flushed long
     * ago; fclose catches the last buffer's. */
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int saved = errno;

    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed)
        return status;
    fprintf(stderr, "%s: write error on standard output: %s\n", prog_name,
            saved != 0 ? strerror(saved) : "unknown error");
    return TOOL_EXIT_RUNTIME;
}

/* ---- deadlines --------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC exists on every supported system; it cannot fail
     * with a valid clock id and pointer. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tool_deadline(int timeout_ms)
{
    return timeout_ms < 0 ? TOOL_NEVER : now_ms() + timeout_ms;
}

int tool_wait_slice(int64_t deadline)
{
    int64_t left;

    if (deadline == TOOL_NEVER)
        return TOOL_WAIT_SLICE_MS;
    left = deadline - now_ms();
    if (left <= 0)
        return 0;
    return left < TOOL_WAIT_SLICE_MS ? (int)left : TOOL_WAIT_SLICE_MS;
}

int tool_expired(int64_t deadline)
{
    return deadline != TOOL_NEVER && now_ms() >= deadline;
}

/* ---- waiting in slices ------------------------------------------------- */

static int nothing_came(int rc)
{
    return rc == -EINTR || rc == -ETIMEDOUT || rc == -EAGAIN;
}

tool_status tool_wait(const struct tool_wait *w, int *result)
{
    for (;;) {
        int rc = w->attempt(w->ctx, tool_wait_slice(w->deadline));
        tool_status status;

        /* What came is taken even if a signal came too: a consumed
         * message must not be dropped. */
        if (rc >= 0 || (!nothing_came(rc) && !tool_signal_caught())) {
            *result = rc;
            return TOOL_GO_ON;
        }
        if (tool_signal_caught())
            return TOOL_SIGNALLED;
        if (rc == -EINTR) /* a handler ran for a signal that does not stop us */
            continue;
        if (tool_expired(w->deadline))
            return w->expired(w->ctx);
        if (w->idle != NULL && (status = w->idle(w->ctx)) != TOOL_GO_ON)
            return status;
    }
}

/* ---- signals ----------------------------------------------------------- */

static volatile sig_atomic_t caught_signal;

static void note_signal(int sig)
{
    caught_signal = sig;
}

void tool_catch_signals(void)
{
    static const int signals[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
    size_t i;

    for (i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction sa, old;

        if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = note_signal;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = 0; /* no SA_RESTART: waits and reads return EINTR */
        sigaction(signals[i], &sa, NULL);
    }
}

int tool_signal_caught(void)
{
    return (int)caught_signal;
}

void tool_die_by_signal(void)
{
    int sig = (int)caught_signal;
    struct sigaction sa;
    sigset_t set;

    if (sig == 0)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
    /* Not reached for these signals; if it were, say so by the status. */
    exit(128 + sig);
}

/* ---- hex dump ---------------------------------------------------------- */

static void hexdump_line(FILE *out, const unsigned char *bytes, size_t offset,
                         size_t n)
{
    size_t i;

    fprintf(out, "%08lx  ", (unsigned long)offset);
    for (i = 0; i < 16; i++) {
        if (i < n)
            fprintf(out, "%02x ", bytes[i]);
        else
            fputs("   ", out);
        if (i == 7)
            fputc(' ', out);
    }
    fputs(" |", out);
    for (i = 0; i < n; i++)
        fputc(bytes[i] >= 0x20 && bytes[i] < 0x7f ? bytes[i] : '.', out);
    fputs("|\n", out);
}

void tool_hexdump(FILE *out, const void *data, size_t len)
{
    const unsigned char *bytes = data;
    size_t offset;

    for (offset = 0; offset < len; offset += 16)
        hexdump_line(out, bytes + offset, offset, len - offset < 16 ? len - offset : 16);
    fprintf(out, "%08lx\n", (unsigned long)len);
}

/* ---- JSON strings ------------------------------------------------------ */

void tool_json_string(FILE *out, const void *data, size_t len)
{
    const unsigned char *bytes = data;
    size_t i;

    fputc('"', out);
    for (i = 0; i < len; i++) {
        unsigned char c = bytes[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\t': fputs("\\t", out); break;
        case '\r': fputs("\\r", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default:
            if (c < 0x20 || c >= 0x7f)
                fprintf(out, "\\u%04x", (unsigned)c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}
