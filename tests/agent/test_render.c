/*
 * test_render.c - rendered files: env files byte-equal to scenario.md B's
 * (tests/agent/golden, copied from scenario.md), unit templates equal to
 * a render with the default layout, the hosts block kept in place and
 * idempotent, plans that write atomically once and then report
 * "unchanged", dry runs that write nothing, and the unified diff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/diff.h"
#include "agent/fsutil.h"
#include "agent/manifest.h"
#include "agent/render.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "testlib.h"

static struct manifest *load(const char *path)
{
	struct manifest_diags d;
	struct manifest *m = NULL;
	int r;

	manifest_diags_init(&d);
	r = manifest_load_file(path, &m, &d);
	if (r != 0) {
		manifest_diags_print(&d, stderr);
	}
	ck_assert_int_eq(r, 0);
	manifest_diags_done(&d);
	return m;
}

static struct manifest *load_text(const char *text)
{
	struct manifest_diags d;
	struct manifest *m = NULL;
	int r;

	manifest_diags_init(&d);
	r = manifest_load_buf("t.yaml", (const uint8_t *)text, strlen(text), &m,
			      &d);
	if (r != 0) {
		manifest_diags_print(&d, stderr);
	}
	ck_assert_int_eq(r, 0);
	manifest_diags_done(&d);
	return m;
}

/* The whole file as a string (caller frees with mem_free). */
static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(fsutil_read(path, 1 << 20, &b), 0);
	if (!b.data) {
		return mem_strdup("");
	}
	return (char *)buf_steal(&b, NULL);
}

static void put_file(const char *path, const char *text)
{
	ck_assert_int_eq(fsutil_write_atomic(path, text, strlen(text), 0644),
			 0);
}

START_TEST(test_render_env_files_equal_scenario_b_byte_for_byte)
{
	static const char *const names[] = {"etcd-node01", "etcd-node02",
					    "etcd-node03"};
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	size_t i;

	for (i = 0; i < 3; i++) {
		struct buf b = BUF_INIT;
		char rel[64];
		char *golden;

		snprintf(rel, sizeof(rel), "tests/agent/golden/%s.conf",
			 names[i]);
		golden = slurp(testlib_src_path(rel));
		ck_assert_int_eq(
		    render_env_text(m, manifest_find_member(m, names[i]), &b),
		    0);
		ck_assert_msg(strcmp((char *)b.data, golden) == 0,
			      "%s:\n%s\nexpected:\n%s", names[i],
			      (char *)b.data, golden);
		buf_done(&b);
		mem_free(golden);
	}
	manifest_free(m);
}
END_TEST

