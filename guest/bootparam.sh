#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a guest booted with "hugetlb_free_vmemmap=maybe hugetlb_free_vmemmap
# hugetlb_free_vmemmap=n hugetlb_free_vmemmap=1 hugetlb_free_vmemmap=off
# hugetlb_free_vmemmap=y": "maybe" is not a boolean, so it must be warned about
# by name and leave HVO as it was, off (it is opt-in); what the base kernel's
# bool parameter took (no value for on, then n, 1, off, y) must be taken
# without a word, the last one (y) winning.  The guest also reserves a
# HugeTLB CMA area on node 0 (hugetlb_cma=0:1G): a 1 GiB page allocated from
# it and demoted to 2 MiB pages (optimized) must give its memory back to the
# area when those pages leave the pool; 2 MiB pool pages that the buddy
# allocator placed in the area (HVO off) and that an allocation of the whole
# area replaces must go back to the allocator, not to the area.  And it has a DIMM on node 0, added
# through ACPI and onlined movable (memhp_default_state=online_movable):
# after pool pages in it went through the optimization and back, ejecting it
# (memory hot-remove) uncounts exactly its vmemmap frames and the page tables
# the optimization split for it.  Prints TAP.
# bootparam.sh --plan: the name of every result it reports, one a line.
set -u
if [ "${1:-}" = --plan ]; then
	printf '%s\n' hvo_bootparam_warns hvo_bootparam_bool hvo_bootparam_on \
		hvo_bootparam_memmap hvo_hugetlb_cma_demote hvo_hugetlb_cma_buddy_pages \
		hvo_hotremove_counters
	exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
n=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n $*"; }

echo "TAP version 13"
echo "# cmdline: $(cat /proc/cmdline)"
msg="hugetlb_free_vmemmap=maybe is not a boolean (on/off, 1/0, y/n); vmemmap optimization stays off"
if dmesg | grep -qF "$msg"; then
	ok "hvo_bootparam_warns: '$msg'"
else
	not_ok "hvo_bootparam_warns: no '$msg' in the kernel log"
fi

# Any other warning names a value the base took (the bare form included).
warned=$(dmesg | grep -E 'HugeTLB: hugetlb_free_vmemmap=' | grep -vF "$msg" || true)
if [ -z "$warned" ]; then
	ok "hvo_bootparam_bool: no value, n, 1, off and y taken without a warning"
else
	not_ok "hvo_bootparam_bool: $warned"
fi

got=$(cat /proc/sys/vm/hugetlb_optimize_vmemmap 2>/dev/null || echo missing)
if [ "$got" = 1 ]; then
	ok "hvo_bootparam_on: vm.hugetlb_optimize_vmemmap=1, the last value given (y)"
else
	not_ok "hvo_bootparam_on: vm.hugetlb_optimize_vmemmap=$got, want 1"
fi

nr=/proc/sys/vm/nr_hugepages
m0=$(memmap)
echo 8 >$nr
pages=$(cat $nr) m1=$(memmap)
echo 0 >$nr
if [ "$pages" -gt 0 ] && [ "$m1" -lt "$m0" ]; then
	ok "hvo_bootparam_memmap: $pages pages entered the pool, $((m0 - m1)) vmemmap frames freed"
else
	not_ok "hvo_bootparam_memmap: $pages pages, vmemmap frames $m0 -> $m1"
