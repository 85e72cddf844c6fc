/* SPDX-License-Identifier: MIT */
/*
 * rumorctl: talks to a running node over its control socket
 * (DATA/control.sock, protocol in src/wire/wire_ctl.h). One function per
 * command, listed in the command table below; every command has --help
 * and a --json form (format documented in rumorctl(1)). With --offline
 * DATA, the commands of cmd_offline.c's table read a stopped node's
 * store instead (offline.c).
 *
 * Exit codes: 0 ok, 1 not found / refused / the node reported an error,
 * 2 usage, 3 cannot reach the node (socket missing or refused, the
 * connection broke, or the node's reply made no sense).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl/ctl.h"

/* ------------------------------------------------------------ commands */

static const struct command commands[] = {
	{"status", cmd_status, CTL_OPT_JSON, "",
	 "Shows the node's id, mode, pace, catch-up state, HWM vector and "
	 "counters", NULL, 0},
	{"peers", cmd_peers, CTL_OPT_JSON, "",
	 "Lists known peers: address, how learned, state, last contact and "
	 "sync, lag", NULL, 0},
	{"get", cmd_get, CTL_OPT_JSON | CTL_OPT_HEX, "KEY",
	 "Prints a key's value", NULL, 0},
	{"put", cmd_put, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_STRONG |
	 CTL_OPT_WAIT, "KEY VALUE", "Writes a key", NULL, 0},
	{"del", cmd_del, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_STRONG |
	 CTL_OPT_WAIT, "KEY", "Deletes a key", NULL, 0},
	{"scan", cmd_scan, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_LIMIT,
	 "[PREFIX]",
	 "Lists live keys (starting with PREFIX) and values in key order",
	 "stop after N keys", UINT64_MAX},
	{"watch", cmd_watch, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_SINCE,
	 "[PREFIX]",
	 "Prints every applied change (of keys starting with PREFIX) with its "
	 "position, from now or after position POS, until interrupted",
	 NULL, 0},
	{"log", cmd_log, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_LIMIT, "",
	 "Prints the write log per origin, newest first",
	 "entries per origin (default 20, at most 10000)", CTL_LOG_LIMIT_MAX},
	{"version", cmd_version, CTL_OPT_JSON | CTL_OPT_HEX, "KEY",
	 "Shows a key's version: clock, origin, seq, wall time, deleted",
	 NULL, 0},
	{"sync", cmd_sync, CTL_OPT_JSON | CTL_OPT_TIMEOUT, "",
	 "Reconciles now with every alive peer and reports what moved",
	 NULL, 0},
	{"keygen", cmd_keygen, CTL_OPT_JSON | CTL_OPT_NETKEY | CTL_OPT_ID,
	 "--network-key FILE | --id",
	 "Writes a new network key file, or prints this node's id (no node "
	 "needed)", NULL, 0},
	{"load", cmd_load, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_STRONG |
	 CTL_OPT_WAIT,
	 "< LINES",
	 "Writes every 'KEY VALUE' line of standard input (pipelined, in "
	 "order); stops at the first refused one", NULL, 0},
	{"why", cmd_why, CTL_OPT_JSON | CTL_OPT_HEX | CTL_OPT_TIMEOUT, "KEY",
	 "Asks every member for its version of KEY: who holds which, which "
	 "wins and why, who is behind; converged, converging or diverged",
	 NULL, 0},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *command_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* ------------------------------------------------------------ help */

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: rumorctl [--data DIR | --socket PATH] [--json] [--hex] "
		"[--quiet] COMMAND [ARGS]\n"
		"\n"
		"Talks to a running rumord through DATA/control.sock.\n"
		"\n"
		"  --data DIR     the node's data dir (default: $RUMOR_DATA, else "
		"./rumor-data)\n"
		"  --socket PATH  the control socket (default: DATA/control.sock)\n"
		"  --json         machine-readable output (see rumorctl(1))\n"
		"  --hex          KEY, VALUE and PREFIX arguments and output in "
		"hex\n"
		"  --quiet        no warning about a node on the built-in "
		"network key\n"
		"  --help         this text; COMMAND --help for a command\n"
		"  --version      the version\n"
		"  --offline DATA a stopped node's data dir, read from a copy "
		"of its store\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	offline_usage(f);
	fprintf(f, "\nExit codes: 0 ok, 1 not found / refused, 2 usage, 3 "
		"cannot reach the node.\n");
}