START_TEST(test_render_env_of_scenario_a_keeps_its_settings)
{
	struct manifest *m = load(testlib_src_path("etc/single.yaml"));
	struct buf b = BUF_INIT;

	ck_assert_int_eq(render_env_text(m, &m->members[0], &b), 0);
	ck_assert_str_eq(
	    (char *)b.data,
	    "ETCD_NAME=apisix\n"
	    "ETCD_DATA_DIR=\"/opt/etcd/data\"\n"
	    "ETCD_LISTEN_PEER_URLS=\"http://0.0.0.0:2380\"\n"
	    "ETCD_LISTEN_CLIENT_URLS=\"http://0.0.0.0:2379\"\n"
	    "\n"
	    "ETCD_INITIAL_ADVERTISE_PEER_URLS=\"http://0.0.0.0:2380,"
	    "http://127.0.0.1:2380\"\n"
	    "ETCD_INITIAL_CLUSTER=\"apisix=http://0.0.0.0:2380,"
	    "apisix=http://127.0.0.1:2380\"\n"
	    "ETCD_INITIAL_CLUSTER_TOKEN=\"etcd-cluster\"\n"
	    "ETCD_ADVERTISE_CLIENT_URLS=\"http://0.0.0.0:2379,"
	    "http://127.0.0.1:2379\"\n"
	    "\n"
	    "ETCD_ENABLE_V2=\"true\"\n");
	buf_done(&b);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_env_writes_tuning_only_when_given)
{
	struct manifest *m = load_text(
	    "cluster: {name: c, token: t}\n"
	    "defaults:\n  heartbeat_interval: 50ms\n  election_timeout: 1s\n"
	    "  snapshot_count: 5000\n  quota_backend_bytes: 4GiB\n"
	    "  client_port: 12379\n  peer_port: 12380\n"
	    "  env: {ETCD_LOG_LEVEL: warn}\n"
	    "members: [{name: a, address: \"fd00::1\"}]\n");
	struct buf b = BUF_INIT;

	ck_assert_int_eq(render_env_text(m, &m->members[0], &b), 0);
	ck_assert_str_eq((char *)b.data,
			 "ETCD_NAME=a\n"
			 "ETCD_DATA_DIR=\"/var/lib/cetcd\"\n"
			 "ETCD_LISTEN_PEER_URLS=\"http://[fd00::1]:12380\"\n"
			 "ETCD_LISTEN_CLIENT_URLS=\"http://[fd00::1]:12379\"\n"
			 "\n"
			 "ETCD_INITIAL_ADVERTISE_PEER_URLS=\"http://"
			 "[fd00::1]:12380\"\n"
			 "ETCD_INITIAL_CLUSTER=\"a=http://[fd00::1]:12380\"\n"
			 "ETCD_INITIAL_CLUSTER_TOKEN=\"t\"\n"
			 "ETCD_ADVERTISE_CLIENT_URLS=\"http://"
			 "[fd00::1]:12379\"\n"
			 "\n"
			 "ETCD_HEARTBEAT_INTERVAL=\"50\"\n"
			 "ETCD_ELECTION_TIMEOUT=\"1000\"\n"
			 "ETCD_SNAPSHOT_COUNT=\"5000\"\n"
			 "ETCD_QUOTA_BACKEND_BYTES=\"4294967296\"\n"
			 "ETCD_LOG_LEVEL=\"warn\"\n");
	buf_done(&b);
	manifest_free(m);
}
END_TEST

/* systemd/NAME.in with @bindir@ filled in and comment lines dropped. */
static char *template_text(const char *rel, const char *bindir)
{
	char *src = slurp(testlib_src_path(rel)), *line, *save = NULL;
	struct buf b = BUF_INIT;

	for (line = strtok_r(src, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *at = strstr(line, "@bindir@");

		if (line[0] == '#') {
			continue;
		}
		if (at) {
			*at = '\0';
			ck_assert_int_eq(
			    buf_printf(&b, "%s%s%s\n", line, bindir, at + 8),
			    0);
		} else {
			ck_assert_int_eq(buf_printf(&b, "%s\n", line), 0);
		}
	}
	mem_free(src);
	return (char *)buf_steal(&b, NULL);
}

/* A rendered unit without comments, the Description and blank runs. */
static char *unit_body(const char *text, const char *name, const char *as)
{
	struct buf b = BUF_INIT;
	char *copy = mem_strdup(text), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *p = line;

		if (line[0] == '#' || strncmp(line, "Description=", 12) == 0) {
			continue;
		}
		/* Put the template's specifier back in place of the name. */
		while (*p) {
			if (name && strncmp(p, name, strlen(name)) == 0) {
				ck_assert_int_eq(buf_append_str(&b, as), 0);
				p += strlen(name);
			} else {
				ck_assert_int_eq(
				    buf_append_byte(&b, (uint8_t)*p++), 0);
			}
		}
		ck_assert_int_eq(buf_append_byte(&b, '\n'), 0);
	}
	mem_free(copy);
	return (char *)buf_steal(&b, NULL);
}

static char *strip_description(char *text)
{
	char *body = unit_body(text, NULL, NULL);

	mem_free(text);
	return body;
}

