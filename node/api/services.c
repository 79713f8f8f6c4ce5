/*
 * services.c - etcd's v3 methods on the client port, one implementation
 * for both protocols: a gRPC call's protobuf bytes and a gateway call's
 * JSON body both become the same etcdserverpb request, go to
 * member_request(), and the response (or error, through errmap) is encoded
 * back in the caller's protocol.
 *
 * The method list comes from the protobuf-c service descriptors
 * (proto_services); what protobuf-c does not record (gateway paths,
 * streaming kinds, which member op serves a method) is in method_info[].
 *
 * Invariants:
 *  1. A method without a member op is not in the gRPC table, so the gRPC
 *     layer answers UNIMPLEMENTED naming it when the headers arrive (never
 *     a hang, also for streams); its gateway path answers 501 with the
 *     gateway's JSON error saying it is not implemented.
 *  2. api_call lifetime as in api_int.h: linked while the member has the
 *     request; a gRPC call's api_call is freed in on_close, a gateway
 *     call's when its reply is written or in the close callback.
 *  3. Decoded requests are freed right after member_request() returns
 *     (the member borrows them for the call only).
 *  4. Requests are checked here as etcd's gRPC layer checks them (empty
 *     keys, ignore_value/ignore_lease, txn size and overlapping writes)
 *     before the member sees them, so both protocols refuse alike.
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

/* What the descriptors do not say about a method. */
struct method_info {
	const char *service; /* short name: "KV" */
	const char *method;  /* "Range" */
	const char *http_path;
	const char *http_alias;
	enum grpc_kind kind;
	int op;
};

