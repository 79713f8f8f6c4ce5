/*
 * ids.h - member and cluster IDs derived exactly as etcd derives them
 * (reference etcd-v3.md §7.7; etcd's membership member.go and cluster.go).
 *
 * Invariants:
 *  1. The same peer URLs and token always give the same member ID; the
 *     order in which the URLs are given does not matter (they are sorted
 *     bytewise first, as Go's sort.Strings does).
 *  2. The cluster ID depends only on the set of member IDs, not on their
 *     order.
 *  3. IDs print as lowercase hex without padding (etcd's types.ID.String()).
 */
#ifndef CETCD_SERVER_IDS_H
#define CETCD_SERVER_IDS_H

#include <stddef.h>
#include <stdint.h>

/* Room for an ID in hex plus the NUL. */
#define IDS_HEX_LEN 17

/*
 * The member ID: the first 8 bytes, big-endian, of SHA-1 over the sorted
 * peer URLs concatenated with nothing between them, followed by token.
 * A bootstrap member passes its initial-cluster-token and now_unix < 0; a
 * member added at run time (MemberAdd) passes token "" and the current Unix
 * time in seconds, which etcd appends in decimal.  0 or -ENOMEM.
 */
int ids_member_id(const char *const *peer_urls, size_t n_urls,
		  const char *token, long long now_unix, uint64_t *out);

/*
 * The cluster ID: the first 8 bytes, big-endian, of SHA-1 over the member
 * IDs sorted ascending, each written as 8 big-endian bytes.  0 or -ENOMEM.
 */
int ids_cluster_id(const uint64_t *member_ids, size_t n_ids, uint64_t *out);

/* Format id as etcd prints it ("17ac6c9b1b6e7f0c"); returns out. */
char *ids_format(uint64_t id, char out[IDS_HEX_LEN]);

/* Parse hex as ids_format writes it (1-16 hex digits). 0 or -EINVAL. */
int ids_parse(const char *s, uint64_t *out);

#endif