START_TEST(test_render_unit_matches_the_systemd_templates)
{
	struct manifest *m;
	struct buf b = BUF_INIT;
	char *want, *got;

	m = load_text("cluster: {name: c}\n"
		      "members: [{name: a, address: 10.1.1.1}]\n");
	ck_assert_int_eq(render_unit_text(m, &m->members[0], &b), 0);
	want = strip_description(
	    template_text("systemd/cetcd.service.in", "/usr/local/bin"));
	got = unit_body((char *)b.data, NULL, NULL);
	ck_assert_str_eq(got, want);
	mem_free(want);
	mem_free(got);
	buf_done(&b);
	manifest_free(m);

	m = load_text("cluster: {name: c}\n"
		      "defaults:\n  config_file: /etc/cetcd/{name}.conf\n"
		      "  data_dir: /var/lib/cetcd/{name}\n"
		      "  unit: cetcd@{name}.service\n  hostname: false\n"
		      "members: [{name: node7, address: 127.0.0.7}]\n");
	ck_assert_int_eq(render_unit_text(m, &m->members[0], &b), 0);
	want = strip_description(
	    template_text("systemd/cetcd@.service.in", "/usr/local/bin"));
	got = unit_body((char *)b.data, "node7", "%i");
	ck_assert_str_eq(got, want);
	mem_free(want);
	mem_free(got);
	buf_done(&b);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_unit_is_sandboxed_and_waits_for_time_sync)
{
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	struct buf b = BUF_INIT;
	const char *t;

	ck_assert_int_eq(render_unit_text(m, &m->members[0], &b), 0);
	t = (const char *)b.data;
	ck_assert_ptr_nonnull(strstr(t, "\nType=notify\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nUser=cetcd\n"));
	ck_assert_ptr_null(strstr(t, "User=root"));
	ck_assert_ptr_nonnull(strstr(t, "\nAfter=time-sync.target\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nTimeoutStartSec=600s\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nProtectSystem=strict\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nReadWritePaths=/opt/etcd/data\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nPrivateTmp=true\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nNoNewPrivileges=true\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nProtectHome=true\n"));
	ck_assert_ptr_nonnull(
	    strstr(t, "\nEnvironmentFile=/opt/etcd/conf/etcd.conf\n"));
	ck_assert_ptr_nonnull(strstr(t, "\nExecStart=/opt/etcd/bin/cetcd\n"));
	/* /opt is not under /var/lib: apply creates the directory. */
	ck_assert_ptr_null(strstr(t, "StateDirectory="));
	ck_assert_ptr_nonnull(strstr(t, "\nCapabilityBoundingSet=\n"));
	buf_done(&b);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_unit_grants_low_ports_and_infinite_timeout)
{
	struct manifest *m =
	    load_text("cluster: {name: c}\n"
		      "defaults: {client_port: 443, start_timeout: infinity}\n"
		      "members: [{name: a, address: 10.1.1.1}]\n");
	struct buf b = BUF_INIT;

	ck_assert_int_eq(render_unit_text(m, &m->members[0], &b), 0);
	ck_assert_ptr_nonnull(strstr(
	    (char *)b.data, "\nAmbientCapabilities=CAP_NET_BIND_SERVICE\n"));
	ck_assert_ptr_nonnull(
	    strstr((char *)b.data, "\nTimeoutStartSec=infinity\n"));
	buf_done(&b);
	manifest_free(m);
}
END_TEST

static const char hosts_before[] = "127.0.0.1\tlocalhost\n"
				   "# a comment the operator wrote\n"
				   "::1 localhost ip6-localhost\n"
				   "10.9.9.9 other-host\n";

static const char cetcd_block[] =
    "# BEGIN cetcd\n"
    "# Members of cluster etcd-cluster, written by cetcd-agent render: "
    "change the\n"
    "# manifest rather than these lines.\n"
    "192.168.199.101 etcd-node01\n"
    "192.168.199.102 etcd-node02\n"
    "192.168.199.103 etcd-node03\n"
    "# END cetcd\n";

