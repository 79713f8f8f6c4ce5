/*
 * log.c - one line per event on stderr with a journald priority prefix
 * (log.h).  Lines are assembled in a stack buffer and written with one
 * write(2) so that concurrent processes sharing a log file do not interleave
 * within a line.
 */
#include "base/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static enum log_level cur_level = LOG_LVL_INFO;
static bool use_prefix = true;
static const char *member_name;
static log_sink_fn sink;
static void *sink_arg;

static const char *level_word(enum log_level level)
{
	switch (level) {
	case LOG_LVL_ERROR:
		return "error";
	case LOG_LVL_WARN:
		return "warn";
	case LOG_LVL_NOTICE:
		return "notice";
	case LOG_LVL_INFO:
		return "info";
	case LOG_LVL_DEBUG:
		return "debug";
	}
	return "info";
}

void log_set_level(enum log_level level)
{
	cur_level = level;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	static const struct {
		const char *word;
		enum log_level level;
	} words[] = {
		{"debug", LOG_LVL_DEBUG}, {"info", LOG_LVL_INFO},
		{"notice", LOG_LVL_NOTICE}, {"warn", LOG_LVL_WARN},
		{"warning", LOG_LVL_WARN}, {"error", LOG_LVL_ERROR},
		/* etcd compat: zap's levels above error still log errors. */
		{"dpanic", LOG_LVL_ERROR}, {"panic", LOG_LVL_ERROR},
		{"fatal", LOG_LVL_ERROR},
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i].word) == 0) {
			*out = words[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

void log_set_prefix(bool on)
{
	use_prefix = on;
}

void log_set_name(const char *name)
{
	member_name = name;
}

void log_set_sink(log_sink_fn fn, void *arg)
{
	sink = fn;
	sink_arg = arg;
}

bool log_enabled(enum log_level level)
{
	return level <= cur_level;
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[2048];
	size_t off = 0;
	int n;

	if (!log_enabled(level)) {
		return;
	}
	if (sink != NULL) {
		vsnprintf(line, sizeof(line), fmt, ap);
		sink(level, line, sink_arg);
		return;
	}
	if (use_prefix) {
		n = snprintf(line, sizeof(line), "<%d>", (int)level);
		off = (size_t)n;
	}
	n = snprintf(line + off, sizeof(line) - off, "level=%s ", level_word(level));
	off += (size_t)n;
	if (member_name != NULL) {
		n = snprintf(line + off, sizeof(line) - off, "name=%s ", member_name);
		if (n > 0 && (size_t)n < sizeof(line) - off) {
			off += (size_t)n;
		}
	}
	n = vsnprintf(line + off, sizeof(line) - off, fmt, ap);
	if (n < 0) {
		return;
	}
	off += (size_t)n;
	if (off >= sizeof(line) - 1) {
		/* Truncated: keep the line and mark it. */
		off = sizeof(line) - 5;
		memcpy(line + off, "...", 3);
		off += 3;
	}
	line[off++] = '\n';
	(void)!write(STDERR_FILENO, line, off);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}
