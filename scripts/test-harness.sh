#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Tests of the harness itself (TAP): the series applier with irreversible
# deletions, export/apply round trip, and bad input refused with a clear
# message.  Runs on the host in a scratch directory; needs no kernel build.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $*"; }
check() { # NAME CMD...: ok if CMD succeeds
	local name=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then ok "$name"; else not_ok "$name"; sed 's/^/# /' "$tmp/out"; fi
}
fails_with() { # NAME PATTERN CMD...: ok if CMD fails and says PATTERN
	local name=$1 pat=$2
	shift 2
	if "$@" >"$tmp/out" 2>&1; then
		not_ok "$name (succeeded)"
	elif grep -q -- "$pat" "$tmp/out"; then
		ok "$name"
	else
		not_ok "$name (no '$pat' in the message)"
		sed 's/^/# /' "$tmp/out"
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "TAP version 13"

# A tiny stand-in for a 6.12 tree with two commits on top of 'base': one
# edits a file, one deletes a file; exported the way make export does.
mk_tree() {
	mkdir -p "$1/mm" && cd "$1" || return 1
	printf 'VERSION = 6\nPATCHLEVEL = 12\n' >Makefile
	seq 1 50 >mm/hugetlb_vmemmap.c
	seq 1 10 >mm/keep.c
	git init -q -b main && git add -A &&
		git -c user.name=t -c user.email=t@t commit -q -m base && git tag base
	cd - >/dev/null
}
mk_tree "$tmp/src"
(
	cd "$tmp/src" || exit 1
	echo 11 >>mm/keep.c
	git -c user.name=t -c user.email=t@t commit -q -am "mm: edit keep.c" -m "Why: a test."
	git rm -q mm/hugetlb_vmemmap.c
	echo new >mm/new.c && git add mm/new.c
	git -c user.name=t -c user.email=t@t commit -q -m "mm: remove HVO" -m "Removed text is not carried."
	mkdir -p "$tmp/patches"
	git format-patch -q --irreversible-delete --no-signature -o "$tmp/patches" base..HEAD
	(cd "$tmp/patches" && ls ./*.patch | sed 's|^\./||') >"$tmp/patches/series"
)
if grep -q '^-1$' "$tmp/patches/0002-"*.patch; then
	not_ok "format-patch -D carries no removed text"
else
	ok "format-patch -D carries no removed text"
fi

# 1. Into a git tree: one commit per patch, deletion done, message kept.
mk_tree "$tmp/git"
check "apply-series: git tree gets every patch as a commit" \
	"$TOP/scripts/apply-series.sh" "$tmp/patches" "$tmp/git"
if [ ! -e "$tmp/git/mm/hugetlb_vmemmap.c" ] && [ "$(cat "$tmp/git/mm/new.c" 2>/dev/null)" = new ] &&
	[ "$(git -C "$tmp/git" rev-list --count base..HEAD)" = 2 ] &&
	git -C "$tmp/git" log -1 --format=%B | grep -q 'Removed text is not carried' &&
	[ -z "$(git -C "$tmp/git" status --porcelain)" ] &&
	[ "$(git -C "$tmp/git" rev-parse HEAD^{tree})" = "$(git -C "$tmp/src" rev-parse HEAD^{tree})" ]; then
	ok "apply-series: the result is the exported tree, file for file"
else
	not_ok "apply-series: the result is the exported tree, file for file"
fi

# 2. Into a plain tree (a user's own unpacked 6.12).
mk_tree "$tmp/plain" && rm -rf "$tmp/plain/.git"
check "apply-series: plain tree" "$TOP/scripts/apply-series.sh" "$tmp/patches" "$tmp/plain"
if [ ! -e "$tmp/plain/mm/hugetlb_vmemmap.c" ] && [ "$(tail -1 "$tmp/plain/mm/keep.c")" = 11 ]; then
	ok "apply-series: plain tree has the deletion and the edit"
else
	not_ok "apply-series: plain tree has the deletion and the edit"
fi

# 3. A deletion whose blob does not match is refused, and nothing is deleted.
mk_tree "$tmp/bad"
echo changed >>"$tmp/bad/mm/hugetlb_vmemmap.c"
git -C "$tmp/bad" -c user.name=t -c user.email=t@t commit -q -am "local change"
fails_with "apply-series: refuses a deletion whose blob differs" "blob" \
	"$TOP/scripts/apply-series.sh" "$tmp/patches" "$tmp/bad"
[ -e "$tmp/bad/mm/hugetlb_vmemmap.c" ] && ok "apply-series: the differing file is kept" ||
	not_ok "apply-series: the differing file is kept"

# 4. Bad input: a clear message, nothing done.
fails_with "apply-series: refuses a tree that is not 6.12" "not a Linux 6.12 tree" \
	"$TOP/scripts/apply-series.sh" "$tmp/patches" "$tmp/patches"
fails_with "vm: unknown KERNEL= is refused" "unknown KERNEL='bogus'" \
	env KERNEL=bogus "$TOP/scripts/vm.sh"
fails_with "vm: unknown CONFIG= is refused" "unknown CONFIG='bogus'" \
	env CONFIG=bogus "$TOP/scripts/vm.sh"
for m in 12 1.5G abcG "a[\$(touch $tmp/ran)]G"; do
	fails_with "vm: bad MEM=${m//$tmp/TMP} is refused" "bad MEM" env MEM="$m" "$TOP/scripts/vm.sh"
done
[ ! -e "$tmp/ran" ] && ok "vm: MEM= is never evaluated" || not_ok "vm: MEM= is never evaluated"
fails_with "kernel: unknown KERNEL is refused" "unknown KERNEL 'bogus'" \
	"$TOP/scripts/kernel.sh" bogus normal
fails_with "vm: a missing bzImage is named" "ours-debug/arch/x86/boot/bzImage: build it first" \
	env OBJ_ROOT="$tmp/none" CONFIG=debug "$TOP/scripts/vm.sh"
if apt-cache madison "$BASE_PKG" >/dev/null 2>&1 && [ -n "$(apt-cache madison "$BASE_PKG")" ]; then
	fails_with "deps: a pinned version that is not served is named, with the served ones" \
		"Versions served now" env HVO_BASE_VERSION=6.12.0-0~hvo-test "$TOP/scripts/deps.sh" --check-pin
	check "deps: the pinned version is served" "$TOP/scripts/deps.sh" --check-pin
else
	echo "ok $((n += 1)) deps: unserved pin # SKIP apt lists not available"
fi
echo "1..$n"
[ "$fails" = 0 ]
