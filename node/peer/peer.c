/*
 * peer.c - placeholder translation unit so that node/peer exists as a
 * convenience library in the layer order of design.md; the layer's code
 * arrives with its issue.
 */
#include "base/err.h"

int peer_layer_id(void);

int peer_layer_id(void)
{
	return ERR_BASE;
}
