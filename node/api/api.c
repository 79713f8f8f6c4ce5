/*
 * api.c - the client port (api.h): binds the listen-client-urls, wires the
 * HTTP/1.1 server and the gRPC server behind one sniffing listener, and
 * serves etcd's /health, /version and /metrics.  The etcd methods
 * themselves are in services.c.
 *
 * Invariants:
 *  1. Once api_serve() returns 0 every listen-client-url is bound; on
 *     failure nothing stays bound and *errmsg names the URL and the fix.
 *  2. Teardown order: listener (no new connections), gRPC server (its
 *     calls' on_close cancel their member requests), HTTP/1.1 server
 *     (close callbacks cancel theirs), then the tables the handlers use.
 *  3. Metric values that the member exposes through member_info() are
 *     read at render time; the process ones come from /proc.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/api.h"
#include "api/api_int.h"
#include "api/errmap.h"
#include "api/http1.h"
#include "api/listener.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/metrics.h"
#include "base/version.h"
#include "proto/proto.h"
#include "server/config.h"
#include "sys/loop.h"

/* etcd compat: the HTTP/1.1 and gRPC receive limit is max-request-bytes plus
 * 512 KiB. */
#define API_RECV_SLACK (512u << 10)

/* --- /version --- */

static void handle_version(struct http1_req *req, void *ctx)
{
	const char *v = version_etcd();
	const char *dot = strchr(v, '.');
	const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
	int minor_len = dot2 ? (int)(dot2 - v) : (int)strlen(v);
	struct buf b = BUF_INIT;

	(void)ctx;
	/* etcd compat: etcdcluster is major.minor.0 of the cluster version. */
	if (buf_printf(&b,
		       "{\"etcdserver\":\"%s\",\"etcdcluster\":\"%.*s.0\","
		       "\"cetcd\":\"%s\"}",
		       v, minor_len, v, version_cetcd()) < 0) {
		http1_reply_error(req, -ENOMEM);
		return;
	}
	http1_reply(req, 200, "application/json", b.data, b.len);
	buf_done(&b);
}

/* --- /health --- */

static bool query_has(const char *q, const char *key, const char *value)
{
	size_t kl = strlen(key), vl = strlen(value);

	while (*q) {
		const char *end = strchr(q, '&');
		size_t n = end ? (size_t)(end - q) : strlen(q);

		if (n == kl + 1 + vl && strncmp(q, key, kl) == 0 &&
		    q[kl] == '=' && strncmp(q + kl + 1, value, vl) == 0) {
			return true;
		}
		q += n;
		if (*q == '&') {
			q++;
		}
	}
	return false;
}

/* A query component "key" or "key=..." is present. */
static bool query_has_key(const char *q, const char *key)
{
	size_t kl = strlen(key);

	while (*q) {
		const char *end = strchr(q, '&');
		size_t n = end ? (size_t)(end - q) : strlen(q);

		if (n >= kl && strncmp(q, key, kl) == 0 &&
		    (n == kl || q[kl] == '=')) {
			return true;
		}
		q += n;
		if (*q == '&') {
			q++;
		}
	}
	return false;
}

static void health_reply(struct api *a, struct http1_req *req,
			 const char *reason)
{
	struct buf b = BUF_INIT;
	int r;

	if (!reason) {
		/* etcd compat: 3.5's body; Go sniffs it as text/plain. */
		r = buf_append_str(&b, "{\"health\":\"true\",\"reason\":\"\"}");
	} else {
		/* etcd compat: http.Error adds a newline and nosniff. */
		r = buf_append_str(&b, "{\"health\":\"false\",\"reason\":");
		if (r >= 0) {
			r = errmap_json_quote(&b, reason);
		}
		if (r >= 0) {
			r = buf_append_str(&b, "}\n");
		}
		if (r >= 0) {
			r = http1_req_add_header(req, "X-Content-Type-Options",
						 "nosniff");
		}
	}
	if (r < 0) {
		buf_done(&b);
		http1_reply_error(req, -ENOMEM);
		return;
	}
	if (reason) {
		metrics_counter_inc(a->health_failed);
	} else {
		metrics_counter_inc(a->health_ok);
	}
	http1_reply(req, reason ? 503 : 200, "text/plain; charset=utf-8",
		    b.data, b.len);
	buf_done(&b);
}

