/* SPDX-License-Identifier: MIT */
/*
 * rumor-bench proc: real rumord processes in a private network namespace,
 * measured from outside through their control sockets (rumorctl's
 * protocol, and `rumorctl --json status`), beside anchors measured in the
 * same run:
 *
 *   latency  put acknowledged on node 0 until every    vs  1 ms p50, 5 ms
 *            other node's WATCH shows it: 5 idle          p99 (5 nodes),
 *            nodes, 5 nodes under 10,000 writes/s,        20 ms p99 (load),
 *            20 idle nodes                                10 ms p99 (20)
 *   copies   entries received / remote versions        vs  1.5
 *            applied, 5-node mesh
 *   catchup  a fresh rumord pulls N keys from a        vs  raw batched LevelDB
 *            loaded one (its start until applied)         writes; Redis full
 *                                                         sync (diskless, disk)
 *   steady   a pipelined writer on node 0, applies     vs  raw batched writes;
 *            on node 1 per second                          a Redis replica
 *
 * The program re-executes itself under `unshare -n` (as root; else
 * `unshare -r -n`), brings lo up with multicast and the 224.0.0.0/4
 * route, and refuses to run if the namespace has any other interface.
 * Nodes find each other by seeds (--peer) on 127.0.0.1; every data dir
 * lives in one temp dir, removed at the end. Redis anchors run when
 * redis-server is in PATH, and say they were skipped otherwise.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "bench_proc.h"
#include "bench_sync.h"

#define NETNS_ENV "RUMOR_BENCH_NETNS"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: rumor-bench proc [options]\n"
		"  --only PHASE      latency, copies, catchup, steady or strong\n"
		"                    (default: all)\n"
		"  --nodes N         the small cluster: latency and copies (default %d)\n"
		"  --big-nodes N     the large cluster's latency (default %d)\n"
		"  --writes N        probe writes per latency figure (default %d)\n"
		"  --keys N          catch-up: keys on the loaded node (default %d)\n"
		"  --seconds S       steady: measured window (default %d)\n"
"  --load-on WHERE   latency: background load on node0 or spread over\n"
		"                    every node (default node0)\n"
		"  --gap MS          latency: idle time before each probe, at least MS,\n"
		"                    at random up to 2 MS (default %d)\n"
		"  --rumord PATH     the daemon (default: ../src/rumord from this\n"
		"                    program; rumorctl beside it, else in ../tools)\n"
		"Runs inside a private network namespace (re-executes itself under\n"
		"unshare -n). Keys are %d bytes, values %d bytes.\n",
		PROC_DEFAULT_NODES, PROC_BIG_NODES, PROC_DEFAULT_WRITES,
		PROC_DEFAULT_KEYS, PROC_DEFAULT_SECONDS, PROC_DEFAULT_GAP_MS,
		KEY_BYTES, VALUE_BYTES);
}

static int parse_args(int argc, char **argv, struct proc_opts *o)
{
	int i;

	o->nodes = PROC_DEFAULT_NODES;
	o->big_nodes = PROC_BIG_NODES;
	o->writes = PROC_DEFAULT_WRITES;
	o->keys = PROC_DEFAULT_KEYS;
	o->seconds = PROC_DEFAULT_SECONDS;
	o->gap_ms = PROC_DEFAULT_GAP_MS;
	o->load_spread = 0;
	for (i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		size_t *dst = NULL, min = 1, max = 0;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (i + 1 >= argc)
			goto bad;
		if (strcmp(a, "--only") == 0) {
			o->only = argv[i + 1];
			if (strcmp(o->only, "latency") != 0 &&
			    strcmp(o->only, "copies") != 0 &&
			    strcmp(o->only, "catchup") != 0 &&
			    strcmp(o->only, "steady") != 0 &&
			    strcmp(o->only, "strong") != 0)
				goto bad;
			continue;
		}
		if (strcmp(a, "--load-on") == 0) {
			if (strcmp(argv[i + 1], "node0") == 0)
				o->load_spread = 0;
			else if (strcmp(argv[i + 1], "spread") == 0)
				o->load_spread = 0;
			else
				goto bad;
			continue;
		}
		if (strcmp(a, "--rumord") == 0) {
			if (strlen(argv[i + 1]) >= sizeof o->rumord)
				goto bad;
			strcpy(o->rumord, argv[i + 1]);
			continue;
		}
		if (strcmp(a, "--nodes") == 0 || strcmp(a, "--big-nodes") == 0) {
			dst = a[2] == 'n' ? &o->nodes : &o->big_nodes;
			min = 2;
			max = PROC_MAX_NODES;
		} else if (strcmp(a, "--writes") == 0) {
			dst = &o->writes;
			max = 100000;
		} else if (strcmp(a, "--keys") == 0) {
			dst = &o->keys;
			max = 50000000;
		} else if (strcmp(a, "--seconds") == 0) {
			dst = &o->seconds;
			max = 600;
		} else if (strcmp(a, "--gap") == 0) {
			dst = &o->gap_ms;
			min = 0;
			max = 60000;
		}
		if (dst == NULL || bench_parse_size(argv[i + 1], min, max, dst) != 0)
			goto bad;
	}
	return 0;
bad:
	fprintf(stderr, "rumor-bench proc: bad option or value at '%s'\n",
		argv[i]);
	usage(stderr);
	return -1;
}

/* ------------------------------------------------------------ paths */

