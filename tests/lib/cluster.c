/*
 * cluster.c - the in-process member fixture (cluster.h).
 *
 * Invariants:
 *  1. A request's done callback copies the response (packed and unpacked
 *     again), since the member's is borrowed only for the call.
 *  2. The loop is stopped by whatever the waiter waits for, or by a guard
 *     timer; a waiter runs the loop again until its condition or the guard.
 */
#include "cluster.h"

#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "proto/proto.h"
#include "testlib.h"

struct call {
	struct sys_loop *loop;
	bool done;
	int err;
	ProtobufCMessage *resp; /* a copy, proto_free */
};

static void on_done(void *arg, int err, const ProtobufCMessage *resp)
{
	struct call *c = arg;
	uint8_t *buf;
	size_t n;

	ck_assert(!c->done);
	c->done = true;
	c->err = err;
	if (resp != NULL) {
		ck_assert_int_eq(err, 0);
		n = protobuf_c_message_get_packed_size(resp);
		buf = mem_alloc(n + 1);
		ck_assert_ptr_nonnull(buf);
		protobuf_c_message_pack(resp, buf);
		ck_assert_int_eq(
		    proto_unpack(resp->descriptor, buf, n, &c->resp), 0);
		mem_free(buf);
	} else {
		ck_assert_int_lt(err, 0);
	}
	sys_loop_stop(c->loop);
}

static void guard_cb(struct sys_timer *t, void *arg)
{
	(void)t;
	sys_loop_stop(arg);
}

void cluster_run_until(struct sys_loop *loop, const bool *flag)
{
	struct sys_timer *guard;

	ck_assert_int_eq(sys_timer_new(loop, guard_cb, loop, &guard), 0);
	ck_assert_int_eq(sys_timer_start(guard, CLUSTER_WAIT_MS, 0), 0);
	while (!*flag && sys_timer_is_active(guard)) {
		ck_assert_int_eq(sys_loop_run(loop), 0);
	}
	sys_timer_free(guard);
	ck_assert_msg(*flag, "not answered within %d ms", CLUSTER_WAIT_MS);
}

void cluster_run_for(struct sys_loop *loop, uint64_t ms)
{
	struct sys_timer *t;

	ck_assert_int_eq(sys_timer_new(loop, guard_cb, loop, &t), 0);
	ck_assert_int_eq(sys_timer_start(t, ms, 0), 0);
	while (sys_timer_is_active(t)) {
		ck_assert_int_eq(sys_loop_run(loop), 0);
	}
	sys_timer_free(t);
}

int cluster_call(struct sys_loop *loop, struct member *m, enum member_op op,
		 const ProtobufCMessage *req, ProtobufCMessage **resp)
{
	struct call c = {loop, false, 0, NULL};

	ck_assert_int_eq(member_request(m, op, req, on_done, &c, NULL), 0);
	/* Never answered inside member_request (member.h). */
	ck_assert(!c.done);
	cluster_run_until(loop, &c.done);
	if (resp != NULL) {
		*resp = c.resp;
	} else {
		proto_free(c.resp);
	}
	return c.err;
}

struct poll {
	struct member **ms;
	size_t n;
	bool ok;
	struct sys_loop *loop;
	uint64_t not_leader; /* a leader other than this one */
};

static void poll_cb(struct sys_timer *t, void *arg)
{
	struct poll *p = arg;
	uint64_t lead = 0;
	size_t agree = 0;

	(void)t;
	for (size_t i = 0; i < p->n; i++) {
		struct member_info mi;
		if (p->ms[i] == NULL) {
			continue;
		}
		member_info(p->ms[i], &mi);
		if (mi.leader == 0 || mi.leader == p->not_leader ||
		    (lead != 0 && mi.leader != lead)) {
			return;
		}
		lead = mi.leader;
		agree++;
	}
	if (agree > 0) {
		p->ok = true;
		sys_loop_stop(p->loop);
	}
}

uint64_t cluster_wait_leader(struct sys_loop *loop, struct member **ms,
			     size_t n, uint64_t not_leader)
{
	struct poll p = {ms, n, false, loop, not_leader};
	struct sys_timer *t;
	struct member_info mi;

	ck_assert_int_eq(sys_timer_new(loop, poll_cb, &p, &t), 0);
	ck_assert_int_eq(sys_timer_start(t, 5, 5), 0);
	cluster_run_until(loop, &p.ok);
	sys_timer_free(t);
	for (size_t i = 0; i < n; i++) {
		if (ms[i] != NULL) {
			member_info(ms[i], &mi);
			return mi.leader;
		}
	}
	return 0;
}

void cluster_node_init(struct cluster_node *nd, const char *name,
		       const char *dir)
{
	memset(nd, 0, sizeof(*nd));
	snprintf(nd->name, sizeof(nd->name), "%s", name);
	snprintf(nd->dir, sizeof(nd->dir), "%s/%s.etcd", dir, name);
	ck_assert_int_eq(testlib_loopback_addr(nd->addr, sizeof(nd->addr)), 0);
	nd->peer_port = testlib_free_port(nd->addr);
	nd->client_port = testlib_free_port(nd->addr);
	ck_assert_int_gt(nd->peer_port, 0);
	ck_assert_int_gt(nd->client_port, 0);
}

