/*
 * test_snapshot.c - snapshots of the store, in-process: members on one
 * loop with real WAL and LMDB files and real peer sockets (the shared
 * fixture tests/lib/cluster.h).  A member that fell behind the leader's
 * compacted log, and a member added after it was compacted, catch up by
 * snapshot transfer (the store travels with the MsgSnap); a member's
 * Maintenance.Snapshot copy opens as a store with every key; and the copy
 * that Debian's etcdctl saves from a cetcd process does too.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "mvcc/mvcc.h"
#include "proto/proto.h"
#include "raft/types.h"
#include "server/config.h"
#include "server/member.h"
#include "sys/loop.h"
#include "cluster.h"
#include "testlib.h"

/* Every live member applied the same index as the most advanced one. */
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
		if (mi.applied_index != want || mi.leader == 0 ||
		    mi.error != 0) {
			return false;
		}
	}
	return true;
}

static void wait_caught_up(struct sys_loop *loop, struct member **ms, size_t n)
{
	for (int tries = 0; tries < 1000 && !caught_up(ms, n); tries++) {
		cluster_run_for(loop, 10);
	}
	for (size_t i = 0; i < n; i++) {
		struct member_info mi;
		member_info(ms[i], &mi);
		ck_assert_msg(mi.error == 0, "member %zu stopped: %s", i,
			      err_str(mi.error));
	}
	ck_assert_msg(caught_up(ms, n), "the members did not catch up");
}

static uint32_t hash_kv(struct sys_loop *loop, struct member *m, int64_t *rev)
{
	Etcdserverpb__HashKVRequest req = ETCDSERVERPB__HASH_KVREQUEST__INIT;
	Etcdserverpb__HashKVResponse *resp = NULL;
	uint32_t h;

	ck_assert_int_eq(cluster_call(loop, m, MEMBER_OP_HASH_KV, &req.base,
				      (ProtobufCMessage **)&resp),
			 0);
	h = resp->hash;
	*rev = resp->header->revision;
	proto_free(&resp->base);
	return h;
}

/* Every key k0..k(n-1) reads v<i> on m (serializable: m's own store). */
static void expect_keys(struct sys_loop *loop, struct member *m, int n)
{
	for (int i = 0; i < n; i++) {
		char k[32], want[32], *v;
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(want, sizeof(want), "v%d", i);
		ck_assert_int_eq(cluster_get(loop, m, k, true, &v, NULL), 0);
		ck_assert_msg(v != NULL, "%s missing", k);
		ck_assert_str_eq(v, want);
		mem_free(v);
	}
}

/* Puts in flight at once. */
#define BATCH 10

/*
 * Writes made while a member is down.  The default keeps the test short
 * on a busy machine (each write costs tens of ms under sanitizers there);
 * CETCD_SNAPSHOT_TEST_WRITES=1100 gives the "> 1000 writes".
 */
static int lag_writes(void)
{
	const char *v = getenv("CETCD_SNAPSHOT_TEST_WRITES");

	return v != NULL && atoi(v) > 0 ? atoi(v) : 200;
}

struct batch {
	struct sys_loop *loop;
	int pending;
	bool done;
	int err[BATCH];
};

struct batch_put {
	struct batch *b;
	int slot;
};

static void on_batch_done(void *arg, int err, const ProtobufCMessage *resp)
{
	struct batch_put *p = arg;
	struct batch *b = p->b;

	(void)resp;
	b->err[p->slot] = err;
	if (--b->pending == 0) {
		b->done = true;
		sys_loop_stop(b->loop);
	}
}

static void put_request(struct member *m, int i, struct batch_put *p)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	char k[32], v[32];

	snprintf(k, sizeof(k), "k%d", i);
	snprintf(v, sizeof(v), "v%d", i);
	req.key.data = (uint8_t *)k;
	req.key.len = strlen(k);
	req.value.data = (uint8_t *)v;
	req.value.len = strlen(v);
	ck_assert_int_eq(
	    member_request(m, MEMBER_OP_PUT, &req.base, on_batch_done, p, NULL),
	    0);
}

