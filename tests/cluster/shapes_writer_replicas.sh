#!/bin/sh
# SPDX-License-Identifier: MIT
# A writer with three replicas (reads balanced over them): what the
# writer writes, binary keys included, reaches every replica; a write on
# any replica is refused (rumorctl exits 1 with the node's message). Then
# a replica fed only by a replica: the writer stops, r4 starts with r1 as
# its only seed and gets everything from r1.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

start_node w --no-multicast --listen 127.0.0.1:0
wait_for 5 has_listen w
addr_w=$(node_listen w)
for r in r1 r2 r3; do
	start_node "$r" --no-multicast --listen 127.0.0.1:0 --mode replica \
		--peer "$addr_w"
done
wait_for 10 caught_up w

ctl w put colour blue || fail "put on the writer failed"
# Binary: key 00 ff 00, value ff 00; the key 00 alone, empty value.
ctl w --hex put 00ff00 ff00 || fail "binary put on the writer failed"
ctl w --hex put 00 "" || fail "binary put (empty value) failed"

hex_is()
{
	[ "$(ctl "$1" --hex get "$2")" = "$3" ]
}
for r in r1 r2 r3; do
	wait_for 20 value_is "$r" colour blue
	wait_for 20 hex_is "$r" 00ff00 ff00
	wait_for 20 hex_is "$r" 00 ""
done
wait_for 20 same_scan w r1 r2 r3

# Refused on each replica: exit 1, the node's reason on stderr, nothing
# written anywhere.
for r in r1 r2 r3; do
	for cmd in "put colour red" "del colour" "put fresh x"; do
		# shellcheck disable=SC2086  # cmd is a list of words
		"$RUMORCTL" --data "$(node_dir "$r")" $cmd \
			>"$CL_TMP/out" 2>"$CL_TMP/err"
		rv=$?
		[ $rv -eq 1 ] || fail "$r: '$cmd' exited $rv, not 1"
		grep -q "replica" "$CL_TMP/err" ||
			fail "$r: '$cmd' said: $(cat "$CL_TMP/err")"
	done
done
say "writes refused on r1 r2 r3: $(cat "$CL_TMP/err")"
ctl w put marker 1 || fail "put marker failed"
for r in r1 r2 r3; do
	wait_for 20 value_is "$r" marker 1
	value_is "$r" colour blue || fail "$r: colour changed"
	absent "$r" fresh || fail "$r holds a refused write"
done

# Many writes at once (rumorctl load, pipelined) reach every replica;
# load on a replica is refused at its first line.
awk 'BEGIN { for (i = 0; i < 1000; i++) printf "bulk%04d %d\n", i, i }' |
	ctl w load || fail "load on the writer failed"
for r in r1 r2 r3; do
	wait_for 20 value_is "$r" bulk0999 999
done
wait_for 20 same_scan w r1 r2 r3
printf 'x 1\ny 2\n' | "$RUMORCTL" --data "$(node_dir r1)" load 2>"$CL_TMP/err"
rv=$?
[ $rv -eq 1 ] || fail "load on r1 exited $rv, not 1"
grep -q "line 1 not written" "$CL_TMP/err" || fail "load on r1 said: $(cat "$CL_TMP/err")"
absent r1 x || fail "r1 holds a refused load"

# A replica fed by a replica.
stop_node w
say "writer stopped (exit $CL_STATUS)"
addr_r1=$(node_listen r1)
start_node r4 --no-multicast --listen 127.0.0.1:0 --mode replica \
	--peer "$addr_r1"
wait_for 20 value_is r4 marker 1
wait_for 20 hex_is r4 00ff00 ff00
wait_for 20 same_scan r1 r4
"$RUMORCTL" --data "$(node_dir r4)" put x y 2>/dev/null
[ $? -eq 1 ] || fail "r4 accepted a write"