struct config *cluster_node_config(const struct cluster_node *nd,
				   const struct cluster_node *nodes, size_t n,
				   const char *token, const char *const *extra)
{
	char peer[64], client[64], cluster[1024] = "", tok[128];
	char lpeer[64], lclient[64], name[64], dir[600];
	char *argv[40];
	int argc = 0;
	struct config *c = NULL;
	char *msg = NULL;

	snprintf(peer, sizeof(peer),
		 "--initial-advertise-peer-urls=http://%s:%d", nd->addr,
		 nd->peer_port);
	snprintf(client, sizeof(client), "--advertise-client-urls=http://%s:%d",
		 nd->addr, nd->client_port);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(cluster);
		snprintf(cluster + len, sizeof(cluster) - len,
			 "%s%s=http://%s:%d",
			 i == 0 ? "--initial-cluster=" : ",", nodes[i].name,
			 nodes[i].addr, nodes[i].peer_port);
	}
	snprintf(tok, sizeof(tok), "--initial-cluster-token=%s", token);
	snprintf(lpeer, sizeof(lpeer), "--listen-peer-urls=http://%s:%d",
		 nd->addr, nd->peer_port);
	snprintf(lclient, sizeof(lclient), "--listen-client-urls=http://%s:%d",
		 nd->addr, nd->client_port);
	snprintf(name, sizeof(name), "--name=%s", nd->name);
	snprintf(dir, sizeof(dir), "--data-dir=%s", nd->dir);
	argv[argc++] = (char *)"cetcd";
	argv[argc++] = name;
	argv[argc++] = dir;
	argv[argc++] = lpeer;
	argv[argc++] = lclient;
	argv[argc++] = peer;
	argv[argc++] = client;
	argv[argc++] = cluster;
	argv[argc++] = tok;
	argv[argc++] = (char *)"--heartbeat-interval=10";
	argv[argc++] = (char *)"--election-timeout=100";
	for (const char *const *e = extra; e != NULL && *e != NULL; e++) {
		ck_assert_int_lt(argc, 39);
		argv[argc++] = (char *)(uintptr_t)*e;
	}
	argv[argc] = NULL;
	ck_assert_msg(config_parse(argc, argv, NULL, &c, &msg) == 0,
		      "config: %s", msg ? msg : "?");
	return c;
}

void cluster_node_start(struct sys_loop *loop, struct cluster_node *nd)
{
	char *msg = NULL;
	int r = member_new(loop, nd->cfg, &nd->m, &msg);

	ck_assert_msg(r == 0, "member_new: %s (%s)", err_str(r),
		      msg ? msg : "");
}

void cluster_node_done(struct cluster_node *nd)
{
	member_free(nd->m);
	nd->m = NULL;
	config_free(nd->cfg);
	nd->cfg = NULL;
}

int cluster_put(struct sys_loop *loop, struct member *m, const char *k,
		const char *v, int64_t *rev)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r;

	req.key.data = (uint8_t *)(uintptr_t)k;
	req.key.len = strlen(k);
	req.value.data = (uint8_t *)(uintptr_t)v;
	req.value.len = strlen(v);
	r = cluster_call(loop, m, MEMBER_OP_PUT, &req.base, &resp);
	if (r == 0 && rev != NULL) {
		*rev = ((Etcdserverpb__PutResponse *)resp)->header->revision;
	}
	proto_free(resp);
	return r;
}

int cluster_get(struct sys_loop *loop, struct member *m, const char *k,
		bool serializable, char **val, Etcdserverpb__ResponseHeader *h)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *resp = NULL;
	int r;

	req.key.data = (uint8_t *)(uintptr_t)k;
	req.key.len = strlen(k);
	req.serializable = serializable;
	r = cluster_call(loop, m, MEMBER_OP_RANGE, &req.base,
			 (ProtobufCMessage **)&resp);
	*val = NULL;
	if (r == 0) {
		ck_assert_ptr_nonnull(resp->header);
		if (h != NULL) {
			*h = *resp->header;
		}
		if (resp->n_kvs > 0) {
			*val =
			    mem_strndup((const char *)resp->kvs[0]->value.data,
					resp->kvs[0]->value.len);
		}
	}
	if (resp != NULL) {
		proto_free(&resp->base);
	}
	return r;
}

void cluster_solo(struct sys_loop **loop, struct cluster_node *nd,
		  const char *token, const char *const *extra)
{
	ck_assert_int_eq(sys_loop_new(loop), 0);
	cluster_node_init(nd, "solo", testlib_tmpdir());
	nd->cfg = cluster_node_config(nd, nd, 1, token, extra);
	cluster_node_start(*loop, nd);
	cluster_wait_leader(*loop, &nd->m, 1, 0);
}

void cluster_sync(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		c->ms[i] = c->nodes[i].m;
	}
}

void cluster_start(struct cluster *c, size_t n, const char *token,
		   const char *const *extra)
{
	const char *dir = testlib_tmpdir();
	char name[16];

	ck_assert_uint_le(n, CLUSTER_MAX);
	memset(c, 0, sizeof(*c));
	c->n = n;
	ck_assert_int_eq(sys_loop_new(&c->loop), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "n%zu", i + 1);
		cluster_node_init(&c->nodes[i], name, dir);
	}
	for (size_t i = 0; i < n; i++) {
		c->nodes[i].cfg = cluster_node_config(&c->nodes[i], c->nodes, n,
						      token, extra);
		cluster_node_start(c->loop, &c->nodes[i]);
	}
	cluster_sync(c);
	cluster_wait_leader(c->loop, c->ms, n, 0);
}

void cluster_stop(struct cluster *c)
{
	for (size_t i = 0; i < c->n; i++) {
		cluster_node_done(&c->nodes[i]);
		c->ms[i] = NULL;
	}
	sys_loop_free(c->loop);
	c->loop = NULL;
}

size_t cluster_node_index(const struct cluster_node *nd, size_t n,
			  uint64_t id)
{
	for (size_t i = 0; i < n; i++) {
		if (nd[i].cfg != NULL && nd[i].cfg->member_id == id) {
			return i;
		}
	}
	return n;
}
