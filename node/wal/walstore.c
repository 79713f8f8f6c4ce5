/*
 * wal/walstore.c - Raft storage on the WAL and snapshot files (walstore.h).
 *
 * Invariants (beyond walstore.h's):
 *  1. ws->snap is the marker of the latest snapshot that is durable as
 *     both file and WAL marker; wal_release never goes past it.
 *  2. The in-memory storage is changed only after the disk write it
 *     mirrors succeeded; if the memory update then fails (-ENOMEM), memory
 *     and disk differ and the error is returned for the caller to stop.
 */
#include "wal/walstore.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "wal/snapfile.h"

struct walstore {
	char *snap_dir;
	struct wal *wal;
	struct raft_mem_storage *ms;
	struct wal_snap_marker snap;
};

void walstore_close(struct walstore *ws)
{
	if (ws == NULL) {
		return;
	}
	wal_close(ws->wal);
	raft_mem_storage_free(ws->ms);
	mem_free(ws->snap_dir);
	mem_free(ws);
}

static void copy_wal_report(struct walstore_report *rep,
			    const struct wal_report *wr)
{
	if (rep == NULL) {
		return;
	}
	snprintf(rep->msg, sizeof(rep->msg), "%s", wr->msg);
	/* A repair made by an earlier attempt of load() is kept. */
	if (wr->repaired) {
		rep->repaired = true;
		snprintf(rep->repaired_file, sizeof(rep->repaired_file), "%s",
			 wr->repaired_file);
		rep->repaired_offset = wr->repaired_offset;
	}
}

/*
 * Load the newest snapshot file whose marker is in the WAL and read the
 * WAL from it (walstore.h invariant 2).
 */
static int load(struct walstore *ws, const struct wal_options *wo,
		struct raft_snapshot *snap, struct wal_read *rd,
		struct walstore_report *rep)
{
	raft_index max = UINT64_MAX;
	struct snapfile_report srep;
	struct wal_report wrep;
	int r;

	for (;;) {
		struct wal_snap_marker from = {0, 0};
		bool have;

		memset(snap, 0, sizeof(*snap));
		r = snapfile_load_newest_upto(ws->snap_dir, max, snap, &srep);
		if (rep != NULL && srep.n_broken > 0) {
			rep->n_broken_snaps += srep.n_broken;
			snprintf(rep->broken_snap, sizeof(rep->broken_snap),
				 "%s", srep.broken[srep.n_broken - 1]);
		}
		if (r < 0 && r != -ENOENT) {
			if (rep != NULL) {
				snprintf(rep->msg, sizeof(rep->msg), "%s",
					 srep.msg);
			}
			return r;
		}
		have = r == 0;
		if (have) {
			from.index = snap->meta.index;
			from.term = snap->meta.term;
		}
		r = wal_open(wo, &from, &ws->wal, rd, &wrep);
		copy_wal_report(rep, &wrep);
		if (r == -ERR_CORRUPT && wrep.marker_missing && have) {
			/* A snapshot file whose marker never made it to the
			 * WAL: unused; try the next older one. */
			max = from.index - 1;
			raft_snapshot_done(snap);
			continue;
		}
		if (r < 0) {
			raft_snapshot_done(snap);
			return r;
		}
		ws->snap = from;
		return 0;
	}
}

int walstore_open(const struct walstore_options *o,
		  const struct wal_metadata *md, struct walstore **out,
		  struct wal_metadata *md_out, struct walstore_report *rep)
{
	struct wal_options wo = {o->wal_dir, o->segment_size};
	struct raft_snapshot snap;
	struct wal_read rd;
	struct walstore *ws;
	int r;

	if (rep != NULL) {
		memset(rep, 0, sizeof(*rep));
	}
	ws = mem_calloc(1, sizeof(*ws));
	if (ws == NULL) {
		return -ENOMEM;
	}
	ws->snap_dir = mem_strdup(o->snap_dir);
	ws->ms = raft_mem_storage_new();
	if (ws->snap_dir == NULL || ws->ms == NULL) {
		walstore_close(ws);
		return -ENOMEM;
	}
	if (!wal_exists(o->wal_dir)) {
		struct wal_report wrep;
		r = wal_create(&wo, md, &ws->wal, &wrep);
		if (r < 0) {
			copy_wal_report(rep, &wrep);
			walstore_close(ws);
			return r;
		}
		if (rep != NULL) {
			rep->created = true;
		}
		if (md_out != NULL) {
			*md_out = *md;
		}
		*out = ws;
		return 0;
	}
	r = load(ws, &wo, &snap, &rd, rep);
	if (r < 0) {
		walstore_close(ws);
		return r;
	}
	if (snap.meta.index > 0) {
		r = raft_mem_storage_apply_snapshot(ws->ms, &snap);
	}
	if (r >= 0) {
		raft_mem_storage_set_hard_state(ws->ms, &rd.hs);
		r = raft_mem_storage_append(ws->ms, rd.ents, rd.n_ents);
	}
	if (r < 0) {
		if (rep != NULL && r != -ENOMEM) {
			snprintf(rep->msg, sizeof(rep->msg),
				 "wal: %s: the log read back does not follow "
				 "snapshot %llu: %s",
				 o->wal_dir,
				 (unsigned long long)snap.meta.index,
				 err_str(r));
		}
		raft_snapshot_done(&snap);
		wal_read_done(&rd);
		walstore_close(ws);
		return r;
	}
	if (rep != NULL) {
		rep->snap_index = ws->snap.index;
		rep->snap_term = ws->snap.term;
	}
	if (md_out != NULL) {
		*md_out = rd.meta;
	}
	raft_snapshot_done(&snap);
	wal_read_done(&rd);
	*out = ws;
	return 0;
}

