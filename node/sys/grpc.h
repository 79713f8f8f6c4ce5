/*
 * grpc.h - gRPC over HTTP/2 (nghttp2) on accepted connections: the client
 * port's gRPC services (node/api) and the peer port's Raft streams (node/peer).
 *
 * The client listener sniffs the HTTP/2 preface and hands the connection
 * here with the bytes it already read.  This module owns the connection
 * from then on: HTTP/2 framing and flow control (nghttp2), gRPC message
 * framing (1 byte compressed flag, 4 bytes big-endian length, message),
 * response headers and trailers (grpc-status, grpc-message), grpc-timeout
 * deadlines, and dispatch by method path to a handler table.  It knows
 * nothing of protobuf or etcd: messages are bytes.
 *
 * Call lifecycle (one HTTP/2 stream):
 *   1. Headers arrive; an unknown path is answered UNIMPLEMENTED at once.
 *   2. Each complete request message goes to method->on_message.  For a
 *      unary or server-streaming method it is delivered once the client
 *      half-closed, so a handler sees exactly one message.
 *   3. The handler answers with grpc_call_send() (any number of times) and
 *      grpc_call_finish() (once), at once or later from the loop.
 *   4. method->on_close runs exactly once for every call dispatched to a
 *      method, when it ends for any reason (finished and flushed, client
 *      cancel or RST, deadline, an oversized or malformed request refused
 *      before on_message, connection closed).  After it returns the call pointer is invalid: a handler that
 *      keeps the call for an asynchronous answer must forget it there.
 *
 * Invariants:
 *  1. One thread (the loop's) touches a connection and its calls.
 *  2. No call's outgoing queue grows without bound: grpc_call_send fails
 *     with -ENOBUFS past GRPC_CALL_MAX_QUEUED; producers watch
 *     grpc_call_queued() and method->on_writable.
 *  3. A connection stops reading from nghttp2 into its socket buffer above
 *     GRPC_CONN_MAX_OUTPUT bytes and resumes when the socket drains, so a
 *     client that does not read makes the member hold at most that much
 *     per connection plus each call's queue.
 *  4. grpc_call_finish() after the call was closed or finished is a no-op
 *     returning -EPIPE.
 */
#ifndef CETCD_API_GRPC_H
#define CETCD_API_GRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct grpc_call;
struct grpc_server;

/* gRPC status codes (grpc/doc/statuscodes.md). */
enum grpc_status {
	GRPC_STATUS_OK = 0,
	GRPC_STATUS_CANCELLED = 1,
	GRPC_STATUS_UNKNOWN = 2,
	GRPC_STATUS_INVALID_ARGUMENT = 3,
	GRPC_STATUS_DEADLINE_EXCEEDED = 4,
	GRPC_STATUS_NOT_FOUND = 5,
	GRPC_STATUS_ALREADY_EXISTS = 6,
	GRPC_STATUS_PERMISSION_DENIED = 7,
	GRPC_STATUS_RESOURCE_EXHAUSTED = 8,
	GRPC_STATUS_FAILED_PRECONDITION = 9,
	GRPC_STATUS_ABORTED = 10,
	GRPC_STATUS_OUT_OF_RANGE = 11,
	GRPC_STATUS_UNIMPLEMENTED = 12,
	GRPC_STATUS_INTERNAL = 13,
	GRPC_STATUS_UNAVAILABLE = 14,
	GRPC_STATUS_DATA_LOSS = 15,
	GRPC_STATUS_UNAUTHENTICATED = 16,
};

enum grpc_kind {
	GRPC_UNARY,
	GRPC_SERVER_STREAM, /* one request, many responses (Snapshot) */
	GRPC_CLIENT_STREAM,
	GRPC_BIDI, /* Watch, LeaseKeepAlive */
};

#define GRPC_CALL_MAX_QUEUED (4u << 20)   /* bytes queued per call */
#define GRPC_CONN_MAX_OUTPUT (256u << 10) /* socket-side output per connection */

struct grpc_method {
	const char *path; /* "/etcdserverpb.KV/Range" */
	enum grpc_kind kind;
	/* A request message (borrowed for the duration of the callback). */
	void (*on_message)(struct grpc_call *call, const uint8_t *msg, size_t len,
			   void *arg);
	/* Streams: the client half-closed its side.  May be NULL. */
	void (*on_half_close)(struct grpc_call *call, void *arg);
	/* The call's queue fell below half of GRPC_CALL_MAX_QUEUED. May be NULL. */
	void (*on_writable)(struct grpc_call *call, void *arg);
	/* The call ended (see the lifecycle above).  May be NULL. */
	void (*on_close)(struct grpc_call *call, void *arg);
	void *arg;
};

struct grpc_server_config {
	const struct grpc_method *methods; /* borrowed for the server's life */
	size_t n_methods;
	/* Largest request message accepted; larger ones fail RESOURCE_EXHAUSTED. */
	size_t max_recv_msg;
	uint32_t max_concurrent_streams;
};

/* A server: the method table and the set of its live connections. */
struct grpc_server *grpc_server_new(struct event_base *base,
				    const struct grpc_server_config *cfg);
/* Closes every connection (their calls get on_close) and frees the server. */
void grpc_server_free(struct grpc_server *srv);
/*
 * Graceful stop: GOAWAY to every connection; calls under way may finish,
 * new streams are refused.  Connections close once their calls are done.
 */
void grpc_server_shutdown(struct grpc_server *srv);
size_t grpc_server_n_conns(const struct grpc_server *srv);

/*
 * Take over an accepted, non-blocking socket whose first bytes (prefix,
 * copied; may include the client preface) were already read.  The fd is
 * closed with the connection.  0 or -errno (the fd is closed on failure).
 */
int grpc_server_adopt(struct grpc_server *srv, int fd, const uint8_t *prefix,
		      size_t n);

/* Queue a response message.  0, -ENOBUFS (queue full), -EPIPE (ended). */
int grpc_call_send(struct grpc_call *call, const uint8_t *msg, size_t len);
/*
 * End the call with a status and message (NULL for none); queued messages
 * are sent first.  0 or -EPIPE.
 */
int grpc_call_finish(struct grpc_call *call, enum grpc_status status,
		     const char *message);
size_t grpc_call_queued(const struct grpc_call *call);
const char *grpc_call_path(const struct grpc_call *call);
/* Monotonic deadline in ns from grpc-timeout, or 0 when none was given. */
uint64_t grpc_call_deadline_ns(const struct grpc_call *call);
/* A value of one request header (lower-case name), or NULL. */
const char *grpc_call_header(const struct grpc_call *call, const char *name);
void grpc_call_set_data(struct grpc_call *call, void *data);
void *grpc_call_data(const struct grpc_call *call);

/*
 * Parse a grpc-timeout value ("100m", "5S", "1H": 1-8 digits and a unit of
 * H M S m u n) into nanoseconds.  0 or -EINVAL.
 */
int grpc_parse_timeout(const char *s, uint64_t *out_ns);

#endif
