/*
 * raft_sim.c - a deterministic cluster simulator for node/raft.
 *
 * Each seed builds a cluster (3 or 5 voters, random options) and runs it
 * in simulated time through message loss, duplication, reordering and
 * delay, partitions and healing, crashes and restarts (keeping only what
 * was made durable: a hard state written without must_sync is lost unless
 * a later synced write covered it; sometimes crashing between persisting a
 * Ready and sending it, or a leader before its own write), snapshots and log
 * compaction, leader transfers, reads and membership changes (learners
 * added and promoted, voters removed, joint changes) under a steady load of
 * proposals.  After every delivery round it asserts:
 *
 *   1. Election Safety: at most one leader per term (over the whole run).
 *   2. Leader Append-Only: a leader never changes its log below its tip.
 *   3. Log Matching: equal (index, term) in two logs means equal prefixes.
 *   4. Committed entries never change (a global record of every index
 *      anyone committed; every log holding that index agrees).
 *   5. State Machine Safety: every member applies the same sequence.
 *   6. Reads: a read index covers everything committed before the read
 *      was asked (linearizability of ReadIndex).
 *   7. Durability: whenever a leader reports a new commit index, a
 *      majority of its voters (of each half when joint) hold that entry in
 *      their storage.
 *
 * Then it heals everything and asserts liveness: a leader within a bounded
 * number of ticks, and a new proposal applied by every live member.
 *
 * Usage: raft_sim            (SEEDS seeds from SEED_START; default 2000)
 *        CETCD_SIM_SEED=n raft_sim     replays one seed verbosely
 * A failing seed prints the command that replays it.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "raft/progress.h"
#include "raft/raft.h"
#include "raft/storage.h"

#define MAX_NODES 7
#define ELECTION 10
#define LIVENESS_TICKS 600

struct inflight {
	struct raft_message m;
	uint64_t at; /* delivery round */
};

struct node {
	raft_id id;
	bool exists; /* started at least once */
	bool up;
	bool removed; /* left the cluster for good */
	struct raft *r;
	struct raft_mem_storage *ms;
	struct raft_conf_state conf;
	raft_index applied;
	raft_index checked; /* payloads of committed entries checked up to */
	struct raft_hard_state hs_written; /* last hard state written */
	struct raft_hard_state hs_synced;  /* ... and made durable */
	raft_term lead_term; /* term in which it was last seen leading */
	raft_term *lead_log; /* its log terms then (max_log + 1) */
	raft_index lead_last;
	int down_until;
};

struct rec {
	raft_term term;
	uint64_t hash;
	bool set;
};

struct read_wait {
	uint64_t ctx;
	raft_index min_index;
	bool used;
};

struct sim {
	uint64_t seed, rng;
	bool verbose;
	int n_voters;
	struct node nodes[MAX_NODES + 1];
	struct inflight *q;
	size_t nq, capq;
	uint64_t round;
	int tick;
	bool part[MAX_NODES + 1]; /* partition side */
	bool partitioned;
	int heal_at;
	/* fault rates in 1/1000 */
	int loss, dup, crash, partition_rate;
	bool faults;
	raft_index max_log;	 /* bound on indexes and terms in this run */
	struct rec *committed;	 /* max_log + 1 */
	struct rec *applied_rec; /* max_log + 1 */
	raft_id *leader_of;	 /* per term, max_log + 1 */
	uint64_t next_prop;
	struct read_wait reads[64];
	uint64_t next_read;
	struct raft_config base;
	raft_id trace; /* SIM_TRACE: print messages of this node */
	int ticks;     /* SIM_TICKS of this run (for the rerun hint) */
	int conf_ops, snaps, transfers, reads_ok, restarts;
};

static struct sim *cur_sim;

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "raft_sim: seed %" PRIu64 " tick %d: ", cur_sim->seed,
		cur_sim->tick);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
		"\nraft_sim: rerun with: CETCD_SIM_SEED=%" PRIu64
		" SIM_TICKS=%d tests/raft/raft_sim\n",
		cur_sim->seed, cur_sim->ticks);
	exit(1);
}

#define CHECK(cond, ...)                    \
	do {                                \
		if (!(cond)) {              \
			fatal(__VA_ARGS__); \
		}                           \
	} while (0)

static uint64_t rnd(struct sim *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct sim *s, uint64_t n)
{
	return n ? rnd(s) % n : 0;
}

static bool chance(struct sim *s, int per_mille)
{
	return (int)below(s, 1000) < per_mille;
}

static uint64_t hash_entry(const struct raft_entry *e)
{
	uint64_t h =
	    1469598103934665603ULL ^ e->term ^ ((uint64_t)e->type << 60);

	for (size_t i = 0; i < e->len; i++) {
		h = (h ^ e->data[i]) * 1099511628211ULL;
	}
	return h;
}

