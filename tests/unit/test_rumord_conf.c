/* SPDX-License-Identifier: MIT */
/* rumord's settings: flags, the config file, and failing allocations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rumor.h"
#include "rumord_conf.h"
#include "tests/lib/testutil.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

struct fixture {
	char *dir;
	char *config;      /* DIR/rumord.conf */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	f->dir = tu_tmpdir("conf");
	f->config = tu_join(f->dir, "rumord.conf");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tu_rmrf(f->dir);
	free(f->config);
	free(f->dir);
	free(f);
	return 0;
}

static void write_config(struct fixture *f, const char *text)
{
	assert_int_equal(tu_write_file(f->config, text, strlen(text), 0600), 0);
}

static void test_flags_win_over_the_config_file(void **state)
{
	struct fixture *f = *state;
	struct rumord_conf c;
	char *argv[] = {"rumord", "--config", f->config, "--mode", "peer",
			"--peer", "b:2", "--network-key", "/flag.key"};

	write_config(f, "[rumord]\n"
		     "# comment\n"
		     "data = /from/config\n"
		     "mode = replica\n"
		     "peer = a:1\n"
		     "network-key = /config.key\n"
		     "interval-min = 2s\n"
		     "gone-after = 90000ms\n"
		     "fsync = always\n"
		     "consistency = strong\n"
		     "quorum = 2\n"
		     "strong_timeout = 3s\n"
		     "log-level = debug\n"
		     "no-multicast\n"
		     "foreground\n");
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(argv), argv),
			 RUMORD_CONF_RUN);
	assert_string_equal(c.data, "/from/config");
	assert_int_equal(c.mode, RUMOR_MODE_PEER);
	assert_int_equal(c.n_peers, 1);
	assert_string_equal(c.peers[0], "b:2");
	assert_string_equal(c.network_key, "/flag.key");
	assert_int_equal(c.interval_min_ms, 2000);
	assert_int_equal(c.gone_after_ms, 90000);
	assert_int_equal(c.fsync, RUMOR_FSYNC_ALWAYS);
	assert_int_equal(c.consistency, RUMOR_CONSISTENCY_STRONG);
	assert_int_equal(c.quorum, 2);
	assert_int_equal(c.strong_timeout_ms, 3000);
	assert_int_equal(c.log_level, RUMOR_LOG_DEBUG);
	assert_int_equal(c.no_multicast, 1);
	/* Any address: dual-stack where the host has IPv6. */
	assert_true(strcmp(c.listen, "[::]:0") == 0 ||
		    strcmp(c.listen, "0.0.0.0:0") == 0);
	assert_int_equal(c.catchup_wait_ms, UINT32_MAX);
	rumord_conf_free(&c);
	assert_null(c.data);
}

static void test_bad_settings_are_usage_errors(void **state)
{
	static const char *const bad_lines[] = {
		"bogus = 1\n", "mode = leader\n", "interval-max = 5m\n",
		"catchup-wait = 86401s\n", "data =\n", "data\n",
		"config = other.conf\n", "[other]\n", "no-multicast = maybe\n",
		"consistency = eventual\n", "quorum = -1\n", "quorum = 1025\n",
		"quorum = 2x\n", "quorum =\n", "strong-timeout = soon\n",
	};
	struct fixture *f = *state;
	struct rumord_conf c;
	char *with_config[] = {"rumord", "--config", f->config};
	char *bad_flag[] = {"rumord", "--fsync", "sometimes"};
	char *bad_quorum[] = {"rumord", "--quorum", "all"};
	char *unknown[] = {"rumord", "--nope"};
	char *missing[] = {"rumord", "--data"};
	char *extra[] = {"rumord", "stray"};
	size_t i;

	for (i = 0; i < sizeof bad_lines / sizeof bad_lines[0]; i++) {
		write_config(f, bad_lines[i]);
		rumord_conf_init(&c);
		if (rumord_conf_parse_args(&c, ARGC(with_config), with_config) !=
		    RUMORD_CONF_EUSAGE)
			fail_msg("config line accepted: %s", bad_lines[i]);
		rumord_conf_free(&c);
	}
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(bad_flag), bad_flag),
			 RUMORD_CONF_EUSAGE);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(bad_quorum),
						bad_quorum),
			 RUMORD_CONF_EUSAGE);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(unknown), unknown),
			 RUMORD_CONF_EUSAGE);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(missing), missing),
			 RUMORD_CONF_EUSAGE);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(extra), extra),
			 RUMORD_CONF_EUSAGE);
	rumord_conf_free(&c);
}

