/*
 * test_model.c - random operation sequences checked against a simple
 * in-memory model of etcd's MVCC semantics (every version of every key in
 * arrays), with reopen, compaction and applied-index replay in the middle.
 * Seeded by testlib_seed(); CETCD_TEST_SEED replays a failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/mem.h"
#include "helpers.h"

struct mver {
	mvcc_rev main;
	int64_t sub;
	bool tomb;
	char val[16];
	size_t vlen;
	mvcc_rev create;
	int64_t version;
	int64_t lease;
};

struct mkey {
	uint8_t *key;
	size_t klen;
	struct mver *v;
	size_t n;
};

struct model {
	struct mkey keys[32]; /* index = pool index, sorted separately */
	size_t order[32];     /* pool indexes in key order */
	size_t n_keys;
	mvcc_rev rev;
	mvcc_rev compact;
};

#define POOL 14
static uint8_t *pool[POOL];
static size_t pool_len[POOL];

static int cmp_pool(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	size_t n = pool_len[x] < pool_len[y] ? pool_len[x] : pool_len[y];
	int c = memcmp(pool[x], pool[y], n);
	if (c) {
		return c;
	}
	return pool_len[x] < pool_len[y] ? -1 : pool_len[x] > pool_len[y];
}

static void pool_init(void)
{
	static const struct {
		const char *s;
		size_t n;
	} shorts[] = {{"a", 1},	 {"b", 1},    {"ab", 2},       {"a\0", 2},
		      {"\0", 1}, {"\xff", 1}, {"\xff\xff", 2}, {"c\0d", 3}};
	size_t i = 0;
	for (; i < 8; i++) {
		pool_len[i] = shorts[i].n;
		pool[i] = mem_dup(shorts[i].s, shorts[i].n);
	}
	/* Long keys around the 400-byte LMDB prefix, sharing it. */
	size_t longs[] = {399, 400, 401, 401, 600, 600};
	for (size_t j = 0; j < 6; j++, i++) {
		pool_len[i] = longs[j];
		pool[i] = mem_alloc(longs[j]);
		memset(pool[i], 'p', longs[j]);
	}
	pool[11][400] = 'a'; /* 401 "p..a" vs 401 "p..p" */
	pool[13][500] = 0;   /* 600 with a zero byte */
}

static void pool_done(void)
{
	for (size_t i = 0; i < POOL; i++) {
		mem_free(pool[i]);
	}
}

static void model_init(struct model *m)
{
	memset(m, 0, sizeof(*m));
	m->rev = 1;
	m->compact = -1;
	m->n_keys = POOL;
	for (size_t i = 0; i < POOL; i++) {
		m->keys[i].key = pool[i];
		m->keys[i].klen = pool_len[i];
		m->order[i] = i;
	}
	qsort(m->order, POOL, sizeof(size_t), cmp_pool);
}

static void model_done(struct model *m)
{
	for (size_t i = 0; i < POOL; i++) {
		mem_free(m->keys[i].v);
	}
}

/* Newest version at rev, or NULL. */
static const struct mver *model_at(const struct mkey *k, mvcc_rev rev)
{
	for (size_t i = k->n; i > 0; i--) {
		if (k->v[i - 1].main <= rev) {
			return &k->v[i - 1];
		}
	}
	return NULL;
}

static const struct mver *model_live(const struct mkey *k, mvcc_rev rev)
{
	const struct mver *v = model_at(k, rev);
	return v && !v->tomb ? v : NULL;
}

static void model_add(struct mkey *k, struct mver v)
{
	k->v = mem_realloc(k->v, (k->n + 1) * sizeof(*k->v));
	k->v[k->n++] = v;
}

static int bcmp_(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;
	if (c) {
		return c;
	}
	return al < bl ? -1 : al > bl;
}

static bool in_range(const struct mkey *k, const uint8_t *start, size_t sl,
		     const uint8_t *end, size_t el)
{
	if (el == 0) {
		return bcmp_(k->key, k->klen, start, sl) == 0;
	}
	if (bcmp_(k->key, k->klen, start, sl) < 0) {
		return false;
	}
	if (el == 1 && end[0] == 0) {
		return true;
	}
	return bcmp_(k->key, k->klen, end, el) < 0;
}

