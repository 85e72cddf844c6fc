/* SPDX-License-Identifier: MIT */
/*
 * announce_tool: sends hostile multicast announcements for
 * tests/cluster/announcements.sh. Runs only in a network namespace that
 * holds nothing but lo (it checks, and refuses otherwise), sends with TTL
 * 0 through 127.0.0.1, and prints the fake node ids it used, one
 * "id ID" line each, so that the test can check none of them turns alive.
 *
 *   announce_tool [--group G:P] garbage    random and broken packets
 *   announce_tool [--group G:P] foreign    tag and MAC from a wrong key
 *   announce_tool [--group G:P] forged     our cluster's tag, wrong MAC
 *   announce_tool [--group G:P] fake       valid (default key), fake id,
 *                                          a port where nothing listens
 *   announce_tool [--group G:P] replay     captures a real announcement
 *                                          and sends it again, twice
 *   announce_tool [--group G:P] [--watch S] [--split T] unicast N
 *        N valid announcements with random ids sent to 127.0.0.1 at the
 *        group's port (unicast, not to the group), over N/100 s, each
 *        naming a TCP port where this tool listens; it accepts and holds
 *        (never answers) every connection for S seconds (default 10)
 *        after the first send, then prints "connections C" (accepted in
 *        all), "max_concurrent M" (open at once) and, with --split,
 *        "max_concurrent_before T M" (open at once in the first T s)
 *   announce_tool [--group G:P] [--watch S] [--split T] flood N
 *        the same, sent to the group
 *   --from 127.X.Y.Z: send (and listen) from this address of lo, not
 *        127.0.0.1: a source of its own, as another host would be
 *   announce_tool [--group G:P] [--rate R] [--sources K] future N
 *        N valid announcements with random ids, dated 29 s ahead, to the
 *        group (each naming a port where nothing listens), R a second
 *        (default: at once), in turn from K addresses (--from and the
 *        K - 1 after it)
 *
 * Exit 0 when everything was sent, 1 on a failure (message on stderr),
 * 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "crypto/identity.h"
#include "discovery/announce.h"
#include "discovery/multicast.h"

#define CAPTURE_TIMEOUT_S 15
#define MAX_HELD 1024
#define FUTURE_MS 29000u

struct tool {
	struct sockaddr_in group;
	int fd;
	int watch_s;
	int split_s;                    /* 0: no split */
	struct in_addr from;            /* source address (on lo) */
	int rate;                       /* future: per second; 0: at once */
	int sources;                    /* future: from this many addresses */
};

static void die(const char *what)
{
	fprintf(stderr, "announce_tool: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Refuses to run where a packet could leave the machine: every interface
 * with an address must be lo. */
static void require_only_lo(void)
{
	struct ifaddrs *ifs, *i;

	if (getifaddrs(&ifs) != 0)
		die("getifaddrs");
	for (i = ifs; i != NULL; i = i->ifa_next) {
		if (strcmp(i->ifa_name, "lo") != 0) {
			fprintf(stderr, "announce_tool: interface %s exists: "
				"run me only in a namespace with lo alone\n",
				i->ifa_name);
			freeifaddrs(ifs);
			exit(1);
		}
	}
	freeifaddrs(ifs);
}

static int parse_group(const char *s, struct sockaddr_in *out)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof host)
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return -1;
	memset(out, 0, sizeof *out);
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return -1;
	if (!IN_MULTICAST(ntohl(out->sin_addr.s_addr)))
		return -1;
	return 0;
}

