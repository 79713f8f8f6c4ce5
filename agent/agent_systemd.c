/*
 * agent_systemd.c - systemd's manager, hostnamed, the journal and
 * sysusers for cetcd-agent (agent_systemd.h).
 *
 * The manager's methods are the ones systemctl calls: Reload,
 * EnableUnitFiles, StartUnit/StopUnit (mode "replace"), KillUnit; unit
 * state comes from the unit object's ActiveState/SubState and the
 * service's MainPID after LoadUnit (which also answers for units systemd
 * has not loaded yet).
 *
 * Invariants: those of agent_systemd.h.
 */
#include "agent/agent_systemd.h"

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "agent/fsutil.h"
#include "base/mem.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define SD_SERVICE "org.freedesktop.systemd1.Service"
#define HN_DEST "org.freedesktop.hostname1"
#define HN_PATH "/org/freedesktop/hostname1"

static int fail(struct buf *why, int r, const sd_bus_error *e,
		const char *what, const char *unit)
{
	buf_reset(why);
	buf_printf(why, "%s%s%s: %s", what, unit ? " " : "", unit ? unit : "",
		   e && sd_bus_error_is_set(e) ? e->message : strerror(-r));
	return r < 0 ? r : -EIO;
}

int agent_sd_open(struct sd_bus **out, struct buf *why)
{
	sd_bus *bus = NULL;
	int r = sd_bus_open_system(&bus);

	if (r < 0) {
		buf_reset(why);
		buf_printf(why,
			   "cannot reach the system bus: %s; is this host "
			   "running systemd (and dbus)?",
			   strerror(-r));
		return r;
	}
	*out = bus;
	return 0;
}

void agent_sd_close(struct sd_bus *bus)
{
	sd_bus_flush_close_unref(bus);
}

int agent_sd_reload(struct sd_bus *bus, struct buf *why)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "Reload", &e,
			       NULL, NULL);
	if (r < 0) {
		fail(why, r, &e, "daemon-reload", NULL);
	}
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

int agent_sd_enable(struct sd_bus *bus, const char *unit, struct buf *why)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r;

	/* (names, runtime=false, force=false) as `systemctl enable`. */
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER,
			       "EnableUnitFiles", &e, &reply, "asbb", 1, unit,
			       0, 0);
	if (r < 0) {
		fail(why, r, &e, "enable", unit);
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

static int job(struct sd_bus *bus, const char *method, const char *unit,
	       const char *what, struct buf *why)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	int r;

	/* Invariant 1: the job is queued, not waited for. */
	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, method, &e,
			       &reply, "ss", unit, "replace");
	if (r < 0) {
		fail(why, r, &e, what, unit);
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

int agent_sd_start(struct sd_bus *bus, const char *unit, struct buf *why)
{
	return job(bus, "StartUnit", unit, "start", why);
}

int agent_sd_stop(struct sd_bus *bus, const char *unit, struct buf *why)
{
	return job(bus, "StopUnit", unit, "stop", why);
}

int agent_sd_kill(struct sd_bus *bus, const char *unit, int sig,
		  struct buf *why)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "KillUnit",
			       &e, NULL, "ssi", unit, "main", (int32_t)sig);
	if (r < 0) {
		fail(why, r, &e, "kill", unit);
	}
	sd_bus_error_free(&e);
	return r < 0 ? r : 0;
}

/* LoadUnit: the unit's object path (free()), loading it if needed. */
static int unit_path(struct sd_bus *bus, const char *unit, char **out)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path;
	int r;

	r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "LoadUnit",
			       &e, &reply, "s", unit);
	if (r >= 0) {
		r = sd_bus_message_read(reply, "o", &path);
	}
	if (r >= 0) {
		*out = mem_strdup(path);
		r = *out ? 0 : -ENOMEM;
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	return r;
}

static int prop_string(struct sd_bus *bus, const char *path, const char *iface,
		       const char *name, char *out, size_t size)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *v = NULL;
	int r;

	r = sd_bus_get_property_string(bus, SD_DEST, path, iface, name, &e, &v);
	if (r >= 0) {
		snprintf(out, size, "%s", v);
	}
	free(v);
	sd_bus_error_free(&e);
	return r;
}

int agent_sd_unit_state(struct sd_bus *bus, const char *unit, char *active,
			size_t active_size, char *sub, size_t sub_size,
			pid_t *main_pid)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *path = NULL;
	uint32_t pid = 0;
	int r;

	snprintf(active, active_size, "inactive");
	snprintf(sub, sub_size, "dead");
	*main_pid = 0;
	r = unit_path(bus, unit, &path);
	if (r < 0) {
		return r;
	}
	r = prop_string(bus, path, SD_UNIT, "ActiveState", active, active_size);
	if (r >= 0) {
		r = prop_string(bus, path, SD_UNIT, "SubState", sub, sub_size);
	}
	if (r >= 0 && sd_bus_get_property_trivial(bus, SD_DEST, path,
						  SD_SERVICE, "MainPID", &e,
						  'u', &pid) >= 0) {
		*main_pid = (pid_t)pid;
	}
	sd_bus_error_free(&e);
	mem_free(path);
	return r < 0 ? r : 0;
}

