/*
 * mvcc.c - etcd's MVCC key-value store on LMDB (see mvcc.h for the
 * semantics and the threading and durability contract).
 *
 * Layout: four named LMDB databases in one environment.
 *   meta   counters: current revision, compacted revision, applied Raft
 *          index and term, the next key id, the compaction position.
 *   hist   the history, etcd's "key" bucket: (main, sub) as 16 big-endian
 *          bytes -> a record (flags, create, version, lease, the key's
 *          previous live revision, key, value).  Walking it in order is the
 *          event feed.
 *   keys   the key index, in user-key order.  LMDB keys are limited to 511
 *          bytes, so the LMDB key is the user key cut to KEY_PREFIX bytes
 *          and the value is a "bucket" of entries, one per user key sharing
 *          that LMDB key, sorted by the rest of the key (the suffix).  Keys
 *          shorter than KEY_PREFIX are their own LMDB key (one entry, empty
 *          suffix); longer ones share the bucket of their prefix.  Each entry
 *          holds the key's id and its newest revision and whether that is a
 *          tombstone, so reads at the current revision need no other lookup.
 *   krevs  every revision of every key: (key id, main, sub) -> tombstone
 *          flag, so a read at a past revision is one seek.
 *   lkeys  the live keys attached to each lease: (lease, key id) -> key,
 *          so revoking a lease needs no scan and no in-memory map.
 *   aux    small records the server keeps in the same transactions
 *          (leases, alarms, membership): its own keys, at most 511 bytes.
 *
 * Invariants:
 *  1. Memcmp order of LMDB keys in "keys" is user-key order of their
 *     entries: a key shorter than KEY_PREFIX never equals a bucket's LMDB key
 *     (always exactly KEY_PREFIX bytes), and a bucket's entries all extend
 *     its LMDB key, so comparing the short key with the prefix decides.
 *  2. For every key entry, krevs holds all its revisions not yet physically
 *     compacted, and the entry's newest revision is the largest of them.
 *  3. Every krevs revision has its hist record, and vice versa.
 *  4. A write operation (wop_begin/wop_end) changes the long-lived write
 *     transaction directly, and every request error it can return (empty
 *     key, key or lease not found, duplicate key, compacted or future
 *     revision, the quota) is found before its first change.  So a failed
 *     operation that changed nothing leaves nothing behind, and one that
 *     changed something (out of memory, LMDB's map full, a corrupt page)
 *     cannot be undone: it sets the sticky error, the uncommitted
 *     operations are lost with the transaction, and the server replays them
 *     from its log on restart.  Every change goes through w_put/w_del, which
 *     record whether the operation touched the transaction.
 *  5. LMDB pointers are used only before the next write in the same
 *     transaction: everything kept across a write is copied first.
 *  6. lkeys holds (lease, id) exactly for the live keys whose newest
 *     version has that non-zero lease.
 */
#include "mvcc/mvcc.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/failpoint.h"
#include "base/mem.h"

/* Below LMDB's 511-byte key limit of Debian's build, with room to spare. */
#define KEY_PREFIX 400

#define REC_TOMB 0x01
#define REC_HDR (1 + 8 * 5 + 4)
#define ENT_FIXED (4 + 8 + 8 + 8 + 1)

static const char META_REV[] = "rev";
static const char META_COMPACT[] = "compact_rev";
static const char META_COMPACT_DONE[] = "compact_done";
static const char META_COMPACT_CURSOR[] = "compact_cursor";
static const char META_INDEX[] = "applied_index";
static const char META_TERM[] = "applied_term";
static const char META_NEXT_ID[] = "next_key_id";

struct mvcc_store {
	MDB_env *env;
	MDB_dbi meta, hist, keys, krevs, lkeys, aux;
	MDB_txn *wtxn; /* the long-lived write transaction, or NULL */
	MDB_txn *op;   /* wtxn while a write operation is under way, or NULL */
	MDB_txn *rtxn; /* a reset read-only txn reused when wtxn is NULL */
	int sticky;    /* once set, every call fails with it */
	char *dir;
	int64_t quota;
	int64_t map_size;
	bool nospace;
	uint64_t uncommitted; /* write ops applied since the last commit */
	uint64_t txn_writes;  /* w_put/w_del calls in wtxn */
	uint64_t max_writes;  /* the most txn_writes committed since the last
				 mvcc_release_pages */

	mvcc_rev rev;
	mvcc_rev compact_rev;
	mvcc_rev compact_done;
	uint64_t applied_index, applied_term;
	uint64_t next_id;
	bool readonly;	    /* mvcc_open_file: dir is the file's path */
	int64_t file_bytes; /* read-only: the pages the file's meta names */

	/* State of the write under way, restored when it fails. */
	bool touched; /* it changed the write transaction (invariant 4) */
	int64_t changes;
	mvcc_rev saved_rev;
	uint64_t saved_next_id;
	uint64_t saved_index, saved_term;
	mvcc_rev saved_compact, saved_compact_done;

	struct buf scratch;

	/* mvcc_set_lease_check: whether a put's lease exists, or NULL. */
	int (*lease_check)(void *arg, int64_t lease);
	void *lease_check_arg;
};

/* A key's entry in the key index. */
struct kent {
	uint64_t id;
	mvcc_rev lmain;
	int64_t lsub;
	bool tomb;
};

/* A decoded hist record; pointers are into LMDB memory (invariant 5). */
struct rec {
	mvcc_rev main;
	int64_t sub;
	uint8_t flags;
	mvcc_rev create;
	int64_t version;
	int64_t lease;
	mvcc_rev prev_main;
	int64_t prev_sub;
	const uint8_t *key;
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
};

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

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/* An MDB_val over borrowed bytes; LMDB never writes through mv_data of a
 * key or of a value it is given to copy. */
static MDB_val mval(const void *p, size_t n)
{
	MDB_val v;
	v.mv_size = n;
	memcpy(&v.mv_data, &p, sizeof(p));
	return v;
}

static int lmdb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return 0;
	case MDB_NOTFOUND:
		return -ENOENT;
	case MDB_MAP_FULL:
		return -ERR_NO_SPACE;
	case MDB_TXN_FULL:
		return -EFBIG;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return -ERR_CORRUPT;
	case MDB_BAD_VALSIZE:
		return -ERR_INVALID;
	default:
		return rc > 0 ? -rc : -EIO;
	}
}

/* Lexicographic byte order, a proper prefix first (as Go's bytes.Compare). */
static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;
	if (c != 0) {
		return c < 0 ? -1 : 1;
	}
	return alen < blen ? -1 : alen > blen ? 1 : 0;
}

static void rev_key(uint8_t out[16], mvcc_rev main, int64_t sub)
{
	put_be64(out, (uint64_t)main);
	put_be64(out + 8, (uint64_t)sub);
}

static void krev_key(uint8_t out[24], uint64_t id, mvcc_rev main, int64_t sub)
{
	put_be64(out, id);
	put_be64(out + 8, (uint64_t)main);
	put_be64(out + 16, (uint64_t)sub);
}

/* ---- kv results ---- */

void mvcc_kv_done(struct mvcc_kv *kv)
{
	if (kv) {
		mem_free(kv->key);
		memset(kv, 0, sizeof(*kv));
	}
}

static int kv_fill(struct mvcc_kv *kv, const uint8_t *key, size_t key_len,
		   const uint8_t *value, size_t value_len)
{
	uint8_t *p = mem_alloc(key_len + value_len + 1);
	if (!p) {
		return -ENOMEM;
	}
	if (key_len) {
		memcpy(p, key, key_len);
	}
	if (value_len) {
		memcpy(p + key_len, value, value_len);
	}
	p[key_len + value_len] = 0;
	kv->key = p;
	kv->key_len = key_len;
	kv->value = p + key_len;
	kv->value_len = value_len;
	return 0;
}

static int kv_from_rec(struct mvcc_kv *kv, const struct rec *r, bool keys_only)
{
	struct mvcc_kv k = {0};
	int ret = kv_fill(&k, r->key, r->key_len, r->value,
			  keys_only ? 0 : r->value_len);
	if (ret < 0) {
		return ret;
	}
	k.create_revision = r->create;
	k.mod_revision = r->main;
	k.version = r->version;
	k.lease = r->lease;
	*kv = k;
	return 0;
}

static void kvs_free(struct mvcc_kv *kvs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mvcc_kv_done(&kvs[i]);
	}
	mem_free(kvs);
}

/* A growable array of mvcc_kv. */
struct kvvec {
	struct mvcc_kv *v;
	size_t n, cap;
};

static struct mvcc_kv *kvvec_push(struct kvvec *a)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct mvcc_kv *v = mem_realloc(a->v, cap * sizeof(*v));
		if (!v) {
			return NULL;
		}
		a->v = v;
		a->cap = cap;
	}
	memset(&a->v[a->n], 0, sizeof(a->v[0]));
	return &a->v[a->n++];
}

void mvcc_range_resp_done(struct mvcc_range_resp *r)
{
	if (r) {
		kvs_free(r->kvs, r->n_kvs);
		memset(r, 0, sizeof(*r));
	}
}

void mvcc_put_resp_done(struct mvcc_put_resp *r)
{
	if (r) {
		mvcc_kv_done(&r->prev_kv);
		memset(r, 0, sizeof(*r));
	}
}

void mvcc_delete_resp_done(struct mvcc_delete_resp *r)
{
	if (r) {
		kvs_free(r->prev_kvs, r->n_prev_kvs);
		memset(r, 0, sizeof(*r));
	}
}

static void op_resp_done(struct mvcc_op_resp *r)
{
	switch (r->type) {
	case MVCC_OP_RANGE:
		mvcc_range_resp_done(&r->u.range);
		break;
	case MVCC_OP_PUT:
		mvcc_put_resp_done(&r->u.put);
		break;
	case MVCC_OP_DELETE:
		mvcc_delete_resp_done(&r->u.del);
		break;
	case MVCC_OP_TXN:
		mvcc_txn_resp_done(r->u.txn);
		mem_free(r->u.txn);
		break;
	case MVCC_OP_NONE:
		break;
	}
	r->type = MVCC_OP_NONE;
}

void mvcc_txn_resp_done(struct mvcc_txn_resp *r)
{
	if (!r) {
		return;
	}
	for (size_t i = 0; i < r->n_responses; i++) {
		op_resp_done(&r->responses[i]);
	}
	mem_free(r->responses);
	memset(r, 0, sizeof(*r));
}

void mvcc_events_done(struct mvcc_events *e)
{
	if (!e) {
		return;
	}
	for (size_t i = 0; i < e->n_evs; i++) {
		mvcc_kv_done(&e->evs[i].kv);
		mvcc_kv_done(&e->evs[i].prev_kv);
	}
	mem_free(e->evs);
	memset(e, 0, sizeof(*e));
}

/* ---- meta ---- */

static int meta_get_u64(MDB_txn *txn, MDB_dbi dbi, const char *name,
			uint64_t *out)
{
	MDB_val k = mval(name, strlen(name)), v;
	int rc = mdb_get(txn, dbi, &k, &v);
	if (rc == MDB_NOTFOUND) {
		return 0;
	}
	if (rc != 0) {
		return lmdb_err(rc);
	}
	if (v.mv_size != 8) {
		return -ERR_CORRUPT;
	}
	*out = get_be64(v.mv_data);
	return 1;
}

