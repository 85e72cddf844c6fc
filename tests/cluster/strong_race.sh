#!/bin/sh
# SPDX-License-Identifier: MIT
# Three rumord in strong consistency (quorum all). Two coordinators, a and
# b, put different values to one key at the same moment, 1,000 times
# (each time a fresh key; RACE_BATCH races run at once). Then every node
# holds the same value on every key, and that value is one the exits
# allow: a write that returned 0 or timed out (committed here, not
# confirmed) may have won; when both aborted or were refused (locked),
# the key is absent. No intent is left pending.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"
. "$top_srcdir/tests/cluster/strong_lib.sh"

RACES=${RACES:-1000}
RACE_BATCH=${RACE_BATCH:-25}

for n in a b c; do
	start_strong $n
done
mesh a b c

R=$CL_TMP/race
mkdir "$R" || fail "mkdir $R"

# race_put NODE K: puts race<K> = <NODE><K> on NODE; its exit status goes
# to $R/NODE.K.rv, its stderr to $R/NODE.K.err.
race_put()
{
	"$RUMORCTL" --data "$(node_dir "$1")" put "race$2" "$1$2" \
		>/dev/null 2>"$R/$1.$2.err"
	echo $? >"$R/$1.$2.rv"
}

i=0
while [ $i -lt "$RACES" ]; do
	pids=""
	j=0
	while [ $j -lt "$RACE_BATCH" ] && [ $((i + j)) -lt "$RACES" ]; do
		race_put a $((i + j)) &
		pids="$pids $!"
		race_put b $((i + j)) &
		pids="$pids $!"
		j=$((j + 1))
	done
	# shellcheck disable=SC2086  # a list of pids
	wait $pids
	i=$((i + j))
done
say "$RACES races run"

# may_win NODE K: NODE's write of race K may have taken effect (it returned
# 0, or it committed locally and timed out waiting for confirmations).
# Any other exit but 1 fails the test: no node may die here.
may_win()
{
	read -r mw_rv <"$R/$1.$2.rv" || fail "no exit status for $1's race $2"
	case $mw_rv in
	0) return 0 ;;
	1) grep -q "timed out" "$R/$1.$2.err" && return 0
	   grep -q "aborted\|locked" "$R/$1.$2.err" ||
		fail "$1's race $2 refused with: $(grep -v warning "$R/$1.$2.err")"
	   return 1 ;;
	*) fail "$1's race $2 exited $mw_rv: $(cat "$R/$1.$2.err")" ;;
	esac
}

# The allowed outcome of each key: "race<K> a<K>|b<K>|-" (- for absent).
exec 3>"$R/allowed"
k=0
while [ $k -lt "$RACES" ]; do
	allow=""
	may_win a $k && allow="a$k"
	if may_win b $k; then
		allow="${allow:+$allow|}b$k"
	fi
	[ -n "$allow" ] || allow=-
	echo "race$k $allow" >&3
	k=$((k + 1))
done
exec 3>&-
both=$(grep -c '|' "$R/allowed")
none=$(grep -c ' -$' "$R/allowed")
one=$((RACES - both - none))
say "outcomes: $both both may have won, $one one, $none neither"
[ $((both + one)) -gt 0 ] || fail "not one racing write succeeded"

wait_for "$ST_RECOVERY_S" none_pending a b c
wait_for 30 same_scan a b c

# checked NAME: NAME's scan of race* matches the allowed outcomes.
ctl a scan race >"$R/scan.a" || fail "scan on a failed"
awk -v races="$RACES" '
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
	fail "$(wc -l <"$R/bad") keys hold values their exits forbid: $(head -n 5 "$R/bad")"
say "every node holds the same $(wc -l <"$R/scan.a") race keys, each allowed"
