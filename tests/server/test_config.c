#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/mem.h"
#include "server/config.h"
#include "server/ids.h"
#include "testlib.h"

/* A NULL-terminated vector of words, storage included. */
struct vec {
	char *v[96];
	int n;
	char store[8192];
	size_t used;
};

static void vec_add(struct vec *a, const char *s, size_t len)
{
	ck_assert_int_lt(a->n + 1, (int)(sizeof(a->v) / sizeof(a->v[0])));
	ck_assert_uint_lt(a->used + len + 1, sizeof(a->store));
	memcpy(a->store + a->used, s, len);
	a->store[a->used + len] = '\0';
	a->v[a->n++] = a->store + a->used;
	a->v[a->n] = NULL;
	a->used += len + 1;
}

/* Words of s separated by single spaces (s may be NULL or empty). */
static void vec_split(struct vec *a, const char *s)
{
	while (s && *s) {
		size_t len = strcspn(s, " ");

		if (len) {
			vec_add(a, s, len);
		}
		s += len + (s[len] == ' ');
	}
}

/*
 * Read a systemd EnvironmentFile the way systemd does for these files:
 * KEY=VALUE lines, blank lines and # comments skipped, one pair of
 * surrounding double quotes removed.
 */
static void vec_load_env(struct vec *a, const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");

	ck_assert_msg(f != NULL, "cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		char *eq, *v, out[1024];
		size_t len = strcspn(line, "\r\n");

		line[len] = '\0';
		if (line[0] == '\0' || line[0] == '#') {
			continue;
		}
		eq = strchr(line, '=');
		ck_assert_ptr_nonnull(eq);
		v = eq + 1;
		len = strlen(v);
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
			v[len - 1] = '\0';
			v++;
		}
		snprintf(out, sizeof(out), "%.*s=%s", (int)(eq - line), line,
			 v);
		vec_add(a, out, strlen(out));
	}
	fclose(f);
}

static int run_vec(struct vec *argv, struct vec *env, struct config **c,
		   char **msg)
{
	*c = NULL;
	*msg = NULL;
	return config_parse(argv->n, argv->v, env->v, c, msg);
}

static int run(const char *args, const char *envs, struct config **c,
	       char **msg)
{
	static struct vec argv, env;

	memset(&argv, 0, sizeof(argv));
	memset(&env, 0, sizeof(env));
	vec_add(&argv, "cetcd", 5);
	vec_split(&argv, args);
	vec_split(&env, envs);
	return run_vec(&argv, &env, c, msg);
}

static struct config *ok(const char *args, const char *envs)
{
	struct config *c;
	char *msg;
	int r = run(args, envs, &c, &msg);

	ck_assert_msg(r == 0, "args '%s' env '%s': %d %s", args,
		      envs ? envs : "", r, msg ? msg : "");
	return c;
}

static bool has_warning(const struct config *c, const char *sub)
{
	for (size_t i = 0; i < c->n_warnings; i++) {
		if (strstr(c->warnings[i], sub)) {
			return true;
		}
	}
	return false;
}

static void assert_urls(const struct config_urls *u, const char *want)
{
	char got[1024] = "";

	for (size_t i = 0; i < u->n; i++) {
		strcat(got, i ? "," : "");
		strcat(got, u->v[i].url);
	}
	ck_assert_str_eq(got, want);
}

static const char *hex(uint64_t id)
{
	static char h[4][IDS_HEX_LEN];
	static int k;

	return ids_format(id, h[k++ % 4]);
}

/* ---- bad configurations: each gives one message naming the problem ---- */