bool agent_sd_unit_loaded(struct sd_bus *bus, const char *unit)
{
	char *path = NULL, state[32] = "";
	bool loaded;

	if (unit_path(bus, unit, &path) < 0) {
		return false;
	}
	loaded = prop_string(bus, path, SD_UNIT, "LoadState", state,
			     sizeof(state)) >= 0 &&
		 strcmp(state, "loaded") == 0;
	mem_free(path);
	return loaded;
}

int agent_sd_set_hostname(struct sd_bus *bus, const char *name,
			  const char **how, struct buf *why)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = -ENOTCONN;

	if (bus) {
		/* (name, interactive=false), as hostnamectl set-hostname. */
		r = sd_bus_call_method(bus, HN_DEST, HN_PATH, HN_DEST,
				       "SetStaticHostname", &e, NULL, "sb",
				       name, 0);
		if (r >= 0) {
			sd_bus_error_free(&e);
			r = sd_bus_call_method(bus, HN_DEST, HN_PATH, HN_DEST,
					       "SetHostname", &e, NULL, "sb",
					       name, 0);
		}
		if (r >= 0) {
			*how = "hostnamed";
			sd_bus_error_free(&e);
			return 0;
		}
	}
	sd_bus_error_free(&e);
	/* No hostnamed (or no bus): the kernel's name; /etc/hostname is the
	 * caller's, rendered with the other files. */
	if (sethostname(name, strlen(name)) < 0) {
		r = -errno;
		buf_reset(why);
		buf_printf(why, "cannot set the host name to %s: %s", name,
			   strerror(errno));
		return r;
	}
	*how = "sethostname";
	return 0;
}

void agent_sd_journal_tail(const char *unit, size_t n, FILE *out)
{
	sd_journal *j = NULL;
	struct buf m1 = BUF_INIT, m2 = BUF_INIT;
	size_t shown = 0;
	int r;

	r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
	if (r >= 0 && buf_printf(&m1, "_SYSTEMD_UNIT=%s", unit) == 0 &&
	    buf_printf(&m2, "UNIT=%s", unit) == 0) {
		/* The member's own lines, and systemd's about the unit. */
		sd_journal_add_match(j, m1.data, m1.len);
		sd_journal_add_disjunction(j);
		sd_journal_add_match(j, m2.data, m2.len);
		sd_journal_seek_tail(j);
		r = sd_journal_previous_skip(j, (uint64_t)n);
	}
	if (r < 0) {
		fprintf(out, "  (cannot read the journal: %s; run journalctl "
			     "-u %s)\n",
			strerror(-r), unit);
	}
	while (r >= 0 && sd_journal_next(j) > 0) {
		const void *d;
		size_t len;

		if (sd_journal_get_data(j, "MESSAGE", &d, &len) >= 0 &&
		    len > 8) {
			fprintf(out, "  %.*s\n", (int)(len - 8),
				(const char *)d + 8);
			shown++;
		}
	}
	if (r >= 0 && shown == 0) {
		fprintf(out, "  (no journal lines for %s)\n", unit);
	}
	buf_done(&m1);
	buf_done(&m2);
	sd_journal_close(j);
}

int agent_sd_ensure_user(const char *user, const char *home,
			 const char *sysusers_file, bool *created,
			 struct buf *why)
{
	struct buf line = BUF_INIT;
	pid_t pid;
	int r, st = 0;

	*created = false;
	if (getpwnam(user)) {
		return 0;
	}
	/* The line of systemd/cetcd.sysusers, for this manifest's user. */
	r = buf_printf(&line, "u %s - \"cetcd key-value store member\" %s\n",
		       user, home);
	r = r ?: fsutil_write_atomic(sysusers_file, line.data, line.len, 0644);
	buf_done(&line);
	if (r < 0) {
		buf_reset(why);
		buf_printf(why, "cannot write %s: %s", sysusers_file,
			   strerror(-r));
		return r;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execlp("systemd-sysusers", "systemd-sysusers", sysusers_file,
		       (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0 || !getpwnam(user)) {
		buf_reset(why);
		buf_printf(why,
			   "systemd-sysusers %s did not create the user %s; "
			   "create it (useradd --system %s) and run apply "
			   "again",
			   sysusers_file, user, user);
		return -ESRCH;
	}
	*created = true;
	return 0;
}
