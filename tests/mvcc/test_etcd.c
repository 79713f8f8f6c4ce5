/*
 * test_etcd.c - one table of KV operations replayed against this store and
 * against etcd 3.4 (Debian's /usr/bin/etcd, started here on a loopback
 * address with its own data directory) through etcd's JSON gateway.  Each
 * result is rendered as one canonical line (revisions, versions, counts,
 * errors included) and the two lines must be equal.  Without etcd the test
 * prints "skipped: etcd not installed".
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "helpers.h"

#define ETCD "/usr/bin/etcd"

/* CAS: if version(key) == num put val else get key; DUP: two puts of key;
 * PUTGET: put key then read [key, end) in one txn. */
enum kind { PUT, GET, DEL, CAS, COMPACT, DUP, PUTGET };

struct step {
	enum kind kind;
	const char *key;
	size_t klen; /* 0: strlen(key), else the key's length (zero bytes) */
	size_t rep;  /* > 0: the key is key[0] repeated rep times */
	const char *end; /* NULL: none; "" means "\0" */
	const char *val;
	int64_t rev, limit;
	int order, target;
	bool prev_kv, keys_only, count_only;
	int64_t num; /* CAS: version compared with */
	int64_t min_mod, max_create;
};

static const struct step table[] = {
    {GET, "a", .end = ""},
    {PUT, "a", .val = "1"},
    {PUT, "b", .val = "2", .prev_kv = true},
    {PUT, "a", .val = "3", .prev_kv = true},
    {PUT, "a\xff", .val = "4"},
    {PUT, "c", .val = "0"},
    {GET, "a", .end = "b"},
    {GET, "a", .end = ""},
    {GET, "\x01", .end = ""},
    {GET, "b", .end = "a"},
    {GET, "a", .end = "", .rev = 3},
    {GET, "a", .end = "", .rev = 99},
    {GET, "a", .end = "", .limit = 2},
    {GET, "a", .end = "", .limit = 2, .order = 2, .target = 4},
    {GET, "a", .end = "", .order = 1, .target = 3},
    {GET, "a", .end = "", .order = 2, .target = 1},
    {GET, "a", .end = "", .order = 2, .target = 2},
    {GET, "a", .end = "", .order = 2},
    {GET, "a", .end = "", .keys_only = true},
    {GET, "a", .end = "", .keys_only = true, .order = 2, .target = 4},
    {GET, "a", .end = "", .count_only = true},
    {GET, "a", .end = "", .min_mod = 4},
    {GET, "a", .end = "", .max_create = 3, .limit = 1},
    {DEL, "zz", .end = NULL},
    {DEL, "a", .end = "b", .prev_kv = true},
    {GET, "a", .end = NULL},
    {PUT, "a", .val = "again"},
    {GET, "a", .end = NULL},
    {CAS, "a", .num = 1, .val = "cas1"},
    {CAS, "a", .num = 1, .val = "cas2"},
    {CAS, "missing", .num = 0, .val = "created"},
    {DUP, "a", .val = "dup"},
    {PUTGET, "a", .end = "", .val = "rw"},
    {PUTGET, "b", .val = "rw2"},
    {PUT, "x\0y", .klen = 3, .val = "zero byte"},
    {GET, "x", .end = "y"},
    {PUT, "L", .rep = 511, .val = "511"},
    {PUT, "L", .rep = 512, .val = "512"},
    {PUT, "L", .rep = 100000, .val = "100000"},
    {GET, "L", .end = "M", .keys_only = true},
    {GET, "L", .rep = 512},
    {DEL, "L", .rep = 512},
    {GET, "L", .end = "M", .count_only = true},
    {COMPACT, .rev = 5},
    {COMPACT, .rev = 4},
    {COMPACT, .rev = 1000},
    {GET, "a", .end = "", .rev = 4},
    {GET, "b", .rev = 5},
    {PUT, "b", .val = "after compact", .prev_kv = true},
    {GET, "\0", .klen = 1, .end = ""},
};

