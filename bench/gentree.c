/*
 * gentree.c - write a deterministic, web-like tree for the scan and idle
 * benchmarks: NFILES files summing to TOTAL_BYTES, most of them 1-64 KiB
 * (log-uniform), about 2% larger (64 KiB up to a few MB), 100 files per
 * directory in two levels (a000/b00/...). Same arguments, same bytes.
 *
 * Usage: gentree DIR NFILES TOTAL_BYTES
 * Build: cc -O2 -std=c17 -o gentree gentree.c -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SMALL_MIN	1024.0
#define SMALL_MAX	65536.0
#define LARGE_PERCENT	2
#define PER_DIR		100
#define SUBDIRS		32
#define CHUNK		(1u << 20)

static uint64_t
splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform double in [0, 1). */
static double
unit(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) * (1.0 / 9007199254740992.0);
}

static void
die(const char *what, const char *path)
{
	fprintf(stderr, "gentree: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void
mkdir_p(const char *path)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die("mkdir", path);
}

int
main(int argc, char **argv)
{
	static const char *small_ext[] = { "html", "css", "js", "png", "svg", "json", "txt", "gif" };
	static const char *large_ext[] = { "jpg", "pdf", "zip", "mp4" };
	uint64_t nfiles, total, seed = 20240917, sum_small = 0, nlarge = 0;
	uint64_t *size;
	unsigned char *large;
	double wsum = 0, *weight;
	char *buf, path[4096];

	if (argc != 4) {
		fprintf(stderr, "usage: gentree DIR NFILES TOTAL_BYTES\n");
		return 2;
	}
	nfiles = strtoull(argv[2], NULL, 10);
	total = strtoull(argv[3], NULL, 10);
	if (nfiles == 0) {
		fprintf(stderr, "gentree: NFILES must be > 0\n");
		return 2;
	}
	size = calloc(nfiles, sizeof(*size));
	weight = calloc(nfiles, sizeof(*weight));
	large = calloc(nfiles, 1);
	buf = malloc(CHUNK);
	if (size == NULL || weight == NULL || large == NULL || buf == NULL) {
		fprintf(stderr, "gentree: out of memory\n");
		return 1;
	}

	/* Sizes: small ones log-uniform in [1 KiB, 64 KiB]; large ones share what is left. */
	for (uint64_t i = 0; i < nfiles; i++) {
		if (splitmix64(&seed) % 100 < LARGE_PERCENT) {
			large[i] = 1;
			nlarge++;
			weight[i] = exp(unit(&seed) * log(256.0));	/* 1..256, log-uniform */
			wsum += weight[i];
		} else {
			size[i] = (uint64_t)exp(log(SMALL_MIN) + unit(&seed) * (log(SMALL_MAX) - log(SMALL_MIN)));
			sum_small += size[i];
		}
	}
	if (nlarge > 0 && total > sum_small + nlarge * (uint64_t)SMALL_MAX) {
		uint64_t rest = total - sum_small - nlarge * (uint64_t)SMALL_MAX, given = 0, last = 0;

		for (uint64_t i = 0; i < nfiles; i++) {
			if (!large[i])
				continue;
			size[i] = (uint64_t)SMALL_MAX + (uint64_t)((double)rest * weight[i] / wsum);
			given += size[i] - (uint64_t)SMALL_MAX;
			last = i;
		}
		size[last] += rest - given;	/* land exactly on TOTAL_BYTES */
	} else {
		/* Too little budget for large files: scale everything to fit. */
		uint64_t sum = 0, last = 0;

		for (uint64_t i = 0; i < nfiles; i++) {
			if (large[i])
				size[i] = (uint64_t)SMALL_MAX;
			sum += size[i];
		}
		double f = (double)total / (double)sum;
		uint64_t got = 0;

		for (uint64_t i = 0; i < nfiles; i++) {
			size[i] = (uint64_t)((double)size[i] * f);
			if (size[i] == 0)
				size[i] = 1;
			got += size[i];
			last = i;
		}
		if (got < total)
			size[last] += total - got;
	}

	mkdir_p(argv[1]);
	for (uint64_t i = 0; i < nfiles; i++) {
		uint64_t d = i / PER_DIR, s = 0x5eed0000ull + i, left = size[i];
		const char *ext = large[i] ? large_ext[i % 4] : small_ext[i % 8];
		int fd;

		snprintf(path, sizeof(path), "%s/a%03" PRIu64, argv[1], d / SUBDIRS);
		if (i % (PER_DIR * SUBDIRS) == 0)
			mkdir_p(path);
		snprintf(path, sizeof(path), "%s/a%03" PRIu64 "/b%02" PRIu64, argv[1], d / SUBDIRS,
			d % SUBDIRS);
		if (i % PER_DIR == 0)
			mkdir_p(path);
		snprintf(path, sizeof(path), "%s/a%03" PRIu64 "/b%02" PRIu64 "/f%07" PRIu64 ".%s",
			argv[1], d / SUBDIRS, d % SUBDIRS, i, ext);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			die("open", path);
		while (left > 0) {
			size_t n = left < CHUNK ? (size_t)left : CHUNK;

			for (size_t k = 0; k < n; k += 8) {
				uint64_t v = splitmix64(&s);

				memcpy(buf + k, &v, n - k < 8 ? n - k : 8);
			}
			for (size_t off = 0; off < n;) {
				ssize_t w = write(fd, buf + off, n - off);

				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					die("write", path);
				off += (size_t)w;
			}
			left -= n;
		}
		if (close(fd) < 0)
			die("close", path);
	}
	printf("gentree: %" PRIu64 " files (%" PRIu64 " large), %" PRIu64 " bytes in %s\n", nfiles,
		nlarge, total, argv[1]);
	return 0;
}
