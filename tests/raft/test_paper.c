/*
 * test_paper.c - one test per rule of the Raft paper ("In Search of an
 * Understandable Consensus Algorithm", extended version), each quoting the
 * sentence it checks.
 */
#include <string.h>

#include "base/err.h"
#include "harness.h"
#include "raft/progress.h"
#include "testlib.h"

static bool has_msg(const struct raft_message *ms, size_t n,
		    enum raft_msg_type t, raft_id to)
{
	for (size_t i = 0; i < n; i++) {
		if (ms[i].type == t && (to == RAFT_NONE || ms[i].to == to)) {
			return true;
		}
	}
	return false;
}

static void free_msgs(struct raft_message *ms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		raft_message_done(&ms[i]);
	}
}

/* Make node 1 the leader of a settled cluster. */
static struct tnet *cluster_with_leader(size_t n)
{
	struct tnet *net = tnet_new(n, n, NULL);

	tnet_campaign(net, 1);
	ck_assert_uint_eq(tnet_leader(net), 1);
	return net;
}

/*
 * 5.1: "When servers start up, they begin as followers."
 */
START_TEST(test_servers_start_as_followers)
{
	struct tnet *net = tnet_new(3, 3, NULL);

	for (raft_id id = 1; id <= 3; id++) {
		ck_assert_int_eq(tnet_status(net, id).ss.state, RAFT_FOLLOWER);
		ck_assert_uint_eq(tnet_status(net, id).hs.term, 0);
	}
	tnet_free(net);
}
END_TEST

/*
 * 5.1: "If one server's current term is smaller than the other's, then it
 * updates its current term to the larger value. If a candidate or leader
 * discovers that its term is out of date, it immediately reverts to
 * follower state."
 */
START_TEST(test_candidate_and_leader_step_down_on_higher_term)
{
	struct tnet *net = cluster_with_leader(3);
	struct raft_message hb = {
	    .type = RAFT_MSG_HEARTBEAT, .from = 2, .to = 1, .term = 5};

	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &hb), 0);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_FOLLOWER);
	ck_assert_uint_eq(tnet_status(net, 1).hs.term, 5);
	ck_assert_uint_eq(tnet_status(net, 1).ss.lead, 2);

	/* A candidate too. */
	ck_assert_int_eq(raft_campaign(tnet_raft(net, 3)), 0);
	ck_assert_int_eq(tnet_status(net, 3).ss.state, RAFT_CANDIDATE);
	hb.to = 3;
	hb.term = 9;
	ck_assert_int_eq(raft_step(tnet_raft(net, 3), &hb), 0);
	ck_assert_int_eq(tnet_status(net, 3).ss.state, RAFT_FOLLOWER);
	ck_assert_uint_eq(tnet_status(net, 3).hs.term, 9);
	tnet_free(net);
}
END_TEST

/*
 * 5.1: "If a server receives a request with a stale term number, it
 * rejects the request."
 */
START_TEST(test_stale_term_requests_are_rejected)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_message hb = {
	    .type = RAFT_MSG_HEARTBEAT, .from = 2, .to = 1, .term = 5};
	struct raft_entry e = {.index = 1, .term = 4};
	struct raft_message app = {.type = RAFT_MSG_APP,
				   .from = 3,
				   .to = 1,
				   .term = 4,
				   .entries = &e,
				   .n_entries = 1};
	struct raft_message out[4];
	size_t n;

	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &hb), 0);
	n = tnet_take(net, 1, out, 4);
	free_msgs(out, n);
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), 0);
	n = tnet_take(net, 1, out, 4);
	/* Nothing appended; the stale sender only learns the newer term. */
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(out[0].type, RAFT_MSG_APP_RESP);
	ck_assert_uint_eq(out[0].term, 5);
	ck_assert_uint_eq(out[0].to, 3);
	free_msgs(out, n);
	ck_assert_uint_eq(tnet_status(net, 1).last_index, 0);
	ck_assert_uint_eq(tnet_status(net, 1).hs.term, 5);
	ck_assert_uint_eq(tnet_status(net, 1).ss.lead, 2);
	tnet_free(net);
}
END_TEST

