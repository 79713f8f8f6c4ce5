/*
 * agent_local.h - cetcd-agent's local mode and cluster views (issue 10).
 *
 * Local mode runs every manifest member as a child process on this machine:
 * env file, data dir, log and pid file under one state dir.  The cluster
 * views (status, health, members) print etcdctl's tables for every member
 * of the manifest, in local mode or not.
 *
 * These are command implementations of the cetcd-agent program: they print
 * to stdout/stderr and return an exit status (0 ok, 1 failure).
 *
 * Invariants:
 *  1. A pid file is trusted only when /proc/PID/cmdline still names a cetcd
 *     binary: a stale pid never gets a signal.
 *  2. Members outlive the agent (setsid, no daemon): `up` returns once the
 *     cluster has a leader and the members keep running.
 */
#ifndef CETCD_AGENT_AGENT_LOCAL_H
#define CETCD_AGENT_AGENT_LOCAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/manifest.h"
#include "agent/settings.h"

struct agent_run {
	const struct manifest *m;
	const char *state_dir;
	const char *cetcd; /* the member binary */
	uint64_t connect_ms;
	uint64_t request_ms;
	uint64_t start_ms; /* up/restart: how long to wait for a leader */
	uint64_t stop_ms;  /* down/restart: SIGTERM, then SIGKILL after this */
	enum agent_output output;
	uint64_t clock_skew_max_ms; /* warn above this difference */
};

/* The built-in manifest: etc/local.yaml's three members on 127.0.0.11-13. */
extern const char agent_builtin_manifest[];

int agent_local_up(const struct agent_run *r);
int agent_local_down(const struct agent_run *r);
int agent_local_kill(const struct agent_run *r, const char *name);
int agent_local_restart(const struct agent_run *r, const char *name);

/* The drill's building blocks (agent_local.c). */
/* The member's pid when its pid file names a running cetcd, else 0. */
pid_t agent_local_pid(const struct agent_run *r, const char *name);
/* Render its files, start it (setsid, log, pid file).  0 or -errno. */
int agent_local_start(const struct agent_run *r,
		      const struct manifest_member *mb, pid_t *out);
/* Wait up to ms for pid to stop being a cetcd; true when gone. */
bool agent_local_wait_gone(pid_t pid, uint64_t ms);
/* Remove the member's pid file. */
void agent_local_forget(const struct agent_run *r, const char *name);
/*
 * Wait until every member (or only) answers and reports a leader, within
 * r->start_ms; prints the leader, or the logs on a timeout (-ETIMEDOUT).
 */
int agent_local_wait_leader(const struct agent_run *r,
			    const struct manifest_member *only,
			    const char *what);
/* The member binary is executable (else a message and -ENOENT). */
int agent_local_check_binary(const struct agent_run *r);

/*
 * apply --node after render (agent_apply.c): the user, the host name,
 * daemon-reload, enable and start the unit over sd-bus; with wait, until
 * the member answers a linearizable read.  0 or 1 (after the unit's
 * journal and what to check).
 */
int agent_apply(const struct agent_run *r, const struct manifest_member *mb,
		bool wait);

/* drill failover (local mode or units on this host): 0 PASS, 1 FAIL. */
int agent_drill_failover(const struct agent_run *r,
			 const struct manifest_drill *d);

int agent_cluster_status(const struct agent_run *r);
int agent_cluster_health(const struct agent_run *r);
int agent_cluster_members(const struct agent_run *r);
/* The members' clocks compared; 1 when too far apart or unreachable. */
int agent_cluster_clock(const struct agent_run *r);

#endif
