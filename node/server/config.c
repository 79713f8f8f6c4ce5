/*
 * config.c - etcd's flags, ETCD_* variables and YAML config file (config.h).
 *
 * How a configuration is read, in this order (the order decides which of
 * several mistakes is reported, as only the first one is):
 *  1. argv, scanned the way Go's flag package scans it;
 *  2. either the YAML file (when --config-file or ETCD_CONFIG_FILE names
 *     one: flags and variables are then ignored, as etcd does) or the
 *     ETCD_* variables (a variable shadowed by a flag is an error);
 *  3. flags cetcd does not implement: a warning each, or an error for
 *     features not built yet (TLS, auth, discovery, proxy);
 *  4. every supported option is parsed from its text (the table default
 *     when not given), then the combination is validated.
 *
 * Invariants:
 *  1. Options live in one table (OPTS): the parser, the ETCD_* mapping, the
 *     YAML keys and --help are all derived from it, so they cannot drift.
 *  2. Raw values are borrowed from argv/envp or owned by the context (YAML)
 *     until config_parse returns; struct config owns copies of everything.
 *  3. Exactly one error message is produced, by fail(); after it nothing
 *     else is checked.
 */
#include "server/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "base/err.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "server/ids.h"

enum opt_type {
	T_STR,
	T_BOOL, /* never consumes the next argument */
};

enum opt_use {
	U_OK,	   /* implemented */
	U_IGNORED, /* accepted with a warning: not implemented */
	U_REFUSED, /* a non-default value is an error: "not supported yet" */
	U_LEGACY,  /* etcd's own ignored legacy flags: warned as etcd does */
	U_VERSION, /* --version */
};

#define TLS_NO                                                              \
	"TLS is not supported yet; remove it (cetcd serves plain http for " \
	"now)"
#define AUTH_NO "authentication is not supported yet; remove it"
#define DISC_NO                                                             \
	"discovery is not supported yet; bootstrap with --initial-cluster " \
	"instead"
#define PROXY_NO "the v2 proxy is not supported yet; remove it"

