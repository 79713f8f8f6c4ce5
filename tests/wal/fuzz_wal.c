/*
 * tests/wal/fuzz_wal.c - libFuzzer target for the WAL segment decoder and
 * for repair on open.  One input is one segment file's bytes:
 *
 *  1. The frame reader and every payload decoder run over it in memory;
 *     nothing may crash, leak or allocate from an unchecked length.
 *  2. The bytes become the only segment of a WAL that is opened: either the
 *     open fails with a message naming the offset, or it succeeds (cutting
 *     a torn tail); then one more entry is appended, and a second open must
 *     succeed without repair and return exactly one entry more.
 *
 * Built with -fsanitize=fuzzer behind `make fuzz-wal` (--enable-fuzzing);
 * tests/wal/fuzz_replay.c feeds the seed corpus through the same entry
 * point in `make check`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/mem.h"
#include "wal/wal.h"
#include "wal/walrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEG_NAME "0000000000000000-0000000000000000.wal"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_wal: invariant broken: %s\n", what);
		abort();
	}
}

static void decode_all(const uint8_t *data, size_t size)
{
	struct walrec_reader r;
	struct walrec rec;

	walrec_reader_init(&r, data, size);
	while (walrec_next(&r, &rec) == 1) {
		struct raft_entry e;
		struct raft_hard_state hs;
		struct wal_snap_marker m;
		struct wal_metadata md;
		uint32_t crc;

		check(rec.offset + WALREC_HEADER_SIZE + rec.len <= size,
		      "record inside the buffer");
		switch (rec.type) {
		case WALREC_ENTRY:
			if (walrec_decode_entry(&rec, &e) == 0) {
				mem_free(e.data);
			}
			break;
		case WALREC_HARD_STATE:
			walrec_decode_hard_state(&rec, &hs);
			break;
		case WALREC_SNAPSHOT:
		case WALREC_SNAPSHOT_RESET:
			walrec_decode_snapshot(&rec, &m);
			break;
		case WALREC_METADATA:
			walrec_decode_metadata(&rec, &md);
			break;
		case WALREC_CRC:
			walrec_decode_crc(&rec, &crc);
			break;
		}
	}
}

static char dir_[512];

static void clear_dir(const char *dir);

static void remove_work_dir(void)
{
	clear_dir(dir_);
	rmdir(dir_);
}

static const char *work_dir(void)
{
	char *dir = dir_;

	if (dir[0] == '\0') {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir_), "%s/cetcd-fuzz-wal.XXXXXX",
			 tmp != NULL ? tmp : "/tmp");
		check(mkdtemp(dir) != NULL, "mkdtemp");
		atexit(remove_work_dir);
	}
	return dir;
}

static void clear_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	check(d != NULL, "opendir");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
}

static void repair_round_trip(const uint8_t *data, size_t size)
{
	const char *dir = work_dir();
	struct wal_options o = {dir, 4096};
	struct wal_snap_marker from = {0, 0};
	struct wal_report rep;
	struct wal_read rd;
	struct wal *w;
	struct raft_entry e = {0};
	char path[700];
	size_t n;
	int fd, r;

	clear_dir(dir);
	snprintf(path, sizeof(path), "%s/" SEG_NAME, dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	check(fd >= 0, "create segment");
	check(write(fd, data, size) == (ssize_t)size, "write segment");
	close(fd);

	r = wal_open(&o, &from, &w, &rd, &rep);
	if (r < 0) {
		check(r == -ERR_CORRUPT, "open fails only for corruption");
		check(strstr(rep.msg, "offset") != NULL,
		      "message names offset");
		return;
	}
	n = rd.n_ents;
	wal_read_done(&rd);
	e.index = wal_last_index(w) + 1;
	e.term = 1;
	r = wal_save(w, NULL, &e, 1);
	wal_close(w);
	check(r == 0, "append after open");

	r = wal_open(&o, &from, &w, &rd, &rep);
	check(r == 0, "second open succeeds");
	check(!rep.repaired, "second open needs no repair");
	check(rd.n_ents == n + 1, "one entry more");
	wal_read_done(&rd);
	wal_close(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_all(data, size);
	repair_round_trip(data, size);
	return 0;
}
