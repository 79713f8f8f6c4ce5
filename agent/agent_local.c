/*
 * agent_local.c - cetcd-agent's local mode: up, down, restart, kill
 * (agent_local.h).
 *
 * Layout under the state dir S, as deploy/quickstart has it:
 *   S/<config_file>   each member's env file, rendered from the manifest
 *   S/<data_dir>      each member's data (ETCD_DATA_DIR moved under S)
 *   S/NAME.log        the member's stdout and stderr
 *   S/NAME.pid        its pid
 *
 * Invariants (beyond agent_local.h):
 *  1. The member sees its env file the way systemd's EnvironmentFile=
 *     loads it (outer quotes stripped), and no ETCD_* of the agent's own
 *     environment: the file alone configures it.
 *  2. Only a member of this state dir is ever signalled: its pid file and
 *     a cmdline that names cetcd must both agree.
 */
#include "agent/agent_local.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent_probe.h"
#include "agent/ctl.h"
#include "agent/fsutil.h"
#include "agent/render.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define PROG "cetcd-agent"
#define ERRSZ 512
#define LOG_TAIL_LINES 15

extern char **environ;

const char agent_builtin_manifest[] =
    "cluster:\n"
    "  name: cetcd-local\n"
    "  token: etcd-cluster\n"
    "defaults:\n"
    "  config_file: /etc/cetcd/{name}.conf\n"
    "  data_dir: /var/lib/cetcd/{name}\n"
    "  unit: cetcd@{name}.service\n"
    "  hostname: false\n"
    "members:\n"
    "  - name: etcd-node01\n"
    "    address: 127.0.0.11\n"
    "  - name: etcd-node02\n"
    "    address: 127.0.0.12\n"
    "  - name: etcd-node03\n"
    "    address: 127.0.0.13\n";

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static char *state_path(const struct agent_run *r, const char *name,
			const char *suffix)
{
	struct buf b = BUF_INIT;

	if (buf_printf(&b, "%s/%s%s", r->state_dir, name, suffix) < 0) {
		buf_done(&b);
		return NULL;
	}
	return (char *)buf_steal(&b, NULL);
}

/* Invariant 2: does pid run a cetcd binary (not the agent, not cetcdctl)? */
static bool pid_is_cetcd(pid_t pid)
{
	char path[64], cmd[4096];
	const char *base;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return false;
	}
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	if (n <= 0) {
		return false; /* a zombie has an empty cmdline */
	}
	cmd[n] = '\0';
	base = strrchr(cmd, '/');
	base = base ? base + 1 : cmd;
	return strncmp(base, "cetcd", 5) == 0 &&
	       strcmp(base, "cetcd-agent") != 0 && strcmp(base, "cetcdctl") != 0;
}

/* The running member's pid from its pid file, or 0. */
pid_t agent_local_pid(const struct agent_run *r, const char *name)
{
	_cleanup_free_ char *path = state_path(r, name, ".pid");
	struct buf b = BUF_INIT;
	long v;
	char *end;

	if (!path || fsutil_read(path, 64, &b) < 0 || !b.data) {
		buf_done(&b);
		return 0;
	}
	v = strtol((const char *)b.data, &end, 10);
	buf_done(&b);
	if (v <= 0 || v > INT32_MAX || !pid_is_cetcd((pid_t)v)) {
		return 0;
	}
	return (pid_t)v;
}

void agent_local_forget(const struct agent_run *r, const char *name)
{
	_cleanup_free_ char *path = state_path(r, name, ".pid");

	if (path) {
		unlink(path);
	}
}

/* Reap our own children that died (up and restart start them). */
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0) {
	}
}

/* Wait up to ms for pid to stop being a cetcd.  true when gone. */
bool agent_local_wait_gone(pid_t pid, uint64_t ms)
{
	uint64_t end = timeutil_mono_ms() + ms;

	do {
		reap();
		if (!pid_is_cetcd(pid)) {
			return true;
		}
		sleep_ms(20);
	} while (timeutil_mono_ms() < end);
	return !pid_is_cetcd(pid);
}

/* SIGTERM, then SIGKILL after stop_ms. */
static void stop_pid(const struct agent_run *r, pid_t pid)
{
	kill(pid, SIGTERM);
	if (!agent_local_wait_gone(pid, r->stop_ms)) {
		kill(pid, SIGKILL);
		agent_local_wait_gone(pid, 5000);
	}
}

/*
 * Invariant 1: KEY=VALUE lines as EnvironmentFile= reads them: blank lines
 * and # or ; comments skipped, spaces around the value trimmed, one pair
 * of outer quotes removed.  Appends "KEY=VALUE" strings to env.
 */
