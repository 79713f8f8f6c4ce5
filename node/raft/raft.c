/*
 * raft/raft.c - the Raft state machine and its Ready cycle (raft/raft.h).
 *
 * Structure (as etcd-io/raft): raft_step() first reconciles the message's
 * term with ours (Raft paper 5.1: a newer term turns us into a follower, an
 * older one is answered or ignored), handles elections (HUP, VOTE,
 * PRE_VOTE) itself, then dispatches to the role's step function; each role
 * is a (step, tick) pair installed by the become_* functions, the only
 * places where the role changes.
 *
 * Invariants:
 *  1. term only grows; vote is reset exactly when term changes.
 *  2. state == RAFT_LEADER implies lead == id; a leader never overwrites or
 *     removes entries of its own log (Leader Append-Only).
 *  3. A leader counts its own log toward commit only up to what the
 *     application reported durable (raft_advance), so a quorum is always a
 *     quorum of durable copies.
 *  4. Only entries of the current term are committed by counting (5.4.2).
 *  5. Every message produced goes to msgs; nothing leaves but via Ready.
 *  6. After a sticky error (err != 0) every entry point returns it.
 */
#include "raft/raft.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "raft/confchange.h"
#include "raft/log.h"
#include "raft/progress.h"
#include "raft/quorum.h"

/* etcd compat: the vote context that marks a leader-transfer campaign. */
static const uint8_t campaign_transfer[] = "CampaignTransfer";
#define CAMPAIGN_TRANSFER_LEN (sizeof(campaign_transfer) - 1)

struct read_req {
	uint8_t *ctx;
	size_t len;
	raft_index index;
	raft_id from;
	uint64_t round; /* 0: waiting for the next heartbeat round */
};

struct read_round {
	uint64_t id;
	raft_id *acks;
	size_t n_acks;
};

struct raft;
typedef int (*step_fn)(struct raft *r, const struct raft_message *m);
typedef int (*tick_fn)(struct raft *r);

struct raft {
	raft_id id;
	raft_term term;
	raft_id vote;
	raft_id lead;
	enum raft_state state;
	bool is_learner;
	struct raft_log log;
	struct raft_tracker prs;

	int election_timeout;
	int heartbeat_timeout;
	int randomized_election_timeout;
	int election_elapsed;
	int heartbeat_elapsed;
	bool check_quorum;
	bool pre_vote;
	bool disable_forwarding;
	uint64_t max_msg_size;
	uint64_t rng;

	raft_id lead_transferee;
	raft_index pending_conf_index;

	struct raft_message *msgs;
	size_t n_msgs, cap_msgs;

	/* ReadIndex (thesis 6.4): requests in order, heartbeat rounds. */
	struct read_req *reads;
	size_t n_reads, cap_reads;
	struct read_round *rounds;
	size_t n_rounds, cap_rounds;
	uint64_t round_seq;
	struct raft_read_state *read_states;
	size_t n_read_states, cap_read_states;

	step_fn step;
	tick_fn tick;

	/* Ready bookkeeping. */
	struct raft_soft_state prev_ss;
	struct raft_hard_state prev_hs;
	bool in_ready;
	struct raft_ready cur;

	int err;
};

/* ---- messages ---------------------------------------------------------- */

void raft_message_done(struct raft_message *m)
{
	raft_entries_free(m->entries, m->n_entries);
	raft_snapshot_done(&m->snapshot);
	mem_free(m->context);
	memset(m, 0, sizeof(*m));
}

