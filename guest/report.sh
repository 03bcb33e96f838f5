#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest for make run: report.sh PAGES_2M ROUNDS PAGES_1G
# Grows and shrinks a pool of 2 MiB pages ROUNDS times with HVO off and on
# (switched with the sysctl in this one boot), then tries PAGES_1G gigantic
# pages.  Prints 'hvo-result KEY VALUE' lines for scripts/run.sh.
set -u
n2m=$1 rounds=$2 n1g=$3
sysctl=/proc/sys/vm/hugetlb_optimize_vmemmap

res() { echo "hvo-result $*"; }
. "$(dirname "$0")/lib.sh"
now_ns() { date +%s%N; }

# pool SIZE_KB COUNT HVO: grow the SIZE_KB pool from 0 to COUNT, then back
# to 0; prints 'pages frames_freed grow_ns shrink_ns frames_back'.
pool() {
	local f=/sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages m0 m1 m2 t0 t1 t2 t3 got
	[ "$3" = on ] && echo 1 >$sysctl
	[ "$3" = off ] && { [ -w $sysctl ] && echo 0 >$sysctl; }
	echo 0 >"$f"
	sync; echo 3 >/proc/sys/vm/drop_caches
	m0=$(memmap)
	t0=$(now_ns); echo "$2" >"$f"; t1=$(now_ns)
	got=$(cat "$f")
	m1=$(memmap)
	t2=$(now_ns); echo 0 >"$f"; t3=$(now_ns)
	m2=$(memmap)
	echo "$got $((m0 - m1)) $((t1 - t0)) $((t3 - t2)) $((m0 - m2))"
}

# round TAG SIZE_KB COUNT HVO N: one measured round, as a result line.
round() {
	set -- "$@" $(pool "$2" "$3" "$4")
	res "$1_$4" "round=$5 pages=$6 freed=$7 grow_ns=$8 shrink_ns=$9 back=${10}"
}

res kernel "$(uname -r)"
res cmdline "$(cat /proc/cmdline)"
res memtotal_kb "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
res clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
if [ ! -e $sysctl ]; then
	res sysctl missing
fi
# 1 GiB pages reserved at boot (hugepages= on the command line, optimized
# at boot when HVO is on): free them first and count the vmemmap frames
# that come back, so that everything below starts from a full memmap.
f1g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
if [ -f $f1g ] && [ "$(cat $f1g)" -gt 0 ]; then
	b=$(cat $f1g) m0=$(memmap)
	echo 0 >$f1g
	res 1g_boot "pages=$b back=$(($(memmap) - m0)) left=$(cat $f1g)"
fi

# sizeof(struct page), derived: vmemmap frames in use over the pages that
# the online memory blocks span (every present section has a full memmap).
blk=$((16#$(cat /sys/devices/system/memory/block_size_bytes)))
nblk=$(ls -d /sys/devices/system/memory/memory[0-9]* | wc -l)
res struct_page_bytes "$(($(memmap) * $(getconf PAGESIZE) / (nblk * blk / $(getconf PAGESIZE))))"
res page_bytes "$(getconf PAGESIZE)"
res hvo_at_boot "$(cat $sysctl 2>/dev/null || echo none)"
boot=$(cat $sysctl 2>/dev/null || echo 0)

# Warm-up round, not counted: first touches of memory are slower.
pool 2048 "$n2m" off >/dev/null
for r in $(seq 1 "$rounds"); do
	for hvo in off on; do
		round 2m 2048 "$n2m" $hvo $r
	done
done

if [ "$n1g" -gt 0 ] && [ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ]; then
	for hvo in off on; do
		round 1g 1048576 "$n1g" $hvo 1
	done
else
	res 1g_none "no 1 GiB page size (needs pdpe1gb) or none asked"
fi
[ -w $sysctl ] && echo "$boot" >$sysctl
exit 0