/*
 * 5.2: "Leaders send periodic heartbeats (AppendEntries RPCs that carry no
 * log entries) to all followers in order to maintain their authority."
 */
START_TEST(test_leader_broadcasts_heartbeats)
{
	struct tnet *net = cluster_with_leader(3);
	struct raft_message out[16];
	size_t n;

	tnet_tick(net, 1, 1); /* heartbeat_tick = 1 */
	n = tnet_take(net, 1, out, 16);
	ck_assert(has_msg(out, n, RAFT_MSG_HEARTBEAT, 2));
	ck_assert(has_msg(out, n, RAFT_MSG_HEARTBEAT, 3));
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i].n_entries, 0);
	}
	free_msgs(out, n);
	tnet_free(net);
}
END_TEST

/*
 * 5.2: "If a follower receives no communication over a period of time
 * called the election timeout, then it assumes there is no viable leader
 * and begins an election to choose a new leader. To begin an election, a
 * follower increments its current term and transitions to candidate state.
 * It then votes for itself and issues RequestVote RPCs in parallel to each
 * of the other servers in the cluster."
 */
START_TEST(test_follower_starts_election_after_timeout)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_message out[16];
	size_t n;

	tnet_tick(net, 1, 2 * 10);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_CANDIDATE);
	ck_assert_uint_eq(tnet_status(net, 1).hs.term, 1);
	ck_assert_uint_eq(tnet_status(net, 1).hs.vote, 1);
	n = tnet_take(net, 1, out, 16);
	ck_assert(has_msg(out, n, RAFT_MSG_VOTE, 2));
	ck_assert(has_msg(out, n, RAFT_MSG_VOTE, 3));
	free_msgs(out, n);
	tnet_free(net);
}
END_TEST

/*
 * 5.2: "A candidate wins an election if it receives votes from a majority
 * of the servers in the full cluster for the same term."
 */
START_TEST(test_candidate_wins_with_majority_only)
{
	for (int votes = 0; votes <= 4; votes++) {
		struct tnet *net = tnet_new(5, 5, NULL);

		ck_assert_int_eq(raft_campaign(tnet_raft(net, 1)), 0);
		for (int v = 0; v < votes; v++) {
			struct raft_message resp = {
			    .type = RAFT_MSG_VOTE_RESP,
			    .from = (raft_id)(2 + v),
			    .to = 1,
			    .term = 1,
			};

			ck_assert_int_eq(raft_step(tnet_raft(net, 1), &resp),
					 0);
		}
		/* Self + votes must be >= 3 of 5. */
		ck_assert_int_eq(tnet_status(net, 1).ss.state,
				 votes >= 2 ? RAFT_LEADER : RAFT_CANDIDATE);
		tnet_free(net);
	}
}
END_TEST

/*
 * 5.2: "Each server will vote for at most one candidate in a given term,
 * on a first-come-first-served basis."
 */
START_TEST(test_server_votes_once_per_term_first_come_first_served)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_message v2 = {
	    .type = RAFT_MSG_VOTE, .from = 2, .to = 1, .term = 1};
	struct raft_message v3 = {
	    .type = RAFT_MSG_VOTE, .from = 3, .to = 1, .term = 1};
	struct raft_message out[8];
	size_t n;

	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &v2), 0);
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &v3), 0);
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &v2), 0);
	n = tnet_take(net, 1, out, 8);
	ck_assert_uint_eq(n, 3);
	ck_assert(out[0].to == 2 && !out[0].reject);
	ck_assert(out[1].to == 3 && out[1].reject);
	/* Repeating the request of the one we voted for is granted again. */
	ck_assert(out[2].to == 2 && !out[2].reject);
	ck_assert_uint_eq(tnet_status(net, 1).hs.vote, 2);
	free_msgs(out, n);
	tnet_free(net);
}
END_TEST

