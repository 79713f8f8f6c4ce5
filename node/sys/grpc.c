/*
 * grpc.c - gRPC over HTTP/2 with nghttp2 and libevent (grpc.h).
 *
 * Shape: nghttp2 is a protocol engine without I/O.  A connection feeds it
 * socket bytes (conn_read_cb -> nghttp2_session_mem_recv) and pulls frames
 * out of it into the socket (conn_flush -> nghttp2_session_mem_send).
 * Handlers never run nghttp2's send side themselves: grpc_call_send and
 * grpc_call_finish only queue and schedule the connection's flush event, so
 * calls and connections are freed only from the connection's own loop
 * callbacks, never under a handler's feet (Redis' rule: mark, then free at a
 * safe point).
 *
 * Ordering rules:
 *  1. A response's HEADERS go out with its first message or with its
 *     status (trailers-only); trailers go out only after every queued
 *     message (data_read submits them when the queue is empty).
 *  2. on_close runs from on_stream_close or from conn_free, exactly once.
 */
#include "sys/grpc.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "sys/grpc_wire.h"

#define MAX_HEADERS 32
#define MAX_HEADER_BYTES 16384
#define CONN_WINDOW (1 << 20) /* per-stream receive window we advertise */

struct header {
	char *name;
	char *value;
};

struct grpc_server {
	struct event_base *base;
	struct grpc_server_config cfg;
	struct list_node conns;
	size_t n_conns;
	bool shutting_down;
};

struct grpc_conn {
	struct list_node node;
	struct grpc_server *srv;
	struct bufferevent *bev;
	nghttp2_session *h2;
	struct event *flush_ev;
	struct list_node calls;
	bool dead; /* socket error or EOF: free at the next safe point */
};

struct grpc_call {
	struct list_node node;
	struct grpc_conn *conn;
	int32_t stream_id;
	const struct grpc_method *method;
	struct header headers[MAX_HEADERS];
	size_t n_headers;
	size_t header_bytes;
	struct buf in;  /* request bytes not yet framed into messages */
	struct grpc_queue out; /* framed response messages */
	uint8_t *unary_msg; /* unary / server stream: held until half-close */
	size_t unary_len;
	bool have_unary;
	bool headers_sent;
	bool deferred; /* data provider paused waiting for output */
	bool finished; /* grpc_call_finish called (or an error answered) */
	bool closed;   /* on_close delivered */
	bool want_writable;
	bool rejected; /* request refused before dispatch: ignore its data */
	bool client_done; /* the client half-closed its side */
	enum grpc_status status;
	char *message;
	uint64_t deadline_ns;
	struct event *deadline_ev;
	void *data;
};

static void conn_schedule_flush(struct grpc_conn *c);
static void conn_free(struct grpc_conn *c);

/* --- small helpers ------------------------------------------------------ */