/* A UDP socket that sends to the group through lo, TTL 0. */
static void open_sender(struct tool *t)
{
	struct in_addr lo;
	unsigned char ttl = 0, loop = 1;

	struct sockaddr_in src;

	t->fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (t->fd < 0)
		die("socket");
	memset(&src, 0, sizeof src);
	src.sin_family = AF_INET;
	src.sin_addr = t->from;
	if (bind(t->fd, (struct sockaddr *)&src, sizeof src) != 0)
		die("bind the source address");
	lo.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(t->fd, IPPROTO_IP, IP_MULTICAST_IF, &lo, sizeof lo) != 0)
		die("IP_MULTICAST_IF");
	if (setsockopt(t->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0)
		die("IP_MULTICAST_TTL");
	if (setsockopt(t->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0)
		die("IP_MULTICAST_LOOP");
}

static void send_packet(struct tool *t, const uint8_t *buf, size_t len)
{
	if (sendto(t->fd, buf, len, 0, (const struct sockaddr *)&t->group,
		   sizeof t->group) != (ssize_t)len)
		die("sendto");
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void print_id(const uint8_t id[static ANNOUNCE_ID_BYTES])
{
	char s[IDENTITY_ID_STRLEN];

	identity_id_string(id, s);
	printf("id %s\n", s);
}

/* A fresh announcement for a random node id. */
static void fake_announce(struct announce *a, uint16_t port)
{
	memset(a, 0, sizeof *a);
	randombytes_buf(a->node_id, sizeof a->node_id);
	a->port = port;
	a->timestamp_ms = wall_ms();
	randombytes_buf(a->nonce, sizeof a->nonce);
}

/* A TCP port on 127.0.0.1 where nothing listens: bound, then closed. */
static uint16_t dead_port(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		die("bind a scratch port");
	close(fd);
	return ntohs(sin.sin_port);
}

static void default_keys(struct announce_keys *k)
{
	announce_keys_derive(k, identity_default_network_key);
}

static void wrong_keys(struct announce_keys *k)
{
	uint8_t netkey[ANNOUNCE_NETKEY_BYTES];

	randombytes_buf(netkey, sizeof netkey);
	announce_keys_derive(k, netkey);
	sodium_memzero(netkey, sizeof netkey);
}

/* Random bytes of many lengths, and near-misses of a valid packet: bad
 * magic, bad version, the old version, reserved flags and bytes,
 * truncated, one bit of the seal's tag or of the sealed part flipped. */
static void cmd_garbage(struct tool *t)
{
	uint8_t buf[512], good[ANNOUNCE_BYTES];
	static const size_t lengths[] = {0, 1, 3, 4, 5, 50, 97, 98, 99,
					 200, 512};
	struct announce_keys k;
	struct announce a;
	size_t i;

	for (i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		randombytes_buf(buf, lengths[i]);
		send_packet(t, buf, lengths[i]);
	}
	/* Random bytes behind a correct magic and version. */
	randombytes_buf(buf, ANNOUNCE_BYTES);
	memcpy(buf, ANNOUNCE_MAGIC, 4);
	buf[4] = ANNOUNCE_VERSION;
	send_packet(t, buf, ANNOUNCE_BYTES);

	default_keys(&k);
	fake_announce(&a, dead_port());
	announce_encode(&k, &a, good);
	print_id(a.node_id);
	memcpy(buf, good, ANNOUNCE_BYTES);
	buf[0] ^= 0x01;                         /* magic */
	send_packet(t, buf, ANNOUNCE_BYTES);
	memcpy(buf, good, ANNOUNCE_BYTES);
	buf[4] = ANNOUNCE_VERSION + 1;          /* version */
	send_packet(t, buf, ANNOUNCE_BYTES);
	memcpy(buf, good, ANNOUNCE_BYTES);
	buf[4] = ANNOUNCE_VERSION_OLD;          /* the old format */
	send_packet(t, buf, ANNOUNCE_BYTES);
	memcpy(buf, good, ANNOUNCE_BYTES);
	buf[5] = 0x80;                          /* reserved flags */
	send_packet(t, buf, ANNOUNCE_BYTES);
	memcpy(buf, good, ANNOUNCE_BYTES);
	buf[7] = 1;                             /* reserved bytes */
	send_packet(t, buf, ANNOUNCE_BYTES);
	send_packet(t, good, ANNOUNCE_BYTES - 1);       /* truncated */
	memcpy(buf, good, ANNOUNCE_BYTES);
	buf[ANNOUNCE_BYTES - 1] ^= 0x01;        /* the seal's tag */
	send_packet(t, buf, ANNOUNCE_BYTES);
	memcpy(buf, good, ANNOUNCE_BYTES);
	buf[50] ^= 0x01;                        /* the sealed node id */
	send_packet(t, buf, ANNOUNCE_BYTES);
	announce_keys_wipe(&k);
}

/* Everything derived from another network key: another cluster. */
static void cmd_foreign(struct tool *t)
{
	uint8_t buf[ANNOUNCE_BYTES];
	struct announce_keys k;
	struct announce a;

	wrong_keys(&k);
	fake_announce(&a, dead_port());
	announce_encode(&k, &a, buf);
	print_id(a.node_id);
	send_packet(t, buf, sizeof buf);
	announce_keys_wipe(&k);
}

/* Our cluster's (public) tag, but sealed with a wrong key: what an
 * outsider who read the tag off the wire can make. */
static void cmd_forged(struct tool *t)
{
	uint8_t buf[ANNOUNCE_BYTES];
	struct announce_keys k, wrong;
	struct announce a;

	default_keys(&k);
	wrong_keys(&wrong);
	memcpy(wrong.tag, k.tag, sizeof wrong.tag);
	fake_announce(&a, dead_port());
	announce_encode(&wrong, &a, buf);
	print_id(a.node_id);
	send_packet(t, buf, sizeof buf);
	announce_keys_wipe(&k);
	announce_keys_wipe(&wrong);
}

/* A valid announcement (the built-in key is public) for a node that does
 * not exist, at a port where nothing listens: accepted as an
 * announcement, but no handshake can follow. Sent a few times, each
 * fresh, as a real node would. */
static void cmd_fake(struct tool *t)
{
	uint8_t buf[ANNOUNCE_BYTES];
	struct announce_keys k;
	struct announce a;
	int i;

	default_keys(&k);
	fake_announce(&a, dead_port());
	print_id(a.node_id);
	for (i = 0; i < 3; i++) {
		a.timestamp_ms = wall_ms() + (uint64_t)i;
		randombytes_buf(a.nonce, sizeof a.nonce);
		announce_encode(&k, &a, buf);
		send_packet(t, buf, sizeof buf);
	}
	announce_keys_wipe(&k);
}

/* Joins the group, waits for a real announcement of our cluster, and
 * sends it back unchanged, twice. Prints the captured node's id. */
static void cmd_replay(struct tool *t)
{
	uint8_t buf[512];
	struct announce_keys k;
	struct announce a;
	struct sockaddr_in bind_addr;
	struct ip_mreq mreq;
	struct timeval tv = {CAPTURE_TIMEOUT_S, 0};
	ssize_t n;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket");
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
		die("SO_REUSEADDR");
	memset(&bind_addr, 0, sizeof bind_addr);
	bind_addr.sin_family = AF_INET;
	bind_addr.sin_port = t->group.sin_port;
	bind_addr.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&bind_addr, sizeof bind_addr) != 0)
		die("bind the group's port");
	mreq.imr_multiaddr = t->group.sin_addr;
	mreq.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
	if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) != 0)
		die("join the group");
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
		die("SO_RCVTIMEO");

	default_keys(&k);
	for (;;) {
		n = recv(fd, buf, sizeof buf, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				fprintf(stderr, "announce_tool: no announcement "
					"heard in %d s\n", CAPTURE_TIMEOUT_S);
				exit(1);
			}
			if (errno == EINTR)
				continue;
			die("recv");
		}
		if (announce_decode(&k, buf, (size_t)n, &a) == ANNOUNCE_OK)
			break;
	}
	announce_keys_wipe(&k);
	close(fd);
	print_id(a.node_id);
	send_packet(t, buf, ANNOUNCE_BYTES);
	send_packet(t, buf, ANNOUNCE_BYTES);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A TCP listener on the source address (where announcements make nodes
 * dial); its port in *port. */
