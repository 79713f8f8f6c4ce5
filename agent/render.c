/*
 * render.c - one member's env file, unit, hostname and hosts block
 * (render.h).
 */
#include "agent/render.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "agent/diff.h"
#include "agent/fsutil.h"
#include "base/err.h"
#include "base/mem.h"

/* Largest current file read back for comparison (a hosts file). */
#define RENDER_MAX_READ (4u * 1024 * 1024)

/* Append "scheme://addr:port" for addr, comma-separated after the first. */
static int append_url(struct buf *b, bool *first, const char *scheme,
		      const char *addr, uint64_t port)
{
	char url[128];
	int r = manifest_url(scheme, addr, port, url, sizeof(url));

	if (r < 0) {
		return r;
	}
	r = buf_printf(b, "%s%s", *first ? "" : ",", url);
	*first = false;
	return r;
}

/* The member's address followed by the extra ones in sv. */
static int append_urls(struct buf *b, const char *scheme,
		       const struct manifest_member *mb,
		       const struct manifest_strv *sv, uint64_t port)
{
	bool first = true;
	size_t i;
	int r;

	r = append_url(b, &first, scheme, mb->address, port);
	for (i = 0; i < sv->n && r == 0; i++) {
		r = append_url(b, &first, scheme, sv->v[i], port);
	}
	return r;
}

int render_env_text(const struct manifest *m, const struct manifest_member *mb,
		    struct buf *out)
{
	const struct manifest_settings *s = &mb->s;
	bool tail = false;
	size_t i, j;
	int r;

	/* etcd compat: scenario.md B's file, line for line. */
	r = buf_printf(out, "ETCD_NAME=%s\nETCD_DATA_DIR=\"%s\"\n", mb->name,
		       s->data_dir);
	r = r ?: buf_append_str(out, "ETCD_LISTEN_PEER_URLS=\"");
	r = r ?: append_urls(out, s->peer_scheme, mb, &s->listen, s->peer_port);
	r = r ?: buf_append_str(out, "\"\nETCD_LISTEN_CLIENT_URLS=\"");
	r = r
		?: append_urls(out, s->client_scheme, mb, &s->listen,
			       s->client_port);
	r = r
		?: buf_append_str(out,
				  "\"\n\nETCD_INITIAL_ADVERTISE_PEER_URLS=\"");
	r = r
		?: append_urls(out, s->peer_scheme, mb, &s->advertise,
			       s->peer_port);
	r = r ?: buf_append_str(out, "\"\nETCD_INITIAL_CLUSTER=\"");
	for (i = 0; i < m->n_members && r == 0; i++) {
		const struct manifest_member *p = &m->members[i];
		bool first = true;

		/* name=url for each advertised peer URL, as etcd reads it. */
		for (j = 0; j <= p->s.advertise.n && r == 0; j++) {
			const char *addr =
			    j == 0 ? p->address : p->s.advertise.v[j - 1];

			r = buf_printf(out, "%s%s=", i == 0 && first ? "" : ",",
				       p->name);
			first = false;
			if (r == 0) {
				bool f = true;

				r = append_url(out, &f, p->s.peer_scheme, addr,
					       p->s.peer_port);
			}
		}
	}
	r = r
		?: buf_printf(out, "\"\nETCD_INITIAL_CLUSTER_TOKEN=\"%s\"\n",
			      m->token);
	r = r ?: buf_append_str(out, "ETCD_ADVERTISE_CLIENT_URLS=\"");
	r = r
		?: append_urls(out, s->client_scheme, mb, &s->advertise,
			       s->client_port);
	r = r ?: buf_append_str(out, "\"\n");
	if (r < 0) {
		return r;
	}
	tail = (s->set &
		((1u << MK_HEARTBEAT_INTERVAL) | (1u << MK_ELECTION_TIMEOUT) |
		 (1u << MK_SNAPSHOT_COUNT) | (1u << MK_QUOTA_BACKEND_BYTES))) ||
	       s->env.n > 0;
	if (tail) {
		r = buf_append_str(out, "\n");
	}
	if (r == 0 && (s->set & (1u << MK_HEARTBEAT_INTERVAL))) {
		r = buf_printf(out, "ETCD_HEARTBEAT_INTERVAL=\"%llu\"\n",
			       (unsigned long long)s->heartbeat_ms);
	}
	if (r == 0 && (s->set & (1u << MK_ELECTION_TIMEOUT))) {
		r = buf_printf(out, "ETCD_ELECTION_TIMEOUT=\"%llu\"\n",
			       (unsigned long long)s->election_ms);
	}
	if (r == 0 && (s->set & (1u << MK_SNAPSHOT_COUNT))) {
		r = buf_printf(out, "ETCD_SNAPSHOT_COUNT=\"%llu\"\n",
			       (unsigned long long)s->snapshot_count);
	}
	if (r == 0 && (s->set & (1u << MK_QUOTA_BACKEND_BYTES))) {
		r = buf_printf(out, "ETCD_QUOTA_BACKEND_BYTES=\"%llu\"\n",
			       (unsigned long long)s->quota_bytes);
	}
	for (i = 0; i < s->env.n && r == 0; i++) {
		r = buf_printf(out, "%s=\"%s\"\n", s->env.v[i].key,
			       s->env.v[i].value);
	}
	return r;
}

