#!/bin/sh
# SPDX-License-Identifier: MIT
# rumorctl --offline DATA on real rumord data dirs: refused while the
# node runs (and nothing in DATA changes); after the node stops, get,
# scan, version, log, status and check answer from a copy of its store
# with what the running node said, and leave every file of DATA as it
# was (names, sizes, bytes, mtimes).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

# off NAME ARGS...: rumorctl --offline on node NAME's data dir; stderr
# in $CL_TMP/off.err.
off()
{
	cl_n=$1
	shift
	"$RUMORCTL" --offline "$CL_TMP/$cl_n" "$@" 2>"$CL_TMP/off.err"
}

# snapshot NAME FILE: every file of NAME's data dir (recursively) with
# its type, size, mtime (ns) and the sha256 of its bytes, sorted.
snapshot()
{
	(cd "$CL_TMP/$1" && find . -printf '%p %y %s %T@\n' | sort) >"$2"
	(cd "$CL_TMP/$1" && find . -type f -exec sha256sum {} + | sort) >>"$2"
}

# unchanged NAME WHAT: NAME's data dir is as snapshot $CL_TMP/before.
unchanged()
{
	snapshot "$1" "$CL_TMP/after"
	cmp -s "$CL_TMP/before" "$CL_TMP/after" || {
		diff "$CL_TMP/before" "$CL_TMP/after"
		fail "$2 changed the data dir"
	}
}

start_node a --no-multicast --listen 127.0.0.1:0
wait_for 5 has_listen a
start_node b --no-multicast --listen 127.0.0.1:0 --peer "$(node_listen a)"
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 20 sees_alive a "$idb"
wait_for 10 caught_up a
wait_for 10 caught_up b

# Writes of two origins on a: b's come by replication.
ctl b put from-b hello || fail "put on b failed"
ctl b put shared b-wrote || fail "put on b failed"
ctl a put user/1 alice || fail "put on a failed"
ctl a put user/2 bob || fail "put on a failed"
ctl a put user/3 carol || fail "put on a failed"
ctl a put gone soon || fail "put on a failed"
wait_for 20 value_is a from-b hello
wait_for 20 value_is a shared b-wrote
# b stops: the tombstone written next stays (b never saw it).
stop_node b
ctl a del gone || fail "del on a failed"

online_status=$(ctl a --json status) || fail "status on a failed"
online_scan=$(ctl a --json scan user/) || fail "scan on a failed"
online_version=$(ctl a --json version user/2) || fail "version on a failed"
online_log=$(ctl a --json log) || fail "log on a failed"

# ------------------------------------------- refused while a runs
snapshot a "$CL_TMP/before"
for cmd in status check "get user/1" scan log "version user/1"; do
	# shellcheck disable=SC2086  # cmd is a command and its argument
	off a $cmd >/dev/null
	rv=$?
	[ $rv -eq 3 ] || fail "--offline $cmd on a running node exited $rv, not 3"
	grep -q "in use" "$CL_TMP/off.err" ||
		fail "--offline $cmd: no 'in use' message: $(cat "$CL_TMP/off.err")"
done
say "refused while running: $(cat "$CL_TMP/off.err")"
ctl a status >/dev/null || fail "a stopped answering after the refusals"

stop_node a
[ "$CL_STATUS" -eq 0 ] || fail "a exited $CL_STATUS"
snapshot a "$CL_TMP/before"

# ------------------------------------------- the same answers offline
[ "$(off a get user/1)" = alice ] || fail "offline get user/1: $(cat "$CL_TMP/off.err")"
[ "$(off a get from-b)" = hello ] || fail "offline get of b's write"
off a get gone >/dev/null
[ $? -eq 1 ] || fail "offline get of a deleted key did not exit 1"
off a get never-written >/dev/null
[ $? -eq 1 ] || fail "offline get of an absent key did not exit 1"
[ "$(off a --json scan user/)" = "$online_scan" ] ||
	fail "offline scan differs: $(off a --json scan user/) vs $online_scan"
