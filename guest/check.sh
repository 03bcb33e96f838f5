#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the guest: check.sh HVO SELFTESTS_DIR CONFIG
#   HVO: on | off, what the kernel was booted with (hugetlb_free_vmemmap=)
#   CONFIG: normal | debug, the kernel's config (which selftests run)
# Prints TAP.  Harness checks first, then run_vmtests.sh -t hugetlb -d.
#
# check.sh --plan HVO SELFTESTS_DIR CONFIG prints the name of every result
# such a run reports, one a line, and runs nothing: the host compares a
# guest's results with it, so a test the guest never reached counts as a
# failure (scripts/guest-results.sh).  check.sh --vmtests HVO SELFTESTS_DIR
# CONFIG prints run_vmtests.sh as that config runs it (harness tests).
set -u
. "$(dirname "$0")/clients.sh"
plan=""
case "${1:-}" in --plan | --vmtests) plan=$1 && shift ;; esac
hvo=$1 stdir=$2 config=${3:-normal}
here=$(cd "$(dirname "$0")" && pwd)
n=0 fails=0

# Under the debug config (KASAN, lockdep, DEBUG_PAGEALLOC: 3 to 10 times
# slower under TCG) the selftests that exercise the vmemmap or a door of the
# pool run: the series' own (grow, shrink, demote, surplus, poison, memory
# offline, restore failure, pfn walkers), hugepage-vmemmap (struct pages of
# a page in use), soft-offline and read-hwpoison (pages leaving the pool by
# dissolution).  The normal config's guests run every hugetlb selftest.
debug_selftests="hugepage-vmemmap hugetlb_vmemmap_hvo hugetlb_vmemmap_restore_fail.sh
	hugetlb_vmemmap_stress.sh hugetlb-soft-offline hugetlb-read-hwpoison"

# The normal config's two guests run side by side.  hugetlb_fault_after_madv
# (10000 rounds of two threads racing a fault against MADV_DONTNEED on one
# page, silent throughout) took 126 s in one TCG guest and over 500 s in each
# of two running it at once (every madvise an IPI to a vCPU the host may not
# be running): it runs in the HVO-on guest only.  It does not touch the
# vmemmap: its pool is one page.
hvo_on_only="hugetlb_fault_after_madv"

# The selftests this guest leaves to another: under the debug config those
# not in debug_selftests, in the normal config's HVO-off guest hvo_on_only.
left_to_others() {
	if [ "$config" = debug ]; then
		vmtests_names "$1" | awk -v keep=" $(echo $debug_selftests) " \
			'index(keep, " " $1 " ") == 0 { print $1 }'
	elif [ "$hvo" != on ]; then
		echo $hvo_on_only | tr ' ' '\n'
	fi
}

# vmtests_for_config FILE: run_vmtests.sh as this guest runs it: each hugetlb
# test it leaves to another guest becomes a no-op.
vmtests_for_config() {
	awk -v skip=" $(echo $(left_to_others "$1")) " '
	/^[[:space:]]*CATEGORY="hugetlb" run_test \.\// {
		t = $3; sub(/^\.\//, "", t)
		if (index(skip, " " t " ") != 0) { print ": run in another guest: " t; next }
	}
	{ print }' "$1"
}

# The hugetlb selftests of run_vmtests.sh FILE, named as its TAP lines name
# them (blanks squeezed, as its unquoted echo does).
vmtests_names() {
	sed -n 's/^[[:space:]]*CATEGORY="hugetlb" run_test \.\/\(.*\)$/\1/p' "$1" |
		tr -s ' \t' '  ' | sed 's/ $//'
}

in_debug_selftests() { # NAME (with arguments)
	case " $(echo $debug_selftests) " in *" ${1%% *} "*) return 0 ;; esac
	return 1
}

if [ "$plan" = --vmtests ]; then
	vmtests_for_config "$stdir/run_vmtests.sh"
	exit
