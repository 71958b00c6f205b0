/*
 * store.c - the content store (see store.h): SHA-256-addressed, zstd-compressed
 * blobs under <state>/store/xx/<64 hex>.zst.
 *
 * A blob is written to an unnamed O_TMPFILE in <state>/store (or, where the
 * filesystem lacks O_TMPFILE, a ".tmp.*" file there) and only then linked
 * under its final name, so a full disk never leaves a partial blob under a
 * real name. Durability is batched: store_sync() (syncfs) before a baseline
 * that refers to new blobs is committed; a blob a crash left empty is taken
 * for absent and written again. store_put_fd() learns the hash only at EOF,
 * which is why the temp file lives in store/ and not in store/xx/: linkat()
 * only needs the same filesystem. An existing final name means the same
 * content is already there, so EEXIST is success (unless it is such an
 * empty remnant, which is replaced).
 *
 * Every path is opened relative to the store's directory fd, one component at
 * a time with O_NOFOLLOW. The struct is read-only after store_open() except for
 * a small mutex-guarded pool of idle compressors, so any number of threads may
 * use one store.
 */
#include "agent/guard/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compress/zstd_codec.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "tls/sha256.h"
#include "core/fdio.h"
#include "core/banned.h"

#define STORE_DIR		"store"
#define STORE_READ_SIZE		(128 * 1024)	/* on the stack: no mmap per file */
#define STORE_IDLE_ENC_MAX	4		/* a compressor holds a few MiB */
#define STORE_SUB_LEN		2		/* "xx" */
#define STORE_NAME_LEN		(SHA256_HEX_LEN + 4)	/* "<64 hex>.zst" */

struct store {
	int		 dirfd;		/* <state>/store */
	uint64_t	 max_bytes;
	pthread_mutex_t	 lock;		/* guards the pool below */
	struct zstd_enc	*idle_enc[STORE_IDLE_ENC_MAX];
	size_t		 n_idle_enc;
};

/* A blob being written: the temp file and the compressor feeding it. */
struct blob_writer {
	int		 fd;
	char		 tmpname[64];	/* "" for an O_TMPFILE */
	struct zstd_enc	*enc;
};

#define BLOB_WRITER_INIT	{ .fd = -1 }

static atomic_ulong store_tmp_counter;

static void
store_blob_names(const uint8_t hash[SHA256_LEN], char sub[STORE_SUB_LEN + 1],
		char name[STORE_NAME_LEN + 1])
{
	char hex[SHA256_HEX_LEN + 1];

	sha256_to_hex(hash, hex);
	memcpy(sub, hex, STORE_SUB_LEN);
	sub[STORE_SUB_LEN] = '\0';
	memcpy(name, hex, SHA256_HEX_LEN);
	memcpy(name + SHA256_HEX_LEN, ".zst", 5);
}

/* Open store/xx, creating it when asked. Two threads may create it at once:
 * EEXIST just means the other one won. */
static int
store_open_sub(struct store *s, const char *sub, bool create, int *ret_fd)
{
	int fd;

	if (create) {
		if (mkdirat(s->dirfd, sub, 0700) == 0) {
			/* Make the new entry durable before a blob depends on it. */
			if (fsync(s->dirfd) < 0)
				return -errno;
		} else if (errno != EEXIST) {
			return -errno;
		}
	}
	fd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*ret_fd = fd;
	return 0;
}

/* Open the blob for reading: -ENOENT if absent. */
static int
store_open_blob(struct store *s, const uint8_t hash[SHA256_LEN], int *ret_fd)
{
	char sub[STORE_SUB_LEN + 1], name[STORE_NAME_LEN + 1];
	struct stat st;
	int subfd = -1, fd = -1;
	int r;

	store_blob_names(hash, sub, name);
	r = store_open_sub(s, sub, false, &subfd);
	if (r < 0)
		goto out;
	/* O_NONBLOCK so that a FIFO planted here cannot hang the reader. */
	fd = openat(subfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = errno == ELOOP ? -EBADMSG : -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		goto out;
	}
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (subfd >= 0)
		close(subfd);
	return r;
}