/*
 * Put k<i> = v<i> for i in [from, to), BATCH requests in flight at a time
 * (one WAL sync covers several), each a write of its own.  A put that
 * timed out on an overloaded machine is made again (the same value).
 */
static void put_keys(struct sys_loop *loop, struct member *m, int from, int to)
{
	for (int i = from; i < to;) {
		struct batch b = {loop, 0, false, {0}};
		struct batch_put p[BATCH];
		int n = to - i < BATCH ? to - i : BATCH;

		for (int tries = 0;; tries++) {
			int failed = 0, last = 0;

			b.done = false;
			for (int j = 0; j < n; j++) {
				if (tries == 0 || b.err[j] < 0) {
					p[j] = (struct batch_put){&b, j};
					b.pending++;
				}
			}
			for (int j = 0; j < n; j++) {
				if (tries == 0 || b.err[j] < 0) {
					put_request(m, i + j, &p[j]);
				}
			}
			cluster_run_until(loop, &b.done);
			for (int j = 0; j < n; j++) {
				if (b.err[j] < 0) {
					failed++;
					last = b.err[j];
				}
			}
			if (failed == 0) {
				break;
			}
			ck_assert_msg(tries < 5 && last == -ERR_TIMEOUT,
				      "%d puts failed: %s", failed,
				      err_str(last));
		}
		i += n;
	}
}

static size_t count_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL) {
		return 0;
	}
	while ((e = readdir(d)) != NULL) {
		n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
	}
	closedir(d);
	return n;
}

/* Small snapshot-count and catch-up window: the log is compacted early. */
static const char *const small_log[] = {
    "--snapshot-count=100", "--experimental-snapshot-catchup-entries=20", NULL};

/*
 * The member's memory: the Raft log it holds is cut at each snapshot to
 * the catch-up window, so it never grows past snapshot-count plus that
 * window (tests/bench/README.md: it is most of the heap after a load).
 */
START_TEST(test_snapshot_cuts_the_memory_log_to_the_catchup_window)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	struct member *m;
	struct member_info mi;

	cluster_solo(&loop, &nd, "cut", small_log);
	m = nd.m;
	put_keys(loop, m, 0, 50);
	member_info(m, &mi);
	ck_assert_uint_eq(mi.snapshot_index, 0);
	ck_assert_uint_eq(mi.log_first_index, 1);

	put_keys(loop, m, 50, 150);
	member_info(m, &mi);
	ck_assert_uint_ge(mi.snapshot_index, 100);
	ck_assert_uint_le(mi.snapshot_index, mi.applied_index);
	ck_assert_uint_eq(mi.log_first_index, mi.snapshot_index - 20 + 1);
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

/*
 * The bytes bound (member_int.h's SNAPSHOT_LOG_BYTES, here 8 KiB): with a
 * snapshot-count never reached, a snapshot follows 4 KiB of applied
 * entries, and the log behind it keeps at most 4 KiB of them although the
 * catch-up window would allow 5000 entries.
 */
