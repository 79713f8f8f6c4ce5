/*
 * test_more.c - corners: single-voter reads, the ConfChange (v1) entry
 * form, demotion through a joint configuration, invalid changes, the text
 * form of snapshots and long data, and allocation failure at every point
 * of a replication round (no crash, no leak, errors reported as -ENOMEM).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "harness.h"
#include "raft/progress.h"
#include "testlib.h"

START_TEST(test_single_voter_serves_reads_and_learner_reads_through_it)
{
	struct tnet *net = tnet_new(2, 1, NULL);

	tnet_campaign(net, 1);
	ck_assert_int_eq(
	    raft_read_index(tnet_raft(net, 1), (const uint8_t *)"s", 1), 0);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 1)->n_reads, 1);
	ck_assert_uint_eq(tnet_node(net, 1)->reads[0], 1);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_int_eq(
	    raft_read_index(tnet_raft(net, 2), (const uint8_t *)"l", 1), 0);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 2)->n_reads, 1);
	ck_assert_uint_eq(tnet_node(net, 2)->read_ctx[0], 'l');
	tnet_free(net);
}
END_TEST

START_TEST(test_v1_conf_change_entry_adds_a_learner)
{
	struct tnet *net = tnet_new(3, 2, NULL);
	/* raftpb.ConfChange{type: AddLearnerNode(3), node_id: 3}. */
	uint8_t v1[] = {0x10, 0x03, 0x18, 0x03, 0x22, 0x01, 'c'};
	struct raft_entry e = {
	    .type = RAFT_ENTRY_CONF_CHANGE, .data = v1, .len = sizeof(v1)};
	struct raft_conf_change cc;
	uint8_t bad[] = {0x10, 0x09};

	ck_assert_int_eq(raft_conf_change_decode(&e, &cc), 0);
	ck_assert_uint_eq(cc.n_changes, 1);
	ck_assert_int_eq(cc.changes[0].type, RAFT_CC_ADD_LEARNER);
	ck_assert_mem_eq(cc.context, "c", 1);
	raft_conf_change_done(&cc);
	tnet_campaign(net, 1);
	/* Node 3 is a learner already: re-adding it changes nothing. */
	ck_assert_int_eq(raft_propose_entries(tnet_raft(net, 1), &e, 1), 0);
	tnet_settle(net);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(tnet_node(net, 1)->conf.n_learners, 1);
	/* A second change right away is refused while one is pending. */
	ck_assert_int_eq(raft_propose_entries(tnet_raft(net, 1), &e, 1), 0);
	ck_assert_int_eq(raft_propose_entries(tnet_raft(net, 1), &e, 1),
			 -ERR_PROPOSAL_DROPPED);
	e.data = bad;
	e.len = sizeof(bad);
	ck_assert_int_eq(raft_conf_change_decode(&e, &cc), -ERR_PARSE);
	tnet_free(net);
}
END_TEST

START_TEST(test_demoting_a_voter_goes_through_learners_next)
{
	struct tnet *net = tnet_new(4, 3, NULL);
	struct raft_cc_single ch[] = {{RAFT_CC_ADD_LEARNER, 3},
				      {RAFT_CC_ADD_NODE, 4}};
	struct raft_conf_change cc = {.transition = RAFT_CC_JOINT_EXPLICIT,
				      .changes = ch,
				      .n_changes = 2};
	struct raft_conf_change leave = {.transition = RAFT_CC_AUTO};
	struct raft_conf_state cs;
	struct raft *r = tnet_raft(net, 1);

	ck_assert_int_eq(raft_apply_conf_change(r, &cc, &cs), 0);
	ck_assert_uint_eq(cs.n_learners_next, 1);
	ck_assert_uint_eq(cs.learners_next[0], 3);
	ck_assert_uint_eq(cs.n_learners, 0);
	/* Still a voter while joint (outgoing). */
	ck_assert(raft_ids_contain(raft_conf(r)->voters_outgoing, 3, 3));
	raft_conf_state_done(&cs);
	ck_assert_int_eq(raft_apply_conf_change(r, &leave, &cs), 0);
	ck_assert_uint_eq(cs.n_learners, 1);
	ck_assert_uint_eq(cs.learners[0], 3);
	ck_assert_uint_eq(cs.n_voters, 3);
	ck_assert_uint_eq(cs.n_learners_next, 0);
	raft_conf_state_done(&cs);
	tnet_free(net);
}
END_TEST