int raft_message_copy(struct raft_message *dst, const struct raft_message *src)
{
	struct raft_message c = *src;

	c.entries = NULL;
	c.context = NULL;
	memset(&c.snapshot, 0, sizeof(c.snapshot));
	if (raft_entries_copy(src->entries, src->n_entries, &c.entries) < 0) {
		return -ENOMEM;
	}
	if (src->context_len > 0) {
		c.context = mem_dup(src->context, src->context_len);
		if (!c.context) {
			raft_message_done(&c);
			return -ENOMEM;
		}
	}
	if (raft_snapshot_copy(&c.snapshot, &src->snapshot) < 0) {
		raft_message_done(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}

const char *raft_state_name(enum raft_state s)
{
	switch (s) {
	case RAFT_FOLLOWER:
		return "StateFollower";
	case RAFT_CANDIDATE:
		return "StateCandidate";
	case RAFT_LEADER:
		return "StateLeader";
	case RAFT_PRE_CANDIDATE:
		return "StatePreCandidate";
	}
	return "State?";
}

/* Record a sticky error (only real failures are passed here). */
static int fail(struct raft *r, int e)
{
	if (e < 0 && r->err == 0) {
		r->err = e;
	}
	return e;
}

/* Queue m (moved: its pointers now belong to the queue). */
static int send_msg(struct raft *r, struct raft_message *m)
{
	/* A forwarded transfer request keeps its sender (the transferee). */
	if (m->from == RAFT_NONE || m->type != RAFT_MSG_TRANSFER_LEADER) {
		m->from = r->id;
	}
	switch (m->type) {
	case RAFT_MSG_VOTE:
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_PRE_VOTE:
	case RAFT_MSG_PRE_VOTE_RESP:
		/* The caller set the term (it may differ from ours). */
		break;
	case RAFT_MSG_PROP:
	case RAFT_MSG_READ_INDEX:
		/* Forwarded local requests carry no term: they are not
		 * part of the election protocol. */
		m->term = 0;
		break;
	default:
		m->term = r->term;
		break;
	}
	if (r->n_msgs == r->cap_msgs) {
		size_t cap = r->cap_msgs ? r->cap_msgs * 2 : 16;
		struct raft_message *g = mem_realloc(r->msgs, cap * sizeof(*g));

		if (!g) {
			raft_message_done(m);
			return fail(r, -ENOMEM);
		}
		r->msgs = g;
		r->cap_msgs = cap;
	}
	r->msgs[r->n_msgs++] = *m;
	memset(m, 0, sizeof(*m));
	return 0;
}

/* ---- randomness -------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void reset_randomized_election_timeout(struct raft *r)
{
	r->randomized_election_timeout =
	    r->election_timeout +
	    (int)(rng_next(&r->rng) % (uint64_t)r->election_timeout);
}

/* ---- replication ------------------------------------------------------- */

static bool promotable(struct raft *r)
{
	struct raft_progress *pr = raft_tracker_get(&r->prs, r->id);

	return pr && !pr->is_learner && !r->log.has_snap;
}

/*
 * Send an append (or a snapshot) to follower to if its progress allows;
 * with send_if_empty an empty append carries the commit index.  Returns
 * true when a message was queued.
 */
static bool maybe_send_append(struct raft *r, raft_id to, bool send_if_empty)
{
	struct raft_progress *pr = raft_tracker_get(&r->prs, to);
	struct raft_message m = {.to = to};
	raft_term term = 0;
	int rt, re = 0;

	if (!pr || raft_progress_is_paused(pr)) {
		return false;
	}
	rt = raft_log_term(&r->log, pr->next - 1, &term);
	if (rt == 0) {
		re = raft_log_entries_from(&r->log, pr->next, r->max_msg_size,
					   &m.entries, &m.n_entries);
	}
	if (rt == 0 && re == 0 && m.n_entries == 0 && !send_if_empty) {
		return false;
	}
	if (r->log.err) {
		raft_message_done(&m);
		fail(r, r->log.err);
		return false;
	}
	if (rt < 0 || re < 0) {
		/* What the follower needs is compacted: send a snapshot. */
		if (!pr->recent_active) {
			return false;
		}
		raft_message_done(&m);
		m.to = to;
		re = raft_log_snapshot(&r->log, &m.snapshot);
		if (re < 0) {
			/* -EAGAIN: not ready yet, retry on a later round. */
			if (re != -EAGAIN) {
				fail(r, re);
			}
			return false;
		}
		if (m.snapshot.meta.index == 0) {
			raft_message_done(&m);
			return false;
		}
		m.type = RAFT_MSG_SNAP;
		raft_progress_become_snapshot(pr, m.snapshot.meta.index);
		send_msg(r, &m);
		return true;
	}
	m.type = RAFT_MSG_APP;
	m.index = pr->next - 1;
	m.log_term = term;
	m.commit = r->log.committed;
	if (m.n_entries > 0) {
		raft_index last = m.entries[m.n_entries - 1].index;

		switch (pr->state) {
		case RAFT_PROGRESS_REPLICATE:
			raft_progress_optimistic_update(pr, last);
			raft_inflights_add(&pr->inflights, last);
			break;
		case RAFT_PROGRESS_PROBE:
			pr->probe_sent = true;
			break;
		case RAFT_PROGRESS_SNAPSHOT:
			break;
		}
	}
	send_msg(r, &m);
	return true;
}

static void send_append(struct raft *r, raft_id to)
{
	maybe_send_append(r, to, true);
}

static void bcast_append(struct raft *r)
{
	for (size_t i = 0; i < r->prs.n_prs; i++) {
		if (r->prs.prs[i].id != r->id) {
			send_append(r, r->prs.prs[i].id);
		}
	}
}

static void send_heartbeat(struct raft *r, raft_id to, const uint8_t *ctx,
			   size_t len)
{
	struct raft_progress *pr = raft_tracker_get(&r->prs, to);
	struct raft_message m = {.type = RAFT_MSG_HEARTBEAT, .to = to};

	/*
	 * A follower may lack entries up to our commit index; it must not be
	 * told to commit what it does not have.
	 */
	m.commit =
	    pr && pr->match < r->log.committed ? pr->match : r->log.committed;
	if (len > 0) {
		m.context = mem_dup(ctx, len);
		if (!m.context) {
			fail(r, -ENOMEM);
			return;
		}
		m.context_len = len;
	}
	send_msg(r, &m);
}

static void bcast_heartbeat(struct raft *r, const uint8_t *ctx, size_t len)
{
	for (size_t i = 0; i < r->prs.n_prs; i++) {
		if (r->prs.prs[i].id != r->id) {
			send_heartbeat(r, r->prs.prs[i].id, ctx, len);
		}
	}
}

static bool maybe_commit(struct raft *r)
{
	return raft_log_maybe_commit(&r->log, raft_tracker_committed(&r->prs),
				     r->term);
}

/* Leader: count our own durable log (invariant 3). */
static bool self_ack(struct raft *r)
{
	struct raft_progress *pr = raft_tracker_get(&r->prs, r->id);

	if (pr &&
	    raft_progress_maybe_update(pr, raft_log_stable_last(&r->log))) {
		return maybe_commit(r);
	}
	return false;
}

static int append_entries(struct raft *r, struct raft_entry *ents, size_t n)
{
	raft_index li = raft_log_last_index(&r->log);
	int e;

	for (size_t i = 0; i < n; i++) {
		ents[i].term = r->term;
		ents[i].index = li + 1 + i;
	}
	e = raft_log_append(&r->log, ents, n);
	if (e < 0) {
		return fail(r, e);
	}
	/* A single member commits as soon as its write is durable. */
	return 0;
}

/* ---- reads ------------------------------------------------------------- */

static void reads_reset(struct raft *r)
{
	for (size_t i = 0; i < r->n_reads; i++) {
		mem_free(r->reads[i].ctx);
	}
	r->n_reads = 0;
	for (size_t i = 0; i < r->n_rounds; i++) {
		mem_free(r->rounds[i].acks);
	}
	r->n_rounds = 0;
}

static int add_read_state(struct raft *r, raft_index index, const uint8_t *ctx,
			  size_t len)
{
	struct raft_read_state rs = {.index = index, .ctx_len = len};

	if (r->n_read_states == r->cap_read_states) {
		size_t cap = r->cap_read_states ? r->cap_read_states * 2 : 8;
		struct raft_read_state *g =
		    mem_realloc(r->read_states, cap * sizeof(*g));

		if (!g) {
			return fail(r, -ENOMEM);
		}
		r->read_states = g;
		r->cap_read_states = cap;
	}
	if (len > 0) {
		rs.ctx = mem_dup(ctx, len);
		if (!rs.ctx) {
			return fail(r, -ENOMEM);
		}
	}
	r->read_states[r->n_read_states++] = rs;
	return 0;
}

/* Answer a confirmed read: locally or to the follower that asked. */
static void respond_read(struct raft *r, struct read_req *q)
{
	struct raft_message m = {
	    .type = RAFT_MSG_READ_INDEX_RESP, .to = q->from, .index = q->index};

	if (q->from == r->id || q->from == RAFT_NONE) {
		add_read_state(r, q->index, q->ctx, q->len);
		return;
	}
	m.entries = mem_calloc(1, sizeof(*m.entries));
	if (!m.entries) {
		fail(r, -ENOMEM);
		return;
	}
	m.n_entries = 1;
	m.entries[0].data = q->ctx;
	m.entries[0].len = q->len;
	q->ctx = NULL;
	send_msg(r, &m);
}

static int queue_read(struct raft *r, raft_id from, const uint8_t *ctx,
		      size_t len)
{
	struct read_req q = {
	    .len = len, .from = from, .index = r->log.committed};

	if (r->n_reads == r->cap_reads) {
		size_t cap = r->cap_reads ? r->cap_reads * 2 : 8;
		struct read_req *g = mem_realloc(r->reads, cap * sizeof(*g));

		if (!g) {
			return fail(r, -ENOMEM);
		}
		r->reads = g;
		r->cap_reads = cap;
	}
	if (len > 0) {
		q.ctx = mem_dup(ctx, len);
		if (!q.ctx) {
			return fail(r, -ENOMEM);
		}
	}
	r->reads[r->n_reads++] = q;
	return 0;
}

/* Reads may be served once this term committed an entry (thesis 6.4). */
static bool committed_in_term(struct raft *r)
{
	return raft_log_term_or_zero(&r->log, r->log.committed) == r->term;
}

static bool reads_unsent(struct raft *r)
{
	return r->n_reads > 0 && r->reads[r->n_reads - 1].round == 0;
}

/* Release requests up to and including round id (all confirmed). */
static void release_reads(struct raft *r, uint64_t id)
{
	size_t k = 0, j = 0;

	while (k < r->n_reads && r->reads[k].round != 0 &&
	       r->reads[k].round <= id) {
		respond_read(r, &r->reads[k]);
		mem_free(r->reads[k].ctx);
		k++;
	}
	memmove(r->reads, r->reads + k, (r->n_reads - k) * sizeof(*r->reads));
	r->n_reads -= k;
	for (size_t i = 0; i < r->n_rounds; i++) {
		if (r->rounds[i].id <= id) {
			mem_free(r->rounds[i].acks);
		} else {
			r->rounds[j++] = r->rounds[i];
		}
	}
	r->n_rounds = j;
}

static int round_ack(const void *arg, raft_id id)
{
	const struct read_round *rd = arg;

	return raft_ids_contain(rd->acks, rd->n_acks, id) ? 1 : -1;
}

static void round_check(struct raft *r, struct read_round *rd)
{
	if (raft_joint_vote(r->prs.conf.voters, r->prs.conf.n_voters,
			    r->prs.conf.voters_outgoing,
			    r->prs.conf.n_voters_outgoing, round_ack,
			    rd) == RAFT_VOTE_WON) {
		release_reads(r, rd->id);
	}
}

static void round_acked(struct raft *r, uint64_t id, raft_id from)
{
	for (size_t i = 0; i < r->n_rounds; i++) {
		struct read_round *rd = &r->rounds[i];

		if (rd->id != id) {
			continue;
		}
		if (!raft_ids_contain(rd->acks, rd->n_acks, from) &&
		    rd->n_acks < r->prs.n_prs + 1) {
			rd->acks[rd->n_acks++] = from;
		}
		round_check(r, rd);
		return;
	}
}

/*
 * Leader: start one heartbeat round for every request queued since the
 * last round, so that many reads share it.
 */
static void flush_reads(struct raft *r)
{
	struct read_round rd;
	uint8_t ctx[8];

	if (r->state != RAFT_LEADER || !reads_unsent(r) ||
	    !committed_in_term(r)) {
		return;
	}
	rd.id = ++r->round_seq;
	rd.acks = mem_calloc(r->prs.n_prs + 1, sizeof(*rd.acks));
	if (!rd.acks) {
		fail(r, -ENOMEM);
		return;
	}
	if (r->n_rounds == r->cap_rounds) {
		size_t cap = r->cap_rounds ? r->cap_rounds * 2 : 4;
		struct read_round *g = mem_realloc(r->rounds, cap * sizeof(*g));

		if (!g) {
			mem_free(rd.acks);
			fail(r, -ENOMEM);
			return;
		}
		r->rounds = g;
		r->cap_rounds = cap;
	}
	for (size_t i = 0; i < r->n_reads; i++) {
		if (r->reads[i].round == 0) {
			r->reads[i].round = rd.id;
			/* The commit index may have moved while waiting. */
			r->reads[i].index = r->log.committed;
		}
	}
	rd.acks[0] = r->id;
	rd.n_acks = 1;
	r->rounds[r->n_rounds++] = rd;
	for (int i = 0; i < 8; i++) {
		ctx[i] = (uint8_t)(rd.id >> (56 - 8 * i));
	}
	bcast_heartbeat(r, ctx, sizeof(ctx));
	round_check(r, &r->rounds[r->n_rounds - 1]);
}

static bool ctx_round(const struct raft_message *m, uint64_t *id)
{
	uint64_t v = 0;

	if (m->context_len != 8) {
		return false;
	}
	for (int i = 0; i < 8; i++) {
		v = (v << 8) | m->context[i];
	}
	*id = v;
	return true;
}

/* ---- role changes ------------------------------------------------------ */

static int step_leader(struct raft *r, const struct raft_message *m);
static int step_candidate(struct raft *r, const struct raft_message *m);
static int step_follower(struct raft *r, const struct raft_message *m);
static int tick_election(struct raft *r);
static int tick_heartbeat(struct raft *r);

static void abort_leader_transfer(struct raft *r)
{
	r->lead_transferee = RAFT_NONE;
}

static void reset(struct raft *r, raft_term term)
{
	raft_index last = raft_log_last_index(&r->log);

	if (r->term != term) {
		r->term = term;
		r->vote = RAFT_NONE;
	}
	r->lead = RAFT_NONE;
	r->election_elapsed = 0;
	r->heartbeat_elapsed = 0;
	reset_randomized_election_timeout(r);
	abort_leader_transfer(r);
	raft_tracker_reset_votes(&r->prs);
	for (size_t i = 0; i < r->prs.n_prs; i++) {
		struct raft_progress *pr = &r->prs.prs[i];

		pr->match = 0;
		pr->next = last + 1;
		pr->probe_sent = false;
		pr->pending_snapshot = 0;
		pr->state = RAFT_PROGRESS_PROBE;
		/* Activity seen in an earlier term says nothing now. */
		pr->recent_active = pr->id == r->id;
		raft_inflights_reset(&pr->inflights);
		if (pr->id == r->id) {
			pr->match = raft_log_stable_last(&r->log);
		}
	}
	r->pending_conf_index = 0;
	reads_reset(r);
}

static void become_follower(struct raft *r, raft_term term, raft_id lead)
{
	r->step = step_follower;
	r->tick = tick_election;
	reset(r, term);
	r->lead = lead;
	r->state = RAFT_FOLLOWER;
}

static void become_candidate(struct raft *r)
{
	r->step = step_candidate;
	r->tick = tick_election;
	reset(r, r->term + 1);
	r->vote = r->id;
	r->state = RAFT_CANDIDATE;
}

static void become_pre_candidate(struct raft *r)
{
	/*
	 * Pre-vote (thesis 9.6): neither term nor vote change, so a node that
	 * cannot win disturbs nobody.
	 */
	r->step = step_candidate;
	r->tick = tick_election;
	raft_tracker_reset_votes(&r->prs);
	r->lead = RAFT_NONE;
	r->state = RAFT_PRE_CANDIDATE;
}

static void become_leader(struct raft *r)
{
	struct raft_entry empty = {.type = RAFT_ENTRY_NORMAL};
	struct raft_progress *self;

	r->step = step_leader;
	r->tick = tick_heartbeat;
	reset(r, r->term);
	r->lead = r->id;
	r->state = RAFT_LEADER;
	self = raft_tracker_get(&r->prs, r->id);
	if (self) {
		raft_progress_become_replicate(self);
		self->match = raft_log_stable_last(&r->log);
	}
	/*
	 * Conf changes in the uncommitted tail may exist; no new one until
	 * they are applied.
	 */
	r->pending_conf_index = raft_log_last_index(&r->log);
	/* An entry of our term lets us commit everything before it (5.4.2). */
	append_entries(r, &empty, 1);
}

static void campaign(struct raft *r, enum raft_msg_type type, bool transfer);

static enum raft_vote_result poll(struct raft *r, raft_id id, bool granted)
{
	raft_tracker_record_vote(&r->prs, id, granted);
	return raft_tracker_tally(&r->prs, NULL, NULL);
}

static void campaign(struct raft *r, enum raft_msg_type type, bool transfer)
{
	raft_term term;
	enum raft_msg_type vote_type;

	if (type == RAFT_MSG_PRE_VOTE) {
		become_pre_candidate(r);
		vote_type = RAFT_MSG_PRE_VOTE;
		/* Ask as if we had started the next term. */
		term = r->term + 1;
	} else {
		become_candidate(r);
		vote_type = RAFT_MSG_VOTE;
		term = r->term;
	}
	if (poll(r, r->id, true) == RAFT_VOTE_WON) {
		/* A single voter wins at once. */
		if (type == RAFT_MSG_PRE_VOTE) {
			campaign(r, RAFT_MSG_VOTE, transfer);
		} else {
			become_leader(r);
		}
		return;
	}
	for (size_t i = 0; i < r->prs.n_prs; i++) {
		raft_id id = r->prs.prs[i].id;
		struct raft_message m = {
		    .type = vote_type, .to = id, .term = term};

		if (id == r->id || !raft_tracker_is_voter(&r->prs, id)) {
			continue;
		}
		m.index = raft_log_last_index(&r->log);
		m.log_term = raft_log_last_term(&r->log);
		if (transfer) {
			m.context =
			    mem_dup(campaign_transfer, CAMPAIGN_TRANSFER_LEN);
			if (!m.context) {
				fail(r, -ENOMEM);
				return;
			}
			m.context_len = CAMPAIGN_TRANSFER_LEN;
		}
		send_msg(r, &m);
	}
}

/* Whether committed but unapplied entries hold a configuration change. */
static bool pending_conf_unapplied(struct raft *r)
{
	struct raft_entry *ents = NULL;
	size_t n = 0;
	bool found = false;

	if (r->log.applied >= r->log.committed) {
		return false;
	}
	if (raft_log_slice(&r->log, r->log.applied + 1, r->log.committed + 1,
			   RAFT_NO_LIMIT, &ents, &n) < 0) {
		/* Cannot tell: do not campaign. */
		return true;
	}
	for (size_t i = 0; i < n; i++) {
		if (ents[i].type != RAFT_ENTRY_NORMAL) {
			found = true;
		}
	}
	raft_entries_free(ents, n);
	return found;
}

static void hup(struct raft *r, bool transfer)
{
	if (r->state == RAFT_LEADER || !promotable(r)) {
		return;
	}
	/*
	 * A configuration change that is committed but not applied could
	 * change who may vote: wait until it is applied.
	 */
	if (pending_conf_unapplied(r)) {
		return;
	}
	if (r->pre_vote && !transfer) {
		campaign(r, RAFT_MSG_PRE_VOTE, false);
	} else {
		campaign(r, RAFT_MSG_VOTE, transfer);
	}
}

/* ---- ticks ------------------------------------------------------------- */

static int step_internal(struct raft *r, const struct raft_message *m);

static bool past_election_timeout(struct raft *r)
{
	return r->election_elapsed >= r->randomized_election_timeout;
}

static int tick_election(struct raft *r)
{
	r->election_elapsed++;
	if (promotable(r) && past_election_timeout(r)) {
		struct raft_message m = {.type = RAFT_MSG_HUP, .from = r->id};

		r->election_elapsed = 0;
		return step_internal(r, &m);
	}
	return 0;
}

static int tick_heartbeat(struct raft *r)
{
	r->heartbeat_elapsed++;
	r->election_elapsed++;
	if (r->election_elapsed >= r->election_timeout) {
		r->election_elapsed = 0;
		if (r->check_quorum) {
			struct raft_message m = {.type = RAFT_MSG_CHECK_QUORUM,
						 .from = r->id};
			int e = step_internal(r, &m);

			if (e < 0) {
				return e;
			}
		}
		/* A transfer that did not finish in time is abandoned. */
		if (r->state == RAFT_LEADER &&
		    r->lead_transferee != RAFT_NONE) {
			abort_leader_transfer(r);
		}
	}
	if (r->state != RAFT_LEADER) {
		return 0;
	}
	if (r->heartbeat_elapsed >= r->heartbeat_timeout) {
		struct raft_message m = {.type = RAFT_MSG_BEAT, .from = r->id};

		r->heartbeat_elapsed = 0;
		return step_internal(r, &m);
	}
	return 0;
}

/* ---- followers --------------------------------------------------------- */

static void reply_append(struct raft *r, raft_id to, raft_index index,
			 bool reject, raft_index hint, raft_term hint_term)
{
	struct raft_message m = {.type = RAFT_MSG_APP_RESP,
				 .to = to,
				 .index = index,
				 .reject = reject,
				 .reject_hint = hint,
				 .log_term = hint_term};

	send_msg(r, &m);
}

static void handle_append_entries(struct raft *r, const struct raft_message *m)
{
	raft_index last_new = 0;
	int ok;

	if (m->index < r->log.committed) {
		/* Old news: tell the leader how far we are. */
		reply_append(r, m->from, r->log.committed, false, 0, 0);
		return;
	}
	ok = raft_log_maybe_append(&r->log, m->index, m->log_term, m->commit,
				   m->entries, m->n_entries, &last_new);
	if (ok < 0) {
		fail(r, ok);
		return;
	}
	if (ok > 0) {
		reply_append(r, m->from, last_new, false, 0, 0);
		return;
	}
	/*
	 * Reject with a hint (fast backtracking): the largest index up to
	 * min(m.index, last) whose term is <= m.log_term is the first place
	 * the leader's log could match ours, so the leader can skip a whole
	 * term of mismatching entries in one round trip.
	 */
	{
		raft_index hint = m->index;
		raft_index li = raft_log_last_index(&r->log);

		if (hint > li) {
			hint = li;
		}
		hint =
		    raft_log_find_conflict_by_term(&r->log, hint, m->log_term);
		reply_append(r, m->from, m->index, true, hint,
			     raft_log_term_or_zero(&r->log, hint));
	}
}

static void handle_heartbeat(struct raft *r, const struct raft_message *m)
{
	struct raft_message resp = {.type = RAFT_MSG_HEARTBEAT_RESP,
				    .to = m->from};
	int e = raft_log_commit_to(&r->log, m->commit);

	if (e < 0) {
		fail(r, e);
		return;
	}
	if (m->context_len > 0) {
		resp.context = mem_dup(m->context, m->context_len);
		if (!resp.context) {
			fail(r, -ENOMEM);
			return;
		}
		resp.context_len = m->context_len;
	}
	send_msg(r, &resp);
}

static int apply_conf_state(struct raft *r, const struct raft_conf_state *cs);

/* Install a snapshot (Raft Figure 13); true when the log was replaced. */
static bool restore(struct raft *r, const struct raft_snapshot *s)
{
	const struct raft_conf_state *cs = &s->meta.conf;

	if (s->meta.index <= r->log.committed) {
		return false;
	}
	if (r->state != RAFT_FOLLOWER) {
		/* Only a follower takes a snapshot; be defensive. */
		become_follower(r, r->term + 1, RAFT_NONE);
		return false;
	}
	/*
	 * cetcd: unlike etcd, a snapshot whose configuration does not list
	 * us yet is accepted: a member that was just added receives the last
	 * snapshot, which may predate the change that added it; that change
	 * follows in the log.  Without a progress of our own we are not
	 * promotable, so nothing relies on being listed.
	 */
	if (raft_log_match_term(&r->log, s->meta.index, s->meta.term)) {
		/* We have the snapshot's entries: just move commit. */
		raft_log_commit_to(&r->log, s->meta.index);
		return false;
	}
	if (raft_log_restore(&r->log, s) < 0) {
		fail(r, r->log.err ? r->log.err : -ENOMEM);
		return false;
	}
	if (apply_conf_state(r, cs) < 0) {
		return false;
	}
	return true;
}

static void handle_snapshot(struct raft *r, const struct raft_message *m)
{
	if (restore(r, &m->snapshot)) {
		reply_append(r, m->from, raft_log_last_index(&r->log), false, 0,
			     0);
	} else {
		reply_append(r, m->from, r->log.committed, false, 0, 0);
	}
}

static int forward(struct raft *r, const struct raft_message *m)
{
	struct raft_message f;
	int e = raft_message_copy(&f, m);

	if (e < 0) {
		return fail(r, e);
	}
	f.to = r->lead;
	return send_msg(r, &f);
}

static int step_follower(struct raft *r, const struct raft_message *m)
{
	switch (m->type) {
	case RAFT_MSG_PROP:
		if (r->lead == RAFT_NONE) {
			return -ERR_NO_LEADER;
		}
		if (r->disable_forwarding) {
			return -ERR_PROPOSAL_DROPPED;
		}
		return forward(r, m);
	case RAFT_MSG_APP:
		r->election_elapsed = 0;
		r->lead = m->from;
		handle_append_entries(r, m);
		break;
	case RAFT_MSG_HEARTBEAT:
		r->election_elapsed = 0;
		r->lead = m->from;
		handle_heartbeat(r, m);
		break;
	case RAFT_MSG_SNAP:
		r->election_elapsed = 0;
		r->lead = m->from;
		handle_snapshot(r, m);
		break;
	case RAFT_MSG_TRANSFER_LEADER:
		if (r->lead == RAFT_NONE) {
			return -ERR_NO_LEADER;
		}
		return forward(r, m);
	case RAFT_MSG_TIMEOUT_NOW:
		/* Leader transfer: campaign at once, skipping pre-vote. */
		hup(r, true);
		break;
	case RAFT_MSG_READ_INDEX:
		if (r->lead == RAFT_NONE) {
			return -ERR_NO_LEADER;
		}
		return forward(r, m);
	case RAFT_MSG_READ_INDEX_RESP:
		if (m->n_entries != 1) {
			return 0;
		}
		return add_read_state(r, m->index, m->entries[0].data,
				      m->entries[0].len);
	default:
		break;
	}
	return r->err;
}

static int step_candidate(struct raft *r, const struct raft_message *m)
{
	enum raft_msg_type resp_type = r->state == RAFT_PRE_CANDIDATE
					   ? RAFT_MSG_PRE_VOTE_RESP
					   : RAFT_MSG_VOTE_RESP;

	switch (m->type) {
	case RAFT_MSG_PROP:
	case RAFT_MSG_READ_INDEX:
	case RAFT_MSG_TRANSFER_LEADER:
		return -ERR_NO_LEADER;
	case RAFT_MSG_APP:
		/* A leader of our term exists: it won. */
		become_follower(r, m->term, m->from);
		handle_append_entries(r, m);
		break;
	case RAFT_MSG_HEARTBEAT:
		become_follower(r, m->term, m->from);
		handle_heartbeat(r, m);
		break;
	case RAFT_MSG_SNAP:
		become_follower(r, m->term, m->from);
		handle_snapshot(r, m);
		break;
	case RAFT_MSG_VOTE_RESP:
	case RAFT_MSG_PRE_VOTE_RESP:
		if (m->type != resp_type) {
			break;
		}
		switch (poll(r, m->from, !m->reject)) {
		case RAFT_VOTE_WON:
			if (r->state == RAFT_PRE_CANDIDATE) {
				campaign(r, RAFT_MSG_VOTE, false);
			} else {
				become_leader(r);
				bcast_append(r);
			}
			break;
		case RAFT_VOTE_LOST:
			/* Back to follower; the term stays (pre-vote: ours). */
			become_follower(r, r->term, RAFT_NONE);
			break;
		case RAFT_VOTE_PENDING:
			break;
		}
		break;
	default:
		break;
	}
	return r->err;
}

/* ---- leader ------------------------------------------------------------ */

static bool is_conf_entry(const struct raft_entry *e)
{
	return e->type == RAFT_ENTRY_CONF_CHANGE ||
	       e->type == RAFT_ENTRY_CONF_CHANGE_V2;
}

static int leader_propose(struct raft *r, const struct raft_message *m)
{
	struct raft_entry *ents;
	int e;

	if (m->n_entries == 0) {
		return -ERR_INVALID;
	}
	if (!raft_tracker_get(&r->prs, r->id)) {
		/* Removed from the configuration: not a leader for long. */
		return -ERR_PROPOSAL_DROPPED;
	}
	if (r->lead_transferee != RAFT_NONE) {
		/* Thesis 3.10: no new entries while handing over. */
		return -ERR_PROPOSAL_DROPPED;
	}
	for (size_t i = 0; i < m->n_entries; i++) {
		const struct raft_entry *x = &m->entries[i];

		if (!is_conf_entry(x)) {
			continue;
		}
		/*
		 * One change at a time, and each must fit the config.
		 * cetcd: refused with an error; etcd turns such a proposal
		 * into an empty entry that the application never sees fail.
		 */
		if (r->pending_conf_index > r->log.applied) {
			return -ERR_PROPOSAL_DROPPED;
		}
		{
			struct raft_conf_change cc;
			bool leave, joint = raft_tracker_is_joint(&r->prs);

			if (raft_conf_change_decode(x, &cc) < 0) {
				return -ERR_INVALID;
			}
			leave =
			    cc.transition == RAFT_CC_AUTO && cc.n_changes == 0;
			raft_conf_change_done(&cc);
			if (joint != leave) {
				/* Already joint and not leaving, or
				 * leaving without being joint. */
				return -ERR_PROPOSAL_DROPPED;
			}
		}
	}
	e = raft_entries_copy(m->entries, m->n_entries, &ents);
	if (e < 0) {
		return fail(r, e);
	}
	e = append_entries(r, ents, m->n_entries);
	if (e == 0) {
		for (size_t i = 0; i < m->n_entries; i++) {
			if (is_conf_entry(&ents[i])) {
				r->pending_conf_index = ents[i].index;
			}
		}
	}
	raft_entries_free(ents, m->n_entries);
	if (e < 0) {
		return e;
	}
	bcast_append(r);
	return r->err;
}

static void send_timeout_now(struct raft *r, raft_id to)
{
	struct raft_message m = {.type = RAFT_MSG_TIMEOUT_NOW, .to = to};

	send_msg(r, &m);
}

static int leader_read_index(struct raft *r, const struct raft_message *m)
{
	const uint8_t *ctx = m->n_entries ? m->entries[0].data : NULL;
	size_t len = m->n_entries ? m->entries[0].len : 0;
	raft_id from = m->from ? m->from : r->id;

	if (r->prs.conf.n_voters == 1 && r->prs.conf.n_voters_outgoing == 0 &&
	    raft_ids_contain(r->prs.conf.voters, 1, r->id) &&
	    committed_in_term(r)) {
		/* A single voter is its own quorum. */
		struct read_req q = {.ctx = (uint8_t *)(uintptr_t)ctx,
				     .len = len,
				     .index = r->log.committed,
				     .from = from};
		uint8_t *dup = NULL;

		if (from != r->id) {
			dup = len ? mem_dup(ctx, len) : NULL;
			if (len && !dup) {
				return fail(r, -ENOMEM);
			}
			q.ctx = dup;
		}
		respond_read(r, &q);
		if (from != r->id) {
			mem_free(q.ctx);
		}
		return r->err;
	}
	return queue_read(r, from, ctx, len);
}

static int step_leader(struct raft *r, const struct raft_message *m)
{
	struct raft_progress *pr;

	switch (m->type) {
	case RAFT_MSG_BEAT:
		bcast_heartbeat(r, NULL, 0);
		return r->err;
	case RAFT_MSG_CHECK_QUORUM:
		/*
		 * Thesis 6.2: a leader that did not hear from a quorum
		 * within an election timeout steps down, so a partitioned
		 * leader stops serving stale reads and taking writes.
		 */
		if (!raft_tracker_quorum_active(&r->prs)) {
			become_follower(r, r->term, RAFT_NONE);
		}
		for (size_t i = 0; i < r->prs.n_prs; i++) {
			r->prs.prs[i].recent_active = r->prs.prs[i].id == r->id;
		}
		return r->err;
	case RAFT_MSG_PROP:
		return leader_propose(r, m);
	case RAFT_MSG_READ_INDEX:
		return leader_read_index(r, m);
	default:
		break;
	}
	pr = raft_tracker_get(&r->prs, m->from);
	if (!pr) {
		return 0;
	}
	switch (m->type) {
	case RAFT_MSG_APP_RESP:
		pr->recent_active = true;
		if (m->reject) {
			raft_index next_probe = m->reject_hint;

			if (m->log_term > 0) {
				next_probe = raft_log_find_conflict_by_term(
				    &r->log, m->reject_hint, m->log_term);
			}
			if (raft_progress_maybe_decr_to(pr, m->index,
							next_probe)) {
				if (pr->state == RAFT_PROGRESS_REPLICATE) {
					raft_progress_become_probe(pr);
				}
				send_append(r, m->from);
			}
		} else {
			bool was_paused = raft_progress_is_paused(pr);

			if (!raft_progress_maybe_update(pr, m->index)) {
				break;
			}
			switch (pr->state) {
			case RAFT_PROGRESS_PROBE:
				raft_progress_become_replicate(pr);
				break;
			case RAFT_PROGRESS_SNAPSHOT:
				if (pr->match >= pr->pending_snapshot) {
					raft_progress_become_probe(pr);
					raft_progress_become_replicate(pr);
				}
				break;
			case RAFT_PROGRESS_REPLICATE:
				raft_inflights_free_le(&pr->inflights,
						       m->index);
				break;
			}
			if (maybe_commit(r)) {
				bcast_append(r);
			} else if (was_paused) {
				send_append(r, m->from);
			}
			/* Fill the window while there is more to send. */
			while (maybe_send_append(r, m->from, false)) {
			}
			if (m->from == r->lead_transferee &&
			    pr->match == raft_log_last_index(&r->log)) {
				send_timeout_now(r, m->from);
			}
		}
		break;
	case RAFT_MSG_HEARTBEAT_RESP: {
		uint64_t id;

		pr->recent_active = true;
		pr->probe_sent = false;
		if (pr->state == RAFT_PROGRESS_REPLICATE &&
		    raft_inflights_full(&pr->inflights)) {
			/* Free one slot so a lost append cannot stall us. */
			raft_inflights_free_le(
			    &pr->inflights,
			    pr->inflights.buf[pr->inflights.start]);
		}
		if (pr->match < raft_log_last_index(&r->log)) {
			send_append(r, m->from);
		}
		if (ctx_round(m, &id)) {
			round_acked(r, id, m->from);
		}
		break;
	}
	case RAFT_MSG_SNAP_STATUS:
		if (pr->state != RAFT_PROGRESS_SNAPSHOT) {
			break;
		}
		if (m->reject) {
			pr->pending_snapshot = 0;
		}
		/* Either way probe from here; wait for the next heartbeat
		 * reply before sending (the follower may still be busy). */
		raft_progress_become_probe(pr);
		pr->probe_sent = true;
		break;
	case RAFT_MSG_UNREACHABLE:
		if (pr->state == RAFT_PROGRESS_REPLICATE) {
			raft_progress_become_probe(pr);
		}
		break;
	case RAFT_MSG_TRANSFER_LEADER: {
		raft_id to = m->from;

		if (pr->is_learner) {
			return -ERR_INVALID;
		}
		if (r->lead_transferee != RAFT_NONE) {
			if (r->lead_transferee == to) {
				return 0;
			}
			abort_leader_transfer(r);
		}
		if (to == r->id) {
			return 0;
		}
		/* The transfer must finish within one election timeout. */
		r->election_elapsed = 0;
		r->lead_transferee = to;
		if (pr->match == raft_log_last_index(&r->log)) {
			send_timeout_now(r, to);
		} else {
			send_append(r, to);
		}
		break;
	}
	default:
		break;
	}
	return r->err;
}

/* ---- step -------------------------------------------------------------- */

static bool in_lease(struct raft *r)
{
	return r->check_quorum && r->lead != RAFT_NONE &&
	       r->election_elapsed < r->election_timeout;
}

static bool is_transfer_ctx(const struct raft_message *m)
{
	return m->context_len == CAMPAIGN_TRANSFER_LEN &&
	       memcmp(m->context, campaign_transfer, CAMPAIGN_TRANSFER_LEN) ==
		   0;
}

static void handle_vote(struct raft *r, const struct raft_message *m)
{
	enum raft_msg_type resp = m->type == RAFT_MSG_VOTE
				      ? RAFT_MSG_VOTE_RESP
				      : RAFT_MSG_PRE_VOTE_RESP;
	/*
	 * Raft 5.2: at most one vote per term, first come first served; a
	 * repeated request from the one we voted for is granted again.  A
	 * pre-vote for a future term commits us to nothing.
	 */
	bool can_vote = r->vote == m->from ||
			(r->vote == RAFT_NONE && r->lead == RAFT_NONE) ||
			(m->type == RAFT_MSG_PRE_VOTE && m->term > r->term);
	struct raft_message out = {.type = resp, .to = m->from};

	/* Raft 5.4.1: only for a candidate whose log is up to date. */
	if (can_vote &&
	    raft_log_is_up_to_date(&r->log, m->index, m->log_term)) {
		/* Reply in the candidate's term so it counts the vote. */
		out.term = m->term;
		if (m->type == RAFT_MSG_VOTE) {
			r->election_elapsed = 0;
			r->vote = m->from;
		}
	} else {
		out.term = r->term;
		out.reject = true;
	}
	send_msg(r, &out);
}

static int step_internal(struct raft *r, const struct raft_message *m)
{
	if (m->term == 0) {
		/* Local message. */
	} else if (m->term > r->term) {
		if (m->type == RAFT_MSG_VOTE || m->type == RAFT_MSG_PRE_VOTE) {
			/*
			 * Thesis 4.2.3: while we hear from a leader, ignore
			 * candidates; a removed or partitioned node must not
			 * depose a working leader.  A transfer is wanted.
			 */
			if (!is_transfer_ctx(m) && in_lease(r)) {
				return 0;
			}
		}
		if (m->type == RAFT_MSG_PRE_VOTE) {
			/* Never change term for a pre-vote request. */
		} else if (m->type == RAFT_MSG_PRE_VOTE_RESP && !m->reject) {
			/* Granted pre-votes carry the future term. */
		} else if (m->type == RAFT_MSG_APP ||
			   m->type == RAFT_MSG_HEARTBEAT ||
			   m->type == RAFT_MSG_SNAP) {
			become_follower(r, m->term, m->from);
		} else {
			become_follower(r, m->term, RAFT_NONE);
		}
	} else if (m->term < r->term) {
		if (m->type == RAFT_MSG_HEARTBEAT || m->type == RAFT_MSG_APP) {
			/*
			 * A stale leader would otherwise never learn our
			 * term: we ignore its messages, and our vote requests
			 * may never reach it (pre-vote and check-quorum keep
			 * us from disrupting it; a configuration we have not
			 * caught up with may not even list it).  Tell it.
			 * cetcd: etcd answers only with pre-vote or
			 * check-quorum on, and a lagging member whose term
			 * ran ahead can then stall forever.
			 */
			struct raft_message out = {.type = RAFT_MSG_APP_RESP,
						   .to = m->from};

			send_msg(r, &out);
		} else if (m->type == RAFT_MSG_PRE_VOTE) {
			struct raft_message out = {
			    .type = RAFT_MSG_PRE_VOTE_RESP,
			    .to = m->from,
			    .term = r->term,
			    .reject = true,
			};

			send_msg(r, &out);
		}
		return r->err;
	}

	switch (m->type) {
	case RAFT_MSG_HUP:
		hup(r, false);
		return r->err;
	case RAFT_MSG_VOTE:
	case RAFT_MSG_PRE_VOTE:
		handle_vote(r, m);
		return r->err;
	default:
		return r->step(r, m);
	}
}

/* ---- public API -------------------------------------------------------- */

static int apply_conf_state(struct raft *r, const struct raft_conf_state *cs)
{
	int e =
	    raft_tracker_set_conf(&r->prs, cs, raft_log_last_index(&r->log));
	struct raft_progress *self;

	if (e < 0) {
		return fail(r, e);
	}
	self = raft_tracker_get(&r->prs, r->id);
	r->is_learner = self && self->is_learner;
	return 0;
}

int raft_new(const struct raft_config *cfg, struct raft **out)
{
	struct raft *r;
	struct raft_hard_state hs;
	struct raft_conf_state cs;
	raft_index last;
	int e;

	if (cfg->id == RAFT_NONE || cfg->heartbeat_tick <= 0 ||
	    cfg->election_tick <= cfg->heartbeat_tick ||
	    cfg->max_inflight_msgs == 0 || !cfg->storage.term) {
		return -ERR_INVALID;
	}
	r = mem_calloc(1, sizeof(*r));
	if (!r) {
		return -ENOMEM;
	}
	r->id = cfg->id;
	r->election_timeout = cfg->election_tick;
	r->heartbeat_timeout = cfg->heartbeat_tick;
	r->check_quorum = cfg->check_quorum;
	r->pre_vote = cfg->pre_vote;
	r->disable_forwarding = cfg->disable_proposal_forwarding;
	r->max_msg_size = cfg->max_size_per_msg;
	r->rng = cfg->seed ^ (cfg->id * 0x2545f4914f6cdd1dULL);
	raft_tracker_init(&r->prs, cfg->max_inflight_msgs);
	e = raft_log_init(&r->log, &cfg->storage,
			  cfg->max_committed_size_per_ready
			      ? cfg->max_committed_size_per_ready
			      : RAFT_NO_LIMIT);
	if (e < 0) {
		goto fail;
	}
	e = cfg->storage.initial_state(cfg->storage.ctx, &hs, &cs);
	if (e < 0) {
		goto fail;
	}
	e = apply_conf_state(r, &cs);
	raft_conf_state_done(&cs);
	if (e < 0) {
		goto fail;
	}
	last = raft_log_last_index(&r->log);
	if (hs.commit > last || r->log.err) {
		e = r->log.err ? r->log.err : -ERR_CORRUPT;
		goto fail;
	}
	if (hs.commit > r->log.committed) {
		r->log.committed = hs.commit;
	}
	if (cfg->applied > 0) {
		if (cfg->applied > last) {
			e = -ERR_INVALID;
			goto fail;
		}
		/*
		 * The application applies only committed entries, so what it
		 * applied is committed even when the hard state saying so was
		 * not synced (commit-only updates need no fsync: must_sync).
		 */
		if (cfg->applied > r->log.committed) {
			r->log.committed = cfg->applied;
		}
		raft_log_applied_to(&r->log, cfg->applied);
	}
	become_follower(r, hs.term, RAFT_NONE);
	r->vote = hs.vote;
	r->prev_hs =
	    (struct raft_hard_state){r->term, r->vote, r->log.committed};
	r->prev_ss = (struct raft_soft_state){RAFT_NONE, RAFT_FOLLOWER};
	*out = r;
	return 0;
fail:
	raft_free(r);
	return e;
}

static void free_messages(struct raft_message *msgs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		raft_message_done(&msgs[i]);
	}
	mem_free(msgs);
}

static void free_read_states(struct raft_read_state *rs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mem_free(rs[i].ctx);
	}
	mem_free(rs);
}

