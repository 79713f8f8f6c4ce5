/*
 * test_features.c - each feature of node/raft alone, with its tricky
 * cases: errors for proposals, flow control, fast backtracking, pre-vote,
 * check-quorum, ReadIndex, snapshots, leader transfer, learners and
 * membership changes, the text form.
 */
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "harness.h"
#include "raft/progress.h"
#include "testlib.h"

static void free_msgs(struct raft_message *ms, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		raft_message_done(&ms[i]);
	}
}

static size_t count_type(const struct raft_message *ms, size_t n,
			 enum raft_msg_type t)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++) {
		c += ms[i].type == t;
	}
	return c;
}

static struct raft_config cfg_with(bool pre_vote, bool check_quorum)
{
	struct raft_config cfg;

	tnet_default_config(&cfg);
	cfg.pre_vote = pre_vote;
	cfg.check_quorum = check_quorum;
	return cfg;
}

/* Tick every live node once and settle. */
static void tick_all(struct tnet *net, int n)
{
	for (int k = 0; k < n; k++) {
		for (raft_id id = 1; id <= net->n; id++) {
			if (!tnet_node(net, id)->down) {
				tnet_tick(net, id, 1);
			}
		}
		tnet_settle(net);
	}
}

START_TEST(test_proposal_without_leader_fails_with_no_leader)
{
	struct tnet *net = tnet_new(3, 3, NULL);

	ck_assert_int_eq(tnet_propose(net, 2, "x"), -ERR_NO_LEADER);
	ck_assert_int_eq(raft_campaign(tnet_raft(net, 2)), 0);
	/* A candidate has no leader either. */
	ck_assert_int_eq(
	    raft_propose(tnet_raft(net, 2), (const uint8_t *)"x", 1),
	    -ERR_NO_LEADER);
	ck_assert_int_eq(
	    raft_read_index(tnet_raft(net, 3), (const uint8_t *)"r", 1),
	    -ERR_NO_LEADER);
	tnet_free(net);
}
END_TEST

START_TEST(test_followers_forward_proposals_to_the_leader)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_config cfg;

	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_propose(net, 3, "fwd"), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	for (raft_id id = 1; id <= 3; id++) {
		ck_assert_uint_eq(tnet_node(net, id)->n_applied, 1);
		ck_assert_mem_eq(tnet_node(net, id)->applied[0].data, "fwd", 3);
	}
	tnet_free(net);

	tnet_default_config(&cfg);
	cfg.disable_proposal_forwarding = true;
	net = tnet_new(3, 3, &cfg);
	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_propose(net, 3, "fwd"), -ERR_PROPOSAL_DROPPED);
	tnet_free(net);
}
END_TEST

START_TEST(test_single_node_commits_after_its_own_write)
{
	struct tnet *net = tnet_new(1, 1, NULL);

	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_LEADER);
	ck_assert_int_eq(tnet_propose(net, 1, "solo"), 0);
	ck_assert_uint_eq(tnet_node(net, 1)->n_applied, 1);
	ck_assert_uint_eq(tnet_status(net, 1).hs.commit, 2);
	tnet_free(net);
}
END_TEST

START_TEST(test_max_size_and_inflight_window_limit_appends)
{
	struct raft_config cfg;
	struct tnet *net;
	struct raft_message out[64];
	size_t n;
	struct raft_entry one = {.len = 1};

	tnet_default_config(&cfg);
	cfg.max_size_per_msg = 2 * raft_entry_size(&one);
	cfg.max_inflight_msgs = 3;
	net = tnet_new(2, 2, &cfg);
	tnet_campaign(net, 1);
	/* Follower 2 in replicate; now cut its replies. */
	tnet_cut(net, 2, 1);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(
		    raft_propose(tnet_raft(net, 1), (const uint8_t *)"x", 1),
		    0);
	}
	n = tnet_take(net, 1, out, 64);
	ck_assert_uint_eq(count_type(out, n, RAFT_MSG_APP), 3);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_le(out[i].n_entries, 2);
	}
	ck_assert(
	    raft_progress_is_paused(raft_progress_of(tnet_raft(net, 1), 2)));
	free_msgs(out, n);
	tnet_free(net);
}
END_TEST

