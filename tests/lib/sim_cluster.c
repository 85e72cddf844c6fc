/* SPDX-License-Identifier: MIT */
/*
 * sim_cluster: node life on simulated hosts, the model and the running
 * loop (see sim_cluster.h). The checks are in sim_check.c, the control
 * socket client in sim_ctl.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/array.h"
#include "node/node.h"
#include "tests/lib/sim_cluster.h"
#include "tests/lib/testutil.h"

/* ------------------------------------------------------------ failing */

void simc_fail(struct simc *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test_cluster: schedule with seed %llu failed at "
		"%llu ms: ", (unsigned long long)c->seed,
		(unsigned long long)(c->sim ? sim_now(c->sim) : 0));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRUMOR_SIM_SEED=%llu RUMOR_SIM_SCHEDULES=1 %s\n",
		(unsigned long long)c->seed, c->prog);
	if (c->base != NULL)
		tu_rmrf(c->base);
	exit(1);
}

void simc_trace(struct simc *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[%8llu] ", (unsigned long long)sim_now(c->sim));
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void trace_log_cb(void *arg, int level, const char *msg)
{
	struct simc_node *nd = arg;

	(void)level;
	simc_trace(nd->c, "node %d: %s", nd->idx, msg);
}

/* ------------------------------------------------------------ files */

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in, out, rv = 0;

	in = open(from, O_RDONLY);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode & 0777);
	if (out < 0) {
		rv = -errno;
		close(in);
		return rv;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			rv = -EIO;
			break;
		}
	}
	if (n < 0)
		rv = -errno;
	close(in);
	close(out);
	return rv;
}

/* Copies the tree at from to to (which must not exist): files and
 * directories only (LevelDB's and the key). */
static int copy_tree(const char *from, const char *to)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rv = 0;

	if (stat(from, &st) != 0)
		return -errno;
	if (mkdir(to, st.st_mode & 0777) != 0)
		return -errno;
	d = opendir(from);
	if (d == NULL)
		return -errno;
	while (rv == 0 && (de = readdir(d)) != NULL) {
		char *a, *b;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		a = tu_join(from, de->d_name);
		b = tu_join(to, de->d_name);
		if (lstat(a, &st) != 0)
			rv = -errno;
		else if (S_ISDIR(st.st_mode))
			rv = copy_tree(a, b);
		else if (S_ISREG(st.st_mode))
			rv = copy_file(a, b, st.st_mode);
		free(a);
		free(b);
	}
	closedir(d);
	return rv;
}

/* DATA/node.key from seed-derived bytes, in crypto/identity.c's format,
 * so that a seed replays with the same identities (and origins). */
static void write_identity(struct simc *c, struct simc_node *nd)
{
	uint8_t seed[32], sk[64];
	char b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	char file[200];
	char *path;
	size_t i;
	int n;

	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (uint8_t)sim_rand(c->sim);
	crypto_sign_seed_keypair(nd->pk, sk, seed);
	sodium_bin2base64(b64, sizeof(b64), sk, sizeof(sk),
			  sodium_base64_VARIANT_ORIGINAL);
	n = snprintf(file, sizeof(file), "rumor-node-key v1\n%s\n", b64);
	sodium_memzero(sk, sizeof(sk));
	if (mkdir(nd->dir, 0700) != 0)
		simc_fail(c, "mkdir %s: %s", nd->dir, strerror(errno));
	path = tu_join(nd->dir, "node.key");
	if (tu_write_file(path, file, (size_t)n, 0600) != 0)
		simc_fail(c, "cannot write %s", path);
	free(path);
}

/* ------------------------------------------------------------ model */

static void model_add(struct simc *c, const struct rumor_version *v)
{
	struct simnet_version *a;

	if (c->n_all == c->cap_all) {
		a = array_grow(c->all, &c->cap_all, c->n_all + 1, sizeof(*a),
			       64);
		if (a == NULL)
			simc_fail(c, "out of memory");
		c->all = a;
	}
	if (simnet_version_copy(&c->all[c->n_all], v) != 0)
		simc_fail(c, "out of memory");
	c->n_all++;
}

