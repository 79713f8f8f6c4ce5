/*
 * test_lease_member.c - leases through the member core in-process (real
 * WAL, LMDB and peer sockets on the test's own loopback addresses, one
 * loop): grant, revoke, keep-alive, time-to-live and list on one and on
 * three members, expiry through Raft on every member, a leader loss while
 * a lease is kept alive, and a restart.
 *
 * Members run with a 10 ms heartbeat and a 100 ms election timeout, so
 * etcd's minimum TTL is 1 s and the tests stay short.
 */
#include <stdio.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "mvcc/mvcc.h"
#include "proto/proto.h"
#include "server/config.h"
#include "server/member.h"
#include "sys/loop.h"
#include "cluster.h"
#include "testlib.h"

/* ---- requests ---- */

static int grant(struct sys_loop *loop, struct member *m, int64_t id,
		 int64_t ttl, int64_t *got_id, int64_t *got_ttl)
{
	Etcdserverpb__LeaseGrantRequest req =
	    ETCDSERVERPB__LEASE_GRANT_REQUEST__INIT;
	Etcdserverpb__LeaseGrantResponse *resp = NULL;
	int r;

	req.id = id;
	req.ttl = ttl;
	r = cluster_call(loop, m, MEMBER_OP_LEASE_GRANT, &req.base,
			 (ProtobufCMessage **)&resp);
	if (r == 0) {
		ck_assert_str_eq(resp->error, "");
		if (got_id != NULL) {
			*got_id = resp->id;
		}
		if (got_ttl != NULL) {
			*got_ttl = resp->ttl;
		}
	}
	if (resp != NULL) {
		proto_free(&resp->base);
	}
	return r;
}

static int revoke(struct sys_loop *loop, struct member *m, int64_t id)
{
	Etcdserverpb__LeaseRevokeRequest req =
	    ETCDSERVERPB__LEASE_REVOKE_REQUEST__INIT;

	req.id = id;
	return cluster_call(loop, m, MEMBER_OP_LEASE_REVOKE, &req.base, NULL);
}

/* KeepAlive: the TTL answered (0 for an unknown lease) or an error. */
static int64_t keepalive(struct sys_loop *loop, struct member *m, int64_t id)
{
	Etcdserverpb__LeaseKeepAliveRequest req =
	    ETCDSERVERPB__LEASE_KEEP_ALIVE_REQUEST__INIT;
	Etcdserverpb__LeaseKeepAliveResponse *resp = NULL;
	int64_t ttl;
	int r;

	req.id = id;
	r = cluster_call(loop, m, MEMBER_OP_LEASE_KEEPALIVE, &req.base,
			 (ProtobufCMessage **)&resp);
	if (r < 0) {
		return r;
	}
	ck_assert_int_eq(resp->id, id);
	ck_assert_ptr_nonnull(resp->header);
	ttl = resp->ttl;
	proto_free(&resp->base);
	return ttl;
}

static Etcdserverpb__LeaseTimeToLiveResponse *
timetolive(struct sys_loop *loop, struct member *m, int64_t id, bool keys)
{
	Etcdserverpb__LeaseTimeToLiveRequest req =
	    ETCDSERVERPB__LEASE_TIME_TO_LIVE_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;

	req.id = id;
	req.keys = keys;
	ck_assert_int_eq(
	    cluster_call(loop, m, MEMBER_OP_LEASE_TIMETOLIVE, &req.base, &resp),
	    0);
	return (Etcdserverpb__LeaseTimeToLiveResponse *)resp;
}

static int put(struct sys_loop *loop, struct member *m, const char *k,
	       int64_t lease, int64_t *rev)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__PutResponse *resp = NULL;
	int r;

	req.key.data = (uint8_t *)(uintptr_t)k;
	req.key.len = strlen(k);
	req.value.data = (uint8_t *)"v";
	req.value.len = 1;
	req.lease = lease;
	r = cluster_call(loop, m, MEMBER_OP_PUT, &req.base,
			 (ProtobufCMessage **)&resp);
	if (r == 0 && rev != NULL) {
		*rev = resp->header->revision;
	}
	if (resp != NULL) {
		proto_free(&resp->base);
	}
	return r;
}

