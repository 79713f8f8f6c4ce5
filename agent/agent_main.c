/*
 * agent_main.c - cetcd-agent: one manifest to a configured, supervised,
 * drilled cluster (issue 10).
 *
 *   cetcd-agent [-c AGENT_CONF] COMMAND [-f MANIFEST] [OPTIONS]
 *
 * This file only parses the command line and prints; the work is in
 * manifest.c (load and validate), settings.c (agent.conf), render.c,
 * agent_local.c (up, down, restart, kill), agent_cluster.c (status,
 * health, members, clock; probes in agent_probe.c), agent_drill.c and
 * agent_apply.c with agent_systemd.c (apply).
 *
 * Exit status: 0 success, 1 failure (bad manifest, I/O error, an unhealthy
 * cluster, a failed drill), 2 usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <limits.h>

#include "agent/agent_local.h"
#include "agent/agent_systemd.h"
#include "agent/manifest.h"
#include "agent/render.h"
#include "agent/settings.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/version.h"

#define PROG "cetcd-agent"
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* What every command shares: settings, then flags over them. */
struct ctx {
	struct agent_settings set;
	const char *config_path; /* -c */
	bool config_given;
	const char *manifest_flag; /* -f */
	const char *root_flag;	   /* --root */
	const char *node;	   /* --node */
	const char *mode_flag;	   /* --mode (drill) */
	const char *output_flag;   /* -w */
	const char *state_flag;	   /* --state-dir */
	const char *cetcd_flag;	   /* --cetcd */
	bool dry_run;
	bool no_wait; /* apply --no-wait */
};

struct command {
	const char *name;
	const char *synopsis;
	const char *summary;
	const char *options; /* command-specific lines for --help */
	int (*run)(struct ctx *c, int argc, char **argv);
};

static int cmd_validate(struct ctx *c, int argc, char **argv);
static int cmd_render(struct ctx *c, int argc, char **argv);
static int cmd_apply(struct ctx *c, int argc, char **argv);
static int cmd_version(struct ctx *c, int argc, char **argv);
static int cmd_local(struct ctx *c, int argc, char **argv);
static int cmd_help(struct ctx *c, int argc, char **argv);

