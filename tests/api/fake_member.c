/*
 * fake_member.c - the in-memory member of fake_member.h: implements
 * server/member.h for the tests of node/api.
 *
 * Invariants:
 *  1. done never runs inside member_request(): requests are queued and
 *     answered from a zero-delay timer.
 *  2. A request is owned as packed bytes until answered or cancelled;
 *     responses are built in an arena freed right after done returns.
 *  3. Keys are kept sorted (bytewise, shorter first on a common prefix),
 *     as etcd orders them.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/err.h"
#include "base/list.h"
#include "base/mem.h"
#include "proto/proto.h"
#include "server/config.h"
#include "server/srvmetrics.h"
#include "sys/loop.h"
#include "fake_member.h"

#define FAKE_CLUSTER_ID 13950058764791256063ull
#define FAKE_MEMBER_ID 1259761490123835750ull
#define FAKE_TERM 2

struct fkv {
	uint8_t *key;
	size_t klen;
	uint8_t *val;
	size_t vlen;
	int64_t create, mod, version, lease;
};

struct member_req {
	struct list_node node;
	struct member *m;
	enum member_op op;
	const ProtobufCMessageDescriptor *desc;
	uint8_t *bytes;
	size_t len;
	member_done_fn done;
	void *arg;
	bool held;
};

struct member {
	struct sys_loop *loop;
	struct sys_timer *timer;
	struct list_node queue;
	struct fkv *kv;
	size_t n_kv;
	int64_t rev;
	int64_t compacted;
	uint64_t leader;
	bool nospace;
	int fail_err;
	int fail_n;
	int n_cancelled;
	int n_pending;
	int n_received;
	const struct config *cfg;
	struct srvmetrics *smx;
	/* the one Maintenance.Snapshot copy under way */
	struct sys_timer *snap_timer;
	member_snapshot_fn snap_fn;
	void *snap_arg;
};

/* --- arena for responses --- */

struct arena {
	void **p;
	size_t n;
};

static void *az(struct arena *a, size_t size)
{
	void **np = mem_realloc(a->p, (a->n + 1) * sizeof(*np));
	void *p;

	if (!np) {
		return NULL;
	}
	a->p = np;
	p = mem_calloc(1, size ? size : 1);
	if (p) {
		a->p[a->n++] = p;
	}
	return p;
}

static void arena_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++) {
		mem_free(a->p[i]);
	}
	mem_free(a->p);
}

/* --- the key map --- */

static int bcmp_keys(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;

	if (c) {
		return c;
	}
	return al < bl ? -1 : al > bl;
}

static bool in_range(const struct fkv *kv, const ProtobufCBinaryData *key,
		     const ProtobufCBinaryData *end)
{
	int c = bcmp_keys(kv->key, kv->klen, key->data, key->len);

	if (end->len == 0) {
		return c == 0;
	}
	if (c < 0) {
		return false;
	}
	if (end->len == 1 && end->data[0] == 0) {
		return true;
	}
	return bcmp_keys(kv->key, kv->klen, end->data, end->len) < 0;
}

static struct fkv *kv_find(struct member *m, const uint8_t *k, size_t kl,
			   size_t *pos)
{
	size_t lo = 0, hi = m->n_kv;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = bcmp_keys(m->kv[mid].key, m->kv[mid].klen, k, kl);

		if (c == 0) {
			*pos = mid;
			return &m->kv[mid];
		}
		if (c < 0) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	*pos = lo;
	return NULL;
}

/* --- answering --- */

struct ctx {
	struct member *m;
	struct arena *a;
	int64_t wrev; /* the revision writes of this request get */
	bool wrote;
};

static Etcdserverpb__ResponseHeader *header(struct ctx *c, bool full)
{
	Etcdserverpb__ResponseHeader *h = az(c->a, sizeof(*h));

	if (!h) {
		return NULL;
	}
	etcdserverpb__response_header__init(h);
	if (full) {
		h->cluster_id = FAKE_CLUSTER_ID;
		h->member_id = FAKE_MEMBER_ID;
		h->raft_term = FAKE_TERM;
	}
	h->revision = c->wrote ? c->wrev : c->m->rev;
	return h;
}

static Mvccpb__KeyValue *kv_msg(struct ctx *c, const struct fkv *kv,
				bool keys_only)
{
	Mvccpb__KeyValue *k = az(c->a, sizeof(*k));

	if (!k) {
		return NULL;
	}
	mvccpb__key_value__init(k);
	k->key.data = kv->key;
	k->key.len = kv->klen;
	k->create_revision = kv->create;
	k->mod_revision = kv->mod;
	k->version = kv->version;
	k->lease = kv->lease;
	if (!keys_only) {
		k->value.data = kv->val;
		k->value.len = kv->vlen;
	}
	return k;
}

