/*
 * agent_cluster.c - cetcd-agent status, health, members and clock:
 * etcdctl's endpoint status / endpoint health / member list for every
 * member of the manifest, and a comparison of the members' clocks
 * (agent_local.h).
 *
 * The tables are cetcdctl's (ctl_table.c), so the output is byte for byte
 * what `etcdctl --endpoints=<every member>` prints.  Every member is asked
 * at once (agent_probe.c): a round costs the slowest member's time, and a
 * member that is down costs one connect timeout however many there are.
 *
 * Invariants:
 *  1. Every member is probed; one that cannot be reached is reported on
 *     stderr as etcdctl does and makes the exit status 1, after the table.
 *  2. Rows keep the manifest's order whatever order the answers come in.
 *  3. Clock warnings go to stderr only: stdout stays what etcdctl prints.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent_local.h"
#include "agent/agent_probe.h"
#include "agent/ctl.h"
#include "agent/ctl_table.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define PROG "cetcd-agent"
#define ERRSZ 512
/* clock: rounds of probes, spread over a second (agent_probe.h inv. 2). */
#define CLOCK_ROUNDS 8
#define CLOCK_GAP_MS 130

/* One probe per member, in manifest order: endpoint + path. */
struct round {
	struct agent_probe *p;
	char **eps;  /* "http://addr:port" */
	char **urls; /* eps[i] + path */
	const char **names;
	size_t n;
};

static void round_done(struct round *rd)
{
	for (size_t i = 0; i < rd->n; i++) {
		agent_probe_done(&rd->p[i]);
		mem_free(rd->urls[i]);
		mem_free(rd->eps[i]);
	}
	mem_free(rd->p);
	mem_free(rd->urls);
	mem_free(rd->eps);
	mem_free(rd->names);
	memset(rd, 0, sizeof(*rd));
}

static int round_init(const struct agent_run *r, const char *path,
		      const char *body, struct round *rd)
{
	size_t n = r->m->n_members;

	memset(rd, 0, sizeof(*rd));
	rd->p = mem_calloc(n + 1, sizeof(*rd->p));
	rd->eps = mem_calloc(n + 1, sizeof(char *));
	rd->urls = mem_calloc(n + 1, sizeof(char *));
	rd->names = mem_calloc(n + 1, sizeof(char *));
	if (!rd->p || !rd->eps || !rd->urls || !rd->names) {
		round_done(rd);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct manifest_member *mb = &r->m->members[i];
		struct buf url = BUF_INIT;
		char ep[160];

		rd->n++;
		rd->names[i] = mb->name;
		if (manifest_url(mb->s.client_scheme, mb->address,
				 mb->s.client_port, ep, sizeof(ep)) < 0 ||
		    !(rd->eps[i] = mem_strdup(ep)) ||
		    buf_printf(&url, "%s%s", ep, path) < 0) {
			buf_done(&url);
			round_done(rd);
			return -ENOMEM;
		}
		rd->urls[i] = (char *)buf_steal(&url, NULL);
		rd->p[i].url = rd->urls[i];
		rd->p[i].body = body;
	}
	return 0;
}

static int round_run(const struct agent_run *r, struct round *rd)
{
	return agent_probe_all(rd->p, rd->n, r->connect_ms, r->request_ms);
}

/* Invariant 3: the members' clocks from this round's Date headers. */
static void round_clock_warn(const struct agent_run *r, const struct round *rd)
{
	struct agent_clock *c = mem_calloc(rd->n + 1, sizeof(*c));

	if (!c) {
		return;
	}
	for (size_t i = 0; i < rd->n; i++) {
		if (rd->p[i].rc == 0) {
			agent_clock_add(&c[i], &rd->p[i]);
		}
	}
	agent_clock_warn(c, rd->names, rd->n, r->clock_skew_max_ms);
	mem_free(c);
}

static void print_table(struct ctl_table *t)
{
	struct buf out = BUF_INIT;

	if (ctl_table_render(t, &out) == 0 && out.len) {
		fwrite(out.data, 1, out.len, stdout);
	}
	buf_done(&out);
}

/* A JSON string with the escapes JSON needs. */
static void json_str(struct buf *out, const char *s)
{
	buf_append_byte(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			buf_printf(out, "\\%c", *s);
		} else if ((unsigned char)*s < 0x20) {
			buf_printf(out, "\\u%04x", (unsigned char)*s);
		} else {
			buf_append_byte(out, (uint8_t)*s);
		}
	}
	buf_append_byte(out, '"');
}

