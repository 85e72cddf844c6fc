#!/bin/sh
# SPDX-License-Identifier: MIT
#
# resolver_outoftree.sh: a user's resolver built outside the tree works.
#
# Installs the build into a scratch DESTDIR (with the configured prefix, so
# nothing is relinked and the build tree is left as it was), compiles
# examples/resolvers/larger_value.c with `cc -shared -fPIC` and the cflags
# of the installed librumor.pc only, then loads it with resolver_load and
# checks that its choice wins a conflict.
#
# Needs top_srcdir and top_builddir in the environment (AM_TESTS_ENVIRONMENT
# sets them). Exits 77 (skip) only when no C compiler can be found.
set -eu

: "${top_srcdir:?top_srcdir must be set (run through make check)}"
: "${top_builddir:?top_builddir must be set (run through make check)}"

fail() {
	echo "resolver_outoftree: FAIL: $*" >&2
	exit 1
}

cc=
for c in "${CC:-}" cc gcc clang; do
	[ -n "$c" ] || continue
	# $CC may carry flags ("gcc -std=gnu11"): look up its first word.
	if command -v "${c%% *}" >/dev/null 2>&1; then
		cc=$c
		break
	fi
done
if [ -z "$cc" ]; then
	echo "resolver_outoftree: SKIP: no C compiler found" >&2
	exit 77
fi
command -v pkg-config >/dev/null 2>&1 || fail "pkg-config not found"
loader=$top_builddir/tests/integration/resolver_load
[ -x "$loader" ] || fail "$loader not built (make check builds it)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rumor-outoftree-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM
destdir=$tmp/destdir

# The configured directories, from the build tree's librumor.pc: the very
# file that gets installed.
builddir_pc() {
	PKG_CONFIG_LIBDIR="$top_builddir" pkg-config --variable="$1" librumor
}
libdir=$(builddir_pc libdir) && includedir=$(builddir_pc includedir) &&
	[ -n "$libdir" ] && [ -n "$includedir" ] ||
	fail "cannot read libdir/includedir from $top_builddir/librumor.pc"

# A make of its own, with the configured prefix (so that nothing is
# relinked in the build tree): the jobserver and flags of the make running
# this test are not ours to use.
if ! (unset MAKEFLAGS MFLAGS MAKELEVEL
	exec "${MAKE:-make}" -C "$top_builddir" install DESTDIR="$destdir") \
	>"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	fail "make install DESTDIR=$destdir failed"
fi
[ -f "$destdir$includedir/rumor/resolver.h" ] ||
	fail "rumor/resolver.h not installed in $destdir$includedir"
[ -f "$destdir$libdir/pkgconfig/librumor.pc" ] ||
	fail "librumor.pc not installed in $destdir$libdir/pkgconfig"

# PKG_CONFIG_SYSROOT_DIR maps the installed .pc's paths into the DESTDIR;
# PKG_CONFIG_LIBDIR (not _PATH) hides any other librumor.pc.
# PKG_CONFIG_ALLOW_SYSTEM_CFLAGS keeps -I even for a prefix of /usr.
cflags=$(PKG_CONFIG_LIBDIR="$destdir$libdir/pkgconfig" \
	PKG_CONFIG_SYSROOT_DIR="$destdir" PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 \
	pkg-config --cflags librumor) || fail "pkg-config --cflags librumor failed"
case "$cflags" in
*"$destdir"*) ;;
*) fail "cflags '$cflags' do not point into $destdir" ;;
esac

src=$top_srcdir/examples/resolvers/larger_value.c
so=$tmp/larger_value.so
# shellcheck disable=SC2086 # cc and cflags are word lists on purpose
$cc -shared -fPIC -o "$so" "$src" $cflags ||
	fail "cannot build $src against the installed header"
# The header must have come from the DESTDIR, not from a copy installed
# elsewhere on this machine (e.g. /usr/local/include).
# shellcheck disable=SC2086
$cc -M "$src" $cflags >"$tmp/deps" || fail "cc -M failed"
grep -qF "$destdir$includedir/rumor/resolver.h" "$tmp/deps" ||
	fail "larger_value.c did not use the installed rumor/resolver.h"

"$loader" "$so" ||
	fail "resolver_load did not obey $so"
echo "resolver_outoftree: ok"
