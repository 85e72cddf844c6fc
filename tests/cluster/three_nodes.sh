#!/bin/sh
# SPDX-License-Identifier: MIT
# Three zero-config rumord (only --data) find each other by multicast,
# replicate a put and a del, and settle a same-key write on two nodes to
# the same version everywhere.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

# Each sees the other two alive, and no other member.
start_three
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