static void say(struct sim *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (!s->verbose) {
		return;
	}
	va_start(ap, fmt);
	fprintf(stderr, "[t%d] ", s->tick);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- nodes --------------------------------------------------------------- */

static void node_start(struct sim *s, struct node *n)
{
	struct raft_config cfg = s->base;
	struct raft_storage st = raft_mem_storage_storage(n->ms);
	struct raft_snapshot snap;
	struct raft_hard_state hs;
	int e;

	CHECK(st.snapshot(st.ctx, &snap) == 0, "snapshot");
	CHECK(st.initial_state(st.ctx, &hs, &n->conf) == 0, "initial state");
	/* The application's state is the snapshot's; replay from there. */
	n->applied = snap.meta.index;
	raft_snapshot_done(&snap);
	cfg.id = n->id;
	cfg.storage = st;
	cfg.applied = n->applied;
	cfg.seed = s->seed * 31 + (uint64_t)s->tick;
	e = raft_new(&cfg, &n->r);
	CHECK(e == 0, "raft_new node %" PRIu64 ": %s", n->id, err_str(e));
	n->up = true;
	n->exists = true;
	n->lead_term = 0;
}

static void node_create(struct sim *s, raft_id id,
			const struct raft_conf_state *cs)
{
	struct node *n = &s->nodes[id];

	n->id = id;
	n->ms = raft_mem_storage_new();
	CHECK(n->ms != NULL, "oom");
	if (cs) {
		CHECK(raft_mem_storage_set_conf_state(n->ms, cs) == 0, "oom");
	}
	node_start(s, n);
}

static void node_stop(struct node *n)
{
	raft_free(n->r);
	n->r = NULL;
	n->up = false;
	raft_conf_state_done(&n->conf);
}

/*
 * A crash loses writes that were not synced: a Ready with must_sync false
 * (only the commit index moved) may be lost; the next synced Ready makes
 * everything before it durable.
 */
static void node_crash(struct sim *s, struct node *n, int max_down)
{
	raft_mem_storage_set_hard_state(n->ms, &n->hs_synced);
	n->hs_written = n->hs_synced;
	node_stop(n);
	n->down_until = s->tick + 1 + (int)below(s, (uint64_t)max_down);
}

static bool in_conf(const struct raft_conf_state *cs, raft_id id)
{
	for (size_t i = 0; i < cs->n_voters; i++) {
		if (cs->voters[i] == id) {
			return true;
		}
	}
	for (size_t i = 0; i < cs->n_learners; i++) {
		if (cs->learners[i] == id) {
			return true;
		}
	}
	for (size_t i = 0; i < cs->n_voters_outgoing; i++) {
		if (cs->voters_outgoing[i] == id) {
			return true;
		}
	}
	for (size_t i = 0; i < cs->n_learners_next; i++) {
		if (cs->learners_next[i] == id) {
			return true;
		}
	}
	return false;
}

/* ---- network ------------------------------------------------------------- */

static void send(struct sim *s, const struct raft_message *m, uint64_t delay)
{
	if (s->nq == s->capq) {
		s->capq = s->capq ? s->capq * 2 : 256;
		s->q = realloc(s->q, s->capq * sizeof(*s->q));
		CHECK(s->q != NULL, "oom");
	}
	CHECK(raft_message_copy(&s->q[s->nq].m, m) == 0, "oom");
	s->q[s->nq].at = s->round + delay;
	s->nq++;
}

static bool link_ok(struct sim *s, raft_id a, raft_id b)
{
	return !s->partitioned || s->part[a] == s->part[b];
}

static void post(struct sim *s, const struct raft_message *m)
{
	/*
	 * Snapshots go over a stream whose failure the transport reports
	 * (raft_report_snapshot at delivery), so they are not silently lost.
	 */
	if (s->faults && m->type != RAFT_MSG_SNAP && chance(s, s->loss)) {
		return;
	}
	send(s, m, s->faults ? below(s, 8) : 0);
	if (s->faults && chance(s, s->dup)) {
		send(s, m, below(s, 12));
	}
}

/* ---- apply and checks -------------------------------------------------- */

static void record_committed(struct sim *s, struct node *n)
{
	struct raft_storage st = raft_mem_storage_storage(n->ms);
	struct raft_status stat;
	raft_index first, last;

	raft_status(n->r, &stat);
	st.first_index(st.ctx, &first);
	st.last_index(st.ctx, &last);
	for (raft_index i = first; i <= stat.hs.commit && i <= last; i++) {
		struct raft_entry *e;
		size_t k;
		uint64_t h;
		raft_term t = 0;

		CHECK(i <= s->max_log, "log too long");
		if (s->committed[i].set) {
			/* Cheap check every round: the term; the payload is
			 * compared once, when first seen committed here. */
			st.term(st.ctx, i, &t);
			CHECK(s->committed[i].term == t,
			      "committed entry %" PRIu64
			      " changed on node %" PRIu64 " (term %" PRIu64
			      " vs %" PRIu64 ")",
			      i, n->id, t, s->committed[i].term);
			if (i <= n->checked) {
				continue;
			}
		}
		CHECK(st.entries(st.ctx, i, i + 1, RAFT_NO_LIMIT, &e, &k) == 0,
		      "entries");
		h = hash_entry(e);
		if (!s->committed[i].set) {
			s->committed[i] = (struct rec){e->term, h, true};
		} else {
			CHECK(s->committed[i].hash == h,
			      "committed entry %" PRIu64
			      " changed on node %" PRIu64,
			      i, n->id);
		}
		raft_entries_free(e, k);
	}
	if (stat.hs.commit > n->checked) {
		n->checked = stat.hs.commit;
	}
}

static void apply(struct sim *s, struct node *n, const struct raft_entry *e)
{
	uint64_t h = hash_entry(e);

	CHECK(e->index == n->applied + 1,
	      "node %" PRIu64 " applies %" PRIu64 " after %" PRIu64, n->id,
	      e->index, n->applied);
	CHECK(e->index <= s->max_log, "log too long");
	if (!s->applied_rec[e->index].set) {
		s->applied_rec[e->index] = (struct rec){e->term, h, true};
	} else {
		CHECK(s->applied_rec[e->index].hash == h &&
			  s->applied_rec[e->index].term == e->term,
		      "node %" PRIu64 " applied a different entry at %" PRIu64,
		      n->id, e->index);
	}
	n->applied = e->index;
	if (e->type != RAFT_ENTRY_NORMAL) {
		struct raft_conf_change cc;
		struct raft_conf_state cs;

		CHECK(raft_conf_change_decode(e, &cc) == 0, "decode");
		if (raft_apply_conf_change(n->r, &cc, &cs) == 0) {
			/* Members that left are shut down for good. */
			for (raft_id id = 1; id <= MAX_NODES; id++) {
				struct node *o = &s->nodes[id];

				if (o->exists && !o->removed &&
				    in_conf(&n->conf, id) &&
				    !in_conf(&cs, id)) {
					say(s, "node %" PRIu64 " removed", id);
					o->removed = true;
					if (o->up && o != n) {
						node_stop(o);
					}
				}
			}
			raft_conf_state_done(&n->conf);
			n->conf = cs;
			/* New members start with empty storage. */
			for (size_t i = 0; i < n->conf.n_learners; i++) {
				raft_id id = n->conf.learners[i];

				if (id <= MAX_NODES && !s->nodes[id].exists) {
					say(s, "node %" PRIu64 " joins", id);
					node_create(s, id, NULL);
				}
			}
		}
		raft_conf_change_done(&cc);
	}
}

static void maybe_snapshot(struct sim *s, struct node *n)
{
	struct raft_storage st = raft_mem_storage_storage(n->ms);
	struct raft_snapshot snap;
	raft_index keep = below(s, 6);

	CHECK(st.snapshot(st.ctx, &snap) == 0, "snapshot");
	if (n->applied >= snap.meta.index + 12) {
		CHECK(raft_mem_storage_create_snapshot(n->ms, n->applied,
						       &n->conf, NULL, 0) == 0,
		      "create snapshot");
		if (n->applied > keep) {
			int e =
			    raft_mem_storage_compact(n->ms, n->applied - keep);

			CHECK(e == 0 || e == -ERR_COMPACTED, "compact: %s",
			      err_str(e));
		}
		s->snaps++;
	}
	raft_snapshot_done(&snap);
}

/* Does node id's durable storage hold (index c, term t), or a snapshot past it?
 */
static bool durably_has(struct sim *s, raft_id id, raft_index c, raft_term t)
{
	struct raft_storage st;
	raft_index first = 0;
	raft_term got = 0;

	if (id > MAX_NODES || !s->nodes[id].ms) {
		return false;
	}
	st = raft_mem_storage_storage(s->nodes[id].ms);
	st.first_index(st.ctx, &first);
	if (first > c + 1) {
		return true;
	}
	return st.term(st.ctx, c, &got) == 0 && got == t;
}

static void check_majority(struct sim *s, const raft_id *ids, size_t n,
			   raft_index c, raft_term t, raft_id lead)
{
	size_t have = 0;

	if (n == 0) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		have += durably_has(s, ids[i], c, t);
	}
	CHECK(have >= n / 2 + 1,
	      "leader %" PRIu64 " committed %" PRIu64
	      " held durably by %zu of %zu voters",
	      lead, c, have, n);
}

