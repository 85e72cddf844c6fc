/* SPDX-License-Identifier: MIT */
/*
 * fuzz_conf: libFuzzer target for rumord's config file parser
 * (rumord_conf_read in src/rumord_conf.h). The input is a config file;
 * it is read three times:
 *   1. into fresh settings. Whatever is accepted is in range (a known
 *      mode, level and fsync policy, durations of at most a day, at most
 *      RUMORD_MAX_PEERS peers, strings non-empty, without newlines or
 *      blanks around them), and written back as `name=value` lines it
 *      reads to the very same settings.
 *   2. over settings that the command line gave in full: the file may
 *      change none of them, and it is refused only if read 1 refused it
 *      (values are checked even where the flag wins).
 *   3. with an allocator that fails at the Nth copy (N from the input):
 *      the read fails with RUMORD_CONF_ENOMEM or ends as read 1 did,
 *      and nothing leaks.
 * The parser prints its refusals on stderr: run with -close_fd_mask=2
 * (FUZZ_FLAGS in mk/rumord.am).
 *
 *   tests/fuzz/fuzz_conf -close_fd_mask=2 -max_total_time=60 work/ \
 *       tests/fuzz/corpus/conf
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rumor.h"
#include "rumord_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DAY_MS 86400000u

/* A failed property names itself before the crash report. */
#define check(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

/* Reads text (size bytes) as the config file into c. */
static int read_text(struct rumord_conf *c, const void *text, size_t size)
{
	static char iobuf[8192];
	FILE *f;
	int rv;

	if (size == 0)
		return 0;       /* fmemopen refuses an empty buffer */
	f = fmemopen((void *)text, size, "r");
	check(f != NULL);
	/* stdio's own buffer would be a fresh 8 KiB allocation a read,
	 * which ASan fills and then quarantines: 10 times slower. */
	check(setvbuf(f, iobuf, _IOFBF, sizeof iobuf) == 0);
	rv = rumord_conf_read(c, f, "fuzz.conf");
	fclose(f);
	return rv;
}

static void check_string(const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	check(n > 0 && strchr(s, '\n') == NULL);
	check(s[0] != ' ' && s[0] != '\t');
	check(s[n - 1] != ' ' && s[n - 1] != '\t' && s[n - 1] != '\r');
}

static void check_in_range(const struct rumord_conf *c)
{
	size_t i;

	check(c->mode == RUMOR_MODE_PEER || c->mode == RUMOR_MODE_REPLICA);
	check(c->log_level == RUMOR_LOG_ERROR || c->log_level == RUMOR_LOG_WARN ||
	      c->log_level == RUMOR_LOG_INFO || c->log_level == RUMOR_LOG_DEBUG);
	check(c->fsync == RUMOR_FSYNC_EVERYSEC ||
	      c->fsync == RUMOR_FSYNC_ALWAYS || c->fsync == RUMOR_FSYNC_NEVER);
	check(c->no_multicast == 0 || c->no_multicast == 1);
	check(c->interval_min_ms <= DAY_MS && c->interval_max_ms <= DAY_MS);
	check(c->suspect_after_ms <= DAY_MS && c->gone_after_ms <= DAY_MS);
	check(c->catchup_wait_ms <= DAY_MS || c->catchup_wait_ms == UINT32_MAX);
	check(c->n_peers <= RUMORD_MAX_PEERS);
	for (i = 0; i < c->n_peers; i++) {
		check(c->peers[i] != NULL);
		check_string(c->peers[i]);
	}
	check_string(c->data);
	check_string(c->listen);
	check_string(c->multicast);
	check_string(c->network_key);
	check_string(c->trusted_keys);
	check_string(c->resolver);
	check(c->config == NULL);       /* the file cannot name a file */
}

static const char *word(int v, const char *const *names, const int *values,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (values[i] == v)
			return names[i];
	check(0);
	return NULL;
}

/* c as a config file, one `name=value` line a setting; *len its size. */
static char *write_conf(const struct rumord_conf *c, size_t *len)
{
	static const char *const modes[] = {"peer", "replica"};
	static const int mode_v[] = {RUMOR_MODE_PEER, RUMOR_MODE_REPLICA};
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	static const int level_v[] = {RUMOR_LOG_ERROR, RUMOR_LOG_WARN,
				      RUMOR_LOG_INFO, RUMOR_LOG_DEBUG};
	static const char *const syncs[] = {"everysec", "always", "never"};
	static const int sync_v[] = {RUMOR_FSYNC_EVERYSEC, RUMOR_FSYNC_ALWAYS,
				     RUMOR_FSYNC_NEVER};
	char *text = NULL;
	size_t i;
	FILE *f = open_memstream(&text, len);

	check(f != NULL);
#define STR(name, field) \
	if (c->field != NULL) fprintf(f, "%s=%s\n", name, c->field)
	STR("data", data);
	STR("listen", listen);
	STR("multicast", multicast);
	STR("network-key", network_key);
	STR("trusted-keys", trusted_keys);
	STR("resolver", resolver);
#undef STR
	for (i = 0; i < c->n_peers; i++)
		fprintf(f, "peer=%s\n", c->peers[i]);
	fprintf(f, "no-multicast=%s\n", c->no_multicast ? "yes" : "no");
	fprintf(f, "mode=%s\n", word(c->mode, modes, mode_v, 2));
	fprintf(f, "log-level=%s\n", word(c->log_level, levels, level_v, 4));
	fprintf(f, "fsync=%s\n", word(c->fsync, syncs, sync_v, 3));
	fprintf(f, "interval-min=%ums\n", (unsigned)c->interval_min_ms);
	fprintf(f, "interval-max=%u\n", (unsigned)c->interval_max_ms);
	fprintf(f, "suspect-after=%u\n", (unsigned)c->suspect_after_ms);
	fprintf(f, "gone-after=%u\n", (unsigned)c->gone_after_ms);
	if (c->catchup_wait_ms != UINT32_MAX)
		fprintf(f, "catchup-wait=%u\n", (unsigned)c->catchup_wait_ms);
	check(fclose(f) == 0);
	return text;
}

