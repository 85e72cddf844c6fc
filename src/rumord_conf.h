/* SPDX-License-Identifier: MIT */
/*
 * rumord_conf: rumord's settings from the command line and the config
 * file, one table of keys for both. Kept apart from the daemon so that a
 * test can drive it, including with an allocator that fails.
 */
#ifndef RUMORD_CONF_H
#define RUMORD_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RUMORD_MAX_PEERS 256
/* --replicate prefixes: the library's bound (RUMOR_PREFIXES_MAX). */
#define RUMORD_MAX_REPLICATE 16
/* --quorum: the library's bound on participants. */
#define RUMORD_MAX_QUORUM 1024

/* What rumord_conf_parse_args tells its caller. */
enum rumord_conf_result {
	RUMORD_CONF_RUN = 0,     /* settings complete: start the node */
	RUMORD_CONF_ANSWERED = 1,/* --help or --version was printed */
	RUMORD_CONF_EUSAGE = -1, /* bad flag or config (message printed) */
	RUMORD_CONF_ENOMEM = -2, /* an allocation failed (message printed) */
};

struct rumord_conf {
	/* Strings are the conf's own (NULL: not given); rumord_conf_free
	 * frees them. */
	char *data;
	char *listen;
	char *peers[RUMORD_MAX_PEERS];
	size_t n_peers;
	char *multicast;
	int no_multicast;
	char *multicast6;          /* "[GROUP]:PORT", or "off" */
	char *multicast6_interface;
	char *network_key;
	char *trusted_keys;
	char *resolver;
	char *config;
	/* --config-optional: as config, but a file that does not exist is
	 * no error (the systemd unit's default path on a fresh install). */
	char *config_optional;
	int mode;                  /* enum rumor_mode */
	int log_level;             /* enum rumor_log_level */
	uint32_t interval_min_ms;  /* 0: the library default */
	uint32_t interval_max_ms;  /* 0: the library default */
	uint32_t catchup_wait_ms;  /* UINT32_MAX: the library default */
	uint32_t suspect_after_ms; /* 0: the library default */
	uint32_t gone_after_ms;    /* 0: the library default */
	int fsync;                 /* enum rumor_fsync */
	/* --namespace and --replicate, unescaped (\xHH, \\): the bytes
	 * the library takes. namespace_prefix NULL: not given. */
	unsigned char *namespace_prefix;
	size_t namespace_len;
	unsigned char *replicate[RUMORD_MAX_REPLICATE];
	size_t replicate_len[RUMORD_MAX_REPLICATE];
	size_t n_replicate;
	/* Strong writes: enum rumor_consistency, the quorum (0: every
	 * member) and the strong timeout (0: the library default). */
	int consistency;
	uint32_t quorum;
	uint32_t strong_timeout_ms;
	/* --metrics: a numeric "HOST:PORT" to serve Prometheus metrics on
	 * (NULL: off). */
	char *metrics;
	/* Which keys the command line set: those win over the config. */
	unsigned set;

	/* Every string copy goes through this (NULL: malloc), so that a
	 * test can make any one of them fail. What it returns is released
	 * with free(). */
	void *(*alloc)(size_t size, void *arg);
	void *alloc_arg;
};

/* Defaults (log level info, everything else the library's) and no
 * strings. Keeps nothing from before: call it on a fresh struct. */
void rumord_conf_init(struct rumord_conf *c);

/* Parses argv, then the --config file if one was given; flags win over
 * the file; fills the data dir and listen defaults (data: $RUMOR_DATA,
 * else ./rumor-data). Prints --help or --version to stdout, errors to
 * stderr. Uses getopt_long: resets optind first, so it may be called
 * again (SIGHUP). On any result c may hold strings: the caller always
 * calls rumord_conf_free. On RUMORD_CONF_ENOMEM nothing of c may be
 * used: a setting whose copy failed must never read as "not given". */
enum rumord_conf_result rumord_conf_parse_args(struct rumord_conf *c,
					       int argc, char **argv);

/* Applies the config file text read from f (path names it in messages)
 * to c, as --config does: keys the command line set (c->set) keep their
 * value, after the file's value was checked. Returns 0, or
 * RUMORD_CONF_EUSAGE or RUMORD_CONF_ENOMEM with a message on stderr
 * naming path and line. Fills no defaults. The fuzz target fuzz_conf
 * reads from memory through it (fmemopen). */
int rumord_conf_read(struct rumord_conf *c, FILE *f, const char *path);

/* Frees every string of c and sets them to NULL. */
void rumord_conf_free(struct rumord_conf *c);

#endif
