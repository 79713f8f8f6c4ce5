/*
 * ctl_lease.c - cetcdctl's lease and watch commands (etcdctl's
 * lease_command.go and watch_command.go), over the gateway's lease paths
 * and its streamed /v3/watch and /v3/lease/keepalive.
 *
 * Invariants:
 *  1. Output is etcdctl 3.4's, byte for byte, for simple, json and fields.
 *  2. etcd compat: -w json of a lease answer is Go's encoding of clientv3's
 *     structs, which embed *pb.ResponseHeader: the header's fields are
 *     flattened into the object (flat_json), with clientv3's field names.
 *  3. keep-alive holds one stream open (one POST whose chunked body gets a
 *     request whenever clientv3 would send one: its 500 ms loop, when the
 *     last answer is TTL/3 s old); a lost stream is opened again after
 *     500 ms until the lease's deadline (the last TTL) passes, as
 *     clientv3's recvKeepAliveLoop does.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/ctl_cmd.h"
#include "base/buf.h"
#include "base/mem.h"
#include "proto/pjson.h"
#include "proto/proto.h"

/* Go's strconv.ParseInt(arg, 16, 64), as etcdctl's leaseFromArgs. */
static int lease_arg(const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 16);
	if (*s == '\0' || *end != '\0' || *s == ' ' || strncasecmp(s, "0x", 2) == 0 ||
	    ((*s == '+' || *s == '-') && s[1] == '\0')) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "bad lease ID arg (strconv.ParseInt: parsing "
				     "\"%s\": invalid syntax), expecting ID in Hex",
				     s);
	}
	if (errno == ERANGE) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "bad lease ID arg (strconv.ParseInt: parsing "
				     "\"%s\": value out of range), expecting ID in Hex",
				     s);
	}
	*id = v;
	return 0;
}

/* The header's JSON fields without braces ("" for none), Go's numbers. */
static void flat_header(struct buf *out, const Etcdserverpb__ResponseHeader *h)
{
	struct buf hb = BUF_INIT;

	if (h != NULL && pjson_encode_flags(&h->base, &hb, PJSON_GO_NUMBERS) == 0 &&
	    hb.len > 2) {
		buf_append(out, hb.data + 1, hb.len - 2);
		buf_append_str(out, ",");
	}
	buf_done(&hb);
}

static void print_buf(struct buf *b)
{
	if (b->data != NULL) {
		fwrite(b->data, 1, b->len, stdout);
	}
	putchar('\n');
	buf_done(b);
}

/* --- lease grant / revoke / timetolive / list ---------------------------- */