/* rumord and rumorctl beside this program (tools/rumor-bench, or
 * tools/.libs/ under libtool): 0 or -1. */
static int find_programs(struct proc_opts *o)
{
	char self[4096], *dir;
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	size_t len;

	if (n <= 0)
		return -1;
	self[n] = '\0';
	dir = dirname(self);
	len = strlen(dir);
	if (len >= 6 && strcmp(dir + len - 6, "/.libs") == 0)
		dir[len - 6] = '\0';
	snprintf(o->rumorctl, sizeof o->rumorctl, "%s/rumorctl", dir);
	if (o->rumord[0] == '\0')
		snprintf(o->rumord, sizeof o->rumord, "%s/../src/rumord", dir);
	else {
		/* Installed: rumorctl beside rumord; built: in ../tools. */
		dir = dirname(strcpy(self, o->rumord));
		snprintf(o->rumorctl, sizeof o->rumorctl, "%.4000s/rumorctl", dir);
		if (access(o->rumorctl, X_OK) != 0)
			snprintf(o->rumorctl, sizeof o->rumorctl,
				 "%.4000s/../tools/rumorctl", dir);
	}
	if (access(o->rumord, X_OK) != 0 || access(o->rumorctl, X_OK) != 0) {
		fprintf(stderr, "rumor-bench proc: %s or %s is not built (--rumord PATH)\n",
			o->rumord, o->rumorctl);
		return -1;
	}
	return 0;
}

/* An executable name in PATH. */
static int in_path(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4200];

	while (path != NULL && *path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);

		snprintf(buf, sizeof buf, "%.*s/%s", (int)len, path, name);
		if (len > 0 && access(buf, X_OK) == 0)
			return 1;
		path = end ? end + 1 : NULL;
	}
	return 0;
}

/* ------------------------------------------------------------ namespace */

/* Re-executes the program under unshare -n (never returns on success);
 * -1 when it cannot. */
static int enter_netns(int argc, char **argv)
{
	char *args[64], self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	int i, a = 0;

	if (argc > 56 || n <= 0)
		return -1;
	self[n] = '\0';
	setenv(NETNS_ENV, "1", 1);
	args[a++] = (char *)"unshare";
	args[a++] = (char *)(geteuid() == 0 ? "-n" : "-rn");
	args[a++] = (char *)"--";
	args[a++] = self;
	args[a++] = (char *)"proc";
	for (i = 1; i < argc; i++)
		args[a++] = argv[i];
	args[a] = NULL;
	fflush(stdout);
	execvp("unshare", args);
	fprintf(stderr, "rumor-bench proc: cannot run unshare: %s\n",
		strerror(errno));
	return -1;
}

static int run_ip(const char *a1, const char *a2, const char *a3,
		  const char *a4, const char *a5, const char *a6,
		  const char *a7)
{
	char *argv[] = {(char *)"ip", (char *)a1, (char *)a2, (char *)a3,
			(char *)a4, (char *)a5, (char *)a6, (char *)a7, NULL};
	pid_t pid = proc_spawn(argv, NULL);

	return pid < 0 || proc_wait(pid) != 0 ? -1 : 0;
}

/* Inside the namespace: only lo, brought up with multicast and the
 * multicast route. 0, or -1 (printed). */
