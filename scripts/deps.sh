#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install what the harness needs on a fresh Debian 12 machine (root, apt).
# Skips apt entirely when everything is already installed at the pinned
# version, so a warm machine pays nothing.
#   deps.sh --check-pin: only say whether the apt lists serve the pinned base.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# The pinned base must still be served; if not, say which versions are.
check_pin() {
	apt-cache madison "$BASE_PKG" | awk '{print $3}' | grep -qxF "$BASE_VERSION" && return 0
	{
		echo "the pinned base $BASE_PKG=$BASE_VERSION is not served by the mirror."
		echo "Versions served now:"
		apt-cache madison "$BASE_PKG" | awk '{print "    " $3}'
		echo "To move the pin: set BASE_VERSION and BASE_SHA256 in scripts/lib.sh"
		echo "(sha256sum $BASE_TARBALL after installing it), then FORCE=1 make tree && make check."
	} >&2
	return 1
}
if [ "${1:-}" = --check-pin ]; then
	check_pin
	exit
fi

missing=()
for p in $HOST_PKGS ${EXTRA_PKGS:-}; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true)
[ "$have" = "$BASE_VERSION" ] || missing+=("$BASE_PKG=$BASE_VERSION")

if [ ${#missing[@]} -eq 0 ]; then
	note "host packages: all present"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "need root to install: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
note "apt-get update"
apt-get update -q >/dev/null || die "apt-get update failed; check the Debian mirror"

check_pin || exit 1

note "apt-get install ${missing[*]}"
apt-get install -y -q --no-install-recommends --allow-downgrades "${missing[@]}" >/dev/null ||
	die "apt-get install failed for: ${missing[*]}"
