/*
 * bridge-curve.c - shmkit-bridge's security: "keygen", CURVE key files,
 * the ZAP handler that admits only listed client keys, the loopback rule
 * for binding without keys, and the watch on a connecting socket's
 * handshakes.
 *
 * Key files are text so that they can be read, copied and concatenated:
 *     # comment
 *     public-key = <40 characters of Z85>
 *     secret-key = <40 characters of Z85>
 * A list of allowed clients may also hold bare Z85 keys, one per line.
 * The parser is strict: anything else is an error with its line number,
 * because a key file that is half understood is a security hole.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bridge-curve.h"
#include "bridge.h"
#include "tool.h"

#define KEY_BYTES 32
#define KEY_Z85 40               /* characters of a key in Z85 */
#define KEY_LINE_MAX 256         /* longer lines are not a key file's */
#define KEY_FILE_MAX (1u << 20)  /* a list of 20000 keys is plenty */
#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define ZAP_DOMAIN "shmkit-bridge"

/* Overwrite secret bytes through a volatile pointer, which the compiler
 * may not drop as a dead store. */
static void wipe(void *p, size_t len)
{
    volatile unsigned char *b = p;

    while (len-- > 0)
        *b++ = 0;
}

/* ---- Z85 keys ---------------------------------------------------------- */

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* Decode the 40 Z85 characters at TEXT (exactly, NUL-terminated) into
 * KEY.  0, or -1 if TEXT is not a key.  The characters are checked here
 * as well, since older libzmq releases decode stray bytes silently. */
static int key_decode(const char *text, unsigned char key[KEY_BYTES])
{
    size_t i;

    if (strlen(text) != KEY_Z85)
        return -1;
    for (i = 0; i < KEY_Z85; i++)
        if (text[i] == '\0' || strchr(z85_chars, text[i]) == NULL)
            return -1;
    return zmq_z85_decode(key, text) != NULL ? 0 : -1;
}

static void key_encode(char text[KEY_Z85 + 1], const unsigned char key[KEY_BYTES])
{
    if (zmq_z85_encode(text, key, KEY_BYTES) == NULL)
        text[0] = '\0';
}

/* ---- key files --------------------------------------------------------- */

/* What a key file holds. */
struct keyfile {
    unsigned char public_key[KEY_BYTES];
    unsigned char secret_key[KEY_BYTES];
    int has_public;
    int has_secret;
    unsigned char (*list)[KEY_BYTES]; /* every public key (a client list) */
    size_t count;
    size_t room;
};

/* What the caller wants from a key file. */
enum key_want {
    WANT_PAIR,    /* a key pair: public-key and secret-key lines */
    WANT_PUBLIC,  /* a public key (a .pub, or the pair's public half) */
    WANT_LIST     /* public keys, as lines or bare, at least one */
};

static void keyfile_free(struct keyfile *kf)
{
    wipe(kf->secret_key, sizeof kf->secret_key);
    free(kf->list);
    kf->list = NULL;
}

static int keyfile_add(struct keyfile *kf, const unsigned char key[KEY_BYTES])
{
    if (kf->count == kf->room) {
        size_t room = kf->room ? kf->room * 2 : 8;
        void *list = realloc(kf->list, room * sizeof *kf->list);

        if (list == NULL)
            return -1;
        kf->list = list;
        kf->room = room;
    }
    memcpy(kf->list[kf->count++], key, KEY_BYTES);
    return 0;
}

/* Cut LINE's leading and trailing blanks (and a CR: files edited on
 * other systems); returns its first non-blank character. */
static char *trim(char *line)
{
    size_t len;

    while (*line == ' ' || *line == '\t')
        line++;
    len = strlen(line);
    while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' ||
                       line[len - 1] == '\r' || line[len - 1] == '\n'))
        line[--len] = '\0';
    return line;
}

/* If LINE is "NAME = VALUE", return VALUE (trimmed), else NULL. */
static char *field_value(char *line, const char *name)
{
    size_t len = strlen(name);
    char *p;

    if (strncmp(line, name, len) != 0)
        return NULL;
    p = line + len;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p != '=')
        return NULL;
    return trim(p + 1);
}

/* Take one line of FILE (number LINENO) into KF.  TOOL_GO_ON or the
 * exit status after saying what is wrong. */
