/*
 * test_member.c - the member core in-process: real WAL and LMDB files in a
 * temporary directory, real peer sockets on the test's own loopback
 * addresses, one sys_loop, requests submitted through member_request and
 * the loop run until they are answered.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "proto/proto.h"
#include "server/config.h"
#include "server/member.h"
#include "sys/loop.h"
#include "cluster.h"
#include "testlib.h"
#include "wal/walio.h"

static void never_done(void *arg, int err, const ProtobufCMessage *resp)
{
	(void)arg;
	(void)err;
	(void)resp;
	ck_abort_msg("a refused request's done ran");
}

static void on_rev(void *arg, int64_t rev)
{
	*(int64_t *)arg = rev;
}

START_TEST(test_single_member_bootstraps_and_serves_kv)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	struct member_info mi;
	Etcdserverpb__ResponseHeader h;
	int64_t rev1 = 0, rev2 = 0, seen_rev = 0;
	char *v;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd, "solo", testlib_tmpdir());
	nd.cfg = cluster_node_config(&nd, &nd, 1, "tok", NULL);
	cluster_node_start(loop, &nd);
	ck_assert_uint_eq(cluster_wait_leader(loop, &nd.m, 1, 0),
			  nd.cfg->member_id);
	member_on_revision(nd.m, on_rev, &seen_rev);
	ck_assert_ptr_nonnull(member_store(nd.m));

	ck_assert_int_eq(cluster_put(loop, nd.m, "foo", "bar", &rev1), 0);
	ck_assert_int_eq(rev1, 2); /* a new store is at revision 1 */
	/* Watchers hear of it in the same turn of the loop. */
	ck_assert_int_eq(seen_rev, 2);
	ck_assert_int_eq(cluster_put(loop, nd.m, "foo", "baz", &rev2), 0);
	ck_assert_int_eq(rev2, 3);

	ck_assert_int_eq(cluster_get(loop, nd.m, "foo", false, &v, &h), 0);
	ck_assert_str_eq(v, "baz");
	mem_free(v);
	ck_assert_uint_eq(h.cluster_id, nd.cfg->cluster_id);
	ck_assert_uint_eq(h.member_id, nd.cfg->member_id);
	ck_assert_int_eq(h.revision, 3);
	ck_assert_uint_ge(h.raft_term, 2);
	ck_assert_int_eq(cluster_get(loop, nd.m, "foo", true, &v, NULL), 0);
	ck_assert_str_eq(v, "baz");
	mem_free(v);
	ck_assert_int_eq(cluster_get(loop, nd.m, "nope", false, &v, NULL), 0);
	ck_assert_ptr_null(v);

	member_info(nd.m, &mi);
	ck_assert_uint_eq(mi.id, nd.cfg->member_id);
	ck_assert_uint_eq(mi.leader, mi.id);
	ck_assert_int_eq(mi.revision, 3);
	ck_assert_uint_ge(mi.applied_index, 3);
	ck_assert_uint_eq(mi.applied_index, mi.commit_index);
	ck_assert_int_eq(mi.error, 0);

	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_delete_txn_and_compaction_apply_through_raft)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__DeleteRangeRequest del =
	    ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
	Etcdserverpb__DeleteRangeResponse *dresp = NULL;
	Etcdserverpb__TxnRequest txn = ETCDSERVERPB__TXN_REQUEST__INIT;
	Etcdserverpb__TxnResponse *tresp = NULL;
	Etcdserverpb__Compare cmp = ETCDSERVERPB__COMPARE__INIT,
			      *cmps[1] = {&cmp};
	Etcdserverpb__RequestOp op = ETCDSERVERPB__REQUEST_OP__INIT,
				*ops[1] = {&op};
	Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__CompactionRequest comp =
	    ETCDSERVERPB__COMPACTION_REQUEST__INIT;
	char *v;

	cluster_solo(&loop, &nd, "tok", NULL);
	ck_assert_int_eq(cluster_put(loop, nd.m, "a", "1", NULL), 0);
	ck_assert_int_eq(cluster_put(loop, nd.m, "b", "2", NULL), 0);

	/* Txn: if a's value is "1" then put c=3. */
	cmp.key.data = (uint8_t *)"a";
	cmp.key.len = 1;
	cmp.target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE;
	cmp.result = ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL;
	cmp.target_union_case = ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE;
	cmp.value.data = (uint8_t *)"1";
	cmp.value.len = 1;
	p.key.data = (uint8_t *)"c";
	p.key.len = 1;
	p.value.data = (uint8_t *)"3";
	p.value.len = 1;
	op.request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
	op.request_put = &p;
	txn.n_compare = 1;
	txn.compare = cmps;
	txn.n_success = 1;
	txn.success = ops;
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_TXN, &txn.base,
				      (ProtobufCMessage **)&tresp),
			 0);
	ck_assert(tresp->succeeded);
	ck_assert_uint_eq(tresp->n_responses, 1);
	ck_assert_int_eq(tresp->responses[0]->response_case,
			 ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT);
	ck_assert_int_eq(tresp->header->revision, 4);
	proto_free(&tresp->base);
	ck_assert_int_eq(cluster_get(loop, nd.m, "c", false, &v, NULL), 0);
	ck_assert_str_eq(v, "3");
	mem_free(v);

	/* Delete [a, c): a and b. */
	del.key.data = (uint8_t *)"a";
	del.key.len = 1;
	del.range_end.data = (uint8_t *)"c";
	del.range_end.len = 1;
	del.prev_kv = true;
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_DELETE_RANGE,
				      &del.base, (ProtobufCMessage **)&dresp),
			 0);
	ck_assert_int_eq(dresp->deleted, 2);
	ck_assert_uint_eq(dresp->n_prev_kvs, 2);
	ck_assert_int_eq(dresp->header->revision, 5);
	proto_free(&dresp->base);
	ck_assert_int_eq(cluster_get(loop, nd.m, "a", false, &v, NULL), 0);
	ck_assert_ptr_null(v);

	/* Compaction, then a compacted revision is refused. */
	comp.revision = 4;
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_COMPACT, &comp.base, NULL), 0);
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_COMPACT, &comp.base, NULL),
	    -ERR_COMPACTED);

	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_invalid_requests_get_etcd_errors)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__RangeRequest rr = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__TxnRequest txn = ETCDSERVERPB__TXN_REQUEST__INIT;
	Etcdserverpb__RequestOp op[2] = {ETCDSERVERPB__REQUEST_OP__INIT,
					 ETCDSERVERPB__REQUEST_OP__INIT};
	Etcdserverpb__RequestOp *ops[2] = {&op[0], &op[1]};
	Etcdserverpb__PutRequest dup = ETCDSERVERPB__PUT_REQUEST__INIT;
	static uint8_t big[2048];

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd, "solo", testlib_tmpdir());
	nd.cfg = cluster_node_config(&nd, &nd, 1, "tok",
				     (const char *[]){"--max-txn-ops=1", NULL});
	nd.cfg->max_request_bytes = 1024;
	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);

	/* Wrong message type for the op: refused at once, no callback. */
	ck_assert_int_eq(member_request(nd.m, MEMBER_OP_PUT, &rr.base,
					never_done, NULL, NULL),
			 -ERR_INVALID);
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_PUT, &p.base, NULL),
			 -ERR_EMPTY_KEY);
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_RANGE, &rr.base, NULL),
	    -ERR_EMPTY_KEY);
	p.key.data = (uint8_t *)"k";
	p.key.len = 1;
	p.value.data = big;
	p.value.len = sizeof(big);
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_PUT, &p.base, NULL),
			 -ERR_REQUEST_TOO_LARGE);
	p.value.len = 1;
	p.ignore_value = true;
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_PUT, &p.base, NULL),
			 -ERR_VALUE_PROVIDED);
	p.value.len = 0;
	/* ignore_value on a missing key: refused when applied. */
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_PUT, &p.base, NULL),
			 -ERR_KEY_NOT_FOUND);

	p.ignore_value = false;
	p.value.len = 1;
	dup = p;
	op[0].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
	op[0].request_put = &p;
	op[1].request_case = ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
	op[1].request_put = &dup;
	txn.n_success = 2;
	txn.success = ops;
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_TXN, &txn.base, NULL),
	    -ERR_TOO_MANY_OPS);
	member_free(nd.m);
	config_free(nd.cfg);
	nd.cfg = cluster_node_config(&nd, &nd, 1, "tok", NULL);
	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_TXN, &txn.base, NULL),
	    -ERR_DUPLICATE_KEY);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_member_list_and_status_describe_the_member)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__MemberListRequest ml =
	    ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
	Etcdserverpb__MemberListResponse *mlr = NULL;
	Etcdserverpb__StatusRequest st = ETCDSERVERPB__STATUS_REQUEST__INIT;
	Etcdserverpb__StatusResponse *str = NULL;
	char url[64];

	cluster_solo(&loop, &nd, "tok", NULL);
	/* The published client URLs are applied through Raft. */
	ck_assert_int_eq(cluster_put(loop, nd.m, "x", "y", NULL), 0);
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_MEMBER_LIST,
				      &ml.base, (ProtobufCMessage **)&mlr),
			 0);
	ck_assert_uint_eq(mlr->n_members, 1);
	ck_assert_uint_eq(mlr->members[0]->id, nd.cfg->member_id);
	ck_assert_str_eq(mlr->members[0]->name, "solo");
	snprintf(url, sizeof(url), "http://%s:%d", nd.addr, nd.peer_port);
	ck_assert_uint_eq(mlr->members[0]->n_peerurls, 1);
	ck_assert_str_eq(mlr->members[0]->peerurls[0], url);
	snprintf(url, sizeof(url), "http://%s:%d", nd.addr, nd.client_port);
	ck_assert_uint_eq(mlr->members[0]->n_clienturls, 1);
	ck_assert_str_eq(mlr->members[0]->clienturls[0], url);
	ck_assert(!mlr->members[0]->islearner);
	ck_assert_uint_eq(mlr->header->cluster_id, nd.cfg->cluster_id);
	proto_free(&mlr->base);

	/* MemberUpdate changes the peer URLs through Raft. */
	{
		Etcdserverpb__MemberUpdateRequest up =
		    ETCDSERVERPB__MEMBER_UPDATE_REQUEST__INIT;
		Etcdserverpb__MemberUpdateResponse *upr = NULL;
		char *urls[1] = {(char *)"http://127.0.0.1:1"};

		up.id = nd.cfg->member_id;
		ck_assert_int_eq(cluster_call(loop, nd.m,
					      MEMBER_OP_MEMBER_UPDATE, &up.base,
					      NULL),
				 -ERR_INVALID_PEER_URLS);
		up.n_peerurls = 1;
		up.peerurls = urls;
		ck_assert_int_eq(cluster_call(loop, nd.m,
					      MEMBER_OP_MEMBER_UPDATE, &up.base,
					      (ProtobufCMessage **)&upr),
				 0);
		ck_assert_uint_eq(upr->n_members, 1);
		ck_assert_str_eq(upr->members[0]->peerurls[0],
				 "http://127.0.0.1:1");
		ck_assert_str_eq(upr->members[0]->name, "solo");
		proto_free(&upr->base);
	}

	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_STATUS, &st.base,
				      (ProtobufCMessage **)&str),
			 0);
	ck_assert_str_eq(str->version, "3.5.13");
	ck_assert_uint_eq(str->leader, nd.cfg->member_id);
	ck_assert_uint_ge(str->raftindex, 3);
	ck_assert_uint_eq(str->raftappliedindex, str->raftindex);
	ck_assert_int_gt(str->dbsize, 0);
	proto_free(&str->base);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_restarted_member_serves_the_same_data)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__ResponseHeader h;
	int64_t rev = 0;
	char *v;
	char key[32];

	cluster_solo(&loop, &nd, "tok", NULL);
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		ck_assert_int_eq(cluster_put(loop, nd.m, key, key, &rev), 0);
	}
	ck_assert_int_eq(rev, 21);
	member_free(nd.m);
	nd.m = NULL;

	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);
	ck_assert_int_eq(cluster_get(loop, nd.m, "k07", false, &v, &h), 0);
	ck_assert_str_eq(v, "k07");
	mem_free(v);
	ck_assert_int_eq(h.revision, 21);
	/* Writes go on from where they were. */
	ck_assert_int_eq(cluster_put(loop, nd.m, "k20", "x", &rev), 0);
	ck_assert_int_eq(rev, 22);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