/*
 * The only ways a write operation changes the store (invariant 4).  LMDB
 * returns MDB_NOTFOUND (nothing to delete) and MDB_BAD_VALSIZE (a key or
 * value it cannot hold) before touching anything; after any other result
 * the transaction may hold part of the change.  They return LMDB's code.
 */
static bool lmdb_touched(int rc)
{
	return rc != MDB_NOTFOUND && rc != MDB_BAD_VALSIZE;
}

static int w_put(struct mvcc_store *s, MDB_dbi dbi, MDB_val *k, MDB_val *v,
		 unsigned flags)
{
	int rc = mdb_put(s->op, dbi, k, v, flags);
	s->touched = s->touched || lmdb_touched(rc);
	s->txn_writes++;
	return rc;
}

static int w_del(struct mvcc_store *s, MDB_dbi dbi, MDB_val *k)
{
	int rc = mdb_del(s->op, dbi, k, NULL);
	s->touched = s->touched || lmdb_touched(rc);
	s->txn_writes++;
	return rc;
}

static int w_meta(struct mvcc_store *s, const char *name, uint64_t val)
{
	uint8_t b[8];
	put_be64(b, val);
	MDB_val k = mval(name, strlen(name)), v = {8, b};
	return lmdb_err(w_put(s, s->meta, &k, &v, 0));
}

/* ---- transactions ---- */

static int ensure_wtxn(struct mvcc_store *s)
{
	if (s->wtxn) {
		return 0;
	}
	int rc = mdb_txn_begin(s->env, NULL, 0, &s->wtxn);
	if (rc != 0) {
		s->wtxn = NULL;
		return lmdb_err(rc);
	}
	return 0;
}

/* The transaction reads go through: the write under way, the open write
 * transaction, or the reusable read transaction. */
static int read_begin(struct mvcc_store *s, MDB_txn **out)
{
	if (s->sticky) {
		return s->sticky;
	}
	if (s->op) {
		*out = s->op;
		return 0;
	}
	if (s->wtxn) {
		*out = s->wtxn;
		return 0;
	}
	int rc;
	if (s->rtxn) {
		rc = mdb_txn_renew(s->rtxn);
	} else {
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
		if (rc != 0) {
			s->rtxn = NULL;
		}
	}
	if (rc != 0) {
		return lmdb_err(rc);
	}
	*out = s->rtxn;
	return 0;
}

static void read_end(struct mvcc_store *s, MDB_txn *txn)
{
	if (txn && txn == s->rtxn) {
		mdb_txn_reset(s->rtxn);
	}
}

static int wop_begin(struct mvcc_store *s)
{
	if (s->sticky) {
		return s->sticky;
	}
	int ret = ensure_wtxn(s);
	if (ret < 0) {
		return ret;
	}
	s->op = s->wtxn;
	s->touched = false;
	s->changes = 0;
	s->saved_rev = s->rev;
	s->saved_next_id = s->next_id;
	s->saved_index = s->applied_index;
	s->saved_term = s->applied_term;
	s->saved_compact = s->compact_rev;
	s->saved_compact_done = s->compact_done;
	return 0;
}

/*
 * A failed write that touched the transaction cannot be undone (invariant
 * 4): the store stops with an error the server reads as a storage failure,
 * never as a refused request.  A full map is EFBIG (mvcc_open grows the map
 * to fit the file, so a restart can replay); a request error after a change
 * would be a broken invariant, reported as ERR_CORRUPT.
 */
static int stop_store(struct mvcc_store *s, int ret)
{
	if (ret == -ERR_NO_SPACE) {
		ret = -EFBIG;
	} else if (ret <= -ERR_BASE && ret != -ERR_CORRUPT) {
		ret = -ERR_CORRUPT;
	}
	s->sticky = ret;
	return ret;
}

/* Finish the write under way: keep it when ret >= 0, else undo it. */
static int wop_end(struct mvcc_store *s, int ret)
{
	if (ret >= 0 && s->changes > 0) {
		ret = w_meta(s, META_REV, (uint64_t)(s->rev + 1));
	}
	if (ret >= 0 && s->next_id != s->saved_next_id) {
		ret = w_meta(s, META_NEXT_ID, s->next_id);
	}
	s->op = NULL;
	if (ret >= 0) {
		s->uncommitted++;
		if (s->changes > 0) {
			s->rev++;
		}
	} else {
		if (s->touched) {
			ret = stop_store(s, ret);
		}
		s->rev = s->saved_rev;
		s->next_id = s->saved_next_id;
		s->applied_index = s->saved_index;
		s->applied_term = s->saved_term;
		s->compact_rev = s->saved_compact;
		s->compact_done = s->saved_compact_done;
	}
	s->changes = 0;
	return ret;
}

/* The revision reads see: inside a write with changes, the new one. */
static mvcc_rev view_rev(const struct mvcc_store *s)
{
	return s->rev + (s->op && s->changes > 0 ? 1 : 0);
}

/* ---- hist ---- */

static int rec_decode(const MDB_val *k, const MDB_val *v, struct rec *r)
{
	if (k->mv_size != 16 || v->mv_size < REC_HDR) {
		return -ERR_CORRUPT;
	}
	const uint8_t *p = v->mv_data;
	r->main = (mvcc_rev)get_be64(k->mv_data);
	r->sub = (int64_t)get_be64((const uint8_t *)k->mv_data + 8);
	r->flags = p[0];
	r->create = (mvcc_rev)get_be64(p + 1);
	r->version = (int64_t)get_be64(p + 9);
	r->lease = (int64_t)get_be64(p + 17);
	r->prev_main = (mvcc_rev)get_be64(p + 25);
	r->prev_sub = (int64_t)get_be64(p + 33);
	uint32_t klen = get_be32(p + 41);
	if (klen > v->mv_size - REC_HDR) {
		return -ERR_CORRUPT;
	}
	r->key = p + REC_HDR;
	r->key_len = klen;
	r->value = p + REC_HDR + klen;
	r->value_len = v->mv_size - REC_HDR - klen;
	return 0;
}

static int hist_get(struct mvcc_store *s, MDB_txn *txn, mvcc_rev main,
		    int64_t sub, struct rec *r)
{
	uint8_t kb[16];
	rev_key(kb, main, sub);
	MDB_val k = {16, kb}, v;
	int rc = mdb_get(txn, s->hist, &k, &v);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	return rec_decode(&k, &v, r);
}

static int hist_put(struct mvcc_store *s, const struct rec *r)
{
	uint8_t kb[16];
	rev_key(kb, r->main, r->sub);
	MDB_val k = {16, kb}, v = {REC_HDR + r->key_len + r->value_len, NULL};
	if (r->key_len > UINT32_MAX) {
		return -ERR_INVALID;
	}
	int rc = w_put(s, s->hist, &k, &v, MDB_RESERVE);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	uint8_t *p = v.mv_data;
	p[0] = r->flags;
	put_be64(p + 1, (uint64_t)r->create);
	put_be64(p + 9, (uint64_t)r->version);
	put_be64(p + 17, (uint64_t)r->lease);
	put_be64(p + 25, (uint64_t)r->prev_main);
	put_be64(p + 33, (uint64_t)r->prev_sub);
	put_be32(p + 41, (uint32_t)r->key_len);
	if (r->key_len) {
		memcpy(p + REC_HDR, r->key, r->key_len);
	}
	if (r->value_len) {
		memcpy(p + REC_HDR + r->key_len, r->value, r->value_len);
	}
	return 0;
}

/* ---- key index ---- */

static size_t lkey_len(size_t key_len)
{
	return key_len < KEY_PREFIX ? key_len : KEY_PREFIX;
}

/* One parsed bucket entry. */
struct bent {
	const uint8_t *suffix;
	size_t suffix_len;
	struct kent e;
	size_t off, len; /* the entry's bytes within the bucket */
};

static int bucket_next(const uint8_t *b, size_t blen, size_t *pos,
		       struct bent *out)
{
	size_t p = *pos;
	if (p == blen) {
		return 0;
	}
	if (blen - p < ENT_FIXED) {
		return -ERR_CORRUPT;
	}
	uint32_t sl = get_be32(b + p);
	if (blen - p - ENT_FIXED < sl) {
		return -ERR_CORRUPT;
	}
	out->off = p;
	out->suffix = b + p + 4;
	out->suffix_len = sl;
	const uint8_t *q = b + p + 4 + sl;
	out->e.id = get_be64(q);
	out->e.lmain = (mvcc_rev)get_be64(q + 8);
	out->e.lsub = (int64_t)get_be64(q + 16);
	out->e.tomb = q[24] != 0;
	out->len = ENT_FIXED + sl;
	*pos = p + out->len;
	return 1;
}

static void bucket_write_ent(uint8_t *p, const uint8_t *suffix, size_t sl,
			     const struct kent *e)
{
	put_be32(p, (uint32_t)sl);
	if (sl) {
		memcpy(p + 4, suffix, sl);
	}
	p += 4 + sl;
	put_be64(p, e->id);
	put_be64(p + 8, (uint64_t)e->lmain);
	put_be64(p + 16, (uint64_t)e->lsub);
	p[24] = e->tomb ? 1 : 0;
}

static int key_get(struct mvcc_store *s, MDB_txn *txn, const uint8_t *key,
		   size_t key_len, struct kent *out)
{
	if (key_len == 0) {
		return -ENOENT;
	}
	size_t ll = lkey_len(key_len);
	MDB_val k = mval(key, ll), v;
	int rc = mdb_get(txn, s->keys, &k, &v);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	size_t pos = 0;
	struct bent be;
	int r;
	while ((r = bucket_next(v.mv_data, v.mv_size, &pos, &be)) > 0) {
		int c =
		    bytes_cmp(be.suffix, be.suffix_len, key + ll, key_len - ll);
		if (c == 0) {
			*out = be.e;
			return 0;
		}
		if (c > 0) {
			break;
		}
	}
	return r < 0 ? r : -ENOENT;
}

/* Insert or replace key's entry (e NULL: remove it), in the write op. */
static int key_set(struct mvcc_store *s, const uint8_t *key, size_t key_len,
		   const struct kent *e)
{
	size_t ll = lkey_len(key_len);
	const uint8_t *suf = key + ll;
	size_t sl = key_len - ll;
	MDB_val k = mval(key, ll), v = {0, NULL};
	int rc = mdb_get(s->op, s->keys, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		return lmdb_err(rc);
	}
	/* Find where the entry goes: [0, at) stays, [skip_to, end) stays. */
	size_t at = v.mv_size, skip_to = v.mv_size, pos = 0;
	struct bent be;
	int r;
	while ((r = bucket_next(v.mv_data, v.mv_size, &pos, &be)) > 0) {
		int c = bytes_cmp(be.suffix, be.suffix_len, suf, sl);
		if (c >= 0) {
			at = be.off;
			skip_to = c == 0 ? be.off + be.len : be.off;
			break;
		}
	}
	if (r < 0) {
		return r;
	}
	size_t add = e ? ENT_FIXED + sl : 0;
	size_t nlen = at + add + (v.mv_size - skip_to);
	if (nlen == 0) {
		rc = w_del(s, s->keys, &k);
		return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
	}
	uint8_t *nb = mem_alloc(nlen);
	if (!nb) {
		return -ENOMEM;
	}
	if (at) {
		memcpy(nb, v.mv_data, at);
	}
	if (e) {
		bucket_write_ent(nb + at, suf, sl, e);
	}
	if (v.mv_size > skip_to) {
		memcpy(nb + at + add, (const uint8_t *)v.mv_data + skip_to,
		       v.mv_size - skip_to);
	}
	MDB_val nv = {nlen, nb};
	rc = w_put(s, s->keys, &k, &nv, 0);
	mem_free(nb);
	return lmdb_err(rc);
}