/* Serializable get: the key's lease, or -1 when absent. */
static int64_t key_lease(struct sys_loop *loop, struct member *m, const char *k)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *resp = NULL;
	int64_t lease = -1;

	req.key.data = (uint8_t *)(uintptr_t)k;
	req.key.len = strlen(k);
	req.serializable = true;
	ck_assert_int_eq(cluster_call(loop, m, MEMBER_OP_RANGE, &req.base,
				      (ProtobufCMessage **)&resp),
			 0);
	if (resp->n_kvs == 1) {
		lease = resp->kvs[0]->lease;
	}
	proto_free(&resp->base);
	return lease;
}

static size_t lease_count(struct sys_loop *loop, struct member *m)
{
	Etcdserverpb__LeaseLeasesRequest req =
	    ETCDSERVERPB__LEASE_LEASES_REQUEST__INIT;
	Etcdserverpb__LeaseLeasesResponse *resp = NULL;
	size_t n;

	ck_assert_int_eq(cluster_call(loop, m, MEMBER_OP_LEASE_LEASES,
				      &req.base, (ProtobufCMessage **)&resp),
			 0);
	n = resp->n_leases;
	for (size_t i = 1; i < n; i++) {
		ck_assert_int_lt(resp->leases[i - 1]->id, resp->leases[i]->id);
	}
	proto_free(&resp->base);
	return n;
}

static size_t leader_index(struct cluster_node *nd, size_t n, uint64_t lead)
{
	for (size_t i = 0; i < n; i++) {
		if (nd[i].m != NULL && nd[i].cfg->member_id == lead) {
			return i;
		}
	}
	ck_abort_msg("leader %llx is not a member", (unsigned long long)lead);
	return 0;
}

/* ---- tests ---- */

