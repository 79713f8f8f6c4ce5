/*
 * apitest.c - test server and raw-socket HTTP/1.1 client (apitest.h).
 *
 * Routes of the test server:
 *   POST /v3/kv/range     echo the body, header X-Path: the canonical path
 *   GET  /health          {"health":"true"}
 *   POST /v3/kv/put       held: the test answers later (s->held)
 *   POST /v3/watch        stream: {"result":{"created":true}} now, held
 *   GET  /big             s->big_size bytes of one letter per call
 *   POST /v3/lease/revoke the gateway error for ERR_LEASE_NOT_FOUND
 *   POST /v3/maintenance/status  http1_reply_json of {"version":"3.5.13"}
 *   POST /v3/kv/txn       a gateway error with a message of its own
 */
#include "apitest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "testlib.h"

static void forget(struct apitest_srv *s, struct http1_req *req)
{
	for (int i = 0; i < s->n_held; i++) {
		if (s->held[i] == req) {
			memmove(&s->held[i], &s->held[i + 1],
				(size_t)(s->n_held - i - 1) *
				    sizeof(s->held[0]));
			s->n_held--;
			return;
		}
	}
}

static void on_gone(struct http1_req *req, void *arg)
{
	struct apitest_srv *s = arg;

	s->n_gone++;
	forget(s, req);
	/* Finishing inside the close callback is allowed (http1.h, 3). */
	if (http1_stream_end(req) == -EINVAL) {
		http1_reply_error(req, -ERR_STOPPED);
	}
}

static void hold(struct apitest_srv *s, struct http1_req *req)
{
	ck_assert_int_lt(s->n_held, APITEST_MAX_HELD);
	s->held[s->n_held++] = req;
	http1_req_on_close(req, on_gone, s);
}

static void route_echo(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;
	size_t len;
	const uint8_t *body = http1_req_body(req, &len);
	const char *v;

	s->n_calls++;
	ck_assert_int_eq(
	    http1_req_add_header(req, "X-Path", http1_req_path(req)), 0);
	ck_assert_int_eq(
	    http1_req_add_header(req, "X-Query", http1_req_query(req)), 0);
	/* Request headers read back: X-Test and an empty one. */
	v = http1_req_header(req, "x-test");
	ck_assert_int_eq(
	    http1_req_add_header(req, "X-Seen-Test", v != NULL ? v : "-"), 0);
	v = http1_req_header(req, "X-Empty");
	if (v == NULL) {
		v = "absent";
	} else if (*v == '\0') {
		v = "empty";
	}
	ck_assert_int_eq(http1_req_add_header(req, "X-Seen-Empty", v), 0);
	ck_assert_int_eq(http1_req_add_header(req, "Bad\r\nName", "x"),
			 -EINVAL);
	http1_reply(req, 200, "application/json", body, len);
}

static void route_health(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;

	s->n_calls++;
	http1_reply(req, 200, "text/plain; charset=utf-8",
		    "{\"health\":\"true\"}", 17);
}

static void route_hold(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;

	s->n_calls++;
	hold(s, req);
}

static void route_stream(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;

	s->n_calls++;
	ck_assert_int_eq(http1_stream_start(req, "application/json"), 0);
	ck_assert_int_eq(http1_stream_result(req, "{\"created\":true}", 16), 0);
	hold(s, req);
}

/* The streamed-body route echoes each piece as "[piece]" and ends the
 * stream with "<end>" at the end of the body, or at once on a piece "FIN". */
static void on_piece(struct http1_req *req, const uint8_t *data, size_t len,
		     bool end, void *arg)
{
	struct apitest_srv *s = arg;
	char out[256];
	int n;

	if (len > 0) {
		s->n_pieces++;
		n = snprintf(out, sizeof(out), "[%.*s]", (int)len,
			     (const char *)data);
		ck_assert_int_ge(http1_stream_send(req, out, (size_t)n), 0);
		if (len == 3 && memcmp(data, "FIN", 3) == 0) {
			forget(s, req);
			ck_assert_int_eq(http1_stream_end(req), 0);
			return;
		}
	}
	if (end) {
		ck_assert_int_ge(http1_stream_send(req, "<end>", 5), 0);
		forget(s, req);
		ck_assert_int_eq(http1_stream_end(req), 0);
	}
}

