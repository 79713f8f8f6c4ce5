/*
 * agent_probe.c - parallel requests to members and their clocks
 * (agent_probe.h).
 *
 * One easy handle per probe, all in one multi handle; curl_multi_poll()
 * waits for any of them.  The Date header is caught in the header
 * callback, so its receive time is when the headers arrived, not when the
 * whole body did.
 *
 * Invariants: those of agent_probe.h.
 */
#include "agent/agent_probe.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "proto/pjson.h"
#include "proto/proto.h"

#define NS_PER_S 1000000000LL

void agent_probe_reset(struct agent_probe *p)
{
	buf_done(&p->out);
	p->rc = 0;
	p->http_status = 0;
	p->err[0] = '\0';
	p->took_ns = 0;
	p->has_date = false;
	p->date_s = 0;
	p->sent_ns = p->recv_ns = 0;
}

void agent_probe_done(struct agent_probe *p)
{
	buf_done(&p->out);
}

static size_t on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct agent_probe *p = arg;

	return buf_append(&p->out, ptr, size * n) < 0 ? 0 : size * n;
}

static size_t on_header(char *ptr, size_t size, size_t n, void *arg)
{
	struct agent_probe *p = arg;
	size_t len = size * n;
	char line[128];
	time_t t;

	if (len > 5 && len < sizeof(line) && strncasecmp(ptr, "Date:", 5) == 0) {
		memcpy(line, ptr + 5, len - 5);
		line[len - 5] = '\0';
		t = curl_getdate(line, NULL);
		if (t != (time_t)-1) {
			p->has_date = true;
			p->date_s = (int64_t)t;
			p->recv_ns = (int64_t)timeutil_wall_ns();
		}
	}
	return len;
}

static CURL *easy_for(struct agent_probe *p, uint64_t connect_ms,
		      uint64_t timeout_ms, struct curl_slist *json_hdr)
{
	CURL *h = curl_easy_init();

	if (!h) {
		return NULL;
	}
	curl_easy_setopt(h, CURLOPT_URL, p->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, p);
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(h, CURLOPT_PRIVATE, p);
	if (p->body) {
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, json_hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
	}
	return h;
}

static void unreachable(struct agent_probe *p, int rc)
{
	p->rc = rc;
	/* etcd compat: etcdctl reports an unreachable member this way. */
	snprintf(p->err, sizeof(p->err), "%s",
		 rc == -ENOMEM ? "out of memory" : "context deadline exceeded");
}

int agent_probe_all(struct agent_probe *p, size_t n, uint64_t connect_ms,
		    uint64_t timeout_ms)
{
	struct curl_slist *hdr =
	    curl_slist_append(NULL, "Content-Type: application/json");
	CURLM *multi = curl_multi_init();
	CURL **easy = mem_calloc(n + 1, sizeof(CURL *));
	uint64_t t0 = timeutil_mono_ns();
	int64_t w0 = (int64_t)timeutil_wall_ns();
	int running = 0, rc = 0;

	for (size_t i = 0; i < n; i++) {
		agent_probe_reset(&p[i]);
		p[i].sent_ns = w0;
	}
	if (!hdr || !multi || !easy) {
		rc = -ENOMEM;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		easy[i] = easy_for(&p[i], connect_ms, timeout_ms, hdr);
		if (!easy[i] || curl_multi_add_handle(multi, easy[i]) != CURLM_OK) {
			rc = -ENOMEM;
		}
	}
	if (rc < 0) {
		for (size_t i = 0; i < n; i++) {
			unreachable(&p[i], -ENOMEM);
		}
	}
	while (rc == 0) {
		CURLMsg *msg;
		int left;

		if (curl_multi_perform(multi, &running) != CURLM_OK) {
			break;
		}
		while ((msg = curl_multi_info_read(multi, &left))) {
			struct agent_probe *q = NULL;

			if (msg->msg != CURLMSG_DONE) {
				continue;
			}
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&q);
			q->took_ns = timeutil_mono_ns() - t0;
			if (!q->has_date) {
				q->recv_ns = (int64_t)timeutil_wall_ns();
			}
			if (msg->data.result == CURLE_OK) {
				curl_easy_getinfo(msg->easy_handle,
						  CURLINFO_RESPONSE_CODE,
						  &q->http_status);
			} else {
				unreachable(q, msg->data.result ==
						       CURLE_OPERATION_TIMEDOUT
						   ? -ETIMEDOUT
						   : -ECONNREFUSED);
			}
		}
		if (running == 0) {
			break;
		}
		curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; easy && i < n; i++) {
		if (easy[i]) {
			curl_multi_remove_handle(multi, easy[i]);
			curl_easy_cleanup(easy[i]);
		}
	}
	mem_free(easy);
	curl_multi_cleanup(multi);
	curl_slist_free_all(hdr);
	return rc;
}

