/*
 * ctl_client.c - cetcdctl's requests over the JSON gateway (ctl.h).
 *
 * One libcurl easy handle per request keeps this simple; cetcdctl makes a
 * handful of requests per run.  The dial timeout bounds connecting and the
 * command timeout the whole request, as etcdctl's two timeouts do.
 */
#include "agent/ctl.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <time.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, p, size * n) < 0 ? 0 : size * n;
}

char *ctl_endpoint_url(const char *ep)
{
	struct buf b = BUF_INIT;

	if (strstr(ep, "://") == NULL && buf_append_str(&b, "http://") < 0) {
		return NULL;
	}
	if (buf_append_str(&b, ep) < 0) {
		buf_done(&b);
		return NULL;
	}
	/* A trailing slash would double with the API path. */
	while (b.len > 0 && b.data[b.len - 1] == '/') {
		b.data[--b.len] = '\0';
	}
	return (char *)buf_steal(&b, NULL);
}

const char *ctl_endpoint_name(const char *url)
{
	const char *p = strstr(url, "://");

	return p != NULL ? p + 3 : url;
}

/* Run one request; the body goes to out.  Sets *http_status. */
static int perform(const struct ctl *c, const char *url, const char *body,
		   struct buf *out, long *http_status, char *err, size_t err_size)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	CURLcode rc;

	if (h == NULL) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->dial_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->command_timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (body != NULL) {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	}
	if (c->debug) {
		fprintf(stderr, "cetcdctl: %s %s %s\n", body ? "POST" : "GET", url,
			body ? body : "");
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, http_status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc == CURLE_OK) {
		return 0;
	}
	/* etcd compat: etcdctl reports an unreachable member this way. */
	snprintf(err, err_size, "context deadline exceeded");
	return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
}

/* The gateway's error body: {"error":..,"message":..,"code":N}. */
static void error_message(const struct buf *body, long status, char *err, size_t size)
{
	json_object *o = json_tokener_parse(body->data ? (const char *)body->data : "");
	json_object *m;

	if (o != NULL && json_object_object_get_ex(o, "message", &m) &&
	    json_object_is_type(m, json_type_string)) {
		snprintf(err, size, "%s", json_object_get_string(m));
	} else {
		snprintf(err, size, "unexpected HTTP status %ld from the member", status);
	}
	json_object_put(o);
}

int ctl_post(const struct ctl *c, const char *endpoint, const char *path,
	     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rdesc,
	     ProtobufCMessage **resp, char *err, size_t err_size)
{
	struct buf body = BUF_INIT, out = BUF_INIT, url = BUF_INIT;
	long status = 0;
	int r;

	if (req == NULL) {
		r = buf_append_str(&body, "{}");
	} else {
		r = pjson_encode(req, &body);
	}
	if (r == 0) {
		r = buf_printf(&url, "%s%s", endpoint, path);
	}
	if (r < 0) {
		snprintf(err, err_size, "out of memory");
		goto out;
	}
	r = perform(c, (char *)url.data, (char *)body.data, &out, &status, err, err_size);
	if (r < 0) {
		goto out;
	}
	if (status != 200) {
		error_message(&out, status, err, err_size);
		r = -EPROTO;
		goto out;
	}
	r = pjson_decode(rdesc, out.data ? (const char *)out.data : "{}", out.len, resp,
			 err, err_size);
	if (r < 0) {
		r = -ERR_PARSE;
	}
out:
	buf_done(&body);
	buf_done(&out);
	buf_done(&url);
	return r;
}

int ctl_call(const struct ctl *c, const char *path, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *rdesc, ProtobufCMessage **resp,
	     char *err, size_t err_size)
{
	int r = -ECONNREFUSED;

	snprintf(err, err_size, "context deadline exceeded");
	for (size_t i = 0; i < c->n_endpoints; i++) {
		r = ctl_post(c, c->endpoints[i], path, req, rdesc, resp, err, err_size);
		if (r != -ETIMEDOUT && r != -ECONNREFUSED) {
			return r; /* answered, even with an error: do not retry */
		}
	}
	return r;
}

