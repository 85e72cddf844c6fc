/* SPDX-License-Identifier: MIT */
/*
 * rumord_metrics: the --metrics endpoint (rumord_metrics.h).
 *
 * libmicrohttpd runs in external-event mode with epoll: it exposes one
 * descriptor (its epoll set), which a uv_poll_t watches; a uv_timer_t
 * fires when MHD_get_timeout() says work is due (idle connections to
 * close, data already buffered). Each wakeup calls MHD_run(), which
 * never blocks; the handler builds the text with rumor_metrics() on
 * this thread, the loop's, so the node needs no locking. We bind the
 * listening socket ourselves, so that a port in use is named by its
 * errno, then hand it to libmicrohttpd.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "discovery/hostport.h"
#include "lib/err.h"
#include "rumord_metrics.h"

#define METRICS_PATH "/metrics"
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct rumord_metrics {
	uv_loop_t *loop;
	struct MHD_Daemon *mhd;
	int listen_fd;
	uint16_t port;
	struct rumor *node;
	uv_poll_t poll;
	uv_timer_t timer;
	unsigned timeout_s;       /* idle connections closed after it */
	int handles;              /* open uv handles, for the close */
	int closing;
	void (*log)(void *arg, int level, const char *msg);
	void *log_arg;
};

static void metrics_log(struct rumord_metrics *m, int level,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void metrics_log(struct rumord_metrics *m, int level,
			const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (m->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	m->log(m->log_arg, level, msg);
}

/* libmicrohttpd's own messages (malformed requests, limits reached) as
 * debug lines: a client, not the node, is at fault. */
/* libmicrohttpd's format, checked as printf's by the attribute. */
__attribute__((format(printf, 2, 0)))
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct rumord_metrics *m = cls;
	char msg[512];
	size_t n;

	if (m->log == NULL)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	m->log(m->log_arg, RUMOR_LOG_DEBUG, msg);
}

/* ------------------------------------------------------------ requests */

/* Queues a short fixed answer (status and a one-line body). */
static enum MHD_Result answer_text(struct MHD_Connection *c,
				   unsigned status, const char *body,
				   const char *allow)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(strlen(body), (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    "text/plain; charset=utf-8") != MHD_YES ||
	    (allow != NULL &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) !=
		     MHD_YES)) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer_metrics(struct rumord_metrics *m,
				      struct MHD_Connection *c)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;
	int rv;

	if (m->node == NULL)
		return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				   "the node is not open\n", NULL);
	rv = rumor_metrics(m->node, &text, &len);
	if (rv != 0) {
		metrics_log(m, RUMOR_LOG_WARN, "metrics: %s",
			    rumor_errmsg(m->node));
		return answer_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				   "metrics unavailable (see the node's log)\n",
				   NULL);
	}
	/* MHD_RESPMEM_MUST_FREE: libmicrohttpd frees the text with free(),
	 * which is what rumor_free() does. */
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		rumor_free(text);
		return MHD_NO;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				    METRICS_CONTENT_TYPE) != MHD_YES) {
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Every request, once its headers are in: answered at once, so a body
 * (which no valid request has) is never read into memory. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	struct rumord_metrics *m = cls;
	int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	int head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(url, METRICS_PATH) != 0)
		return answer_text(c, MHD_HTTP_NOT_FOUND,
				   "not found: the metrics are at /metrics\n",
				   NULL);
	if (!get && !head)
		return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				   "method not allowed: use GET or HEAD\n",
				   "GET, HEAD");
	return answer_metrics(m, c);
}

/* ------------------------------------------------------------ the loop */

static void metrics_run(struct rumord_metrics *m);

static void on_poll(uv_poll_t *h, int status, int events)
{
	(void)status;
	(void)events;
	metrics_run(h->data);
}

static void on_timer(uv_timer_t *h)
{
	metrics_run(h->data);
}

/* The connections libmicrohttpd holds now. */
static unsigned metrics_connections(struct rumord_metrics *m)
{
	const union MHD_DaemonInfo *info =
		MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

	return info != NULL ? info->num_connections : 0;
}

/* Lets libmicrohttpd do what is ready, then arms the timer for its next
 * deadline (none: only the descriptor wakes us). */
static void metrics_run(struct rumord_metrics *m)
{
	MHD_UNSIGNED_LONG_LONG ms = 0;
	unsigned before, runs = 0;

	if (m->closing)
		return;
	/* At the connection limit libmicrohttpd takes its listening socket
	 * out of its epoll set, and puts it back only at the start of a run
	 * after connections closed (it counts the closes at the end of the
	 * run that saw them). So a run that closed connections is followed
	 * by another; else, with no other event due, the endpoint would
	 * accept nothing more (test_metrics_http's total-limit test). */
	do {
		before = metrics_connections(m);
		(void)MHD_run(m->mhd);
	} while (metrics_connections(m) < before && ++runs < 4);
	uv_timer_stop(&m->timer);
	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES) {
		/* A timeout of 0 means work is pending now: the next loop
		 * turn, after other handles had theirs. */
		if (ms > (MHD_UNSIGNED_LONG_LONG)m->timeout_s * 1000u)
			ms = (MHD_UNSIGNED_LONG_LONG)m->timeout_s * 1000u;
		uv_timer_start(&m->timer, on_timer, (uint64_t)ms, 0);
	}
}

