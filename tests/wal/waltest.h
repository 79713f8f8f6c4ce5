/*
 * tests/wal/waltest.h - helpers shared by the node/wal suites: a walio
 * table that counts calls and fails the N-th one, and entry builders.
 */
#ifndef CETCD_TESTS_WALTEST_H
#define CETCD_TESTS_WALTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "raft/types.h"

enum waltest_call {
	WALTEST_WRITE,
	WALTEST_FDATASYNC,
	WALTEST_FSYNC,
	WALTEST_RENAME,
	WALTEST_PREALLOCATE,
	WALTEST_FTRUNCATE,
	WALTEST_N_CALLS,
};

struct waltest_io {
	unsigned long calls[WALTEST_N_CALLS];
	unsigned long total; /* every call, all kinds */
	long fail_at;  /* fail the call whose total number is this (from 0); -1:
			  none */
	int fail_kind; /* only calls of this kind count for fail_at; -1: any */
	unsigned long n_kind; /* calls of fail_kind seen */
	bool failed;	      /* the injected failure happened */
};

extern struct waltest_io waltest_io;

/*
 * Install the counting table with no failure (counters reset).  Its syncs
 * are counted, not made, unless CETCD_TEST_REAL_SYNC is set.
 */
void waltest_io_install(void);
/* Fail the n-th (from 0) call of kind (-1: of any kind) with -EIO. */
void waltest_io_fail(int kind, long n);
/* Stop failing (same as waltest_io_install). */
void waltest_io_uninstall(void);
/* Checked fixture for every node/wal tcase: the table above around each
 * test, the real one after. */
void waltest_setup(void);
void waltest_teardown(void);

/* An entry with data of len bytes derived from index (owned by the caller
 * through e->data; free with mem_free). */
void waltest_entry(struct raft_entry *e, raft_index index, raft_term term,
		   size_t len);
/* Check that e is what waltest_entry(index, term, len) built. */
bool waltest_entry_ok(const struct raft_entry *e, raft_index index,
		      raft_term term, size_t len);

/* Copy directory src's regular files into a new empty directory dst. */
void waltest_copy_dir(const char *src, const char *dst);
/* Read a whole file (mem_alloc'd). */
uint8_t *waltest_read_file(const char *path, size_t *size);
void waltest_write_file(const char *path, const void *p, size_t size);

#endif