int agent_probe_decode(const struct agent_probe *p,
		       const ProtobufCMessageDescriptor *rdesc,
		       ProtobufCMessage **resp, char *err, size_t err_size)
{
	const char *body = p->out.data ? (const char *)p->out.data : "";

	if (p->rc < 0) {
		snprintf(err, err_size, "%s", p->err);
		return p->rc;
	}
	if (p->http_status != 200) {
		/* The gateway's error body: {"error":..,"message":..}. */
		json_object *o = json_tokener_parse(body);
		json_object *m;

		if (o && json_object_object_get_ex(o, "message", &m) &&
		    json_object_is_type(m, json_type_string)) {
			snprintf(err, err_size, "%s", json_object_get_string(m));
		} else {
			snprintf(err, err_size,
				 "unexpected HTTP status %ld from the member",
				 p->http_status);
		}
		json_object_put(o);
		return -EPROTO;
	}
	if (pjson_decode(rdesc, p->out.len ? body : "{}",
			 p->out.len ? p->out.len : 2, resp, err,
			 err_size) < 0) {
		return -ERR_PARSE;
	}
	return 0;
}

void agent_clock_add(struct agent_clock *c, const struct agent_probe *p)
{
	int64_t lo, hi;

	if (!p->has_date) {
		return;
	}
	/* Invariant 2: sent <= t_member <= recv, date <= t + off < date+1. */
	lo = p->date_s * NS_PER_S - p->recv_ns;
	hi = (p->date_s + 1) * NS_PER_S - p->sent_ns;
	if (!c->known) {
		c->known = true;
		c->lo_ns = lo;
		c->hi_ns = hi;
		return;
	}
	if (lo > c->lo_ns) {
		c->lo_ns = lo;
	}
	if (hi < c->hi_ns) {
		c->hi_ns = hi;
	}
	/* Disjoint intervals: the member's clock jumped; keep the newest. */
	if (c->lo_ns > c->hi_ns) {
		c->lo_ns = lo;
		c->hi_ns = hi;
	}
}

int64_t agent_clock_mid(const struct agent_clock *c)
{
	return c->lo_ns + (c->hi_ns - c->lo_ns) / 2;
}

bool agent_clock_spread(const struct agent_clock *c, size_t n, size_t *wi,
			size_t *wj, int64_t *min_ns, int64_t *est_ns)
{
	bool found = false;
	int64_t best = 0, best_est = 0;

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			int64_t sure, est;

			if (i == j || !c[i].known || !c[j].known) {
				continue;
			}
			/* j ahead of i by at least c[j].lo - c[i].hi. */
			sure = c[j].lo_ns - c[i].hi_ns;
			est = agent_clock_mid(&c[j]) - agent_clock_mid(&c[i]);
			if (sure < 0) {
				sure = 0;
			}
			if (!found || sure > best ||
			    (sure == best && est > best_est)) {
				found = true;
				best = sure;
				best_est = est;
				*wi = i;
				*wj = j;
			}
		}
	}
	if (found) {
		*min_ns = best;
		*est_ns = best_est;
	}
	return found;
}

bool agent_clock_warn(const struct agent_clock *c, const char *const *names,
		      size_t n, uint64_t max_ms)
{
	size_t i, j;
	int64_t sure, est;

	if (!agent_clock_spread(c, n, &i, &j, &sure, &est) ||
	    sure <= (int64_t)max_ms * 1000000) {
		return false;
	}
	fprintf(stderr,
		"warning: the clock of %s is %.1f s ahead of %s's (at least "
		"%.1f s, more than the allowed %.1f s); sync the members' "
		"clocks (systemd-timesyncd, chrony or ntpdate)\n",
		names[j], (double)est / 1e9, names[i], (double)sure / 1e9,
		(double)max_ms / 1000);
	return true;
}
