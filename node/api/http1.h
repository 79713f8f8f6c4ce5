/*
 * http1.h - the HTTP/1.1 server of the client port (JSON gateway, /health,
 * /version, /metrics), on libhttp-parser over our own connections.
 *
 * The listener (listener.h) accepts and sniffs a connection, then hands it
 * here with the bytes it already read (http1_server_adopt).  Requests are
 * routed through the server's route table (route.h) to handlers registered
 * by the layer above.
 *
 * Requests and replies:
 *  1. A handler owns the request it is given until it finishes it, exactly
 *     once: http1_reply(), http1_reply_error(), or http1_stream_start()
 *     followed later by http1_stream_end().  It may finish it inside the
 *     handler or later from the loop (after a Raft commit).
 *  2. Pipelined requests are dispatched as they are parsed (up to
 *     max_pipelined per connection), but their responses go out in request
 *     order: a reply to a later request waits until earlier ones are
 *     finished.
 *  3. When the client goes away, every request a handler still owns gets
 *     its close callback (http1_req_on_close) once; the handler must still
 *     finish the request (finishing inside the callback is allowed); the
 *     reply functions then only free it.  No request outlives
 *     http1_server_free(): requests still owned after their close callback
 *     are freed there and their pointers become invalid.
 *  4. Back-pressure: while a connection's output queue is above out_limit,
 *     or max_pipelined requests are unanswered, it reads nothing more.
 *     Streams see the output level through http1_stream_send()'s return
 *     value and may ask to be told when it drains (http1_req_on_drain).
 *  5. Everything runs on the loop thread of the event_base.
 *  6. Streamed request bodies (http1_route_add_stream): the handler runs
 *     as soon as the headers are complete, with an empty body, and must
 *     call http1_req_on_body before returning unless it finishes req
 *     there.  Each piece of the body goes to that callback as it arrives,
 *     outside the parser, then one last call with end set.  After the
 *     handler finished req, or the client went away, the rest of the body
 *     is read and dropped; a response that is finished before its body
 *     ended leaves only once the body has been read.  The body limit
 *     applies to each undelivered piece, not to the whole body, and the
 *     request timeout does not apply to a streamed body.
 *
 * Built-in answers (etcd compat: Go net/http's texts): unknown path 404
 * "404 page not found"; known path, wrong method 405 with Allow; OPTIONS
 * 200 on any path (etcd's CORS handler); /v2/... 404 saying the v2 API is
 * not available; malformed request 400 and close; headers over the limit
 * 431 and close; body over the limit 413 with the gateway's JSON error for
 * "etcdserver: request is too large" and close; a request not complete
 * within request_timeout_ms 408 and close.
 */
#ifndef CETCD_API_HTTP1_H
#define CETCD_API_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/errmap.h"
#include "api/route.h"

struct event_base;
struct http1_server;
struct http1_req;

struct http1_limits {
	/* Request line plus header fields (431 beyond).  Default 64 KiB. */
	size_t max_header_bytes;
	/*
	 * Request body (413 beyond).  Default 1.5 MiB + 512 KiB: etcd's
	 * --max-request-bytes plus the gRPC receive slack (reference §0).
	 */
	size_t max_body_bytes;
	/* Output queued per connection before reading pauses.  1 MiB. */
	size_t out_limit;
	/* Requests parsed but not yet answered per connection.  16. */
	unsigned max_pipelined;
	/*
	 * From a request's first byte to its last, and the longest a
	 * connection may make no write progress.  30 s.
	 */
	unsigned request_timeout_ms;
	/* A keep-alive connection with nothing in flight.  0: never. 5 min. */
	unsigned idle_timeout_ms;
};

void http1_limits_default(struct http1_limits *out);

/* limits NULL: defaults.  base may be NULL only for http1_fuzz_one(). */
int http1_server_new(struct event_base *base, const struct http1_limits *limits,
		     struct http1_server **out);
/* Close every connection (invariant 3) and free the server. */
void http1_server_free(struct http1_server *s);

/*
 * Graceful shutdown (SIGTERM): stop reading requests on every connection.
 * Idle connections close now; the others answer what they already
 * dispatched, with Connection: close, then close.  Streams go on until
 * their owners end them.  Connections adopted later are not affected:
 * stop the listener first.
 */
void http1_server_drain(struct http1_server *s);

/* Register a handler (route_add on the server's table). */
int http1_route_add(struct http1_server *s, const char *method,
		    const char *path, route_handler_fn fn, void *ctx);

/*
 * Register a handler that reads its request body as a stream (invariant
 * 6): the gateway's bidirectional streams (/v3/watch, /v3/lease/keepalive)
 * whose clients send one JSON message after another in a chunked body.
 */
int http1_route_add_stream(struct http1_server *s, const char *method,
			   const char *path, route_handler_fn fn, void *ctx);

