/*
 * ctl_main.c - cetcdctl: etcdctl's command line over the JSON gateway.
 *
 * Flags follow etcdctl's (cobra/pflag): global flags anywhere on the line,
 * as --name=value, --name value or a shorthand (-w json); a global flag may
 * also come from its ETCDCTL_* variable, and setting both is an error, as in
 * etcdctl.  Output follows etcdctl 3.5 (reference/etcd-v3.md 5.3).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "agent/ctl.h"
#include "agent/ctl_table.h"
#include "base/buf.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/version.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

#define ERRSZ 512

/* --- command-line model ---------------------------------------------------- */

struct flag {
	const char *name;  /* long name */
	char shorthand;    /* 0: none */
	bool takes_value;  /* false: a bool flag (--x or --x=true) */
	const char *value; /* set by parsing: "true" for a bare bool */
};

struct cmd;
typedef int (*cmd_fn)(struct ctl *c, const struct cmd *cmd, char **args, size_t n,
		      struct flag *flags);

struct cmd {
	const char *path; /* "endpoint status" */
	const char *usage;
	const char *summary;
	cmd_fn fn;
	const char *const *flag_names; /* local flags (names in local_flags[]) */
	size_t min_args, max_args;
	const char *arg_error; /* etcd compat: etcdctl's words for a wrong count */
};

static struct flag global_flags[] = {
	{"endpoints", 0, true, NULL},	      {"dial-timeout", 0, true, NULL},
	{"command-timeout", 0, true, NULL},   {"write-out", 'w', true, NULL},
	{"hex", 0, false, NULL},	      {"debug", 0, false, NULL},
	{"keepalive-time", 0, true, NULL},    {"keepalive-timeout", 0, true, NULL},
	{"cacert", 0, true, NULL},	      {"cert", 0, true, NULL},
	{"key", 0, true, NULL},		      {"insecure-skip-tls-verify", 0, false, NULL},
	{"insecure-transport", 0, false, NULL}, {"insecure-discovery", 0, false, NULL},
	{"user", 0, true, NULL},	      {"password", 0, true, NULL},
	{"discovery-srv", 'd', true, NULL},   {"discovery-srv-name", 0, true, NULL},
};
#define N_GLOBAL (sizeof(global_flags) / sizeof(global_flags[0]))

static struct flag local_flags[] = {
	{"prefix", 0, false, NULL},	   {"from-key", 0, false, NULL},
	{"limit", 0, true, NULL},	   {"rev", 0, true, NULL},
	{"keys-only", 0, false, NULL},	   {"count-only", 0, false, NULL},
	{"print-value-only", 0, false, NULL}, {"sort-by", 0, true, NULL},
	{"order", 0, true, NULL},	   {"consistency", 0, true, NULL},
	{"prev-kv", 0, false, NULL},	   {"lease", 0, true, NULL},
	{"ignore-value", 0, false, NULL},  {"ignore-lease", 0, false, NULL},
	{"cluster", 0, false, NULL},
};
#define N_LOCAL (sizeof(local_flags) / sizeof(local_flags[0]))

static struct flag *flag_find(struct flag *set, size_t n, const char *name, char shorthand)
{
	for (size_t i = 0; i < n; i++) {
		if ((name != NULL && strcmp(set[i].name, name) == 0) ||
		    (shorthand != 0 && set[i].shorthand == shorthand)) {
			return &set[i];
		}
	}
	return NULL;
}

static const char *flag_get(const char *name)
{
	struct flag *f = flag_find(local_flags, N_LOCAL, name, 0);

	if (f == NULL) {
		f = flag_find(global_flags, N_GLOBAL, name, 0);
	}
	return f != NULL ? f->value : NULL;
}

