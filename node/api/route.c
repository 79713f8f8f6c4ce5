/*
 * route.c - the route table (route.h).
 *
 * A flat array searched linearly: the client port has a few dozen routes,
 * and a scan of short strings costs less than a request's parse.
 *
 * Invariants:
 *  1. routes[0..n) are all valid; each holds its own copies of method and
 *     path; prefix routes have is_prefix set and path without the '*'.
 */
#include "api/route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/mem.h"

struct route {
	char *method;
	char *path;
	size_t path_len;
	bool is_prefix;
	bool body_stream;
	route_handler_fn fn;
	void *ctx;
};

struct route_table {
	struct route *routes;
	size_t n;
	size_t cap;
};

int route_table_new(struct route_table **out)
{
	struct route_table *t = mem_calloc(1, sizeof(*t));

	if (t == NULL) {
		return -ENOMEM;
	}
	*out = t;
	return 0;
}

void route_table_free(struct route_table *t)
{
	if (t == NULL) {
		return;
	}
	for (size_t i = 0; i < t->n; i++) {
		mem_free(t->routes[i].method);
		mem_free(t->routes[i].path);
	}
	mem_free(t->routes);
	mem_free(t);
}

static int route_add_kind(struct route_table *t, const char *method,
			  const char *path, route_handler_fn fn, void *ctx,
			  bool body_stream)
{
	_cleanup_free_ char *m = NULL;
	_cleanup_free_ char *p = NULL;
	size_t len;
	bool is_prefix = false;

	if (method == NULL || path == NULL || path[0] != '/' || fn == NULL ||
	    method[0] == '\0') {
		return -EINVAL;
	}
	len = strlen(path);
	if (path[len - 1] == '*') {
		is_prefix = true;
		len--;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];

		if (r->is_prefix == is_prefix && r->path_len == len &&
		    memcmp(r->path, path, len) == 0 &&
		    strcmp(r->method, method) == 0) {
			return -EEXIST;
		}
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct route *nr =
		    mem_realloc(t->routes, cap * sizeof(*t->routes));

		if (nr == NULL) {
			return -ENOMEM;
		}
		t->routes = nr;
		t->cap = cap;
	}
	m = mem_strdup(method);
	p = mem_strndup(path, len);
	if (m == NULL || p == NULL) {
		return -ENOMEM;
	}
	t->routes[t->n++] = (struct route){
	    .method = TAKE_PTR(m),
	    .path = TAKE_PTR(p),
	    .path_len = len,
	    .is_prefix = is_prefix,
	    .body_stream = body_stream,
	    .fn = fn,
	    .ctx = ctx,
	};
	return 0;
}

int route_add(struct route_table *t, const char *method, const char *path,
	      route_handler_fn fn, void *ctx)
{
	return route_add_kind(t, method, path, fn, ctx, false);
}

int route_add_stream(struct route_table *t, const char *method,
		     const char *path, route_handler_fn fn, void *ctx)
{
	return route_add_kind(t, method, path, fn, ctx, true);
}

int route_canonical_path(const char *path, size_t len, char *out, size_t size)
{
	/* etcd compat: the gateway's older API versions name the same RPCs. */
	static const char *const old[] = {"/v3beta/", "/v3alpha/"};
	size_t skip = 0;

	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		size_t ol = strlen(old[i]);

		if (len >= ol && memcmp(path, old[i], ol) == 0) {
			skip = ol - strlen("/v3/");
			break;
		}
	}
	if (len - skip + 1 > size) {
		return -ENAMETOOLONG;
	}
	if (skip > 0) {
		memcpy(out, "/v3/", 4);
		memcpy(out + 4, path + skip + 4, len - skip - 4);
	} else {
		memcpy(out, path, len);
	}
	out[len - skip] = '\0';
	return (int)(len - skip);
}

static bool route_path_matches(const struct route *r, const char *path,
			       size_t len)
{
	if (r->is_prefix) {
		return len >= r->path_len &&
		       memcmp(r->path, path, r->path_len) == 0;
	}
	return len == r->path_len && memcmp(r->path, path, len) == 0;
}

/* Exact beats prefix; among prefixes the longest wins (invariant 3). */
static size_t route_rank(const struct route *r)
{
	return r->is_prefix ? r->path_len : (size_t)-1;
}

int route_lookup(const struct route_table *t, const char *method,
		 const char *path, struct route_match *out, char *allow,
		 size_t allow_size)
{
	const struct route *best = NULL;
	size_t best_rank = 0, len = strlen(path), used = 0;
	bool any_path = false;

	if (strcmp(method, "HEAD") == 0) {
		method = "GET";
	}
	/* The most specific path first, then the method within it. */
	for (size_t i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];

		if (route_path_matches(r, path, len) &&
		    (!any_path || route_rank(r) > best_rank)) {
			any_path = true;
			best_rank = route_rank(r);
		}
	}
	if (!any_path) {
		return -ENOENT;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct route *r = &t->routes[i];

		if (!route_path_matches(r, path, len) ||
		    route_rank(r) != best_rank) {
			continue;
		}
		if (strcmp(r->method, method) == 0) {
			best = r;
			break;
		}
		if (allow != NULL && allow_size > 0) {
			int n = snprintf(allow + used, allow_size - used,
					 "%s%s", used ? ", " : "", r->method);

			if (n > 0 && (size_t)n < allow_size - used) {
				used += (size_t)n;
			}
		}
	}
	if (best == NULL) {
		if (allow != NULL && allow_size > 0 && used == 0) {
			allow[0] = '\0';
		}
		return -EPERM;
	}
	out->fn = best->fn;
	out->ctx = best->ctx;
	out->body_stream = best->body_stream;
	return 0;
}