static void command_usage(const struct command *c)
{
	printf("usage: rumorctl [global options] %s%s%s%s%s%s%s%s%s%s\n\n%s.\n",
	       c->name, c->opts & CTL_OPT_STRONG ? " [--strong]" : "",
	       c->opts & CTL_OPT_WAIT ? " [--wait MS | --no-wait]" : "",
	       c->args[0] ? " " : "", c->args,
	       c->opts & CTL_OPT_SINCE ? " [--since POS]" : "",
	       c->opts & CTL_OPT_LIMIT ? " [--limit N]" : "",
	       c->opts & CTL_OPT_TIMEOUT ? " [--timeout MS]" : "",
	       c->opts & CTL_OPT_HEX ? " [--hex]" : "",
	       c->opts & CTL_OPT_JSON ? " [--json]" : "", c->summary);
	if (c->opts & CTL_OPT_STRONG)
		printf("\n  --strong      a strong write: two-phase commit with "
		       "a quorum of the\n                members; returns once "
		       "committed (always so on a node\n                in "
		       "strong consistency)");
	if (c->opts & CTL_OPT_WAIT)
		printf("\n  --wait MS     while the node catches up with its "
		       "peers, wait up to MS ms\n                for it to end "
		       "(default: the node's catch-up bound)\n"
		       "  --no-wait     refused at once while the node catches "
		       "up");
	if (c->opts & CTL_OPT_HEX)
		printf("\n  --hex         arguments and output bytes in hex");
	if (c->opts & CTL_OPT_LIMIT)
		printf("\n  --limit N     %s", c->limit_help);
	if (c->opts & CTL_OPT_SINCE)
		printf("\n  --since POS   every change after position POS first "
		       "(0: the whole store), then the live ones");
	if (c->opts & CTL_OPT_TIMEOUT)
		printf("\n  --timeout MS  give up on a peer after MS ms "
		       "(default %s)", c->fn == cmd_why ? "2000" : "10000");
	if (c->opts & CTL_OPT_NETKEY)
		printf("\n  --network-key FILE  write a new random network "
		       "key to FILE (never overwrites)");
	if (c->opts & CTL_OPT_ID)
		printf("\n  --id          print this node's id, read from "
		       "DATA/node.key");
	printf("\n  --json        machine-readable output (see rumorctl(1))"
	       "\n  --help        this text\n");
}

/* ------------------------------------------------------------ options */

static int parse_u64(const char *what, const char *s, uint64_t max,
		     uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return fmt_fail(CTL_EXIT_USAGE, "%s: '%s' is not a number",
				what, s);
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > max)
		return fmt_fail(CTL_EXIT_USAGE, "%s: '%s' is not a number from "
				"1 to %" PRIu64, what, s, max);
	*out = v;
	return 0;
}

/* Takes the value of command option ch (already allowed). */
static int take_command_option(struct ctx *x, const struct command *c,
			       int ch)
{
	int rv;

	switch (ch) {
	case 'j': x->json = 1; break;
	case 'x': x->hex = 1; break;
	case 'l':
		rv = parse_u64("--limit", optarg, c->limit_max, &x->limit);
		if (rv != 0)
			return rv;
		x->have_limit = 1;
		break;
	case 't':
		return parse_u64("--timeout", optarg, CTL_SYNC_TIMEOUT_MAX,
				 &x->timeout_ms);
	case 's':
		/* 0 is a position too: the whole store. */
		if (strcmp(optarg, "0") == 0) {
			x->since = 0;
		} else {
			rv = parse_u64("--since", optarg, UINT64_MAX, &x->since);
			if (rv != 0)
				return rv;
		}
		x->have_since = 1;
		break;
	case 'k': x->network_key = optarg; break;
	case 'i': x->want_id = 1; break;
	case 'S': x->strong = 1; break;
	case 'w':
		/* 0 is allowed: the same as --no-wait. */
		if (strcmp(optarg, "0") == 0) {
			x->no_wait = 1;
			break;
		}
		rv = parse_u64("--wait", optarg, CTL_WAIT_MAX, &x->wait_ms);
		if (rv != 0)
			return rv;
		x->have_wait = 1;
		break;
	case 'W': x->no_wait = 1; break;
	}
	if (x->have_wait && x->no_wait)
		return fmt_fail(CTL_EXIT_USAGE, "--wait and --no-wait: give "
				"one of them");
	return 0;
}

/* Options after the command name; leaves the positional arguments at
 * (*argv)[1..] with (*argv)[0] the command. Returns 0, -1 after --help,
 * or an exit code. */
