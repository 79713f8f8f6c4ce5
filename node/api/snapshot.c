/*
 * snapshot.c - Maintenance.Snapshot on both protocols: gRPC's server
 * stream /etcdserverpb.Maintenance/Snapshot and the gateway's POST
 * /v3/maintenance/snapshot (chunked, one {"result":{...}} per message).
 *
 * etcd compat (v3rpc/maintenance.go): the store is sent in messages of
 * 32 KiB, each with remaining_bytes = the bytes still to come after it,
 * no header; a last message carries the 32-byte SHA-256 of everything
 * sent before, with remaining_bytes 0 (etcdctl's `snapshot save` checks
 * that the total length is a multiple of 512 plus 32).  The payload is
 * cetcd's store, an LMDB file, not etcd's bbolt one.
 *
 * The member copies the store on a thread (member_snapshot); the copy is
 * then read here chunk by chunk with back-pressure: a gRPC call is fed
 * while its queue is below half of GRPC_CALL_MAX_QUEUED and again from
 * on_writable; a gateway stream until http1_stream_send reports its
 * output limit and again from the drain callback.  So one slow client
 * holds at most a queue's worth of the store in memory.
 *
 * Invariants:
 *  1. A stream's state lives from its request until the protocol closes
 *     it (gRPC on_close; HTTP once ended or the client is gone); a copy
 *     still under way then is cancelled, so the member never calls back
 *     into freed state.
 *  2. At most one pump runs per stream; it stops at the first refusal.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api_int.h"
#include "api/errmap.h"
#include "api/http1.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"

/* etcd compat: snapshotSendBufferSize. */
#define SNAPSHOT_CHUNK (32u * 1024)
#define SHA256_LEN 32

struct snap_stream {
	struct api *api;
	const struct svc_method *sm;
	bool metered; /* started_total counted it, handled_total not yet */
	struct grpc_call *gcall;
	struct http1_req *hreq;
	struct member_snapshot *h; /* while the member copies */
	int fd;
	uint64_t size, off;
	EVP_MD_CTX *sha;
	bool started; /* HTTP: the chunked response began */
	bool ended;
	bool pumping;
	uint8_t chunk[SNAPSHOT_CHUNK];
};

static void stream_free(struct snap_stream *st)
{
	if (st->h != NULL) {
		member_snapshot_cancel(st->h);
	}
	if (st->fd >= 0) {
		close(st->fd);
	}
	EVP_MD_CTX_free(st->sha);
	mem_free(st);
}

/*
 * etcd compat (go-grpc-prometheus): started when the stream opens, its
 * request received, one sent per message, handled with the code it ends
 * with (a client gone before the end: Canceled).
 */
static void stream_meter_end(struct snap_stream *st, enum grpc_status code)
{
	if (st->metered) {
		st->metered = false;
		services_stream_handled(st->sm, code);
	}
}

static struct snap_stream *stream_new(const struct svc_method *sm)
{
	struct snap_stream *st = mem_calloc(1, sizeof(*st));

	if (st == NULL) {
		return NULL;
	}
	st->api = sm->api;
	st->sm = sm;
	st->fd = -1;
	st->sha = EVP_MD_CTX_new();
	if (st->sha == NULL ||
	    EVP_DigestInit_ex(st->sha, EVP_sha256(), NULL) != 1) {
		stream_free(st);
		return NULL;
	}
	return st;
}

/*
 * The next message into resp (blob borrows st->chunk): a chunk of the
 * store, or the checksum once the store is sent.  0, 1 when it was the
 * checksum (the last one), or an error.
 */
