/*
 * test_store.c - the content store: what goes in comes out, once, intact or
 * not at all; damage is noticed; a full or read-only disk leaves no debris.
 * The mount tests need root (they skip without it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cmocka.h>

#include "compress/zstd_codec.h"
#include "core/buf.h"
#include "agent/guard/store.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define MIB		(1024 * 1024)
#define DEFAULT_MAX	(16 * MIB)

struct fixture {
	char		 dir[64];	/* the state directory */
	int		 dirfd;
	struct store	*store;
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0)
		return -1;
	if (store_open(f->dirfd, DEFAULT_MAX, &f->store) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char mnt[128];

	store_free(f->store);
	close(f->dirfd);
	snprintf(mnt, sizeof(mnt), "%s/mnt", f->dir);
	(void)umount2(mnt, MNT_DETACH);	/* if a mount test failed half-way */
	rm_rf(f->dir);
	free(f);
	return 0;
}

static void *
random_bytes(size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	size_t off = 0;

	assert_non_null(p);
	while (off < n) {
		ssize_t k = getrandom(p + off, n - off, 0);

		assert_true(k > 0);
		off += (size_t)k;
	}
	return p;
}

/* A file holding p[0..n), with its offset left at the end. */
static int
source_fd(const void *p, size_t n)
{
	int fd = memfd_create("src", MFD_CLOEXEC);

	assert_true(fd >= 0);
	if (n > 0)
		assert_int_equal(write(fd, p, n), (ssize_t)n);
	return fd;
}

static void
assert_fd_content(int fd, const void *p, size_t n)
{
	struct stat st;
	uint8_t *got;

	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, n);
	got = malloc(n ? n : 1);
	assert_int_equal(pread(fd, got, n, 0), (ssize_t)n);
	assert_memory_equal(got, p, n);
	free(got);
}

static void
blob_path(const char *statedir, const uint8_t hash[32], char *out, size_t outlen)
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_to_hex(hash, hex);
	snprintf(out, outlen, "%s/store/%.2s/%s.zst", statedir, hex, hex);
}

/* Every directory entry below <state>/store that is not a directory: blobs
 * and any temp file left behind. */
static unsigned
count_store_files(const char *statedir)
{
	char path[256];
	unsigned n = 0;
	DIR *top, *sub;
	struct dirent *de, *se;

	snprintf(path, sizeof(path), "%s/store", statedir);
	top = opendir(path);
	assert_non_null(top);
	while ((de = readdir(top)) != NULL) {
		char subpath[512];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(subpath, sizeof(subpath), "%s/%s", path, de->d_name);
		sub = opendir(subpath);
		if (sub == NULL) {
			n++;	/* a file at the top: a leftover temp */
			continue;
		}
		while ((se = readdir(sub)) != NULL)
			if (strcmp(se->d_name, ".") != 0 && strcmp(se->d_name, "..") != 0)
				n++;
		closedir(sub);
	}
	closedir(top);
	return n;
}

/* Put p[0..n) through store_put_fd and check that both getters return it. */
static void
round_trip(struct store *s, const void *p, size_t n)
{
	uint8_t hash[32], want[32], hash2[32];
	uint64_t size = 1234;
	bool stored = false;
	void *got = NULL;
	size_t got_len = 0;
	int src, out;

	sha256_buf(p, n, want);
	src = source_fd(p, n);		/* offset at the end: must not matter */
	assert_int_equal(store_put_fd(s, src, hash, &size, &stored), 0);
	close(src);
	assert_memory_equal(hash, want, 32);
	assert_int_equal(size, n);
	assert_true(stored);
	assert_true(store_has(s, hash));

	out = memfd_create("out", MFD_CLOEXEC);
	assert_int_equal(store_get_fd(s, hash, out), 0);
	assert_fd_content(out, p, n);
	close(out);

	assert_int_equal(store_get_buf(s, hash, n, &got, &got_len), 0);
	assert_int_equal(got_len, n);
	assert_memory_equal(got, p, n);
	free(got);

	assert_int_equal(store_put_buf(s, p, n, hash2), 0);
	assert_memory_equal(hash2, want, 32);
}

static void
round_trip_small_empty_and_large(void **state)
{
	struct fixture *f = *state;
	void *big = random_bytes(MIB);
	struct buf text;

	round_trip(f->store, "hello, world\n", 13);
	round_trip(f->store, "", 0);
	round_trip(f->store, big, MIB);
	/* Compressible, and longer than one read and one zstd output buffer. */
	buf_init(&text, 0);
	for (unsigned i = 0; text.len < 3 * MIB; i++)
		assert_int_equal(buf_appendf(&text, "line %u of a log file\n", i), 0);
	round_trip(f->store, text.data, text.len);
	assert_int_equal(count_store_files(f->dir), 4);
	buf_release(&text);
	free(big);
}

