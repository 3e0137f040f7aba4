/*
 * shmkit - inspect and manage shmkit segments: "shmkit info SPEC",
 * "shmkit ls", "shmkit rm SPEC...", "shmkit rm --stale".
 *
 * SPDX-License-Identifier: BSD-2-Clause
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "shmkit.h"
#include "bench/bench.h"
#include "ls.h"
#include "segstatus.h"
#include "tool.h"

static const char synopsis[] = "shmkit [-h|--help] [-V|--version] COMMAND [ARGS]";

struct command {
    const char *name;
    int (*run)(const struct command *cmd, int argc, char **argv);
    const char *synopsis;
    const char *summary;
    const char *help;      /* the rest of "--help", after the synopsis */
};

static int cmd_info(const struct command *cmd, int argc, char **argv);
static int cmd_ls(const struct command *cmd, int argc, char **argv);
static int cmd_rm(const struct command *cmd, int argc, char **argv);
static int cmd_help(const struct command *cmd, int argc, char **argv);

static int cmd_bench(const struct command *cmd, int argc, char **argv)
{
    (void)cmd;
    return bench_main(argc, argv);
}

/* The commands, in the order "--help" lists them. */
static const struct command commands[] = {
    { "info", cmd_info, "shmkit info [--any-owner] SPEC", "describe a segment",
      "Validate the shmkit segment SPEC and print what its header says as\n"
      "\"key: value\" lines: for a slot its layout and version, for a ring its\n"
      "policy, capacity, fill level, writer and consumers (each entry of a\n"
      "block ring in use, with its lag), and whether it is persistent or\n"
      "owned by its creator.  Needs read permission only.\n"
      "\n"
      "      --any-owner  describe a segment that another user owns (refused\n"
      "                   by default, as by shmkit-read)\n"
      "  -h, --help       show this help and exit\n" },
    { "ls", cmd_ls, "shmkit ls [-a] [--json] [SPEC...]", "list segments",
      "List the shmkit segments this user can see, one line each: spec, kind,\n"
      "size, owner, mode, lifetime (persistent or owned), creator and writer\n"
      "(pid and whether it is alive), consumers of a block ring (live/entries),\n"
      "attach count (System V) and status:\n"
      "  ok            a complete segment\n"
      "  stale         owned, and its creator is dead\n"
      "  half-created  its creator died before finishing it\n"
      "  creating      its creator is still finishing it\n"
      "  invalid       shmkit's, but corrupt or of another format version\n"
      "With -a also objects that are not shmkit segments (foreign) or that\n"
      "cannot be read (unreadable).  With SPECs, only those, whatever they are.\n"
      "\n"
      "  -a, --all     list foreign and unreadable objects too\n"
      "  -j, --json    print one JSON array of objects\n"
      "  -h, --help    show this help and exit\n" },
    { "rm", cmd_rm, "shmkit rm [-f] SPEC...\n       shmkit rm --stale [-n|--dry-run] [SPEC...]",
      "remove segments",
      "Remove each segment SPEC (shm_unlink or IPC_RMID), shmkit's or not.\n"
      "Processes that have it mapped keep their mapping.  Goes on after an\n"
      "error and exits with the highest status met.\n"
      "\n"
      "With --stale, remove what crashed programs left behind: owned segments\n"
      "whose creator is dead, and segments whose creator died while creating\n"
      "them, if no process has them attached and no live process holds their\n"
      "writer lease or a consumer entry.  Never a persistent segment, nor one\n"
      "that is not shmkit's.  With SPECs, consider only those.\n"
      "\n"
      "  -f, --force   ignore segments that do not exist\n"
      "      --stale   remove stale and half-created segments (see shmkit ls)\n"
      "  -n, --dry-run with --stale: only print what would be removed\n"
      "  -h, --help    show this help and exit\n" },
    { "bench", cmd_bench, BENCH_SYNOPSIS, BENCH_SUMMARY, BENCH_HELP },
    { "help", cmd_help, "shmkit help [COMMAND]", "show help for shmkit or a command",
      "Show the help of shmkit, or of COMMAND.\n" },
    { NULL, NULL, NULL, NULL, NULL }
};

enum { OPT_HELP = 1, OPT_VERSION, OPT_FORCE, OPT_ANY_OWNER, OPT_ALL, OPT_JSON, OPT_STALE,
       OPT_DRY_RUN };

static const struct tool_option main_options[] = {
    { OPT_HELP, 'h', "help", 0 },
    { OPT_VERSION, 'V', "version", 0 },
    { 0, 0, NULL, 0 }
};

