/*
 * member.c - the member core (member.h): Raft, the WAL-backed storage, the
 * MVCC store and the peer transport on one loop.  This file is the loop:
 * requests and their queues, proposals, reads, the Ready cycle and apply,
 * the timers and stopping.  Beside it (member_int.h holds the shared
 * state): member_conf.c (membership), member_lease.c (leases),
 * member_snap.c (snapshots), member_open.c (opening and freeing),
 * member_metrics.c (gauges).
 *
 * The Ready cycle (raft.h, THE READY CONTRACT; design.md, the path of a
 * write) runs in one place, run_ready(), in this order:
 *   1. a leader whose HardState needs no new durable term or vote sends
 *      its messages first (thesis 10.2.1: its appends go out while its own
 *      WAL write runs; it counts its own log only at advance);
 *   2. entries and HardState go to the WAL in one write + one fdatasync;
 *   3. everyone else sends now (a vote or an ack promises durable state);
 *   4. committed entries are applied into MVCC's open write transaction,
 *      each with its index and term (replay after a crash is idempotent);
 *      waiters are answered with their entry's result; read states are
 *      matched to their reads;
 *   5. raft_advance, then unreachable peers are reported.
 *
 * Invariants:
 *  1. No raft call is made between raft_ready and raft_advance except
 *     raft_apply_conf_change: member_request only queues (m->incoming) and
 *     kicks; the kick hands the queue to Raft before the next Ready.
 *     Callbacks may therefore call member_request at any time.
 *  2. Every pending request is on m->all in submission order (all share one
 *     timeout, so the oldest expires first) and on exactly one queue by
 *     state: incoming, a waiter bucket (proposed), or m->reads.
 *  3. A request's done runs at most once, from the loop, never inside
 *     member_request; a cancelled request keeps its place until it
 *     completes or expires, and is then freed silently.
 *  4. MVCC's write transaction is committed every COMMIT_INTERVAL_MS or
 *     COMMIT_MAX_OPS applied operations, and when the member is freed.
 *  5. A storage error, and any sticky error a raft call returns (raft.h:
 *     -ENOMEM, storage errors, -ERR_CORRUPT; check_raft), is sticky: the
 *     member stops Raft, logs it once (naming the file, and for a full
 *     disk the free space and the fix: diskspace.h), fails every request
 *     with it, reports it in member_info().error and .error_msg and tells
 *     member_on_error's listener from the loop.  Nothing that was not
 *     durable has been acknowledged, so the daemon exits and a restart
 *     replays the WAL.
 */
#include "server/member_int.h"

/* Request ids: etcd's idutil layout, the member id's low 16 bits, then
 * time. */
uint64_t member_next_id(struct member *m)
{
	m->id_suffix = (m->id_suffix + 1) & ((UINT64_C(1) << 48) - 1);
	return m->id_prefix | m->id_suffix;
}

void member_kick(struct member *m)
{
	if (m->kick_ev != NULL) {
		event_active(m->kick_ev, 0, 0);
	}
}

void member_req_free(struct member_req *rq)
{
	mem_free(rq->data);
	mem_free(rq);
}

/* Fill the header of a response as etcd does. */
static void fill_header(struct member *m, ProtobufCMessage *resp)
{
	Etcdserverpb__ResponseHeader *h = apply_resp_header(resp);

	h->cluster_id = m->cluster_id;
	h->member_id = m->id;
	if (h->revision == 0) {
		h->revision = mvcc_current_rev(m->store);
	}
	h->raft_term = m->hs.term;
}

/*
 * etcd compat (v3_server.go): pending counts proposals waiting for their
 * entry; failed counts those refused by Raft or ended by a timeout, a
 * leader change or a stop before they applied, not the ones whose entry
 * applied with an error, nor those refused before proposing.
 */
static void count_proposal_done(struct member *m, struct member_req *rq,
				int err)
{
	if (!rq->proposal || rq->err != 0) {
		return;
	}
	if (rq->state == REQ_PROPOSED) {
		srvmetrics_pending(m->smx, -1);
	}
	if (err == -ERR_TIMEOUT || err == -ERR_TIMEOUT_LEADER_FAIL ||
	    err == -ERR_STOPPED || err == -ERR_NO_LEADER ||
	    err == -ERR_LEADER_CHANGED ||
	    (rq->state == REQ_INCOMING && err < 0)) {
		srvmetrics_failed(m->smx);
	}
}

/* Answer and free rq (invariant 3). resp is borrowed. */
void member_req_complete(struct member_req *rq, int err, ProtobufCMessage *resp)
{
	struct member *m = rq->m;

	list_remove(&rq->all);
	list_remove(&rq->q);
	m->n_pending--;
	count_proposal_done(m, rq, err);
	if (rq->done != NULL) {
		if (resp != NULL) {
			fill_header(m, resp);
		}
		rq->done(rq->arg, err, err < 0 ? NULL : resp);
	}
	member_req_free(rq);
}

static void fail_all(struct member *m, int err)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->all)
	{
		member_req_complete(container_of(pos, struct member_req, all),
				    err, NULL);
	}
}

struct list_node *member_bucket(struct member *m, uint64_t id)
{
	return &m->waiters[(id ^ (id >> 17)) % WAITER_BUCKETS];
}

struct member_req *member_waiter_take(struct member *m, uint64_t id)
{
	struct list_node *head = member_bucket(m, id), *pos;

	list_for_each(pos, head)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);
		if (rq->id == id) {
			return rq;
		}
	}
	return NULL;
}

void member_request_cancel(struct member_req *h)
{
	if (h != NULL) {
		h->done = NULL;
	}
}

int member_pack_msg(const ProtobufCMessage *msg, uint8_t **data, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *p = mem_alloc(n > 0 ? n : 1);

	if (p == NULL) {
		return -ENOMEM;
	}
	protobuf_c_message_pack(msg, p);
	*data = p;
	*len = n;
	return 0;
}

const ProtobufCMessageDescriptor *const member_op_types[MEMBER_OP_COUNT_] = {
    [MEMBER_OP_RANGE] = &etcdserverpb__range_request__descriptor,
    [MEMBER_OP_PUT] = &etcdserverpb__put_request__descriptor,
    [MEMBER_OP_DELETE_RANGE] = &etcdserverpb__delete_range_request__descriptor,
    [MEMBER_OP_TXN] = &etcdserverpb__txn_request__descriptor,
    [MEMBER_OP_COMPACT] = &etcdserverpb__compaction_request__descriptor,
    [MEMBER_OP_MEMBER_LIST] = &etcdserverpb__member_list_request__descriptor,
    [MEMBER_OP_MEMBER_ADD] = &etcdserverpb__member_add_request__descriptor,
    [MEMBER_OP_MEMBER_REMOVE] =
	&etcdserverpb__member_remove_request__descriptor,
    [MEMBER_OP_MEMBER_UPDATE] =
	&etcdserverpb__member_update_request__descriptor,
    [MEMBER_OP_MEMBER_PROMOTE] =
	&etcdserverpb__member_promote_request__descriptor,
    [MEMBER_OP_STATUS] = &etcdserverpb__status_request__descriptor,
    [MEMBER_OP_ALARM] = &etcdserverpb__alarm_request__descriptor,
    [MEMBER_OP_HASH_KV] = &etcdserverpb__hash_kvrequest__descriptor,
    [MEMBER_OP_DEFRAGMENT] = &etcdserverpb__defragment_request__descriptor,
    [MEMBER_OP_MOVE_LEADER] = &etcdserverpb__move_leader_request__descriptor,
    [MEMBER_OP_LEASE_GRANT] = &etcdserverpb__lease_grant_request__descriptor,
    [MEMBER_OP_LEASE_REVOKE] = &etcdserverpb__lease_revoke_request__descriptor,
    [MEMBER_OP_LEASE_KEEPALIVE] =
	&etcdserverpb__lease_keep_alive_request__descriptor,
    [MEMBER_OP_LEASE_TIMETOLIVE] =
	&etcdserverpb__lease_time_to_live_request__descriptor,
    [MEMBER_OP_LEASE_LEASES] = &etcdserverpb__lease_leases_request__descriptor,
    [MEMBER_OP_HASH] = &etcdserverpb__hash_request__descriptor,
};