static const struct command commands[] = {
    {"validate", "validate [-f MANIFEST]",
     "check the manifest; print every error and warning",
     "Prints each problem as FILE:LINE:COLUMN: what is wrong; what to do.\n"
     "Exits 1 when there is an error (warnings alone exit 0).\n",
     cmd_validate},
    {"render", "render --node NAME [-f MANIFEST] [--root DIR] [--dry-run]",
     "write a member's env file, unit, hostname and hosts entries",
     "  --node NAME    the member to render (default: the member named "
     "like this host)\n"
     "  --root DIR     write every file under DIR instead of / (agent.conf: "
     "root)\n"
     "  --dry-run      print a unified diff of what would change; write "
     "nothing\n"
     "Writes are atomic and only happen when content differs: a second "
     "run\nchanges nothing and says \"unchanged\".\n",
     cmd_render},
    {"apply", "apply --node NAME [-f MANIFEST] [--no-wait]",
     "render, set the hostname, enable and start the unit, wait for health",
     "Renders the member's files into / (as render does), creates its "
     "user\n(sysusers.d) when missing, sets the host name when the "
     "manifest's\nhostname is true (hostnamed, else sethostname), then over "
     "sd-bus:\ndaemon-reload, enable and start the unit without waiting for "
     "READY (a\nnew cluster is ready only once a quorum runs), and waits "
     "until the\nmember answers a linearizable read, with a progress line "
     "(agent.conf:\ntimeouts.start).  On failure prints the unit's last "
     "journal lines and\nwhat to check.  Needs root and systemd.\n"
     "  --node NAME    the member of this host (default: the member named "
     "like\n                 this host)\n"
     "  --no-wait      return once the start is queued\n",
     cmd_apply},
    {"up", "up [-f MANIFEST] [--state-dir DIR] [--cetcd PATH]",
     "local mode: start every member as a child process",
     "Renders each member's env file under the state dir, starts the "
     "members\n(they keep running after up returns) and waits until the "
     "cluster has\na leader (agent.conf: timeouts.start).\n" "  --state-dir DIR  env files, data, logs and pid files (agent.conf: "
     "paths.state_dir)\n"
     "  --cetcd PATH     the member binary (default: agent.conf's "
     "paths.cetcd,\n"
     "                   else the cetcd next to this cetcd-agent)\n"
     "Without -f and without the default manifest, the built-in cluster:\n"
     "etcd-node01..03 on 127.0.0.11-13.\n",
     cmd_local},
    {"down", "down [-f MANIFEST] [--state-dir DIR]",
     "local mode: stop every member",
     "SIGTERM, then SIGKILL after agent.conf's timeouts.stop.\n" "  --state-dir DIR  env files, data, logs and pid files (agent.conf: "
     "paths.state_dir)\n"
     "  --cetcd PATH     the member binary (default: agent.conf's "
     "paths.cetcd,\n"
     "                   else the cetcd next to this cetcd-agent)\n"
     "Without -f and without the default manifest, the built-in cluster:\n"
     "etcd-node01..03 on 127.0.0.11-13.\n",
     cmd_local},
    {"restart", "restart NAME [-f MANIFEST] [--state-dir DIR]",
     "local mode: restart one member", "  --state-dir DIR  env files, data, logs and pid files (agent.conf: "
     "paths.state_dir)\n"
     "  --cetcd PATH     the member binary (default: agent.conf's "
     "paths.cetcd,\n"
     "                   else the cetcd next to this cetcd-agent)\n"
     "Without -f and without the default manifest, the built-in cluster:\n"
     "etcd-node01..03 on 127.0.0.11-13.\n", cmd_local},
    {"kill", "kill NAME [-f MANIFEST] [--state-dir DIR]",
     "local mode: SIGKILL one member", "  --state-dir DIR  env files, data, logs and pid files (agent.conf: "
     "paths.state_dir)\n"
     "  --cetcd PATH     the member binary (default: agent.conf's "
     "paths.cetcd,\n"
     "                   else the cetcd next to this cetcd-agent)\n"
     "Without -f and without the default manifest, the built-in cluster:\n"
     "etcd-node01..03 on 127.0.0.11-13.\n", cmd_local},
    {"status", "status [-f MANIFEST] [-w table|json]",
     "endpoint status of every member, as etcdctl prints it", "  -w, --write-out table|json  output format (agent.conf: output)\n"
     "Every manifest member is probed at once; one that cannot be reached "
     "is\nreported on stderr as etcdctl does, and the exit status is 1.  "
     "Members\nwhose clocks (Date headers) differ by more than "
     "drill.clock_skew_max\nget a warning on stderr (see '" PROG " clock').\n",
     cmd_local},
    {"health", "health [-f MANIFEST] [-w table|json]",
     "endpoint health of every member, as etcdctl prints it", "  -w, --write-out table|json  output format (agent.conf: output)\n"
     "Every manifest member is probed at once; one that cannot be reached "
     "is\nreported on stderr as etcdctl does, and the exit status is 1.  "
     "Members\nwhose clocks (Date headers) differ by more than "
     "drill.clock_skew_max\nget a warning on stderr (see '" PROG " clock').\n",
     cmd_local},
    {"members", "members [-f MANIFEST] [-w table|json]",
     "member list, as etcdctl prints it", "  -w, --write-out table|json  output format (agent.conf: output)\n"
     "Every manifest member is probed; one that cannot be reached is "
     "reported\non stderr as etcdctl does, and the exit status is 1.\n", cmd_local},
    {"clock", "clock [-f MANIFEST] [-w table|json]",
     "compare the members' clocks",
     "Reads each member's clock from the Date header of its /version "
     "answer\n(several rounds over about a second narrow the one-second "
     "resolution),\nprints each one's offset from this host and the largest "
     "difference\nbetween two members.  Exits 1 when two members differ by "
     "more than\ndrill.clock_skew_max (manifest, else agent.conf) or one "
     "cannot be reached.\nstatus and health warn on stderr the same way.\n"
     "  -w, --write-out table|json  output format (agent.conf: output)\n",
     cmd_local},
    {"drill",
     "drill failover [--mode kill|stop|pause] [-f MANIFEST] [--state-dir DIR]",
     "scenario.md B's failover drill, with numbers and a verdict",
     "A writer puts unique keys through the other members while the "
     "leader\nis taken down (kill: SIGKILL; stop: SIGTERM; pause: SIGSTOP "
     "for the\ndrill's pause), then restarted: a member of local mode (its "
     "pid file in\nthe state dir) by signals, a systemd unit on this host "
     "over sd-bus\n(KillUnit, StopUnit, StartUnit).  Reports the time to a new "
     "leader, the\nwrite unavailability window, whether the old leader "
     "rejoined as a\nfollower and the leader stayed put, and whether every "
     "acknowledged write\nis on every member.  Exits 1 on FAIL.\n"
     "  --mode MODE      kill, stop or pause (manifest drill.mode, else "
     "agent.conf)\n"
     "  -w, --write-out table|json  the report's format\n" "  --state-dir DIR  where up keeps the members (agent.conf: "
     "paths.state_dir)\n",
     cmd_local},
    {"version", "version", "print cetcd-agent's version", NULL, cmd_version},
    {"help", "help [COMMAND]", "this text, or a command's", NULL, cmd_help},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0) {
			return &commands[i];
		}
	}
	return NULL;
}

