/*
 * lessor.c - the lease table (lessor.h): a sorted array of leases looked
 * up by binary search, persisted as aux records of the MVCC store.
 *
 * Expiry is found by a linear scan on the leader's housekeeping tick
 * (every 100 ms): O(leases) per tick is cheap for the tens of thousands of
 * leases a configuration store holds, and keeps no second index in step.
 */
#include "server/lessor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "mvcc/mvcc.h"

#define AUX_PREFIX "lease/"
#define AUX_PREFIX_LEN (sizeof(AUX_PREFIX) - 1)
#define AUX_KEY_LEN (AUX_PREFIX_LEN + 8)

struct lease {
	int64_t id;
	int64_t ttl;	    /* granted, seconds */
	uint64_t expiry_ms; /* monotonic; 0: forever (not primary) */
	uint64_t retry_ms;  /* expired: not offered again before this */
};

struct lessor {
	struct mvcc_store *store;
	int64_t min_ttl;
	bool primary;
	struct lease *v; /* sorted by id */
	size_t n, cap;
};

int64_t lessor_min_ttl(uint64_t election_ticks, uint64_t heartbeat_ms)
{
	uint64_t ms = (3 * election_ticks) / 2 * heartbeat_ms;

	return (int64_t)((ms + 999) / 1000);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v = (v << 8) | p[i];
	}
	return v;
}

static void aux_key(uint8_t key[AUX_KEY_LEN], int64_t id)
{
	memcpy(key, AUX_PREFIX, AUX_PREFIX_LEN);
	put_be64(key + AUX_PREFIX_LEN, (uint64_t)id);
}

/* Index of id, or where it would go (*found false). */
static size_t find(const struct lessor *l, int64_t id, bool *found)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->v[mid].id < id) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*found = lo < l->n && l->v[lo].id == id;
	return lo;
}

static struct lease *lookup(const struct lessor *l, int64_t id)
{
	bool found;
	size_t i = find(l, id, &found);

	return found ? &l->v[i] : NULL;
}

static int insert(struct lessor *l, int64_t id, int64_t ttl)
{
	bool found;
	size_t at = find(l, id, &found);

	if (found) {
		return -ERR_LEASE_EXISTS;
	}
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct lease *nv = mem_realloc(l->v, ncap * sizeof(*nv));
		if (nv == NULL) {
			return -ENOMEM;
		}
		l->v = nv;
		l->cap = ncap;
	}
	memmove(&l->v[at + 1], &l->v[at], (l->n - at) * sizeof(*l->v));
	memset(&l->v[at], 0, sizeof(l->v[at]));
	l->v[at].id = id;
	l->v[at].ttl = ttl;
	l->n++;
	return 0;
}

static void remove_at(struct lessor *l, size_t at)
{
	memmove(&l->v[at], &l->v[at + 1], (l->n - at - 1) * sizeof(*l->v));
	l->n--;
}

static int load_one(void *arg, const void *key, size_t key_len, const void *val,
		    size_t val_len)
{
	struct lessor *l = arg;
	int64_t id;

	if (key_len != AUX_KEY_LEN || val_len < 8) {
		return -ERR_CORRUPT;
	}
	id = (int64_t)get_be64((const uint8_t *)key + AUX_PREFIX_LEN);
	return insert(l, id, (int64_t)get_be64(val));
}

static int check_lease(void *arg, int64_t lease)
{
	return lessor_exists(arg, lease) ? 0 : -ERR_LEASE_NOT_FOUND;
}

int lessor_new(struct mvcc_store *s, int64_t min_ttl, struct lessor **out)
{
	struct lessor *l = mem_calloc(1, sizeof(*l));
	int r;

	if (l == NULL) {
		return -ENOMEM;
	}
	l->store = s;
	l->min_ttl = min_ttl;
	r = mvcc_aux_scan(s, AUX_PREFIX, AUX_PREFIX_LEN, load_one, l);
	if (r < 0) {
		mem_free(l->v);
		mem_free(l);
		return r;
	}
	mvcc_set_lease_check(s, check_lease, l);
	*out = l;
	return 0;
}

void lessor_free(struct lessor *l)
{
	if (l == NULL) {
		return;
	}
	mvcc_set_lease_check(l->store, NULL, NULL);
	mem_free(l->v);
	mem_free(l);
}

