/*
 * member.h - the cetcd member: Raft (node/raft), the WAL (node/wal) and the
 * MVCC store (node/mvcc) driven by one loop (node/sys), talking to its peers
 * (node/peer).  This header is the contract between the member core and the
 * etcd services in node/api, which decode gRPC and JSON requests into the
 * etcdserverpb messages below, call member_request(), and encode the
 * response they get back.  One implementation serves both protocols.
 *
 * The path of a write (design.md): member_request() wraps the request with
 * an id into an internal Raft request and proposes it (a follower's Raft
 * forwards it to the leader); the Ready cycle makes entries durable, sends,
 * applies committed entries to MVCC; the waiter with that id is called with
 * the response.  Reads: a linearizable Range waits for a ReadIndex round
 * (batched) and for applied >= read index, then reads locally; a
 * serializable Range (RangeRequest.serializable) reads at once.
 *
 * Threading: loop thread only; every callback runs on the loop, never
 * inside member_request() itself (an answer ready at once is delivered from
 * the loop's next turn), so callers may hold state across the call.
 *
 * Errors are node/base/err.h codes, mapped to gRPC status, etcd's message
 * and HTTP status by node/api/errmap: -ERR_NO_LEADER, -ERR_TIMEOUT (request
 * timed out), -ERR_LEADER_CHANGED, -ERR_TOO_MANY_REQUESTS (backlog full),
 * -ERR_NO_SPACE, -ERR_COMPACTED, -ERR_FUTURE_REV, -ERR_REQUEST_TOO_LARGE,
 * -ERR_STOPPED, and the request validation codes (-ERR_EMPTY_KEY, ...).
 */
#ifndef CETCD_SERVER_MEMBER_H
#define CETCD_SERVER_MEMBER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stdint.h>

#include "server/config.h"

/* The store's aux records of removed member IDs: this prefix and the ID
 * in 16 hex digits (kept across restarts; dropped by snapshot restore). */
#define MEMBER_REMOVED_PREFIX "removed/"

struct sys_loop;
struct member;
struct member_req;

/* The requests member_request() accepts (the etcd v3 unary RPCs). */
enum member_op {
	MEMBER_OP_RANGE,	  /* Etcdserverpb__RangeRequest */
	MEMBER_OP_PUT,		  /* Etcdserverpb__PutRequest */
	MEMBER_OP_DELETE_RANGE,	  /* Etcdserverpb__DeleteRangeRequest */
	MEMBER_OP_TXN,		  /* Etcdserverpb__TxnRequest */
	MEMBER_OP_COMPACT,	  /* Etcdserverpb__CompactionRequest */
	MEMBER_OP_MEMBER_LIST,	  /* Etcdserverpb__MemberListRequest */
	MEMBER_OP_MEMBER_ADD,	  /* Etcdserverpb__MemberAddRequest */
	MEMBER_OP_MEMBER_REMOVE,  /* Etcdserverpb__MemberRemoveRequest */
	MEMBER_OP_MEMBER_UPDATE,  /* Etcdserverpb__MemberUpdateRequest */
	MEMBER_OP_MEMBER_PROMOTE, /* Etcdserverpb__MemberPromoteRequest */
	MEMBER_OP_STATUS,	  /* Etcdserverpb__StatusRequest */
	MEMBER_OP_ALARM,	  /* Etcdserverpb__AlarmRequest */
	MEMBER_OP_HASH_KV,	  /* Etcdserverpb__HashKVRequest */
	MEMBER_OP_DEFRAGMENT,	  /* Etcdserverpb__DefragmentRequest */
	MEMBER_OP_MOVE_LEADER,	  /* Etcdserverpb__MoveLeaderRequest */
	/* Leases (member.h, "Leases" below) */
	MEMBER_OP_LEASE_GRANT,	    /* Etcdserverpb__LeaseGrantRequest */
	MEMBER_OP_LEASE_REVOKE,	    /* Etcdserverpb__LeaseRevokeRequest */
	MEMBER_OP_LEASE_KEEPALIVE,  /* Etcdserverpb__LeaseKeepAliveRequest */
	MEMBER_OP_LEASE_TIMETOLIVE, /* Etcdserverpb__LeaseTimeToLiveRequest */
	MEMBER_OP_LEASE_LEASES,	    /* Etcdserverpb__LeaseLeasesRequest */
	MEMBER_OP_HASH,		    /* Etcdserverpb__HashRequest (local) */
	MEMBER_OP_COUNT_
};

