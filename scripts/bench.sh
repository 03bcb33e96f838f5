#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make bench: our kernel against the anchor (the pristine base with its own
# HVO), both with the normal config, each booted in the same VM shape, one
# after the other.  In each boot, guest/report.sh grows and shrinks hugetlb
# pools with HVO off and on, then repeats a few rounds under bpftrace
# (guest/bench.bt after tools/mm/hugetlb_vmemmap.bt on ours, after
# guest/bench-kprobes.bt on the anchor).  Writes build/bench/report.md and
# prints its summary line.
#
# Then, for each kernel, BOOT_ROUNDS boots of each kind with HVO off and on
# (hugetlb_free_vmemmap=, the order alternating from round to round), each
# running guest/boot-pool.sh: a pool of BOOT_2M 2 MiB pages, then one of
# BOOT_1G 1 GiB pages, given on the command line (the kernel's own time in
# its hugetlb initcalls, from initcall_debug, and for the 1 GiB pool in
# page_alloc_init_late(): guest/boot-pool.sh), and a boot without a pool
# whose first grow of PAGES 2 MiB pages is timed.  In the first round, the
# 2 MiB pool once more on one CPU with QEMU's instruction counter as the
# guest's clock (scripts/vm.sh ICOUNT=1): a figure that repeats from run to
# run, the work done and the waits, whatever else loads this host.  The
# boots with a pool leave out trace_eval_init and
# ftrace_check_for_weak_functions (initcall_blacklist=): the work item each
# queues (every trace event's format rewritten; every ftrace record looked
# up in kallsyms) takes a CPU on a kworker for tens of ms under TCG, beside
# the pool's initcall, and came and went from boot to boot: with it, a
# 2 MiB pool's initcalls with HVO off took anywhere from 17 to 40 ms.
# With GIGANTIC, also in the first round, a boot without a pool on the same
# clock grows and shrinks GIGANTIC 1 GiB pages GIGA_ROUNDS times (kind 1gi):
# the real-clock rounds of 1 GiB pages swing with the host's load.
#
#   PAGES=1024 (2 MiB pages per round)  ROUNDS=15  GIGANTIC=2 (1 GiB pages)
#   GIGA_ROUNDS=9 (rounds of the 1 GiB pages)  SURPLUS_PAGES=64 (surplus
#   faults per round, ROUNDS rounds)  TRACE_ROUNDS=2
#   BOOT_ROUNDS=9 BOOT_2M=2560 BOOT_1G=4  MEM=6G SMP=2 NODES=2 (scripts/vm.sh)
#   QUICK=1: PAGES=64 ROUNDS=3 GIGANTIC=0 SURPLUS_PAGES=8 TRACE_ROUNDS=1
#   BOOT_ROUNDS=1 BOOT_2M=512 BOOT_1G=1 MEM=3G, for make check (the harness
#   must not rot; its figures mean little)
#   BUILD_KERNELS=0: use the kernels already built
#   BENCH_ANCHOR=0: our kernel only (make check's quick run); the anchor's
#   figures read n/a
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${PAGES:=64}" "${ROUNDS:=3}" "${GIGANTIC:=0}" "${TRACE_ROUNDS:=1}" "${MEM:=3G}"
	: "${SURPLUS_PAGES:=8}" "${BOOT_ROUNDS:=1}" "${BOOT_2M:=512}" "${BOOT_1G:=1}"
	# Room for report.sh's bounded bpftrace waits (120 s each) on a slow
	# TCG host before the guest itself is called hung.
	: "${TIMEOUT:=600}"
fi
# A guest takes under a minute; one that hangs is stopped long before
# vm.sh's default.
export TIMEOUT=${TIMEOUT:-900}
pages=${PAGES:-1024} rounds=${ROUNDS:-15} gigantic=${GIGANTIC:-2}
trace_rounds=${TRACE_ROUNDS:-2} giga_rounds=${GIGA_ROUNDS:-9}
surplus_pages=${SURPLUS_PAGES:-64} boot_rounds=${BOOT_ROUNDS:-9}
boot_2m=${BOOT_2M:-2560} boot_1g=${BOOT_1G:-4}
for v in pages rounds gigantic trace_rounds giga_rounds surplus_pages boot_rounds boot_2m boot_1g; do
	[[ "${!v}" =~ ^[0-9]+$ ]] || die "bad ${v^^}='${!v}' (a number)"
done
[ "$pages" -gt 0 ] && [ "$rounds" -gt 0 ] || die "PAGES and ROUNDS must be at least 1"
[[ "${BUILD_KERNELS:-1}" =~ ^[01]$ ]] || die "bad BUILD_KERNELS='${BUILD_KERNELS}' (0 or 1)"
[[ "${BENCH_ANCHOR:-1}" =~ ^[01]$ ]] || die "bad BENCH_ANCHOR='${BENCH_ANCHOR}' (0 or 1)"
kernels="ours anchor"
[ "${BENCH_ANCHOR:-1}" = 1 ] || kernels=ours

if [ "${BUILD_KERNELS:-1}" = 1 ]; then
	"$TOP/scripts/tree.sh"
	for kernel in $kernels; do
		"$TOP/scripts/kernel.sh" "$kernel" normal
	done
