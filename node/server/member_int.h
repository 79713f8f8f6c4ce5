/*
 * member_int.h - private to node/server/member*.c: the member's state and
 * the functions its files share.  Not for other modules: member.h is the
 * member's contract.
 *
 * Invariants:
 *  1. struct member is owned and touched by the loop thread only; each
 *     file keeps the invariants member.c's header states for the fields.
 *  2. A function declared here keeps the contract of its definition's
 *     comment; its prefix names the file that defines it (member_ for
 *     member.c, member_conf_, member_lease_, member_snap_, member_open_).
 */
#ifndef CETCD_SERVER_MEMBER_INT_H
#define CETCD_SERVER_MEMBER_INT_H

#include "server/member.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/err.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/version.h"
#include "internal.pb-c.h"
#include "mvcc/mvcc.h"
#include "peer/transport.h"
#include "proto/proto.h"
#include "raft/progress.h"
#include "raft/raft.h"
#include "server/apply.h"
#include "server/diskspace.h"
#include "server/ids.h"
#include "server/lessor.h"
#include "server/raftmsg.h"
#include "server/srvmetrics.h"
#include "server/snapcopy.h"
#include "sys/loop.h"
#include "wal/walstore.h"

/* etcd compat: ReqTimeout() = 5 s + 2 * election timeout (7 s default). */
#define REQUEST_TIMEOUT_BASE_MS 5000
#define COMMIT_INTERVAL_MS 100
#define COMMIT_MAX_OPS 10000
/* Requests pending at once before "too many requests". */
#define MAX_PENDING 20000
#define WAITER_BUCKETS 1024
#define COMPACT_BUDGET 1000
#define READ_RETRY_MS 500
/* etcd compat: entries kept in memory behind a snapshot for slow
 * followers, and snapshot files kept. */
#define SNAPSHOT_CATCHUP_ENTRIES 5000
/*
 * etcd bounds the Raft log it holds in memory by entries only
 * (--snapshot-count since the last snapshot, the catch-up entries behind
 * it), so large entries make it hundreds of MB.  Members here also take a
 * snapshot after half of SNAPSHOT_LOG_BYTES of applied entries
 * (raft_entry_size) and keep at most the other half as the catch-up
 * window: the applied log in memory stays under SNAPSHOT_LOG_BYTES, and a
 * follower that falls further behind gets the store
 * (tests/bench/README.md).
 */
#define SNAPSHOT_LOG_BYTES (16ULL * 1024 * 1024)
#define SNAPSHOTS_KEPT 5
/*
 * Records written by one store transaction above which the member has the
 * store free LMDB's cache of dirty pages after the commit (mvcc.h's
 * mvcc_release_pages).  The 100 ms and COMMIT_MAX_OPS commits keep
 * ordinary transactions to a few thousand; one DeleteRange of many keys
 * is not split (100 000 keys: some 300 000 records, 26 MB of pages).
 */
#define RELEASE_PAGES_WRITES 50000
/* etcd compat: auto-compaction checks (reference etcd-v3.md 7.4). */
#define AUTO_COMPACT_REVISION_CHECK_MS (5 * 60 * 1000)
#define AUTO_COMPACT_MAX_SAMPLE_MS (60 * 60 * 1000)
#define AUTO_COMPACT_SAMPLES 11

enum req_state {
	REQ_INCOMING, /* queued for the next kick */
	REQ_PROPOSED, /* in a waiter bucket until its entry applies */
	REQ_READ,     /* linearizable read: read state, then applied index */
	REQ_MOVE,     /* MoveLeader: until the target leads */
	REQ_LEASE,    /* KeepAlive, TimeToLive: leader answers or forwarded */
	REQ_PROMOTE,  /* MemberPromote on a follower: the leader is asked */
};

struct member_req {
	struct list_node all; /* m->all (invariant 2) */
	struct list_node q;   /* incoming, waiter bucket or reads */
	struct member *m;
	enum member_op op;
	enum req_state state;
	uint64_t id;	   /* proposal id, or read round */
	bool has_index;	   /* read: its read state arrived */
	uint64_t asked_ms; /* read: when its round was (last) asked for */
	raft_index read_index;
	uint64_t deadline_ms;
	int err;	   /* fail with this at the next kick (validation) */
	bool proposal;	   /* data is an InternalRequest to propose */
	bool serializable; /* a Range that reads locally at once */
	member_done_fn done;
	void *arg;
	uint8_t *data; /* packed InternalRequest, or the packed request */
	size_t len;
};

