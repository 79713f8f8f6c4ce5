/*
 * transport.c - Raft message streams between members (transport.h).
 *
 * Outbound, per peer:   DOWN --connect--> UP --stream or connection lost-->
 *                       BACKOFF --timer--> DOWN (next URL) ...
 * where DOWN means "connecting": a client and its stream exist and queue
 * messages until the connection is up.  BACKOFF holds no client; sends fail
 * fast with -ENOTCONN.
 *
 * Inbound: a grpc_server with one bidi method; each stream is one peer's
 * outbound stream to us, checked on its first message (cluster and member
 * id) and then delivered message by message.
 */
#include "peer/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "sys/grpc.h"
#include "sys/grpc_client.h"

#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 2000
#define DEFAULT_MAX_MSG (512u << 20)

enum peer_state { PEER_CONNECTING, PEER_UP, PEER_BACKOFF };

struct peer {
	struct peer *next;
	struct peer_transport *t;
	raft_id id;
	char **urls;
	size_t n_urls;
	size_t url_next;
	enum peer_state state;
	struct grpc_client *client;
	struct grpc_client_call *call;
	struct event *retry_ev;
	unsigned backoff_ms;
	uint64_t up_since_ns;   /* when the current connection came up */
	char *last_refusal;     /* the last refusal logged, to log each once */
	struct peer_stats stats;
};

struct peer_transport {
	struct event_base *base;
	struct evdns_base *dns;
	struct peer_transport_config cfg;
	struct grpc_method method;
	struct grpc_server *srv;
	struct evconnlistener *listener;
	struct peer *peers;
	char hdr_cluster[17], hdr_from[17];
};

int peer_parse_url(const char *url, char *host, size_t size, int *port)
{
	const char *p = url, *colon, *end;
	char *stop;
	long v;

	if (strncmp(p, "http://", 7) == 0) {
		p += 7;
	} else if (strncmp(p, "https://", 8) == 0) {
		p += 8;
	}
	end = p + strcspn(p, "/");
	if (*p == '[') { /* [v6]:port */
		const char *rb = memchr(p, ']', (size_t)(end - p));
		if (rb == NULL || rb[1] != ':') {
			return -EINVAL;
		}
		colon = rb + 1;
		p++;
		if ((size_t)(rb - p) >= size) {
			return -EINVAL;
		}
		memcpy(host, p, (size_t)(rb - p));
		host[rb - p] = '\0';
	} else {
		colon = memchr(p, ':', (size_t)(end - p));
		if (colon == NULL || colon == p || (size_t)(colon - p) >= size) {
			return -EINVAL;
		}
		memcpy(host, p, (size_t)(colon - p));
		host[colon - p] = '\0';
	}
	v = strtol(colon + 1, &stop, 10);
	if (stop != end || v <= 0 || v > 65535) {
		return -EINVAL;
	}
	*port = (int)v;
	return 0;
}

static struct peer *peer_find(const struct peer_transport *t, raft_id id)
{
	for (struct peer *p = t->peers; p != NULL; p = p->next) {
		if (p->id == id) {
			return p;
		}
	}
	return NULL;
}

/* --- outbound ---------------------------------------------------------------- */

static void peer_connect(struct peer *p);

static void retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	peer_connect(arg);
}

/* The stream or its connection is gone: drop the client, back off. */
static void peer_down(struct peer *p)
{
	struct timeval tv;
	bool was_up = p->state == PEER_UP;

	if (p->state == PEER_BACKOFF) {
		return;
	}
	/*
	 * A connection that lasted resets the backoff; one that is refused or
	 * dropped at once (a peer of another cluster) keeps growing it.
	 */
	if (was_up && timeutil_mono_ns() - p->up_since_ns > NSEC_PER_SEC) {
		p->backoff_ms = BACKOFF_MIN_MS;
	}
	p->state = PEER_BACKOFF;
	p->stats.active = false;
	p->call = NULL;
	grpc_client_free(p->client); /* deferred when inside its callback */
	p->client = NULL;
	tv.tv_sec = p->backoff_ms / 1000;
	tv.tv_usec = (suseconds_t)(p->backoff_ms % 1000) * 1000;
	evtimer_add(p->retry_ev, &tv);
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
	if (was_up) {
		log_debug("peer %016" PRIx64 ": stream lost", p->id);
	}
	if (p->t->cfg.on_unreachable != NULL) {
		p->t->cfg.on_unreachable(p->t->cfg.arg, p->id);
	}
}