START_TEST(test_one_member_grants_keeps_alive_lists_and_revokes)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__LeaseTimeToLiveResponse *t;
	int64_t id = 0, ttl = 0, rev1 = 0, rev2 = 0;

	cluster_solo(&loop, &nd, "leases", NULL);

	/* ID 0: the member picks a positive one; TTL 0 is raised to the
	 * minimum (1 s with these timeouts). */
	ck_assert_int_eq(grant(loop, nd.m, 0, 0, &id, &ttl), 0);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(ttl, 1);
	/* Gone before the counts below (it may expire first: fine). */
	(void)revoke(loop, nd.m, id);
	ck_assert_int_eq(grant(loop, nd.m, 0, 100, &id, &ttl), 0);
	ck_assert_int_eq(ttl, 100);
	ck_assert_int_eq(grant(loop, nd.m, id, 100, NULL, NULL),
			 -ERR_LEASE_EXISTS);
	ck_assert_int_eq(grant(loop, nd.m, 5, 9000000001LL, NULL, NULL),
			 -ERR_LEASE_TTL_TOO_LARGE);
	ck_assert_int_eq(grant(loop, nd.m, 5, 50, NULL, &ttl), 0);
	ck_assert_uint_eq(lease_count(loop, nd.m), 2);

	/* Put with a lease; with an unknown one etcd's NotFound. */
	ck_assert_int_eq(put(loop, nd.m, "b", id, NULL), 0);
	ck_assert_int_eq(put(loop, nd.m, "a", id, &rev1), 0);
	ck_assert_int_eq(put(loop, nd.m, "c", 5, NULL), 0);
	ck_assert_int_eq(put(loop, nd.m, "x", 12345, NULL),
			 -ERR_LEASE_NOT_FOUND);
	ck_assert_int_eq(key_lease(loop, nd.m, "x"), -1);
	ck_assert_int_eq(key_lease(loop, nd.m, "a"), id);

	t = timetolive(loop, nd.m, id, true);
	ck_assert_int_eq(t->id, id);
	ck_assert_int_eq(t->grantedttl, 100);
	ck_assert(t->ttl >= 98 && t->ttl <= 100);
	ck_assert_uint_eq(t->n_keys, 2);
	ck_assert_mem_eq(t->keys[0].data, "a", 1);
	ck_assert_mem_eq(t->keys[1].data, "b", 1);
	proto_free(&t->base);
	t = timetolive(loop, nd.m, id, false);
	ck_assert_uint_eq(t->n_keys, 0);
	proto_free(&t->base);
	/* etcd compat: an unknown lease is TTL -1, not an error. */
	t = timetolive(loop, nd.m, 777, true);
	ck_assert_int_eq(t->ttl, -1);
	ck_assert_int_eq(t->id, 777);
	proto_free(&t->base);

	ck_assert_int_eq(keepalive(loop, nd.m, id), 100);
	ck_assert_int_eq(keepalive(loop, nd.m, 777), 0);

	/* Revoke: both keys go in one revision. */
	ck_assert_int_eq(revoke(loop, nd.m, id), 0);
	ck_assert_int_eq(put(loop, nd.m, "after", 0, &rev2), 0);
	ck_assert_int_eq(rev2, rev1 + 3); /* c, the revoke, this put */
	ck_assert_int_eq(key_lease(loop, nd.m, "a"), -1);
	ck_assert_int_eq(key_lease(loop, nd.m, "b"), -1);
	ck_assert_int_eq(key_lease(loop, nd.m, "c"), 5);
	ck_assert_int_eq(revoke(loop, nd.m, id), -ERR_LEASE_NOT_FOUND);
	ck_assert_int_eq(keepalive(loop, nd.m, id), 0);
	ck_assert_uint_eq(lease_count(loop, nd.m), 1);

	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_expiry_revokes_and_keepalive_prevents_it)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	int64_t kept = 0, lost = 0;

	cluster_solo(&loop, &nd, "leases", NULL);
	ck_assert_int_eq(grant(loop, nd.m, 0, 2, &kept, NULL), 0);
	ck_assert_int_eq(grant(loop, nd.m, 0, 1, &lost, NULL), 0);
	ck_assert_int_eq(put(loop, nd.m, "kept", kept, NULL), 0);
	ck_assert_int_eq(put(loop, nd.m, "lost", lost, NULL), 0);
	/* At least 2 s (two TTLs of "lost"), at most 10 s on a busy host. */
	for (int i = 0;
	     i < 40 && (i < 8 || key_lease(loop, nd.m, "lost") != -1); i++) {
		cluster_run_for(loop, 250);
		ck_assert_int_eq(keepalive(loop, nd.m, kept), 2);
	}
	ck_assert_int_eq(key_lease(loop, nd.m, "kept"), kept);
	ck_assert_int_eq(key_lease(loop, nd.m, "lost"), -1);
	ck_assert_int_eq(keepalive(loop, nd.m, lost), 0);
	ck_assert_uint_eq(lease_count(loop, nd.m), 1);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_leases_survive_a_restart)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__LeaseTimeToLiveResponse *t;
	int64_t id = 0;

	cluster_solo(&loop, &nd, "leases", NULL);
	ck_assert_int_eq(grant(loop, nd.m, 0, 60, &id, NULL), 0);
	ck_assert_int_eq(grant(loop, nd.m, 99, 30, NULL, NULL), 0);
	ck_assert_int_eq(revoke(loop, nd.m, 99), 0);
	ck_assert_int_eq(put(loop, nd.m, "k", id, NULL), 0);
	member_free(nd.m);
	nd.m = NULL;

	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);
	ck_assert_uint_eq(lease_count(loop, nd.m), 1);
	t = timetolive(loop, nd.m, id, true);
	ck_assert_int_eq(t->grantedttl, 60);
	ck_assert_int_gt(t->ttl, 55);
	ck_assert_uint_eq(t->n_keys, 1);
	proto_free(&t->base);
	ck_assert_int_eq(keepalive(loop, nd.m, id), 60);
	ck_assert_int_eq(grant(loop, nd.m, id, 5, NULL, NULL),
			 -ERR_LEASE_EXISTS);
	ck_assert_int_eq(revoke(loop, nd.m, 99), -ERR_LEASE_NOT_FOUND);
	ck_assert_int_eq(revoke(loop, nd.m, id), 0);
	ck_assert_int_eq(key_lease(loop, nd.m, "k"), -1);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

/* The revision at which key k was deleted on every member: the same. */
static int64_t delete_rev(struct member *m, const char *k)
{
	struct mvcc_events ev;
	int64_t rev = 0;

	memset(&ev, 0, sizeof(ev));
	ck_assert_int_eq(mvcc_events_from(member_store(m), 1, 0, false, &ev),
			 0);
	for (size_t i = 0; i < ev.n_evs; i++) {
		const struct mvcc_event *e = &ev.evs[i];
		if (e->type == MVCC_EVENT_DELETE &&
		    e->kv.key_len == strlen(k) &&
		    memcmp(e->kv.key, k, e->kv.key_len) == 0) {
			rev = e->kv.mod_revision;
		}
	}
	mvcc_events_done(&ev);
	return rev;
}

