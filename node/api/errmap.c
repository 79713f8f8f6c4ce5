/*
 * errmap.c - project error codes to gRPC status, etcd strings and HTTP
 * status (errmap.h).
 *
 * The strings come from etcd's api/v3rpc/rpctypes/error.go (3.5) as listed
 * in reference §2; codes that never reach a client unchanged in etcd (raft
 * storage errors) carry raft's own text under Unknown, which is what etcd
 * would send for an unmapped error.
 */
#include "api/errmap.h"

#include <errno.h>
#include <stdlib.h>

#include "base/err.h"

/* etcd compat: every message below is byte-for-byte etcd's. */
static const struct errmap_entry errmap_table[] = {
    {ERR_CORRUPT, GRPC_STATUS_DATA_LOSS, "etcdserver: corrupt cluster"},
    {ERR_NOT_LEADER, GRPC_STATUS_FAILED_PRECONDITION, "etcdserver: not leader"},
    {ERR_NO_LEADER, GRPC_STATUS_UNAVAILABLE, "etcdserver: no leader"},
    {ERR_PROPOSAL_DROPPED, GRPC_STATUS_UNKNOWN, "raft proposal dropped"},
    {ERR_COMPACTED, GRPC_STATUS_OUT_OF_RANGE,
     "etcdserver: mvcc: required revision has been compacted"},
    {ERR_FUTURE_REV, GRPC_STATUS_OUT_OF_RANGE,
     "etcdserver: mvcc: required revision is a future revision"},
    {ERR_UNAVAILABLE, GRPC_STATUS_UNKNOWN, "requested entry at index is unavailable"},
    {ERR_SNAP_OUT_OF_DATE, GRPC_STATUS_UNKNOWN,
     "requested index is older than the existing snapshot"},
    {ERR_LEASE_NOT_FOUND, GRPC_STATUS_NOT_FOUND,
     "etcdserver: requested lease not found"},
    {ERR_LEASE_EXISTS, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: lease already exists"},
    {ERR_LEASE_TTL_TOO_LARGE, GRPC_STATUS_OUT_OF_RANGE,
     "etcdserver: too large lease TTL"},
    {ERR_KEY_NOT_FOUND, GRPC_STATUS_INVALID_ARGUMENT, "etcdserver: key not found"},
    {ERR_EMPTY_KEY, GRPC_STATUS_INVALID_ARGUMENT, "etcdserver: key is not provided"},
    {ERR_DUPLICATE_KEY, GRPC_STATUS_INVALID_ARGUMENT,
     "etcdserver: duplicate key given in txn request"},
    {ERR_TOO_MANY_OPS, GRPC_STATUS_INVALID_ARGUMENT,
     "etcdserver: too many operations in txn request"},
    {ERR_VALUE_PROVIDED, GRPC_STATUS_INVALID_ARGUMENT,
     "etcdserver: value is provided"},
    {ERR_LEASE_PROVIDED, GRPC_STATUS_INVALID_ARGUMENT,
     "etcdserver: lease is provided"},
    {ERR_NO_SPACE, GRPC_STATUS_RESOURCE_EXHAUSTED,
     "etcdserver: mvcc: database space exceeded"},
    {ERR_REQUEST_TOO_LARGE, GRPC_STATUS_INVALID_ARGUMENT,
     "etcdserver: request is too large"},
    {ERR_TIMEOUT, GRPC_STATUS_UNAVAILABLE, "etcdserver: request timed out"},
    {ERR_LEADER_CHANGED, GRPC_STATUS_UNAVAILABLE, "etcdserver: leader changed"},
    {ERR_TOO_MANY_REQUESTS, GRPC_STATUS_RESOURCE_EXHAUSTED,
     "etcdserver: too many requests"},
    {ERR_STOPPED, GRPC_STATUS_UNAVAILABLE, "etcdserver: server stopped"},
    {ERR_MEMBER_NOT_FOUND, GRPC_STATUS_NOT_FOUND, "etcdserver: member not found"},
    {ERR_MEMBER_EXISTS, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: member ID already exist"},
    {ERR_PEER_URL_EXISTS, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: Peer URLs already exists"},
    {ERR_MEMBER_NOT_LEARNER, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: can only promote a learner member"},
    {ERR_LEARNER_NOT_READY, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: can only promote a learner member which is in sync "
     "with leader"},
    {ERR_TOO_MANY_LEARNERS, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: too many learner members in cluster"},
    {ERR_UNHEALTHY, GRPC_STATUS_UNAVAILABLE, "etcdserver: unhealthy cluster"},
    /* Not an etcd error: features cetcd has not built yet (design.md). */
    {ERR_NOT_SUPPORTED, GRPC_STATUS_UNIMPLEMENTED, "cetcd: not supported yet"},
    {ERR_INVALID, GRPC_STATUS_INVALID_ARGUMENT, "cetcd: invalid argument"},
    {ERR_PARSE, GRPC_STATUS_INVALID_ARGUMENT, "cetcd: malformed request"},
    {ERR_CONFIG, GRPC_STATUS_INTERNAL, "cetcd: configuration error"},
    {ERR_LEARNER_NOT_SUPPORTED, GRPC_STATUS_UNAVAILABLE,
     "etcdserver: rpc not supported for learner"},
    {ERR_INVALID_PEER_URLS, GRPC_STATUS_INVALID_ARGUMENT,
     "etcdserver: given member URLs are invalid"},
    {ERR_CLUSTER_ID_MISMATCH, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: cluster ID mismatch"},
    {ERR_NOT_ENOUGH_STARTED, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: re-configuration failed due to not enough started "
     "members"},
    {ERR_BAD_TRANSFEREE, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: bad leader transferee"},
    {ERR_TIMEOUT_LEADER_FAIL, GRPC_STATUS_UNAVAILABLE,
     "etcdserver: request timed out, possibly due to previous leader "
     "failure"},
    {ERR_TIMEOUT_LOST_CONN, GRPC_STATUS_UNAVAILABLE,
     "etcdserver: request timed out, possibly due to connection lost"},
    {ERR_TIMEOUT_WAIT_APPLIED, GRPC_STATUS_UNAVAILABLE,
     "etcdserver: request timed out, waiting for the applied index took "
     "too long"},
    {ERR_CANCELED, GRPC_STATUS_CANCELLED, "etcdserver: request canceled"},
    {ERR_DEADLINE_EXCEEDED, GRPC_STATUS_DEADLINE_EXCEEDED,
     "etcdserver: context deadline exceeded"},
    {ERR_WATCH_CANCELED, GRPC_STATUS_CANCELLED, "etcdserver: watch canceled"},
    {ERR_AUTH_NOT_ENABLED, GRPC_STATUS_FAILED_PRECONDITION,
     "etcdserver: authentication is not enabled"},
    {ERR_NOT_CAPABLE, GRPC_STATUS_UNAVAILABLE, "etcdserver: not capable"},
};

#define ERRMAP_N (sizeof(errmap_table) / sizeof(errmap_table[0]))

/*
 * Indexed by code - ERR_FIRST_ - 1, filled on first use; the table above
 * stays in the order a reader checks it against etcd.
 */
static const struct errmap_entry *errmap_index[ERR_LAST_ - ERR_FIRST_];
static bool errmap_index_ready;

static void errmap_build_index(void)
{
	for (size_t i = 0; i < ERRMAP_N; i++) {
		int c = errmap_table[i].err;

		if (c > ERR_FIRST_ && c < ERR_LAST_) {
			errmap_index[c - ERR_FIRST_ - 1] = &errmap_table[i];
		}
	}
	errmap_index_ready = true;
}

const struct errmap_entry *errmap_find(int err)
{
	int c = abs(err);

	if (!errmap_index_ready) {
		errmap_build_index();
	}
	if (c <= ERR_FIRST_ || c >= ERR_LAST_) {
		return NULL;
	}
	return errmap_index[c - ERR_FIRST_ - 1];
}

/*
 * Fallbacks for codes outside the table.  etcd turns context errors into
 * Canceled/DeadlineExceeded; anything else is Unknown with its text.  The
 * entries are per errno class, so the static storage is read-only.
 */
static const struct errmap_entry errmap_nomem = {
    ENOMEM, GRPC_STATUS_RESOURCE_EXHAUSTED, "cetcd: out of memory"};
static const struct errmap_entry errmap_timedout = {
    ETIMEDOUT, GRPC_STATUS_DEADLINE_EXCEEDED, "context deadline exceeded"};
static const struct errmap_entry errmap_canceled = {ECANCELED, GRPC_STATUS_CANCELLED,
						    "context canceled"};

const struct errmap_entry *errmap_lookup(int err)
{
	static __thread struct errmap_entry other;
	const struct errmap_entry *e = errmap_find(err);

	if (e != NULL) {
		return e;
	}
	switch (abs(err)) {
	case ENOMEM:
		return &errmap_nomem;
	case ETIMEDOUT:
		return &errmap_timedout;
	case ECANCELED:
		return &errmap_canceled;
	default:
		break;
	}
	other.err = abs(err);
	other.code = GRPC_STATUS_UNKNOWN;
	other.message = err_str(err);
	return &other;
}

int errmap_http_status(enum grpc_status code)
{
	/* grpc-gateway v1.16 runtime.HTTPStatusFromCode (etcd 3.5). */
	switch (code) {
	case GRPC_STATUS_OK:
		return 200;
	case GRPC_STATUS_CANCELLED:
		return 408;
	case GRPC_STATUS_UNKNOWN:
		return 500;
	case GRPC_STATUS_INVALID_ARGUMENT:
		return 400;
	case GRPC_STATUS_DEADLINE_EXCEEDED:
		return 504;
	case GRPC_STATUS_NOT_FOUND:
		return 404;
	case GRPC_STATUS_ALREADY_EXISTS:
		return 409;
	case GRPC_STATUS_PERMISSION_DENIED:
		return 403;
	case GRPC_STATUS_UNAUTHENTICATED:
		return 401;
	case GRPC_STATUS_RESOURCE_EXHAUSTED:
		return 429;
	case GRPC_STATUS_FAILED_PRECONDITION:
		/* etcd compat: 3.5's gateway; Debian's 3.4.23 sends 412. */
		return 400;
	case GRPC_STATUS_ABORTED:
		return 409;
	case GRPC_STATUS_OUT_OF_RANGE:
		return 400;
	case GRPC_STATUS_UNIMPLEMENTED:
		return 501;
	case GRPC_STATUS_INTERNAL:
		return 500;
	case GRPC_STATUS_UNAVAILABLE:
		return 503;
	case GRPC_STATUS_DATA_LOSS:
		return 500;
	}
	return 500;
}

const char *errmap_code_name(enum grpc_status code)
{
	static const char *const names[] = {
	    "OK",
	    "Canceled",
	    "Unknown",
	    "InvalidArgument",
	    "DeadlineExceeded",
	    "NotFound",
	    "AlreadyExists",
	    "PermissionDenied",
	    "ResourceExhausted",
	    "FailedPrecondition",
	    "Aborted",
	    "OutOfRange",
	    "Unimplemented",
	    "Internal",
	    "Unavailable",
	    "DataLoss",
	    "Unauthenticated",
	};

	if ((unsigned)code < sizeof(names) / sizeof(names[0])) {
		return names[code];
	}
	return "Unknown";
}

/* Go's http.StatusText for the statuses errmap_http_status produces. */
static const char *errmap_status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 429:
		return "Too Many Requests";
	case 501:
		return "Not Implemented";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Internal Server Error";
	}
}

int errmap_json_quote(struct buf *out, const char *s)
{
	size_t start = out->len;
	int r = buf_append_byte(out, '"');

	for (const unsigned char *p = (const unsigned char *)s; r >= 0 && *p;
	     p++) {
		switch (*p) {
		case '"':
			r = buf_append_str(out, "\\\"");
			break;
		case '\\':
			r = buf_append_str(out, "\\\\");
			break;
		case '\n':
			r = buf_append_str(out, "\\n");
			break;
		case '\r':
			r = buf_append_str(out, "\\r");
			break;
		case '\t':
			r = buf_append_str(out, "\\t");
			break;
		default:
			/* Go's encoder escapes <, > and & too; etcd's strings
			 * contain none, so plain control escapes suffice. */
			if (*p < 0x20) {
				r = buf_printf(out, "\\u%04x", *p);
			} else {
				r = buf_append_byte(out, *p);
			}
			break;
		}
	}
	if (r >= 0) {
		r = buf_append_byte(out, '"');
	}
	if (r < 0) {
		out->len = start;
		if (out->data != NULL) {
			out->data[start] = '\0';
		}
	}
	return r;
}

int errmap_render_json_msg(enum grpc_status code, const char *message,
			   struct buf *out)
{
	size_t start = out->len;
	int r;

	r = buf_append_str(out, "{\"error\":");
	if (r >= 0) {
		r = errmap_json_quote(out, message);
	}
	if (r >= 0) {
		r = buf_printf(out, ",\"code\":%d,\"message\":", (int)code);
	}
	if (r >= 0) {
		r = errmap_json_quote(out, message);
	}
	if (r >= 0) {
		r = buf_append_byte(out, '}');
	}
	if (r < 0) {
		out->len = start;
		if (out->data != NULL) {
			out->data[start] = '\0';
		}
		return r;
	}
	return errmap_http_status(code);
}

int errmap_render_json(int err, struct buf *out)
{
	const struct errmap_entry *e = errmap_lookup(err);

	return errmap_render_json_msg(e->code, e->message, out);
}

int errmap_render_stream_error(int err, struct buf *out)
{
	const struct errmap_entry *e = errmap_lookup(err);
	int status = errmap_http_status(e->code);
	size_t start = out->len;
	int r;

	r = buf_printf(out,
		       "{\"error\":{\"grpc_code\":%d,\"http_code\":%d,"
		       "\"message\":",
		       (int)e->code, status);
	if (r >= 0) {
		r = errmap_json_quote(out, e->message);
	}
	if (r >= 0) {
		r = buf_append_str(out, ",\"http_status\":");
	}
	if (r >= 0) {
		r = errmap_json_quote(out, errmap_status_text(status));
	}
	if (r >= 0) {
		r = buf_append_str(out, "}}\n");
	}
	if (r < 0) {
		out->len = start;
		if (out->data != NULL) {
			out->data[start] = '\0';
		}
		return r;
	}
	return 0;
}
