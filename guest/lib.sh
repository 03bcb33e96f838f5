# SPDX-License-Identifier: GPL-2.0
# Shared by the guest scripts (sourced).

# memmap: vmemmap frames in use, /proc/vmstat nr_memmap_pages +
# nr_memmap_boot_pages (the memory metric of the project); prints nothing
# when either counter is missing.
memmap() {
	awk '$1 == "nr_memmap_pages" || $1 == "nr_memmap_boot_pages" { s += $2; n++ }
	     END { if (n == 2) print s }' /proc/vmstat
}

# vmstat NAME: one counter of /proc/vmstat, nothing if it has none.
vmstat() { awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat; }

# shared_frames [ORDER]: "FRAMES PAGES TABLES", the vmemmap frames of tails
# that HVO shares between the pool pages of ORDER (one per zone; of every
# order without ORDER), the pool pages mapping them and the shared PTE tables
# that go with them (1 GiB pages), from <debugfs>/hugetlb_vmemmap/shared_frames;
# "0 0 0" without it (the anchor).
shared_frames() {
	awk -v o="${1:-}" 'o == "" || $6 == o { f++; p += $8; t += $10 }
		END { print f + 0, p + 0, t + 0 }' \
		/sys/kernel/debug/hugetlb_vmemmap/shared_frames 2>/dev/null || echo "0 0 0"
}

# bpftrace_stop PID: end bpftrace with SIGINT (it prints its maps on the
# way out) and wait at most 120 s for it: a CI guest once timed out with bpftrace
# still attached after its SIGINT, and a wait without bound lets one stuck
# exit time the whole guest out.  A bpftrace still there is shown (wchan,
# kernel stack) and killed; returns 1.
bpftrace_stop() {
	local i
	kill -INT "$1" 2>/dev/null
	for i in $(seq 1 120); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return 0; }
		sleep 1
	done
	echo "# bpftrace $1 still running 120 s after SIGINT:" \
		"wchan $(cat /proc/"$1"/wchan 2>/dev/null)"
	sed "s/^/# /" /proc/"$1"/stack 2>/dev/null
	# No wait: a bpftrace stuck in the kernel may not die even of SIGKILL.
	kill -KILL "$1" 2>/dev/null
	return 1
}