/*
 * A WAL whose writes fail as a full disk's or a broken disk's would
 * (node/wal/walio.h): armed_err for every write, or every fdatasync.
 */
static int armed_err;
static bool arm_sync; /* fail fdatasync instead of pwrite */

static int full_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
	if (armed_err != 0 && !arm_sync) {
		return armed_err;
	}
	return walio_default_ops.pwrite_all(fd, p, n, off);
}

static int full_fdatasync(int fd)
{
	if (armed_err != 0 && arm_sync) {
		return armed_err;
	}
	return walio_default_ops.fdatasync(fd);
}

static struct walio_ops full_ops; /* the defaults but for those two */

struct err_seen {
	int calls;
	int err;
	int error_lines;
	char line[2048];
};

static void on_error_cb(void *arg, int err)
{
	struct err_seen *e = arg;

	e->calls++;
	e->err = err;
}

static void error_sink(enum log_level level, const char *line, void *arg)
{
	struct err_seen *e = arg;

	if (level == LOG_LVL_ERROR) {
		e->error_lines++;
		snprintf(e->line, sizeof(e->line), "%s", line);
	}
}

/*
 * The WAL write behind a put fails with err: the put is not acknowledged,
 * the member stops with one error line (msg_has in it) and tells its
 * on_error listener once; restarted on a working disk it has every write
 * it acknowledged.
 */