/* --namespace and --replicate arrive unescaped (\xHH, \\), the
 * flags' replicate set replaces the config file's, and the config's own
 * namespace and replicate lines are read when no flag gave them. */
static void test_prefix_settings_are_unescaped(void **state)
{
	struct fixture *f = *state;
	struct rumord_conf c;
	char *flags[] = {"rumord", "--config", f->config, "--namespace",
			 "w\\\\\\x00\\xff", "--replicate", "a/",
			 "--replicate", "\\x01b"};
	char *none[] = {"rumord", "--config", f->config};

	write_config(f, "namespace = cfg/\\x7f\n"
		     "replicate = z/\n");
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(flags), flags),
			 RUMORD_CONF_RUN);
	assert_int_equal(c.namespace_len, 4);
	assert_memory_equal(c.namespace_prefix, "w\\\0\xff", 4);
	assert_int_equal(c.n_replicate, 2);
	assert_int_equal(c.replicate_len[0], 2);
	assert_memory_equal(c.replicate[0], "a/", 2);
	assert_int_equal(c.replicate_len[1], 2);
	assert_memory_equal(c.replicate[1], "\x01" "b", 2);
	rumord_conf_free(&c);
	assert_null(c.namespace_prefix);
	assert_int_equal(c.n_replicate, 0);

	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(none), none),
			 RUMORD_CONF_RUN);
	assert_int_equal(c.namespace_len, 5);
	assert_memory_equal(c.namespace_prefix, "cfg/\x7f", 5);
	assert_int_equal(c.n_replicate, 1);
	assert_memory_equal(c.replicate[0], "z/", 2);
	rumord_conf_free(&c);
}

/* Bad escapes, an empty prefix, a second namespace and a 17th replicate
 * prefix are usage errors that name the problem; 16 prefixes are fine. */
static void test_bad_prefixes_are_usage_errors(void **state)
{
	static const char *const bad[][2] = {
		{"--namespace", "a\\xZZ"}, {"--namespace", "a\\"},
		{"--replicate", "\\q"}, {"--replicate", "\\x4"},
		{"--replicate", ""}, {"--namespace", ""},
	};
	struct fixture *f = *state;
	struct rumord_conf c;
	char *twice[] = {"rumord", "--namespace", "a", "--namespace", "b"};
	char *with_config[] = {"rumord", "--config", f->config};
	char *many[2 + 2 * 17] = {"rumord"};
	char names[17][8];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *argv[] = {"rumord", (char *)bad[i][0], (char *)bad[i][1]};

		rumord_conf_init(&c);
		if (rumord_conf_parse_args(&c, ARGC(argv), argv) !=
		    RUMORD_CONF_EUSAGE)
			fail_msg("accepted %s '%s'", bad[i][0], bad[i][1]);
		rumord_conf_free(&c);
	}
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(twice), twice),
			 RUMORD_CONF_EUSAGE);
	rumord_conf_free(&c);
	write_config(f, "namespace = a/\nnamespace = b/\n");
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(with_config),
						with_config),
			 RUMORD_CONF_EUSAGE);
	rumord_conf_free(&c);
	/* A flag overrides the file's prefix, yet a bad one is refused. */
	{
		char *flag_and_file[] = {"rumord", "--namespace", "ok/",
					 "--replicate", "ok/", "--config",
					 f->config};
		static const char *const files[] = {
			"namespace = a\\xZZ\n", "replicate = \\q\n",
		};

		for (i = 0; i < 2; i++) {
			write_config(f, files[i]);
			rumord_conf_init(&c);
			assert_int_equal(rumord_conf_parse_args(&c,
					 ARGC(flag_and_file), flag_and_file),
					 RUMORD_CONF_EUSAGE);
			rumord_conf_free(&c);
		}
	}

	for (i = 0; i < 17; i++) {
		snprintf(names[i], sizeof names[i], "p%zu/", i);
		many[1 + 2 * i] = "--replicate";
		many[2 + 2 * i] = names[i];
	}
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, 1 + 2 * 16, many),
			 RUMORD_CONF_RUN);
	assert_int_equal(c.n_replicate, 16);
	rumord_conf_free(&c);
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, 1 + 2 * 17, many),
			 RUMORD_CONF_EUSAGE);
	rumord_conf_free(&c);
}