static void health_on_close(struct http1_req *req, void *arg)
{
	struct api_call *c = arg;

	services_cancel(c);
	http1_reply(req, 503, NULL, NULL, 0);
	mem_free(c);
}

static void health_range_done(struct api_call *c, int err,
			      const ProtobufCMessage *resp)
{
	struct http1_req *req = c->hreq;
	char reason[300];

	struct api *a = c->api;

	(void)resp;
	mem_free(c);
	if (err < 0) {
		snprintf(reason, sizeof(reason), "RANGE ERROR:%s",
			 errmap_lookup(err)->message);
		health_reply(a, req, reason);
	} else {
		health_reply(a, req, NULL);
	}
}

static void handle_health(struct http1_req *req, void *ctx)
{
	struct api *a = ctx;
	const char *q = http1_req_query(req);
	bool serializable = query_has(q, "serializable", "true");
	Etcdserverpb__RangeRequest rr = ETCDSERVERPB__RANGE_REQUEST__INIT;
	struct member_info info;
	struct api_call *c;
	/* A key no client can have used for anything that matters. */
	static uint8_t key[1] = {0};
	int r;

	member_info(a->m, &info);
	/* etcd compat: the checks of 3.5's health.go, in its order. */
	if (info.nospace && !query_has(q, "exclude", "NOSPACE")) {
		health_reply(a, req, "ALARM NOSPACE");
		return;
	}
	if (!serializable && info.leader == 0) {
		health_reply(a, req, "RAFT NO LEADER");
		return;
	}
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		http1_reply_error(req, -ENOMEM);
		return;
	}
	list_init(&c->node);
	c->api = a;
	c->hreq = req;
	c->fn = health_range_done;
	rr.key.data = key;
	rr.key.len = sizeof(key);
	rr.keys_only = true;
	rr.limit = 1;
	rr.serializable = serializable;
	r = services_submit(c, MEMBER_OP_RANGE, &rr.base);
	if (r < 0) {
		char reason[300];

		mem_free(c);
		snprintf(reason, sizeof(reason), "RANGE ERROR:%s",
			 errmap_lookup(r)->message);
		health_reply(a, req, reason);
		return;
	}
	http1_req_on_close(req, health_on_close, c);
}

/* --- /livez and /readyz (etcd 3.5.11+) --- */

enum probe_check {
	PROBE_DATA_CORRUPTION,
	PROBE_SERIALIZABLE_READ,
	PROBE_LINEARIZABLE_READ,
	PROBE_N_,
};

static const char *const probe_names[PROBE_N_] = {
    "data_corruption",
    "serializable_read",
    "linearizable_read",
};

struct probe;
struct probe_check_state {
	struct probe *p;
	struct api_call *c; /* while the read is at the member */
	int err;
	bool run;
};

struct probe {
	struct api *a;
	struct http1_req *req;
	bool verbose;
	int pending;
	struct probe_check_state chk[PROBE_N_];
};

static void probe_finish(struct probe *p)
{
	struct buf b = BUF_INIT;
	bool ok = true;
	int r = 0;

	for (int i = 0; i < PROBE_N_ && r >= 0; i++) {
		if (!p->chk[i].run) {
			continue;
		}
		if (p->chk[i].err < 0) {
			ok = false;
			r = buf_printf(&b, "[-]%s failed: %s\n", probe_names[i],
				       errmap_lookup(p->chk[i].err)->message);
		} else {
			r = buf_printf(&b, "[+]%s ok\n", probe_names[i]);
		}
	}
	if (r >= 0 && ok && !p->verbose) {
		buf_reset(&b);
	}
	if (r >= 0) {
		/* etcd compat: http.Error adds a newline to the failure text.
		 */
		r = buf_append_str(&b, ok ? "ok\n" : "\n");
	}
	if (r >= 0) {
		r = http1_req_add_header(p->req, "X-Content-Type-Options",
					 "nosniff");
	}
	if (r < 0) {
		http1_reply_error(p->req, -ENOMEM);
	} else {
		http1_reply(p->req, ok ? 200 : 503, "text/plain; charset=utf-8",
			    b.data, b.len);
	}
	buf_done(&b);
	mem_free(p);
}

