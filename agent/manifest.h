/*
 * manifest.h - the cluster manifest: one YAML file that describes a whole
 * cetcd cluster (etc/cluster.example.yaml documents every key).
 *
 * manifest_load_*() parses with libyaml into a validated struct.  Every
 * problem found is collected as a diagnostic that names the file, line and
 * column (1-based, from libyaml's marks) and says what is wrong and what to
 * do; loading goes on after an error so that one run reports them all.
 *
 * Invariants:
 *  1. A manifest is returned only when there is no error (warnings are
 *     allowed); then every member's settings are the effective ones
 *     (built-in defaults <- defaults: <- overrides: <- member keys), names
 *     and addresses are unique, ports do not clash and every value has been
 *     checked, so a renderer can trust it without further checks.
 *  2. No input of any kind crashes the loader or makes it leak: bad YAML,
 *     aliases, deep nesting and huge files are refused with a diagnostic.
 *  3. Everything is allocated with mem_alloc & co; manifest_free(NULL) and
 *     manifest_diags_done() on an empty set are no-ops.
 */
#ifndef CETCD_AGENT_MANIFEST_H
#define CETCD_AGENT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Largest manifest accepted, in bytes. */
#define MANIFEST_MAX_SIZE (1024 * 1024)

/* The built-in defaults (design.md, "The agent"). */
#define MANIFEST_DEFAULT_PATH "/etc/cetcd/cluster.yaml"
#define MANIFEST_DEFAULT_CLIENT_PORT 2379
#define MANIFEST_DEFAULT_PEER_PORT 2380
#define MANIFEST_DEFAULT_INSTALL_DIR "/usr/local"
#define MANIFEST_DEFAULT_CONFIG_FILE "/etc/cetcd/cetcd.conf"
#define MANIFEST_DEFAULT_DATA_DIR "/var/lib/cetcd"
#define MANIFEST_DEFAULT_USER "cetcd"
#define MANIFEST_DEFAULT_UNIT "cetcd.service"
/*
 * A new cluster's member is READY only once a quorum runs, so a member
 * started before its peers waits for them: ten minutes leaves an operator
 * time to bring up every host by hand (scenario.md B) without hiding a
 * member that never becomes ready.
 */
#define MANIFEST_DEFAULT_START_TIMEOUT_MS (600 * 1000)

enum manifest_severity {
	MANIFEST_ERROR,
	MANIFEST_WARNING,
};

struct manifest_diag {
	enum manifest_severity severity;
	unsigned line; /* 1-based; 0 when the problem is the file itself */
	unsigned col;
	char *msg; /* "what is wrong; what to do" */
};

struct manifest_diags {
	char *file;
	struct manifest_diag *v;
	size_t n;
	size_t cap;
	size_t n_errors;
	size_t n_warnings;
};

void manifest_diags_init(struct manifest_diags *d);
void manifest_diags_done(struct manifest_diags *d);
/*
 * Print every diagnostic, sorted by position, one per line:
 * "file:line:col: what; do" for errors and "file:line:col: warning: ..."
 * for warnings.
 */
void manifest_diags_print(const struct manifest_diags *d, FILE *out);
/* One diagnostic formatted as above (no newline); NULL on ENOMEM. */
char *manifest_diag_format(const struct manifest_diags *d, size_t i);

/* A list of strings (addresses). */
struct manifest_strv {
	char **v;
	size_t n;
};

/* One extra ETCD_* setting, in manifest order. */
struct manifest_env_entry {
	char *key;
	char *value;
};

struct manifest_env {
	struct manifest_env_entry *v;
	size_t n;
};

/*
 * The settings a member runs with.  In struct manifest's defaults they are
 * the values of the defaults: section; in a member they are the effective
 * values.  A bit in `set` tells that the key was given (tuning values are
 * written to the env file only when given).
 */
enum manifest_key {
	MK_CLIENT_PORT,
	MK_PEER_PORT,
	MK_CLIENT_SCHEME,
	MK_PEER_SCHEME,
	MK_INSTALL_DIR,
	MK_BINARY,
	MK_CONFIG_FILE,
	MK_DATA_DIR,
	MK_USER,
	MK_UNIT,
	MK_START_TIMEOUT,
	MK_HEARTBEAT_INTERVAL,
	MK_ELECTION_TIMEOUT,
	MK_SNAPSHOT_COUNT,
	MK_QUOTA_BACKEND_BYTES,
	MK_HOSTNAME,
	MK_HOSTS,
	MK_LISTEN,
	MK_ADVERTISE,
	MK_ENV,
	MK_N_KEYS_
};