static void usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"Usage: " PROG " [-c AGENT_CONF] COMMAND [-f MANIFEST] "
		"[OPTIONS]\n\n"
		"One manifest describes the cluster; the agent renders each "
		"host's files,\nbrings the members up and drills them.\n\n"
		"Commands:\n");
	for (i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	}
	fprintf(out,
		"\nCommon options:\n"
		"  -f, --manifest FILE  the cluster manifest (default "
		"%s)\n"
		"  -c, --config FILE    agent settings (default %s)\n"
		"  -h, --help           help (after a command: that "
		"command's)\n"
		"  --version            print the version\n\n"
		"Run '" PROG " COMMAND --help' for a command's options.\n",
		MANIFEST_DEFAULT_PATH, AGENT_SETTINGS_DEFAULT_PATH);
}

static void command_usage(const struct command *cmd, FILE *out)
{
	fprintf(out, "Usage: " PROG " %s\n\n%c%s.\n", cmd->synopsis,
		toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->options) {
		fprintf(out, "\n%s", cmd->options);
	}
	fprintf(out,
		"\nCommon options:\n"
		"  -f, --manifest FILE  the cluster manifest (default %s)\n"
		"  -c, --config FILE    agent settings (default %s)\n"
		"  -h, --help           this text\n",
		MANIFEST_DEFAULT_PATH, AGENT_SETTINGS_DEFAULT_PATH);
}

enum {
	OPT_ROOT = 256,
	OPT_NODE,
	OPT_DRY_RUN,
	OPT_MODE,
	OPT_VERSION,
	OPT_STATE_DIR,
	OPT_CETCD,
	OPT_NO_WAIT,
};

static const struct option long_opts[] = {
    {"manifest", required_argument, NULL, 'f'},
    {"config", required_argument, NULL, 'c'},
    {"write-out", required_argument, NULL, 'w'},
    {"help", no_argument, NULL, 'h'},
    {"root", required_argument, NULL, OPT_ROOT},
    {"node", required_argument, NULL, OPT_NODE},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"mode", required_argument, NULL, OPT_MODE},
    {"version", no_argument, NULL, OPT_VERSION},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"cetcd", required_argument, NULL, OPT_CETCD},
    {"no-wait", no_argument, NULL, OPT_NO_WAIT},
    {NULL, 0, NULL, 0},
};

/*
 * Parse a command's options into c; positional arguments stay in
 * argv[optind..].  Returns 0, 1 after printing help, or -EINVAL after a
 * usage message.
 */