/* A local write follows everything its node has seen of the key (its
 * HWMs cover it): the new version supersedes all of it. Most of those
 * lose to it anyway; one that would still win is a tombstone the node
 * collected (forgotten by design once every member had seen it), or a
 * version that tombstone had beaten. The model forgets them all, so
 * that what a node has seen of a key ends with its last write. */
static void model_supersede(struct simc *c, struct store *s,
			    const struct rumor_version *w)
{
	size_t k, n = 0;

	for (k = 0; k < c->n_all; k++) {
		struct simnet_version *v = &c->all[k];

		if (v->key_len == w->key_len &&
		    memcmp(v->key, w->key, w->key_len) == 0 &&
		    store_hwm(s, v->origin) >= v->seq) {
			struct simc_shadow *sh;

			if (c->n_shadow == c->cap_shadow) {
				sh = array_grow(c->shadow, &c->cap_shadow,
						c->n_shadow + 1, sizeof(*sh), 32);
				if (sh == NULL)
					simc_fail(c, "out of memory");
				c->shadow = sh;
			}
			sh = &c->shadow[c->n_shadow++];
			sh->v = *v;
			sh->sup_origin = simc_origin_index(c, w->origin);
			sh->sup_seq = w->seq;
			continue;
		}
		c->all[n++] = *v;
	}
	c->n_all = n;
}

/* Every change a node commits locally is a fact the model keeps, whether
 * or not its caller heard the acknowledgement (a crash can fall between
 * the commit and the reply). */
static void on_change(void *arg, const struct rumor_version *v, int local)
{
	struct simc_node *nd = arg;

	if (!local)
		return;
	nd->c->local_changes++;
	if (nd->r != NULL)
		model_supersede(nd->c, nd->r->store, v);
	model_add(nd->c, v);
}

const struct simnet_version *simc_winner(struct simc *c, const uint8_t *key,
					 size_t key_len)
{
	const struct simnet_version *best = NULL;
	struct rumor_version a, b;
	size_t i;

	for (i = 0; i < c->n_all; i++) {
		if (c->all[i].key_len != key_len ||
		    memcmp(c->all[i].key, key, key_len) != 0)
			continue;
		if (best != NULL) {
			simnet_version_view(&c->all[i], &a);
			simnet_version_view(best, &b);
			if (resolver_order(c->res, &a, &b, NULL) >= 0)
				continue;
		}
		best = &c->all[i];
	}
	return best;
}

int simc_origin_index(const struct simc *c, const uint8_t *origin)
{
	int i;

	for (i = 0; i < c->p.n; i++)
		if (memcmp(c->nodes[i].pk, origin, RUMOR_NODE_ID_BYTES) == 0)
			return i;
	return -1;
}

/* ------------------------------------------------------------ life */

/* The store's fault hook: the armed commit fails and the process dies
 * there; every later commit of the doomed process fails too. */
static int before_commit(void *arg, const char *what)
{
	struct simc_node *nd = arg;

	if (nd->state == SIMC_CRASHED)
		return 1;
	nd->commits++;
	if (nd->fail_what[0] != '\0' && strcmp(what, nd->fail_what) == 0) {
		SIMC_TRACE(nd->c, "node %d: commit %llu (%s) fails, the node "
			   "lives on", nd->idx,
			   (unsigned long long)nd->commits, what);
		nd->fail_what[0] = '\0';
		nd->fails++;
		return 1;
	}
	if (nd->crash_at == 0 || nd->commits < nd->crash_at)
		return 0;
	SIMC_TRACE(nd->c, "node %d crashes at commit %llu (%s)", nd->idx,
		   (unsigned long long)nd->commits, what);
	nd->crash_at = 0;
	nd->state = SIMC_CRASHED;
	nd->crashes++;
	sim_kill(nd->c->sim, nd->idx);
	return 1;
}