/* Counts rejections the leader receives. */
static bool count_rejects(void *arg, const struct raft_message *m)
{
	if (m->type == RAFT_MSG_APP_RESP && m->reject) {
		(*(int *)arg)++;
	}
	return true;
}

START_TEST(test_fast_backtracking_skips_whole_terms)
{
	/* Figure 7 (f): eleven entries, only the first three match. */
	static const raft_term leader[] = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
	static const raft_term f[] = {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3};
	struct tnet *net = tnet_new(3, 3, NULL);
	int rejects = 0;

	tnet_set_log(net, 1, leader, 10, 8);
	tnet_set_log(net, 2, f, 11, 7);
	tnet_set_log(net, 3, leader, 10, 8);
	net->filter = count_rejects;
	net->filter_arg = &rejects;
	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_LEADER);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_term_at(net, 2, 11), tnet_term_at(net, 1, 11));
	ck_assert_uint_eq(tnet_term_at(net, 2, 4), 4);
	/* One entry at a time would take 8 rejections. */
	ck_assert_int_le(rejects, 3);
	tnet_free(net);
}
END_TEST

/*
 * Pre-vote (thesis 9.6): a node that was partitioned away keeps its term
 * while it cannot win, so when it returns it does not depose the leader.
 */
START_TEST(test_rejoining_partitioned_node_does_not_disrupt_leader)
{
	struct raft_config cfg = cfg_with(true, true);
	struct tnet *net = tnet_new(3, 3, &cfg);
	raft_term term;

	tnet_campaign(net, 1);
	term = tnet_status(net, 1).hs.term;
	tnet_isolate(net, 3);
	for (int i = 0; i < 100; i++) {
		tick_all(net, 1);
	}
	ck_assert_uint_eq(tnet_status(net, 3).hs.term, term);
	ck_assert_int_eq(tnet_status(net, 3).ss.state, RAFT_PRE_CANDIDATE);
	tnet_heal(net);
	tick_all(net, 30);
	ck_assert_uint_eq(tnet_leader(net), 1);
	ck_assert_uint_eq(tnet_status(net, 1).hs.term, term);
	ck_assert_int_eq(tnet_status(net, 3).ss.state, RAFT_FOLLOWER);
	ck_assert_uint_eq(tnet_status(net, 3).ss.lead, 1);
	tnet_free(net);
}
END_TEST

/*
 * Pre-vote with a higher-term candidate whose log is stale: it cannot win,
 * and the cluster ends up with one leader (not node 3) at a term at least
 * as high, which node 3 then follows and catches up with.
 */
START_TEST(test_pre_vote_with_higher_term_stale_candidate)
{
	struct raft_config cfg = cfg_with(true, false);
	struct tnet *net = tnet_new(3, 3, &cfg);
	raft_id lead;

	tnet_campaign(net, 1);
	tnet_isolate(net, 3);
	ck_assert_int_eq(tnet_propose(net, 1, "a"), 0);
	/* Node 3 raises its term by itself (e.g. pre-vote off earlier). */
	{
		struct raft_message hb = {
		    .type = RAFT_MSG_HEARTBEAT, .from = 2, .to = 3, .term = 7};

		ck_assert_int_eq(raft_step(tnet_raft(net, 3), &hb), 0);
		tnet_drop_queue(net);
		tnet_take(net, 3, NULL, 0);
	}
	ck_assert_int_eq(raft_campaign(tnet_raft(net, 3)), 0);
	ck_assert_int_eq(tnet_status(net, 3).ss.state, RAFT_PRE_CANDIDATE);
	tnet_heal(net);
	tnet_settle(net);
	ck_assert_int_ne(tnet_status(net, 3).ss.state, RAFT_LEADER);
	tick_all(net, 60);
	lead = tnet_leader(net);
	ck_assert(lead == 1 || lead == 2);
	ck_assert_uint_ge(tnet_status(net, lead).hs.term, 7);
	ck_assert_uint_eq(tnet_status(net, 3).ss.lead, lead);
	ck_assert_uint_eq(tnet_node(net, 3)->n_applied, 1);
	tnet_free(net);
}
END_TEST