static const struct bad {
	const char *args;
	const char *env;
	const char *want;
} bad[] = {
    /* Go's flag package */
    {"--name", NULL, "flag needs an argument: -name"},
    {"--foo", NULL, "flag provided but not defined: -foo"},
    {"-foo=1", NULL, "flag provided but not defined: -foo"},
    {"somearg", NULL, "'somearg' is not a valid flag"},
    {"---name x", NULL, "bad flag syntax: ---name"},
    {"--name x -- y", NULL, "'y' is not a valid flag"},
    {"--enable-v2 false", NULL, "'false' is not a valid flag"},
    {"--enable-v2=maybe", NULL,
     "invalid boolean value \"maybe\" for -enable-v2"},
    {"-v x", NULL, "'x' is not a valid flag"},
    /* values */
    {NULL, "ETCD_ENABLE_V2=maybe",
     "invalid value \"maybe\" for ETCD_ENABLE_V2: parse error"},
    {"--heartbeat-interval abc", NULL,
     "invalid value \"abc\" for flag -heartbeat-interval: parse error"},
    {NULL, "ETCD_HEARTBEAT_INTERVAL=abc",
     "invalid value \"abc\" for ETCD_HEARTBEAT_INTERVAL: parse error"},
    {"--heartbeat-interval 99999999999", NULL, "value out of range"},
    {"--election-timeout 1e3", NULL,
     "invalid value \"1e3\" for flag -election-timeout"},
    {"--snapshot-count -1", NULL,
     "invalid value \"-1\" for flag -snapshot-count: parse error"},
    {"--max-txn-ops many", NULL,
     "invalid value \"many\" for flag -max-txn-ops"},
    {"--max-request-bytes 1.5", NULL,
     "invalid value \"1.5\" for flag -max-request-bytes"},
    {"--quota-backend-bytes 8G", NULL,
     "invalid value \"8G\" for flag -quota-backend-bytes"},
    {"--initial-cluster-state old", NULL,
     "invalid value \"old\" for flag -initial-cluster-state: valid values "
     "are \"new\" or \"existing\""},
    {"--auto-compaction-mode daily", NULL,
     "unknown auto-compaction-mode \"daily\""},
    {"--experimental-watch-progress-notify-interval 5", NULL,
     "invalid value \"5\" for flag "
     "-experimental-watch-progress-notify-interval"},
    {"--auto-compaction-retention 1y", NULL,
     "invalid value \"1y\" for flag -auto-compaction-retention"},
    {"--auto-compaction-mode revision --auto-compaction-retention 1h", NULL,
     "invalid value \"1h\" for flag -auto-compaction-retention"},
    {"--log-level loud", NULL, "invalid value \"loud\" for flag -log-level"},
    {"--logger json", NULL, "invalid value \"json\" for flag -logger"},
    /* timing, etcd's rules */
    {"--election-timeout 400 --heartbeat-interval 100", NULL,
     "--election-timeout[400ms] should be at least as 5 times as "
     "--heartbeat-interval[100ms]"},
    {"--election-timeout 60000 --heartbeat-interval 1000", NULL,
     "--election-timeout[60000ms] is too long, and should be set less "
     "than 50000ms"},
    {"--heartbeat-interval 0", NULL, "--heartbeat-interval must be >0"},
    {"--election-timeout 0", NULL, "--election-timeout must be >0"},
    /* URLs */
    {"--listen-client-urls http://localhost --advertise-client-urls "
     "http://localhost:2379",
     NULL,
     "invalid value \"http://localhost\" for flag -listen-client-urls: URL "
     "address does not have the form \"host:port\": http://localhost (add "
     "the port, e.g. http://localhost:2379)"},
    {NULL, "ETCD_LISTEN_PEER_URLS=http://127.0.0.1",
     "invalid value \"http://127.0.0.1\" for ETCD_LISTEN_PEER_URLS: URL "
     "address does not have the form \"host:port\""},
    {"--listen-peer-urls ftp://127.0.0.1:2380", NULL,
     "URL scheme must be http, https, unix, or unixs: ftp://127.0.0.1:2380"},
    {"--listen-peer-urls 127.0.0.1:2380", NULL,
     "URL scheme must be http, https, unix, or unixs: 127.0.0.1:2380 "
     "(write URLs as http://host:port"},
    {"--advertise-client-urls http://127.0.0.1:2379/v3", NULL,
     "URL must not contain a path: http://127.0.0.1:2379/v3 (remove "
     "\"/v3\")"},
    {"--advertise-client-urls http://127.0.0.1:2379/", NULL,
     "URL must not contain a path"},
    {"--listen-peer-urls http://127.0.0.1:99999", NULL,
     "URL port must be a number from 1 to 65535"},
    {"--listen-peer-urls http://127.0.0.1:", NULL,
     "does not have the form \"host:port\""},
    {"--listen-peer-urls http://::1:2380", NULL,
     "does not have the form \"host:port\""},
    {"--listen-client-urls https://127.0.0.1:2379 --advertise-client-urls "
     "https://127.0.0.1:2379",
     NULL, "https://127.0.0.1:2379: TLS is not supported yet"},
    {"--listen-client-urls unix://sock:0 --advertise-client-urls "
     "http://127.0.0.1:2379",
     NULL, "unix sockets are not supported yet"},
    {"--listen-peer-urls http://myhost:2380", NULL,
     "--listen-peer-urls \"http://myhost:2380\": expected IP in URL for "
     "binding (http://myhost:2380)"},
    {"--initial-advertise-peer-urls http://:2380", NULL,
     "--initial-advertise-peer-urls \"http://:2380\" must be \"host:port\""},
    {"--listen-client-urls http://127.0.0.1:2379", NULL,
     "--advertise-client-urls is required when --listen-client-urls is set "
     "explicitly"},
    {NULL, "ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:2379",
     "--advertise-client-urls is required when --listen-client-urls is set "
     "explicitly (ETCD_LISTEN_CLIENT_URLS is"},
    /* the initial cluster */
    {"--name n1 --initial-cluster n2=http://127.0.0.1:2380", NULL,
     "couldn't find local name \"n1\" in the initial cluster "
     "configuration (--initial-cluster is \"n2=http://127.0.0.1:2380\": "
     "add n1=<this member's peer URL> to it, or fix --name)"},
    {NULL,
     "ETCD_NAME=n1 ETCD_INITIAL_ADVERTISE_PEER_URLS=http://127.0.0.1:2380 "
     "ETCD_INITIAL_CLUSTER=n1=http://127.0.0.2:2380",
     "--initial-cluster has n1=http://127.0.0.2:2380 but missing from "
     "--initial-advertise-peer-urls=http://127.0.0.1:2380 (make "
     "ETCD_INITIAL_CLUSTER and ETCD_INITIAL_ADVERTISE_PEER_URLS list the "
     "same URLs for \"n1\")"},
    {"--name n1 --initial-advertise-peer-urls "
     "http://127.0.0.1:2380,http://127.0.0.2:2380 --initial-cluster "
     "n1=http://127.0.0.1:2380",
     NULL,
     "--initial-advertise-peer-urls has http://127.0.0.2:2380 but missing "
     "from --initial-cluster=n1=http://127.0.0.1:2380"},
    {"--initial-cluster "
     "default=http://localhost:2380,n2=http://localhost:2380",
     NULL, "has duplicate url http://localhost:2380"},
    {"--name n1 --initial-cluster n1", NULL,
     "entry \"n1\" is not name=URL (write it as n1=http://host:2380)"},
    {"--name n1 --initial-cluster n1=http://127.0.0.1", NULL,
     "invalid value \"n1=http://127.0.0.1\" for flag -initial-cluster: URL "
     "address does not have the form \"host:port\""},
    /* both ways */
    {"--name y", "ETCD_NAME=x",
     "conflicting environment variable \"ETCD_NAME\" is shadowed by "
     "corresponding command-line flag --name (either unset environment "
     "variable or disable flag)"},
    {"--heartbeat-interval=50", "ETCD_HEARTBEAT_INTERVAL=50",
     "conflicting environment variable \"ETCD_HEARTBEAT_INTERVAL\" is "
     "shadowed by corresponding command-line flag --heartbeat-interval"},
    /* not supported yet */
    {"--cert-file /x.pem", NULL,
     "--cert-file \"/x.pem\": TLS is not supported yet"},
    {"--client-cert-auth", NULL,
     "--client-cert-auth \"true\": TLS is not supported yet"},
    {"--peer-auto-tls=true", NULL, "TLS is not supported yet"},
    {"--trusted-ca-file ca.pem", NULL, "TLS is not supported yet"},
    {NULL, "ETCD_PEER_CERT_FILE=/p.pem",
     "ETCD_PEER_CERT_FILE \"/p.pem\": TLS is not supported yet"},
    {"--auth-token jwt", NULL,
     "--auth-token \"jwt\": authentication is not supported yet"},
    {"--bcrypt-cost 12", NULL, "authentication is not supported yet"},
    {"--discovery https://discovery.etcd.io/x", NULL,
     "discovery is not supported yet"},
    {"--discovery-srv example.com", NULL, "discovery is not supported yet"},
    {"--proxy on", NULL, "the v2 proxy is not supported yet"},
    {"--force-new-cluster", NULL, "force-new-cluster is not supported yet"},
    {"--client-cert-auth=maybe", NULL,
     "invalid boolean value \"maybe\" for -client-cert-auth"},
    /* config file */
    {"--config-file /nonexistent/etcd.yaml", NULL,
     "cannot read config file \"/nonexistent/etcd.yaml\""},
    {NULL, "ETCD_CONFIG_FILE=/nonexistent/x.yaml",
     "cannot read config file \"/nonexistent/x.yaml\""},
};

