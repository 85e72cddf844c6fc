/* SPDX-License-Identifier: MIT */
/*
 * rumord: the rumor daemon, a thin shell over librumor: flags and config
 * file, logs to stderr, signals. Everything it does, an embedding program
 * can do through include/rumor.h.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "rumor.h"

#define MAX_PEERS 256

struct daemon_conf {
	char *data;
	char *listen;
	char *peers[MAX_PEERS];
	size_t n_peers;
	char *multicast;
	int no_multicast;
	char *network_key;
	char *trusted_keys;
	char *resolver;
	int mode;
	int log_level;
	uint32_t interval_min_ms, interval_max_ms, catchup_wait_ms;
	uint32_t suspect_after_ms, gone_after_ms;
	int fsync;
	char *config;
	/* Which fields the command line set: those win over the config. */
	unsigned set;
};

enum {
	SET_DATA = 1u << 0, SET_LISTEN = 1u << 1, SET_PEERS = 1u << 2,
	SET_MULTICAST = 1u << 3, SET_NETKEY = 1u << 4, SET_TRUSTED = 1u << 5,
	SET_RESOLVER = 1u << 6, SET_MODE = 1u << 7, SET_LOGLEVEL = 1u << 8,
	SET_IMIN = 1u << 9, SET_IMAX = 1u << 10, SET_CATCHUP = 1u << 11,
	SET_SUSPECT = 1u << 12, SET_GONE = 1u << 13, SET_FSYNC = 1u << 14,
};