START_TEST(test_three_members_forward_expire_alike_and_survive_leader_loss)
{
	struct cluster c;
	struct sys_loop *loop;
	struct cluster_node *nd = c.nodes;
	struct member **ms = c.ms;
	Etcdserverpb__LeaseTimeToLiveResponse *t;
	int64_t kept = 0, lost = 0, r1, r2, r3;
	uint64_t lead, lead2;
	size_t li, f1, f2;

	cluster_start(&c, 3, "leases", NULL);
	loop = c.loop;
	lead = cluster_wait_leader(loop, ms, 3, 0);
	li = leader_index(nd, 3, lead);
	f1 = (li + 1) % 3;
	f2 = (li + 2) % 3;

	/* Grants through a follower; every member lists them. */
	ck_assert_int_eq(grant(loop, ms[f1], 0, 3, &kept, NULL), 0);
	ck_assert_int_eq(grant(loop, ms[f2], 0, 2, &lost, NULL), 0);
	ck_assert_int_eq(put(loop, ms[f1], "kept", kept, NULL), 0);
	ck_assert_int_eq(put(loop, ms[f1], "lost/a", lost, NULL), 0);
	ck_assert_int_eq(put(loop, ms[f2], "lost/b", lost, NULL), 0);
	cluster_run_for(loop, 50);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(lease_count(loop, ms[i]), 2);
	}
	/* KeepAlive and TimeToLive on a follower are the leader's. */
	ck_assert_int_eq(keepalive(loop, ms[f2], kept), 3);
	ck_assert_int_eq(keepalive(loop, ms[f1], 4242), 0);
	t = timetolive(loop, ms[f2], lost, true);
	ck_assert_int_eq(t->grantedttl, 2);
	ck_assert_uint_eq(t->n_keys, 2);
	proto_free(&t->base);
	t = timetolive(loop, ms[f1], 4242, false);
	ck_assert_int_eq(t->ttl, -1);
	proto_free(&t->base);

	/* "lost" expires: the leader revokes it through Raft, every member
	 * deletes both keys at the same revision. */
	for (int i = 0;
	     i < 60 && (i < 12 || delete_rev(ms[f1], "lost/a") == 0 ||
			delete_rev(ms[f2], "lost/a") == 0);
	     i++) {
		cluster_run_for(loop, 250);
		ck_assert_int_eq(keepalive(loop, ms[i % 2 ? f1 : f2], kept), 3);
	}
	r1 = delete_rev(ms[li], "lost/a");
	ck_assert_int_gt(r1, 0);
	ck_assert_int_eq(delete_rev(ms[li], "lost/b"), r1);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(delete_rev(ms[i], "lost/a"), r1);
		ck_assert_int_eq(delete_rev(ms[i], "lost/b"), r1);
		ck_assert_int_eq(key_lease(loop, ms[i], "kept"), kept);
	}

	/* The leader goes: the new one extends "kept", which is kept alive
	 * through the change and never revoked. */
	member_free(nd[li].m);
	nd[li].m = NULL;
	ms[li] = NULL;
	lead2 = cluster_wait_leader(loop, ms, 3, lead);
	ck_assert_uint_ne(lead2, lead);
	for (int i = 0; i < 10; i++) {
		int64_t v = keepalive(loop, ms[i % 2 ? f1 : f2], kept);
		ck_assert_int_eq(v, 3);
		cluster_run_for(loop, 400);
	}
	ck_assert_int_eq(key_lease(loop, ms[f1], "kept"), kept);
	ck_assert_int_eq(key_lease(loop, ms[f2], "kept"), kept);

	/* Left alone it expires on the survivors, at one revision. */
	for (int i = 0; i < 60 && (i < 8 || delete_rev(ms[f1], "kept") == 0 ||
				   delete_rev(ms[f2], "kept") == 0);
	     i++) {
		cluster_run_for(loop, 250);
	}
	r2 = delete_rev(ms[f1], "kept");
	r3 = delete_rev(ms[f2], "kept");
	ck_assert_int_gt(r2, r1);
	ck_assert_int_eq(r2, r3);

	cluster_stop(&c);
}
END_TEST

static Suite *lease_member_suite(void)
{
	Suite *s = suite_create("lease-member");
	TCase *tc = tcase_create("lease-member");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       test_one_member_grants_keeps_alive_lists_and_revokes);
	tcase_add_test(tc, test_expiry_revokes_and_keepalive_prevents_it);
	tcase_add_test(tc, test_leases_survive_a_restart);
	tcase_add_test(
	    tc,
	    test_three_members_forward_expire_alike_and_survive_leader_loss);
	suite_add_tcase(s, tc);
	return s;
}

TEST_SUITE(lease_member_suite)