int ctl_cmd_lease_grant(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			size_t n)
{
	Etcdserverpb__LeaseGrantRequest req = ETCDSERVERPB__LEASE_GRANT_REQUEST__INIT;
	Etcdserverpb__LeaseGrantResponse *resp = NULL;
	char err[CTL_ERRSZ], *end;
	struct buf b = BUF_INIT;

	(void)cmd;
	(void)n;
	errno = 0;
	req.ttl = strtoll(args[0], &end, 10);
	if (*args[0] == '\0' || *end != '\0' || *args[0] == ' ' || errno == ERANGE) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "bad TTL (strconv.ParseInt: parsing \"%s\": %s)",
				     args[0],
				     errno == ERANGE ? "value out of range" : "invalid syntax");
	}
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	if (ctl_call(c, "/v3/lease/grant", &req.base,
		     &etcdserverpb__lease_grant_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_ERROR, "failed to grant lease (%s)", err);
	}
	switch (c->format) {
	case CTL_FMT_JSON:
		buf_append_str(&b, "{");
		flat_header(&b, resp->header);
		buf_printf(&b, "\"ID\":%" PRId64 ",\"TTL\":%" PRId64 ",\"Error\":", resp->id,
			   resp->ttl);
		ctl_go_quote(&b, (const uint8_t *)resp->error, strlen(resp->error));
		buf_append_str(&b, "}");
		print_buf(&b);
		break;
	case CTL_FMT_FIELDS:
		ctl_fields_hdr(resp->header);
		printf("\"ID\" : %" PRId64 "\n\"TTL\" : %" PRId64 "\n", resp->id, resp->ttl);
		break;
	default:
		printf("lease %016" PRIx64 " granted with TTL(%" PRId64 "s)\n",
		       (uint64_t)resp->id, resp->ttl);
		break;
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

int ctl_cmd_lease_revoke(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			 size_t n)
{
	Etcdserverpb__LeaseRevokeRequest req = ETCDSERVERPB__LEASE_REVOKE_REQUEST__INIT;
	Etcdserverpb__LeaseRevokeResponse *resp = NULL;
	char err[CTL_ERRSZ];
	int r;

	(void)cmd;
	(void)n;
	if ((r = lease_arg(args[0], &req.id)) != 0) {
		return r;
	}
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	if (ctl_call(c, "/v3/lease/revoke", &req.base,
		     &etcdserverpb__lease_revoke_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_ERROR, "failed to revoke lease (%s)", err);
	}
	switch (c->format) {
	case CTL_FMT_JSON:
		ctl_print_json(&resp->base);
		break;
	case CTL_FMT_FIELDS:
		ctl_fields_hdr(resp->header);
		break;
	default:
		printf("lease %016" PRIx64 " revoked\n", (uint64_t)req.id);
		break;
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

int ctl_cmd_lease_timetolive(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			     size_t n)
{
	Etcdserverpb__LeaseTimeToLiveRequest req =
	    ETCDSERVERPB__LEASE_TIME_TO_LIVE_REQUEST__INIT;
	Etcdserverpb__LeaseTimeToLiveResponse *resp = NULL;
	char err[CTL_ERRSZ];
	struct buf b = BUF_INIT;
	int r;

	(void)cmd;
	(void)n;
	if ((r = lease_arg(args[0], &req.id)) != 0) {
		return r;
	}
	req.keys = ctl_flag_bool("keys");
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	if (ctl_call(c, "/v3/lease/timetolive", &req.base,
		     &etcdserverpb__lease_time_to_live_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_BAD_CONNECTION, "%s", err);
	}
	switch (c->format) {
	case CTL_FMT_JSON: {
		/* etcd compat: clientv3's tags id, ttl, granted-ttl, keys. */
		Etcdserverpb__LeaseTimeToLiveResponse keys =
		    ETCDSERVERPB__LEASE_TIME_TO_LIVE_RESPONSE__INIT;
		buf_append_str(&b, "{");
		flat_header(&b, resp->header);
		buf_printf(&b, "\"id\":%" PRId64 ",\"ttl\":%" PRId64
			       ",\"granted-ttl\":%" PRId64 ",\"keys\":",
			   resp->id, resp->ttl, resp->grantedttl);
		if (resp->n_keys == 0) {
			buf_append_str(&b, "null}");
		} else {
			/* the codec's base64 of repeated bytes: {"keys":[..]} */
			struct buf kb = BUF_INIT;
			keys.n_keys = resp->n_keys;
			keys.keys = resp->keys;
			if (pjson_encode(&keys.base, &kb) == 0 && kb.len > 9) {
				buf_append(&b, kb.data + 8, kb.len - 8);
			}
			buf_done(&kb);
		}
		print_buf(&b);
		break;
	}
	case CTL_FMT_FIELDS:
		ctl_fields_hdr(resp->header);
		printf("\"ID\" : %" PRId64 "\n\"TTL\" : %" PRId64
		       "\n\"GrantedTTL\" : %" PRId64 "\n",
		       resp->id, resp->ttl, resp->grantedttl);
		for (size_t i = 0; i < resp->n_keys; i++) {
			ctl_go_quote(&b, resp->keys[i].data, resp->keys[i].len);
			printf("\"Key\" : %.*s\n", (int)b.len, (const char *)b.data);
			b.len = 0;
		}
		buf_done(&b);
		break;
	default:
		if (resp->grantedttl == 0 && resp->ttl == -1) {
			printf("lease %016" PRIx64 " already expired\n", (uint64_t)resp->id);
			break;
		}
		printf("lease %016" PRIx64 " granted with TTL(%" PRId64
		       "s), remaining(%" PRId64 "s)",
		       (uint64_t)resp->id, resp->grantedttl, resp->ttl);
		if (req.keys) {
			/* Go's %v of a []string: [a b] */
			printf(", attached keys([");
			for (size_t i = 0; i < resp->n_keys; i++) {
				printf("%s%.*s", i ? " " : "", (int)resp->keys[i].len,
				       (const char *)resp->keys[i].data);
			}
			printf("])");
		}
		putchar('\n');
		break;
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

int ctl_cmd_lease_list(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		       size_t n)
{
	Etcdserverpb__LeaseLeasesRequest req = ETCDSERVERPB__LEASE_LEASES_REQUEST__INIT;
	Etcdserverpb__LeaseLeasesResponse *resp = NULL;
	char err[CTL_ERRSZ];
	struct buf b = BUF_INIT;

	(void)cmd;
	(void)args;
	(void)n;
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	if (ctl_call(c, "/v3/lease/leases", &req.base,
		     &etcdserverpb__lease_leases_response__descriptor,
		     (ProtobufCMessage **)&resp, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_BAD_CONNECTION, "%s", err);
	}
	switch (c->format) {
	case CTL_FMT_JSON:
		buf_append_str(&b, "{");
		flat_header(&b, resp->header);
		buf_append_str(&b, "\"leases\":");
		if (resp->n_leases == 0) {
			buf_append_str(&b, "null");
		}
		for (size_t i = 0; i < resp->n_leases; i++) {
			buf_printf(&b, "%s{\"id\":%" PRId64 "}", i ? "," : "[",
				   resp->leases[i]->id);
		}
		buf_append_str(&b, resp->n_leases ? "]}" : "}");
		print_buf(&b);
		break;
	case CTL_FMT_FIELDS:
		ctl_fields_hdr(resp->header);
		for (size_t i = 0; i < resp->n_leases; i++) {
			printf("\"ID\" : %" PRId64 "\n", resp->leases[i]->id);
		}
		break;
	default:
		printf("found %zu leases\n", resp->n_leases);
		for (size_t i = 0; i < resp->n_leases; i++) {
			printf("%016" PRIx64 "\n", (uint64_t)resp->leases[i]->id);
		}
		break;
	}
	proto_free(&resp->base);
	return CTL_EXIT_OK;
}

/* --- lease keep-alive ---------------------------------------------------- */

/* One keep-alive answer, copied out of the stream's message. */
struct ka {
	bool got;
	Etcdserverpb__ResponseHeader hdr;
	Etcdserverpb__LeaseKeepAliveResponse resp;
};

static int keepalive_got(ProtobufCMessage *msg, void *arg)
{
	Etcdserverpb__LeaseKeepAliveResponse *r =
	    (Etcdserverpb__LeaseKeepAliveResponse *)msg;
	struct ka *ka = arg;

	ka->resp = *r;
	ka->resp.header = NULL;
	if (r->header != NULL) {
		ka->hdr = *r->header;
		ka->resp.header = &ka->hdr;
	}
	ka->got = true;
	return 1;
}

static void keepalive_print(const struct ctl *c,
			    const Etcdserverpb__LeaseKeepAliveResponse *r)
{
	struct buf b = BUF_INIT;

	switch (c->format) {
	case CTL_FMT_JSON:
		buf_append_str(&b, "{");
		flat_header(&b, r->header);
		buf_printf(&b, "\"ID\":%" PRId64 ",\"TTL\":%" PRId64 "}", r->id, r->ttl);
		print_buf(&b);
		break;
	case CTL_FMT_FIELDS:
		ctl_fields_hdr(r->header);
		printf("\"ID\" : %" PRId64 "\n\"TTL\" : %" PRId64 "\n", r->id, r->ttl);
		break;
	default:
		printf("lease %016" PRIx64 " keepalived with TTL(%" PRId64 ")\n",
		       (uint64_t)r->id, r->ttl);
		break;
	}
	fflush(stdout);
}

/* etcd compat: clientv3's keep-alive loop period and first deadline. */
#define KA_LOOP_MS 500
#define KA_FIRST_TIMEOUT_MS 5000

static uint64_t ka_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The state of `lease keep-alive` (clientv3's keepAlive). */
struct ka_loop {
	const struct ctl *c;
	int64_t id;
	uint64_t next_at;  /* send the next request then */
	uint64_t deadline; /* the lease is gone for us then */
	bool gone;
};

static int ka_loop_msg(ProtobufCMessage *msg, void *arg)
{
	Etcdserverpb__LeaseKeepAliveResponse *r =
	    (Etcdserverpb__LeaseKeepAliveResponse *)msg;
	struct ka_loop *k = arg;
	uint64_t now = ka_now_ms();

	if (r->ttl <= 0) {
		k->gone = true; /* clientv3 closes the channel */
		return 1;
	}
	k->next_at = now + (uint64_t)(r->ttl / 3) * 1000;
	k->deadline = now + (uint64_t)r->ttl * 1000;
	keepalive_print(k->c, r);
	return 0;
}

static int ka_loop_wake(struct ctl_duplex *d, void *arg)
{
	Etcdserverpb__LeaseKeepAliveRequest req =
	    ETCDSERVERPB__LEASE_KEEP_ALIVE_REQUEST__INIT;
	struct ka_loop *k = arg;
	uint64_t now = ka_now_ms();

	if (now >= k->deadline) {
		k->gone = true;
		return 1;
	}
	if (now >= k->next_at) {
		req.id = k->id;
		if (ctl_duplex_send(d, &req.base) < 0) {
			return -ENOMEM;
		}
	}
	ctl_duplex_wake_in(d, KA_LOOP_MS);
	return 0;
}

int ctl_cmd_lease_keepalive(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			    size_t n)
{
	Etcdserverpb__LeaseKeepAliveRequest req =
	    ETCDSERVERPB__LEASE_KEEP_ALIVE_REQUEST__INIT;
	struct ka_loop k = {.c = c};
	char err[CTL_ERRSZ];
	int r;

	(void)cmd;
	(void)n;
	if ((r = lease_arg(args[0], &req.id)) != 0) {
		return r;
	}
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	if (ctl_flag_bool("once")) {
		struct ka ka = {.got = false};

		r = ctl_stream(c, "/v3/lease/keepalive", &req.base,
			       &etcdserverpb__lease_keep_alive_response__descriptor, true,
			       keepalive_got, &ka, err, sizeof(err));
		if (r < 0 || !ka.got) {
			return ctl_fail_code(CTL_EXIT_BAD_CONNECTION, "%s",
					     r < 0 ? err : "no answer from the member");
		}
		if (ka.resp.ttl <= 0) {
			/* etcd compat: clientv3's ErrLeaseNotFound */
			return ctl_fail_code(CTL_EXIT_BAD_CONNECTION,
					     "etcdserver: requested lease not found");
		}
		keepalive_print(c, &ka.resp);
		return CTL_EXIT_OK;
	}
	k.id = req.id;
	k.deadline = ka_now_ms() + KA_FIRST_TIMEOUT_MS;
	while (!k.gone) {
		/* The first request goes with the stream; the next at TTL/3. */
		k.next_at = UINT64_MAX;
		(void)ctl_duplex(c, "/v3/lease/keepalive", &req.base,
				 &etcdserverpb__lease_keep_alive_response__descriptor,
				 ka_loop_msg, ka_loop_wake, -1, KA_LOOP_MS, &k, err,
				 sizeof(err));
		if (k.gone || ka_now_ms() >= k.deadline) {
			break;
		}
		/* etcd compat: clientv3 opens a new stream after 500 ms. */
		usleep(KA_LOOP_MS * 1000);
	}
	if (c->format == CTL_FMT_SIMPLE) {
		printf("lease %016" PRIx64 " expired or revoked.\n", (uint64_t)req.id);
	}
	return CTL_EXIT_OK;
}

/* --- watch --------------------------------------------------------------- */

/* A watch's printer and the command it runs per event (exec-command). */
struct watch_ctx {
	const struct ctl *c;
	char **exec; /* NULL-terminated, or NULL */
};

/* Go's %q of a byte string (strconv.Quote over the bytes). */
static void go_quote(struct buf *b, const uint8_t *p, size_t n)
{
	buf_append_str(b, "\"");
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];

		switch (ch) {
		case '"':
			buf_append_str(b, "\\\"");
			break;
		case '\\':
			buf_append_str(b, "\\\\");
			break;
		case '\n':
			buf_append_str(b, "\\n");
			break;
		case '\t':
			buf_append_str(b, "\\t");
			break;
		case '\r':
			buf_append_str(b, "\\r");
			break;
		case '\a':
			buf_append_str(b, "\\a");
			break;
		case '\b':
			buf_append_str(b, "\\b");
			break;
		case '\f':
			buf_append_str(b, "\\f");
			break;
		case '\v':
			buf_append_str(b, "\\v");
			break;
		default:
			if (ch >= 0xc2 && ch < 0xf5) {
				/* A valid UTF-8 sequence stays (Go keeps printable
				 * runes; C1 controls become \u00XX). */
				size_t len = ch < 0xe0 ? 2 : ch < 0xf0 ? 3 : 4, k = 1;

				while (k < len && i + k < n && (p[i + k] & 0xc0) == 0x80) {
					k++;
				}
				if (k == len) {
					if (len == 2 && ch == 0xc2 && p[i + 1] < 0xa0) {
						buf_printf(b, "\\u%04x", p[i + 1]);
					} else {
						buf_append(b, p + i, len);
					}
					i += len - 1;
					break;
				}
			}
			if (ch < 0x20 || ch >= 0x7f) {
				buf_printf(b, "\\x%02x", ch);
			} else {
				buf_append(b, &ch, 1);
			}
			break;
		}
	}
	buf_append_str(b, "\"");
}

static void exec_env(const char *name, const uint8_t *p, size_t n)
{
	struct buf b = BUF_INIT;

	go_quote(&b, p, n);
	setenv(name, b.data ? (const char *)b.data : "\"\"", 1);
	buf_done(&b);
}

/*
 * etcd compat: etcdctl's printWatchCh runs the command once per event with
 * ETCD_WATCH_* added to its environment, and exits 1 when it fails.
 */
static void watch_exec(const struct watch_ctx *w, int64_t rev, const Mvccpb__Event *e)
{
	const Mvccpb__KeyValue *kv = e->kv;
	int status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		char r[32];
		const char *type =
		    e->type == MVCCPB__EVENT__EVENT_TYPE__DELETE ? "DELETE" : "PUT";

		snprintf(r, sizeof(r), "%" PRId64, rev);
		setenv("ETCD_WATCH_REVISION", r, 1);
		exec_env("ETCD_WATCH_EVENT_TYPE", (const uint8_t *)type, strlen(type));
		exec_env("ETCD_WATCH_KEY", kv ? kv->key.data : NULL, kv ? kv->key.len : 0);
		exec_env("ETCD_WATCH_VALUE", kv ? kv->value.data : NULL,
			 kv ? kv->value.len : 0);
		execvp(w->exec[0], w->exec);
		_exit(127);
	}
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
		}
	}
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		struct buf b = BUF_INIT;

		buf_append_str(&b, "[");
		for (size_t i = 0; w->exec[i] != NULL; i++) {
			if (i > 0) {
				buf_append_str(&b, " ");
			}
			go_quote(&b, (const uint8_t *)w->exec[i], strlen(w->exec[i]));
		}
		buf_append_str(&b, "]");
		if (pid < 0) {
			fprintf(stderr, "command %s error (%s)\n", (char *)b.data,
				strerror(errno));
		} else if (WIFSIGNALED(status)) {
			fprintf(stderr, "command %s error (signal: %s)\n", (char *)b.data,
				strsignal(WTERMSIG(status)));
		} else if (WEXITSTATUS(status) == 127) {
			fprintf(stderr,
				"command %s error (exec: \"%s\": executable file not found in "
				"$PATH)\n",
				(char *)b.data, w->exec[0]);
		} else {
			fprintf(stderr, "command %s error (exit status %d)\n", (char *)b.data,
				WEXITSTATUS(status));
		}
		buf_done(&b);
		exit(1);
	}
}