int
store_open(int state_dirfd, uint64_t max_bytes, struct store **ret)
{
	struct store *s = NULL;
	struct stat st;
	int fd = -1;
	int r;

	if (mkdirat(state_dirfd, STORE_DIR, 0700) == 0) {
		if (fsync(state_dirfd) < 0) {
			r = -errno;
			goto out;
		}
	} else if (errno != EEXIST) {
		r = -errno;
		goto out;
	}
	fd = openat(state_dirfd, STORE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* Someone else's directory could be fed blobs behind our back. */
	if (st.st_uid != geteuid()) {
		r = -EPERM;
		goto out;
	}
	/* Tighten a loose mode (an old umask, a copy); a read-only store stays
	 * usable for restores. */
	if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0 && errno != EROFS) {
		r = -errno;
		goto out;
	}

	s = xcalloc(1, sizeof(*s));
	s->dirfd = fd;
	fd = -1;
	s->max_bytes = max_bytes;
	r = -pthread_mutex_init(&s->lock, NULL);
	if (r < 0) {
		close(s->dirfd);
		free(s);
		s = NULL;
		goto out;
	}
	*ret = s;
	s = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_idle_enc; i++)
		zstd_enc_free(s->idle_enc[i]);
	pthread_mutex_destroy(&s->lock);
	close(s->dirfd);
	free(s);
}

static int
store_enc_get(struct store *s, struct zstd_enc **ret)
{
	struct zstd_enc *e = NULL;

	pthread_mutex_lock(&s->lock);
	if (s->n_idle_enc > 0)
		e = s->idle_enc[--s->n_idle_enc];
	pthread_mutex_unlock(&s->lock);
	if (e != NULL) {
		*ret = e;
		return 0;
	}
	return zstd_enc_new(ZSTD_CODEC_LEVEL_DEFAULT, ret);
}

