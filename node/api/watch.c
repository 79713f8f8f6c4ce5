/*
 * watch.c - etcd's Watch service on the client port: the gRPC bidi stream
 * /etcdserverpb.Watch/Watch and the gateway's POST /v3/watch, both served
 * by one hub that reads events from the member's MVCC store.
 *
 * Model (etcd's watchable_store, without its event buffers): every watcher
 * has next_rev, the first revision it has not been sent yet.  A watcher is
 * synced when next_rev is at the hub's next_rev (current revision + 1 after
 * each pump) or beyond (a future start_revision); otherwise it is unsynced
 * and catches up from the store's history.  After applied entries move the
 * revision (member_on_revision) the hub reads the new revisions once, in
 * bounded batches, and hands each synced watcher the events it matches.
 * Unsynced watchers read their own history in bounded batches, within a
 * budget per loop turn, round robin over the streams.
 *
 * Invariants:
 *  1. Loop thread only.  The hub is the member's one revision listener.
 *  2. A watcher gets every matching event of every revision >= its start
 *     exactly once and in revision order: next_rev only moves forward, past
 *     revisions that were sent (or had nothing for it); a response that
 *     could not be queued leaves next_rev where it was.
 *  3. A revision is never split across responses (mvcc_events_from returns
 *     whole revisions), except by fragment=true responses (etcd compat).
 *  4. Nothing grows without bound: a stream whose output is above
 *     WATCH_STREAM_HIGH gets no event responses (its watchers fall back to
 *     unsynced and catch up from history when it drains); only small
 *     control responses (created, canceled, progress) bypass that.  A
 *     stream that stays blocked with watchers behind for longer than the
 *     slow limit has those watchers cancelled with a reason.  A watcher
 *     behind a compaction is cancelled with compact_revision (etcd compat),
 *     never given a gap.
 *  5. Streams are freed only outside the pump (a close during the pump
 *     marks the stream dead; the pump reaps it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"
#include "api/errmap.h"
#include "api/http1.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/failpoint.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "mvcc/mvcc.h"
#include "proto/pjson.h"
#include "proto/proto.h"
#include "server/config.h"
#include "sys/loop.h"

/* Events read per batch (whole revisions: a big txn may exceed it). */
#define WATCH_BATCH_EVENTS 1000
/* Catch-up events per loop turn over all unsynced watchers. */
#define WATCH_TURN_BUDGET 20000
/* Output level above which a stream gets no event responses. */
#define WATCH_STREAM_HIGH (1u << 20)
/* etcd compat: --experimental-watch-progress-notify-interval's default. */
#define WATCH_PROGRESS_MS_DEFAULT (10u * 60 * 1000)
#define WATCH_SLOW_MS_DEFAULT (120u * 1000)
/* etcd compat: clientv3.InvalidWatchID. */
#define WATCH_INVALID_ID (-1)
/* etcd's default --max-request-bytes: the fragment size. */
#define WATCH_FRAGMENT_DEFAULT (1536u * 1024)

struct watch_stream;

struct watcher {
	struct list_node node; /* in stream->watchers */
	int64_t id;
	uint8_t *key; /* one allocation: key then end */
	size_t key_len;
	uint8_t *end;
	size_t end_len;
	bool from_key; /* range_end "\0": every key >= key */
	mvcc_rev next_rev;
	bool synced;
	bool prev_kv;
	bool fragment;
	bool noput;
	bool nodelete;
	bool progress_notify;
	bool progress_due; /* etcd's progress[id]: no events since the tick */
};

struct watch_stream {
	struct list_node node; /* in hub->streams */
	struct watch_hub *hub;
	const struct svc_method *sm;
	bool metered; /* started_total counted it, handled_total not yet */
	struct grpc_call *gcall; /* one of these two, NULL once closed */
	struct http1_req *hreq;
	struct list_node watchers;
	int64_t next_id;
	bool blocked;
	uint64_t blocked_since_ms;
	bool deferred_progress;
	bool require_leader; /* gRPC metadata hasleader: true */
	bool dead; /* sends no more */
	bool gone; /* the protocol side is released: free in the pump */
	/* The gateway's streamed body (api_jstream), and its progress. */
	struct api_jstream jin;
	const ProtobufCMessageDescriptor *http_req_desc;
	bool http_started; /* the 200 and its headers went out */
	bool http_input_done; /* the body ended or broke: read no more */
};

struct watch_hub {
	struct api *api;
	struct mvcc_store *st;
	struct list_node streams;
	mvcc_rev next_rev;
	size_t n_synced;
	bool in_pump;
	struct sys_timer *kick;	    /* more catch-up work next turn */
	struct sys_timer *progress; /* progress_notify ticks */
	struct sys_timer *slow;	    /* blocked streams: unblock, cancel */
	uint64_t progress_ms;
	uint64_t slow_ms;
	uint64_t no_leader_since_ms; /* 0: the member knows a leader */
	struct buf scratch; /* one response being assembled */
	size_t fragment_bytes;
};

/* --- helpers --- */

static uint64_t env_ms(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (!v || !*v) {
		return def;
	}
	n = strtoull(v, &end, 10);
	if (*end || n == 0) {
		return def;
	}
	return n;
}

static int key_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t n = al < bl ? al : bl;
	int c = n ? memcmp(a, b, n) : 0;

	if (c) {
		return c;
	}
	return al < bl ? -1 : al > bl;
}