/*
 * One test for the whole table (a fork per row costs seconds under ASan);
 * every failing row is reported, not just the first.
 */
START_TEST(test_config_refuses_each_bad_configuration_with_its_message)
{
	static char report[16384];
	size_t used = 0;
	int failed = 0;

	report[0] = '\0';
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];
		struct config *c;
		char *msg;
		int r = run(b->args, b->env, &c, &msg);
		bool good = r == -ERR_CONFIG && msg && !c &&
			    strstr(msg, b->want) && !strchr(msg, '\n');

		if (!good) {
			failed++;
			used += (size_t)snprintf(
			    report + used, sizeof(report) - used,
			    "\nrow %zu: args '%s' env '%s': r=%d\n  got  %s\n"
			    "  want %s",
			    i, b->args ? b->args : "", b->env ? b->env : "", r,
			    msg ? msg : "(none)", b->want);
			if (used >= sizeof(report)) {
				used = sizeof(report) - 1;
			}
		}
		if (r == 0) {
			config_free(c);
		}
		mem_free(msg);
	}
	ck_assert_msg(failed == 0, "%d bad configurations misreported:%s",
		      failed, report);
}
END_TEST

/* ---- good configurations ---- */

START_TEST(test_config_defaults_are_etcds)
{
	struct config *c = ok(NULL, NULL);

	ck_assert_int_eq(c->action, CONFIG_RUN);
	ck_assert_str_eq(c->name, "default");
	ck_assert_str_eq(c->data_dir, "default.etcd");
	ck_assert_ptr_null(c->wal_dir);
	ck_assert_str_eq(c->member_dir, "default.etcd/member");
	ck_assert_str_eq(c->wal_path, "default.etcd/member/wal");
	ck_assert_str_eq(c->snap_dir, "default.etcd/member/snap");
	ck_assert_uint_eq(c->election_ticks, 10);
	assert_urls(&c->listen_client_urls, "http://localhost:2379");
	assert_urls(&c->advertise_client_urls, "http://localhost:2379");
	assert_urls(&c->listen_peer_urls, "http://localhost:2380");
	assert_urls(&c->initial_advertise_peer_urls, "http://localhost:2380");
	ck_assert_str_eq(c->initial_cluster, "default=http://localhost:2380");
	ck_assert_str_eq(c->initial_cluster_token, "etcd-cluster");
	ck_assert_int_eq(c->initial_cluster_state, CONFIG_CLUSTER_NEW);
	ck_assert_uint_eq(c->heartbeat_ms, 100);
	ck_assert_uint_eq(c->election_ms, 1000);
	ck_assert_uint_eq(c->snapshot_count, 100000);
	ck_assert_int_eq(c->quota_backend_bytes, 0);
	ck_assert_uint_eq(c->max_request_bytes, 1572864);
	ck_assert_uint_eq(c->max_txn_ops, 128);
	ck_assert_int_eq(c->auto_compaction_mode, CONFIG_COMPACT_PERIODIC);
	ck_assert_uint_eq(c->auto_compaction_period_ns, 0);
	ck_assert(!c->enable_v2);
	ck_assert_int_eq(c->log_level, LOG_LVL_INFO);
	ck_assert_ptr_null(c->config_file);
	ck_assert_uint_eq(c->n_warnings, 0);
	ck_assert_str_eq(hex(c->member_id), "8e9e05c52164694d");
	ck_assert_str_eq(hex(c->cluster_id), "cdf818194e3a8c32");
	ck_assert_uint_eq(c->listen_client_urls.v[0].port, 2379);
	ck_assert_str_eq(c->listen_client_urls.v[0].host, "localhost");
	ck_assert_str_eq(c->listen_client_urls.v[0].scheme, "http");
	config_free(c);
}
END_TEST

