/* SPDX-License-Identifier: MIT */
/*
 * test_control_socket: a node's control socket driven in-process by raw
 * clients: watch streams (paused for a slow reader, from a position),
 * garbage, a
 * private single socket, many clients, pipelining, long scans.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>
#include <cmocka.h>

#include "node/control_int.h"
#include "tests/integration/test_control_fixture.h"

static void test_watch_sends_changes_with_origin_and_clock(void **state)
{
	struct fixture *f = *state;
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH,
				 .key = (const uint8_t *)"p", .key_len = 1};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char id[RUMOR_NODE_ID_STRLEN];

	raw_init(&c, f);
	raw_request(c.fd, &rq);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	put(f, "q", "no");
	put(f, "p1", "yes");
	assert_int_equal(rumor_del(f->node, "p1", 2), 0);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_RECORD);
	assert_int_equal(r.rec.key_len, 2);
	assert_memory_equal(r.rec.key, "p1", 2);
	assert_memory_equal(r.rec.value, "yes", 3);
	assert_int_equal(r.rec.clock, 1);
	assert_int_equal(r.local, 1);
	assert_int_equal(r.rec.origin_len, RUMOR_NODE_ID_BYTES);
	{
		char origin[IDENTITY_ID_STRLEN];

		rumor_node_id(f->node, id);
		identity_id_string(r.rec.origin, origin);
		assert_string_equal(origin, id);
	}
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.rec.deleted, 1);
	assert_int_equal(r.rec.clock, 2);
	raw_free(&c);
	free(body);
}

/* A watcher that does not read: the node keeps a bounded backlog (the
 * stream pauses above the high-water mark) and, once the reader drains
 * it, goes on from its position: every change of distinct keys is shown,
 * in position order, none dropped. */
static void test_watch_pauses_for_a_slow_reader_and_misses_nothing(
	void **state)
{
	struct fixture *f = *state;
	enum { BIG = RUMOR_VALUE_MAX, PUTS = 24 };
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char *value = malloc(BIG), key[16];
	uint64_t records = 0, last_pos = 0, head;
	int i;

	memset(value, 'w', BIG);
	raw_init(&c, f);
	raw_request(c.fd, &rq);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	for (i = 0; i < PUTS; i++) {
		snprintf(key, sizeof(key), "big%02d", i);
		assert_int_equal(rumor_put(f->node, key, strlen(key), value,
					   BIG), 0);
		step_loop(f);
	}
	while (records < PUTS) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		assert_int_equal(r.type, CTL_R_RECORD);
		assert_int_equal(r.rec.value_len, BIG);
		assert_true(r.pos > last_pos);
		snprintf(key, sizeof(key), "big%02d", (int)records);
		assert_int_equal(r.rec.key_len, strlen(key));
		assert_memory_equal(r.rec.key, key, strlen(key));
		last_pos = r.pos;
		records++;
	}
	assert_int_equal(rumor_position(f->node, &head, NULL), 0);
	assert_int_equal(last_pos, head);
	/* Caught up: the next change is shown again. */
	put(f, "last", "x");
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_RECORD);
	assert_int_equal(r.rec.key_len, 4);
	assert_memory_equal(r.rec.key, "last", 4);
	assert_int_equal(r.pos, head + 1);
	raw_free(&c);
	free(body);
	free(value);
}

/* Keys rewritten while the reader is behind: each shows once more at its
 * latest change, and a GAP counts the superseded changes, so that shown
 * plus counted is every change. */
