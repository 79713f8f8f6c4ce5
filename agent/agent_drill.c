/*
 * agent_drill.c - cetcd-agent drill failover: scenario.md B
 * steps 1-5 with numbers (agent_local.h).
 *
 * One loop does everything in turn, so no thread is needed: a put of a
 * unique key through the members that are not the old leader, then a
 * status probe.  The put's short timeout bounds how finely the write
 * unavailability window is measured (WRITE_TIMEOUT_MS).
 *
 * Steps: find the leader; write; take the leader down (kill: SIGKILL, a
 * true election; stop: SIGTERM; pause: SIGSTOP for the drill's pause) -
 * as a process of local mode (its pid file) or, when it is a systemd unit
 * on this host, over sd-bus (KillUnit, StopUnit/StartUnit);
 * time the first status that names another leader and the first write
 * acknowledged after the fault; bring the old leader back; for the stable
 * time, keep writing and check that the leader does not move and the old
 * one follows it; then check that every acknowledged write is on every
 * member and that a key put on the first member reads back on the last.
 *
 * Invariants:
 *  1. PASS only when every check holds; the exit status is 1 otherwise.
 *  2. Only the member this agent started (pid file + cmdline) or the
 *     manifest's unit on this host is signalled.
 *  3. A paused member is never left stopped: SIGINT, SIGTERM or SIGHUP
 *     during the pause sends it SIGCONT before the agent dies.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/agent_local.h"
#include "agent/agent_systemd.h"
#include "agent/ctl.h"
#include "agent/ctl_table.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define PROG "cetcd-agent"
#define ERRSZ 512
#define WRITE_TIMEOUT_MS 500
#define PROBE_TIMEOUT_MS 500

struct drill {
	const struct agent_run *r;
	const struct manifest_drill *d;
	char **eps; /* every member's client URL, manifest order */
	struct ctl one;	 /* timeouts for one-endpoint requests */
	struct ctl via;	 /* the members other than the old leader */
	char prefix[128];
	uint64_t next;	   /* next key index */
	uint8_t *acked;	   /* acked[i]: key i acknowledged */
	size_t cap;
	uint64_t n_acked;
	uint64_t last_ack_ms; /* monotonic */
	struct sd_bus *bus;   /* the leader is a unit on this host */
};

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static ProtobufCBinaryData bytes(const char *s)
{
	ProtobufCBinaryData b = {strlen(s), (uint8_t *)(uintptr_t)s};

	return b;
}

/* One put of the next unique key through dr->via; true when acked. */
static bool put_next(struct drill *dr)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char key[192], err[ERRSZ];
	uint64_t i = dr->next++;

	if (i >= dr->cap) {
		size_t cap = dr->cap ? dr->cap * 2 : 4096;
		uint8_t *g = mem_realloc(dr->acked, cap);

		if (!g) {
			return false;
		}
		memset(g + dr->cap, 0, cap - dr->cap);
		dr->acked = g;
		dr->cap = cap;
	}
	snprintf(key, sizeof(key), "%s%" PRIu64, dr->prefix, i);
	req.key = bytes(key);
	req.value = bytes(key);
	if (ctl_call(&dr->via, "/v3/kv/put", &req.base,
		     &etcdserverpb__put_response__descriptor, &resp, err,
		     sizeof(err)) < 0) {
		return false;
	}
	proto_free(resp);
	dr->acked[i] = 1;
	dr->n_acked++;
	dr->last_ack_ms = timeutil_mono_ms();
	return true;
}

/* Member i's status: its id and the leader it knows.  0 or < 0. */
static int status_of(struct drill *dr, size_t i, uint64_t *id,
		     uint64_t *leader)
{
	Etcdserverpb__StatusResponse *s = NULL;
	char err[ERRSZ];
	int rc;

	rc = ctl_post(&dr->one, dr->eps[i], "/v3/maintenance/status", NULL,
		      &etcdserverpb__status_response__descriptor,
		      (ProtobufCMessage **)&s, err, sizeof(err));
	if (rc < 0) {
		return rc;
	}
	*id = s->header ? s->header->member_id : 0;
	*leader = s->leader;
	proto_free(&s->base);
	return 0;
}

