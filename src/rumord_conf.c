/* SPDX-License-Identifier: MIT */
/*
 * rumord_conf: rumord's settings. One table names every key once, with
 * its type and the field it fills; the command line (getopt_long) and
 * the config file (`name = value` lines) both go through it.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery/hostport.h"
#include "lib/err.h"
#include "lib/prefixes.h"
#include "rumor.h"
#include "rumord_conf.h"

_Static_assert(RUMORD_MAX_REPLICATE == RUMOR_PREFIXES_MAX,
	       "rumord's --replicate bound differs from the library's");

/* Bits of rumord_conf.set: keys the command line gave. */
enum {
	SET_DATA = 1u << 0, SET_LISTEN = 1u << 1, SET_PEERS = 1u << 2,
	SET_MULTICAST = 1u << 3, SET_NETKEY = 1u << 4, SET_TRUSTED = 1u << 5,
	SET_RESOLVER = 1u << 6, SET_MODE = 1u << 7, SET_LOGLEVEL = 1u << 8,
	SET_IMIN = 1u << 9, SET_IMAX = 1u << 10, SET_CATCHUP = 1u << 11,
	SET_SUSPECT = 1u << 12, SET_GONE = 1u << 13, SET_FSYNC = 1u << 14,
	SET_MULTICAST6 = 1u << 15, SET_MULTICAST6_IF = 1u << 16,
	SET_NAMESPACE = 1u << 17, SET_REPLICATE = 1u << 18,
	SET_CONSISTENCY = 1u << 19, SET_QUORUM = 1u << 20,
	SET_STRONG_TIMEOUT = 1u << 21,
	SET_METRICS = 1u << 22,
};

enum conf_type {
	CONF_STRING,    /* a char * field, replaced */
	CONF_MULTICAST, /* the multicast group: a string, and multicast on */
	CONF_PEER,      /* appended to peers */
	CONF_NAMESPACE, /* a prefix (\xHH escapes), given once */
	CONF_REPLICATE, /* a prefix (\xHH escapes), appended to replicate */
	CONF_FLAG,      /* an int field, 0 or 1; no value means 1 */
	CONF_CHOICE,    /* an int field, one of a list of words */
	CONF_MS,        /* a uint32_t field, a duration in ms */
	CONF_COUNT,     /* a uint32_t field, a count 0..RUMORD_MAX_QUORUM */
	CONF_IGNORED,   /* accepted for scripts, no effect */
	CONF_CONFIG,    /* the config file: command line only */
	CONF_ADDR,      /* a char * field: a numeric HOST:PORT, checked */
};

struct conf_word {
	const char *name;
	int value;
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t field;                  /* offsetof(struct rumord_conf, ...) */
	unsigned set;                  /* its SET_* bit */
	const struct conf_word *words; /* CONF_FLAG, CONF_CHOICE */
	const char *expect;            /* a valid value, for messages */
};

static const struct conf_word bool_words[] = {
	{"1", 1}, {"true", 1}, {"yes", 1}, {"on", 1},
	{"0", 0}, {"false", 0}, {"no", 0}, {"off", 0}, {NULL, 0},
};
static const struct conf_word mode_words[] = {
	{"peer", RUMOR_MODE_PEER}, {"replica", RUMOR_MODE_REPLICA}, {NULL, 0},
};
static const struct conf_word level_words[] = {
	{"error", RUMOR_LOG_ERROR}, {"warn", RUMOR_LOG_WARN},
	{"warning", RUMOR_LOG_WARN}, {"info", RUMOR_LOG_INFO},
	{"debug", RUMOR_LOG_DEBUG}, {NULL, 0},
};
static const struct conf_word consistency_words[] = {
	{"gossip", RUMOR_CONSISTENCY_GOSSIP},
	{"strong", RUMOR_CONSISTENCY_STRONG}, {NULL, 0},
};
static const struct conf_word fsync_words[] = {
	{"everysec", RUMOR_FSYNC_EVERYSEC}, {"always", RUMOR_FSYNC_ALWAYS},
	{"never", RUMOR_FSYNC_NEVER}, {NULL, 0},
};

