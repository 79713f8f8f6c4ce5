/*
 * raft/confchange.c - membership changes: computing the next configuration
 * (a pure function) and the entry encoding of a change (raftpb.ConfChange
 * and raftpb.ConfChangeV2, node/proto/raftpb.proto).
 *
 * Thesis 4.3: a change of more than one voter goes through a joint
 * configuration C_old,new (decisions need a majority of both halves), then
 * to C_new.  A single voter change can go directly (thesis 4.1).
 *
 * Invariants of every configuration produced:
 *  1. The incoming voters are never empty.
 *  2. A member is in at most one of voters and learners; learners_next
 *     holds only outgoing voters that become learners when the joint
 *     configuration is left (so no voter turns learner while it counts).
 *  3. Outside a joint configuration voters_outgoing and learners_next are
 *     empty and auto_leave is false.
 */
#include <errno.h>
#include <string.h>

#include <protobuf-c/protobuf-c.h>

#include "base/err.h"
#include "base/mem.h"
#include "raft/quorum.h"
#include "raft/raft.h"
#include "raft/confchange.h"
#include "raftpb.pb-c.h"

/* A growable id set used while computing; freed by the caller. */
struct idset {
	raft_id *ids;
	size_t n;
};

static int idset_from(struct idset *s, const raft_id *ids, size_t n,
		      size_t extra)
{
	s->ids = mem_calloc(n + extra + 1, sizeof(*s->ids));
	if (!s->ids) {
		return -ENOMEM;
	}
	if (n > 0) {
		memcpy(s->ids, ids, n * sizeof(*ids));
	}
	s->n = n;
	return 0;
}

/* Capacity is assured by idset_from's extra. */
static void idset_add(struct idset *s, raft_id id)
{
	if (!raft_ids_contain(s->ids, s->n, id)) {
		s->ids[s->n++] = id;
	}
}

static void idset_del(struct idset *s, raft_id id)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->ids[i] == id) {
			s->ids[i] = s->ids[--s->n];
			return;
		}
	}
}

static bool is_leave(const struct raft_conf_change *cc)
{
	return cc->transition == RAFT_CC_AUTO && cc->n_changes == 0;
}

static bool enters_joint(const struct raft_conf_change *cc)
{
	return cc->transition != RAFT_CC_AUTO || cc->n_changes > 1;
}

int raft_confchange_next(const struct raft_conf_state *cur,
			 const struct raft_conf_change *cc,
			 struct raft_conf_state *out)
{
	bool joint = cur->n_voters_outgoing > 0;
	size_t extra = cc->n_changes;
	struct idset v = {0}, l = {0}, o = {0}, ln = {0};
	struct raft_conf_state next = {0};
	int e;