/* etcd compat: gateway paths of etcd 3.5 (reference/etcd-v3.md 1.2-1.7). */
static const struct method_info method_info[] = {
    {"KV", "Range", "/v3/kv/range", NULL, GRPC_UNARY, MEMBER_OP_RANGE},
    {"KV", "Put", "/v3/kv/put", NULL, GRPC_UNARY, MEMBER_OP_PUT},
    {"KV", "DeleteRange", "/v3/kv/deleterange", NULL, GRPC_UNARY,
     MEMBER_OP_DELETE_RANGE},
    {"KV", "Txn", "/v3/kv/txn", NULL, GRPC_UNARY, MEMBER_OP_TXN},
    {"KV", "Compact", "/v3/kv/compaction", NULL, GRPC_UNARY, MEMBER_OP_COMPACT},
    {"Watch", "Watch", "/v3/watch", NULL, GRPC_BIDI, SVC_OP_WATCH},
    {"Lease", "LeaseGrant", "/v3/lease/grant", NULL, GRPC_UNARY,
     MEMBER_OP_LEASE_GRANT},
    {"Lease", "LeaseRevoke", "/v3/lease/revoke", "/v3/kv/lease/revoke",
     GRPC_UNARY, MEMBER_OP_LEASE_REVOKE},
    {"Lease", "LeaseKeepAlive", "/v3/lease/keepalive", NULL, GRPC_BIDI,
     MEMBER_OP_LEASE_KEEPALIVE},
    {"Lease", "LeaseTimeToLive", "/v3/lease/timetolive",
     "/v3/kv/lease/timetolive", GRPC_UNARY, MEMBER_OP_LEASE_TIMETOLIVE},
    {"Lease", "LeaseLeases", "/v3/lease/leases", "/v3/kv/lease/leases",
     GRPC_UNARY, MEMBER_OP_LEASE_LEASES},
    {"Cluster", "MemberAdd", "/v3/cluster/member/add", NULL, GRPC_UNARY,
     MEMBER_OP_MEMBER_ADD},
    {"Cluster", "MemberRemove", "/v3/cluster/member/remove", NULL, GRPC_UNARY,
     MEMBER_OP_MEMBER_REMOVE},
    {"Cluster", "MemberUpdate", "/v3/cluster/member/update", NULL, GRPC_UNARY,
     MEMBER_OP_MEMBER_UPDATE},
    {"Cluster", "MemberList", "/v3/cluster/member/list", NULL, GRPC_UNARY,
     MEMBER_OP_MEMBER_LIST},
    {"Cluster", "MemberPromote", "/v3/cluster/member/promote", NULL, GRPC_UNARY,
     MEMBER_OP_MEMBER_PROMOTE},
    {"Maintenance", "Alarm", "/v3/maintenance/alarm", NULL, GRPC_UNARY,
     MEMBER_OP_ALARM},
    {"Maintenance", "Status", "/v3/maintenance/status", NULL, GRPC_UNARY,
     MEMBER_OP_STATUS},
    {"Maintenance", "Defragment", "/v3/maintenance/defragment", NULL,
     GRPC_UNARY, MEMBER_OP_DEFRAGMENT},
    {"Maintenance", "Hash", "/v3/maintenance/hash", NULL, GRPC_UNARY,
     MEMBER_OP_HASH},
    {"Maintenance", "HashKV", "/v3/maintenance/hashkv", NULL, GRPC_UNARY,
     MEMBER_OP_HASH_KV},
    {"Maintenance", "Snapshot", "/v3/maintenance/snapshot", NULL,
     GRPC_SERVER_STREAM, SVC_OP_SNAPSHOT},
    {"Maintenance", "MoveLeader", "/v3/maintenance/transfer-leadership", NULL,
     GRPC_UNARY, MEMBER_OP_MOVE_LEADER},
    {"Maintenance", "Downgrade", "/v3/maintenance/downgrade", NULL, GRPC_UNARY,
     -1},
    {"Auth", "AuthEnable", "/v3/auth/enable", NULL, GRPC_UNARY, -1},
    {"Auth", "AuthDisable", "/v3/auth/disable", NULL, GRPC_UNARY, -1},
    {"Auth", "AuthStatus", "/v3/auth/status", NULL, GRPC_UNARY, -1},
    {"Auth", "Authenticate", "/v3/auth/authenticate", NULL, GRPC_UNARY, -1},
    {"Auth", "UserAdd", "/v3/auth/user/add", NULL, GRPC_UNARY, -1},
    {"Auth", "UserGet", "/v3/auth/user/get", NULL, GRPC_UNARY, -1},
    {"Auth", "UserList", "/v3/auth/user/list", NULL, GRPC_UNARY, -1},
    {"Auth", "UserDelete", "/v3/auth/user/delete", NULL, GRPC_UNARY, -1},
    {"Auth", "UserChangePassword", "/v3/auth/user/changepw", NULL, GRPC_UNARY,
     -1},
    {"Auth", "UserGrantRole", "/v3/auth/user/grant", NULL, GRPC_UNARY, -1},
    {"Auth", "UserRevokeRole", "/v3/auth/user/revoke", NULL, GRPC_UNARY, -1},
    {"Auth", "RoleAdd", "/v3/auth/role/add", NULL, GRPC_UNARY, -1},
    {"Auth", "RoleGet", "/v3/auth/role/get", NULL, GRPC_UNARY, -1},
    {"Auth", "RoleList", "/v3/auth/role/list", NULL, GRPC_UNARY, -1},
    {"Auth", "RoleDelete", "/v3/auth/role/delete", NULL, GRPC_UNARY, -1},
    {"Auth", "RoleGrantPermission", "/v3/auth/role/grant", NULL, GRPC_UNARY,
     -1},
    {"Auth", "RoleRevokePermission", "/v3/auth/role/revoke", NULL, GRPC_UNARY,
     -1},
};

static const struct method_info *info_find(const char *service,
					   const char *method)
{
	for (size_t i = 0; i < sizeof(method_info) / sizeof(method_info[0]);
	     i++) {
		if (strcmp(method_info[i].service, service) == 0 &&
		    strcmp(method_info[i].method, method) == 0) {
			return &method_info[i];
		}
	}
	return NULL;
}

/* --- metrics (both protocols count, as etcd's gateway calls its gRPC) --- */