static int next_message(struct snap_stream *st,
			Etcdserverpb__SnapshotResponse *resp)
{
	unsigned dlen = 0;

	if (st->off < st->size) {
		uint64_t left = st->size - st->off;
		size_t n = left < SNAPSHOT_CHUNK ? (size_t)left : SNAPSHOT_CHUNK;
		ssize_t got = pread(st->fd, st->chunk, n, (off_t)st->off);

		if (got <= 0) {
			return got < 0 ? -errno : -EIO;
		}
		if (EVP_DigestUpdate(st->sha, st->chunk, (size_t)got) != 1) {
			return -EIO;
		}
		st->off += (uint64_t)got;
		resp->remaining_bytes = st->size - st->off;
		resp->blob.data = st->chunk;
		resp->blob.len = (size_t)got;
		return 0;
	}
	if (EVP_DigestFinal_ex(st->sha, st->chunk, &dlen) != 1 ||
	    dlen != SHA256_LEN) {
		return -EIO;
	}
	resp->remaining_bytes = 0;
	resp->blob.data = st->chunk;
	resp->blob.len = SHA256_LEN;
	return 1;
}

/* --- gRPC --- */

static void grpc_end(struct snap_stream *st, int err)
{
	const struct errmap_entry *e = errmap_lookup(err);

	st->ended = true;
	stream_meter_end(st, err < 0 ? e->code : GRPC_STATUS_OK);
	if (err < 0) {
		log_warn("snapshot to a client failed: %s", err_str(err));
		grpc_call_finish(st->gcall, e->code, e->message);
	} else {
		grpc_call_finish(st->gcall, GRPC_STATUS_OK, NULL);
	}
}

static void grpc_pump(struct snap_stream *st)
{
	uint8_t *packed = NULL;

	if (st->pumping || st->ended || st->fd < 0) {
		return;
	}
	st->pumping = true;
	packed = mem_alloc(SNAPSHOT_CHUNK + 64);
	if (packed == NULL) {
		grpc_end(st, -ENOMEM);
	}
	while (!st->ended &&
	       grpc_call_queued(st->gcall) < GRPC_CALL_MAX_QUEUED / 2) {
		Etcdserverpb__SnapshotResponse resp =
		    ETCDSERVERPB__SNAPSHOT_RESPONSE__INIT;
		int last = next_message(st, &resp);
		size_t n;

		if (last < 0) {
			grpc_end(st, last);
			break;
		}
		n = protobuf_c_message_pack(&resp.base, packed);
		if (grpc_call_send(st->gcall, packed, n) < 0) {
			grpc_end(st, -EIO);
			break;
		}
		services_stream_sent(st->sm);
		if (last == 1) {
			grpc_end(st, 0);
		}
	}
	mem_free(packed);
	st->pumping = false;
}

static void grpc_copied(void *arg, int err, int fd, uint64_t size)
{
	struct snap_stream *st = arg;

	st->h = NULL;
	if (err < 0) {
		grpc_end(st, err);
		return;
	}
	st->fd = fd;
	st->size = size;
	log_info("sending a snapshot of the store (%" PRIu64
		 " bytes) to a client",
		 size);
	grpc_pump(st);
}

static void grpc_on_message(struct grpc_call *call, const uint8_t *msg,
			    size_t len, void *arg)
{
	struct svc_method *sm = arg;
	struct snap_stream *st;
	ProtobufCMessage *req = NULL;
	int r;

	if (grpc_call_data(call) != NULL) {
		return;
	}
	services_stream_started(sm);
	r = proto_unpack(sm->req, msg, len, &req);
	if (r < 0) {
		const struct errmap_entry *e = errmap_lookup(r);
		services_stream_handled(sm, e->code);
		grpc_call_finish(call, e->code, e->message);
		return;
	}
	proto_free(req);
	services_stream_received(sm);
	st = stream_new(sm);
	if (st == NULL) {
		const struct errmap_entry *e = errmap_lookup(-ENOMEM);
		services_stream_handled(sm, e->code);
		grpc_call_finish(call, e->code, e->message);
		return;
	}
	st->metered = true;
	st->gcall = call;
	grpc_call_set_data(call, st);
	r = member_snapshot(sm->api->m, grpc_copied, st, &st->h);
	if (r < 0) {
		st->h = NULL;
		grpc_end(st, r);
	}
}

static void grpc_on_writable(struct grpc_call *call, void *arg)
{
	struct snap_stream *st = grpc_call_data(call);

	(void)arg;
	if (st != NULL) {
		grpc_pump(st);
	}
}

