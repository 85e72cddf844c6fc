#!/bin/sh
# SPDX-License-Identifier: MIT
# Seeds only (--no-multicast): A has B as seed, B has C. A comes to know C
# through B, and what C writes reaches A.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

start_node c --no-multicast --listen 127.0.0.1:0
wait_for 5 has_listen c
addr_c=$(node_listen c)
start_node b --no-multicast --listen 127.0.0.1:0 --peer "$addr_c"
wait_for 5 has_listen b
addr_b=$(node_listen b)
start_node a --no-multicast --listen 127.0.0.1:0 --peer "$addr_b"
say "c listens on $addr_c, b on $addr_b"
idb=$(node_id b) && idc=$(node_id c) ||
	fail "cannot read node ids"

knows()
{
	[ -n "$(peer_state "$1" "$2")" ]
}
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$idc"
wait_for 20 knows a "$idc"
say "a learned c as: $(ctl a --json peers | grep "\"id\":\"$idc\"" | json_get learned)"

wait_for 10 caught_up c
ctl c put from-c hello-a || fail "put on c failed"
wait_for 20 value_is a from-c hello-a
wait_for 20 same_version from-c a b c

# No multicast was used: nothing dropped, nothing announced.
[ "$(node_counter a announcements_dropped)" = 0 ] ||
	fail "a counted announcements with --no-multicast"
