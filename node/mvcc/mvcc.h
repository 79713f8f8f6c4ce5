/*
 * mvcc.h - etcd's multi-version key-value store, on LMDB.
 *
 * The store behind every KV request.  It knows nothing of Raft or sockets:
 * the server layer hands it operations to apply (in Raft log order) and
 * queries to answer, translating etcd's protobuf messages to and from the
 * plain structs below.
 *
 * Semantics are etcd's (reference/etcd-v3.md section 7):
 *  1. A new store is at revision 1.  Every write operation (a Put, a
 *     DeleteRange that removed a key, a Txn whose branch changed a key)
 *     increments the main revision once; its changes are numbered by sub
 *     revision 0, 1, ...  No-op writes do not change the revision.
 *  2. A key's versions count its puts since it was (re)created; a delete
 *     writes a tombstone and the next put starts again at version 1 with a
 *     new create_revision.
 *  3. History is kept until compaction: Compact(R) makes revisions below R
 *     unreadable at once (ERR_COMPACTED) and removes them in bounded batches
 *     (mvcc_compact_step), keeping the newest version of every live key.
 *
 * Durability and threading:
 *  4. One thread (the server's loop) owns the store.  Write operations go
 *     into one long-lived LMDB write transaction that mvcc_commit() commits;
 *     reads on the owning thread go through that transaction, so applied but
 *     uncommitted writes are visible.  mvcc_close() without mvcc_commit()
 *     drops them, exactly as a crash would.
 *  5. The applied Raft index and term are written in the same transaction
 *     as the data they produced (mvcc_apply_begin), so replaying the log
 *     after a crash skips entries already applied.
 *  6. A write operation refused for the request (ERR_KEY_NOT_FOUND,
 *     ERR_COMPACTED, ERR_NO_SPACE while the NOSPACE alarm is on, ...) has
 *     no effect and the store goes on.  A write that fails while changing
 *     the store (-ENOMEM; -EFBIG when LMDB's map is full; ERR_CORRUPT) and
 *     an error from LMDB's commit are sticky: the store refuses further work
 *     and its uncommitted operations are lost, as in a crash, for the
 *     server to replay from its log.  mvcc_open grows the map to fit the
 *     file, so that a store stopped by a full map can replay.
 *
 * Ownership: request structs are borrowed for the call.  Response structs
 * are filled by the call and released with their *_done function; every
 * mvcc_kv in a response owns its key and value (one allocation).
 */
#ifndef CETCD_MVCC_MVCC_H
#define CETCD_MVCC_MVCC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t mvcc_rev;

struct mvcc_store;

struct mvcc_options {
	/*
	 * Backend quota in bytes (etcd's --quota-backend-bytes): 0 means the
	 * default of 2 GiB, < 0 means no quota.
	 */
	int64_t quota_bytes;
	/* LMDB map size; 0 derives it from the quota (always above it). */
	int64_t map_size;
};

#define MVCC_DEFAULT_QUOTA (INT64_C(2) << 30)

/* A key-value pair as etcd's mvccpb.KeyValue. */
struct mvcc_kv {
	uint8_t *key; /* owns one allocation holding key then value */
	size_t key_len;
	uint8_t *value; /* points into key's allocation */
	size_t value_len;
	mvcc_rev create_revision;
	mvcc_rev mod_revision;
	int64_t version;
	int64_t lease;
};

void mvcc_kv_done(struct mvcc_kv *kv);

enum mvcc_sort_order {
	MVCC_SORT_NONE = 0,
	MVCC_SORT_ASCEND = 1,
	MVCC_SORT_DESCEND = 2,
};

enum mvcc_sort_target {
	MVCC_SORT_KEY = 0,
	MVCC_SORT_VERSION = 1,
	MVCC_SORT_CREATE = 2,
	MVCC_SORT_MOD = 3,
	MVCC_SORT_VALUE = 4,
};

/*
 * Key ranges, as etcd's: range_end_len == 0 is the single key; range_end
 * "\0" (one zero byte) is every key >= key; otherwise [key, range_end).
 */
struct mvcc_range_req {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *range_end;
	size_t range_end_len;
	int64_t limit;	   /* 0: unlimited */
	mvcc_rev revision; /* <= 0: the current revision */
	enum mvcc_sort_order sort_order;
	enum mvcc_sort_target sort_target;
	bool keys_only;
	bool count_only;
	mvcc_rev min_mod_revision; /* 0: no bound, same for the others */
	mvcc_rev max_mod_revision;
	mvcc_rev min_create_revision;
	mvcc_rev max_create_revision;
};