static int open_listener(const struct tool *t, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		die("socket");
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr = t->from;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(fd, 1024) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0)
		die("listen");
	*port = ntohs(sin.sin_port);
	return fd;
}

/* What the watch saw. */
struct held {
	struct pollfd fds[MAX_HELD + 1];        /* [0]: the listener */
	size_t n;                               /* fds in use, listener too */
	unsigned accepted, max_open, max_open_split;
};

/* Accepts what waits, and drops the connections the dialer closed (it
 * gives up at its handshake deadline). */
static void held_poll(struct held *h, int timeout_ms, int before_split)
{
	char junk[256];

	if (poll(h->fds, h->n, timeout_ms) < 0 && errno != EINTR)
		die("poll");
	for (size_t i = h->n; i-- > 1;) {
		if (h->fds[i].revents == 0)
			continue;
		if (read(h->fds[i].fd, junk, sizeof junk) > 0)
			continue;       /* its handshake: left unanswered */
		close(h->fds[i].fd);
		h->fds[i] = h->fds[--h->n];
	}
	if (h->fds[0].revents & POLLIN) {
		int c;

		while (h->n <= MAX_HELD &&
		       (c = accept(h->fds[0].fd, NULL, NULL)) >= 0) {
			h->fds[h->n].fd = c;
			h->fds[h->n].events = POLLIN;
			h->fds[h->n].revents = 0;
			h->n++;
			h->accepted++;
		}
	}
	if (h->n - 1 > h->max_open)
		h->max_open = (unsigned)(h->n - 1);
	if (before_split && h->n - 1 > h->max_open_split)
		h->max_open_split = (unsigned)(h->n - 1);
}

/* unicast and flood: n valid announcements with random ids, 100 a
 * second, to where, each naming our listener's port; then the report. */
static void cmd_dials(struct tool *t, const struct sockaddr_in *where,
		      unsigned n)
{
	static struct held h;
	uint8_t buf[ANNOUNCE_BYTES];
	struct announce_keys k;
	struct announce a;
	uint16_t port;
	uint64_t t0 = mono_ms(), now;
	unsigned sent = 0;

	h.fds[0].fd = open_listener(t, &port);
	h.fds[0].events = POLLIN;
	h.n = 1;
	default_keys(&k);
	while ((now = mono_ms()) - t0 < (uint64_t)t->watch_s * 1000u) {
		while (sent < n && sent * 10u <= now - t0) {
			fake_announce(&a, port);
			announce_encode(&k, &a, buf);
			if (sendto(t->fd, buf, sizeof buf, 0,
				   (const struct sockaddr *)where,
				   sizeof *where) != (ssize_t)sizeof buf)
				die("sendto");
			sent++;
		}
		held_poll(&h, 10,
			  t->split_s > 0 &&
				  now - t0 < (uint64_t)t->split_s * 1000u);
	}
	announce_keys_wipe(&k);
	printf("sent %u\n", sent);
	printf("connections %u\n", h.accepted);
	printf("max_concurrent %u\n", h.max_open);
	if (t->split_s > 0)
		printf("max_concurrent_before %d %u\n", t->split_s,
		       h.max_open_split);
}