static int parse_options(struct ctx *c, const struct command *cmd, int argc,
			 char **argv)
{
	int opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":f:c:w:h", long_opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'f':
			c->manifest_flag = optarg;
			break;
		case 'c':
			c->config_path = optarg;
			c->config_given = true;
			break;
		case 'w':
			c->output_flag = optarg;
			break;
		case 'h':
			command_usage(cmd, stdout);
			return 1;
		case OPT_ROOT:
			c->root_flag = optarg;
			break;
		case OPT_NODE:
			c->node = optarg;
			break;
		case OPT_DRY_RUN:
			c->dry_run = true;
			break;
		case OPT_MODE:
			c->mode_flag = optarg;
			break;
		case OPT_VERSION:
			version_print(stdout, PROG);
			return 1;
		case OPT_STATE_DIR:
			c->state_flag = optarg;
			break;
		case OPT_CETCD:
			c->cetcd_flag = optarg;
			break;
		case OPT_NO_WAIT:
			c->no_wait = true;
			break;
		case ':':
			fprintf(stderr,
				PROG " %s: %s needs a value; see '" PROG
				     " %s --help'\n",
				cmd->name, argv[optind - 1], cmd->name);
			return -EINVAL;
		default:
			fprintf(stderr,
				PROG " %s: unknown option '%s'; see '" PROG
				     " %s --help'\n",
				cmd->name, argv[optind - 1], cmd->name);
			return -EINVAL;
		}
	}
	return 0;
}

/* Load agent.conf, then put the flags over it.  0 or an exit status. */
static int load_settings(struct ctx *c, const struct command *cmd)
{
	struct buf errs = BUF_INIT;
	enum agent_output out;
	int r;

	r = agent_settings_load(&c->set, c->config_path, c->config_given,
				&errs);
	if (r < 0) {
		if (r == -ENOMEM) {
			fprintf(stderr, PROG ": out of memory\n");
		} else {
			fputs((const char *)errs.data, stderr);
		}
		buf_done(&errs);
		return EXIT_FAIL;
	}
	buf_done(&errs);
	if (c->output_flag) {
		if (agent_output_parse(c->output_flag, &out) < 0) {
			fprintf(stderr,
				PROG " %s: -w %s is unknown; write -w "
				     "table or -w json\n",
				cmd->name, c->output_flag);
			return EXIT_USAGE;
		}
		c->set.output = out;
	}
	return 0;
}

static const char *manifest_path(const struct ctx *c)
{
	return c->manifest_flag ? c->manifest_flag : c->set.manifest;
}

/* Load and print diagnostics.  0 with *out, or an exit status. */
static int load_manifest(struct ctx *c, struct manifest **out)
{
	struct manifest_diags d;
	int r;

	manifest_diags_init(&d);
	r = manifest_load_file(manifest_path(c), out, &d);
	manifest_diags_print(&d, stderr);
	if (r == -ENOMEM) {
		fprintf(stderr, PROG ": out of memory\n");
	} else if (r < 0 && d.n_errors > 0) {
		fprintf(stderr, "%s: %zu error%s, %zu warning%s\n",
			manifest_path(c), d.n_errors,
			d.n_errors == 1 ? "" : "s", d.n_warnings,
			d.n_warnings == 1 ? "" : "s");
	}
	manifest_diags_done(&d);
	return r < 0 ? EXIT_FAIL : 0;
}

static int no_positional(const struct command *cmd, int argc, char **argv)
{
	if (optind < argc) {
		fprintf(stderr,
			PROG " %s: unexpected argument '%s'; see '" PROG
			     " %s --help'\n",
			cmd->name, argv[optind], cmd->name);
		return EXIT_USAGE;
	}
	return 0;
}

