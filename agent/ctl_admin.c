/*
 * ctl_admin.c - cetcdctl's txn, compaction, member, endpoint hashkv,
 * move-leader, alarm and defrag commands (ctl_cmd.h).
 *
 * Each command follows etcdctl 3.4/3.5's command file: the same argument
 * checks in the same order with the same words and exit codes, the same
 * request, and the printer's output for every -w format.
 *
 * Invariants:
 *  1. A request is built only from checked input; nothing is sent when an
 *     argument is bad (etcdctl checks before dialling too).
 *  2. Where etcdctl sends first and then finds the format unsupported
 *     (member add -w table), so do we: the change is made, then exit 4.
 *  3. txn keeps every line it read until the request is sent, because the
 *     request's keys and values point into those lines.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/ctl.h"
#include "agent/ctl_cmd.h"
#include "agent/ctl_table.h"
#include "base/buf.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "rpc.pb-c.h"

/* --- small parsers ------------------------------------------------------- */

/*
 * Go's strconv.ParseUint(s, 16, 64): hex digits only, no prefix or sign.
 * 0, or -EINVAL / -ERANGE with Go's message in msg.
 */
static int parse_hex_id(const char *s, uint64_t *out, char *msg, size_t size)
{
	uint64_t v = 0;

	if (*s == '\0') {
		snprintf(msg, size,
			 "strconv.ParseUint: parsing \"%s\": invalid syntax",
			 s);
		return -EINVAL;
	}
	for (const char *p = s; *p; p++) {
		int d;
		if (*p >= '0' && *p <= '9') {
			d = *p - '0';
		} else if (*p >= 'a' && *p <= 'f') {
			d = *p - 'a' + 10;
		} else if (*p >= 'A' && *p <= 'F') {
			d = *p - 'A' + 10;
		} else {
			snprintf(
			    msg, size,
			    "strconv.ParseUint: parsing \"%s\": invalid syntax",
			    s);
			return -EINVAL;
		}
		if (v >> 60 != 0) {
			snprintf(msg, size,
				 "strconv.ParseUint: parsing \"%s\": value out "
				 "of range",
				 s);
			return -ERANGE;
		}
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return 0;
}

/* Go's strconv.ParseInt(s, 10, 64); message as Go's. */
static int parse_dec(const char *s, int64_t *out, char *msg, size_t size)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || *s == ' ' ||
	    (*s == '+' && s[1] == '\0')) {
		snprintf(msg, size,
			 "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
		return -EINVAL;
	}
	if (errno == ERANGE) {
		snprintf(msg, size,
			 "strconv.ParseInt: parsing \"%s\": value out of range",
			 s);
		return -ERANGE;
	}
	return 0;
}

static int member_id_arg(const char *s, uint64_t *id)
{
	char msg[256];

	if (parse_hex_id(s, id, msg, sizeof(msg)) < 0) {
		return ctl_fail_code(
		    CTL_EXIT_BAD_ARGS,
		    "bad member ID arg (%s), expecting ID in Hex", msg);
	}
	return 0;
}

/* Split a comma list into a new array of strings pointing into s. */
static char **split_commas(char *s, size_t *n)
{
	size_t count = 1;
	char **v;

	for (const char *p = s; *p; p++) {
		count += *p == ',';
	}
	v = mem_calloc(count, sizeof(char *));
	if (v == NULL) {
		return NULL;
	}
	*n = 0;
	for (char *p = s;;) {
		char *comma = strchr(p, ',');
		v[(*n)++] = p;
		if (comma == NULL) {
			break;
		}
		*comma = '\0';
		p = comma + 1;
	}
	return v;
}

static void print_go_quoted(const char *s)
{
	struct buf b = BUF_INIT;

	ctl_go_quote(&b, (const uint8_t *)s, strlen(s));
	fwrite(b.data, 1, b.len, stdout);
	buf_done(&b);
}

/* --- txn -------------------------------------------------------------------
 */

struct txn_input {
	void **keep; /* lines and buffers the request points into */
	size_t n_keep;
};

static int keep(struct txn_input *in, void *p)
{
	void **v = mem_realloc(in->keep, (in->n_keep + 1) * sizeof(void *));

	if (v == NULL) {
		mem_free(p);
		return -ENOMEM;
	}
	in->keep = v;
	in->keep[in->n_keep++] = p;
	return 0;
}

static void txn_input_done(struct txn_input *in)
{
	for (size_t i = 0; i < in->n_keep; i++) {
		mem_free(in->keep[i]);
	}
	mem_free(in->keep);
}

/*
 * One line, without the newline and surrounding spaces.  etcd compat:
 * etcdctl reads with ReadString('\n'), so input that ends without a newline
 * is an error ("EOF"), even after a partial line.  1 with *line (kept in
 * in), 0 at that EOF, -ENOMEM.
 */
static int read_line(struct txn_input *in, char **line)
{
	struct buf b = BUF_INIT;
	int ch;
	char *s, *e;

	while ((ch = getchar()) != EOF && ch != '\n') {
		if (buf_append_byte(&b, (uint8_t)ch) < 0) {
			buf_done(&b);
			return -ENOMEM;
		}
	}
	if (ch == EOF) {
		buf_done(&b);
		return 0;
	}
	if (buf_append(&b, "", 1) < 0) {
		buf_done(&b);
		return -ENOMEM;
	}
	s = (char *)buf_steal(&b, NULL);
	if (s == NULL || keep(in, s) < 0) {
		return -ENOMEM;
	}
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' ||
	       *s == '\f') {
		s++;
	}
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\v' || e[-1] == '\f')) {
		*--e = '\0';
	}
	*line = s;
	return 1;
}

