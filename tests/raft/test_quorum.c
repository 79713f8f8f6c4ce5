/*
 * test_quorum.c - quorum arithmetic and progress tracking, each alone.
 */
#include "raft/progress.h"
#include "raft/quorum.h"
#include "testlib.h"

struct acks {
	raft_id ids[8];
	raft_index idx[8];
	int votes[8];
	size_t n;
};

static bool acked(const void *arg, raft_id id, raft_index *out)
{
	const struct acks *a = arg;

	for (size_t i = 0; i < a->n; i++) {
		if (a->ids[i] == id) {
			*out = a->idx[i];
			return true;
		}
	}
	return false;
}

static int voted(const void *arg, raft_id id)
{
	const struct acks *a = arg;

	for (size_t i = 0; i < a->n; i++) {
		if (a->ids[i] == id) {
			return a->votes[i];
		}
	}
	return -1;
}

START_TEST(test_majority_committed_is_the_quorum_th_largest_match)
{
	raft_id ids[] = {1, 2, 3, 4, 5};
	struct acks a = {
	    .ids = {1, 2, 3, 4, 5}, .idx = {5, 3, 9, 1, 4}, .n = 5};

	/* Sorted: 9 5 4 3 1; three voters have >= 4. */
	ck_assert_uint_eq(raft_majority_committed(ids, 5, acked, &a), 4);
	ck_assert_uint_eq(raft_majority_committed(ids, 3, acked, &a), 5);
	ck_assert_uint_eq(raft_majority_committed(ids, 1, acked, &a), 5);
	/* Missing voters count as 0. */
	a.n = 2;
	ck_assert_uint_eq(raft_majority_committed(ids, 3, acked, &a), 3);
	ck_assert_uint_eq(raft_majority_committed(ids, 4, acked, &a), 0);
	ck_assert_uint_eq(raft_majority_committed(ids, 0, acked, &a),
			  UINT64_MAX);
}
END_TEST

START_TEST(test_joint_committed_needs_both_majorities)
{
	raft_id in[] = {1, 2, 3}, out[] = {3, 4, 5};
	struct acks a = {
	    .ids = {1, 2, 3, 4, 5}, .idx = {9, 9, 2, 1, 1}, .n = 5};

	ck_assert_uint_eq(raft_majority_committed(in, 3, acked, &a), 9);
	ck_assert_uint_eq(raft_joint_committed(in, 3, out, 3, acked, &a), 1);
	ck_assert_uint_eq(raft_joint_committed(in, 3, NULL, 0, acked, &a), 9);
}
END_TEST

START_TEST(test_vote_results_won_lost_pending)
{
	raft_id ids[] = {1, 2, 3};
	raft_id out[] = {4, 5, 6};
	struct acks a = {
	    .ids = {1, 2, 3, 4, 5, 6}, .votes = {1, -1, -1, 1, 1, 0}, .n = 6};

	ck_assert_int_eq(raft_majority_vote(ids, 3, voted, &a),
			 RAFT_VOTE_PENDING);
	a.votes[1] = 0;
	ck_assert_int_eq(raft_majority_vote(ids, 3, voted, &a),
			 RAFT_VOTE_PENDING);
	a.votes[2] = 0;
	ck_assert_int_eq(raft_majority_vote(ids, 3, voted, &a), RAFT_VOTE_LOST);
	a.votes[2] = 1;
	ck_assert_int_eq(raft_majority_vote(ids, 3, voted, &a), RAFT_VOTE_WON);
	ck_assert_int_eq(raft_majority_vote(ids, 0, voted, &a), RAFT_VOTE_WON);
	ck_assert_int_eq(raft_joint_vote(ids, 3, out, 3, voted, &a),
			 RAFT_VOTE_WON);
	a.votes[4] = 0;
	ck_assert_int_eq(raft_joint_vote(ids, 3, out, 3, voted, &a),
			 RAFT_VOTE_LOST);
	a.votes[4] = -1;
	ck_assert_int_eq(raft_joint_vote(ids, 3, out, 3, voted, &a),
			 RAFT_VOTE_PENDING);
}
END_TEST

START_TEST(test_inflights_window_fills_and_frees_in_order)
{
	struct raft_inflights in;

	ck_assert_int_eq(raft_inflights_init(&in, 3), 0);
	raft_inflights_add(&in, 5);
	raft_inflights_add(&in, 7);
	ck_assert(!raft_inflights_full(&in));
	raft_inflights_add(&in, 9);
	ck_assert(raft_inflights_full(&in));
	raft_inflights_free_le(&in, 6);
	ck_assert_uint_eq(in.count, 2);
	raft_inflights_add(&in, 11); /* wraps around */
	ck_assert(raft_inflights_full(&in));
	raft_inflights_free_le(&in, 10);
	ck_assert_uint_eq(in.count, 1);
	raft_inflights_free_le(&in, 100);
	ck_assert_uint_eq(in.count, 0);
	raft_inflights_done(&in);
}
END_TEST