/* The key's newest revision <= at: 0 and *main, *sub, *tomb, or -ENOENT. */
static int key_rev_at(struct mvcc_store *s, MDB_txn *txn, const struct kent *e,
		      mvcc_rev at, mvcc_rev *main, int64_t *sub, bool *tomb)
{
	if (at >= e->lmain) {
		*main = e->lmain;
		*sub = e->lsub;
		*tomb = e->tomb;
		return 0;
	}
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->krevs, &c);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	uint8_t kb[24];
	krev_key(kb, e->id, at + 1, 0);
	MDB_val k = {24, kb}, v;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0) {
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	} else if (rc == MDB_NOTFOUND) {
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	}
	int ret;
	if (rc != 0) {
		ret = lmdb_err(rc);
	} else if (k.mv_size != 24 || v.mv_size != 1) {
		ret = -ERR_CORRUPT;
	} else if (get_be64(k.mv_data) != e->id) {
		ret = -ENOENT;
	} else {
		*main = (mvcc_rev)get_be64((const uint8_t *)k.mv_data + 8);
		*sub = (int64_t)get_be64((const uint8_t *)k.mv_data + 16);
		*tomb = ((const uint8_t *)v.mv_data)[0] != 0;
		ret = 0;
	}
	mdb_cursor_close(c);
	return ret;
}

/*
 * Visit the key entries in [start, end) in key order (end as in mvcc.h:
 * empty = the single key, "\0" = unbounded).  fn returns > 0 to stop, < 0
 * to fail.  fn must not write to the keys database.
 */
typedef int (*scan_fn)(void *arg, const uint8_t *key, size_t key_len,
		       const struct kent *e);

static bool end_is_inf(const uint8_t *end, size_t end_len)
{
	return end_len == 1 && end[0] == 0;
}

static int scan_keys(struct mvcc_store *s, MDB_txn *txn, const uint8_t *start,
		     size_t start_len, const uint8_t *end, size_t end_len,
		     scan_fn fn, void *arg)
{
	if (end_len == 0) {
		struct kent e;
		int r = key_get(s, txn, start, start_len, &e);
		if (r == -ENOENT) {
			return 0;
		}
		if (r < 0) {
			return r;
		}
		r = fn(arg, start, start_len, &e);
		return r < 0 ? r : 0;
	}
	bool inf = end_is_inf(end, end_len);
	if (!inf && bytes_cmp(end, end_len, start, start_len) <= 0) {
		return 0;
	}
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->keys, &c);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	MDB_val k = mval(start, lkey_len(start_len)), v;
	rc = mdb_cursor_get(c, &k, &v, start_len ? MDB_SET_RANGE : MDB_FIRST);
	int ret = 0;
	struct buf *full = &s->scratch;
	while (rc == 0) {
		size_t pos = 0;
		struct bent be;
		int r;
		while ((r = bucket_next(v.mv_data, v.mv_size, &pos, &be)) > 0) {
			buf_reset(full);
			if (buf_append(full, k.mv_data, k.mv_size) < 0 ||
			    buf_append(full, be.suffix, be.suffix_len) < 0) {
				ret = -ENOMEM;
				goto out;
			}
			if (bytes_cmp(full->data, full->len, start, start_len) <
			    0) {
				continue;
			}
			if (!inf && bytes_cmp(full->data, full->len, end,
					      end_len) >= 0) {
				goto out;
			}
			r = fn(arg, full->data, full->len, &be.e);
			if (r != 0) {
				ret = r < 0 ? r : 0;
				goto out;
			}
		}
		if (r < 0) {
			ret = r;
			goto out;
		}
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	if (rc != MDB_NOTFOUND) {
		ret = lmdb_err(rc);
	}
out:
	mdb_cursor_close(c);
	return ret;
}

/* ---- open / close ---- */

/*
 * A read-only file (mvcc_open_file) must hold every page its meta page
 * names: LMDB maps the file and a page past its end would be SIGBUS, not
 * an error.
 */
/* The bytes up to the last page the newest meta names, and the map's size
 * (map may be NULL). */
static int env_used(struct mvcc_store *s, int64_t *used, int64_t *map)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc = mdb_env_info(s->env, &info);
	if (rc == 0) {
		rc = mdb_env_stat(s->env, &st);
	}
	if (rc != 0) {
		return lmdb_err(rc);
	}
	*used = ((int64_t)info.me_last_pgno + 1) * (int64_t)st.ms_psize;
	if (map) {
		*map = (int64_t)info.me_mapsize;
	}
	return 0;
}

static int check_file_pages(struct mvcc_store *s)
{
	struct stat fst;
	int fd;
	int ret = env_used(s, &s->file_bytes, NULL);
	if (ret < 0) {
		return ret;
	}
	int rc = mdb_env_get_fd(s->env, &fd);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	if (fstat(fd, &fst) < 0) {
		return -errno;
	}
	return (int64_t)fst.st_size < s->file_bytes ? -ERR_CORRUPT : 0;
}

/*
 * A store stopped by a full map (stop_store) replays its log when it is
 * opened again: keep the map the configured room (the map's size above the
 * quota) beyond the pages the file already uses, so that replay can run.
 */
static int map_fit(struct mvcc_store *s)
{
	int64_t used, map;
	int ret = env_used(s, &used, &map);
	if (ret < 0) {
		return ret;
	}
	int64_t room = s->quota > 0 && s->quota < s->map_size
			   ? s->map_size - s->quota
			   : s->map_size / 2;
	if (used + room <= map) {
		return 0;
	}
	s->map_size = used + room;
	return lmdb_err(mdb_env_set_mapsize(s->env, (size_t)s->map_size));
}

static int env_open(struct mvcc_store *s)
{
	/* Read-only: no lock file, no table created, no write ever. */
	unsigned dbi_flags = s->readonly ? 0 : MDB_CREATE;
	int rc = mdb_env_create(&s->env);
	if (rc != 0) {
		s->env = NULL;
		return lmdb_err(rc);
	}
	rc = mdb_env_set_maxdbs(s->env, 6);
	if (rc == 0 && !s->readonly) {
		rc = mdb_env_set_mapsize(s->env, (size_t)s->map_size);
	}
	/*
	 * MDB_NOMETASYNC: a power loss may undo the last commits but never
	 * corrupts the file; the WAL replays what was lost (invariant 5 of
	 * mvcc.h).  MDB_NOTLS: the reusable read txn is not tied to a thread
	 * slot.
	 */
	if (rc == 0 && s->readonly) {
		rc = mdb_env_open(s->env, s->dir,
				  MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK |
				      MDB_NOTLS | MDB_NORDAHEAD,
				  0400);
		if (rc == 0) {
			int r = check_file_pages(s);
			if (r < 0) {
				mdb_env_close(s->env);
				s->env = NULL;
				return r;
			}
		}
	} else if (rc == 0) {
		rc = mdb_env_open(s->env, s->dir,
				  MDB_NOMETASYNC | MDB_NOTLS | MDB_NORDAHEAD,
				  0600);
		if (rc == 0) {
			int r = map_fit(s);
			if (r < 0) {
				mdb_env_close(s->env);
				s->env = NULL;
				return r;
			}
		}
	}
	MDB_txn *txn = NULL;
	if (rc == 0) {
		rc = mdb_txn_begin(s->env, NULL, s->readonly ? MDB_RDONLY : 0,
				   &txn);
	}
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "meta", dbi_flags, &s->meta);
	}
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "hist", dbi_flags, &s->hist);
	}
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "keys", dbi_flags, &s->keys);
	}
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "krevs", dbi_flags, &s->krevs);
	}
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "lkeys", dbi_flags, &s->lkeys);
	}
	if (rc == 0) {
		rc = mdb_dbi_open(txn, "aux", dbi_flags, &s->aux);
	}
	/* A read-only file without cetcd's tables is not a cetcd store. */
	int ret =
	    s->readonly && rc == MDB_NOTFOUND ? -ERR_INVALID : lmdb_err(rc);
	uint64_t v;
	s->rev = 1;
	s->compact_rev = -1;
	s->compact_done = -1;
	s->applied_index = s->applied_term = 0;
	s->next_id = 1;
	if (ret == 0 && (ret = meta_get_u64(txn, s->meta, META_REV, &v)) > 0) {
		s->rev = (mvcc_rev)v;
	}
	if (ret >= 0 &&
	    (ret = meta_get_u64(txn, s->meta, META_COMPACT, &v)) > 0) {
		s->compact_rev = (mvcc_rev)v;
	}
	if (ret >= 0 &&
	    (ret = meta_get_u64(txn, s->meta, META_COMPACT_DONE, &v)) > 0) {
		s->compact_done = (mvcc_rev)v;
	}
	if (ret >= 0 &&
	    (ret = meta_get_u64(txn, s->meta, META_INDEX, &v)) > 0) {
		s->applied_index = v;
	}
	if (ret >= 0 && (ret = meta_get_u64(txn, s->meta, META_TERM, &v)) > 0) {
		s->applied_term = v;
	}
	if (ret >= 0 &&
	    (ret = meta_get_u64(txn, s->meta, META_NEXT_ID, &v)) > 0) {
		s->next_id = v;
	}
	if (ret >= 0) {
		rc = mdb_txn_commit(txn);
		txn = NULL;
		ret = lmdb_err(rc);
	}
	if (txn) {
		mdb_txn_abort(txn);
	}
	if (ret < 0) {
		mdb_env_close(s->env);
		s->env = NULL;
		return ret;
	}
	return 0;
}

