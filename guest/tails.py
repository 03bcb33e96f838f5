#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Runs inside the guest: tails.py heads | stale HEADS_FILE PAGES | zones HEADS_FILE

heads: print the pfn of every hugetlb head page (KPF_HUGE + KPF_COMPOUND_HEAD)
from /proc/kpageflags, one per line.

stale HEADS_FILE PAGES: once every huge page of the system is freed, print
each pfn of the former huge pages (PAGES each) whose struct page still
reads as part of a hugetlb page, as a compound head with no tail after it
(a struct page left with a head's contents, as when vmemmap is restored by
copying the head's frame into the tail frames), or as a compound tail with
neither a head nor a tail before it (a tail the free path did not take
apart).  A compound page allocated since then has its head first and its
tails right after it, so it reads as neither.

zones HEADS_FILE: print "node N zone NAME" once for each zone of
/proc/zoneinfo that holds one of the pfns of HEADS_FILE.
"""
import sys

KPF_COMPOUND_HEAD, KPF_COMPOUND_TAIL, KPF_HUGE = 15, 16, 17


def flags(pfn, count):
    with open("/proc/kpageflags", "rb") as f:
        f.seek(pfn * 8)
        data = f.read(count * 8)
    return [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data), 8)]


def bit(v, b):
    return (v >> b) & 1


def heads():
    start, chunk = 0, 1 << 16
    while True:
        f = flags(start, chunk)
        if not f:
            break
        for i, v in enumerate(f):
            if bit(v, KPF_HUGE) and bit(v, KPF_COMPOUND_HEAD):
                print(start + i)
        start += chunk


def stale(path, nr):
    for line in open(path):
        head = int(line)
        # One struct page either side of the huge page: f[k] is pfn head - 1 + k.
        f = flags(head - 1, nr + 2)
        for i in range(1, nr + 1):
            lone = i > 1 and bit(f[i], KPF_COMPOUND_HEAD) and not bit(f[i + 1], KPF_COMPOUND_TAIL)
            orphan = bit(f[i], KPF_COMPOUND_TAIL) and not (
                bit(f[i - 1], KPF_COMPOUND_HEAD) or bit(f[i - 1], KPF_COMPOUND_TAIL))
            if bit(f[i], KPF_HUGE) or lone or orphan:
                print(head + i - 1)


def zones(path):
    spans, name = [], None
    for line in open("/proc/zoneinfo"):
        w = line.split()
        if line.startswith("Node "):
            name, spanned = "node %s zone %s" % (w[1].rstrip(","), w[3]), 0
        elif w[:1] == ["spanned"]:
            spanned = int(w[1])
        elif w[:1] == ["start_pfn:"]:
            spans.append((int(w[1]), int(w[1]) + spanned, name))
    found = set()
    for line in open(path):
        pfn = int(line)
        found.update(n for lo, hi, n in spans if lo <= pfn < hi)
    for n in sorted(found):
        print(n)


if __name__ == "__main__":
    if sys.argv[1] == "heads":
        heads()
    elif sys.argv[1] == "zones":
        zones(sys.argv[2])
    else:
        stale(sys.argv[2], int(sys.argv[3]))