/* A watch's answers: etcdctl's printWatchCh. */
static int watch_got(ProtobufCMessage *msg, void *arg)
{
	Etcdserverpb__WatchResponse *r = (Etcdserverpb__WatchResponse *)msg;
	const struct watch_ctx *w = arg;
	const struct ctl *c = w->c;
	struct buf b = BUF_INIT;

	if (r->created && !r->canceled) {
		return 0; /* clientv3 does not hand the created answer on */
	}
	if (r->canceled) {
		/* etcd compat: clientv3's Err() of a canceled response */
		if (r->compact_revision != 0) {
			fprintf(stderr, "watch was canceled (etcdserver: mvcc: required "
					"revision has been compacted)\n");
		} else {
			fprintf(stderr, "watch was canceled (%s)\n",
				r->cancel_reason ? r->cancel_reason : "");
		}
	}
	switch (c->format) {
	case CTL_FMT_JSON: {
		static const Etcdserverpb__ResponseHeader zero =
		    ETCDSERVERPB__RESPONSE_HEADER__INIT;
		struct buf hb = BUF_INIT;

		pjson_encode_flags(r->header ? &r->header->base : &zero.base, &hb,
				   PJSON_GO_NUMBERS);
		buf_printf(&b, "{\"Header\":%s,\"Events\":", hb.data ? (char *)hb.data : "{}");
		buf_done(&hb);
		if (r->n_events == 0) {
			buf_append_str(&b, "null");
		}
		for (size_t i = 0; i < r->n_events; i++) {
			buf_append_str(&b, i ? "," : "[");
			pjson_encode_flags(&r->events[i]->base, &b, PJSON_GO_NUMBERS);
		}
		buf_printf(&b, "%s,\"CompactRevision\":%" PRId64
			       ",\"Canceled\":%s,\"Created\":false}",
			   r->n_events ? "]" : "", r->compact_revision,
			   r->canceled ? "true" : "false");
		print_buf(&b);
		break;
	}
	case CTL_FMT_FIELDS:
		ctl_fields_hdr(r->header);
		for (size_t i = 0; i < r->n_events; i++) {
			const Mvccpb__Event *e = r->events[i];
			printf("\"Type\" : %s\n",
			       e->type == MVCCPB__EVENT__EVENT_TYPE__DELETE ? "DELETE" : "PUT");
			if (e->prev_kv != NULL) {
				ctl_fields_kv("Prev", e->prev_kv);
			}
			if (e->kv != NULL) {
				ctl_fields_kv("", e->kv);
			}
		}
		break;
	default:
		for (size_t i = 0; i < r->n_events; i++) {
			const Mvccpb__Event *e = r->events[i];
			puts(e->type == MVCCPB__EVENT__EVENT_TYPE__DELETE ? "DELETE" : "PUT");
			if (e->prev_kv != NULL) {
				ctl_print_kv(c, e->prev_kv, false, false);
			}
			if (e->kv != NULL) {
				ctl_print_kv(c, e->kv, false, false);
			}
		}
		break;
	}
	fflush(stdout);
	for (size_t i = 0; w->exec != NULL && i < r->n_events; i++) {
		watch_exec(w, r->header ? r->header->revision : 0, r->events[i]);
	}
	return r->canceled ? 1 : 0;
}

