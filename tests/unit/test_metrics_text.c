/* SPDX-License-Identifier: MIT */
/*
 * test_metrics_text: the Prometheus text of a node's figures
 * (src/node/metrics_text.c): exact lines for a known snapshot, HELP and
 * TYPE before every family, label escaping, cumulative histogram
 * buckets ending in +Inf; and random snapshots always render text the
 * format validator (tests/lib/promcheck.c) accepts. lib/histogram too.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rumor.h"
#include "lib/histogram.h"
#include "lib/refuse.h"
#include "node/metrics.h"
#include "tests/lib/promcheck.h"

struct fixture {
	struct ctl_status st;
	struct ctl_peer_info peers[3];
	struct metrics_count dropped[2];
	struct histogram rounds, batches;
	struct metrics_snapshot snap;
	char *text;
	size_t len;
};

/* A known snapshot: every figure distinct, so a line that reads the
 * wrong field shows. */
static void fixture_fill(struct fixture *f)
{
	struct rumor_stats *s = &f->st.stats;

	memset(f, 0, sizeof *f);
	snprintf(f->st.id, sizeof f->st.id, "NODEid");
	f->st.mode = RUMOR_MODE_PEER;
	rumor_stats_init(s);
	s->local_writes = 42;
	s->remote_applied = 7;
	s->remote_stale = 3;
	s->remote_identical = 5;
	s->conflicts_default = 11;
	s->conflicts_resolver = 13;
	s->symmetry_violations = 2;
	s->keys = 1000;
	s->tombstones = 17;
	s->bytes_in = 123456;
	s->bytes_out = 654321;
	s->entries_sent = 19;
	s->entries_received = 23;
	s->live_sent = 29;
	s->strong_committed = 31;
	s->strong_aborted = 37;
	s->strong_quorum = 3;
	f->st.velocity = 12.5;
	f->st.interval_ms = 250;
	f->st.catching_up = 1;
	f->st.catchup_left_ms = 1500;
	f->st.peers_known = 6;
	f->st.peers_alive = 3;
	f->st.peers_suspect = 1;
	f->st.peers_connected = 2;
	f->st.refused[REFUSE_QUEUE_FULL] = 41;
	snprintf(f->peers[0].id_str, sizeof f->peers[0].id_str, "peerA");
	f->peers[0].lag = 43;
	f->peers[0].connected = 1;
	f->peers[0].state = "alive";
	/* Not a real id (ids are base64url): the escaping of ", \ and a
	 * newline in a label value. */
	snprintf(f->peers[1].id_str, sizeof f->peers[1].id_str, "a\"b\\c\nd");
	f->peers[1].lag = 0;
	f->peers[1].state = "never-contacted";
	f->dropped[0] = (struct metrics_count){"forged", 47};
	f->dropped[1] = (struct metrics_count){"bad_magic", 0};
	histogram_init(&f->rounds, histogram_seconds_bounds,
		       histogram_seconds_n);
	histogram_init(&f->batches, histogram_entries_bounds,
		       histogram_entries_n);
	f->snap.status = &f->st;
	f->snap.peers = f->peers;
	f->snap.n_peers = 2;
	f->snap.dropped = f->dropped;
	f->snap.n_dropped = 2;
	f->snap.round_seconds = &f->rounds;
	f->snap.apply_batch = &f->batches;
	f->snap.version = "9.8.7";
}

/* Each test that renders gets a filled fixture; its text is freed
 * after. */
static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	assert_non_null(f);
	fixture_fill(f);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	free(f->text);
	free(f);
	return 0;
}

static void render(struct fixture *f)
{
	struct err err;
	char msg[400];

	err_clear(&err);
	free(f->text);
	f->text = NULL;
	assert_int_equal(metrics_render(&f->snap, &f->text, &f->len, &err), 0);
	assert_non_null(f->text);
	assert_int_equal(strlen(f->text), f->len);
	if (promcheck(f->text, f->len, msg, sizeof msg) != 0)
		fail_msg("promcheck: %s\n%s", msg, f->text);
}

