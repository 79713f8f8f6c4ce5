/*
 * agent_apply.c - cetcd-agent apply --node NAME after render: the member's
 * user, the host's name, daemon-reload, enable and start the unit over
 * sd-bus, then wait until the member is part of a healthy cluster
 * (agent_local.h).
 *
 * The start does not wait for READY (agent_systemd.h invariant 1): a new
 * cluster's first member is READY only once enough peers run, which may
 * be hosts the operator has not applied yet.  Instead this polls the unit
 * and every member at once and shows one progress line: the unit's state,
 * how many members answer, the leader.  Healthy means what `endpoint
 * health` means: the member answers a linearizable read.
 *
 * Invariants:
 *  1. Nothing but the manifest's unit is started or enabled, and only on
 *     the real root (/): a staged root is render's job.
 *  2. A failure prints the unit's last journal lines and what to check,
 *     and exits 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_local.h"
#include "agent/agent_probe.h"
#include "agent/agent_systemd.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define PROG "cetcd-agent"
#define JOURNAL_LINES 20
#define SYSUSERS_FILE "/etc/sysusers.d/cetcd-agent.conf"

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* What one poll saw. */
struct seen {
	char active[32], sub[32];
	size_t answering;   /* members that answer status */
	uint64_t leader;    /* as the member reports it */
	bool self_up;	    /* the member answers status */
	bool healthy;	    /* ... and a linearizable read */
	char err[256];	    /* the member's health error */
};

/* Probe every member's status and this member's health, at once. */
static void poll_cluster(const struct agent_run *r,
			 const struct manifest_member *mb, struct seen *s)
{
	static const char health[] = "{\"key\":\"aGVhbHRo\"}";
	size_t n = r->m->n_members, self = 0;
	struct agent_probe *p = mem_calloc(n + 2, sizeof(*p));
	char (*urls)[200] = mem_calloc(n + 2, sizeof(*urls));

	s->answering = 0;
	s->leader = 0;
	s->self_up = s->healthy = false;
	snprintf(s->err, sizeof(s->err), "not answering");
	if (!p || !urls) {
		mem_free(p);
		mem_free(urls);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct manifest_member *m = &r->m->members[i];
		char ep[160];

		if (manifest_url(m->s.client_scheme, m->address,
				 m->s.client_port, ep, sizeof(ep)) < 0) {
			ep[0] = '\0';
		}
		snprintf(urls[i], sizeof(urls[i]), "%s/v3/maintenance/status",
			 ep);
		p[i].url = urls[i];
		p[i].body = "{}";
		if (m == mb) {
			self = i;
			snprintf(urls[n], sizeof(urls[n]), "%s/v3/kv/range", ep);
			p[n].url = urls[n];
			p[n].body = health;
		}
	}
	if (agent_probe_all(p, n + 1, r->connect_ms, r->request_ms) == 0) {
		ProtobufCMessage *resp = NULL;

		for (size_t i = 0; i < n; i++) {
			Etcdserverpb__StatusResponse *st = NULL;
			char err[256];

			if (agent_probe_decode(
				&p[i], &etcdserverpb__status_response__descriptor,
				(ProtobufCMessage **)&st, err, sizeof(err)) < 0) {
				continue;
			}
			s->answering++;
			if (i == self) {
				s->self_up = true;
				s->leader = st->leader;
			}
			proto_free(&st->base);
		}
		s->healthy = agent_probe_decode(
				 &p[n], &etcdserverpb__range_response__descriptor,
				 &resp, s->err, sizeof(s->err)) == 0;
		proto_free(resp);
	}
	for (size_t i = 0; i <= n; i++) {
		agent_probe_done(&p[i]);
	}
	mem_free(p);
	mem_free(urls);
}

static void what_to_check(const struct agent_run *r,
			  const struct manifest_member *mb)
{
	size_t quorum = r->m->n_members / 2 + 1;

	fprintf(stderr,
		"What to check:\n"
		"  - systemctl status %s; journalctl -u %s\n"
		"  - the env file %s (cetcd-agent render --node %s --dry-run "
		"shows\n    what the manifest wants there)\n"
		"  - a new cluster needs %zu of its %zu members running: "
		"apply every\n    host (cetcd-agent apply --node NAME on each)\n"
		"  - the peers' addresses are reachable from here on port "
		"%" PRIu64 " and\n    the clocks agree (cetcd-agent clock)\n",
		mb->s.unit, mb->s.unit, mb->s.config_file, mb->name, quorum,
		r->m->n_members, mb->s.peer_port);
}

