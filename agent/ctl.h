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

/* "127.0.0.1:2379" -> "http://127.0.0.1:2379"; a URL stays. mem_free. */
char *ctl_endpoint_url(const char *ep);
/* The host:port part of an endpoint, as etcdctl prints it in tables. */
const char *ctl_endpoint_name(const char *url);

#endif
