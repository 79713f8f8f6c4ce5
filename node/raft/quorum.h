/*
 * raft/quorum.h - quorum arithmetic, pure functions over id lists.
 *
 * A majority configuration is a set of voter ids; a joint configuration is
 * two of them (incoming, outgoing) and needs a majority of EACH (Raft thesis
 * 4.3).  An empty majority configuration agrees to everything: it commits
 * every index and wins every vote, so a joint configuration whose outgoing
 * half is empty behaves exactly as its incoming half.
 *
 * Invariants:
 *  1. No function allocates or keeps a pointer it was given.
 *  2. Id lists hold no duplicates (the caller's duty); order is irrelevant.
 */
#ifndef CETCD_RAFT_QUORUM_H
#define CETCD_RAFT_QUORUM_H

#include "raft/types.h"

enum raft_vote_result {
	RAFT_VOTE_PENDING = 1, /* neither won nor lost yet */
	RAFT_VOTE_LOST = 2,
	RAFT_VOTE_WON = 3,
};

/* Match index of voter id; return false when it has none (counts as 0). */
typedef bool (*raft_acked_fn)(const void *arg, raft_id id, raft_index *out);
/* Vote of id: 1 granted, 0 rejected, -1 not (yet) received. */
typedef int (*raft_vote_fn)(const void *arg, raft_id id);

/* The largest index acknowledged by a majority of ids (UINT64_MAX if n = 0). */
raft_index raft_majority_committed(const raft_id *ids, size_t n,
				   raft_acked_fn acked, const void *arg);
enum raft_vote_result raft_majority_vote(const raft_id *ids, size_t n,
					 raft_vote_fn vote, const void *arg);

/* Joint forms: min of the two halves; lost if either lost, won if both won. */
raft_index raft_joint_committed(const raft_id *in, size_t n_in,
				const raft_id *out, size_t n_out,
				raft_acked_fn acked, const void *arg);
enum raft_vote_result raft_joint_vote(const raft_id *in, size_t n_in,
				      const raft_id *out, size_t n_out,
				      raft_vote_fn vote, const void *arg);

bool raft_ids_contain(const raft_id *ids, size_t n, raft_id id);

#endif