/*
 * A Go quoted string ("..." with escapes, or `...`) at *p, unquoted in
 * place into out (which may be *p itself: unquoting only shrinks).
 * Advances *p past it.  0, or -EINVAL.
 */
static int go_unquote(char **p, char **out)
{
	char *s = *p, *w, q = *s;

	if (q == '`') {
		char *end = strchr(s + 1, '`');
		if (end == NULL) {
			return -EINVAL;
		}
		*end = '\0';
		*out = s + 1;
		*p = end + 1;
		return 0;
	}
	if (q != '"') {
		return -EINVAL;
	}
	w = s; /* write over the opening quote onwards */
	*out = w;
	for (s++; *s != '"'; s++) {
		if (*s == '\0' || *s == '\n') {
			return -EINVAL;
		}
		if (*s != '\\') {
			*w++ = *s;
			continue;
		}
		s++;
		switch (*s) {
		case 'a':
			*w++ = '\a';
			break;
		case 'b':
			*w++ = '\b';
			break;
		case 'f':
			*w++ = '\f';
			break;
		case 'n':
			*w++ = '\n';
			break;
		case 'r':
			*w++ = '\r';
			break;
		case 't':
			*w++ = '\t';
			break;
		case 'v':
			*w++ = '\v';
			break;
		case '\\':
			*w++ = '\\';
			break;
		case '"':
			*w++ = '"';
			break;
		case '\'':
			*w++ = '\'';
			break;
		case 'x': {
			char hex[3] = {0};
			char *end;
			if (s[1] == '\0' || s[2] == '\0') {
				return -EINVAL;
			}
			hex[0] = s[1];
			hex[1] = s[2];
			*w++ = (char)strtoul(hex, &end, 16);
			if (*end != '\0') {
				return -EINVAL;
			}
			s += 2;
			break;
		}
		default:
			return -EINVAL;
		}
	}
	*w = '\0';
	*p = s + 1;
	return 0;
}

/*
 * etcd compat: etcdctl's argify: words split on spaces, "double-quoted"
 * (Go escapes) and 'single-quoted' words taken whole.  The words point
 * into line, which is modified.  Returns the count, or -EINVAL.
 */
int ctl_argify(char *line, char **words, size_t max)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *w;

		while (*p == ' ' || *p == '\t') {
			p++;
		}
		if (*p == '\0') {
			break;
		}
		if (n == max) {
			return -EINVAL;
		}
		if (*p == '"') {
			if (go_unquote(&p, &w) < 0) {
				return -EINVAL;
			}
		} else if (*p == '\'') {
			char *end = strchr(p + 1, '\'');
			if (end == NULL) {
				return -EINVAL;
			}
			*end = '\0';
			w = p + 1;
			p = end + 1;
		} else {
			w = p;
			while (*p != '\0' && *p != ' ' && *p != '\t') {
				p++;
			}
		}
		if (*p != '\0') {
			*p++ = '\0';
		}
		words[n++] = w;
	}
	return (int)n;
}

/* The part of a compare line after "target(": key) op value. */
static int scan_compare(char *p, char **key, char **op, char **val)
{
	int n = 0;

	while (*p == ' ') {
		p++;
	}
	if (go_unquote(&p, key) < 0) {
		return n;
	}
	n++;
	if (*p++ != ')') {
		return n;
	}
	while (*p == ' ') {
		p++;
	}
	if (*p == '\0') {
		return n;
	}
	*op = p;
	while (*p != '\0' && *p != ' ') {
		p++;
	}
	if (*p == '\0') {
		return n + 1;
	}
	*p++ = '\0';
	n++;
	while (*p == ' ') {
		p++;
	}
	if (go_unquote(&p, val) < 0) {
		return n;
	}
	return n + 1;
}

