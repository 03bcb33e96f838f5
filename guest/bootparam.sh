#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside a guest booted with "hugetlb_free_vmemmap=maybe hugetlb_free_vmemmap
# hugetlb_free_vmemmap=n hugetlb_free_vmemmap=1 hugetlb_free_vmemmap=off
# hugetlb_free_vmemmap=y": "maybe" is not a boolean, so it must be warned about
# by name and leave HVO as it was, off (it is opt-in); what the base kernel's
# bool parameter took (no value for on, then n, 1, off, y) must be taken
# without a word, the last one (y) winning.  Prints TAP.
# bootparam.sh --plan: the name of every result it reports, one a line.
set -u
if [ "${1:-}" = --plan ]; then
	printf '%s\n' hvo_bootparam_warns hvo_bootparam_bool hvo_bootparam_on \
		hvo_bootparam_memmap
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
echo "1..$n"
