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
 *
 * Snapshot transfer (transport.h for the wire format) has a section of its
 * own at the end: outbound, one struct snap_out per transfer, each with its
 * own connection; inbound, a client-streaming method whose calls write the
 * store to a file in snap_dir.  A snap_out lives until its call's on_close
 * (the client calls back with it as argument until then); done is
 * reported once, at the first end (answer, failure, idle timeout).
 */
#include "peer/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base/err.h"
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

struct snap_out;

struct peer_transport {
	struct event_base *base;
	struct evdns_base *dns;
	struct peer_transport_config cfg;
	struct grpc_method method;
	struct grpc_method methods[2]; /* Raft, Snapshot */
	struct snap_out *snaps;	       /* outgoing snapshot transfers */
	unsigned snap_seq;	       /* names received files uniquely */
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

static struct grpc_method snap_in_method(struct peer_transport *t);
static void snap_out_free_all(struct peer_transport *t);

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
	t->methods[0] = t->method;
	t->methods[1] = snap_in_method(t);
	scfg = (struct grpc_server_config){t->methods, 2, t->cfg.max_msg, 100};
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
	snap_out_free_all(t);
	while (t->peers != NULL) {
		struct peer *p = t->peers;
		t->peers = p->next;
		peer_free(p);
	}
	grpc_server_free(t->srv);
	mem_free(t);
}

/* --- snapshot transfer --------------------------------------------------------- */

#define SHA256_LEN 32

struct snap_out {
	struct snap_out *next;
	struct peer_transport *t;
	raft_id to;
	struct grpc_client *client;
	struct grpc_client_call *call;
	struct event *idle_ev;
	struct event *start_ev; /* the first pump, from the loop */
	uint8_t *chunk; /* PEER_SNAPSHOT_CHUNK bytes */
	int fd;
	uint64_t size, off;
	uint64_t progress_ns; /* when a byte last moved */
	EVP_MD_CTX *sha;
	bool trailer_sent;
	void (*done)(void *arg, raft_id to, int err);
	void *arg;
};

static void snap_out_destroy(struct snap_out *so)
{
	struct peer_transport *t = so->t;

	for (struct snap_out **pp = &t->snaps; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == so) {
			*pp = so->next;
			break;
		}
	}
	grpc_client_free(so->client); /* deferred inside its callbacks */
	if (so->idle_ev != NULL) {
		event_free(so->idle_ev);
	}
	if (so->start_ev != NULL) {
		event_free(so->start_ev);
	}
	if (so->fd >= 0) {
		close(so->fd);
	}
	EVP_MD_CTX_free(so->sha);
	mem_free(so->chunk);
	mem_free(so);
}

/* Report the outcome once; the struct stays until the call is closed. */
static void snap_out_report(struct snap_out *so, int err)
{
	void (*done)(void *arg, raft_id to, int err) = so->done;

	so->done = NULL;
	if (done != NULL) {
		done(so->arg, so->to, err);
	}
}

static void snap_out_fail(struct snap_out *so, int err)
{
	snap_out_report(so, err);
	if (so->call != NULL) {
		grpc_client_cancel(so->call); /* on_close follows */
	}
}

static void snap_out_pump(struct snap_out *so)
{
	uint8_t digest[SHA256_LEN];
	unsigned dlen = 0;

	while (so->call != NULL && !so->trailer_sent &&
	       grpc_client_queued(so->call) < GRPC_CALL_MAX_QUEUED / 2) {
		if (so->off < so->size) {
			uint64_t left = so->size - so->off;
			size_t n = left < PEER_SNAPSHOT_CHUNK ? (size_t)left
							      : PEER_SNAPSHOT_CHUNK;
			ssize_t got = pread(so->fd, so->chunk, n, (off_t)so->off);

			if (got <= 0) {
				snap_out_fail(so, got < 0 ? -errno : -EIO);
				return;
			}
			if (EVP_DigestUpdate(so->sha, so->chunk, (size_t)got) != 1 ||
			    grpc_client_send(so->call, so->chunk, (size_t)got) < 0) {
				snap_out_fail(so, -EIO);
				return;
			}
			so->off += (uint64_t)got;
			so->progress_ns = timeutil_mono_ns();
			continue;
		}
		if (EVP_DigestFinal_ex(so->sha, digest, &dlen) != 1 ||
		    dlen != SHA256_LEN ||
		    grpc_client_send(so->call, digest, SHA256_LEN) < 0 ||
		    grpc_client_close_send(so->call) < 0) {
			snap_out_fail(so, -EIO);
			return;
		}
		so->trailer_sent = true;
	}
}