static tool_status keyfile_line(struct keyfile *kf, const char *file, unsigned lineno,
                                char *line, enum key_want want)
{
    unsigned char key[KEY_BYTES];
    char *value;
    int secret = 0;

    line = trim(line);
    if (*line == '\0' || *line == '#')
        return TOOL_GO_ON;
    if ((value = field_value(line, "public-key")) == NULL &&
        (value = field_value(line, "secret-key")) != NULL)
        secret = 1;
    if (value == NULL && want == WANT_LIST)
        value = line; /* a bare key */
    if (value == NULL)
        return tool_error(TOOL_EXIT_USAGE, file,
                          "line %u: expected 'public-key = KEY' or 'secret-key = KEY'", lineno);
    if (key_decode(value, key) != 0)
        return tool_error(TOOL_EXIT_USAGE, file,
                          "line %u: not a CURVE key (40 characters of Z85)", lineno);
    if (secret) {
        if (want == WANT_LIST) {
            wipe(key, sizeof key);
            return tool_error(TOOL_EXIT_USAGE, file,
                              "line %u: a secret key in a list of allowed client keys "
                              "(give the clients' .pub files)", lineno);
        }
        if (kf->has_secret)
            return tool_error(TOOL_EXIT_USAGE, file, "line %u: a second secret key", lineno);
        memcpy(kf->secret_key, key, KEY_BYTES);
        wipe(key, sizeof key);
        kf->has_secret = 1;
        return TOOL_GO_ON;
    }
    if (want != WANT_LIST && kf->has_public)
        return tool_error(TOOL_EXIT_USAGE, file, "line %u: a second public key", lineno);
    memcpy(kf->public_key, key, KEY_BYTES);
    kf->has_public = 1;
    if (want == WANT_LIST && keyfile_add(kf, key) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, file, "out of memory");
    return TOOL_GO_ON;
}

/* Read the lines of the open file FP into KF. */
static tool_status keyfile_lines(struct keyfile *kf, const char *file, FILE *fp,
                                 enum key_want want)
{
    char line[KEY_LINE_MAX + 2];
    unsigned lineno = 0;
    tool_status status = TOOL_GO_ON;

    while (status == TOOL_GO_ON && fgets(line, sizeof line, fp) != NULL) {
        lineno++;
        if (strlen(line) > KEY_LINE_MAX && strchr(line, '\n') == NULL && !feof(fp))
            status = tool_error(TOOL_EXIT_USAGE, file, "line %u: too long for a key file",
                                lineno);
        else
            status = keyfile_line(kf, file, lineno, line, want);
    }
    wipe(line, sizeof line);
    if (status == TOOL_GO_ON && ferror(fp))
        status = tool_error(TOOL_EXIT_RUNTIME, file, "read error: %s", strerror(errno));
    return status;
}

/* A key pair must be one: the public half must be the secret's, or the
 * peer that trusts the public key could never talk to us. */
static tool_status keyfile_check_pair(const struct keyfile *kf, const char *file)
{
    char secret[KEY_Z85 + 1], derived[KEY_Z85 + 1], public_z85[KEY_Z85 + 1];
    int match;

    key_encode(secret, kf->secret_key);
    key_encode(public_z85, kf->public_key);
    match = zmq_curve_public(derived, secret) == 0 && strcmp(derived, public_z85) == 0;
    wipe(secret, sizeof secret);
    if (!match)
        return tool_error(TOOL_EXIT_USAGE, file,
                          "the public key is not the secret key's (a damaged key file?)");
    return TOOL_GO_ON;
}

/* Is what KF holds what WANT asks for? */
static tool_status keyfile_complete(const struct keyfile *kf, const char *file,
                                    enum key_want want)
{
    switch (want) {
    case WANT_PAIR:
        if (!kf->has_secret)
            return tool_error(TOOL_EXIT_USAGE, file,
                              "no secret-key line: this side needs its key pair "
                              "(the .key file of shmkit-bridge keygen)");
        if (!kf->has_public)
            return tool_error(TOOL_EXIT_USAGE, file, "no public-key line");
        return keyfile_check_pair(kf, file);
    case WANT_PUBLIC:
        if (!kf->has_public)
            return tool_error(TOOL_EXIT_USAGE, file, "no public-key line");
        return TOOL_GO_ON;
    case WANT_LIST:
        break;
    }
    if (kf->count == 0)
        return tool_error(TOOL_EXIT_USAGE, file, "no client keys");
    return TOOL_GO_ON;
}

