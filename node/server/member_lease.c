/*
 * member_lease.c - the member's side of etcd's leases (member.h "Leases";
 * the table itself is server/lessor.h): grants and revokes go through
 * Raft and apply here; KeepAlive and TimeToLive are answered by the
 * leader, which alone keeps expiry time, so a follower forwards them on
 * the peer streams (LEASE_PEER_MAGIC, member_int.h) and relays the reply;
 * the leader revokes expired leases by proposing their revocation.
 *
 * Invariants:
 *  1. Only the leader answers KeepAlive and TimeToLive and proposes
 *     revocations; a follower's REQ_LEASE request waits on m->lease_reqs
 *     and is retried every LEASE_FORWARD_RETRY_MS until it is answered or
 *     times out, so a leader change loses none.
 *  2. The lease table in the store changes only when a Raft entry applies
 *     (grant, revoke, attach), so every member holds the same leases at
 *     the same applied index; expiry times live only in the primary
 *     lessor, the leader once it applied its own term's empty entry.
 *  3. At most LEASE_REVOKES_PER_TICK revocations are proposed per house
 *     tick (etcd's leaseRevokeRate).
 */
#include "server/member_int.h"

#define LEASE_PEER_KEEPALIVE 1
#define LEASE_PEER_TIMETOLIVE 2
#define LEASE_PEER_REPLY 0x80
/* etcd compat: LeaseRenew's forwarding loop retries until the timeout. */
#define LEASE_FORWARD_RETRY_MS 500
/* etcd compat: leaseRevokeRate (1000/s), here per 100 ms house tick. */
#define LEASE_REVOKES_PER_TICK 100

static void lease_resp_free(ProtobufCMessage *resp)
{
	if (resp != NULL &&
	    resp->descriptor ==
		&etcdserverpb__lease_time_to_live_response__descriptor) {
		Etcdserverpb__LeaseTimeToLiveResponse *t = (void *)resp;
		for (size_t i = 0; i < t->n_keys; i++) {
			mem_free(t->keys[i].data);
		}
		mem_free(t->keys);
		t->keys = NULL;
		t->n_keys = 0;
	}
	apply_resp_free(resp);
}

/* The keys of a lease, sorted, into a TimeToLive response. */
static int lease_ttl_keys(struct member *m, int64_t id,
			  Etcdserverpb__LeaseTimeToLiveResponse *t)
{
	struct mvcc_keys keys = {0};
	int r = mvcc_lease_keys(m->store, id, &keys);

	if (r < 0 || keys.n_keys == 0) {
		mvcc_keys_done(&keys);
		return r;
	}
	t->keys = mem_calloc(keys.n_keys, sizeof(*t->keys));
	if (t->keys == NULL) {
		mvcc_keys_done(&keys);
		return -ENOMEM;
	}
	/* Take the copies over (the store made one per key). */
	for (size_t i = 0; i < keys.n_keys; i++) {
		t->keys[i].data = keys.keys[i].key;
		t->keys[i].len = keys.keys[i].key_len;
		keys.keys[i].key = NULL;
	}
	t->n_keys = keys.n_keys;
	mvcc_keys_done(&keys);
	for (size_t i = 1; i < t->n_keys; i++) {
		ProtobufCBinaryData x = t->keys[i];
		size_t j = i;
		while (j > 0) {
			const ProtobufCBinaryData *y = &t->keys[j - 1];
			size_t n = x.len < y->len ? x.len : y->len;
			int c = n > 0 ? memcmp(y->data, x.data, n) : 0;
			if (c < 0 || (c == 0 && y->len <= x.len)) {
				break;
			}
			t->keys[j] = t->keys[j - 1];
			j--;
		}
		t->keys[j] = x;
	}
	return 0;
}

/*
 * The leader's answer to a KeepAlive or TimeToLive (packed request of op):
 * 0 and *out (lease_resp_free), -EAGAIN while the lease's revoke is
 * pending or this member's lessor is not primary yet, or an error.
 */
