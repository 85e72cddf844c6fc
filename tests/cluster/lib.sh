# SPDX-License-Identifier: MIT
#
# tests/cluster/lib.sh: shared by the cluster tests, which start real
# rumord processes and drive them with rumorctl. Sourced (POSIX sh) by
# each tests/cluster/*.sh before anything else.
#
# Sourcing it:
#  - re-executes the test inside a private network namespace
#    (`unshare -n`, or `unshare -r -n` when not root), so that no packet,
#    multicast included, can leave the machine; exits 77 (skipped) when
#    no namespace can be made, and refuses to run if the namespace holds
#    any interface but lo;
#  - brings lo up with multicast and a 224.0.0.0/4 route;
#  - makes a scratch directory $CL_TMP, removed on exit, and kills every
#    rumord started through start_node (by saved pid) on exit.
#
# Run a test directly with:  top_builddir=BUILD sh tests/cluster/NAME.sh
# (top_builddir defaults to the current directory).
#
# Never sleep to synchronise: wait_for polls a condition with a deadline.

set -u

CL_SHELL=/bin/sh

# ------------------------------------------------------------ namespace

if [ "${RUMOR_CLUSTER_NETNS:-}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null; then
		RUMOR_CLUSTER_NETNS=1 exec unshare -n -- "$CL_SHELL" "$0" "$@"
	fi
	if unshare -r -n true 2>/dev/null; then
		RUMOR_CLUSTER_NETNS=1 exec unshare -r -n -- "$CL_SHELL" "$0" "$@"
	fi
	echo "SKIP: $0: cannot make a private network namespace (unshare -n);" \
		"refusing to start nodes on the host's network" >&2
	exit 77
fi
export RUMOR_CLUSTER_NETNS

if ! command -v ip >/dev/null 2>&1; then
	echo "SKIP: $0: the ip command (iproute2) is missing" >&2
	exit 77
fi
# Every interface but lo must be absent: we are about to multicast.
cl_ifaces=$(ip -o link show | sed -n 's/^[0-9]*: *\([^:@ ]*\).*/\1/p')
for cl_if in $cl_ifaces; do
	if [ "$cl_if" != lo ]; then
		echo "FAIL: $0: interface $cl_if exists in the test's network" \
			"namespace; refusing to continue" >&2
		exit 99
	fi
done
ip link set lo up || { echo "FAIL: cannot bring lo up" >&2; exit 99; }
ip link set lo multicast on || { echo "FAIL: cannot set multicast on lo" >&2; exit 99; }
# src: without it, multicast sent from a socket bound to 0.0.0.0 leaves
# with source 0.0.0.0 (127.0.0.1 has host scope), and peers would
# record and dial that.
ip route add 224.0.0.0/4 dev lo src 127.0.0.1 ||
	{ echo "FAIL: cannot route 224.0.0.0/4 to lo" >&2; exit 99; }

# ------------------------------------------------------------ paths

: "${top_builddir:=$(pwd)}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
RUMORD=$top_builddir/src/rumord
RUMORCTL=$top_builddir/tools/rumorctl
for cl_p in "$RUMORD" "$RUMORCTL"; do
	if [ ! -x "$cl_p" ]; then
		echo "FAIL: $cl_p is not built (set top_builddir)" >&2
		exit 99
	fi
done

# Fast timings for every node (ms); a test may override CL_TIMING.
CL_TIMING="--interval-max 1000 --catchup-wait 500 --suspect-after 5000 --gone-after 10000"

CL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/rumor-cluster.XXXXXX") ||
	{ echo "FAIL: mktemp" >&2; exit 99; }
CL_NODES=""
CL_T0=0

# ------------------------------------------------------------ reporting

# Sets CL_NOW to the time since boot in centiseconds, without a fork.
cl_now()
{
	read -r cl_up cl_rest </proc/uptime
	cl_s=${cl_up%.*}
	cl_c=${cl_up#*.}
	CL_NOW=$((cl_s * 100 + ${cl_c#0}))
}

cl_elapsed()
{
	cl_now
	cl_d=$((CL_NOW - CL_T0))
	printf '%d.%02ds' $((cl_d / 100)) $((cl_d % 100))
}

say()
{
	echo "# [$(cl_elapsed)] $*"
}

# Prints what the nodes said and think: their log tails, status, peers.
diagnostics()
{
	for cl_n in $CL_NODES; do
		echo "==== node $cl_n (pid $(cat "$CL_TMP/$cl_n.pid" 2>/dev/null))"
		echo "---- log tail"
		tail -n 40 "$CL_TMP/$cl_n.log" 2>/dev/null
		echo "---- rumorctl status"
		"$RUMORCTL" --data "$CL_TMP/$cl_n" status 2>&1
		echo "---- rumorctl peers"
		"$RUMORCTL" --data "$CL_TMP/$cl_n" peers 2>&1
	done
}

fail()
{
	echo "FAIL: $*"
	diagnostics
	exit 1
}

# This script cannot run here: automake's skip.
skip()
{
	say "SKIP: $*"
	exit 77
}

# A second network namespace nested in the test's, held by a sleeping
# process ($holder; listed as node ns2, so that cl_cleanup ends it), and
# a veth pair joining the two: va here, vb there, both down and without
# addresses. in_ns2 CMD... runs CMD in it. Skips where nsenter is
# missing or veth pairs or nested namespaces are not permitted.
ns2_veth()
{
	command -v nsenter >/dev/null 2>&1 || skip "nsenter is missing"
	unshare -n sleep 100000 &
	holder=$!
	echo "$holder" >"$CL_TMP/ns2.pid"
	CL_NODES="$CL_NODES ns2"
	wait_for 5 ns2_ready
	ip link add va type veth peer name vb 2>"$CL_TMP/veth.err" ||
		skip "cannot make a veth pair: $(cat "$CL_TMP/veth.err")"
	ip link set vb netns "$holder" 2>"$CL_TMP/veth.err" ||
		skip "cannot move a veth end to another namespace:" \
			"$(cat "$CL_TMP/veth.err")"
}
in_ns2()
{
	nsenter --net="/proc/$holder/ns/net" "$@"
}
ns2_ready()
{
	[ "$(readlink "/proc/$holder/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}

cl_cleanup()
{
	cl_rv=$?
	trap - EXIT INT TERM
	for cl_n in $CL_NODES; do
		cl_pid=$(cat "$CL_TMP/$cl_n.pid" 2>/dev/null) || continue
		[ -n "$cl_pid" ] && kill -TERM "$cl_pid" 2>/dev/null
	done
	# Give them up to 10 s in all to close cleanly (a sanitizer build
	# checks for leaks at exit), then insist.
	cl_i=0
	for cl_n in $CL_NODES; do
		cl_pid=$(cat "$CL_TMP/$cl_n.pid" 2>/dev/null) || continue
		[ -n "$cl_pid" ] || continue
		while kill -0 "$cl_pid" 2>/dev/null && [ $cl_i -lt 100 ]; do
			sleep 0.1
			cl_i=$((cl_i + 1))
		done
		kill -KILL "$cl_pid" 2>/dev/null
	done
	# A sanitizer report in any node's log fails the test.
	for cl_log in "$CL_TMP"/*.log; do
		[ -f "$cl_log" ] || continue
		if grep -q "Sanitizer\|runtime error:" "$cl_log"; then
			echo "FAIL: sanitizer report in $(basename "$cl_log"):"
			grep -A 30 "Sanitizer\|runtime error:" "$cl_log" | head -n 60
			[ "$cl_rv" -ne 0 ] || cl_rv=1
		fi
	done
	rm -rf "$CL_TMP"
	say "done (exit $cl_rv)"
	exit $cl_rv
}
trap cl_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cl_now
CL_T0=$CL_NOW

# ------------------------------------------------------------ polling

# wait_for TIMEOUT_S CMD...: runs CMD every 0.1 s until it succeeds
# (returns 0) or TIMEOUT_S seconds have passed (fails the test, with
# diagnostics). CMD may be a shell function.
wait_for()
{
	cl_to=$1
	shift
	cl_now
	cl_start=$CL_NOW
	cl_deadline=$((CL_NOW + cl_to * 100))
	while :; do
		if "$@"; then
			cl_now
			cl_d=$((CL_NOW - cl_start))
			say "ok after $((cl_d / 100)).$((cl_d % 100 / 10))s: $*"
			return 0
		fi
		cl_now
		if [ "$CL_NOW" -ge "$cl_deadline" ]; then
			fail "timed out after ${cl_to}s waiting for: $*"
		fi
		sleep 0.1
	done
}

# hold_for SECONDS CMD...: CMD must succeed at every poll (every 0.2 s)
# for SECONDS seconds: a bounded observation window, for things that
# must never happen.
hold_for()
{
	cl_to=$1
	shift
	cl_now
	cl_deadline=$((CL_NOW + cl_to * 100))
	cl_polls=0
	while :; do
		if ! "$@"; then
			fail "stopped holding after $cl_polls polls: $*"
		fi
		cl_polls=$((cl_polls + 1))
		cl_now
		[ "$CL_NOW" -ge "$cl_deadline" ] && break
		sleep 0.2
	done
	say "held for ${cl_to}s ($cl_polls polls): $*"
}

# ------------------------------------------------------------ nodes

# ctl NAME ARGS...: rumorctl against node NAME; stderr is kept in
# $CL_TMP/NAME.ctl.err (the open-network warning would flood the output).
ctl()
{
	cl_name=$1
	shift
	"$RUMORCTL" --data "$CL_TMP/$cl_name" "$@" 2>>"$CL_TMP/$cl_name.ctl.err"
}

node_pid()
{
	cat "$CL_TMP/$1.pid"
}

node_running()
{
	kill -0 "$(node_pid "$1")" 2>/dev/null
}

cl_node_ready()
{
	node_running "$1" ||
		fail "rumord $1 exited during start: $(tail -n 20 "$CL_TMP/$1.log")"
	ctl "$1" status >/dev/null
}

# start_node NAME [RUMORD ARGS...]: starts rumord --data $CL_TMP/NAME with
# $CL_TIMING and ARGS, logging to $CL_TMP/NAME.log, and waits until its
# control socket answers. A restart on the same NAME reuses the data dir.
start_node()
{
	cl_name=$1
	shift
	case " $CL_NODES " in
	*" $cl_name "*) ;;
	*) CL_NODES="$CL_NODES $cl_name" ;;
	esac
	# shellcheck disable=SC2086  # CL_TIMING is a list of words
	"$RUMORD" --data "$CL_TMP/$cl_name" $CL_TIMING "$@" \
		>>"$CL_TMP/$cl_name.log" 2>&1 &
	echo $! >"$CL_TMP/$cl_name.pid"
	wait_for 15 cl_node_ready "$cl_name"
}

# start_three: starts nodes a, b and c (found by multicast), sets $ida,
# $idb and $idc to their ids, and waits until each sees the other two
# alive.
start_three()
{
	for cl_n in a b c; do
		start_node $cl_n
	done
	ida=$(node_id a) && idb=$(node_id b) && idc=$(node_id c) ||
		fail "cannot read node ids"
	wait_for 20 sees_alive a "$idb"
	wait_for 20 sees_alive a "$idc"
	wait_for 20 sees_alive b "$ida"
	wait_for 20 sees_alive b "$idc"
	wait_for 20 sees_alive c "$ida"
	wait_for 20 sees_alive c "$idb"
}

# stop_node NAME [SIGNAL]: sends SIGNAL (default TERM) and waits for the
# process; sets CL_STATUS to its exit status.
stop_node()
{
	cl_pid=$(node_pid "$1")
	kill "-${2:-TERM}" "$cl_pid" 2>/dev/null
	wait "$cl_pid"
	CL_STATUS=$?
	: >"$CL_TMP/$1.pid"
}

node_dir()
{
	echo "$CL_TMP/$1"
}

# The node's printable id (read from its key file; the node made it).
node_id()
{
	"$RUMORCTL" --data "$CL_TMP/$1" keygen --id
}

# ------------------------------------------------------------ JSON

# json_get FIELD: reads one JSON object on stdin and prints FIELD's value
# (a number, true/false/null, or a string without its quotes). Good for
# the flat, stable shapes of rumorctl(1) where FIELD occurs once.
json_get()
{
	sed -n "s/.*\"$1\":\(\"[^\"]*\"\|[^,}]*\).*/\1/p" | head -n 1 |
		sed 's/^"\(.*\)"$/\1/'
}

# The listen address of a node ("HOST:PORT").
node_listen()
{
	ctl "$1" --json status | json_get listen
}

# has_listen NAME: NAME listens on a port it was given (127.0.0.1:N, N
# not 0): a condition for wait_for after --listen 127.0.0.1:0.
has_listen()
{
	case $(node_listen "$1") in
	127.0.0.1:0 | "") return 1 ;;
	127.0.0.1:*) return 0 ;;
	*) return 1 ;;
	esac
}

node_counter()
{
	ctl "$1" --json status | json_get "$2"
}

# peer_state NAME ID: the state ("alive", "suspect", "gone") in which
# node NAME holds member ID; empty when it does not know it.
peer_state()
{
	ctl "$1" --json peers | grep "\"id\":\"$2\"" | json_get state
}

# alive_count NAME: how many members NAME holds alive.
alive_count()
{
	ctl "$1" --json peers | grep -c '"state":"alive"'
}

# sees_alive NAME ID / sees_state NAME ID STATE: conditions for wait_for.
sees_alive()
{
	[ "$(peer_state "$1" "$2")" = alive ]
}

sees_state()
{
	[ "$(peer_state "$1" "$2")" = "$3" ]
}

# alive_is NAME N: NAME holds exactly N members alive.
alive_is()
{
	[ "$(alive_count "$1")" = "$2" ]
}

# value_is NAME KEY VALUE: `rumorctl get KEY` on NAME prints VALUE.
value_is()
{
	[ "$(ctl "$1" get "$2")" = "$3" ]
}

# absent NAME KEY: KEY is not live on NAME (get exits 1).
absent()
{
	ctl "$1" get "$2" >/dev/null
	[ $? -eq 1 ]
}

# version_of NAME KEY: "origin clock seq deleted" of KEY's stored version.
version_of()
{
	cl_v=$(ctl "$1" --json version "$2") || return 1
	echo "$(echo "$cl_v" | json_get origin)" \
		"$(echo "$cl_v" | json_get clock)" \
		"$(echo "$cl_v" | json_get seq)" \
		"$(echo "$cl_v" | json_get deleted)"
}

# same_version KEY NAME...: every NAME holds the same version of KEY.
same_version()
{
	cl_key=$1
	shift
	cl_first=$(version_of "$1" "$cl_key") || return 1
	for cl_n in "$@"; do
		[ "$(version_of "$cl_n" "$cl_key")" = "$cl_first" ] || return 1
	done
}

# same_scan NAME...: `rumorctl --json scan` prints the same on every NAME,
# and it is not empty.
same_scan()
{
	cl_first=$(ctl "$1" --json scan) || return 1
	[ "$cl_first" != "[]" ] || return 1
	for cl_n in "$@"; do
		[ "$(ctl "$cl_n" --json scan)" = "$cl_first" ] || return 1
	done
}

# caught_up NAME: NAME accepts local writes (its start-up catch-up ended).
caught_up()
{
	[ "$(ctl "$1" --json status | json_get catching_up)" = false ]
}
