/*
 * listener.h - the client port's listening sockets and protocol sniffing.
 *
 * Accepts on one or more addresses; each accepted socket is non-blocking
 * and close-on-exec.  The first bytes decide the protocol (design.md, "Both
 * protocols on one port"; etcd uses cmux the same way): the HTTP/2 client
 * preface goes to the h2 hook the gRPC layer installs, anything else to
 * the HTTP/1.1 server.
 *
 * Invariants:
 *  1. A connection is in exactly one place: sniffing here, or handed over
 *     (fd ownership passes with it).
 *  2. Without an h2 hook an HTTP/2 client gets a SETTINGS and a GOAWAY
 *     (HTTP_1_1_REQUIRED) and the connection is closed: never a hang.
 *  3. A client that sends nothing within sniff_timeout_ms is closed.
 *  4. Loop thread only.
 */
#ifndef CETCD_API_LISTENER_H
#define CETCD_API_LISTENER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct http1_server;
struct listener;

/* The HTTP/2 client preface (RFC 9113, 3.4). */
#define LISTENER_H2_PREFACE "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#define LISTENER_H2_PREFACE_LEN 24

/*
 * Takes ownership of fd (non-blocking); pre holds the n bytes already read
 * (the preface and whatever followed), borrowed for the call only.
 */
typedef void (*listener_h2_fn)(int fd, const uint8_t *pre, size_t n, void *arg);

/* http1 is borrowed and must outlive the listener. */
int listener_new(struct event_base *base, struct http1_server *http1,
		 struct listener **out);
/* Stop listening, close connections still being sniffed. */
void listener_free(struct listener *l);

/*
 * Bind and listen on host ("127.0.0.1", "::", "0.0.0.0", "localhost") and
 * port (0: any).  0 or -errno (-EADDRINUSE, -EADDRNOTAVAIL, -EINVAL for a
 * host that does not resolve).
 */
int listener_add(struct listener *l, const char *host, unsigned port);

/* Listening sockets so far, and the bound port of the i-th. */
size_t listener_count(const struct listener *l);
int listener_port(const struct listener *l, size_t i);

/*
 * accept() failures so far.  Out of descriptors, accepting pauses for
 * 100 ms rather than spinning the loop.
 */
unsigned long listener_accept_errors(const struct listener *l);

/* Install (or with fn NULL remove) the HTTP/2 hook. */
void listener_set_h2(struct listener *l, listener_h2_fn fn, void *arg);

/* How long a new connection may take to send its first bytes.  10 s. */
void listener_set_sniff_timeout(struct listener *l, unsigned ms);

#endif