struct manifest_settings {
	uint32_t set;		   /* 1u << enum manifest_key */
	unsigned line[MK_N_KEYS_]; /* where each given key's value is */
	unsigned col[MK_N_KEYS_];
	uint64_t client_port;
	uint64_t peer_port;
	char *client_scheme; /* "http" or "https" */
	char *peer_scheme;
	char *install_dir;
	char *binary; /* default: install_dir/bin/cetcd */
	char *config_file;
	char *data_dir;
	char *user;
	char *unit;
	uint64_t start_timeout_ms; /* 0: infinity */
	uint64_t heartbeat_ms;
	uint64_t election_ms;
	uint64_t snapshot_count;
	uint64_t quota_bytes;
	bool hostname; /* set the host's name to the member's */
	bool hosts;    /* write every member into the hosts file */
	struct manifest_strv listen;	/* extra listen addresses */
	struct manifest_strv advertise; /* extra advertised addresses */
	struct manifest_env env;
};

struct manifest_member {
	char *name;
	char *address; /* IPv4 or IPv6 literal, without brackets */
	unsigned line; /* of the member's entry */
	unsigned col;
	struct manifest_settings s;
};

enum manifest_drill_mode {
	MANIFEST_DRILL_KILL,
	MANIFEST_DRILL_STOP,
	MANIFEST_DRILL_PAUSE,
};

enum manifest_drill_key {
	MD_MODE,
	MD_PAUSE,
	MD_WRITE_INTERVAL,
	MD_LEADER_TIMEOUT,
	MD_STABLE_TIME,
	MD_CLOCK_SKEW_MAX,
	MD_KEY_PREFIX,
	MD_SSH_USER,
	MD_N_KEYS_
};

/* Drill settings; a bit in `set` tells that the manifest gave the key. */
struct manifest_drill {
	uint32_t set;
	enum manifest_drill_mode mode;
	uint64_t pause_ms;
	uint64_t write_interval_ms;
	uint64_t leader_timeout_ms;
	uint64_t stable_time_ms;
	uint64_t clock_skew_max_ms;
	char *key_prefix;
	char *ssh_user;
};

struct manifest {
	char *file;
	char *cluster_name;
	char *token; /* default: the cluster name */
	struct manifest_settings defaults;
	struct manifest_member *members;
	size_t n_members;
	struct manifest_drill drill;
};

/*
 * Load and validate path.  Returns 0 with *out set when there is no error
 * (d may hold warnings), -ERR_CONFIG when d holds errors, -ENOMEM, or
 * -errno when the file cannot be read (d then holds a diagnostic for it).
 */
int manifest_load_file(const char *path, struct manifest **out,
		       struct manifest_diags *d);
/* The same for bytes already in memory; name is used in diagnostics. */
int manifest_load_buf(const char *name, const uint8_t *data, size_t len,
		      struct manifest **out, struct manifest_diags *d);
void manifest_free(struct manifest *m);

/* The member called name, or NULL. */
const struct manifest_member *manifest_find_member(const struct manifest *m,
						   const char *name);

/*
 * "scheme://addr:port" for addr (IPv6 in brackets) into out; 0, or
 * -ENAMETOOLONG when it does not fit.
 */
int manifest_url(const char *scheme, const char *addr, uint64_t port, char *out,
		 size_t size);

/* The drill modes' names ("kill", "stop", "pause"). */
const char *manifest_drill_mode_name(enum manifest_drill_mode mode);
int manifest_drill_mode_parse(const char *s, enum manifest_drill_mode *out);

/*
 * Shared with agent settings: parse a duration ("250ms", "10s", "2m", "1h"
 * or a bare number of milliseconds) into ms; 0 or -EINVAL/-ERANGE.
 */
int manifest_parse_duration(const char *s, uint64_t *out_ms);
/*
 * The known name nearest to word by edit distance when it is close enough
 * to be a likely typo, or NULL.
 */
const char *manifest_suggest(const char *word, const char *const *known,
			     size_t n_known);

/* Fuzz entry point: load data as a manifest and free everything.  0. */
int manifest_fuzz_one(const uint8_t *data, size_t size);

#endif