static int parse_compare(struct txn_input *in, char *line,
			 Etcdserverpb__Compare *cmp)
{
	char *copy = mem_strdup(line), *paren, *key = NULL, *op = NULL,
	     *val = NULL;
	int64_t num = 0;
	char msg[256];
	int n, r = 0;

	/* The request's key and value point into copy: it lives with in. */
	if (copy == NULL || keep(in, copy) < 0) {
		return ctl_fail("out of memory");
	}
	paren = strchr(copy, '(');
	if (paren == NULL) {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
				     "malformed comparison: %s", line);
	}
	*paren = '\0';
	n = scan_compare(paren + 1, &key, &op, &val);
	if (n != 3) {
		struct buf k = BUF_INIT, v = BUF_INIT;
		ctl_go_quote(&k, (const uint8_t *)(key ? key : ""),
			     key ? strlen(key) : 0);
		ctl_go_quote(&v, (const uint8_t *)(val ? val : ""),
			     val ? strlen(val) : 0);
		r = ctl_fail_code(
		    CTL_EXIT_INVALID_INPUT,
		    "malformed comparison: %s; got %s(%.*s) %s %.*s", line,
		    copy, (int)k.len, (char *)k.data, op ? op : "", (int)v.len,
		    (char *)v.data);
		buf_done(&k);
		buf_done(&v);
		return r;
	}
	if (strcmp(op, "=") == 0) {
		cmp->result = ETCDSERVERPB__COMPARE__COMPARE_RESULT__EQUAL;
	} else if (strcmp(op, "!=") == 0) {
		cmp->result = ETCDSERVERPB__COMPARE__COMPARE_RESULT__NOT_EQUAL;
	} else if (strcmp(op, "<") == 0) {
		cmp->result = ETCDSERVERPB__COMPARE__COMPARE_RESULT__LESS;
	} else if (strcmp(op, ">") == 0) {
		cmp->result = ETCDSERVERPB__COMPARE__COMPARE_RESULT__GREATER;
	} else {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
				     "malformed comparison: %s (unknown op %s)",
				     line, op);
	}
	cmp->key.data = (uint8_t *)key;
	cmp->key.len = strlen(key);
	if (strcmp(copy, "val") == 0 || strcmp(copy, "value") == 0) {
		cmp->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VALUE;
		cmp->target_union_case =
		    ETCDSERVERPB__COMPARE__TARGET_UNION_VALUE;
		cmp->value.data = (uint8_t *)val;
		cmp->value.len = strlen(val);
		return 0;
	}
	if (strcmp(copy, "ver") == 0 || strcmp(copy, "version") == 0) {
		cmp->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__VERSION;
		cmp->target_union_case =
		    ETCDSERVERPB__COMPARE__TARGET_UNION_VERSION;
	} else if (strcmp(copy, "c") == 0 || strcmp(copy, "create") == 0) {
		cmp->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__CREATE;
		cmp->target_union_case =
		    ETCDSERVERPB__COMPARE__TARGET_UNION_CREATE_REVISION;
	} else if (strcmp(copy, "m") == 0 || strcmp(copy, "mod") == 0) {
		cmp->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__MOD;
		cmp->target_union_case =
		    ETCDSERVERPB__COMPARE__TARGET_UNION_MOD_REVISION;
	} else if (strcmp(copy, "lease") == 0) {
		cmp->target = ETCDSERVERPB__COMPARE__COMPARE_TARGET__LEASE;
		cmp->target_union_case =
		    ETCDSERVERPB__COMPARE__TARGET_UNION_LEASE;
	} else {
		return ctl_fail_code(
		    CTL_EXIT_INVALID_INPUT,
		    "malformed comparison: %s (unknown target %s)", line, copy);
	}
	if (parse_dec(val, &num, msg, sizeof(msg)) < 0) {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
				     "invalid txn compare request: %s", line);
	}
	/* All the integer targets share the union's storage. */
	cmp->version = num;
	return 0;
}

static void free_ops(Etcdserverpb__RequestOp **ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (ops[i]->request_case) {
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE:
			mem_free(ops[i]->request_range);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT:
			mem_free(ops[i]->request_put);
			break;
		case ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE:
			mem_free(ops[i]->request_delete_range);
			break;
		default:
			break;
		}
		mem_free(ops[i]);
	}
	mem_free(ops);
}

/* One "put k v" / "get k" / "del k" line into op. 0 or an exit code. */
static int parse_op(struct txn_input *in, char *line,
		    Etcdserverpb__RequestOp *op)
{
	char *copy = mem_strdup(line), *words[64], *pos[64];
	size_t n_pos = 0;
	int n, r;

	if (copy == NULL || keep(in, copy) < 0) {
		return ctl_fail("out of memory");
	}
	n = ctl_argify(copy, words, 64);
	if (n < 0) {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
				     "invalid txn request: %s", line);
	}
	if (n < 2) {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
				     "invalid txn compare request: %s", line);
	}
	if (ctl_parse_op_flags(words[0], words + 1, (size_t)n - 1, pos,
			       &n_pos) < 0 ||
	    n_pos < 1 || n_pos > 2) {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
				     "invalid txn request: %s", line);
	}
	if (strcmp(words[0], "put") == 0) {
		Etcdserverpb__PutRequest *req = mem_alloc(sizeof(*req));
		if (req == NULL) {
			return ctl_fail("out of memory");
		}
		etcdserverpb__put_request__init(req);
		op->request_case =
		    ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_PUT;
		op->request_put = req;
		if (n_pos != 2 && !ctl_flag_bool("ignore-value")) {
			return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
					     "invalid txn request: %s", line);
		}
		return ctl_build_put(pos, n_pos, req);
	}
	uint8_t *end = mem_alloc(4096);
	if (end == NULL || keep(in, end) < 0) {
		return ctl_fail("out of memory");
	}
	if (strcmp(words[0], "get") == 0) {
		Etcdserverpb__RangeRequest *req = mem_alloc(sizeof(*req));
		if (req == NULL) {
			return ctl_fail("out of memory");
		}
		etcdserverpb__range_request__init(req);
		op->request_case =
		    ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_RANGE;
		op->request_range = req;
		r = ctl_build_range(pos, n_pos, req, end);
	} else {
		Etcdserverpb__DeleteRangeRequest *req = mem_alloc(sizeof(*req));
		if (req == NULL) {
			return ctl_fail("out of memory");
		}
		etcdserverpb__delete_range_request__init(req);
		op->request_case =
		    ETCDSERVERPB__REQUEST_OP__REQUEST_REQUEST_DELETE_RANGE;
		op->request_delete_range = req;
		r = ctl_build_del(pos, n_pos, req, end);
	}
	return r;
}