struct mvcc_range_resp {
	mvcc_rev header_revision; /* the current revision */
	struct mvcc_kv *kvs;
	size_t n_kvs;
	bool more;
	int64_t count; /* keys in the range, regardless of limit and filters */
};

void mvcc_range_resp_done(struct mvcc_range_resp *r);

struct mvcc_put_req {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
	int64_t lease; /* 0: none */
	bool prev_kv;
	bool ignore_value; /* key must exist, else ERR_KEY_NOT_FOUND */
	bool ignore_lease; /* key must exist, else ERR_KEY_NOT_FOUND */
};

struct mvcc_put_resp {
	mvcc_rev header_revision;
	bool has_prev_kv;
	struct mvcc_kv prev_kv;
};

void mvcc_put_resp_done(struct mvcc_put_resp *r);

struct mvcc_delete_req {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *range_end;
	size_t range_end_len;
	bool prev_kv;
};

struct mvcc_delete_resp {
	mvcc_rev header_revision;
	int64_t deleted;
	struct mvcc_kv *prev_kvs;
	size_t n_prev_kvs;
};

void mvcc_delete_resp_done(struct mvcc_delete_resp *r);

enum mvcc_compare_result {
	MVCC_CMP_EQUAL = 0,
	MVCC_CMP_GREATER = 1,
	MVCC_CMP_LESS = 2,
	MVCC_CMP_NOT_EQUAL = 3,
};

enum mvcc_compare_target {
	MVCC_TARGET_VERSION = 0,
	MVCC_TARGET_CREATE = 1,
	MVCC_TARGET_MOD = 2,
	MVCC_TARGET_VALUE = 3,
	MVCC_TARGET_LEASE = 4,
};

struct mvcc_compare {
	enum mvcc_compare_result result;
	enum mvcc_compare_target target;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *range_end;
	size_t range_end_len;
	int64_t number; /* version, create, mod or lease to compare with */
	const uint8_t *value;
	size_t value_len;
};

enum mvcc_op_type {
	MVCC_OP_NONE = 0, /* an empty RequestOp: ERR_KEY_NOT_FOUND */
	MVCC_OP_RANGE,
	MVCC_OP_PUT,
	MVCC_OP_DELETE,
	MVCC_OP_TXN,
};

struct mvcc_txn_req;

struct mvcc_op {
	enum mvcc_op_type type;
	union {
		struct mvcc_range_req range;
		struct mvcc_put_req put;
		struct mvcc_delete_req del;
		const struct mvcc_txn_req *txn;
	} u;
};

struct mvcc_txn_req {
	const struct mvcc_compare *compares;
	size_t n_compares;
	const struct mvcc_op *success;
	size_t n_success;
	const struct mvcc_op *failure;
	size_t n_failure;
};

struct mvcc_txn_resp;

struct mvcc_op_resp {
	enum mvcc_op_type type;
	union {
		struct mvcc_range_resp range;
		struct mvcc_put_resp put;
		struct mvcc_delete_resp del;
		struct mvcc_txn_resp *txn;
	} u;
};

struct mvcc_txn_resp {
	mvcc_rev header_revision;
	bool succeeded;
	struct mvcc_op_resp *responses;
	size_t n_responses;
};

void mvcc_txn_resp_done(struct mvcc_txn_resp *r);

/*
 * Open (creating if needed) the store in directory dir.  The LMDB file is
 * dir/data.mdb.  Nothing is loaded into memory beyond a few counters.
 */
int mvcc_open(const char *dir, const struct mvcc_options *opts,
	      struct mvcc_store **out);
/*
 * Open the single LMDB file at path (a snapshot from mvcc_copy_fd, as
 * `snapshot save` stores it, an SHA-256 trailer after it allowed) read-only:
 * no lock file, no write, the file is never modified.  Every write call
 * fails.  -ERR_CORRUPT when the file is not an LMDB file or is shorter
 * than the pages it names, -ERR_INVALID when it is LMDB but lacks the
 * store's tables, -errno from opening it.
 */
int mvcc_open_file(const char *path, struct mvcc_store **out);
/* Drops uncommitted writes (invariant 4).  Accepts NULL. */
void mvcc_close(struct mvcc_store *s);
/* Commit the open write transaction (if any) to disk. */
int mvcc_commit(struct mvcc_store *s);
/*
 * Write operations applied since the last commit (the server commits every
 * 100 ms or 10 000 operations, design.md).
 */
uint64_t mvcc_uncommitted(const struct mvcc_store *s);

