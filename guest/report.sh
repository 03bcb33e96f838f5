#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest for make run and make bench:
#   report.sh PAGES_2M ROUNDS PAGES_1G [TRACE_ROUNDS BENCH_BT TOOL_BT]
# Grows and shrinks PAGES_1G gigantic pages GIGA_ROUNDS times, then a pool of
# 2 MiB pages ROUNDS times, with HVO off and on (switched with the sysctl in
# this one boot; the order alternates from round to round), each size after
# a first cycle of each setting reported apart.  The gigantic pages go
# first, into the ranges the 1 GiB pages reserved at boot leave free: after
# the 2 MiB rounds, whose restores allocate vmemmap frames wherever the page
# allocator has them, a free 1 GiB range may not be left (make bench read 2,
# 1 and 0 pages per round on three runs of the same code).  With
# TRACE_ROUNDS, it then runs that many more rounds of each setting under
# bpftrace, after the timed ones so that no probe slows them, into
# /tmp/out/bpftrace-{off,on}.txt: the probes of BENCH_BT (guest/bench.bt)
# after a head with the figures of whole optimize and restore calls,
# TOOL_BT (tools/mm/hugetlb_vmemmap.bt, from the
# trace events) where the kernel has the hugetlb_vmemmap events, or
# guest/bench-kprobes.bt (kprobes) where it does not (the anchor).
# Environment: GIGA_ROUNDS, the rounds of 1 GiB pages (default ROUNDS, at
# most 3); SURPLUS_BIN (guest/surplus-fault.c built) and SURPLUS_PAGES: that
# many surplus faults into an empty pool of 2 MiB pages, ROUNDS times with
# HVO off and on (none without SURPLUS_BIN).
# Prints 'hvo-result KEY VALUE' lines for scripts/run.sh and bench-report.py.
set -u
n2m=$1 rounds=$2 n1g=$3 trace_rounds=${4:-0} bt=${5:-} tool=${6:-}
sysctl=/proc/sys/vm/hugetlb_optimize_vmemmap
f1g=/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages

res() { echo "hvo-result $*"; }
. "$(dirname "$0")/lib.sh"
hvo() { # on|off: the sysctl for pages entering the pool from now on
	if [ "$1" = on ]; then
		echo 1 >$sysctl
	elif [ -w $sysctl ]; then
		echo 0 >$sysctl
	fi
}

# pool SIZE_KB COUNT HVO: grow the SIZE_KB pool from 0 to COUNT, then back
# to 0; prints 'pages frames_freed grow_ns shrink_ns frames_back shared
# tables_back shared_tables': frames_freed is net of the shared frames of
# tails (ours: one per zone and order) that the grow allocated, shared how
# many of those there were; tables_back the vmemmap PTE tables the shrink
# gave the pages back (nr_memmap_pte_pages), net of the shared_tables that
# went with the shared frames (ours, 1 GiB pages).  Times
# come from bash's $EPOCHREALTIME (gettimeofday, in us: the guest's
# clocksource, hpet or tsc, has a far finer grain than a 4 ms TCG tick), read
# without a fork: a fork and exec of date(1) costs tens of ms under TCG and
# would sit inside every measured interval.
pool() {
	local f=/sys/kernel/mm/hugepages/hugepages-$1kB/nr_hugepages m0 m1 m2 t0 t1 t2 t3 got s p1 p2
	hvo "$3"
	echo 0 >"$f"
	sync; echo 3 >/proc/sys/vm/drop_caches
	m0=$(memmap)
	t0=${EPOCHREALTIME/./}; echo "$2" >"$f"; t1=${EPOCHREALTIME/./}
	got=$(cat "$f")
	m1=$(memmap) s=$(shared_frames) p1=$(vmstat nr_memmap_pte_pages)
	t2=${EPOCHREALTIME/./}; echo 0 >"$f"; t3=${EPOCHREALTIME/./}
	m2=$(memmap) p2=$(vmstat nr_memmap_pte_pages)
	set -- $s
	echo "$got $((m0 - m1)) $(((t1 - t0) * 1000)) $(((t3 - t2) * 1000)) $((m0 - m2)) $1 $((${p2:-0} - ${p1:-0})) $3"
}

# round TAG SIZE_KB COUNT HVO N: one measured round, as a result line.
round() {
	set -- "$@" $(pool "$2" "$3" "$4")
	res "$1_$4" "round=$5 pages=$6 freed=$7 grow_ns=$8 shrink_ns=$9 back=${10} shared=${11} tables_back=${12} shared_tables=${13}"
}

# rounds TAG SIZE_KB COUNT N: N rounds of each setting, off first in odd
# rounds and on first in even ones, so that neither always runs first.
rounds() {
	local r
	for r in $(seq 1 "$4"); do
		if [ $((r % 2)) = 1 ]; then
			round "$1" "$2" "$3" off "$r"; round "$1" "$2" "$3" on "$r"
		else
			round "$1" "$2" "$3" on "$r"; round "$1" "$2" "$3" off "$r"
		fi
	done
}

# surplus HVO N: a process faults SURPLUS_PAGES 2 MiB pages into an empty pool
# with nr_overcommit_hugepages allowing them: each fault allocates a surplus
# page (optimized with HVO on).  The program times its own touches; the
# pages go back to the buddy allocator when it exits (restored with HVO on).
surplus() {
	local d=/sys/kernel/mm/hugepages/hugepages-2048kB m0 out
	hvo "$1"
	echo 0 >$d/nr_hugepages
	echo "$SURPLUS_PAGES" >$d/nr_overcommit_hugepages
	m0=$(memmap)
	if ! out=$("$SURPLUS_BIN" "$SURPLUS_PAGES" 2>&1); then
		res surplus_failed "$1 round $2: $out"
		out=""
	fi
	echo 0 >$d/nr_overcommit_hugepages
	[ -n "$out" ] && res "surplus_$1" "round=$2 $out back=$((m0 - $(memmap)))" \
		"left=$(cat $d/surplus_hugepages)"
}

