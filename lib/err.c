/* SPDX-License-Identifier: MIT */
#include "lib/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

void err_wrap(struct err *e, const char *fmt, ...)
{
	char joined[2 * ERR_MSG_MAX + 2];
	size_t n;
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(joined, ERR_MSG_MAX, fmt, ap);
	va_end(ap);
	n = strlen(joined);
	snprintf(joined + n, sizeof joined - n, ": %s", e->msg);
	/* Too long: keep the start, which says where it failed. */
	snprintf(e->msg, sizeof e->msg, "%.*s", (int)(sizeof e->msg - 1), joined);
}

void err_clear(struct err *e)
{
	if (e == NULL)
		return;
	e->code = 0;
	e->msg[0] = '\0';
}

const char *rumor_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
#define RUMOR__CASE(name, value, text) \
	case value:                     \
		return text;
		RUMOR_ERRORS(RUMOR__CASE)
#undef RUMOR__CASE
	}
	return "unknown error";
}
