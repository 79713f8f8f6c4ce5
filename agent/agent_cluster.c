/*
 * agent_cluster.c - cetcd-agent status, health and members: etcdctl's
 * endpoint status / endpoint health / member list for every member of the
 * manifest (agent_local.h).
 *
 * The requests and tables are cetcdctl's (ctl_client.c, ctl_table.c), so
 * the output is byte for byte what `etcdctl --endpoints=<every member>`
 * prints.  Members are probed one after the other: on loopback a member
 * that is down refuses at once, and a remote one costs at most the connect
 * timeout.
 *
 * Invariants:
 *  1. Every member is probed; one that cannot be reached is reported on
 *     stderr as etcdctl does and makes the exit status 1, after the table.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_local.h"
#include "agent/ctl.h"
#include "agent/ctl_table.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define ERRSZ 512

/* The member endpoints as cetcdctl's struct ctl wants them. */
static int setup(const struct agent_run *r, struct ctl *c)
{
	memset(c, 0, sizeof(*c));
	c->dial_timeout_ms = r->connect_ms;
	c->command_timeout_ms = r->request_ms;
	c->format = r->output == AGENT_OUTPUT_JSON ? CTL_FMT_JSON : CTL_FMT_TABLE;
	c->endpoints = mem_calloc(r->m->n_members + 1, sizeof(char *));
	if (!c->endpoints) {
		return -1;
	}
	for (size_t i = 0; i < r->m->n_members; i++) {
		const struct manifest_member *mb = &r->m->members[i];
		char url[160];

		if (manifest_url(mb->s.client_scheme, mb->address,
				 mb->s.client_port, url, sizeof(url)) < 0 ||
		    !(c->endpoints[i] = mem_strdup(url))) {
			return -1;
		}
		c->n_endpoints++;
	}
	return 0;
}

static void done(struct ctl *c)
{
	for (size_t i = 0; i < c->n_endpoints; i++) {
		mem_free(c->endpoints[i]);
	}
	mem_free(c->endpoints);
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
	struct ctl c;
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	int status = 0;

	if (setup(r, &c) < 0) {
		done(&c);
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	if (c.format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 10);
	}
	buf_append_byte(&json, '[');
	for (size_t i = 0; i < c.n_endpoints; i++) {
		Etcdserverpb__StatusResponse *s = NULL;
		char err[ERRSZ], id[17], size[32], term[24], idx[24],
		    applied[24];
		struct buf errors = BUF_INIT;
		const char *ep = ctl_endpoint_name(c.endpoints[i]);
		bool leader;

		if (ctl_post(&c, c.endpoints[i], "/v3/maintenance/status", NULL,
			     &etcdserverpb__status_response__descriptor,
			     (ProtobufCMessage **)&s, err, sizeof(err)) < 0) {
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
	buf_done(&json);
	done(&c);
	return status;
}

int agent_cluster_health(const struct agent_run *r)
{
	static const char *const headers[] = {"endpoint", "health", "took",
					      "error"};
	static char health_key[] = "health";
	struct ctl c;
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	bool all_ok = true;

	if (setup(r, &c) < 0) {
		done(&c);
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	if (c.format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 4);
	}
	buf_append_byte(&json, '[');
	for (size_t i = 0; i < c.n_endpoints; i++) {
		/* etcd compat: health is a linearizable Get("health"). */
		Etcdserverpb__RangeRequest get =
		    ETCDSERVERPB__RANGE_REQUEST__INIT;
		ProtobufCMessage *resp = NULL;
		char err[ERRSZ] = "", took[32];
		const char *ep = ctl_endpoint_name(c.endpoints[i]);
		uint64_t start = timeutil_mono_ns();
		bool ok;
		int rc;

		get.key.data = (uint8_t *)health_key;
		get.key.len = strlen(health_key);
		rc = ctl_post(&c, c.endpoints[i], "/v3/kv/range", &get.base,
			      &etcdserverpb__range_response__descriptor, &resp,
			      err, sizeof(err));
		/* "permission denied" still proves a working cluster. */
		ok = rc == 0 || strstr(err, "permission denied") != NULL;
		timeutil_format_duration(timeutil_mono_ns() - start, took,
					 sizeof(took));
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
	buf_done(&json);
	done(&c);
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
	Etcdserverpb__MemberListRequest req =
	    ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
	Etcdserverpb__MemberListResponse *resp = NULL;
	struct ctl c;
	struct ctl_table *t;
	char err[ERRSZ];

	if (setup(r, &c) < 0) {
		done(&c);
		fprintf(stderr, "Error: out of memory\n");
		return 1;
	}
	req.linearizable = true; /* etcd compat: 3.5's client asks for it */
	if (ctl_call(&c, "/v3/cluster/member/list", &req.base,
		     &etcdserverpb__member_list_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err)) < 0) {
		fprintf(stderr, "Error: %s\n", err);
		done(&c);
		return 1;
	}
	done(&c);
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
