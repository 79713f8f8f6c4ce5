/*
 * test_manifest.c - the manifest loader: the shipped examples load, every
 * error message is the one the table says (file:line:col: what; do), and
 * no input crashes or leaks (seed corpus, seeded mutations, failing every
 * allocation in turn).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/manifest.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "testlib.h"

/* Every diagnostic, as validate prints them, in one string. */
static char *diags_text(const struct manifest_diags *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	manifest_diags_print(d, f);
	fclose(f);
	return text;
}

static int load_text(const char *text, struct manifest **m, char **diags)
{
	struct manifest_diags d;
	int r;

	manifest_diags_init(&d);
	*m = NULL;
	r = manifest_load_buf("t.yaml", (const uint8_t *)text, strlen(text), m,
			      &d);
	*diags = diags_text(&d);
	manifest_diags_done(&d);
	return r;
}

static struct manifest *load_example(const char *rel, size_t *n_warnings)
{
	struct manifest_diags d;
	struct manifest *m = NULL;
	int r;

	manifest_diags_init(&d);
	r = manifest_load_file(testlib_src_path(rel), &m, &d);
	if (r != 0) {
		manifest_diags_print(&d, stderr);
	}
	ck_assert_int_eq(r, 0);
	*n_warnings = d.n_warnings;
	manifest_diags_done(&d);
	return m;
}

START_TEST(test_manifest_loads_scenario_b_cluster)
{
	size_t warnings;
	struct manifest *m = load_example("etc/cluster.yaml", &warnings);
	const struct manifest_member *mb;

	ck_assert_uint_eq(warnings, 0);
	ck_assert_str_eq(m->cluster_name, "etcd-cluster");
	ck_assert_str_eq(m->token, "etcd-cluster");
	ck_assert_uint_eq(m->n_members, 3);
	mb = manifest_find_member(m, "etcd-node02");
	ck_assert_ptr_nonnull(mb);
	ck_assert_str_eq(mb->address, "192.168.199.102");
	ck_assert_str_eq(mb->s.data_dir, "/opt/etcd/data");
	ck_assert_str_eq(mb->s.config_file, "/opt/etcd/conf/etcd.conf");
	ck_assert_str_eq(mb->s.binary, "/opt/etcd/bin/cetcd");
	ck_assert_uint_eq(mb->s.client_port, 2379);
	ck_assert_uint_eq(mb->s.peer_port, 2380);
	ck_assert_uint_eq(mb->s.listen.n, 1);
	ck_assert_str_eq(mb->s.listen.v[0], "127.0.0.1");
	ck_assert_str_eq(mb->s.user, "cetcd");
	ck_assert(mb->s.hostname);
	ck_assert(mb->s.hosts);
	ck_assert_ptr_null(manifest_find_member(m, "etcd-node04"));
	manifest_free(m);
}
END_TEST

START_TEST(test_manifest_loads_the_other_examples)
{
	size_t warnings;
	struct manifest *m;

	m = load_example("etc/single.yaml", &warnings);
	ck_assert_uint_eq(warnings, 1); /* 0.0.0.0 advertised, as scenario A */
	ck_assert_uint_eq(m->n_members, 1);
	ck_assert_uint_eq(m->members[0].s.advertise.n, 1);
	ck_assert(!m->members[0].s.hostname);
	ck_assert_uint_eq(m->members[0].s.env.n, 1);
	ck_assert_str_eq(m->members[0].s.env.v[0].key, "ETCD_ENABLE_V2");
	manifest_free(m);

	m = load_example("etc/local.yaml", &warnings);
	ck_assert_uint_eq(warnings, 0);
	ck_assert_uint_eq(m->n_members, 3);
	ck_assert_str_eq(m->members[2].address, "127.0.0.13");
	ck_assert_str_eq(m->members[2].s.data_dir,
			 "/var/lib/cetcd/etcd-node03");
	ck_assert_str_eq(m->members[2].s.config_file,
			 "/etc/cetcd/etcd-node03.conf");
	ck_assert_str_eq(m->members[2].s.unit, "cetcd@etcd-node03.service");
	manifest_free(m);

	m = load_example("etc/cluster.example.yaml", &warnings);
	ck_assert_uint_eq(warnings, 0);
	ck_assert_uint_eq(m->n_members, 3);
	manifest_free(m);
}
END_TEST

START_TEST(test_manifest_built_in_defaults_are_design_md_s)
{
	struct manifest *m;
	char *diags;
	int r;

	r = load_text("cluster: {name: c}\nmembers: [{name: a, address: "
		      "10.1.1.1}]\n",
		      &m, &diags);
	ck_assert_int_eq(r, 0);
	ck_assert_str_eq(diags, "");
	ck_assert_str_eq(m->token, "c");
	ck_assert_str_eq(m->members[0].s.unit, "cetcd.service");
	ck_assert_str_eq(m->members[0].s.config_file, "/etc/cetcd/cetcd.conf");
	ck_assert_str_eq(m->members[0].s.data_dir, "/var/lib/cetcd");
	ck_assert_str_eq(m->members[0].s.binary, "/usr/local/bin/cetcd");
	ck_assert_str_eq(m->members[0].s.user, "cetcd");
	ck_assert_uint_eq(m->members[0].s.start_timeout_ms, 600000);
	ck_assert_uint_eq(m->members[0].s.set, 0);
	ck_assert_int_eq(m->drill.mode, MANIFEST_DRILL_KILL);
	manifest_free(m);
	free(diags);
}
END_TEST

