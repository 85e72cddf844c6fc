/* SPDX-License-Identifier: MIT */
/* Tests of discovery/hostport and discovery/seeds (numeric addresses on
 * 127.0.0.1 only: nothing is dialed, nothing leaves the machine). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "discovery/seeds.h"
#include "io/io_uv.h"
#include "tests/lib/testutil.h"

static void test_hostport_accepts_names_ipv4_and_bracketed_ipv6(void **state)
{
	char host[HOSTPORT_HOST_MAX];
	uint16_t port;

	(void)state;
	assert_int_equal(hostport_parse("example.org:7000", 0, host, &port,
					NULL), 0);
	assert_string_equal(host, "example.org");
	assert_int_equal(port, 7000);
	assert_int_equal(hostport_parse("192.0.2.1:1", 0, host, &port, NULL),
			 0);
	assert_string_equal(host, "192.0.2.1");
	assert_int_equal(port, 1);
	assert_int_equal(hostport_parse("[::1]:65535", 0, host, &port, NULL),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 65535);
	assert_int_equal(hostport_parse("0.0.0.0:0", 1, host, &port, NULL), 0);
	assert_int_equal(port, 0);
}

static void test_hostport_rejects_bad_forms_with_a_reason(void **state)
{
	static const struct {
		const char *in;
		const char *says;
	} bad[] = {
		{ "", "empty" },
		{ "host", "missing ':PORT'" },
		{ "host:", "port must be" },
		{ ":7000", "empty host" },
		{ "host:0", "port must be" },
		{ "host:65536", "port must be" },
		{ "host:7x", "port must be" },
		{ "host:-1", "port must be" },
		{ "::1:7000", "brackets" },
		{ "[::1]7000", "expected ':PORT'" },
		{ "[::1:7000", "missing ']'" },
		{ "[]:7000", "brackets are for IPv6" },
		{ "[host]:7000", "brackets are for IPv6" },
		{ "ho st:7000", "spaces" },
	};
	char host[HOSTPORT_HOST_MAX] = "untouched";
	uint16_t port = 42;
	struct err e;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err_clear(&e);
		assert_int_equal(hostport_parse(bad[i].in, 0, host, &port, &e),
				 RUMOR_EINVAL);
		if (strstr(e.msg, bad[i].says) == NULL)
			fail_msg("\"%s\": message \"%s\" lacks \"%s\"",
				 bad[i].in, e.msg, bad[i].says);
	}
	assert_string_equal(host, "untouched");
	assert_int_equal(port, 42);
}

struct seen {
	uv_loop_t loop;
	struct io *io;
	struct seeds *s;
	int resolved;
	size_t last_index;
	int last_family;
	uint16_t last_port;
	int closed;
};

static void on_resolved(void *arg, size_t index, const char *seed,
			const struct sockaddr *addr)
{
	struct seen *x = arg;

	(void)seed;
	x->resolved++;
	x->last_index = index;
	x->last_family = addr->sa_family;
	if (addr->sa_family == AF_INET)
		x->last_port = ntohs(((const struct sockaddr_in *)addr)->sin_port);
	else
		x->last_port =
			ntohs(((const struct sockaddr_in6 *)addr)->sin6_port);
}

static void on_closed(void *arg)
{
	((struct seen *)arg)->closed++;
}

static void run_once(void *arg)
{
	uv_run(&((struct seen *)arg)->loop, UV_RUN_NOWAIT);
}

static int resolved_at_least(void *arg, int n)
{
	return ((struct seen *)arg)->resolved >= n;
}

static int resolved_1(void *arg) { return resolved_at_least(arg, 1); }
static int resolved_2(void *arg) { return resolved_at_least(arg, 2); }
static int resolved_3(void *arg) { return resolved_at_least(arg, 3); }

static int closed(void *arg)
{
	return ((struct seen *)arg)->closed > 0;
}

static void test_seed_list_with_a_bad_entry_is_refused(void **state)
{
	const char *list[] = { "127.0.0.1:7000", "[::1:7000" };
	struct seeds_config c = { .on_resolved = on_resolved };
	struct seeds *s = NULL;
	struct err e;
	uv_loop_t loop;
	struct io *io;

	(void)state;
	uv_loop_init(&loop);
	assert_int_equal(io_uv_new(&io, &loop, NULL), 0);
	assert_int_equal(seeds_create(&s, io, list, 2, &c, &e),
			 RUMOR_EINVAL);
	assert_null(s);
	assert_non_null(strstr(e.msg, "seed 2"));
	assert_non_null(strstr(e.msg, "[::1:7000"));
	io_uv_free(io);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_seed_resolves_retries_with_backoff_and_closes(void **state)
{
	const char *list[] = { "127.0.0.1:7001", "[::1]:7002" };
	struct seeds_config c = { .on_resolved = on_resolved,
				  .backoff_min_ms = 10,
				  .backoff_max_ms = 40 };
	struct seen *x = calloc(1, sizeof *x);
	struct seeds_stats st;

	(void)state;
	assert_non_null(x);
	uv_loop_init(&x->loop);
	assert_int_equal(io_uv_new(&x->io, &x->loop, NULL), 0);
	c.arg = x;
	assert_int_equal(seeds_create(&x->s, x->io, list, 2, &c, NULL), 0);
	assert_int_equal(seeds_count(x->s), 2);
	assert_string_equal(seeds_string(x->s, 1), "[::1]:7002");
	assert_int_equal(seeds_start(x->s), 0);
	assert_true(tu_wait_for(resolved_2, run_once, x, 5000));
	assert_int_equal(x->resolved, 2);

	/* Seed 0 fails to connect: retried after the backoff, which
	 * doubles up to the cap. */
	x->resolved = 0;
	seeds_report_failure(x->s, 0);
	assert_int_equal(seeds_backoff_ms(x->s, 0), 20);
	assert_true(tu_wait_for(resolved_1, run_once, x, 5000));
	assert_int_equal(x->last_index, 0);
	assert_int_equal(x->last_family, AF_INET);
	assert_int_equal(x->last_port, 7001);
	seeds_report_failure(x->s, 0);
	assert_int_equal(seeds_backoff_ms(x->s, 0), 40);
	assert_true(tu_wait_for(resolved_2, run_once, x, 5000));
	seeds_report_failure(x->s, 0);
	assert_int_equal(seeds_backoff_ms(x->s, 0), 40);
	assert_true(tu_wait_for(resolved_3, run_once, x, 5000));
	/* Connected: the backoff starts over. */
	seeds_report_success(x->s, 0);
	assert_int_equal(seeds_backoff_ms(x->s, 0), 10);
	/* Seed 1 was never reported on and stays as it was; a report for
	 * a seed that is not dialing or connected is ignored. */
	seeds_report_failure(x->s, 1);
	assert_int_equal(seeds_backoff_ms(x->s, 1), 20);
	seeds_report_failure(x->s, 1);
	assert_int_equal(seeds_backoff_ms(x->s, 1), 20);
	seeds_stats(x->s, &st);
	assert_int_equal(st.failures, 4);
	assert_int_equal(st.dials, 5);

	seeds_close(x->s, on_closed, x);
	assert_true(tu_wait_for(closed, run_once, x, 5000));
	uv_run(&x->loop, UV_RUN_DEFAULT);
	assert_int_equal(x->closed, 1);
	io_uv_free(x->io);
	assert_int_equal(uv_loop_close(&x->loop), 0);
	free(x);
}