/* Checks before proposing (etcd's v3rpc and its quota check). */
static int check_request(struct member *m, enum member_op op,
			 const ProtobufCMessage *req)
{
	int r = 0;

	switch (op) {
	case MEMBER_OP_RANGE:
		r = apply_check_range((const void *)req);
		break;
	case MEMBER_OP_PUT:
		r = apply_check_put((const void *)req);
		if (r >= 0) {
			r = mvcc_quota_check(
			    m->store,
			    (int64_t)protobuf_c_message_get_packed_size(req));
		}
		break;
	case MEMBER_OP_DELETE_RANGE:
		r = apply_check_delete_range((const void *)req);
		break;
	case MEMBER_OP_LEASE_GRANT:
		/* etcd compat: a grant costs 64 bytes of quota. */
		r = mvcc_quota_check(m->store, 64);
		break;
	case MEMBER_OP_TXN:
		r = apply_check_txn((const void *)req, m->cfg->max_txn_ops);
		if (r >= 0 && apply_txn_has_put((const void *)req)) {
			r = mvcc_quota_check(
			    m->store,
			    (int64_t)protobuf_c_message_get_packed_size(req));
		}
		break;
	default:
		break;
	}
	return r;
}

/* The InternalRequest for a proposal, packed. */
static int pack_proposal(struct member_req *rq, const ProtobufCMessage *req)
{
	Cetcdpb__InternalRequest ir = CETCDPB__INTERNAL_REQUEST__INIT;
	Etcdserverpb__LeaseGrantRequest grant;

	ir.id = rq->id;
	switch (rq->op) {
	case MEMBER_OP_PUT:
		ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_PUT;
		ir.put = (Etcdserverpb__PutRequest *)(uintptr_t)req;
		break;
	case MEMBER_OP_DELETE_RANGE:
		ir.request_case =
		    CETCDPB__INTERNAL_REQUEST__REQUEST_DELETE_RANGE;
		ir.delete_range =
		    (Etcdserverpb__DeleteRangeRequest *)(uintptr_t)req;
		break;
	case MEMBER_OP_TXN:
		ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_TXN;
		ir.txn = (Etcdserverpb__TxnRequest *)(uintptr_t)req;
		break;
	case MEMBER_OP_ALARM:
		ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_ALARM;
		ir.alarm = (Etcdserverpb__AlarmRequest *)(uintptr_t)req;
		break;
	case MEMBER_OP_COMPACT:
		ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_COMPACTION;
		ir.compaction =
		    (Etcdserverpb__CompactionRequest *)(uintptr_t)req;
		break;
	case MEMBER_OP_LEASE_GRANT:
		/* etcd compat: ID 0 asks the member for one from its request
		 * id generator, positive. */
		grant = *(const Etcdserverpb__LeaseGrantRequest *)req;
		while (grant.id == 0) {
			grant.id = (int64_t)(member_next_id(rq->m) &
					     (UINT64_MAX >> 1));
		}
		ir.request_case =
		    CETCDPB__INTERNAL_REQUEST__REQUEST_LEASE_GRANT;
		ir.lease_grant = &grant;
		break;
	case MEMBER_OP_LEASE_REVOKE:
		ir.request_case =
		    CETCDPB__INTERNAL_REQUEST__REQUEST_LEASE_REVOKE;
		ir.lease_revoke =
		    (Etcdserverpb__LeaseRevokeRequest *)(uintptr_t)req;
		break;
	default:
		return -ERR_INVALID;
	}
	return member_pack_msg(&ir.base, &rq->data, &rq->len);
}

static bool is_proposal(enum member_op op, const ProtobufCMessage *req)
{
	return op == MEMBER_OP_PUT || op == MEMBER_OP_DELETE_RANGE ||
	       op == MEMBER_OP_TXN || op == MEMBER_OP_COMPACT ||
	       op == MEMBER_OP_LEASE_GRANT || op == MEMBER_OP_LEASE_REVOKE ||
	       (op == MEMBER_OP_ALARM &&
		((const Etcdserverpb__AlarmRequest *)req)->action !=
		    ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__GET);
}

int member_request(struct member *m, enum member_op op,
		   const ProtobufCMessage *req, member_done_fn done, void *arg,
		   struct member_req **handle)
{
	struct member_req *rq;
	int r;

	if ((unsigned)op >= MEMBER_OP_COUNT_ || req == NULL || done == NULL ||
	    req->descriptor != member_op_types[op]) {
		return -ERR_INVALID;
	}
	rq = mem_calloc(1, sizeof(*rq));
	if (rq == NULL) {
		return -ENOMEM;
	}
	list_init(&rq->all);
	list_init(&rq->q);
	rq->m = m;
	rq->op = op;
	rq->state = REQ_INCOMING;
	rq->done = done;
	rq->arg = arg;
	rq->deadline_ms = timeutil_mono_ms() + m->request_timeout_ms;
	rq->id = member_next_id(m);
	if (m->error != 0) {
		rq->err = m->error;
	} else if (m->stopped || m->stopping) {
		rq->err = -ERR_STOPPED;
	} else if (m->raft == NULL) {
		rq->err = -ERR_NO_LEADER; /* joining: not part of it yet */
	} else if (m->n_pending >= MAX_PENDING) {
		rq->err = -ERR_TOO_MANY_REQUESTS;
	} else {
		rq->err = check_request(m, op, req);
		if (rq->err == -ERR_NO_SPACE && !m->nospace) {
			m->raise_nospace = true; /* etcd compat */
		}
	}
	if (rq->err == 0) {
		rq->proposal = is_proposal(op, req);
		rq->serializable =
		    op == MEMBER_OP_RANGE &&
		    ((const Etcdserverpb__RangeRequest *)req)->serializable;
		rq->serializable |=
		    op == MEMBER_OP_RANGE && FAILPOINT_BUG("local-reads");
		r = rq->proposal ? pack_proposal(rq, req)
				 : member_pack_msg(req, &rq->data, &rq->len);
		if (r < 0) {
			mem_free(rq);
			return r;
		}
		/* etcd compat: the whole internal request counts. */
		if (rq->proposal && rq->len > m->cfg->max_request_bytes) {
			rq->err = -ERR_REQUEST_TOO_LARGE;
		}
	}
	list_push_back(&m->all, &rq->all);
	list_push_back(&m->incoming, &rq->q);
	m->n_pending++;
	if (handle != NULL) {
		*handle = rq;
	}
	member_kick(m);
	return 0;
}