/* The strong-write step hook: the armed step kills the process there. */
static int strong_step(void *arg, const char *step)
{
	struct simc_node *nd = arg;

	if (nd->state == SIMC_CRASHED)
		return 1;
	if (nd->crash_step_nth == 0 || strcmp(step, nd->crash_step) != 0 ||
	    --nd->crash_step_nth > 0)
		return 0;
	SIMC_TRACE(nd->c, "node %d crashes at step %s", nd->idx, step);
	nd->state = SIMC_CRASHED;
	nd->crashes++;
	nd->step_crashes++;
	sim_kill(nd->c->sim, nd->idx);
	return 1;
}

void simc_key(unsigned k, uint8_t key[SIMC_KEY_LEN])
{
	/* Binary keys: a NUL inside every one. */
	key[0] = 'k';
	key[1] = 0;
	key[2] = (uint8_t)('0' + k);
}

static void seeds_of(struct simc *c, int i, char addrs[][32],
		     const char **peers, size_t *n)
{
	int j, k = 0;

	/* Each node seeds with its two successors: a connected graph. */
	for (j = 1; j <= 2 && j < c->p.n; j++) {
		char host[16];

		sim_host_addr((i + j) % c->p.n, host, sizeof(host));
		snprintf(addrs[k], 32, "%s:%d", host, SIMC_PORT);
		peers[k] = addrs[k];
		k++;
	}
	*n = (size_t)k;
}

void simc_start(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];
	struct rumor_options o;
	struct node_env env;
	char listen[32], host[16], errmsg[256], addrs[2][32];
	const char *peers[2];
	const void *repl[SIMC_SET_MAX];
	size_t repl_len[SIMC_SET_MAX], n_peers = 0, k;
	char set[64];

	if (nd->state != SIMC_DOWN || nd->closing)
		simc_fail(c, "start of node %d that is not down", i);
	sim_revive(c->sim, i);
	sim_host_addr(i, host, sizeof(host));
	snprintf(listen, sizeof(listen), "%s:%d", host, SIMC_PORT);
	rumor_options_init(&o);
	o.data_dir = nd->dir;
	o.listen = listen;
	if (c->p.multicast) {
		o.multicast = NULL;
	} else {
		o.no_multicast = 1;
		seeds_of(c, i, addrs, peers, &n_peers);
		o.peers = peers;
		o.n_peers = n_peers;
	}
	o.network_key_path = c->netkey_path;
	o.interval_min_ms = c->p.interval_min_ms;
	o.interval_max_ms = c->p.interval_max_ms;
	o.catchup_wait_ms = c->p.catchup_wait_ms;
	o.suspect_after_ms = c->p.suspect_after_ms;
	o.gone_after_ms = c->p.gone_after_ms;
	o.control_socket = 1;
	o.fsync = c->p.fsync;
	o.no_live = (c->p.no_live_mask >> i) & 1u;
	for (k = 0; k < c->p.sets[i].n; k++) {
		repl[k] = c->p.sets[i].pfx[k];
		repl_len[k] = c->p.sets[i].len[k];
	}
	o.replicate = repl;
	o.replicate_len = repl_len;
	o.n_replicate = c->p.sets[i].n;
	if (c->p.sets[i].ns_len > 0) {
		o.namespace_prefix = c->p.sets[i].ns;
		o.namespace_len = c->p.sets[i].ns_len;
	}
	o.consistency = c->p.consistency;
	o.quorum = c->p.quorum;
	if (c->p.strong_timeout_ms > 0)
		o.strong_timeout_ms = c->p.strong_timeout_ms;
	o.resolve = c->p.resolve;
	o.on_change = on_change;
	o.change_arg = nd;
	if (c->trace) {
		o.log = trace_log_cb;
		o.log_arg = nd;
		o.log_level = RUMOR_LOG_DEBUG;
	}
	memset(&env, 0, sizeof(env));
	env.io = sim_host_io(c->sim, i);
	env.before_commit = before_commit;
	env.strong_step = strong_step;
	env.hook_arg = nd;
	env.no_why = (int)((c->p.no_why_mask >> i) & 1u);
	nd->crash_at = 0;
	nd->crash_step_nth = 0;
	nd->fail_what[0] = '\0';
	if (node_open(&nd->r, &o, &env, errmsg, sizeof(errmsg)) != 0)
		simc_fail(c, "node_open %d: %s", i, errmsg);
	nd->state = SIMC_UP;
	nd->started_ms = sim_now(c->sim);
	nd->catchup_pending = c->p.catchup_wait_ms > 0;
	simc_describe_set(c, i, set, sizeof(set));
	SIMC_TRACE(c, "node %d started (%s)%s", i, set,
		   o.no_live ? " (no live stream: rounds only)" : "");
}