#define FIELD(m) offsetof(struct rumord_conf, m)
#define MS_EXPECT "a duration in ms (e.g. 250 or 2s)"
static const struct conf_key conf_keys[] = {
	{"data", CONF_STRING, FIELD(data), SET_DATA, NULL, NULL},
	{"listen", CONF_STRING, FIELD(listen), SET_LISTEN, NULL, NULL},
	{"peer", CONF_PEER, FIELD(peers), SET_PEERS, NULL, NULL},
	{"multicast", CONF_MULTICAST, FIELD(multicast), SET_MULTICAST, NULL,
	 NULL},
	{"no-multicast", CONF_FLAG, FIELD(no_multicast), SET_MULTICAST,
	 bool_words, "true or false"},
	{"multicast6", CONF_STRING, FIELD(multicast6), SET_MULTICAST6, NULL,
	 NULL},
	{"multicast6-interface", CONF_STRING, FIELD(multicast6_interface),
	 SET_MULTICAST6_IF, NULL, NULL},
	{"network-key", CONF_STRING, FIELD(network_key), SET_NETKEY, NULL,
	 NULL},
	{"trusted-keys", CONF_STRING, FIELD(trusted_keys), SET_TRUSTED, NULL,
	 NULL},
	{"resolver", CONF_STRING, FIELD(resolver), SET_RESOLVER, NULL, NULL},
	{"mode", CONF_CHOICE, FIELD(mode), SET_MODE, mode_words,
	 "peer or replica"},
	{"config", CONF_CONFIG, FIELD(config), 0, NULL, NULL},
	{"log-level", CONF_CHOICE, FIELD(log_level), SET_LOGLEVEL, level_words,
	 "error, warn, info or debug"},
	{"interval-min", CONF_MS, FIELD(interval_min_ms), SET_IMIN, NULL,
	 MS_EXPECT},
	{"interval-max", CONF_MS, FIELD(interval_max_ms), SET_IMAX, NULL,
	 MS_EXPECT},
	{"catchup-wait", CONF_MS, FIELD(catchup_wait_ms), SET_CATCHUP, NULL,
	 MS_EXPECT},
	{"suspect-after", CONF_MS, FIELD(suspect_after_ms), SET_SUSPECT, NULL,
	 MS_EXPECT},
	{"gone-after", CONF_MS, FIELD(gone_after_ms), SET_GONE, NULL,
	 MS_EXPECT},
	{"fsync", CONF_CHOICE, FIELD(fsync), SET_FSYNC, fsync_words,
	 "everysec, always or never"},
	{"namespace", CONF_NAMESPACE, FIELD(namespace_prefix), SET_NAMESPACE,
	 NULL, NULL},
	{"replicate", CONF_REPLICATE, FIELD(replicate), SET_REPLICATE, NULL,
	 NULL},
	{"consistency", CONF_CHOICE, FIELD(consistency), SET_CONSISTENCY,
	 consistency_words, "gossip or strong"},
	{"quorum", CONF_COUNT, FIELD(quorum), SET_QUORUM, NULL,
	 "a count of nodes, 0 (all members) to 1024"},
	{"strong-timeout", CONF_MS, FIELD(strong_timeout_ms),
	 SET_STRONG_TIMEOUT, NULL, MS_EXPECT},
	{"foreground", CONF_IGNORED, 0, 0, NULL, NULL},
	{"metrics", CONF_ADDR, FIELD(metrics), SET_METRICS, NULL,
	 "a numeric HOST:PORT (e.g. 127.0.0.1:9464 or [::1]:9464)"},
	{"config-optional", CONF_CONFIG, FIELD(config_optional), 0, NULL,
	 NULL},
};
#undef FIELD
#define N_KEYS (sizeof conf_keys / sizeof conf_keys[0])