/*
 * Check-quorum (thesis 6.2) under asymmetric partitions: (a) the leader
 * can still send but hears nothing back: it steps down within an election
 * timeout and the others elect a new leader; (b) a follower that cannot
 * hear the leader campaigns, but the others, hearing the leader, ignore
 * it: the leader stays.
 */
START_TEST(test_check_quorum_under_asymmetric_partitions)
{
	struct raft_config cfg = cfg_with(false, true);
	struct tnet *net = tnet_new(3, 3, &cfg);
	raft_term term;

	tnet_campaign(net, 1);
	net->cut[2][1] = net->cut[3][1] = true;
	tick_all(net, 2 * 10 + 1);
	ck_assert_int_ne(tnet_status(net, 1).ss.state, RAFT_LEADER);
	tick_all(net, 60);
	ck_assert(tnet_leader(net) == 2 || tnet_leader(net) == 3);
	tnet_free(net);

	net = tnet_new(3, 3, &cfg);
	tnet_campaign(net, 1);
	term = tnet_status(net, 1).hs.term;
	net->cut[1][3] = true;
	tick_all(net, 100);
	ck_assert_uint_eq(tnet_leader(net), 1);
	ck_assert_uint_eq(tnet_status(net, 1).hs.term, term);
	ck_assert_uint_eq(tnet_status(net, 2).ss.lead, 1);
	tnet_free(net);
}
END_TEST

/* Drop appends from node 2 (the new leader) while set. */
static bool hold_appends(void *arg, const struct raft_message *m)
{
	raft_id *from = arg;

	return !(m->type == RAFT_MSG_APP && m->from == *from);
}

/*
 * ReadIndex (thesis 6.4) right after an election: the new leader must not
 * answer before it committed an entry of its own term, since its commit
 * index may lag what the previous leader committed.
 */
START_TEST(test_read_index_right_after_election_waits_for_term_commit)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	raft_id hold = 2;
	raft_index noop;

	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_propose(net, 1, "w"), 0);
	net->filter = hold_appends;
	net->filter_arg = &hold;
	tnet_campaign(net, 2);
	ck_assert_int_eq(tnet_status(net, 2).ss.state, RAFT_LEADER);
	noop = tnet_status(net, 2).last_index;
	ck_assert_int_eq(
	    raft_read_index(tnet_raft(net, 2), (const uint8_t *)"A", 1), 0);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 2)->n_reads, 0);
	net->filter = NULL;
	tnet_tick(net, 2, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 2)->n_reads, 1);
	ck_assert_uint_ge(tnet_node(net, 2)->reads[0], noop);
	ck_assert_uint_eq(tnet_node(net, 2)->read_ctx[0], 'A');
	tnet_free(net);
}
END_TEST

START_TEST(test_read_index_batches_requests_on_one_heartbeat_round)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_message out[32];
	size_t n;
	struct raft *r;

	tnet_campaign(net, 1);
	r = tnet_raft(net, 1);
	for (uint8_t c = 'a'; c < 'a' + 10; c++) {
		ck_assert_int_eq(raft_read_index(r, &c, 1), 0);
	}
	n = tnet_take(net, 1, out, 32);
	ck_assert_uint_eq(count_type(out, n, RAFT_MSG_HEARTBEAT), 2);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_ne(raft_step(tnet_raft(net, out[i].to), &out[i]),
				 1);
	}
	free_msgs(out, n);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 1)->n_reads, 10);
	for (size_t i = 0; i < 10; i++) {
		ck_assert_uint_eq(tnet_node(net, 1)->read_ctx[i], 'a' + i);
		ck_assert_uint_eq(tnet_node(net, 1)->reads[i],
				  tnet_status(net, 1).hs.commit);
	}
	/* A follower's read goes through the leader. */
	ck_assert_int_eq(
	    raft_read_index(tnet_raft(net, 3), (const uint8_t *)"f", 1), 0);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 3)->n_reads, 1);
	ck_assert_uint_eq(tnet_node(net, 3)->read_ctx[0], 'f');
	/* A partitioned leader cannot confirm reads. */
	tnet_isolate(net, 1);
	ck_assert_int_eq(
	    raft_read_index(tnet_raft(net, 1), (const uint8_t *)"z", 1), 0);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 1)->n_reads, 10);
	tnet_free(net);
}
END_TEST