static void probe_read_done(struct api_call *c, int err,
			    const ProtobufCMessage *resp)
{
	struct probe_check_state *st = c->data;
	struct probe *p = st->p;

	(void)resp;
	mem_free(c);
	st->c = NULL;
	st->err = err;
	if (--p->pending == 0) {
		probe_finish(p);
	}
}

static void probe_on_close(struct http1_req *req, void *arg)
{
	struct probe *p = arg;

	for (int i = 0; i < PROBE_N_; i++) {
		if (p->chk[i].c) {
			services_cancel(p->chk[i].c);
			mem_free(p->chk[i].c);
		}
	}
	http1_reply(req, 503, NULL, NULL, 0);
	mem_free(p);
}

static int probe_start_read(struct probe *p, int i, bool serializable)
{
	Etcdserverpb__RangeRequest rr = ETCDSERVERPB__RANGE_REQUEST__INIT;
	static uint8_t key[1] = {0};
	struct api_call *c = mem_calloc(1, sizeof(*c));
	int r;

	if (!c) {
		return -ENOMEM;
	}
	list_init(&c->node);
	c->api = p->a;
	c->fn = probe_read_done;
	c->data = &p->chk[i];
	rr.key.data = key;
	rr.key.len = sizeof(key);
	rr.keys_only = true;
	rr.limit = 1;
	rr.serializable = serializable;
	r = services_submit(c, MEMBER_OP_RANGE, &rr.base);
	if (r < 0) {
		mem_free(c);
		return r;
	}
	p->chk[i].c = c;
	p->pending++;
	return 0;
}

static void handle_probe(struct http1_req *req, struct api *a, bool readyz)
{
	const char *root = readyz ? "/readyz" : "/livez";
	const char *path = http1_req_path(req);
	const char *q = http1_req_query(req);
	const char *only = NULL;
	struct probe *p;
	int r = 0;

	if (path[strlen(root)] == '/') {
		only = path + strlen(root) + 1;
	}
	p = mem_calloc(1, sizeof(*p));
	if (!p) {
		http1_reply_error(req, -ENOMEM);
		return;
	}
	p->a = a;
	p->req = req;
	p->verbose = query_has_key(q, "verbose");
	for (int i = 0; i < PROBE_N_; i++) {
		p->chk[i].p = p;
		p->chk[i].run = (readyz || i == PROBE_SERIALIZABLE_READ) &&
				(!only || strcmp(only, probe_names[i]) == 0) &&
				!query_has(q, "exclude", probe_names[i]);
	}
	if (only) {
		bool known = false;

		for (int i = 0; i < PROBE_N_; i++) {
			known |= p->chk[i].run;
		}
		if (!known) {
			mem_free(p);
			http1_reply(req, 404, "text/plain; charset=utf-8",
				    "404 page not found\n", 19);
			return;
		}
	}
	/* data_corruption: no CORRUPT alarm exists in cetcd yet. */
	p->pending = 1; /* held until every read is started */
	if (p->chk[PROBE_SERIALIZABLE_READ].run) {
		r = probe_start_read(p, PROBE_SERIALIZABLE_READ, true);
		if (r < 0) {
			p->chk[PROBE_SERIALIZABLE_READ].err = r;
		}
	}
	if (p->chk[PROBE_LINEARIZABLE_READ].run) {
		r = probe_start_read(p, PROBE_LINEARIZABLE_READ, false);
		if (r < 0) {
			p->chk[PROBE_LINEARIZABLE_READ].err = r;
		}
	}
	if (--p->pending == 0) {
		probe_finish(p);
		return;
	}
	http1_req_on_close(req, probe_on_close, p);
}

static void handle_livez(struct http1_req *req, void *ctx)
{
	handle_probe(req, ctx, false);
}

