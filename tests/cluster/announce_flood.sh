#!/bin/sh
# SPDX-License-Identifier: MIT
# Valid announcements with random ids flood the group (the built-in key
# is public), each naming a port where the tool accepts and holds every
# connection unanswered. A node keeps at most NET_DIALS_MAX (8) dials in
# flight, defers the rest (counted as dials_deferred), and a genuine node
# that starts during the flood still joins and replicates.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

TOOL=$top_builddir/tests/cluster/announce_tool
[ -x "$TOOL" ] || fail "$TOOL is not built (make check builds it)"
CAP=8

start_node a
ida=$(node_id a) || fail "cannot read a's id"

# One node alone: every connection the tool sees is one of a's dials.
out=$("$TOOL" --from 127.0.0.2 --watch 8 flood 500 2>"$CL_TMP/tool.err") ||
	fail "announce_tool flood failed: $(cat "$CL_TMP/tool.err")"
say "tool, a alone: $(echo "$out" | tr '\n' ' ')"
max=$(echo "$out" | sed -n 's/^max_concurrent //p')
[ "$max" -ge 1 ] || fail "the flood caused no dial at all: the test saw nothing"
[ "$max" -le $CAP ] || fail "$max concurrent dials, above the cap of $CAP"
deferred=$(ctl a --json status | json_get dials_deferred)
[ "${deferred:-0}" -ge 1 ] || fail "a deferred no dial (dials_deferred=$deferred)"

# Again, and a genuine node starts meanwhile: two nodes, two caps.
"$TOOL" --from 127.0.0.2 --watch 30 flood 1500 >"$CL_TMP/flood2.out" \
	2>"$CL_TMP/flood2.err" &
tool_pid=$!
start_node b
idb=$(node_id b) || fail "cannot read b's id"
wait_for 30 sees_alive a "$idb"
wait_for 15 sees_alive b "$ida"
ctl b put during-flood yes || fail "b refused a put"
wait_for 15 value_is a during-flood yes
wait "$tool_pid" || fail "announce_tool flood failed: $(cat "$CL_TMP/flood2.err")"
say "tool, a and b: $(tr '\n' ' ' <"$CL_TMP/flood2.out")"
max=$(sed -n 's/^max_concurrent //p' "$CL_TMP/flood2.out")
[ "$max" -le $((2 * CAP)) ] ||
	fail "$max concurrent dials from two nodes, above 2 x $CAP"