/* Build the create request from key [range_end] and the watch flags. */
static int watch_request(char **args, size_t n, Etcdserverpb__WatchCreateRequest *cr,
			 uint8_t *end, char *err, size_t err_size)
{
	const char *rev = ctl_flag("rev");
	size_t klen;

	if (n < 1) {
		snprintf(err, err_size, "bad number of arguments");
		return -EINVAL;
	}
	klen = strlen(args[0]);
	cr->key.data = (uint8_t *)args[0];
	cr->key.len = klen;
	if (rev != NULL) {
		char *e;
		errno = 0;
		cr->start_revision = strtoll(rev, &e, 10);
		if (*rev == '\0' || *e != '\0' || errno == ERANGE) {
			snprintf(err, err_size, "invalid argument \"%s\" for \"--rev\" flag", rev);
			return -EINVAL;
		}
	}
	if (n == 2) {
		if (ctl_flag_bool("prefix")) {
			snprintf(err, err_size,
				 "`range_end` and `--prefix` are mutually exclusive");
			return -EINVAL;
		}
		cr->range_end.data = (uint8_t *)args[1];
		cr->range_end.len = strlen(args[1]);
	} else if (ctl_flag_bool("prefix")) {
		/* clientv3's GetPrefixRangeEnd: the key plus one, or "\0". */
		size_t len = klen < 4096 ? klen : 4096;
		memcpy(end, args[0], len);
		while (len > 0 && end[len - 1] == 0xff) {
			len--;
		}
		if (len == 0) {
			end[0] = 0;
			len = 1;
		} else {
			end[len - 1]++;
		}
		cr->range_end.data = end;
		cr->range_end.len = len;
	}
	cr->prev_kv = ctl_flag_bool("prev-kv");
	return 0;
}