static const char usage_text[] =
	"usage: rumord [options]\n"
	"\n"
	"Runs one rumor node in the foreground; logs go to stderr.\n"
	"\n"
	"  --data DIR             data directory (default: $RUMOR_DATA, else ./rumor-data)\n"
	"  --listen HOST:PORT     address to accept peers on (default [::]:0, else 0.0.0.0:0)\n"
	"  --peer HOST:PORT       a seed peer; repeatable\n"
	"  --multicast GROUP:PORT multicast group for discovery (default: built-in group)\n"
	"  --no-multicast         no multicast discovery (seeds only)\n"
	"  --multicast6 [GROUP]:PORT|off  IPv6 group for discovery, beside IPv4's\n"
	"                         (default [ff12::7947]:7947, link-local scope)\n"
	"  --multicast6-interface NAME  the one interface for IPv6 announcements\n"
	"                         (default: every interface up and multicast-capable)\n"
	"  --network-key FILE     the cluster's network key (default: built-in OPEN key)\n"
	"  --trusted-keys FILE    accept only the node ids listed in FILE\n"
	"  --resolver FILE.so     conflict resolver shared object\n"
	"  --mode peer|replica    a replica never originates writes (default peer)\n"
	"  --config FILE          INI-style file with the same names as these flags;\n"
	"                         flags given on the command line win; a missing\n"
	"                         FILE is an error\n"
	"  --config-optional FILE the same, but a FILE that does not exist is fine\n"
	"                         (the systemd unit's /etc/rumor/rumord.conf)\n"
	"  --log-level LEVEL      error, warn, info (default) or debug\n"
	"  --interval-min MS      fastest reconciliation interval (default 100)\n"
	"  --interval-max MS      idle reconciliation interval (default 10000)\n"
	"  --catchup-wait MS      at start, reconcile this long at most before\n"
	"                         accepting writes (default 3000; 0: do not wait)\n"
	"  --suspect-after MS     a silent member turns suspect (default 15000)\n"
	"  --gone-after MS        a silent member is gone (default 60000)\n"
	"  --fsync POLICY         everysec (default: fsync in the background once a\n"
	"                         second), always (before each write is acknowledged)\n"
	"                         or never (the OS decides); a crash of rumord alone\n"
	"                         never loses an acknowledged write\n"
	"  --namespace PREFIX     confine this node's own writes to keys under\n"
	"                         PREFIX (others are refused); once\n"
	"  --replicate PREFIX     pull, store and serve only keys under PREFIX\n"
	"                         (repeatable, at most 16; default every key);\n"
	"                         local writes outside are refused too\n"
	"                         PREFIX: bytes as typed, \\xHH for any byte, \\\\ for\n"
	"                         a backslash (e.g. 'a/', '\\x00\\xff')\n"
	"  --consistency MODE     gossip (default: a write returns once durable\n"
	"                         here) or strong (every write is a two-phase\n"
	"                         commit with a quorum of the members)\n"
	"  --quorum N             nodes, this one included, that must prepare a\n"
	"                         strong write (default 0: every member)\n"
	"  --strong-timeout MS    bound of each phase of a strong write and of\n"
	"                         the wait before an orphaned intent is resolved\n"
	"                         (default 2000)\n"
	"  --metrics HOST:PORT    serve Prometheus metrics over HTTP at\n"
	"                         http://HOST:PORT/metrics (numeric address, e.g.\n"
	"                         127.0.0.1:9464; default: off)\n"
	"  --foreground           stay in the foreground (the default; accepted for scripts)\n"
	"  --help                 this text\n"
	"  --version              the version\n"
	"\n"
	"Signals: SIGTERM and SIGINT close cleanly; SIGHUP reloads the log level,\n"
	"the seed list and the trusted keys (not --namespace, --replicate,\n"
	"--consistency, --quorum or --strong-timeout: those take a restart).\n";

