#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make check: from a fresh machine to a tested kernel.  Builds our kernel
# (the base plus patches/) with the normal and the debug config, builds the
# hugetlb selftests, and runs them in the guest with HVO on and off.
# Prints TAP and ends with 'N passed, N failed, N skipped'.
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
phase harness-tests "$TOP/scripts/test-harness.sh" >"$BUILD/check/harness.tap" 2>&1 || rc=$?
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

built_selftests=0
for config in $configs; do
	if phase "kernel-$config" "$TOP/scripts/kernel.sh" ours "$config"; then
		record ok "kernel builds ($config config)"
	else
		record "not ok" "kernel builds ($config config)"
		continue
	fi
	if [ $built_selftests = 0 ]; then
		if phase selftests "$TOP/scripts/selftests.sh" ours "$config"; then
			record ok "hugetlb selftests build"
			built_selftests=1
		else
			record "not ok" "hugetlb selftests build"
			break
		fi
	fi
	for hvo in $hvos; do
		run=$config/hvo-$hvo
		out=$BUILD/check/$config-hvo-$hvo
		mkdir -p "$out"
		rc=0
		rm -f "$out/cmd.log" "$out/status"
		OUT=$out KERNEL=ours CONFIG=$config APPEND="hugetlb_free_vmemmap=$hvo" \
			TIMEOUT=${CHECK_TIMEOUT:-1500} \
			CMD="bash $TOP/guest/check.sh $hvo $BUILD/selftests/ours/mm" \
			phase "vm-$config-hvo-$hvo" "$TOP/scripts/vm.sh" >"$out/vm.log" 2>&1 || rc=$?
		# Results the guest printed, then the verdict on the kernel log.
		sed -n 's/^\(not ok\|ok\) [0-9]* \(.*\)/\1|\2/p' "$out/cmd.log" 2>/dev/null |
			while IFS='|' read -r st name; do
				case "$name" in
				*"# SKIP"*) record ok "$run: ${name%% \# SKIP*}" "SKIP ${name#*\# SKIP }" ;;
				*) record "$st" "$run: $name" ;;
				esac
			done
		tail -1 "$out/vm.log" >&2
		# Clean only if vm.sh passed the guest's own status through and
		# the guest printed every result it planned.
		if [ -f "$out/status" ] && [ "$rc" = "$(cat "$out/status")" ] && plan_ok "$out/cmd.log"; then
			record ok "$run: guest ran every test, kernel log clean"
		else
			record "not ok" "$run: guest ran every test, kernel log clean (vm.sh exit $rc, see ${out#$TOP/})"
			grep -A30 'kernel reports\|timed out\|without a status\|error:' "$out/vm.log" | head -40 >&2
		fi
	done
done

pass=$(grep -c '^ok .*' "$results" | tr -d ' ')
skip=$(grep -c '^ok .*# SKIP' "$results" | tr -d ' ')
fail=$(grep -c '^not ok' "$results" | tr -d ' ')
pass=$((pass - skip))
echo
echo "check: $(($(date +%s) - t0))s in all; results in ${results#$TOP/}"
[ "$fail" = 0 ] || { echo "failures:"; grep '^not ok' "$results"; }
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ] && [ "$pass" -gt 0 ]