/* Run one watch until the server cancels it or the stream ends. */
static int watch_run(struct ctl *c, Etcdserverpb__WatchCreateRequest *cr, char **exec)
{
	Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
	struct watch_ctx w = {.c = c, .exec = exec};
	char err[CTL_ERRSZ];
	int r;

	req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	req.create_request = cr;
	r = ctl_stream(c, "/v3/watch", &req.base, &etcdserverpb__watch_response__descriptor,
		       false, watch_got, &w, err, sizeof(err));
	if (r < 0 && r != -EPROTO) {
		return ctl_fail_code(CTL_EXIT_BAD_CONNECTION, "%s", err);
	}
	if (r == -EPROTO) {
		fprintf(stderr, "watch was canceled (%s)\n", err);
	}
	return ctl_fail_code(CTL_EXIT_INTERRUPTED, "watch is canceled by the server");
}

/*
 * Interactive mode (etcdctl's watchInteractiveFunc): every watch runs on
 * one stream, as clientv3's watchers of one client do; stdin is read from
 * the stream's loop, so "watch ..." lines add watchers and "progress" lines
 * send progress requests over it.
 */
#define WI_MAX 64

struct wi_watcher {
	int64_t id;   /* -1 until its created answer came */
	char *line;   /* owns the words of exec */
	char *exec[64];
	bool has_exec;
};

