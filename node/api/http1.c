/*
 * http1.c - HTTP/1.1 server connections on libhttp-parser (http1.h).
 *
 * A connection reads into `in`, feeds it to the parser, and queues each
 * complete request on `reqs` in arrival order; responses are built in each
 * request's own `resp` and moved to the connection's `out` only when every
 * earlier request is finished (pump), so replies may come in any order
 * while the bytes leave in request order.
 *
 * State of a connection:
 *
 *   open --(Connection: close, HTTP/1.0, a parse error, EOF)--> read_done
 *   read_done --(all answered, out empty)--> lingering --(EOF or 2 s)--> closed
 *   any --(write error, stall, idle, EOF under a stream)--> closed
 *   closed --(depth 0, no request owned by a handler)--> freed
 *
 * Invariants:
 *  1. The parser pauses after every message (on_message_complete), so a
 *     handler is never called from inside http_parser_execute(); dispatch
 *     happens in conn_parse between executes.
 *  2. A connection is freed only at depth 0 (no entry point of it is on
 *     the stack) and when no request is left on `reqs`: handlers may hold
 *     request pointers across the loop, and closing from inside a callback
 *     must not free what the caller still uses (Redis: free at a safe
 *     point).
 *  3. Reading stops while out.len >= out_limit or max_pipelined requests
 *     are unanswered; the parser never holds more than one read's worth of
 *     unparsed bytes, so `in` stays bounded too.
 *  4. We try to write as soon as output exists and arm EV_WRITE only when
 *     some is left over.
 *  5. After a response with Connection: close nothing more is parsed; the
 *     socket is shut for writing and drained briefly before close(), so a
 *     client still sending (a body over the limit) reads our error rather
 *     than a reset.
 *  6. A request with a streamed body (http1.h, 6) is dispatched when its
 *     headers are complete and becomes `body_req` (not `cur`) until its
 *     body ends: the parser pauses after every piece of it, which is then
 *     handed to the handler between executes (invariant 1).  While
 *     in_body is set the request stays on `reqs` even when finished, so
 *     body_req is never a freed pointer; every path that stops reading
 *     (close, EOF, drain, a parse error) clears both.
 */
#include "api/http1.h"

#include <errno.h>
#include <event2/event.h>
#include <http_parser.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/errmap.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/list.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"

#define HTTP1_READ_SIZE 65536
#define HTTP1_LINGER_MS 2000

enum conn_timer_kind {
	TIMER_NONE,
	TIMER_REQUEST, /* a request is being received */
	TIMER_STALL,   /* output waits and the client reads nothing */
	TIMER_IDLE,    /* keep-alive with nothing in flight */
	TIMER_LINGER,  /* draining before close */
};

struct http1_server {
	struct event_base *base;
	struct http1_limits lim;
	struct route_table *routes;
	struct list_node conns;
	size_t n_open;
	http_parser_settings settings;
	time_t date_sec;
	char date[40];
	/* Every socket read lands here first (one read at a time). */
	uint8_t rbuf[HTTP1_READ_SIZE];
};

struct http1_conn {
	struct list_node node; /* on srv->conns until freed */
	struct http1_server *srv;
	int fd; /* -1: a memory connection (fuzzing), output discarded */
	struct event *ev_read, *ev_write, *ev_timer;
	bool rd_armed, wr_armed;
	http_parser parser;
	struct buf in;
	struct buf out;
	struct list_node reqs; /* parsed requests, oldest first */
	unsigned n_reqs;
	struct http1_req *cur;	 /* being parsed, not on reqs */
	struct http1_req *ready; /* complete, waiting for dispatch */
	struct http1_req *body_req; /* dispatched, body still arriving */
	size_t hdr_bytes;
	int hdr_state; /* 0 none, 1 in a field name, 2 in a value */
	int fail_status;
	uint64_t cur_start_ms, progress_ms, idle_since_ms, linger_until_ms;
	enum conn_timer_kind timer_kind;
	uint64_t timer_deadline_ms;
	bool read_done, lingering, closed, peer_eof, draining;
	unsigned depth;
};

struct http1_req {
	struct list_node node; /* on conn->reqs once parsed */
	struct http1_conn *conn;
	char method[16];
	struct buf url;
	char *path;
	char *query;
	struct buf hdrs; /* "name\0value\0" pairs */
	struct buf body;
	struct buf resp; /* response bytes not yet moved to conn->out */
	struct buf resp_hdrs;
	bool head, http10, keep_alive, close_after;
	bool owned;	/* a handler has it and has not finished it */
	bool finished;	/* the response is complete */
	bool streaming; /* http1_stream_start() was called */
	bool chunked;
	bool gone_notified, slow;
	bool in_body;  /* a streamed body still arriving (invariant 6) */
	bool body_end; /* ... and its last byte was parsed */
	http1_req_cb on_close, on_drain;
	void *close_arg, *drain_arg;
	http1_body_cb on_body;
	void *body_arg;
};

static void conn_service(struct http1_conn *c);
static bool conn_must_pause(const struct http1_conn *c);
static void conn_close(struct http1_conn *c);
static int conn_fail(struct http1_conn *c, int status);

void http1_limits_default(struct http1_limits *out)
{
	*out = (struct http1_limits){
	    .max_header_bytes = 64 * 1024,
	    .max_body_bytes = 1572864 + 512 * 1024,
	    .out_limit = 1024 * 1024,
	    .max_pipelined = 16,
	    .request_timeout_ms = 30000,
	    .idle_timeout_ms = 300000,
	};
}

/* ---- requests ---- */

static struct http1_req *req_new(struct http1_conn *c)
{
	struct http1_req *req = mem_calloc(1, sizeof(*req));

	if (req == NULL) {
		return NULL;
	}
	list_init(&req->node);
	req->conn = c;
	buf_init(&req->url);
	buf_init(&req->hdrs);
	buf_init(&req->body);
	buf_init(&req->resp);
	buf_init(&req->resp_hdrs);
	return req;
}

