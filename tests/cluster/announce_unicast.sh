#!/bin/sh
# SPDX-License-Identifier: MIT
# 500 valid announcements (the built-in key is public) with random ids,
# sent to a node's address instead of the multicast group, each naming a
# port where the tool listens: the node dials none of them (it takes
# announcements only when sent to the group, IP_PKTINFO), counts them
# dropped, and keeps serving a genuine peer and rumorctl.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

TOOL=$top_builddir/tests/cluster/announce_tool
[ -x "$TOOL" ] || fail "$TOOL is not built (make check builds it)"

start_node a
start_node b
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"

d0=$(($(node_counter a announcements_dropped) + $(node_counter b announcements_dropped)))
# From 127.0.0.2: on-link (lo's 127.0.0.0/8), a source of its own.
out=$("$TOOL" --from 127.0.0.2 --watch 8 unicast 500 2>"$CL_TMP/tool.err") ||
	fail "announce_tool unicast failed: $(cat "$CL_TMP/tool.err")"
say "tool: $(echo "$out" | tr '\n' ' ')"
sent=$(echo "$out" | sed -n 's/^sent //p')
conns=$(echo "$out" | sed -n 's/^connections //p')
[ "$sent" = 500 ] || fail "the tool sent $sent announcements, not 500"
[ "$conns" = 0 ] || fail "forged unicast announcements caused $conns dials"
d1=$(($(node_counter a announcements_dropped) + $(node_counter b announcements_dropped)))
say "announcements dropped: $d0 before, $d1 after"
# Unicast reaches one socket of the port: the two nodes drop 500 in all.
[ "$d1" -ge $((d0 + 500)) ] ||
	fail "only $((d1 - d0)) of 500 unicast announcements counted dropped"

# The reason is shown where operators look.
ctl a status | grep -q 'announcements dropped: .*not_to_group [0-9]' ||
	ctl b status | grep -q 'announcements dropped: .*not_to_group [0-9]' ||
	fail "rumorctl status names no not_to_group drops"

ctl a put after-unicast yes || fail "a refused a put"
wait_for 15 value_is b after-unicast yes
sees_alive a "$idb" && sees_alive b "$ida" || fail "a peer was lost"