static void serve_range(struct member *m, struct member_req *rq)
{
	ProtobufCMessage *req;
	Etcdserverpb__RangeResponse *resp = NULL;
	int r;

	r = proto_unpack(&etcdserverpb__range_request__descriptor, rq->data,
			 rq->len, &req);
	if (r >= 0) {
		r = apply_range(m->store, (const void *)req, &resp);
		proto_free(req);
	}
	member_req_complete(rq, r, r < 0 ? NULL : &resp->base);
	if (resp != NULL) {
		apply_resp_free(&resp->base);
	}
}

void member_set_str(char **dst, const char *s)
{
	*dst = (char *)(uintptr_t)(s != NULL ? s : "");
}

static void serve_status(struct member *m, struct member_req *rq)
{
	Etcdserverpb__StatusResponse *resp;
	struct member_info mi;
	int64_t size = 0, in_use = 0;

	resp =
	    (void *)apply_resp_new(&etcdserverpb__status_response__descriptor);
	if (resp == NULL) {
		member_req_complete(rq, -ENOMEM, NULL);
		return;
	}
	member_info(m, &mi);
	(void)mvcc_db_size(m->store, &size, &in_use);
	member_set_str(&resp->version, version_etcd());
	resp->dbsize = size;
	resp->dbsizeinuse = in_use;
	resp->leader = mi.leader;
	resp->raftindex = mi.commit_index;
	resp->raftterm = mi.term;
	resp->raftappliedindex = mi.applied_index;
	resp->islearner = mi.is_learner;
	member_req_complete(rq, 0, &resp->base);
	resp->version = NULL;
	apply_resp_free(&resp->base);
}

static void serve_hash_kv(struct member *m, struct member_req *rq)
{
	ProtobufCMessage *req;
	Etcdserverpb__HashKVResponse *resp = NULL;
	uint32_t hash = 0;
	mvcc_rev hash_rev = 0, compact_rev = 0;
	int r;

	r = proto_unpack(&etcdserverpb__hash_kvrequest__descriptor, rq->data,
			 rq->len, &req);
	if (r >= 0) {
		r = mvcc_hash_kv(m->store,
				 ((Etcdserverpb__HashKVRequest *)req)->revision,
				 &hash, &hash_rev, &compact_rev);
		proto_free(req);
	}
	if (r >= 0) {
		resp = (void *)apply_resp_new(
		    &etcdserverpb__hash_kvresponse__descriptor);
		r = resp == NULL ? -ENOMEM : 0;
	}
	if (r < 0) {
		member_req_complete(rq, r, NULL);
		return;
	}
	resp->header->revision = hash_rev;
	resp->hash = hash;
	resp->compact_revision = compact_rev;
	member_req_complete(rq, 0, &resp->base);
	apply_resp_free(&resp->base);
}

static void serve_hash(struct member *m, struct member_req *rq)
{
	Etcdserverpb__HashResponse *resp = NULL;
	uint32_t hash = 0;
	mvcc_rev rev = 0;
	int r = mvcc_hash(m->store, &hash, &rev);

	if (r >= 0) {
		resp = (void *)apply_resp_new(
		    &etcdserverpb__hash_response__descriptor);
		r = resp == NULL ? -ENOMEM : 0;
	}
	if (r < 0) {
		member_req_complete(rq, r, NULL);
		return;
	}
	resp->header->revision = rev;
	resp->hash = hash;
	member_req_complete(rq, 0, &resp->base);
	apply_resp_free(&resp->base);
}

static void serve_defragment(struct member *m, struct member_req *rq)
{
	ProtobufCMessage *resp;
	int r;

	/* The store commits its open transaction first (mvcc.h); copies
	 * reading the file must be done (snapcopy.h). */
	snapcopy_wait_all(&m->copies);
	r = mvcc_defrag(m->store);
	if (r < 0) {
		member_req_complete(rq, r, NULL);
		return;
	}
	m->ops_uncommitted = 0;
	resp = apply_resp_new(&etcdserverpb__defragment_response__descriptor);
	if (resp == NULL) {
		member_req_complete(rq, -ENOMEM, NULL);
		return;
	}
	member_req_complete(rq, 0, resp);
	apply_resp_free(resp);
}

/* An AlarmResponse listing the NOSPACE alarm when it is active. */
static ProtobufCMessage *alarm_response(struct member *m,
					Etcdserverpb__AlarmMember *am,
					Etcdserverpb__AlarmMember **amp)
{
	Etcdserverpb__AlarmResponse *resp;

	resp =
	    (void *)apply_resp_new(&etcdserverpb__alarm_response__descriptor);
	if (resp == NULL) {
		return NULL;
	}
	if (m->nospace) {
		etcdserverpb__alarm_member__init(am);
		am->memberid = m->id;
		am->alarm = ETCDSERVERPB__ALARM_TYPE__NOSPACE;
		amp[0] = am;
		resp->n_alarms = 1;
		resp->alarms = amp;
	}
	return &resp->base;
}

static void alarm_response_free(ProtobufCMessage *resp)
{
	Etcdserverpb__AlarmResponse *r = (void *)resp;

	r->n_alarms = 0;
	r->alarms = NULL;
	apply_resp_free(resp);
}

static void serve_alarm_get(struct member *m, struct member_req *rq)
{
	Etcdserverpb__AlarmMember am, *amp[1];
	ProtobufCMessage *resp = alarm_response(m, &am, amp);

	if (resp == NULL) {
		member_req_complete(rq, -ENOMEM, NULL);
		return;
	}
	member_req_complete(rq, 0, resp);
	alarm_response_free(resp);
}

static bool is_voter(struct member *m, uint64_t id)
{
	const struct raft_conf_state *cs = raft_conf(m->raft);

	for (size_t i = 0; i < cs->n_voters; i++) {
		if (cs->voters[i] == id) {
			return true;
		}
	}
	return false;
}

static void start_move_leader(struct member *m, struct member_req *rq)
{
	ProtobufCMessage *req;
	uint64_t target;
	int r;

	r = proto_unpack(&etcdserverpb__move_leader_request__descriptor,
			 rq->data, rq->len, &req);
	if (r < 0) {
		member_req_complete(rq, r, NULL);
		return;
	}
	target = ((Etcdserverpb__MoveLeaderRequest *)req)->targetid;
	proto_free(req);
	if (m->leader != m->id) {
		member_req_complete(rq, -ERR_NOT_LEADER, NULL);
		return;
	}
	if (!is_voter(m, target)) {
		member_req_complete(rq, -ERR_BAD_TRANSFEREE, NULL);
		return;
	}
	if (target != m->id) {
		r = raft_transfer_leader(m->raft, target);
		if (r < 0) {
			member_req_complete(rq, r, NULL);
			return;
		}
	}
	list_remove(&rq->q);
	rq->state = REQ_MOVE;
	rq->id = target;
	list_push_back(&m->moves, &rq->q);
}

/* Answer MoveLeader requests whose target leads now. */
static void serve_moves(struct member *m)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->moves)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);
		ProtobufCMessage *resp;

		if (m->leader != rq->id) {
			continue;
		}
		resp = apply_resp_new(
		    &etcdserverpb__move_leader_response__descriptor);
		member_req_complete(rq, resp == NULL ? -ENOMEM : 0, resp);
		apply_resp_free(resp);
	}
}