struct run {
	struct mvcc_store *s;
	struct model m;
	uint64_t rng;
	const char *dir;
};

static void pick_range(struct run *r, const uint8_t **start, size_t *sl,
		       const uint8_t **end, size_t *el)
{
	static const uint8_t zero[1] = {0};
	size_t a = testlib_rand_below(&r->rng, POOL);
	*start = pool[a];
	*sl = pool_len[a];
	switch (testlib_rand_below(&r->rng, 3)) {
	case 0:
		*end = NULL;
		*el = 0;
		break;
	case 1:
		*end = zero;
		*el = 1;
		break;
	default: {
		size_t b = testlib_rand_below(&r->rng, POOL);
		*end = pool[b];
		*el = pool_len[b];
	}
	}
}

static void check_range(struct run *r, mvcc_rev at)
{
	struct mvcc_range_req rq = {0};
	pick_range(r, &rq.key, &rq.key_len, &rq.range_end, &rq.range_end_len);
	rq.revision = at;
	rq.limit = (int64_t)testlib_rand_below(&r->rng, 4);
	struct mvcc_range_resp rp;
	int ret = mvcc_range(r->s, &rq, &rp);
	mvcc_rev eff = at <= 0 ? r->m.rev : at;
	if (eff < r->m.compact) {
		ck_assert_int_eq(ret, -ERR_COMPACTED);
		return;
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(rp.header_revision, r->m.rev);
	size_t got = 0;
	int64_t count = 0;
	for (size_t oi = 0; oi < POOL; oi++) {
		const struct mkey *k = &r->m.keys[r->m.order[oi]];
		if (!in_range(k, rq.key, rq.key_len, rq.range_end,
			      rq.range_end_len)) {
			continue;
		}
		const struct mver *v = model_live(k, eff);
		if (!v) {
			continue;
		}
		count++;
		if (rq.limit && got >= (size_t)rq.limit) {
			continue;
		}
		ck_assert_uint_lt(got, rp.n_kvs);
		const struct mvcc_kv *kv = &rp.kvs[got++];
		ck_assert_uint_eq(kv->key_len, k->klen);
		ck_assert_mem_eq(kv->key, k->key, k->klen);
		ck_assert_uint_eq(kv->value_len, v->vlen);
		ck_assert_mem_eq(kv->value, v->val, v->vlen);
		ck_assert_int_eq(kv->mod_revision, v->main);
		ck_assert_int_eq(kv->create_revision, v->create);
		ck_assert_int_eq(kv->version, v->version);
		ck_assert_int_eq(kv->lease, v->lease);
	}
	ck_assert_uint_eq(got, rp.n_kvs);
	ck_assert_int_eq(rp.count, count);
	ck_assert(rp.more == (rq.limit && count > rq.limit));
	mvcc_range_resp_done(&rp);
}

static void do_put(struct run *r)
{
	size_t ki = testlib_rand_below(&r->rng, POOL);
	struct mkey *k = &r->m.keys[ki];
	char val[16];
	int vl =
	    snprintf(val, sizeof(val), "v%llu",
		     (unsigned long long)testlib_rand_below(&r->rng, 1000));
	int64_t lease = (int64_t)testlib_rand_below(&r->rng, 3);
	ck_assert_int_eq(h_putb(r->s, k->key, k->klen, val, (size_t)vl, lease),
			 r->m.rev + 1);
	r->m.rev++;
	const struct mver *p = model_live(k, r->m.rev);
	struct mver v = {.main = r->m.rev,
			 .vlen = (size_t)vl,
			 .create = p ? p->create : r->m.rev,
			 .version = p ? p->version + 1 : 1,
			 .lease = lease};
	memcpy(v.val, val, (size_t)vl);
	model_add(k, v);
}

static void do_delete(struct run *r)
{
	struct mvcc_delete_req dq = {.prev_kv = true};
	pick_range(r, &dq.key, &dq.key_len, &dq.range_end, &dq.range_end_len);
	struct mvcc_delete_resp dp;
	ck_assert_int_eq(mvcc_delete_range(r->s, &dq, &dp), 0);
	int64_t n = 0;
	for (size_t oi = 0; oi < POOL; oi++) {
		struct mkey *k = &r->m.keys[r->m.order[oi]];
		if (!in_range(k, dq.key, dq.key_len, dq.range_end,
			      dq.range_end_len) ||
		    !model_live(k, r->m.rev)) {
			continue;
		}
		ck_assert_uint_lt((size_t)n, dp.n_prev_kvs);
		ck_assert_mem_eq(dp.prev_kvs[n].key, k->key, k->klen);
		model_add(k, (struct mver){
				 .main = r->m.rev + 1, .sub = n, .tomb = true});
		n++;
	}
	ck_assert_int_eq(dp.deleted, n);
	if (n) {
		r->m.rev++;
	}
	ck_assert_int_eq(dp.header_revision, r->m.rev);
	mvcc_delete_resp_done(&dp);
}

/* Txn: if version(k) == model's then put(k2) and delete(k3) else get. */
static void do_txn(struct run *r)
{
	size_t ki = testlib_rand_below(&r->rng, POOL);
	size_t k2 = testlib_rand_below(&r->rng, POOL);
	size_t k3 = testlib_rand_below(&r->rng, POOL);
	if (k3 == k2) {
		k3 = (k3 + 1) % POOL;
	}
	const struct mver *pv = model_live(&r->m.keys[ki], r->m.rev);
	int64_t ver = pv ? pv->version : 0;
	if (testlib_rand_below(&r->rng, 3) == 0) {
		ver++; /* make it fail */
	}
	struct mvcc_compare c = {.result = MVCC_CMP_EQUAL,
				 .target = MVCC_TARGET_VERSION,
				 .key = pool[ki],
				 .key_len = pool_len[ki],
				 .number = ver};
	struct mvcc_op succ[2] = {{.type = MVCC_OP_PUT},
				  {.type = MVCC_OP_DELETE}};
	succ[0].u.put.key = pool[k2];
	succ[0].u.put.key_len = pool_len[k2];
	succ[0].u.put.value = (const uint8_t *)"txn";
	succ[0].u.put.value_len = 3;
	succ[1].u.del.key = pool[k3];
	succ[1].u.del.key_len = pool_len[k3];
	struct mvcc_op fail[1] = {{.type = MVCC_OP_RANGE}};
	fail[0].u.range.key = pool[ki];
	fail[0].u.range.key_len = pool_len[ki];
	struct mvcc_txn_req t = {&c, 1, succ, 2, fail, 1};
	struct mvcc_txn_resp tr;
	ck_assert_int_eq(mvcc_txn(r->s, &t, &tr), 0);
	bool want = (pv ? pv->version : 0) == ver;
	ck_assert(tr.succeeded == want);
	if (want) {
		mvcc_rev nr = r->m.rev + 1;
		struct mkey *kp = &r->m.keys[k2];
		const struct mver *p = model_live(kp, r->m.rev);
		struct mver v = {.main = nr,
				 .vlen = 3,
				 .create = p ? p->create : nr,
				 .version = p ? p->version + 1 : 1};
		memcpy(v.val, "txn", 3);
		model_add(kp, v);
		struct mkey *kd = &r->m.keys[k3];
		if (model_live(kd, r->m.rev)) {
			model_add(kd, (struct mver){
					  .main = nr, .sub = 1, .tomb = true});
		}
		r->m.rev = nr;
	}
	ck_assert_int_eq(tr.header_revision, r->m.rev);
	mvcc_txn_resp_done(&tr);
}

static void do_compact(struct run *r)
{
	mvcc_rev at =
	    1 + (mvcc_rev)testlib_rand_below(&r->rng, (uint64_t)r->m.rev);
	int ret = mvcc_compact(r->s, at);
	if (at <= r->m.compact) {
		ck_assert_int_eq(ret, -ERR_COMPACTED);
		return;
	}
	ck_assert_int_eq(ret, 0);
	r->m.compact = at;
	uint32_t h1, h2;
	mvcc_rev hr, cr;
	ck_assert_int_eq(mvcc_hash_kv(r->s, 0, &h1, &hr, &cr), 0);
	/* Some physical steps now, maybe not all (resumed later). */
	bool done = false;
	unsigned steps = (unsigned)testlib_rand_below(&r->rng, 4);
	for (unsigned i = 0; i < steps && !done; i++) {
		ck_assert_int_eq(mvcc_compact_step(r->s, 3, &done), 0);
	}
	ck_assert_int_eq(mvcc_hash_kv(r->s, 0, &h2, &hr, &cr), 0);
	ck_assert_uint_eq(h1, h2);
}

/* The lease index lists exactly the live keys with that lease. */
static void check_leases(struct run *r)
{
	for (int64_t lease = 1; lease <= 2; lease++) {
		struct mvcc_keys ks;
		ck_assert_int_eq(mvcc_lease_keys(r->s, lease, &ks), 0);
		size_t want = 0;
		for (size_t i = 0; i < POOL; i++) {
			const struct mver *v =
			    model_live(&r->m.keys[i], r->m.rev);
			if (!v || v->lease != lease) {
				continue;
			}
			want++;
			bool found = false;
			for (size_t j = 0; j < ks.n_keys && !found; j++) {
				found = ks.keys[j].key_len == pool_len[i] &&
					memcmp(ks.keys[j].key, pool[i],
					       pool_len[i]) == 0;
			}
			ck_assert_msg(found, "key %zu not on lease %lld", i,
				      (long long)lease);
		}
		ck_assert_uint_eq(ks.n_keys, want);
		mvcc_keys_done(&ks);
	}
}

static void do_reopen(struct run *r)
{
	ck_assert_int_eq(mvcc_commit(r->s), 0);
	mvcc_close(r->s);
	r->s = h_open(r->dir);
	ck_assert_int_eq(mvcc_current_rev(r->s), r->m.rev);
	ck_assert_int_eq(mvcc_compact_rev(r->s), r->m.compact);
	check_leases(r);
}

static void one_run(const char *base, int run, uint64_t seed, int n_ops)
{
	/* One temporary directory per test, a subdirectory per run: testlib
	 * tracks a bounded number of directories. */
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/run%d", base, run);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	struct run r = {.rng = seed, .dir = dir};
	model_init(&r.m);
	r.s = h_open(r.dir);
	for (int i = 0; i < n_ops; i++) {
		uint64_t x = testlib_rand_below(&r.rng, 100);
		if (x < 40) {
			do_put(&r);
		} else if (x < 50) {
			do_delete(&r);
		} else if (x < 60) {
			do_txn(&r);
		} else if (x < 63) {
			do_compact(&r);
		} else if (x < 65) {
			do_reopen(&r);
		} else if (x < 67) {
			bool done;
			ck_assert_int_eq(mvcc_compact_step(r.s, 2, &done), 0);
		} else if (x < 85) {
			check_range(&r, 0);
		} else {
			mvcc_rev at = (mvcc_rev)testlib_rand_below(
			    &r.rng, (uint64_t)r.m.rev + 1);
			check_range(&r, at);
		}
	}
	/* Finish compaction; every read at or above it is unchanged. */
	bool done = false;
	while (!done) {
		ck_assert_int_eq(mvcc_compact_step(r.s, 5, &done), 0);
	}
	for (int i = 0; i < 20; i++) {
		check_range(&r, 0);
	}
	check_leases(&r);
	mvcc_close(r.s);
	model_done(&r.m);
	ck_assert_int_eq(testlib_rmtree(dir), 0);
}

START_TEST(test_random_sequences_match_the_model)
{
	pool_init();
	uint64_t seed = testlib_seed();
	const char *e = getenv("CETCD_MVCC_RUNS");
	int runs = e ? atoi(e) : 12;
	const char *base = testlib_tmpdir();
	for (int i = 0; i < runs; i++) {
		uint64_t st = seed + (uint64_t)i;
		one_run(base, i, testlib_rand_next(&st), 200);
	}
	pool_done();
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("mvcc-model");
	TCase *tc = tcase_create("model");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_random_sequences_match_the_model);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(model_suite)
