/*
 * apply.c - etcdserverpb KV requests <-> the MVCC store (apply.h).
 *
 * Requests are translated into mvcc structs that borrow the protobuf's
 * bytes (no copies); results are translated into responses that take over
 * the store's per-kv allocation (key and value in one block), so a range
 * of n keys costs n + 2 allocations beyond the store's own.
 */
#include "server/apply.h"

#include <errno.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"

/* ---- checks (etcd's v3rpc key.go) ---- */

int apply_check_range(const Etcdserverpb__RangeRequest *r)
{
	if (r->key.len == 0) {
		return -ERR_EMPTY_KEY;
	}
	if ((unsigned)r->sort_order > MVCC_SORT_DESCEND ||
	    (unsigned)r->sort_target > MVCC_SORT_VALUE) {
		return -ERR_INVALID;
	}
	return 0;
}

int apply_check_put(const Etcdserverpb__PutRequest *r)
{
	if (r->key.len == 0) {
		return -ERR_EMPTY_KEY;
	}
	if (r->ignore_value && r->value.len != 0) {
		return -ERR_VALUE_PROVIDED;
	}
	if (r->ignore_lease && r->lease != 0) {
		return -ERR_LEASE_PROVIDED;
	}
	return 0;
}

int apply_check_delete_range(const Etcdserverpb__DeleteRangeRequest *r)
{
	return r->key.len == 0 ? -ERR_EMPTY_KEY : 0;
}

static int check_op(const Etcdserverpb__RequestOp *op, unsigned max_ops)
{
	switch (op->request_case) {
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE:
		return apply_check_range(op->request_range);
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
		return apply_check_put(op->request_put);
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
		return apply_check_delete_range(op->request_delete_range);
	case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN:
		return apply_check_txn(op->request_txn, max_ops);
	default:
		/* etcd compat: an empty RequestOp fails at apply with "key
		 * not found" (the store says so), not here. */
		return 0;
	}
}

int apply_check_txn(const Etcdserverpb__TxnRequest *r, unsigned max_ops)
{
	int ret;

	if (r->n_compare > max_ops || r->n_success > max_ops ||
	    r->n_failure > max_ops) {
		return -ERR_TOO_MANY_OPS;
	}
	for (size_t i = 0; i < r->n_compare; i++) {
		if (r->compare[i]->key.len == 0) {
			return -ERR_EMPTY_KEY;
		}
	}
	for (size_t i = 0; i < r->n_success; i++) {
		if ((ret = check_op(r->success[i], max_ops)) < 0) {
			return ret;
		}
	}
	for (size_t i = 0; i < r->n_failure; i++) {
		if ((ret = check_op(r->failure[i], max_ops)) < 0) {
			return ret;
		}
	}
	return 0;
}

static bool ops_have_put(Etcdserverpb__RequestOp **ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i]->request_case ==
			ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT ||
		    (ops[i]->request_case ==
			 ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN &&
		     apply_txn_has_put(ops[i]->request_txn))) {
			return true;
		}
	}
	return false;
}

bool apply_txn_has_put(const Etcdserverpb__TxnRequest *r)
{
	return ops_have_put(r->success, r->n_success) ||
	       ops_have_put(r->failure, r->n_failure);
}

/* ---- responses ---- */

ProtobufCMessage *apply_resp_new(const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *m;
	Etcdserverpb__ResponseHeader *h;

	m = mem_alloc(desc->sizeof_message);
	h = mem_alloc(sizeof(*h));
	if (m == NULL || h == NULL) {
		mem_free(m);
		mem_free(h);
		return NULL;
	}
	protobuf_c_message_init(desc, m);
	etcdserverpb__response_header__init(h);
	/* Every response type of etcd's has its header as field 1, the
	 * first member after base. */
	*(Etcdserverpb__ResponseHeader **)((char *)m +
					   sizeof(ProtobufCMessage)) = h;
	return m;
}

Etcdserverpb__ResponseHeader *apply_resp_header(ProtobufCMessage *resp)
{
	return *(Etcdserverpb__ResponseHeader **)((char *)resp +
						  sizeof(ProtobufCMessage));
}