/* An allocator that fails its fail_at-th call (0 first) and counts. */
struct failing_alloc {
	int calls;
	int fail_at;
};

static void *failing_alloc(size_t size, void *arg)
{
	struct failing_alloc *a = arg;

	if (a->calls++ == a->fail_at)
		return NULL;
	return malloc(size);
}

/* The defect this guards: a failed copy of --network-key left the field
 * NULL, which reads as "no key given", so the node ran on the open key.
 * Each allocation is made to fail in turn; every run must then end in
 * RUMORD_CONF_ENOMEM, and the one run where none fails must hold every
 * setting. */
static void test_every_failed_allocation_fails_closed(void **state)
{
	struct fixture *f = *state;
	struct failing_alloc a;
	struct rumord_conf c;
	char *argv[] = {"rumord", "--network-key", "/net.key", "--peer", "a:1",
			"--config", f->config, "--trusted-keys", "/trusted",
			"--multicast", "239.1.2.3:9999", "--namespace", "n/",
			"--replicate", "n/"};
	int fail_at, rv, failures = 0;

	write_config(f, "resolver = /r.so\npeer = b:2\nlisten = 127.0.0.1:0\n");
	for (fail_at = 0; fail_at < 100; fail_at++) {
		rumord_conf_init(&c);
		a.calls = 0;
		a.fail_at = fail_at;
		c.alloc = failing_alloc;
		c.alloc_arg = &a;
		rv = rumord_conf_parse_args(&c, ARGC(argv), argv);
		if (a.calls <= fail_at) {
			/* Nothing failed: the run is complete. */
			assert_int_equal(rv, RUMORD_CONF_RUN);
			assert_string_equal(c.network_key, "/net.key");
			assert_string_equal(c.trusted_keys, "/trusted");
			assert_string_equal(c.multicast, "239.1.2.3:9999");
			assert_string_equal(c.resolver, "/r.so");
			assert_string_equal(c.listen, "127.0.0.1:0");
			assert_non_null(c.data);
			assert_int_equal(c.n_peers, 1);
			assert_int_equal(c.namespace_len, 2);
			assert_int_equal(c.n_replicate, 1);
			rumord_conf_free(&c);
			break;
		}
		if (rv != RUMORD_CONF_ENOMEM)
			fail_msg("allocation %d failed, yet the result was %d",
				 fail_at, rv);
		failures++;
		rumord_conf_free(&c);
	}
	/* network-key, peer, config, trusted-keys, multicast, namespace,
	 * replicate, resolver, listen, data: one copy each. */
	assert_int_equal(failures, 10);
}

static void test_parsing_twice_starts_over(void **state)
{
	struct rumord_conf c;
	char *first[] = {"rumord", "--data", "/one", "--peer", "a:1"};
	char *second[] = {"rumord", "--data", "/two"};

	(void)state;
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(first), first),
			 RUMORD_CONF_RUN);
	rumord_conf_free(&c);
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(second), second),
			 RUMORD_CONF_RUN);
	assert_string_equal(c.data, "/two");
	assert_int_equal(c.n_peers, 0);
	rumord_conf_free(&c);
}

/* --metrics and `metrics =`: a numeric HOST:PORT (IPv6 in brackets),
 * off when not given; anything else is a usage error from either
 * source, even when a flag overrides the file. */
