/*
 * testlib.h - what every cetcd test binary shares.
 *
 * - Suites register themselves with TEST_SUITE(fn); tests/lib/check_main.c
 *   runs every registered suite with Check (CK_RUN_SUITE / CK_RUN_CASE
 *   select, as Check documents).
 * - Temporary directories removed when the test process exits.
 * - A seeded RNG: the seed is printed, and CETCD_TEST_SEED replays it.
 * - Loopback addresses of the test's own (127.x.y.z chosen from the pid, so
 *   parallel test binaries do not collide) and free ports on them.
 * - Child processes started by PID, killed and reaped by PID only.
 */
#ifndef CETCD_TESTLIB_H
#define CETCD_TESTLIB_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef Suite *(*testlib_suite_fn)(void);
void testlib_register_suite(testlib_suite_fn fn);

/* Register fn (returning a Suite *) to be run by the shared main(). */
#define TEST_SUITE(fn)                                                         \
	__attribute__((constructor)) static void register_##fn(void)           \
	{                                                                      \
		testlib_register_suite(fn);                                    \
	}

/* A new empty directory under $TMPDIR (or /tmp); removed at exit. */
const char *testlib_tmpdir(void);
/* rm -rf path (no symlinks followed). */
int testlib_rmtree(const char *path);

/* The run's seed: CETCD_TEST_SEED, or chosen from the clock and printed. */
uint64_t testlib_seed(void);
/* splitmix64 over a caller-held state. */
uint64_t testlib_rand_next(uint64_t *state);
/* Uniform in [0, n). */
uint64_t testlib_rand_below(uint64_t *state, uint64_t n);

/*
 * A loopback address (dotted quad in out, at least 16 bytes) no other test
 * process of this run uses and that can be bound: 127.A.B.C with A in
 * 100..199, chosen from the pid and a counter.
 */
int testlib_loopback_addr(char *out, size_t size);
/* A port that is free on addr now (bound to port 0, then released). */
int testlib_free_port(const char *addr);

/*
 * Start argv[0] with argv (searched in PATH when it has no slash), with
 * extra environment entries "K=V" (NULL-terminated, may be NULL), stdout
 * and stderr appended to log_path (NULL: inherited).  The child is tracked
 * and killed with SIGKILL when the test process exits.  Returns the pid or
 * -errno.
 */
pid_t testlib_spawn(char *const argv[], char *const env[], const char *log_path);
/* kill(pid, sig) for a pid testlib_spawn returned; -ESRCH for others. */
int testlib_kill(pid_t pid, int sig);
/*
 * Wait up to timeout_ms for pid to exit; returns its wait status, or
 * -ETIMEDOUT.  A reaped pid is no longer tracked.
 */
int testlib_wait(pid_t pid, int timeout_ms);
/* SIGKILL and reap every tracked child. */
void testlib_kill_all(void);

/* Path of a built program: $CETCD_BUILDDIR/rel (rel like "node/cetcd"). */
const char *testlib_build_path(const char *rel);
/* Path of a source file: $CETCD_SRCDIR/rel. */
const char *testlib_src_path(const char *rel);

#endif
