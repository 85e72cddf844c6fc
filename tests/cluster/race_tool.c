/* SPDX-License-Identifier: MIT */
/*
 * race_tool: races strong writes for strong_race.sh without a process
 * per write. Two nodes' control sockets, CONC connections to each; in
 * each round, connection j of both nodes sends SPUT race<k> (value a<k>
 * to the first node, b<k> to the second, k = round * CONC + j), all of
 * them before any reply is read, so the two writes of one key reach
 * their coordinators at the same moment. N keys in all.
 *
 *   race_tool SOCKET_A SOCKET_B N CONC
 *
 * Prints one line per key, "race<k> CODE_A CODE_B": 0 for OK, else the
 * RUMOR_E* code of the node's ERROR reply. Exit 0 when every write got a
 * reply, 2 on usage, 3 when a node cannot be reached or a reply is
 * missing (30 s) or malformed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "wire/wire_ctl.h"

#define CONC_MAX 256
#define REPLY_WAIT_MS 30000

static int die(int code, const char *what)
{
	fprintf(stderr, "race_tool: %s%s%s\n", what, errno ? ": " : "",
		errno ? strerror(errno) : "");
	exit(code);
}

/* A connected stream socket to the node's control socket at path. */
static int dial(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sa.sun_path) {
		errno = 0;
		die(2, "socket path too long");
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		die(3, path);
	return fd;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(3, "send");
		p += w;
		n -= (size_t)w;
	}
}

/* Reads exactly n bytes, waiting at most REPLY_WAIT_MS in all. */
static void recv_all(int fd, uint8_t *p, size_t n)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	while (n > 0) {
		ssize_t r;
		int rv = poll(&pfd, 1, REPLY_WAIT_MS);

		if (rv < 0 && errno == EINTR)
			continue;
		if (rv == 0) {
			errno = 0;
			die(3, "no reply within 30 s");
		}
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			die(3, "the node closed the connection");
		}
		p += r;
		n -= (size_t)r;
	}
}

/* Sends SPUT race<k> = <tag><k> on fd. */
static void send_put(int fd, char tag, unsigned long k)
{
	char key[32], value[32];
	struct ctl_request rq = {.cmd = CTL_CMD_SPUT};
	struct wire_buf b;
	struct err err;

	snprintf(key, sizeof key, "race%lu", k);
	snprintf(value, sizeof value, "%c%lu", tag, k);
	rq.key = (const uint8_t *)key;
	rq.key_len = strlen(key);
	rq.value = (const uint8_t *)value;
	rq.value_len = strlen(value);
	wire_buf_init(&b);
	err_clear(&err);
	if (ctl_encode_request(&b, &rq, &err) != 0) {
		fprintf(stderr, "race_tool: %s\n", err.msg);
		exit(3);
	}
	send_all(fd, b.data, b.len);
	wire_buf_free(&b);
}

/* Reads one reply on fd: 0 for OK, the code of an ERROR. */
static int read_reply(int fd)
{
	uint8_t hdr[CTL_FRAME_HEADER];
	uint8_t *body;
	struct ctl_reply r;
	struct err err;
	uint32_t len;
	int code;

	recv_all(fd, hdr, sizeof hdr);
	len = ctl_frame_length(hdr);
	body = malloc(len ? len : 1);
	if (body == NULL)
		die(3, "out of memory");
	recv_all(fd, body, len);
	err_clear(&err);
	if (ctl_decode_reply(body, len, &r, &err) != 0) {
		fprintf(stderr, "race_tool: bad reply: %s\n", err.msg);
		exit(3);
	}
	free(body);
	if (r.type == CTL_R_OK) {
		code = 0;
	} else if (r.type == CTL_R_ERROR) {
		code = r.code;
	} else {
		fprintf(stderr, "race_tool: unexpected %s reply\n",
			ctl_reply_name(r.type));
		exit(3);
	}
	ctl_reply_free(&r);
	return code;
}

int main(int argc, char **argv)
{
	static int fa[CONC_MAX], fb[CONC_MAX];
	unsigned long n, conc, k, j;

	if (argc != 5) {
		fprintf(stderr, "usage: race_tool SOCKET_A SOCKET_B N CONC\n");
		return 2;
	}
	n = strtoul(argv[3], NULL, 10);
	conc = strtoul(argv[4], NULL, 10);
	if (n == 0 || conc == 0 || conc > CONC_MAX) {
		fprintf(stderr, "race_tool: N >= 1 and 1 <= CONC <= %d\n",
			CONC_MAX);
		return 2;
	}
	for (j = 0; j < conc; j++) {
		fa[j] = dial(argv[1]);
		fb[j] = dial(argv[2]);
	}
	for (k = 0; k < n; k += conc) {
		int ca[CONC_MAX], cb[CONC_MAX];

		for (j = 0; j < conc && k + j < n; j++) {
			send_put(fa[j], 'a', k + j);
			send_put(fb[j], 'b', k + j);
		}
		for (j = 0; j < conc && k + j < n; j++) {
			ca[j] = read_reply(fa[j]);
			cb[j] = read_reply(fb[j]);
		}
		for (j = 0; j < conc && k + j < n; j++)
			printf("race%lu %d %d\n", k + j, ca[j], cb[j]);
	}
	for (j = 0; j < conc; j++) {
		close(fa[j]);
		close(fb[j]);
	}
	return fflush(stdout) == 0 ? 0 : 3;
}