/* done never runs inside peer_transport_send_snapshot (transport.h 1). */
static void snap_out_start(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	snap_out_pump(arg);
}

static void snap_out_writable(struct grpc_client_call *call, void *arg)
{
	struct snap_out *so = arg;

	(void)call;
	so->progress_ns = timeutil_mono_ns();
	snap_out_pump(so);
}

static void snap_out_message(struct grpc_client_call *call, const uint8_t *m,
			     size_t n, void *arg)
{
	(void)call;
	(void)m;
	(void)n;
	(void)arg; /* the answer is the status alone */
}

static void snap_out_close(struct grpc_client_call *call, enum grpc_status st,
			   const char *msg, void *arg)
{
	struct snap_out *so = arg;

	(void)call;
	so->call = NULL;
	if (st != GRPC_STATUS_OK) {
		log_debug("peer %016" PRIx64 ": snapshot transfer failed: %s",
			  so->to, msg != NULL ? msg : "");
	}
	snap_out_report(so, st == GRPC_STATUS_OK && so->trailer_sent ? 0
				: st == GRPC_STATUS_DATA_LOSS	      ? -ERR_CORRUPT
								      : -EIO);
	snap_out_destroy(so);
}

/* A receiver that stopped reading (paused, partitioned) fails the transfer. */
static void snap_out_idle(evutil_socket_t fd, short what, void *arg)
{
	struct snap_out *so = arg;
	uint64_t idle_ms = (timeutil_mono_ns() - so->progress_ns) / 1000000;

	(void)fd;
	(void)what;
	if (idle_ms >= PEER_SNAPSHOT_IDLE_MS) {
		log_debug("peer %016" PRIx64 ": snapshot transfer stalled",
			  so->to);
		snap_out_fail(so, -ETIMEDOUT);
	}
}

static const struct grpc_client_ops snap_client_ops = {NULL};
static const struct grpc_client_call_ops snap_call_ops = {
    snap_out_message, snap_out_close, snap_out_writable};

int peer_transport_send_snapshot(struct peer_transport *t, raft_id to,
				 const uint8_t *msg, size_t len, int db_fd,
				 uint64_t db_size,
				 void (*done)(void *arg, raft_id to, int err),
				 void *arg)
{
	struct peer *p = peer_find(t, to);
	struct snap_out *so;
	struct timeval tv = {1, 0};
	char host[256], hto[17], hsize[24];
	const char *hdrs[9];
	int port;

	if (p == NULL || p->n_urls == 0) {
		close(db_fd);
		return -ENOENT;
	}
	/* The URL the Raft stream uses (or last tried). */
	if (peer_parse_url(p->urls[(p->url_next + p->n_urls - 1) % p->n_urls],
			   host, sizeof(host), &port) < 0) {
		close(db_fd);
		return -EINVAL;
	}
	so = mem_calloc(1, sizeof(*so));
	if (so == NULL) {
		close(db_fd);
		return -ENOMEM;
	}
	so->t = t;
	so->to = to;
	so->fd = db_fd;
	so->size = db_size;
	so->done = done;
	so->arg = arg;
	so->progress_ns = timeutil_mono_ns();
	so->next = t->snaps;
	t->snaps = so;
	snprintf(hto, sizeof(hto), "%016" PRIx64, to);
	snprintf(hsize, sizeof(hsize), "%" PRIu64, db_size);
	hdrs[0] = "cetcd-cluster-id";
	hdrs[1] = t->hdr_cluster;
	hdrs[2] = "cetcd-from";
	hdrs[3] = t->hdr_from;
	hdrs[4] = "cetcd-to";
	hdrs[5] = hto;
	hdrs[6] = "cetcd-snapshot-size";
	hdrs[7] = hsize;
	hdrs[8] = NULL;
	so->chunk = mem_alloc(PEER_SNAPSHOT_CHUNK);
	so->sha = EVP_MD_CTX_new();
	so->idle_ev = event_new(t->base, -1, EV_PERSIST, snap_out_idle, so);
	so->start_ev = event_new(t->base, -1, 0, snap_out_start, so);
	if (so->chunk == NULL || so->sha == NULL || so->idle_ev == NULL ||
	    so->start_ev == NULL ||
	    EVP_DigestInit_ex(so->sha, EVP_sha256(), NULL) != 1 ||
	    event_add(so->idle_ev, &tv) < 0) {
		snap_out_destroy(so);
		return -ENOMEM;
	}
	so->client = grpc_client_new(t->base, t->dns, host, port,
				     &snap_client_ops, NULL);
	if (so->client != NULL) {
		so->call = grpc_client_start(so->client, PEER_SNAPSHOT_PATH,
					     hdrs, &snap_call_ops, so);
	}
	if (so->call == NULL || grpc_client_send(so->call, msg, len) < 0) {
		if (so->call != NULL) {
			/* on_close comes from the loop and frees so */
			so->done = NULL;
			grpc_client_cancel(so->call);
		} else {
			snap_out_destroy(so);
		}
		return -ENOMEM;
	}
	event_active(so->start_ev, 0, 0);
	return 0;
}

