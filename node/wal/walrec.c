/*
 * wal/walrec.c - WAL frames and payload codecs (see walrec.h for the
 * format and its invariants).
 *
 * Invariants:
 *  1. The reader checks, in this order: room for a header, a zero header,
 *     the header CRC, the reserved bytes and the type, the length against
 *     the bytes left, the padding, then the chained CRC; nothing is
 *     allocated on the way.
 *  2. The chain value moves only past verified records.
 */
#include "wal/walrec.h"

#include <errno.h>
#include <protobuf-c/protobuf-c.h>
#include <string.h>

#include "base/crc32c.h"
#include "base/err.h"
#include "base/mem.h"
#include "raftpb.pb-c.h"

#define SECTOR 512

static void *pb_alloc(void *data, size_t size)
{
	(void)data;
	return mem_alloc(size);
}

static void pb_free(void *data, void *p)
{
	(void)data;
	mem_free(p);
}

ProtobufCAllocator walrec_pb_allocator = {
    .alloc = pb_alloc,
    .free = pb_free,
    .allocator_data = NULL,
};

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static size_t padded(size_t len)
{
	return (len + WALREC_ALIGN - 1) & ~(size_t)(WALREC_ALIGN - 1);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != 0) {
			return false;
		}
	}
	return true;
}

void walrec_reader_init(struct walrec_reader *r, const void *p, size_t size)
{
	memset(r, 0, sizeof(*r));
	r->p = p;
	r->size = size;
}

/*
 * etcd compat (its decoder's torn-entry rule): a write interrupted by a
 * crash leaves whole sectors unwritten, i.e. zero in a preallocated file,
 * while corruption of written data rarely zeroes a whole sector.
 */
static bool has_zero_sector(const uint8_t *base, size_t start, size_t end)
{
	size_t s = start;

	while (s < end) {
		size_t next = (s / SECTOR + 1) * SECTOR;
		if (next > end) {
			next = end;
		}
		if (all_zero(base + s, next - s)) {
			return true;
		}
		s = next;
	}
	return false;
}

static int fail(struct walrec_reader *r, const char *why, bool torn)
{
	r->why = why;
	r->torn = torn;
	return -ERR_CORRUPT;
}

int walrec_next(struct walrec_reader *r, struct walrec *out)
{
	size_t left = r->size - r->offset;
	const uint8_t *h;
	uint32_t len, stored, crc;
	uint8_t type;

	if (left == 0) {
		return 0; /* before any pointer arithmetic: p may be NULL */
	}
	h = r->p + r->offset;
	if (left < WALREC_HEADER_SIZE) {
		if (all_zero(h, left)) {
			return 0; /* the end of a file cut inside zeros */
		}
		return fail(r, "frame header cut short by the end of the file",
			    true);
	}
	if (all_zero(h, WALREC_HEADER_SIZE)) {
		if (all_zero(h, left)) {
			return 0;
		}
		return fail(r, "a zero frame header is followed by data", true);
	}
	/* A header is never torn (walrec.h, 2): a bad one is damage, and its
	 * length is not trusted for anything, not even "cut short". */
	if (get_le32(h + 12) != crc32c(h, 12)) {
		return fail(r, "frame header CRC mismatch", false);
	}
	len = get_le32(h);
	type = h[4];
	stored = get_le32(h + 8);
	if (h[5] != 0 || h[6] != 0 || h[7] != 0) {
		return fail(r, "reserved frame header bytes are not zero",
			    false);
	}
	if (type < WALREC_CRC || type > WALREC_SNAPSHOT_RESET) {
		return fail(r, "unknown record type", false);
	}
	if ((uint64_t)len > left - WALREC_HEADER_SIZE) {
		return fail(r, "record length exceeds the rest of the file",
			    true);
	}
	if (padded(len) > left - WALREC_HEADER_SIZE) {
		return fail(
		    r, "record padding cut short by the end of the file", true);
	}
	if (!all_zero(h + WALREC_HEADER_SIZE + len, padded(len) - len)) {
		return fail(r, "record padding is not zero", false);
	}
	if (!r->started) {
		if (type != WALREC_CRC || len != 4) {
			return fail(r,
				    "segment does not start with a CRC record",
				    false);
		}
		r->crc = get_le32(h + WALREC_HEADER_SIZE);
	}
	crc = crc32c_update(r->crc, h, 8);
	crc = crc32c_update(crc, h + WALREC_HEADER_SIZE, len);
	if (crc != stored) {
		return fail(r, "CRC mismatch",
			    has_zero_sector(r->p, r->offset,
					    r->offset + WALREC_HEADER_SIZE +
						padded(len)));
	}
	r->started = true;
	r->crc = crc;
	out->type = (enum walrec_type)type;
	out->payload = h + WALREC_HEADER_SIZE;
	out->len = len;
	out->offset = r->offset;
	r->offset += WALREC_HEADER_SIZE + padded(len);
	return 1;
}

