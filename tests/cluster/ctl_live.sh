#!/bin/sh
# SPDX-License-Identifier: MIT
# rumorctl commands that need live peers: sync reports what moved, watch
# streams a change made on another node (with that node as origin), log
# lists the other node's entries under its origin, scan agrees, and
# status shows the HWM of the other origin.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

start_node a
start_node b
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"

# watch on b, in the background, until we stop it.
"$RUMORCTL" --data "$CL_TMP/b" --json watch w/ >"$CL_TMP/watch.out" \
	2>>"$CL_TMP/b.ctl.err" &
watch_pid=$!
# The watcher is subscribed once it has connected; a first change made
# on b itself shows it is streaming.
watch_ready() {
	ctl b put w/ready 1 >/dev/null &&
		grep -q '"key":"w/ready"' "$CL_TMP/watch.out"
}
wait_for 10 watch_ready

ctl a put w/k1 v1 || fail "put on a failed"
ctl a put other x || fail "put on a failed"
watch_saw() {
	grep '"key":"w/k1"' "$CL_TMP/watch.out" | grep -q "\"origin\":\"$ida\""
}
wait_for 15 watch_saw
kill -INT $watch_pid
wait $watch_pid || fail "rumorctl watch did not exit 0 on SIGINT"
grep -q '"key":"other"' "$CL_TMP/watch.out" && fail "watch ignored its prefix"
grep '"key":"w/k1"' "$CL_TMP/watch.out" | grep -q '"local":false' ||
	fail "a remote change was not marked local:false"

# sync: a forced round with the one peer completes and says so.
ctl a put s/1 one || fail "put on a failed"
out=$(ctl a --json sync) || fail "rumorctl sync failed"
say "sync: $out"
[ "$(printf '%s' "$out" | json_get peers_tried)" = 1 ] || fail "sync tried no peer: $out"
[ "$(printf '%s' "$out" | json_get peers_completed)" = 1 ] || fail "sync completed no exchange: $out"
# The peer's digest and DONE at least came back.
[ "$(printf '%s' "$out" | json_get bytes_in)" -gt 0 ] || fail "sync counted no bytes in: $out"
wait_for 10 value_is b s/1 one

# log on b lists a's entries under a's origin.
ctl b --json log | grep "\"origin\":\"$ida\"" | grep -q '"key":"w/k1"' ||
	fail "b's log lacks a's entry"
# status on b holds an HWM for a's origin.
ctl b --json status | grep -q "\"origin\":\"$ida\"" || fail "b's status has no HWM for a"
# Both nodes hold the same data.
wait_for 10 same_scan a b
# A key nobody wrote: exit 1.
ctl b get no-such-key >/dev/null
[ $? -eq 1 ] || fail "get of a missing key did not exit 1"
say "ok"