START_TEST(test_snapshot_follows_a_size_of_log_and_bounds_its_window)
{
	static const char *const many[] = {"--snapshot-count=100000", NULL};
	struct sys_loop *loop;
	struct cluster_node nd;
	struct member *m;
	struct member_info mi;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd, "n1", testlib_tmpdir());
	nd.cfg = cluster_node_config(&nd, &nd, 1, "bytes", many);
	nd.cfg->snapshot_log_bytes = 8192;
	cluster_node_start(loop, &nd);
	m = nd.m;
	cluster_wait_leader(loop, &m, 1, 0);
	/* A put's entry is some 40 bytes plus the overhead: 8 KiB is well
	 * under 300 of them. */
	put_keys(loop, m, 0, 300);
	member_info(m, &mi);
	ck_assert_uint_gt(mi.snapshot_index, 0);
	ck_assert_uint_lt(mi.snapshot_index, 300);
	ck_assert_uint_gt(mi.log_first_index, 1);
	/* The window kept: at most 4 KiB of entries, each of them the
	 * overhead and a payload at least. */
	ck_assert_uint_le(mi.snapshot_index - mi.log_first_index + 1,
			  4096 / (raft_entry_size(&(struct raft_entry){0}) + 1));
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_lagging_member_catches_up_by_snapshot_transfer)
{
	struct sys_loop *loop;
	struct cluster_node nd[3];
	struct member *ms[3];
	const char *dir = testlib_tmpdir();
	uint64_t lead;
	size_t lag, li = 0;
	int64_t rev[3];
	uint32_t h[3];
	char snapdir[700];

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd[0], "n1", dir);
	cluster_node_init(&nd[1], "n2", dir);
	cluster_node_init(&nd[2], "n3", dir);
	for (size_t i = 0; i < 3; i++) {
		nd[i].cfg =
		    cluster_node_config(&nd[i], nd, 3, "lag", small_log);
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	lead = cluster_wait_leader(loop, ms, 3, 0);
	li = cluster_node_index(nd, 3, lead);
	lag = (li + 1) % 3;
	/* Through the leader: a follower's forwarded puts are slower. */
	put_keys(loop, ms[li], 0, 20);
	wait_caught_up(loop, ms, 3);

	/* One follower stops; the others write far past the log they keep. */
	member_free(nd[lag].m);
	nd[lag].m = NULL;
	ms[lag] = NULL;
	put_keys(loop, ms[li], 20, 20 + lag_writes());

	cluster_node_start(loop, &nd[lag]);
	ms[lag] = nd[lag].m;
	wait_caught_up(loop, ms, 3);
	expect_keys(loop, ms[lag], 20 + lag_writes());
	for (size_t i = 0; i < 3; i++) {
		h[i] = hash_kv(loop, ms[i], &rev[i]);
	}
	ck_assert_int_eq(rev[lag], rev[(lag + 1) % 3]);
	ck_assert_int_eq(rev[lag], rev[(lag + 2) % 3]);
	ck_assert_uint_eq(h[lag], h[(lag + 1) % 3]);
	ck_assert_uint_eq(h[lag], h[(lag + 2) % 3]);
	/* The received store replaced the old one: no file left behind. */
	snprintf(snapdir, sizeof(snapdir), "%s/member/snap", nd[lag].dir);
	ck_assert_uint_eq(count_files(snapdir, "snap.recv."), 0);
	/* It keeps working: a write through it reaches everyone. */
	ck_assert_int_eq(cluster_put(loop, ms[lag], "k0", "v0", NULL), 0);

	/* And it restarts from the installed snapshot. */
	member_free(nd[lag].m);
	nd[lag].m = NULL;
	ms[lag] = NULL;
	cluster_node_start(loop, &nd[lag]);
	ms[lag] = nd[lag].m;
	wait_caught_up(loop, ms, 3);
	expect_keys(loop, ms[lag], 20 + lag_writes());
	for (size_t i = 0; i < 3; i++) {
		cluster_node_done(&nd[i]);
	}
	sys_loop_free(loop);
}
END_TEST

