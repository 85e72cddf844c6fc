#!/bin/sh
# SPDX-License-Identifier: MIT
# `rumorctl why` across a real network partition. Nodes a and b run in
# the test's namespace, c in a second one joined to it by a veth pair
# (10.88.0.1 on va, 10.88.0.2 on vb). Once every connection is up and a
# first write reached everyone, packet filters (nftables, else iptables)
# drop everything crossing va in both directions: a blackhole, no RST,
# so the connections to c stay open and silent. Then:
#  1. a write on a; `why` on a returns within its bound, shows c as not
#     answering (or unreachable, once a notices), and says converging,
#     never converged, for as long as the partition lasts;
#  2. `why` on c shows a and b not answered, c holding the older
#     version, converging;
#  3. the filters removed, `why` on a (and on c) says converged and c
#     holds the write.
# Skips (77) where veth pairs or nested namespaces are not permitted, or
# neither nft nor iptables is installed or can load rules here.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

# ------------------------------------------------------------ network

ns2_veth
# IPv4 only on the link: the filters then have one family to cover.
if [ -e /proc/sys/net/ipv6/conf/va ]; then
	echo 1 >/proc/sys/net/ipv6/conf/va/disable_ipv6
	in_ns2 sh -c 'echo 1 >/proc/sys/net/ipv6/conf/vb/disable_ipv6'
fi
ip addr add 10.88.0.1/24 dev va || fail "cannot address va"
in_ns2 ip addr add 10.88.0.2/24 dev vb || fail "cannot address vb"
ip link set va up || fail "cannot bring va up"
in_ns2 ip link set vb up || fail "cannot bring vb up"
in_ns2 ip link set lo up || fail "cannot bring lo up in the second namespace"

# ------------------------------------------------------------ filters

# split_on / split_off: drop every packet crossing va, both ways (DROP,
# not REJECT: the peers see silence, not a reset), and undo it.
if command -v nft >/dev/null 2>&1; then
	split_on()
	{
		nft -f - <<'EOF'
table inet rumor_split {
	chain in {
		type filter hook input priority 0; policy accept;
		iifname "va" drop
	}
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "va" drop
	}
}
EOF
	}
	split_off()
	{
		nft delete table inet rumor_split
	}
	filter_tool=nft
elif command -v iptables >/dev/null 2>&1; then
	split_on()
	{
		iptables -w -I INPUT -i va -j DROP &&
			iptables -w -I OUTPUT -o va -j DROP
	}
	split_off()
	{
		iptables -w -D INPUT -i va -j DROP &&
			iptables -w -D OUTPUT -o va -j DROP
	}
	filter_tool=iptables
else
	skip "neither nft (nftables) nor iptables is installed"
fi
split_on >"$CL_TMP/filter.err" 2>&1 ||
	skip "$filter_tool cannot load rules here: $(cat "$CL_TMP/filter.err")"
split_off >"$CL_TMP/filter.err" 2>&1 ||
	fail "$filter_tool cannot remove its rules: $(cat "$CL_TMP/filter.err")"
say "partitions made with $filter_tool"

# ------------------------------------------------------------ nodes

start_node a
start_node b
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 20 sees_alive a "$idb"
port_of()
{
	cl_l=$(node_listen "$1")
	echo "${cl_l##*:}"
}
pa=$(port_of a) && pb=$(port_of b) && [ -n "$pa" ] && [ -n "$pb" ] ||
	fail "cannot read the listen ports of a and b"

# c in the second namespace (nsenter execs rumord in place, so the saved
# pid is rumord's), dialing a and b across the link; no multicast there.
cat >"$CL_TMP/rumord-ns2" <<EOS
#!/bin/sh
exec nsenter --net=/proc/$holder/ns/net "$RUMORD" "\$@"
EOS
chmod +x "$CL_TMP/rumord-ns2"
rumord_real=$RUMORD
RUMORD=$CL_TMP/rumord-ns2
start_node c --no-multicast --listen 10.88.0.2:0 \
	--peer "10.88.0.1:$pa" --peer "10.88.0.1:$pb"
RUMORD=$rumord_real
idc=$(node_id c) || fail "cannot read c's id"

connected()
{
	ctl "$1" --json peers | grep "\"id\":\"$2\"" | grep -q '"connected":true'
}
for pair in "a $idc" "b $idc" "c $ida" "c $idb" "a $idb"; do
	# shellcheck disable=SC2086  # two words: NAME ID
	wait_for 30 connected $pair
done

# why_row OUT ID: the row of node ID in the JSON of `why` (one line).
why_row()
{
	echo "$1" | sed 's/},{"id"/}\n{"id"/g' | grep "\"id\":\"$2\""
}

wait_for 15 caught_up a
ctl a put colour blue || fail "put on a failed"
wait_for 15 value_is b colour blue
wait_for 15 value_is c colour blue
converged_on()
{
	[ "$(ctl "$1" --json why colour | json_get verdict)" = converged ]
}
wait_for 15 converged_on a
old=$(ctl c --json version colour) || fail "version on c failed"
old_clock=$(echo "$old" | json_get clock)
old_seq=$(echo "$old" | json_get seq)