START_TEST(test_render_hosts_appends_the_block_and_keeps_other_lines)
{
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	struct buf out = BUF_INIT, again = BUF_INIT, why = BUF_INIT,
		   notes = BUF_INIT;
	char want[1024];

	ck_assert_int_eq(render_hosts_text(m, hosts_before,
					   strlen(hosts_before), &out, &why,
					   &notes),
			 0);
	snprintf(want, sizeof(want), "%s%s", hosts_before, cetcd_block);
	ck_assert_str_eq((char *)out.data, want);
	/* Idempotent: rendering the result again gives the same bytes. */
	ck_assert_int_eq(render_hosts_text(m, (char *)out.data, out.len, &again,
					   &why, &notes),
			 0);
	ck_assert_str_eq((char *)again.data, (char *)out.data);
	ck_assert_uint_eq(notes.len, 0);
	buf_done(&out);
	buf_done(&again);
	buf_done(&why);
	buf_done(&notes);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_hosts_replaces_an_old_block_in_place)
{
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	struct buf out = BUF_INIT, why = BUF_INIT, notes = BUF_INIT;
	const char *old = "127.0.0.1 localhost\n"
			  "# BEGIN cetcd\n"
			  "10.0.0.1 etcd-node01\n"
			  "# END cetcd\n"
			  "10.9.9.9 other-host\n"
			  "no newline at the end";
	char want[1024];

	ck_assert_int_eq(
	    render_hosts_text(m, old, strlen(old), &out, &why, &notes), 0);
	snprintf(want, sizeof(want),
		 "127.0.0.1 localhost\n%s10.9.9.9 other-host\n"
		 "no newline at the end",
		 cetcd_block);
	ck_assert_str_eq((char *)out.data, want);
	buf_done(&out);
	buf_done(&why);
	buf_done(&notes);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_hosts_creates_a_missing_file_and_ends_last_line)
{
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	struct buf out = BUF_INIT, why = BUF_INIT, notes = BUF_INIT;
	char want[1024];

	ck_assert_int_eq(render_hosts_text(m, NULL, 0, &out, &why, &notes), 0);
	ck_assert_str_eq((char *)out.data, cetcd_block);
	buf_reset(&out);
	ck_assert_int_eq(
	    render_hosts_text(m, "1.2.3.4 x", 9, &out, &why, &notes), 0);
	snprintf(want, sizeof(want), "1.2.3.4 x\n%s", cetcd_block);
	ck_assert_str_eq((char *)out.data, want);
	buf_done(&out);
	buf_done(&why);
	buf_done(&notes);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_hosts_refuses_unbalanced_markers)
{
	static const char *const bad[] = {
	    "# BEGIN cetcd\n1.1.1.1 a\n",
	    "1.1.1.1 a\n# END cetcd\n",
	    "# BEGIN cetcd\n# END cetcd\n# BEGIN cetcd\n# END cetcd\n",
	    "# BEGIN cetcd\n# BEGIN cetcd\n# END cetcd\n",
	};
	static const char *const why_start[] = {
	    "the hosts file has '# BEGIN cetcd' at line 1 but no",
	    "the hosts file has '# END cetcd' at line 2 without",
	    "the hosts file has a second '# BEGIN cetcd' at line 3",
	    "the hosts file has a second '# BEGIN cetcd' at line 2",
	};
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	size_t i;

	for (i = 0; i < 4; i++) {
		struct buf out = BUF_INIT, why = BUF_INIT, notes = BUF_INIT;

		ck_assert_int_eq(render_hosts_text(m, bad[i], strlen(bad[i]),
						   &out, &why, &notes),
				 -ERR_PARSE);
		ck_assert_msg(strncmp((char *)why.data, why_start[i],
				      strlen(why_start[i])) == 0,
			      "%zu: %s", i, (char *)why.data);
		buf_done(&out);
		buf_done(&why);
		buf_done(&notes);
	}
	manifest_free(m);
}
END_TEST

