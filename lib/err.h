/* SPDX-License-Identifier: MIT */
/* err: an error code (RUMOR_E*) with a message that says what failed. */
#ifndef RUMOR_LIB_ERR_H
#define RUMOR_LIB_ERR_H

#include "rumor.h"

#define ERR_MSG_MAX RUMOR_ERRMSG_MAX

struct err {
	int code;                 /* 0 or a negative RUMOR_E* code */
	char msg[ERR_MSG_MAX];    /* detail; "" when code is 0 */
};

/* Records code and a printf-style message in e (e may be NULL) and
 * returns code, so that callers can write `return err_set(e, ...)`. */
int err_set(struct err *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the message already in e with "what: " (for context). */
void err_wrap(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct err *e);

#endif