struct member_rec {
	uint64_t id;
	char *name;
	char **peer_urls;
	size_t n_peer_urls;
	char **client_urls;
	size_t n_client_urls;
	bool is_learner;
};

struct member {
	struct sys_loop *loop;
	const struct config *cfg;
	raft_id id;
	uint64_t cluster_id;
	struct walstore *ws;
	struct mvcc_store *store;
	struct raft *raft;
	struct peer_transport *tr;
	struct sys_timer *tick_timer;
	struct sys_timer *house_timer; /* commits, timeouts, compaction */
	struct sys_timer *auto_compact_timer;
	/* periodic auto-compaction: (time, revision) samples, oldest first */
	struct {
		uint64_t at_ms;
		mvcc_rev rev;
	} samples[AUTO_COMPACT_SAMPLES];
	size_t n_samples;
	struct event *kick_ev;
	bool in_ready;
	int error;	  /* sticky (invariant 5) */
	char *error_msg;  /* what failed where, and the fix (member_info) */
	char *store_path; /* the LMDB file, for error messages */
	bool notified_error;
	void (*on_error)(void *arg, int err);
	void *on_error_arg;
	bool stopped;
	bool published;
	bool compacting;
	bool joining;	    /* waiting for the cluster to tell us who we are */
	bool nospace;	    /* the NOSPACE alarm is active */
	bool raise_nospace; /* propose the alarm at the next kick */
	/* member_stop: leadership handed over first, then done(arg) */
	bool stopping;
	void (*stop_done)(void *arg);
	void *stop_arg;
	uint64_t stop_deadline_ms;

	raft_id leader;
	enum raft_state state;
	struct raft_hard_state hs; /* as last saved */
	raft_index applied;
	raft_index snap_index;	/* the latest snapshot's */
	uint64_t applied_bytes; /* raft_entry_size applied since snap_index */
	uint64_t ops_uncommitted;
	uint64_t request_timeout_ms;

	struct list_node all;
	struct list_node incoming;
	struct list_node reads;
	struct list_node moves;
	struct list_node waiters[WAITER_BUCKETS];
	size_t n_pending;
	uint64_t id_prefix, id_suffix;

	struct member_rec *members;
	size_t n_members;

	raft_id *unreachable;
	size_t n_unreachable;

	void (*on_revision)(void *arg, int64_t rev);
	void *on_revision_arg;
	mvcc_rev notified_rev;

	struct srvmetrics *smx; /* NULL: no registry attached */
	void (*on_leader)(void *arg, uint64_t leader);
	void *on_leader_arg;
	raft_id notified_leader;
	bool removed; /* this member's removal applied, or a peer said so */
	raft_id *removed_ids; /* members removed from the cluster */
	size_t n_removed_ids;
	/* snapshots: store copies, transfers (the snapshot section below) */
	struct list_node copies;     /* struct snapcopy (snapcopy.h) */
	struct list_node snap_sends; /* struct snap_send, one per follower */
	char *pending_db;	     /* a received store for the next Ready */
	raft_index pending_db_index;
	/* leases (member.h "Leases") */
	struct lessor *lessor;
	struct list_node lease_reqs; /* REQ_LEASE requests */
	struct list_node promotes;   /* REQ_PROMOTE requests */
};

/*
 * Forwarded lease requests travel on the Raft peer streams, told apart by
 * their first byte: 0xff is never the first byte of a raftpb.Message (it
 * would be a field tag of wire type 7, which does not exist).  Layout:
 * 0xff, a kind, the asking member's request id (8 bytes big-endian), then
 * the packed request or response.
 */
#define LEASE_PEER_MAGIC 0xff
#define LEASE_PEER_HDR 10
/* Send such a frame to peer to: msg packed, or (msg NULL) the raw bytes. */
int member_side_send(struct member *m, raft_id to, uint8_t kind, uint64_t id,
		     const ProtobufCMessage *msg, const uint8_t *raw,
		     size_t raw_len);
