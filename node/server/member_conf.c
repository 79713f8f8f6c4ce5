/*
 * member_conf.c - the cluster's membership as this member knows it: the
 * member records (names, peer and client URLs, learners) that MemberList
 * answers, the MemberAdd/Remove/Update/Promote proposals, the conf-change
 * entries that apply them, the removed members' set, and the membership a
 * snapshot carries (packed, and loaded on restart or from the leader).
 *
 * Invariants:
 *  1. m->members changes only when a conf-change entry, a member's
 *     attributes or a snapshot applies, so members agree at each index;
 *     proposals only validate and propose.
 *  2. A peer stream exists for every member with peer URLs other than
 *     this one, and is removed with it.
 *  3. A removed member's ID is kept in the store (MEMBER_REMOVED_PREFIX)
 *     in the conf entry's own transaction and is never added again: peers
 *     refuse its streams, which is how a member removed while cut off
 *     learns it.
 */
#include "server/member_int.h"

#include <limits.h>

/*
 * etcd compat (membership's removed set, kept in the backend): peers
 * refuse the streams of a removed member (transport.h, is_removed), which
 * is how a member removed while it was cut off, or before it applied its
 * own removal, learns it and stops.  One aux record per removed ID, in
 * the conf entry's own transaction.
 */

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
		member_req_complete(rq, -ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < m->n_members; i++) {
		const struct member_rec *rec = &m->members[i];
		etcdserverpb__member__init(&mv[i]);
		mv[i].id = rec->id;
		member_set_str(&mv[i].name, rec->name);
		mv[i].n_peerurls = rec->n_peer_urls;
		mv[i].peerurls = rec->peer_urls;
		mv[i].n_clienturls = rec->n_client_urls;
		mv[i].clienturls = rec->client_urls;
		mv[i].islearner = rec->is_learner;
		mp[i] = &mv[i];
	}
	resp->n_members = m->n_members;
	resp->members = mp;
	member_req_complete(rq, 0, &resp->base);
	resp->n_members = 0;
	resp->members = NULL;
	mem_free(mv);
	mem_free(mp);
	apply_resp_free(&resp->base);
}

void member_conf_serve_list(struct member *m, struct member_req *rq)
{
	answer_members(m, rq, &etcdserverpb__member_list_response__descriptor);
}

/*
 * etcd compat (isLearnerReady): the leader promotes a learner only once it
 * has at least 90% of the leader's log.  Leader only: a follower cannot
 * see the learner's progress, so it asks the leader (below).
 */
static bool learner_ready(struct member *m, raft_id id)
{
	const struct raft_progress *lp, *me;

	lp = raft_progress_of(m->raft, id);
	me = raft_progress_of(m->raft, m->id);
	if (lp == NULL || me == NULL) {
		return false;
	}
	return (double)lp->match >= (double)me->match * 0.9;
}