int ctl_get(const struct ctl *c, const char *endpoint, const char *path, char **out,
	    char *err, size_t err_size)
{
	struct buf body = BUF_INIT, url = BUF_INIT;
	long status = 0;
	int r = buf_printf(&url, "%s%s", endpoint, path);

	if (r == 0) {
		r = perform(c, (char *)url.data, NULL, &body, &status, err, err_size);
	}
	buf_done(&url);
	if (r < 0) {
		buf_done(&body);
		return r;
	}
	if (buf_append(&body, "", 0) < 0) {
		buf_done(&body);
		return -ENOMEM;
	}
	*out = (char *)buf_steal(&body, NULL);
	return status == 200 ? 0 : -EPROTO;
}

/* --- streamed answers ------------------------------------------------------ */

struct stream {
	const ProtobufCMessageDescriptor *rdesc;
	ctl_stream_fn fn;
	void *arg;
	struct buf line; /* the unfinished line so far */
	bool got_data;	 /* the member answered: do not fail over */
	int result;	 /* 1 stopped by fn, < 0 failed */
	char *err;
	size_t err_size;
};

/* One complete line of the stream: {"result":{...}} or {"error":{...}}. */
static int stream_line(struct stream *s, const char *text)
{
	json_object *o = json_tokener_parse(text), *v, *m;
	ProtobufCMessage *msg = NULL;
	const char *body;
	int r;

	if (o == NULL) {
		snprintf(s->err, s->err_size, "malformed stream message from the member");
		return -ERR_PARSE;
	}
	if (json_object_object_get_ex(o, "message", &m) &&
	    json_object_object_get_ex(o, "code", &v)) {
		/* a unary-style error body: {"error":..,"message":..,"code":N} */
		snprintf(s->err, s->err_size, "%s", json_object_get_string(m));
		json_object_put(o);
		return -EPROTO;
	}
	if (json_object_object_get_ex(o, "error", &v)) {
		if (json_object_object_get_ex(v, "message", &m)) {
			snprintf(s->err, s->err_size, "%s", json_object_get_string(m));
		} else {
			snprintf(s->err, s->err_size, "%s", json_object_get_string(v));
		}
		json_object_put(o);
		return -EPROTO;
	}
	if (!json_object_object_get_ex(o, "result", &v)) {
		json_object_put(o);
		return 0; /* nothing we know: skip */
	}
	body = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	r = pjson_decode(s->rdesc, body, strlen(body), &msg, s->err, s->err_size);
	json_object_put(o);
	if (r < 0) {
		return -ERR_PARSE;
	}
	r = s->fn(msg, s->arg);
	proto_free(msg);
	return r;
}

static size_t stream_write(char *p, size_t size, size_t n, void *arg)
{
	struct stream *s = arg;
	size_t len = size * n;

	s->got_data = true;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '\n') {
			if (buf_append(&s->line, &p[i], 1) < 0) {
				s->result = -ENOMEM;
				return 0;
			}
			continue;
		}
		if (s->line.len > 0) {
			int r = buf_append(&s->line, "", 0);
			if (r == 0) {
				r = stream_line(s, (const char *)s->line.data);
			}
			s->line.len = 0;
			if (r != 0) {
				s->result = r;
				return 0; /* libcurl stops the transfer */
			}
		}
	}
	return len;
}

/* How a stream ended: the callback's verdict (> 0: it stopped the stream on
 * purpose), the gateway's error answer, or curl's transport result. */
static int stream_outcome(struct stream *s, CURLcode rc, long status)
{
	if (s->result != 0) {
		return s->result > 0 ? 0 : s->result;
	}
	if (status != 0 && status != 200) {
		if (buf_append(&s->line, "", 0) < 0) {
			return -ENOMEM;
		}
		error_message(&s->line, status, s->err, s->err_size);
		return -EPROTO;
	}
	if (rc == CURLE_OK) {
		return 0;
	}
	snprintf(s->err, s->err_size, "context deadline exceeded");
	return rc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -ECONNREFUSED;
}

