/*
 * wal/snapfile.c - snapshot files (snapfile.h).
 *
 * Invariants:
 *  1. Names are fixed-width lowercase hex, so sorting names sorts
 *     snapshots by (term, index); the newest is the greatest name.
 *  2. Every rename and removal is followed by a directory fsync.
 */
#include "wal/snapfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <protobuf-c/protobuf-c.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/crc32c.h"
#include "base/err.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/mem.h"
#include "raftpb.pb-c.h"
#include "wal/walio.h"
#include "wal/walrec.h"

#define HEADER_SIZE 24
#define NAME_LEN 38 /* 16 hex, '-', 16 hex, ".snap" */

static const char magic[8] = {'c', 'e', 't', 'c', 'd', 's', 'n', '1'};

__attribute__((format(printf, 3, 4))) static int
report(struct snapfile_report *rep, int err, const char *fmt, ...)
{
	va_list ap;

	if (rep != NULL) {
		va_start(ap, fmt);
		vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--) {
		v = v << 8 | p[i];
	}
	return v;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static char *snap_name(const char *dir, raft_term term, raft_index index)
{
	struct buf b = BUF_INIT;

	if (buf_printf(&b, "%s/%016" PRIx64 "-%016" PRIx64 ".snap", dir, term,
		       index) < 0) {
		buf_done(&b);
		return NULL;
	}
	return (char *)b.data;
}

int snapfile_save(const char *dir, const struct raft_snapshot *snap)
{
	Raftpb__Snapshot m = RAFTPB__SNAPSHOT__INIT;
	Raftpb__SnapshotMetadata md = RAFTPB__SNAPSHOT_METADATA__INIT;
	Raftpb__ConfState cs = RAFTPB__CONF_STATE__INIT;
	const struct raft_conf_state *c = &snap->meta.conf;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ char *tmp = NULL;
	_cleanup_free_ uint8_t *p = NULL;
	size_t len;
	int fd, r;

	cs.voters = c->voters;
	cs.n_voters = c->n_voters;
	cs.learners = c->learners;
	cs.n_learners = c->n_learners;
	cs.voters_outgoing = c->voters_outgoing;
	cs.n_voters_outgoing = c->n_voters_outgoing;
	cs.learners_next = c->learners_next;
	cs.n_learners_next = c->n_learners_next;
	cs.auto_leave = c->auto_leave;
	md.conf_state = &cs;
	md.index = snap->meta.index;
	md.term = snap->meta.term;
	m.metadata = &md;
	m.data.data = snap->data;
	m.data.len = snap->len;

	r = walio_mkdir_p(dir);
	if (r < 0) {
		return r;
	}
	path = snap_name(dir, snap->meta.term, snap->meta.index);
	if (path == NULL) {
		return -ENOMEM;
	}
	tmp = mem_alloc(strlen(path) + 5);
	if (tmp == NULL) {
		return -ENOMEM;
	}
	sprintf(tmp, "%s.tmp", path);
	len = raftpb__snapshot__get_packed_size(&m);
	p = mem_alloc(HEADER_SIZE + len);
	if (p == NULL) {
		return -ENOMEM;
	}
	raftpb__snapshot__pack(&m, p + HEADER_SIZE);
	memcpy(p, magic, sizeof(magic));
	put_le64(p + 8, len);
	put_le32(p + 16, crc32c(p + HEADER_SIZE, len));
	put_le32(p + 20, crc32c(p, 20));

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	r = walio_pwrite_all(fd, p, HEADER_SIZE + len, 0);
	FAILPOINT("snap_during_save");
	if (r >= 0) {
		r = walio_fsync(fd);
	}
	close(fd);
	if (r >= 0) {
		r = walio_rename(tmp, path);
	}
	if (r >= 0) {
		r = walio_fsync_dir(dir);
	}
	if (r < 0) {
		unlink(tmp);
	}
	return r;
}

static int decode(const uint8_t *p, size_t size, struct raft_snapshot *out,
		  const char **why)
{
	Raftpb__Snapshot *m;
	struct raft_snapshot s;
	struct raft_conf_state c;
	uint64_t len;
	int r = 0;

	if (size < HEADER_SIZE || memcmp(p, magic, sizeof(magic)) != 0) {
		*why = "not a cetcd snapshot file (bad magic)";
		return -ERR_CORRUPT;
	}
	if (get_le32(p + 20) != crc32c(p, 20)) {
		*why = "header CRC mismatch";
		return -ERR_CORRUPT;
	}
	len = get_le64(p + 8);
	if (len != size - HEADER_SIZE) {
		*why = "length does not match the file size";
		return -ERR_CORRUPT;
	}
	if (get_le32(p + 16) != crc32c(p + HEADER_SIZE, len)) {
		*why = "CRC mismatch";
		return -ERR_CORRUPT;
	}
	m = raftpb__snapshot__unpack(&walrec_pb_allocator, len,
				     p + HEADER_SIZE);
	if (m == NULL) {
		/* Out of memory is not the file's fault: never call a file
		 * broken for it. */
		void *probe = mem_alloc(1);
		if (probe == NULL) {
			return -ENOMEM;
		}
		mem_free(probe);
		*why = "payload does not parse";
		return -ERR_CORRUPT;
	}
	memset(&s, 0, sizeof(s));
	if (m->metadata == NULL) {
		*why = "no metadata";
		r = -ERR_CORRUPT;
		goto out;
	}
	s.meta.index = m->metadata->index;
	s.meta.term = m->metadata->term;
	if (m->metadata->conf_state != NULL) {
		const Raftpb__ConfState *cs = m->metadata->conf_state;
		memset(&c, 0, sizeof(c));
		c.voters = cs->voters;
		c.n_voters = cs->n_voters;
		c.learners = cs->learners;
		c.n_learners = cs->n_learners;
		c.voters_outgoing = cs->voters_outgoing;
		c.n_voters_outgoing = cs->n_voters_outgoing;
		c.learners_next = cs->learners_next;
		c.n_learners_next = cs->n_learners_next;
		c.auto_leave = cs->auto_leave;
		r = raft_conf_state_copy(&s.meta.conf, &c);
		if (r < 0) {
			goto out;
		}
	}
	if (m->data.len > 0) {
		s.data = mem_dup(m->data.data, m->data.len);
		if (s.data == NULL) {
			raft_conf_state_done(&s.meta.conf);
			r = -ENOMEM;
			goto out;
		}
		s.len = m->data.len;
	}
	*out = s;
out:
	raftpb__snapshot__free_unpacked(m, &walrec_pb_allocator);
	return r;
}

static int read_all(const char *path, uint8_t **out, size_t *size)
{
	struct stat st;
	uint8_t *p;
	size_t done = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	p = mem_alloc((size_t)st.st_size);
	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	while (done < (size_t)st.st_size) {
		ssize_t n =
		    pread(fd, p + done, (size_t)st.st_size - done, (off_t)done);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			mem_free(p);
			return -e;
		}
		done += (size_t)n;
	}
	close(fd);
	*out = p;
	*size = done;
	return 0;
}

