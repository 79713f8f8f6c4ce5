/*
 * raftmsg.c - raft_message <-> raftpb.Message (raftmsg.h).
 *
 * Encoding builds a protobuf-c view whose byte fields borrow the message's
 * buffers (nothing is copied before packing); decoding unpacks with
 * proto_allocator and deep-copies into the raft structs, so the two
 * allocation schemes never mix.
 */
#include "server/raftmsg.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "proto/proto.h"

static void conf_view(Raftpb__ConfState *v, const struct raft_conf_state *cs)
{
	raftpb__conf_state__init(v);
	v->n_voters = cs->n_voters;
	v->voters = cs->voters;
	v->n_learners = cs->n_learners;
	v->learners = cs->learners;
	v->n_voters_outgoing = cs->n_voters_outgoing;
	v->voters_outgoing = cs->voters_outgoing;
	v->n_learners_next = cs->n_learners_next;
	v->learners_next = cs->learners_next;
	v->auto_leave = cs->auto_leave;
}

int raftmsg_encode(const struct raft_message *m, uint8_t **data, size_t *len)
{
	Raftpb__Message pm = RAFTPB__MESSAGE__INIT;
	Raftpb__Snapshot ps = RAFTPB__SNAPSHOT__INIT;
	Raftpb__SnapshotMetadata pmeta = RAFTPB__SNAPSHOT_METADATA__INIT;
	Raftpb__ConfState pcs;
	Raftpb__Entry *pe = NULL, **pep = NULL;
	uint8_t *out;
	size_t n;

	pm.type = (Raftpb__MessageType)m->type;
	pm.to = m->to;
	pm.from = m->from;
	pm.term = m->term;
	pm.logterm = m->log_term;
	pm.index = m->index;
	pm.commit = m->commit;
	pm.reject = m->reject;
	pm.rejecthint = m->reject_hint;
	pm.context.data = m->context;
	pm.context.len = m->context_len;
	if (m->n_entries > 0) {
		pe = mem_calloc(m->n_entries, sizeof(*pe));
		pep = mem_calloc(m->n_entries, sizeof(*pep));
		if (pe == NULL || pep == NULL) {
			mem_free(pe);
			mem_free(pep);
			return -ENOMEM;
		}
		for (size_t i = 0; i < m->n_entries; i++) {
			raftpb__entry__init(&pe[i]);
			pe[i].term = m->entries[i].term;
			pe[i].index = m->entries[i].index;
			pe[i].type = (Raftpb__EntryType)m->entries[i].type;
			pe[i].data.data = m->entries[i].data;
			pe[i].data.len = m->entries[i].len;
			pep[i] = &pe[i];
		}
		pm.n_entries = m->n_entries;
		pm.entries = pep;
	}
	if (m->type == RAFT_MSG_SNAP) {
		conf_view(&pcs, &m->snapshot.meta.conf);
		pmeta.conf_state = &pcs;
		pmeta.index = m->snapshot.meta.index;
		pmeta.term = m->snapshot.meta.term;
		ps.metadata = &pmeta;
		ps.data.data = m->snapshot.data;
		ps.data.len = m->snapshot.len;
		pm.snapshot = &ps;
	}
	n = raftpb__message__get_packed_size(&pm);
	out = mem_alloc(n > 0 ? n : 1);
	if (out == NULL) {
		mem_free(pe);
		mem_free(pep);
		return -ENOMEM;
	}
	raftpb__message__pack(&pm, out);
	mem_free(pe);
	mem_free(pep);
	*data = out;
	*len = n;
	return 0;
}

static int dup_ids(uint64_t **dst, size_t *n_dst, const uint64_t *src, size_t n)
{
	*dst = NULL;
	*n_dst = 0;
	if (n == 0) {
		return 0;
	}
	*dst = mem_dup(src, n * sizeof(*src));
	if (*dst == NULL) {
		return -ENOMEM;
	}
	*n_dst = n;
	return 0;
}