/*
 * 7. Durability: when a leader's commit index moves to c, a majority of
 * its configuration (each half when joint) holds entry c in storage.
 */
static void check_commit_durable(struct sim *s, struct node *n, raft_index c)
{
	const struct raft_conf_state *cs = raft_conf(n->r);
	struct raft_storage st = raft_mem_storage_storage(n->ms);
	raft_term t = 0;

	if (c == 0 || st.term(st.ctx, c, &t) < 0) {
		return;
	}
	check_majority(s, cs->voters, cs->n_voters, c, t, n->id);
	check_majority(s, cs->voters_outgoing, cs->n_voters_outgoing, c, t,
		       n->id);
}

static bool raft_status_is_leader(struct raft *r)
{
	struct raft_status st;

	raft_status(r, &st);
	return st.ss.state == RAFT_LEADER;
}

static void cycle(struct sim *s, struct node *n)
{
	struct raft_ready rd;
	bool early;

	while (n->up && raft_has_ready(n->r)) {
		int e = raft_ready(n->r, &rd);

		CHECK(e == 0, "ready: %s", err_str(e));
		if (rd.has_hard_state && raft_status_is_leader(n->r)) {
			check_commit_durable(s, n, rd.hard_state.commit);
		}
		/*
		 * Contract step 4: a leader may send before its own write
		 * finished (thesis 10.2.1); then it may even crash before the
		 * write, losing entries its followers already have.
		 */
		early =
		    s->faults && raft_status_is_leader(n->r) && chance(s, 300);
		if (early) {
			for (size_t i = 0; i < rd.n_messages; i++) {
				post(s, &rd.messages[i]);
			}
			if (chance(s, s->crash * 2)) {
				say(s,
				    "leader %" PRIu64
				    " crashes before its write",
				    n->id);
				node_stop(n);
				n->down_until = s->tick + 1 + (int)below(s, 30);
				return;
			}
		}
		if (rd.snapshot.meta.index > 0) {
			e = raft_mem_storage_apply_snapshot(n->ms,
							    &rd.snapshot);
			CHECK(e == 0, "apply snapshot: %s", err_str(e));
		}
		CHECK(raft_mem_storage_append(n->ms, rd.entries,
					      rd.n_entries) == 0,
		      "append");
		if (rd.has_hard_state) {
			raft_mem_storage_set_hard_state(n->ms, &rd.hard_state);
			n->hs_written = rd.hard_state;
		}
		if (rd.must_sync || !s->faults) {
			n->hs_synced = n->hs_written;
		}
		if (s->faults && chance(s, s->crash / 4)) {
			/* Crash after the write: nothing sent or applied. */
			say(s, "node %" PRIu64 " crashes mid-ready", n->id);
			node_crash(s, n, 30);
			return;
		}
		for (size_t i = 0; !early && i < rd.n_messages; i++) {
			post(s, &rd.messages[i]);
		}
		if (rd.snapshot.meta.index > 0) {
			n->applied = rd.snapshot.meta.index;
			raft_conf_state_done(&n->conf);
			CHECK(raft_conf_state_copy(&n->conf,
						   &rd.snapshot.meta.conf) == 0,
			      "oom");
		}
		for (size_t i = 0; i < rd.n_committed_entries; i++) {
			apply(s, n, &rd.committed_entries[i]);
		}
		for (size_t i = 0; i < rd.n_read_states; i++) {
			const struct raft_read_state *rs = &rd.read_states[i];
			uint64_t ctx = 0;

			CHECK(rs->ctx_len == 8, "read ctx");
			memcpy(&ctx, rs->ctx, 8);
			for (size_t k = 0; k < 64; k++) {
				if (s->reads[k].used &&
				    s->reads[k].ctx == ctx) {
					CHECK(rs->index >=
						  s->reads[k].min_index,
					      "read %" PRIu64 " at %" PRIu64
					      " misses commit %" PRIu64,
					      ctx, rs->index,
					      s->reads[k].min_index);
					s->reads[k].used = false;
					s->reads_ok++;
				}
			}
		}
		e = raft_advance(n->r, &rd);
		CHECK(e == 0, "advance: %s", err_str(e));
		if (n->removed) {
			node_stop(n);
			return;
		}
	}
	if (n->up) {
		maybe_snapshot(s, n);
	}
}