/*
 * Raft bookkeeping (invariant 5).  mvcc_apply_begin returns 1 when index is
 * already applied (the caller skips the entry), 0 after recording index and
 * term as applied in the open write transaction (the caller then applies the
 * entry's operations), or an error.
 */
int mvcc_apply_begin(struct mvcc_store *s, uint64_t index, uint64_t term);
void mvcc_applied(const struct mvcc_store *s, uint64_t *index, uint64_t *term);

mvcc_rev mvcc_current_rev(const struct mvcc_store *s);
/* The compacted revision; -1 before the first compaction (as etcd). */
mvcc_rev mvcc_compact_rev(const struct mvcc_store *s);

int mvcc_range(struct mvcc_store *s, const struct mvcc_range_req *req,
	       struct mvcc_range_resp *resp);
int mvcc_put(struct mvcc_store *s, const struct mvcc_put_req *req,
	     struct mvcc_put_resp *resp);
int mvcc_delete_range(struct mvcc_store *s, const struct mvcc_delete_req *req,
		      struct mvcc_delete_resp *resp);
/*
 * Validates (ERR_DUPLICATE_KEY for two writes to one key, ERR_KEY_NOT_FOUND
 * for an empty op or ignore_* on a missing key, ERR_COMPACTED/ERR_FUTURE_REV
 * for ranges), evaluates every compare against the state before the txn,
 * then executes the chosen branches as one revision.
 */
int mvcc_txn(struct mvcc_store *s, const struct mvcc_txn_req *req,
	     struct mvcc_txn_resp *resp);

/*
 * Compact(rev): ERR_COMPACTED when rev <= the compacted revision,
 * ERR_FUTURE_REV when rev > current.  Reads below rev fail at once; the
 * physical removal runs in mvcc_compact_step calls.
 */
int mvcc_compact(struct mvcc_store *s, mvcc_rev rev);
/*
 * Do at most budget units of physical compaction work (one unit = one key
 * examined or one revision removed).  *done is true when nothing is left.
 * The position is persisted, so work resumes after a restart.
 */
int mvcc_compact_step(struct mvcc_store *s, unsigned budget, bool *done);

/* Quota (reference 7.10). */
int64_t mvcc_quota(const struct mvcc_store *s);
/* -ERR_NO_SPACE when db size + cost >= quota (the propose-time check). */
int mvcc_quota_check(struct mvcc_store *s, int64_t cost);
/*
 * While set (the cluster's NOSPACE alarm is active), Put and Txns with puts
 * fail with ERR_NO_SPACE at apply, as etcd's applierV3Capped.
 */
void mvcc_set_nospace(struct mvcc_store *s, bool on);

/* Physical file size and the bytes of it in use. */
int mvcc_db_size(struct mvcc_store *s, int64_t *size, int64_t *in_use);
/*
 * Rewrite the file compactly (LMDB's compacting copy, then rename over the
 * old file and reopen).  Commits the open write transaction first.
 */
int mvcc_defrag(struct mvcc_store *s);

/*
 * Write a consistent copy of the committed store (as committed when the
 * copy's read transaction begins, inside the call; what the owner has not
 * committed is not in it) to fd, a complete LMDB file
 * that mvcc_open() opens as data.mdb.  The one function that may run on
 * another thread while the owner keeps working (it reads through a
 * transaction of its own); the owner must not call mvcc_close() or
 * mvcc_defrag() until it returns.  0 or an error.
 */
int mvcc_copy_fd(struct mvcc_store *s, int fd);

/*
 * LMDB keeps the dirty pages of every committed write transaction on a
 * list for reuse until the environment closes, so the memory of the
 * largest transaction ever made stays (one DeleteRange of 100 000 keys:
 * some 26 MB).  When a transaction committed since the last call wrote at
 * least min_writes records (puts and deletes in its tables), close and
 * reopen the environment, which frees them.  Only between transactions
 * (nothing applied since mvcc_commit; else it waits for the next call)
 * and, like mvcc_defrag, never while mvcc_copy_fd runs.  1: reopened,
 * 0: not needed, or an error (a failure to reopen is sticky).
 */
int mvcc_release_pages(struct mvcc_store *s, uint64_t min_writes);

/*
 * Replace the store by the LMDB file at path (a copy made by
 * mvcc_copy_fd, e.g. received from the leader): drop the open write
 * transaction, rename path over dir/data.mdb, sync the directory, reopen.
 * The store's counters (revision, applied index, ...) are the file's
 * afterwards.  A failure to reopen is sticky.  0 or an error.
 */