void member_take_incoming(struct member *m)
{
	struct list_node *pos, *tmp;
	uint64_t round = 0;
	int r;

	list_for_each_safe(pos, tmp, &m->incoming)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);

		if (rq->err != 0) {
			member_req_complete(rq, rq->err, NULL);
			continue;
		}
		if (rq->proposal) {
			r = member_check_raft(
			    m, raft_propose(m->raft, rq->data, rq->len),
			    "raft propose");
			if (r < 0) {
				member_req_complete(rq,
						    r == -ERR_PROPOSAL_DROPPED
							? -ERR_NO_LEADER
							: r,
						    NULL);
				continue;
			}
			list_remove(&rq->q);
			rq->state = REQ_PROPOSED;
			srvmetrics_pending(m->smx, 1);
			list_push_back(member_bucket(m, rq->id), &rq->q);
			/* The packed request lives on in the log. */
			mem_free(rq->data);
			rq->data = NULL;
			continue;
		}
		switch (rq->op) {
		case MEMBER_OP_RANGE:
			if (rq->serializable) {
				serve_range(m, rq);
				break;
			}
			if (round == 0) {
				uint8_t ctx[8];
				round = member_next_id(m);
				encode_u64(ctx, round);
				r = member_check_raft(
				    m,
				    raft_read_index(m->raft, ctx, sizeof(ctx)),
				    "raft read index");
				if (r < 0) {
					round = 0;
					member_req_complete(
					    rq,
					    r == -ERR_PROPOSAL_DROPPED
						? -ERR_NO_LEADER
						: r,
					    NULL);
					break;
				}
			}
			list_remove(&rq->q);
			rq->state = REQ_READ;
			rq->id = round;
			rq->asked_ms = timeutil_mono_ms();
			list_push_back(&m->reads, &rq->q);
			break;
		case MEMBER_OP_MEMBER_LIST:
			member_conf_serve_list(m, rq);
			break;
		case MEMBER_OP_STATUS:
			serve_status(m, rq);
			break;
		case MEMBER_OP_HASH_KV:
			serve_hash_kv(m, rq);
			break;
		case MEMBER_OP_HASH:
			serve_hash(m, rq);
			break;
		case MEMBER_OP_DEFRAGMENT:
			serve_defragment(m, rq);
			break;
		case MEMBER_OP_ALARM:
			serve_alarm_get(m, rq);
			break;
		case MEMBER_OP_MOVE_LEADER:
			start_move_leader(m, rq);
			break;
		case MEMBER_OP_LEASE_KEEPALIVE:
		case MEMBER_OP_LEASE_TIMETOLIVE:
			member_lease_start(m, rq);
			break;
		case MEMBER_OP_LEASE_LEASES:
			member_lease_serve_leases(m, rq);
			break;
		case MEMBER_OP_MEMBER_ADD:
			member_conf_propose_add(m, rq);
			break;
		case MEMBER_OP_MEMBER_REMOVE:
		case MEMBER_OP_MEMBER_UPDATE:
		case MEMBER_OP_MEMBER_PROMOTE:
			member_conf_propose_change(m, rq);
			break;
		default:
			member_req_complete(rq, -ERR_NOT_SUPPORTED, NULL);
			break;
		}
	}
}

/*
 * etcd compat (readIndexRetryTime): a round whose answer has not come in
 * READ_RETRY_MS is asked for again with the same ctx; a request or reply
 * lost with a dropped peer stream would otherwise wait for the timeout.
 */
static void retry_reads(struct member *m, uint64_t now)
{
	struct list_node *pos;
	uint64_t last = 0;

	list_for_each(pos, &m->reads)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);
		uint8_t ctx[8];

		if (rq->has_index || rq->asked_ms + READ_RETRY_MS > now) {
			continue;
		}
		rq->asked_ms = now;
		if (rq->id == last) {
			continue; /* reads of one round are adjacent */
		}
		last = rq->id;
		encode_u64(ctx, rq->id);
		(void)raft_read_index(m->raft, ctx, sizeof(ctx));
		member_kick(m);
	}
}

/* Serve the reads whose read index has been applied. */
static void serve_reads(struct member *m)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->reads)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);
		if (rq->has_index && rq->read_index <= m->applied) {
			serve_range(m, rq);
		}
	}
}

/*
 * The first sticky error stops the member (invariant 5): logged once here,
 * kept for member_info() and told to member_on_error's callback from the
 * loop.  file is the file the error came from, or NULL: a write that failed
 * for want of space names the filesystem, its free space and the fix
 * (diskspace.h), as the operator needs it; a full disk is never mistaken
 * for the NOSPACE alarm, which is the quota and does not stop the member.
 */
void member_fail_at(struct member *m, int err, const char *what,
		    const char *file)
{
	char *msg = NULL;

	if (m->error != 0) {
		return;
	}
	m->error = err;
	if (file != NULL && diskspace_is_full(err, file)) {
		msg = diskspace_message(err, what, file, m->cfg->data_dir);
	}
	if (msg == NULL && file != NULL && err == -EFBIG &&
	    strcmp(file, member_store_file(m)) == 0) {
		/* mvcc.h, 6: a full LMDB map stops the store. */
		member_errmsgf(&msg,
			       "%s failed on %s: the store's LMDB map or "
			       "transaction is full; restart the member: the "
			       "store reopens with a larger map and replays "
			       "its log",
			       what, file);
	}
	if (msg == NULL && file != NULL) {
		member_errmsgf(&msg, "%s failed on %s: %s", what, file,
			       err_str(err));
	}
	if (msg == NULL) {
		member_errmsgf(&msg, "%s: %s", what, err_str(err));
	}
	m->error_msg = msg;
	log_error("member %016" PRIx64 ": %s; the member stops", m->id,
		  msg != NULL ? msg : err_str(err));
	member_kick(m); /* tells member_on_error's callback from the loop */
}

void member_fail(struct member *m, int err, const char *what)
{
	member_fail_at(m, err, what, NULL);
}

/* The file a WAL error came from: the segment (or the .tmp of a cut). */
static const char *wal_file(struct member *m)
{
	const char *f =
	    m->ws != NULL ? wal_error_file(walstore_wal(m->ws)) : NULL;

	return f != NULL ? f : m->cfg->wal_path;
}

/* What a failed WAL write was doing: a failed cut names the new segment's
 * .tmp, whose preallocation needs a whole segment of free space. */
static const char *wal_what(struct member *m)
{
	const char *f = wal_file(m);
	size_t n = strlen(f);

	return n > 8 && strcmp(f + n - 8, ".wal.tmp") == 0
		   ? "preallocating a new WAL segment"
		   : "writing the WAL";
}

/* The LMDB file (mvcc_open in snap_dir). */
const char *member_store_file(struct member *m)
{
	if (m->store_path == NULL) {
		member_errmsgf(&m->store_path, "%s/data.mdb", m->cfg->snap_dir);
	}
	return m->store_path != NULL ? m->store_path : m->cfg->snap_dir;
}

/* A snapshot writes the snapshot file, then the WAL's marker. */
const char *member_snapshot_file(struct member *m)
{
	return m->ws != NULL && walstore_error(m->ws) != 0 ? wal_file(m)
							   : m->cfg->snap_dir;
}

/*
 * Raft's sticky errors (raft.h: -ENOMEM, storage errors, -ERR_CORRUPT)
 * leave the node refusing all further work: stop the member loudly
 * rather than serve a state that no longer moves.  -ERR_NO_LEADER,
 * -ERR_PROPOSAL_DROPPED and -ERR_INVALID refuse one call only.
 */