/* Acknowledged keys missing from member i (serializable read). */
static uint64_t missing_on(struct drill *dr, size_t i)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *resp = NULL;
	char err[ERRSZ], end[sizeof(dr->prefix)];
	size_t plen = strlen(dr->prefix);
	uint8_t *seen;
	uint64_t missing = 0;
	struct ctl c = dr->one;

	c.command_timeout_ms = 5000;
	memcpy(end, dr->prefix, plen + 1);
	end[plen - 1]++; /* the prefix ends in '/': '/' + 1 bounds it */
	req.key = bytes(dr->prefix);
	req.range_end = bytes(end);
	req.keys_only = true;
	req.serializable = true;
	seen = mem_calloc(dr->next + 1, 1);
	if (!seen || ctl_post(&c, dr->eps[i], "/v3/kv/range", &req.base,
			      &etcdserverpb__range_response__descriptor,
			      (ProtobufCMessage **)&resp, err,
			      sizeof(err)) < 0) {
		mem_free(seen);
		return dr->n_acked; /* cannot read: count all as missing */
	}
	for (size_t k = 0; k < resp->n_kvs; k++) {
		const ProtobufCBinaryData *key = &resp->kvs[k]->key;
		char num[32];
		uint64_t v;

		if (key->len <= plen || key->len - plen >= sizeof(num)) {
			continue;
		}
		memcpy(num, key->data + plen, key->len - plen);
		num[key->len - plen] = '\0';
		v = strtoull(num, NULL, 10);
		if (v < dr->next) {
			seen[v] = 1;
		}
	}
	for (uint64_t k = 0; k < dr->next; k++) {
		if (k < dr->cap && dr->acked[k] && !seen[k]) {
			missing++;
		}
	}
	proto_free(&resp->base);
	mem_free(seen);
	return missing;
}

/* Put a key on the first member, read it linearizably on the last. */
static bool first_to_last(struct drill *dr)
{
	Etcdserverpb__PutRequest put = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__RangeRequest get = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *resp = NULL;
	ProtobufCMessage *presp = NULL;
	char key[192], err[ERRSZ];
	struct ctl c = dr->one;
	size_t last = dr->r->m->n_members - 1;
	bool ok;

	c.command_timeout_ms = 5000;
	snprintf(key, sizeof(key), "%sfirst-to-last", dr->prefix);
	put.key = bytes(key);
	put.value = bytes(dr->prefix);
	if (ctl_post(&c, dr->eps[0], "/v3/kv/put", &put.base,
		     &etcdserverpb__put_response__descriptor, &presp, err,
		     sizeof(err)) < 0) {
		return false;
	}
	proto_free(presp);
	get.key = bytes(key);
	if (ctl_post(&c, dr->eps[last], "/v3/kv/range", &get.base,
		     &etcdserverpb__range_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err)) < 0) {
		return false;
	}
	ok = resp->n_kvs == 1 &&
	     resp->kvs[0]->value.len == strlen(dr->prefix) &&
	     memcmp(resp->kvs[0]->value.data, dr->prefix,
		    strlen(dr->prefix)) == 0;
	proto_free(&resp->base);
	return ok;
}

static const char *name_of(const struct drill *dr, const uint64_t *ids,
			   uint64_t id)
{
	for (size_t i = 0; i < dr->r->m->n_members; i++) {
		if (ids[i] == id && id != 0) {
			return dr->r->m->members[i].name;
		}
	}
	return "?";
}

struct report {
	const char *mode;
	const char *old_name, *new_name;
	uint64_t old_id, new_id;
	int64_t t_leader_ms, t_write_ms; /* -1: never */
	uint64_t acked, lost;
	bool rejoined, stable, f2l, pass;
	uint64_t stable_ms;
	char via[160]; /* "pid N" or "unit NAME" */
};