/*
 * 5.2: "While waiting for votes, a candidate may receive an AppendEntries
 * RPC from another server claiming to be leader. If the leader's term
 * (included in its RPC) is at least as large as the candidate's current
 * term, then the candidate recognizes the leader as legitimate and returns
 * to follower state."
 */
START_TEST(test_candidate_falls_back_to_legitimate_leader)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_message app = {
	    .type = RAFT_MSG_APP, .from = 2, .to = 1, .term = 1};

	ck_assert_int_eq(raft_campaign(tnet_raft(net, 1)), 0);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_CANDIDATE);
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), 0);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_FOLLOWER);
	ck_assert_uint_eq(tnet_status(net, 1).ss.lead, 2);
	tnet_free(net);
}
END_TEST

/*
 * 5.2: "Raft uses randomized election timeouts to ensure that split votes
 * are rare and that they are resolved quickly."  Timeouts are drawn from
 * [election, 2*election) with the configured seed: different nodes time
 * out at different ticks, the same seed gives the same tick.
 */
START_TEST(test_election_timeouts_are_randomized_and_seeded)
{
	int first[9];
	bool differ = false;

	for (raft_id id = 1; id <= 8; id++) {
		struct tnet *net = tnet_new(TNET_MAX, TNET_MAX, NULL);
		struct raft *r = tnet_raft(net, id);
		int t = 0;

		while (tnet_status(net, id).ss.state == RAFT_FOLLOWER) {
			ck_assert_int_eq(raft_tick(r), 0);
			t++;
		}
		ck_assert_int_ge(t, 10);
		ck_assert_int_lt(t, 20);
		first[id] = t;
		if (id > 1 && t != first[1]) {
			differ = true;
		}
		tnet_free(net);
	}
	ck_assert(differ);
	{
		/* Same seed and id: same timeout. */
		struct tnet *net = tnet_new(TNET_MAX, TNET_MAX, NULL);
		int t = 0;

		while (tnet_status(net, 3).ss.state == RAFT_FOLLOWER) {
			ck_assert_int_eq(raft_tick(tnet_raft(net, 3)), 0);
			t++;
		}
		ck_assert_int_eq(t, first[3]);
		tnet_free(net);
	}
}
END_TEST

/*
 * 5.3: "The leader appends the command to its log as a new entry, then
 * issues AppendEntries RPCs in parallel to each of the other servers to
 * replicate the entry."
 */
START_TEST(test_leader_appends_then_replicates)
{
	struct tnet *net = cluster_with_leader(3);
	raft_index li = tnet_status(net, 1).last_index;
	struct raft_message out[16];
	size_t n;

	ck_assert_int_eq(
	    raft_propose(tnet_raft(net, 1), (const uint8_t *)"x", 1), 0);
	ck_assert_uint_eq(tnet_status(net, 1).last_index, li + 1);
	n = tnet_take(net, 1, out, 16);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(out[i].type, RAFT_MSG_APP);
		ck_assert_uint_eq(out[i].n_entries, 1);
		ck_assert_uint_eq(out[i].entries[0].index, li + 1);
		ck_assert_uint_eq(out[i].index, li);
	}
	free_msgs(out, n);
	tnet_free(net);
}
END_TEST

/*
 * 5.3: "A log entry is committed once the leader that created the entry
 * has replicated it on a majority of the servers."
 */
START_TEST(test_leader_commits_once_a_majority_has_the_entry)
{
	for (size_t acks = 0; acks <= 4; acks++) {
		struct tnet *net = cluster_with_leader(5);
		raft_index before = tnet_status(net, 1).hs.commit;

		/* Only followers 2..(1+acks) receive appends. */
		for (raft_id id = (raft_id)(2 + acks); id <= 5; id++) {
			tnet_isolate(net, id);
		}
		ck_assert_int_eq(tnet_propose(net, 1, "v"), 0);
		ck_assert_uint_eq(tnet_status(net, 1).hs.commit,
				  acks >= 2 ? before + 1 : before);
		tnet_free(net);
	}
}
END_TEST

