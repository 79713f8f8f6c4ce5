/*
 * tests/wal/test_wal.c - node/wal segments: round trips, rollover, sync
 * counting, torn tails, corruption, sticky errors, locking, release and
 * fault injection on every I/O call.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/mem.h"
#include "testlib.h"
#include "wal/wal.h"
#include "wal/walio.h"
#include "waltest.h"

static const struct wal_metadata md = {0x17ac6c9b1b6e7f0cULL,
				       0xcdf818194e3a8c32ULL};
static const struct wal_snap_marker from_start = {0, 0};

static char *wal_dir(void)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/member/wal", testlib_tmpdir());
	return path;
}

/* Save entries [first, last] of term, len bytes each, n per batch. */
static void save_range(struct wal *w, raft_index first, raft_index last,
		       raft_term term, size_t len, size_t per_batch)
{
	struct raft_entry ents[256];

	ck_assert_uint_le(per_batch, 256);
	for (raft_index i = first; i <= last;) {
		size_t n = 0;
		for (; n < per_batch && i <= last; n++, i++) {
			waltest_entry(&ents[n], i, term, len);
		}
		ck_assert_int_eq(wal_save(w, NULL, ents, n), 0);
		for (size_t k = 0; k < n; k++) {
			mem_free(ents[k].data);
		}
	}
}

static void seg_name(char *out, size_t size, const char *dir, uint64_t seq,
		     uint64_t index)
{
	int n = snprintf(out, size, "%s/%016llx-%016llx.wal", dir,
			 (unsigned long long)seq, (unsigned long long)index);

	ck_assert(n > 0 && (size_t)n < size);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The path of the n-th segment (by name) in dir. */
static void nth_segment(const char *dir, size_t n, char *out, size_t size)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[256];
	size_t count = 0;
	int len;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL && count < 256) {
		size_t l = strlen(de->d_name);
		if (l > 4 && strcmp(de->d_name + l - 4, ".wal") == 0) {
			names[count++] = mem_strdup(de->d_name);
		}
	}
	closedir(d);
	ck_assert_uint_gt(count, n);
	qsort(names, count, sizeof(names[0]), cmp_str);
	len = snprintf(out, size, "%s/%s", dir, names[n]);
	ck_assert(len > 0 && (size_t)len < size);
	for (size_t i = 0; i < count; i++) {
		mem_free(names[i]);
	}
}

START_TEST(test_wal_round_trips_every_record_type)
{
	const char *dir = wal_dir();
	struct wal_options o = {dir, 64 * 1024};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	struct raft_hard_state hs = {7, 3, 5};
	struct wal_snap_marker m = {4, 7};

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 3, 7, 100, 3);
	ck_assert_int_eq(wal_save(w, &hs, NULL, 0), 0);
	save_range(w, 4, 6, 7, 0, 1);
	ck_assert_int_eq(wal_save_snapshot(w, &m), 0);
	wal_close(w);

	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.meta.member_id, md.member_id);
	ck_assert_uint_eq(rd.meta.cluster_id, md.cluster_id);
	ck_assert_uint_eq(rd.hs.term, 7);
	ck_assert_uint_eq(rd.hs.vote, 3);
	ck_assert_uint_eq(rd.hs.commit, 5);
	ck_assert_uint_eq(rd.n_ents, 6);
	for (size_t i = 0; i < 6; i++) {
		ck_assert(
		    waltest_entry_ok(&rd.ents[i], i + 1, 7, i < 3 ? 100 : 0));
	}
	ck_assert(!rep.repaired);
	ck_assert_uint_eq(wal_last_index(w), 6);
	wal_read_done(&rd);
	wal_close(w);

	/* From the marker: only the entries after it. */
	ck_assert_int_eq(wal_open(&o, &m, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, 2);
	ck_assert(waltest_entry_ok(&rd.ents[0], 5, 7, 0));
	wal_read_done(&rd);
	wal_close(w);

	/* A marker that is not in the log, or with another term, refuses. */
	m.term = 6;
	ck_assert_int_eq(wal_open(&o, &m, &w, &rd, &rep), -ERR_CORRUPT);
	m.index = 5;
	m.term = 7;
	ck_assert_int_eq(wal_open(&o, &m, &w, &rd, &rep), -ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(rep.msg, "no snapshot marker"));
}
END_TEST

