#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: from a fresh machine to a tested kernel.  Builds our kernel
# (the base plus patches/) with the normal and the debug config, builds the
# hugetlb selftests, and runs them in the guest with HVO on and off; then
# make bench in its quick mode (our normal kernel only: the anchor's build
# would cost a cold machine a quarter of an hour, make bench compares).
# Prints TAP and ends with 'N passed, N failed, N skipped'.
#
# On 2 cores: the debug kernel builds, niced, while the normal config's
# guests and the quick bench run (they keep their pace, the build takes
# what they leave), and the debug guests run alone.  A guest is stopped when it prints nothing for CHECK_IDLE seconds
# (default 600) or runs CHECK_TIMEOUT seconds (default 2700) in all; every
# test it did not reach then counts as a failure.
#
# CONFIGS (default "normal debug") and HVOS (default "on off") narrow the
# matrix for a quicker local run.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

configs=${CONFIGS:-normal debug} hvos=${HVOS:-on off}
results=$BUILD/check/results.tap
mkdir -p "$BUILD/check"
: >"$results"
t0=$(date +%s)

record() { # STATUS NAME [DIRECTIVE]: add one result line
	echo "$1 - $2${3:+ # $3}" | tee -a "$results"
}

plan_ok() { # TAPFILE: the plan line '1..N' is there and N results precede it
	local plan
	plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$1" 2>/dev/null | tail -1)
	[ -n "$plan" ] && [ "$plan" = "$(grep -c '^\(not \)\?ok [0-9]' "$1")" ]
}

# The series must apply and build before anything runs.
phase deps "$TOP/scripts/deps.sh" || { record "not ok" "host packages installed"; }
rc=0
harness_tests() { "$TOP/scripts/test-harness.sh" >"$BUILD/check/harness.tap" 2>&1; }
phase harness-tests harness_tests || rc=$?
plan_ok "$BUILD/check/harness.tap" && [ $rc = 0 ] ||
	record "not ok" "harness tests ran to their plan (exit $rc)"
sed -n 's/^\(not ok\|ok\) [0-9]* \(.*\)/\1|\2/p' "$BUILD/check/harness.tap" |
	while IFS='|' read -r st name; do
		case "$name" in
		*"# SKIP"*) record ok "harness: ${name%% \# SKIP*}" "SKIP ${name#*\# SKIP }" ;;
		*) record "$st" "harness: $name" ;;
		esac
	done
grep '^not ok' -A5 "$BUILD/check/harness.tap" >&2 || true

if phase tree "$TOP/scripts/tree.sh"; then
	record ok "series applies to the base"
else
	record "not ok" "series applies to the base"
	configs=""
fi

# Kernel builds go to a log each; the build of the next config runs in the
# background while the guests of the current one run (2 cores: a build and
# a TCG guest overlap well, and CI's clock is what counts).
build_start() { # CONFIG [KERNEL]: start its build in the background, niced
	# so that the guests beside it keep their pace (lockdep and RCU stall
	# detectors watch their clocks)
	local kernel=${2:-ours}
	(phase "kernel-$kernel-$1" nice -n 10 "$TOP/scripts/kernel.sh" "$kernel" "$1" \
		>"$BUILD/check/kernel-$kernel-$1.log" 2>&1) &
	build_pid=$!
}
build_wait() { # CONFIG [KERNEL]: wait for its build and record the verdict
	local rc=0 kernel=${2:-ours} what=$1
	[ "$kernel" = ours ] || what="$kernel kernel, $1"
	wait "$build_pid" || rc=$?
	grep '^==> phase' "$BUILD/check/kernel-$kernel-$1.log" >&2
	if [ $rc = 0 ]; then
		record ok "kernel builds ($what config)"
	else
		tail -30 "$BUILD/check/kernel-$kernel-$1.log" >&2
		record "not ok" "kernel builds ($what config, see build/check/kernel-$kernel-$1.log)"
	fi
	return $rc
}