/*
 * The answer to one request: err == 0 and resp the response message of the
 * op's type (ResponseHeader filled in; borrowed for the duration of the
 * call), or err < 0 and resp NULL.
 */
typedef void (*member_done_fn)(void *arg, int err,
			       const ProtobufCMessage *resp);

/*
 * Open or create the member described by cfg (borrowed for the member's
 * life): a new data dir bootstraps from the initial cluster; an existing
 * one restarts from its WAL, snapshot and store and ignores the initial
 * cluster flags.  Binds the peer listeners (listen-peer-urls); the client
 * port is node/api's (api_serve).  On failure *errmsg (owned by the
 * caller, mem_free) names the input and the fix: a data dir locked by
 * another process, one of another cluster or member (when the flags say
 * initial-cluster-state new), an etcd (bbolt) data dir, a damaged WAL, a
 * peer URL that cannot be bound.  A member started with
 * initial-cluster-state existing on an empty data dir (after MemberAdd)
 * joins: it waits for the cluster's first peer stream, takes its member
 * and cluster IDs from it, and receives the log from the leader.
 */
int member_new(struct sys_loop *loop, const struct config *cfg,
	       struct member **out, char **errmsg);
/*
 * Stop: a leader first hands leadership to its most up-to-date follower
 * (waiting at most two election timeouts), then pending requests fail with
 * -ERR_STOPPED, the store is committed and done(arg) runs, from the loop
 * (never inside member_stop).  New requests fail with -ERR_STOPPED.
 */
void member_stop(struct member *m, void (*done)(void *arg), void *arg);
/*
 * Free the member (not from one of its callbacks).  Requests still pending
 * are dropped without calling done: call member_stop first to have them
 * answered.  Uncommitted store writes are committed first.
 */
void member_free(struct member *m);

/*
 * Submit a request (req borrowed for the call; its type must match op).
 * done runs exactly once, later, unless the request is cancelled first.
 * *handle (may be NULL) lets a caller whose client went away cancel it;
 * it is valid until done runs.
 * Returns 0, or an error without calling done: -ERR_INVALID (unknown op,
 * NULL req or done, req of another type than op) or -ENOMEM.  Every etcd
 * error, the validation ones included (-ERR_EMPTY_KEY, -ERR_TOO_MANY_OPS,
 * -ERR_REQUEST_TOO_LARGE, ...), comes through done.
 *
 * Ops: RANGE (serializable: local at once; otherwise ReadIndex, batched),
 * PUT, DELETE_RANGE, TXN, COMPACT (through Raft, answered when applied),
 * MEMBER_LIST, STATUS, HASH_KV, DEFRAGMENT, ALARM (GET local; ACTIVATE and
 * DEACTIVATE through Raft), MOVE_LEADER (leader only, else
 * -ERR_NOT_LEADER; answered once the target leads), MEMBER_ADD,
 * MEMBER_REMOVE, MEMBER_UPDATE and MEMBER_PROMOTE (conf changes, answered
 * when applied; MemberAdd's ID is etcd's run-time one: peer URLs and the
 * Unix time).
 *
 * Leases (etcd's lessor; server/lessor.h holds the table):
 *  - LEASE_GRANT: through Raft; ID 0 gets an ID from the member's request
 *    id generator (positive); the TTL is raised to etcd's minimum
 *    (lessor_min_ttl of --election-timeout and --heartbeat-interval);
 *    -ERR_LEASE_EXISTS, -ERR_LEASE_TTL_TOO_LARGE, -ERR_NO_SPACE.
 *  - LEASE_REVOKE: through Raft; deletes every attached key in one
 *    revision; -ERR_LEASE_NOT_FOUND.
 *  - LEASE_KEEPALIVE and LEASE_TIMETOLIVE: answered by the leader; a
 *    follower forwards them to the leader over the peer streams (retrying
 *    every 500 ms, across leader changes, until the request timeout).  An
 *    unknown lease is not an error (etcd compat): KeepAlive answers TTL 0,
 *    TimeToLive TTL -1.  A renewal of an expired lease whose revoke is
 *    pending waits for the revoke (then TTL 0).
 *  - LEASE_LEASES: the local table, IDs ascending.
 *  - PUT and TXN puts naming an unknown lease: -ERR_LEASE_NOT_FOUND.
 *  - Expiry: the leader proposes a revoke for each expired lease (so every
 *    member deletes the same keys at the same revision); a new leader gives
 *    every lease its full TTL plus an election timeout once it applied its
 *    first entry (etcd's Promote).
 */