static void kv_free(Mvccpb__KeyValue *kv)
{
	if (kv != NULL) {
		mem_free(kv->key.data); /* holds the value too */
		mem_free(kv);
	}
}

static void kvs_free(Mvccpb__KeyValue **kvs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		kv_free(kvs[i]);
	}
	mem_free(kvs);
}

void apply_resp_free(ProtobufCMessage *m)
{
	if (m == NULL) {
		return;
	}
	mem_free(apply_resp_header(m));
	if (m->descriptor == &etcdserverpb__range_response__descriptor) {
		Etcdserverpb__RangeResponse *r = (void *)m;
		kvs_free(r->kvs, r->n_kvs);
	} else if (m->descriptor == &etcdserverpb__put_response__descriptor) {
		kv_free(((Etcdserverpb__PutResponse *)m)->prev_kv);
	} else if (m->descriptor ==
		   &etcdserverpb__delete_range_response__descriptor) {
		Etcdserverpb__DeleteRangeResponse *r = (void *)m;
		kvs_free(r->prev_kvs, r->n_prev_kvs);
	} else if (m->descriptor == &etcdserverpb__txn_response__descriptor) {
		Etcdserverpb__TxnResponse *r = (void *)m;
		for (size_t i = 0; i < r->n_responses; i++) {
			Etcdserverpb__ResponseOp *op = r->responses[i];
			if (op == NULL) {
				continue;
			}
			switch (op->response_case) {
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE:
				apply_resp_free(&op->response_range->base);
				break;
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT:
				apply_resp_free(&op->response_put->base);
				break;
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE:
				apply_resp_free(
				    &op->response_delete_range->base);
				break;
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN:
				apply_resp_free(&op->response_txn->base);
				break;
			default:
				break;
			}
			mem_free(op);
		}
		mem_free(r->responses);
	}
	mem_free(m);
}

