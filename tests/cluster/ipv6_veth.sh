#!/bin/sh
# SPDX-License-Identifier: MIT
# A LAN with only IPv6 link-local addresses: two network namespaces
# joined by a veth pair (the test's own, from lib.sh, and one nested in
# it, held by a sleeping process), no IPv4 between them. Two rumord with
# no network options find each other through the IPv6 group
# (ff12::7947, IPV6_PKTINFO, fe80::/10 sources on-link), connect over
# link-local IPv6 and replicate a write. Skips (77) where veth pairs or
# nested namespaces are not permitted.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

[ -e /proc/sys/net/ipv6 ] || skip "this kernel has no IPv6"
ns2_veth
# No duplicate address detection: the link-local addresses are usable
# as soon as they exist.
echo 0 >/proc/sys/net/ipv6/conf/va/accept_dad
in_ns2 sh -c 'echo 0 >/proc/sys/net/ipv6/conf/vb/accept_dad'
ip link set va up || fail "cannot bring va up"
in_ns2 ip link set vb up || fail "cannot bring vb up"

# Only IPv6 link-local addresses on the link, usable.
ll_ready()
{
	ip -6 addr show dev va scope link | grep -q 'inet6 fe80' &&
		! ip -6 addr show dev va | grep -q tentative &&
		in_ns2 ip -6 addr show dev vb scope link | grep -q 'inet6 fe80' &&
		! in_ns2 ip -6 addr show dev vb | grep -q tentative
}
wait_for 10 ll_ready
ip -4 addr show dev va | grep -q inet && fail "va has an IPv4 address"
in_ns2 ip -4 addr show | grep -q inet && fail "the second namespace has IPv4"
say "va: $(ip -6 -o addr show dev va | awk '{print $4}')," \
	"vb: $(in_ns2 ip -6 -o addr show dev vb | awk '{print $4}')"

# Node b runs in the second namespace: start_node through nsenter (which
# execs rumord in place, so the saved pid is rumord's).
cat >"$CL_TMP/rumord-ns2" <<EOS
#!/bin/sh
exec nsenter --net=/proc/$holder/ns/net "$RUMORD" "\$@"
EOS
chmod +x "$CL_TMP/rumord-ns2"

# Zero config: no --listen, no --multicast, no --peer.
start_node a
rumord_real=$RUMORD
RUMORD=$CL_TMP/rumord-ns2
start_node b
RUMORD=$rumord_real
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"

wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"
ctl a --json peers | grep "\"id\":\"$idb\"" | grep -q 'fe80' ||
	fail "a does not hold b at a link-local address: $(ctl a --json peers)"
ctl a put over-ipv6 yes || fail "a refused a put"
wait_for 15 value_is b over-ipv6 yes
ctl b put back yes || fail "b refused a put"
wait_for 15 value_is a back yes
