/*
 * restore.c - a new member's data dir from a snapshot file (restore.h).
 *
 * Invariants:
 *  1. The flags go through config_parse, so the member IDs, the cluster
 *     ID and the data dir layout are the ones cetcd computes when it
 *     starts with the same flags; the store goes through node/mvcc and the
 *     WAL through walstore_open: no on-disk format is written here.
 *  2. Nothing is created until the snapshot passed every check (SHA-256
 *     trailer unless skipped, a readable cetcd store) and the data dir was
 *     found absent.
 *  3. The restored store forgets the old cluster's Raft state: its applied
 *     index and term are 0 (the new log starts again at index 1 and every
 *     entry of it must apply) and its removed-member records are dropped
 *     (a new cluster may reuse the IDs).  Keys, revision, leases and
 *     alarms stay, as etcd's restore keeps them.
 */
#include "server/restore.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "mvcc/mvcc.h"
#include "server/config.h"
#include "server/member.h"
#include "wal/walio.h"
#include "wal/walstore.h"

#define SHA_LEN 32

static int errf(char **errmsg, int r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int errf(char **errmsg, int r, const char *fmt, ...)
{
	va_list ap;
	char b[2048];

	va_start(ap, fmt);
	vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	*errmsg = mem_strdup(b);
	return r;
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0) {
		return -errno;
	}
	r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* etcd compat: Go's %v of a []byte: "[1 2 3]". */
static void go_bytes(struct buf *out, const uint8_t *p, size_t n)
{
	buf_append_byte(out, '[');
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "%s%u", i ? " " : "", p[i]);
	}
	buf_append_byte(out, ']');
}

/*
 * etcd compat: a snapshot carries its SHA-256 when its size is 32 past a
 * multiple of 512 (snapshot.hasChecksum); *payload is the store's size.
 */
