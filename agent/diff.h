/*
 * diff.h - a unified-style line diff, for render --dry-run.
 *
 * The output is what `diff -u` prints (---/+++ headers, @@ hunks with
 * three lines of context, "\ No newline at end of file"), so an operator
 * reads it as usual and `patch` can apply it.  Inputs are small files
 * (env, unit, hosts): after trimming the common head and tail, the middle
 * is compared with an LCS table when it has at most DIFF_MAX_CELLS cells,
 * and shown as removed-then-added otherwise (still correct, less minimal).
 */
#ifndef CETCD_AGENT_DIFF_H
#define CETCD_AGENT_DIFF_H

#include <stddef.h>

#include "base/buf.h"

#define DIFF_MAX_CELLS (4u * 1024 * 1024)

/*
 * Append the diff from a to b to out; nothing when they are equal.
 * a_label/b_label name the sides ("/dev/null" for a missing file).
 * 0 or -ENOMEM.
 */
int diff_unified(const char *a_label, const char *a, size_t a_len,
		 const char *b_label, const char *b, size_t b_len,
		 struct buf *out);

#endif