/* X(id, name, type, use, default, group, help) */
#define OPTS(X)                                                                \
	X(O_NAME, "name", T_STR, U_OK, "default", "Member",                    \
	  "Human-readable name for this member.")                              \
	X(O_DATA_DIR, "data-dir", T_STR, U_OK, "", "Member",                   \
	  "Path to the data directory (default '${name}.etcd').")              \
	X(O_WAL_DIR, "wal-dir", T_STR, U_OK, "", "Member",                     \
	  "Path to the dedicated wal directory.")                              \
	X(O_SNAPSHOT_COUNT, "snapshot-count", T_STR, U_OK, "100000", "Member", \
	  "Number of committed transactions to trigger a snapshot to disk.")   \
	X(O_SNAP_CATCHUP, "experimental-snapshot-catchup-entries", T_STR,      \
	  U_OK, "5000", "Member",                                              \
	  "Number of entries for a slow follower to catch up after "          \
	  "compacting the raft storage entries.")                              \
	X(O_WATCH_PROGRESS, "experimental-watch-progress-notify-interval",    \
	  T_STR, U_OK, "10m", "Member",                                        \
	  "Duration of periodic watch progress notifications.")               \
	X(O_HEARTBEAT, "heartbeat-interval", T_STR, U_OK, "100", "Member",     \
	  "Time (in milliseconds) of a heartbeat interval.")                   \
	X(O_ELECTION, "election-timeout", T_STR, U_OK, "1000", "Member",       \
	  "Time (in milliseconds) for an election to timeout.")                \
	X(O_LPU, "listen-peer-urls", T_STR, U_OK, "http://localhost:2380",     \
	  "Member", "List of URLs to listen on for peer traffic.")             \
	X(O_LCU, "listen-client-urls", T_STR, U_OK, "http://localhost:2379",   \
	  "Member", "List of URLs to listen on for client traffic.")           \
	X(O_QUOTA, "quota-backend-bytes", T_STR, U_OK, "0", "Member",          \
	  "Raise alarms when backend size exceeds the given quota "            \
	  "(0 defaults to low space quota).")                                  \
	X(O_MAX_TXN_OPS, "max-txn-ops", T_STR, U_OK, "128", "Member",          \
	  "Maximum number of operations permitted in a transaction.")          \
	X(O_MAX_REQ, "max-request-bytes", T_STR, U_OK, "1572864", "Member",    \
	  "Maximum client request size in bytes the server will accept.")      \
	X(O_APU, "initial-advertise-peer-urls", T_STR, U_OK,                   \
	  "http://localhost:2380", "Clustering",                               \
	  "List of this member's peer URLs to advertise to the rest of the "   \
	  "cluster.")                                                          \
	X(O_IC, "initial-cluster", T_STR, U_OK, "", "Clustering",              \
	  "Initial cluster configuration for bootstrapping (default: "         \
	  "${name}=each of --initial-advertise-peer-urls).")                   \
	X(O_IC_STATE, "initial-cluster-state", T_STR, U_OK, "new",             \
	  "Clustering", "Initial cluster state ('new' or 'existing').")        \
	X(O_IC_TOKEN, "initial-cluster-token", T_STR, U_OK, "etcd-cluster",    \
	  "Clustering",                                                        \
	  "Initial cluster token for the etcd cluster during bootstrap.")      \
	X(O_ACU, "advertise-client-urls", T_STR, U_OK,                         \
	  "http://localhost:2379", "Clustering",                               \
	  "List of this member's client URLs to advertise to the public.")     \
	X(O_AC_RETENTION, "auto-compaction-retention", T_STR, U_OK, "0",       \
	  "Clustering",                                                        \
	  "Auto compaction retention length. 0 means disable auto "            \
	  "compaction.")                                                       \
	X(O_AC_MODE, "auto-compaction-mode", T_STR, U_OK, "periodic",          \
	  "Clustering",                                                        \
	  "Interpret 'auto-compaction-retention' one of: periodic|revision.")  \
	X(O_ENABLE_V2, "enable-v2", T_BOOL, U_OK, "false", "Clustering",       \
	  "Accepted for compatibility; the v2 API answers 404 (not "           \
	  "available in cetcd).")                                              \
	X(O_LOGGER, "logger", T_STR, U_OK, "capnslog", "Logging",              \
	  "Accepted: 'zap' or 'capnslog'; cetcd writes one line per event.")   \
	X(O_LOG_OUTPUTS, "log-outputs", T_STR, U_OK, "default", "Logging",     \
	  "Accepted; cetcd logs to stderr (journald under systemd).")          \
	X(O_LOG_LEVEL, "log-level", T_STR, U_OK, "info", "Logging",            \
	  "Configures log level: debug, info, warn, error, panic, or fatal.")  \
	X(O_CONFIG_FILE, "config-file", T_STR, U_OK, "", "Other",              \
	  "Path to the server configuration file. Note that if a "             \
	  "configuration file is provided, other command line flags and "      \
	  "environment variables will be ignored.")                            \
	X(O_VERSION, "version", T_BOOL, U_VERSION, "false", "Other",           \
	  "Print the version and exit.")                                       \
	/* accepted, not implemented: a warning each */                        \
	X(O_I1, "initial-election-tick-advance", T_BOOL, U_IGNORED, "true",    \
	  "", "")                                                              \
	X(O_I2, "max-snapshots", T_STR, U_IGNORED, "5", "", "")                \
	X(O_I3, "max-wals", T_STR, U_IGNORED, "5", "", "")                     \
	X(O_I4, "backend-batch-interval", T_STR, U_IGNORED, "", "", "")        \
	X(O_I5, "backend-batch-limit", T_STR, U_IGNORED, "0", "", "")          \
	X(O_I6, "backend-bbolt-freelist-type", T_STR, U_IGNORED, "map", "",    \
	  "")                                                                  \
	X(O_I7, "max-concurrent-streams", T_STR, U_IGNORED, "", "", "")        \
	X(O_I8, "grpc-keepalive-min-time", T_STR, U_IGNORED, "5s", "", "")     \
	X(O_I9, "grpc-keepalive-interval", T_STR, U_IGNORED, "2h", "", "")     \
	X(O_I10, "grpc-keepalive-timeout", T_STR, U_IGNORED, "20s", "", "")    \
	X(O_I11, "socket-reuse-port", T_BOOL, U_IGNORED, "false", "", "")      \
	X(O_I12, "socket-reuse-address", T_BOOL, U_IGNORED, "false", "", "")   \
	X(O_I13, "raft-read-timeout", T_STR, U_IGNORED, "5s", "", "")          \
	X(O_I14, "raft-write-timeout", T_STR, U_IGNORED, "5s", "", "")         \
	X(O_I15, "listen-client-http-urls", T_STR, U_IGNORED, "", "", "")      \
	X(O_I16, "listen-metrics-urls", T_STR, U_IGNORED, "", "", "")          \
	X(O_I17, "strict-reconfig-check", T_BOOL, U_IGNORED, "true", "", "")   \
	X(O_I18, "pre-vote", T_BOOL, U_IGNORED, "false", "", "")               \
	X(O_I19, "v2-deprecation", T_STR, U_IGNORED, "not-yet", "", "")        \
	X(O_I20, "enable-grpc-gateway", T_BOOL, U_IGNORED, "true", "", "")     \
	X(O_I21, "cors", T_STR, U_IGNORED, "*", "", "")                        \
	X(O_I22, "host-whitelist", T_STR, U_IGNORED, "*", "", "")              \
	X(O_I23, "enable-pprof", T_BOOL, U_IGNORED, "false", "", "")           \
	X(O_I24, "metrics", T_STR, U_IGNORED, "basic", "", "")                 \
	X(O_I25, "enable-log-rotation", T_BOOL, U_IGNORED, "false", "", "")    \
	X(O_I26, "log-rotation-config-json", T_STR, U_IGNORED, "", "", "")     \
	X(O_I27, "debug", T_BOOL, U_IGNORED, "false", "", "")                  \
	X(O_I28, "log-package-levels", T_STR, U_IGNORED, "", "", "")           \
	X(O_I29, "log-output", T_STR, U_IGNORED, "default", "", "")            \
	X(O_I30, "unsafe-no-fsync", T_BOOL, U_IGNORED, "false", "", "")        \
	X(O_I31, "experimental-initial-corrupt-check", T_BOOL, U_IGNORED,      \
	  "false", "", "")                                                     \
	X(O_I32, "experimental-corrupt-check-time", T_STR, U_IGNORED, "0s",    \
	  "", "")                                                              \
	X(O_I33, "experimental-compact-hash-check-enabled", T_BOOL, U_IGNORED, \
	  "false", "", "")                                                     \
	X(O_I34, "experimental-compact-hash-check-time", T_STR, U_IGNORED,     \
	  "1m", "", "")                                                        \
	X(O_I35, "experimental-enable-lease-checkpoint", T_BOOL, U_IGNORED,    \
	  "false", "", "")                                                     \
	X(O_I36, "experimental-enable-lease-checkpoint-persist", T_BOOL,       \
	  U_IGNORED, "false", "", "")                                          \
	X(O_I37, "experimental-compaction-batch-limit", T_STR, U_IGNORED,      \
	  "1000", "", "")                                                      \
	X(O_I38, "experimental-compaction-sleep-interval", T_STR, U_IGNORED,   \
	  "10ms", "", "")                                                      \
	X(O_I40, "experimental-downgrade-check-time", T_STR, U_IGNORED, "5s",  \
	  "", "")                                                              \
	X(O_I41, "experimental-memory-mlock", T_BOOL, U_IGNORED, "false", "",  \
	  "")                                                                  \
	X(O_I42, "experimental-warning-apply-duration", T_STR, U_IGNORED,      \
	  "100ms", "", "")                                                     \
	X(O_I43, "experimental-warning-unary-request-duration", T_STR,         \
	  U_IGNORED, "300ms", "", "")                                          \
	X(O_I44, "experimental-txn-mode-write-with-shared-buffer", T_BOOL,     \
	  U_IGNORED, "true", "", "")                                           \
	X(O_I45, "experimental-bootstrap-defrag-threshold-megabytes", T_STR,   \
	  U_IGNORED, "0", "", "")                                              \
	X(O_I46, "experimental-stop-grpc-service-on-defrag", T_BOOL,           \
	  U_IGNORED, "false", "", "")                                          \
	X(O_I48, "experimental-max-learners", T_STR, U_IGNORED, "1", "", "")   \
	X(O_I49, "experimental-backend-bbolt-freelist-type", T_STR, U_IGNORED, \
	  "array", "", "")                                                     \
	X(O_I50, "experimental-enable-distributed-tracing", T_BOOL, U_IGNORED, \
	  "false", "", "")                                                     \
	X(O_I51, "experimental-distributed-tracing-address", T_STR, U_IGNORED, \
	  "localhost:4317", "", "")                                            \
	X(O_I52, "experimental-distributed-tracing-service-name", T_STR,       \
	  U_IGNORED, "etcd", "", "")                                           \
	X(O_I53, "experimental-distributed-tracing-instance-id", T_STR,        \
	  U_IGNORED, "", "", "")                                               \
	X(O_I54, "experimental-distributed-tracing-sampling-rate", T_STR,      \
	  U_IGNORED, "0", "", "")                                              \
	/* features not built yet: refused unless left at the default */       \
	X(O_R1, "cert-file", T_STR, U_REFUSED, "", "", TLS_NO)                 \
	X(O_R2, "key-file", T_STR, U_REFUSED, "", "", TLS_NO)                  \
	X(O_R3, "client-cert-auth", T_BOOL, U_REFUSED, "false", "", TLS_NO)    \
	X(O_R4, "client-crl-file", T_STR, U_REFUSED, "", "", TLS_NO)           \
	X(O_R5, "client-cert-allowed-hostname", T_STR, U_REFUSED, "", "",      \
	  TLS_NO)                                                              \
	X(O_R6, "trusted-ca-file", T_STR, U_REFUSED, "", "", TLS_NO)           \
	X(O_R7, "auto-tls", T_BOOL, U_REFUSED, "false", "", TLS_NO)            \
	X(O_R8, "peer-cert-file", T_STR, U_REFUSED, "", "", TLS_NO)            \
	X(O_R9, "peer-key-file", T_STR, U_REFUSED, "", "", TLS_NO)             \
	X(O_R10, "peer-client-cert-auth", T_BOOL, U_REFUSED, "false", "",      \
	  TLS_NO)                                                              \
	X(O_R11, "peer-trusted-ca-file", T_STR, U_REFUSED, "", "", TLS_NO)     \
	X(O_R12, "peer-cert-allowed-cn", T_STR, U_REFUSED, "", "", TLS_NO)     \
	X(O_R13, "peer-cert-allowed-hostname", T_STR, U_REFUSED, "", "",       \
	  TLS_NO)                                                              \
	X(O_R14, "peer-auto-tls", T_BOOL, U_REFUSED, "false", "", TLS_NO)      \
	X(O_R15, "peer-crl-file", T_STR, U_REFUSED, "", "", TLS_NO)            \
	X(O_R16, "cipher-suites", T_STR, U_REFUSED, "", "", TLS_NO)            \
	X(O_R17, "client-cert-file", T_STR, U_REFUSED, "", "", TLS_NO)         \
	X(O_R18, "client-key-file", T_STR, U_REFUSED, "", "", TLS_NO)          \
	X(O_R19, "peer-client-cert-file", T_STR, U_REFUSED, "", "", TLS_NO)    \
	X(O_R20, "peer-client-key-file", T_STR, U_REFUSED, "", "", TLS_NO)     \
	X(O_R21, "self-signed-cert-validity", T_STR, U_REFUSED, "1", "",       \
	  TLS_NO)                                                              \
	X(O_R22, "tls-min-version", T_STR, U_REFUSED, "", "", TLS_NO)          \
	X(O_R23, "tls-max-version", T_STR, U_REFUSED, "", "", TLS_NO)          \
	X(O_R24, "experimental-peer-skip-client-san-verification", T_BOOL,     \
	  U_REFUSED, "false", "", TLS_NO)                                      \
	X(O_R25, "auth-token", T_STR, U_REFUSED, "simple", "", AUTH_NO)        \
	X(O_R26, "bcrypt-cost", T_STR, U_REFUSED, "10", "", AUTH_NO)           \
	X(O_R27, "auth-token-ttl", T_STR, U_REFUSED, "300", "", AUTH_NO)       \
	X(O_R28, "discovery", T_STR, U_REFUSED, "", "", DISC_NO)               \
	X(O_R29, "discovery-fallback", T_STR, U_REFUSED, "proxy", "", DISC_NO) \
	X(O_R30, "discovery-proxy", T_STR, U_REFUSED, "", "", DISC_NO)         \
	X(O_R31, "discovery-srv", T_STR, U_REFUSED, "", "", DISC_NO)           \
	X(O_R32, "discovery-srv-name", T_STR, U_REFUSED, "", "", DISC_NO)      \
	X(O_R33, "proxy", T_STR, U_REFUSED, "off", "", PROXY_NO)               \
	X(O_R34, "proxy-failure-wait", T_STR, U_REFUSED, "5000", "", PROXY_NO) \
	X(O_R35, "proxy-refresh-interval", T_STR, U_REFUSED, "30000", "",      \
	  PROXY_NO)                                                            \
	X(O_R36, "proxy-dial-timeout", T_STR, U_REFUSED, "1000", "", PROXY_NO) \
	X(O_R37, "proxy-write-timeout", T_STR, U_REFUSED, "5000", "",          \
	  PROXY_NO)                                                            \
	X(O_R38, "proxy-read-timeout", T_STR, U_REFUSED, "0", "", PROXY_NO)    \
	X(O_R39, "force-new-cluster", T_BOOL, U_REFUSED, "false", "",          \
	  "force-new-cluster is not supported yet; remove it")                 \
	X(O_R40, "experimental-enable-v2v3", T_STR, U_REFUSED, "", "",         \
	  "the v2 emulation is not supported yet; remove it")                  \
	/* etcd compat: legacy flags etcd itself accepts and ignores */        \
	X(O_L1, "cluster-active-size", T_BOOL, U_LEGACY, "", "", "")           \
	X(O_L2, "cluster-remove-delay", T_BOOL, U_LEGACY, "", "", "")          \
	X(O_L3, "cluster-sync-interval", T_BOOL, U_LEGACY, "", "", "")         \
	X(O_L4, "config", T_BOOL, U_LEGACY, "", "", "")                        \
	X(O_L5, "force", T_BOOL, U_LEGACY, "", "", "")                         \
	X(O_L6, "max-result-buffer", T_BOOL, U_LEGACY, "", "", "")             \
	X(O_L7, "max-retry-attempts", T_BOOL, U_LEGACY, "", "", "")            \
	X(O_L8, "peer-heartbeat-interval", T_BOOL, U_LEGACY, "", "", "")       \
	X(O_L9, "peer-election-timeout", T_BOOL, U_LEGACY, "", "", "")         \
	X(O_L10, "retry-interval", T_BOOL, U_LEGACY, "", "", "")               \
	X(O_L11, "snapshot", T_BOOL, U_LEGACY, "", "", "")                     \
	X(O_L12, "v", T_BOOL, U_LEGACY, "", "", "")                            \
	X(O_L13, "vv", T_BOOL, U_LEGACY, "", "", "")

