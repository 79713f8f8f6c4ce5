/*
 * raft/text.c - one-line text forms of messages and entries, for debug logs
 * and golden test transcripts (raft/raft.h).  The format is stable: tests
 * compare it byte for byte.
 */
#include "raft/raft.h"

#include <inttypes.h>

#include "raft/progress.h"

static const char *const msg_names[RAFT_MSG_TYPE_COUNT] = {
    [RAFT_MSG_HUP] = "MsgHup",
    [RAFT_MSG_BEAT] = "MsgBeat",
    [RAFT_MSG_PROP] = "MsgProp",
    [RAFT_MSG_APP] = "MsgApp",
    [RAFT_MSG_APP_RESP] = "MsgAppResp",
    [RAFT_MSG_VOTE] = "MsgVote",
    [RAFT_MSG_VOTE_RESP] = "MsgVoteResp",
    [RAFT_MSG_SNAP] = "MsgSnap",
    [RAFT_MSG_HEARTBEAT] = "MsgHeartbeat",
    [RAFT_MSG_HEARTBEAT_RESP] = "MsgHeartbeatResp",
    [RAFT_MSG_UNREACHABLE] = "MsgUnreachable",
    [RAFT_MSG_SNAP_STATUS] = "MsgSnapStatus",
    [RAFT_MSG_CHECK_QUORUM] = "MsgCheckQuorum",
    [RAFT_MSG_TRANSFER_LEADER] = "MsgTransferLeader",
    [RAFT_MSG_TIMEOUT_NOW] = "MsgTimeoutNow",
    [RAFT_MSG_READ_INDEX] = "MsgReadIndex",
    [RAFT_MSG_READ_INDEX_RESP] = "MsgReadIndexResp",
    [RAFT_MSG_PRE_VOTE] = "MsgPreVote",
    [RAFT_MSG_PRE_VOTE_RESP] = "MsgPreVoteResp",
};

const char *raft_msg_type_name(enum raft_msg_type t)
{
	if ((unsigned)t < RAFT_MSG_TYPE_COUNT) {
		return msg_names[t];
	}
	return "Msg?";
}

/* Data as 'text' when printable (short), else as hex; long data is cut. */
static int format_bytes(struct buf *b, const uint8_t *p, size_t len)
{
	size_t show = len > 32 ? 32 : len;
	bool printable = true;
	int e;

	for (size_t i = 0; i < show; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e || p[i] == '\'' ||
		    p[i] == '\\') {
			printable = false;
		}
	}
	if (printable) {
		e = buf_printf(b, "'%.*s'", (int)show, (const char *)p);
	} else {
		e = buf_append_str(b, "0x");
		for (size_t i = 0; e == 0 && i < show; i++) {
			e = buf_printf(b, "%02x", p[i]);
		}
	}
	if (e == 0 && show < len) {
		e = buf_printf(b, "...(%zu)", len);
	}
	return e;
}

int raft_entry_format(struct buf *b, const struct raft_entry *e)
{
	int r = buf_printf(b, "%" PRIu64 "/%" PRIu64, e->term, e->index);

	if (r == 0 && e->type == RAFT_ENTRY_CONF_CHANGE) {
		r = buf_append_str(b, " CC");
	} else if (r == 0 && e->type == RAFT_ENTRY_CONF_CHANGE_V2) {
		r = buf_append_str(b, " CCv2");
	}
	if (r == 0 && e->len > 0) {
		r = buf_append_byte(b, ' ');
		if (r == 0) {
			r = format_bytes(b, e->data, e->len);
		}
	}
	return r;
}

static int format_ids(struct buf *b, const char *name, const raft_id *ids,
		      size_t n)
{
	int r = buf_printf(b, " %s=(", name);

	for (size_t i = 0; r == 0 && i < n; i++) {
		r = buf_printf(b, "%s%" PRIu64, i ? " " : "", ids[i]);
	}
	return r ? r : buf_append_byte(b, ')');
}

int raft_message_format(struct buf *b, const struct raft_message *m)
{
	int r = buf_printf(b, "%" PRIu64 "->%" PRIu64 " %s t%" PRIu64, m->from,
			   m->to, raft_msg_type_name(m->type), m->term);

	if (r == 0 && (m->log_term || m->index)) {
		r = buf_printf(b, " lt%" PRIu64 " i%" PRIu64, m->log_term,
			       m->index);
	}
	if (r == 0 && m->commit) {
		r = buf_printf(b, " c%" PRIu64, m->commit);
	}
	if (r == 0 && m->reject) {
		r = buf_printf(b, " rejected (hint: %" PRIu64 ")",
			       m->reject_hint);
	}
	if (r == 0 && m->n_entries > 0) {
		r = buf_append_str(b, " [");
		for (size_t i = 0; r == 0 && i < m->n_entries; i++) {
			if (i > 0) {
				r = buf_append_byte(b, ' ');
			}
			if (r == 0) {
				r = raft_entry_format(b, &m->entries[i]);
			}
		}
		if (r == 0) {
			r = buf_append_byte(b, ']');
		}
	}
	if (r == 0 && m->type == RAFT_MSG_SNAP) {
		const struct raft_conf_state *cs = &m->snapshot.meta.conf;

		r = buf_printf(b, " snap i%" PRIu64 " t%" PRIu64,
			       m->snapshot.meta.index, m->snapshot.meta.term);
		if (r == 0) {
			r = format_ids(b, "voters", cs->voters, cs->n_voters);
		}
		if (r == 0 && cs->n_voters_outgoing) {
			r = format_ids(b, "outgoing", cs->voters_outgoing,
				       cs->n_voters_outgoing);
		}
		if (r == 0 && cs->n_learners) {
			r = format_ids(b, "learners", cs->learners,
				       cs->n_learners);
		}
	}
	if (r == 0 && m->context_len > 0) {
		r = buf_append_str(b, " ctx=");
		if (r == 0) {
			r = format_bytes(b, m->context, m->context_len);
		}
	}
	return r;
}