START_TEST(test_config_accepts_go_flag_spellings)
{
	static const char *const forms[] = {"-name x", "--name x", "--name=x",
					    "-name=x"};

	for (size_t i = 0; i < 4; i++) {
		struct config *c = ok(forms[i], NULL);

		ck_assert_str_eq(c->name, "x");
		ck_assert_str_eq(c->data_dir, "x.etcd");
		/* Derived from the name, as etcd does. */
		ck_assert_str_eq(c->initial_cluster, "x=http://localhost:2380");
		ck_assert(c->initial_cluster_derived);
		config_free(c);
	}
}
END_TEST

START_TEST(test_config_accepts_go_boolean_spellings)
{
	static const struct {
		const char *args;
		bool want;
	} t[] = {{"--enable-v2", true},	     {"-enable-v2", true},
		 {"--enable-v2=true", true}, {"--enable-v2=1", true},
		 {"--enable-v2=T", true},    {"--enable-v2=false", false},
		 {"-enable-v2=0", false},    {"--enable-v2 --", true}};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct config *c = ok(t[i].args, NULL);

		ck_assert_msg(c->enable_v2 == t[i].want, "%s", t[i].args);
		config_free(c);
	}
}
END_TEST

START_TEST(test_config_later_flag_wins_as_in_go)
{
	struct config *c = ok("--name a --name b", NULL);

	ck_assert_str_eq(c->name, "b");
	config_free(c);
}
END_TEST

START_TEST(test_config_reads_scenario_a_env_file_unchanged)
{
	struct vec argv, env;
	struct config *c;
	char *msg;

	memset(&argv, 0, sizeof(argv));
	memset(&env, 0, sizeof(env));
	vec_add(&argv, "cetcd", 5);
	vec_load_env(&env,
		     testlib_src_path("tests/server/data/scenario-a.env"));
	ck_assert_int_eq(run_vec(&argv, &env, &c, &msg), 0);
	ck_assert_str_eq(c->name, "apisix");
	ck_assert_str_eq(c->data_dir, "/opt/etcd/data");
	assert_urls(&c->listen_client_urls, "http://0.0.0.0:2379");
	assert_urls(&c->advertise_client_urls,
		    "http://0.0.0.0:2379,http://127.0.0.1:2379");
	assert_urls(&c->initial_advertise_peer_urls,
		    "http://0.0.0.0:2380,http://127.0.0.1:2380");
	ck_assert_str_eq(c->initial_cluster, "apisix=http://0.0.0.0:2380,"
					     "apisix=http://127.0.0.1:2380");
	ck_assert(c->initial_cluster_derived);
	ck_assert(c->enable_v2);
	ck_assert_uint_eq(c->n_members, 1);
	ck_assert_str_eq(hex(c->member_id), "17ac6c9b1b6e7f0c");
	ck_assert_uint_eq(c->n_warnings, 0);
	config_free(c);
}
END_TEST

START_TEST(test_config_reads_scenario_b_literal_node01_with_its_ids)
{
	struct vec argv, env;
	struct config *c;
	char *msg;

	memset(&argv, 0, sizeof(argv));
	memset(&env, 0, sizeof(env));
	vec_add(&argv, "cetcd", 5);
	vec_load_env(&env,
		     testlib_src_path(
			 "tests/server/data/scenario-b-literal-node01.env"));
	ck_assert_int_eq(run_vec(&argv, &env, &c, &msg), 0);
	ck_assert_uint_eq(c->n_members, 3);
	ck_assert_str_eq(c->members[0].name, "etcd-node01");
	ck_assert_str_eq(hex(c->members[0].id), "8dc9f79502ff52fe");
	ck_assert_str_eq(hex(c->members[1].id), "8fdf9dd965ff87d5");
	ck_assert_str_eq(hex(c->members[2].id), "fc380e2e4f60630e");
	ck_assert_str_eq(hex(c->member_id), "8dc9f79502ff52fe");
	ck_assert_ptr_eq(config_self(c), &c->members[0]);
	assert_urls(&c->listen_peer_urls,
		    "http://127.0.0.1:2380,http://192.168.199.101:2380");
	config_free(c);
}
END_TEST

START_TEST(test_config_reads_the_three_loopback_scenario_b_files)
{
	uint64_t cluster = 0;

	for (int n = 1; n <= 3; n++) {
		struct vec argv, env;
		struct config *c;
		char path[128], name[32], url[64];
		const char *u[1] = {url};
		uint64_t want;
		char *msg;

		snprintf(path, sizeof(path),
			 "tests/server/data/scenario-b-node0%d.env", n);
		memset(&argv, 0, sizeof(argv));
		memset(&env, 0, sizeof(env));
		vec_add(&argv, "cetcd", 5);
		vec_load_env(&env, testlib_src_path(path));
		ck_assert_int_eq(run_vec(&argv, &env, &c, &msg), 0);
		snprintf(name, sizeof(name), "etcd-node0%d", n);
		snprintf(url, sizeof(url), "http://127.0.0.1%d:2380", n);
		ck_assert_str_eq(c->name, name);
		ck_assert_uint_eq(c->n_members, 3);
		ck_assert_int_eq(ids_member_id(u, 1, "etcd-cluster", -1, &want),
				 0);
		ck_assert(c->member_id == want);
		/* Every member computes the same cluster ID. */
		if (n > 1) {
			ck_assert(c->cluster_id == cluster);
		}
		cluster = c->cluster_id;
		ck_assert_uint_eq(c->n_warnings, 0);
		config_free(c);
	}
}
END_TEST