START_TEST(test_wal_overwritten_entries_replace_the_tail)
{
	struct wal_options o = {wal_dir(), 64 * 1024};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 5, 1, 10, 5);
	save_range(w, 3, 4, 2, 20, 2); /* a new leader overwrote 3.. */
	wal_close(w);
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, 4);
	ck_assert(waltest_entry_ok(&rd.ents[1], 2, 1, 10));
	ck_assert(waltest_entry_ok(&rd.ents[2], 3, 2, 20));
	ck_assert(waltest_entry_ok(&rd.ents[3], 4, 2, 20));
	wal_read_done(&rd);
	wal_close(w);
}
END_TEST

START_TEST(test_wal_snapshot_from_the_leader_voids_the_old_tail)
{
	struct wal_options o = {wal_dir(), 64 * 1024};
	struct wal_snap_marker m = {5, 2};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 10, 1, 10, 10);
	ck_assert_int_eq(wal_reset_to_snapshot(w, &m), 0);
	ck_assert_uint_eq(wal_last_index(w), 5);
	wal_close(w);
	/* Nothing after the snapshot yet: the stale 6..10 do not return. */
	ck_assert_int_eq(wal_open(&o, &m, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, 0);
	ck_assert_uint_eq(wal_last_index(w), 5);
	wal_read_done(&rd);
	save_range(w, 6, 7, 2, 10, 2);
	wal_close(w);
	ck_assert_int_eq(wal_open(&o, &m, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, 2);
	ck_assert(waltest_entry_ok(&rd.ents[0], 6, 2, 10));
	ck_assert(waltest_entry_ok(&rd.ents[1], 7, 2, 10));
	wal_read_done(&rd);
	wal_close(w);
	/* Without that snapshot the log cannot be read past the reset. */
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep),
			 -ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(rep.msg, "replaced"));
}
END_TEST

START_TEST(test_wal_rolls_over_to_a_new_segment_when_full)
{
	const char *dir = wal_dir();
	struct wal_options o = {dir, 4096};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	char path[1024];
	struct stat st;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 300, 1, 100, 4);
	ck_assert_uint_gt(wal_segment_count(w), 5);
	wal_close(w);

	/* The first segment is 0-0; the second starts after what the first
	 * holds, and the closed one was truncated to its records. */
	seg_name(path, sizeof(path), dir, 0, 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_ge(st.st_size, 4096);
	ck_assert_int_lt(st.st_size, 4096 + 4 * 150);
	ck_assert_int_eq(st.st_size % 8, 0);

	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, 300);
	for (size_t i = 0; i < 300; i++) {
		ck_assert(waltest_entry_ok(&rd.ents[i], i + 1, 1, 100));
	}
	wal_read_done(&rd);
	/* Appends continue in the last segment after reopening. */
	save_range(w, 301, 310, 1, 100, 5);
	wal_close(w);
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, 310);
	wal_read_done(&rd);
	wal_close(w);
}
END_TEST

START_TEST(test_wal_batch_costs_exactly_one_fdatasync)
{
	struct wal_options o = {wal_dir(), 1024 * 1024};
	struct wal *w;
	struct wal_report rep;
	struct raft_entry ents[16];
	struct raft_hard_state hs = {1, 1, 0};

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	waltest_io_install();
	for (size_t i = 0; i < 16; i++) {
		waltest_entry(&ents[i], i + 1, 1, 256);
	}
	ck_assert_int_eq(wal_save(w, &hs, ents, 16), 0);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_FDATASYNC], 1);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_WRITE], 1);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_FSYNC], 0);

	/* Only the commit index moved: written, not synced. */
	hs.commit = 16;
	ck_assert_int_eq(wal_save(w, &hs, NULL, 0), 0);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_FDATASYNC], 1);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_WRITE], 2);

	/* Nothing changed: nothing written. */
	ck_assert_int_eq(wal_save(w, &hs, NULL, 0), 0);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_WRITE], 2);

	/* A vote must be durable. */
	hs.term = 2;
	hs.vote = 2;
	ck_assert_int_eq(wal_save(w, &hs, NULL, 0), 0);
	ck_assert_uint_eq(waltest_io.calls[WALTEST_FDATASYNC], 2);
	waltest_io_uninstall();
	for (size_t i = 0; i < 16; i++) {
		mem_free(ents[i].data);
	}
	wal_close(w);
}
END_TEST

