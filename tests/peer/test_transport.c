/*
 * Peer transport: three members on one loop over loopback exchange Raft
 * messages in order; a member that restarts is reconnected; a member of
 * another cluster is refused; sends to unknown or down peers fail fast; a
 * removed member's stream is refused and the member is told.
 */
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "peer/transport.h"
#include "testlib.h"

#define N 3
#define CLUSTER 0xc1u

static struct event_base *base;
static char addrs[N][32];
static int ports[N];
static char urls[N][128];
static struct peer_transport *tr[N];
static uint64_t ids[N] = {0x8dc9f79502ff52feull, 0x8fdf9dd965ff87d5ull,
			  0xfc380e2e4f60630eull};

struct inbox {
	int count[N];   /* messages received from each member */
	bool in_order;
	int unreachable;
	/* snapshot transfer */
	int snaps;	    /* on_snapshot calls */
	int snap_refuse;    /* answer on_snapshot with this */
	char snap_msg[64];  /* the last MsgSnap bytes (test data) */
	char snap_path[512];
	int snap_done;	    /* sender: done calls */
	int snap_err;	    /* sender: the last done's err */
};
static struct inbox box[N];

static int index_of(raft_id id)
{
	for (int i = 0; i < N; i++) {
		if (ids[i] == id) {
			return i;
		}
	}
	return -1;
}

static void on_msg(void *arg, raft_id from, const uint8_t *m, size_t n)
{
	struct inbox *b = arg;
	int f = index_of(from);
	char want[32];

	ck_assert_int_ge(f, 0);
	snprintf(want, sizeof(want), "%d", b->count[f]);
	if (n != strlen(want) || memcmp(m, want, n) != 0) {
		b->in_order = false;
	}
	b->count[f]++;
}

static void on_unreach(void *arg, raft_id to)
{
	struct inbox *b = arg;

	(void)to;
	b->unreachable++;
}

/* The member every transport treats as removed (0: none). */
static raft_id removed_id;
/* told[i]: who told member i it was removed (0: nobody yet). */
static raft_id told[N];

static bool is_removed(void *arg, raft_id from)
{
	(void)arg;
	return removed_id != 0 && from == removed_id;
}

static void on_removed(void *arg, raft_id by)
{
	told[(struct inbox *)arg - box] = by;
}

static int on_snap(void *arg, raft_id from, const uint8_t *m, size_t n,
		   const char *path)
{
	struct inbox *b = arg;

	ck_assert_int_ge(index_of(from), 0);
	b->snaps++;
	if (b->snap_refuse < 0) {
		return b->snap_refuse;
	}
	ck_assert_uint_lt(n, sizeof(b->snap_msg));
	memcpy(b->snap_msg, m, n);
	b->snap_msg[n] = '\0';
	snprintf(b->snap_path, sizeof(b->snap_path), "%s", path);
	return 0;
}

static char snap_dirs[N][512];

static void start_member(int i, uint64_t cluster)
{
	struct peer_transport_config cfg = {
	    .local_id = ids[i],
	    .cluster_id = cluster,
	    .on_message = on_msg,
	    .on_unreachable = on_unreach,
	    .arg = &box[i],
	    .is_removed = is_removed,
	    .on_removed = on_removed,
	    .on_snapshot = on_snap,
	    .snap_dir = snap_dirs[i],
	};

	tr[i] = peer_transport_new(base, NULL, &cfg);
	ck_assert_ptr_nonnull(tr[i]);
	ck_assert_int_eq(peer_transport_listen(tr[i], addrs[i], ports[i]), 0);
	for (int j = 0; j < N; j++) {
		const char *u[] = {urls[j]};
		if (j != i) {
			ck_assert_int_eq(peer_transport_add(tr[i], ids[j], u, 1), 0);
		}
	}
}