START_TEST(test_manifest_overrides_win_over_defaults)
{
	struct manifest *m;
	char *diags;
	int r;

	r = load_text(
	    "cluster:\n  name: c\n"
	    "defaults:\n  data_dir: /d/{name}\n  listen: [127.0.0.1]\n"
	    "  env:\n    ETCD_LOG_LEVEL: info\n    ETCD_ENABLE_V2: "
	    "\"true\"\n"
	    "members:\n"
	    "  - name: a\n    address: 10.1.1.1\n"
	    "  - name: b\n    address: 10.1.1.2\n    listen: []\n"
	    "    overrides:\n      peer_port: 2390\n      env:\n"
	    "        ETCD_LOG_LEVEL: debug\n"
	    "  - name: c\n    address: \"::1\"\n",
	    &m, &diags);
	ck_assert_msg(r == 0, "%s", diags);
	ck_assert_str_eq(m->members[0].s.data_dir, "/d/a");
	ck_assert_str_eq(m->members[1].s.data_dir, "/d/b");
	ck_assert_uint_eq(m->members[0].s.listen.n, 1);
	ck_assert_uint_eq(m->members[1].s.listen.n, 0);
	ck_assert_uint_eq(m->members[0].s.peer_port, 2380);
	ck_assert_uint_eq(m->members[1].s.peer_port, 2390);
	ck_assert_uint_eq(m->members[1].s.env.n, 2);
	ck_assert_str_eq(m->members[1].s.env.v[0].value, "debug");
	ck_assert_str_eq(m->members[0].s.env.v[0].value, "info");
	manifest_free(m);
	free(diags);
}
END_TEST

START_TEST(test_manifest_suggests_the_nearest_key)
{
	static const char *const keys[] = {"client_port", "peer_port",
					   "data_dir", "heartbeat_interval"};

	ck_assert_str_eq(manifest_suggest("clientPort", keys, 4),
			 "client_port");
	ck_assert_str_eq(manifest_suggest("peer_prot", keys, 4), "peer_port");
	ck_assert_str_eq(manifest_suggest("datadir", keys, 4), "data_dir");
	ck_assert_str_eq(manifest_suggest("heartbeat", keys, 4),
			 "heartbeat_interval");
	ck_assert_ptr_null(manifest_suggest("colour", keys, 4));
	ck_assert_ptr_null(manifest_suggest("", keys, 4));
}
END_TEST

START_TEST(test_manifest_parses_durations)
{
	uint64_t ms;

	ck_assert_int_eq(manifest_parse_duration("250ms", &ms), 0);
	ck_assert_uint_eq(ms, 250);
	ck_assert_int_eq(manifest_parse_duration("10s", &ms), 0);
	ck_assert_uint_eq(ms, 10000);
	ck_assert_int_eq(manifest_parse_duration("2m", &ms), 0);
	ck_assert_uint_eq(ms, 120000);
	ck_assert_int_eq(manifest_parse_duration("1h", &ms), 0);
	ck_assert_uint_eq(ms, 3600000);
	ck_assert_int_eq(manifest_parse_duration("75", &ms), 0);
	ck_assert_uint_eq(ms, 75);
	ck_assert_int_lt(manifest_parse_duration("s", &ms), 0);
	ck_assert_int_lt(manifest_parse_duration("1 s", &ms), 0);
	ck_assert_int_lt(manifest_parse_duration("1d", &ms), 0);
	ck_assert_int_lt(manifest_parse_duration("99999999999999999999h", &ms),
			 0);
}
END_TEST