int member_check_raft(struct member *m, int r, const char *what)
{
	if (r < 0 && r != -ERR_NO_LEADER && r != -ERR_PROPOSAL_DROPPED &&
	    r != -ERR_INVALID) {
		member_fail(m, r, what);
	}
	return r;
}

void member_note_unreachable(struct member *m, raft_id to)
{
	raft_id *v;

	for (size_t i = 0; i < m->n_unreachable; i++) {
		if (m->unreachable[i] == to) {
			return;
		}
	}
	v = mem_realloc(m->unreachable,
			(m->n_unreachable + 1) * sizeof(*m->unreachable));
	if (v == NULL) {
		return; /* Raft learns it from the missing replies anyway */
	}
	m->unreachable = v;
	m->unreachable[m->n_unreachable++] = to;
}

void member_send_messages(struct member *m, const struct raft_ready *rd)
{
	for (size_t i = 0; i < rd->n_messages; i++) {
		const struct raft_message *msg = &rd->messages[i];
		uint8_t *data;
		size_t len;

		if (msg->to == m->id) {
			continue;
		}
		if (msg->type == RAFT_MSG_SNAP) {
			member_snap_send_start(
			    m, msg); /* with the store, on its own */
			continue;
		}
		if (raftmsg_encode(msg, &data, &len) < 0) {
			member_note_unreachable(m, msg->to);
			continue;
		}
		if (peer_transport_send(m->tr, msg->to, data, len) < 0) {
			member_note_unreachable(m, msg->to);
		} else {
			srvmetrics_sent(m->smx, msg->to, (int)msg->type, len,
					timeutil_mono_ns());
		}
		mem_free(data);
	}
}

static int execute(struct member *m, const Cetcdpb__InternalRequest *ir,
		   ProtobufCMessage **resp)
{
	int r;

	switch (ir->request_case) {
	case CETCDPB__INTERNAL_REQUEST__REQUEST_PUT:
		r = apply_put(m->store, ir->put,
			      (Etcdserverpb__PutResponse **)resp);
		break;
	case CETCDPB__INTERNAL_REQUEST__REQUEST_DELETE_RANGE:
		r = apply_delete_range(
		    m->store, ir->delete_range,
		    (Etcdserverpb__DeleteRangeResponse **)resp);
		break;
	case CETCDPB__INTERNAL_REQUEST__REQUEST_TXN:
		r = apply_txn(m->store, ir->txn,
			      (Etcdserverpb__TxnResponse **)resp);
		break;
	case CETCDPB__INTERNAL_REQUEST__REQUEST_COMPACTION:
		r = apply_compaction(m->store, ir->compaction,
				     (Etcdserverpb__CompactionResponse **)resp);
		if (r >= 0) {
			m->compacting = true;
		}
		break;
	case CETCDPB__INTERNAL_REQUEST__REQUEST_LEASE_GRANT:
	case CETCDPB__INTERNAL_REQUEST__REQUEST_LEASE_REVOKE:
		r = member_lease_apply(m, ir, resp);
		break;
	default:
		r = -ERR_NOT_SUPPORTED;
		break;
	}
	return r;
}

static void apply_attributes(struct member *m, const Cetcdpb__Member *a)
{
	struct member_rec *rec = member_conf_find_rec(m, a->id);

	if (rec == NULL) {
		return; /* removed meanwhile */
	}
	if (a->name[0] != '\0') {
		char *n = mem_strdup(a->name);
		if (n != NULL) {
			mem_free(rec->name);
			rec->name = n;
		}
	}
	(void)member_conf_dup_strv(&rec->client_urls, &rec->n_client_urls,
				   a->client_urls, a->n_client_urls);
}

/* The NOSPACE alarm: etcd keeps it until an operator disarms it. */
/*
 * etcd compat: alarms live in the backend (its "alarm" bucket), so a
 * NOSPACE alarm survives a restart even when the entry that raised it is
 * behind the snapshot.  One aux record while it is active, written in the
 * entry's own transaction; its value is the raising member's ID.  A write
 * that fails leaves the store's sticky error to stop the member.
 */
#define ALARM_NOSPACE_KEY "alarm/nospace"

static void save_alarm(struct member *m, uint64_t member_id, bool on)
{
	uint8_t v[8];

	if (on) {
		encode_u64(v, member_id);
		(void)mvcc_aux_put(m->store, ALARM_NOSPACE_KEY,
				   strlen(ALARM_NOSPACE_KEY), v, sizeof(v));
	} else {
		(void)mvcc_aux_del(m->store, ALARM_NOSPACE_KEY,
				   strlen(ALARM_NOSPACE_KEY));
	}
}

static int alarm_found(void *arg, const void *key, size_t key_len,
		       const void *val, size_t val_len)
{
	(void)key;
	(void)key_len;
	(void)val;
	(void)val_len;
	*(bool *)arg = true;
	return 1;
}

/* At start: the alarms the store kept (0, or the store's error). */
int member_restore_alarms(struct member *m)
{
	bool on = false;
	int r = mvcc_aux_scan(m->store, ALARM_NOSPACE_KEY,
			      strlen(ALARM_NOSPACE_KEY), alarm_found, &on);

	if (r < 0 && !on) {
		return r;
	}
	if (on) {
		log_notice("member %016" PRIx64 ": NOSPACE alarm active "
			   "(kept in the store)",
			   m->id);
		m->nospace = true;
		mvcc_set_nospace(m->store, true);
	}
	return 0;
}

static void apply_alarm(struct member *m, const Etcdserverpb__AlarmRequest *a)
{
	bool on;

	if (a->alarm != ETCDSERVERPB__ALARM_TYPE__NOSPACE &&
	    a->alarm != ETCDSERVERPB__ALARM_TYPE__NONE) {
		return;
	}
	on = a->action == ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__ACTIVATE;
	if (on != m->nospace) {
		log_notice("member %016" PRIx64 ": NOSPACE alarm %s", m->id,
			   on ? "raised" : "cleared");
	}
	m->nospace = on;
	mvcc_set_nospace(m->store, on);
	save_alarm(m, a->memberid, on);
}

static int apply_normal(struct member *m, const struct raft_entry *e, bool skip)
{
	ProtobufCMessage *pm;
	Cetcdpb__InternalRequest *ir;
	ProtobufCMessage *resp = NULL;
	struct member_req *rq;
	int r;

	if (e->len == 0) {
		member_lease_on_empty_entry(m, e);
		return 0; /* a new leader's empty entry */
	}
	r = proto_unpack(&cetcdpb__internal_request__descriptor, e->data,
			 e->len, &pm);
	if (r == -ENOMEM) {
		return r;
	}
	if (r < 0) {
		log_warn("member: entry %" PRIu64 " is not a request; skipped",
			 e->index);
		return 0;
	}
	ir = (Cetcdpb__InternalRequest *)pm;
	/* Membership is memory state rebuilt on every replay. */
	if (ir->request_case == CETCDPB__INTERNAL_REQUEST__REQUEST_ATTRIBUTES) {
		apply_attributes(m, ir->attributes);
	} else if (ir->request_case ==
		   CETCDPB__INTERNAL_REQUEST__REQUEST_ALARM) {
		apply_alarm(m, ir->alarm);
		rq = member_waiter_take(m, ir->id);
		if (rq != NULL) {
			Etcdserverpb__AlarmMember am, *amp[1];
			resp = alarm_response(m, &am, amp);
			member_req_complete(rq, resp == NULL ? -ENOMEM : 0,
					    resp);
			if (resp != NULL) {
				alarm_response_free(resp);
			}
		}
		proto_free(pm);
		return 0;
	} else if (!skip) {
		r = execute(m, ir, &resp);
		if (r == -ERR_CORRUPT || (r < 0 && r > -ERR_BASE)) {
			/* The store failed, not the request. */
			proto_free(pm);
			return r;
		}
		m->ops_uncommitted++;
	}
	rq = member_waiter_take(m, ir->id);
	if (rq != NULL) {
		member_req_complete(rq, skip ? -ERR_STOPPED : r, resp);
	}
	if (resp != NULL) {
		apply_resp_free(resp);
	}
	proto_free(pm);
	return 0;
}

