/*
 * ctl_perf.c - `cetcdctl check perf`: etcdctl's performance check, and our
 * benchmark driver.
 *
 * etcd compat: etcdctl's workload model (check.go): a load (s, m, l, xl)
 * names a put rate limit and a number of clients; for 60 s the clients put
 * keys of the prefix plus 256 bytes (a random varint, then zeros) with
 * 1 KiB zero values, paced by a limiter with a burst of one; then the
 * prefix is deleted and three criteria decide PASS: throughput above 90%
 * of the limit, slowest request at most 0.5 s, standard deviation at most
 * 0.1 s (pkg/report: over the successful requests, population stddev,
 * throughput = successes / time from the start to the last answer).
 *
 * The clients are libcurl easy handles on one multi handle: a client is a
 * slot that holds at most one request at a time, as a Go client goroutine
 * does.  Requests go round-robin over the endpoints.
 *
 * Invariants:
 *  1. At most `clients` requests are in flight.
 *  2. Request i is not sent before start + i / limit (the limiter), and
 *     none is sent after start + duration.
 *  3. Every handle added to the multi handle is removed and freed before
 *     returning, whatever happened.
 *
 * CETCDCTL_CHECK_PERF_DURATION (a Go duration, e.g. "3s") shortens the run
 * for tests; etcdctl has no such knob.
 */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/ctl.h"
#include "agent/ctl_cmd.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define PERF_PREFIX "/etcdctl-check-perf/"
#define PERF_KEY_SIZE 256
#define PERF_VALUE_SIZE 1024

struct perf_load {
	const char *name, *alias;
	unsigned limit;	  /* puts per second */
	unsigned clients; /* concurrent requests */
};

static const struct perf_load loads[] = {
    {"s", "small", 150, 50},
    {"m", "medium", 1000, 200},
    {"l", "large", 8000, 500},
    {"xl", "xLarge", 15000, 1000},
};

struct perf_slot {
	CURL *h;
	struct buf body; /* request JSON */
	struct buf resp; /* answer */
	uint64_t start_ns;
	bool busy;
};

struct perf_err {
	char *msg;
	uint64_t count;
};

struct perf_run {
	struct perf_slot *slots;
	size_t n_slots;
	double *lats; /* seconds, successful requests */
	size_t n_lats, cap_lats;
	struct perf_err *errs;
	size_t n_errs;
	uint64_t seed;
	struct buf key; /* --prefix, then PERF_KEY_SIZE bytes */
	size_t prefix_len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	return buf_append(arg, p, size * n) < 0 ? 0 : size * n;
}