int snapfile_load(const char *path, struct raft_snapshot *out,
		  struct snapfile_report *rep)
{
	_cleanup_free_ uint8_t *p = NULL;
	const char *why = NULL;
	size_t size = 0;
	int r;

	r = read_all(path, &p, &size);
	if (r < 0) {
		return report(rep, r, "snap: %s: %s", path, err_str(r));
	}
	r = decode(p, size, out, &why);
	if (r == -ERR_CORRUPT) {
		return report(rep, r, "snap: %s: %s", path, why);
	}
	return r;
}

static int cmp_desc(const void *a, const void *b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_snap_name(const char *name)
{
	return strlen(name) == NAME_LEN && name[16] == '-' &&
	       strcmp(name + 33, ".snap") == 0;
}

/* The snapshot file names in dir, newest first. */
static int list_snaps(const char *dir, char ***out, size_t *n_out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	if (d == NULL) {
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_snap_name(de->d_name)) {
			continue;
		}
		if (n == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;
			char **nn = mem_realloc(names, ncap * sizeof(*names));
			if (nn == NULL) {
				r = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = mem_strdup(de->d_name);
		if (names[n] == NULL) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		for (size_t i = 0; i < n; i++) {
			mem_free(names[i]);
		}
		mem_free(names);
		return r;
	}
	if (n > 0) {
		qsort(names, n, sizeof(*names), cmp_desc);
	}
	*out = names;
	*n_out = n;
	return 0;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		mem_free(names[i]);
	}
	mem_free(names);
}

int snapfile_load_newest(const char *dir, struct raft_snapshot *out,
			 struct snapfile_report *rep)
{
	return snapfile_load_newest_upto(dir, UINT64_MAX, out, rep);
}

int snapfile_load_newest_upto(const char *dir, raft_index max_index,
			      struct raft_snapshot *out,
			      struct snapfile_report *rep)
{
	char **names = NULL;
	size_t n = 0;
	int r;

	if (rep != NULL) {
		memset(rep, 0, sizeof(*rep));
	}
	r = list_snaps(dir, &names, &n);
	if (r == -ENOENT) {
		return report(rep, r, "snap: no snapshot directory %s", dir);
	}
	if (r < 0) {
		return report(rep, r, "snap: cannot list %s: %s", dir,
			      err_str(r));
	}
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *path = NULL;
		_cleanup_free_ char *broken = NULL;
		struct buf b = BUF_INIT;
		int e;

		if (strtoull(names[i] + 17, NULL, 16) > max_index) {
			continue;
		}
		if (buf_printf(&b, "%s/%s", dir, names[i]) < 0) {
			r = -ENOMEM;
			break;
		}
		path = (char *)b.data;
		r = snapfile_load(path, out, rep);
		if (r != -ERR_CORRUPT) {
			break; /* loaded, or an error that is not the file's */
		}
		log_debug("snap: corrupt snapshot file=%s reason=\"%s\"", path,
			  rep != NULL ? rep->msg : "");
		broken = mem_alloc(strlen(path) + sizeof(".broken"));
		if (broken == NULL) {
			r = -ENOMEM;
			break;
		}
		sprintf(broken, "%s.broken", path);
		e = walio_rename(path, broken);
		if (e >= 0) {
			e = walio_fsync_dir(dir);
		}
		if (e < 0) {
			r = report(rep, e, "snap: cannot rename %s to %s: %s",
				   path, broken, err_str(e));
			break;
		}
		if (rep != NULL && rep->n_broken < SNAPFILE_MAX_BROKEN) {
			snprintf(rep->broken[rep->n_broken++],
				 sizeof(rep->broken[0]), "%s", broken);
		}
		r = -ENOENT;
	}
	free_names(names, n);
	if (r == -ENOENT) {
		report(rep, r, "snap: no valid snapshot in %s", dir);
	}
	return r;
}

int snapfile_purge(const char *dir, size_t keep)
{
	char **names = NULL;
	size_t n = 0;
	bool removed = false;
	int r;

	r = list_snaps(dir, &names, &n);
	if (r < 0) {
		return r;
	}
	for (size_t i = keep; i < n && r == 0; i++) {
		struct buf b = BUF_INIT;
		if (buf_printf(&b, "%s/%s", dir, names[i]) < 0) {
			r = -ENOMEM;
		} else if (unlink((char *)b.data) < 0 && errno != ENOENT) {
			r = -errno;
		} else {
			removed = true;
		}
		buf_done(&b);
	}
	free_names(names, n);
	if (removed) {
		int s = walio_fsync_dir(dir);
		if (r == 0) {
			r = s;
		}
	}
	return r;
}