static void spin(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* Spin until member `to` got `want` messages from `from` (10 s at most). */
static void wait_count(int to, int from, int want)
{
	for (int i = 0; i < 1000 && box[to].count[from] < want; i++) {
		spin(10);
	}
	ck_assert_int_eq(box[to].count[from], want);
}

static bool all_active(int i)
{
	for (int j = 0; j < N; j++) {
		struct peer_stats st;
		if (j != i && (peer_transport_stats(tr[i], ids[j], &st) < 0 || !st.active)) {
			return false;
		}
	}
	return true;
}

static void wait_active(int i)
{
	for (int k = 0; k < 1000 && !all_active(i); k++) {
		spin(10);
	}
	ck_assert(all_active(i));
}

static int send_n(int from, int to, int start, int n)
{
	int sent = 0;

	for (int k = start; k < start + n; k++) {
		char m[32];
		snprintf(m, sizeof(m), "%d", k);
		if (peer_transport_send(tr[from], ids[to], (uint8_t *)m, strlen(m)) == 0) {
			sent++;
		}
	}
	return sent;
}

static void setup(void)
{
	if (getenv("CETCD_TEST_DEBUG")) {
		log_set_level(LOG_LVL_DEBUG);
	}
	signal(SIGPIPE, SIG_IGN); /* as the daemon (node/main.c) */
	base = event_base_new();
	memset(box, 0, sizeof(box));
	memset(told, 0, sizeof(told));
	removed_id = 0;
	for (int i = 0; i < N; i++) {
		box[i].in_order = true;
		ck_assert_int_eq(testlib_loopback_addr(addrs[i], sizeof(addrs[i])), 0);
		ports[i] = testlib_free_port(addrs[i]);
		snprintf(urls[i], sizeof(urls[i]), "http://%s:%d", addrs[i], ports[i]);
	}
	for (int i = 0; i < N; i++) {
		snprintf(snap_dirs[i], sizeof(snap_dirs[i]), "%s/snap%d",
			 testlib_tmpdir(), i);
		(void)mkdir(snap_dirs[i], 0700);
		start_member(i, CLUSTER);
	}
}

static void teardown(void)
{
	for (int i = 0; i < N; i++) {
		peer_transport_free(tr[i]);
		tr[i] = NULL;
	}
	event_base_free(base);
}

START_TEST(test_peer_messages_arrive_in_order_between_all_members)
{
	for (int i = 0; i < N; i++) {
		wait_active(i);
	}
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < N; j++) {
			if (i != j) {
				ck_assert_int_eq(send_n(i, j, 0, 500), 500);
			}
		}
	}
	for (int i = 0; i < N; i++) {
		for (int j = 0; j < N; j++) {
			if (i != j) {
				wait_count(j, i, 500);
			}
		}
		ck_assert(box[i].in_order);
	}
}
END_TEST

START_TEST(test_peer_reconnects_to_a_restarted_member)
{
	wait_active(0);
	ck_assert_int_eq(send_n(0, 1, 0, 10), 10);
	wait_count(1, 0, 10);

	int before = box[0].unreachable; /* setup's refused connects count too */
	peer_transport_free(tr[1]);       /* member 1 "crashes" */
	tr[1] = NULL;
	for (int k = 0; k < 500 && box[0].unreachable == before; k++) {
		spin(10);
	}
	ck_assert_int_gt(box[0].unreachable, before);

	box[1].count[0] = 0;
	start_member(1, CLUSTER); /* ... and comes back on the same address */
	wait_active(0);
	ck_assert_int_eq(send_n(0, 1, 0, 10), 10);
	wait_count(1, 0, 10);
	ck_assert(box[1].in_order);
}
END_TEST

START_TEST(test_peer_of_another_cluster_is_refused)
{
	struct peer_stats st;

	peer_transport_free(tr[2]);
	start_member(2, CLUSTER + 1); /* same address, wrong cluster */
	wait_active(0);
	for (int k = 0; k < 50; k++) {
		send_n(2, 0, 0, 1);
		spin(10);
	}
	ck_assert_int_eq(box[0].count[2], 0);
	ck_assert_int_eq(peer_transport_stats(tr[2], ids[0], &st), 0);
	/* Each refused stream is reported, and the sender backs off. */
	ck_assert_int_gt(box[2].unreachable, 0);
	ck_assert_uint_gt(st.sent_msgs, 0);
}
END_TEST