START_TEST(test_invalid_conf_changes_are_refused)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft *r = tnet_raft(net, 1);
	struct raft_cc_single zero = {RAFT_CC_ADD_NODE, 0};
	struct raft_cc_single bad = {(enum raft_cc_type)9, 2};
	struct raft_cc_single all[] = {{RAFT_CC_REMOVE_NODE, 1},
				       {RAFT_CC_REMOVE_NODE, 2},
				       {RAFT_CC_REMOVE_NODE, 3}};
	struct raft_cc_single upd = {RAFT_CC_UPDATE_NODE, 2};
	struct raft_conf_change cc = {.changes = &zero, .n_changes = 1};

	ck_assert_int_eq(raft_apply_conf_change(r, &cc, NULL), -ERR_INVALID);
	cc.changes = &bad;
	ck_assert_int_eq(raft_apply_conf_change(r, &cc, NULL), -ERR_INVALID);
	cc.changes = all;
	cc.n_changes = 3;
	ck_assert_int_eq(raft_apply_conf_change(r, &cc, NULL), -ERR_INVALID);
	cc.changes = &upd;
	cc.n_changes = 1;
	ck_assert_int_eq(raft_apply_conf_change(r, &cc, NULL), 0);
	ck_assert_uint_eq(raft_conf(r)->n_voters, 3);
	tnet_free(net);
}
END_TEST

START_TEST(test_text_form_of_snapshots_and_long_data)
{
	raft_id voters[] = {1, 2}, out[] = {3}, learners[] = {4};
	uint8_t long_data[40];
	struct raft_entry e = {
	    .term = 1, .index = 2, .data = long_data, .len = sizeof(long_data)};
	struct raft_message m = {
	    .type = RAFT_MSG_SNAP,
	    .from = 1,
	    .to = 2,
	    .term = 5,
	    .snapshot = {.meta = {.index = 9,
				  .term = 4,
				  .conf = {.voters = voters,
					   .n_voters = 2,
					   .voters_outgoing = out,
					   .n_voters_outgoing = 1,
					   .learners = learners,
					   .n_learners = 1}}},
	    .context = (uint8_t *)"ctx",
	    .context_len = 3,
	};
	struct buf b = BUF_INIT;

	memset(long_data, 'a', sizeof(long_data));
	ck_assert_int_eq(raft_message_format(&b, &m), 0);
	ck_assert_str_eq((char *)b.data,
			 "1->2 MsgSnap t5 snap i9 t4 voters=(1 2) outgoing=(3) "
			 "learners=(4) ctx='ctx'");
	buf_reset(&b);
	e.type = RAFT_ENTRY_CONF_CHANGE;
	ck_assert_int_eq(raft_entry_format(&b, &e), 0);
	ck_assert_str_eq((char *)b.data,
			 "1/2 CC 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'...(40)");
	buf_done(&b);
	ck_assert_str_eq(raft_msg_type_name((enum raft_msg_type)99), "Msg?");
	ck_assert_str_eq(raft_progress_state_name(RAFT_PROGRESS_SNAPSHOT),
			 "snapshot");
}
END_TEST

START_TEST(test_bad_configs_are_refused)
{
	struct raft_mem_storage *ms = raft_mem_storage_new();
	struct raft_config cfg;
	struct raft *r = NULL;
	struct raft_hard_state hs = {.term = 1, .commit = 5};

	tnet_default_config(&cfg);
	cfg.storage = raft_mem_storage_storage(ms);
	ck_assert_int_eq(raft_new(&cfg, &r), -ERR_INVALID); /* id 0 */
	cfg.id = 1;
	cfg.heartbeat_tick = 10;
	ck_assert_int_eq(raft_new(&cfg, &r), -ERR_INVALID);
	cfg.heartbeat_tick = 1;
	/* A commit index beyond the log is corrupt state. */
	raft_mem_storage_set_hard_state(ms, &hs);
	ck_assert_int_eq(raft_new(&cfg, &r), -ERR_CORRUPT);
	hs.commit = 0;
	raft_mem_storage_set_hard_state(ms, &hs);
	cfg.applied = 3;
	ck_assert_int_eq(raft_new(&cfg, &r), -ERR_INVALID);
	cfg.applied = 0;
	ck_assert_int_eq(raft_new(&cfg, &r), 0);
	/* No Ready pending: advance is a misuse. */
	ck_assert_int_eq(raft_advance(r, NULL), -ERR_INVALID);
	raft_free(r);
	raft_mem_storage_free(ms);
}
END_TEST

