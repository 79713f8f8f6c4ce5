/*
 * lessor.h - etcd's lease table (lease/lessor.go): which leases exist,
 * their TTLs and, on the leader, when each expires.  The member (member.c)
 * drives it: grants and revokes are applied from the Raft log on every
 * member; renewals, time-to-live answers and expiry are the leader's.
 *
 * Invariants:
 *  1. The table is replicated state: lessor_grant and lessor_revoke run
 *     only while applying a committed entry, write the store's open write
 *     transaction (the lease record, and for a revoke the deletion of every
 *     attached key in one revision) and give the same result on every
 *     member.  Expiry times are not replicated: they are the primary's
 *     (the leader's) alone.
 *  2. Persisted format (the store's aux records, written in the same LMDB
 *     transaction as the apply): key "lease/" followed by the lease ID as
 *     8 bytes big-endian; value the granted TTL in seconds (after the
 *     minimum-TTL rule) as 8 bytes big-endian.  Attached keys are not
 *     stored here: the store's lease index (mvcc_lease_keys) has them.
 *     lessor_new rebuilds the table from these records.
 *  3. Only a primary lessor expires leases.  A lessor starts as a
 *     non-primary one (every lease lives forever); lessor_promote gives
 *     every lease a fresh expiry of now + TTL + extend (etcd's Promote
 *     without checkpoints), lessor_demote makes them live forever again,
 *     so a leader change never revokes a lease that was kept alive.
 *  4. Time is the monotonic clock in milliseconds, passed in by the
 *     caller (tests use their own).
 */
#ifndef CETCD_SERVER_LESSOR_H
#define CETCD_SERVER_LESSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mvcc_store;
struct lessor;

/* etcd compat: lease.MaxLeaseTTL. */
#define LESSOR_MAX_TTL INT64_C(9000000000)
/* etcd compat: an expired lease whose revoke did not apply is retried. */
#define LESSOR_REVOKE_RETRY_MS 3000

/*
 * etcd compat: minTTL = ceil((3 * electionTicks / 2) * heartbeat) in
 * seconds, with integer division by 2.
 */
int64_t lessor_min_ttl(uint64_t election_ticks, uint64_t heartbeat_ms);

/*
 * Open the lease table of store s (borrowed for the lessor's life) from its
 * aux records (invariant 2) and register the store's lease check (a put
 * naming an unknown lease fails with -ERR_LEASE_NOT_FOUND).  min_ttl in
 * seconds.
 */
int lessor_new(struct mvcc_store *s, int64_t min_ttl, struct lessor **out);
/* Unregisters the store's lease check.  Accepts NULL. */
void lessor_free(struct lessor *l);

/*
 * Apply a grant: -ERR_LEASE_NOT_FOUND for ID 0, -ERR_LEASE_TTL_TOO_LARGE,
 * -ERR_LEASE_EXISTS, or the store's error; else *granted_ttl is the TTL
 * after the minimum-TTL rule.  A primary gives it an expiry of now + TTL.
 */
int lessor_grant(struct lessor *l, int64_t id, int64_t ttl, uint64_t now_ms,
		 int64_t *granted_ttl);
/*
 * Apply a revoke: delete the lease's keys (sorted, as one txn of
 * DeleteRanges: one revision, none when there are no keys) and its record.
 * -ERR_LEASE_NOT_FOUND, or the store's error (nothing changed then).
 */
int lessor_revoke(struct lessor *l, int64_t id);

bool lessor_exists(const struct lessor *l, int64_t id);
/* The granted TTL in seconds, or -ERR_LEASE_NOT_FOUND. */
int64_t lessor_ttl(const struct lessor *l, int64_t id);
size_t lessor_count(const struct lessor *l);
/* The IDs in ascending order (*ids mem_alloc'd, NULL when none). */
int lessor_ids(const struct lessor *l, int64_t **ids, size_t *n);

bool lessor_is_primary(const struct lessor *l);
void lessor_promote(struct lessor *l, uint64_t now_ms, uint64_t extend_ms);
void lessor_demote(struct lessor *l);

/*
 * Primary only.  Renew: the TTL (the lease expires at now + TTL), or
 * -ERR_LEASE_NOT_FOUND, or -EAGAIN when it already expired and its revoke
 * is pending (etcd compat: the renewal waits for the revoke or a
 * demotion), or -ERR_NOT_LEADER when not primary.
 */
int64_t lessor_renew(struct lessor *l, int64_t id, uint64_t now_ms);
/*
 * Primary only: remaining whole seconds (truncated, at least 0), or
 * -ERR_LEASE_NOT_FOUND, or -ERR_NOT_LEADER when not primary.
 */
int64_t lessor_remaining(const struct lessor *l, int64_t id, uint64_t now_ms);

/*
 * Primary only: up to max expired leases to revoke now (their IDs into
 * ids); each is not offered again for LESSOR_REVOKE_RETRY_MS.  Returns
 * how many.
 */
size_t lessor_expired(struct lessor *l, uint64_t now_ms, int64_t *ids,
		      size_t max);

#endif
