#include <string.h>

#include "base/mem.h"
#include "base/metrics.h"
#include "testlib.h"

static double forty_two(void *arg)
{
	(void)arg;
	return 42;
}

START_TEST(test_metrics_renders_the_prometheus_text_format)
{
	struct metrics *m = metrics_new();
	struct buf out = BUF_INIT;
	struct metrics_counter *c1, *c2;
	struct metrics_gauge *g;
	struct metrics_histogram *h;
	static const double bounds[] = {0.001, 0.01, 0.1};

	ck_assert_ptr_nonnull(m);
	g = metrics_gauge(m, "etcd_server_has_leader", "Whether a leader exists.", NULL);
	c1 = metrics_counter(m, "etcd_network_peer_sent_bytes_total",
			     "The total number of bytes sent to peers.", "To=\"a\"");
	c2 = metrics_counter(m, "etcd_network_peer_sent_bytes_total", "ignored",
			     "To=\"b\"");
	h = metrics_histogram(m, "etcd_disk_wal_fsync_duration_seconds",
			      "Fsync latency\nwith \\ escapes.", NULL, bounds, 3);
	ck_assert_ptr_nonnull(metrics_gauge_func(m, "process_open_fds", "Open fds.",
						 NULL, forty_two, NULL));
	metrics_gauge_set(g, 1);
	metrics_counter_add(c1, 100);
	metrics_counter_inc(c2);
	metrics_counter_add(c2, -5); /* ignored: counters never go down */
	metrics_histogram_observe(h, 0.0005);
	metrics_histogram_observe(h, 0.05);
	metrics_histogram_observe(h, 3);
	ck_assert_int_eq(metrics_render(m, &out), 0);
	ck_assert_str_eq((char *)out.data,
		"# HELP etcd_server_has_leader Whether a leader exists.\n"
		"# TYPE etcd_server_has_leader gauge\n"
		"etcd_server_has_leader 1\n"
		"# HELP etcd_network_peer_sent_bytes_total The total number of bytes sent to peers.\n"
		"# TYPE etcd_network_peer_sent_bytes_total counter\n"
		"etcd_network_peer_sent_bytes_total{To=\"a\"} 100\n"
		"etcd_network_peer_sent_bytes_total{To=\"b\"} 1\n"
		"# HELP etcd_disk_wal_fsync_duration_seconds Fsync latency\\nwith \\\\ escapes.\n"
		"# TYPE etcd_disk_wal_fsync_duration_seconds histogram\n"
		"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 1\n"
		"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.01\"} 1\n"
		"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.1\"} 2\n"
		"etcd_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"} 3\n"
		"etcd_disk_wal_fsync_duration_seconds_sum 3.0505\n"
		"etcd_disk_wal_fsync_duration_seconds_count 3\n"
		"# HELP process_open_fds Open fds.\n"
		"# TYPE process_open_fds gauge\n"
		"process_open_fds 42\n");
	buf_done(&out);
	metrics_free(m);
}
END_TEST

START_TEST(test_metrics_refuses_bad_names_and_type_clashes)
{
	struct metrics *m = metrics_new();

	ck_assert_ptr_null(metrics_counter(m, "9lives", "", NULL));
	ck_assert_ptr_null(metrics_counter(m, "has space", "", NULL));
	ck_assert_ptr_nonnull(metrics_counter(m, "x_total", "", NULL));
	ck_assert_ptr_null(metrics_gauge(m, "x_total", "", NULL));
	metrics_free(m);
	metrics_free(NULL);
}
END_TEST

START_TEST(test_metrics_exponential_buckets_match_prometheus)
{
	double b[4];

	metrics_exp_buckets(0.001, 2, 4, b);
	ck_assert_double_eq(b[0], 0.001);
	ck_assert_double_eq(b[3], 0.008);
}
END_TEST

START_TEST(test_metrics_survives_every_allocation_failure)
{
	for (long n = 0; n < 40; n++) {
		struct metrics *m;
		struct buf out = BUF_INIT;
		static const double bounds[] = {1, 2};

		mem_fail_after(n);
		m = metrics_new();
		if (m != NULL) {
			metrics_counter_inc(metrics_counter(m, "a_total", "a", NULL));
			metrics_histogram_observe(
				metrics_histogram(m, "h", "h", "x=\"1\"", bounds, 2), 1.5);
			metrics_gauge_set(metrics_gauge(m, "g", "g", NULL), 2);
			(void)metrics_render(m, &out);
		}
		mem_fail_reset();
		buf_done(&out);
		metrics_free(m);
	}
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_metrics_renders_the_prometheus_text_format);
	tcase_add_test(tc, test_metrics_refuses_bad_names_and_type_clashes);
	tcase_add_test(tc, test_metrics_exponential_buckets_match_prometheus);
	tcase_add_test(tc, test_metrics_survives_every_allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(metrics_suite)