/*
 * Fail the k-th allocation during an election and a replication round of a
 * three-node cluster, for every k: each call either succeeds or returns
 * -ENOMEM (and the node stays failed); nothing crashes or leaks (ASan).
 */
struct fnode {
	struct raft *r;
	struct raft_mem_storage *ms;
	bool dead;     /* stopped using it */
	bool raft_err; /* because raft itself reported an error */
};

static void fcycle(struct fnode *nodes, struct fnode *n, struct raft_message *q,
		   size_t *nq)
{
	struct raft_ready rd;

	while (!n->dead && raft_has_ready(n->r)) {
		if (raft_ready(n->r, &rd) < 0) {
			n->dead = n->raft_err = true;
			return;
		}
		if (raft_mem_storage_append(n->ms, rd.entries, rd.n_entries) <
		    0) {
			n->dead = true;
		}
		for (size_t i = 0; !n->dead && i < rd.n_messages && *nq < 256;
		     i++) {
			if (raft_message_copy(&q[*nq], &rd.messages[i]) == 0) {
				(*nq)++;
			}
		}
		if (raft_advance(n->r, &rd) < 0) {
			n->dead = n->raft_err = true;
		}
	}
	(void)nodes;
}

START_TEST(test_allocation_failures_are_reported_not_fatal)
{
	raft_id voters[] = {1, 2, 3};
	struct raft_conf_state cs = {.voters = voters, .n_voters = 3};

	for (long k = 0; k < 400; k += 1) {
		struct fnode nodes[4] = {{0}};
		struct raft_message *q = calloc(256, sizeof(*q));
		size_t nq = 0;

		for (int i = 1; i <= 3; i++) {
			struct raft_config cfg;

			tnet_default_config(&cfg);
			cfg.id = (raft_id)i;
			nodes[i].ms = raft_mem_storage_new();
			ck_assert_int_eq(
			    raft_mem_storage_set_conf_state(nodes[i].ms, &cs),
			    0);
			cfg.storage = raft_mem_storage_storage(nodes[i].ms);
			ck_assert_int_eq(raft_new(&cfg, &nodes[i].r), 0);
		}
		mem_fail_after(k);
		if (raft_campaign(nodes[1].r) < 0) {
			nodes[1].dead = nodes[1].raft_err = true;
		}
		for (int round = 0; round < 8; round++) {
			size_t n;

			for (int i = 1; i <= 3; i++) {
				fcycle(nodes, &nodes[i], q, &nq);
			}
			n = nq;
			nq = 0;
			for (size_t j = 0; j < n; j++) {
				struct raft_message m = q[j];
				struct fnode *to = &nodes[m.to];
				int e;

				memset(&q[j], 0, sizeof(q[j]));
				if (!to->dead) {
					e = raft_step(to->r, &m);
					ck_assert(e == 0 || e == -ENOMEM);
					to->dead = to->raft_err = e < 0;
				}
				raft_message_done(&m);
			}
			if (round == 3 && !nodes[1].dead) {
				int e = raft_propose(nodes[1].r,
						     (const uint8_t *)"x", 1);

				ck_assert(e == 0 || e == -ENOMEM ||
					  e == -ERR_NO_LEADER);
				nodes[1].dead = nodes[1].raft_err =
				    e == -ENOMEM;
			}
		}
		mem_fail_reset();
		for (size_t j = 0; j < nq; j++) {
			raft_message_done(&q[j]);
		}
		free(q);
		for (int i = 1; i <= 3; i++) {
			if (nodes[i].raft_err) {
				ck_assert_int_eq(raft_tick(nodes[i].r),
						 -ENOMEM);
			}
			raft_free(nodes[i].r);
			raft_mem_storage_free(nodes[i].ms);
		}
	}
}
END_TEST

/* A storage that fails every read with -EIO once armed. */
struct flaky {
	struct raft_storage inner;
	bool armed;
};

static int fl_initial(void *ctx, struct raft_hard_state *hs,
		      struct raft_conf_state *cs)
{
	struct flaky *f = ctx;

