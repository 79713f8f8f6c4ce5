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
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent/ctl_cmd.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/timeutil.h"

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
	r = ctl_stream(c, "/v3/maintenance/snapshot", &req.base,
		       &etcdserverpb__snapshot_response__descriptor, false, snap_got, &s,
		       err, sizeof(err));
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

int ctl_cmd_snapshot_status(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			    size_t n)
{
	int fd;

	(void)c;
	(void)cmd;
	(void)n;
	fd = open(args[0], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return ctl_fail_code(CTL_EXIT_ERROR, "stat %s: %s", args[0], strerror(errno));
	}
	close(fd);
	/*
	 * cetcd's snapshot payload is its LMDB store, not etcd's bbolt file, so
	 * etcd's hash/revision/keys walk over bbolt buckets does not apply.
	 */
	return ctl_fail_code(CTL_EXIT_ERROR,
			     "snapshot status is not supported for cetcd snapshots: %s "
			     "holds a cetcd (LMDB) store, not an etcd (bbolt) database",
			     args[0]);
}