int grpc_parse_timeout(const char *s, uint64_t *out_ns)
{
	uint64_t v = 0, mult;
	size_t n = strlen(s);

	/* etcd compat: grpc-go sends at most 8 digits and one unit. */
	if (n < 2 || n > 9) {
		return -EINVAL;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return -EINVAL;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	switch (s[n - 1]) {
	case 'H':
		mult = 3600 * NSEC_PER_SEC;
		break;
	case 'M':
		mult = 60 * NSEC_PER_SEC;
		break;
	case 'S':
		mult = NSEC_PER_SEC;
		break;
	case 'm':
		mult = NSEC_PER_MSEC;
		break;
	case 'u':
		mult = NSEC_PER_USEC;
		break;
	case 'n':
		mult = 1;
		break;
	default:
		return -EINVAL;
	}
	*out_ns = v * mult;
	return 0;
}

#define NV(n, v)                                                               \
	{                                                                      \
		(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v),      \
			NGHTTP2_NV_FLAG_NO_COPY_NAME                           \
	}

/* --- calls --------------------------------------------------------------- */

static void call_free(struct grpc_call *call)
{
	for (size_t i = 0; i < call->n_headers; i++) {
		mem_free(call->headers[i].name);
		mem_free(call->headers[i].value);
	}
	if (call->deadline_ev != NULL) {
		event_free(call->deadline_ev);
	}
	buf_done(&call->in);
	grpc_queue_done(&call->out);
	mem_free(call->unary_msg);
	mem_free(call->message);
	list_remove(&call->node);
	mem_free(call);
}

static void call_close(struct grpc_call *call)
{
	if (!call->closed) {
		call->closed = true;
		call->finished = true;
		if (call->method != NULL && call->method->on_close != NULL) {
			call->method->on_close(call, call->method->arg);
		}
	}
}

static ssize_t data_read(nghttp2_session *s, int32_t sid, uint8_t *dst,
			 size_t length, uint32_t *flags, nghttp2_data_source *src,
			 void *user)
{
	struct grpc_call *call = src->ptr;
	size_t n = grpc_queue_take(&call->out, dst, length);

	(void)user;
	if (n > 0 && grpc_queue_len(&call->out) < GRPC_CALL_MAX_QUEUED / 2) {
		call->want_writable = true;
	}
	if (grpc_queue_len(&call->out) > 0) {
		return (ssize_t)n;
	}
	if (!call->finished) {
		if (n == 0) {
			call->deferred = true;
			return NGHTTP2_ERR_DEFERRED;
		}
		return (ssize_t)n;
	}
	/* Everything queued is out: end DATA without END_STREAM, then trailers. */
	{
		char status[16] = ""; /* NV() takes strlen() at once */
		char *msg = call->message ? grpc_percent_encode(call->message) : NULL;
		nghttp2_nv nv[2] = {NV("grpc-status", status), NV("grpc-message", "")};
		size_t n_nv = 1;

		snprintf(status, sizeof(status), "%d", (int)call->status);
		nv[0].valuelen = strlen(status);
		if (msg != NULL && *msg != '\0') {
			nv[1].value = (uint8_t *)msg;
			nv[1].valuelen = strlen(msg);
			n_nv = 2;
		}
		*flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
		/* nghttp2 copies the values; msg can go. */
		if (nghttp2_submit_trailer(s, sid, nv, n_nv) != 0) {
			mem_free(msg);
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		}
		mem_free(msg);
	}
	return (ssize_t)n;
}

/* Send the response HEADERS with a data provider (first message). */
static int call_start_response(struct grpc_call *call)
{
	nghttp2_nv nv[] = {NV(":status", "200"),
			   NV("content-type", "application/grpc")};
	nghttp2_data_provider prd = {.source.ptr = call, .read_callback = data_read};

	if (nghttp2_submit_response(call->conn->h2, call->stream_id, nv, 2, &prd) != 0) {
		return -EIO;
	}
	call->headers_sent = true;
	return 0;
}

int grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len)
{
	int r;

	if (call->finished || call->closed) {
		return -EPIPE;
	}
	r = grpc_queue_push(&call->out, msg, len, GRPC_CALL_MAX_QUEUED);
	if (r < 0) {
		return r;
	}
	if (!call->headers_sent) {
		r = call_start_response(call);
		if (r < 0) {
			return r;
		}
	} else if (call->deferred) {
		call->deferred = false;
		nghttp2_session_resume_data(call->conn->h2, call->stream_id);
	}
	conn_schedule_flush(call->conn);
	return 0;
}

int grpc_call_finish(struct grpc_call *call, enum grpc_status status,
		     const char *message)
{
	if (call->finished || call->closed) {
		return -EPIPE;
	}
	call->finished = true;
	call->status = status;
	if (message != NULL) {
		call->message = mem_strdup(message);
	}
	if (!call->headers_sent) {
		/* Trailers-only response: one HEADERS frame with END_STREAM. */
		char st[16] = "";
		char *msg = message ? grpc_percent_encode(message) : NULL;
		nghttp2_nv nv[] = {NV(":status", "200"),
				   NV("content-type", "application/grpc"),
				   NV("grpc-status", st), NV("grpc-message", "")};
		size_t n_nv = 3;

		/* st is empty above: NV takes strlen() when nv is built. */
		snprintf(st, sizeof(st), "%d", (int)status);
		nv[2].valuelen = strlen(st);
		if (msg != NULL && *msg != '\0') {
			nv[3].value = (uint8_t *)msg;
			nv[3].valuelen = strlen(msg);
			n_nv = 4;
		}
		nghttp2_submit_response(call->conn->h2, call->stream_id, nv, n_nv, NULL);
		mem_free(msg);
		call->headers_sent = true;
	} else if (call->deferred) {
		call->deferred = false;
		nghttp2_session_resume_data(call->conn->h2, call->stream_id);
	}
	conn_schedule_flush(call->conn);
	return 0;
}

