/*
 * ctl_main.c - cetcdctl: etcdctl's command line over the JSON gateway.
 *
 * Flags follow etcdctl's (cobra/pflag): global flags anywhere on the line,
 * as --name=value, --name value or a shorthand (-w json); a global flag may
 * also come from its ETCDCTL_* variable, and setting both is an error, as in
 * etcdctl.  Output follows etcdctl 3.5 (reference/etcd-v3.md 5.3).
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "agent/ctl.h"
#include "agent/ctl_cmd.h"
#include "agent/ctl_table.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/version.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define ERRSZ CTL_ERRSZ

/* --- command-line model ----------------------------------------------------
 */

struct flag {
	const char *name;  /* long name, the key commands list it by */
	char shorthand;	   /* 0: none */
	bool takes_value;  /* false: a bool flag (--x or --x=true) */
	const char *value; /* set by parsing: "true" for a bare bool */
	/* As typed, when not name: a flag whose type depends on the command
	 * (etcd compat: check perf's --prefix takes a string). */
	const char *spelled;
};

static struct flag global_flags[] = {
    {"endpoints", 0, true, NULL, NULL},
    {"dial-timeout", 0, true, NULL, NULL},
    {"command-timeout", 0, true, NULL, NULL},
    {"write-out", 'w', true, NULL, NULL},
    {"hex", 0, false, NULL, NULL},
    {"debug", 0, false, NULL, NULL},
    {"keepalive-time", 0, true, NULL, NULL},
    {"keepalive-timeout", 0, true, NULL, NULL},
    {"cacert", 0, true, NULL, NULL},
    {"cert", 0, true, NULL, NULL},
    {"key", 0, true, NULL, NULL},
    {"insecure-skip-tls-verify", 0, false, NULL, NULL},
    {"insecure-transport", 0, false, NULL, NULL},
    {"insecure-discovery", 0, false, NULL, NULL},
    {"user", 0, true, NULL, NULL},
    {"password", 0, true, NULL, NULL},
    {"discovery-srv", 'd', true, NULL, NULL},
    {"discovery-srv-name", 0, true, NULL, NULL},
};
#define N_GLOBAL (sizeof(global_flags) / sizeof(global_flags[0]))

static struct flag local_flags[] = {
    {"prefix", 0, false, NULL, NULL},
    {"from-key", 0, false, NULL, NULL},
    {"limit", 0, true, NULL, NULL},
    {"rev", 0, true, NULL, NULL},
    {"keys-only", 0, false, NULL, NULL},
    {"count-only", 0, false, NULL, NULL},
    {"print-value-only", 0, false, NULL, NULL},
    {"sort-by", 0, true, NULL, NULL},
    {"order", 0, true, NULL, NULL},
    {"consistency", 0, true, NULL, NULL},
    {"prev-kv", 0, false, NULL, NULL},
    {"lease", 0, true, NULL, NULL},
    {"ignore-value", 0, false, NULL, NULL},
    {"ignore-lease", 0, false, NULL, NULL},
    {"cluster", 0, false, NULL, NULL},
    {"interactive", 'i', false, NULL, NULL},
    {"physical", 0, false, NULL, NULL},
    {"peer-urls", 0, true, NULL, NULL},
    {"learner", 0, false, NULL, NULL},
    {"load", 0, true, NULL, NULL},
    {"perf-prefix", 0, true, NULL, "prefix"},
    {"auto-compact", 0, false, NULL, NULL},
    {"auto-defrag", 0, false, NULL, NULL},
    {"keys", 0, false, NULL, NULL},
    {"once", 0, false, NULL, NULL},
    {"data-dir", 0, true, NULL, NULL},
    {"wal-dir", 0, true, NULL, NULL},
    {"name", 0, true, NULL, NULL},
    {"initial-cluster", 0, true, NULL, NULL},
    {"initial-cluster-token", 0, true, NULL, NULL},
    {"initial-advertise-peer-urls", 0, true, NULL, NULL},
    {"skip-hash-check", 0, false, NULL, NULL},
};
#define N_LOCAL (sizeof(local_flags) / sizeof(local_flags[0]))

static struct flag *flag_find(struct flag *set, size_t n, const char *name,
			      char shorthand)
{
	for (size_t i = 0; i < n; i++) {
		if ((name != NULL && strcmp(set[i].name, name) == 0) ||
		    (shorthand != 0 && set[i].shorthand == shorthand)) {
			return &set[i];
		}
	}
	return NULL;
}

const char *ctl_flag(const char *name)
{
	struct flag *f = flag_find(local_flags, N_LOCAL, name, 0);

	if (f == NULL) {
		f = flag_find(global_flags, N_GLOBAL, name, 0);
	}
	return f != NULL ? f->value : NULL;
}

bool ctl_flag_bool(const char *name)
{
	const char *v = ctl_flag(name);

	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

void ctl_flags_reset_local(void)
{
	for (size_t i = 0; i < N_LOCAL; i++) {
		local_flags[i].value = NULL;
	}
}

/* --- output helpers ------------------------------------------------------- */

int ctl_fail_code(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int ctl_fail(const char *msg)
{
	return ctl_fail_code(CTL_EXIT_ERROR, "%s", msg);
}

const char *ctl_format_name(enum ctl_format f)
{
	switch (f) {
	case CTL_FMT_JSON:
		return "json";
	case CTL_FMT_TABLE:
		return "table";
	case CTL_FMT_FIELDS:
		return "fields";
	case CTL_FMT_SIMPLE:
		break;
	}
	return "simple";
}

int ctl_unsupported(const struct ctl *c)
{
	return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
			     "%s not supported as output format",
			     ctl_format_name(c->format));
}

/* etcd compat: --hex prints every byte as \xNN. */
void ctl_print_bytes(const struct ctl *c, const ProtobufCBinaryData *b)
{
	if (c->hex) {
		for (size_t i = 0; i < b->len; i++) {
			printf("\\x%02x", b->data[i]);
		}
	} else if (b->len > 0) {
		fwrite(b->data, 1, b->len, stdout);
	}
	putchar('\n');
}

void ctl_print_kv(const struct ctl *c, const Mvccpb__KeyValue *kv,
		  bool keys_only, bool value_only)
{
	if (!value_only) {
		ctl_print_bytes(c, &kv->key);
	}
	if (keys_only) {
		putchar(
		    '\n'); /* etcd compat: an empty line where the value was */
	} else {
		ctl_print_bytes(c, &kv->value);
	}
}

/* A JSON string with the escapes JSON needs. */
static void errmsg_json(struct buf *out, const char *s)
{
	buf_append_byte(out, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			buf_printf(out, "\\%c", *s);
		} else if ((unsigned char)*s < 0x20) {
			buf_printf(out, "\\u%04x", (unsigned char)*s);
		} else {
			buf_append_byte(out, (uint8_t)*s);
		}
	}
	buf_append_byte(out, '"');
}

/*
 * etcd compat: -w protobuf (printer_protobuf.go) writes the response's
 * marshalled bytes, nothing after them, for the commands whose printer
 * hands it an etcdserverpb message: put, get, del, txn, member add,
 * remove, update and list, move-leader, alarm list and disarm.  Commands
 * printing nothing per format (compaction, defrag, snapshot save and
 * restore, version, check perf) are unaffected.
 */
static bool out_protobuf;

bool ctl_protobuf(void)
{
	return out_protobuf;
}