static int do_range(struct ctx *c, const Etcdserverpb__RangeRequest *r,
		    bool full, Etcdserverpb__RangeResponse **out)
{
	struct member *m = c->m;
	Etcdserverpb__RangeResponse *resp = az(c->a, sizeof(*resp));
	size_t n = 0;

	if (!resp) {
		return -ENOMEM;
	}
	if (r->key.len == 0) {
		return -ERR_EMPTY_KEY;
	}
	if (r->revision > 0 && r->revision < m->compacted) {
		return -ERR_COMPACTED;
	}
	if (r->revision > m->rev) {
		return -ERR_FUTURE_REV;
	}
	etcdserverpb__range_response__init(resp);
	resp->kvs = az(c->a, (m->n_kv + 1) * sizeof(*resp->kvs));
	if (!resp->kvs) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_kv; i++) {
		if (!in_range(&m->kv[i], &r->key, &r->range_end)) {
			continue;
		}
		n++;
		if (r->count_only ||
		    (r->limit > 0 && resp->n_kvs >= (size_t)r->limit)) {
			continue;
		}
		resp->kvs[resp->n_kvs] = kv_msg(c, &m->kv[i], r->keys_only);
		if (!resp->kvs[resp->n_kvs]) {
			return -ENOMEM;
		}
		resp->n_kvs++;
	}
	resp->count = (int64_t)n;
	resp->more = n > resp->n_kvs && !r->count_only;
	resp->header = header(c, full);
	if (!resp->header) {
		return -ENOMEM;
	}
	*out = resp;
	return 0;
}

static int do_put(struct ctx *c, const Etcdserverpb__PutRequest *r, bool full,
		  Etcdserverpb__PutResponse **out)
{
	struct member *m = c->m;
	Etcdserverpb__PutResponse *resp = az(c->a, sizeof(*resp));
	struct fkv *kv;
	size_t pos;
	uint8_t *nv;

	if (!resp) {
		return -ENOMEM;
	}
	if (r->key.len == 0) {
		return -ERR_EMPTY_KEY;
	}
	if (m->nospace) {
		return -ERR_NO_SPACE;
	}
	etcdserverpb__put_response__init(resp);
	kv = kv_find(m, r->key.data, r->key.len, &pos);
	if (kv && r->prev_kv) {
		/* Copy: the stored value is replaced below. */
		struct fkv *old = az(c->a, sizeof(*old));

		if (!old) {
			return -ENOMEM;
		}
		*old = *kv;
		old->val = az(c->a, kv->vlen);
		if (!old->val) {
			return -ENOMEM;
		}
		memcpy(old->val, kv->val, kv->vlen);
		resp->prev_kv = kv_msg(c, old, false);
		if (!resp->prev_kv) {
			return -ENOMEM;
		}
	}
	nv = mem_alloc(r->value.len + 1);
	if (!nv) {
		return -ENOMEM;
	}
	if (r->value.len) {
		memcpy(nv, r->value.data, r->value.len);
	}
	if (!kv) {
		struct fkv *n = mem_realloc(m->kv, (m->n_kv + 1) * sizeof(*n));

		if (!n) {
			mem_free(nv);
			return -ENOMEM;
		}
		m->kv = n;
		memmove(&m->kv[pos + 1], &m->kv[pos],
			(m->n_kv - pos) * sizeof(*n));
		m->n_kv++;
		kv = &m->kv[pos];
		memset(kv, 0, sizeof(*kv));
		kv->key = mem_dup(r->key.data, r->key.len);
		kv->klen = r->key.len;
		kv->create = c->wrev;
	} else {
		mem_free(kv->val);
	}
	kv->val = nv;
	kv->vlen = r->value.len;
	kv->mod = c->wrev;
	kv->version++;
	kv->lease = r->lease;
	c->wrote = true;
	resp->header = header(c, full);
	if (!resp->header) {
		return -ENOMEM;
	}
	*out = resp;
	return 0;
}