static void check_wal_failure(int err, bool sync, const char *msg_has,
			      bool full)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	struct member_info mi;
	struct err_seen seen;
	char seg[700], *v;
	int64_t rev = 0;

	memset(&seen, 0, sizeof(seen));
	cluster_solo(&loop, &nd, "tok", NULL);
	member_on_error(nd.m, on_error_cb, &seen);
	ck_assert_int_eq(cluster_put(loop, nd.m, "a", "1", &rev), 0);
	ck_assert_int_eq(rev, 2);

	full_ops = walio_default_ops;
	full_ops.pwrite_all = full_pwrite_all;
	full_ops.fdatasync = full_fdatasync;
	walio_set_ops(&full_ops);
	armed_err = err;
	arm_sync = sync;
	log_set_sink(error_sink, &seen);
	ck_assert_int_eq(cluster_put(loop, nd.m, "b", "2", NULL), err);
	ck_assert_int_eq(seen.calls, 0); /* told from the loop, not inside */
	ck_assert_int_eq(cluster_get(loop, nd.m, "a", true, &v, NULL), err);
	log_set_sink(NULL, NULL);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.err, err);
	ck_assert_int_eq(seen.error_lines, 1);
	member_info(nd.m, &mi);
	ck_assert_int_eq(mi.error, err);
	ck_assert_ptr_nonnull(mi.error_msg);
	ck_assert_ptr_nonnull(strstr(seen.line, mi.error_msg));
	snprintf(seg, sizeof(seg),
		 "%s/member/wal/0000000000000000-0000000000000000.wal: %s",
		 nd.dir, err_str(err));
	ck_assert_msg(strstr(mi.error_msg, seg) != NULL, "%s", mi.error_msg);
	ck_assert_msg(strstr(mi.error_msg, msg_has) != NULL, "%s",
		      mi.error_msg);
	ck_assert_msg((strstr(mi.error_msg, "the disk is full") != NULL) ==
			  full,
		      "%s", mi.error_msg);
	if (full) {
		char dd[600];
		snprintf(dd, sizeof(dd), "(data dir %s)", nd.dir);
		ck_assert_ptr_nonnull(strstr(mi.error_msg, dd));
		ck_assert_ptr_nonnull(strstr(mi.error_msg, " free of "));
		ck_assert_ptr_nonnull(strstr(
		    mi.error_msg, " or move the data dir, then restart the "
				  "member"));
	}
	member_free(nd.m);
	nd.m = NULL;
	armed_err = 0;
	walio_set_ops(NULL);

	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);
	ck_assert_int_eq(cluster_get(loop, nd.m, "a", false, &v, NULL), 0);
	ck_assert_str_eq(v, "1");
	mem_free(v);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}

START_TEST(test_full_disk_stops_the_member_naming_file_space_and_fix)
{
	check_wal_failure(-ENOSPC, false,
			  "the disk is full: writing the WAL failed on ", true);
}
END_TEST

START_TEST(test_quota_exceeded_counts_as_a_full_disk)
{
	check_wal_failure(-EDQUOT, true,
			  "the disk is full: writing the WAL failed on ", true);
}
END_TEST

START_TEST(test_member_that_cannot_start_on_a_full_disk_says_so)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	char *msg = NULL;
	int r;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd, "solo", testlib_tmpdir());
	nd.cfg = cluster_node_config(&nd, &nd, 1, "tok", NULL);
	full_ops = walio_default_ops;
	full_ops.pwrite_all = full_pwrite_all;
	walio_set_ops(&full_ops);
	armed_err = -ENOSPC;
	arm_sync = false;
	r = member_new(loop, nd.cfg, &nd.m, &msg);
	armed_err = 0;
	walio_set_ops(NULL);
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "the disk is full: starting the member "
				  "failed on ") == msg,
		      "%s", msg);
	ck_assert_msg(strstr(msg, "then restart the member (cannot ") != NULL,
		      "%s", msg);
	mem_free(msg);
	/* With room again it starts. */
	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_io_error_on_a_disk_with_room_is_not_called_full)
{
	check_wal_failure(-EIO, true, "writing the WAL failed on ", false);
}
END_TEST

static size_t count_snap_files(const char *dir)
{
	char path[700];
	DIR *d;
	struct dirent *e;
	size_t n = 0;

	snprintf(path, sizeof(path), "%s/member/snap", dir);
	d = opendir(path);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (l > 5 && strcmp(e->d_name + l - 5, ".snap") == 0) {
			n++;
		}
	}
	closedir(d);
	return n;
}

