#!/bin/sh
# SPDX-License-Identifier: MIT
# Three rumord in strong consistency (quorum all), started at random
# moments: a put, a del, binary keys and values, and a pipelined load
# written on any node are on every node the moment rumorctl returns (each
# node is read once, right after, never polled). A fourth node joins
# later; once every node reaches the four, its writes and theirs are on
# all four the moment they return.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"
. "$top_srcdir/tests/cluster/strong_lib.sh"

# Random start moments: up to 1.5 s apart (the scenario, not a wait).
for n in a b c; do
	d=$(rnd 1500)
	say "node $n starts after ${d} ms"
	sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
	start_strong $n
done
mesh a b c

# visible_now KEY WANT: on all of $NODES right now.
NODES="a b c"
visible_now()
{
	for m in $NODES; do
		value_now "$m" "$1" "$2"
	done
}

# A put on each node, then a del on another, each seen everywhere at once.
for n in a b c; do
	ctl $n put "k$n" "v$n" || fail "strong put on $n failed: $(tail -n 1 "$CL_TMP/$n.ctl.err")"
	visible_now "k$n" "v$n"
done
ctl a put kb overwritten || fail "overwrite on a failed"
visible_now kb overwritten
ctl b del ka || fail "strong del on b failed"
visible_now ka -
ctl c del kc || fail "strong del on c failed"
visible_now kc -
ctl a put --strong ka back || fail "put --strong on a failed"
visible_now ka back
say "puts and dels on every node at once"

# Binary: key 00 ff 00 -> ff 00 0a 5c; key 01 -> empty value; delete one.
ctl b --hex put 00ff00 ff000a5c || fail "binary put on b failed"
for m in a b c; do
	hex_now $m 00ff00 ff000a5c
done
ctl c --hex put 01 "" || fail "binary put of an empty value on c failed"
for m in a b c; do
	hex_now $m 01 ""
done
ctl a --hex del 00ff00 || fail "binary del on a failed"
for m in a b c; do
	ctl $m --hex get 00ff00 >/dev/null
	[ $? -eq 1 ] || fail "$m still holds key 00ff00 after its strong del"
done
say "binary keys and values at once"

# rumorctl has no batch; load pipelines puts, each strong on this node.
awk 'BEGIN { for (i = 0; i < 50; i++) printf "load%02d %d\n", i, i }' |
	ctl b load || fail "load on b failed: $(tail -n 1 "$CL_TMP/b.ctl.err")"
for i in 00 17 49; do
	visible_now "load$i" "$((1$i - 100))"
done
[ "$(ctl a scan load | wc -l)" = 50 ] || fail "a does not hold the 50 loaded keys"
say "load of 50 at once"

# A fourth node joins; writes wait until everyone reaches four.
start_strong d
mesh a b c d
NODES="a b c d"
wait_for 20 value_is d kb overwritten
ctl d put kd late-joiner || fail "strong put on d failed: $(tail -n 1 "$CL_TMP/d.ctl.err")"
visible_now kd late-joiner
ctl a put kb from-a || fail "strong put on a (four members) failed"
visible_now kb from-a
ctl d del ka || fail "strong del on d failed"
visible_now ka -
ctl c --hex put 0a00 00 || fail "binary put on c (four members) failed"
for m in a b c d; do
	hex_now $m 0a00 00
done
committed=$(strong_counter d committed)
[ "${committed:-0}" -ge 2 ] || fail "d counts $committed strong commits, not >= 2"
say "the fourth node writes and reads at once (d committed $committed)"
wait_for 20 same_scan a b c d
wait_for 20 none_pending a b c d
