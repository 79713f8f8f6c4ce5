/*
 * wal/wal.c - segments, append, read-back, repair and release (wal.h).
 *
 * Invariants (beyond wal.h's):
 *  1. w->off is the end of the last record written to the current segment,
 *     w->crc the chain value after it, w->last_index the index of the last
 *     entry written, w->hs the last hard state written.
 *  2. w->segs lists every segment file in the directory, oldest first; the
 *     last one is the current segment.
 *  3. The batch buffer w->buf is reused; it holds nothing between calls.
 *  4. A segment is renamed into place only after its first records are
 *     durable, so a segment that has a final name always has a valid CRC
 *     record at its start; *.wal.tmp files are leftovers of a cut that did
 *     not finish and are removed on open.
 *  5. w->err_file names the file the sticky error came from: the new
 *     segment (its .tmp) when a cut failed, else the current segment.  A
 *     cut that fails removes its .tmp at once, so a full disk gets back
 *     what the preallocation took.
 */
#include "wal/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "wal/walio.h"

#define SEG_NAME_LEN 37 /* 16 hex, '-', 16 hex, ".wal" */

struct wal_seg {
	uint64_t seq;
	raft_index index;
};

struct wal {
	char *dir;
	int lock_fd;
	uint64_t segment_size;
	int fd;
	uint64_t off;
	uint32_t crc;
	struct wal_metadata meta;
	struct raft_hard_state hs;
	raft_index last_index;
	int err;
	char *err_file; /* invariant 5 */
	struct buf buf;
	struct wal_seg *segs;
	size_t n_segs;
};

static const char corrupt_advice[] =
    "the log is damaged before its tail and cannot be trusted: restore "
    "this member's data directory from a backup, or remove the member "
    "from the cluster (etcdctl member remove) and add it back with an "
    "empty data directory";

__attribute__((format(printf, 3, 4))) static int
report(struct wal_report *rep, int err, const char *fmt, ...)
{
	va_list ap;

	if (rep != NULL) {
		va_start(ap, fmt);
		vsnprintf(rep->msg, sizeof(rep->msg), fmt, ap);
		va_end(ap);
	}
	return err;
}

__attribute__((format(printf, 1, 2))) static char *path_fmt(const char *fmt,
							    ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r < 0) {
		buf_done(&b);
		return NULL;
	}
	return (char *)b.data;
}

static char *seg_path(const char *dir, const struct wal_seg *s)
{
	return path_fmt("%s/%016" PRIx64 "-%016" PRIx64 ".wal", dir, s->seq,
			s->index);
}

static bool parse_seg_name(const char *name, struct wal_seg *out)
{
	char *end;

	if (strlen(name) != SEG_NAME_LEN || name[16] != '-' ||
	    strcmp(name + 33, ".wal") != 0) {
		return false;
	}
	for (int i = 0; i < 33; i++) {
		if (i == 16) {
			continue;
		}
		if (!((name[i] >= '0' && name[i] <= '9') ||
		      (name[i] >= 'a' && name[i] <= 'f'))) {
			return false;
		}
	}
	out->seq = strtoull(name, &end, 16);
	out->index = strtoull(name + 17, &end, 16);
	return true;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct wal_seg *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The segments in dir, sorted by sequence; *.wal.tmp leftovers of an
 * unfinished cut are removed when remove_tmp (wal.c invariant 4).
 */
static int list_segments(const char *dir, bool remove_tmp, struct wal_seg **out,
			 size_t *n_out)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct wal_seg *segs = NULL, s;
	size_t n = 0, cap = 0;
	bool removed = false;
	int r = 0;

	if (d == NULL) {
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (remove_tmp && has_suffix(de->d_name, ".wal.tmp")) {
			if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
				r = -errno;
				break;
			}
			removed = true;
			continue;
		}
		if (!parse_seg_name(de->d_name, &s)) {
			continue;
		}
		if (n == cap) {
			size_t ncap = cap == 0 ? 8 : cap * 2;
			struct wal_seg *ns =
			    mem_realloc(segs, ncap * sizeof(*segs));
			if (ns == NULL) {
				r = -ENOMEM;
				break;
			}
			segs = ns;
			cap = ncap;
		}
		segs[n++] = s;
	}
	closedir(d);
	if (r == 0 && removed) {
		r = walio_fsync_dir(dir);
	}
	if (r < 0) {
		mem_free(segs);
		return r;
	}
	if (n > 0) {
		qsort(segs, n, sizeof(*segs), cmp_seg);
	}
	*out = segs;
	*n_out = n;
	return 0;
}

