/*
 * watch_bench.c - Watch benchmark client (not run by make check): events
 * per second delivered to W watchers of one prefix while K concurrent
 * writers put into it, and put-to-event latency p50/p99 (from just before
 * the put is queued to the watcher's decoding of the event: each value
 * carries its send time on the monotonic clock, so client and member must
 * share a machine).
 *
 *     watch_bench HOST PORT WATCHERS SECONDS WRITERS
 *
 * One event loop; watchers are spread over streams of 100 watches and
 * connections of 10 streams, so the client decodes with protobuf-c and
 * keeps up with what a member sends.  tests/bench/watch_bench.sh starts a
 * member and runs it for 1 and 1000 watchers.
 */
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "proto/proto.h"
#include "sys/grpc_client.h"

#define PER_STREAM 100
#define STREAMS_PER_CONN 10
#define MAX_SAMPLES 2000000

struct bench {
	struct event_base *base;
	const char *host;
	int port;
	int watchers;
	int writers;
	double seconds;
	int created;
	bool measuring;
	bool done;
	uint64_t events;
	uint64_t puts;
	uint64_t *lat;
	size_t n_lat;
	uint64_t seq;
	struct grpc_client *wconn;
	int failed;
};

static struct bench B;

static void on_state(struct grpc_client *c, bool connected, int err, void *arg)
{
	(void)c;
	(void)arg;
	if (!connected && !B.done) {
		fprintf(stderr, "connection lost (%d)\n", err);
		B.failed = 1;
		event_base_loopbreak(B.base);
	}
}

static const struct grpc_client_ops conn_ops = {.on_state = on_state};

static void on_watch_msg(struct grpc_client_call *call, const uint8_t *msg,
			 size_t len, void *arg)
{
	ProtobufCMessage *m = NULL;
	Etcdserverpb__WatchResponse *r;
	uint64_t now = timeutil_mono_ns();

	(void)call;
	(void)arg;
	if (proto_unpack(&etcdserverpb__watch_response__descriptor, msg, len,
			 &m) < 0) {
		B.failed = 1;
		return;
	}
	r = (Etcdserverpb__WatchResponse *)m;
	if (r->created) {
		B.created++;
	}
	if (B.measuring) {
		B.events += r->n_events;
		for (size_t i = 0; i < r->n_events && B.n_lat < MAX_SAMPLES;
		     i++) {
			char v[32];
			size_t n = r->events[i]->kv->value.len;

			if (n >= sizeof(v)) {
				continue;
			}
			memcpy(v, r->events[i]->kv->value.data, n);
			v[n] = 0;
			B.lat[B.n_lat++] = now - strtoull(v, NULL, 10);
		}
	}
	proto_free(m);
}

static void on_watch_close(struct grpc_client_call *call, enum grpc_status st,
			   const char *message, void *arg)
{
	(void)call;
	(void)arg;
	if (!B.done) {
		fprintf(stderr, "watch stream closed: %d %s\n", st,
			message ? message : "");
		B.failed = 1;
	}
}

static const struct grpc_client_call_ops watch_ops = {
    .on_message = on_watch_msg, .on_close = on_watch_close};

static void put_next(void);

static void on_put_msg(struct grpc_client_call *call, const uint8_t *msg,
		       size_t len, void *arg)
{
	(void)call;
	(void)msg;
	(void)len;
	(void)arg;
	if (B.measuring) {
		B.puts++;
	}
}

static void on_put_close(struct grpc_client_call *call, enum grpc_status st,
			 const char *message, void *arg)
{
	(void)call;
	(void)arg;
	if (st != GRPC_STATUS_OK) {
		fprintf(stderr, "put failed: %d %s\n", st,
			message ? message : "");
	}
	if (!B.done) {
		put_next();
	}
}

static const struct grpc_client_call_ops put_ops = {
    .on_message = on_put_msg, .on_close = on_put_close};

static void put_next(void)
{
	Etcdserverpb__PutRequest req = ETCDSERVERPB__PUT_REQUEST__INIT;
	struct grpc_client_call *call;
	char key[32], val[32];
	uint8_t buf[128];
	size_t n;

	snprintf(key, sizeof(key), "b/%" PRIu64, B.seq++ % 100);
	snprintf(val, sizeof(val), "%" PRIu64, timeutil_mono_ns());
	req.key.data = (uint8_t *)key;
	req.key.len = strlen(key);
	req.value.data = (uint8_t *)val;
	req.value.len = strlen(val);
	n = protobuf_c_message_pack(&req.base, buf);
	call = grpc_client_start(B.wconn, "/etcdserverpb.KV/Put", NULL,
				 &put_ops, NULL);
	if (!call) {
		B.failed = 1;
		event_base_loopbreak(B.base);
		return;
	}
	grpc_client_send(call, buf, n);
	grpc_client_close_send(call);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	B.measuring = false;
	B.done = true;
	event_base_loopbreak(B.base);
}

