/*
 * cluster.h - the in-process member fixture the member, snapshot and lease
 * suites share: members (node/server/member.h) on one sys_loop, each with
 * a real data dir under testlib_tmpdir() and real peer sockets on the
 * test's own loopback addresses; requests submitted with member_request
 * and the loop run until they are answered.
 *
 * Invariants:
 *  1. Every wait is bounded by CLUSTER_WAIT_MS and fails the test (Check
 *     assertion) when it runs out; nothing waits forever.
 *  2. Data dirs live under testlib_tmpdir(), removed when the test process
 *     exits, a failing test's too; members are in-process, so they end
 *     with it.  cluster_stop frees a struct cluster's members, their
 *     configurations and the loop.
 *  3. Fast elections: heartbeat 10 ms, election timeout 100 ms.
 */
#ifndef CETCD_TESTS_CLUSTER_H
#define CETCD_TESTS_CLUSTER_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc.pb-c.h"
#include "server/config.h"
#include "server/member.h"
#include "sys/loop.h"

#define CLUSTER_WAIT_MS 10000
#define CLUSTER_MAX 5

struct cluster_node {
	char name[16];
	char dir[512];
	char addr[16];
	int peer_port;
	int client_port;
	struct config *cfg;
	struct member *m;
};

/* name, a data dir dir/<name>.etcd, a loopback address and free ports. */
void cluster_node_init(struct cluster_node *nd, const char *name,
		       const char *dir);
/*
 * The configuration of nd in the cluster nodes[0..n) with token; extra
 * (NULL-terminated, may be NULL) are more command-line flags.
 */
struct config *cluster_node_config(const struct cluster_node *nd,
				   const struct cluster_node *nodes, size_t n,
				   const char *token, const char *const *extra);
/* member_new from nd->cfg into nd->m; fails the test on an error. */
void cluster_node_start(struct sys_loop *loop, struct cluster_node *nd);
/* Free nd's member and configuration (NULL ok). */
void cluster_node_done(struct cluster_node *nd);

/* Run the loop until *flag, at most CLUSTER_WAIT_MS (then fail). */
void cluster_run_until(struct sys_loop *loop, const bool *flag);
/* Run the loop for ms milliseconds. */
void cluster_run_for(struct sys_loop *loop, uint64_t ms);
/*
 * Submit and run the loop until answered; returns the error.  *resp (may
 * be NULL) gets a copy of the response (proto_free), NULL on an error.
 */
int cluster_call(struct sys_loop *loop, struct member *m, enum member_op op,
		 const ProtobufCMessage *req, ProtobufCMessage **resp);
/* Run until every live (non-NULL) member of ms knows the same leader,
 * other than not_leader (0: any); returns it. */
uint64_t cluster_wait_leader(struct sys_loop *loop, struct member **ms,
			     size_t n, uint64_t not_leader);
/* The index in nd[0..n) of the node whose member ID is id (n: none). */
size_t cluster_node_index(const struct cluster_node *nd, size_t n,
			  uint64_t id);
/* Put k = v; *rev (may be NULL) the response's revision. */
int cluster_put(struct sys_loop *loop, struct member *m, const char *k,
		const char *v, int64_t *rev);
/* Get k; *val (mem_free) NULL when absent; *h (may be NULL) the header. */
int cluster_get(struct sys_loop *loop, struct member *m, const char *k,
		bool serializable, char **val, Etcdserverpb__ResponseHeader *h);

/*
 * One member "solo" (data dir under testlib_tmpdir()) on a new loop
 * (*loop, sys_loop_free), started and leading; token and extra as
 * cluster_node_config's.  Free with cluster_node_done.
 */
void cluster_solo(struct sys_loop **loop, struct cluster_node *nd,
		  const char *token, const char *const *extra);

/* n members n1..nN on a loop of their own, started, with a leader. */
struct cluster {
	struct sys_loop *loop;
	struct cluster_node nodes[CLUSTER_MAX];
	struct member *ms[CLUSTER_MAX]; /* nodes[i].m, for wait_leader */
	size_t n;
};

/* Start c as above (token, extra: cluster_node_config's). */
void cluster_start(struct cluster *c, size_t n, const char *token,
		   const char *const *extra);
/* Refresh c->ms from the nodes (after a member is freed or restarted). */
void cluster_sync(struct cluster *c);
/* Free every member, configuration and the loop. */
void cluster_stop(struct cluster *c);

#endif