START_TEST(test_member_added_after_compaction_joins_by_snapshot)
{
	struct sys_loop *loop;
	struct cluster_node nd[4];
	struct member *ms[4] = {NULL, NULL, NULL, NULL};
	const char *dir = testlib_tmpdir();
	const char *existing[] = {small_log[0], small_log[1],
				  "--initial-cluster-state=existing", NULL};
	Etcdserverpb__MemberAddRequest add =
	    ETCDSERVERPB__MEMBER_ADD_REQUEST__INIT;
	Etcdserverpb__MemberListRequest ml =
	    ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;
	Etcdserverpb__MemberListResponse *mlr = NULL;
	char url[64], *urls[1] = {url};
	int64_t rev0, rev3;
	uint64_t lead;
	size_t li = 0;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	for (size_t i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "n%zu", i + 1);
		cluster_node_init(&nd[i], name, dir);
	}
	for (size_t i = 0; i < 3; i++) {
		nd[i].cfg =
		    cluster_node_config(&nd[i], nd, 3, "grow", small_log);
		cluster_node_start(loop, &nd[i]);
		ms[i] = nd[i].m;
	}
	lead = cluster_wait_leader(loop, ms, 3, 0);
	li = cluster_node_index(nd, 3, lead);
	put_keys(loop, ms[li], 0, 120);

	snprintf(url, sizeof(url), "http://%s:%d", nd[3].addr, nd[3].peer_port);
	add.n_peerurls = 1;
	add.peerurls = urls;
	ck_assert_int_eq(
	    cluster_call(loop, ms[1], MEMBER_OP_MEMBER_ADD, &add.base, NULL),
	    0);
	nd[3].cfg = cluster_node_config(&nd[3], nd, 4, "grow", existing);
	cluster_node_start(loop, &nd[3]);
	ms[3] = nd[3].m;
	cluster_wait_leader(loop, ms, 4, 0);
	wait_caught_up(loop, ms, 4);
	expect_keys(loop, ms[3], 120);
	ck_assert_uint_eq(hash_kv(loop, ms[3], &rev3),
			  hash_kv(loop, ms[0], &rev0));
	ck_assert_int_eq(rev3, rev0);
	/* The membership came with the snapshot. */
	ck_assert_int_eq(cluster_call(loop, ms[3], MEMBER_OP_MEMBER_LIST,
				      &ml.base, (ProtobufCMessage **)&mlr),
			 0);
	ck_assert_uint_eq(mlr->n_members, 4);
	proto_free(&mlr->base);
	ck_assert_int_eq(cluster_put(loop, ms[3], "after", "join", NULL), 0);
	for (size_t i = 0; i < 4; i++) {
		cluster_node_done(&nd[i]);
	}
	sys_loop_free(loop);
}
END_TEST

struct snap_result {
	struct sys_loop *loop;
	bool done;
	int err;
	int fd;
	uint64_t size;
};

static void on_snapshot(void *arg, int err, int fd, uint64_t size)
{
	struct snap_result *s = arg;

	s->done = true;
	s->err = err;
	s->fd = fd;
	s->size = size;
	sys_loop_stop(s->loop);
}

/* Copy n bytes of fd (from offset 0) to path. */
static void save_fd(int fd, uint64_t n, const char *path)
{
	int out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char b[65536];
	uint64_t off = 0;

	ck_assert_int_ge(out, 0);
	while (off < n) {
		size_t c = n - off < sizeof(b) ? (size_t)(n - off) : sizeof(b);
		ssize_t got = pread(fd, b, c, (off_t)off);
		ck_assert_int_gt(got, 0);
		ck_assert_int_eq(write(out, b, (size_t)got), got);
		off += (uint64_t)got;
	}
	close(out);
}

/* Open dir/data.mdb with node/mvcc: every k<i> reads v<i>, at rev. */
static void expect_store(const char *dir, int n, int64_t rev)
{
	struct mvcc_store *s;

	ck_assert_int_eq(mvcc_open(dir, NULL, &s), 0);
	/* rev, or one more: the copy may start after a later write. */
	ck_assert_int_ge(mvcc_current_rev(s), rev);
	ck_assert_int_le(mvcc_current_rev(s), rev + 1);
	for (int i = 0; i < n; i++) {
		char k[32], want[32];
		struct mvcc_range_req rq;
		struct mvcc_range_resp rp;

		snprintf(k, sizeof(k), "k%d", i);
		snprintf(want, sizeof(want), "v%d", i);
		memset(&rq, 0, sizeof(rq));
		rq.key = (const uint8_t *)k;
		rq.key_len = strlen(k);
		ck_assert_int_eq(mvcc_range(s, &rq, &rp), 0);
		ck_assert_uint_eq(rp.n_kvs, 1);
		ck_assert_uint_eq(rp.kvs[0].value_len, strlen(want));
		ck_assert(memcmp(rp.kvs[0].value, want, strlen(want)) == 0);
		mvcc_range_resp_done(&rp);
	}
	mvcc_close(s);
}

