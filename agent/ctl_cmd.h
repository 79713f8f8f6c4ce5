/*
 * ctl_cmd.h - cetcdctl's commands and the helpers they share (private to
 * the cetcdctl program; cetcd-agent uses ctl.h and ctl_table.h only).
 *
 * Invariants:
 *  1. A command function returns etcdctl's exit code for what happened and
 *     has printed everything etcdctl prints (stdout and stderr) by then.
 *  2. Flag values live in one table for the whole run (etcdctl's flags are
 *     package globals too); ctl_flag() reads a local flag first, then a
 *     global one.
 *  3. Every "-w" format a command does not have answers
 *     "<format> not supported as output format" with exit 4, as etcdctl.
 */
#ifndef CETCD_AGENT_CTL_CMD_H
#define CETCD_AGENT_CTL_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/ctl.h"
#include "agent/ctl_table.h"
#include "base/buf.h"
#include "rpc.pb-c.h"

#define CTL_ERRSZ 512

struct ctl_cmd;
typedef int (*ctl_cmd_fn)(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			  size_t n);

struct ctl_cmd {
	const char *path; /* "endpoint status" */
	const char *usage;
	const char *summary;
	ctl_cmd_fn fn;
	const char *const *flag_names; /* local flags, NULL-terminated */
	size_t min_args, max_args;
	const char
	    *arg_error; /* etcd compat: etcdctl's words for a wrong count */
};

/* A flag's value ("true" for a bare bool), or NULL when not given. */
const char *ctl_flag(const char *name);
bool ctl_flag_bool(const char *name);
/* etcd compat: clientv3's GetPrefix range end of key into out (room for
 * strlen(key) bytes, at least 1); its length. */
size_t ctl_prefix_end(const char *key, uint8_t *out);
/* Forget every local flag's value (txn parses one op line at a time). */
void ctl_flags_reset_local(void);
/*
 * Parse the flags of a txn op line (args[0] is the op) as its command's
 * local flags; the positional words go to pos.  0 or -EINVAL.
 */
int ctl_parse_op_flags(const char *op, char **args, size_t n, char **pos,
		       size_t *n_pos);

/* The command line as given (etcd compat: watch reads os.Args). */
extern int ctl_argc;
extern char **ctl_argv;

/* "Error: msg" on stderr; returns code. */
int ctl_fail_code(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "Error: msg" on stderr; exit 1. */
int ctl_fail(const char *msg);
/* etcd compat: "Error: <fmt> not supported as output format", exit 4. */
int ctl_unsupported(const struct ctl *c);
const char *ctl_format_name(enum ctl_format f);

/* etcdctl's simple printers. */
void ctl_print_bytes(const struct ctl *c, const ProtobufCBinaryData *b);
void ctl_print_kv(const struct ctl *c, const Mvccpb__KeyValue *kv,
		  bool keys_only, bool value_only);
/*
 * Go's encoding/json of a response, one line; with -w protobuf (then the
 * format is CTL_FMT_JSON and ctl_protobuf() is true) its protobuf bytes.
 */
void ctl_print_json(const ProtobufCMessage *msg);
bool ctl_protobuf(void);
void ctl_render_table(struct ctl_table *t);

/* etcdctl's -w fields pieces (printer_fields.go). */
void ctl_go_quote(struct buf *out, const uint8_t *p, size_t n);
void ctl_fields_hdr(const Etcdserverpb__ResponseHeader *h);
void ctl_fields_kv(const char *pfx, const Mvccpb__KeyValue *kv);
void ctl_fields_range(const Etcdserverpb__RangeResponse *r);
void ctl_fields_put(const Etcdserverpb__PutResponse *r);
void ctl_fields_del(const Etcdserverpb__DeleteRangeResponse *r);

/* The simple printers of get/put/del responses (also txn's). */
void ctl_simple_range(const struct ctl *c, const Etcdserverpb__RangeResponse *r,
		      bool keys_only, bool value_only);
void ctl_simple_put(const struct ctl *c, const Etcdserverpb__PutResponse *r);
void ctl_simple_del(const struct ctl *c,
		    const Etcdserverpb__DeleteRangeResponse *r);

/*
 * Build a request from positional words and the local flags, as the get,
 * put and del commands do; end is scratch for a computed range end
 * (4096 bytes).  0, or an exit code after printing etcdctl's error.
 */
int ctl_build_range(char **args, size_t n, Etcdserverpb__RangeRequest *req,
		    uint8_t *end);
int ctl_build_put(char **args, size_t n, Etcdserverpb__PutRequest *req);
int ctl_build_del(char **args, size_t n, Etcdserverpb__DeleteRangeRequest *req,
		  uint8_t *end);

/* The endpoint as the user gave it (or as member list gave it). */
const char *ctl_ep_name(const struct ctl *c, size_t i);
/* --cluster: every member's client URLs replace the endpoints. */
int ctl_cluster_endpoints(struct ctl *c);

/* ctl_admin.c */
/*
 * etcd compat: etcdctl's argify of an interactive line: words split on
 * blanks, quoted words whole; words point into line.  Count or -EINVAL.
 */
int ctl_argify(char *line, char **words, size_t max);
int ctl_cmd_txn(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		size_t n);
int ctl_cmd_compaction(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n);
int ctl_cmd_member_add(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n);
int ctl_cmd_member_remove(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			  size_t n);
int ctl_cmd_member_update(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			  size_t n);
int ctl_cmd_member_promote(struct ctl *c, const struct ctl_cmd *cmd,
			   char **args, size_t n);
int ctl_cmd_endpoint_hashkv(struct ctl *c, const struct ctl_cmd *cmd,
			    char **args, size_t n);
int ctl_cmd_move_leader(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			size_t n);
int ctl_cmd_alarm_list(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n);
int ctl_cmd_alarm_disarm(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			 size_t n);
int ctl_cmd_defrag(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		   size_t n);

/* ctl_lease.c */
int ctl_cmd_lease_grant(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			size_t n);
int ctl_cmd_lease_revoke(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			 size_t n);
int ctl_cmd_lease_timetolive(struct ctl *c, const struct ctl_cmd *cmd,
			     char **args, size_t n);
int ctl_cmd_lease_list(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n);
int ctl_cmd_watch(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		  size_t n);
int ctl_cmd_lease_keepalive(struct ctl *c, const struct ctl_cmd *cmd,
			    char **args, size_t n);

/* ctl_snapshot.c */
int ctl_cmd_snapshot_save(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			  size_t n);
int ctl_cmd_snapshot_status(struct ctl *c, const struct ctl_cmd *cmd,
			    char **args, size_t n);
int ctl_cmd_snapshot_restore(struct ctl *c, const struct ctl_cmd *cmd,
			     char **args, size_t n);
/*
 * `defrag --data-dir DIR`: compact a stopped member's store in place;
 * refused while a member holds DIR.  etcdctl's exit code.
 */
int ctl_defrag_data_dir(const char *dir);

/* ctl_perf.c */
int ctl_cmd_check_perf(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n);

#endif