/* Options parse_options() accepts but cmd does not take. */
static int unused_options(const struct ctx *c, const struct command *cmd)
{
	const char *bad = NULL;

	if (c->node && cmd->run != cmd_render && cmd->run != cmd_apply) {
		bad = "--node";
	} else if (c->root_flag && cmd->run != cmd_render) {
		bad = "--root";
	} else if (c->dry_run && cmd->run != cmd_render) {
		bad = "--dry-run";
	} else if (c->mode_flag && strcmp(cmd->name, "drill") != 0) {
		bad = "--mode";
	} else if (c->state_flag && cmd->run != cmd_local) {
		bad = "--state-dir";
	} else if (c->cetcd_flag && cmd->run != cmd_local) {
		bad = "--cetcd";
	} else if (c->no_wait && cmd->run != cmd_apply) {
		bad = "--no-wait";
	}
	if (bad) {
		fprintf(stderr,
			PROG " %s: %s does not apply here; see '" PROG
			     " %s --help'\n",
			cmd->name, bad, cmd->name);
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_validate(struct ctx *c, int argc, char **argv)
{
	const struct command *cmd = find_command("validate");
	struct manifest_diags d;
	struct manifest *m = NULL;
	int r;

	r = no_positional(cmd, argc, argv);
	r = r ?: unused_options(c, cmd);
	r = r ?: load_settings(c, cmd);
	if (r) {
		return r;
	}
	manifest_diags_init(&d);
	r = manifest_load_file(manifest_path(c), &m, &d);
	manifest_diags_print(&d, stderr);
	if (r == 0) {
		printf("%s: valid: cluster %s, %zu member%s, %zu warning%s\n",
		       manifest_path(c), m->cluster_name, m->n_members,
		       m->n_members == 1 ? "" : "s", d.n_warnings,
		       d.n_warnings == 1 ? "" : "s");
	} else if (r == -ENOMEM) {
		fprintf(stderr, PROG ": out of memory\n");
	} else if (d.n_errors > 0) {
		fprintf(stderr, "%s: invalid: %zu error%s, %zu warning%s\n",
			manifest_path(c), d.n_errors,
			d.n_errors == 1 ? "" : "s", d.n_warnings,
			d.n_warnings == 1 ? "" : "s");
	}
	manifest_diags_done(&d);
	manifest_free(m);
	return r == 0 ? 0 : EXIT_FAIL;
}

/* The member named like this host, when --node is not given. */
static const struct manifest_member *
member_by_hostname(const struct manifest *m)
{
	char host[256];

	if (gethostname(host, sizeof(host)) < 0) {
		return NULL;
	}
	host[sizeof(host) - 1] = '\0';
	return manifest_find_member(m, host);
}

static void print_member_names(const struct manifest *m, FILE *out)
{
	size_t i;

	for (i = 0; i < m->n_members; i++) {
		fprintf(out, "%s%s", i ? ", " : "", m->members[i].name);
	}
}

/*
 * The member to render or apply: --node, else the one named like this
 * host.  NULL after a message.
 */
static const struct manifest_member *pick_member(const struct ctx *c,
						 const struct manifest *m,
						 const char *what)
{
	const struct manifest_member *mb;

	mb = c->node ? manifest_find_member(m, c->node) : member_by_hostname(m);
	if (!mb) {
		if (c->node) {
			fprintf(stderr,
				PROG " %s: %s has no member '%s'; "
				     "give one of: ",
				what, manifest_path(c), c->node);
		} else {
			fprintf(stderr,
				PROG " %s: no member is named like "
				     "this host; give --node with one "
				     "of: ",
				what);
		}
		print_member_names(m, stderr);
		fputc('\n', stderr);
	}
	return mb;
}

/* Render mb's files under root (diff only with dry_run).  0 or EXIT_*. */
static int render_node(struct ctx *c, const struct manifest *m,
		       const struct manifest_member *mb, const char *root,
		       const char *what)
{
	struct render_plan plan;
	struct render_paths paths;
	struct buf why = BUF_INIT, diff = BUF_INIT;
	size_t changes, i;
	int r;

	paths.root = root;
	paths.unit_dir = c->set.unit_dir;
	paths.hosts_file = c->set.hosts_file;
	paths.hostname_file = c->set.hostname_file;
	r = render_plan_build(m, mb, &paths, &plan, &why);
	if (r < 0) {
		fprintf(stderr, PROG " %s: %s\n", what,
			why.len ? (const char *)why.data : err_str(r));
		buf_done(&why);
		return EXIT_FAIL;
	}
	if (plan.notes.len) {
		const char *p = (const char *)plan.notes.data, *nl;

		for (; (nl = strchr(p, '\n')); p = nl + 1) {
			fprintf(stderr, PROG " %s: warning: %.*s\n", what,
				(int)(nl - p), p);
		}
	}
	changes = render_plan_changes(&plan);
	if (c->dry_run) {
		r = render_plan_diff(&plan, &diff);
		if (r == 0) {
			fwrite(diff.data ? diff.data : (const uint8_t *)"", 1,
			       diff.len, stdout);
			for (i = 0; i < plan.n; i++) {
				static const char *const s[] = {
				    "unchanged", "would be created",
				    "would be updated"};

				printf("%s: %s\n", plan.t[i].path,
				       s[plan.t[i].state]);
			}
			printf(
			    "dry run: %zu of %zu files would change; nothing "
			    "written\n",
			    changes, plan.n);
		}
	} else {
		r = render_plan_write(&plan, stdout, &why);
		if (r < 0) {
			fprintf(stderr, PROG " %s: %s\n", what,
				why.len ? (const char *)why.data : err_str(r));
		} else if (changes == 0) {
			printf("%s: nothing to do, all %zu files unchanged\n",
			       mb->name, plan.n);
		} else {
			printf("%s: %zu of %zu files written\n", mb->name,
			       changes, plan.n);
		}
	}
	if (r == -ENOMEM) {
		fprintf(stderr, PROG " %s: out of memory\n", what);
	}
	buf_done(&diff);
	buf_done(&why);
	render_plan_done(&plan);
	fflush(stdout);
	return r < 0 ? EXIT_FAIL : 0;
}

static int cmd_render(struct ctx *c, int argc, char **argv)
{
	const struct command *cmd = find_command("render");
	const struct manifest_member *mb;
	struct manifest *m = NULL;
	int r;

	r = no_positional(cmd, argc, argv);
	r = r ?: unused_options(c, cmd);
	r = r ?: load_settings(c, cmd);
	r = r ?: load_manifest(c, &m);
	if (r) {
		return r;
	}
	mb = pick_member(c, m, "render");
	if (!mb) {
		manifest_free(m);
		return c->node ? EXIT_FAIL : EXIT_USAGE;
	}
	r = render_node(c, m, mb, c->root_flag ? c->root_flag : c->set.root,
			"render");
	manifest_free(m);
	return r;
}

static int cmd_apply(struct ctx *c, int argc, char **argv)
{
	const struct command *cmd = find_command("apply");
	const struct manifest_member *mb;
	struct manifest *m = NULL;
	struct agent_run run;
	struct sd_bus *bus = NULL;
	struct buf why = BUF_INIT;
	int r;

	r = no_positional(cmd, argc, argv);
	r = r ?: unused_options(c, cmd);
	r = r ?: load_settings(c, cmd);
	r = r ?: load_manifest(c, &m);
	if (r) {
		return r;
	}
	mb = pick_member(c, m, "apply");
	if (!mb) {
		manifest_free(m);
		return c->node ? EXIT_FAIL : EXIT_USAGE;
	}
	/* Invariant 1 of agent_apply.c: systemd first, then write. */
	if (agent_sd_open(&bus, &why) < 0) {
		fprintf(stderr,
			PROG " apply: %s\n  (on a machine without systemd, run "
			     "the cluster in local mode: " PROG " up)\n",
			(char *)why.data);
		buf_done(&why);
		manifest_free(m);
		return EXIT_FAIL;
	}
	agent_sd_close(bus);
	buf_done(&why);
	r = render_node(c, m, mb, "/", "apply");
	if (r == 0) {
		memset(&run, 0, sizeof(run));
		run.m = m;
		run.connect_ms = c->set.connect_ms;
		run.request_ms = c->set.request_ms;
		run.start_ms = c->set.start_ms;
		run.stop_ms = c->set.stop_ms;
		run.output = c->set.output;
		curl_global_init(CURL_GLOBAL_DEFAULT);
		r = agent_apply(&run, mb, !c->no_wait);
		curl_global_cleanup();
	}
	manifest_free(m);
	return r;
}

/* Is path an executable file? */
static bool executable(const char *path)
{
	return access(path, X_OK) == 0;
}

/*
 * The member binary: --cetcd, else agent.conf's paths.cetcd when it was
 * changed from the built-in default, else the cetcd of the build tree this
 * cetcd-agent belongs to (build/agent/../node/cetcd) or the one installed
 * next to it, else the default.  Returned in buf (size PATH_MAX).
 */
static const char *find_cetcd(const struct ctx *c, char *buf, size_t size)
{
	static const char default_cetcd[] = "/usr/local/bin/cetcd";
	char self[PATH_MAX - 32];
	ssize_t n;
	char *slash;

	if (c->cetcd_flag) {
		return c->cetcd_flag;
	}
	if (strcmp(c->set.cetcd, default_cetcd) != 0) {
		return c->set.cetcd;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, size, "%s/../node/cetcd", self);
			if (executable(buf)) {
				return buf;
			}
			snprintf(buf, size, "%s/cetcd", self);
			if (executable(buf)) {
				return buf;
			}
		}
	}
	return c->set.cetcd;
}

