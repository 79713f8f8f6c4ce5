/*
 * grpc_client.c - gRPC client over one HTTP/2 connection (grpc_client.h).
 *
 * Same shape as the server (grpc.c): nghttp2 is fed from the socket in the
 * read callback and drained into it from conn_flush, which runs from the
 * client's own flush event; sends only queue.  Every libevent entry point
 * brackets itself with enter()/leave() so that grpc_client_free() from a
 * callback is carried out when the outermost entry returns.
 *
 * Invariants:
 *  1. A call is submitted to nghttp2 only once the connection is up; before
 *     that it waits, with its queue, on c->calls.
 *  2. Every call gets exactly one on_close, before the client's
 *     on_state(false) and before the client is freed.
 */
#include "sys/grpc_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "sys/grpc_wire.h"

#define MAX_REQ_HEADERS 16

struct grpc_client {
	struct event_base *base;
	struct bufferevent *bev;
	struct event *flush_ev;
	nghttp2_session *h2;
	char *authority;
	const struct grpc_client_ops *ops;
	void *arg;
	struct list_node calls;
	int depth;
	bool connected;
	bool dead;     /* connection over: no new calls */
	bool reported; /* on_state(false) delivered */
	bool freeing;  /* grpc_client_free() called inside a callback */
	int err;       /* why a connection that never came up failed */
};

struct grpc_client_call {
	struct list_node node;
	struct grpc_client *c;
	char *path;
	char *headers[2 * MAX_REQ_HEADERS];
	size_t n_headers;
	int32_t stream_id; /* 0 until submitted */
	const struct grpc_client_call_ops *ops;
	void *arg;
	struct grpc_queue out;
	struct buf in;
	bool half_closed;
	bool deferred;
	bool cancelled;
	bool closed;
	bool want_writable;
	int http_status;
	bool have_status;
	enum grpc_status status;
	char *message;
};

static void client_really_free(struct grpc_client *c);

static void enter(struct grpc_client *c)
{
	c->depth++;
}

/* Returns false when the client is gone and must not be touched. */
static bool leave(struct grpc_client *c)
{
	if (--c->depth == 0 && c->freeing) {
		client_really_free(c);
		return false;
	}
	return true;
}

static void call_free(struct grpc_client_call *call)
{
	list_remove(&call->node);
	for (size_t i = 0; i < call->n_headers; i++) {
		mem_free(call->headers[i]);
	}
	mem_free(call->path);
	mem_free(call->message);
	grpc_queue_done(&call->out);
	buf_done(&call->in);
	mem_free(call);
}

static void call_close(struct grpc_client_call *call, enum grpc_status st,
		       const char *msg)
{
	if (call->closed) {
		return;
	}
	call->closed = true;
	if (call->c->h2 != NULL && call->stream_id > 0) {
		nghttp2_session_set_stream_user_data(call->c->h2, call->stream_id, NULL);
	}
	if (call->ops->on_close != NULL) {
		call->ops->on_close(call, st, msg, call->arg);
	}
	call_free(call);
}

/* The connection is over: close every call, then tell the owner once. */
static void client_fail(struct grpc_client *c, int err)
{
	struct list_node *pos, *tmp;

	c->dead = true;
	c->connected = false;
	list_for_each_safe(pos, tmp, &c->calls) {
		struct grpc_client_call *call =
			list_entry(pos, struct grpc_client_call, node);
		call_close(call, GRPC_STATUS_UNAVAILABLE, "connection to the peer lost");
	}
	if (!c->reported) {
		c->reported = true;
		if (c->ops->on_state != NULL) {
			c->ops->on_state(c, false, err, c->arg);
		}
	}
}

static void schedule_flush(struct grpc_client *c)
{
	if (c->flush_ev != NULL) {
		event_active(c->flush_ev, EV_WRITE, 0);
	}
}

static ssize_t data_read(nghttp2_session *s, int32_t sid, uint8_t *dst, size_t length,
			 uint32_t *flags, nghttp2_data_source *src, void *user)
{
	struct grpc_client_call *call = src->ptr;
	size_t n = grpc_queue_take(&call->out, dst, length);

	(void)s;
	(void)sid;
	(void)user;
	if (n > 0 && grpc_queue_len(&call->out) < GRPC_CALL_MAX_QUEUED / 2) {
		call->want_writable = true;
	}
	if (grpc_queue_len(&call->out) == 0) {
		if (call->half_closed) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		} else if (n == 0) {
			call->deferred = true;
			return NGHTTP2_ERR_DEFERRED;
		}
	}
	return (ssize_t)n;
}