static void req_free(struct http1_req *req)
{
	if (req == NULL) {
		return;
	}
	buf_done(&req->url);
	buf_done(&req->hdrs);
	buf_done(&req->body);
	buf_done(&req->resp);
	buf_done(&req->resp_hdrs);
	mem_free(req->path);
	mem_free(req->query);
	mem_free(req);
}

/* ---- connection lifetime (invariant 2) ---- */

static void conn_hold(struct http1_conn *c)
{
	c->depth++;
}

static void conn_maybe_free(struct http1_conn *c)
{
	if (!c->closed || c->depth > 0 || !list_is_empty(&c->reqs)) {
		return;
	}
	list_remove(&c->node);
	mem_free(c);
}

static void conn_update_timer(struct http1_conn *c);

static void conn_release(struct http1_conn *c)
{
	if (--c->depth > 0) {
		return;
	}
	if (c->closed) {
		conn_maybe_free(c);
		return;
	}
	conn_update_timer(c);
}

/* A request finished or dropped after its connection closed. */
static void req_drop_closed(struct http1_req *req)
{
	struct http1_conn *c = req->conn;

	list_remove(&req->node);
	c->n_reqs--;
	req_free(req);
	conn_maybe_free(c);
}

/* Reading of a streamed body stops for good (invariant 6). */
static void conn_stop_body(struct http1_conn *c)
{
	if (c->body_req != NULL) {
		c->body_req->in_body = false;
		c->body_req = NULL;
	}
}

static void conn_close(struct http1_conn *c)
{
	struct list_node *pos, *tmp;
	bool again;

	if (c->closed) {
		return;
	}
	conn_hold(c);
	c->closed = true;
	c->srv->n_open--;
	conn_stop_body(c);
	if (c->ev_read != NULL) {
		event_free(c->ev_read);
		event_free(c->ev_write);
		event_free(c->ev_timer);
		c->ev_read = c->ev_write = c->ev_timer = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	buf_done(&c->in);
	buf_done(&c->out);
	req_free(c->cur);
	c->cur = NULL;
	req_free(c->ready);
	c->ready = NULL;
	/* Invariant 3 of http1.h: tell every owner once.  An owner may finish
	 * any request from its callback, so rescan after each one. */
	do {
		again = false;
		list_for_each(pos, &c->reqs)
		{
			struct http1_req *req =
			    list_entry(pos, struct http1_req, node);

			if (req->owned && !req->gone_notified) {
				req->gone_notified = true;
				if (req->on_close != NULL) {
					req->on_close(req, req->close_arg);
					again = true;
					break;
				}
			}
		}
	} while (again);
	list_for_each_safe(pos, tmp, &c->reqs)
	{
		struct http1_req *req = list_entry(pos, struct http1_req, node);

		if (!req->owned) {
			list_remove(&req->node);
			c->n_reqs--;
			req_free(req);
		}
	}
	conn_release(c);
}

/* ---- timers ---- */

static void conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http1_conn *c = arg;

	(void)fd;
	(void)what;
	conn_hold(c);
	switch (c->timer_kind) {
	case TIMER_REQUEST:
		log_debug("http1: request not complete in time, closing");
		c->timer_kind = TIMER_NONE;
		conn_fail(c, 408);
		break;
	case TIMER_STALL:
		log_debug("http1: client reads nothing, closing");
		conn_close(c);
		break;
	case TIMER_IDLE:
	case TIMER_LINGER:
		conn_close(c);
		break;
	case TIMER_NONE:
		break;
	}
	c->timer_kind = TIMER_NONE;
	conn_release(c);
}

static void conn_update_timer(struct http1_conn *c)
{
	const struct http1_limits *lim = &c->srv->lim;
	enum conn_timer_kind kind = TIMER_NONE;
	uint64_t deadline = 0, now;
	struct timeval tv;

	if (c->closed || c->ev_timer == NULL) {
		return;
	}
	if (c->lingering) {
		kind = TIMER_LINGER;
		deadline = c->linger_until_ms;
	} else if (c->out.len > 0) {
		kind = TIMER_STALL;
		deadline = c->progress_ms + lim->request_timeout_ms;
	} else if (c->cur != NULL && !c->read_done && !conn_must_pause(c)) {
		kind = TIMER_REQUEST;
		deadline = c->cur_start_ms + lim->request_timeout_ms;
	} else if (list_is_empty(&c->reqs) && lim->idle_timeout_ms > 0) {
		kind = TIMER_IDLE;
		deadline = c->idle_since_ms + lim->idle_timeout_ms;
	}
	if (kind == c->timer_kind && deadline == c->timer_deadline_ms) {
		return;
	}
	c->timer_kind = kind;
	c->timer_deadline_ms = deadline;
	if (kind == TIMER_NONE) {
		evtimer_del(c->ev_timer);
		return;
	}
	now = timeutil_mono_ms();
	deadline = deadline > now ? deadline - now : 0;
	tv.tv_sec = (time_t)(deadline / 1000);
	tv.tv_usec = (suseconds_t)(deadline % 1000) * 1000;
	evtimer_add(c->ev_timer, &tv);
}

/* ---- output ---- */

static const char *http1_reason(int status)
{
	const char *s = http_status_str((enum http_status)status);

	return strcmp(s, "<unknown>") == 0 ? "Unknown" : s;
}

static const char *http1_date(struct http1_server *s)
{
	time_t now = time(NULL);
	struct tm tm;

	if (now != s->date_sec && gmtime_r(&now, &tm) != NULL) {
		strftime(s->date, sizeof(s->date), "%a, %d %b %Y %H:%M:%S GMT",
			 &tm);
		s->date_sec = now;
	}
	return s->date;
}

