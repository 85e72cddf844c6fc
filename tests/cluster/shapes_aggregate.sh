#!/bin/sh
# SPDX-License-Identifier: MIT
# Many masters, one slave: writers wa (--namespace a/) and wb (the binary
# namespace 00 ff), a third writer wc (--namespace c/), a full peer f, and
# an aggregating replica agg (--replicate a/ --replicate '\x00\xff').
# agg's scan holds exactly the union of a/ and 00ff keys; f holds
# everything; writes outside a namespace are refused with exit 1.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

start_node f --no-multicast --listen 127.0.0.1:0
wait_for 5 has_listen f
addr_f=$(node_listen f)
start_node wa --no-multicast --listen 127.0.0.1:0 --peer "$addr_f" \
	--namespace a/
start_node wb --no-multicast --listen 127.0.0.1:0 --peer "$addr_f" \
	--namespace '\x00\xff'
# wc takes its namespace from a config file (changed on SIGHUP below).
printf '[rumord]\nnamespace = c/\n' >"$CL_TMP/wc.conf"
start_node wc --no-multicast --listen 127.0.0.1:0 --peer "$addr_f" \
	--config "$CL_TMP/wc.conf"
for n in f wa wb wc; do
	wait_for 10 caught_up "$n"
done

# status shows the shape, as flags would write it.
ctl wb status | grep -q '^namespace:   \\x00\\xff$' ||
	fail "wb status: $(ctl wb status | grep namespace)"
ctl f --json status | grep -q '"namespace":null,"replicate":\[\]' ||
	fail "f status: $(ctl f --json status)"

# Outside its namespace: exit 1 and the node's reason.
"$RUMORCTL" --data "$(node_dir wa)" put c/1 x >/dev/null 2>"$CL_TMP/err"
rv=$?
[ $rv -eq 1 ] || fail "wa: put c/1 exited $rv, not 1"
grep -q "outside this node's namespace" "$CL_TMP/err" ||
	fail "wa said: $(cat "$CL_TMP/err")"
say "refused: $(cat "$CL_TMP/err")"
"$RUMORCTL" --data "$(node_dir wb)" --hex put 00fe 01 2>/dev/null
[ $? -eq 1 ] || fail "wb accepted a key outside 00ff"
printf 'a/x 1\nc/x 2\n' | "$RUMORCTL" --data "$(node_dir wa)" load \
	2>"$CL_TMP/err"
rv=$?
[ $rv -eq 1 ] || fail "wa: load with c/x exited $rv, not 1"
grep -q "line 2 not written (1 lines before it were" "$CL_TMP/err" ||
	fail "wa: load said: $(cat "$CL_TMP/err")"
value_is wa a/x 1 || fail "wa: a/x (line 1) not written"
absent wa c/x || fail "wa holds c/x"
ctl wa del a/x || fail "del a/x"

# c/ keys are on f before agg exists.
ctl wc put c/1 one || fail "put c/1"
ctl wc put c/ prefix || fail "put c/"
wait_for 20 value_is f c/1 one
start_node agg --no-multicast --listen 127.0.0.1:0 --peer "$addr_f" \
	--mode replica --replicate a/ --replicate '\x00\xff'
# Normalised: sorted bytewise, so 00 ff comes first.
ctl agg --json status | grep -q '"replicate":\[{"hex":"00ff"},"a/"\]' ||
	fail "agg status: $(ctl agg --json status | tr , '\n' | grep -A2 replicate)"

ctl wa put a/ itself || fail "put a/"
ctl wa put a/1 one || fail "put a/1"
ctl wa --hex put 612f00 ff00 || fail "put a/<00>"
ctl wb --hex put 00ff 00 || fail "put 00ff"
ctl wb --hex put 00ff00ff ffff || fail "put 00ff00ff"
ctl f put f/1 full || fail "put f/1"
ctl wa put a/last 1 || fail "put a/last"

cat >"$CL_TMP/want" <<'WANT'
00ff 00
00ff00ff ffff
612f 697473656c66
612f00 ff00
612f31 6f6e65
612f6c617374 31
WANT
# agg: exactly the union (scan --hex: key, spaces to align, value).
agg_is_union()
{
	ctl agg --hex scan | tr -s ' ' >"$CL_TMP/got" &&
		cmp -s "$CL_TMP/got" "$CL_TMP/want"
}
wait_for 20 value_is f a/last 1
wait_for 20 agg_is_union
for n in wa wb wc; do
	wait_for 20 value_is "$n" f/1 full
	wait_for 20 value_is "$n" c/1 one
	wait_for 20 value_is "$n" a/last 1
done
wait_for 20 same_scan f wa wb wc
# Still exactly the union after a few more rounds with everyone.
hold_for 3 agg_is_union
"$RUMORCTL" --data "$(node_dir agg)" put a/2 x 2>/dev/null
[ $? -eq 1 ] || fail "agg (a replica) accepted a write"

# SIGHUP does not change a namespace (it lives in the store's meaning of
# the node's writes): rumord says so, and c/ still confines wc.
printf '[rumord]\nnamespace = d/\n' >"$CL_TMP/wc.conf"
kill -HUP "$(node_pid wc)"
warned() { grep -q "take effect only when rumord restarts" "$CL_TMP/wc.log"; }
wait_for 10 warned
"$RUMORCTL" --data "$(node_dir wc)" put d/1 x 2>/dev/null
[ $? -eq 1 ] || fail "wc took d/1 after SIGHUP"
ctl wc put c/2 x || fail "wc refused c/2 after SIGHUP"

# A partial member holds back no tombstone outside its set: wc deletes
# c/1 (never on agg) and every node collects it while agg is up. One
# inside the set (a/1) is collected too, once agg has seen it.
ctl wc del c/1 || fail "del c/1"
ctl wa del a/1 || fail "del a/1"
all_synced_and_collected()
{
	for n in f wa wb wc agg; do
		ctl "$n" sync >/dev/null || return 1
	done
	for n in f wa wb wc agg; do
		[ "$(node_counter "$n" tombstones)" = 0 ] || return 1
	done
}
wait_for 30 all_synced_and_collected
absent f c/1 || fail "f still holds c/1"
absent agg a/1 || fail "agg still holds a/1"
say "tombstones collected on every node, agg included"

# Settled, the partial node's digests make nobody re-send: rounds with
# everyone move no entry that a node already holds (remote_identical
# and remote_stale stay put on the full peer and on agg).
resent()
{
	echo $(($(node_counter "$1" remote_identical) +
		$(node_counter "$1" remote_stale)))
}
for n in f wa wb wc agg; do ctl "$n" sync >/dev/null || fail "sync $n"; done
f0=$(resent f)
a0=$(resent agg)
for i in 1 2 3; do
	for n in f wa wb wc agg; do
		ctl "$n" sync >/dev/null || fail "sync $n"
	done
done
[ "$(resent f)" = "$f0" ] || fail "f was sent $(( $(resent f) - f0 )) versions it held"
[ "$(resent agg)" = "$a0" ] || fail "agg was sent $(( $(resent agg) - a0 )) versions it held"
say "three forced rounds with everyone: nothing re-sent"