static int call_submit(struct grpc_client_call *call)
{
	struct grpc_client *c = call->c;
	nghttp2_nv nv[6 + MAX_REQ_HEADERS];
	nghttp2_data_provider prd = {.source.ptr = call, .read_callback = data_read};
	size_t n = 0;
	int32_t sid;

#define ADD_NV(n_, v_)                                                         \
	nv[n++] = (nghttp2_nv){(uint8_t *)(n_), (uint8_t *)(v_), strlen(n_),   \
			       strlen(v_), NGHTTP2_NV_FLAG_NONE}
	ADD_NV(":method", "POST");
	ADD_NV(":scheme", "http");
	ADD_NV(":path", call->path);
	ADD_NV(":authority", c->authority);
	ADD_NV("content-type", "application/grpc");
	ADD_NV("te", "trailers");
	for (size_t i = 0; i + 1 < call->n_headers; i += 2) {
		ADD_NV(call->headers[i], call->headers[i + 1]);
	}
#undef ADD_NV
	sid = nghttp2_submit_request(c->h2, NULL, nv, n, &prd, call);
	if (sid < 0) {
		return -EIO;
	}
	call->stream_id = sid;
	return 0;
}

/* --- nghttp2 callbacks -------------------------------------------------- */

static int on_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen,
		     uint8_t flags, void *user)
{
	struct grpc_client_call *call =
		nghttp2_session_get_stream_user_data(s, f->hd.stream_id);

	(void)flags;
	(void)user;
	if (call == NULL || f->hd.type != NGHTTP2_HEADERS) {
		return 0;
	}
	if (namelen == 7 && memcmp(name, ":status", 7) == 0) {
		call->http_status = atoi((const char *)value);
	} else if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0) {
		char tmp[16];
		snprintf(tmp, sizeof(tmp), "%.*s", (int)(valuelen < 15 ? valuelen : 15),
			 (const char *)value);
		call->status = (enum grpc_status)atoi(tmp);
		call->have_status = true;
	} else if (namelen == 12 && memcmp(name, "grpc-message", 12) == 0) {
		mem_free(call->message);
		call->message = mem_strndup((const char *)value, valuelen);
		if (call->message != NULL) {
			grpc_percent_decode(call->message);
		}
	}
	return 0;
}

static int deliver(const uint8_t *msg, size_t len, void *arg)
{
	struct grpc_client_call *call = arg;

	call->ops->on_message(call, msg, len, call->arg);
	return call->cancelled ? 1 : 0;
}

static int on_data_chunk(nghttp2_session *s, uint8_t flags, int32_t sid,
			 const uint8_t *data, size_t len, void *user)
{
	struct grpc_client_call *call = nghttp2_session_get_stream_user_data(s, sid);

	(void)flags;
	(void)user;
	if (call == NULL || call->cancelled) {
		return 0;
	}
	if (buf_append(&call->in, data, len) < 0 ||
	    grpc_deframe(&call->in, 0, deliver, call, NULL) < 0) {
		call->cancelled = true;
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, sid, NGHTTP2_INTERNAL_ERROR);
	}
	return 0;
}

/*
 * The server's trailers end the call even if our side is still open (a
 * refused stream): report the status now and reset our half.
 */
static int on_frame_recv(nghttp2_session *s, const nghttp2_frame *f, void *user)
{
	struct grpc_client_call *call;

	(void)user;
	if (f->hd.type != NGHTTP2_HEADERS || !(f->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
		return 0;
	}
	call = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
	if (call == NULL || !call->have_status) {
		return 0;
	}
	if (!call->half_closed) {
		nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, f->hd.stream_id,
					  NGHTTP2_NO_ERROR);
	}
	call_close(call, call->status, call->message);
	return 0;
}

static int on_stream_close(nghttp2_session *s, int32_t sid, uint32_t code, void *user)
{
	struct grpc_client_call *call = nghttp2_session_get_stream_user_data(s, sid);
	char msg[96];

	(void)user;
	if (call == NULL) {
		return 0;
	}
	if (call->have_status) {
		call_close(call, call->status, call->message);
	} else if (call->cancelled) {
		call_close(call, GRPC_STATUS_CANCELLED, "call cancelled");
	} else if (call->http_status != 0 && call->http_status != 200) {
		snprintf(msg, sizeof(msg), "unexpected HTTP status %d", call->http_status);
		call_close(call, GRPC_STATUS_UNKNOWN, msg);
	} else {
		snprintf(msg, sizeof(msg), "stream closed without status (HTTP/2 error %u)",
			 code);
		call_close(call, GRPC_STATUS_UNAVAILABLE, msg);
	}
	return 0;
}

