/* SPDX-License-Identifier: MIT */
#include "discovery/hostport.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Parses the decimal port after the colon; -1 if it is not one. */
static long parse_port(const char *p)
{
	long v = 0;

	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
		if (v > 65535)
			return -1;
	}
	return v;
}

int hostport_parse(const char *s, int allow_port0,
		   char host[static HOSTPORT_HOST_MAX], uint16_t *port,
		   struct err *err)
{
	const char *h, *colon;
	size_t hlen;
	long p;

	if (s == NULL || *s == '\0')
		return err_set(err, RUMOR_EINVAL,
			       "empty address: expected HOST:PORT");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL)
			return err_set(err, RUMOR_EINVAL,
				       "\"%s\": missing ']' after IPv6 address",
				       s);
		if (close[1] != ':')
			return err_set(err, RUMOR_EINVAL,
				       "\"%s\": expected ':PORT' after ']'", s);
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		if (memchr(h, ':', hlen) == NULL)
			return err_set(err, RUMOR_EINVAL,
				       "\"%s\": brackets are for IPv6 addresses",
				       s);
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return err_set(err, RUMOR_EINVAL,
				       "\"%s\": missing ':PORT'", s);
		h = s;
		hlen = (size_t)(colon - s);
		if (memchr(h, ':', hlen) != NULL)
			return err_set(err, RUMOR_EINVAL,
				       "\"%s\": write an IPv6 address in "
				       "brackets, as [ADDR]:PORT", s);
	}
	if (hlen == 0)
		return err_set(err, RUMOR_EINVAL, "\"%s\": empty host", s);
	if (hlen >= HOSTPORT_HOST_MAX)
		return err_set(err, RUMOR_EINVAL, "\"%s\": host too long", s);
	if (strpbrk(s, " \t\r\n") != NULL)
		return err_set(err, RUMOR_EINVAL,
			       "\"%s\": spaces are not allowed", s);
	p = parse_port(colon + 1);
	if (p < 0 || (p == 0 && !allow_port0))
		return err_set(err, RUMOR_EINVAL,
			       "\"%s\": port must be a number from %d to 65535",
			       s, allow_port0 ? 0 : 1);
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (uint16_t)p;
	return 0;
}

int hostport_parse_addr(const char *s, struct sockaddr_storage *addr,
			struct err *err)
{
	char host[HOSTPORT_HOST_MAX];
	struct sockaddr_in *in4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)addr;
	uint16_t port;
	int rv;

	rv = hostport_parse(s, 1, host, &port, err);
	if (rv != 0)
		return rv;
	memset(addr, 0, sizeof *addr);
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		return 0;
	}
	return err_set(err, RUMOR_EINVAL,
		       "\"%s\": the host is not a numeric IPv4 or IPv6 address",
		       s);
}