START_TEST(test_snapshots_keep_data_and_membership_across_restart)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__MemberListRequest ml =
	    ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
	Etcdserverpb__MemberListResponse *mlr = NULL;
	char key[32], *v;
	int64_t rev = 0;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd, "snappy", testlib_tmpdir());
	nd.cfg = cluster_node_config(
	    &nd, &nd, 1, "tok", (const char *[]){"--snapshot-count=10", NULL});
	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);
	for (int i = 0; i < 35; i++) {
		snprintf(key, sizeof(key), "s%02d", i);
		ck_assert_int_eq(cluster_put(loop, nd.m, key, key, &rev), 0);
	}
	ck_assert_uint_ge(count_snap_files(nd.dir), 2);
	member_free(nd.m);
	nd.m = NULL;

	/* The entries before the snapshot are not replayed: membership and
	 * Raft's configuration come from the snapshot. */
	cluster_node_start(loop, &nd);
	cluster_wait_leader(loop, &nd.m, 1, 0);
	ck_assert_int_eq(cluster_get(loop, nd.m, "s03", false, &v, NULL), 0);
	ck_assert_str_eq(v, "s03");
	mem_free(v);
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_MEMBER_LIST,
				      &ml.base, (ProtobufCMessage **)&mlr),
			 0);
	ck_assert_uint_eq(mlr->n_members, 1);
	ck_assert_str_eq(mlr->members[0]->name, "snappy");
	ck_assert_uint_eq(mlr->members[0]->n_clienturls, 1);
	proto_free(&mlr->base);
	ck_assert_int_eq(cluster_put(loop, nd.m, "later", "x", &rev), 0);
	ck_assert_int_eq(rev, 37);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_hash_defragment_and_nospace_alarm)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__HashKVRequest hk = ETCDSERVERPB__HASH_KVREQUEST__INIT;
	Etcdserverpb__HashKVResponse *hr = NULL;
	Etcdserverpb__DefragmentRequest df =
	    ETCDSERVERPB__DEFRAGMENT_REQUEST__INIT;
	Etcdserverpb__AlarmRequest al = ETCDSERVERPB__ALARM_REQUEST__INIT;
	Etcdserverpb__AlarmResponse *ar = NULL;
	Etcdserverpb__PutRequest p = ETCDSERVERPB__PUT_REQUEST__INIT;
	struct member_info mi;
	static uint8_t big[64 * 1024];
	uint32_t h1;
	char *v;

	cluster_solo(&loop, &nd, "tok",
		     (const char *[]){"--quota-backend-bytes=200000", NULL});
	ck_assert_int_eq(cluster_put(loop, nd.m, "h", "1", NULL), 0);
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_HASH_KV, &hk.base,
				      (ProtobufCMessage **)&hr),
			 0);
	h1 = hr->hash;
	ck_assert_int_eq(hr->header->revision, 2);
	proto_free(&hr->base);
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_DEFRAGMENT, &df.base, NULL), 0);
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_HASH_KV, &hk.base,
				      (ProtobufCMessage **)&hr),
			 0);
	ck_assert_uint_eq(hr->hash, h1); /* defragmenting changes no data */
	proto_free(&hr->base);
	ck_assert_int_eq(cluster_get(loop, nd.m, "h", false, &v, NULL), 0);
	ck_assert_str_eq(v, "1");
	mem_free(v);

	/* No alarm yet. */
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_ALARM, &al.base,
				      (ProtobufCMessage **)&ar),
			 0);
	ck_assert_uint_eq(ar->n_alarms, 0);
	proto_free(&ar->base);

	/* Fill the quota: a put is refused and the NOSPACE alarm raised. */
	p.key.data = (uint8_t *)"big";
	p.key.len = 3;
	p.value.data = big;
	p.value.len = sizeof(big);
	nd.cfg->max_request_bytes = 1 << 20;
	int r = 0;
	/*
	 * etcd compat: the quota counts the committed store, which grows at
	 * the backend's commit (every 100 ms); give each put a commit before
	 * the next, or fast puts could all pass before the first commit.
	 */
	for (int i = 0; i < 50 && r == 0; i++) {
		r = cluster_call(loop, nd.m, MEMBER_OP_PUT, &p.base, NULL);
		if (r == 0) {
			cluster_run_for(loop, 150);
		}
	}
	ck_assert_int_eq(r, -ERR_NO_SPACE);
	/* The alarm is applied through Raft; the next read sees it. */
	ck_assert_int_eq(cluster_get(loop, nd.m, "h", false, &v, NULL), 0);
	mem_free(v);
	member_info(nd.m, &mi);
	ck_assert(mi.nospace);
	ck_assert_int_eq(cluster_call(loop, nd.m, MEMBER_OP_ALARM, &al.base,
				      (ProtobufCMessage **)&ar),
			 0);
	ck_assert_uint_eq(ar->n_alarms, 1);
	ck_assert_int_eq(ar->alarms[0]->alarm,
			 ETCDSERVERPB__ALARM_TYPE__NOSPACE);
	ck_assert_uint_eq(ar->alarms[0]->memberid, nd.cfg->member_id);
	proto_free(&ar->base);
	/* Even a small put fails while the alarm is on. */
	ck_assert_int_eq(cluster_put(loop, nd.m, "h", "2", NULL),
			 -ERR_NO_SPACE);
	al.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__DEACTIVATE;
	al.alarm = ETCDSERVERPB__ALARM_TYPE__NOSPACE;
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_ALARM, &al.base, NULL), 0);
	member_info(nd.m, &mi);
	ck_assert(!mi.nospace);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_periodic_auto_compaction_compacts_old_revisions)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	Etcdserverpb__RangeRequest rr = ETCDSERVERPB__RANGE_REQUEST__INIT;

	cluster_solo(
	    &loop, &nd, "tok",
	    (const char *[]){"--auto-compaction-retention=500ms", NULL});
	ck_assert_int_eq(cluster_put(loop, nd.m, "a", "1", NULL), 0);
	ck_assert_int_eq(cluster_put(loop, nd.m, "a", "2", NULL), 0);
	rr.key.data = (uint8_t *)"a";
	rr.key.len = 1;
	rr.revision = 2;
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_RANGE, &rr.base, NULL), 0);
	/* A retention period later, revision 2 is compacted away. */
	cluster_run_for(loop, 1200);
	ck_assert_int_eq(
	    cluster_call(loop, nd.m, MEMBER_OP_RANGE, &rr.base, NULL),
	    -ERR_COMPACTED);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_data_dir_in_use_or_of_another_cluster_is_refused)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	struct member *second = NULL;
	struct config *other;
	char *msg = NULL;
	int r;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd, "solo", testlib_tmpdir());
	nd.cfg = cluster_node_config(&nd, &nd, 1, "tok", NULL);
	cluster_node_start(loop, &nd);
	r = member_new(loop, nd.cfg, &second, &msg);
	ck_assert_int_lt(r, 0);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, "in use by another process") != NULL, "%s",
		      msg);
	mem_free(msg);
	msg = NULL;
	member_free(nd.m);
	nd.m = NULL;

	other = cluster_node_config(&nd, &nd, 1, "another-token", NULL);
	r = member_new(loop, other, &second, &msg);
	ck_assert_int_eq(r, -ERR_CLUSTER_ID_MISMATCH);
	ck_assert_msg(strstr(msg, "belongs to member") != NULL, "%s", msg);
	mem_free(msg);
	config_free(other);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_three_members_replicate_and_survive_a_leader_loss)
{
	struct sys_loop *loop;
	struct cluster_node nd[3];
	struct member *ms[3];
	const char *dir = testlib_tmpdir();
	uint64_t lead, lead2;
	size_t li = 0, other;
	char *v;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd[0], "n1", dir);
	cluster_node_init(&nd[1], "n2", dir);
	cluster_node_init(&nd[2], "n3", dir);
	for (size_t i = 0; i < 3; i++) {
		nd[i].cfg = cluster_node_config(&nd[i], nd, 3, "three", NULL);
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	lead = cluster_wait_leader(loop, ms, 3, 0);
	li = cluster_node_index(nd, 3, lead);
	ck_assert_uint_eq(nd[li].cfg->member_id, lead);
	other = (li + 1) % 3;

	/* A follower's proposal is forwarded; a read on another follower is
	 * linearizable: it sees the write that was acknowledged. */
	ck_assert_int_eq(
	    cluster_put(loop, ms[other], "greeting", "hello etcd", NULL), 0);
	ck_assert_int_eq(
	    cluster_get(loop, ms[(li + 2) % 3], "greeting", false, &v, NULL),
	    0);
	ck_assert_str_eq(v, "hello etcd");
	mem_free(v);
	ck_assert_int_eq(cluster_get(loop, ms[li], "greeting", false, &v, NULL),
			 0);
	ck_assert_str_eq(v, "hello etcd");
	mem_free(v);

	/* Lose the leader: the other two elect a new one and take writes. */
	member_free(nd[li].m);
	nd[li].m = NULL;
	ms[li] = NULL;
	lead2 = cluster_wait_leader(loop, ms, 3, lead);
	ck_assert_uint_ne(lead2, lead);
	ck_assert_int_eq(
	    cluster_put(loop, ms[other], "after", "failover", NULL), 0);
	ck_assert_int_eq(
	    cluster_get(loop, ms[(li + 2) % 3], "after", false, &v, NULL), 0);
	ck_assert_str_eq(v, "failover");
	mem_free(v);

	/* The old leader comes back as a follower and catches up. */
	cluster_node_start(loop, &nd[li]);
	ms[li] = nd[li].m;
	ck_assert_uint_eq(cluster_wait_leader(loop, ms, 3, lead), lead2);
	ck_assert_int_eq(cluster_get(loop, ms[li], "after", false, &v, NULL),
			 0);
	ck_assert_str_eq(v, "failover");
	mem_free(v);

	for (size_t i = 0; i < 3; i++) {
		cluster_node_done(&nd[i]);
	}
	sys_loop_free(loop);
}
END_TEST