static size_t step_key(const struct step *st, uint8_t **out)
{
	if (st->rep) {
		*out = mem_alloc(st->rep);
		memset(*out, st->key[0], st->rep);
		return st->rep;
	}
	if (!st->key) {
		*out = NULL;
		return 0;
	}
	size_t n = st->klen ? st->klen : strlen(st->key);
	*out = mem_dup(st->key, n);
	return n;
}

static void fmt_bytes(struct buf *b, const uint8_t *p, size_t n)
{
	if (n > 40) {
		buf_printf(b, "<%zu bytes %02x>", n, p[0]);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			buf_append_byte(b, p[i]);
		} else {
			buf_printf(b, "\\x%02x", p[i]);
		}
	}
}

static void fmt_kv(struct buf *b, const struct mvcc_kv *kv)
{
	buf_append_str(b, "{");
	fmt_bytes(b, kv->key, kv->key_len);
	buf_append_str(b, "=");
	fmt_bytes(b, kv->value, kv->value_len);
	buf_printf(b, " c%lld m%lld v%lld l%lld}",
		   (long long)kv->create_revision, (long long)kv->mod_revision,
		   (long long)kv->version, (long long)kv->lease);
}

static const char *err_word(int r)
{
	switch (-r) {
	case ERR_COMPACTED:
		return "compacted";
	case ERR_FUTURE_REV:
		return "future";
	case ERR_DUPLICATE_KEY:
		return "duplicate";
	case ERR_KEY_NOT_FOUND:
		return "notfound";
	default:
		return "other";
	}
}

/* ---- this store ---- */

