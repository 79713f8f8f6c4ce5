/*
 * raft/quorum.c - majority and joint quorum arithmetic (raft/quorum.h).
 *
 * The committed index of a majority is the largest value v such that at
 * least n/2+1 voters acknowledged v or more.  With the few voters a cluster
 * has, counting for every candidate value (O(n^2)) beats sorting a copy and
 * needs no allocation.
 */
#include "raft/quorum.h"

bool raft_ids_contain(const raft_id *ids, size_t n, raft_id id)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == id) {
			return true;
		}
	}
	return false;
}

static raft_index acked_or_zero(raft_acked_fn acked, const void *arg,
				raft_id id)
{
	raft_index v = 0;

	if (!acked(arg, id, &v)) {
		return 0;
	}
	return v;
}

raft_index raft_majority_committed(const raft_id *ids, size_t n,
				   raft_acked_fn acked, const void *arg)
{
	size_t q = n / 2 + 1;
	raft_index best = 0;

	if (n == 0) {
		return UINT64_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		raft_index v = acked_or_zero(acked, arg, ids[i]);
		size_t count = 0;

		if (v <= best) {
			continue;
		}
		for (size_t j = 0; j < n; j++) {
			if (acked_or_zero(acked, arg, ids[j]) >= v) {
				count++;
			}
		}
		if (count >= q) {
			best = v;
		}
	}
	return best;
}

enum raft_vote_result raft_majority_vote(const raft_id *ids, size_t n,
					 raft_vote_fn vote, const void *arg)
{
	size_t yes = 0, missing = 0, q = n / 2 + 1;

	if (n == 0) {
		return RAFT_VOTE_WON;
	}
	for (size_t i = 0; i < n; i++) {
		int v = vote(arg, ids[i]);

		if (v > 0) {
			yes++;
		} else if (v < 0) {
			missing++;
		}
	}
	if (yes >= q) {
		return RAFT_VOTE_WON;
	}
	if (yes + missing >= q) {
		return RAFT_VOTE_PENDING;
	}
	return RAFT_VOTE_LOST;
}

raft_index raft_joint_committed(const raft_id *in, size_t n_in,
				const raft_id *out, size_t n_out,
				raft_acked_fn acked, const void *arg)
{
	raft_index a = raft_majority_committed(in, n_in, acked, arg);
	raft_index b = raft_majority_committed(out, n_out, acked, arg);

	return a < b ? a : b;
}

enum raft_vote_result raft_joint_vote(const raft_id *in, size_t n_in,
				      const raft_id *out, size_t n_out,
				      raft_vote_fn vote, const void *arg)
{
	enum raft_vote_result a = raft_majority_vote(in, n_in, vote, arg);
	enum raft_vote_result b = raft_majority_vote(out, n_out, vote, arg);

	if (a == b) {
		return a;
	}
	if (a == RAFT_VOTE_LOST || b == RAFT_VOTE_LOST) {
		return RAFT_VOTE_LOST;
	}
	return RAFT_VOTE_PENDING;
}
