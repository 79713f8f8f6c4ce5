/*
 * api_int.h - what api.c (ports, /health, /version, /metrics) and
 * services.c (the etcd methods on both protocols) share.  Not exported.
 *
 * Invariants:
 *  1. Every request handed to the member has one struct api_call, linked
 *     in api->calls from member_request() until its done callback runs or
 *     it is cancelled; api_free() cancels what is still linked.
 *  2. An api_call is freed by whoever ends it last: the protocol's close
 *     callback (gRPC on_close, http1 close) or the member's done callback
 *     once the reply is written.
 */
#ifndef CETCD_API_API_INT_H
#define CETCD_API_API_INT_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/list.h"
#include "server/member.h"
#include "sys/grpc.h"

struct http1_req;
struct http1_server;
struct listener;
struct metrics;
struct metrics_counter;
struct sys_timer;

/* One method of etcd's services, with both of its names. */
struct svc_method {
	char *grpc_path;	/* "/etcdserverpb.KV/Range" (owned) */
	const char *http_path;	/* "/v3/kv/range"; NULL: none */
	const char *http_alias; /* a second gateway path, or NULL */
	enum grpc_kind kind;
	int op; /* enum member_op, or -1: not implemented yet */
	const ProtobufCMessageDescriptor *req;
	const ProtobufCMessageDescriptor *resp;
	struct api *api;
	/* go-grpc-prometheus' series (etcd compat: dashboards alert on them).
	 */
	struct metrics_counter *started;
	struct metrics_counter *handled[GRPC_STATUS_UNAUTHENTICATED + 1];
	struct metrics_counter *msg_received;
	struct metrics_counter *msg_sent;
};

struct api {
	struct sys_loop *loop;
	struct member *m;
	const struct config *cfg;
	struct http1_server *http;
	struct listener *lis;
	struct grpc_server *grpc;
	struct metrics *metrics;
	struct metrics_counter *health_ok;
	struct metrics_counter *health_failed;
	struct metrics_counter *leader_changes;
	struct sys_timer *leader_timer; /* samples member_info().leader */
	uint64_t last_leader;
	struct metrics_counter *client_rx; /* etcd_network_client_grpc_* */
	struct metrics_counter *client_tx;
	int *ports; /* per listen-client-url */
	size_t n_ports;

	struct svc_method *methods;
	size_t n_methods;
	struct grpc_method *gmethods; /* the implemented ones */
	size_t n_gmethods;

	struct list_node calls; /* struct api_call, invariant 1 */
	struct watch_hub *watch; /* watch.c */
	bool shut;
	bool freeing;
};

struct api_call;
/* Called instead of the protocol reply, for internal requests (/health). */
typedef void (*api_call_fn)(struct api_call *c, int err,
			    const ProtobufCMessage *resp);

struct api_call {
	struct list_node node;
	struct api *api;
	const struct svc_method *sm;
	struct member_req *h; /* non-NULL while the member has the request */
	struct grpc_call *gcall;
	struct http1_req *hreq;
	api_call_fn fn; /* NULL: reply in the call's protocol */
	void *data;	/* for fn */
	bool counted;	/* handled_total has this call */
};

/*
 * Streaming methods served outside member_request() have a negative op of
 * their own in method_info (-1 is "not implemented"); each must differ.
 */
#define SVC_OP_SNAPSHOT (-2)
#define SVC_OP_WATCH (-3)

/*
 * Maintenance.Snapshot (snapshot.c): method_info's op SVC_OP_SNAPSHOT;
 * fills gm (its gRPC method) and registers the gateway route.
 */
int snapshot_svc_register(struct api *a, struct svc_method *sm,
			  struct grpc_method *gm);

/*
 * go-grpc-prometheus' counters of a streaming method (etcd compat: the
 * gateway's streams count as gRPC ones, as etcd's gateway calls its own
 * gRPC server): started when a stream opens, received and sent once per
 * message, handled once with its code when it ends.  No-ops when sm's
 * counters are not registered.
 */
void services_stream_started(const struct svc_method *sm);
void services_stream_received(const struct svc_method *sm);
void services_stream_sent(const struct svc_method *sm);
void services_stream_handled(const struct svc_method *sm,
			     enum grpc_status code);

/* Build the method tables, register the gateway routes. */
int services_init(struct api *a);
void services_done(struct api *a);

/*
 * Hand req to the member for c (c->api, sm, and gcall or hreq or fn set).
 * 0, or the member's synchronous error (c is not linked then).
 */
int services_submit(struct api_call *c, enum member_op op,
		    const ProtobufCMessage *req);
/* Unlink c and cancel its member request if it is still pending. */
void services_cancel(struct api_call *c);

/*
 * watch.c: the Watch service.  watch_init creates a->watch and makes it
 * the member's revision listener (member_on_revision); watch_done (after
 * the gRPC and HTTP servers are freed) releases it.  The method table
 * routes svc_method rows with op SVC_OP_WATCH to watch_grpc_method (fills
 * the bidi gRPC row) and watch_http_handle (the gateway route, ctx = sm).
 */
struct watch_hub;
int watch_init(struct api *a);
void watch_done(struct api *a);
void watch_grpc_method(struct svc_method *sm, struct grpc_method *gm);
void watch_http_handle(struct http1_req *req, void *ctx);
/* LeaseKeepAlive (lease_stream.c): its gRPC method and gateway handler. */
void lease_stream_grpc_method(const struct svc_method *sm,
			      struct grpc_method *gm);
void lease_stream_http(struct http1_req *req, void *ctx);

/*
 * jstream.c: the gateway's streamed request bodies, one JSON message after
 * another (etcd compat: grpc-gateway reads them with Go's json.Decoder).
 * Push the body's pieces as they arrive; take messages out one at a time.
 */
struct api_jstream {
	struct buf in; /* bytes not decoded yet, from `off` on */
	size_t off;
};

void api_jstream_init(struct api_jstream *js);
void api_jstream_done(struct api_jstream *js);
/*
 * Append a piece of the body.  0, -ENOMEM, or -ERR_REQUEST_TOO_LARGE when
 * one unfinished message would outgrow the gateway's body limit.
 */
int api_jstream_push(struct api_jstream *js, const uint8_t *data, size_t len);
/*
 * The next message as desc: 1 with *out (caller frees with proto_free); 0
 * when more input is needed, or at end (the body's end was pushed) when
 * only whitespace is left; -ERR_PARSE or -ERR_INVALID with err filled (Go's
 * text: at end, an unfinished message is "unexpected EOF"); -ENOMEM.
 */
int api_jstream_next(struct api_jstream *js,
		     const ProtobufCMessageDescriptor *desc, bool end,
		     ProtobufCMessage **out, char *err, size_t err_size);

#endif