static void out_state(struct grpc_client *c, bool up, int err, void *arg)
{
	struct peer *p = arg;

	(void)c;
	if (up) {
		p->state = PEER_UP;
		p->stats.active = true;
		p->up_since_ns = timeutil_mono_ns();
		log_debug("peer %016" PRIx64 ": connected", p->id);
	} else {
		log_debug("peer %016" PRIx64 ": connection ended (%d)", p->id, err);
		peer_down(p);
	}
}

static void out_msg(struct grpc_client_call *call, const uint8_t *m, size_t n, void *arg)
{
	(void)call;
	(void)m;
	(void)n;
	(void)arg; /* the receiver never answers on a Raft stream */
}

static void out_close(struct grpc_client_call *call, enum grpc_status st,
		      const char *msg, void *arg)
{
	struct peer *p = arg;

	(void)call;
	if (p->call != call) {
		return;
	}
	p->call = NULL;
	if (st == GRPC_STATUS_PERMISSION_DENIED && msg != NULL &&
	    strcmp(msg, PEER_REMOVED_MSG) == 0 && p->t->cfg.on_removed != NULL) {
		p->t->cfg.on_removed(p->t->cfg.arg, p->id);
	}
	if (st == GRPC_STATUS_FAILED_PRECONDITION &&
	    (p->last_refusal == NULL || strcmp(p->last_refusal, msg ? msg : "") != 0)) {
		/* Each distinct refusal once: a misconfigured peer would flood the log. */
		mem_free(p->last_refusal);
		p->last_refusal = mem_strdup(msg ? msg : "");
		log_warn("peer %016" PRIx64 " refused our stream: %s", p->id,
			 msg ? msg : "");
	}
	peer_down(p);
}

static const struct grpc_client_ops out_ops = {out_state};
static const struct grpc_client_call_ops out_call_ops = {out_msg, out_close, NULL};

static void peer_connect(struct peer *p)
{
	struct peer_transport *t = p->t;
	char host[256], to[17];
	const char *hdrs[7];
	int port;

	snprintf(to, sizeof(to), "%016" PRIx64, p->id);
	hdrs[0] = "cetcd-cluster-id";
	hdrs[1] = t->hdr_cluster;
	hdrs[2] = "cetcd-from";
	hdrs[3] = t->hdr_from;
	hdrs[4] = "cetcd-to";
	hdrs[5] = to;
	hdrs[6] = NULL;
	p->state = PEER_CONNECTING;
	if (p->n_urls == 0 ||
	    peer_parse_url(p->urls[p->url_next++ % p->n_urls], host, sizeof(host), &port) < 0) {
		p->state = PEER_CONNECTING;
		peer_down(p);
		return;
	}
	p->client = grpc_client_new(t->base, t->dns, host, port, &out_ops, p);
	if (p->client != NULL) {
		p->call = grpc_client_start(p->client, PEER_RAFT_PATH, hdrs, &out_call_ops, p);
	}
	if (p->call == NULL) {
		peer_down(p);
	}
}

int peer_transport_send(struct peer_transport *t, raft_id to, const uint8_t *msg,
			size_t len)
{
	struct peer *p = peer_find(t, to);
	int r;

	if (p == NULL) {
		return -ENOENT;
	}
	if (p->state == PEER_BACKOFF || p->call == NULL) {
		p->stats.dropped_msgs++;
		return -ENOTCONN;
	}
	r = grpc_client_send(p->call, msg, len);
	if (r < 0) {
		p->stats.dropped_msgs++;
		return r == -EPIPE ? -ENOTCONN : r;
	}
	p->stats.sent_msgs++;
	p->stats.sent_bytes += len;
	return 0;
}

