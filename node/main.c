/*
 * main.c - the cetcd member daemon: read the configuration as etcd does
 * (node/server/config.h), report every problem in one line, then run the
 * member (node/server/member.h) and its client port (node/api/api.h) on
 * one loop until SIGTERM or SIGINT.
 *
 * systemd (design.md, "systemd native"): READY=1 once the member knows a
 * leader and serves clients; STATUS= with role, leader, term and applied
 * index; WATCHDOG=1 at half the interval the manager asks for; STOPPING=1
 * when a stop signal arrives.
 *
 * With CETCD_CHECK_CONFIG=1 in the environment the resolved configuration
 * is printed and cetcd exits 0 without serving (a dry run, as `nginx -t`).
 *
 * Exit status: 0 for --help, --version, a dry run and a graceful stop; 1
 * for a bad configuration, a member that cannot start, or a member stopped
 * by a storage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/timeutil.h"
#include "base/version.h"
#include "server/config.h"
#include "server/ids.h"
#include "server/member.h"
#include "sys/loop.h"
#include "sys/sys.h"

extern char **environ;

/* How often the status is looked at (readiness comes from the member). */
#define STATUS_PERIOD_MS 1000

struct daemon {
	struct sys_loop *loop;
	const struct config *cfg;
	struct member *m;
	struct api *api;
	struct sys_timer *status_timer;
	struct sys_timer *watchdog_timer;
	bool ready;
	bool stopping;
	uint64_t removed_ms; /* when the member saw its removal, or 0 */
	int exit_code;
	char last_status[256];
};

static void stopped(void *arg)
{
	struct daemon *d = arg;

	sys_loop_stop(d->loop);
}

static void begin_stop(struct daemon *d)
{
	if (d->stopping) {
		return;
	}
	d->stopping = true;
	(void)sys_notify("STOPPING=1");
	api_shutdown(d->api);
	member_stop(d->m, stopped, d);
}

static void on_signal(int signo, void *arg)
{
	struct daemon *d = arg;

	log_notice("received %s, stopping", strsignal(signo));
	begin_stop(d);
}

static const char *role(const struct member_info *mi)
{
	if (mi->is_learner) {
		return "learner";
	}
	if (mi->leader == mi->id) {
		return "leader";
	}
	return mi->leader != 0 ? "follower" : "no leader";
}

/*
 * etcd compat (stopWithDelay): a removed member stops a second after it
 * applied its removal, so that the entry reaches the others first, and
 * exits with status 0.  True once the stop began.
 */
#define REMOVED_STOP_DELAY_MS 1000

static bool check_removed(struct daemon *d)
{
	uint64_t now = timeutil_mono_ms();

	if (d->removed_ms == 0) {
		d->removed_ms = now;
	}
	if (d->stopping || now - d->removed_ms < REMOVED_STOP_DELAY_MS) {
		return d->stopping;
	}
	log_warn("the member has been permanently removed from the cluster; "
		 "the data dir used by this member must be removed");
	begin_stop(d);
	return true;
}

/*
 * A storage error (a full disk among them) stopped the member, which
 * logged what failed where and the fix: tell systemd the same in STATUS=,
 * then stop and exit 1, as etcd fatals on a failed WAL write.
 */
static void stop_on_error(struct daemon *d, const struct member_info *mi)
{
	char st[1200];

	if (d->exit_code != 0) {
		return;
	}
	d->exit_code = 1;
	snprintf(st, sizeof(st), "STATUS=stopped: %s",
		 mi->error_msg != NULL ? mi->error_msg : err_str(mi->error));
	(void)sys_notify(st);
	log_notice("stopping after the storage error above (exit status 1)");
	begin_stop(d);
}

static void update_status(struct daemon *d)
{
	struct member_info mi;
	char lead[IDS_HEX_LEN], st[256];

	member_info(d->m, &mi);
	if (mi.error != 0) {
		stop_on_error(d, &mi);
		return;
	}
	if (mi.removed && check_removed(d)) {
		return;
	}
	if (!d->ready && mi.leader != 0) {
		d->ready = true;
		log_notice("ready to serve client requests (leader %s)",
			   ids_format(mi.leader, lead));
		(void)sys_notify("READY=1");
	}
	snprintf(
	    st, sizeof(st),
	    "STATUS=%s, leader %s, term %" PRIu64 ", applied index %" PRIu64,
	    role(&mi), mi.leader != 0 ? ids_format(mi.leader, lead) : "none",
	    mi.term, mi.applied_index);
	if (strcmp(st, d->last_status) != 0) {
		(void)sys_notify(st);
		memcpy(d->last_status, st, sizeof(st));
	}
}

