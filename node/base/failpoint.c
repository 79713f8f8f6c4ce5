/*
 * failpoint.c - failpoints and planted bugs of test builds (failpoint.h).
 *
 * Invariants:
 *  1. The environment is parsed once, at the first call; the table is
 *     never freed (it lives as long as the process).
 *  2. Loop thread only, like everything that calls it.
 */
#include "base/failpoint.h"

#ifdef CETCD_FAILPOINTS

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_POINTS 16

enum fp_action { FP_CRASH, FP_SLEEP };

struct fp {
	char name[48];
	enum fp_action action;
	long sleep_ms;
	long nth;    /* fire on this hit only (0: every hit) */
	int percent; /* fire with this probability (0: always) */
	long hits;
};

static const char *const known_points[] = {
    "wal_before_append", "wal_after_append",	"wal_after_fsync",
    "mvcc_before_commit", "mvcc_after_commit", "snap_during_save",
    "mvcc_during_compaction",
};
static const char *const known_bugs[] = {
    "local-reads",
    "ack-before-fsync",
    "split-applied-commit",
    "watch-skip-resume",
};

static bool parsed;
static struct fp points[MAX_POINTS];
static size_t n_points;
static unsigned rnd_state;

static bool known(const char *const *names, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0) {
			return true;
		}
	}
	return false;
}

static void parse_one(const char *s, size_t len)
{
	const char *eq = memchr(s, '=', len), *a, *end = s + len;
	struct fp *p;

	if (eq == NULL || !known(known_points, sizeof(known_points) / sizeof(*known_points), s,
				 (size_t)(eq - s)) ||
	    (size_t)(eq - s) >= sizeof(points[0].name) || n_points == MAX_POINTS) {
		fprintf(stderr, "cetcd: CETCD_FAILPOINTS: ignored \"%.*s\"\n", (int)len, s);
		return;
	}
	p = &points[n_points];
	memset(p, 0, sizeof(*p));
	memcpy(p->name, s, (size_t)(eq - s));
	a = eq + 1;
	if (end - a >= 5 && strncmp(a, "crash", 5) == 0) {
		p->action = FP_CRASH;
		a += 5;
	} else if (end - a >= 6 && strncmp(a, "sleep(", 6) == 0) {
		p->action = FP_SLEEP;
		char *after;

		p->sleep_ms = strtol(a + 6, &after, 10);
		a = after;
		if (a >= end || *a != ')') {
			fprintf(stderr, "cetcd: CETCD_FAILPOINTS: ignored \"%.*s\"\n", (int)len, s);
			return;
		}
		a++;
	} else {
		fprintf(stderr, "cetcd: CETCD_FAILPOINTS: ignored \"%.*s\"\n", (int)len, s);
		return;
	}
	if (a < end && *a == '@') {
		p->nth = strtol(a + 1, NULL, 10);
	} else if (a < end && *a == '%') {
		p->percent = (int)strtol(a + 1, NULL, 10);
	}
	n_points++;
}

static void parse_env(void)
{
	const char *s = getenv("CETCD_FAILPOINTS"), *seed = getenv("CETCD_FAILPOINTS_SEED");

	parsed = true;
	rnd_state = seed != NULL ? (unsigned)strtoul(seed, NULL, 10) : (unsigned)getpid();
	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, ",");

		if (len > 0) {
			parse_one(s, len);
		}
		s += len;
		s += *s == ',';
	}
	s = getenv("CETCD_TEST_BUG");
	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, ",");

		if (len > 0 && !known(known_bugs, sizeof(known_bugs) / sizeof(*known_bugs), s, len)) {
			fprintf(stderr, "cetcd: CETCD_TEST_BUG: unknown bug \"%.*s\"\n", (int)len, s);
		} else if (len > 0) {
			fprintf(stderr, "cetcd: CETCD_TEST_BUG: planted bug %.*s is ON\n", (int)len, s);
		}
		s += len;
		s += *s == ',';
	}
}

void failpoint_hit(const char *name)
{
	if (!parsed) {
		parse_env();
	}
	for (size_t i = 0; i < n_points; i++) {
		struct fp *p = &points[i];

		if (strcmp(p->name, name) != 0) {
			continue;
		}
		p->hits++;
		if (p->nth > 0 && p->hits != p->nth) {
			return;
		}
		if (p->percent > 0 && (int)(rand_r(&rnd_state) % 100) >= p->percent) {
			return;
		}
		if (p->action == FP_CRASH) {
			fprintf(stderr, "cetcd: failpoint %s: crash\n", name);
			kill(getpid(), SIGKILL);
		} else {
			struct timespec ts = {p->sleep_ms / 1000, (p->sleep_ms % 1000) * 1000000};
			nanosleep(&ts, NULL);
		}
		return;
	}
}

bool failpoint_bug(const char *name)
{
	const char *s;
	size_t n = strlen(name);

	if (!parsed) {
		parse_env();
	}
	s = getenv("CETCD_TEST_BUG");
	while (s != NULL && *s != '\0') {
		size_t len = strcspn(s, ",");

		if (len == n && strncmp(s, name, n) == 0) {
			return true;
		}
		s += len;
		s += *s == ',';
	}
	return false;
}

#endif