static void route_body_stream(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;
	size_t len;

	s->n_calls++;
	(void)http1_req_body(req, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(http1_stream_start(req, "application/json"), 0);
	hold(s, req);
	http1_req_on_body(req, on_piece, s);
}

static void route_big(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;
	char *body = mem_alloc(s->big_size);

	ck_assert_ptr_nonnull(body);
	memset(body, 'a' + s->n_big % 26, s->big_size);
	s->n_calls++;
	s->n_big++;
	http1_reply(req, 200, "application/octet-stream", body, s->big_size);
	mem_free(body);
}

static void route_revoke(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;

	s->n_calls++;
	http1_reply_error(req, -ERR_LEASE_NOT_FOUND);
}

static void route_status(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;

	s->n_calls++;
	http1_reply_json(req, "{\"version\":\"3.5.13\"}", 20);
}

static void route_badjson(struct http1_req *req, void *ctx)
{
	struct apitest_srv *s = ctx;

	s->n_calls++;
	http1_reply_error_msg(req, GRPC_STATUS_INVALID_ARGUMENT,
			      "invalid character 'b' looking for beginning of "
			      "object key string");
}

static void h2_hook(int fd, const uint8_t *pre, size_t n, void *arg)
{
	struct apitest_srv *s = arg;

	s->h2_fd = fd;
	ck_assert_int_eq(buf_append(&s->h2_pre, pre, n), 0);
}

void apitest_install_h2(struct apitest_srv *s)
{
	listener_set_h2(s->lis, h2_hook, s);
}

void apitest_srv_start(struct apitest_srv *s, const struct http1_limits *lim)
{
	memset(s, 0, sizeof(*s));
	s->h2_fd = -1;
	s->big_size = 1024;
	buf_init(&s->h2_pre);
	s->base = event_base_new();
	ck_assert_ptr_nonnull(s->base);
	ck_assert_int_eq(http1_server_new(s->base, lim, &s->http), 0);
	ck_assert_int_eq(
	    http1_route_add(s->http, "POST", "/v3/kv/range", route_echo, s), 0);
	ck_assert_int_eq(
	    http1_route_add(s->http, "GET", "/health", route_health, s), 0);
	ck_assert_int_eq(
	    http1_route_add(s->http, "POST", "/v3/kv/put", route_hold, s), 0);
	ck_assert_int_eq(
	    http1_route_add(s->http, "POST", "/v3/watch", route_stream, s), 0);
	ck_assert_int_eq(http1_route_add(s->http, "GET", "/big", route_big, s),
			 0);
	ck_assert_int_eq(http1_route_add_stream(s->http, "POST",
						"/v3/lease/keepalive",
						route_body_stream, s),
			 0);
	ck_assert_int_eq(http1_route_add(s->http, "POST", "/v3/lease/revoke",
					 route_revoke, s),
			 0);
	ck_assert_int_eq(http1_route_add(s->http, "POST",
					 "/v3/maintenance/status", route_status,
					 s),
			 0);
	ck_assert_int_eq(
	    http1_route_add(s->http, "POST", "/v3/kv/txn", route_badjson, s),
	    0);
	ck_assert_int_eq(listener_new(s->base, s->http, &s->lis), 0);
	ck_assert_int_eq(testlib_loopback_addr(s->addr, sizeof(s->addr)), 0);
	ck_assert_int_eq(listener_add(s->lis, s->addr, 0), 0);
	s->port = listener_port(s->lis, 0);
	ck_assert_int_gt(s->port, 0);
}

void apitest_srv_stop(struct apitest_srv *s)
{
	listener_free(s->lis);
	http1_server_free(s->http);
	event_base_free(s->base);
	buf_done(&s->h2_pre);
	if (s->h2_fd >= 0) {
		close(s->h2_fd);
	}
}

void apitest_pump(struct apitest_srv *s, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000,
			     .tv_usec = (ms % 1000) * 1000};

	event_base_loopexit(s->base, &tv);
	event_base_dispatch(s->base);
}

/* ---- client ---- */

static struct apitest_client *cl(http_parser *p)
{
	return p->data;
}

static int c_begin(http_parser *p)
{
	struct apitest_client *c = cl(p);
	struct apitest_resp *r;

	ck_assert_int_lt(c->n_resp, APITEST_MAX_RESP);
	r = &c->resp[c->n_resp++];
	buf_init(&r->headers);
	buf_init(&r->body);
	r->complete = false;
	c->hdr_state = 0;
	return 0;
}

static int c_field(http_parser *p, const char *at, size_t len)
{
	struct apitest_client *c = cl(p);
	struct buf *h = &c->resp[c->n_resp - 1].headers;

	if (c->hdr_state == 2) {
		buf_append_byte(h, '\n');
	}
	c->hdr_state = 1;
	buf_append(h, at, len);
	return 0;
}

static int c_value(http_parser *p, const char *at, size_t len)
{
	struct apitest_client *c = cl(p);
	struct buf *h = &c->resp[c->n_resp - 1].headers;

	if (c->hdr_state == 1) {
		buf_append_str(h, ": ");
	}
	c->hdr_state = 2;
	buf_append(h, at, len);
	return 0;
}

static int c_headers_done(http_parser *p)
{
	struct apitest_client *c = cl(p);
	struct apitest_resp *r = &c->resp[c->n_resp - 1];

	buf_append_byte(&r->headers, '\n');
	r->status = (int)p->status_code;
	if (r->status == 100) {
		return 0;
	}
	return c->head_next[c->n_resp - 1] ? 1 : 0;
}

