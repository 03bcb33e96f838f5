# SPDX-License-Identifier: GPL-2.0
# Shared by the guest scripts (sourced).

# memmap: vmemmap frames in use, /proc/vmstat nr_memmap_pages +
# nr_memmap_boot_pages (the memory metric of the project); prints nothing
# when either counter is missing.
memmap() {
	awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2; n++ }
	     END { if (n == 2) print s }' /proc/vmstat
}