/* Build a WAL with entries 1..3 where entry 3 is big (last_len bytes);
 * return the offset where the last record starts and ends. */
static void build_three(const char *dir, size_t last_len, uint64_t *start,
			uint64_t *end)
{
	struct wal_options o = {dir, 16384};
	struct wal *w;
	struct wal_report rep;
	struct walrec_reader rr;
	struct walrec rec;
	char path[1024];
	uint8_t *p;
	size_t n;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 2, 1, 50, 1);
	save_range(w, 3, 3, 1, last_len, 1);
	wal_close(w);
	seg_name(path, sizeof(path), dir, 0, 0);
	p = waltest_read_file(path, &n);
	walrec_reader_init(&rr, p, n);
	while (walrec_next(&rr, &rec) == 1) {
		*start = rec.offset;
	}
	*end = rr.offset;
	mem_free(p);
}

/* Open dir: expect exactly entries 1, 2; append 3 again and read back. */
static void expect_two_then_append(const char *dir, bool repaired)
{
	struct wal_options o = {dir, 16384};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	char broken[1100];

	memset(&rep, 0, sizeof(rep));
	ck_assert_msg(wal_open(&o, &from_start, &w, &rd, &rep) == 0, "%s",
		      rep.msg);
	ck_assert_uint_eq(rd.n_ents, 2);
	ck_assert(waltest_entry_ok(&rd.ents[1], 2, 1, 50));
	ck_assert_int_eq(rep.repaired, repaired);
	if (repaired) {
		snprintf(broken, sizeof(broken), "%s.broken",
			 rep.repaired_file);
		ck_assert_int_eq(access(broken, F_OK), 0);
	}
	wal_read_done(&rd);
	save_range(w, 3, 3, 2, 10, 1);
	wal_close(w);
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep), 0);
	ck_assert(!rep.repaired);
	ck_assert_uint_eq(rd.n_ents, 3);
	ck_assert(waltest_entry_ok(&rd.ents[2], 3, 2, 10));
	wal_read_done(&rd);
	wal_close(w);
}

START_TEST(test_wal_truncation_at_every_offset_of_the_last_record_recovers)
{
	char src[1024], dst[1024], path[1100];
	uint64_t start = 0, end = 0;

	snprintf(src, sizeof(src), "%s/src", testlib_tmpdir());
	build_three(src, 100, &start, &end);
	ck_assert_uint_gt(end, start);
	for (uint64_t c = start; c < end; c++) {
		snprintf(dst, sizeof(dst), "%s/cut%llu", testlib_tmpdir(),
			 (unsigned long long)c);
		waltest_copy_dir(src, dst);
		seg_name(path, sizeof(path), dst, 0, 0);
		ck_assert_int_eq(truncate(path, (off_t)c), 0);
		expect_two_then_append(dst, c > start);
		testlib_rmtree(dst);
	}
}
END_TEST

START_TEST(test_wal_unwritten_sectors_of_the_last_record_are_a_torn_tail)
{
	char src[1024], dst[1024], path[1100];
	uint64_t start = 0, end = 0;

	snprintf(src, sizeof(src), "%s/src", testlib_tmpdir());
	build_three(src, 3000, &start, &end);
	/* A crash leaves whole sectors unwritten (zero in a preallocated
	 * file), from any sector boundary inside the record on. */
	for (uint64_t c = (start / 512 + 1) * 512; c < end; c += 512) {
		uint8_t *p;
		size_t n;

		snprintf(dst, sizeof(dst), "%s/zero%llu", testlib_tmpdir(),
			 (unsigned long long)c);
		waltest_copy_dir(src, dst);
		seg_name(path, sizeof(path), dst, 0, 0);
		p = waltest_read_file(path, &n);
		memset(p + c, 0, n - c);
		waltest_write_file(path, p, n);
		mem_free(p);
		expect_two_then_append(dst, true);
		testlib_rmtree(dst);
	}
}
END_TEST