/* A secret is safe only in a file that nobody else can read (ssh refuses
 * such files too): refuse it rather than use a key others may have. */
static tool_status keyfile_check_mode(const struct keyfile *kf, const char *file,
                                      const struct stat *st)
{
    if (kf->has_secret && (st->st_mode & 077) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, file,
                          "holds a secret key but is readable by others (mode %04o): "
                          "chmod 600 it",
                          (unsigned)(st->st_mode & 07777));
    return TOOL_GO_ON;
}

/* Read the key file FILE into KF (zeroed by the caller) as WANT says.
 * TOOL_GO_ON or the exit status after printing the error. */
static tool_status keyfile_read(struct keyfile *kf, const char *file, enum key_want want)
{
    struct stat st;
    tool_status status;
    FILE *fp;
    int fd;

    fd = open(file, O_RDONLY | O_NOCTTY);
    if (fd < 0)
        return tool_error(TOOL_EXIT_RUNTIME, file, "%s", strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)KEY_FILE_MAX) {
        close(fd);
        return tool_error(TOOL_EXIT_USAGE, file, "not a key file (a regular file, at most 1 MiB)");
    }
    if ((fp = fdopen(fd, "r")) == NULL) {
        close(fd);
        return tool_error(TOOL_EXIT_RUNTIME, file, "%s", strerror(errno));
    }
    status = keyfile_lines(kf, file, fp, want);
    fclose(fp);
    if (status == TOOL_GO_ON)
        status = keyfile_check_mode(kf, file, &st);
    if (status == TOOL_GO_ON)
        status = keyfile_complete(kf, file, want);
    if (status != TOOL_GO_ON)
        keyfile_free(kf);
    return status;
}

/* ---- keygen ------------------------------------------------------------ */

static const char keygen_synopsis[] = "shmkit-bridge keygen [-f] NAME";

enum { KG_FORCE = 1, KG_HELP };

static const struct tool_option keygen_options[] = {
    { KG_FORCE, 'f', "force", 0 },
    { KG_HELP, 'h', "help", 0 },
    { 0, 0, NULL, 0 }
};

static tool_status keygen_take(void *ctx, int id, const char *arg)
{
    (void)arg;
    if (id == KG_HELP) {
        printf("usage: %s\n"
               "Write a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub.\n"
               "  -f, --force   replace existing files\n", keygen_synopsis);
        return tool_close_stdout(TOOL_EXIT_OK);
    }
    *(int *)ctx = 1;
    return TOOL_GO_ON;
}

/* Write TEXT into a new file PATH with MODE.  With FORCE an existing file
 * is removed first rather than truncated, so that a link planted at PATH
 * is replaced, never followed, and the mode is ours.  0 or -errno. */
static int write_new_file(const char *path, const char *text, mode_t mode, int force)
{
    size_t len = strlen(text), done = 0;
    int fd, err = 0;

    if (force && unlink(path) != 0 && errno != ENOENT)
        return -errno;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, mode);
    if (fd < 0)
        return -errno;
    /* The umask may have taken bits from a .pub that others must read. */
    if (fchmod(fd, mode) != 0)
        err = -errno;
    while (err == 0 && done < len) {
        ssize_t n = write(fd, text + done, len - done);

        if (n < 0 && errno != EINTR)
            err = -errno;
        else if (n > 0)
            done += (size_t)n;
    }
    if (err == 0 && fsync(fd) != 0)
        err = -errno;
    if (close(fd) != 0 && err == 0)
        err = -errno;
    if (err != 0)
        unlink(path);
    return err;
}

/* Write NAME.key and NAME.pub from the Z85 keys PUB and SEC. */
static tool_status keygen_write(const char *name, const char *pub, const char *sec,
                                int force)
{
    char key_path[4096], pub_path[4096], text[512];
    int err;

    if (snprintf(key_path, sizeof key_path, "%s.key", name) >= (int)sizeof key_path ||
        snprintf(pub_path, sizeof pub_path, "%s.pub", name) >= (int)sizeof pub_path)
        return tool_usage_error("keygen: NAME too long");
    snprintf(text, sizeof text,
             "# shmkit-bridge CURVE key pair: SECRET, keep this file private (mode 0600)\n"
             "public-key = %s\nsecret-key = %s\n", pub, sec);
    err = write_new_file(key_path, text, 0600, force);
    wipe(text, sizeof text);
    if (err == -EEXIST)
        return tool_error(TOOL_EXIT_RUNTIME, key_path, "exists (use -f to replace it)");
    if (err != 0)
        return tool_error(TOOL_EXIT_RUNTIME, key_path, "%s", strerror(-err));
    snprintf(text, sizeof text, "public-key = %s\n", pub);
    err = write_new_file(pub_path, text, 0644, force);
    if (err != 0) {
        /* Half a key pair is of no use: take the .key back. */
        unlink(key_path);
        if (err == -EEXIST)
            return tool_error(TOOL_EXIT_RUNTIME, pub_path, "exists (use -f to replace it)");
        return tool_error(TOOL_EXIT_RUNTIME, pub_path, "%s", strerror(-err));
    }
    return TOOL_EXIT_OK;
}