/* body_len < 0: a stream (chunked, or raw until close for HTTP/1.0). */
static int req_build_head(struct http1_req *req, int status,
			  const char *content_type, long long body_len)
{
	struct buf *b = &req->resp;
	int r;

	/* etcd compat: etcd's HTTP mux adds these CORS headers everywhere. */
	r = buf_printf(b,
		       "HTTP/1.1 %d %s\r\n"
		       "Access-Control-Allow-Headers: accept, content-type, "
		       "authorization\r\n"
		       "Access-Control-Allow-Methods: POST, GET, OPTIONS, PUT, "
		       "DELETE\r\n"
		       "Access-Control-Allow-Origin: *\r\n",
		       status, http1_reason(status));
	if (r >= 0 && content_type != NULL) {
		r = buf_printf(b, "Content-Type: %s\r\n", content_type);
	}
	if (r >= 0 && req->resp_hdrs.len > 0) {
		r = buf_append(b, req->resp_hdrs.data, req->resp_hdrs.len);
	}
	if (r >= 0) {
		r = buf_printf(b, "Date: %s\r\n", http1_date(req->conn->srv));
	}
	if (r >= 0 && body_len >= 0) {
		r = buf_printf(b, "Content-Length: %lld\r\n", body_len);
	} else if (r >= 0 && req->chunked) {
		r = buf_append_str(b, "Transfer-Encoding: chunked\r\n");
	}
	if (r >= 0 && (req->close_after || req->conn->draining)) {
		r = buf_append_str(b, "Connection: close\r\n");
	}
	if (r >= 0) {
		r = buf_append_str(b, "\r\n");
	}
	return r;
}

static bool conn_must_pause(const struct http1_conn *c)
{
	return c->out.len >= c->srv->lim.out_limit ||
	       c->n_reqs >= c->srv->lim.max_pipelined;
}

/* Move finished responses to `out` in request order (file comment). */
static void conn_pump(struct http1_conn *c)
{
	struct list_node *n;

	while (!c->closed && (n = list_first(&c->reqs)) != NULL) {
		struct http1_req *req = list_entry(n, struct http1_req, node);

		if (req->resp.len > 0) {
			if (c->out.len == 0) {
				struct buf tmp = c->out;

				c->out = req->resp;
				req->resp = tmp;
			} else if (buf_append(&c->out, req->resp.data,
					      req->resp.len) < 0) {
				conn_close(c);
				return;
			}
			buf_reset(&req->resp);
		}
		if (!req->finished || req->in_body) {
			break;
		}
		if (req->close_after) {
			c->read_done = true;
		}
		list_remove(&req->node);
		c->n_reqs--;
		req_free(req);
		if (list_is_empty(&c->reqs)) {
			c->idle_since_ms = timeutil_mono_ms();
		}
	}
}

static void conn_flush(struct http1_conn *c)
{
	if (c->closed) {
		return;
	}
	if (c->fd < 0) {
		buf_reset(&c->out);
		return;
	}
	if (!c->wr_armed) {
		/* Not waiting on the client so far: the stall clock starts. */
		c->progress_ms = timeutil_mono_ms();
	}
	while (c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);

		if (n > 0) {
			buf_consume(&c->out, (size_t)n);
			c->progress_ms = timeutil_mono_ms();
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else {
			log_debug("http1: write failed: %s",
				  strerror(n < 0 ? errno : EPIPE));
			conn_close(c);
			return;
		}
	}
	if (c->out.len == 0 && c->out.cap > HTTP1_READ_SIZE) {
		/* Give a large response's buffer back once it is sent. */
		buf_done(&c->out);
	}
	if (c->out.len > 0 && !c->wr_armed) {
		event_add(c->ev_write, NULL);
		c->wr_armed = true;
	} else if (c->out.len == 0 && c->wr_armed) {
		event_del(c->ev_write);
		c->wr_armed = false;
	}
}

/* A handler still works on one of c's requests (a stream or a unary one). */
static bool conn_has_owned(struct http1_conn *c)
{
	struct list_node *pos;

	list_for_each(pos, &c->reqs)
	{
		struct http1_req *req = list_entry(pos, struct http1_req, node);

		if (req->owned) {
			return true;
		}
	}
	return false;
}

static void conn_update_reading(struct http1_conn *c)
{
	bool want;

	if (c->closed || c->ev_read == NULL) {
		return;
	}
	if (c->lingering) {
		want = true;
	} else if (c->read_done) {
		/* Only to notice a client going away while a handler works. */
		want = !c->peer_eof && conn_has_owned(c);
	} else {
		want = !conn_must_pause(c);
	}
	if (want && !c->rd_armed) {
		event_add(c->ev_read, NULL);
		c->rd_armed = true;
		if (c->in.len > 0 && !c->read_done) {
			/* Bytes read before the pause: parse them from the
			 * loop, not from inside whoever drained the output. */
			event_active(c->ev_read, EV_READ, 1);
		}
	} else if (!want && c->rd_armed) {
		event_del(c->ev_read);
		c->rd_armed = false;
	}
}

static void conn_linger(struct http1_conn *c)
{
	if (c->fd < 0 || c->peer_eof) {
		conn_close(c);
		return;
	}
	shutdown(c->fd, SHUT_WR);
	c->lingering = true;
	c->linger_until_ms = timeutil_mono_ms() + HTTP1_LINGER_MS;
	conn_update_reading(c);
}

/* After any progress: send what is ready, then settle what to wait for. */
static void conn_service(struct http1_conn *c)
{
	if (c->closed) {
		return;
	}
	conn_pump(c);
	conn_flush(c);
	if (c->closed) {
		return;
	}
	if (!c->lingering && c->read_done && list_is_empty(&c->reqs) &&
	    c->out.len == 0) {
		conn_linger(c);
		if (c->closed) {
			return;
		}
	}
	conn_update_reading(c);
}

/* ---- parser callbacks ---- */

static int on_message_begin(http_parser *p)
{
	struct http1_conn *c = p->data;

	req_free(c->cur);
	c->cur = req_new(c);
	if (c->cur == NULL) {
		c->fail_status = 503;
		return -1;
	}
	c->hdr_bytes = 0;
	c->hdr_state = 0;
	c->cur_start_ms = timeutil_mono_ms();
	return 0;
}

