/*
 * member.c - the member core (member.h): Raft, the WAL-backed storage, the
 * MVCC store and the peer transport on one loop.
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
#include "server/member.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/version.h"
#include "internal.pb-c.h"
#include "mvcc/mvcc.h"
#include "peer/transport.h"
#include "proto/proto.h"
#include "raft/progress.h"
#include "raft/raft.h"
#include "server/apply.h"
#include "server/diskspace.h"
#include "server/ids.h"
#include "server/lessor.h"
#include "server/raftmsg.h"
#include "server/srvmetrics.h"
#include "server/snapcopy.h"
#include "sys/loop.h"
#include "wal/walstore.h"

/* etcd compat: ReqTimeout() = 5 s + 2 * election timeout (7 s default). */
#define REQUEST_TIMEOUT_BASE_MS 5000
#define COMMIT_INTERVAL_MS 100
#define COMMIT_MAX_OPS 10000
/* Requests pending at once before "too many requests". */
#define MAX_PENDING 20000
#define WAITER_BUCKETS 1024
#define COMPACT_BUDGET 1000
#define READ_RETRY_MS 500
/* etcd compat: entries kept in memory behind a snapshot for slow
 * followers, and snapshot files kept. */
#define SNAPSHOT_CATCHUP_ENTRIES 5000
#define SNAPSHOTS_KEPT 5
/* etcd compat: auto-compaction checks (reference etcd-v3.md 7.4). */
#define AUTO_COMPACT_REVISION_CHECK_MS (5 * 60 * 1000)
#define AUTO_COMPACT_MAX_SAMPLE_MS (60 * 60 * 1000)
#define AUTO_COMPACT_SAMPLES 11

enum req_state {
	REQ_INCOMING, /* queued for the next kick */
	REQ_PROPOSED, /* in a waiter bucket until its entry applies */
	REQ_READ,     /* linearizable read: read state, then applied index */
	REQ_MOVE,     /* MoveLeader: until the target leads */
	REQ_LEASE,    /* KeepAlive, TimeToLive: leader answers or forwarded */
};

struct member_req {
	struct list_node all; /* m->all (invariant 2) */
	struct list_node q;   /* incoming, waiter bucket or reads */
	struct member *m;
	enum member_op op;
	enum req_state state;
	uint64_t id;	   /* proposal id, or read round */
	bool has_index;	   /* read: its read state arrived */
	uint64_t asked_ms; /* read: when its round was (last) asked for */
	raft_index read_index;
	uint64_t deadline_ms;
	int err;	   /* fail with this at the next kick (validation) */
	bool proposal;	   /* data is an InternalRequest to propose */
	bool serializable; /* a Range that reads locally at once */
	member_done_fn done;
	void *arg;
	uint8_t *data; /* packed InternalRequest, or the packed request */
	size_t len;
};

struct member_rec {
	uint64_t id;
	char *name;
	char **peer_urls;
	size_t n_peer_urls;
	char **client_urls;
	size_t n_client_urls;
	bool is_learner;
};

struct member {
	struct sys_loop *loop;
	const struct config *cfg;
	raft_id id;
	uint64_t cluster_id;
	struct walstore *ws;
	struct mvcc_store *store;
	struct raft *raft;
	struct peer_transport *tr;
	struct sys_timer *tick_timer;
	struct sys_timer *house_timer; /* commits, timeouts, compaction */
	struct sys_timer *auto_compact_timer;
	/* periodic auto-compaction: (time, revision) samples, oldest first */
	struct {
		uint64_t at_ms;
		mvcc_rev rev;
	} samples[AUTO_COMPACT_SAMPLES];
	size_t n_samples;
	struct event *kick_ev;
	bool in_ready;
	int error;	  /* sticky (invariant 5) */
	char *error_msg;  /* what failed where, and the fix (member_info) */
	char *store_path; /* the LMDB file, for error messages */
	bool notified_error;
	void (*on_error)(void *arg, int err);
	void *on_error_arg;
	bool stopped;
	bool published;
	bool compacting;
	bool joining;	    /* waiting for the cluster to tell us who we are */
	bool nospace;	    /* the NOSPACE alarm is active */
	bool raise_nospace; /* propose the alarm at the next kick */
	/* member_stop: leadership handed over first, then done(arg) */
	bool stopping;
	void (*stop_done)(void *arg);
	void *stop_arg;
	uint64_t stop_deadline_ms;

	raft_id leader;
	enum raft_state state;
	struct raft_hard_state hs; /* as last saved */
	raft_index applied;
	raft_index snap_index; /* the latest snapshot's */
	uint64_t ops_uncommitted;
	uint64_t request_timeout_ms;

	struct list_node all;
	struct list_node incoming;
	struct list_node reads;
	struct list_node moves;
	struct list_node waiters[WAITER_BUCKETS];
	size_t n_pending;
	uint64_t id_prefix, id_suffix;

	struct member_rec *members;
	size_t n_members;

	raft_id *unreachable;
	size_t n_unreachable;

	void (*on_revision)(void *arg, int64_t rev);
	void *on_revision_arg;
	mvcc_rev notified_rev;

	struct srvmetrics *smx; /* NULL: no registry attached */
	void (*on_leader)(void *arg, uint64_t leader);
	void *on_leader_arg;
	raft_id notified_leader;
	bool removed; /* this member's removal applied, or a peer said so */
	raft_id *removed_ids; /* members removed from the cluster */
	size_t n_removed_ids;
	/* snapshots: store copies, transfers (the snapshot section below) */
	struct list_node copies;     /* struct snapcopy (snapcopy.h) */
	struct list_node snap_sends; /* struct snap_send, one per follower */
	char *pending_db;	     /* a received store for the next Ready */
	raft_index pending_db_index;
	/* leases (member.h "Leases") */
	struct lessor *lessor;
	struct list_node lease_reqs; /* REQ_LEASE requests */
};

/* ---- ids (etcd's idutil layout: member id's low 16 bits, then time) ---- */

static uint64_t next_id(struct member *m)
{
	m->id_suffix = (m->id_suffix + 1) & ((UINT64_C(1) << 48) - 1);
	return m->id_prefix | m->id_suffix;
}

/* ---- requests ---- */

static void kick(struct member *m)
{
	if (m->kick_ev != NULL) {
		event_active(m->kick_ev, 0, 0);
	}
}

static void req_free(struct member_req *rq)
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
	if (err == -ERR_TIMEOUT || err == -ERR_STOPPED ||
	    err == -ERR_NO_LEADER || err == -ERR_LEADER_CHANGED ||
	    (rq->state == REQ_INCOMING && err < 0)) {
		srvmetrics_failed(m->smx);
	}
}

/* Answer and free rq (invariant 3). resp is borrowed. */
static void req_complete(struct member_req *rq, int err, ProtobufCMessage *resp)
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
	req_free(rq);
}

static void fail_all(struct member *m, int err)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->all)
	{
		req_complete(container_of(pos, struct member_req, all), err,
			     NULL);
	}
}

static struct list_node *bucket(struct member *m, uint64_t id)
{
	return &m->waiters[(id ^ (id >> 17)) % WAITER_BUCKETS];
}

static struct member_req *waiter_take(struct member *m, uint64_t id)
{
	struct list_node *head = bucket(m, id), *pos;

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

static int pack_msg(const ProtobufCMessage *msg, uint8_t **data, size_t *len)
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

static const ProtobufCMessageDescriptor *const op_types[MEMBER_OP_COUNT_] = {
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
			grant.id =
			    (int64_t)(next_id(rq->m) & (UINT64_MAX >> 1));
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
	return pack_msg(&ir.base, &rq->data, &rq->len);
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
	    req->descriptor != op_types[op]) {
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
	rq->id = next_id(m);
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
		rq->serializable |= op == MEMBER_OP_RANGE && FAILPOINT_BUG("local-reads");
		r = rq->proposal ? pack_proposal(rq, req)
				 : pack_msg(req, &rq->data, &rq->len);
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
	kick(m);
	return 0;
}

/* ---- local answers ---- */

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
	req_complete(rq, r, r < 0 ? NULL : &resp->base);
	if (resp != NULL) {
		apply_resp_free(&resp->base);
	}
}

static void set_str(char **dst, const char *s)
{
	*dst = (char *)(uintptr_t)(s != NULL ? s : "");
}

/*
 * Answer rq with a response of desc's type whose layout is MemberList's
 * (header, members): MemberList, MemberRemove, MemberPromote.  The members
 * are borrowed views of m->members, sorted by id (etcd: MembersByID).
 */