struct wi {
	struct ctl *c;
	struct buf in; /* stdin bytes not yet split into lines */
	struct wi_watcher w[WI_MAX];
	size_t n, n_created;
	Etcdserverpb__WatchCreateRequest first; /* before the stream exists */
	uint8_t first_end[4096];
	bool have_first;
};

static void wi_exit(int code)
{
	fflush(stdout);
	fflush(stderr);
	exit(code);
}

/* Split one "watch ..." line into a create request and the exec words. */
static int wi_watch_line(struct wi *st, const char *line, char **words, int n,
			 Etcdserverpb__WatchCreateRequest *cr, uint8_t *end)
{
	char *env_key = getenv("ETCDCTL_WATCH_KEY"), *env_range = getenv("ETCDCTL_WATCH_RANGE_END");
	char *pos[64], *wargs[66], err[CTL_ERRSZ];
	size_t n_pos = 0, n_wargs = 0;
	int sep = -1, n_flags;
	struct wi_watcher *w;

	if (env_key != NULL && *env_key == '\0') {
		env_key = NULL;
	}
	if (env_range != NULL && *env_range == '\0') {
		env_range = NULL;
	}
	if (n < 2 && env_key == NULL) {
		fprintf(stderr, "Invalid command %s (command type or key is not provided)\n", line);
		return 1;
	}
	for (int i = 1; i < n; i++) {
		if (strcmp(words[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	if (sep == n - 1) {
		ctl_fail_code(CTL_EXIT_BAD_ARGS,
			      "bad number of arguments (found separator --, but no commands)");
		wi_exit(CTL_EXIT_BAD_ARGS);
	}
	n_flags = sep >= 0 ? sep - 1 : n - 1;
	if (ctl_parse_op_flags("watch", words + 1, (size_t)n_flags, pos, &n_pos) < 0) {
		/* etcd compat: pflag's error ends etcdctl (ExitBadArgs). */
		for (int i = 1; i <= n_flags; i++) {
			const char *a = words[i], *name = a + 2;
			size_t len = strcspn(name, "=");

			if (a[0] != '-' || a[1] == '\0') {
				continue;
			}
			if (a[1] != '-') {
				ctl_fail_code(CTL_EXIT_BAD_ARGS,
					      "unknown shorthand flag: '%c' in %s", a[1], a);
				wi_exit(CTL_EXIT_BAD_ARGS);
			}
			if (!((len == 6 && strncmp(name, "prefix", 6) == 0) ||
			      (len == 7 && strncmp(name, "prev-kv", 7) == 0) ||
			      (len == 11 && strncmp(name, "interactive", 11) == 0) ||
			      (len == 3 && strncmp(name, "rev", 3) == 0))) {
				ctl_fail_code(CTL_EXIT_BAD_ARGS, "unknown flag: --%.*s", (int)len,
					      name);
				wi_exit(CTL_EXIT_BAD_ARGS);
			}
			if (len == 3 && name[3] == '\0' && i == n_flags) {
				ctl_fail_code(CTL_EXIT_BAD_ARGS, "flag needs an argument: --rev");
				wi_exit(CTL_EXIT_BAD_ARGS);
			}
		}
		fprintf(stderr, "Invalid command %s (bad arguments)\n", line);
		return 1;
	}
	if (sep < 0 && env_key == NULL && n_pos < 1) {
		ctl_fail_code(CTL_EXIT_BAD_ARGS, "bad number of arguments");
		wi_exit(CTL_EXIT_BAD_ARGS);
	}
	if (sep < 0 && env_key != NULL && n_pos > 0) {
		ctl_fail_code(CTL_EXIT_BAD_ARGS,
			      "bad number of arguments (found conflicting environment key)");
		wi_exit(CTL_EXIT_BAD_ARGS);
	}
	if (env_key != NULL) {
		wargs[n_wargs++] = env_key;
		if (env_range != NULL) {
			wargs[n_wargs++] = env_range;
		}
	}
	for (size_t i = 0; i < n_pos; i++) {
		wargs[n_wargs++] = pos[i];
	}
	if (watch_request(wargs, n_wargs, cr, end, err, sizeof(err)) < 0) {
		fprintf(stderr, "Invalid command %s (%s)\n", line, err);
		return 1;
	}
	if (st->n == WI_MAX) {
		fprintf(stderr, "Invalid command %s (too many watches)\n", line);
		return 1;
	}
	w = &st->w[st->n];
	*w = (struct wi_watcher){.id = -1};
	if (sep >= 0) {
		/* The exec words must outlive the line: copy them. */
		struct buf b = BUF_INIT;
		size_t k = 0;

		for (int i = sep + 1; i < n; i++) {
			buf_append(&b, words[i], strlen(words[i]) + 1);
		}
		w->line = (char *)buf_steal(&b, NULL);
		if (w->line == NULL) {
			wi_exit(CTL_EXIT_ERROR);
		}
		for (int i = sep + 1; i < n && k < 63; i++) {
			w->exec[k] = k == 0 ? w->line : w->exec[k - 1] + strlen(w->exec[k - 1]) + 1;
			k++;
		}
		w->exec[k] = NULL;
		w->has_exec = true;
	}
	st->n++;
	return 0;
}

/*
 * One stdin line.  d NULL: no stream yet (a watch line becomes the first
 * request; progress has no watcher to reach).
 */
static void wi_line(struct wi *st, struct ctl_duplex *d, char *line)
{
	Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
	Etcdserverpb__WatchProgressRequest pr = ETCDSERVERPB__WATCH_PROGRESS_REQUEST__INIT;
	Etcdserverpb__WatchCreateRequest cr = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
	uint8_t end[4096];
	char copy[4096], *words[64];
	int n;

	snprintf(copy, sizeof(copy), "%s", line);
	n = ctl_argify(copy, words, 64);
	if (n < 1) {
		fprintf(stderr, "Invalid command: %s (watch and progress supported)\n", line);
		return;
	}
	if (strcmp(words[0], "progress") == 0) {
		if (d != NULL) {
			req.request_union_case =
			    ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_PROGRESS_REQUEST;
			req.progress_request = &pr;
			if (ctl_duplex_send(d, &req.base) < 0) {
				wi_exit(CTL_EXIT_ERROR);
			}
		}
		return;
	}
	if (strcmp(words[0], "watch") != 0) {
		fprintf(stderr, "Invalid command %s (only support watch)\n", line);
		return;
	}
	if (d == NULL) {
		if (wi_watch_line(st, line, words, n, &st->first, st->first_end) == 0) {
			st->have_first = true;
		}
		return;
	}
	if (wi_watch_line(st, line, words, n, &cr, end) != 0) {
		return;
	}
	req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	req.create_request = &cr;
	if (ctl_duplex_send(d, &req.base) < 0) {
		wi_exit(CTL_EXIT_ERROR);
	}
}

/* Read what stdin has; handle every complete line.  EOF ends the run. */
static void wi_read(struct wi *st, struct ctl_duplex *d)
{
	char tmp[4096];
	ssize_t got = read(0, tmp, sizeof(tmp));
	char *nl;

	if (got < 0 && errno == EINTR) {
		return;
	}
	if (got <= 0) {
		ctl_fail_code(CTL_EXIT_INVALID_INPUT, "Error reading watch request line: EOF");
		wi_exit(CTL_EXIT_INVALID_INPUT);
	}
	if (buf_append(&st->in, tmp, (size_t)got) < 0 || buf_append(&st->in, "", 0) < 0) {
		wi_exit(CTL_EXIT_ERROR);
	}
	while ((nl = memchr(st->in.data, '\n', st->in.len)) != NULL) {
		size_t len = (size_t)(nl - (char *)st->in.data);

		*nl = '\0';
		wi_line(st, d, (char *)st->in.data);
		buf_consume(&st->in, len + 1);
		if (st->in.data != NULL) {
			st->in.data[st->in.len] = '\0';
		}
		if (d == NULL && st->have_first) {
			return; /* the stream starts with this watch */
		}
	}
}

/* Handle the complete lines already read. */
static void wi_drain(struct wi *st, struct ctl_duplex *d)
{
	char *nl;

	while (st->in.len > 0 && (nl = memchr(st->in.data, '\n', st->in.len)) != NULL) {
		size_t len = (size_t)(nl - (char *)st->in.data);

		*nl = '\0';
		wi_line(st, d, (char *)st->in.data);
		buf_consume(&st->in, len + 1);
		if (st->in.data != NULL) {
			st->in.data[st->in.len] = '\0';
		}
	}
}

static int wi_wake(struct ctl_duplex *d, void *arg)
{
	struct wi *st = arg;
	struct pollfd p = {.fd = 0, .events = POLLIN};

	wi_drain(st, d);
	if (poll(&p, 1, 0) > 0) {
		wi_read(st, d);
	}
	return 0;
}

static int wi_msg(ProtobufCMessage *msg, void *arg)
{
	Etcdserverpb__WatchResponse *r = (Etcdserverpb__WatchResponse *)msg;
	struct wi *st = arg;
	struct watch_ctx wc = {.c = st->c};

	if (r->created) {
		if (st->n_created < st->n) {
			st->w[st->n_created++].id = r->watch_id;
		}
		if (!r->canceled) {
			return 0;
		}
	}
	if (r->watch_id == -1 && r->n_events == 0 && !r->canceled && !r->created &&
	    r->compact_revision == 0) {
		/* etcd compat: clientv3 broadcasts a progress answer. */
		for (size_t i = 0; i < st->n_created; i++) {
			printf("progress notify: %" PRId64 "\n",
			       r->header ? r->header->revision : 0);
			(void)watch_got(msg, &wc);
		}
		return 0;
	}
	for (size_t i = 0; i < st->n_created; i++) {
		if (st->w[i].id == r->watch_id) {
			wc.exec = st->w[i].has_exec ? st->w[i].exec : NULL;
			break;
		}
	}
	(void)watch_got(msg, &wc);
	return 0; /* one canceled watch leaves the others running */
}

static int watch_interactive(struct ctl *c)
{
	Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
	struct wi *st = mem_calloc(1, sizeof(*st));
	char err[CTL_ERRSZ];
	int r;

	if (st == NULL) {
		return ctl_fail_code(CTL_EXIT_ERROR, "out of memory");
	}
	st->c = c;
	buf_init(&st->in);
	st->first = (Etcdserverpb__WatchCreateRequest)ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
	while (!st->have_first) {
		wi_read(st, NULL);
	}
	req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	req.create_request = &st->first;
	r = ctl_duplex(c, "/v3/watch", &req.base, &etcdserverpb__watch_response__descriptor,
		       wi_msg, wi_wake, 0, 1, st, err, sizeof(err));
	if (r < 0) {
		return ctl_fail_code(CTL_EXIT_BAD_CONNECTION, "%s", err);
	}
	return ctl_fail_code(CTL_EXIT_INTERRUPTED, "watch is canceled by the server");
}

/*
 * etcd compat: etcdctl's parseWatchArgs for the command line.  args are the
 * positional arguments (those after "--" included, as cobra gives them);
 * the raw command line says where "--" was.  Fills wargs (the key and
 * range end, ETCDCTL_WATCH_KEY/RANGE_END first) and *exec (NULL: none).
 */
static int watch_args(char **args, size_t n, char **wargs, size_t *n_wargs, char ***exec,
		      char *err, size_t err_size)
{
	char *env_key = getenv("ETCDCTL_WATCH_KEY");
	char *env_range = getenv("ETCDCTL_WATCH_RANGE_END");
	int raw = 1, sep = -1;
	size_t n_exec = 0, k = 0;

	if (env_key != NULL && *env_key == '\0') {
		env_key = NULL;
	}
	if (env_range != NULL && *env_range == '\0') {
		env_range = NULL;
	}
	while (raw < ctl_argc && strcmp(ctl_argv[raw], "watch") != 0) {
		raw++;
	}
	raw++;
	for (int i = raw; i < ctl_argc; i++) {
		if (strcmp(ctl_argv[i], "--") == 0) {
			sep = i;
			break;
		}
	}
	if (sep >= 0 && sep == ctl_argc - 1) {
		snprintf(err, err_size, "bad number of arguments (found separator --, but no commands)");
		return -EINVAL;
	}
	if (sep < 0 && raw >= ctl_argc && env_key == NULL) {
		snprintf(err, err_size, "bad number of arguments");
		return -EINVAL;
	}
	if (sep >= 0) {
		n_exec = (size_t)(ctl_argc - sep - 1);
		*exec = &ctl_argv[sep + 1];
	}
	if (env_key != NULL && n > n_exec) {
		snprintf(err, err_size, "bad number of arguments (found conflicting environment key)");
		return -EINVAL;
	}
	if (env_key != NULL) {
		wargs[k++] = env_key;
		if (env_range != NULL) {
			wargs[k++] = env_range;
		}
	}
	for (size_t i = 0; i + n_exec < n && k < 64; i++) {
		wargs[k++] = args[i];
	}
	*n_wargs = k;
	return 0;
}

int ctl_cmd_watch(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		  size_t n)
{
	Etcdserverpb__WatchCreateRequest cr = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
	const char *env_key = getenv("ETCDCTL_WATCH_KEY");
	const char *env_range = getenv("ETCDCTL_WATCH_RANGE_END");
	char *wargs[66], **exec = NULL;
	size_t n_wargs = 0;
	uint8_t end[4096];
	char err[CTL_ERRSZ];

	(void)cmd;
	if ((env_key == NULL || *env_key == '\0') && env_range != NULL && *env_range != '\0') {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS,
				     "ETCDCTL_WATCH_KEY is empty but got "
				     "ETCDCTL_WATCH_RANGE_END=\"%s\"",
				     env_range);
	}
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	if (ctl_flag_bool("interactive")) {
		return watch_interactive(c);
	}
	if (watch_args(args, n, wargs, &n_wargs, &exec, err, sizeof(err)) < 0 ||
	    watch_request(wargs, n_wargs, &cr, end, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS, "%s", err);
	}
	return watch_run(c, &cr, exec);
}