/* The leader's checks of a promotion: 0 or the error the client gets. */
static int check_promote(struct member *m, uint64_t id)
{
	const struct member_rec *rec = member_conf_find_rec(m, id);

	if (rec == NULL) {
		return -ERR_MEMBER_NOT_FOUND;
	}
	if (!rec->is_learner) {
		return -ERR_MEMBER_NOT_LEARNER;
	}
	return learner_ready(m, id) ? 0 : -ERR_LEARNER_NOT_READY;
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
 * Propose cc with ctx packed as its context and wait for the entry like
 * any proposal (the waiter answers rq when it applies); a refusal answers
 * rq now.  req, rq's unpacked request that ctx may borrow from, is freed
 * after the packing.
 */
static void propose_conf(struct member *m, struct member_req *rq,
			 struct raft_conf_change *cc,
			 const Cetcdpb__Member *ctx, ProtobufCMessage *req)
{
	int r;

	mem_free(rq->data);
	rq->data = NULL;
	r = member_pack_msg(&ctx->base, &cc->context, &cc->context_len);
	proto_free(req);
	if (r >= 0) {
		r = raft_propose_conf_change(m->raft, cc);
		mem_free(cc->context);
		cc->context = NULL;
	}
	if (r < 0) {
		member_req_complete(
		    rq, r == -ERR_PROPOSAL_DROPPED ? -ERR_NO_LEADER : r, NULL);
		return;
	}
	list_remove(&rq->q);
	rq->state = REQ_PROPOSED;
	list_push_back(member_bucket(m, rq->id), &rq->q);
}

/*
 * etcd compat (PromoteMember, forwarded to the leader over the peer
 * port's /members/promote/): only the leader knows whether a learner
 * caught up, so a follower asks it on the peer stream (PEER_KIND_PROMOTE,
 * member_int.h: the asking request's id, then the packed
 * MemberPromoteRequest) and the leader checks the promotion as for its
 * own client.  It answers with PEER_KIND_PROMOTE | PEER_KIND_REPLY, the
 * same id and an 8-byte code: 0 when it proposed the conf change under
 * the asking request's id (which the entry's context carries, so the
 * asker's waiter answers when the entry applies on the asker, as for a
 * proposal of its own), else the error its own client would get.
 *
 * The reply travels on the leader's stream ahead of the entry's appends,
 * so a follower normally waits in its waiter bucket before the entry
 * applies; it is also found on m->promotes if the reply was lost.  A
 * request not yet answered is asked again every PROMOTE_RETRY_MS, of the
 * leader of the moment; with no leader until its deadline it fails with
 * "no leader", as etcd's waitLeader does.  A repeated proposal is
 * harmless: the second finds the member promoted or is dropped by Raft
 * while the first is pending.
 */
#define PROMOTE_RETRY_MS 500

/* Ask the leader of the moment, unless asked less than a retry ago. */
static void promote_ask(struct member *m, struct member_req *rq, uint64_t now)
{
	if (m->leader == RAFT_NONE || m->leader == m->id ||
	    (rq->asked_ms != 0 && rq->asked_ms + PROMOTE_RETRY_MS > now)) {
		return;
	}
	rq->asked_ms = now;
	(void)member_side_send(m, m->leader, PEER_KIND_PROMOTE, rq->id, NULL,
			       rq->data, rq->len);
}

static void promote_forward(struct member *m, struct member_req *rq)
{
	list_remove(&rq->q);
	rq->state = REQ_PROMOTE;
	rq->asked_ms = 0;
	list_push_back(&m->promotes, &rq->q);
	promote_ask(m, rq, timeutil_mono_ms());
}

static struct member_req *promote_take(struct member *m, uint64_t id)
{
	struct list_node *pos;

	list_for_each(pos, &m->promotes)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);
		if (rq->id == id) {
			return rq;
		}
	}
	return NULL;
}

/* Propose learner id's promotion for request request_id (any member's). */
static int propose_promote(struct member *m, uint64_t id, uint64_t request_id)
{
	Cetcdpb__Member ctx = CETCDPB__MEMBER__INIT;
	struct raft_cc_single ch = {.type = RAFT_CC_ADD_NODE, .node_id = id};
	struct raft_conf_change cc;
	int r;

	memset(&cc, 0, sizeof(cc));
	cc.transition = RAFT_CC_AUTO;
	cc.changes = &ch;
	cc.n_changes = 1;
	ctx.id = id;
	ctx.request_id = request_id;
	r = member_pack_msg(&ctx.base, &cc.context, &cc.context_len);
	if (r < 0) {
		return r;
	}
	r = raft_propose_conf_change(m->raft, &cc);
	mem_free(cc.context);
	return r;
}

/* The leader's side: check, propose, answer the asker. */
static void promote_serve_peer(struct member *m, raft_id from, uint64_t rid,
			       const uint8_t *data, size_t len)
{
	ProtobufCMessage *req;
	uint8_t code[8];
	uint64_t id;
	int r;

	/* Not the leader (any more): no answer, the asker asks again. */
	if (m->leader != m->id) {
		return;
	}
	r = proto_unpack(&etcdserverpb__member_promote_request__descriptor,
			 data, len, &req);
	if (r < 0) {
		return;
	}
	id = ((Etcdserverpb__MemberPromoteRequest *)req)->id;
	proto_free(req);
	r = check_promote(m, id);
	if (r == 0) {
		r = member_check_raft(m, propose_promote(m, id, rid),
				      "raft propose conf change");
	}
	if (r == -ERR_PROPOSAL_DROPPED) {
		return; /* e.g. leadership moving: asked again */
	}
	encode_u64(code, (uint64_t)(-(int64_t)r));
	(void)member_side_send(m, from, PEER_KIND_PROMOTE | PEER_KIND_REPLY,
			       rid, NULL, code, sizeof(code));
}

/* The asker's side: the leader's verdict on request rid. */
static void promote_on_reply(struct member *m, uint64_t rid,
			     const uint8_t *data, size_t len)
{
	struct member_req *rq = promote_take(m, rid);
	uint64_t code;

	if (rq == NULL || len != 8) {
		return;
	}
	code = decode_u64(data);
	if (code > INT_MAX) {
		return;
	}
	if (code != 0) {
		member_req_complete(rq, -(int)code, NULL);
		return;
	}
	/* Proposed: wait for the entry like a proposal of our own. */
	list_remove(&rq->q);
	rq->state = REQ_PROPOSED;
	mem_free(rq->data);
	rq->data = NULL;
	rq->len = 0;
	list_push_back(member_bucket(m, rq->id), &rq->q);
}