START_TEST(test_render_hosts_notes_lines_that_map_members_elsewhere)
{
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	struct buf out = BUF_INIT, why = BUF_INIT, notes = BUF_INIT;
	const char *old = "127.0.0.1 localhost\n"
			  "10.0.0.2 etcd-node02 # stale\n"
			  "192.168.199.103 etcd-node03\n"
			  "# BEGIN cetcd\n"
			  "# END cetcd\n"
			  "10.0.0.3 ETCD-NODE03\n";

	ck_assert_int_eq(
	    render_hosts_text(m, old, strlen(old), &out, &why, &notes), 0);
	ck_assert_str_eq((char *)notes.data,
			 "hosts line 2 maps etcd-node02 to 10.0.0.2 but the "
			 "manifest says 192.168.199.102, and this line comes "
			 "first, so it wins; remove or fix that line\n"
			 "hosts line 6 maps ETCD-NODE03 to 10.0.0.3 but the "
			 "manifest says 192.168.199.103 (the cetcd block above "
			 "wins); remove or fix that line\n");
	buf_done(&out);
	buf_done(&why);
	buf_done(&notes);
	manifest_free(m);
}
END_TEST

static void paths_for(struct render_paths *p, const char *root)
{
	p->root = root;
	p->unit_dir = "/etc/systemd/system";
	p->hosts_file = "/etc/hosts";
	p->hostname_file = "/etc/hostname";
}

