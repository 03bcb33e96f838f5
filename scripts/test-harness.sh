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
fails_with "bench: bad ROUNDS= is refused" "bad ROUNDS='x'" \
	env ROUNDS=x BUILD_KERNELS=0 "$TOP/scripts/bench.sh"
fails_with "bench: PAGES=0 is refused" "PAGES and ROUNDS must be at least 1" \
	env PAGES=0 BUILD_KERNELS=0 "$TOP/scripts/bench.sh"

# 5. bench-report.py: the figures of two made-up guest logs, then one that
# lacks a figure.  Ours: grow 10 ms off / 8 on, shrink 20 / 30, 7 of 8
# frames freed per page and 2 shared frames allocated (1 GiB at boot: 4094
# back and 1 shared freed, 6 PTE tables back and 1 shared freed); the
# anchor: grow 10 / 16, shrink 20 / 40, 7 freed, no shared frame (1 GiB:
# 4094 back, no table).
bench_log() { # DIR GROW_ON SHRINK_ON FREED SHARED
	mkdir -p "$1"
	{
		echo "hvo-result struct_page_bytes 64"
		echo "hvo-result page_bytes 4096"
		for r in 1 2 3; do
			echo "hvo-result 2m_off round=$r pages=8 freed=0 grow_ns=10000000 shrink_ns=20000000 back=0 shared=0"
			echo "hvo-result 2m_on round=$r pages=8 freed=$((8 * $4 - $5)) grow_ns=$2 shrink_ns=$3 back=0 shared=$5"
		done
		echo "hvo-result 1g_boot pages=1 back=4094 left=0 shared=$(($5 ? 1 : 0)) tables_back=$(($5 ? 6 : 0)) shared_tables=$(($5 ? 1 : 0))"
		# The other doors, HVO on over off: ours 1 GiB pages 1.00 and
		# 1.50 (the anchor has none), surplus faults 1.10 and 3.00 (per
		# fault: 8 and 4 faults a round).
		for r in 1 2 3; do
			[ "${6:-}" = ours ] || continue
			echo "hvo-result 1g_off round=$r pages=2 freed=0 grow_ns=10000000 shrink_ns=20000000 back=0"
			echo "hvo-result 1g_on round=$r pages=2 freed=8190 grow_ns=10000000 shrink_ns=30000000 back=0"
		done
		for r in 1 2 3; do
			f=8 on=88000000
			[ "${6:-}" = ours ] || f=4 on=120000000
			echo "hvo-result surplus_off round=$r faults=$f total_ns=$((f * 10000000)) max_ns=1 back=0 left=0"
			echo "hvo-result surplus_on round=$r faults=$f total_ns=$on max_ns=1 back=0 left=0"
		done
	} >"$1/cmd.log"
	# The boots, one directory each: a 2 MiB pool 0.50 and 3.00, a 1 GiB
	# pool 1.20 (ours only: its initcalls, 2 ms, plus its window up to
	# "Memory:", 20 and 23.4 ms, less that window without it, 10 and
	# 11 ms: 12 and 14.4 ms), the first grow 2.00 and 1.00; in the first
	# round, the 2 MiB pool under the instruction clock 0.90 and 2.00, and
	# 1 GiB pages grown and shrunk on that clock 1.05 and 0.80 in two
	# rounds (ours only).
	[ -n "${6:-}" ] || return 0
	local r b2=5000000 g1=23400000 fg=20000000 bi=9000000
	[ "$6" = ours ] || b2=30000000 g1="" fg=10000000 bi=20000000
	boot_log "$1/boot/2mi-off-1" "boot_2mi_off round=1 pages=512 init_ns=10000000"
	boot_log "$1/boot/2mi-on-1" "boot_2mi_on round=1 pages=512 init_ns=$bi"
	if [ "$6" = ours ]; then
		boot_log "$1/boot/1gi-off-1" "1gi_off round=1 pages=2 grow_ns=20000000 shrink_ns=10000000"
		echo "hvo-result 1gi_off round=2 pages=2 grow_ns=20000000 shrink_ns=10000000" \
			>>"$1/boot/1gi-off-1/cmd.log"
		boot_log "$1/boot/1gi-on-1" "1gi_on round=1 pages=2 grow_ns=21000000 shrink_ns=8000000"
		echo "hvo-result 1gi_on round=2 pages=2 grow_ns=21000000 shrink_ns=8000000" \
			>>"$1/boot/1gi-on-1/cmd.log"
	fi
	for r in 1 2; do
		boot_log "$1/boot/2m-off-$r" "boot_2m_off round=$r pages=512 init_ns=10000000 late_ns=10000000"
		boot_log "$1/boot/2m-on-$r" "boot_2m_on round=$r pages=512 init_ns=$b2 late_ns=11000000"
		[ -z "$g1" ] || boot_log "$1/boot/1g-off-$r" \
			"boot_1g_off round=$r pages=4 init_ns=2000000 late_ns=20000000"
		[ -z "$g1" ] || boot_log "$1/boot/1g-on-$r" \
			"boot_1g_on round=$r pages=4 init_ns=2000000 late_ns=$g1"
		boot_log "$1/boot/first-off-$r" "first_off round=$r pages=64 grow_ns=10000000 shrink_ns=1 late_ns=10000000"
		boot_log "$1/boot/first-on-$r" "first_on round=$r pages=64 grow_ns=$fg shrink_ns=1 late_ns=11000000"
	done
}
boot_log() { mkdir -p "$1" && echo "hvo-result $2" >"$1/cmd.log"; }
doors="giga_grow_on_off=1.00 anchor_giga_grow_on_off=n/a giga_shrink_on_off=1.50"
doors+=" anchor_giga_shrink_on_off=n/a boot_2m_on_off=0.50 anchor_boot_2m_on_off=3.00"
doors+=" boot_1g_on_off=1.20 anchor_boot_1g_on_off=n/a"
doors+=" boot_2m_icount_on_off=0.90 anchor_boot_2m_icount_on_off=2.00"
doors+=" giga_grow_icount_on_off=1.05 anchor_giga_grow_icount_on_off=n/a"
doors+=" giga_shrink_icount_on_off=0.80 anchor_giga_shrink_icount_on_off=n/a surplus_fault_on_off=1.10"
doors+=" anchor_surplus_fault_on_off=3.00 first_grow_on_off=2.00 anchor_first_grow_on_off=1.00"
bench_log "$tmp/b/ours" 8000000 30000000 7 2 ours
bench_log "$tmp/b/anchor" 16000000 40000000 7 0 anchor
want="grow_on_off=0.80 shrink_on_off=1.50 anchor_grow_on_off=1.60 anchor_shrink_on_off=2.00"
want+=" ours_vs_anchor_grow_on=0.50 ours_vs_anchor_shrink_on=0.75 frames_per_2m=1 frames_per_1g=1 pte_per_1g=1"
want+=" anchor_frames_per_2m=1 anchor_frames_per_1g=2 anchor_pte_per_1g=8 $doors"
got=$(python3 "$TOP/scripts/bench-report.py" "$tmp/b/ours" "$tmp/b/anchor" "$tmp/b/r.md" 2>&1)
if [ "$got" = "$want" ] && [ "$(tail -1 "$tmp/b/r.md")" = "    $want" ]; then
	ok "bench-report: the summary line of known rounds"