int bridge_keygen_main(int argc, char **argv)
{
    char pub[KEY_Z85 + 1], sec[KEY_Z85 + 1];
    struct tool_args args;
    tool_status status;
    int force = 0;

    tool_args_init(&args, argc, argv);
    status = tool_take_options(&args, keygen_options, keygen_take, &force);
    if (status != TOOL_GO_ON)
        return status;
    if (args.index >= argc)
        return tool_usage_error("keygen: missing NAME");
    if (args.index + 1 < argc)
        return tool_usage_error("keygen: unexpected argument '%s'", argv[args.index + 1]);
    if (argv[args.index][0] == '\0')
        return tool_usage_error("keygen: empty NAME");
    if (zmq_curve_keypair(pub, sec) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, NULL,
                          "cannot make a key pair: %s (libzmq built without CURVE?)",
                          zmq_strerror(zmq_errno()));
    status = keygen_write(argv[args.index], pub, sec, force);
    wipe(sec, sizeof sec);
    return status;
}

/* ---- the ZAP handler ---------------------------------------------------
 *
 * libzmq asks the socket bound at inproc://zeromq.zap.01 of the context
 * about every peer of a CURVE server (ZAP, RFC 27).  It runs in a thread
 * of its own so that the bridge's loop never has to answer it, and stops
 * when a byte arrives on its control socket: zmq_ctx_term waits for every
 * socket to close, so the thread must be told to close its own.
 */

struct zap {
    pthread_t thread;
    int running;
    void *ctx;
    void *rep;          /* the handler's socket (the thread's) */
    void *control_in;   /* the thread's end of the control pair */
    void *control_out;  /* ours */
    struct keyfile keys;
    const char *file;   /* where the keys come from, for messages */
    /* Refusal lines, at most ZAP_LOG_BURST per ZAP_LOG_PERIOD seconds:
     * a peer retrying every 100 ms must not flood the log. */
    time_t log_period_start;
    unsigned log_lines;
    unsigned long log_suppressed;
};

#define ZAP_LOG_BURST 5
#define ZAP_LOG_PERIOD 60
#define ZAP_FRAMES 8 /* a request has 7 (CURVE: 6 + 1 credential) */

static struct zap zap;

static int key_allowed(const struct zap *z, const unsigned char *key)
{
    size_t i;

    for (i = 0; i < z->keys.count; i++)
        if (memcmp(z->keys.list[i], key, KEY_BYTES) == 0)
            return 1;
    return 0;
}

/* Say which client was refused, within the rate limit. */
static void zap_log_refusal(struct zap *z, const char *address, const char *why)
{
    time_t now = time(NULL);

    if (now - z->log_period_start >= ZAP_LOG_PERIOD) {
        if (z->log_suppressed > 0)
            tool_error(TOOL_EXIT_NETWORK, NULL, "%lu more client(s) refused in the last %d s",
                       z->log_suppressed, ZAP_LOG_PERIOD);
        z->log_period_start = now;
        z->log_lines = 0;
        z->log_suppressed = 0;
    }
    if (z->log_lines >= ZAP_LOG_BURST) {
        z->log_suppressed++;
        return;
    }
    z->log_lines++;
    tool_error(TOOL_EXIT_NETWORK, NULL, "refused client %s: %s", address, why);
}

/* Copy frame MSG as a string into BUF. */
static void frame_string(zmq_msg_t *msg, char *buf, size_t size)
{
    size_t len = zmq_msg_size(msg);

    if (len >= size)
        len = size - 1;
    memcpy(buf, zmq_msg_data(msg), len);
    buf[len] = '\0';
}

