/* SPDX-License-Identifier: MIT */
/*
 * rumorctl keygen: writes a new network key file, or prints the id of
 * the node whose data dir is given. Needs no running node.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/identity.h"
#include "tools/ctl/ctl.h"

/* --network-key FILE: never overwrites an existing file. */
static int keygen_network_key(const struct ctx *x)
{
	struct err err;

	err_clear(&err);
	if (network_key_generate(x->network_key, &err) != 0)
		return fmt_fail(CTL_EXIT_FAIL, "%s", err.msg);
	if (x->json) {
		printf("{\"network_key_file\":");
		fmt_json_cstr(stdout, x->network_key);
		printf("}\n");
	} else {
		printf("wrote a new network key to %s (mode 0600); give it to "
		       "every node with --network-key\n", x->network_key);
	}
	return 0;
}

/* --id: the key is only read; a missing one must not be created from
 * here (that is rumord's first start). */
static int keygen_print_id(const struct ctx *x)
{
	struct identity id;
	struct err err;
	struct stat st;
	char path[PATH_MAX], idstr[IDENTITY_ID_STRLEN];

	err_clear(&err);
	snprintf(path, sizeof(path), "%s/%s", x->data, IDENTITY_FILE);
	if (stat(path, &st) != 0)
		return fmt_fail(CTL_EXIT_FAIL, "no node key at %s (%s); rumord "
				"creates it at first start", path,
				strerror(errno));
	if (identity_load_or_create(&id, x->data, &err) != 0)
		return fmt_fail(CTL_EXIT_FAIL, "%s", err.msg);
	identity_id_string(id.public_key, idstr);
	identity_wipe(&id);
	if (x->json)
		printf("{\"id\":\"%s\"}\n", idstr);
	else
		printf("%s\n", idstr);
	return 0;
}

int cmd_keygen(struct ctx *x, int argc, char **argv)
{
	(void)argv;
	if (argc != 1 || (x->network_key != NULL) == x->want_id)
		return fmt_fail(CTL_EXIT_USAGE, "usage: rumorctl keygen "
				"--network-key FILE | --id");
	if (x->network_key != NULL)
		return keygen_network_key(x);
	return keygen_print_id(x);
}