START_TEST(test_removed_member_is_refused_and_told)
{
	wait_active(2);
	ck_assert_int_eq(send_n(2, 0, 0, 5), 5);
	wait_count(0, 2, 5);
	ck_assert_uint_eq(told[2], 0);
	/* Removed now: its open stream is refused at the next message. */
	removed_id = ids[2];
	for (int k = 0; k < 500 && told[2] == 0; k++) {
		send_n(2, 0, 5, 1);
		spin(10);
	}
	ck_assert_uint_eq(told[2], ids[0]);
	ck_assert_int_eq(box[0].count[2], 5);
	ck_assert_uint_eq(told[0], 0);
	ck_assert_uint_eq(told[1], 0);
}
END_TEST

START_TEST(test_peer_send_to_unknown_peer_fails)
{
	ck_assert_int_eq(peer_transport_send(tr[0], 0x1234, (const uint8_t *)"x", 1), -ENOENT);
	peer_transport_remove(tr[0], ids[1]);
	ck_assert_int_eq(peer_transport_send(tr[0], ids[1], (const uint8_t *)"x", 1), -ENOENT);
}
END_TEST

START_TEST(test_peer_urls_parse_like_etcd_peer_urls)
{
	char host[64];
	int port;

	ck_assert_int_eq(peer_parse_url("http://127.0.0.11:2380", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "127.0.0.11");
	ck_assert_int_eq(port, 2380);
	ck_assert_int_eq(peer_parse_url("https://etcd-node01:2380/", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "etcd-node01");
	ck_assert_int_eq(peer_parse_url("http://[::1]:2380", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "::1");
	ck_assert_int_lt(peer_parse_url("http://127.0.0.1", host, sizeof(host), &port), 0);
	ck_assert_int_lt(peer_parse_url("http://127.0.0.1:99999", host, sizeof(host), &port), 0);
	ck_assert_int_lt(peer_parse_url("http://:2380", host, sizeof(host), &port), 0);
	ck_assert_int_lt(peer_parse_url("http://h:23x", host, sizeof(host), &port), 0);
}
END_TEST

/* A file of n bytes, byte k = k * 13 + k / 1000; its fd at offset 0. */
static int make_store(size_t n)
{
	char path[600];
	uint8_t b[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/store.XXXXXX", testlib_tmpdir());
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	unlink(path);
	for (size_t off = 0; off < n;) {
		size_t c = n - off < sizeof(b) ? n - off : sizeof(b);
		for (size_t k = 0; k < c; k++) {
			b[k] = (uint8_t)((off + k) * 13 + (off + k) / 1000);
		}
		ck_assert_int_eq(write(fd, b, c), (ssize_t)c);
		off += c;
	}
	return fd;
}

static bool same_as_store(const char *path, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t k = 0;
	int c;

	if (f == NULL) {
		return false;
	}
	while ((c = fgetc(f)) != EOF) {
		if ((uint8_t)c != (uint8_t)(k * 13 + k / 1000)) {
			fclose(f);
			return false;
		}
		k++;
	}
	fclose(f);
	return k == n;
}

static void on_snap_done(void *arg, raft_id to, int err)
{
	struct inbox *b = arg;

	ck_assert_int_eq(index_of(to), 1);
	b->snap_done++;
	b->snap_err = err;
}

static void wait_snap_done(void)
{
	for (int k = 0; k < 1000 && box[0].snap_done == 0; k++) {
		spin(10);
	}
	ck_assert_int_eq(box[0].snap_done, 1);
}

START_TEST(test_peer_snapshot_arrives_whole_with_its_message)
{
	/* Several chunks and a partial last one. */
	size_t n = 3 * PEER_SNAPSHOT_CHUNK + 12345;
	int fd = make_store(n);

	wait_active(0);
	ck_assert_int_eq(peer_transport_send_snapshot(tr[0], ids[1],
						      (const uint8_t *)"snapmsg",
						      7, fd, n, on_snap_done,
						      &box[0]),
			 0);
	ck_assert_int_eq(box[0].snap_done, 0); /* never inside the call */
	wait_snap_done();
	ck_assert_int_eq(box[0].snap_err, 0);
	ck_assert_int_eq(box[1].snaps, 1);
	ck_assert_str_eq(box[1].snap_msg, "snapmsg");
	ck_assert_msg(same_as_store(box[1].snap_path, n),
		      "the received file differs from the store sent");
	ck_assert_int_eq(unlink(box[1].snap_path), 0); /* ours to remove */
	/* The Raft stream carried on beside it. */
	ck_assert_int_eq(send_n(0, 1, 0, 10), 10);
	wait_count(1, 0, 10);
}
END_TEST

START_TEST(test_peer_snapshot_refused_by_the_member_fails_and_leaves_no_file)
{
	size_t n = 100000;
	int fd = make_store(n);
	char path[600];

	box[1].snap_refuse = -11;
	wait_active(0);
	ck_assert_int_eq(peer_transport_send_snapshot(tr[0], ids[1],
						      (const uint8_t *)"m", 1,
						      fd, n, on_snap_done,
						      &box[0]),
			 0);
	wait_snap_done();
	ck_assert_int_lt(box[0].snap_err, 0);
	ck_assert_int_eq(box[1].snaps, 1);
	snprintf(path, sizeof(path), "%s/snap.recv.%016" PRIx64 ".0.tmp",
		 snap_dirs[1], ids[0]);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(test_peer_snapshot_shorter_than_announced_is_refused)
{
	size_t n = 100000;
	int fd = make_store(n);

	wait_active(0);
	/* Announce more than the file holds: the sender cannot read it all. */
	ck_assert_int_eq(peer_transport_send_snapshot(tr[0], ids[1],
						      (const uint8_t *)"m", 1,
						      fd, n + 5000,
						      on_snap_done, &box[0]),
			 0);
	wait_snap_done();
	ck_assert_int_lt(box[0].snap_err, 0);
	ck_assert_int_eq(box[1].snaps, 0);
}
END_TEST

START_TEST(test_peer_snapshot_to_an_unknown_peer_fails_at_once)
{
	int fd = make_store(10);

	ck_assert_int_eq(peer_transport_send_snapshot(tr[0], 0x1234,
						      (const uint8_t *)"m", 1,
						      fd, 10, on_snap_done,
						      &box[0]),
			 -ENOENT);
	/* A transfer under way when the transport is freed ends silently. */
	fd = make_store(4 * PEER_SNAPSHOT_CHUNK);
	ck_assert_int_eq(peer_transport_send_snapshot(
			     tr[0], ids[1], (const uint8_t *)"m", 1, fd,
			     4 * PEER_SNAPSHOT_CHUNK, on_snap_done, &box[0]),
			 0);
	spin(5);
	peer_transport_free(tr[0]);
	tr[0] = NULL;
	ck_assert_int_eq(box[0].snap_done, 0);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *peer_suite(void)
{
	Suite *s = suite_create("peer_transport");

	add_case(s, "order", test_peer_messages_arrive_in_order_between_all_members);
	add_case(s, "restart", test_peer_reconnects_to_a_restarted_member);
	add_case(s, "cluster", test_peer_of_another_cluster_is_refused);
	add_case(s, "removed", test_removed_member_is_refused_and_told);
	add_case(s, "unknown", test_peer_send_to_unknown_peer_fails);
	add_case(s, "urls", test_peer_urls_parse_like_etcd_peer_urls);
	add_case(s, "snapshot", test_peer_snapshot_arrives_whole_with_its_message);
	add_case(s, "snapshot_refused",
		 test_peer_snapshot_refused_by_the_member_fails_and_leaves_no_file);
	add_case(s, "snapshot_short",
		 test_peer_snapshot_shorter_than_announced_is_refused);
	add_case(s, "snapshot_unknown",
		 test_peer_snapshot_to_an_unknown_peer_fails_at_once);
	return s;
}
TEST_SUITE(peer_suite)
