/*
 * proto.c - node/proto's own code; the JSON codec joins it in issue 2.
 */
#include "proto/proto.h"
