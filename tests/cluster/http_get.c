/* SPDX-License-Identifier: MIT */
/*
 * http_get: GET http://127.0.0.1:PORT/PATH with plain sockets and print
 * the body on stdout (so that the cluster tests need no curl). Exit 0
 * on a 200, 1 on another status (printed on stderr), 2 on a usage or
 * connection error. Reads at most 16 MiB, waits at most 10 s.
 *   http_get PORT PATH
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ANSWER (16u << 20)

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char req[512], *buf, *body;
	size_t len = 0;
	int s, n, port;

	if (argc != 3 || (port = atoi(argv[1])) <= 0 || port > 65535) {
		fprintf(stderr, "usage: http_get PORT PATH\n");
		return 2;
	}
	buf = malloc(MAX_ANSWER + 1);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (buf == NULL || s < 0)
		return 2;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "http_get: connect: %s\n", strerror(errno));
		return 2;
	}
	n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		     "Connection: close\r\n\r\n", argv[2]);
	if (n < 0 || (size_t)n >= sizeof req ||
	    send(s, req, (size_t)n, MSG_NOSIGNAL) != n) {
		fprintf(stderr, "http_get: cannot send the request\n");
		return 2;
	}
	for (;;) {
		struct pollfd pfd = {.fd = s, .events = POLLIN};
		ssize_t got;

		if (poll(&pfd, 1, 10000) <= 0) {
			fprintf(stderr, "http_get: no answer within 10 s\n");
			return 2;
		}
		got = recv(s, buf + len, MAX_ANSWER - len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		len += (size_t)got;
		if (len == MAX_ANSWER) {
			fprintf(stderr, "http_get: answer over 16 MiB\n");
			return 2;
		}
	}
	close(s);
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.1 ", 9) != 0 || body == NULL) {
		fprintf(stderr, "http_get: not an HTTP answer\n");
		return 2;
	}
	body += 4;
	if (atoi(buf + 9) != 200) {
		fprintf(stderr, "http_get: status %d\n", atoi(buf + 9));
		return 1;
	}
	fwrite(body, 1, len - (size_t)(body - buf), stdout);
	free(buf);
	return 0;
}