static int parse_env_file(const char *text, char ***env, size_t *n)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *eq = memchr(p, '=', len);
		const char *k = p, *v, *ve, *ke;
		struct buf b = BUF_INIT;
		char **grown;

		while (k < p + len && (*k == ' ' || *k == '\t')) {
			k++;
		}
		if (k == p + len || *k == '#' || *k == ';' || !eq) {
			p += len + (nl ? 1 : 0);
			continue;
		}
		ke = eq;
		while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t')) {
			ke--;
		}
		v = eq + 1;
		ve = p + len;
		while (v < ve && (*v == ' ' || *v == '\t')) {
			v++;
		}
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' ||
				  ve[-1] == '\r')) {
			ve--;
		}
		if (ve - v >= 2 && (*v == '"' || *v == '\'') && ve[-1] == *v) {
			v++;
			ve--;
		}
		if (buf_printf(&b, "%.*s=%.*s", (int)(ke - k), k, (int)(ve - v),
			       v) < 0) {
			buf_done(&b);
			return -ENOMEM;
		}
		grown = mem_realloc(*env, (*n + 2) * sizeof(char *));
		if (!grown) {
			buf_done(&b);
			return -ENOMEM;
		}
		*env = grown;
		(*env)[(*n)++] = (char *)buf_steal(&b, NULL);
		(*env)[*n] = NULL;
		p += len + (nl ? 1 : 0);
	}
	return 0;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++) {
		mem_free(v[i]);
	}
	mem_free(v);
}

/* The value of key in env ("KEY=VALUE" strings), or NULL. */
static const char *env_get(char **env, const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; env && env[i]; i++) {
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=') {
			return env[i] + kl + 1;
		}
	}
	return NULL;
}

/*
 * The member's environment: ours without any ETCD_*, then its env file,
 * with ETCD_DATA_DIR moved under the state dir.  *data gets that dir.
 */
static int member_env(const struct agent_run *r,
		      const struct manifest_member *mb, char ***out,
		      char **data)
{
	_cleanup_free_ char *conf = fsutil_join_root(r->state_dir,
						      mb->s.config_file);
	struct buf text = BUF_INIT, b = BUF_INIT;
	char **file = NULL, **env = NULL;
	size_t nf = 0, ne = 0, i;
	const char *dd;
	int rc;

	if (!conf) {
		return -ENOMEM;
	}
	rc = fsutil_read(conf, 1024 * 1024, &text);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot read %s: %s\n", conf,
			err_str(rc));
		return rc;
	}
	rc = parse_env_file(text.data ? (const char *)text.data : "", &file,
			    &nf);
	buf_done(&text);
	dd = env_get(file, "ETCD_DATA_DIR");
	if (rc == 0) {
		rc = buf_printf(&b, "%s%s", r->state_dir,
				dd ? dd : mb->s.data_dir);
	}
	for (i = 0; rc == 0 && environ[i]; i++) {
		if (strncmp(environ[i], "ETCD_", 5) == 0) {
			continue;
		}
		char **g = mem_realloc(env, (ne + 2) * sizeof(char *));

		if (g) {
			env = g;
			env[ne] = mem_strdup(environ[i]);
		}
		if (!g || !env[ne]) {
			rc = -ENOMEM;
			break;
		}
		env[++ne] = NULL;
	}
	for (i = 0; rc == 0 && i < nf; i++) {
		char **g = mem_realloc(env, (ne + 2) * sizeof(char *));
		struct buf e = BUF_INIT;

		if (!g) {
			rc = -ENOMEM;
			break;
		}
		env = g;
		if (strncmp(file[i], "ETCD_DATA_DIR=", 14) == 0) {
			rc = buf_printf(&e, "ETCD_DATA_DIR=%s",
					(const char *)b.data);
		} else {
			rc = buf_append_str(&e, file[i]);
		}
		if (rc < 0) {
			buf_done(&e);
			break;
		}
		env[ne++] = (char *)buf_steal(&e, NULL);
		env[ne] = NULL;
	}
	if (rc == 0 && !dd) {
		char **g = mem_realloc(env, (ne + 2) * sizeof(char *));
		struct buf e = BUF_INIT;

		rc = g ? buf_printf(&e, "ETCD_DATA_DIR=%s",
				    (const char *)b.data)
		       : -ENOMEM;
		if (g) {
			env = g;
		}
		if (rc == 0) {
			env[ne++] = (char *)buf_steal(&e, NULL);
			env[ne] = NULL;
		}
		buf_done(&e);
	}
	strv_free(file);
	if (rc < 0) {
		strv_free(env);
		buf_done(&b);
		return rc;
	}
	*out = env;
	*data = (char *)buf_steal(&b, NULL);
	return 0;
}

