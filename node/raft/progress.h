/*
 * raft/progress.h - what a leader knows about each member's log, and the
 * membership configuration those members form (etcd's tracker package).
 *
 * Progress states (one per member, leader only):
 *
 *     PROBE ----(append acked)----> REPLICATE
 *       ^  \                          |
 *       |   `--(needs compacted)--> SNAPSHOT
 *       `---(rejected / unreachable / snapshot done or failed)
 *
 *   PROBE      one append per heartbeat interval until the follower's match
 *              point is found (probe_sent pauses it in between).
 *   REPLICATE  appends are streamed optimistically (next runs ahead of
 *              match); at most max_inflight unacknowledged messages.
 *   SNAPSHOT   a snapshot is in flight; nothing else is sent.
 *
 * Invariants:
 *  1. match < next; match only grows while the leader's term lasts.
 *  2. The inflight window holds the last index of each unacknowledged append
 *     in increasing order; it is non-empty only in REPLICATE.
 *  3. The tracker holds exactly one progress per id in its configuration
 *     (voters, outgoing voters, learners, learners_next), sorted by id.
 */
#ifndef CETCD_RAFT_PROGRESS_H
#define CETCD_RAFT_PROGRESS_H

#include "raft/quorum.h"
#include "raft/types.h"

enum raft_progress_state {
	RAFT_PROGRESS_PROBE = 0,
	RAFT_PROGRESS_REPLICATE = 1,
	RAFT_PROGRESS_SNAPSHOT = 2,
};

/* A ring of the last indexes of appends not acknowledged yet. */
struct raft_inflights {
	raft_index *buf;
	size_t start, count, size;
};

struct raft_progress {
	raft_id id;
	raft_index match, next;
	enum raft_progress_state state;
	raft_index pending_snapshot; /* index of the snapshot in flight */
	bool recent_active; /* heard from since the last quorum check */
	bool probe_sent;    /* PROBE: paused until a reply arrives */
	bool is_learner;
	int vote; /* this election: 1 granted, 0 rejected, -1 none */
	struct raft_inflights inflights;
};

const char *raft_progress_state_name(enum raft_progress_state s);

/* Inflights: size is the window; 0 or -ENOMEM. */
int raft_inflights_init(struct raft_inflights *in, size_t size);
void raft_inflights_done(struct raft_inflights *in);
bool raft_inflights_full(const struct raft_inflights *in);
/* Precondition: not full and index greater than every index held. */
void raft_inflights_add(struct raft_inflights *in, raft_index index);
/* Forget every append up to and including index (it was acknowledged). */
void raft_inflights_free_le(struct raft_inflights *in, raft_index index);
void raft_inflights_reset(struct raft_inflights *in);

void raft_progress_become_probe(struct raft_progress *pr);
void raft_progress_become_replicate(struct raft_progress *pr);
void raft_progress_become_snapshot(struct raft_progress *pr,
				   raft_index snap_index);
/* An append up to n was acknowledged: true when match grew. */
bool raft_progress_maybe_update(struct raft_progress *pr, raft_index n);
/* An append up to n was sent in REPLICATE: next moves past it. */
void raft_progress_optimistic_update(struct raft_progress *pr, raft_index n);
/*
 * The follower rejected an append at index rejected, hinting that its log
 * may match up to match_hint.  Returns false for a stale rejection (one that
 * does not concern the current next), true when next moved back.
 */
bool raft_progress_maybe_decr_to(struct raft_progress *pr, raft_index rejected,
				 raft_index match_hint);
/* Whether the leader must hold back appends to this member. */
bool raft_progress_is_paused(const struct raft_progress *pr);

struct raft_tracker {
	struct raft_conf_state conf; /* owned */
	struct raft_progress *prs;   /* sorted by id */
	size_t n_prs;
	size_t max_inflight;
};

void raft_tracker_init(struct raft_tracker *t, size_t max_inflight);
void raft_tracker_done(struct raft_tracker *t);
/*
 * Adopt configuration cs (copied): progress of members that left is dropped,
 * new members start probing at next = max(last_index, 1) and count as
 * recently active; learner flags follow cs.  0 or -ENOMEM (t unchanged).
 */
int raft_tracker_set_conf(struct raft_tracker *t,
			  const struct raft_conf_state *cs,
			  raft_index last_index);
struct raft_progress *raft_tracker_get(struct raft_tracker *t, raft_id id);
bool raft_tracker_is_joint(const struct raft_tracker *t);
/* A voter of the incoming or the outgoing configuration. */
bool raft_tracker_is_voter(const struct raft_tracker *t, raft_id id);
/* The largest index a quorum of voters has in its log (joint aware). */
raft_index raft_tracker_committed(const struct raft_tracker *t);
void raft_tracker_reset_votes(struct raft_tracker *t);
/* Record id's vote unless it already voted; ids not voting are ignored. */
void raft_tracker_record_vote(struct raft_tracker *t, raft_id id, bool granted);
enum raft_vote_result raft_tracker_tally(const struct raft_tracker *t,
					 size_t *granted, size_t *rejected);
/* Whether the members marked recent_active form a quorum. */
bool raft_tracker_quorum_active(const struct raft_tracker *t);

#endif