static void test_metrics_setting_is_a_numeric_host_port(void **state)
{
	static const char *const bad[] = {
		"localhost:9464", "127.0.0.1", "127.0.0.1:65536", "::1:9464",
		"127.0.0.1:x", "[::1]", "1.2.3:9464",
	};
	struct fixture *f = *state;
	struct rumord_conf c;
	char *with_config[] = {"rumord", "--config", f->config};
	char *flag[] = {"rumord", "--config", f->config, "--metrics",
			"[::1]:9100"};
	char *none[] = {"rumord"};
	char line[128];
	size_t i;

	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(none), none),
			 RUMORD_CONF_RUN);
	assert_null(c.metrics);
	rumord_conf_free(&c);

	write_config(f, "metrics = 127.0.0.1:9464\n");
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(with_config),
						with_config),
			 RUMORD_CONF_RUN);
	assert_string_equal(c.metrics, "127.0.0.1:9464");
	rumord_conf_free(&c);
	assert_null(c.metrics);

	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(flag), flag),
			 RUMORD_CONF_RUN);
	assert_string_equal(c.metrics, "[::1]:9100");
	rumord_conf_free(&c);

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *bad_flag[] = {"rumord", "--metrics", (char *)bad[i]};

		rumord_conf_init(&c);
		if (rumord_conf_parse_args(&c, ARGC(bad_flag), bad_flag) !=
		    RUMORD_CONF_EUSAGE)
			fail_msg("--metrics %s accepted", bad[i]);
		rumord_conf_free(&c);
		snprintf(line, sizeof line, "metrics = %s\n", bad[i]);
		write_config(f, line);
		rumord_conf_init(&c);
		if (rumord_conf_parse_args(&c, ARGC(flag), flag) !=
		    RUMORD_CONF_EUSAGE)
			fail_msg("config metrics = %s accepted", bad[i]);
		rumord_conf_free(&c);
	}
}

/* The systemd unit names /etc/rumor/rumord.conf with --config-optional:
 * on a fresh install the file does not exist and the node starts with
 * the defaults. A file named with --config must exist (a typo must not
 * silently run a node with other settings), and --config-optional still
 * reads a file that exists, and refuses one it cannot read or parse. */
static void test_a_missing_optional_config_is_fine_a_named_one_is_not(void **state)
{
	struct fixture *f = *state;
	struct rumord_conf c;
	char *optional[] = {"rumord", "--config-optional", f->config};
	char *named[] = {"rumord", "--config", f->config};
	char *both[] = {"rumord", "--config", f->config, "--config-optional",
			f->config};

	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(optional), optional),
			 RUMORD_CONF_RUN);
	assert_null(c.network_key);
	rumord_conf_free(&c);
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(named), named),
			 RUMORD_CONF_EUSAGE);
	rumord_conf_free(&c);

	write_config(f, "network-key = /etc/rumor/net.key\n");
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(optional), optional),
			 RUMORD_CONF_RUN);
	assert_string_equal(c.network_key, "/etc/rumor/net.key");
	rumord_conf_free(&c);
	write_config(f, "no-such-setting = 1\n");
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(optional), optional),
			 RUMORD_CONF_EUSAGE);
	rumord_conf_free(&c);
	rumord_conf_init(&c);
	assert_int_equal(rumord_conf_parse_args(&c, ARGC(both), both),
			 RUMORD_CONF_EUSAGE);
	rumord_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_flags_win_over_the_config_file),
		T(test_bad_settings_are_usage_errors),
		T(test_every_failed_allocation_fails_closed),
		T(test_prefix_settings_are_unescaped),
		T(test_bad_prefixes_are_usage_errors),
		T(test_metrics_setting_is_a_numeric_host_port),
		T(test_a_missing_optional_config_is_fine_a_named_one_is_not),
#undef T
		cmocka_unit_test(test_parsing_twice_starts_over),
	};

	return cmocka_run_group_tests_name("rumord_conf", tests, NULL, NULL);
}