static raft_term log_term(struct node *n, raft_index i, bool *ok)
{
	struct raft_storage st = raft_mem_storage_storage(n->ms);
	raft_term t = 0;

	*ok = st.term(st.ctx, i, &t) == 0;
	return t;
}

static void check_invariants(struct sim *s)
{
	for (raft_id a = 1; a <= MAX_NODES; a++) {
		struct node *n = &s->nodes[a];
		struct raft_status st;
		raft_index last;
		struct raft_storage sto;

		if (!n->up) {
			continue;
		}
		raft_status(n->r, &st);
		sto = raft_mem_storage_storage(n->ms);
		sto.last_index(sto.ctx, &last);
		CHECK(last <= s->max_log, "log too long");
		/* 1. Election Safety. */
		if (st.ss.state == RAFT_LEADER) {
			CHECK(st.hs.term <= s->max_log, "term too high");
			CHECK(s->leader_of[st.hs.term] == 0 ||
				  s->leader_of[st.hs.term] == a,
			      "two leaders in term %" PRIu64 ": %" PRIu64
			      " and %" PRIu64,
			      st.hs.term, s->leader_of[st.hs.term], a);
			s->leader_of[st.hs.term] = a;
			/* 2. Leader Append-Only. */
			if (n->lead_term == st.hs.term) {
				for (raft_index i = 1; i <= n->lead_last; i++) {
					bool ok;
					raft_term t = log_term(n, i, &ok);

					CHECK(!ok || t == n->lead_log[i],
					      "leader %" PRIu64
					      " changed entry %" PRIu64,
					      a, i);
				}
			}
			n->lead_term = st.hs.term;
			n->lead_last = last;
			for (raft_index i = 1; i <= last; i++) {
				bool ok;

				n->lead_log[i] = log_term(n, i, &ok);
			}
		} else {
			n->lead_term = 0;
		}
		/* 4. Committed entries never change. */
		record_committed(s, n);
		/* 3. Log Matching against every other node. */
		for (raft_id b = a + 1; b <= MAX_NODES; b++) {
			struct node *o = &s->nodes[b];
			raft_index ol, top;
			bool found = false;
			struct raft_storage os;

			if (!o->up) {
				continue;
			}
			os = raft_mem_storage_storage(o->ms);
			os.last_index(os.ctx, &ol);
			top = last < ol ? last : ol;
			for (raft_index i = top; i >= 1; i--) {
				bool ok1, ok2;
				raft_term t1 = log_term(n, i, &ok1);
				raft_term t2 = log_term(o, i, &ok2);

				if (!ok1 || !ok2) {
					break;
				}
				if (!found && t1 == t2) {
					found = true;
				} else if (found) {
					CHECK(t1 == t2,
					      "log matching broken at %" PRIu64
					      " between %" PRIu64
					      " and %" PRIu64,
					      i, a, b);
				}
			}
		}
	}
}