/* --- connection ---------------------------------------------------------- */

static void conn_flush(struct grpc_client *c)
{
	struct evbuffer *out;
	struct list_node *pos, *tmp;

	if (c->h2 == NULL || c->dead) {
		return;
	}
	out = bufferevent_get_output(c->bev);
	while (nghttp2_session_want_write(c->h2) &&
	       evbuffer_get_length(out) < GRPC_CONN_MAX_OUTPUT) {
		const uint8_t *data;
		ssize_t n = nghttp2_session_mem_send(c->h2, &data);
		if (n < 0) {
			client_fail(c, -EPROTO);
			return;
		}
		if (n == 0) {
			break;
		}
		if (bufferevent_write(c->bev, data, (size_t)n) < 0) {
			client_fail(c, -ENOMEM);
			return;
		}
	}
	list_for_each_safe(pos, tmp, &c->calls) {
		struct grpc_client_call *call =
			list_entry(pos, struct grpc_client_call, node);
		if (call->want_writable) {
			call->want_writable = false;
			if (call->ops->on_writable != NULL) {
				call->ops->on_writable(call, call->arg);
			}
		}
	}
	if (!c->dead && !nghttp2_session_want_read(c->h2) &&
	    !nghttp2_session_want_write(c->h2)) {
		client_fail(c, -ECONNRESET); /* GOAWAY received and streams done */
	}
}

/* Calls cancelled before they reached nghttp2 end here, from the loop. */
static void close_unsubmitted_cancelled(struct grpc_client *c)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->calls) {
		struct grpc_client_call *call =
			list_entry(pos, struct grpc_client_call, node);
		if (call->cancelled && call->stream_id == 0) {
			call_close(call, GRPC_STATUS_CANCELLED, "call cancelled");
		}
	}
}

static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct grpc_client *c = arg;

	(void)fd;
	(void)what;
	enter(c);
	close_unsubmitted_cancelled(c);
	if (c->dead) {
		client_fail(c, c->err); /* a connect that failed at once */
	} else {
		conn_flush(c);
	}
	leave(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct grpc_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	enter(c);
	while (!c->dead && evbuffer_get_length(in) > 0) {
		size_t n = evbuffer_get_contiguous_space(in);
		const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
		ssize_t r = nghttp2_session_mem_recv(c->h2, p, n);
		evbuffer_drain(in, n);
		if (r < 0) {
			log_debug("grpc client: bad HTTP/2 input: %s",
				  nghttp2_strerror((int)r));
			client_fail(c, -EPROTO);
		}
	}
	conn_flush(c);
	leave(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	flush_cb(-1, 0, arg);
}

static int session_start(struct grpc_client *c)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry set[] = {
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
	};
	struct list_node *pos;
	int r;

	if (nghttp2_session_callbacks_new(&cbs) != 0) {
		return -ENOMEM;
	}
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame_recv);
	r = nghttp2_session_client_new3(&c->h2, cbs, c, NULL, &grpc_h2_mem);
	nghttp2_session_callbacks_del(cbs);
	if (r != 0) {
		return -ENOMEM;
	}
	nghttp2_submit_settings(c->h2, NGHTTP2_FLAG_NONE, set, 1);
	list_for_each(pos, &c->calls) {
		struct grpc_client_call *call =
			list_entry(pos, struct grpc_client_call, node);
		if (!call->cancelled && call_submit(call) < 0) {
			return -EIO;
		}
	}
	return 0;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct grpc_client *c = arg;

	enter(c);
	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;
		int fd = bufferevent_getfd(bev);
		/* Raft heartbeats and appends are small: do not let Nagle hold them. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (session_start(c) < 0) {
			client_fail(c, -ENOMEM);
		} else {
			c->connected = true;
			if (c->ops->on_state != NULL) {
				c->ops->on_state(c, true, 0, c->arg);
			}
			conn_flush(c);
		}
	} else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		int err = EVUTIL_SOCKET_ERROR();
		client_fail(c, err != 0 ? -err : -ECONNRESET);
	}
	leave(c);
}

struct grpc_client *grpc_client_new(struct event_base *base, struct evdns_base *dns,
				    const char *host, int port,
				    const struct grpc_client_ops *ops, void *arg)
{
	struct grpc_client *c = mem_calloc(1, sizeof(*c));
	char auth[300];

	if (c == NULL) {
		return NULL;
	}
	snprintf(auth, sizeof(auth), "%s:%d", host, port);
	c->base = base;
	c->ops = ops;
	c->arg = arg;
	list_init(&c->calls);
	c->authority = mem_strdup(auth);
	c->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	c->flush_ev = event_new(base, -1, 0, flush_cb, c);
	if (c->authority == NULL || c->bev == NULL || c->flush_ev == NULL) {
		client_really_free(c);
		return NULL;
	}
	bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, GRPC_CONN_MAX_OUTPUT / 2, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect_hostname(c->bev, dns, AF_UNSPEC, host, port) < 0) {
		/* Reported from the loop like any other failure, never inline. */
		c->dead = true;
		c->err = -EHOSTUNREACH;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		schedule_flush(c);
	}
	return c;
}

