/*
 * timeutil.h - clocks.  Timers and timeouts use the monotonic clock only;
 * wall time is for logs and for reports to people.
 */
#ifndef CETCD_BASE_TIMEUTIL_H
#define CETCD_BASE_TIMEUTIL_H

#include <stdint.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t timeutil_mono_ns(void);
static inline uint64_t timeutil_mono_ms(void)
{
	return timeutil_mono_ns() / NSEC_PER_MSEC;
}
/* CLOCK_REALTIME in nanoseconds since the epoch. */
uint64_t timeutil_wall_ns(void);

/*
 * Parse a Go-style duration ("100ms", "1.5s", "2m30s", "1h") into
 * nanoseconds; a bare number is rejected.  0 or -EINVAL.
 */
int timeutil_parse_duration(const char *s, uint64_t *out_ns);
/* Format as Go's time.Duration.String() does ("3.571276ms", "1m0s"). */
void timeutil_format_duration(uint64_t ns, char *out, unsigned long size);

#endif
