#!/bin/sh
# SPDX-License-Identifier: MIT
# `rumorctl why` names a divergence. Nodes a and b load a resolver that is
# symmetric on each node but prefers a different value on each
# (tests/cluster/why_prefer.c, $RUMOR_TEST_PREFER). They write the same
# key apart (seeds only, not yet connected), so at the same clock; then
# c, seeded with both, joins them. Each keeps its own value for good, and
# `why` says: diverged, same clock, the two nodes and their symmetry
# counters; a key they agree on is still converged.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

la=$top_builddir/tests/cluster/why_prefer.la
dl=$(sed -n "s/^dlname='\(.*\)'$/\1/p" "$la" 2>/dev/null)
[ -n "$dl" ] || fail "$la is not built"
so=$top_builddir/tests/cluster/.libs/$dl

RUMOR_TEST_PREFER=red
export RUMOR_TEST_PREFER
start_node a --no-multicast --listen 127.0.0.1:0 --resolver "$so"
RUMOR_TEST_PREFER=blue
start_node b --no-multicast --listen 127.0.0.1:0 --resolver "$so"
unset RUMOR_TEST_PREFER
wait_for 5 has_listen a
wait_for 5 has_listen b
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 10 caught_up a
wait_for 10 caught_up b
ctl a put colour red || fail "put on a failed"
ctl b put colour blue || fail "put on b failed"
ctl a put shape round || fail "put on a failed"
[ "$(version_of a colour | cut -d' ' -f2)" = 1 ] || fail "a: clock not 1"
[ "$(version_of b colour | cut -d' ' -f2)" = 1 ] || fail "b: clock not 1"

start_node c --no-multicast --listen 127.0.0.1:0 --resolver "$so" \
	--peer "$(node_listen a)" --peer "$(node_listen b)"
idc=$(node_id c) || fail "cannot read c's id"
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"
wait_for 20 value_is b shape round

verdict_is()
{
	[ "$(ctl "$1" --json why "$2" | json_get verdict)" = "$3" ]
}
wait_for 20 verdict_is c colour diverged
out=$(ctl c --json why colour) || fail "why failed"
echo "$out" | grep -q "\"id\":\"$ida\",\"status\":\"answered\",\"role\":\"diverged\"" ||
	fail "a is not named as diverged: $out"
echo "$out" | grep -q "\"id\":\"$idb\",\"status\":\"answered\",\"role\":\"diverged\"" ||
	fail "b is not named as diverged: $out"
echo "$out" | grep -q '"symmetry_violations":0,"resolver":"prefer-env"' ||
	fail "no symmetry counters or resolver name: $out"
text=$(ctl c why colour) || fail "why (text) failed"
echo "$text" | tail -n 1 | grep -q '^diverged: same clock, different winners.*symmetry violations:' ||
	fail "no diverged verdict line: $text"
say "$text"

# It stays so: each node keeps its own value.
[ "$(ctl a get colour)" = red ] || fail "a no longer holds red"
[ "$(ctl b get colour)" = blue ] || fail "b no longer holds blue"
# A key written once is converged on all three.
verdict_is c shape converged || fail "shape is not converged"
verdict_is a shape converged || fail "shape is not converged from a"