/* Render mb's files under the state dir; quiet unless something fails. */
static int render_member(const struct agent_run *r,
			 const struct manifest_member *mb)
{
	struct render_paths paths = {r->state_dir, "/etc/systemd/system",
				     "/etc/hosts", "/etc/hostname"};
	struct render_plan plan;
	struct buf why = BUF_INIT;
	FILE *devnull;
	int rc;

	rc = render_plan_build(r->m, mb, &paths, &plan, &why);
	if (rc == 0) {
		devnull = fopen("/dev/null", "w");
		rc = render_plan_write(&plan, devnull ? devnull : stderr, &why);
		if (devnull) {
			fclose(devnull);
		}
		render_plan_done(&plan);
	}
	if (rc < 0) {
		fprintf(stderr, PROG ": %s: render: %s\n", mb->name,
			why.len ? (const char *)why.data : err_str(rc));
	}
	buf_done(&why);
	return rc;
}

/* Render, then fork and exec one member; writes its pid file. */
int agent_local_start(const struct agent_run *r,
			const struct manifest_member *mb, pid_t *out)
{
	_cleanup_free_ char *log = state_path(r, mb->name, ".log");
	_cleanup_free_ char *pidf = state_path(r, mb->name, ".pid");
	_cleanup_free_ char *data = NULL;
	char **env = NULL;
	char pidtext[32];
	pid_t pid;
	int rc, fd;

	if (!log || !pidf) {
		return -ENOMEM;
	}
	rc = render_member(r, mb);
	rc = rc ?: member_env(r, mb, &env, &data);
	if (rc < 0) {
		return rc;
	}
	rc = fsutil_mkdir_p(data, 0700);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s: cannot create %s: %s\n", mb->name,
			data, err_str(rc));
		strv_free(env);
		return rc;
	}
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		fprintf(stderr, PROG ": %s: cannot open %s: %s\n", mb->name,
			log, err_str(rc));
		strv_free(env);
		return rc;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		char arg0[4096];
		char *argv[] = {arg0, NULL};
		int nul = open("/dev/null", O_RDONLY);

		snprintf(arg0, sizeof(arg0), "%s", r->cetcd);
		/* Invariant 2 of agent_local.h: a session of its own. */
		setsid();
		if (nul >= 0) {
			dup2(nul, 0);
		}
		dup2(fd, 1);
		dup2(fd, 2);
		/* Pipes of whoever ran the agent must not stay open. */
		for (int k = 3; k < 1024; k++) {
			close(k);
		}
		execve(r->cetcd, argv, env);
		dprintf(2, PROG ": cannot run %s: %s\n", r->cetcd,
			strerror(errno));
		_exit(127);
	}
	rc = pid < 0 ? -errno : 0;
	close(fd);
	strv_free(env);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s: fork: %s\n", mb->name, err_str(rc));
		return rc;
	}
	snprintf(pidtext, sizeof(pidtext), "%d\n", (int)pid);
	rc = fsutil_write_atomic(pidf, pidtext, strlen(pidtext), 0644);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s: cannot write %s: %s\n", mb->name,
			pidf, err_str(rc));
		kill(pid, SIGKILL);
		return rc;
	}
	*out = pid;
	return 0;
}

/* The last LOG_TAIL_LINES lines of a member's log, to stderr. */
static void print_log_tail(const struct agent_run *r, const char *name)
{
	_cleanup_free_ char *log = state_path(r, name, ".log");
	struct buf b = BUF_INIT;
	const char *p;
	size_t lines = 0;

	if (!log || fsutil_read(log, 16 * 1024 * 1024, &b) < 0 || !b.len) {
		fprintf(stderr, "--- %s: no log at %s\n", name,
			log ? log : "?");
		buf_done(&b);
		return;
	}
	p = (const char *)b.data + b.len;
	if (p[-1] == '\n') {
		p--;
	}
	while (p > (const char *)b.data) {
		if (p[-1] == '\n' && ++lines == LOG_TAIL_LINES) {
			break;
		}
		p--;
	}
	fprintf(stderr, "--- %s: last lines of %s\n", name, log);
	fwrite(p, 1, b.len - (size_t)(p - (const char *)b.data), stderr);
	if (b.data[b.len - 1] != '\n') {
		fputc('\n', stderr);
	}
	buf_done(&b);
}

/* "http://addr:port" of a member's client URL into out. */
static int member_endpoint(const struct manifest_member *mb, char *out,
			   size_t size)
{
	return manifest_url(mb->s.client_scheme, mb->address, mb->s.client_port,
			    out, size);
}