/* A KeyValue taking over kv's allocation (kv is left empty). */
static Mvccpb__KeyValue *kv_take(struct mvcc_kv *kv)
{
	Mvccpb__KeyValue *p = mem_alloc(sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	mvccpb__key_value__init(p);
	p->key.data = kv->key;
	p->key.len = kv->key_len;
	p->value.data = kv->value_len > 0 ? kv->value : NULL;
	p->value.len = kv->value_len;
	p->create_revision = kv->create_revision;
	p->mod_revision = kv->mod_revision;
	p->version = kv->version;
	p->lease = kv->lease;
	memset(kv, 0, sizeof(*kv));
	return p;
}

static int kvs_take(struct mvcc_kv *kvs, size_t n, Mvccpb__KeyValue ***out,
		    size_t *n_out)
{
	Mvccpb__KeyValue **v;

	*out = NULL;
	*n_out = 0;
	if (n == 0) {
		return 0;
	}
	v = mem_calloc(n, sizeof(*v));
	if (v == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		v[i] = kv_take(&kvs[i]);
		if (v[i] == NULL) {
			kvs_free(v, i);
			return -ENOMEM;
		}
	}
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- requests ---- */

static void range_req(struct mvcc_range_req *q,
		      const Etcdserverpb__RangeRequest *r)
{
	memset(q, 0, sizeof(*q));
	q->key = r->key.data;
	q->key_len = r->key.len;
	q->range_end = r->range_end.data;
	q->range_end_len = r->range_end.len;
	q->limit = r->limit;
	q->revision = r->revision;
	q->sort_order = (enum mvcc_sort_order)r->sort_order;
	q->sort_target = (enum mvcc_sort_target)r->sort_target;
	q->keys_only = r->keys_only;
	q->count_only = r->count_only;
	q->min_mod_revision = r->min_mod_revision;
	q->max_mod_revision = r->max_mod_revision;
	q->min_create_revision = r->min_create_revision;
	q->max_create_revision = r->max_create_revision;
}

static void put_req(struct mvcc_put_req *q, const Etcdserverpb__PutRequest *r)
{
	memset(q, 0, sizeof(*q));
	q->key = r->key.data;
	q->key_len = r->key.len;
	q->value = r->value.data;
	q->value_len = r->value.len;
	q->lease = r->lease;
	q->prev_kv = r->prev_kv;
	q->ignore_value = r->ignore_value;
	q->ignore_lease = r->ignore_lease;
}

static void delete_req(struct mvcc_delete_req *q,
		       const Etcdserverpb__DeleteRangeRequest *r)
{
	memset(q, 0, sizeof(*q));
	q->key = r->key.data;
	q->key_len = r->key.len;
	q->range_end = r->range_end.data;
	q->range_end_len = r->range_end.len;
	q->prev_kv = r->prev_kv;
}

static int range_resp(struct mvcc_range_resp *mr,
		      Etcdserverpb__RangeResponse **out)
{
	Etcdserverpb__RangeResponse *p;

	p = (void *)apply_resp_new(&etcdserverpb__range_response__descriptor);
	if (p == NULL) {
		return -ENOMEM;
	}
	if (kvs_take(mr->kvs, mr->n_kvs, &p->kvs, &p->n_kvs) < 0) {
		apply_resp_free(&p->base);
		return -ENOMEM;
	}
	p->header->revision = mr->header_revision;
	p->more = mr->more;
	p->count = mr->count;
	*out = p;
	return 0;
}

static int put_resp(struct mvcc_put_resp *mr, Etcdserverpb__PutResponse **out)
{
	Etcdserverpb__PutResponse *p;

	p = (void *)apply_resp_new(&etcdserverpb__put_response__descriptor);
	if (p == NULL) {
		return -ENOMEM;
	}
	p->header->revision = mr->header_revision;
	if (mr->has_prev_kv) {
		p->prev_kv = kv_take(&mr->prev_kv);
		if (p->prev_kv == NULL) {
			apply_resp_free(&p->base);
			return -ENOMEM;
		}
	}
	*out = p;
	return 0;
}

static int delete_resp(struct mvcc_delete_resp *mr,
		       Etcdserverpb__DeleteRangeResponse **out)
{
	Etcdserverpb__DeleteRangeResponse *p;

	p = (void *)apply_resp_new(
	    &etcdserverpb__delete_range_response__descriptor);
	if (p == NULL) {
		return -ENOMEM;
	}
	if (kvs_take(mr->prev_kvs, mr->n_prev_kvs, &p->prev_kvs,
		     &p->n_prev_kvs) < 0) {
		apply_resp_free(&p->base);
		return -ENOMEM;
	}
	p->header->revision = mr->header_revision;
	p->deleted = mr->deleted;
	*out = p;
	return 0;
}

int apply_range(struct mvcc_store *s, const Etcdserverpb__RangeRequest *req,
		Etcdserverpb__RangeResponse **out)
{
	struct mvcc_range_req q;
	struct mvcc_range_resp mr;
	int r;

	range_req(&q, req);
	memset(&mr, 0, sizeof(mr));
	r = mvcc_range(s, &q, &mr);
	if (r < 0) {
		return r;
	}
	r = range_resp(&mr, out);
	mvcc_range_resp_done(&mr);
	return r;
}

int apply_put(struct mvcc_store *s, const Etcdserverpb__PutRequest *req,
	      Etcdserverpb__PutResponse **out)
{
	struct mvcc_put_req q;
	struct mvcc_put_resp mr;
	int r;

	put_req(&q, req);
	memset(&mr, 0, sizeof(mr));
	r = mvcc_put(s, &q, &mr);
	if (r < 0) {
		return r;
	}
	r = put_resp(&mr, out);
	mvcc_put_resp_done(&mr);
	return r;
}

int apply_delete_range(struct mvcc_store *s,
		       const Etcdserverpb__DeleteRangeRequest *req,
		       Etcdserverpb__DeleteRangeResponse **out)
{
	struct mvcc_delete_req q;
	struct mvcc_delete_resp mr;
	int r;

	delete_req(&q, req);
	memset(&mr, 0, sizeof(mr));
	r = mvcc_delete_range(s, &q, &mr);
	if (r < 0) {
		return r;
	}
	r = delete_resp(&mr, out);
	mvcc_delete_resp_done(&mr);
	return r;
}

/*
 * The mvcc form of a txn: arrays allocated here, bytes borrowed from the
 * request.  Nested txns hang off their op.
 */
static void txn_req_done(struct mvcc_txn_req *q);

static int txn_ops(Etcdserverpb__RequestOp **ops, size_t n,
		   const struct mvcc_op **out);

static int txn_req(struct mvcc_txn_req *q, const Etcdserverpb__TxnRequest *r)
{
	struct mvcc_compare *cmps = NULL;
	int ret;

	memset(q, 0, sizeof(*q));
	if (r->n_compare > 0) {
		cmps = mem_calloc(r->n_compare, sizeof(*cmps));
		if (cmps == NULL) {
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < r->n_compare; i++) {
		const Etcdserverpb__Compare *c = r->compare[i];
		struct mvcc_compare *m = &cmps[i];

		m->result = (enum mvcc_compare_result)c->result;
		m->target = (enum mvcc_compare_target)c->target;
		m->key = c->key.data;
		m->key_len = c->key.len;
		m->range_end = c->range_end.data;
		m->range_end_len = c->range_end.len;
		switch (c->target_union_case) {
		case ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION:
			m->number = c->version;
			break;
		case ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION:
			m->number = c->create_revision;
			break;
		case ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION:
			m->number = c->mod_revision;
			break;
		case ETCDSERVERPB__COMPARE__TARGET_UNION_LEASE:
			m->number = c->lease;
			break;
		case ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE:
			m->value = c->value.data;
			m->value_len = c->value.len;
			break;
		default:
			break;
		}
	}
	q->compares = cmps;
	q->n_compares = r->n_compare;
	ret = txn_ops(r->success, r->n_success, &q->success);
	if (ret >= 0) {
		q->n_success = r->n_success;
		ret = txn_ops(r->failure, r->n_failure, &q->failure);
	}
	if (ret < 0) {
		txn_req_done(q);
		return ret;
	}
	q->n_failure = r->n_failure;
	return 0;
}

static void ops_done(const struct mvcc_op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (ops[i].type == MVCC_OP_TXN && ops[i].u.txn != NULL) {
			struct mvcc_txn_req *t =
			    (struct mvcc_txn_req *)(uintptr_t)ops[i].u.txn;
			txn_req_done(t);
			mem_free(t);
		}
	}
	mem_free((void *)(uintptr_t)ops);
}

static void txn_req_done(struct mvcc_txn_req *q)
{
	mem_free((void *)(uintptr_t)q->compares);
	ops_done(q->success, q->n_success);
	ops_done(q->failure, q->n_failure);
	memset(q, 0, sizeof(*q));
}

static int txn_ops(Etcdserverpb__RequestOp **ops, size_t n,
		   const struct mvcc_op **out)
{
	struct mvcc_op *v;

	*out = NULL;
	if (n == 0) {
		return 0;
	}
	v = mem_calloc(n, sizeof(*v));
	if (v == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const Etcdserverpb__RequestOp *op = ops[i];
		struct mvcc_txn_req *t;
		int r;

		switch (op->request_case) {
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE:
			v[i].type = MVCC_OP_RANGE;
			range_req(&v[i].u.range, op->request_range);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
			v[i].type = MVCC_OP_PUT;
			put_req(&v[i].u.put, op->request_put);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
			v[i].type = MVCC_OP_DELETE;
			delete_req(&v[i].u.del, op->request_delete_range);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_TXN:
			t = mem_alloc(sizeof(*t));
			r = t == NULL ? -ENOMEM : txn_req(t, op->request_txn);
			if (r < 0) {
				mem_free(t);
				ops_done(v, i);
				return r;
			}
			v[i].type = MVCC_OP_TXN;
			v[i].u.txn = t;
			break;
		default:
			v[i].type = MVCC_OP_NONE;
			break;
		}
	}
	*out = v;
	return 0;
}

static int txn_resp(struct mvcc_txn_resp *mr, Etcdserverpb__TxnResponse **out);

static int op_resp(struct mvcc_op_resp *mo, mvcc_rev rev,
		   Etcdserverpb__ResponseOp **out)
{
	Etcdserverpb__ResponseOp *op = mem_alloc(sizeof(*op));
	int r = 0;

	if (op == NULL) {
		return -ENOMEM;
	}
	etcdserverpb__response_op__init(op);
	switch (mo->type) {
	case MVCC_OP_RANGE:
		r = range_resp(&mo->u.range, &op->response_range);
		op->response_case =
		    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE;
		break;
	case MVCC_OP_PUT:
		r = put_resp(&mo->u.put, &op->response_put);
		op->response_case =
		    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT;
		break;
	case MVCC_OP_DELETE:
		r = delete_resp(&mo->u.del, &op->response_delete_range);
		op->response_case =
		    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE;
		break;
	case MVCC_OP_TXN:
		r = txn_resp(mo->u.txn, &op->response_txn);
		op->response_case =
		    ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN;
		break;
	default:
		break;
	}
	if (r < 0) {
		op->response_case =
		    ETCDSERVERPB__RESPONSE_OP__RESPONSE__NOT_SET;
		mem_free(op);
		return r;
	}
	/* etcd compat: a txn's inner responses carry the txn's revision. */
	if (op->response_case != ETCDSERVERPB__RESPONSE_OP__RESPONSE__NOT_SET) {
		apply_resp_header((ProtobufCMessage *)op->response_range)
		    ->revision = rev;
	}
	*out = op;
	return 0;
}

static int txn_resp(struct mvcc_txn_resp *mr, Etcdserverpb__TxnResponse **out)
{
	Etcdserverpb__TxnResponse *p;
	int r;

	p = (void *)apply_resp_new(&etcdserverpb__txn_response__descriptor);
	if (p == NULL) {
		return -ENOMEM;
	}
	p->header->revision = mr->header_revision;
	p->succeeded = mr->succeeded;
	if (mr->n_responses > 0) {
		p->responses =
		    mem_calloc(mr->n_responses, sizeof(*p->responses));
		if (p->responses == NULL) {
			apply_resp_free(&p->base);
			return -ENOMEM;
		}
		p->n_responses = mr->n_responses;
	}
	for (size_t i = 0; i < mr->n_responses; i++) {
		r = op_resp(&mr->responses[i], mr->header_revision,
			    &p->responses[i]);
		if (r < 0) {
			apply_resp_free(&p->base);
			return r;
		}
	}
	*out = p;
	return 0;
}

int apply_txn(struct mvcc_store *s, const Etcdserverpb__TxnRequest *req,
	      Etcdserverpb__TxnResponse **out)
{
	struct mvcc_txn_req q;
	struct mvcc_txn_resp mr;
	int r;

	r = txn_req(&q, req);
	if (r < 0) {
		return r;
	}
	memset(&mr, 0, sizeof(mr));
	r = mvcc_txn(s, &q, &mr);
	txn_req_done(&q);
	if (r < 0) {
		return r;
	}
	r = txn_resp(&mr, out);
	mvcc_txn_resp_done(&mr);
	return r;
}

int apply_compaction(struct mvcc_store *s,
		     const Etcdserverpb__CompactionRequest *req,
		     Etcdserverpb__CompactionResponse **out)
{
	Etcdserverpb__CompactionResponse *p;
	int r;

	r = mvcc_compact(s, req->revision);
	if (r < 0) {
		return r;
	}
	p = (void *)apply_resp_new(
	    &etcdserverpb__compaction_response__descriptor);
	if (p == NULL) {
		return -ENOMEM;
	}
	p->header->revision = mvcc_current_rev(s);
	*out = p;
	return 0;
}