void raft_free(struct raft *r)
{
	if (!r) {
		return;
	}
	if (r->in_ready) {
		free_messages(r->cur.messages, r->cur.n_messages);
		free_read_states(r->cur.read_states, r->cur.n_read_states);
		raft_entries_free(r->cur.committed_entries,
				  r->cur.n_committed_entries);
	}
	free_messages(r->msgs, r->n_msgs);
	reads_reset(r);
	mem_free(r->reads);
	mem_free(r->rounds);
	free_read_states(r->read_states, r->n_read_states);
	raft_log_done(&r->log);
	raft_tracker_done(&r->prs);
	mem_free(r);
}

static int entry_point(struct raft *r)
{
	if (r->log.err) {
		fail(r, r->log.err);
	}
	if (r->err) {
		return r->err;
	}
	if (r->in_ready) {
		return -ERR_INVALID;
	}
	return 0;
}

int raft_tick(struct raft *r)
{
	int e = entry_point(r);

	if (e < 0) {
		return e;
	}
	return r->tick(r);
}

int raft_step(struct raft *r, const struct raft_message *m)
{
	int e = entry_point(r);

	if (e < 0) {
		return e;
	}
	/* Local-only kinds never come from the network. */
	if (m->term == 0 &&
	    (m->type == RAFT_MSG_HUP || m->type == RAFT_MSG_BEAT ||
	     m->type == RAFT_MSG_CHECK_QUORUM) &&
	    m->from != r->id && m->from != RAFT_NONE) {
		return -ERR_INVALID;
	}
	if (m->type == RAFT_MSG_UNREACHABLE ||
	    m->type == RAFT_MSG_SNAP_STATUS) {
		if (r->state != RAFT_LEADER) {
			return 0;
		}
	}
	if (m->type == RAFT_MSG_APP) {
		/*
		 * Bad input must not corrupt the log: entries follow
		 * m->index contiguously, with terms that never decrease and
		 * never exceed the leader's term.
		 */
		raft_term prev = m->log_term;

		for (size_t i = 0; i < m->n_entries; i++) {
			const struct raft_entry *x = &m->entries[i];

			if (x->index != m->index + 1 + i || x->term < prev ||
			    x->term > m->term) {
				return -ERR_INVALID;
			}
			prev = x->term;
		}
	}
	if ((m->type == RAFT_MSG_VOTE_RESP || m->type == RAFT_MSG_APP_RESP ||
	     m->type == RAFT_MSG_HEARTBEAT_RESP) &&
	    !raft_tracker_get(&r->prs, m->from)) {
		/* Replies from non-members are ignored (etcd compat). */
		return 0;
	}
	e = step_internal(r, m);
	if (r->log.err) {
		return fail(r, r->log.err);
	}
	RAFT_LOG_CHECK(&r->log);
	return e;
}