void rumord_conf_init(struct rumord_conf *c)
{
	memset(c, 0, sizeof *c);
	c->mode = RUMOR_MODE_PEER;
	c->log_level = RUMOR_LOG_INFO;
	c->catchup_wait_ms = UINT32_MAX;
	c->fsync = RUMOR_FSYNC_EVERYSEC;
}

void rumord_conf_free(struct rumord_conf *c)
{
	size_t i;

	free(c->data);
	free(c->listen);
	for (i = 0; i < c->n_peers; i++)
		free(c->peers[i]);
	for (i = 0; i < c->n_replicate; i++) {
		free(c->replicate[i]);
		c->replicate[i] = NULL;
	}
	free(c->namespace_prefix);
	c->namespace_prefix = NULL;
	c->namespace_len = 0;
	c->n_replicate = 0;
	free(c->multicast);
	free(c->multicast6);
	free(c->multicast6_interface);
	free(c->network_key);
	free(c->trusted_keys);
	free(c->resolver);
	free(c->config);
	free(c->metrics);
	c->metrics = NULL;
	free(c->config_optional);
	c->config_optional = NULL;
	c->data = c->listen = c->multicast = c->network_key = NULL;
	c->multicast6 = c->multicast6_interface = NULL;
	c->trusted_keys = c->resolver = c->config = NULL;
	c->n_peers = 0;
}

/* A copy of s through the conf's allocator, or NULL. */
static char *conf_strdup(struct rumord_conf *c, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = c->alloc != NULL ? c->alloc(n, c->alloc_arg) : malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* Replaces the string *field with a copy of value. A failed copy is an
 * error, never a silent NULL: a NULL network key would mean the open
 * key. */
static int conf_set_string(struct rumord_conf *c, char **field,
			   const char *value, const char *what)
{
	char *copy = conf_strdup(c, value);

	if (copy == NULL) {
		fprintf(stderr, "rumord: out of memory copying the %s setting\n",
			what);
		return RUMORD_CONF_ENOMEM;
	}
	free(*field);
	*field = copy;
	return 0;
}

/* Unescapes a PREFIX value (lib/prefixes.h: \xHH and \\) into a copy
 * through the conf's allocator: *out and *len. RUMORD_CONF_EUSAGE for a
 * bad escape or a prefix over RUMOR_PREFIX_MAX bytes, RUMORD_CONF_ENOMEM;
 * message printed, *out untouched. */
static int conf_prefix(struct rumord_conf *c, const char *value,
		       const char *where, const char *name,
		       unsigned char **out, size_t *len)
{
	unsigned char buf[RUMOR_PREFIX_MAX];
	struct err err;
	unsigned char *copy;
	size_t n;

	err_clear(&err);
	if (prefix_unescape(value, buf, sizeof buf, &n, &err) != 0) {
		fprintf(stderr, "rumord: %s: %s: %s\n", where, name, err.msg);
		return RUMORD_CONF_EUSAGE;
	}
	if (n == 0) {
		fprintf(stderr, "rumord: %s: %s needs a value\n", where, name);
		return RUMORD_CONF_EUSAGE;
	}
	copy = c->alloc != NULL ? c->alloc(n, c->alloc_arg) : malloc(n);
	if (copy == NULL) {
		fprintf(stderr, "rumord: out of memory copying the %s setting\n",
			name);
		return RUMORD_CONF_ENOMEM;
	}
	memcpy(copy, buf, n);
	*out = copy;
	*len = n;
	return 0;
}

/* --namespace: one prefix per source (a flag over the config's is the
 * usual override; twice from one source is a mistake). */
static int conf_set_namespace(struct rumord_conf *c, const char *value,
			      const char *where, int from_config)
{
	unsigned char *p;
	size_t len;
	int rv;

	if (c->namespace_prefix != NULL &&
	    (from_config || (c->set & SET_NAMESPACE))) {
		fprintf(stderr, "rumord: %s: namespace given twice (a node "
			"has one; --replicate takes several)\n", where);
		return RUMORD_CONF_EUSAGE;
	}
	rv = conf_prefix(c, value, where, "namespace", &p, &len);
	if (rv != 0)
		return rv;
	free(c->namespace_prefix);
	c->namespace_prefix = p;
	c->namespace_len = len;
	return 0;
}

static int conf_add_replicate(struct rumord_conf *c, const char *value,
			      const char *where)
{
	int rv;

	if (c->n_replicate == RUMORD_MAX_REPLICATE) {
		fprintf(stderr, "rumord: %s: more than %d replicate prefixes\n",
			where, RUMORD_MAX_REPLICATE);
		return RUMORD_CONF_EUSAGE;
	}
	rv = conf_prefix(c, value, where, "replicate",
			 &c->replicate[c->n_replicate],
			 &c->replicate_len[c->n_replicate]);
	if (rv == 0)
		c->n_replicate++;
	return rv;
}

/* Milliseconds: a decimal number, optionally followed by ms or s. */
static int conf_parse_ms(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "s") == 0) {
		if (v > 86400ull)
			return -1;
		v *= 1000;
	} else if (*end != '\0' && strcmp(end, "ms") != 0)
		return -1;
	if (v > 86400000ull)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int conf_parse_word(const struct conf_word *words, const char *s,
			   int *out)
{
	for (; words->name != NULL; words++) {
		if (strcasecmp(s, words->name) == 0) {
			*out = words->value;
			return 0;
		}
	}
	return -1;
}

