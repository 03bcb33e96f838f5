#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot a built kernel in QEMU, run a shell command inside as root, and exit
# with its status.  The host's root is the guest's root (read-only 9p);
# the run directory is shared read-write at /tmp/out in the guest.
#
# Environment (all optional):
#   CMD      shell command run in the guest (default: uname -a)
#   KERNEL   ours | anchor                      (default ours)
#   CONFIG   normal | debug                     (default normal)
#   APPEND   added to the kernel command line
#   MEM      guest memory in MiB or with G/M suffix (default 3G)
#   SMP      guest CPUs (default 2)
#   NODES    NUMA nodes, memory and CPUs split between them (default 2)
#   DIMM     a memory DIMM of this size (MiB or G/M) on node 0, cold-plugged:
#            the guest adds it through ACPI and can eject it (memory
#            hot-remove); default none
#   TIMEOUT  seconds before the guest is killed (default 1200)
#   IDLE     seconds without console output before the guest is killed
#            (default 0: never; a guest that still prints is making progress)
#   OUT      run directory (default build/vm/KERNEL-CONFIG)
#   ACCEL    kvm | tcg (default: kvm if a probe boot works, else tcg)
#   ICOUNT   1: TCG on one host thread, QEMU's instruction counter as the
#            guest's clock (-icount shift=0,sleep=off): a guest nanosecond is
#            one instruction, and idle time jumps to the next timer.  The
#            kernel's times before its first process measure the work it
#            does and repeat from boot to boot on one QEMU, whatever else
#            loads this host (device I/O can still move them); TCG only
#            (default 0)
#
# Exit status: the command's own status when the guest finished with a clean
# kernel log; 124 when the guest did not finish in time or fell silent; 125 for a kernel
# report (oops, BUG, WARNING, KASAN, lockdep, panic: shown), a guest that
# ended without a status, or bad input.  The guest's status is also left in
# OUT/status, so callers can tell the two apart.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
die() {
	printf 'vm.sh: error: %s\n' "$*" >&2
	exit 125
}

kernel=${KERNEL:-ours} config=${CONFIG:-normal}
case "$kernel" in ours | anchor) ;; *) die "unknown KERNEL='$kernel' (ours or anchor)" ;; esac
case "$config" in normal | debug) ;; *) die "unknown CONFIG='$config' (normal or debug)" ;; esac