static void count_started(const struct svc_method *sm, size_t bytes)
{
	if (sm->started) {
		metrics_counter_inc(sm->started);
		metrics_counter_inc(sm->msg_received);
	}
	metrics_counter_add(sm->api->client_rx, (double)bytes);
}

static void count_handled(struct api_call *c, const struct svc_method *sm,
			  enum grpc_status code, size_t sent)
{
	if (c) {
		if (c->counted) {
			return;
		}
		c->counted = true;
	}
	if (sm->started && (unsigned)code <= GRPC_STATUS_UNAUTHENTICATED) {
		metrics_counter_inc(sm->handled[code]);
		if (code == GRPC_STATUS_OK) {
			metrics_counter_inc(sm->msg_sent);
		}
	}
	metrics_counter_add(sm->api->client_tx, (double)sent);
}

void services_stream_started(const struct svc_method *sm)
{
	if (sm->started) {
		metrics_counter_inc(sm->started);
	}
}

void services_stream_received(const struct svc_method *sm)
{
	if (sm->msg_received) {
		metrics_counter_inc(sm->msg_received);
	}
}

void services_stream_sent(const struct svc_method *sm)
{
	if (sm->msg_sent) {
		metrics_counter_inc(sm->msg_sent);
	}
}

void services_stream_handled(const struct svc_method *sm, enum grpc_status code)
{
	if (sm->started && (unsigned)code <= GRPC_STATUS_UNAUTHENTICATED) {
		metrics_counter_inc(sm->handled[code]);
	}
}

static void call_free(struct api_call *c)
{
	if (c) {
		services_cancel(c);
		mem_free(c);
	}
}

/* --- request checks (etcd compat: v3rpc/key.go, before the server) --- */

static int check_request_op(const Etcdserverpb__RequestOp *u, long max_ops);

static int check_range(const Etcdserverpb__RangeRequest *r)
{
	return r->key.len == 0 ? -ERR_EMPTY_KEY : 0;
}

static int check_put(const Etcdserverpb__PutRequest *r)
{
	if (r->key.len == 0) {
		return -ERR_EMPTY_KEY;
	}
	if (r->ignore_value && r->value.len != 0) {
		return -ERR_VALUE_PROVIDED;
	}
	if (r->ignore_lease && r->lease != 0) {
		return -ERR_LEASE_PROVIDED;
	}
	return 0;
}

static int check_delete(const Etcdserverpb__DeleteRangeRequest *r)
{
	return r->key.len == 0 ? -ERR_EMPTY_KEY : 0;
}

static int check_txn(const Etcdserverpb__TxnRequest *r, long max_ops)
{
	size_t opc = r->n_compare;
	int e;

	if (opc < r->n_success) {
		opc = r->n_success;
	}
	if (opc < r->n_failure) {
		opc = r->n_failure;
	}
	if ((long)opc > max_ops) {
		return -ERR_TOO_MANY_OPS;
	}
	for (size_t i = 0; i < r->n_compare; i++) {
		if (r->compare[i]->key.len == 0) {
			return -ERR_EMPTY_KEY;
		}
	}
	for (size_t i = 0; i < r->n_success; i++) {
		if ((e = check_request_op(r->success[i], max_ops - (long)opc)) <
		    0) {
			return e;
		}
	}
	for (size_t i = 0; i < r->n_failure; i++) {
		if ((e = check_request_op(r->failure[i], max_ops - (long)opc)) <
		    0) {
			return e;
		}
	}
	return 0;
}

static int check_request_op(const Etcdserverpb__RequestOp *u, long max_ops)
{
	switch (u->request_case) {
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE:
		return check_range(u->request_range);
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
		return check_put(u->request_put);
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
		return check_delete(u->request_delete_range);
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN:
		return check_txn(u->request_txn, max_ops);
	default:
		/* etcd compat: an empty RequestOp is "key not found". */
		return -ERR_KEY_NOT_FOUND;
	}
}

