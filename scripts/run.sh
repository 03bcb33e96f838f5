#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make run: boot a kernel (ours by default, KERNEL=anchor for the pristine
# base) with hugetlb_free_vmemmap=on, grow and shrink a hugetlb pool with HVO
# off and on in the same boot, and print a report for a host operator.
#
#   PAGES=1024 (2 MiB pages per round)  ROUNDS=5  GIGANTIC=2 (1 GiB pages)
#   MEM=6G SMP=2 NODES=2, and the other variables of scripts/vm.sh
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=${KERNEL:-ours} config=${CONFIG:-normal}
pages=${PAGES:-1024} rounds=${ROUNDS:-5} gigantic=${GIGANTIC:-2}
for v in pages rounds gigantic; do
	[[ "${!v}" =~ ^[0-9]+$ ]] || die "bad ${v^^}='${!v}' (a number)"
done
[ "$pages" -gt 0 ] && [ "$rounds" -gt 0 ] || die "PAGES and ROUNDS must be at least 1"

case "$kernel" in
ours) "$TOP/scripts/tree.sh" ;;
anchor) "$TOP/scripts/base.sh" ;;
*) die "unknown KERNEL='$kernel' (ours or anchor)" ;;
esac
"$TOP/scripts/kernel.sh" "$kernel" "$config"

# 1 GiB pages are reserved at boot, where contiguous memory is sure to be
# had; the guest frees them and grows the 1 GiB pool again at run time.
giga=""
[ "$gigantic" -gt 0 ] && giga="hugepagesz=1G hugepages=$gigantic"
out=$BUILD/run/$kernel-$config
mkdir -p "$out"
OUT=$out MEM=${MEM:-6G} KERNEL=$kernel CONFIG=$config \
	APPEND="hugetlb_free_vmemmap=on $giga ${APPEND:-}" \
	CMD="bash $TOP/guest/report.sh $pages $rounds $gigantic" \
	"$TOP/scripts/vm.sh" >"$out/vm.log" 2>&1 ||
	{ tail -30 "$out/vm.log" >&2; die "the guest run failed (${out#$TOP/}/vm.log)"; }

python3 - "$out/cmd.log" "$kernel-$config" <<'PY' | tee "$out/report.txt"
import statistics, sys
res = {}
for line in open(sys.argv[1], errors="replace"):
    if line.startswith("hvo-result "):
        _, key, val = line.rstrip("\n").split(" ", 2)
        res.setdefault(key, []).append(val)
def one(k, d="?"): return res.get(k, [d])[0]
def rounds(k):
    out = []
    for v in res.get(k, []):
        out.append({a: int(b) for a, b in (f.split("=") for f in v.split())})
    return out
spb, pgb = int(one("struct_page_bytes", 64)), int(one("page_bytes", 4096))
def full(size):  # vmemmap frames of one huge page of 'size' bytes, no HVO
    return size // pgb * spb // pgb
print(f"HugeTLB Vmemmap Optimization report: kernel {sys.argv[2]} ({one('kernel')})")
print(f"  guest: {int(one('memtotal_kb', 0)) // 1024} MiB, clock {one('clocksource')},"
      f" struct page {spb} bytes, vm.hugetlb_optimize_vmemmap at boot: {one('hvo_at_boot')}")
print()
for tag, size, name in (("2m", 2 << 20, "2 MiB"), ("1g", 1 << 30, "1 GiB")):
    off, on = rounds(tag + "_off"), rounds(tag + "_on")
    if not off or not on or not on[0]["pages"]:
        if tag == "1g":
            print(f"{name} pages at run time: none allocated ({one('1g_none', 'the kernel gave none')})")
        continue
    n = on[0]["pages"]
    # A page gives back the net change plus its share of the shared frames
    # of tails the grow allocated (ours: one per zone and order).
    per_page = lambda r: (r["freed"] + r.get("shared", 0)) / r["pages"] if r["pages"] else 0
    kept_on = full(size) - statistics.median(per_page(r) for r in on)
    kept_off = full(size) - statistics.median(per_page(r) for r in off)
    nshared = statistics.median(r.get("shared", 0) for r in on)
    saved = statistics.median(r["freed"] / r["pages"] for r in on) * pgb
    print(f"{name} pages ({n} per round, {len(on)} round(s), median):")
    print(f"  vmemmap frames per huge page   HVO off {kept_off:7.0f}   HVO on {kept_on:7.0f}")
    print(f"  shared frames of tails         {nshared:g} (one per zone and order, for all the pool's pages)")
    tables = -(-full(size) // (pgb // 8))
    tb = [r for r in on if "tables_back" in r and r["pages"]]
    if tables > 1 and tb:
        kept_t = tables - statistics.median((r["tables_back"] + r.get("shared_tables", 0)) / r["pages"] for r in tb)
        print(f"  vmemmap PTE tables per page    HVO off {tables:7d}   HVO on {kept_t:7.0f}"
              f"   (shared tables: {statistics.median(r.get('shared_tables', 0) for r in tb):g})")
    print(f"  memory returned per huge page  {saved / 1024:.2f} KiB, net of the shared frames"
          f" ({100 * saved / size:.2f}% of the page; {saved * 1024 / size:.1f} GiB per TiB of {name} pages)")
    for what in ("grow", "shrink"):
        t_off = statistics.median(r[what + "_ns"] for r in off) / 1e6
        t_on = statistics.median(r[what + "_ns"] for r in on) / 1e6
        print(f"  pool {what:6} to/from {n:5}      HVO off {t_off:9.1f} ms   HVO on {t_on:9.1f} ms"
              f"   on/off {t_on / t_off:.2f}x")
    lost = [r for r in on + off if r["back"] != 0]
    print("  every vmemmap frame back after shrinking: " + ("yes" if not lost else f"NO ({lost})"))
    print()
for r in rounds("1g_boot"):
    if r["pages"] > r["left"]:
        n = r["pages"] - r["left"]
        kept = full(1 << 30) - (r["back"] + r.get("shared", 0)) / n
        tables = -(-full(1 << 30) // (pgb // 8))
        kept_t = tables - (r.get("tables_back", 0) + r.get("shared_tables", 0)) / n
        print(f"1 GiB pages reserved at boot (hugepages={r['pages']}, HVO on), then freed:")
        print(f"  vmemmap frames per huge page   HVO off {full(1 << 30):7d}   HVO on {kept:7.0f}"
              f"   ({r['back']} frames came back for {n} pages)")
        print(f"  vmemmap PTE tables per page    HVO off {tables:7d}   HVO on {kept_t:7.0f}")
        print()
print("Times come from one QEMU guest (TCG unless KVM works here): compare the ratios, not the")
print("absolute figures.  Frames come from /proc/vmstat nr_memmap_pages + nr_memmap_boot_pages.")
PY