guest_start() { # CONFIG HVO: start one guest run of guest/check.sh, or for
	# HVO=bad of guest/bootparam.sh with values that are not booleans, then
	# the bool forms, a HugeTLB CMA area on node 0 (8 GiB: node 0 then has
	# a free, 1 GiB aligned gigabyte above 4 GiB, below its own pgdat) and a
	# DIMM to hot-remove;
	# its plan (every result it should report) goes to OUT/plan first
	local config=$1 hvo=$2 out=$BUILD/check/$1-hvo-$2
	# cma=: an area for hugetlb_vmemmap_hvo's CMA door test (cma_replace_*)
	local append="hugetlb_free_vmemmap=$hvo cma=256M"
	local args="$hvo $BUILD/selftests/ours/mm $config" script=$TOP/guest/check.sh
	# 6 GiB for the normal config, a gigabyte of node 1's in a HugeTLB CMA
	# area (hugetlb_cma=1:1G; node 0 has no free aligned gigabyte for one
	# once cma= took 4 GiB up): the kselftest then always has a 1 GiB page
	# to allocate at run time and asserts its figures (4095 of 4096
	# frames, the shared PTE table); without the area, a gigabyte free of
	# unmovable and pool pages was there in some runs and not in others,
	# and guest/check.sh fails a run whose 1 GiB cases do not pass.  The debug
	# config's guests keep vm.sh's 3 GiB (KASAN, lockdep: slower) and skip
	# those cases.
	local mem=${MEM:-} dimm=
	if [ "$config" = normal ]; then
		mem=${MEM:-6G}
		append+=" hugetlb_cma=1:1G"
	fi
	if [ "$hvo" = bad ]; then
		append="hugetlb_free_vmemmap=maybe hugetlb_free_vmemmap hugetlb_free_vmemmap=n"
		append+=" hugetlb_free_vmemmap=1 hugetlb_free_vmemmap=off hugetlb_free_vmemmap=y"
		append+=" hugetlb_cma=0:1G memhp_default_state=online_movable"
		args="" script=$TOP/guest/bootparam.sh mem=8G dimm=512M
	fi
	mkdir -p "$out"
	rm -f "$out/cmd.log" "$out/status" "$out/rc"
	bash "$script" --plan $args >"$out/plan" ||
		record "not ok" "$config/hvo-$hvo: the guest script's plan (${script#$TOP/} --plan)"
	(
		rc=0
		OUT=$out KERNEL=ours CONFIG=$config APPEND="$append" MEM=$mem DIMM=$dimm \
			TIMEOUT=${CHECK_TIMEOUT:-2700} IDLE=${CHECK_IDLE:-600} CMD="bash $script $args" \
			phase "vm-$config-hvo-$hvo" "$TOP/scripts/vm.sh" >"$out/vm.log" 2>&1 || rc=$?
		echo $rc >"$out/rc"
	) &
	guest_pids+=($!)
}

guest_pids=() failed_guests=()
wait_guests() { # wait for the guests only, not for a kernel build
	[ ${#guest_pids[@]} -eq 0 ] || wait "${guest_pids[@]}"
	guest_pids=()
}

guest_collect() { # CONFIG HVO: record the results of a finished guest run,
	# a failure for each planned test it did not reach
	local config=$1 hvo=$2 run=$1/hvo-$2 out=$BUILD/check/$1-hvo-$2 rc
	rc=$(cat "$out/rc" 2>/dev/null || echo 125)
	grep '^==> phase' "$out/vm.log" >&2
	"$TOP/scripts/guest-results.sh" "$out/plan" "$out/cmd.log" |
		while IFS='|' read -r st name why; do
			case "$st" in
			skip) record ok "$run: $name" "SKIP $why" ;;
			*) record "$st" "$run: $name" ;;
			esac
		done
	[ "${PIPESTATUS[0]}" = 0 ] || record "not ok" "$run: results matched against the plan"
	# Clean only if vm.sh passed the guest's own status through (no kernel
	# report, no timeout) and the guest printed every result it planned.
	local verdict="$run: guest ran every test, kernel log clean"
	if [ -f "$out/status" ] && [ "$rc" = "$(cat "$out/status")" ] && plan_ok "$out/cmd.log"; then
		record ok "$verdict"
	else
		record "not ok" "$verdict (vm.sh exit $rc, see ${out#$TOP/})"
		failed_guests+=("$out")
	fi
}

run_guests() { # CONFIG: the HVO settings' guests run side by side (TCG
	# guests use about one core each), then their results in order.
	local hvo
	for hvo in $hvos; do
		guest_start "$1" "$hvo"
	done
	wait_guests
	for hvo in $hvos; do
		guest_collect "$1" "$hvo"
	done
	# The boot parameter's bad values: one short boot, normal config only.
	if [ "$1" = normal ]; then
		guest_start normal bad
		wait_guests
		guest_collect normal bad
	fi
}