static int protobuf_check(const struct ctl_cmd *cmd)
{
	/* etcd compat: their printers are printerUnsupported's.  (member
	 * promote's is missing: etcdctl 3.4 panics after a promotion; cetcdctl
	 * prints the response's bytes.) */
	static const char *const unsupported[] = {
	    "endpoint health", "endpoint status", "endpoint hashkv",
	    "snapshot status"};
	/*
	 * etcdctl 3.4 prints the lease responses' embedded header (revoke:
	 * "marshal unsupported") and watch's WatchResponse; their printers
	 * (ctl_lease.c) do not write protobuf yet: refused, not faked.
	 */
	static const char *const not_yet[] = {"lease", "watch"};

	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]);
	     i++) {
		if (strcmp(cmd->path, unsupported[i]) == 0) {
			return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
					     "protobuf not supported as output "
					     "format");
		}
	}
	for (size_t i = 0; i < sizeof(not_yet) / sizeof(not_yet[0]); i++) {
		if (strncmp(cmd->path, not_yet[i], strlen(not_yet[i])) == 0) {
			return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
					     "-w protobuf is not supported yet "
					     "by cetcdctl's %s",
					     cmd->path);
		}
	}
	return 0;
}

/* etcd compat: -w json is Go's encoding/json of the response, one line. */
void ctl_print_json(const ProtobufCMessage *msg)
{
	struct buf out = BUF_INIT;

	if (out_protobuf) {
		size_t n = protobuf_c_message_get_packed_size(msg);
		uint8_t *b = mem_alloc(n ? n : 1);

		if (b != NULL) {
			protobuf_c_message_pack(msg, b);
			fwrite(b, 1, n, stdout);
			mem_free(b);
		}
		return;
	}
	if (pjson_encode_flags(msg, &out, PJSON_GO_NUMBERS) == 0) {
		fwrite(out.data, 1, out.len, stdout);
		putchar('\n');
	}
	buf_done(&out);
}

void ctl_render_table(struct ctl_table *t)
{
	struct buf out = BUF_INIT;

	if (t == NULL) {
		return;
	}
	ctl_table_render(t, &out);
	fwrite(out.data, 1, out.len, stdout);
	buf_done(&out);
	ctl_table_free(t);
}

static int fail(const char *msg)
{
	return ctl_fail(msg);
}

/*
 * etcd compat: Go's strconv.Quote (fmt's %q), which -w fields uses for
 * keys and values: printable UTF-8 stays, the usual escapes, \xNN for
 * other bytes below 0x20, 0x7f and invalid UTF-8.
 */
void ctl_go_quote(struct buf *out, const uint8_t *p, size_t n)
{
	buf_append_byte(out, '"');
	for (size_t i = 0; i < n;) {
		uint8_t ch = p[i];
		size_t len = 0;

		if (ch >= 0x80) {
			/* Length of a valid UTF-8 sequence, 0 when invalid. */
			size_t want = ch >= 0xf0 && ch < 0xf5	? 4
				      : ch >= 0xe0		? 3
				      : ch >= 0xc2 && ch < 0xe0 ? 2
								: 0;
			len = want;
			for (size_t k = 1; k < want; k++) {
				if (i + k >= n || (p[i + k] & 0xc0) != 0x80) {
					len = 0;
					break;
				}
			}
		}
		if (len > 0) {
			buf_append(out, p + i, len);
			i += len;
			continue;
		}
		switch (ch) {
		case '\a':
			buf_append_str(out, "\\a");
			break;
		case '\b':
			buf_append_str(out, "\\b");
			break;
		case '\f':
			buf_append_str(out, "\\f");
			break;
		case '\n':
			buf_append_str(out, "\\n");
			break;
		case '\r':
			buf_append_str(out, "\\r");
			break;
		case '\t':
			buf_append_str(out, "\\t");
			break;
		case '\v':
			buf_append_str(out, "\\v");
			break;
		case '"':
			buf_append_str(out, "\\\"");
			break;
		case '\\':
			buf_append_str(out, "\\\\");
			break;
		default:
			if (ch < 0x20 || ch >= 0x7f) {
				buf_printf(out, "\\x%02x", ch);
			} else {
				buf_append_byte(out, ch);
			}
		}
		i++;
	}
	buf_append_byte(out, '"');
}

/* A Go %q string and a newline. */
static void print_quoted_raw(const char *str)
{
	struct buf b = BUF_INIT;

	ctl_go_quote(&b, (const uint8_t *)str, strlen(str));
	printf("%.*s\n", (int)b.len, b.data ? (char *)b.data : "");
	buf_done(&b);
}

static void print_quoted(const char *label, const uint8_t *p, size_t n)
{
	struct buf b = BUF_INIT;

	ctl_go_quote(&b, p, n);
	printf("\"%s\" : %.*s\n", label, (int)b.len,
	       b.data ? (char *)b.data : "");
	buf_done(&b);
}

void ctl_fields_hdr(const Etcdserverpb__ResponseHeader *h)
{
	static const Etcdserverpb__ResponseHeader zero =
	    ETCDSERVERPB__RESPONSE_HEADER__INIT;

	if (h == NULL) {
		h = &zero;
	}
	printf("\"ClusterID\" : %" PRIu64 "\n\"MemberID\" : %" PRIu64
	       "\n\"Revision\" : %" PRId64 "\n\"RaftTerm\" : %" PRIu64 "\n",
	       h->cluster_id, h->member_id, h->revision, h->raft_term);
}

void ctl_fields_kv(const char *pfx, const Mvccpb__KeyValue *kv)
{
	char label[32];

	snprintf(label, sizeof(label), "%sKey", pfx);
	print_quoted(label, kv->key.data, kv->key.len);
	printf(
	    "\"%sCreateRevision\" : %" PRId64 "\n\"%sModRevision\" : %" PRId64
	    "\n\"%sVersion\" : %" PRId64 "\n",
	    pfx, kv->create_revision, pfx, kv->mod_revision, pfx, kv->version);
	snprintf(label, sizeof(label), "%sValue", pfx);
	print_quoted(label, kv->value.data, kv->value.len);
	printf("\"%sLease\" : %" PRId64 "\n", pfx, kv->lease);
}

void ctl_fields_range(const Etcdserverpb__RangeResponse *r)
{
	ctl_fields_hdr(r->header);
	for (size_t i = 0; i < r->n_kvs; i++) {
		ctl_fields_kv("", r->kvs[i]);
	}
	printf("\"More\" : %s\n\"Count\" : %" PRId64 "\n",
	       r->more ? "true" : "false", r->count);
}

void ctl_fields_put(const Etcdserverpb__PutResponse *r)
{
	ctl_fields_hdr(r->header);
	if (r->prev_kv != NULL) {
		ctl_fields_kv("Prev", r->prev_kv);
	}
}

void ctl_fields_del(const Etcdserverpb__DeleteRangeResponse *r)
{
	ctl_fields_hdr(r->header);
	printf("\"Deleted\" : %" PRId64 "\n", r->deleted);
	for (size_t i = 0; i < r->n_prev_kvs; i++) {
		ctl_fields_kv("Prev", r->prev_kvs[i]);
	}
}

void ctl_simple_range(const struct ctl *c, const Etcdserverpb__RangeResponse *r,
		      bool keys_only, bool value_only)
{
	for (size_t i = 0; i < r->n_kvs; i++) {
		ctl_print_kv(c, r->kvs[i], keys_only, value_only);
	}
}

void ctl_simple_put(const struct ctl *c, const Etcdserverpb__PutResponse *r)
{
	printf("OK\n");
	if (r->prev_kv != NULL) {
		ctl_print_kv(c, r->prev_kv, false, false);
	}
}

