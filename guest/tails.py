#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Runs inside the guest: tails.py heads | stale HEADS_FILE PAGES

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


if __name__ == "__main__":
    if sys.argv[1] == "heads":
        heads()
    else:
        stale(sys.argv[2], int(sys.argv[3]))
