/*
 * grpc_client.h - a gRPC client over one HTTP/2 connection (nghttp2 and
 * libevent): what a member uses to stream Raft messages to a peer.
 *
 * A client connects to host:port at once (hostnames through evdns) and
 * lives until the connection ends; it does not reconnect by itself: its
 * owner decides when to try again (backoff belongs to the owner).  Calls may
 * be started before the connection is up; their messages wait in the call's
 * queue.
 *
 * Callbacks (all on the loop thread):
 *   - client on_state(connected=true) once HTTP/2 is set up;
 *     on_state(connected=false, err) once when the connection failed or
 *     ended; every call has had its on_close before that.
 *   - call on_message for each response message (borrowed).
 *   - call on_close exactly once, with the gRPC status and message (a lost
 *     connection is UNAVAILABLE); the call is invalid afterwards.
 * grpc_client_free() may be called from any callback, including the
 * client's own: the free happens when the callback returns.
 */
#ifndef CETCD_SYS_GRPC_CLIENT_H
#define CETCD_SYS_GRPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sys/grpc.h"

struct event_base;
struct evdns_base;
struct grpc_client;
struct grpc_client_call;

struct grpc_client_ops {
	void (*on_state)(struct grpc_client *c, bool connected, int err, void *arg);
};

struct grpc_client_call_ops {
	void (*on_message)(struct grpc_client_call *call, const uint8_t *msg,
			   size_t len, void *arg);
	void (*on_close)(struct grpc_client_call *call, enum grpc_status status,
			 const char *message, void *arg);
	/* The call's queue fell below half of GRPC_CALL_MAX_QUEUED. May be NULL. */
	void (*on_writable)(struct grpc_client_call *call, void *arg);
};

/* dns may be NULL when host is a numeric address. */
struct grpc_client *grpc_client_new(struct event_base *base, struct evdns_base *dns,
				    const char *host, int port,
				    const struct grpc_client_ops *ops, void *arg);
/* Closes the connection; open calls get on_close(CANCELLED) first. */
void grpc_client_free(struct grpc_client *c);
bool grpc_client_is_connected(const struct grpc_client *c);

/*
 * Start a call to path.  headers: NULL or name, value, ..., NULL (lower-case
 * names; copied).  NULL on -ENOMEM or when the connection already ended.
 */
struct grpc_client_call *grpc_client_start(struct grpc_client *c, const char *path,
					   const char *const *headers,
					   const struct grpc_client_call_ops *ops,
					   void *arg);
/* Queue a request message.  0, -ENOBUFS (queue full), -EPIPE (closed). */
int grpc_client_send(struct grpc_client_call *call, const uint8_t *msg, size_t len);
/* Half-close: no more request messages. */
int grpc_client_close_send(struct grpc_client_call *call);
/* Reset the stream; on_close(CANCELLED) follows from the loop. */
void grpc_client_cancel(struct grpc_client_call *call);
size_t grpc_client_queued(const struct grpc_client_call *call);

#endif