static uint64_t next_rand(struct perf_run *pr)
{
	/* splitmix64: only needs to spread keys, not be unpredictable */
	uint64_t z = (pr->seed += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int append_base64(struct buf *out, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		char q[4];

		if (i + 1 < n) {
			v |= (uint32_t)p[i + 1] << 8;
		}
		if (i + 2 < n) {
			v |= p[i + 2];
		}
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? b64[v & 63] : '=';
		if (buf_append(out, q, 4) < 0) {
			return -ENOMEM;
		}
	}
	return 0;
}

/* etcd compat: the key is the prefix then binary.PutVarint of a random
 * non-negative int63 in a 256-byte zeroed buffer. */
static int perf_body(struct perf_run *pr, const char *value_b64,
		     struct buf *out)
{
	uint8_t *k = pr->key.data + pr->prefix_len;
	uint64_t ux = (next_rand(pr) >> 1)
		      << 1; /* zigzag of a non-negative int64 */
	size_t i = 0;

	memset(k, 0, PERF_KEY_SIZE);
	while (ux >= 0x80) {
		k[i++] = (uint8_t)(ux | 0x80);
		ux >>= 7;
	}
	k[i] = (uint8_t)ux;
	out->len = 0;
	if (buf_append_str(out, "{\"key\":\"") < 0 ||
	    append_base64(out, pr->key.data, pr->key.len) < 0 ||
	    buf_printf(out, "\",\"value\":\"%s\"}", value_b64) < 0) {
		return -ENOMEM;
	}
	return 0;
}

static void add_error(struct perf_run *pr, const char *msg)
{
	struct perf_err *v;

	for (size_t i = 0; i < pr->n_errs; i++) {
		if (strcmp(pr->errs[i].msg, msg) == 0) {
			pr->errs[i].count++;
			return;
		}
	}
	v = mem_realloc(pr->errs, (pr->n_errs + 1) * sizeof(*v));
	if (v == NULL) {
		return;
	}
	pr->errs = v;
	pr->errs[pr->n_errs].msg = mem_strdup(msg);
	if (pr->errs[pr->n_errs].msg != NULL) {
		pr->errs[pr->n_errs++].count = 1;
	}
}

static void add_latency(struct perf_run *pr, double sec)
{
	if (pr->n_lats == pr->cap_lats) {
		size_t cap = pr->cap_lats ? pr->cap_lats * 2 : 4096;
		double *v = mem_realloc(pr->lats, cap * sizeof(double));
		if (v == NULL) {
			return;
		}
		pr->lats = v;
		pr->cap_lats = cap;
	}
	pr->lats[pr->n_lats++] = sec;
}

/* A finished request: its latency, or its error. */
static void finish(struct perf_run *pr, struct perf_slot *s, CURLcode rc)
{
	long status = 0;

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		add_error(pr, rc == CURLE_OPERATION_TIMEDOUT
				  ? "context deadline exceeded"
				  : curl_easy_strerror(rc));
	} else if (status != 200) {
		/* The member's words, as etcdctl reports them: the gateway's
		 * {"error":..,"message":..,"code":N}. */
		json_object *o = NULL, *m;
		char msg[256];
		if (buf_append(&s->resp, "", 1) == 0) {
			o = json_tokener_parse((const char *)s->resp.data);
		}
		if (o != NULL && json_object_object_get_ex(o, "message", &m) &&
		    json_object_is_type(m, json_type_string)) {
			snprintf(msg, sizeof(msg), "%s",
				 json_object_get_string(m));
		} else {
			snprintf(msg, sizeof(msg), "HTTP status %ld", status);
		}
		json_object_put(o);
		add_error(pr, msg);
	} else {
		add_latency(pr,
			    (double)(timeutil_mono_ns() - s->start_ns) / 1e9);
	}
	s->busy = false;
}

static int send_one(const struct ctl *c, CURLM *m, struct perf_run *pr,
		    struct perf_slot *s, const char *url, const char *value_b64)
{
	if (perf_body(pr, value_b64, &s->body) < 0 ||
	    buf_append(&s->body, "", 1) < 0) {
		return -ENOMEM;
	}
	s->resp.len = 0;
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, (char *)s->body.data);
	curl_easy_setopt(s->h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)c->dial_timeout_ms);
	/* etcd compat: the workload's puts carry no deadline of their own; a
	 * minute bounds a lost request. */
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 60000L);
	s->start_ns = timeutil_mono_ns();
	s->busy = true;
	if (curl_multi_add_handle(m, s->h) != CURLM_OK) {
		s->busy = false;
		return -EIO;
	}
	return 0;
}