static void client_really_free(struct grpc_client *c)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &c->calls) {
		struct grpc_client_call *call =
			list_entry(pos, struct grpc_client_call, node);
		call_close(call, GRPC_STATUS_CANCELLED, "client closed");
	}
	if (c->h2 != NULL) {
		nghttp2_session_del(c->h2);
	}
	if (c->flush_ev != NULL) {
		event_free(c->flush_ev);
	}
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
	}
	mem_free(c->authority);
	mem_free(c);
}

void grpc_client_free(struct grpc_client *c)
{
	if (c == NULL) {
		return;
	}
	if (c->depth > 0) {
		c->freeing = true;
		return;
	}
	client_really_free(c);
}

bool grpc_client_is_connected(const struct grpc_client *c)
{
	return c->connected && !c->dead;
}

struct grpc_client_call *grpc_client_start(struct grpc_client *c, const char *path,
					   const char *const *headers,
					   const struct grpc_client_call_ops *ops,
					   void *arg)
{
	struct grpc_client_call *call;

	if (c->dead || c->freeing) {
		return NULL;
	}
	call = mem_calloc(1, sizeof(*call));
	if (call == NULL) {
		return NULL;
	}
	call->c = c;
	call->ops = ops;
	call->arg = arg;
	buf_init(&call->in);
	list_init(&call->node);
	call->path = mem_strdup(path);
	bool ok = call->path != NULL;
	for (size_t i = 0; ok && headers != NULL && headers[i] != NULL; i++) {
		if (call->n_headers == 2 * MAX_REQ_HEADERS) {
			ok = false;
			break;
		}
		call->headers[call->n_headers] = mem_strdup(headers[i]);
		ok = call->headers[call->n_headers++] != NULL;
	}
	list_push_back(&c->calls, &call->node);
	if (!ok || call->n_headers % 2 != 0 ||
	    (c->h2 != NULL && call_submit(call) < 0)) {
		call_free(call);
		return NULL;
	}
	schedule_flush(c);
	return call;
}

int grpc_client_send(struct grpc_client_call *call, const uint8_t *msg, size_t len)
{
	int r;

	if (call->closed || call->half_closed || call->cancelled) {
		return -EPIPE;
	}
	r = grpc_queue_push(&call->out, msg, len, GRPC_CALL_MAX_QUEUED);
	if (r < 0) {
		return r;
	}
	if (call->deferred && call->c->h2 != NULL) {
		call->deferred = false;
		nghttp2_session_resume_data(call->c->h2, call->stream_id);
	}
	schedule_flush(call->c);
	return 0;
}

int grpc_client_close_send(struct grpc_client_call *call)
{
	if (call->closed || call->half_closed) {
		return -EPIPE;
	}
	call->half_closed = true;
	if (call->deferred && call->c->h2 != NULL) {
		call->deferred = false;
		nghttp2_session_resume_data(call->c->h2, call->stream_id);
	}
	schedule_flush(call->c);
	return 0;
}

void grpc_client_cancel(struct grpc_client_call *call)
{
	if (call->closed || call->cancelled) {
		return;
	}
	call->cancelled = true;
	if (call->c->h2 != NULL && call->stream_id > 0) {
		nghttp2_submit_rst_stream(call->c->h2, NGHTTP2_FLAG_NONE, call->stream_id,
					  NGHTTP2_CANCEL);
	}
	/* Not yet submitted: flush_cb closes it. */
	schedule_flush(call->c);
}

size_t grpc_client_queued(const struct grpc_client_call *call)
{
	return grpc_queue_len(&call->out);
}