START_TEST(test_wal_bit_flips_in_closed_segments_refuse_to_open)
{
	char src[1024], dst[1024], path[1100];
	struct wal_options o = {NULL, 2048};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	uint64_t rng = testlib_seed();
	uint8_t *orig;
	size_t n;

	snprintf(src, sizeof(src), "%s/src", testlib_tmpdir());
	o.dir = src;
	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 120, 1, 40, 3);
	ck_assert_uint_ge(wal_segment_count(w), 3);
	wal_close(w);

	snprintf(dst, sizeof(dst), "%s/flip", testlib_tmpdir());
	waltest_copy_dir(src, dst);
	o.dir = dst;
	/* The first two segments are closed; the middle one also has a
	 * predecessor whose chain it must continue. */
	for (int seg = 0; seg < 2; seg++) {
		nth_segment(dst, (size_t)seg, path, sizeof(path));
		orig = waltest_read_file(path, &n);
		for (size_t off = 0; off < n; off++) {
			/* Every byte of the segment's first records, a seeded
			 * eighth of the rest: each open costs several file
			 * opens, slow on a busy shared disk. */
			if (off >= 128 && testlib_rand_below(&rng, 8) != 0) {
				continue;
			}
			uint8_t bit =
			    (uint8_t)(1u << testlib_rand_below(&rng, 8));

			orig[off] ^= bit;
			waltest_write_file(path, orig, n);
			orig[off] ^= bit;
			memset(&rep, 0, sizeof(rep));
			ck_assert_msg(wal_open(&o, &from_start, &w, &rd,
					       &rep) == -ERR_CORRUPT,
				      "flip at %s:%zu not detected", path, off);
			ck_assert_ptr_nonnull(strstr(rep.msg, path));
			ck_assert_ptr_nonnull(strstr(rep.msg, "offset "));
			ck_assert_ptr_nonnull(strstr(rep.msg, "backup"));
		}
		waltest_write_file(path, orig, n);
		mem_free(orig);
	}
}
END_TEST

START_TEST(test_wal_closed_segment_missing_its_last_records_refuses)
{
	char dir[1024], path[1100];
	struct wal_options o = {dir, 1024};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	struct walrec_reader rr;
	struct walrec rec;
	uint64_t last = 0;
	uint8_t *p;
	size_t n;

	snprintf(dir, sizeof(dir), "%s", wal_dir());
	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 40, 1, 64, 2);
	ck_assert_uint_ge(wal_segment_count(w), 2);
	wal_close(w);
	nth_segment(dir, 0, path, sizeof(path));
	p = waltest_read_file(path, &n);
	walrec_reader_init(&rr, p, n);
	while (walrec_next(&rr, &rec) == 1) {
		last = rec.offset;
	}
	mem_free(p);
	/* Every record left verifies; only the chain tells one is gone. */
	ck_assert_int_eq(truncate(path, (off_t)last), 0);
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep),
			 -ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(rep.msg, "CRC chain does not continue"));
}
END_TEST

START_TEST(test_wal_corruption_before_the_tail_of_the_last_segment_refuses)
{
	const char *dir = wal_dir();
	struct wal_options o = {dir, 1024 * 1024};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	char path[1100];
	uint8_t *p;
	size_t n;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 20, 1, 64, 1);
	wal_close(w);
	seg_name(path, sizeof(path), dir, 0, 0);
	p = waltest_read_file(path, &n);
	p[200] ^= 0x10;
	waltest_write_file(path, p, n);
	mem_free(p);
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep),
			 -ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(rep.msg, path));
	ck_assert_ptr_nonnull(strstr(rep.msg, "offset 1"));
	ck_assert_ptr_nonnull(strstr(rep.msg, "CRC mismatch"));

	/* A damaged length in the middle of the last segment would cut
	 * acknowledged records if taken for a torn tail: it is refused. */
	p = waltest_read_file(path, &n);
	p[200] ^= 0x10;
	{
		struct walrec_reader rr;
		struct walrec rec;
		uint64_t mid = 0;
		int k = 0;

		walrec_reader_init(&rr, p, n);
		while (walrec_next(&rr, &rec) == 1) {
			if (++k == 10) {
				mid = rec.offset;
			}
		}
		ck_assert_uint_gt(mid, 0);
		p[mid + 3] = 0x40; /* 1 GiB: beyond the end of the file */
	}
	waltest_write_file(path, p, n);
	mem_free(p);
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep),
			 -ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(rep.msg, "frame header CRC mismatch"));
}
END_TEST