static void handle_readyz(struct http1_req *req, void *ctx)
{
	handle_probe(req, ctx, true);
}

/* --- /metrics --- */

static double m_has_leader(void *arg)
{
	struct member_info i;

	member_info(arg, &i);
	return i.leader != 0;
}

static double m_is_leader(void *arg)
{
	struct member_info i;

	member_info(arg, &i);
	return i.leader != 0 && i.leader == i.id;
}

static double m_is_learner(void *arg)
{
	struct member_info i;

	member_info(arg, &i);
	return i.is_learner;
}

static double m_committed(void *arg)
{
	struct member_info i;

	member_info(arg, &i);
	return (double)i.commit_index;
}

static double m_applied(void *arg)
{
	struct member_info i;

	member_info(arg, &i);
	return (double)i.applied_index;
}

static double m_revision(void *arg)
{
	struct member_info i;

	member_info(arg, &i);
	return (double)i.revision;
}

static double m_rss(void *arg)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");

	(void)arg;
	if (!f) {
		return 0;
	}
	if (fscanf(f, "%lu %lu", &size, &resident) != 2) {
		resident = 0;
	}
	fclose(f);
	return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double m_open_fds(void *arg)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	double n = 0;

	(void)arg;
	if (!d) {
		return 0;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] != '.') {
			n++;
		}
	}
	closedir(d);
	return n - 1; /* not the directory stream's own fd */
}

static double m_max_fds(void *arg)
{
	struct rlimit rl;

	(void)arg;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY) {
		return 0;
	}
	return (double)rl.rlim_cur;
}

static void handle_metrics(struct http1_req *req, void *ctx)
{
	struct api *a = ctx;
	struct buf b = BUF_INIT;

	if (metrics_render(a->metrics, &b) < 0) {
		buf_done(&b);
		http1_reply_error(req, -ENOMEM);
		return;
	}
	http1_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
		    b.data, b.len);
	buf_done(&b);
}

/* Register etcd's names that dashboards and the etcd mixin's alerts use. */
static int metrics_setup(struct api *a)
{
	struct metrics *mx = a->metrics;
	struct metrics_gauge *g_id, *g_ver, *q;
	struct member_info info;
	char lab[96];
	bool ok = true;

	member_info(a->m, &info);
	ok &= !!metrics_gauge_func(
	    mx, "etcd_server_has_leader",
	    "Whether or not a leader exists. 1 is existence, 0 is not.", NULL,
	    m_has_leader, a->m);
	ok &= !!metrics_gauge_func(
	    mx, "etcd_server_is_leader",
	    "Whether or not this member is a leader. 1 if is, 0 otherwise.",
	    NULL, m_is_leader, a->m);
	ok &= !!metrics_gauge_func(
	    mx, "etcd_server_is_learner",
	    "Whether or not this member is a learner. 1 if is, 0 otherwise.",
	    NULL, m_is_learner, a->m);
	a->leader_changes =
	    metrics_counter(mx, "etcd_server_leader_changes_seen_total",
			    "The number of leader changes seen.", NULL);
	ok &= !!a->leader_changes;
	q = metrics_gauge(mx, "etcd_server_quota_backend_bytes",
			  "Current backend storage quota size in bytes.", NULL);
	ok &= !!q;
	/* etcd compat: committed and applied are gauges despite _total. */
	ok &= !!metrics_gauge_func(
	    mx, "etcd_server_proposals_committed_total",
	    "The total number of consensus proposals committed.", NULL,
	    m_committed, a->m);
	ok &= !!metrics_gauge_func(
	    mx, "etcd_server_proposals_applied_total",
	    "The total number of consensus proposals applied.", NULL, m_applied,
	    a->m);
	/* pending, failed, the disk latencies, the db size and the peers'
	 * series are the member's to feed. */
	ok &= member_attach_metrics(a->m, mx) >= 0;
	a->health_ok = metrics_counter(
	    mx, "etcd_server_health_success",
	    "The total number of successful health checks", NULL);
	a->health_failed =
	    metrics_counter(mx, "etcd_server_health_failures",
			    "The total number of failed health checks", NULL);
	ok &= a->health_ok && a->health_failed;
	/* etcd compat: types.ID prints hex without leading zeros. */
	snprintf(lab, sizeof(lab), "server_id=\"%" PRIx64 "\"", info.id);
	g_id = metrics_gauge(mx, "etcd_server_id",
			     "Server or member ID in hexadecimal format. 1 for "
			     "'server_id' label with current ID.",
			     lab);
	snprintf(lab, sizeof(lab), "server_version=\"%s\"", version_etcd());
	g_ver = metrics_gauge(mx, "etcd_server_version",
			      "Which version is running. 1 for "
			      "'server_version' label with current version.",
			      lab);
	ok &= g_id && g_ver;
	ok &= !!metrics_gauge_func(mx, "etcd_debugging_mvcc_current_revision",
				   "The current revision of store.", NULL,
				   m_revision, a->m);
	ok &= !!metrics_gauge_func(mx, "process_resident_memory_bytes",
				   "Resident memory size in bytes.", NULL,
				   m_rss, NULL);
	ok &= !!metrics_gauge_func(mx, "process_open_fds",
				   "Number of open file descriptors.", NULL,
				   m_open_fds, NULL);
	ok &= !!metrics_gauge_func(mx, "process_max_fds",
				   "Maximum number of open file descriptors.",
				   NULL, m_max_fds, NULL);
	if (!ok) {
		return -ENOMEM;
	}
	/* etcd compat: the label carries the information, the value is 1. */
	metrics_gauge_set(g_id, 1);
	metrics_gauge_set(g_ver, 1);
	/* etcd compat: 0 means the default quota, 2 GiB. */
	metrics_gauge_set(q, a->cfg->quota_backend_bytes == 0
				 ? 2147483648.0
				 : (double)a->cfg->quota_backend_bytes);
	return 0;
}