/*
 * etcd compat (parseProposeCtxErr): a write that reached Raft may still
 * apply after its deadline, so it times out ("possibly due to previous
 * leader failure" with no leader left); "no leader" is only for a write that
 * never reached Raft, which a client may take as not done.
 */
START_TEST(test_a_write_in_the_log_times_out_and_one_never_proposed_gets_no_leader)
{
	struct cluster c;
	uint64_t lead;
	size_t li = 0;
	struct member_info mi;

	cluster_start(&c, 3, "lost", NULL);
	lead = cluster_wait_leader(c.loop, c.ms, 3, 0);
	li = cluster_node_index(c.nodes, 3, lead);
	for (size_t i = 0; i < 3; i++) {
		if (i != li) {
			member_free(c.nodes[i].m);
			c.nodes[i].m = NULL;
		}
	}
	cluster_sync(&c);
	/* The leader logs the put, cannot commit it, steps down (check
	 * quorum) and the request's deadline passes with no leader. */
	ck_assert_int_eq(cluster_put(c.loop, c.ms[li], "k", "v", NULL),
			 -ERR_TIMEOUT_LEADER_FAIL);
	member_info(c.ms[li], &mi);
	ck_assert_uint_eq(mi.leader, 0);
	/* Now Raft refuses the proposal itself: nothing was logged. */
	ck_assert_int_eq(cluster_put(c.loop, c.ms[li], "k", "v", NULL),
			 -ERR_NO_LEADER);
	cluster_stop(&c);
}
END_TEST

/* Run until every live member has applied the same index as the leader. */
static bool caught_up(struct member **ms, size_t n)
{
	struct member_info mi;
	uint64_t want = 0;

	for (size_t i = 0; i < n; i++) {
		member_info(ms[i], &mi);
		if (mi.applied_index > want) {
			want = mi.applied_index;
		}
	}
	for (size_t i = 0; i < n; i++) {
		member_info(ms[i], &mi);
		if (mi.applied_index != want || mi.leader == 0) {
			return false;
		}
	}
	return true;
}

START_TEST(test_members_restarted_again_and_again_rejoin_their_leader)
{
	struct sys_loop *loop;
	struct cluster_node nd[3];
	struct member *ms[3];
	const char *dir = testlib_tmpdir();
	uint64_t seed = testlib_seed();
	struct member_info mi;
	char key[32];

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd[0], "n1", dir);
	cluster_node_init(&nd[1], "n2", dir);
	cluster_node_init(&nd[2], "n3", dir);
	for (size_t i = 0; i < 3; i++) {
		nd[i].cfg = cluster_node_config(&nd[i], nd, 3, "again", NULL);
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	for (int round = 0; round < 8; round++) {
		uint64_t lead = cluster_wait_leader(loop, ms, 3, 0);
		size_t victim = 0, other;
		int tries;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		for (size_t i = 0; i < 3; i++) {
			if (nd[i].cfg->member_id == lead) {
				victim = i;
			}
		}
		if ((seed >> 33) % 2 == 1) {
			victim = (victim + 1 + (seed >> 40) % 2) % 3;
		}
		other = (victim + 1) % 3;
		snprintf(key, sizeof(key), "k%d", round);
		ck_assert_int_eq(cluster_put(loop, ms[other], key, "v", NULL),
				 0);
		member_free(nd[victim].m);
		nd[victim].m = NULL;
		ms[victim] = NULL;
		cluster_wait_leader(
		    loop, ms, 3, nd[victim].cfg->member_id == lead ? lead : 0);
		for (int j = 0; j < 3; j++) {
			tries = 0;
			while (cluster_put(loop, ms[other], key, "w", NULL) !=
			       0) {
				ck_assert_int_lt(++tries, 20);
			}
		}
		cluster_run_for(loop, (seed >> 20) % 50);
		cluster_node_start(loop, &nd[victim]);
		ms[victim] = nd[victim].m;
		for (tries = 0; tries < 300 && !caught_up(ms, 3); tries++) {
			cluster_run_for(loop, 10);
		}
		for (size_t i = 0; i < 3; i++) {
			member_info(ms[i], &mi);
			ck_assert_msg(mi.error == 0, "round %d: %s stopped: %s",
				      round, nd[i].name, err_str(mi.error));
		}
		ck_assert_msg(caught_up(ms, 3), "round %d: %s did not catch up",
			      round, nd[victim].name);
	}
	for (size_t i = 0; i < 3; i++) {
		cluster_node_done(&nd[i]);
	}
	sys_loop_free(loop);
}
END_TEST

