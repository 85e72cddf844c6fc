#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: runs libFuzzer targets for `make fuzz-smoke` and `make fuzz-long`
# (Makefile.am), from the build directory.
#
#   run.sh MODE SECONDS CORPUS_ROOT SRCDIR "NAMES" "TARGETS" "FUZZ_FLAGS" \
#       FLAGS...
# NAMES: the targets to run (empty: all); TARGETS: FUZZ_TARGETS, paths
# tests/fuzz/fuzz_NAME; FLAGS: libFuzzer flags for every target.
#
# MODE smoke: each target fuzzes a scratch directory, removed afterwards;
#   prints "fuzz-smoke: ok NAME (Done N runs)"; stops at the first failure.
# MODE long: each target fuzzes CORPUS_ROOT/NAME, which is kept between
#   runs; crash, leak and timeout files go to CORPUS_ROOT/NAME-crashes/ and
#   the log to CORPUS_ROOT/NAME.log; prints "fuzz-long: ok NAME (N runs)"
#   or "fuzz-long: FAILED NAME", goes on with the next target, and fails
#   at the end if any target did.
# Either way the seeds tests/fuzz/corpus/NAME are read as a second corpus
# directory, which libFuzzer never writes to, and FUZZ_BIG_SEEDS names the
# first one, into which a target may write seeds too large to keep in the
# source tree (fuzz_frame, fuzz_wire: 2 MiB frames).
# FUZZ_FLAGS holds NAME:FLAG entries, a target's own libFuzzer flags.
set -u
mode=$1 seconds=$2 root=$3 srcdir=$4 names=$5 targets=$6 own=$7
shift 7
all=
for t in $targets; do all="$all ${t##*/fuzz_}"; done
all=${all# }
test -n "$names" || names=$all
failed=
for name in $names; do
	case " $all " in *" $name "*) ;;
	*) echo "fuzz-$mode: no target '$name' (have: $all)"; exit 2;; esac
	flags=
	for f in $own; do
		case $f in "$name":*) flags="$flags ${f#*:}";; esac
	done
	if test "$mode" = long; then
		work=$root/$name
		log=$root/$name.log
		mkdir -p "$work" "$root/$name-crashes" || exit 1
		art="-artifact_prefix=$root/$name-crashes/"
	else
		work=$(mktemp -d) || exit 1
		log=$work.log
		art="-artifact_prefix=$work-"
	fi
	# shellcheck disable=SC2086
	FUZZ_BIG_SEEDS=$work ./tests/fuzz/fuzz_$name \
		-max_total_time="$seconds" "$art" "$@" $flags \
		"$work" "$srcdir/tests/fuzz/corpus/$name" >"$log" 2>&1
	rv=$?
	runs=$(grep -o 'Done [0-9]* runs' "$log" | tail -n 1)
	if test $rv -ne 0; then
		tail -n 30 "$log"
		echo "fuzz-$mode: FAILED $name$flags"
		if test "$mode" = smoke; then
			ls "$work"-crash-* "$work"-leak-* "$work"-timeout-* \
				2>/dev/null
			rm -rf "$work" "$log"
			exit 1
		fi
		echo "fuzz-long: crash files in $root/$name-crashes/"
		failed="$failed $name"
		continue
	fi
	if test "$mode" = long; then
		echo "fuzz-long: ok $name (${runs#Done }; corpus $work)"
	else
		echo "fuzz-smoke: ok $name$flags ($runs)"
		rm -rf "$work" "$log"
	fi
done
if test -n "$failed"; then
	echo "fuzz-$mode: FAILED:$failed"
	exit 1
fi
exit 0