static int apply_entries(struct member *m, const struct raft_entry *ents,
			 size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct raft_entry *e = &ents[i];
		int r = mvcc_apply_begin(m->store, e->index, e->term);
		if (r < 0) {
			return r;
		}
		if (e->type == RAFT_ENTRY_NORMAL) {
			r = apply_normal(m, e, r == 1);
		} else {
			r = member_conf_apply_entry(m, e);
		}
		if (r < 0) {
			return r;
		}
		m->applied_bytes += raft_entry_size(e);
		/* After a restart Raft replays from the snapshot while the
		 * store is already further on: applied never goes back. */
		if (e->index > m->applied) {
			m->applied = e->index;
		}
	}
	return 0;
}

static void match_read_states(struct member *m, const struct raft_ready *rd)
{
	for (size_t i = 0; i < rd->n_read_states; i++) {
		const struct raft_read_state *rs = &rd->read_states[i];
		struct list_node *pos;
		uint64_t round;

		if (rs->ctx_len != 8) {
			continue;
		}
		round = decode_u64(rs->ctx);
		list_for_each(pos, &m->reads)
		{
			struct member_req *rq =
			    container_of(pos, struct member_req, q);
			if (rq->id == round) {
				rq->has_index = true;
				rq->read_index = rs->index;
			}
		}
	}
}

static void on_soft_state(struct member *m, const struct raft_soft_state *ss)
{
	member_lease_on_soft_state(m, ss);
	if (ss->lead != m->leader) {
		struct list_node *pos, *tmp;

		if (ss->lead != RAFT_NONE) {
			log_info("member %016" PRIx64 ": leader is %016" PRIx64
				 " (term %" PRIu64 ")",
				 m->id, ss->lead, m->hs.term);
		} else {
			log_info("member %016" PRIx64 ": no leader", m->id);
		}
		/* etcd compat: reads waiting for a read index from the old
		 * leader fail with "leader changed". */
		list_for_each_safe(pos, tmp, &m->reads)
		{
			struct member_req *rq =
			    container_of(pos, struct member_req, q);
			if (!rq->has_index) {
				member_req_complete(rq, -ERR_LEADER_CHANGED,
						    NULL);
			}
		}
		m->published = false;
	}
	m->leader = ss->lead;
	m->state = ss->state;
}

/*
 * walstore_save, timed for etcd_disk_wal_fsync_duration_seconds when it
 * syncs (wal.h: entries, or a new term or vote); the write before the
 * fdatasync is a memory copy into the page cache, so the time is the
 * sync's.
 */
static int save_wal(struct member *m, const struct raft_ready *rd)
{
	bool syncs = rd->n_entries > 0 || (rd->has_hard_state &&
					   (rd->hard_state.term != m->hs.term ||
					    rd->hard_state.vote != m->hs.vote));
	uint64_t t0 = timeutil_mono_ns();
	int r =
	    walstore_save(m->ws, rd->has_hard_state ? &rd->hard_state : NULL,
			  rd->entries, rd->n_entries);

	if (r >= 0 && syncs) {
		srvmetrics_wal_fsync(m->smx, timeutil_mono_ns() - t0);
	}
	return r;
}

/*
 * mvcc_commit, timed for etcd_disk_backend_commit_duration_seconds.  Then,
 * when a transaction was outsized (RELEASE_PAGES_WRITES) and no copy of
 * the store is reading it, the store frees LMDB's cache of its dirty
 * pages (mvcc_release_pages).
 */
static int commit_store(struct member *m)
{
	uint64_t t0 = timeutil_mono_ns();
	int r = mvcc_commit(m->store);

	if (r >= 0) {
		srvmetrics_backend_commit(m->smx, timeutil_mono_ns() - t0);
		if (list_is_empty(&m->copies)) {
			r = mvcc_release_pages(m->store, RELEASE_PAGES_WRITES);
		}
		if (r == 1) {
			member_return_freed_memory();
		}
	}
	return r < 0 ? r : 0;
}

static void run_ready(struct member *m)
{
	struct raft_ready rd;
	bool leader, early;
	int r;

	r = raft_ready(m->raft, &rd);
	if (r < 0) {
		member_fail(m, r, "raft");
		return;
	}
	m->in_ready = true;
	leader =
	    (rd.has_soft_state ? rd.soft_state.state : m->state) == RAFT_LEADER;
	/* Step 1: only a commit index may change without a sync first. */
	early = leader && rd.snapshot.meta.index == 0 &&
		(!rd.has_hard_state || (rd.hard_state.term == m->hs.term &&
					rd.hard_state.vote == m->hs.vote));
	if (early) {
		member_send_messages(m, &rd);
	}
	if (rd.snapshot.meta.index != 0) {
		/* Step 2 begins with the snapshot: store, then WAL. */
		r = member_snap_install(m, &rd.snapshot);
		if (r < 0) {
			member_fail_at(m, r,
				       "installing a snapshot from the leader",
				       member_snapshot_file(m));
			m->in_ready = false;
			return;
		}
	}
	/* Step 2: one write and one fdatasync for the whole batch. */
	if (rd.n_entries > 0 || rd.has_hard_state) {
		r = save_wal(m, &rd);
		if (r < 0) {
			member_fail_at(m, r, wal_what(m), wal_file(m));
			m->in_ready = false;
			return;
		}
		if (rd.has_hard_state) {
			m->hs = rd.hard_state;
		}
	}
	if (!early) {
		member_send_messages(m, &rd);
	}
	if (rd.has_soft_state) {
		on_soft_state(m, &rd.soft_state);
	}
	/* Step 4: apply, answer waiters, match read states. */
	r = apply_entries(m, rd.committed_entries, rd.n_committed_entries);
	if (r < 0) {
		member_fail_at(m, r, "applying committed entries",
			       member_store_file(m));
		m->in_ready = false;
		return;
	}
	match_read_states(m, &rd);
	r = raft_advance(m->raft, &rd);
	m->in_ready = false;
	if (r < 0) {
		member_fail(m, r, "raft advance");
		return;
	}
	for (size_t i = 0; i < m->n_unreachable; i++) {
		member_check_raft(
		    m, raft_report_unreachable(m->raft, m->unreachable[i]),
		    "raft, reporting an unreachable peer");
	}
	m->n_unreachable = 0;
	if (m->ops_uncommitted >= COMMIT_MAX_OPS) {
		r = commit_store(m);
		if (r < 0) {
			member_fail_at(m, r, "committing the store",
				       member_store_file(m));
			return;
		}
		m->ops_uncommitted = 0;
	}
}