static void
put_buf_round_trip(void **state)
{
	struct fixture *f = *state;
	uint8_t hash[32], want[32];
	void *got = NULL;
	size_t len = 0;

	assert_int_equal(store_put_buf(f->store, "abc", 3, hash), 0);
	sha256_buf("abc", 3, want);
	assert_memory_equal(hash, want, 32);
	assert_int_equal(store_get_buf(f->store, hash, 100, &got, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(got, "abc", 3);
	free(got);
}

static void
same_content_stored_once(void **state)
{
	struct fixture *f = *state;
	void *p = random_bytes(100000);
	uint8_t h1[32], h2[32], h3[32];
	char path[256];
	struct stat st1, st2;
	uint64_t size;
	bool stored;
	int src;

	src = source_fd(p, 100000);
	assert_int_equal(store_put_fd(f->store, src, h1, &size, &stored), 0);
	blob_path(f->dir, h1, path, sizeof(path));
	assert_int_equal(stat(path, &st1), 0);

	assert_int_equal(store_put_fd(f->store, src, h2, &size, &stored), 0);
	assert_true(stored);
	assert_int_equal(store_put_buf(f->store, p, 100000, h3), 0);
	close(src);
	assert_memory_equal(h1, h2, 32);
	assert_memory_equal(h1, h3, 32);
	assert_int_equal(count_store_files(f->dir), 1);
	/* Not rewritten either. */
	assert_int_equal(stat(path, &st2), 0);
	assert_int_equal(st1.st_ino, st2.st_ino);

	assert_int_equal(store_put_buf(f->store, "other", 5, h3), 0);
	assert_int_equal(count_store_files(f->dir), 2);
	free(p);
}

static void
over_cap_hashed_not_stored(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	void *p = random_bytes(1001);
	uint8_t hash[32], want[32];
	uint64_t size = 0;
	bool stored = true;
	void *got;
	size_t len;
	int src;

	assert_int_equal(store_open(f->dirfd, 1000, &s), 0);

	src = source_fd(p, 1001);
	assert_int_equal(store_put_fd(s, src, hash, &size, &stored), 0);
	close(src);
	sha256_buf(p, 1001, want);
	assert_memory_equal(hash, want, 32);
	assert_int_equal(size, 1001);
	assert_false(stored);
	assert_false(store_has(s, hash));
	assert_int_equal(store_get_buf(s, hash, 10000, &got, &len), -ENOENT);

	/* Exactly at the cap is stored. */
	src = source_fd(p, 1000);
	assert_int_equal(store_put_fd(s, src, hash, &size, &stored), 0);
	close(src);
	assert_true(stored);
	assert_int_equal(size, 1000);
	assert_int_equal(count_store_files(f->dir), 1);
	store_free(s);
	free(p);
}

static void
over_cap_found_while_reading(void **state)
{
	/* /proc files claim size 0, so the cap is only found mid-read: the
	 * half-written blob must go and the hash still cover everything. */
	struct fixture *f = *state;
	struct store *s = NULL;
	uint8_t hash[32], want[32];
	char content[65536];
	ssize_t n;
	uint64_t size = 0;
	bool stored = true;
	int src;

	src = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		skip();
	n = read(src, content, sizeof(content));
	if (n < 64 || n == (ssize_t)sizeof(content))
		skip();
	sha256_buf(content, (size_t)n, want);

	assert_int_equal(store_open(f->dirfd, 16, &s), 0);
	assert_int_equal(store_put_fd(s, src, hash, &size, &stored), 0);
	assert_memory_equal(hash, want, 32);
	assert_int_equal(size, n);
	assert_false(stored);
	assert_int_equal(count_store_files(f->dir), 0);
	store_free(s);

	assert_int_equal(store_put_fd(f->store, src, hash, &size, &stored), 0);
	assert_true(stored);
	assert_memory_equal(hash, want, 32);
	close(src);
}

static void
missing_is_enoent(void **state)
{
	struct fixture *f = *state;
	uint8_t hash[32];
	void *got = NULL;
	size_t len = 0;
	int out;

	sha256_buf("never stored", 12, hash);
	assert_false(store_has(f->store, hash));
	assert_int_equal(store_get_buf(f->store, hash, 1000, &got, &len), -ENOENT);
	out = memfd_create("out", MFD_CLOEXEC);
	assert_int_equal(store_get_fd(f->store, hash, out), -ENOENT);
	close(out);
	assert_null(got);
}

static int
buf_cb(void *cbdata, const void *p, size_t n)
{
	return buf_append(cbdata, p, n);
}

/* Store some content, then let damage() change its blob file: both getters
 * must report -EBADMSG. */
static void
assert_damage_detected(struct fixture *f, void (*damage)(const char *path, size_t len))
{
	void *p = random_bytes(100000);
	uint8_t hash[32];
	char path[256];
	struct stat st;
	void *got = NULL;
	size_t len = 0;
	int out;

	assert_int_equal(store_put_buf(f->store, p, 100000, hash), 0);
	blob_path(f->dir, hash, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	damage(path, (size_t)st.st_size);

	assert_int_equal(store_get_buf(f->store, hash, MIB, &got, &len), -EBADMSG);
	assert_null(got);
	out = memfd_create("out", MFD_CLOEXEC);
	assert_int_equal(store_get_fd(f->store, hash, out), -EBADMSG);
	close(out);
	assert_int_equal(unlink(path), 0);
	free(p);
}

static void
flip_middle_byte(const char *path, size_t len)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_int_equal(pread(fd, &c, 1, (off_t)len / 2), 1);
	c ^= 0x01;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)len / 2), 1);
	close(fd);
}