static char *root_path(const char *root, const char *abs)
{
	char *p = fsutil_join_root(root, abs);

	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(test_render_plan_writes_once_then_reports_unchanged)
{
	const char *root = testlib_tmpdir();
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	const struct manifest_member *mb =
	    manifest_find_member(m, "etcd-node03");
	struct render_plan plan;
	struct render_paths paths;
	struct buf why = BUF_INIT;
	char *hosts = root_path(root, "/etc/hosts"), *text, *env, *golden;
	char *out_text = NULL;
	size_t out_len = 0;
	struct stat st1, st2;
	FILE *out;

	paths_for(&paths, root);
	put_file(hosts, hosts_before);
	ck_assert_int_eq(render_plan_build(m, mb, &paths, &plan, &why), 0);
	ck_assert_uint_eq(plan.n, 4);
	ck_assert_uint_eq(render_plan_changes(&plan), 4);
	ck_assert_int_eq(plan.t[0].state, RENDER_CREATE);
	ck_assert_int_eq(plan.t[3].state, RENDER_UPDATE);
	out = open_memstream(&out_text, &out_len);
	ck_assert_int_eq(render_plan_write(&plan, out, &why), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(out_text, "/etc/hosts: updated\n"));
	ck_assert_ptr_nonnull(strstr(out_text, "/opt/etcd/conf/etcd.conf: "
					       "created\n"));
	free(out_text);
	render_plan_done(&plan);

	env = root_path(root, "/opt/etcd/conf/etcd.conf");
	text = slurp(env);
	golden = slurp(testlib_src_path("tests/agent/golden/etcd-node03.conf"));
	ck_assert_str_eq(text, golden);
	mem_free(text);
	mem_free(golden);
	text = slurp(hosts);
	ck_assert_int_eq(strncmp(text, hosts_before, strlen(hosts_before)), 0);
	mem_free(text);
	ck_assert_int_eq(stat(env, &st1), 0);

	/* Second run: nothing differs, nothing is written. */
	ck_assert_int_eq(render_plan_build(m, mb, &paths, &plan, &why), 0);
	ck_assert_uint_eq(render_plan_changes(&plan), 0);
	out = open_memstream(&out_text, &out_len);
	ck_assert_int_eq(render_plan_write(&plan, out, &why), 0);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(out_text, "/etc/hostname: unchanged\n"));
	ck_assert_ptr_null(strstr(out_text, "created"));
	ck_assert_ptr_null(strstr(out_text, "updated"));
	free(out_text);
	render_plan_done(&plan);
	ck_assert_int_eq(stat(env, &st2), 0);
	ck_assert_uint_eq(st1.st_ino, st2.st_ino); /* not replaced */
	mem_free(env);
	mem_free(hosts);
	buf_done(&why);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_dry_run_diff_writes_nothing)
{
	const char *root = testlib_tmpdir();
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	struct render_plan plan;
	struct render_paths paths;
	struct buf why = BUF_INIT, diff = BUF_INIT;
	char *hosts = root_path(root, "/etc/hosts"), *text;
	char *env = root_path(root, "/opt/etcd/conf/etcd.conf");

	paths_for(&paths, root);
	put_file(hosts, hosts_before);
	ck_assert_int_eq(
	    render_plan_build(m, &m->members[0], &paths, &plan, &why), 0);
	ck_assert_int_eq(render_plan_diff(&plan, &diff), 0);
	render_plan_done(&plan);
	ck_assert_ptr_nonnull(strstr((char *)diff.data, "--- /dev/null\n"));
	ck_assert_ptr_nonnull(
	    strstr((char *)diff.data, "+ETCD_NAME=etcd-node01\n"));
	ck_assert_ptr_nonnull(strstr((char *)diff.data,
				     " 10.9.9.9 other-host\n+# BEGIN cetcd\n"));
	/* Nothing was written. */
	ck_assert_int_eq(access(env, F_OK), -1);
	text = slurp(hosts);
	ck_assert_str_eq(text, hosts_before);
	mem_free(text);
	mem_free(hosts);
	mem_free(env);
	buf_done(&diff);
	buf_done(&why);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_plan_skips_hostname_and_hosts_when_off)
{
	const char *root = testlib_tmpdir();
	struct manifest *m = load(testlib_src_path("etc/single.yaml"));
	struct render_plan plan;
	struct render_paths paths;
	struct buf why = BUF_INIT;

	paths_for(&paths, root);
	ck_assert_int_eq(
	    render_plan_build(m, &m->members[0], &paths, &plan, &why), 0);
	ck_assert_uint_eq(plan.n, 2);
	ck_assert_str_eq(plan.t[0].what, "env file");
	ck_assert_str_eq(plan.t[1].what, "unit");
	render_plan_done(&plan);
	buf_done(&why);
	manifest_free(m);
}
END_TEST

START_TEST(test_render_plan_refuses_a_hosts_file_with_a_broken_block)
{
	const char *root = testlib_tmpdir();
	struct manifest *m = load(testlib_src_path("etc/cluster.yaml"));
	struct render_plan plan;
	struct render_paths paths;
	struct buf why = BUF_INIT;
	char *hosts = root_path(root, "/etc/hosts");

	paths_for(&paths, root);
	put_file(hosts, "# BEGIN cetcd\n");
	ck_assert_int_eq(
	    render_plan_build(m, &m->members[0], &paths, &plan, &why),
	    -ERR_PARSE);
	ck_assert_ptr_nonnull(strstr((char *)why.data, "no '# END cetcd'"));
	ck_assert_uint_eq(plan.n, 0);
	mem_free(hosts);
	buf_done(&why);
	manifest_free(m);
}
END_TEST