/*
 * Puts and deletes of one txn branch, flattened with the nested txns as
 * etcd's checkIntervals sees them.  A delete is the interval [key, end),
 * or the point key when end is empty (etcd compat: "\0" is not special
 * here, as in etcd's interval tree).
 */
struct ivset {
	const ProtobufCBinaryData **put;
	size_t n_put;
	const ProtobufCBinaryData **del; /* pairs: key, range_end */
	size_t n_del;
};

static int bin_cmp(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	size_t n = a->len < b->len ? a->len : b->len;
	int c = n ? memcmp(a->data, b->data, n) : 0;

	if (c) {
		return c;
	}
	return a->len < b->len ? -1 : a->len > b->len;
}

static bool bin_eq(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return bin_cmp(a, b) == 0;
}

static bool dels_hit(const struct ivset *s, const ProtobufCBinaryData *k)
{
	for (size_t i = 0; i < s->n_del; i++) {
		const ProtobufCBinaryData *b = s->del[2 * i],
					  *e = s->del[2 * i + 1];

		if (e->len == 0 ? bin_eq(b, k)
				: bin_cmp(b, k) <= 0 && bin_cmp(k, e) < 0) {
			return true;
		}
	}
	return false;
}

static bool puts_has(const struct ivset *s, const ProtobufCBinaryData *k)
{
	for (size_t i = 0; i < s->n_put; i++) {
		if (bin_eq(s->put[i], k)) {
			return true;
		}
	}
	return false;
}

static int iv_add_put(struct ivset *s, const ProtobufCBinaryData *k)
{
	const ProtobufCBinaryData **n =
	    mem_realloc(s->put, (s->n_put + 1) * sizeof(*n));

	if (!n) {
		return -ENOMEM;
	}
	s->put = n;
	s->put[s->n_put++] = k;
	return 0;
}

static int iv_add_del(struct ivset *s, const ProtobufCBinaryData *b,
		      const ProtobufCBinaryData *e)
{
	const ProtobufCBinaryData **n =
	    mem_realloc(s->del, (s->n_del + 1) * 2 * sizeof(*n));

	if (!n) {
		return -ENOMEM;
	}
	s->del = n;
	s->del[2 * s->n_del] = b;
	s->del[2 * s->n_del + 1] = e;
	s->n_del++;
	return 0;
}

static void iv_done(struct ivset *s)
{
	mem_free(s->put);
	mem_free(s->del);
}

static int check_intervals(Etcdserverpb__RequestOp *const *reqs, size_t n,
			   struct ivset *out)
{
	struct ivset s = {0};
	int e = 0;

	for (size_t i = 0; i < n && e == 0; i++) {
		if (reqs[i]->request_case ==
		    ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE) {
			const Etcdserverpb__DeleteRangeRequest *d =
			    reqs[i]->request_delete_range;

			e = iv_add_del(&s, &d->key, &d->range_end);
		}
	}
	for (size_t i = 0; i < n && e == 0; i++) {
		const Etcdserverpb__TxnRequest *t;
		struct ivset th = {0}, el = {0};

		if (reqs[i]->request_case !=
		    ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN) {
			continue;
		}
		t = reqs[i]->request_txn;
		e = check_intervals(t->success, t->n_success, &th);
		if (e == 0) {
			e = check_intervals(t->failure, t->n_failure, &el);
		}
		for (size_t j = 0; j < th.n_put && e == 0; j++) {
			if (puts_has(&s, th.put[j]) ||
			    dels_hit(&s, th.put[j])) {
				e = -ERR_DUPLICATE_KEY;
			} else {
				e = iv_add_put(&s, th.put[j]);
			}
		}
		for (size_t j = 0; j < el.n_put && e == 0; j++) {
			if ((puts_has(&s, el.put[j]) &&
			     !puts_has(&th, el.put[j])) ||
			    dels_hit(&s, el.put[j])) {
				e = -ERR_DUPLICATE_KEY;
			} else {
				e = iv_add_put(&s, el.put[j]);
			}
		}
		for (size_t j = 0; j < th.n_del && e == 0; j++) {
			e = iv_add_del(&s, th.del[2 * j], th.del[2 * j + 1]);
		}
		for (size_t j = 0; j < el.n_del && e == 0; j++) {
			e = iv_add_del(&s, el.del[2 * j], el.del[2 * j + 1]);
		}
		iv_done(&th);
		iv_done(&el);
	}
	for (size_t i = 0; i < n && e == 0; i++) {
		const ProtobufCBinaryData *k;

		if (reqs[i]->request_case !=
		    ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT) {
			continue;
		}
		k = &reqs[i]->request_put->key;
		if (puts_has(&s, k) || dels_hit(&s, k)) {
			e = -ERR_DUPLICATE_KEY;
		} else {
			e = iv_add_put(&s, k);
		}
	}
	if (e < 0 || !out) {
		iv_done(&s);
	} else {
		*out = s;
	}
	return e;
}

