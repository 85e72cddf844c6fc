#!/bin/sh
# SPDX-License-Identifier: MIT
# Three zero-config rumord (only --data) find each other by multicast,
# replicate a put and a del, and settle a same-key write on two nodes to
# the same version everywhere.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

for n in a b c; do
	start_node $n
done
ida=$(node_id a) && idb=$(node_id b) && idc=$(node_id c) ||
	fail "cannot read node ids"

# Each sees the other two alive.
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive a "$idc"
wait_for 20 sees_alive b "$ida"
wait_for 20 sees_alive b "$idc"
wait_for 20 sees_alive c "$ida"
wait_for 20 sees_alive c "$idb"
for n in a b c; do
	alive_is $n 2 || fail "node $n does not hold exactly 2 alive members"
done

# A put on one is readable on the other two.
ctl a put greeting hello || fail "put on a failed"
wait_for 15 value_is b greeting hello
wait_for 15 value_is c greeting hello

# A del propagates.
ctl b del greeting || fail "del on b failed"
wait_for 15 absent a greeting
wait_for 15 absent c greeting
# (No version check here: once every member has seen the tombstone it may
# be collected, and `rumorctl version` then exits 1 by design.)

# The same key written on two nodes converges to one version everywhere.
ctl a put color red || fail "put on a failed"
ctl c put color blue || fail "put on c failed"
wait_for 15 same_version color a b c
v=$(ctl a get color)
case $v in
red|blue) ;;
*) fail "color settled to '$v', neither written value" ;;
esac
for n in b c; do
	[ "$(ctl $n get color)" = "$v" ] || fail "node $n reads a different color"
done
say "color settled to $v: $(version_of a color)"
