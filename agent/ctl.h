/*
 * ctl.h - cetcdctl, the etcdctl-compatible CLI: shared state of one run.
 *
 * cetcdctl talks to members through the JSON gateway with libcurl (design.md)
 * and prints what etcdctl prints: the same words, tables, exit codes.
 */
#ifndef CETCD_AGENT_CTL_H
#define CETCD_AGENT_CTL_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* etcd compat: etcdctl's exit codes (pkg/cobrautl/error.go). */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_ERROR = 1,
	CTL_EXIT_BAD_CONNECTION = 2,
	CTL_EXIT_INVALID_INPUT = 3,
	CTL_EXIT_BAD_FEATURE = 4,
	CTL_EXIT_INTERRUPTED = 5,
	CTL_EXIT_IO = 6,
	CTL_EXIT_BAD_ARGS = 128,
};

enum ctl_format { CTL_FMT_SIMPLE, CTL_FMT_JSON, CTL_FMT_TABLE, CTL_FMT_FIELDS };

struct ctl {
	char **endpoints; /* "http://host:port" */
	size_t n_endpoints;
	uint64_t dial_timeout_ms;
	uint64_t command_timeout_ms;
	enum ctl_format format;
	bool hex;
	bool debug;
	bool cluster; /* endpoint commands: every member's client URLs */
	/*
	 * The endpoints as given (host:port or URL), which etcdctl prints;
	 * NULL (as cetcd-agent leaves it): ctl_endpoint_name() of each.
	 */
	char **names;
};

/*
 * POST req as JSON to endpoint + path and decode the answer as rdesc.
 * 0 with *resp (proto_free), or an error with a message in err:
 *   -ETIMEDOUT / -ECONNREFUSED  could not reach the endpoint in time
 *                               ("context deadline exceeded", as etcdctl);
 *   -EPROTO                     the member answered an error (err holds
 *                               its message, e.g. "etcdserver: no leader");
 *   -ERR_PARSE                  the answer was not what was expected.
 * A NULL req sends "{}".
 */
int ctl_post(const struct ctl *c, const char *endpoint, const char *path,
	     const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rdesc,
	     ProtobufCMessage **resp, char *err, size_t err_size);
/*
 * ctl_post to the first endpoint that can be reached, in order (etcdctl's
 * client fails over between endpoints the same way).
 */
int ctl_call(const struct ctl *c, const char *path, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *rdesc, ProtobufCMessage **resp,
	     char *err, size_t err_size);
/* GET endpoint + path; the body into out (mem_free). */
int ctl_get(const struct ctl *c, const char *endpoint, const char *path, char **out,
	    char *err, size_t err_size);

/*
 * One message of a streamed answer (watch, lease keep-alive, snapshot):
 * return > 0 to stop reading (not an error), < 0 to fail the stream.
 */
typedef int (*ctl_stream_fn)(ProtobufCMessage *msg, void *arg);
/*
 * POST req to path and hand every {"result":...} line of the answer,
 * decoded as rdesc, to fn, trying the endpoints in order until one can be
 * reached.  bounded: the command timeout limits the whole stream (false
 * for watch, which runs until stopped).  0 when the stream ended or fn
 * stopped it; errors as ctl_post (a streamed {"error":...} is -EPROTO).
 */
int ctl_stream(const struct ctl *c, const char *path, const ProtobufCMessage *req,
	       const ProtobufCMessageDescriptor *rdesc, bool bounded, ctl_stream_fn fn,
	       void *arg, char *err, size_t err_size);

/*
 * A stream that sends as well (the gateway's /v3/watch and
 * /v3/lease/keepalive read a chunked body of JSON requests): one POST
 * whose body starts with first and takes every later ctl_duplex_send,
 * while the answers go to on_msg as ctl_stream's do.  on_wake runs when
 * the wait (first wake_ms, 0: none; then as set with ctl_duplex_wake_in)
 * elapses or wake_fd (>= 0) is readable; it returns as on_msg does (> 0
 * stop, < 0 fail).  Endpoints
 * are tried in order until one answers.  0 when the stream ended or a
 * callback stopped it; errors as ctl_stream.
 */
struct ctl_duplex;
typedef int (*ctl_duplex_fn)(struct ctl_duplex *d, void *arg);
int ctl_duplex(const struct ctl *c, const char *path, const ProtobufCMessage *first,
	       const ProtobufCMessageDescriptor *rdesc, ctl_stream_fn on_msg,
	       ctl_duplex_fn on_wake, int wake_fd, uint64_t wake_ms, void *arg,
	       char *err, size_t err_size);
/* Queue req on the body.  0 or -ENOMEM. */
int ctl_duplex_send(struct ctl_duplex *d, const ProtobufCMessage *req);
/* Call on_wake after ms (replaces the previous wait; 0: none). */
void ctl_duplex_wake_in(struct ctl_duplex *d, uint64_t ms);
/* End the body (the last chunk) once what is queued is sent. */
void ctl_duplex_close_send(struct ctl_duplex *d);
/* Watch no fd from now on (its input ended). */
void ctl_duplex_forget_fd(struct ctl_duplex *d);

/*
 * `endpoint health`'s verdict on every endpoint, probed all at once
 * (ctl_health.c): out[i] for c->endpoints[i].  0 or -ENOMEM.
 */
#define CTL_ERRSZ_HEALTH 512
struct ctl_health {
	bool ok;
	char err[CTL_ERRSZ_HEALTH];
	uint64_t took_ns;
};
int ctl_health_all(const struct ctl *c, struct ctl_health *out);

/* "127.0.0.1:2379" -> "http://127.0.0.1:2379"; a URL stays. mem_free. */
char *ctl_endpoint_url(const char *ep);
/* The host:port part of an endpoint, as etcdctl prints it in tables. */
const char *ctl_endpoint_name(const char *url);

#endif