START_TEST(test_wal_huge_length_in_a_closed_segment_is_an_error)
{
	char dir[1024], path[1100];
	struct wal_options o = {dir, 1024};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	uint8_t *p;
	size_t n;

	snprintf(dir, sizeof(dir), "%s", wal_dir());
	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 40, 1, 64, 2);
	wal_close(w);
	seg_name(path, sizeof(path), dir, 0, 0);
	p = waltest_read_file(path, &n);
	/* The metadata record's length (at 24) becomes 4 GiB - 1, with a
	 * header CRC that matches, as a writer with a bug would leave it. */
	p[24] = p[25] = p[26] = p[27] = 0xff;
	{
		uint32_t hc = crc32c(p + 24, 12);
		for (int i = 0; i < 4; i++) {
			p[36 + i] = (uint8_t)(hc >> (8 * i));
		}
	}
	waltest_write_file(path, p, n);
	mem_free(p);
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep),
			 -ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(rep.msg, "exceeds the rest of the file"));
	ck_assert_ptr_nonnull(strstr(rep.msg, "offset 24"));
}
END_TEST

START_TEST(test_wal_failed_write_or_fsync_is_sticky)
{
	for (int kind = WALTEST_WRITE; kind <= WALTEST_FDATASYNC; kind++) {
		char dir[1024];
		struct wal_options o = {dir, 1024 * 1024};
		struct wal *w;
		struct wal_report rep;
		struct raft_entry e;

		snprintf(dir, sizeof(dir), "%s/k%d", testlib_tmpdir(), kind);
		ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
		waltest_io_fail(kind, 0);
		waltest_entry(&e, 1, 1, 10);
		ck_assert_int_eq(wal_save(w, NULL, &e, 1), -EIO);
		ck_assert_int_eq(wal_error(w), -EIO);
		waltest_io_install(); /* the disk works again; no matter */
		ck_assert_int_eq(wal_save(w, NULL, &e, 1), -EIO);
		ck_assert_int_eq(wal_sync(w), -EIO);
		ck_assert_uint_eq(waltest_io.total, 0);
		waltest_io_uninstall();
		mem_free(e.data);
		wal_close(w);
	}
}
END_TEST

/*
 * A cut whose new segment cannot be preallocated (a full disk shows here
 * first: appends inside a preallocated segment need no new space) is
 * sticky, names the new segment's .tmp and removes it, and the batch that
 * filled the old segment stays durable.
 */
START_TEST(test_wal_failed_cut_names_the_new_segment_and_keeps_the_batch)
{
	const char *dir = wal_dir();
	struct wal_options o = {dir, 4096};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	struct raft_entry e;
	char seg0[1024];
	const char *f;
	struct stat st;
	raft_index i;
	int r = 0;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	ck_assert_ptr_null(wal_error_file(w));
	waltest_io_fail(WALTEST_PREALLOCATE, 0);
	for (i = 1; i < 100 && r == 0; i++) {
		waltest_entry(&e, i, 1, 100);
		r = wal_save(w, NULL, &e, 1);
		mem_free(e.data);
	}
	ck_assert_int_eq(r, -EIO);
	ck_assert(waltest_io.failed);
	f = wal_error_file(w);
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(strncmp(f, dir, strlen(dir)) == 0 && strlen(f) > 8 &&
			  strcmp(f + strlen(f) - 8, ".wal.tmp") == 0,
		      "%s", f);
	ck_assert_int_eq(stat(f, &st), -1); /* removed at once */
	waltest_io_uninstall();
	wal_close(w);

	/* Every batch written, the one that triggered the cut included. */
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, i - 1);
	wal_read_done(&rd);
	/* A failed write names the current segment. */
	waltest_io_fail(WALTEST_WRITE, 0);
	waltest_entry(&e, i, 1, 100);
	ck_assert_int_eq(wal_save(w, NULL, &e, 1), -EIO);
	mem_free(e.data);
	seg_name(seg0, sizeof(seg0), dir, 0, 0);
	ck_assert_str_eq(wal_error_file(w), seg0);
	waltest_io_uninstall();
	wal_close(w);
}
END_TEST