static void test_watch_tells_a_slow_reader_what_was_superseded(void **state)
{
	struct fixture *f = *state;
	enum { BIG = RUMOR_VALUE_MAX, KEYS = 4, ROUNDS = 6 };
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char *value = malloc(BIG), key[16];
	uint64_t records = 0, dropped = 0, last_pos = 0;
	int i, k, latest[KEYS];

	raw_init(&c, f);
	raw_request(c.fd, &rq);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	for (i = 0; i < KEYS * ROUNDS; i++) {
		memset(value, 'a' + i / KEYS, BIG);
		snprintf(key, sizeof(key), "hot%d", i % KEYS);
		assert_int_equal(rumor_put(f->node, key, strlen(key), value,
					   BIG), 0);
		step_loop(f);
	}
	for (k = 0; k < KEYS; k++)
		latest[k] = 0;
	while (records + dropped < KEYS * ROUNDS) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		if (r.type == CTL_R_GAP) {
			dropped += r.count;
			continue;
		}
		assert_int_equal(r.type, CTL_R_RECORD);
		assert_true(r.pos > last_pos);
		last_pos = r.pos;
		k = ((const char *)r.rec.key)[3] - '0';
		latest[k] = ((const char *)r.rec.value)[0];
		records++;
	}
	assert_int_equal(records + dropped, KEYS * ROUNDS);
	assert_true(dropped > 0);
	/* Every key ends at its last value. */
	for (k = 0; k < KEYS; k++)
		assert_int_equal(latest[k], 'a' + ROUNDS - 1);
	put(f, "last", "x");
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_RECORD);
	assert_memory_equal(r.rec.key, "last", 4);
	raw_free(&c);
	free(body);
	free(value);
}

/* WATCH from a position: the stored changes after it (compacted: a key
 * once, at its latest), then the live ones; a position below the floor is
 * refused naming the floor. */
static void test_watch_since_reads_history_then_live(void **state)
{
	struct fixture *f = *state;
	struct ctl_request rq = {.cmd = CTL_CMD_WATCH, .has_since = 1};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;

	put(f, "a", "1");       /* 1 */
	put(f, "b", "1");       /* 2 */
	put(f, "a", "2");       /* 3: a's 1 is gone from the feed */
	put(f, "c", "1");       /* 4 */
	rq.since = 1;
	raw_init(&c, f);
	raw_request(c.fd, &rq);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.pos, 2);
	assert_memory_equal(r.rec.key, "b", 1);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.pos, 3);
	assert_memory_equal(r.rec.key, "a", 1);
	assert_memory_equal(r.rec.value, "2", 1);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.pos, 4);
	put(f, "d", "1");
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_RECORD);
	assert_int_equal(r.pos, 5);
	assert_memory_equal(r.rec.key, "d", 1);
	raw_free(&c);

	/* A position beyond the head waits for it. */
	rq.since = 6;
	raw_init(&c, f);
	raw_request(c.fd, &rq);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	put(f, "e", "1");       /* 6: not shown */
	put(f, "f", "1");       /* 7 */
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.pos, 7);
	assert_memory_equal(r.rec.key, "f", 1);
	raw_free(&c);
	free(body);
}

static size_t count_keys(struct fixture *f);

static void expect_error_then_close(struct fixture *f, const void *bytes,
				    size_t len)
{
	struct raw c;
	struct ctl_reply r;
	uint8_t *body = NULL;
	int rv;

	raw_init(&c, f);
	raw_send(c.fd, bytes, len);
	rv = raw_reply(&c, &r, &body);
	if (rv == 0) {
		assert_int_equal(r.type, CTL_R_ERROR);
		assert_int_equal(r.code, RUMOR_EPROTO);
		/* And then the node hangs up. */
		assert_int_equal(raw_reply(&c, &r, &body), 1);
	}
	raw_free(&c);
	free(body);
}