static const struct conf_key *conf_find(const char *name)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

/* Checks value for key k: 0 with the parsed number in *num (CONF_FLAG,
 * CONF_CHOICE, CONF_MS), or RUMORD_CONF_EUSAGE with a message. */
static int conf_check_value(const struct conf_key *k, const char *value,
			    const char *where, long long *num)
{
	uint32_t ms;
	int w;

	if (k->type == CONF_IGNORED)
		return 0;
	if (k->type == CONF_FLAG && (value == NULL || value[0] == '\0')) {
		*num = 1;
		return 0;
	}
	if (value == NULL || value[0] == '\0') {
		fprintf(stderr, "rumord: %s: %s needs a value\n", where, k->name);
		return RUMORD_CONF_EUSAGE;
	}
	if (k->type == CONF_FLAG || k->type == CONF_CHOICE) {
		if (conf_parse_word(k->words, value, &w) != 0)
			goto bad;
		*num = w;
	} else if (k->type == CONF_MS) {
		if (conf_parse_ms(value, &ms) != 0)
			goto bad;
		*num = ms;
	} else if (k->type == CONF_COUNT) {
		char *end;
		unsigned long long v;

		if (value[0] < '0' || value[0] > '9')
			goto bad;
		errno = 0;
		v = strtoull(value, &end, 10);
		if (errno != 0 || *end != '\0' || v > RUMORD_MAX_QUORUM)
			goto bad;
		*num = (long long)v;
	} else if (k->type == CONF_ADDR) {
		struct sockaddr_storage ss;
		struct err err;

		err_clear(&err);
		if (hostport_parse_addr(value, &ss, &err) != 0) {
			fprintf(stderr, "rumord: %s: %s takes %s: %s\n", where,
				k->name, k->expect, err.msg);
			return RUMORD_CONF_EUSAGE;
		}
	} else if (k->type == CONF_NAMESPACE || k->type == CONF_REPLICATE) {
		/* Checked here too, so that a config file's bad prefix is
		 * refused even when a flag overrides it. */
		unsigned char buf[RUMOR_PREFIX_MAX];
		struct err err;
		size_t n;

		err_clear(&err);
		if (prefix_unescape(value, buf, sizeof buf, &n, &err) != 0) {
			fprintf(stderr, "rumord: %s: %s: %s\n", where,
				k->name, err.msg);
			return RUMORD_CONF_EUSAGE;
		}
	}
	return 0;
bad:
	fprintf(stderr, "rumord: %s: %s takes %s, not '%s'\n", where, k->name,
		k->expect, value);
	return RUMORD_CONF_EUSAGE;
}