static int hdr_account(struct http1_conn *c, size_t len)
{
	c->hdr_bytes += len;
	if (c->hdr_bytes > c->srv->lim.max_header_bytes) {
		c->fail_status = 431;
		return -1;
	}
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct http1_conn *c = p->data;

	if (hdr_account(c, len) < 0) {
		return -1;
	}
	if (buf_append(&c->cur->url, at, len) < 0) {
		c->fail_status = 503;
		return -1;
	}
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http1_conn *c = p->data;
	struct buf *h;

	if (hdr_account(c, len) < 0) {
		return -1;
	}
	if (c->cur == NULL) {
		return 0; /* the trailer of a streamed body: dropped */
	}
	h = &c->cur->hdrs;
	if (c->hdr_state == 2 && buf_append_byte(h, '\0') < 0) {
		c->fail_status = 503;
		return -1;
	}
	c->hdr_state = 1;
	if (buf_append(h, at, len) < 0) {
		c->fail_status = 503;
		return -1;
	}
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http1_conn *c = p->data;
	struct buf *h;

	if (hdr_account(c, len) < 0) {
		return -1;
	}
	if (c->cur == NULL) {
		return 0; /* the trailer of a streamed body: dropped */
	}
	h = &c->cur->hdrs;
	if ((c->hdr_state == 1 && buf_append_byte(h, '\0') < 0) ||
	    buf_append(h, at, len) < 0) {
		c->fail_status = 503;
		return -1;
	}
	c->hdr_state = 2;
	return 0;
}

static int req_set_target(struct http1_req *req, bool is_connect)
{
	struct http_parser_url u;
	const char *url = (const char *)req->url.data;
	const char *path = "/";
	size_t path_len = 1;
	int n;

	if (url == NULL) {
		return -EINVAL;
	}
	if (strcmp(url, "*") == 0) {
		path = "*";
	} else {
		http_parser_url_init(&u);
		if (http_parser_parse_url(url, req->url.len, is_connect, &u) !=
		    0) {
			return -EINVAL;
		}
		if (u.field_set & (1 << UF_PATH)) {
			path = url + u.field_data[UF_PATH].off;
			path_len = u.field_data[UF_PATH].len;
		}
		if (u.field_set & (1 << UF_QUERY)) {
			req->query =
			    mem_strndup(url + u.field_data[UF_QUERY].off,
					u.field_data[UF_QUERY].len);
			if (req->query == NULL) {
				return -ENOMEM;
			}
		}
	}
	if (strcmp(path, "*") == 0) {
		path_len = 1;
	}
	req->path = mem_alloc(path_len + 1);
	if (req->path == NULL) {
		return -ENOMEM;
	}
	n = route_canonical_path(path, path_len, req->path, path_len + 1);
	return n < 0 ? n : 0;
}

static bool req_has_stream_route(struct http1_conn *c,
				  const struct http1_req *req)
{
	struct route_match m;

	return route_lookup(c->srv->routes, req->method, req->path, &m, NULL,
			    0) == 0 &&
	       m.body_stream;
}

static int on_headers_complete(http_parser *p)
{
	struct http1_conn *c = p->data;
	struct http1_req *req = c->cur;
	const char *expect;
	int r;

	if ((c->hdr_state == 1 && buf_append_byte(&req->hdrs, '\0') < 0) ||
	    (c->hdr_state >= 1 && buf_append_byte(&req->hdrs, '\0') < 0)) {
		c->fail_status = 503;
		return -1;
	}
	c->hdr_state = 0;
	snprintf(req->method, sizeof(req->method), "%s",
		 http_method_str((enum http_method)p->method));
	req->head = p->method == HTTP_HEAD;
	req->http10 =
	    p->http_major < 1 || (p->http_major == 1 && p->http_minor == 0);
	req->keep_alive = http_should_keep_alive(p) && !req->http10;
	r = req_set_target(req, p->method == HTTP_CONNECT);
	if (r < 0) {
		c->fail_status = r == -ENOMEM ? 503 : 400;
		return -1;
	}
	if ((p->flags & F_CONTENTLENGTH) &&
	    p->content_length > c->srv->lim.max_body_bytes) {
		c->fail_status = 413;
		return -1;
	}
	expect = http1_req_header(req, "expect");
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
	    list_is_empty(&c->reqs) && !req->http10) {
		/* curl waits a second for this before sending a body. */
		if (buf_append_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n") <
		    0) {
			c->fail_status = 503;
			return -1;
		}
	}
	if (!req->head && !p->upgrade && req_has_stream_route(c, req)) {
		/* Invariant 6: dispatch now, the body follows in pieces. */
		req->in_body = true;
		c->body_req = req;
		c->ready = req;
		c->cur = NULL;
		http_parser_pause(p, 1);
	}
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http1_conn *c = p->data;
	struct http1_req *req = c->body_req != NULL ? c->body_req : c->cur;

	if (req->body.len + len > c->srv->lim.max_body_bytes) {
		c->fail_status = 413;
		return -1;
	}
	if (buf_append(&req->body, at, len) < 0) {
		c->fail_status = 503;
		return -1;
	}
	if (c->body_req != NULL) {
		http_parser_pause(p, 1); /* hand it on (invariant 6) */
	}
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http1_conn *c = p->data;

	if (c->body_req != NULL) {
		c->body_req->body_end = true;
		http_parser_pause(p, 1);
		return 0;
	}
	if (p->upgrade) {
		/* No websocket or h2c upgrade: answer, then close. */
		c->cur->close_after = true;
	}
	c->ready = c->cur;
	c->cur = NULL;
	http_parser_pause(p, 1); /* invariant 1 */
	return 0;
}

/* ---- dispatch ---- */

static int req_reply_text(struct http1_req *req, int status, const char *text)
{
	return http1_reply(req, status, "text/plain; charset=utf-8", text,
			   strlen(text));
}