static void
truncate_half(const char *path, size_t len)
{
	assert_int_equal(truncate(path, (off_t)len / 2), 0);
}

static void
truncate_all(const char *path, size_t len)
{
	assert_int_equal(truncate(path, 0), 0);
}

static void
append_garbage(const char *path, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_int_equal(write(fd, "garbage", 7), 7);
	close(fd);
}

/* A perfectly valid frame, of the wrong content: only the hash check sees it. */
static void
replace_with_other_content(const char *path, size_t len)
{
	struct zstd_enc *e = NULL;
	struct buf b;
	int fd;

	buf_init(&b, 0);
	assert_int_equal(zstd_enc_new(ZSTD_CODEC_LEVEL_DEFAULT, &e), 0);
	assert_int_equal(zstd_enc_feed(e, "not the content", 15, buf_cb, &b), 0);
	assert_int_equal(zstd_enc_finish(e, buf_cb, &b), 0);
	zstd_enc_free(e);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
	close(fd);
	buf_release(&b);
}

static void
corrupt_blob_detected(void **state)
{
	struct fixture *f = *state;

	assert_damage_detected(f, flip_middle_byte);
	assert_damage_detected(f, truncate_half);
	assert_damage_detected(f, truncate_all);
	assert_damage_detected(f, append_garbage);
	assert_damage_detected(f, replace_with_other_content);
}

static void
get_buf_cap(void **state)
{
	struct fixture *f = *state;
	char *zeros = calloc(1, 8 * MIB);
	uint8_t hash[32];
	void *got = NULL;
	size_t len = 0;

	assert_int_equal(store_put_buf(f->store, "0123456789", 10, hash), 0);
	assert_int_equal(store_get_buf(f->store, hash, 9, &got, &len), -EFBIG);
	assert_null(got);
	assert_int_equal(store_get_buf(f->store, hash, 10, &got, &len), 0);
	assert_int_equal(len, 10);
	free(got);
	got = NULL;

	/* 8 MiB of zeros is a blob of a few hundred bytes: a small cap stops it. */
	assert_int_equal(store_put_buf(f->store, zeros, 8 * MIB, hash), 0);
	assert_int_equal(store_get_buf(f->store, hash, 64 * 1024, &got, &len), -EFBIG);
	assert_null(got);
	assert_int_equal(store_get_buf(f->store, hash, 0, &got, &len), -EFBIG);
	assert_int_equal(store_get_buf(f->store, hash, SIZE_MAX, &got, &len), 0);
	assert_int_equal(len, 8 * MIB);
	assert_memory_equal(got, zeros, 8 * MIB);
	free(got);
	free(zeros);
}

