/*
 * agent_main.c - cetcd-agent: manifest to configured, supervised, drilled
 * cluster.  Commands arrive with issue 10; until then --version works and
 * everything else says so.
 */
#include <stdio.h>
#include <string.h>

#include "base/version.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 ||
			  strcmp(argv[1], "version") == 0)) {
		version_print(stdout, "cetcd-agent");
		return 0;
	}
	fprintf(stderr, "cetcd-agent: only --version is implemented yet (issue 10)\n");
	return 1;
}