START_TEST(test_config_warns_about_unknown_etcd_variables_only)
{
	struct config *c = ok(NULL, "ETCD_UNKNOWN_THING=foo "
				    "ETCD_UNSUPPORTED_ARCH=arm64 "
				    "ETCD_VERSION=3.4.0 ETCDCTL_API=3 "
				    "ETCDCTL_ENDPOINTS=x HOME=/root");

	ck_assert_uint_eq(c->n_warnings, 1);
	ck_assert_str_eq(c->warnings[0], "unrecognized environment variable "
					 "ETCD_UNKNOWN_THING=foo");
	config_free(c);
	/* Spellings other than upper snake case are not the option. */
	c = ok(NULL, "ETCD_name=x");
	ck_assert_str_eq(c->name, "default");
	ck_assert(has_warning(c, "unrecognized environment variable "
				 "ETCD_name=x"));
	config_free(c);
}
END_TEST

START_TEST(test_config_ignores_empty_variables_as_etcd)
{
	struct config *c = ok(NULL, "ETCD_NAME= ETCD_HEARTBEAT_INTERVAL=");

	ck_assert_str_eq(c->name, "default");
	ck_assert_uint_eq(c->heartbeat_ms, 100);
	ck_assert_uint_eq(c->n_warnings, 0);
	config_free(c);
}
END_TEST

START_TEST(test_config_takes_variables_for_every_supported_option)
{
	struct config *c = ok(
	    NULL,
	    "ETCD_NAME=n1 ETCD_DATA_DIR=/d ETCD_WAL_DIR=/w "
	    "ETCD_LISTEN_CLIENT_URLS=http://127.0.0.1:1 "
	    "ETCD_ADVERTISE_CLIENT_URLS=http://127.0.0.1:1 "
	    "ETCD_LISTEN_PEER_URLS=http://127.0.0.1:2 "
	    "ETCD_INITIAL_ADVERTISE_PEER_URLS=http://127.0.0.1:2 "
	    "ETCD_INITIAL_CLUSTER=n1=http://127.0.0.1:2,n2=http://127.0.0.2:2 "
	    "ETCD_INITIAL_CLUSTER_TOKEN=tok "
	    "ETCD_INITIAL_CLUSTER_STATE=existing "
	    "ETCD_HEARTBEAT_INTERVAL=10 ETCD_ELECTION_TIMEOUT=50 "
	    "ETCD_SNAPSHOT_COUNT=7 ETCD_QUOTA_BACKEND_BYTES=-1 "
	    "ETCD_MAX_REQUEST_BYTES=0x100 ETCD_MAX_TXN_OPS=3 "
	    "ETCD_AUTO_COMPACTION_MODE=revision "
	    "ETCD_AUTO_COMPACTION_RETENTION=1000 ETCD_ENABLE_V2=false "
	    "ETCD_LOG_LEVEL=debug ETCD_LOGGER=zap ETCD_LOG_OUTPUTS=stderr");

	ck_assert_str_eq(c->name, "n1");
	ck_assert_str_eq(c->data_dir, "/d");
	ck_assert_str_eq(c->wal_dir, "/w");
	ck_assert_str_eq(c->wal_path, "/w");
	ck_assert_str_eq(c->snap_dir, "/d/member/snap");
	ck_assert_uint_eq(c->election_ticks, 5);
	ck_assert_str_eq(c->initial_cluster_token, "tok");
	ck_assert_int_eq(c->initial_cluster_state, CONFIG_CLUSTER_EXISTING);
	ck_assert_uint_eq(c->heartbeat_ms, 10);
	ck_assert_uint_eq(c->election_ms, 50);
	ck_assert_uint_eq(c->snapshot_count, 7);
	ck_assert_int_eq(c->quota_backend_bytes, -1);
	ck_assert_uint_eq(c->max_request_bytes, 256);
	ck_assert_uint_eq(c->max_txn_ops, 3);
	ck_assert_int_eq(c->auto_compaction_mode, CONFIG_COMPACT_REVISION);
	ck_assert_uint_eq(c->auto_compaction_revisions, 1000);
	ck_assert_int_eq(c->log_level, LOG_LVL_DEBUG);
	ck_assert_str_eq(c->logger, "zap");
	ck_assert_uint_eq(c->n_members, 2);
	ck_assert_uint_eq(c->n_warnings, 0);
	config_free(c);
}
END_TEST

START_TEST(test_config_existing_cluster_skips_the_advertise_match)
{
	struct config *c = ok("--name n1 --initial-cluster-state existing "
			      "--initial-advertise-peer-urls "
			      "http://127.0.0.9:2380 --initial-cluster "
			      "n1=http://127.0.0.1:2380",
			      NULL);

	ck_assert_int_eq(c->initial_cluster_state, CONFIG_CLUSTER_EXISTING);
	config_free(c);
}
END_TEST

START_TEST(test_config_derives_cluster_from_etcds_default_string)
{
	/* etcd compat: the default initial cluster with another name. */
	struct config *c = ok("--name n1 --initial-cluster "
			      "default=http://localhost:2380",
			      NULL);

	ck_assert_str_eq(c->initial_cluster, "n1=http://localhost:2380");
	config_free(c);
}
END_TEST

