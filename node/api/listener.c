/*
 * listener.c - listening sockets and HTTP/2-or-HTTP/1.1 sniffing
 * (listener.h).
 *
 * A new connection is read once it has bytes: if they start differently
 * from the HTTP/2 preface it is HTTP/1.1 at the first differing byte
 * (an HTTP/1.1 request line differs from "PRI * HTTP/2.0" within a few
 * bytes), and the bytes read so far go with it; if all 24 preface bytes
 * match it is HTTP/2.  A partial match waits for more.
 *
 * Invariants:
 *  1. Every sniffing connection is on l->sniffing and owns its fd and
 *     event until it is handed over or closed.
 */
#include "api/listener.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/http1.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"

#define SNIFF_BUF 4096

struct listener {
	struct event_base *base;
	struct http1_server *http1;
	struct evconnlistener **lev;
	int *ports;
	size_t n;
	listener_h2_fn h2;
	void *h2_arg;
	unsigned sniff_timeout_ms;
	struct list_node sniffing;
	/* Re-enables accepting after running out of descriptors. */
	struct event *backoff;
	unsigned long accept_errors;
};

struct sniff {
	struct list_node node;
	struct listener *l;
	int fd;
	struct event *ev;
	size_t n;
	uint8_t buf[SNIFF_BUF];
};

static void backoff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < l->n; i++) {
		evconnlistener_enable(l->lev[i]);
	}
}

int listener_new(struct event_base *base, struct http1_server *http1,
		 struct listener **out)
{
	struct listener *l = mem_calloc(1, sizeof(*l));

	if (l == NULL) {
		return -ENOMEM;
	}
	l->base = base;
	l->http1 = http1;
	l->sniff_timeout_ms = 10000;
	list_init(&l->sniffing);
	l->backoff = evtimer_new(base, backoff_cb, l);
	if (l->backoff == NULL) {
		mem_free(l);
		return -ENOMEM;
	}
	*out = l;
	return 0;
}

static void sniff_free(struct sniff *s, bool close_fd)
{
	list_remove(&s->node);
	event_free(s->ev);
	if (close_fd) {
		close(s->fd);
	}
	mem_free(s);
}

void listener_free(struct listener *l)
{
	struct list_node *n;

	if (l == NULL) {
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		evconnlistener_free(l->lev[i]);
	}
	event_free(l->backoff);
	while ((n = list_first(&l->sniffing)) != NULL) {
		sniff_free(list_entry(n, struct sniff, node), true);
	}
	mem_free(l->lev);
	mem_free(l->ports);
	mem_free(l);
}

void listener_set_h2(struct listener *l, listener_h2_fn fn, void *arg)
{
	l->h2 = fn;
	l->h2_arg = arg;
}

void listener_set_sniff_timeout(struct listener *l, unsigned ms)
{
	l->sniff_timeout_ms = ms;
}

unsigned long listener_accept_errors(const struct listener *l)
{
	return l->accept_errors;
}

size_t listener_count(const struct listener *l)
{
	return l->n;
}

int listener_port(const struct listener *l, size_t i)
{
	return i < l->n ? l->ports[i] : -EINVAL;
}

/*
 * No gRPC layer yet: tell an HTTP/2 client so in its own protocol, a
 * SETTINGS frame (the server preface) and GOAWAY(HTTP_1_1_REQUIRED).
 */
static void h2_refuse(int fd)
{
	static const char debug[] = "gRPC is not served yet; use the JSON "
				    "gateway over HTTP/1.1";
	uint8_t frames[9 + 9 + 8 + sizeof(debug) - 1];
	size_t glen = 8 + sizeof(debug) - 1;
	uint8_t scratch[4096];

	memset(frames, 0, sizeof(frames));
	frames[3] = 0x4; /* SETTINGS, empty, stream 0 */
	frames[9 + 0] = (uint8_t)(glen >> 16);
	frames[9 + 1] = (uint8_t)(glen >> 8);
	frames[9 + 2] = (uint8_t)glen;
	frames[9 + 3] = 0x7;  /* GOAWAY */
	frames[18 + 7] = 0xd; /* last stream 0, HTTP_1_1_REQUIRED */
	memcpy(frames + 26, debug, sizeof(debug) - 1);
	/* Drain what the client sent, so close() sends FIN rather than RST
	 * and the GOAWAY is read. */
	while (recv(fd, scratch, sizeof(scratch), 0) > 0) {
	}
	if (send(fd, frames, sizeof(frames), MSG_NOSIGNAL) < 0) {
		log_debug("listener: GOAWAY not sent: %s", strerror(errno));
	}
	shutdown(fd, SHUT_WR);
	close(fd);
}

