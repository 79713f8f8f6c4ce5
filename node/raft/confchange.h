/*
 * raft/confchange.h - internal: the next membership configuration after a
 * change (raft/confchange.c).  Pure; out is owned by the caller.
 * -ERR_INVALID when the change does not apply to cur (leaving a non-joint
 * configuration, entering joint twice, more than one voter changed without
 * joint consensus, no voter left), -ENOMEM.
 */
#ifndef CETCD_RAFT_CONFCHANGE_H
#define CETCD_RAFT_CONFCHANGE_H

#include "raft/raft.h"

int raft_confchange_next(const struct raft_conf_state *cur,
			 const struct raft_conf_change *cc,
			 struct raft_conf_state *out);

#endif