/*
 * 5.3: "Once a follower learns that a log entry is committed, it applies
 * the entry to its local state machine (in log order)."
 */
START_TEST(test_followers_apply_committed_entries_in_order)
{
	struct tnet *net = cluster_with_leader(3);
	const char *vals[] = {"a", "b", "c"};

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(tnet_propose(net, 1, vals[i]), 0);
	}
	tnet_tick(net, 1, 1); /* heartbeat carries the final commit */
	tnet_settle(net);
	for (raft_id id = 1; id <= 3; id++) {
		struct tnode *nd = tnet_node(net, id);

		ck_assert_uint_eq(nd->n_applied, 3);
		for (int i = 0; i < 3; i++) {
			ck_assert_mem_eq(nd->applied[i].data, vals[i], 1);
		}
	}
	tnet_free(net);
}
END_TEST

/*
 * 5.3: "If the follower does not find an entry in its log with the same
 * index and term, then it refuses the new entries."
 */
START_TEST(test_follower_refuses_entries_without_matching_predecessor)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	raft_term terms[] = {1, 2};
	struct raft_entry e = {.index = 3, .term = 3};
	struct raft_message app = {.type = RAFT_MSG_APP,
				   .from = 2,
				   .to = 1,
				   .term = 3,
				   .index = 2,
				   .log_term = 3,
				   .entries = &e,
				   .n_entries = 1};
	struct raft_message out[4];
	size_t n;

	tnet_set_log(net, 1, terms, 2, 2);
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), 0);
	n = tnet_take(net, 1, out, 4);
	ck_assert_uint_eq(n, 1);
	ck_assert(out[0].reject);
	/* Hint: our entry 2 has term 2 <= 3, so the leader can match there. */
	ck_assert_uint_eq(out[0].reject_hint, 2);
	ck_assert_uint_eq(out[0].log_term, 2);
	ck_assert_uint_eq(tnet_status(net, 1).last_index, 2);
	free_msgs(out, n);
	/* With the right predecessor term it is accepted. */
	app.log_term = 2;
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), 0);
	n = tnet_take(net, 1, out, 4);
	ck_assert(n == 1 && !out[0].reject && out[0].index == 3);
	free_msgs(out, n);
	tnet_free(net);
}
END_TEST

/*
 * Figure 2, AppendEntries receiver 3-4: "If an existing entry conflicts
 * with a new one (same index but different terms), delete the existing
 * entry and all that follow it. Append any new entries not already in the
 * log."
 */
START_TEST(test_follower_replaces_conflicting_suffix)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	raft_term terms[] = {1, 2, 2, 2};
	struct raft_entry e[2] = {{.index = 3, .term = 3},
				  {.index = 4, .term = 3}};
	struct raft_message app = {.type = RAFT_MSG_APP,
				   .from = 2,
				   .to = 1,
				   .term = 3,
				   .index = 2,
				   .log_term = 2,
				   .entries = e,
				   .n_entries = 2};

	tnet_set_log(net, 1, terms, 4, 2);
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), 0);
	tnet_take(net, 1, NULL, 0);
	ck_assert_uint_eq(tnet_last_index(net, 1), 4);
	ck_assert_uint_eq(tnet_term_at(net, 1, 2), 2);
	ck_assert_uint_eq(tnet_term_at(net, 1, 3), 3);
	ck_assert_uint_eq(tnet_term_at(net, 1, 4), 3);
	/* A duplicate (older) append changes nothing. */
	app.n_entries = 1;
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), 0);
	tnet_take(net, 1, NULL, 0);
	ck_assert_uint_eq(tnet_last_index(net, 1), 4);
	tnet_free(net);
}
END_TEST