/*
 * The kinds: 1 and 2 are member_lease.c's, 3 (MemberPromote, asked of the
 * leader) member_conf.c's; a reply is its request's kind | 0x80.
 */
#define PEER_KIND_PROMOTE 3
#define PEER_KIND_REPLY 0x80

static inline void encode_u64(uint8_t out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

static inline uint64_t decode_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

/* member.c: the loop, requests, the Ready cycle and apply */
extern const ProtobufCMessageDescriptor
    *const member_op_types[MEMBER_OP_COUNT_];
uint64_t member_next_id(struct member *m);
void member_kick(struct member *m);
void member_req_free(struct member_req *rq);
void member_req_complete(struct member_req *rq, int err,
			 ProtobufCMessage *resp);
struct list_node *member_bucket(struct member *m, uint64_t id);
struct member_req *member_waiter_take(struct member *m, uint64_t id);
int member_pack_msg(const ProtobufCMessage *msg, uint8_t **data, size_t *len);
void member_set_str(char **dst, const char *s);
void member_take_incoming(struct member *m);
void member_fail_at(struct member *m, int err, const char *what,
		    const char *file);
void member_fail(struct member *m, int err, const char *what);
const char *member_store_file(struct member *m);
const char *member_snapshot_file(struct member *m);
int member_check_raft(struct member *m, int r, const char *what);
void member_note_unreachable(struct member *m, raft_id to);
void member_send_messages(struct member *m, const struct raft_ready *rd);
int member_restore_alarms(struct member *m);
void member_kick_cb(evutil_socket_t fd, short what, void *arg);
void member_tick_cb(struct sys_timer *t, void *arg);
void member_house_cb(struct sys_timer *t, void *arg);
int member_start_auto_compaction(struct member *m);
/* *errmsg (mem_free) = the formatted text; left NULL on -ENOMEM. */
int member_errmsgf(char **errmsg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* member_conf.c: membership: member records, conf changes, removed members */
void member_conf_serve_list(struct member *m, struct member_req *rq);
void member_conf_propose_change(struct member *m, struct member_req *rq);
void member_conf_propose_add(struct member *m, struct member_req *rq);
void member_conf_rec_done(struct member_rec *r);
struct member_rec *member_conf_find_rec(struct member *m, uint64_t id);
int member_conf_dup_strv(char ***dst, size_t *n_dst, char *const *src,
			 size_t n);
int member_conf_restore_removed(struct member *m);
bool member_conf_peer_is_removed(void *arg, raft_id from);
void member_conf_on_removed_by_peer(void *arg, raft_id by);
int member_conf_apply_entry(struct member *m, const struct raft_entry *e);
int member_conf_pack(struct member *m, uint8_t **data, size_t *len);
int member_conf_load(struct member *m, const uint8_t *data, size_t len,
		     bool reset);
void member_conf_on_peer(struct member *m, raft_id from, const uint8_t *data,
			 size_t len);
void member_conf_tick(struct member *m, uint64_t now);

/* member_lease.c: leases: forwarding, answers, expiry */
void member_lease_start(struct member *m, struct member_req *rq);
void member_lease_serve_leases(struct member *m, struct member_req *rq);
void member_lease_on_peer(struct member *m, raft_id from, const uint8_t *data,
			  size_t len);
int member_lease_apply(struct member *m, const Cetcdpb__InternalRequest *ir,
		       ProtobufCMessage **resp);
void member_lease_on_empty_entry(struct member *m, const struct raft_entry *e);
void member_lease_on_soft_state(struct member *m,
				const struct raft_soft_state *ss);
void member_lease_tick(struct member *m, uint64_t now);

/* member_snap.c: snapshots: taking, sending, receiving, installing */
void member_snap_maybe_take(struct member *m);
/* malloc_trim, after a large part of the heap was freed */
void member_return_freed_memory(void);
void member_snap_send_start(struct member *m, const struct raft_message *msg);
void member_snap_drop_pending(struct member *m);
void member_snap_free_all(struct member *m);
int member_snap_on_peer_snapshot(void *arg, raft_id from, const uint8_t *data,
				 size_t len, const char *db_path);
int member_snap_install(struct member *m, const struct raft_snapshot *snap);
void member_snap_remove_stale(const char *dir);

#endif
