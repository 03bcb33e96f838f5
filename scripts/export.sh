#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Rewrite patches/ from build/linux's commits base..HEAD: one format-patch
# file per commit, deletions without their removed text, and the series file.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$BUILD/linux
git -C "$tree" rev-parse -q --verify base >/dev/null 2>&1 ||
	die "build/linux has no 'base' tag (run: make tree)"
[ -z "$(git -C "$tree" status --porcelain --untracked-files=no)" ] ||
	die "build/linux has uncommitted changes; commit them first"

out=$TOP/patches
mkdir -p "$out"
find "$out" -maxdepth 1 -name '[0-9][0-9][0-9][0-9]-*.patch' -delete
git -C "$tree" format-patch -q --irreversible-delete --no-signature --zero-commit \
	--no-numbered -o "$out" base..HEAD
(cd "$out" && ls [0-9][0-9][0-9][0-9]-*.patch 2>/dev/null || true) >"$out/series"
note "exported $(wc -l <"$out/series") patches to patches/"