enum opt_id {
#define OPT_ENUM_(id, name, type, use, def, group, help) id,
	OPTS(OPT_ENUM_)
#undef OPT_ENUM_
	    O_COUNT_
};

struct opt {
	const char *name;
	enum opt_type type;
	enum opt_use use;
	const char *def;
	const char *group;
	const char *help;
};

static const struct opt opts[O_COUNT_] = {
#define OPT_ROW_(id, name, type, use, def, group, help) \
	{name, type, use, def, group, help},
    OPTS(OPT_ROW_)
#undef OPT_ROW_
};

/* etcd compat: 3.5's DefaultMaxElectionMs-like bound (embed/config.go). */
#define MAX_ELECTION_MS 50000
#define DEFAULT_INITIAL_CLUSTER "default=http://localhost:2380"

enum src { SRC_DEFAULT, SRC_FLAG, SRC_ENV, SRC_FILE };

struct ctx {
	const char *raw[O_COUNT_];
	enum src src[O_COUNT_];
	char *owned[O_COUNT_]; /* YAML values (raw points here) */
	const char *file;      /* the config file, in file mode */
	char *err;	       /* the one message */
	bool nomem;
	struct config *c;
};

static int find_opt(const char *name, size_t len)
{
	for (int i = 0; i < O_COUNT_; i++) {
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0) {
			return i;
		}
	}
	return -1;
}

/* "ETCD_" + upper snake name. */
static void env_name(int id, char *out, size_t size)
{
	size_t j = 0;
	const char *p = opts[id].name;

	j = (size_t)snprintf(out, size, "ETCD_");
	for (; *p && j + 1 < size; p++) {
		out[j++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
	}
	out[j] = '\0';
}

/* The option as the user wrote it: --name, ETCD_NAME, name in file F. */
static void label(const struct ctx *x, int id, char *out, size_t size)
{
	switch (x->src[id]) {
	case SRC_ENV:
		env_name(id, out, size);
		return;
	case SRC_FILE:
		snprintf(out, size, "%s (config file %s)", opts[id].name,
			 x->file);
		return;
	case SRC_DEFAULT:
	case SRC_FLAG:
		break;
	}
	snprintf(out, size, "--%s", opts[id].name);
}

static int fail(struct ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail(struct ctx *x, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int r;

	if (x->err || x->nomem) {
		return x->nomem ? -ENOMEM : -ERR_CONFIG;
	}
	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r < 0) {
		buf_done(&b);
		x->nomem = true;
		return -ENOMEM;
	}
	x->err = (char *)buf_steal(&b, NULL);
	return -ERR_CONFIG;
}

/*
 * "invalid value "V" for <where>: <why>" in etcd's wording for each source
 * (Go's flag package for flags, pkg/flags for variables).
 */
static int bad_value(struct ctx *x, int id, const char *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad_value(struct ctx *x, int id, const char *v, const char *fmt, ...)
{
	char why[1024];
	char where[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	switch (x->src[id]) {
	case SRC_ENV:
		env_name(id, where, sizeof(where));
		break;
	case SRC_FILE:
		snprintf(where, sizeof(where), "%s in config file %s",
			 opts[id].name, x->file);
		break;
	case SRC_DEFAULT:
	case SRC_FLAG:
		snprintf(where, sizeof(where), "flag -%s", opts[id].name);
		break;
	}
	return fail(x, "invalid value \"%s\" for %s: %s", v, where, why);
}

static int warn(struct ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int warn(struct ctx *x, const char *fmt, ...)
{
	struct config *c = x->c;
	struct buf b = BUF_INIT;
	char **w;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(&b, fmt, ap);
	va_end(ap);
	if (r < 0) {
		goto nomem;
	}
	w = mem_realloc(c->warnings, (c->n_warnings + 1) * sizeof(*w));
	if (!w) {
		goto nomem;
	}
	c->warnings = w;
	c->warnings[c->n_warnings++] = (char *)buf_steal(&b, NULL);
	return 0;
nomem:
	buf_done(&b);
	x->nomem = true;
	return -ENOMEM;
}

static const char *val(const struct ctx *x, int id)
{
	return x->raw[id] ? x->raw[id] : opts[id].def;
}

/* Go's strconv.ParseBool. */
static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"1",	  "t",	  "T",
					  "TRUE", "true", "True"};
	static const char *const no[] = {"0",	  "f",	   "F",
					 "FALSE", "false", "False"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Go's strconv.ParseUint(s, 0, 64) closely enough: decimal, 0x hex, 0
 * octal; no sign, no spaces.  -EINVAL ("parse error") or -ERANGE.
 */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)s[0])) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoull(s, &end, 0);
	if (*end != '\0') {
		return -EINVAL;
	}
	if (errno == ERANGE) {
		return -ERANGE;
	}
	*out = v;
	return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-' || *p == '+') {
		p++;
	}
	if (!isdigit((unsigned char)*p)) {
		return -EINVAL;
	}
	errno = 0;
	v = strtoll(s, &end, 0);
	if (*end != '\0') {
		return -EINVAL;
	}
	if (errno == ERANGE) {
		return -ERANGE;
	}
	*out = v;
	return 0;
}

static const char *num_err(int r)
{
	return r == -ERANGE ? "value out of range" : "parse error";
}

static int get_uint(struct ctx *x, int id, const char *unit, unsigned *out)
{
	const char *v = val(x, id);
	uint64_t u;
	int r = parse_u64(v, &u);

	if (r == 0 && u > UINT_MAX) {
		r = -ERANGE;
	}
	if (r < 0) {
		return bad_value(x, id, v, "%s (expected a whole number of %s)",
				 num_err(r), unit);
	}
	*out = (unsigned)u;
	return 0;
}

static int get_bool(struct ctx *x, int id, bool *out)
{
	const char *v = val(x, id);

	if (parse_bool(v, out) < 0) {
		return bad_value(x, id, v, "parse error (use true or false)");
	}
	return 0;
}

/* ---- URLs ---------------------------------------------------------- */

static void url_done(struct config_url *u)
{
	mem_free(u->url);
	mem_free(u->scheme);
	mem_free(u->host);
}

static void urls_done(struct config_urls *l)
{
	for (size_t i = 0; i < l->n; i++) {
		url_done(&l->v[i]);
	}
	mem_free(l->v);
	l->v = NULL;
	l->n = 0;
}

/*
 * Parse one URL as etcd's types.NewURLs accepts it, narrowed to what cetcd
 * serves (http only).  On a bad URL fills why (the etcd wording plus the
 * fix) and returns -EINVAL; -ENOMEM.  port_hint is the usual port for the
 * example in the fix.
 */