void ctl_simple_del(const struct ctl *c,
		    const Etcdserverpb__DeleteRangeResponse *r)
{
	printf("%" PRId64 "\n", r->deleted);
	for (size_t i = 0; i < r->n_prev_kvs; i++) {
		ctl_print_kv(c, r->prev_kvs[i], false, false);
	}
}

/* --- KV commands
 * -------------------------------------------------------------- */

/* The request only reads the bytes; protobuf-c's type is not const. */
static ProtobufCBinaryData bytes_of(char *s)
{
	ProtobufCBinaryData b = {strlen(s), (uint8_t *)s};

	return b;
}

/* etcd compat: clientv3's GetPrefix: the key with its last byte below 0xff
 * incremented and the rest cut; all 0xff (or empty) means "\0" (every key
 * from the start). */
size_t ctl_prefix_end(const char *key, uint8_t *out)
{
	size_t n = strlen(key);

	for (size_t i = n; i-- > 0;) {
		if ((uint8_t)key[i] < 0xff) {
			memcpy(out, key, i);
			out[i] = (uint8_t)key[i] + 1;
			return i + 1;
		}
	}
	out[0] = 0;
	return 1;
}

static int parse_i64(const char *flag, const char *v, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0') {
		fprintf(stderr,
			"Error: invalid argument \"%s\" for \"--%s\" flag: "
			"strconv.ParseInt: parsing \"%s\": invalid syntax\n",
			v, flag, v);
		return -EINVAL;
	}
	return 0;
}

/*
 * The key and range end of get and del: [key, range_end), --prefix or
 * --from-key.  etcd compat: with either flag an empty key means "from the
 * first key", which clientv3 sends as the key "\0".
 */
static int key_range(char **args, size_t n, ProtobufCBinaryData *key,
		     ProtobufCBinaryData *range_end, uint8_t *end)
{
	static uint8_t zero[1];
	bool prefix = ctl_flag_bool("prefix"),
	     from_key = ctl_flag_bool("from-key");

	if (prefix && from_key) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "`--prefix` and `--from-key` cannot be "
				     "set at the same time, choose one");
	}
	*key = bytes_of(args[0]);
	if (n == 2) {
		if (prefix || from_key) {
			return ctl_fail_code(
			    CTL_EXIT_BAD_ARGS,
			    "too many arguments, only accept one argument when "
			    "`--prefix` or `--from-key` is set");
		}
		*range_end = bytes_of(args[1]);
	}
	if ((prefix || from_key) && args[0][0] == '\0') {
		key->len = 1;
		key->data = zero;
	}
	if (prefix) {
		if (strlen(args[0]) >= 4096) {
			return fail("key too long for --prefix");
		}
		range_end->len = ctl_prefix_end(args[0], end);
		range_end->data = end;
	}
	if (from_key) {
		end[0] = 0;
		range_end->len = 1;
		range_end->data = end;
	}
	return 0;
}

int ctl_build_put(char **args, size_t n, Etcdserverpb__PutRequest *req)
{
	const char *lease = ctl_flag("lease");

	req->key = bytes_of(args[0]);
	req->prev_kv = ctl_flag_bool("prev-kv");
	req->ignore_value = ctl_flag_bool("ignore-value");
	req->ignore_lease = ctl_flag_bool("ignore-lease");
	if (req->ignore_value && n > 1) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "put command needs only 1 argument when "
				     "'ignore-value' is set");
	}
	if (lease != NULL) {
		char *end;
		errno = 0;
		req->lease = (int64_t)strtoll(lease, &end, 16);
		if (*end != '\0' || end == lease || errno != 0) {
			return ctl_fail_code(
			    CTL_EXIT_BAD_ARGS,
			    "bad lease ID (strconv.ParseInt: parsing \"%s\": "
			    "invalid syntax), expecting ID in Hex",
			    lease);
		}
	}
	if (n >= 2) {
		req->value = bytes_of(args[1]);
	}
	return 0;
}

static int cmd_put(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		   size_t n)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	Etcdserverpb__PutResponse *resp = NULL;
	char err[ERRSZ];
	struct buf stdin_value = BUF_INIT;
	int r;

	(void)cmd;
	if ((r = ctl_build_put(args, n, &req)) != 0) {
		return r;
	}
	if (n < 2 && !req.ignore_value) {
		/* etcd compat: the value may come from stdin. */
		char chunk[4096];
		size_t got;
		while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
			buf_append(&stdin_value, chunk, got);
		}
		if (stdin_value.len == 0) {
			return ctl_fail_code(CTL_EXIT_BAD_ARGS,
					     "put command needs 1 argument and "
					     "input from stdin or 2 arguments");
		}
		req.value.data = stdin_value.data;
		req.value.len = stdin_value.len;
	}
	if (c->format == CTL_FMT_TABLE) {
		buf_done(&stdin_value);
		return ctl_unsupported(c);
	}
	r = ctl_call(c, "/v3/kv/put", &req.base,
		     &etcdserverpb__put_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err));
	buf_done(&stdin_value);
	if (r < 0) {
		return fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		ctl_print_json(&resp->base);
	} else if (c->format == CTL_FMT_FIELDS) {
		ctl_fields_put(resp);
	} else {
		ctl_simple_put(c, resp);
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

static int sort_target(const char *v,
		       Etcdserverpb__RangeRequest__SortTarget *out)
{
	static const struct {
		const char *name;
		Etcdserverpb__RangeRequest__SortTarget t;
	} targets[] = {
	    {"KEY", ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__KEY},
	    {"VERSION", ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VERSION},
	    {"CREATE", ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__CREATE},
	    {"MODIFY", ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__MOD},
	    {"VALUE", ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__VALUE},
	};

	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		if (strcasecmp(v, targets[i].name) == 0) {
			*out = targets[i].t;
			return 0;
		}
	}
	return -EINVAL;
}

int ctl_build_range(char **args, size_t n, Etcdserverpb__RangeRequest *req,
		    uint8_t *end)
{
	const char *v;
	int64_t num;
	int r;

	if ((v = ctl_flag("consistency")) != NULL) {
		if (strcmp(v, "s") == 0) {
			req->serializable = true;
		} else if (strcmp(v, "l") != 0) {
			return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
					     "unknown consistency flag \"%s\"",
					     v);
		}
	}
	if ((r = key_range(args, n, &req->key, &req->range_end, end)) != 0) {
		return r;
	}
	if ((v = ctl_flag("limit")) != NULL) {
		if (parse_i64("limit", v, &num) < 0) {
			return CTL_EXIT_ERROR;
		}
		req->limit = num;
	}
	if ((v = ctl_flag("rev")) != NULL) {
		if (parse_i64("rev", v, &num) < 0) {
			return CTL_EXIT_ERROR;
		}
		req->revision = num > 0 ? num : 0;
	}
	if ((v = ctl_flag("order")) != NULL && *v != '\0') {
		if (strcasecmp(v, "ASCEND") == 0) {
			req->sort_order =
			    ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__ASCEND;
		} else if (strcasecmp(v, "DESCEND") == 0) {
			req->sort_order =
			    ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND;
		} else {
			return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
					     "bad sort order %s", v);
		}
	}
	if ((v = ctl_flag("sort-by")) != NULL && *v != '\0') {
		if (sort_target(v, &req->sort_target) < 0) {
			return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
					     "bad sort target %s", v);
		}
		/* etcd compat: a sort target alone sorts ascending. */
		if (req->sort_order ==
		    ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__NONE) {
			req->sort_order =
			    ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__ASCEND;
		}
	}
	/* etcd compat: clientv3 drops "ascending by key", the server's order.
	 */
	if (req->sort_target == ETCDSERVERPB__RANGE_REQUEST__SORT_TARGET__KEY &&
	    req->sort_order ==
		ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__ASCEND) {
		req->sort_order = ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__NONE;
	}
	req->keys_only = ctl_flag_bool("keys-only");
	req->count_only = ctl_flag_bool("count-only");
	return 0;
}

