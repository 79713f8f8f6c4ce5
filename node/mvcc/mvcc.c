/*
 * mvcc.c - placeholder translation unit so that node/mvcc exists as a
 * convenience library in the layer order of design.md; the layer's code
 * arrives with its issue.
 */
#include "base/err.h"

int mvcc_layer_id(void);

int mvcc_layer_id(void)
{
	return ERR_BASE;
}