/* Figure 7: the leader's log (term 8) and follower logs (a)-(f). */
static const raft_term fig7_leader[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
static const raft_term fig7_a[] = {1, 1, 1, 4, 4, 5, 5, 6, 6};
static const raft_term fig7_b[] = {1, 1, 1, 4};
static const raft_term fig7_c[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6};
static const raft_term fig7_d[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7};
static const raft_term fig7_e[] = {1, 1, 1, 4, 4, 4, 4};
static const raft_term fig7_f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};

static void fig7_case(const raft_term *follower, size_t n)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_message vote = {
	    .type = RAFT_MSG_VOTE_RESP, .from = 3, .to = 1, .term = 9};

	tnet_set_log(net, 1, fig7_leader, 10, 8);
	tnet_set_log(net, 2, follower, n, 7);
	tnet_isolate(net, 3);
	/* Node 1 becomes leader of term 9 with node 3's vote. */
	ck_assert_int_eq(raft_campaign(tnet_raft(net, 1)), 0);
	tnet_settle(net);
	if (tnet_status(net, 1).ss.state != RAFT_LEADER) {
		ck_assert_int_eq(raft_step(tnet_raft(net, 1), &vote), 0);
	}
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_LEADER);
	tnet_settle(net);
	ck_assert_int_eq(tnet_propose(net, 1, "x"), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_last_index(net, 1), 12);
	ck_assert_uint_eq(tnet_last_index(net, 2), 12);
	for (raft_index i = 1; i <= 12; i++) {
		ck_assert_uint_eq(tnet_term_at(net, 1, i),
				  tnet_term_at(net, 2, i));
	}
	tnet_free(net);
}

/*
 * 5.3 / Figure 7: "In Raft, the leader handles inconsistencies by forcing
 * the followers' logs to duplicate its own. This means that conflicting
 * entries in follower logs will be overwritten with entries from the
 * leader's log."
 */
START_TEST(test_leader_forces_figure7_follower_logs_to_match)
{
	fig7_case(fig7_a, 9);
	fig7_case(fig7_b, 4);
	fig7_case(fig7_c, 11);
	fig7_case(fig7_d, 12);
	fig7_case(fig7_e, 7);
	fig7_case(fig7_f, 11);
}
END_TEST

/*
 * 5.4.1: "Raft determines which of two logs is more up-to-date by
 * comparing the index and term of the last entries in the logs. If the
 * logs have last entries with different terms, then the log with the later
 * term is more up-to-date. If the logs end with the same term, then
 * whichever log is longer is more up-to-date."  and "the voter denies its
 * vote if its own log is more up-to-date than that of the candidate."
 */
START_TEST(test_voter_denies_candidates_with_older_logs)
{
	static const struct {
		raft_index index;
		raft_term log_term;
		bool granted;
	} cases[] = {
	    {2, 2, true},  /* same */
	    {3, 2, true},  /* longer, same term */
	    {1, 2, false}, /* shorter, same term */
	    {1, 3, true},  /* later term wins even if shorter */
	    {5, 1, false}, /* earlier term loses even if longer */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tnet *net = tnet_new(3, 3, NULL);
		raft_term terms[] = {1, 2};
		struct raft_message v = {.type = RAFT_MSG_VOTE,
					 .from = 2,
					 .to = 1,
					 .term = 3,
					 .index = cases[i].index,
					 .log_term = cases[i].log_term};
		struct raft_message out[2];
		size_t n;

		tnet_set_log(net, 1, terms, 2, 2);
		ck_assert_int_eq(raft_step(tnet_raft(net, 1), &v), 0);
		n = tnet_take(net, 1, out, 2);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(out[0].type, RAFT_MSG_VOTE_RESP);
		ck_assert_int_eq(!out[0].reject, cases[i].granted);
		free_msgs(out, n);
		tnet_free(net);
	}
}
END_TEST

/*
 * 5.4.1 Leader Completeness: "the leader for any given term contains all
 * of the entries committed in previous terms."  A node that missed a
 * committed entry cannot win an election.
 */