static bool watcher_matches(const struct watcher *w, const struct mvcc_event *e)
{
	const struct mvcc_kv *kv = &e->kv;

	if (kv->mod_revision < w->next_rev) {
		return false;
	}
	if ((e->type == MVCC_EVENT_PUT && w->noput) ||
	    (e->type == MVCC_EVENT_DELETE && w->nodelete)) {
		return false;
	}
	if (w->end_len == 0 && !w->from_key) {
		return key_cmp(kv->key, kv->key_len, w->key, w->key_len) == 0;
	}
	if (key_cmp(kv->key, kv->key_len, w->key, w->key_len) < 0) {
		return false;
	}
	return w->from_key ||
	       key_cmp(kv->key, kv->key_len, w->end, w->end_len) < 0;
}

static void fill_header(struct watch_hub *h, Etcdserverpb__ResponseHeader *hd,
			mvcc_rev rev)
{
	struct member_info info;

	member_info(h->api->m, &info);
	hd->cluster_id = info.cluster_id;
	hd->member_id = info.id;
	hd->raft_term = info.term;
	hd->revision = rev;
}

static mvcc_rev current_rev(struct watch_hub *h)
{
	return mvcc_current_rev(h->st);
}

/* --- sending --- */

/*
 * etcd compat (go-grpc-prometheus): a stream counts as started once
 * etcd's interceptors let it through to the handler, and as handled with
 * the code it ends with: a client that goes away is Canceled (etcd's
 * ErrGRPCWatchCanceled).
 */
static void stream_meter_start(struct watch_stream *s)
{
	s->metered = true;
	services_stream_started(s->sm);
}

static void stream_meter_end(struct watch_stream *s, enum grpc_status code)
{
	if (s->metered) {
		s->metered = false;
		services_stream_handled(s->sm, code);
	}
}

static void stream_note_blocked(struct watch_stream *s)
{
	if (!s->blocked) {
		s->blocked = true;
		s->blocked_since_ms = timeutil_mono_ms();
	}
}

/*
 * Queue one response.  0: queued; 1: queued, and the stream is now above
 * its high mark; -ENOBUFS: not queued (output full); -EPIPE: the client is
 * gone; -ENOMEM.
 */
static int stream_send(struct watch_stream *s,
		       const Etcdserverpb__WatchResponse *resp)
{
	int r;

	if (s->dead) {
		return -EPIPE;
	}
	if (s->gcall) {
		size_t n = protobuf_c_message_get_packed_size(&resp->base);
		uint8_t small[256];
		uint8_t *p = n <= sizeof(small) ? small : mem_alloc(n);

		if (!p) {
			return -ENOMEM;
		}
		protobuf_c_message_pack(&resp->base, p);
		r = grpc_call_send(s->gcall, p, n);
		if (p != small) {
			mem_free(p);
		}
		if (r == -ENOBUFS) {
			stream_note_blocked(s);
			return r;
		}
		if (r < 0) {
			return r;
		}
		services_stream_sent(s->sm);
		if (grpc_call_queued(s->gcall) >= WATCH_STREAM_HIGH) {
			stream_note_blocked(s);
			return 1;
		}
		return 0;
	}
	if (s->hreq) {
		struct buf b = BUF_INIT;

		r = pjson_encode(&resp->base, &b);
		if (r >= 0) {
			r = http1_stream_result(s->hreq, (const char *)b.data,
						b.len);
		}
		buf_done(&b);
		if (r >= 0) {
			services_stream_sent(s->sm);
		}
		if (r == 1) {
			stream_note_blocked(s);
		}
		return r;
	}
	return -EPIPE;
}

static void stream_fail(struct watch_stream *s, int err);

/* A control response: sent whatever the output level (invariant 4). */
static void send_control(struct watch_stream *s,
			 const Etcdserverpb__WatchResponse *resp)
{
	int r = stream_send(s, resp);

	if (r == -ENOBUFS || r == -ENOMEM) {
		stream_fail(s, r);
	}
}

static void send_simple(struct watch_stream *s, int64_t id, bool created,
			bool canceled, mvcc_rev header_rev, mvcc_rev compact_rev,
			const char *reason)
{
	Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
	Etcdserverpb__ResponseHeader hd = ETCDSERVERPB__RESPONSE_HEADER__INIT;

	fill_header(s->hub, &hd, header_rev);
	resp.header = &hd;
	resp.watch_id = id;
	resp.created = created;
	resp.canceled = canceled;
	resp.compact_revision = compact_rev;
	if (reason) {
		resp.cancel_reason = (char *)(uintptr_t)reason;
	}
	send_control(s, &resp);
}

/* --- watchers --- */

static void watcher_free(struct watch_hub *h, struct watcher *w)
{
	if (w->synced) {
		h->n_synced--;
	}
	list_remove(&w->node);
	mem_free(w->key);
	mem_free(w);
}

static void watcher_set_synced(struct watch_hub *h, struct watcher *w, bool on)
{
	if (w->synced != on) {
		w->synced = on;
		if (on) {
			h->n_synced++;
		} else {
			h->n_synced--;
		}
	}
}

static struct watcher *stream_find(struct watch_stream *s, int64_t id)
{
	struct list_node *pos;

	list_for_each(pos, &s->watchers) {
		struct watcher *w = list_entry(pos, struct watcher, node);

		if (w->id == id) {
			return w;
		}
	}
	return NULL;
}

/* --- event batches --- */

struct batch {
	struct mvcc_events ev;
	Mvccpb__KeyValue *kv;
	Mvccpb__KeyValue *pkv;
	Mvccpb__Event *with;	/* with prev_kv where there is one */
	Mvccpb__Event *without; /* never prev_kv */
	Mvccpb__Event **sel;	/* scratch: one watcher's events */
	/*
	 * gRPC fast path: each event packed once as a WatchResponse.events
	 * field (tag, length, bytes), [0] without and [1] with prev_kv, on
	 * first use; and the packed header field for hdr_rev.
	 */
	struct buf packed[2];
	size_t *off[2]; /* n + 1 offsets into packed[i] */
	struct buf hdr;
	mvcc_rev hdr_rev;
	bool have_hdr;
};

