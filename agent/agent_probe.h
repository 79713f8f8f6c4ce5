/*
 * agent_probe.h - one request to every member at once (libcurl multi), and
 * what each member's clock says (the HTTP Date header).
 *
 * status, health, members, clock and up's leader wait ask every member
 * the same question; with a multi handle the round takes as long as the
 * slowest member, not the sum of all of them, so a member that does not
 * answer costs one connect timeout, not one per member.
 *
 * Invariants:
 *  1. Every probe gets an outcome: 0 (an HTTP answer, any status),
 *     -ETIMEDOUT or -ECONNREFUSED with "context deadline exceeded" in err
 *     (etcdctl's words for a member it cannot reach), or -ENOMEM.
 *  2. The clock bounds are honest: the member wrote its Date (whole
 *     seconds) between sending and receiving, so its offset from this
 *     host lies in [lo, hi]; several probes narrow the interval, never
 *     widen it.
 */
#ifndef CETCD_AGENT_AGENT_PROBE_H
#define CETCD_AGENT_AGENT_PROBE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct agent_probe {
	/* in */
	const char *url;  /* endpoint + path */
	const char *body; /* POSTed as JSON; NULL: GET */
	/* out */
	int rc;		     /* invariant 1 */
	long http_status;
	struct buf out;	     /* the answer's body */
	char err[256];
	uint64_t took_ns;    /* request to answer */
	bool has_date;	     /* the answer carried a Date header */
	int64_t date_s;	     /* its value, Unix seconds */
	int64_t sent_ns;     /* wall clock when the request was made */
	int64_t recv_ns;     /* wall clock when the answer was complete */
};

/* Reset probe p's outputs (keeps url and body). */
void agent_probe_reset(struct agent_probe *p);
void agent_probe_done(struct agent_probe *p);

/*
 * Run every probe at once; returns when all have an outcome.  0, or
 * -ENOMEM when libcurl could not even start (then every probe says so).
 */
int agent_probe_all(struct agent_probe *p, size_t n, uint64_t connect_ms,
		    uint64_t timeout_ms);

/*
 * Decode p's answer as rdesc the way cetcdctl does: 0 with *resp, p->rc
 * when the member was not reached, -EPROTO with the member's message in
 * err for a non-200 answer, -ERR_PARSE.  err gets a sentence on failure.
 */
int agent_probe_decode(const struct agent_probe *p,
		       const ProtobufCMessageDescriptor *rdesc,
		       ProtobufCMessage **resp, char *err, size_t err_size);

/* A member's clock offset from this host: lo <= offset <= hi, in ns. */
struct agent_clock {
	bool known;
	int64_t lo_ns, hi_ns;
};

/* Narrow c with p's Date header (invariant 2); no-op without one. */
void agent_clock_add(struct agent_clock *c, const struct agent_probe *p);
/* The middle of c's interval. */
int64_t agent_clock_mid(const struct agent_clock *c);

/*
 * Compare the members' clocks: *worst gets the pair that differs surely
 * most (i, j with j's clock ahead of i's) and *min_ns how much they differ
 * at least, *est_ns the estimate (difference of the middles).  false when
 * fewer than two clocks are known.
 */
bool agent_clock_spread(const struct agent_clock *c, size_t n, size_t *wi,
			size_t *wj, int64_t *min_ns, int64_t *est_ns);

/*
 * Warn on stderr when members' clocks differ surely by more than max_ms
 * (names[i] names clock c[i]).  Returns true when it warned.
 */
bool agent_clock_warn(const struct agent_clock *c, const char *const *names,
		      size_t n, uint64_t max_ms);

#endif