/* ---- actions ------------------------------------------------------------- */

static struct node *leader(struct sim *s)
{
	struct node *best = NULL;
	raft_term bt = 0;

	for (raft_id id = 1; id <= MAX_NODES; id++) {
		struct node *n = &s->nodes[id];
		struct raft_status st;

		if (!n->up) {
			continue;
		}
		raft_status(n->r, &st);
		if (st.ss.state == RAFT_LEADER && st.hs.term >= bt) {
			best = n;
			bt = st.hs.term;
		}
	}
	return best;
}

static struct node *random_up(struct sim *s)
{
	for (int tries = 0; tries < 20; tries++) {
		struct node *n = &s->nodes[1 + below(s, MAX_NODES)];

		if (n->up) {
			return n;
		}
	}
	return NULL;
}

static raft_index max_commit(struct sim *s)
{
	raft_index m = 0;

	for (raft_id id = 1; id <= MAX_NODES; id++) {
		struct raft_status st;

		if (!s->nodes[id].up) {
			continue;
		}
		raft_status(s->nodes[id].r, &st);
		if (st.hs.commit > m) {
			m = st.hs.commit;
		}
	}
	return m;
}

static void propose(struct sim *s, struct node *n)
{
	char buf[32];
	int len = snprintf(buf, sizeof(buf), "p%" PRIu64, s->next_prop++);
	int e = raft_propose(n->r, (const uint8_t *)buf, (size_t)len);

	CHECK(e == 0 || e == -ERR_NO_LEADER || e == -ERR_PROPOSAL_DROPPED,
	      "propose: %s", err_str(e));
}

static void read_index(struct sim *s, struct node *n)
{
	for (size_t k = 0; k < 64; k++) {
		if (!s->reads[k].used) {
			uint64_t ctx = ++s->next_read;

			s->reads[k] =
			    (struct read_wait){ctx, max_commit(s), true};
			if (raft_read_index(n->r, (const uint8_t *)&ctx, 8) <
			    0) {
				s->reads[k].used = false;
			}
			return;
		}
	}
	/* Reads lost with a leader change never come back: recycle. */
	memset(s->reads, 0, sizeof(s->reads));
}