START_TEST(test_wal_second_open_is_refused_by_the_lock)
{
	struct wal_options o = {wal_dir(), 64 * 1024};
	struct wal *w, *w2;
	struct wal_read rd;
	struct wal_report rep;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	ck_assert_int_eq(wal_open(&o, &from_start, &w2, &rd, &rep), -EBUSY);
	ck_assert_ptr_nonnull(strstr(rep.msg, "locked by another process"));
	ck_assert_int_eq(wal_create(&o, &md, &w2, &rep), -EBUSY);
	wal_close(w);
	ck_assert_int_eq(wal_create(&o, &md, &w2, &rep), -EEXIST);
	ck_assert_int_eq(wal_open(&o, &from_start, &w2, &rd, &rep), 0);
	wal_read_done(&rd);
	wal_close(w2);
}
END_TEST

START_TEST(test_wal_release_deletes_old_segments_and_reopens_from_snapshot)
{
	const char *dir = wal_dir();
	struct wal_options o = {dir, 2048};
	struct wal *w;
	struct wal_read rd;
	struct wal_report rep;
	struct wal_snap_marker m = {150, 1};
	size_t before;

	ck_assert_int_eq(wal_create(&o, &md, &w, &rep), 0);
	save_range(w, 1, 200, 1, 40, 4);
	ck_assert_int_eq(wal_save_snapshot(w, &m), 0);
	before = wal_segment_count(w);
	ck_assert_int_eq(wal_release(w, m.index), 0);
	ck_assert_uint_lt(wal_segment_count(w), before);
	ck_assert_uint_gt(wal_segment_count(w), 0);
	save_range(w, 201, 210, 1, 40, 4);
	wal_close(w);

	ck_assert_int_eq(wal_open(&o, &m, &w, &rd, &rep), 0);
	ck_assert_uint_eq(rd.n_ents, 60);
	ck_assert(waltest_entry_ok(&rd.ents[0], 151, 1, 40));
	ck_assert(waltest_entry_ok(&rd.ents[59], 210, 1, 40));
	wal_read_done(&rd);
	wal_close(w);
	/* The entries before the snapshot are gone for good. */
	ck_assert_int_eq(wal_open(&o, &from_start, &w, &rd, &rep), -ENOENT);
}
END_TEST

/*
 * A scenario that touches every kind of I/O call: create, batches that
 * roll over, a snapshot marker, a release.  Returns how many entries were
 * acknowledged before the first failure (all 120 when none failed).
 */
static raft_index scenario(const char *dir, bool *created)
{
	struct wal_options o = {dir, 2048};
	struct wal *w;
	struct wal_report rep;
	struct raft_entry ents[4];
	struct wal_snap_marker m = {60, 1};
	raft_index acked = 0;
	int r = 0;

	*created = false;
	if (wal_create(&o, &md, &w, &rep) < 0) {
		return 0;
	}
	*created = true;
	for (raft_index i = 1; i <= 120 && r == 0; i += 4) {
		for (size_t k = 0; k < 4; k++) {
			waltest_entry(&ents[k], i + k, 1, 40);
		}
		r = wal_save(w, NULL, ents, 4);
		for (size_t k = 0; k < 4; k++) {
			mem_free(ents[k].data);
		}
		if (r == 0) {
			acked = i + 3;
		}
		if (r == 0 && i == 61) {
			r = wal_save_snapshot(w, &m);
			if (r == 0) {
				wal_release(w, m.index);
			}
		}
	}
	if (r != 0) {
		ck_assert_int_ne(wal_error(w), 0);
		ck_assert_int_ne(wal_save(w, NULL, NULL, 0), 0);
	}
	wal_close(w);
	return acked;
}