int mvcc_replace(struct mvcc_store *s, const char *path);

/*
 * Maintenance.Hash: a CRC-32C over the store's tables as they are on disk
 * (history, key index, lease index, aux records; not the applied index), at
 * revision *rev.  Like etcd's backend hash it is for tests: members agree
 * once they applied the same operations and compacted alike.
 */
int mvcc_hash(struct mvcc_store *s, uint32_t *hash, mvcc_rev *rev);

/*
 * What `snapshot status` reports: *records, the entries of all the
 * store's tables (etcd compat: etcd counts every bucket's entries); *size,
 * the bytes of the pages in use up to the highest one (bbolt's tx.Size()).
 */
int mvcc_file_info(struct mvcc_store *s, uint64_t *records, int64_t *size);

/*
 * Forget the applied Raft index and term (write them as 0, in the open
 * write transaction; mvcc_commit makes it durable): for a store restored
 * into a new cluster whose log starts again at index 1.
 */
int mvcc_reset_applied(struct mvcc_store *s);

/*
 * HashKV: a CRC-32C over every revision up to rev (0: current) that is not
 * compacted, equal on members that applied the same operations whatever
 * their physical compaction progress.
 */
int mvcc_hash_kv(struct mvcc_store *s, mvcc_rev rev, uint32_t *hash,
		 mvcc_rev *hash_rev, mvcc_rev *compact_rev);

enum mvcc_event_type {
	MVCC_EVENT_PUT = 0,
	MVCC_EVENT_DELETE = 1,
};

/*
 * A watch event.  A DELETE's kv holds only key and mod_revision (etcd
 * compat).  prev_kv is the key's previous live version, when asked for.
 */
struct mvcc_event {
	enum mvcc_event_type type;
	struct mvcc_kv kv;
	bool has_prev_kv;
	struct mvcc_kv prev_kv;
};

struct mvcc_events {
	struct mvcc_event *evs;
	size_t n_evs;
	mvcc_rev next_rev; /* where the next call should start */
};

void mvcc_events_done(struct mvcc_events *e);

/*
 * The events of revisions from_rev .. current in revision order, stopping
 * after the revision during which max_events was reached (whole revisions
 * only; 0: no limit).  ERR_COMPACTED when from_rev < the compacted
 * revision.  Called after each applied batch with from_rev = the last
 * next_rev, it yields every applied revision exactly once.
 */
int mvcc_events_from(struct mvcc_store *s, mvcc_rev from_rev, size_t max_events,
		     bool with_prev_kv, struct mvcc_events *out);

/* Keys (copies) attached to a lease, in no particular order. */
struct mvcc_key {
	uint8_t *key;
	size_t key_len;
};

struct mvcc_keys {
	struct mvcc_key *keys;
	size_t n_keys;
};

void mvcc_keys_done(struct mvcc_keys *k);

/*
 * The live keys whose current version carries lease (kept in LMDB, no scan):
 * what a lease revoke deletes, in one Txn of DeleteRange ops.
 */
int mvcc_lease_keys(struct mvcc_store *s, int64_t lease, struct mvcc_keys *out);

/*
 * Puts naming a lease (lease != 0, ignore_lease false) ask fn(arg, lease)
 * first, alone or in a txn's chosen branch; a negative answer (the
 * server's -ERR_LEASE_NOT_FOUND) fails the whole operation with no
 * effect.  fn NULL: no check.  fn must not write to the store.
 */
void mvcc_set_lease_check(struct mvcc_store *s,
			  int (*fn)(void *arg, int64_t lease), void *arg);

/*
 * Aux records: the server's own small tables (leases, alarms, membership)
 * written in the same LMDB transactions as the data and the applied index.
 * Keys are 1..511 bytes (callers prefix them by table); values any size.
 * Writes obey invariants 4 and 6; they do not change the revision.
 */
int mvcc_aux_put(struct mvcc_store *s, const void *key, size_t key_len,
		 const void *val, size_t val_len);
/* 0, or -ENOENT when absent. */
int mvcc_aux_del(struct mvcc_store *s, const void *key, size_t key_len);
/*
 * Calls fn for every record whose key starts with prefix, in key order; fn's
 * pointers are valid during the call only; fn returns non-zero to stop (a
 * negative value is returned).
 */
typedef int (*mvcc_aux_fn)(void *arg, const void *key, size_t key_len,
			   const void *val, size_t val_len);
int mvcc_aux_scan(struct mvcc_store *s, const void *prefix, size_t prefix_len,
		  mvcc_aux_fn fn, void *arg);

#endif
