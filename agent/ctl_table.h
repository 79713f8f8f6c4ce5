/*
 * ctl_table.h - etcdctl's output tables and sizes, byte for byte.
 *
 * etcd compat: etcdctl renders `-w table` with olekukonko/tablewriter set to
 * right-aligned cells, centred upper-case headers, and cells wrapped at 30
 * columns on spaces with minimal raggedness; DB SIZE is go-humanize's
 * Bytes().  Operators' scripts and eyes depend on that layout, so this
 * module reproduces it exactly (scenario.md shows the tables).
 *
 * Widths count UTF-8 code points, which equals tablewriter's display width
 * for the ASCII that etcdctl's tables hold.
 */
#ifndef CETCD_AGENT_CTL_TABLE_H
#define CETCD_AGENT_CTL_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

struct ctl_table;

/* headers as etcdctl passes them ("endpoint", "raft term"); copied. */
struct ctl_table *ctl_table_new(const char *const *headers, size_t n_cols);
void ctl_table_free(struct ctl_table *t);
/* Append a row of n_cols cells (NULL counts as ""); copied. 0 or -ENOMEM. */
int ctl_table_add_row(struct ctl_table *t, const char *const *cells);
/* Render the whole table, borders included, into out. 0 or -ENOMEM. */
int ctl_table_render(const struct ctl_table *t, struct buf *out);

/* go-humanize Bytes(): "20 kB", "2.1 GB", "9 B". */
void ctl_humanize_bytes(uint64_t n, char *out, size_t size);

#endif
