# SPDX-License-Identifier: MIT
#
# tests/cluster/strong_lib.sh: what the strong_*.sh cluster tests share
# on top of lib.sh: nodes in strong consistency, readiness, the strong
# counters of status, exits of faulted nodes, and random numbers (dash
# has no $RANDOM). Sourced after lib.sh.

# The strong timeout of every node (ms). A participant left with an
# intent resolves it at most ST_RECOVERY_S seconds after its coordinator
# vanished (or after it restarted): the intent's ttl and the wait after
# it (2 x the timeout), the ASK round (1 x), and slack for a slow CI
# machine and the restart itself.
ST_TIMEOUT_MS=1000
ST_RECOVERY_S=10
ST_ARGS="--consistency strong --strong-timeout $ST_TIMEOUT_MS"

# start_strong NAME [ARGS...]: a node in strong consistency (quorum all).
start_strong()
{
	st_name=$1
	shift
	# shellcheck disable=SC2086  # ST_ARGS is a list of words
	start_node "$st_name" $ST_ARGS "$@"
}

# start_faulted NAME STEP [ARGS...]: the same, with RUMOR_TEST_FAULT=STEP
# in its environment (only its own).
start_faulted()
{
	st_name=$1
	RUMOR_TEST_FAULT=$2
	export RUMOR_TEST_FAULT
	shift 2
	start_strong "$st_name" "$@"
	unset RUMOR_TEST_FAULT
}

# launch_faulted NAME STEP [ARGS...]: start_faulted without waiting for
# the control socket: for a node that may reach STEP (and exit) before
# start_node would see it answer. Same data dir, log and pid file.
launch_faulted()
{
	st_name=$1
	st_step=$2
	shift 2
	case " $CL_NODES " in
	*" $st_name "*) ;;
	*) CL_NODES="$CL_NODES $st_name" ;;
	esac
	# shellcheck disable=SC2086  # CL_TIMING and ST_ARGS are lists of words
	RUMOR_TEST_FAULT=$st_step "$RUMORD" --data "$CL_TMP/$st_name" \
		$CL_TIMING $ST_ARGS "$@" >>"$CL_TMP/$st_name.log" 2>&1 &
	echo $! >"$CL_TMP/$st_name.pid"
}

# is_ready NAME: status says ready (a quorum of members reachable).
is_ready()
{
	[ "$(ctl "$1" --json status | json_get ready)" = true ]
}

# connected_is NAME N: NAME holds a live connection to N peers (peers
# JSON "connected":true): first-hand contact, what makes a participant.
connected_is()
{
	[ "$(ctl "$1" --json peers | grep -c '"connected":true')" = "$2" ]
}

# mesh NAME...: every NAME is connected to every other, caught up and
# ready.
mesh()
{
	st_k=$(($# - 1))
	for st_m in "$@"; do
		wait_for 20 connected_is "$st_m" "$st_k"
		wait_for 20 caught_up "$st_m"
	done
	wait_for 20 all_ready "$@"
	say "mesh of $*: $(ctl "$1" status | grep '^consistency:')"
}

# all_ready NAME...: every NAME is ready.
all_ready()
{
	for st_n in "$@"; do
		is_ready "$st_n" || return 1
	done
}

# strong_counter NAME FIELD: one of status' strong counters (committed,
# aborted, prepared, pending, recovered, late).
strong_counter()
{
	ctl "$1" --json status | json_get "$2"
}

# none_pending NAME...: no NAME holds a pending intent.
none_pending()
{
	for st_n in "$@"; do
		[ "$(strong_counter "$st_n" pending)" = 0 ] || return 1
	done
}

# cl_not_running NAME: a condition for wait_for.
cl_not_running()
{
	! node_running "$1"
}

# wait_exit NAME CODE TIMEOUT_S: NAME's rumord exits on its own within
# TIMEOUT_S seconds, with exit status CODE.
wait_exit()
{
	wait_for "$3" cl_not_running "$1"
	wait "$(node_pid "$1")"
	st_rv=$?
	: >"$CL_TMP/$1.pid"
	[ "$st_rv" = "$2" ] || fail "$1 exited $st_rv, not $2"
}

# rnd N: prints a random number in [0, N).
rnd()
{
	st_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((st_r % $1))
}

# now_ns: nanoseconds since the epoch (the clock of recorded histories).
now_ns()
{
	date +%s%N
}

# value_now NAME KEY WANT: reads KEY on NAME once (no polling): VALUE
# must be WANT, or absent when WANT is "-". For the checks that a strong
# write is visible everywhere the moment it returned.
value_now()
{
	if [ "$3" = - ]; then
		absent "$1" "$2" || fail "$1: $2 is '$(ctl "$1" get "$2")', not absent"
	else
		st_v=$(ctl "$1" get "$2")
		[ "$st_v" = "$3" ] || fail "$1: $2 is '$st_v', not '$3'"
	fi
}

# hex_now NAME KEYHEX VALUEHEX: the same with --hex.
hex_now()
{
	st_v=$(ctl "$1" --hex get "$2")
	[ "$st_v" = "$3" ] || fail "$1: key $2 is '$st_v', not '$3' (hex)"
}
