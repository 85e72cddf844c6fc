#!/bin/sh
# SPDX-License-Identifier: MIT
# rumord as a daemon: usage and configuration errors exit 2 naming the
# problem; a second node on a data dir in use fails at once while the
# first keeps serving; SIGTERM during a stream of writes loses no
# acknowledged write, exits 0 and removes the control socket; rumorctl
# against a stopped node exits 3.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

# expect_usage_error WORD ARGS...: rumord ARGS exits 2 at once with a
# message on stderr that contains WORD.
expect_usage_error()
{
	word=$1
	shift
	"$RUMORD" --data "$CL_TMP/never" "$@" >"$CL_TMP/out" 2>&1 &
	pid=$!
	exited() { ! kill -0 "$pid" 2>/dev/null; }
	wait_for 5 exited
	wait "$pid"
	rv=$?
	[ $rv -eq 2 ] || fail "rumord $* exited $rv, not 2: $(cat "$CL_TMP/out")"
	grep -q -- "$word" "$CL_TMP/out" ||
		fail "rumord $*: the message does not name '$word': $(cat "$CL_TMP/out")"
	say "rumord $*: exit 2: $(head -n 1 "$CL_TMP/out")"
}

expect_usage_error --bogus --bogus
expect_usage_error loud --log-level loud
expect_usage_error sometimes --interval-max sometimes
expect_usage_error replica --mode follower-or-replica
printf '[rumord]\n# fine\nlisten = 127.0.0.1:0\ninterval-max = soon\n' >"$CL_TMP/bad1.conf"
expect_usage_error "bad1.conf:4" --config "$CL_TMP/bad1.conf"
grep -q "interval-max" "$CL_TMP/out" || fail "the message does not name interval-max"
printf 'colour = blue\n' >"$CL_TMP/bad2.conf"
expect_usage_error colour --config "$CL_TMP/bad2.conf"
expect_usage_error "$CL_TMP/missing.conf" --config "$CL_TMP/missing.conf"
expect_usage_error metrics --metrics localhost:9464
printf 'metrics = 127.0.0.1\n' >"$CL_TMP/bad3.conf"
expect_usage_error "bad3.conf:1" --config "$CL_TMP/bad3.conf"
expect_usage_error "one of them" --config "$CL_TMP/bad2.conf" \
	--config-optional "$CL_TMP/bad2.conf"
expect_usage_error colour --config-optional "$CL_TMP/bad2.conf"
# The systemd unit's way: a config file that is not there yet is fine.
start_node opt --no-multicast --listen 127.0.0.1:0 \
	--config-optional "$CL_TMP/missing/rumord.conf"
wait_for 5 has_listen opt
ctl opt status >/dev/null || fail "rumord --config-optional MISSING did not start"
say "rumord --config-optional with no such file: running"
[ ! -e "$CL_TMP/never" ] || fail "a refused start created its data dir"

# --------------------------------------------------- a data dir in use
flags="--no-multicast --listen 127.0.0.1:0"
start_node d $flags
"$RUMORD" --data "$CL_TMP/d" $flags >"$CL_TMP/out" 2>&1 &
pid=$!
second_exited() { ! kill -0 "$pid" 2>/dev/null; }
wait_for 5 second_exited
wait "$pid"
rv=$?
[ $rv -ne 0 ] || fail "a second rumord on a data dir in use exited 0"
grep -q "in use" "$CL_TMP/out" ||
	fail "the second rumord does not say the dir is in use: $(cat "$CL_TMP/out")"
say "second rumord: exit $rv: $(head -n 1 "$CL_TMP/out")"
ctl d status >/dev/null || fail "the first node stopped answering"

# --------------------------------------------- a metrics port in use
# The second rumord fails at start naming the port, before opening its
# node (its data dir stays unmade); the first keeps serving.
start_node m $flags --metrics 127.0.0.1:9464
"$RUMORD" --data "$CL_TMP/m2" $flags --metrics 127.0.0.1:9464 >"$CL_TMP/out" 2>&1 &
pid=$!
wait_for 5 second_exited
wait "$pid"
rv=$?
[ $rv -eq 1 ] || fail "a rumord on a metrics port in use exited $rv, not 1"
grep -q "9464.*in use" "$CL_TMP/out" ||
	fail "the message does not name the port in use: $(cat "$CL_TMP/out")"
[ ! -e "$CL_TMP/m2" ] || fail "a refused start created its data dir"
say "metrics port in use: exit $rv: $(head -n 1 "$CL_TMP/out")"
"$top_builddir/tests/cluster/http_get" 9464 /metrics >"$CL_TMP/scrape" ||
	fail "the first node stopped serving its metrics"
grep -q '^rumor_node_info{' "$CL_TMP/scrape" || fail "no rumor_node_info"
stop_node m
ctl d put still-serving yes || fail "the first node refused a put"
value_is d still-serving yes || fail "the first node lost a write"

# --------------------------------------------- SIGTERM under writes
# Two writers put k<W>-<N> in a loop and record each acknowledged N.
writer()
{
	n=0
	while "$RUMORCTL" --data "$CL_TMP/d" put "k$1-$n" "v$n" 2>/dev/null; do
		echo $n >>"$CL_TMP/acked$1"
		n=$((n + 1))
	done
}
: >"$CL_TMP/acked1"
: >"$CL_TMP/acked2"
writer 1 &
w1=$!
writer 2 &
w2=$!
# Enough that writes are in flight when SIGTERM lands; under ASan on a
# loaded machine a rumorctl put can take a third of a second.
enough_writes() { [ "$(wc -l <"$CL_TMP/acked1")" -ge 50 ]; }
wait_for 90 enough_writes
stop_node d TERM
[ $CL_STATUS -eq 0 ] || fail "rumord exited $CL_STATUS after SIGTERM, not 0"
grep -q "SIGTERM" "$CL_TMP/d.log" || fail "the log does not mention SIGTERM"
writers_done() { ! kill -0 $w1 2>/dev/null && ! kill -0 $w2 2>/dev/null; }
wait_for 10 writers_done
wait $w1 $w2
acked=$(cat "$CL_TMP/acked1" "$CL_TMP/acked2" | wc -l)
say "rumord exited 0 after SIGTERM; $acked writes were acknowledged"

[ ! -e "$CL_TMP/d/control.sock" ] ||
	fail "the control socket is still there after SIGTERM"

# rumorctl against the stopped node: exit 3.
for cmd in status "get k1-0" "put x y" peers; do
	# shellcheck disable=SC2086
	"$RUMORCTL" --data "$CL_TMP/d" $cmd >/dev/null 2>"$CL_TMP/out"
	rv=$?
	[ $rv -eq 3 ] || fail "rumorctl $cmd against a stopped node exited $rv, not 3"
done
say "rumorctl against a stopped node: exit 3 ($(head -n 1 "$CL_TMP/out"))"

# Every acknowledged write survived.
start_node d $flags
ctl d --json scan >"$CL_TMP/scan" || fail "scan after restart failed"
for w in 1 2; do
	while read -r n; do
		grep -q "{\"key\":\"k$w-$n\",\"value\":\"v$n\"}" "$CL_TMP/scan" ||
			fail "acknowledged write k$w-$n is missing after SIGTERM and restart"
	done <"$CL_TMP/acked$w"
done
say "all $acked acknowledged writes present after restart"