START_TEST(test_progress_probe_pauses_and_backtracks_with_hint)
{
	struct raft_progress pr = {.match = 0, .next = 10};

	ck_assert_int_eq(raft_inflights_init(&pr.inflights, 4), 0);
	ck_assert(!raft_progress_is_paused(&pr));
	pr.probe_sent = true;
	ck_assert(raft_progress_is_paused(&pr));
	/* A stale rejection (not for next-1) is ignored. */
	ck_assert(!raft_progress_maybe_decr_to(&pr, 5, 2));
	/* Rejection of 9 with hint 3: jump to 4, unpaused. */
	ck_assert(raft_progress_maybe_decr_to(&pr, 9, 3));
	ck_assert_uint_eq(pr.next, 4);
	ck_assert(!pr.probe_sent);
	/* Acknowledged: replicate, next after match. */
	ck_assert(raft_progress_maybe_update(&pr, 3));
	raft_progress_become_replicate(&pr);
	ck_assert_uint_eq(pr.next, 4);
	raft_progress_optimistic_update(&pr, 8);
	raft_inflights_add(&pr.inflights, 8);
	ck_assert_uint_eq(pr.next, 9);
	/* In replicate a rejection at or below match is stale. */
	ck_assert(!raft_progress_maybe_decr_to(&pr, 3, 0));
	ck_assert(raft_progress_maybe_decr_to(&pr, 8, 0));
	ck_assert_uint_eq(pr.next, 4);
	raft_progress_become_snapshot(&pr, 20);
	ck_assert(raft_progress_is_paused(&pr));
	raft_progress_become_probe(&pr);
	ck_assert_uint_eq(pr.next, 21);
	ck_assert(!raft_progress_maybe_update(&pr, 2));
	raft_inflights_done(&pr.inflights);
}
END_TEST

START_TEST(test_tracker_set_conf_keeps_progress_and_learner_flags)
{
	struct raft_tracker t;
	raft_id v1[] = {1, 2, 3}, l1[] = {4};
	raft_id v2[] = {1, 2, 4}, o2[] = {1, 2, 3};
	struct raft_conf_state c1 = {
	    .voters = v1, .n_voters = 3, .learners = l1, .n_learners = 1};
	struct raft_conf_state c2 = {.voters = v2,
				     .n_voters = 3,
				     .voters_outgoing = o2,
				     .n_voters_outgoing = 3};

	raft_tracker_init(&t, 8);
	ck_assert_int_eq(raft_tracker_set_conf(&t, &c1, 5), 0);
	ck_assert_uint_eq(t.n_prs, 4);
	ck_assert(raft_tracker_get(&t, 4)->is_learner);
	ck_assert_uint_eq(raft_tracker_get(&t, 2)->next, 5);
	raft_tracker_get(&t, 2)->match = 7;
	raft_tracker_get(&t, 1)->match = 7;
	ck_assert_uint_eq(raft_tracker_committed(&t), 7);
	ck_assert_int_eq(raft_tracker_set_conf(&t, &c2, 9), 0);
	ck_assert(raft_tracker_is_joint(&t));
	ck_assert(!raft_tracker_get(&t, 4)->is_learner);
	ck_assert_uint_eq(raft_tracker_get(&t, 2)->match, 7);
	/* New majority {1,2,4} has 1,2 at 7; old {1,2,3} too. */
	ck_assert_uint_eq(raft_tracker_committed(&t), 7);
	raft_tracker_get(&t, 1)->match = 0;
	ck_assert_uint_eq(raft_tracker_committed(&t), 0);
	raft_tracker_reset_votes(&t);
	raft_tracker_record_vote(&t, 1, true);
	raft_tracker_record_vote(&t, 2, true);
	ck_assert_int_eq(raft_tracker_tally(&t, NULL, NULL), RAFT_VOTE_WON);
	raft_tracker_record_vote(&t, 2, false); /* first vote counts */
	ck_assert_int_eq(raft_tracker_tally(&t, NULL, NULL), RAFT_VOTE_WON);
	raft_tracker_done(&t);
}
END_TEST

static Suite *quorum_suite(void)
{
	Suite *s = suite_create("raft_quorum_progress");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc,
		       test_majority_committed_is_the_quorum_th_largest_match);
	tcase_add_test(tc, test_joint_committed_needs_both_majorities);
	tcase_add_test(tc, test_vote_results_won_lost_pending);
	tcase_add_test(tc, test_inflights_window_fills_and_frees_in_order);
	tcase_add_test(tc, test_progress_probe_pauses_and_backtracks_with_hint);
	tcase_add_test(tc,
		       test_tracker_set_conf_keeps_progress_and_learner_flags);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(quorum_suite)