/*
 * One round of status probes, every member at once.  *up counts members
 * that answer (only `only` when given); *leader is a leader some member
 * reports, or 0.
 */
static void probe(const struct agent_run *r, const struct manifest_member *only,
		  size_t *up, uint64_t *leader, const char **leader_name)
{
	size_t n = r->m->n_members;
	struct agent_probe *p = mem_calloc(n + 1, sizeof(*p));
	char (*urls)[192] = mem_calloc(n + 1, sizeof(*urls));
	struct {
		uint64_t id;
		const char *name;
	} *ids = mem_calloc(n + 1, sizeof(*ids));
	size_t n_ids = 0;

	*up = 0;
	*leader = 0;
	*leader_name = NULL;
	for (size_t i = 0; p && urls && i < n; i++) {
		const struct manifest_member *mb = &r->m->members[i];
		char ep[160];

		if (member_endpoint(mb, ep, sizeof(ep)) < 0) {
			ep[0] = '\0';
		}
		snprintf(urls[i], sizeof(urls[i]), "%s/v3/maintenance/status",
			 ep);
		p[i].url = urls[i];
		p[i].body = "{}";
	}
	if (!p || !urls || !ids ||
	    agent_probe_all(p, n, r->connect_ms < 500 ? r->connect_ms : 500,
			    1000) < 0) {
		n = 0;
	}
	for (size_t i = 0; i < n; i++) {
		const struct manifest_member *mb = &r->m->members[i];
		Etcdserverpb__StatusResponse *s = NULL;
		char err[ERRSZ];

		if (agent_probe_decode(&p[i],
				       &etcdserverpb__status_response__descriptor,
				       (ProtobufCMessage **)&s, err,
				       sizeof(err)) < 0) {
			continue;
		}
		if (!only || only == mb) {
			(*up)++;
		}
		if (s->leader != 0 && (!only || only == mb)) {
			*leader = s->leader;
		}
		if (s->header && s->header->member_id != 0) {
			ids[n_ids].id = s->header->member_id;
			ids[n_ids++].name = mb->name;
		}
		proto_free(&s->base);
	}
	/* A follower may name the leader before the leader says so. */
	for (size_t i = 0; i < n_ids; i++) {
		if (ids[i].id == *leader) {
			*leader_name = ids[i].name;
		}
	}
	for (size_t i = 0; p && i < r->m->n_members; i++) {
		agent_probe_done(&p[i]);
	}
	mem_free(p);
	mem_free(urls);
	mem_free(ids);
}

/*
 * Wait until every member (or only) answers and a leader is known, with a
 * progress line on a terminal.  0, or -ETIMEDOUT after printing logs.
 */
int agent_local_wait_leader(const struct agent_run *r,
		       const struct manifest_member *only, const char *what)
{
	uint64_t t0 = timeutil_mono_ms(), leader = 0;
	size_t want = only ? 1 : r->m->n_members, up = 0;
	const char *leader_name = NULL;
	bool tty = isatty(2);

	for (;;) {
		reap();
		probe(r, only, &up, &leader, &leader_name);
		if (up == want && leader != 0) {
			break;
		}
		if (timeutil_mono_ms() - t0 >= r->start_ms) {
			if (tty) {
				fputc('\n', stderr);
			}
			fprintf(stderr,
				PROG " %s: no leader after %.1f s (%zu of %zu "
				     "member%s answer); check the logs:\n",
				what, (double)r->start_ms / 1000, up, want,
				want == 1 ? "" : "s");
			for (size_t i = 0; i < r->m->n_members; i++) {
				if (!only || only == &r->m->members[i]) {
					print_log_tail(r,
						       r->m->members[i].name);
				}
			}
			return -ETIMEDOUT;
		}
		if (tty) {
			fprintf(stderr,
				"\r" PROG " %s: waiting for a leader: %zu/%zu "
				"member%s answer (%.1f s)",
				what, up, want, want == 1 ? "" : "s",
				(double)(timeutil_mono_ms() - t0) / 1000);
		}
		sleep_ms(200);
	}
	if (tty) {
		fputc('\n', stderr);
	}
	printf("cluster %s: leader %s (%" PRIx64 ") after %.1f s\n",
	       r->m->cluster_name, leader_name ? leader_name : "?", leader,
	       (double)(timeutil_mono_ms() - t0) / 1000);
	return 0;
}

