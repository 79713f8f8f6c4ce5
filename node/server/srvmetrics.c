/*
 * srvmetrics.c - the member's etcd metrics (srvmetrics.h).
 *
 * Peers are few (a cluster has a handful of members), so the peer table is
 * an array searched linearly.
 */
#include "server/srvmetrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "base/mem.h"
#include "raft/raft.h"

/* etcd compat: ExponentialBuckets(0.001, 2, 14) and (0.0001, 2, 16). */
#define DUR_BUCKETS 14
#define RTT_BUCKETS 16
/* A heartbeat unanswered this long was lost: time the next one instead. */
#define HB_LOST_NS (5ull * 1000 * 1000 * 1000)

struct srv_peer {
	uint64_t id;
	struct metrics_counter *sent;
	struct metrics_counter *received;
	struct metrics_histogram *rtt;
	uint64_t hb_sent_ns; /* 0: no heartbeat being timed */
};

struct srvmetrics {
	struct metrics *mx;
	struct metrics_histogram *fsync;
	struct metrics_histogram *commit;
	struct metrics_gauge *pending;
	struct metrics_counter *failed;
	struct srv_peer *peers;
	size_t n_peers;
};

struct srvmetrics *srvmetrics_new(struct metrics *mx, metrics_gauge_fn db_size,
				  metrics_gauge_fn db_in_use, void *arg)
{
	struct srvmetrics *s = mem_calloc(1, sizeof(*s));
	double dur[DUR_BUCKETS];
	bool ok;

	if (s == NULL) {
		return NULL;
	}
	s->mx = mx;
	metrics_exp_buckets(0.001, 2, DUR_BUCKETS, dur);
	s->pending = metrics_gauge(
	    mx, "etcd_server_proposals_pending",
	    "The current number of pending proposals to commit.", NULL);
	s->failed =
	    metrics_counter(mx, "etcd_server_proposals_failed_total",
			    "The total number of failed proposals seen.", NULL);
	s->fsync = metrics_histogram(
	    mx, "etcd_disk_wal_fsync_duration_seconds",
	    "The latency distributions of fsync called by WAL.", NULL, dur,
	    DUR_BUCKETS);
	s->commit = metrics_histogram(
	    mx, "etcd_disk_backend_commit_duration_seconds",
	    "The latency distributions of commit called by backend.", NULL, dur,
	    DUR_BUCKETS);
	ok = s->pending && s->failed && s->fsync && s->commit;
	ok = ok && metrics_gauge_func(mx, "etcd_mvcc_db_total_size_in_bytes",
				      "Total size of the underlying database "
				      "physically allocated in bytes.",
				      NULL, db_size, arg);
	ok = ok &&
	     metrics_gauge_func(mx, "etcd_mvcc_db_total_size_in_use_in_bytes",
				"Total size of the underlying database "
				"logically in use in bytes.",
				NULL, db_in_use, arg);
	if (!ok) {
		srvmetrics_free(s);
		return NULL;
	}
	return s;
}

void srvmetrics_free(struct srvmetrics *s)
{
	if (s == NULL) {
		return;
	}
	mem_free(s->peers);
	mem_free(s);
}

/* The peer's entry, created with its series on first use; NULL on ENOMEM. */
static struct srv_peer *peer(struct srvmetrics *s, uint64_t id)
{
	struct srv_peer *v, *p;
	double rtt[RTT_BUCKETS];
	char lab[48];

	for (size_t i = 0; i < s->n_peers; i++) {
		if (s->peers[i].id == id) {
			return &s->peers[i];
		}
	}
	v = mem_realloc(s->peers, (s->n_peers + 1) * sizeof(*v));
	if (v == NULL) {
		return NULL;
	}
	s->peers = v;
	p = &v[s->n_peers];
	p->id = id;
	p->hb_sent_ns = 0;
	metrics_exp_buckets(0.0001, 2, RTT_BUCKETS, rtt);
	/* etcd compat: types.ID prints hex without leading zeros. */
	snprintf(lab, sizeof(lab), "To=\"%" PRIx64 "\"", id);
	p->rtt = metrics_histogram(
	    s->mx, "etcd_network_peer_round_trip_time_seconds",
	    "Round-Trip-Time histogram between peers", lab, rtt, RTT_BUCKETS);
	p->sent =
	    metrics_counter(s->mx, "etcd_network_peer_sent_bytes_total",
			    "The total number of bytes sent to peers.", lab);
	snprintf(lab, sizeof(lab), "From=\"%" PRIx64 "\"", id);
	p->received = metrics_counter(
	    s->mx, "etcd_network_peer_received_bytes_total",
	    "The total number of bytes received from peers.", lab);
	if (p->rtt == NULL || p->sent == NULL || p->received == NULL) {
		/* Invariant 2: the registry keeps what it made; the entry is
		 * not kept, so a later call tries again. */
		return NULL;
	}
	s->n_peers++;
	return p;
}

void srvmetrics_peer(struct srvmetrics *s, uint64_t id)
{
	if (s != NULL) {
		(void)peer(s, id);
	}
}

void srvmetrics_wal_fsync(struct srvmetrics *s, uint64_t ns)
{
	if (s != NULL) {
		metrics_histogram_observe(s->fsync, (double)ns / 1e9);
	}
}

void srvmetrics_backend_commit(struct srvmetrics *s, uint64_t ns)
{
	if (s != NULL) {
		metrics_histogram_observe(s->commit, (double)ns / 1e9);
	}
}

void srvmetrics_pending(struct srvmetrics *s, int delta)
{
	if (s != NULL) {
		metrics_gauge_add(s->pending, delta);
	}
}

void srvmetrics_failed(struct srvmetrics *s)
{
	if (s != NULL) {
		metrics_counter_inc(s->failed);
	}
}

void srvmetrics_sent(struct srvmetrics *s, uint64_t to, int type, size_t len,
		     uint64_t now_ns)
{
	struct srv_peer *p;

	if (s == NULL || (p = peer(s, to)) == NULL) {
		return;
	}
	metrics_counter_add(p->sent, (double)len);
	if (type == RAFT_MSG_HEARTBEAT &&
	    (p->hb_sent_ns == 0 || now_ns - p->hb_sent_ns > HB_LOST_NS)) {
		p->hb_sent_ns = now_ns;
	}
}

void srvmetrics_received(struct srvmetrics *s, uint64_t from, int type,
			 size_t len, uint64_t now_ns)
{
	struct srv_peer *p;

	if (s == NULL || (p = peer(s, from)) == NULL) {
		return;
	}
	metrics_counter_add(p->received, (double)len);
	if (type == RAFT_MSG_HEARTBEAT_RESP && p->hb_sent_ns != 0) {
		if (now_ns >= p->hb_sent_ns) {
			metrics_histogram_observe(
			    p->rtt, (double)(now_ns - p->hb_sent_ns) / 1e9);
		}
		p->hb_sent_ns = 0;
	}
}
