/*
 * settings.c - cetcd-agent's settings file (settings.h).
 *
 * The file is parsed into a scratch copy of the settings; only when the
 * whole file is valid does the copy replace the caller's (invariant 2).
 */
#include "agent/settings.h"

#include <errno.h>
#include <libconfig.h>
#include <string.h>
#include <unistd.h>

#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"

enum skind {
	S_PATH, /* absolute path */
	S_STRING,
	S_MODE,
	S_OUTPUT,
	S_LOGLEVEL,
	S_DURATION,
	S_DRILL_MODE,
};

struct sdef {
	const char *group; /* NULL: top level */
	const char *name;
	enum skind kind;
	size_t off; /* offset of the char * or uint64_t in the struct */
};

#define OFF(f) offsetof(struct agent_settings, f)

static const struct sdef sdefs[] = {
    {NULL, "manifest", S_PATH, OFF(manifest)},
    {NULL, "mode", S_MODE, OFF(mode)},
    {NULL, "root", S_PATH, OFF(root)},
    {NULL, "output", S_OUTPUT, OFF(output)},
    {NULL, "log_level", S_LOGLEVEL, OFF(log_level)},
    {"paths", "unit_dir", S_PATH, OFF(unit_dir)},
    {"paths", "hosts_file", S_PATH, OFF(hosts_file)},
    {"paths", "hostname_file", S_PATH, OFF(hostname_file)},
    {"paths", "state_dir", S_PATH, OFF(state_dir)},
    {"paths", "cetcd", S_PATH, OFF(cetcd)},
    {"paths", "ssh", S_PATH, OFF(ssh)},
    {"timeouts", "connect", S_DURATION, OFF(connect_ms)},
    {"timeouts", "request", S_DURATION, OFF(request_ms)},
    {"timeouts", "start", S_DURATION, OFF(start_ms)},
    {"timeouts", "stop", S_DURATION, OFF(stop_ms)},
    {"drill", "mode", S_DRILL_MODE, OFF(drill.mode)},
    {"drill", "pause", S_DURATION, OFF(drill.pause_ms)},
    {"drill", "write_interval", S_DURATION, OFF(drill.write_interval_ms)},
    {"drill", "leader_timeout", S_DURATION, OFF(drill.leader_timeout_ms)},
    {"drill", "stable_time", S_DURATION, OFF(drill.stable_time_ms)},
    {"drill", "clock_skew_max", S_DURATION, OFF(drill.clock_skew_max_ms)},
};

#define N_SDEFS (sizeof(sdefs) / sizeof(sdefs[0]))

static const char *const groups[] = {"paths", "timeouts", "drill"};

static char **str_at(struct agent_settings *s, size_t off)
{
	return (char **)(void *)((char *)s + off);
}

static uint64_t *u64_at(struct agent_settings *s, size_t off)
{
	return (uint64_t *)(void *)((char *)s + off);
}

static void free_strings(struct agent_settings *s)
{
	size_t i;

	for (i = 0; i < N_SDEFS; i++) {
		if (sdefs[i].kind == S_PATH || sdefs[i].kind == S_STRING ||
		    sdefs[i].kind == S_LOGLEVEL) {
			char **p = str_at(s, sdefs[i].off);

			mem_free(*p);
			*p = NULL;
		}
	}
}

void agent_settings_done(struct agent_settings *s)
{
	free_strings(s);
	memset(s, 0, sizeof(*s));
}

static int set_str(char **p, const char *v)
{
	char *d = mem_strdup(v);

	if (!d) {
		return -ENOMEM;
	}
	mem_free(*p);
	*p = d;
	return 0;
}

int agent_settings_init(struct agent_settings *s)
{
	int r = 0;

	memset(s, 0, sizeof(*s));
	s->mode = AGENT_MODE_SYSTEMD;
	s->output = AGENT_OUTPUT_TABLE;
	s->connect_ms = 1000;
	s->request_ms = 5000;
	s->start_ms = 120000;
	s->stop_ms = 30000;
	s->drill.mode = MANIFEST_DRILL_KILL;
	s->drill.pause_ms = 5000;
	s->drill.write_interval_ms = 10;
	s->drill.leader_timeout_ms = 10000;
	s->drill.stable_time_ms = 10000;
	s->drill.clock_skew_max_ms = 500;
	r = r ?: set_str(&s->manifest, MANIFEST_DEFAULT_PATH);
	r = r ?: set_str(&s->root, "/");
	r = r ?: set_str(&s->log_level, "info");
	r = r ?: set_str(&s->unit_dir, "/etc/systemd/system");
	r = r ?: set_str(&s->hosts_file, "/etc/hosts");
	r = r ?: set_str(&s->hostname_file, "/etc/hostname");
	r = r ?: set_str(&s->state_dir, "/var/lib/cetcd-agent");
	r = r ?: set_str(&s->cetcd, "/usr/local/bin/cetcd");
	r = r ?: set_str(&s->ssh, "/usr/bin/ssh");
	if (r < 0) {
		agent_settings_done(s);
	}
	return r;
}