static void conf_op(struct sim *s)
{
	struct node *l = leader(s);
	const struct raft_conf_state *cs;
	struct raft_cc_single ch[2];
	struct raft_conf_change cc = {.changes = ch};
	raft_id pick = 0;
	int e;

	if (!l) {
		return;
	}
	cs = raft_conf(l->r);
	if (cs->n_voters_outgoing > 0) {
		return;
	}
	switch (below(s, 4)) {
	case 0: /* add a learner */
		/*
		 * A new member learns the initial configuration only from a
		 * snapshot (it is not in the log): wait for compaction.
		 */
		{
			struct raft_storage st =
			    raft_mem_storage_storage(l->ms);
			raft_index fi = 0;

			st.first_index(st.ctx, &fi);
			if (fi <= 1) {
				return;
			}
		}
		for (raft_id id = 1; id <= MAX_NODES; id++) {
			if (!s->nodes[id].exists) {
				pick = id;
				break;
			}
		}
		if (!pick) {
			return;
		}
		ch[0] = (struct raft_cc_single){RAFT_CC_ADD_LEARNER, pick};
		cc.n_changes = 1;
		break;
	case 1: /* promote a learner */
		if (cs->n_learners == 0) {
			return;
		}
		pick = cs->learners[below(s, cs->n_learners)];
		ch[0] = (struct raft_cc_single){RAFT_CC_ADD_NODE, pick};
		cc.n_changes = 1;
		break;
	case 2: /* remove a voter (maybe the leader) */
		if (cs->n_voters <= 3) {
			return;
		}
		pick = cs->voters[below(s, cs->n_voters)];
		ch[0] = (struct raft_cc_single){RAFT_CC_REMOVE_NODE, pick};
		cc.n_changes = 1;
		break;
	default: /* joint: promote a learner and remove a voter at once */
		if (cs->n_learners == 0 || cs->n_voters < 3) {
			return;
		}
		ch[0] = (struct raft_cc_single){
		    RAFT_CC_ADD_NODE, cs->learners[below(s, cs->n_learners)]};
		ch[1] = (struct raft_cc_single){
		    RAFT_CC_REMOVE_NODE, cs->voters[below(s, cs->n_voters)]};
		cc.n_changes = 2;
		cc.transition =
		    below(s, 3) == 0 ? RAFT_CC_JOINT_EXPLICIT : RAFT_CC_AUTO;
		break;
	}
	e = raft_propose_conf_change(l->r, &cc);
	CHECK(e == 0 || e == -ERR_PROPOSAL_DROPPED, "conf change: %s",
	      err_str(e));
	if (e == 0) {
		say(s, "conf change proposed (%zu changes)", cc.n_changes);
		s->conf_ops++;
	}
}

/* Explicit joint configurations are left by an empty change. */
static void maybe_leave_joint(struct sim *s)
{
	struct node *l = leader(s);
	struct raft_conf_change leave = {.transition = RAFT_CC_AUTO};

	if (l && raft_conf(l->r)->n_voters_outgoing > 0 &&
	    !raft_conf(l->r)->auto_leave) {
		(void)raft_propose_conf_change(l->r, &leave);
	}
}

static void deliver_due(struct sim *s)
{
	size_t j = 0;
	struct inflight *due = NULL;
	size_t n_due = 0;

	due = malloc((s->nq ? s->nq : 1) * sizeof(*due));
	CHECK(due != NULL, "oom");
	/* Due messages in random order (reordering within a round). */
	for (size_t i = 0; i < s->nq; i++) {
		if (s->q[i].at <= s->round) {
			due[n_due++] = s->q[i];
		} else {
			s->q[j++] = s->q[i];
		}
	}
	s->nq = j;
	if (s->faults) {
		for (size_t i = n_due; i > 1; i--) {
			size_t k = below(s, i);
			struct inflight t = due[i - 1];

			due[i - 1] = due[k];
			due[k] = t;
		}
	}
	for (size_t i = 0; i < n_due; i++) {
		struct raft_message *m = &due[i].m;
		struct node *to = m->to <= MAX_NODES ? &s->nodes[m->to] : NULL;

		if (s->trace && (m->to == s->trace || m->from == s->trace)) {
			struct buf b = BUF_INIT;

			raft_message_format(&b, m);
			fprintf(stderr, "[t%d] %s%s\n", s->tick,
				(const char *)b.data,
				to && to->up && link_ok(s, m->from, m->to)
				    ? ""
				    : " (dropped)");
			buf_done(&b);
		}
		if (to && to->up && link_ok(s, m->from, m->to)) {
			int e = raft_step(to->r, m);

			CHECK(e == 0 || e == -ERR_NO_LEADER ||
				  e == -ERR_PROPOSAL_DROPPED ||
				  e == -ERR_INVALID,
			      "step %s: %s", raft_msg_type_name(m->type),
			      err_str(e));
			if (m->type == RAFT_MSG_SNAP && to->up) {
				/* The transport reports the outcome. */
				struct node *from = &s->nodes[m->from];

				if (from->up) {
					(void)raft_report_snapshot(
					    from->r, m->to, false);
				}
			}
		} else if (m->type == RAFT_MSG_SNAP && m->from <= MAX_NODES &&
			   s->nodes[m->from].up) {
			(void)raft_report_snapshot(s->nodes[m->from].r, m->to,
						   true);
		} else if (m->from <= MAX_NODES && s->nodes[m->from].up &&
			   chance(s, 100)) {
			(void)raft_report_unreachable(s->nodes[m->from].r,
						      m->to);
		}
		raft_message_done(m);
	}
	free(due);
}