static void compact_leader(struct tnet *net, raft_id id)
{
	struct tnode *nd = tnet_node(net, id);
	raft_index a = nd->applied_index;

	ck_assert_int_eq(raft_mem_storage_create_snapshot(
			     nd->ms, a, &nd->conf, (const uint8_t *)"S", 1),
			 0);
	ck_assert_int_eq(raft_mem_storage_compact(nd->ms, a), 0);
}

static bool count_snaps(void *arg, const struct raft_message *m)
{
	if (m->type == RAFT_MSG_SNAP) {
		(*(int *)arg)++;
	}
	return true;
}

START_TEST(test_lagging_follower_receives_snapshot_and_catches_up)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	int snaps = 0;
	struct raft_storage st;
	struct raft_snapshot got;

	tnet_campaign(net, 1);
	tnet_isolate(net, 3);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(tnet_propose(net, 1, "e"), 0);
	}
	compact_leader(net, 1);
	tnet_heal(net);
	net->filter = count_snaps;
	net->filter_arg = &snaps;
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_int_eq(snaps, 1);
	st = raft_mem_storage_storage(tnet_node(net, 3)->ms);
	ck_assert_int_eq(st.snapshot(st.ctx, &got), 0);
	ck_assert_uint_eq(got.meta.index, tnet_node(net, 1)->applied_index);
	ck_assert_mem_eq(got.data, "S", 1);
	raft_snapshot_done(&got);
	/* In probe then replicate after the snapshot was applied. */
	ck_assert_int_eq(raft_report_snapshot(tnet_raft(net, 1), 3, false), 0);
	ck_assert_int_eq(tnet_propose(net, 1, "after"), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_status(net, 3).hs.commit,
			  tnet_status(net, 1).hs.commit);
	ck_assert_mem_eq(tnet_node(net, 3)->applied[0].data, "after", 5);
	tnet_free(net);
}
END_TEST

static bool drop_snaps(void *arg, const struct raft_message *m)
{
	(void)arg;
	return m->type != RAFT_MSG_SNAP;
}

START_TEST(test_failed_snapshot_report_returns_follower_to_probe)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	const struct raft_progress *pr;

	tnet_campaign(net, 1);
	tnet_isolate(net, 3);
	ck_assert_int_eq(tnet_propose(net, 1, "e"), 0);
	compact_leader(net, 1);
	tnet_heal(net);
	net->filter = drop_snaps;
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	pr = raft_progress_of(tnet_raft(net, 1), 3);
	ck_assert_int_eq(pr->state, RAFT_PROGRESS_SNAPSHOT);
	ck_assert_int_eq(raft_report_snapshot(tnet_raft(net, 1), 3, true), 0);
	ck_assert_int_eq(pr->state, RAFT_PROGRESS_PROBE);
	ck_assert(pr->probe_sent); /* waits for the next heartbeat reply */
	ck_assert_uint_eq(pr->pending_snapshot, 0);
	net->filter = NULL;
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_status(net, 3).hs.commit,
			  tnet_status(net, 1).hs.commit);
	tnet_free(net);
}
END_TEST

/*
 * Leader transfer (thesis 3.10) to a lagging node: the leader first brings
 * it up to date, then sends TimeoutNow; meanwhile it refuses proposals.
 */
