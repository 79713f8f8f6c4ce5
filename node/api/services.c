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
	{"KV", "Compact", "/v3/kv/compaction", NULL, GRPC_UNARY,
	 MEMBER_OP_COMPACT},
	{"Watch", "Watch", "/v3/watch", NULL, GRPC_BIDI, -1},
	{"Lease", "LeaseGrant", "/v3/lease/grant", NULL, GRPC_UNARY, -1},
	{"Lease", "LeaseRevoke", "/v3/lease/revoke", "/v3/kv/lease/revoke",
	 GRPC_UNARY, -1},
	{"Lease", "LeaseKeepAlive", "/v3/lease/keepalive", NULL, GRPC_BIDI, -1},
	{"Lease", "LeaseTimeToLive", "/v3/lease/timetolive",
	 "/v3/kv/lease/timetolive", GRPC_UNARY, -1},
	{"Lease", "LeaseLeases", "/v3/lease/leases", "/v3/kv/lease/leases",
	 GRPC_UNARY, -1},
	{"Cluster", "MemberAdd", "/v3/cluster/member/add", NULL, GRPC_UNARY,
	 MEMBER_OP_MEMBER_ADD},
	{"Cluster", "MemberRemove", "/v3/cluster/member/remove", NULL, GRPC_UNARY,
	 MEMBER_OP_MEMBER_REMOVE},
	{"Cluster", "MemberUpdate", "/v3/cluster/member/update", NULL, GRPC_UNARY,
	 MEMBER_OP_MEMBER_UPDATE},
	{"Cluster", "MemberList", "/v3/cluster/member/list", NULL, GRPC_UNARY,
	 MEMBER_OP_MEMBER_LIST},
	{"Cluster", "MemberPromote", "/v3/cluster/member/promote", NULL,
	 GRPC_UNARY, MEMBER_OP_MEMBER_PROMOTE},
	{"Maintenance", "Alarm", "/v3/maintenance/alarm", NULL, GRPC_UNARY,
	 MEMBER_OP_ALARM},
	{"Maintenance", "Status", "/v3/maintenance/status", NULL, GRPC_UNARY,
	 MEMBER_OP_STATUS},
	{"Maintenance", "Defragment", "/v3/maintenance/defragment", NULL,
	 GRPC_UNARY, MEMBER_OP_DEFRAGMENT},
	{"Maintenance", "Hash", "/v3/maintenance/hash", NULL, GRPC_UNARY, -1},
	{"Maintenance", "HashKV", "/v3/maintenance/hashkv", NULL, GRPC_UNARY,
	 MEMBER_OP_HASH_KV},
	{"Maintenance", "Snapshot", "/v3/maintenance/snapshot", NULL,
	 GRPC_SERVER_STREAM, -1},
	{"Maintenance", "MoveLeader", "/v3/maintenance/transfer-leadership", NULL,
	 GRPC_UNARY, MEMBER_OP_MOVE_LEADER},
	{"Maintenance", "Downgrade", "/v3/maintenance/downgrade", NULL,
	 GRPC_UNARY, -1},
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
	for (size_t i = 0; i < sizeof(method_info) / sizeof(method_info[0]); i++) {
		if (strcmp(method_info[i].service, service) == 0 &&
		    strcmp(method_info[i].method, method) == 0) {
			return &method_info[i];
		}
	}
	return NULL;
}

static void call_free(struct api_call *c)
{
	if (c) {
		services_cancel(c);
		mem_free(c);
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

static void grpc_answer(struct api_call *c, int err, const ProtobufCMessage *resp);
static void http_answer(struct api_call *c, int err, const ProtobufCMessage *resp);

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

static void grpc_finish_err(struct grpc_call *call, int err)
{
	const struct errmap_entry *e = errmap_lookup(err);

	grpc_call_finish(call, (enum grpc_status)e->code, e->message);
}

static void grpc_answer(struct api_call *c, int err, const ProtobufCMessage *resp)
{
	struct grpc_call *call = c->gcall;
	uint8_t small[512];
	uint8_t *p = small;
	size_t n;

	if (err < 0) {
		grpc_finish_err(call, err);
		return;
	}
	n = protobuf_c_message_get_packed_size(resp);
	if (n > sizeof(small)) {
		p = mem_alloc(n);
		if (!p) {
			grpc_finish_err(call, -ENOMEM);
			return;
		}
	}
	protobuf_c_message_pack(resp, p);
	if (grpc_call_send(call, p, n) < 0) {
		grpc_finish_err(call, -ENOMEM);
	} else {
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
	r = proto_unpack(sm->req, msg, len, &req);
	if (r == -ERR_PARSE) {
		/* etcd compat: grpc-go's text for a request it cannot decode. */
		grpc_call_finish(call, GRPC_STATUS_INTERNAL,
				 "grpc: error unmarshalling request: proto: cannot parse "
				 "invalid wire-format data");
		return;
	}
	if (r < 0) {
		grpc_finish_err(call, r);
		return;
	}
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		proto_free(req);
		grpc_finish_err(call, -ENOMEM);
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
		grpc_finish_err(call, r);
	}
}

static void grpc_on_close(struct grpc_call *call, void *arg)
{
	struct api_call *c = grpc_call_data(call);

	(void)arg;
	grpc_call_set_data(call, NULL);
	call_free(c);
}

/* --- the JSON gateway --- */

static void http_answer(struct api_call *c, int err, const ProtobufCMessage *resp)
{
	struct http1_req *req = c->hreq;
	struct buf b = BUF_INIT;

	c->hreq = NULL;
	if (err < 0) {
		http1_reply_error(req, err);
	} else if (pjson_encode(resp, &b) < 0) {
		http1_reply_error(req, -ENOMEM);
	} else {
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
	http1_reply_error(req, -ERR_CANCELED);
	mem_free(c);
}

static bool only_space(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n') {
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
	r = pjson_decode(sm->req, (const char *)body, len, &msg, err, sizeof(err));
	if (r == -ENOMEM) {
		http1_reply_error(req, r);
		return;
	}
	if (r < 0) {
		http1_reply_error_msg(req, GRPC_STATUS_INVALID_ARGUMENT, err);
		return;
	}
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		proto_free(msg);
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
		mem_free(c);
		http1_reply_error(req, r);
		return;
	}
	http1_req_on_close(req, http_on_close, c);
}

/* --- tables --- */

int services_init(struct api *a)
{
	size_t n = 0;
	int r;

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
			const struct method_info *mi = info_find(sd->short_name, md->name);
			struct svc_method *sm = &a->methods[a->n_methods];
			struct buf path = BUF_INIT;

			if (buf_printf(&path, "/%s/%s", sd->name, md->name) < 0) {
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
		}
	}
	for (size_t i = 0; i < a->n_methods; i++) {
		struct svc_method *sm = &a->methods[i];

		if (sm->op >= 0 && sm->kind == GRPC_UNARY) {
			struct grpc_method *gm = &a->gmethods[a->n_gmethods++];

			gm->path = sm->grpc_path;
			gm->kind = sm->kind;
			gm->on_message = grpc_on_message;
			gm->on_close = grpc_on_close;
			gm->arg = sm;
		}
		if (sm->http_path) {
			r = http1_route_add(a->http, "POST", sm->http_path, http_handle, sm);
			if (r < 0) {
				return r;
			}
		}
		if (sm->http_alias) {
			r = http1_route_add(a->http, "POST", sm->http_alias, http_handle, sm);
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

void services_done(struct api *a)
{
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