static void conn_dispatch(struct http1_conn *c, struct http1_req *req)
{
	struct route_match m;
	char allow[128];
	int r;

	list_push_back(&c->reqs, &req->node);
	c->n_reqs++;
	if (!req->keep_alive || req->close_after) {
		req->close_after = true;
		/* A streamed body is read to its end first (invariant 6). */
		c->read_done = !req->in_body;
	}
	req->owned = true;
	if (strcmp(req->method, "OPTIONS") == 0) {
		/* etcd compat: the CORS pre-flight answers 200 anywhere. */
		http1_reply(req, 200, NULL, NULL, 0);
		return;
	}
	if (strcmp(req->path, "/v2") == 0 ||
	    strncmp(req->path, "/v2/", 4) == 0) {
		req_reply_text(req, 404,
			       "404 page not found: the v2 API is not "
			       "available in cetcd\n");
		return;
	}
	r = route_lookup(c->srv->routes, req->method, req->path, &m, allow,
			 sizeof(allow));
	if (r == -ENOENT) {
		req_reply_text(req, 404, "404 page not found\n");
		return;
	}
	if (r == -EPERM) {
		if (http1_req_add_header(req, "Allow", allow) < 0 ||
		    http1_req_add_header(req, "X-Content-Type-Options",
					 "nosniff") < 0) {
			http1_reply(req, 503, NULL, NULL, 0);
			return;
		}
		req_reply_text(req, 405, "Method Not Allowed\n");
		return;
	}
	m.fn(req, m.ctx);
}

/* Answer a request the parser refused, then close (in order, after the
 * requests before it). */
static int conn_fail(struct http1_conn *c, int status)
{
	struct http1_req *req = c->cur;
	struct buf body = BUF_INIT;
	int r;

	c->cur = NULL;
	conn_stop_body(c);
	if (req == NULL) {
		req = req_new(c);
	}
	c->read_done = true;
	if (req == NULL || status == 503) {
		req_free(req);
		conn_close(c);
		return -ENOMEM;
	}
	/* The head/HTTP/1.0 flags may be half set; answer plainly. */
	req->head = false;
	req->http10 = false;
	req->close_after = true;
	req->owned = true;
	buf_reset(&req->resp_hdrs);
	list_push_back(&c->reqs, &req->node);
	c->n_reqs++;
	switch (status) {
	case 413:
		r = errmap_render_json(-ERR_REQUEST_TOO_LARGE, &body);
		if (r < 0) {
			buf_done(&body);
			conn_close(c);
			return r;
		}
		r = http1_reply(req, 413, "application/json", body.data,
				body.len);
		buf_done(&body);
		return r;
	case 431:
		return req_reply_text(req, 431,
				      "431 Request Header Fields Too Large");
	case 408:
		return req_reply_text(req, 408, "408 Request Timeout");
	default:
		return req_reply_text(req, 400, "400 Bad Request");
	}
}

/* Hand what arrived of a streamed body to its handler (invariant 6). */
static void conn_deliver_body(struct http1_conn *c)
{
	struct http1_req *req = c->body_req;
	bool end = req->body_end;

	if (req->body.len == 0 && !end) {
		return;
	}
	if (req->on_body != NULL && req->owned && !req->finished) {
		req->on_body(req, req->body.data, req->body.len, end,
			     req->body_arg);
		if (c->closed) {
			return; /* conn_close cleared body_req */
		}
	}
	buf_reset(&req->body);
	if (end) {
		conn_stop_body(c);
		if (req->close_after) {
			c->read_done = true;
		}
	}
}

/*
 * Parse requests from data and dispatch each as it completes; returns the
 * bytes consumed.  Less than len only when parsing must pause (invariant
 * 3) or stop.
 */
static size_t conn_parse_bytes(struct http1_conn *c, const uint8_t *data,
			       size_t len)
{
	size_t off = 0;

	while (!c->closed && !c->read_done && off < len &&
	       !conn_must_pause(c)) {
		size_t n =
		    http_parser_execute(&c->parser, &c->srv->settings,
					(const char *)data + off, len - off);
		enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);

		off += n;
		if (e == HPE_PAUSED) {
			struct http1_req *req = c->ready;

			c->ready = NULL;
			http_parser_pause(&c->parser, 0);
			if (req != NULL) {
				conn_dispatch(c, req);
			}
			if (c->body_req != NULL && !c->closed) {
				conn_deliver_body(c);
			}
			continue;
		}
		if (e != HPE_OK) {
			log_debug("http1: bad request: %s",
				  http_errno_description(e));
			conn_fail(c, c->fail_status ? c->fail_status : 400);
			break;
		}
		if (n == 0) {
			break;
		}
	}
	return off;
}

/* Parse the bytes left over from an earlier pause. */
static void conn_parse(struct http1_conn *c)
{
	size_t n;

	if (c->in.len == 0 || c->read_done) {
		return;
	}
	/* Handlers never touch `in`, and the parser calls none (invariant
	 * 1), so c->in.data stays valid until the connection closes. */
	n = conn_parse_bytes(c, c->in.data, c->in.len);
	if (c->closed) {
		return;
	}
	if (c->read_done || n == c->in.len) {
		buf_done(&c->in); /* idle connections keep no input buffer */
	} else {
		buf_consume(&c->in, n);
	}
}

/* ---- socket events ---- */

static void conn_on_eof(struct http1_conn *c)
{
	c->peer_eof = true;
	c->read_done = true;
	conn_stop_body(c);
	req_free(c->cur);
	c->cur = NULL;
	if (c->lingering || conn_has_owned(c)) {
		/*
		 * etcd compat: Go's net/http cancels a request's context when
		 * the client's connection reaches EOF, so a client closing
		 * while a handler works (a stream, or a unary request waiting
		 * for the member) is gone and its requests are cancelled.
		 */
		conn_close(c);
	}
}

static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http1_conn *c = arg;
	ssize_t n;

	(void)what;
	conn_hold(c);
	if (c->in.len > 0 && !c->read_done) {
		conn_parse(c);
	}
	/* Read only when all earlier input is parsed: then `in` is empty
	 * and the bytes are parsed straight from the server's buffer. */
	if (!c->closed && c->in.len == 0 &&
	    (c->read_done || !conn_must_pause(c))) {
		uint8_t *rb = c->srv->rbuf;

		n = recv(fd, rb, HTTP1_READ_SIZE, 0);
		if (n == 0) {
			conn_on_eof(c);
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			   errno != EINTR) {
			log_debug("http1: read failed: %s", strerror(errno));
			conn_close(c);
		} else if (n > 0 && !c->read_done) {
			size_t used = conn_parse_bytes(c, rb, (size_t)n);

			if (!c->closed && !c->read_done && used < (size_t)n &&
			    buf_append(&c->in, rb + used, (size_t)n - used) <
				0) {
				conn_close(c);
			}
		}
	}
	conn_service(c);
	conn_release(c);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http1_conn *c = arg;
	bool again;

	(void)fd;
	(void)what;
	conn_hold(c);
	conn_service(c);
	/* Streams that were told to slow down may go on (http1.h, 4). */
	do {
		struct list_node *pos;

		again = false;
		if (c->closed || c->out.len >= c->srv->lim.out_limit) {
			break;
		}
		list_for_each(pos, &c->reqs)
		{
			struct http1_req *req =
			    list_entry(pos, struct http1_req, node);

			if (req->slow && req->owned) {
				req->slow = false;
				if (req->on_drain != NULL) {
					req->on_drain(req, req->drain_arg);
					again = true;
					break;
				}
			}
		}
	} while (again);
	conn_release(c);
}