static int parse_command_options(struct ctx *x, const struct command *c,
				 int *argc, char ***argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"json", no_argument, NULL, 'j'},
		{"hex", no_argument, NULL, 'x'},
		{"limit", required_argument, NULL, 'l'},
		{"timeout", required_argument, NULL, 't'},
		{"network-key", required_argument, NULL, 'k'},
		{"id", no_argument, NULL, 'i'},
		{"since", required_argument, NULL, 's'},
		{"strong", no_argument, NULL, 'S'},
		{"wait", required_argument, NULL, 'w'},
		{"no-wait", no_argument, NULL, 'W'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	unsigned need;
	int ch, rv;

	optind = 0;    /* GNU getopt: start over */
	opterr = 0;
	/* Options may follow arguments; "--" ends them (for a KEY that
	 * starts with '-'). */
	while ((ch = getopt_long(*argc, *argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			command_usage(c);
			return -1;
		case 'q':
			/* A global option, also taken after the command. */
			x->quiet = 1;
			continue;
		case 'j': need = CTL_OPT_JSON; break;
		case 'x': need = CTL_OPT_HEX; break;
		case 'l': need = CTL_OPT_LIMIT; break;
		case 't': need = CTL_OPT_TIMEOUT; break;
		case 'k': need = CTL_OPT_NETKEY; break;
		case 'i': need = CTL_OPT_ID; break;
		case 's': need = CTL_OPT_SINCE; break;
		case 'S': need = CTL_OPT_STRONG; break;
		case 'w':
		case 'W': need = CTL_OPT_WAIT; break;
		default:
			return fmt_fail(CTL_EXIT_USAGE, "%s: unknown option "
					"'%s' (see rumorctl %s --help)", c->name,
					(*argv)[optind - 1], c->name);
		}
		if (!(c->opts & need))
			return fmt_fail(CTL_EXIT_USAGE, "%s does not take '%s'",
					c->name, (*argv)[optind - 1]);
		rv = take_command_option(x, c, ch);
		if (rv != 0)
			return rv;
	}
	/* argv[optind - 1] becomes the new argv[0] (the command). */
	(*argv)[optind - 1] = (char *)c->name;
	*argv += optind - 1;
	*argc -= optind - 1;
	return 0;
}

/* Global options, before the command. Returns 0 with *cmd_at the index
 * of the command, -1 after --help or --version, or an exit code. */
static int parse_global_options(struct ctx *x, int argc, char **argv,
				int *cmd_at)
{
	static const struct option longopts[] = {
		{"data", required_argument, NULL, 'd'},
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"hex", no_argument, NULL, 'x'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"offline", required_argument, NULL, 'O'},
		{"quiet", no_argument, NULL, 'q'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	opterr = 0;
	/* "+": stop at the command; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd': x->data = optarg; break;
		case 's': x->socket = optarg; break;
		case 'j': x->json = 1; break;
		case 'x': x->hex = 1; break;
		case 'q': x->quiet = 1; break;
		case 'h':
			usage(stdout);
			return -1;
		case 'V':
			printf("rumorctl %s\n", PACKAGE_VERSION);
			return -1;
		case 'O': x->offline = optarg; break;
		default:
			fmt_fail(CTL_EXIT_USAGE, "unknown option '%s'",
				 argv[optind - 1]);
			fputc('\n', stderr);
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	*cmd_at = optind;
	return 0;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	struct ctx x;
	const char *env;
	int at = 0, rv;

	memset(&x, 0, sizeof(x));
	x.fd = -1;
	env = getenv("RUMOR_DATA");
	x.data = env != NULL && env[0] ? env : CTL_DEFAULT_DATA;

	rv = parse_global_options(&x, argc, argv, &at);
	if (rv != 0)
		return rv < 0 ? CTL_EXIT_OK : rv;
	x.cmd = x.offline != NULL ? offline_command_find(argv[at])
				  : command_find(argv[at]);
	if (x.cmd == NULL) {
		if (x.offline == NULL && offline_command_find(argv[at]))
			fmt_fail(CTL_EXIT_USAGE, "'%s' reads a stopped node's "
				 "store: rumorctl --offline DATA %s", argv[at],
				 argv[at]);
		else
			fmt_fail(CTL_EXIT_USAGE, "unknown command '%s'%s",
				 argv[at], x.offline != NULL ? " with --offline"
							     : "");
		fputc('\n', stderr);
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	argc -= at;
	argv += at;
	rv = parse_command_options(&x, x.cmd, &argc, &argv);
	if (rv < 0)
		return CTL_EXIT_OK;    /* --help */
	if (rv == 0)
		rv = x.cmd->fn(&x, argc, argv);
	client_close(&x);
	offline_close(&x);
	if (fflush(stdout) != 0 && rv == 0)
		rv = fmt_fail(CTL_EXIT_FAIL, "writing output: %s",
			      strerror(errno));
	return rv;
}