void member_conf_on_peer(struct member *m, raft_id from, const uint8_t *data,
			 size_t len)
{
	uint64_t rid;

	if (len < LEASE_PEER_HDR) {
		return;
	}
	rid = decode_u64(data + 2);
	if (data[1] == PEER_KIND_PROMOTE) {
		promote_serve_peer(m, from, rid, data + LEASE_PEER_HDR,
				   len - LEASE_PEER_HDR);
	} else if (data[1] == (PEER_KIND_PROMOTE | PEER_KIND_REPLY)) {
		promote_on_reply(m, rid, data + LEASE_PEER_HDR,
				 len - LEASE_PEER_HDR);
	}
}

/*
 * Ask again the promotions not answered yet; one whose member became the
 * leader meanwhile is checked here like a request of the leader's own.
 */
void member_conf_tick(struct member *m, uint64_t now)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->promotes)
	{
		struct member_req *rq = container_of(pos, struct member_req, q);

		if (m->leader == m->id) {
			member_conf_propose_change(m, rq);
			member_kick(m);
		} else {
			promote_ask(m, rq, now);
		}
	}
}

void member_conf_propose_change(struct member *m, struct member_req *rq)
{
	Cetcdpb__Member ctx = CETCDPB__MEMBER__INIT;
	struct raft_cc_single ch;
	struct raft_conf_change cc;
	const struct member_rec *rec;
	ProtobufCMessage *req;
	uint64_t id;
	int r;

	if (rq->op == MEMBER_OP_MEMBER_PROMOTE && m->leader != m->id) {
		promote_forward(m, rq);
		return;
	}
	r = proto_unpack(member_op_types[rq->op], rq->data, rq->len, &req);
	if (r < 0) {
		member_req_complete(rq, r, NULL);
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
	rec = member_conf_find_rec(m, id);
	r = 0;
	if (rq->op == MEMBER_OP_MEMBER_PROMOTE) {
		r = check_promote(m, id);
	} else if (rec == NULL) {
		r = -ERR_MEMBER_NOT_FOUND;
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
			if (r == 0 && peer_url_taken(m, u->peerurls[i], id)) {
				r = -ERR_PEER_URL_EXISTS;
			}
		}
		ctx.n_peer_urls = u->n_peerurls;
		ctx.peer_urls = u->peerurls;
	}
	if (r < 0) {
		proto_free(req);
		member_req_complete(rq, r, NULL);
		return;
	}
	memset(&cc, 0, sizeof(cc));
	ch.node_id = id;
	cc.transition = RAFT_CC_AUTO;
	cc.changes = &ch;
	cc.n_changes = 1;
	ctx.id = id;
	ctx.request_id = rq->id;
	propose_conf(m, rq, &cc, &ctx, req);
}

/*
 * MemberAdd: the new member's ID as etcd derives it for a member added at
 * run time (peer URLs and the current Unix time), proposed as a conf
 * change whose context carries its peer URLs; the new member learns the
 * ID from the first stream this cluster opens to it.
 */
