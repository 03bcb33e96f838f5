# SPDX-License-Identifier: GPL-2.0
# Shared by the guest scripts (sourced).

# memmap: vmemmap frames in use, /proc/vmstat nr_memmap_pages +
# nr_memmap_boot_pages (the memory metric of the project); prints nothing
# when either counter is missing.
memmap() {
	awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2; n++ }
	     END { if (n == 2) print s }' /proc/vmstat
}

# shared_frames [ORDER]: "FRAMES PAGES", the vmemmap frames of tails that HVO
# shares between the pool pages of ORDER (one per zone; of every order
# without ORDER) and the pool pages mapping them, from
# <debugfs>/hugetlb_vmemmap/shared_frames; "0 0" without it (the anchor).
shared_frames() {
	awk -v o="${1:-}" 'o == "" || $6 == o { f++; p += $8 } END { print f + 0, p + 0 }' \
		/sys/kernel/debug/hugetlb_vmemmap/shared_frames 2>/dev/null || echo "0 0"
}