static void answer_members(struct member *m, struct member_req *rq,
			   const ProtobufCMessageDescriptor *desc)
{
	Etcdserverpb__MemberListResponse *resp;
	Etcdserverpb__Member *mv = NULL, **mp = NULL;

	resp = (void *)apply_resp_new(desc);
	if (resp != NULL && m->n_members > 0) {
		mv = mem_calloc(m->n_members, sizeof(*mv));
		mp = mem_calloc(m->n_members, sizeof(*mp));
	}
	if (resp == NULL || (m->n_members > 0 && (mv == NULL || mp == NULL))) {
		mem_free(mv);
		mem_free(mp);
		if (resp != NULL) {
			apply_resp_free(&resp->base);
		}
		req_complete(rq, -ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < m->n_members; i++) {
		const struct member_rec *rec = &m->members[i];
		etcdserverpb__member__init(&mv[i]);
		mv[i].id = rec->id;
		set_str(&mv[i].name, rec->name);
		mv[i].n_peerurls = rec->n_peer_urls;
		mv[i].peerurls = rec->peer_urls;
		mv[i].n_clienturls = rec->n_client_urls;
		mv[i].clienturls = rec->client_urls;
		mv[i].islearner = rec->is_learner;
		mp[i] = &mv[i];
	}
	resp->n_members = m->n_members;
	resp->members = mp;
	req_complete(rq, 0, &resp->base);
	resp->n_members = 0;
	resp->members = NULL;
	mem_free(mv);
	mem_free(mp);
	apply_resp_free(&resp->base);
}

static void serve_member_list(struct member *m, struct member_req *rq)
{
	answer_members(m, rq, &etcdserverpb__member_list_response__descriptor);
}

static void serve_status(struct member *m, struct member_req *rq)
{
	Etcdserverpb__StatusResponse *resp;
	struct member_info mi;
	int64_t size = 0, in_use = 0;

	resp =
	    (void *)apply_resp_new(&etcdserverpb__status_response__descriptor);
	if (resp == NULL) {
		req_complete(rq, -ENOMEM, NULL);
		return;
	}
	member_info(m, &mi);
	(void)mvcc_db_size(m->store, &size, &in_use);
	set_str(&resp->version, version_etcd());
	resp->dbsize = size;
	resp->dbsizeinuse = in_use;
	resp->leader = mi.leader;
	resp->raftindex = mi.commit_index;
	resp->raftterm = mi.term;
	resp->raftappliedindex = mi.applied_index;
	resp->islearner = mi.is_learner;
	req_complete(rq, 0, &resp->base);
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
		req_complete(rq, r, NULL);
		return;
	}
	resp->header->revision = hash_rev;
	resp->hash = hash;
	resp->compact_revision = compact_rev;
	req_complete(rq, 0, &resp->base);
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
		req_complete(rq, r, NULL);
		return;
	}
	resp->header->revision = rev;
	resp->hash = hash;
	req_complete(rq, 0, &resp->base);
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
		req_complete(rq, r, NULL);
		return;
	}
	m->ops_uncommitted = 0;
	resp = apply_resp_new(&etcdserverpb__defragment_response__descriptor);
	if (resp == NULL) {
		req_complete(rq, -ENOMEM, NULL);
		return;
	}
	req_complete(rq, 0, resp);
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
		req_complete(rq, -ENOMEM, NULL);
		return;
	}
	req_complete(rq, 0, resp);
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
		req_complete(rq, r, NULL);
		return;
	}
	target = ((Etcdserverpb__MoveLeaderRequest *)req)->targetid;
	proto_free(req);
	if (m->leader != m->id) {
		req_complete(rq, -ERR_NOT_LEADER, NULL);
		return;
	}
	if (!is_voter(m, target)) {
		req_complete(rq, -ERR_BAD_TRANSFEREE, NULL);
		return;
	}
	if (target != m->id) {
		r = raft_transfer_leader(m->raft, target);
		if (r < 0) {
			req_complete(rq, r, NULL);
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
		req_complete(rq, resp == NULL ? -ENOMEM : 0, resp);
		apply_resp_free(resp);
	}
}

static struct member_rec *find_rec(struct member *m, uint64_t id);

/* MemberRemove and MemberPromote: a conf change carrying the waiter id. */
/*
 * etcd compat (isLearnerReady): the leader promotes a learner only once it
 * has at least 90% of the leader's log.  A follower cannot see the
 * learner's progress; the leader's Raft takes the conf change as it comes.
 */
static bool learner_ready(struct member *m, raft_id id)
{
	const struct raft_progress *lp, *me;

	if (m->state != RAFT_LEADER) {
		return true;
	}
	lp = raft_progress_of(m->raft, id);
	me = raft_progress_of(m->raft, m->id);
	if (lp == NULL || me == NULL) {
		return false;
	}
	return (double)lp->match >= (double)me->match * 0.9;
}

static void propose_member_change(struct member *m, struct member_req *rq)
{
	Cetcdpb__Member ctx = CETCDPB__MEMBER__INIT;
	struct raft_cc_single ch;
	struct raft_conf_change cc;
	const struct member_rec *rec;
	ProtobufCMessage *req;
	uint64_t id;
	int r;

	r = proto_unpack(op_types[rq->op], rq->data, rq->len, &req);
	if (r < 0) {
		req_complete(rq, r, NULL);
		return;
	}
	switch (rq->op) {
	case MEMBER_OP_MEMBER_REMOVE:
		id = ((Etcdserverpb__MemberRemoveRequest *)req)->id;
		ch.type = RAFT_CC_REMOVE_NODE;
		break;
	case MEMBER_OP_MEMBER_UPDATE:
		id = ((Etcdserverpb__MemberUpdateRequest *)req)->id;
		ch.type = RAFT_CC_UPDATE_NODE;
		break;
	default:
		id = ((Etcdserverpb__MemberPromoteRequest *)req)->id;
		ch.type = RAFT_CC_ADD_NODE;
		break;
	}
	rec = find_rec(m, id);
	r = 0;
	if (rec == NULL) {
		r = -ERR_MEMBER_NOT_FOUND;
	} else if (rq->op == MEMBER_OP_MEMBER_PROMOTE && !rec->is_learner) {
		r = -ERR_MEMBER_NOT_LEARNER;
	} else if (rq->op == MEMBER_OP_MEMBER_PROMOTE && !learner_ready(m, id)) {
		r = -ERR_LEARNER_NOT_READY;
	} else if (rq->op == MEMBER_OP_MEMBER_UPDATE) {
		const Etcdserverpb__MemberUpdateRequest *u = (const void *)req;
		if (u->n_peerurls == 0) {
			r = -ERR_INVALID_PEER_URLS;
		}
		for (size_t i = 0; r == 0 && i < u->n_peerurls; i++) {
			char host[256];
			int port;
			if (peer_parse_url(u->peerurls[i], host, sizeof(host),
					   &port) < 0) {
				r = -ERR_INVALID_PEER_URLS;
			}
			for (size_t j = 0; r == 0 && j < m->n_members; j++) {
				const struct member_rec *o = &m->members[j];
				for (size_t k = 0;
				     o->id != id && k < o->n_peer_urls; k++) {
					if (strcmp(o->peer_urls[k],
						   u->peerurls[i]) == 0) {
						r = -ERR_PEER_URL_EXISTS;
					}
				}
			}
		}
		ctx.n_peer_urls = u->n_peerurls;
		ctx.peer_urls = u->peerurls;
	}
	if (r < 0) {
		proto_free(req);
		req_complete(rq, r, NULL);
		return;
	}
	memset(&cc, 0, sizeof(cc));
	ch.node_id = id;
	cc.transition = RAFT_CC_AUTO;
	cc.changes = &ch;
	cc.n_changes = 1;
	ctx.id = id;
	ctx.request_id = rq->id;
	mem_free(rq->data);
	rq->data = NULL;
	r = pack_msg(&ctx.base, &cc.context, &cc.context_len);
	proto_free(req); /* ctx borrowed its peer URLs */
	if (r >= 0) {
		r = raft_propose_conf_change(m->raft, &cc);
		mem_free(cc.context);
	}
	if (r < 0) {
		req_complete(
		    rq, r == -ERR_PROPOSAL_DROPPED ? -ERR_NO_LEADER : r, NULL);
		return;
	}
	list_remove(&rq->q);
	rq->state = REQ_PROPOSED;
	list_push_back(bucket(m, rq->id), &rq->q);
}

/* Whether url is one of a member's peer URLs (other than except's). */
static bool peer_url_taken(struct member *m, const char *url, uint64_t except)
{
	for (size_t j = 0; j < m->n_members; j++) {
		const struct member_rec *o = &m->members[j];
		for (size_t k = 0; o->id != except && k < o->n_peer_urls; k++) {
			if (strcmp(o->peer_urls[k], url) == 0) {
				return true;
			}
		}
	}
	return false;
}

/*
 * MemberAdd: the new member's ID as etcd derives it for a member added at
 * run time (peer URLs and the current Unix time), proposed as a conf
 * change whose context carries its peer URLs; the new member learns the
 * ID from the first stream this cluster opens to it.
 */
static void propose_member_add(struct member *m, struct member_req *rq)
{
	Cetcdpb__Member ctx = CETCDPB__MEMBER__INIT;
	const Etcdserverpb__MemberAddRequest *a;
	struct raft_cc_single ch;
	struct raft_conf_change cc;
	ProtobufCMessage *req;
	size_t learners = 0;
	uint64_t id = 0;
	int r;

	r = proto_unpack(op_types[rq->op], rq->data, rq->len, &req);
	if (r < 0) {
		req_complete(rq, r, NULL);
		return;
	}
	a = (const void *)req;
	r = a->n_peerurls == 0 ? -ERR_INVALID_PEER_URLS : 0;
	for (size_t i = 0; r == 0 && i < a->n_peerurls; i++) {
		char host[256];
		int port;
		if (peer_parse_url(a->peerurls[i], host, sizeof(host), &port) <
		    0) {
			r = -ERR_INVALID_PEER_URLS;
		} else if (peer_url_taken(m, a->peerurls[i], 0)) {
			r = -ERR_PEER_URL_EXISTS;
		}
	}
	for (size_t i = 0; i < m->n_members; i++) {
		learners += m->members[i].is_learner;
	}
	/* etcd compat: at most one learner. */
	if (r == 0 && a->islearner && learners >= 1) {
		r = -ERR_TOO_MANY_LEARNERS;
	}
	if (r == 0) {
		r = ids_member_id((const char *const *)a->peerurls,
				  a->n_peerurls, "", (long long)time(NULL),
				  &id);
	}
	if (r == 0 && find_rec(m, id) != NULL) {
		r = -ERR_MEMBER_EXISTS;
	}
	if (r < 0) {
		proto_free(req);
		req_complete(rq, r, NULL);
		return;
	}
	memset(&cc, 0, sizeof(cc));
	ch.type = a->islearner ? RAFT_CC_ADD_LEARNER : RAFT_CC_ADD_NODE;
	ch.node_id = id;
	cc.changes = &ch;
	cc.n_changes = 1;
	ctx.id = id;
	ctx.n_peer_urls = a->n_peerurls;
	ctx.peer_urls = a->peerurls;
	ctx.is_learner = a->islearner;
	ctx.request_id = rq->id;
	mem_free(rq->data);
	rq->data = NULL;
	rq->read_index = id; /* the new member, for the answer */
	r = pack_msg(&ctx.base, &cc.context, &cc.context_len);
	proto_free(req);
	if (r >= 0) {
		r = raft_propose_conf_change(m->raft, &cc);
		mem_free(cc.context);
	}
	if (r < 0) {
		req_complete(
		    rq, r == -ERR_PROPOSAL_DROPPED ? -ERR_NO_LEADER : r, NULL);
		return;
	}
	list_remove(&rq->q);
	rq->state = REQ_PROPOSED;
	list_push_back(bucket(m, rq->id), &rq->q);
}

