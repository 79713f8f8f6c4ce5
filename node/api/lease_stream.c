/*
 * lease_stream.c - etcd's LeaseKeepAlive stream on both protocols: the
 * gRPC bidi stream (/etcdserverpb.Lease/LeaseKeepAlive) and the gateway's
 * POST /v3/lease/keepalive, whose streamed body holds JSON requests sent
 * over the life of the request (a client renewing every TTL/3) and whose
 * chunked answer holds one {"result":...} line per request, then ends
 * (etcd compat: etcd's server loop returns at the end of the input, and a
 * message the gateway cannot decode ends its input too).
 *
 * Invariants:
 *  1. Requests of one stream go to the member one at a time, in order
 *     (etcd's leaseKeepAlive loop: receive, renew, send), so answers come
 *     in request order; at most KA_MAX_QUEUED wait behind the one under
 *     way, beyond that the stream fails RESOURCE_EXHAUSTED.
 *  2. An error from the member ends the stream with it (etcd returns the
 *     renew error from the stream handler); an unknown lease is no error
 *     (TTL 0, member.h).
 *  3. Lifetime: a gRPC stream is freed in on_close; a gateway stream when
 *     it ends or its client goes away, whichever comes first.  The request
 *     under way with the member is cancelled then.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/api_int.h"
#include "api/errmap.h"
#include "api/http1.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "proto/pjson.h"
#include "proto/proto.h"

#define KA_MAX_QUEUED 1024

struct ka_stream {
	struct api *api;
	const struct svc_method *sm;
	struct grpc_call *gcall; /* gRPC, or */
	struct http1_req *hreq;	 /* the gateway request */
	int64_t ids[KA_MAX_QUEUED];
	size_t head, n;
	struct api_call *c; /* the request under way, or NULL */
	bool input_done;    /* the client sent its last request */
	bool ended;
	struct api_jstream jin; /* the gateway's body */
	bool http_started;	/* the 200 and its headers went out */
	bool metered; /* started_total counted it, handled_total not yet */
};

static void ka_pump(struct ka_stream *st);

/*
 * etcd compat (go-grpc-prometheus, LeaseServer.LeaseKeepAlive): handled
 * with the code the stream ends with; a client that goes away is counted
 * Unavailable, as etcd turns its cancelled context into "no leader".
 */
static void ka_meter_end(struct ka_stream *st, enum grpc_status code)
{
	if (st->metered) {
		st->metered = false;
		services_stream_handled(st->sm, code);
	}
}

static void ka_cancel(struct ka_stream *st)
{
	if (st->c != NULL) {
		services_cancel(st->c);
		mem_free(st->c);
		st->c = NULL;
	}
}

/* End the stream with err (0: OK).  A gateway stream is freed here. */
static void ka_end(struct ka_stream *st, int err)
{
	if (st->ended) {
		return;
	}
	st->ended = true;
	ka_cancel(st);
	ka_meter_end(st, err == 0 ? GRPC_STATUS_OK : errmap_lookup(err)->code);
	if (st->gcall != NULL) {
		const struct errmap_entry *e;
		if (err == 0) {
			grpc_call_finish(st->gcall, GRPC_STATUS_OK, NULL);
			return;
		}
		e = errmap_lookup(err);
		grpc_call_finish(st->gcall, e->code, e->message);
		return;
	}
	if (err < 0) {
		(void)http1_stream_error(st->hreq, err);
	}
	(void)http1_stream_end(st->hreq);
	api_jstream_done(&st->jin);
	mem_free(st);
}

static int ka_send(struct ka_stream *st, const ProtobufCMessage *resp)
{
	struct buf b = BUF_INIT;
	uint8_t small[128], *p = small;
	size_t n;
	int r;

	if (st->gcall != NULL) {
		n = protobuf_c_message_get_packed_size(resp);
		if (n > sizeof(small)) {
			p = mem_alloc(n);
			if (p == NULL) {
				return -ENOMEM;
			}
		}
		protobuf_c_message_pack(resp, p);
		r = grpc_call_send(st->gcall, p, n);
		if (p != small) {
			mem_free(p);
		}
		if (r >= 0) {
			services_stream_sent(st->sm);
		}
		return r == -ENOBUFS ? -ERR_TOO_MANY_REQUESTS : r;
	}
	r = pjson_encode(resp, &b);
	if (r >= 0) {
		r = http1_stream_result(st->hreq, (const char *)b.data, b.len);
		/* 1 only asks to slow down; answers are tiny and bounded. */
		r = r > 0 ? 0 : r;
	}
	buf_done(&b);
	if (r >= 0) {
		services_stream_sent(st->sm);
	}
	return r;
}

