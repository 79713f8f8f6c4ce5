/*
 * srvmetrics.h - the member's share of etcd's Prometheus metrics: WAL
 * fsync and backend commit latencies, proposals pending and failed, the
 * database size, and per-peer traffic and round trip time.  The member core
 * (member.c) reports events here; the series live in the client port's
 * registry (node/base/metrics.h), handed over by member_attach_metrics().
 *
 * Names, help texts, labels and buckets are etcd 3.4's (wal/metrics.go,
 * mvcc/backend/metrics.go, etcdserver/metrics.go,
 * etcdserver/api/rafthttp/metrics.go).
 *
 * Invariants:
 *  1. Every function accepts a NULL srvmetrics and then does nothing, so
 *     the member runs the same with or without a registry attached.
 *  2. A peer's series (To= / From= its ID in hex, as etcd's types.ID
 *     prints it: no leading zeros) are created the first time the peer is
 *     named, so members added later get theirs too; creation failing
 *     (-ENOMEM) only loses that peer's figures.
 *  3. The round trip time is the leader's: from a MsgHeartbeat sent to a
 *     peer to that peer's next MsgHeartbeatResp; at most one heartbeat per
 *     peer is timed at once; one unanswered for 5 s counts as lost.
 */
#ifndef CETCD_SERVER_SRVMETRICS_H
#define CETCD_SERVER_SRVMETRICS_H

#include <stddef.h>
#include <stdint.h>

#include "base/metrics.h"

struct srvmetrics;

/*
 * Register the series in mx (borrowed; it must outlive the srvmetrics).
 * db_size and db_in_use are read at render time with arg.  NULL on
 * -ENOMEM or a registry that refuses the names (a type clash).
 */
struct srvmetrics *srvmetrics_new(struct metrics *mx, metrics_gauge_fn db_size,
				  metrics_gauge_fn db_in_use, void *arg);
void srvmetrics_free(struct srvmetrics *s);

/* Create a peer's series now (so that they exist before traffic). */
void srvmetrics_peer(struct srvmetrics *s, uint64_t id);

void srvmetrics_wal_fsync(struct srvmetrics *s, uint64_t ns);
void srvmetrics_backend_commit(struct srvmetrics *s, uint64_t ns);
/* A proposal started waiting for its entry (+1) or stopped (-1). */
void srvmetrics_pending(struct srvmetrics *s, int delta);
/* A proposal failed before it applied (refused, timed out, stopped). */
void srvmetrics_failed(struct srvmetrics *s);

/* A raft message of type (enum raft_msg_type) and len bytes went to / came
 * from a peer, at monotonic time now_ns. */
void srvmetrics_sent(struct srvmetrics *s, uint64_t to, int type, size_t len,
		     uint64_t now_ns);
void srvmetrics_received(struct srvmetrics *s, uint64_t from, int type,
			 size_t len, uint64_t now_ns);

#endif