static int append_ms(struct buf *b, uint64_t ms)
{
	if (ms == 0) {
		return buf_append_str(b, "infinity");
	}
	if (ms % 1000 == 0) {
		return buf_printf(b, "%llus", (unsigned long long)(ms / 1000));
	}
	return buf_printf(b, "%llums", (unsigned long long)ms);
}

int render_unit_text(const struct manifest *m, const struct manifest_member *mb,
		     struct buf *out)
{
	const struct manifest_settings *s = &mb->s;
	bool low_port = s->client_port < 1024 || s->peer_port < 1024;
	int r;

	r = buf_printf(
	    out,
	    "# cetcd member %s of cluster %s, rendered by cetcd-agent:\n"
	    "# change the manifest and render again rather than editing "
	    "this file.\n"
	    "[Unit]\n"
	    "Description=cetcd member %s (cluster %s)\n"
	    "Documentation=https://github.com/etcd-io/etcd\n"
	    "After=network.target\n"
	    "After=network-online.target\n"
	    "After=time-sync.target\n"
	    "Wants=network-online.target\n"
	    "\n"
	    "[Service]\n"
	    "User=%s\n"
	    "Type=notify\n"
	    "EnvironmentFile=%s\n"
	    "WorkingDirectory=%s\n"
	    "ExecStart=%s\n"
	    "Restart=always\n"
	    "RestartSec=10s\n"
	    "LimitNOFILE=65536\n"
	    "# A new cluster's members are ready only once a quorum runs, "
	    "so members\n"
	    "# started in parallel wait for each other: allow for the "
	    "slowest host.\n"
	    "TimeoutStartSec=",
	    mb->name, m->cluster_name, mb->name, m->cluster_name, s->user,
	    s->config_file, s->data_dir, s->binary);
	r = r ?: append_ms(out, s->start_timeout_ms);
	r = r
		?: buf_printf(out,
			      "\n"
			      "# Sandboxing: the data directory is the only "
			      "place the member writes.\n"
			      "UMask=0077\n"
			      "ProtectSystem=strict\n"
			      "ReadWritePaths=%s\n",
			      s->data_dir);
	if (r == 0 && strncmp(s->data_dir, "/var/lib/", 9) == 0 &&
	    s->data_dir[9] != '\0') {
		/* systemd creates it, owned by the user, before starting. */
		r = buf_printf(out,
			       "StateDirectory=%s\nStateDirectoryMode=0700\n",
			       s->data_dir + 9);
	}
	r = r
		?: buf_printf(
		       out,
		       "ProtectHome=true\n"
		       "PrivateTmp=true\n"
		       "PrivateDevices=true\n"
		       "NoNewPrivileges=true\n"
		       "ProtectClock=true\n"
		       "ProtectHostname=true\n"
		       "ProtectKernelTunables=true\n"
		       "ProtectKernelModules=true\n"
		       "ProtectKernelLogs=true\n"
		       "ProtectControlGroups=true\n"
		       "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
		       "RestrictNamespaces=true\n"
		       "RestrictRealtime=true\n"
		       "RestrictSUIDSGID=true\n"
		       "LockPersonality=true\n"
		       "MemoryDenyWriteExecute=true\n"
		       "SystemCallArchitectures=native\n"
		       "SystemCallFilter=@system-service\n"
		       "SystemCallErrorNumber=EPERM\n"
		       "CapabilityBoundingSet=%s\n"
		       "AmbientCapabilities=%s\n"
		       "\n"
		       "[Install]\n"
		       "WantedBy=multi-user.target\n",
		       low_port ? "CAP_NET_BIND_SERVICE" : "",
		       low_port ? "CAP_NET_BIND_SERVICE" : "");
	return r;
}

int render_hostname_text(const struct manifest_member *mb, struct buf *out)
{
	return buf_printf(out, "%s\n", mb->name);
}

static bool is_any_addr(const char *a)
{
	return strcmp(a, "0.0.0.0") == 0 || strcmp(a, "::") == 0;
}