START_TEST(test_wal_fault_on_each_io_call_in_turn_loses_no_acknowledged_entry)
{
	unsigned long total;
	bool created;
	char count_dir[1024];

	/* Same shape as the runs below: one directory level to create. */
	snprintf(count_dir, sizeof(count_dir), "%s/count", testlib_tmpdir());
	waltest_io_install();
	ck_assert_uint_eq(scenario(count_dir, &created), 120);
	total = waltest_io.total;
	ck_assert_uint_gt(total, 40);
	for (unsigned long k = 0; k < total; k++) {
		char dir[1024];
		struct wal_options o = {dir, 2048};
		struct wal *w;
		struct wal_read rd;
		struct wal_report rep;
		raft_index acked;
		int r;

		snprintf(dir, sizeof(dir), "%s/f%lu", testlib_tmpdir(), k);
		waltest_io_fail(-1, (long)k);
		acked = scenario(dir, &created);
		ck_assert(waltest_io.failed);
		waltest_io_uninstall();
		r = wal_open(&o, &from_start, &w, &rd, &rep);
		if (!created) {
			/* Nothing was acknowledged; a half-made WAL may be
			 * left, but never one that does not open. */
			ck_assert(r == -ENOENT || r == 0);
		} else if (r == -ENOENT) {
			/* Released up to the snapshot: read from it. */
			struct wal_snap_marker m = {60, 1};
			ck_assert_int_ge(acked, 60);
			r = wal_open(&o, &m, &w, &rd, &rep);
		}
		if (r == 0) {
			raft_index first = rd.n_ents > 0 ? rd.ents[0].index : 0;
			raft_index last = first + rd.n_ents - 1;
			if (rd.n_ents == 0) {
				last = acked > 60 ? 60 : 0;
			}
			ck_assert_msg(last >= acked,
				      "call %lu: acked %llu but read %llu", k,
				      (unsigned long long)acked,
				      (unsigned long long)last);
			for (size_t i = 0; i < rd.n_ents; i++) {
				ck_assert(waltest_entry_ok(&rd.ents[i],
							   first + i, 1, 40));
			}
			wal_read_done(&rd);
			wal_close(w);
		} else {
			ck_assert_msg(!created, "call %lu: reopen failed: %s",
				      k, rep.msg);
		}
		testlib_rmtree(dir);
	}
}
END_TEST

static Suite *wal_suite(void)
{
	Suite *s = suite_create("wal");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, waltest_setup, waltest_teardown);

	tcase_add_test(tc, test_wal_round_trips_every_record_type);
	tcase_add_test(tc, test_wal_overwritten_entries_replace_the_tail);
	tcase_add_test(tc,
		       test_wal_snapshot_from_the_leader_voids_the_old_tail);
	tcase_add_test(tc, test_wal_rolls_over_to_a_new_segment_when_full);
	tcase_add_test(tc, test_wal_batch_costs_exactly_one_fdatasync);
	tcase_add_test(
	    tc,
	    test_wal_truncation_at_every_offset_of_the_last_record_recovers);
	tcase_add_test(
	    tc, test_wal_unwritten_sectors_of_the_last_record_are_a_torn_tail);
	tcase_add_test(tc,
		       test_wal_bit_flips_in_closed_segments_refuse_to_open);
	tcase_add_test(
	    tc,
	    test_wal_corruption_before_the_tail_of_the_last_segment_refuses);
	tcase_add_test(tc,
		       test_wal_huge_length_in_a_closed_segment_is_an_error);
	tcase_add_test(
	    tc, test_wal_closed_segment_missing_its_last_records_refuses);
	tcase_add_test(tc, test_wal_failed_write_or_fsync_is_sticky);
	tcase_add_test(
	    tc, test_wal_failed_cut_names_the_new_segment_and_keeps_the_batch);
	tcase_add_test(tc, test_wal_second_open_is_refused_by_the_lock);
	tcase_add_test(
	    tc,
	    test_wal_release_deletes_old_segments_and_reopens_from_snapshot);
	tcase_add_test(
	    tc,
	    test_wal_fault_on_each_io_call_in_turn_loses_no_acknowledged_entry);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(wal_suite)
