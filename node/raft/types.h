/*
 * raft/types.h - the plain data types shared by node/raft and the layers
 * that persist or transport its state (node/wal, node/peer, node/server).
 *
 * These are in-memory C structs; their wire and disk encoding is
 * node/proto/raftpb.proto (field numbers as etcd's raftpb, a fact reused so
 * that the model is familiar; cetcd's peer traffic is its own).
 *
 * Ownership: a struct that holds pointers owns them unless a comment where
 * it is passed says "borrowed".
 */
#ifndef CETCD_RAFT_TYPES_H
#define CETCD_RAFT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t raft_id;    /* member id; 0 means none */
typedef uint64_t raft_term;  /* election term */
typedef uint64_t raft_index; /* log index; the first entry is 1 */

#define RAFT_NONE ((raft_id)0)

enum raft_entry_type {
	RAFT_ENTRY_NORMAL = 0,
	RAFT_ENTRY_CONF_CHANGE = 1,    /* a single change (ConfChange) */
	RAFT_ENTRY_CONF_CHANGE_V2 = 2, /* joint consensus (ConfChangeV2) */
};

struct raft_entry {
	raft_term term;
	raft_index index;
	enum raft_entry_type type;
	uint8_t *data;
	size_t len;
};

/* What must be durable before a vote or an append is acknowledged. */
struct raft_hard_state {
	raft_term term;
	raft_id vote;
	raft_index commit;
};

/*
 * The membership configuration.  Outside a joint configuration
 * voters_outgoing is empty; learners_next holds voters being demoted to
 * learners when the joint configuration is left (Raft thesis 4.3).
 */
struct raft_conf_state {
	raft_id *voters;
	size_t n_voters;
	raft_id *learners;
	size_t n_learners;
	raft_id *voters_outgoing;
	size_t n_voters_outgoing;
	raft_id *learners_next;
	size_t n_learners_next;
	bool auto_leave;
};

struct raft_snapshot_meta {
	raft_index index;
	raft_term term;
	struct raft_conf_state conf;
};

struct raft_snapshot {
	struct raft_snapshot_meta meta;
	uint8_t *data; /* the application's state; may be empty */
	size_t len;
};

/*
 * Helpers for the types above (node/raft/types.c).  "done" frees what the
 * struct owns and leaves it zeroed; "copy" makes a deep copy into *dst,
 * written only on success (0 or -ENOMEM).
 */

/* Bytes an entry counts for the size limits: data plus a fixed overhead. */
uint64_t raft_entry_size(const struct raft_entry *e);
int raft_entry_copy(struct raft_entry *dst, const struct raft_entry *src);
void raft_entry_done(struct raft_entry *e);
/* Free n entries and the array itself (ents may be NULL). */
void raft_entries_free(struct raft_entry *ents, size_t n);
/* Deep copy of n entries into a new array (*out NULL when n == 0). */
int raft_entries_copy(const struct raft_entry *ents, size_t n,
		      struct raft_entry **out);

int raft_conf_state_copy(struct raft_conf_state *dst,
			 const struct raft_conf_state *src);
void raft_conf_state_done(struct raft_conf_state *cs);
/* Same members in the same roles (order ignored), same auto_leave. */
bool raft_conf_state_equal(const struct raft_conf_state *a,
			   const struct raft_conf_state *b);

int raft_snapshot_copy(struct raft_snapshot *dst,
		       const struct raft_snapshot *src);
void raft_snapshot_done(struct raft_snapshot *s);

#endif