int agent_local_check_binary(const struct agent_run *r)
{
	if (access(r->cetcd, X_OK) < 0) {
		fprintf(stderr,
			PROG ": cannot run the member binary %s: %s; give "
			     "--cetcd PATH or set paths.cetcd in agent.conf\n",
			r->cetcd, strerror(errno));
		return -ENOENT;
	}
	return 0;
}

int agent_local_up(const struct agent_run *r)
{
	int rc;

	rc = fsutil_mkdir_p(r->state_dir, 0755);
	if (rc < 0) {
		fprintf(stderr, PROG " up: cannot create the state dir %s: %s\n",
			r->state_dir, err_str(rc));
		return 1;
	}
	if (agent_local_check_binary(r) < 0) {
		return 1;
	}
	for (size_t i = 0; i < r->m->n_members; i++) {
		const struct manifest_member *mb = &r->m->members[i];
		pid_t pid = agent_local_pid(r, mb->name);
		char ep[160];

		if (member_endpoint(mb, ep, sizeof(ep)) < 0) {
			ep[0] = '\0';
		}
		if (pid > 0) {
			printf("%s: already running (pid %d)\n", mb->name,
			       (int)pid);
			continue;
		}
		if (agent_local_start(r, mb, &pid) < 0) {
			return 1;
		}
		printf("%s: started (pid %d, %s, log %s/%s.log)\n", mb->name,
		       (int)pid, ep, r->state_dir, mb->name);
	}
	fflush(stdout);
	return agent_local_wait_leader(r, NULL, "up") < 0 ? 1 : 0;
}

int agent_local_down(const struct agent_run *r)
{
	_cleanup_free_ pid_t *pids = mem_calloc(r->m->n_members + 1,
						sizeof(pid_t));

	if (!pids) {
		fprintf(stderr, PROG " down: out of memory\n");
		return 1;
	}
	/* SIGTERM every member first: they stop in parallel. */
	for (size_t i = 0; i < r->m->n_members; i++) {
		pids[i] = agent_local_pid(r, r->m->members[i].name);
		if (pids[i] > 0) {
			kill(pids[i], SIGTERM);
		}
	}
	for (size_t i = 0; i < r->m->n_members; i++) {
		const char *name = r->m->members[i].name;

		if (pids[i] <= 0) {
			printf("%s: not running\n", name);
		} else if (agent_local_wait_gone(pids[i], r->stop_ms)) {
			printf("%s: stopped (pid %d)\n", name, (int)pids[i]);
		} else {
			kill(pids[i], SIGKILL);
			agent_local_wait_gone(pids[i], 5000);
			printf("%s: killed after %.1f s (pid %d)\n", name,
			       (double)r->stop_ms / 1000, (int)pids[i]);
		}
		agent_local_forget(r, name);
	}
	printf("cluster %s stopped; data and logs are in %s\n",
	       r->m->cluster_name, r->state_dir);
	return 0;
}

static const struct manifest_member *find(const struct agent_run *r,
					  const char *name, const char *what)
{
	const struct manifest_member *mb = manifest_find_member(r->m, name);

	if (!mb) {
		fprintf(stderr, PROG " %s: %s has no member '%s'; give one of:",
			what, r->m->file ? r->m->file : "the manifest", name);
		for (size_t i = 0; i < r->m->n_members; i++) {
			fprintf(stderr, "%s %s", i ? "," : "",
				r->m->members[i].name);
		}
		fputc('\n', stderr);
	}
	return mb;
}

int agent_local_kill(const struct agent_run *r, const char *name)
{
	const struct manifest_member *mb = find(r, name, "kill");
	pid_t pid;

	if (!mb) {
		return 1;
	}
	pid = agent_local_pid(r, mb->name);
	if (pid <= 0) {
		fprintf(stderr, PROG " kill: %s is not running\n", mb->name);
		return 1;
	}
	kill(pid, SIGKILL);
	agent_local_wait_gone(pid, 5000);
	agent_local_forget(r, mb->name);
	printf("%s: killed (pid %d)\n", mb->name, (int)pid);
	return 0;
}

int agent_local_restart(const struct agent_run *r, const char *name)
{
	const struct manifest_member *mb = find(r, name, "restart");
	pid_t pid;

	if (!mb || agent_local_check_binary(r) < 0) {
		return 1;
	}
	pid = agent_local_pid(r, mb->name);
	if (pid > 0) {
		stop_pid(r, pid);
		printf("%s: stopped (pid %d)\n", mb->name, (int)pid);
	}
	if (agent_local_start(r, mb, &pid) < 0) {
		return 1;
	}
	printf("%s: started (pid %d)\n", mb->name, (int)pid);
	fflush(stdout);
	return agent_local_wait_leader(r, mb, "restart") < 0 ? 1 : 0;
}