START_TEST(test_node_missing_committed_entries_cannot_win)
{
	struct tnet *net = cluster_with_leader(3);

	tnet_isolate(net, 3);
	ck_assert_int_eq(tnet_propose(net, 1, "committed"), 0);
	ck_assert_uint_eq(tnet_node(net, 1)->n_applied, 1);
	tnet_heal(net);
	tnet_isolate(net, 1);
	/* 3 campaigns: 2 has the committed entry and refuses. */
	tnet_campaign(net, 3);
	ck_assert_int_ne(tnet_status(net, 3).ss.state, RAFT_LEADER);
	tnet_campaign(net, 2);
	ck_assert_int_eq(tnet_status(net, 2).ss.state, RAFT_LEADER);
	tnet_tick(net, 2, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 3)->n_applied, 1);
	tnet_free(net);
}
END_TEST

/*
 * 5.4.2 / Figure 8: "Raft never commits log entries from previous terms by
 * counting replicas. Only log entries from the leader's current term are
 * committed by counting replicas."
 *
 * Scenario: S1 leads term 2 and replicates entry 2/2 to S2 only.  S5
 * becomes leader of term 3 (votes from S3, S4, S5) and writes 3/2 locally
 * only.  S1 becomes leader again in term 4 and replicates its old entry
 * (2/2) to S3: it is on a majority (S1, S2, S3) but must NOT be committed,
 * since S5 could still overwrite it.  Once S1 commits an entry of term 4
 * on a majority, 2/2 is committed with it.
 */
/* Drop appends carrying term-4 entries, except S1's probe of S3 at 2. */
static bool fig8_filter(void *arg, const struct raft_message *m)
{
	int *probes = arg;

	if (m->type != RAFT_MSG_APP) {
		return true;
	}
	if (m->to == 3 && m->index == 2 && (*probes)++ == 0) {
		return true;
	}
	for (size_t i = 0; i < m->n_entries; i++) {
		if (m->entries[i].term == 4) {
			return false;
		}
	}
	return true;
}

START_TEST(test_figure8_old_term_entries_are_not_committed_by_counting)
{
	struct raft_config cfg;
	struct tnet *net;
	static const raft_term s12[] = {1, 2}, s34[] = {1}, s5[] = {1, 3};
	struct raft_message ack2 = {.type = RAFT_MSG_APP_RESP,
				    .from = 2,
				    .to = 1,
				    .term = 4,
				    .index = 2};
	int probes = 0;

	tnet_default_config(&cfg);
	cfg.max_size_per_msg = 0; /* one entry per append */
	net = tnet_new(5, 5, &cfg);
	tnet_set_log(net, 1, s12, 2, 3);
	tnet_set_log(net, 2, s12, 2, 3);
	tnet_set_log(net, 3, s34, 1, 3);
	tnet_set_log(net, 4, s34, 1, 3);
	tnet_set_log(net, 5, s5, 2, 3);
	tnet_isolate(net, 5);
	tnet_isolate(net, 4);
	net->filter = fig8_filter;
	net->filter_arg = &probes;
	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_LEADER);
	ck_assert_uint_eq(tnet_status(net, 1).hs.term, 4);
	/* S3 now holds 2/2 (from S1's probe), S2 had it: S1, S2, S3. */
	ck_assert_uint_eq(tnet_term_at(net, 3, 2), 2);
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &ack2), 0);
	tnet_settle(net);
	ck_assert_uint_eq(raft_progress_of(tnet_raft(net, 1), 3)->match, 2);
	/* On a majority, but of term 2: not committed. */
	ck_assert_uint_lt(tnet_status(net, 1).hs.commit, 2);

	/* Once an entry of term 4 reaches a majority, both commit. */
	net->filter = NULL;
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_status(net, 1).hs.commit, 3);
	ck_assert_uint_eq(tnet_term_at(net, 2, 3), 4);
	tnet_free(net);
}
END_TEST