/* etcd's default --max-txn-ops. */
#define SERVICES_MAX_TXN_OPS 128

static int check_request(const struct api *a, enum member_op op,
			 const ProtobufCMessage *req)
{
	const Etcdserverpb__TxnRequest *t;
	long max_ops = a->cfg->max_txn_ops ? (long)a->cfg->max_txn_ops
					   : SERVICES_MAX_TXN_OPS;
	int e;

	switch (op) {
	case MEMBER_OP_RANGE:
		return check_range((const void *)req);
	case MEMBER_OP_PUT:
		return check_put((const void *)req);
	case MEMBER_OP_DELETE_RANGE:
		return check_delete((const void *)req);
	case MEMBER_OP_TXN:
		t = (const void *)req;
		e = check_txn(t, max_ops);
		/* Overlaps only after the size check (quadratic otherwise). */
		if (e == 0) {
			e = check_intervals(t->success, t->n_success, NULL);
		}
		if (e == 0) {
			e = check_intervals(t->failure, t->n_failure, NULL);
		}
		return e;
	default:
		return 0;
	}
}

/* --- the member side --- */

static void on_member_done(void *arg, int err, const ProtobufCMessage *resp);

int services_submit(struct api_call *c, enum member_op op,
		    const ProtobufCMessage *req)
{
	struct api *a = c->api;
	struct member_req *h = NULL;
	int r;

	r = check_request(a, op, req);
	if (r < 0) {
		return r;
	}
	r = member_request(a->m, op, req, on_member_done, c, &h);
	if (r < 0) {
		return r;
	}
	c->h = h;
	list_push_back(&a->calls, &c->node);
	return 0;
}

void services_cancel(struct api_call *c)
{
	if (c->h) {
		member_request_cancel(c->h);
		c->h = NULL;
	}
	if (list_is_linked(&c->node)) {
		list_remove(&c->node);
	}
}

static void grpc_answer(struct api_call *c, int err,
			const ProtobufCMessage *resp);
static void http_answer(struct api_call *c, int err,
			const ProtobufCMessage *resp);

static void on_member_done(void *arg, int err, const ProtobufCMessage *resp)
{
	struct api_call *c = arg;

	c->h = NULL;
	if (list_is_linked(&c->node)) {
		list_remove(&c->node);
	}
	if (err >= 0 && !resp) {
		err = -EPROTO;
	}
	if (c->fn) {
		c->fn(c, err, err < 0 ? NULL : resp);
	} else if (c->gcall) {
		grpc_answer(c, err, resp);
	} else {
		http_answer(c, err, resp);
	}
}

/* --- gRPC --- */

static void grpc_finish_err(struct grpc_call *call, const struct svc_method *sm,
			    int err)
{
	const struct errmap_entry *e = errmap_lookup(err);

	count_handled(grpc_call_data(call), sm, e->code, 0);
	grpc_call_finish(call, e->code, e->message);
}