static int cmd_get(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		   size_t n)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *resp = NULL;
	uint8_t end[4096];
	char err[ERRSZ];
	int r;

	(void)cmd;
	if ((r = ctl_build_range(args, n, &req, end)) != 0) {
		return r;
	}
	/* etcd compat: 3.5's --count-only is for -w fields only. */
	if (req.count_only && c->format != CTL_FMT_FIELDS) {
		return ctl_fail_code(
		    CTL_EXIT_BAD_ARGS,
		    "--count-only is only for `--write-out=fields`");
	}
	r = ctl_call(c, "/v3/kv/range", &req.base,
		     &etcdserverpb__range_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err));
	if (r < 0) {
		return fail(err);
	}
	if (ctl_flag_bool("print-value-only") && c->format != CTL_FMT_SIMPLE) {
		proto_free(&resp->base);
		return ctl_fail_code(
		    CTL_EXIT_BAD_ARGS,
		    "print-value-only is only for `--write-out=simple`");
	}
	if (c->format == CTL_FMT_TABLE) {
		proto_free(&resp->base);
		return ctl_unsupported(c);
	}
	if (c->format == CTL_FMT_JSON) {
		ctl_print_json(&resp->base);
	} else if (c->format == CTL_FMT_FIELDS) {
		ctl_fields_range(resp);
	} else {
		ctl_simple_range(c, resp, false,
				 ctl_flag_bool("print-value-only"));
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

int ctl_build_del(char **args, size_t n, Etcdserverpb__DeleteRangeRequest *req,
		  uint8_t *end)
{
	int r = key_range(args, n, &req->key, &req->range_end, end);

	req->prev_kv = ctl_flag_bool("prev-kv");
	return r;
}

static int cmd_del(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		   size_t n)
{
	Etcdserverpb__DeleteRangeRequest req =
	    ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
	Etcdserverpb__DeleteRangeResponse *resp = NULL;
	uint8_t end[4096];
	char err[ERRSZ];
	int r;

	(void)cmd;
	if ((r = ctl_build_del(args, n, &req, end)) != 0) {
		return r;
	}
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	r = ctl_call(c, "/v3/kv/deleterange", &req.base,
		     &etcdserverpb__delete_range_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err));
	if (r < 0) {
		return fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		ctl_print_json(&resp->base);
	} else if (c->format == CTL_FMT_FIELDS) {
		ctl_fields_del(resp);
	} else {
		ctl_simple_del(c, resp);
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

/* --- cluster and endpoint commands --------------------------------------- */

static void join_urls(char *const *v, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "%s%s", i ? "," : "", v[i]);
	}
}

static int member_list(struct ctl *c, Etcdserverpb__MemberListResponse **out,
		       char *err, size_t size)
{
	Etcdserverpb__MemberListRequest req =
	    ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;

	req.linearizable = true; /* etcd compat: 3.5's client asks for it */
	return ctl_call(c, "/v3/cluster/member/list", &req.base,
			&etcdserverpb__member_list_response__descriptor,
			(ProtobufCMessage **)out, err, size);
}