/*
 * 5.2, Election Safety: "at most one leader can be elected in a given
 * term".  Two candidates of the same term split the votes of five servers:
 * at most one of them wins.
 */
START_TEST(test_at_most_one_leader_per_term)
{
	for (int order = 0; order < 2; order++) {
		struct tnet *net = tnet_new(5, 5, NULL);
		size_t leaders = 0;

		ck_assert_int_eq(raft_campaign(tnet_raft(net, order ? 2 : 1)),
				 0);
		ck_assert_int_eq(raft_campaign(tnet_raft(net, order ? 1 : 2)),
				 0);
		tnet_settle(net);
		for (raft_id id = 1; id <= 5; id++) {
			struct raft_status st = tnet_status(net, id);

			if (st.ss.state == RAFT_LEADER) {
				ck_assert_uint_eq(st.hs.term, 1);
				leaders++;
			}
		}
		ck_assert_uint_le(leaders, 1);
		tnet_free(net);
	}
}
END_TEST

/*
 * 5.3, Log Matching: "If two entries in different logs have the same index
 * and term, then they store the same command" and "the logs are identical
 * in all preceding entries."  Leaders change while entries are proposed
 * with some followers cut off; afterwards all logs agree entry by entry.
 */
START_TEST(test_log_matching_across_leader_changes)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	raft_index last;

	for (raft_id lead = 1; lead <= 3; lead++) {
		tnet_heal(net);
		tnet_campaign(net, lead);
		ck_assert_uint_eq(tnet_leader(net), lead);
		tnet_isolate(net, (lead + 1) % 3 + 1);
		ck_assert_int_eq(tnet_propose(net, lead, "m"), 0);
		ck_assert_int_eq(tnet_propose(net, lead, "n"), 0);
	}
	tnet_heal(net);
	tnet_tick(net, 3, 1);
	tnet_settle(net);
	last = tnet_last_index(net, 3);
	for (raft_id a = 1; a <= 3; a++) {
		ck_assert_uint_eq(tnet_last_index(net, a), last);
		for (raft_index i = 1; i <= last; i++) {
			ck_assert_uint_eq(tnet_term_at(net, a, i),
					  tnet_term_at(net, 3, i));
		}
	}
	tnet_free(net);
}
END_TEST

static Suite *paper_suite(void)
{
	Suite *s = suite_create("raft_paper");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_servers_start_as_followers);
	tcase_add_test(tc, test_candidate_and_leader_step_down_on_higher_term);
	tcase_add_test(tc, test_stale_term_requests_are_rejected);
	tcase_add_test(tc, test_leader_broadcasts_heartbeats);
	tcase_add_test(tc, test_follower_starts_election_after_timeout);
	tcase_add_test(tc, test_candidate_wins_with_majority_only);
	tcase_add_test(tc,
		       test_server_votes_once_per_term_first_come_first_served);
	tcase_add_test(tc, test_candidate_falls_back_to_legitimate_leader);
	tcase_add_test(tc, test_election_timeouts_are_randomized_and_seeded);
	tcase_add_test(tc, test_leader_appends_then_replicates);
	tcase_add_test(tc, test_leader_commits_once_a_majority_has_the_entry);
	tcase_add_test(tc, test_followers_apply_committed_entries_in_order);
	tcase_add_test(
	    tc, test_follower_refuses_entries_without_matching_predecessor);
	tcase_add_test(tc, test_follower_replaces_conflicting_suffix);
	tcase_add_test(tc, test_leader_forces_figure7_follower_logs_to_match);
	tcase_add_test(tc, test_voter_denies_candidates_with_older_logs);
	tcase_add_test(tc, test_node_missing_committed_entries_cannot_win);
	tcase_add_test(
	    tc, test_figure8_old_term_entries_are_not_committed_by_counting);
	tcase_add_test(tc, test_at_most_one_leader_per_term);
	tcase_add_test(tc, test_log_matching_across_leader_changes);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(paper_suite)