int simc_up(const struct simc *c, int i)
{
	return c->nodes[i].state == SIMC_UP && !c->nodes[i].closing;
}

static void on_closed(void *arg)
{
	struct simc_node *nd = arg;

	nd->closing = 0;
	nd->r = NULL;
	nd->state = SIMC_DOWN;
	SIMC_TRACE(nd->c, "node %d closed", nd->idx);
}

/* What the node's HWMs say of each origin as it goes down (read from
 * its store, which no commit can change any more). */
static void snapshot_hwms(struct simc *c, struct simc_node *nd)
{
	simc_note_hwms(c, nd->idx);
}

static void begin_close(struct simc *c, struct simc_node *nd)
{
	snapshot_hwms(c, nd);
	nd->closing = 1;
	rumor_close(nd->r, on_closed, nd);
}

static int node_closed(void *arg)
{
	return !((struct simc_node *)arg)->closing;
}

void simc_stop(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->state != SIMC_UP || nd->closing)
		return;
	SIMC_TRACE(c, "node %d stops", i);
	begin_close(c, nd);
	if (!simc_run_cond(c, node_closed, nd, sim_now(c->sim) + 60000))
		simc_fail(c, "node %d did not close within 60 s", i);
	nd->restarts++;
}

void simc_kill(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->state != SIMC_UP || nd->closing)
		return;
	SIMC_TRACE(c, "node %d killed", i);
	nd->state = SIMC_CRASHED;
	nd->crashes++;
	sim_kill(c->sim, i);
}

void simc_arm_crash(struct simc *c, int i, uint64_t k)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->state == SIMC_UP)
		nd->crash_at = nd->commits + k;
}

void simc_arm_fail(struct simc *c, int i, const char *what)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->state != SIMC_UP)
		return;
	snprintf(nd->fail_what, sizeof(nd->fail_what), "%s", what);
}

void simc_arm_step(struct simc *c, int i, const char *step, uint64_t n)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->state != SIMC_UP)
		return;
	snprintf(nd->crash_step, sizeof(nd->crash_step), "%s", step);
	nd->crash_step_nth = n;
}

/* Crashed nodes are discarded: closed over their dead io, freed. */
static void reap_crashed(struct simc *c)
{
	int i;

	for (i = 0; i < c->p.n; i++) {
		struct simc_node *nd = &c->nodes[i];

		if (nd->state == SIMC_CRASHED && !nd->closing)
			begin_close(c, nd);
	}
}

int simc_run_cond(struct simc *c, int (*cond)(void *arg), void *arg,
		  uint64_t deadline)
{
	uint64_t next;

	for (;;) {
		reap_crashed(c);
		if (cond != NULL && cond(arg))
			return 1;
		next = sim_next_time(c->sim);
		if (c->next_check <= deadline &&
		    (next == UINT64_MAX || next > c->next_check)) {
			/* The state as of the check time. */
			sim_run_until(c->sim, c->next_check);
			simc_check_tombstones(c);
			c->next_check += SIMC_CHECK_MS;
			continue;
		}
		if (next == UINT64_MAX || next > deadline) {
			sim_run_until(c->sim, deadline);
			return cond != NULL && cond(arg);
		}
		sim_step(c->sim);
	}
}

void simc_run_until(struct simc *c, uint64_t t)
{
	simc_run_cond(c, NULL, NULL, t);
}

