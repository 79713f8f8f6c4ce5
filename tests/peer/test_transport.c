/*
 * Peer transport: three members on one loop over loopback exchange Raft
 * messages in order; a member that restarts is reconnected; a member of
 * another cluster is refused; sends to unknown or down peers fail fast; a
 * removed member's stream is refused and the member is told.
 */
#include <event2/event.h>
#include <inttypes.h>
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

static void start_member(int i, uint64_t cluster)
{
	struct peer_transport_config cfg = {ids[i], cluster, on_msg,
					    on_unreach, &box[i], 0,
					    NULL, is_removed, on_removed};

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
	return s;
}
TEST_SUITE(peer_suite)
