/* SPDX-License-Identifier: MIT */
/*
 * lincheck: a linearizability checker for histories of a key-value
 * register. Wing & Gong's search over configurations (register state,
 * set of ops linearized) with the memoisation of Lowe and Knossos (a
 * configuration seen once is not explored again), run breadth first
 * along the history as Lowe's just-in-time linearization: the search
 * never backtracks over the past, so a failure is found at the first
 * return no configuration can explain. Linearizability is local, so each
 * key is checked on its own.
 *
 * Ops: write(key, value) or write(key, delete), read(key) -> value or
 * absent. Each has an invoke time and a complete time (integers in any
 * unit: virtual ms, real ns) and an outcome:
 *   ok     it completed at `complete`: it took effect once, somewhere in
 *          [invoke, complete];
 *   fail   known not to have taken effect: dropped;
 *   info   indeterminate: it may have taken effect at any time after
 *          invoke, or never (its complete time, if any, is ignored). An
 *          indeterminate read tells nothing and is dropped.
 * Real-time order: a precedes b when a.complete < b.invoke; ops whose
 * times touch (a.complete == b.invoke) count as concurrent.
 *
 * History file (lincheck_read, tests/cluster/lincheck_tool), one op a
 * line, fields separated by blanks:
 *
 *     invoke complete|- ok|fail|info write|read KEY VALUE|-
 *
 * invoke and complete are decimal integers (complete >= invoke; `-` for
 * an op that never completed: allowed with info and fail only). For a
 * write VALUE is the value written, `-` a delete; for a read the value
 * returned, `-` absent (not found). KEY and VALUE are taken byte for
 * byte, except that %XX (two hex digits) stands for one byte: a blank,
 * a `%`, a lone `-` value (%2D) or binary data; `""` is the empty
 * string (write two quotes as %22%22). Empty lines and lines
 * starting with `#` are skipped. Example:
 *
 *     # a put, a read that sees it, a delete that may or may not happen
 *     1000 2000 ok write k1 hello
 *     2500 2600 ok read k1 hello
 *     3000 - info write k1 -
 */
#ifndef RUMOR_TESTS_LINCHECK_H
#define RUMOR_TESTS_LINCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum lc_kind { LC_WRITE = 0, LC_READ = 1 };
enum lc_outcome { LC_OK = 0, LC_FAIL = 1, LC_INFO = 2 };

struct lc_op {
	int64_t invoke;
	int64_t complete;           /* ignored unless outcome is LC_OK */
	enum lc_kind kind;
	enum lc_outcome outcome;
	const uint8_t *key;
	size_t key_len;
	/* write: the value (absent: a delete); read: what it returned
	 * (absent: not found). */
	int absent;
	const uint8_t *value;
	size_t value_len;
};

/* A history: a growable list of ops, keys and values copied in. */
struct lincheck {
	struct lc_op *ops;
	size_t n, cap;
};

enum lc_verdict {
	LC_LINEARIZABLE = 0,
	LC_NOT_LINEARIZABLE = 1,
	LC_TOO_HARD = 2,            /* the search budget ran out */
};

struct lc_result {
	enum lc_verdict verdict;
	/* NOT_LINEARIZABLE / TOO_HARD: the first key found (bytes, with
	 * key_len), and an explanation: the smallest prefix of that key's
	 * history (the ops invoked up to a time T, those not complete by T
	 * taken as indeterminate) that cannot be linearized, and its ops
	 * around the op that completes at T. */
	uint8_t key[64];
	size_t key_len;
	char why[2048];
	/* figures */
	size_t keys;                /* keys checked */
	uint64_t steps;             /* search steps, all keys */
	size_t max_ops;             /* most ops (kept) on one key */
};

/* Default search budget per key, in steps (one step: linearizing or
 * backtracking one op); a few thousand ops per key with ~10 concurrent
 * take well under 1 % of it. */
#define LC_BUDGET_DEFAULT 4000000u

void lincheck_init(struct lincheck *h);
void lincheck_free(struct lincheck *h);
/* Appends a copy of op (key and value copied). Returns 0, or -1 if op
 * is malformed (ok with complete < invoke, unknown kind or outcome, key
 * longer than 1 MiB) or memory ran out; the history is then unchanged. */
int lincheck_add(struct lincheck *h, const struct lc_op *op);
/* Checks every key of h. budget: steps allowed per key (0: the
 * default). Fills r (never NULL) and returns r->verdict. Deterministic:
 * keys in byte order, and the first key not linearizable is reported. */
enum lc_verdict lincheck_check(const struct lincheck *h, uint64_t budget,
			       struct lc_result *r);
/* Parses one line of the history file format above and appends its op.
 * Returns 1 appended, 0 blank or comment, -1 malformed (err says why;
 * h unchanged). */
int lincheck_parse_line(struct lincheck *h, const char *line, char *err,
			size_t errlen);
/* Reads a whole history file. Returns 0, or -1 with err naming the line
 * ("line N: ...") that is malformed. */
int lincheck_read(struct lincheck *h, FILE *f, char *err, size_t errlen);
/* Writes op as one line of the file format (for dumping a history that
 * failed, to replay it with the tool). */
void lincheck_write_op(FILE *f, const struct lc_op *op);

#endif