int raft_propose_entries(struct raft *r, const struct raft_entry *ents,
			 size_t n)
{
	struct raft_message m = {.type = RAFT_MSG_PROP,
				 .from = r->id,
				 .entries =
				     (struct raft_entry *)(uintptr_t)ents,
				 .n_entries = n};
	int e = entry_point(r);

	if (e < 0) {
		return e;
	}
	if (n == 0) {
		return -ERR_INVALID;
	}
	return step_internal(r, &m);
}

int raft_propose(struct raft *r, const uint8_t *data, size_t len)
{
	struct raft_entry ent = {.type = RAFT_ENTRY_NORMAL,
				 .data = (uint8_t *)(uintptr_t)data,
				 .len = len};

	return raft_propose_entries(r, &ent, 1);
}

int raft_propose_conf_change(struct raft *r, const struct raft_conf_change *cc)
{
	struct raft_entry ent = {.type = RAFT_ENTRY_CONF_CHANGE_V2};
	int e = raft_conf_change_encode(cc, &ent.data, &ent.len);

	if (e < 0) {
		return e;
	}
	e = raft_propose_entries(r, &ent, 1);
	mem_free(ent.data);
	return e;
}

int raft_campaign(struct raft *r)
{
	struct raft_message m = {.type = RAFT_MSG_HUP, .from = r->id};
	int e = entry_point(r);

	if (e < 0) {
		return e;
	}
	return step_internal(r, &m);
}

