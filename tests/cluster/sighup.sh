#!/bin/sh
# SPDX-License-Identifier: MIT
# SIGHUP re-reads the log level from the config file: a node started at
# level warn logs no info line; after the file says debug and SIGHUP, the
# log says "reloaded" and the next info event (a peer connecting) is
# logged.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

conf=$CL_TMP/a.conf
printf '[rumord]\nlog-level = warn\n' >"$conf"
start_node a --config "$conf"
start_node b
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"
if grep -q " info " "$CL_TMP/a.log"; then
	fail "a logged info lines at level warn: $(grep " info " "$CL_TMP/a.log" | head -n 3)"
fi

printf '[rumord]\nlog-level = debug\n' >"$conf"
kill -HUP "$(node_pid a)"
reloaded() { grep -q "reloaded" "$CL_TMP/a.log"; }
wait_for 10 reloaded
say "a: $(grep "reloaded" "$CL_TMP/a.log" | tail -n 1)"
ctl a status >/dev/null || fail "a stopped answering after SIGHUP"

# An info event after the reload is logged: c connects to a.
start_node c
idc=$(node_id c) || fail "cannot read c's id"
wait_for 20 sees_alive a "$idc"
logged_c() { grep -q " info .*$(echo "$idc" | cut -c1-8)" "$CL_TMP/a.log"; }
wait_for 10 logged_c
say "a now logs info: $(grep " info " "$CL_TMP/a.log" | tail -n 1)"
