/*
 * fuzz_hsdb_cache.c - libFuzzer target: a cache file of compiled rules
 * (detect/hs_db.c) with any content after a valid checksum. The input is
 * written as the cache entry of a fixed set of expressions (magic, SHA-256 of
 * the rest, then the input), and hsdb_compile is asked for that set: it must
 * either load it or compile afresh, never crash, and the database it returns
 * must scan. (Without the fix-up every input would stop at the checksum.)
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fdio.h"
#include "detect/hs_db.h"
#include "tls/sha256.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const exprs[] = { "abc", "d.*f" };
static const unsigned flags[] = { HSDB_CASELESS, HSDB_DOTALL };
static const unsigned ids[] = { 0, 1 };

static int dirfd_cache = -1;
static char entry[128];
static char dir[64];

/* The cache directory goes when the fuzzer ends. */
static void
cleanup(void)
{
	if (dirfd_cache >= 0 && entry[0] != '\0')
		(void)unlinkat(dirfd_cache, entry, 0);
	if (dir[0] != '\0')
		(void)rmdir(dir);
}

static void
on_refuse(unsigned id, const char *message, void *data)
{
	(void)id;
	(void)message;
	(void)data;
}

/* Learn the entry's file name: compile once into an empty cache. */
static void
setup(void)
{
	char tmpl[] = "/tmp/fuzz_hsdb_cache.XXXXXX";
	struct hsdb *db = NULL;
	FILE *ls;

	if (mkdtemp(tmpl) == NULL)
		abort();
	memcpy(dir, tmpl, sizeof(tmpl));
	atexit(cleanup);
	dirfd_cache = hsdb_cache_open(tmpl);
	if (dirfd_cache < 0)
		abort();
	if (hsdb_compile(exprs, flags, ids, 2, on_refuse, NULL, dirfd_cache, &db, NULL) < 0)
		abort();
	hsdb_free(db);
	snprintf(entry, sizeof(entry), "ls %s", tmpl);
	ls = popen(entry, "r");
	if (ls == NULL || fgets(entry, sizeof(entry), ls) == NULL)
		abort();
	pclose(ls);
	entry[strcspn(entry, "\n")] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *file = malloc(8 + SHA256_LEN + size + 1);
	struct hsdb *db = NULL;
	struct hsdb_scratch *scr = NULL;
	uint64_t bits[1] = { 0 };
	unsigned hit[2];
	struct hsdb_hits hits = { bits, hit, 0 };
	int fd;

	if (file == NULL)
		return 0;
	if (dirfd_cache < 0)
		setup();
	memcpy(file, "YJHSDB1\n", 8);
	if (size > 0)
		memcpy(file + 8 + SHA256_LEN, data, size);
	sha256_buf(file + 8 + SHA256_LEN, size, file + 8);
	fd = openat(dirfd_cache, entry, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	if (fd < 0 || fd_write_all(fd, file, 8 + SHA256_LEN + size) < 0)
		abort();
	close(fd);
	free(file);
	if (hsdb_compile(exprs, flags, ids, 2, on_refuse, NULL, dirfd_cache, &db, NULL) < 0)
		return 0;
	if (db != NULL && hsdb_scratch_grow(&scr, db) == 0)
		(void)hsdb_scan(db, scr, "xxabcxxdxf", 10, &hits);
	hsdb_scratch_free(scr);
	hsdb_free(db);
	return 0;
}
