# SPDX-License-Identifier: GPL-2.0
# Sourced by guest/check.sh: the hugetlb pool as operators and applications
# use it, through libhugetlbfs's tools (hugeadm, hugectl) and library, with
# the vmemmap accounted exactly at every step.  Uses check.sh's ok, not_ok,
# skip, $hvo, $config, $want (frames freed per default-size page) and
# guest/lib.sh; CLIENT is the hugetlb_client program (guest/hugetlb_client.c,
# built on the host by scripts/selftests.sh).
#
# clients_plan prints the names of the results, for check.sh --plan.
# Run as "bash clients.sh state KB", it prints "held" and state KB: what
# the client has it run while it holds its memory.

clients_plan() {
	printf '%s\n' hvo_hugeadm_pool hvo_hugeadm_pool_1g hvo_hugeadm_bad_size \
		hvo_hugeadm_too_many hvo_libhugetlbfs_get_huge_pages \
		hvo_libhugetlbfs_region hvo_libhugetlbfs_overcommit \
		hvo_hugectl_heap hvo_glibc_heap_overcommit
}

# pool_row BYTES: "min current max" of hugeadm --pool-list for that page size.
pool_row() {
	hugeadm --pool-list 2>/dev/null | awk -v s="$1" '$1 == s { print $2, $3, $4 }'
}

# state KB: "pages surplus overcommit memmap shared_frames" of a page size;
# shared_frames counts the shared frames of tails of its order.
state() {
	local d=/sys/kernel/mm/hugepages/hugepages-$1kB o
	o=$(awk -v n=$(($1 * 1024 / psz)) 'BEGIN { while (2 ^ o < n) o++; print o }')
	set -- $(shared_frames "$o")
	# No memmap counters: a word exact() refuses, not an empty field.
	echo "$(cat $d/nr_hugepages) $(cat $d/surplus_hugepages)" \
		"$(cat $d/nr_overcommit_hugepages) $(memmap || true)${1:+ }${1:-}" |
		awk 'NF == 5 { print; next } { print "unreadable:", $0 }'
}

# frames_for KB: the vmemmap frames HVO gives back per page of that size
# here (frame 0 kept), 0 with HVO off.
frames_for() {
	local f=$(($1 * 1024 / psz * 64 / psz))
	[ "$hvo" = on ] && [ "$f" -gt 1 ] && echo $((f - 1)) || echo 0
}

# exact WHAT KB BEFORE AFTER: does the memmap of AFTER ("pages surplus
# overcommit memmap shared") match its pool pages against BEFORE?  Each
# page beyond BEFORE's gave its frames back, each shared frame allocated
# since is counted once.
exact() {
	local per b a
	per=$(frames_for "$2")
	[[ "$3 $4" =~ ^([0-9]+\ ){9}[0-9]+$ ]] || return 1
	read -r -a b <<<"$3"
	read -r -a a <<<"$4"
	[ $((b[3] - a[3])) = $(((a[0] - b[0]) * per - (a[4] - b[4]))) ]
}

