/* SPDX-License-Identifier: MIT */
/*
 * rumord: the rumor daemon, a thin shell over librumor: settings (flags
 * and config file, in rumord_conf.c), logs to stderr, signals. Everything
 * it does, an embedding program can do through include/rumor.h.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <uv.h>

#include "rumor.h"
#include "rumord_conf.h"
#include "rumord_metrics.h"

struct daemon {
	int argc;
	char **argv;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint, sighup;
	struct rumor *node;
	struct rumord_metrics *metrics;  /* --metrics, or NULL */
	const struct rumord_conf *conf;  /* the settings the node opened with */
	int log_level;
	int stopping;
};

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

/* The metrics endpoint's lines, at the daemon's level. */
static void metrics_log_cb(void *arg, int level, const char *msg)
{
	const struct daemon *d = arg;

	if (level <= d->log_level)
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

/* ------------------------------------------------------------ options */

/* The library's options from the daemon's settings. The strings stay
 * conf's: the library copies what it keeps during rumor_open/reload. */
static void daemon_fill_options(struct rumor_options *o,
				struct rumord_conf *conf)
{
	o->data_dir = conf->data;
	o->mode = conf->mode;
	o->resolver_path = conf->resolver;
	o->listen = conf->listen;
	o->peers = (const char *const *)conf->peers;
	o->n_peers = conf->n_peers;
	o->multicast = conf->multicast;
	o->no_multicast = conf->no_multicast;
	if (conf->multicast6 != NULL && strcmp(conf->multicast6, "off") == 0)
		o->no_multicast6 = 1;
	else
		o->multicast6 = conf->multicast6;
	o->multicast6_interface = conf->multicast6_interface;
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
	if (conf->namespace_prefix != NULL) {
		o->namespace_prefix = conf->namespace_prefix;
		o->namespace_len = conf->namespace_len;
	}
	o->replicate = (const void *const *)conf->replicate;
	o->replicate_len = conf->replicate_len;
	o->n_replicate = conf->n_replicate;
	o->consistency = conf->consistency;
	o->quorum = conf->quorum;
	o->strong_timeout_ms = conf->strong_timeout_ms;
	o->control_socket = 1;
	o->log = node_log_cb;
	o->log_level = conf->log_level;
}

/* ------------------------------------------------------------ signals */

static int same_bytes(const void *a, size_t alen, const void *b, size_t blen)
{
	return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Whether c names the namespace and replicate set the node opened with
 * (as given: the same prefixes in the same order). */
static int daemon_same_shape(const struct daemon *d,
			     const struct rumord_conf *c)
{
	const struct rumord_conf *o = d->conf;
	size_t i;

	if (!same_bytes(o->namespace_prefix, o->namespace_len,
			c->namespace_prefix, c->namespace_len) ||
	    o->n_replicate != c->n_replicate)
		return 0;
	for (i = 0; i < c->n_replicate; i++)
		if (!same_bytes(o->replicate[i], o->replicate_len[i],
				c->replicate[i], c->replicate_len[i]))
			return 0;
	return 1;
}

/* SIGHUP: the command line and the config file are read again; the log
 * level, the seed list and the trusted keys take effect. A bad config,
 * or too little memory to read it whole, changes nothing and says why. */
static void daemon_reload(struct daemon *d)
{
	struct rumord_conf conf;
	struct rumor_options o;
	int rv;

	rumord_conf_init(&conf);
	rv = rumord_conf_parse_args(&conf, d->argc, d->argv);
	if (rv != RUMORD_CONF_RUN) {
		logf_(d, RUMOR_LOG_ERROR, "SIGHUP: %s; nothing changed",
		      rv == RUMORD_CONF_ENOMEM ? "out of memory"
					       : "configuration refused");
		rumord_conf_free(&conf);
		return;
	}
	/* The shape lives in the store: changing it is a restart. */
	if (!daemon_same_shape(d, &conf))
		logf_(d, RUMOR_LOG_WARN, "SIGHUP: --namespace and --replicate "
		      "changed; they take effect only when rumord restarts");
	if (conf.consistency != d->conf->consistency ||
	    conf.quorum != d->conf->quorum ||
	    conf.strong_timeout_ms != d->conf->strong_timeout_ms)
		logf_(d, RUMOR_LOG_WARN, "SIGHUP: --consistency, --quorum or "
		      "--strong-timeout changed; they take effect only when "
		      "rumord restarts");
	if ((conf.metrics == NULL) != (d->conf->metrics == NULL) ||
	    (conf.metrics != NULL && strcmp(conf.metrics, d->conf->metrics) != 0))
		logf_(d, RUMOR_LOG_WARN, "SIGHUP: --metrics changed; it takes "
		      "effect only when rumord restarts");
	rumor_options_init(&o);
	daemon_fill_options(&o, &conf);
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
	rumord_conf_free(&conf);
}

static void daemon_on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;

	if (signum == SIGHUP) {
		daemon_reload(d);
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
	rumord_metrics_close(d->metrics);
	d->metrics = NULL;
	rumor_close(d->node, NULL, NULL);
	d->node = NULL;
}

/* Watches SIGTERM, SIGINT and SIGHUP on the loop. On failure the handles
 * set up so far are closed (the caller still runs the loop to finish). */
static int daemon_watch_signals(struct daemon *d)
{
	uv_signal_t *hs[3] = {&d->sigterm, &d->sigint, &d->sighup};
	static const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
	int i, rv = 0;

	for (i = 0; i < 3; i++) {
		rv = uv_signal_init(&d->loop, hs[i]);
		if (rv != 0)
			break;
		hs[i]->data = d;
		rv = uv_signal_start(hs[i], daemon_on_signal, signums[i]);
		if (rv != 0) {
			i++;    /* initialised: it is closed below too */
			break;
		}
	}
	if (rv == 0)
		return 0;
	while (i-- > 0)
		uv_close((uv_handle_t *)hs[i], NULL);
	fprintf(stderr, "rumord: cannot watch signals: %s\n", uv_strerror(rv));
	return -1;
}

int main(int argc, char **argv)
{
	struct rumord_conf conf;
	struct rumor_options o;
	struct daemon d;
	char msg[RUMOR_ERRMSG_MAX];
	char id[RUMOR_NODE_ID_STRLEN];
	int rv, status = 0;

	rumord_conf_init(&conf);
	rv = rumord_conf_parse_args(&conf, argc, argv);
	if (rv != RUMORD_CONF_RUN) {
		if (rv == RUMORD_CONF_EUSAGE)
			fprintf(stderr, "rumord: try 'rumord --help'\n");
		rumord_conf_free(&conf);
		return rv == RUMORD_CONF_ANSWERED ? 0
		       : rv == RUMORD_CONF_EUSAGE ? 2 : 1;
	}

	/* Writes to a peer that has gone must fail with EPIPE, not end us. */
	signal(SIGPIPE, SIG_IGN);
	memset(&d, 0, sizeof d);
	d.log_level = conf.log_level;
	if (uv_loop_init(&d.loop) != 0) {
		fprintf(stderr, "rumord: cannot start the event loop\n");
		rumord_conf_free(&conf);
		return 1;
	}
	rumor_options_init(&o);
	daemon_fill_options(&o, &conf);
	o.loop = &d.loop;
	d.argc = argc;
	d.argv = argv;
	d.conf = &conf;

	/* The metrics port first: one in use stops rumord before the node
	 * opens (it answers 503 until the node is open). */
	if (conf.metrics != NULL &&
	    rumord_metrics_start(&d.metrics, &d.loop, conf.metrics,
				 RUMORD_METRICS_TIMEOUT_S, metrics_log_cb, &d,
				 msg, sizeof msg) != 0) {
		fprintf(stderr, "rumord: %s\n", msg);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		uv_loop_close(&d.loop);
		rumord_conf_free(&conf);
		return 1;
	}
	rv = rumor_open(&d.node, &o, msg, sizeof msg);
	if (rv != 0) {
		fprintf(stderr, "rumord: %s\n", msg);
		rumord_metrics_close(d.metrics);
		uv_run(&d.loop, UV_RUN_DEFAULT);
		uv_loop_close(&d.loop);
		rumord_conf_free(&conf);
		return rv == RUMOR_EINVAL || rv == RUMOR_ECONFIG ? 2 : 1;
	}
	rumor_node_id(d.node, id);
	logf_(&d, RUMOR_LOG_INFO, "rumord %s ready: id %s, data %s",
	      rumor_library_version(), id, conf.data);
	if (d.metrics != NULL) {
		rumord_metrics_set_node(d.metrics, d.node);
		logf_(&d, RUMOR_LOG_INFO, "metrics: serving %s (port %u) at "
		      "/metrics", conf.metrics,
		      (unsigned)rumord_metrics_port(d.metrics));
	}

	if (daemon_watch_signals(&d) == 0) {
		uv_run(&d.loop, UV_RUN_DEFAULT);
	} else {
		status = 1;
	}
	rumord_metrics_close(d.metrics);
	if (d.node != NULL)
		rumor_close(d.node, NULL, NULL);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d.loop) != 0)
		status = 1;
	logf_(&d, RUMOR_LOG_INFO, "closed");
	rumord_conf_free(&conf);
	return status;
}