else
	not_ok "bench-report: the summary line of known rounds"
	echo "# got:  $got"
	echo "# want: $want"
fi
sed -i '/2m_on/d' "$tmp/b/anchor/cmd.log"
fails_with "bench-report: a missing figure is named" "no figure for anchor 2 MiB grow rounds" \
	python3 "$TOP/scripts/bench-report.py" "$tmp/b/ours" "$tmp/b/anchor" "$tmp/b/r.md"

# 5b. make check's quick bench runs our kernel only: the anchor's figures
# read n/a, ours are still computed.
sed -i '/2m_on/d' "$tmp/b/ours/cmd.log" 2>/dev/null
rm -rf "$tmp/b/ours"
bench_log "$tmp/b/ours" 8000000 30000000 7 2
want="grow_on_off=0.80 shrink_on_off=1.50 anchor_grow_on_off=n/a anchor_shrink_on_off=n/a"
want+=" ours_vs_anchor_grow_on=n/a ours_vs_anchor_shrink_on=n/a frames_per_2m=1 frames_per_1g=1 pte_per_1g=1"
want+=" anchor_frames_per_2m=n/a anchor_frames_per_1g=n/a anchor_pte_per_1g=n/a"
want+=" giga_grow_on_off=n/a anchor_giga_grow_on_off=n/a giga_shrink_on_off=n/a"
want+=" anchor_giga_shrink_on_off=n/a boot_2m_on_off=n/a anchor_boot_2m_on_off=n/a"
want+=" boot_1g_on_off=n/a anchor_boot_1g_on_off=n/a"
want+=" boot_2m_icount_on_off=n/a anchor_boot_2m_icount_on_off=n/a"
want+=" giga_grow_icount_on_off=n/a anchor_giga_grow_icount_on_off=n/a"
want+=" giga_shrink_icount_on_off=n/a anchor_giga_shrink_icount_on_off=n/a surplus_fault_on_off=3.00"
want+=" anchor_surplus_fault_on_off=n/a first_grow_on_off=n/a anchor_first_grow_on_off=n/a"
got=$(python3 "$TOP/scripts/bench-report.py" "$tmp/b/ours" - "$tmp/b/r1.md" 2>&1)
if [ "$got" = "$want" ] && grep -q 'anchor: not run' "$tmp/b/r1.md"; then
	ok "bench-report: without the anchor, its figures read n/a"
