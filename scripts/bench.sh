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
#   PAGES=1024 (2 MiB pages per round)  ROUNDS=15  GIGANTIC=2 (1 GiB pages)
#   TRACE_ROUNDS=2  MEM=6G SMP=2 NODES=2 (scripts/vm.sh)
#   QUICK=1: PAGES=64 ROUNDS=3 GIGANTIC=0 TRACE_ROUNDS=1 MEM=3G, for make
#   check (the harness must not rot; its figures mean little)
#   BUILD_KERNELS=0: use the kernels already built
#   BENCH_ANCHOR=0: our kernel only (make check's quick run); the anchor's
#   figures read n/a
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${PAGES:=64}" "${ROUNDS:=3}" "${GIGANTIC:=0}" "${TRACE_ROUNDS:=1}" "${MEM:=3G}"
	# Room for report.sh's bounded bpftrace waits (120 s each) on a slow
	# TCG host before the guest itself is called hung.
	: "${TIMEOUT:=600}"
fi
# A guest takes under a minute; one that hangs is stopped long before
# vm.sh's default.
export TIMEOUT=${TIMEOUT:-900}
pages=${PAGES:-1024} rounds=${ROUNDS:-15} gigantic=${GIGANTIC:-2}
trace_rounds=${TRACE_ROUNDS:-2}
for v in pages rounds gigantic trace_rounds; do
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
for kernel in $kernels; do
	out=$dir/$kernel
	mkdir -p "$out"
	rm -f "$out"/bpftrace-*.txt "$out/failed"
	OUT=$out MEM=${MEM:-6G} KERNEL=$kernel CONFIG=normal \
		APPEND="hugetlb_free_vmemmap=on $giga ${APPEND:-}" \
		CMD="bash $TOP/guest/report.sh $pages $rounds $gigantic $trace_rounds $TOP/guest/bench.bt $(kernel_src ours)/tools/mm/hugetlb_vmemmap.bt" \
		phase "bench-$kernel" "$TOP/scripts/vm.sh" >"$out/vm.log" 2>&1 && continue
	tail -30 "$out/vm.log" >&2
	[ "$kernel" = ours ] && die "our guest failed (${out#$TOP/}/vm.log)"
	# The anchor is the base as it is, bugs and all (its HVO leaves stale
	# struct pages behind): its rounds so far are still reported, and the
	# report says that its guest did not finish.
	why=$(grep -m1 -o 'timed out after [0-9]*s\|kernel reports in the log\|ended without a status' \
		"$out/vm.log" || echo "exit status $(cat "$out/status" 2>/dev/null || echo none)")
	echo "the anchor guest did not finish ($why; see ${out#$TOP/}/console.log)" >"$out/failed"
	note "$(cat "$out/failed")"
done

cmd="make bench"
[ "${QUICK:-0}" = 1 ] && cmd="make bench QUICK=1"
cmd+=" (PAGES=$pages ROUNDS=$rounds GIGANTIC=$gigantic TRACE_ROUNDS=$trace_rounds MEM=${MEM:-6G})"
anchor_dir=$dir/anchor
[ "${BENCH_ANCHOR:-1}" = 1 ] || { anchor_dir=-; cmd+=" BENCH_ANCHOR=0"; }
python3 "$TOP/scripts/bench-report.py" "$dir/ours" "$anchor_dir" "$dir/report.md" "$cmd" >"$dir/summary.txt"
note "report in ${dir#$TOP/}/report.md"
cat "$dir/summary.txt"