elif [ -n "$plan" ]; then
	printf '%s\n' hvo_sysctl hvo_memmap hvo_memmap_restore hvo_memmap_node \
		hvo_tracepoints hvo_bpftrace_tool hvo_restore_struct_pages
	clients_plan
	vmtests_names "$stdir/run_vmtests.sh" | sed 's|^|selftests/mm/|'
	exit 0
fi
. "$here/lib.sh"

ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP $2"; }

hpage_kb=$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)
# Frame 0 of a page's struct pages is kept (64-byte struct page assumed),
# the rest freed with HVO on; they map a frame of tails shared by the pool
# pages of one order in one zone, counted once.
psz=$(getconf PAGESIZE)
frames=$((hpage_kb * 1024 / psz * 64 / psz))
order=$(awk -v n=$((hpage_kb * 1024 / psz)) 'BEGIN { while (2 ^ o < n) o++; print o }')
want=$((frames > 1 ? frames - 1 : 0))
[ "$hvo" = on ] || want=0

echo "TAP version 13"
echo "# kernel: $(uname -r), cmdline: $(cat /proc/cmdline)"

# 1. The boot parameter and the sysctl agree with what was asked.
sysctl=/proc/sys/vm/hugetlb_optimize_vmemmap
if [ ! -e "$sysctl" ]; then
	if [ "$hvo" = on ]; then
		not_ok "hvo_sysctl: $sysctl missing with hugetlb_free_vmemmap=on"
	else
		skip hvo_sysctl "$sysctl missing (kernel without HVO)"
	fi
else
	on=0
	[ "$hvo" = on ] && on=1
	got=$(cat $sysctl)
	if [ "$got" = "$on" ]; then
		ok "hvo_sysctl: vm.hugetlb_optimize_vmemmap=$got with hugetlb_free_vmemmap=$hvo"
	else
		not_ok "hvo_sysctl: vm.hugetlb_optimize_vmemmap=$got, want $on"
	fi
fi

# One grow and shrink of a pool of default-size huge pages serves 2 and 3.
nr=/proc/sys/vm/nr_hugepages
saved=$(cat $nr)
echo 0 >$nr
m0=$(memmap) s0=$(shared_frames "$order")
s0=${s0% *}
echo 64 >$nr
got_pages=$(cat $nr)
m1=$(memmap) s1=$(shared_frames "$order")
s1=${s1% *}
python3 "$here/tails.py" heads >/tmp/heads
python3 "$here/tails.py" zones /tmp/heads >/tmp/zones
echo 0 >$nr
m2=$(memmap) s2=$(shared_frames "$order")
s2=${s2% *}
python3 "$here/tails.py" stale /tmp/heads $((hpage_kb * 1024 / $(getconf PAGESIZE))) >/tmp/stale
echo "$saved" >$nr

# 2. Growing the pool frees vmemmap frames with HVO on and none with it off;
#    shrinking gives every frame back.
if [ -z "$m0" ] || [ -z "$m1" ] || [ -z "$m2" ]; then
	not_ok "hvo_memmap: /proc/vmstat lacks nr_memmap_pages or nr_memmap_boot_pages"
	not_ok "hvo_memmap_restore: nothing measured"
elif [ "$got_pages" -lt 1 ]; then
	not_ok "hvo_memmap: could not allocate any $hpage_kb kB page"
	not_ok "hvo_memmap_restore: nothing measured"