int raft_read_index(struct raft *r, const uint8_t *ctx, size_t len)
{
	struct raft_entry ent = {.data = (uint8_t *)(uintptr_t)ctx, .len = len};
	struct raft_message m = {.type = RAFT_MSG_READ_INDEX,
				 .from = r->id,
				 .entries = &ent,
				 .n_entries = 1};
	int e = entry_point(r);

	if (e < 0) {
		return e;
	}
	return step_internal(r, &m);
}

int raft_transfer_leader(struct raft *r, raft_id transferee)
{
	struct raft_message m = {.type = RAFT_MSG_TRANSFER_LEADER,
				 .from = transferee};
	int e = entry_point(r);

	if (e < 0) {
		return e;
	}
	return step_internal(r, &m);
}

int raft_report_unreachable(struct raft *r, raft_id id)
{
	struct raft_message m = {.type = RAFT_MSG_UNREACHABLE, .from = id};

	return raft_step(r, &m);
}

int raft_report_snapshot(struct raft *r, raft_id id, bool failed)
{
	struct raft_message m = {
	    .type = RAFT_MSG_SNAP_STATUS, .from = id, .reject = failed};

	return raft_step(r, &m);
}

static struct raft_hard_state hard_state(struct raft *r)
{
	return (struct raft_hard_state){r->term, r->vote, r->log.committed};
}

