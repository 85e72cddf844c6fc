#!/bin/sh
# SPDX-License-Identifier: MIT
# A poisoned replay floor: 300 valid announcements with random ids dated
# 29 s ahead (inside the 30 s window). The floor never rises above the
# receiver's clock, so a genuine node started right after is heard, and
# joins, at once. Sent from 4 addresses at 20/s, so that most pass the
# budgets and fill the replay table (256) past eviction.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

TOOL=$top_builddir/tests/cluster/announce_tool
[ -x "$TOOL" ] || fail "$TOOL is not built (make check builds it)"

start_node a
ida=$(node_id a) || fail "cannot read a's id"
d0=$(node_counter a announcements_dropped)
out=$("$TOOL" --from 127.0.0.2 --sources 4 --rate 20 future 300 \
	2>"$CL_TMP/tool.err") ||
	fail "announce_tool future failed: $(cat "$CL_TMP/tool.err")"
say "tool: $(echo "$out" | tr '\n' ' ')"
start_node b
idb=$(node_id b) || fail "cannot read b's id"
# Announcements go every ~2 s: "at once" is a few intervals, not the
# 28 s the old floor kept a new node out for.
wait_for 8 sees_alive a "$idb"
wait_for 8 sees_alive b "$ida"
d1=$(node_counter a announcements_dropped)
say "a dropped $((d1 - d0)) announcements meanwhile (budgets)"
ctl b put after-floor yes || fail "b refused a put"
wait_for 15 value_is a after-floor yes