START_TEST(test_member_snapshot_is_a_store_with_every_applied_write)
{
	struct sys_loop *loop;
	struct cluster_node nd;
	struct member *ms[1];
	struct snap_result sr = {0};
	char copy[700], file[800];
	int64_t rev;

	ck_assert_int_eq(sys_loop_new(&loop), 0);
	cluster_node_init(&nd, "n1", testlib_tmpdir());
	nd.cfg = cluster_node_config(&nd, &nd, 1, "copy", NULL);
	cluster_node_start(loop, &nd);
	ms[0] = nd.m;
	cluster_wait_leader(loop, ms, 1, 0);
	put_keys(loop, nd.m, 0, 200);
	ck_assert_int_eq(cluster_put(loop, nd.m, "k0", "v0", &rev), 0);

	/* Applied but not yet committed writes are in it (it commits). */
	sr.loop = loop;
	ck_assert_int_eq(member_snapshot(nd.m, on_snapshot, &sr, NULL), 0);
	ck_assert(!sr.done);
	/* The member keeps serving while the thread copies. */
	ck_assert_int_eq(cluster_put(loop, nd.m, "later", "x", NULL), 0);
	cluster_run_until(loop, &sr.done);
	ck_assert_int_eq(sr.err, 0);
	ck_assert_uint_gt(sr.size, 0);
	ck_assert_uint_eq(sr.size % 4096, 0); /* whole pages */
	snprintf(copy, sizeof(copy), "%s/copy", testlib_tmpdir());
	ck_assert_int_eq(mkdir(copy, 0700), 0);
	snprintf(file, sizeof(file), "%s/data.mdb", copy);
	save_fd(sr.fd, sr.size, file);
	close(sr.fd);
	expect_store(copy, 200, rev);

	/* A cancelled copy never calls back. */
	{
		struct member_snapshot *h = NULL;
		sr.done = false;
		ck_assert_int_eq(member_snapshot(nd.m, on_snapshot, &sr, &h),
				 0);
		member_snapshot_cancel(h);
		cluster_run_for(loop, 200);
		ck_assert(!sr.done);
	}
	cluster_node_done(&nd);
	sys_loop_free(loop);
}
END_TEST

/* Run argv (output to log) and return its exit status (-1: not run). */
static int run_cmd(char *const argv[], const char *log)
{
	pid_t pid = testlib_spawn(argv, NULL, log);

	ck_assert_int_gt(pid, 0);
	return testlib_wait(pid, 30000);
}