static void print_report(const struct drill *dr, const struct report *rp)
{
	static const char *const headers[] = {"check", "result"};
	char v[12][96];
	struct ctl_table *t;
	struct buf out = BUF_INIT;

	if (dr->r->output == AGENT_OUTPUT_JSON) {
		printf("{\"mode\":\"%s\",\"via\":\"%s\",\"old_leader\":\"%s\","
		       "\"old_leader_id\":"
		       "\"%" PRIx64 "\",\"new_leader\":\"%s\",\"new_leader_id\":"
		       "\"%" PRIx64 "\",\"time_to_new_leader_ms\":%" PRId64
		       ",\"write_unavailability_ms\":%" PRId64
		       ",\"acknowledged_writes\":%" PRIu64
		       ",\"writes_lost\":%" PRIu64
		       ",\"old_leader_rejoined_as_follower\":%s"
		       ",\"leader_stable\":%s,\"first_to_last_read\":%s"
		       ",\"verdict\":\"%s\"}\n",
		       rp->mode, rp->via, rp->old_name, rp->old_id, rp->new_name,
		       rp->new_id, rp->t_leader_ms, rp->t_write_ms, rp->acked,
		       rp->lost, rp->rejoined ? "true" : "false",
		       rp->stable ? "true" : "false",
		       rp->f2l ? "true" : "false", rp->pass ? "PASS" : "FAIL");
		return;
	}
	snprintf(v[0], sizeof(v[0]), "%s (%" PRIx64 ")", rp->old_name,
		 rp->old_id);
	snprintf(v[1], sizeof(v[1]), "%s (%" PRIx64 ")", rp->new_name,
		 rp->new_id);
	if (rp->t_leader_ms < 0) {
		snprintf(v[2], sizeof(v[2]), "none");
	} else {
		snprintf(v[2], sizeof(v[2]), "%" PRId64 " ms", rp->t_leader_ms);
	}
	if (rp->t_write_ms < 0) {
		snprintf(v[3], sizeof(v[3]), "writes never resumed");
	} else {
		snprintf(v[3], sizeof(v[3]), "%" PRId64 " ms", rp->t_write_ms);
	}
	snprintf(v[4], sizeof(v[4]), "%" PRIu64, rp->acked);
	snprintf(v[5], sizeof(v[5]), "%" PRIu64, rp->lost);
	snprintf(v[6], sizeof(v[6]), "leader stayed put (%.1f s)",
		 (double)rp->stable_ms / 1000);
	const char *rows[][2] = {
	    {"mode", rp->mode},
	    {"taken down", rp->via},
	    {"old leader", v[0]},
	    {"new leader", v[1]},
	    {"time to new leader", v[2]},
	    {"write unavailability", v[3]},
	    {"acknowledged writes", v[4]},
	    {"writes lost", v[5]},
	    {"old leader is a follower", rp->rejoined ? "yes" : "no"},
	    {v[6], rp->stable ? "yes" : "no"},
	    {"put on first, read on last", rp->f2l ? "yes" : "no"},
	    {"verdict", rp->pass ? "PASS" : "FAIL"},
	};
	t = ctl_table_new(headers, 2);
	for (size_t i = 0; t && i < sizeof(rows) / sizeof(rows[0]); i++) {
		ctl_table_add_row(t, rows[i]);
	}
	if (t && ctl_table_render(t, &out) == 0) {
		fwrite(out.data, 1, out.len, stdout);
	}
	buf_done(&out);
	ctl_table_free(t);
}

/*
 * The leader runs as a systemd unit on this host (apply): drive it over
 * sd-bus.  0 with dr->bus set, or -ESRCH.
 */
static int systemd_target(struct drill *dr, const struct manifest_member *old)
{
	struct buf why = BUF_INIT;
	struct sd_bus *bus = NULL;

	if (agent_sd_open(&bus, &why) < 0) {
		buf_done(&why);
		return -ESRCH;
	}
	buf_done(&why);
	if (!agent_sd_unit_loaded(bus, old->s.unit)) {
		agent_sd_close(bus);
		return -ESRCH;
	}
	dr->bus = bus;
	return 0;
}