static int cmd_member_list(struct ctl *c, const struct ctl_cmd *cmd,
			   char **args, size_t n)
{
	static const char *const headers[] = {
	    "ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"};
	Etcdserverpb__MemberListResponse *resp = NULL;
	struct ctl_table *t = NULL;
	char err[ERRSZ];
	int r;

	(void)cmd;
	(void)args;
	(void)n;
	r = member_list(c, &resp, err, sizeof(err));
	if (r < 0) {
		return fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		ctl_print_json(&resp->base);
		proto_free(&resp->base);
		return CTL_EXIT_OK;
	}
	if (c->format == CTL_FMT_FIELDS) {
		ctl_fields_hdr(resp->header);
		for (size_t i = 0; i < resp->n_members; i++) {
			const Etcdserverpb__Member *m = resp->members[i];
			printf("\"ID\" : %" PRIu64 "\n", m->id);
			print_quoted("Name", (const uint8_t *)m->name,
				     strlen(m->name));
			for (size_t k = 0; k < m->n_peerurls; k++) {
				print_quoted("PeerURL",
					     (const uint8_t *)m->peerurls[k],
					     strlen(m->peerurls[k]));
			}
			for (size_t k = 0; k < m->n_clienturls; k++) {
				print_quoted("ClientURL",
					     (const uint8_t *)m->clienturls[k],
					     strlen(m->clienturls[k]));
			}
			printf("\"IsLearner\" : %s\n\n",
			       m->islearner ? "true" : "false");
		}
		proto_free(&resp->base);
		return CTL_EXIT_OK;
	}
	if (c->format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 6);
	}
	for (size_t i = 0; i < resp->n_members; i++) {
		const Etcdserverpb__Member *m = resp->members[i];
		struct buf peers = BUF_INIT, clients = BUF_INIT;
		char id[17];

		snprintf(id, sizeof(id), "%" PRIx64, m->id);
		join_urls(m->peerurls, m->n_peerurls, &peers);
		join_urls(m->clienturls, m->n_clienturls, &clients);
		if (t != NULL) {
			const char *row[] = {
			    id,
			    m->name[0] ? "started" : "unstarted",
			    m->name,
			    peers.data ? (char *)peers.data : "",
			    clients.data ? (char *)clients.data : "",
			    m->islearner ? "true" : "false"};
			ctl_table_add_row(t, row);
		} else {
			printf("%s, %s, %s, %s, %s, %s\n", id,
			       m->name[0] ? "started" : "unstarted", m->name,
			       peers.data ? (char *)peers.data : "",
			       clients.data ? (char *)clients.data : "",
			       m->islearner ? "true" : "false");
		}
		buf_done(&peers);
		buf_done(&clients);
	}
	if (t != NULL) {
		struct buf out = BUF_INIT;
		ctl_table_render(t, &out);
		fwrite(out.data, 1, out.len, stdout);
		buf_done(&out);
		ctl_table_free(t);
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

const char *ctl_ep_name(const struct ctl *c, size_t i)
{
	return c->names != NULL && c->names[i] != NULL
		   ? c->names[i]
		   : ctl_endpoint_name(c->endpoints[i]);
}

static void free_endpoints(struct ctl *c)
{
	for (size_t i = 0; i < c->n_endpoints; i++) {
		mem_free(c->endpoints[i]);
		if (c->names != NULL) {
			mem_free(c->names[i]);
		}
	}
	mem_free(c->endpoints);
	mem_free(c->names);
	c->endpoints = NULL;
	c->names = NULL;
	c->n_endpoints = 0;
}

/* Append one endpoint as given (host:port or URL). 0 or -ENOMEM. */
static int add_endpoint(struct ctl *c, const char *given)
{
	char **v =
	    mem_realloc(c->endpoints, (c->n_endpoints + 1) * sizeof(char *));

	if (v == NULL) {
		return -ENOMEM;
	}
	c->endpoints = v;
	v = mem_realloc(c->names, (c->n_endpoints + 1) * sizeof(char *));
	if (v == NULL) {
		return -ENOMEM;
	}
	c->names = v;
	c->endpoints[c->n_endpoints] = ctl_endpoint_url(given);
	c->names[c->n_endpoints] = mem_strdup(given);
	if (c->endpoints[c->n_endpoints] == NULL ||
	    c->names[c->n_endpoints] == NULL) {
		mem_free(c->endpoints[c->n_endpoints]);
		mem_free(c->names[c->n_endpoints]);
		return -ENOMEM;
	}
	c->n_endpoints++;
	return 0;
}

int ctl_cluster_endpoints(struct ctl *c)
{
	Etcdserverpb__MemberListResponse *resp = NULL;
	char err[ERRSZ];
	int r = 0;

	if (!c->cluster) {
		return 0;
	}
	if (member_list(c, &resp, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_ERROR,
				     "failed to fetch endpoints from etcd "
				     "cluster member list: %s",
				     err);
	}
	free_endpoints(c);
	/* etcd compat: the client URLs as the members advertise them. */
	for (size_t i = 0; r == 0 && i < resp->n_members; i++) {
		for (size_t k = 0; r == 0 && k < resp->members[i]->n_clienturls;
		     k++) {
			r = add_endpoint(c, resp->members[i]->clienturls[k]);
		}
	}
	proto_free(&resp->base);
	return r < 0 ? fail("out of memory") : 0;
}

static void print_status_fields(const Etcdserverpb__StatusResponse *s,
				const char *ep)
{
	ctl_fields_hdr(s->header);
	printf("\"Version\" : ");
	fflush(stdout);
	print_quoted_raw(s->version);
	printf("\"DBSize\" : %" PRId64 "\n\"Leader\" : %" PRIu64
	       "\n\"IsLearner\" : %s\n"
	       "\"RaftIndex\" : %" PRIu64 "\n\"RaftTerm\" : %" PRIu64
	       "\n\"RaftAppliedIndex\" : %" PRIu64 "\n\"Errors\" : [",
	       s->dbsize, s->leader, s->islearner ? "true" : "false",
	       s->raftindex, s->raftterm, s->raftappliedindex);
	/* etcd compat: fmt.Println of a []string. */
	for (size_t k = 0; k < s->n_errors; k++) {
		printf("%s%s", k ? " " : "", s->errors[k]);
	}
	printf("]\n\"Endpoint\" : ");
	print_quoted_raw(ep);
	printf("\n");
}

static int cmd_endpoint_status(struct ctl *c, const struct ctl_cmd *cmd,
			       char **args, size_t n)
{
	static const char *const headers[] = {
	    "endpoint",		  "ID",		"version",   "db size",
	    "is leader",	  "is learner", "raft term", "raft index",
	    "raft applied index", "errors"};
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	int status = CTL_EXIT_OK;

	(void)cmd;
	(void)args;
	(void)n;
	if (ctl_cluster_endpoints(c) != 0) {
		return CTL_EXIT_ERROR;
	}
	if (c->format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 10);
	}
	buf_append_byte(&json, '[');
	for (size_t i = 0; i < c->n_endpoints; i++) {
		Etcdserverpb__StatusResponse *s = NULL;
		char err[ERRSZ], id[17], size[32], term[24], idx[24],
		    applied[24];
		struct buf errors = BUF_INIT;
		const char *ep = ctl_ep_name(c, i);

		if (ctl_post(c, c->endpoints[i], "/v3/maintenance/status", NULL,
			     &etcdserverpb__status_response__descriptor,
			     (ProtobufCMessage **)&s, err, sizeof(err)) < 0) {
			fprintf(
			    stderr,
			    "Failed to get the status of endpoint %s (%s)\n",
			    ep, err);
			status = CTL_EXIT_ERROR;
			continue;
		}
		snprintf(id, sizeof(id), "%" PRIx64,
			 s->header ? s->header->member_id : 0);
		ctl_humanize_bytes((uint64_t)s->dbsize, size, sizeof(size));
		snprintf(term, sizeof(term), "%" PRIu64, s->raftterm);
		snprintf(idx, sizeof(idx), "%" PRIu64, s->raftindex);
		snprintf(applied, sizeof(applied), "%" PRIu64,
			 s->raftappliedindex);
		for (size_t k = 0; k < s->n_errors; k++) {
			buf_printf(&errors, "%s%s", k ? ", " : "",
				   s->errors[k]);
		}
		bool leader =
		    s->header != NULL && s->leader == s->header->member_id;
		const char *errs = errors.data ? (char *)errors.data : "";
		if (c->format == CTL_FMT_JSON) {
			/* etcd compat: etcdctl's epStatus{Endpoint, Status}. */
			buf_printf(&json, "%s{\"Endpoint\":\"%s\",\"Status\":",
				   json.len > 1 ? "," : "", ep);
			pjson_encode_flags(&s->base, &json, PJSON_GO_NUMBERS);
			buf_append_byte(&json, '}');
		} else if (c->format == CTL_FMT_FIELDS) {
			print_status_fields(s, ep);
		} else if (t != NULL) {
			const char *row[] = {ep,
					     id,
					     s->version,
					     size,
					     leader ? "true" : "false",
					     s->islearner ? "true" : "false",
					     term,
					     idx,
					     applied,
					     errs};
			ctl_table_add_row(t, row);
		} else {
			/* etcd compat: the ", " before an empty errors column
			 * stays. */
			printf("%s, %s, %s, %s, %s, %s, %s, %s, %s, %s\n", ep,
			       id, s->version, size, leader ? "true" : "false",
			       s->islearner ? "true" : "false", term, idx,
			       applied, errs);
		}
		buf_done(&errors);
		proto_free(&s->base);
	}
	if (c->format == CTL_FMT_JSON) {
		printf("%s]\n", (char *)json.data);
	}
	buf_done(&json);
	if (t != NULL) {
		struct buf out = BUF_INIT;
		ctl_table_render(t, &out);
		fwrite(out.data, 1, out.len, stdout);
		buf_done(&out);
		ctl_table_free(t);
	}
	return status;
}

static int cmd_endpoint_health(struct ctl *c, const struct ctl_cmd *cmd,
			       char **args, size_t n)
{
	static const char *const headers[] = {"endpoint", "health", "took",
					      "error"};
	struct ctl_table *t = NULL;
	struct ctl_health *health;
	struct buf json = BUF_INIT;
	bool all_ok = true;

	(void)cmd;
	(void)args;
	(void)n;
	if (ctl_cluster_endpoints(c) != 0) {
		return CTL_EXIT_ERROR;
	}
	if (c->format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 4);
	}
	/* Every endpoint at once: one silent member costs one timeout. */
	health = mem_calloc(c->n_endpoints + 1, sizeof(*health));
	if (health == NULL || ctl_health_all(c, health) < 0) {
		mem_free(health);
		ctl_table_free(t);
		return fail("out of memory");
	}
	for (size_t i = 0; i < c->n_endpoints; i++) {
		char err[ERRSZ] = "", took[32], msg[ERRSZ + 64];
		const char *ep = ctl_ep_name(c, i);
		bool ok = health[i].ok;

		snprintf(err, sizeof(err), "%s", health[i].err);
		timeutil_format_duration(health[i].took_ns, took, sizeof(took));
		all_ok = all_ok && ok;
		if (c->format == CTL_FMT_JSON) {
			/* etcd compat: etcdctl's epHealth; "error" only when
			 * set. */
			buf_printf(&json,
				   "%s{\"endpoint\":\"%s\",\"health\":%s,"
				   "\"took\":\"%s\"",
				   json.len > 0 ? "," : "[", ep,
				   ok ? "true" : "false", took);
			if (!ok) {
				buf_append_str(&json, ",\"error\":");
				errmsg_json(&json, err);
			}
			buf_append_byte(&json, '}');
		} else if (c->format == CTL_FMT_FIELDS) {
			printf("\"Endpoint\" : ");
			print_quoted_raw(ep);
			printf("\"Health\" : %s\n\"Took\" : %s\n\"Error\" : "
			       "%s\n\n",
			       ok ? "true" : "false", took, ok ? "" : err);
		} else if (t != NULL) {
			const char *row[] = {ep, ok ? "true" : "false", took,
					     ok ? "" : err};
			ctl_table_add_row(t, row);
		} else if (ok) {
			printf("%s is healthy: successfully committed "
			       "proposal: took = %s\n",
			       ep, took);
		} else {
			snprintf(
			    msg, sizeof(msg),
			    "%s is unhealthy: failed to commit proposal: %s",
			    ep, err);
			fprintf(stderr, "%s\n", msg);
		}
	}
	if (t != NULL) {
		struct buf out = BUF_INIT;
		ctl_table_render(t, &out);
		fwrite(out.data, 1, out.len, stdout);
		buf_done(&out);
		ctl_table_free(t);
	}
	if (c->format == CTL_FMT_JSON) {
		printf("%s]\n", json.len > 0 ? (char *)json.data : "[");
	}
	buf_done(&json);
	mem_free(health);
	if (!all_ok) {
		return fail("unhealthy cluster");
	}
	return CTL_EXIT_OK;
}

