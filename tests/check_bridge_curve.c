/*
 * check_bridge_curve.c - shmkit-bridge's security (src/tools/bridge-curve.c):
 * keygen's files, the key file parser's rejections, the option rules, the
 * loopback table, and CURVE over tcp://127.0.0.1: a listed client talks,
 * an unlisted one is refused by the ZAP handler, a wrong server key and a
 * client without CURVE fail their handshakes, and the monitor says so.
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "bridge-curve.h"
#include "bridge.h"
#include "testutil.h"
#include "tool.h"

/* ---- helpers ----------------------------------------------------------- */

static char dir[64];

/* Every test runs in a fresh directory of its own, removed afterwards. */
static void dir_setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/skt-curve.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    tool_init("shmkit-bridge", "shmkit-bridge keygen [-f] NAME");
}

static void dir_teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static const char *path(const char *name)
{
    static char buf[4][128];
    static int next;
    char *p = buf[next++ % 4];

    snprintf(p, sizeof buf[0], "%s/%s", dir, name);
    return p;
}

static void write_file(const char *file, const char *text, mode_t mode)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, mode);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static char *read_text(const char *file)
{
    static char buf[1024];
    FILE *fp = fopen(file, "r");
    size_t n;

    ck_assert_ptr_nonnull(fp);
    n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static int keygen(const char *name, int force)
{
    char *argv[4];
    int argc = 0;

    argv[argc++] = (char *)"keygen";
    if (force)
        argv[argc++] = (char *)"-f";
    argv[argc++] = (char *)path(name);
    argv[argc] = NULL;
    return bridge_keygen_main(argc, argv);
}

/* The Z85 public key written into NAME.pub. */
static void public_of(const char *name, char out[41])
{
    char file[64];
    const char *text;

    snprintf(file, sizeof file, "%s.pub", name);
    text = read_text(path(file));
    ck_assert_int_eq(sscanf(text, "public-key = %40s", out), 1);
}

/* Apply SEC on a fresh DEALER of a fresh context; the status. */
static int apply(const struct bridge_security *sec, int binding, const char *endpoint)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int status = bridge_security_apply(ctx, s, sec, binding, endpoint);

    bridge_security_stop();
    zmq_close(s);
    zmq_ctx_term(ctx);
    return status;
}

/* Stderr into a file of the test's directory, to look at messages. */
static void capture_stderr(void)
{
    int fd = open(path("stderr"), O_WRONLY | O_CREAT | O_TRUNC, 0600);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(dup2(fd, 2), 2);
    close(fd);
}

/* ---- keygen ------------------------------------------------------------ */