static void test_garbage_gets_an_error_or_a_hangup_and_changes_nothing(
	void **state)
{
	struct fixture *f = *state;
	static const uint8_t oversize[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
	static const uint8_t zero[] = {0, 0, 0, 0};
	/* [4, "k" as text, h'76'] : a PUT with a text key. */
	static const uint8_t wrong_shape[] = {0, 0, 0, 5, 0x83, 0x04, 0x61,
					      'k', 0x41};
	static const uint8_t wrong_shape_full[] = {0, 0, 0, 6, 0x83, 0x04,
						   0x61, 'k', 0x41, 'v'};
	static const uint8_t unknown_cmd[] = {0, 0, 0, 2, 0x81, 0x0b};
	uint8_t random_bytes[4096];
	unsigned seed = 7;
	struct proc p;
	size_t i, before;

	put(f, "keep", "me");
	before = count_keys(f);
	for (i = 0; i < sizeof(random_bytes); i++)
		random_bytes[i] = (uint8_t)rand_r(&seed);
	/* Framed right, garbage inside. */
	random_bytes[0] = 0;
	random_bytes[1] = 0;
	random_bytes[2] = (sizeof(random_bytes) - 4) >> 8;
	random_bytes[3] = (sizeof(random_bytes) - 4) & 0xff;
	expect_error_then_close(f, random_bytes, sizeof(random_bytes));
	expect_error_then_close(f, oversize, sizeof(oversize));
	expect_error_then_close(f, zero, sizeof(zero));
	expect_error_then_close(f, wrong_shape_full, sizeof(wrong_shape_full));
	expect_error_then_close(f, unknown_cmd, sizeof(unknown_cmd));
	/* A truncated frame then EOF: nothing to answer, nothing done. */
	{
		struct raw c;

		raw_init(&c, f);
		raw_send(c.fd, wrong_shape, 6);
		shutdown(c.fd, SHUT_WR);
		while (!c.eof)
			raw_step(&c);
		raw_free(&c);
	}
	assert_int_equal(count_keys(f), before);
	assert_int_equal(RUN(&p, f, "get", "keep"), 0);
	assert_string_equal(p.out, "me\n");
	assert_int_equal(RUN(&p, f, "status", "--json"), 0);
	assert_non_null(strstr(p.out, "\"local_writes\":1,"));
}

static int count_one(void *arg, const void *k, size_t kl, const void *v,
		     size_t vl)
{
	(*(size_t *)arg)++;
	return 0;
}

static size_t count_keys(struct fixture *f)
{
	size_t n = 0;

	assert_int_equal(rumor_scan(f->node, "", 0, count_one, &n), 0);
	return n;
}

static void test_socket_is_private_and_single(void **state)
{
	struct fixture *f = *state;
	struct control *other = NULL;
	struct err err;
	struct stat st;
	struct sockaddr_un sa;
	char *stale = tu_join(f->dir, "stale.sock");
	char *plain = tu_join(f->dir, "plain");
	int fd;

	assert_int_equal(lstat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	/* A live node answers there: refused. */
	assert_int_equal(control_start(&other, f->io, f->node, f->sock,
				       &err), RUMOR_EBUSY);
	assert_null(other);
	/* A socket file nobody listens on (a crashed node): replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	strcpy(sa.sun_path, stale);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(control_start(&other, f->io, f->node, stale, &err),
			 0);
	assert_int_equal(lstat(stale, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	{
		int closed = 0;

		control_close(other, on_ctl_closed, &closed);
		while (!closed)
			step_loop(f);
	}
	assert_int_equal(access(stale, F_OK), -1);
	/* Not a socket: left alone, refused. */
	assert_int_equal(tu_write_file(plain, "x", 1, 0600), 0);
	other = NULL;
	assert_int_equal(control_start(&other, f->io, f->node, plain, &err),
			 RUMOR_ECONFIG);
	assert_int_equal(access(plain, F_OK), 0);
	free(stale);
	free(plain);
}

static void test_many_clients_at_once_each_get_their_answer(void **state)
{
	struct fixture *f = *state;
	struct raw c[24];
	struct ctl_reply r;
	uint8_t *body = NULL;
	char key[16];
	int i;

	for (i = 0; i < 24; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put(f, key, key);
	}
	for (i = 0; i < 24; i++) {
		struct ctl_request rq = {.cmd = CTL_CMD_GET};

		raw_init(&c[i], f);
		snprintf(key, sizeof(key), "k%d", i);
		rq.key = (const uint8_t *)key;
		rq.key_len = strlen(key);
		raw_request(c[i].fd, &rq);
	}
	for (i = 23; i >= 0; i--) {
		snprintf(key, sizeof(key), "k%d", i);
		assert_int_equal(raw_reply(&c[i], &r, &body), 0);
		assert_int_equal(r.type, CTL_R_VALUE);
		assert_int_equal(r.rec.value_len, strlen(key));
		assert_memory_equal(r.rec.value, key, strlen(key));
		raw_free(&c[i]);
	}
	free(body);
}

static void test_pipelined_requests_are_answered_in_order(void **state)
{
	struct fixture *f = *state;
	struct ctl_request rqs[] = {
		{.cmd = CTL_CMD_PUT, .key = (const uint8_t *)"pk", .key_len = 2,
		 .value = (const uint8_t *)"pv", .value_len = 2},
		{.cmd = CTL_CMD_GET, .key = (const uint8_t *)"pk", .key_len = 2},
		{.cmd = CTL_CMD_SCAN, .key = (const uint8_t *)"p", .key_len = 1},
		{.cmd = CTL_CMD_DEL, .key = (const uint8_t *)"pk", .key_len = 2},
		{.cmd = CTL_CMD_GET, .key = (const uint8_t *)"pk", .key_len = 2},
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
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_ITEM);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_END);
	assert_int_equal(r.count, 1);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_OK);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_ERROR);
	assert_int_equal(r.code, RUMOR_ENOTFOUND);
	raw_free(&c);
	free(body);
}