/* MemberAdd's answer: the new member and the whole membership. */
static void answer_member_add(struct member *m, struct member_req *rq)
{
	Etcdserverpb__MemberAddResponse *resp;
	Etcdserverpb__Member *mv = NULL, **mp = NULL;
	size_t n = m->n_members;

	resp = (void *)apply_resp_new(
	    &etcdserverpb__member_add_response__descriptor);
	if (resp != NULL && n > 0) {
		mv = mem_calloc(n, sizeof(*mv));
		mp = mem_calloc(n, sizeof(*mp));
	}
	if (resp == NULL || n == 0 || mv == NULL || mp == NULL) {
		mem_free(mv);
		mem_free(mp);
		if (resp != NULL) {
			apply_resp_free(&resp->base);
		}
		req_complete(rq, -ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct member_rec *rec = &m->members[i];
		etcdserverpb__member__init(&mv[i]);
		mv[i].id = rec->id;
		set_str(&mv[i].name, rec->name);
		mv[i].n_peerurls = rec->n_peer_urls;
		mv[i].peerurls = rec->peer_urls;
		mv[i].n_clienturls = rec->n_client_urls;
		mv[i].clienturls = rec->client_urls;
		mv[i].islearner = rec->is_learner;
		mp[i] = &mv[i];
		if (rec->id == rq->read_index) {
			resp->member = &mv[i];
		}
	}
	resp->n_members = n;
	resp->members = mp;
	req_complete(rq, 0, &resp->base);
	resp->member = NULL;
	resp->n_members = 0;
	resp->members = NULL;
	mem_free(mv);
	mem_free(mp);
	apply_resp_free(&resp->base);
}

/* ---- the kick: hand queued requests to Raft, then run the Ready cycle ---- */

static void encode_u64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t decode_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

static int check_raft(struct member *m, int r, const char *what);

/* ---- leases (member.h "Leases"; the table is server/lessor.h) ---- */

/*
 * Forwarded lease requests travel on the Raft peer streams, told apart by
 * their first byte: 0xff is never the first byte of a raftpb.Message (it
 * would be a field tag of wire type 7, which does not exist).  Layout:
 * 0xff, a kind, the asking member's request id (8 bytes big-endian), then
 * the packed request or response.
 */
#define LEASE_PEER_MAGIC 0xff
#define LEASE_PEER_HDR 10
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
	r = proto_unpack(op_types[op], data, len, &req);
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

static int lease_send(struct member *m, raft_id to, uint8_t kind, uint64_t id,
		      const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *p = mem_alloc(LEASE_PEER_HDR + n);
	int r;

	if (p == NULL) {
		return -ENOMEM;
	}
	p[0] = LEASE_PEER_MAGIC;
	p[1] = kind;
	encode_u64(p + 2, id);
	protobuf_c_message_pack(msg, p + LEASE_PEER_HDR);
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
		req_complete(rq, r, resp);
		lease_resp_free(resp);
		return;
	}
	if (m->leader == RAFT_NONE ||
	    (rq->asked_ms != 0 &&
	     rq->asked_ms + LEASE_FORWARD_RETRY_MS > now)) {
		return;
	}
	rq->asked_ms = now;
	if (proto_unpack(op_types[rq->op], rq->data, rq->len, &req) < 0) {
		return;
	}
	(void)lease_send(m, m->leader,
			 rq->op == MEMBER_OP_LEASE_KEEPALIVE
			     ? LEASE_PEER_KEEPALIVE
			     : LEASE_PEER_TIMETOLIVE,
			 rq->id, req);
	proto_free(req);
}

/* A KeepAlive or TimeToLive from take_incoming. */
static void lease_start(struct member *m, struct member_req *rq)
{
	list_remove(&rq->q);
	rq->state = REQ_LEASE;
	rq->asked_ms = 0;
	list_push_back(&m->lease_reqs, &rq->q);
	lease_try(m, rq, timeutil_mono_ms());
}

static void serve_lease_leases(struct member *m, struct member_req *rq)
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
		req_complete(rq, r, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		etcdserverpb__lease_status__init(&sv[i]);
		sv[i].id = ids[i];
		sp[i] = &sv[i];
	}
	resp->n_leases = n;
	resp->leases = sp;
	req_complete(rq, 0, &resp->base);
	resp->n_leases = 0;
	resp->leases = NULL;
	mem_free(sv);
	mem_free(sp);
	mem_free(ids);
	apply_resp_free(&resp->base);
}

/* A forwarded request (leader side) or its answer (follower side). */
static void lease_on_peer(struct member *m, raft_id from, const uint8_t *data,
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
		(void)lease_send(m, from, kind | LEASE_PEER_REPLY, id, resp);
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
		req_complete(rq, 0, resp);
		proto_free(resp);
		return;
	}
}

/* Apply a LeaseGrant or LeaseRevoke entry. */
static int lease_apply(struct member *m, const Cetcdpb__InternalRequest *ir,
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
static void lease_on_empty_entry(struct member *m, const struct raft_entry *e)
{
	if (m->state == RAFT_LEADER && e->term == m->hs.term &&
	    !lessor_is_primary(m->lessor)) {
		lessor_promote(m->lessor, timeutil_mono_ms(),
			       m->cfg->election_ms);
	}
}

static void lease_on_soft_state(struct member *m,
				const struct raft_soft_state *ss)
{
	if (ss->state != RAFT_LEADER && lessor_is_primary(m->lessor)) {
		lessor_demote(m->lessor);
	}
}

/* The house tick: pending lease requests, and the leader's expiry. */
static void lease_tick(struct member *m, uint64_t now)
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
		ir.id = next_id(m);
		ir.request_case =
		    CETCDPB__INTERNAL_REQUEST__REQUEST_LEASE_REVOKE;
		ir.lease_revoke = &rv;
		if (pack_msg(&ir.base, &data, &len) < 0) {
			break;
		}
		/* A refused proposal is retried after the lessor's retry
		 * interval. */
		if (check_raft(m, raft_propose(m->raft, data, len),
			       "raft propose") >= 0) {
			log_debug("member %016" PRIx64 ": lease %016" PRIx64
				  " expired",
				  m->id, (uint64_t)ids[i]);
		}
		mem_free(data);
	}
	if (n > 0) {
		kick(m);
	}
}

