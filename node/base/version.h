/*
 * version.h - what every cetcd program prints for --version / version.
 */
#ifndef CETCD_BASE_VERSION_H
#define CETCD_BASE_VERSION_H

#include <stdio.h>

/* cetcd's own version, e.g. "0.1.0". */
const char *version_cetcd(void);
/* The etcd server version reported to clients, e.g. "3.5.13". */
const char *version_etcd(void);
/* The etcd API version spoken, e.g. "3.5". */
const char *version_api(void);

/*
 * etcd compat: `etcd --version` prints "etcd Version: ..." and friends,
 * `etcdctl version` prints "etcdctl version: ..." and "API version: ...".
 * prog is the program's name as the first word.
 */
void version_print(FILE *out, const char *prog);

#endif
