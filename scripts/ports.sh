#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# ports.sh: the series on the other architectures the base offered HVO on.
#   riscv64:     cross-built (configs/riscv64.config), booted under
#                qemu-system-riscv64 -M virt (TCG) with HVO on and off; its
#                /init (guest/ports-init.c, the kernel's nolibc) frees a 1 GiB
#                page reserved on the command line and grows and shrinks 16
#                pages of 2 MiB, checking /proc/vmstat's memmap.
#   loongarch64: selected in Kconfig (not with both KFENCE and 4-level page
#                tables) but not built: Debian 12
#                has no loongarch64 cross compiler.
# One line per architecture and boot; exits non-zero if one failed.
# Output in build/ports/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t0=$(date +%s)
EXTRA_PKGS="gcc-riscv64-linux-gnu qemu-system-misc" "$TOP/scripts/deps.sh"
src=$(kernel_src ours)
obj=$(kernel_obj ours riscv64)
out=$BUILD/ports
mkdir -p "$out"

"$TOP/scripts/kernel.sh" ours riscv64

# /init: static, no C library; the archive is made by the kernel's own tool.
riscv64-linux-gnu-gcc -Os -static -nostdlib -fno-stack-protector -Wall -Werror \
	-include "$src/tools/include/nolibc/nolibc.h" \
	-o "$out/init-riscv64" "$TOP/guest/ports-init.c" -lgcc
echo "file /init $out/init-riscv64 0755 0 0" >"$out/initramfs-riscv64.list"
"$obj/usr/gen_init_cpio" "$out/initramfs-riscv64.list" >"$out/initramfs-riscv64.cpio"

fails=0
# boot_riscv64 on|off SV [PARAM]: one boot with Sv57 (QEMU's default), Sv48
# (no5lvl) or Sv39 (no4lvl) page tables; prints its line.
boot_riscv64() {
	local hvo=$1 sv=$2 log=$out/riscv64-$2-hvo-$1.log t res bad
	t=$(date +%s)
	timeout 600 qemu-system-riscv64 -M virt -smp 2 -m 3G -nographic \
		-bios default -no-reboot \
		-kernel "$obj/arch/riscv/boot/Image" \
		-initrd "$out/initramfs-riscv64.cpio" \
		-append "console=ttyS0 earlycon=uart8250,mmio,0x10000000 panic=-1 hugetlb_free_vmemmap=$hvo hugepagesz=1G hugepages=1 hugepagesz=2M ${3:-}" \
		</dev/null >"$log" 2>&1 || true
	t=$(($(date +%s) - t))
	res=$(grep -a '^ports-result:' "$log" | tail -1 | tr -d '\r' || true)
	bad=$(grep -a -m1 -E 'BUG:|kernel BUG|WARNING:|Oops|Kernel panic|Bad page|Call Trace' "$log" | tr -d '\r' || true)
	if [ -n "$bad" ]; then
		echo "riscv64 $sv HVO $hvo: FAIL console: $bad (${log#$TOP/}, ${t} s)"
	elif [ "$res" = "ports-result: ok hvo=$hvo 2M=$([ $hvo = on ] && echo 7 || echo 0) 1G=$([ $hvo = on ] && echo 4095 || echo 0)" ]; then
		echo "riscv64 $sv HVO $hvo: ${res#ports-result: ok hvo=$hvo } frames back per page (2 MiB grown at run time, 1 GiB reserved at boot), sysfs counters and read-only tails agree, memmap back to the frame: ok (${t} s)"
		return 0
	else
		echo "riscv64 $sv HVO $hvo: FAIL '${res:-no result line}' (${log#$TOP/}, ${t} s)"
		grep -a '^ports: FAIL' "$log" | tr -d '\r' | sed 's/^/    /' || true
	fi
	fails=$((fails + 1))
}

note "ports: one line per architecture"
boot_riscv64 on Sv57
boot_riscv64 on Sv48 no5lvl
boot_riscv64 on Sv39 no4lvl
boot_riscv64 off Sv57
if grep -qx '	select ARCH_WANT_OPTIMIZE_HUGETLB_VMEMMAP if !KFENCE || !PGTABLE_4LEVEL' "$src/arch/loongarch/Kconfig"; then
	echo "loongarch64: selects ARCH_WANT_OPTIMIZE_HUGETLB_VMEMMAP (not with both KFENCE and 4-level tables), not built: Debian 12 has no loongarch64 cross compiler"
else
	echo "loongarch64: FAIL arch/loongarch/Kconfig does not select ARCH_WANT_OPTIMIZE_HUGETLB_VMEMMAP"
	fails=$((fails + 1))
fi
echo "x86_64: make check"
note "make ports: $(($(date +%s) - t0)) s"
[ $fails = 0 ]