bool raft_has_ready(struct raft *r)
{
	struct raft_hard_state hs = hard_state(r);

	if (r->err || r->in_ready) {
		return false;
	}
	if (r->lead != r->prev_ss.lead || r->state != r->prev_ss.state) {
		return true;
	}
	if (hs.term != r->prev_hs.term || hs.vote != r->prev_hs.vote ||
	    hs.commit != r->prev_hs.commit) {
		return true;
	}
	return r->log.has_snap || r->log.n_ents > 0 || r->n_msgs > 0 ||
	       r->n_read_states > 0 || raft_log_has_next_committed(&r->log) ||
	       (r->state == RAFT_LEADER && reads_unsent(r) &&
		committed_in_term(r));
}

int raft_ready(struct raft *r, struct raft_ready *rd)
{
	struct raft_ready c = {0};
	struct raft_hard_state hs;
	int e = entry_point(r);

	if (e < 0) {
		return e;
	}
	flush_reads(r);
	if (r->err) {
		return r->err;
	}
	e = raft_log_next_committed(&r->log, &c.committed_entries,
				    &c.n_committed_entries);
	if (e < 0) {
		return fail(r, e);
	}
	hs = hard_state(r);
	c.soft_state = (struct raft_soft_state){r->lead, r->state};
	c.has_soft_state = c.soft_state.lead != r->prev_ss.lead ||
			   c.soft_state.state != r->prev_ss.state;
	c.hard_state = hs;
	c.has_hard_state = hs.term != r->prev_hs.term ||
			   hs.vote != r->prev_hs.vote ||
			   hs.commit != r->prev_hs.commit;
	c.entries = r->log.ents;
	c.n_entries = r->log.n_ents;
	if (r->log.has_snap) {
		c.snapshot = r->log.snap;
	}
	c.messages = r->msgs;
	c.n_messages = r->n_msgs;
	r->msgs = NULL;
	r->n_msgs = r->cap_msgs = 0;
	c.read_states = r->read_states;
	c.n_read_states = r->n_read_states;
	r->read_states = NULL;
	r->n_read_states = r->cap_read_states = 0;
	c.must_sync = c.n_entries > 0 || hs.term != r->prev_hs.term ||
		      hs.vote != r->prev_hs.vote || r->log.has_snap;
	r->cur = c;
	r->in_ready = true;
	*rd = c;
	return 0;
}

