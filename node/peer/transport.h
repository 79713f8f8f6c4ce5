/*
 * transport.h - Raft message streams between members over the peer port.
 *
 * Each member keeps one long-lived gRPC stream (/cetcd.Peer/Raft, over
 * HTTP/2) to every other member and writes its messages to it in order;
 * the receiving side delivers each message to on_message with the sender's
 * id.  Messages are opaque bytes here (encoded raftpb.Message); the server
 * layer encodes and decodes.
 *
 * Identity check (etcd compat: etcd refuses peers of another cluster): the
 * stream's request headers carry cetcd-cluster-id, cetcd-from and cetcd-to
 * (hex); a receiver whose cluster id or member id differs refuses the
 * stream with FAILED_PRECONDITION naming both ids, and the sender logs it.
 *
 * Failure model: Raft tolerates lost messages, so the transport never
 * blocks or buffers without bound.  A message to a peer that is down, or
 * whose queue is full, is dropped and the send returns an error the caller
 * reports to Raft (ReportUnreachable).  A lost stream is reconnected after a
 * backoff (50 ms doubling to 2 s, reset on success), cycling through the
 * peer's URLs.  on_unreachable is called from the loop when a stream drops.
 *
 * Invariants:
 *  1. Loop thread only.  No callback runs inside peer_transport_send.
 *  2. Messages to one peer are delivered in the order sent, or not at all.
 */
#ifndef CETCD_PEER_TRANSPORT_H
#define CETCD_PEER_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/types.h"

struct event_base;
struct evdns_base;
struct peer_transport;

#define PEER_RAFT_PATH "/cetcd.Peer/Raft"
#define PEER_SNAPSHOT_PATH "/cetcd.Peer/Snapshot"

struct peer_transport_config {
	raft_id local_id;
	uint64_t cluster_id;
	/* A message from peer `from` (borrowed for the call). */
	void (*on_message)(void *arg, raft_id from, const uint8_t *msg, size_t len);
	/* The stream to `to` dropped; messages may have been lost. May be NULL. */
	void (*on_unreachable)(void *arg, raft_id to);
	void *arg;
	/* Largest message accepted from a peer; 0 for 512 MiB. */
	size_t max_msg;
	/*
	 * Joining: with local_id and cluster_id both 0, the first inbound
	 * stream's cetcd-to and cetcd-cluster-id become this member's
	 * identity, reported here before that stream's first message is
	 * delivered (a member added with MemberAdd learns its ID and the
	 * cluster's from the leader that contacts it).  May be NULL.
	 */
	void (*on_identity)(void *arg, raft_id local_id, uint64_t cluster_id);
	/*
	 * etcd compat (rafthttp's errMemberRemoved): is_removed(arg, from)
	 * true refuses the peer's stream, at its next message, with
	 * PERMISSION_DENIED and PEER_REMOVED_MSG; a member whose stream is
	 * refused so is told by on_removed(arg, by) (from the loop).  Either
	 * may be NULL.
	 */
	bool (*is_removed)(void *arg, raft_id from);
	void (*on_removed)(void *arg, raft_id by);
	/*
	 * Snapshot transfer (below): a complete, verified and synced store
	 * file from peer `from` at db_path (in snap_dir), with its MsgSnap
	 * (msg, borrowed).  Return 0 to take the file (the callee renames or
	 * unlinks it), < 0 to refuse it (the transport unlinks it and the
	 * sender learns the transfer failed).  NULL: snapshots are refused.
	 */
	int (*on_snapshot)(void *arg, raft_id from, const uint8_t *msg,
			   size_t len, const char *db_path);
	/* Where received store files are written (borrowed). */
	const char *snap_dir;
};

#define PEER_REMOVED_MSG \
	"the member has been permanently removed from the cluster"

struct peer_stats {
	uint64_t sent_msgs, sent_bytes, dropped_msgs;
	uint64_t recv_msgs, recv_bytes;
	bool active; /* stream connected now */
};

struct peer_transport *peer_transport_new(struct event_base *base,
					  struct evdns_base *dns,
					  const struct peer_transport_config *cfg);
/* Closes every stream and connection; no callbacks after it returns. */
void peer_transport_free(struct peer_transport *t);

/*
 * Serve peers on an accepted socket (the peer listener sniffed nothing: the
 * peer port speaks only HTTP/2).  0 or -errno.
 */
int peer_transport_adopt(struct peer_transport *t, int fd);
/* Listen on host:port (numeric) and adopt every connection.  0 or -errno. */
int peer_transport_listen(struct peer_transport *t, const char *host, int port);

/*
 * Add (or replace the URLs of) a peer: urls like "http://10.0.0.2:2380"
 * (copied).  The stream is opened at once.  0, -EINVAL for a URL without a
 * host or port, -ENOMEM.
 */
int peer_transport_add(struct peer_transport *t, raft_id id,
		       const char *const *urls, size_t n_urls);
void peer_transport_remove(struct peer_transport *t, raft_id id);

/*
 * Send one message to peer `to` (copied).  0 when queued; -ENOENT for an
 * unknown peer; -ENOTCONN while the peer is down (backoff); -ENOBUFS when
 * its queue is full.  On error the message is dropped.
 */
int peer_transport_send(struct peer_transport *t, raft_id to, const uint8_t *msg,
			size_t len);
int peer_transport_stats(const struct peer_transport *t, raft_id id,
			 struct peer_stats *out);

/*
 * Snapshot transfer: a MsgSnap travels with the store it stands for, on a
 * connection and a call of its own (/cetcd.Peer/Snapshot, client
 * streaming), so a large store never holds up the Raft stream of this or
 * any other peer.  Wire format, one gRPC message each:
 *
 *   request headers  cetcd-cluster-id, cetcd-from, cetcd-to (as the Raft
 *                    stream's, checked alike) and cetcd-snapshot-size:
 *                    the store's size in bytes (decimal)
 *   message 1        the encoded raftpb.Message (MsgSnap; its snapshot
 *                    data is the membership)
 *   messages 2..n    the store file (an LMDB data.mdb), in order, in
 *                    chunks of at most PEER_SNAPSHOT_CHUNK bytes, exactly
 *                    cetcd-snapshot-size bytes in all
 *   last message     the 32-byte SHA-256 of the store bytes
 *   half-close       then the receiver answers: OK once the file is
 *                    verified, synced and taken by on_snapshot;
 *                    DATA_LOSS for a size or checksum mismatch;
 *                    UNAVAILABLE when the member cannot take it now;
 *                    FAILED_PRECONDITION for a cluster or member mismatch.
 *
 * The sender reads db_fd (taken: closed by the transport) with pread
 * from offset 0 and keeps at most half of a call's queue limit in flight
 * (back-pressure through the call's writable callback).  A transfer that
 * moves no byte for PEER_SNAPSHOT_IDLE_MS fails.  done(arg, to, err)
 * runs once from the loop: 0 when the receiver answered OK, else < 0;
 * never after peer_transport_free.  0, or -ENOENT (unknown peer), -ENOMEM
 * (db_fd closed, done will not run).
 */
#define PEER_SNAPSHOT_CHUNK (256u << 10)
#define PEER_SNAPSHOT_IDLE_MS 30000
int peer_transport_send_snapshot(struct peer_transport *t, raft_id to,
				 const uint8_t *msg, size_t len, int db_fd,
				 uint64_t db_size,
				 void (*done)(void *arg, raft_id to, int err),
				 void *arg);

/* Split "http://host:port[/]" into host (out, size) and port. 0 or -EINVAL. */
int peer_parse_url(const char *url, char *host, size_t size, int *port);

#endif