[[ "${MEM:-3G}" =~ ^([0-9]{1,6})([GgMm]?)$ ]] || die "bad MEM='${MEM:-}' (e.g. 3G or 2048M)"
mem=$((10#${BASH_REMATCH[1]}))
case "${BASH_REMATCH[2]}" in [Gg]) mem=$((mem * 1024)) ;; esac
[ "$mem" -ge 256 ] || die "bad MEM='${MEM:-}': at least 256M"
smp=${SMP:-2} nodes=${NODES:-2} timeout=${TIMEOUT:-1200} idle=${IDLE:-0}
icount=${ICOUNT:-0}
[[ "$icount" =~ ^[01]$ ]] || die "bad ICOUNT='$icount' (0 or 1)"
[ "$icount" = 0 ] || [ -z "${ACCEL:-}" ] || [ "$ACCEL" = tcg ] ||
	die "ICOUNT=1 runs under TCG, not ACCEL='$ACCEL'"
[[ "$smp" =~ ^[1-9][0-9]*$ ]] || die "bad SMP='$smp'"
[[ "$nodes" =~ ^[1-9][0-9]*$ ]] && [ $((smp % nodes)) = 0 ] ||
	die "bad NODES='$nodes' (SMP=$smp must be a multiple of it)"
[[ "$timeout" =~ ^[1-9][0-9]*$ ]] || die "bad TIMEOUT='$timeout'"
[[ "$idle" =~ ^(0|[1-9][0-9]*)$ ]] || die "bad IDLE='$idle' (seconds, 0 for none)"
image=$(kernel_obj "$kernel" "$config")/arch/x86/boot/bzImage
[ -f "$image" ] || die "no ${image#$TOP/}: build it first (make kernel KERNEL=$kernel CONFIG=$config)"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (run: make deps)"

out=${OUT:-$BUILD/vm/$kernel-$config}
mkdir -p "$out"
out=$(cd "$out" && pwd -P)
check_path "$out"
rm -f "$out"/{status,cmd.log,dmesg,console.log,qemu.pid,idle}
printf '#!/bin/bash\n%s\n' "${CMD:-uname -a}" >"$out/cmd.sh"

# NUMA: split memory (in MiB) and CPUs evenly over the nodes.
numa=()
if [ "$nodes" -gt 1 ]; then
	# One socket per node, so that no cache is shared across nodes.
	per=$((mem / nodes / 2 * 2)) cpn=$((smp / nodes))
	mem=$((per * nodes))
	for ((n = 0; n < nodes; n++)); do
		lo=$((n * cpn)) hi=$((n * cpn + cpn - 1))
		numa+=(-object "memory-backend-ram,id=m$n,size=${per}M"
			-numa "node,nodeid=$n,memdev=m$n,cpus=$lo-$hi")
	done
fi

# A DIMM beside the boot memory, in a slot of its own.
dimm=()
memarg="${mem}M"
if [ -n "${DIMM:-}" ]; then
	[[ "$DIMM" =~ ^([0-9]{1,6})([GgMm]?)$ ]] || die "bad DIMM='$DIMM' (e.g. 512M)"
	dsize=$((10#${BASH_REMATCH[1]}))
	case "${BASH_REMATCH[2]}" in [Gg]) dsize=$((dsize * 1024)) ;; esac
	memarg="${mem}M,slots=1,maxmem=$((mem + dsize))M"
	dimm=(-object "memory-backend-ram,id=dimm0,size=${dsize}M"
		-device "pc-dimm,id=dimm0,memdev=dimm0,node=0")
fi

cmdline="console=ttyS0,115200 root=hostroot rootfstype=9p"
cmdline+=" rootflags=trans=virtio,version=9p2000.L,msize=262144,cache=loose ro"
cmdline+=" init=$TOP/guest/init panic=-1 oops=panic printk.devkmsg=on"
# Under the debug config (the only one with the soft lockup detector) a
# soft lockup shows what every CPU was doing: the one stuck may be waiting
# for another, in an IPI or a lock.
[ "$config" = debug ] && cmdline+=" panic_on_warn=1 softlockup_all_cpu_backtrace=1"
cmdline+=" ${APPEND:-}"

# Kernel reports, in the console (timestamped kernel lines) and in dmesg.
pat='BUG:|Oops|WARNING:|KASAN|UBSAN|Kernel panic|general protection fault|'
pat+='possible (circular|recursive) locking|inconsistent lock state|'
pat+='suspicious RCU usage|detected stalls|INFO: task .* blocked|'
pat+='Unable to handle|kernel BUG|list_(add|del) corruption|Bad page'
kernel_reports() { # FILE: its timestamped kernel lines that report trouble
	grep -aE '^\[ *[0-9]+\.[0-9]+\]' "$1" 2>/dev/null | grep -aE "$pat"
}

# watch RUNDIR IDLE: stop the guest once its console has not grown for IDLE
# seconds (0: never), leaving IDLE in RUNDIR/idle, or 30 s after the kernel
# reported trouble (the run has failed; the 30 s let the report finish).
# Ends with vm.sh; kills only a QEMU of this run.
watch() {
	local size last=-1 since=$SECONDS step=5 reported="" pid
	[ "$2" -gt 0 ] && [ "$2" -lt 20 ] && step=1
	while sleep $step && kill -0 $$ 2>/dev/null; do
		size=$(stat -c %s "$1/console.log" 2>/dev/null || echo 0)
		[ "$size" != "$last" ] && last=$size since=$SECONDS
		if [ -z "$reported" ] && kernel_reports "$1/console.log" >/dev/null; then
			reported=$SECONDS
		fi
		pid=$(cat "$1/qemu.pid" 2>/dev/null) || continue
		case "$(cat "/proc/$pid/comm" 2>/dev/null)" in qemu*) ;; *) continue ;; esac
		if [ "$2" -gt 0 ] && [ $((SECONDS - since)) -ge "$2" ]; then
			echo "$2" >"$1/idle"
			kill "$pid" 2>/dev/null
			return 0
		fi
		if [ -n "$reported" ] && [ $((SECONDS - reported)) -ge 30 ]; then
			kill "$pid" 2>/dev/null
			return 0
		fi
	done
}