/*
 * Take over an accepted, non-blocking socket whose first n bytes (pre,
 * copied) were already read.  The server owns fd from here on, also on
 * failure (closed then).  0 or -ENOMEM.
 */
int http1_server_adopt(struct http1_server *s, int fd, const uint8_t *pre,
		       size_t n);

/* Open connections, for tests and metrics. */
size_t http1_server_conn_count(const struct http1_server *s);

/* --- Reading a request (valid while the handler owns it) --- */

/* "GET", "POST", ... (HEAD requests reach GET handlers as "HEAD"). */
const char *http1_req_method(const struct http1_req *req);
/* Canonical path (route.h: /v3beta/x reads as /v3/x), no query. */
const char *http1_req_path(const struct http1_req *req);
/* The raw query after '?', "" when none. */
const char *http1_req_query(const struct http1_req *req);
/* The body (NUL-terminated for convenience; len excludes the NUL). */
const uint8_t *http1_req_body(const struct http1_req *req, size_t *len);
/* The first header named name (case-insensitive), or NULL. */
const char *http1_req_header(const struct http1_req *req, const char *name);
/* True once the client is gone (invariant 3). */
bool http1_req_client_gone(const struct http1_req *req);

typedef void (*http1_req_cb)(struct http1_req *req, void *arg);
/* Called once when the client goes away while the handler owns req. */
void http1_req_on_close(struct http1_req *req, http1_req_cb fn, void *arg);
/*
 * Called when a stream's connection output falls below out_limit again
 * after http1_stream_send() returned 1.
 */
void http1_req_on_drain(struct http1_req *req, http1_req_cb fn, void *arg);

/*
 * A piece of a streamed body (invariant 6): data/len (borrowed until the
 * callback sends, replies or finishes req: copy it first), end true on the
 * last call (len may be 0 then).  The callback may
 * reply, stream, or finish req.
 */
typedef void (*http1_body_cb)(struct http1_req *req, const uint8_t *data,
			      size_t len, bool end, void *arg);
void http1_req_on_body(struct http1_req *req, http1_body_cb fn, void *arg);

/* --- Replying --- */

/*
 * Add a response header ("Grpc-Metadata-Content-Type: application/grpc")
 * before the reply or stream starts.  0, -EINVAL (CR/LF in it), -ENOMEM.
 */
int http1_req_add_header(struct http1_req *req, const char *name,
			 const char *value);

/*
 * Finish req with a complete response (body copied; NULL/0 for none).
 * 0; -EPIPE when the client was gone; -ENOMEM (the connection is closed).
 * req is invalid afterwards in every case.
 */
int http1_reply(struct http1_req *req, int status, const char *content_type,
		const void *body, size_t len);

/*
 * Finish req with the gateway's JSON error for err (errmap.h): HTTP
 * status from the gRPC code, body {"error","code","message"}.
 */
int http1_reply_error(struct http1_req *req, int err);

/*
 * Finish req with a gateway success body: 200, Content-Type
 * application/json and Grpc-Metadata-Content-Type: application/grpc, as
 * etcd's gateway sends (reference §1.9).
 */
int http1_reply_json(struct http1_req *req, const void *body, size_t len);

/*
 * Finish req with a gateway error whose message is not in the table (the
 * JSON decoder's "invalid character ..." errors, code InvalidArgument).
 */
int http1_reply_error_msg(struct http1_req *req, enum grpc_status code,
			  const char *message);

/*
 * Start a 200 chunked response (Transfer-Encoding: chunked; for an
 * HTTP/1.0 client the body is raw and the connection closes at the end).
 * 0, -EPIPE, -ENOMEM, -EALREADY.  req stays owned by the handler.
 */
int http1_stream_start(struct http1_req *req, const char *content_type);

/*
 * Send one chunk.  0: sent or queued; 1: queued, but the connection's
 * output is above out_limit, so slow down (http1_req_on_drain tells when
 * it is not); -EPIPE: the client is gone; -ENOMEM.
 */
int http1_stream_send(struct http1_req *req, const void *data, size_t len);

/*
 * Send one stream message as etcd's gateway frames it: one chunk holding
 * {"result":<json>} and a newline (etcd3gw parses chunk by chunk).
 */
int http1_stream_result(struct http1_req *req, const char *json, size_t len);

/* Send err as the gateway's stream error object in one chunk. */
int http1_stream_error(struct http1_req *req, int err);

/*
 * End the stream (the last chunk) and finish req.  req is invalid after.
 * Once the client is gone, this and http1_reply() both just release req,
 * whether or not the stream had started.
 */
int http1_stream_end(struct http1_req *req);

/*
 * Fuzz entry point: feed data to a fresh connection that has no socket
 * (output is discarded), with routes that reply at once, stream, or keep
 * the request, then close it.  Always returns 0; a bug shows as a
 * sanitizer report.
 */
int http1_fuzz_one(const uint8_t *data, size_t size);

#endif
