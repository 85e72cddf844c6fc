#!/bin/sh
# SPDX-License-Identifier: MIT
# Forged, foreign, replayed, garbage and valid-but-fake announcements on
# the multicast group change nothing: no fake id ever turns alive, the
# nodes keep serving, and they count what they dropped.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

TOOL=$top_builddir/tests/cluster/announce_tool
[ -x "$TOOL" ] || fail "$TOOL is not built (make check builds it)"

start_node a
start_node b
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"
wait_for 10 caught_up a

dropped_a0=$(node_counter a announcements_dropped)
dropped_b0=$(node_counter b announcements_dropped)
say "announcements dropped before: a $dropped_a0, b $dropped_b0"

fakes=""
for mode in garbage foreign forged fake replay; do
	out=$("$TOOL" $mode 2>"$CL_TMP/tool.err") ||
		fail "announce_tool $mode failed: $(cat "$CL_TMP/tool.err")"
	ids=$(echo "$out" | sed -n 's/^id //p')
	[ -n "$ids" ] || fail "announce_tool $mode printed no id"
	if [ $mode = replay ]; then
		case $ids in
		"$ida" | "$idb") say "replayed an announcement of $ids" ;;
		*) fail "announce_tool replayed an unknown node $ids" ;;
		esac
	else
		fakes="$fakes $ids"
		say "$mode: sent, fake id $ids"
	fi
done

# No fake id is ever held alive (the valid-but-fake one may be listed,
# since its announcement verifies, but its dial fails: never alive), and
# each node still holds exactly the other one alive.
unharmed()
{
	for n in a b; do
		for f in $fakes; do
			[ "$(peer_state $n "$f")" != alive ] || return 1
		done
	done
	sees_alive a "$idb" && sees_alive b "$ida"
}
hold_for 4 unharmed
for n in a b; do
	for f in $fakes; do
		say "$n holds fake $f as: '$(peer_state $n "$f")'"
	done
done

# Still serving.
ctl a put after-attack yes || fail "a refused a put after the attack"
wait_for 15 value_is b after-attack yes

dropped_a1=$(node_counter a announcements_dropped)
dropped_b1=$(node_counter b announcements_dropped)
say "announcements dropped after: a $dropped_a1, b $dropped_b1"
# garbage sends 19 bad packets, foreign and forged one each, replay two;
# each node drops at least those (self-announcements come on top).
for pair in "a $dropped_a0 $dropped_a1" "b $dropped_b0 $dropped_b1"; do
	set -- $pair
	[ "$3" -ge $(($2 + 23)) ] ||
		fail "node $1 dropped only $(($3 - $2)) announcements (want >= 23)"
done