static int cmd_version(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n)
{
	(void)c;
	(void)cmd;
	(void)args;
	(void)n;
	/* etcd compat: etcdctl prints "etcdctl version:" and "API version:". */
	version_print(stdout, "cetcdctl");
	return CTL_EXIT_OK;
}

static const char *const put_flags[] = {"prev-kv", "lease", "ignore-value",
					"ignore-lease", NULL};
static const char *const get_flags[] = {
    "prefix",	  "from-key",	      "limit",	 "rev",	  "keys-only",
    "count-only", "print-value-only", "sort-by", "order", "consistency",
    NULL};
static const char *const del_flags[] = {"prefix", "prev-kv", "from-key", NULL};
static const char *const ep_flags[] = {"cluster", NULL};
static const char *const hashkv_flags[] = {"cluster", "rev", NULL};
static const char *const txn_flags[] = {"interactive", NULL};
static const char *const compaction_flags[] = {"physical", NULL};
static const char *const member_add_flags[] = {"peer-urls", "learner", NULL};
static const char *const member_update_flags[] = {"peer-urls", NULL};
static const char *const defrag_flags[] = {"cluster", "data-dir", NULL};
static const char *const restore_flags[] = {"data-dir",
					    "wal-dir",
					    "name",
					    "initial-cluster",
					    "initial-cluster-token",
					    "initial-advertise-peer-urls",
					    "skip-hash-check",
					    NULL};
static const char *const perf_flags[] = {"load", "perf-prefix", "auto-compact",
					 "auto-defrag", NULL};
static const char *const ttl_flags[] = {"keys", NULL};
static const char *const keepalive_flags[] = {"once", NULL};
static const char *const watch_flags[] = {"interactive", "prefix", "rev",
					  "prev-kv", NULL};
static const char *const no_flags[] = {NULL};

/*
 * etcd compat: arg_error is etcdctl's own check, done before anything is
 * sent; NULL means the command does its own checks (max_args is then a
 * generous bound).
 */
static const struct ctl_cmd commands[] = {
    {"put",
     "put [options] <key> <value> (<value> can also be given from stdin)",
     "Puts the given key into the store", cmd_put, put_flags, 1, 2,
     "put command needs 1 argument and input from stdin or 2 arguments"},
    {"get", "get [options] <key> [range_end]",
     "Gets the key or a range of keys", cmd_get, get_flags, 1, 2,
     "get command needs one argument as key and an optional argument as "
     "range_end"},
    {"del", "del [options] <key> [range_end]",
     "Removes the specified key or range of keys [key, range_end)", cmd_del,
     del_flags, 1, 2,
     "del command needs one argument as key and an optional argument as "
     "range_end"},
    {"txn", "txn [options]",
     "Txn processes all the requests in one transaction", ctl_cmd_txn,
     txn_flags, 0, 0, "txn command does not accept argument"},
    {"compaction", "compaction [options] <revision>",
     "Compacts the event history in etcd", ctl_cmd_compaction, compaction_flags,
     1, 1, "compaction command needs 1 argument"},
    {"alarm disarm", "alarm disarm [flags]", "Disarms all alarms",
     ctl_cmd_alarm_disarm, no_flags, 0, 0,
     "alarm disarm command accepts no arguments"},
    {"alarm list", "alarm list [flags]", "Lists all alarms", ctl_cmd_alarm_list,
     no_flags, 0, 0, "alarm list command accepts no arguments"},
    {"defrag", "defrag [flags]",
     "Defragments the storage of the etcd members with given endpoints",
     ctl_cmd_defrag, defrag_flags, 0, 64, NULL},
    {"endpoint health", "endpoint health [flags]",
     "Checks the healthiness of endpoints specified in `--endpoints` flag",
     cmd_endpoint_health, ep_flags, 0, 64, NULL},
    {"endpoint status", "endpoint status [flags]",
     "Prints out the status of endpoints specified in `--endpoints` flag",
     cmd_endpoint_status, ep_flags, 0, 64, NULL},
    {"endpoint hashkv", "endpoint hashkv [flags]",
     "Prints the KV history hash for each endpoint in --endpoints",
     ctl_cmd_endpoint_hashkv, hashkv_flags, 0, 64, NULL},
    {"move-leader", "move-leader <transferee-member-id> [flags]",
     "Transfers leadership to another etcd cluster member.",
     ctl_cmd_move_leader, no_flags, 1, 1,
     "move-leader command needs 1 argument"},
    {"member add", "member add <memberName> [options]",
     "Adds a member into the cluster", ctl_cmd_member_add, member_add_flags, 0,
     64, NULL},
    {"member remove", "member remove <memberID> [flags]",
     "Removes a member from the cluster", ctl_cmd_member_remove, no_flags, 1, 1,
     "member ID is not provided"},
    {"member update", "member update <memberID> [options]",
     "Updates a member in the cluster", ctl_cmd_member_update,
     member_update_flags, 1, 1, "member ID is not provided"},
    {"member list", "member list [flags]", "Lists all members in the cluster",
     cmd_member_list, no_flags, 0, 64, NULL},
    {"member promote", "member promote <memberID> [flags]",
     "Promotes a non-voting member in the cluster", ctl_cmd_member_promote,
     no_flags, 1, 1, "member ID is not provided"},
    {"check perf", "check perf [options]",
     "Check the performance of the etcd cluster", ctl_cmd_check_perf,
     perf_flags, 0, 64, NULL},
    {"watch",
     "watch [options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 "
     "...]",
     "Watches events stream on keys or prefixes", ctl_cmd_watch, watch_flags, 0,
     64, NULL},
    {"lease grant", "lease grant <ttl> [flags]", "Creates leases",
     ctl_cmd_lease_grant, no_flags, 1, 1,
     "lease grant command needs TTL argument"},
    {"lease revoke", "lease revoke <leaseID> [flags]", "Revokes leases",
     ctl_cmd_lease_revoke, no_flags, 1, 1,
     "lease revoke command needs 1 argument"},
    {"lease timetolive", "lease timetolive <leaseID> [options]",
     "Get lease information", ctl_cmd_lease_timetolive, ttl_flags, 1, 1,
     "lease timetolive command needs lease ID as argument"},
    {"lease list", "lease list [flags]", "List all active leases",
     ctl_cmd_lease_list, no_flags, 0, 64, NULL},
    {"lease keep-alive", "lease keep-alive [options] <leaseID>",
     "Keeps leases alive (renew)", ctl_cmd_lease_keepalive, keepalive_flags, 1,
     1, "lease keep-alive command needs lease ID as argument"},
    {"snapshot save", "snapshot save <filename> [flags]",
     "Stores an etcd node backend snapshot to a given file",
     ctl_cmd_snapshot_save, no_flags, 1, 1,
     "snapshot save expects one argument"},
    {"snapshot status", "snapshot status <filename> [flags]",
     "Gets backend snapshot status of a given file", ctl_cmd_snapshot_status,
     no_flags, 1, 1, "snapshot status requires exactly one argument"},
    {"snapshot restore", "snapshot restore <filename> [options]",
     "Restores an etcd member snapshot to an etcd directory",
     ctl_cmd_snapshot_restore, restore_flags, 1, 1,
     "snapshot restore requires exactly one argument"},
    {"version", "version [flags]", "Prints the version of etcdctl", cmd_version,
     no_flags, 0, 64, NULL},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_all(FILE *out)
{
	fprintf(out, "NAME:\n\tcetcdctl - A simple command line client for "
		     "etcd3 (etcdctl-compatible).\n\n"
		     "USAGE:\n\tcetcdctl [flags] <command>\n\nCOMMANDS:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "\t%-24s%s\n", commands[i].path,
			commands[i].summary);
	}
	fprintf(
	    out,
	    "\nOPTIONS:\n"
	    "      --endpoints=[127.0.0.1:2379]\tgRPC endpoints\n"
	    "      --dial-timeout=2s\t\t\tdial timeout for client connections\n"
	    "      --command-timeout=5s\t\ttimeout for short running command "
	    "(excluding dial timeout)\n"
	    "      --keepalive-time=2s\t\tkeepalive time for client "
	    "connections (accepted)\n"
	    "      --keepalive-timeout=6s\t\tkeepalive timeout for client "
	    "connections (accepted)\n"
	    "  -w, --write-out=\"simple\"\t\tset the output format (fields, "
	    "json, simple, table)\n"
	    "      --hex[=false]\t\t\tprint byte strings as hex encoded "
	    "strings\n"
	    "      --debug[=false]\t\t\tenable client-side debug logging\n"
	    "  --cacert, --cert, --key, --user, --password, --discovery-srv: "
	    "not supported yet\n");
}