static void test_close_while_resolving_fires_once(void **state)
{
	const char *list[] = { "127.0.0.1:7001", "127.0.0.1:7002",
			       "localhost:7003" };
	struct seeds_config c = { .on_resolved = on_resolved };
	struct seen *x = calloc(1, sizeof *x);

	(void)state;
	assert_non_null(x);
	uv_loop_init(&x->loop);
	assert_int_equal(io_uv_new(&x->io, &x->loop, NULL), 0);
	c.arg = x;
	assert_int_equal(seeds_create(&x->s, x->io, list, 3, &c, NULL), 0);
	assert_int_equal(seeds_start(x->s), 0);
	seeds_close(x->s, on_closed, x);
	assert_int_equal(x->closed, 0);         /* from the loop only */
	uv_run(&x->loop, UV_RUN_DEFAULT);
	assert_int_equal(x->closed, 1);
	assert_int_equal(x->resolved, 0);
	io_uv_free(x->io);
	assert_int_equal(uv_loop_close(&x->loop), 0);
	free(x);
}

static void test_empty_seed_list_closes_too(void **state)
{
	struct seeds_config c = { .on_resolved = on_resolved };
	struct seen *x = calloc(1, sizeof *x);

	(void)state;
	assert_non_null(x);
	uv_loop_init(&x->loop);
	assert_int_equal(io_uv_new(&x->io, &x->loop, NULL), 0);
	c.arg = x;
	assert_int_equal(seeds_create(&x->s, x->io, NULL, 0, &c, NULL), 0);
	assert_int_equal(seeds_start(x->s), 0);
	seeds_close(x->s, on_closed, x);
	assert_int_equal(x->closed, 0);         /* from the loop only */
	uv_run(&x->loop, UV_RUN_DEFAULT);
	assert_int_equal(x->closed, 1);
	io_uv_free(x->io);
	assert_int_equal(uv_loop_close(&x->loop), 0);
	free(x);
}

static void test_parse_addr_takes_numeric_hosts_only(void **state)
{
	struct sockaddr_storage ss;
	struct err err;

	(void)state;
	assert_int_equal(hostport_parse_addr("127.0.0.1:7000", &ss, &err), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 7000);
	assert_int_equal(hostport_parse_addr("[::1]:7000", &ss, &err), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(hostport_parse_addr("0.0.0.0:0", &ss, &err), 0);
	assert_int_equal(hostport_parse_addr("localhost:7000", &ss, &err),
			 RUMOR_EINVAL);
	assert_non_null(strstr(err.msg, "localhost:7000"));
	assert_int_equal(hostport_parse_addr("127.0.0.1", &ss, &err),
			 RUMOR_EINVAL);
	assert_int_equal(hostport_parse_addr("127.0.0.1:70000", &ss, &err),
			 RUMOR_EINVAL);
	assert_int_equal(hostport_parse_addr("127.0.0.1:", &ss, &err),
			 RUMOR_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostport_accepts_names_ipv4_and_bracketed_ipv6),
		cmocka_unit_test(test_hostport_rejects_bad_forms_with_a_reason),
		cmocka_unit_test(test_parse_addr_takes_numeric_hosts_only),
		cmocka_unit_test(test_seed_list_with_a_bad_entry_is_refused),
		cmocka_unit_test(test_seed_resolves_retries_with_backoff_and_closes),
		cmocka_unit_test(test_close_while_resolving_fires_once),
		cmocka_unit_test(test_empty_seed_list_closes_too),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
