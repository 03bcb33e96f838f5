#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's report: bench-report.py OURS_DIR ANCHOR_DIR REPORT_MD [TITLE]

ANCHOR_DIR '-': the anchor was not run (make check's quick bench); its
figures read n/a.

Reads each run directory's cmd.log ('hvo-result KEY VALUE' lines of
guest/report.sh) and bpftrace-{off,on}.txt, writes a markdown report and
prints its last line, the summary of key=value figures.  Exits 1, saying
why, when a figure the summary needs is missing."""
import glob
import os
import re
import statistics
import sys

KEYS = ("grow_on_off shrink_on_off anchor_grow_on_off anchor_shrink_on_off "
        "ours_vs_anchor_grow_on ours_vs_anchor_shrink_on frames_per_2m frames_per_1g pte_per_1g "
        "anchor_frames_per_2m anchor_frames_per_1g anchor_pte_per_1g").split()

# The other doors of the pool: (key, result tag, time field, what it is).
# Each ratio is the median of the rounds' own on/off ratios; the boots of a
# round (boot_*, first) are two boots of the same kernel, one after the other.
DOORS = (
    ("giga_grow_on_off", "1g", "grow", "1 GiB pages at run time, grow (ms)"),
    ("giga_shrink_on_off", "1g", "shrink", "1 GiB pages at run time, shrink (ms)"),
    ("boot_2m_on_off", "boot_2m", "init", "2 MiB pool on the command line, hugetlb initcalls (ms)"),
    ("boot_1g_on_off", "boot_1g", "pool",
     "1 GiB pool on the command line, its struct pages and optimization in page_alloc_init_late() "
     "plus hugetlb initcalls (ms)"),
    ("boot_2m_icount_on_off", "boot_2mi", "init",
     "2 MiB pool on the command line, hugetlb initcalls, 1 CPU, instruction clock (ms: M instructions)"),
    ("giga_grow_icount_on_off", "1gi", "grow",
     "1 GiB pages at run time, grow, 1 CPU, instruction clock (ms: M instructions)"),
    ("giga_shrink_icount_on_off", "1gi", "shrink",
     "1 GiB pages at run time, shrink, 1 CPU, instruction clock (ms: M instructions)"),
    ("surplus_fault_on_off", "surplus", "total", "surplus faults into an empty pool, per fault (ms)"),
    ("first_grow_on_off", "first", "grow", "first grow of 2 MiB pages after boot (ms)"),
)


class Missing(Exception):
    pass


def load(d):
    """The results of the bench guest (d/cmd.log) and of its boots
    (d/boot/*/cmd.log, if any), with the boots that did not finish."""
    res = {}
    boots = sorted(glob.glob(os.path.join(d, "boot", "*", "cmd.log")))
    for log in [os.path.join(d, "cmd.log")] + boots:
        for line in open(log, errors="replace"):
            if line.startswith("hvo-result "):
                parts = line.rstrip("\n").split(" ", 2)
                res.setdefault(parts[1], []).append(parts[2] if len(parts) > 2 else "")
    for f in sorted(glob.glob(os.path.join(d, "boot", "*", "failed"))):
        res.setdefault("boot_failed", []).append(open(f).read().strip())
    boot_1g_pool(res)
    return res


def late_without(res, hvo):
    """The median window "smp: Brought up" to "Memory:" (late_ns) of the
    real-clock boots without a 1 GiB pool (boot_2m, first) with HVO hvo, or
    None: the part of that window a 1 GiB pool does not add to."""
    xs = [r["late_ns"] for tag in ("boot_2m", "first") for r in rounds(res, f"{tag}_{hvo}")
          if "late_ns" in r]
    return statistics.median(xs) if xs else None


def boot_1g_pool(res):
    """Give each boot_1g round pool_ns: what the 1 GiB pool given on the
    command line cost that boot.  Its struct pages are written and
    optimized in page_alloc_init_late(), before any initcall: its late_ns,
    less the same window of the boots without that pool, plus its hugetlb
    initcalls (init_ns).  Rounds without late_ns, or with no boot to take it
    off, get none."""
    for hvo in ("off", "on"):
        base = late_without(res, hvo)
        key = f"boot_1g_{hvo}"
        if base is None:
            continue
        out = []
        for v, r in zip(res.get(key, []), rounds(res, key)):
            if "late_ns" in r:
                v += f" pool_ns={round(r['init_ns'] + r['late_ns'] - base)}"
            out.append(v)
        res[key] = out


def rounds(res, key):
    return [{a: int(b) for a, b in (f.split("=") for f in v.split())} for v in res.get(key, [])]


def one(res, key, default="?"):
    return res.get(key, [default])[0]


def frames_full(res, size):
    spb, pgb = int(one(res, "struct_page_bytes", 64)), int(one(res, "page_bytes", 4096))
    return size // pgb * spb // pgb


def kept(res, tag, size):
    """vmemmap frames kept per huge page with HVO on: measured at run time,
    else from the 1 GiB pages reserved at boot; None if neither ran.  The
    shared frames of tails (ours: one per zone and order, 'shared=') are
    counted apart, not per page: the frames a page gives back are the net
    change plus those."""
    on = [r for r in rounds(res, tag + "_on") if r["pages"]]
    if on:
        return frames_full(res, size) - statistics.median(
            (r["freed"] + r.get("shared", 0)) / r["pages"] for r in on)
    if tag == "1g":
        for r in rounds(res, "1g_boot"):
            if r["pages"] > r["left"]:
                return frames_full(res, size) - (r["back"] + r.get("shared", 0)) / (r["pages"] - r["left"])
    return None


def tables_full(res, size):
    pgb = int(one(res, "page_bytes", 4096))
    return -(-frames_full(res, size) // (pgb // 8))


def tables_kept(res, tag, size):
    """vmemmap PTE tables a huge page holds with HVO on: those it gets back
    when it leaves the pool ('tables_back', nr_memmap_pte_pages) plus its
    share of the shared tables freed with it, off the tables that map its
    vmemmap; from the rounds, else from the 1 GiB pages reserved at boot;
    None if neither ran or the kernel did not report them."""
    on = [r for r in rounds(res, tag + "_on") if r["pages"] and "tables_back" in r]
    if on:
        return tables_full(res, size) - statistics.median(
            (r["tables_back"] + r.get("shared_tables", 0)) / r["pages"] for r in on)
    if tag == "1g":
        for r in rounds(res, "1g_boot"):
            if r["pages"] > r["left"] and "tables_back" in r:
                return tables_full(res, size) - (r["tables_back"] + r.get("shared_tables", 0)) / (
                    r["pages"] - r["left"])
    return None


def shared(res, tag):
    """The shared frames of tails the HVO-on rounds of tag allocated (median)."""
    on = [r.get("shared", 0) for r in rounds(res, tag + "_on") if r["pages"]]
    return statistics.median(on) if on else None


def times(res, tag, hvo, what):
    return [r[what + "_ns"] / 1e6 / r.get("faults", 1)
            for r in rounds(res, f"{tag}_{hvo}")
            if r.get("pages", r.get("faults")) and what + "_ns" in r]


def paired_ratios(res, tag, what):
    """on/off of each round (both settings ran back to back in that round);
    a round whose HVO-off time is not above 0 has none."""
    def n(r):
        return r.get("pages", r.get("faults"))
    f = what + "_ns"
    off = {r["round"]: r for r in rounds(res, tag + "_off") if n(r) and r.get(f, 0) > 0}
    return [r[f] / n(r) / (off[r["round"]][f] / n(off[r["round"]]))
            for r in rounds(res, tag + "_on") if n(r) and f in r and r["round"] in off]


def mmm(xs, fmt="{:.2f}"):
    if not xs:
        return "n/a"
    return (fmt.format(statistics.median(xs)) + " [" + fmt.format(min(xs)) + "-" +
            fmt.format(max(xs)) + "]")


def med(xs, what):
    if not xs:
        raise Missing(what)
    return statistics.median(xs)


def bpftrace_stats(text):
    """{name: (count, total_ns)} of the @stats lines of bpftrace's output, and
    optimize_batch and restore_batch from tools/mm/hugetlb_vmemmap.bt's calls
    of pages of order 9 given as a batch, where it was the head (ours)."""
    out = {}
    for m in re.finditer(r"^@stats\[(\w+)\]: count (\d+), average \d+, total (\d+)$",
                         text or "", re.M):
        out[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    for m in re.finditer(r"^@(optimize|restore)_calls_ns\[9, 1\]: count (\d+), average \d+, total (\d+)$",
                         text or "", re.M):
        out[m.group(1) + "_batch"] = (int(m.group(2)), int(m.group(3)))
    return out


def shrink_split(res, text):
    """Per traced shrink of 2 MiB pages: ms in the restore, ms freeing the rest."""
    n = int(dict(f.split("=") for f in one(res, "sizes", "").split()).get("trace_rounds", 0) or 0)
    st = bpftrace_stats(text)
    if not n or "free_batch" not in st:
        return None
    restore = st.get("restore_batch", (0, 0))[1] / n / 1e6
    return restore, st["free_batch"][1] / n / 1e6 - restore


def bpftrace_text(d, hvo):
    p = os.path.join(d, f"bpftrace-{hvo}.txt")
    if not os.path.exists(p):
        return None
    keep = [l.rstrip() for l in open(p, errors="replace")
            if l.strip() and not l.startswith("Attaching") and not l.startswith("hvo-bench:")]
    return "\n".join(keep)


def main():
    ours_d, anchor_d, out = sys.argv[1:4]
    title = sys.argv[4] if len(sys.argv) > 4 else "make bench"
    anchor_run = anchor_d != "-"
    dirs = {"ours": ours_d, "anchor": anchor_d} if anchor_run else {"ours": ours_d}
    runs = {k: load(d) for k, d in dirs.items()}
    cols = " | ".join(runs)
    md = []
    w = md.append
    o = runs["ours"]
    w("# HugeTLB Vmemmap Optimization benchmark: " + " and the ".join(runs) + "\n")
    w(f"Command: `{title}`. Each kernel: the normal config, booted in the same VM shape "
      f"({int(one(o, 'memtotal_kb', 0)) // 1024} MiB usable, {one(o, 'cpus')} CPUs, "
      f"clocksource {one(o, 'clocksource')}), one after the other. "
      f"Sizes: {one(o, 'sizes')}.\n")
    if not anchor_run:
        w("**anchor: not run** (BENCH_ANCHOR=0): our kernel only, the anchor's figures read n/a.\n")
    for k, d in dirs.items():
        if os.path.exists(os.path.join(d, "failed")):
            w(f"**{k}: {open(os.path.join(d, 'failed')).read().strip()}**: the figures below "
              "come from the rounds it finished.\n")
    w("Each round grows the pool from 0 to the page count with one write of nr_hugepages and "
      "shrinks it back to 0 with another, once with HVO off and once on (the sysctl, same boot; "
      "which runs first alternates). Times in ms as median [min-max] of the rounds; on/off is the "
      "median of each round's own ratio. The first cycle of each setting of each size (1 GiB "
      "pages first, then 2 MiB pages) is left out of the medians, the 2 MiB one shown apart "
      "(one-time costs: first touches, vmemmap PMD splits, boot-time frames). bpftrace is "
      "attached only after the timed rounds.\n")
    for tag, size, name in (("2m", 2 << 20, "2 MiB"), ("1g", 1 << 30, "1 GiB")):
        w(f"## {name} pages\n")
        pages = {k: (rounds(r, tag + "_on") or [{"pages": 0}])[0]["pages"] for k, r in runs.items()}
        none = {k: one(r, "1g_none", "") for k, r in runs.items()}
        if not any(pages.values()):
            w("None at run time: " + "; ".join(
                f"{k}: {none[k] or 'the kernel gave none'}" for k in runs) + ".")
            for k, r in runs.items():
                if tag == "1g" and kept(r, tag, size) is not None:
                    w(f"{k}: {kept(r, tag, size):.0f} vmemmap frames kept per page of those reserved "
                      "at boot (hugepages=), freed at the start of the run.")
            w("")
            continue
        w(f"| | {cols} |")
        w("|---" * (len(runs) + 1) + "|")
        w("| pages per round, rounds | " + " | ".join(
            f"{pages[k]}, {len(times(r, tag, 'on', 'grow'))}" for k, r in runs.items()) + " |")
        for what in ("grow", "shrink"):
            for hvo in ("off", "on"):
                w(f"| {what}, HVO {hvo} (ms) | " + " | ".join(
                    mmm(times(r, tag, hvo, what)) for r in runs.values()) + " |")
            w(f"| {what}, on/off | " + " | ".join(
                mmm(paired_ratios(r, tag, what)) for r in runs.values()) + " |")
        w("| vmemmap frames per page, HVO off / on | " + " | ".join(
            f"{frames_full(r, size)} / " + (f"{kept(r, tag, size):.0f}" if kept(r, tag, size) is not None else "n/a")
            for r in runs.values()) + " |")
        w("| vmemmap PTE tables per page, HVO off / on | " + " | ".join(
            f"{tables_full(r, size)} / " + (f"{tables_kept(r, tag, size):.0f}"
                                            if tables_kept(r, tag, size) is not None else "n/a")
            for r in runs.values()) + " |")
        w("| shared frames of tails, one per zone and order (HVO on) | " + " | ".join(
            f"{shared(r, tag):g}" if shared(r, tag) is not None else "n/a"
            for r in runs.values()) + " |")
        if tag == "2m":
            w("| first cycle after boot, grow / shrink (ms), HVO off; on | " + " | ".join(
                "; ".join(f"{x['grow_ns'] / 1e6:.2f} / {x['shrink_ns'] / 1e6:.2f}"
                          for x in rounds(r, "2m_first_off") + rounds(r, "2m_first_on")) or "n/a"
                for r in runs.values()) + " |")
        lost = {k: [x for x in rounds(r, tag + "_on") + rounds(r, tag + "_off") if x["back"]]
                for k, r in runs.items()}
        w("| every frame back after shrinking | " + " | ".join(
            "yes" if not lost[k] else f"NO: {lost[k]}" for k in runs) + " |")
        if not all(pages.values()):
            w("\n1 GiB pages at run time: " + "; ".join(
                f"{k}: {pages[k] or 'none allocated'}" + (f" ({none[k]})" if none[k] else "")
                for k in runs) + ".")
        w("")
    w("## The other doors of the pool\n")
    w("1 GiB pages: grown and shrunk at run time, as the 2 MiB pages above. Pools on the command "
      "line, in boots with hugetlb_free_vmemmap=off and =on, from the kernel's own clock (printk "
      "times): a 2 MiB pool, the time in the hugetlb initcalls (initcall_debug), where it is "
      "allocated, prepared and optimized; a 1 GiB pool, whose pages memblock gave early, adds "
      "the time its struct pages are written and optimized in page_alloc_init_late(), before "
      "any initcall: the window from \"smp: Brought up\" to \"Memory:\" less its median in "
      "the boots without that pool (" + "; ".join(
          f"{k}: HVO off " + "; on ".join(
              f"{x / 1e6:.2f} ms" if x is not None else "n/a"
              for x in (late_without(r, "off"), late_without(r, "on")))
          for k, r in runs.items()) + "). These boots leave out trace_eval_init and "
      "ftrace_check_for_weak_functions (initcall_blacklist=): the work each queues scans "
      "every trace event or function on a kworker for tens of ms under TCG, beside the pool's "
      "initcall. "
      "Surplus faults: a process touches 2 MiB pages of an empty pool that "
      "nr_overcommit_hugepages lets grow, each fault allocating a page (per fault). First grow: "
      "the first resize of the 2 MiB pool after a boot without one. Ratios: median of the "
      "rounds' own on/off ratios, ratio per page for the boots and pools.\n")
    w(f"| | {cols} |")
    w("|---" * (len(runs) + 1) + "|")
    for key, tag, what, name in DOORS:
        for hvo in ("off", "on"):
            w(f"| {name}, HVO {hvo} | " + " | ".join(
                mmm(times(r, tag, hvo, what)) for r in runs.values()) + " |")
        w(f"| {key.replace('_on_off', '')}, on/off, rounds | " + " | ".join(
            f"{mmm(paired_ratios(r, tag, what))}, {len(paired_ratios(r, tag, what))}"
            for r in runs.values()) + " |")
    w("| pages per boot (2 MiB; 1 GiB), first grow; surplus faults per round | " + " | ".join(
        "; ".join(str((rounds(r, t + "_on") or [{}])[0].get(f, "n/a"))
                  for t, f in (("boot_2m", "pages"), ("boot_1g", "pages"), ("first", "pages"),
                               ("surplus", "faults")))
        for r in runs.values()) + " |")
    w("")
    for k, r in runs.items():
        for what in ("boot_failed", "surplus_failed"):
            for v in r.get(what, []):
                w(f"{k}: {what.replace('_', ' ')}: {v}")
    w("## Where the time goes (bpftrace, ns per call)\n")
    w("guest/bench.bt, attached for extra rounds after the timed ones (probes slow what they "
      "time: read the shapes and the proportions). The whole optimize and restore calls "
      "(optimize_batch, restore_batch) come from the hugetlb_vmemmap trace events through "
      "tools/mm/hugetlb_vmemmap.bt where the kernel has them (" + ", ".join(
          f"{k}: {one(r, 'trace_calls', 'n/a')}" for k, r in runs.items()) +
      "), from kprobes (guest/bench-kprobes.bt) otherwise.\n")
    w(f"| per traced shrink of the 2 MiB pool, ms | {cols} |")
    w("|---" * (len(runs) + 1) + "|")
    for hvo in ("off", "on"):
        cells = []
        for k, d in dirs.items():
            sp = shrink_split(runs[k], bpftrace_text(d, hvo))
            cells.append(f"restore {sp[0]:.2f}, freeing {sp[1]:.2f}" if sp else "n/a")
        w(f"| HVO {hvo} | " + " | ".join(cells) + " |")
    w("")
    for k, d in dirs.items():
        for hvo in ("on", "off"):
            t = bpftrace_text(d, hvo)
            w(f"### {k}, HVO {hvo}\n")
            w("```" if t else "")
            w(t if t else "(no bpftrace output: " + "; ".join(runs[k].get("trace_failed", ["not run"])) + ")")
            w("```\n" if t else "")
    fig = {}
    a = runs.get("anchor")
    try:
        fig["grow_on_off"] = med(paired_ratios(o, "2m", "grow"), "ours 2 MiB grow rounds")
        fig["shrink_on_off"] = med(paired_ratios(o, "2m", "shrink"), "ours 2 MiB shrink rounds")
        for what in ("grow", "shrink"):
            fig[f"anchor_{what}_on_off"] = fig[f"ours_vs_anchor_{what}_on"] = None
            if anchor_run:
                fig[f"anchor_{what}_on_off"] = med(paired_ratios(a, "2m", what),
                                                   f"anchor 2 MiB {what} rounds")
                fig[f"ours_vs_anchor_{what}_on"] = (med(times(o, "2m", "on", what), "ours rounds") /
                                                   med(times(a, "2m", "on", what), "anchor rounds"))
        f2 = kept(o, "2m", 2 << 20)
        if f2 is None:
            raise Missing("ours: frames per 2 MiB page")
    except Missing as e:
        sys.exit(f"bench-report: no figure for {e} (see " +
                 ", ".join(f"{d}/cmd.log" for d in dirs.values()) + ")")
    fig["frames_per_2m"] = f2
    f1 = kept(o, "1g", 1 << 30)
    line = " ".join(f"{k}=n/a" if fig[k] is None else f"{k}={fig[k]:.2f}" for k in KEYS[:6])
    line += f" frames_per_2m={fig['frames_per_2m']:g}"
    line += " frames_per_1g=" + (f"{f1:g}" if f1 is not None else "n/a")
    t1 = tables_kept(o, "1g", 1 << 30)
    line += " pte_per_1g=" + (f"{t1:g}" if t1 is not None else "n/a")
    for k, fn, tag, size in (("anchor_frames_per_2m", kept, "2m", 2 << 20),
                             ("anchor_frames_per_1g", kept, "1g", 1 << 30),
                             ("anchor_pte_per_1g", tables_kept, "1g", 1 << 30)):
        f = fn(a, tag, size) if anchor_run else None
        line += f" {k}=" + (f"{f:g}" if f is not None else "n/a")
    for key, tag, what, _ in DOORS:
        for k, r in (("", o), ("anchor_", a)):
            xs = paired_ratios(r, tag, what) if r is not None else []
            line += f" {k}{key}=" + (f"{statistics.median(xs):.2f}" if xs else "n/a")
    w("## Summary\n")
    w("Ratios are medians: on/off of the rounds in one boot; ours/anchor of the medians of the "
      "two boots. Frames: vmemmap frames kept per huge page by our kernel "
      "(/proc/vmstat nr_memmap_pages + nr_memmap_boot_pages).\n")
    w("    " + line)
    open(out, "w").write("\n".join(md) + "\n")
    print(line)


if __name__ == "__main__":
    main()