START_TEST(test_leader_transfer_to_lagging_node)
{
	struct tnet *net = tnet_new(3, 3, NULL);

	tnet_campaign(net, 1);
	tnet_isolate(net, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(tnet_propose(net, 1, "x"), 0);
	}
	ck_assert_uint_lt(tnet_last_index(net, 3), tnet_last_index(net, 1));
	ck_assert_int_eq(raft_transfer_leader(tnet_raft(net, 1), 3), 0);
	ck_assert_uint_eq(tnet_status(net, 1).lead_transferee, 3);
	ck_assert_int_eq(tnet_propose(net, 1, "no"), -ERR_PROPOSAL_DROPPED);
	tnet_heal(net);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_leader(net), 3);
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_FOLLOWER);
	ck_assert_int_eq(tnet_propose(net, 1, "yes"), 0);
	tnet_free(net);
}
END_TEST

START_TEST(test_transfer_request_at_a_follower_is_forwarded)
{
	struct tnet *net = tnet_new(3, 3, NULL);

	tnet_campaign(net, 1);
	ck_assert_int_eq(raft_transfer_leader(tnet_raft(net, 2), 3), 0);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_leader(net), 3);
	/* Transferring to a learner or with no leader is refused. */
	tnet_free(net);
	net = tnet_new(3, 2, NULL);
	ck_assert_int_eq(raft_transfer_leader(tnet_raft(net, 2), 1),
			 -ERR_NO_LEADER);
	tnet_campaign(net, 1);
	ck_assert_int_eq(raft_transfer_leader(tnet_raft(net, 1), 3),
			 -ERR_INVALID);
	tnet_free(net);
}
END_TEST

START_TEST(test_leader_transfer_aborts_after_election_timeout)
{
	struct tnet *net = tnet_new(3, 3, NULL);

	tnet_campaign(net, 1);
	tnet_isolate(net, 3);
	ck_assert_int_eq(raft_transfer_leader(tnet_raft(net, 1), 3), 0);
	tnet_settle(net);
	ck_assert_int_eq(tnet_propose(net, 1, "no"), -ERR_PROPOSAL_DROPPED);
	tnet_tick(net, 1, 10);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_status(net, 1).lead_transferee, 0);
	ck_assert_uint_eq(tnet_leader(net), 1);
	ck_assert_int_eq(tnet_propose(net, 1, "yes"), 0);
	tnet_free(net);
}
END_TEST

static int change(struct tnet *net, raft_id at, enum raft_cc_transition tr,
		  const struct raft_cc_single *ch, size_t n)
{
	struct raft_conf_change cc = {
	    .transition = tr,
	    .changes = (struct raft_cc_single *)(uintptr_t)ch,
	    .n_changes = n};
	int e = raft_propose_conf_change(tnet_raft(net, at), &cc);

	tnet_settle(net);
	tnet_tick(net, at, 1);
	tnet_settle(net);
	return e;
}

START_TEST(test_learner_gets_log_but_neither_votes_nor_campaigns)
{
	struct tnet *net = tnet_new(3, 2, NULL);
	struct raft_message out[8];
	size_t n;

	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_propose(net, 1, "l"), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 3)->n_applied, 1);
	/* It never campaigns... */
	tnet_tick(net, 3, 100);
	ck_assert_int_eq(tnet_status(net, 3).ss.state, RAFT_FOLLOWER);
	/* ...and nobody asks it for a vote. */
	ck_assert_int_eq(raft_campaign(tnet_raft(net, 2)), 0);
	n = tnet_take(net, 2, out, 8);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_ne(out[i].to, 3);
	}
	free_msgs(out, n);
	tnet_free(net);
}
END_TEST

START_TEST(test_learner_promotion_makes_it_a_voter)
{
	struct tnet *net = tnet_new(3, 2, NULL);
	struct raft_cc_single add3 = {RAFT_CC_ADD_NODE, 3};

	tnet_campaign(net, 1);
	ck_assert_int_eq(change(net, 1, RAFT_CC_AUTO, &add3, 1), 0);
	ck_assert_uint_eq(tnet_node(net, 3)->conf.n_voters, 3);
	ck_assert_uint_eq(tnet_node(net, 3)->conf.n_learners, 0);
	/* Now 3 counts: with 2 down, 1 and 3 still commit. */
	tnet_node(net, 2)->down = true;
	ck_assert_int_eq(tnet_propose(net, 1, "q"), 0);
	ck_assert_uint_eq(tnet_node(net, 1)->n_applied, 1);
	/* And 3 can become leader. */
	tnet_campaign(net, 3);
	ck_assert_uint_eq(tnet_leader(net), 3);
	tnet_free(net);
}
END_TEST