static int frame_is(zmq_msg_t *msg, const char *text)
{
    size_t len = strlen(text);

    return zmq_msg_size(msg) == len && memcmp(zmq_msg_data(msg), text, len) == 0;
}

/* Decide on the request in FRAMES[0 .. N-1]: the status code, and why
 * (for the log; NULL when admitted). */
static const char *zap_decide(struct zap *z, zmq_msg_t *frames, int n, char *address,
                              size_t address_size, const char **why)
{
    char key_z85[KEY_Z85 + 1];

    *why = NULL;
    snprintf(address, address_size, "(unknown address)");
    if (n < 6 || !frame_is(&frames[0], "1.0")) {
        *why = "malformed ZAP request";
        return n >= 2 ? "500" : "400";
    }
    frame_string(&frames[3], address, address_size);
    if (!frame_is(&frames[5], "CURVE") || n != 7 || zmq_msg_size(&frames[6]) != KEY_BYTES) {
        *why = "not a CURVE client";
        return "400";
    }
    if (key_allowed(z, zmq_msg_data(&frames[6])))
        return "200";
    key_encode(key_z85, zmq_msg_data(&frames[6]));
    snprintf(address + strlen(address), address_size - strlen(address), " key %s", key_z85);
    *why = "key not listed in the client keys";
    return "400";
}

static int send_frame(void *socket, const void *data, size_t len, int more)
{
    return zmq_send(socket, data, len, more ? ZMQ_SNDMORE : 0) < 0 ? -1 : 0;
}

/* Answer one request: version, request id, status, text, user id,
 * metadata (RFC 27).  The request id of the request is echoed. */
static void zap_reply(void *rep, zmq_msg_t *frames, int n, const char *code)
{
    const char *text = code[0] == '2' ? "OK" : "client key not allowed";
    const void *id = n >= 2 ? zmq_msg_data(&frames[1]) : "";
    size_t id_len = n >= 2 ? zmq_msg_size(&frames[1]) : 0;

    if (send_frame(rep, "1.0", 3, 1) != 0 || send_frame(rep, id, id_len, 1) != 0 ||
        send_frame(rep, code, 3, 1) != 0 || send_frame(rep, text, strlen(text), 1) != 0 ||
        send_frame(rep, "", 0, 1) != 0)
        return;
    send_frame(rep, "", 0, 0);
}

/* Receive one request (every frame, those beyond ZAP_FRAMES dropped) and
 * answer it. */
