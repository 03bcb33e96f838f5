// SPDX-License-Identifier: GPL-2.0
/*
 * /init of the ports guest (make ports, scripts/ports.sh): on an architecture
 * whose programs the host cannot run, grow and shrink a HugeTLB pool and
 * check the vmemmap frames in /proc/vmstat as guest/check.sh does on x86.
 * Built with the kernel's nolibc, static, no C library:
 *   $CC -static -nostdlib -include tools/include/nolibc/nolibc.h ...
 *
 * The guest boots with a 1 GiB page reserved on the command line
 * (hugepagesz=1G hugepages=1).  With the optimization on, each 2 MiB page
 * gives back all its vmemmap frames but the first (7 of 8 with a 64-byte
 * struct page and 4 KiB pages), each 1 GiB page 4095 of 4096, less the
 * frames of tails they share (debugfs shared_frames); with it off, none.
 * The size's sysfs counters must agree: vmemmap_optimized_pages, and
 * vmemmap_freed_frames equal to what the memmap moves by.  The tails are
 * mapped read-only: <debugfs>/kernel_page_tables shows read-only ranges in
 * the vmemmap while pages are optimized, and none otherwise.
 * Prints "ports: ..." lines, then "ports-result: ok ..." or
 * "ports-result: fail ...", and powers off.
 */

#define DIR_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/"
#define DIR_1G "/sys/kernel/mm/hugepages/hugepages-1048576kB/"
#define POOL_2M DIR_2M "nr_hugepages"
#define POOL_1G DIR_1G "nr_hugepages"
#define SHARED "/sys/kernel/debug/hugetlb_vmemmap/shared_frames"
#define NR_2M 16
#define FRAMES_2M 8		/* 512 struct pages of 64 bytes, 4 KiB frames */
#define FRAMES_1G 4096		/* 262144 of them */

static char buf[16384];
static char pt[1 << 20];	/* kernel_page_tables */
static int failed;

/* Read @path into buf; return its length, or -1. */
static long read_file(const char *path)
{
	long n, len = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = '\0';
	return len;
}

static void fail(const char *what, long got, long want)
{
	printf("ports: FAIL %s: %ld, want %ld\n", what, got, want);
	failed = 1;
}

/* A number that follows @key at the start of a line of buf, or -1. */
static long field(const char *key)
{
	size_t n = strlen(key);
	char *line = buf;

	while (line && *line) {
		if (!strncmp(line, key, n) && line[n] == ' ')
			return atol(line + n + 1);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -1;
}

/*
 * Read-only ranges in the vmemmap section of <debugfs>/kernel_page_tables
 * (PTDUMP_DEBUGFS): lines whose flags end in ". R V" (not writable,
 * readable, valid); -1 without the file or if it did not fit.
 */
static long vmemmap_ro_ranges(void)
{
	int fd = open("/sys/kernel/debug/kernel_page_tables", O_RDONLY);
	long n, len = 0, ro = 0;
	char *line, *end;
	int in = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, pt + len, sizeof(pt) - 1 - len)) > 0)
		len += n;
	close(fd);
	if (len >= (long)sizeof(pt) - 1)
		return -1;
	pt[len] = '\0';
	for (line = pt; (end = strchr(line, '\n')); line = end + 1) {
		if (!strncmp(line, "---[ vmemmap start ]---", 23))
			in = 1;
		else if (!strncmp(line, "---[ vmemmap end ]---", 21))
			in = 0;
		else if (in && end - line >= 6 && !strncmp(end - 6, " . R V", 6))
			ro++;
	}
	return ro;
}

/* The vmemmap has read-only ranges if and only if @want. */
static void check_ro(const char *when, int want)
{
	long ro = vmemmap_ro_ranges();

	printf("ports: %s: %ld read-only vmemmap ranges in kernel_page_tables\n",
	       when, ro);
	if (ro < 0 || (ro > 0) != want)
		fail("read-only vmemmap ranges (want > 0: 1, none: 0)", ro,
		     want);
}

/* Vmemmap frames in use: nr_memmap_pages + nr_memmap_boot_pages. */
static long memmap(void)
{
	long pages, boot;

	if (read_file("/proc/vmstat") < 0)
		return -1;
	pages = field("nr_memmap_pages");
	boot = field("nr_memmap_boot_pages");
	if (pages < 0 || boot < 0)
		return -1;
	return pages + boot;
}

/* The number after " order " in the line at @line, or -1. */
static long line_order(const char *line)
{
	for (; *line && *line != '\n'; line++)
		if (!strncmp(line, " order ", 7))
			return atol(line + 7);
	return -1;
}

/* Shared tail frames of @order: lines "node N zone Z order O pages P ...". */
static long shared_frames(int order)
{
	char *line = buf;
	long frames = 0;

	if (read_file(SHARED) < 0)
		return 0;
	while (line && *line) {
		if (line_order(line) == order)
			frames++;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return frames;
}

static long read_long(const char *path)
{
	return read_file(path) < 0 ? -1 : atol(buf);
}

static int write_long(const char *path, long val)
{
	char num[24];
	int i = sizeof(num), fd, ok;

	num[--i] = '\0';
	do {
		num[--i] = '0' + val % 10;
		val /= 10;
	} while (val);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, num + i, strlen(num + i)) == (ssize_t)strlen(num + i);
	close(fd);
	return ok ? 0 : -1;
}

