/*
 * test_settings.c - agent.conf: etc/agent.conf documents exactly the
 * built-in defaults, a bad file is refused whole with file:line messages,
 * and a missing default file is no error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/settings.h"
#include "base/buf.h"
#include "base/err.h"
#include "testlib.h"

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_settings_example_file_documents_the_defaults)
{
	struct agent_settings def, ex;
	struct buf errs = BUF_INIT;

	ck_assert_int_eq(agent_settings_init(&def), 0);
	ck_assert_int_eq(agent_settings_init(&ex), 0);
	ck_assert_int_eq(agent_settings_load(&ex,
					     testlib_src_path("etc/agent.conf"),
					     true, &errs),
			 0);
	ck_assert_uint_eq(errs.len, 0);
	ck_assert_str_eq(ex.manifest, def.manifest);
	ck_assert_int_eq(ex.mode, def.mode);
	ck_assert_str_eq(ex.root, def.root);
	ck_assert_int_eq(ex.output, def.output);
	ck_assert_str_eq(ex.log_level, def.log_level);
	ck_assert_str_eq(ex.unit_dir, def.unit_dir);
	ck_assert_str_eq(ex.hosts_file, def.hosts_file);
	ck_assert_str_eq(ex.hostname_file, def.hostname_file);
	ck_assert_str_eq(ex.state_dir, def.state_dir);
	ck_assert_str_eq(ex.cetcd, def.cetcd);
	ck_assert_str_eq(ex.ssh, def.ssh);
	ck_assert_uint_eq(ex.connect_ms, def.connect_ms);
	ck_assert_uint_eq(ex.request_ms, def.request_ms);
	ck_assert_uint_eq(ex.start_ms, def.start_ms);
	ck_assert_uint_eq(ex.stop_ms, def.stop_ms);
	ck_assert_int_eq(ex.drill.mode, def.drill.mode);
	ck_assert_uint_eq(ex.drill.pause_ms, def.drill.pause_ms);
	ck_assert_uint_eq(ex.drill.write_interval_ms,
			  def.drill.write_interval_ms);
	ck_assert_uint_eq(ex.drill.leader_timeout_ms,
			  def.drill.leader_timeout_ms);
	ck_assert_uint_eq(ex.drill.stable_time_ms, def.drill.stable_time_ms);
	ck_assert_uint_eq(ex.drill.clock_skew_max_ms,
			  def.drill.clock_skew_max_ms);
	agent_settings_done(&def);
	agent_settings_done(&ex);
	buf_done(&errs);
}
END_TEST

START_TEST(test_settings_file_values_replace_the_defaults)
{
	char path[4096];
	struct agent_settings s;
	struct buf errs = BUF_INIT;

	snprintf(path, sizeof(path), "%s/a.conf", testlib_tmpdir());
	write_text(path, "mode = \"local\";\nroot = \"/srv/stage\";\n"
			 "paths = { unit_dir = \"/run/systemd/system\"; };\n"
			 "timeouts = { start = \"5m\"; connect = 250; };\n"
			 "drill = { mode = \"pause\"; pause = \"2s\"; };\n");
	ck_assert_int_eq(agent_settings_init(&s), 0);
	ck_assert_int_eq(agent_settings_load(&s, path, true, &errs), 0);
	ck_assert_int_eq(s.mode, AGENT_MODE_LOCAL);
	ck_assert_str_eq(s.root, "/srv/stage");
	ck_assert_str_eq(s.unit_dir, "/run/systemd/system");
	ck_assert_str_eq(s.hosts_file, "/etc/hosts");
	ck_assert_uint_eq(s.start_ms, 300000);
	ck_assert_uint_eq(s.connect_ms, 250);
	ck_assert_int_eq(s.drill.mode, MANIFEST_DRILL_PAUSE);
	ck_assert_uint_eq(s.drill.pause_ms, 2000);
	agent_settings_done(&s);
	buf_done(&errs);
}
END_TEST

START_TEST(test_settings_bad_file_is_refused_with_file_and_line)
{
	char path[1024], want[16384];
	struct agent_settings s;
	struct buf errs = BUF_INIT;

	snprintf(path, sizeof(path), "%s/b.conf", testlib_tmpdir());
	write_text(path,
		   "mode = \"sytemd\";\n"
		   "paths = { unit_dri = \"/x\"; hosts_file = \"rel\"; };\n"
		   "timeouts = { stop = true; start = \"soon\"; };\n"
		   "ouptut = \"json\";\n"
		   "drill = 3;\n");
	ck_assert_int_eq(agent_settings_init(&s), 0);
	ck_assert_int_eq(agent_settings_load(&s, path, true, &errs),
			 -ERR_CONFIG);
	snprintf(
	    want, sizeof(want),
	    "%1$s:1: mode \"sytemd\" is unknown; write \"systemd\" or "
	    "\"local\"\n"
	    "%1$s:2: unknown setting 'unit_dri' in paths; did you mean "
	    "'unit_dir'?\n"
	    "%1$s:2: hosts_file \"rel\" is not an absolute path; start it "
	    "with /\n"
	    "%1$s:3: stop is true or false; write it as a string in double "
	    "quotes (e.g. \"10s\")\n"
	    "%1$s:3: start \"soon\" is not a duration; write a number with "
	    "ms, s, m or h (e.g. \"10s\")\n"
	    "%1$s:4: unknown setting 'ouptut' in the top level; did you "
	    "mean 'output'?\n"
	    "%1$s:5: drill is a number; write it as a group: drill = { ... "
	    "};\n",
	    path);
	ck_assert_str_eq((char *)errs.data, want);
	/* Nothing of the bad file was taken. */
	ck_assert_int_eq(s.mode, AGENT_MODE_SYSTEMD);
	ck_assert_str_eq(s.hosts_file, "/etc/hosts");
	agent_settings_done(&s);
	buf_done(&errs);
}
END_TEST

