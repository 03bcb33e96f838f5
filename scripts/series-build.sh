#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# series-build.sh: build the kernel (normal config) at every patch of the
# series, so that each is known to build on its own, then the whole series
# with the HugeTLB vmemmap optimization configured out (CONFIG=nohvo).
# Not part of make check (a patch that changes a common header costs a
# full build); run it before the series goes out.  Work tree and objects
# in build/bisect; prints TAP.
#
#   FROM=1  the first patch to build: the patches before it are reported
#           as skipped (to check the patches added since a series was
#           last built whole)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

tree=$BUILD/linux bis=$BUILD/bisect
[ -d "$tree/.git" ] || die "no build/linux (run: make tree)"
commits=$(git -C "$tree" rev-list --reverse base..HEAD)
[ -n "$commits" ] || die "no patch in build/linux"
count=$(wc -w <<<"$commits")
from=${FROM:-1}
[[ "$from" =~ ^[1-9][0-9]{0,3}$ ]] && [ "$from" -le "$count" ] ||
	die "bad FROM='$from' (the number of a patch, 1 to $count)"

git -C "$tree" worktree remove --force "$bis/linux" 2>/dev/null || rm -rf "$bis/linux"
git -C "$tree" worktree prune
mkdir -p "$bis"
git -C "$tree" worktree add -q --detach "$bis/linux" base

build() { # NAME CONFIG: build the work tree as it stands
	SRC_OURS=$bis/linux OBJ_ROOT=$bis/obj phase "$1" \
		"$TOP/scripts/kernel.sh" ours "$2" >"$bis/$1.log" 2>&1
}

n=0 fails=0
echo "TAP version 13"
for c in $commits; do
	n=$((n + 1))
	subject=$(git -C "$tree" log -1 --format=%s "$c")
	if [ $n -lt "$from" ]; then
		echo "ok $n # SKIP before FROM=$from: $subject"
		continue
	fi
	git -C "$bis/linux" checkout -q --detach "$c"
	# Before the patch that adds the option, build as with it off.
	config=normal
	grep -q '^config HUGETLB_PAGE_OPTIMIZE_VMEMMAP$' "$bis/linux/fs/Kconfig" ||
		config=nohvo
	if build "patch-$n" $config; then
		echo "ok $n builds ($config config): $subject"
	else
		echo "not ok $n builds: $subject (see ${bis#$TOP/}/patch-$n.log)"
		fails=$((fails + 1))
	fi
done
n=$((n + 1))
# The whole series, whatever FROM skipped.
git -C "$bis/linux" checkout -q --detach "$c"
if build nohvo nohvo; then
	echo "ok $n builds with CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP=n"
else
	echo "not ok $n builds with CONFIG_HUGETLB_PAGE_OPTIMIZE_VMEMMAP=n (see ${bis#$TOP/}/nohvo.log)"
	fails=$((fails + 1))
fi
echo "1..$n"
git -C "$tree" worktree remove --force "$bis/linux"
[ $fails = 0 ]