size_t grpc_call_queued(const struct grpc_call *call)
{
	return grpc_queue_len(&call->out);
}

const char *grpc_call_header(const struct grpc_call *call, const char *name)
{
	for (size_t i = 0; i < call->n_headers; i++) {
		if (strcmp(call->headers[i].name, name) == 0) {
			return call->headers[i].value;
		}
	}
	return NULL;
}

const char *grpc_call_path(const struct grpc_call *call)
{
	const char *p = grpc_call_header(call, ":path");

	return p != NULL ? p : "";
}

uint64_t grpc_call_deadline_ns(const struct grpc_call *call)
{
	return call->deadline_ns;
}

void grpc_call_set_data(struct grpc_call *call, void *data)
{
	call->data = data;
}

void *grpc_call_data(const struct grpc_call *call)
{
	return call->data;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_call *call = arg;

	(void)fd;
	(void)what;
	/* etcd compat: grpc-go reports an expired deadline this way. */
	grpc_call_finish(call, GRPC_STATUS_DEADLINE_EXCEEDED,
			 "context deadline exceeded");
}

/* Refuse a request before any handler saw it. */
static void call_reject(struct grpc_call *call, enum grpc_status st, const char *msg)
{
	call->rejected = true;
	grpc_call_finish(call, st, msg);
}

/* Headers complete: find the method, arm the deadline. */
static void call_dispatch(struct grpc_call *call)
{
	const struct grpc_server_config *cfg = &call->conn->srv->cfg;
	const char *path = grpc_call_path(call);
	const char *ct = grpc_call_header(call, "content-type");
	const char *timeout = grpc_call_header(call, "grpc-timeout");
	char msg[300];

	if (ct == NULL || strncmp(ct, "application/grpc", 16) != 0) {
		call_reject(call, GRPC_STATUS_INTERNAL, "invalid gRPC request content-type");
		return;
	}
	for (size_t i = 0; i < cfg->n_methods; i++) {
		if (strcmp(cfg->methods[i].path, path) == 0) {
			call->method = &cfg->methods[i];
			break;
		}
	}
	if (call->method == NULL) {
		snprintf(msg, sizeof(msg), "unknown method %s: not implemented by cetcd", path);
		call_reject(call, GRPC_STATUS_UNIMPLEMENTED, msg);
		return;
	}
	if (timeout != NULL) {
		uint64_t ns;
		if (grpc_parse_timeout(timeout, &ns) < 0) {
			call_reject(call, GRPC_STATUS_INTERNAL, "malformed grpc-timeout");
			return;
		}
		call->deadline_ns = timeutil_mono_ns() + ns;
		call->deadline_ev = evtimer_new(call->conn->srv->base, deadline_cb, call);
		if (call->deadline_ev != NULL) {
			struct timeval tv = {(time_t)(ns / NSEC_PER_SEC),
					     (suseconds_t)(ns % NSEC_PER_SEC / 1000)};
			evtimer_add(call->deadline_ev, &tv);
		}
	}
}