int mvcc_open(const char *dir, const struct mvcc_options *opts,
	      struct mvcc_store **out)
{
	struct mvcc_store *s = mem_calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	buf_init(&s->scratch);
	s->dir = mem_strdup(dir);
	if (!s->dir) {
		mem_free(s);
		return -ENOMEM;
	}
	int64_t q = opts ? opts->quota_bytes : 0;
	s->quota = q == 0 ? MVCC_DEFAULT_QUOTA : q;
	if (opts && opts->map_size > 0) {
		s->map_size = opts->map_size;
	} else if (s->quota > 0) {
		/* Above the quota so a full map never comes before NOSPACE. */
		s->map_size = s->quota + s->quota / 2 + (INT64_C(64) << 20);
	} else {
		s->map_size = INT64_C(64) << 30;
	}
	int ret = env_open(s);
	if (ret < 0) {
		mem_free(s->dir);
		mem_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

int mvcc_open_file(const char *path, struct mvcc_store **out)
{
	struct mvcc_store *s = mem_calloc(1, sizeof(*s));
	if (!s) {
		return -ENOMEM;
	}
	buf_init(&s->scratch);
	s->dir = mem_strdup(path);
	if (!s->dir) {
		mem_free(s);
		return -ENOMEM;
	}
	s->readonly = true;
	s->quota = MVCC_DEFAULT_QUOTA;
	int ret = env_open(s);
	if (ret < 0) {
		mem_free(s->dir);
		mem_free(s);
		return ret;
	}
	*out = s;
	return 0;
}

static void env_close(struct mvcc_store *s)
{
	s->op = NULL; /* the write transaction itself, when set */
	s->txn_writes = 0;
	if (s->wtxn) {
		mdb_txn_abort(s->wtxn);
		s->wtxn = NULL;
	}
	if (s->rtxn) {
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
	}
	if (s->env) {
		mdb_env_close(s->env);
		s->env = NULL;
	}
}

void mvcc_close(struct mvcc_store *s)
{
	if (!s) {
		return;
	}
	env_close(s);
	buf_done(&s->scratch);
	mem_free(s->dir);
	mem_free(s);
}

int mvcc_commit(struct mvcc_store *s)
{
	if (s->sticky) {
		return s->sticky;
	}
	if (!s->wtxn) {
		return 0;
	}
	FAILPOINT("mvcc_before_commit");
	int rc = mdb_txn_commit(s->wtxn);
	FAILPOINT("mvcc_after_commit");
	s->wtxn = NULL;
	s->uncommitted = 0;
	if (s->txn_writes > s->max_writes) {
		s->max_writes = s->txn_writes;
	}
	s->txn_writes = 0;
	if (rc != 0) {
		/* The committed state is now unknown: stop (sticky error). */
		s->sticky = lmdb_err(rc);
		return s->sticky;
	}
	return 0;
}

int mvcc_apply_begin(struct mvcc_store *s, uint64_t index, uint64_t term)
{
	if (s->sticky) {
		return s->sticky;
	}
	if (index <= s->applied_index) {
		return 1;
	}
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	ret = w_meta(s, META_INDEX, index);
	if (ret >= 0) {
		ret = w_meta(s, META_TERM, term);
	}
	if (ret >= 0) {
		s->applied_index = index;
		s->applied_term = term;
	}
	ret = wop_end(s, ret);
	/* Planted bug (base/failpoint.h): the index committed without its data.
	 */
	return ret >= 0 && FAILPOINT_BUG("split-applied-commit")
		   ? mvcc_commit(s)
		   : ret;
}

void mvcc_applied(const struct mvcc_store *s, uint64_t *index, uint64_t *term)
{
	*index = s->applied_index;
	*term = s->applied_term;
}

uint64_t mvcc_uncommitted(const struct mvcc_store *s)
{
	return s->uncommitted;
}

mvcc_rev mvcc_current_rev(const struct mvcc_store *s)
{
	return s->rev;
}

mvcc_rev mvcc_compact_rev(const struct mvcc_store *s)
{
	return s->compact_rev;
}

/* ---- range ---- */

struct range_scan {
	struct mvcc_store *s;
	MDB_txn *txn;
	mvcc_rev at;
	bool keys_only;
	bool want_kvs;
	size_t fetch_limit; /* 0: all */
	int64_t count;
	struct kvvec kvs;
};

static int range_visit(void *arg, const uint8_t *key, size_t key_len,
		       const struct kent *e)
{
	(void)key;
	(void)key_len;
	struct range_scan *rs = arg;
	mvcc_rev main;
	int64_t sub;
	bool tomb;
	int r = key_rev_at(rs->s, rs->txn, e, rs->at, &main, &sub, &tomb);
	if (r == -ENOENT || (r == 0 && tomb)) {
		return 0;
	}
	if (r < 0) {
		return r;
	}
	rs->count++;
	if (!rs->want_kvs ||
	    (rs->fetch_limit && rs->kvs.n >= rs->fetch_limit)) {
		return 0;
	}
	struct rec rec;
	r = hist_get(rs->s, rs->txn, main, sub, &rec);
	if (r < 0) {
		return r == -ENOENT ? -ERR_CORRUPT : r;
	}
	struct mvcc_kv *kv = kvvec_push(&rs->kvs);
	if (!kv) {
		return -ENOMEM;
	}
	r = kv_from_rec(kv, &rec, rs->keys_only);
	if (r < 0) {
		rs->kvs.n--;
	}
	return r;
}

static int sort_cmp(const void *a, const void *b, void *arg)
{
	const struct mvcc_kv *x = a, *y = b;
	const int *how = arg; /* target, descending */
	int c = 0;
	switch ((enum mvcc_sort_target)how[0]) {
	case MVCC_SORT_KEY:
		c = bytes_cmp(x->key, x->key_len, y->key, y->key_len);
		break;
	case MVCC_SORT_VERSION:
		c = (x->version > y->version) - (x->version < y->version);
		break;
	case MVCC_SORT_CREATE:
		c = (x->create_revision > y->create_revision) -
		    (x->create_revision < y->create_revision);
		break;
	case MVCC_SORT_MOD:
		c = (x->mod_revision > y->mod_revision) -
		    (x->mod_revision < y->mod_revision);
		break;
	case MVCC_SORT_VALUE:
		c = bytes_cmp(x->value, x->value_len, y->value, y->value_len);
		break;
	}
	if (how[1]) {
		c = -c;
	}
	if (c == 0) {
		/*
		 * etcd compat: ties keep key order in both directions, as Go's
		 * (stable for small inputs) insertion sort leaves them.
		 */
		c = bytes_cmp(x->key, x->key_len, y->key, y->key_len);
	}
	return c;
}

/* Drop the kvs for which drop() is true, keeping order. */
static void prune(struct kvvec *a, mvcc_rev bound, bool mod, bool max)
{
	size_t j = 0;
	for (size_t i = 0; i < a->n; i++) {
		struct mvcc_kv *kv = &a->v[i];
		mvcc_rev r = mod ? kv->mod_revision : kv->create_revision;
		bool drop = max ? r > bound : r < bound;
		if (drop) {
			mvcc_kv_done(kv);
		} else {
			a->v[j++] = *kv;
		}
	}
	a->n = j;
}

/* Range in txn with current revision cur (the header revision). */
static int range_in(struct mvcc_store *s, MDB_txn *txn, mvcc_rev cur,
		    const struct mvcc_range_req *req,
		    struct mvcc_range_resp *resp)
{
	mvcc_rev at = req->revision;
	if (at > cur) {
		return -ERR_FUTURE_REV;
	}
	if (at <= 0) {
		at = cur;
	}
	if (at < s->compact_rev) {
		return -ERR_COMPACTED;
	}
	bool filters = req->min_mod_revision || req->max_mod_revision ||
		       req->min_create_revision || req->max_create_revision;
	struct range_scan rs = {
	    .s = s,
	    .txn = txn,
	    .at = at,
	    /* etcd compat: values are dropped after sorting by them. */
	    .keys_only = req->keys_only && req->sort_target != MVCC_SORT_VALUE,
	    .want_kvs = !req->count_only,
	};
	/*
	 * etcd compat: with a sort order or a filter everything is fetched,
	 * else limit + 1 (to know "more"); a non-key sort target without an
	 * order then sorts only what was fetched.
	 */
	if (req->sort_order == MVCC_SORT_NONE && !filters && req->limit > 0) {
		rs.fetch_limit = (size_t)req->limit + 1;
	}
	int ret = scan_keys(s, txn, req->key, req->key_len, req->range_end,
			    req->range_end_len, range_visit, &rs);
	if (ret < 0) {
		kvs_free(rs.kvs.v, rs.kvs.n);
		return ret;
	}
	if (req->max_mod_revision) {
		prune(&rs.kvs, req->max_mod_revision, true, true);
	}
	if (req->min_mod_revision) {
		prune(&rs.kvs, req->min_mod_revision, true, false);
	}
	if (req->max_create_revision) {
		prune(&rs.kvs, req->max_create_revision, false, true);
	}
	if (req->min_create_revision) {
		prune(&rs.kvs, req->min_create_revision, false, false);
	}
	enum mvcc_sort_order order = req->sort_order;
	if (req->sort_target != MVCC_SORT_KEY && order == MVCC_SORT_NONE) {
		order = MVCC_SORT_ASCEND;
	}
	if (order != MVCC_SORT_NONE && rs.kvs.n > 1) {
		int how[2] = {(int)req->sort_target,
			      order == MVCC_SORT_DESCEND};
		qsort_r(rs.kvs.v, rs.kvs.n, sizeof(rs.kvs.v[0]), sort_cmp, how);
	}
	if (req->keys_only && !rs.keys_only) {
		for (size_t i = 0; i < rs.kvs.n; i++) {
			rs.kvs.v[i].value_len = 0;
		}
	}
	bool more = false;
	if (req->limit > 0 && rs.kvs.n > (size_t)req->limit) {
		for (size_t i = (size_t)req->limit; i < rs.kvs.n; i++) {
			mvcc_kv_done(&rs.kvs.v[i]);
		}
		rs.kvs.n = (size_t)req->limit;
		more = true;
	}
	resp->header_revision = cur;
	resp->kvs = rs.kvs.v;
	resp->n_kvs = rs.kvs.n;
	resp->more = more;
	resp->count = rs.count;
	return 0;
}

int mvcc_range(struct mvcc_store *s, const struct mvcc_range_req *req,
	       struct mvcc_range_resp *resp)
{
	MDB_txn *txn;
	int ret = read_begin(s, &txn);
	if (ret < 0) {
		return ret;
	}
	struct mvcc_range_resp r = {0};
	ret = range_in(s, txn, view_rev(s), req, &r);
	read_end(s, txn);
	if (ret >= 0) {
		*resp = r;
	}
	return ret;
}

/* The live kv of key at the current view, or -ENOENT. */
static int get_live(struct mvcc_store *s, MDB_txn *txn, const uint8_t *key,
		    size_t key_len, struct kent *e, struct mvcc_kv *kv)
{
	int r = key_get(s, txn, key, key_len, e);
	if (r < 0) {
		return r;
	}
	if (e->tomb) {
		return -ENOENT;
	}
	struct rec rec;
	r = hist_get(s, txn, e->lmain, e->lsub, &rec);
	if (r < 0) {
		return r == -ENOENT ? -ERR_CORRUPT : r;
	}
	return kv ? kv_from_rec(kv, &rec, false) : 0;
}

/* ---- writes (inside a write op) ---- */

/* Attach (key != NULL) or detach key id from lease in lkeys. */
static int lease_link(struct mvcc_store *s, int64_t lease, uint64_t id,
		      const uint8_t *key, size_t key_len)
{
	if (lease == 0) {
		return 0;
	}
	uint8_t kb[16];
	put_be64(kb, (uint64_t)lease);
	put_be64(kb + 8, id);
	MDB_val k = {16, kb};
	if (!key) {
		int rc = w_del(s, s->lkeys, &k);
		return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
	}
	MDB_val v = mval(key, key_len);
	return lmdb_err(w_put(s, s->lkeys, &k, &v, 0));
}

/* etcd compat: a put naming a lease the lessor does not know fails. */
static int lease_ok(struct mvcc_store *s, const struct mvcc_put_req *req)
{
	if (req->ignore_lease || req->lease == 0 || s->lease_check == NULL) {
		return 0;
	}
	return s->lease_check(s->lease_check_arg, req->lease);
}

static int put_in(struct mvcc_store *s, const struct mvcc_put_req *req,
		  struct mvcc_put_resp *resp)
{
	if (req->key_len == 0) {
		return -ERR_EMPTY_KEY;
	}
	int lr = lease_ok(s, req);
	if (lr < 0) {
		return lr;
	}
	struct kent e = {0};
	struct mvcc_kv prev = {0};
	bool exists = false, live = false;
	int r = key_get(s, s->op, req->key, req->key_len, &e);
	if (r == 0) {
		exists = true;
	} else if (r != -ENOENT) {
		return r;
	}
	if (exists && !e.tomb) {
		struct rec pr;
		r = hist_get(s, s->op, e.lmain, e.lsub, &pr);
		if (r < 0) {
			return r == -ENOENT ? -ERR_CORRUPT : r;
		}
		r = kv_from_rec(&prev, &pr, false);
		if (r < 0) {
			return r;
		}
		live = true;
	}
	if ((req->ignore_value || req->ignore_lease) && !live) {
		return -ERR_KEY_NOT_FOUND;
	}
	mvcc_rev main = s->rev + 1;
	int64_t sub = s->changes;
	struct rec rec = {
	    .main = main,
	    .sub = sub,
	    .create = live ? prev.create_revision : main,
	    .version = live ? prev.version + 1 : 1,
	    .lease = req->ignore_lease ? prev.lease : req->lease,
	    .prev_main = live ? e.lmain : 0,
	    .prev_sub = live ? e.lsub : 0,
	    .key = req->key,
	    .key_len = req->key_len,
	    .value = req->ignore_value ? prev.value : req->value,
	    .value_len = req->ignore_value ? prev.value_len : req->value_len,
	};
	int ret = hist_put(s, &rec);
	struct kent ne = {
	    .id = exists ? e.id : s->next_id,
	    .lmain = main,
	    .lsub = sub,
	    .tomb = false,
	};
	if (ret >= 0) {
		uint8_t kb[24], t = 0;
		krev_key(kb, ne.id, main, sub);
		MDB_val k = {24, kb}, v = {1, &t};
		ret = lmdb_err(w_put(s, s->krevs, &k, &v, 0));
	}
	if (ret >= 0) {
		ret = key_set(s, req->key, req->key_len, &ne);
	}
	int64_t old_lease = live ? prev.lease : 0;
	if (ret >= 0 && old_lease != rec.lease) {
		ret = lease_link(s, old_lease, ne.id, NULL, 0);
		if (ret >= 0) {
			ret = lease_link(s, rec.lease, ne.id, req->key,
					 req->key_len);
		}
	}
	if (ret < 0) {
		mvcc_kv_done(&prev);
		return ret;
	}
	if (!exists) {
		s->next_id++;
	}
	s->changes++;
	resp->header_revision = main;
	if (req->prev_kv && live) {
		resp->has_prev_kv = true;
		resp->prev_kv = prev;
	} else {
		mvcc_kv_done(&prev);
	}
	return 0;
}

struct key_copy {
	uint8_t *key;
	size_t key_len;
	struct kent e;
	int64_t lease; /* delete_in: the live version's lease */
};

struct key_list {
	struct key_copy *v;
	size_t n, cap;
	bool live_only;
	size_t max; /* 0: all */
};

static void key_list_done(struct key_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		mem_free(l->v[i].key);
	}
	mem_free(l->v);
	memset(l, 0, sizeof(*l));
}

static int collect_visit(void *arg, const uint8_t *key, size_t key_len,
			 const struct kent *e)
{
	struct key_list *l = arg;
	if (l->live_only && e->tomb) {
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct key_copy *v = mem_realloc(l->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	uint8_t *k = mem_dup(key, key_len);
	if (!k) {
		return -ENOMEM;
	}
	l->v[l->n++] = (struct key_copy){k, key_len, *e, 0};
	return l->max && l->n >= l->max ? 1 : 0;
}

static int delete_in(struct mvcc_store *s, const struct mvcc_delete_req *req,
		     struct mvcc_delete_resp *resp)
{
	struct key_list l = {.live_only = true};
	struct kvvec prevs = {0};
	int ret = scan_keys(s, s->op, req->key, req->key_len, req->range_end,
			    req->range_end_len, collect_visit, &l);
	for (size_t i = 0; ret >= 0 && i < l.n; i++) {
		struct rec rec;
		ret = hist_get(s, s->op, l.v[i].e.lmain, l.v[i].e.lsub, &rec);
		if (ret < 0) {
			break;
		}
		l.v[i].lease = rec.lease;
		if (!req->prev_kv) {
			continue;
		}
		struct mvcc_kv *kv = kvvec_push(&prevs);
		if (!kv) {
			ret = -ENOMEM;
			break;
		}
		ret = kv_from_rec(kv, &rec, false);
		if (ret < 0) {
			prevs.n--;
		}
	}
	mvcc_rev main = s->rev + 1;
	for (size_t i = 0; ret >= 0 && i < l.n; i++) {
		struct key_copy *kc = &l.v[i];
		int64_t sub = s->changes + (int64_t)i;
		struct rec rec = {
		    .main = main,
		    .sub = sub,
		    .flags = REC_TOMB,
		    .prev_main = kc->e.lmain,
		    .prev_sub = kc->e.lsub,
		    .key = kc->key,
		    .key_len = kc->key_len,
		};
		ret = hist_put(s, &rec);
		if (ret >= 0) {
			uint8_t kb[24], t = 1;
			krev_key(kb, kc->e.id, main, sub);
			MDB_val k = {24, kb}, v = {1, &t};
			ret = lmdb_err(w_put(s, s->krevs, &k, &v, 0));
		}
		if (ret >= 0) {
			struct kent ne = {kc->e.id, main, sub, true};
			ret = key_set(s, kc->key, kc->key_len, &ne);
		}
		if (ret >= 0) {
			ret = lease_link(s, kc->lease, kc->e.id, NULL, 0);
		}
	}
	if (ret < 0) {
		key_list_done(&l);
		kvs_free(prevs.v, prevs.n);
		return ret;
	}
	s->changes += (int64_t)l.n;
	resp->deleted = (int64_t)l.n;
	resp->header_revision = s->changes > 0 ? main : s->rev;
	resp->prev_kvs = prevs.v;
	resp->n_prev_kvs = prevs.n;
	key_list_done(&l);
	return 0;
}

int mvcc_put(struct mvcc_store *s, const struct mvcc_put_req *req,
	     struct mvcc_put_resp *resp)
{
	if (s->nospace) {
		return -ERR_NO_SPACE;
	}
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	struct mvcc_put_resp r = {0};
	ret = wop_end(s, put_in(s, req, &r));
	if (ret < 0) {
		mvcc_put_resp_done(&r);
		return ret;
	}
	*resp = r;
	return 0;
}

int mvcc_delete_range(struct mvcc_store *s, const struct mvcc_delete_req *req,
		      struct mvcc_delete_resp *resp)
{
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	struct mvcc_delete_resp r = {0};
	ret = wop_end(s, delete_in(s, req, &r));
	if (ret < 0) {
		mvcc_delete_resp_done(&r);
		return ret;
	}
	*resp = r;
	return 0;
}

/* ---- txn ---- */

static bool txn_has_puts(const struct mvcc_txn_req *t);
static bool txn_is_readonly(const struct mvcc_txn_req *t);

static bool ops_have_puts(const struct mvcc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type == MVCC_OP_PUT ||
		    (ops[i].type == MVCC_OP_TXN && ops[i].u.txn &&
		     txn_has_puts(ops[i].u.txn))) {
			return true;
		}
	}
	return false;
}

static bool txn_has_puts(const struct mvcc_txn_req *t)
{
	return ops_have_puts(t->success, t->n_success) ||
	       ops_have_puts(t->failure, t->n_failure);
}

static bool ops_readonly(const struct mvcc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type == MVCC_OP_PUT ||
		    ops[i].type == MVCC_OP_DELETE ||
		    (ops[i].type == MVCC_OP_TXN && ops[i].u.txn &&
		     !txn_is_readonly(ops[i].u.txn))) {
			return false;
		}
	}
	return true;
}