static struct http1_conn *conn_new(struct http1_server *s, int fd)
{
	struct http1_conn *c = mem_calloc(1, sizeof(*c));

	if (c == NULL) {
		return NULL;
	}
	c->srv = s;
	c->fd = fd;
	buf_init(&c->in);
	buf_init(&c->out);
	list_init(&c->reqs);
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
	c->idle_since_ms = c->progress_ms = timeutil_mono_ms();
	if (fd >= 0) {
		c->ev_read = event_new(s->base, fd, EV_READ | EV_PERSIST,
				       conn_read_cb, c);
		c->ev_write = event_new(s->base, fd, EV_WRITE | EV_PERSIST,
					conn_write_cb, c);
		c->ev_timer = evtimer_new(s->base, conn_timer_cb, c);
		if (c->ev_read == NULL || c->ev_write == NULL ||
		    c->ev_timer == NULL) {
			if (c->ev_read != NULL) {
				event_free(c->ev_read);
			}
			if (c->ev_write != NULL) {
				event_free(c->ev_write);
			}
			if (c->ev_timer != NULL) {
				event_free(c->ev_timer);
			}
			mem_free(c);
			return NULL;
		}
	}
	list_push_back(&s->conns, &c->node);
	s->n_open++;
	return c;
}

/* ---- server ---- */

int http1_server_new(struct event_base *base, const struct http1_limits *limits,
		     struct http1_server **out)
{
	struct http1_server *s = mem_calloc(1, sizeof(*s));
	int r;

	if (s == NULL) {
		return -ENOMEM;
	}
	s->base = base;
	if (limits != NULL) {
		s->lim = *limits;
	} else {
		http1_limits_default(&s->lim);
	}
	if (s->lim.max_pipelined == 0) {
		s->lim.max_pipelined = 1;
	}
	list_init(&s->conns);
	r = route_table_new(&s->routes);
	if (r < 0) {
		mem_free(s);
		return r;
	}
	http_parser_settings_init(&s->settings);
	s->settings.on_message_begin = on_message_begin;
	s->settings.on_url = on_url;
	s->settings.on_header_field = on_header_field;
	s->settings.on_header_value = on_header_value;
	s->settings.on_headers_complete = on_headers_complete;
	s->settings.on_body = on_body;
	s->settings.on_message_complete = on_message_complete;
	*out = s;
	return 0;
}

void http1_server_free(struct http1_server *s)
{
	struct list_node *n;

	if (s == NULL) {
		return;
	}
	while ((n = list_first(&s->conns)) != NULL) {
		struct http1_conn *c = list_entry(n, struct http1_conn, node);
		struct list_node *pos, *tmp;

		if (!c->closed) {
			conn_close(c); /* may free c */
			continue;
		}
		/* Requests their owners kept past the close callback. */
		list_for_each_safe(pos, tmp, &c->reqs)
		{
			list_remove(pos);
			req_free(list_entry(pos, struct http1_req, node));
		}
		c->depth = 0;
		conn_maybe_free(c);
	}
	route_table_free(s->routes);
	mem_free(s);
}

void http1_server_drain(struct http1_server *s)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &s->conns)
	{
		struct http1_conn *c = list_entry(pos, struct http1_conn, node);

		if (c->closed) {
			continue;
		}
		conn_hold(c);
		c->draining = true;
		c->read_done = true;
		conn_stop_body(c);
		req_free(c->cur);
		c->cur = NULL;
		buf_done(&c->in);
		conn_service(c);
		conn_release(c); /* may free c; tmp is another connection */
	}
}

int http1_route_add(struct http1_server *s, const char *method,
		    const char *path, route_handler_fn fn, void *ctx)
{
	return route_add(s->routes, method, path, fn, ctx);
}

int http1_route_add_stream(struct http1_server *s, const char *method,
			   const char *path, route_handler_fn fn, void *ctx)
{
	return route_add_stream(s->routes, method, path, fn, ctx);
}

size_t http1_server_conn_count(const struct http1_server *s)
{
	return s->n_open;
}

/* Feed bytes to a connection as if read from its socket. */
static void conn_feed(struct http1_conn *c, const uint8_t *data, size_t n)
{
	conn_hold(c);
	if (n > 0 && buf_append(&c->in, data, n) < 0) {
		conn_close(c);
	} else {
		conn_parse(c);
		conn_service(c);
	}
	conn_release(c);
}

int http1_server_adopt(struct http1_server *s, int fd, const uint8_t *pre,
		       size_t n)
{
	struct http1_conn *c = conn_new(s, fd);

	if (c == NULL) {
		close(fd);
		return -ENOMEM;
	}
	conn_feed(c, pre, n);
	return 0;
}

/* ---- requests: reading ---- */

const char *http1_req_method(const struct http1_req *req)
{
	return req->method;
}

const char *http1_req_path(const struct http1_req *req)
{
	return req->path;
}

const char *http1_req_query(const struct http1_req *req)
{
	return req->query != NULL ? req->query : "";
}

const uint8_t *http1_req_body(const struct http1_req *req, size_t *len)
{
	*len = req->body.len;
	return req->body.data != NULL ? req->body.data : (const uint8_t *)"";
}

