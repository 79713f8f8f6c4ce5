/*
 * wal/walrec.h - the record framing of WAL segments and the payload codecs,
 * free of I/O so that the decoder can be fuzzed on plain buffers.
 *
 * A frame is a 16-byte header, the payload, and zero padding to a multiple
 * of 8 bytes:
 *
 *     0  u32 le  payload length in bytes (without padding)
 *     4  u8      record type (enum walrec_type; 0 is never written)
 *     5  3 bytes zero
 *     8  u32 le  chained CRC-32C: crc32c_update(previous record's CRC,
 *                header bytes 0..7, then the payload)
 *    12  u32 le  CRC-32C of header bytes 0..11, so that a damaged length
 *                is told from a record cut short by a crash
 *
 * Invariants:
 *  1. Every segment starts with a WALREC_CRC record whose payload is the
 *     chain value the previous segment ended with (0 for the first), so the
 *     chain runs unbroken across segments and one segment can be verified
 *     on its own.
 *  2. Frames start at multiples of 8, so a header (16 bytes) never straddles
 *     a 512-byte sector: a torn write leaves a header either whole or zero.
 *  3. A zero header (16 zero bytes) marks the end of the written part of a
 *     preallocated segment; type 0 never appears in a real record.
 *  4. The reader never allocates from a length it read: a length is checked
 *     against the bytes that remain before anything else is done with it.
 *
 * Payloads: entries, hard states and snapshot markers (both kinds) are the
 * protobuf-c
 * messages of node/proto/raftpb.proto (Entry, HardState, SnapshotMetadata
 * without conf state); the CRC record is a u32 le and metadata is two u64 le
 * (member id, cluster id), since raftpb has no message for them.
 */
#ifndef CETCD_WAL_WALREC_H
#define CETCD_WAL_WALREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "raft/types.h"

#define WALREC_HEADER_SIZE 16
#define WALREC_ALIGN 8

enum walrec_type {
	WALREC_CRC = 1,
	WALREC_METADATA = 2,
	WALREC_ENTRY = 3,
	WALREC_HARD_STATE = 4,
	WALREC_SNAPSHOT = 5,
	/* A snapshot from the leader replaced the whole log: the entries
	 * above its index written before it are void. */
	WALREC_SNAPSHOT_RESET = 6,
};

/* What a WAL belongs to (written at the start of every segment). */
struct wal_metadata {
	raft_id member_id;
	uint64_t cluster_id;
};

/* A snapshot marker: the WAL holds the entries after (index, term). */
struct wal_snap_marker {
	raft_index index;
	raft_term term;
};

struct walrec {
	enum walrec_type type;
	const uint8_t *payload; /* borrowed from the reader's buffer */
	size_t len;
	uint64_t offset; /* of the frame in the buffer */
};

/*
 * A reader over one segment's bytes.  After walrec_next() fails, offset is
 * where the bad frame starts, why says what is wrong, and torn tells whether
 * the damage looks like an interrupted write (a frame cut short by the end of
 * the buffer, a header of zeros followed by data, or a CRC mismatch in a
 * frame with a 512-byte sector of zeros) rather than corruption of written
 * data.
 */
struct walrec_reader {
	const uint8_t *p;
	size_t size;
	size_t offset;
	uint32_t crc; /* chain value after the last good record */
	bool started; /* the CRC record has been read */
	const char *why;
	bool torn;
};

void walrec_reader_init(struct walrec_reader *r, const void *p, size_t size);
/*
 * 1 and *out set: a verified record; 0: the clean end (end of buffer, or a
 * zero header with only zeros after it); -ERR_CORRUPT: see the struct.
 */
int walrec_next(struct walrec_reader *r, struct walrec *out);

/*
 * Append a frame to b, chaining *crc.  walrec_begin reserves the header and
 * returns its offset; the caller appends the payload; walrec_finish fills
 * the header and pads.  0 or -ENOMEM (b unchanged on failure of
 * walrec_append; after a failed payload append, truncate b to the offset).
 */
int walrec_begin(struct buf *b, size_t *start);
int walrec_finish(struct buf *b, size_t start, enum walrec_type type,
		  uint32_t *crc);
int walrec_append(struct buf *b, enum walrec_type type, const void *payload,
		  size_t len, uint32_t *crc);

int walrec_encode_entry(struct buf *b, const struct raft_entry *e,
			uint32_t *crc);
int walrec_encode_hard_state(struct buf *b, const struct raft_hard_state *hs,
			     uint32_t *crc);
/* reset: a WALREC_SNAPSHOT_RESET record rather than WALREC_SNAPSHOT. */
int walrec_encode_snapshot(struct buf *b, const struct wal_snap_marker *m,
			   bool reset, uint32_t *crc);
int walrec_encode_metadata(struct buf *b, const struct wal_metadata *md,
			   uint32_t *crc);
int walrec_encode_crc(struct buf *b, uint32_t prev, uint32_t *crc);

/*
 * Payload decoders: 0, -ERR_CORRUPT for a payload that does not parse or
 * holds impossible values, -ENOMEM.  The entry's data is a new allocation
 * the caller owns (NULL when empty).
 */
int walrec_decode_entry(const struct walrec *rec, struct raft_entry *out);
int walrec_decode_hard_state(const struct walrec *rec,
			     struct raft_hard_state *out);
int walrec_decode_snapshot(const struct walrec *rec,
			   struct wal_snap_marker *out);
int walrec_decode_metadata(const struct walrec *rec, struct wal_metadata *out);
int walrec_decode_crc(const struct walrec *rec, uint32_t *out);

/* protobuf-c allocations through mem_alloc (so tests can fail them). */
struct ProtobufCAllocator;
extern struct ProtobufCAllocator walrec_pb_allocator;

#endif