static void mvcc_step(struct mvcc_store *s, const struct step *st,
		      struct buf *b)
{
	uint8_t *key;
	size_t kl = step_key(st, &key);
	static const uint8_t zero[1] = {0};
	const uint8_t *end =
	    st->end ? (st->end[0] ? (const uint8_t *)st->end : zero) : NULL;
	size_t el = st->end ? (st->end[0] ? strlen(st->end) : 1) : 0;
	int r = 0;
	switch (st->kind) {
	case PUT: {
		struct mvcc_put_req rq = {.key = key,
					  .key_len = kl,
					  .value = (const uint8_t *)st->val,
					  .value_len = strlen(st->val),
					  .prev_kv = st->prev_kv};
		struct mvcc_put_resp rp;
		if ((r = mvcc_put(s, &rq, &rp)) < 0) {
			break;
		}
		buf_printf(b, "rev=%lld prev=", (long long)rp.header_revision);
		if (rp.has_prev_kv) {
			fmt_kv(b, &rp.prev_kv);
		}
		mvcc_put_resp_done(&rp);
		break;
	}
	case GET: {
		struct mvcc_range_req rq = {
		    .key = key,
		    .key_len = kl,
		    .range_end = end,
		    .range_end_len = el,
		    .revision = st->rev,
		    .limit = st->limit,
		    .sort_order = (enum mvcc_sort_order)st->order,
		    .sort_target = (enum mvcc_sort_target)st->target,
		    .keys_only = st->keys_only,
		    .count_only = st->count_only,
		    .min_mod_revision = st->min_mod,
		    .max_create_revision = st->max_create};
		struct mvcc_range_resp rp;
		if ((r = mvcc_range(s, &rq, &rp)) < 0) {
			break;
		}
		buf_printf(b, "rev=%lld count=%lld more=%d kvs=",
			   (long long)rp.header_revision, (long long)rp.count,
			   rp.more);
		for (size_t i = 0; i < rp.n_kvs; i++) {
			fmt_kv(b, &rp.kvs[i]);
		}
		mvcc_range_resp_done(&rp);
		break;
	}
	case DEL: {
		struct mvcc_delete_req rq = {.key = key,
					     .key_len = kl,
					     .range_end = end,
					     .range_end_len = el,
					     .prev_kv = st->prev_kv};
		struct mvcc_delete_resp rp;
		if ((r = mvcc_delete_range(s, &rq, &rp)) < 0) {
			break;
		}
		buf_printf(b, "rev=%lld deleted=%lld prev=",
			   (long long)rp.header_revision,
			   (long long)rp.deleted);
		for (size_t i = 0; i < rp.n_prev_kvs; i++) {
			fmt_kv(b, &rp.prev_kvs[i]);
		}
		mvcc_delete_resp_done(&rp);
		break;
	}
	case CAS: {
		struct mvcc_compare c = {.result = MVCC_CMP_EQUAL,
					 .target = MVCC_TARGET_VERSION,
					 .key = key,
					 .key_len = kl,
					 .number = st->num};
		struct mvcc_op succ = {.type = MVCC_OP_PUT};
		succ.u.put.key = key;
		succ.u.put.key_len = kl;
		succ.u.put.value = (const uint8_t *)st->val;
		succ.u.put.value_len = strlen(st->val);
		struct mvcc_op fail = {.type = MVCC_OP_RANGE};
		fail.u.range.key = key;
		fail.u.range.key_len = kl;
		struct mvcc_txn_req t = {&c, 1, &succ, 1, &fail, 1};
		struct mvcc_txn_resp tr;
		if ((r = mvcc_txn(s, &t, &tr)) < 0) {
			break;
		}
		buf_printf(b, "rev=%lld ok=%d", (long long)tr.header_revision,
			   tr.succeeded);
		if (tr.succeeded) {
			buf_printf(
			    b, " put.rev=%lld",
			    (long long)tr.responses[0].u.put.header_revision);
		} else {
			const struct mvcc_range_resp *rr =
			    &tr.responses[0].u.range;
			buf_printf(b, " range.rev=%lld kvs=",
				   (long long)rr->header_revision);
			for (size_t i = 0; i < rr->n_kvs; i++) {
				fmt_kv(b, &rr->kvs[i]);
			}
		}
		mvcc_txn_resp_done(&tr);
		break;
	}
	case DUP:
	case PUTGET: {
		struct mvcc_op ops[2] = {{.type = MVCC_OP_PUT},
					 {.type = MVCC_OP_PUT}};
		ops[0].u.put.key = key;
		ops[0].u.put.key_len = kl;
		ops[0].u.put.value = (const uint8_t *)st->val;
		ops[0].u.put.value_len = strlen(st->val);
		ops[1].u.put = ops[0].u.put;
		if (st->kind == PUTGET) {
			ops[1].type = MVCC_OP_RANGE;
			ops[1].u.range =
			    (struct mvcc_range_req){.key = key,
						    .key_len = kl,
						    .range_end = end,
						    .range_end_len = el};
		}
		struct mvcc_txn_req t = {NULL, 0, ops, 2, NULL, 0};
		struct mvcc_txn_resp tr;
		if ((r = mvcc_txn(s, &t, &tr)) < 0) {
			break;
		}
		const struct mvcc_range_resp *rr = &tr.responses[1].u.range;
		buf_printf(b, "rev=%lld ok=%d put.rev=%lld range.rev=%lld kvs=",
			   (long long)tr.header_revision, tr.succeeded,
			   (long long)tr.responses[0].u.put.header_revision,
			   (long long)rr->header_revision);
		for (size_t i = 0; i < rr->n_kvs; i++) {
			fmt_kv(b, &rr->kvs[i]);
		}
		mvcc_txn_resp_done(&tr);
		break;
	}
	case COMPACT:
		if ((r = mvcc_compact(s, st->rev)) == 0) {
			bool done = false;
			while (r == 0 && !done) {
				r = mvcc_compact_step(s, 100, &done);
			}
			buf_append_str(b, "compacted");
		}
		break;
	}
	if (r < 0) {
		buf_printf(b, "err=%s", err_word(r));
	}
	mem_free(key);
}

/* ---- etcd through its JSON gateway ---- */

static void b64(struct buf *b, const uint8_t *p, size_t n)
{
	static const char t[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n) {
			v |= (uint32_t)p[i + 1] << 8;
		}
		if (i + 2 < n) {
			v |= p[i + 2];
		}
		buf_append_byte(b, (uint8_t)t[(v >> 18) & 63]);
		buf_append_byte(b, (uint8_t)t[(v >> 12) & 63]);
		buf_append_byte(b, i + 1 < n ? (uint8_t)t[(v >> 6) & 63] : '=');
		buf_append_byte(b, i + 2 < n ? (uint8_t)t[v & 63] : '=');
	}
}