/* Copy file src to dst (created or truncated), durably enough for a test. */
static void copy_file(const char *src, const char *dst)
{
	static char buf[1 << 16];
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	ck_assert_msg(in >= 0 && out >= 0, "copy %s to %s: %s", src, dst,
		      strerror(errno));
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	}
	ck_assert_int_eq(n, 0);
	close(in);
	close(out);
}

/*
 * The lead's drill: a member whose log lost entries it had acknowledged
 * (here its WAL rolled back to an older copy; in the drill another
 * cluster with the same member IDs answered at its peer URL) gets a
 * heartbeat telling it to commit what it does not have.  Raft refuses it
 * with a sticky -ERR_CORRUPT; the member must stop and say so, not keep
 * serving a state that never moves again.
 */
START_TEST(test_member_stops_when_told_to_commit_entries_it_lost)
{
	struct sys_loop *loop;
	struct cluster_node nd[3];
	struct member *ms[3];
	const char *dir = testlib_tmpdir();
	char wal[700], backup[700], key[16];
	struct member_info mi, li_mi;
	uint64_t lead;
	size_t li = 0, v;
	int tries;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd[0], "n1", dir);
	cluster_node_init(&nd[1], "n2", dir);
	cluster_node_init(&nd[2], "n3", dir);
	for (size_t i = 0; i < 3; i++) {
		/* A long election timeout keeps one leader (and its view of
		 * the follower) through the test even on a loaded machine. */
		nd[i].cfg = cluster_node_config(
		    &nd[i], nd, 3, "rollback",
		    (const char *[]){"--election-timeout=2000", NULL});
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	lead = cluster_wait_leader(loop, ms, 3, 0);
	li = cluster_node_index(nd, 3, lead);
	v = (li + 1) % 3;
	ck_assert_int_eq(cluster_put(loop, ms[li], "k0", "v", NULL), 0);

	/* Keep a copy of the follower's WAL as it is now. */
	member_free(nd[v].m);
	ms[v] = nd[v].m = NULL;
	snprintf(wal, sizeof(wal),
		 "%s/member/wal/0000000000000000-0000000000000000.wal",
		 nd[v].dir);
	snprintf(backup, sizeof(backup), "%s/wal.backup", dir);
	copy_file(wal, backup);

	/* It comes back, catches up and acknowledges more. */
	cluster_node_start(loop, &nd[v]);
	ms[v] = nd[v].m;
	for (int i = 1; i <= 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(cluster_put(loop, ms[li], key, "v", NULL), 0);
	}
	member_info(ms[li], &li_mi);
	for (tries = 0; tries < 500; tries++) {
		member_info(ms[v], &mi);
		if (mi.applied_index >= li_mi.applied_index) {
			break;
		}
		cluster_run_for(loop, 10);
	}
	ck_assert_uint_ge(mi.applied_index, li_mi.applied_index);
	ck_assert_int_eq(mi.error, 0);

	/* Its log loses what it acknowledged. */
	member_free(nd[v].m);
	ms[v] = nd[v].m = NULL;
	copy_file(backup, wal);
	cluster_node_start(loop, &nd[v]);
	ms[v] = nd[v].m;
	for (tries = 0; tries < 500; tries++) {
		member_info(ms[v], &mi);
		if (mi.error != 0) {
			break;
		}
		cluster_run_for(loop, 10);
	}
	ck_assert_msg(mi.error == -ERR_CORRUPT,
		      "the member did not stop: error %d (%s)", mi.error,
		      err_str(mi.error));
	/* Requests get the error instead of waiting for a state that will
	 * never move; the leader's side is unaffected. */
	ck_assert_int_eq(cluster_put(loop, ms[v], "k9", "v", NULL),
			 -ERR_CORRUPT);
	member_info(ms[li], &mi);
	ck_assert_uint_eq(mi.leader, lead);
	ck_assert_int_eq(mi.error, 0);

	for (size_t i = 0; i < 3; i++) {
		cluster_node_done(&nd[i]);
	}
	sys_loop_free(loop);
}
END_TEST

static void stop_done(void *arg)
{
	*(bool *)arg = true;
}