START_TEST(test_manifest_url_brackets_ipv6)
{
	char url[64];

	ck_assert_int_eq(
	    manifest_url("http", "10.0.0.1", 2379, url, sizeof(url)), 0);
	ck_assert_str_eq(url, "http://10.0.0.1:2379");
	ck_assert_int_eq(
	    manifest_url("https", "fd00::1", 2380, url, sizeof(url)), 0);
	ck_assert_str_eq(url, "https://[fd00::1]:2380");
	ck_assert_int_eq(manifest_url("http", "10.0.0.1", 2379, url, 8),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(test_manifest_reports_a_missing_file)
{
	struct manifest_diags d;
	struct manifest *m = NULL;
	char *text;
	int r;

	manifest_diags_init(&d);
	r = manifest_load_file("/nonexistent/cluster.yaml", &m, &d);
	ck_assert_int_eq(r, -ENOENT);
	ck_assert_ptr_null(m);
	text = diags_text(&d);
	ck_assert_str_eq(text, "/nonexistent/cluster.yaml: cannot read the "
			       "manifest: No such file or directory; check "
			       "the path (-f MANIFEST)\n");
	free(text);
	manifest_diags_done(&d);
}
END_TEST

START_TEST(test_manifest_refuses_a_directory_and_a_huge_file)
{
	struct manifest_diags d;
	struct manifest *m = NULL;
	const char *dir = testlib_tmpdir();
	char want[4096], *text, *big;
	size_t n = MANIFEST_MAX_SIZE + 1;

	manifest_diags_init(&d);
	ck_assert_int_eq(manifest_load_file(dir, &m, &d), -EINVAL);
	text = diags_text(&d);
	snprintf(want, sizeof(want),
		 "%s: the manifest is not a regular file; give the path of a "
		 "YAML file (-f MANIFEST)\n",
		 dir);
	ck_assert_str_eq(text, want);
	free(text);
	manifest_diags_done(&d);

	big = mem_alloc(n);
	ck_assert_ptr_nonnull(big);
	memset(big, '#', n);
	manifest_diags_init(&d);
	ck_assert_int_eq(
	    manifest_load_buf("t.yaml", (const uint8_t *)big, n, &m, &d),
	    -ERR_CONFIG);
	text = diags_text(&d);
	ck_assert_str_eq(text, "t.yaml: the manifest is 1048577 bytes, more "
			       "than the 1048576 allowed; is this the right "
			       "file?\n");
	free(text);
	manifest_diags_done(&d);
	mem_free(big);
}
END_TEST

struct bad_case {
	const char *name;
	bool loads; /* only warnings */
	const char *yaml;
	const char *diags;
};

static const struct bad_case bad_cases[] = {
    {"yaml_syntax", false,
     "cluster:\n"
     "  name: c\n"
     "   bad: x\n"
     "members: []\n",
     "t.yaml:3:7: invalid YAML: mapping values are not allowed in this "
     "context; check the indentation and quoting there\n"},
    {"tab_indent", false,
     "cluster:\n"
     "\tname: c\n",
     "t.yaml:2:1: invalid YAML: a tab character; YAML indents with spaces "
     "only, so replace the tab with spaces\n"},
    {"alias", false,
     "cluster: &a\n"
     "  name: c\n"
     "members:\n"
     "  - *a\n",
     "t.yaml:4:5: alias *a: aliases are not supported; write the value out in "
     "full\n"},
    {"two_docs", false,
     "cluster:\n"
     "  name: c\n"
     "---\n"
     "members: []\n",
     "t.yaml:3:1: a second YAML document; a manifest is one document: remove "
     "this '---' and what follows, or split the file\n"},
    {"empty", false, "",
     "t.yaml:1:1: the manifest is empty; start from "
     "etc/cluster.example.yaml\n"},
    {"not_mapping", false,
     "- a\n"
     "- b\n",
     "t.yaml:1:1: the manifest is a list; it must be a mapping with cluster:, "
     "members: and optionally defaults: and drill:\n"},
    {"unknown_top", false,
     "cluster:\n"
     "  name: c\n"
     "member:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:1:1: no members section; add members: with one entry (name:, "
     "address:) per member\n"
     "t.yaml:3:1: unknown key 'member' in the manifest; did you mean "
     "'members'?\n"},
    {"no_cluster", false,
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:1:1: no cluster section; add cluster: with name: (and token:)\n"},
    {"no_members", false,
     "cluster:\n"
     "  name: c\n",
     "t.yaml:1:1: no members section; add members: with one entry (name:, "
     "address:) per member\n"},
    {"members_empty", false,
     "cluster:\n"
     "  name: c\n"
     "members: []\n",
     "t.yaml:3:10: members is empty; list at least one member\n"},
    {"members_map", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  name: n1\n",
     "t.yaml:4:3: members is a mapping; it must be a list of members, each '- "
     "name: ...' with address:\n"},
    {"cluster_no_name", false,
     "cluster:\n"
     "  token: t\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:2:3: cluster has no name; add name: (e.g. etcd-cluster)\n"},
    {"bad_cluster_name", false,
     "cluster:\n"
     "  name: \"a b\"\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:2:9: cluster name 'a b' is not a valid name; use up to 63 "
     "letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. "
     "etcd-cluster)\n"},
    {"bad_token", false,
     "cluster:\n"
     "  name: c\n"
     "  token: \"a$b\"\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:3:10: token 'a$b' holds a space, quote, backslash, '$', '`', '%' "
     "or control character; use letters, digits and punctuation such as - and "
     "_\n"},
    {"dup_key", false,
     "cluster:\n"
     "  name: c\n"
     "  name: d\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:3:3: key 'name' given twice in cluster (first at line 2); keep "
     "one\n"},
    {"unknown_default_key", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  heartbeat_intervall: 100ms\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:3: unknown key 'heartbeat_intervall' in defaults; did you mean "
     "'heartbeat_interval'?\n"},
    {"unknown_default_prefix", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  heartbeat: 100ms\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:3: unknown key 'heartbeat' in defaults; did you mean "
     "'heartbeat_interval'?\n"},
    {"unknown_default_far", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  colour: blue\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:3: unknown key 'colour' in defaults; the keys there are: "
     "client_port, peer_port, client_scheme, peer_scheme, install_dir, binary, "
     "config_file, data_dir, user, unit, start_timeout, heartbeat_interval, "
     "election_timeout, snapshot_count, quota_backend_bytes, hostname, hosts, "
     "listen, advertise, env\n"},
    {"port_type", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  client_port: [2379]\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:16: client_port is a list; it must be a port number\n"},
    {"port_range", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  client_port: 70000\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:16: client_port must be a port number, not '70000'; write a "
     "number from 1 to 65535\n"},
    {"port_text", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  peer_port: abc\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:14: peer_port must be a port number, not 'abc'; write a number "
     "from 1 to 65535\n"},
    {"port_clash", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  client_port: 2380\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:16: port clash: client_port and peer_port are both 2380; give "
     "them different ports (default 2379 and 2380)\n"},
    {"bool_type", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  hosts: yes\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:10: hosts must be true or false, not 'yes'; write true or "
     "false\n"},
    {"duration_bad", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  heartbeat_interval: 100 ms\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:23: heartbeat_interval: '100 ms' is not a duration; write a "
     "number with ms, s, m or h, e.g. 500ms or 10s\n"},
    {"election_small", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  heartbeat_interval: 300ms\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:23: election_timeout 1000ms is less than 5 times "
     "heartbeat_interval 300ms (etcd refuses it); raise election_timeout to at "
     "least 1500ms\n"},
    {"election_big", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  election_timeout: 60s\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:21: election_timeout 60000ms is longer than etcd's limit; give "
     "at most 50000ms\n"},
    {"size_bad", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  quota_backend_bytes: 8 gigs\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:24: quota_backend_bytes: '8 gigs' is not a size; write bytes or "
     "a number with KB, MB, GB, KiB, MiB, GiB or TiB (e.g. 8GiB)\n"},
    {"path_relative", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  data_dir: data\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:13: data_dir 'data' is not a usable path; give an absolute path "
     "of letters, digits and ._-+@: without '..' (use {name} for the member's "
     "name)\n"},
    {"path_dotdot", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  data_dir: /var/lib/../etc\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:13: data_dir '/var/lib/../etc' is not a usable path; give an "
     "absolute path of letters, digits and ._-+@: without '..' (use {name} for "
     "the member's name)\n"},
    {"data_dir_root", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  data_dir: /\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:13: data_dir is /; give the member a directory of its own, e.g. "
     "/var/lib/cetcd\n"},
    {"data_dir_private_tmp", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  data_dir: /var/tmp/cetcd/{name}\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:13: data_dir /var/tmp/cetcd/{name} is under /var/tmp, which the "
     "unit's sandbox hides from the member; choose a directory such as "
     "/var/lib/cetcd/{name}\n"},
    {"data_dir_home", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  data_dir: /home/op/cetcd\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:13: data_dir /home/op/cetcd is under /home, which the unit's "
     "sandbox hides from the member; choose a directory such as "
     "/var/lib/cetcd/{name}\n"},
    {"user_bad", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  user: Bob\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:9: user 'Bob' is not a valid user name; use lower-case letters, "
     "digits, '_' and '-' (e.g. cetcd)\n"},
    {"unit_bad", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  unit: cetcd\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:9: unit 'cetcd' is not a service unit name; write NAME.service "
     "(e.g. cetcd.service, or cetcd@{name}.service)\n"},
    {"unit_template", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  unit: cetcd@.service\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:9: unit 'cetcd@.service' is not a service unit name; write "
     "NAME.service (e.g. cetcd.service, or cetcd@{name}.service)\n"},
    {"scheme_bad", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  client_scheme: ftp\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:18: client_scheme must be http or https, not 'ftp'; write http "
     "or https\n"},
    {"listen_scalar", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  listen: 127.0.0.1\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:11: listen is a single value; it must be a list of IP "
     "addresses, e.g. [127.0.0.1]\n"},
    {"listen_bad_addr", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  listen: [localhost]\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:12: listen 'localhost' is not an IP address; the manifest maps "
     "names to addresses, so give an IPv4 or IPv6 address, e.g. "
     "192.168.199.101\n"},
    {"listen_dup", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  listen: [127.0.0.1, 127.0.0.1]\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:23: listen lists 127.0.0.1 twice; remove one\n"},
    {"env_not_etcd", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    FOO: bar\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:5: 'FOO' is not an ETCD_* variable; write etcd's flag in upper "
     "case with ETCD_ in front, e.g. ETCD_ENABLE_V2\n"},
    {"env_derived", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_NAME: x\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:5: ETCD_NAME is written by the agent from the member's name; "
     "set that instead of ETCD_NAME\n"},
    {"env_quote", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LOG_LEVEL: 'a\"b'\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:21: ETCD_LOG_LEVEL's value holds a quote, backslash, '$', '`', "
     "'%' or control character; the env file cannot carry it, so remove it\n"},
    {"env_url", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LISTEN_METRICS_URLS: http://1.2.3.4\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:31: bad URL 'http://1.2.3.4' in ETCD_LISTEN_METRICS_URLS: the "
     "port is missing; write http://ADDRESS:PORT, several separated by "
     "commas\n"},
    {"env_url_scheme", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LISTEN_METRICS_URLS: ftp://1.2.3.4:2381\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:31: bad URL 'ftp://1.2.3.4:2381' in ETCD_LISTEN_METRICS_URLS: "
     "the scheme must be http:// or https://; write http://ADDRESS:PORT, "
     "several separated by commas\n"},
    {"env_bool", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_ENABLE_V2: yes\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:21: ETCD_ENABLE_V2 must be true or false, not 'yes'; write true "
     "or false\n"},
    {"env_state", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_INITIAL_CLUSTER_STATE: old\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:33: ETCD_INITIAL_CLUSTER_STATE must be new or existing, not "
     "'old'; write new (a new cluster) or existing (joining one)\n"},
    {"env_typo", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_ENABEL_V2: \"true\"\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:5: warning: ETCD_ENABEL_V2 is not an etcd setting; did you mean "
     "ETCD_ENABLE_V2?\n"},
    {"env_map", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env: [ETCD_ENABLE_V2]\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:8: env is a list; it must be a mapping of ETCD_* variables, "
     "e.g. ETCD_ENABLE_V2: true\n"},
    {"member_no_name", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - address: 10.0.0.1\n",
     "t.yaml:4:5: member has no name; add name: (e.g. etcd-node01)\n"},
    {"member_no_address", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n",
     "t.yaml:4:5: member has no address; add address: with its IP address "
     "(e.g. 192.168.199.101)\n"},
    {"member_scalar", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - n1\n",
     "t.yaml:4:5: a member is a single value; each member is a mapping with "
     "name: and address:\n"},
    {"member_bad_name", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: \"n 1\"\n"
     "    address: 10.0.0.1\n",
     "t.yaml:4:11: member name 'n 1' is not a valid name; use up to 63 "
     "letters, digits, '.', '_' or '-', starting with a letter or digit (e.g. "
     "etcd-node01)\n"},
    {"member_hostname_underscore", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n_1\n"
     "    address: 10.0.0.1\n",
     "t.yaml:4:5: member name 'n_1' is not a valid host name, and hostname is "
     "true; rename the member (letters, digits, inner '-') or set hostname: "
     "false\n"},
    {"member_addr_host", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: node1.example\n",
     "t.yaml:5:14: address 'node1.example' is not an IP address; the manifest "
     "maps names to addresses, so give an IPv4 or IPv6 address, e.g. "
     "192.168.199.101\n"},
    {"member_addr_url", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: http://10.0.0.1:2379\n",
     "t.yaml:5:14: address 'http://10.0.0.1:2379' is not an IP address; give "
     "the address alone (no scheme, port or prefix), e.g. 192.168.199.101\n"},
    {"member_addr_bad_ip", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.256\n",
     "t.yaml:5:14: address '10.0.0.256' is not an IP address; the manifest "
     "maps names to addresses, so give an IPv4 or IPv6 address, e.g. "
     "192.168.199.101\n"},
    {"member_unknown_key", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    adress: 10.0.0.1\n",
     "t.yaml:4:5: member has no address; add address: with its IP address "
     "(e.g. 192.168.199.101)\n"
     "t.yaml:5:5: unknown key 'adress' in a member; did you mean 'address'?\n"},
    {"dup_name", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n1\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:6:5: duplicate member name 'n1' (first at line 4); give every "
     "member its own name\n"},
    {"dup_address", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.1\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:6:5: duplicate address 10.0.0.1:2379: member n1 (line 4) uses it "
     "too; give every member its own address (or its own client_port and "
     "peer_port)\n"},
    {"even", true,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n",
     "t.yaml:4:3: warning: 2 members tolerate as few failures as 1 would; use "
     "an odd number of members (add or remove one)\n"},
    {"wildcard_multi", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 0.0.0.0\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:5: member n1's address 0.0.0.0 is a wildcard, which its peers "
     "cannot reach; give the member's own IP address\n"},
    {"loopback_listen_clash", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  hostname: false\n"
     "  data_dir: /d/{name}\n"
     "  config_file: /c/{name}.conf\n"
     "  unit: u@{name}.service\n"
     "  listen: [127.0.0.1]\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 127.0.0.11\n"
     "  - name: n2\n"
     "    address: 127.0.0.12\n"
     "  - name: n3\n"
     "    address: 127.0.0.13\n",
     "t.yaml:8:11: port clash: members n1 and n2 run on one host and both "
     "listen on 127.0.0.1:2379; give each its own listen addresses or ports\n"},
    {"loopback_shared_dir", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  hostname: false\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 127.0.0.11\n"
     "  - name: n2\n"
     "    address: 127.0.0.12\n"
     "  - name: n3\n"
     "    address: 127.0.0.13\n",
     "t.yaml:8:5: members n1 and n2 run on one host but share data_dir "
     "/var/lib/cetcd; put {name} in it (e.g. data_dir: /var/lib/cetcd/{name})\n"
     "t.yaml:8:5: members n1 and n2 run on one host but share config_file "
     "/etc/cetcd/cetcd.conf; put {name} in it (e.g. config_file: "
     "/etc/cetcd/{name}.conf)\n"
     "t.yaml:8:5: members n1 and n2 run on one host but share unit "
     "cetcd.service; put {name} in it (e.g. unit: cetcd@{name}.service)\n"},
    {"listen_repeats_address", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    listen: [10.0.0.1]\n",
     "t.yaml:6:13: listen repeats 10.0.0.1, the member's own address (it "
     "always listens there); remove it\n"},
    {"listen_wildcard_mix", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    listen: [0.0.0.0]\n",
     "t.yaml:6:13: port clash: the wildcard address 0.0.0.0 covers every other "
     "address on the same ports; keep only the wildcard or only specific "
     "addresses\n"},
    {"overrides_listen", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    overrides:\n"
     "      listen: [127.0.0.1]\n",
     "t.yaml:7:15: listen and advertise belong to the member itself, not to "
     "overrides; move them up one level\n"},
    {"overrides_unknown", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    overrides:\n"
     "      datadir: /x\n",
     "t.yaml:7:7: unknown key 'datadir' in overrides; did you mean "
     "'data_dir'?\n"},
    {"drill_mode", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n"
     "drill:\n"
     "  mode: explode\n",
     "t.yaml:11:9: drill mode 'explode' is unknown; write kill, stop or "
     "pause\n"},
    {"drill_unknown", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n"
     "drill:\n"
     "  pasue: 5s\n",
     "t.yaml:11:3: unknown key 'pasue' in drill; did you mean 'pause'?\n"},
    {"drill_duration", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n"
     "drill:\n"
     "  pause: soon\n",
     "t.yaml:11:10: pause: 'soon' is not a duration; write a number with ms, "
     "s, m or h, e.g. 500ms or 10s\n"},
    {"null_value", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  data_dir:\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:12: data_dir has no value; give an absolute path\n"},
    {"deep", false,
     "a: "
     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
     "]]]]]]]\n",
     "t.yaml:1:35: nesting deeper than 32 levels; a manifest needs at most "
     "5\n"},
    {"nul_byte", false,
     "cluster:\n"
     "  name: \"c\\0d\"\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:2:9: cluster name contains a NUL byte; remove it\n"},
    {"root_user", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  user: root\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:9: warning: the member runs as root; use a dedicated user (the "
     "default, cetcd, is created by systemd/cetcd.sysusers)\n"},
    {"quota_warn", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  quota_backend_bytes: 16GiB\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:24: warning: quota_backend_bytes is above 8 GiB, etcd's "
     "recommended maximum; keep it at 8GiB or less\n"},
    {"https_no_cert", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  client_scheme: https\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:18: warning: client_scheme is https but env sets no "
     "ETCD_CERT_FILE; add ETCD_CERT_FILE and ETCD_KEY_FILE to env\n"},
    {"ipv6_member_ok", true,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: \"fd00::1\"\n"
     "    listen: [\"::1\"]\n",
     ""},
    {"same_address_other_ports_ok", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  hostname: false\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    overrides: {data_dir: /d/1, config_file: /c/1.conf, unit: "
     "a1.service}\n"
     "  - name: n2\n"
     "    address: 10.0.0.1\n"
     "    overrides: {client_port: 3379, peer_port: 3380, data_dir: /d/2, "
     "config_file: /c/2.conf, unit: a2.service}\n"
     "  - name: n3\n"
     "    address: 10.0.0.1\n"
     "    overrides: {client_port: 4379, peer_port: 4380, data_dir: /d/3, "
     "config_file: /c/3.conf, unit: a3.service}\n",
     ""},
    {"same_address_port_clash", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  hostname: false\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    overrides: {data_dir: /d/1, config_file: /c/1.conf, unit: "
     "a1.service}\n"
     "  - name: n2\n"
     "    address: 10.0.0.1\n"
     "    overrides: {client_port: 3379, peer_port: 3380, data_dir: /d/2, "
     "config_file: /c/2.conf, unit: a2.service}\n"
     "  - name: n3\n"
     "    address: 10.0.0.1\n"
     "    overrides: {client_port: 3379, peer_port: 4380, data_dir: /d/3, "
     "config_file: /c/3.conf, unit: a3.service}\n",
     "t.yaml:12:5: duplicate address 10.0.0.1:3379: member n2 (line 9) uses it "
     "too; give every member its own address (or its own client_port and "
     "peer_port)\n"},
    {"cluster_scalar", false,
     "cluster: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:1:10: cluster is a single value; it must be a mapping with name: "
     "and token:\n"},
    {"defaults_list", false,
     "cluster:\n"
     "  name: c\n"
     "defaults: [a]\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:3:11: defaults is a list; it must be a mapping of settings such "
     "as client_port: 2379\n"},
    {"drill_list", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n"
     "drill: [kill]\n",
     "t.yaml:10:8: drill is a list; it must be a mapping of drill settings "
     "such as mode: kill\n"},
    {"advertise_repeats", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    advertise: [10.0.0.1]\n",
     "t.yaml:6:16: advertise repeats 10.0.0.1, the member's own address "
     "(always advertised first); remove it\n"},
    {"hosts_bad_name", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  hostname: false\n"
     "members:\n"
     "  - name: n_1\n"
     "    address: 10.0.0.1\n",
     "t.yaml:6:5: member name 'n_1' is not a valid host name, and hosts is "
     "true; rename the member (letters, digits, inner '-') or set hosts: "
     "false\n"},
    {"hostnames_on_one_host", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  data_dir: /d/{name}\n"
     "  config_file: /c/{name}.conf\n"
     "  unit: u@{name}.service\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 127.0.0.11\n"
     "  - name: n2\n"
     "    address: 127.0.0.12\n"
     "  - name: n3\n"
     "    address: 127.0.0.13\n",
     "t.yaml:10:5: members n1 and n2 run on one host, which cannot take both "
     "names; set hostname: false\n"},
    {"loopback_mixed", true,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 127.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:5: warning: member n1's address 127.0.0.1 is loopback while "
     "other members are on other hosts, so they cannot reach it; give the "
     "host's own IP address\n"},
    {"https_peer", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  peer_scheme: https\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:16: warning: peer_scheme is https but env sets no "
     "ETCD_PEER_CERT_FILE; add ETCD_PEER_CERT_FILE and ETCD_PEER_KEY_FILE to "
     "env\n"},
    {"env_empty_url", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LISTEN_METRICS_URLS: http://1.2.3.4:1,,http://1.2.3.4:2\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:31: ETCD_LISTEN_METRICS_URLS has an empty URL; separate URLs "
     "with single commas\n"},
    {"env_url_bracket", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LISTEN_METRICS_URLS: http://[fd00::1:2381\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:31: bad URL 'http://[fd00::1:2381' in ETCD_LISTEN_METRICS_URLS: "
     "an IPv6 address needs a closing ']'; write http://ADDRESS:PORT, several "
     "separated by commas\n"},
    {"env_url_ok_ipv6", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LISTEN_METRICS_URLS: "
     "http://[fd00::1]:2381,http://metrics.example:2381\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     ""},
    {"env_twice", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LOG_LEVEL: info\n"
     "    ETCD_LOG_LEVEL: debug\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:6:5: ETCD_LOG_LEVEL given twice (first at line 5); keep one\n"},
    {"env_unknown_far", true,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_QQQQQQQQQQQQ: x\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:5: warning: ETCD_QQQQQQQQQQQQ is not an etcd 3.5 setting; check "
     "its spelling (etcd ignores unknown variables)\n"},
    {"env_key_list", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    [a]: b\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:5: an env key is a list; it must be an ETCD_* variable name\n"},
    {"env_value_map", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  env:\n"
     "    ETCD_LOG_LEVEL: {a: b}\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:5:21: ETCD_LOG_LEVEL is a mapping; it must be a single value\n"},
    {"drill_key_prefix", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n"
     "drill:\n"
     "  key_prefix: \"a b\"\n",
     "t.yaml:11:15: key_prefix 'a b' holds spaces, quotes or control "
     "characters; use a plain prefix such as /cetcd-drill/\n"},
    {"drill_ssh_user", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n"
     "drill:\n"
     "  ssh_user: Root\n",
     "t.yaml:11:13: ssh_user 'Root' is not a valid user name; use lower-case "
     "letters, digits, '_' and '-'\n"},
    {"start_timeout_short", false,
     "cluster:\n"
     "  name: c\n"
     "defaults:\n"
     "  start_timeout: 10ms\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:4:18: start_timeout: 10ms is too short; give at least 1000ms\n"},
    {"members_null_entry", false,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  -\n",
     "t.yaml:4:4: a member is empty; each member is a mapping with name: and "
     "address:\n"},
    {"unknown_etcd_var_in_overrides_ok", true,
     "cluster:\n"
     "  name: c\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "    overrides:\n"
     "      env: {ETCD_PRE_VOTE: \"true\"}\n",
     ""},
    {"key_not_scalar", false,
     "cluster:\n"
     "  name: c\n"
     "  [a]: b\n"
     "members:\n"
     "  - name: n1\n"
     "    address: 10.0.0.1\n"
     "  - name: n2\n"
     "    address: 10.0.0.2\n"
     "  - name: n3\n"
     "    address: 10.0.0.3\n",
     "t.yaml:3:3: a key in cluster is a list; keys are plain names such as "
     "'name'\n"},
};

START_TEST(test_manifest_reports_each_mistake_at_its_line_and_column)
{
	const struct bad_case *c = &bad_cases[_i];
	struct manifest *m;
	char *diags;
	int r;

	r = load_text(c->yaml, &m, &diags);
	ck_assert_msg(strcmp(diags, c->diags) == 0,
		      "case %s:\nexpected:\n%sgot:\n%s", c->name, c->diags,
		      diags);
	if (c->loads) {
		ck_assert_msg(r == 0, "case %s: %d", c->name, r);
		ck_assert_ptr_nonnull(m);
	} else {
		ck_assert_msg(r == -ERR_CONFIG, "case %s: %d", c->name, r);
		ck_assert_ptr_null(m);
	}
	manifest_free(m);
	free(diags);
}
END_TEST

/* Each message is "what is wrong; what to do". */
START_TEST(test_manifest_every_message_says_what_to_do)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const char *p = bad_cases[i].diags;

		while (*p) {
			const char *nl = strchr(p, '\n');

			ck_assert_ptr_nonnull(nl);
			ck_assert_msg(memmem(p, (size_t)(nl - p), "; ", 2),
				      "case %s: %.*s", bad_cases[i].name,
				      (int)(nl - p), p);
			ck_assert_msg(strncmp(p, "t.yaml:", 7) == 0,
				      "case %s: no position",
				      bad_cases[i].name);
			p = nl + 1;
		}
	}
}
END_TEST

static void load_bytes(const uint8_t *data, size_t len)
{
	ck_assert_int_eq(manifest_fuzz_one(data, len), 0);
}

/* The seed corpus of the fuzz target replays without a crash or leak. */
START_TEST(test_manifest_survives_the_seed_corpus)
{
	const char *dir = testlib_src_path("tests/agent/corpus");
	char path[4096];
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(dir);

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		struct buf b = BUF_INIT;
		FILE *f;
		char chunk[4096];
		size_t got;

		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		ck_assert_ptr_nonnull(f);
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
			ck_assert_int_eq(buf_append(&b, chunk, got), 0);
		}
		fclose(f);
		load_bytes(b.data, b.len);
		buf_done(&b);
		n++;
	}
	closedir(d);
	ck_assert_uint_ge(n, 10);
}
END_TEST

/* Seeded byte flips, cuts and splices of the error table's inputs. */
START_TEST(test_manifest_survives_random_mutations)
{
	static const char junk[] = "\t\n:-[]{}&*!|>'\"%@`#,?\\\0\xff ";
	uint64_t st = testlib_seed();
	size_t n_cases = sizeof(bad_cases) / sizeof(bad_cases[0]);
	int iter;

	for (iter = 0; iter < 3000; iter++) {
		const char *src =
		    bad_cases[testlib_rand_below(&st, n_cases)].yaml;
		size_t len = strlen(src), k, n_mut;
		uint8_t buf[2048];

		if (len == 0 || len > sizeof(buf) / 2) {
			continue;
		}
		memcpy(buf, src, len);
		n_mut = 1 + testlib_rand_below(&st, 4);
		for (k = 0; k < n_mut; k++) {
			size_t pos = testlib_rand_below(&st, len);

			switch (testlib_rand_below(&st, 4)) {
			case 0:
				buf[pos] = (uint8_t)junk[testlib_rand_below(
				    &st, sizeof(junk) - 1)];
				break;
			case 1:
				len = pos + 1;
				break;
			case 2:
				buf[pos] ^=
				    (uint8_t)(1u << testlib_rand_below(&st, 8));
				break;
			default:
				if (len + 8 <= sizeof(buf)) {
					memmove(buf + pos + 8, buf + pos,
						len - pos);
					memcpy(buf + pos, "  - [&a ", 8);
					len += 8;
				}
				break;
			}
		}
		load_bytes(buf, len);
	}
}
END_TEST

/* The repeated text of each[i] until the manifest is about max bytes. */
static char *repeat(const char *head, const char *each, const char *tail,
		    size_t max)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_append_str(&b, head), 0);
	while (b.len + strlen(each) + strlen(tail) < max) {
		ck_assert_int_eq(buf_append_str(&b, each), 0);
	}
	ck_assert_int_eq(buf_append_str(&b, tail), 0);
	return (char *)buf_steal(&b, NULL);
}

/*
 * Inputs near the size limit that would make pairwise checks quadratic:
 * each is refused (or capped) quickly; the Check timeout fails a hang.
 */
START_TEST(test_manifest_stays_linear_on_huge_inputs)
{
	static const struct {
		const char *head, *each, *tail;
	} shapes[] = {
	    {"cluster:\n", "  name: c\n", "members: []\n"},
	    {"", "zzz: 1\n", ""},
	    {"cluster: {name: c}\nmembers:\n",
	     "  - {name: a, address: 10.0.0.1}\n", ""},
	    {"cluster: {name: c}\ndefaults:\n  env:\n",
	     "    ETCD_LOG_LEVEL: info\n", "members: []\n"},
	    {"cluster: {name: c}\ndefaults:\n  listen: [", "127.0.0.1, ",
	     "]\nmembers: []\n"},
	    {"cluster: {name: c}\nmembers: [", "[", "]\n"},
	};
	size_t i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		char *text = repeat(shapes[i].head, shapes[i].each,
				    shapes[i].tail, MANIFEST_MAX_SIZE - 16);
		struct manifest_diags d;
		struct manifest *m = NULL;

		manifest_diags_init(&d);
		ck_assert_int_eq(manifest_load_buf("big.yaml",
						   (const uint8_t *)text,
						   strlen(text), &m, &d),
				 -ERR_CONFIG);
		ck_assert_uint_le(d.n, 102);
		manifest_diags_done(&d);
		mem_free(text);
	}
}
END_TEST

/* Fail the 1st, 2nd, ... allocation: -ENOMEM each time, then success. */
START_TEST(test_manifest_handles_every_allocation_failure)
{
	struct buf b = BUF_INIT;
	FILE *f = fopen(testlib_src_path("etc/cluster.example.yaml"), "rb");
	char chunk[4096];
	size_t got;
	long n;

	ck_assert_ptr_nonnull(f);
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		ck_assert_int_eq(buf_append(&b, chunk, got), 0);
	}
	fclose(f);
	for (n = 0;; n++) {
		struct manifest_diags d;
		struct manifest *m = NULL;
		int r;

		manifest_diags_init(&d);
		mem_fail_after(n);
		r = manifest_load_buf("x.yaml", b.data, b.len, &m, &d);
		mem_fail_reset();
		manifest_diags_done(&d);
		if (r == 0) {
			manifest_free(m);
			break;
		}
		ck_assert_msg(r == -ENOMEM, "allocation %ld: %d", n, r);
		ck_assert_ptr_null(m);
	}
	ck_assert_int_gt(n, 100);
	buf_done(&b);
}
END_TEST

static Suite *manifest_suite(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_manifest_loads_scenario_b_cluster);
	tcase_add_test(tc, test_manifest_loads_the_other_examples);
	tcase_add_test(tc, test_manifest_built_in_defaults_are_design_md_s);
	tcase_add_test(tc, test_manifest_overrides_win_over_defaults);
	tcase_add_test(tc, test_manifest_suggests_the_nearest_key);
	tcase_add_test(tc, test_manifest_parses_durations);
	tcase_add_test(tc, test_manifest_url_brackets_ipv6);
	tcase_add_test(tc, test_manifest_reports_a_missing_file);
	tcase_add_test(tc, test_manifest_refuses_a_directory_and_a_huge_file);
	tcase_add_loop_test(
	    tc, test_manifest_reports_each_mistake_at_its_line_and_column, 0,
	    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_manifest_every_message_says_what_to_do);
	tcase_add_test(tc, test_manifest_survives_the_seed_corpus);
	tcase_add_test(tc, test_manifest_survives_random_mutations);
	tcase_add_test(tc, test_manifest_handles_every_allocation_failure);
	tcase_add_test(tc, test_manifest_stays_linear_on_huge_inputs);
	suite_add_tcase(s, tc);
	return s;
}

TEST_SUITE(manifest_suite)
