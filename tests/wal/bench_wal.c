/*
 * tests/wal/bench_wal.c - WAL append throughput (a benchmark, not a test).
 *
 * Usage: bench_wal DIR [SECONDS]
 * For batches of 1, 16 and 256 entries of 256 bytes, appends to a fresh WAL
 * in DIR/bN (64 MiB segments, the production settings) for SECONDS (default
 * 2) and prints entries/s and batches/s; every batch is one wal_save and so
 * one fdatasync.  tests/wal/bench_wal.sh runs it beside fio's raw
 * fdatasync rate on the same directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/timeutil.h"
#include "wal/wal.h"

static int run(const char *base, size_t batch, double seconds)
{
	static struct raft_entry ents[256];
	static uint8_t data[256];
	struct wal_metadata md = {1, 1};
	struct wal_options o;
	struct wal_report rep;
	struct wal *w;
	char dir[4096];
	uint64_t start, end, n_batches = 0;
	raft_index index = 1;
	int r;

	snprintf(dir, sizeof(dir), "%s/b%zu", base, batch);
	o.dir = dir;
	o.segment_size = 0;
	r = wal_create(&o, &md, &w, &rep);
	if (r < 0) {
		fprintf(stderr, "bench_wal: %s\n", rep.msg);
		return r;
	}
	memset(data, 'v', sizeof(data));
	start = timeutil_mono_ns();
	end = start + (uint64_t)(seconds * 1e9);
	while (timeutil_mono_ns() < end) {
		struct raft_hard_state hs = {1, 1, index - 1};
		for (size_t i = 0; i < batch; i++) {
			ents[i].term = 1;
			ents[i].index = index++;
			ents[i].type = RAFT_ENTRY_NORMAL;
			ents[i].data = data;
			ents[i].len = sizeof(data);
		}
		r = wal_save(w, &hs, ents, batch);
		if (r < 0) {
			fprintf(stderr, "bench_wal: wal_save: %s\n",
				err_str(r));
			wal_close(w);
			return r;
		}
		n_batches++;
	}
	{
		double dt = (double)(timeutil_mono_ns() - start) / 1e9;
		printf("batch %3zu x 256 B: %10.0f entries/s  %8.0f batches "
		       "(fdatasyncs)/s  %6.3f ms/batch  segments %zu\n",
		       batch, (double)(n_batches * batch) / dt,
		       (double)n_batches / dt, dt * 1e3 / (double)n_batches,
		       wal_segment_count(w));
	}
	wal_close(w);
	return 0;
}

int main(int argc, char **argv)
{
	static const size_t batches[] = {1, 16, 256};
	double seconds = argc > 2 ? atof(argv[2]) : 2.0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_wal DIR [SECONDS]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(batches) / sizeof(batches[0]); i++) {
		if (run(argv[1], batches[i], seconds) < 0) {
			return 1;
		}
	}
	return 0;
}