	if ((e = idset_from(&v, cur->voters, cur->n_voters, extra)) < 0 ||
	    (e = idset_from(&l, cur->learners, cur->n_learners,
			    extra + cur->n_learners_next)) < 0 ||
	    (e = idset_from(&o, cur->voters_outgoing, cur->n_voters_outgoing,
			    cur->n_voters)) < 0 ||
	    (e = idset_from(&ln, cur->learners_next, cur->n_learners_next,
			    extra)) < 0) {
		goto done;
	}
	if (is_leave(cc)) {
		if (!joint) {
			e = -ERR_INVALID;
			goto done;
		}
		for (size_t i = 0; i < ln.n; i++) {
			idset_add(&l, ln.ids[i]);
		}
		ln.n = 0;
		o.n = 0;
		next.auto_leave = false;
	} else {
		bool enter = enters_joint(cc);

		if (joint) {
			/* One change at a time: leave the joint one first. */
			e = -ERR_INVALID;
			goto done;
		}
		if (enter) {
			/* C_old becomes the outgoing half. */
			for (size_t i = 0; i < v.n; i++) {
				idset_add(&o, v.ids[i]);
			}
			next.auto_leave =
			    cc->transition != RAFT_CC_JOINT_EXPLICIT;
		}
		for (size_t i = 0; i < cc->n_changes; i++) {
			raft_id id = cc->changes[i].node_id;

			if (id == RAFT_NONE) {
				e = -ERR_INVALID;
				goto done;
			}
			switch (cc->changes[i].type) {
			case RAFT_CC_ADD_NODE:
				idset_del(&l, id);
				idset_del(&ln, id);
				idset_add(&v, id);
				break;
			case RAFT_CC_ADD_LEARNER:
				idset_del(&v, id);
				idset_del(&ln, id);
				if (raft_ids_contain(o.ids, o.n, id)) {
					/* Still votes in C_old: demote on
					 * leaving the joint config. */
					idset_del(&l, id);
					idset_add(&ln, id);
				} else {
					idset_add(&l, id);
				}
				break;
			case RAFT_CC_REMOVE_NODE:
				idset_del(&v, id);
				idset_del(&l, id);
				idset_del(&ln, id);
				break;
			case RAFT_CC_UPDATE_NODE:
				break;
			default:
				e = -ERR_INVALID;
				goto done;
			}
		}
		if (!enter) {
			/* Simple change: at most one voter differs. */
			size_t diff = 0;

			for (size_t i = 0; i < v.n; i++) {
				diff += !raft_ids_contain(
				    cur->voters, cur->n_voters, v.ids[i]);
			}
			for (size_t i = 0; i < cur->n_voters; i++) {
				diff += !raft_ids_contain(v.ids, v.n,
							  cur->voters[i]);
			}
			if (diff > 1) {
				e = -ERR_INVALID;
				goto done;
			}
		}
	}
	if (v.n == 0) {
		/* Removing every voter would leave nobody to decide. */
		e = -ERR_INVALID;
		goto done;
	}
	next.voters = v.ids;
	next.n_voters = v.n;
	next.learners = l.ids;
	next.n_learners = l.n;
	next.voters_outgoing = o.n ? o.ids : NULL;
	next.n_voters_outgoing = o.n;
	next.learners_next = ln.n ? ln.ids : NULL;
	next.n_learners_next = ln.n;
	if (!o.n) {
		mem_free(o.ids);
	}
	if (!ln.n) {
		mem_free(ln.ids);
	}
	if (!l.n) {
		mem_free(l.ids);
		next.learners = NULL;
	}
	*out = next;
	return 0;
done:
	mem_free(v.ids);
	mem_free(l.ids);
	mem_free(o.ids);
	mem_free(ln.ids);
	return e;
}

void raft_conf_change_done(struct raft_conf_change *cc)
{
	mem_free(cc->changes);
	mem_free(cc->context);
	memset(cc, 0, sizeof(*cc));
}

static void *pb_alloc(void *data, size_t size)
{
	(void)data;
	return mem_alloc(size);
}

static void pb_free(void *data, void *p)
{
	(void)data;
	mem_free(p);
}

static ProtobufCAllocator pb_allocator = {
    .alloc = pb_alloc,
    .free = pb_free,
    .allocator_data = NULL,
};