/* A single voter need not wait an election timeout to lead. */
static void maybe_campaign_alone(struct member *m)
{
	const struct raft_conf_state *cs = raft_conf(m->raft);

	if (m->leader == RAFT_NONE && m->state == RAFT_FOLLOWER &&
	    cs->n_voters == 1 && cs->voters[0] == m->id &&
	    cs->n_voters_outgoing == 0) {
		(void)raft_campaign(m->raft);
	}
}

/* etcd compat: a member publishes its name and client URLs through Raft. */
static void maybe_publish(struct member *m)
{
	Cetcdpb__InternalRequest ir = CETCDPB__INTERNAL_REQUEST__INIT;
	Cetcdpb__Member a = CETCDPB__MEMBER__INIT;
	const struct config *c = m->cfg;
	char **urls;
	uint8_t *data;
	size_t len;

	if (m->published || m->leader == RAFT_NONE) {
		return;
	}
	urls = mem_calloc(c->advertise_client_urls.n + 1, sizeof(*urls));
	if (urls == NULL) {
		return;
	}
	for (size_t i = 0; i < c->advertise_client_urls.n; i++) {
		urls[i] = c->advertise_client_urls.v[i].url;
	}
	a.id = m->id;
	a.name = c->name;
	a.n_client_urls = c->advertise_client_urls.n;
	a.client_urls = urls;
	ir.id = member_next_id(m);
	ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_ATTRIBUTES;
	ir.attributes = &a;
	if (member_pack_msg(&ir.base, &data, &len) >= 0) {
		if (raft_propose(m->raft, data, len) >= 0) {
			m->published = true;
		}
		mem_free(data);
	}
	mem_free(urls);
}

/* etcd compat: a write refused for the quota raises the NOSPACE alarm. */
static void maybe_raise_nospace(struct member *m)
{
	Cetcdpb__InternalRequest ir = CETCDPB__INTERNAL_REQUEST__INIT;
	Etcdserverpb__AlarmRequest a = ETCDSERVERPB__ALARM_REQUEST__INIT;
	uint8_t *data;
	size_t len;

	if (!m->raise_nospace || m->nospace) {
		m->raise_nospace = false;
		return;
	}
	a.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__ACTIVATE;
	a.memberid = m->id;
	a.alarm = ETCDSERVERPB__ALARM_TYPE__NOSPACE;
	ir.id = member_next_id(m);
	ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_ALARM;
	ir.alarm = &a;
	if (member_pack_msg(&ir.base, &data, &len) >= 0) {
		if (raft_propose(m->raft, data, len) >= 0) {
			m->raise_nospace = false;
		}
		mem_free(data);
	}
}

/* The most up-to-date other voter (leader only), or 0. */
static raft_id best_transferee(struct member *m)
{
	const struct raft_conf_state *cs = raft_conf(m->raft);
	raft_id best = RAFT_NONE;
	raft_index match = 0;

	for (size_t i = 0; i < cs->n_voters; i++) {
		const struct raft_progress *pr;
		if (cs->voters[i] == m->id) {
			continue;
		}
		pr = raft_progress_of(m->raft, cs->voters[i]);
		if (pr != NULL && (best == RAFT_NONE || pr->match > match)) {
			best = cs->voters[i];
			match = pr->match;
		}
	}
	return best;
}

/*
 * member_stop's second half, run from the kick: a leader hands leadership
 * to its most up-to-date follower (etcd compat: no election needed after
 * a graceful stop), waiting at most an election timeout; then pending
 * requests fail with -ERR_STOPPED and the caller is told.
 */
static void check_stop(struct member *m)
{
	uint64_t now = timeutil_mono_ms();

	if (m->stop_deadline_ms == 0) {
		raft_id to = RAFT_NONE;

		m->stop_deadline_ms = now + 2 * (uint64_t)m->cfg->election_ms;
		if (m->leader == m->id && m->error == 0) {
			to = best_transferee(m);
		}
		if (to != RAFT_NONE && raft_transfer_leader(m->raft, to) >= 0) {
			log_info("member %016" PRIx64 ": handing leadership "
				 "to %016" PRIx64 " before stopping",
				 m->id, to);
			member_kick(m);
			return;
		}
	} else if (m->leader == m->id && now < m->stop_deadline_ms &&
		   m->error == 0) {
		return;
	}
	m->stopping = false;
	m->stopped = true;
	sys_timer_stop(m->tick_timer);
	fail_all(m, -ERR_STOPPED);
	if (m->error == 0) {
		(void)mvcc_commit(m->store);
		m->ops_uncommitted = 0;
	}
	if (m->stop_done != NULL) {
		m->stop_done(m->stop_arg);
	}
}

static void notify_revision(struct member *m)
{
	mvcc_rev rev = m->store != NULL ? mvcc_current_rev(m->store) : 0;

	if (rev != m->notified_rev && m->on_revision != NULL) {
		m->notified_rev = rev;
		m->on_revision(m->on_revision_arg, rev);
	}
}

/* Once, from the loop: the daemon stops on it (member_on_error). */
static void notify_error(struct member *m)
{
	if (m->error != 0 && !m->notified_error && m->on_error != NULL) {
		m->notified_error = true;
		m->on_error(m->on_error_arg, m->error);
	}
}

static void notify_leader(struct member *m)
{
	if (m->leader != m->notified_leader && m->on_leader != NULL) {
		m->notified_leader = m->leader;
		m->on_leader(m->on_leader_arg, m->leader);
	}
}

void member_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct member *m = arg;

	(void)fd;
	(void)what;
	if (m->error != 0 || m->stopped || m->raft == NULL) {
		fail_all(m, m->error != 0 ? m->error
			    : m->stopped  ? -ERR_STOPPED
					  : -ERR_NO_LEADER);
		if (m->stopping && m->raft == NULL) {
			m->stopping = false;
			m->stopped = true;
			if (m->stop_done != NULL) {
				m->stop_done(m->stop_arg);
			}
		} else if (m->stopping) {
			check_stop(m);
		}
		notify_error(m);
		return;
	}
	member_take_incoming(m);
	maybe_publish(m);
	maybe_raise_nospace(m);
	if (raft_has_ready(m->raft)) {
		run_ready(m);
		member_snap_drop_pending(m);
		if (m->error != 0) {
			fail_all(m, m->error);
			return;
		}
		maybe_campaign_alone(m);
		member_snap_maybe_take(m);
		if (m->error != 0) {
			fail_all(m, m->error);
			return;
		}
		if (raft_has_ready(m->raft)) {
			member_kick(m);
		}
	}
	serve_reads(m);
	serve_moves(m);
	notify_revision(m);
	notify_leader(m);
	if (m->stopping) {
		check_stop(m);
	}
}

void member_tick_cb(struct sys_timer *t, void *arg)
{
	struct member *m = arg;

	(void)t;
	if (m->error != 0 || m->stopped || m->raft == NULL) {
		return;
	}
	/* Every raft call returns a sticky error again: one check per tick
	 * catches those of the calls whose result is not looked at. */
	member_check_raft(m, raft_tick(m->raft), "raft tick");
	member_kick(m);
}

/*
 * What a request that ran out of time gets.  etcd compat
 * (parseProposeCtxErr): a proposal may be in the log and still apply, so it
 * times out, "possibly due to previous leader failure" when there is no
 * leader now.  "no leader" is only for what never reached Raft, which a
 * client may take as not done.
 */