watcher=""
trap '[ -z "$watcher" ] || kill "$watcher" 2>/dev/null' EXIT
run_qemu() { # ACCEL TIMEOUT RUNDIR [IDLE]
	local accel=$1 cpu=max rc clock=()
	[ "$accel" = tcg ] && accel=tcg,thread=multi,tb-size=512
	if [ "$icount" = 1 ]; then
		accel=tcg,thread=single,tb-size=512
		clock=(-icount shift=0,align=off,sleep=off)
	fi
	rm -f "$3/qemu.pid" "$3/idle"
	watch "$3" "${4:-0}" &
	watcher=$!
	timeout -k 10 "$2" qemu-system-x86_64 -machine q35 -accel "$accel" "${clock[@]}" -cpu $cpu \
		-m "$memarg" -smp "$smp,sockets=$nodes,cores=$((smp / nodes)),threads=1" \
		"${numa[@]}" "${dimm[@]}" \
		-nodefaults -display none -no-reboot -serial stdio -pidfile "$3/qemu.pid" \
		-kernel "$image" -append "$cmdline" \
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap \
		-device virtio-9p-pci,fsdev=root,mount_tag=hostroot \
		-fsdev local,id=out,path="$3",security_model=none \
		-device virtio-9p-pci,fsdev=out,mount_tag=out \
		</dev/null 2>&1 | tee "$3/console.log"
	rc=${PIPESTATUS[0]}
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	watcher=""
	return "$rc"
}

# KVM hangs at boot on some hosts: use it only after a probe boot (running
# 'true' in a run directory of its own) works.  The verdict is kept per kernel
# image in build/vm/kvm-probe.
accel=${ACCEL:-}
if [ "$icount" = 1 ]; then
	accel=tcg
elif [ -z "$accel" ]; then
	accel=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		probe=$BUILD/vm/kvm-probe
		key=$(cksum <"$image" | cut -d' ' -f1)
		if [ "$(cut -d' ' -f1 "$probe" 2>/dev/null)" != "$key" ]; then
			note "probing KVM with a short boot"
			pdir=$BUILD/vm/probe
			mkdir -p "$pdir" && rm -f "$pdir"/{status,cmd.log,dmesg,console.log}
			printf '#!/bin/bash\ntrue\n' >"$pdir/cmd.sh"
			verdict=tcg
			run_qemu kvm 60 "$pdir" >/dev/null 2>&1 &&
				[ "$(cat "$pdir/status" 2>/dev/null)" = 0 ] && verdict=kvm
			echo "$key $verdict" >"$probe.tmp" && mv "$probe.tmp" "$probe"
		fi
		accel=$(cut -d' ' -f2 "$probe")
	fi
fi
case "$accel" in kvm | tcg) ;; *) die "bad ACCEL='$accel' (kvm or tcg)" ;; esac

how=$accel
[ "$icount" = 0 ] || how+=" icount"
note "booting $kernel-$config ($how, ${mem} MiB, $smp CPUs, $nodes nodes): ${CMD:-uname -a}"
rc=0
run_qemu "$accel" "$timeout" "$out" "$idle" || rc=$?

# The kernel reports found above, in the console and in dmesg.
reports=$( { kernel_reports "$out/console.log" || true;
	grep -aE "$pat" "$out/dmesg" 2>/dev/null || true; } | sort -u | head -20 || true)
if [ -n "$reports" ]; then
	printf '\n%s: kernel reports in the log (%s):\n%s\n' "${0##*/}" "${out#$TOP/}/console.log" "$reports" >&2
	# The first with its call trace (a soft lockup's comes after the
	# registers), then the other CPUs' backtraces if the kernel sent them.
	grep -anE -m1 -A100 "^\[ *[0-9]+\.[0-9]+\].*($pat)" "$out/console.log" >&2 || true
	grep -an -A40 'NMI backtrace for cpu' "$out/console.log" | head -120 >&2 || true
	exit 125
fi
if [ -f "$out/idle" ]; then
	printf '%s: no console output for %ss: the guest was stopped; last console lines:\n' \
		"${0##*/}" "$(cat "$out/idle")" >&2
	tail -20 "$out/console.log" >&2
	exit 124
fi
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	printf '%s: guest timed out after %ss; last console lines:\n' "${0##*/}" "$timeout" >&2
	tail -20 "$out/console.log" >&2
	exit 124
fi
if [ ! -f "$out/status" ]; then
	printf '%s: error: the guest ended without a status (qemu exit %s); last console lines:\n' \
		"${0##*/}" "$rc" >&2
	tail -20 "$out/console.log" >&2
	exit 125
fi
exit "$(cat "$out/status")"