const char *http1_req_header(const struct http1_req *req, const char *name)
{
	const char *p = (const char *)req->hdrs.data;
	const char *end;

	if (p == NULL) {
		return NULL; /* no headers at all (HTTP/1.0) */
	}
	end = p + req->hdrs.len;
	while (p < end) {
		const char *v = p + strlen(p) + 1;

		if (v >= end) {
			break;
		}
		if (strcasecmp(p, name) == 0) {
			return v;
		}
		p = v + strlen(v) + 1;
	}
	return NULL;
}

bool http1_req_client_gone(const struct http1_req *req)
{
	return req->conn->closed;
}

void http1_req_on_close(struct http1_req *req, http1_req_cb fn, void *arg)
{
	req->on_close = fn;
	req->close_arg = arg;
}

void http1_req_on_drain(struct http1_req *req, http1_req_cb fn, void *arg)
{
	req->on_drain = fn;
	req->drain_arg = arg;
}

void http1_req_on_body(struct http1_req *req, http1_body_cb fn, void *arg)
{
	req->on_body = fn;
	req->body_arg = arg;
}

/* ---- requests: replying ---- */

int http1_req_add_header(struct http1_req *req, const char *name,
			 const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL) {
		return -EINVAL;
	}
	return buf_printf(&req->resp_hdrs, "%s: %s\r\n", name, value);
}

int http1_reply(struct http1_req *req, int status, const char *content_type,
		const void *body, size_t len)
{
	struct http1_conn *c = req->conn;
	int r;

	if (req->finished) {
		return -EALREADY;
	}
	if (c->closed) {
		/* Any finishing call releases a request of a dead client. */
		req_drop_closed(req);
		return -EPIPE;
	}
	if (req->streaming) {
		return -EALREADY;
	}
	conn_hold(c);
	req->finished = true;
	req->owned = false;
	r = req_build_head(req, status, content_type, (long long)len);
	if (r >= 0 && len > 0 && !req->head) {
		r = buf_append(&req->resp, body, len);
	}
	if (r < 0) {
		conn_close(c);
	} else {
		conn_service(c);
	}
	conn_release(c);
	return r;
}

int http1_reply_error(struct http1_req *req, int err)
{
	struct buf body = BUF_INIT;
	int status = errmap_render_json(err, &body);
	int r;

	if (status < 0) {
		buf_done(&body);
		return http1_reply(req, 503, NULL, NULL, 0);
	}
	r = http1_reply(req, status, "application/json", body.data, body.len);
	buf_done(&body);
	return r;
}

int http1_reply_json(struct http1_req *req, const void *body, size_t len)
{
	/* etcd compat: the gateway forwards gRPC's content type as metadata. */
	if (!req->finished && !req->conn->closed && !req->streaming &&
	    http1_req_add_header(req, "Grpc-Metadata-Content-Type",
				 "application/grpc") < 0) {
		return http1_reply(req, 503, NULL, NULL, 0);
	}
	return http1_reply(req, 200, "application/json", body, len);
}

int http1_reply_error_msg(struct http1_req *req, enum grpc_status code,
			  const char *message)
{
	struct buf body = BUF_INIT;
	int status = errmap_render_json_msg(code, message, &body);
	int r;

	if (status < 0) {
		buf_done(&body);
		return http1_reply(req, 503, NULL, NULL, 0);
	}
	r = http1_reply(req, status, "application/json", body.data, body.len);
	buf_done(&body);
	return r;
}

int http1_stream_start(struct http1_req *req, const char *content_type)
{
	struct http1_conn *c = req->conn;
	int r;

	if (req->finished || req->streaming) {
		return -EALREADY;
	}
	if (c->closed) {
		return -EPIPE;
	}
	conn_hold(c);
	req->streaming = true;
	req->chunked = !req->http10;
	if (req->http10) {
		req->close_after = true;
	}
	r = req_build_head(req, 200, content_type, -1);
	if (r < 0) {
		conn_close(c);
	} else {
		conn_service(c);
	}
	if (r >= 0 && c->closed) {
		r = -EPIPE;
	}
	conn_release(c); /* c stays: req is on it and owned */
	return r;
}

static int stream_append(struct http1_req *req, const void *data, size_t len)
{
	int r = 0;

	if (req->head || len == 0) {
		return 0;
	}
	if (req->chunked) {
		r = buf_printf(&req->resp, "%zx\r\n", len);
	}
	if (r >= 0) {
		r = buf_append(&req->resp, data, len);
	}
	if (r >= 0 && req->chunked) {
		r = buf_append_str(&req->resp, "\r\n");
	}
	return r;
}

/* Send what stream_append queued and report the output level. */
static int stream_push(struct http1_req *req, int r)
{
	struct http1_conn *c = req->conn;
	size_t level;

	conn_hold(c);
	if (r < 0) {
		conn_close(c);
	} else {
		conn_service(c);
	}
	level = c->closed ? 0 : c->out.len + req->resp.len;
	if (r >= 0 && c->closed) {
		r = -EPIPE;
	}
	if (r >= 0 && level >= c->srv->lim.out_limit) {
		req->slow = true;
		r = 1;
	}
	conn_release(c);
	return r;
}

int http1_stream_send(struct http1_req *req, const void *data, size_t len)
{
	if (!req->streaming || req->finished) {
		return -EINVAL;
	}
	if (req->conn->closed) {
		return -EPIPE;
	}
	return stream_push(req, stream_append(req, data, len));
}

int http1_stream_result(struct http1_req *req, const char *json, size_t len)
{
	struct buf b = BUF_INIT;
	int r;

	if (!req->streaming || req->finished) {
		return -EINVAL;
	}
	if (req->conn->closed) {
		return -EPIPE;
	}
	/* etcd compat: grpc-gateway wraps each message as {"result":...}\n. */
	r = buf_append_str(&b, "{\"result\":");
	if (r >= 0) {
		r = buf_append(&b, json, len);
	}
	if (r >= 0) {
		r = buf_append_str(&b, "}\n");
	}
	if (r >= 0) {
		r = stream_append(req, b.data, b.len);
	}
	buf_done(&b);
	return stream_push(req, r);
}