static int stream_one(const struct ctl *c, const char *url, const char *body,
		      bool bounded, struct stream *s)
{
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	long status = 0;
	CURLcode rc;

	if (h == NULL) {
		snprintf(s->err, s->err_size, "out of memory");
		return -ENOMEM;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->dial_timeout_ms);
	if (bounded) {
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->command_timeout_ms);
	}
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	if (c->debug) {
		fprintf(stderr, "cetcdctl: POST %s %s\n", url, body);
	}
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return stream_outcome(s, rc, status);
}

int ctl_stream(const struct ctl *c, const char *path, const ProtobufCMessage *req,
	       const ProtobufCMessageDescriptor *rdesc, bool bounded, ctl_stream_fn fn,
	       void *arg, char *err, size_t err_size)
{
	struct buf body = BUF_INIT;
	int r = pjson_encode(req, &body);

	snprintf(err, err_size, "context deadline exceeded");
	if (r < 0) {
		snprintf(err, err_size, "out of memory");
		return r;
	}
	r = -ECONNREFUSED;
	for (size_t i = 0; i < c->n_endpoints; i++) {
		struct stream s = {.rdesc = rdesc, .fn = fn, .arg = arg,
				   .line = BUF_INIT, .err = err, .err_size = err_size};
		struct buf url = BUF_INIT;

		if (buf_printf(&url, "%s%s", c->endpoints[i], path) < 0) {
			r = -ENOMEM;
			break;
		}
		r = stream_one(c, (const char *)url.data, (const char *)body.data, bounded, &s);
		buf_done(&url);
		buf_done(&s.line);
		if (s.got_data || (r != -ETIMEDOUT && r != -ECONNREFUSED)) {
			break;
		}
	}
	buf_done(&body);
	return r;
}

/* --- streams that send too (ctl_duplex) ------------------------------------ */

struct ctl_duplex {
	CURL *h;
	struct buf out; /* chunk payloads not yet handed to libcurl */
	size_t out_off;
	bool send_closed;
	bool paused; /* the read callback paused the upload */
	uint64_t wake_at_ms;
	int wake_fd;
};

static uint64_t duplex_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libcurl asks for body bytes (it frames the chunks itself). */
static size_t duplex_read(char *p, size_t size, size_t n, void *arg)
{
	struct ctl_duplex *d = arg;
	size_t left = d->out.len - d->out_off, len = size * n;

	if (left == 0) {
		buf_reset(&d->out);
		d->out_off = 0;
		if (d->send_closed) {
			return 0; /* the last chunk */
		}
		d->paused = true;
		return CURL_READFUNC_PAUSE;
	}
	if (len > left) {
		len = left;
	}
	memcpy(p, d->out.data + d->out_off, len);
	d->out_off += len;
	return len;
}

static void duplex_resume(struct ctl_duplex *d)
{
	if (d->paused) {
		d->paused = false;
		curl_easy_pause(d->h, CURLPAUSE_CONT);
	}
}

int ctl_duplex_send(struct ctl_duplex *d, const ProtobufCMessage *req)
{
	int r = pjson_encode(req, &d->out);

	if (r < 0) {
		return r;
	}
	duplex_resume(d);
	return 0;
}

void ctl_duplex_wake_in(struct ctl_duplex *d, uint64_t ms)
{
	d->wake_at_ms = ms > 0 ? duplex_now_ms() + ms : 0;
}

void ctl_duplex_close_send(struct ctl_duplex *d)
{
	d->send_closed = true;
	duplex_resume(d);
}

void ctl_duplex_forget_fd(struct ctl_duplex *d)
{
	d->wake_fd = -1;
}

/* libcurl reports no POLLHUP for extra fds: ask poll(2) itself, so the end
 * of a pipe wakes the caller too. */
