/*
 * raft/progress.c - per-member replication progress, the inflight window
 * and the configuration tracker (raft/progress.h).
 */
#include "raft/progress.h"

#include <errno.h>
#include <string.h>

#include "base/mem.h"

const char *raft_progress_state_name(enum raft_progress_state s)
{
	switch (s) {
	case RAFT_PROGRESS_PROBE:
		return "probe";
	case RAFT_PROGRESS_REPLICATE:
		return "replicate";
	case RAFT_PROGRESS_SNAPSHOT:
		return "snapshot";
	}
	return "?";
}

int raft_inflights_init(struct raft_inflights *in, size_t size)
{
	memset(in, 0, sizeof(*in));
	if (size == 0) {
		size = 1;
	}
	in->buf = mem_calloc(size, sizeof(*in->buf));
	if (!in->buf) {
		return -ENOMEM;
	}
	in->size = size;
	return 0;
}

void raft_inflights_done(struct raft_inflights *in)
{
	mem_free(in->buf);
	memset(in, 0, sizeof(*in));
}

bool raft_inflights_full(const struct raft_inflights *in)
{
	return in->count == in->size;
}

void raft_inflights_add(struct raft_inflights *in, raft_index index)
{
	if (raft_inflights_full(in)) {
		return;
	}
	in->buf[(in->start + in->count) % in->size] = index;
	in->count++;
}

void raft_inflights_free_le(struct raft_inflights *in, raft_index index)
{
	while (in->count > 0 && in->buf[in->start] <= index) {
		in->start = (in->start + 1) % in->size;
		in->count--;
	}
	if (in->count == 0) {
		in->start = 0;
	}
}

void raft_inflights_reset(struct raft_inflights *in)
{
	in->start = 0;
	in->count = 0;
}

static void reset_state(struct raft_progress *pr,
			enum raft_progress_state state)
{
	pr->state = state;
	pr->probe_sent = false;
	pr->pending_snapshot = 0;
	raft_inflights_reset(&pr->inflights);
}

void raft_progress_become_probe(struct raft_progress *pr)
{
	/*
	 * After a snapshot the follower has at least the snapshot's entries:
	 * probing resumes right after them.
	 */
	if (pr->state == RAFT_PROGRESS_SNAPSHOT) {
		raft_index pending = pr->pending_snapshot;

		reset_state(pr, RAFT_PROGRESS_PROBE);
		pr->next = (pr->match > pending ? pr->match : pending) + 1;
		return;
	}
	reset_state(pr, RAFT_PROGRESS_PROBE);
	pr->next = pr->match + 1;
}

void raft_progress_become_replicate(struct raft_progress *pr)
{
	reset_state(pr, RAFT_PROGRESS_REPLICATE);
	pr->next = pr->match + 1;
}

void raft_progress_become_snapshot(struct raft_progress *pr,
				   raft_index snap_index)
{
	reset_state(pr, RAFT_PROGRESS_SNAPSHOT);
	pr->pending_snapshot = snap_index;
}

bool raft_progress_maybe_update(struct raft_progress *pr, raft_index n)
{
	bool updated = false;

	if (pr->match < n) {
		pr->match = n;
		updated = true;
		pr->probe_sent = false;
	}
	if (pr->next < n + 1) {
		pr->next = n + 1;
	}
	return updated;
}

void raft_progress_optimistic_update(struct raft_progress *pr, raft_index n)
{
	pr->next = n + 1;
}

bool raft_progress_maybe_decr_to(struct raft_progress *pr, raft_index rejected,
				 raft_index match_hint)
{
	raft_index next;

	if (pr->state == RAFT_PROGRESS_REPLICATE) {
		/* A rejection at or below match is an old, reordered reply. */
		if (rejected <= pr->match) {
			return false;
		}
		pr->next = pr->match + 1;
		return true;
	}
	/* In PROBE only the reply to the append at next-1 counts. */
	if (pr->next == 0 || pr->next - 1 != rejected) {
		return false;
	}
	next = rejected < match_hint + 1 ? rejected : match_hint + 1;
	pr->next = next > pr->match + 1 ? next : pr->match + 1;
	if (pr->next < 1) {
		pr->next = 1;
	}
	pr->probe_sent = false;
	return true;
}

bool raft_progress_is_paused(const struct raft_progress *pr)
{
	switch (pr->state) {
	case RAFT_PROGRESS_PROBE:
		return pr->probe_sent;
	case RAFT_PROGRESS_REPLICATE:
		return raft_inflights_full(&pr->inflights);
	case RAFT_PROGRESS_SNAPSHOT:
		return true;
	}
	return true;
}

void raft_tracker_init(struct raft_tracker *t, size_t max_inflight)
{
	memset(t, 0, sizeof(*t));
	t->max_inflight = max_inflight ? max_inflight : 1;
}

void raft_tracker_done(struct raft_tracker *t)
{
	for (size_t i = 0; i < t->n_prs; i++) {
		raft_inflights_done(&t->prs[i].inflights);
	}
	mem_free(t->prs);
	raft_conf_state_done(&t->conf);
	t->prs = NULL;
	t->n_prs = 0;
}

