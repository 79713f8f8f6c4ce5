/*
 * ctl_main.c - cetcdctl, the etcdctl-compatible CLI.  Commands arrive with
 * issue 9; until then `version` works and everything else says so.
 */
#include <stdio.h>
#include <string.h>

#include "base/version.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "version") == 0 ||
			  strcmp(argv[1], "--version") == 0)) {
		/* etcd compat: etcdctl prints "etcdctl version:" and "API version:". */
		version_print(stdout, "cetcdctl");
		return 0;
	}
	fprintf(stderr, "cetcdctl: only 'version' is implemented yet (issue 9)\n");
	return 1;
}
