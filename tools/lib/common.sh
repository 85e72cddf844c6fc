# shellcheck shell=bash
# Shared by tools/quickstart and tools/check: the Debian packages rumor
# needs, and installing the missing ones.

RUMOR_BUILD_PKGS=(gcc make autoconf automake libtool pkg-config
	libuv1-dev libsodium-dev libleveldb-dev libcbor-dev libmicrohttpd-dev)
RUMOR_TEST_PKGS=(libcmocka-dev iproute2 util-linux clang libclang-rt-dev spin)
# Installed when possible; a test that needs one skips (exit 77) without
# it: prometheus (and its promtool) for tests/cluster/prometheus.sh,
# nftables (nft; iptables also does) for tests/cluster/why_netsplit.sh.
RUMOR_OPTIONAL_TEST_PKGS=(prometheus nftables)

say() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# ensure_packages PKG...: installs what is missing when run as root (or
# with passwordless sudo); otherwise names what to install and fails.
ensure_packages() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		say "missing packages: ${missing[*]} (no apt-get here: install them by hand)"
		return 1
	fi
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			say "missing packages: ${missing[*]}"
			say "install them with: sudo apt-get install ${missing[*]}"
			return 1
		fi
	fi
	say "installing: ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null ||
		{ say "apt-get update failed"; return 1; }
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null || { say "apt-get install failed"; return 1; }
}

# regenerate: autoreconf when configure is missing or older than its inputs;
# its chatter is shown only when it fails.
regenerate() {
	local log
	if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ] ||
		[ -n "$(find mk -name '*.am' -newer Makefile.in 2>/dev/null)" ]; then
		say "autoreconf"
		log=$(mktemp)
		if ! autoreconf -fi >"$log" 2>&1; then
			cat "$log" >&2
			rm -f "$log"
			say "autoreconf failed"
			return 1
		fi
		rm -f "$log"
	fi
}