/*
 * The manifest of local mode and the cluster views: -f, else agent.conf's
 * when that file exists, else the built-in three-member cluster.
 */
static int load_local_manifest(struct ctx *c, struct manifest **out)
{
	struct manifest_diags d;
	int r;

	if (c->manifest_flag || access(c->set.manifest, F_OK) == 0) {
		return load_manifest(c, out);
	}
	fprintf(stderr,
		PROG ": no manifest at %s; using the built-in cluster "
		     "(etcd-node01..03 on 127.0.0.11-13)\n",
		c->set.manifest);
	manifest_diags_init(&d);
	r = manifest_load_buf("(built-in)",
			      (const uint8_t *)agent_builtin_manifest,
			      strlen(agent_builtin_manifest), out, &d);
	manifest_diags_print(&d, stderr);
	manifest_diags_done(&d);
	return r < 0 ? EXIT_FAIL : 0;
}

/*
 * The drill's settings: the manifest's drill: keys where given, else
 * agent.conf's; --mode over both.  0 or EXIT_USAGE.
 */
static int drill_settings(const struct ctx *c, const struct manifest *m,
			  struct manifest_drill *d)
{
	const struct manifest_drill *md = &m->drill;
	const struct manifest_drill *sd = &c->set.drill;

#define PICK(bit, field) \
	(d->field = (md->set & (1u << (bit))) ? md->field : sd->field)
	PICK(MD_MODE, mode);
	PICK(MD_PAUSE, pause_ms);
	PICK(MD_WRITE_INTERVAL, write_interval_ms);
	PICK(MD_LEADER_TIMEOUT, leader_timeout_ms);
	PICK(MD_STABLE_TIME, stable_time_ms);
	PICK(MD_CLOCK_SKEW_MAX, clock_skew_max_ms);
#undef PICK
	d->key_prefix = md->key_prefix ? md->key_prefix : sd->key_prefix;
	d->ssh_user = NULL;
	d->set = md->set | sd->set;
	if (c->mode_flag && manifest_drill_mode_parse(c->mode_flag,
						      &d->mode) < 0) {
		fprintf(stderr,
			PROG " drill: --mode %s is unknown; give kill, stop "
			     "or pause\n",
			c->mode_flag);
		return EXIT_USAGE;
	}
	return 0;
}

