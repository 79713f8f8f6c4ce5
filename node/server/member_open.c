/*
 * member_open.c - opening a member and freeing it: the data dir (etcd's
 * layout), the WAL and the store, bootstrapping a new cluster's log,
 * restarting from a snapshot and the WAL, joining an existing cluster
 * (the IDs learnt from the first peer stream), the peer listeners and
 * their callbacks, the timers.
 *
 * Invariants:
 *  1. member_new either returns a running member or frees everything it
 *     made and sets *errmsg to one line that names the input and the fix.
 *  2. The store's applied index decides what the WAL replay re-applies
 *     (Raft starts at the snapshot; MVCC skips what it holds), so a start
 *     after any crash is idempotent.
 *  3. Peer callbacks drop what arrives while the member has failed,
 *     stopped or not yet joined.
 */
#include "server/member_int.h"
#include "wal/walio.h"

static void on_identity(void *arg, raft_id id, uint64_t cluster_id);

static bool file_exists(const char *dir, const char *name)
{
	char p[4096];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/*
 * A new cluster's log: one ConfChange (AddNode, context = the member's
 * name and peer URLs) per initial member at term 1, all committed, as
 * etcd's raft bootstrap writes it.  Every member of a new cluster writes
 * the same entries, so their logs agree from the start.
 */
static int bootstrap_log(struct member *m)
{
	const struct config *c = m->cfg;
	struct raft_entry *ents;
	struct raft_hard_state hs = {1, RAFT_NONE, c->n_members};
	int r = 0;

	ents = mem_calloc(c->n_members, sizeof(*ents));
	if (ents == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->n_members && r >= 0; i++) {
		const struct config_member *cm = &c->members[i];
		Raftpb__ConfChange cc = RAFTPB__CONF_CHANGE__INIT;
		Cetcdpb__Member pm = CETCDPB__MEMBER__INIT;
		char **urls = mem_calloc(cm->peer_urls.n + 1, sizeof(*urls));

		if (urls == NULL) {
			r = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < cm->peer_urls.n; j++) {
			urls[j] = cm->peer_urls.v[j].url;
		}
		pm.id = cm->id;
		pm.name = cm->name;
		pm.n_peer_urls = cm->peer_urls.n;
		pm.peer_urls = urls;
		r = member_pack_msg(&pm.base, &cc.context.data,
				    &cc.context.len);
		mem_free(urls);
		if (r < 0) {
			break;
		}
		cc.type = RAFTPB__CONF_CHANGE_TYPE__ConfChangeAddNode;
		cc.node_id = cm->id;
		ents[i].term = 1;
		ents[i].index = i + 1;
		ents[i].type = RAFT_ENTRY_CONF_CHANGE;
		r = member_pack_msg(&cc.base, &ents[i].data, &ents[i].len);
		mem_free(cc.context.data);
	}
	if (r >= 0) {
		r = walstore_save(m->ws, &hs, ents, c->n_members);
	}
	raft_entries_free(ents, c->n_members);
	return r;
}

static int open_storage(struct member *m, raft_index *snap_index, char **errmsg)
{
	const struct config *c = m->cfg;
	struct walstore_options wo = {c->wal_path, c->snap_dir, 0};
	/* A joining member's IDs come from the cluster (on_identity). */
	struct wal_metadata md = {m->joining ? m->id : c->member_id,
				  m->joining ? m->cluster_id : c->cluster_id},
			    got;
	struct walstore_report rep;
	struct mvcc_options mo = {c->quota_backend_bytes, 0};
	struct raft_storage st;
	raft_index last = 0;
	char a[IDS_HEX_LEN], b[IDS_HEX_LEN], x[IDS_HEX_LEN], y[IDS_HEX_LEN];
	int r;

	r = walio_mkdir_p(c->snap_dir);
	if (r < 0) {
		member_errmsgf(
		    errmsg,
		    "cannot create data dir %s: %s (check --data-dir "
		    "and its permissions)",
		    c->snap_dir, strerror(-r));
		return r;
	}
	if (file_exists(c->snap_dir, "db") &&
	    !file_exists(c->snap_dir, "data.mdb")) {
		member_errmsgf(errmsg,
			       "data dir %s holds an etcd (bbolt) store, not "
			       "a cetcd one (use another --data-dir; etcd data "
			       "dirs cannot be converted yet)",
			       c->data_dir);
		return -ERR_CONFIG;
	}
	r = walstore_open(&wo, &md, &m->ws, &got, &rep);
	if (r < 0) {
		if (r == -EBUSY) {
			member_errmsgf(errmsg,
				       "data dir %s is in use by another "
				       "process (%s; stop the other member or "
				       "use another --data-dir)",
				       c->data_dir, rep.msg);
		} else {
			member_errmsgf(errmsg, "cannot open the WAL in %s: %s",
				       c->wal_path,
				       rep.msg[0] ? rep.msg : err_str(r));
		}
		return r;
	}
	if (rep.repaired) {
		log_warn("wal: torn tail of %s cut at offset %" PRIu64
			 " (the original kept as .broken)",
			 rep.repaired_file, rep.repaired_offset);
	}
	if (!rep.created && c->initial_cluster_state == CONFIG_CLUSTER_NEW &&
	    (got.member_id != c->member_id ||
	     got.cluster_id != c->cluster_id)) {
		member_errmsgf(
		    errmsg,
		    "data dir %s belongs to member %s of cluster %s, "
		    "not to member %s of cluster %s that "
		    "--initial-cluster and --initial-cluster-token "
		    "describe (use another --data-dir, or remove "
		    "this one to start afresh)",
		    c->data_dir, ids_format(got.member_id, a),
		    ids_format(got.cluster_id, b), ids_format(c->member_id, x),
		    ids_format(c->cluster_id, y));
		return -ERR_CLUSTER_ID_MISMATCH;
	}
	m->id = got.member_id;
	m->cluster_id = got.cluster_id;
	st = walstore_storage(m->ws);
	r = st.last_index(st.ctx, &last);
	/* A member joining an existing cluster starts with an empty log:
	 * the leader sends it everything, membership included. */
	if (r >= 0 && last == 0 && rep.snap_index == 0 &&
	    c->initial_cluster_state == CONFIG_CLUSTER_NEW) {
		r = bootstrap_log(m);
	}
	if (r < 0) {
		member_errmsgf(errmsg, "cannot write the WAL in %s: %s",
			       c->wal_path, err_str(r));
		return r;
	}
	r = mvcc_open(c->snap_dir, &mo, &m->store);
	if (r < 0) {
		member_errmsgf(errmsg,
			       "cannot open the store in %s: %s (the file may "
			       "be damaged or in use)",
			       c->snap_dir, err_str(r));
		return r;
	}
	r = lessor_new(m->store,
		       lessor_min_ttl(c->election_ticks, c->heartbeat_ms),
		       &m->lessor);
	if (r < 0) {
		member_errmsgf(
		    errmsg, "cannot read the leases from the store in %s: %s",
		    c->snap_dir, err_str(r));
		return r;
	}
	m->hs.term = 0;
	{
		struct raft_hard_state hs;
		struct raft_conf_state cs;
		if (st.initial_state(st.ctx, &hs, &cs) >= 0) {
			m->hs = hs;
			raft_conf_state_done(&cs);
		}
	}
	*snap_index = rep.snap_index;
	return 0;
}

static void on_peer_message(void *arg, raft_id from, const uint8_t *data,
			    size_t len)
{
	struct member *m = arg;
	struct raft_message msg;
	int r;

	if (m->error != 0 || m->stopped || m->in_ready || m->raft == NULL) {
		return;
	}
	if (len > 1 && data[0] == LEASE_PEER_MAGIC &&
	    (data[1] & ~PEER_KIND_REPLY) == PEER_KIND_PROMOTE) {
		member_conf_on_peer(m, from, data, len);
		member_kick(m);
		return;
	}
	if (len > 0 && data[0] == LEASE_PEER_MAGIC) {
		member_lease_on_peer(m, from, data, len);
		member_kick(m);
		return;
	}
	if (raftmsg_decode(data, len, &msg) < 0) {
		log_debug("member: undecodable message from %016" PRIx64, from);
		return;
	}
	srvmetrics_received(m->smx, from, (int)msg.type, len,
			    timeutil_mono_ns());
	r = raft_step(m->raft, &msg);
	if (r == -ERR_CORRUPT) {
		/* The usual cause, so the operator knows where to look. */
		char what[512];
		snprintf(what, sizeof(what),
			 "raft refused %s from %016" PRIx64
			 ": it contradicts this member's log (entries "
			 "acknowledged but missing, or committed ones "
			 "overwritten): was the data dir lost, rolled back "
			 "or replaced, or does another cluster with the same "
			 "--name, --initial-cluster and "
			 "--initial-cluster-token answer at a peer URL?",
			 raft_msg_type_name(msg.type), msg.from);
		member_fail(m, r, what);
	} else {
		member_check_raft(m, r, "raft, stepping a peer message");
	}
	raft_message_done(&msg);
	member_kick(m);
}

static void on_peer_unreachable(void *arg, raft_id to)
{
	struct member *m = arg;

	if (m->in_ready) {
		member_note_unreachable(m, to);
		return;
	}
	if (m->error == 0 && !m->stopped && m->raft != NULL) {
		member_check_raft(m, raft_report_unreachable(m->raft, to),
				  "raft, reporting an unreachable peer");
	}
}

static int listen_peers(struct member *m, char **errmsg)
{
	const struct config *c = m->cfg;
	struct peer_transport_config tc;
	int r;

	memset(&tc, 0, sizeof(tc));
	tc.local_id = m->id;
	tc.cluster_id = m->cluster_id;
	tc.on_message = on_peer_message;
	tc.on_unreachable = on_peer_unreachable;
	tc.on_identity = on_identity;
	tc.is_removed = member_conf_peer_is_removed;
	tc.on_removed = member_conf_on_removed_by_peer;
	tc.on_snapshot = member_snap_on_peer_snapshot;
	tc.snap_dir = c->snap_dir;
	tc.arg = m;
	tc.max_msg = 0;
	m->tr = peer_transport_new(sys_loop_base(m->loop), NULL, &tc);
	if (m->tr == NULL) {
		member_errmsgf(errmsg, "cannot start the peer transport: %s",
			       err_str(-ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->listen_peer_urls.n; i++) {
		const struct config_url *u = &c->listen_peer_urls.v[i];
		r = peer_transport_listen(m->tr, u->host, u->port);
		if (r < 0) {
			member_errmsgf(errmsg,
				       "--listen-peer-urls %s: cannot listen: "
				       "%s (is another member running, or is "
				       "the address not local?)",
				       u->url, strerror(-r));
			return r;
		}
	}
	return 0;
}

/*
 * Storage, store and Raft: at once for a new or restarted member; for a
 * joining one once the cluster has told it its IDs (on_identity).
 */
static int start_core(struct member *m, raft_index *snap_index, char **errmsg)
{
	const struct config *cfg = m->cfg;
	struct raft_config rc;
	uint64_t ai, at;
	char idh[IDS_HEX_LEN], cidh[IDS_HEX_LEN];
	int r;

	r = open_storage(m, snap_index, errmsg);
	if (r < 0) {
		return r;
	}
	m->id_prefix = (m->id & 0xffff) << 48;
	m->id_suffix =
	    ((timeutil_wall_ns() / 1000000) << 8) & ((UINT64_C(1) << 48) - 1);
	memset(&rc, 0, sizeof(rc));
	rc.id = m->id;
	rc.election_tick = (int)cfg->election_ticks;
	rc.heartbeat_tick = 1;
	rc.storage = walstore_storage(m->ws);
	/* Raft replays everything after the snapshot; MVCC skips what it
	 * applied already (mvcc_apply_begin), conf changes apply again. */
	rc.applied = *snap_index;
	rc.max_size_per_msg = 1024 * 1024;
	/* Bounds a restart's replay per Ready (and its memory). */
	rc.max_committed_size_per_ready = 16u << 20;
	rc.max_inflight_msgs = 256;
	rc.check_quorum = true;
	rc.pre_vote = true;
	rc.seed = m->id ^ timeutil_mono_ns();
	r = raft_new(&rc, &m->raft);
	if (r < 0) {
		member_errmsgf(errmsg,
			       "cannot start Raft from the WAL in %s: %s",
			       cfg->wal_path, err_str(r));
		return r;
	}
	m->snap_index = *snap_index;
	mvcc_applied(m->store, &ai, &at);
	m->applied = ai;
	r = member_restore_alarms(m);
	if (r >= 0) {
		r = member_conf_restore_removed(m);
	}
	if (r < 0) {
		member_errmsgf(
		    errmsg,
		    "cannot read the alarms and removed members from the "
		    "store in %s: %s",
		    cfg->snap_dir, err_str(r));
		return r;
	}
	log_info("member %s of cluster %s: store at applied index %" PRIu64
		 ", revision %" PRId64,
		 ids_format(m->id, idh), ids_format(m->cluster_id, cidh), ai,
		 (int64_t)mvcc_current_rev(m->store));
	return 0;
}

static void on_identity(void *arg, raft_id id, uint64_t cluster_id)
{
	struct member *m = arg;
	raft_index snap_index = 0;
	char *msg = NULL;
	char idh[IDS_HEX_LEN], cidh[IDS_HEX_LEN];
	int r;

	if (!m->joining) {
		return;
	}
	m->id = id;
	m->cluster_id = cluster_id;
	log_info("joining cluster %s as member %s",
		 ids_format(cluster_id, cidh), ids_format(id, idh));
	r = start_core(m, &snap_index, &msg);
	m->joining = false;
	/*
	 * Until the log tells us the membership, answers must reach the
	 * members of --initial-cluster: their IDs as a bootstrap computed
	 * them (same token), which is what members that bootstrapped the
	 * cluster have.  Members added later are learned from the log.
	 */
	for (size_t i = 0; r >= 0 && i < m->cfg->n_members; i++) {
		const struct config_member *cm = &m->cfg->members[i];
		char **urls;

		if (cm == config_self(m->cfg) || cm->id == m->id) {
			continue;
		}
		urls = mem_calloc(cm->peer_urls.n + 1, sizeof(*urls));
		if (urls == NULL) {
			r = -ENOMEM;
			break;
		}
		for (size_t j = 0; j < cm->peer_urls.n; j++) {
			urls[j] = cm->peer_urls.v[j].url;
		}
		r = peer_transport_add(m->tr, cm->id, (const char *const *)urls,
				       cm->peer_urls.n);
		mem_free(urls);
	}
	if (r < 0) {
		log_error("cannot join: %s", msg != NULL ? msg : err_str(r));
		member_fail(m, r, "joining the cluster");
	}
	mem_free(msg);
	member_kick(m);
}

/* A start that failed for want of space says so, and what to do. */
static void explain_full_disk(struct member *m, int r, char **errmsg)
{
	const char *dir = m->cfg->data_dir;
	_cleanup_free_ char *full = NULL;
	char *both = NULL;

	if (errmsg == NULL || !diskspace_is_full(r, dir)) {
		return;
	}
	full = diskspace_message(r, "starting the member", dir, dir);
	if (full == NULL) {
		return;
	}
	member_errmsgf(&both, "%s (%s)", full, *errmsg != NULL ? *errmsg : "");
	if (both != NULL) {
		mem_free(*errmsg);
		*errmsg = both;
	}
}

int member_new(struct sys_loop *loop, const struct config *cfg,
	       struct member **out, char **errmsg)
{
	struct member *m;
	raft_index snap_index = 0;
	int r;

	if (errmsg != NULL) {
		*errmsg = NULL;
	}
	m = mem_calloc(1, sizeof(*m));
	if (m == NULL) {
		return -ENOMEM;
	}
	m->loop = loop;
	m->cfg = cfg;
	m->state = RAFT_FOLLOWER;
	list_init(&m->all);
	list_init(&m->incoming);
	list_init(&m->reads);
	list_init(&m->moves);
	list_init(&m->copies);
	list_init(&m->snap_sends);
	list_init(&m->lease_reqs);
	list_init(&m->promotes);
	for (size_t i = 0; i < WAITER_BUCKETS; i++) {
		list_init(&m->waiters[i]);
	}
	m->request_timeout_ms =
	    REQUEST_TIMEOUT_BASE_MS + 2 * (uint64_t)cfg->election_ms;
	/* etcd compat: a member added with MemberAdd starts with
	 * initial-cluster-state existing and an empty data dir, and learns
	 * its member and cluster IDs from the cluster. */
	m->joining = cfg->initial_cluster_state == CONFIG_CLUSTER_EXISTING &&
		     !wal_exists(cfg->wal_path) &&
		     !file_exists(cfg->snap_dir, "db");
	if (!m->joining) {
		r = start_core(m, &snap_index, errmsg);
		if (r < 0) {
			explain_full_disk(m, r, errmsg);
			member_free(m);
			return r;
		}
	}
	member_snap_remove_stale(cfg->snap_dir);
	r = listen_peers(m, errmsg);
	if (r < 0) {
		member_free(m);
		return r;
	}
	if (snap_index > 0) {
		struct raft_storage st = walstore_storage(m->ws);
		struct raft_snapshot snap;

		r = st.snapshot(st.ctx, &snap);
		if (r >= 0) {
			r = member_conf_load(m, snap.data, snap.len, false);
			raft_snapshot_done(&snap);
		}
		if (r < 0) {
			member_errmsgf(errmsg,
				       "cannot read the membership from the "
				       "snapshot in %s: %s",
				       cfg->snap_dir, err_str(r));
			member_free(m);
			return r;
		}
	}
	m->kick_ev = event_new(sys_loop_base(loop), -1, 0, member_kick_cb, m);
	if (m->kick_ev == NULL ||
	    sys_timer_new(loop, member_tick_cb, m, &m->tick_timer) < 0 ||
	    sys_timer_new(loop, member_house_cb, m, &m->house_timer) < 0 ||
	    sys_timer_start(m->tick_timer, cfg->heartbeat_ms,
			    cfg->heartbeat_ms) < 0 ||
	    sys_timer_start(m->house_timer, COMMIT_INTERVAL_MS,
			    COMMIT_INTERVAL_MS) < 0 ||
	    member_start_auto_compaction(m) < 0) {
		member_errmsgf(errmsg, "cannot set up the member's timers");
		member_free(m);
		return -ENOMEM;
	}
	if (m->joining) {
		log_info("waiting for the cluster to contact this member "
			 "(initial-cluster-state existing)");
	}
	member_kick(m);
	*out = m;
	return 0;
}

void member_free(struct member *m)
{
	struct list_node *pos, *tmp;

	if (m == NULL) {
		return;
	}
	/* Pending requests are dropped without callbacks (member.h). */
	list_for_each_safe(pos, tmp, &m->all)
	{
		struct member_req *rq =
		    container_of(pos, struct member_req, all);
		list_remove(&rq->all);
		list_remove(&rq->q);
		member_req_free(rq);
	}
	if (m->kick_ev != NULL) {
		event_free(m->kick_ev);
	}
	sys_timer_free(m->tick_timer);
	sys_timer_free(m->house_timer);
	sys_timer_free(m->auto_compact_timer);
	peer_transport_free(m->tr);
	member_snap_free_all(m);
	raft_free(m->raft);
	if (m->store != NULL && m->error == 0) {
		(void)mvcc_commit(m->store);
	}
	lessor_free(m->lessor);
	mvcc_close(m->store);
	walstore_close(m->ws);
	for (size_t i = 0; i < m->n_members; i++) {
		member_conf_rec_done(&m->members[i]);
	}
	mem_free(m->members);
	mem_free(m->unreachable);
	srvmetrics_free(m->smx);
	mem_free(m->removed_ids);
	mem_free(m->error_msg);
	mem_free(m->store_path);
	mem_free(m);
}
