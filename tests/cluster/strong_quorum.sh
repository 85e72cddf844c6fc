#!/bin/sh
# SPDX-License-Identifier: MIT
# Three rumord in strong consistency with --quorum 2 (a quorum below
# all). One node down: strong writes on either survivor still succeed,
# and when one returns both survivors hold it (two committed, the
# quorum); status says ready. The down node, restarted, gets the writes
# by gossip. Two nodes down: the last one is not ready, a write fails
# with exit 1 and a clear reason, and nothing of it is applied on any
# node, then or after the others return.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"
. "$top_srcdir/tests/cluster/strong_lib.sh"

for n in a b c; do
	start_strong $n --quorum 2
done
mesh a b c
ctl a status | grep -q "^consistency: *strong (quorum 2, 3 reachable, ready)" ||
	fail "a's status: $(ctl a status | grep '^consistency:')"
# All three up: a write returns once two have committed; the third
# commits from its late vote's answer or by gossip, soon after.
ctl a put k old || fail "put on a failed"
value_now a k old
for n in b c; do
	wait_for 10 value_is $n k old
done

# ------------------------------------------------------------ one down

stop_node c KILL
say "c killed"

# At once (a and b may not have noticed yet) and once they know c is
# gone: a quorum of two commits either way.
ctl a put k new-a || fail "put on a with c down failed: $(tail -n 1 "$CL_TMP/a.ctl.err")"
value_now a k new-a
value_now b k new-a
c_gone()
{
	connected_is a 1 && connected_is b 1
}
wait_for 20 c_gone
ctl a status | grep -q "^consistency: *strong (quorum 2, 2 reachable, ready)" ||
	fail "a's status with c down: $(ctl a status | grep '^consistency:')"
ctl b put k new-b || fail "put on b with c down failed: $(tail -n 1 "$CL_TMP/b.ctl.err")"
ctl b put only-ab 1 || fail "put on b with c down failed: $(tail -n 1 "$CL_TMP/b.ctl.err")"
ctl a put gone-key x || fail "put on a with c down failed"
ctl a del gone-key || fail "del on a with c down failed: $(tail -n 1 "$CL_TMP/a.ctl.err")"
for n in a b; do
	value_now $n k new-b
	value_now $n only-ab 1
	value_now $n gone-key -
done
[ "$(strong_counter a committed)" -ge 3 ] ||
	fail "a counts $(strong_counter a committed) strong commits, not 3 or more"
wait_for "$ST_RECOVERY_S" none_pending a b

# c returns: it was in no quorum of those writes and gets them by gossip
# (polled: gossip has no deadline of its own).
start_strong c --quorum 2
wait_for 20 value_is c k new-b
wait_for 20 value_is c only-ab 1
wait_for 20 absent c gone-key
wait_for 20 same_version k a b c
mesh a b c

# ------------------------------------------------------------ two down

stop_node b KILL
stop_node c KILL
say "b and c killed"

# refused CMD...: rumorctl CMD on a exits 1 with a reason that names the
# quorum (aborted: fewer than a quorum prepared; or not ready).
refused()
{
	"$RUMORCTL" --data "$(node_dir a)" "$@" >"$CL_TMP/out" 2>"$CL_TMP/err"
	rf_rv=$?
	[ $rf_rv -eq 1 ] || fail "a: '$*' with b and c down exited $rf_rv, not 1"
	grep -q "aborted\|reachable\|ready\|quorum" "$CL_TMP/err" ||
		fail "a: '$*' said: $(cat "$CL_TMP/err")"
	say "a: '$*' refused: $(grep -v warning "$CL_TMP/err")"
}

not_ready_a()
{
	! is_ready a
}

refused put k lost-1
wait_for 20 not_ready_a
refused put k lost-2
refused put fresh lost-3
ctl a status | grep -q "^consistency: *strong (quorum 2, 1 reachable, not ready)" ||
	fail "a's status with b and c down: $(ctl a status | grep '^consistency:')"
value_now a k new-b
absent a fresh || fail "a holds 'fresh', written without a quorum"
wait_for "$ST_RECOVERY_S" none_pending a

start_strong b --quorum 2
start_strong c --quorum 2
mesh a b c
# Nothing of the failed writes shows up later on any node (no intent was
# committed behind the callers' backs).
for n in a b c; do
	hold_for 1 value_is $n k new-b
	absent $n fresh || fail "$n holds 'fresh', written without a quorum"
done
wait_for 20 same_version k a b c
wait_for 20 none_pending a b c
say "quorum 2 of 3: $(strong_counter a committed) commits and $(strong_counter a aborted) failed writes on a"