static int lease_answer(struct member *m, enum member_op op,
			const uint8_t *data, size_t len, ProtobufCMessage **out)
{
	uint64_t now = timeutil_mono_ms();
	ProtobufCMessage *req;
	int64_t id, v;
	int r;

	if (!lessor_is_primary(m->lessor)) {
		return -EAGAIN;
	}
	r = proto_unpack(member_op_types[op], data, len, &req);
	if (r < 0) {
		return r;
	}
	if (op == MEMBER_OP_LEASE_KEEPALIVE) {
		Etcdserverpb__LeaseKeepAliveResponse *k;

		id = ((Etcdserverpb__LeaseKeepAliveRequest *)req)->id;
		proto_free(req);
		v = lessor_renew(m->lessor, id, now);
		if (v == -EAGAIN || v == -ERR_NOT_LEADER) {
			return -EAGAIN;
		}
		k = (void *)apply_resp_new(
		    &etcdserverpb__lease_keep_alive_response__descriptor);
		if (k == NULL) {
			return -ENOMEM;
		}
		k->id = id;
		/* etcd compat: an unknown lease is TTL 0, not an error. */
		k->ttl = v < 0 ? 0 : v;
		*out = &k->base;
		return 0;
	} else {
		Etcdserverpb__LeaseTimeToLiveResponse *t;
		bool keys = ((Etcdserverpb__LeaseTimeToLiveRequest *)req)->keys;

		id = ((Etcdserverpb__LeaseTimeToLiveRequest *)req)->id;
		proto_free(req);
		v = lessor_remaining(m->lessor, id, now);
		if (v == -ERR_NOT_LEADER) {
			return -EAGAIN;
		}
		t = (void *)apply_resp_new(
		    &etcdserverpb__lease_time_to_live_response__descriptor);
		if (t == NULL) {
			return -ENOMEM;
		}
		t->id = id;
		if (v < 0) {
			/* etcd compat: v3rpc answers TTL -1 for an unknown
			 * lease. */
			t->ttl = -1;
		} else {
			t->ttl = v;
			t->grantedttl = lessor_ttl(m->lessor, id);
			r = keys ? lease_ttl_keys(m, id, t) : 0;
			if (r < 0) {
				lease_resp_free(&t->base);
				return r;
			}
		}
		*out = &t->base;
		return 0;
	}
}

int member_side_send(struct member *m, raft_id to, uint8_t kind, uint64_t id,
		     const ProtobufCMessage *msg, const uint8_t *raw,
		     size_t raw_len)
{
	size_t n =
	    msg != NULL ? protobuf_c_message_get_packed_size(msg) : raw_len;
	uint8_t *p = mem_alloc(LEASE_PEER_HDR + n);
	int r;

	if (p == NULL) {
		return -ENOMEM;
	}
	p[0] = LEASE_PEER_MAGIC;
	p[1] = kind;
	encode_u64(p + 2, id);
	if (msg != NULL) {
		protobuf_c_message_pack(msg, p + LEASE_PEER_HDR);
	} else if (n > 0) {
		memcpy(p + LEASE_PEER_HDR, raw, n);
	}
	r = peer_transport_send(m->tr, to, p, LEASE_PEER_HDR + n);
	mem_free(p);
	return r;
}

/*
 * Try a pending KeepAlive or TimeToLive: the leader answers it (unless it
 * must wait), a follower forwards it to the leader (again after
 * LEASE_FORWARD_RETRY_MS without an answer).
 */
static void lease_try(struct member *m, struct member_req *rq, uint64_t now)
{
	ProtobufCMessage *resp = NULL, *req;
	int r;

	if (m->leader == m->id) {
		r = lease_answer(m, rq->op, rq->data, rq->len, &resp);
		if (r == -EAGAIN) {
			return;
		}
		member_req_complete(rq, r, resp);
		lease_resp_free(resp);
		return;
	}
	if (m->leader == RAFT_NONE ||
	    (rq->asked_ms != 0 &&
	     rq->asked_ms + LEASE_FORWARD_RETRY_MS > now)) {
		return;
	}
	rq->asked_ms = now;
	if (proto_unpack(member_op_types[rq->op], rq->data, rq->len, &req) <
	    0) {
		return;
	}
	(void)member_side_send(m, m->leader,
			       rq->op == MEMBER_OP_LEASE_KEEPALIVE
				   ? LEASE_PEER_KEEPALIVE
				   : LEASE_PEER_TIMETOLIVE,
			       rq->id, req, NULL, 0);
	proto_free(req);
}

