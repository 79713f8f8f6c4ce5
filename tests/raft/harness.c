/*
 * harness.c - the synchronous test cluster (harness.h).
 */
#include "harness.h"

#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "testlib.h"

void tnet_default_config(struct raft_config *cfg)
{
	*cfg = (struct raft_config){
	    .election_tick = 10,
	    .heartbeat_tick = 1,
	    .max_size_per_msg = RAFT_NO_LIMIT,
	    .max_inflight_msgs = 256,
	    .seed = 1,
	};
}

static void node_start(struct tnet *net, struct tnode *nd)
{
	struct raft_config cfg = net->base;

	cfg.id = nd->id;
	cfg.storage = raft_mem_storage_storage(nd->ms);
	cfg.applied = nd->applied_index;
	ck_assert_int_eq(raft_new(&cfg, &nd->r), 0);
}

struct tnet *tnet_new(size_t n, size_t n_voters, const struct raft_config *cfg)
{
	struct tnet *net = calloc(1, sizeof(*net));
	raft_id voters[TNET_MAX], learners[TNET_MAX];
	struct raft_conf_state cs = {.voters = voters,
				     .n_voters = n_voters,
				     .learners = learners,
				     .n_learners = n - n_voters};

	ck_assert_ptr_nonnull(net);
	ck_assert(n <= TNET_MAX && n_voters <= n);
	if (cfg) {
		net->base = *cfg;
	} else {
		tnet_default_config(&net->base);
	}
	for (size_t i = 0; i < n; i++) {
		if (i < n_voters) {
			voters[i] = i + 1;
		} else {
			learners[i - n_voters] = i + 1;
		}
	}
	net->n = n;
	for (size_t i = 0; i < n; i++) {
		struct tnode *nd = &net->nodes[i];

		nd->id = i + 1;
		nd->ms = raft_mem_storage_new();
		ck_assert_ptr_nonnull(nd->ms);
		ck_assert_int_eq(raft_mem_storage_set_conf_state(nd->ms, &cs),
				 0);
		ck_assert_int_eq(raft_conf_state_copy(&nd->conf, &cs), 0);
		node_start(net, nd);
	}
	return net;
}

void tnet_drop_queue(struct tnet *net)
{
	for (size_t i = 0; i < net->nq; i++) {
		raft_message_done(&net->q[i]);
	}
	net->nq = 0;
}

void tnet_free(struct tnet *net)
{
	if (!net) {
		return;
	}
	tnet_drop_queue(net);
	free(net->q);
	for (size_t i = 0; i < net->n; i++) {
		struct tnode *nd = &net->nodes[i];

		raft_free(nd->r);
		raft_mem_storage_free(nd->ms);
		raft_entries_free(nd->applied, nd->n_applied);
		raft_conf_state_done(&nd->conf);
	}
	free(net);
}

struct tnode *tnet_node(struct tnet *net, raft_id id)
{
	ck_assert(id >= 1 && id <= net->n);
	return &net->nodes[id - 1];
}

struct raft *tnet_raft(struct tnet *net, raft_id id)
{
	return tnet_node(net, id)->r;
}

void tnet_restart(struct tnet *net, raft_id id)
{
	struct tnode *nd = tnet_node(net, id);

	raft_free(nd->r);
	nd->r = NULL;
	node_start(net, nd);
}

static void queue_push(struct tnet *net, const struct raft_message *m)
{
	if (net->nq == net->capq) {
		net->capq = net->capq ? net->capq * 2 : 64;
		net->q = realloc(net->q, net->capq * sizeof(*net->q));
		ck_assert_ptr_nonnull(net->q);
	}
	ck_assert_int_eq(raft_message_copy(&net->q[net->nq], m), 0);
	net->nq++;
}

static void apply_entry(struct tnode *nd, const struct raft_entry *e)
{
	if (e->type != RAFT_ENTRY_NORMAL) {
		struct raft_conf_change cc;
		struct raft_conf_state cs;

		ck_assert_int_eq(raft_conf_change_decode(e, &cc), 0);
		if (raft_apply_conf_change(nd->r, &cc, &cs) == 0) {
			raft_conf_state_done(&nd->conf);
			nd->conf = cs;
		}
		raft_conf_change_done(&cc);
	} else if (e->len > 0) {
		if (nd->n_applied == nd->cap_applied) {
			nd->cap_applied =
			    nd->cap_applied ? nd->cap_applied * 2 : 16;
			nd->applied =
			    mem_realloc(nd->applied,
					nd->cap_applied * sizeof(*nd->applied));
			ck_assert_ptr_nonnull(nd->applied);
		}
		ck_assert_int_eq(
		    raft_entry_copy(&nd->applied[nd->n_applied], e), 0);
		nd->n_applied++;
	}
	nd->applied_index = e->index;
}

static void cycle(struct tnet *net, struct tnode *nd, bool deliver,
		  struct raft_message *out, size_t max, size_t *n_out)
{
	struct raft_ready rd;