static int unb64(const char *s, uint8_t *out)
{
	int n = 0, bits = 0;
	uint32_t acc = 0;
	for (; *s && *s != '='; s++) {
		const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrst"
				"uvwxyz0123456789+/";
		const char *q = strchr(t, *s);
		if (!q) {
			continue;
		}
		acc = (acc << 6) | (uint32_t)(q - t);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (uint8_t)(acc >> bits);
		}
	}
	return n;
}

static char *post(const char *url, const char *body)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/req.json", testlib_tmpdir());
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(body, f);
	fclose(f);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "curl -s -m 10 -X POST --data-binary @%s %s 2>/dev/null", path,
		 url);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	struct buf out = BUF_INIT;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		buf_append(&out, chunk, n);
	}
	pclose(p);
	size_t len;
	char *r = (char *)buf_steal(&out, &len);
	return r ? r : mem_strdup("");
}

static int64_t jint(json_object *o, const char *name)
{
	json_object *v;
	return o && json_object_object_get_ex(o, name, &v)
		   ? json_object_get_int64(v)
		   : 0;
}

static bool jbool(json_object *o, const char *name)
{
	json_object *v;
	return o && json_object_object_get_ex(o, name, &v) &&
	       json_object_get_boolean(v);
}

static json_object *jget(json_object *o, const char *name)
{
	json_object *v;
	return o && json_object_object_get_ex(o, name, &v) ? v : NULL;
}

static void jfmt_kv(struct buf *b, json_object *kv)
{
	struct mvcc_kv k = {0};
	json_object *key = jget(kv, "key"), *val = jget(kv, "value");
	uint8_t *kb = mem_alloc(200000), *vb = mem_alloc(200000);
	k.key = kb;
	k.value = vb;
	k.key_len = key ? (size_t)unb64(json_object_get_string(key), kb) : 0;
	k.value_len = val ? (size_t)unb64(json_object_get_string(val), vb) : 0;
	k.create_revision = jint(kv, "create_revision");
	k.mod_revision = jint(kv, "mod_revision");
	k.version = jint(kv, "version");
	k.lease = jint(kv, "lease");
	fmt_kv(b, &k);
	mem_free(kb);
	mem_free(vb);
}

static void jfmt_kvs(struct buf *b, json_object *arr)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		jfmt_kv(b, json_object_array_get_idx(arr, i));
	}
}

static void range_body(struct buf *q, const struct step *st, const uint8_t *key,
		       size_t kl)
{
	buf_append_str(q, "{\"key\":\"");
	b64(q, key, kl);
	buf_append_str(q, "\"");
	if (st->end) {
		buf_append_str(q, ",\"range_end\":\"");
		if (st->end[0]) {
			b64(q, (const uint8_t *)st->end, strlen(st->end));
		} else {
			buf_append_str(q, "AA==");
		}
		buf_append_str(q, "\"");
	}
	buf_printf(q,
		   ",\"revision\":%lld,\"limit\":%lld,\"sort_order\":%d,"
		   "\"sort_target\":%d,\"keys_only\":%s,\"count_only\":%s,"
		   "\"min_mod_revision\":%lld,\"max_create_revision\":%lld}",
		   (long long)st->rev, (long long)st->limit, st->order,
		   st->target, st->keys_only ? "true" : "false",
		   st->count_only ? "true" : "false", (long long)st->min_mod,
		   (long long)st->max_create);
}

