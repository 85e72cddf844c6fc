/* SPDX-License-Identifier: MIT */
/*
 * flood_tool: idle strangers for the cluster tests (idle_flood.sh). Holds
 * N TCP connections to HOST:PORT, each from a source address
 * 127.0.0.(2 + i % 250) (all of 127/8 is loopback), that never send a
 * byte; a connection the node closes is opened again at once, so that N
 * strangers keep knocking for as long as the tool runs.
 *
 *   flood_tool HOST PORT N
 *
 * Prints "connected N" once every connection was made at least once,
 * then, on SIGTERM, closes them all and prints "closed by the node K"
 * (how many times the node closed one). Only loopback: HOST must be a
 * 127.x address.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#define SOURCES 250

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

/* A nonblocking connect from 127.0.0.(2 + i % SOURCES); the descriptor
 * or -1. */
static int open_one(const struct sockaddr_in *to, int i)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	from.sin_addr.s_addr = htonl(0x7f000002u + (unsigned)(i % SOURCES));
	if (bind(fd, (struct sockaddr *)&from, sizeof from) != 0 ||
	    (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 &&
	     errno != EINPROGRESS)) {
		close(fd);
		return -1;
	}
	return fd;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct pollfd *p;
	unsigned long long closed = 0;
	unsigned char *ever;
	struct rlimit rl;
	int n, i, up = 0, announced = 0;
	char junk[256];

	if (argc != 4 || inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 ||
	    (ntohl(to.sin_addr.s_addr) >> 24) != 127 || atoi(argv[2]) <= 0 ||
	    (n = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: flood_tool 127.x.y.z PORT N\n");
		return 2;
	}
	to.sin_port = htons((unsigned short)atoi(argv[2]));
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	p = calloc((size_t)n, sizeof *p);
	ever = calloc((size_t)n, 1);
	if (p == NULL || ever == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		p[i].fd = open_one(&to, i);
		p[i].events = POLLOUT;
	}
	while (!stop) {
		if (poll(p, (nfds_t)n, 100) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (i = 0; i < n; i++) {
			short re = p[i].revents;

			if (p[i].fd < 0) {
				/* Could not even start: try again. */
				p[i].fd = open_one(&to, i);
				p[i].events = POLLOUT;
				continue;
			}
			if (re == 0)
				continue;
			if ((re & POLLOUT) && !(re & (POLLERR | POLLHUP))) {
				/* Connected: now only wait for the end. */
				p[i].events = POLLIN;
				if (!ever[i]) {
					ever[i] = 1;
					up++;
				}
				continue;
			}
			if (re & (POLLIN | POLLERR | POLLHUP)) {
				if ((re & POLLIN) && !(re & (POLLERR | POLLHUP)) &&
				    read(p[i].fd, junk, sizeof junk) > 0)
					continue;       /* (the node never speaks) */
				close(p[i].fd);
				closed++;
				p[i].fd = open_one(&to, i);
				p[i].events = POLLOUT;
			}
		}
		if (!announced && up == n) {
			printf("connected %d\n", n);
			fflush(stdout);
			announced = 1;
		}
	}
	for (i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	printf("closed by the node %llu\n", closed);
	free(p);
	free(ever);
	return 0;
}