/* The next line of a txn section: 0 with *line, NULL at the blank line
 * that ends the section; or an exit code (end of input included). */
static int section_line(struct txn_input *in, char **line)
{
	int r = read_line(in, line);

	if (r < 0) {
		return ctl_fail("out of memory");
	}
	if (r == 0) {
		return ctl_fail_code(CTL_EXIT_INVALID_INPUT, "EOF");
	}
	if (**line == '\0') {
		*line = NULL;
	}
	return 0;
}

/* Ops until a blank line into *ops. 0 or an exit code. */
static int read_ops(struct txn_input *in, Etcdserverpb__RequestOp ***ops,
		    size_t *n)
{
	for (;;) {
		Etcdserverpb__RequestOp **v, *op;
		char *line;
		int r = section_line(in, &line);

		if (r != 0 || line == NULL) {
			return r;
		}
		v = mem_realloc(*ops, (*n + 1) * sizeof(*v));
		op = mem_alloc(sizeof(*op));
		if (v == NULL || op == NULL) {
			mem_free(op);
			if (v != NULL) {
				*ops = v;
			}
			return ctl_fail("out of memory");
		}
		etcdserverpb__request_op__init(op);
		*ops = v;
		(*ops)[(*n)++] = op;
		if ((r = parse_op(in, line, op)) != 0) {
			return r;
		}
	}
}

static int read_compares(struct txn_input *in, Etcdserverpb__TxnRequest *req)
{
	for (;;) {
		Etcdserverpb__Compare **v, *cmp;
		char *line;
		int r = section_line(in, &line);

		if (r != 0 || line == NULL) {
			return r;
		}
		v = mem_realloc(req->compare,
				(req->n_compare + 1) * sizeof(*v));
		cmp = mem_alloc(sizeof(*cmp));
		if (v == NULL || cmp == NULL) {
			mem_free(cmp);
			if (v != NULL) {
				req->compare = v;
			}
			return ctl_fail("out of memory");
		}
		etcdserverpb__compare__init(cmp);
		req->compare = v;
		req->compare[req->n_compare++] = cmp;
		if ((r = parse_compare(in, line, cmp)) != 0) {
			return r;
		}
	}
}

static void txn_simple(const struct ctl *c, const Etcdserverpb__TxnResponse *r)
{
	printf("%s\n", r->succeeded ? "SUCCESS" : "FAILURE");
	for (size_t i = 0; i < r->n_responses; i++) {
		const Etcdserverpb__ResponseOp *op = r->responses[i];

		printf("\n");
		switch (op->response_case) {
		case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE:
			ctl_simple_range(c, op->response_range, false, false);
			break;
		case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT:
			ctl_simple_put(c, op->response_put);
			break;
		case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE:
			ctl_simple_del(c, op->response_delete_range);
			break;
		default:
			printf("unexpected response %d\n",
			       (int)op->response_case);
		}
	}
}

static void txn_fields(const Etcdserverpb__TxnResponse *r)
{
	ctl_fields_hdr(r->header);
	printf("\"Succeeded\" : %s\n", r->succeeded ? "true" : "false");
	for (size_t i = 0; i < r->n_responses; i++) {
		const Etcdserverpb__ResponseOp *op = r->responses[i];

		switch (op->response_case) {
		case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE:
			ctl_fields_range(op->response_range);
			break;
		case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT:
			ctl_fields_put(op->response_put);
			break;
		case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE:
			ctl_fields_del(op->response_delete_range);
			break;
		default:
			printf("\"Unknown\" : \"%d\"\n",
			       (int)op->response_case);
		}
	}
}

/*
 * etcd compat: Go's encoding/json of a TxnResponse names the oneof by its
 * Go wrapper: {"Response":{"ResponsePut":{...}}}; the rest is the generic
 * codec's (omitempty fields, bare numbers).
 */
static void txn_json(const Etcdserverpb__TxnResponse *r)
{
	struct buf out = BUF_INIT;
	bool first = true;

	buf_append_byte(&out, '{');
	if (r->header != NULL) {
		buf_append_str(&out, "\"header\":");
		pjson_encode_flags(&r->header->base, &out, PJSON_GO_NUMBERS);
		first = false;
	}
	if (r->succeeded) {
		buf_printf(&out, "%s\"succeeded\":true", first ? "" : ",");
		first = false;
	}
	if (r->n_responses > 0) {
		buf_printf(&out, "%s\"responses\":[", first ? "" : ",");
		for (size_t i = 0; i < r->n_responses; i++) {
			const Etcdserverpb__ResponseOp *op = r->responses[i];
			const ProtobufCMessage *m = NULL;
			const char *name = "";

			switch (op->response_case) {
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_RANGE:
				name = "ResponseRange";
				m = &op->response_range->base;
				break;
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_PUT:
				name = "ResponsePut";
				m = &op->response_put->base;
				break;
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_DELETE_RANGE:
				name = "ResponseDeleteRange";
				m = &op->response_delete_range->base;
				break;
			case ETCDSERVERPB__RESPONSE_OP__RESPONSE_RESPONSE_TXN:
				name = "ResponseTxn";
				m = &op->response_txn->base;
				break;
			default:
				break;
			}
			buf_printf(&out, "%s{\"Response\":", i ? "," : "");
			if (m == NULL) {
				buf_append_str(&out, "null}");
				continue;
			}
			buf_printf(&out, "{\"%s\":", name);
			pjson_encode_flags(m, &out, PJSON_GO_NUMBERS);
			buf_append_str(&out, "}}");
		}
		buf_append_byte(&out, ']');
	}
	buf_append_byte(&out, '}');
	fwrite(out.data, 1, out.len, stdout);
	putchar('\n');
	buf_done(&out);
}