static bool txn_is_readonly(const struct mvcc_txn_req *t)
{
	return ops_readonly(t->success, t->n_success) &&
	       ops_readonly(t->failure, t->n_failure);
}

/* Set of put keys and delete intervals, for etcd's checkIntervals. */
struct ivl {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *end; /* NULL: a point */
	size_t end_len;
};

struct ivset {
	struct ivl *v;
	size_t n, cap;
};

static void ivset_done(struct ivset *a)
{
	mem_free(a->v);
	memset(a, 0, sizeof(*a));
}

static int ivset_add(struct ivset *a, struct ivl iv)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		struct ivl *v = mem_realloc(a->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = iv;
	return 0;
}

/* etcd compat: intervals compare range_end literally, so a "\0" end
 * covers nothing. */
static bool dels_cover(const struct ivset *d, const uint8_t *k, size_t kl)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct ivl *iv = &d->v[i];
		if (!iv->end) {
			if (bytes_cmp(iv->key, iv->key_len, k, kl) == 0) {
				return true;
			}
		} else if (bytes_cmp(iv->key, iv->key_len, k, kl) <= 0 &&
			   bytes_cmp(k, kl, iv->end, iv->end_len) < 0) {
			return true;
		}
	}
	return false;
}

static bool puts_has(const struct ivset *p, const uint8_t *k, size_t kl)
{
	for (size_t i = 0; i < p->n; i++) {
		if (bytes_cmp(p->v[i].key, p->v[i].key_len, k, kl) == 0) {
			return true;
		}
	}
	return false;
}