	if (!nd->r) {
		return;
	}
	while (raft_has_ready(nd->r)) {
		ck_assert_int_eq(raft_ready(nd->r, &rd), 0);
		if (rd.snapshot.meta.index > 0) {
			ck_assert_int_eq(raft_mem_storage_apply_snapshot(
					     nd->ms, &rd.snapshot),
					 0);
			raft_conf_state_done(&nd->conf);
			ck_assert_int_eq(raft_conf_state_copy(
					     &nd->conf, &rd.snapshot.meta.conf),
					 0);
			nd->applied_index = rd.snapshot.meta.index;
		}
		ck_assert_int_eq(
		    raft_mem_storage_append(nd->ms, rd.entries, rd.n_entries),
		    0);
		if (rd.has_hard_state) {
			raft_mem_storage_set_hard_state(nd->ms, &rd.hard_state);
		}
		for (size_t i = 0; i < rd.n_messages; i++) {
			if (deliver) {
				queue_push(net, &rd.messages[i]);
			} else if (out && *n_out < max) {
				ck_assert_int_eq(
				    raft_message_copy(&out[(*n_out)++],
						      &rd.messages[i]),
				    0);
			}
		}
		for (size_t i = 0; i < rd.n_committed_entries; i++) {
			apply_entry(nd, &rd.committed_entries[i]);
		}
		for (size_t i = 0; i < rd.n_read_states; i++) {
			if (nd->n_reads < 64) {
				nd->reads[nd->n_reads] =
				    rd.read_states[i].index;
				nd->read_ctx[nd->n_reads] =
				    rd.read_states[i].ctx_len
					? rd.read_states[i].ctx[0]
					: 0;
				nd->n_reads++;
			}
		}
		ck_assert_int_eq(raft_advance(nd->r, &rd), 0);
	}
}

void tnet_cycle(struct tnet *net, raft_id id)
{
	cycle(net, tnet_node(net, id), true, NULL, 0, NULL);
}

size_t tnet_take(struct tnet *net, raft_id id, struct raft_message *out,
		 size_t max)
{
	size_t n = 0;

	cycle(net, tnet_node(net, id), false, out, max, &n);
	return n;
}

static void deliver(struct tnet *net, struct raft_message *m)
{
	struct tnode *to;

	if (m->to < 1 || m->to > net->n) {
		return;
	}
	to = &net->nodes[m->to - 1];
	if (to->down || !to->r || net->cut[m->from][m->to]) {
		return;
	}
	if (net->filter && !net->filter(net->filter_arg, m)) {
		return;
	}
	net->delivered++;
	if (net->trace) {
		ck_assert_int_eq(raft_message_format(net->trace, m), 0);
		ck_assert_int_eq(buf_append_byte(net->trace, '\n'), 0);
	}
	/* Errors such as -ERR_NO_LEADER for forwarded requests are fine. */
	(void)raft_step(to->r, m);
}

size_t tnet_settle(struct tnet *net)
{
	size_t before = net->delivered;

	for (int rounds = 0; rounds < 10000; rounds++) {
		struct raft_message *batch;
		size_t n;

		for (size_t i = 0; i < net->n; i++) {
			if (!net->nodes[i].down) {
				cycle(net, &net->nodes[i], true, NULL, 0, NULL);
			}
		}
		if (net->nq == 0) {
			break;
		}
		batch = net->q;
		n = net->nq;
		net->q = NULL;
		net->nq = net->capq = 0;
		for (size_t i = 0; i < n; i++) {
			deliver(net, &batch[i]);
			raft_message_done(&batch[i]);
		}
		free(batch);
	}
	return net->delivered - before;
}

void tnet_campaign(struct tnet *net, raft_id id)
{
	ck_assert_int_eq(raft_campaign(tnet_raft(net, id)), 0);
	tnet_settle(net);
}

int tnet_propose(struct tnet *net, raft_id id, const char *data)
{
	int r = raft_propose(tnet_raft(net, id), (const uint8_t *)data,
			     strlen(data));

	tnet_settle(net);
	return r;
}

void tnet_tick(struct tnet *net, raft_id id, int n)
{
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(raft_tick(tnet_raft(net, id)), 0);
	}
}

void tnet_cut(struct tnet *net, raft_id a, raft_id b)
{
	net->cut[a][b] = true;
	net->cut[b][a] = true;
}

void tnet_isolate(struct tnet *net, raft_id id)
{
	for (raft_id o = 1; o <= net->n; o++) {
		if (o != id) {
			tnet_cut(net, id, o);
		}
	}
}

void tnet_heal(struct tnet *net)
{
	memset(net->cut, 0, sizeof(net->cut));
}

struct raft_status tnet_status(struct tnet *net, raft_id id)
{
	struct raft_status st;

	raft_status(tnet_raft(net, id), &st);
	return st;
}

raft_id tnet_leader(struct tnet *net)
{
	raft_id lead = RAFT_NONE;

	for (size_t i = 0; i < net->n; i++) {
		struct raft_status st;

		if (net->nodes[i].down || !net->nodes[i].r) {
			continue;
		}
		raft_status(net->nodes[i].r, &st);
		if (st.ss.state == RAFT_LEADER) {
			lead = net->nodes[i].id;
		}
	}
	return lead;
}

raft_index tnet_last_index(struct tnet *net, raft_id id)
{
	struct raft_storage st =
	    raft_mem_storage_storage(tnet_node(net, id)->ms);
	raft_index li = 0;

	ck_assert_int_eq(st.last_index(st.ctx, &li), 0);
	return li;
}

raft_term tnet_term_at(struct tnet *net, raft_id id, raft_index i)
{
	struct raft_storage st =
	    raft_mem_storage_storage(tnet_node(net, id)->ms);
	raft_term t = 0;

	if (st.term(st.ctx, i, &t) < 0) {
		return 0;
	}
	return t;
}

void tnet_set_log(struct tnet *net, raft_id id, const raft_term *terms,
		  size_t n, raft_term term)
{
	struct tnode *nd = tnet_node(net, id);
	struct raft_entry ents[64];
	struct raft_hard_state hs = {.term = term};

	ck_assert(n <= 64);
	for (size_t i = 0; i < n; i++) {
		ents[i] = (struct raft_entry){.index = i + 1, .term = terms[i]};
	}
	ck_assert_int_eq(raft_mem_storage_append(nd->ms, ents, n), 0);
	raft_mem_storage_set_hard_state(nd->ms, &hs);
	tnet_restart(net, id);
}