else
	not_ok "bench-report: without the anchor, its figures read n/a"
	echo "# got:  $got"
	echo "# want: $want"
fi

# 6. A guest's results against its plan: a planned test without a result
# (the guest died before it) is a failure, and so is a result in no plan.
printf '%s\n' hvo_a hvo_b hvo_b "selftests/mm/t1 -x" selftests/mm/t2 >"$tmp/plan"
printf '%s\n' "TAP version 13" "ok 1 hvo_a: fine" "ok 2 hvo_b # SKIP no node" \
	"not ok 3 hvo_b: bad" "ok 4 selftests/mm/t1 -x" "ok 5 hvo_c: new" >"$tmp/cmd.log"
got=$("$TOP/scripts/guest-results.sh" "$tmp/plan" "$tmp/cmd.log" | tr '\n' ';')
want="ok|hvo_a: fine;skip|hvo_b|no node;not ok|hvo_b: bad;ok|selftests/mm/t1 -x;"
want+="not ok|hvo_c: new (a result in no plan: see the guest script's --plan);"
want+="not ok|selftests/mm/t2: not reached (the guest stopped before it);"
if [ "$got" = "$want" ]; then
	ok "guest-results: an unreached test and an unplanned result are failures"
else
	not_ok "guest-results: an unreached test and an unplanned result are failures"
	echo "# got:  $got"
	echo "# want: $want"
fi
got=$("$TOP/scripts/guest-results.sh" "$tmp/plan" "$tmp/none.log" | grep -c 'not reached')
[ "$got" = 5 ] && ok "guest-results: a guest that never ran misses its whole plan" ||
	not_ok "guest-results: a guest that never ran misses its whole plan ($got of 5)"

# 7. guest/check.sh: the plan names every hugetlb selftest in both
# configs (the debug guests report those they leave out as skips); the
# debug config's run_vmtests.sh runs the vmemmap and pool-door selftests
# only and is still valid shell when a block held nothing else.
mkdir -p "$tmp/st"
printf '%s\n' '#!/bin/bash' 'CATEGORY="hugetlb" run_test ./hugepage-mmap' \
	'CATEGORY="hugetlb" run_test ./hugetlb_vmemmap_hvo' 'CATEGORY="mmap" run_test ./map_populate' \
	'if true; then' '	CATEGORY="hugetlb" run_test ./charge_reserved_hugetlb.sh  -cgroup-v2' 'fi' \
	'CATEGORY="hugetlb" run_test ./hugetlb-soft-offline' >"$tmp/st/run_vmtests.sh"
plan=$(bash "$TOP/guest/check.sh" --plan on "$tmp/st" debug | grep '^selftests/mm/' | tr '\n' ';')
bash "$TOP/guest/check.sh" --vmtests on "$tmp/st" debug >"$tmp/st/debug.sh"
runs=$(sed -n 's/^CATEGORY="hugetlb" run_test \.\///p' "$tmp/st/debug.sh" | tr '\n' ' ')
if [ "$plan" = "selftests/mm/hugepage-mmap;selftests/mm/hugetlb_vmemmap_hvo;selftests/mm/charge_reserved_hugetlb.sh -cgroup-v2;selftests/mm/hugetlb-soft-offline;" ] &&
	[ "$runs" = "hugetlb_vmemmap_hvo hugetlb-soft-offline " ] && bash -n "$tmp/st/debug.sh" &&
	cmp -s "$tmp/st/run_vmtests.sh" <(bash "$TOP/guest/check.sh" --vmtests on "$tmp/st" normal); then
	ok "guest check.sh: the debug config runs the vmemmap and pool-door selftests, the plan names all"
else
	not_ok "guest check.sh: the debug config runs the vmemmap and pool-door selftests, the plan names all"
	echo "# plan: $plan"
	echo "# debug runs: $runs"
fi

