/*
 * api.c - placeholder translation unit so that node/api exists as a
 * convenience library in the layer order of design.md; the layer's code
 * arrives with its issue.
 */
#include "base/err.h"

int api_layer_id(void);

int api_layer_id(void)
{
	return ERR_BASE;
}