int ctl_cmd_txn(struct ctl *c, const struct ctl_cmd *cmd, char **args, size_t n)
{
	Etcdserverpb__TxnRequest req = ETCDSERVERPB__TXN_REQUEST__INIT;
	Etcdserverpb__TxnResponse *resp = NULL;
	struct txn_input in = {0};
	bool interactive = ctl_flag_bool("interactive");
	char err[CTL_ERRSZ];
	int r;

	(void)cmd;
	(void)args;
	(void)n;
	if (interactive) {
		printf("compares:\n");
		fflush(stdout);
	}
	r = read_compares(&in, &req);
	if (r == 0 && interactive) {
		printf("success requests (get, put, del):\n");
		fflush(stdout);
	}
	if (r == 0) {
		r = read_ops(&in, &req.success, &req.n_success);
	}
	if (r == 0 && interactive) {
		printf("failure requests (get, put, del):\n");
		fflush(stdout);
	}
	if (r == 0) {
		r = read_ops(&in, &req.failure, &req.n_failure);
	}
	if (r == 0) {
		r = ctl_call(c, "/v3/kv/txn", &req.base,
			     &etcdserverpb__txn_response__descriptor,
			     (ProtobufCMessage **)&resp, err, sizeof(err));
		if (r < 0) {
			r = ctl_fail(err);
		} else if (c->format == CTL_FMT_JSON && ctl_protobuf()) {
			ctl_print_json(&resp->base);
		} else if (c->format == CTL_FMT_JSON) {
			txn_json(resp);
		} else if (c->format == CTL_FMT_FIELDS) {
			txn_fields(resp);
		} else if (c->format == CTL_FMT_TABLE) {
			r = ctl_unsupported(c);
		} else {
			txn_simple(c, resp);
		}
	}
	if (resp != NULL) {
		proto_free(&resp->base);
	}
	for (size_t i = 0; i < req.n_compare; i++) {
		mem_free(req.compare[i]);
	}
	mem_free(req.compare);
	free_ops(req.success, req.n_success);
	free_ops(req.failure, req.n_failure);
	txn_input_done(&in);
	return r;
}

/* --- compaction ------------------------------------------------------------
 */

int ctl_cmd_compaction(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n)
{
	Etcdserverpb__CompactionRequest req =
	    ETCDSERVERPB__COMPACTION_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char err[CTL_ERRSZ];

	(void)cmd;
	(void)n;
	if (parse_dec(args[0], &req.revision, err, sizeof(err)) < 0) {
		return ctl_fail(err);
	}
	req.physical = ctl_flag_bool("physical");
	if (ctl_call(c, "/v3/kv/compaction", &req.base,
		     &etcdserverpb__compaction_response__descriptor, &resp, err,
		     sizeof(err)) < 0) {
		return ctl_fail(err);
	}
	proto_free(resp);
	/* etcd compat: the same line whatever -w says. */
	printf("compacted revision %" PRId64 "\n", req.revision);
	return CTL_EXIT_OK;
}

/* --- member add / remove / update / promote ------------------------------- */

int ctl_cmd_member_add(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n)
{
	Etcdserverpb__MemberAddRequest req =
	    ETCDSERVERPB__MEMBER_ADD_REQUEST__INIT;
	Etcdserverpb__MemberAddResponse *resp = NULL;
	const char *urls = ctl_flag("peer-urls");
	char err[CTL_ERRSZ], *copy;
	int r = CTL_EXIT_OK;

	(void)cmd;
	if (n < 1) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "member name not provided");
	}
	if (n > 1) {
		struct buf b = BUF_INIT;
		buf_append_str(&b, "too many arguments");
		for (size_t i = 0; i < n; i++) {
			if (strncasecmp(args[i], "http", 4) == 0) {
				buf_printf(&b, ", did you mean --peer-urls=%s",
					   args[i]);
			}
		}
		r = ctl_fail_code(CTL_EXIT_BAD_ARGS, "%s", (char *)b.data);
		buf_done(&b);
		return r;
	}
	if (urls == NULL || *urls == '\0') {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "member peer urls not provided");
	}
	copy = mem_strdup(urls);
	if (copy == NULL ||
	    (req.peerurls = split_commas(copy, &req.n_peerurls)) == NULL) {
		mem_free(copy);
		return ctl_fail("out of memory");
	}
	req.islearner = ctl_flag_bool("learner");
	if (ctl_call(c, "/v3/cluster/member/add", &req.base,
		     &etcdserverpb__member_add_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err)) < 0) {
		r = ctl_fail(err);
	} else if (c->format == CTL_FMT_JSON) {
		ctl_print_json(&resp->base);
	} else if (c->format != CTL_FMT_SIMPLE) {
		r = ctl_unsupported(c);
	} else {
		uint64_t new_id = resp->member ? resp->member->id : 0;
		struct buf conf = BUF_INIT;

		printf("Member %16" PRIx64 " added to cluster %16" PRIx64 "\n",
		       new_id, resp->header ? resp->header->cluster_id : 0);
		/* etcd compat: the new member gets the name given here. */
		for (size_t i = 0; i < resp->n_members; i++) {
			const Etcdserverpb__Member *m = resp->members[i];
			for (size_t k = 0; k < m->n_peerurls; k++) {
				buf_printf(&conf, "%s%s=%s",
					   conf.len ? "," : "",
					   m->id == new_id ? args[0] : m->name,
					   m->peerurls[k]);
			}
		}
		printf("\nETCD_NAME=");
		print_go_quoted(args[0]);
		printf("\nETCD_INITIAL_CLUSTER=");
		print_go_quoted(conf.data ? (char *)conf.data : "");
		printf("\nETCD_INITIAL_ADVERTISE_PEER_URLS=");
		print_go_quoted(urls);
		printf("\nETCD_INITIAL_CLUSTER_STATE=\"existing\"\n");
		buf_done(&conf);
	}
	if (resp != NULL) {
		proto_free(&resp->base);
	}
	mem_free(req.peerurls);
	mem_free(copy);
	return r;
}

