#!/bin/sh
# SPDX-License-Identifier: MIT
# Three nodes; one is killed (SIGKILL): the others hold it suspect, then
# gone. Restarted on the same data dir it is alive again and catches up
# on the writes made while it was down.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

# Quick failure detection: suspect after 2 s of silence, twice the idle
# reconciliation round (interval-max 1 s), so that live members do not
# flap (none did over 8 s, even at 1.5 s, with three nodes).
CL_TIMING="--interval-max 1000 --catchup-wait 500 --suspect-after 2000 --gone-after 4500"

start_three
wait_for 10 caught_up a
ctl a put before-kill 1 || fail "put on a failed"
wait_for 15 value_is c before-kill 1

stop_node c KILL
say "killed c (status $CL_STATUS)"
wait_for 15 sees_state a "$idc" suspect
wait_for 15 sees_state b "$idc" suspect
wait_for 15 sees_state a "$idc" gone
wait_for 15 sees_state b "$idc" gone
# The survivors still hold each other alive.
sees_alive a "$idb" && sees_alive b "$ida" ||
	fail "a and b no longer hold each other alive"

# Writes while c is down.
ctl a put while-down/a 1 || fail "put on a failed"
ctl b put while-down/b 2 || fail "put on b failed"
ctl a del before-kill || fail "del on a failed"
wait_for 15 value_is b while-down/a 1
wait_for 15 value_is a while-down/b 2

start_node c
wait_for 20 sees_alive a "$idc"
wait_for 20 sees_alive b "$idc"
wait_for 20 sees_alive c "$ida"
wait_for 20 sees_alive c "$idb"
wait_for 20 value_is c while-down/a 1
wait_for 20 value_is c while-down/b 2
wait_for 20 absent c before-kill
wait_for 20 same_scan a b c
grep -q "stale control socket\|replac" "$CL_TMP/c.log" &&
	say "c's log on the stale socket: $(grep -i "socket" "$CL_TMP/c.log" | tail -n 1)"
exit 0
