/*
 * log.h - levelled logging for the daemon and the agent.
 *
 * One line per event on stderr, prefixed with the syslog priority in
 * journald's "<N>" form so that journald files it at the right level
 * (sd-daemon(3)), then "level=... msg" and optional key=value fields written
 * by the caller.  Libraries (raft, wal, mvcc, proto) log at debug only; the
 * daemon and the agent log each failure once, where it is handled.
 */
#ifndef CETCD_BASE_LOG_H
#define CETCD_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum log_level {
	LOG_LVL_ERROR = 3, /* syslog LOG_ERR */
	LOG_LVL_WARN = 4,
	LOG_LVL_NOTICE = 5,
	LOG_LVL_INFO = 6,
	LOG_LVL_DEBUG = 7,
};

/* Messages above level are dropped.  Default: LOG_LVL_INFO. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "debug", "info", "warn", "error" (etcd's --log-level); -EINVAL else. */
int log_level_parse(const char *s, enum log_level *out);
/* Include the "<N>" priority prefix (default true; off for a terminal). */
void log_set_prefix(bool on);
/* Tag every line with "name=..." (the member name); NULL for none. */
void log_set_name(const char *name);
/*
 * Tests: send lines to fn instead of stderr (NULL restores stderr).  fn gets
 * the level and the formatted line without prefix or newline.
 */
typedef void (*log_sink_fn)(enum log_level level, const char *line, void *arg);
void log_set_sink(log_sink_fn fn, void *arg);

bool log_enabled(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)                                                         \
	do {                                                                   \
		if (log_enabled(LOG_LVL_DEBUG)) {                              \
			log_msg(LOG_LVL_DEBUG, __VA_ARGS__);                   \
		}                                                              \
	} while (0)

#endif