/* Milliseconds: a decimal number, optionally followed by ms or s. */
static int parse_ms(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (strcmp(end, "s") == 0)
		v *= 1000;
	else if (*end != '\0' && strcmp(end, "ms") != 0)
		return -1;
	if (v > 86400000ull)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

struct daemon {
	int argc;
	char **argv;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	struct rumor *node;
	int log_level;
	int stopping;
};

static const char usage_text[] =
	"usage: rumord [options]\n"
	"\n"
	"Runs one rumor node in the foreground; logs go to stderr.\n"
	"\n"
	"  --data DIR             data directory (default: $RUMOR_DATA, else ./rumor-data)\n"
	"  --listen HOST:PORT     address to accept peers on (default 0.0.0.0:0, announced)\n"
	"  --peer HOST:PORT       a seed peer; repeatable\n"
	"  --multicast GROUP:PORT multicast group for discovery (default: built-in group)\n"
	"  --no-multicast         no multicast discovery (seeds only)\n"
	"  --network-key FILE     the cluster's network key (default: built-in OPEN key)\n"
	"  --trusted-keys FILE    accept only the node ids listed in FILE\n"
	"  --resolver FILE.so     conflict resolver shared object\n"
	"  --mode peer|replica    a replica never originates writes (default peer)\n"
	"  --config FILE          INI-style file with the same names as these flags;\n"
	"                         flags given on the command line win\n"
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
	"  --foreground           stay in the foreground (the default; accepted for scripts)\n"
	"  --help                 this text\n"
	"  --version              the version\n"
	"\n"
	"Signals: SIGTERM and SIGINT close cleanly; SIGHUP reloads the log level.\n";

/* ------------------------------------------------------------ logging */

static const char *level_names[] = {"error", "warn", "info", "debug"};

static void log_line(int level, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	char stamp[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %-5s %s\n", stamp, (long)(tv.tv_usec / 1000),
		level_names[level], msg);
}

static void node_log_cb(void *arg, int level, const char *msg)
{
	(void)arg;
	log_line(level, msg);
}

static void logf_(struct daemon *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void logf_(struct daemon *d, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (level > d->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	log_line(level, msg);
}

/* ------------------------------------------------------------ parsing */

static int parse_level(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	if (strcasecmp(s, "warning") == 0)
		return RUMOR_LOG_WARN;
	return -1;
}

static int parse_mode(const char *s)
{
	if (strcmp(s, "peer") == 0)
		return RUMOR_MODE_PEER;
	if (strcmp(s, "replica") == 0)
		return RUMOR_MODE_REPLICA;
	return -1;
}

static int parse_bool(const char *s)
{
	if (!strcasecmp(s, "1") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "yes") || !strcasecmp(s, "on") || s[0] == '\0')
		return 1;
	if (!strcasecmp(s, "0") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "no") || !strcasecmp(s, "off"))
		return 0;
	return -1;
}

/* Applies one setting (from a flag or the config file). where names the
 * source for messages; from_config skips what the command line set. */
static int conf_set(struct daemon_conf *c, const char *name, const char *value,
		    const char *where, int from_config)
{
#define SKIP_IF(bit) \
	if (from_config && (c->set & (bit))) \
		return 0; \
	if (!from_config) \
		c->set |= (bit);
#define NEED_VALUE \
	if (value == NULL || value[0] == '\0') { \
		fprintf(stderr, "rumord: %s: %s needs a value\n", where, name); \
		return -1; \
	}
	if (strcmp(name, "data") == 0) {
		NEED_VALUE SKIP_IF(SET_DATA)
		free(c->data);
		c->data = strdup(value);
	} else if (strcmp(name, "listen") == 0) {
		NEED_VALUE SKIP_IF(SET_LISTEN)
		free(c->listen);
		c->listen = strdup(value);
	} else if (strcmp(name, "peer") == 0) {
		NEED_VALUE SKIP_IF(SET_PEERS)
		if (c->n_peers == MAX_PEERS) {
			fprintf(stderr, "rumord: %s: more than %d peers\n",
				where, MAX_PEERS);
			return -1;
		}
		c->peers[c->n_peers++] = strdup(value);
	} else if (strcmp(name, "multicast") == 0) {
		NEED_VALUE SKIP_IF(SET_MULTICAST)
		free(c->multicast);
		c->multicast = strdup(value);
		c->no_multicast = 0;
	} else if (strcmp(name, "no-multicast") == 0) {
		int b = parse_bool(value != NULL ? value : "");
		if (b < 0) {
			fprintf(stderr, "rumord: %s: no-multicast takes true or false, not '%s'\n",
				where, value);
			return -1;
		}
		SKIP_IF(SET_MULTICAST)
		c->no_multicast = b;
	} else if (strcmp(name, "network-key") == 0) {
		NEED_VALUE SKIP_IF(SET_NETKEY)
		free(c->network_key);
		c->network_key = strdup(value);
	} else if (strcmp(name, "trusted-keys") == 0) {
		NEED_VALUE SKIP_IF(SET_TRUSTED)
		free(c->trusted_keys);
		c->trusted_keys = strdup(value);
	} else if (strcmp(name, "resolver") == 0) {
		NEED_VALUE SKIP_IF(SET_RESOLVER)
		free(c->resolver);
		c->resolver = strdup(value);
	} else if (strcmp(name, "mode") == 0) {
		int m;
		NEED_VALUE
		m = parse_mode(value);
		if (m < 0) {
			fprintf(stderr, "rumord: %s: mode is peer or replica, not '%s'\n",
				where, value);
			return -1;
		}
		SKIP_IF(SET_MODE)
		c->mode = m;
	} else if (strcmp(name, "log-level") == 0) {
		int l;
		NEED_VALUE
		l = parse_level(value);
		if (l < 0) {
			fprintf(stderr, "rumord: %s: log-level is error, warn, info or debug, not '%s'\n",
				where, value);
			return -1;
		}
		SKIP_IF(SET_LOGLEVEL)
		c->log_level = l;
	} else if (strcmp(name, "interval-min") == 0 ||
		   strcmp(name, "interval-max") == 0 ||
		   strcmp(name, "catchup-wait") == 0 ||
		   strcmp(name, "suspect-after") == 0 ||
		   strcmp(name, "gone-after") == 0) {
		uint32_t ms;
		NEED_VALUE
		if (parse_ms(value, &ms) != 0) {
			fprintf(stderr, "rumord: %s: %s takes a duration in ms (e.g. 250 or 2s), not '%s'\n",
				where, name, value);
			return -1;
		}
		if (name[0] == 'i' && name[9] == 'i') {
			SKIP_IF(SET_IMIN)
			c->interval_min_ms = ms;
		} else if (name[0] == 'i') {
			SKIP_IF(SET_IMAX)
			c->interval_max_ms = ms;
		} else if (name[0] == 'c') {
			SKIP_IF(SET_CATCHUP)
			c->catchup_wait_ms = ms;
		} else if (name[0] == 's') {
			SKIP_IF(SET_SUSPECT)
			c->suspect_after_ms = ms;
		} else {
			SKIP_IF(SET_GONE)
			c->gone_after_ms = ms;
		}
	} else if (strcmp(name, "fsync") == 0) {
		int f;
		NEED_VALUE
		f = !strcmp(value, "everysec") ? RUMOR_FSYNC_EVERYSEC
		  : !strcmp(value, "always") ? RUMOR_FSYNC_ALWAYS
		  : !strcmp(value, "never") ? RUMOR_FSYNC_NEVER : -1;
		if (f < 0) {
			fprintf(stderr, "rumord: %s: fsync is everysec, always or never, not '%s'\n",
				where, value);
			return -1;
		}
		SKIP_IF(SET_FSYNC)
		c->fsync = f;
	} else if (strcmp(name, "foreground") == 0) {
		/* Always in the foreground. */
	} else {
		fprintf(stderr, "rumord: %s: unknown setting '%s'\n", where, name);
		return -1;
	}
	return 0;
#undef SKIP_IF
#undef NEED_VALUE
}

static char *trim(char *s)
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

/* The config file: `name = value` lines, `#` or `;` comments, an
 * optional [rumord] section header. */
static int conf_load(struct daemon_conf *c, const char *path)
{
	char line[4096], where[512];
	unsigned lineno = 0;
	FILE *f = fopen(path, "r");
	int rv = 0;

	if (f == NULL) {
		fprintf(stderr, "rumord: cannot read config %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *s, *eq, *name, *value;

		lineno++;
		snprintf(where, sizeof where, "%s:%u", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			fprintf(stderr, "rumord: %s: line too long\n", where);
			rv = -1;
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			if (strcmp(s, "[rumord]") != 0) {
				fprintf(stderr, "rumord: %s: unknown section %s\n",
					where, s);
				rv = -1;
				break;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			if (strcmp(s, "no-multicast") == 0 ||
			    strcmp(s, "foreground") == 0) {
				if (conf_set(c, s, NULL, where, 1) != 0) {
					rv = -1;
					break;
				}
				continue;
			}
			fprintf(stderr, "rumord: %s: expected name = value\n", where);
			rv = -1;
			break;
		}
		*eq = '\0';
		name = trim(s);
		value = trim(eq + 1);
		if (conf_set(c, name, value, where, 1) != 0) {
			rv = -1;
			break;
		}
	}
	fclose(f);
	return rv;
}

static void conf_free(struct daemon_conf *c)
{
	size_t i;

	free(c->data);
	free(c->listen);
	for (i = 0; i < c->n_peers; i++)
		free(c->peers[i]);
	free(c->multicast);
	free(c->network_key);
	free(c->trusted_keys);
	free(c->resolver);
	free(c->config);
}

/* Returns 0 to run, 1 when --help/--version was answered, -1 on a usage
 * error (message printed). */
static int parse_args(struct daemon_conf *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"peer", required_argument, NULL, 'p'},
		{"multicast", required_argument, NULL, 'm'},
		{"no-multicast", no_argument, NULL, 'M'},
		{"network-key", required_argument, NULL, 'k'},
		{"trusted-keys", required_argument, NULL, 't'},
		{"resolver", required_argument, NULL, 'r'},
		{"mode", required_argument, NULL, 'o'},
		{"config", required_argument, NULL, 'c'},
		{"log-level", required_argument, NULL, 'L'},
		{"interval-min", required_argument, NULL, 'i'},
		{"interval-max", required_argument, NULL, 'I'},
		{"catchup-wait", required_argument, NULL, 'w'},
		{"suspect-after", required_argument, NULL, 's'},
		{"gone-after", required_argument, NULL, 'g'},
		{"fsync", required_argument, NULL, 'F'},
		{"foreground", no_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *name;
	int ch, i;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		if (ch == 'h') {
			fputs(usage_text, stdout);
			return 1;
		}
		if (ch == 'V') {
			printf("rumord %s\n", rumor_library_version());
			return 1;
		}
		if (ch == 'c') {
			free(c->config);
			c->config = strdup(optarg);
			continue;
		}
		if (ch == '?' || ch == ':') {
			fprintf(stderr, "rumord: %s '%s'\n",
				ch == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			return -1;
		}
		name = NULL;
		for (i = 0; longopts[i].name != NULL; i++)
			if (longopts[i].val == ch)
				name = longopts[i].name;
		if (conf_set(c, name, optarg, "command line", 0) != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "rumord: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (c->config != NULL && conf_load(c, c->config) != 0)
		return -1;
	if (c->listen == NULL)
		c->listen = strdup("0.0.0.0:0");
	if (c->data == NULL) {
		const char *env = getenv("RUMOR_DATA");
		c->data = strdup(env != NULL && env[0] ? env : "./rumor-data");
	}
	return 0;
}

/* ------------------------------------------------------------ signals */

static void fill_options(struct rumor_options *o, struct daemon_conf *conf);

/* SIGHUP: the command line and the config file are read again; the log
 * level, the seed list and the trusted keys take effect. A bad config
 * changes nothing and says why. */
static void reload(struct daemon *d)
{
	struct daemon_conf conf;
	struct rumor_options o;
	int rv;

	memset(&conf, 0, sizeof conf);
	conf.log_level = RUMOR_LOG_INFO;
	conf.catchup_wait_ms = UINT32_MAX;
	optind = 0;     /* glibc: start getopt over */
	rv = parse_args(&conf, d->argc, d->argv);
	if (rv != 0) {
		logf_(d, RUMOR_LOG_ERROR, "SIGHUP: configuration refused; nothing changed");
		conf_free(&conf);
		return;
	}
	rumor_options_init(&o);
	fill_options(&o, &conf);
	rv = rumor_reload(d->node, &o);
	if (rv != 0) {
		logf_(d, RUMOR_LOG_ERROR, "SIGHUP: %s; nothing changed",
		      rumor_errmsg(d->node));
	} else {
		d->log_level = conf.log_level;
		logf_(d, RUMOR_LOG_INFO,
		      "SIGHUP: reloaded (log level %s, %zu peers%s)",
		      level_names[conf.log_level], conf.n_peers,
		      conf.trusted_keys ? ", trusted keys" : "");
	}
	conf_free(&conf);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP) {
		reload(d);
		return;
	}
	if (d->stopping)
		return;
	d->stopping = 1;
	logf_(d, RUMOR_LOG_INFO, "%s: closing", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	uv_signal_stop(&d->sigterm);
	uv_signal_stop(&d->sigint);
	uv_signal_stop(&d->sighup);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	uv_close((uv_handle_t *)&d->sighup, NULL);
	rumor_close(d->node, NULL, NULL);
	d->node = NULL;
}

static void fill_options(struct rumor_options *o, struct daemon_conf *conf)
{
	o->data_dir = conf->data;
	o->mode = conf->mode;
	o->resolver_path = conf->resolver;
	o->listen = conf->listen;
	o->peers = (const char *const *)conf->peers;
	o->n_peers = conf->n_peers;
	o->multicast = conf->multicast;
	o->no_multicast = conf->no_multicast;
	o->network_key_path = conf->network_key;
	o->trusted_keys_path = conf->trusted_keys;
	if (conf->interval_min_ms)
		o->interval_min_ms = conf->interval_min_ms;
	if (conf->interval_max_ms)
		o->interval_max_ms = conf->interval_max_ms;
	if (conf->catchup_wait_ms != UINT32_MAX)
		o->catchup_wait_ms = conf->catchup_wait_ms;
	o->suspect_after_ms = conf->suspect_after_ms;
	o->gone_after_ms = conf->gone_after_ms;
	o->fsync = conf->fsync;
	o->control_socket = 1;
	o->log = node_log_cb;
	o->log_level = conf->log_level;
}

int main(int argc, char **argv)
{
	struct daemon_conf conf;
	struct rumor_options o;
	struct daemon d;
	char msg[RUMOR_ERRMSG_MAX];
	char id[RUMOR_NODE_ID_STRLEN];
	int rv;

	memset(&conf, 0, sizeof conf);
	conf.log_level = RUMOR_LOG_INFO;
	conf.catchup_wait_ms = UINT32_MAX;     /* unset: the library default */
	rv = parse_args(&conf, argc, argv);
	if (rv != 0) {
		if (rv < 0)
			fprintf(stderr, "rumord: try 'rumord --help'\n");
		conf_free(&conf);
		return rv < 0 ? 2 : 0;
	}

	/* Writes to a peer that has gone must fail with EPIPE, not end us. */
	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof d);
	d.log_level = conf.log_level;
	if (uv_loop_init(&d.loop) != 0) {
		fprintf(stderr, "rumord: cannot start the event loop\n");
		conf_free(&conf);
		return 1;
	}
	rumor_options_init(&o);
	fill_options(&o, &conf);
	o.loop = &d.loop;
	d.argc = argc;
	d.argv = argv;

	rv = rumor_open(&d.node, &o, msg, sizeof msg);
	if (rv != 0) {
		fprintf(stderr, "rumord: %s\n", msg);
		uv_loop_close(&d.loop);
		conf_free(&conf);
		return rv == RUMOR_EINVAL || rv == RUMOR_ECONFIG ? 2 : 1;
	}
	rumor_node_id(d.node, id);
	logf_(&d, RUMOR_LOG_INFO, "rumord %s ready: id %s, data %s",
	      rumor_library_version(), id, conf.data);

	uv_signal_init(&d.loop, &d.sigterm);
	uv_signal_init(&d.loop, &d.sigint);
	uv_signal_init(&d.loop, &d.sighup);
	d.sigterm.data = d.sigint.data = d.sighup.data = &d;
	uv_signal_start(&d.sigterm, on_signal, SIGTERM);
	uv_signal_start(&d.sigint, on_signal, SIGINT);
	uv_signal_start(&d.sighup, on_signal, SIGHUP);

	uv_run(&d.loop, UV_RUN_DEFAULT);
	if (d.node != NULL)
		rumor_close(d.node, NULL, NULL);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	rv = uv_loop_close(&d.loop);
	logf_(&d, RUMOR_LOG_INFO, "closed");
	conf_free(&conf);
	return rv == 0 ? 0 : 1;
}