bool wal_exists(const char *dir)
{
	struct wal_seg *segs = NULL;
	size_t n = 0;

	if (list_segments(dir, false, &segs, &n) < 0) {
		return false;
	}
	mem_free(segs);
	return n > 0;
}

static int lock_dir(const char *dir, int *out, struct wal_report *rep)
{
	_cleanup_free_ char *path = path_fmt("%s/lock", dir);
	int fd;

	if (path == NULL) {
		return -ENOMEM;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		int e = errno;
		return report(rep, -e, "wal: cannot open lock file %s: %s",
			      path, strerror(e));
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK) {
			return report(rep, -EBUSY,
				      "wal: %s is locked by another process: "
				      "is another cetcd running with this data "
				      "directory?",
				      path);
		}
		return report(rep, -e, "wal: cannot lock %s: %s", path,
			      strerror(e));
	}
	*out = fd;
	return 0;
}

/*
 * A segment size of 0 in the options: 64 MiB; in a test build
 * (--enable-failpoints) CETCD_WAL_SEGMENT_SIZE (bytes, >= 4096) may set
 * it instead, so that the fault suite closes segments within seconds
 * (tests/faults, the bitflip-closed scenario).  Release builds ignore it.
 */
static uint64_t default_segment_size(void)
{
#ifdef CETCD_FAILPOINTS
	const char *v = getenv("CETCD_WAL_SEGMENT_SIZE");
	unsigned long long n;
	char *end;

	if (v != NULL && *v != '\0') {
		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno == 0 && *end == '\0' && n >= 4096) {
			return n;
		}
	}
#endif
	return WAL_DEFAULT_SEGMENT_SIZE;
}

static struct wal *wal_alloc(const struct wal_options *o)
{
	struct wal *w = mem_calloc(1, sizeof(*w));

	if (w == NULL) {
		return NULL;
	}
	w->dir = mem_strdup(o->dir);
	if (w->dir == NULL) {
		mem_free(w);
		return NULL;
	}
	w->lock_fd = -1;
	w->fd = -1;
	w->segment_size =
	    o->segment_size > 0 ? o->segment_size : default_segment_size();
	buf_init(&w->buf);
	return w;
}

void wal_close(struct wal *w)
{
	if (w == NULL) {
		return;
	}
	if (w->fd >= 0) {
		close(w->fd);
	}
	if (w->lock_fd >= 0) {
		close(w->lock_fd);
	}
	buf_done(&w->buf);
	mem_free(w->segs);
	mem_free(w->dir);
	mem_free(w->err_file);
	mem_free(w);
}

static int push_seg(struct wal *w, const struct wal_seg *s)
{
	struct wal_seg *ns =
	    mem_realloc(w->segs, (w->n_segs + 1) * sizeof(*w->segs));

	if (ns == NULL) {
		return -ENOMEM;
	}
	w->segs = ns;
	w->segs[w->n_segs++] = *s;
	return 0;
}

/*
 * Create segment s holding the CRC record, the metadata and (unless
 * first) the hard state; synced, renamed into place, directory synced.
 * Becomes the current segment.  Failures are sticky for the caller.
 */
