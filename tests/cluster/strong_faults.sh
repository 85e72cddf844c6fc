#!/bin/sh
# SPDX-License-Identifier: MIT
# Three rumord in strong consistency (quorum all). The coordinator is
# killed at each step of a strong put (RUMOR_TEST_FAULT: it logs the
# step and exits 70), then restarted without the fault: within the
# recovery bound no node holds a pending intent and every node holds the
# same version, the one the step allows (old before the coordinator
# committed, new from its local commit on). Then a participant killed
# holding a prepared intent (old wins) and one killed after applying the
# commit (new wins), each restarted from its store.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"
. "$top_srcdir/tests/cluster/strong_lib.sh"

for n in a b c; do
	start_strong $n
done
mesh a b c

# everyone_holds KEY VALUE: a, b and c hold the very same version of KEY
# (value, clock, origin, seq, wall time: `rumorctl --json version`), and
# its value is VALUE.
everyone_holds()
{
	eh_v=$(ctl a --json version "$1") || return 1
	case $eh_v in
	*"\"value\":\"$2\","*) ;;
	*) return 1 ;;
	esac
	[ "$(ctl b --json version "$1")" = "$eh_v" ] &&
		[ "$(ctl c --json version "$1")" = "$eh_v" ]
}

# settled KEY VALUE: after a fault, within the recovery bound, nothing
# pending anywhere and KEY is VALUE on all three.
settled()
{
	mesh a b c
	wait_for "$ST_RECOVERY_S" none_pending a b c
	wait_for 20 everyone_holds "$1" "$2"
	SETTLED="$SETTLED $1=$2"
}
SETTLED=""

# faulted_put NODE KEY VALUE: a put on NODE; sets PUT_RV.
faulted_put()
{
	"$RUMORCTL" --data "$(node_dir "$1")" put "$2" "$3" \
		>"$CL_TMP/out" 2>"$CL_TMP/err"
	PUT_RV=$?
	say "put $2 $3 on $1 exited $PUT_RV: $(grep -v warning "$CL_TMP/err")"
}

# died_at NODE STEP: NODE exits 70 and its log names STEP.
died_at()
{
	wait_exit "$1" 70 20
	grep -q "test fault: $2" "$CL_TMP/$1.log" ||
		fail "$1's log does not name the fault $2"
}

# The coordinator a at every step. Outcome: old while nothing committed.
for step in coord-prepared coord-voted coord-committed coord-commit-sent-one; do
	key=k-$step
	ctl b put "$key" old || fail "$step: the first put failed"
	stop_node a
	start_faulted a "$step"
	mesh a b c
	faulted_put a "$key" new
	[ "$PUT_RV" -ne 0 ] || fail "$step: the put returned 0 from a dying coordinator"
	died_at a "$step"
	start_strong a
	case $step in
	coord-prepared | coord-voted) want=old ;;
	*) want=new ;;
	esac
	settled "$key" "$want"
	say "$step: $want everywhere, nothing pending"
done

# A participant that dies with its intent prepared (no vote sent): the
# coordinator aborts (exit 1); b recovers its intent from its store.
ctl a put k-part-prepared old || fail "part-prepared: the first put failed"
stop_node b
start_faulted b part-prepared
mesh a b c
wait_for 20 value_is b k-part-prepared old
faulted_put a k-part-prepared new
[ "$PUT_RV" -eq 1 ] || fail "part-prepared: the put exited $PUT_RV, not 1"
died_at b part-prepared
start_strong b
settled k-part-prepared old
# b resolved the intent it found in its store at open (ASK, abort).
rec=$(strong_counter b recovered)
[ "${rec:-0}" -ge 1 ] || fail "b recovered $rec intents after its restart, not >= 1"
say "part-prepared: old everywhere; b recovered $rec"

# A participant that dies having applied the commit (COMMITTED not sent):
# the coordinator committed, so new wins; the put cannot say 0 with
# quorum all (b never confirmed).
ctl a put k-part-committed old || fail "part-committed: the first put failed"
stop_node b
start_faulted b part-committed
mesh a b c
wait_for 20 value_is b k-part-committed old
faulted_put c k-part-committed new
[ "$PUT_RV" -eq 1 ] || fail "part-committed: the put exited $PUT_RV, not 1"
died_at b part-committed
start_strong b
settled k-part-committed new
say "part-committed: new everywhere"

# Every fault's key still holds what it settled to (no late commit or
# abort flipped one), and the cluster still takes strong writes.
for kv in $SETTLED; do
	everyone_holds "${kv%%=*}" "${kv#*=}" ||
		fail "${kv%%=*} no longer ${kv#*=} everywhere: $(version_of a "${kv%%=*}")"
done
ctl b put after faults || fail "a put after the faults failed"
for n in a b c; do
	value_now $n after faults
done
wait_for 20 same_scan a b c