/* Whether text holds line as a whole line. */
static void assert_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *s = text;

	while ((s = strstr(s, line)) != NULL) {
		if ((s == text || s[-1] == '\n') && s[n] == '\n')
			return;
		s += n;
	}
	fail_msg("line not found: '%s'\n%s", line, text);
}

static void test_known_snapshot_renders_exact_lines(void **state)
{
	struct fixture *f = *state;

	render(f);
	assert_line(f->text, "rumor_node_info{id=\"NODEid\",version=\"9.8.7\","
			     "mode=\"peer\",consistency=\"gossip\"} 1");
	assert_line(f->text, "rumor_writes_total 42");
	assert_line(f->text, "rumor_remote_versions_total{outcome=\"applied\"} 7");
	assert_line(f->text, "rumor_remote_versions_total{outcome=\"stale\"} 3");
	assert_line(f->text, "rumor_remote_versions_total{outcome=\"identical\"} 5");
	assert_line(f->text, "rumor_conflicts_total{resolver=\"default\"} 11");
	assert_line(f->text, "rumor_conflicts_total{resolver=\"user\"} 13");
	assert_line(f->text, "rumor_resolver_symmetry_violations_total 2");
	assert_line(f->text, "rumor_keys 1000");
	assert_line(f->text, "rumor_tombstones 17");
	assert_line(f->text, "rumor_received_bytes_total 123456");
	assert_line(f->text, "rumor_sent_bytes_total 654321");
	assert_line(f->text, "rumor_entries_sent_total 19");
	assert_line(f->text, "rumor_entries_received_total 23");
	assert_line(f->text, "rumor_live_entries_sent_total 29");
	assert_line(f->text, "rumor_strong_writes_total{outcome=\"committed\"} 31");
	assert_line(f->text, "rumor_strong_writes_total{outcome=\"aborted\"} 37");
	assert_line(f->text, "rumor_strong_quorum_nodes 3");
	assert_line(f->text, "rumor_write_velocity_per_second 12.5");
	assert_line(f->text, "rumor_sync_interval_seconds 0.25");
	assert_line(f->text, "rumor_catching_up 1");
	assert_line(f->text, "rumor_catchup_remaining_seconds 1.5");
	/* Members by the state rumorctl peers shows, every state there. */
	assert_line(f->text, "rumor_members{state=\"alive\"} 1");
	assert_line(f->text, "rumor_members{state=\"suspect\"} 0");
	assert_line(f->text, "rumor_members{state=\"gone\"} 0");
	assert_line(f->text, "rumor_members{state=\"unreachable\"} 0");
	assert_line(f->text, "rumor_members{state=\"never-contacted\"} 1");
	assert_line(f->text, "rumor_peer_connections 2");
	assert_line(f->text, "rumor_refusals_total{reason=\"queue_full\"} 41");
	assert_line(f->text, "rumor_refusals_total{reason=\"own_seq\"} 0");
	assert_line(f->text, "rumor_announcements_dropped_total{reason=\"forged\"} 47");
	assert_line(f->text, "rumor_announcements_dropped_total{reason=\"bad_magic\"} 0");
	assert_line(f->text, "rumor_peer_lag_entries{peer=\"peerA\"} 43");
	assert_line(f->text, "rumor_peer_connected{peer=\"peerA\"} 1");
}