static int segment_create(struct wal *w, const struct wal_seg *s, bool first)
{
	_cleanup_free_ char *path = seg_path(w->dir, s);
	_cleanup_free_ char *tmp = NULL;
	uint32_t crc = w->crc;
	int fd = -1, r;

	if (path == NULL || (tmp = path_fmt("%s.tmp", path)) == NULL) {
		return -ENOMEM;
	}
	w->buf.len = 0;
	r = walrec_encode_crc(&w->buf, w->crc, &crc);
	if (r >= 0) {
		r = walrec_encode_metadata(&w->buf, &w->meta, &crc);
	}
	if (r >= 0 && !first) {
		r = walrec_encode_hard_state(&w->buf, &w->hs, &crc);
	}
	if (r >= 0) {
		r = push_seg(w, s);
	}
	if (r < 0) {
		return r;
	}
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = walio_preallocate(fd, (off_t)w->segment_size);
	if (r >= 0) {
		r = walio_pwrite_all(fd, w->buf.data, w->buf.len, 0);
	}
	if (r >= 0) {
		r = walio_fdatasync(fd);
	}
	if (r >= 0) {
		r = walio_rename(tmp, path);
	}
	if (r >= 0) {
		r = walio_fsync_dir(w->dir);
	}
	if (r < 0) {
		goto fail;
	}
	if (w->fd >= 0) {
		close(w->fd);
	}
	w->fd = fd;
	w->off = w->buf.len;
	w->crc = crc;
	w->buf.len = 0;
	return 0;
fail:
	if (fd >= 0) {
		close(fd);
		(void)unlink(tmp); /* invariant 5; on open it would be anyway */
	}
	if (r != -ENOMEM && w->err_file == NULL) {
		w->err_file = TAKE_PTR(tmp);
	}
	w->n_segs--;
	w->buf.len = 0;
	return r;
}

/* Close the current segment at its last record and start the next. */
static int cut(struct wal *w)
{
	struct wal_seg s;
	int r;

	/* The old segment ends exactly at its last record, so a reader
	 * never takes its preallocated zeros for a torn tail. */
	r = walio_ftruncate(w->fd, (off_t)w->off);
	if (r >= 0) {
		r = walio_fdatasync(w->fd);
	}
	if (r < 0) {
		return r;
	}
	s.seq = w->segs[w->n_segs - 1].seq + 1;
	s.index = w->last_index + 1;
	return segment_create(w, &s, false);
}

int wal_create(const struct wal_options *o, const struct wal_metadata *md,
	       struct wal **out, struct wal_report *rep)
{
	struct wal *w;
	struct wal_seg first = {0, 0};
	int r;

	if (rep != NULL) {
		memset(rep, 0, sizeof(*rep));
	}
	r = walio_mkdir_p(o->dir);
	if (r < 0) {
		return report(rep, r, "wal: cannot create directory %s: %s",
			      o->dir, strerror(-r));
	}
	w = wal_alloc(o);
	if (w == NULL) {
		return -ENOMEM;
	}
	r = lock_dir(o->dir, &w->lock_fd, rep);
	if (r < 0) {
		goto fail;
	}
	if (wal_exists(o->dir)) {
		r = report(rep, -EEXIST, "wal: %s already holds a WAL", o->dir);
		goto fail;
	}
	w->meta = *md;
	r = segment_create(w, &first, true);
	if (r < 0) {
		report(rep, r, "wal: cannot create the first segment in %s: %s",
		       o->dir, err_str(r));
		goto fail;
	}
	*out = w;
	return 0;
fail:
	wal_close(w);
	return r;
}

void wal_read_done(struct wal_read *rd)
{
	if (rd == NULL) {
		return;
	}
	for (size_t i = 0; i < rd->n_ents; i++) {
		mem_free(rd->ents[i].data);
	}
	mem_free(rd->ents);
	rd->ents = NULL;
	rd->n_ents = 0;
}

/* The state of one read-back, across segments. */
struct reader {
	struct wal_read rd;
	size_t cap;
	struct wal_snap_marker from;
	bool found_marker;
	bool have_meta;
	raft_index last_index;
};

static int add_entry(struct reader *rr, struct raft_entry *e)
{
	size_t up;

	rr->last_index = e->index;
	if (e->index <= rr->from.index) {
		mem_free(e->data);
		return 0;
	}
	up = (size_t)(e->index - rr->from.index - 1);
	if (up > rr->rd.n_ents) {
		mem_free(e->data);
		return -ERR_CORRUPT;
	}
	/* Raft overwrote the entries from e->index on. */
	while (rr->rd.n_ents > up) {
		mem_free(rr->rd.ents[--rr->rd.n_ents].data);
	}
	if (rr->rd.n_ents == rr->cap) {
		size_t ncap = rr->cap == 0 ? 64 : rr->cap * 2;
		struct raft_entry *ne =
		    mem_realloc(rr->rd.ents, ncap * sizeof(*ne));
		if (ne == NULL) {
			mem_free(e->data);
			return -ENOMEM;
		}
		rr->rd.ents = ne;
		rr->cap = ncap;
	}
	rr->rd.ents[rr->rd.n_ents++] = *e;
	return 0;
}