fi
# A 1 GiB page from the HugeTLB CMA area of node 0, demoted to 2 MiB pages,
# which the optimization takes: once they leave the pool, the area is as
# free as before and the memmap back where it was.
cma_demote() {
	local area=/sys/kernel/debug/cma/hugetlb0
	local g=/sys/devices/system/node/node0/hugepages/hugepages-1048576kB
	local m=/sys/kernel/mm/hugepages/hugepages-2048kB
	local gd=/sys/kernel/mm/hugepages/hugepages-1048576kB
	local u0 u1 u2 m0 m1 m2 s1 small i
	[ -d $area ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
	if [ ! -r $area/used ] || [ ! -w $gd/demote ]; then
		not_ok "hvo_hugetlb_cma_demote: no $area/used or $gd/demote"
		return
	fi
	u0=$(cat $area/used) m0=$(memmap)
	# From the area, unless a page in it could not be moved just then
	# (the page then comes from elsewhere): try again.
	for i in 1 2 3; do
		echo 1 >$g/nr_hugepages
		u1=$(cat $area/used)
		[ "$u1" != "$u0" ] && break
		echo 0 >$g/nr_hugepages
		echo 3 >/proc/sys/vm/drop_caches
	done
	echo 1 >$gd/demote
	small=$(cat $m/nr_hugepages) m1=$(memmap) s1=$(shared_frames 9)
	echo 0 >$m/nr_hugepages
	echo 0 >$gd/nr_hugepages
	u2=$(cat $area/used) m2=$(memmap)
	echo "# hugetlb_cma: used $u0 -> $u1 (1 GiB page) -> $u2 after $small" \
		"demoted 2 MiB pages left the pool; memmap $m0 -> $m1 -> $m2;" \
		"shared frames and their pages $s1"
	# 7 frames back per 2 MiB page, one shared frame of tails for them all
	# (the 1 GiB page was in one zone).
	if [ "$u1" = $((u0 + 262144)) ] && [ "$small" = 512 ] && [ "$s1" = "1 512 0" ] &&
	   [ "$m1" = $((m0 - 512 * 7 + 1)) ] && [ "$u2" = "$u0" ] && [ "$m2" = "$m0" ]; then
		ok "hvo_hugetlb_cma_demote: a CMA 1 GiB page demoted to 512 optimized pages went back to the area"
	else
		not_ok "hvo_hugetlb_cma_demote: CMA used $u0 -> $u1 -> $u2, $small pages, memmap $m0 -> $m1 -> $m2"
	fi
}
cma_demote

# Pool pages with the tails written, some in the HugeTLB CMA area (node 0's
# Normal zone is filled before its DMA32 zone), and the area allocated whole
# through its debugfs: alloc_contig_range() replaces the pool pages in it,
# and the old ones go back to the page allocator, in the middle of the
# range being allocated.  Given to the area instead (cma_release()), they
# would clear bits of the allocation from its bitmap.
cma_buddy_pages() {
	local area=/sys/kernel/debug/cma/hugetlb0 sysctl=/proc/sys/vm/hugetlb_optimize_vmemmap
	local hp=/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages
	local base count u0 u1 u2 free got in=0 taken=0 i was
	base=$(cat $area/base_pfn 2>/dev/null) count=$(cat $area/count 2>/dev/null)
	if [ -z "$base" ] || [ ! -w $area/alloc ]; then
		not_ok "hvo_hugetlb_cma_buddy_pages: no $area/base_pfn or alloc"
		return
	fi
	was=$(cat $sysctl)
	echo 0 >$sysctl
	u0=$(cat $area/used)
	# All of node 0's free memory but 1.5 GiB, room for the replacements.
	free=$(awk '/MemFree/ { print $4 }' /sys/devices/system/node/node0/meminfo)
	echo $(((free - 1536 * 1024) / 2048)) >$hp
	got=$(cat $hp)
	# Pool heads in the area (KPF_COMPOUND_HEAD 15, KPF_HUGE 17).
	in=$(dd if=/proc/kpageflags bs=8 skip="$base" count="$count" 2>/dev/null |
		od -An -v -tu8 -w8 |
		awk '{ f = $1; if (int(f / 32768) % 2 && int(f / 131072) % 2) n++ }
		     END { print n + 0 }')
	for i in 1 2 3 4 5; do
		echo "$count" >$area/alloc 2>/dev/null && { taken=1; break; }
		echo 3 >/proc/sys/vm/drop_caches
	done
	u1=$(cat $area/used)
	[ "$taken" = 1 ] && echo "$count" >$area/free
	u2=$(cat $area/used)
	echo 0 >$hp
	echo "$was" >$sysctl
	echo "# hugetlb_cma buddy pages: $got pool pages on node 0, $in in the area;" \
		"area allocated whole: $taken; used $u0 -> $u1 -> $u2 (area $count pages)"
	if [ "$in" -gt 0 ] && [ "$taken" = 1 ] && [ "$u1" = $((u0 + count)) ] &&
	   [ "$u2" = "$u0" ]; then
		ok "hvo_hugetlb_cma_buddy_pages: $in pool pages replaced out of the area, its bitmap whole"
	else
		not_ok "hvo_hugetlb_cma_buddy_pages: $in pool pages in the area, allocated $taken, used $u0 -> $u1 -> $u2, want +$count then $u0"
	fi
}
cma_buddy_pages

blocks() { ls -d /sys/devices/system/memory/memory[0-9]* | sort; }

# Fill node 0 (the DIMM with it) with pool pages and empty it again, so that
# the vmemmap of every section of the DIMM is split and its pages optimized
# and restored; then eject the DIMM.  Its sections' frames leave
# nr_memmap_pages (512 a section, none from memblock), and each of its split
# PTE tables leaves nr_memmap_pte_pages.
hotremove() {
	local dev node0=/sys/devices/system/node/node0
	local hp=$node0/hugepages/hugepages-2048kB/nr_hugepages
	local b0 p0 m0 b1 p1 m1 b2 p2 m2 before after gone free got i
	dev=$(grep -l '^PNP0C80$' /sys/bus/acpi/devices/*/hid 2>/dev/null | head -1)
	dev=${dev%/hid}
	if [ -z "$dev" ] || [ ! -w "$dev/eject" ]; then
		not_ok "hvo_hotremove_counters: no ejectable memory device (PNP0C80)"
		return
	fi
	before=$(blocks)
	b0=$(vmstat nr_memmap_boot_pages) m0=$(vmstat nr_memmap_pages)
	p0=$(vmstat nr_memmap_pte_pages)
	free=$(awk '/MemFree/ { print $4 }' $node0/meminfo)
	echo $(((free - 131072) / 2048)) >$hp
	got=$(cat $hp)
	echo 0 >$hp
	b1=$(vmstat nr_memmap_boot_pages) m1=$(vmstat nr_memmap_pages)
	p1=$(vmstat nr_memmap_pte_pages)
	echo 1 >"$dev/eject"
	# The memory is removed (counters updated) before _EJ0, after which
	# QEMU reports the slot empty: _STA reads 0.
	for i in $(seq 120); do
		[ "$(cat "$dev/status" 2>/dev/null || echo 0)" = 0 ] && break
		sleep 0.5
	done
	after=$(blocks)
	gone=$(comm -23 <(echo "$before") <(echo "$after") | wc -l)
	# Sections of 128 MiB (x86-64) in the blocks that went.
	gone=$((gone * 0x$(cat /sys/devices/system/memory/block_size_bytes) / (128 << 20)))
	b2=$(vmstat nr_memmap_boot_pages) m2=$(vmstat nr_memmap_pages)
	p2=$(vmstat nr_memmap_pte_pages)
	echo "# hot-remove: $got pool pages on node 0 and back; $gone sections" \
		"ejected; boot frames $b0 -> $b1 -> $b2, frames $m0 -> $m1 -> $m2," \
		"pte tables $p0 -> $p1 -> $p2"
	if [ "$gone" -gt 0 ] && [ "$b2" = "$b1" ] && [ "$m2" = $((m1 - gone * 512)) ] &&
	   [ "$p2" = $((p1 - gone)) ] && [ "$((b1 + m1))" = "$((b0 + m0))" ]; then
		ok "hvo_hotremove_counters: $gone sections ejected: $((gone * 512)) frames and $gone split tables uncounted"
	else
		not_ok "hvo_hotremove_counters: $gone sections ejected: boot frames $b1 -> $b2, frames $m1 -> $m2 (want -$((gone * 512))), tables $p1 -> $p2 (want -$gone)"
	fi
}
hotremove
echo "1..$n"