struct raft_storage walstore_storage(struct walstore *ws)
{
	return raft_mem_storage_storage(ws->ms);
}

int walstore_save(struct walstore *ws, const struct raft_hard_state *hs,
		  const struct raft_entry *ents, size_t n_ents)
{
	struct raft_storage st = raft_mem_storage_storage(ws->ms);
	raft_index last;
	int r;

	/* Refuse a gap before anything is written (invariant 2). */
	if (n_ents > 0) {
		r = st.last_index(st.ctx, &last);
		if (r < 0) {
			return r;
		}
		if (ents[0].index > last + 1) {
			return -ERR_INVALID;
		}
	}
	r = wal_save(ws->wal, hs, ents, n_ents);
	if (r < 0) {
		return r;
	}
	if (n_ents > 0) {
		r = raft_mem_storage_append(ws->ms, ents, n_ents);
		if (r < 0) {
			return r;
		}
	}
	if (hs != NULL) {
		raft_mem_storage_set_hard_state(ws->ms, hs);
	}
	return 0;
}

/* Snapshot file, then WAL marker (walstore.h invariant 2). */
static int persist_snapshot(struct walstore *ws,
			    const struct raft_snapshot *snap, bool reset)
{
	struct wal_snap_marker m = {snap->meta.index, snap->meta.term};
	int r;

	if (wal_error(ws->wal) != 0) {
		return wal_error(ws->wal);
	}
	r = snapfile_save(ws->snap_dir, snap);
	if (r < 0) {
		return r;
	}
	r = reset ? wal_reset_to_snapshot(ws->wal, &m)
		  : wal_save_snapshot(ws->wal, &m);
	if (r < 0) {
		return r;
	}
	ws->snap = m;
	return 0;
}

int walstore_apply_snapshot(struct walstore *ws,
			    const struct raft_snapshot *snap)
{
	int r;

	if (snap->meta.index <= ws->snap.index) {
		return -ERR_SNAP_OUT_OF_DATE;
	}
	r = persist_snapshot(ws, snap, true);
	if (r < 0) {
		return r;
	}
	return raft_mem_storage_apply_snapshot(ws->ms, snap);
}

int walstore_create_snapshot(struct walstore *ws, raft_index i,
			     const struct raft_conf_state *cs,
			     const uint8_t *data, size_t len)
{
	struct raft_storage st = raft_mem_storage_storage(ws->ms);
	struct raft_snapshot cur, snap;
	raft_index last;
	int r;

	if (i <= ws->snap.index) {
		return -ERR_SNAP_OUT_OF_DATE;
	}
	r = st.last_index(st.ctx, &last);
	if (r < 0) {
		return r;
	}
	if (i > last) {
		return -ERR_UNAVAILABLE;
	}
	r = st.snapshot(st.ctx, &cur);
	if (r < 0) {
		return r;
	}
	memset(&snap, 0, sizeof(snap));
	snap.meta.index = i;
	r = st.term(st.ctx, i, &snap.meta.term);
	if (r >= 0) {
		snap.meta.conf = cs != NULL ? *cs : cur.meta.conf;
		snap.data = (uint8_t *)(uintptr_t)data;
		snap.len = len;
		r = persist_snapshot(ws, &snap, false);
	}
	if (r >= 0) {
		r = raft_mem_storage_create_snapshot(ws->ms, i, cs, data, len);
	}
	raft_snapshot_done(&cur);
	return r;
}

int walstore_compact(struct walstore *ws, raft_index i, size_t keep_snaps)
{
	raft_index first;
	struct raft_storage st = raft_mem_storage_storage(ws->ms);
	int r;

	r = st.first_index(st.ctx, &first);
	if (r < 0) {
		return r;
	}
	if (i >= first) {
		r = raft_mem_storage_compact(ws->ms, i);
		if (r < 0) {
			return r;
		}
	}
	r = wal_release(ws->wal, ws->snap.index);
	if (r >= 0 && keep_snaps > 0) {
		r = snapfile_purge(ws->snap_dir, keep_snaps);
	}
	return r;
}

raft_index walstore_window(const struct walstore *ws, raft_index i,
			   uint64_t max_size)
{
	return raft_mem_storage_window(ws->ms, i, max_size);
}

int walstore_dirs(const char *data_dir, const char *wal_dir, char **wal_out,
		  char **snap_out)
{
	struct buf w = BUF_INIT, sn = BUF_INIT;

	/* etcd compat: <data-dir>/member/{wal,snap}; --wal-dir moves the WAL
	 * only. */
	if ((wal_dir != NULL && wal_dir[0] != '\0'
		 ? buf_append_str(&w, wal_dir)
		 : buf_printf(&w, "%s/member/wal", data_dir)) < 0 ||
	    buf_printf(&sn, "%s/member/snap", data_dir) < 0) {
		buf_done(&w);
		buf_done(&sn);
		return -ENOMEM;
	}
	*wal_out = (char *)w.data;
	*snap_out = (char *)sn.data;
	return 0;
}

int walstore_error(const struct walstore *ws)
{
	return wal_error(ws->wal);
}

struct wal *walstore_wal(struct walstore *ws)
{
	return ws->wal;
}