void simc_save_stale(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->state != SIMC_DOWN)
		simc_fail(c, "stale copy of node %d that is not down", i);
	if (nd->stale == NULL) {
		char name[32];

		snprintf(name, sizeof(name), "n%d.stale", i);
		nd->stale = tu_join(c->base, name);
	}
	tu_rmrf(nd->stale);
	if (copy_tree(nd->dir, nd->stale) != 0)
		simc_fail(c, "cannot copy %s", nd->dir);
	SIMC_TRACE(c, "node %d: stale copy saved", i);
}

void simc_start_stale(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];

	if (nd->state != SIMC_DOWN || nd->stale == NULL)
		simc_fail(c, "stale restart of node %d without a copy", i);
	simc_forget_lost(c, i);
	tu_rmrf(nd->dir);
	if (copy_tree(nd->stale, nd->dir) != 0)
		simc_fail(c, "cannot copy %s", nd->stale);
	nd->stale_restarts++;
	simc_start(c, i);
	SIMC_TRACE(c, "node %d restarted on its stale copy: local seq %llu, "
		   "its own seqs elsewhere reach %llu", i,
		   (unsigned long long)store_local_seq(nd->r->store),
		   (unsigned long long)nd->gate_seq);
}

/* ------------------------------------------------------------ world */

void simc_begin(struct simc *c, uint64_t seed, const char *base,
		const char *prog, const struct simc_params *p)
{
	struct err err = { 0 };
	uint8_t key[32];
	char name[32];
	int i, trace = c->trace, rewrite = c->rewrite_collected;
	int known = c->known_bugs;
	size_t k;

	memset(c, 0, sizeof(*c));
	c->trace = trace;
	c->known_bugs = known;
	c->rewrite_collected = rewrite;
	c->seed = seed;
	c->prog = prog;
	c->p = *p;
	c->base = strdup(base);
	if (c->base == NULL || sim_new(&c->sim, seed, p->n + p->extra_hosts, &err) != 0)
		simc_fail(c, "sim_new: %s", err.msg);
	if (resolver_new_fn(&c->res, p->resolve, "sim", &err) != 0)
		simc_fail(c, "resolver_new_fn: %s", err.msg);
	c->next_check = SIMC_CHECK_MS;
	if (mkdir(c->base, 0700) != 0)
		simc_fail(c, "mkdir %s: %s", c->base, strerror(errno));
	for (k = 0; k < sizeof(key); k++)
		key[k] = (uint8_t)sim_rand(c->sim);
	c->netkey_path = tu_join(c->base, "network.key");
	if (tu_write_file(c->netkey_path, key, sizeof(key), 0600) != 0)
		simc_fail(c, "cannot write the network key");
	for (i = 0; i < p->n; i++) {
		struct simc_node *nd = &c->nodes[i];

		nd->c = c;
		nd->idx = i;
		snprintf(name, sizeof(name), "n%d", i);
		nd->dir = tu_join(c->base, name);
		write_identity(c, nd);
	}
}

static int all_closed(void *arg)
{
	struct simc *c = arg;
	int i;

	for (i = 0; i < c->p.n; i++)
		if (c->nodes[i].state != SIMC_DOWN)
			return 0;
	return 1;
}

void simc_end(struct simc *c)
{
	size_t k;
	int i;

	for (i = 0; i < c->p.n; i++)
		if (c->nodes[i].state == SIMC_UP && !c->nodes[i].closing)
			begin_close(c, &c->nodes[i]);
	if (!simc_run_cond(c, all_closed, c, sim_now(c->sim) + 60000))
		simc_fail(c, "nodes did not close within 60 s");
	sim_free(c->sim);
	c->sim = NULL;
	resolver_free(c->res);
	for (k = 0; k < c->n_all; k++)
		simnet_version_free(&c->all[k]);
	free(c->all);
	for (k = 0; k < c->n_shadow; k++)
		simnet_version_free(&c->shadow[k].v);
	free(c->shadow);
	for (k = 0; k < c->n_limbo; k++)
		simnet_version_free(&c->limbo[k]);
	free(c->limbo);
	for (i = 0; i < c->p.n; i++) {
		free(c->nodes[i].dir);
		free(c->nodes[i].stale);
	}
	free(c->netkey_path);
	tu_rmrf(c->base);
	free(c->base);
	c->base = NULL;
}

