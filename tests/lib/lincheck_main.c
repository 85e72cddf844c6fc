/* SPDX-License-Identifier: MIT */
/*
 * lincheck_tool: checks a history file (format: tests/lib/lincheck.h)
 * for linearizability, key by key. Exit 0 linearizable, 1 not (the key
 * and the smallest failing prefix on stdout), 2 too hard (the search
 * budget ran out) or a bad file or usage (stderr says which line).
 *
 *     lincheck_tool [--budget STEPS] [FILE|-]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/lincheck.h"

static void print_key(const struct lc_result *r)
{
	size_t i;

	for (i = 0; i < r->key_len; i++) {
		if (r->key[i] > 0x20 && r->key[i] < 0x7f && r->key[i] != '%')
			putchar(r->key[i]);
		else
			printf("%%%02X", r->key[i]);
	}
}

int main(int argc, char **argv)
{
	struct lincheck h;
	struct lc_result r;
	const char *path = "-";
	unsigned long long budget = 0;
	char err[256];
	FILE *f;
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
			char *end;

			budget = strtoull(argv[++i], &end, 10);
			if (*end != '\0' || budget == 0) {
				fprintf(stderr, "lincheck_tool: bad budget\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--help") == 0 ||
			   (argv[i][0] == '-' && argv[i][1] != '\0')) {
			fprintf(stderr, "usage: lincheck_tool [--budget "
				"STEPS] [FILE|-]\n");
			return 2;
		} else {
			path = argv[i];
		}
	}
	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return 2;
	}
	lincheck_init(&h);
	if (lincheck_read(&h, f, err, sizeof(err)) < 0) {
		fprintf(stderr, "lincheck_tool: %s: %s\n", path, err);
		lincheck_free(&h);
		if (f != stdin)
			fclose(f);
		return 2;
	}
	if (f != stdin)
		fclose(f);
	lincheck_check(&h, budget, &r);
	switch (r.verdict) {
	case LC_LINEARIZABLE:
		printf("linearizable: %zu ops, %zu keys, %llu steps\n", h.n,
		       r.keys, (unsigned long long)r.steps);
		break;
	case LC_NOT_LINEARIZABLE:
		printf("NOT linearizable: key ");
		print_key(&r);
		printf("\n%s", r.why);
		break;
	case LC_TOO_HARD:
		printf("too hard: key ");
		print_key(&r);
		printf(": %s", r.why);
		break;
	}
	lincheck_free(&h);
	return r.verdict == LC_LINEARIZABLE ? 0
	       : r.verdict == LC_NOT_LINEARIZABLE ? 1 : 2;
}