static void test_every_family_has_help_and_type_first(void **state)
{
	struct fixture *f = *state;
	const char *s;

	render(f);
	/* Every sample's name (up to { or space, histogram suffixes off)
	 * has "# TYPE name " earlier in the text, right after its HELP. */
	for (s = f->text; *s != '\0'; s = strchr(s, '\n') + 1) {
		char name[200], want[260];
		size_t n;
		const char *t;

		if (*s == '#')
			continue;
		n = strcspn(s, "{ ");
		assert_true(n < sizeof name);
		memcpy(name, s, n);
		name[n] = '\0';
		/* A histogram's _bucket, _sum and _count belong to it. */
		for (size_t k = 0; k < 3; k++) {
			static const char *const sfx[] = {"_bucket", "_sum",
							   "_count"};
			size_t m = strlen(sfx[k]);

			if (n > m && strcmp(name + n - m, sfx[k]) == 0) {
				snprintf(want, sizeof want,
					 "# TYPE %.*s histogram\n",
					 (int)(n - m), name);
				if (strstr(f->text, want) != NULL)
					name[n - m] = '\0';
			}
		}
		snprintf(want, sizeof want, "# TYPE %s ", name);
		t = strstr(f->text, want);
		if (t == NULL || t > s)
			fail_msg("no TYPE before %s", name);
		snprintf(want, sizeof want, "# HELP %s ", name);
		if (strstr(f->text, want) == NULL || strstr(f->text, want) > t)
			fail_msg("no HELP before the TYPE of %s", name);
		assert_true(strncmp(name, "rumor_", 6) == 0);
	}
	/* Counters end in _total. */
	for (s = strstr(f->text, " counter\n"); s != NULL;
	     s = strstr(s + 1, " counter\n"))
		assert_memory_equal(s - 6, "_total", 6);
}

/* The families, their types and their order are what dashboards and
 * alerts are written against (README "Metrics", rumord(8)): a rename
 * shows here. Counters end in _total and nothing else does; label names
 * are snake_case. */
static void test_family_names_and_types_are_the_documented_ones(void **state)
{
	static const char *const want[] = {
		"rumor_node_info gauge",
		"rumor_writes_total counter",
		"rumor_resolver_symmetry_violations_total counter",
		"rumor_received_bytes_total counter",
		"rumor_sent_bytes_total counter",
		"rumor_entries_sent_total counter",
		"rumor_entries_received_total counter",
		"rumor_live_entries_sent_total counter",
		"rumor_live_entries_received_total counter",
		"rumor_live_entries_duplicate_total counter",
		"rumor_live_entries_lost_total counter",
		"rumor_live_grafts_total counter",
		"rumor_members_refused_total counter",
		"rumor_strong_intents_prepared_total counter",
		"rumor_strong_intents_recovered_total counter",
		"rumor_strong_late_commits_total counter",
		"rumor_keys gauge",
		"rumor_tombstones gauge",
		"rumor_local_seq gauge",
		"rumor_unsynced_changes gauge",
		"rumor_peer_connections gauge",
		"rumor_catching_up gauge",
		"rumor_catchup_remaining_seconds gauge",
		"rumor_sync_interval_seconds gauge",
		"rumor_write_velocity_per_second gauge",
		"rumor_open_network gauge",
		"rumor_ready gauge",
		"rumor_strong_intents_pending gauge",
		"rumor_strong_quorum_nodes gauge",
		"rumor_strong_reachable_nodes gauge",
		"rumor_remote_versions_total counter",
		"rumor_conflicts_total counter",
		"rumor_refusals_total counter",
		"rumor_strong_writes_total counter",
		"rumor_members gauge",
		"rumor_announcements_dropped_total counter",
		"rumor_peer_lag_entries gauge",
		"rumor_peer_connected gauge",
		"rumor_sync_round_duration_seconds histogram",
		"rumor_apply_batch_entries histogram",
	};
	struct fixture *f = *state;
	const char *s;
	size_t k = 0;

	render(f);
	for (s = f->text; *s != '\0'; s = strchr(s, '\n') + 1) {
		size_t n = strcspn(s, "\n"), m;
		const char *sp;

		if (strncmp(s, "# TYPE ", 7) == 0) {
			assert_true(k < sizeof want / sizeof want[0]);
			if (n - 7 != strlen(want[k]) ||
			    strncmp(s + 7, want[k], n - 7) != 0)
				fail_msg("family %zu: '%.*s', not '%s'", k,
					 (int)(n - 7), s + 7, want[k]);
			sp = strchr(want[k], ' ');
			m = (size_t)(sp - want[k]);
			if (strcmp(sp + 1, "counter") == 0)
				assert_true(m > 6 &&
					    strncmp(sp - 6, "_total", 6) == 0);
			else
				assert_false(m > 6 &&
					     strncmp(sp - 6, "_total", 6) == 0);
			k++;
			continue;
		}
		if (*s == '#')
			continue;
		/* Label names: [a-z_] before each =", after { or ,. */
		for (sp = memchr(s, '{', n); sp != NULL && *sp != '}';) {
			size_t ln = strspn(sp + 1, "abcdefghijklmnopqrstuvwxyz_");

			assert_true(ln > 0 && sp[1 + ln] == '=' &&
				    sp[2 + ln] == '"');
			sp += 3 + ln;
			while (*sp != '"')
				sp += *sp == '\\' ? 2 : 1;
			sp++;
		}
	}
	assert_int_equal(k, sizeof want / sizeof want[0]);
}

