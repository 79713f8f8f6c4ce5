/*
 * raft_bench.c - micro benchmark (not a test): proposals committed per
 * second through a three-member in-memory cluster, proposing batches of 1
 * and of 64 entries (128-byte payloads).  Every Ready is handled as the
 * contract says (persist to the in-memory storage, send, apply, advance);
 * messages are delivered at once.  What it measures is the library's CPU
 * cost per committed entry, not I/O.
 *
 * Usage: raft_bench [seconds per batch size, default 2]
 * Build it without sanitizers for meaningful numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raft/raft.h"
#include "raft/storage.h"

#define N 3

struct bnode {
	struct raft *r;
	struct raft_mem_storage *ms;
	raft_index applied;
	raft_index snap;
};

static struct bnode nodes[N + 1];
static struct raft_message *q;
static size_t nq, capq;

static void die(const char *what)
{
	fprintf(stderr, "raft_bench: %s\n", what);
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cycle(struct bnode *b)
{
	struct raft_ready rd;

	while (raft_has_ready(b->r)) {
		if (raft_ready(b->r, &rd) < 0) {
			die("ready");
		}
		if (raft_mem_storage_append(b->ms, rd.entries, rd.n_entries) <
		    0) {
			die("append");
		}
		if (rd.has_hard_state) {
			raft_mem_storage_set_hard_state(b->ms, &rd.hard_state);
		}
		for (size_t i = 0; i < rd.n_messages; i++) {
			if (nq == capq) {
				capq = capq ? capq * 2 : 64;
				q = realloc(q, capq * sizeof(*q));
				if (!q) {
					die("oom");
				}
			}
			/* Moved out of the Ready: advance frees nothing of it.
			 */
			q[nq++] = rd.messages[i];
			memset(&rd.messages[i], 0, sizeof(rd.messages[i]));
		}
		if (rd.n_committed_entries > 0) {
			b->applied =
			    rd.committed_entries[rd.n_committed_entries - 1]
				.index;
		}
		if (raft_advance(b->r, &rd) < 0) {
			die("advance");
		}
		/* Keep memory flat: snapshot and compact now and then. */
		if (b->applied >= b->snap + 10000) {
			if (raft_mem_storage_create_snapshot(
				b->ms, b->applied, NULL, NULL, 0) < 0 ||
			    raft_mem_storage_compact(b->ms, b->applied) < 0) {
				die("compact");
			}
			b->snap = b->applied;
		}
	}
}

static void settle(void)
{
	for (;;) {
		struct raft_message *batch;
		size_t n;

		for (int i = 1; i <= N; i++) {
			cycle(&nodes[i]);
		}
		if (nq == 0) {
			return;
		}
		batch = q;
		n = nq;
		q = NULL;
		nq = capq = 0;
		for (size_t i = 0; i < n; i++) {
			(void)raft_step(nodes[batch[i].to].r, &batch[i]);
			raft_message_done(&batch[i]);
		}
		free(batch);
	}
}

static void setup(void)
{
	raft_id voters[N] = {1, 2, 3};
	struct raft_conf_state cs = {.voters = voters, .n_voters = N};

	for (int i = 1; i <= N; i++) {
		struct raft_config cfg = {
		    .id = (raft_id)i,
		    .election_tick = 10,
		    .heartbeat_tick = 1,
		    .max_size_per_msg = 1024 * 1024,
		    .max_inflight_msgs = 256,
		    .seed = 1,
		};

		nodes[i].ms = raft_mem_storage_new();
		if (!nodes[i].ms ||
		    raft_mem_storage_set_conf_state(nodes[i].ms, &cs) < 0) {
			die("storage");
		}
		cfg.storage = raft_mem_storage_storage(nodes[i].ms);
		if (raft_new(&cfg, &nodes[i].r) < 0) {
			die("raft_new");
		}
	}
	if (raft_campaign(nodes[1].r) < 0) {
		die("campaign");
	}
	settle();
}

static void teardown(void)
{
	for (int i = 1; i <= N; i++) {
		raft_free(nodes[i].r);
		raft_mem_storage_free(nodes[i].ms);
		memset(&nodes[i], 0, sizeof(nodes[i]));
	}
}

static void run(size_t batch, double seconds)
{
	struct raft_entry ents[64];
	uint8_t payload[128];
	double start, el;
	unsigned long long done = 0;

	memset(payload, 'v', sizeof(payload));
	for (size_t i = 0; i < batch; i++) {
		ents[i] = (struct raft_entry){.data = payload,
					      .len = sizeof(payload)};
	}
	setup();
	start = now();
	do {
		for (int k = 0; k < 100; k++) {
			if (raft_propose_entries(nodes[1].r, ents, batch) < 0) {
				die("propose");
			}
			settle();
			/* Heartbeats carry the commit to followers. */
			done += batch;
		}
		el = now() - start;
	} while (el < seconds);
	if (nodes[1].applied < done) {
		die("not everything committed");
	}
	printf("batch %2zu: %10.0f proposals committed/s (%llu in %.2f s)\n",
	       batch, (double)done / el, done, el);
	teardown();
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;

	run(1, seconds);
	run(64, seconds);
	free(q);
	return 0;
}