int render_hosts_block(const struct manifest *m, struct buf *out)
{
	size_t i;
	int r;

	r = buf_printf(out,
		       RENDER_HOSTS_BEGIN
		       "\n"
		       "# Members of cluster %s, written by cetcd-agent "
		       "render: change the\n"
		       "# manifest rather than these lines.\n",
		       m->cluster_name);
	for (i = 0; i < m->n_members && r == 0; i++) {
		if (is_any_addr(m->members[i].address)) {
			continue; /* a wildcard names no host */
		}
		r = buf_printf(out, "%s %s\n", m->members[i].address,
			       m->members[i].name);
	}
	return r ?: buf_append_str(out, RENDER_HOSTS_END "\n");
}

/* Is line (len bytes, no newline) the marker, allowing trailing blanks? */
static bool is_marker(const char *line, size_t len, const char *marker)
{
	size_t n = strlen(marker);

	if (len < n || memcmp(line, marker, n) != 0) {
		return false;
	}
	for (; n < len; n++) {
		if (!isspace((unsigned char)line[n])) {
			return false;
		}
	}
	return true;
}

/* Note lines outside the block that map a member's name elsewhere. */
static int note_conflicts(const struct manifest *m, const char *line,
			  size_t len, size_t lineno, bool after,
			  struct buf *notes)
{
	char copy[1024], *save = NULL, *addr, *name;
	const char *hash = memchr(line, '#', len);
	size_t i;
	int r = 0;

	if (hash) {
		len = (size_t)(hash - line);
	}
	if (len >= sizeof(copy)) {
		return 0;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	addr = strtok_r(copy, " \t\r", &save);
	if (!addr) {
		return 0;
	}
	while ((name = strtok_r(NULL, " \t\r", &save)) && r == 0) {
		for (i = 0; i < m->n_members && r == 0; i++) {
			const struct manifest_member *mb = &m->members[i];

			if (strcasecmp(name, mb->name) == 0 &&
			    strcmp(addr, mb->address) != 0 &&
			    !is_any_addr(mb->address)) {
				r = buf_printf(
				    notes,
				    "hosts line %zu maps %s to %s but "
				    "the manifest says %s%s; remove or "
				    "fix that line\n",
				    lineno, name, addr, mb->address,
				    after ? " (the cetcd block above "
					    "wins)"
					  : ", and this line comes "
					    "first, so it wins");
			}
		}
	}
	return r;
}

int render_hosts_text(const struct manifest *m, const char *old, size_t old_len,
		      struct buf *out, struct buf *why, struct buf *notes)
{
	size_t pos = 0, lineno = 0, begin_off = 0, end_off = 0;
	size_t begin_line = 0, end_line = 0;
	int r;

	if (!old) {
		old = "";
		old_len = 0;
	}
	while (pos < old_len) {
		const char *nl = memchr(old + pos, '\n', old_len - pos);
		size_t len = (nl ? (size_t)(nl - old) : old_len) - pos;
		size_t next = nl ? pos + len + 1 : old_len;

		lineno++;
		if (is_marker(old + pos, len, RENDER_HOSTS_BEGIN)) {
			if (begin_line) {
				return buf_printf(why,
						  "the hosts file has a second "
						  "'%s' at line %zu (first at "
						  "line %zu); remove one block "
						  "by hand",
						  RENDER_HOSTS_BEGIN, lineno,
						  begin_line)
					   ?: -ERR_PARSE;
			}
			begin_line = lineno;
			begin_off = pos;
		} else if (is_marker(old + pos, len, RENDER_HOSTS_END)) {
			if (!begin_line || end_line) {
				return buf_printf(why,
						  "the hosts file has '%s' at "
						  "line %zu without a '%s' "
						  "before it; remove the stray "
						  "marker by hand",
						  RENDER_HOSTS_END, lineno,
						  RENDER_HOSTS_BEGIN)
					   ?: -ERR_PARSE;
			}
			end_line = lineno;
			end_off = next;
		} else if (!begin_line || end_line) {
			r = note_conflicts(m, old + pos, len, lineno,
					   end_line > 0, notes);
			if (r < 0) {
				return r;
			}
		}
		pos = next;
	}
	if (begin_line && !end_line) {
		return buf_printf(why,
				  "the hosts file has '%s' at line %zu but no "
				  "'%s' after it; add the end marker or remove "
				  "the block by hand",
				  RENDER_HOSTS_BEGIN, begin_line,
				  RENDER_HOSTS_END)
			   ?: -ERR_PARSE;
	}
	if (begin_line) {
		r = buf_append(out, old, begin_off);
		r = r ?: render_hosts_block(m, out);
		r = r ?: buf_append(out, old + end_off, old_len - end_off);
		return r;
	}
	r = buf_append(out, old, old_len);
	if (r == 0 && old_len > 0 && old[old_len - 1] != '\n') {
		r = buf_append_byte(out, '\n');
	}
	return r ?: render_hosts_block(m, out);
}

/* ---- plans -------------------------------------------------------------- */

static int target_add(struct render_plan *plan, const char *root,
		      const char *dir, const char *file, const char *what,
		      struct render_target **out)
{
	struct render_target *t = &plan->t[plan->n];
	struct buf p = BUF_INIT;
	int r;