fi

# 1 GiB pages are reserved at boot, where contiguous memory is sure to be
# had; the guest frees them and then grows the 1 GiB pool at run time.
giga=""
[ "$gigantic" -gt 0 ] && giga="hugepagesz=1G hugepages=$gigantic"
dir=$BUILD/bench
mkdir -p "$dir"
surplus=$dir/surplus-fault
gcc -O2 -Wall -o "$surplus" "$TOP/guest/surplus-fault.c" || die "cannot build guest/surplus-fault.c"

# guest_failed KERNEL OUT: ours dies; the anchor's failure goes into OUT/failed.
guest_failed() {
	tail -30 "$2/vm.log" >&2
	[ "$1" = ours ] && die "our guest failed (${2#$TOP/}/vm.log)"
	# The anchor is the base as it is, bugs and all (its HVO leaves stale
	# struct pages behind): its rounds so far are still reported, and the
	# report says that its guest did not finish.
	why=$(grep -m1 -o 'timed out after [0-9]*s\|kernel reports in the log\|ended without a status' \
		"$2/vm.log" || echo "exit status $(cat "$2/status" 2>/dev/null || echo none)")
	echo "the anchor guest did not finish ($why; see ${2#$TOP/}/console.log)" >"$2/failed"
	note "$(cat "$2/failed")"
}
for kernel in $kernels; do
	out=$dir/$kernel
	rm -rf "$out"
	mkdir -p "$out"
	ICOUNT=0 OUT=$out MEM=${MEM:-6G} KERNEL=$kernel CONFIG=normal \
		APPEND="hugetlb_free_vmemmap=on $giga ${APPEND:-}" \
		CMD="GIGA_ROUNDS=$giga_rounds SURPLUS_BIN=$surplus SURPLUS_PAGES=$surplus_pages bash $TOP/guest/report.sh $pages $rounds $gigantic $trace_rounds $TOP/guest/bench.bt $(kernel_src ours)/tools/mm/hugetlb_vmemmap.bt" \
		phase "bench-$kernel" "$TOP/scripts/vm.sh" >"$out/vm.log" 2>&1 ||
		guest_failed "$kernel" "$out"
done

# The boots: a pool given on the command line, and the first grow after
# boot.  initcall_debug's lines are KERN_DEBUG, kept in a log buffer large
# enough for all of them and not printed on the console.
for kernel in $kernels; do
	for r in $(seq 1 "$boot_rounds"); do
		kinds="2m 1g first"
		[ "$r" != 1 ] || kinds+=" 2mi"
		[ "$r" != 1 ] || [ "$gigantic" = 0 ] || kinds+=" 1gi"
		for kind in $kinds; do
			icount=0 smp=${SMP:-} nodes=${NODES:-} accel=${ACCEL:-} n=$pages
			quiet=initcall_blacklist=trace_eval_init,ftrace_check_for_weak_functions
			case $kind in
			2m) pool="hugepages=$boot_2m $quiet" ;;
			2mi)
				pool="hugepages=$boot_2m $quiet"
				icount=1 smp=1 nodes=1 accel=tcg
				;;
			1g) pool="hugepagesz=1G hugepages=$boot_1g $quiet" ;;
			1gi) pool="" icount=1 smp=1 nodes=1 accel=tcg n=$gigantic ;;
			first) pool="" ;;
			esac
			order="off on"
			[ $((r % 2)) = 1 ] || order="on off"
			for hvo in $order; do
				out=$dir/$kernel/boot/$kind-$hvo-$r
				mkdir -p "$out"
				ICOUNT=$icount ACCEL=$accel SMP=$smp NODES=$nodes OUT=$out MEM=${MEM:-6G} \
					KERNEL=$kernel CONFIG=normal \
					APPEND="hugetlb_free_vmemmap=$hvo initcall_debug log_buf_len=8M $pool ${APPEND:-}" \
					CMD="GIGA_ROUNDS=$giga_rounds bash $TOP/guest/boot-pool.sh $kind $r $n" \
					phase "bench-$kernel-boot-$kind-$hvo" "$TOP/scripts/vm.sh" >"$out/vm.log" 2>&1 ||
					guest_failed "$kernel" "$out"
			done
		done
	done
done

cmd="make bench"
[ "${QUICK:-0}" = 1 ] && cmd="make bench QUICK=1"
cmd+=" (PAGES=$pages ROUNDS=$rounds GIGANTIC=$gigantic GIGA_ROUNDS=$giga_rounds SURPLUS_PAGES=$surplus_pages"
cmd+=" TRACE_ROUNDS=$trace_rounds BOOT_ROUNDS=$boot_rounds BOOT_2M=$boot_2m BOOT_1G=$boot_1g MEM=${MEM:-6G})"
anchor_dir=$dir/anchor
[ "${BENCH_ANCHOR:-1}" = 1 ] || { anchor_dir=-; cmd+=" BENCH_ANCHOR=0"; }
python3 "$TOP/scripts/bench-report.py" "$dir/ours" "$anchor_dir" "$dir/report.md" "$cmd" >"$dir/summary.txt"
note "report in ${dir#$TOP/}/report.md"
cat "$dir/summary.txt"
