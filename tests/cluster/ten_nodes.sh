#!/bin/sh
# SPDX-License-Identifier: MIT
# Ten zero-config rumord: every node comes to hold the nine others alive,
# and after ten writes on every node all ten hold the same data.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

N=10
nodes=""
i=0
while [ $i -lt $N ]; do
	nodes="$nodes n$i"
	i=$((i + 1))
done

for n in $nodes; do
	start_node $n
done
for n in $nodes; do
	wait_for 30 alive_is $n $((N - 1))
done

for n in $nodes; do
	wait_for 10 caught_up $n
	k=0
	while [ $k -lt 10 ]; do
		ctl $n put "$n/k$k" "v$k-from-$n" || fail "put $n/k$k on $n failed"
		k=$((k + 1))
	done
done
say "wrote 10 keys on each of $N nodes"

# shellcheck disable=SC2086
wait_for 30 same_scan $nodes
count=$(ctl n0 scan | wc -l)
[ "$count" -eq $((N * 10)) ] || fail "n0 holds $count keys, not $((N * 10))"
for n in $nodes; do
	alive_is $n $((N - 1)) || fail "$n no longer holds $((N - 1)) alive"
done
