/*
 * sys.h - the daemon's contact with its service manager.
 *
 * The sd_notify(3) wrapper; the event loop, timers, signals and deferred
 * frees are in sys/loop.h.
 */
#ifndef CETCD_SYS_SYS_H
#define CETCD_SYS_SYS_H

#include <stdbool.h>

/*
 * Send a state string ("READY=1", "STATUS=...", "STOPPING=1") to the
 * service manager when NOTIFY_SOCKET is set.  Returns 1 when sent, 0 when
 * no manager listens, -errno on failure.
 */
int sys_notify(const char *state);
int sys_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The watchdog interval the service manager asked for, in microseconds, or
 * 0 when WatchdogSec is not set for this process.
 */
unsigned long long sys_watchdog_usec(void);

#endif