static int url_parse(const char *in, unsigned port_hint, struct config_url *out,
		     char *why, size_t why_size)
{
	char scheme[16];
	const char *sep = strstr(in, "://");
	const char *auth, *end, *colon;
	size_t slen, alen, hlen;
	unsigned long port;
	char *pend;

	if (!sep || sep == in || (size_t)(sep - in) >= sizeof(scheme)) {
		snprintf(why, why_size,
			 "URL scheme must be http, https, unix, or unixs: %s "
			 "(write URLs as http://host:port, e.g. "
			 "http://127.0.0.1:%u)",
			 in, port_hint);
		return -EINVAL;
	}
	slen = (size_t)(sep - in);
	for (size_t i = 0; i < slen; i++) {
		scheme[i] = (char)tolower((unsigned char)in[i]);
	}
	scheme[slen] = '\0';
	if (strcmp(scheme, "https") == 0 || strcmp(scheme, "unixs") == 0) {
		snprintf(why, why_size,
			 "%s: TLS is not supported yet (use http:// URLs)", in);
		return -EINVAL;
	}
	if (strcmp(scheme, "unix") == 0) {
		snprintf(why, why_size,
			 "%s: unix sockets are not supported yet (use "
			 "http://host:port)",
			 in);
		return -EINVAL;
	}
	if (strcmp(scheme, "http") != 0) {
		snprintf(why, why_size,
			 "URL scheme must be http, https, unix, or unixs: %s "
			 "(use http://host:port)",
			 in);
		return -EINVAL;
	}
	auth = sep + 3;
	end = auth + strcspn(auth, "/?#");
	alen = (size_t)(end - auth);
	if (*end == '/') {
		snprintf(why, why_size,
			 "URL must not contain a path: %s (remove \"%s\")", in,
			 end);
		return -EINVAL;
	}
	if (*end == '?' || *end == '#' || memchr(auth, '@', alen)) {
		snprintf(why, why_size,
			 "URL must be scheme://host:port only: %s (remove "
			 "the user, query or fragment)",
			 in);
		return -EINVAL;
	}
	if (auth[0] == '[') {
		const char *rb = memchr(auth, ']', alen);

		colon = rb && rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(auth, ':', alen);
		if (colon &&
		    memchr(colon + 1, ':', (size_t)(end - colon - 1))) {
			colon = NULL; /* too many colons: IPv6 needs [] */
		}
	}
	if (!colon || colon + 1 == end) {
		snprintf(why, why_size,
			 "URL address does not have the form \"host:port\": "
			 "%s (add the port, e.g. http://%.*s:%u)",
			 in, (int)alen, auth, port_hint);
		return -EINVAL;
	}
	errno = 0;
	port = strtoul(colon + 1, &pend, 10);
	if (pend != end || !isdigit((unsigned char)colon[1]) || port == 0 ||
	    port > 65535 || errno) {
		snprintf(why, why_size,
			 "URL port must be a number from 1 to 65535: %s", in);
		return -EINVAL;
	}
	hlen = (size_t)(colon - auth);
	if (auth[0] == '[') {
		auth++;
		hlen -= 2;
	}
	out->scheme = mem_strdup(scheme);
	out->host = mem_strndup(auth, hlen);
	out->url = mem_alloc(slen + 3 + alen + 1);
	if (!out->scheme || !out->host || !out->url) {
		url_done(out);
		return -ENOMEM;
	}
	snprintf(out->url, slen + 3 + alen + 1, "%s://%.*s", scheme, (int)alen,
		 sep + 3);
	out->port = (uint16_t)port;
	return 0;
}

static int cmp_url(const void *a, const void *b)
{
	return strcmp(((const struct config_url *)a)->url,
		      ((const struct config_url *)b)->url);
}

/*
 * Parse a comma-separated list into *out, sorted; with unique, drop
 * repeated URLs (etcd's UniqueURLs for the four URL flags).
 */
static int urls_parse(const char *s, unsigned port_hint, bool unique,
		      struct config_urls *out, char *why, size_t why_size)
{
	struct config_urls l = {NULL, 0};
	size_t n = 1;
	const char *p = s;
	int r = 0;

	for (const char *q = s; *q; q++) {
		n += *q == ',';
	}
	l.v = mem_calloc(n, sizeof(*l.v));
	if (!l.v) {
		return -ENOMEM;
	}
	for (;;) {
		size_t len = strcspn(p, ",");
		_cleanup_free_ char *item = NULL;
		char *a, *z;

		item = mem_strndup(p, len);
		if (!item) {
			r = -ENOMEM;
			break;
		}
		/* Go's strings.TrimSpace. */
		for (a = item; isspace((unsigned char)*a); a++) {
		}
		z = a + strlen(a);
		while (z > a && isspace((unsigned char)z[-1])) {
			*--z = '\0';
		}
		r = url_parse(a, port_hint, &l.v[l.n], why, why_size);
		if (r < 0) {
			break;
		}
		l.n++;
		if (p[len] == '\0') {
			break;
		}
		p += len + 1;
	}
	if (r < 0) {
		urls_done(&l);
		return r;
	}
	if (l.n > 1) { /* qsort(NULL, 0) is undefined */
		qsort(l.v, l.n, sizeof(*l.v), cmp_url);
	}
	if (unique) {
		size_t k = 0;

		for (size_t i = 0; i < l.n; i++) {
			if (k > 0 && strcmp(l.v[k - 1].url, l.v[i].url) == 0) {
				url_done(&l.v[i]);
				continue;
			}
			l.v[k++] = l.v[i];
		}
		l.n = k;
	}
	*out = l;
	return 0;
}

static int get_urls(struct ctx *x, int id, unsigned port_hint,
		    struct config_urls *out)
{
	const char *v = val(x, id);
	char why[1024];
	int r = urls_parse(v, port_hint, true, out, why, sizeof(why));

	if (r == -EINVAL) {
		return bad_value(x, id, v, "%s", why);
	}
	if (r < 0) {
		x->nomem = true;
	}
	return r;
}

static int join_urls(const struct config_urls *l, const char *prefix,
		     struct buf *b)
{
	int r = 0;

	for (size_t i = 0; i < l->n && r >= 0; i++) {
		r = buf_printf(b, "%s%s%s", i ? "," : "", prefix ? prefix : "",
			       l->v[i].url);
	}
	return r;
}

static bool host_is_ip(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

/* etcd compat: embed.checkBindURLs - listen URLs need an IP or localhost. */
static int check_bind(struct ctx *x, int id, const struct config_urls *l)
{
	char lb[512];

	for (size_t i = 0; i < l->n; i++) {
		const char *h = l->v[i].host;

		if (strcmp(h, "localhost") == 0 || host_is_ip(h)) {
			continue;
		}
		label(x, id, lb, sizeof(lb));
		return fail(
		    x,
		    "%s \"%s\": expected IP in URL for binding (%s) "
		    "(listen URLs take an IP address or localhost, e.g. "
		    "http://0.0.0.0:%u)",
		    lb, val(x, id), l->v[i].url, l->v[i].port);
	}
	return 0;
}

/* etcd compat: embed.checkHostURLs - advertised URLs need a host. */
static int check_host(struct ctx *x, int id, const struct config_urls *l)
{
	char lb[512];

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].host[0] != '\0') {
			continue;
		}
		label(x, id, lb, sizeof(lb));
		return fail(x,
			    "%s \"%s\" must be \"host:port\" (unexpected empty "
			    "host (%s)) (advertise an address other members "
			    "and clients can reach)",
			    lb, val(x, id), l->v[i].url);
	}
	return 0;
}

/* ---- argv, environment, YAML ---------------------------------------- */

/* Go's flag.FlagSet.Parse, one argument at a time. */
static int scan_argv(struct ctx *x, int argc, char *const argv[])
{
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];
		const char *name, *eq;
		size_t nlen;
		int dashes = 1, id;

		if (strlen(s) < 2 || s[0] != '-') {
			return fail(x,
				    "'%s' is not a valid flag (flags start "
				    "with - or --, e.g. --name NAME; a boolean "
				    "flag takes its value as --flag=false)",
				    s);
		}
		if (s[1] == '-') {
			dashes = 2;
			if (s[2] == '\0') {
				if (i + 1 < argc) {
					return fail(x,
						    "'%s' is not a valid flag "
						    "(nothing may follow --)",
						    argv[i + 1]);
				}
				return 0;
			}
		}
		name = s + dashes;
		if (name[0] == '-' || name[0] == '=') {
			return fail(x,
				    "bad flag syntax: %s (write flags as "
				    "-name value, --name value or "
				    "--name=value)",
				    s);
		}
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		id = find_opt(name, nlen);
		if (id < 0 && ((nlen == 4 && strncmp(name, "help", 4) == 0) ||
			       (nlen == 1 && name[0] == 'h'))) {
			x->c->action = CONFIG_HELP;
			return 0;
		}
		if (id < 0) {
			return fail(x,
				    "flag provided but not defined: -%.*s "
				    "(see cetcd --help for the flags cetcd "
				    "knows)",
				    (int)nlen, name);
		}
		x->src[id] = SRC_FLAG;
		if (opts[id].type == T_BOOL) {
			bool b;

			x->raw[id] = eq ? eq + 1 : "true";
			if (opts[id].use != U_LEGACY &&
			    parse_bool(x->raw[id], &b) < 0) {
				return fail(x,
					    "invalid boolean value \"%s\" for "
					    "-%s: parse error (use -%s=true or "
					    "-%s=false)",
					    x->raw[id], opts[id].name,
					    opts[id].name, opts[id].name);
			}
			continue;
		}
		if (eq) {
			x->raw[id] = eq + 1;
		} else if (i + 1 < argc) {
			x->raw[id] = argv[++i];
		} else {
			return fail(x,
				    "flag needs an argument: -%s (give it as "
				    "--%s VALUE or --%s=VALUE)",
				    opts[id].name, opts[id].name,
				    opts[id].name);
		}
	}
	return 0;
}

static const char *env_get(char *const envp[], const char *key)
{
	size_t kl = strlen(key);

	for (size_t i = 0; envp && envp[i]; i++) {
		if (strncmp(envp[i], key, kl) == 0 && envp[i][kl] == '=') {
			return envp[i] + kl + 1;
		}
	}
	return NULL;
}

