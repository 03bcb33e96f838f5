// SPDX-License-Identifier: GPL-2.0
/*
 * A client of the hugetlb pool the way applications reach it, for
 * guest/clients.sh:
 *
 *   hugetlb_client MODE PAGES [HOLD]
 *   hugetlb_client prefer NODE COMMAND [ARG...]
 *
 * MODE:
 *   ghp      get_huge_pages() of libhugetlbfs
 *   region   get_hugepage_region(GHR_STRICT) of libhugetlbfs, for a length
 *            a base page short of PAGES huge pages (the library rounds it)
 *   heap     malloc(), for a heap that glibc's glibc.malloc.hugetlb=2
 *            tunable backs with huge pages (libhugetlbfs's own heap,
 *            HUGETLB_MORECORE, needs glibc's __morecore, which glibc 2.34
 *            removed)
 *
 * Each takes PAGES default-size huge pages of memory, checks in
 * /proc/self/smaps that every byte of it is mapped by huge pages, writes a
 * pattern to every word, reads it all back, prints one line
 * ("client MODE pages=N bytes=B kernel_page_kb=K hugepages_free=F
 * hugepages_surp=S"), runs the shell command HOLD if given while it still
 * holds the memory (without the environment that gave the client huge
 * pages), and frees it.  Exit status 0 if all held, 1 if the
 * memory could not be had or was not huge pages, 2 on a bad word.
 *
 * prefer runs COMMAND under a memory policy that prefers NUMA node NODE
 * (what numactl --preferred does; numactl is not in the guest), so that
 * "hugeadm --obey-mempolicy" grows the pool from that node alone (a
 * policy naming nodes gives the pool those nodes) while COMMAND's own
 * memory may still come from the other nodes when that one is full.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <hugetlbfs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* KernelPageSize in kB of the mapping of @addr, from /proc/self/smaps. */
static long kernel_page_kb(uintptr_t addr, uintptr_t *vma_end)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long lo, hi;
	bool in = false;
	char line[512];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* A mapping's first line: "lo-hi perms ..."; fields: "Key: v". */
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = addr >= lo && addr < hi;
			if (in)
				*vma_end = hi;
			continue;
		}
		if (in && sscanf(line, "KernelPageSize: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return kb;
}

/* A line of /proc/meminfo, or -1. */
static long meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	size_t n = strlen(key);
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Does a word of @p differ from the pattern written to it? Says which. */
static bool bad_word(const char *mode, const uint64_t *p, uint64_t words)
{
	uint64_t i;

	for (i = 0; i < words; i++)
		if (p[i] != ((uintptr_t)&p[i] ^ 0x5a5a5a5a5a5a5a5aULL)) {
			fprintf(stderr, "client %s: word %llu reads %#llx\n", mode,
				(unsigned long long)i, (unsigned long long)p[i]);
			return true;
		}
	return false;
}

/* MPOL_PREFERRED of <linux/mempolicy.h>, without libnuma. */
#define CLIENT_MPOL_PREFERRED 1

/* exec @argv preferring NUMA node @node; returns only on failure. */
static int prefer_exec(const char *node, char **argv)
{
	unsigned long mask, n;
	char *end;

	n = strtoul(node, &end, 10);
	if (*end || end == node || n >= 8 * sizeof(mask) || !argv[0]) {
		fprintf(stderr, "usage: hugetlb_client prefer NODE COMMAND [ARG...]\n");
		return 1;
	}
	mask = 1UL << n;
	/* maxnode counts one past the last bit the kernel reads. */
	if (syscall(SYS_set_mempolicy, CLIENT_MPOL_PREFERRED, &mask,
		    8 * sizeof(mask) + 1)) {
		fprintf(stderr, "client prefer: set_mempolicy(node %lu): %s\n", n,
			strerror(errno));
		return 1;
	}
	execvp(argv[0], argv);
	fprintf(stderr, "client prefer: %s: %s\n", argv[0], strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	long hpage = gethugepagesize(), pages, kb = -1;
	uintptr_t end = 0;
	uint64_t *p, i, words;
	size_t len;
	void *mem;

	if (argc >= 3 && !strcmp(argv[1], "prefer"))
		return prefer_exec(argv[2], argv + 3);
	if (argc < 3 || argc > 4 || (pages = strtol(argv[2], NULL, 10)) < 1 ||
	    hpage <= 0) {
		fprintf(stderr, "usage: %s ghp|region|heap PAGES [HOLD] | prefer NODE COMMAND... (huge page size %ld)\n",
			argv[0], hpage);
		return 1;
	}
	len = pages * hpage;
	if (!strcmp(argv[1], "ghp"))
		mem = get_huge_pages(len, GHP_DEFAULT);
	else if (!strcmp(argv[1], "region"))
		mem = get_hugepage_region(len -= 4096, GHR_STRICT);
	else if (!strcmp(argv[1], "heap"))
		mem = malloc(len);
	else
		mem = NULL, errno = EINVAL;
	if (!mem) {
		fprintf(stderr, "client %s: no memory of %zu bytes: %s\n", argv[1],
			len, strerror(errno));
		return 1;
	}

	/* Touch it all first: every page faulted in, from the pool. */
	p = mem;
	words = len / sizeof(*p);
	for (i = 0; i < words; i++)
		p[i] = (uintptr_t)&p[i] ^ 0x5a5a5a5a5a5a5a5aULL;
	kb = kernel_page_kb((uintptr_t)mem, &end);
	if (kb * 1024 != hpage || end < (uintptr_t)mem + len) {
		fprintf(stderr, "client %s: %p..%#lx mapped with %ld kB pages, want %ld kB over %zu bytes\n",
			argv[1], mem, (unsigned long)end, kb, hpage / 1024, len);
		return 1;
	}
	if (bad_word(argv[1], p, words))
		return 2;
	printf("client %s pages=%ld bytes=%zu kernel_page_kb=%ld hugepages_free=%ld hugepages_surp=%ld\n",
	       argv[1], pages, len, kb, meminfo("HugePages_Free"),
	       meminfo("HugePages_Surp"));
	fflush(stdout);
	/* HOLD and its shell take no huge page of their own. */
	unsetenv("GLIBC_TUNABLES");
	unsetenv("LD_PRELOAD");
	unsetenv("HUGETLB_MORECORE");
	if (argc == 4 && system(argv[3]) != 0) {
		fprintf(stderr, "client %s: '%s' failed\n", argv[1], argv[3]);
		return 1;
	}
	/* Still what was written, after the pool's memmap was read. */
	if (bad_word(argv[1], p, words))
		return 2;
	if (!strcmp(argv[1], "ghp"))
		free_huge_pages(mem);
	else if (!strcmp(argv[1], "region"))
		free_hugepage_region(mem);
	else
		free(mem);
	return 0;
}
