/*
 * version.c - version strings (version.h); the values come from configure.
 */
#include "base/version.h"

const char *version_cetcd(void)
{
	return PACKAGE_VERSION;
}

const char *version_etcd(void)
{
	return CETCD_ETCD_VERSION;
}

const char *version_api(void)
{
	return CETCD_API_VERSION;
}

void version_print(FILE *out, const char *prog)
{
	fprintf(out, "%s version: %s\n", prog, PACKAGE_VERSION);
	fprintf(out, "etcd version: %s\n", CETCD_ETCD_VERSION);
	fprintf(out, "API version: %s\n", CETCD_API_VERSION);
}
