#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Unpack the pinned base (Debian's linux-source-6.12) into build/anchor/linux after
# checking the package version and the tarball's sha256.  The result is the
# pristine base: never edited, used as the anchor kernel's source.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

stamp=$BASE_SRC/.hvo-base-$BASE_SHA256
[ -f "$stamp" ] && exit 0

have=$(dpkg-query -W -f='${Version}' "$BASE_PKG" 2>/dev/null || true)
[ "$have" = "$BASE_VERSION" ] ||
	die "$BASE_PKG is '${have:-not installed}', the pin is $BASE_VERSION (run: make deps)"
[ -f "$BASE_TARBALL" ] || die "$BASE_TARBALL is missing (run: make deps)"

note "checking sha256 of $BASE_TARBALL"
sum=$(sha256sum "$BASE_TARBALL" | cut -d' ' -f1)
[ "$sum" = "$BASE_SHA256" ] ||
	die "sha256 of $BASE_TARBALL is $sum, expected $BASE_SHA256"

note "unpacking the base into ${BASE_SRC#$TOP/}"
rm -rf "$BASE_SRC" "$BASE_SRC.tmp"
mkdir -p "$BASE_SRC.tmp"
tar -C "$BASE_SRC.tmp" -xf "$BASE_TARBALL"
mv "$BASE_SRC.tmp/linux-source-6.12" "$BASE_SRC"
rmdir "$BASE_SRC.tmp"
[ -f "$BASE_SRC/Makefile" ] || die "unexpected tarball layout: no $BASE_SRC/Makefile"
touch "$stamp"
