/* SPDX-License-Identifier: MIT */
/*
 * test_control_strong: strong writes through a lone node's control
 * socket: rumorctl put/del (--strong, and plain on a node in strong
 * consistency) commit with quorum 1 and fail with exit 1 when a quorum
 * of 2 cannot be reached, writing nothing; status shows consistency,
 * readiness and the strong counters; raw clients: replies keep request
 * order across strong writes, and a client that leaves before its strong
 * write ends harms nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>

#include "tests/integration/test_control_fixture.h"

static void tune_strong_q1(struct rumor_options *o)
{
	o->consistency = RUMOR_CONSISTENCY_STRONG;
	o->quorum = 1;
	o->strong_timeout_ms = 500;
}

static void tune_strong_q2(struct rumor_options *o)
{
	o->consistency = RUMOR_CONSISTENCY_STRONG;
	o->quorum = 2;
	o->strong_timeout_ms = 500;
}

static int setup_q1(void **state)
{
	return setup_tuned(state, tune_strong_q1);
}

static int setup_q2(void **state)
{
	return setup_tuned(state, tune_strong_q2);
}

/* The node's own value of key, or NULL when absent (caller frees). */
static char *node_value(struct fixture *f, const char *key)
{
	void *v = NULL;
	size_t len = 0;
	char *s;

	if (rumor_get(f->node, key, strlen(key), &v, &len) != 0)
		return NULL;
	s = malloc(len + 1);
	assert_non_null(s);
	memcpy(s, v, len);
	s[len] = '\0';
	rumor_free(v);
	return s;
}

/* ------------------------------------------------------------ quorum 1 */

/* A lone node with quorum 1 is its own quorum: plain put and del are
 * strong writes that commit, as are --strong ones; status counts them. */
static void test_strong_node_commits_puts_and_deletes_alone(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char *v;

	assert_int_equal(RUN(&p, f, "put", "colour", "blue"), 0);
	assert_string_equal(p.err, "");
	v = node_value(f, "colour");
	assert_non_null(v);
	assert_string_equal(v, "blue");
	free(v);
	assert_int_equal(RUN(&p, f, "put", "--strong", "--hex", "00ff",
			     "0a00"), 0);
	assert_int_equal(RUN(&p, f, "get", "--hex", "00ff"), 0);
	assert_string_equal(p.out, "0a00\n");
	assert_int_equal(RUN(&p, f, "del", "colour"), 0);
	assert_int_equal(RUN(&p, f, "get", "colour"), 1);
	assert_non_null(strstr(p.err, "not found"));
	assert_int_equal(RUN(&p, f, "--json", "del", "--strong", "00"), 0);
	assert_string_equal(p.out, "{\"ok\":true}\n");

	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "consistency: strong (quorum 1, 1 "
			       "reachable, ready)\n"));
	assert_non_null(strstr(p.out, "strong: committed 4 aborted 0 "));
	assert_non_null(strstr(p.out, " pending 0 "));
	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_json(p.out);
	assert_non_null(strstr(p.out, "\"consistency\":\"strong\",\"quorum\":1,"
			       "\"reachable\":1,\"ready\":true,\"strong\":{"
			       "\"committed\":4,\"aborted\":0,"));
	assert_non_null(strstr(p.out, "\"pending\":0,"));
}

/* Pipelined on one connection, strong writes and reads are answered in
 * request order, each read seeing the writes before it. */
static void test_pipelined_strong_requests_are_answered_in_order(void **state)
{
	struct fixture *f = *state;
	const struct ctl_request rqs[] = {
		{.cmd = CTL_CMD_SPUT, .key = (const uint8_t *)"sk",
		 .key_len = 2, .value = (const uint8_t *)"v1", .value_len = 2},
		{.cmd = CTL_CMD_GET, .key = (const uint8_t *)"sk", .key_len = 2},
		{.cmd = CTL_CMD_PUT, .key = (const uint8_t *)"sk", .key_len = 2,
		 .value = (const uint8_t *)"v2", .value_len = 2},
		{.cmd = CTL_CMD_GET, .key = (const uint8_t *)"sk", .key_len = 2},
		{.cmd = CTL_CMD_SDEL, .key = (const uint8_t *)"sk",
		 .key_len = 2},
		{.cmd = CTL_CMD_GET, .key = (const uint8_t *)"sk", .key_len = 2},
	};
	struct wire_buf b;
	struct err err;
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	size_t i;

	wire_buf_init(&b);
	for (i = 0; i < sizeof(rqs) / sizeof(rqs[0]); i++)
		assert_int_equal(ctl_encode_request(&b, &rqs[i], &err), 0);
	raw_init(&c, f);
	raw_send(c.fd, b.data, b.len);
	wire_buf_free(&b);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_VALUE);
	assert_int_equal(r.rec.value_len, 2);
	assert_memory_equal(r.rec.value, "v1", 2);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_VALUE);
	assert_memory_equal(r.rec.value, "v2", 2);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_ERROR);
	assert_int_equal(r.code, RUMOR_ENOTFOUND);
	raw_free(&c);
	free(body);
}

