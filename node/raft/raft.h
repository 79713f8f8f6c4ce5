/*
 * raft/raft.h - the Raft consensus algorithm as a pure state machine.
 *
 * The shape is etcd-io/raft's RawNode: the application feeds in time
 * (raft_tick), messages from peers (raft_step) and requests (raft_propose,
 * raft_read_index, raft_transfer_leader, ...); the node answers only through
 * raft_ready(): what to persist, what to send, what to apply.  The library
 * does no I/O, reads no clock, starts no thread and keeps no global state;
 * its randomness (election timeouts) comes from the seed in its config, so
 * the same inputs always give the same outputs.  Local events are messages
 * too (RAFT_MSG_HUP starts an election, RAFT_MSG_BEAT a heartbeat round,
 * RAFT_MSG_PROP carries proposals), so every input goes through raft_step.
 *
 * Features: leader election with randomized timeouts, pre-vote and
 * check-quorum (Raft thesis 9.6, 6.2); log replication with per-follower
 * progress, an inflight window, a message size limit and fast backtracking
 * (thesis 5.3); commit by quorum of entries of the current term only (Raft
 * paper 5.4.2, Figure 8); snapshots (thesis 5); ReadIndex (thesis 6.4);
 * leader transfer (thesis 3.10); learners and membership changes, single or
 * by joint consensus (thesis 4.3).
 *
 * THE READY CONTRACT.  The application runs this loop on one thread:
 *
 *   1. Feed inputs: raft_tick() every tick interval, raft_step() for every
 *      message received from a peer, raft_propose() & co. for requests.
 *   2. When raft_has_ready() is true, call raft_ready(n, &rd).  From here
 *      until step 6 make no other call on n: the Ready borrows n's state.
 *   3. Persist, in this order and before any message of rd is sent (except
 *      as 4 allows): rd.snapshot if rd.snapshot.meta.index != 0 (the storage
 *      is replaced by it), rd.entries (appended; they may overwrite stored
 *      entries from their first index on), then rd.hard_state if
 *      rd.has_hard_state.  When rd.must_sync is true these writes must be
 *      durable (fsync'd); otherwise they may stay buffered.
 *   4. Send rd.messages.  A LEADER (rd.soft_state.state == RAFT_LEADER, or
 *      unchanged as leader) may send them while its own rd.entries are being
 *      written, once rd.hard_state is durable (thesis 10.2.1): the leader
 *      counts its own log toward a commit only at raft_advance(), i.e. after
 *      its write finished.  Everyone else sends only after step 3 finished:
 *      a vote or an acknowledgement promises durable state.  A message that
 *      cannot be delivered is dropped (call raft_report_unreachable()); for
 *      a failed snapshot transfer call raft_report_snapshot().
 *   5. Apply: first rd.snapshot (the application's state becomes the
 *      snapshot's data), then rd.committed_entries in order.  A committed
 *      entry of type RAFT_ENTRY_CONF_CHANGE(_V2) is decoded with
 *      raft_conf_change_decode() and handed to raft_apply_conf_change() —
 *      this is the only call on n allowed between steps 2 and 6.  Serve the
 *      reads in rd.read_states once the applied index reaches their index.
 *   6. raft_advance(n): the node learns that steps 3-5 are done, frees rd,
 *      and may produce the next Ready.
 *
 * Errors.  Functions return 0 or a negative code: -ERR_NO_LEADER (proposal
 * or read with no known leader), -ERR_PROPOSAL_DROPPED (the leader is
 * transferring leadership, a configuration change is pending, forwarding is
 * disabled, or this node is not a member), -ERR_INVALID (bad argument),
 * -ENOMEM, or a storage error.  -ENOMEM, storage errors and -ERR_CORRUPT (a
 * broken safety property, e.g. a committed entry overwritten) are sticky:
 * the node refuses all further work and must be discarded.  A malformed
 * message from a peer is refused with -ERR_INVALID and changes nothing.
 *
 * Where cetcd differs from etcd-io/raft (each marked "cetcd:" in raft.c):
 *  - A leader that applies a change removing (or demoting) itself steps
 *    down at once, so the others elect a leader without waiting for the
 *    application to stop it.
 *  - A snapshot whose configuration does not list this node yet is
 *    installed (a new member gets the last snapshot, which may predate the
 *    change that added it).
 *  - A configuration change proposed while another is pending, or that
 *    does not fit (entering joint twice, leaving a non-joint configuration)
 *    fails with -ERR_PROPOSAL_DROPPED instead of becoming an empty entry.
 *  - ReadIndex is the safe (heartbeat round) form only, no lease reads;
 *    requests are batched per raft_ready().
 *  - A message from an older term's leader is always answered with our
 *    term (etcd: only with pre-vote or check-quorum), so a member whose
 *    term ran ahead while it lagged behind cannot stall the cluster.
 *  - No limit on the size of uncommitted proposals (etcd's
 *    MaxUncommittedEntriesSize); the application bounds its queue.
 */