/* A pipeline of 300 PUTs and DELs (written in groups, src/node/
 * control.c) gets 300 answers in order, each write logged on its own,
 * and a GET behind them sees them all. */
static void test_pipelined_writes_are_each_answered_in_order(void **state)
{
	struct fixture *f = *state;
	struct ctl_request rq;
	struct wire_buf b;
	struct err err;
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char keys[300][16];
	struct ctl_status st;
	uint64_t seq0;
	size_t i;

	wire_buf_init(&b);
	assert_int_equal(node_get_status(f->node, &st), 0);
	seq0 = st.local_seq;
	for (i = 0; i < 300; i++) {
		memset(&rq, 0, sizeof rq);
		/* Every tenth a DEL of the key before it. */
		snprintf(keys[i], sizeof keys[i], "g%zu", i % 10 == 9 ? i - 1
								     : i);
		rq.cmd = i % 10 == 9 ? CTL_CMD_DEL : CTL_CMD_PUT;
		rq.key = (const uint8_t *)keys[i];
		rq.key_len = strlen(keys[i]);
		if (rq.cmd == CTL_CMD_PUT) {
			rq.value = (const uint8_t *)keys[i];
			rq.value_len = rq.key_len;
		}
		assert_int_equal(ctl_encode_request(&b, &rq, &err), 0);
	}
	memset(&rq, 0, sizeof rq);
	rq.cmd = CTL_CMD_GET;
	rq.key = (const uint8_t *)"g297";
	rq.key_len = 4;
	assert_int_equal(ctl_encode_request(&b, &rq, &err), 0);
	rq.key = (const uint8_t *)"g298";
	assert_int_equal(ctl_encode_request(&b, &rq, &err), 0);
	raw_init(&c, f);
	raw_send(c.fd, b.data, b.len);
	wire_buf_free(&b);
	for (i = 0; i < 300; i++) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		assert_int_equal(r.type, CTL_R_OK);
	}
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_VALUE);
	assert_int_equal(r.rec.value_len, 4);
	assert_memory_equal(r.rec.value, "g297", 4);
	assert_int_equal(raw_reply(&c, &r, &body), 0);
	assert_int_equal(r.type, CTL_R_ERROR);
	assert_int_equal(r.code, RUMOR_ENOTFOUND);
	/* 300 changes, each with its own seq. */
	assert_int_equal(node_get_status(f->node, &st), 0);
	assert_int_equal(st.local_seq - seq0, 300);
	raw_free(&c);
	free(body);
}

/* Far more than the high-water mark: the scan must pause while the
 * reader does not read, then resume where it stopped. */
