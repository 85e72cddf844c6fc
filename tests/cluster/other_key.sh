#!/bin/sh
# SPDX-License-Identifier: MIT
# A node with another network key, beside two default-key nodes on the
# same multicast group: neither side ever holds the other alive, and the
# stranger's writes never reach the others (nor theirs the stranger).
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

"$RUMORCTL" keygen --network-key "$CL_TMP/other.key" >/dev/null ||
	fail "rumorctl keygen --network-key failed"
[ -s "$CL_TMP/other.key" ] || fail "keygen wrote no key file"

start_node s --network-key "$CL_TMP/other.key"
start_node a
start_node b
ida=$(node_id a) && idb=$(node_id b) && ids=$(node_id s) ||
	fail "cannot read node ids"

# The stranger says it is closed.
[ "$(ctl s --json status | json_get open_network)" = false ] ||
	fail "the node with --network-key still says it is open"

wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"
wait_for 10 caught_up s
ctl s put secret from-stranger || fail "put on the stranger failed"
wait_for 10 caught_up a
ctl a put public from-a || fail "put on a failed"
wait_for 15 value_is b public from-a

# Announcements go every ~2 s: watch for several intervals.
apart()
{
	[ "$(peer_state a "$ids")" != alive ] &&
		[ "$(peer_state b "$ids")" != alive ] &&
		[ "$(alive_count s)" = 0 ] &&
		absent a secret && absent b secret && absent s public
}
hold_for 5 apart
