/*
 * ctl_snapshot.c - cetcdctl's `snapshot save` (etcdctl's
 * snapshot_command.go and clientv3/snapshot's Save) over the gateway's
 * streamed /v3/maintenance/snapshot.
 *
 * Invariants:
 *  1. The file holds what etcd's snapshot files hold: the member's
 *     payload followed by its 32-byte SHA-256, byte for byte as streamed.
 *  2. The data goes to <file>.part first; <file> appears only once the
 *     whole stream arrived and its SHA-256 trailer matched the payload
 *     (etcdctl 3.4 only checks the size; a wrong digest is refused here).
 *  3. stdout and stderr are etcdctl 3.4's: zap's JSON log lines on stderr,
 *     "Snapshot saved at <file>" on stdout, exit 5 on a failure.
 *  4. `snapshot status` only reads: it opens the file through node/mvcc
 *     read-only (no lock file, no write).  Its hash is cetcd's own
 *     (mvcc_hash: CRC-32C over the store's tables in key order, as etcd's
 *     is CRC-32C over bbolt's buckets), so it matches between snapshots of
 *     members that applied and compacted alike, never etcd's value.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent/ctl_cmd.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "mvcc/mvcc.h"
#include "server/restore.h"

#define SHA_LEN 32

struct snap {
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;
	/* The last SHA_LEN bytes seen, not yet hashed: the trailer at the end. */
	uint8_t tail[SHA_LEN];
	size_t n_tail;
};

static int snap_got(ProtobufCMessage *msg, void *arg)
{
	Etcdserverpb__SnapshotResponse *r = (Etcdserverpb__SnapshotResponse *)msg;
	struct snap *s = arg;
	const uint8_t *p = r->blob.data;
	size_t n = r->blob.len;

	for (size_t off = 0; off < n;) {
		ssize_t w = write(s->fd, p + off, n - off);
		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		off += (size_t)w;
	}
	s->size += n;
	/* Hash everything but the last SHA_LEN bytes seen so far. */
	if (n >= SHA_LEN) {
		EVP_DigestUpdate(s->md, s->tail, s->n_tail);
		EVP_DigestUpdate(s->md, p, n - SHA_LEN);
		memcpy(s->tail, p + n - SHA_LEN, SHA_LEN);
		s->n_tail = SHA_LEN;
	} else {
		size_t spill = s->n_tail + n > SHA_LEN ? s->n_tail + n - SHA_LEN : 0;
		EVP_DigestUpdate(s->md, s->tail, spill);
		memmove(s->tail, s->tail + spill, s->n_tail - spill);
		s->n_tail -= spill;
		memcpy(s->tail + s->n_tail, p, n);
		s->n_tail += n;
	}
	return 0;
}

/* etcd compat: zap's production encoder: ts in seconds as a float. */
static void zap_line(const char *caller, const char *msg, const char *fields)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	fprintf(stderr,
		"{\"level\":\"info\",\"ts\":%lld.%06ld,\"caller\":\"%s\",\"msg\":\"%s\"%s}\n",
		(long long)tv.tv_sec, (long)tv.tv_usec, caller, msg, fields);
}

/* etcd compat: clientv3's own logger: ts as ISO 8601 UTC, milliseconds. */
static void zap_line_iso(const char *caller, const char *msg)
{
	struct timeval tv;
	struct tm tm;
	char ts[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr,
		"{\"level\":\"info\",\"ts\":\"%s.%03ldZ\",\"caller\":\"%s\",\"msg\":\"%s\"}\n",
		ts, (long)(tv.tv_usec / 1000), caller, msg);
}