static bool flag_bool(const char *name)
{
	const char *v = flag_get(name);

	return v != NULL && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

/* --- output helpers ------------------------------------------------------- */

/* etcd compat: --hex prints every byte as \xNN. */
static void print_bytes(const struct ctl *c, const ProtobufCBinaryData *b)
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

static void print_kv(const struct ctl *c, const Mvccpb__KeyValue *kv, bool keys_only,
		     bool value_only)
{
	if (!value_only) {
		print_bytes(c, &kv->key);
	}
	if (keys_only) {
		putchar('\n'); /* etcd compat: an empty line where the value was */
	} else {
		print_bytes(c, &kv->value);
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

/* etcd compat: -w json is Go's encoding/json of the response, one line. */
static void print_json(const ProtobufCMessage *msg)
{
	struct buf out = BUF_INIT;

	if (pjson_encode_flags(msg, &out, PJSON_GO_NUMBERS) == 0) {
		fwrite(out.data, 1, out.len, stdout);
		putchar('\n');
	}
	buf_done(&out);
}

static int fail(const char *msg)
{
	fprintf(stderr, "Error: %s\n", msg);
	return CTL_EXIT_ERROR;
}

/* --- KV commands -------------------------------------------------------------- */

/* The request only reads the bytes; protobuf-c's type is not const. */
static ProtobufCBinaryData bytes_of(char *s)
{
	ProtobufCBinaryData b = {strlen(s), (uint8_t *)s};

	return b;
}

/*
 * etcd compat: with --prefix or --from-key an empty key means "from the
 * first key", which clientv3 sends as the key "\0".
 */
static ProtobufCBinaryData key_arg(char *key)
{
	static uint8_t zero[1];

	if (key[0] == '\0' && (flag_bool("prefix") || flag_bool("from-key"))) {
		ProtobufCBinaryData b = {1, zero};
		return b;
	}
	return bytes_of(key);
}

/* etcd compat: clientv3's GetPrefix: the key with its last byte below 0xff
 * incremented and the rest cut; all 0xff (or empty) means "\0" (every key
 * from the start). */
static size_t prefix_end(const char *key, uint8_t *out)
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
		fprintf(stderr, "Error: invalid argument \"%s\" for \"--%s\" flag: "
				"strconv.ParseInt: parsing \"%s\": invalid syntax\n",
			v, flag, v);
		return -EINVAL;
	}
	return 0;
}

static int cmd_put(struct ctl *c, const struct cmd *cmd, char **args, size_t n,
		   struct flag *flags)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char err[ERRSZ];
	struct buf stdin_value = BUF_INIT;
	const char *lease = flag_get("lease");
	int r;

	(void)cmd;
	(void)flags;
	req.key = bytes_of(args[0]);
	req.prev_kv = flag_bool("prev-kv");
	req.ignore_value = flag_bool("ignore-value");
	req.ignore_lease = flag_bool("ignore-lease");
	if (lease != NULL) {
		char *end;
		req.lease = (int64_t)strtoull(lease, &end, 16);
		if (*end != '\0') {
			fprintf(stderr, "Error: bad lease ID (strconv.ParseInt: parsing "
					"\"%s\": invalid syntax), expecting ID in Hex\n",
				lease);
			return CTL_EXIT_BAD_ARGS;
		}
	}
	if (n >= 2) {
		req.value = bytes_of(args[1]);
	} else if (!req.ignore_value) {
		/* etcd compat: the value may come from stdin. */
		char chunk[4096];
		size_t got;
		while ((got = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
			buf_append(&stdin_value, chunk, got);
		}
		req.value.data = stdin_value.data;
		req.value.len = stdin_value.len;
	}
	r = ctl_call(c, "/v3/kv/put", &req.base, &etcdserverpb__put_response__descriptor,
		     &resp, err, sizeof(err));
	buf_done(&stdin_value);
	if (r < 0) {
		return fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		print_json(resp);
		proto_free(resp);
		return CTL_EXIT_OK;
	}
	printf("OK\n");
	if (req.prev_kv && ((Etcdserverpb__PutResponse *)resp)->prev_kv != NULL) {
		print_kv(c, ((Etcdserverpb__PutResponse *)resp)->prev_kv, false, false);
	}
	proto_free(resp);
	return CTL_EXIT_OK;
}

static int sort_target(const char *v, Etcdserverpb__RangeRequest__SortTarget *out)
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

static int cmd_get(struct ctl *c, const struct cmd *cmd, char **args, size_t n,
		   struct flag *flags)
{
	Etcdserverpb__RangeRequest req = ETCDSERVERPB__RANGE_REQUEST__INIT;
	Etcdserverpb__RangeResponse *resp = NULL;
	uint8_t end[4096];
	char err[ERRSZ];
	const char *v;
	int64_t num;
	int r;

	(void)cmd;
	(void)flags;
	req.key = key_arg(args[0]);
	if (n == 2) {
		req.range_end = bytes_of(args[1]);
	}
	if (flag_bool("prefix")) {
		if (n == 2) {
			return fail("too many arguments, only accept one argument when `--prefix` is set.");
		}
		if (strlen(args[0]) >= sizeof(end)) {
			return fail("key too long for --prefix");
		}
		req.range_end.len = prefix_end(args[0], end);
		req.range_end.data = end;
	}
	if (flag_bool("from-key")) {
		if (flag_bool("prefix")) {
			return fail("`--prefix` and `--from-key` cannot be set at the same time, choose one.");
		}
		end[0] = 0;
		req.range_end.len = 1;
		req.range_end.data = end;
	}
	if ((v = flag_get("limit")) != NULL) {
		if (parse_i64("limit", v, &num) < 0) {
			return CTL_EXIT_BAD_ARGS;
		}
		req.limit = num;
	}
	if ((v = flag_get("rev")) != NULL) {
		if (parse_i64("rev", v, &num) < 0) {
			return CTL_EXIT_BAD_ARGS;
		}
		req.revision = num;
	}
	if ((v = flag_get("consistency")) != NULL) {
		if (strcmp(v, "s") == 0) {
			req.serializable = true;
		} else if (strcmp(v, "l") != 0) {
			fprintf(stderr, "Error: unknown consistency flag %s\n", v);
			return CTL_EXIT_BAD_ARGS;
		}
	}
	if ((v = flag_get("order")) != NULL) {
		if (strcasecmp(v, "ASCEND") == 0) {
			req.sort_order = ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__ASCEND;
		} else if (strcasecmp(v, "DESCEND") == 0) {
			req.sort_order = ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__DESCEND;
		} else {
			fprintf(stderr, "Error: bad ordering %s\n", v);
			return CTL_EXIT_BAD_ARGS;
		}
	}
	if ((v = flag_get("sort-by")) != NULL) {
		if (sort_target(v, &req.sort_target) < 0) {
			fprintf(stderr, "Error: bad sort target %s\n", v);
			return CTL_EXIT_BAD_ARGS;
		}
		/* etcd compat: a sort target alone sorts ascending. */
		if (req.sort_order == ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__NONE) {
			req.sort_order = ETCDSERVERPB__RANGE_REQUEST__SORT_ORDER__ASCEND;
		}
	}
	req.keys_only = flag_bool("keys-only");
	req.count_only = flag_bool("count-only");
	r = ctl_call(c, "/v3/kv/range", &req.base, &etcdserverpb__range_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err));
	if (r < 0) {
		return fail(err);
	}
	if (c->format == CTL_FMT_TABLE) {
		proto_free(&resp->base);
		return fail("table is not supported as output format");
	}
	if (c->format == CTL_FMT_JSON) {
		print_json(&resp->base);
	}
	for (size_t i = 0; c->format != CTL_FMT_JSON && i < resp->n_kvs; i++) {
		print_kv(c, resp->kvs[i], req.keys_only, flag_bool("print-value-only"));
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

static int cmd_del(struct ctl *c, const struct cmd *cmd, char **args, size_t n,
		   struct flag *flags)
{
	Etcdserverpb__DeleteRangeRequest req = ETCDSERVERPB__DELETE_RANGE_REQUEST__INIT;
	Etcdserverpb__DeleteRangeResponse *resp = NULL;
	uint8_t end[4096];
	char err[ERRSZ];
	int r;

	(void)cmd;
	(void)flags;
	req.key = key_arg(args[0]);
	if (n == 2) {
		req.range_end = bytes_of(args[1]);
	}
	if (flag_bool("prefix")) {
		if (strlen(args[0]) >= sizeof(end)) {
			return fail("key too long for --prefix");
		}
		req.range_end.len = prefix_end(args[0], end);
		req.range_end.data = end;
	}
	if (flag_bool("from-key")) {
		end[0] = 0;
		req.range_end.len = 1;
		req.range_end.data = end;
	}
	req.prev_kv = flag_bool("prev-kv");
	r = ctl_call(c, "/v3/kv/deleterange", &req.base,
		     &etcdserverpb__delete_range_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err));
	if (r < 0) {
		return fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		print_json(&resp->base);
		proto_free(&resp->base);
		return CTL_EXIT_OK;
	}
	printf("%" PRId64 "\n", resp->deleted);
	for (size_t i = 0; req.prev_kv && i < resp->n_prev_kvs; i++) {
		print_kv(c, resp->prev_kvs[i], false, false);
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
	Etcdserverpb__MemberListRequest req = ETCDSERVERPB__MEMBER_LIST_REQUEST__INIT;

	req.linearizable = true; /* etcd compat: 3.5's client asks for it */
	return ctl_call(c, "/v3/cluster/member/list", &req.base,
			&etcdserverpb__member_list_response__descriptor,
			(ProtobufCMessage **)out, err, size);
}

static int cmd_member_list(struct ctl *c, const struct cmd *cmd, char **args, size_t n,
			   struct flag *flags)
{
	static const char *const headers[] = {"ID", "Status", "Name", "Peer Addrs",
					      "Client Addrs", "Is Learner"};
	Etcdserverpb__MemberListResponse *resp = NULL;
	struct ctl_table *t = NULL;
	char err[ERRSZ];
	int r;

	(void)cmd;
	(void)args;
	(void)n;
	(void)flags;
	r = member_list(c, &resp, err, sizeof(err));
	if (r < 0) {
		return fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		print_json(&resp->base);
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
			const char *row[] = {id, m->name[0] ? "started" : "unstarted", m->name,
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

/* --cluster: every member's client URLs replace the endpoints. */
static int cluster_endpoints(struct ctl *c)
{
	Etcdserverpb__MemberListResponse *resp = NULL;
	char err[ERRSZ];
	size_t n = 0;
	char **eps;

	if (member_list(c, &resp, err, sizeof(err)) < 0) {
		return fail(err);
	}
	for (size_t i = 0; i < resp->n_members; i++) {
		n += resp->members[i]->n_clienturls;
	}
	eps = mem_calloc(n + 1, sizeof(char *));
	n = 0;
	for (size_t i = 0; eps != NULL && i < resp->n_members; i++) {
		for (size_t k = 0; k < resp->members[i]->n_clienturls; k++) {
			eps[n++] = ctl_endpoint_url(resp->members[i]->clienturls[k]);
		}
	}
	proto_free(&resp->base);
	if (eps == NULL) {
		return fail("out of memory");
	}
	for (size_t i = 0; i < c->n_endpoints; i++) {
		mem_free(c->endpoints[i]);
	}
	mem_free(c->endpoints);
	c->endpoints = eps;
	c->n_endpoints = n;
	return 0;
}

static int cmd_endpoint_status(struct ctl *c, const struct cmd *cmd, char **args,
			       size_t n, struct flag *flags)
{
	static const char *const headers[] = {
		"endpoint",   "ID",	   "version",	 "db size",	       "is leader",
		"is learner", "raft term", "raft index", "raft applied index", "errors"};
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	int status = CTL_EXIT_OK;

	(void)cmd;
	(void)args;
	(void)n;
	(void)flags;
	if (c->cluster && cluster_endpoints(c) != 0) {
		return CTL_EXIT_ERROR;
	}
	if (c->format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 10);
	}
	buf_append_byte(&json, '[');
	for (size_t i = 0; i < c->n_endpoints; i++) {
		Etcdserverpb__StatusResponse *s = NULL;
		char err[ERRSZ], id[17], size[32], term[24], idx[24], applied[24];
		struct buf errors = BUF_INIT;
		const char *ep = ctl_endpoint_name(c->endpoints[i]);

		if (ctl_post(c, c->endpoints[i], "/v3/maintenance/status", NULL,
			     &etcdserverpb__status_response__descriptor,
			     (ProtobufCMessage **)&s, err, sizeof(err)) < 0) {
			fprintf(stderr, "Failed to get the status of endpoint %s (%s)\n", ep, err);
			status = CTL_EXIT_ERROR;
			continue;
		}
		snprintf(id, sizeof(id), "%" PRIx64, s->header ? s->header->member_id : 0);
		ctl_humanize_bytes((uint64_t)s->dbsize, size, sizeof(size));
		snprintf(term, sizeof(term), "%" PRIu64, s->raftterm);
		snprintf(idx, sizeof(idx), "%" PRIu64, s->raftindex);
		snprintf(applied, sizeof(applied), "%" PRIu64, s->raftappliedindex);
		for (size_t k = 0; k < s->n_errors; k++) {
			buf_printf(&errors, "%s%s", k ? ", " : "", s->errors[k]);
		}
		bool leader = s->header != NULL && s->leader == s->header->member_id;
		const char *errs = errors.data ? (char *)errors.data : "";
		if (c->format == CTL_FMT_JSON) {
			/* etcd compat: etcdctl's epStatus{Endpoint, Status}. */
			buf_printf(&json, "%s{\"Endpoint\":\"%s\",\"Status\":",
				   json.len > 1 ? "," : "", ep);
			pjson_encode_flags(&s->base, &json, PJSON_GO_NUMBERS);
			buf_append_byte(&json, '}');
		} else if (t != NULL) {
			const char *row[] = {ep,	  id,
					     s->version, size,
					     leader ? "true" : "false",
					     s->islearner ? "true" : "false",
					     term,	  idx,
					     applied,	  errs};
			ctl_table_add_row(t, row);
		} else {
			/* etcd compat: the ", " before an empty errors column stays. */
			printf("%s, %s, %s, %s, %s, %s, %s, %s, %s, %s\n", ep, id, s->version,
			       size, leader ? "true" : "false",
			       s->islearner ? "true" : "false", term, idx, applied, errs);
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

static int cmd_endpoint_health(struct ctl *c, const struct cmd *cmd, char **args,
			       size_t n, struct flag *flags)
{
	static const char *const headers[] = {"endpoint", "health", "took", "error"};
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	bool all_ok = true;

	(void)cmd;
	(void)args;
	(void)n;
	(void)flags;
	if (c->cluster && cluster_endpoints(c) != 0) {
		return CTL_EXIT_ERROR;
	}
	if (c->format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 4);
	}
	for (size_t i = 0; i < c->n_endpoints; i++) {
		/* etcd compat: health is a linearizable Get("health") ... */
		Etcdserverpb__RangeRequest get = ETCDSERVERPB__RANGE_REQUEST__INIT;
		Etcdserverpb__AlarmRequest alarm = ETCDSERVERPB__ALARM_REQUEST__INIT;
		ProtobufCMessage *resp = NULL;
		char err[ERRSZ] = "", took[32], msg[ERRSZ + 64];
		const char *ep = ctl_endpoint_name(c->endpoints[i]);
		uint64_t start = timeutil_mono_ns();
		bool ok;
		int r;

		static char health_key[] = "health";
		get.key = bytes_of(health_key);
		r = ctl_post(c, c->endpoints[i], "/v3/kv/range", &get.base,
			     &etcdserverpb__range_response__descriptor, &resp, err, sizeof(err));
		/* ... where "permission denied" still proves a working cluster. */
		ok = r == 0 || strstr(err, "permission denied") != NULL;
		timeutil_format_duration(timeutil_mono_ns() - start, took, sizeof(took));
		proto_free(resp);
		resp = NULL;
		if (ok) {
			/* 3.5 also counts an active alarm as unhealthy. */
			if (ctl_post(c, c->endpoints[i], "/v3/maintenance/alarm", &alarm.base,
				     &etcdserverpb__alarm_response__descriptor, &resp, err,
				     sizeof(err)) == 0) {
				Etcdserverpb__AlarmResponse *a = (Etcdserverpb__AlarmResponse *)resp;
				if (a->n_alarms > 0) {
					struct buf b = BUF_INIT;
					buf_append_str(&b, "Active Alarm(s): ");
					for (size_t k = 0; k < a->n_alarms; k++) {
						buf_printf(&b, "%s ",
							   a->alarms[k]->alarm ==
									   ETCDSERVERPB__ALARM_TYPE__NOSPACE
								   ? "NOSPACE"
								   : "CORRUPT");
					}
					snprintf(err, sizeof(err), "%s", (char *)b.data);
					buf_done(&b);
					ok = false;
				} else {
					err[0] = '\0';
				}
			} else {
				err[0] = '\0'; /* a member without the alarm API is still healthy */
			}
			proto_free(resp);
		}
		all_ok = all_ok && ok;
		if (c->format == CTL_FMT_JSON) {
			/* etcd compat: etcdctl's epHealth; "error" only when set. */
			buf_printf(&json, "%s{\"endpoint\":\"%s\",\"health\":%s,\"took\":\"%s\"",
				   json.len > 0 ? "," : "[", ep, ok ? "true" : "false", took);
			if (!ok) {
				buf_append_str(&json, ",\"error\":");
				errmsg_json(&json, err);
			}
			buf_append_byte(&json, '}');
		} else if (t != NULL) {
			const char *row[] = {ep, ok ? "true" : "false", took, ok ? "" : err};
			ctl_table_add_row(t, row);
		} else if (ok) {
			printf("%s is healthy: successfully committed proposal: took = %s\n", ep,
			       took);
		} else {
			snprintf(msg, sizeof(msg), "%s is unhealthy: failed to commit proposal: %s",
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
	if (!all_ok) {
		return fail("unhealthy cluster");
	}
	return CTL_EXIT_OK;
}

static int cmd_version(struct ctl *c, const struct cmd *cmd, char **args, size_t n,
		       struct flag *flags)
{
	(void)c;
	(void)cmd;
	(void)args;
	(void)n;
	(void)flags;
	/* etcd compat: etcdctl prints "etcdctl version:" and "API version:". */
	version_print(stdout, "cetcdctl");
	return CTL_EXIT_OK;
}

static const char *const put_flags[] = {"prev-kv", "lease", "ignore-value", "ignore-lease",
					NULL};
static const char *const get_flags[] = {"prefix",	   "from-key", "limit",
					"rev",		   "keys-only", "count-only",
					"print-value-only", "sort-by", "order",
					"consistency",	   NULL};
static const char *const del_flags[] = {"prefix", "prev-kv", "from-key", NULL};
static const char *const ep_flags[] = {"cluster", NULL};
static const char *const no_flags[] = {NULL};

static const struct cmd commands[] = {
	{"put", "put [options] <key> <value> (<value> can also be given from stdin)",
	 "Puts the given key into the store", cmd_put, put_flags, 1, 2,
	 "put command needs 1 argument and input from stdin or 2 arguments"},
	{"get", "get [options] <key> [range_end]",
	 "Gets the key or a range of keys", cmd_get, get_flags, 1, 2,
	 "get command needs one argument as key and an optional argument as range_end"},
	{"del", "del [options] <key> [range_end]",
	 "Removes the specified key or range of keys [key, range_end)", cmd_del,
	 del_flags, 1, 2,
	 "del command needs one argument as key and an optional argument as range_end"},
	{"endpoint health", "endpoint health [flags]",
	 "Checks the healthiness of endpoints specified in `--endpoints` flag",
	 cmd_endpoint_health, ep_flags, 0, 0, NULL},
	{"endpoint status", "endpoint status [flags]",
	 "Prints out the status of endpoints specified in `--endpoints` flag",
	 cmd_endpoint_status, ep_flags, 0, 0, NULL},
	{"member list", "member list [flags]", "Lists all members in the cluster",
	 cmd_member_list, no_flags, 0, 0, NULL},
	{"version", "version [flags]", "Prints the version of etcdctl", cmd_version,
	 no_flags, 0, 0, NULL},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_all(FILE *out)
{
	fprintf(out, "NAME:\n\tcetcdctl - A simple command line client for etcd3 (etcdctl-compatible).\n\n"
		     "USAGE:\n\tcetcdctl [flags] <command>\n\nCOMMANDS:\n");
	for (size_t i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "\t%-24s%s\n", commands[i].path, commands[i].summary);
	}
	fprintf(out, "\nOPTIONS:\n"
		     "      --endpoints=[127.0.0.1:2379]\tgRPC endpoints\n"
		     "      --dial-timeout=2s\t\t\tdial timeout for client connections\n"
		     "      --command-timeout=5s\t\ttimeout for short running command\n"
		     "  -w, --write-out=\"simple\"\t\tset the output format (fields, json, simple, table)\n"
		     "      --hex[=false]\t\t\tprint byte strings as hex encoded strings\n"
		     "      --debug[=false]\t\t\tenable client-side debug logging\n");
}

static void usage_cmd(const struct cmd *cmd)
{
	fprintf(stderr, "NAME:\n\t%s - %s\n\nUSAGE:\n\tcetcdctl %s\n", cmd->path, cmd->summary,
		cmd->usage);
	if (cmd->flag_names[0] != NULL) {
		fprintf(stderr, "\nOPTIONS:\n");
		for (size_t i = 0; cmd->flag_names[i] != NULL; i++) {
			fprintf(stderr, "\t--%s\n", cmd->flag_names[i]);
		}
	}
}

/* --- main ----------------------------------------------------------------------- */

static bool cmd_has_flag(const struct cmd *cmd, const char *name)
{
	for (size_t i = 0; cmd != NULL && cmd->flag_names[i] != NULL; i++) {
		if (strcmp(cmd->flag_names[i], name) == 0) {
			return true;
		}
	}
	return false;
}

/* Parse one flag at argv[*i]; 0, or an exit code after printing the error. */
static int parse_flag(char **argv, int argc, int *i, const struct cmd *cmd)
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
		shorthand = a[1];
		eq = a[2] != '\0' ? a + 1 : NULL; /* -wjson */
		nbuf[0] = '\0';
	}
	f = flag_find(global_flags, N_GLOBAL, shorthand ? NULL : nbuf, shorthand);
	if (f == NULL && cmd_has_flag(cmd, nbuf)) {
		f = flag_find(local_flags, N_LOCAL, nbuf, 0);
	}
	if (f == NULL) {
		if (shorthand) {
			fprintf(stderr, "Error: unknown shorthand flag: '%c' in %s\n", shorthand, a);
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
		fprintf(stderr, "Error: flag needs an argument: --%s\n", f->name);
		return CTL_EXIT_ERROR;
	}
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
		for (const char *p = global_flags[i].name; *p && k + 1 < sizeof(var); p++) {
			var[k++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
		}
		var[k] = '\0';
		v = getenv(var);
		if (v == NULL || *v == '\0') {
			continue;
		}
		if (global_flags[i].value != NULL) {
			fprintf(stderr,
				"cetcdctl: conflicting environment variable \"%s\" is shadowed by "
				"corresponding command-line flag (either unset environment "
				"variable or disable flag)\n",
				var);
			return CTL_EXIT_BAD_ARGS;
		}
		global_flags[i].value = v;
	}
	return 0;
}

static int duration_ms(const char *flag, const char *v, uint64_t dflt, uint64_t *out)
{
	uint64_t ns;

	if (v == NULL) {
		*out = dflt;
		return 0;
	}
	if (timeutil_parse_duration(v, &ns) < 0) {
		fprintf(stderr, "Error: invalid argument \"%s\" for \"--%s\" flag: "
				"time: invalid duration \"%s\"\n",
			v, flag, v);
		return -EINVAL;
	}
	*out = ns / NSEC_PER_MSEC;
	return 0;
}

static int setup(struct ctl *c)
{
	const char *eps = flag_get("endpoints"), *w = flag_get("write-out");
	char *list, *save = NULL;

	if (flag_get("cacert") || flag_get("cert") || flag_get("key") ||
	    flag_get("user") || flag_get("password") || flag_get("discovery-srv")) {
		fprintf(stderr, "Error: TLS, authentication and discovery are not supported "
				"yet by cetcdctl (drop --cacert/--cert/--key/--user/--password/"
				"--discovery-srv)\n");
		return CTL_EXIT_BAD_FEATURE;
	}
	if (duration_ms("dial-timeout", flag_get("dial-timeout"), 2000, &c->dial_timeout_ms) < 0 ||
	    duration_ms("command-timeout", flag_get("command-timeout"), 5000,
			&c->command_timeout_ms) < 0) {
		return CTL_EXIT_BAD_ARGS;
	}
	if (w == NULL || strcmp(w, "simple") == 0) {
		c->format = CTL_FMT_SIMPLE;
	} else if (strcmp(w, "table") == 0) {
		c->format = CTL_FMT_TABLE;
	} else if (strcmp(w, "json") == 0) {
		c->format = CTL_FMT_JSON;
	} else if (strcmp(w, "fields") == 0) {
		c->format = CTL_FMT_FIELDS;
	} else {
		fprintf(stderr, "Error: unknown output format %s\n", w);
		return CTL_EXIT_BAD_ARGS;
	}
	if (c->format == CTL_FMT_FIELDS) {
		fprintf(stderr, "Error: -w fields is not supported by cetcdctl yet (use simple, "
				"table or json)\n");
		return CTL_EXIT_BAD_FEATURE;
	}
	c->hex = flag_bool("hex");
	c->debug = flag_bool("debug");
	c->cluster = flag_bool("cluster");
	list = mem_strdup(eps != NULL ? eps : "127.0.0.1:2379");
	for (char *tok = strtok_r(list, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		char **v = mem_realloc(c->endpoints, (c->n_endpoints + 1) * sizeof(char *));
		if (v == NULL) {
			break;
		}
		c->endpoints = v;
		c->endpoints[c->n_endpoints++] = ctl_endpoint_url(tok);
	}
	mem_free(list);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl c = {0};
	char *pos[64];
	size_t n_pos = 0;
	const struct cmd *cmd = NULL;
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
			    (sp == NULL || (i + 1 < argc && strcmp(argv[i + 1], sp + 1) == 0))) {
				cmd = &commands[k];
				words = sp ? 2 : 1;
				break;
			}
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
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
			fprintf(stderr, "Error: unknown command \"%s\" for \"cetcdctl\"\n", pos[0]);
			return CTL_EXIT_ERROR;
		}
		usage_all(stdout);
		return CTL_EXIT_OK;
	}
	if (n_pos - words < cmd->min_args || n_pos - words > cmd->max_args) {
		if (cmd->arg_error != NULL) {
			fprintf(stderr, "Error: %s\n", cmd->arg_error);
		} else {
			fprintf(stderr, "Error: %s takes no arguments\n", cmd->path);
		}
		usage_cmd(cmd);
		return CTL_EXIT_BAD_ARGS;
	}
	if ((r = apply_env()) != 0 || (r = setup(&c)) != 0) {
		return r;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmd->fn(&c, cmd, pos + words, n_pos - words, local_flags);
	curl_global_cleanup();
	for (size_t i = 0; i < c.n_endpoints; i++) {
		mem_free(c.endpoints[i]);
	}
	mem_free(c.endpoints);
	return r;
}