static void grpc_on_close(struct grpc_call *call, void *arg)
{
	struct snap_stream *st = grpc_call_data(call);

	(void)arg;
	grpc_call_set_data(call, NULL);
	if (st != NULL) {
		stream_meter_end(st, GRPC_STATUS_CANCELLED);
		stream_free(st);
	}
}

/* --- the JSON gateway --- */

static void http_finish(struct snap_stream *st, int err)
{
	struct http1_req *req = st->hreq;

	st->ended = true;
	st->hreq = NULL;
	stream_meter_end(st,
			 err < 0 ? errmap_lookup(err)->code : GRPC_STATUS_OK);
	if (err < 0) {
		log_warn("snapshot to a gateway client failed: %s",
			 err_str(err));
		if (st->started) {
			http1_stream_error(req, err);
			http1_stream_end(req);
		} else {
			http1_reply_error(req, err);
		}
	} else {
		http1_stream_end(req);
	}
	stream_free(st);
}

static void http_pump(struct http1_req *req, void *arg)
{
	struct snap_stream *st = arg;
	struct buf b = BUF_INIT;

	(void)req;
	if (st->pumping || st->ended) {
		return;
	}
	st->pumping = true;
	for (;;) {
		Etcdserverpb__SnapshotResponse resp =
		    ETCDSERVERPB__SNAPSHOT_RESPONSE__INIT;
		int last = next_message(st, &resp), r;

		if (last < 0) {
			buf_done(&b);
			http_finish(st, last);
			return;
		}
		b.len = 0;
		if (pjson_encode(&resp.base, &b) < 0) {
			buf_done(&b);
			http_finish(st, -ENOMEM);
			return;
		}
		r = http1_stream_result(st->hreq, (const char *)b.data, b.len);
		if (r >= 0) {
			services_stream_sent(st->sm);
		}
		if (r < 0 || last == 1) {
			buf_done(&b);
			http_finish(st, r < 0 ? r : 0);
			return;
		}
		if (r == 1) {
			break; /* above the output limit: wait for the drain */
		}
	}
	buf_done(&b);
	st->pumping = false;
}

static void http_gone(struct http1_req *req, void *arg)
{
	struct snap_stream *st = arg;

	(void)req;
	st->started = true; /* only release req (http1.h) */
	http_finish(st, -ERR_CANCELED);
}

static void http_copied(void *arg, int err, int fd, uint64_t size)
{
	struct snap_stream *st = arg;
	int r;

	st->h = NULL;
	if (err < 0) {
		http_finish(st, err);
		return;
	}
	st->fd = fd;
	st->size = size;
	r = http1_req_add_header(st->hreq, "Grpc-Metadata-Content-Type",
				 "application/grpc");
	if (r >= 0) {
		r = http1_stream_start(st->hreq, "application/json");
	}
	if (r < 0) {
		http_finish(st, r);
		return;
	}
	st->started = true;
	http1_req_on_drain(st->hreq, http_pump, st);
	http_pump(st->hreq, st);
}

static void http_handle(struct http1_req *req, void *ctx)
{
	struct svc_method *sm = ctx;
	struct snap_stream *st = stream_new(sm);
	int r;

	services_stream_started(sm);
	if (st == NULL) {
		services_stream_handled(sm, errmap_lookup(-ENOMEM)->code);
		http1_reply_error(req, -ENOMEM);
		return;
	}
	services_stream_received(sm);
	st->metered = true;
	st->hreq = req;
	http1_req_on_close(req, http_gone, st);
	r = member_snapshot(sm->api->m, http_copied, st, &st->h);
	if (r < 0) {
		st->h = NULL;
		http_finish(st, r);
	}
}

int snapshot_svc_register(struct api *a, struct svc_method *sm,
			  struct grpc_method *gm)
{
	int r;

	gm->path = sm->grpc_path;
	gm->kind = GRPC_SERVER_STREAM;
	gm->on_message = grpc_on_message;
	gm->on_half_close = NULL;
	gm->on_writable = grpc_on_writable;
	gm->on_close = grpc_on_close;
	gm->arg = sm;
	r = http1_route_add(a->http, "POST", sm->http_path, http_handle, sm);
	return r < 0 ? r : 0;
}
