/*
 * member_snap.c - snapshots: the member's own every snapshot-count
 * entries, and the store sent to a follower that is too far behind.
 *
 * Maintenance.Snapshot and a leader's MsgSnap both stream a consistent
 * copy of the store, made on a thread (snapcopy.h) after a commit.  A
 * MsgSnap never goes on the Raft stream: the leader copies the store and
 * sends both on a transfer of their own (peer_transport_send_snapshot),
 * then reports the outcome to Raft.  The follower's transport verifies and
 * syncs the file; member_snap_on_peer_snapshot keeps it as pending_db and
 * steps the MsgSnap; the next Ready's snapshot installs it
 * (member_snap_install).
 *
 * Invariants:
 *  1. A snapshot never covers writes the store could lose: the store is
 *     committed before the snapshot is written, and before WAL segments
 *     behind it are released.
 *  2. A leader's copy has applied >= the snapshot's index (the snapshot
 *     is taken after the commit of invariant 1).
 *  3. Installing a received snapshot swaps the store first, then writes
 *     the WAL, so a crash between the two leaves a store ahead of the log
 *     (replay skips what it has), never behind it.
 *  4. At most one transfer per follower (m->snap_sends); a received store
 *     not installed by the next Ready is dropped.
 */
#include "server/member_int.h"

#include <malloc.h>

/*
 * After the in-memory Raft log was cut (a snapshot of our own, or one
 * installed from the leader) or LMDB's page cache freed: what was dropped
 * was most of the heap after a burst of writes (tests/bench/README.md),
 * and glibc returns only free memory at the top of the heap by itself,
 * while this lay below what is kept.  malloc_trim gives the free pages
 * back wherever they are; it walks the free lists once per snapshot, not
 * per write.
 */
void member_return_freed_memory(void)
{
	(void)malloc_trim(0);
}

static raft_index catchup_entries(const struct member *m)
{
	/* etcd compat: --experimental-snapshot-catchup-entries (0: 5000). */
	return m->cfg->snapshot_catchup_entries > 0
		   ? m->cfg->snapshot_catchup_entries
		   : SNAPSHOT_CATCHUP_ENTRIES;
}

static uint64_t log_bytes(const struct member *m)
{
	return m->cfg->snapshot_log_bytes > 0 ? m->cfg->snapshot_log_bytes
					      : SNAPSHOT_LOG_BYTES;
}

/*
 * Every snapshot-count applied entries, or half of SNAPSHOT_LOG_BYTES of
 * them (member_int.h): commit the store (the snapshot must not cover
 * writes the store could lose), write a snapshot of the membership at the
 * applied index, then release WAL segments and memory behind it, keeping
 * SNAPSHOT_CATCHUP_ENTRIES for slow followers, at most the other half of
 * SNAPSHOT_LOG_BYTES of them.  So the applied part of the log in memory
 * stays under SNAPSHOT_LOG_BYTES.
 */
void member_snap_maybe_take(struct member *m)
{
	uint8_t *data = NULL;
	size_t len = 0;
	raft_index keep_from, window, last;
	struct raft_storage st = walstore_storage(m->ws);
	int r;

	if (m->applied <= m->snap_index ||
	    (m->applied < m->snap_index + m->cfg->snapshot_count &&
	     m->applied_bytes < log_bytes(m) / 2)) {
		return;
	}
	/* The store can be ahead of the log (invariant 3: a crash while a
	 * received snapshot was being installed).  Raft cannot snapshot past
	 * its log: wait until the log has caught up with the store. */
	if (st.last_index(st.ctx, &last) < 0 || m->applied > last) {
		return;
	}
	r = mvcc_commit(m->store);
	if (r < 0) {
		member_fail_at(m, r, "committing the store before a snapshot",
			       member_store_file(m));
		return;
	}
	m->ops_uncommitted = 0;
	r = member_conf_pack(m, &data, &len);
	if (r >= 0) {
		r = walstore_create_snapshot(m->ws, m->applied,
					     raft_conf(m->raft), data, len);
	}
	mem_free(data);
	if (r < 0) {
		member_fail_at(m, r, "writing a snapshot",
			       member_snapshot_file(m));
		return;
	}
	m->snap_index = m->applied;
	m->applied_bytes = 0;
	keep_from = m->applied > catchup_entries(m)
			? m->applied - catchup_entries(m)
			: 0;
	window = walstore_window(m->ws, m->applied, log_bytes(m) / 2);
	if (window > keep_from) {
		keep_from = window;
	}
	r = walstore_compact(m->ws, keep_from, SNAPSHOTS_KEPT);
	if (r < 0) {
		log_warn("member: releasing the WAL behind snapshot %" PRIu64
			 ": %s",
			 m->snap_index, err_str(r));
	}
	member_return_freed_memory();
	log_info("member %016" PRIx64 ": snapshot at index %" PRIu64, m->id,
		 m->snap_index);
}