static void etcd_step(const char *base, const struct step *st, struct buf *b)
{
	uint8_t *key;
	size_t kl = step_key(st, &key);
	struct buf q = BUF_INIT;
	char url[256];
	const char *path = "";
	switch (st->kind) {
	case PUT:
		path = "put";
		buf_append_str(&q, "{\"key\":\"");
		b64(&q, key, kl);
		buf_append_str(&q, "\",\"value\":\"");
		b64(&q, (const uint8_t *)st->val, strlen(st->val));
		buf_printf(&q, "\",\"prev_kv\":%s}",
			   st->prev_kv ? "true" : "false");
		break;
	case GET:
		path = "range";
		range_body(&q, st, key, kl);
		break;
	case DEL:
		path = "deleterange";
		buf_append_str(&q, "{\"key\":\"");
		b64(&q, key, kl);
		buf_append_str(&q, "\"");
		if (st->end) {
			buf_append_str(&q, ",\"range_end\":\"");
			b64(&q, (const uint8_t *)st->end, strlen(st->end));
			buf_append_str(&q, "\"");
		}
		buf_printf(&q, ",\"prev_kv\":%s}",
			   st->prev_kv ? "true" : "false");
		break;
	case CAS:
		path = "txn";
		buf_append_str(&q, "{\"compare\":[{\"result\":\"EQUAL\","
				   "\"target\":\"VERSION\",\"key\":\"");
		b64(&q, key, kl);
		buf_printf(&q, "\",\"version\":%lld}],", (long long)st->num);
		buf_append_str(&q, "\"success\":[{\"request_put\":{\"key\":\"");
		b64(&q, key, kl);
		buf_append_str(&q, "\",\"value\":\"");
		b64(&q, (const uint8_t *)st->val, strlen(st->val));
		buf_append_str(&q, "\"}}],\"failure\":[{\"request_range\":"
				   "{\"key\":\"");
		b64(&q, key, kl);
		buf_append_str(&q, "\"}}]}");
		break;
	case DUP:
	case PUTGET:
		path = "txn";
		buf_append_str(&q,
			       "{\"success\":[{\"request_put\":{\"key\":\"");
		b64(&q, key, kl);
		buf_append_str(&q, "\",\"value\":\"");
		b64(&q, (const uint8_t *)st->val, strlen(st->val));
		buf_append_str(&q, "\"}},");
		if (st->kind == DUP) {
			buf_append_str(&q, "{\"request_put\":{\"key\":\"");
			b64(&q, key, kl);
			buf_append_str(&q, "\"}}]}");
		} else {
			buf_append_str(&q, "{\"request_range\":");
			range_body(&q, st, key, kl);
			buf_append_str(&q, "}]}");
		}
		break;
	case COMPACT:
		path = "compaction";
		buf_printf(&q, "{\"revision\":%lld,\"physical\":true}",
			   (long long)st->rev);
		break;
	}
	snprintf(url, sizeof(url), "%s/v3/kv/%s", base, path);
	char *out = post(url, (const char *)q.data);
	json_object *o = json_tokener_parse(out);
	ck_assert_msg(o != NULL, "bad reply %s", out);
	json_object *e = jget(o, "error");
	if (e) {
		const char *m = json_object_get_string(e);
		const char *w = strstr(m, "compacted")	       ? "compacted"
				: strstr(m, "future revision") ? "future"
				: strstr(m, "duplicate")       ? "duplicate"
				: strstr(m, "key not found")   ? "notfound"
							       : "other";
		buf_printf(b, "err=%s", w);
	} else {
		int64_t rev = jint(jget(o, "header"), "revision");
		switch (st->kind) {
		case PUT:
			buf_printf(b, "rev=%lld prev=", (long long)rev);
			if (jget(o, "prev_kv")) {
				jfmt_kv(b, jget(o, "prev_kv"));
			}
			break;
		case GET:
			buf_printf(b, "rev=%lld count=%lld more=%d kvs=",
				   (long long)rev, (long long)jint(o, "count"),
				   jbool(o, "more"));
			jfmt_kvs(b, jget(o, "kvs"));
			break;
		case DEL:
			buf_printf(
			    b, "rev=%lld deleted=%lld prev=", (long long)rev,
			    (long long)jint(o, "deleted"));
			jfmt_kvs(b, jget(o, "prev_kvs"));
			break;
		case CAS: {
			bool ok = jbool(o, "succeeded");
			buf_printf(b, "rev=%lld ok=%d", (long long)rev, ok);
			json_object *r0 =
			    json_object_array_get_idx(jget(o, "responses"), 0);
			if (ok) {
				buf_printf(b, " put.rev=%lld",
					   (long long)jint(
					       jget(jget(r0, "response_put"),
						    "header"),
					       "revision"));
			} else {
				json_object *rr = jget(r0, "response_range");
				buf_printf(b, " range.rev=%lld kvs=",
					   (long long)jint(jget(rr, "header"),
							   "revision"));
				jfmt_kvs(b, jget(rr, "kvs"));
			}
			break;
		}
		case DUP:
		case PUTGET: {
			json_object *rs = jget(o, "responses");
			json_object *p0 = jget(json_object_array_get_idx(rs, 0),
					       "response_put");
			json_object *r1 = jget(json_object_array_get_idx(rs, 1),
					       "response_range");
			buf_printf(
			    b,
			    "rev=%lld ok=%d put.rev=%lld range.rev=%lld "
			    "kvs=",
			    (long long)rev, jbool(o, "succeeded"),
			    (long long)jint(jget(p0, "header"), "revision"),
			    (long long)jint(jget(r1, "header"), "revision"));
			jfmt_kvs(b, jget(r1, "kvs"));
			break;
		}
		case COMPACT:
			buf_append_str(b, "compacted");
			break;
		}
	}
	json_object_put(o);
	mem_free(out);
	buf_done(&q);
	mem_free(key);
}