static int do_delete(struct ctx *c, const Etcdserverpb__DeleteRangeRequest *r,
		     bool full, Etcdserverpb__DeleteRangeResponse **out)
{
	struct member *m = c->m;
	Etcdserverpb__DeleteRangeResponse *resp = az(c->a, sizeof(*resp));
	size_t w = 0;

	if (!resp) {
		return -ENOMEM;
	}
	if (r->key.len == 0) {
		return -ERR_EMPTY_KEY;
	}
	etcdserverpb__delete_range_response__init(resp);
	resp->prev_kvs = az(c->a, (m->n_kv + 1) * sizeof(*resp->prev_kvs));
	if (!resp->prev_kvs) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->n_kv; i++) {
		struct fkv *kv = &m->kv[i];

		if (!in_range(kv, &r->key, &r->range_end)) {
			m->kv[w++] = *kv;
			continue;
		}
		resp->deleted++;
		if (r->prev_kv) {
			struct fkv *old = az(c->a, sizeof(*old));

			if (!old) {
				return -ENOMEM;
			}
			*old = *kv;
			old->key = az(c->a, kv->klen);
			old->val = az(c->a, kv->vlen);
			if (!old->key || !old->val) {
				return -ENOMEM;
			}
			memcpy(old->key, kv->key, kv->klen);
			memcpy(old->val, kv->val, kv->vlen);
			resp->prev_kvs[resp->n_prev_kvs] =
			    kv_msg(c, old, false);
			if (!resp->prev_kvs[resp->n_prev_kvs]) {
				return -ENOMEM;
			}
			resp->n_prev_kvs++;
		}
		mem_free(kv->key);
		mem_free(kv->val);
	}
	m->n_kv = w;
	if (resp->deleted > 0) {
		c->wrote = true;
	}
	resp->header = header(c, full);
	if (!resp->header) {
		return -ENOMEM;
	}
	*out = resp;
	return 0;
}

static bool compare_one(struct member *m, const Etcdserverpb__Compare *cmp)
{
	size_t pos;
	struct fkv *kv = kv_find(m, cmp->key.data, cmp->key.len, &pos);
	int64_t have, want;
	int c;

	switch (cmp->target) {
	case ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE:
		if (!kv) {
			return false;
		}
		c = bcmp_keys(kv->val, kv->vlen, cmp->value.data,
			      cmp->value.len);
		break;
	default:
		have =
		    !kv ? 0
		    : cmp->target ==
			    ETCDSERVERPB__COMPARE__COMPARE_TARGET__VERSION
			? kv->version
		    : cmp->target ==
			    ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE
			? kv->create
		    : cmp->target == ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD
			? kv->mod
			: kv->lease;
		/* The oneof members share storage; each is an int64 here. */
		want = cmp->version;
		c = have < want ? -1 : have > want;
		break;
	}
	switch (cmp->result) {
	case ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL:
		return c == 0;
	case ETCDSERVERPB__COMPARE__COMPARE_RESULT__GREATER:
		return c > 0;
	case ETCDSERVERPB__COMPARE__COMPARE_RESULT__LESS:
		return c < 0;
	default:
		return c != 0;
	}
}

static int do_txn(struct ctx *c, const Etcdserverpb__TxnRequest *r, bool full,
		  Etcdserverpb__TxnResponse **out)
{
	Etcdserverpb__TxnResponse *resp = az(c->a, sizeof(*resp));
	Etcdserverpb__RequestOp **ops;
	size_t n_ops;
	bool ok = true;
	int e = 0;

	if (!resp) {
		return -ENOMEM;
	}
	etcdserverpb__txn_response__init(resp);
	for (size_t i = 0; i < r->n_compare; i++) {
		ok = ok && compare_one(c->m, r->compare[i]);
	}
	resp->succeeded = ok;
	ops = ok ? r->success : r->failure;
	n_ops = ok ? r->n_success : r->n_failure;
	resp->responses = az(c->a, (n_ops + 1) * sizeof(*resp->responses));
	if (!resp->responses) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n_ops && e == 0; i++) {
		Etcdserverpb__ResponseOp *ro = az(c->a, sizeof(*ro));

		if (!ro) {
			return -ENOMEM;
		}
		etcdserverpb__response_op__init(ro);
		switch (ops[i]->request_case) {
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE:
			ro->response_case =
			    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE;
			e = do_range(c, ops[i]->request_range, false,
				     &ro->response_range);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
			ro->response_case =
			    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT;
			e = do_put(c, ops[i]->request_put, false,
				   &ro->response_put);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
			ro->response_case =
			    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE;
			e = do_delete(c, ops[i]->request_delete_range, false,
				      &ro->response_delete_range);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN:
			ro->response_case =
			    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN;
			e = do_txn(c, ops[i]->request_txn, false,
				   &ro->response_txn);
			break;
		default:
			e = -ERR_INVALID;
			break;
		}
		resp->responses[resp->n_responses++] = ro;
	}
	if (e < 0) {
		return e;
	}
	resp->header = header(c, full);
	if (!resp->header) {
		return -ENOMEM;
	}
	*out = resp;
	return 0;
}