/* A KeepAlive or TimeToLive from take_incoming. */
void member_lease_start(struct member *m, struct member_req *rq)
{
	list_remove(&rq->q);
	rq->state = REQ_LEASE;
	rq->asked_ms = 0;
	list_push_back(&m->lease_reqs, &rq->q);
	lease_try(m, rq, timeutil_mono_ms());
}

void member_lease_serve_leases(struct member *m, struct member_req *rq)
{
	Etcdserverpb__LeaseLeasesResponse *resp;
	Etcdserverpb__LeaseStatus *sv = NULL, **sp = NULL;
	int64_t *ids = NULL;
	size_t n = 0;
	int r;

	resp = (void *)apply_resp_new(
	    &etcdserverpb__lease_leases_response__descriptor);
	r = resp == NULL ? -ENOMEM : lessor_ids(m->lessor, &ids, &n);
	if (r >= 0 && n > 0) {
		sv = mem_calloc(n, sizeof(*sv));
		sp = mem_calloc(n, sizeof(*sp));
		if (sv == NULL || sp == NULL) {
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		mem_free(sv);
		mem_free(sp);
		mem_free(ids);
		if (resp != NULL) {
			apply_resp_free(&resp->base);
		}
		member_req_complete(rq, r, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		etcdserverpb__lease_status__init(&sv[i]);
		sv[i].id = ids[i];
		sp[i] = &sv[i];
	}
	resp->n_leases = n;
	resp->leases = sp;
	member_req_complete(rq, 0, &resp->base);
	resp->n_leases = 0;
	resp->leases = NULL;
	mem_free(sv);
	mem_free(sp);
	mem_free(ids);
	apply_resp_free(&resp->base);
}

/* A forwarded request (leader side) or its answer (follower side). */
void member_lease_on_peer(struct member *m, raft_id from, const uint8_t *data,
			  size_t len)
{
	uint8_t kind;
	uint64_t id;
	struct list_node *pos;

	if (len < LEASE_PEER_HDR) {
		return;
	}
	kind = data[1];
	id = decode_u64(data + 2);
	data += LEASE_PEER_HDR;
	len -= LEASE_PEER_HDR;
	if (kind == LEASE_PEER_KEEPALIVE || kind == LEASE_PEER_TIMETOLIVE) {
		enum member_op op = kind == LEASE_PEER_KEEPALIVE
					? MEMBER_OP_LEASE_KEEPALIVE
					: MEMBER_OP_LEASE_TIMETOLIVE;
		ProtobufCMessage *resp = NULL;

		/* Not the leader (any more), or it must wait: no answer;
		 * the follower asks again. */
		if (m->leader != m->id ||
		    lease_answer(m, op, data, len, &resp) < 0) {
			return;
		}
		(void)member_side_send(m, from, kind | LEASE_PEER_REPLY, id,
				       resp, NULL, 0);
		lease_resp_free(resp);
		return;
	}
	list_for_each(pos, &m->lease_reqs)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);
		ProtobufCMessage *resp;

		if (rq->id != id) {
			continue;
		}
		if ((kind == (LEASE_PEER_KEEPALIVE | LEASE_PEER_REPLY) &&
		     rq->op != MEMBER_OP_LEASE_KEEPALIVE) ||
		    (kind == (LEASE_PEER_TIMETOLIVE | LEASE_PEER_REPLY) &&
		     rq->op != MEMBER_OP_LEASE_TIMETOLIVE)) {
			return;
		}
		if (proto_unpack(
			rq->op == MEMBER_OP_LEASE_KEEPALIVE
			    ? &etcdserverpb__lease_keep_alive_response__descriptor
			    : &etcdserverpb__lease_time_to_live_response__descriptor,
			data, len, &resp) < 0) {
			return;
		}
		member_req_complete(rq, 0, resp);
		proto_free(resp);
		return;
	}
}