/* etcd's checkIntervals: fills puts and dels for one op list. */
static int check_intervals(const struct mvcc_op *ops, size_t n,
			   struct ivset *puts, struct ivset *dels)
{
	int ret = 0;
	for (size_t i = 0; i < n && ret >= 0; i++) {
		const struct mvcc_op *op = &ops[i];
		if (op->type == MVCC_OP_DELETE) {
			struct ivl iv = {op->u.del.key, op->u.del.key_len, NULL,
					 0};
			if (op->u.del.range_end_len) {
				iv.end = op->u.del.range_end;
				iv.end_len = op->u.del.range_end_len;
			}
			ret = ivset_add(dels, iv);
		}
	}
	for (size_t i = 0; i < n && ret >= 0; i++) {
		const struct mvcc_op *op = &ops[i];
		if (op->type != MVCC_OP_TXN || !op->u.txn) {
			continue;
		}
		struct ivset pt = {0}, dt = {0}, pe = {0}, de = {0};
		ret = check_intervals(op->u.txn->success, op->u.txn->n_success,
				      &pt, &dt);
		if (ret >= 0) {
			ret = check_intervals(op->u.txn->failure,
					      op->u.txn->n_failure, &pe, &de);
		}
		for (size_t j = 0; ret >= 0 && j < pt.n; j++) {
			if (puts_has(puts, pt.v[j].key, pt.v[j].key_len) ||
			    dels_cover(dels, pt.v[j].key, pt.v[j].key_len)) {
				ret = -ERR_DUPLICATE_KEY;
			} else {
				ret = ivset_add(puts, pt.v[j]);
			}
		}
		for (size_t j = 0; ret >= 0 && j < pe.n; j++) {
			if ((puts_has(puts, pe.v[j].key, pe.v[j].key_len) &&
			     !puts_has(&pt, pe.v[j].key, pe.v[j].key_len)) ||
			    dels_cover(dels, pe.v[j].key, pe.v[j].key_len)) {
				ret = -ERR_DUPLICATE_KEY;
			} else {
				ret = ivset_add(puts, pe.v[j]);
			}
		}
		for (size_t j = 0; ret >= 0 && j < dt.n; j++) {
			ret = ivset_add(dels, dt.v[j]);
		}
		for (size_t j = 0; ret >= 0 && j < de.n; j++) {
			ret = ivset_add(dels, de.v[j]);
		}
		ivset_done(&pt);
		ivset_done(&dt);
		ivset_done(&pe);
		ivset_done(&de);
	}
	for (size_t i = 0; i < n && ret >= 0; i++) {
		const struct mvcc_op *op = &ops[i];
		if (op->type != MVCC_OP_PUT) {
			continue;
		}
		const uint8_t *k = op->u.put.key;
		size_t kl = op->u.put.key_len;
		if (puts_has(puts, k, kl) || dels_cover(dels, k, kl)) {
			ret = -ERR_DUPLICATE_KEY;
		} else {
			ret = ivset_add(puts, (struct ivl){k, kl, NULL, 0});
		}
	}
	return ret;
}

static int check_branch(const struct mvcc_op *ops, size_t n)
{
	struct ivset p = {0}, d = {0};
	int ret = check_intervals(ops, n, &p, &d);
	ivset_done(&p);
	ivset_done(&d);
	return ret;
}

/* Structural checks: empty ops anywhere, then overlapping writes. */
static int check_ops_structure(const struct mvcc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type == MVCC_OP_NONE ||
		    (ops[i].type == MVCC_OP_TXN && !ops[i].u.txn)) {
			return -ERR_KEY_NOT_FOUND;
		}
		if (ops[i].type == MVCC_OP_TXN) {
			const struct mvcc_txn_req *t = ops[i].u.txn;
			int r = check_ops_structure(t->success, t->n_success);
			if (r >= 0) {
				r = check_ops_structure(t->failure,
							t->n_failure);
			}
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

struct path {
	bool *v;
	size_t n, cap;
};

static bool compare_kv(const struct mvcc_compare *c, const struct mvcc_kv *kv)
{
	int res = 0;
	int64_t a = 0;
	switch (c->target) {
	case MVCC_TARGET_VALUE:
		res =
		    bytes_cmp(kv->value, kv->value_len, c->value, c->value_len);
		break;
	case MVCC_TARGET_CREATE:
		a = kv->create_revision;
		break;
	case MVCC_TARGET_MOD:
		a = kv->mod_revision;
		break;
	case MVCC_TARGET_VERSION:
		a = kv->version;
		break;
	case MVCC_TARGET_LEASE:
		a = kv->lease;
		break;
	}
	if (c->target != MVCC_TARGET_VALUE) {
		res = (a > c->number) - (a < c->number);
	}
	switch (c->result) {
	case MVCC_CMP_EQUAL:
		return res == 0;
	case MVCC_CMP_NOT_EQUAL:
		return res != 0;
	case MVCC_CMP_GREATER:
		return res > 0;
	case MVCC_CMP_LESS:
		return res < 0;
	}
	return true;
}

static int eval_compare(struct mvcc_store *s, MDB_txn *txn,
			const struct mvcc_compare *c, bool *ok)
{
	struct mvcc_range_req rq = {
	    .key = c->key,
	    .key_len = c->key_len,
	    .range_end = c->range_end,
	    .range_end_len = c->range_end_len,
	};
	struct mvcc_range_resp rr = {0};
	int ret = range_in(s, txn, view_rev(s), &rq, &rr);
	if (ret < 0) {
		return ret;
	}
	bool res = true;
	if (rr.n_kvs == 0) {
		/* etcd compat: a value compare on a missing key is false,
		 * every other target compares with zero. */
		struct mvcc_kv zero = {0};
		res = c->target != MVCC_TARGET_VALUE && compare_kv(c, &zero);
	}
	for (size_t i = 0; i < rr.n_kvs && res; i++) {
		res = compare_kv(c, &rr.kvs[i]);
	}
	mvcc_range_resp_done(&rr);
	*ok = res;
	return 0;
}

/* etcd's compareToPath: every compare, nested ones too, before any op. */
static int compare_to_path(struct mvcc_store *s, MDB_txn *txn,
			   const struct mvcc_txn_req *t, struct path *p)
{
	bool ok = true;
	for (size_t i = 0; i < t->n_compares && ok; i++) {
		int r = eval_compare(s, txn, &t->compares[i], &ok);
		if (r < 0) {
			return r;
		}
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 8;
		bool *v = mem_realloc(p->v, cap * sizeof(*v));
		if (!v) {
			return -ENOMEM;
		}
		p->v = v;
		p->cap = cap;
	}
	p->v[p->n++] = ok;
	const struct mvcc_op *ops = ok ? t->success : t->failure;
	size_t n = ok ? t->n_success : t->n_failure;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type == MVCC_OP_TXN) {
			int r = compare_to_path(s, txn, ops[i].u.txn, p);
			if (r < 0) {
				return r;
			}
		}
	}
	return 0;
}