/* Applies one setting from a flag or the config file. where names the
 * source for messages; a key the command line set (c->set) is skipped
 * when it comes from the config, after its value was checked. Returns 0,
 * RUMORD_CONF_EUSAGE or RUMORD_CONF_ENOMEM (message printed). */
static int conf_set(struct rumord_conf *c, const struct conf_key *k,
		    const char *value, const char *where, int from_config)
{
	char *base = (char *)c;
	long long num = 0;
	int rv;

	rv = conf_check_value(k, value, where, &num);
	if (rv != 0)
		return rv;
	if (from_config && (c->set & k->set))
		return 0;
	if (!from_config)
		c->set |= k->set;
	switch (k->type) {
	case CONF_STRING:
	case CONF_CONFIG:
	case CONF_ADDR:
		return conf_set_string(c, (char **)(base + k->field), value,
				       k->name);
	case CONF_MULTICAST:
		rv = conf_set_string(c, &c->multicast, value, k->name);
		if (rv == 0)
			c->no_multicast = 0;
		return rv;
	case CONF_PEER:
		if (c->n_peers == RUMORD_MAX_PEERS) {
			fprintf(stderr, "rumord: %s: more than %d peers\n",
				where, RUMORD_MAX_PEERS);
			return RUMORD_CONF_EUSAGE;
		}
		rv = conf_set_string(c, &c->peers[c->n_peers], value, k->name);
		if (rv == 0)
			c->n_peers++;
		return rv;
	case CONF_NAMESPACE:
		return conf_set_namespace(c, value, where, from_config);
	case CONF_REPLICATE:
		return conf_add_replicate(c, value, where);
	case CONF_FLAG:
	case CONF_CHOICE:
		*(int *)(base + k->field) = (int)num;
		return 0;
	case CONF_MS:
	case CONF_COUNT:
		*(uint32_t *)(base + k->field) = (uint32_t)num;
		return 0;
	case CONF_IGNORED:
		return 0;
	}
	return 0;
}

static char *conf_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* One line of the config file, already trimmed and not a comment. */
static int conf_line(struct rumord_conf *c, char *s, const char *where)
{
	const struct conf_key *k;
	char *eq, *name, *value = NULL;

	if (*s == '[') {
		if (strcmp(s, "[rumord]") == 0)
			return 0;
		fprintf(stderr, "rumord: %s: unknown section %s\n", where, s);
		return RUMORD_CONF_EUSAGE;
	}
	eq = strchr(s, '=');
	name = s;
	if (eq != NULL) {
		*eq = '\0';
		name = conf_trim(s);
		value = conf_trim(eq + 1);
	}
	/* strong_timeout and strong-timeout name the same key (every
	 * key: config files spell them both ways). */
	for (char *u = name; *u != '\0'; u++)
		if (*u == '_')
			*u = '-';
	k = conf_find(name);
	if (k == NULL || k->type == CONF_CONFIG) {
		fprintf(stderr, "rumord: %s: unknown setting '%s'\n", where,
			name);
		return RUMORD_CONF_EUSAGE;
	}
	/* Only a switch may stand alone: `no-multicast`, `foreground`. */
	if (eq == NULL && k->type != CONF_FLAG && k->type != CONF_IGNORED) {
		fprintf(stderr, "rumord: %s: expected name = value\n", where);
		return RUMORD_CONF_EUSAGE;
	}
	return conf_set(c, k, value, where, 1);
}

/* The config file: `name = value` lines, `#` or `;` comments, an
 * optional [rumord] section header. */
int rumord_conf_read(struct rumord_conf *c, FILE *f, const char *path)
{
	char line[4096], where[512];
	unsigned lineno = 0;
	int rv = 0;

	while (rv == 0 && fgets(line, sizeof line, f) != NULL) {
		char *s;

		lineno++;
		snprintf(where, sizeof where, "%s:%u", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "rumord: %s: line too long\n", where);
			rv = RUMORD_CONF_EUSAGE;
			break;
		}
		s = conf_trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		rv = conf_line(c, s, where);
	}
	return rv;
}