static void status_cb(struct sys_timer *t, void *arg)
{
	(void)t;
	update_status(arg);
}

/* The member tells when its leader changes: READY=1 and STATUS= at once. */
static void on_leader(void *arg, uint64_t leader)
{
	(void)leader;
	update_status(arg);
}

/* ... and when it stops on a storage error: stop at once. */
static void on_error(void *arg, int err)
{
	(void)err;
	update_status(arg);
}

static void watchdog_cb(struct sys_timer *t, void *arg)
{
	(void)t;
	(void)arg;
	(void)sys_notify("WATCHDOG=1");
}

static int run(const struct config *c)
{
	struct daemon d;
	char *msg = NULL;
	unsigned long long wd;
	int r;

	memset(&d, 0, sizeof(d));
	d.cfg = c;
	/* A peer or client that closes early must not kill the member. */
	signal(SIGPIPE, SIG_IGN);
	r = sys_loop_new(&d.loop);
	if (r < 0) {
		fprintf(stderr, "cetcd: cannot start the event loop: %s\n",
			err_str(r));
		return 1;
	}
	r = member_new(d.loop, c, &d.m, &msg);
	if (r >= 0) {
		r = api_serve(d.loop, d.m, c, &d.api, &msg);
	}
	if (r >= 0) {
		r = sys_loop_on_signal(d.loop, SIGTERM, on_signal, &d);
	}
	if (r >= 0) {
		r = sys_loop_on_signal(d.loop, SIGINT, on_signal, &d);
	}
	if (r >= 0) {
		r = sys_timer_new(d.loop, status_cb, &d, &d.status_timer);
	}
	if (r >= 0) {
		r = sys_timer_start(d.status_timer, STATUS_PERIOD_MS,
				    STATUS_PERIOD_MS);
	}
	if (r >= 0) {
		member_on_leader(d.m, on_leader, &d);
		member_on_error(d.m, on_error, &d);
	}
	wd = sys_watchdog_usec();
	if (r >= 0 && wd > 0) {
		r = sys_timer_new(d.loop, watchdog_cb, &d, &d.watchdog_timer);
		if (r >= 0) {
			r = sys_timer_start(d.watchdog_timer, wd / 2000,
					    wd / 2000);
		}
	}
	if (r >= 0) {
		update_status(&d); /* the first STATUS=, before any leader */
		r = sys_loop_run(d.loop);
		if (r < 0) {
			log_error("event loop failed: %s", err_str(r));
			d.exit_code = 1;
		}
	} else {
		fprintf(stderr, "cetcd: %s\n", msg != NULL ? msg : err_str(r));
		d.exit_code = 1;
	}
	mem_free(msg);
	sys_timer_free(d.status_timer);
	sys_timer_free(d.watchdog_timer);
	api_free(d.api);
	member_free(d.m);
	sys_loop_free(d.loop);
	return d.exit_code;
}

int main(int argc, char **argv)
{
	struct config *c = NULL;
	char *msg = NULL;
	struct buf b = BUF_INIT;
	const char *dry;
	int r;

	log_set_prefix(!isatty(STDERR_FILENO));
	r = config_parse(argc, argv, environ, &c, &msg);
	if (r < 0) {
		fprintf(stderr, "cetcd: %s\n", msg ? msg : err_str(r));
		mem_free(msg);
		return 1;
	}
	if (c->action == CONFIG_VERSION) {
		config_free(c);
		printf("cetcd Version: %s\n", version_cetcd());
		printf("etcd Version: %s\n", version_etcd());
		printf("API version: %s\n", version_api());
		return 0;
	}
	if (c->action == CONFIG_HELP) {
		config_free(c);
		if (config_help(&b) < 0) {
			fprintf(stderr, "cetcd: %s\n", err_str(-ENOMEM));
			return 1;
		}
		fputs((const char *)b.data, stdout);
		buf_done(&b);
		return 0;
	}
	log_set_level(c->log_level);
	log_set_name(c->name);
	for (size_t i = 0; i < c->n_warnings; i++) {
		log_warn("%s", c->warnings[i]);
	}
	dry = getenv("CETCD_CHECK_CONFIG");
	if (dry != NULL && strcmp(dry, "1") == 0) {
		if (config_describe(c, &b) < 0) {
			config_free(c);
			buf_done(&b);
			fprintf(stderr, "cetcd: %s\n", err_str(-ENOMEM));
			return 1;
		}
		fputs((const char *)b.data, stdout);
		buf_done(&b);
		config_free(c);
		return 0;
	}
	r = run(c);
	config_free(c);
	return r;
}
