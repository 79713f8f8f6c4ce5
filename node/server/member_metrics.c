/*
 * member_metrics.c - the member's gauges in the metrics registry
 * (srvmetrics.h keeps the counters and histograms): etcd's backend size
 * metrics, read from the store when scraped.
 *
 * Invariants:
 *  1. Gauges read the member's state at scrape time on the loop thread;
 *     nothing here changes it.
 */
#include "server/member_int.h"

static double db_size(void *arg, bool in_use)
{
	struct member *m = arg;
	int64_t size = 0, used = 0;

	if (m->store == NULL || mvcc_db_size(m->store, &size, &used) < 0) {
		return 0;
	}
	return (double)(in_use ? used : size);
}

static double db_total(void *arg)
{
	return db_size(arg, false);
}

static double db_in_use(void *arg)
{
	return db_size(arg, true);
}

int member_attach_metrics(struct member *m, struct metrics *mx)
{
	srvmetrics_free(m->smx);
	m->smx = NULL;
	if (mx == NULL) {
		return 0;
	}
	m->smx = srvmetrics_new(mx, db_total, db_in_use, m);
	if (m->smx == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_members; i++) {
		if (m->members[i].id != m->id) {
			srvmetrics_peer(m->smx, m->members[i].id);
		}
	}
	return 0;
}