START_TEST(test_removing_the_leader_lets_the_rest_go_on)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_cc_single rm1 = {RAFT_CC_REMOVE_NODE, 1};
	raft_id lead;

	tnet_campaign(net, 1);
	ck_assert_int_eq(change(net, 1, RAFT_CC_AUTO, &rm1, 1), 0);
	/* The removed leader stepped down once the change was applied. */
	ck_assert_int_eq(tnet_status(net, 1).ss.state, RAFT_FOLLOWER);
	ck_assert_uint_eq(tnet_node(net, 2)->conf.n_voters, 2);
	tnet_node(net, 1)->down = true;
	for (int i = 0; i < 40 && !tnet_leader(net); i++) {
		tnet_tick(net, 2, 1);
		tnet_tick(net, 3, 1);
		tnet_settle(net);
	}
	lead = tnet_leader(net);
	ck_assert(lead == 2 || lead == 3);
	ck_assert_int_eq(tnet_propose(net, lead, "on"), 0);
	ck_assert_uint_eq(tnet_node(net, lead)->n_applied, 1);
	tnet_free(net);
}
END_TEST

START_TEST(test_entering_and_leaving_joint_are_checked)
{
	struct tnet *net = tnet_new(5, 3, NULL);
	struct raft_cc_single two[] = {{RAFT_CC_ADD_NODE, 4},
				       {RAFT_CC_ADD_NODE, 5}};
	struct raft_conf_change cc = {
	    .transition = RAFT_CC_AUTO, .changes = two, .n_changes = 2};
	struct raft_conf_state out;

	/* AUTO with two changes means joint; applying it on a joint
	 * configuration is refused, and leaving a non-joint one too. */
	ck_assert_int_eq(raft_apply_conf_change(tnet_raft(net, 1), &cc, &out),
			 0);
	ck_assert_uint_eq(out.n_voters_outgoing, 3);
	ck_assert(out.auto_leave);
	raft_conf_state_done(&out);
	ck_assert_int_eq(raft_apply_conf_change(tnet_raft(net, 1), &cc, NULL),
			 -ERR_INVALID);
	cc.n_changes = 0;
	ck_assert_int_eq(raft_apply_conf_change(tnet_raft(net, 1), &cc, NULL),
			 0);
	ck_assert_int_eq(raft_apply_conf_change(tnet_raft(net, 1), &cc, NULL),
			 -ERR_INVALID);
	tnet_free(net);
}
END_TEST

/*
 * Joint consensus (thesis 4.3) with a partitioned old majority: from
 * {1,2,3} to {1,4,5}.  While joint, decisions need a majority of both; with
 * 2 and 3 cut off nothing commits.  After leaving the joint configuration
 * (explicitly), {1,4,5} commits without them.
 */