static void snap_out_free_all(struct peer_transport *t)
{
	while (t->snaps != NULL) {
		struct snap_out *so = t->snaps;
		struct grpc_client *c = so->client;

		so->done = NULL;
		so->client = NULL;
		/* Closing the client closes the call: its on_close frees so. */
		grpc_client_free(c);
		if (t->snaps == so) {
			snap_out_destroy(so);
		}
	}
}

struct snap_in {
	raft_id from;
	int fd;
	char path[4096]; /* "" once taken or removed */
	uint8_t *msg;
	size_t msg_len;
	uint64_t size, got;
	EVP_MD_CTX *sha;
	uint8_t digest[SHA256_LEN];
	bool have_digest;
	bool ended; /* answered: ignore what still arrives */
};

static void snap_in_free(struct snap_in *in)
{
	if (in->fd >= 0) {
		close(in->fd);
	}
	if (in->path[0] != '\0') {
		(void)unlink(in->path);
	}
	EVP_MD_CTX_free(in->sha);
	mem_free(in->msg);
	mem_free(in);
}

static void snap_in_end(struct grpc_call *call, struct snap_in *in,
			enum grpc_status st, const char *why)
{
	if (in != NULL) {
		in->ended = true;
		if (in->fd >= 0) {
			close(in->fd);
			in->fd = -1;
		}
		if (in->path[0] != '\0' && st != GRPC_STATUS_OK) {
			(void)unlink(in->path);
			in->path[0] = '\0';
		}
	}
	grpc_call_finish(call, st, why);
}

/* The first message: check who sends, open the file. */
static struct snap_in *snap_in_start(struct peer_transport *t,
				     struct grpc_call *call, const uint8_t *msg,
				     size_t len)
{
	uint64_t cluster = 0, from = 0, to = 0;
	const char *sz = grpc_call_header(call, "cetcd-snapshot-size");
	struct snap_in *in;
	char why[200], *end;

	if (!hex_header(call, "cetcd-cluster-id", &cluster) ||
	    !hex_header(call, "cetcd-from", &from) ||
	    !hex_header(call, "cetcd-to", &to) || sz == NULL || *sz == '\0') {
		grpc_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
				 "missing cetcd-cluster-id, cetcd-from, "
				 "cetcd-to or cetcd-snapshot-size");
		return NULL;
	}
	if (t->cfg.on_snapshot == NULL || t->cfg.snap_dir == NULL ||
	    t->cfg.local_id == 0) {
		grpc_call_finish(call, GRPC_STATUS_UNAVAILABLE,
				 "this member cannot take a snapshot yet");
		return NULL;
	}
	if (cluster != t->cfg.cluster_id || to != t->cfg.local_id) {
		snprintf(why, sizeof(why),
			 "cluster or member ID mismatch: this member is %016" PRIx64
			 " of cluster %016" PRIx64 ", the peer %016" PRIx64
			 " wanted %016" PRIx64 " of cluster %016" PRIx64,
			 t->cfg.local_id, t->cfg.cluster_id, from, to, cluster);
		grpc_call_finish(call, GRPC_STATUS_FAILED_PRECONDITION, why);
		return NULL;
	}
	in = mem_calloc(1, sizeof(*in));
	if (in == NULL) {
		grpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	in->fd = -1;
	in->from = from;
	in->size = strtoull(sz, &end, 10);
	in->msg = mem_dup(msg, len > 0 ? len : 1);
	in->msg_len = len;
	in->sha = EVP_MD_CTX_new();
	if (*end != '\0' || in->msg == NULL || in->sha == NULL ||
	    EVP_DigestInit_ex(in->sha, EVP_sha256(), NULL) != 1) {
		snap_in_free(in);
		grpc_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT,
				 "bad cetcd-snapshot-size or out of memory");
		return NULL;
	}
	snprintf(in->path, sizeof(in->path), "%s/snap.recv.%016" PRIx64 ".%u.tmp",
		 t->cfg.snap_dir, from, t->snap_seq++);
	in->fd = open(in->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (in->fd < 0) {
		snprintf(why, sizeof(why), "cannot create a file in %s: %s",
			 t->cfg.snap_dir, strerror(errno));
		in->path[0] = '\0';
		snap_in_free(in);
		grpc_call_finish(call, GRPC_STATUS_UNAVAILABLE, why);
		return NULL;
	}
	grpc_call_set_data(call, in);
	return in;
}