[ "$(off a --json version user/2)" = "$online_version" ] ||
	fail "offline version differs: $(off a --json version user/2)"
[ "$(off a --json log)" = "$online_log" ] ||
	fail "offline log differs: $(off a --json log) vs $online_log"
off a version gone | grep -q "deleted:   yes" ||
	fail "offline version of the deleted key: $(off a version gone)"
off a scan >"$CL_TMP/scan.txt" || fail "offline scan failed"
[ "$(wc -l <"$CL_TMP/scan.txt")" -eq 5 ] ||
	fail "offline scan shows $(wc -l <"$CL_TMP/scan.txt") keys, not 5"
off a scan --limit 2 >"$CL_TMP/scan.txt" || fail "offline scan --limit failed"
[ "$(wc -l <"$CL_TMP/scan.txt")" -eq 2 ] || fail "scan --limit 2 shows more"
grep -q "limit of 2" "$CL_TMP/off.err" || fail "scan --limit: no note of the cut"

# The change feed: every change after position 0, in position order.
off a log --since 0 >"$CL_TMP/feed.txt" || fail "offline log --since failed"
[ "$(wc -l <"$CL_TMP/feed.txt")" -eq 6 ] ||
	fail "log --since 0: $(cat "$CL_TMP/feed.txt")"
grep -q " del gone" "$CL_TMP/feed.txt" || fail "log --since 0 lacks the del"
head_pos=$(off a --json status | json_get feed_head)
[ -n "$(off a log --since "$head_pos" | grep 'no change after')" ] ||
	fail "log --since the head shows changes"

# status: the counts, the own seq and the HWMs match the node's.
off a --json status >"$CL_TMP/st.json" || fail "offline status failed"
for f in local_seq; do
	[ "$(json_get $f <"$CL_TMP/st.json")" = "$(echo "$online_status" | json_get $f)" ] ||
		fail "offline $f differs: $(cat "$CL_TMP/st.json")"
done
for f in keys tombstones; do
	[ "$(grep -o "\"$f\":[0-9]*" "$CL_TMP/st.json")" = \
	  "$(echo "$online_status" | grep -o "\"$f\":[0-9]*")" ] ||
		fail "offline $f differs: $(cat "$CL_TMP/st.json")"
done
[ "$(json_get id <"$CL_TMP/st.json")" = "$ida" ] || fail "offline id is not a's"
grep -q "\"origin\":\"$idb\",\"seq\":2" "$CL_TMP/st.json" ||
	fail "offline HWM of b is not 2: $(cat "$CL_TMP/st.json")"
grep -q '"log_entries":6' "$CL_TMP/st.json" ||
	fail "offline log_entries is not 6: $(cat "$CL_TMP/st.json")"
off a status | grep -q "^schema:      3" || fail "offline status: no schema line"

# check: a clean store.
off a check >"$CL_TMP/check.txt"
[ $? -eq 0 ] || fail "offline check of a clean store: $(cat "$CL_TMP/check.txt" "$CL_TMP/off.err")"
grep -q "^ok:" "$CL_TMP/check.txt" || fail "offline check: no ok line"
[ "$(off a --json check | json_get ok)" = true ] || fail "check --json: not ok"
say "offline check: $(cat "$CL_TMP/check.txt")"

unchanged a "every offline command"

# Nothing left in TMPDIR: the private copies went.
mkdir "$CL_TMP/tmp"
TMPDIR=$CL_TMP/tmp "$RUMORCTL" --offline "$CL_TMP/a" status >/dev/null ||
	fail "offline status with TMPDIR set failed"
TMPDIR=$CL_TMP/tmp "$RUMORCTL" --offline "$CL_TMP/a" get never >/dev/null 2>&1
[ -z "$(ls -A "$CL_TMP/tmp")" ] || fail "a private copy was left: $(ls "$CL_TMP/tmp")"

# A node started again on the dir reads it as before.
start_node a --no-multicast --listen 127.0.0.1:0
value_is a user/3 carol || fail "a lost user/3 after the offline commands"
