/*
 * restore.h - build a new member's data dir from a snapshot file
 * (`cetcdctl snapshot restore`, etcd's snapshot.Restore).
 *
 * The snapshot is what Maintenance.Snapshot streams: the member's LMDB store
 * (mvcc_copy_fd) followed by the SHA-256 of it.  The data dir made from it
 * holds that store with the Raft bookkeeping of the old cluster dropped,
 * and a new WAL naming the new member and cluster; cetcd started with the
 * same --name, --initial-cluster and --initial-cluster-token (state new)
 * bootstraps the new cluster's log on it and serves the snapshot's keys at
 * the snapshot's revision.
 */
#ifndef CETCD_SERVER_RESTORE_H
#define CETCD_SERVER_RESTORE_H

#include <stdbool.h>

struct restore_options {
	const char *snapshot;	     /* the file to restore from */
	const char *name;	     /* --name */
	const char *data_dir;	     /* --data-dir (NULL: "<name>.etcd") */
	const char *wal_dir;	     /* --wal-dir (NULL: data_dir/member/wal) */
	const char *initial_cluster; /* --initial-cluster */
	const char *token;	     /* --initial-cluster-token */
	const char *peer_urls;	     /* --initial-advertise-peer-urls */
	bool skip_hash_check;	     /* accept a file without its SHA-256 */
};

/*
 * Restore o->snapshot into a data dir that must not exist yet.  0, or an
 * error with *errmsg (mem_free) in etcd's words where etcd has them:
 * -ERR_CONFIG (the cluster flags), -EEXIST (data-dir "d" exists),
 * -ERR_CORRUPT (SHA-256 mismatch or missing; not a cetcd store), -errno.
 * Nothing is created before the snapshot has been checked.
 */
int restore_snapshot(const struct restore_options *o, char **errmsg);

#endif