START_TEST(test_joint_config_with_partitioned_old_majority)
{
	struct tnet *net = tnet_new(5, 3, NULL);
	struct raft_cc_single learners[] = {{RAFT_CC_ADD_LEARNER, 4},
					    {RAFT_CC_ADD_LEARNER, 5}};
	struct raft_cc_single swap[] = {{RAFT_CC_ADD_NODE, 4},
					{RAFT_CC_ADD_NODE, 5},
					{RAFT_CC_REMOVE_NODE, 2},
					{RAFT_CC_REMOVE_NODE, 3}};
	raft_index commit;

	/* 4 and 5 are learners already (bootstrap). */
	(void)learners;
	tnet_campaign(net, 1);
	ck_assert_int_eq(change(net, 1, RAFT_CC_JOINT_EXPLICIT, swap, 4), 0);
	ck_assert_uint_eq(tnet_node(net, 1)->conf.n_voters_outgoing, 3);
	ck_assert(!tnet_node(net, 1)->conf.auto_leave);
	tnet_isolate(net, 2);
	tnet_isolate(net, 3);
	commit = tnet_status(net, 1).hs.commit;
	ck_assert_int_eq(tnet_propose(net, 1, "stuck"), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_status(net, 1).hs.commit, commit);
	/* The old majority comes back: both majorities commit. */
	tnet_heal(net);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_gt(tnet_status(net, 1).hs.commit, commit);
	/* Leave explicitly; then 2 and 3 are not needed any more. */
	ck_assert_int_eq(change(net, 1, RAFT_CC_AUTO, NULL, 0), 0);
	ck_assert_uint_eq(tnet_node(net, 1)->conf.n_voters_outgoing, 0);
	ck_assert_uint_eq(tnet_node(net, 4)->conf.n_voters, 3);
	tnet_isolate(net, 2);
	tnet_isolate(net, 3);
	commit = tnet_status(net, 1).hs.commit;
	ck_assert_int_eq(tnet_propose(net, 1, "free"), 0);
	ck_assert_uint_gt(tnet_status(net, 1).hs.commit, commit);
	tnet_free(net);
}
END_TEST

START_TEST(test_joint_config_is_left_automatically)
{
	struct tnet *net = tnet_new(5, 3, NULL);
	struct raft_cc_single swap[] = {{RAFT_CC_ADD_NODE, 4},
					{RAFT_CC_REMOVE_NODE, 3}};

	tnet_campaign(net, 1);
	ck_assert_int_eq(change(net, 1, RAFT_CC_AUTO, swap, 2), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	for (raft_id id = 1; id <= 4; id++) {
		if (id == 3) {
			continue;
		}
		ck_assert_uint_eq(tnet_node(net, id)->conf.n_voters_outgoing,
				  0);
		ck_assert_uint_eq(tnet_node(net, id)->conf.n_voters, 3);
	}
	/* A second change while joint or pending is refused at proposal. */
	tnet_free(net);
}
END_TEST

START_TEST(test_conf_change_entry_round_trips_and_rejects_garbage)
{
	struct raft_cc_single ch[] = {{RAFT_CC_ADD_LEARNER, 9},
				      {RAFT_CC_REMOVE_NODE, 2}};
	struct raft_conf_change cc = {.transition = RAFT_CC_JOINT_IMPLICIT,
				      .changes = ch,
				      .n_changes = 2,
				      .context = (uint8_t *)"ctx",
				      .context_len = 3};
	struct raft_entry e = {.type = RAFT_ENTRY_CONF_CHANGE_V2};
	struct raft_conf_change got;
	uint8_t junk[] = {0xff, 0xff, 0xff};

	ck_assert_int_eq(raft_conf_change_encode(&cc, &e.data, &e.len), 0);
	ck_assert_int_eq(raft_conf_change_decode(&e, &got), 0);
	ck_assert_int_eq(got.transition, RAFT_CC_JOINT_IMPLICIT);
	ck_assert_uint_eq(got.n_changes, 2);
	ck_assert_uint_eq(got.changes[0].node_id, 9);
	ck_assert_int_eq(got.changes[1].type, RAFT_CC_REMOVE_NODE);
	ck_assert_mem_eq(got.context, "ctx", 3);
	raft_conf_change_done(&got);
	mem_free(e.data);
	e.data = junk;
	e.len = sizeof(junk);
	ck_assert_int_eq(raft_conf_change_decode(&e, &got), -ERR_PARSE);
	e.type = RAFT_ENTRY_NORMAL;
	ck_assert_int_eq(raft_conf_change_decode(&e, &got), -ERR_INVALID);
}
END_TEST

START_TEST(test_text_form_of_messages_and_entries)
{
	struct raft_entry ents[] = {
	    {.term = 3, .index = 6, .data = (uint8_t *)"x", .len = 1},
	    {.term = 3,
	     .index = 7,
	     .type = RAFT_ENTRY_CONF_CHANGE_V2,
	     .data = (uint8_t *)"\x01\x02",
	     .len = 2},
	};
	struct raft_message m = {.type = RAFT_MSG_APP,
				 .from = 1,
				 .to = 2,
				 .term = 3,
				 .log_term = 2,
				 .index = 5,
				 .commit = 4,
				 .entries = ents,
				 .n_entries = 2};
	struct raft_message r = {.type = RAFT_MSG_APP_RESP,
				 .from = 2,
				 .to = 1,
				 .term = 3,
				 .index = 5,
				 .reject = true,
				 .reject_hint = 2,
				 .log_term = 1};
	struct buf b = BUF_INIT;

	ck_assert_int_eq(raft_message_format(&b, &m), 0);
	ck_assert_str_eq((char *)b.data,
			 "1->2 MsgApp t3 lt2 i5 c4 [3/6 'x' 3/7 CCv2 0x0102]");
	buf_reset(&b);
	ck_assert_int_eq(raft_message_format(&b, &r), 0);
	ck_assert_str_eq((char *)b.data,
			 "2->1 MsgAppResp t3 lt1 i5 rejected (hint: 2)");
	buf_done(&b);
	ck_assert_str_eq(raft_msg_type_name(RAFT_MSG_PRE_VOTE_RESP),
			 "MsgPreVoteResp");
	ck_assert_str_eq(raft_state_name(RAFT_PRE_CANDIDATE),
			 "StatePreCandidate");
}
END_TEST

START_TEST(test_restart_keeps_term_vote_and_log)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_status before, after;

	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_propose(net, 1, "keep"), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	before = tnet_status(net, 2);
	tnet_restart(net, 2);
	after = tnet_status(net, 2);
	ck_assert_uint_eq(after.hs.term, before.hs.term);
	ck_assert_uint_eq(after.hs.vote, before.hs.vote);
	ck_assert_uint_eq(after.hs.commit, before.hs.commit);
	ck_assert_uint_eq(after.last_index, before.last_index);
	ck_assert_int_eq(after.ss.state, RAFT_FOLLOWER);
	tnet_free(net);
}
END_TEST

