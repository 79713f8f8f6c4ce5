/*
 * config.h - the member's configuration, read the way etcd reads it.
 *
 * Sources, as etcd 3.4/3.5 (reference etcd-v3.md §3):
 *  - command-line flags in Go's spellings: -name x, --name x, --name=x,
 *    -name=x; booleans as --enable-v2 or --enable-v2=true|false (a bool
 *    flag never consumes the next argument); "--" ends the flags;
 *  - ETCD_<FLAG_IN_UPPER_SNAKE> variables for every flag; empty values are
 *    ignored; a flag and its variable both set is an error naming both; an
 *    unknown ETCD_* variable is a warning;
 *  - a YAML config file (--config-file or ETCD_CONFIG_FILE) with the flag
 *    names as keys; when one is given every other flag and variable is
 *    ignored (with a warning for each flag, since etcd says nothing).
 *
 * Invariants of a struct config that config_parse() returned:
 *  1. Every URL list is non-empty, sorted by url and free of duplicates
 *     (etcd's UniqueURLs); every URL is http://host:port with a port.
 *  2. members (the initial cluster) is sorted by name and contains name;
 *     when initial_cluster_state is NEW its URLs for name equal
 *     initial_advertise_peer_urls.
 *  3. member_id and cluster_id are the bootstrap IDs computed from members
 *     and initial_cluster_token (ids.h); a member joining an existing
 *     cluster gets its ID from the cluster instead.
 *  4. 5 * heartbeat_ms <= election_ms <= 50000 and heartbeat_ms > 0.
 *  5. Nothing a user gave is dropped silently: flags cetcd does not
 *     implement are listed in warnings, flags of features not built yet
 *     (TLS, auth, discovery, proxy) make config_parse fail.
 *
 * Deliberate differences from etcd (each friendlier, none accepts a
 * configuration etcd would run differently):
 *  - the initial cluster is derived from name and advertised peer URLs
 *    whenever it is not given (etcd skips that for the name "default" and
 *    then fails on the mismatch with custom advertised URLs);
 *  - etcd's substitution of the machine's hostname into the default
 *    advertised URLs when listening on 0.0.0.0 is not done;
 *  - messages add the fix in parentheses after etcd's own wording, and
 *    name the variable or file key when the value came from there;
 *  - whether a listen URL can be bound is checked when the member binds it.
 *
 * config_parse neither prints nor exits: errors come back as one message,
 * warnings as lines in struct config, and node/main.c reports them.
 */
#ifndef CETCD_SERVER_CONFIG_H
#define CETCD_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/log.h"

enum config_action {
	CONFIG_RUN,	/* run the member */
	CONFIG_HELP,	/* -h / --help was given: print config_help() */
	CONFIG_VERSION, /* --version was given */
};

enum config_cluster_state {
	CONFIG_CLUSTER_NEW,
	CONFIG_CLUSTER_EXISTING,
};

enum config_compaction_mode {
	CONFIG_COMPACT_PERIODIC,
	CONFIG_COMPACT_REVISION,
};

struct config_url {
	char *url;    /* "http://127.0.0.1:2379", as etcd prints it */
	char *scheme; /* "http" */
	char *host;   /* "127.0.0.1", "localhost", "::1" (no brackets) */
	uint16_t port;
};

struct config_urls {
	struct config_url *v;
	size_t n;
};

struct config_member {
	char *name;
	struct config_urls peer_urls; /* sorted; no URL in two members */
	uint64_t id;		      /* bootstrap ID (ids_member_id) */
};

struct config {
	enum config_action action;

	char *name;
	char *data_dir; /* "${name}.etcd" unless given */
	char *wal_dir;	/* NULL: the default place inside data_dir */
	/* etcd's data-dir layout (design.md, WAL): */
	char *member_dir; /* data_dir/member */
	char *wal_path;	  /* wal_dir when given, else member_dir/wal */
	char *snap_dir;	  /* member_dir/snap (snapshots and the LMDB file) */

	struct config_urls listen_client_urls;
	struct config_urls advertise_client_urls;
	struct config_urls listen_peer_urls;
	struct config_urls initial_advertise_peer_urls;

	char *initial_cluster; /* as given, or derived from name and URLs */
	bool initial_cluster_derived;
	struct config_member *members; /* the initial cluster, by name */
	size_t n_members;
	char *initial_cluster_token;
	enum config_cluster_state initial_cluster_state;
	uint64_t member_id;  /* this member's bootstrap ID */
	uint64_t cluster_id; /* the bootstrap cluster ID */

	unsigned heartbeat_ms;
	unsigned election_ms;
	unsigned election_ticks; /* election_ms / heartbeat_ms, as etcd */
	uint64_t snapshot_count;
	int64_t quota_backend_bytes; /* 0: etcd's default 2 GiB; < 0: none */
	unsigned max_request_bytes;
	unsigned max_txn_ops;
	/* entries kept behind a snapshot for slow followers (etcd 3.5.14's
	 * --experimental-snapshot-catchup-entries) */
	unsigned snapshot_catchup_entries;
	/* Not a flag (0: the member's default, member_int.h's
	 * SNAPSHOT_LOG_BYTES; tests set less): the most applied Raft log a
	 * member holds in memory, half since the last snapshot and half in
	 * the catch-up window behind it. */
	uint64_t snapshot_log_bytes;
	/* --experimental-watch-progress-notify-interval (default 10m) */
	uint64_t watch_progress_notify_ns;

	enum config_compaction_mode auto_compaction_mode;
	char *auto_compaction_retention;    /* as given ("0", "1h", "1000") */
	uint64_t auto_compaction_period_ns; /* periodic mode; 0: off */
	uint64_t auto_compaction_revisions; /* revision mode; 0: off */

	bool enable_v2; /* accepted; the v2 API answers 404 (not available) */
	enum log_level log_level;
	char *logger;	   /* "capnslog" or "zap": accepted, one format */
	char *log_outputs; /* accepted; cetcd logs to stderr */

	char *config_file; /* NULL unless a YAML file was read */

	char **warnings; /* one line each, for the log at warn level */
	size_t n_warnings;
};

/*
 * Read the configuration from argv (argv[0] is the program name), envp
 * ("K=V" strings, NULL-terminated; NULL for none) and, when named, the
 * YAML config file.  On success *out is a new config (config_free) and
 * 0 is returned; with --help or --version, *out has only action set.
 * On a bad configuration returns -ERR_CONFIG and *errmsg_out is one line
 * (mem_free) naming the option, the value and the fix; -ENOMEM otherwise
 * (then *errmsg_out may be NULL).  Output parameters are written only for
 * the result they describe.
 */
int config_parse(int argc, char *const argv[], char *const envp[],
		 struct config **out, char **errmsg_out);
void config_free(struct config *c);

/* The URL of u's list with this exact text, or NULL. */
const struct config_url *config_urls_find(const struct config_urls *u,
					  const char *url);
/* This member's entry in c->members (never NULL after config_parse). */
const struct config_member *config_self(const struct config *c);

/* etcd-like help text listing every flag cetcd knows and how it treats it. */
int config_help(struct buf *out);

/* The resolved configuration, one "key: value" line each, for people. */
int config_describe(const struct config *c, struct buf *out);

#endif