START_TEST(test_table_gives_the_same_results_as_etcd)
{
	if (access(ETCD, X_OK) != 0) {
		printf("skipped: etcd not installed\n");
		return;
	}
	char addr[32];
	ck_assert_int_eq(testlib_loopback_addr(addr, sizeof(addr)), 0);
	int cport = testlib_free_port(addr);
	int pport = testlib_free_port(addr);
	ck_assert_int_gt(cport, 0);
	ck_assert_int_gt(pport, 0);
	const char *dir = testlib_tmpdir();
	char data[512], log[512], curl[128], purl[128], cluster[160];
	snprintf(data, sizeof(data), "%s/etcd", dir);
	snprintf(log, sizeof(log), "%s/etcd.log", dir);
	snprintf(curl, sizeof(curl), "http://%s:%d", addr, cport);
	snprintf(purl, sizeof(purl), "http://%s:%d", addr, pport);
	snprintf(cluster, sizeof(cluster), "t=%s", purl);
	char *const argv[] = {ETCD,    "--name",
			      "t",     "--data-dir",
			      data,    "--listen-client-urls",
			      curl,    "--advertise-client-urls",
			      curl,    "--listen-peer-urls",
			      purl,    "--initial-advertise-peer-urls",
			      purl,    "--initial-cluster",
			      cluster, NULL};
	pid_t pid = testlib_spawn(argv, NULL, log);
	ck_assert_int_gt(pid, 0);
	/* Wait until the gateway answers (a member needs a moment to elect
	 * itself). */
	char url[200];
	snprintf(url, sizeof(url), "%s/v3/kv/range", curl);
	bool up = false;
	for (int i = 0; i < 200 && !up; i++) {
		char *out = post(url, "{\"key\":\"AA==\"}");
		up = strstr(out, "\"header\"") != NULL;
		mem_free(out);
		if (!up) {
			struct timespec ts = {0, 100 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	ck_assert_msg(up, "etcd did not come up, see %s", log);

	struct mvcc_store *s = h_open(testlib_tmpdir());
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct buf a = BUF_INIT, e = BUF_INIT;
		mvcc_step(s, &table[i], &a);
		etcd_step(curl, &table[i], &e);
		if (getenv("CETCD_TEST_VERBOSE")) {
			printf("%2zu %s\n", i, (const char *)e.data);
		}
		ck_assert_msg(a.len == e.len &&
				  memcmp(a.data, e.data, a.len) == 0,
			      "step %zu:\n  mvcc: %s\n  etcd: %s", i,
			      (const char *)a.data, (const char *)e.data);
		buf_done(&a);
		buf_done(&e);
	}
	mvcc_close(s);
	testlib_kill(pid, SIGTERM);
	testlib_wait(pid, 10000);
}
END_TEST

static Suite *etcd_suite(void)
{
	Suite *s = suite_create("mvcc-etcd");
	TCase *tc = tcase_create("etcd");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_table_gives_the_same_results_as_etcd);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(etcd_suite)
