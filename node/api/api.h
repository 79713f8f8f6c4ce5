/*
 * api.h - the client port: etcd's v3 services over gRPC and over the
 * HTTP/1.1 JSON gateway, both on every listen-client-url, plus /health,
 * /version and /metrics.  One implementation serves both protocols
 * (design.md, "One message model", "Both protocols on one port"): a
 * request is decoded (protobuf or proto3 JSON) into the etcdserverpb
 * message, handed to member_request(), and the answer is encoded back in
 * the caller's protocol; errors go through node/api/errmap for both.
 *
 * Invariants:
 *  1. Loop thread only.
 *  2. A request whose client goes away before the member answers is
 *     cancelled (member_request_cancel); its answer is never written.
 *  3. Every method of etcd's six services answers: implemented ones
 *     through the member, the others UNIMPLEMENTED (gRPC) or the gateway's
 *     JSON error with HTTP 501, with a message naming the method: never a
 *     hang.
 *  4. After api_free() no member callback reaches the api (every request
 *     still pending is cancelled first), so api_free() must come before
 *     member_free().
 *
 * Use (node/main.c), the member created first:
 *
 *     r = member_new(loop, cfg, &m, &msg);         (binds the peer URLs)
 *     r = api_serve(loop, m, cfg, &api, &msg);     (binds the client URLs;
 *                                                   on error print msg, exit 1)
 *     sys_loop_run(loop);
 *     on SIGTERM: api_shutdown(api) (no new clients, GOAWAY to gRPC), then
 *         member_stop(m, ...) (pending requests answer "server stopped"),
 *         then sys_loop_stop() from its done callback;
 *     api_free(api); member_free(m); sys_loop_free(loop);
 */
#ifndef CETCD_API_API_H
#define CETCD_API_API_H

#include <stddef.h>

struct api;
struct config;
struct member;
struct metrics;
struct sys_loop;

/*
 * Bind every cfg->listen_client_urls (HTTP/1.1 and gRPC on each, told
 * apart by the HTTP/2 preface) and serve requests through m.  loop, m and
 * cfg are borrowed and must outlive the api.  A URL that cannot be bound
 * fails the call with -errno and *errmsg (mem_free) naming the URL, the
 * reason and the fix.  A port of 0 binds any free port (api_port).
 */
int api_serve(struct sys_loop *loop, struct member *m, const struct config *cfg,
	      struct api **out, char **errmsg);

/*
 * Graceful stop: close the listening sockets and send GOAWAY to gRPC
 * connections; calls under way may still finish.  Idempotent.
 */
void api_shutdown(struct api *a);

/* Cancel what is pending, close every connection, free.  NULL: no-op. */
void api_free(struct api *a);

/* The bound port of the i-th listen-client-url (cfg order), or -ENOENT. */
int api_port(const struct api *a, size_t i);

/* The api's Prometheus registry (other layers may add their series). */
struct metrics *api_metrics(struct api *a);

#endif