static int c_body(http_parser *p, const char *at, size_t len)
{
	struct apitest_client *c = cl(p);

	buf_append(&c->resp[c->n_resp - 1].body, at, len);
	return 0;
}

static int c_complete(http_parser *p)
{
	struct apitest_client *c = cl(p);
	struct apitest_resp *r = &c->resp[c->n_resp - 1];

	if (r->status == 100) {
		/* Interim response: not one of ours. */
		buf_done(&r->headers);
		buf_done(&r->body);
		c->n_resp--;
		return 0;
	}
	r->complete = true;
	c->n_complete++;
	return 0;
}

void apitest_connect(struct apitest_client *c, struct apitest_srv *s,
		     int rcvbuf)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)s->port)};

	memset(c, 0, sizeof(*c));
	buf_init(&c->raw);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(c->fd, 0);
	if (rcvbuf > 0) {
		ck_assert_int_eq(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF,
					    &rcvbuf, sizeof(rcvbuf)),
				 0);
	}
	ck_assert_int_eq(inet_pton(AF_INET, s->addr, &sa.sin_addr), 1);
	ck_assert_int_eq(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	http_parser_init(&c->parser, HTTP_RESPONSE);
	c->parser.data = c;
	http_parser_settings_init(&c->settings);
	c->settings.on_message_begin = c_begin;
	c->settings.on_header_field = c_field;
	c->settings.on_header_value = c_value;
	c->settings.on_headers_complete = c_headers_done;
	c->settings.on_body = c_body;
	c->settings.on_message_complete = c_complete;
}

void apitest_close(struct apitest_client *c)
{
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	for (int i = 0; i < c->n_resp; i++) {
		buf_done(&c->resp[i].headers);
		buf_done(&c->resp[i].body);
	}
	c->n_resp = 0;
	buf_done(&c->raw);
}

void apitest_send(struct apitest_client *c, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_NOSIGNAL);

		ck_assert_int_gt(n, 0);
		data += n;
		len -= (size_t)n;
	}
}

void apitest_send_str(struct apitest_client *c, const char *s)
{
	apitest_send(c, s, strlen(s));
}

bool apitest_read_some(struct apitest_client *c)
{
	char tmp[65536];
	bool any = false;

	while (!c->eof) {
		ssize_t n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		}
		if (n <= 0) {
			/* EOF, or a reset after the server closed. */
			c->eof = true;
			http_parser_execute(&c->parser, &c->settings, NULL, 0);
			break;
		}
		any = true;
		buf_append(&c->raw, tmp, (size_t)n);
		if (!c->parse_error) {
			size_t done = http_parser_execute(
			    &c->parser, &c->settings, tmp, (size_t)n);

			if (done != (size_t)n ||
			    HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
				c->parse_error = true;
			}
		}
	}
	return any;
}

static bool wait_for(struct apitest_client *c, struct apitest_srv *s,
		     bool (*done)(struct apitest_client *, const void *),
		     const void *arg)
{
	uint64_t end = timeutil_mono_ms() + 5000;

	while (timeutil_mono_ms() < end) {
		apitest_read_some(c);
		if (done(c, arg)) {
			return true;
		}
		if (c->eof) {
			return false;
		}
		apitest_pump(s, 2);
	}
	return false;
}

static bool have_n(struct apitest_client *c, const void *arg)
{
	return c->n_complete >= *(const int *)arg;
}

static bool have_eof(struct apitest_client *c, const void *arg)
{
	(void)arg;
	return c->eof;
}

static bool have_raw(struct apitest_client *c, const void *arg)
{
	return c->raw.data != NULL && strstr((char *)c->raw.data, arg) != NULL;
}

bool apitest_wait_responses(struct apitest_client *c, struct apitest_srv *s,
			    int n)
{
	return wait_for(c, s, have_n, &n) || c->n_complete >= n;
}

bool apitest_wait_eof(struct apitest_client *c, struct apitest_srv *s)
{
	uint64_t end = timeutil_mono_ms() + 5000;

	while (!c->eof && timeutil_mono_ms() < end) {
		apitest_read_some(c);
		if (!c->eof) {
			apitest_pump(s, 2);
		}
	}
	(void)have_eof;
	return c->eof;
}

bool apitest_wait_raw(struct apitest_client *c, struct apitest_srv *s,
		      const char *needle)
{
	return wait_for(c, s, have_raw, needle) || have_raw(c, needle);
}

const char *apitest_header(struct apitest_client *c, int i, const char *name)
{
	static char value[1024];
	const char *p = (const char *)c->resp[i].headers.data;
	size_t nl = strlen(name);

	value[0] = '\0';
	while (p != NULL && *p) {
		const char *eol = strchr(p, '\n');

		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			size_t vl = (size_t)(eol - p) - nl - 2;

			if (vl >= sizeof(value)) {
				vl = sizeof(value) - 1;
			}
			memcpy(value, p + nl + 2, vl);
			value[vl] = '\0';
			return value;
		}
		p = eol != NULL ? eol + 1 : NULL;
	}
	return value;
}
