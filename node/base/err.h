/*
 * err.h - error codes shared by every layer.
 *
 * A function that can fail returns int: >= 0 on success, a negative errno
 * (-ENOMEM, -EIO, ...) or a negative project code from the table below.
 * Project codes start at ERR_BASE so they never collide with errno values.
 * err_str() names any of them; node/api maps the project codes to gRPC
 * status codes, etcd's error strings and HTTP status in one table.
 */
#ifndef CETCD_BASE_ERR_H
#define CETCD_BASE_ERR_H

#define ERR_BASE 10000

/* X(name, text): text is for logs, not the etcd wire string. */
#define ERR_TABLE(X)                                                           \
	X(ERR_CORRUPT, "data is corrupt")                                      \
	X(ERR_NOT_LEADER, "not the leader")                                    \
	X(ERR_NO_LEADER, "no leader")                                          \
	X(ERR_PROPOSAL_DROPPED, "proposal dropped")                            \
	X(ERR_COMPACTED, "required revision has been compacted")               \
	X(ERR_FUTURE_REV, "required revision is a future revision")            \
	X(ERR_UNAVAILABLE, "requested entries or snapshot unavailable")        \
	X(ERR_SNAP_OUT_OF_DATE, "snapshot is older than the current state")    \
	X(ERR_LEASE_NOT_FOUND, "requested lease not found")                    \
	X(ERR_LEASE_EXISTS, "lease already exists")                            \
	X(ERR_LEASE_TTL_TOO_LARGE, "too large lease TTL")                      \
	X(ERR_KEY_NOT_FOUND, "key not found")                                  \
	X(ERR_EMPTY_KEY, "key is not provided")                                \
	X(ERR_DUPLICATE_KEY, "duplicate key given in txn request")             \
	X(ERR_TOO_MANY_OPS, "too many operations in txn request")              \
	X(ERR_VALUE_PROVIDED, "value is provided")                             \
	X(ERR_LEASE_PROVIDED, "lease is provided")                             \
	X(ERR_NO_SPACE, "database space exceeded")                             \
	X(ERR_REQUEST_TOO_LARGE, "request is too large")                       \
	X(ERR_TIMEOUT, "request timed out")                                    \
	X(ERR_LEADER_CHANGED, "leader changed")                                \
	X(ERR_TOO_MANY_REQUESTS, "too many requests")                          \
	X(ERR_STOPPED, "server stopped")                                       \
	X(ERR_MEMBER_NOT_FOUND, "member not found")                            \
	X(ERR_MEMBER_EXISTS, "member ID already exist")                        \
	X(ERR_PEER_URL_EXISTS, "Peer URLs already exists")                     \
	X(ERR_MEMBER_NOT_LEARNER, "can only promote a learner member")         \
	X(ERR_LEARNER_NOT_READY,                                               \
	  "can only promote a learner member which is in sync with leader")    \
	X(ERR_TOO_MANY_LEARNERS, "too many learner members in cluster")        \
	X(ERR_UNHEALTHY, "unhealthy cluster")                                  \
	X(ERR_NOT_SUPPORTED, "not supported")                                  \
	X(ERR_INVALID, "invalid argument")                                     \
	X(ERR_PARSE, "parse error")                                            \
	X(ERR_CONFIG, "configuration error")                                   \
	X(ERR_LEARNER_NOT_SUPPORTED, "rpc not supported for learner")          \
	X(ERR_INVALID_PEER_URLS, "given member URLs are invalid")              \
	X(ERR_CLUSTER_ID_MISMATCH, "cluster ID mismatch")                      \
	X(ERR_NOT_ENOUGH_STARTED,                                              \
	  "re-configuration failed due to not enough started members")         \
	X(ERR_BAD_TRANSFEREE, "bad leader transferee")                         \
	X(ERR_TIMEOUT_LEADER_FAIL,                                             \
	  "request timed out, possibly due to previous leader failure")        \
	X(ERR_TIMEOUT_LOST_CONN,                                               \
	  "request timed out, possibly due to connection lost")                \
	X(ERR_TIMEOUT_WAIT_APPLIED,                                            \
	  "request timed out, waiting for the applied index took too long")    \
	X(ERR_CANCELED, "request canceled")                                    \
	X(ERR_DEADLINE_EXCEEDED, "context deadline exceeded")                  \
	X(ERR_WATCH_CANCELED, "watch canceled")                                \
	X(ERR_AUTH_NOT_ENABLED, "authentication is not enabled")               \
	X(ERR_NOT_CAPABLE, "not capable")

enum err_code {
	ERR_FIRST_ = ERR_BASE,
#define ERR_ENUM_(name, text) name,
	ERR_TABLE(ERR_ENUM_)
#undef ERR_ENUM_
	ERR_LAST_
};

/*
 * A static description of err (negative or positive; errno values go
 * through strerror).  Never NULL.
 */
const char *err_str(int err);

/* The symbolic name ("ERR_CORRUPT", "ENOMEM", ...) for logs and tests. */
const char *err_name(int err);

#endif