START_TEST(test_debian_etcdctl_saves_a_snapshot_that_opens_as_a_store)
{
	char addr[16], ep[64], lc[80], lp[80], ac[80], ap[80], ic[120];
	char dd[600], log[600], out[600], copy[600], file[700], buf[256];
	char *srv[12], *ctl[8];
	int cport, pport, st;
	pid_t pid;
	struct stat sb;
	FILE *f;

	if (access("/usr/bin/etcdctl", X_OK) != 0) {
		fprintf(stderr, "skipped: etcdctl not installed\n");
		return;
	}
	ck_assert_int_eq(testlib_loopback_addr(addr, sizeof(addr)), 0);
	cport = testlib_free_port(addr);
	pport = testlib_free_port(addr);
	snprintf(ep, sizeof(ep), "--endpoints=http://%s:%d", addr, cport);
	snprintf(lc, sizeof(lc), "--listen-client-urls=http://%s:%d", addr,
		 cport);
	snprintf(ac, sizeof(ac), "--advertise-client-urls=http://%s:%d", addr,
		 cport);
	snprintf(lp, sizeof(lp), "--listen-peer-urls=http://%s:%d", addr,
		 pport);
	snprintf(ap, sizeof(ap), "--initial-advertise-peer-urls=http://%s:%d",
		 addr, pport);
	snprintf(ic, sizeof(ic), "--initial-cluster=s1=http://%s:%d", addr,
		 pport);
	snprintf(dd, sizeof(dd), "--data-dir=%s/ctl.etcd", testlib_tmpdir());
	snprintf(log, sizeof(log), "%s/cetcd.log", testlib_tmpdir());
	srv[0] = (char *)(uintptr_t)testlib_build_path("node/cetcd");
	srv[1] = (char *)"--name=s1";
	srv[2] = dd;
	srv[3] = lc;
	srv[4] = ac;
	srv[5] = lp;
	srv[6] = ap;
	srv[7] = ic;
	srv[8] = NULL;
	pid = testlib_spawn(srv, NULL, log);
	ck_assert_int_gt(pid, 0);

	ctl[0] = (char *)"/usr/bin/etcdctl";
	ctl[1] = ep;
	ctl[2] = (char *)"put";
	ctl[4] = buf;
	ctl[5] = NULL;
	snprintf(out, sizeof(out), "%s/etcdctl.log", testlib_tmpdir());
	for (int i = 0; i < 30; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(buf, sizeof(buf), "v%d", i);
		ctl[3] = k;
		for (int tries = 0; (st = run_cmd(ctl, out)) != 0 && tries < 50;
		     tries++) {
			usleep(100000); /* the member is starting */
		}
		ck_assert_int_eq(st, 0);
	}
	snprintf(file, sizeof(file), "%s/saved.db", testlib_tmpdir());
	ctl[2] = (char *)"snapshot";
	ctl[3] = (char *)"save";
	ctl[4] = file;
	ck_assert_int_eq(run_cmd(ctl, out), 0);
	f = fopen(out, "r");
	ck_assert_ptr_nonnull(f);
	{
		char line[512];
		bool saved = false;
		while (fgets(line, sizeof(line), f) != NULL) {
			saved =
			    saved || strstr(line, "Snapshot saved at") != NULL;
		}
		fclose(f);
		ck_assert_msg(saved,
			      "etcdctl did not say \"Snapshot saved at\"");
	}
	testlib_kill(pid, SIGTERM);
	testlib_wait(pid, 10000);

	/* The file minus its 32-byte SHA-256 trailer is the store. */
	ck_assert_int_eq(stat(file, &sb), 0);
	ck_assert_int_eq(sb.st_size % 512, 32);
	snprintf(copy, sizeof(copy), "%s/saved", testlib_tmpdir());
	ck_assert_int_eq(mkdir(copy, 0700), 0);
	{
		char dst[700];
		int fd = open(file, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		snprintf(dst, sizeof(dst), "%s/data.mdb", copy);
		save_fd(fd, (uint64_t)sb.st_size - 32, dst);
		close(fd);
	}
	expect_store(copy, 30, 31);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");

	add_case(s, "copy",
		 test_member_snapshot_is_a_store_with_every_applied_write);
	add_case(s, "etcdctl",
		 test_debian_etcdctl_saves_a_snapshot_that_opens_as_a_store);
	add_case(s, "cut", test_snapshot_cuts_the_memory_log_to_the_catchup_window);
	add_case(s, "bytes",
		 test_snapshot_follows_a_size_of_log_and_bounds_its_window);
	add_case(s, "lagging",
		 test_lagging_member_catches_up_by_snapshot_transfer);
	add_case(s, "join",
		 test_member_added_after_compaction_joins_by_snapshot);
	return s;
}
TEST_SUITE(snapshot_suite)