static void usage_cmd(const struct ctl_cmd *cmd)
{
	fprintf(stderr, "NAME:\n\t%s - %s\n\nUSAGE:\n\tcetcdctl %s\n",
		cmd->path, cmd->summary, cmd->usage);
	if (cmd->flag_names[0] != NULL) {
		fprintf(stderr, "\nOPTIONS:\n");
		for (size_t i = 0; cmd->flag_names[i] != NULL; i++) {
			const struct flag *f = flag_find(local_flags, N_LOCAL,
							 cmd->flag_names[i], 0);
			fprintf(stderr, "\t--%s\n",
				f != NULL && f->spelled != NULL
				    ? f->spelled
				    : cmd->flag_names[i]);
		}
	}
	fprintf(stderr, "\nGLOBAL OPTIONS: see cetcdctl --help\n");
}

/* --- main
 * ----------------------------------------------------------------------- */

/* The command's own flag typed as --typed (or -shorthand), or NULL. */
static struct flag *cmd_flag(const struct ctl_cmd *cmd, const char *typed,
			     char shorthand)
{
	for (size_t i = 0; cmd != NULL && cmd->flag_names[i] != NULL; i++) {
		struct flag *f =
		    flag_find(local_flags, N_LOCAL, cmd->flag_names[i], 0);
		if (f == NULL) {
			continue;
		}
		if ((typed != NULL &&
		     strcmp(f->spelled ? f->spelled : f->name, typed) == 0) ||
		    (shorthand != 0 && f->shorthand == shorthand)) {
			return f;
		}
	}
	return NULL;
}

/* Parse one flag at argv[*i]; 0, or an exit code after printing the error. */
static int parse_flag(char **argv, int argc, int *i, const struct ctl_cmd *cmd)
{
	const char *a = argv[*i], *eq, *name;
	char nbuf[64], shorthand = 0;
	struct flag *f = NULL;
	size_t nlen;

	if (a[1] == '-') {
		name = a + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		if (nlen >= sizeof(nbuf)) {
			nlen = sizeof(nbuf) - 1;
		}
		memcpy(nbuf, name, nlen);
		nbuf[nlen] = '\0';
	} else {
		/* -wjson, -w=json, -w json */
		shorthand = a[1];
		eq = a[2] == '=' ? a + 2 : a[2] != '\0' ? a + 1 : NULL;
		nbuf[0] = '\0';
	}
	f = flag_find(global_flags, N_GLOBAL, shorthand ? NULL : nbuf,
		      shorthand);
	if (f == NULL) {
		f = cmd_flag(cmd, shorthand ? NULL : nbuf, shorthand);
	}
	if (f == NULL) {
		if (shorthand) {
			fprintf(stderr,
				"Error: unknown shorthand flag: '%c' in %s\n",
				shorthand, a);
		} else {
			fprintf(stderr, "Error: unknown flag: --%s\n", nbuf);
		}
		return CTL_EXIT_ERROR;
	}
	if (eq != NULL) {
		f->value = eq + 1;
	} else if (!f->takes_value) {
		f->value = "true";
	} else if (*i + 1 < argc) {
		f->value = argv[++*i];
	} else {
		fprintf(stderr, "Error: flag needs an argument: --%s\n",
			f->name);
		return CTL_EXIT_ERROR;
	}
	return 0;
}

int ctl_parse_op_flags(const char *op, char **args, size_t n, char **pos,
		       size_t *n_pos)
{
	const struct ctl_cmd *cmd = NULL;
	size_t k = 0;

	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].path, op) == 0) {
			cmd = &commands[i];
		}
	}
	if (cmd == NULL) {
		return -EINVAL;
	}
	ctl_flags_reset_local();
	for (int i = 0; i < (int)n; i++) {
		if (args[i][0] == '-' && args[i][1] != '\0') {
			const char *a = args[i];
			char nbuf[64];
			const char *name = a + (a[1] == '-' ? 2 : 1),
				   *eq = strchr(name, '=');
			size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
			struct flag *f;

			if (a[1] != '-' || nlen >= sizeof(nbuf)) {
				return -EINVAL;
			}
			memcpy(nbuf, name, nlen);
			nbuf[nlen] = '\0';
			if ((f = cmd_flag(cmd, nbuf, 0)) == NULL) {
				return -EINVAL;
			}
			if (eq != NULL) {
				f->value = eq + 1;
			} else if (!f->takes_value) {
				f->value = "true";
			} else if (i + 1 < (int)n) {
				f->value = args[++i];
			} else {
				return -EINVAL;
			}
		} else {
			pos[k++] = args[i];
		}
	}
	*n_pos = k;
	return 0;
}

