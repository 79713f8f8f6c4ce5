/*
 * ids.c - etcd's member and cluster ID derivation (ids.h).
 *
 * etcd compat: both IDs are truncated SHA-1 digests, so the same
 * configuration yields the same IDs in etcd and in cetcd; operators and
 * tests can compare `member list` output between the two.
 */
#include "server/ids.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base/buf.h"
#include "base/mem.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int sha1_prefix(const void *p, size_t n, uint64_t *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	uint64_t v = 0;

	if (!EVP_Digest(p, n, md, &md_len, EVP_sha1(), NULL) || md_len < 8) {
		return -EIO;
	}
	for (int i = 0; i < 8; i++) {
		v = v << 8 | md[i];
	}
	*out = v;
	return 0;
}

int ids_member_id(const char *const *peer_urls, size_t n_urls,
		  const char *token, long long now_unix, uint64_t *out)
{
	_cleanup_free_ const char **sorted = NULL;
	struct buf b = BUF_INIT;
	int r = 0;

	sorted = mem_calloc(n_urls ? n_urls : 1, sizeof(*sorted));
	if (!sorted) {
		return -ENOMEM;
	}
	if (n_urls) {
		memcpy(sorted, peer_urls, n_urls * sizeof(*sorted));
	}
	if (n_urls > 1) { /* qsort(NULL, 0) is undefined */
		qsort(sorted, n_urls, sizeof(*sorted), cmp_str);
	}
	for (size_t i = 0; i < n_urls && r >= 0; i++) {
		r = buf_append_str(&b, sorted[i]);
	}
	if (r >= 0) {
		r = buf_append_str(&b, token ? token : "");
	}
	if (r >= 0 && now_unix >= 0) {
		r = buf_printf(&b, "%lld", now_unix);
	}
	if (r >= 0) {
		r = sha1_prefix(b.data ? b.data : (const uint8_t *)"", b.len,
				out);
	}
	buf_done(&b);
	return r < 0 ? r : 0;
}

int ids_cluster_id(const uint64_t *member_ids, size_t n_ids, uint64_t *out)
{
	_cleanup_free_ uint64_t *sorted = NULL;
	struct buf b = BUF_INIT;
	int r = 0;

	sorted = mem_calloc(n_ids ? n_ids : 1, sizeof(*sorted));
	if (!sorted) {
		return -ENOMEM;
	}
	if (n_ids) {
		memcpy(sorted, member_ids, n_ids * sizeof(*sorted));
	}
	if (n_ids > 1) { /* qsort(NULL, 0) is undefined */
		qsort(sorted, n_ids, sizeof(*sorted), cmp_u64);
	}
	for (size_t i = 0; i < n_ids && r >= 0; i++) {
		r = buf_append_u64be(&b, sorted[i]);
	}
	if (r >= 0) {
		r = sha1_prefix(b.data ? b.data : (const uint8_t *)"", b.len,
				out);
	}
	buf_done(&b);
	return r < 0 ? r : 0;
}

char *ids_format(uint64_t id, char out[IDS_HEX_LEN])
{
	snprintf(out, IDS_HEX_LEN, "%" PRIx64, id);
	return out;
}

int ids_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 16) {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9') {
			d = (unsigned)(c - '0');
		} else if (c >= 'a' && c <= 'f') {
			d = (unsigned)(c - 'a' + 10);
		} else if (c >= 'A' && c <= 'F') {
			d = (unsigned)(c - 'A' + 10);
		} else {
			return -EINVAL;
		}
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}
