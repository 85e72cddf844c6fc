/* SPDX-License-Identifier: MIT */
/*
 * strong: strong writes (two-phase commit with a quorum): the
 * coordinator's and the participant's sides, intents recovered at open,
 * readiness. SCAFFOLD (issue 14): the core helper replaces these stubs.
 */
#include <stddef.h>

#include "rumor.h"
#include "node/node.h"

int rumor_write_strong(struct rumor *n, const struct rumor_op *ops,
		       size_t n_ops, rumor_strong_cb cb, void *arg)
{
	(void)ops;
	(void)n_ops;
	(void)cb;
	(void)arg;
	return node_fail(n, &(struct err){RUMOR_EREFUSED,
					  "strong writes: not built yet"});
}

int rumor_put_strong(struct rumor *n, const void *key, size_t key_len,
		     const void *value, size_t value_len, rumor_strong_cb cb,
		     void *arg)
{
	struct rumor_op op = {key, key_len, value, value_len, 0};

	return rumor_write_strong(n, &op, 1, cb, arg);
}

int rumor_del_strong(struct rumor *n, const void *key, size_t key_len,
		     rumor_strong_cb cb, void *arg)
{
	struct rumor_op op = {key, key_len, NULL, 0, 1};

	return rumor_write_strong(n, &op, 1, cb, arg);
}

int rumor_ready(struct rumor *n)
{
	(void)n;
	return 1;
}