static void snap_in_message(struct grpc_call *call, const uint8_t *msg,
			    size_t len, void *arg)
{
	struct peer_transport *t = arg;
	struct snap_in *in = grpc_call_data(call);

	if (in == NULL) {
		(void)snap_in_start(t, call, msg, len);
		return;
	}
	if (in->ended) {
		return;
	}
	if (in->got < in->size) {
		if (len > in->size - in->got) {
			snap_in_end(call, in, GRPC_STATUS_DATA_LOSS,
				    "snapshot longer than announced");
			return;
		}
		for (size_t off = 0; off < len;) {
			ssize_t n = write(in->fd, msg + off, len - off);
			if (n < 0 && errno == EINTR) {
				continue;
			}
			if (n <= 0) {
				char why[300];
				snprintf(why, sizeof(why), "writing the snapshot: %s",
					 strerror(n < 0 ? errno : EIO));
				snap_in_end(call, in, GRPC_STATUS_UNAVAILABLE, why);
				return;
			}
			off += (size_t)n;
		}
		if (EVP_DigestUpdate(in->sha, msg, len) != 1) {
			snap_in_end(call, in, GRPC_STATUS_INTERNAL, "sha-256 failed");
			return;
		}
		in->got += len;
		return;
	}
	if (in->have_digest || len != SHA256_LEN) {
		snap_in_end(call, in, GRPC_STATUS_DATA_LOSS,
			    "snapshot trailer is not one 32-byte sha-256");
		return;
	}
	memcpy(in->digest, msg, SHA256_LEN);
	in->have_digest = true;
}

static void snap_in_half_close(struct grpc_call *call, void *arg)
{
	struct peer_transport *t = arg;
	struct snap_in *in = grpc_call_data(call);
	uint8_t digest[SHA256_LEN];
	unsigned dlen = 0;
	char why[300];
	int r;

	if (in == NULL) {
		grpc_call_finish(call, GRPC_STATUS_INVALID_ARGUMENT, "empty snapshot");
		return;
	}
	if (in->ended) {
		return;
	}
	if (in->got != in->size || !in->have_digest ||
	    EVP_DigestFinal_ex(in->sha, digest, &dlen) != 1 ||
	    dlen != SHA256_LEN || memcmp(digest, in->digest, SHA256_LEN) != 0) {
		log_warn("peer %016" PRIx64 ": snapshot refused: %" PRIu64
			 " of %" PRIu64 " bytes, %s",
			 in->from, in->got, in->size,
			 in->have_digest ? "sha-256 mismatch" : "no sha-256");
		snap_in_end(call, in, GRPC_STATUS_DATA_LOSS,
			    "snapshot size or sha-256 mismatch");
		return;
	}
	if (fsync(in->fd) < 0) {
		snprintf(why, sizeof(why), "syncing the snapshot: %s", strerror(errno));
		snap_in_end(call, in, GRPC_STATUS_UNAVAILABLE, why);
		return;
	}
	close(in->fd);
	in->fd = -1;
	r = t->cfg.on_snapshot(t->cfg.arg, in->from, in->msg, in->msg_len,
			       in->path);
	if (r < 0) {
		snprintf(why, sizeof(why), "the member did not take the snapshot (%d)", r);
		snap_in_end(call, in, GRPC_STATUS_UNAVAILABLE, why);
		return;
	}
	in->path[0] = '\0'; /* the member owns the file now */
	snap_in_end(call, in, GRPC_STATUS_OK, NULL);
}

static void snap_in_close(struct grpc_call *call, void *arg)
{
	struct snap_in *in = grpc_call_data(call);

	(void)arg;
	grpc_call_set_data(call, NULL);
	if (in != NULL) {
		snap_in_free(in);
	}
}

static struct grpc_method snap_in_method(struct peer_transport *t)
{
	return (struct grpc_method){PEER_SNAPSHOT_PATH, GRPC_CLIENT_STREAM,
				    snap_in_message, snap_in_half_close, NULL,
				    snap_in_close, t};
}
