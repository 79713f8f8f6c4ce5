/*
 * sys.c - sd_notify wrapper (sys.h).
 */
#include "sys/sys.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

int sys_notify(const char *state)
{
	/* Keep NOTIFY_SOCKET: later notifications (STATUS, STOPPING) need it. */
	return sd_notify(0, state);
}

int sys_notifyf(const char *fmt, ...)
{
	char state[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(state, sizeof(state), fmt, ap);
	va_end(ap);
	return sys_notify(state);
}

unsigned long long sys_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0) {
		return 0;
	}
	return usec;
}