/*
 * etcd counts a leader change each time raft reports a leader (not none)
 * other than the last one it saw, the first election included.  The
 * member does not report changes, so member_info() is sampled: elections
 * take at least an election timeout (1 s by default), far above the
 * sampling period, so changes are not missed in practice.
 */
#define API_LEADER_SAMPLE_MS 100

static void on_leader_sample(struct sys_timer *t, void *arg)
{
	struct api *a = arg;
	struct member_info info;

	(void)t;
	member_info(a->m, &info);
	if (info.leader != 0 && info.leader != a->last_leader) {
		metrics_counter_inc(a->leader_changes);
	}
	a->last_leader = info.leader;
}

/* --- ports --- */

static void on_h2(int fd, const uint8_t *pre, size_t n, void *arg)
{
	struct api *a = arg;

	grpc_server_adopt(a->grpc, fd, pre, n);
}

static char *bind_message(const struct config_url *u, int err)
{
	const char *fix;
	struct buf b = BUF_INIT;

	switch (err) {
	case -EADDRINUSE:
		fix = "another process (perhaps another etcd or cetcd) uses "
		      "this port; "
		      "stop it or choose another port in --listen-client-urls";
		break;
	case -EADDRNOTAVAIL:
		fix = "the address is not on this host; use one of this host's "
		      "addresses, or 0.0.0.0 for all";
		break;
	case -EACCES:
		fix = "ports below 1024 need privileges; choose a port above "
		      "1023";
		break;
	default:
		fix = "check the host and port in --listen-client-urls";
		break;
	}
	if (buf_printf(&b, "listen-client-urls %s: cannot listen: %s; %s",
		       u->url, err_str(err), fix) < 0) {
		return NULL;
	}
	return (char *)buf_steal(&b, NULL);
}

int api_serve(struct sys_loop *loop, struct member *m, const struct config *cfg,
	      struct api **out, char **errmsg)
{
	struct api *a = mem_calloc(1, sizeof(*a));
	struct http1_limits lim;
	struct grpc_server_config gcfg = {0};
	struct event_base *base = sys_loop_base(loop);
	int r;