static void peer_free(struct peer *p)
{
	p->call = NULL;
	grpc_client_free(p->client);
	event_free(p->retry_ev);
	mem_free(p->last_refusal);
	for (size_t i = 0; i < p->n_urls; i++) {
		mem_free(p->urls[i]);
	}
	mem_free(p->urls);
	mem_free(p);
}

int peer_transport_add(struct peer_transport *t, raft_id id, const char *const *urls,
		       size_t n_urls)
{
	struct peer *p;
	char host[256];
	int port;

	for (size_t i = 0; i < n_urls; i++) {
		if (peer_parse_url(urls[i], host, sizeof(host), &port) < 0) {
			return -EINVAL;
		}
	}
	peer_transport_remove(t, id);
	p = mem_calloc(1, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	p->t = t;
	p->id = id;
	p->backoff_ms = BACKOFF_MIN_MS;
	p->retry_ev = evtimer_new(t->base, retry_cb, p);
	p->urls = mem_calloc(n_urls, sizeof(char *));
	if (p->retry_ev == NULL || p->urls == NULL) {
		peer_free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_urls; i++) {
		p->urls[i] = mem_strdup(urls[i]);
		if (p->urls[i] == NULL) {
			p->n_urls = i;
			peer_free(p);
			return -ENOMEM;
		}
	}
	p->n_urls = n_urls;
	p->next = t->peers;
	t->peers = p;
	peer_connect(p);
	return 0;
}

void peer_transport_remove(struct peer_transport *t, raft_id id)
{
	for (struct peer **pp = &t->peers; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct peer *p = *pp;
			*pp = p->next;
			peer_free(p);
			return;
		}
	}
}

int peer_transport_stats(const struct peer_transport *t, raft_id id,
			 struct peer_stats *out)
{
	struct peer *p = peer_find(t, id);

	if (p == NULL) {
		return -ENOENT;
	}
	*out = p->stats;
	return 0;
}

/* --- inbound ------------------------------------------------------------------ */

#define STREAM_OK ((void *)1)

static bool hex_header(struct grpc_call *call, const char *name, uint64_t *out)
{
	const char *v = grpc_call_header(call, name);
	char *end;

	if (v == NULL || *v == '\0') {
		return false;
	}
	*out = strtoull(v, &end, 16);
	return *end == '\0';
}