static int setup_netns(void)
{
	/* /proc/self/net is this namespace's (sysfs may still show the
	 * host's interfaces). */
	FILE *f = fopen("/proc/self/net/dev", "r");
	char line[512];
	int bad = 0, n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *p = line, *colon;

		if (n++ < 2)
			continue;            /* two header lines */
		while (*p == ' ')
			p++;
		colon = strchr(p, ':');
		if (colon == NULL)
			continue;
		*colon = '\0';
		if (strcmp(p, "lo") != 0)
			bad = 1;
	}
	fclose(f);
	if (bad) {
		fprintf(stderr, "rumor-bench proc: the network namespace has an interface "
			"besides lo; refusing to start nodes\n");
		return -1;
	}
	if (run_ip("link", "set", "lo", "up", NULL, NULL, NULL) != 0 ||
	    run_ip("link", "set", "lo", "multicast", "on", NULL, NULL) != 0 ||
	    run_ip("route", "add", "224.0.0.0/4", "dev", "lo", "src",
		   "127.0.0.1") != 0) {
		fprintf(stderr, "rumor-bench proc: cannot set up lo (ip link/route)\n");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ main */

static int want(const struct proc_opts *o, const char *phase)
{
	return o->only == NULL || strcmp(o->only, phase) == 0;
}

/* Folds a phase's result into met/failed and separates phases. */
static void fold(int rv, double t0, int *met, int *failed)
{
	printf("  (%.1f s)\n", bench_now() - t0);
	if (rv < 0)
		*failed = 1;
	else if (rv == 0)
		*met = 0;
	printf("\n");
	fflush(stdout);
}

int bench_proc_main(int argc, char **argv)
{
	const char *ns = getenv(NETNS_ENV), *base = getenv("TMPDIR");
	struct proc_opts o;
	char root[4096];
	double t0;
	int met = 1, failed = 0, rv;

	memset(&o, 0, sizeof o);
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	if (ns == NULL || strcmp(ns, "1") != 0) {
		enter_netns(argc, argv);
		return 1;
	}
	if (setup_netns() != 0 || find_programs(&o) != 0)
		return 1;
	signal(SIGPIPE, SIG_IGN);
	o.have_redis = in_path("redis-server");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	snprintf(root, sizeof root, "%s/rumor-bench-proc-XXXXXX", base);
	if (mkdtemp(root) == NULL) {
		perror("rumor-bench proc: mkdtemp");
		return 1;
	}
	o.root = root;
	proc_catch_signals(root);
	printf("rumor-bench proc: %s in a private network namespace; Redis anchors: %s\n\n",
	       o.rumord, o.have_redis ? "yes" : "skipped (no redis-server)");
	fflush(stdout);
	if (want(&o, "latency") || want(&o, "copies")) {
		t0 = bench_now();
		rv = proc_small_cluster(&o, want(&o, "latency"),
					want(&o, "copies"));
		fold(rv, t0, &met, &failed);
	}
	if (want(&o, "latency")) {
		t0 = bench_now();
		fold(proc_big_cluster(&o), t0, &met, &failed);
	}
	if (want(&o, "catchup")) {
		t0 = bench_now();
		fold(proc_catchup(&o), t0, &met, &failed);
	}
	if (want(&o, "steady")) {
		t0 = bench_now();
		fold(proc_steady(&o), t0, &met, &failed);
	}
	if (want(&o, "strong")) {
		t0 = bench_now();
		fold(proc_strong(&o), t0, &met, &failed);
	}
	if (bench_rmrf(root) != 0)
		fprintf(stderr, "rumor-bench proc: could not remove %s\n", root);
	printf("rumor-bench proc: %s\n", failed ? "a phase FAILED" :
	       met ? "every target met" : "some targets NOT met");
	return failed ? 1 : met ? 0 : 1;
}

int bench_strong_main(int argc, char **argv)
{
	char *args[64];
	int i, a = 0;

	if (argc > 60) {
		fprintf(stderr, "rumor-bench strong: too many arguments\n");
		return 2;
	}
	args[a++] = argv[0];
	args[a++] = (char *)"--only";
	args[a++] = (char *)"strong";
	for (i = 1; i < argc; i++)
		args[a++] = argv[i];
	args[a] = NULL;
	return bench_proc_main(a, args);
}