START_TEST(test_keygen_files)
{
    struct stat st;
    char pub[41], sec[41], again[41];
    const char *text;

    ck_assert_int_eq(keygen("a", 0), TOOL_EXIT_OK);
    ck_assert_int_eq(stat(path("a.key"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(stat(path("a.pub"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0644);
    text = read_text(path("a.key"));
    ck_assert_int_eq(text[0], '#');
    ck_assert_ptr_nonnull(strstr(text, "SECRET"));
    ck_assert_int_eq(sscanf(strchr(text, '\n') + 1, "public-key = %40s\nsecret-key = %40s",
                            pub, sec), 2);
    ck_assert_int_eq(zmq_curve_public(again, sec), 0);
    ck_assert_str_eq(again, pub);
    public_of("a", again);
    ck_assert_str_eq(again, pub);
    ck_assert_ptr_null(strstr(read_text(path("a.pub")), "secret"));
}
END_TEST

START_TEST(test_keygen_exists)
{
    char before[41], after[41];

    ck_assert_int_eq(keygen("a", 0), TOOL_EXIT_OK);
    public_of("a", before);
    capture_stderr();
    ck_assert_int_eq(keygen("a", 0), TOOL_EXIT_RUNTIME);
    ck_assert_ptr_nonnull(strstr(read_text(path("stderr")), "exists"));
    public_of("a", after);
    ck_assert_str_eq(before, after);
    /* Only the .pub there: refused too, and no .key left behind. */
    ck_assert_int_eq(rename(path("a.pub"), path("b.pub")), 0);
    ck_assert_int_eq(keygen("b", 0), TOOL_EXIT_RUNTIME);
    ck_assert_int_ne(access(path("b.key"), F_OK), 0);
    ck_assert_int_eq(keygen("a", 1), TOOL_EXIT_OK);
    public_of("a", after);
    ck_assert_str_ne(before, after);
}
END_TEST

START_TEST(test_keygen_usage)
{
    char *none[] = { (char *)"keygen", NULL };
    char *two[] = { (char *)"keygen", (char *)"x", (char *)"y", NULL };
    char *bad[] = { (char *)"keygen", (char *)"--bogus", (char *)"x", NULL };

    capture_stderr();
    ck_assert_int_eq(bridge_keygen_main(1, none), TOOL_EXIT_USAGE);
    ck_assert_int_eq(bridge_keygen_main(3, two), TOOL_EXIT_USAGE);
    ck_assert_int_eq(bridge_keygen_main(3, bad), TOOL_EXIT_USAGE);
    ck_assert_int_eq(keygen("no/such/dir/k", 0), TOOL_EXIT_RUNTIME);
}
END_TEST

/* ---- key files and options --------------------------------------------- */

/* A key file TEXT (mode MODE) as the binding side's pair, with a good
 * client list; the status of apply. */
static int try_server_pair(const char *text, mode_t mode)
{
    struct bridge_security sec = { NULL, NULL, NULL, 0 };

    ck_assert_int_eq(keygen("c", 1), TOOL_EXIT_OK);
    write_file(path("pair"), text, mode);
    sec.server_key = path("pair");
    sec.client_keys = path("c.pub");
    return apply(&sec, 1, "tcp://0.0.0.0:5555");
}

/* A client list TEXT; the status of apply. */
static int try_list(const char *text)
{
    struct bridge_security sec = { NULL, NULL, NULL, 0 };

    ck_assert_int_eq(keygen("s", 1), TOOL_EXIT_OK);
    write_file(path("list"), text, 0644);
    sec.server_key = path("s.key");
    sec.client_keys = path("list");
    return apply(&sec, 1, "tcp://*:5555");
}

#define K1 "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"
#define K2 "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6"
#define S1 "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"

START_TEST(test_parser_rejects)
{
    capture_stderr();
    ck_assert_int_eq(try_server_pair("public-key = " K1 "\n", 0600), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_server_pair("secret-key = " S1 "\n", 0600), TOOL_EXIT_USAGE);
    /* K1 is not S1's public key. */
    ck_assert_int_eq(try_server_pair("public-key = " K2 "\nsecret-key = " S1 "\n", 0600),
                     TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_server_pair("public-key = " K1 "x\nsecret-key = " S1 "\n", 0600),
                     TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_server_pair("public-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf\"\n"
                                     "secret-key = " S1 "\n", 0600), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_server_pair("publickey = " K1 "\n", 0600), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_server_pair(K1 "\n", 0600), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_server_pair("", 0600), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_list("secret-key = " S1 "\n"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_list("# nobody\n"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_list(K1 " junk\n"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(try_list("public-key = " K1 "\npublic-key = 123\n"), TOOL_EXIT_USAGE);
}
END_TEST

START_TEST(test_parser_accepts)
{
    char pub[41], text[512];
    struct bridge_security sec = { NULL, NULL, NULL, 0 };

    ck_assert_int_eq(try_list("# clients\n" K1 "\n\n  public-key =   " K2 "  \r\n"),
                     TOOL_GO_ON);
    /* The connecting side takes the server's .key as well as its .pub. */
    ck_assert_int_eq(keygen("c", 0), TOOL_EXIT_OK);
    public_of("c", pub);
    snprintf(text, sizeof text, "public-key = %s\n", pub);
    write_file(path("server.pub"), text, 0644);
    sec.server_key = path("s.key");
    sec.client_key = path("c.key");
    ck_assert_int_eq(apply(&sec, 0, "tcp://192.0.2.1:5555"), TOOL_GO_ON);
    sec.server_key = path("server.pub");
    ck_assert_int_eq(apply(&sec, 0, "tcp://192.0.2.1:5555"), TOOL_GO_ON);
}
END_TEST

START_TEST(test_secret_readable)
{
    capture_stderr();
    ck_assert_int_eq(keygen("k", 0), TOOL_EXIT_OK);
    ck_assert_int_eq(try_server_pair(read_text(path("k.key")), 0640), TOOL_EXIT_RUNTIME);
    ck_assert_ptr_nonnull(strstr(read_text(path("stderr")), "readable by others"));
    ck_assert_int_eq(try_server_pair(read_text(path("k.key")), 0400), TOOL_GO_ON);
}
END_TEST

START_TEST(test_missing_file)
{
    struct bridge_security sec = { NULL, NULL, NULL, 0 };

    capture_stderr();
    ck_assert_int_eq(keygen("c", 0), TOOL_EXIT_OK);
    sec.server_key = path("nonexistent.key");
    sec.client_keys = path("c.pub");
    ck_assert_int_eq(apply(&sec, 1, "tcp://*:1"), TOOL_EXIT_RUNTIME);
    sec.server_key = dir; /* a directory */
    ck_assert_int_eq(apply(&sec, 1, "tcp://*:1"), TOOL_EXIT_USAGE);
}
END_TEST

START_TEST(test_option_rules)
{
    struct bridge_security none = { NULL, NULL, NULL, 0 };
    struct bridge_security insecure = { NULL, NULL, NULL, 1 };
    struct bridge_security server_only = { "x.key", NULL, NULL, 0 };
    struct bridge_security list_only = { NULL, "x.pub", NULL, 0 };
    struct bridge_security client_only = { NULL, NULL, "x.key", 0 };
    struct bridge_security wrong_side = { "x.key", "x.pub", "y.key", 0 };

    capture_stderr();
    ck_assert_int_eq(apply(&none, 1, "tcp://127.0.0.1:5555"), TOOL_GO_ON);
    ck_assert_int_eq(apply(&none, 1, "ipc:///tmp/x"), TOOL_GO_ON);
    ck_assert_int_eq(apply(&none, 1, "tcp://*:5555"), TOOL_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(read_text(path("stderr")), "--insecure"));
    ck_assert_int_eq(apply(&insecure, 1, "tcp://*:5555"), TOOL_GO_ON);
    ck_assert_int_eq(apply(&none, 0, "tcp://192.0.2.1:5555"), TOOL_GO_ON);
    ck_assert_int_eq(apply(&server_only, 1, "tcp://*:5555"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(apply(&list_only, 1, "tcp://*:5555"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(apply(&client_only, 1, "tcp://*:5555"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(apply(&wrong_side, 1, "tcp://*:5555"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(apply(&server_only, 0, "tcp://h:5555"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(apply(&list_only, 0, "tcp://h:5555"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(apply(&client_only, 0, "tcp://h:5555"), TOOL_EXIT_USAGE);
    ck_assert_int_eq(apply(&wrong_side, 0, "tcp://h:5555"), TOOL_EXIT_USAGE);
    ck_assert_ptr_nonnull(strstr(read_text(path("stderr")), "needs --curve-client-key"));
}
END_TEST

/* ---- loopback ---------------------------------------------------------- */

static const struct {
    const char *endpoint;
    int loopback;
} loopback_table[] = {
    { "ipc:///tmp/bridge", 1 }, { "ipc://@abstract", 1 }, { "inproc://x", 1 },
    { "tcp://127.0.0.1:5555", 1 }, { "tcp://127.1.2.3:1", 1 }, { "tcp://127.255.255.255:*", 1 },
    { "tcp://[::1]:5555", 1 }, { "tcp://localhost:5555", 1 },
    { "tcp://*:5555", 0 }, { "tcp://0.0.0.0:5555", 0 }, { "tcp://192.168.1.2:5555", 0 },
    { "tcp://[::]:5555", 0 }, { "tcp://[::ffff:127.0.0.1]:5555", 0 }, { "tcp://eth0:5555", 0 },
    { "tcp://lo:5555", 0 }, { "tcp://example.org:5555", 0 }, { "tcp://localhost.evil:1", 0 },
    { "tcp://127.0.0.1.evil.org:1", 0 }, { "tcp://127.0.0.1;192.0.2.1:5555", 0 },
    { "tcp://192.0.2.1;127.0.0.1:5555", 0 }, { "tcp://127.0.0.256:1", 0 },
    { "tcp://127.0.0:1", 0 }, { "tcp://127.0.0.01:1", 0 }, { "tcp://127.0.0.1", 0 },
    { "tcp://127.0.0.1:", 0 }, { "tcp://127.0.0.1:x", 0 }, { "tcp://128.0.0.1:1", 0 },
    { "tcp://[::1]", 0 }, { "tcp://[::1]x:1", 0 }, { "udp://127.0.0.1:1", 0 },
    { "ws://127.0.0.1:1", 0 }, { "pgm://eth0;239.192.1.1:5555", 0 }, { "", 0 },
    { "TCP://127.0.0.1:1", 0 },
};

START_TEST(test_loopback)
{
    ck_assert_msg(bridge_endpoint_is_loopback(loopback_table[_i].endpoint) ==
                      loopback_table[_i].loopback,
                  "%s", loopback_table[_i].endpoint);
}
END_TEST

/* ---- CURVE over loopback ----------------------------------------------- */

struct pair {
    void *ctx;
    void *server, *client;
    void *monitor;
    char endpoint[64];
};

/* A ROUTER server on an ephemeral port with S.key and the list LIST, and
 * a DEALER client with SEC (keys may be NULL: no CURVE). */
static void pair_open(struct pair *p, const char *list, const struct bridge_security *client)
{
    struct bridge_security server = { NULL, NULL, NULL, 0 };
    size_t len = sizeof p->endpoint;
    int timeout = 100;

    server.server_key = path("s.key");
    server.client_keys = list;
    p->ctx = zmq_ctx_new();
    p->server = zmq_socket(p->ctx, ZMQ_ROUTER);
    p->client = zmq_socket(p->ctx, ZMQ_DEALER);
    ck_assert_int_eq(bridge_security_apply(p->ctx, p->server, &server, 1, "tcp://127.0.0.1:*"),
                     TOOL_GO_ON);
    ck_assert_int_eq(zmq_bind(p->server, "tcp://127.0.0.1:*"), 0);
    ck_assert_int_eq(zmq_getsockopt(p->server, ZMQ_LAST_ENDPOINT, p->endpoint, &len), 0);
    ck_assert_int_eq(zmq_setsockopt(p->server, ZMQ_RCVTIMEO, &timeout, sizeof timeout), 0);
    ck_assert_int_eq(bridge_security_apply(p->ctx, p->client, client, 0, p->endpoint),
                     TOOL_GO_ON);
    p->monitor = bridge_monitor_open(p->ctx, p->client);
    ck_assert_ptr_nonnull(p->monitor);
    ck_assert_int_eq(zmq_connect(p->client, p->endpoint), 0);
}

static void pair_close(struct pair *p)
{
    int zero = 0;

    bridge_monitor_close(p->monitor);
    zmq_setsockopt(p->client, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(p->server, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(p->client);
    zmq_close(p->server);
    bridge_security_stop();
    bridge_security_stop(); /* idempotent */
    ck_assert_int_eq(zmq_ctx_term(p->ctx), 0);
}

/* Send from the client until the server gets it (or 5 s): 1 if it did.
 * The monitor's verdict in *STATUS. */
static int pair_talk(struct pair *p, int *status)
{
    char buf[16];
    int i;

    *status = TOOL_GO_ON;
    for (i = 0; i < 50; i++) {
        zmq_send(p->client, "hello", 5, ZMQ_DONTWAIT);
        if (zmq_recv(p->server, buf, sizeof buf, 0) >= 0 &&
            zmq_recv(p->server, buf, sizeof buf, 0) == 5)
            return memcmp(buf, "hello", 5) == 0;
        if ((*status = bridge_monitor_check(p->monitor)) != TOOL_GO_ON)
            return 0;
    }
    return 0;
}

static void make_keys(void)
{
    ck_assert_int_eq(keygen("s", 0), TOOL_EXIT_OK);
    ck_assert_int_eq(keygen("c", 0), TOOL_EXIT_OK);
    ck_assert_int_eq(keygen("other", 0), TOOL_EXIT_OK);
}

START_TEST(test_curve_talks)
{
    struct bridge_security client = { NULL, NULL, NULL, 0 };
    struct pair p;
    int status;

    make_keys();
    client.server_key = path("s.pub");
    client.client_key = path("c.key");
    pair_open(&p, path("c.pub"), &client);
    ck_assert_int_eq(pair_talk(&p, &status), 1);
    ck_assert_int_eq(status, TOOL_GO_ON);
    pair_close(&p);
}
END_TEST

START_TEST(test_curve_unlisted)
{
    struct bridge_security client = { NULL, NULL, NULL, 0 };
    struct pair p;
    int status;

    capture_stderr();
    make_keys();
    client.server_key = path("s.pub");
    client.client_key = path("other.key");
    pair_open(&p, path("c.pub"), &client);
    ck_assert_int_eq(pair_talk(&p, &status), 0);
    ck_assert_int_eq(status, TOOL_EXIT_NETWORK);
    pair_close(&p);
    ck_assert_ptr_nonnull(strstr(read_text(path("stderr")), "authentication refused by the peer"));
    ck_assert_ptr_nonnull(strstr(read_text(path("stderr")), "refused client 127.0.0.1"));
}
END_TEST

START_TEST(test_curve_wrong_server_key)
{
    struct bridge_security client = { NULL, NULL, NULL, 0 };
    struct pair p;
    int status;

    capture_stderr();
    make_keys();
    client.server_key = path("other.pub");
    client.client_key = path("c.key");
    pair_open(&p, path("c.pub"), &client);
    ck_assert_int_eq(pair_talk(&p, &status), 0);
    ck_assert_int_eq(status, TOOL_EXIT_NETWORK);
    pair_close(&p);
    ck_assert_ptr_nonnull(strstr(read_text(path("stderr")), "handshake failed"));
}
END_TEST

START_TEST(test_curve_plain_client)
{
    struct bridge_security client = { NULL, NULL, NULL, 0 };
    struct pair p;
    int status;

    capture_stderr();
    make_keys();
    pair_open(&p, path("c.pub"), &client);
    ck_assert_int_eq(pair_talk(&p, &status), 0);
    ck_assert_int_eq(status, TOOL_EXIT_NETWORK);
    pair_close(&p);
}
END_TEST

static Suite *curve_suite(void)
{
    Suite *s = suite_create("bridge_curve");
    TCase *tc = tcase_create("bridge_curve");

    tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_keygen_files);
    tcase_add_test(tc, test_keygen_exists);
    tcase_add_test(tc, test_keygen_usage);
    tcase_add_test(tc, test_parser_rejects);
    tcase_add_test(tc, test_parser_accepts);
    tcase_add_test(tc, test_secret_readable);
    tcase_add_test(tc, test_missing_file);
    tcase_add_test(tc, test_option_rules);
    tcase_add_loop_test(tc, test_loopback, 0,
                        (int)(sizeof loopback_table / sizeof *loopback_table));
    tcase_add_test(tc, test_curve_talks);
    tcase_add_test(tc, test_curve_unlisted);
    tcase_add_test(tc, test_curve_wrong_server_key);
    tcase_add_test(tc, test_curve_plain_client);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run(curve_suite());
}
