/*
 * harness.h - a small synchronous in-memory cluster for the raft unit tests
 * (etcd's "network" test helper in spirit): every node has an in-memory
 * storage; ready cycles persist, apply and queue messages; tnet_settle()
 * delivers queued messages until none are left.  Links can be cut per
 * direction, and a message filter can drop chosen messages.
 */
#ifndef CETCD_TESTS_RAFT_HARNESS_H
#define CETCD_TESTS_RAFT_HARNESS_H

#include "base/buf.h"
#include "raft/raft.h"
#include "raft/storage.h"

#define TNET_MAX 9

struct tnode {
	raft_id id;
	struct raft *r;
	struct raft_mem_storage *ms;
	/* Applied normal entries with data, in order (index, term, data). */
	struct raft_entry *applied;
	size_t n_applied, cap_applied;
	raft_index applied_index;
	struct raft_conf_state conf; /* after the last applied conf change */
	/* Read states seen, in order. */
	raft_index reads[64];
	uint8_t read_ctx[64];
	size_t n_reads;
	bool down;
};

/* Return false to drop m. */
typedef bool (*tnet_filter_fn)(void *arg, const struct raft_message *m);

struct tnet {
	size_t n;
	struct tnode nodes[TNET_MAX];
	bool cut[TNET_MAX + 1][TNET_MAX + 1]; /* cut[from][to] */
	struct raft_message *q;
	size_t nq, capq;
	tnet_filter_fn filter;
	void *filter_arg;
	struct raft_config base; /* template for new nodes */
	size_t delivered;
	struct buf *trace; /* when set, every delivered message, one a line */
};

/* Config template: election 10, heartbeat 1, inflight 256, no limit. */
void tnet_default_config(struct raft_config *cfg);
/*
 * n nodes 1..n; voters are 1..n_voters, the rest learners.  cfg may be NULL
 * for the default; its id and storage are replaced per node.
 */
struct tnet *tnet_new(size_t n, size_t n_voters, const struct raft_config *cfg);
void tnet_free(struct tnet *net);
struct tnode *tnet_node(struct tnet *net, raft_id id);
struct raft *tnet_raft(struct tnet *net, raft_id id);
/* Replace node id's raft by one with the given term/log ... built by the
 * caller on node's storage (the storage is kept). */
void tnet_restart(struct tnet *net, raft_id id);

/* Run ready cycles of node id: persist, apply, queue messages. */
void tnet_cycle(struct tnet *net, raft_id id);
/* Deliver until quiet (bounded); returns messages delivered. */
size_t tnet_settle(struct tnet *net);
/* Local helpers that settle afterwards. */
void tnet_campaign(struct tnet *net, raft_id id);
int tnet_propose(struct tnet *net, raft_id id, const char *data);
void tnet_tick(struct tnet *net, raft_id id, int n);
void tnet_isolate(struct tnet *net, raft_id id);
void tnet_heal(struct tnet *net);
void tnet_cut(struct tnet *net, raft_id a, raft_id b);

/* Run a node's ready cycle and take (not deliver) the messages it sent. */
size_t tnet_take(struct tnet *net, raft_id id, struct raft_message *out,
		 size_t max);
/* Drop every queued message. */
void tnet_drop_queue(struct tnet *net);

struct raft_status tnet_status(struct tnet *net, raft_id id);
raft_id tnet_leader(struct tnet *net);
/* Storage-level last index / term at index of node id. */
raft_index tnet_last_index(struct tnet *net, raft_id id);
raft_term tnet_term_at(struct tnet *net, raft_id id, raft_index i);

/* Entries helper: build entries with given terms starting at index 1. */
void tnet_set_log(struct tnet *net, raft_id id, const raft_term *terms,
		  size_t n, raft_term term);

#endif