int walrec_begin(struct buf *b, size_t *start)
{
	static const uint8_t zero[WALREC_HEADER_SIZE];
	size_t s = b->len;
	int r = buf_append(b, zero, sizeof(zero));

	if (r < 0) {
		return r;
	}
	*start = s;
	return 0;
}

int walrec_finish(struct buf *b, size_t start, enum walrec_type type,
		  uint32_t *crc)
{
	static const uint8_t zero[WALREC_ALIGN];
	size_t len = b->len - start - WALREC_HEADER_SIZE;
	uint8_t *h;
	uint32_t c;
	int r;

	if (len > UINT32_MAX) {
		b->len = start;
		return -ERR_INVALID;
	}
	r = buf_append(b, zero, padded(len) - len);
	if (r < 0) {
		b->len = start;
		return r;
	}
	h = b->data + start;
	put_le32(h, (uint32_t)len);
	h[4] = (uint8_t)type;
	c = crc32c_update(*crc, h, 8);
	c = crc32c_update(c, h + WALREC_HEADER_SIZE, len);
	put_le32(h + 8, c);
	put_le32(h + 12, crc32c(h, 12));
	*crc = c;
	return 0;
}

int walrec_append(struct buf *b, enum walrec_type type, const void *payload,
		  size_t len, uint32_t *crc)
{
	size_t start;
	int r;

	r = buf_reserve(b, WALREC_HEADER_SIZE + padded(len));
	if (r < 0) {
		return r;
	}
	r = walrec_begin(b, &start);
	if (r < 0) {
		return r;
	}
	r = buf_append(b, payload, len);
	if (r < 0) {
		b->len = start;
		return r;
	}
	return walrec_finish(b, start, type, crc);
}

/* Pack a protobuf-c message as one frame's payload. */
static int append_packed(struct buf *b, enum walrec_type type,
			 const ProtobufCMessage *m, uint32_t *crc)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	size_t start;
	int r;

	r = buf_reserve(b, WALREC_HEADER_SIZE + padded(n));
	if (r < 0) {
		return r;
	}
	r = walrec_begin(b, &start);
	if (r < 0) {
		return r;
	}
	protobuf_c_message_pack(m, b->data + b->len);
	b->len += n;
	b->data[b->len] = 0; /* buf keeps a NUL after the bytes */
	return walrec_finish(b, start, type, crc);
}

int walrec_encode_entry(struct buf *b, const struct raft_entry *e,
			uint32_t *crc)
{
	Raftpb__Entry m = RAFTPB__ENTRY__INIT;

	m.term = e->term;
	m.index = e->index;
	m.type = (Raftpb__EntryType)e->type;
	m.data.data = e->data;
	m.data.len = e->len;
	return append_packed(b, WALREC_ENTRY, &m.base, crc);
}

int walrec_encode_hard_state(struct buf *b, const struct raft_hard_state *hs,
			     uint32_t *crc)
{
	Raftpb__HardState m = RAFTPB__HARD_STATE__INIT;

	m.term = hs->term;
	m.vote = hs->vote;
	m.commit = hs->commit;
	return append_packed(b, WALREC_HARD_STATE, &m.base, crc);
}

int walrec_encode_snapshot(struct buf *b, const struct wal_snap_marker *mk,
			   bool reset, uint32_t *crc)
{
	Raftpb__SnapshotMetadata m = RAFTPB__SNAPSHOT_METADATA__INIT;

	m.index = mk->index;
	m.term = mk->term;
	return append_packed(b, reset ? WALREC_SNAPSHOT_RESET : WALREC_SNAPSHOT,
			     &m.base, crc);
}

