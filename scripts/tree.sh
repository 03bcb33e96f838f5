#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build build/linux: a git work tree holding the base as one commit tagged
# 'base', then one commit per patch of patches/series.
#
# Refuses to throw away work: if build/linux has commits or changes that
# patches/ does not have, it stops and says so (FORCE=1 overrides).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$BUILD/linux
"$TOP/scripts/base.sh"

if [ -d "$tree/.git" ] && [ "${FORCE:-0}" != 1 ]; then
	if [ -n "$(git -C "$tree" status --porcelain --untracked-files=no)" ]; then
		die "build/linux has uncommitted changes; commit them and run make export, or FORCE=1 make tree"
	fi
	if git -C "$tree" rev-parse -q --verify base >/dev/null &&
		! git -C "$tree" log -1 --format=%B base | grep -qF "sha256 $BASE_SHA256"; then
		die "build/linux stands on another base than the pin; export your work, then FORCE=1 make tree"
	fi
	if git -C "$tree" rev-parse -q --verify base >/dev/null; then
		mine=$(git -C "$tree" rev-list base..HEAD | while read -r c; do
			git -C "$tree" show -D "$c" | git patch-id --stable | cut -d' ' -f1
		done | sort)
		theirs=$(for p in $(grep -v '^#' "$TOP/patches/series" 2>/dev/null); do
			git patch-id --stable <"$TOP/patches/$p" | cut -d' ' -f1
		done | sort)
		if [ "$mine" = "$theirs" ]; then
			note "build/linux already matches patches/"
			exit 0
		fi
		die "build/linux and patches/ differ: if build/linux is newer, make export; if patches/ is newer (a pull), FORCE=1 make tree"
	fi
fi

note "creating build/linux from the base"
rm -rf "$tree"
mkdir -p "$tree"
tar -C "$BASE_SRC" --exclude='./.hvo-base-*' -cf - . | tar -C "$tree" -xf -
cd "$tree"
git init -q -b main
git config user.name >/dev/null || git config user.name "HVO harness"
git config user.email >/dev/null || git config user.email "hvo@localhost"
# Fixed dates: the base commit id is the same on every machine.
export GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" GIT_COMMITTER_DATE="2025-01-01T00:00:00Z"
git add -A -f .
git commit -q -m "Linux $BASE_VERSION ($BASE_PKG)" -m "Tarball sha256 $BASE_SHA256" --author "Debian <debian-kernel@lists.debian.org>"
git tag -f base >/dev/null
unset GIT_AUTHOR_DATE GIT_COMMITTER_DATE
"$TOP/scripts/apply-series.sh" "$TOP/patches" "$tree"