int member_request(struct member *m, enum member_op op,
		   const ProtobufCMessage *req, member_done_fn done, void *arg,
		   struct member_req **handle);
/* The client is gone: done will not run; the request may still apply. */
void member_request_cancel(struct member_req *h);

/*
 * For the Watch service.  member_store: the MVCC store, to read events
 * with mvcc_events_from() on the loop thread (never write to it; it reads
 * through the open write transaction, so it sees every applied revision).
 * member_on_revision: fn(arg, rev) runs from the loop after applied entries
 * moved the store to revision rev (not inside a request's done callback);
 * one listener, fn NULL removes it.
 */
struct mvcc_store;
struct mvcc_store *member_store(struct member *m);
void member_on_revision(struct member *m, void (*fn)(void *arg, int64_t rev),
			void *arg);

/*
 * fn(arg, leader) runs from the loop (outside the Ready cycle) each time
 * the leader this member knows changes, to none (0) too; the first known
 * leader is the moment a member of a new cluster can serve clients (the
 * daemon's sd_notify READY=1).  One listener, fn NULL removes it.
 */
void member_on_leader(struct member *m, void (*fn)(void *arg, uint64_t leader),
		      void *arg);

/*
 * fn(arg, err) runs once, from the loop, when the member stops on a sticky
 * storage error (invariant 5 of member.c; member_info() gives error and
 * error_msg): a WAL write or fsync, a segment cut, an LMDB commit that
 * failed, a full disk among them.  What was not durable was not
 * acknowledged; the daemon logs nothing more and exits non-zero (etcd
 * fatals on these).  One listener, fn NULL removes it.
 */
void member_on_error(struct member *m, void (*fn)(void *arg, int err),
		     void *arg);

/*
 * Feed etcd's member metrics into mx (the client port's registry, which
 * must stay alive until it is detached): registers and then updates
 * etcd_server_proposals_pending and _failed_total,
 * etcd_disk_wal_fsync_duration_seconds,
 * etcd_disk_backend_commit_duration_seconds,
 * etcd_mvcc_db_total_size_in_bytes and _in_use_in_bytes, and per peer
 * etcd_network_peer_round_trip_time_seconds (To=), _sent_bytes_total (To=)
 * and _received_bytes_total (From=) (node/server/srvmetrics.h).  mx NULL
 * detaches.  0 or -ENOMEM.
 */
struct metrics;
int member_attach_metrics(struct member *m, struct metrics *mx);

/*
 * Maintenance.Snapshot: commit the store, then copy it on a thread (a
 * consistent LMDB file, server/snapcopy.h); done(arg, err, fd, size) runs
 * later from the loop with an open, unnamed file that the callee owns
 * (read it with pread, then close it), or with err < 0 and fd -1.
 * *handle (may be NULL) cancels it (done will not run) until done runs.
 * 0, -ERR_STOPPED, -ENOMEM or -errno (done will not run then).
 */
struct member_snapshot;
typedef void (*member_snapshot_fn)(void *arg, int err, int fd, uint64_t size);
int member_snapshot(struct member *m, member_snapshot_fn done, void *arg,
		    struct member_snapshot **handle);
void member_snapshot_cancel(struct member_snapshot *h);

/* What /health and the status table need. */
struct member_info {
	uint64_t id;
	uint64_t cluster_id;
	uint64_t leader; /* 0: none known */
	uint64_t term;
	uint64_t commit_index;
	uint64_t applied_index;
	uint64_t snapshot_index;  /* the member's latest snapshot (0: none) */
	uint64_t log_first_index; /* the oldest Raft entry held in memory */
	int64_t revision;
	bool is_learner;
	bool nospace; /* NOSPACE alarm raised */
	int error;    /* the sticky storage error that stopped it, or 0 */
	/* what failed on which file, and for a full disk the free space and
	 * the fix (borrowed until member_free); NULL while error is 0 */
	const char *error_msg;
	/* etcd compat: this member's removal (MemberRemove) applied; the
	 * daemon stops (etcd: "the member has been permanently removed from
	 * the cluster", exit status 0). */
	bool removed;
};
void member_info(const struct member *m, struct member_info *out);

#endif
