/*
 * testlib.c - shared test helpers (testlib.h).  Test code only: plain libc,
 * aborts on impossible failures rather than threading errors through.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Set by tests/local.mk; a build outside it (a fuzz target) gets ".". */
#ifndef TESTLIB_SRCDIR
#define TESTLIB_SRCDIR "."
#endif
#ifndef TESTLIB_BUILDDIR
#define TESTLIB_BUILDDIR "."
#endif

#define MAX_SUITES 64
#define MAX_DIRS 256
#define MAX_CHILDREN 64

static testlib_suite_fn suites[MAX_SUITES];
static int n_suites;

static char *dirs[MAX_DIRS];
static pid_t dir_owner[MAX_DIRS];
static int n_dirs;

static pid_t children[MAX_CHILDREN];
static int n_children;

void testlib_register_suite(testlib_suite_fn fn)
{
	if (n_suites == MAX_SUITES) {
		fprintf(stderr, "testlib: more than %d suites\n", MAX_SUITES);
		abort();
	}
	suites[n_suites++] = fn;
}

/* Used by check_main.c. */
int testlib_suites_(testlib_suite_fn **out);
int testlib_suites_(testlib_suite_fn **out)
{
	*out = suites;
	return n_suites;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP) {
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	}
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int testlib_rmtree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT) {
		return -errno;
	}
	return 0;
}

static void cleanup_at_exit(void)
{
	testlib_kill_all();
	/* Check forks each test: only the process that made a dir removes it. */
	for (int i = 0; i < n_dirs; i++) {
		if (dir_owner[i] == getpid() && getenv("CETCD_TEST_KEEP") == NULL) {
			testlib_rmtree(dirs[i]);
		}
		free(dirs[i]);
	}
	n_dirs = 0;
}

static void ensure_atexit(void)
{
	static pid_t registered;

	if (registered != getpid()) {
		/* In a forked child the parent's registration is inherited. */
		if (registered == 0) {
			atexit(cleanup_at_exit);
		}
		registered = getpid();
	}
}

const char *testlib_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];

	if (base == NULL || *base == '\0') {
		base = "/tmp";
	}
	snprintf(tmpl, sizeof(tmpl), "%s/cetcd-test.XXXXXX", base);
	if (mkdtemp(tmpl) == NULL || n_dirs == MAX_DIRS) {
		perror("testlib_tmpdir");
		abort();
	}
	ensure_atexit();
	dir_owner[n_dirs] = getpid();
	dirs[n_dirs] = strdup(tmpl);
	return dirs[n_dirs++];
}

uint64_t testlib_seed(void)
{
	static uint64_t seed;
	static int have;
	const char *env;

	if (have) {
		return seed;
	}
	env = getenv("CETCD_TEST_SEED");
	if (env != NULL && *env != '\0') {
		seed = strtoull(env, NULL, 0);
	} else {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^
		       (uint64_t)getpid() << 32;
	}
	have = 1;
	fprintf(stderr, "testlib: seed %llu (replay with CETCD_TEST_SEED=%llu)\n",
		(unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

uint64_t testlib_rand_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

uint64_t testlib_rand_below(uint64_t *state, uint64_t n)
{
	return n == 0 ? 0 : testlib_rand_next(state) % n;
}

static int can_bind(const char *addr, int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd, ok;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		return 0;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return 0;
	}
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int testlib_loopback_addr(char *out, size_t size)
{
	static unsigned counter;
	unsigned pid = (unsigned)getpid();

	for (int tries = 0; tries < 1000; tries++) {
		unsigned n = pid * 131u + counter++ * 7919u + (unsigned)tries;
		snprintf(out, size, "127.%u.%u.%u", 100 + n % 100, (n / 100) % 250 + 1,
			 (n / 25000) % 250 + 2);
		if (can_bind(out, 0)) {
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

int testlib_free_port(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd, port;

	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		port = -errno;
	} else {
		port = ntohs(sa.sin_port);
	}
	close(fd);
	return port;
}

pid_t testlib_spawn(char *const argv[], char *const env[], const char *log_path)
{
	pid_t pid;

	if (n_children == MAX_CHILDREN) {
		return -EMFILE;
	}
	ensure_atexit();
	pid = fork();
	if (pid < 0) {
		return -errno;
	}
	if (pid == 0) {
		if (log_path != NULL) {
			int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd < 0) {
				_exit(127);
			}
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		for (int i = 0; env != NULL && env[i] != NULL; i++) {
			putenv(env[i]);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "testlib_spawn: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	children[n_children++] = pid;
	return pid;
}

static int child_slot(pid_t pid)
{
	for (int i = 0; i < n_children; i++) {
		if (children[i] == pid) {
			return i;
		}
	}
	return -1;
}

int testlib_kill(pid_t pid, int sig)
{
	if (child_slot(pid) < 0) {
		return -ESRCH;
	}
	return kill(pid, sig) < 0 ? -errno : 0;
}

int testlib_wait(pid_t pid, int timeout_ms)
{
	int slot = child_slot(pid), status;

	if (slot < 0) {
		return -ESRCH;
	}
	for (int waited = 0;; waited += 10) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			children[slot] = children[--n_children];
			return status;
		}
		if (r < 0) {
			return -errno;
		}
		if (waited >= timeout_ms) {
			return -ETIMEDOUT;
		}
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

void testlib_kill_all(void)
{
	while (n_children > 0) {
		pid_t pid = children[n_children - 1];
		kill(pid, SIGKILL);
		if (testlib_wait(pid, 5000) < 0) {
			n_children--; /* give up tracking rather than spin */
		}
	}
}

static const char *join_path(const char *env, const char *fallback, const char *rel)
{
	static char paths[8][4096];
	static int next;
	const char *base = getenv(env);
	char *out = paths[next++ % 8];

	if (base == NULL || *base == '\0') {
		base = fallback;
	}
	snprintf(out, sizeof(paths[0]), "%s/%s", base, rel);
	return out;
}

const char *testlib_build_path(const char *rel)
{
	return join_path("CETCD_BUILDDIR", TESTLIB_BUILDDIR, rel);
}

const char *testlib_src_path(const char *rel)
{
	return join_path("CETCD_SRCDIR", TESTLIB_SRCDIR, rel);
}