static const struct command *find_command(const char *name)
{
    const struct command *cmd;

    for (cmd = commands; cmd->name != NULL; cmd++)
        if (strcmp(cmd->name, name) == 0)
            return cmd;
    return NULL;
}

static void print_main_help(void)
{
    const struct command *cmd;

    printf("usage: %s\n\nInspect and manage shmkit shared memory segments.\n\n"
           "Commands:\n", synopsis);
    for (cmd = commands; cmd->name != NULL; cmd++)
        printf("  %-6s %s\n", cmd->name, cmd->summary);
    fputs("\n"
          "Segments are named by a spec: \"/NAME\" (POSIX shm_open), \"sysv:PATH:PROJ\"\n"
          "(System V, key from ftok), \"sysv:0xKEY\" or \"sysv:DECIMAL\" (System V).\n"
          "\n"
          "  -h, --help      show this help and exit\n"
          "  -V, --version   show the version and exit\n"
          "\n"
          "Exit status: 0 ok, 1 runtime error, 2 usage error, 3 no such segment,\n"
          "5 incompatible or corrupt segment.\n",
          stdout);
}

static int show_command_help(const struct command *cmd)
{
    printf("usage: %s\n\n%s", cmd->synopsis, cmd->help);
    return tool_close_stdout(TOOL_EXIT_OK);
}

/* ---- info -------------------------------------------------------------- */

static const char *alive_text(int alive)
{
    return alive == 1 ? "alive" : alive == 0 ? "dead" : "unknown";
}

static void print_owner(long uid)
{
    const struct passwd *pw = getpwuid((uid_t)uid);

    if (pw != NULL && pw->pw_name != NULL)
        printf("owner: %ld (%s)\n", uid, pw->pw_name);
    else
        printf("owner: %ld\n", uid);
}