static void maybe_auto_leave(struct raft *r);

int raft_advance(struct raft *r, struct raft_ready *rd)
{
	struct raft_ready *c = &r->cur;

	(void)rd;
	if (!r->in_ready) {
		return -ERR_INVALID;
	}
	r->in_ready = false;
	if (c->has_soft_state) {
		r->prev_ss = c->soft_state;
	}
	if (c->has_hard_state) {
		r->prev_hs = c->hard_state;
	}
	if (c->snapshot.meta.index > 0) {
		raft_index si = c->snapshot.meta.index;

		raft_log_stable_snap_to(&r->log, si);
		raft_log_applied_to(&r->log, si);
	}
	if (c->n_entries > 0) {
		const struct raft_entry *last = &c->entries[c->n_entries - 1];

		raft_log_stable_to(&r->log, last->index, last->term);
	}
	if (c->n_committed_entries > 0) {
		raft_log_applied_to(
		    &r->log,
		    c->committed_entries[c->n_committed_entries - 1].index);
	}
	free_messages(c->messages, c->n_messages);
	free_read_states(c->read_states, c->n_read_states);
	raft_entries_free(c->committed_entries, c->n_committed_entries);
	memset(c, 0, sizeof(*c));
	if (rd) {
		memset(rd, 0, sizeof(*rd));
	}
	if (r->state == RAFT_LEADER) {
		if (self_ack(r)) {
			bcast_append(r);
		}
		maybe_auto_leave(r);
	}
	if (r->log.err) {
		fail(r, r->log.err);
	}
	RAFT_LOG_CHECK(&r->log);
	return r->err;
}