	return f->armed ? -EIO : f->inner.initial_state(f->inner.ctx, hs, cs);
}

static int fl_entries(void *ctx, raft_index lo, raft_index hi, uint64_t max,
		      struct raft_entry **e, size_t *n)
{
	struct flaky *f = ctx;

	return f->armed ? -EIO
			: f->inner.entries(f->inner.ctx, lo, hi, max, e, n);
}

static int fl_term(void *ctx, raft_index i, raft_term *t)
{
	struct flaky *f = ctx;

	return f->armed ? -EIO : f->inner.term(f->inner.ctx, i, t);
}

static int fl_first(void *ctx, raft_index *i)
{
	struct flaky *f = ctx;

	return f->armed ? -EIO : f->inner.first_index(f->inner.ctx, i);
}

static int fl_last(void *ctx, raft_index *i)
{
	struct flaky *f = ctx;

	return f->armed ? -EIO : f->inner.last_index(f->inner.ctx, i);
}

static int fl_snap(void *ctx, struct raft_snapshot *s)
{
	struct flaky *f = ctx;

	return f->armed ? -EIO : f->inner.snapshot(f->inner.ctx, s);
}

/*
 * Storage errors are sticky (design: errors are sticky in storage): once a
 * read fails with -EIO, every entry point of the node reports -EIO.
 */
START_TEST(test_storage_errors_are_sticky)
{
	struct raft_mem_storage *ms = raft_mem_storage_new();
	raft_id voters[] = {1};
	struct raft_conf_state cs = {.voters = voters, .n_voters = 1};
	struct flaky f;
	struct raft_config cfg;
	struct raft *r;
	struct raft_ready rd;

	ck_assert_int_eq(raft_mem_storage_set_conf_state(ms, &cs), 0);
	f = (struct flaky){.inner = raft_mem_storage_storage(ms)};
	tnet_default_config(&cfg);
	cfg.id = 1;
	cfg.storage = (struct raft_storage){
	    fl_initial, fl_entries, fl_term, fl_first, fl_last, fl_snap, &f};
	f.armed = true;
	ck_assert_int_eq(raft_new(&cfg, &r), -EIO);
	f.armed = false;
	ck_assert_int_eq(raft_new(&cfg, &r), 0);
	ck_assert_int_eq(raft_campaign(r), 0);
	ck_assert_int_eq(raft_ready(r, &rd), 0);
	ck_assert_int_eq(raft_mem_storage_append(ms, rd.entries, rd.n_entries),
			 0);
	f.armed = true;
	ck_assert_int_eq(raft_advance(r, &rd), -EIO);
	ck_assert_int_eq(raft_tick(r), -EIO);
	ck_assert_int_eq(raft_propose(r, (const uint8_t *)"x", 1), -EIO);
	ck_assert(!raft_has_ready(r));
	f.armed = false;
	ck_assert_int_eq(raft_tick(r), -EIO);
	raft_free(r);
	raft_mem_storage_free(ms);
}
END_TEST

START_TEST(test_malformed_appends_are_refused)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft_entry gap[2] = {{.index = 1, .term = 1},
				    {.index = 3, .term = 1}};
	struct raft_entry future = {.index = 1, .term = 9};
	struct raft_message app = {.type = RAFT_MSG_APP,
				   .from = 2,
				   .to = 1,
				   .term = 1,
				   .entries = gap,
				   .n_entries = 2};

	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), -ERR_INVALID);
	app.entries = &future;
	app.n_entries = 1;
	ck_assert_int_eq(raft_step(tnet_raft(net, 1), &app), -ERR_INVALID);
	ck_assert_uint_eq(tnet_status(net, 1).last_index, 0);
	/* The node is still healthy. */
	ck_assert_int_eq(raft_tick(tnet_raft(net, 1)), 0);
	tnet_free(net);
}
END_TEST

/*
 * A commit-only hard state needs no fsync (must_sync is false), so after a
 * crash the saved commit index may be below what the application applied:
 * the node starts with commit = applied and re-delivers nothing.
 */