/* Apply a LeaseGrant or LeaseRevoke entry. */
int member_lease_apply(struct member *m, const Cetcdpb__InternalRequest *ir,
		       ProtobufCMessage **resp)
{
	int64_t ttl = 0;
	int r;

	if (ir->request_case ==
	    CETCDPB__INTERNAL_REQUEST__REQUEST_LEASE_GRANT) {
		Etcdserverpb__LeaseGrantResponse *g;

		/* etcd compat: applierV3Capped refuses grants under NOSPACE. */
		if (m->nospace) {
			return -ERR_NO_SPACE;
		}
		r = lessor_grant(m->lessor, ir->lease_grant->id,
				 ir->lease_grant->ttl, timeutil_mono_ms(),
				 &ttl);
		if (r < 0) {
			return r;
		}
		g = (void *)apply_resp_new(
		    &etcdserverpb__lease_grant_response__descriptor);
		if (g == NULL) {
			return -ENOMEM;
		}
		g->id = ir->lease_grant->id;
		g->ttl = ttl;
		*resp = &g->base;
		return 0;
	}
	r = lessor_revoke(m->lessor, ir->lease_revoke->id);
	if (r < 0) {
		return r;
	}
	*resp =
	    apply_resp_new(&etcdserverpb__lease_revoke_response__descriptor);
	return *resp == NULL ? -ENOMEM : 0;
}

/*
 * etcd compat (applyEntryNormal): a leader that applied the empty entry of
 * its own term has applied everything before it: it becomes the primary
 * lessor, every lease getting its TTL plus an election timeout from now.
 */
void member_lease_on_empty_entry(struct member *m, const struct raft_entry *e)
{
	if (m->state == RAFT_LEADER && e->term == m->hs.term &&
	    !lessor_is_primary(m->lessor)) {
		lessor_promote(m->lessor, timeutil_mono_ms(),
			       m->cfg->election_ms);
	}
}

void member_lease_on_soft_state(struct member *m,
				const struct raft_soft_state *ss)
{
	if (ss->state != RAFT_LEADER && lessor_is_primary(m->lessor)) {
		lessor_demote(m->lessor);
	}
}

/* The house tick: pending lease requests, and the leader's expiry. */
void member_lease_tick(struct member *m, uint64_t now)
{
	Cetcdpb__InternalRequest ir = CETCDPB__INTERNAL_REQUEST__INIT;
	Etcdserverpb__LeaseRevokeRequest rv =
	    ETCDSERVERPB__LEASE_REVOKE_REQUEST__INIT;
	int64_t ids[LEASE_REVOKES_PER_TICK];
	struct list_node *pos, *tmp;
	size_t n;

	list_for_each_safe(pos, tmp, &m->lease_reqs)
	{
		lease_try(m, container_of(pos, struct member_req, q), now);
	}
	if (m->leader != m->id || m->lessor == NULL) {
		return;
	}
	n = lessor_expired(m->lessor, now, ids, LEASE_REVOKES_PER_TICK);
	for (size_t i = 0; i < n; i++) {
		uint8_t *data;
		size_t len;

		rv.id = ids[i];
		ir.id = member_next_id(m);
		ir.request_case =
		    CETCDPB__INTERNAL_REQUEST__REQUEST_LEASE_REVOKE;
		ir.lease_revoke = &rv;
		if (member_pack_msg(&ir.base, &data, &len) < 0) {
			break;
		}
		/* A refused proposal is retried after the lessor's retry
		 * interval. */
		if (member_check_raft(m, raft_propose(m->raft, data, len),
				      "raft propose") >= 0) {
			log_debug("member %016" PRIx64 ": lease %016" PRIx64
				  " expired",
				  m->id, (uint64_t)ids[i]);
		}
		mem_free(data);
	}
	if (n > 0) {
		member_kick(m);
	}
}