static void
store_enc_put(struct store *s, struct zstd_enc *e)
{
	zstd_enc_reset(e);
	pthread_mutex_lock(&s->lock);
	if (s->n_idle_enc < STORE_IDLE_ENC_MAX) {
		s->idle_enc[s->n_idle_enc++] = e;
		e = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	zstd_enc_free(e);
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
fd_write_cb(void *cbdata, const void *p, size_t n)
{
	return write_all(*(int *)cbdata, p, n);
}

/* Remove every trace of w: the temp file (an O_TMPFILE vanishes on close),
 * and give the compressor back. Safe to call twice. */
static void
blob_writer_discard(struct store *s, struct blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	if (w->tmpname[0] != '\0')
		(void)unlinkat(s->dirfd, w->tmpname, 0);
	w->tmpname[0] = '\0';
	if (w->enc != NULL)
		store_enc_put(s, w->enc);
	w->enc = NULL;
}

static int
blob_writer_begin(struct store *s, struct blob_writer *w)
{
	int r;

	w->fd = openat(s->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (w->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		/* No O_TMPFILE here: a name no other thread or process uses. */
		for (int tries = 0; tries < 16 && w->fd < 0; tries++) {
			snprintf(w->tmpname, sizeof(w->tmpname), ".tmp.%ld.%lu", (long)getpid(),
					atomic_fetch_add(&store_tmp_counter, 1));
			w->fd = openat(s->dirfd, w->tmpname,
					O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			if (w->fd < 0 && errno != EEXIST)
				break;
		}
		if (w->fd < 0)
			w->tmpname[0] = '\0';
	}
	if (w->fd < 0) {
		r = -errno;
		goto out;
	}
	r = store_enc_get(s, &w->enc);
out:
	if (r < 0)
		blob_writer_discard(s, w);
	return r;
}

static int
blob_writer_feed(struct blob_writer *w, const void *p, size_t n)
{
	return zstd_enc_feed(w->enc, p, n, fd_write_cb, &w->fd);
}

/* Give the temp file its final name in store/xx/. */
static int
blob_writer_link(struct store *s, struct blob_writer *w, int subfd, const char *name)
{
	char proc[64];

	if (w->tmpname[0] != '\0') {
		if (linkat(s->dirfd, w->tmpname, subfd, name, 0) < 0)
			return -errno;
		return 0;
	}
	if (linkat(w->fd, "", subfd, name, AT_EMPTY_PATH) == 0)
		return 0;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not. */
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", w->fd);
	if (linkat(AT_FDCWD, proc, subfd, name, AT_SYMLINK_FOLLOW) < 0)
		return -errno;
	return 0;
}

/* A blob shorter than this cannot be a zstd frame: it is what a crash leaves
 * of a blob whose data never reached the disk. */
#define STORE_MIN_BLOB	9

static bool
blob_present(int subfd, const char *name)
{
	struct stat st;

	return fstatat(subfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		st.st_size >= STORE_MIN_BLOB;
}

/* Finish the frame and name it. Durability comes from store_sync(), once for
 * a whole batch, not from an fsync per blob. The writer is discarded whatever
 * happens. */
static int
blob_writer_commit(struct store *s, struct blob_writer *w, const uint8_t hash[SHA256_LEN])
{
	char sub[STORE_SUB_LEN + 1], name[STORE_NAME_LEN + 1];
	int subfd = -1;
	int r;

	r = zstd_enc_finish(w->enc, fd_write_cb, &w->fd);
	if (r < 0)
		goto out;
	store_blob_names(hash, sub, name);
	r = store_open_sub(s, sub, true, &subfd);
	if (r < 0)
		goto out;
	r = blob_writer_link(s, w, subfd, name);
	if (r == -EEXIST && !blob_present(subfd, name)) {
		/* the remains of a crash: replace them */
		unlinkat(subfd, name, 0);
		r = blob_writer_link(s, w, subfd, name);
	}
	if (r == -EEXIST)
		r = 0;		/* same content, already there */
out:
	if (subfd >= 0)
		close(subfd);
	blob_writer_discard(s, w);
	return r;
}

uint64_t
store_max_bytes(const struct store *s)
{
	return s->max_bytes;
}

int
store_sync(struct store *s)
{
	return syncfs(s->dirfd) < 0 ? -errno : 0;
}

int
store_put_fd(struct store *s, int fd, uint8_t ret_hash[32], uint64_t *ret_size,
		bool *ret_stored)
{
	struct blob_writer w = BLOB_WRITER_INIT;
	struct sha256 *h = NULL;
	uint8_t buf[STORE_READ_SIZE];
	uint8_t hash[SHA256_LEN];
	uint64_t off = 0;
	struct stat st;
	bool storing = true, stored = false;
	int store_err = 0;	/* why storing stopped, if it failed */
	int r;

	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* Known too big: don't compress what will be thrown away. */
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > s->max_bytes)
		storing = false;
	if (storing) {
		store_err = blob_writer_begin(s, &w);
		storing = store_err == 0;
	}

	/* Storing may stop early (over the cap, disk full), but the hash is
	 * always of the whole content. */
	h = sha256_new();
	for (;;) {
		ssize_t n = pread(fd, buf, STORE_READ_SIZE, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		sha256_update(h, buf, (size_t)n);
		off += (uint64_t)n;
		if (!storing)
			continue;
		if (off > s->max_bytes) {
			blob_writer_discard(s, &w);
			storing = false;
			continue;
		}
		store_err = blob_writer_feed(&w, buf, (size_t)n);
		if (store_err < 0) {
			blob_writer_discard(s, &w);
			storing = false;
		}
	}
	sha256_final(h, hash);

	if (storing) {
		store_err = blob_writer_commit(s, &w, hash);
		stored = store_err == 0;
	}
	/* The store needs no writing if the content is in it already (an
	 * unchanged file on a full or read-only disk). */
	if (!stored)
		stored = store_has(s, hash);
	if (!stored && store_err < 0 && off <= s->max_bytes) {
		r = store_err;
		goto out;
	}

	memcpy(ret_hash, hash, SHA256_LEN);
	*ret_size = off;
	*ret_stored = stored;
	r = 0;
out:
	blob_writer_discard(s, &w);
	sha256_free(h);
	return r;
}

int
store_put_buf(struct store *s, const void *p, size_t n, uint8_t ret_hash[32])
{
	struct blob_writer w = BLOB_WRITER_INIT;
	uint8_t hash[SHA256_LEN];
	int r;

	sha256_buf(p, n, hash);
	if (!store_has(s, hash)) {
		r = blob_writer_begin(s, &w);
		if (r < 0)
			goto out;
		r = blob_writer_feed(&w, p, n);
		if (r < 0)
			goto out;
		r = blob_writer_commit(s, &w, hash);
		if (r < 0)
			goto out;
	}
	memcpy(ret_hash, hash, SHA256_LEN);
	r = 0;
out:
	blob_writer_discard(s, &w);
	return r;
}

bool
store_has(struct store *s, const uint8_t hash[32])
{
	char sub[STORE_SUB_LEN + 1], name[STORE_NAME_LEN + 1];
	int subfd = -1;
	bool has;

	store_blob_names(hash, sub, name);
	if (store_open_sub(s, sub, false, &subfd) < 0)
		return false;
	has = blob_present(subfd, name);
	close(subfd);
	return has;
}

/* Output of a blob on its way to a sink, hashed on the way through. */
struct blob_reader {
	struct sha256	*h;
	zstd_write_cb	*sink;
	void		*sinkdata;
};

static int
blob_reader_cb(void *cbdata, const void *p, size_t n)
{
	struct blob_reader *rd = cbdata;

	sha256_update(rd->h, p, n);
	return rd->sink(rd->sinkdata, p, n);
}

/* Decompress the blob into sink, at most max bytes, and check its hash. */
static int
store_get(struct store *s, const uint8_t hash[SHA256_LEN], uint64_t max, zstd_write_cb *sink,
		void *sinkdata)
{
	struct blob_reader rd = { .sink = sink, .sinkdata = sinkdata };
	struct zstd_dec *dec = NULL;
	uint8_t buf[STORE_READ_SIZE];
	uint8_t got[SHA256_LEN];
	int fd = -1;
	int r;

	r = store_open_blob(s, hash, &fd);
	if (r < 0)
		goto out;
	rd.h = sha256_new();
	dec = zstd_dec_new(max);
	for (;;) {
		ssize_t n = fd_read(fd, buf, STORE_READ_SIZE);

		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		r = zstd_dec_feed(dec, buf, (size_t)n, blob_reader_cb, &rd);
		if (r < 0)
			goto out;
	}
	r = zstd_dec_finish(dec);
	if (r < 0)
		goto out;
	sha256_final(rd.h, got);
	if (memcmp(got, hash, SHA256_LEN) != 0) {
		r = -EBADMSG;
		goto out;
	}
	r = 0;
out:
	zstd_dec_free(dec);
	sha256_free(rd.h);
	if (fd >= 0)
		close(fd);
	return r;
}

int
store_get_fd(struct store *s, const uint8_t hash[32], int out_fd)
{
	return store_get(s, hash, UINT64_MAX, fd_write_cb, &out_fd);
}

static int
buf_write_cb(void *cbdata, const void *p, size_t n)
{
	return buf_append(cbdata, p, n);
}

int
store_get_buf(struct store *s, const uint8_t hash[32], size_t max, void **ret,
		size_t *ret_len)
{
	struct buf b;
	int r;

	/* The decoder stops at max; the buffer's own cap is a second fence
	 * (buf treats 0 as "no cap", but then the decoder allows nothing, and
	 * its cap must stay below SIZE_MAX). */
	buf_init(&b, max < SIZE_MAX ? max : SIZE_MAX - 1);
	r = store_get(s, hash, max, buf_write_cb, &b);
	if (r == -E2BIG)
		r = -EFBIG;
	if (r < 0)
		goto out;
	*ret = buf_detach(&b, ret_len);
	r = 0;
out:
	buf_release(&b);
	return r;
}