static void grpc_answer(struct api_call *c, int err,
			const ProtobufCMessage *resp)
{
	struct grpc_call *call = c->gcall;
	uint8_t small[512];
	uint8_t *p = small;
	size_t n;

	if (err < 0) {
		grpc_finish_err(call, c->sm, err);
		return;
	}
	n = protobuf_c_message_get_packed_size(resp);
	if (n > sizeof(small)) {
		p = mem_alloc(n);
		if (!p) {
			grpc_finish_err(call, c->sm, -ENOMEM);
			return;
		}
	}
	protobuf_c_message_pack(resp, p);
	if (grpc_call_send(call, p, n) < 0) {
		grpc_finish_err(call, c->sm, -ENOMEM);
	} else {
		count_handled(c, c->sm, GRPC_STATUS_OK, n);
		grpc_call_finish(call, GRPC_STATUS_OK, NULL);
	}
	if (p != small) {
		mem_free(p);
	}
}

static void grpc_on_message(struct grpc_call *call, const uint8_t *msg,
			    size_t len, void *arg)
{
	const struct svc_method *sm = arg;
	ProtobufCMessage *req = NULL;
	struct api_call *c;
	int r;

	if (grpc_call_data(call)) {
		/* A unary method gets one message (grpc.h, lifecycle 2). */
		return;
	}
	count_started(sm, len);
	r = proto_unpack(sm->req, msg, len, &req);
	if (r == -ERR_PARSE) {
		/* etcd compat: grpc-go's text for a request it cannot decode.
		 */
		count_handled(NULL, sm, GRPC_STATUS_INTERNAL, 0);
		grpc_call_finish(
		    call, GRPC_STATUS_INTERNAL,
		    "grpc: error unmarshalling request: proto: cannot parse "
		    "invalid wire-format data");
		return;
	}
	if (r < 0) {
		grpc_finish_err(call, sm, r);
		return;
	}
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		proto_free(req);
		grpc_finish_err(call, sm, -ENOMEM);
		return;
	}
	list_init(&c->node);
	c->api = sm->api;
	c->sm = sm;
	c->gcall = call;
	grpc_call_set_data(call, c);
	r = services_submit(c, (enum member_op)sm->op, req);
	proto_free(req);
	if (r < 0) {
		grpc_finish_err(call, sm, r);
	}
}

static void grpc_on_close(struct grpc_call *call, void *arg)
{
	struct api_call *c = grpc_call_data(call);

	(void)arg;
	if (c && !c->counted) {
		/* Deadline, client cancel or reset before the member answered.
		 */
		count_handled(c, c->sm, GRPC_STATUS_CANCELLED, 0);
	}
	grpc_call_set_data(call, NULL);
	call_free(c);
}

/* --- the JSON gateway --- */

static void http_answer(struct api_call *c, int err,
			const ProtobufCMessage *resp)
{
	struct http1_req *req = c->hreq;
	struct buf b = BUF_INIT;

	c->hreq = NULL;
	if (err >= 0 && pjson_encode(resp, &b) < 0) {
		err = -ENOMEM;
	}
	if (err < 0) {
		count_handled(c, c->sm, errmap_lookup(err)->code, 0);
		http1_reply_error(req, err);
	} else {
		count_handled(c, c->sm, GRPC_STATUS_OK,
			      protobuf_c_message_get_packed_size(resp));
		http1_reply_json(req, b.data, b.len);
	}
	buf_done(&b);
	mem_free(c);
}

static void http_on_close(struct http1_req *req, void *arg)
{
	struct api_call *c = arg;

	services_cancel(c);
	c->hreq = NULL;
	count_handled(c, c->sm, GRPC_STATUS_CANCELLED, 0);
	http1_reply_error(req, -ERR_CANCELED);
	mem_free(c);
}

static bool only_space(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n') {
			return false;
		}
	}
	return true;
}