START_TEST(test_restart_with_unsynced_commit_uses_applied_index)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct tnode *nd;
	struct raft_hard_state hs;
	size_t n_applied;

	tnet_campaign(net, 1);
	ck_assert_int_eq(tnet_propose(net, 1, "a"), 0);
	ck_assert_int_eq(tnet_propose(net, 1, "b"), 0);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	nd = tnet_node(net, 2);
	n_applied = nd->n_applied;
	ck_assert_uint_eq(n_applied, 2);
	hs = (struct raft_hard_state){.term = tnet_status(net, 2).hs.term,
				      .vote = tnet_status(net, 2).hs.vote};
	raft_mem_storage_set_hard_state(nd->ms, &hs); /* commit lost */
	tnet_restart(net, 2);
	ck_assert_uint_eq(tnet_status(net, 2).hs.commit, nd->applied_index);
	tnet_tick(net, 1, 1);
	tnet_settle(net);
	ck_assert_uint_eq(nd->n_applied, n_applied);
	tnet_free(net);
}
END_TEST

/*
 * Ready.must_sync: a vote, a new term or new entries must be fsync'd before
 * anything is sent; a Ready that only moves the commit index need not be.
 */
START_TEST(test_ready_must_sync_only_for_term_vote_and_entries)
{
	struct tnet *net = tnet_new(3, 3, NULL);
	struct raft *r2 = tnet_raft(net, 2);
	struct raft_message vote = {
	    .type = RAFT_MSG_VOTE, .from = 1, .to = 2, .term = 1};
	struct raft_entry e = {.index = 1, .term = 1};
	struct raft_message app = {.type = RAFT_MSG_APP,
				   .from = 1,
				   .to = 2,
				   .term = 1,
				   .entries = &e,
				   .n_entries = 1};
	struct raft_message hb = {.type = RAFT_MSG_HEARTBEAT,
				  .from = 1,
				  .to = 2,
				  .term = 1,
				  .commit = 1};
	struct raft_ready rd;

	ck_assert_int_eq(raft_step(r2, &vote), 0);
	ck_assert_int_eq(raft_ready(r2, &rd), 0);
	ck_assert(rd.must_sync && rd.has_hard_state);
	ck_assert_uint_eq(rd.hard_state.vote, 1);
	ck_assert_int_eq(raft_advance(r2, &rd), 0);
	ck_assert_int_eq(raft_step(r2, &app), 0);
	ck_assert_int_eq(raft_ready(r2, &rd), 0);
	ck_assert(rd.must_sync);
	ck_assert_uint_eq(rd.n_entries, 1);
	ck_assert_int_eq(raft_mem_storage_append(tnet_node(net, 2)->ms,
						 rd.entries, rd.n_entries),
			 0);
	/* No other call is allowed while a Ready is out. */
	ck_assert_int_eq(raft_tick(r2), -ERR_INVALID);
	ck_assert_int_eq(raft_advance(r2, &rd), 0);
	ck_assert_int_eq(raft_step(r2, &hb), 0);
	ck_assert_int_eq(raft_ready(r2, &rd), 0);
	ck_assert(!rd.must_sync);
	ck_assert(rd.has_hard_state);
	ck_assert_uint_eq(rd.hard_state.commit, 1);
	ck_assert_uint_eq(rd.n_committed_entries, 1);
	ck_assert_int_eq(raft_advance(r2, &rd), 0);
	ck_assert(!raft_has_ready(r2));
	tnet_free(net);
}
END_TEST

static Suite *more_suite(void)
{
	Suite *s = suite_create("raft_more");
	TCase *tc = tcase_create("core");

	tcase_add_test(
	    tc, test_single_voter_serves_reads_and_learner_reads_through_it);
	tcase_add_test(tc, test_v1_conf_change_entry_adds_a_learner);
	tcase_add_test(tc, test_demoting_a_voter_goes_through_learners_next);
	tcase_add_test(tc, test_invalid_conf_changes_are_refused);
	tcase_add_test(tc, test_text_form_of_snapshots_and_long_data);
	tcase_add_test(tc, test_bad_configs_are_refused);
	tcase_add_test(tc, test_allocation_failures_are_reported_not_fatal);
	tcase_add_test(tc, test_storage_errors_are_sticky);
	tcase_add_test(tc, test_malformed_appends_are_refused);
	tcase_add_test(tc,
		       test_restart_with_unsynced_commit_uses_applied_index);
	tcase_add_test(tc, test_ready_must_sync_only_for_term_vote_and_entries);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(more_suite)