static int call_take_one(const uint8_t *msg, size_t len, void *arg)
{
	struct grpc_call *call = arg;

	if (call->method->kind == GRPC_UNARY || call->method->kind == GRPC_SERVER_STREAM) {
		if (call->have_unary) {
			call_reject(call, GRPC_STATUS_INTERNAL,
				    "more than one request message for a unary method");
			return 1;
		}
		call->unary_msg = mem_dup(msg, len);
		if (call->unary_msg == NULL) {
			call_reject(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
			return 1;
		}
		call->unary_len = len;
		call->have_unary = true;
	} else {
		call->method->on_message(call, msg, len, call->method->arg);
	}
	/* The handler may have finished the call: stop delivering. */
	return call->finished ? 1 : 0;
}

/* Frame complete request messages out of call->in and deliver them. */
static void call_take_messages(struct grpc_call *call)
{
	size_t too_big = 0;
	int r = grpc_deframe(&call->in, call->conn->srv->cfg.max_recv_msg,
			     call_take_one, call, &too_big);

	if (r == -ENOTSUP) {
		call_reject(call, GRPC_STATUS_UNIMPLEMENTED,
			    "compressed messages are not supported");
	} else if (r == -EMSGSIZE) {
		char msg[128];
		/* etcd compat: grpc-go's wording, which clients show verbatim. */
		snprintf(msg, sizeof(msg),
			 "grpc: received message larger than max (%zu vs. %zu)", too_big,
			 call->conn->srv->cfg.max_recv_msg);
		call_reject(call, GRPC_STATUS_RESOURCE_EXHAUSTED, msg);
	}
}

static void call_half_close(struct grpc_call *call)
{
	if (call->finished || call->method == NULL) {
		return;
	}
	if (call->in.len > 0) {
		call_reject(call, GRPC_STATUS_INTERNAL, "truncated request message");
		return;
	}
	if (call->method->kind == GRPC_UNARY || call->method->kind == GRPC_SERVER_STREAM) {
		if (!call->have_unary) {
			call_reject(call, GRPC_STATUS_INTERNAL, "no request message");
			return;
		}
		call->method->on_message(call, call->unary_msg, call->unary_len,
					 call->method->arg);
	} else if (call->method->on_half_close != NULL) {
		call->method->on_half_close(call, call->method->arg);
	}
}

/* --- nghttp2 callbacks -------------------------------------------------- */

static int on_begin_headers(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct grpc_conn *c = user;
	struct grpc_call *call;

	if (f->hd.type != NGHTTP2_HEADERS || f->headers.cat != NGHTTP2_HCAT_REQUEST) {
		return 0;
	}
	call = mem_calloc(1, sizeof(*call));
	if (call == NULL) {
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
					  NGHTTP2_INTERNAL_ERROR);
		return 0;
	}
	call->conn = c;
	call->stream_id = f->hd.stream_id;
	buf_init(&call->in);
	list_push_back(&c->calls, &call->node);
	nghttp2_session_set_stream_user_data(s, f->hd.stream_id, call);
	return 0;
}

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen,
		     uint8_t flags, void *user)
{
	struct grpc_call *call = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	struct header *h;

	(void)flags;
	(void)user;
	if (call == NULL || f->hd.type != NGHTTP2_HEADERS ||
	    f->headers.cat != NGHTTP2_HCAT_REQUEST) {
		return 0; /* trailers from the client carry nothing we use */
	}
	call->header_bytes += namelen + valuelen;
	if (call->n_headers == MAX_HEADERS || call->header_bytes > MAX_HEADER_BYTES) {
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets the stream */
	}
	h = &call->headers[call->n_headers];
	h->name = mem_strndup((const char *)name, namelen);
	h->value = mem_strndup((const char *)value, valuelen);
	if (h->name == NULL || h->value == NULL) {
		mem_free(h->name);
		mem_free(h->value);
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	}
	call->n_headers++;
	return 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t sid,
			 const uint8_t *data, size_t len, void *user)
{
	struct grpc_call *call = nghttp2_session_get_stream_user_data(s, sid);

	(void)flags;
	(void)user;
	if (call == NULL || call->rejected || call->finished || call->method == NULL) {
		return 0; /* the answer is decided; drop the bytes */
	}
	if (buf_append(&call->in, data, len) < 0) {
		call_reject(call, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory");
		return 0;
	}
	call_take_messages(call);
	return 0;
}

static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct grpc_call *call;

	(void)user;
	if (f->hd.type != NGHTTP2_HEADERS && f->hd.type != NGHTTP2_DATA) {
		return 0;
	}
	call = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (call == NULL) {
		return 0;
	}
	if (f->hd.type == NGHTTP2_HEADERS && f->headers.cat == NGHTTP2_HCAT_REQUEST) {
		call_dispatch(call);
	}
	if (f->hd.flags & NGHTTP2_FLAG_END_STREAM) {
		call->client_done = true;
		if (!call->rejected) {
			call_half_close(call);
		}
	}
	return 0;
}