void member_conf_propose_add(struct member *m, struct member_req *rq)
{
	Cetcdpb__Member ctx = CETCDPB__MEMBER__INIT;
	const Etcdserverpb__MemberAddRequest *a;
	struct raft_cc_single ch;
	struct raft_conf_change cc;
	ProtobufCMessage *req;
	size_t learners = 0;
	uint64_t id = 0;
	int r;

	r = proto_unpack(member_op_types[rq->op], rq->data, rq->len, &req);
	if (r < 0) {
		member_req_complete(rq, r, NULL);
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
	if (r == 0 && member_conf_find_rec(m, id) != NULL) {
		r = -ERR_MEMBER_EXISTS;
	}
	if (r < 0) {
		proto_free(req);
		member_req_complete(rq, r, NULL);
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
	rq->read_index = id; /* the new member, for the answer */
	propose_conf(m, rq, &cc, &ctx, req);
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
		member_req_complete(rq, -ENOMEM, NULL);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct member_rec *rec = &m->members[i];
		etcdserverpb__member__init(&mv[i]);
		mv[i].id = rec->id;
		member_set_str(&mv[i].name, rec->name);
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
	member_req_complete(rq, 0, &resp->base);
	resp->member = NULL;
	resp->n_members = 0;
	resp->members = NULL;
	mem_free(mv);
	mem_free(mp);
	apply_resp_free(&resp->base);
}

void member_conf_rec_done(struct member_rec *r)
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

struct member_rec *member_conf_find_rec(struct member *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_members; i++) {
		if (m->members[i].id == id) {
			return &m->members[i];
		}
	}
	return NULL;
}

int member_conf_dup_strv(char ***dst, size_t *n_dst, char *const *src, size_t n)
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
	struct member_rec *r = member_conf_find_rec(m, id), *v;
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
	struct member_rec *r = member_conf_find_rec(m, id);
	size_t at;

	if (r == NULL) {
		return;
	}
	at = (size_t)(r - m->members);
	member_conf_rec_done(r);
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
		r = member_conf_dup_strv(&rec->peer_urls, &rec->n_peer_urls,
					 cm->peer_urls, cm->n_peer_urls);
	}
	if (r >= 0 && cm->n_client_urls > 0) {
		r = member_conf_dup_strv(&rec->client_urls, &rec->n_client_urls,
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
	rq = rid != 0 ? member_waiter_take(m, rid) : NULL;
	if (rq == NULL && rid != 0) {
		rq = promote_take(m, rid); /* the leader's reply was lost */
	}
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
	char key[sizeof(MEMBER_REMOVED_PREFIX) + IDS_HEX_LEN];

	remember_removed_id(m, id);
	snprintf(key, sizeof(key), MEMBER_REMOVED_PREFIX "%016" PRIx64, id);
	(void)mvcc_aux_put(m->store, key, strlen(key), "", 0);
}

static int removed_found(void *arg, const void *key, size_t key_len,
			 const void *val, size_t val_len)
{
	char hex[IDS_HEX_LEN];
	size_t n = key_len - (sizeof(MEMBER_REMOVED_PREFIX) - 1);

	(void)val;
	(void)val_len;
	if (n == 0 || n >= sizeof(hex)) {
		return 0;
	}
	memcpy(hex, (const char *)key + sizeof(MEMBER_REMOVED_PREFIX) - 1, n);
	hex[n] = '\0';
	remember_removed_id(arg, strtoull(hex, NULL, 16));
	return 0;
}

int member_conf_restore_removed(struct member *m)
{
	int r = mvcc_aux_scan(m->store, MEMBER_REMOVED_PREFIX,
			      strlen(MEMBER_REMOVED_PREFIX), removed_found, m);

	return r < 0 ? r : 0;
}

bool member_conf_peer_is_removed(void *arg, raft_id from)
{
	return is_removed_id(arg, from);
}

void member_conf_on_removed_by_peer(void *arg, raft_id by)
{
	struct member *m = arg;

	if (!m->removed) {
		log_notice("member %016" PRIx64 ": peer %016" PRIx64
			   " says this member was removed from the cluster",
			   m->id, by);
	}
	m->removed = true;
}

int member_conf_apply_entry(struct member *m, const struct raft_entry *e)
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
				    member_conf_find_rec(m, c->node_id);
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

/* The membership as a snapshot carries it (cetcdpb.Membership). */
int member_conf_pack(struct member *m, uint8_t **data, size_t *len)
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
		member_set_str(&mv[i].name, rec->name);
		mv[i].n_peer_urls = rec->n_peer_urls;
		mv[i].peer_urls = rec->peer_urls;
		mv[i].n_client_urls = rec->n_client_urls;
		mv[i].client_urls = rec->client_urls;
		mv[i].is_learner = rec->is_learner;
		mp[i] = &mv[i];
	}
	ms.n_members = m->n_members;
	ms.members = mp;
	r = member_pack_msg(&ms.base, data, len);
	mem_free(mv);
	mem_free(mp);
	return r;
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
 * Load the membership a snapshot carries (cetcdpb.Membership in data).
 * On restart (reset false) every listed member is added and a peer stream
 * opened to each other one.  From the leader's snapshot (reset true) the
 * membership becomes the snapshot's: members it does not list are
 * dropped, the others updated; a peer stream is (re)opened only for a
 * member that is new or whose peer URLs changed, so the stream to the
 * leader survives.
 */
int member_conf_load(struct member *m, const uint8_t *data, size_t len,
		     bool reset)
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
	for (size_t i = 0; reset && i < m->n_members;) {
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
		struct member_rec *rec = member_conf_find_rec(m, cm->id);
		bool reconnect = !reset || rec == NULL ||
				 !same_strv(rec->peer_urls, rec->n_peer_urls,
					    cm->peer_urls, cm->n_peer_urls);

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
		r = member_conf_dup_strv(&rec->peer_urls, &rec->n_peer_urls,
					 cm->peer_urls, cm->n_peer_urls);
		if (r >= 0) {
			r = member_conf_dup_strv(
			    &rec->client_urls, &rec->n_client_urls,
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