static void in_message(struct grpc_call *call, const uint8_t *msg, size_t len, void *arg)
{
	struct peer_transport *t = arg;
	uint64_t cluster = 0, from = 0, to = 0;
	struct peer *p;

	if (grpc_call_data(call) != STREAM_OK) {
		char why[200];

		if (!hex_header(call, "cetcd-cluster-id", &cluster) ||
		    !hex_header(call, "cetcd-from", &from) ||
		    !hex_header(call, "cetcd-to", &to)) {
			grpc_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
					 "missing cetcd-cluster-id, cetcd-from or cetcd-to");
			return;
		}
		if (t->cfg.local_id == 0 && t->cfg.cluster_id == 0 && to != 0 &&
		    cluster != 0) {
			/* A joining member learns who it is from the cluster's
			 * first stream (transport.h, on_identity). */
			t->cfg.local_id = to;
			t->cfg.cluster_id = cluster;
			snprintf(t->hdr_cluster, sizeof(t->hdr_cluster),
				 "%016" PRIx64, cluster);
			snprintf(t->hdr_from, sizeof(t->hdr_from), "%016" PRIx64,
				 to);
			if (t->cfg.on_identity != NULL) {
				t->cfg.on_identity(t->cfg.arg, to, cluster);
			}
		}
		if (cluster != t->cfg.cluster_id) {
			snprintf(why, sizeof(why),
				 "cluster ID mismatch: this member is in cluster %016" PRIx64
				 ", the peer %016" PRIx64 " in cluster %016" PRIx64,
				 t->cfg.cluster_id, from, cluster);
			grpc_call_finish(call, GRPC_STATUS_FAILED_PRECONDITION, why);
			return;
		}
		if (to != t->cfg.local_id) {
			snprintf(why, sizeof(why),
				 "member ID mismatch: this member is %016" PRIx64
				 ", the peer %016" PRIx64 " wanted %016" PRIx64,
				 t->cfg.local_id, from, to);
			grpc_call_finish(call, GRPC_STATUS_FAILED_PRECONDITION, why);
			return;
		}
		grpc_call_set_data(call, STREAM_OK);
	}
	if (!hex_header(call, "cetcd-from", &from)) {
		return; /* checked on the first message; cannot change since */
	}
	/* At every message: a stream may predate the peer's removal. */
	if (t->cfg.is_removed != NULL && t->cfg.is_removed(t->cfg.arg, from)) {
		grpc_call_finish(call, GRPC_STATUS_PERMISSION_DENIED,
				 PEER_REMOVED_MSG);
		return;
	}
	p = peer_find(t, from);
	if (p != NULL) {
		p->stats.recv_msgs++;
		p->stats.recv_bytes += len;
	}
	t->cfg.on_message(t->cfg.arg, from, msg, len);
}

static void in_half_close(struct grpc_call *call, void *arg)
{
	(void)arg;
	grpc_call_finish(call, GRPC_STATUS_OK, NULL);
}

int peer_transport_adopt(struct peer_transport *t, int fd)
{
	return grpc_server_adopt(t->srv, fd, NULL, 0);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int len, void *arg)
{
	(void)l;
	(void)sa;
	(void)len;
	if (peer_transport_adopt(arg, fd) < 0) {
		log_debug("peer: could not take a connection");
	}
}

int peer_transport_listen(struct peer_transport *t, const char *host, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		return -EINVAL;
	}
	if (t->listener != NULL) {
		return -EALREADY;
	}
	t->listener = evconnlistener_new_bind(t->base, on_accept, t,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						      LEV_OPT_CLOSE_ON_EXEC,
					      128, (struct sockaddr *)&sa, sizeof(sa));
	return t->listener != NULL ? 0 : -errno;
}

struct peer_transport *peer_transport_new(struct event_base *base,
					  struct evdns_base *dns,
					  const struct peer_transport_config *cfg)
{
	struct peer_transport *t = mem_calloc(1, sizeof(*t));
	struct grpc_server_config scfg;

	if (t == NULL) {
		return NULL;
	}
	t->base = base;
	t->dns = dns;
	t->cfg = *cfg;
	if (t->cfg.max_msg == 0) {
		t->cfg.max_msg = DEFAULT_MAX_MSG;
	}
	snprintf(t->hdr_cluster, sizeof(t->hdr_cluster), "%016" PRIx64, cfg->cluster_id);
	snprintf(t->hdr_from, sizeof(t->hdr_from), "%016" PRIx64, cfg->local_id);
	t->method = (struct grpc_method){PEER_RAFT_PATH, GRPC_BIDI, in_message,
					 in_half_close, NULL, NULL, t};
	scfg = (struct grpc_server_config){&t->method, 1, t->cfg.max_msg, 100};
	t->srv = grpc_server_new(base, &scfg);
	if (t->srv == NULL) {
		mem_free(t);
		return NULL;
	}
	return t;
}

void peer_transport_free(struct peer_transport *t)
{
	if (t == NULL) {
		return;
	}
	if (t->listener != NULL) {
		evconnlistener_free(t->listener);
	}
	while (t->peers != NULL) {
		struct peer *p = t->peers;
		t->peers = p->next;
		peer_free(p);
	}
	grpc_server_free(t->srv);
	mem_free(t);
}