static void on_check(evutil_socket_t fd, short what, void *arg)
{
	struct event *self = arg;
	struct timeval tv = {0, 10000};

	(void)fd;
	(void)what;
	if (B.created < B.watchers) {
		event_add(self, &tv);
		return;
	}
	/* Every watch is created: start the writers and the clock. */
	B.measuring = true;
	for (int i = 0; i < B.writers; i++) {
		put_next();
	}
	{
		struct timeval end = {(time_t)B.seconds,
				      (suseconds_t)((B.seconds -
						     (double)(time_t)B.seconds) *
						    1e6)};
		struct event *stop = evtimer_new(B.base, on_stop, NULL);

		evtimer_add(stop, &end);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n_streams, n_conns, left;
	struct grpc_client **conns;
	struct event *check;
	struct timeval tv = {0, 10000};

	if (argc != 6) {
		fprintf(stderr,
			"usage: watch_bench HOST PORT WATCHERS SECONDS "
			"WRITERS\n");
		return 2;
	}
	B.host = argv[1];
	B.port = atoi(argv[2]);
	B.watchers = atoi(argv[3]);
	B.seconds = atof(argv[4]);
	B.writers = atoi(argv[5]);
	B.lat = calloc(MAX_SAMPLES, sizeof(*B.lat));
	B.base = event_base_new();
	if (!B.lat || !B.base || B.watchers < 1) {
		return 1;
	}
	n_streams = (B.watchers + PER_STREAM - 1) / PER_STREAM;
	n_conns = (n_streams + STREAMS_PER_CONN - 1) / STREAMS_PER_CONN;
	conns = calloc((size_t)n_conns, sizeof(*conns));
	for (int i = 0; i < n_conns; i++) {
		conns[i] = grpc_client_new(B.base, NULL, B.host, B.port,
					   &conn_ops, NULL);
	}
	B.wconn = grpc_client_new(B.base, NULL, B.host, B.port, &conn_ops,
				  NULL);
	left = B.watchers;
	for (int s = 0; s < n_streams; s++) {
		struct grpc_client_call *call =
		    grpc_client_start(conns[s / STREAMS_PER_CONN],
				      "/etcdserverpb.Watch/Watch", NULL,
				      &watch_ops, NULL);

		for (int j = 0; j < PER_STREAM && left > 0; j++, left--) {
			Etcdserverpb__WatchRequest req =
			    ETCDSERVERPB__WATCH_REQUEST__INIT;
			Etcdserverpb__WatchCreateRequest cr =
			    ETCDSERVERPB__WATCH_CREATE_REQUEST__INIT;
			uint8_t buf[64];
			size_t n;

			cr.key.data = (uint8_t *)"b/";
			cr.key.len = 2;
			cr.range_end.data = (uint8_t *)"b0";
			cr.range_end.len = 2;
			req.request_union_case =
			    ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST;
			req.create_request = &cr;
			n = protobuf_c_message_pack(&req.base, buf);
			grpc_client_send(call, buf, n);
		}
	}
	check = event_new(B.base, -1, 0, on_check, NULL);
	event_assign(check, B.base, -1, 0, on_check, check);
	event_add(check, &tv);
	event_base_dispatch(B.base);
	if (B.failed) {
		return 1;
	}
	qsort(B.lat, B.n_lat, sizeof(*B.lat), cmp_u64);
	printf("watchers=%-5d writers=%d puts/s=%.0f events/s=%.0f "
	       "(%.0f per watcher) latency p50=%.2f ms p99=%.2f ms\n",
	       B.watchers, B.writers, (double)B.puts / B.seconds,
	       (double)B.events / B.seconds,
	       (double)B.events / B.seconds / B.watchers,
	       B.n_lat ? (double)B.lat[B.n_lat / 2] / 1e6 : 0.0,
	       B.n_lat ? (double)B.lat[B.n_lat * 99 / 100] / 1e6 : 0.0);
	/* Process exit releases the connections. */
	return 0;
}