static void round_trip(struct sim *s)
{
	for (raft_id id = 1; id <= MAX_NODES; id++) {
		if (s->nodes[id].up) {
			cycle(s, &s->nodes[id]);
		}
	}
	check_invariants(s);
	deliver_due(s);
	s->round++;
}

static void faults_step(struct sim *s)
{
	/* Partitions. */
	if (s->partitioned && s->tick >= s->heal_at) {
		s->partitioned = false;
		say(s, "heal");
	} else if (!s->partitioned && chance(s, s->partition_rate)) {
		s->partitioned = true;
		for (raft_id id = 1; id <= MAX_NODES; id++) {
			s->part[id] = chance(s, 500);
		}
		s->heal_at = s->tick + 5 + (int)below(s, 60);
		say(s, "partition until %d", s->heal_at);
	}
	/* Crashes and restarts. */
	for (raft_id id = 1; id <= MAX_NODES; id++) {
		struct node *n = &s->nodes[id];

		if (!n->exists || n->removed) {
			continue;
		}
		if (n->up && chance(s, s->crash)) {
			say(s, "node %" PRIu64 " crashes", id);
			node_crash(s, n, 40);
		} else if (!n->up && s->tick >= n->down_until) {
			say(s, "node %" PRIu64 " restarts", id);
			node_start(s, n);
			s->restarts++;
		}
	}
}

static void tick_all(struct sim *s)
{
	for (raft_id id = 1; id <= MAX_NODES; id++) {
		if (s->nodes[id].up) {
			int e = raft_tick(s->nodes[id].r);

			CHECK(e == 0, "tick: %s", err_str(e));
		}
	}
	s->tick++;
}

static void workload(struct sim *s)
{
	struct node *n;

	if (chance(s, 600) && (n = random_up(s))) {
		propose(s, n);
	}
	if (chance(s, 150) && (n = random_up(s))) {
		read_index(s, n);
	}
	if (chance(s, 80) && s->tick > 60) {
		conf_op(s);
	}
	if (chance(s, 30)) {
		maybe_leave_joint(s);
	}
	if (chance(s, 20)) {
		struct node *l = leader(s);
		struct node *t = random_up(s);

		if (l && t && t != l) {
			(void)raft_transfer_leader(l->r, t->id);
			s->transfers++;
		}
	}
}

static void run_ticks(struct sim *s, int ticks)
{
	for (int i = 0; i < ticks; i++) {
		if (s->faults) {
			faults_step(s);
		}
		workload(s);
		tick_all(s);
		for (int r = 0; r < 3; r++) {
			round_trip(s);
		}
	}
}

static bool all_applied(struct sim *s, raft_index idx)
{
	for (raft_id id = 1; id <= MAX_NODES; id++) {
		struct node *n = &s->nodes[id];

		if (n->up && !n->removed && n->applied < idx) {
			return false;
		}
	}
	return true;
}