#ifndef CETCD_RAFT_RAFT_H
#define CETCD_RAFT_RAFT_H

#include "base/buf.h"
#include "raft/storage.h"
#include "raft/types.h"

/* Numbers as raftpb.MessageType (node/proto/raftpb.proto). */
enum raft_msg_type {
	RAFT_MSG_HUP = 0,      /* local: start an election */
	RAFT_MSG_BEAT = 1,     /* local: leader sends heartbeats */
	RAFT_MSG_PROP = 2,     /* proposal (local or forwarded) */
	RAFT_MSG_APP = 3,      /* AppendEntries */
	RAFT_MSG_APP_RESP = 4, /* reply; reject + hints on mismatch */
	RAFT_MSG_VOTE = 5,     /* RequestVote */
	RAFT_MSG_VOTE_RESP = 6,
	RAFT_MSG_SNAP = 7, /* InstallSnapshot */
	RAFT_MSG_HEARTBEAT = 8,
	RAFT_MSG_HEARTBEAT_RESP = 9,
	RAFT_MSG_UNREACHABLE = 10,     /* local: a peer was unreachable */
	RAFT_MSG_SNAP_STATUS = 11,     /* local: snapshot transfer result */
	RAFT_MSG_CHECK_QUORUM = 12,    /* local: leader checks its quorum */
	RAFT_MSG_TRANSFER_LEADER = 13, /* from = the desired new leader */
	RAFT_MSG_TIMEOUT_NOW = 14,     /* campaign now (leader transfer) */
	RAFT_MSG_READ_INDEX = 15,
	RAFT_MSG_READ_INDEX_RESP = 16,
	RAFT_MSG_PRE_VOTE = 17,
	RAFT_MSG_PRE_VOTE_RESP = 18,
};
#define RAFT_MSG_TYPE_COUNT 19

/*
 * A message.  Everything it points to is owned by the message: messages in
 * a Ready belong to the node until raft_advance(); a message passed to
 * raft_step() is borrowed (the node copies what it keeps).
 * snapshot is meaningful only for RAFT_MSG_SNAP.
 */
struct raft_message {
	enum raft_msg_type type;
	raft_id to;
	raft_id from;
	raft_term term;
	raft_term log_term;
	raft_index index;
	struct raft_entry *entries;
	size_t n_entries;
	raft_index commit;
	struct raft_snapshot snapshot;
	bool reject;
	raft_index reject_hint;
	uint8_t *context;
	size_t context_len;
};

/* Free what m owns (not m itself). */
void raft_message_done(struct raft_message *m);
/* Deep copy; 0 or -ENOMEM (dst written only on success). */
int raft_message_copy(struct raft_message *dst, const struct raft_message *src);

enum raft_state {
	RAFT_FOLLOWER = 0,
	RAFT_CANDIDATE = 1,
	RAFT_LEADER = 2,
	RAFT_PRE_CANDIDATE = 3,
};

const char *raft_state_name(enum raft_state s);
const char *raft_msg_type_name(enum raft_msg_type t);

struct raft_config {
	raft_id id;	    /* this node's id, not 0 */
	int election_tick;  /* ticks without a leader before campaigning;
			       timeouts are random in [e, 2e) */
	int heartbeat_tick; /* ticks between heartbeats; < election */
	struct raft_storage storage; /* borrowed for the node's lifetime */
	raft_index applied;	     /* restart: last index the app applied
					(<= last index; implies committed) */
	uint64_t max_size_per_msg;   /* bytes of entries per append (0: one) */
	uint64_t max_committed_size_per_ready; /* 0: RAFT_NO_LIMIT */
	size_t max_inflight_msgs; /* appends in flight per follower, > 0 */
	bool check_quorum;	  /* leader steps down without a quorum */
	bool pre_vote;		  /* pre-vote before disrupting elections */
	bool disable_proposal_forwarding;
	uint64_t seed; /* randomness for election timeouts */
};

struct raft_soft_state {
	raft_id lead;
	enum raft_state state;
};

/* A confirmed read: once applied >= index, a read for ctx is linearizable. */
struct raft_read_state {
	raft_index index;
	uint8_t *ctx;
	size_t ctx_len;
};

/* All of it owned by the node until raft_advance(). */
struct raft_ready {
	bool has_soft_state; /* soft_state changed since the last Ready */
	struct raft_soft_state soft_state;
	bool has_hard_state; /* hard_state changed: persist it */
	struct raft_hard_state hard_state;
	struct raft_read_state *read_states;
	size_t n_read_states;
	struct raft_entry *entries; /* persist before sending */
	size_t n_entries;
	struct raft_snapshot snapshot;	      /* meta.index == 0: none */
	struct raft_entry *committed_entries; /* apply in order */
	size_t n_committed_entries;
	struct raft_message *messages;
	size_t n_messages;
	bool must_sync;
};

