/*
 * raft/types.c - copying, freeing and comparing the plain Raft types
 * (raft/types.h).
 *
 * Invariants:
 *  1. A copy is deep: it shares no pointer with its source.
 *  2. A failed copy frees what it allocated and leaves *dst untouched.
 */
#include "raft/types.h"

#include <errno.h>
#include <string.h>

#include "base/mem.h"

/* Roughly what index, term and type cost once encoded. */
#define RAFT_ENTRY_OVERHEAD 24

uint64_t raft_entry_size(const struct raft_entry *e)
{
	return (uint64_t)e->len + RAFT_ENTRY_OVERHEAD;
}

int raft_entry_copy(struct raft_entry *dst, const struct raft_entry *src)
{
	struct raft_entry e = *src;

	e.data = NULL;
	if (src->len > 0) {
		e.data = mem_dup(src->data, src->len);
		if (!e.data) {
			return -ENOMEM;
		}
	}
	*dst = e;
	return 0;
}

void raft_entry_done(struct raft_entry *e)
{
	mem_free(e->data);
	memset(e, 0, sizeof(*e));
}

void raft_entries_free(struct raft_entry *ents, size_t n)
{
	if (!ents) {
		return;
	}
	for (size_t i = 0; i < n; i++) {
		mem_free(ents[i].data);
	}
	mem_free(ents);
}

int raft_entries_copy(const struct raft_entry *ents, size_t n,
		      struct raft_entry **out)
{
	struct raft_entry *c;

	if (n == 0) {
		*out = NULL;
		return 0;
	}
	c = mem_calloc(n, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (raft_entry_copy(&c[i], &ents[i]) < 0) {
			raft_entries_free(c, i);
			return -ENOMEM;
		}
	}
	*out = c;
	return 0;
}

static int ids_copy(raft_id **dst, const raft_id *src, size_t n)
{
	*dst = NULL;
	if (n == 0) {
		return 0;
	}
	*dst = mem_dup(src, n * sizeof(*src));
	return *dst ? 0 : -ENOMEM;
}

int raft_conf_state_copy(struct raft_conf_state *dst,
			 const struct raft_conf_state *src)
{
	struct raft_conf_state c = *src;

	c.voters = c.learners = c.voters_outgoing = c.learners_next = NULL;
	if (ids_copy(&c.voters, src->voters, src->n_voters) < 0 ||
	    ids_copy(&c.learners, src->learners, src->n_learners) < 0 ||
	    ids_copy(&c.voters_outgoing, src->voters_outgoing,
		     src->n_voters_outgoing) < 0 ||
	    ids_copy(&c.learners_next, src->learners_next,
		     src->n_learners_next) < 0) {
		raft_conf_state_done(&c);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}

void raft_conf_state_done(struct raft_conf_state *cs)
{
	mem_free(cs->voters);
	mem_free(cs->learners);
	mem_free(cs->voters_outgoing);
	mem_free(cs->learners_next);
	memset(cs, 0, sizeof(*cs));
}

static bool ids_contain(const raft_id *ids, size_t n, raft_id id)
{
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == id) {
			return true;
		}
	}
	return false;
}

/* Same set; the lists hold no duplicates. */
static bool ids_equal(const raft_id *a, size_t na, const raft_id *b, size_t nb)
{
	if (na != nb) {
		return false;
	}
	for (size_t i = 0; i < na; i++) {
		if (!ids_contain(b, nb, a[i])) {
			return false;
		}
	}
	return true;
}

bool raft_conf_state_equal(const struct raft_conf_state *a,
			   const struct raft_conf_state *b)
{
	return a->auto_leave == b->auto_leave &&
	       ids_equal(a->voters, a->n_voters, b->voters, b->n_voters) &&
	       ids_equal(a->learners, a->n_learners, b->learners,
			 b->n_learners) &&
	       ids_equal(a->voters_outgoing, a->n_voters_outgoing,
			 b->voters_outgoing, b->n_voters_outgoing) &&
	       ids_equal(a->learners_next, a->n_learners_next, b->learners_next,
			 b->n_learners_next);
}

int raft_snapshot_copy(struct raft_snapshot *dst,
		       const struct raft_snapshot *src)
{
	struct raft_snapshot c = *src;

	c.data = NULL;
	if (src->len > 0) {
		c.data = mem_dup(src->data, src->len);
		if (!c.data) {
			return -ENOMEM;
		}
	}
	if (raft_conf_state_copy(&c.meta.conf, &src->meta.conf) < 0) {
		mem_free(c.data);
		return -ENOMEM;
	}
	*dst = c;
	return 0;
}

void raft_snapshot_done(struct raft_snapshot *s)
{
	mem_free(s->data);
	raft_conf_state_done(&s->meta.conf);
	memset(s, 0, sizeof(*s));
}
