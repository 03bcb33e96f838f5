// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's surplus faults: surplus-fault PAGES
 *
 * Maps PAGES 2 MiB hugetlb pages (MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
 * MAP_NORESERVE: nothing is reserved, so mmap() allocates no page) and
 * touches one byte of each: where the pool is empty and
 * nr_overcommit_hugepages allows it, every touch is a fault that allocates a
 * surplus page from the buddy allocator and zeroes it.  Prints "faults=N total_ns=T max_ns=M" on stdout, the time
 * of all touches (CLOCK_MONOTONIC, read around each one) and of the slowest.
 * Exits 1, saying why, if the mapping or a fault fails (a fault that finds
 * no page is a SIGBUS, which kills it).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#define HPAGE (2UL << 20)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long long total = 0, max = 0, t0, t;
	char *end, *p;
	long i, n;

	n = argc == 2 ? strtol(argv[1], &end, 10) : 0;
	if (n <= 0 || *end) {
		fprintf(stderr, "usage: surplus-fault PAGES (a positive number)\n");
		return 1;
	}
	p = mmap(NULL, n * HPAGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_NORESERVE,
		 -1, 0);
	if (p == MAP_FAILED) {
		perror("surplus-fault: mmap of 2 MiB hugetlb pages");
		return 1;
	}
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		p[i * HPAGE] = 1;
		t = now_ns() - t0;
		total += t;
		if (t > max)
			max = t;
	}
	printf("faults=%ld total_ns=%lld max_ns=%lld\n", n, total, max);
	munmap(p, n * HPAGE);
	return 0;
}