/*
 * Invariant 3: a member paused by the drill, for the handler below.  Only
 * kill(2) runs in the handler, which is async-signal-safe.
 */
static volatile sig_atomic_t paused_pid;

static void resume_and_die(int sig)
{
	if (paused_pid > 0) {
		kill((pid_t)paused_pid, SIGCONT);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void guard_pause(pid_t pid)
{
	paused_pid = pid;
	signal(SIGINT, resume_and_die);
	signal(SIGTERM, resume_and_die);
	signal(SIGHUP, resume_and_die);
}

static void unguard_pause(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	paused_pid = 0;
}

/* Take the old leader down as the drill's mode says (invariant 2). */
static int fault(struct drill *dr, const struct manifest_member *old, pid_t pid)
{
	enum manifest_drill_mode mode = dr->d->mode;
	struct buf why = BUF_INIT;
	char active[32], sub[32];
	int rc = 0;

	if (mode == MANIFEST_DRILL_PAUSE && dr->bus &&
	    agent_sd_unit_state(dr->bus, old->s.unit, active, sizeof(active),
				sub, sizeof(sub), &pid) < 0) {
		pid = 0;
	}
	if (mode == MANIFEST_DRILL_PAUSE && pid > 0) {
		guard_pause(pid);
	}
	if (!dr->bus) {
		kill(pid, mode == MANIFEST_DRILL_KILL	? SIGKILL
			  : mode == MANIFEST_DRILL_STOP ? SIGTERM
							: SIGSTOP);
		return 0;
	}
	if (mode == MANIFEST_DRILL_STOP) {
		rc = agent_sd_stop(dr->bus, old->s.unit, &why);
	} else {
		rc = agent_sd_kill(dr->bus, old->s.unit,
				   mode == MANIFEST_DRILL_KILL ? SIGKILL
							       : SIGSTOP,
				   &why);
	}
	if (rc < 0) {
		fprintf(stderr, PROG " drill: %s\n", (char *)why.data);
	}
	buf_done(&why);
	return rc;
}

/* The unit's process is gone (stopped, failed or waiting to restart). */
static bool unit_down(struct drill *dr, const char *unit)
{
	char active[32], sub[32];
	pid_t main_pid;

	if (agent_sd_unit_state(dr->bus, unit, active, sizeof(active), sub,
				sizeof(sub), &main_pid) < 0) {
		return false;
	}
	return main_pid == 0 || strcmp(active, "inactive") == 0 ||
	       strcmp(active, "failed") == 0 || strcmp(sub, "auto-restart") == 0;
}

/* Bring the old leader back: SIGCONT, or start it again. */
static int recover(struct drill *dr, const struct manifest_member *old,
		   pid_t pid)
{
	const struct agent_run *r = dr->r;
	struct buf why = BUF_INIT;
	uint64_t deadline;
	int rc = 0;

	if (!dr->bus) {
		if (dr->d->mode == MANIFEST_DRILL_PAUSE) {
			kill(pid, SIGCONT);
			unguard_pause();
			return 0;
		}
		if (!agent_local_wait_gone(pid, r->stop_ms)) {
			kill(pid, SIGKILL);
			agent_local_wait_gone(pid, 5000);
		}
		agent_local_forget(r, old->name);
		return agent_local_start(r, old, &pid);
	}
	if (dr->d->mode == MANIFEST_DRILL_PAUSE) {
		rc = agent_sd_kill(dr->bus, old->s.unit, SIGCONT, &why);
		unguard_pause();
	} else {
		deadline = timeutil_mono_ms() + r->stop_ms;
		while (!unit_down(dr, old->s.unit) &&
		       timeutil_mono_ms() < deadline) {
			sleep_ms(50);
		}
		rc = agent_sd_start(dr->bus, old->s.unit, &why);
	}
	if (rc < 0) {
		fprintf(stderr, PROG " drill: %s\n", (char *)why.data);
	}
	buf_done(&why);
	return rc;
}

static int run(struct drill *dr, struct report *rp)
{
	const struct agent_run *r = dr->r;
	const struct manifest *m = r->m;
	const struct manifest_drill *d = dr->d;
	uint64_t ids[64] = {0}, leader = 0, id, l, t0, deadline, now;
	const struct manifest_member *old = NULL;
	size_t oi = 0, n = m->n_members;
	pid_t pid;
	bool got_leader = false, got_write = false;

	if (n < 3 || n > 64) {
		fprintf(stderr, PROG " drill: the drill needs 3 to 64 members; "
				     "the manifest has %zu\n", n);
		return -EINVAL;
	}
	/* 1. Every member answers and names the same leader. */
	for (size_t i = 0; i < n; i++) {
		if (status_of(dr, i, &ids[i], &l) < 0 || l == 0 ||
		    (leader && l != leader)) {
			fprintf(stderr,
				PROG " drill: %s does not answer or knows no "
				     "leader; run '" PROG " status' and fix "
				     "the cluster first\n",
				m->members[i].name);
			return -EAGAIN;
		}
		leader = l;
	}
	for (size_t i = 0; i < n; i++) {
		if (ids[i] == leader) {
			old = &m->members[i];
			oi = i;
		}
	}
	if (!old) {
		fprintf(stderr, PROG " drill: the leader %" PRIx64 " is no "
				     "member of the manifest\n", leader);
		return -ESRCH;
	}
	pid = agent_local_pid(r, old->name);
	if (pid <= 0 && systemd_target(dr, old) < 0) {
		fprintf(stderr,
			PROG " drill: the leader %s was neither started by "
			     "this agent (no live pid file in %s) nor is its "
			     "unit %s loaded on this host; run '" PROG
			     " up' with the same --state-dir, or run the drill "
			     "on the leader's host\n",
			old->name, r->state_dir, old->s.unit);
		return -ESRCH;
	}
	rp->old_name = old->name;
	rp->old_id = leader;
	for (size_t i = 0; i < n; i++) {
		if (i != oi) {
			dr->via.endpoints[dr->via.n_endpoints++] = dr->eps[i];
		}
	}
	/* Progress goes to stderr under -w json: stdout stays one object. */
	if (dr->bus) {
		snprintf(rp->via, sizeof(rp->via), "unit %s", old->s.unit);
	} else {
		snprintf(rp->via, sizeof(rp->via), "pid %d", (int)pid);
	}
	fprintf(r->output == AGENT_OUTPUT_JSON ? stderr : stdout,
		"drill failover --mode %s: leader %s (%" PRIx64 ", %s)\n",
		rp->mode, old->name, leader, rp->via);
	fflush(stdout);
	/* 2. Writes flow before the fault. */
	deadline = timeutil_mono_ms() + 500;
	while (timeutil_mono_ms() < deadline) {
		put_next(dr);
		sleep_ms(d->write_interval_ms);
	}
	/* 3. The fault. */
	t0 = timeutil_mono_ms();
	if (fault(dr, old, pid) < 0) {
		return -EIO;
	}
	deadline = t0 + d->leader_timeout_ms;
	while ((!got_leader || !got_write) &&
	       (now = timeutil_mono_ms()) < deadline) {
		if (!got_write && put_next(dr)) {
			got_write = true;
			rp->t_write_ms = (int64_t)(dr->last_ack_ms - t0);
		}
		for (size_t i = 0; !got_leader && i < n; i++) {
			if (i != oi && status_of(dr, i, &id, &l) == 0 &&
			    l != 0 && l != leader) {
				got_leader = true;
				rp->new_id = l;
				rp->t_leader_ms =
				    (int64_t)(timeutil_mono_ms() - t0);
			}
		}
		sleep_ms(d->write_interval_ms);
	}
	rp->new_name = name_of(dr, ids, rp->new_id);
	/* 4. The old leader comes back. */
	if (d->mode == MANIFEST_DRILL_PAUSE) {
		now = timeutil_mono_ms();
		if (now < t0 + d->pause_ms) {
			sleep_ms(t0 + d->pause_ms - now);
		}
	}
	if (recover(dr, old, pid) < 0) {
		return -EIO;
	}
	/*
	 * A paused leader wakes up still believing it leads: wait until it
	 * has heard of the new leader, or the stable check would count its
	 * stale belief as a move.
	 */
	deadline = timeutil_mono_ms() + r->start_ms;
	while (timeutil_mono_ms() < deadline) {
		put_next(dr);
		if (status_of(dr, oi, &id, &l) == 0 && l != 0 &&
		    (!got_leader || l == rp->new_id)) {
			break;
		}
		sleep_ms(100);
	}
	/* 5. The leader stays put; the old one follows it. */
	rp->stable = got_leader;
	rp->stable_ms = d->stable_time_ms;
	deadline = timeutil_mono_ms() + d->stable_time_ms;
	while (timeutil_mono_ms() < deadline) {
		put_next(dr);
		for (size_t i = 0; i < n; i++) {
			if (status_of(dr, i, &id, &l) == 0 && l != 0 &&
			    l != rp->new_id) {
				rp->stable = false;
			}
		}
		sleep_ms(d->write_interval_ms > 100 ? d->write_interval_ms
						    : 100);
	}
	rp->rejoined = status_of(dr, oi, &id, &l) == 0 && l == rp->new_id &&
		       id != l && got_leader;
	/* 6. Every acknowledged write on every member (followers may lag). */
	rp->acked = dr->n_acked;
	rp->lost = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t miss = missing_on(dr, i);

		for (int k = 0; miss > 0 && k < 30; k++) {
			sleep_ms(100);
			miss = missing_on(dr, i);
		}
		rp->lost += miss;
	}
	rp->f2l = first_to_last(dr);
	rp->pass = got_leader && got_write && rp->lost == 0 && rp->rejoined &&
		   rp->stable && rp->f2l;
	return 0;
}

int agent_drill_failover(const struct agent_run *r,
			 const struct manifest_drill *d)
{
	struct drill dr;
	struct report rp;
	size_t n = r->m->n_members;
	int rc = 0;

	memset(&dr, 0, sizeof(dr));
	memset(&rp, 0, sizeof(rp));
	rp.mode = manifest_drill_mode_name(d->mode);
	rp.old_name = rp.new_name = "?";
	rp.t_leader_ms = rp.t_write_ms = -1;
	dr.r = r;
	dr.d = d;
	dr.one.dial_timeout_ms = PROBE_TIMEOUT_MS;
	dr.one.command_timeout_ms = PROBE_TIMEOUT_MS;
	dr.via = dr.one;
	dr.via.command_timeout_ms = WRITE_TIMEOUT_MS;
	snprintf(dr.prefix, sizeof(dr.prefix), "%s/%" PRIu64 "/",
		 d->key_prefix && d->key_prefix[0] ? d->key_prefix : "drill",
		 timeutil_wall_ns() / 1000000);
	dr.eps = mem_calloc(n + 1, sizeof(char *));
	dr.via.endpoints = mem_calloc(n + 1, sizeof(char *));
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct manifest_member *mb = &r->m->members[i];
		char url[160];

		if (!dr.eps || !dr.via.endpoints ||
		    manifest_url(mb->s.client_scheme, mb->address,
				 mb->s.client_port, url, sizeof(url)) < 0 ||
		    !(dr.eps[i] = mem_strdup(url))) {
			rc = -ENOMEM;
		}
	}
	if (rc == 0) {
		rc = run(&dr, &rp);
	}
	if (rc == 0) {
		print_report(&dr, &rp);
	} else if (rc == -ENOMEM) {
		fprintf(stderr, PROG " drill: out of memory\n");
	}
	for (size_t i = 0; dr.eps && i < n; i++) {
		mem_free(dr.eps[i]);
	}
	mem_free(dr.eps);
	mem_free(dr.via.endpoints); /* borrowed strings */
	mem_free(dr.acked);
	agent_sd_close(dr.bus);
	return rc == 0 && rp.pass ? 0 : 1;
}