	if (!a) {
		return -ENOMEM;
	}
	a->loop = loop;
	a->m = m;
	a->cfg = cfg;
	list_init(&a->calls);
	http1_limits_default(&lim);
	if (cfg->max_request_bytes > 0) {
		lim.max_body_bytes =
		    (size_t)cfg->max_request_bytes + API_RECV_SLACK;
	}
	r = http1_server_new(base, &lim, &a->http);
	if (r < 0) {
		goto fail;
	}
	a->metrics = metrics_new();
	if (!a->metrics) {
		r = -ENOMEM;
		goto fail;
	}
	r = services_init(a);
	if (r < 0) {
		goto fail;
	}
	r = metrics_setup(a);
	if (r < 0) {
		goto fail;
	}
	r = sys_timer_new(loop, on_leader_sample, a, &a->leader_timer);
	if (r < 0) {
		goto fail;
	}
	on_leader_sample(a->leader_timer, a);
	r = sys_timer_start(a->leader_timer, API_LEADER_SAMPLE_MS,
			    API_LEADER_SAMPLE_MS);
	if (r < 0) {
		goto fail;
	}
	if ((r = http1_route_add(a->http, "GET", "/health", handle_health, a)) <
		0 ||
	    (r = http1_route_add(a->http, "GET", "/version", handle_version,
				 a)) < 0 ||
	    (r = http1_route_add(a->http, "GET", "/metrics", handle_metrics,
				 a)) < 0 ||
	    (r = http1_route_add(a->http, "GET", "/livez", handle_livez, a)) <
		0 ||
	    (r = http1_route_add(a->http, "GET", "/livez/*", handle_livez, a)) <
		0 ||
	    (r = http1_route_add(a->http, "GET", "/readyz", handle_readyz, a)) <
		0 ||
	    (r = http1_route_add(a->http, "GET", "/readyz/*", handle_readyz,
				 a)) < 0) {
		goto fail;
	}
	gcfg.methods = a->gmethods;
	gcfg.n_methods = a->n_gmethods;
	gcfg.max_recv_msg = lim.max_body_bytes;
	a->grpc = grpc_server_new(base, &gcfg);
	if (!a->grpc) {
		r = -ENOMEM;
		goto fail;
	}
	r = listener_new(base, a->http, &a->lis);
	if (r < 0) {
		goto fail;
	}
	listener_set_h2(a->lis, on_h2, a);
	a->ports = mem_calloc(cfg->listen_client_urls.n + 1, sizeof(*a->ports));
	if (!a->ports) {
		r = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < cfg->listen_client_urls.n; i++) {
		const struct config_url *u = &cfg->listen_client_urls.v[i];
		size_t first = listener_count(a->lis);

		r = listener_add(a->lis, u->host, u->port);
		if (r < 0) {
			if (errmsg) {
				*errmsg = bind_message(u, r);
			}
			goto fail;
		}
		a->ports[i] = listener_port(a->lis, first);
		a->n_ports++;
	}
	*out = a;
	return 0;
fail:
	api_free(a);
	return r;
}

void api_shutdown(struct api *a)
{
	if (!a || a->shut) {
		return;
	}
	a->shut = true;
	listener_free(a->lis);
	a->lis = NULL;
	if (a->grpc) {
		grpc_server_shutdown(a->grpc);
	}
}

void api_free(struct api *a)
{
	if (!a) {
		return;
	}
	a->freeing = true;
	sys_timer_free(a->leader_timer);
	listener_free(a->lis);
	grpc_server_free(a->grpc);
	http1_server_free(a->http);
	while (!list_is_empty(&a->calls)) {
		struct api_call *c =
		    list_entry(list_first(&a->calls), struct api_call, node);

		services_cancel(c);
		mem_free(c);
	}
	services_done(a);
	member_attach_metrics(a->m, NULL);
	metrics_free(a->metrics);
	mem_free(a->ports);
	mem_free(a);
}

int api_port(const struct api *a, size_t i)
{
	if (i >= a->n_ports) {
		return -ENOENT;
	}
	return a->ports[i];
}

struct metrics *api_metrics(struct api *a)
{
	return a->metrics;
}
