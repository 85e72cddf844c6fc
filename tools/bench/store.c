/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "bench.h"

int bench_store_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "rumor-bench: the store mode is not written yet\n");
	return 1;
}