static bool duplex_fd_ready(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return fd >= 0 && poll(&p, 1, 0) > 0 &&
	       (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

/* One endpoint: run the transfer until it ends or a callback stops it. */
static int duplex_one(const struct ctl *c, const char *url, struct ctl_duplex *d,
		      struct stream *s, ctl_duplex_fn on_wake, void *arg)
{
	CURLM *m = curl_multi_init();
	struct curl_slist *hdrs = NULL;
	CURLcode rc = CURLE_OK;
	long status = 0;
	int running = 1, r = 0;

	d->h = curl_easy_init();
	if (m == NULL || d->h == NULL) {
		curl_easy_cleanup(d->h);
		curl_multi_cleanup(m);
		snprintf(s->err, s->err_size, "out of memory");
		return -ENOMEM;
	}
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
	curl_easy_setopt(d->h, CURLOPT_URL, url);
	curl_easy_setopt(d->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->h, CURLOPT_CONNECTTIMEOUT_MS, (long)c->dial_timeout_ms);
	curl_easy_setopt(d->h, CURLOPT_POST, 1L);
	curl_easy_setopt(d->h, CURLOPT_READFUNCTION, duplex_read);
	curl_easy_setopt(d->h, CURLOPT_READDATA, d);
	curl_easy_setopt(d->h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(d->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(d->h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(d->h, CURLOPT_HTTPHEADER, hdrs);
	if (c->debug) {
		fprintf(stderr, "cetcdctl: POST %s (streamed body) %.*s\n", url,
			(int)d->out.len, d->out.data ? (const char *)d->out.data : "");
	}
	curl_multi_add_handle(m, d->h);
	while (running > 0 && s->result == 0 && r == 0) {
		struct curl_waitfd wfd = {.fd = d->wake_fd, .events = CURL_WAIT_POLLIN};
		uint64_t now = duplex_now_ms();
		int timeout = 1000, nfds = 0;
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(m, &running) != CURLM_OK) {
			break;
		}
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE) {
				rc = msg->data.result;
			}
		}
		if (running == 0 || s->result != 0) {
			break;
		}
		if (d->wake_at_ms != 0) {
			timeout = d->wake_at_ms <= now ? 0 : (int)(d->wake_at_ms - now);
			if (timeout > 1000) {
				timeout = 1000;
			}
		}
		wfd.revents = 0;
		if (curl_multi_poll(m, d->wake_fd >= 0 ? &wfd : NULL, d->wake_fd >= 0 ? 1 : 0,
				    timeout, &nfds) != CURLM_OK) {
			break;
		}
		if (on_wake == NULL) {
			continue;
		}
		if (duplex_fd_ready(d->wake_fd) ||
		    (d->wake_at_ms != 0 && duplex_now_ms() >= d->wake_at_ms)) {
			if (d->wake_at_ms != 0 && duplex_now_ms() >= d->wake_at_ms) {
				d->wake_at_ms = 0;
			}
			r = on_wake(d, arg);
		}
	}
	curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(m, d->h);
	curl_easy_cleanup(d->h);
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	d->h = NULL;
	if (r != 0) {
		return r > 0 ? 0 : r;
	}
	return stream_outcome(s, rc, status);
}

int ctl_duplex(const struct ctl *c, const char *path, const ProtobufCMessage *first,
	       const ProtobufCMessageDescriptor *rdesc, ctl_stream_fn on_msg,
	       ctl_duplex_fn on_wake, int wake_fd, uint64_t wake_ms, void *arg,
	       char *err, size_t err_size)
{
	int r = -ECONNREFUSED;

	snprintf(err, err_size, "context deadline exceeded");
	for (size_t i = 0; i < c->n_endpoints; i++) {
		struct ctl_duplex d = {.out = BUF_INIT, .wake_fd = wake_fd};
		struct stream s = {.rdesc = rdesc, .fn = on_msg, .arg = arg,
				   .line = BUF_INIT, .err = err, .err_size = err_size};
		struct buf url = BUF_INIT;

		if (buf_printf(&url, "%s%s", c->endpoints[i], path) < 0 ||
		    (first != NULL && pjson_encode(first, &d.out) < 0)) {
			buf_done(&url);
			buf_done(&d.out);
			snprintf(err, err_size, "out of memory");
			return -ENOMEM;
		}
		ctl_duplex_wake_in(&d, wake_ms);
		r = duplex_one(c, (const char *)url.data, &d, &s, on_wake, arg);
		buf_done(&url);
		buf_done(&s.line);
		buf_done(&d.out);
		if (s.got_data || (r != -ETIMEDOUT && r != -ECONNREFUSED)) {
			break;
		}
	}
	return r;
}