/* ------------------------------------------------------------ start, close */

/* A listening socket on addr: 0 with *fd and *port set, or -1 with a
 * message. */
static int metrics_listen(const char *addr, int *fd, uint16_t *port,
			  char *errmsg, size_t errlen)
{
	struct sockaddr_storage ss, bound;
	socklen_t blen = sizeof bound;
	struct err err;
	int s, one = 1;

	err_clear(&err);
	if (hostport_parse_addr(addr, &ss, &err) != 0) {
		snprintf(errmsg, errlen, "--metrics: %s", err.msg);
		return -1;
	}
	s = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		   0);
	if (s < 0) {
		snprintf(errmsg, errlen, "--metrics %s: socket: %s", addr,
			 strerror(errno));
		return -1;
	}
	(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one,
				 sizeof one);
	if (bind(s, (struct sockaddr *)&ss,
		 ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					  : sizeof(struct sockaddr_in)) != 0 ||
	    listen(s, 16) != 0 ||
	    getsockname(s, (struct sockaddr *)&bound, &blen) != 0) {
		snprintf(errmsg, errlen, "--metrics %s: cannot listen: %s",
			 addr, strerror(errno));
		close(s);
		return -1;
	}
	*port = ntohs(bound.ss_family == AF_INET6
			      ? ((struct sockaddr_in6 *)&bound)->sin6_port
			      : ((struct sockaddr_in *)&bound)->sin_port);
	*fd = s;
	return 0;
}

/* Stops libmicrohttpd and closes the listening socket, once: quiesced,
 * the socket is ours again (MHD_stop_daemon leaves it); if quiescing
 * fails, MHD_stop_daemon closes it itself. */
static void metrics_stop_mhd(struct rumord_metrics *m)
{
	MHD_socket fd = MHD_quiesce_daemon(m->mhd);

	MHD_stop_daemon(m->mhd);
	m->mhd = NULL;
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

int rumord_metrics_start(struct rumord_metrics **out, uv_loop_t *loop,
			 const char *addr, unsigned idle_timeout_s,
			 void (*log)(void *arg, int level, const char *msg),
			 void *log_arg, char *errmsg, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct rumord_metrics *m;
	int rv;

	m = calloc(1, sizeof *m);
	if (m == NULL) {
		snprintf(errmsg, errlen, "--metrics: out of memory");
		return -1;
	}
	m->loop = loop;
	m->timeout_s = idle_timeout_s > 0 ? idle_timeout_s : 1;
	m->log = log;
	m->log_arg = log_arg;
	if (metrics_listen(addr, &m->listen_fd, &m->port, errmsg, errlen) != 0)
		goto err_after_alloc;
	/* No threading flag: external mode, MHD_run from our loop. */
	m->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, m,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, m,
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->listen_fd,
		MHD_OPTION_CONNECTION_LIMIT,
		(unsigned int)RUMORD_METRICS_CONNECTIONS,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned int)RUMORD_METRICS_PER_IP,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)m->timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)RUMORD_METRICS_CONN_MEMORY, MHD_OPTION_END);
	if (m->mhd == NULL) {
		snprintf(errmsg, errlen, "--metrics %s: the HTTP server "
			 "(libmicrohttpd) did not start", addr);
		goto err_after_listen;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL) {
		snprintf(errmsg, errlen, "--metrics %s: libmicrohttpd has no "
			 "epoll descriptor", addr);
		goto err_after_mhd;
	}
	rv = uv_poll_init(loop, &m->poll, info->epoll_fd);
	if (rv != 0) {
		snprintf(errmsg, errlen, "--metrics %s: %s", addr,
			 uv_strerror(rv));
		goto err_after_mhd;
	}
	m->poll.data = m;
	m->handles++;
	(void)uv_timer_init(loop, &m->timer);
	m->timer.data = m;
	m->handles++;
	rv = uv_poll_start(&m->poll, UV_READABLE, on_poll);
	if (rv != 0) {
		snprintf(errmsg, errlen, "--metrics %s: %s", addr,
			 uv_strerror(rv));
		rumord_metrics_close(m);
		return -1;
	}
	*out = m;
	return 0;

err_after_mhd:
	metrics_stop_mhd(m);
	goto err_after_alloc;
err_after_listen:
	close(m->listen_fd);
err_after_alloc:
	free(m);
	return -1;
}

void rumord_metrics_set_node(struct rumord_metrics *m, struct rumor *node)
{
	m->node = node;
}

uint16_t rumord_metrics_port(const struct rumord_metrics *m)
{
	return m->port;
}

static void on_closed(uv_handle_t *h)
{
	struct rumord_metrics *m = h->data;

	if (--m->handles == 0)
		free(m);
}

void rumord_metrics_close(struct rumord_metrics *m)
{
	if (m == NULL || m->closing)
		return;
	m->closing = 1;
	m->node = NULL;
	/* The poll handle watches libmicrohttpd's epoll descriptor: it goes
	 * first, before MHD_stop_daemon closes that descriptor. */
	uv_poll_stop(&m->poll);
	uv_timer_stop(&m->timer);
	uv_close((uv_handle_t *)&m->poll, on_closed);
	uv_close((uv_handle_t *)&m->timer, on_closed);
	metrics_stop_mhd(m);
}