int agent_cluster_status(const struct agent_run *r)
{
	static const char *const headers[] = {
	    "endpoint",	  "ID",	       "version",    "db size",
	    "is leader",  "is learner", "raft term", "raft index",
	    "raft applied index", "errors"};
	struct round rd;
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	int status = 0;

	if (round_init(r, "/v3/maintenance/status", "{}", &rd) < 0 ||
	    round_run(r, &rd) < 0) {
		round_done(&rd);
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	if (r->output == AGENT_OUTPUT_TABLE) {
		t = ctl_table_new(headers, 10);
	}
	buf_append_byte(&json, '[');
	for (size_t i = 0; i < rd.n; i++) {
		Etcdserverpb__StatusResponse *s = NULL;
		char err[ERRSZ], id[17], size[32], term[24], idx[24],
		    applied[24];
		struct buf errors = BUF_INIT;
		const char *ep = ctl_endpoint_name(rd.eps[i]);
		bool leader;

		if (agent_probe_decode(&rd.p[i],
				       &etcdserverpb__status_response__descriptor,
				       (ProtobufCMessage **)&s, err,
				       sizeof(err)) < 0) {
			/* etcd compat: etcdctl's words for it (invariant 1). */
			fprintf(stderr,
				"Failed to get the status of endpoint %s "
				"(%s)\n",
				ep, err);
			status = 1;
			continue;
		}
		snprintf(id, sizeof(id), "%" PRIx64,
			 s->header ? s->header->member_id : 0);
		ctl_humanize_bytes((uint64_t)s->dbsize, size, sizeof(size));
		snprintf(term, sizeof(term), "%" PRIu64, s->raftterm);
		snprintf(idx, sizeof(idx), "%" PRIu64, s->raftindex);
		snprintf(applied, sizeof(applied), "%" PRIu64,
			 s->raftappliedindex);
		for (size_t k = 0; k < s->n_errors; k++) {
			buf_printf(&errors, "%s%s", k ? ", " : "", s->errors[k]);
		}
		leader = s->header != NULL && s->leader == s->header->member_id;
		if (t) {
			const char *row[] = {
			    ep,	     id,   s->version, size,
			    leader ? "true" : "false",
			    s->islearner ? "true" : "false",
			    term,    idx,  applied,
			    errors.data ? (char *)errors.data : ""};

			ctl_table_add_row(t, row);
		} else {
			/* etcd compat: etcdctl's epStatus{Endpoint, Status}. */
			buf_printf(&json, "%s{\"Endpoint\":",
				   json.len > 1 ? "," : "");
			json_str(&json, ep);
			buf_append_str(&json, ",\"Status\":");
			pjson_encode_flags(&s->base, &json, PJSON_GO_NUMBERS);
			buf_append_byte(&json, '}');
		}
		buf_done(&errors);
		proto_free(&s->base);
	}
	if (t) {
		print_table(t);
		ctl_table_free(t);
	} else {
		printf("%s]\n", json.data ? (char *)json.data : "[");
	}
	fflush(stdout);
	round_clock_warn(r, &rd);
	buf_done(&json);
	round_done(&rd);
	return status;
}

int agent_cluster_health(const struct agent_run *r)
{
	static const char *const headers[] = {"endpoint", "health", "took",
					      "error"};
	/* etcd compat: health is a linearizable Get("health"). */
	static const char body[] = "{\"key\":\"aGVhbHRo\"}";
	struct round rd;
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	bool all_ok = true;

	if (round_init(r, "/v3/kv/range", body, &rd) < 0 ||
	    round_run(r, &rd) < 0) {
		round_done(&rd);
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	if (r->output == AGENT_OUTPUT_TABLE) {
		t = ctl_table_new(headers, 4);
	}
	buf_append_byte(&json, '[');
	for (size_t i = 0; i < rd.n; i++) {
		ProtobufCMessage *resp = NULL;
		char err[ERRSZ] = "", took[32];
		const char *ep = ctl_endpoint_name(rd.eps[i]);
		int rc;
		bool ok;

		rc = agent_probe_decode(&rd.p[i],
					&etcdserverpb__range_response__descriptor,
					&resp, err, sizeof(err));
		/* "permission denied" still proves a working cluster. */
		ok = rc == 0 || strstr(err, "permission denied") != NULL;
		timeutil_format_duration(rd.p[i].took_ns, took, sizeof(took));
		proto_free(resp);
		all_ok = all_ok && ok;
		if (t) {
			const char *row[] = {ep, ok ? "true" : "false", took,
					     ok ? "" : err};

			ctl_table_add_row(t, row);
		} else {
			/* etcd compat: etcdctl's epHealth; error when set. */
			buf_printf(&json, "%s{\"endpoint\":",
				   json.len > 1 ? "," : "");
			json_str(&json, ep);
			buf_printf(&json, ",\"health\":%s,\"took\":\"%s\"",
				   ok ? "true" : "false", took);
			if (!ok) {
				buf_append_str(&json, ",\"error\":");
				json_str(&json, err);
			}
			buf_append_byte(&json, '}');
		}
	}
	if (t) {
		print_table(t);
		ctl_table_free(t);
	} else {
		printf("%s]\n", (char *)json.data);
	}
	fflush(stdout);
	round_clock_warn(r, &rd);
	buf_done(&json);
	round_done(&rd);
	if (!all_ok) {
		fprintf(stderr, "Error: unhealthy cluster\n");
		return 1;
	}
	return 0;
}

int agent_cluster_members(const struct agent_run *r)
{
	static const char *const headers[] = {"ID",	    "Status",
					      "Name",	    "Peer Addrs",
					      "Client Addrs", "Is Learner"};
	/* etcd compat: 3.5's client asks for a linearizable list. */
	static const char body[] = "{\"linearizable\":true}";
	Etcdserverpb__MemberListResponse *resp = NULL;
	struct round rd;
	struct ctl_table *t;
	char err[ERRSZ] = "context deadline exceeded";
	int rc = -ECONNREFUSED;

	if (round_init(r, "/v3/cluster/member/list", body, &rd) < 0 ||
	    round_run(r, &rd) < 0) {
		round_done(&rd);
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	/*
	 * etcd compat: etcdctl takes the first endpoint that answers, even
	 * with an error; asking all at once only saves the waiting.
	 */
	for (size_t i = 0; i < rd.n; i++) {
		rc = agent_probe_decode(
		    &rd.p[i], &etcdserverpb__member_list_response__descriptor,
		    (ProtobufCMessage **)&resp, err, sizeof(err));
		if (rc != -ETIMEDOUT && rc != -ECONNREFUSED) {
			break;
		}
	}
	round_done(&rd);
	if (rc < 0) {
		fprintf(stderr, "Error: %s\n", err);
		return 1;
	}
	if (r->output == AGENT_OUTPUT_JSON) {
		struct buf out = BUF_INIT;

		if (pjson_encode_flags(&resp->base, &out, PJSON_GO_NUMBERS) ==
		    0) {
			fwrite(out.data, 1, out.len, stdout);
			putchar('\n');
		}
		buf_done(&out);
		proto_free(&resp->base);
		return 0;
	}
	t = ctl_table_new(headers, 6);
	for (size_t i = 0; t && i < resp->n_members; i++) {
		const Etcdserverpb__Member *m = resp->members[i];
		struct buf peers = BUF_INIT, clients = BUF_INIT;
		char id[17];

		snprintf(id, sizeof(id), "%" PRIx64, m->id);
		for (size_t k = 0; k < m->n_peerurls; k++) {
			buf_printf(&peers, "%s%s", k ? "," : "", m->peerurls[k]);
		}
		for (size_t k = 0; k < m->n_clienturls; k++) {
			buf_printf(&clients, "%s%s", k ? "," : "",
				   m->clienturls[k]);
		}
		const char *row[] = {
		    id,
		    m->name[0] ? "started" : "unstarted",
		    m->name,
		    peers.data ? (char *)peers.data : "",
		    clients.data ? (char *)clients.data : "",
		    m->islearner ? "true" : "false"};
		ctl_table_add_row(t, row);
		buf_done(&peers);
		buf_done(&clients);
	}
	if (t) {
		print_table(t);
		ctl_table_free(t);
	}
	proto_free(&resp->base);
	return 0;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* "+1.234 s" with the sign always shown. */
static void fmt_secs(int64_t ns, char *out, size_t size)
{
	snprintf(out, size, "%+.3f s", (double)ns / 1e9);
}

int agent_cluster_clock(const struct agent_run *r)
{
	static const char *const headers[] = {"endpoint", "name", "offset",
					      "uncertainty", "error"};
	struct round rd;
	struct agent_clock *c;
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	size_t wi = 0, wj = 0;
	int64_t sure = 0, est = 0;
	bool spread, bad, unreached = false;

	if (round_init(r, "/version", NULL, &rd) < 0) {
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	c = mem_calloc(rd.n + 1, sizeof(*c));
	for (int k = 0; c && k < CLOCK_ROUNDS; k++) {
		if (k > 0) {
			sleep_ms(CLOCK_GAP_MS);
		}
		if (round_run(r, &rd) < 0) {
			break;
		}
		for (size_t i = 0; i < rd.n; i++) {
			agent_clock_add(&c[i], &rd.p[i]);
		}
		/* A member that cannot be reached is not asked again. */
		for (size_t i = 0; k == 0 && i < rd.n; i++) {
			unreached = unreached || rd.p[i].rc < 0;
		}
		if (k == 0 && unreached) {
			break;
		}
	}
	if (!c) {
		round_done(&rd);
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	spread = agent_clock_spread(c, rd.n, &wi, &wj, &sure, &est);
	bad = spread && sure > (int64_t)r->clock_skew_max_ms * 1000000;
	if (r->output == AGENT_OUTPUT_TABLE) {
		t = ctl_table_new(headers, 5);
	}
	buf_append_str(&json, "{\"members\":[");
	for (size_t i = 0; i < rd.n; i++) {
		const char *ep = ctl_endpoint_name(rd.eps[i]);
		char off[32] = "", unc[32] = "", err[ERRSZ] = "";

		if (rd.p[i].rc < 0) {
			snprintf(err, sizeof(err), "%s", rd.p[i].err);
		} else if (!c[i].known) {
			snprintf(err, sizeof(err), "no Date header");
		} else {
			fmt_secs(agent_clock_mid(&c[i]), off, sizeof(off));
			snprintf(unc, sizeof(unc), "%.3f s",
				 (double)(c[i].hi_ns - c[i].lo_ns) / 2e9);
		}
		if (t) {
			const char *row[] = {ep, rd.names[i], off, unc, err};

			ctl_table_add_row(t, row);
			continue;
		}
		buf_printf(&json, "%s{\"endpoint\":", i ? "," : "");
		json_str(&json, ep);
		buf_append_str(&json, ",\"name\":");
		json_str(&json, rd.names[i]);
		if (c[i].known && rd.p[i].rc == 0) {
			buf_printf(&json,
				   ",\"offset_ms\":%.1f,\"uncertainty_ms\":%.1f",
				   (double)agent_clock_mid(&c[i]) / 1e6,
				   (double)(c[i].hi_ns - c[i].lo_ns) / 2e6);
		} else {
			buf_append_str(&json, ",\"error\":");
			json_str(&json, err);
		}
		buf_append_byte(&json, '}');
	}
	if (t) {
		print_table(t);
		ctl_table_free(t);
		if (spread) {
			printf("largest difference: %s ahead of %s by %.3f s "
			       "(at least %.3f s; allowed %.3f s): %s\n",
			       rd.names[wj], rd.names[wi], (double)est / 1e9,
			       (double)sure / 1e9,
			       (double)r->clock_skew_max_ms / 1000,
			       bad ? "TOO FAR APART" : "ok");
		}
	} else {
		buf_printf(&json, "],\"max_skew_ms\":%" PRIu64,
			   r->clock_skew_max_ms);
		if (spread) {
			buf_append_str(&json, ",\"ahead\":");
			json_str(&json, rd.names[wj]);
			buf_append_str(&json, ",\"behind\":");
			json_str(&json, rd.names[wi]);
			buf_printf(&json,
				   ",\"difference_ms\":%.1f,"
				   "\"difference_at_least_ms\":%.1f",
				   (double)est / 1e6, (double)sure / 1e6);
		}
		buf_printf(&json, ",\"ok\":%s}", bad || unreached ? "false"
								  : "true");
		printf("%s\n", (char *)json.data);
	}
	fflush(stdout);
	if (bad) {
		agent_clock_warn(c, rd.names, rd.n, r->clock_skew_max_ms);
	}
	for (size_t i = 0; i < rd.n; i++) {
		if (rd.p[i].rc < 0) {
			fprintf(stderr, "Failed to read the clock of endpoint "
					"%s (%s)\n",
				ctl_endpoint_name(rd.eps[i]), rd.p[i].err);
		}
	}
	mem_free(c);
	buf_done(&json);
	round_done(&rd);
	return bad || unreached ? 1 : 0;
}