static void print_created(int64_t sec)
{
    time_t t = (time_t)sec;
    struct tm tm;
    char text[64];

    if (sec <= 0 || (int64_t)t != sec || gmtime_r(&t, &tm) == NULL
        || strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        printf("created: unknown\n");
    else
        printf("created: %s\n", text);
}

/* "used: 96 of 256 bytes (37.5%)": bytes not yet consumed (block) or
 * still retained (overwrite).  Integer arithmetic: no locale, no
 * rounding surprises (the tenths are truncated). */
static void print_fill(const struct shmkit_info *info)
{
    uint64_t cap = info->ring_capacity;
    uint64_t tenths = cap != 0 && info->ring_used <= cap ? info->ring_used * 1000 / cap : 0;

    printf("used: %" PRIu64 " of %" PRIu64 " bytes (%" PRIu64 ".%" PRIu64 "%%)\n",
           info->ring_used, cap, tenths / 10, tenths % 10);
}

/* "KEY: NAME" for VALUE, the one of its two known values (A, B) that it
 * is, else "KEY: unknown (VALUE)": a newer library may know more. */
static void print_choice(const char *key, int value, int a, const char *a_name, int b,
                         const char *b_name)
{
    if (value == a || value == b)
        printf("%s: %s\n", key, value == a ? a_name : b_name);
    else
        printf("%s: unknown (%d)\n", key, value);
}

static void print_ring(const struct shmkit_info *info)
{
    print_choice("policy", info->ring_policy, SHMKIT_RING_BLOCK, "block",
                 SHMKIT_RING_OVERWRITE, "overwrite");
    printf("capacity: %" PRIu64 "\n", info->ring_capacity);
    printf("max-message: %" PRIu64 "\n", info->ring_max_message);
    print_fill(info);
    printf("messages: %" PRIu64 "\n", info->ring_messages);
}

/* A process: "PID (alive)"; one in another PID namespace (a container)
 * says so, its pid being the one it has there. */
static void print_process(const char *key, long pid, int alive, int other_pidns)
{
    printf("%s: %ld (%s%s)\n", key, pid, alive_text(alive),
           other_pidns ? ", other pid namespace" : "");
}

/* The process that holds a lease: "PID (alive)", or "none". */
static void print_holder(const char *key, long pid, int alive, int other_pidns)
{
    if (pid == 0)
        printf("%s: none\n", key);
    else
        print_process(key, pid, alive, other_pidns);
}

/* "consumer I: PID (alive), active, next message M, lag K messages, B
 * bytes" for entry I, if it is one that is shown (segstatus.h). */
static void print_consumer(unsigned i, const struct shmkit_consumer *c)
{
    const char *state = seg_consumer_state(c);
    char key[32];

    if (state == NULL)
        return;
    snprintf(key, sizeof key, "consumer %u", i);
    if (c->pid == 0)
        printf("%s: none, %s", key, state);
    else
        printf("%s: %ld (%s%s), %s", key, c->pid, alive_text(c->alive),
               c->other_pidns ? ", other pid namespace" : "", state);
    if (c->active)
        printf(", next message %" PRIu64 ", lag %" PRIu64 " messages, %" PRIu64 " bytes",
               c->next_message, c->lag_messages, c->lag_bytes);
    putchar('\n');
}

/* A block ring's consumer entries: how many, and the ones in use.  A
 * segment removed or replaced since shmkit_info gets the count alone. */
static void print_consumers(const char *spec, const struct shmkit_info *info)
{
    struct shmkit_consumer *consumers;
    unsigned i, n;

    printf("consumers: %u\n", info->ring_consumers);
    if (seg_read_consumers(spec, &consumers, &n) < 0)
        return;
    for (i = 0; i < n; i++)
        print_consumer(i, &consumers[i]);
    free(consumers);
}

static void print_info(const char *spec, const struct shmkit_info *info)
{
    printf("spec: %s\n", spec);
    printf("backend: %s\n", info->backend == SHMKIT_BACKEND_SYSV ? "sysv" : "posix");
    print_choice("kind", info->kind, SHMKIT_KIND_SLOT, "slot", SHMKIT_KIND_RING, "ring");
    printf("format: %u.%u\n", info->format_major, info->format_minor);
    printf("lifetime: %s\n", info->owned ? "owned" : "persistent");
    printf("size: %" PRIu64 "\n", info->total_size);
    printf("payload-size: %" PRIu64 "\n", info->payload_size);
    if (info->kind == SHMKIT_KIND_SLOT) {
        printf("record-size: %" PRIu64 "\n", info->record_size);
        printf("layout: %s\n", info->layout[0] != '\0' ? info->layout : "(raw)");
        printf("version: %" PRIu64 "\n", info->version);
    } else if (info->kind == SHMKIT_KIND_RING) {
        print_ring(info);
    }
    print_owner(info->owner_uid);
    printf("mode: %04o\n", info->mode & 07777u);
    print_process("creator", info->creator_pid, info->creator_alive,
                  (info->other_pidns & SHMKIT_INFO_CREATOR_OTHER_PIDNS) != 0);
    print_holder("writer", info->writer_pid, info->writer_alive,
                 (info->other_pidns & SHMKIT_INFO_WRITER_OTHER_PIDNS) != 0);
    /* Only a block ring has consumers: "consumer" is the first entry's
     * that a process holds. */
    if (info->kind == SHMKIT_KIND_RING && info->ring_policy == SHMKIT_RING_BLOCK) {
        print_holder("consumer", info->consumer_pid, info->consumer_alive,
                     (info->other_pidns & SHMKIT_INFO_CONSUMER_OTHER_PIDNS) != 0);
        print_consumers(spec, info);
    }
    printf("wait: %s\n", info->wait_mechanism[0] != '\0' ? info->wait_mechanism : "unknown");
    if (info->attach_count >= 0)
        printf("attached: %ld\n", info->attach_count);
    print_created(info->created_sec);
}

static const struct tool_option info_options[] = {
    { OPT_HELP, 'h', "help", 0 },
    { OPT_ANY_OWNER, 0, "any-owner", 0 },
    { 0, 0, NULL, 0 }
};

/* The same refusal as shmkit_slot_open without SHMKIT_ANY_OWNER: a script
 * that checks a segment with "info" before using it is not told "fine"
 * about a segment that another user planted. */
static int refuse_other_owner(const char *spec, const struct shmkit_info *info)
{
    return tool_error(TOOL_EXIT_RUNTIME, spec, "%s (owned by uid %ld, this process runs "
                      "as uid %ld; allow with --any-owner)", shmkit_strerror(SHMKIT_EOWNER),
                      info->owner_uid, (long)geteuid());
}

static int cmd_info(const struct command *cmd, int argc, char **argv)
{
    struct tool_args args;
    struct shmkit_info info;
    const char *spec;
    tool_status status;
    int id, rc, any_owner = 0;

    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, info_options)) == OPT_ANY_OWNER)
        any_owner = 1;
    if (id == OPT_HELP)
        return show_command_help(cmd);
    if (id == TOOL_OPT_ERROR)
        return TOOL_EXIT_USAGE;
    if ((status = tool_spec_operand(&args, "info: ", 1, &spec)) != TOOL_GO_ON)
        return status;
    rc = shmkit_spec_check(spec);
    if (rc >= 0)
        rc = shmkit_info(spec, &info, sizeof info);
    if (rc < 0)
        return tool_fail(spec, NULL, rc);
    if (!any_owner && info.owner_uid != (long)geteuid())
        return refuse_other_owner(spec, &info);
    print_info(spec, &info);
    return tool_close_stdout(TOOL_EXIT_OK);
}