/* Frames the pool pages of @order give back now, net of shared frames. */
static long given_back(long memmap_before, long shared_before, int order)
{
	return memmap_before - memmap() + shared_frames(order) - shared_before;
}

/* The two sysfs counters of a size directory, for check_counters(). */
#define COUNTERS(dir) dir "vmemmap_optimized_pages", dir "vmemmap_freed_frames"

/*
 * The sysfs counters of a size: @pages optimized, and frames freed as many
 * as the memmap is lower by, @freed.
 */
static void check_counters(const char *opt_path, const char *frames_path,
			   const char *what, long pages, long freed)
{
	long opt = read_long(opt_path), frames = read_long(frames_path);

	printf("ports: %s: vmemmap_optimized_pages %ld, vmemmap_freed_frames %ld\n",
	       what, opt, frames);
	if (opt != pages)
		fail("vmemmap_optimized_pages", opt, pages);
	if (frames != freed)
		fail("vmemmap_freed_frames", frames, freed);
}

/* Grow the 2 MiB pool to NR_2M pages and shrink it: 7 frames back each. */
static long check_2m(long per_page)
{
	long m0 = memmap(), s0 = shared_frames(9), back;

	if (write_long(POOL_2M, NR_2M) || read_long(POOL_2M) != NR_2M) {
		fail("2 MiB pool grown to", read_long(POOL_2M), NR_2M);
		return -1;
	}
	back = given_back(m0, s0, 9);
	printf("ports: 2 MiB: %d pages, memmap %ld -> %ld, %ld shared frames, %ld frames back\n",
	       NR_2M, m0, memmap(), shared_frames(9) - s0, back);
	if (back != NR_2M * per_page)
		fail("2 MiB frames back", back, NR_2M * per_page);
	check_counters(COUNTERS(DIR_2M), "2 MiB grown", per_page ? NR_2M : 0,
		       m0 - memmap());
	check_ro("2 MiB grown", per_page > 0);
	if (write_long(POOL_2M, 0) || read_long(POOL_2M) != 0)
		fail("2 MiB pool shrunk to", read_long(POOL_2M), 0);
	if (memmap() != m0)
		fail("memmap after the 2 MiB pool emptied", memmap(), m0);
	check_counters(COUNTERS(DIR_2M), "2 MiB emptied", 0, 0);
	check_ro("2 MiB emptied", 0);
	return back / NR_2M;
}

/* Free the 1 GiB page reserved at boot: 4095 frames taken back. */
static long check_1g(long per_page)
{
	long m0 = memmap(), s0 = shared_frames(18), back, freed;

	if (read_long(POOL_1G) != 1) {
		fail("1 GiB pages reserved at boot", read_long(POOL_1G), 1);
		return -1;
	}
	/* What freeing the page will raise the memmap by. */
	freed = read_long(DIR_1G "vmemmap_freed_frames");
	check_ro("1 GiB reserved at boot", per_page > 0);
	if (write_long(POOL_1G, 0) || read_long(POOL_1G) != 0) {
		fail("1 GiB pool shrunk to", read_long(POOL_1G), 0);
		return -1;
	}
	/* Taken back now: the negative of what the page gave back. */
	back = -given_back(m0, s0, 18);
	printf("ports: 1 GiB: 1 page reserved at boot (vmemmap_freed_frames %ld), memmap %ld -> %ld, %ld shared frames freed, %ld frames taken back\n",
	       freed, m0, memmap(), s0 - shared_frames(18), back);
	if (back != per_page)
		fail("1 GiB frames taken back", back, per_page);
	if (memmap() - m0 != freed)
		fail("memmap raised by freeing the 1 GiB page (its vmemmap_freed_frames)",
		     memmap() - m0, freed);
	check_counters(COUNTERS(DIR_1G), "1 GiB freed", 0, 0);
	return back;
}

int main(void)
{
	long on, per_2m, per_1g;

	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);

	on = read_long("/proc/sys/vm/hugetlb_optimize_vmemmap");
	if (memmap() < 0 || on < 0) {
		printf("ports-result: fail no nr_memmap_pages or hugetlb_optimize_vmemmap\n");
		goto out;
	}
	printf("ports: hugetlb_optimize_vmemmap=%ld, memmap %ld frames\n",
	       on, memmap());
	per_1g = check_1g(on ? FRAMES_1G - 1 : 0);
	per_2m = check_2m(on ? FRAMES_2M - 1 : 0);
	printf("ports-result: %s hvo=%s 2M=%ld 1G=%ld\n", failed ? "fail" : "ok",
	       on ? "on" : "off", per_2m, per_1g);
out:
	reboot(LINUX_REBOOT_CMD_POWER_OFF);
	return 0;
}