/* go-humanize's Bytes: SI units, one decimal below 10. */
static void human_bytes(char *out, size_t size, uint64_t n)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	size_t u = 0;

	if (n < 10) {
		snprintf(out, size, "%" PRIu64 " B", n);
		return;
	}
	while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1000;
		u++;
	}
	v = (double)(uint64_t)(v * 10 + 0.5) / 10;
	snprintf(out, size, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

int ctl_cmd_snapshot_save(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			  size_t n)
{
	Etcdserverpb__SnapshotRequest req = ETCDSERVERPB__SNAPSHOT_REQUEST__INIT;
	struct snap s = {.fd = -1};
	struct buf part = BUF_INIT, f = BUF_INIT;
	uint8_t digest[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	char err[CTL_ERRSZ], hb[32];
	struct timespec t0, t1;
	int r;

	(void)cmd;
	(void)n;
	if (c->n_endpoints != 1) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < c->n_endpoints; i++) {
			buf_printf(&b, "%s%s", i ? " " : "", ctl_ep_name(c, i));
		}
		r = ctl_fail_code(CTL_EXIT_INTERRUPTED,
				  "snapshot must be requested to one selected node, "
				  "not multiple [%s]",
				  b.data ? (char *)b.data : "");
		buf_done(&b);
		return r;
	}
	if (buf_printf(&part, "%s.part", args[0]) < 0) {
		return ctl_fail("out of memory");
	}
	s.fd = open((char *)part.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (s.fd < 0) {
		r = ctl_fail_code(CTL_EXIT_INTERRUPTED, "could not open %s (%s)",
				  (char *)part.data, strerror(errno));
		buf_done(&part);
		return r;
	}
	buf_printf(&f, ",\"path\":\"%s\"", (char *)part.data);
	zap_line("snapshot/v3_snapshot.go:119", "created temporary db file",
		 (char *)f.data);
	f.len = 0;
	s.md = EVP_MD_CTX_new();
	if (s.md == NULL || EVP_DigestInit_ex(s.md, EVP_sha256(), NULL) != 1) {
		r = ctl_fail("out of memory");
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	zap_line_iso("clientv3/maintenance.go:200", "opened snapshot stream; downloading");
	buf_printf(&f, ",\"endpoint\":\"%s\"", ctl_ep_name(c, 0));
	zap_line("snapshot/v3_snapshot.go:127", "fetching snapshot", (char *)f.data);
	f.len = 0;
	/*
	 * etcd compat: snapshot_command.go bounds the download by
	 * --command-timeout only when it was given (flag or
	 * ETCDCTL_COMMAND_TIMEOUT); by default a snapshot may take any time.
	 */
	r = ctl_stream(c, "/v3/maintenance/snapshot", &req.base,
		       &etcdserverpb__snapshot_response__descriptor,
		       ctl_flag("command-timeout") != NULL, snap_got, &s, err,
		       sizeof(err));
	if (r < 0) {
		r = ctl_fail_code(CTL_EXIT_INTERRUPTED, "%s", err);
		goto out;
	}
	zap_line_iso("clientv3/maintenance.go:208", "completed snapshot read; closing");
	EVP_DigestFinal_ex(s.md, digest, &dlen);
	if (s.size % 512 != SHA_LEN || s.n_tail != SHA_LEN) {
		r = ctl_fail_code(CTL_EXIT_INTERRUPTED,
				  "sha256 checksum not found [bytes: %" PRIu64 "]", s.size);
		goto out;
	}
	if (dlen != SHA_LEN || memcmp(digest, s.tail, SHA_LEN) != 0) {
		r = ctl_fail_code(CTL_EXIT_INTERRUPTED,
				  "sha256 mismatch: the snapshot is corrupt [bytes: %" PRIu64
				  "]",
				  s.size);
		goto out;
	}
	if (fsync(s.fd) < 0 || close(s.fd) < 0) {
		s.fd = -1;
		r = ctl_fail_code(CTL_EXIT_INTERRUPTED, "%s", strerror(errno));
		goto out;
	}
	s.fd = -1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	human_bytes(hb, sizeof(hb), s.size);
	buf_printf(&f, ",\"endpoint\":\"%s\",\"size\":\"%s\",\"took\":%.9f",
		   ctl_ep_name(c, 0), hb,
		   (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	zap_line("snapshot/v3_snapshot.go:142", "fetched snapshot", (char *)f.data);
	f.len = 0;
	if (rename((char *)part.data, args[0]) < 0) {
		r = ctl_fail_code(CTL_EXIT_INTERRUPTED, "could not rename %s to %s (%s)",
				  (char *)part.data, args[0], strerror(errno));
		goto out;
	}
	buf_printf(&f, ",\"path\":\"%s\"", args[0]);
	zap_line("snapshot/v3_snapshot.go:152", "saved", (char *)f.data);
	printf("Snapshot saved at %s\n", args[0]);
	r = CTL_EXIT_OK;
out:
	if (s.fd >= 0) {
		close(s.fd);
	}
	if (r != CTL_EXIT_OK) {
		unlink((char *)part.data); /* etcd compat: Save removes the .part */
	}
	EVP_MD_CTX_free(s.md);
	buf_done(&part);
	buf_done(&f);
	return r;
}

/* etcd compat: Go's syscall error text is strerror's, lower-cased. */
static const char *go_errstr(int e, char *out, size_t size)
{
	snprintf(out, size, "%s", strerror(e));
	out[0] = (char)tolower((unsigned char)out[0]);
	return out;
}

/* etcd compat: bbolt's meta page: a 16-byte page header, then its magic. */
#define BOLT_MAGIC 0xED0CDAEDu
/* LMDB's meta page: a 16-byte page header, then its magic. */
#define LMDB_MAGIC 0xBEEFC0DEu

static uint32_t le32_at(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * Say what is wrong with a file that is not a readable cetcd snapshot;
 * r is mvcc_open_file's error.  etcd compat: exit 1 as etcdctl.
 */
static int status_refuse(const char *path, const struct stat *st, int r)
{
	uint8_t head[20] = {0};
	ssize_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		got = pread(fd, head, sizeof(head), 0);
		close(fd);
	}
	if (st->st_size == 0) {
		return ctl_fail_code(CTL_EXIT_ERROR,
				     "invalid database: %s is empty, not a snapshot",
				     path);
	}
	if (got == (ssize_t)sizeof(head) && le32_at(head + 16) == BOLT_MAGIC) {
		return ctl_fail_code(CTL_EXIT_ERROR,
				     "%s is an etcd (bbolt) snapshot, not a cetcd "
				     "(LMDB) one: read it with etcd's etcdctl",
				     path);
	}
	if (got == (ssize_t)sizeof(head) && le32_at(head + 16) == LMDB_MAGIC) {
		if (r == -ERR_INVALID) {
			return ctl_fail_code(CTL_EXIT_ERROR,
					     "invalid database: %s is an LMDB file "
					     "but not a cetcd store (its tables "
					     "are missing)",
					     path);
		}
		return ctl_fail_code(CTL_EXIT_ERROR,
				     "invalid database: %s is truncated or damaged "
				     "(%lld bytes; a cetcd (LMDB) snapshot whose "
				     "pages are missing or unreadable: %s)",
				     path, (long long)st->st_size, err_str(r));
	}
	return ctl_fail_code(CTL_EXIT_ERROR,
			     "invalid database: %s is neither a cetcd (LMDB) nor "
			     "an etcd (bbolt) snapshot",
			     path);
}

int ctl_cmd_snapshot_status(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			    size_t n)
{
	struct mvcc_store *s = NULL;
	struct stat st;
	char es[128];
	uint32_t hash;
	mvcc_rev rev;
	uint64_t records;
	int64_t size;
	char hb[32];
	int r;

	(void)cmd;
	(void)n;
	/* etcd compat: os.Stat's and os.Open's words first. */
	if (stat(args[0], &st) < 0) {
		return ctl_fail_code(CTL_EXIT_ERROR, "stat %s: %s", args[0],
				     go_errstr(errno, es, sizeof(es)));
	}
	if (S_ISDIR(st.st_mode)) {
		return ctl_fail_code(CTL_EXIT_ERROR, "open %s: is a directory", args[0]);
	}
	r = mvcc_open_file(args[0], &s);
	if (r == -EACCES || r == -EPERM || r == -ENOENT) {
		return ctl_fail_code(CTL_EXIT_ERROR, "open %s: %s", args[0],
				     go_errstr(-r, es, sizeof(es)));
	}
	if (r < 0) {
		return status_refuse(args[0], &st, r);
	}
	r = mvcc_hash(s, &hash, &rev);
	if (r >= 0) {
		r = mvcc_file_info(s, &records, &size);
	}
	mvcc_close(s);
	if (r < 0) {
		return status_refuse(args[0], &st, r);
	}
	/* etcd compat: printer.go's makeDBStatusTable and the per-format
	 * printers of snapshot.Status. */
	ctl_humanize_bytes((uint64_t)size, hb, sizeof(hb));
	if (c->format == CTL_FMT_JSON) {
		printf("{\"hash\":%" PRIu32 ",\"revision\":%" PRId64
		       ",\"totalKey\":%" PRIu64 ",\"totalSize\":%" PRId64 "}\n",
		       hash, (int64_t)rev, records, size);
	} else if (c->format == CTL_FMT_FIELDS) {
		printf("\"Hash\" : %" PRIu32 "\n\"Revision\" : %" PRId64
		       "\n\"Keys\" : %" PRIu64 "\n\"Size\" : %" PRId64 "\n",
		       hash, (int64_t)rev, records, size);
	} else if (c->format == CTL_FMT_TABLE) {
		static const char *const headers[] = {"hash", "revision", "total keys",
						      "total size"};
		struct ctl_table *t = ctl_table_new(headers, 4);
		char hx[16], rv[32], nk[32];
		const char *row[] = {hx, rv, nk, hb};

		if (t == NULL) {
			return ctl_fail("out of memory");
		}
		snprintf(hx, sizeof(hx), "%" PRIx32, hash);
		snprintf(rv, sizeof(rv), "%" PRId64, (int64_t)rev);
		snprintf(nk, sizeof(nk), "%" PRIu64, records);
		if (ctl_table_add_row(t, row) < 0) {
			ctl_table_free(t);
			return ctl_fail("out of memory");
		}
		ctl_render_table(t);
	} else {
		printf("%" PRIx32 ", %" PRId64 ", %" PRIu64 ", %s\n", hash, (int64_t)rev,
		       records, hb);
	}
	return CTL_EXIT_OK;
}

/* A flag's value, or etcdctl's default when not given. */
static const char *flag_or(const char *name, const char *def)
{
	const char *v = ctl_flag(name);

	return v != NULL ? v : def;
}

int ctl_cmd_snapshot_restore(struct ctl *c, const struct ctl_cmd *cmd,
			     char **args, size_t n)
{
	struct restore_options o = {
	    .snapshot = args[0],
	    .name = flag_or("name", "default"),
	    .data_dir = ctl_flag("data-dir"),
	    .wal_dir = ctl_flag("wal-dir"),
	    .token = flag_or("initial-cluster-token", "etcd-cluster"),
	    .peer_urls = flag_or("initial-advertise-peer-urls", "http://localhost:2380"),
	    .skip_hash_check = ctl_flag_bool("skip-hash-check"),
	};
	struct buf dd = BUF_INIT, wd = BUF_INIT, f = BUF_INIT;
	char *msg = NULL;
	int r;

	(void)c;
	(void)cmd;
	(void)n;
	/* etcd compat: snapshot_command.go's defaults; the initial cluster's
	 * is built from the default name, not from --name. */
	o.initial_cluster = flag_or("initial-cluster", "default=http://localhost:2380");
	buf_printf(&dd, "%s", o.data_dir != NULL && o.data_dir[0] ? o.data_dir : "");
	if (dd.len == 0) {
		buf_printf(&dd, "%s.etcd", o.name);
	}
	o.data_dir = (char *)dd.data;
	if (o.wal_dir != NULL && o.wal_dir[0]) {
		buf_printf(&wd, "%s", o.wal_dir);
	} else {
		buf_printf(&wd, "%s/member/wal", o.data_dir);
	}
	r = restore_snapshot(&o, &msg);
	/* etcd compat: Restore logs this once the flags and the data dir
	 * passed their checks (stderr; the error line comes after it). */
	if (r >= 0 || (r != -ERR_CONFIG && r != -EEXIST)) {
		buf_printf(&f,
			   ",\"path\":\"%s\",\"wal-dir\":\"%s\",\"data-dir\":\"%s\","
			   "\"snap-dir\":\"%s/member/snap\"",
			   o.snapshot, (char *)wd.data, o.data_dir, o.data_dir);
		zap_line("snapshot/v3_snapshot.go:296", "restoring snapshot",
			 (char *)f.data);
	}
	if (r >= 0) {
		zap_line("snapshot/v3_snapshot.go:309", "restored snapshot",
			 (char *)f.data);
		r = CTL_EXIT_OK;
	} else {
		r = ctl_fail_code(CTL_EXIT_ERROR, "%s", msg != NULL ? msg : err_str(r));
	}
	mem_free(msg);
	buf_done(&dd);
	buf_done(&wd);
	buf_done(&f);
	return r;
}

/*
 * The lock a running member holds on its data dir: cetcd's WAL takes an
 * exclusive flock on <wal dir>/lock for the member's whole life (wal.c).
 * Taking it here both tests for a running member and keeps one from
 * starting during the defrag.  -EBUSY when held; -ENOENT without a WAL.
 */
static int lock_member(const char *dir, int *fd_out)
{
	struct buf p = BUF_INIT;
	int fd, r = 0;

	if (buf_printf(&p, "%s/member/wal/lock", dir) < 0) {
		return -ENOMEM;
	}
	fd = open((char *)p.data, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
	} else {
		*fd_out = fd;
	}
	buf_done(&p);
	return r;
}

int ctl_defrag_data_dir(const char *dir)
{
	struct buf snap = BUF_INIT, file = BUF_INIT;
	struct mvcc_store *s = NULL;
	struct stat st;
	int lock = -1, r;

	buf_printf(&snap, "%s/member/snap", dir);
	buf_printf(&file, "%s/data.mdb", snap.data ? (char *)snap.data : "");
	if (snap.data == NULL || file.data == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = lock_member(dir, &lock);
	if (r == -EBUSY) {
		/* etcd compat: etcdctl 3.4 waits for bbolt's lock; refusing
		 * says at once what is wrong. */
		fprintf(stderr,
			"Failed to defragment etcd data[%s] (the data dir is in use: "
			"a running member holds %s/member/wal/lock; stop it first, or "
			"omit --data-dir to defragment a running member)\n",
			dir, dir);
		r = CTL_EXIT_ERROR;
		goto done;
	}
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "Failed to defragment etcd data[%s] (lock %s/member/wal/lock: %s)\n",
			dir, dir, strerror(-r));
		r = CTL_EXIT_ERROR;
		goto done;
	}
	if (stat((char *)file.data, &st) < 0) {
		char es[128];
		struct buf db = BUF_INIT;

		buf_printf(&db, "%s/db", (char *)snap.data);
		if (db.data != NULL && stat((char *)db.data, &st) == 0) {
			fprintf(stderr,
				"Failed to defragment etcd data[%s] (%s holds an etcd "
				"(bbolt) store, not a cetcd one: defragment it with "
				"etcd's etcdctl)\n",
				dir, (char *)snap.data);
		} else {
			fprintf(stderr,
				"Failed to defragment etcd data[%s] (stat %s: %s)\n", dir,
				(char *)file.data, go_errstr(errno, es, sizeof(es)));
		}
		buf_done(&db);
		r = CTL_EXIT_ERROR;
		goto done;
	}
	r = mvcc_open((char *)snap.data, NULL, &s);
	if (r >= 0) {
		r = mvcc_defrag(s);
	}
out:
	if (r < 0) {
		fprintf(stderr, "Failed to defragment etcd data[%s] (%s)\n", dir,
			err_str(r));
		r = CTL_EXIT_ERROR;
	} else {
		r = CTL_EXIT_OK; /* etcd compat: 3.4 prints nothing on success */
	}
done:
	mvcc_close(s);
	if (lock >= 0) {
		close(lock);
	}
	buf_done(&snap);
	buf_done(&file);
	return r;
}