/* ------------------------------------------------------------ writes */

/* Node i may take a write now: up, not silent, and (after a stale
 * restart) either still catching up (it must refuse) or past the seqs
 * its older self used (else the write would reuse one: a loss the design
 * accepts only for writes nobody else held). */
int simc_may_write(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];
	struct ctl_status st;

	if (!simc_up(c, i) || sim_host_state(c->sim, i) != SIM_HOST_UP)
		return 0;
	if (nd->gate_seq == 0 || store_local_seq(nd->r->store) >= nd->gate_seq) {
		nd->gate_seq = 0;
		return 1;
	}
	if (node_get_status(nd->r, &st) != 0)
		simc_fail(c, "node_get_status %d", i);
	return st.catching_up;
}

/* Rewriting a key whose tombstone node i already collected, while
 * another node may still hold that tombstone, loses the new write on
 * those nodes (see tests/integration/SIM.md, "found"): the new version
 * restarts at clock 1 and can lose to the tombstone there, which is then
 * collected too. Schedules avoid it unless RUMOR_SIM_KNOWN_BUGS is
 * set. */
int simc_rewrite_risky(struct simc *c, int i, const uint8_t *key,
		       size_t key_len)
{
	struct store *s = c->nodes[i].r->store;
	struct store_record *rec;
	size_t k;
	int j, seen = 0;

	if (c->rewrite_collected)
		return 0;
	if (store_get_version(s, key, key_len, &rec, NULL) == 0) {
		store_record_free(rec);
		return 0;
	}
	/* Superseded versions count too: a later write this node has not
	 * seen does not undo its collection. */
	for (k = 0; k < c->n_all + c->n_shadow && !seen; k++) {
		const struct simnet_version *v = k < c->n_all ? &c->all[k] :
			&c->shadow[k - c->n_all].v;

		seen = v->key_len == key_len &&
		       memcmp(v->key, key, key_len) == 0 &&
		       store_hwm(s, v->origin) >= v->seq;
	}
	if (!seen)
		return 0;   /* never seen: a fresh key here */
	for (j = 0; j < c->p.n; j++) {
		if (j == i)
			continue;
		if (c->nodes[j].r == NULL)
			return 1;
		if (store_get_version(c->nodes[j].r->store, key, key_len, &rec,
				      NULL) == 0) {
			store_record_free(rec);
			return 1;
		}
	}
	return 0;
}

int simc_write(struct simc *c, int i)
{
	struct simc_node *nd = &c->nodes[i];
	uint8_t key[SIMC_KEY_LEN], val[16];
	uint64_t before = c->local_changes;
	size_t vl;
	int rv, del;

	if (!simc_may_write(c, i))
		return 1;
	simc_try_outside(c, i);
	simc_pick_key(c, i, key);
	if (simc_rewrite_risky(c, i, key, sizeof(key)))
		return 1;
	del = sim_below(c->sim, 4) == 0;
	if (del) {
		rv = rumor_del(nd->r, key, sizeof(key));
	} else {
		vl = 1 + sim_below(c->sim, sizeof(val) - 1);
		memset(val, 'a' + (int)sim_below(c->sim, 26), vl);
		val[0] = 0;   /* binary values too */
		rv = rumor_put(nd->r, key, sizeof(key), val, vl);
	}
	SIMC_TRACE(c, "node %d: %s key %c: %s", i, del ? "del" : "put",
		   key[2], rv == 0 ? "ok" : rumor_strerror(rv));
	if (rv == 0) {
		if (c->local_changes != before + 1)
			simc_fail(c, "node %d acknowledged a put that it did "
				  "not report as a change", i);
		c->writes++;
		return 0;
	}
	if (rv == RUMOR_EREFUSED) {
		c->refused++;
		return 1;
	}
	if (rv == RUMOR_EIO && nd->state == SIMC_CRASHED)
		return -1;
	simc_fail(c, "write on node %d: %s (%s)", i, rumor_strerror(rv),
		  rumor_errmsg(nd->r));
}