int lessor_grant(struct lessor *l, int64_t id, int64_t ttl, uint64_t now_ms,
		 int64_t *granted_ttl)
{
	uint8_t key[AUX_KEY_LEN], val[8];
	struct lease *le;
	int r;

	if (id == 0) {
		return -ERR_LEASE_NOT_FOUND;
	}
	if (ttl > LESSOR_MAX_TTL) {
		return -ERR_LEASE_TTL_TOO_LARGE;
	}
	if (lookup(l, id) != NULL) {
		return -ERR_LEASE_EXISTS;
	}
	if (ttl < l->min_ttl) {
		ttl = l->min_ttl;
	}
	aux_key(key, id);
	put_be64(val, (uint64_t)ttl);
	r = mvcc_aux_put(l->store, key, sizeof(key), val, sizeof(val));
	if (r < 0) {
		return r;
	}
	r = insert(l, id, ttl);
	if (r < 0) {
		/* Keep table and store in step: the record goes too. */
		(void)mvcc_aux_del(l->store, key, sizeof(key));
		return r;
	}
	le = lookup(l, id);
	if (l->primary) {
		le->expiry_ms = now_ms + (uint64_t)ttl * 1000;
	}
	*granted_ttl = ttl;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	const struct mvcc_key *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = n > 0 ? memcmp(x->key, y->key, n) : 0;

	if (c != 0) {
		return c;
	}
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* Delete every key of the lease as one txn (one revision). */
static int delete_keys(struct lessor *l, int64_t id)
{
	struct mvcc_keys keys = {0};
	struct mvcc_op *ops;
	struct mvcc_txn_req t;
	struct mvcc_txn_resp resp;
	int r;

	r = mvcc_lease_keys(l->store, id, &keys);
	if (r < 0 || keys.n_keys == 0) {
		mvcc_keys_done(&keys);
		return r;
	}
	/* etcd compat: sorted, so every member deletes in the same order. */
	qsort(keys.keys, keys.n_keys, sizeof(*keys.keys), key_cmp);
	ops = mem_calloc(keys.n_keys, sizeof(*ops));
	if (ops == NULL) {
		mvcc_keys_done(&keys);
		return -ENOMEM;
	}
	for (size_t i = 0; i < keys.n_keys; i++) {
		ops[i].type = MVCC_OP_DELETE;
		ops[i].u.del.key = keys.keys[i].key;
		ops[i].u.del.key_len = keys.keys[i].key_len;
	}
	memset(&t, 0, sizeof(t));
	t.success = ops;
	t.n_success = keys.n_keys;
	memset(&resp, 0, sizeof(resp));
	r = mvcc_txn(l->store, &t, &resp);
	if (r >= 0) {
		mvcc_txn_resp_done(&resp);
	}
	mem_free(ops);
	mvcc_keys_done(&keys);
	return r;
}

int lessor_revoke(struct lessor *l, int64_t id)
{
	uint8_t key[AUX_KEY_LEN];
	bool found;
	size_t at = find(l, id, &found);
	int r;

	if (!found) {
		return -ERR_LEASE_NOT_FOUND;
	}
	r = delete_keys(l, id);
	if (r < 0) {
		return r;
	}
	aux_key(key, id);
	r = mvcc_aux_del(l->store, key, sizeof(key));
	if (r < 0 && r != -ENOENT) {
		return r;
	}
	remove_at(l, at);
	return 0;
}

bool lessor_exists(const struct lessor *l, int64_t id)
{
	return lookup(l, id) != NULL;
}

int64_t lessor_ttl(const struct lessor *l, int64_t id)
{
	const struct lease *le = lookup(l, id);

	return le != NULL ? le->ttl : -ERR_LEASE_NOT_FOUND;
}

size_t lessor_count(const struct lessor *l)
{
	return l->n;
}

int lessor_ids(const struct lessor *l, int64_t **ids, size_t *n)
{
	int64_t *v = NULL;

	if (l->n > 0) {
		v = mem_calloc(l->n, sizeof(*v));
		if (v == NULL) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < l->n; i++) {
			v[i] = l->v[i].id;
		}
	}
	*ids = v;
	*n = l->n;
	return 0;
}

bool lessor_is_primary(const struct lessor *l)
{
	return l->primary;
}

void lessor_promote(struct lessor *l, uint64_t now_ms, uint64_t extend_ms)
{
	l->primary = true;
	for (size_t i = 0; i < l->n; i++) {
		l->v[i].expiry_ms =
		    now_ms + extend_ms + (uint64_t)l->v[i].ttl * 1000;
		l->v[i].retry_ms = 0;
	}
}

void lessor_demote(struct lessor *l)
{
	l->primary = false;
	for (size_t i = 0; i < l->n; i++) {
		l->v[i].expiry_ms = 0;
		l->v[i].retry_ms = 0;
	}
}

int64_t lessor_renew(struct lessor *l, int64_t id, uint64_t now_ms)
{
	struct lease *le;

	if (!l->primary) {
		return -ERR_NOT_LEADER;
	}
	le = lookup(l, id);
	if (le == NULL) {
		return -ERR_LEASE_NOT_FOUND;
	}
	if (le->expiry_ms <= now_ms) {
		return -EAGAIN;
	}
	le->expiry_ms = now_ms + (uint64_t)le->ttl * 1000;
	le->retry_ms = 0;
	return le->ttl;
}

int64_t lessor_remaining(const struct lessor *l, int64_t id, uint64_t now_ms)
{
	const struct lease *le;

	if (!l->primary) {
		return -ERR_NOT_LEADER;
	}
	le = lookup(l, id);
	if (le == NULL) {
		return -ERR_LEASE_NOT_FOUND;
	}
	if (le->expiry_ms <= now_ms) {
		return 0;
	}
	return (int64_t)((le->expiry_ms - now_ms) / 1000);
}

size_t lessor_expired(struct lessor *l, uint64_t now_ms, int64_t *ids,
		      size_t max)
{
	size_t n = 0;

	if (!l->primary) {
		return 0;
	}
	for (size_t i = 0; i < l->n && n < max; i++) {
		struct lease *le = &l->v[i];
		if (le->expiry_ms > now_ms || le->retry_ms > now_ms) {
			continue;
		}
		le->retry_ms = now_ms + LESSOR_REVOKE_RETRY_MS;
		ids[n++] = le->id;
	}
	return n;
}