int walrec_encode_metadata(struct buf *b, const struct wal_metadata *md,
			   uint32_t *crc)
{
	uint8_t p[16];

	put_le64(p, md->member_id);
	put_le64(p + 8, md->cluster_id);
	return walrec_append(b, WALREC_METADATA, p, sizeof(p), crc);
}

int walrec_encode_crc(struct buf *b, uint32_t prev, uint32_t *crc)
{
	uint8_t p[4];

	put_le32(p, prev);
	/* The CRC record chains from the value it carries (walrec.h, 1). */
	*crc = prev;
	return walrec_append(b, WALREC_CRC, p, sizeof(p), crc);
}

/* NULL from unpack means malformed input or an allocation failure; tell
 * them apart by allocating once more. */
static int unpack_failed(void)
{
	void *probe = mem_alloc(1);

	if (probe == NULL) {
		return -ENOMEM;
	}
	mem_free(probe);
	return -ERR_CORRUPT;
}

int walrec_decode_entry(const struct walrec *rec, struct raft_entry *out)
{
	Raftpb__Entry *m;
	uint8_t *data = NULL;
	int r = 0;

	if (rec->type != WALREC_ENTRY) {
		return -ERR_CORRUPT;
	}
	m = raftpb__entry__unpack(&walrec_pb_allocator, rec->len, rec->payload);
	if (m == NULL) {
		return unpack_failed();
	}
	if (m->index == 0 || (unsigned)m->type > RAFT_ENTRY_CONF_CHANGE_V2) {
		r = -ERR_CORRUPT;
	} else if (m->data.len > 0) {
		data = mem_dup(m->data.data, m->data.len);
		if (data == NULL) {
			r = -ENOMEM;
		}
	}
	if (r == 0) {
		out->term = m->term;
		out->index = m->index;
		out->type = (enum raft_entry_type)m->type;
		out->data = data;
		out->len = m->data.len;
	}
	raftpb__entry__free_unpacked(m, &walrec_pb_allocator);
	return r;
}

int walrec_decode_hard_state(const struct walrec *rec,
			     struct raft_hard_state *out)
{
	Raftpb__HardState *m;

	if (rec->type != WALREC_HARD_STATE) {
		return -ERR_CORRUPT;
	}
	m = raftpb__hard_state__unpack(&walrec_pb_allocator, rec->len,
				       rec->payload);
	if (m == NULL) {
		return unpack_failed();
	}
	out->term = m->term;
	out->vote = m->vote;
	out->commit = m->commit;
	raftpb__hard_state__free_unpacked(m, &walrec_pb_allocator);
	return 0;
}

int walrec_decode_snapshot(const struct walrec *rec,
			   struct wal_snap_marker *out)
{
	Raftpb__SnapshotMetadata *m;
	int r = 0;

	if (rec->type != WALREC_SNAPSHOT &&
	    rec->type != WALREC_SNAPSHOT_RESET) {
		return -ERR_CORRUPT;
	}
	m = raftpb__snapshot_metadata__unpack(&walrec_pb_allocator, rec->len,
					      rec->payload);
	if (m == NULL) {
		return unpack_failed();
	}
	if (m->conf_state != NULL) {
		r = -ERR_CORRUPT; /* markers never carry a configuration */
	} else {
		out->index = m->index;
		out->term = m->term;
	}
	raftpb__snapshot_metadata__free_unpacked(m, &walrec_pb_allocator);
	return r;
}

int walrec_decode_metadata(const struct walrec *rec, struct wal_metadata *out)
{
	if (rec->type != WALREC_METADATA || rec->len != 16) {
		return -ERR_CORRUPT;
	}
	out->member_id = get_le64(rec->payload);
	out->cluster_id = get_le64(rec->payload + 8);
	return 0;
}

int walrec_decode_crc(const struct walrec *rec, uint32_t *out)
{
	if (rec->type != WALREC_CRC || rec->len != 4) {
		return -ERR_CORRUPT;
	}
	*out = get_le32(rec->payload);
	return 0;
}
