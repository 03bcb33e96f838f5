#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a guest booted with "hugetlb_free_vmemmap hugetlb_free_vmemmap=maybe":
# neither is on or off, so each must be warned about by name and leave HVO
# as it was, off (it is opt-in).  Prints TAP.
# bootparam.sh --plan: the name of every result it reports, one a line.
set -u
if [ "${1:-}" = --plan ]; then
	printf '%s\n' hvo_bootparam_warns hvo_bootparam_warns hvo_bootparam_off hvo_bootparam_memmap
	exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
n=0

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n $*"; }

echo "TAP version 13"
echo "# cmdline: $(cat /proc/cmdline)"
for v in "" maybe; do
	msg="hugetlb_free_vmemmap=$v is neither on nor off; vmemmap optimization stays off"
	if dmesg | grep -qF "$msg"; then
		ok "hvo_bootparam_warns: '$msg'"
	else
		not_ok "hvo_bootparam_warns: no '$msg' in the kernel log"
	fi
done

got=$(cat /proc/sys/vm/hugetlb_optimize_vmemmap 2>/dev/null || echo missing)
if [ "$got" = 0 ]; then
	ok "hvo_bootparam_off: vm.hugetlb_optimize_vmemmap=0 after bad values only"
else
	not_ok "hvo_bootparam_off: vm.hugetlb_optimize_vmemmap=$got, want 0"
fi

nr=/proc/sys/vm/nr_hugepages
m0=$(memmap)
echo 8 >$nr
pages=$(cat $nr) m1=$(memmap)
echo 0 >$nr
if [ "$pages" -gt 0 ] && [ "$m0" = "$m1" ]; then
	ok "hvo_bootparam_memmap: $pages pages entered the pool, no vmemmap frame freed"
else
	not_ok "hvo_bootparam_memmap: $pages pages, vmemmap frames $m0 -> $m1"
fi
echo "1..$n"
