/*
 * ctl_health.c - `endpoint health`'s checks against every endpoint at once
 * (agent_probe_all's libcurl multi), so an endpoint that does not answer
 * costs one command timeout, not one per endpoint (etcdctl runs one
 * goroutine per endpoint).
 *
 * Invariants:
 *  1. Every endpoint gets a verdict: healthy, or unhealthy with etcdctl's
 *     error words.
 *  2. The alarm check runs only for endpoints whose Get succeeded, all of
 *     them at once too; took is the Get's time, as etcdctl 3.4 measures.
 */
#include "agent/ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent_probe.h"
#include "base/buf.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

/* Run one path with one body against every endpoint (urls kept in urls). */
static int probe_all(const struct ctl *c, struct agent_probe *p, struct buf *urls,
		     const bool *only, const char *path, const char *body)
{
	size_t n = 0;
	struct agent_probe *run = mem_calloc(c->n_endpoints + 1, sizeof(*run));
	size_t *idx = mem_calloc(c->n_endpoints + 1, sizeof(*idx));
	int r = 0;

	if (run == NULL || idx == NULL) {
		mem_free(run);
		mem_free(idx);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_endpoints; i++) {
		if (only != NULL && !only[i]) {
			continue;
		}
		buf_reset(&urls[i]);
		if (buf_printf(&urls[i], "%s%s", c->endpoints[i], path) < 0) {
			r = -ENOMEM;
			break;
		}
		run[n] = (struct agent_probe){.url = (const char *)urls[i].data, .body = body};
		buf_init(&run[n].out);
		idx[n++] = i;
	}
	if (r == 0 && n > 0) {
		if (c->debug) {
			fprintf(stderr, "cetcdctl: POST %s to %zu endpoint(s) at once: %s\n", path,
				n, body);
		}
		r = agent_probe_all(run, n, c->dial_timeout_ms, c->command_timeout_ms);
	}
	for (size_t k = 0; k < n; k++) {
		agent_probe_done(&p[idx[k]]);
		p[idx[k]] = run[k];
	}
	mem_free(run);
	mem_free(idx);
	return r;
}

int ctl_health_all(const struct ctl *c, struct ctl_health *out)
{
	Etcdserverpb__RangeRequest get = ETCDSERVERPB__RANGE_REQUEST__INIT;
	static char health_key[] = "health";
	size_t n = c->n_endpoints;
	struct agent_probe *p = mem_calloc(n + 1, sizeof(*p));
	struct buf *urls = mem_calloc(n + 1, sizeof(*urls));
	bool *ok = mem_calloc(n + 1, sizeof(*ok));
	struct buf body = BUF_INIT;
	int r = -ENOMEM;

	get.key.data = (uint8_t *)health_key;
	get.key.len = strlen(health_key);
	if (p == NULL || urls == NULL || ok == NULL || pjson_encode(&get.base, &body) < 0) {
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		buf_init(&urls[i]);
		buf_init(&p[i].out);
	}
	/* etcd compat: health is a linearizable Get("health") ... */
	r = probe_all(c, p, urls, NULL, "/v3/kv/range", (const char *)body.data);
	for (size_t i = 0; r == 0 && i < n; i++) {
		ProtobufCMessage *resp = NULL;
		int d = agent_probe_decode(&p[i], &etcdserverpb__range_response__descriptor,
					   &resp, out[i].err, sizeof(out[i].err));

		proto_free(resp);
		/* ... where "permission denied" still proves a working cluster. */
		ok[i] = d == 0 || strstr(out[i].err, "permission denied") != NULL;
		out[i].ok = ok[i];
		out[i].took_ns = p[i].took_ns;
		if (ok[i]) {
			out[i].err[0] = '\0';
		}
	}
	/* 3.5 also counts an active alarm as unhealthy. */
	if (r == 0) {
		r = probe_all(c, p, urls, ok, "/v3/maintenance/alarm", "{}");
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		ProtobufCMessage *resp = NULL;
		char err[CTL_ERRSZ_HEALTH];
		Etcdserverpb__AlarmResponse *a;

		if (!ok[i] || agent_probe_decode(&p[i], &etcdserverpb__alarm_response__descriptor,
						 &resp, err, sizeof(err)) != 0) {
			continue; /* a member without the alarm API is still healthy */
		}
		a = (Etcdserverpb__AlarmResponse *)resp;
		if (a->n_alarms > 0) {
			struct buf b = BUF_INIT;

			buf_append_str(&b, "Active Alarm(s): ");
			for (size_t k = 0; k < a->n_alarms; k++) {
				buf_printf(&b, "%s ",
					   a->alarms[k]->alarm == ETCDSERVERPB__ALARM_TYPE__NOSPACE
					       ? "NOSPACE"
					       : "CORRUPT");
			}
			snprintf(out[i].err, sizeof(out[i].err), "%s", (char *)b.data);
			buf_done(&b);
			out[i].ok = false;
		}
		proto_free(resp);
	}
out:
	for (size_t i = 0; p != NULL && urls != NULL && i < n; i++) {
		agent_probe_done(&p[i]);
		buf_done(&urls[i]);
	}
	mem_free(p);
	mem_free(urls);
	mem_free(ok);
	buf_done(&body);
	return r;
}
