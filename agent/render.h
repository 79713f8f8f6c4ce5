/*
 * render.h - one member's files, derived from the manifest.
 *
 * The render_*_text() functions are pure: manifest in, file content out.
 * A render plan then pairs each content with its path (under a root
 * directory) and the file's current content, so that it can be shown as a
 * diff (--dry-run) or written (atomically, only when it differs: a second
 * run changes nothing).
 *
 * Invariants:
 *  1. The env file follows scenario.md B's layout byte for byte: ETCD_NAME
 *     unquoted, every other value in double quotes, a blank line between
 *     the listen block and the initial-cluster block; tuning values and
 *     extra ETCD_* settings follow after one more blank line, only when
 *     the manifest gives them.
 *  2. The hosts file keeps every line outside "# BEGIN cetcd" ..
 *     "# END cetcd" byte for byte; the block is replaced in place, or
 *     appended when there is none.
 *  3. Output depends only on the manifest and the member (and, for hosts,
 *     the current file), never on the time, the host or the manifest's
 *     path, so re-rendering is idempotent.
 */
#ifndef CETCD_AGENT_RENDER_H
#define CETCD_AGENT_RENDER_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "agent/manifest.h"
#include "base/buf.h"

#define RENDER_HOSTS_BEGIN "# BEGIN cetcd"
#define RENDER_HOSTS_END "# END cetcd"

int render_env_text(const struct manifest *m, const struct manifest_member *mb,
		    struct buf *out);
int render_unit_text(const struct manifest *m, const struct manifest_member *mb,
		     struct buf *out);
int render_hostname_text(const struct manifest_member *mb, struct buf *out);
/* The marked block alone (empty when no member has a usable address). */
int render_hosts_block(const struct manifest *m, struct buf *out);
/*
 * old (old_len bytes, may be NULL) with the block put in (invariant 2).
 * Returns 0, -ENOMEM, or -ERR_PARSE with a sentence in why (about the
 * markers) when old's markers are unbalanced or repeated; then nothing is
 * to be written.  Lines outside the block that map a member's name to
 * another address are reported in notes, one sentence per line.
 */
int render_hosts_text(const struct manifest *m, const char *old, size_t old_len,
		      struct buf *out, struct buf *why, struct buf *notes);

/* Where the files go (absolute paths, before the root is prepended). */
struct render_paths {
	const char *root;	   /* NULL or "/" for the real root */
	const char *unit_dir;	   /* /etc/systemd/system */
	const char *hosts_file;	   /* /etc/hosts */
	const char *hostname_file; /* /etc/hostname */
};

enum render_state {
	RENDER_UNCHANGED,
	RENDER_CREATE,
	RENDER_UPDATE,
};

struct render_target {
	char *path;	  /* with the root */
	const char *what; /* "env file", "unit", "hostname", "hosts" */
	struct buf content;
	struct buf old;
	bool exists;
	mode_t mode; /* for a new file */
	enum render_state state;
};

#define RENDER_MAX_TARGETS 4

struct render_plan {
	struct render_target t[RENDER_MAX_TARGETS];
	size_t n;
	struct buf notes; /* warnings for the operator, one per line */
};

/*
 * Build mb's plan: render every file and read what is there now.
 * 0, -ENOMEM, -ERR_PARSE (why holds the sentence) or -errno from reading
 * (why names the file).
 */
int render_plan_build(const struct manifest *m,
		      const struct manifest_member *mb,
		      const struct render_paths *paths,
		      struct render_plan *plan, struct buf *why);
void render_plan_done(struct render_plan *plan);
/* Number of targets that differ from what is on disk. */
size_t render_plan_changes(const struct render_plan *plan);
/* Append the unified diff of every changed target to out. */
int render_plan_diff(const struct render_plan *plan, struct buf *out);
/*
 * Write every changed target atomically; report each on out as
 * "PATH: created|updated|unchanged".  Stops at the first failure:
 * -errno, with the failing path in why.
 */
int render_plan_write(struct render_plan *plan, FILE *out, struct buf *why);

#endif