else
	freed=$((m0 - m1))
	nzones=$(wc -l </tmp/zones)
	shared=${s1% *} mapping=${s1#* }
	want_shared=$nzones want_mapping=$got_pages
	[ "$hvo" = on ] || want_shared=0 want_mapping=0
	echo "# $got_pages x $hpage_kb kB pages in $nzones zones ($(paste -sd, /tmp/zones)): vmemmap frames $m0 -> $m1 -> $m2, $((freed + shared)) freed and $shared shared ($frames frames per page); shared frames and their pages: $s0 -> $s1 -> $s2"
	if [ "$s0" = "0 0" ] && [ "$shared" = "$want_shared" ] &&
		[ "$mapping" = "$want_mapping" ] &&
		[ "$freed" = $((want * got_pages - shared)) ]; then
		ok "hvo_memmap: $want of $frames vmemmap frames freed per huge page with HVO $hvo, $shared shared frames for $nzones zones"
	else
		not_ok "hvo_memmap: $freed frames freed for $got_pages pages with HVO $hvo, shared frames $s0 -> $s1 (want $want per page less $want_shared shared, mapped by $want_mapping pages)"
	fi
	if [ "$m2" = "$m0" ] && [ "$s2" = "0 0" ]; then
		ok "hvo_memmap_restore: every vmemmap frame back after shrinking the pool, no shared frame left"
	else
		not_ok "hvo_memmap_restore: vmemmap frames $m0 before, $m2 after grow and shrink, shared frames $s2 left"
	fi
fi

# 2b. The per-node door: pages added through the last node's own pool.
node_nr=$(ls -d /sys/devices/system/node/node*/hugepages/hugepages-"${hpage_kb}"kB 2>/dev/null | tail -1)
if [ -z "$node_nr" ]; then
	skip hvo_memmap_node "no per-node pool of $hpage_kb kB pages"
else
	node_nr=$node_nr/nr_hugepages
	n0=$(cat "$node_nr") m0=$(memmap) s0=$(shared_frames "$order")
	echo $((n0 + 8)) >"$node_nr"
	added=$(($(cat "$node_nr") - n0)) m1=$(memmap) s1=$(shared_frames "$order")
	echo "$n0" >"$node_nr"
	m2=$(memmap) s2=$(shared_frames "$order")
	s0=${s0% *} s1=${s1% *} s2=${s2% *}
	new=$((${s1% *} - ${s0% *}))
	echo "# ${node_nr%/hugepages/*}: $added pages added, vmemmap frames $m0 -> $m1 -> $m2, shared frames and their pages $s0 -> $s1 -> $s2"
	if [ "$added" -gt 0 ] && [ $((m0 - m1)) = $((want * added - new)) ] &&
		[ "$m2" = "$m0" ] && [ "$s2" = "$s0" ]; then
		ok "hvo_memmap_node: $want frames freed per page added through a node's pool, all back"
	else
		not_ok "hvo_memmap_node: $added pages, frames $m0 -> $m1 -> $m2, want $want freed per page"
	fi
fi

# 2c. The tracepoints (include/trace/events/hugetlb_vmemmap.h), through
#     tracefs: a grow of 16 pages and its shrink give one optimize_folio
#     event per page with its frames given back and one restore_folio event
#     per page with as many taken (none with HVO off), and each call's
#     begin and end events, whose counts agree with the folio events.
tr=/sys/kernel/tracing
[ -d $tr/events ] || mount -t tracefs none $tr 2>/dev/null
if [ ! -d $tr/events/hugetlb_vmemmap ]; then
	not_ok "hvo_tracepoints: no $tr/events/hugetlb_vmemmap"
else
	saved=$(cat $nr) tracing_on=$(cat $tr/tracing_on)
	echo 0 >$nr
	echo 0 >$tr/tracing_on
	echo >$tr/trace
	echo 1 >$tr/events/hugetlb_vmemmap/enable
	echo 1 >$tr/tracing_on
	echo 16 >$nr
	tp_pages=$(cat $nr)
	echo 0 >$nr
	echo 0 >$tr/tracing_on
	echo 0 >$tr/events/hugetlb_vmemmap/enable
	echo "$saved" >$nr
	# Per event of this order "count/frames/nr/done/errors": how many,
	# the sums of their frames, nr and done fields, how many had ret != 0.
	tp=$(awk -v order="order=$order" '/ hugetlb_vmemmap_[a-z_]*:/ && $0 ~ (" " order "( |$)") {
			ev = $0; sub(/.* hugetlb_vmemmap_/, "", ev); sub(/:.*/, "", ev)
			c[ev]++
			for (i = 1; i <= NF; i++) {
				split($i, kv, "=")
				if (kv[1] == "frames") f[ev] += kv[2]
				if (kv[1] == "nr") n[ev] += kv[2]
				if (kv[1] == "done") d[ev] += kv[2]
				if (kv[1] == "ret" && kv[2] != 0) e[ev]++
			}
		}
		END {
			split("optimize_folio restore_folio optimize_begin optimize_end restore_begin restore_end", evs, " ")
			for (i = 1; i <= 6; i++)
				printf "%s=%d/%d/%d/%d/%d ", evs[i], c[evs[i]], f[evs[i]], n[evs[i]], d[evs[i]], e[evs[i]]
		}' $tr/trace)
	echo >$tr/trace
	echo "$tracing_on" >$tr/tracing_on
	echo "# tracepoints (event=count/frames/nr/done/errors) for $tp_pages x $hpage_kb kB pages grown and shrunk with HVO $hvo: $tp"
	# What they must read, K and R the numbers of optimize and restore
	# calls (each at least 1; no optimize call with HVO off): with HVO on,
	# every page optimized then restored, its frames given back then
	# taken; with it off, restore calls that restore nothing.
	P=$tp_pages
	if [ "$hvo" = on ]; then
		want_tp="optimize_folio=$P/$((P * want))/0/0/0 restore_folio=$P/$((P * want))/0/0/0"
		want_tp+=" optimize_begin=K/0/0/0/0 optimize_end=K/0/$P/$P/0"
		want_tp+=" restore_begin=R/0/0/0/0 restore_end=R/0/$P/$P/0"
	else
		want_tp="optimize_folio=0/0/0/0/0 restore_folio=0/0/0/0/0"
		want_tp+=" optimize_begin=0/0/0/0/0 optimize_end=0/0/0/0/0"
		want_tp+=" restore_begin=R/0/0/0/0 restore_end=R/0/$P/0/0"
	fi
	K=$(echo "$tp" | sed -n 's/.*optimize_begin=\([0-9]*\)\/.*/\1/p')
	R=$(echo "$tp" | sed -n 's/.*restore_begin=\([0-9]*\)\/.*/\1/p')
	if [ "$P" -gt 0 ] && [ "${R:-0}" -ge 1 ] && { [ "$hvo" = off ] || [ "${K:-0}" -ge 1 ]; } &&
		[ "$tp" = "$(echo "$want_tp " | sed "s/=K\//=$K\//g; s/=R\//=$R\//g")" ]; then
		ok "hvo_tracepoints: $P pages grown and shrunk with HVO $hvo: one optimize_folio and one restore_folio event per optimized page, with its frames; $K optimize and $R restore calls, their begin and end events paired"
	else
		not_ok "hvo_tracepoints: $P pages with HVO $hvo: $tp, want $want_tp"
	fi
fi

# 2d. The series' bpftrace tool (tools/mm/hugetlb_vmemmap.bt) run as an
#     operator would, around a grow and shrink of 16 pages: the frames it
#     sums are those the pages gave back and took, and it times the calls.
tool=$(dirname "$stdir")/hugetlb_vmemmap.bt
if [ ! -f "$tool" ]; then
	not_ok "hvo_bpftrace_tool: no $tool (make selftests)"
elif [ "$config" = debug ]; then
	skip hvo_bpftrace_tool "the debug config leaves out BPF (bpftrace runs in the normal config's guests)"
else
	saved=$(cat $nr)
	# Twice at most: now and then bpftrace sits in epoll_wait() past its
	# SIGINT (bpftrace_stop() kills it after 120 s) and prints nothing.
	for attempt in 1 2; do
		echo 0 >$nr
		(cd /tmp && exec bpftrace "$tool" >/tmp/tool.out 2>&1) &
		tool_pid=$!
		for i in $(seq 1 120); do
			grep -q 'Hit Ctrl-C' /tmp/tool.out 2>/dev/null && break
			kill -0 $tool_pid 2>/dev/null || break
			sleep 1
		done
		echo 16 >$nr
		tool_pages=$(cat $nr)
		echo 0 >$nr
		echo "$saved" >$nr
		bpftrace_stop $tool_pid && break
		echo "# hvo_bpftrace_tool: attempt $attempt: bpftrace did not stop on SIGINT"
	done
	sed 's/^/# tool: /' /tmp/tool.out | grep -v '^# tool: *$' | head -60
	tool_map() { # MAP: its value for this order, 0 if not printed
		awk -v k="@$1[$order]:" '$1 == k { v = $2 } END { print v + 0 }' /tmp/tool.out
	}
	given=$(tool_map frames_given_back) taken=$(tool_map frames_taken)
	# One batch each way: the histograms keyed [order, 1].
	calls=$(grep -c "^@optimize_call_us\[$order, 1\]:\|^@restore_call_us\[$order, 1\]:" /tmp/tool.out)
	tool_fails=$(grep -c '^@\(optimize\|restore\)_failed' /tmp/tool.out)
	no_restore=$(tool_map restore_no_pages)
	if ! grep -q 'Hit Ctrl-C' /tmp/tool.out; then
		not_ok "hvo_bpftrace_tool: it did not start: $(head -3 /tmp/tool.out | tr '\n' ' ')"
	elif [ "$tool_pages" -lt 1 ] || [ "$given" != $((tool_pages * want)) ] ||
		[ "$taken" != "$given" ] || [ "$tool_fails" != 0 ]; then
		not_ok "hvo_bpftrace_tool: $tool_pages pages: frames given back $given, taken $taken, failures $tool_fails (want $((tool_pages * want)) each, none)"
	elif [ "$hvo" = on ] && [ "$calls" != 2 ]; then
		not_ok "hvo_bpftrace_tool: $calls of the optimize and restore latency histograms printed, want 2"
	elif [ "$hvo" = off ] && { [ "$calls" != 0 ] || [ "$no_restore" -lt 1 ]; }; then
		not_ok "hvo_bpftrace_tool: HVO off: $calls latency histograms, $no_restore restore calls without pages (want 0 and at least 1)"
	else
		ok "hvo_bpftrace_tool: $tool_pages pages grown and shrunk with HVO $hvo: the tool sums $given frames given back and $taken taken, its latency histograms $calls"
	fi
fi

# 3. Once the pool is empty, no struct page of a former huge page still
#    reads as hugetlb, as a compound head without tails, or as a tail with
#    no head or tail before it: restore rebuilt genuine struct pages
#    (copying the head's vmemmap frame into the tail frames does not) and
#    the free path took every tail apart.  Only 2 MiB-class pools are used here, so with the
#    default pool at 0 no page of the system may read as hugetlb.
nheads=$(wc -l </tmp/heads)
if [ "$nheads" -lt 1 ]; then
	not_ok "hvo_restore_struct_pages: no hugetlb head page found in /proc/kpageflags"
elif [ -s /tmp/stale ]; then
	not_ok "hvo_restore_struct_pages: $(wc -l </tmp/stale) struct pages of $nheads freed huge pages still read as hugetlb, a lone head or an orphan tail (first pfn $(head -1 /tmp/stale))"
else
	ok "hvo_restore_struct_pages: $nheads huge pages freed, every struct page reads as a plain page"
fi

# 3b. The pool through libhugetlbfs's tools and library (guest/clients.sh).
CLIENT=$(dirname "$stdir")/clients/hugetlb_client
clients_run

# 4. The selftests of run_vmtests.sh's hugetlb category (destructive ones
#    included: soft-offline and hwpoison), on a writable copy; under the
#    debug config, those of debug_selftests.
if ! cp -a "$stdir" /tmp/mm || ! cd /tmp/mm ||
	! vmtests_for_config "$stdir/run_vmtests.sh" >run_vmtests.sh; then
	not_ok "selftests: cannot copy $stdir"
	echo "1..$n"
	exit 1
fi
# Tests that fail on the pristine 6.12 base for reasons that are not HVO's,
# with the reason; they count as skips, and a pass is reported as it is.
known_failure() {
	case "$1" in
	"hugetlb-read-hwpoison # exit=135")
		echo "fails on the 6.12 base, HVO on or off: madvise(MADV_HWPOISON) sends SIGBUS (BUS_MCEERR_AR) to the caller (mm/madvise.c passes MF_ACTION_REQUIRED) and the test has no handler" ;;
	*) return 1 ;;
	esac
}

