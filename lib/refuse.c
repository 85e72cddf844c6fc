/* SPDX-License-Identifier: MIT */
/* refuse: refusals counted by reason, logged with rate limiting. */
#include <stddef.h>
#include <string.h>

#include "lib/refuse.h"

#define REFUSE__NAME(e, name, what) name,
#define REFUSE__WHAT(e, name, what) what,
static const char *const refuse_names[] = { REFUSE_REASONS(REFUSE__NAME) };
static const char *const refuse_whats[] = { REFUSE_REASONS(REFUSE__WHAT) };
#undef REFUSE__NAME
#undef REFUSE__WHAT

const char *refuse_name(int why)
{
	return why >= 0 && why < REFUSE_COUNT ? refuse_names[why] : NULL;
}

const char *refuse_what(int why)
{
	return why >= 0 && why < REFUSE_COUNT ? refuse_whats[why] : NULL;
}

int refuse_by_name(const char *name)
{
	int i;

	for (i = 0; i < REFUSE_COUNT; i++)
		if (strcmp(refuse_names[i], name) == 0)
			return i;
	return -1;
}

int refuse_note(struct refusals *r, enum refuse_reason why, uint64_t now_ms,
		uint64_t *quiet)
{
	if ((int)why < 0 || why >= REFUSE_COUNT)
		return 0;
	r->n[why]++;
	if (r->ever_logged[why] &&
	    now_ms - r->logged_ms[why] < REFUSE_LOG_INTERVAL_MS) {
		r->unlogged[why]++;
		return 0;
	}
	*quiet = r->unlogged[why];
	r->unlogged[why] = 0;
	r->logged_ms[why] = now_ms;
	r->ever_logged[why] = 1;
	return 1;
}
