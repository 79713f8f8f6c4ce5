/*
 * agent_systemd.h - what cetcd-agent asks of systemd on this host: the
 * manager (org.freedesktop.systemd1) and hostnamed
 * (org.freedesktop.hostname1) over sd-bus, the journal over sd-journal,
 * and the member's system user (systemd-sysusers).
 *
 * Every function returns 0 or a negative errno and, on failure, writes a
 * sentence for the operator into why (what failed and the bus's message).
 *
 * Invariants:
 *  1. Nothing here waits for a job to finish: StartUnit returns once the
 *     job is queued, because a new cluster's member becomes READY only
 *     when a quorum runs (design.md); callers poll the unit and the member.
 *  2. Only the unit named by the manifest is started, stopped or signalled.
 */
#ifndef CETCD_AGENT_AGENT_SYSTEMD_H
#define CETCD_AGENT_AGENT_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "base/buf.h"

struct sd_bus;

/* The system bus.  0 with *out (agent_sd_close), or -errno. */
int agent_sd_open(struct sd_bus **out, struct buf *why);
void agent_sd_close(struct sd_bus *bus);

/* systemctl daemon-reload. */
int agent_sd_reload(struct sd_bus *bus, struct buf *why);
/* systemctl enable UNIT (the [Install] section's links). */
int agent_sd_enable(struct sd_bus *bus, const char *unit, struct buf *why);
/* systemctl start/stop --no-block UNIT (job mode "replace"). */
int agent_sd_start(struct sd_bus *bus, const char *unit, struct buf *why);
int agent_sd_stop(struct sd_bus *bus, const char *unit, struct buf *why);
/* systemctl kill --kill-whom=main --signal=SIG UNIT. */
int agent_sd_kill(struct sd_bus *bus, const char *unit, int sig,
		  struct buf *why);
/*
 * The unit's ActiveState and SubState ("active", "running") into the
 * buffers, and its MainPID (0 when none).  A unit systemd does not know
 * reads as "inactive", "dead".
 */
int agent_sd_unit_state(struct sd_bus *bus, const char *unit, char *active,
			size_t active_size, char *sub, size_t sub_size,
			pid_t *main_pid);
/* Is the unit's file loaded (LoadState "loaded")? */
bool agent_sd_unit_loaded(struct sd_bus *bus, const char *unit);

/*
 * Set the host's name: hostnamed's SetStaticHostname and SetHostname when
 * hostnamed answers (*how = "hostnamed"), otherwise sethostname(2) (*how =
 * "sethostname"; the caller writes /etc/hostname).  bus may be NULL.
 */
int agent_sd_set_hostname(struct sd_bus *bus, const char *name,
			  const char **how, struct buf *why);

/* The unit's last n journal lines (its own and systemd's about it). */
void agent_sd_journal_tail(const char *unit, size_t n, FILE *out);

/*
 * Make sure the system user exists: when getpwnam() does not know it,
 * write sysusers_file (sysusers.d(5), the line of systemd/cetcd.sysusers)
 * and run systemd-sysusers on it.  *created tells whether it did.
 */
int agent_sd_ensure_user(const char *user, const char *home,
			 const char *sysusers_file, bool *created,
			 struct buf *why);

#endif
