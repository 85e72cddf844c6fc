#!/bin/sh
# SPDX-License-Identifier: MIT
# Prometheus scrapes two rumord (--metrics) in the private namespace:
# Debian's prometheus package, a 1 s scrape interval, storage in the
# scratch dir. Its HTTP API (through promtool query) must show both
# targets up and the series there with sane values; `promtool check
# metrics` must pass on what each node serves. Skips (77) when the
# prometheus package is not installed.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

for cmd in prometheus promtool; do
	if ! command -v $cmd >/dev/null 2>&1; then
		echo "SKIP: $0: $cmd is not installed (Debian package prometheus)" >&2
		exit 77
	fi
done
HTTP_GET=$top_builddir/tests/cluster/http_get
[ -x "$HTTP_GET" ] || fail "$HTTP_GET is not built"

PORT_A=9101
PORT_B=9102
PORT_PROM=9090
PROM=http://127.0.0.1:$PORT_PROM
WRITES=20

# --------------------------------------------------- two nodes
start_node a --metrics 127.0.0.1:$PORT_A
start_node b --metrics 127.0.0.1:$PORT_B
ida=$(node_id a) && idb=$(node_id b) || fail "cannot read node ids"
wait_for 20 sees_alive a "$idb"
wait_for 20 sees_alive b "$ida"
i=0
while [ $i -lt $WRITES ]; do
	ctl a put "k$i" "v$i" || fail "put k$i on a failed"
	i=$((i + 1))
done
wait_for 15 value_is b "k$((WRITES - 1))" "v$((WRITES - 1))"

# --------------------------------------------------- what each serves
for p in $PORT_A $PORT_B; do
	"$HTTP_GET" $p /metrics >"$CL_TMP/scrape.$p" ||
		fail "GET /metrics on port $p failed"
	promtool check metrics <"$CL_TMP/scrape.$p" >"$CL_TMP/check.$p" 2>&1 ||
		fail "promtool check metrics on port $p: $(cat "$CL_TMP/check.$p")"
	say "port $p: $(wc -l <"$CL_TMP/scrape.$p") lines; promtool check metrics passes"
done
grep -q "^rumor_writes_total $WRITES\$" "$CL_TMP/scrape.$PORT_A" ||
	fail "a does not serve rumor_writes_total $WRITES"

# --------------------------------------------------- prometheus
cat >"$CL_TMP/prometheus.yml" <<EOT
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: rumor
    static_configs:
      - targets: ['127.0.0.1:$PORT_A', '127.0.0.1:$PORT_B']
EOT
promtool check config "$CL_TMP/prometheus.yml" >"$CL_TMP/prom.check" 2>&1 ||
	fail "promtool check config: $(cat "$CL_TMP/prom.check")"
mkdir "$CL_TMP/prom-data"
prometheus --config.file="$CL_TMP/prometheus.yml" \
	--storage.tsdb.path="$CL_TMP/prom-data" \
	--web.listen-address=127.0.0.1:$PORT_PROM >"$CL_TMP/prom.log" 2>&1 &
echo $! >"$CL_TMP/prom.pid"
# Stopped with the nodes on exit (lib.sh's cleanup, by its saved pid).
CL_NODES="$CL_NODES prom"

# query EXPR: the value of PromQL EXPR (one sample) on stdout, or
# nothing when it has no sample (yet).
query()
{
	promtool query instant -o json "$PROM" "$1" 2>/dev/null |
		sed -n 's/.*"value":\[[^,]*,"\([^"]*\)"\].*/\1/p' | head -n 1
}

# is EXPR OP NUMBER: EXPR's value compares as OP (awk) with NUMBER.
is()
{
	v=$(query "$1")
	[ -n "$v" ] && awk -v v="$v" -v n="$3" "BEGIN { exit !(v $2 n) }"
}

wait_for 60 is 'count(up{job="rumor"} == 1)' == 2
A='instance="127.0.0.1:'$PORT_A'"'
B='instance="127.0.0.1:'$PORT_B'"'
wait_for 30 is "rumor_writes_total{$A}" == $WRITES
wait_for 30 is "rumor_keys{$B}" == $WRITES
wait_for 30 is "rumor_remote_versions_total{$B,outcome=\"applied\"}" '>=' $WRITES
wait_for 30 is "rumor_apply_batch_entries_count{$B}" '>' 0
wait_for 30 is "rumor_apply_batch_entries_sum{$B}" '>=' $WRITES
wait_for 30 is "rumor_sync_round_duration_seconds_count{$A}" '>' 0
wait_for 30 is "rumor_sync_round_duration_seconds_bucket{$A,le=\"+Inf\"}" '>' 0
for n in "$A" "$B"; do
	is "rumor_members{$n,state=\"alive\"}" == 1 || fail "members alive on $n"
	is "rumor_peer_connections{$n}" '>=' 1 || fail "peers connected on $n"
	is "rumor_sync_interval_seconds{$n}" '>' 0 || fail "interval on $n"
	is "rumor_sync_interval_seconds{$n}" '<=' 1 || fail "interval on $n over --interval-max"
	is "rumor_catching_up{$n}" == 0 || fail "catching up on $n"
	is "rumor_received_bytes_total{$n}" '>' 0 || fail "bytes in on $n"
	is "rumor_sent_bytes_total{$n}" '>' 0 || fail "bytes out on $n"
	is "count(rumor_refusals_total{$n})" '>' 10 || fail "refusal reasons on $n"
	is "count(rumor_peer_lag_entries{$n})" == 1 || fail "lag series on $n"
done
is "rumor_peer_lag_entries{$A,peer=\"$idb\"}" '>=' 0 || fail "no lag of b on a"
is "rumor_node_info{$A,id=\"$ida\"}" == 1 || fail "no rumor_node_info on a"
# Writes on b show on the next scrapes.
ctl b put later yes || fail "put on b failed"
wait_for 30 is "rumor_writes_total{$B}" == 1
wait_for 30 is "rumor_keys{$A}" == $((WRITES + 1))
say "prometheus scraped both nodes: $(query 'count({job="rumor"})') series"