static void zap_serve_one(struct zap *z)
{
    zmq_msg_t frames[ZAP_FRAMES], extra;
    char address[160];
    const char *code, *why;
    int n = 0, more = 1, i;

    while (more) {
        zmq_msg_t *msg = n < ZAP_FRAMES ? &frames[n] : &extra;

        zmq_msg_init(msg);
        if (zmq_msg_recv(msg, z->rep, 0) < 0) {
            zmq_msg_close(msg);
            break;
        }
        more = zmq_msg_more(msg);
        if (msg == &extra)
            zmq_msg_close(msg);
        else
            n++;
    }
    code = zap_decide(z, frames, n, address, sizeof address, &why);
    zap_reply(z->rep, frames, n, code);
    if (why != NULL)
        zap_log_refusal(z, address, why);
    for (i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

static void *zap_thread(void *arg)
{
    struct zap *z = arg;
    zmq_pollitem_t items[2] = { { z->rep, 0, ZMQ_POLLIN, 0 },
                                { z->control_in, 0, ZMQ_POLLIN, 0 } };

    for (;;) {
        if (zmq_poll(items, 2, -1) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break; /* ETERM: the context is going */
        }
        if (items[1].revents & ZMQ_POLLIN)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            zap_serve_one(z);
    }
    zmq_close(z->rep);
    zmq_close(z->control_in);
    return NULL;
}

static void close_linger0(void *socket)
{
    int zero = 0;

    if (socket != NULL) {
        zmq_setsockopt(socket, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(socket);
    }
}

/* Make the handler's sockets, in this thread (so that a failure is
 * reported before anything runs), and the control pair. */
static tool_status zap_sockets(struct zap *z, void *ctx)
{
    static unsigned serial;
    char control[96];

    snprintf(control, sizeof control, "inproc://shmkit-bridge-zap-control-%ld-%u",
             (long)getpid(), ++serial);
    z->rep = zmq_socket(ctx, ZMQ_REP);
    z->control_in = zmq_socket(ctx, ZMQ_PAIR);
    z->control_out = zmq_socket(ctx, ZMQ_PAIR);
    if (z->rep == NULL || z->control_in == NULL || z->control_out == NULL ||
        zmq_bind(z->control_out, control) != 0 || zmq_connect(z->control_in, control) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "ZAP handler: %s",
                          zmq_strerror(zmq_errno()));
    if (zmq_bind(z->rep, ZAP_ENDPOINT) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "ZAP handler: cannot bind %s: %s",
                          ZAP_ENDPOINT, zmq_strerror(zmq_errno()));
    return TOOL_GO_ON;
}

/* Start the handler in CTX with the client keys KEYS (taken over). */
static tool_status zap_start(void *ctx, struct keyfile *keys, const char *file)
{
    struct zap *z = &zap;
    tool_status status;

    if (z->running)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "ZAP handler: already running");
    memset(z, 0, sizeof *z);
    z->keys = *keys;
    memset(keys, 0, sizeof *keys);
    z->file = file;
    z->ctx = ctx;
    status = zap_sockets(z, ctx);
    if (status == TOOL_GO_ON && pthread_create(&z->thread, NULL, zap_thread, z) != 0)
        status = tool_error(TOOL_EXIT_RUNTIME, NULL, "ZAP handler: cannot start a thread");
    if (status != TOOL_GO_ON) {
        close_linger0(z->rep);
        close_linger0(z->control_in);
        close_linger0(z->control_out);
        keyfile_free(&z->keys);
        memset(z, 0, sizeof *z);
        return status;
    }
    z->running = 1;
    return TOOL_GO_ON;
}

void bridge_security_stop(void)
{
    struct zap *z = &zap;

    if (!z->running)
        return;
    /* A PAIR's send waits only for the pipe, which exists: the thread
     * connected before it started.  If the context is already being
     * terminated the send fails, and the thread's poll sees ETERM. */
    zmq_send(z->control_out, "", 0, ZMQ_DONTWAIT);
    pthread_join(z->thread, NULL);
    close_linger0(z->control_out);
    keyfile_free(&z->keys);
    memset(z, 0, sizeof *z);
}

/* ---- bridge_security_apply --------------------------------------------- */

static tool_status set_key(void *socket, int option, const unsigned char *key, const char *what)
{
    if (zmq_setsockopt(socket, option, key, KEY_BYTES) != 0)
        return tool_error(TOOL_EXIT_RUNTIME, NULL, "cannot set %s: %s (libzmq without CURVE?)",
                          what, zmq_strerror(zmq_errno()));
    return TOOL_GO_ON;
}

/* The binding side with keys: the server's key pair, and the handler
 * that admits the listed clients. */
static tool_status apply_server(void *ctx, void *socket, const struct bridge_security *sec)
{
    struct keyfile pair, list;
    tool_status status;
    int one = 1;

    memset(&pair, 0, sizeof pair);
    memset(&list, 0, sizeof list);
    if ((status = keyfile_read(&pair, sec->server_key, WANT_PAIR)) != TOOL_GO_ON)
        return status;
    status = keyfile_read(&list, sec->client_keys, WANT_LIST);
    /* The handler must listen before the socket binds: libzmq admits
     * every client of a CURVE server when no handler is there. */
    if (status == TOOL_GO_ON)
        status = zap_start(ctx, &list, sec->client_keys);
    if (status == TOOL_GO_ON &&
        (zmq_setsockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
         zmq_setsockopt(socket, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) != 0))
        status = tool_error(TOOL_EXIT_RUNTIME, NULL, "cannot make a CURVE server: %s",
                            zmq_strerror(zmq_errno()));
    if (status == TOOL_GO_ON)
        status = set_key(socket, ZMQ_CURVE_SECRETKEY, pair.secret_key, "the secret key");
    keyfile_free(&pair);
    keyfile_free(&list);
    if (status != TOOL_GO_ON)
        bridge_security_stop();
    return status;
}

/* The connecting side with keys: the server's public key, our pair. */
static tool_status apply_client(void *socket, const struct bridge_security *sec)
{
    struct keyfile server, pair;
    tool_status status;

    memset(&server, 0, sizeof server);
    memset(&pair, 0, sizeof pair);
    if ((status = keyfile_read(&server, sec->server_key, WANT_PUBLIC)) != TOOL_GO_ON)
        return status;
    status = keyfile_read(&pair, sec->client_key, WANT_PAIR);
    if (status == TOOL_GO_ON)
        status = set_key(socket, ZMQ_CURVE_SERVERKEY, server.public_key, "the server key");
    if (status == TOOL_GO_ON)
        status = set_key(socket, ZMQ_CURVE_PUBLICKEY, pair.public_key, "the public key");
    if (status == TOOL_GO_ON)
        status = set_key(socket, ZMQ_CURVE_SECRETKEY, pair.secret_key, "the secret key");
    keyfile_free(&server);
    keyfile_free(&pair);
    return status;
}

/* Which options are missing, or given to the wrong side. */
static tool_status check_options(const struct bridge_security *sec, int binding)
{
    if (binding) {
        if (sec->client_key != NULL)
            return tool_usage_error("--curve-client-key is for the connecting side "
                                    "(this side binds: --curve-client-keys)");
        if (sec->server_key != NULL && sec->client_keys == NULL)
            return tool_usage_error("--curve-server-key needs --curve-client-keys on the "
                                    "binding side (the public keys allowed to connect)");
        if (sec->server_key == NULL && sec->client_keys != NULL)
            return tool_usage_error("--curve-client-keys needs --curve-server-key "
                                    "(this side's key pair)");
        return TOOL_GO_ON;
    }
    if (sec->client_keys != NULL)
        return tool_usage_error("--curve-client-keys is for the binding side "
                                "(this side connects: --curve-client-key)");
    if (sec->server_key != NULL && sec->client_key == NULL)
        return tool_usage_error("--curve-server-key needs --curve-client-key on the "
                                "connecting side (this side's key pair)");
    if (sec->server_key == NULL && sec->client_key != NULL)
        return tool_usage_error("--curve-client-key needs --curve-server-key "
                                "(the server's public key)");
    return TOOL_GO_ON;
}

int bridge_security_apply(void *ctx, void *socket, const struct bridge_security *sec,
                          int binding, const char *endpoint)
{
    tool_status status = check_options(sec, binding);

    if (status != TOOL_GO_ON)
        return status;
    if (sec->server_key != NULL)
        return binding ? apply_server(ctx, socket, sec) : apply_client(socket, sec);
    if (binding && !sec->insecure && !bridge_endpoint_is_loopback(endpoint))
        return tool_usage_error("refusing to bind %s without keys: anyone who can reach it "
                                "could read and write the data (use --curve-server-key and "
                                "--curve-client-keys, or --insecure)", endpoint);
    return TOOL_GO_ON;
}

/* ---- the loopback rule ------------------------------------------------- */

/* TEXT[0 .. LEN-1] is a TCP port: digits, or "*" (an ephemeral one). */
static int is_port(const char *text)
{
    size_t len = strlen(text), i;

    if (len == 1 && text[0] == '*')
        return 1;
    if (len == 0 || len > 5)
        return 0;
    for (i = 0; i < len; i++)
        if (text[i] < '0' || text[i] > '9')
            return 0;
    return 1;
}

/* HOST[0 .. LEN-1] is a dotted quad 127.B.C.D, each part a decimal
 * 0..255 without leading zeros (which some resolvers read as octal). */
static int is_ipv4_loopback(const char *host, size_t len)
{
    unsigned parts = 0, value = 0, digits = 0;
    size_t i;

    for (i = 0; i <= len; i++) {
        if (i == len || host[i] == '.') {
            if (digits == 0 || value > 255 || (parts == 0 && value != 127))
                return 0;
            parts++;
            value = digits = 0;
        } else if (host[i] >= '0' && host[i] <= '9') {
            if (digits > 0 && value == 0)
                return 0; /* a leading zero */
            value = value * 10 + (unsigned)(host[i] - '0');
            if (++digits > 3)
                return 0;
        } else {
            return 0;
        }
    }
    return parts == 4;
}

static int is_tcp_loopback(const char *address)
{
    const char *colon;
    size_t len;

    if (address[0] == '[') {
        /* Only [::1] itself: other spellings are rare enough to refuse. */
        if (strncmp(address, "[::1]:", 6) != 0)
            return 0;
        return is_port(address + 6);
    }
    colon = strrchr(address, ':');
    if (colon == NULL || !is_port(colon + 1))
        return 0;
    len = (size_t)(colon - address);
    if (memchr(address, ';', len) != NULL)
        return 0; /* source;destination: the source does not bind */
    if (len == 9 && strncmp(address, "localhost", 9) == 0)
        return 1;
    return is_ipv4_loopback(address, len);
}

int bridge_endpoint_is_loopback(const char *endpoint)
{
    if (endpoint == NULL)
        return 0;
    if (strncmp(endpoint, "ipc://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0)
        return 1;
    if (strncmp(endpoint, "tcp://", 6) == 0)
        return is_tcp_loopback(endpoint + 6);
    return 0;
}

/* ---- the handshake monitor --------------------------------------------- */

struct monitor {
    void *pair;
};

#define MONITOR_EVENTS \
    (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)

void *bridge_monitor_open(void *ctx, void *socket)
{
    static unsigned serial;
    struct monitor *m;
    char endpoint[96];

    snprintf(endpoint, sizeof endpoint, "inproc://shmkit-bridge-monitor-%ld-%u",
             (long)getpid(), ++serial);
    if ((m = calloc(1, sizeof *m)) == NULL)
        return NULL;
    if (zmq_socket_monitor(socket, endpoint, MONITOR_EVENTS) != 0 ||
        (m->pair = zmq_socket(ctx, ZMQ_PAIR)) == NULL || zmq_connect(m->pair, endpoint) != 0) {
        close_linger0(m->pair);
        free(m);
        return NULL;
    }
    return m;
}

/* What a protocol error code means to someone setting up keys. */
static const char *protocol_reason(uint32_t value)
{
    switch (value) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
        return "the peer does not use CURVE (keys given on one side only?)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
    case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
        return "the keys do not match (wrong server key?)";
    default:
        return "protocol error (wrong server key, or not a CURVE peer?)";
    }
}

/* Report the event EVENT with VALUE at ENDPOINT: TOOL_EXIT_NETWORK for
 * a failed handshake, TOOL_GO_ON for anything else. */
static tool_status monitor_report(unsigned event, uint32_t value, const char *endpoint)
{
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        return tool_error(TOOL_EXIT_NETWORK, endpoint,
                          "authentication refused by the peer (ZAP status %u): "
                          "the server does not list this side's public key", (unsigned)value);
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        return tool_error(TOOL_EXIT_NETWORK, endpoint, "handshake failed: %s (code 0x%08x)",
                          protocol_reason(value), (unsigned)value);
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        return tool_error(TOOL_EXIT_NETWORK, endpoint,
                          "handshake failed: the peer closed the connection "
                          "(wrong server key, or not a CURVE peer?)");
    default:
        return TOOL_GO_ON;
    }
}

/* One event, if any: frame 1 is the event number (16 bits) and value (32
 * bits), native byte order; frame 2 the endpoint. */
static tool_status monitor_read_one(struct monitor *m, int *got)
{
    unsigned char head[6];
    char endpoint[256];
    uint16_t event;
    uint32_t value;
    int n, more;
    size_t more_len = sizeof more;

    *got = 0;
    n = zmq_recv(m->pair, head, sizeof head, ZMQ_DONTWAIT);
    if (n < 0)
        return TOOL_GO_ON;
    *got = 1;
    endpoint[0] = '\0';
    if (zmq_getsockopt(m->pair, ZMQ_RCVMORE, &more, &more_len) == 0 && more) {
        /* zmq_recv returns the frame's full length: a longer one was cut. */
        int len = zmq_recv(m->pair, endpoint, sizeof endpoint - 1, 0);

        if (len > (int)sizeof endpoint - 1)
            len = (int)sizeof endpoint - 1;
        endpoint[len > 0 ? len : 0] = '\0';
    }
    if (n < (int)sizeof head)
        return TOOL_GO_ON;
    memcpy(&event, head, sizeof event);
    memcpy(&value, head + 2, sizeof value);
    return monitor_report(event, value, endpoint[0] != '\0' ? endpoint : NULL);
}

int bridge_monitor_check(void *monitor)
{
    struct monitor *m = monitor;
    tool_status status = TOOL_GO_ON;
    int got = 1;

    if (m == NULL)
        return TOOL_GO_ON;
    while (status == TOOL_GO_ON && got)
        status = monitor_read_one(m, &got);
    return status;
}

void bridge_monitor_close(void *monitor)
{
    struct monitor *m = monitor;

    /* The monitored socket keeps its own end, which goes with it; ours
     * goes now, so that zmq_ctx_term does not wait for it. */
    if (m == NULL)
        return;
    close_linger0(m->pair);
    free(m);
}
