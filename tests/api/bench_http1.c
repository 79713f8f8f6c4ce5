/*
 * bench_http1.c - a bare HTTP/1.1 server on the client-port transport for
 * load tools (wrk): measures the transport alone, without the member.
 *
 *   make (builds it with everything else)
 *   tests/api/bench_http1 127.0.0.1 23790 &
 *   wrk -t1 -c16 -d5s http://127.0.0.1:23790/health
 *
 * Routes: GET /health answers at once; POST /v3/kv/range echoes the body.
 * Runs until SIGINT or SIGTERM.  Not part of make check.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/http1.h"
#include "api/listener.h"

static void health(struct http1_req *req, void *ctx)
{
	(void)ctx;
	http1_reply(req, 200, "application/json",
		    "{\"health\":\"true\",\"reason\":\"\"}", 29);
}

static void echo(struct http1_req *req, void *ctx)
{
	size_t len;
	const uint8_t *body = http1_req_body(req, &len);

	(void)ctx;
	http1_reply(req, 200, "application/json", body, len);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct event_base *base = event_base_new();
	struct http1_server *http = NULL;
	struct listener *lis = NULL;
	struct event *sint, *sterm;
	int r;

	if (argc != 3 || base == NULL) {
		fprintf(stderr, "usage: %s ADDR PORT\n", argv[0]);
		return 2;
	}
	if (http1_server_new(base, NULL, &http) < 0 ||
	    http1_route_add(http, "GET", "/health", health, NULL) < 0 ||
	    http1_route_add(http, "POST", "/v3/kv/range", echo, NULL) < 0 ||
	    listener_new(base, http, &lis) < 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	r = listener_add(lis, argv[1], (unsigned)atoi(argv[2]));
	if (r < 0) {
		fprintf(stderr, "listen %s:%s: error %d\n", argv[1], argv[2],
			r);
		return 1;
	}
	sint = evsignal_new(base, SIGINT, on_signal, base);
	sterm = evsignal_new(base, SIGTERM, on_signal, base);
	event_add(sint, NULL);
	event_add(sterm, NULL);
	event_base_dispatch(base);
	event_free(sint);
	event_free(sterm);
	listener_free(lis);
	http1_server_free(http);
	event_base_free(base);
	return 0;
}
