#!/bin/sh
# SPDX-License-Identifier: MIT
# `rumorctl why` on a partitioned cluster: a and c each trust only b
# (--trusted-keys), so they never connect to each other, and b replicates
# only x/ (--replicate), so it does not carry colour between them. A
# write of colour on a then never reaches c: asked from b, a holds the
# winner, c is behind by one clock and one seq of a's origin, b holds
# colour outside its set, and the verdict is converging with that lag.
# Asked from a, c is a member it cannot reach: converging too.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

start_node b --replicate x/
start_node a
start_node c
ida=$(node_id a) && idb=$(node_id b) && idc=$(node_id c) ||
	fail "cannot read node ids"
wait_for 20 sees_alive a "$idc"
wait_for 20 sees_alive c "$ida"
wait_for 20 sees_alive b "$ida"
wait_for 20 sees_alive b "$idc"
wait_for 15 caught_up a
ctl a put colour blue || fail "put on a failed"
wait_for 15 value_is c colour blue

# The partition: a and c trust only b from now on.
echo "$idb" >"$CL_TMP/only_b"
chmod 600 "$CL_TMP/only_b"
stop_node a
stop_node c
start_node a --trusted-keys "$CL_TMP/only_b"
start_node c --trusted-keys "$CL_TMP/only_b"
connected()
{
	ctl "$1" --json peers | grep "\"id\":\"$2\"" | grep -q '"connected":true'
}
wait_for 20 connected b "$ida"
wait_for 20 connected b "$idc"
wait_for 15 caught_up a
ctl a put colour green || fail "second put on a failed"

# (b may take a moment to see a and c again after their restarts.)
both_answer()
{
	out=$(ctl b --json why colour) &&
		echo "$out" | grep -q "\"id\":\"$ida\",\"status\":\"answered\"" &&
		echo "$out" | grep -q "\"id\":\"$idc\",\"status\":\"answered\""
}
wait_for 20 both_answer
out=$(ctl b --json why colour) || fail "why failed"
[ "$(echo "$out" | json_get verdict)" = converging ] ||
	fail "b does not say converging: $out"
echo "$out" | grep -q "\"id\":\"$idb\",\"status\":\"self\",\"role\":\"outside\"" ||
	fail "b is not outside: $out"
echo "$out" | grep -q "\"id\":\"$ida\",\"status\":\"answered\",\"role\":\"current\"" ||
	fail "a does not hold the winner: $out"
echo "$out" | grep "\"id\":\"$idc\",\"status\":\"answered\",\"role\":\"behind\"" |
	grep -q '"lag":{"clock":1,"seq":1,' || fail "c is not behind by 1 clock and 1 seq: $out"
[ "$(echo "$out" | json_get not_asked)" = 0 ] || fail "members not asked: $out"
[ "$(echo "$out" | json_get reason)" = clock ] || fail "winner not by clock: $out"
say "$(ctl b why colour)"
# It stays so: c never hears of green.
[ "$(ctl c get colour)" = blue ] || fail "c got the write across the partition"

# From a, c is a member it cannot reach.
out=$(ctl a --json why colour) || fail "why on a failed"
[ "$(echo "$out" | json_get verdict)" = converging ] ||
	fail "a does not say converging: $out"
echo "$out" | grep -q "\"id\":\"$idc\",\"status\":\"unreachable\"" ||
	fail "a does not list c as unreachable: $out"
