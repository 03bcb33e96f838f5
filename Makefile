# SPDX-License-Identifier: GPL-2.0
# HugeTLB Vmemmap Optimization for Linux 6.12: build, boot, test, measure.
#
#   make run     boot our kernel with HVO on and report what it saves
#   make check   build, boot and test (normal and debug config, HVO on and off)
#   make bench   time pool grow/shrink, ours against the anchor (QUICK=1: small)
#
# Other targets: deps base tree export kernel anchor selftests vm proof distro docs ports clean.
# Variables: KERNEL=ours|anchor CONFIG=normal|debug CMD='...' APPEND='...'
#            MEM= SMP= NODES= TIMEOUT= ICOUNT= (see scripts/vm.sh)

KERNEL ?= ours
CONFIG ?= normal
S := scripts
export KERNEL CONFIG CMD APPEND MEM SMP NODES DIMM TIMEOUT ACCEL ICOUNT OUT
export PAGES ROUNDS GIGANTIC TRACE_ROUNDS QUICK BUILD_KERNELS DISTRO_CONFIG
export GIGA_ROUNDS SURPLUS_PAGES BOOT_ROUNDS BOOT_2M BOOT_1G

.PHONY: help run bench check deps base tree export kernel anchor selftests vm proof \
	distro docs ports clean

help:
	@sed -n 's/^#   //p; s/^# \(Other\|Variables\|  *KERNEL\|  *MEM\)/\1/p' Makefile

deps:
	@$(S)/deps.sh

base: deps
	@$(S)/base.sh

tree: base
	@$(S)/tree.sh

export:
	@$(S)/export.sh

# Our kernel (or KERNEL=anchor) with CONFIG=normal|debug.
kernel: deps
	@if [ "$(KERNEL)" = ours ]; then $(S)/tree.sh; else $(S)/base.sh; fi
	@$(S)/kernel.sh $(KERNEL) $(CONFIG)

# The anchor: the pristine base with its own HVO, same config.
anchor: base
	@$(S)/kernel.sh anchor $(CONFIG)

selftests:
	@$(S)/selftests.sh $(KERNEL) $(CONFIG)

vm:
	@$(S)/vm.sh

run: deps
	@$(S)/run.sh

# Ours against the anchor, same config and VM: build/bench/report.md.
bench: deps base
	@$(S)/bench.sh

check:
	@$(S)/check.sh

# The stress test against a scratch kernel with the walker protection out.
proof: tree
	@$(S)/walker-proof.sh

# Debian's own config (linux-config-6.12), W=1 and sparse, HVO on and off,
# for the objects the series changes, against the base's warnings.
distro: tree
	@$(S)/distro.sh

# The pages the series changes, built with the kernel's Sphinx setup.
docs: tree
	@$(S)/docs.sh

# The other architectures the base offered HVO on: riscv64 cross-built and
# booted under QEMU (HVO on and off), loongarch64 selected but not built.
ports: tree
	@$(S)/ports.sh

clean:
	rm -rf build/obj build/anchor/obj build/vm build/check build/run build/selftests build/proof build/bench \
		build/distro build/docs build/docs-base build/ports