START_TEST(test_settings_syntax_error_names_the_line)
{
	char path[1024], want[16384];
	struct agent_settings s;
	struct buf errs = BUF_INIT;

	snprintf(path, sizeof(path), "%s/c.conf", testlib_tmpdir());
	write_text(path, "mode = \"local\";\n\nroot = \n");
	ck_assert_int_eq(agent_settings_init(&s), 0);
	ck_assert_int_eq(agent_settings_load(&s, path, true, &errs),
			 -ERR_CONFIG);
	snprintf(want, sizeof(want),
		 "%s:4: syntax error; see etc/agent.conf "
		 "for the syntax (name = value;)\n",
		 path);
	ck_assert_str_eq((char *)errs.data, want);
	agent_settings_done(&s);
	buf_done(&errs);
}
END_TEST

START_TEST(test_settings_missing_default_file_is_fine)
{
	struct agent_settings s;
	struct buf errs = BUF_INIT;

	ck_assert_int_eq(agent_settings_init(&s), 0);
	ck_assert_int_eq(
	    agent_settings_load(&s, "/nonexistent/agent.conf", false, &errs),
	    0);
	ck_assert_int_eq(
	    agent_settings_load(&s, "/nonexistent/agent.conf", true, &errs),
	    -ENOENT);
	ck_assert_str_eq((char *)errs.data,
			 "/nonexistent/agent.conf: no such file; check the "
			 "path given with -c\n");
	agent_settings_done(&s);
	buf_done(&errs);
}
END_TEST

static Suite *settings_suite(void)
{
	Suite *s = suite_create("settings");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_settings_example_file_documents_the_defaults);
	tcase_add_test(tc, test_settings_file_values_replace_the_defaults);
	tcase_add_test(tc,
		       test_settings_bad_file_is_refused_with_file_and_line);
	tcase_add_test(tc, test_settings_syntax_error_names_the_line);
	tcase_add_test(tc, test_settings_missing_default_file_is_fine);
	suite_add_tcase(s, tc);
	return s;
}

TEST_SUITE(settings_suite)