/* Remove, update and promote: the same shape, the verb differs. */
static int member_change(struct ctl *c, const char *path, ProtobufCMessage *req,
			 const ProtobufCMessageDescriptor *rdesc, uint64_t id,
			 const char *verb)
{
	ProtobufCMessage *resp = NULL;
	char err[CTL_ERRSZ];
	int r = CTL_EXIT_OK;

	if (ctl_call(c, path, req, rdesc, &resp, err, sizeof(err)) < 0) {
		return ctl_fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		ctl_print_json(resp);
	} else if (c->format != CTL_FMT_SIMPLE) {
		r = ctl_unsupported(c);
	} else {
		/* Every Member*Response has its header first. */
		const Etcdserverpb__MemberRemoveResponse *mr =
		    (const Etcdserverpb__MemberRemoveResponse *)resp;
		printf("Member %16" PRIx64 " %s cluster %16" PRIx64 "\n", id,
		       verb, mr->header ? mr->header->cluster_id : 0);
	}
	proto_free(resp);
	return r;
}

int ctl_cmd_member_remove(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			  size_t n)
{
	Etcdserverpb__MemberRemoveRequest req =
	    ETCDSERVERPB__MEMBER_REMOVE_REQUEST__INIT;
	int r;

	(void)cmd;
	(void)n;
	if ((r = member_id_arg(args[0], &req.id)) != 0) {
		return r;
	}
	return member_change(c, "/v3/cluster/member/remove", &req.base,
			     &etcdserverpb__member_remove_response__descriptor,
			     req.id, "removed from");
}

int ctl_cmd_member_promote(struct ctl *c, const struct ctl_cmd *cmd,
			   char **args, size_t n)
{
	Etcdserverpb__MemberPromoteRequest req =
	    ETCDSERVERPB__MEMBER_PROMOTE_REQUEST__INIT;
	int r;

	(void)cmd;
	(void)n;
	if ((r = member_id_arg(args[0], &req.id)) != 0) {
		return r;
	}
	return member_change(c, "/v3/cluster/member/promote", &req.base,
			     &etcdserverpb__member_promote_response__descriptor,
			     req.id, "promoted in");
}

int ctl_cmd_member_update(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			  size_t n)
{
	Etcdserverpb__MemberUpdateRequest req =
	    ETCDSERVERPB__MEMBER_UPDATE_REQUEST__INIT;
	const char *urls = ctl_flag("peer-urls");
	char *copy;
	int r;

	(void)cmd;
	(void)n;
	if ((r = member_id_arg(args[0], &req.id)) != 0) {
		return r;
	}
	if (urls == NULL || *urls == '\0') {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "member peer urls not provided");
	}
	copy = mem_strdup(urls);
	if (copy == NULL ||
	    (req.peerurls = split_commas(copy, &req.n_peerurls)) == NULL) {
		mem_free(copy);
		return ctl_fail("out of memory");
	}
	r = member_change(c, "/v3/cluster/member/update", &req.base,
			  &etcdserverpb__member_update_response__descriptor,
			  req.id, "updated in");
	mem_free(req.peerurls);
	mem_free(copy);
	return r;
}

/* --- endpoint hashkv -------------------------------------------------------
 */