START_TEST(test_config_sorts_and_dedups_url_lists)
{
	struct config *c = ok("--listen-client-urls "
			      "http://127.0.0.2:2379,http://127.0.0.1:2379,"
			      "http://127.0.0.1:2379,http://[::1]:2379 "
			      "--advertise-client-urls HTTP://127.0.0.1:2379",
			      NULL);

	assert_urls(&c->listen_client_urls,
		    "http://127.0.0.1:2379,http://127.0.0.2:2379,"
		    "http://[::1]:2379");
	ck_assert_str_eq(c->listen_client_urls.v[2].host, "::1");
	assert_urls(&c->advertise_client_urls, "http://127.0.0.1:2379");
	ck_assert_ptr_nonnull(
	    config_urls_find(&c->listen_client_urls, "http://127.0.0.2:2379"));
	ck_assert_ptr_null(
	    config_urls_find(&c->listen_client_urls, "http://127.0.0.3:2379"));
	config_free(c);
}
END_TEST

START_TEST(test_config_parses_periodic_retention_like_etcd)
{
	struct config *c = ok("--auto-compaction-retention 2", NULL);

	ck_assert_uint_eq(c->auto_compaction_period_ns, 2 * 3600000000000ULL);
	config_free(c);
	c = ok("--auto-compaction-retention 30m", NULL);
	ck_assert_uint_eq(c->auto_compaction_period_ns, 1800000000000ULL);
	ck_assert_str_eq(c->auto_compaction_retention, "30m");
	config_free(c);
}
END_TEST

START_TEST(test_config_reads_watch_progress_interval)
{
	struct config *c =
	    ok("--experimental-watch-progress-notify-interval=1m30s", NULL);

	ck_assert_uint_eq(c->watch_progress_notify_ns, 90000000000ULL);
	ck_assert_uint_eq(c->n_warnings, 0);
	config_free(c);
	c = ok("", NULL);
	ck_assert_uint_eq(c->watch_progress_notify_ns, 600000000000ULL);
	config_free(c);
}
END_TEST

START_TEST(test_config_warns_for_each_flag_it_ignores)
{
	struct config *c =
	    ok("--max-wals 3 --pre-vote --v "
	       "--experimental-compaction-batch-limit=500",
	       "ETCD_MAX_SNAPSHOTS=2");

	ck_assert(has_warning(c, "--max-wals=3 is accepted but ignored"));
	ck_assert(has_warning(c, "--pre-vote=true is accepted but ignored"));
	ck_assert(has_warning(c, "ETCD_MAX_SNAPSHOTS=2 is accepted but "
				 "ignored"));
	ck_assert(has_warning(c, "--experimental-compaction-batch-limit=500 "
				 "is accepted but ignored"));
	ck_assert(has_warning(c, "flag \"-v\" is no longer supported - "
				 "ignoring."));
	ck_assert_uint_eq(c->n_warnings, 5);
	config_free(c);
}
END_TEST

START_TEST(test_config_allows_refused_flags_at_their_defaults)
{
	struct config *c = ok("--auth-token simple --client-cert-auth=false "
			      "--proxy off --cert-file=",
			      NULL);

	ck_assert_uint_eq(c->n_warnings, 0);
	config_free(c);
}
END_TEST

START_TEST(test_config_reports_help_and_version)
{
	static const char *const help[] = {"-h", "--help", "-help",
					   "--name x --help"};
	struct config *c;

	for (size_t i = 0; i < 4; i++) {
		c = ok(help[i], NULL);
		ck_assert_int_eq(c->action, CONFIG_HELP);
		config_free(c);
	}
	c = ok("--version", NULL);
	ck_assert_int_eq(c->action, CONFIG_VERSION);
	config_free(c);
	c = ok("-version --name x", NULL);
	ck_assert_int_eq(c->action, CONFIG_VERSION);
	config_free(c);
}
END_TEST

START_TEST(test_config_help_lists_supported_ignored_and_refused_flags)
{
	struct buf b = BUF_INIT;
	const char *s;

	ck_assert_int_eq(config_help(&b), 0);
	s = (const char *)b.data;
	ck_assert_ptr_nonnull(strstr(s, "  --name 'default'\n"));
	ck_assert_ptr_nonnull(strstr(s, "  --initial-cluster-state 'new'\n"));
	ck_assert_ptr_nonnull(strstr(s, "  --enable-v2 'false'\n"));
	ck_assert_ptr_nonnull(strstr(s, "--max-wals"));
	ck_assert_ptr_nonnull(strstr(s, "--peer-cert-file"));
	ck_assert_ptr_nonnull(strstr(s, "ETCD_INITIAL_CLUSTER_STATE"));
	buf_done(&b);
}
END_TEST

/* ---- the YAML config file ---- */