START_TEST(test_move_leader_remove_and_graceful_stop)
{
	struct sys_loop *loop;
	struct cluster_node nd[3];
	struct member *ms[3];
	const char *dir = testlib_tmpdir();
	Etcdserverpb__MoveLeaderRequest mv =
	    ETCDSERVERPB__MOVE_LEADER_REQUEST__INIT;
	Etcdserverpb__MemberRemoveRequest rm =
	    ETCDSERVERPB__MEMBER_REMOVE_REQUEST__INIT;
	Etcdserverpb__MemberRemoveResponse *rr = NULL;
	Etcdserverpb__MemberPromoteRequest pr =
	    ETCDSERVERPB__MEMBER_PROMOTE_REQUEST__INIT;
	uint64_t lead, lead2;
	size_t li = 0, a, b;
	bool stopped = false;
	char *v;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd[0], "n1", dir);
	cluster_node_init(&nd[1], "n2", dir);
	cluster_node_init(&nd[2], "n3", dir);
	for (size_t i = 0; i < 3; i++) {
		nd[i].cfg = cluster_node_config(&nd[i], nd, 3, "moves", NULL);
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	lead = cluster_wait_leader(loop, ms, 3, 0);
	li = cluster_node_index(nd, 3, lead);
	a = (li + 1) % 3;
	b = (li + 2) % 3;
	ck_assert_int_eq(cluster_put(loop, ms[a], "k", "v", NULL), 0);

	/* MoveLeader only on the leader; then leadership goes to a. */
	mv.targetid = nd[a].cfg->member_id;
	ck_assert_int_eq(
	    cluster_call(loop, ms[b], MEMBER_OP_MOVE_LEADER, &mv.base, NULL),
	    -ERR_NOT_LEADER);
	ck_assert_int_eq(
	    cluster_call(loop, ms[li], MEMBER_OP_MOVE_LEADER, &mv.base, NULL),
	    0);
	ck_assert_uint_eq(cluster_wait_leader(loop, ms, 3, lead),
			  nd[a].cfg->member_id);

	/* A graceful stop of the leader hands leadership over: the others
	 * have a leader again without waiting for an election timeout. */
	member_stop(nd[a].m, stop_done, &stopped);
	cluster_run_until(loop, &stopped);
	ms[a] = NULL;
	lead2 = cluster_wait_leader(loop, ms, 3, nd[a].cfg->member_id);
	ck_assert(lead2 == nd[li].cfg->member_id ||
		  lead2 == nd[b].cfg->member_id);
	ck_assert_int_eq(cluster_put(loop, ms[b], "k2", "v2", NULL), 0);

	/* Promote a voter: refused.  Remove the stopped member: two remain
	 * and still take writes. */
	pr.id = nd[b].cfg->member_id;
	ck_assert_int_eq(
	    cluster_call(loop, ms[b], MEMBER_OP_MEMBER_PROMOTE, &pr.base, NULL),
	    -ERR_MEMBER_NOT_LEARNER);
	rm.id = 12345;
	ck_assert_int_eq(
	    cluster_call(loop, ms[b], MEMBER_OP_MEMBER_REMOVE, &rm.base, NULL),
	    -ERR_MEMBER_NOT_FOUND);
	rm.id = nd[a].cfg->member_id;
	ck_assert_int_eq(cluster_call(loop, ms[li], MEMBER_OP_MEMBER_REMOVE,
				      &rm.base, (ProtobufCMessage **)&rr),
			 0);
	ck_assert_uint_eq(rr->n_members, 2);
	for (size_t i = 0; i < rr->n_members; i++) {
		ck_assert_uint_ne(rr->members[i]->id, nd[a].cfg->member_id);
	}
	proto_free(&rr->base);
	ck_assert_int_eq(cluster_put(loop, ms[li], "k3", "v3", NULL), 0);
	ck_assert_int_eq(cluster_get(loop, ms[b], "k3", false, &v, NULL), 0);
	ck_assert_str_eq(v, "v3");
	mem_free(v);
	for (size_t i = 0; i < 3; i++) {
		cluster_node_done(&nd[i]);
	}
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_member_added_with_member_add_joins_and_serves)
{
	struct sys_loop *loop;
	struct cluster_node nd[4];
	struct member *ms[4] = {NULL, NULL, NULL, NULL};
	const char *dir = testlib_tmpdir();
	Etcdserverpb__MemberAddRequest add =
	    ETCDSERVERPB__MEMBER_ADD_REQUEST__INIT;
	Etcdserverpb__MemberAddResponse *ar = NULL;
	Etcdserverpb__MemberListRequest ml =
	    ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
	Etcdserverpb__MemberListResponse *mlr = NULL;
	char url[64], *urls[1] = {url}, *v;
	uint64_t new_id;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd[0], "n1", dir);
	cluster_node_init(&nd[1], "n2", dir);
	cluster_node_init(&nd[2], "n3", dir);
	cluster_node_init(&nd[3], "n4", dir);
	for (size_t i = 0; i < 3; i++) {
		nd[i].cfg = cluster_node_config(&nd[i], nd, 3, "grow", NULL);
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	cluster_wait_leader(loop, ms, 3, 0);
	ck_assert_int_eq(cluster_put(loop, ms[0], "before", "join", NULL), 0);

	snprintf(url, sizeof(url), "http://%s:%d", nd[3].addr, nd[3].peer_port);
	add.n_peerurls = 1;
	add.peerurls = urls;
	ck_assert_int_eq(cluster_call(loop, ms[1], MEMBER_OP_MEMBER_ADD,
				      &add.base, (ProtobufCMessage **)&ar),
			 0);
	ck_assert_ptr_nonnull(ar->member);
	new_id = ar->member->id;
	ck_assert_uint_eq(ar->n_members, 4);
	ck_assert_str_eq(ar->member->peerurls[0], url);
	proto_free(&ar->base);
	/* The same URL twice: refused. */
	ck_assert_int_eq(
	    cluster_call(loop, ms[1], MEMBER_OP_MEMBER_ADD, &add.base, NULL),
	    -ERR_PEER_URL_EXISTS);

	/* The new member starts as etcdctl member add says: the whole
	 * cluster, state existing, an empty data dir. */
	nd[3].cfg = cluster_node_config(
	    &nd[3], nd, 4, "grow",
	    (const char *[]){"--initial-cluster-state=existing", NULL});
	cluster_node_start(loop, &nd[3]);
	ms[3] = nd[3].m;
	cluster_wait_leader(loop, ms, 4, 0);
	{
		int gr = cluster_get(loop, ms[3], "before", false, &v, NULL);
		ck_assert_msg(gr == 0, "get on the new member: %s",
			      err_str(gr));
	}
	ck_assert_str_eq(v, "join");
	mem_free(v);
	ck_assert_int_eq(cluster_put(loop, ms[3], "after", "join", NULL), 0);
	ck_assert_int_eq(cluster_get(loop, ms[0], "after", false, &v, NULL), 0);
	ck_assert_str_eq(v, "join");
	mem_free(v);
	{
		struct member_info mi;
		member_info(ms[3], &mi);
		ck_assert_uint_eq(mi.id, new_id);
		ck_assert_uint_eq(mi.cluster_id, nd[0].cfg->cluster_id);
	}
	ck_assert_int_eq(cluster_call(loop, ms[3], MEMBER_OP_MEMBER_LIST,
				      &ml.base, (ProtobufCMessage **)&mlr),
			 0);
	ck_assert_uint_eq(mlr->n_members, 4);
	proto_free(&mlr->base);
	for (size_t i = 0; i < 4; i++) {
		cluster_node_done(&nd[i]);
	}
	sys_loop_free(loop);
}
END_TEST

/*
 * etcd compat (PromoteMember): only the leader knows a learner's progress,
 * so a follower asks the leader; the client gets the leader's verdict
 * whichever member it asked.
 */
