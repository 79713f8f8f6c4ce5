/*
 * timeutil.c - clocks and Go-style durations (timeutil.h).
 */
#include "base/timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t timeutil_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t timeutil_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static const struct {
	const char *unit;
	double ns;
} units[] = {
	{"ns", 1.0},   {"us", 1e3},   {"µs", 1e3},   {"ms", 1e6},
	{"s", 1e9},    {"m", 60e9},   {"h", 3600e9},
};

int timeutil_parse_duration(const char *s, uint64_t *out_ns)
{
	double total = 0;
	const char *p = s;

	if (*p == '\0') {
		return -EINVAL;
	}
	if (strcmp(p, "0") == 0) {
		*out_ns = 0;
		return 0;
	}
	while (*p != '\0') {
		char *end;
		double v;
		size_t best = 0;
		double mult = 0;

		if (!((*p >= '0' && *p <= '9') || *p == '.')) {
			return -EINVAL;
		}
		v = strtod(p, &end);
		if (end == p) {
			return -EINVAL;
		}
		p = end;
		/* Longest unit that matches ("ms" before "m"). */
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			if (l > best && strncmp(p, units[i].unit, l) == 0) {
				best = l;
				mult = units[i].ns;
			}
		}
		if (best == 0) {
			return -EINVAL; /* a bare number or an unknown unit */
		}
		p += best;
		total += v * mult;
	}
	if (total >= 18446744073709551615.0) {
		return -ERANGE;
	}
	*out_ns = (uint64_t)llround(total);
	return 0;
}

/* Append the fraction of v / unit with trailing zeros removed. */
static int fmt_frac(char *out, unsigned long size, uint64_t v, uint64_t unit,
		    const char *suffix)
{
	uint64_t whole = v / unit, frac = v % unit;
	char digits[32];
	int width = 0;

	for (uint64_t u = unit; u > 1; u /= 10) {
		width++;
	}
	if (frac == 0) {
		return snprintf(out, size, "%llu%s", (unsigned long long)whole, suffix);
	}
	if (width > 18) {
		width = 18; /* units are at most 10^9; this bound is for the compiler */
	}
	snprintf(digits, sizeof(digits), "%0*llu", width, (unsigned long long)frac);
	for (int i = width - 1; i > 0 && digits[i] == '0'; i--) {
		digits[i] = '\0';
	}
	return snprintf(out, size, "%llu.%s%s", (unsigned long long)whole, digits,
			suffix);
}

void timeutil_format_duration(uint64_t ns, char *out, unsigned long size)
{
	if (ns == 0) {
		snprintf(out, size, "0s");
	} else if (ns < NSEC_PER_USEC) {
		snprintf(out, size, "%lluns", (unsigned long long)ns);
	} else if (ns < NSEC_PER_MSEC) {
		fmt_frac(out, size, ns, NSEC_PER_USEC, "µs");
	} else if (ns < NSEC_PER_SEC) {
		fmt_frac(out, size, ns, NSEC_PER_MSEC, "ms");
	} else {
		uint64_t h = ns / (3600 * NSEC_PER_SEC);
		uint64_t m = ns / (60 * NSEC_PER_SEC) % 60;
		uint64_t rest = ns % (60 * NSEC_PER_SEC);
		int off = 0;

		if (h > 0) {
			off = snprintf(out, size, "%lluh%llum", (unsigned long long)h,
				       (unsigned long long)m);
		} else if (m > 0) {
			off = snprintf(out, size, "%llum", (unsigned long long)m);
		}
		if (off < 0 || (unsigned long)off >= size) {
			return;
		}
		fmt_frac(out + off, size - (unsigned long)off, rest, NSEC_PER_SEC, "s");
	}
}