# gigantic_missing TEST: under the normal config, why the 1 GiB cases of
# TEST (the series' kselftest) did not all pass, one line; fails if they
# did (or for another test or config).  That config's guests are sized and
# booted (hugetlb_cma=) to run them: a skip, or no 1 GiB result at all,
# would let the test pass with nothing measured on 1 GiB pages.
gigantic_missing() {
	[ "$config" = normal ] && [ "$1" = hugetlb_vmemmap_hvo ] || return 1
	[ -d /sys/kernel/mm/hugepages/hugepages-1048576kB ] || return 1
	awk -v t="$1" '$0 ~ "^# running \\./" t "( |$)" { on = 1; next }
		/^# running / { on = 0 }
		!on || !/^# (not )?ok [0-9]+ .*_1048576kB/ { next }
		{ n++ }
		/^# ok [0-9]+ [a-z_]+_1048576kB[[:space:]]*$/ { pass++; next }
		{ sub(/^# /, ""); printf "%s%s", sep, $0; sep = "; " }
		END {
			if (n == 0) printf "no 1 GiB result"
			exit (n > 0 && pass == n)
		}' /tmp/vmtests.log
}

# vmtest_result LINE: report a TAP line of run_vmtests.sh as ours.
vmtest_result() {
	local t why
	t=$(echo "$1" | sed 's/^\(not \)\?ok [0-9]* //')
	if [ "${1#ok }" != "$1" ] && why=$(gigantic_missing "${t%% \#*}"); then
		not_ok "selftests/mm/${t%% \#*}: its 1 GiB cases did not all pass in a guest sized for them: $why"
		return
	fi
	case "$1" in
	"not ok "*)
		if why=$(known_failure "$t"); then
			skip "selftests/mm/${t%% \#*}" "$why"
		else
			not_ok "selftests/mm/$t"
		fi ;;
	*"# SKIP"*)
		# Say why: the test's own last words before [SKIP].
		why=$(grep -B3 "running ./${t%% *}" -A40 /tmp/vmtests.log | grep -m1 -i 'skip\|not \|no ' | sed 's/^# //')
		skip "selftests/mm/${t%% \# SKIP*}" "${why:-skipped by the test}" ;;
	*) ok "selftests/mm/$t" ;;
	esac
}