int ctl_cmd_endpoint_hashkv(struct ctl *c, const struct ctl_cmd *cmd,
			    char **args, size_t n)
{
	static const char *const headers[] = {"endpoint", "hash"};
	Etcdserverpb__HashKVRequest req = ETCDSERVERPB__HASH_KVREQUEST__INIT;
	struct ctl_table *t = NULL;
	struct buf json = BUF_INIT;
	char last_err[CTL_ERRSZ] = "";
	const char *rev = ctl_flag("rev");
	bool failed = false;

	(void)cmd;
	(void)args;
	(void)n;
	if (rev != NULL &&
	    parse_dec(rev, &req.revision, last_err, sizeof(last_err)) < 0) {
		return ctl_fail_code(
		    CTL_EXIT_ERROR,
		    "invalid argument \"%s\" for \"--rev\" flag: %s", rev,
		    last_err);
	}
	if (ctl_cluster_endpoints(c) != 0) {
		return CTL_EXIT_ERROR;
	}
	if (c->format == CTL_FMT_TABLE) {
		t = ctl_table_new(headers, 2);
	}
	buf_append_byte(&json, '[');
	for (size_t i = 0; i < c->n_endpoints; i++) {
		Etcdserverpb__HashKVResponse *h = NULL;
		const char *ep = ctl_ep_name(c, i);
		char err[CTL_ERRSZ], hash[16];

		if (ctl_post(c, c->endpoints[i], "/v3/maintenance/hashkv",
			     &req.base,
			     &etcdserverpb__hash_kvresponse__descriptor,
			     (ProtobufCMessage **)&h, err, sizeof(err)) < 0) {
			fprintf(stderr,
				"Failed to get the hash of endpoint %s (%s)\n",
				ep, err);
			snprintf(last_err, sizeof(last_err), "%s", err);
			failed = true;
			continue;
		}
		snprintf(hash, sizeof(hash), "%" PRIu32, h->hash);
		if (c->format == CTL_FMT_JSON) {
			/* etcd compat: etcdctl's epHashKV{Endpoint, HashKV}. */
			buf_printf(&json, "%s{\"Endpoint\":\"%s\",\"HashKV\":",
				   json.len > 1 ? "," : "", ep);
			pjson_encode_flags(&h->base, &json, PJSON_GO_NUMBERS);
			buf_append_byte(&json, '}');
		} else if (c->format == CTL_FMT_FIELDS) {
			ctl_fields_hdr(h->header);
			printf("\"Endpoint\" : ");
			print_go_quoted(ep);
			printf("\n\"Hash\" : %s\n\n", hash);
		} else if (t != NULL) {
			const char *row[] = {ep, hash};
			ctl_table_add_row(t, row);
		} else {
			printf("%s, %s\n", ep, hash);
		}
		proto_free(&h->base);
	}
	if (c->format == CTL_FMT_JSON) {
		printf("%s]\n", (char *)json.data);
	}
	buf_done(&json);
	ctl_render_table(t);
	if (failed) {
		return ctl_fail(last_err);
	}
	return CTL_EXIT_OK;
}

/* --- move-leader -----------------------------------------------------------
 */

int ctl_cmd_move_leader(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			size_t n)
{
	Etcdserverpb__MoveLeaderRequest req =
	    ETCDSERVERPB__MOVE_LEADER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char err[CTL_ERRSZ];
	uint64_t leader = 0;
	size_t at = c->n_endpoints;
	int r = CTL_EXIT_OK;

	(void)cmd;
	(void)n;
	if (parse_hex_id(args[0], &req.targetid, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS, "%s", err);
	}
	/* etcd compat: find the leader among the endpoints, stop at an error.
	 */
	for (size_t i = 0; i < c->n_endpoints && at == c->n_endpoints; i++) {
		Etcdserverpb__StatusResponse *s = NULL;

		if (ctl_post(c, c->endpoints[i], "/v3/maintenance/status", NULL,
			     &etcdserverpb__status_response__descriptor,
			     (ProtobufCMessage **)&s, err, sizeof(err)) < 0) {
			return ctl_fail(err);
		}
		if (s->header != NULL && s->header->member_id == s->leader) {
			at = i;
			leader = s->leader;
		}
		proto_free(&s->base);
	}
	if (at == c->n_endpoints) {
		struct buf b = BUF_INIT;
		for (size_t i = 0; i < c->n_endpoints; i++) {
			buf_printf(&b, "%s%s", i ? " " : "", ctl_ep_name(c, i));
		}
		r = ctl_fail_code(CTL_EXIT_BAD_ARGS,
				  "no leader endpoint given at [%s]",
				  b.data ? (char *)b.data : "");
		buf_done(&b);
		return r;
	}
	if (ctl_post(c, c->endpoints[at], "/v3/maintenance/transfer-leadership",
		     &req.base, &etcdserverpb__move_leader_response__descriptor,
		     &resp, err, sizeof(err)) < 0) {
		return ctl_fail(err);
	}
	if (c->format == CTL_FMT_JSON) {
		ctl_print_json(resp);
	} else if (c->format != CTL_FMT_SIMPLE) {
		r = ctl_unsupported(c);
	} else {
		printf("Leadership transferred from %" PRIx64 " to %" PRIx64
		       "\n",
		       leader, req.targetid);
	}
	proto_free(resp);
	return r;
}

/* --- alarm list / disarm ---------------------------------------------------
 */

static const char *alarm_name(Etcdserverpb__AlarmType a)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &etcdserverpb__alarm_type__descriptor, a);

	return v != NULL ? v->name : "?";
}

