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
 *  3. keep-alive sends one request per round over the gateway (a new POST
 *     each TTL/3 s, as clientv3's keep-alive period), so a lost connection
 *     costs one round, never the lease.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
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

int ctl_cmd_lease_keepalive(struct ctl *c, const struct ctl_cmd *cmd, char **args,
			    size_t n)
{
	Etcdserverpb__LeaseKeepAliveRequest req =
	    ETCDSERVERPB__LEASE_KEEP_ALIVE_REQUEST__INIT;
	bool once = ctl_flag_bool("once");
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
	for (;;) {
		struct ka ka = {.got = false};
		int64_t ttl;

		r = ctl_stream(c, "/v3/lease/keepalive", &req.base,
			       &etcdserverpb__lease_keep_alive_response__descriptor, true,
			       keepalive_got, &ka, err, sizeof(err));
		if (r < 0 || !ka.got) {
			if (!once) {
				break; /* clientv3 closes the channel: "expired" */
			}
			return ctl_fail_code(CTL_EXIT_BAD_CONNECTION, "%s",
					     r < 0 ? err : "no answer from the member");
		}
		ttl = ka.resp.ttl;
		if (ttl <= 0) {
			if (once) {
				/* etcd compat: clientv3's ErrLeaseNotFound */
				return ctl_fail_code(CTL_EXIT_BAD_CONNECTION,
						     "etcdserver: requested lease not found");
			}
			break;
		}
		keepalive_print(c, &ka.resp);
		if (once) {
			return CTL_EXIT_OK;
		}
		/* clientv3 renews every TTL/3 seconds (at least 1). */
		sleep((unsigned)(ttl / 3 > 0 ? ttl / 3 : 1));
	}
	if (c->format == CTL_FMT_SIMPLE) {
		printf("lease %016" PRIx64 " expired or revoked.\n", (uint64_t)req.id);
	}
	return CTL_EXIT_OK;
}

/* --- watch --------------------------------------------------------------- */

/* A watch's answers: etcdctl's printWatchCh. */
static int watch_got(ProtobufCMessage *msg, void *arg)
{
	Etcdserverpb__WatchResponse *r = (Etcdserverpb__WatchResponse *)msg;
	const struct ctl *c = arg;
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
static int watch_run(struct ctl *c, Etcdserverpb__WatchCreateRequest *cr)
{
	Etcdserverpb__WatchRequest req = ETCDSERVERPB__WATCH_REQUEST__INIT;
	char err[CTL_ERRSZ];
	int r;

	req.request_union_case = ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
	req.create_request = cr;
	r = ctl_stream(c, "/v3/watch", &req.base, &etcdserverpb__watch_response__descriptor,
		       false, watch_got, c, err, sizeof(err));
	if (r < 0 && r != -EPROTO) {
		return ctl_fail_code(CTL_EXIT_BAD_CONNECTION, "%s", err);
	}
	if (r == -EPROTO) {
		fprintf(stderr, "watch was canceled (%s)\n", err);
	}
	return ctl_fail_code(CTL_EXIT_INTERRUPTED, "watch is canceled by the server");
}

/*
 * Interactive mode: each "watch ..." line starts a watch in a child
 * process of its own (etcdctl runs a goroutine each); the children die
 * with this process (PR_SET_PDEATHSIG), as the goroutines do.
 */
static int watch_interactive(struct ctl *c)
{
	char line[4096];

	for (;;) {
		char copy[4096], *words[64], *pos[64];
		size_t n_pos = 0;
		int n;
		pid_t pid;

		if (fgets(line, sizeof(line), stdin) == NULL) {
			return ctl_fail_code(CTL_EXIT_INVALID_INPUT,
					     "Error reading watch request line: EOF");
		}
		line[strcspn(line, "\n")] = '\0';
		memcpy(copy, line, sizeof(copy));
		n = ctl_argify(copy, words, 64);
		if (n < 1) {
			fprintf(stderr, "Invalid command: %s (watch and progress supported)\n",
				line);
			continue;
		}
		if (strcmp(words[0], "watch") != 0) {
			fprintf(stderr, "Invalid command %s (only support watch)\n", line);
			continue;
		}
		if (n < 2) {
			fprintf(stderr,
				"Invalid command %s (command type or key is not provided)\n",
				line);
			continue;
		}
		if (ctl_parse_op_flags("watch", words + 1, (size_t)n - 1, pos, &n_pos) < 0 ||
		    n_pos < 1 || n_pos > 2) {
			fprintf(stderr, "Invalid command %s (bad arguments)\n", line);
			continue;
		}
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			return ctl_fail_code(CTL_EXIT_ERROR, "%s", strerror(errno));
		}
		if (pid == 0) {
			Etcdserverpb__WatchCreateRequest cr =
			    ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
			uint8_t end[4096];
			char err[CTL_ERRSZ];

			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1) {
				_exit(0);
			}
			if (watch_request(pos, n_pos, &cr, end, err, sizeof(err)) < 0) {
				fprintf(stderr, "Invalid command %s (%s)\n", line, err);
				_exit(0);
			}
			_exit(watch_run(c, &cr));
		}
	}
}

int ctl_cmd_watch(struct ctl *c, const struct ctl_cmd *cmd, char **args,
		  size_t n)
{
	Etcdserverpb__WatchCreateRequest cr = ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
	uint8_t end[4096];
	char err[CTL_ERRSZ];

	(void)cmd;
	if (c->format == CTL_FMT_TABLE) {
		return ctl_unsupported(c);
	}
	if (ctl_flag_bool("interactive")) {
		return watch_interactive(c);
	}
	if (n > 2) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS, "bad number of arguments");
	}
	if (watch_request(args, n, &cr, end, err, sizeof(err)) < 0) {
		return ctl_fail_code(CTL_EXIT_BAD_ARGS, "%s", err);
	}
	return watch_run(c, &cr);
}