/*
 * Our status went out while the client still has its side open (a stream
 * refused or ended early): reset the stream with NO_ERROR, as gRPC servers
 * do, so that it closes on both ends instead of waiting for the client.
 */
static int on_frame_send(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct grpc_call *call;

	(void)user;
	if (f->hd.type != NGHTTP2_HEADERS || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
		return 0;
	}
	call = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (call != NULL && !call->client_done) {
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
					  NGHTTP2_NO_ERROR);
	}
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t sid, uint32_t code, void *user)
{
	struct grpc_call *call = nghttp2_session_get_stream_user_data(s, sid);

	(void)code;
	(void)user;
	if (call == NULL) {
		return 0;
	}
	nghttp2_session_set_stream_user_data(s, sid, NULL);
	call_close(call);
	call_free(call);
	return 0;
}

/* --- connections ----------------------------------------------------------- */

/* Pull frames out of nghttp2 into the socket while it has room (invariant 3). */
static void conn_flush(struct grpc_conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct list_node *pos, *tmp;

	while (!c->dead && nghttp2_session_want_write(c->h2) &&
	       evbuffer_get_length(out) < GRPC_CONN_MAX_OUTPUT) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2, &data);
		if (n < 0) {
			log_debug("grpc: nghttp2 send failed: %s", nghttp2_strerror((int)n));
			c->dead = true;
			break;
		}
		if (n == 0) {
			break;
		}
		if (bufferevent_write(c->bev, data, (size_t)n) < 0) {
			c->dead = true;
			break;
		}
	}
	/* Stop reading while the client is not reading our answers. */
	if (evbuffer_get_length(out) >= GRPC_CONN_MAX_OUTPUT) {
		bufferevent_disable(c->bev, EV_READ);
	} else if (!c->dead) {
		bufferevent_enable(c->bev, EV_READ);
	}
	/* Producers waiting for room (deferred so that they may send). */
	list_for_each_safe(pos, tmp, &c->calls) {
		struct grpc_call *call = list_entry(pos, struct grpc_call, node);
		if (call->want_writable) {
			call->want_writable = false;
			if (!call->finished && call->method != NULL &&
			    call->method->on_writable != NULL) {
				call->method->on_writable(call, call->method->arg);
			}
		}
	}
}

/* The safe point: flush, then free the connection if it is over. */
static void conn_settle(struct grpc_conn *c)
{
	conn_flush(c);
	if (c->dead || (!nghttp2_session_want_read(c->h2) &&
			!nghttp2_session_want_write(c->h2) &&
			evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)) {
		conn_free(c);
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_settle(arg);
}

static void conn_schedule_flush(struct grpc_conn *c)
{
	event_active(c->flush_ev, EV_WRITE, 0);
}

static void conn_feed(struct grpc_conn *c, const uint8_t *p, size_t n)
{
	ssize_t r = nghttp2_session_mem_recv(c->h2, p, n);

	if (r < 0) {
		log_debug("grpc: bad HTTP/2 input: %s", nghttp2_strerror((int)r));
		/* nghttp2 queued a GOAWAY for protocol errors; send it, then close. */
		conn_flush(c);
		c->dead = true;
	}
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
	struct grpc_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (!c->dead && evbuffer_get_length(in) > 0) {
		size_t n = evbuffer_get_contiguous_space(in);
		const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
		conn_feed(c, p, n);
		evbuffer_drain(in, n);
	}
	conn_settle(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	conn_settle(arg);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct grpc_conn *c = arg;

	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		c->dead = true;
		conn_free(c);
	}
}

static void conn_free(struct grpc_conn *c)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->calls) {
		struct grpc_call *call = list_entry(pos, struct grpc_call, node);
		call_close(call);
		call_free(call);
	}
	nghttp2_session_del(c->h2);
	event_free(c->flush_ev);
	bufferevent_free(c->bev); /* closes the socket */
	list_remove(&c->node);
	c->srv->n_conns--;
	mem_free(c);
}