static void test_label_values_are_escaped(void **state)
{
	struct fixture *f = *state;

	render(f);
	assert_line(f->text, "rumor_peer_lag_entries{peer=\"a\\\"b\\\\c\\nd\"} 0");
	/* Not UTF-8: U+FFFD in its place; UTF-8 kept as it is. */
	snprintf(f->peers[1].id_str, sizeof f->peers[1].id_str,
		 "x\xffy\xc3\xa9");
	render(f);
	assert_line(f->text, "rumor_peer_lag_entries{peer=\"x\xef\xbf\xbdy\xc3\xa9\"} 0");
}

static void test_histogram_buckets_are_cumulative_to_inf(void **state)
{
	struct fixture *f = *state;

	histogram_observe(&f->rounds, 0.0005);
	histogram_observe(&f->rounds, 0.001);   /* on a bound: that bucket */
	histogram_observe(&f->rounds, 0.003);
	histogram_observe(&f->rounds, 0.003);
	histogram_observe(&f->rounds, 100);     /* above every bound */
	histogram_observe(&f->rounds, NAN);     /* ignored */
	histogram_observe(&f->batches, 1);
	histogram_observe(&f->batches, 3);
	histogram_observe(&f->batches, 100000);
	render(f);
	assert_line(f->text, "# TYPE rumor_sync_round_duration_seconds histogram");
	assert_line(f->text, "rumor_sync_round_duration_seconds_bucket{le=\"0.001\"} 2");
	assert_line(f->text, "rumor_sync_round_duration_seconds_bucket{le=\"0.0025\"} 2");
	assert_line(f->text, "rumor_sync_round_duration_seconds_bucket{le=\"0.005\"} 4");
	assert_line(f->text, "rumor_sync_round_duration_seconds_bucket{le=\"60\"} 4");
	assert_line(f->text, "rumor_sync_round_duration_seconds_bucket{le=\"+Inf\"} 5");
	assert_line(f->text, "rumor_sync_round_duration_seconds_sum 100.0075");
	assert_line(f->text, "rumor_sync_round_duration_seconds_count 5");
	assert_line(f->text, "rumor_apply_batch_entries_bucket{le=\"1\"} 1");
	assert_line(f->text, "rumor_apply_batch_entries_bucket{le=\"2\"} 1");
	assert_line(f->text, "rumor_apply_batch_entries_bucket{le=\"4\"} 2");
	assert_line(f->text, "rumor_apply_batch_entries_bucket{le=\"16384\"} 2");
	assert_line(f->text, "rumor_apply_batch_entries_bucket{le=\"+Inf\"} 3");
	assert_line(f->text, "rumor_apply_batch_entries_sum 100004");
	assert_line(f->text, "rumor_apply_batch_entries_count 3");
}