static int apply_failed(const struct agent_run *r,
			const struct manifest_member *mb, const char *why)
{
	fprintf(stderr, PROG " apply: %s: %s\n", mb->name, why);
	fprintf(stderr, "Last lines of %s's journal:\n", mb->s.unit);
	agent_sd_journal_tail(mb->s.unit, JOURNAL_LINES, stderr);
	what_to_check(r, mb);
	return 1;
}

int agent_apply(const struct agent_run *r, const struct manifest_member *mb,
		bool wait)
{
	struct sd_bus *bus = NULL;
	struct buf why = BUF_INIT;
	struct seen s;
	const char *how = NULL;
	bool tty = isatty(2), created = false;
	char line[512] = "", last[512] = "", msg[600];
	uint64_t t0;
	pid_t pid;
	int rc = 1;

	/* 1. The user the unit runs as. */
	if (strcmp(mb->s.user, "root") != 0 &&
	    agent_sd_ensure_user(mb->s.user, mb->s.data_dir, SYSUSERS_FILE,
				 &created, &why) < 0) {
		fprintf(stderr, PROG " apply: %s\n", (char *)why.data);
		goto out;
	}
	if (created) {
		printf("user %s: created (%s)\n", mb->s.user, SYSUSERS_FILE);
	}
	/* 2. The bus; hostnamed may be missing, systemd may not. */
	if (agent_sd_open(&bus, &why) < 0) {
		fprintf(stderr,
			PROG " apply: %s\n  (on a machine without systemd, "
			     "run the cluster in local mode: " PROG " up)\n",
			(char *)why.data);
		goto out;
	}
	if (mb->s.hostname) {
		if (agent_sd_set_hostname(bus, mb->name, &how, &why) < 0) {
			fprintf(stderr, PROG " apply: %s\n", (char *)why.data);
			goto out;
		}
		printf("hostname: %s (%s)\n", mb->name, how);
	}
	/* 3. Reload, enable, start without waiting for READY. */
	if (agent_sd_reload(bus, &why) < 0 ||
	    agent_sd_enable(bus, mb->s.unit, &why) < 0 ||
	    agent_sd_start(bus, mb->s.unit, &why) < 0) {
		rc = apply_failed(r, mb, (char *)why.data);
		goto out;
	}
	printf("%s: daemon-reload, enabled, start queued\n", mb->s.unit);
	fflush(stdout);
	if (!wait) {
		rc = 0;
		goto out;
	}
	/* 4. Wait for the member to be part of a healthy cluster. */
	t0 = timeutil_mono_ms();
	for (;;) {
		double secs = (double)(timeutil_mono_ms() - t0) / 1000;

		agent_sd_unit_state(bus, mb->s.unit, s.active, sizeof(s.active),
				    s.sub, sizeof(s.sub), &pid);
		poll_cluster(r, mb, &s);
		if (s.healthy && s.leader != 0) {
			break;
		}
		if (strcmp(s.active, "failed") == 0) {
			snprintf(msg, sizeof(msg), "the unit failed (%s/%s)",
				 s.active, s.sub);
			if (tty) {
				fputc('\n', stderr);
			}
			rc = apply_failed(r, mb, msg);
			goto out;
		}
		snprintf(line, sizeof(line),
			 "unit %s/%s, %zu of %zu members answer, %s",
			 s.active, s.sub, s.answering, r->m->n_members,
			 s.self_up ? (s.leader ? "waiting for a healthy read"
					       : "no leader yet")
				   : "member not answering yet");
		if (timeutil_mono_ms() - t0 >= r->start_ms) {
			if (tty) {
				fputc('\n', stderr);
			}
			snprintf(msg, sizeof(msg),
				 "not healthy after %.1f s (%s; last error: "
				 "%s)",
				 secs, line, s.err);
			rc = apply_failed(r, mb, msg);
			goto out;
		}
		if (tty) {
			fprintf(stderr, "\r" PROG " apply: %s: %s (%.1f s)\033[K",
				mb->name, line, secs);
		} else if (strcmp(line, last) != 0) {
			fprintf(stderr, PROG " apply: %s: %s (%.1f s)\n",
				mb->name, line, secs);
			snprintf(last, sizeof(last), "%s", line);
		}
		sleep_ms(250);
	}
	if (tty) {
		fputc('\n', stderr);
	}
	printf("%s: healthy in cluster %s after %.1f s (%zu of %zu members "
	       "answer, leader %" PRIx64 ")\n",
	       mb->name, r->m->cluster_name,
	       (double)(timeutil_mono_ms() - t0) / 1000, s.answering,
	       r->m->n_members, s.leader);
	rc = 0;
out:
	agent_sd_close(bus);
	buf_done(&why);
	return rc;
}
