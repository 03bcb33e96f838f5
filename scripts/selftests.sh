#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# selftests.sh KERNEL [CONFIG]: build the mm selftests of run_vmtests.sh's 'hugetlb'
# category from KERNEL's source (ours or anchor) against the headers that
# kernel's CONFIG (normal) build exported, into build/selftests/KERNEL/mm,
# and guest/hugetlb_client.c into build/selftests/KERNEL/clients.  The list comes from
# run_vmtests.sh itself, so tests a patch adds there are picked up.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${1:-ours} config=${2:-normal}
src=$(kernel_src "$kernel") || die "unknown KERNEL '$kernel' (ours or anchor)"
hdr=$(kernel_obj "$kernel" "$config")/hdr
[ -d "$hdr/include" ] || die "no headers in ${hdr#$TOP/} (build the kernel first)"
mm=$src/tools/testing/selftests/mm
out=$BUILD/selftests/$kernel/mm
mkdir -p "$out"

# Programs and scripts the hugetlb category runs, plus what they call.
tests=$(sed -n 's/^[[:space:]]*CATEGORY="hugetlb" run_test \.\/\([^ ]*\).*/\1/p' \
	"$mm/run_vmtests.sh" | sort -u)
[ -n "$tests" ] || die "no hugetlb tests found in run_vmtests.sh"
progs="write_to_hugetlbfs" files="run_vmtests.sh write_hugetlb_memory.sh"
for t in $tests; do
	case "$t" in
	*.sh) files+=" $t" ;;
	*) progs+=" $t" ;;
	esac
done

note "building hugetlb selftests: $(echo $progs)"
targets=$(for p in $progs; do printf '%s/%s ' "$out" "$p"; done)
make -s -C "$mm" OUTPUT="$out" KHDR_INCLUDES="-isystem $hdr/include" $targets
for f in $files; do
	install -m 0755 "$mm/$f" "$out/$f"
done
cp -f "$mm/../kselftest/ktap_helpers.sh" "$out/" 2>/dev/null || true

# guest/clients.sh's client of libhugetlbfs (libhugetlbfs-dev on the host;
# the guest runs the host's libraries).
mkdir -p "$BUILD/selftests/$kernel/clients"
gcc -O2 -Wall -Wextra -Werror -o "$BUILD/selftests/$kernel/clients/hugetlb_client" \
	"$TOP/guest/hugetlb_client.c" -lhugetlbfs

# The series' bpftrace tool (tools/mm/hugetlb_vmemmap.bt), which
# guest/check.sh runs as an operator would; the anchor has none.
rm -f "$BUILD/selftests/$kernel/hugetlb_vmemmap.bt"
[ ! -f "$src/tools/mm/hugetlb_vmemmap.bt" ] ||
	cp "$src/tools/mm/hugetlb_vmemmap.bt" "$BUILD/selftests/$kernel/"