static int check_hash(int fd, const char *path, bool skip, off_t *payload,
		      char **errmsg)
{
	struct stat st;
	uint8_t want[SHA_LEN], got[EVP_MAX_MD_SIZE], b[65536];
	unsigned glen = 0;
	bool has_hash;
	EVP_MD_CTX *md;
	int r = 0;

	if (fstat(fd, &st) < 0) {
		return errf(errmsg, -errno, "stat %s: %s", path,
			    strerror(errno));
	}
	has_hash = st.st_size % 512 == SHA_LEN;
	*payload = has_hash ? st.st_size - SHA_LEN : st.st_size;
	if (!has_hash && !skip) {
		return errf(
		    errmsg, -ERR_CORRUPT,
		    "snapshot missing hash but --skip-hash-check=false");
	}
	if (!has_hash || skip) {
		return 0;
	}
	if (pread(fd, want, SHA_LEN, *payload) != SHA_LEN) {
		return errf(errmsg, -EIO, "read %s: short read", path);
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	for (off_t off = 0; off < *payload && r == 0;) {
		size_t want_n = (size_t)(*payload - off) < sizeof(b)
				    ? (size_t)(*payload - off)
				    : sizeof(b);
		ssize_t n = pread(fd, b, want_n, off);
		if (n <= 0) {
			r = errf(
			    errmsg, n < 0 ? -errno : -EIO, "read %s: %s", path,
			    n < 0 ? strerror(errno) : "unexpected end of file");
			break;
		}
		EVP_DigestUpdate(md, b, (size_t)n);
		off += n;
	}
	if (r == 0) {
		EVP_DigestFinal_ex(md, got, &glen);
	}
	EVP_MD_CTX_free(md);
	if (r == 0 && (glen != SHA_LEN || memcmp(want, got, SHA_LEN) != 0)) {
		struct buf m = BUF_INIT;
		buf_printf(&m, "expected sha256 ");
		go_bytes(&m, want, SHA_LEN);
		buf_printf(&m, ", got ");
		go_bytes(&m, got, SHA_LEN);
		r = errf(errmsg, -ERR_CORRUPT, "%s",
			 m.data ? (char *)m.data : "");
		buf_done(&m);
	}
	return r;
}

/* Copy the first n bytes of fd to a new file at path, synced. */
static int copy_payload(int fd, off_t n, const char *path)
{
	uint8_t b[65536];
	int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	int r = 0;

	if (out < 0) {
		return -errno;
	}
	for (off_t off = 0; off < n && r == 0;) {
		size_t want = (size_t)(n - off) < sizeof(b) ? (size_t)(n - off)
							    : sizeof(b);
		ssize_t got = pread(fd, b, want, off);
		if (got <= 0) {
			r = got < 0 ? -errno : -EIO;
			break;
		}
		for (ssize_t w = 0; w < got && r == 0;) {
			ssize_t k = write(out, b + w, (size_t)(got - w));
			if (k < 0 && errno != EINTR) {
				r = -errno;
			} else if (k > 0) {
				w += k;
			}
		}
		off += got;
	}
	if (r == 0 && fsync(out) < 0) {
		r = -errno;
	}
	if (close(out) < 0 && r == 0) {
		r = -errno;
	}
	return r;
}

struct removed {
	struct buf keys; /* key_len (size_t) then the key, one after another */
};

static int collect_removed(void *arg, const void *key, size_t key_len,
			   const void *val, size_t val_len)
{
	struct removed *rm = arg;

	(void)val;
	(void)val_len;
	if (buf_append(&rm->keys, &key_len, sizeof(key_len)) < 0 ||
	    buf_append(&rm->keys, key, key_len) < 0) {
		return -ENOMEM;
	}
	return 0;
}

/* Invariant 3 on the copied store in snap_dir. */
static int reset_store(const char *snap_dir)
{
	struct mvcc_store *s;
	struct removed rm = {BUF_INIT};
	int r = mvcc_open(snap_dir, NULL, &s);

	if (r < 0) {
		return r;
	}
	r = mvcc_reset_applied(s);
	if (r >= 0) {
		r = mvcc_aux_scan(s, MEMBER_REMOVED_PREFIX, strlen(MEMBER_REMOVED_PREFIX),
				  collect_removed, &rm);
	}
	for (size_t off = 0; r >= 0 && off < rm.keys.len;) {
		size_t n;
		memcpy(&n, rm.keys.data + off, sizeof(n));
		off += sizeof(n);
		r = mvcc_aux_del(s, rm.keys.data + off, n);
		off += n;
	}
	if (r >= 0) {
		r = mvcc_commit(s);
	}
	buf_done(&rm.keys);
	mvcc_close(s);
	return r;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/*
 * etcd compat: Restore verifies the name against the initial cluster as
 * given (config_parse would derive one from etcd's default string).
 */
static bool name_in_cluster(const char *name, const char *ic)
{
	size_t n = strlen(name);

	for (const char *p = ic; p != NULL && *p != '\0';) {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			return true;
		}
		p = strchr(p, ',');
		p = p != NULL ? p + 1 : NULL;
	}
	return false;
}

int restore_snapshot(const struct restore_options *o, char **errmsg)
{
	struct buf dd = BUF_INIT, file = BUF_INIT;
	const char *args[16];
	char *argv[16] = {NULL};
	int argc = 0;
	struct config *cfg = NULL;
	struct mvcc_store *probe;
	char *cerr = NULL;
	off_t payload = 0;
	int fd = -1, r;

	*errmsg = NULL;
	if (o->data_dir == NULL || o->data_dir[0] == '\0') {
		buf_printf(&dd, "%s.etcd", o->name);
	} else {
		buf_printf(&dd, "%s", o->data_dir);
	}
	if (dd.data == NULL) {
		return -ENOMEM;
	}
	args[argc++] = "cetcd";
	args[argc++] = "--name";
	args[argc++] = o->name;
	args[argc++] = "--data-dir";
	args[argc++] = (char *)dd.data;
	args[argc++] = "--initial-cluster";
	args[argc++] = o->initial_cluster;
	args[argc++] = "--initial-cluster-token";
	args[argc++] = o->token;
	args[argc++] = "--initial-advertise-peer-urls";
	args[argc++] = o->peer_urls;
	if (o->wal_dir != NULL && o->wal_dir[0] != '\0') {
		args[argc++] = "--wal-dir";
		args[argc++] = o->wal_dir;
	}
	if (!name_in_cluster(o->name, o->initial_cluster)) {
		r = errf(
		    errmsg, -ERR_CONFIG,
		    "couldn't find local name \"%s\" in the initial cluster "
		    "configuration",
		    o->name);
		goto out;
	}
	/* config_parse's argv is not const: give it copies. */
	for (int i = 0; i < argc; i++) {
		argv[i] = mem_strdup(args[i]);
		if (argv[i] == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	r = config_parse(argc, argv, NULL, &cfg, &cerr);
	if (r < 0) {
		if (cerr != NULL) {
			*errmsg = cerr;
		}
		goto out;
	}
	/* etcd compat: snapshot.Restore's words. */
	if (exists(cfg->data_dir)) {
		r = errf(errmsg, -EEXIST, "data-dir \"%s\" exists",
			 cfg->data_dir);
		goto out;
	}
	if (cfg->wal_dir != NULL && exists(cfg->wal_dir)) {
		r = errf(errmsg, -EEXIST, "wal-dir \"%s\" exists",
			 cfg->wal_dir);
		goto out;
	}
	fd = open(o->snapshot, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* etcd compat: Go's os.PathError, lower-case errno text. */
		char es[128];
		snprintf(es, sizeof(es), "%s", strerror(errno));
		es[0] = (char)tolower((unsigned char)es[0]);
		r = errf(errmsg, -errno, "open %s: %s", o->snapshot, es);
		goto out;
	}
	r = check_hash(fd, o->snapshot, o->skip_hash_check, &payload, errmsg);
	if (r < 0) {
		goto out;
	}
	r = mvcc_open_file(o->snapshot, &probe);
	if (r < 0) {
		r = errf(errmsg, r,
			 "%s is not a cetcd snapshot (%s; `cetcdctl snapshot "
			 "status %s` says more)",
			 o->snapshot, err_str(r), o->snapshot);
		goto out;
	}
	mvcc_close(probe);
	r = walio_mkdir_p(cfg->snap_dir);
	if (r >= 0) {
		r = buf_printf(&file, "%s/data.mdb", cfg->snap_dir);
	}
	if (r >= 0) {
		r = copy_payload(fd, payload, (char *)file.data);
	}
	if (r >= 0) {
		r = fsync_path(cfg->snap_dir, O_DIRECTORY);
	}
	if (r < 0) {
		r = errf(errmsg, r, "cannot copy %s to %s: %s", o->snapshot,
			 cfg->snap_dir, err_str(r));
		goto out;
	}
	r = reset_store(cfg->snap_dir);
	if (r < 0) {
		r = errf(errmsg, r, "cannot reset the restored store in %s: %s",
			 cfg->snap_dir, err_str(r));
		goto out;
	}
	{
		struct walstore_options wo = {cfg->wal_path, cfg->snap_dir, 0};
		struct wal_metadata md = {cfg->member_id, cfg->cluster_id};
		struct walstore_report rep;
		struct walstore *ws;

		memset(&rep, 0, sizeof(rep));
		r = walstore_open(&wo, &md, &ws, NULL, &rep);
		if (r < 0) {
			r = errf(errmsg, r, "cannot create the WAL in %s: %s",
				 cfg->wal_path,
				 rep.msg[0] ? rep.msg : err_str(r));
			goto out;
		}
		walstore_close(ws);
	}
	r = 0;
out:
	if (fd >= 0) {
		close(fd);
	}
	config_free(cfg);
	for (int i = 0; i < argc; i++) {
		mem_free(argv[i]);
	}
	buf_done(&dd);
	buf_done(&file);
	return r;
}