static void http_handle(struct http1_req *req, void *ctx)
{
	const struct svc_method *sm = ctx;
	ProtobufCMessage *msg = NULL;
	char err[PJSON_ERR_SIZE];
	const uint8_t *body;
	struct api_call *c;
	size_t len;
	int r;

	if (sm->op < 0 || sm->kind != GRPC_UNARY) {
		count_started(sm, 0);
		count_handled(NULL, sm, GRPC_STATUS_UNIMPLEMENTED, 0);
		snprintf(err, sizeof(err), "%s is not implemented by cetcd yet",
			 sm->grpc_path);
		http1_reply_error_msg(req, GRPC_STATUS_UNIMPLEMENTED, err);
		return;
	}
	body = http1_req_body(req, &len);
	/* etcd compat: grpc-gateway takes an empty body as an empty request. */
	if (!body || only_space(body, len)) {
		body = (const uint8_t *)"{}";
		len = 2;
	}
	r = pjson_decode(sm->req, (const char *)body, len, &msg, err,
			 sizeof(err));
	if (r == -ENOMEM) {
		http1_reply_error(req, r);
		return;
	}
	count_started(sm, r < 0 ? 0 : protobuf_c_message_get_packed_size(msg));
	if (r < 0) {
		count_handled(NULL, sm, GRPC_STATUS_INVALID_ARGUMENT, 0);
		http1_reply_error_msg(req, GRPC_STATUS_INVALID_ARGUMENT, err);
		return;
	}
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		proto_free(msg);
		count_handled(NULL, sm, GRPC_STATUS_RESOURCE_EXHAUSTED, 0);
		http1_reply_error(req, -ENOMEM);
		return;
	}
	list_init(&c->node);
	c->api = sm->api;
	c->sm = sm;
	c->hreq = req;
	r = services_submit(c, (enum member_op)sm->op, msg);
	proto_free(msg);
	if (r < 0) {
		count_handled(c, sm, errmap_lookup(r)->code, 0);
		mem_free(c);
		http1_reply_error(req, r);
		return;
	}
	http1_req_on_close(req, http_on_close, c);
}

/* --- tables --- */

static const char *const kind_names[] = {
    [GRPC_UNARY] = "unary",
    [GRPC_SERVER_STREAM] = "server_stream",
    [GRPC_CLIENT_STREAM] = "client_stream",
    [GRPC_BIDI] = "bidi_stream",
};

/* etcd compat: go-grpc-prometheus pre-registers every method and code. */
static int register_metrics(struct api *a, struct svc_method *sm,
			    const char *service, const char *method)
{
	struct metrics *mx = a->metrics;
	char lab[256];
	int n;

	n = snprintf(lab, sizeof(lab),
		     "grpc_method=\"%s\",grpc_service=\"%s\",grpc_type=\"%s\"",
		     method, service, kind_names[sm->kind]);
	if (n < 0 || (size_t)n >= sizeof(lab) - 40) {
		return -EINVAL;
	}
	sm->started =
	    metrics_counter(mx, "grpc_server_started_total",
			    "Total number of RPCs started on the server.", lab);
	sm->msg_received = metrics_counter(
	    mx, "grpc_server_msg_received_total",
	    "Total number of RPC stream messages received on the server.", lab);
	sm->msg_sent = metrics_counter(
	    mx, "grpc_server_msg_sent_total",
	    "Total number of gRPC stream messages sent by the server.", lab);
	if (!sm->started || !sm->msg_received || !sm->msg_sent) {
		return -ENOMEM;
	}
	for (int code = 0; code <= GRPC_STATUS_UNAUTHENTICATED; code++) {
		char hl[320];

		snprintf(hl, sizeof(hl), "grpc_code=\"%s\",%s",
			 errmap_code_name((enum grpc_status)code), lab);
		sm->handled[code] =
		    metrics_counter(mx, "grpc_server_handled_total",
				    "Total number of RPCs completed on the "
				    "server, regardless of success or failure.",
				    hl);
		if (!sm->handled[code]) {
			return -ENOMEM;
		}
	}
	return 0;
}