START_TEST(test_fsutil_write_atomic_keeps_mode_and_leaves_no_temp)
{
	const char *dir = testlib_tmpdir();
	char path[4096];
	struct stat st;
	char *text;

	snprintf(path, sizeof(path), "%s/a/b/c.conf", dir);
	ck_assert_int_eq(fsutil_write_atomic(path, "one\n", 4, 0600), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_int_eq(fsutil_write_atomic(path, "two\n", 4, 0644), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0640);
	text = slurp(path);
	ck_assert_str_eq(text, "two\n");
	mem_free(text);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	{
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1",
			 path);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_int_eq(
	    fsutil_write_atomic("/proc/cetcd-no/x", "x", 1, 0644) < 0, 1);
}
END_TEST

START_TEST(test_fsutil_write_atomic_replaces_a_link_s_target)
{
	const char *dir = testlib_tmpdir();
	char link[4096], target[4096];
	struct stat st;
	char *text;

	snprintf(target, sizeof(target), "%s/real-hosts", dir);
	snprintf(link, sizeof(link), "%s/hosts", dir);
	put_file(target, "old\n");
	ck_assert_int_eq(symlink("real-hosts", link), 0);
	ck_assert_int_eq(fsutil_write_atomic(link, "new\n", 4, 0644), 0);
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	text = slurp(target);
	ck_assert_str_eq(text, "new\n");
	mem_free(text);
}
END_TEST

START_TEST(test_diff_prints_unified_hunks)
{
	struct buf out = BUF_INIT;
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *b = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13";

	ck_assert_int_eq(
	    diff_unified("a", a, strlen(a), "b", b, strlen(b), &out), 0);
	ck_assert_str_eq((char *)out.data, "--- a\n+++ b\n"
					   "@@ -1,6 +1,6 @@\n"
					   " 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
					   "@@ -10,3 +10,4 @@\n"
					   " 10\n 11\n 12\n+13\n"
					   "\\ No newline at end of file\n");
	buf_reset(&out);
	ck_assert_int_eq(
	    diff_unified("a", a, strlen(a), "b", a, strlen(a), &out), 0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(diff_unified("/dev/null", "", 0, "n", "x\n", 2, &out),
			 0);
	ck_assert_str_eq((char *)out.data,
			 "--- /dev/null\n+++ n\n@@ -0,0 +1 @@\n+x\n");
	buf_reset(&out);
	ck_assert_int_eq(diff_unified("o", "x\ny\n", 4, "n", "", 0, &out), 0);
	ck_assert_str_eq((char *)out.data,
			 "--- o\n+++ n\n@@ -1,2 +0,0 @@\n-x\n-y\n");
	buf_done(&out);
}
END_TEST

static Suite *render_suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc,
		       test_render_env_files_equal_scenario_b_byte_for_byte);
	tcase_add_test(tc, test_render_env_of_scenario_a_keeps_its_settings);
	tcase_add_test(tc, test_render_env_writes_tuning_only_when_given);
	tcase_add_test(tc, test_render_unit_matches_the_systemd_templates);
	tcase_add_test(tc,
		       test_render_unit_is_sandboxed_and_waits_for_time_sync);
	tcase_add_test(tc,
		       test_render_unit_grants_low_ports_and_infinite_timeout);
	tcase_add_test(
	    tc, test_render_hosts_appends_the_block_and_keeps_other_lines);
	tcase_add_test(tc, test_render_hosts_replaces_an_old_block_in_place);
	tcase_add_test(
	    tc, test_render_hosts_creates_a_missing_file_and_ends_last_line);
	tcase_add_test(tc, test_render_hosts_refuses_unbalanced_markers);
	tcase_add_test(
	    tc, test_render_hosts_notes_lines_that_map_members_elsewhere);
	tcase_add_test(tc, test_render_plan_writes_once_then_reports_unchanged);
	tcase_add_test(tc, test_render_dry_run_diff_writes_nothing);
	tcase_add_test(tc, test_render_plan_skips_hostname_and_hosts_when_off);
	tcase_add_test(
	    tc, test_render_plan_refuses_a_hosts_file_with_a_broken_block);
	tcase_add_test(tc,
		       test_fsutil_write_atomic_keeps_mode_and_leaves_no_temp);
	tcase_add_test(tc, test_fsutil_write_atomic_replaces_a_link_s_target);
	tcase_add_test(tc, test_diff_prints_unified_hunks);
	suite_add_tcase(s, tc);
	return s;
}

TEST_SUITE(render_suite)