# hugeadm_pool NAME SIZE KB COUNT MAX: grow the pool of SIZE (hugeadm's
# syntax) to COUNT with --pool-pages-min, raise its maximum to MAX with
# --pool-pages-max, check --pool-list, nr_hugepages, the surplus limit and
# the memmap; then empty it with the tools and want everything back.
hugeadm_pool() {
	local name=$1 size=$2 kb=$3 count=$4 max=$5 s0 s1 s2 s3 r1 r2 r3 e
	local bytes=$((kb * 1024))
	s0=$(state "$kb")
	local bad=""
	e=$(hugeadm --pool-pages-min "$size:$count" 2>&1) || bad="--pool-pages-min exit $?"
	s1=$(state "$kb") r1=$(pool_row $bytes)
	e+=$(hugeadm --pool-pages-max "$size:$max" 2>&1) || bad+=" --pool-pages-max exit $?"
	s2=$(state "$kb") r2=$(pool_row $bytes)
	# Minimum first: hugeadm keeps the maximum while it lowers the
	# minimum (the surplus limit grows), the second command clears it.
	hugeadm --pool-pages-min "$size:0" >/dev/null 2>&1
	hugeadm --pool-pages-max "$size:0" >/dev/null 2>&1
	s3=$(state "$kb") r3=$(pool_row $bytes)
	echo "# hugeadm $size: pool-list '$r1' -> '$r2' -> '$r3'; pages surplus overcommit memmap shared: $s0 -> $s1 -> $s2 -> $s3"
	[ -n "$e" ] && echo "# hugeadm said: $(echo "$e" | grep -v 'swap' | tr '\n' ' ')"
	set -- $s1 - - - - -
	if [ -n "$bad" ]; then
		not_ok "$name: hugeadm failed: $bad: $(echo "$e" | tail -1)"
	elif [ "$1" != "$count" ]; then
		not_ok "$name: hugeadm --pool-pages-min $size:$count gave $1 pages"
	elif [ "$r1" != "$count $count $count" ] ||
		[ "$r2" != "$count $count $max" ] || [ "$r3" != "0 0 0" ]; then
		not_ok "$name: --pool-list read '$r1', '$r2', '$r3' (want '$count $count $count', '$count $count $max', '0 0 0')"
	elif ! set -- $s2 - - - - - || [ "${3:-}" != $((max - count)) ] || [ "$s2" != "${s1% * * *} $3 ${s1#* * * }" ]; then
		not_ok "$name: nr_overcommit_hugepages $3 after --pool-pages-max $size:$max, want $((max - count))"
	elif ! exact "$name" "$kb" "$s0" "$s1"; then
		not_ok "$name: memmap $s0 -> $s1 for $count pages, want $(frames_for "$kb") frames back each"
	elif [ "$s3" != "$s0" ]; then
		not_ok "$name: after emptying the pool with hugeadm: $s3, want $s0"
	else
		ok "$name: hugeadm grew the $size pool to $count ($(frames_for "$kb") frames back each), set its maximum to $max, emptied it: --pool-list, nr_hugepages, the surplus limit and the memmap agree"
	fi
}

# client NAME MIN MAX PAGES MODE [ENV...]: with the default pool set to MIN
# pages and a maximum of MAX by hugeadm, run the client (MODE, PAGES) under
# ENV; it prints the memmap while it holds its memory.  The memmap must
# account for every pool page (surplus ones included) then, and be back
# where it started once the client and the pool are gone.
client() {
	local name=$1 min=$2 max=$3 pages=$4 mode=$5 s0 s1 s2 out rc=0 held surp free
	shift 5
	s0=$(state "$hpage_kb")
	hugeadm --pool-pages-min "DEFAULT:$min" >/dev/null 2>&1
	hugeadm --pool-pages-max "DEFAULT:$max" >/dev/null 2>&1
	s1=$(state "$hpage_kb")
	out=$(env "$@" "$CLIENT" "$mode" "$pages" \
		"bash $here/clients.sh state $hpage_kb" 2>&1) || rc=$?
	hugeadm --pool-pages-min DEFAULT:0 >/dev/null 2>&1
	hugeadm --pool-pages-max DEFAULT:0 >/dev/null 2>&1
	s2=$(state "$hpage_kb")
	held=$(echo "$out" | sed -n 's/^held //p')
	echo "# $name: $(echo "$out" | tr '\n' ' '); pages surplus overcommit memmap shared: $s0 -> $s1 -> held $held -> $s2"
	surp=$(echo "$out" | sed -n 's/^client .* hugepages_surp=\([0-9]*\).*/\1/p')
	free=$(echo "$out" | sed -n 's/^client .* hugepages_free=\([0-9]*\).*/\1/p')
	if [ "${s1% * *}" != "$min 0 $((max - min))" ]; then
		not_ok "$name: hugeadm set the pool to $s1, want $min pages, a surplus limit of $((max - min))"
	elif [ "$rc" != 0 ] || [ -z "$held" ]; then
		not_ok "$name: the client failed (exit $rc): $(echo "$out" | tail -1)"
	elif ! set -- $held - - - - - || [ "$2" != "$surp" ] || [ "$1" -lt "$pages" ]; then
		not_ok "$name: held $held, the client saw $surp surplus pages, want as many and $pages pages at least"
	elif [ "$min" = "$max" ] && [ "$surp/$free" != "0/$((min - pages))" ]; then
		not_ok "$name: the client saw $free free and $surp surplus pages, want $((min - pages)) and 0"
	elif [ "$min" = 0 ] && [ "$free" != 0 ]; then
		not_ok "$name: the client saw $free free pages of a pool of surplus pages only"
	elif ! exact "$name" "$hpage_kb" "$s0" "$held"; then
		not_ok "$name: memmap $s0 -> held $held, want $(frames_for "$hpage_kb") frames back per pool page"
	elif [ "$s2" != "$s0" ]; then
		not_ok "$name: after the client and the pool are gone: $s2, want $s0"
	else
		set -- $held - - - - -
		ok "$name: $pages pages written and read back through the pool ($1 pool pages, $2 surplus, $(frames_for "$hpage_kb") frames back each), all back after"
	fi
}