/* ETCDCTL_<NAME> for every global flag; both ways is an error, as etcdctl. */
static int apply_env(void)
{
	for (size_t i = 0; i < N_GLOBAL; i++) {
		char var[64];
		const char *v;
		size_t k = 0;

		k = (size_t)snprintf(var, sizeof(var), "ETCDCTL_");
		for (const char *p = global_flags[i].name;
		     *p && k + 1 < sizeof(var); p++) {
			var[k++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
		}
		var[k] = '\0';
		v = getenv(var);
		if (v == NULL || *v == '\0') {
			continue;
		}
		if (global_flags[i].value != NULL) {
			fprintf(stderr,
				"cetcdctl: conflicting environment variable "
				"\"%s\" is shadowed by "
				"corresponding command-line flag (either unset "
				"environment "
				"variable or disable flag)\n",
				var);
			return CTL_EXIT_ERROR;
		}
		global_flags[i].value = v;
	}
	return 0;
}

static int duration_ms(const char *flag, const char *v, uint64_t dflt,
		       uint64_t *out)
{
	uint64_t ns;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (timeutil_parse_duration(v, &ns) < 0) {
		fprintf(stderr,
			"Error: invalid argument \"%s\" for \"--%s\" flag: "
			"time: invalid duration \"%s\"\n",
			v, flag, v);
		return -EINVAL;
	}
	*out = ns / NSEC_PER_MSEC;
	return 0;
}

static int setup(struct ctl *c, const struct ctl_cmd *cmd)
{
	static const char *const refused[] = {"cacert",
					      "cert",
					      "key",
					      "user",
					      "password",
					      "discovery-srv",
					      "discovery-srv-name"};
	const char *eps = ctl_flag("endpoints"), *w = ctl_flag("write-out");
	uint64_t keepalive;
	char *list, *save = NULL;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (ctl_flag(refused[i]) != NULL) {
			return ctl_fail_code(
			    CTL_EXIT_BAD_FEATURE,
			    "--%s is not supported yet by cetcdctl (TLS, "
			    "authentication and DNS discovery are not "
			    "implemented)",
			    refused[i]);
		}
	}
	if (duration_ms("dial-timeout", ctl_flag("dial-timeout"), 2000,
			&c->dial_timeout_ms) < 0 ||
	    duration_ms("command-timeout", ctl_flag("command-timeout"), 5000,
			&c->command_timeout_ms) < 0 ||
	    duration_ms("keepalive-time", ctl_flag("keepalive-time"), 2000,
			&keepalive) < 0 ||
	    duration_ms("keepalive-timeout", ctl_flag("keepalive-timeout"),
			6000, &keepalive) < 0) {
		usage_cmd(cmd); /* etcd compat: a bad flag value is cobra's,
				   with usage */
		return CTL_EXIT_ERROR;
	}
	if (w == NULL || strcmp(w, "simple") == 0) {
		c->format = CTL_FMT_SIMPLE;
	} else if (strcmp(w, "table") == 0) {
		c->format = CTL_FMT_TABLE;
	} else if (strcmp(w, "json") == 0) {
		c->format = CTL_FMT_JSON;
	} else if (strcmp(w, "fields") == 0) {
		c->format = CTL_FMT_FIELDS;
	} else if (strcmp(w, "protobuf") == 0) {
		int pr = protobuf_check(cmd);
		if (pr != 0) {
			return pr;
		}
		/* The JSON printers' ctl_print_json writes the bytes instead.
		 */
		c->format = CTL_FMT_JSON;
		out_protobuf = true;
	} else {
		return ctl_fail_code(CTL_EXIT_BAD_FEATURE,
				     "unsupported output format");
	}
	c->hex = ctl_flag_bool("hex");
	c->debug = ctl_flag_bool("debug");
	c->cluster = ctl_flag_bool("cluster");
	if (c->debug) {
		/* etcd compat: --debug first lists the global flags as
		 * variables. */
		for (size_t i = 0; i < N_GLOBAL; i++) {
			fprintf(stderr, "ETCDCTL_");
			for (const char *p = global_flags[i].name; *p; p++) {
				fputc(*p == '-' ? '_' : *p - 'a' + 'A', stderr);
			}
			fprintf(stderr, "=%s\n",
				global_flags[i].value ? global_flags[i].value
						      : "");
		}
	}
	list = mem_strdup(eps != NULL ? eps : "127.0.0.1:2379");
	if (list == NULL) {
		return fail("out of memory");
	}
	for (char *tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ') {
			tok++;
		}
		for (size_t l = strlen(tok); l > 0 && tok[l - 1] == ' '; l--) {
			tok[l - 1] = '\0';
		}
		if (add_endpoint(c, tok) < 0) {
			mem_free(list);
			return fail("out of memory");
		}
	}
	mem_free(list);
	return 0;
}

int ctl_argc;
char **ctl_argv;

int main(int argc, char **argv)
{
	struct ctl c = {0};
	bool dashdash = false;
	char *pos[64];
	size_t n_pos = 0;
	const struct ctl_cmd *cmd = NULL;
	size_t words = 0;
	int r;

	/* Find the command first: its local flags decide how flags parse. */
	for (int i = 1; i < argc && cmd == NULL; i++) {
		if (argv[i][0] == '-') {
			continue;
		}
		for (size_t k = 0; k < N_COMMANDS; k++) {
			const char *p = commands[k].path, *sp = strchr(p, ' ');
			size_t l = sp ? (size_t)(sp - p) : strlen(p);
			if (strncmp(argv[i], p, l) == 0 && argv[i][l] == '\0' &&
			    (sp == NULL ||
			     (i + 1 < argc &&
			      strcmp(argv[i + 1], sp + 1) == 0))) {
				cmd = &commands[k];
				words = sp ? 2 : 1;
				break;
			}
		}
	}
	ctl_argc = argc;
	ctl_argv = argv;
	for (int i = 1; i < argc; i++) {
		if (dashdash || strcmp(argv[i], "--") == 0) {
			/* etcd compat: cobra reads no flags after "--". */
			if (dashdash && n_pos < sizeof(pos) / sizeof(pos[0])) {
				pos[n_pos++] = argv[i];
			}
			dashdash = true;
			continue;
		}
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			if (cmd != NULL) {
				usage_cmd(cmd);
			} else {
				usage_all(stdout);
			}
			return CTL_EXIT_OK;
		}
		if (strcmp(argv[i], "--version") == 0) {
			version_print(stdout, "cetcdctl");
			return CTL_EXIT_OK;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			if ((r = parse_flag(argv, argc, &i, cmd)) != 0) {
				if (cmd != NULL) {
					usage_cmd(cmd);
				}
				return r;
			}
		} else if (n_pos < sizeof(pos) / sizeof(pos[0])) {
			pos[n_pos++] = argv[i];
		}
	}
	if (cmd == NULL) {
		if (n_pos > 0) {
			fprintf(
			    stderr,
			    "Error: unknown command \"%s\" for \"cetcdctl\"\n",
			    pos[0]);
			return CTL_EXIT_ERROR;
		}
		usage_all(stdout);
		return CTL_EXIT_OK;
	}
	if (n_pos - words < cmd->min_args || n_pos - words > cmd->max_args) {
		if (cmd->arg_error != NULL) {
			fprintf(stderr, "Error: %s\n", cmd->arg_error);
		} else {
			fprintf(stderr, "Error: %s takes no arguments\n",
				cmd->path);
		}
		usage_cmd(cmd);
		return CTL_EXIT_BAD_ARGS;
	}
	if ((r = apply_env()) != 0 || (r = setup(&c, cmd)) != 0) {
		return r;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmd->fn(&c, cmd, pos + words, n_pos - words);
	curl_global_cleanup();
	free_endpoints(&c);
	return r;
}