static int expired_error(const struct member *m, const struct member_req *rq)
{
	/* A promotion the leader was asked for may be in its log. */
	if (rq->state == REQ_PROPOSED ||
	    (rq->state == REQ_PROMOTE && rq->asked_ms != 0)) {
		return m->leader == RAFT_NONE ? -ERR_TIMEOUT_LEADER_FAIL
					      : -ERR_TIMEOUT;
	}
	return m->leader == RAFT_NONE ? -ERR_NO_LEADER : -ERR_TIMEOUT;
}

void member_house_cb(struct sys_timer *t, void *arg)
{
	struct member *m = arg;
	uint64_t now = timeutil_mono_ms();
	struct list_node *pos, *tmp;
	int r;

	(void)t;
	if (m->stopping) {
		member_kick(m);
	}
	if (m->error == 0 && m->ops_uncommitted > 0) {
		r = commit_store(m);
		if (r < 0) {
			member_fail_at(m, r, "committing the store",
				       member_store_file(m));
			fail_all(m, r);
			return;
		}
		m->ops_uncommitted = 0;
	}
	if (m->error == 0 && m->compacting) {
		bool done = false;
		r = mvcc_compact_step(m->store, COMPACT_BUDGET, &done);
		if (r < 0 || done) {
			m->compacting = false;
		}
	}
	if (m->error == 0 && !m->stopped && m->raft != NULL) {
		retry_reads(m, now);
		member_lease_tick(m, now);
		member_conf_tick(m, now);
	}
	/* Invariant 2: the oldest request expires first. */
	list_for_each_safe(pos, tmp, &m->all)
	{
		struct member_req *rq =
		    container_of(pos, struct member_req, all);
		if (rq->deadline_ms > now) {
			break;
		}
		member_req_complete(rq, expired_error(m, rq), NULL);
	}
}

static void propose_compaction(struct member *m, mvcc_rev rev)
{
	Cetcdpb__InternalRequest ir = CETCDPB__INTERNAL_REQUEST__INIT;
	Etcdserverpb__CompactionRequest c =
	    ETCDSERVERPB__COMPACTION_REQUEST__INIT;
	uint8_t *data;
	size_t len;

	if (rev <= 1 || rev <= mvcc_compact_rev(m->store) ||
	    rev > mvcc_current_rev(m->store)) {
		return;
	}
	c.revision = rev;
	ir.id = member_next_id(m);
	ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_COMPACTION;
	ir.compaction = &c;
	if (member_pack_msg(&ir.base, &data, &len) >= 0) {
		if (raft_propose(m->raft, data, len) >= 0) {
			log_info("member %016" PRIx64 ": auto-compaction to "
				 "revision %" PRId64,
				 m->id, (int64_t)rev);
			member_kick(m);
		}
		mem_free(data);
	}
}

/*
 * periodic: sample the revision every tenth of the retention period
 * (at most hourly) and compact to the revision sampled a whole period
 * ago; revision: every 5 minutes keep the last N revisions.
 */
static void auto_compact_cb(struct sys_timer *t, void *arg)
{
	struct member *m = arg;
	const struct config *c = m->cfg;
	uint64_t now = timeutil_mono_ms();

	(void)t;
	if (m->error != 0 || m->stopped || m->stopping || m->raft == NULL) {
		return;
	}
	if (c->auto_compaction_mode == CONFIG_COMPACT_REVISION) {
		if (m->leader == m->id) {
			propose_compaction(
			    m, mvcc_current_rev(m->store) -
				   (mvcc_rev)c->auto_compaction_revisions);
		}
		return;
	}
	if (m->n_samples == AUTO_COMPACT_SAMPLES) {
		memmove(&m->samples[0], &m->samples[1],
			(AUTO_COMPACT_SAMPLES - 1) * sizeof(m->samples[0]));
		m->n_samples--;
	}
	m->samples[m->n_samples].at_ms = now;
	m->samples[m->n_samples].rev = mvcc_current_rev(m->store);
	m->n_samples++;
	if (m->leader == m->id) {
		uint64_t period = c->auto_compaction_period_ns / 1000000;
		mvcc_rev rev = 0;
		for (size_t i = 0; i < m->n_samples; i++) {
			if (m->samples[i].at_ms + period <= now) {
				rev = m->samples[i].rev;
			}
		}
		propose_compaction(m, rev);
	}
}

int member_start_auto_compaction(struct member *m)
{
	const struct config *c = m->cfg;
	uint64_t every;
	int r;

	if (c->auto_compaction_mode == CONFIG_COMPACT_REVISION) {
		if (c->auto_compaction_revisions == 0) {
			return 0;
		}
		every = AUTO_COMPACT_REVISION_CHECK_MS;
	} else {
		if (c->auto_compaction_period_ns == 0) {
			return 0;
		}
		every = c->auto_compaction_period_ns / 1000000 / 10;
		if (every > AUTO_COMPACT_MAX_SAMPLE_MS) {
			every = AUTO_COMPACT_MAX_SAMPLE_MS;
		}
		if (every == 0) {
			every = 1;
		}
	}
	r = sys_timer_new(m->loop, auto_compact_cb, m, &m->auto_compact_timer);
	if (r >= 0) {
		r = sys_timer_start(m->auto_compact_timer, every, every);
	}
	return r;
}

int member_errmsgf(char **errmsg, const char *fmt, ...)
{
	va_list ap;
	char buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (errmsg != NULL) {
		*errmsg = mem_strdup(buf);
	}
	return 0;
}

void member_stop(struct member *m, void (*done)(void *arg), void *arg)
{
	if (m->stopping || m->stopped) {
		return;
	}
	m->stopping = true;
	m->stop_done = done;
	m->stop_arg = arg;
	member_kick(m); /* check_stop runs from the loop, never in here */
}

struct mvcc_store *member_store(struct member *m)
{
	return m->store;
}

void member_on_revision(struct member *m, void (*fn)(void *arg, int64_t rev),
			void *arg)
{
	m->on_revision = fn;
	m->on_revision_arg = arg;
	m->notified_rev = m->store != NULL ? mvcc_current_rev(m->store) : 0;
}

void member_info(const struct member *m, struct member_info *out)
{
	const struct raft_conf_state *cs;
	struct raft_storage st;

	memset(out, 0, sizeof(*out));
	out->id = m->id;
	out->cluster_id = m->cluster_id;
	out->leader = m->leader;
	out->term = m->hs.term;
	out->commit_index = m->hs.commit;
	out->applied_index = m->applied;
	out->error = m->error;
	out->error_msg = m->error_msg;
	if (m->raft == NULL) {
		return; /* joining: nothing known yet */
	}
	out->revision = mvcc_current_rev(m->store);
	out->snapshot_index = m->snap_index;
	st = walstore_storage(m->ws);
	(void)st.first_index(st.ctx, &out->log_first_index);
	cs = raft_conf(m->raft);
	for (size_t i = 0; i < cs->n_learners; i++) {
		if (cs->learners[i] == m->id) {
			out->is_learner = true;
		}
	}
	out->nospace = m->nospace;
	out->error = m->error;
	out->removed = m->removed;
}

void member_on_leader(struct member *m, void (*fn)(void *arg, uint64_t leader),
		      void *arg)
{
	m->on_leader = fn;
	m->on_leader_arg = arg;
	m->notified_leader = RAFT_NONE;
}

void member_on_error(struct member *m, void (*fn)(void *arg, int err),
		     void *arg)
{
	m->on_error = fn;
	m->on_error_arg = arg;
	m->notified_error = false;
	member_kick(m); /* an error already there is told from the loop too */
}