# make bench in its quick mode, our normal kernel only, after the normal
# guests (the debug kernel still building).  It asserts that the benchmark
# runs and reports, not figures; the anchor's figures read n/a.
bench_quick() {
	local log=$BUILD/check/bench.log rc=0 k line
	rm -f "$BUILD/bench/summary.txt"
	BENCH_ANCHOR=0 BUILD_KERNELS=0 QUICK=1 phase bench-quick "$TOP/scripts/bench.sh" >"$log" 2>&1 || rc=$?
	grep '^==> phase' "$log" >&2
	line=$(cat "$BUILD/bench/summary.txt" 2>/dev/null)
	# The doors the quick run measures: surplus faults, a 2 MiB pool on the
	# command line (also under the instruction clock), the first grow (its
	# guests are too small for 1 GiB pages).
	for k in grow_on_off shrink_on_off frames_per_2m surplus_fault_on_off boot_2m_on_off \
		boot_2m_icount_on_off first_grow_on_off; do
		echo " $line " | grep -qE " $k=[0-9]+(\.[0-9]+)? " || rc="$rc, no $k"
	done
	for k in anchor_grow_on_off anchor_shrink_on_off ours_vs_anchor_grow_on \
		ours_vs_anchor_shrink_on frames_per_1g pte_per_1g anchor_frames_per_2m anchor_frames_per_1g \
		anchor_pte_per_1g giga_grow_on_off anchor_giga_grow_on_off giga_shrink_on_off \
		anchor_giga_shrink_on_off anchor_boot_2m_on_off boot_1g_on_off anchor_boot_1g_on_off \
		anchor_boot_2m_icount_on_off giga_grow_icount_on_off anchor_giga_grow_icount_on_off \
		giga_shrink_icount_on_off anchor_giga_shrink_icount_on_off \
		anchor_surplus_fault_on_off anchor_first_grow_on_off; do
		echo " $line " | grep -qE " $k=([0-9]+(\.[0-9]+)?|n/a) " || rc="$rc, no $k"
	done
	if [ "$rc" = 0 ]; then
		record ok "bench (quick): our kernel measured, summary: $line"
	else
		tail -20 "$log" >&2
		record "not ok" "bench (quick): our kernel measured (exit $rc, see build/check/bench.log)"
	fi
	if grep -q '^@optimize_folio:' "$BUILD/bench/ours/bpftrace-on.txt" 2>/dev/null &&
		grep -q '^@restore_folio:' "$BUILD/bench/ours/bpftrace-on.txt"; then
		record ok "bench (quick): bpftrace histograms of optimize and restore"
	else
		record "not ok" "bench (quick): bpftrace histograms of optimize and restore (see build/bench/ours)"
	fi
	# Our whole calls from the trace events (tools/mm/hugetlb_vmemmap.bt).
	if grep -q '^@optimize_calls_ns\[9, 1\]: count [1-9]' "$BUILD/bench/ours/bpftrace-on.txt" 2>/dev/null &&
		grep -q '^@restore_calls_ns\[9, 1\]: count [1-9]' "$BUILD/bench/ours/bpftrace-on.txt"; then
		record ok "bench (quick): optimize and restore calls from the trace events"
	else
		record "not ok" "bench (quick): optimize and restore calls from the trace events (see build/bench/ours)"
	fi
}

set -- $configs
[ $# -gt 0 ] && build_start "$1"
selftests=""
while [ $# -gt 0 ]; do
	config=$1
	shift
	if ! build_wait "$config"; then
		[ $# -gt 0 ] && build_start "$1"
		continue
	fi
	if [ -z "$selftests" ]; then
		selftests=fail
		if phase selftests "$TOP/scripts/selftests.sh" ours "$config"; then
			record ok "hugetlb selftests build"
			selftests=ok
		else
			record "not ok" "hugetlb selftests build"
		fi
	fi
	[ $# -gt 0 ] && build_start "$1"
	[ "$selftests" = ok ] || continue
	run_guests "$config"
	[ "$config" = normal ] && bench_quick
done

pass=$(grep -c '^ok .*' "$results" | tr -d ' ')
skip=$(grep -c '^ok .*# SKIP' "$results" | tr -d ' ')
fail=$(grep -c '^not ok' "$results" | tr -d ' ')
pass=$((pass - skip))
echo
echo "check: $(($(date +%s) - t0))s in all; results in ${results#$TOP/}"
[ "$fail" = 0 ] || { echo "failures:"; grep '^not ok' "$results"; }
# What stopped a failed guest, with the kernel's report and its call trace
# (vm.sh printed them): last, where an excerpt of this output's end shows it.
for out in "${failed_guests[@]}"; do
	echo "${out#$TOP/}/vm.log:"
	excerpt=$(sed -n '/^vm\.sh: \(kernel reports in the log\|guest timed out after\|no console output\|error: \)/,$p' \
		"$out/vm.log" | head -250)
	[ -n "$excerpt" ] || excerpt=$(tail -40 "$out/vm.log")
	printf '%s\n' "$excerpt"
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