/* etcd's checkRequests over the chosen path (puts and ranges). */
static int check_requests(struct mvcc_store *s, MDB_txn *txn,
			  const struct mvcc_txn_req *t, const struct path *p,
			  size_t *pi)
{
	bool ok = p->v[(*pi)++];
	const struct mvcc_op *ops = ok ? t->success : t->failure;
	size_t n = ok ? t->n_success : t->n_failure;
	for (size_t i = 0; i < n; i++) {
		const struct mvcc_op *op = &ops[i];
		int r = 0;
		if (op->type == MVCC_OP_TXN) {
			r = check_requests(s, txn, op->u.txn, p, pi);
		} else if (op->type == MVCC_OP_PUT &&
			   (op->u.put.ignore_value || op->u.put.ignore_lease)) {
			struct kent e;
			r = get_live(s, txn, op->u.put.key, op->u.put.key_len,
				     &e, NULL);
			if (r == -ENOENT) {
				r = -ERR_KEY_NOT_FOUND;
			}
		}
		if (r >= 0 && op->type == MVCC_OP_PUT) {
			r = lease_ok(s, &op->u.put);
		} else if (op->type == MVCC_OP_RANGE &&
			   op->u.range.revision != 0) {
			if (op->u.range.revision > s->rev) {
				r = -ERR_FUTURE_REV;
			} else if (op->u.range.revision < s->compact_rev) {
				r = -ERR_COMPACTED;
			}
		}
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int apply_ops(struct mvcc_store *s, MDB_txn *txn,
		     const struct mvcc_txn_req *t, const struct path *p,
		     size_t *pi, struct mvcc_txn_resp *resp)
{
	bool ok = p->v[(*pi)++];
	const struct mvcc_op *ops = ok ? t->success : t->failure;
	size_t n = ok ? t->n_success : t->n_failure;
	resp->succeeded = ok;
	resp->responses = mem_calloc(n ? n : 1, sizeof(resp->responses[0]));
	if (!resp->responses) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mvcc_op *op = &ops[i];
		struct mvcc_op_resp *r = &resp->responses[i];
		int ret = 0;
		switch (op->type) {
		case MVCC_OP_RANGE:
			ret = range_in(s, s->op ? s->op : txn, view_rev(s),
				       &op->u.range, &r->u.range);
			break;
		case MVCC_OP_PUT:
			ret = put_in(s, &op->u.put, &r->u.put);
			break;
		case MVCC_OP_DELETE:
			ret = delete_in(s, &op->u.del, &r->u.del);
			break;
		case MVCC_OP_TXN:
			r->u.txn = mem_calloc(1, sizeof(*r->u.txn));
			if (!r->u.txn) {
				ret = -ENOMEM;
				break;
			}
			r->type = MVCC_OP_TXN;
			/* etcd compat: a nested txn's header stays empty. */
			ret = apply_ops(s, txn, op->u.txn, p, pi, r->u.txn);
			break;
		case MVCC_OP_NONE:
			ret = -ERR_KEY_NOT_FOUND;
			break;
		}
		if (ret < 0) {
			return ret;
		}
		r->type = op->type;
		resp->n_responses = i + 1;
	}
	return 0;
}

int mvcc_txn(struct mvcc_store *s, const struct mvcc_txn_req *req,
	     struct mvcc_txn_resp *resp)
{
	int ret = check_ops_structure(req->success, req->n_success);
	if (ret >= 0) {
		ret = check_ops_structure(req->failure, req->n_failure);
	}
	if (ret >= 0) {
		ret = check_branch(req->success, req->n_success);
	}
	if (ret >= 0) {
		ret = check_branch(req->failure, req->n_failure);
	}
	if (ret < 0) {
		return ret;
	}
	if (s->nospace && txn_has_puts(req)) {
		return -ERR_NO_SPACE;
	}
	bool write = !txn_is_readonly(req);
	MDB_txn *txn = NULL;
	if (write) {
		ret = wop_begin(s);
		txn = s->op;
	} else {
		ret = read_begin(s, &txn);
	}
	if (ret < 0) {
		return ret;
	}
	struct path p = {0};
	struct mvcc_txn_resp r = {0};
	size_t pi = 0;
	ret = compare_to_path(s, txn, req, &p);
	if (ret >= 0) {
		ret = check_requests(s, txn, req, &p, &pi);
	}
	if (ret >= 0) {
		pi = 0;
		ret = apply_ops(s, txn, req, &p, &pi, &r);
	}
	mem_free(p.v);
	if (write) {
		ret = wop_end(s, ret);
	} else {
		read_end(s, txn);
	}
	if (ret < 0) {
		mvcc_txn_resp_done(&r);
		return ret;
	}
	r.header_revision = s->rev;
	*resp = r;
	return 0;
}

/* ---- compaction ---- */

int mvcc_compact(struct mvcc_store *s, mvcc_rev rev)
{
	if (s->sticky) {
		return s->sticky;
	}
	if (rev <= s->compact_rev) {
		return -ERR_COMPACTED;
	}
	if (rev > s->rev) {
		return -ERR_FUTURE_REV;
	}
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	ret = w_meta(s, META_COMPACT, (uint64_t)rev);
	if (ret >= 0) {
		/* Start over: keys already passed may hold more to remove. */
		MDB_val k =
		    mval(META_COMPACT_CURSOR, strlen(META_COMPACT_CURSOR));
		int rc = w_del(s, s->meta, &k);
		ret = rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
	}
	if (ret >= 0) {
		s->compact_rev = rev;
	}
	return wop_end(s, ret);
}

/* Remove one key's revisions below what compaction keeps; *units counts
 * work; returns 1 when the key is finished, 0 when the budget ran out. */
static int compact_key(struct mvcc_store *s, const struct key_copy *kc,
		       unsigned *units, unsigned budget)
{
	mvcc_rev c = s->compact_rev, km;
	int64_t ks;
	bool ktomb;
	int r = key_rev_at(s, s->op, &kc->e, c, &km, &ks, &ktomb);
	if (r == -ENOENT) {
		return 1;
	}
	if (r < 0) {
		return r;
	}
	/* Every call removes at least one revision or finishes the key, so
	 * steps always make progress. */
	unsigned removed = 0;
	for (;;) {
		if (*units >= budget && removed > 0) {
			return 0;
		}
		uint8_t kb[24];
		krev_key(kb, kc->e.id, 0, 0);
		MDB_val k = {24, kb}, v;
		MDB_cursor *cur;
		int rc = mdb_cursor_open(s->op, s->krevs, &cur);
		if (rc != 0) {
			return lmdb_err(rc);
		}
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		mvcc_rev m = 0;
		int64_t sb = 0;
		bool mine = false;
		if (rc == 0 && k.mv_size == 24 &&
		    get_be64(k.mv_data) == kc->e.id) {
			mine = true;
			m = (mvcc_rev)get_be64((const uint8_t *)k.mv_data + 8);
			sb = (int64_t)get_be64((const uint8_t *)k.mv_data + 16);
		}
		mdb_cursor_close(cur);
		if (rc != 0 && rc != MDB_NOTFOUND) {
			return lmdb_err(rc);
		}
		/* Keep the newest revision <= c unless it is a tombstone. */
		if (!mine || m > km || (m == km && sb > ks) ||
		    (m == km && sb == ks && !ktomb)) {
			break;
		}
		krev_key(kb, kc->e.id, m, sb);
		k = (MDB_val){24, kb};
		rc = w_del(s, s->krevs, &k);
		uint8_t hb[16];
		rev_key(hb, m, sb);
		MDB_val hk = {16, hb};
		if (rc == 0) {
			rc = w_del(s, s->hist, &hk);
		}
		if (rc != 0) {
			return lmdb_err(rc);
		}
		(*units)++;
		removed++;
	}
	if (ktomb && kc->e.lmain == km && kc->e.lsub == ks) {
		/* Nothing of the key is left: drop its index entry. */
		int ret = key_set(s, kc->key, kc->key_len, NULL);
		if (ret < 0) {
			return ret;
		}
	}
	return 1;
}

int mvcc_compact_step(struct mvcc_store *s, unsigned budget, bool *done)
{
	if (s->sticky) {
		return s->sticky;
	}
	if (s->compact_done >= s->compact_rev) {
		*done = true;
		return 0;
	}
	if (budget == 0) {
		budget = 1;
	}
	FAILPOINT("mvcc_during_compaction");
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	MDB_val ck = mval(META_COMPACT_CURSOR, strlen(META_COMPACT_CURSOR));
	MDB_val cv;
	uint8_t *cursor = NULL;
	size_t cursor_len = 0;
	int rc = mdb_get(s->op, s->meta, &ck, &cv);
	if (rc == 0) {
		cursor = mem_dup(cv.mv_data, cv.mv_size);
		cursor_len = cv.mv_size;
		if (!cursor) {
			ret = -ENOMEM;
		}
	} else if (rc != MDB_NOTFOUND) {
		ret = lmdb_err(rc);
	}
	struct key_list l = {.max = budget};
	static const uint8_t inf[1] = {0};
	if (ret >= 0) {
		ret = scan_keys(s, s->op, cursor, cursor_len, inf, 1,
				collect_visit, &l);
	}
	unsigned units = 0;
	size_t i = 0;
	bool finished_all = ret >= 0 && l.n < budget;
	while (ret >= 0 && i < l.n) {
		units++;
		ret = compact_key(s, &l.v[i], &units, budget);
		if (ret == 0) {
			finished_all = false;
			break;
		}
		if (ret < 0) {
			break;
		}
		i++;
		if (units >= budget && i < l.n) {
			finished_all = false;
			break;
		}
	}
	if (ret >= 0) {
		if (finished_all && i == l.n) {
			rc = w_del(s, s->meta, &ck);
			ret = rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
			if (ret >= 0) {
				ret = w_meta(s, META_COMPACT_DONE,
					     (uint64_t)s->compact_rev);
			}
			if (ret >= 0) {
				s->compact_done = s->compact_rev;
			}
		} else {
			/* Resume at the unfinished key, or just after the
			 * last finished one (key + "\0"). */
			struct buf nb = BUF_INIT;
			const struct key_copy *kc =
			    i < l.n ? &l.v[i] : &l.v[l.n - 1];
			ret = buf_append(&nb, kc->key, kc->key_len);
			if (ret >= 0 && i == l.n) {
				ret = buf_append_byte(&nb, 0);
			}
			if (ret >= 0) {
				MDB_val v = {nb.len, nb.data};
				ret = lmdb_err(w_put(s, s->meta, &ck, &v, 0));
			}
			buf_done(&nb);
		}
	}
	mem_free(cursor);
	key_list_done(&l);
	ret = wop_end(s, ret);
	if (ret < 0) {
		return ret;
	}
	*done = s->compact_done >= s->compact_rev;
	return 0;
}

/* ---- quota, size, defrag ---- */

int64_t mvcc_quota(const struct mvcc_store *s)
{
	return s->quota;
}

void mvcc_set_nospace(struct mvcc_store *s, bool on)
{
	s->nospace = on;
}

int mvcc_db_size(struct mvcc_store *s, int64_t *size, int64_t *in_use)
{
	if (s->sticky) {
		return s->sticky;
	}
	int fd;
	int rc = mdb_env_get_fd(s->env, &fd);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		return -errno;
	}
	MDB_txn *txn;
	rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
	if (rc != 0) {
		return lmdb_err(rc);
	}
	MDB_envinfo info;
	MDB_stat ms;
	rc = mdb_env_info(s->env, &info);
	if (rc == 0) {
		rc = mdb_env_stat(s->env, &ms);
	}
	/* Free pages: the freelist (database 0) holds page number lists. */
	size_t free_pages = 0;
	MDB_cursor *c = NULL;
	if (rc == 0) {
		rc = mdb_cursor_open(txn, 0, &c);
	}
	MDB_val k, v;
	while (rc == 0 && (rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		if (v.mv_size >= sizeof(size_t)) {
			free_pages += *(const size_t *)v.mv_data;
		}
	}
	if (c) {
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	if (rc != MDB_NOTFOUND) {
		return lmdb_err(rc);
	}
	int64_t used = (int64_t)(info.me_last_pgno + 1 - free_pages) *
		       (int64_t)ms.ms_psize;
	*size = (int64_t)st.st_size;
	*in_use = used < *size ? used : *size;
	return 0;
}

int mvcc_quota_check(struct mvcc_store *s, int64_t cost)
{
	if (s->quota < 0) {
		return 0;
	}
	int64_t size, in_use;
	int ret = mvcc_db_size(s, &size, &in_use);
	if (ret < 0) {
		return ret;
	}
	return size + cost >= s->quota ? -ERR_NO_SPACE : 0;
}

static int path_join(const char *dir, const char *name, char **out)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = mem_alloc(n);
	if (!p) {
		return -ENOMEM;
	}
	snprintf(p, n, "%s/%s", dir, name);
	*out = p;
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		return -errno;
	}
	int ret = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

int mvcc_defrag(struct mvcc_store *s)
{
	int ret = mvcc_commit(s);
	if (ret < 0) {
		return ret;
	}
	_cleanup_free_ char *tmp = NULL;
	_cleanup_free_ char *tmp_file = NULL;
	_cleanup_free_ char *file = NULL;
	if ((ret = path_join(s->dir, "defrag.tmp", &tmp)) < 0 ||
	    (ret = path_join(tmp, "data.mdb", &tmp_file)) < 0 ||
	    (ret = path_join(s->dir, "data.mdb", &file)) < 0) {
		return ret;
	}
	(void)unlink(tmp_file);
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	if (s->rtxn) {
		mdb_txn_abort(s->rtxn);
		s->rtxn = NULL;
	}
	int rc = mdb_env_copy2(s->env, tmp, MDB_CP_COMPACT);
	if (rc != 0) {
		(void)unlink(tmp_file);
		(void)rmdir(tmp);
		return lmdb_err(rc);
	}
	/* LMDB creates the copy with the umask's mode; keep the store's. */
	(void)chmod(tmp_file, 0600);
	/* The copy is complete and synced: swap it in atomically. */
	env_close(s);
	if (rename(tmp_file, file) < 0) {
		ret = -errno;
	} else {
		ret = fsync_dir(s->dir);
	}
	(void)rmdir(tmp);
	int r2 = env_open(s);
	if (r2 < 0) {
		s->sticky = r2;
		return r2;
	}
	return ret;
}

/* ---- hash ---- */

int mvcc_hash_kv(struct mvcc_store *s, mvcc_rev rev, uint32_t *hash,
		 mvcc_rev *hash_rev, mvcc_rev *compact_rev)
{
	if (rev <= 0) {
		rev = s->rev;
	}
	if (rev > s->rev) {
		return -ERR_FUTURE_REV;
	}
	if (rev < s->compact_rev) {
		return -ERR_COMPACTED;
	}
	MDB_txn *txn;
	int ret = read_begin(s, &txn);
	if (ret < 0) {
		return ret;
	}
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->hist, &c);
	if (rc != 0) {
		read_end(s, txn);
		return lmdb_err(rc);
	}
	uint32_t h = 0;
	MDB_val k, v;
	mvcc_rev cr = s->compact_rev;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		struct rec r;
		ret = rec_decode(&k, &v, &r);
		if (ret < 0) {
			break;
		}
		if (r.main > rev) {
			break;
		}
		if (r.main <= cr) {
			/* Only the newest live version <= cr survives. */
			if (r.flags & REC_TOMB) {
				continue;
			}
			struct kent e;
			mvcc_rev m;
			int64_t sb;
			bool tomb;
			ret = key_get(s, txn, r.key, r.key_len, &e);
			if (ret == 0) {
				ret =
				    key_rev_at(s, txn, &e, cr, &m, &sb, &tomb);
			}
			if (ret < 0) {
				ret = ret == -ENOENT ? -ERR_CORRUPT : ret;
				break;
			}
			if (m != r.main || sb != r.sub) {
				continue;
			}
		}
		h = crc32c_update(h, k.mv_data, k.mv_size);
		h = crc32c_update(h, v.mv_data, v.mv_size);
	}
	mdb_cursor_close(c);
	read_end(s, txn);
	if (ret < 0) {
		return ret;
	}
	if (rc != 0 && rc != MDB_NOTFOUND) {
		return lmdb_err(rc);
	}
	*hash = h;
	*hash_rev = rev;
	*compact_rev = cr;
	return 0;
}

