/*
 * mvcc_bench.c - in-process throughput of the MVCC store (not a test):
 * puts per second while loading N keys of 256-byte values (committing every
 * 10 000 operations, as the server does), single-key ranges per second,
 * then the time to reopen the store and the process RSS.
 *
 *   node/mvcc/mvcc-bench DIR [N]     (default N = 1000000)
 *   node/mvcc/mvcc-bench DIR open    (open time and RSS in a fresh process)
 *
 * Build without sanitizers for meaningful numbers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/err.h"
#include "mvcc/mvcc.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	if (!f) {
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			v = strtol(line + 6, NULL, 10);
		}
	}
	fclose(f);
	return v;
}

static int fail(const char *what, int r)
{
	fprintf(stderr, "mvcc-bench: %s: %s\n", what, err_str(r));
	return 1;
}

static int reopen(const char *dir)
{
	struct mvcc_store *s;
	double t0 = now();
	int r = mvcc_open(dir, NULL, &s);
	if (r < 0) {
		return fail("reopen", r);
	}
	double t_open = now();
	/* The key the load phase wrote first. */
	struct mvcc_range_req one = {
	    .key = (const uint8_t *)"/bench/0000000000", .key_len = 17};
	struct mvcc_range_resp rp;
	r = mvcc_range(s, &one, &rp);
	if (r < 0 || rp.n_kvs != 1) {
		return fail("range after open", r < 0 ? r : -ERR_CORRUPT);
	}
	mvcc_range_resp_done(&rp);
	double t1 = now();
	printf("open: %.4f s\n", t_open - t0);
	printf("open + first get: %.4f s (revision %lld)\n", t1 - t0,
	       (long long)mvcc_current_rev(s));
	printf("rss after open: %ld KiB\n", rss_kib());
	int64_t size, used;
	if (mvcc_db_size(s, &size, &used) == 0) {
		printf("db size %lld MiB, in use %lld MiB\n",
		       (long long)(size >> 20), (long long)(used >> 20));
	}
	mvcc_close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [N|open]\n", argv[0]);
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "open") == 0) {
		return reopen(argv[1]);
	}
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	struct mvcc_store *s;
	int r = mvcc_open(argv[1], NULL, &s);
	if (r < 0) {
		return fail("open", r);
	}
	char key[32];
	unsigned char val[256];
	memset(val, 'v', sizeof(val));
	double t0 = now();
	for (long i = 0; i < n; i++) {
		/* Spread keys so inserts do not all append. */
		unsigned long k =
		    (unsigned long)i * 2654435761UL % 1000000007UL;
		int kl = snprintf(key, sizeof(key), "/bench/%010lu", k);
		struct mvcc_put_req rq = {.key = (const uint8_t *)key,
					  .key_len = (size_t)kl,
					  .value = val,
					  .value_len = sizeof(val)};
		struct mvcc_put_resp rp;
		r = mvcc_put(s, &rq, &rp);
		if (r < 0) {
			return fail("put", r);
		}
		mvcc_put_resp_done(&rp);
		if (i % 10000 == 9999 && (r = mvcc_commit(s)) < 0) {
			return fail("commit", r);
		}
	}
	if ((r = mvcc_commit(s)) < 0) {
		return fail("commit", r);
	}
	double t1 = now();
	printf("puts: %ld in %.2f s = %.0f/s\n", n, t1 - t0,
	       (double)n / (t1 - t0));

	long nr = n < 200000 ? n : 200000;
	t0 = now();
	for (long i = 0; i < nr; i++) {
		unsigned long k =
		    (unsigned long)(i * 7919 % n) * 2654435761UL % 1000000007UL;
		int kl = snprintf(key, sizeof(key), "/bench/%010lu", k);
		struct mvcc_range_req rq = {.key = (const uint8_t *)key,
					    .key_len = (size_t)kl};
		struct mvcc_range_resp rp;
		r = mvcc_range(s, &rq, &rp);
		if (r < 0 || rp.n_kvs != 1) {
			return fail("range", r < 0 ? r : -ERR_CORRUPT);
		}
		mvcc_range_resp_done(&rp);
	}
	t1 = now();
	printf("ranges (one key): %ld in %.2f s = %.0f/s\n", nr, t1 - t0,
	       (double)nr / (t1 - t0));

	t0 = now();
	struct mvcc_range_req all = {.key = (const uint8_t *)"/bench/",
				     .key_len = 7,
				     .range_end = (const uint8_t *)"/bench0",
				     .range_end_len = 7,
				     .limit = 1000};
	struct mvcc_range_resp ar;
	r = mvcc_range(s, &all, &ar);
	if (r < 0) {
		return fail("range all", r);
	}
	t1 = now();
	printf("range prefix limit 1000 (count %lld): %.3f s\n",
	       (long long)ar.count, t1 - t0);
	mvcc_range_resp_done(&ar);
	printf("rss after load: %ld KiB\n", rss_kib());

	/* Overwrite a tenth of the keys, compact everything older. */
	for (long i = 0; i < n / 10; i++) {
		unsigned long k =
		    (unsigned long)i * 2654435761UL % 1000000007UL;
		int kl = snprintf(key, sizeof(key), "/bench/%010lu", k);
		struct mvcc_put_req rq = {.key = (const uint8_t *)key,
					  .key_len = (size_t)kl,
					  .value = val,
					  .value_len = sizeof(val)};
		struct mvcc_put_resp rp;
		if ((r = mvcc_put(s, &rq, &rp)) < 0) {
			return fail("put", r);
		}
		mvcc_put_resp_done(&rp);
	}
	if ((r = mvcc_commit(s)) < 0 ||
	    (r = mvcc_compact(s, mvcc_current_rev(s))) < 0) {
		return fail("compact", r);
	}
	t0 = now();
	double worst = 0;
	int steps = 0;
	for (bool done = false; !done; steps++) {
		double a = now();
		if ((r = mvcc_compact_step(s, 10000, &done)) < 0) {
			return fail("compact step", r);
		}
		double d = now() - a;
		worst = d > worst ? d : worst;
	}
	if ((r = mvcc_commit(s)) < 0) {
		return fail("commit", r);
	}
	t1 = now();
	printf("compaction of %ld superseded revisions: %.2f s in %d steps "
	       "of 10000 units, longest step %.4f s\n",
	       n / 10, t1 - t0, steps, worst);
	mvcc_close(s);

	return 0;
}
