/*
 * apitest.h - a test server on its own event_base and a small HTTP/1.1
 * client over raw sockets, for the tests of node/api.
 *
 * Single-threaded: the client's waits run the server's loop in short
 * slices (apitest_pump) until what they wait for has arrived, so the test
 * controls when handlers run and when held requests are answered.
 */
#ifndef CETCD_TESTS_APITEST_H
#define CETCD_TESTS_APITEST_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/http1.h"
#include "api/listener.h"
#include "base/buf.h"

#define APITEST_MAX_HELD 64
#define APITEST_MAX_RESP 128

struct apitest_srv {
	struct event_base *base;
	struct http1_server *http;
	struct listener *lis;
	char addr[32];
	int port;
	/* Requests the "hold" and "stream" routes keep, in arrival order. */
	struct http1_req *held[APITEST_MAX_HELD];
	int n_held;
	int n_gone;  /* close callbacks seen */
	int n_calls; /* handler calls of every route */
	int n_big;   /* calls of GET /big */
	int n_pieces; /* body pieces the streamed-body route got */
	size_t big_size;
	/* HTTP/2 hook. */
	int h2_fd;
	struct buf h2_pre;
};

/* Start on a fresh loopback address with limits (NULL: defaults) and the
 * test routes (see apitest.c). */
void apitest_srv_start(struct apitest_srv *s, const struct http1_limits *lim);
void apitest_srv_stop(struct apitest_srv *s);
/* Install the test's HTTP/2 hook (records h2_fd and h2_pre). */
void apitest_install_h2(struct apitest_srv *s);
/* Run the loop for about ms milliseconds. */
void apitest_pump(struct apitest_srv *s, int ms);

struct apitest_resp {
	int status;
	struct buf headers; /* "Name: value\n" lines */
	struct buf body;    /* de-chunked */
	bool complete;
};

struct apitest_client {
	int fd;
	http_parser parser;
	http_parser_settings settings;
	struct buf raw; /* every byte received */
	struct apitest_resp resp[APITEST_MAX_RESP];
	int n_resp; /* started */
	int n_complete;
	bool head_next[APITEST_MAX_RESP]; /* responses to HEAD have no body */
	bool eof;
	bool parse_error;
	int hdr_state;
};

/* Connect (rcvbuf > 0 sets SO_RCVBUF first). */
void apitest_connect(struct apitest_client *c, struct apitest_srv *s,
		     int rcvbuf);
void apitest_close(struct apitest_client *c);
void apitest_send(struct apitest_client *c, const char *data, size_t len);
void apitest_send_str(struct apitest_client *c, const char *s);
/* Read what is there now (non-blocking); false when nothing was read. */
bool apitest_read_some(struct apitest_client *c);
/* Pump and read until n responses are complete (or EOF, or 5 s). */
bool apitest_wait_responses(struct apitest_client *c, struct apitest_srv *s,
			    int n);
/* Pump and read until EOF (or 5 s). */
bool apitest_wait_eof(struct apitest_client *c, struct apitest_srv *s);
/* Pump and read until the raw bytes contain needle (or 5 s). */
bool apitest_wait_raw(struct apitest_client *c, struct apitest_srv *s,
		      const char *needle);
/* The value of header name in response i ("" when absent; static). */
const char *apitest_header(struct apitest_client *c, int i, const char *name);

#endif
