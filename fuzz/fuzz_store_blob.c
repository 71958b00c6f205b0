/*
 * fuzz_store_blob.c - libFuzzer target: a blob file holding arbitrary bytes
 * must only ever read back as its content or an error, never a crash, a hang
 * or more than the cap. The input is written as the blob of one fixed hash in
 * a store created once per process under /tmp.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/guard/store.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define FUZZ_GET_MAX	(4 * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *fuzz_store;
static int fuzz_subfd = -1;
static char fuzz_name[SHA256_HEX_LEN + 5];
/* sha256("") so that an input that is a valid frame of nothing reaches the success path. */
static uint8_t fuzz_hash[SHA256_LEN];

static void
fuzz_setup(void)
{
	char dir[] = "/tmp/fuzz_store_blob.XXXXXX";
	char hex[SHA256_HEX_LEN + 1], sub[3];
	int dirfd, storefd;

	if (mkdtemp(dir) == NULL)
		abort();
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || store_open(dirfd, 1024 * 1024, &fuzz_store) < 0)
		abort();
	sha256_buf("", 0, fuzz_hash);
	sha256_to_hex(fuzz_hash, hex);
	snprintf(sub, sizeof(sub), "%.2s", hex);
	snprintf(fuzz_name, sizeof(fuzz_name), "%s.zst", hex);
	storefd = openat(dirfd, "store", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (storefd < 0 || (mkdirat(storefd, sub, 0700) < 0 && errno != EEXIST))
		abort();
	fuzz_subfd = openat(storefd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fuzz_subfd < 0)
		abort();
	close(storefd);
	close(dirfd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *out = NULL;
	size_t len = 0;
	int fd, r;

	if (fuzz_store == NULL)
		fuzz_setup();
	fd = openat(fuzz_subfd, fuzz_name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	close(fd);

	r = store_get_buf(fuzz_store, fuzz_hash, FUZZ_GET_MAX, &out, &len);
	if (r == 0) {
		if (len != 0)		/* only the empty content hashes to this */
			__builtin_trap();
		free(out);
	} else if (r != -EBADMSG && r != -EFBIG) {
		__builtin_trap();
	}
	return 0;
}