# ------------------------------------------------------------ 1. split

split_on >"$CL_TMP/filter.err" 2>&1 ||
	fail "$filter_tool cannot load rules: $(cat "$CL_TMP/filter.err")"
say "partition on: c cut off from a and b"
ctl a put colour red || fail "put on a during the partition failed"
wait_for 15 value_is b colour red
new=$(ctl a --json version colour) || fail "version on a failed"
[ "$(echo "$new" | json_get seq)" -gt "$old_seq" ] ||
	fail "the write on a has no newer seq: $old / $new"

# why_during NAME: `why --timeout 1000 colour` on NAME within 3000 ms
# (a bound, not a speed figure), output in $out.
why_during()
{
	cl_t0=$(date +%s%N)
	out=$(timeout 20 "$RUMORCTL" --data "$CL_TMP/$1" --json why \
		--timeout 1000 colour 2>>"$CL_TMP/$1.ctl.err") ||
		fail "why on $1 during the partition failed or hung"
	cl_ms=$((($(date +%s%N) - cl_t0) / 1000000))
	[ "$cl_ms" -lt 3000 ] ||
		fail "why on $1 took $cl_ms ms, its bound is 1000 ms: $out"
}

# a_split_view: why on a says converging, with c silent or unreachable
# and not asked; b answered and holds the winner.
a_split_view()
{
	why_during a
	[ "$(echo "$out" | json_get verdict)" = converging ] || {
		echo "# a says: $out"
		return 1
	}
	row=$(why_row "$out" "$idc")
	case $row in
	*'"status":"no answer"'* | *'"status":"unreachable"'*) ;;
	*) echo "# c's row on a: $row"; return 1 ;;
	esac
	why_row "$out" "$idb" |
		grep -q '"status":"answered","role":"current"' || {
		echo "# b's row on a: $(why_row "$out" "$idb")"
		return 1
	}
	[ "$(echo "$out" | json_get not_asked)" = 1 ] || {
		echo "# not_asked on a: $out"
		return 1
	}
	# c does not get the write across the partition.
	value_is c colour blue || {
		echo "# c holds $(ctl c get colour)"
		return 1
	}
}

# The connections stay open (nothing resets them): c is asked and silent.
connected a "$idc" || fail "a dropped c at once under a blackhole"
a_split_view || fail "why on a right after the partition"
echo "$out" | grep -q "\"id\":\"$idc\",\"status\":\"no answer\"" ||
	fail "c on an open, blackholed connection is not 'no answer': $out"
say "a, c just cut off: $(ctl a why --timeout 1000 colour | tail -n 1)"
# As long as it lasts, and while a notices c's silence (suspect after
# 5 s): never converged, always within the bound.
hold_for 7 a_split_view
say "a holds c as $(peer_state a "$idc") after 7 s; c's row:" \
	"$(why_row "$out" "$idc" | sed 's/.*"status":"\([^"]*\)".*/\1/')"

# ------------------------------------------------------------ 2. on c

why_during c
[ "$(echo "$out" | json_get verdict)" = converging ] ||
	fail "c does not say converging: $out"
for id in "$ida" "$idb"; do
	row=$(why_row "$out" "$id")
	case $row in
	*'"status":"no answer"'* | *'"status":"unreachable"'*) ;;
	*) fail "a or b is not silent or unreachable on c: $row" ;;
	esac
done
[ "$(echo "$out" | json_get not_asked)" = 2 ] || fail "not_asked on c: $out"
row=$(why_row "$out" "$idc")
echo "$row" | grep -q '"status":"self"' || fail "c's own row: $row"
[ "$(echo "$row" | json_get clock)" = "$old_clock" ] &&
	[ "$(echo "$row" | json_get seq)" = "$old_seq" ] ||
	fail "c's own row is not the older version ($old): $row"
say "on c: $(ctl c why --timeout 1000 colour | tail -n 1)"

# ------------------------------------------------------------ 3. heal

split_off >"$CL_TMP/filter.err" 2>&1 ||
	fail "$filter_tool cannot remove its rules: $(cat "$CL_TMP/filter.err")"
say "partition off"
# Each side's TCP retransmission backoff grows while the partition
# lasts (to about 13 s after 25 s of it), and each side resends on its
# own timer: c may hear a well before a hears c. The deadlines allow
# for a few backoff steps.
wait_for 90 value_is c colour red
wait_for 90 converged_on a
wait_for 30 converged_on c
out=$(ctl a --json why colour) || fail "why on a failed"
why_row "$out" "$idc" | grep -q '"status":"answered","role":"current"' ||
	fail "c is not an answering holder of the winner: $out"
[ "$(echo "$out" | json_get not_asked)" = 0 ] || fail "not_asked: $out"
say "healed: $(ctl a why colour | tail -n 1)"