static int answer(struct member *m, struct member_req *q, struct arena *a,
		  ProtobufCMessage *req, ProtobufCMessage **out)
{
	struct ctx c = {.m = m, .a = a, .wrev = m->rev + 1};
	int r = 0;

	switch (q->op) {
	case MEMBER_OP_RANGE:
		r = do_range(&c, (void *)req, true, (void *)out);
		break;
	case MEMBER_OP_PUT:
		r = do_put(&c, (void *)req, true, (void *)out);
		break;
	case MEMBER_OP_DELETE_RANGE:
		r = do_delete(&c, (void *)req, true, (void *)out);
		break;
	case MEMBER_OP_TXN:
		r = do_txn(&c, (void *)req, true, (void *)out);
		break;
	case MEMBER_OP_COMPACT: {
		Etcdserverpb__CompactionRequest *cr = (void *)req;
		Etcdserverpb__CompactionResponse *resp = az(a, sizeof(*resp));

		if (!resp) {
			return -ENOMEM;
		}
		if (cr->revision <= m->compacted) {
			return -ERR_COMPACTED;
		}
		if (cr->revision > m->rev) {
			return -ERR_FUTURE_REV;
		}
		m->compacted = cr->revision;
		etcdserverpb__compaction_response__init(resp);
		resp->header = header(&c, true);
		*out = &resp->base;
		break;
	}
	case MEMBER_OP_STATUS: {
		Etcdserverpb__StatusResponse *resp = az(a, sizeof(*resp));

		if (!resp) {
			return -ENOMEM;
		}
		etcdserverpb__status_response__init(resp);
		resp->header = header(&c, true);
		resp->version = (char *)"3.5.13";
		resp->dbsize = 20480;
		resp->dbsizeinuse = 16384;
		resp->leader = m->leader;
		resp->raftindex = 41;
		resp->raftterm = FAKE_TERM;
		resp->raftappliedindex = 41;
		*out = &resp->base;
		break;
	}
	case MEMBER_OP_MEMBER_LIST: {
		Etcdserverpb__MemberListResponse *resp = az(a, sizeof(*resp));
		Etcdserverpb__Member *mb = az(a, sizeof(*mb));
		static char *peer[] = {(char *)"http://127.0.0.1:2380"};
		static char *client[] = {(char *)"http://127.0.0.1:2379"};

		if (!resp || !mb) {
			return -ENOMEM;
		}
		etcdserverpb__member_list_response__init(resp);
		etcdserverpb__member__init(mb);
		mb->id = FAKE_MEMBER_ID;
		mb->name = (char *)"n1";
		mb->n_peerurls = 1;
		mb->peerurls = peer;
		mb->n_clienturls = 1;
		mb->clienturls = client;
		resp->header = header(&c, true);
		if (!resp->header) {
			return -ENOMEM;
		}
		/* etcd compat: the member list header has no revision. */
		resp->header->revision = 0;
		resp->members = az(a, sizeof(*resp->members));
		if (!resp->members) {
			return -ENOMEM;
		}
		resp->members[0] = mb;
		resp->n_members = 1;
		*out = &resp->base;
		break;
	}
	default:
		return -ERR_NOT_SUPPORTED;
	}
	if (r >= 0 && c.wrote) {
		m->rev = c.wrev;
	}
	return r;
}

static void on_timer(struct sys_timer *t, void *arg)
{
	struct member *m = arg;
	struct list_node *pos, *tmp;

	(void)t;
	list_for_each_safe(pos, tmp, &m->queue)
	{
		struct member_req *q = list_entry(pos, struct member_req, node);
		ProtobufCMessage *req = NULL, *resp = NULL;
		struct arena a = {0};
		int r;

		if (q->held) {
			continue;
		}
		list_remove(&q->node);
		m->n_pending--;
		if (m->fail_n > 0) {
			m->fail_n--;
			r = m->fail_err;
		} else {
			r = proto_unpack(q->desc, q->bytes, q->len, &req);
			if (r >= 0) {
				r = answer(m, q, &a, req, &resp);
			}
		}
		q->done(q->arg, r, r < 0 ? NULL : resp);
		arena_free(&a);
		proto_free(req);
		mem_free(q->bytes);
		mem_free(q);
	}
}