static void
permissions(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	char dir[128], path[256];
	uint8_t hash[32];
	struct stat st;
	mode_t old;
	int dirfd;

	/* With no umask to hide a mistake. */
	old = umask(0);
	snprintf(dir, sizeof(dir), "%s/perm", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(store_open(dirfd, DEFAULT_MAX, &s), 0);
	assert_int_equal(store_put_buf(s, "secret", 6, hash), 0);
	umask(old);

	snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	blob_path(dir, hash, path, sizeof(path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(S_ISREG(st.st_mode));
	*strrchr(path, '/') = '\0';
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	store_free(s);

	/* A loose store directory is tightened on open. */
	snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(store_open(dirfd, DEFAULT_MAX, &s), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	store_free(s);
	close(dirfd);
}

static void
symlinked_store_refused(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	char dir[128], path[256], target[256];
	int dirfd;

	snprintf(dir, sizeof(dir), "%s/link", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(target, 0700), 0);
	snprintf(path, sizeof(path), "%s/store", dir);
	assert_int_equal(symlink(target, path), 0);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_int_equal(store_open(dirfd, DEFAULT_MAX, &s), -ENOTDIR);
	assert_null(s);
	close(dirfd);
}

/* A fresh tmpfs at <fixture>/mnt, or skip the test when we may not mount. */
static int
mount_tmpfs(struct fixture *f, const char *opts, char *mnt, size_t mntlen)
{
	int fd;

	snprintf(mnt, mntlen, "%s/mnt", f->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
		rmdir(mnt);
		skip();
	}
	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	return fd;
}

static void
read_only_store(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	void *a = random_bytes(50000), *b = random_bytes(50000);
	uint8_t ha[32], hb[32], want_b[32];
	char mnt[128];
	void *got;
	size_t len;
	uint64_t size;
	bool stored;
	int fd, src;

	fd = mount_tmpfs(f, "size=4m,mode=0700", mnt, sizeof(mnt));
	assert_int_equal(store_open(fd, DEFAULT_MAX, &s), 0);
	assert_int_equal(store_put_buf(s, a, 50000, ha), 0);
	assert_int_equal(mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0);

	/* New content cannot go in... */
	src = source_fd(b, 50000);
	stored = true;
	assert_int_equal(store_put_fd(s, src, hb, &size, &stored), -EROFS);
	assert_true(stored);	/* nothing returned */
	close(src);
	assert_int_equal(store_put_buf(s, b, 50000, hb), -EROFS);
	sha256_buf(b, 50000, want_b);
	assert_false(store_has(s, want_b));
	assert_int_equal(count_store_files(mnt), 1);

	/* ...but content already there is "stored", and can be restored. */
	src = source_fd(a, 50000);
	assert_int_equal(store_put_fd(s, src, hb, &size, &stored), 0);
	assert_true(stored);
	assert_memory_equal(hb, ha, 32);
	close(src);
	assert_int_equal(store_get_buf(s, ha, MIB, &got, &len), 0);
	assert_int_equal(len, 50000);
	assert_memory_equal(got, a, 50000);
	free(got);

	/* Opening a read-only store works: restores need it. */
	store_free(s);
	assert_int_equal(store_open(fd, DEFAULT_MAX, &s), 0);
	assert_true(store_has(s, ha));
	store_free(s);

	close(fd);
	assert_int_equal(umount(mnt), 0);
	free(a);
	free(b);
}

static void
full_disk_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;
	void *big = random_bytes(MIB);
	uint8_t hash[32], small_hash[32];
	struct statvfs before, after;
	char mnt[128];
	uint64_t size;
	bool stored;
	int fd, src;

	fd = mount_tmpfs(f, "size=64k,mode=0700", mnt, sizeof(mnt));
	assert_int_equal(store_open(fd, DEFAULT_MAX, &s), 0);
	assert_int_equal(fstatvfs(fd, &before), 0);

	src = source_fd(big, MIB);
	assert_int_equal(store_put_fd(s, src, hash, &size, &stored), -ENOSPC);
	close(src);
	assert_int_equal(store_put_buf(s, big, MIB, hash), -ENOSPC);
	assert_int_equal(count_store_files(mnt), 0);
	assert_int_equal(fstatvfs(fd, &after), 0);
	assert_int_equal(after.f_bfree, before.f_bfree);

	/* The space came back: a small file still fits. */
	src = source_fd("small", 5);
	assert_int_equal(store_put_fd(s, src, small_hash, &size, &stored), 0);
	assert_true(stored);
	close(src);
	assert_int_equal(count_store_files(mnt), 1);

	store_free(s);
	close(fd);
	assert_int_equal(umount(mnt), 0);
	free(big);
}

struct worker {
	struct store	*store;
	unsigned	 id;
	int		 failures;
};

#define WORKER_ROUNDS	40
#define DISTINCT	12

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	for (unsigned i = 0; i < WORKER_ROUNDS; i++) {
		char content[4096];
		uint8_t hash[32], want[32];
		unsigned k = (i + w->id) % DISTINCT;
		void *got = NULL;
		size_t len = 0;
		uint64_t size;
		bool stored = false;
		int r;

		for (size_t j = 0; j < sizeof(content); j++)
			content[j] = (char)(k * 31 + j % (k + 7));
		sha256_buf(content, sizeof(content), want);
		if (i % 2 == 0) {
			int src = memfd_create("w", MFD_CLOEXEC);

			if (write(src, content, sizeof(content)) != (ssize_t)sizeof(content))
				w->failures++;
			r = store_put_fd(w->store, src, hash, &size, &stored);
			close(src);
			if (r < 0 || !stored)
				w->failures++;
		} else {
			r = store_put_buf(w->store, content, sizeof(content), hash);
			if (r < 0)
				w->failures++;
		}
		if (memcmp(hash, want, 32) != 0)
			w->failures++;
		if (store_get_buf(w->store, hash, sizeof(content), &got, &len) < 0 ||
				len != sizeof(content) || memcmp(got, content, len) != 0)
			w->failures++;
		free(got);
	}
	return NULL;
}

static void
threads_share_a_store(void **state)
{
	struct fixture *f = *state;
	struct worker w[6];
	pthread_t t[6];

	for (unsigned i = 0; i < 6; i++) {
		w[i] = (struct worker){ .store = f->store, .id = i };
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(count_store_files(f->dir), DISTINCT);
}

static void
zstd_decoder_limits(void **state)
{
	/* The codec on its own: the output cap, truncation and trailing junk. */
	struct zstd_enc *e = NULL;
	struct zstd_dec *d;
	struct buf frame, out;
	char *zeros = calloc(1, MIB);

	buf_init(&frame, 0);
	buf_init(&out, 0);
	assert_int_equal(zstd_enc_new(1000, &e), -EINVAL);
	assert_int_equal(zstd_enc_new(ZSTD_CODEC_LEVEL_DEFAULT, &e), 0);
	assert_int_equal(zstd_enc_feed(e, zeros, MIB, buf_cb, &frame), 0);
	assert_int_equal(zstd_enc_finish(e, buf_cb, &frame), 0);
	zstd_enc_free(e);

	d = zstd_dec_new(MIB - 1);
	assert_int_equal(zstd_dec_feed(d, frame.data, frame.len, buf_cb, &out), -EFBIG);
	assert_true(out.len <= MIB - 1);
	assert_int_equal(zstd_dec_finish(d), -EFBIG);	/* sticky */
	zstd_dec_free(d);

	d = zstd_dec_new(MIB);
	buf_reset(&out);
	for (size_t i = 0; i < frame.len; i++)	/* byte by byte */
		assert_int_equal(zstd_dec_feed(d, frame.data + i, 1, buf_cb, &out), 0);
	assert_int_equal(zstd_dec_finish(d), 0);
	assert_int_equal(zstd_dec_total(d), MIB);
	assert_int_equal(out.len, MIB);

	zstd_dec_reset(d);
	assert_int_equal(zstd_dec_finish(d), -EBADMSG);	/* no frame at all */
	zstd_dec_reset(d);
	buf_reset(&out);
	assert_int_equal(zstd_dec_feed(d, frame.data, frame.len - 1, buf_cb, &out), 0);
	assert_int_equal(zstd_dec_finish(d), -EBADMSG);	/* truncated */
	zstd_dec_reset(d);
	buf_reset(&out);
	assert_int_equal(zstd_dec_feed(d, "this is not a zstd frame", 24, buf_cb, &out), -EBADMSG);

	/* Frames asking for a 32 MiB window are refused, 16 MiB is fine (an
	 * empty frame: magic, descriptor, window byte, last raw block of 0). */
	zstd_dec_reset(d);
	assert_int_equal(zstd_dec_feed(d, "\x28\xb5\x2f\xfd\x00\x78\x01\x00\x00", 9, buf_cb,
			&out), -EBADMSG);
	zstd_dec_reset(d);
	assert_int_equal(zstd_dec_feed(d, "\x28\xb5\x2f\xfd\x00\x70\x01\x00\x00", 9, buf_cb,
			&out), 0);
	assert_int_equal(zstd_dec_finish(d), 0);
	assert_int_equal(zstd_dec_total(d), 0);
	zstd_dec_free(d);

	buf_release(&frame);
	buf_release(&out);
	free(zeros);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_small_empty_and_large, setup, teardown),
		cmocka_unit_test_setup_teardown(put_buf_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(same_content_stored_once, setup, teardown),
		cmocka_unit_test_setup_teardown(over_cap_hashed_not_stored, setup, teardown),
		cmocka_unit_test_setup_teardown(over_cap_found_while_reading, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_blob_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(get_buf_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(symlinked_store_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only_store, setup, teardown),
		cmocka_unit_test_setup_teardown(full_disk_leaves_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(threads_share_a_store, setup, teardown),
		cmocka_unit_test(zstd_decoder_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
