/*
 * err.c - names and descriptions for errno values and project codes.
 */
#include "base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const err_texts[] = {
#define ERR_TEXT_(name, text) [name - ERR_FIRST_ - 1] = text,
	ERR_TABLE(ERR_TEXT_)
#undef ERR_TEXT_
};

static const char *const err_names[] = {
#define ERR_NAME_(name, text) [name - ERR_FIRST_ - 1] = #name,
	ERR_TABLE(ERR_NAME_)
#undef ERR_NAME_
};

static int is_project_code(int code)
{
	return code > ERR_FIRST_ && code < ERR_LAST_;
}

const char *err_str(int err)
{
	int code = abs(err);

	if (code == 0) {
		return "success";
	}
	if (is_project_code(code)) {
		return err_texts[code - ERR_FIRST_ - 1];
	}
	if (code < ERR_BASE) {
		return strerror(code);
	}
	return "unknown error";
}

const char *err_name(int err)
{
	int code = abs(err);

	if (code == 0) {
		return "OK";
	}
	if (is_project_code(code)) {
		return err_names[code - ERR_FIRST_ - 1];
	}
	if (code < ERR_BASE) {
		const char *name = strerrorname_np(code);
		return name != NULL ? name : "EUNKNOWN";
	}
	return "ERR_UNKNOWN";
}