int grpc_server_adopt(struct grpc_server *srv, int fd, const uint8_t *prefix,
		      size_t n)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_option *opt = NULL;
	nghttp2_settings_entry settings[2];
	struct grpc_conn *c;
	int r;

	if (srv->shutting_down) {
		close(fd);
		return -ESHUTDOWN;
	}
	c = mem_calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	c->srv = srv;
	list_init(&c->calls);
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	{
		/* Small answers must not wait for Nagle (unary latency). */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->flush_ev = event_new(srv->base, -1, 0, flush_cb, c);
	if (c->bev == NULL || c->flush_ev == NULL ||
	    nghttp2_session_callbacks_new(&cbs) != 0) {
		if (c->bev != NULL) {
			bufferevent_free(c->bev);
		} else {
			close(fd);
		}
		if (c->flush_ev != NULL) {
			event_free(c->flush_ev);
		}
		mem_free(c);
		return -ENOMEM;
	}
	nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_send_callback(cbs, on_frame_send);
	/*
	 * etcd compat: clientv3 dials single endpoints (etcdctl endpoint
	 * status, endpoint hashkv, ...) through grpc-go's passthrough
	 * resolver, whose :authority is the whole URL
	 * ("http://127.0.0.1:2379").  nghttp2's HTTP messaging checks reset
	 * such a stream with PROTOCOL_ERROR ('/' is not an authority
	 * character); grpc-go's server accepts it.  gRPC needs none of those
	 * checks (a missing :path is an unknown method here), so they are off.
	 */
	r = nghttp2_option_new(&opt);
	if (r == 0) {
		nghttp2_option_set_no_http_messaging(opt, 1);
		r = nghttp2_session_server_new3(&c->h2, cbs, c, opt, &grpc_h2_mem);
		nghttp2_option_del(opt);
	}
	nghttp2_session_callbacks_del(cbs);
	if (r != 0) {
		bufferevent_free(c->bev);
		event_free(c->flush_ev);
		mem_free(c);
		return -ENOMEM;
	}
	settings[0].settings_id = NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS;
	settings[0].value = srv->cfg.max_concurrent_streams ? srv->cfg.max_concurrent_streams
							    : 1000;
	settings[1].settings_id = NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE;
	settings[1].value = CONN_WINDOW;
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, settings, 2);
	list_push_back(&srv->conns, &c->node);
	srv->n_conns++;
	bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
	/* The write callback fires when the socket drained to half the limit. */
	bufferevent_setwatermark(c->bev, EV_WRITE, GRPC_CONN_MAX_OUTPUT / 2, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (n > 0) {
		conn_feed(c, prefix, n);
	}
	conn_schedule_flush(c);
	return 0;
}

struct grpc_server *grpc_server_new(struct event_base *base,
				    const struct grpc_server_config *cfg)
{
	struct grpc_server *srv = mem_calloc(1, sizeof(*srv));

	if (srv == NULL) {
		return NULL;
	}
	srv->base = base;
	srv->cfg = *cfg;
	list_init(&srv->conns);
	return srv;
}

void grpc_server_shutdown(struct grpc_server *srv)
{
	struct list_node *pos;

	srv->shutting_down = true;
	list_for_each(pos, &srv->conns) {
		struct grpc_conn *c = list_entry(pos, struct grpc_conn, node);
		nghttp2_submit_goaway(c->h2, NGHTTP2_FLAG_NONE,
				      nghttp2_session_get_last_proc_stream_id(c->h2),
				      NGHTTP2_NO_ERROR, NULL, 0);
		conn_schedule_flush(c);
	}
}

void grpc_server_free(struct grpc_server *srv)
{
	struct list_node *pos, *tmp;

	if (srv == NULL) {
		return;
	}
	list_for_each_safe(pos, tmp, &srv->conns) {
		conn_free(list_entry(pos, struct grpc_conn, node));
	}
	mem_free(srv);
}

size_t grpc_server_n_conns(const struct grpc_server *srv)
{
	return srv->n_conns;
}
