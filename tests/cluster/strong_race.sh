#!/bin/sh
# SPDX-License-Identifier: MIT
# Three rumord in strong consistency (quorum all). Two coordinators, a and
# b, put different values to one key at the same moment, 1,000 times
# (each time a fresh key; RACE_CONC races at once, driven by
# tests/cluster/race_tool: a rumorctl process per write costs ~10 ms of
# process creation here). Then every node holds the same value on every
# key, and that value is one the replies allow: a write that returned OK
# or timed out (committed on its coordinator, not confirmed) may have
# won; when both aborted or were refused (locked), the key is absent. No
# intent is left pending.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"
. "$top_srcdir/tests/cluster/strong_lib.sh"

RACES=${RACES:-1000}
RACE_CONC=${RACE_CONC:-25}
RACE_TOOL=$top_builddir/tests/cluster/race_tool
[ -x "$RACE_TOOL" ] || { echo "FAIL: $RACE_TOOL is not built" >&2; exit 99; }

for n in a b c; do
	start_strong $n
done
mesh a b c

R=$CL_TMP/race
mkdir "$R" || fail "mkdir $R"

# One line per key: "race<K> CODE_A CODE_B" (0 OK, else the node's code).
"$RACE_TOOL" "$(node_dir a)/control.sock" "$(node_dir b)/control.sock" \
	"$RACES" "$RACE_CONC" >"$R/codes" 2>"$R/tool.err" ||
	fail "race_tool failed: $(cat "$R/tool.err")"
[ "$(wc -l <"$R/codes")" = "$RACES" ] ||
	fail "race_tool reported $(wc -l <"$R/codes") races, not $RACES"
say "$RACES races run; replies (count code):" \
	"$(awk '{ print $2; print $3 }' "$R/codes" | sort | uniq -c | tr -s ' \n' ' ')"

# A write may have taken effect when it returned 0 (OK) or -14
# (RUMOR_ETIMEDOUT: committed on its coordinator, not confirmed by a
# quorum); it did not with -19 (RUMOR_EABORTED) or -20 (RUMOR_ELOCKED).
# Any other code fails the test. Allowed values per key: "race<K>
# a<K>|b<K>|-" (- for absent).
awk '
	function won(code) {
		if (code == 0 || code == -14)
			return 1
		if (code == -19 || code == -20)
			return 0
		printf "unexpected code %d on %s\n", code, $1 > "/dev/stderr"
		exit 1
	}
	{
		k = substr($1, 5)
		allow = ""
		if (won($2))
			allow = "a" k
		if (won($3))
			allow = allow (allow == "" ? "" : "|") "b" k
		print $1, (allow == "" ? "-" : allow)
	}' "$R/codes" >"$R/allowed" 2>"$R/awk.err" ||
	fail "racing writes failed oddly: $(head -n 5 "$R/awk.err")"
both=$(grep -c '|' "$R/allowed")
none=$(grep -c ' -$' "$R/allowed")
one=$((RACES - both - none))
say "outcomes: $both both may have won, $one one, $none neither"
[ $((both + one)) -gt 0 ] || fail "not one racing write succeeded"

wait_for "$ST_RECOVERY_S" none_pending a b c
wait_for 30 same_scan a b c

# a's scan of race* (the same on b and c) against the allowed outcomes.
ctl a scan race >"$R/scan.a" || fail "scan on a failed"
awk '
	FNR == NR { allow[$1] = $2; next }
	{ seen[$1] = $2 }
	END {
		bad = 0
		for (k in allow) {
			v = (k in seen) ? seen[k] : "-"
			n = split(allow[k], alts, "|")
			ok = 0
			for (i = 1; i <= n; i++)
				if (alts[i] == v)
					ok = 1
			if (!ok) {
				printf "%s is %s, allowed %s\n", k, v, allow[k]
				bad++
			}
		}
		for (k in seen)
			if (!(k in allow)) {
				printf "%s is %s, never raced\n", k, seen[k]
				bad++
			}
		exit bad > 0
	}' "$R/allowed" "$R/scan.a" >"$R/bad" ||
	fail "$(wc -l <"$R/bad") keys hold values the replies forbid: $(head -n 5 "$R/bad")"
say "every node holds the same $(wc -l <"$R/scan.a") race keys, each allowed"