/* ---- rm ---------------------------------------------------------------- */

/* ---- ls ---------------------------------------------------------------- */

static const struct tool_option ls_options[] = {
    { OPT_HELP, 'h', "help", 0 },
    { OPT_ALL, 'a', "all", 0 },
    { OPT_JSON, 'j', "json", 0 },
    { 0, 0, NULL, 0 }
};

static int cmd_ls(const struct command *cmd, int argc, char **argv)
{
    struct tool_args args;
    struct ls_options opt;
    int id;

    memset(&opt, 0, sizeof opt);

    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, ls_options)) > 0) {
        if (id == OPT_HELP)
            return show_command_help(cmd);
        if (id == OPT_ALL)
            opt.all = 1;
        else
            opt.json = 1;
    }
    if (id == TOOL_OPT_ERROR)
        return TOOL_EXIT_USAGE;
    opt.specs = argv + args.index;
    opt.nspecs = argc - args.index;
    return ls_run(&opt);
}

/* ---- rm ---------------------------------------------------------------- */

static const struct tool_option rm_options[] = {
    { OPT_HELP, 'h', "help", 0 },
    { OPT_FORCE, 'f', "force", 0 },
    { OPT_STALE, 0, "stale", 0 },
    { OPT_DRY_RUN, 'n', "dry-run", 0 },
    { 0, 0, NULL, 0 }
};

static int remove_one(const char *spec, int force)
{
    int rc = shmkit_spec_check(spec);

    if (rc >= 0)
        rc = shmkit_unlink(spec);
    if (rc == -ENOENT && force)
        return TOOL_EXIT_OK;
    return rc < 0 ? tool_fail(spec, NULL, rc) : TOOL_EXIT_OK;
}

static int cmd_rm(const struct command *cmd, int argc, char **argv)
{
    struct tool_args args;
    int id, force = 0, stale = 0, dry_run = 0, worst = TOOL_EXIT_OK;

    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, rm_options)) > 0) {
        if (id == OPT_HELP)
            return show_command_help(cmd);
        if (id == OPT_FORCE)
            force = 1;
        else if (id == OPT_STALE)
            stale = 1;
        else
            dry_run = 1;
    }
    if (id == TOOL_OPT_ERROR)
        return TOOL_EXIT_USAGE;
    if (stale) {
        struct ls_options opt;
        memset(&opt, 0, sizeof opt);
        opt.dry_run = dry_run;
        opt.specs = argv + args.index;
        opt.nspecs = argc - args.index;
        return ls_remove_stale(&opt);
    }
    if (dry_run)
        return tool_usage_error("rm: --dry-run goes with --stale");
    if (args.index >= argc)
        return tool_usage_error("rm: missing SPEC");
    for (; args.index < argc; args.index++) {
        int one = remove_one(argv[args.index], force);
        if (one > worst)
            worst = one;
    }
    return worst;
}

/* ---- help and dispatch ------------------------------------------------- */

static int cmd_help(const struct command *cmd, int argc, char **argv)
{
    const struct command *topic;

    (void)cmd;
    if (argc > 2)
        return tool_usage_error("help: unexpected argument '%s'", argv[2]);
    if (argc < 2) {
        print_main_help();
    } else {
        topic = find_command(argv[1]);
        if (topic == NULL)
            return tool_usage_error("help: unknown command '%s'", argv[1]);
        return show_command_help(topic);
    }
    return tool_close_stdout(TOOL_EXIT_OK);
}

int main(int argc, char **argv)
{
    struct tool_args args;
    const struct command *cmd;
    int id;

    tool_open_std_fds();
    tool_init("shmkit", synopsis);
    tool_args_init(&args, argc, argv);
    while ((id = tool_next_option(&args, main_options)) > 0) {
        if (id == OPT_HELP) {
            print_main_help();
            return tool_close_stdout(TOOL_EXIT_OK);
        }
        return tool_close_stdout(tool_print_version());
    }
    if (id == TOOL_OPT_ERROR)
        return TOOL_EXIT_USAGE;
    if (args.index >= argc)
        return tool_usage_error("missing COMMAND");
    cmd = find_command(argv[args.index]);
    if (cmd == NULL)
        return tool_usage_error("unknown command '%s'", argv[args.index]);
    /* The command sees its own name as argv[0] and its synopsis in usage
     * errors. */
    tool_init("shmkit", cmd->synopsis);
    return cmd->run(cmd, argc - args.index, argv + args.index);
}