static int hash_table(MDB_txn *txn, MDB_dbi dbi, uint32_t *h)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, dbi, &c);

	if (rc != 0) {
		return lmdb_err(rc);
	}
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0) {
		*h = crc32c_update(*h, k.mv_data, k.mv_size);
		*h = crc32c_update(*h, v.mv_data, v.mv_size);
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : lmdb_err(rc);
}

int mvcc_hash(struct mvcc_store *s, uint32_t *hash, mvcc_rev *rev)
{
	/* meta holds the applied index, which differs between members. */
	const MDB_dbi tables[] = {s->hist, s->keys, s->krevs, s->lkeys, s->aux};
	uint32_t h = 0;
	MDB_txn *txn;
	int r = read_begin(s, &txn);

	if (r < 0) {
		return r;
	}
	for (size_t i = 0; r >= 0 && i < sizeof(tables) / sizeof(tables[0]);
	     i++) {
		r = hash_table(txn, tables[i], &h);
	}
	read_end(s, txn);
	if (r < 0) {
		return r;
	}
	*hash = h;
	*rev = s->rev;
	return 0;
}

int mvcc_file_info(struct mvcc_store *s, uint64_t *records, int64_t *size)
{
	const MDB_dbi tables[] = {s->meta,  s->hist,  s->keys,
				  s->krevs, s->lkeys, s->aux};
	uint64_t n = 0;
	MDB_txn *txn;
	int r = read_begin(s, &txn);

	if (r < 0) {
		return r;
	}
	for (size_t i = 0; r >= 0 && i < sizeof(tables) / sizeof(tables[0]);
	     i++) {
		MDB_stat st;
		int rc = mdb_stat(txn, tables[i], &st);
		if (rc != 0) {
			r = lmdb_err(rc);
		} else {
			n += st.ms_entries;
		}
	}
	read_end(s, txn);
	if (r < 0) {
		return r;
	}
	if (!s->readonly) {
		r = env_used(s, &s->file_bytes, NULL);
		if (r < 0) {
			return r;
		}
	}
	*records = n;
	*size = s->file_bytes;
	return 0;
}

int mvcc_reset_applied(struct mvcc_store *s)
{
	if (s->sticky) {
		return s->sticky;
	}
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	ret = w_meta(s, META_INDEX, 0);
	if (ret >= 0) {
		ret = w_meta(s, META_TERM, 0);
	}
	if (ret >= 0) {
		s->applied_index = 0;
		s->applied_term = 0;
	}
	return wop_end(s, ret);
}

/* ---- events ---- */

int mvcc_events_from(struct mvcc_store *s, mvcc_rev from_rev, size_t max_events,
		     bool with_prev_kv, struct mvcc_events *out)
{
	if (from_rev < s->compact_rev) {
		return -ERR_COMPACTED;
	}
	if (from_rev < 1) {
		from_rev = 1;
	}
	MDB_txn *txn;
	int ret = read_begin(s, &txn);
	if (ret < 0) {
		return ret;
	}
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->hist, &c);
	if (rc != 0) {
		read_end(s, txn);
		return lmdb_err(rc);
	}
	struct mvcc_events e = {.next_rev = from_rev};
	size_t cap = 0;
	uint8_t kb[16];
	rev_key(kb, from_rev, 0);
	MDB_val k = {16, kb}, v;
	mvcc_rev last = 0;
	bool stopped = false;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		struct rec r;
		ret = rec_decode(&k, &v, &r);
		if (ret < 0) {
			break;
		}
		if (max_events && e.n_evs >= max_events && r.main != last) {
			stopped = true;
			break;
		}
		last = r.main;
		e.next_rev = r.main + 1;
		/* A tombstone at or below the compacted revision is gone
		 * logically even before the physical removal. */
		if ((r.flags & REC_TOMB) && r.main <= s->compact_rev) {
			continue;
		}
		if (e.n_evs == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct mvcc_event *nv =
			    mem_realloc(e.evs, ncap * sizeof(*nv));
			if (!nv) {
				ret = -ENOMEM;
				break;
			}
			e.evs = nv;
			cap = ncap;
		}
		struct mvcc_event *ev = &e.evs[e.n_evs];
		memset(ev, 0, sizeof(*ev));
		if (r.flags & REC_TOMB) {
			ev->type = MVCC_EVENT_DELETE;
			ret = kv_fill(&ev->kv, r.key, r.key_len, NULL, 0);
			ev->kv.mod_revision = r.main;
		} else {
			ev->type = MVCC_EVENT_PUT;
			ret = kv_from_rec(&ev->kv, &r, false);
		}
		if (ret < 0) {
			break;
		}
		e.n_evs++;
		if (with_prev_kv && r.prev_main > 0) {
			struct rec pr;
			ret = hist_get(s, txn, r.prev_main, r.prev_sub, &pr);
			if (ret == 0 && !(pr.flags & REC_TOMB)) {
				ret = kv_from_rec(&ev->prev_kv, &pr, false);
				ev->has_prev_kv = ret == 0;
			} else if (ret == -ENOENT) {
				ret = 0;
			}
			if (ret < 0) {
				break;
			}
		}
	}
	if (ret >= 0 && rc != 0 && rc != MDB_NOTFOUND) {
		ret = lmdb_err(rc);
	}
	mdb_cursor_close(c);
	read_end(s, txn);
	if (ret < 0) {
		mvcc_events_done(&e);
		return ret;
	}
	if (!stopped && e.next_rev <= s->rev) {
		/* Everything up to the current revision has been seen. */
		e.next_rev = s->rev + 1;
	}
	*out = e;
	return 0;
}

/* ---- leases' keys ---- */

void mvcc_keys_done(struct mvcc_keys *k)
{
	if (!k) {
		return;
	}
	for (size_t i = 0; i < k->n_keys; i++) {
		mem_free(k->keys[i].key);
	}
	mem_free(k->keys);
	memset(k, 0, sizeof(*k));
}

int mvcc_lease_keys(struct mvcc_store *s, int64_t lease, struct mvcc_keys *out)
{
	MDB_txn *txn;
	int ret = read_begin(s, &txn);
	if (ret < 0) {
		return ret;
	}
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->lkeys, &c);
	if (rc != 0) {
		read_end(s, txn);
		return lmdb_err(rc);
	}
	struct mvcc_keys r = {0};
	size_t cap = 0;
	uint8_t kb[16];
	put_be64(kb, (uint64_t)lease);
	put_be64(kb + 8, 0);
	MDB_val k = {16, kb}, v;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 16 || get_be64(k.mv_data) != (uint64_t)lease) {
			break;
		}
		if (r.n_keys == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			struct mvcc_key *nk =
			    mem_realloc(r.keys, ncap * sizeof(*nk));
			if (!nk) {
				ret = -ENOMEM;
				break;
			}
			r.keys = nk;
			cap = ncap;
		}
		uint8_t *key = mem_dup(v.mv_data, v.mv_size);
		if (!key) {
			ret = -ENOMEM;
			break;
		}
		r.keys[r.n_keys++] = (struct mvcc_key){key, v.mv_size};
	}
	if (ret >= 0 && rc != 0 && rc != MDB_NOTFOUND) {
		ret = lmdb_err(rc);
	}
	mdb_cursor_close(c);
	read_end(s, txn);
	if (ret < 0) {
		mvcc_keys_done(&r);
		return ret;
	}
	*out = r;
	return 0;
}

void mvcc_set_lease_check(struct mvcc_store *s,
			  int (*fn)(void *arg, int64_t lease), void *arg)
{
	s->lease_check = fn;
	s->lease_check_arg = arg;
}

/* ---- aux records ---- */

int mvcc_aux_put(struct mvcc_store *s, const void *key, size_t key_len,
		 const void *val, size_t val_len)
{
	if (key_len == 0) {
		return -ERR_INVALID;
	}
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	MDB_val k = mval(key, key_len), v = mval(val, val_len);
	ret = lmdb_err(w_put(s, s->aux, &k, &v, 0));
	return wop_end(s, ret);
}

int mvcc_aux_del(struct mvcc_store *s, const void *key, size_t key_len)
{
	if (key_len == 0) {
		return -ENOENT;
	}
	int ret = wop_begin(s);
	if (ret < 0) {
		return ret;
	}
	MDB_val k = mval(key, key_len);
	ret = lmdb_err(w_del(s, s->aux, &k));
	return wop_end(s, ret);
}

int mvcc_aux_scan(struct mvcc_store *s, const void *prefix, size_t prefix_len,
		  mvcc_aux_fn fn, void *arg)
{
	MDB_txn *txn;
	int ret = read_begin(s, &txn);
	if (ret < 0) {
		return ret;
	}
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, s->aux, &c);
	if (rc != 0) {
		read_end(s, txn);
		return lmdb_err(rc);
	}
	MDB_val k = mval(prefix, prefix_len), v;
	for (rc = mdb_cursor_get(c, &k, &v,
				 prefix_len ? MDB_SET_RANGE : MDB_FIRST);
	     rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < prefix_len ||
		    (prefix_len &&
		     memcmp(k.mv_data, prefix, prefix_len) != 0)) {
			break;
		}
		ret = fn(arg, k.mv_data, k.mv_size, v.mv_data, v.mv_size);
		if (ret != 0) {
			break;
		}
	}
	if (ret == 0 && rc != 0 && rc != MDB_NOTFOUND) {
		ret = lmdb_err(rc);
	}
	mdb_cursor_close(c);
	read_end(s, txn);
	return ret < 0 ? ret : 0;
}

/* ---- consistent copies (snapshots) ---- */

int mvcc_copy_fd(struct mvcc_store *s, int fd)
{
	/*
	 * The compacting copy walks the tree under a read transaction of
	 * its own (LMDB's MDB_CP_COMPACT), so it never takes the writer
	 * lock that the owner's long-lived write transaction holds; the
	 * plain copy would wait for the owner's next commit.
	 */
	return lmdb_err(mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT));
}

int mvcc_release_pages(struct mvcc_store *s, uint64_t min_writes)
{
	if (s->sticky) {
		return s->sticky;
	}
	if (s->wtxn || s->max_writes < min_writes) {
		return 0;
	}
	s->max_writes = 0;
	/* LMDB frees its list of reusable dirty pages only here. */
	env_close(s);
	int r = env_open(s);
	if (r < 0) {
		s->sticky = r;
		return r;
	}
	return 1;
}

int mvcc_replace(struct mvcc_store *s, const char *path)
{
	_cleanup_free_ char *file = NULL;
	int ret = path_join(s->dir, "data.mdb", &file);
	if (ret < 0) {
		return ret;
	}
	/* What was applied and not committed is superseded by the file. */
	env_close(s);
	s->uncommitted = 0;
	if (rename(path, file) < 0) {
		ret = -errno;
	} else {
		ret = fsync_dir(s->dir);
	}
	int r2 = env_open(s);
	if (r2 < 0) {
		s->sticky = r2;
		return r2;
	}
	return ret;
}