static void take_incoming(struct member *m)
{
	struct list_node *pos, *tmp;
	uint64_t round = 0;
	int r;

	list_for_each_safe(pos, tmp, &m->incoming)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);

		if (rq->err != 0) {
			req_complete(rq, rq->err, NULL);
			continue;
		}
		if (rq->proposal) {
			r = check_raft(m,
				       raft_propose(m->raft, rq->data, rq->len),
				       "raft propose");
			if (r < 0) {
				req_complete(rq,
					     r == -ERR_PROPOSAL_DROPPED
						 ? -ERR_NO_LEADER
						 : r,
					     NULL);
				continue;
			}
			list_remove(&rq->q);
			rq->state = REQ_PROPOSED;
			srvmetrics_pending(m->smx, 1);
			list_push_back(bucket(m, rq->id), &rq->q);
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
				round = next_id(m);
				encode_u64(ctx, round);
				r = check_raft(
				    m,
				    raft_read_index(m->raft, ctx, sizeof(ctx)),
				    "raft read index");
				if (r < 0) {
					round = 0;
					req_complete(rq,
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
			serve_member_list(m, rq);
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
			lease_start(m, rq);
			break;
		case MEMBER_OP_LEASE_LEASES:
			serve_lease_leases(m, rq);
			break;
		case MEMBER_OP_MEMBER_ADD:
			propose_member_add(m, rq);
			break;
		case MEMBER_OP_MEMBER_REMOVE:
		case MEMBER_OP_MEMBER_UPDATE:
		case MEMBER_OP_MEMBER_PROMOTE:
			propose_member_change(m, rq);
			break;
		default:
			req_complete(rq, -ERR_NOT_SUPPORTED, NULL);
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
		kick(m);
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

/* *errmsg (mem_free) = the formatted text; left NULL on -ENOMEM. */
static int errmsgf(char **errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * The first sticky error stops the member (invariant 5): logged once here,
 * kept for member_info() and told to member_on_error's callback from the
 * loop.  file is the file the error came from, or NULL: a write that failed
 * for want of space names the filesystem, its free space and the fix
 * (diskspace.h), as the operator needs it; a full disk is never mistaken
 * for the NOSPACE alarm, which is the quota and does not stop the member.
 */
static void fail_at(struct member *m, int err, const char *what,
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
	if (msg == NULL && file != NULL) {
		errmsgf(&msg, "%s failed on %s: %s", what, file, err_str(err));
	}
	if (msg == NULL) {
		errmsgf(&msg, "%s: %s", what, err_str(err));
	}
	m->error_msg = msg;
	log_error("member %016" PRIx64 ": %s; the member stops", m->id,
		  msg != NULL ? msg : err_str(err));
	kick(m); /* tells member_on_error's callback from the loop */
}

static void fail(struct member *m, int err, const char *what)
{
	fail_at(m, err, what, NULL);
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
static const char *store_file(struct member *m)
{
	if (m->store_path == NULL) {
		errmsgf(&m->store_path, "%s/data.mdb", m->cfg->snap_dir);
	}
	return m->store_path != NULL ? m->store_path : m->cfg->snap_dir;
}

/* A snapshot writes the snapshot file, then the WAL's marker. */
static const char *snap_file(struct member *m)
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
static int check_raft(struct member *m, int r, const char *what)
{
	if (r < 0 && r != -ERR_NO_LEADER && r != -ERR_PROPOSAL_DROPPED &&
	    r != -ERR_INVALID) {
		fail(m, r, what);
	}
	return r;
}

static void note_unreachable(struct member *m, raft_id to)
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

static void snap_send_start(struct member *m, const struct raft_message *msg);

static void send_messages(struct member *m, const struct raft_ready *rd)
{
	for (size_t i = 0; i < rd->n_messages; i++) {
		const struct raft_message *msg = &rd->messages[i];
		uint8_t *data;
		size_t len;

		if (msg->to == m->id) {
			continue;
		}
		if (msg->type == RAFT_MSG_SNAP) {
			snap_send_start(m, msg); /* with the store, on its own */
			continue;
		}
		if (raftmsg_encode(msg, &data, &len) < 0) {
			note_unreachable(m, msg->to);
			continue;
		}
		if (peer_transport_send(m->tr, msg->to, data, len) < 0) {
			note_unreachable(m, msg->to);
		} else {
			srvmetrics_sent(m->smx, msg->to, (int)msg->type, len,
					timeutil_mono_ns());
		}
		mem_free(data);
	}
}

/* ---- membership ---- */

static void rec_done(struct member_rec *r)
{
	for (size_t i = 0; i < r->n_peer_urls; i++) {
		mem_free(r->peer_urls[i]);
	}
	for (size_t i = 0; i < r->n_client_urls; i++) {
		mem_free(r->client_urls[i]);
	}
	mem_free(r->peer_urls);
	mem_free(r->client_urls);
	mem_free(r->name);
	memset(r, 0, sizeof(*r));
}

static struct member_rec *find_rec(struct member *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_members; i++) {
		if (m->members[i].id == id) {
			return &m->members[i];
		}
	}
	return NULL;
}

static int dup_strv(char ***dst, size_t *n_dst, char *const *src, size_t n)
{
	char **v = NULL;

	if (n > 0) {
		v = mem_calloc(n, sizeof(*v));
		if (v == NULL) {
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		v[i] = mem_strdup(src[i]);
		if (v[i] == NULL) {
			while (i-- > 0) {
				mem_free(v[i]);
			}
			mem_free(v);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < *n_dst; i++) {
		mem_free((*dst)[i]);
	}
	mem_free(*dst);
	*dst = v;
	*n_dst = n;
	return 0;
}

/* Add or update the record of member id (kept sorted by id). */
static struct member_rec *upsert_rec(struct member *m, uint64_t id)
{
	struct member_rec *r = find_rec(m, id), *v;
	size_t at;

	if (r != NULL) {
		return r;
	}
	v = mem_realloc(m->members, (m->n_members + 1) * sizeof(*v));
	if (v == NULL) {
		return NULL;
	}
	m->members = v;
	for (at = 0; at < m->n_members && v[at].id < id; at++) {
	}
	memmove(&v[at + 1], &v[at], (m->n_members - at) * sizeof(*v));
	memset(&v[at], 0, sizeof(*v));
	v[at].id = id;
	m->n_members++;
	return &v[at];
}

static void remove_rec(struct member *m, uint64_t id)
{
	struct member_rec *r = find_rec(m, id);
	size_t at;

	if (r == NULL) {
		return;
	}
	at = (size_t)(r - m->members);
	rec_done(r);
	memmove(&m->members[at], &m->members[at + 1],
		(m->n_members - at - 1) * sizeof(*r));
	m->n_members--;
}

/* A conf change's context names the member (cetcdpb.Member). */
static int apply_member_context(struct member *m, uint64_t node,
				const uint8_t *ctx, size_t len, bool learner)
{
	ProtobufCMessage *pm = NULL;
	Cetcdpb__Member *cm;
	struct member_rec *rec;
	int r;

	rec = upsert_rec(m, node);
	if (rec == NULL) {
		return -ENOMEM;
	}
	rec->is_learner = learner;
	if (len == 0 ||
	    proto_unpack(&cetcdpb__member__descriptor, ctx, len, &pm) < 0) {
		return 0;
	}
	cm = (Cetcdpb__Member *)pm;
	r = 0;
	if (cm->name[0] != '\0') {
		char *n = mem_strdup(cm->name);
		if (n == NULL) {
			r = -ENOMEM;
		} else {
			mem_free(rec->name);
			rec->name = n;
		}
	}
	if (r >= 0 && cm->n_peer_urls > 0) {
		r = dup_strv(&rec->peer_urls, &rec->n_peer_urls, cm->peer_urls,
			     cm->n_peer_urls);
	}
	if (r >= 0 && cm->n_client_urls > 0) {
		r = dup_strv(&rec->client_urls, &rec->n_client_urls,
			     cm->client_urls, cm->n_client_urls);
	}
	if (r >= 0 && node != m->id && rec->n_peer_urls > 0) {
		r = peer_transport_add(m->tr, node,
				       (const char *const *)rec->peer_urls,
				       rec->n_peer_urls);
	}
	proto_free(pm);
	return r;
}

/* The member that proposed a membership change answers its client. */
static void answer_conf_waiter(struct member *m,
			       const struct raft_conf_change *cc)
{
	ProtobufCMessage *pm;
	struct member_req *rq;
	uint64_t rid;

	if (cc->context_len == 0 ||
	    proto_unpack(&cetcdpb__member__descriptor, cc->context,
			 cc->context_len, &pm) < 0) {
		return;
	}
	rid = ((Cetcdpb__Member *)pm)->request_id;
	proto_free(pm);
	rq = rid != 0 ? waiter_take(m, rid) : NULL;
	if (rq == NULL) {
		return;
	}
	if (rq->op == MEMBER_OP_MEMBER_ADD) {
		answer_member_add(m, rq);
	} else if (rq->op == MEMBER_OP_MEMBER_REMOVE) {
		answer_members(
		    m, rq, &etcdserverpb__member_remove_response__descriptor);
	} else if (rq->op == MEMBER_OP_MEMBER_UPDATE) {
		answer_members(
		    m, rq, &etcdserverpb__member_update_response__descriptor);
	} else {
		answer_members(
		    m, rq, &etcdserverpb__member_promote_response__descriptor);
	}
}

/*
 * ---- removed members ----
 * etcd compat (membership's removed set, kept in the backend): peers
 * refuse the streams of a removed member (transport.h, is_removed), which
 * is how a member removed while it was cut off, or before it applied its
 * own removal, learns it and stops.  One aux record per removed ID, in
 * the conf entry's own transaction.
 */
#define REMOVED_PREFIX "removed/"

static bool is_removed_id(const struct member *m, raft_id id)
{
	for (size_t i = 0; i < m->n_removed_ids; i++) {
		if (m->removed_ids[i] == id) {
			return true;
		}
	}
	return false;
}

static void remember_removed_id(struct member *m, raft_id id)
{
	raft_id *v;

	if (is_removed_id(m, id)) {
		return;
	}
	v = mem_realloc(m->removed_ids,
			(m->n_removed_ids + 1) * sizeof(*m->removed_ids));
	if (v == NULL) {
		return; /* the peer is only not refused: Raft ignores it */
	}
	m->removed_ids = v;
	m->removed_ids[m->n_removed_ids++] = id;
}

static void note_removed_id(struct member *m, raft_id id)
{
	char key[sizeof(REMOVED_PREFIX) + IDS_HEX_LEN];

	remember_removed_id(m, id);
	snprintf(key, sizeof(key), REMOVED_PREFIX "%016" PRIx64, id);
	(void)mvcc_aux_put(m->store, key, strlen(key), "", 0);
}

static int removed_found(void *arg, const void *key, size_t key_len,
			 const void *val, size_t val_len)
{
	char hex[IDS_HEX_LEN];
	size_t n = key_len - (sizeof(REMOVED_PREFIX) - 1);

	(void)val;
	(void)val_len;
	if (n == 0 || n >= sizeof(hex)) {
		return 0;
	}
	memcpy(hex, (const char *)key + sizeof(REMOVED_PREFIX) - 1, n);
	hex[n] = '\0';
	remember_removed_id(arg, strtoull(hex, NULL, 16));
	return 0;
}

static int restore_removed(struct member *m)
{
	int r = mvcc_aux_scan(m->store, REMOVED_PREFIX, strlen(REMOVED_PREFIX),
			      removed_found, m);

	return r < 0 ? r : 0;
}

static bool peer_is_removed(void *arg, raft_id from)
{
	return is_removed_id(arg, from);
}

static void on_removed_by_peer(void *arg, raft_id by)
{
	struct member *m = arg;

	if (!m->removed) {
		log_notice("member %016" PRIx64 ": peer %016" PRIx64
			   " says this member was removed from the cluster",
			   m->id, by);
	}
	m->removed = true;
}

static int apply_conf_entry(struct member *m, const struct raft_entry *e)
{
	struct raft_conf_change cc;
	bool learner;
	int r;

	r = raft_conf_change_decode(e, &cc);
	if (r < 0) {
		log_warn("member: entry %" PRIu64
			 ": undecodable conf change: %s",
			 e->index, err_str(r));
		return 0;
	}
	r = raft_apply_conf_change(m->raft, &cc, NULL);
	if (r == -ERR_INVALID) {
		raft_conf_change_done(&cc);
		return 0; /* ignored by every member alike */
	}
	for (size_t i = 0; r >= 0 && i < cc.n_changes; i++) {
		const struct raft_cc_single *c = &cc.changes[i];
		if (c->node_id == m->id && c->type == RAFT_CC_REMOVE_NODE) {
			log_notice("member %016" PRIx64 ": removed from the "
				   "cluster",
				   m->id);
			m->removed = true;
		}
		switch (c->type) {
		case RAFT_CC_ADD_NODE:
		case RAFT_CC_ADD_LEARNER:
		case RAFT_CC_UPDATE_NODE:
			/* An update keeps the member's role. */
			learner = c->type == RAFT_CC_ADD_LEARNER;
			if (c->type == RAFT_CC_UPDATE_NODE) {
				const struct member_rec *rec =
				    find_rec(m, c->node_id);
				learner = rec != NULL && rec->is_learner;
			}
			r = apply_member_context(m, c->node_id, cc.context,
						 cc.context_len, learner);
			break;
		case RAFT_CC_REMOVE_NODE:
			remove_rec(m, c->node_id);
			if (c->node_id != m->id) {
				peer_transport_remove(m->tr, c->node_id);
				note_removed_id(m, c->node_id);
			}
			break;
		}
	}
	if (r >= 0) {
		answer_conf_waiter(m, &cc);
	}
	raft_conf_change_done(&cc);
	return r;
}

/* ---- apply ---- */

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
		r = lease_apply(m, ir, resp);
		break;
	default:
		r = -ERR_NOT_SUPPORTED;
		break;
	}
	return r;
}

static void apply_attributes(struct member *m, const Cetcdpb__Member *a)
{
	struct member_rec *rec = find_rec(m, a->id);

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
	(void)dup_strv(&rec->client_urls, &rec->n_client_urls, a->client_urls,
		       a->n_client_urls);
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
static int restore_alarms(struct member *m)
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
		lease_on_empty_entry(m, e);
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
		rq = waiter_take(m, ir->id);
		if (rq != NULL) {
			Etcdserverpb__AlarmMember am, *amp[1];
			resp = alarm_response(m, &am, amp);
			req_complete(rq, resp == NULL ? -ENOMEM : 0, resp);
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
	rq = waiter_take(m, ir->id);
	if (rq != NULL) {
		req_complete(rq, skip ? -ERR_STOPPED : r, resp);
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
			r = apply_conf_entry(m, e);
		}
		if (r < 0) {
			return r;
		}
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
	lease_on_soft_state(m, ss);
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
				req_complete(rq, -ERR_LEADER_CHANGED, NULL);
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

/* mvcc_commit, timed for etcd_disk_backend_commit_duration_seconds. */
static int commit_store(struct member *m)
{
	uint64_t t0 = timeutil_mono_ns();
	int r = mvcc_commit(m->store);

	if (r >= 0) {
		srvmetrics_backend_commit(m->smx, timeutil_mono_ns() - t0);
	}
	return r;
}
static int install_snapshot(struct member *m, const struct raft_snapshot *snap);

static void run_ready(struct member *m)
{
	struct raft_ready rd;
	bool leader, early;
	int r;

	r = raft_ready(m->raft, &rd);
	if (r < 0) {
		fail(m, r, "raft");
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
		send_messages(m, &rd);
	}
	if (rd.snapshot.meta.index != 0) {
		/* Step 2 begins with the snapshot: store, then WAL. */
		r = install_snapshot(m, &rd.snapshot);
		if (r < 0) {
			fail_at(m, r, "installing a snapshot from the leader",
				snap_file(m));
			m->in_ready = false;
			return;
		}
	}
	/* Step 2: one write and one fdatasync for the whole batch. */
	if (rd.n_entries > 0 || rd.has_hard_state) {
		r = save_wal(m, &rd);
		if (r < 0) {
			fail_at(m, r, wal_what(m), wal_file(m));
			m->in_ready = false;
			return;
		}
		if (rd.has_hard_state) {
			m->hs = rd.hard_state;
		}
	}
	if (!early) {
		send_messages(m, &rd);
	}
	if (rd.has_soft_state) {
		on_soft_state(m, &rd.soft_state);
	}
	/* Step 4: apply, answer waiters, match read states. */
	r = apply_entries(m, rd.committed_entries, rd.n_committed_entries);
	if (r < 0) {
		fail_at(m, r, "applying committed entries", store_file(m));
		m->in_ready = false;
		return;
	}
	match_read_states(m, &rd);
	r = raft_advance(m->raft, &rd);
	m->in_ready = false;
	if (r < 0) {
		fail(m, r, "raft advance");
		return;
	}
	for (size_t i = 0; i < m->n_unreachable; i++) {
		check_raft(m,
			   raft_report_unreachable(m->raft, m->unreachable[i]),
			   "raft, reporting an unreachable peer");
	}
	m->n_unreachable = 0;
	if (m->ops_uncommitted >= COMMIT_MAX_OPS) {
		r = commit_store(m);
		if (r < 0) {
			fail_at(m, r, "committing the store", store_file(m));
			return;
		}
		m->ops_uncommitted = 0;
	}
}

/* ---- snapshots ---- */

/* The membership as a snapshot carries it (cetcdpb.Membership). */
static int pack_membership(struct member *m, uint8_t **data, size_t *len)
{
	Cetcdpb__Membership ms = CETCDPB__MEMBERSHIP__INIT;
	Cetcdpb__Member *mv = NULL, **mp = NULL;
	int r;

	if (m->n_members > 0) {
		mv = mem_calloc(m->n_members, sizeof(*mv));
		mp = mem_calloc(m->n_members, sizeof(*mp));
		if (mv == NULL || mp == NULL) {
			mem_free(mv);
			mem_free(mp);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < m->n_members; i++) {
		const struct member_rec *rec = &m->members[i];
		cetcdpb__member__init(&mv[i]);
		mv[i].id = rec->id;
		set_str(&mv[i].name, rec->name);
		mv[i].n_peer_urls = rec->n_peer_urls;
		mv[i].peer_urls = rec->peer_urls;
		mv[i].n_client_urls = rec->n_client_urls;
		mv[i].client_urls = rec->client_urls;
		mv[i].is_learner = rec->is_learner;
		mp[i] = &mv[i];
	}
	ms.n_members = m->n_members;
	ms.members = mp;
	r = pack_msg(&ms.base, data, len);
	mem_free(mv);
	mem_free(mp);
	return r;
}

/* Rebuild the membership from a snapshot's data (restart). */
static int restore_membership(struct member *m, const uint8_t *data, size_t len)
{
	ProtobufCMessage *pm;
	Cetcdpb__Membership *ms;
	int r;

	if (len == 0) {
		return 0;
	}
	r = proto_unpack(&cetcdpb__membership__descriptor, data, len, &pm);
	if (r < 0) {
		return r;
	}
	ms = (Cetcdpb__Membership *)pm;
	for (size_t i = 0; r >= 0 && i < ms->n_members; i++) {
		const Cetcdpb__Member *cm = ms->members[i];
		struct member_rec *rec = upsert_rec(m, cm->id);

		if (rec == NULL) {
			r = -ENOMEM;
			break;
		}
		rec->is_learner = cm->is_learner;
		if (cm->name[0] != '\0') {
			mem_free(rec->name);
			rec->name = mem_strdup(cm->name);
			if (rec->name == NULL) {
				r = -ENOMEM;
				break;
			}
		}
		r = dup_strv(&rec->peer_urls, &rec->n_peer_urls, cm->peer_urls,
			     cm->n_peer_urls);
		if (r >= 0) {
			r = dup_strv(&rec->client_urls, &rec->n_client_urls,
				     cm->client_urls, cm->n_client_urls);
		}
		if (r >= 0 && cm->id != m->id && rec->n_peer_urls > 0) {
			r = peer_transport_add(
			    m->tr, cm->id, (const char *const *)rec->peer_urls,
			    rec->n_peer_urls);
		}
	}
	proto_free(pm);
	return r;
}

/*
 * Every snapshot-count applied entries: commit the store (the snapshot
 * must not cover writes the store could lose), write a snapshot of the
 * membership at the applied index, then release WAL segments and memory
 * behind it, keeping SNAPSHOT_CATCHUP_ENTRIES for slow followers.
 */
static raft_index catchup_entries(const struct member *m)
{
	/* etcd compat: --experimental-snapshot-catchup-entries (0: 5000). */
	return m->cfg->snapshot_catchup_entries > 0
		   ? m->cfg->snapshot_catchup_entries
		   : SNAPSHOT_CATCHUP_ENTRIES;
}

static void maybe_snapshot(struct member *m)
{
	uint8_t *data = NULL;
	size_t len = 0;
	raft_index keep_from;
	int r;

	if (m->applied < m->snap_index + m->cfg->snapshot_count ||
	    m->applied == 0) {
		return;
	}
	r = mvcc_commit(m->store);
	if (r < 0) {
		fail_at(m, r, "committing the store before a snapshot",
			store_file(m));
		return;
	}
	m->ops_uncommitted = 0;
	r = pack_membership(m, &data, &len);
	if (r >= 0) {
		r = walstore_create_snapshot(m->ws, m->applied,
					     raft_conf(m->raft), data, len);
	}
	mem_free(data);
	if (r < 0) {
		fail_at(m, r, "writing a snapshot", snap_file(m));
		return;
	}
	m->snap_index = m->applied;
	keep_from = m->applied > catchup_entries(m)
			? m->applied - catchup_entries(m)
			: 0;
	r = walstore_compact(m->ws, keep_from, SNAPSHOTS_KEPT);
	if (r < 0) {
		log_warn("member: releasing the WAL behind snapshot %" PRIu64
			 ": %s",
			 m->snap_index, err_str(r));
	}
	log_info("member %016" PRIx64 ": snapshot at index %" PRIu64, m->id,
		 m->snap_index);
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
	ir.id = next_id(m);
	ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_ATTRIBUTES;
	ir.attributes = &a;
	if (pack_msg(&ir.base, &data, &len) >= 0) {
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
	ir.id = next_id(m);
	ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_ALARM;
	ir.alarm = &a;
	if (pack_msg(&ir.base, &data, &len) >= 0) {
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
			kick(m);
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
static void snap_drop_pending(struct member *m);

static void kick_cb(evutil_socket_t fd, short what, void *arg)
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
	take_incoming(m);
	maybe_publish(m);
	maybe_raise_nospace(m);
	if (raft_has_ready(m->raft)) {
		run_ready(m);
		snap_drop_pending(m);
		if (m->error != 0) {
			fail_all(m, m->error);
			return;
		}
		maybe_campaign_alone(m);
		maybe_snapshot(m);
		if (m->error != 0) {
			fail_all(m, m->error);
			return;
		}
		if (raft_has_ready(m->raft)) {
			kick(m);
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

static void tick_cb(struct sys_timer *t, void *arg)
{
	struct member *m = arg;

	(void)t;
	if (m->error != 0 || m->stopped || m->raft == NULL) {
		return;
	}
	/* Every raft call returns a sticky error again: one check per tick
	 * catches those of the calls whose result is not looked at. */
	check_raft(m, raft_tick(m->raft), "raft tick");
	kick(m);
}

static void house_cb(struct sys_timer *t, void *arg)
{
	struct member *m = arg;
	uint64_t now = timeutil_mono_ms();
	struct list_node *pos, *tmp;
	int r;

	(void)t;
	if (m->stopping) {
		kick(m);
	}
	if (m->error == 0 && m->ops_uncommitted > 0) {
		r = commit_store(m);
		if (r < 0) {
			fail_at(m, r, "committing the store", store_file(m));
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
		lease_tick(m, now);
	}
	/* Invariant 2: the oldest request expires first. */
	list_for_each_safe(pos, tmp, &m->all)
	{
		struct member_req *rq =
		    container_of(pos, struct member_req, all);
		if (rq->deadline_ms > now) {
			break;
		}
		req_complete(
		    rq, m->leader == RAFT_NONE ? -ERR_NO_LEADER : -ERR_TIMEOUT,
		    NULL);
	}
}

/* ---- auto-compaction (leader only; the compaction goes through Raft) ---- */

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
	ir.id = next_id(m);
	ir.request_case = CETCDPB__INTERNAL_REQUEST__REQUEST_COMPACTION;
	ir.compaction = &c;
	if (pack_msg(&ir.base, &data, &len) >= 0) {
		if (raft_propose(m->raft, data, len) >= 0) {
			log_info("member %016" PRIx64 ": auto-compaction to "
				 "revision %" PRId64,
				 m->id, (int64_t)rev);
			kick(m);
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

static int start_auto_compaction(struct member *m)
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

/* ---- bootstrap ---- */

static int errmsgf(char **errmsg, const char *fmt, ...)
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

static int mkdir_p(const char *path)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		return -ENAMETOOLONG;
	}
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] == '/' || buf[i] == '\0') {
			char c = buf[i];
			buf[i] = '\0';
			if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
				return -errno;
			}
			buf[i] = c;
		}
	}
	return 0;
}

static bool file_exists(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/*
 * A new cluster's log: one ConfChange (AddNode, context = the member's
 * name and peer URLs) per initial member at term 1, all committed, as
 * etcd's raft bootstrap writes it.  Every member of a new cluster writes
 * the same entries, so their logs agree from the start.
 */
static int bootstrap_log(struct member *m)
{
	const struct config *c = m->cfg;
	struct raft_entry *ents;
	struct raft_hard_state hs = {1, RAFT_NONE, c->n_members};
	int r = 0;

	ents = mem_calloc(c->n_members, sizeof(*ents));
	if (ents == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_members && r >= 0; i++) {
		const struct config_member *cm = &c->members[i];
		Raftpb__ConfChange cc = RAFTPB__CONF_CHANGE__INIT;
		Cetcdpb__Member pm = CETCDPB__MEMBER__INIT;
		char **urls = mem_calloc(cm->peer_urls.n + 1, sizeof(*urls));

		if (urls == NULL) {
			r = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < cm->peer_urls.n; j++) {
			urls[j] = cm->peer_urls.v[j].url;
		}
		pm.id = cm->id;
		pm.name = cm->name;
		pm.n_peer_urls = cm->peer_urls.n;
		pm.peer_urls = urls;
		r = pack_msg(&pm.base, &cc.context.data, &cc.context.len);
		mem_free(urls);
		if (r < 0) {
			break;
		}
		cc.type = RAFTPB__CONF_CHANGE_TYPE__ConfChangeAddNode;
		cc.node_id = cm->id;
		ents[i].term = 1;
		ents[i].index = i + 1;
		ents[i].type = RAFT_ENTRY_CONF_CHANGE;
		r = pack_msg(&cc.base, &ents[i].data, &ents[i].len);
		mem_free(cc.context.data);
	}
	if (r >= 0) {
		r = walstore_save(m->ws, &hs, ents, c->n_members);
	}
	raft_entries_free(ents, c->n_members);
	return r;
}

static int open_storage(struct member *m, raft_index *snap_index, char **errmsg)
{
	const struct config *c = m->cfg;
	struct walstore_options wo = {c->wal_path, c->snap_dir, 0};
	/* A joining member's IDs come from the cluster (on_identity). */
	struct wal_metadata md = {m->joining ? m->id : c->member_id,
				  m->joining ? m->cluster_id : c->cluster_id},
			    got;
	struct walstore_report rep;
	struct mvcc_options mo = {c->quota_backend_bytes, 0};
	struct raft_storage st;
	raft_index last = 0;
	char a[IDS_HEX_LEN], b[IDS_HEX_LEN], x[IDS_HEX_LEN], y[IDS_HEX_LEN];
	int r;

	r = mkdir_p(c->snap_dir);
	if (r < 0) {
		errmsgf(errmsg,
			"cannot create data dir %s: %s (check --data-dir "
			"and its permissions)",
			c->snap_dir, strerror(-r));
		return r;
	}
	if (file_exists(c->snap_dir, "db") &&
	    !file_exists(c->snap_dir, "data.mdb")) {
		errmsgf(errmsg,
			"data dir %s holds an etcd (bbolt) store, not "
			"a cetcd one (use another --data-dir; etcd data "
			"dirs cannot be converted yet)",
			c->data_dir);
		return -ERR_CONFIG;
	}
	r = walstore_open(&wo, &md, &m->ws, &got, &rep);
	if (r < 0) {
		if (r == -EBUSY) {
			errmsgf(errmsg,
				"data dir %s is in use by another "
				"process (%s; stop the other member or "
				"use another --data-dir)",
				c->data_dir, rep.msg);
		} else {
			errmsgf(errmsg, "cannot open the WAL in %s: %s",
				c->wal_path, rep.msg[0] ? rep.msg : err_str(r));
		}
		return r;
	}
	if (rep.repaired) {
		log_warn("wal: torn tail of %s cut at offset %" PRIu64
			 " (the original kept as .broken)",
			 rep.repaired_file, rep.repaired_offset);
	}
	if (!rep.created && c->initial_cluster_state == CONFIG_CLUSTER_NEW &&
	    (got.member_id != c->member_id ||
	     got.cluster_id != c->cluster_id)) {
		errmsgf(errmsg,
			"data dir %s belongs to member %s of cluster %s, "
			"not to member %s of cluster %s that "
			"--initial-cluster and --initial-cluster-token "
			"describe (use another --data-dir, or remove "
			"this one to start afresh)",
			c->data_dir, ids_format(got.member_id, a),
			ids_format(got.cluster_id, b),
			ids_format(c->member_id, x),
			ids_format(c->cluster_id, y));
		return -ERR_CLUSTER_ID_MISMATCH;
	}
	m->id = got.member_id;
	m->cluster_id = got.cluster_id;
	st = walstore_storage(m->ws);
	r = st.last_index(st.ctx, &last);
	/* A member joining an existing cluster starts with an empty log:
	 * the leader sends it everything, membership included. */
	if (r >= 0 && last == 0 && rep.snap_index == 0 &&
	    c->initial_cluster_state == CONFIG_CLUSTER_NEW) {
		r = bootstrap_log(m);
	}
	if (r < 0) {
		errmsgf(errmsg, "cannot write the WAL in %s: %s", c->wal_path,
			err_str(r));
		return r;
	}
	r = mvcc_open(c->snap_dir, &mo, &m->store);
	if (r < 0) {
		errmsgf(errmsg,
			"cannot open the store in %s: %s (the file may "
			"be damaged or in use)",
			c->snap_dir, err_str(r));
		return r;
	}
	r = lessor_new(m->store,
		       lessor_min_ttl(c->election_ticks, c->heartbeat_ms),
		       &m->lessor);
	if (r < 0) {
		errmsgf(errmsg,
			"cannot read the leases from the store in %s: %s",
			c->snap_dir, err_str(r));
		return r;
	}
	m->hs.term = 0;
	{
		struct raft_hard_state hs;
		struct raft_conf_state cs;
		if (st.initial_state(st.ctx, &hs, &cs) >= 0) {
			m->hs = hs;
			raft_conf_state_done(&cs);
		}
	}
	*snap_index = rep.snap_index;
	return 0;
}

static void on_peer_message(void *arg, raft_id from, const uint8_t *data,
			    size_t len)
{
	struct member *m = arg;
	struct raft_message msg;
	int r;

	if (m->error != 0 || m->stopped || m->in_ready || m->raft == NULL) {
		return;
	}
	if (len > 0 && data[0] == LEASE_PEER_MAGIC) {
		lease_on_peer(m, from, data, len);
		kick(m);
		return;
	}
	if (raftmsg_decode(data, len, &msg) < 0) {
		log_debug("member: undecodable message from %016" PRIx64, from);
		return;
	}
	srvmetrics_received(m->smx, from, (int)msg.type, len,
			    timeutil_mono_ns());
	r = raft_step(m->raft, &msg);
	if (r == -ERR_CORRUPT) {
		/* The usual cause, so the operator knows where to look. */
		char what[512];
		snprintf(what, sizeof(what),
			 "raft refused %s from %016" PRIx64
			 ": it contradicts this member's log (entries "
			 "acknowledged but missing, or committed ones "
			 "overwritten): was the data dir lost, rolled back "
			 "or replaced, or does another cluster with the same "
			 "--name, --initial-cluster and "
			 "--initial-cluster-token answer at a peer URL?",
			 raft_msg_type_name(msg.type), msg.from);
		fail(m, r, what);
	} else {
		check_raft(m, r, "raft, stepping a peer message");
	}
	raft_message_done(&msg);
	kick(m);
}

static void on_peer_unreachable(void *arg, raft_id to)
{
	struct member *m = arg;

	if (m->in_ready) {
		note_unreachable(m, to);
		return;
	}
	if (m->error == 0 && !m->stopped && m->raft != NULL) {
		check_raft(m, raft_report_unreachable(m->raft, to),
			   "raft, reporting an unreachable peer");
	}
}

static void on_identity(void *arg, raft_id id, uint64_t cluster_id);
static int on_peer_snapshot(void *arg, raft_id from, const uint8_t *data,
			    size_t len, const char *db_path);

static int listen_peers(struct member *m, char **errmsg)
{
	const struct config *c = m->cfg;
	struct peer_transport_config tc;
	int r;

	memset(&tc, 0, sizeof(tc));
	tc.local_id = m->id;
	tc.cluster_id = m->cluster_id;
	tc.on_message = on_peer_message;
	tc.on_unreachable = on_peer_unreachable;
	tc.on_identity = on_identity;
	tc.is_removed = peer_is_removed;
	tc.on_removed = on_removed_by_peer;
	tc.on_snapshot = on_peer_snapshot;
	tc.snap_dir = c->snap_dir;
	tc.arg = m;
	tc.max_msg = 0;
	m->tr = peer_transport_new(sys_loop_base(m->loop), NULL, &tc);
	if (m->tr == NULL) {
		errmsgf(errmsg, "cannot start the peer transport: %s",
			err_str(-ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->listen_peer_urls.n; i++) {
		const struct config_url *u = &c->listen_peer_urls.v[i];
		r = peer_transport_listen(m->tr, u->host, u->port);
		if (r < 0) {
			errmsgf(errmsg,
				"--listen-peer-urls %s: cannot listen: "
				"%s (is another member running, or is "
				"the address not local?)",
				u->url, strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * Storage, store and Raft: at once for a new or restarted member; for a
 * joining one once the cluster has told it its IDs (on_identity).
 */
static int start_core(struct member *m, raft_index *snap_index, char **errmsg)
{
	const struct config *cfg = m->cfg;
	struct raft_config rc;
	uint64_t ai, at;
	char idh[IDS_HEX_LEN], cidh[IDS_HEX_LEN];
	int r;

	r = open_storage(m, snap_index, errmsg);
	if (r < 0) {
		return r;
	}
	m->id_prefix = (m->id & 0xffff) << 48;
	m->id_suffix =
	    ((timeutil_wall_ns() / 1000000) << 8) & ((UINT64_C(1) << 48) - 1);
	memset(&rc, 0, sizeof(rc));
	rc.id = m->id;
	rc.election_tick = (int)cfg->election_ticks;
	rc.heartbeat_tick = 1;
	rc.storage = walstore_storage(m->ws);
	/* Raft replays everything after the snapshot; MVCC skips what it
	 * applied already (mvcc_apply_begin), conf changes apply again. */
	rc.applied = *snap_index;
	rc.max_size_per_msg = 1024 * 1024;
	/* Bounds a restart's replay per Ready (and its memory). */
	rc.max_committed_size_per_ready = 16u << 20;
	rc.max_inflight_msgs = 256;
	rc.check_quorum = true;
	rc.pre_vote = true;
	rc.seed = m->id ^ timeutil_mono_ns();
	r = raft_new(&rc, &m->raft);
	if (r < 0) {
		errmsgf(errmsg, "cannot start Raft from the WAL in %s: %s",
			cfg->wal_path, err_str(r));
		return r;
	}
	m->snap_index = *snap_index;
	mvcc_applied(m->store, &ai, &at);
	m->applied = ai;
	r = restore_alarms(m);
	if (r >= 0) {
		r = restore_removed(m);
	}
	if (r < 0) {
		errmsgf(errmsg,
			"cannot read the alarms and removed members from the "
			"store in %s: %s",
			cfg->snap_dir, err_str(r));
		return r;
	}
	log_info("member %s of cluster %s: store at applied index %" PRIu64
		 ", revision %" PRId64,
		 ids_format(m->id, idh), ids_format(m->cluster_id, cidh), ai,
		 (int64_t)mvcc_current_rev(m->store));
	return 0;
}

static void on_identity(void *arg, raft_id id, uint64_t cluster_id)
{
	struct member *m = arg;
	raft_index snap_index = 0;
	char *msg = NULL;
	char idh[IDS_HEX_LEN], cidh[IDS_HEX_LEN];
	int r;

	if (!m->joining) {
		return;
	}
	m->id = id;
	m->cluster_id = cluster_id;
	log_info("joining cluster %s as member %s",
		 ids_format(cluster_id, cidh), ids_format(id, idh));
	r = start_core(m, &snap_index, &msg);
	m->joining = false;
	/*
	 * Until the log tells us the membership, answers must reach the
	 * members of --initial-cluster: their IDs as a bootstrap computed
	 * them (same token), which is what members that bootstrapped the
	 * cluster have.  Members added later are learned from the log.
	 */
	for (size_t i = 0; r >= 0 && i < m->cfg->n_members; i++) {
		const struct config_member *cm = &m->cfg->members[i];
		char **urls;

		if (cm == config_self(m->cfg) || cm->id == m->id) {
			continue;
		}
		urls = mem_calloc(cm->peer_urls.n + 1, sizeof(*urls));
		if (urls == NULL) {
			r = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < cm->peer_urls.n; j++) {
			urls[j] = cm->peer_urls.v[j].url;
		}
		r = peer_transport_add(m->tr, cm->id, (const char *const *)urls,
				       cm->peer_urls.n);
		mem_free(urls);
	}
	if (r < 0) {
		log_error("cannot join: %s", msg != NULL ? msg : err_str(r));
		fail(m, r, "joining the cluster");
	}
	mem_free(msg);
	kick(m);
}

static void snap_remove_stale(const char *dir);

/* A start that failed for want of space says so, and what to do. */
static void explain_full_disk(struct member *m, int r, char **errmsg)
{
	const char *dir = m->cfg->data_dir;
	_cleanup_free_ char *full = NULL;
	char *both = NULL;

	if (errmsg == NULL || !diskspace_is_full(r, dir)) {
		return;
	}
	full = diskspace_message(r, "starting the member", dir, dir);
	if (full == NULL) {
		return;
	}
	errmsgf(&both, "%s (%s)", full, *errmsg != NULL ? *errmsg : "");
	if (both != NULL) {
		mem_free(*errmsg);
		*errmsg = both;
	}
}

int member_new(struct sys_loop *loop, const struct config *cfg,
	       struct member **out, char **errmsg)
{
	struct member *m;
	raft_index snap_index = 0;
	int r;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	m = mem_calloc(1, sizeof(*m));
	if (m == NULL) {
		return -ENOMEM;
	}
	m->loop = loop;
	m->cfg = cfg;
	m->state = RAFT_FOLLOWER;
	list_init(&m->all);
	list_init(&m->incoming);
	list_init(&m->reads);
	list_init(&m->moves);
	list_init(&m->copies);
	list_init(&m->snap_sends);
	list_init(&m->lease_reqs);
	for (size_t i = 0; i < WAITER_BUCKETS; i++) {
		list_init(&m->waiters[i]);
	}
	m->request_timeout_ms =
	    REQUEST_TIMEOUT_BASE_MS + 2 * (uint64_t)cfg->election_ms;
	/* etcd compat: a member added with MemberAdd starts with
	 * initial-cluster-state existing and an empty data dir, and learns
	 * its member and cluster IDs from the cluster. */
	m->joining = cfg->initial_cluster_state == CONFIG_CLUSTER_EXISTING &&
		     !wal_exists(cfg->wal_path) &&
		     !file_exists(cfg->snap_dir, "db");
	if (!m->joining) {
		r = start_core(m, &snap_index, errmsg);
		if (r < 0) {
			explain_full_disk(m, r, errmsg);
			member_free(m);
			return r;
		}
	}
	snap_remove_stale(cfg->snap_dir);
	r = listen_peers(m, errmsg);
	if (r < 0) {
		member_free(m);
		return r;
	}
	if (snap_index > 0) {
		struct raft_storage st = walstore_storage(m->ws);
		struct raft_snapshot snap;

		r = st.snapshot(st.ctx, &snap);
		if (r >= 0) {
			r = restore_membership(m, snap.data, snap.len);
			raft_snapshot_done(&snap);
		}
		if (r < 0) {
			errmsgf(errmsg,
				"cannot read the membership from the "
				"snapshot in %s: %s",
				cfg->snap_dir, err_str(r));
			member_free(m);
			return r;
		}
	}
	m->kick_ev = event_new(sys_loop_base(loop), -1, 0, kick_cb, m);
	if (m->kick_ev == NULL ||
	    sys_timer_new(loop, tick_cb, m, &m->tick_timer) < 0 ||
	    sys_timer_new(loop, house_cb, m, &m->house_timer) < 0 ||
	    sys_timer_start(m->tick_timer, cfg->heartbeat_ms,
			    cfg->heartbeat_ms) < 0 ||
	    sys_timer_start(m->house_timer, COMMIT_INTERVAL_MS,
			    COMMIT_INTERVAL_MS) < 0 ||
	    start_auto_compaction(m) < 0) {
		errmsgf(errmsg, "cannot set up the member's timers");
		member_free(m);
		return -ENOMEM;
	}
	if (m->joining) {
		log_info("waiting for the cluster to contact this member "
			 "(initial-cluster-state existing)");
	}
	kick(m);
	*out = m;
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
	kick(m); /* check_stop runs from the loop, never in here */
}

static void snap_free_all(struct member *m);

void member_free(struct member *m)
{
	struct list_node *pos, *tmp;

	if (m == NULL) {
		return;
	}
	/* Pending requests are dropped without callbacks (member.h). */
	list_for_each_safe(pos, tmp, &m->all)
	{
		struct member_req *rq =
		    container_of(pos, struct member_req, all);
		list_remove(&rq->all);
		list_remove(&rq->q);
		req_free(rq);
	}
	if (m->kick_ev != NULL) {
		event_free(m->kick_ev);
	}
	sys_timer_free(m->tick_timer);
	sys_timer_free(m->house_timer);
	sys_timer_free(m->auto_compact_timer);
	peer_transport_free(m->tr);
	snap_free_all(m);
	raft_free(m->raft);
	if (m->store != NULL && m->error == 0) {
		(void)mvcc_commit(m->store);
	}
	lessor_free(m->lessor);
	mvcc_close(m->store);
	walstore_close(m->ws);
	for (size_t i = 0; i < m->n_members; i++) {
		rec_done(&m->members[i]);
	}
	mem_free(m->members);
	mem_free(m->unreachable);
	srvmetrics_free(m->smx);
	mem_free(m->removed_ids);
	mem_free(m->error_msg);
	mem_free(m->store_path);
	mem_free(m);
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
	kick(m); /* an error already there is told from the loop too */
}

/* ---- metrics (srvmetrics.h) ---- */

static double db_size(void *arg, bool in_use)
{
	struct member *m = arg;
	int64_t size = 0, used = 0;

	if (m->store == NULL || mvcc_db_size(m->store, &size, &used) < 0) {
		return 0;
	}
	return (double)(in_use ? used : size);
}

static double db_total(void *arg)
{
	return db_size(arg, false);
}

static double db_in_use(void *arg)
{
	return db_size(arg, true);
}

int member_attach_metrics(struct member *m, struct metrics *mx)
{
	srvmetrics_free(m->smx);
	m->smx = NULL;
	if (mx == NULL) {
		return 0;
	}
	m->smx = srvmetrics_new(mx, db_total, db_in_use, m);
	if (m->smx == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_members; i++) {
		if (m->members[i].id != m->id) {
			srvmetrics_peer(m->smx, m->members[i].id);
		}
	}
	return 0;
}

/* ---- snapshots: store copies and snapshot transfer ----
 *
 * Maintenance.Snapshot and a leader's MsgSnap both stream a consistent
 * copy of the store, made on a thread (snapcopy.h) after a commit.  A
 * MsgSnap never goes on the Raft stream: the leader copies the store
 * (applied >= the snapshot's index, since maybe_snapshot commits before
 * it snapshots) and sends both on a transfer of their own
 * (peer_transport_send_snapshot), then reports the outcome to Raft.  The
 * follower's transport verifies and syncs the file; on_peer_snapshot
 * keeps it as pending_db and steps the MsgSnap; the next Ready's snapshot
 * installs it (install_snapshot): the store first, then the WAL, so a
 * crash between the two leaves a store ahead of the log (replay skips
 * what it has), never behind it.
 */

struct snap_send {
	struct list_node node; /* m->snap_sends */
	struct member *m;
	raft_id to;
	raft_index index;
	uint8_t *msg; /* the encoded MsgSnap */
	size_t len;
	struct snapcopy *copy; /* while the store is being copied */
	int early_err;	       /* failed inside a Ready: report after it */
};

int member_snapshot(struct member *m, member_snapshot_fn done, void *arg,
		    struct member_snapshot **handle)
{
	struct snapcopy *c;
	int r;

	if (m->error != 0 || m->stopped || m->store == NULL) {
		return m->error != 0 ? m->error : -ERR_STOPPED;
	}
	/* etcd compat: the backend commits before it snapshots. */
	r = mvcc_commit(m->store);
	if (r < 0) {
		return r;
	}
	m->ops_uncommitted = 0;
	r = snapcopy_start(sys_loop_base(m->loop), &m->copies, m->store,
			   m->cfg->snap_dir, done, arg, &c);
	if (r < 0) {
		return r;
	}
	if (handle != NULL) {
		*handle = (struct member_snapshot *)c;
	}
	return 0;
}

void member_snapshot_cancel(struct member_snapshot *h)
{
	snapcopy_cancel((struct snapcopy *)h);
}

static void snap_send_free(struct snap_send *ss)
{
	list_remove(&ss->node);
	mem_free(ss->msg);
	mem_free(ss);
}

/* Tell Raft how the transfer ended (never inside a Ready). */
static void snap_send_end(struct snap_send *ss, int err)
{
	struct member *m = ss->m;
	char idh[IDS_HEX_LEN];

	if (err < 0) {
		log_warn("member %016" PRIx64 ": sending snapshot %" PRIu64
			 " to %s failed: %s",
			 m->id, ss->index, ids_format(ss->to, idh),
			 err_str(err));
	} else {
		log_info("member %016" PRIx64 ": snapshot %" PRIu64
			 " sent to %s",
			 m->id, ss->index, ids_format(ss->to, idh));
	}
	if (m->error == 0 && !m->stopped && m->raft != NULL) {
		check_raft(m, raft_report_snapshot(m->raft, ss->to, err < 0),
			   "raft, reporting a snapshot");
		kick(m);
	}
	snap_send_free(ss);
}

static void snap_sent(void *arg, raft_id to, int err)
{
	(void)to;
	snap_send_end(arg, err);
}

static void snap_copied(void *arg, int err, int fd, uint64_t size)
{
	struct snap_send *ss = arg;
	struct member *m = ss->m;
	char idh[IDS_HEX_LEN];

	ss->copy = NULL;
	if (err >= 0) {
		log_info("member %016" PRIx64 ": sending snapshot %" PRIu64
			 " (%" PRIu64 " bytes of store) to %s",
			 m->id, ss->index, size, ids_format(ss->to, idh));
		err = peer_transport_send_snapshot(m->tr, ss->to, ss->msg,
						   ss->len, fd, size, snap_sent,
						   ss);
	}
	if (err < 0) {
		snap_send_end(ss, err);
	}
}

/* From send_messages, inside a Ready: start copying, report later. */
static void snap_send_start(struct member *m, const struct raft_message *msg)
{
	struct list_node *pos;
	struct snap_send *ss;
	int r;

	list_for_each(pos, &m->snap_sends)
	{
		ss = container_of(pos, struct snap_send, node);
		if (ss->to == msg->to) {
			return; /* Raft waits for that one's report */
		}
	}
	ss = mem_calloc(1, sizeof(*ss));
	if (ss == NULL) {
		note_unreachable(m, msg->to);
		return;
	}
	ss->m = m;
	ss->to = msg->to;
	ss->index = msg->snapshot.meta.index;
	list_push_back(&m->snap_sends, &ss->node);
	r = raftmsg_encode(msg, &ss->msg, &ss->len);
	if (r >= 0) {
		r = mvcc_commit(m->store);
		if (r >= 0) {
			m->ops_uncommitted = 0;
		}
	}
	if (r >= 0) {
		r = snapcopy_start(sys_loop_base(m->loop), &m->copies,
				   m->store, m->cfg->snap_dir, snap_copied, ss,
				   &ss->copy);
	}
	if (r < 0) {
		ss->early_err = r;
		kick(m);
	}
}

/* After a Ready: a received store its snapshot did not use is dropped;
 * transfers that failed inside the Ready are reported. */
static void snap_drop_pending(struct member *m)
{
	struct list_node *pos, *tmp;

	if (m->pending_db != NULL) {
		(void)unlink(m->pending_db);
		mem_free(m->pending_db);
		m->pending_db = NULL;
	}
	list_for_each_safe(pos, tmp, &m->snap_sends)
	{
		struct snap_send *ss =
		    container_of(pos, struct snap_send, node);
		if (ss->early_err < 0) {
			snap_send_end(ss, ss->early_err);
		}
	}
}

static void snap_free_all(struct member *m)
{
	snapcopy_free_all(&m->copies);
	while (!list_is_empty(&m->snap_sends)) {
		snap_send_free(
		    container_of(m->snap_sends.next, struct snap_send, node));
	}
	if (m->pending_db != NULL) {
		(void)unlink(m->pending_db);
		mem_free(m->pending_db);
		m->pending_db = NULL;
	}
}

static int on_peer_snapshot(void *arg, raft_id from, const uint8_t *data,
			    size_t len, const char *db_path)
{
	struct member *m = arg;
	struct raft_message msg;
	int r;

	if (m->error != 0 || m->stopped || m->in_ready || m->raft == NULL) {
		return -EAGAIN;
	}
	r = raftmsg_decode(data, len, &msg);
	if (r < 0) {
		return r;
	}
	if (msg.type != RAFT_MSG_SNAP || msg.from != from) {
		raft_message_done(&msg);
		return -ERR_INVALID;
	}
	if (m->pending_db != NULL) {
		(void)unlink(m->pending_db);
		mem_free(m->pending_db);
	}
	m->pending_db = mem_strdup(db_path);
	if (m->pending_db == NULL) {
		raft_message_done(&msg);
		return -ENOMEM;
	}
	m->pending_db_index = msg.snapshot.meta.index;
	r = check_raft(m, raft_step(m->raft, &msg), "raft, stepping a snapshot");
	raft_message_done(&msg);
	if (r < 0) {
		/* Not ours after all: the transport removes the file. */
		mem_free(m->pending_db);
		m->pending_db = NULL;
		return r;
	}
	kick(m);
	return 0;
}

static bool same_strv(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb) {
		return false;
	}
	for (size_t i = 0; i < na; i++) {
		if (strcmp(a[i], b[i]) != 0) {
			return false;
		}
	}
	return true;
}

/*
 * The membership becomes the snapshot's: members it does not list are
 * dropped, the others updated; a peer stream is (re)opened only for a
 * member that is new or whose peer URLs changed, so the stream to the
 * leader survives.
 */
static int reset_membership(struct member *m, const uint8_t *data, size_t len)
{
	ProtobufCMessage *pm;
	Cetcdpb__Membership *ms;
	int r;

	if (len == 0) {
		return 0;
	}
	r = proto_unpack(&cetcdpb__membership__descriptor, data, len, &pm);
	if (r < 0) {
		return r;
	}
	ms = (Cetcdpb__Membership *)pm;
	for (size_t i = 0; i < m->n_members;) {
		uint64_t id = m->members[i].id;
		bool listed = false;

		for (size_t j = 0; j < ms->n_members; j++) {
			listed = listed || ms->members[j]->id == id;
		}
		if (listed) {
			i++;
			continue;
		}
		if (id != m->id) {
			peer_transport_remove(m->tr, id);
		}
		remove_rec(m, id);
	}
	for (size_t i = 0; r >= 0 && i < ms->n_members; i++) {
		const Cetcdpb__Member *cm = ms->members[i];
		struct member_rec *rec = find_rec(m, cm->id);
		bool reconnect =
		    rec == NULL ||
		    !same_strv(rec->peer_urls, rec->n_peer_urls, cm->peer_urls,
			       cm->n_peer_urls);

		rec = upsert_rec(m, cm->id);
		if (rec == NULL) {
			r = -ENOMEM;
			break;
		}
		rec->is_learner = cm->is_learner;
		if (cm->name[0] != '\0') {
			char *n = mem_strdup(cm->name);
			if (n == NULL) {
				r = -ENOMEM;
				break;
			}
			mem_free(rec->name);
			rec->name = n;
		}
		r = dup_strv(&rec->peer_urls, &rec->n_peer_urls, cm->peer_urls,
			     cm->n_peer_urls);
		if (r >= 0) {
			r = dup_strv(&rec->client_urls, &rec->n_client_urls,
				     cm->client_urls, cm->n_client_urls);
		}
		if (r >= 0 && reconnect && cm->id != m->id &&
		    rec->n_peer_urls > 0) {
			r = peer_transport_add(
			    m->tr, cm->id, (const char *const *)rec->peer_urls,
			    rec->n_peer_urls);
		}
	}
	proto_free(pm);
	return r;
}

/* Step 2's first part when a Ready carries a snapshot (see above). */
static int install_snapshot(struct member *m, const struct raft_snapshot *snap)
{
	uint64_t ai, at;
	char idh[IDS_HEX_LEN];
	int r;

	if (m->pending_db == NULL || m->pending_db_index != snap->meta.index) {
		/* Raft took a snapshot whose store never arrived. */
		return -ERR_CORRUPT;
	}
	snapcopy_wait_all(&m->copies);
	r = mvcc_replace(m->store, m->pending_db);
	if (r < 0) {
		(void)unlink(m->pending_db);
	}
	mem_free(m->pending_db);
	m->pending_db = NULL;
	if (r < 0) {
		return r;
	}
	m->ops_uncommitted = 0;
	/* The tables kept in the store are the sender's now: leases, the
	 * NOSPACE alarm, the removed members. */
	lessor_free(m->lessor);
	m->lessor = NULL;
	r = lessor_new(m->store,
		       lessor_min_ttl(m->cfg->election_ticks, m->cfg->heartbeat_ms),
		       &m->lessor);
	if (r < 0) {
		return r;
	}
	m->nospace = false;
	mvcc_set_nospace(m->store, false);
	r = restore_alarms(m);
	if (r < 0) {
		return r;
	}
	r = restore_removed(m);
	if (r < 0) {
		return r;
	}
	mvcc_applied(m->store, &ai, &at);
	if (ai < snap->meta.index) {
		log_error("member %016" PRIx64 ": the store sent with snapshot "
			  "%" PRIu64 " was applied only to %" PRIu64,
			  m->id, snap->meta.index, ai);
		return -ERR_CORRUPT;
	}
	r = walstore_apply_snapshot(m->ws, snap);
	if (r < 0) {
		return r;
	}
	r = reset_membership(m, snap->data, snap->len);
	if (r < 0) {
		return r;
	}
	/* Raft's view: entries after the snapshot come next (the store may
	 * be further on; apply skips what it has). */
	m->snap_index = snap->meta.index;
	m->applied = snap->meta.index;
	log_notice("member %016" PRIx64 ": installed snapshot %" PRIu64
		   " (term %" PRIu64 ") from the leader %s: store at applied "
		   "index %" PRIu64 ", revision %" PRId64,
		   m->id, snap->meta.index, snap->meta.term,
		   ids_format(m->leader, idh), ai,
		   (int64_t)mvcc_current_rev(m->store));
	return 0;
}

/* Stores half received when the member last stopped are of no use. */
static void snap_remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "snap.recv.", 10) == 0 &&
		    (size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) <
			sizeof(p)) {
			(void)unlink(p);
		}
	}
	closedir(d);
}
