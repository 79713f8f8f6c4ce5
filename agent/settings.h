/*
 * settings.h - cetcd-agent's own settings (libconfig), from
 * /etc/cetcd/agent.conf or -c FILE; etc/agent.conf documents every one.
 *
 * Precedence: command-line flags > the manifest (for what it says) > this
 * file > built-in defaults.  The caller applies flags after loading.
 *
 * Invariants:
 *  1. After agent_settings_init() every field holds a usable default, so a
 *     missing default file is no error.
 *  2. A file that is read is checked whole: unknown settings (with the
 *     nearest known one suggested), wrong types and bad values are errors
 *     "file:line: what; what to do", and nothing of a bad file is used.
 */
#ifndef CETCD_AGENT_SETTINGS_H
#define CETCD_AGENT_SETTINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "agent/manifest.h"
#include "base/buf.h"

#define AGENT_SETTINGS_DEFAULT_PATH "/etc/cetcd/agent.conf"

enum agent_mode {
	AGENT_MODE_SYSTEMD,
	AGENT_MODE_LOCAL,
};

enum agent_output {
	AGENT_OUTPUT_TABLE,
	AGENT_OUTPUT_JSON,
};

struct agent_settings {
	char *manifest; /* default manifest path */
	enum agent_mode mode;
	char *root; /* "/" or a directory every written path goes under */
	enum agent_output output;
	char *log_level;
	/* paths */
	char *unit_dir;
	char *hosts_file;
	char *hostname_file;
	char *state_dir; /* local mode: members' env, data and logs */
	char *cetcd;	 /* local mode: the member binary */
	char *ssh;	 /* drills on remote hosts */
	/* timeouts, ms */
	uint64_t connect_ms;
	uint64_t request_ms;
	uint64_t start_ms;
	uint64_t stop_ms;
	/* drill defaults (the manifest's drill: section wins) */
	struct manifest_drill drill;
};

/* Built-in defaults.  0 or -ENOMEM. */
int agent_settings_init(struct agent_settings *s);
void agent_settings_done(struct agent_settings *s);

/*
 * Read path over s.  A missing file is ignored when !must_exist.  Returns
 * 0, -ENOENT (must_exist), -ERR_CONFIG with one line per problem in errs,
 * or -ENOMEM.  On error s is left as it was.
 */
int agent_settings_load(struct agent_settings *s, const char *path,
			bool must_exist, struct buf *errs);

const char *agent_mode_name(enum agent_mode mode);
int agent_mode_parse(const char *s, enum agent_mode *out);
int agent_output_parse(const char *s, enum agent_output *out);

#endif