START_TEST(test_learner_is_promoted_only_when_caught_up_whichever_member_is_asked)
{
	struct sys_loop *loop;
	struct cluster_node nd[4];
	struct member *ms[4] = {NULL, NULL, NULL, NULL};
	const char *dir = testlib_tmpdir();
	Etcdserverpb__MemberAddRequest add =
	    ETCDSERVERPB__MEMBER_ADD_REQUEST__INIT;
	Etcdserverpb__MemberAddResponse *ar = NULL;
	Etcdserverpb__MemberPromoteRequest pr =
	    ETCDSERVERPB__MEMBER_PROMOTE_REQUEST__INIT;
	Etcdserverpb__MemberPromoteResponse *prr = NULL;
	Etcdserverpb__MemberListRequest ml =
	    ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
	Etcdserverpb__MemberListResponse *mlr = NULL;
	char url[64], *urls[1] = {url}, key[16];
	uint64_t lead, learner;
	size_t li = 0, f;
	int r = -1;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd[0], "n1", dir);
	cluster_node_init(&nd[1], "n2", dir);
	cluster_node_init(&nd[2], "n3", dir);
	cluster_node_init(&nd[3], "n4", dir);
	for (size_t i = 0; i < 3; i++) {
		nd[i].cfg = cluster_node_config(&nd[i], nd, 3, "learn", NULL);
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	lead = cluster_wait_leader(loop, ms, 3, 0);
	li = cluster_node_index(nd, 3, lead);
	f = (li + 1) % 3;
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(cluster_put(loop, ms[f], key, "v", NULL), 0);
	}

	snprintf(url, sizeof(url), "http://%s:%d", nd[3].addr, nd[3].peer_port);
	add.n_peerurls = 1;
	add.peerurls = urls;
	add.islearner = true;
	ck_assert_int_eq(cluster_call(loop, ms[f], MEMBER_OP_MEMBER_ADD,
				      &add.base, (ProtobufCMessage **)&ar),
			 0);
	learner = ar->member->id;
	ck_assert(ar->member->islearner);
	proto_free(&ar->base);

	/* Added, never started: not in sync, through a follower as
	 * through the leader; the follower's other answers are the
	 * leader's too. */
	pr.id = learner;
	ck_assert_int_eq(
	    cluster_call(loop, ms[f], MEMBER_OP_MEMBER_PROMOTE, &pr.base, NULL),
	    -ERR_LEARNER_NOT_READY);
	ck_assert_int_eq(cluster_call(loop, ms[li], MEMBER_OP_MEMBER_PROMOTE,
				      &pr.base, NULL),
			 -ERR_LEARNER_NOT_READY);
	pr.id = 12345;
	ck_assert_int_eq(
	    cluster_call(loop, ms[f], MEMBER_OP_MEMBER_PROMOTE, &pr.base, NULL),
	    -ERR_MEMBER_NOT_FOUND);
	pr.id = nd[li].cfg->member_id;
	ck_assert_int_eq(
	    cluster_call(loop, ms[f], MEMBER_OP_MEMBER_PROMOTE, &pr.base, NULL),
	    -ERR_MEMBER_NOT_LEARNER);

	/* Started, it catches up; then the follower promotes it. */
	nd[3].cfg = cluster_node_config(
	    &nd[3], nd, 4, "learn",
	    (const char *[]){"--initial-cluster-state=existing", NULL});
	cluster_node_start(loop, &nd[3]);
	ms[3] = nd[3].m;
	cluster_wait_leader(loop, ms, 4, 0);
	pr.id = learner;
	for (int i = 0; i < 50 && r != 0; i++) {
		r = cluster_call(loop, ms[f], MEMBER_OP_MEMBER_PROMOTE,
				 &pr.base, (ProtobufCMessage **)&prr);
		ck_assert_msg(r == 0 || r == -ERR_LEARNER_NOT_READY,
			      "promote through a follower: %s", err_str(r));
		if (r != 0) {
			cluster_run_for(loop, 100);
		}
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(prr->header->member_id, nd[f].cfg->member_id);
	ck_assert_uint_eq(prr->n_members, 4);
	for (size_t i = 0; i < prr->n_members; i++) {
		ck_assert(!prr->members[i]->islearner);
	}
	proto_free(&prr->base);
	ck_assert_int_eq(
	    cluster_call(loop, ms[f], MEMBER_OP_MEMBER_PROMOTE, &pr.base, NULL),
	    -ERR_MEMBER_NOT_LEARNER);
	ck_assert_int_eq(cluster_call(loop, ms[li], MEMBER_OP_MEMBER_LIST,
				      &ml.base, (ProtobufCMessage **)&mlr),
			 0);
	for (size_t i = 0; i < mlr->n_members; i++) {
		ck_assert(!mlr->members[i]->islearner);
	}
	proto_free(&mlr->base);
	ck_assert_int_eq(cluster_put(loop, ms[3], "after", "promote", NULL), 0);

	/* No leader: the follower's question goes nowhere.  At the request's
	 * deadline it fails with "no leader" (etcd's waitLeader) when the
	 * follower had already seen the leader go, or times out "possibly due
	 * to previous leader failure" when it had asked the dead leader, which
	 * might have proposed the promotion. */
	for (size_t i = 0; i < 4; i++) {
		if (i != f) {
			cluster_node_done(&nd[i]);
			ms[i] = NULL;
		}
	}
	r = cluster_call(loop, ms[f], MEMBER_OP_MEMBER_PROMOTE, &pr.base, NULL);
	ck_assert_msg(r == -ERR_NO_LEADER || r == -ERR_TIMEOUT_LEADER_FAIL,
		      "no leader: %s", err_str(r));
	cluster_node_done(&nd[f]);
	sys_loop_free(loop);
}
END_TEST

static Suite *member_suite(void)
{
	Suite *s = suite_create("member");
	TCase *tc = tcase_create("single");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_single_member_bootstraps_and_serves_kv);
	tcase_add_test(tc, test_delete_txn_and_compaction_apply_through_raft);
	tcase_add_test(tc, test_invalid_requests_get_etcd_errors);
	tcase_add_test(tc, test_member_list_and_status_describe_the_member);
	tcase_add_test(tc, test_restarted_member_serves_the_same_data);
	tcase_add_test(tc,
		       test_data_dir_in_use_or_of_another_cluster_is_refused);
	tcase_add_test(tc,
		       test_snapshots_keep_data_and_membership_across_restart);
	tcase_add_test(tc, test_hash_defragment_and_nospace_alarm);
	tcase_add_test(
	    tc, test_full_disk_stops_the_member_naming_file_space_and_fix);
	tcase_add_test(tc, test_quota_exceeded_counts_as_a_full_disk);
	tcase_add_test(tc,
		       test_member_that_cannot_start_on_a_full_disk_says_so);
	tcase_add_test(tc,
		       test_io_error_on_a_disk_with_room_is_not_called_full);
	tcase_add_test(tc,
		       test_periodic_auto_compaction_compacts_old_revisions);
	suite_add_tcase(s, tc);
	tc = tcase_create("cluster");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc,
		       test_three_members_replicate_and_survive_a_leader_loss);
	tcase_add_test(tc, test_move_leader_remove_and_graceful_stop);
	tcase_add_test(
	    tc,
	    test_a_write_in_the_log_times_out_and_one_never_proposed_gets_no_leader);
	tcase_add_test(tc, test_member_added_with_member_add_joins_and_serves);
	tcase_add_test(
	    tc,
	    test_learner_is_promoted_only_when_caught_up_whichever_member_is_asked);
	tcase_add_test(
	    tc, test_members_restarted_again_and_again_rejoin_their_leader);
	tcase_add_test(tc,
		       test_member_stops_when_told_to_commit_entries_it_lost);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(member_suite)