/* up, down, restart, kill, drill, status, health, members. */
static int cmd_local(struct ctx *c, int argc, char **argv)
{
	const struct command *cmd = find_command(argv[0]);
	bool takes_name = strcmp(cmd->name, "restart") == 0 ||
			  strcmp(cmd->name, "kill") == 0 ||
			  strcmp(cmd->name, "drill") == 0;
	struct manifest_drill drill;
	struct agent_run run;
	struct manifest *m = NULL;
	char cetcd[PATH_MAX];
	const char *name = NULL;
	int r;

	if (takes_name) {
		if (optind + 1 != argc) {
			fprintf(stderr,
				PROG " %s: give exactly one member NAME; see "
				     "'" PROG " %s --help'\n",
				cmd->name, cmd->name);
			return EXIT_USAGE;
		}
		name = argv[optind];
		r = 0;
		if (strcmp(cmd->name, "drill") == 0 &&
		    strcmp(name, "failover") != 0) {
			fprintf(stderr,
				PROG " drill: unknown drill '%s'; the one "
				     "drill is 'failover'\n",
				name);
			return EXIT_USAGE;
		}
	} else {
		r = no_positional(cmd, argc, argv);
	}
	r = r ?: unused_options(c, cmd);
	r = r ?: load_settings(c, cmd);
	r = r ?: load_local_manifest(c, &m);
	if (r) {
		return r;
	}
	memset(&run, 0, sizeof(run));
	run.m = m;
	run.state_dir = c->state_flag ? c->state_flag : c->set.state_dir;
	run.cetcd = find_cetcd(c, cetcd, sizeof(cetcd));
	run.connect_ms = c->set.connect_ms;
	run.request_ms = c->set.request_ms;
	run.start_ms = c->set.start_ms;
	run.stop_ms = c->set.stop_ms;
	run.output = c->set.output;
	r = drill_settings(c, m, &drill);
	if (r) {
		manifest_free(m);
		return r;
	}
	run.clock_skew_max_ms = drill.clock_skew_max_ms;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (strcmp(cmd->name, "up") == 0) {
		r = agent_local_up(&run);
	} else if (strcmp(cmd->name, "down") == 0) {
		r = agent_local_down(&run);
	} else if (strcmp(cmd->name, "restart") == 0) {
		r = agent_local_restart(&run, name);
	} else if (strcmp(cmd->name, "kill") == 0) {
		r = agent_local_kill(&run, name);
	} else if (strcmp(cmd->name, "status") == 0) {
		r = agent_cluster_status(&run);
	} else if (strcmp(cmd->name, "drill") == 0) {
		r = agent_drill_failover(&run, &drill);
	} else if (strcmp(cmd->name, "health") == 0) {
		r = agent_cluster_health(&run);
	} else if (strcmp(cmd->name, "clock") == 0) {
		r = agent_cluster_clock(&run);
	} else {
		r = agent_cluster_members(&run);
	}
	curl_global_cleanup();
	manifest_free(m);
	return r;
}

