/*
 * main.c - the cetcd member daemon: parse the command line, then run the
 * member.  The member itself arrives with issue 6; until then this prints
 * its version and says plainly that it cannot serve yet.
 */
#include <stdio.h>
#include <string.h>

#include "base/version.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: cetcd [flags]\n"
		     "\n"
		     "  --version   print the version and exit\n"
		     "  --help      print this help and exit\n");
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--version") == 0 || strcmp(a, "-version") == 0) {
			printf("cetcd Version: %s\n", version_cetcd());
			printf("etcd Version: %s\n", version_etcd());
			printf("API version: %s\n", version_api());
			return 0;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 ||
		    strcmp(a, "-help") == 0) {
			usage(stdout);
			return 0;
		}
	}
	fprintf(stderr, "cetcd: the member daemon is not implemented yet "
			"(issue 6); only --version and --help work\n");
	return 2;
}