/* The config file at path; with optional, a path that does not exist
 * (ENOENT, also for a missing directory) is taken as an empty file. Any
 * other failure to read it is an error either way. */
static int conf_load(struct rumord_conf *c, const char *path, int optional)
{
	FILE *f = fopen(path, "r");
	int rv;

	if (f == NULL && optional && errno == ENOENT)
		return 0;
	if (f == NULL) {
		fprintf(stderr, "rumord: cannot read config %s: %s\n", path,
			strerror(errno));
		return RUMORD_CONF_EUSAGE;
	}
	rv = rumord_conf_read(c, f, path);
	fclose(f);
	return rv;
}

/* getopt_long's table, made from conf_keys: key i answers 0x100 + i. */
static void conf_longopts(struct option *o)
{
	size_t i;

	for (i = 0; i < N_KEYS; i++) {
		o[i].name = conf_keys[i].name;
		o[i].has_arg = conf_keys[i].type == CONF_FLAG ||
					       conf_keys[i].type == CONF_IGNORED
				       ? no_argument
				       : required_argument;
		o[i].flag = NULL;
		o[i].val = 0x100 + (int)i;
	}
	o[i++] = (struct option){"help", no_argument, NULL, 'h'};
	o[i++] = (struct option){"version", no_argument, NULL, 'V'};
	o[i] = (struct option){NULL, 0, NULL, 0};
}

/* Whether this host can make IPv6 sockets at all. */
static int conf_have_ipv6(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* What is not given: the data dir from $RUMOR_DATA or ./rumor-data, and
 * listening on any address: [::] (IPv6 and, dual-stack, IPv4: what a
 * LAN with only IPv6 link-local addresses needs to dial us after an
 * announcement), or 0.0.0.0 on a host without IPv6. */
static int conf_defaults(struct rumord_conf *c)
{
	const char *env = getenv("RUMOR_DATA");
	int rv = 0;

	if (c->listen == NULL)
		rv = conf_set_string(c, &c->listen,
				     conf_have_ipv6() ? "[::]:0" : "0.0.0.0:0",
				     "listen");
	if (rv == 0 && c->data == NULL)
		rv = conf_set_string(c, &c->data,
				     env != NULL && env[0] ? env : "./rumor-data",
				     "data");
	return rv;
}

enum rumord_conf_result rumord_conf_parse_args(struct rumord_conf *c,
					       int argc, char **argv)
{
	struct option longopts[N_KEYS + 3];
	int ch, rv;

	conf_longopts(longopts);
	optind = 0;     /* glibc: start over (SIGHUP parses again) */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			return RUMORD_CONF_ANSWERED;
		}
		if (ch == 'V') {
			printf("rumord %s\n", rumor_library_version());
			return RUMORD_CONF_ANSWERED;
		}
		if (ch < 0x100 || ch >= 0x100 + (int)N_KEYS) {
			fprintf(stderr, "rumord: %s '%s'\n",
				ch == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			return RUMORD_CONF_EUSAGE;
		}
		rv = conf_set(c, &conf_keys[ch - 0x100], optarg,
			      "command line", 0);
		if (rv != 0)
			return rv;
	}
	if (optind < argc) {
		fprintf(stderr, "rumord: unexpected argument '%s'\n",
			argv[optind]);
		return RUMORD_CONF_EUSAGE;
	}
	if (c->config != NULL && c->config_optional != NULL) {
		fprintf(stderr, "rumord: --config and --config-optional: give "
			"one of them\n");
		return RUMORD_CONF_EUSAGE;
	}
	if (c->config != NULL || c->config_optional != NULL) {
		rv = c->config != NULL ? conf_load(c, c->config, 0)
				       : conf_load(c, c->config_optional, 1);
		if (rv != 0)
			return rv;
	}
	return conf_defaults(c);
}
