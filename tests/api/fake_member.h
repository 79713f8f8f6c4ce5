/*
 * fake_member.h - an in-memory stand-in for the member (server/member.h)
 * for the tests of node/api: a sorted key map with a revision counter,
 * answering from a zero-delay loop timer (never inside member_request),
 * as the real member's contract requires.
 *
 * Test hooks:
 *  - a Range whose key starts with "hold" is never answered: it stays
 *    pending until cancelled (member_request_cancel counts it);
 *  - fake_member_fail_next() makes the next request(s) fail with an error;
 *  - fake_member_set_leader() drives what member_info() reports.
 */
#ifndef CETCD_TESTS_FAKE_MEMBER_H
#define CETCD_TESTS_FAKE_MEMBER_H

#include <stddef.h>
#include <stdint.h>

#include "server/member.h"

/*
 * member_snapshot() hands back a file of this many bytes, byte i being
 * (uint8_t)(i * 7 + i / 4096), one copy at a time.
 */
#define FAKE_SNAPSHOT_SIZE (3 * 32768 + 4096)

/* The next n requests answer err (done(arg, err, NULL)). */
void fake_member_fail_next(struct member *m, int err, int n);
void fake_member_set_leader(struct member *m, uint64_t leader);
void fake_member_set_nospace(struct member *m, bool nospace);
/* Requests cancelled so far, requests pending now, requests received. */
int fake_member_cancelled(const struct member *m);
int fake_member_pending(const struct member *m);
/* How many of those are held (a Range of a key starting with "hold"). */
int fake_member_held(struct member *m);
int fake_member_received(const struct member *m);

#endif
