/*
 * helpers.h - small wrappers the mvcc tests share: C strings as keys,
 * results checked with ck_assert so each test reads as a transcript.
 */
#ifndef CETCD_TESTS_MVCC_HELPERS_H
#define CETCD_TESTS_MVCC_HELPERS_H

#include <string.h>

#include "base/err.h"
#include "mvcc/mvcc.h"
#include "testlib.h"

static inline struct mvcc_store *h_open(const char *dir)
{
	struct mvcc_store *s = NULL;
	ck_assert_int_eq(mvcc_open(dir, NULL, &s), 0);
	return s;
}

static inline mvcc_rev h_putb(struct mvcc_store *s, const void *k, size_t kl,
			      const void *v, size_t vl, int64_t lease)
{
	struct mvcc_put_req rq = {.key = k,
				  .key_len = kl,
				  .value = v,
				  .value_len = vl,
				  .lease = lease};
	struct mvcc_put_resp rp;
	ck_assert_int_eq(mvcc_put(s, &rq, &rp), 0);
	mvcc_rev rev = rp.header_revision;
	mvcc_put_resp_done(&rp);
	return rev;
}

static inline mvcc_rev h_put(struct mvcc_store *s, const char *k, const char *v)
{
	return h_putb(s, k, strlen(k), v, strlen(v), 0);
}

/* Deleted count; *rev (may be NULL) gets the header revision. */
static inline int64_t h_del(struct mvcc_store *s, const char *k,
			    const char *end, mvcc_rev *rev)
{
	struct mvcc_delete_req rq = {.key = (const uint8_t *)k,
				     .key_len = strlen(k),
				     .range_end = (const uint8_t *)end,
				     .range_end_len =
					 end ? (end[0] ? strlen(end) : 1) : 0};
	struct mvcc_delete_resp rp;
	ck_assert_int_eq(mvcc_delete_range(s, &rq, &rp), 0);
	if (rev) {
		*rev = rp.header_revision;
	}
	int64_t n = rp.deleted;
	mvcc_delete_resp_done(&rp);
	return n;
}

/* A range over C strings; end "" means "\0" (from key), NULL one key. */
static inline struct mvcc_range_req h_rq(const char *k, const char *end)
{
	struct mvcc_range_req rq = {.key = (const uint8_t *)k,
				    .key_len = strlen(k),
				    .range_end = (const uint8_t *)end,
				    .range_end_len =
					end ? (end[0] ? strlen(end) : 1) : 0};
	return rq;
}

static inline void h_range(struct mvcc_store *s,
			   const struct mvcc_range_req *rq,
			   struct mvcc_range_resp *rp)
{
	ck_assert_int_eq(mvcc_range(s, rq, rp), 0);
}

/* The keys of a range response joined by ',' into out. */
static inline const char *h_keys(const struct mvcc_range_resp *rp, char *out,
				 size_t size)
{
	size_t n = 0;
	out[0] = 0;
	for (size_t i = 0; i < rp->n_kvs && n < size; i++) {
		n += (size_t)snprintf(out + n, size - n, "%s%.*s", i ? "," : "",
				      (int)rp->kvs[i].key_len,
				      (const char *)rp->kvs[i].key);
	}
	return out;
}

/* Get one key at rev (0: current); returns 0 and fills kv, or -ENOENT. */
static inline int h_get(struct mvcc_store *s, const char *k, mvcc_rev rev,
			struct mvcc_kv *kv)
{
	struct mvcc_range_req rq = h_rq(k, NULL);
	rq.revision = rev;
	struct mvcc_range_resp rp;
	int r = mvcc_range(s, &rq, &rp);
	if (r < 0) {
		return r;
	}
	if (rp.n_kvs == 0) {
		mvcc_range_resp_done(&rp);
		return -ENOENT;
	}
	*kv = rp.kvs[0];
	rp.kvs[0].key = NULL;
	mvcc_range_resp_done(&rp);
	return 0;
}

#endif