# Whether the kernel has the hugetlb_vmemmap trace events (ours).
vmemmap_events() {
	[ -d /sys/kernel/tracing/events ] ||
		mount -t tracefs none /sys/kernel/tracing 2>/dev/null
	[ -d /sys/kernel/tracing/events/hugetlb_vmemmap ]
}

# traced HVO: TRACE_ROUNDS rounds of 2 MiB pages of that setting under
# bpftrace (2 MiB only, so that per-call figures are of 2 MiB folios).
traced() {
	local log=/tmp/out/bpftrace-$1.txt pid i
	local ready='^(hvo-bench: tracing|Tracing the HugeTLB vmemmap optimization)'
	bpftrace /tmp/bench-all.bt >"$log" 2>&1 &
	pid=$!
	for i in $(seq 1 120); do
		grep -Eq "$ready" "$log" && break
		kill -0 $pid 2>/dev/null || break
		sleep 1
	done
	if ! grep -Eq "$ready" "$log"; then
		bpftrace_stop $pid
		res trace_failed "$1: $(head -c 300 "$log" | tr '\n' ' ')"
		return
	fi
	for i in $(seq 1 "$trace_rounds"); do
		pool 2048 "$n2m" "$1" >/dev/null
	done
	if ! bpftrace_stop $pid; then
		res trace_failed "$1: bpftrace did not exit within 120 s of SIGINT"
		return
	fi
	res trace "$1 $log"
}

res kernel "$(uname -r)"
res cmdline "$(cat /proc/cmdline)"
res memtotal_kb "$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
res cpus "$(nproc)"
res clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
if [ ! -e $sysctl ]; then
	res sysctl missing
fi
# 1 GiB pages reserved at boot (hugepages= on the command line, optimized
# at boot when HVO is on): free them first and count the vmemmap frames
# that come back, so that everything below starts from a full memmap.
if [ -f $f1g ] && [ "$(cat $f1g)" -gt 0 ]; then
	b=$(cat $f1g) m0=$(memmap) s=$(shared_frames) p0=$(vmstat nr_memmap_pte_pages)
	echo 0 >$f1g
	set -- $s
	res 1g_boot "pages=$b back=$(($(memmap) - m0)) left=$(cat $f1g) shared=$1" \
		"tables_back=$(($(vmstat nr_memmap_pte_pages) - ${p0:-0})) shared_tables=$3"
fi

# sizeof(struct page), derived: vmemmap frames in use over the pages that
# the online memory blocks span (every present section has a full memmap).
blk=$((16#$(cat /sys/devices/system/memory/block_size_bytes)))
nblk=$(ls -d /sys/devices/system/memory/memory[0-9]* | wc -l)
res struct_page_bytes "$(($(memmap) * $(getconf PAGESIZE) / (nblk * blk / $(getconf PAGESIZE))))"
res page_bytes "$(getconf PAGESIZE)"
res hvo_at_boot "$(cat $sysctl 2>/dev/null || echo none)"
boot=$(cat $sysctl 2>/dev/null || echo 0)
res sizes "pages_2m=$n2m rounds=$rounds pages_1g=$n1g trace_rounds=$trace_rounds"

if [ "$n1g" -gt 0 ] && [ -f $f1g ]; then
	# The first cycle of each setting after boot, reported apart and not
	# in the medians (as the 2 MiB pages' below).
	round 1g_first 1048576 "$n1g" off 0
	round 1g_first 1048576 "$n1g" on 0
	rounds 1g 1048576 "$n1g" "${GIGA_ROUNDS:-$(( rounds < 3 ? rounds : 3 ))}"
else
	res 1g_none "no 1 GiB page size (needs pdpe1gb) or none asked"
fi

# The first cycle of each setting of 2 MiB pages, reported apart and not in
# the medians: it pays one-time costs (first touches of memory; with HVO on,
# the split of vmemmap PMDs into PTE tables and the release of boot-time
# frames), but for those of the 1 GiB ranges the rounds above touched, if
# any.
round 2m_first 2048 "$n2m" off 0
round 2m_first 2048 "$n2m" on 0
rounds 2m 2048 "$n2m" "$rounds"

if [ -n "${SURPLUS_BIN:-}" ]; then
	for r in $(seq 1 "$rounds"); do
		if [ $((r % 2)) = 1 ]; then
			surplus off "$r"; surplus on "$r"
		else
			surplus on "$r"; surplus off "$r"
		fi
	done
fi

if [ "$trace_rounds" -gt 0 ] && [ -n "$bt" ]; then
	if [ -n "$tool" ] && vmemmap_events; then
		head=$tool calls=tracepoints
	else
		head=$(dirname "$bt")/bench-kprobes.bt calls=kprobes
	fi
	res trace_calls "$calls"
	if ! command -v bpftrace >/dev/null; then
		res trace_failed "no bpftrace on the host (run: make deps)"
	elif ! cat "$head" "$bt" >/tmp/bench-all.bt; then
		res trace_failed "cannot read $head or $bt"
	else
		traced off
		traced on
	fi
fi
[ -w $sysctl ] && echo "$boot" >$sysctl
exit 0