static const ProtobufCMessageDescriptor *op_desc(enum member_op op)
{
	switch (op) {
	case MEMBER_OP_RANGE:
		return &etcdserverpb__range_request__descriptor;
	case MEMBER_OP_PUT:
		return &etcdserverpb__put_request__descriptor;
	case MEMBER_OP_DELETE_RANGE:
		return &etcdserverpb__delete_range_request__descriptor;
	case MEMBER_OP_TXN:
		return &etcdserverpb__txn_request__descriptor;
	case MEMBER_OP_COMPACT:
		return &etcdserverpb__compaction_request__descriptor;
	case MEMBER_OP_MEMBER_LIST:
		return &etcdserverpb__member_list_request__descriptor;
	case MEMBER_OP_MEMBER_ADD:
		return &etcdserverpb__member_add_request__descriptor;
	case MEMBER_OP_MEMBER_REMOVE:
		return &etcdserverpb__member_remove_request__descriptor;
	case MEMBER_OP_MEMBER_UPDATE:
		return &etcdserverpb__member_update_request__descriptor;
	case MEMBER_OP_MEMBER_PROMOTE:
		return &etcdserverpb__member_promote_request__descriptor;
	case MEMBER_OP_STATUS:
		return &etcdserverpb__status_request__descriptor;
	case MEMBER_OP_ALARM:
		return &etcdserverpb__alarm_request__descriptor;
	case MEMBER_OP_HASH_KV:
		return &etcdserverpb__hash_kvrequest__descriptor;
	case MEMBER_OP_DEFRAGMENT:
		return &etcdserverpb__defragment_request__descriptor;
	case MEMBER_OP_MOVE_LEADER:
		return &etcdserverpb__move_leader_request__descriptor;
	default:
		return NULL;
	}
}

int member_request(struct member *m, enum member_op op,
		   const ProtobufCMessage *req, member_done_fn done, void *arg,
		   struct member_req **handle)
{
	const ProtobufCMessageDescriptor *d = op_desc(op);
	struct member_req *q;

	if (!d || !req || req->descriptor != d) {
		return -EINVAL;
	}
	q = mem_calloc(1, sizeof(*q));
	if (!q) {
		return -ENOMEM;
	}
	q->len = protobuf_c_message_get_packed_size(req);
	q->bytes = mem_alloc(q->len + 1);
	if (!q->bytes) {
		mem_free(q);
		return -ENOMEM;
	}
	protobuf_c_message_pack(req, q->bytes);
	q->m = m;
	q->op = op;
	q->desc = d;
	q->done = done;
	q->arg = arg;
	if (op == MEMBER_OP_RANGE) {
		const Etcdserverpb__RangeRequest *rr = (const void *)req;

		q->held =
		    rr->key.len >= 4 && memcmp(rr->key.data, "hold", 4) == 0;
	}
	list_push_back(&m->queue, &q->node);
	m->n_pending++;
	m->n_received++;
	sys_timer_start(m->timer, 0, 0);
	if (handle) {
		*handle = q;
	}
	return 0;
}

void member_request_cancel(struct member_req *q)
{
	if (!q) {
		return;
	}
	list_remove(&q->node);
	q->m->n_pending--;
	q->m->n_cancelled++;
	mem_free(q->bytes);
	mem_free(q);
}

void member_info(const struct member *m, struct member_info *out)
{
	memset(out, 0, sizeof(*out));
	out->id = FAKE_MEMBER_ID;
	out->cluster_id = FAKE_CLUSTER_ID;
	out->leader = m->leader;
	out->term = FAKE_TERM;
	out->commit_index = 41;
	out->applied_index = 41;
	out->revision = m->rev;
	out->nospace = m->nospace;
}

/* No store: the Watch service answers UNAVAILABLE (tests/watch has it). */
struct mvcc_store *member_store(struct member *m)
{
	(void)m;
	return NULL;
}

void member_on_revision(struct member *m, void (*fn)(void *arg, int64_t rev),
			void *arg)
{
	(void)m;
	(void)fn;
	(void)arg;
}

int member_new(struct sys_loop *loop, const struct config *cfg,
	       struct member **out, char **errmsg)
{
	struct member *m = mem_calloc(1, sizeof(*m));
	int r;