/* etcd compat: pkg/flags SetFlagsFromEnv and verifyEnv. */
static int scan_env(struct ctx *x, char *const envp[])
{
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *e = envp[i];
		const char *eq = strchr(e, '=');
		char name[128];
		size_t n, k;
		int id;

		if (strncmp(e, "ETCD_", 5) != 0 || !eq) {
			continue;
		}
		/*
		 * etcd compat: ETCD_UNSUPPORTED_ARCH is read before the flags
		 * (etcdmain checkSupportArch) and 3.5 unsets ETCD_VERSION
		 * (Docker images export it); neither is an option.
		 */
		n = (size_t)(eq - e);
		if ((n == 21 && strncmp(e, "ETCD_UNSUPPORTED_ARCH", n) == 0) ||
		    (n == 12 && strncmp(e, "ETCD_VERSION", n) == 0)) {
			continue;
		}
		id = -1;
		if (n - 5 < sizeof(name)) {
			for (k = 0; k < n - 5; k++) {
				char ch = e[5 + k];

				name[k] =
				    ch == '_'
					? '-'
					: (char)tolower((unsigned char)ch);
			}
			/* Only exact upper-case spellings map to a flag. */
			id = find_opt(name, k);
			if (id >= 0) {
				char want[160];

				env_name(id, want, sizeof(want));
				if (strlen(want) != n ||
				    strncmp(want, e, n) != 0) {
					id = -1;
				}
			}
		}
		if (id < 0) {
			if (warn(x, "unrecognized environment variable %s", e) <
			    0) {
				return -ENOMEM;
			}
			continue;
		}
		if (x->src[id] == SRC_FLAG) {
			return fail(x,
				    "conflicting environment variable \"%.*s\" "
				    "is shadowed by corresponding command-line "
				    "flag --%s (either unset environment "
				    "variable or disable flag)",
				    (int)n, e, opts[id].name);
		}
		if (eq[1] == '\0' || x->src[id] == SRC_ENV) {
			continue; /* etcd: empty values are not used */
		}
		x->raw[id] = eq + 1;
		x->src[id] = SRC_ENV;
	}
	return 0;
}

static int yaml_scalar_of(struct ctx *x, yaml_document_t *doc,
			  yaml_node_t *node, int id, char **out)
{
	struct buf b = BUF_INIT;
	int r = 0;

	if (node->type == YAML_SCALAR_NODE) {
		const char *s = (const char *)node->data.scalar.value;
		size_t len = node->data.scalar.length;
		bool plain = node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;

		if (plain && (len == 0 || strcmp(s, "~") == 0 ||
			      strcasecmp(s, "null") == 0)) {
			*out = NULL;
			return 0;
		}
		/* YAML 1.1 booleans, which etcd's YAML reader also takes. */
		if (plain && opts[id].type == T_BOOL) {
			if (strcasecmp(s, "yes") == 0 ||
			    strcasecmp(s, "on") == 0 ||
			    strcasecmp(s, "y") == 0) {
				s = "true";
			} else if (strcasecmp(s, "no") == 0 ||
				   strcasecmp(s, "off") == 0 ||
				   strcasecmp(s, "n") == 0) {
				s = "false";
			}
		}
		*out = mem_strdup(s);
		return *out ? 0 : -ENOMEM;
	}
	if (node->type == YAML_SEQUENCE_NODE) {
		/* log-outputs is a list in etcd's file; join any list. */
		for (yaml_node_item_t *it = node->data.sequence.items.start;
		     it < node->data.sequence.items.top && r >= 0; it++) {
			yaml_node_t *item = yaml_document_get_node(doc, *it);

			if (!item || item->type != YAML_SCALAR_NODE) {
				buf_done(&b);
				return fail(
				    x,
				    "config file %s: %s (line %zu) must "
				    "be a value or a list of values",
				    x->file, opts[id].name,
				    node->start_mark.line + 1);
			}
			r = buf_printf(&b, "%s%s", b.len ? "," : "",
				       (const char *)item->data.scalar.value);
		}
		if (r < 0) {
			buf_done(&b);
			return -ENOMEM;
		}
		*out = b.len ? (char *)buf_steal(&b, NULL) : NULL;
		return 0;
	}
	return fail(x,
		    "config file %s: %s (line %zu) must be a value, not a "
		    "mapping",
		    x->file, opts[id].name, node->start_mark.line + 1);
}

/*
 * etcd's file nests TLS settings under client-transport-security and
 * peer-transport-security; anything set there needs TLS.
 */
static int yaml_security(struct ctx *x, yaml_document_t *doc, const char *key,
			 yaml_node_t *node)
{
	if (node->type != YAML_MAPPING_NODE) {
		return 0;
	}
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start;
	     p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);
		yaml_node_t *v = yaml_document_get_node(doc, p->value);
		const char *s;

		if (!k || !v || v->type != YAML_SCALAR_NODE ||
		    k->type != YAML_SCALAR_NODE) {
			continue;
		}
		s = (const char *)v->data.scalar.value;
		if (s[0] == '\0' || strcasecmp(s, "false") == 0 ||
		    strcmp(s, "~") == 0 || strcasecmp(s, "null") == 0) {
			continue;
		}
		return fail(x, "%s.%s \"%s\" (config file %s): " TLS_NO, key,
			    (const char *)k->data.scalar.value, s, x->file);
	}
	return 0;
}

static int read_yaml(struct ctx *x, const char *path)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	FILE *f;
	int r = 0;

	f = fopen(path, "re");
	if (!f) {
		return fail(x,
			    "cannot read config file \"%s\": %s (fix "
			    "--config-file or ETCD_CONFIG_FILE)",
			    path, strerror(errno));
	}
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		x->nomem = true;
		return -ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		r = fail(x,
			 "config file %s: line %zu column %zu: %s (fix the "
			 "YAML syntax)",
			 path, parser.problem_mark.line + 1,
			 parser.problem_mark.column + 1,
			 parser.problem ? parser.problem : "invalid YAML");
		yaml_parser_delete(&parser);
		fclose(f);
		return r;
	}
	root = yaml_document_get_root_node(&doc);
	if (root && root->type != YAML_MAPPING_NODE) {
		r = fail(x,
			 "config file %s: expected a mapping of option names "
			 "to values (e.g. \"name: n1\")",
			 path);
	}
	for (yaml_node_pair_t *p =
		 root && r == 0 ? root->data.mapping.pairs.start : NULL;
	     p && p < root->data.mapping.pairs.top && r == 0; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		const char *key;
		char *s = NULL;
		int id;

		if (!k || !v || k->type != YAML_SCALAR_NODE) {
			continue;
		}
		key = (const char *)k->data.scalar.value;
		if (strcmp(key, "client-transport-security") == 0 ||
		    strcmp(key, "peer-transport-security") == 0) {
			r = yaml_security(x, &doc, key, v);
			continue;
		}
		id = find_opt(key, strlen(key));
		if (id < 0 || id == O_CONFIG_FILE || id == O_VERSION) {
			/* etcd ignores unknown keys silently; say so. */
			r = warn(
			    x,
			    "config file %s: unknown key \"%s\" (line %zu) "
			    "ignored",
			    path, key, k->start_mark.line + 1);
			continue;
		}
		r = yaml_scalar_of(x, &doc, v, id, &s);
		if (r < 0) {
			if (r == -ENOMEM) {
				x->nomem = true;
			}
			break;
		}
		mem_free(x->owned[id]);
		x->owned[id] = s;
		x->raw[id] = s;
		x->src[id] = s ? SRC_FILE : SRC_DEFAULT;
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return r;
}