static int copy_settings(struct agent_settings *dst,
			 const struct agent_settings *src)
{
	size_t i;

	*dst = *src;
	for (i = 0; i < N_SDEFS; i++) {
		if (sdefs[i].kind == S_PATH || sdefs[i].kind == S_STRING ||
		    sdefs[i].kind == S_LOGLEVEL) {
			*str_at(dst, sdefs[i].off) = NULL;
		}
	}
	for (i = 0; i < N_SDEFS; i++) {
		if (sdefs[i].kind == S_PATH || sdefs[i].kind == S_STRING ||
		    sdefs[i].kind == S_LOGLEVEL) {
			const char *v =
			    *str_at((struct agent_settings *)(uintptr_t)src,
				    sdefs[i].off);

			if (v && set_str(str_at(dst, sdefs[i].off), v) < 0) {
				free_strings(dst);
				return -ENOMEM;
			}
		}
	}
	return 0;
}

const char *agent_mode_name(enum agent_mode mode)
{
	return mode == AGENT_MODE_LOCAL ? "local" : "systemd";
}

int agent_mode_parse(const char *s, enum agent_mode *out)
{
	if (strcmp(s, "systemd") == 0) {
		*out = AGENT_MODE_SYSTEMD;
	} else if (strcmp(s, "local") == 0) {
		*out = AGENT_MODE_LOCAL;
	} else {
		return -EINVAL;
	}
	return 0;
}

int agent_output_parse(const char *s, enum agent_output *out)
{
	if (strcmp(s, "table") == 0) {
		*out = AGENT_OUTPUT_TABLE;
	} else if (strcmp(s, "json") == 0) {
		*out = AGENT_OUTPUT_JSON;
	} else {
		return -EINVAL;
	}
	return 0;
}

struct sctx {
	const char *path;
	struct buf *errs;
	int n_errors;
	int err; /* sticky -ENOMEM */
};

__attribute__((format(printf, 3, 4))) static void
serr(struct sctx *c, const config_setting_t *at, const char *fmt, ...)
{
	va_list ap;
	int r;

	r = buf_printf(c->errs, "%s:%u: ", c->path,
		       at ? config_setting_source_line(at) : 0);
	if (r == 0) {
		va_start(ap, fmt);
		r = buf_vprintf(c->errs, fmt, ap);
		va_end(ap);
	}
	r = r ?: buf_append_byte(c->errs, '\n');
	if (r < 0) {
		c->err = r;
	}
	c->n_errors++;
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "a number";
	case CONFIG_TYPE_FLOAT:
		return "a decimal number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
		return "an array";
	case CONFIG_TYPE_LIST:
		return "a list";
	default:
		return "something else";
	}
}

static void parse_one(struct sctx *c, struct agent_settings *s,
		      const struct sdef *d, const config_setting_t *st)
{
	const char *name = d->name;
	int type = config_setting_type(st);
	const char *v = NULL;
	uint64_t ms;

	if (d->kind == S_DURATION &&
	    (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)) {
		long long n = config_setting_get_int64(st);

		if (n < 0) {
			serr(c, st,
			     "%s is negative; give a duration such as "
			     "500ms or 10s",
			     name);
			return;
		}
		*u64_at(s, d->off) = (uint64_t)n;
		return;
	}
	if (type != CONFIG_TYPE_STRING) {
		serr(c, st, "%s is %s; write it as a string in double quotes%s",
		     name, type_name(type),
		     d->kind == S_DURATION ? " (e.g. \"10s\")" : "");
		return;
	}
	v = config_setting_get_string(st);
	switch (d->kind) {
	case S_PATH:
		if (v[0] != '/') {
			serr(c, st,
			     "%s \"%s\" is not an absolute path; start "
			     "it with /",
			     name, v);
			return;
		}
		if (set_str(str_at(s, d->off), v) < 0) {
			c->err = -ENOMEM;
		}
		return;
	case S_STRING:
		if (set_str(str_at(s, d->off), v) < 0) {
			c->err = -ENOMEM;
		}
		return;
	case S_MODE:
		if (agent_mode_parse(v, &s->mode) < 0) {
			serr(c, st,
			     "mode \"%s\" is unknown; write \"systemd\" "
			     "or \"local\"",
			     v);
		}
		return;
	case S_OUTPUT:
		if (agent_output_parse(v, &s->output) < 0) {
			serr(c, st,
			     "output \"%s\" is unknown; write \"table\" "
			     "or \"json\"",
			     v);
		}
		return;
	case S_LOGLEVEL: {
		enum log_level lvl;

		if (log_level_parse(v, &lvl) < 0) {
			serr(c, st,
			     "log_level \"%s\" is unknown; write "
			     "\"debug\", \"info\", \"warn\" or \"error\"",
			     v);
			return;
		}
		if (set_str(str_at(s, d->off), v) < 0) {
			c->err = -ENOMEM;
		}
		return;
	}
	case S_DURATION:
		if (manifest_parse_duration(v, &ms) < 0) {
			serr(c, st,
			     "%s \"%s\" is not a duration; write a "
			     "number with ms, s, m or h (e.g. \"10s\")",
			     name, v);
			return;
		}
		*u64_at(s, d->off) = ms;
		return;
	case S_DRILL_MODE:
		if (manifest_drill_mode_parse(v, &s->drill.mode) < 0) {
			serr(c, st,
			     "drill mode \"%s\" is unknown; write "
			     "\"kill\", \"stop\" or \"pause\"",
			     v);
		}
		return;
	}
}