/* Run the workload; 0, or -ENOMEM / -EIO. */
static int perf_workload(const struct ctl *c, const struct perf_load *load,
			 uint64_t dur_ns, struct perf_run *pr,
			 uint64_t *total_ns)
{
	static const uint8_t zero_value[PERF_VALUE_SIZE];
	struct curl_slist *hdrs =
	    curl_slist_append(NULL, "Content-Type: application/json");
	struct buf value_b64 = BUF_INIT, *urls = NULL;
	CURLM *m = curl_multi_init();
	uint64_t start = timeutil_mono_ns(), next = start, sent = 0;
	size_t in_flight = 0;
	int r = 0;

	pr->slots = mem_calloc(load->clients, sizeof(*pr->slots));
	urls = mem_calloc(c->n_endpoints, sizeof(*urls));
	if (m == NULL || hdrs == NULL || pr->slots == NULL || urls == NULL ||
	    append_base64(&value_b64, zero_value, sizeof(zero_value)) < 0 ||
	    buf_append(&value_b64, "", 1) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->n_endpoints; i++) {
		if (buf_printf(&urls[i], "%s/v3/kv/put", c->endpoints[i]) < 0) {
			r = -ENOMEM;
			goto out;
		}
	}
	pr->n_slots = load->clients;
	for (size_t i = 0; i < pr->n_slots; i++) {
		struct perf_slot *s = &pr->slots[i];
		if ((s->h = curl_easy_init()) == NULL) {
			r = -ENOMEM;
			goto out;
		}
		curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(s->h, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(s->h, CURLOPT_WRITEDATA, &s->resp);
		curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	}
	for (;;) {
		uint64_t now = timeutil_mono_ns();
		bool sending = now - start < dur_ns;
		CURLMsg *msg;
		int running, left;
		long wait_ms = 100;

		/* The limiter: one token per 1/limit s, a burst of one. */
		while (sending && now >= next && in_flight < pr->n_slots) {
			struct perf_slot *s = NULL;
			for (size_t i = 0; i < pr->n_slots && s == NULL; i++) {
				if (!pr->slots[i].busy) {
					s = &pr->slots[i];
				}
			}
			if ((r = send_one(
				 c, m, pr, s,
				 (char *)urls[sent % c->n_endpoints].data,
				 (char *)value_b64.data)) < 0) {
				goto out;
			}
			sent++;
			in_flight++;
			next = (next > now ? next : now) +
			       NSEC_PER_SEC / load->limit;
		}
		if (!sending && in_flight == 0) {
			break;
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct perf_slot *s = NULL;
			if (msg->msg != CURLMSG_DONE) {
				continue;
			}
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  (char **)&s);
			curl_multi_remove_handle(m, msg->easy_handle);
			finish(pr, s, msg->data.result);
			in_flight--;
		}
		now = timeutil_mono_ns();
		if (sending && next > now) {
			wait_ms = (long)((next - now) / NSEC_PER_MSEC);
		} else if (sending && in_flight < pr->n_slots) {
			wait_ms = 0;
		}
		if (wait_ms > 0) {
			curl_multi_poll(m, NULL, 0, (int)wait_ms, NULL);
		}
	}
	*total_ns = timeutil_mono_ns() - start;
out:
	for (size_t i = 0; pr->slots != NULL && i < load->clients; i++) {
		struct perf_slot *s = &pr->slots[i];
		if (s->h != NULL) {
			if (s->busy) {
				curl_multi_remove_handle(m, s->h);
			}
			curl_easy_cleanup(s->h);
		}
		buf_done(&s->body);
		buf_done(&s->resp);
	}
	for (size_t i = 0; urls != NULL && i < c->n_endpoints; i++) {
		buf_done(&urls[i]);
	}
	mem_free(urls);
	buf_done(&value_b64);
	curl_multi_cleanup(m);
	curl_slist_free_all(hdrs);
	return r;
}