	(void)errmsg;
	if (!m) {
		return -ENOMEM;
	}
	m->cfg = cfg;
	m->loop = loop;
	list_init(&m->queue);
	m->rev = 1;
	m->leader = FAKE_MEMBER_ID;
	r = sys_timer_new(loop, on_timer, m, &m->timer);
	if (r < 0) {
		mem_free(m);
		return r;
	}
	*out = m;
	return 0;
}

void member_stop(struct member *m, void (*done)(void *arg), void *arg)
{
	(void)m;
	done(arg);
}

void member_free(struct member *m)
{
	struct list_node *pos, *tmp;

	if (!m) {
		return;
	}
	list_for_each_safe(pos, tmp, &m->queue)
	{
		struct member_req *q = list_entry(pos, struct member_req, node);

		list_remove(&q->node);
		mem_free(q->bytes);
		mem_free(q);
	}
	for (size_t i = 0; i < m->n_kv; i++) {
		mem_free(m->kv[i].key);
		mem_free(m->kv[i].val);
	}
	mem_free(m->kv);
	sys_timer_free(m->timer);
	srvmetrics_free(m->smx);
	sys_timer_free(m->snap_timer);
	mem_free(m);
}

/* The fake store: FAKE_SNAPSHOT_SIZE bytes, byte i = (i * 7 + i / 4096). */
static void on_snap_timer(struct sys_timer *t, void *arg)
{
	struct member *m = arg;
	member_snapshot_fn fn = m->snap_fn;
	uint8_t page[4096];
	int fd;

	(void)t;
	m->snap_fn = NULL;
	if (fn == NULL) {
		return;
	}
	fd = memfd_create("fake-snapshot", MFD_CLOEXEC);
	for (size_t off = 0; fd >= 0 && off < FAKE_SNAPSHOT_SIZE;
	     off += sizeof(page)) {
		for (size_t i = 0; i < sizeof(page); i++) {
			page[i] = (uint8_t)((off + i) * 7 + (off + i) / 4096);
		}
		if (write(fd, page, sizeof(page)) != (ssize_t)sizeof(page)) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		fn(m->snap_arg, -EIO, -1, 0);
		return;
	}
	fn(m->snap_arg, 0, fd, FAKE_SNAPSHOT_SIZE);
}

int member_snapshot(struct member *m, member_snapshot_fn done, void *arg,
		    struct member_snapshot **handle)
{
	int r;

	if (m->snap_fn != NULL) {
		return -EBUSY;
	}
	if (m->snap_timer == NULL) {
		r = sys_timer_new(m->loop, on_snap_timer, m, &m->snap_timer);
		if (r < 0) {
			return r;
		}
	}
	m->snap_fn = done;
	m->snap_arg = arg;
	sys_timer_start(m->snap_timer, 0, 0);
	if (handle != NULL) {
		*handle = (struct member_snapshot *)m;
	}
	return 0;
}

void member_snapshot_cancel(struct member_snapshot *h)
{
	struct member *m = (struct member *)h;

	if (m != NULL) {
		m->snap_fn = NULL;
	}
}


static double fake_db_size(void *arg)
{
	(void)arg;
	return 20480;
}

/* The real registration (node/server/srvmetrics.c), fed nothing. */
int member_attach_metrics(struct member *m, struct metrics *mx)
{
	srvmetrics_free(m->smx);
	m->smx = NULL;
	if (mx == NULL) {
		return 0;
	}
	m->smx = srvmetrics_new(mx, fake_db_size, fake_db_size, m);
	if (m->smx == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; m->cfg != NULL && i < m->cfg->n_members; i++) {
		if (m->cfg->members[i].id != FAKE_MEMBER_ID) {
			srvmetrics_peer(m->smx, m->cfg->members[i].id);
		}
	}
	return 0;
}

void fake_member_fail_next(struct member *m, int err, int n)
{
	m->fail_err = err;
	m->fail_n = n;
}

void fake_member_set_leader(struct member *m, uint64_t leader)
{
	m->leader = leader;
}

void fake_member_set_nospace(struct member *m, bool nospace)
{
	m->nospace = nospace;
}

int fake_member_cancelled(const struct member *m)
{
	return m->n_cancelled;
}

int fake_member_pending(const struct member *m)
{
	return m->n_pending;
}

int fake_member_held(struct member *m)
{
	struct list_node *pos;
	int n = 0;

	list_for_each(pos, &m->queue) {
		n += list_entry(pos, struct member_req, node)->held;
	}
	return n;
}

int fake_member_received(const struct member *m)
{
	return m->n_received;
}