# More pages than memory: see clients_run.  The request goes to the last
# NUMA node alone (hugeadm --obey-mempolicy under a policy preferring it:
# the pool follows the policy's nodes), so that the pool takes every free
# page of that node and node 0's memory is left to the guest's own shell
# and tools, hugeadm's included.
clients_too_many() {
	local s0 s1 e r=0 node

	# The last node with memory (a node can be online without any).
	node=$(sed 's/.*[-,]//' /sys/devices/system/node/has_memory)
	if [ "${node:-0}" = 0 ]; then
		skip hvo_hugeadm_too_many "one NUMA node with memory: a request for more pages than memory would leave the test no memory of its own"
		return
	fi
	s0=$(state "$hpage_kb")
	e=$("$CLIENT" prefer "$node" hugeadm --obey-mempolicy \
		--pool-pages-min DEFAULT:1000000 2>&1) || r=$?
	s1=$(state "$hpage_kb")
	hugeadm --pool-pages-min DEFAULT:0 >/dev/null 2>&1
	hugeadm --pool-pages-max DEFAULT:0 >/dev/null 2>&1
	e=$(echo "$e" | grep -v swap)
	echo "# hugeadm --obey-mempolicy --pool-pages-min DEFAULT:1000000 on node $node: exit $r: $e; $s0 -> $s1 -> $(state "$hpage_kb")"
	set -- $s1 - - - - -
	if [ "$r" = 0 ] && echo "$e" | grep -q "failed to set pool minimum to 1000000 became $1\$" &&
		[ "$1" -gt 0 ] && exact x "$hpage_kb" "$s0" "$s1" &&
		[ "$(state "$hpage_kb")" = "$s0" ]; then
		ok "hvo_hugeadm_too_many: hugeadm says the pool became $1 of 1000000 pages (node $node's memory), every one accounted, every frame back once emptied"
	else
		not_ok "hvo_hugeadm_too_many: exit $r, '$e', state $s0 -> $s1 -> $(state "$hpage_kb")"
	fi
}