static void batch_done(struct batch *b)
{
	mvcc_events_done(&b->ev);
	mem_free(b->kv);
	mem_free(b->pkv);
	mem_free(b->with);
	mem_free(b->without);
	mem_free(b->sel);
	for (int i = 0; i < 2; i++) {
		buf_done(&b->packed[i]);
		mem_free(b->off[i]);
	}
	buf_done(&b->hdr);
	memset(b, 0, sizeof(*b));
}

static void kv_to_pb(const struct mvcc_kv *in, Mvccpb__KeyValue *out)
{
	mvccpb__key_value__init(out);
	out->key.data = in->key;
	out->key.len = in->key_len;
	out->value.data = in->value;
	out->value.len = in->value_len;
	out->create_revision = in->create_revision;
	out->mod_revision = in->mod_revision;
	out->version = in->version;
	out->lease = in->lease;
}

static size_t varint_size(size_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static int put_varint(struct buf *o, uint64_t v)
{
	uint8_t t[10];
	size_t n = 0;

	while (v >= 0x80) {
		t[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	t[n++] = (uint8_t)v;
	return buf_append(o, t, n);
}

/* Append a length-delimited field: tag byte, length, m packed. */
static int put_msg_field(struct buf *o, uint8_t tag, const ProtobufCMessage *m)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	int r = buf_append_byte(o, tag);

	if (r >= 0) {
		r = put_varint(o, n);
	}
	if (r >= 0) {
		r = buf_reserve(o, n);
	}
	if (r >= 0) {
		protobuf_c_message_pack(m, o->data + o->len);
		o->len += n;
	}
	return r;
}

/* Pack every event of b once, with (pkv) or without prev_kv. */
static int batch_pack(struct batch *b, int pkv)
{
	size_t n = b->ev.n_evs;
	int r = 0;

	if (b->off[pkv]) {
		return 0;
	}
	b->off[pkv] = mem_calloc(n + 1, sizeof(size_t));
	if (!b->off[pkv]) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		b->off[pkv][i] = b->packed[pkv].len;
		/* WatchResponse.events: field 11, length-delimited. */
		r = put_msg_field(&b->packed[pkv], 11 << 3 | 2,
				  pkv ? &b->with[i].base : &b->without[i].base);
	}
	b->off[pkv][n] = b->packed[pkv].len;
	if (r < 0) {
		mem_free(b->off[pkv]);
		b->off[pkv] = NULL;
		buf_reset(&b->packed[pkv]);
	}
	return r;
}

/*
 * The gRPC fast path: w's response assembled from pre-packed fields
 * (header, watch_id, events: field order, as protobuf-c packs it), so a
 * batch fanned out to many watchers is packed once.
 */
static int deliver_packed(struct watch_stream *s, struct watcher *w,
			  struct batch *b, mvcc_rev header_rev,
			  struct buf *out)
{
	int pkv = w->prev_kv ? 1 : 0;
	size_t n = b->ev.n_evs;
	int r;

	if (!b->have_hdr || b->hdr_rev != header_rev) {
		Etcdserverpb__ResponseHeader hd =
		    ETCDSERVERPB__RESPONSE_HEADER__INIT;

		buf_reset(&b->hdr);
		fill_header(s->hub, &hd, header_rev);
		r = put_msg_field(&b->hdr, 1 << 3 | 2, &hd.base);
		if (r < 0) {
			return r;
		}
		b->hdr_rev = header_rev;
		b->have_hdr = true;
	}
	r = batch_pack(b, pkv);
	if (r < 0) {
		return r;
	}
	buf_reset(out);
	r = buf_append(out, b->hdr.data, b->hdr.len);
	if (r >= 0 && w->id != 0) {
		r = buf_append_byte(out, 2 << 3 | 0);
		if (r >= 0) {
			r = put_varint(out, (uint64_t)w->id);
		}
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (watcher_matches(w, &b->ev.evs[i])) {
			r = buf_append(out, b->packed[pkv].data + b->off[pkv][i],
				       b->off[pkv][i + 1] - b->off[pkv][i]);
		}
	}
	if (r < 0) {
		return r;
	}
	r = grpc_call_send(s->gcall, out->data, out->len);
	if (r == -ENOBUFS) {
		stream_note_blocked(s);
		return r;
	}
	if (r < 0) {
		return r;
	}
	services_stream_sent(s->sm);
	if (grpc_call_queued(s->gcall) >= WATCH_STREAM_HIGH) {
		stream_note_blocked(s);
	}
	return 0;
}

/* Read events from rev (at most WATCH_BATCH_EVENTS, whole revisions). */
static int batch_read(struct watch_hub *h, mvcc_rev from, bool prev_kv,
		      struct batch *b)
{
	size_t n;
	int r;

	memset(b, 0, sizeof(*b));
	r = mvcc_events_from(h->st, from, WATCH_BATCH_EVENTS, prev_kv, &b->ev);
	if (r < 0) {
		return r;
	}
	n = b->ev.n_evs;
	if (n == 0) {
		return 0;
	}
	b->kv = mem_calloc(n, sizeof(*b->kv));
	b->pkv = mem_calloc(n, sizeof(*b->pkv));
	b->with = mem_calloc(n, sizeof(*b->with));
	b->without = mem_calloc(n, sizeof(*b->without));
	b->sel = mem_calloc(n, sizeof(*b->sel));
	if (!b->kv || !b->pkv || !b->with || !b->without || !b->sel) {
		batch_done(b);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct mvcc_event *e = &b->ev.evs[i];

		kv_to_pb(&e->kv, &b->kv[i]);
		mvccpb__event__init(&b->without[i]);
		b->without[i].type = e->type == MVCC_EVENT_DELETE
					 ? MVCCPB__EVENT__EVENT_TYPE__DELETE
					 : MVCCPB__EVENT__EVENT_TYPE__PUT;
		b->without[i].kv = &b->kv[i];
		b->with[i] = b->without[i];
		if (e->has_prev_kv) {
			kv_to_pb(&e->prev_kv, &b->pkv[i]);
			b->with[i].prev_kv = &b->pkv[i];
		}
	}
	return 0;
}

/*
 * Send w's share of batch b, as one response or, for a fragment watcher
 * over the limit, as fragments (etcd compat: sendFragments).  1 when
 * sent, 0 when w matched nothing, else the send error for the first piece (the
 * caller keeps next_rev then).  A later piece failing (-ENOBUFS) fails the
 * stream: part of a revision cannot be taken back.
 */
static int deliver(struct watch_stream *s, struct watcher *w, struct batch *b,
		   mvcc_rev header_rev)
{
	Etcdserverpb__WatchResponse resp = ETCDSERVERPB__WATCH_RESPONSE__INIT;
	Etcdserverpb__ResponseHeader hd = ETCDSERVERPB__RESPONSE_HEADER__INIT;
	size_t n = 0, total, base, start;
	int r;

	for (size_t i = 0; i < b->ev.n_evs; i++) {
		if (watcher_matches(w, &b->ev.evs[i])) {
			b->sel[n++] = w->prev_kv ? &b->with[i] : &b->without[i];
		}
	}
	if (n == 0) {
		return 0;
	}
	if (s->gcall && !s->dead && !(w->fragment && n >= 2)) {
		r = deliver_packed(s, w, b, header_rev, &s->hub->scratch);
		return r < 0 ? r : 1;
	}
	fill_header(s->hub, &hd, header_rev);
	resp.header = &hd;
	resp.watch_id = w->id;
	resp.events = b->sel;
	resp.n_events = n;
	if (w->fragment && n >= 2) {
		total = protobuf_c_message_get_packed_size(&resp.base);
	} else {
		total = 0;
	}
	if (total < s->hub->fragment_bytes) {
		r = stream_send(s, &resp);
		return r < 0 ? r : 1;
	}
	resp.n_events = 0;
	resp.fragment = true;
	base = protobuf_c_message_get_packed_size(&resp.base);
	start = 0;
	while (start < n) {
		size_t end = start, size = base;
		bool first = start == 0;

		while (end < n) {
			size_t es = 0;
			size_t m = protobuf_c_message_get_packed_size(
			    &b->sel[end]->base);

			es = 1 + varint_size(m) + m;
			if (end > start && size + es >= s->hub->fragment_bytes) {
				break;
			}
			size += es;
			end++;
		}
		resp.events = b->sel + start;
		resp.n_events = end - start;
		resp.fragment = end < n;
		r = stream_send(s, &resp);
		if (r < 0) {
			if (first) {
				return r;
			}
			stream_fail(s, r);
			return 1;
		}
		start = end;
	}
	return 1;
}

/* --- the pump --- */

static void stream_free(struct watch_stream *s);
static void stream_check_progress(struct watch_stream *s);

static void cancel_compacted(struct watch_stream *s, struct watcher *w)
{
	struct watch_hub *h = s->hub;
	int64_t id = w->id;

	watcher_free(h, w);
	/* etcd compat: no header revision on the compaction cancel. */
	send_simple(s, id, false, true, 0, mvcc_compact_rev(h->st), NULL);
}

/* Synced watchers: read the new revisions once, deliver to each. */
static void pump_synced(struct watch_hub *h, mvcc_rev cur)
{
	while (h->next_rev <= cur && h->n_synced > 0) {
		bool want_pkv = false;
		struct list_node *sp, *wp, *wt;
		struct batch b;
		int r;

		list_for_each(sp, &h->streams) {
			struct watch_stream *s =
			    list_entry(sp, struct watch_stream, node);

			list_for_each(wp, &s->watchers) {
				struct watcher *w =
				    list_entry(wp, struct watcher, node);

				want_pkv |= w->synced && w->prev_kv;
			}
		}
		r = batch_read(h, h->next_rev, want_pkv, &b);
		if (r < 0) {
			/* Every synced watcher falls back to catching up. */
			log_debug("watch: reading events from %" PRId64 ": %s",
				  h->next_rev, err_str(r));
			list_for_each(sp, &h->streams) {
				struct watch_stream *s =
				    list_entry(sp, struct watch_stream, node);

				list_for_each(wp, &s->watchers) {
					watcher_set_synced(
					    h,
					    list_entry(wp, struct watcher,
						       node),
					    false);
				}
			}
			break;
		}
		list_for_each(sp, &h->streams) {
			struct watch_stream *s =
			    list_entry(sp, struct watch_stream, node);

			list_for_each_safe(wp, wt, &s->watchers)
			{
				struct watcher *w =
				    list_entry(wp, struct watcher, node);

				if (!w->synced || w->next_rev > b.ev.next_rev) {
					continue;
				}
				r = s->dead || s->blocked
					? -ENOBUFS
					: deliver(s, w, &b, b.ev.next_rev - 1);
				if (r < 0) {
					/* Invariant 4: catch up later. */
					watcher_set_synced(h, w, false);
					continue;
				}
				if (r > 0) {
					w->progress_due = false;
				}
				if (w->next_rev < b.ev.next_rev) {
					w->next_rev = b.ev.next_rev;
				}
			}
		}
		h->next_rev = b.ev.next_rev;
		batch_done(&b);
	}
	if (h->next_rev <= cur && h->n_synced == 0) {
		h->next_rev = cur + 1;
	}
}

/*
 * One catch-up batch for w.  Returns the work done (>= 1), or 0 when w
 * cannot go on now; *gone is set when w was cancelled (and freed).
 */
static size_t catch_up_one(struct watch_stream *s, struct watcher *w,
			   mvcc_rev cur, bool *gone)
{
	struct watch_hub *h = s->hub;
	struct batch b;
	size_t n;
	int r;

	if (w->next_rev >= h->next_rev) {
		watcher_set_synced(h, w, true);
		return 0;
	}
	r = batch_read(h, w->next_rev, w->prev_kv, &b);
	if (r == -ERR_COMPACTED) {
		cancel_compacted(s, w);
		*gone = true;
		return 1;
	}
	if (r < 0) {
		log_debug("watch: catching up from %" PRId64 ": %s",
			  w->next_rev, err_str(r));
		return 0;
	}
	n = b.ev.n_evs;
	/* etcd compat: a catch-up response carries the current revision
	 * once it reaches it. */
	r = deliver(s, w, &b, b.ev.next_rev > cur ? cur : b.ev.next_rev - 1);
	if (r >= 0) {
		if (r > 0) {
			w->progress_due = false;
		}
		w->next_rev = b.ev.next_rev;
		if (w->next_rev >= h->next_rev) {
			watcher_set_synced(h, w, true);
		}
	}
	batch_done(&b);
	return r >= 0 ? n + 1 : 0;
}

static void hub_pump(struct watch_hub *h)
{
	struct list_node *sp, *st, *wp, *wt;
	struct watch_stream *stopped = NULL;
	size_t budget = WATCH_TURN_BUDGET;
	mvcc_rev cur;

	if (!h->st || h->in_pump) {
		return;
	}
	h->in_pump = true;
	cur = current_rev(h);
	pump_synced(h, cur);
	list_for_each(sp, &h->streams) {
		struct watch_stream *s =
		    list_entry(sp, struct watch_stream, node);

		list_for_each_safe(wp, wt, &s->watchers)
		{
			struct watcher *w =
			    list_entry(wp, struct watcher, node);

			bool gone = false;

			while (!gone && !w->synced && !s->blocked &&
			       !s->dead && budget > 0) {
				size_t used = catch_up_one(s, w, cur, &gone);

				if (used == 0) {
					break;
				}
				budget = used >= budget ? 0 : budget - used;
			}
			if (budget == 0 && !stopped) {
				stopped = s;
			}
		}
	}
	if (stopped) {
		/* Round robin: the stream that ran out of budget goes first. */
		list_remove(&stopped->node);
		list_push_front(&h->streams, &stopped->node);
		sys_timer_start(h->kick, 0, 0);
	}
	h->in_pump = false;
	list_for_each_safe(sp, st, &h->streams) {
		struct watch_stream *s =
		    list_entry(sp, struct watch_stream, node);

		if (s->gone) {
			stream_free(s);
		} else {
			stream_check_progress(s);
		}
	}
}

static void hub_kick(struct watch_hub *h)
{
	if (h->kick && !sys_timer_is_active(h->kick)) {
		sys_timer_start(h->kick, 0, 0);
	}
}

static void on_kick(struct sys_timer *t, void *arg)
{
	(void)t;
	hub_pump(arg);
}

static void on_revision(void *arg, int64_t rev)
{
	(void)rev;
	hub_pump(arg);
}

/* --- progress --- */

/*
 * The revision every synced watcher has been sent: a progress response
 * never claims a revision whose events are still to come (the bug etcd
 * 3.5.8 fixed).
 */
static mvcc_rev synced_rev(struct watch_hub *h)
{
	return h->next_rev - 1;
}

static bool stream_all_synced(const struct watch_stream *s)
{
	struct list_node *pos;

	list_for_each(pos, &s->watchers) {
		if (!list_entry(pos, struct watcher, node)->synced) {
			return false;
		}
	}
	return true;
}

/*
 * etcd compat (3.5.8+ progressIfSync): a progress request is answered,
 * with watch_id -1 and the current revision, once every watcher of the
 * stream is synced; a stream without watchers gets nothing.
 */
static void stream_check_progress(struct watch_stream *s)
{
	if (!s->deferred_progress || s->dead) {
		return;
	}
	if (list_is_empty(&s->watchers)) {
		s->deferred_progress = false;
		return;
	}
	if (stream_all_synced(s)) {
		s->deferred_progress = false;
		send_simple(s, WATCH_INVALID_ID, false, false,
			    synced_rev(s->hub), 0, NULL);
	}
}

/* etcd compat: sendLoop's progressTicker with RequestProgress(id). */
static void on_progress_tick(struct sys_timer *t, void *arg)
{
	struct watch_hub *h = arg;
	struct list_node *sp, *wp;

	(void)t;
	list_for_each(sp, &h->streams) {
		struct watch_stream *s =
		    list_entry(sp, struct watch_stream, node);

		list_for_each(wp, &s->watchers) {
			struct watcher *w =
			    list_entry(wp, struct watcher, node);

			if (!w->progress_notify || s->dead) {
				continue;
			}
			if (w->progress_due && w->synced) {
				send_simple(s, w->id, false, false,
					    synced_rev(h), 0, NULL);
			}
			w->progress_due = true;
		}
	}
}

static uint64_t election_ms(const struct watch_hub *h)
{
	return h->api->cfg && h->api->cfg->election_ms
		   ? h->api->cfg->election_ms
		   : 1000;
}

/*
 * Unblock drained streams; cancel watchers stuck too long (invariant 4);
 * end hasleader streams while the member knows no leader.
 */
static void on_slow_tick(struct sys_timer *t, void *arg)
{
	struct watch_hub *h = arg;
	uint64_t now = timeutil_mono_ms();
	struct list_node *sp, *wp, *wt;
	struct member_info info;
	bool kick = false;

	(void)t;
	member_info(h->api->m, &info);
	if (info.leader != 0) {
		h->no_leader_since_ms = 0;
	} else if (h->no_leader_since_ms == 0) {
		h->no_leader_since_ms = now;
	}
	list_for_each(sp, &h->streams) {
		struct watch_stream *s =
		    list_entry(sp, struct watch_stream, node);
		char reason[160];

		/*
		 * etcd compat: v3rpc's monitorLeader ends WithRequireLeader
		 * streams after three election timeouts without a leader.
		 */
		if (s->require_leader && !s->dead && h->no_leader_since_ms &&
		    now - h->no_leader_since_ms >= 3 * election_ms(h)) {
			stream_fail(s, -ERR_NO_LEADER);
			continue;
		}
		if (!s->blocked || s->dead) {
			continue;
		}
		if (s->gcall && grpc_call_queued(s->gcall) < WATCH_STREAM_HIGH) {
			s->blocked = false;
			kick = true;
			continue;
		}
		if (now - s->blocked_since_ms < h->slow_ms) {
			continue;
		}
		snprintf(reason, sizeof(reason),
			 "cetcd: watcher is too slow: its client read nothing "
			 "for %" PRIu64 " ms while events were waiting",
			 now - s->blocked_since_ms);
		list_for_each_safe(wp, wt, &s->watchers)
		{
			struct watcher *w =
			    list_entry(wp, struct watcher, node);
			int64_t id = w->id;

			if (w->synced) {
				continue;
			}
			watcher_free(h, w);
			send_simple(s, id, false, true, current_rev(h), 0,
				    reason);
		}
	}
	if (kick) {
		hub_pump(h);
	}
}

/* --- requests --- */

static void stream_create(struct watch_stream *s,
			  const Etcdserverpb__WatchCreateRequest *cr)
{
	struct watch_hub *h = s->hub;
	const uint8_t *key = cr->key.data, *end = cr->range_end.data;
	size_t key_len = cr->key.len, end_len = cr->range_end.len;
	mvcc_rev cur = current_rev(h);
	mvcc_rev start = cr->start_revision;
	static const uint8_t zero = 0;
	bool from_key = false;
	struct watcher *w;
	int64_t id;

	/* etcd compat: v3rpc's recvLoop normalisation. */
	if (key_len == 0) {
		key = &zero;
		key_len = 1;
	}
	if (end_len == 1 && end[0] == 0) {
		from_key = true;
		end_len = 0;
	}
	if (end_len != 0 && key_cmp(key, key_len, end, end_len) >= 0) {
		send_simple(s, WATCH_INVALID_ID, true, true, cur, 0,
			    "mvcc: watcher range is empty");
		return;
	}
	if (cr->watch_id != 0) {
		if (stream_find(s, cr->watch_id)) {
			send_simple(
			    s, WATCH_INVALID_ID, true, true, cur, 0,
			    "mvcc: duplicate watch ID provided on the "
			    "WatchStream");
			return;
		}
		id = cr->watch_id;
	} else {
		while (stream_find(s, s->next_id)) {
			s->next_id++;
		}
		id = s->next_id++;
	}
	w = mem_calloc(1, sizeof(*w));
	if (w) {
		w->key = mem_alloc(key_len + end_len + 1);
	}
	if (!w || !w->key) {
		mem_free(w);
		send_simple(s, WATCH_INVALID_ID, true, true, cur, 0,
			    errmap_lookup(-ENOMEM)->message);
		return;
	}
	memcpy(w->key, key, key_len);
	w->key_len = key_len;
	w->end = w->key + key_len;
	if (end_len) {
		memcpy(w->end, end, end_len);
	}
	w->end_len = end_len;
	w->from_key = from_key;
	w->id = id;
	w->prev_kv = cr->prev_kv;
	w->fragment = cr->fragment;
	w->progress_notify = cr->progress_notify;
	for (size_t i = 0; i < cr->n_filters; i++) {
		if (cr->filters[i] ==
		    ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NOPUT) {
			w->noput = true;
		} else if (cr->filters[i] ==
			   ETCDSERVERPB__WATCH_CREATE_REQUEST__FILTER_TYPE__NODELETE) {
			w->nodelete = true;
		}
	}
	/* etcd compat: 0 (and, as 3.5.13 reads it, < 0) is "from now". */
	if (start <= 0 || start > cur) {
		w->next_rev = start > cur + 1 ? start : cur + 1;
	} else {
		/* The planted bug watch-skip-resume: a start in the past loses
		 * its first revision (tests/faults must catch it). */
		w->next_rev = start + FAILPOINT_BUG("watch-skip-resume");
	}
	/* The hub has dispatched everything up to cur before w joins. */
	if (h->next_rev <= cur) {
		hub_pump(h);
	}
	list_init(&w->node);
	list_push_back(&s->watchers, &w->node);
	watcher_set_synced(h, w, w->next_rev >= h->next_rev);
	send_simple(s, id, true, false, cur, 0, NULL);
	if (!w->synced) {
		hub_kick(h);
	}
}

static void stream_cancel(struct watch_stream *s, int64_t id)
{
	struct watcher *w = stream_find(s, id);

	/* etcd compat: an unknown id gets no answer. */
	if (!w) {
		return;
	}
	watcher_free(s->hub, w);
	send_simple(s, id, false, true, current_rev(s->hub), 0, NULL);
	stream_check_progress(s);
}

static void stream_request(struct watch_stream *s,
			   const Etcdserverpb__WatchRequest *req)
{
	switch (req->request_union_case) {
	case ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CREATE_REQUEST:
		stream_create(s, req->create_request);
		break;
	case ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_CANCEL_REQUEST:
		stream_cancel(s, req->cancel_request->watch_id);
		break;
	case ETCDSERVERPB__WATCH_REQUEST__REQUEST_UNION_PROGRESS_REQUEST:
		s->deferred_progress = true;
		stream_check_progress(s);
		break;
	default:
		/* etcd compat: an empty request is ignored. */
		break;
	}
}

/* --- streams --- */

static struct watch_stream *stream_new(struct watch_hub *h,
				       const struct svc_method *sm)
{
	struct watch_stream *s = mem_calloc(1, sizeof(*s));

	if (!s) {
		return NULL;
	}
	s->hub = h;
	s->sm = sm;
	list_init(&s->watchers);
	list_init(&s->node);
	api_jstream_init(&s->jin);
	list_push_back(&h->streams, &s->node);
	return s;
}

static void stream_free(struct watch_stream *s)
{
	while (!list_is_empty(&s->watchers)) {
		watcher_free(s->hub, list_entry(list_first(&s->watchers),
						struct watcher, node));
	}
	list_remove(&s->node);
	api_jstream_done(&s->jin);
	mem_free(s);
}

/* The protocol side is gone: the pump frees the stream (inv. 5). */
static void stream_release(struct watch_stream *s)
{
	stream_meter_end(s, GRPC_STATUS_CANCELLED);
	s->gcall = NULL;
	s->hreq = NULL;
	s->dead = true;
	s->gone = true;
	hub_kick(s->hub);
}

/* End the stream from the member's side (output full, out of memory). */
static void stream_fail(struct watch_stream *s, int err)
{
	const struct errmap_entry *e = errmap_lookup(err);

	if (s->dead) {
		return;
	}
	s->dead = true;
	stream_meter_end(s, e->code);
	if (s->gcall) {
		/* on_close follows from the loop and frees the stream. */
		grpc_call_finish(s->gcall, e->code, e->message);
	} else if (s->hreq) {
		struct http1_req *req = s->hreq;

		http1_stream_error(req, err);
		http1_stream_end(req);
		stream_release(s);
	}
}

/* --- gRPC --- */

static void grpc_on_message(struct grpc_call *call, const uint8_t *msg,
			    size_t len, void *arg)
{
	struct svc_method *sm = arg;
	struct watch_hub *h = sm->api->watch;
	struct watch_stream *s = grpc_call_data(call);
	ProtobufCMessage *req = NULL;
	int r;

	if (!s) {
		if (!h || !h->st) {
			grpc_call_finish(call, GRPC_STATUS_UNAVAILABLE,
					 "etcdserver: watch is not available");
			return;
		}
		s = stream_new(h, sm);
		if (!s) {
			grpc_call_finish(call, GRPC_STATUS_RESOURCE_EXHAUSTED,
					 errmap_lookup(-ENOMEM)->message);
			return;
		}
		s->gcall = call;
		grpc_call_set_data(call, s);
		{
			const char *hl = grpc_call_header(call, "hasleader");
			struct member_info info;

			s->require_leader = hl && strcmp(hl, "true") == 0;
			member_info(h->api->m, &info);
			if (s->require_leader && info.leader == 0) {
				/* etcd compat: refused at once, by an
				 * interceptor that go-grpc-prometheus'
				 * does not see. */
				stream_fail(s, -ERR_NO_LEADER);
				return;
			}
		}
		stream_meter_start(s);
	}
	if (s->dead) {
		return;
	}
	r = proto_unpack(sm->req, msg, len, &req);
	if (r < 0) {
		/* etcd compat: grpc-go ends the stream on a bad message. */
		s->dead = true;
		stream_meter_end(s, GRPC_STATUS_INTERNAL);
		grpc_call_finish(call, GRPC_STATUS_INTERNAL,
				 "grpc: error unmarshalling request: proto: "
				 "cannot parse invalid wire-format data");
		return;
	}
	services_stream_received(sm);
	stream_request(s, (const Etcdserverpb__WatchRequest *)req);
	proto_free(req);
}

static void grpc_on_writable(struct grpc_call *call, void *arg)
{
	struct watch_stream *s = grpc_call_data(call);

	(void)arg;
	if (s && s->blocked && grpc_call_queued(call) < WATCH_STREAM_HIGH) {
		s->blocked = false;
		hub_kick(s->hub);
	}
}

static void grpc_on_close(struct grpc_call *call, void *arg)
{
	struct watch_stream *s = grpc_call_data(call);

	(void)arg;
	grpc_call_set_data(call, NULL);
	if (s) {
		stream_release(s);
	}
}

void watch_grpc_method(struct svc_method *sm, struct grpc_method *gm)
{
	gm->path = sm->grpc_path;
	gm->kind = GRPC_BIDI;
	gm->on_message = grpc_on_message;
	gm->on_half_close = NULL; /* etcd compat: the stream stays open */
	gm->on_writable = grpc_on_writable;
	gm->on_close = grpc_on_close;
	gm->arg = sm;
}

/* --- the JSON gateway --- */

static void http_on_close(struct http1_req *req, void *arg)
{
	struct watch_stream *s = arg;

	s->hreq = NULL;
	http1_stream_end(req);
	stream_release(s);
}

static void http_on_drain(struct http1_req *req, void *arg)
{
	struct watch_stream *s = arg;

	(void)req;
	if (s->blocked) {
		s->blocked = false;
		hub_kick(s->hub);
	}
}

/* The first request decides the answer (etcd compat: the gateway starts
 * the reply only after it forwarded the first message). */
static int http_start(struct watch_stream *s)
{
	/* etcd compat: the gateway's headers on every gRPC-backed reply. */
	int r = http1_req_add_header(s->hreq, "Grpc-Metadata-Content-Type",
				     "application/grpc");

	if (r >= 0) {
		r = http1_stream_start(s->hreq, "application/json");
	}
	if (r >= 0) {
		s->http_started = true;
	}
	return r;
}

/*
 * A piece of the request body: every complete request in it goes to the
 * stream as it arrives.  etcd compat: a message the gateway cannot decode
 * before the reply started is answered with its decoder's error (gRPC
 * Unknown, HTTP 500); later, or a body cut off in a message, it stops
 * reading the body and the stream goes on without more requests, as the
 * gateway's send loop ends and etcd's watch server ignores the half-close.
 */
static void http_on_body(struct http1_req *req, const uint8_t *data,
			 size_t len, bool end, void *arg)
{
	struct watch_stream *s = arg;
	char err[PJSON_ERR_SIZE];
	int r;

	if (s->http_input_done || s->dead) {
		return;
	}
	r = api_jstream_push(&s->jin, data, len);
	while (r >= 0 && !s->dead) {
		ProtobufCMessage *msg = NULL;

		r = api_jstream_next(&s->jin, s->http_req_desc, end,
				     &msg, err, sizeof(err));
		if (r <= 0) {
			break;
		}
		if (!s->http_started && (r = http_start(s)) < 0) {
			proto_free(msg);
			break;
		}
		services_stream_received(s->sm);
		stream_request(s, (const Etcdserverpb__WatchRequest *)msg);
		proto_free(msg);
	}
	if (s->dead) {
		return;
	}
	if (r < 0 && !s->http_started) {
		s->http_input_done = true;
		s->hreq = NULL;
		if (r == -ERR_PARSE || r == -ERR_INVALID) {
			http1_reply_error_msg(req, GRPC_STATUS_UNKNOWN, err);
		} else {
			http1_reply_error(req, r);
		}
		stream_release(s);
		return;
	}
	if (r < 0 || end) {
		s->http_input_done = true;
		api_jstream_done(&s->jin);
	}
	if (end && !s->http_started && http_start(s) < 0) {
		s->hreq = NULL;
		http1_reply_error(req, -ENOMEM);
		stream_release(s);
	}
}

void watch_http_handle(struct http1_req *req, void *ctx)
{
	struct svc_method *sm = ctx;
	struct watch_hub *h = sm->api->watch;
	struct watch_stream *s;

	if (!h || !h->st) {
		http1_reply_error_msg(req, GRPC_STATUS_UNAVAILABLE,
				      "etcdserver: watch is not available");
		return;
	}
	s = stream_new(h, sm);
	if (!s) {
		http1_reply_error(req, -ENOMEM);
		return;
	}
	stream_meter_start(s);
	s->hreq = req;
	s->http_req_desc = sm->req;
	http1_req_on_close(req, http_on_close, s);
	http1_req_on_drain(req, http_on_drain, s);
	http1_req_on_body(req, http_on_body, s);
}

/* --- the hub --- */

int watch_init(struct api *a)
{
	struct watch_hub *h = mem_calloc(1, sizeof(*h));
	int r;

	if (!h) {
		return -ENOMEM;
	}
	h->api = a;
	list_init(&h->streams);
	h->st = member_store(a->m);
	/* etcd compat: the flag counts when positive (below 1 ms: unset);
	 * the variable, for tests, overrides it. */
	h->progress_ms = a->cfg ? a->cfg->watch_progress_notify_ns / NSEC_PER_MSEC
				: 0;
	if (h->progress_ms == 0) {
		h->progress_ms = WATCH_PROGRESS_MS_DEFAULT;
	}
	h->progress_ms =
	    env_ms("CETCD_WATCH_PROGRESS_NOTIFY_INTERVAL_MS", h->progress_ms);
	h->slow_ms = env_ms("CETCD_WATCH_SLOW_CANCEL_MS", WATCH_SLOW_MS_DEFAULT);
	h->fragment_bytes = a->cfg && a->cfg->max_request_bytes
				? a->cfg->max_request_bytes
				: WATCH_FRAGMENT_DEFAULT;
	a->watch = h;
	if (!h->st) {
		return 0; /* a member without a store: Watch answers UNAVAILABLE */
	}
	h->next_rev = mvcc_current_rev(h->st) + 1;
	r = sys_timer_new(a->loop, on_kick, h, &h->kick);
	if (r >= 0) {
		r = sys_timer_new(a->loop, on_progress_tick, h, &h->progress);
	}
	if (r >= 0) {
		r = sys_timer_new(a->loop, on_slow_tick, h, &h->slow);
	}
	if (r >= 0) {
		r = sys_timer_start(h->progress, h->progress_ms,
				    h->progress_ms);
	}
	if (r >= 0) {
		uint64_t p = h->slow_ms / 4;

		r = sys_timer_start(h->slow, p < 1000 ? p : 1000,
				    p < 1000 ? p : 1000);
	}
	if (r < 0) {
		watch_done(a);
		return r;
	}
	member_on_revision(a->m, on_revision, h);
	return 0;
}

void watch_done(struct api *a)
{
	struct watch_hub *h = a->watch;

	if (!h) {
		return;
	}
	if (h->st) {
		member_on_revision(a->m, NULL, NULL);
	}
	/* Streams are gone with their connections (api_free's order). */
	while (!list_is_empty(&h->streams)) {
		stream_free(list_entry(list_first(&h->streams),
				       struct watch_stream, node));
	}
	sys_timer_free(h->kick);
	sys_timer_free(h->progress);
	sys_timer_free(h->slow);
	buf_done(&h->scratch);
	mem_free(h);
	a->watch = NULL;
}