static int conf_copy(struct raft_conf_state *cs, const Raftpb__ConfState *p)
{
	memset(cs, 0, sizeof(*cs));
	if (p == NULL) {
		return 0;
	}
	if (dup_ids(&cs->voters, &cs->n_voters, p->voters, p->n_voters) < 0 ||
	    dup_ids(&cs->learners, &cs->n_learners, p->learners,
		    p->n_learners) < 0 ||
	    dup_ids(&cs->voters_outgoing, &cs->n_voters_outgoing,
		    p->voters_outgoing, p->n_voters_outgoing) < 0 ||
	    dup_ids(&cs->learners_next, &cs->n_learners_next, p->learners_next,
		    p->n_learners_next) < 0) {
		raft_conf_state_done(cs);
		return -ENOMEM;
	}
	cs->auto_leave = p->auto_leave;
	return 0;
}

static uint8_t *dup_bytes(const ProtobufCBinaryData *b)
{
	return b->len > 0 ? mem_dup(b->data, b->len) : NULL;
}

int raftmsg_decode(const uint8_t *data, size_t len, struct raft_message *out)
{
	ProtobufCMessage *pmsg;
	Raftpb__Message *pm;
	struct raft_message m;
	int r;

	r = proto_unpack(&raftpb__message__descriptor, data, len, &pmsg);
	if (r < 0) {
		return r;
	}
	pm = (Raftpb__Message *)pmsg;
	if ((unsigned)pm->type >= RAFT_MSG_TYPE_COUNT) {
		proto_free(pmsg);
		return -ERR_PARSE;
	}
	memset(&m, 0, sizeof(m));
	m.type = (enum raft_msg_type)pm->type;
	m.to = pm->to;
	m.from = pm->from;
	m.term = pm->term;
	m.log_term = pm->logterm;
	m.index = pm->index;
	m.commit = pm->commit;
	m.reject = pm->reject;
	m.reject_hint = pm->rejecthint;
	r = 0;
	if (pm->context.len > 0) {
		m.context = dup_bytes(&pm->context);
		m.context_len = pm->context.len;
		if (m.context == NULL) {
			r = -ENOMEM;
		}
	}
	if (r == 0 && pm->n_entries > 0) {
		m.entries = mem_calloc(pm->n_entries, sizeof(*m.entries));
		if (m.entries == NULL) {
			r = -ENOMEM;
		}
		for (size_t i = 0; r == 0 && i < pm->n_entries; i++) {
			const Raftpb__Entry *pe = pm->entries[i];
			struct raft_entry *e = &m.entries[i];

			m.n_entries = i + 1;
			if ((unsigned)pe->type > RAFT_ENTRY_CONF_CHANGE_V2) {
				r = -ERR_PARSE;
				break;
			}
			e->term = pe->term;
			e->index = pe->index;
			e->type = (enum raft_entry_type)pe->type;
			e->len = pe->data.len;
			if (pe->data.len > 0) {
				e->data = dup_bytes(&pe->data);
				if (e->data == NULL) {
					r = -ENOMEM;
				}
			}
		}
	}
	if (r == 0 && pm->snapshot != NULL) {
		const Raftpb__Snapshot *ps = pm->snapshot;
		if (ps->metadata != NULL) {
			m.snapshot.meta.index = ps->metadata->index;
			m.snapshot.meta.term = ps->metadata->term;
			r = conf_copy(&m.snapshot.meta.conf,
				      ps->metadata->conf_state);
		}
		if (r == 0 && ps->data.len > 0) {
			m.snapshot.data = dup_bytes(&ps->data);
			m.snapshot.len = ps->data.len;
			if (m.snapshot.data == NULL) {
				r = -ENOMEM;
			}
		}
	}
	proto_free(pmsg);
	if (r < 0) {
		raft_message_done(&m);
		return r;
	}
	*out = m;
	return 0;
}