/*
 * A snapshot from the leader replaced the log at index s: the entries read
 * so far are void (they are all above the snapshot read from, and the old
 * log did not match the new snapshot, or Raft would not have replaced it).
 * A replacement newer than the snapshot read from cannot be read past: it
 * needs its own snapshot, which the caller did not have.
 */
static int reset_log(struct reader *rr, raft_index s, const char **why)
{
	if (s > rr->from.index) {
		*why = "the log was replaced here by a snapshot newer than the "
		       "one read from, whose file is missing or damaged";
		return -ERR_CORRUPT;
	}
	while (rr->rd.n_ents > 0) {
		mem_free(rr->rd.ents[--rr->rd.n_ents].data);
	}
	rr->last_index = s;
	return 0;
}

/* Apply one verified record to the read-back state. */
static int apply_record(struct reader *rr, const struct walrec *rec,
			const char **why)
{
	struct raft_entry e;
	struct wal_metadata md;
	struct wal_snap_marker m;
	int r;

	switch (rec->type) {
	case WALREC_CRC:
		*why = "CRC record in the middle of a segment";
		return -ERR_CORRUPT;
	case WALREC_METADATA:
		r = walrec_decode_metadata(rec, &md);
		if (r < 0) {
			*why = "bad metadata record";
			return r;
		}
		if (rr->have_meta &&
		    (md.member_id != rr->rd.meta.member_id ||
		     md.cluster_id != rr->rd.meta.cluster_id)) {
			*why = "metadata differs from the earlier segments'";
			return -ERR_CORRUPT;
		}
		rr->rd.meta = md;
		rr->have_meta = true;
		return 0;
	case WALREC_ENTRY:
		r = walrec_decode_entry(rec, &e);
		if (r < 0) {
			*why = "bad entry record";
			return r;
		}
		r = add_entry(rr, &e);
		if (r < 0) {
			*why = "entries are missing before this entry";
		}
		return r;
	case WALREC_HARD_STATE:
		r = walrec_decode_hard_state(rec, &rr->rd.hs);
		if (r < 0) {
			*why = "bad hard state record";
		}
		return r;
	case WALREC_SNAPSHOT:
	case WALREC_SNAPSHOT_RESET:
		r = walrec_decode_snapshot(rec, &m);
		if (r < 0) {
			*why = "bad snapshot record";
			return r;
		}
		if (rec->type == WALREC_SNAPSHOT_RESET) {
			r = reset_log(rr, m.index, why);
			if (r < 0) {
				return r;
			}
		}
		if (m.index == rr->from.index && rr->from.index > 0) {
			if (m.term != rr->from.term) {
				*why = "snapshot marker term differs from the "
				       "snapshot's";
				return -ERR_CORRUPT;
			}
			rr->found_marker = true;
		}
		return 0;
	}
	*why = "unknown record type";
	return -ERR_CORRUPT;
}