/* ---- membership -------------------------------------------------------- */

static void maybe_auto_leave(struct raft *r)
{
	/*
	 * Thesis 4.3: once the joint configuration is applied, the leader
	 * moves on to the new one by itself when auto_leave is set.
	 */
	struct raft_conf_change leave = {.transition = RAFT_CC_AUTO};

	if (!raft_tracker_is_joint(&r->prs) || !r->prs.conf.auto_leave ||
	    r->log.applied < r->pending_conf_index ||
	    r->lead_transferee != RAFT_NONE) {
		return;
	}
	if (raft_propose_conf_change(r, &leave) == -ERR_PROPOSAL_DROPPED) {
		return;
	}
}

int raft_apply_conf_change(struct raft *r, const struct raft_conf_change *cc,
			   struct raft_conf_state *cs)
{
	struct raft_conf_state next;
	struct raft_progress *self;
	int e;

	if (r->err) {
		return r->err;
	}
	e = raft_confchange_next(&r->prs.conf, cc, &next);
	if (e < 0) {
		return e == -ENOMEM ? fail(r, e) : e;
	}
	e = apply_conf_state(r, &next);
	if (e < 0) {
		raft_conf_state_done(&next);
		return e;
	}
	self = raft_tracker_get(&r->prs, r->id);
	if (r->state == RAFT_LEADER) {
		if (!self || self->is_learner) {
			/*
			 * cetcd: a leader removed (or demoted) by a committed
			 * change steps down, so the remaining voters elect a
			 * leader among themselves at once instead of waiting
			 * for the application to stop this node.
			 */
			become_follower(r, r->term, RAFT_NONE);
		} else {
			if (r->lead_transferee != RAFT_NONE &&
			    !raft_tracker_is_voter(&r->prs,
						   r->lead_transferee)) {
				abort_leader_transfer(r);
			}
			/* The quorum changed: maybe more is committed now. */
			if (maybe_commit(r)) {
				bcast_append(r);
			} else {
				for (size_t i = 0; i < r->prs.n_prs; i++) {
					if (r->prs.prs[i].id != r->id) {
						maybe_send_append(
						    r, r->prs.prs[i].id, false);
					}
				}
			}
		}
	}
	if (cs) {
		*cs = next;
	} else {
		raft_conf_state_done(&next);
	}
	return r->err;
}

void raft_status(struct raft *r, struct raft_status *out)
{
	*out = (struct raft_status){
	    .id = r->id,
	    .hs = hard_state(r),
	    .ss = {r->lead, r->state},
	    .applied = r->log.applied,
	    .last_index = raft_log_last_index(&r->log),
	    .lead_transferee = r->lead_transferee,
	};
}

const struct raft_conf_state *raft_conf(struct raft *r)
{
	return &r->prs.conf;
}

const struct raft_progress *raft_progress_of(struct raft *r, raft_id id)
{
	if (r->state != RAFT_LEADER) {
		return NULL;
	}
	return raft_tracker_get(&r->prs, id);
}