static int same_string(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static int same_conf(const struct rumord_conf *a, const struct rumord_conf *b)
{
	size_t i;

	if (a->n_peers != b->n_peers)
		return 0;
	for (i = 0; i < a->n_peers; i++)
		if (!same_string(a->peers[i], b->peers[i]))
			return 0;
	return same_string(a->data, b->data) &&
	       same_string(a->listen, b->listen) &&
	       same_string(a->multicast, b->multicast) &&
	       same_string(a->network_key, b->network_key) &&
	       same_string(a->trusted_keys, b->trusted_keys) &&
	       same_string(a->resolver, b->resolver) &&
	       same_string(a->config, b->config) &&
	       a->no_multicast == b->no_multicast && a->mode == b->mode &&
	       a->log_level == b->log_level && a->fsync == b->fsync &&
	       a->interval_min_ms == b->interval_min_ms &&
	       a->interval_max_ms == b->interval_max_ms &&
	       a->catchup_wait_ms == b->catchup_wait_ms &&
	       a->suspect_after_ms == b->suspect_after_ms &&
	       a->gone_after_ms == b->gone_after_ms;
}

/* Settings as if every flag had been given on the command line. */
static void command_line_conf(struct rumord_conf *c)
{
	rumord_conf_init(c);
	c->data = strdup("/flag/data");
	c->listen = strdup("127.0.0.1:1");
	c->peers[0] = strdup("192.0.2.1:7000");
	c->n_peers = 1;
	c->multicast = strdup("239.1.2.3:4");
	c->network_key = strdup("/flag/net.key");
	c->trusted_keys = strdup("/flag/trusted");
	c->resolver = strdup("/flag/r.so");
	check(c->data && c->listen && c->peers[0] && c->multicast &&
	      c->network_key && c->trusted_keys && c->resolver);
	c->mode = RUMOR_MODE_REPLICA;
	c->log_level = RUMOR_LOG_DEBUG;
	c->fsync = RUMOR_FSYNC_NEVER;
	c->interval_min_ms = 7;
	c->interval_max_ms = 8;
	c->catchup_wait_ms = 9;
	c->suspect_after_ms = 10;
	c->gone_after_ms = 11;
	c->set = ~0u;
}

struct fail_alloc {
	size_t calls, fail_at;
};

static void *fail_alloc(size_t size, void *arg)
{
	struct fail_alloc *fa = arg;

	return fa->calls++ == fa->fail_at ? NULL : malloc(size);
}

static size_t count_alloc_calls;

static void *counting_alloc(size_t size, void *arg)
{
	(void)arg;
	count_alloc_calls++;
	return malloc(size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rumord_conf c, again, flags, before;
	struct fail_alloc fa;
	size_t len, allocs, i;
	char *text;
	int rv, rv2;

	/* 1: fresh settings, and back. */
	rumord_conf_init(&c);
	c.alloc = counting_alloc;
	count_alloc_calls = 0;
	rv = read_text(&c, data, size);
	allocs = count_alloc_calls;
	check(rv == 0 || rv == RUMORD_CONF_EUSAGE);
	if (rv == 0) {
		check_in_range(&c);
		text = write_conf(&c, &len);
		rumord_conf_init(&again);
		check(read_text(&again, text, len) == 0);
		check(same_conf(&c, &again));
		rumord_conf_free(&again);
		free(text);
	}
	rumord_conf_free(&c);

	/* 2: the command line wins. */
	command_line_conf(&flags);
	command_line_conf(&before);
	rv2 = read_text(&flags, data, size);
	check(rv2 == 0 || rv2 == RUMORD_CONF_EUSAGE);
	check(rv != 0 || rv2 == 0);
	if (rv2 == 0)
		check(same_conf(&flags, &before));
	rumord_conf_free(&flags);
	rumord_conf_free(&before);

	/* 3: a copy fails. */
	fa.calls = 0;
	fa.fail_at = 0;
	for (i = 0; i < size && i < 4; i++)
		fa.fail_at = fa.fail_at * 256 + data[size - 1 - i];
	fa.fail_at %= allocs + 1;
	rumord_conf_init(&c);
	c.alloc = fail_alloc;
	c.alloc_arg = &fa;
	rv2 = read_text(&c, data, size);
	if (fa.fail_at < allocs)
		check(rv2 == RUMORD_CONF_ENOMEM);
	else
		check(rv2 == rv);
	rumord_conf_free(&c);
	return 0;
}