int services_init(struct api *a)
{
	size_t n = 0;
	int r;

	a->client_rx = metrics_counter(
	    a->metrics, "etcd_network_client_grpc_received_bytes_total",
	    "The total number of bytes received from grpc clients.", NULL);
	a->client_tx = metrics_counter(
	    a->metrics, "etcd_network_client_grpc_sent_bytes_total",
	    "The total number of bytes sent to grpc clients.", NULL);
	if (!a->client_rx || !a->client_tx) {
		return -ENOMEM;
	}
	r = watch_init(a);
	if (r < 0) {
		return r;
	}
	for (size_t i = 0; i < proto_n_services; i++) {
		n += proto_services[i]->n_methods;
	}
	a->methods = mem_calloc(n, sizeof(*a->methods));
	a->gmethods = mem_calloc(n, sizeof(*a->gmethods));
	if (!a->methods || !a->gmethods) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < proto_n_services; i++) {
		const ProtobufCServiceDescriptor *sd = proto_services[i];

		for (size_t j = 0; j < sd->n_methods; j++) {
			const ProtobufCMethodDescriptor *md = &sd->methods[j];
			const struct method_info *mi =
			    info_find(sd->short_name, md->name);
			struct svc_method *sm = &a->methods[a->n_methods];
			struct buf path = BUF_INIT;

			if (buf_printf(&path, "/%s/%s", sd->name, md->name) <
			    0) {
				return -ENOMEM;
			}
			sm->grpc_path = (char *)path.data;
			a->n_methods++;
			sm->api = a;
			sm->req = md->input;
			sm->resp = md->output;
			sm->op = mi ? mi->op : -1;
			sm->kind = mi ? mi->kind : GRPC_UNARY;
			sm->http_path = mi ? mi->http_path : NULL;
			sm->http_alias = mi ? mi->http_alias : NULL;
			r = register_metrics(a, sm, sd->name, md->name);
			if (r < 0) {
				return r;
			}
		}
	}
	for (size_t i = 0; i < a->n_methods; i++) {
		struct svc_method *sm = &a->methods[i];

		if (sm->op == SVC_OP_SNAPSHOT) {
			r = snapshot_svc_register(
			    a, sm, &a->gmethods[a->n_gmethods++]);
			if (r < 0) {
				return r;
			}
			continue;
		}
		if (sm->op >= 0 && sm->kind == GRPC_UNARY) {
			struct grpc_method *gm = &a->gmethods[a->n_gmethods++];

			gm->path = sm->grpc_path;
			gm->kind = sm->kind;
			gm->on_message = grpc_on_message;
			gm->on_close = grpc_on_close;
			gm->arg = sm;
		} else if (sm->op == SVC_OP_WATCH) {
			watch_grpc_method(sm, &a->gmethods[a->n_gmethods++]);
		} else if (sm->op == MEMBER_OP_LEASE_KEEPALIVE) {
			lease_stream_grpc_method(sm,
						 &a->gmethods[a->n_gmethods++]);
		}
		route_handler_fn handler =
		    sm->op == MEMBER_OP_LEASE_KEEPALIVE ? lease_stream_http
		    : sm->op == SVC_OP_WATCH	       ? watch_http_handle
						       : http_handle;
		/* The two bidi streams read their bodies as streams of
		 * requests (http1.h, 6). */
		int (*add)(struct http1_server *, const char *, const char *,
			   route_handler_fn, void *) =
		    handler == http_handle ? http1_route_add
					   : http1_route_add_stream;
		if (sm->http_path) {
			r = add(a->http, "POST", sm->http_path, handler, sm);
			if (r < 0) {
				return r;
			}
		}
		if (sm->http_alias) {
			r = add(a->http, "POST", sm->http_alias, handler, sm);
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

void services_done(struct api *a)
{
	watch_done(a);
	for (size_t i = 0; i < a->n_methods; i++) {
		mem_free(a->methods[i].grpc_path);
	}
	mem_free(a->methods);
	mem_free(a->gmethods);
	a->methods = NULL;
	a->gmethods = NULL;
	a->n_methods = 0;
	a->n_gmethods = 0;
}