int http1_stream_error(struct http1_req *req, int err)
{
	struct buf b = BUF_INIT;
	int r;

	if (!req->streaming || req->finished) {
		return -EINVAL;
	}
	if (req->conn->closed) {
		return -EPIPE;
	}
	r = errmap_render_stream_error(err, &b);
	if (r >= 0) {
		r = stream_append(req, b.data, b.len);
	}
	buf_done(&b);
	return stream_push(req, r);
}

int http1_stream_end(struct http1_req *req)
{
	struct http1_conn *c = req->conn;
	int r = 0;

	if (req->finished) {
		return -EINVAL;
	}
	if (c->closed) {
		req_drop_closed(req);
		return -EPIPE;
	}
	if (!req->streaming) {
		return -EINVAL;
	}
	conn_hold(c);
	req->finished = true;
	req->owned = false;
	if (req->chunked && !req->head) {
		r = buf_append_str(&req->resp, "0\r\n\r\n");
	}
	if (r < 0) {
		conn_close(c);
	} else {
		conn_service(c);
	}
	conn_release(c);
	return r;
}

/* ---- fuzzing ---- */

struct fuzz_ctx {
	struct http1_req *kept[4];
	size_t n_kept;
};

static void fuzz_echo(struct http1_req *req, void *ctx)
{
	size_t len;
	const uint8_t *body = http1_req_body(req, &len);

	(void)ctx;
	if (http1_req_header(req, "content-type") == NULL) {
		http1_reply_json(req, body, len);
	} else {
		http1_reply_error_msg(req, GRPC_STATUS_INVALID_ARGUMENT,
				      "invalid character 'x' looking for "
				      "beginning of value");
	}
}

static void fuzz_forget(struct http1_req *req, void *arg)
{
	struct fuzz_ctx *f = arg;

	for (size_t i = 0; i < f->n_kept; i++) {
		if (f->kept[i] == req) {
			f->kept[i] = f->kept[--f->n_kept];
			break;
		}
	}
	if (req->streaming) {
		http1_stream_end(req);
	} else {
		http1_reply_error(req, -ERR_STOPPED);
	}
}

static void fuzz_keep(struct http1_req *req, struct fuzz_ctx *f)
{
	if (f->n_kept == sizeof(f->kept) / sizeof(f->kept[0])) {
		http1_reply_error(req, -ERR_TOO_MANY_REQUESTS);
		return;
	}
	f->kept[f->n_kept++] = req;
	http1_req_on_close(req, fuzz_forget, f);
}

static void fuzz_later(struct http1_req *req, void *ctx)
{
	fuzz_keep(req, ctx);
}

static void fuzz_stream(struct http1_req *req, void *ctx)
{
	if (http1_stream_start(req, "application/json") < 0) {
		http1_stream_end(req);
		return;
	}
	http1_stream_result(req, "{\"created\":true}", 16);
	fuzz_keep(req, ctx);
}

static void fuzz_piece(struct http1_req *req, const uint8_t *data, size_t len,
		       bool end, void *arg)
{
	struct fuzz_ctx *f = arg;
	bool stop = end || (len > 0 && data[0] == '!');

	/* data dies with req, which a failed send may free. */
	if (http1_stream_send(req, data, len) == -EPIPE) {
		return; /* the close callback dropped it from kept */
	}
	if (stop) {
		for (size_t i = 0; i < f->n_kept; i++) {
			if (f->kept[i] == req) {
				f->kept[i] = f->kept[--f->n_kept];
				break;
			}
		}
		http1_stream_end(req);
	}
}

static void fuzz_body_stream(struct http1_req *req, void *ctx)
{
	struct fuzz_ctx *f = ctx;

	if (f->n_kept == sizeof(f->kept) / sizeof(f->kept[0])) {
		http1_reply_error(req, -ERR_TOO_MANY_REQUESTS);
		return;
	}
	if (http1_stream_start(req, "application/json") < 0) {
		http1_stream_end(req);
		return;
	}
	fuzz_keep(req, f);
	http1_req_on_body(req, fuzz_piece, f);
}

int http1_fuzz_one(const uint8_t *data, size_t size)
{
	struct http1_limits lim;
	struct http1_server *s = NULL;
	struct http1_conn *c;
	struct fuzz_ctx f = {.n_kept = 0};
	size_t split = size > 0 ? data[0] % (size + 1) : 0;

	http1_limits_default(&lim);
	lim.max_header_bytes = 2048;
	lim.max_body_bytes = 4096;
	lim.out_limit = 1024;
	lim.max_pipelined = 4;
	if (http1_server_new(NULL, &lim, &s) < 0) {
		return 0;
	}
	if (http1_route_add(s, "POST", "/v3/kv/range", fuzz_echo, &f) < 0 ||
	    http1_route_add(s, "GET", "/health", fuzz_echo, &f) < 0 ||
	    http1_route_add(s, "POST", "/v3/kv/put", fuzz_later, &f) < 0 ||
	    http1_route_add(s, "POST", "/v3/watch", fuzz_stream, &f) < 0 ||
	    http1_route_add_stream(s, "POST", "/v3/lease/keepalive",
				   fuzz_body_stream, &f) < 0 ||
	    http1_route_add(s, "GET", "/livez/*", fuzz_echo, &f) < 0) {
		http1_server_free(s);
		return 0;
	}
	c = conn_new(s, -1);
	if (c == NULL) {
		http1_server_free(s);
		return 0;
	}
	/* Two reads, so requests also arrive split at arbitrary points. */
	conn_hold(c);
	conn_feed(c, data, split);
	if (!c->closed) {
		conn_feed(c, data + split, size - split);
	}
	/* Answer what was kept (oldest last, to exercise ordering), then let
	 * the connection parse what waited behind them. */
	while (!c->closed && f.n_kept > 0) {
		struct http1_req *req = f.kept[--f.n_kept];

		if (req->streaming) {
			http1_stream_send(req, "x\n", 2);
			http1_stream_end(req);
		} else {
			http1_reply(req, 200, "application/json", "{}", 2);
		}
		conn_feed(c, NULL, 0);
	}
	conn_release(c);
	http1_server_free(s);
	return 0;
}