static void test_scan_larger_than_the_high_water_mark_resumes(void **state)
{
	struct fixture *f = *state;
	enum { KEYS = 600, VALUE = 8192 };
	struct ctl_request rq = {.cmd = CTL_CMD_SCAN};
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char *value = malloc(VALUE), key[16], prev[16] = "";
	int i, items = 0;

	memset(value, 'v', VALUE);
	for (i = 0; i < KEYS; i++) {
		snprintf(key, sizeof(key), "s%05d", i);
		assert_int_equal(rumor_put(f->node, key, strlen(key), value,
					   VALUE), 0);
	}
	raw_init(&c, f);
	raw_request(c.fd, &rq);
	/* Let the node run without anyone reading. */
	for (i = 0; i < 200; i++)
		step_loop(f);
	for (;;) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		if (r.type == CTL_R_END)
			break;
		assert_int_equal(r.type, CTL_R_ITEM);
		assert_int_equal(r.rec.value_len, VALUE);
		snprintf(key, sizeof(key), "%.*s", (int)r.rec.key_len,
			 (const char *)r.rec.key);
		assert_true(strcmp(prev, key) < 0);
		strcpy(prev, key);
		items++;
	}
	assert_int_equal(items, KEYS);
	assert_int_equal(r.count, KEYS);
	assert_int_equal(r.truncated, 0);
	raw_free(&c);
	free(body);
	free(value);
}


/* What the node holds for its (one) client: replies encoded or queued
 * and not yet written. */
static size_t client_backlog(struct fixture *f)
{
	struct client *c = f->ctl->clients;

	return c == NULL ? 0 : io_stream_queued(c->s) + c->out.len;
}

/* A client that pipelines GETs of a large value and does not read: the
 * node answers while its backlog is under the high-water mark and holds
 * the other requests unread, then answers them all, in order, once the
 * client reads. */
static void test_pipelined_replies_wait_for_a_slow_reader(void **state)
{
	struct fixture *f = *state;
	enum { BIG = RUMOR_VALUE_MAX, GETS = 48 };
	struct ctl_request rq = {.cmd = CTL_CMD_GET,
				 .key = (const uint8_t *)"big", .key_len = 3};
	struct wire_buf b;
	struct err err;
	struct ctl_reply r;
	struct raw c;
	uint8_t *body = NULL;
	char *value = malloc(BIG);
	size_t most = 0;
	int i;

	assert_non_null(value);
	memset(value, 'g', BIG);
	assert_int_equal(rumor_put(f->node, "big", 3, value, BIG), 0);
	wire_buf_init(&b);
	for (i = 0; i < GETS; i++)
		assert_int_equal(ctl_encode_request(&b, &rq, &err), 0);
	raw_init(&c, f);
	raw_send(c.fd, b.data, b.len);
	wire_buf_free(&b);
	for (i = 0; i < 200; i++) {
		step_loop(f);
		if (client_backlog(f) > most)
			most = client_backlog(f);
	}
	/* At most one reply past the mark (48 MiB without it). */
	assert_true(most >= CONTROL_HIGH_WATER);
	assert_true(most < CONTROL_HIGH_WATER + BIG + 4096);
	for (i = 0; i < GETS; i++) {
		assert_int_equal(raw_reply(&c, &r, &body), 0);
		assert_int_equal(r.type, CTL_R_VALUE);
		assert_int_equal(r.rec.value_len, BIG);
	}
	raw_free(&c);
	free(body);
	free(value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_watch_sends_changes_with_origin_and_clock),
		T(test_watch_pauses_for_a_slow_reader_and_misses_nothing),
		T(test_watch_tells_a_slow_reader_what_was_superseded),
		T(test_watch_since_reads_history_then_live),
		T(test_garbage_gets_an_error_or_a_hangup_and_changes_nothing),
		T(test_socket_is_private_and_single),
		T(test_many_clients_at_once_each_get_their_answer),
		T(test_pipelined_requests_are_answered_in_order),
		T(test_pipelined_writes_are_each_answered_in_order),
		T(test_pipelined_replies_wait_for_a_slow_reader),
		T(test_scan_larger_than_the_high_water_mark_resumes),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