/* Copy the mapped original to path.broken, durably. */
static int keep_broken(const char *path, const void *p, size_t size)
{
	_cleanup_free_ char *broken = path_fmt("%s.broken", path);
	int fd, r;

	if (broken == NULL) {
		return -ENOMEM;
	}
	fd = open(broken, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	r = size > 0 ? walio_pwrite_all(fd, p, size, 0) : 0;
	if (r >= 0) {
		r = walio_fsync(fd);
	}
	close(fd);
	return r;
}

/*
 * Cut the torn tail of the last segment at off: keep the original as
 * .broken, truncate, preallocate again, sync file and directory.
 */
static int repair(struct wal *w, int fd, const char *path, const void *p,
		  size_t size, uint64_t off)
{
	int r = keep_broken(path, p, size);

	if (r >= 0) {
		r = walio_ftruncate(fd, (off_t)off);
	}
	if (r >= 0) {
		r = walio_preallocate(fd, (off_t)w->segment_size);
	}
	if (r >= 0) {
		r = walio_fdatasync(fd);
	}
	if (r >= 0) {
		r = walio_fsync_dir(w->dir);
	}
	return r;
}

/*
 * Read segment i (fd open on path), verifying it; for the last segment,
 * repair a torn tail and leave w->off/w->crc at the end of its records.
 * *chain: in, the value the previous segment ended with (checked when
 * check_chain); out, the value this one ends with.
 */
static int read_segment(struct wal *w, struct reader *rr, int fd,
			const char *path, bool last, bool check_chain,
			uint32_t *chain, struct wal_report *rep)
{
	struct walrec_reader rd;
	struct walrec rec;
	struct stat st;
	void *p = NULL;
	size_t size;
	const char *why = NULL;
	uint64_t bad_off = 0;
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		return report(rep, r, "wal: %s: %s", path, strerror(-r));
	}
	size = (size_t)st.st_size;
	if (size > 0) {
		p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			r = -errno;
			return report(rep, r, "wal: %s: mmap: %s", path,
				      strerror(-r));
		}
	}
	walrec_reader_init(&rd, p, size);
	for (;;) {
		r = walrec_next(&rd, &rec);
		if (r <= 0) {
			break;
		}
		if (rec.offset == 0 && check_chain) {
			uint32_t carried;
			if (walrec_decode_crc(&rec, &carried) < 0 ||
			    carried != *chain) {
				r = -ERR_CORRUPT;
				why =
				    "the CRC chain does not continue from the "
				    "previous segment (records are missing)";
				bad_off = 0;
				break;
			}
			continue;
		}
		if (rec.offset == 0) {
			continue;
		}
		r = apply_record(rr, &rec, &why);
		if (r < 0) {
			bad_off = rec.offset;
			break;
		}
	}
	if (r == -ERR_CORRUPT && why == NULL) {
		why = rd.why;
		bad_off = rd.offset;
		if (last && rd.torn && rd.started) {
			r = repair(w, fd, path, p, size, bad_off);
			if (r < 0) {
				report(rep, r,
				       "wal: %s: cannot cut the torn tail at "
				       "offset %" PRIu64 ": %s",
				       path, bad_off, err_str(r));
			} else {
				log_debug(
				    "wal: cut torn tail file=%s offset=%" PRIu64
				    " reason=\"%s\"",
				    path, bad_off, why);
				if (rep != NULL) {
					rep->repaired = true;
					snprintf(rep->repaired_file,
						 sizeof(rep->repaired_file),
						 "%s", path);
					rep->repaired_offset = bad_off;
				}
			}
		}
	}
	if (r == 0 && !rd.started) {
		r = -ERR_CORRUPT;
		why = "segment does not start with a CRC record";
		bad_off = 0;
	}
	if (p != NULL) {
		munmap(p, size);
	}
	if (r == -ERR_CORRUPT) {
		return report(rep, r, "wal: %s: offset %" PRIu64 ": %s; %s",
			      path, bad_off, why, corrupt_advice);
	}
	if (r == -ENOMEM) {
		return r;
	}
	if (r < 0) {
		return r; /* repair failed; reported above */
	}
	*chain = rd.crc;
	if (last) {
		w->off = rd.offset;
		w->crc = rd.crc;
	}
	return 0;
}

int wal_open(const struct wal_options *o, const struct wal_snap_marker *from,
	     struct wal **out, struct wal_read *rd, struct wal_report *rep)
{
	struct wal *w;
	struct reader rr;
	size_t start = 0;
	uint32_t prev_crc = 0;
	bool have_prev = false;
	int r;

