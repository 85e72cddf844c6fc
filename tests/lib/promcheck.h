/* SPDX-License-Identifier: MIT */
/*
 * promcheck: a small validator of Prometheus text exposition format
 * 0.0.4, for tests of rumor_metrics and rumord --metrics (promtool does
 * the full check in the cluster test, when installed).
 */
#ifndef RUMOR_TESTS_PROMCHECK_H
#define RUMOR_TESTS_PROMCHECK_H

#include <stddef.h>

/* 0 when text (len bytes) is well-formed exposition text: every line a
 * # HELP, # TYPE or other comment, or a sample `name{labels} value`
 * with valid names, escapes and a float value; one TYPE per family,
 * before its samples, whose samples are contiguous; no series twice;
 * histogram buckets ascending in le, cumulative, ending with le="+Inf"
 * equal to _count. Else -1 with the first problem and its line in msg. */
int promcheck(const char *text, size_t len, char *msg, size_t msglen);

/* The value of the sample whose name and labels (as rendered, e.g.
 * `rumor_members{state="alive"}`, or a bare name) are series: 0 with
 * *out set, -1 when absent. */
int promcheck_value(const char *text, const char *series, double *out);

#endif