# 8. vm.sh stops a guest that falls silent (IDLE), not one that keeps
# printing.  A stand-in qemu: prints, then sleeps or keeps printing and
# leaves a status.
mkdir -p "$tmp/bin" "$tmp/obj/ours-normal/arch/x86/boot"
: >"$tmp/obj/ours-normal/arch/x86/boot/bzImage"
cat >"$tmp/bin/qemu-system-x86_64" <<'QEMU'
#!/bin/bash
out="" args="$*"
while [ $# -gt 0 ]; do
	case "$1" in
	-pidfile) echo $$ >"$2"; shift ;;
	-fsdev) case "$2" in *id=out,*) out=${2#*path=}; out=${out%%,*} ;; esac; shift ;;
	esac
	shift
done
echo "fake guest: booting"
if [ "$FAKE_GUEST" = args ]; then echo "fake qemu: $args"; echo 0 >"$out/status"; exit; fi
if [ "$FAKE_GUEST" = silent ]; then trap 'kill $!; exit 143' TERM; sleep 30 & wait; exit; fi
if [ "$FAKE_GUEST" = lockup ]; then
	echo "[  336.089881] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [t:746]"
	for i in $(seq 40); do echo "[  336.089882] RAX: line $i of the registers"; done
	echo "[  336.089883]  csd_lock_wait+0x1a/0x20"
	echo 0 >"$out/status"
	exit
fi
for i in $(seq 12); do sleep 0.3; echo "fake guest: step $i"; done
echo 0 >"$out/status"
QEMU
chmod +x "$tmp/bin/qemu-system-x86_64"
fails_with "vm: a guest silent for IDLE seconds is stopped" "no console output for 2s" \
	env PATH="$tmp/bin:$PATH" FAKE_GUEST=silent OBJ_ROOT="$tmp/obj" OUT="$tmp/vm1" \
	ACCEL=tcg IDLE=2 TIMEOUT=25 "$TOP/scripts/vm.sh"
check "vm: a guest that keeps printing outlives IDLE" \
	env PATH="$tmp/bin:$PATH" FAKE_GUEST=talks OBJ_ROOT="$tmp/obj" OUT="$tmp/vm2" \
	ACCEL=tcg IDLE=2 TIMEOUT=25 "$TOP/scripts/vm.sh"
fails_with "vm: bad IDLE= is refused" "bad IDLE" env IDLE=x "$TOP/scripts/vm.sh"
# A kernel report fails the run, and vm.sh's own message (not the console it
# passes on) shows it with its call trace, past the registers.
fails_with "vm: a kernel report fails the run and shows its call trace" "csd_lock_wait" \
	env PATH="$tmp/bin:$PATH" FAKE_GUEST=lockup OBJ_ROOT="$tmp/obj" OUT="$tmp/vm3" \
	ACCEL=tcg TIMEOUT=25 bash -c '"$1" >/dev/null' - "$TOP/scripts/vm.sh"
# ICOUNT=1: one TCG thread, the instruction counter as the clock; TCG only.
icount_qemu() { # the qemu command line vm.sh ran with ICOUNT=1
	env PATH="$tmp/bin:$PATH" FAKE_GUEST=args OBJ_ROOT="$tmp/obj" OUT="$tmp/vm4" \
		ICOUNT=1 ACCEL=tcg SMP=1 NODES=1 TIMEOUT=25 "$TOP/scripts/vm.sh" | grep -- '^fake qemu: ' |
		grep -- '-accel tcg,thread=single,tb-size=512 -icount shift=0,align=off,sleep=off '
}
check "vm: ICOUNT=1 runs one TCG thread with the instruction counter as the clock" icount_qemu
fails_with "vm: ICOUNT=1 with KVM is refused" "ICOUNT=1 runs under TCG" \
	env PATH="$tmp/bin:$PATH" ICOUNT=1 ACCEL=kvm OBJ_ROOT="$tmp/obj" OUT="$tmp/vm5" \
	"$TOP/scripts/vm.sh"
fails_with "vm: bad ICOUNT= is refused" "bad ICOUNT" \
	env PATH="$tmp/bin:$PATH" ICOUNT=2 OBJ_ROOT="$tmp/obj" OUT="$tmp/vm5" "$TOP/scripts/vm.sh"

if apt-cache madison "$BASE_PKG" >/dev/null 2>&1 && [ -n "$(apt-cache madison "$BASE_PKG")" ]; then
	fails_with "deps: a pinned version that is not served is named, with the served ones" \
		"Versions served now" env HVO_BASE_VERSION=6.12.0-0~hvo-test "$TOP/scripts/deps.sh" --check-pin
	check "deps: the pinned version is served" "$TOP/scripts/deps.sh" --check-pin
else
	echo "ok $((n += 1)) deps: unserved pin # SKIP apt lists not available"
fi
echo "1..$n"
[ "$fails" = 0 ]