static int key_written(void *arg)
{
	struct fixture *f = arg;
	char *v = node_value(f, "gone-client");
	int ok = v != NULL && strcmp(v, "left") == 0;

	free(v);
	return ok;
}

/* A client that hangs up while its strong write is in flight: the write
 * still ends (committed here), its callback finds no client, and the
 * node serves the next client. Under ASan a touch of the freed client
 * fails the test. */
static void test_client_that_leaves_before_its_strong_write_ends(void **state)
{
	struct fixture *f = *state;
	const struct ctl_request rq = {
		.cmd = CTL_CMD_SPUT, .key = (const uint8_t *)"gone-client",
		.key_len = 11, .value = (const uint8_t *)"left", .value_len = 4,
	};
	struct ctl_request st = {.cmd = CTL_CMD_STATUS};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	int i;

	for (i = 0; i < 5; i++) {
		raw_init(&c, f);
		raw_request(c.fd, &rq);
		/* Gone before the node even read it, or in flight. */
		if (i > 0)
			step_loop(f);
		raw_free(&c);
	}
	assert_true(tu_wait_for(key_written, step_loop, f, DEADLINE_MS));
	raw_init(&c, f);
	raw_request(c.fd, &st);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_STATUS);
	assert_int_equal(r.status.consistency, RUMOR_CONSISTENCY_STRONG);
	assert_int_equal(r.status.stats.strong_pending, 0);
	assert_true(r.status.stats.strong_committed >= 1);
	ctl_reply_free(&r);
	raw_free(&c);
	free(body);
}

/* ------------------------------------------------------------ quorum 2 */

/* Quorum 2 on a node without peers cannot be reached: put and del exit
 * 1 with the node's reason and write nothing; status says not ready. */
static void test_unreachable_quorum_refuses_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	struct proc p;
	char *v;

	assert_int_equal(RUN(&p, f, "put", "k", "v"), 1);
	/* RUMOR_ENOTREADY's text, from the node. */
	assert_non_null(strstr(p.err, "fewer than a quorum"));
	v = node_value(f, "k");
	assert_null(v);
	assert_int_equal(RUN(&p, f, "put", "--strong", "k", "v"), 1);
	assert_int_equal(RUN(&p, f, "del", "--strong", "k"), 1);
	assert_int_equal(RUN(&p, f, "get", "k"), 1);
	assert_non_null(strstr(p.err, "not found"));
	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "consistency: strong (quorum 2, 1 "
			       "reachable, not ready)\n"));
	assert_non_null(strstr(p.out, "strong: committed 0 "));
	assert_int_equal(RUN(&p, f, "--json", "status"), 0);
	assert_json(p.out);
	assert_non_null(strstr(p.out, "\"quorum\":2,\"reachable\":1,"
			       "\"ready\":false,"));
	/* Nothing was written: no local write, no key. */
	assert_non_null(strstr(p.out, "\"local_writes\":0"));
	assert_non_null(strstr(p.out, "\"keys\":0"));
}

/* ------------------------------------------------------------ gossip */

/* A gossip node writes as before, and a --strong write on it (quorum:
 * every member, here itself) commits. */
static void test_gossip_node_takes_strong_writes_on_request(void **state)
{
	struct fixture *f = *state;
	struct proc p;

	assert_int_equal(RUN(&p, f, "put", "--strong", "k", "strong"), 0);
	assert_int_equal(RUN(&p, f, "get", "k"), 0);
	assert_string_equal(p.out, "strong\n");
	assert_int_equal(RUN(&p, f, "put", "k", "gossip"), 0);
	assert_int_equal(RUN(&p, f, "get", "k"), 0);
	assert_string_equal(p.out, "gossip\n");
	assert_int_equal(RUN(&p, f, "status"), 0);
	assert_non_null(strstr(p.out, "consistency: gossip"));
	assert_non_null(strstr(p.out, "strong: committed 1 aborted 0 "));
	assert_int_equal(RUN(&p, f, "--json", "status"), 0);
	assert_non_null(strstr(p.out, "\"consistency\":\"gossip\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_strong_node_commits_puts_and_deletes_alone,
			setup_q1, teardown),
		cmocka_unit_test_setup_teardown(
			test_pipelined_strong_requests_are_answered_in_order,
			setup_q1, teardown),
		cmocka_unit_test_setup_teardown(
			test_client_that_leaves_before_its_strong_write_ends,
			setup_q1, teardown),
		cmocka_unit_test_setup_teardown(
			test_unreachable_quorum_refuses_and_writes_nothing,
			setup_q2, teardown),
		cmocka_unit_test_setup_teardown(
			test_gossip_node_takes_strong_writes_on_request,
			setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