if [ "$config" = debug ]; then
	while IFS= read -r t; do
		in_debug_selftests "$t" ||
			skip "selftests/mm/$t" "not under the debug config: it runs in the normal config's guests"
	done < <(vmtests_names "$stdir/run_vmtests.sh")
elif [ "$hvo" != on ]; then
	for t in $hvo_on_only; do
		skip "selftests/mm/$t" "runs in the HVO-on guest (two TCG guests running it at once take 4x as long)"
	done
fi
# Each test's start is stamped with the seconds since the run began.  Each
# line goes to the console as it comes (stdbuf: line-buffered down to the
# tests and run_vmtests.sh's sed), the TAP results as ours, the rest as
# comments: vm.sh stops a guest that prints nothing for a while.
t0=$(date +%s)
: >/tmp/vmtests.log
while IFS= read -r l; do
	case "$l" in
	"# running "*) l="$l (at $(($(date +%s) - t0)) s)" ;;
	esac
	echo "$l" >>/tmp/vmtests.log
	case "$l" in
	"ok "* | "not ok "*) vmtest_result "$l" ;;
	"#"*) echo "$l" ;;
	*) echo "# $l" ;;
	esac
done < <(stdbuf -oL -eL ./run_vmtests.sh -t hugetlb -d 2>&1)
wait $!
rc=$?
echo "# run_vmtests.sh: $(($(date +%s) - t0)) s"
if ! grep -q '^1\.\.[0-9]' /tmp/vmtests.log; then
	not_ok "run_vmtests.sh did not finish (exit $rc)"
fi
echo "1..$n"
[ "$fails" = 0 ]