	r = dir ? buf_printf(&p, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir,
			     file)
		: buf_append_str(&p, file);
	if (r < 0) {
		buf_done(&p);
		return r;
	}
	memset(t, 0, sizeof(*t));
	t->path = fsutil_join_root(root, (const char *)p.data);
	buf_done(&p);
	if (!t->path) {
		return -ENOMEM;
	}
	t->what = what;
	t->mode = 0644;
	plan->n++;
	*out = t;
	return 0;
}

/* Read what is at t->path now. */
static int target_read(struct render_target *t, struct buf *why)
{
	int r = fsutil_read(t->path, RENDER_MAX_READ, &t->old);

	if (r == -ENOENT) {
		t->exists = false;
		return 0;
	}
	if (r < 0) {
		int w = buf_printf(why, "cannot read %s: %s", t->path,
				   strerror(-r));

		return w < 0 ? w : r;
	}
	t->exists = true;
	return 0;
}

static void target_judge(struct render_target *t)
{
	if (!t->exists) {
		t->state = RENDER_CREATE;
	} else if (t->old.len == t->content.len &&
		   (t->old.len == 0 ||
		    memcmp(t->old.data, t->content.data, t->old.len) == 0)) {
		t->state = RENDER_UNCHANGED;
	} else {
		t->state = RENDER_UPDATE;
	}
}

int render_plan_build(const struct manifest *m,
		      const struct manifest_member *mb,
		      const struct render_paths *paths,
		      struct render_plan *plan, struct buf *why)
{
	struct render_target *t;
	size_t i;
	int r;

	memset(plan, 0, sizeof(*plan));
	r = target_add(plan, paths->root, NULL, mb->s.config_file, "env file",
		       &t);
	r = r ?: target_read(t, why);
	r = r ?: render_env_text(m, mb, &t->content);
	r = r
		?: target_add(plan, paths->root, paths->unit_dir, mb->s.unit,
			      "unit", &t);
	r = r ?: target_read(t, why);
	r = r ?: render_unit_text(m, mb, &t->content);
	if (r == 0 && mb->s.hostname) {
		r = target_add(plan, paths->root, NULL, paths->hostname_file,
			       "hostname", &t);
		r = r ?: target_read(t, why);
		r = r ?: render_hostname_text(mb, &t->content);
	}
	if (r == 0 && mb->s.hosts) {
		r = target_add(plan, paths->root, NULL, paths->hosts_file,
			       "hosts", &t);
		r = r ?: target_read(t, why);
		r = r
			?: render_hosts_text(m, (const char *)t->old.data,
					     t->old.len, &t->content, why,
					     &plan->notes);
	}
	if (r < 0) {
		render_plan_done(plan);
		return r;
	}
	for (i = 0; i < plan->n; i++) {
		target_judge(&plan->t[i]);
	}
	return 0;
}

void render_plan_done(struct render_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->n; i++) {
		mem_free(plan->t[i].path);
		buf_done(&plan->t[i].content);
		buf_done(&plan->t[i].old);
	}
	buf_done(&plan->notes);
	memset(plan, 0, sizeof(*plan));
}

size_t render_plan_changes(const struct render_plan *plan)
{
	size_t i, n = 0;

	for (i = 0; i < plan->n; i++) {
		n += plan->t[i].state != RENDER_UNCHANGED;
	}
	return n;
}

int render_plan_diff(const struct render_plan *plan, struct buf *out)
{
	size_t i;
	int r = 0;

	for (i = 0; i < plan->n && r == 0; i++) {
		const struct render_target *t = &plan->t[i];

		if (t->state == RENDER_UNCHANGED) {
			continue;
		}
		r = diff_unified(t->exists ? t->path : "/dev/null",
				 t->old.data ? (const char *)t->old.data : "",
				 t->old.len, t->path,
				 (const char *)t->content.data, t->content.len,
				 out);
	}
	return r;
}

int render_plan_write(struct render_plan *plan, FILE *out, struct buf *why)
{
	static const char *const names[] = {
	    [RENDER_UNCHANGED] = "unchanged",
	    [RENDER_CREATE] = "created",
	    [RENDER_UPDATE] = "updated",
	};
	size_t i;
	int r;

	for (i = 0; i < plan->n; i++) {
		struct render_target *t = &plan->t[i];

		if (t->state != RENDER_UNCHANGED) {
			r = fsutil_write_atomic(t->path, t->content.data,
						t->content.len, t->mode);
			if (r < 0) {
				int w = buf_printf(why, "cannot write %s: %s",
						   t->path, strerror(-r));

				return w < 0 ? w : r;
			}
		}
		fprintf(out, "%s: %s\n", t->path, names[t->state]);
	}
	return 0;
}
