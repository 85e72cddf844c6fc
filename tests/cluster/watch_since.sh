#!/bin/sh
# SPDX-License-Identifier: MIT
# A consumer tailing from a saved position: 10,000 writes (rumorctl load,
# in batches) watched by `rumorctl --json watch --since POS`. The first
# reader is killed (SIGKILL) midway and a second resumes from the last
# position the first printed; then the node itself is stopped midway and
# restarted, and a third reader resumes from the second's last position.
# Together they must have seen every key exactly once, positions strictly
# increasing.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

N=10000
BATCH=500

start_node n --no-multicast --listen 127.0.0.1:0
wait_for 10 caught_up n
D=$(node_dir n)

# gen FROM TO: "kNNNNN vNNNNN" lines for load.
gen()
{
	awk -v a="$1" -v b="$2" \
		'BEGIN { for (i = a; i <= b; i++) printf "k%05d v%d\n", i, i }'
}

# writer FROM TO: loads keys FROM..TO in batches of BATCH, in the
# background; its pid in $CL_TMP/writer.pid.
writer()
{
	(
		i=$1
		while [ "$i" -le "$2" ]; do
			j=$((i + BATCH - 1))
			gen "$i" "$j" | "$RUMORCTL" --data "$D" load ||
				exit 1
			i=$((j + 1))
		done
	) 2>>"$CL_TMP/writer.err" &
	echo $! >"$CL_TMP/writer.pid"
}

writer_done()
{
	! kill -0 "$(cat "$CL_TMP/writer.pid")" 2>/dev/null
}

# reader NAME SINCE: `watch --since SINCE` into $CL_TMP/NAME.out.
reader()
{
	"$RUMORCTL" --data "$D" --json watch --since "$2" \
		>"$CL_TMP/$1.out" 2>"$CL_TMP/$1.err" &
	echo $! >"$CL_TMP/$1.pid"
}

reader_gone()
{
	! kill -0 "$(cat "$CL_TMP/$1.pid")" 2>/dev/null
}

# complete NAME: the reader's whole lines (a kill may cut the last one).
complete()
{
	if [ -n "$(tail -c 1 "$CL_TMP/$1.out")" ]; then
		sed '$d' "$CL_TMP/$1.out"
	else
		cat "$CL_TMP/$1.out"
	fi
}

# seen NAME: how many changes the reader printed whole.
seen()
{
	complete "$1" | grep -c '^{"pos":'
}

seen_at_least()
{
	[ "$(seen "$1")" -ge "$2" ]
}

# last_pos NAME DEFAULT: the position of its last whole change.
last_pos()
{
	p=$(complete "$1" | sed -n 's/^{"pos":\([0-9]*\),.*/\1/p' | tail -n 1)
	echo "${p:-$2}"
}

has_key()
{
	complete "$1" | grep -q "\"key\":\"$2\""
}

# 1. From the start, killed midway while the writes go on.
reader r1 0
writer 0 $((N / 2 - 1))
wait_for 20 seen_at_least r1 1500
kill -KILL "$(cat "$CL_TMP/r1.pid")"
wait_for 5 reader_gone r1
last1=$(last_pos r1 0)
say "reader 1 killed after $(seen r1) changes, last position $last1"

# 2. Resumed from there; the node stops while it reads.
reader r2 "$last1"
wait_for 30 writer_done
[ ! -s "$CL_TMP/writer.err" ] || fail "writer: $(cat "$CL_TMP/writer.err")"
wait_for 20 seen_at_least r2 1
stop_node n
[ "$CL_STATUS" = 0 ] || fail "rumord exited $CL_STATUS on SIGTERM"
wait_for 10 reader_gone r2
last2=$(last_pos r2 "$last1")
say "node stopped; reader 2 saw $(seen r2) changes, last position $last2"

# 3. The node back; resumed again while the second half is written.
start_node n --no-multicast --listen 127.0.0.1:0
wait_for 10 caught_up n
reader r3 "$last2"
writer $((N / 2)) $((N - 1))
wait_for 30 writer_done
[ ! -s "$CL_TMP/writer.err" ] || fail "writer: $(cat "$CL_TMP/writer.err")"
last_key=$(printf 'k%05d' $((N - 1)))
wait_for 30 has_key r3 "$last_key"
kill -TERM "$(cat "$CL_TMP/r3.pid")"
wait_for 5 reader_gone r3

# Every key exactly once, in increasing positions, and nothing else.
for r in r1 r2 r3; do
	complete "$r"
done | sed -n 's/^{"pos":\([0-9]*\),"key":"\([^"]*\)".*/\1 \2/p' \
	>"$CL_TMP/all"
total=$(wc -l <"$CL_TMP/all")
unique=$(cut -d' ' -f2 "$CL_TMP/all" | sort -u | wc -l)
dups=$(cut -d' ' -f2 "$CL_TMP/all" | sort | uniq -d | head -n 3)
gaps=$(cat "$CL_TMP/r1.out" "$CL_TMP/r2.out" "$CL_TMP/r3.out" |
	grep -c '"gap"')
say "seen: $total changes, $unique keys; readers 1-3: $(seen r1) $(seen r2) $(seen r3)"
[ "$gaps" = 0 ] || fail "a reader was told of $gaps gaps"
[ -z "$dups" ] || fail "keys seen twice: $dups"
[ "$unique" = "$N" ] || fail "$unique distinct keys seen, not $N"
[ "$total" = "$N" ] || fail "$total changes seen, not $N"
gen 0 $((N - 1)) | cut -d' ' -f1 >"$CL_TMP/want"
cut -d' ' -f2 "$CL_TMP/all" | sort >"$CL_TMP/got"
cmp -s "$CL_TMP/want" "$CL_TMP/got" || fail "the keys seen are not k00000..k$((N - 1))"
awk 'NR > 1 && $1 <= prev { print "position " $1 " after " prev; bad = 1 }
	{ prev = $1 } END { exit bad }' "$CL_TMP/all" ||
	fail "positions do not strictly increase"