static Suite *features_suite(void)
{
	Suite *s = suite_create("raft_features");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_proposal_without_leader_fails_with_no_leader);
	tcase_add_test(tc, test_followers_forward_proposals_to_the_leader);
	tcase_add_test(tc, test_single_node_commits_after_its_own_write);
	tcase_add_test(tc, test_max_size_and_inflight_window_limit_appends);
	tcase_add_test(tc, test_fast_backtracking_skips_whole_terms);
	tcase_add_test(tc,
		       test_rejoining_partitioned_node_does_not_disrupt_leader);
	tcase_add_test(tc, test_pre_vote_with_higher_term_stale_candidate);
	tcase_add_test(tc, test_check_quorum_under_asymmetric_partitions);
	tcase_add_test(
	    tc, test_read_index_right_after_election_waits_for_term_commit);
	tcase_add_test(tc,
		       test_read_index_batches_requests_on_one_heartbeat_round);
	tcase_add_test(tc,
		       test_lagging_follower_receives_snapshot_and_catches_up);
	tcase_add_test(tc,
		       test_failed_snapshot_report_returns_follower_to_probe);
	tcase_add_test(tc, test_leader_transfer_to_lagging_node);
	tcase_add_test(tc, test_transfer_request_at_a_follower_is_forwarded);
	tcase_add_test(tc, test_leader_transfer_aborts_after_election_timeout);
	tcase_add_test(tc,
		       test_learner_gets_log_but_neither_votes_nor_campaigns);
	tcase_add_test(tc, test_learner_promotion_makes_it_a_voter);
	tcase_add_test(tc, test_removing_the_leader_lets_the_rest_go_on);
	tcase_add_test(tc, test_entering_and_leaving_joint_are_checked);
	tcase_add_test(tc, test_joint_config_with_partitioned_old_majority);
	tcase_add_test(tc, test_joint_config_is_left_automatically);
	tcase_add_test(tc,
		       test_conf_change_entry_round_trips_and_rejects_garbage);
	tcase_add_test(tc, test_text_form_of_messages_and_entries);
	tcase_add_test(tc, test_restart_keeps_term_vote_and_log);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(features_suite)
