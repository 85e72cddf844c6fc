#!/bin/sh
# SPDX-License-Identifier: MIT
# Three rumord in strong consistency (quorum all); one is killed: a put or
# a del on either survivor exits 1 (not ready, or aborted) and writes
# nothing on any node, status says not ready; the node back, everyone is
# ready again and writes work everywhere.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"
. "$top_srcdir/tests/cluster/strong_lib.sh"

for n in a b c; do
	start_strong $n
done
mesh a b c
ctl a put k old || fail "put on a failed"
for n in a b c; do
	value_now $n k old
done

stop_node c KILL
say "c killed"

# refused NAME CMD...: rumorctl CMD on NAME exits 1 with the node's reason.
refused()
{
	rf_n=$1
	shift
	"$RUMORCTL" --data "$(node_dir "$rf_n")" "$@" >"$CL_TMP/out" 2>"$CL_TMP/err"
	rf_rv=$?
	[ $rf_rv -eq 1 ] || fail "$rf_n: '$*' with c down exited $rf_rv, not 1"
	grep -q "aborted\|reachable\|ready" "$CL_TMP/err" ||
		fail "$rf_n: '$*' said: $(cat "$CL_TMP/err")"
	say "$rf_n: '$*' refused: $(grep -v warning "$CL_TMP/err")"
}

# At once (before a and b notice c is gone: aborted) and once they know
# (not ready): either way exit 1 and nothing written.
refused a put k new-a
refused b put fresh x
not_ready_both()
{
	! is_ready a && ! is_ready b
}
wait_for 20 not_ready_both
refused b put k new-b
refused a del k
refused b put --strong k new-b2
ctl a status | grep -q "^consistency: *strong (quorum [0-9]*, [0-9]* reachable, not ready)" ||
	fail "a's status has no 'not ready' consistency line"
for n in a b; do
	value_now $n k old
	absent $n fresh || fail "$n holds 'fresh', written while c was down"
done
# Nothing arrives later either (no intent was committed behind our back).
hold_for 2 value_is a k old
hold_for 1 value_is b k old
wait_for "$ST_RECOVERY_S" none_pending a b

start_strong c
mesh a b c
value_now c k old
absent c fresh || fail "c holds 'fresh'"
ctl b put k new || fail "put on b with c back failed: $(tail -n 1 "$CL_TMP/b.ctl.err")"
for n in a b c; do
	value_now $n k new
done
ctl c del k || fail "del on c failed"
for n in a b c; do
	value_now $n k -
done
aborted=$(strong_counter a aborted)
say "a counts $aborted strong aborts"
wait_for 20 none_pending a b c
