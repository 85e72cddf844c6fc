#!/bin/sh
# SPDX-License-Identifier: MIT
#
# library_keeps_umask.sh: librumor never calls umask() (issue 11, part 5).
# The umask is process-wide: a library that changes it, even for an
# instant, races with every other thread of the embedding program that
# creates a file. rumor makes its files private by other means (a default
# ACL on the store dir, fchmod of the control socket before bind, exact
# modes at open), so the symbol must not even be imported.
#
# Needs top_builddir (AM_TESTS_ENVIRONMENT sets it). Exits 77 (skip) when
# nm is missing.
set -eu

: "${top_builddir:?top_builddir must be set (run through make check)}"
# The convenience archive every binary of the tree links: all of the
# library's own code.
lib=$top_builddir/.libs/librumor-core.a
command -v nm >/dev/null 2>&1 || { echo "SKIP: nm not found" >&2; exit 77; }
[ -f "$lib" ] || { echo "FAIL: $lib not built" >&2; exit 1; }
imports=$(nm -u "$lib") || { echo "FAIL: nm -u $lib" >&2; exit 1; }
# A sanity check that nm listed imports at all: the library opens files.
echo "$imports" | grep -qw open ||
	{ echo "FAIL: nm lists no 'open' import in $lib: cannot judge" >&2; exit 1; }
if echo "$imports" | grep -qw umask; then
	echo "FAIL: $lib imports umask(): the library changes the process umask" >&2
	exit 1
fi
echo "PASS: $lib does not import umask"
