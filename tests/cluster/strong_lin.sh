#!/bin/sh
# SPDX-License-Identifier: MIT
# Three rumord in strong consistency (quorum all); LIN_CLIENTS clients do
# strong puts, dels and gets on three keys, each op on a random node,
# while faults strike: c is killed (SIGKILL) and restarted, b is
# restarted with a participant fault (part-prepared: it dies holding an
# intent) and restarted again. Every op is recorded with its real-time
# invoke and complete (date +%s%N) and its outcome in the format of
# tests/lib/lincheck.h; tests/cluster/lincheck_tool must find the history
# linearizable. At the end nothing is pending and the nodes agree.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"
. "$top_srcdir/tests/cluster/strong_lib.sh"

LINCHECK=$top_builddir/tests/cluster/lincheck_tool
[ -x "$LINCHECK" ] || { echo "FAIL: $LINCHECK is not built" >&2; exit 99; }
LIN_CLIENTS=${LIN_CLIENTS:-4}
LIN_MAX_OPS=${LIN_MAX_OPS:-150}

for n in a b c; do
	start_strong $n
done
mesh a b c

H=$CL_TMP/hist
mkdir "$H" || fail "mkdir $H"

# Each client is tests/cluster/lin_client.bash (its header says how an
# op's outcome is judged); it writes its history to $H/ID.
CLIENT=$top_srcdir/tests/cluster/lin_client.bash
command -v bash >/dev/null || { echo "SKIP: no bash for the clients" >&2; exit 77; }

# ops_at_least N: every client recorded at least N ops.
ops_at_least()
{
	for c in $(seq 1 "$LIN_CLIENTS"); do
		[ -e "$H/$c" ] && [ "$(wc -l <"$H/$c")" -ge "$1" ] || return 1
	done
}

pids=""
for c in $(seq 1 "$LIN_CLIENTS"); do
	bash "$CLIENT" "$c" "$RUMORCTL" "$(node_dir a)" "$(node_dir b)" \
		"$(node_dir c)" "$H/$c" "$CL_TMP/stop" "$LIN_MAX_OPS" &
	pids="$pids $!"
done
say "$LIN_CLIENTS clients started"

# Fault 1: c killed outright, then restarted.
wait_for 20 ops_at_least 10
stop_node c KILL
say "c killed"
wait_for 20 ops_at_least 20
start_strong c
mesh a b c
say "c back"

# Fault 2: b dies at its second prepare after a restart (intent durable,
# no vote sent), then comes back from its store.
wait_for 20 ops_at_least 35
stop_node b
launch_faulted b part-prepared@2
wait_exit b 70 30
grep -q "test fault: part-prepared" "$CL_TMP/b.log" ||
	fail "b's log does not name the fault"
say "b died at part-prepared"
start_strong b
mesh a b c
say "b back"

wait_for 60 ops_at_least 60
: >"$CL_TMP/stop"
# shellcheck disable=SC2086  # a list of pids
wait $pids

for c in $(seq 1 "$LIN_CLIENTS"); do
	cat "$H/$c"
done >"$H/all"
say "history: $(wc -l <"$H/all") ops:" \
	"$(grep -c ' ok write' "$H/all") writes ok," \
	"$(grep -c ' fail write' "$H/all") failed," \
	"$(grep -c ' info write' "$H/all") indeterminate;" \
	"$(grep -c ' ok read' "$H/all") reads ok," \
	"$(grep -c ' fail read' "$H/all") failed"
[ "$(grep -c ' ok write' "$H/all")" -ge 20 ] || fail "too few writes succeeded"
[ "$(grep -c ' ok read' "$H/all")" -ge 20 ] || fail "too few reads succeeded"

# The history file keeps our comments (# node rv); the checker takes
# the fields before them.
sed 's/ *#.*//' "$H/all" >"$H/check"
if ! "$LINCHECK" "$H/check" >"$H/verdict" 2>&1; then
	echo "---- history (sorted by invoke)"
	sort -n "$H/all"
	fail "not linearizable: $(cat "$H/verdict")"
fi
say "linearizable: $(head -n 1 "$H/verdict")"

wait_for "$ST_RECOVERY_S" none_pending a b c
same_keys()
{
	[ "$(ctl a scan l)" = "$(ctl b scan l)" ] &&
		[ "$(ctl a scan l)" = "$(ctl c scan l)" ]
}
wait_for 20 same_keys