/* N valid announcements with random ids dated FUTURE_MS ahead, at
 * t->rate a second (0: at once), in turn from t->sources addresses
 * (from, from + 1, ...), so that no one source's budget stops them. */
static void cmd_future(struct tool *t, unsigned n)
{
	uint8_t buf[ANNOUNCE_BYTES];
	struct announce_keys k;
	struct announce a;
	uint16_t port = dead_port();
	uint64_t t0 = mono_ms();
	int fds[16];
	int nfd = t->sources > 1 ? t->sources : 1;

	if (nfd > 16)
		nfd = 16;
	fds[0] = t->fd;
	for (int i = 1; i < nfd; i++) {
		struct tool other = *t;

		other.from.s_addr = htonl(ntohl(t->from.s_addr) + (uint32_t)i);
		open_sender(&other);
		fds[i] = other.fd;
	}
	default_keys(&k);
	for (unsigned i = 0; i < n; i++) {
		while (t->rate > 0 &&
		       (mono_ms() - t0) * (uint64_t)t->rate < (uint64_t)i * 1000u)
			poll(NULL, 0, 5);
		fake_announce(&a, port);
		a.timestamp_ms += FUTURE_MS;
		announce_encode(&k, &a, buf);
		t->fd = fds[i % (unsigned)nfd];
		send_packet(t, buf, sizeof buf);
	}
	t->fd = fds[0];
	for (int i = 1; i < nfd; i++)
		close(fds[i]);
	announce_keys_wipe(&k);
	printf("sent %u\n", n);
}

static int usage(void)
{
	fprintf(stderr, "usage: announce_tool [--group G:P] [--from 127.X.Y.Z] "
		"[--watch S] [--split T] garbage|foreign|forged|fake|replay|"
		"unicast N|flood N|future N\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct tool t;
	const char *group = MULTICAST_DEFAULT;
	const char *cmd;
	unsigned count = 0;
	int i = 1;

	memset(&t, 0, sizeof t);
	t.watch_s = 10;
	t.from.s_addr = htonl(INADDR_LOOPBACK);
	while (i + 1 < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--group") == 0)
			group = argv[i + 1];
		else if (strcmp(argv[i], "--watch") == 0)
			t.watch_s = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--split") == 0)
			t.split_s = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--rate") == 0)
			t.rate = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--sources") == 0)
			t.sources = atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--from") == 0) {
			if (inet_pton(AF_INET, argv[i + 1], &t.from) != 1 ||
			    (ntohl(t.from.s_addr) >> 24) != 127)
				return usage();
		}
		else
			return usage();
		i += 2;
	}
	if (i >= argc)
		return usage();
	cmd = argv[i];
	if (strcmp(cmd, "unicast") == 0 || strcmp(cmd, "flood") == 0 ||
	    strcmp(cmd, "future") == 0) {
		if (argc != i + 2 || atoi(argv[i + 1]) <= 0)
			return usage();
		count = (unsigned)atoi(argv[i + 1]);
	} else if (argc != i + 1) {
		return usage();
	}
	if (parse_group(group, &t.group) != 0) {
		fprintf(stderr, "announce_tool: bad group '%s' (want an IPv4 "
			"multicast GROUP:PORT)\n", group);
		return 2;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "announce_tool: sodium_init failed\n");
		return 1;
	}
	require_only_lo();
	open_sender(&t);
	if (strcmp(cmd, "garbage") == 0)
		cmd_garbage(&t);
	else if (strcmp(cmd, "foreign") == 0)
		cmd_foreign(&t);
	else if (strcmp(cmd, "forged") == 0)
		cmd_forged(&t);
	else if (strcmp(cmd, "fake") == 0)
		cmd_fake(&t);
	else if (strcmp(cmd, "replay") == 0)
		cmd_replay(&t);
	else if (strcmp(cmd, "flood") == 0)
		cmd_dials(&t, &t.group, count);
	else if (strcmp(cmd, "future") == 0)
		cmd_future(&t, count);
	else if (strcmp(cmd, "unicast") == 0) {
		struct sockaddr_in to = t.group;

		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cmd_dials(&t, &to, count);
	} else
		return usage();
	close(t.fd);
	return fflush(stdout) == 0 ? 0 : 1;
}