/* Steps 2 and 3 of the file comment. */
static int collect(struct ctx *x, char *const envp[])
{
	const char *file = x->raw[O_CONFIG_FILE];
	char lb[512];
	int r;

	if (!file || !*file) {
		file = env_get(envp, "ETCD_CONFIG_FILE");
	}
	if (file && *file) {
		x->file = file;
		for (int i = 0; i < O_COUNT_; i++) {
			if (x->src[i] == SRC_FLAG && i != O_CONFIG_FILE) {
				r = warn(x,
					 "--%s is ignored: a config file is "
					 "used (%s), as etcd does",
					 opts[i].name, file);
				if (r < 0) {
					return r;
				}
			}
			x->raw[i] = NULL;
			x->src[i] = SRC_DEFAULT;
		}
		r = read_yaml(x, file);
	} else {
		r = scan_env(x, envp);
	}
	if (r < 0) {
		return r;
	}
	for (int i = 0; i < O_COUNT_; i++) {
		const char *v = x->raw[i];
		bool b;

		if (!v) {
			continue;
		}
		label(x, i, lb, sizeof(lb));
		switch (opts[i].use) {
		case U_OK:
		case U_VERSION:
			break;
		case U_LEGACY:
			/* etcd compat: pkg/flags IgnoredFlag's warning. */
			r = warn(x,
				 "flag \"-%s\" is no longer supported - "
				 "ignoring.",
				 opts[i].name);
			break;
		case U_IGNORED:
			if (opts[i].type == T_BOOL && get_bool(x, i, &b) < 0) {
				return -ERR_CONFIG;
			}
			if (x->src[i] == SRC_FILE) {
				r = warn(x,
					 "%s: %s in config file %s is accepted "
					 "but ignored: cetcd does not "
					 "implement it yet",
					 opts[i].name, v, x->file);
			} else {
				r = warn(x,
					 "%s=%s is accepted but ignored: cetcd "
					 "does not implement it yet",
					 lb, v);
			}
			break;
		case U_REFUSED:
			if (opts[i].type == T_BOOL) {
				if (get_bool(x, i, &b) < 0) {
					return -ERR_CONFIG;
				}
				if (!b) {
					break;
				}
			} else if (strcmp(v, opts[i].def) == 0) {
				break;
			}
			return fail(x, "%s \"%s\": %s", lb, v, opts[i].help);
		}
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

/* ---- resolution and validation --------------------------------------- */

static int set_str(struct ctx *x, char **dst, const char *s)
{
	*dst = mem_strdup(s);
	if (!*dst) {
		x->nomem = true;
		return -ENOMEM;
	}
	return 0;
}

static int get_compaction(struct ctx *x, struct config *c)
{
	const char *mode = val(x, O_AC_MODE);
	const char *ret = val(x, O_AC_RETENTION);
	char lb[512];
	uint64_t u;
	int r;

	if (strcmp(mode, "periodic") == 0 || mode[0] == '\0') {
		c->auto_compaction_mode = CONFIG_COMPACT_PERIODIC;
	} else if (strcmp(mode, "revision") == 0) {
		c->auto_compaction_mode = CONFIG_COMPACT_REVISION;
	} else {
		label(x, O_AC_MODE, lb, sizeof(lb));
		return fail(x,
			    "unknown auto-compaction-mode \"%s\" given by %s "
			    "(use periodic or revision)",
			    mode, lb);
	}
	if (set_str(x, &c->auto_compaction_retention, ret) < 0) {
		return -ENOMEM;
	}
	if (c->auto_compaction_mode == CONFIG_COMPACT_REVISION) {
		r = parse_u64(ret, &u);
		if (r < 0) {
			return bad_value(x, O_AC_RETENTION, ret,
					 "%s (in revision mode the retention "
					 "is a number of revisions, e.g. 1000)",
					 num_err(r));
		}
		c->auto_compaction_revisions = u;
		return 0;
	}
	/* etcd compat: a bare number in periodic mode counts hours. */
	if (parse_u64(ret, &u) == 0) {
		if (u > UINT64_MAX / (3600 * NSEC_PER_SEC)) {
			return bad_value(x, O_AC_RETENTION, ret,
					 "value out of range");
		}
		c->auto_compaction_period_ns = u * 3600 * NSEC_PER_SEC;
		return 0;
	}
	if (timeutil_parse_duration(ret, &c->auto_compaction_period_ns) < 0) {
		return bad_value(x, O_AC_RETENTION, ret,
				 "parse error (in periodic mode give hours or "
				 "a duration such as 30m or 1h)");
	}
	return 0;
}

static int get_logging(struct ctx *x, struct config *c)
{
	const char *lv = val(x, O_LOG_LEVEL);
	const char *lg = val(x, O_LOGGER);
	const char *lo = val(x, O_LOG_OUTPUTS);

	if (log_level_parse(lv, &c->log_level) < 0) {
		return bad_value(x, O_LOG_LEVEL, lv,
				 "unknown level (use debug, info, warn, error, "
				 "panic or fatal)");
	}
	if (strcmp(lg, "zap") != 0 && strcmp(lg, "capnslog") != 0) {
		return bad_value(x, O_LOGGER, lg,
				 "unknown logger (use zap or capnslog)");
	}
	if (set_str(x, &c->logger, lg) < 0 ||
	    set_str(x, &c->log_outputs, lo) < 0) {
		return -ENOMEM;
	}
	for (const char *p = lo; *p;) {
		size_t n = strcspn(p, ",");

		if (!((n == 7 && strncmp(p, "default", n) == 0) ||
		      (n == 6 && strncmp(p, "stderr", n) == 0) ||
		      (n == 6 && strncmp(p, "stdout", n) == 0) ||
		      (n == 15 && strncmp(p, "systemd/journal", n) == 0))) {
			return warn(x,
				    "log-outputs \"%s\": cetcd logs to stderr "
				    "only; \"%.*s\" is ignored",
				    lo, (int)n, p);
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static void members_done(struct config *c)
{
	for (size_t i = 0; i < c->n_members; i++) {
		mem_free(c->members[i].name);
		urls_done(&c->members[i].peer_urls);
	}
	mem_free(c->members);
	c->members = NULL;
	c->n_members = 0;
}

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct config_member *)a)->name,
		      ((const struct config_member *)b)->name);
}

/*
 * etcd compat: types.NewURLsMap - "name=url" entries separated by commas,
 * several entries may share a name, empty entries are skipped.
 */
static int parse_members(struct ctx *x, struct config *c, const char *ic)
{
	const char *p = ic;
	char why[1024];
	int r;

	while (*p) {
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		_cleanup_free_ char *name = NULL;
		_cleanup_free_ char *url = NULL;
		struct config_member *m = NULL;
		struct config_urls one;

		if (len == 0) {
			p++;
			continue;
		}
		name = mem_strndup(p, eq ? (size_t)(eq - p) : len);
		url = eq ? mem_strndup(eq + 1, len - (size_t)(eq - p) - 1)
			 : mem_strdup("");
		if (!name || !url) {
			x->nomem = true;
			return -ENOMEM;
		}
		r = urls_parse(url, 2380, false, &one, why, sizeof(why));
		if (r == -EINVAL && !eq) {
			return bad_value(x, O_IC, ic,
					 "entry \"%s\" is not name=URL (write "
					 "it as %s=http://host:2380)",
					 name, name);
		}
		if (r == -EINVAL) {
			return bad_value(x, O_IC, ic,
					 "%s (in the entry for \"%s\")", why,
					 name);
		}
		if (r < 0) {
			x->nomem = true;
			return r;
		}
		for (size_t i = 0; i < c->n_members; i++) {
			if (strcmp(c->members[i].name, name) == 0) {
				m = &c->members[i];
			}
		}
		if (!m) {
			m = mem_realloc(c->members,
					(c->n_members + 1) * sizeof(*m));
			if (!m) {
				urls_done(&one);
				x->nomem = true;
				return -ENOMEM;
			}
			c->members = m;
			m = &c->members[c->n_members++];
			memset(m, 0, sizeof(*m));
			m->name = TAKE_PTR(name);
		}
		{
			struct config_url *v =
			    mem_realloc(m->peer_urls.v,
					(m->peer_urls.n + one.n) * sizeof(*v));

			if (!v) {
				urls_done(&one);
				x->nomem = true;
				return -ENOMEM;
			}
			memcpy(v + m->peer_urls.n, one.v, one.n * sizeof(*v));
			m->peer_urls.v = v;
			m->peer_urls.n += one.n;
			mem_free(one.v);
		}
		if (m->peer_urls.n > 1) { /* qsort(NULL, 0) is undefined */
			qsort(m->peer_urls.v, m->peer_urls.n,
			      sizeof(*m->peer_urls.v), cmp_url);
		}
		p += len + (p[len] == ',');
	}
	if (c->n_members > 1) { /* qsort(NULL, 0) is undefined */
		qsort(c->members, c->n_members, sizeof(*c->members),
		      cmp_member);
	}
	return 0;
}

/* etcd compat: etcdserver ServerConfig.VerifyBootstrap's checks. */
static int check_cluster(struct ctx *x, struct config *c)
{
	const struct config_member *self = NULL;
	char lb_ic[512], lb_ap[512];
	struct buf a = BUF_INIT, b = BUF_INIT;
	int r = 0;

	label(x, O_IC, lb_ic, sizeof(lb_ic));
	label(x, O_APU, lb_ap, sizeof(lb_ap));
	/* One URL in two places would give two members one address. */
	for (size_t i = 0; i < c->n_members; i++) {
		for (size_t j = 0; j < c->members[i].peer_urls.n; j++) {
			const char *u = c->members[i].peer_urls.v[j].url;

			for (size_t k = i; k < c->n_members; k++) {
				for (size_t l = k == i ? j + 1 : 0;
				     l < c->members[k].peer_urls.n; l++) {
					if (strcmp(u, c->members[k]
							  .peer_urls.v[l]
							  .url) != 0) {
						continue;
					}
					return fail(x,
						    "initial cluster %s has "
						    "duplicate url %s (%s: "
						    "give each member its own "
						    "peer URLs)",
						    c->initial_cluster, u,
						    lb_ic);
				}
			}
		}
	}
	for (size_t i = 0; i < c->n_members; i++) {
		if (strcmp(c->members[i].name, c->name) == 0) {
			self = &c->members[i];
		}
	}
	if (!self) {
		return fail(x,
			    "couldn't find local name \"%s\" in the initial "
			    "cluster configuration (%s is \"%s\": add "
			    "%s=<this member's peer URL> to it, or fix --name)",
			    c->name, lb_ic, c->initial_cluster, c->name);
	}
	if (c->initial_cluster_state != CONFIG_CLUSTER_NEW) {
		return 0;
	}
	/* Both lists are sorted; equal lists match element by element. */
	for (size_t i = 0; i < self->peer_urls.n; i++) {
		if (!config_urls_find(&c->initial_advertise_peer_urls,
				      self->peer_urls.v[i].url)) {
			r = buf_printf(&a, "%s%s=%s", a.len ? "," : "", c->name,
				       self->peer_urls.v[i].url);
		}
	}
	for (size_t i = 0; i < c->initial_advertise_peer_urls.n && r >= 0;
	     i++) {
		const char *u = c->initial_advertise_peer_urls.v[i].url;

		if (!config_urls_find(&self->peer_urls, u)) {
			r = buf_printf(&b, "%s%s", b.len ? "," : "", u);
		}
	}
	if (r < 0) {
		goto nomem;
	}
	if (a.len) {
		struct buf ap = BUF_INIT;

		if (join_urls(&c->initial_advertise_peer_urls, NULL, &ap) < 0) {
			buf_done(&ap);
			goto nomem;
		}
		r = fail(x,
			 "--initial-cluster has %s but missing from "
			 "--initial-advertise-peer-urls=%s (make %s and %s "
			 "list the same URLs for \"%s\")",
			 (char *)a.data, (char *)ap.data, lb_ic, lb_ap,
			 c->name);
		buf_done(&ap);
	} else if (b.len) {
		struct buf ic = BUF_INIT;

		if (join_urls(&self->peer_urls, "", &ic) < 0) {
			buf_done(&ic);
			goto nomem;
		}
		r = fail(x,
			 "--initial-advertise-peer-urls has %s but missing "
			 "from --initial-cluster=%s=%s (make %s and %s list "
			 "the same URLs for \"%s\")",
			 (char *)b.data, c->name, (char *)ic.data, lb_ap, lb_ic,
			 c->name);
		buf_done(&ic);
	}
	buf_done(&a);
	buf_done(&b);
	return r;
nomem:
	buf_done(&a);
	buf_done(&b);
	x->nomem = true;
	return -ENOMEM;
}

static int compute_ids(struct ctx *x, struct config *c)
{
	_cleanup_free_ uint64_t *ids = NULL;

	ids = mem_calloc(c->n_members ? c->n_members : 1, sizeof(*ids));
	if (!ids) {
		goto nomem;
	}
	for (size_t i = 0; i < c->n_members; i++) {
		struct config_member *m = &c->members[i];
		_cleanup_free_ const char **urls = NULL;

		urls = mem_calloc(m->peer_urls.n ? m->peer_urls.n : 1,
				  sizeof(*urls));
		if (!urls) {
			goto nomem;
		}
		for (size_t j = 0; j < m->peer_urls.n; j++) {
			urls[j] = m->peer_urls.v[j].url;
		}
		if (ids_member_id(urls, m->peer_urls.n,
				  c->initial_cluster_token, -1, &m->id) < 0) {
			goto nomem;
		}
		ids[i] = m->id;
		if (strcmp(m->name, c->name) == 0) {
			c->member_id = m->id;
		}
	}
	if (ids_cluster_id(ids, c->n_members, &c->cluster_id) < 0) {
		goto nomem;
	}
	return 0;
nomem:
	x->nomem = true;
	return -ENOMEM;
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = mem_alloc(n);

	if (p) {
		snprintf(p, n, "%s/%s", dir, name);
	}
	return p;
}

static int resolve(struct ctx *x, struct config *c)
{
	const char *v;
	char lb[512], lb2[512];
	uint64_t u;
	int r;

	if (set_str(x, &c->name, val(x, O_NAME)) < 0) {
		return -ENOMEM;
	}
	v = val(x, O_DATA_DIR);
	if (v[0] == '\0') {
		/* etcd compat: etcdmain defaults data-dir to "${name}.etcd". */
		c->data_dir = mem_alloc(strlen(c->name) + 6);
		if (!c->data_dir) {
			x->nomem = true;
			return -ENOMEM;
		}
		sprintf(c->data_dir, "%s.etcd", c->name);
	} else if (set_str(x, &c->data_dir, v) < 0) {
		return -ENOMEM;
	}
	v = val(x, O_WAL_DIR);
	if (v[0] != '\0' && set_str(x, &c->wal_dir, v) < 0) {
		return -ENOMEM;
	}
	c->member_dir = path_join(c->data_dir, "member");
	c->snap_dir = c->member_dir ? path_join(c->member_dir, "snap") : NULL;
	c->wal_path = c->wal_dir      ? mem_strdup(c->wal_dir)
		      : c->member_dir ? path_join(c->member_dir, "wal")
				      : NULL;
	if (!c->member_dir || !c->snap_dir || !c->wal_path) {
		x->nomem = true;
		return -ENOMEM;
	}
	if ((r = get_urls(x, O_LPU, 2380, &c->listen_peer_urls)) < 0 ||
	    (r = get_urls(x, O_LCU, 2379, &c->listen_client_urls)) < 0 ||
	    (r = get_urls(x, O_APU, 2380, &c->initial_advertise_peer_urls)) <
		0 ||
	    (r = get_urls(x, O_ACU, 2379, &c->advertise_client_urls)) < 0) {
		return r;
	}
	if (set_str(x, &c->initial_cluster_token, val(x, O_IC_TOKEN)) < 0) {
		return -ENOMEM;
	}
	v = val(x, O_IC_STATE);
	if (strcmp(v, "new") == 0) {
		c->initial_cluster_state = CONFIG_CLUSTER_NEW;
	} else if (strcmp(v, "existing") == 0) {
		c->initial_cluster_state = CONFIG_CLUSTER_EXISTING;
	} else {
		return bad_value(x, O_IC_STATE, v,
				 "valid values are \"new\" or \"existing\"");
	}
	if ((r = get_uint(x, O_HEARTBEAT, "milliseconds, e.g. 100",
			  &c->heartbeat_ms)) < 0 ||
	    (r = get_uint(x, O_ELECTION, "milliseconds, e.g. 1000",
			  &c->election_ms)) < 0 ||
	    (r = get_uint(x, O_MAX_TXN_OPS, "operations, e.g. 128",
			  &c->max_txn_ops)) < 0 ||
	    (r = get_uint(x, O_MAX_REQ, "bytes, e.g. 1572864",
			  &c->max_request_bytes)) < 0 ||
	    (r = get_uint(x, O_SNAP_CATCHUP, "entries, e.g. 5000",
			  &c->snapshot_catchup_entries)) < 0) {
		return r;
	}
	v = val(x, O_SNAPSHOT_COUNT);
	if ((r = parse_u64(v, &u)) < 0) {
		return bad_value(x, O_SNAPSHOT_COUNT, v,
				 "%s (expected a whole number of entries, e.g. "
				 "100000)",
				 num_err(r));
	}
	c->snapshot_count = u;
	v = val(x, O_WATCH_PROGRESS);
	if (timeutil_parse_duration(v, &c->watch_progress_notify_ns) < 0) {
		return bad_value(x, O_WATCH_PROGRESS, v,
				 "parse error (expected a duration such as 10m "
				 "or 30s)");
	}
	v = val(x, O_QUOTA);
	if ((r = parse_i64(v, &c->quota_backend_bytes)) < 0) {
		return bad_value(x, O_QUOTA, v,
				 "%s (expected a number of bytes, e.g. "
				 "8589934592; 0 for the default 2 GiB)",
				 num_err(r));
	}
	if ((r = get_compaction(x, c)) < 0 ||
	    (r = get_bool(x, O_ENABLE_V2, &c->enable_v2)) < 0 ||
	    (r = get_logging(x, c)) < 0) {
		return r;
	}

	/* etcd compat: embed.Config.Validate, in its order. */
	if ((r = check_bind(x, O_LPU, &c->listen_peer_urls)) < 0 ||
	    (r = check_bind(x, O_LCU, &c->listen_client_urls)) < 0 ||
	    (r = check_host(x, O_APU, &c->initial_advertise_peer_urls)) < 0 ||
	    (r = check_host(x, O_ACU, &c->advertise_client_urls)) < 0) {
		return r;
	}
	label(x, O_HEARTBEAT, lb, sizeof(lb));
	label(x, O_ELECTION, lb2, sizeof(lb2));
	if (c->heartbeat_ms == 0) {
		return fail(x,
			    "--heartbeat-interval must be >0 (set to 0ms by "
			    "%s; the default is 100)",
			    lb);
	}
	if (c->election_ms == 0) {
		return fail(x,
			    "--election-timeout must be >0 (set to 0ms by %s; "
			    "the default is 1000)",
			    lb2);
	}
	if ((uint64_t)c->heartbeat_ms * 5 > c->election_ms) {
		return fail(x,
			    "--election-timeout[%ums] should be at least as 5 "
			    "times as --heartbeat-interval[%ums] (raise %s to "
			    "%llu or more, or lower %s)",
			    c->election_ms, c->heartbeat_ms, lb2,
			    (unsigned long long)c->heartbeat_ms * 5, lb);
	}
	c->election_ticks = c->election_ms / c->heartbeat_ms;
	if (c->election_ms > MAX_ELECTION_MS) {
		return fail(x,
			    "--election-timeout[%ums] is too long, and should "
			    "be set less than %ums (lower %s)",
			    c->election_ms, MAX_ELECTION_MS, lb2);
	}
	/* etcd compat: etcdmain clears the default advertise-client-urls. */
	if (!x->file && x->src[O_LCU] != SRC_DEFAULT &&
	    x->src[O_ACU] == SRC_DEFAULT) {
		label(x, O_LCU, lb, sizeof(lb));
		return fail(x,
			    "--advertise-client-urls is required when "
			    "--listen-client-urls is set explicitly (%s is "
			    "\"%s\"; set --advertise-client-urls or "
			    "ETCD_ADVERTISE_CLIENT_URLS to the URLs clients "
			    "should use)",
			    lb, val(x, O_LCU));
	}

	/*
	 * etcd compat: without an initial cluster it is derived from the name
	 * and the advertised peer URLs (embed InitialClusterFromName); etcd
	 * also derives it when the given one is its default string.
	 */
	v = val(x, O_IC);
	if (v[0] == '\0' || (strcmp(v, DEFAULT_INITIAL_CLUSTER) == 0 &&
			     strcmp(c->name, "default") != 0)) {
		struct buf b = BUF_INIT;
		const char *n = c->name[0] ? c->name : "default";
		const struct config_urls *ap = &c->initial_advertise_peer_urls;

		r = 0;
		for (size_t i = 0; i < ap->n && r >= 0; i++) {
			r = buf_printf(&b, "%s%s=%s", i ? "," : "", n,
				       ap->v[i].url);
		}
		if (r < 0) {
			buf_done(&b);
			x->nomem = true;
			return -ENOMEM;
		}
		c->initial_cluster = (char *)buf_steal(&b, NULL);
		c->initial_cluster_derived = true;
	} else if (set_str(x, &c->initial_cluster, v) < 0) {
		return -ENOMEM;
	}
	if ((r = parse_members(x, c, c->initial_cluster)) < 0 ||
	    (r = check_cluster(x, c)) < 0 || (r = compute_ids(x, c)) < 0) {
		return r;
	}
	return 0;
}

int config_parse(int argc, char *const argv[], char *const envp[],
		 struct config **out, char **errmsg_out)
{
	struct ctx x;
	struct config *c;
	bool version = false;
	int r;

	memset(&x, 0, sizeof(x));
	c = mem_calloc(1, sizeof(*c));
	if (!c) {
		return -ENOMEM;
	}
	x.c = c;
	r = scan_argv(&x, argc, argv);
	if (r == 0 && c->action == CONFIG_RUN && x.raw[O_VERSION]) {
		r = get_bool(&x, O_VERSION, &version);
		if (r == 0 && version) {
			c->action = CONFIG_VERSION;
		}
	}
	if (r == 0 && c->action == CONFIG_RUN) {
		r = collect(&x, envp);
	}
	if (r == 0 && c->action == CONFIG_RUN) {
		r = resolve(&x, c);
		if (r == 0 && x.file &&
		    set_str(&x, &c->config_file, x.file) < 0) {
			r = -ENOMEM;
		}
	}
	for (int i = 0; i < O_COUNT_; i++) {
		mem_free(x.owned[i]);
	}
	if (x.nomem) {
		r = -ENOMEM;
	}
	if (r < 0) {
		config_free(c);
		if (r == -ERR_CONFIG && x.err) {
			*errmsg_out = x.err;
		} else {
			mem_free(x.err);
			r = -ENOMEM;
		}
		return r;
	}
	mem_free(x.err);
	*out = c;
	return 0;
}

void config_free(struct config *c)
{
	if (!c) {
		return;
	}
	mem_free(c->name);
	mem_free(c->data_dir);
	mem_free(c->wal_dir);
	mem_free(c->member_dir);
	mem_free(c->wal_path);
	mem_free(c->snap_dir);
	urls_done(&c->listen_client_urls);
	urls_done(&c->advertise_client_urls);
	urls_done(&c->listen_peer_urls);
	urls_done(&c->initial_advertise_peer_urls);
	mem_free(c->initial_cluster);
	members_done(c);
	mem_free(c->initial_cluster_token);
	mem_free(c->auto_compaction_retention);
	mem_free(c->logger);
	mem_free(c->log_outputs);
	mem_free(c->config_file);
	for (size_t i = 0; i < c->n_warnings; i++) {
		mem_free(c->warnings[i]);
	}
	mem_free(c->warnings);
	mem_free(c);
}

const struct config_url *config_urls_find(const struct config_urls *u,
					  const char *url)
{
	for (size_t i = 0; i < u->n; i++) {
		if (strcmp(u->v[i].url, url) == 0) {
			return &u->v[i];
		}
	}
	return NULL;
}

const struct config_member *config_self(const struct config *c)
{
	for (size_t i = 0; i < c->n_members; i++) {
		if (strcmp(c->members[i].name, c->name) == 0) {
			return &c->members[i];
		}
	}
	return NULL;
}

/* The names of every flag of one use, wrapped at 78 columns. */
static int help_flag_list(struct buf *out, enum opt_use use)
{
	int r = 0;

	for (int i = 0, col = 1; i < O_COUNT_ && r >= 0; i++) {
		size_t len = strlen(opts[i].name) + 3;

		if (opts[i].use != use) {
			continue;
		}
		if (col + len > 78) {
			r = buf_append_str(out, "\n ");
			col = 1;
		}
		if (r >= 0) {
			r = buf_printf(out, " --%s", opts[i].name);
			col += (int)len;
		}
	}
	return r;
}

int config_help(struct buf *out)
{
	const char *group = NULL;
	int r;

	r = buf_append_str(
	    out, "Usage:\n\n  cetcd [flags]\n    Start a cetcd member.\n\n"
		 "  cetcd --version\n    Show the version of cetcd.\n\n"
		 "  cetcd -h | --help\n    Show this help.\n\n"
		 "Every flag is also read from ETCD_<FLAG> (upper case, - as "
		 "_),\ne.g. --initial-cluster-state as "
		 "ETCD_INITIAL_CLUSTER_STATE.\n");
	for (int i = 0; i < O_COUNT_ && r >= 0; i++) {
		if (opts[i].use != U_OK && opts[i].use != U_VERSION) {
			continue;
		}
		if (!group || strcmp(group, opts[i].group) != 0) {
			group = opts[i].group;
			r = buf_printf(out, "\n%s:\n", group);
		}
		if (r >= 0) {
			r = buf_printf(out, "  --%s '%s'\n    %s\n",
				       opts[i].name, opts[i].def, opts[i].help);
		}
	}
	if (r >= 0) {
		r = buf_append_str(out, "\nAccepted but ignored with a warning "
					"(not implemented yet):\n ");
	}
	if (r >= 0) {
		r = help_flag_list(out, U_IGNORED);
	}
	if (r >= 0) {
		r = buf_append_str(out, "\n\nRefused unless left at their "
					"default (not supported yet):\n ");
	}
	if (r >= 0) {
		r = help_flag_list(out, U_REFUSED);
	}
	if (r >= 0) {
		r = buf_append_str(out, "\n");
	}
	return r < 0 ? r : 0;
}

int config_describe(const struct config *c, struct buf *out)
{
	char id[IDS_HEX_LEN], cid[IDS_HEX_LEN];
	static const char *const fields[] = {
	    "listen-client-urls", "advertise-client-urls", "listen-peer-urls",
	    "initial-advertise-peer-urls"};
	/* A joining member gets its IDs from the cluster (MemberAdd). */
	const char *boot = c->initial_cluster_state == CONFIG_CLUSTER_NEW
			       ? ""
			       : " (bootstrap value; a joining member "
				 "gets its ID from the cluster)";
	const struct config_urls *lists[] = {
	    &c->listen_client_urls, &c->advertise_client_urls,
	    &c->listen_peer_urls, &c->initial_advertise_peer_urls};
	int r;

	r = buf_printf(out,
		       "name: %s\nmember-id: %s%s\ncluster-id: %s%s\n"
		       "data-dir: %s\nwal-dir: %s\n",
		       c->name, ids_format(c->member_id, id), boot,
		       ids_format(c->cluster_id, cid), boot, c->data_dir,
		       c->wal_path);
	for (size_t i = 0; i < 4 && r >= 0; i++) {
		r = buf_printf(out, "%s: ", fields[i]);
		if (r >= 0) {
			r = join_urls(lists[i], NULL, out);
		}
		if (r >= 0) {
			r = buf_append_str(out, "\n");
		}
	}
	if (r >= 0) {
		r = buf_printf(
		    out,
		    "initial-cluster: %s%s\ninitial-cluster-token: %s\n"
		    "initial-cluster-state: %s\n"
		    "heartbeat-interval: %ums\nelection-timeout: %ums\n"
		    "snapshot-count: %" PRIu64 "\n"
		    "quota-backend-bytes: %" PRId64 "\n"
		    "max-request-bytes: %u\nmax-txn-ops: %u\n"
		    "auto-compaction: %s %s\nenable-v2: %s\n",
		    c->initial_cluster,
		    c->initial_cluster_derived ? " (derived)" : "",
		    c->initial_cluster_token,
		    c->initial_cluster_state == CONFIG_CLUSTER_NEW ? "new"
								   : "existing",
		    c->heartbeat_ms, c->election_ms, c->snapshot_count,
		    c->quota_backend_bytes, c->max_request_bytes,
		    c->max_txn_ops,
		    c->auto_compaction_mode == CONFIG_COMPACT_PERIODIC
			? "periodic"
			: "revision",
		    c->auto_compaction_retention,
		    c->enable_v2 ? "true" : "false");
	}
	for (size_t i = 0; i < c->n_members && r >= 0; i++) {
		r = buf_printf(out, "member %s: %s ", c->members[i].name,
			       ids_format(c->members[i].id, id));
		if (r >= 0) {
			r = join_urls(&c->members[i].peer_urls, NULL, out);
		}
		if (r >= 0) {
			r = buf_append_str(out, "\n");
		}
	}
	return r < 0 ? r : 0;
}