static void run_seed(uint64_t seed, bool verbose, int ticks)
{
	struct sim *s = calloc(1, sizeof(*s));
	raft_id voters[5] = {1, 2, 3, 4, 5};
	struct raft_conf_state cs = {.voters = voters};
	int t;
	raft_index target = 0;

	CHECK(s != NULL, "oom");
	cur_sim = s;
	/* About one entry per tick at most, plus elections and changes. */
	s->max_log = (raft_index)(ticks + LIVENESS_TICKS) * 2 + 100;
	s->committed = calloc(s->max_log + 1, sizeof(*s->committed));
	s->applied_rec = calloc(s->max_log + 1, sizeof(*s->applied_rec));
	s->leader_of = calloc(s->max_log + 1, sizeof(*s->leader_of));
	CHECK(s->committed && s->applied_rec && s->leader_of, "oom");
	for (raft_id id = 1; id <= MAX_NODES; id++) {
		s->nodes[id].lead_log =
		    calloc(s->max_log + 1, sizeof(*s->nodes[id].lead_log));
		CHECK(s->nodes[id].lead_log != NULL, "oom");
	}
	s->seed = seed;
	s->rng = seed * 0x2545f4914f6cdd1dULL + 7;
	s->verbose = verbose;
	s->ticks = ticks;
	if (verbose && getenv("SIM_TRACE")) {
		s->trace = strtoull(getenv("SIM_TRACE"), NULL, 10);
	}
	s->n_voters = below(s, 2) ? 5 : 3;
	cs.n_voters = (size_t)s->n_voters;
	s->base = (struct raft_config){
	    .election_tick = ELECTION,
	    .heartbeat_tick = 1 + (int)below(s, 3),
	    .max_size_per_msg = below(s, 2) ? RAFT_NO_LIMIT : below(s, 200),
	    .max_inflight_msgs = 1 + below(s, 64),
	    .check_quorum = below(s, 2),
	    .pre_vote = below(s, 2),
	};
	s->faults = true;
	s->loss = (int)below(s, 150);
	s->dup = (int)below(s, 100);
	s->crash = (int)below(s, 8);
	s->partition_rate = (int)below(s, 20);
	say(s, "voters=%d check_quorum=%d pre_vote=%d loss=%d dup=%d crash=%d",
	    s->n_voters, s->base.check_quorum, s->base.pre_vote, s->loss,
	    s->dup, s->crash);
	for (raft_id id = 1; id <= (raft_id)s->n_voters; id++) {
		node_create(s, id, &cs);
	}
	run_ticks(s, ticks);

	/* Heal: no more faults; restart everyone; liveness must follow. */
	s->faults = false;
	s->partitioned = false;
	for (raft_id id = 1; id <= MAX_NODES; id++) {
		struct node *n = &s->nodes[id];

		if (n->exists && !n->removed && !n->up) {
			node_start(s, n);
		}
	}
	for (t = 0; t < LIVENESS_TICKS; t++) {
		struct node *l;

		tick_all(s);
		for (int r = 0; r < 3; r++) {
			round_trip(s);
		}
		maybe_leave_joint(s);
		l = leader(s);
		if (l && target == 0) {
			struct raft_status st;

			propose(s, l);
			raft_status(l->r, &st);
			if (st.last_index > 0) {
				target = st.last_index;
			}
		}
		if (target && all_applied(s, target) &&
		    s->applied_rec[target].set) {
			break;
		}
		/* A leader that lost its proposal (e.g. stepped down). */
		if (t % 100 == 99) {
			target = 0;
		}
	}
	if (t >= LIVENESS_TICKS) {
		for (raft_id id = 1; id <= MAX_NODES; id++) {
			struct node *n = &s->nodes[id];
			struct raft_status st;
			struct node *l = leader(s);
			const struct raft_progress *pr;

			if (!n->up) {
				continue;
			}
			raft_status(n->r, &st);
			pr = l ? raft_progress_of(l->r, id) : NULL;
			fprintf(stderr,
				"node %" PRIu64 ": %s term %" PRIu64
				" lead %" PRIu64 " commit %" PRIu64
				" applied %" PRIu64 " last %" PRIu64
				" | match %" PRIu64 " next %" PRIu64
				" state %s paused %d\n",
				id, raft_state_name(st.ss.state), st.hs.term,
				st.ss.lead, st.hs.commit, n->applied,
				st.last_index, pr ? pr->match : 0,
				pr ? pr->next : 0,
				pr ? raft_progress_state_name(pr->state) : "-",
				pr ? raft_progress_is_paused(pr) : -1);
		}
	}
	CHECK(t < LIVENESS_TICKS,
	      "no progress within %d ticks after healing (leader %s)",
	      LIVENESS_TICKS, leader(s) ? "yes" : "none");
	if (verbose) {
		fprintf(stderr,
			"seed %" PRIu64 ": ok, %d ticks, %" PRIu64
			" proposals, %d conf ops, %d snapshots, %d transfers, "
			"%d reads, %d restarts, liveness in %d ticks\n",
			seed, s->tick, s->next_prop, s->conf_ops, s->snaps,
			s->transfers, s->reads_ok, s->restarts, t);
	}
	for (raft_id id = 1; id <= MAX_NODES; id++) {
		struct node *n = &s->nodes[id];

		if (n->up) {
			node_stop(n);
		}
		raft_conf_state_done(&n->conf);
		raft_mem_storage_free(n->ms);
		free(n->lead_log);
	}
	free(s->committed);
	free(s->applied_rec);
	free(s->leader_of);
	for (size_t i = 0; i < s->nq; i++) {
		raft_message_done(&s->q[i].m);
	}
	free(s->q);
	free(s);
}

int main(void)
{
	const char *one = getenv("CETCD_SIM_SEED");
	const char *seeds = getenv("SEEDS");
	const char *start = getenv("SEED_START");
	const char *ticks_env = getenv("SIM_TICKS");
	int ticks = ticks_env ? atoi(ticks_env) : 300;
	uint64_t n = seeds ? strtoull(seeds, NULL, 10) : 2000;
	uint64_t first = start ? strtoull(start, NULL, 10) : 1;

	if (one) {
		run_seed(strtoull(one, NULL, 10), true, ticks);
		return 0;
	}
	for (uint64_t sd = first; sd < first + n; sd++) {
		run_seed(sd, false, ticks);
	}
	printf("raft_sim: %" PRIu64 " seeds passed (from %" PRIu64
	       ", %d ticks each)\n",
	       n, first, ticks);
	return 0;
}