	if (rep != NULL) {
		memset(rep, 0, sizeof(*rep));
	}
	memset(&rr, 0, sizeof(rr));
	rr.from = *from;
	w = wal_alloc(o);
	if (w == NULL) {
		return -ENOMEM;
	}
	r = lock_dir(o->dir, &w->lock_fd, rep);
	if (r < 0) {
		goto fail;
	}
	r = list_segments(o->dir, true, &w->segs, &w->n_segs);
	if (r < 0) {
		report(rep, r, "wal: cannot list %s: %s", o->dir, err_str(r));
		goto fail;
	}
	if (w->n_segs == 0) {
		r = report(rep, -ENOENT, "wal: no WAL segments in %s", o->dir);
		goto fail;
	}
	for (size_t i = 0; i < w->n_segs; i++) {
		if (i > 0 && (w->segs[i].seq != w->segs[i - 1].seq + 1 ||
			      w->segs[i].index < w->segs[i - 1].index)) {
			_cleanup_free_ char *path =
			    seg_path(o->dir, &w->segs[i]);
			r = report(rep, -ERR_CORRUPT,
				   "wal: %s: offset 0: segment does not follow "
				   "the one before it (a segment is missing or "
				   "misnamed); %s",
				   path != NULL ? path : o->dir,
				   corrupt_advice);
			goto fail;
		}
		if (w->segs[i].index <= from->index) {
			start = i;
		}
	}
	if (w->segs[0].index > from->index) {
		r = report(rep, -ENOENT,
			   "wal: no segment in %s holds the entries after "
			   "snapshot index %" PRIu64,
			   o->dir, from->index);
		goto fail;
	}
	for (size_t i = start; i < w->n_segs; i++) {
		_cleanup_free_ char *path = seg_path(o->dir, &w->segs[i]);
		bool last = i + 1 == w->n_segs;
		int fd;

		if (path == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		fd = open(path, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			report(rep, r, "wal: %s: %s", path, strerror(-r));
			goto fail;
		}
		r = read_segment(w, &rr, fd, path, last, have_prev, &prev_crc,
				 rep);
		if (r < 0) {
			close(fd);
			goto fail;
		}
		if (!have_prev) {
			have_prev = true;
		}
		if (last) {
			w->fd = fd;
		} else {
			close(fd);
		}
	}
	if (from->index > 0 && !rr.found_marker) {
		if (rep != NULL) {
			rep->marker_missing = true;
		}
		r = report(rep, -ERR_CORRUPT,
			   "wal: %s: no snapshot marker for index %" PRIu64
			   " term %" PRIu64
			   " (the WAL does not match the snapshot); %s",
			   o->dir, from->index, from->term, corrupt_advice);
		goto fail;
	}
	w->meta = rr.rd.meta;
	w->hs = rr.rd.hs;
	w->last_index =
	    rr.last_index > from->index ? rr.last_index : from->index;
	*out = w;
	*rd = rr.rd;
	return 0;
fail:
	wal_read_done(&rr.rd);
	wal_close(w);
	return r;
}

static int sticky(struct wal *w, int r)
{
	if (r < 0 && r != -ENOMEM && w->err == 0) {
		w->err = r;
		if (w->err_file == NULL && w->n_segs > 0) {
			w->err_file = seg_path(w->dir, &w->segs[w->n_segs - 1]);
		}
	}
	return r;
}

#ifdef CETCD_FAILPOINTS
/*
 * Planted bug ack-before-fsync (base/failpoint.h, tests/faults): batches
 * stay in memory and reach the file every three seconds (with the next
 * batch that must be synced), so Raft acknowledges entries that are not in
 * the file yet and kill -9 loses them.
 */
static struct buf bug_later;
static uint64_t bug_since_ns;

static int bug_write_later(struct wal *w, uint32_t crc, bool must_sync)
{
	int r = 0;

	if (bug_later.len == 0) {
		bug_since_ns = timeutil_mono_ns();
	}
	if (must_sync && bug_later.len > 0 &&
	    timeutil_mono_ns() - bug_since_ns > 3000000000u) {
		r = walio_pwrite_all(w->fd, bug_later.data, bug_later.len, (off_t)w->off);
		if (r >= 0) {
			w->off += bug_later.len;
			r = walio_fdatasync(w->fd);
		}
		bug_later.len = 0;
		bug_since_ns = timeutil_mono_ns();
	}
	if (r >= 0) {
		r = buf_append(&bug_later, w->buf.data, w->buf.len);
	}
	w->buf.len = 0;
	w->crc = crc;
	return sticky(w, r);
}
#endif

static int write_batch(struct wal *w, uint32_t crc, bool must_sync)
{
	int r;

	FAILPOINT("wal_before_append");
#ifdef CETCD_FAILPOINTS
	if (FAILPOINT_BUG("ack-before-fsync")) {
		return bug_write_later(w, crc, must_sync);
	}
#endif
	r = walio_pwrite_all(w->fd, w->buf.data, w->buf.len, (off_t)w->off);
	if (r < 0) {
		w->buf.len = 0;
		return sticky(w, r);
	}
	w->off += w->buf.len;
	w->crc = crc;
	w->buf.len = 0;
	if (w->off >= w->segment_size) {
		/* cut() makes this batch durable before the new segment. */
		return sticky(w, cut(w));
	}
	if (must_sync) {
		FAILPOINT("wal_after_append");
		r = sticky(w, walio_fdatasync(w->fd));
		FAILPOINT("wal_after_fsync");
		return r;
	}
	return 0;
}

int wal_save(struct wal *w, const struct raft_hard_state *hs,
	     const struct raft_entry *ents, size_t n_ents)
{
	uint32_t crc = w->crc;
	bool hs_changed, must_sync;
	int r = 0;

	if (w->err != 0) {
		return w->err;
	}
	hs_changed =
	    hs != NULL && (hs->term != w->hs.term || hs->vote != w->hs.vote ||
			   hs->commit != w->hs.commit);
	/* Raft: entries and a new term or vote must be durable before any
	 * message that depends on them leaves; a commit index need not. */
	must_sync =
	    n_ents > 0 ||
	    (hs != NULL && (hs->term != w->hs.term || hs->vote != w->hs.vote));
	if (n_ents == 0 && !hs_changed) {
		return 0;
	}
	w->buf.len = 0;
	for (size_t i = 0; i < n_ents && r >= 0; i++) {
		r = walrec_encode_entry(&w->buf, &ents[i], &crc);
	}
	if (r >= 0 && hs_changed) {
		r = walrec_encode_hard_state(&w->buf, hs, &crc);
	}
	if (r < 0) {
		w->buf.len = 0;
		return r; /* nothing was written: not sticky */
	}
	if (n_ents > 0) {
		w->last_index = ents[n_ents - 1].index;
	}
	if (hs_changed) {
		w->hs = *hs;
	}
	return write_batch(w, crc, must_sync);
}

static int save_marker(struct wal *w, const struct wal_snap_marker *m,
		       bool reset)
{
	uint32_t crc = w->crc;
	int r;

	if (w->err != 0) {
		return w->err;
	}
	w->buf.len = 0;
	r = walrec_encode_snapshot(&w->buf, m, reset, &crc);
	if (r < 0) {
		w->buf.len = 0;
		return r;
	}
	if (reset || m->index > w->last_index) {
		w->last_index = m->index;
	}
	return write_batch(w, crc, true);
}

int wal_save_snapshot(struct wal *w, const struct wal_snap_marker *m)
{
	return save_marker(w, m, false);
}

int wal_reset_to_snapshot(struct wal *w, const struct wal_snap_marker *m)
{
	return save_marker(w, m, true);
}

int wal_sync(struct wal *w)
{
	if (w->err != 0) {
		return w->err;
	}
	return sticky(w, walio_fdatasync(w->fd));
}

int wal_release(struct wal *w, raft_index snap_index)
{
	size_t n = 0;
	int r = 0;

	/* Oldest first, so a crash leaves a contiguous run of segments. */
	while (n + 1 < w->n_segs && w->segs[n + 1].index <= snap_index) {
		_cleanup_free_ char *path = seg_path(w->dir, &w->segs[n]);
		if (path == NULL) {
			r = -ENOMEM;
			break;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			break;
		}
		n++;
	}
	if (n > 0) {
		memmove(w->segs, w->segs + n,
			(w->n_segs - n) * sizeof(*w->segs));
		w->n_segs -= n;
		int s = walio_fsync_dir(w->dir);
		if (r == 0) {
			r = s;
		}
	}
	return r;
}

int wal_error(const struct wal *w)
{
	return w->err;
}

const char *wal_error_file(const struct wal *w)
{
	return w->err != 0 ? w->err_file : NULL;
}

raft_index wal_last_index(const struct wal *w)
{
	return w->last_index;
}

size_t wal_segment_count(const struct wal *w)
{
	return w->n_segs;
}
