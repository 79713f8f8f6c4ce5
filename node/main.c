/*
 * main.c - the cetcd member daemon: read the configuration as etcd does
 * (node/server/config.h), report every problem in one line, then run the
 * member.  The member loop arrives with issue 6; until then a valid
 * configuration is printed and the program says plainly that it cannot
 * serve yet (exit status 2).
 *
 * Exit status: 0 for --help and --version, 1 for a bad configuration,
 * 2 while the member loop is missing.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/version.h"
#include "server/config.h"

extern char **environ;

int main(int argc, char **argv)
{
	struct config *c = NULL;
	char *msg = NULL;
	struct buf b = BUF_INIT;
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
	if (config_describe(c, &b) < 0) {
		config_free(c);
		buf_done(&b);
		fprintf(stderr, "cetcd: %s\n", err_str(-ENOMEM));
		return 1;
	}
	fputs((const char *)b.data, stdout);
	fflush(stdout);
	buf_done(&b);
	config_free(c);
	fprintf(stderr, "cetcd: configuration is valid, but the member loop "
			"is not implemented yet (issue 6); not serving\n");
	return 2;
}