static const char *write_file(const char *name, const char *text)
{
	static char path[4][512];
	static int k;
	char *p = path[k++ % 4];
	FILE *f;

	snprintf(p, 512, "%s/%s", testlib_tmpdir(), name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

static const char yaml_good[] =
    "# etcd's configuration file format\n"
    "name: 'n1'\n"
    "data-dir: /var/lib/etcd\n"
    "listen-client-urls: http://127.0.0.1:2379,http://127.0.0.2:2379\n"
    "advertise-client-urls: http://127.0.0.2:2379\n"
    "listen-peer-urls: http://127.0.0.2:2380\n"
    "initial-advertise-peer-urls: http://127.0.0.2:2380\n"
    "initial-cluster: n1=http://127.0.0.2:2380,n2=http://127.0.0.3:2380\n"
    "initial-cluster-token: tok\n"
    "initial-cluster-state: 'new'\n"
    "heartbeat-interval: 50\n"
    "election-timeout: 500\n"
    "snapshot-count: 10000\n"
    "quota-backend-bytes: 8589934592\n"
    "enable-v2: yes\n"
    "wal-dir:\n"
    "log-outputs: [stderr]\n"
    "max-wals: 3\n"
    "client-transport-security:\n"
    "  cert-file:\n"
    "  client-cert-auth: false\n"
    "no-such-key: 1\n";

START_TEST(test_config_reads_etcds_yaml_file_and_ignores_flags_and_env)
{
	const char *path = write_file("etcd.yaml", yaml_good);
	char args[700];
	struct config *c;

	snprintf(args, sizeof(args), "--config-file %s --name other", path);
	/* A variable that would conflict is not even looked at (etcd). */
	c = ok(args, "ETCD_NAME=x ETCD_FOO=1");
	ck_assert_str_eq(c->config_file, path);
	ck_assert_str_eq(c->name, "n1");
	ck_assert_str_eq(c->data_dir, "/var/lib/etcd");
	ck_assert_ptr_null(c->wal_dir);
	assert_urls(&c->listen_client_urls,
		    "http://127.0.0.1:2379,http://127.0.0.2:2379");
	ck_assert_str_eq(c->initial_cluster_token, "tok");
	ck_assert_uint_eq(c->heartbeat_ms, 50);
	ck_assert_uint_eq(c->election_ms, 500);
	ck_assert_uint_eq(c->snapshot_count, 10000);
	ck_assert_int_eq(c->quota_backend_bytes, 8589934592LL);
	ck_assert(c->enable_v2);
	ck_assert_str_eq(c->log_outputs, "stderr");
	ck_assert_uint_eq(c->n_members, 2);
	ck_assert(has_warning(c, "--name is ignored: a config file is used"));
	ck_assert(has_warning(c, "unknown key \"no-such-key\" (line 22)"));
	ck_assert(has_warning(c, "max-wals: 3 in config file"));
	ck_assert(!has_warning(c, "ETCD_FOO"));
	config_free(c);
}
END_TEST

START_TEST(test_config_finds_the_file_through_etcd_config_file)
{
	const char *path = write_file("env.yaml", "name: fromfile\n");
	char env[600];
	struct config *c;

	snprintf(env, sizeof(env),
		 "ETCD_CONFIG_FILE=%s ETCD_HEARTBEAT_INTERVAL=x", path);
	c = ok(NULL, env);
	ck_assert_str_eq(c->name, "fromfile");
	ck_assert_uint_eq(c->heartbeat_ms, 100);
	/* In file mode listen-client-urls alone is fine, as in etcd. */
	config_free(c);
}
END_TEST

START_TEST(test_config_refuses_bad_yaml_files)
{
	static const struct {
		const char *text;
		const char *want;
	} t[] = {
	    {"name: [unclosed\n", "line 2 column 1"},
	    {"- a\n- b\n", "expected a mapping of option names"},
	    {"heartbeat-interval: fast\n",
	     "invalid value \"fast\" for heartbeat-interval in config "
	     "file"},
	    {"client-transport-security:\n  cert-file: /c.pem\n",
	     "client-transport-security.cert-file \"/c.pem\""},
	    {"peer-transport-security:\n  auto-tls: true\n",
	     "TLS is not supported yet"},
	    {"auth-token: jwt\n", "authentication is not supported yet"},
	    {"name: {a: 1}\n", "name (line 1) must be a value, not a mapping"},
	    {"name: n1\ninitial-cluster: n2=http://127.0.0.1:2380\n",
	     "couldn't find local name \"n1\" in the initial cluster "
	     "configuration (initial-cluster (config file"},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *path = write_file("bad.yaml", t[i].text);
		char args[600];
		struct config *c;
		char *msg;

		snprintf(args, sizeof(args), "--config-file=%s", path);
		ck_assert_int_eq(run(args, NULL, &c, &msg), -ERR_CONFIG);
		ck_assert_msg(strstr(msg, t[i].want) != NULL,
			      "yaml %s\n  got  %s\n  want %s", t[i].text, msg,
			      t[i].want);
		mem_free(msg);
	}
}
END_TEST

START_TEST(test_config_describe_names_the_ids)
{
	struct config *c = ok("--name x --initial-cluster-token t", NULL);
	struct buf b = BUF_INIT;

	ck_assert_int_eq(config_describe(c, &b), 0);
	ck_assert_ptr_nonnull(strstr((char *)b.data, "name: x\n"));
	ck_assert_ptr_nonnull(strstr((char *)b.data, "member-id: "));
	ck_assert_ptr_nonnull(strstr((char *)b.data, hex(c->member_id)));
	ck_assert_ptr_nonnull(strstr((char *)b.data, "cluster-id: "));
	buf_done(&b);
	config_free(c);
}
END_TEST

/* Random argv and environments built from config fragments never crash. */
START_TEST(test_config_survives_random_arguments)
{
	static const char *const frags[] = {
	    "--name",
	    "-name=",
	    "x",
	    "--enable-v2",
	    "=",
	    "--",
	    "-",
	    "--initial-cluster",
	    "n=http://127.0.0.1:2380",
	    ",",
	    "http://",
	    "[::1]",
	    ":2380",
	    "/p",
	    "--listen-client-urls",
	    "--advertise-client-urls",
	    "--initial-advertise-peer-urls",
	    "--heartbeat-interval",
	    "0x",
	    "99999999999999999999",
	    "--election-timeout=",
	    "--auto-compaction-mode",
	    "revision",
	    "--auto-compaction-retention",
	    "1h",
	    "--config-file",
	    "--v",
	    "--cert-file",
	    "default=http://localhost:2380",
	    "",
	};
	static const char *const envs[] = {
	    "ETCD_NAME=",
	    "ETCD_NAME=n",
	    "ETCD_=",
	    "ETCD_X=y",
	    "ETCD_INITIAL_CLUSTER=n=http://127.0.0.1:2380,",
	    "ETCD_LISTEN_PEER_URLS=http://127.0.0.1:1",
	    "ETCD_ENABLE_V2=true",
	    "ETCD_VERSION=1",
	    "ETCD",
	};
	const size_t nf = sizeof(frags) / sizeof(frags[0]);
	const size_t ne = sizeof(envs) / sizeof(envs[0]);
	uint64_t rng = testlib_seed();

	for (int iter = 0; iter < 3000; iter++) {
		struct vec argv, env;
		int n = (int)testlib_rand_below(&rng, 8);
		struct config *c;
		char *msg;
		int r;

		memset(&argv, 0, sizeof(argv));
		memset(&env, 0, sizeof(env));
		vec_add(&argv, "cetcd", 5);
		for (int i = 0; i < n; i++) {
			char w[256] = "";
			int parts = 1 + (int)testlib_rand_below(&rng, 3);

			for (int k = 0; k < parts; k++) {
				strcat(w, frags[testlib_rand_below(&rng, nf)]);
			}
			vec_add(&argv, w, strlen(w));
		}
		for (int i = (int)testlib_rand_below(&rng, 4); i > 0; i--) {
			const char *e = envs[testlib_rand_below(&rng, ne)];

			vec_add(&env, e, strlen(e));
		}
		r = run_vec(&argv, &env, &c, &msg);
		if (r == 0) {
			config_free(c);
		} else {
			ck_assert_int_eq(r, -ERR_CONFIG);
			ck_assert_ptr_nonnull(msg);
			ck_assert_ptr_null(strchr(msg, '\n'));
			mem_free(msg);
		}
	}
}
END_TEST

/* Every allocation may fail: no crash, no leak (ASan), -ENOMEM. */
START_TEST(test_config_survives_every_allocation_failure)
{
	const char *path = write_file("nomem.yaml", yaml_good);
	char args[700];
	const char *cases[2][2];

	snprintf(args, sizeof(args), "--config-file %s", path);
	cases[0][0] = "--max-wals 3 --name n1 --initial-cluster "
		      "n1=http://127.0.0.1:2380,n2=http://127.0.0.2:2380 "
		      "--initial-advertise-peer-urls http://127.0.0.1:2380";
	cases[0][1] = "ETCD_FOO=1 ETCD_ENABLE_V2=true";
	cases[1][0] = args;
	cases[1][1] = NULL;
	for (int k = 0; k < 2; k++) {
		long n;

		for (n = 0; n < 10000; n++) {
			struct config *c;
			char *msg;
			int r;

			mem_fail_after(n);
			r = run(cases[k][0], cases[k][1], &c, &msg);
			mem_fail_reset();
			if (r == 0) {
				config_free(c);
				break;
			}
			ck_assert_msg(r == -ENOMEM, "n=%ld: %d %s", n, r,
				      msg ? msg : "");
			mem_free(msg);
		}
		ck_assert_int_lt(n, 10000);
	}
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");

	tcase_add_test(
	    tc, test_config_refuses_each_bad_configuration_with_its_message);
	tcase_add_test(tc, test_config_defaults_are_etcds);
	tcase_add_test(tc, test_config_accepts_go_flag_spellings);
	tcase_add_test(tc, test_config_accepts_go_boolean_spellings);
	tcase_add_test(tc, test_config_later_flag_wins_as_in_go);
	tcase_add_test(tc, test_config_reads_scenario_a_env_file_unchanged);
	tcase_add_test(
	    tc, test_config_reads_scenario_b_literal_node01_with_its_ids);
	tcase_add_test(tc,
		       test_config_reads_the_three_loopback_scenario_b_files);
	tcase_add_test(tc, test_config_warns_about_unknown_etcd_variables_only);
	tcase_add_test(tc, test_config_ignores_empty_variables_as_etcd);
	tcase_add_test(tc,
		       test_config_takes_variables_for_every_supported_option);
	tcase_add_test(tc,
		       test_config_existing_cluster_skips_the_advertise_match);
	tcase_add_test(tc,
		       test_config_derives_cluster_from_etcds_default_string);
	tcase_add_test(tc, test_config_sorts_and_dedups_url_lists);
	tcase_add_test(tc, test_config_parses_periodic_retention_like_etcd);
	tcase_add_test(tc, test_config_reads_watch_progress_interval);
	tcase_add_test(tc, test_config_warns_for_each_flag_it_ignores);
	tcase_add_test(tc, test_config_allows_refused_flags_at_their_defaults);
	tcase_add_test(tc, test_config_reports_help_and_version);
	tcase_add_test(
	    tc, test_config_help_lists_supported_ignored_and_refused_flags);
	tcase_add_test(
	    tc, test_config_reads_etcds_yaml_file_and_ignores_flags_and_env);
	tcase_add_test(tc, test_config_finds_the_file_through_etcd_config_file);
	tcase_add_test(tc, test_config_refuses_bad_yaml_files);
	tcase_add_test(tc, test_config_describe_names_the_ids);
	tcase_add_test(tc, test_config_survives_random_arguments);
	tcase_add_test(tc, test_config_survives_every_allocation_failure);
	suite_add_tcase(s, tc);
	return s;
}
TEST_SUITE(config_suite)