static int print_alarms(const struct ctl *c,
			const Etcdserverpb__AlarmResponse *resp)
{
	if (c->format == CTL_FMT_JSON) {
		ctl_print_json(&resp->base);
	} else if (c->format == CTL_FMT_FIELDS) {
		ctl_fields_hdr(resp->header);
		for (size_t i = 0; i < resp->n_alarms; i++) {
			printf("\"MemberID\" : %" PRIu64
			       "\n\"AlarmType\" : %s\n\n",
			       resp->alarms[i]->memberid,
			       alarm_name(resp->alarms[i]->alarm));
		}
	} else if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	} else {
		/* etcd compat: Go's compact text form of AlarmMember, trailing
		 * space. */
		for (size_t i = 0; i < resp->n_alarms; i++) {
			const Etcdserverpb__AlarmMember *m = resp->alarms[i];
			if (m->memberid != 0) {
				printf("memberID:%" PRIu64 " ", m->memberid);
			}
			if (m->alarm != ETCDSERVERPB__ALARM_TYPE__NONE) {
				printf("alarm:%s ", alarm_name(m->alarm));
			}
			printf("\n");
		}
	}
	return CTL_EXIT_OK;
}

static int alarm_call(struct ctl *c, Etcdserverpb__AlarmRequest *req,
		      Etcdserverpb__AlarmResponse **resp, char *err,
		      size_t size)
{
	return ctl_call(c, "/v3/maintenance/alarm", &req->base,
			&etcdserverpb__alarm_response__descriptor,
			(ProtobufCMessage **)resp, err, size);
}

int ctl_cmd_alarm_list(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n)
{
	Etcdserverpb__AlarmRequest req = ETCDSERVERPB__ALARM_REQUEST__INIT;
	Etcdserverpb__AlarmResponse *resp = NULL;
	char err[CTL_ERRSZ];
	int r;

	(void)cmd;
	(void)args;
	(void)n;
	req.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__GET;
	if (alarm_call(c, &req, &resp, err, sizeof(err)) < 0) {
		return ctl_fail(err);
	}
	r = print_alarms(c, resp);
	proto_free(&resp->base);
	return r;
}

/*
 * etcd compat: clientv3 disarms "all alarms" by listing them and disarming
 * each; its answer is the disarmed alarms without a header.
 */
int ctl_cmd_alarm_disarm(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			 size_t n)
{
	Etcdserverpb__AlarmRequest req = ETCDSERVERPB__ALARM_REQUEST__INIT;
	Etcdserverpb__AlarmResponse *list = NULL,
				    all = ETCDSERVERPB__ALARM_RESPONSE__INIT;
	Etcdserverpb__AlarmResponse **done = NULL;
	size_t n_done = 0;
	char err[CTL_ERRSZ];
	int r = CTL_EXIT_OK;

	(void)cmd;
	(void)args;
	(void)n;
	req.action = ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__GET;
	if (alarm_call(c, &req, &list, err, sizeof(err)) < 0) {
		return ctl_fail(err);
	}
	done = mem_calloc(list->n_alarms + 1, sizeof(*done));
	all.alarms = mem_calloc(list->n_alarms + 1, sizeof(*all.alarms));
	if (done == NULL || all.alarms == NULL) {
		r = ctl_fail("out of memory");
	}
	for (size_t i = 0; r == CTL_EXIT_OK && i < list->n_alarms; i++) {
		Etcdserverpb__AlarmRequest one =
		    ETCDSERVERPB__ALARM_REQUEST__INIT;
		one.action =
		    ETCDSERVERPB__ALARM_REQUEST__ALARM_ACTION__DEACTIVATE;
		one.memberid = list->alarms[i]->memberid;
		one.alarm = list->alarms[i]->alarm;
		if (alarm_call(c, &one, &done[n_done], err, sizeof(err)) < 0) {
			r = ctl_fail(err);
			break;
		}
		for (size_t k = 0; k < done[n_done]->n_alarms; k++) {
			all.alarms[all.n_alarms++] = done[n_done]->alarms[k];
			if (all.n_alarms > list->n_alarms) {
				break;
			}
		}
		n_done++;
	}
	if (r == CTL_EXIT_OK) {
		r = print_alarms(c, &all);
	}
	for (size_t i = 0; i < n_done; i++) {
		proto_free(&done[i]->base);
	}
	mem_free(done);
	mem_free(all.alarms);
	proto_free(&list->base);
	return r;
}

/* --- defrag
 * ------------------------------------------------------------------- */

int ctl_cmd_defrag(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		   size_t n)
{
	int failures = 0;

	(void)cmd;
	(void)args;
	(void)n;
	if (ctl_flag("data-dir") != NULL && ctl_flag("data-dir")[0] != '\0') {
		return ctl_defrag_data_dir(ctl_flag("data-dir"));
	}
	if (ctl_cluster_endpoints(c) != 0) {
		return CTL_EXIT_ERROR;
	}
	for (size_t i = 0; i < c->n_endpoints; i++) {
		ProtobufCMessage *resp = NULL;
		char err[CTL_ERRSZ];

		if (ctl_post(c, c->endpoints[i], "/v3/maintenance/defragment",
			     NULL,
			     &etcdserverpb__defragment_response__descriptor,
			     &resp, err, sizeof(err)) < 0) {
			fprintf(stderr,
				"Failed to defragment etcd member[%s] (%s)\n",
				ctl_ep_name(c, i), err);
			failures++;
			continue;
		}
		proto_free(resp);
		printf("Finished defragmenting etcd member[%s]\n",
		       ctl_ep_name(c, i));
	}
	return failures != 0 ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}
