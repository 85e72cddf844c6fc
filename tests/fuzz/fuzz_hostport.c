/* SPDX-License-Identifier: MIT */
/*
 * fuzz_hostport: libFuzzer target for discovery/hostport.h, which reads
 * the HOST:PORT strings of --listen, --peer, --multicast and the config
 * file. The input up to its first NUL is the string; it goes to
 * hostport_parse (port 0 allowed and not) and hostport_parse_addr.
 * Checks: no crash or read past the string; a refusal is RUMOR_EINVAL
 * with a message and leaves the outputs untouched; port 0 is accepted
 * only when allowed; whatever parses prints back (brackets around a host
 * with a colon) to a string that parses to the same host and port, and
 * an accepted numeric address prints back (inet_ntop) to one that parses
 * to the same sockaddr.
 *
 *   tests/fuzz/fuzz_hostport -max_total_time=60 work/ \
 *       tests/fuzz/corpus/hostport
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "discovery/hostport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed property names itself before the crash report. */
#define check(cond)                                                     \
	do {                                                            \
		if (!(cond)) {                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);             \
			abort();                                        \
		}                                                       \
	} while (0)

/* HOST:PORT as a user would write it for host and port. */
static void print_hostport(char *out, size_t cap, const char *host,
			   uint16_t port)
{
	int n = snprintf(out, cap, strchr(host, ':') != NULL ? "[%s]:%u" :
			 "%s:%u", host, (unsigned)port);

	check(n > 0 && (size_t)n < cap);
}

static void fuzz_parse(const char *s, int allow0)
{
	char host[HOSTPORT_HOST_MAX], again[HOSTPORT_HOST_MAX];
	char text[HOSTPORT_HOST_MAX + 16];
	uint16_t port = 4242, port2 = 0;
	struct err err;
	int rv;

	memset(host, 0x7f, sizeof host);
	rv = hostport_parse(s, allow0, host, &port, &err);
	if (rv != 0) {
		check(rv == RUMOR_EINVAL && err.code == RUMOR_EINVAL &&
		      err.msg[0] != '\0');
		/* untouched on error */
		check(port == 4242 && (uint8_t)host[0] == 0x7f);
		return;
	}
	check(host[0] != '\0' && strlen(host) < HOSTPORT_HOST_MAX);
	check(port != 0 || allow0);
	check(strpbrk(host, " \t\r\n") == NULL);
	print_hostport(text, sizeof text, host, port);
	check(hostport_parse(text, allow0, again, &port2, &err) == 0);
	check(strcmp(host, again) == 0 && port == port2);
}

static int same_addr(const struct sockaddr_storage *a,
		     const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	{
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr,
			      sizeof x->sin6_addr) == 0 &&
		       x->sin6_scope_id == 0 && y->sin6_scope_id == 0;
	}
}

static void fuzz_parse_addr(const char *s)
{
	struct sockaddr_storage addr, addr2;
	char host[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 16];
	const void *raw;
	uint16_t port;
	struct err err;
	int rv;

	rv = hostport_parse_addr(s, &addr, &err);
	if (rv != 0) {
		check(rv == RUMOR_EINVAL && err.code == RUMOR_EINVAL &&
		      err.msg[0] != '\0');
		return;
	}
	check(addr.ss_family == AF_INET || addr.ss_family == AF_INET6);
	if (addr.ss_family == AF_INET) {
		raw = &((struct sockaddr_in *)&addr)->sin_addr;
		port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
	} else {
		raw = &((struct sockaddr_in6 *)&addr)->sin6_addr;
		port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
	}
	check(inet_ntop(addr.ss_family, raw, host, sizeof host) != NULL);
	print_hostport(text, sizeof text, host, port);
	check(hostport_parse_addr(text, &addr2, &err) == 0);
	check(same_addr(&addr, &addr2));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	/* A C string: what a flag, a config line or a seeds file gives. The
	 * copy has exactly the input's bytes, so a read past the NUL of a
	 * short string is caught. */
	s = malloc(size + 1);
	check(s != NULL);
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_parse(s, 0);
	fuzz_parse(s, 1);
	fuzz_parse_addr(s);
	free(s);
	return 0;
}
