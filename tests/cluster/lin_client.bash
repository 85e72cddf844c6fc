#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/cluster/lin_client.bash: one client of strong_lin.sh. Runs random
# strong puts, dels and gets (rumorctl, on a random node of three, one
# of three keys) until STOPFILE exists or MAX ops ran, and appends each
# to OUT as a history line of tests/lib/lincheck.h followed by a comment
# ("# NODE rv RV"). Bash, for $EPOCHREALTIME and $RANDOM: the only
# process an op creates is its rumorctl (process creation is slow here).
#
#   lin_client.bash ID RUMORCTL DIR_A DIR_B DIR_C OUT STOPFILE MAX
#
# Outcomes:
#  - exit 0: ok; a get exiting 1 "not found": ok, absent (-);
#  - rumorctl could not connect (the node is down): fail (nothing sent);
#  - a put or del refused before any effect (aborted, locked, fewer than
#    a quorum reachable): fail;
#  - any other put or del (timed out: committed on its coordinator but
#    not confirmed; the node died mid-request): info;
#  - any other get: fail (a read that returned nothing has no effect).
set -u
shopt -s extglob

id=$1
ctl=$2
dirs=("$3" "$4" "$5")
names=(a b c)
out=$6
stop=$7
max=$8
err=$out.err

i=0
while [[ -d ${out%/*} && ! -e $stop && $i -lt $max ]]; do
	r=$RANDOM
	n=$((r % 3))
	key=l$((r / 3 % 3))
	op=$((r / 9 % 100))
	val=c$id-$i
	t0=${EPOCHREALTIME/./}000
	if ((op < 45)); then
		"$ctl" --data "${dirs[n]}" put "$key" "$val" >/dev/null 2>"$err"
		rv=$?
		kind=write
	elif ((op < 60)); then
		"$ctl" --data "${dirs[n]}" del "$key" >/dev/null 2>"$err"
		rv=$?
		kind=write
		val=-
	else
		val=$("$ctl" --data "${dirs[n]}" get "$key" 2>"$err")
		rv=$?
		kind=read
		((rv == 0)) || val=-
	fi
	t1=${EPOCHREALTIME/./}000
	msg=""
	IFS= read -r -d '' msg <"$err"
	if ((rv == 0)); then
		how=ok
	elif [[ $msg == *"cannot reach the node at"*@(No such file|Connection refused)* ]]; then
		how=fail
	elif [[ $kind == read ]]; then
		if ((rv == 1)) && [[ $msg == *"not found"* ]]; then
			how=ok
		else
			how=fail
		fi
	elif ((rv == 1)) && [[ $msg == *@(aborted|locked|reachable)* ]]; then
		how=fail
	else
		how=info
	fi
	printf '%s %s %s %s %s %s # %s rv %s\n' "$t0" "$t1" "$how" "$kind" \
		"$key" "$val" "${names[n]}" "$rv" >>"$out"
	i=$((i + 1))
done
