#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest for make bench's boots:
#   boot-pool.sh KIND ROUND PAGES
# KIND 2m, 2mi (the same, booted with ICOUNT=1) or 1g: the guest was booted
# with a pool of that size on its command line (hugepages=, with
# initcall_debug).  Prints the time the kernel spent in its hugetlb
# initcalls (init_ns): for a 2 MiB pool, hugetlb_init() allocates, prepares
# and optimizes its pages.  A 1 GiB pool is taken from memblock early, and
# its struct pages are written and optimized before any initcall, in
# page_alloc_init_late() (hugetlb_bootmem_struct_page_init()): every kind
# also prints late_ns, the time from "smp: Brought up" to "Memory:", which
# holds that work and what else runs there (the scheduler's domains,
# workqueue and padata set-up); make bench takes off it the same window of
# boots without a 1 GiB pool (bench-report.py).  Both from the kernel's own
# clock: the printk times of those lines.
# KIND first: the guest was booted without a pool: grow PAGES 2 MiB pages
# from 0 once, the first resize after boot, and shrink them back.
# KIND 1gi (booted with ICOUNT=1): grow PAGES 1 GiB pages from 0 and shrink
# them back, GIGA_ROUNDS times (default 3), each round timed on the
# instruction clock, as guest/report.sh times its rounds of 1 GiB pages.
# HVO is what the command line's hugetlb_free_vmemmap= made it.  Prints one
# 'hvo-result boot_KIND_HVO ...' line for bench-report.py.
set -u
kind=$1 round=$2 pages=$3
. "$(dirname "$0")/lib.sh"
sysctl=/proc/sys/vm/hugetlb_optimize_vmemmap
hvo=off
[ "$(cat $sysctl 2>/dev/null)" = 1 ] && hvo=on
res() { echo "hvo-result $*"; }
# grow_shrink FILE: grow the pool of FILE (an nr_hugepages) from 0 to PAGES
# and back, each step timed (in us, from $EPOCHREALTIME, read without a
# fork); sets $fields to the fields of a result line (a function called in
# $(...) would run in a forked shell, whose copy-on-write faults the timed
# steps would pay).
grow_shrink() {
	local f=$1 m0 m1 got t0 t1 t2 t3
	m0=$(memmap)
	t0=${EPOCHREALTIME/./}; echo "$pages" >"$f"; t1=${EPOCHREALTIME/./}
	got=$(cat "$f") m1=$(memmap)
	t2=${EPOCHREALTIME/./}; echo 0 >"$f"; t3=${EPOCHREALTIME/./}
	fields="pages=$got grow_ns=$(((t1 - t0) * 1000)) shrink_ns=$(((t3 - t2) * 1000))"
	fields+=" freed=$((m0 - m1)) back=$((m0 - $(memmap)))"
}
# late_ns: ns from "smp: Brought up N nodes, M CPUs" (the end of
# smp_init()) to "Memory: ..." (mem_init_print_info(), right after
# page_alloc_init_late()), from their printk times; empty if either is
# missing.
late_ns() {
	dmesg | awk '
		/\] smp: Brought up / { s = $0; sub(/\].*/, "", s); sub(/^\[ */, "", s) }
		/\] Memory: [0-9]+K\/[0-9]+K available/ && s != "" {
			m = $0; sub(/\].*/, "", m); sub(/^\[ */, "", m)
			printf "%.0f\n", (m - s) * 1000000000; exit
		}'
}
res kernel "$(uname -r)"
res cmdline "$(cat /proc/cmdline)"

case $kind in
2m | 2mi | 1g)
	[ "$kind" = 1g ] && size=1048576 || size=2048
	got=$(cat /sys/kernel/mm/hugepages/hugepages-${size}kB/nr_hugepages 2>/dev/null || echo 0)
	# From the printk times of "calling  NAME+0x0/..." and "initcall
	# NAME+0x0/... returned 0 after N usecs": local_clock(), the TSC held
	# within a tick of jiffies until late_initcall.  N itself comes from
	# ktime, which in subsys_initcall still runs on jiffies (4 ms).
	us=$(dmesg | awk '
		/\] (calling  |initcall )[a-z_0-9]*hugetlb[a-z_0-9]*\+/ {
			ts = $0; sub(/\].*/, "", ts); sub(/^\[ */, "", ts)
			name = $0; sub(/^[^]]*\] (calling  |initcall )/, "", name)
			sub(/\+.*/, "", name)
			if ($0 ~ /\] calling  /)
				c[name] = ts * 1000000
			else if ((name in c) && $0 ~ / returned /) {
				s += ts * 1000000 - c[name]; n++
			}
		}
		END { if (n) printf "%d\n", s }')
	# The kernel's time to its first process: the timestamp of "Run ... as
	# init process" (seconds, printk time).
	init=$(dmesg | sed -n 's/^\[ *\([0-9]*\)\.\([0-9]*\)\] Run .* as init process.*/\1\2/p' | head -1)
	if [ -z "$us" ]; then
		res boot_failed "$kind $hvo: no hugetlb initcall in dmesg (initcall_debug missing?)"
		exit 0
	fi
	late=$(late_ns)
	if [ -z "$late" ]; then
		res boot_failed "$kind $hvo: no 'smp: Brought up' or 'Memory:' line in dmesg"
		exit 0
	fi
	res "boot_${kind}_$hvo" "round=$round pages=$got init_ns=$((us * 1000))" \
		"late_ns=$late to_init_ns=$((10#${init:-0} * 1000)) memmap=$(memmap)"
	;;
first)
	grow_shrink /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	late=$(late_ns)
	res "first_$hvo" "round=$round $fields${late:+ late_ns=$late}"
	;;
1gi)
	f=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
	if [ ! -f $f ]; then
		res boot_failed "1gi $hvo: no 1 GiB page size (needs pdpe1gb)"
		exit 0
	fi
	for r in $(seq 1 "${GIGA_ROUNDS:-3}"); do
		echo 0 >$f
		grow_shrink $f
		res "1gi_$hvo" "round=$r $fields"
	done
	;;
*)
	res boot_failed "unknown kind '$kind'"
	;;
esac
exit 0
