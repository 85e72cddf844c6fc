#!/bin/sh
# SPDX-License-Identifier: MIT
# check-model.sh: runs spin over the sync model (src/sync/sync.pml) in
# each configuration of a set and fails on any unexpected result.
#   check-model.sh MODEL.pml ci|full [CC]
# ci:   the configurations CI runs (under a minute here, see MODEL.md):
#       two clean ones that must pass (and reach their end, where
#       convergence is checked), and three planted bugs, each of which
#       must end in the assertion it breaks (a counterexample).
# full: the larger clean configuration (opt-in: long, gigabytes).
# Every run is exhaustive: -DSAFETY -DCOLLAPSE, no bitstate hashing; a
# run that hits the depth bound or runs out of memory fails.
# Without spin, says so and exits 0 (make check-model is opt-in).
set -u
model=$1
set_name=$2
cc=${3:-cc}

if ! command -v spin >/dev/null 2>&1; then
	echo "check-model: spin not found (Debian package spin): skipped"
	exit 0
fi
model=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
work=$(mktemp -d "${TMPDIR:-/tmp}/rumor-model.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
failed=0
# Compiling pan.c at -O2 takes longer than the small searches (-O0: 3 s
# against 15 s, for a search ~15% slower).
opt=-O0

# run NAME EXPECT DEFINES...: EXPECT is pass (no error, search complete,
# end reachable), safety (an assertion of check_safety violated) or
# convergence (the HWM assertion of check_convergence violated).
run() {
	name=$1 expect=$2
	shift 2
	dir=$work/$name
	mkdir -p "$dir"
	cp "$model" "$dir/sync.pml"
	start=$(date +%s)
	if ! (cd "$dir" && spin -a "$@" sync.pml >spin.out 2>&1 &&
		# shellcheck disable=SC2086
		"$cc" $opt -w -DSAFETY -DCOLLAPSE -DMEMLIM=16384 \
			-o pan pan.c >cc.out 2>&1); then
		echo "check-model: $name: spin or cc failed:"
		cat "$dir/spin.out" "$dir/cc.out" 2>/dev/null
		failed=1
		return
	fi
	(cd "$dir" && ./pan -m2000 -w24 >pan.out 2>&1)
	end=$(date +%s)
	out=$dir/pan.out
	states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' "$out")
	depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$out")
	errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out")
	mem=$(sed -n 's/^ *\([0-9.]*\)[[:space:]]*total actual memory usage.*/\1/p' "$out")
	echo "check-model: $name ($*): states $states, depth $depth," \
		"memory ${mem} MB, $((end - start)) s, errors ${errors:-?}"
	if grep -q 'max search depth too small\|out of memory' "$out"; then
		echo "check-model: $name: search incomplete:"
		cat "$out"
		failed=1
		return
	fi
	case $expect in
	pass)
		# The end (after check_convergence) must be reachable, or the
		# convergence check would pass vacuously.
		if grep -q 'sync.pml:[0-9]*, state [0-9]*, "-end-"' "$out"; then
			echo "check-model: $name: the final state is unreachable"
			failed=1
		fi
		if [ "${errors:-1}" != 0 ]; then
			echo "check-model: $name: FAILED:"
			cat "$out"
			(cd "$dir" && spin -t "$@" sync.pml 2>&1 | tail -n 40)
			failed=1
		fi
		;;
	safety)
		# The planted bug must break the safety property itself, not
		# some other assertion.
		if [ "${errors:-0}" = 0 ] || ! grep -q 'assertion violated.*wc\[' "$out"; then
			echo "check-model: $name: the planted bug was NOT found:"
			cat "$out"
			failed=1
		else
			echo "check-model: $name: counterexample found, as it must"
		fi
		;;
	convergence)
		if [ "${errors:-0}" = 0 ] || ! grep -q 'assertion violated.*==lseq' "$out"; then
			echo "check-model: $name: the planted bug was NOT found:"
			cat "$out"
			failed=1
		else
			echo "check-model: $name: counterexample found, as it must"
		fi
		;;
	esac
}

small="-DMAXW=2 -DMAXW1=0 -DMAXCUTS=1 -DPERIODIC=0 -DGRAFTS=0 -DLOSTROUNDS=0"
case $set_name in
ci)
	run relay-cut pass -DMAXW=1 -DMAXW1=1 -DMAXCUTS=1 -DPERIODIC=0
	# shellcheck disable=SC2086
	run seq2-cut pass $small
	# shellcheck disable=SC2086
	run bug-live-any safety -DBUG_LIVE_ANY $small
	# shellcheck disable=SC2086
	run bug-batch-raise safety -DBUG_BATCH_RAISE $small
	# shellcheck disable=SC2086
	run bug-done-no-raise convergence -DBUG_DONE_NO_RAISE $small
	;;
full)
	opt=-O2
	run full pass -DMAXW=2 -DMAXW1=2 -DMAXCUTS=1 -DPERIODIC=1
	;;
*)
	echo "check-model: unknown set $set_name (ci or full)"
	exit 2
	;;
esac
[ $failed -eq 0 ] && echo "check-model: ok"
exit $failed
