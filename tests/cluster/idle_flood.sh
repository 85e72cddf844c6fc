#!/bin/sh
# SPDX-License-Identifier: MIT
# 1,000 idle strangers against a node held to 256 descriptors (issue 11):
# they connect to its peer port from 250 loopback addresses, never say a
# word and reconnect whenever the node closes them. Throughout, rumorctl
# still works, a real second node still connects and replicates a write
# both ways, the node's memory stays bounded, and the listener's caps
# show in `rumorctl status`. Afterwards the node serves as before.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

FLOOD_TOOL=$top_builddir/tests/cluster/flood_tool
[ -x "$FLOOD_TOOL" ] || fail "$FLOOD_TOOL is not built"
STRANGERS=1000
# The node's RSS may grow this much under the flood (KiB): its bounded
# handshakes cost ~1.5 KiB each; 1,000 held connections used to cost 66.
RSS_GROWTH_MAX=16384
# Under ASan, freed memory waits in a quarantine (256 MiB by default) and
# every allocation carries redzones: shrink the quarantine so that RSS
# still means something, and allow what is left of the overhead.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
export ASAN_OPTIONS
if grep -q -- '--enable-sanitize' "$top_builddir/config.status" 2>/dev/null; then
	RSS_GROWTH_MAX=65536
fi

# rumord with a 256-descriptor limit (exec keeps the pid start_node saves).
cat >"$CL_TMP/rumord-256" <<EOF
#!/bin/sh
ulimit -n 256 || exit 99
exec "$RUMORD" "\$@"
EOF
chmod +x "$CL_TMP/rumord-256"
REAL_RUMORD=$RUMORD
RUMORD=$CL_TMP/rumord-256
start_node a --listen 127.0.0.1:0 --no-multicast
RUMORD=$REAL_RUMORD
grep -q "^Max open files *256 " "/proc/$(node_pid a)/limits" ||
	fail "node a does not run with 256 descriptors"
wait_for 10 caught_up a
addr=$(node_listen a)
port=${addr##*:}
[ -n "$port" ] || fail "cannot read node a's listen address"

rss_kib()
{
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' \
		"/proc/$(node_pid a)/status"
}
rss0=$(rss_kib)
[ -n "$rss0" ] || fail "cannot read node a's RSS"

# The strangers, until SIGTERM (killed on exit too, should we fail).
"$FLOOD_TOOL" 127.0.0.1 "$port" $STRANGERS </dev/null \
	>"$CL_TMP/flood.out" 2>&1 &
flood_pid=$!
trap 'flood_rv=$?; kill -TERM $flood_pid 2>/dev/null; (exit $flood_rv); cl_cleanup' EXIT
flood_connected()
{
	kill -0 $flood_pid 2>/dev/null ||
		fail "flood_tool exited: $(cat "$CL_TMP/flood.out")"
	grep -q "^connected $STRANGERS" "$CL_TMP/flood.out"
}
wait_for 60 flood_connected

refused()
{
	ctl a --json status | sed -n "s/.*\"refused\":{\([^}]*\)}.*/\1/p" |
		tr ',' '\n' | sed -n "s/^\"$1\":\([0-9]*\)$/\1/p"
}
caps_acted()
{
	cl_v=$(refused handshakes_total)
	[ "${cl_v:-0}" -gt 0 ] 2>/dev/null
}
wait_for 10 caps_acted
say "refused so far: handshakes_total $(refused handshakes_total)," \
	"handshakes_source $(refused handshakes_source)," \
	"connections $(refused connections), descriptors $(refused descriptors)"

# rumorctl still gets through, at once.
ctl a put under-flood yes || fail "put on a failed under the flood"
[ "$(ctl a get under-flood)" = yes ] || fail "get on a failed under the flood"

# A real peer still connects and replicates, both ways.
start_node b --listen 127.0.0.1:0 --no-multicast --peer "127.0.0.1:$port"
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 30 sees_alive b "$ida"
wait_for 30 value_is b under-flood yes
ctl b put from-b hello || fail "put on b failed"
wait_for 30 value_is a from-b hello

# Memory stays bounded while the strangers keep knocking.
rss_bounded()
{
	rss=$(rss_kib)
	[ -n "$rss" ] && [ $((rss - rss0)) -le $RSS_GROWTH_MAX ] ||
		{ echo "RSS grew from $rss0 to $rss KiB"; return 1; }
	node_running a
}
hold_for 3 rss_bounded
say "node a RSS: $rss0 KiB before the flood, $(rss_kib) KiB under it"

# The strangers leave; the node goes on serving.
kill -TERM $flood_pid
wait $flood_pid || fail "flood_tool failed: $(cat "$CL_TMP/flood.out")"
say "flood_tool: $(tail -n 1 "$CL_TMP/flood.out")"
ctl a put after-flood yes || fail "put on a failed after the flood"
wait_for 30 value_is b after-flood yes
node_running a || fail "node a exited"