struct snap_send {
	struct list_node node; /* m->snap_sends */
	struct member *m;
	raft_id to;
	raft_index index;
	uint8_t *msg; /* the encoded MsgSnap */
	size_t len;
	struct snapcopy *copy; /* while the store is being copied */
	int early_err;	       /* failed inside a Ready: report after it */
};

int member_snapshot(struct member *m, member_snapshot_fn done, void *arg,
		    struct member_snapshot **handle)
{
	struct snapcopy *c;
	int r;

	if (m->error != 0 || m->stopped || m->store == NULL) {
		return m->error != 0 ? m->error : -ERR_STOPPED;
	}
	/* etcd compat: the backend commits before it snapshots. */
	r = mvcc_commit(m->store);
	if (r < 0) {
		return r;
	}
	m->ops_uncommitted = 0;
	r = snapcopy_start(sys_loop_base(m->loop), &m->copies, m->store,
			   m->cfg->snap_dir, done, arg, &c);
	if (r < 0) {
		return r;
	}
	if (handle != NULL) {
		*handle = (struct member_snapshot *)c;
	}
	return 0;
}

void member_snapshot_cancel(struct member_snapshot *h)
{
	snapcopy_cancel((struct snapcopy *)h);
}

static void snap_send_free(struct snap_send *ss)
{
	list_remove(&ss->node);
	mem_free(ss->msg);
	mem_free(ss);
}

/* Tell Raft how the transfer ended (never inside a Ready). */
static void snap_send_end(struct snap_send *ss, int err)
{
	struct member *m = ss->m;
	char idh[IDS_HEX_LEN];

	if (err < 0) {
		log_warn("member %016" PRIx64 ": sending snapshot %" PRIu64
			 " to %s failed: %s",
			 m->id, ss->index, ids_format(ss->to, idh),
			 err_str(err));
	} else {
		log_info("member %016" PRIx64 ": snapshot %" PRIu64
			 " sent to %s",
			 m->id, ss->index, ids_format(ss->to, idh));
	}
	if (m->error == 0 && !m->stopped && m->raft != NULL) {
		member_check_raft(
		    m, raft_report_snapshot(m->raft, ss->to, err < 0),
		    "raft, reporting a snapshot");
		member_kick(m);
	}
	snap_send_free(ss);
}

static void snap_sent(void *arg, raft_id to, int err)
{
	(void)to;
	snap_send_end(arg, err);
}

static void snap_copied(void *arg, int err, int fd, uint64_t size)
{
	struct snap_send *ss = arg;
	struct member *m = ss->m;
	char idh[IDS_HEX_LEN];

	ss->copy = NULL;
	if (err >= 0) {
		log_info("member %016" PRIx64 ": sending snapshot %" PRIu64
			 " (%" PRIu64 " bytes of store) to %s",
			 m->id, ss->index, size, ids_format(ss->to, idh));
		err = peer_transport_send_snapshot(
		    m->tr, ss->to, ss->msg, ss->len, fd, size, snap_sent, ss);
	}
	if (err < 0) {
		snap_send_end(ss, err);
	}
}

/* From send_messages, inside a Ready: start copying, report later. */
void member_snap_send_start(struct member *m, const struct raft_message *msg)
{
	struct list_node *pos;
	struct snap_send *ss;
	int r;

	list_for_each(pos, &m->snap_sends)
	{
		ss = container_of(pos, struct snap_send, node);
		if (ss->to == msg->to) {
			return; /* Raft waits for that one's report */
		}
	}
	ss = mem_calloc(1, sizeof(*ss));
	if (ss == NULL) {
		member_note_unreachable(m, msg->to);
		return;
	}
	ss->m = m;
	ss->to = msg->to;
	ss->index = msg->snapshot.meta.index;
	list_push_back(&m->snap_sends, &ss->node);
	r = raftmsg_encode(msg, &ss->msg, &ss->len);
	if (r >= 0) {
		r = mvcc_commit(m->store);
		if (r >= 0) {
			m->ops_uncommitted = 0;
		}
	}
	if (r >= 0) {
		r = snapcopy_start(sys_loop_base(m->loop), &m->copies, m->store,
				   m->cfg->snap_dir, snap_copied, ss,
				   &ss->copy);
	}
	if (r < 0) {
		ss->early_err = r;
		member_kick(m);
	}
}

/* After a Ready: a received store its snapshot did not use is dropped;
 * transfers that failed inside the Ready are reported. */
void member_snap_drop_pending(struct member *m)
{
	struct list_node *pos, *tmp;

	if (m->pending_db != NULL) {
		(void)unlink(m->pending_db);
		mem_free(m->pending_db);
		m->pending_db = NULL;
	}
	list_for_each_safe(pos, tmp, &m->snap_sends)
	{
		struct snap_send *ss =
		    container_of(pos, struct snap_send, node);
		if (ss->early_err < 0) {
			snap_send_end(ss, ss->early_err);
		}
	}
}

