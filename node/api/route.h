/*
 * route.h - the client port's HTTP route table: method + path -> handler.
 *
 * The layer above (the server) registers its handlers (/v3/kv/range,
 * /health, ...) with a context pointer; the HTTP/1.1 connection code looks
 * a request up here after putting its path in canonical form.
 *
 * Invariants:
 *  1. A (method, path) pair is registered at most once (-EEXIST).
 *  2. Canonical paths: the older gateway prefixes /v3beta/ and /v3alpha/
 *     name the same handlers as /v3/ (etcd compat: etcd rewrites /v3beta/;
 *     etcd3gw 2.0 in Debian defaults to /v3alpha/).
 *  3. A path registered with a trailing "*" (for example "/livez/" followed by
 * "*") matches every path that starts with what comes before the "*"; exact
 * paths win over prefixes, longer prefixes over shorter ones.
 *  4. HEAD is looked up as GET (the connection drops the body).
 *  5. A route added with route_add_stream has a streamed request body: its
 *     handler runs when the headers are complete and gets the body piece
 *     by piece (http1_route_add_stream in http1.h).
 */
#ifndef CETCD_API_ROUTE_H
#define CETCD_API_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct http1_req;

/*
 * A request handler.  It owns req until it finishes it with one of
 * http1_reply*(), or http1_stream_end() after http1_stream_start(), either
 * before returning or later from the loop (http1.h).
 */
typedef void (*route_handler_fn)(struct http1_req *req, void *ctx);

struct route_table;

int route_table_new(struct route_table **out);
void route_table_free(struct route_table *t);

/*
 * Register fn for method ("GET", "POST", ...) on path (canonical, starting
 * with '/'; "/v3/..." also serves /v3beta/... and /v3alpha/...).
 * 0, -EEXIST, -EINVAL, -ENOMEM.  Strings are copied.
 */
int route_add(struct route_table *t, const char *method, const char *path,
	      route_handler_fn fn, void *ctx);

/* Like route_add, for a handler that reads its body as a stream (inv. 5). */
int route_add_stream(struct route_table *t, const char *method,
		     const char *path, route_handler_fn fn, void *ctx);

/*
 * Write the canonical form of path (without query) into out (size bytes):
 * /v3beta/x and /v3alpha/x become /v3/x.  Returns the length, or -ENAMETOOLONG.
 */
int route_canonical_path(const char *path, size_t len, char *out, size_t size);

/* What route_lookup found. */
struct route_match {
	route_handler_fn fn;
	void *ctx;
	bool body_stream; /* added with route_add_stream */
};

/*
 * Look up a canonical path.  0 with *out filled; -ENOENT when no route has
 * the path; -EPERM when the path exists under other methods, with their
 * names joined by ", " written to allow (size bytes; etcd's "Allow" header).
 */
int route_lookup(const struct route_table *t, const char *method,
		 const char *path, struct route_match *out, char *allow,
		 size_t allow_size);

#endif