struct raft;
struct raft_progress;

/*
 * A node whose state comes from cfg->storage (initial_state: hard state and
 * membership; the log).  A new cluster's members start with storage whose
 * conf state lists the initial voters.  0, -ERR_INVALID or -ENOMEM.
 */
int raft_new(const struct raft_config *cfg, struct raft **out);
void raft_free(struct raft *r);

/* One tick of logical time. */
int raft_tick(struct raft *r);
/* Process a message from a peer (or a local one); m is borrowed. */
int raft_step(struct raft *r, const struct raft_message *m);
/* Propose data (copied) as a normal entry. */
int raft_propose(struct raft *r, const uint8_t *data, size_t len);
/* Propose n entries at once (type and data used; copied). */
int raft_propose_entries(struct raft *r, const struct raft_entry *ents,
			 size_t n);
/* Start an election now (RAFT_MSG_HUP). */
int raft_campaign(struct raft *r);
/*
 * Ask for a linearizable read; ctx (copied, unique per request) comes back
 * in a read state.  Reads are batched: all requests made before the next
 * raft_ready() share one heartbeat round.
 */
int raft_read_index(struct raft *r, const uint8_t *ctx, size_t len);
/* Ask the leader to hand leadership to transferee. */
int raft_transfer_leader(struct raft *r, raft_id transferee);
/* The transport could not deliver to id. */
int raft_report_unreachable(struct raft *r, raft_id id);
/* The snapshot sent to id was (not) installed. */
int raft_report_snapshot(struct raft *r, raft_id id, bool failed);

bool raft_has_ready(struct raft *r);
/* Precondition: raft_has_ready(r).  *rd is valid until raft_advance(). */
int raft_ready(struct raft *r, struct raft_ready *rd);
int raft_advance(struct raft *r, struct raft_ready *rd);

/* Membership changes (raft/confchange.c). */
enum raft_cc_type {
	RAFT_CC_ADD_NODE = 0,
	RAFT_CC_REMOVE_NODE = 1,
	RAFT_CC_UPDATE_NODE = 2,
	RAFT_CC_ADD_LEARNER = 3,
};

enum raft_cc_transition {
	RAFT_CC_AUTO = 0, /* simple if possible, else joint+auto leave */
	RAFT_CC_JOINT_IMPLICIT = 1, /* joint, left automatically */
	RAFT_CC_JOINT_EXPLICIT = 2, /* joint, left by an empty change */
};

struct raft_cc_single {
	enum raft_cc_type type;
	raft_id node_id;
};

/* A ConfChangeV2; no changes and transition AUTO means "leave joint". */
struct raft_conf_change {
	enum raft_cc_transition transition;
	struct raft_cc_single *changes;
	size_t n_changes;
	uint8_t *context;
	size_t context_len;
};

void raft_conf_change_done(struct raft_conf_change *cc);
/* Encode as raftpb.ConfChangeV2 into a new buffer (owned by the caller). */
int raft_conf_change_encode(const struct raft_conf_change *cc, uint8_t **data,
			    size_t *len);
/* Decode an entry of type CONF_CHANGE (ConfChange) or CONF_CHANGE_V2. */
int raft_conf_change_decode(const struct raft_entry *e,
			    struct raft_conf_change *out);
/* Propose a membership change (an entry of type CONF_CHANGE_V2). */
int raft_propose_conf_change(struct raft *r, const struct raft_conf_change *cc);
/*
 * Apply a committed change (step 5 of the contract); the new membership is
 * written to *cs (owned by the caller) when cs is not NULL; save it with the
 * next snapshot.  -ERR_INVALID when the change is not valid in the current
 * configuration (it is then ignored, as on every member).
 */
int raft_apply_conf_change(struct raft *r, const struct raft_conf_change *cc,
			   struct raft_conf_state *cs);

/* What raft_status() reports. */
struct raft_status {
	raft_id id;
	struct raft_hard_state hs;
	struct raft_soft_state ss;
	raft_index applied;
	raft_index last_index;
	raft_id lead_transferee;
};

void raft_status(struct raft *r, struct raft_status *out);
/* The membership in force (borrowed until the next call on r). */
const struct raft_conf_state *raft_conf(struct raft *r);
/* Leader only: the replication progress of member id, NULL if unknown. */
const struct raft_progress *raft_progress_of(struct raft *r, raft_id id);

/*
 * One-line text forms for logs and golden transcripts, appended to b:
 *   "1->2 MsgApp t3 lt2 i5 c4 [3/6 3/7 'x']"   and   "3/6 'data'"
 * (term/index, data shown as printable text or as hex).  0 or -ENOMEM.
 */
int raft_message_format(struct buf *b, const struct raft_message *m);
int raft_entry_format(struct buf *b, const struct raft_entry *e);

#endif
