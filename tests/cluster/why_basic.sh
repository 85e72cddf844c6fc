#!/bin/sh
# SPDX-License-Identifier: MIT
# `rumorctl why KEY` on three real nodes: converged once a put reached
# everyone; with node c stopped (SIGSTOP: connected, silent), c is
# reported as not answering within the bound, the verdict is converging
# and the command does not wait past --timeout; once c runs again,
# converged. A key nobody holds is converged with no winner.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/cluster/lib.sh"

start_three

# why_field NAME KEY FIELD: one field of `rumorctl --json why KEY` on NAME.
why_field()
{
	ctl "$1" --json why "$2" | json_get "$3"
}

verdict_is()
{
	[ "$(why_field "$1" "$2" verdict)" = "$3" ]
}

wait_for 15 caught_up a
ctl a put colour blue || fail "put on a failed"
wait_for 15 value_is b colour blue
wait_for 15 value_is c colour blue
wait_for 15 verdict_is a colour converged
out=$(ctl a --json why colour) || fail "why failed"
echo "$out" | grep -q "\"id\":\"$idc\",\"status\":\"answered\",\"role\":\"current\"" ||
	fail "c is not an answering holder of the winner: $out"
echo "$out" | grep -q "\"id\":\"$idb\",\"status\":\"answered\",\"role\":\"current\"" ||
	fail "b is not an answering holder of the winner: $out"
[ "$(echo "$out" | json_get not_asked)" = 0 ] || fail "members not asked: $out"
[ "$(echo "$out" | json_get reason)" = only ] || fail "reason: $out"
say "converged: $(ctl a why colour | tail -n 1)"

# A newer version: the winner by clock; still converged.
ctl b put colour green || fail "put on b failed"
wait_for 15 value_is a colour green
wait_for 15 value_is c colour green
wait_for 15 verdict_is c colour converged

# Nobody holds it: converged, no winner.
verdict_is a never-written converged || fail "absent key not converged"
[ "$(why_field a never-written reason)" = none ] || fail "absent key has a winner"

# c stopped: connected, but it cannot answer.
kill -STOP "$(node_pid c)"
ctl a put colour red || fail "put on a failed"
wait_for 15 value_is b colour red
out=$(timeout 10 "$RUMORCTL" --data "$CL_TMP/a" --json why --timeout 300 colour) ||
	fail "why with c stopped failed or hung"
[ "$(echo "$out" | json_get verdict)" = converging ] ||
	fail "with c stopped: not converging: $out"
echo "$out" | grep -q "\"id\":\"$idc\",\"status\":\"no answer\"" ||
	fail "c is not reported as not answering: $out"
[ "$(echo "$out" | json_get not_asked)" = 1 ] || fail "not_asked: $out"
say "c stopped: $(ctl a why --timeout 300 colour | tail -n 2 | tr '\n' ' ')"
kill -CONT "$(node_pid c)"
wait_for 15 value_is c colour red
wait_for 15 verdict_is a colour converged
say "c running again: converged"