static void sniff_arm(struct sniff *s)
{
	struct timeval tv = {
	    .tv_sec = s->l->sniff_timeout_ms / 1000,
	    .tv_usec = (suseconds_t)(s->l->sniff_timeout_ms % 1000) * 1000,
	};

	event_add(s->ev, &tv);
}

static void sniff_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sniff *s = arg;
	struct listener *l = s->l;
	size_t cmp;
	ssize_t n;

	if (what & EV_TIMEOUT) {
		log_debug("listener: nothing received, closing");
		sniff_free(s, true);
		return;
	}
	n = recv(fd, s->buf + s->n, sizeof(s->buf) - s->n, 0);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		sniff_arm(s);
		return;
	}
	if (n <= 0) {
		sniff_free(s, true);
		return;
	}
	s->n += (size_t)n;
	cmp = s->n < LISTENER_H2_PREFACE_LEN ? s->n : LISTENER_H2_PREFACE_LEN;
	if (memcmp(s->buf, LISTENER_H2_PREFACE, cmp) != 0) {
		int r = http1_server_adopt(l->http1, s->fd, s->buf, s->n);

		if (r < 0) {
			log_debug("listener: HTTP/1.1 connection dropped: %s",
				  strerror(-r));
		}
		sniff_free(s, false);
		return;
	}
	if (s->n < LISTENER_H2_PREFACE_LEN) {
		sniff_arm(s);
		return;
	}
	if (l->h2 != NULL) {
		int sfd = s->fd;

		/* The hook may free the listener's users; detach first. */
		list_remove(&s->node);
		event_free(s->ev);
		l->h2(sfd, s->buf, s->n, l->h2_arg);
		mem_free(s);
		return;
	}
	log_debug("listener: HTTP/2 client but no gRPC layer; GOAWAY");
	h2_refuse(s->fd);
	sniff_free(s, false);
}

static void accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
		      struct sockaddr *sa, int socklen, void *arg)
{
	struct listener *l = arg;
	struct sniff *s;
	int one = 1;

	(void)lev;
	(void)sa;
	(void)socklen;
	/* libevent accepts with SOCK_NONBLOCK|SOCK_CLOEXEC already; these
	 * make the invariant independent of its build. */
	if (evutil_make_socket_nonblocking(fd) < 0 ||
	    evutil_make_socket_closeonexec(fd) < 0) {
		close(fd);
		return;
	}
	/* Small responses must not wait for Nagle. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A vanished watcher is noticed even when nothing is sent (etcd's
	 * Go listener enables keep-alive too). */
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	s = mem_alloc(sizeof(*s));
	if (s == NULL) {
		close(fd);
		return;
	}
	s->l = l;
	s->fd = fd;
	s->n = 0;
	s->ev = event_new(l->base, fd, EV_READ, sniff_cb, s);
	if (s->ev == NULL) {
		close(fd);
		mem_free(s);
		return;
	}
	list_push_back(&l->sniffing, &s->node);
	sniff_arm(s);
}

static void accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	int e = errno;

	l->accept_errors++;
	log_debug("listener: accept failed: %s", strerror(e));
	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		/* The pending connection stays pending: without a pause the
		 * level-triggered listener would spin the loop. */
		struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};

		evconnlistener_disable(lev);
		evtimer_add(l->backoff, &tv);
	}
}

static int listen_one(struct listener *l, const struct addrinfo *ai)
{
	struct evconnlistener *lev;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd, one = 1, r, port;
	void *p;

	fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
	if (fd < 0) {
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	port = ss.ss_family == AF_INET6
		   ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
		   : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	p = mem_realloc(l->lev, (l->n + 1) * sizeof(*l->lev));
	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	l->lev = p;
	p = mem_realloc(l->ports, (l->n + 1) * sizeof(*l->ports));
	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	l->ports = p;
	lev = evconnlistener_new(l->base, accept_cb, l,
				 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
				 0, fd);
	if (lev == NULL) {
		close(fd);
		return -ENOMEM;
	}
	evconnlistener_set_error_cb(lev, accept_error_cb);
	l->lev[l->n] = lev;
	l->ports[l->n] = port;
	l->n++;
	return 0;
}

int listener_add(struct listener *l, const char *host, unsigned port)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *res = NULL;
	char service[8];
	int r;

	if (port > 65535) {
		return -EINVAL;
	}
	snprintf(service, sizeof(service), "%u", port);
	r = getaddrinfo(host, service, &hints, &res);
	if (r != 0) {
		return r == EAI_MEMORY ? -ENOMEM : -EINVAL;
	}
	/* The first address is enough: a listen URL names one address. */
	r = listen_one(l, res);
	freeaddrinfo(res);
	return r;
}