static const struct raft_progress *find(const struct raft_tracker *t,
					raft_id id)
{
	size_t lo = 0, hi = t->n_prs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->prs[mid].id == id) {
			return &t->prs[mid];
		}
		if (t->prs[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return NULL;
}

struct raft_progress *raft_tracker_get(struct raft_tracker *t, raft_id id)
{
	/* t is not const here: the result may be modified. */
	return (struct raft_progress *)(uintptr_t)find(t, id);
}

static bool conf_is_voter(const struct raft_conf_state *cs, raft_id id)
{
	return raft_ids_contain(cs->voters, cs->n_voters, id) ||
	       raft_ids_contain(cs->voters_outgoing, cs->n_voters_outgoing, id);
}

/* Insert id into the sorted list ids (capacity assured by the caller). */
static void insert_sorted(raft_id *ids, size_t *n, raft_id id)
{
	size_t i = *n;

	for (size_t k = 0; k < *n; k++) {
		if (ids[k] == id) {
			return;
		}
	}
	while (i > 0 && ids[i - 1] > id) {
		ids[i] = ids[i - 1];
		i--;
	}
	ids[i] = id;
	(*n)++;
}

int raft_tracker_set_conf(struct raft_tracker *t,
			  const struct raft_conf_state *cs,
			  raft_index last_index)
{
	size_t cap = cs->n_voters + cs->n_voters_outgoing + cs->n_learners +
		     cs->n_learners_next;
	_cleanup_free_ raft_id *ids = mem_calloc(cap ? cap : 1, sizeof(*ids));
	struct raft_progress *prs;
	struct raft_conf_state copy;
	size_t n = 0;

	if (!ids) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < cs->n_voters; i++) {
		insert_sorted(ids, &n, cs->voters[i]);
	}
	for (size_t i = 0; i < cs->n_voters_outgoing; i++) {
		insert_sorted(ids, &n, cs->voters_outgoing[i]);
	}
	for (size_t i = 0; i < cs->n_learners; i++) {
		insert_sorted(ids, &n, cs->learners[i]);
	}
	for (size_t i = 0; i < cs->n_learners_next; i++) {
		insert_sorted(ids, &n, cs->learners_next[i]);
	}
	prs = mem_calloc(n ? n : 1, sizeof(*prs));
	if (!prs) {
		return -ENOMEM;
	}
	if (raft_conf_state_copy(&copy, cs) < 0) {
		mem_free(prs);
		return -ENOMEM;
	}
	/* First everything that can fail: buffers for the new members. */
	for (size_t i = 0; i < n; i++) {
		if (raft_tracker_get(t, ids[i])) {
			continue;
		}
		prs[i] = (struct raft_progress){
		    .id = ids[i],
		    .next = last_index > 0 ? last_index : 1,
		    .recent_active = true,
		    .vote = -1,
		};
		if (raft_inflights_init(&prs[i].inflights, t->max_inflight) <
		    0) {
			for (size_t k = 0; k < i; k++) {
				raft_inflights_done(&prs[k].inflights);
			}
			mem_free(prs);
			raft_conf_state_done(&copy);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n; i++) {
		struct raft_progress *old = raft_tracker_get(t, ids[i]);

		if (old) {
			prs[i] = *old;
			/* Moved: the old slot no longer owns the buffer. */
			old->inflights.buf = NULL;
		}
		prs[i].is_learner = !conf_is_voter(cs, ids[i]);
	}
	for (size_t i = 0; i < t->n_prs; i++) {
		raft_inflights_done(&t->prs[i].inflights);
	}
	mem_free(t->prs);
	raft_conf_state_done(&t->conf);
	t->prs = prs;
	t->n_prs = n;
	t->conf = copy;
	return 0;
}

bool raft_tracker_is_joint(const struct raft_tracker *t)
{
	return t->conf.n_voters_outgoing > 0;
}

bool raft_tracker_is_voter(const struct raft_tracker *t, raft_id id)
{
	return conf_is_voter(&t->conf, id);
}

static bool match_of(const void *arg, raft_id id, raft_index *out)
{
	const struct raft_progress *pr = find(arg, id);

	if (!pr) {
		return false;
	}
	*out = pr->match;
	return true;
}

raft_index raft_tracker_committed(const struct raft_tracker *t)
{
	return raft_joint_committed(t->conf.voters, t->conf.n_voters,
				    t->conf.voters_outgoing,
				    t->conf.n_voters_outgoing, match_of, t);
}

void raft_tracker_reset_votes(struct raft_tracker *t)
{
	for (size_t i = 0; i < t->n_prs; i++) {
		t->prs[i].vote = -1;
	}
}

void raft_tracker_record_vote(struct raft_tracker *t, raft_id id, bool granted)
{
	struct raft_progress *pr = raft_tracker_get(t, id);

	if (pr && pr->vote < 0) {
		pr->vote = granted ? 1 : 0;
	}
}

static int vote_of(const void *arg, raft_id id)
{
	const struct raft_progress *pr = find(arg, id);

	return pr ? pr->vote : -1;
}

enum raft_vote_result raft_tracker_tally(const struct raft_tracker *t,
					 size_t *granted, size_t *rejected)
{
	size_t g = 0, r = 0;

	for (size_t i = 0; i < t->n_prs; i++) {
		if (t->prs[i].is_learner) {
			continue;
		}
		if (t->prs[i].vote == 1) {
			g++;
		} else if (t->prs[i].vote == 0) {
			r++;
		}
	}
	if (granted) {
		*granted = g;
	}
	if (rejected) {
		*rejected = r;
	}
	return raft_joint_vote(t->conf.voters, t->conf.n_voters,
			       t->conf.voters_outgoing,
			       t->conf.n_voters_outgoing, vote_of, t);
}

static int active_of(const void *arg, raft_id id)
{
	const struct raft_progress *pr = find(arg, id);

	return pr && pr->recent_active ? 1 : 0;
}

bool raft_tracker_quorum_active(const struct raft_tracker *t)
{
	return raft_joint_vote(
		   t->conf.voters, t->conf.n_voters, t->conf.voters_outgoing,
		   t->conf.n_voters_outgoing, active_of, t) == RAFT_VOTE_WON;
}