/* Whether any key has the prefix, or (del) delete them all. */
static int perf_prefix_range(const struct ctl *c, const char *prefix, bool del,
			     int64_t *rev, bool *has_keys, char *err,
			     size_t size)
{
	size_t n = strlen(prefix), end_len;
	/* The request's key (a copy: protobuf-c's fields are not const), then
	 * its range end. */
	_cleanup_free_ uint8_t *key = mem_alloc(2 * n + 1);
	ProtobufCMessage *resp = NULL;
	int r;

	if (key == NULL) {
		snprintf(err, size, "out of memory");
		return -ENOMEM;
	}
	memcpy(key, prefix, n);
	end_len = ctl_prefix_end(prefix, key + n);
	if (del) {
		Etcdserverpb__DeleteRangeRequest req =
		    ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
		struct ctl longer = *c;
		req.key.data = key;
		req.key.len = n;
		req.range_end.data = key + n;
		req.range_end.len = end_len;
		longer.command_timeout_ms =
		    30000; /* etcd compat: 30 s for the cleanup */
		/* The load may have cost the leader: "no leader" changed
		 * nothing, so the cleanup waits for an election (within those
		 * 30 s). */
		for (uint64_t until = timeutil_mono_ns() + 30 * NSEC_PER_SEC;
		     ;) {
			r = ctl_call(
			    &longer, "/v3/kv/deleterange", &req.base,
			    &etcdserverpb__delete_range_response__descriptor,
			    &resp, err, size);
			if (r == 0 || strstr(err, "no leader") == NULL ||
			    timeutil_mono_ns() > until) {
				break;
			}
			usleep(200 * 1000);
		}
		if (r == 0) {
			Etcdserverpb__DeleteRangeResponse *d =
			    (Etcdserverpb__DeleteRangeResponse *)resp;
			*rev = d->header ? d->header->revision : 0;
		}
	} else {
		Etcdserverpb__RangeRequest req =
		    ETCDSERVERPB__RANGE_REQUEST__INIT;
		req.key.data = key;
		req.key.len = n;
		req.range_end.data = key + n;
		req.range_end.len = end_len;
		req.limit = 1;
		r = ctl_call(c, "/v3/kv/range", &req.base,
			     &etcdserverpb__range_response__descriptor, &resp,
			     err, size);
		if (r == 0) {
			*has_keys =
			    ((Etcdserverpb__RangeResponse *)resp)->n_kvs > 0;
		}
	}
	proto_free(resp);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int perf_after(const struct ctl *c, int64_t rev)
{
	char err[CTL_ERRSZ];

	if (ctl_flag_bool("auto-compact")) {
		Etcdserverpb__CompactionRequest req =
		    ETCDSERVERPB__COMPACTION_REQUEST__INIT;
		ProtobufCMessage *resp = NULL;
		struct ctl longer = *c;
		printf("Compacting with revision %" PRId64 "\n", rev);
		req.revision = rev;
		req.physical = true;
		longer.command_timeout_ms = 30000;
		if (ctl_call(&longer, "/v3/kv/compaction", &req.base,
			     &etcdserverpb__compaction_response__descriptor,
			     &resp, err, sizeof(err)) < 0) {
			return ctl_fail(err);
		}
		proto_free(resp);
		printf("Compacted with revision %" PRId64 "\n", rev);
	}
	for (size_t i = 0; ctl_flag_bool("auto-defrag") && i < c->n_endpoints;
	     i++) {
		ProtobufCMessage *resp = NULL;
		struct ctl longer = *c;
		struct buf q = BUF_INIT;
		ctl_go_quote(&q, (const uint8_t *)ctl_ep_name(c, i),
			     strlen(ctl_ep_name(c, i)));
		printf("Defragmenting %.*s\n", (int)q.len, (char *)q.data);
		longer.command_timeout_ms = 30000;
		if (ctl_post(&longer, c->endpoints[i],
			     "/v3/maintenance/defragment", NULL,
			     &etcdserverpb__defragment_response__descriptor,
			     &resp, err, sizeof(err)) < 0) {
			buf_done(&q);
			return ctl_fail(err);
		}
		proto_free(resp);
		printf("Defragmented %.*s\n", (int)q.len, (char *)q.data);
		buf_done(&q);
	}
	return CTL_EXIT_OK;
}

int ctl_cmd_check_perf(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n)
{
	static const uint8_t zeros[PERF_KEY_SIZE];
	const char *name = ctl_flag("load"),
		   *knob = getenv("CETCDCTL_CHECK_PERF_DURATION"),
		   *prefix = ctl_flag("perf-prefix");
	const struct perf_load *load = NULL;
	struct perf_run pr = {0};
	uint64_t dur_ns = 60 * NSEC_PER_SEC, total_ns = 0;
	double rps, avg = 0, stddev = 0, slowest = 0;
	char err[CTL_ERRSZ];
	bool has_keys = false, ok = true;
	int64_t rev = 0;
	int r;

	(void)cmd;
	(void)args;
	(void)n;
	if (name == NULL) {
		name = "s";
	}
	for (size_t i = 0; i < sizeof(loads) / sizeof(loads[0]); i++) {
		if (strcmp(name, loads[i].name) == 0 ||
		    strcmp(name, loads[i].alias) == 0) {
			load = &loads[i];
		}
	}
	if (load == NULL) {
		return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
				     "unknown load option %s", name);
	}
	if (knob != NULL && *knob != '\0' &&
	    timeutil_parse_duration(knob, &dur_ns) < 0) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "bad CETCDCTL_CHECK_PERF_DURATION %s",
				     knob);
	}
	if (prefix == NULL) {
		prefix = PERF_PREFIX;
	}
	if (perf_prefix_range(c, prefix, false, &rev, &has_keys, err,
			      sizeof(err)) < 0) {
		return ctl_fail(err);
	}
	if (has_keys) {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
				     "prefix \"%s\" has keys. Delete with "
				     "etcdctl del --prefix %s "
				     "first",
				     prefix, prefix);
	}
	pr.prefix_len = strlen(prefix);
	if (buf_append_str(&pr.key, prefix) < 0 ||
	    buf_append(&pr.key, zeros, sizeof(zeros)) < 0) {
		return ctl_fail("out of memory");
	}
	pr.seed = timeutil_mono_ns() ^ (uint64_t)getpid() << 32;
	r = perf_workload(c, load, dur_ns, &pr, &total_ns);
	if (r < 0) {
		r = ctl_fail(r == -ENOMEM ? "out of memory" : "libcurl failed");
		goto out;
	}
	if (perf_prefix_range(c, prefix, true, &rev, &has_keys, err,
			      sizeof(err)) < 0) {
		r = ctl_fail(err);
		goto out;
	}
	if ((r = perf_after(c, rev)) != CTL_EXIT_OK) {
		goto out;
	}
	for (size_t i = 0; i < pr.n_lats; i++) {
		avg += pr.lats[i];
	}
	avg = pr.n_lats ? avg / (double)pr.n_lats : 0;
	for (size_t i = 0; i < pr.n_lats; i++) {
		stddev += (pr.lats[i] - avg) * (pr.lats[i] - avg);
	}
	stddev = pr.n_lats ? sqrt(stddev / (double)pr.n_lats) : 0;
	if (pr.n_lats > 0) {
		qsort(pr.lats, pr.n_lats, sizeof(double), cmp_double);
		slowest = pr.lats[pr.n_lats - 1];
	}
	rps = total_ns ? (double)pr.n_lats / ((double)total_ns / 1e9) : 0;
	if (pr.n_errs != 0) {
		printf("FAIL: too many errors\n");
		for (size_t i = 0; i < pr.n_errs; i++) {
			printf("FAIL: ERROR(%s) -> %" PRIu64 "\n",
			       pr.errs[i].msg, pr.errs[i].count);
		}
		ok = false;
	}
	if (rps / (double)load->limit <= 0.9) {
		printf("FAIL: Throughput too low: %d writes/s\n", (int)rps + 1);
		ok = false;
	} else {
		printf("PASS: Throughput is %d writes/s\n", (int)rps + 1);
	}
	if (slowest > 0.5) {
		printf("Slowest request took too long: %fs\n", slowest);
		ok = false;
	} else {
		printf("PASS: Slowest request took %fs\n", slowest);
	}
	if (stddev > 0.1) {
		printf("Stddev too high: %fs\n", stddev);
		ok = false;
	} else {
		printf("PASS: Stddev is %fs\n", stddev);
	}
	printf("%s\n", ok ? "PASS" : "FAIL");
	r = ok ? CTL_EXIT_OK : CTL_EXIT_ERROR;
out:
	for (size_t i = 0; i < pr.n_errs; i++) {
		mem_free(pr.errs[i].msg);
	}
	mem_free(pr.errs);
	mem_free(pr.lats);
	mem_free(pr.slots);
	buf_done(&pr.key);
	return r;
}
