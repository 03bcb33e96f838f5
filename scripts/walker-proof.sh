#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# walker-proof.sh: show that hugetlb_vmemmap_stress.sh catches a pfn walker
# that writes a read-only vmemmap frame once the protection is taken out.
#
# Builds a scratch debug kernel (build/proof: the series plus
# proof/walker-unprotected.diff, which never lands) and boots it twice with
# the same stretched speculative reference in compaction (proof_widen_ms):
#   1. protected (the series as it is): the stress test must pass, and at
#      least one held reference must have seen its page become part of a
#      hugetlb page (else the window never opened and the pass proves
#      nothing: the leg boots again, up to TRIES boots, then says it is
#      inconclusive); its struct page stays writable while held, the remap
#      waiting for the reference;
#   2. proof_unprotected=1 (no RCU grace period before the remap): the
#      stress test must end in an oops on a read-only vmemmap frame.
# Not part of make check (a scratch kernel build and two long debug guests).
#
#   ROUNDS=20  WIDEN_MS=20000  MEM=1G  TIMEOUT=1500  TRIES=3
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=${ROUNDS:-20} widen=${WIDEN_MS:-20000} tries=${TRIES:-3}
[[ "$tries" =~ ^[1-9][0-9]*$ ]] || die "bad TRIES='$tries' (a number, at least 1)"
tree=$BUILD/linux dir=$BUILD/proof diff=$TOP/proof/walker-unprotected.diff
[ -d "$tree/.git" ] || die "no build/linux (run: make tree)"

# The work tree is kept between runs, so that a rebuild is incremental.
head=$(git -C "$tree" rev-parse HEAD)
if git -C "$dir/linux" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$dir/linux" checkout -q -f --detach "$head"
else
	rm -rf "$dir/linux"
	git -C "$tree" worktree prune
	mkdir -p "$dir"
	git -C "$tree" worktree add -q --detach "$dir/linux" "$head"
fi
git -C "$dir/linux" apply "$diff"
SRC_OURS=$dir/linux OBJ_ROOT=$dir/obj "$TOP/scripts/kernel.sh" ours debug >"$dir/build.log" 2>&1 ||
	{ tail -20 "$dir/build.log" >&2; die "scratch kernel build failed"; }

# The pool takes half of free memory each round: the churn walker's
# pages then come from blocks that were pool pages; they are small pages
# (no THP), and freed pages go straight back to the buddy allocator
# (per-cpu lists kept short), so that those blocks can be pool pages again.
stress=$dir/linux/tools/testing/selftests/mm/hugetlb_vmemmap_stress.sh
cmd="echo never >/sys/kernel/mm/transparent_hugepage/enabled"
cmd+="; echo 1000000 >/proc/sys/vm/percpu_pagelist_high_fraction"
cmd+="; pages=\$(awk '/^MemFree:/ { print int(\$2 / 1024 / 4) }' /proc/meminfo)"
cmd+="; echo \"# pool of \$pages pages\"; bash $stress $rounds \$pages"

guest() { # NAME APPEND: boot the scratch kernel, leave rc in $dir/NAME.rc
	local rc=0
	OUT=$dir/$1 SRC_OURS=$dir/linux OBJ_ROOT=$dir/obj KERNEL=ours CONFIG=debug \
		MEM=${MEM:-1G} NODES=1 TIMEOUT=${TIMEOUT:-1500} CMD="$cmd" \
		APPEND="hugetlb_free_vmemmap=on proof_widen_ms=$widen rcupdate.rcu_cpu_stall_suppress=1 $2" \
		"$TOP/scripts/vm.sh" >"$dir/$1.log" 2>&1 || rc=$?
	echo "$rc" >"$dir/$1.rc"
}

fault='unable to handle page fault|permissions violation'
echo "TAP version 13"
echo "# $rounds rounds, speculative references stretched to $widen ms"
# The references held open in a run that saw their page become part of a
# hugetlb page (proof_hold_open()'s lines), one a line, and what became of
# those pages once the reference was dropped (proof_after_drop()'s lines).
tails_held() {
	grep -ahoE 'proof: pfn 0x[0-9a-f]+ count [0-9-]+ -> [0-9-]+: in a hugetlb page after [0-9]+ ms \(tail [a-z]+\), held [0-9]+ ms, struct page [a-z-]+' \
		"$dir/$1/console.log" 2>/dev/null | sort -u || true
}
after_drop() {
	grep -ahoE 'proof: pfn 0x[0-9a-f]+: struct page [a-z -]+ [0-9]+ ms after the reference was dropped' \
		"$dir/$1/console.log" 2>/dev/null | sort -u || true
}
try=1
while :; do
	guest protected ""
	rc=$(cat "$dir/protected.rc")
	held=$(tails_held protected)
	echo "# protected, boot $try of $tries: vm.sh exit $rc, $(printf '%s' "$held" | grep -c .) reference(s) saw their page become part of a hugetlb page"
	[ "$rc" = 0 ] && [ -z "$held" ] && [ "$try" -lt "$tries" ] || break
	try=$((try + 1))
done
grep -a '^# \|^ok\|^not ok' "$dir/protected/cmd.log" 2>/dev/null | sed 's/^/#   /' || true
printf '%s\n' "$held" "$(after_drop protected)" | grep . | sed 's/^/#   /' || true
protected=0
if [ "$rc" != 0 ]; then
	echo "not ok 1 protected: vm.sh exit $rc (see ${dir#$TOP/}/protected.log)"
elif [ -z "$held" ]; then
	echo "not ok 1 protected: inconclusive: the window never opened in $tries boot(s) (no held reference saw its page become part of a hugetlb page)"
elif printf '%s\n' "$held" | grep -q 'struct page read-only$'; then
	echo "not ok 1 protected: a struct page was mapped read-only while a reference was held"
else
	echo "ok 1 protected: the stress test passes with $(printf '%s\n' "$held" | grep -c .) reference(s) held while their page became part of a hugetlb page, its struct page writable until they were dropped"
	protected=1
fi
guest unprotected proof_unprotected=1
rc=$(cat "$dir/unprotected.rc")
grep -a '^# \|^ok\|^not ok' "$dir/unprotected/cmd.log" 2>/dev/null | sed 's/^/#   /' || true
if [ "$rc" = 125 ] && grep -qaE "$fault" "$dir/unprotected/console.log"; then
	tails_held unprotected | sed 's/^/#   /'
	grep -aE "$fault|RIP:|Call Trace|^\[.*\]  [a-z_]+\+0x" "$dir/unprotected/console.log" |
		head -12 | sed 's/^/#   /'
	echo "ok 2 unprotected: a walker wrote a read-only vmemmap frame and oopsed"
else
	echo "not ok 2 unprotected: no fault caught (vm.sh exit $rc, see ${dir#$TOP/}/unprotected.log)"
fi
echo "1..2"
[ "$protected" = 1 ] && [ "$rc" = 125 ] &&
	grep -qaE "$fault" "$dir/unprotected/console.log"