static void ka_done(struct api_call *c, int err, const ProtobufCMessage *resp)
{
	struct ka_stream *st = c->data;

	st->c = NULL;
	mem_free(c);
	if (err < 0) {
		ka_end(st, err);
		return;
	}
	err = ka_send(st, resp);
	if (err < 0) {
		ka_end(st, err);
		return;
	}
	ka_pump(st);
}

/* Hand the next queued request to the member, or end after the last. */
static void ka_pump(struct ka_stream *st)
{
	Etcdserverpb__LeaseKeepAliveRequest req =
	    ETCDSERVERPB__LEASE_KEEP_ALIVE_REQUEST__INIT;
	struct api_call *c;
	int r;

	if (st->ended || st->c != NULL) {
		return;
	}
	if (st->n == 0) {
		if (st->input_done) {
			ka_end(st, 0);
		}
		return;
	}
	req.id = st->ids[st->head];
	st->head = (st->head + 1) % KA_MAX_QUEUED;
	st->n--;
	c = mem_calloc(1, sizeof(*c));
	if (c == NULL) {
		ka_end(st, -ENOMEM);
		return;
	}
	list_init(&c->node);
	c->api = st->api;
	c->sm = st->sm;
	c->fn = ka_done;
	c->data = st;
	r = services_submit(c, MEMBER_OP_LEASE_KEEPALIVE, &req.base);
	if (r < 0) {
		mem_free(c);
		ka_end(st, r);
		return;
	}
	st->c = c;
}

static int ka_queue(struct ka_stream *st, int64_t id)
{
	/* etcd compat: go-grpc-prometheus counts each message received, and
	 * etcd's gateway streams go through its gRPC server too. */
	services_stream_received(st->sm);
	if (st->n == KA_MAX_QUEUED) {
		return -ERR_TOO_MANY_REQUESTS;
	}
	st->ids[(st->head + st->n) % KA_MAX_QUEUED] = id;
	st->n++;
	return 0;
}

static struct ka_stream *ka_new(const struct svc_method *sm)
{
	struct ka_stream *st = mem_calloc(1, sizeof(*st));

	if (st != NULL) {
		st->api = sm->api;
		st->sm = sm;
		api_jstream_init(&st->jin);
		/* etcd compat: grpc_server_started_total counts streams. */
		services_stream_started(sm);
		st->metered = true;
	}
	return st;
}

/* --- gRPC --- */

static void ka_grpc_message(struct grpc_call *call, const uint8_t *msg,
			    size_t len, void *arg)
{
	const struct svc_method *sm = arg;
	struct ka_stream *st = grpc_call_data(call);
	ProtobufCMessage *req;
	int r;

	if (st == NULL) {
		st = ka_new(sm);
		if (st == NULL) {
			const struct errmap_entry *e = errmap_lookup(-ENOMEM);
			grpc_call_finish(call, e->code, e->message);
			return;
		}
		st->gcall = call;
		grpc_call_set_data(call, st);
	}
	if (st->ended) {
		return;
	}
	r = proto_unpack(sm->req, msg, len, &req);
	if (r == -ERR_PARSE) {
		/* etcd compat: grpc-go's text for an undecodable message. */
		st->ended = true;
		ka_cancel(st);
		ka_meter_end(st, GRPC_STATUS_INTERNAL);
		grpc_call_finish(
		    call, GRPC_STATUS_INTERNAL,
		    "grpc: error unmarshalling request: proto: cannot parse "
		    "invalid wire-format data");
		return;
	}
	if (r >= 0) {
		r = ka_queue(st,
			     ((Etcdserverpb__LeaseKeepAliveRequest *)req)->id);
		proto_free(req);
	}
	if (r < 0) {
		ka_end(st, r);
		return;
	}
	ka_pump(st);
}

static void ka_grpc_half_close(struct grpc_call *call, void *arg)
{
	struct ka_stream *st = grpc_call_data(call);

	(void)arg;
	if (st == NULL) {
		grpc_call_finish(call, GRPC_STATUS_OK, NULL);
		return;
	}
	st->input_done = true;
	ka_pump(st);
}