clients_run() {
	local bytes=$((hpage_kb * 1024)) s0 s1 e r

	if ! command -v hugeadm >/dev/null || [ ! -x "$CLIENT" ]; then
		for t in $(clients_plan); do
			not_ok "$t: no hugeadm or no $CLIENT (make deps, make selftests)"
		done
		return
	fi
	# The tests start from, and leave, an empty default pool.
	s0=$(state "$hpage_kb")
	if [ "${s0% * *}" != "0 0 0" ]; then
		for t in $(clients_plan); do
			not_ok "$t: the $hpage_kb kB pool is not empty to start with ($s0)"
		done
		return
	fi
	# libhugetlbfs finds its hugetlbfs mount in /proc/mounts.
	if ! mkdir -p /tmp/hugetlbfs || ! mount -t hugetlbfs none /tmp/hugetlbfs; then
		echo "# cannot mount hugetlbfs: the library tests below fail"
	fi

	hugeadm_pool hvo_hugeadm_pool DEFAULT "$hpage_kb" 16 24

	# 1 GiB pages: the normal config's guests (6 GiB) have free, aligned
	# gigabytes; the debug config's (3 GiB) have none to give.
	if [ ! -d /sys/kernel/mm/hugepages/hugepages-1048576kB ]; then
		skip hvo_hugeadm_pool_1g "no 1 GiB page size"
	elif [ "$config" = debug ]; then
		skip hvo_hugeadm_pool_1g "a 3 GiB guest has no free 1 GiB aligned gigabyte (the normal config's 6 GiB guests run it)"
	else
		# No maximum above the minimum: gigantic pages have no surplus
		# (nr_overcommit_hugepages refuses them).
		hugeadm_pool hvo_hugeadm_pool_1g 1G 1048576 1 1
	fi

	# A size the machine lacks: the tool's error, nothing changed.
	s0=$(state "$hpage_kb") r=0
	e=$(hugeadm --pool-pages-min 4M:1 2>&1) || r=$?
	s1=$(state "$hpage_kb")
	echo "# hugeadm --pool-pages-min 4M:1: exit $r: $e"
	if [ "$r" != 0 ] && echo "$e" | grep -q 'unknown page size' && [ "$s1" = "$s0" ]; then
		ok "hvo_hugeadm_bad_size: hugeadm refuses a 4 MiB page size ('$e'), pool and memmap unchanged"
	else
		not_ok "hvo_hugeadm_bad_size: exit $r, '$e', state $s0 -> $s1"
	fi

	# More pages than memory (every free page of a node taken, then
	# given back): hugeadm warns and leaves the pool at what the kernel
	# could give (its documented behaviour, exit 0); every page it got is
	# accounted, and emptying the pool gives every frame back.
	clients_too_many

	# The library: pool pages set aside by hugeadm, then surplus pages
	# the kernel allocates (and optimizes) when the client maps them.
	client hvo_libhugetlbfs_get_huge_pages 8 8 4 ghp
	client hvo_libhugetlbfs_region 8 8 4 region
	client hvo_libhugetlbfs_overcommit 0 8 4 ghp

	# hugectl --heap asks libhugetlbfs for a heap of huge pages through
	# glibc's __morecore hook, which glibc 2.34 removed: the library says
	# so and the heap stays in base pages.  Should it ever back the heap,
	# the client's check of its pages says so.
	s0=$(state "$hpage_kb")
	hugeadm --pool-pages-max DEFAULT:8 >/dev/null 2>&1
	r=0
	e=$(HUGETLB_VERBOSE=3 hugectl --heap "$CLIENT" heap 1 2>&1) || r=$?
	hugeadm --pool-pages-max DEFAULT:0 >/dev/null 2>&1
	echo "# hugectl --heap: exit $r: $(echo "$e" | tr '\n' ' ')"
	if [ "$r" = 0 ] && [ "$(state "$hpage_kb")" = "$s0" ]; then
		ok "hvo_hugectl_heap: the heap came from huge pages, all back after"
	elif [ "$r" = 1 ] && echo "$e" | grep -q "morecore because it's not available" &&
		echo "$e" | grep -q 'mapped with 4 kB pages' && [ "$(state "$hpage_kb")" = "$s0" ]; then
		skip hvo_hugectl_heap "libhugetlbfs cannot back a heap on this glibc (no __morecore since glibc 2.34: 'Not setting up morecore'); glibc.malloc.hugetlb=2 does it below"
	else
		not_ok "hvo_hugectl_heap: exit $r, $(echo "$e" | tail -2 | tr '\n' ' ')"
	fi

	# A heap from huge pages the way this glibc offers it, from surplus
	# pages allocated at fault time.
	client hvo_glibc_heap_overcommit 0 16 4 heap GLIBC_TUNABLES=glibc.malloc.hugetlb=2

	umount /tmp/hugetlbfs
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ "${1:-}" = state ]; then
	. "$(dirname "$0")/lib.sh"
	psz=$(getconf PAGESIZE)
	echo "held $(state "$2")"
fi