/* xorshift64*: a seeded stream, so that a failure replays. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void test_random_snapshots_always_validate(void **state)
{
	struct fixture *f = *state;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char msg[400];
	int round;

	for (round = 0; round < 300; round++) {
		uint64_t *words;
		size_t i, n;

		free(f->text);     /* fixture_fill forgets it */
		fixture_fill(f);
		/* Every counter word of the status at random, then the
		 * doubles and ints made sane (the renderer reads them as
		 * typed: any bits of a uint64_t are a valid counter). */
		words = (uint64_t *)(void *)&f->st.stats.local_writes;
		n = (offsetof(struct rumor_stats, velocity) -
		     offsetof(struct rumor_stats, local_writes)) / 8;
		for (i = 0; i < n; i++)
			words[i] = rnd(&seed) >> (rnd(&seed) % 64);
		f->st.velocity = (double)(rnd(&seed) % 100000) / 7.0;
		if (round % 17 == 0)
			f->st.velocity = round % 2 ? INFINITY : NAN;
		f->st.interval_ms = (uint32_t)rnd(&seed);
		f->st.catchup_left_ms = rnd(&seed);
		for (i = 0; i < REFUSE_COUNT; i++)
			f->st.refused[i] = rnd(&seed);
		f->st.peers_known = rnd(&seed) % 2000;
		f->st.peers_alive = rnd(&seed) % 2000;
		for (i = 0; i < 3; i++) {
			size_t k, len = rnd(&seed) % (RUMOR_NODE_ID_STRLEN - 1);

			/* Any bytes but NUL, quotes, backslashes and newlines
			 * among them. */
			for (k = 0; k < len; k++)
				f->peers[i].id_str[k] =
					(char)(1 + rnd(&seed) % 255);
			f->peers[i].id_str[len] = '\0';
			f->peers[i].lag = rnd(&seed);
		}
		f->snap.n_peers = 3;
		for (i = 0; i < 50; i++) {
			histogram_observe(&f->rounds,
					  (double)(rnd(&seed) % 100000) / 1000.0);
			histogram_observe(&f->batches,
					  (double)(rnd(&seed) % 50000));
		}
		render(f);
		if (promcheck(f->text, f->len, msg, sizeof msg) != 0)
			fail_msg("round %d: %s", round, msg);
	}
}

static void test_validator_refuses_broken_text(void **state)
{
	static const char *const bad[] = {
		"rumor_x 1",                               /* no newline */
		"rumor x 1\n",                             /* bad value */
		"rumor_x{a=\"b} 1\n",                      /* unterminated */
		"rumor_x{a=\"\\q\"} 1\n",                  /* bad escape */
		"rumor_x one\n",
		"# TYPE rumor_x counter\n# TYPE rumor_x counter\nrumor_x 1\n",
		"# TYPE rumor_x counter\nrumor_x -1\n",
		"rumor_x 1\nrumor_x 2\n",                  /* a series twice */
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		"h_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",
		"rumor_a 1\nrumor_b 1\nrumor_a{x=\"y\"} 1\n", /* not contiguous */
		"rumor_a{x=\"\xff\"} 1\n",                /* not UTF-8 */
		"rumor_a{x=\"\xc0\xaf\"} 1\n",            /* overlong */
	};
	char msg[200];

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (promcheck(bad[i], strlen(bad[i]), msg, sizeof msg) == 0)
			fail_msg("accepted: %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_known_snapshot_renders_exact_lines,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_every_family_has_help_and_type_first,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_family_names_and_types_are_the_documented_ones,
			fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_label_values_are_escaped,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_histogram_buckets_are_cumulative_to_inf,
						fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_random_snapshots_always_validate,
						fixture_setup, fixture_teardown),
		cmocka_unit_test(test_validator_refuses_broken_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