static void ka_grpc_close(struct grpc_call *call, void *arg)
{
	struct ka_stream *st = grpc_call_data(call);

	(void)arg;
	grpc_call_set_data(call, NULL);
	if (st != NULL) {
		ka_meter_end(st, GRPC_STATUS_UNAVAILABLE);
		ka_cancel(st);
		mem_free(st);
	}
}

void lease_stream_grpc_method(const struct svc_method *sm,
			      struct grpc_method *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->path = sm->grpc_path;
	gm->kind = GRPC_BIDI;
	gm->on_message = ka_grpc_message;
	gm->on_half_close = ka_grpc_half_close;
	gm->on_close = ka_grpc_close;
	gm->arg = (void *)(uintptr_t)sm;
}

/* --- the gateway --- */

static void ka_http_close(struct http1_req *req, void *arg)
{
	struct ka_stream *st = arg;

	(void)req;
	/* The client is gone: ending just releases the request. */
	ka_meter_end(st, GRPC_STATUS_UNAVAILABLE);
	ka_end(st, 0);
}

static int ka_http_start(struct ka_stream *st)
{
	int r = http1_req_add_header(st->hreq, "Grpc-Metadata-Content-Type",
				     "application/grpc");

	if (r >= 0) {
		r = http1_stream_start(st->hreq, "application/json");
	}
	if (r >= 0) {
		st->http_started = true;
	}
	return r;
}

/* A streamed body nobody answered yet: reply with err, free st. */
static void ka_http_refuse(struct ka_stream *st, int err, const char *msg)
{
	struct http1_req *req = st->hreq;

	ka_meter_end(st, msg != NULL ? GRPC_STATUS_UNKNOWN
				     : errmap_lookup(err)->code);
	api_jstream_done(&st->jin);
	mem_free(st);
	if (msg != NULL) {
		/* etcd compat: the gateway's decoder error is gRPC Unknown. */
		http1_reply_error_msg(req, GRPC_STATUS_UNKNOWN, msg);
	} else {
		http1_reply_error(req, err);
	}
}

/*
 * A piece of the body: queue each complete request as it arrives, then
 * hand the queue to the member (invariant 1).  The answer starts with the
 * first request (etcd compat: the gateway forwards it before replying); a
 * body that ends or breaks later ends the input, and the stream ends when
 * the queue is empty.
 */
static void ka_http_body(struct http1_req *req, const uint8_t *data,
			 size_t len, bool end, void *arg)
{
	struct ka_stream *st = arg;
	char err[PJSON_ERR_SIZE];
	int r;

	(void)req;
	if (st->input_done || st->ended) {
		return;
	}
	r = api_jstream_push(&st->jin, data, len);
	while (r >= 0) {
		ProtobufCMessage *msg = NULL;

		r = api_jstream_next(&st->jin, st->sm->req, end, &msg, err,
				     sizeof(err));
		if (r <= 0) {
			break;
		}
		if (!st->http_started && (r = ka_http_start(st)) < 0) {
			proto_free(msg);
			ka_http_refuse(st, r, NULL);
			return;
		}
		r = ka_queue(st,
			     ((Etcdserverpb__LeaseKeepAliveRequest *)msg)->id);
		proto_free(msg);
		if (r < 0) {
			ka_end(st, r);
			return;
		}
	}
	if (r < 0 && !st->http_started) {
		ka_http_refuse(st, r,
			       r == -ERR_PARSE || r == -ERR_INVALID ? err
								   : NULL);
		return;
	}
	if (r < 0 || end) {
		st->input_done = true;
		api_jstream_done(&st->jin);
	}
	if (end && !st->http_started && (r = ka_http_start(st)) < 0) {
		ka_http_refuse(st, r, NULL);
		return;
	}
	ka_pump(st); /* may end and free st */
}

void lease_stream_http(struct http1_req *req, void *ctx)
{
	const struct svc_method *sm = ctx;
	struct ka_stream *st = ka_new(sm);

	if (st == NULL) {
		http1_reply_error(req, -ENOMEM);
		return;
	}
	st->hreq = req;
	http1_req_on_close(req, ka_http_close, st);
	http1_req_on_body(req, ka_http_body, st);
}