static int cmd_version(struct ctx *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	version_print(stdout, PROG);
	return 0;
}

static int cmd_help(struct ctx *c, int argc, char **argv)
{
	const struct command *cmd;

	(void)c;
	if (optind < argc) {
		cmd = find_command(argv[optind]);
		if (!cmd) {
			fprintf(stderr,
				PROG ": unknown command '%s'; run '" PROG
				     " --help'\n",
				argv[optind]);
			return EXIT_USAGE;
		}
		command_usage(cmd, stdout);
		return 0;
	}
	usage(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct ctx c;
	const struct command *cmd;
	int i, r;

	memset(&c, 0, sizeof(c));
	c.config_path = AGENT_SETTINGS_DEFAULT_PATH;
	/* Options before the command: -c FILE, --help, --version. */
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--version") == 0) {
			version_print(stdout, PROG);
			return 0;
		}
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if ((strcmp(argv[i], "-c") == 0 ||
		     strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc) {
			c.config_path = argv[++i];
			c.config_given = true;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			c.config_path = argv[i] + 9;
			c.config_given = true;
		} else {
			fprintf(stderr,
				PROG ": unknown option '%s' before the "
				     "command; run '" PROG " --help'\n",
				argv[i]);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[i]);
	if (!cmd) {
		fprintf(stderr,
			PROG ": unknown command '%s'; run '" PROG
			     " --help' for the list\n",
			argv[i]);
		return EXIT_USAGE;
	}
	r = parse_options(&c, cmd, argc - i, argv + i);
	if (r != 0) {
		return r > 0 ? 0 : EXIT_USAGE;
	}
	if (agent_settings_init(&c.set) < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		return EXIT_FAIL;
	}
	r = cmd->run(&c, argc - i, argv + i);
	agent_settings_done(&c.set);
	return r;
}