void member_snap_free_all(struct member *m)
{
	snapcopy_free_all(&m->copies);
	while (!list_is_empty(&m->snap_sends)) {
		snap_send_free(
		    container_of(m->snap_sends.next, struct snap_send, node));
	}
	if (m->pending_db != NULL) {
		(void)unlink(m->pending_db);
		mem_free(m->pending_db);
		m->pending_db = NULL;
	}
}

int member_snap_on_peer_snapshot(void *arg, raft_id from, const uint8_t *data,
				 size_t len, const char *db_path)
{
	struct member *m = arg;
	struct raft_message msg;
	int r;

	if (m->error != 0 || m->stopped || m->in_ready || m->raft == NULL) {
		return -EAGAIN;
	}
	r = raftmsg_decode(data, len, &msg);
	if (r < 0) {
		return r;
	}
	if (msg.type != RAFT_MSG_SNAP || msg.from != from) {
		raft_message_done(&msg);
		return -ERR_INVALID;
	}
	if (m->pending_db != NULL) {
		(void)unlink(m->pending_db);
		mem_free(m->pending_db);
	}
	m->pending_db = mem_strdup(db_path);
	if (m->pending_db == NULL) {
		raft_message_done(&msg);
		return -ENOMEM;
	}
	m->pending_db_index = msg.snapshot.meta.index;
	r = member_check_raft(m, raft_step(m->raft, &msg),
			      "raft, stepping a snapshot");
	raft_message_done(&msg);
	if (r < 0) {
		/* Not ours after all: the transport removes the file. */
		mem_free(m->pending_db);
		m->pending_db = NULL;
		return r;
	}
	member_kick(m);
	return 0;
}

/* Step 2's first part when a Ready carries a snapshot (see above). */
int member_snap_install(struct member *m, const struct raft_snapshot *snap)
{
	uint64_t ai, at;
	char idh[IDS_HEX_LEN];
	int r;

	if (m->pending_db == NULL || m->pending_db_index != snap->meta.index) {
		/* Raft took a snapshot whose store never arrived. */
		return -ERR_CORRUPT;
	}
	snapcopy_wait_all(&m->copies);
	r = mvcc_replace(m->store, m->pending_db);
	if (r < 0) {
		(void)unlink(m->pending_db);
	}
	mem_free(m->pending_db);
	m->pending_db = NULL;
	if (r < 0) {
		return r;
	}
	m->ops_uncommitted = 0;
	/* The tables kept in the store are the sender's now: leases, the
	 * NOSPACE alarm, the removed members. */
	lessor_free(m->lessor);
	m->lessor = NULL;
	r = lessor_new(
	    m->store,
	    lessor_min_ttl(m->cfg->election_ticks, m->cfg->heartbeat_ms),
	    &m->lessor);
	if (r < 0) {
		return r;
	}
	m->nospace = false;
	mvcc_set_nospace(m->store, false);
	r = member_restore_alarms(m);
	if (r < 0) {
		return r;
	}
	r = member_conf_restore_removed(m);
	if (r < 0) {
		return r;
	}
	mvcc_applied(m->store, &ai, &at);
	if (ai < snap->meta.index) {
		log_error("member %016" PRIx64 ": the store sent with snapshot "
			  "%" PRIu64 " was applied only to %" PRIu64,
			  m->id, snap->meta.index, ai);
		return -ERR_CORRUPT;
	}
	r = walstore_apply_snapshot(m->ws, snap);
	if (r < 0) {
		return r;
	}
	member_return_freed_memory();
	r = member_conf_load(m, snap->data, snap->len, true);
	if (r < 0) {
		return r;
	}
	/* Raft's view: entries after the snapshot come next (the store may
	 * be further on; apply skips what it has). */
	m->snap_index = snap->meta.index;
	m->applied = snap->meta.index;
	m->applied_bytes = 0;
	log_notice("member %016" PRIx64 ": installed snapshot %" PRIu64
		   " (term %" PRIu64 ") from the leader %s: store at applied "
		   "index %" PRIu64 ", revision %" PRId64,
		   m->id, snap->meta.index, snap->meta.term,
		   ids_format(m->leader, idh), ai,
		   (int64_t)mvcc_current_rev(m->store));
	return 0;
}

/* Stores half received when the member last stopped are of no use. */
void member_snap_remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096];

	if (d == NULL) {
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "snap.recv.", 10) == 0 &&
		    (size_t)snprintf(p, sizeof(p), "%s/%s", dir, e->d_name) <
			sizeof(p)) {
			(void)unlink(p);
		}
	}
	closedir(d);
}