int raft_conf_change_encode(const struct raft_conf_change *cc, uint8_t **data,
			    size_t *len)
{
	Raftpb__ConfChangeV2 msg = RAFTPB__CONF_CHANGE_V2__INIT;
	Raftpb__ConfChangeSingle *singles = NULL, **ptrs = NULL;
	uint8_t *buf;
	size_t n;

	if (cc->n_changes > 0) {
		singles = mem_calloc(cc->n_changes, sizeof(*singles));
		ptrs = mem_calloc(cc->n_changes, sizeof(*ptrs));
		if (!singles || !ptrs) {
			mem_free(singles);
			mem_free(ptrs);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < cc->n_changes; i++) {
		Raftpb__ConfChangeSingle s = RAFTPB__CONF_CHANGE_SINGLE__INIT;

		s.type = (Raftpb__ConfChangeType)cc->changes[i].type;
		s.node_id = cc->changes[i].node_id;
		singles[i] = s;
		ptrs[i] = &singles[i];
	}
	msg.transition = (Raftpb__ConfChangeTransition)cc->transition;
	msg.n_changes = cc->n_changes;
	msg.changes = ptrs;
	msg.context.data = cc->context;
	msg.context.len = cc->context_len;
	n = raftpb__conf_change_v2__get_packed_size(&msg);
	buf = mem_alloc(n);
	if (!buf) {
		mem_free(singles);
		mem_free(ptrs);
		return -ENOMEM;
	}
	raftpb__conf_change_v2__pack(&msg, buf);
	mem_free(singles);
	mem_free(ptrs);
	*data = buf;
	*len = n;
	return 0;
}

static int valid_type(int t)
{
	return t >= RAFT_CC_ADD_NODE && t <= RAFT_CC_ADD_LEARNER;
}

int raft_conf_change_decode(const struct raft_entry *e,
			    struct raft_conf_change *out)
{
	struct raft_conf_change cc = {0};

	if (e->type == RAFT_ENTRY_CONF_CHANGE) {
		/* A single change: the simple case of V2. */
		Raftpb__ConfChange *m =
		    raftpb__conf_change__unpack(&pb_allocator, e->len, e->data);

		if (!m) {
			return -ERR_PARSE;
		}
		if (!valid_type(m->type)) {
			raftpb__conf_change__free_unpacked(m, &pb_allocator);
			return -ERR_PARSE;
		}
		cc.changes = mem_calloc(1, sizeof(*cc.changes));
		if (!cc.changes) {
			raftpb__conf_change__free_unpacked(m, &pb_allocator);
			return -ENOMEM;
		}
		cc.n_changes = 1;
		cc.changes[0].type = (enum raft_cc_type)m->type;
		cc.changes[0].node_id = m->node_id;
		if (m->context.len > 0) {
			cc.context = mem_dup(m->context.data, m->context.len);
			cc.context_len = m->context.len;
		}
		raftpb__conf_change__free_unpacked(m, &pb_allocator);
		if (cc.context_len > 0 && !cc.context) {
			raft_conf_change_done(&cc);
			return -ENOMEM;
		}
		*out = cc;
		return 0;
	}
	if (e->type == RAFT_ENTRY_CONF_CHANGE_V2) {
		Raftpb__ConfChangeV2 *m = raftpb__conf_change_v2__unpack(
		    &pb_allocator, e->len, e->data);

		if (!m) {
			return -ERR_PARSE;
		}
		if (m->transition >
		    RAFTPB__CONF_CHANGE_TRANSITION__ConfChangeTransitionJointExplicit) {
			raftpb__conf_change_v2__free_unpacked(m, &pb_allocator);
			return -ERR_PARSE;
		}
		cc.transition = (enum raft_cc_transition)m->transition;
		if (m->n_changes > 0) {
			cc.changes =
			    mem_calloc(m->n_changes, sizeof(*cc.changes));
			if (!cc.changes) {
				raftpb__conf_change_v2__free_unpacked(
				    m, &pb_allocator);
				return -ENOMEM;
			}
		}
		cc.n_changes = m->n_changes;
		for (size_t i = 0; i < m->n_changes; i++) {
			if (!valid_type(m->changes[i]->type)) {
				raftpb__conf_change_v2__free_unpacked(
				    m, &pb_allocator);
				raft_conf_change_done(&cc);
				return -ERR_PARSE;
			}
			cc.changes[i].type =
			    (enum raft_cc_type)m->changes[i]->type;
			cc.changes[i].node_id = m->changes[i]->node_id;
		}
		if (m->context.len > 0) {
			cc.context = mem_dup(m->context.data, m->context.len);
			cc.context_len = m->context.len;
		}
		raftpb__conf_change_v2__free_unpacked(m, &pb_allocator);
		if (cc.context_len > 0 && !cc.context) {
			raft_conf_change_done(&cc);
			return -ENOMEM;
		}
		*out = cc;
		return 0;
	}
	return -ERR_INVALID;
}