static void unknown(struct sctx *c, const config_setting_t *st,
		    const char *where, const char *const *known, size_t n)
{
	const char *name = config_setting_name(st);
	const char *sug = manifest_suggest(name ? name : "", known, n);

	if (sug) {
		serr(c, st, "unknown setting '%s' in %s; did you mean '%s'?",
		     name ? name : "?", where, sug);
	} else {
		serr(c, st,
		     "unknown setting '%s' in %s; etc/agent.conf lists "
		     "every setting",
		     name ? name : "?", where);
	}
}

static void parse_group(struct sctx *c, struct agent_settings *s,
			const config_setting_t *grp, const char *gname)
{
	const char *known[N_SDEFS];
	size_t n_known = 0, i;
	int k, n = config_setting_length(grp);

	for (i = 0; i < N_SDEFS; i++) {
		if ((gname == NULL) == (sdefs[i].group == NULL) &&
		    (!gname || strcmp(gname, sdefs[i].group) == 0)) {
			known[n_known++] = sdefs[i].name;
		}
	}
	for (k = 0; k < n; k++) {
		const config_setting_t *st =
		    config_setting_get_elem(grp, (unsigned)k);
		const char *name = config_setting_name(st);
		bool found = false;

		if (!gname && name) {
			for (i = 0; i < sizeof(groups) / sizeof(groups[0]);
			     i++) {
				if (strcmp(name, groups[i]) != 0) {
					continue;
				}
				found = true;
				if (!config_setting_is_group(st)) {
					serr(c, st,
					     "%s is %s; write it as a group: "
					     "%s = { ... };",
					     name,
					     type_name(config_setting_type(st)),
					     name);
				} else {
					parse_group(c, s, st, groups[i]);
				}
			}
		}
		for (i = 0; !found && name && i < N_SDEFS; i++) {
			if ((gname == NULL) == (sdefs[i].group == NULL) &&
			    (!gname || strcmp(gname, sdefs[i].group) == 0) &&
			    strcmp(name, sdefs[i].name) == 0) {
				found = true;
				parse_one(c, s, &sdefs[i], st);
			}
		}
		if (!found) {
			const char *all[N_SDEFS + 3];
			size_t m = n_known;

			memcpy(all, known, n_known * sizeof(*all));
			if (!gname) {
				memcpy(all + m, groups, sizeof(groups));
				m += sizeof(groups) / sizeof(groups[0]);
			}
			unknown(c, st, gname ? gname : "the top level", all, m);
		}
	}
}

int agent_settings_load(struct agent_settings *s, const char *path,
			bool must_exist, struct buf *errs)
{
	struct agent_settings tmp;
	struct sctx c = {path, errs, 0, 0};
	config_t cfg;
	int r;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		if (!must_exist) {
			return 0;
		}
		r = buf_printf(errs,
			       "%s: no such file; check the path given "
			       "with -c\n",
			       path);
		return r < 0 ? r : -ENOENT;
	}
	config_init(&cfg);
	if (!config_read_file(&cfg, path)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO) {
			r = buf_printf(errs,
				       "%s: cannot read it: %s; check "
				       "the file's permissions\n",
				       path, strerror(errno));
		} else {
			r = buf_printf(
			    errs,
			    "%s:%d: %s; see etc/agent.conf for the "
			    "syntax (name = value;)\n",
			    config_error_file(&cfg) ? config_error_file(&cfg)
						    : path,
			    config_error_line(&cfg), config_error_text(&cfg));
		}
		config_destroy(&cfg);
		return r < 0 ? r : -ERR_CONFIG;
	}
	r = copy_settings(&tmp, s);
	if (r < 0) {
		config_destroy(&cfg);
		return r;
	}
	parse_group(&c, &tmp, config_root_setting(&cfg), NULL);
	config_destroy(&cfg);
	if (c.err || c.n_errors) {
		free_strings(&tmp);
		return c.err ? c.err : -ERR_CONFIG;
	}
	free_strings(s);
	*s = tmp;
	return 0;
}
