/* scan.c - the tree walk and the parallel hashing pool. */
#include "agent/guard/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/guard/store.h"
#include "core/path.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "core/fdio.h"
#include "tls/sha256.h"
#include "tls/sha256_batch.h"
#include "core/banned.h"

/* Without a content store, files up to SHA256_BATCH_MSG_MAX are read whole
 * into the walker's batch buffer and hashed SHA256_BATCH_MAX at a time in
 * SIMD lanes (tls/sha256_batch.h); bigger ones are streamed through OpenSSL. */
#define BATCH_FILE_MAX	SHA256_BATCH_MSG_MAX
#define BATCH_BYTES_MAX	(8u << 20)	/* per thread, */
#define BATCH_BYTES_ALL	(64u << 20)	/* and all threads' together at most */

static int
read_link(int dirfd, const char *name, char **ret)
{
	char target[4097];
	ssize_t n;

	n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	*ret = xstrdup(target);
	return 0;
}

/* Open a regular file for hashing, name relative to dirfd (one component,
 * or a path below it); O_NOATIME where we may. */
static int
open_for_hash(int dirfd, const char *rel)
{
	int fd = openat_beneath(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOATIME, 0);

	if (fd == -EPERM)
		fd = openat_beneath(dirfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	return fd;
}

static int
open_child_for_hash(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOATIME | O_CLOEXEC);

	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Hash (and store) the regular file open at fd into e. Refreshes e's metadata
 * from the opened file, so a file replaced between listing and hashing is
 * recorded as it is. */
static int
hash_fd(int fd, struct fentry *e, struct store *store, uint64_t *ret_read, bool *ret_stored,
	int *ret_store_err)
{
	struct stat st;
	bool stored = false;
	uint64_t size = 0;
	int r;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOENT;	/* replaced by something else: the watcher will say so */
	fentry_set_stat(e, &st);
	if (store != NULL) {
		r = store_put_fd(store, fd, e->hash, &size, &stored);
		if (r == -ENOSPC || r == -EROFS || r == -EDQUOT) {
			/* The state directory cannot take it: still record the hash
			 * (changes are then alerted, not restored) and say why. */
			*ret_store_err = r;
			if (lseek(fd, 0, SEEK_SET) == 0)
				r = sha256_fd(fd, e->hash, &size);
			stored = false;
		}
	} else {
		r = sha256_fd(fd, e->hash, &size);
	}
	if (r < 0)
		return r;
	e->flags = FE_HASHED | (stored ? FE_STORED : 0);
	*ret_read = size;
	*ret_stored = stored;
	return 0;
}

static int
hash_entry(int rootfd, struct fentry *e, struct store *store, uint64_t *ret_read, bool *ret_stored,
	int *ret_store_err)
{
	int fd = open_for_hash(rootfd, e->path), r;

	if (fd < 0)
		return fd;
	r = hash_fd(fd, e, store, ret_read, ret_stored, ret_store_err);
	close(fd);
	return r;
}

int
scan_one(int rootfd, const char *rel, bool hash, struct store *store, struct fentry *ret)
{
	struct fentry e = { 0 };
	struct stat st;
	const char *name = NULL;
	uint64_t nread;
	bool stored;
	int dfd = -1, r;

	if (rel[0] == '\0') {
		dfd = openat_beneath(rootfd, "", O_PATH | O_DIRECTORY, 0);
		name = "";
	} else {
		dfd = openat_parent_beneath(rootfd, rel, &name);
	}
	if (dfd < 0)
		return dfd == -ENOTDIR ? -ENOENT : dfd;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) < 0) {
		r = -errno;
		goto out;
	}
	e.path = xstrdup(rel);
	fentry_set_stat(&e, &st);
	if (e.type == FT_LNK) {
		r = read_link(dfd, name, &e.link);
		if (r < 0)
			goto out;
	}
	if (e.type == FT_REG && hash) {
		int store_err = 0;

		r = hash_entry(rootfd, &e, store, &nread, &stored, &store_err);
		if (r < 0)
			goto out;
	}
	*ret = e;
	memset(&e, 0, sizeof(e));
	r = 0;
out:
	fentry_release(&e);
	close(dfd);
	return r;
}

/*
 * The parallel walk: every thread takes a directory from a shared queue, lists
 * it, stats each entry, and hashes each file through the directory fd it holds
 * (one openat of a single name with O_NOFOLLOW: no second path walk). New
 * subdirectories go back to the queue. Each thread fills its own baseline;
 * they are merged and sorted at the end. Walking and hashing overlap, and no
 * core waits for a serial listing phase. Small files of a scan without a
 * store wait in the thread's batch until it is full (or the thread is done),
 * and are hashed together.
 */
struct walk {
	int			 rootfd;
	dev_t			 dev;
	const struct scan_opts	*o;
	scan_problem_cb		 cb;
	void			*cbdata;
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	char			**queue;	/* directories still to list (relative) */
	size_t			 nqueue, capqueue;
	unsigned		 busy;		/* threads listing a directory now */
};

struct pending {
	struct fentry	 e;
	size_t		 off, len;	/* its content in the batch buffer */
};

struct walker {
	struct walk		*w;
	struct baseline		 b;
	struct scan_stats	 st;
	struct sha256_batch	*hb;		/* NULL: every file hashed at once */
	char			*buf;
	size_t			 used, cap;
	struct pending		 pend[SHA256_BATCH_MAX];
	size_t			 npend;
};

/* Hash what waits in the batch and record it. */
static void
batch_flush(struct walker *k)
{
	const void *msgs[SHA256_BATCH_MAX];
	size_t lens[SHA256_BATCH_MAX];
	uint8_t out[SHA256_BATCH_MAX][SHA256_LEN];

	if (k->npend == 0)
		return;
	for (size_t i = 0; i < k->npend; i++) {
		msgs[i] = k->buf + k->pend[i].off;
		lens[i] = k->pend[i].len;
	}
	sha256_batch_run(k->hb, msgs, lens, out, k->npend);
	for (size_t i = 0; i < k->npend; i++) {
		struct fentry *e = &k->pend[i].e;

		memcpy(e->hash, out[i], SHA256_LEN);
		e->flags = FE_HASHED;
		k->st.hashed_bytes += k->pend[i].len;
		baseline_add(&k->b, e);
	}
	k->npend = 0;
	k->used = 0;
}

/* Read the small file open at fd (e: its stat) into the batch: 1 when it
 * waits there (e now belongs to the batch), 0 when it is bigger than it said
 * (hash it the usual way from offset 0), -errno on a read error. */
static int
batch_add(struct walker *k, int fd, struct fentry *e)
{
	size_t want = (size_t)e->size + 1, got = 0;

	if (want > k->cap)
		return 0;	/* bigger than the whole buffer: the usual way */
	if (k->npend == SHA256_BATCH_MAX || k->cap - k->used < want)
		batch_flush(k);
	while (got < want) {
		ssize_t n = fd_read(fd, k->buf + k->used + got, want - got);

		if (n < 0)
			return (int)n;
		got += (size_t)n;
		/* A regular file's read comes back short only at its end: no
		 * second read to see the end. */
		if ((size_t)n < want - got + (size_t)n)
			break;
	}
	if (got == want)
		return lseek(fd, 0, SEEK_SET) == 0 ? 0 : -errno;	/* it grew */
	k->pend[k->npend].e = *e;
	k->pend[k->npend].off = k->used;
	k->pend[k->npend].len = got;
	k->npend++;
	k->used += got;
	return 1;
}

static void
walk_problem(struct walk *w, const char *rel, int err)
{
	if (w->cb == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->cb(rel, err, w->cbdata);
	pthread_mutex_unlock(&w->lock);
}

static void
walk_push(struct walk *w, char *rel)
{
	pthread_mutex_lock(&w->lock);
	w->queue = xgrow(w->queue, &w->capqueue, w->nqueue + 1, sizeof(*w->queue));
	w->queue[w->nqueue++] = rel;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

static void
walk_file_failed(struct walker *k, struct fentry *e, int r)
{
	if (r == -ENOENT || r == -ELOOP) {
		k->st.vanished++;
		e->type = FT_NONE;	/* gone, or no longer a file: not recorded */
		return;
	}
	k->st.unreadable++;
	e->flags = 0;
	walk_problem(k->w, e->path, r);
}

/* A regular file, open at fd, its stat already in e. Unchanged files keep the
 * recorded hash without being read. True when e went into the batch (and is
 * the batch's now: recorded when the batch is hashed). */
static bool
walk_file(struct walker *k, int fd, struct fentry *e)
{
	const struct scan_opts *o = k->w->o;
	const struct fentry *old;
	uint64_t nread = 0;
	bool stored = false;
	int r, store_err = 0;

	if (o->no_hash)
		return false;
	old = o->reuse != NULL ? baseline_find(o->reuse, e->path) : NULL;
	if (old != NULL && old->type == FT_REG && (old->flags & FE_HASHED) &&
		!(old->flags & FE_DIVERGED) &&
		old->ino == e->ino && old->size == e->size && old->mtime_ns == e->mtime_ns &&
		old->ctime_ns == e->ctime_ns &&
		(o->store == NULL || !(old->flags & FE_STORED) || store_has(o->store, old->hash))) {
		memcpy(e->hash, old->hash, sizeof(e->hash));
		e->flags = old->flags;
		k->st.reused++;
		return false;
	}
	if (k->hb != NULL && fd >= 0 && e->size <= BATCH_FILE_MAX) {
		r = batch_add(k, fd, e);
		if (r == 1)
			return true;
		if (r < 0) {
			walk_file_failed(k, e, r);
			return false;
		}
	}
	r = hash_fd(fd, e, o->store, &nread, &stored, &store_err);
	if (store_err < 0) {
		k->st.store_errors++;
		k->st.store_error = store_err;
	}
	if (r < 0) {
		walk_file_failed(k, e, r);
		return false;
	}
	k->st.hashed_bytes += nread;
	if (o->store != NULL && !stored)
		k->st.not_stored++;
	return false;
}

static void
walk_dir(struct walker *k, const char *rel)
{
	struct walk *w = k->w;
	struct dirent *de;
	DIR *d = NULL;
	int fd;

	fd = openat_beneath(w->rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
			k->st.vanished++;
		else
			walk_problem(w, rel, fd);
		return;
	}
	d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct fentry e = { 0 };
		struct stat sb;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_REG && !w->o->no_hash) {
			/* A file: open it and fstat the fd, one lookup instead of two. */
			int ffd = open_child_for_hash(fd, de->d_name);

			if (ffd >= 0 && fstat(ffd, &sb) == 0 && S_ISREG(sb.st_mode)) {
				bool queued;

				e.path = path_join_rel(rel, de->d_name);
				fentry_set_stat(&e, &sb);
				queued = walk_file(k, ffd, &e);
				close(ffd);
				if (queued)
					continue;
				if (e.type == FT_NONE) {
					fentry_release(&e);
					continue;
				}
				baseline_add(&k->b, &e);
				continue;
			}
			if (ffd >= 0)
				close(ffd);
			/* changed under us: look again the long way */
		}
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				k->st.vanished++;
			else
				walk_problem(w, de->d_name, -errno);
			continue;
		}
		e.path = path_join_rel(rel, de->d_name);
		fentry_set_stat(&e, &sb);
		switch (e.type) {
		case FT_REG: {
			int ffd = w->o->no_hash ? -1 : open_child_for_hash(fd, de->d_name);
			bool queued = false;

			if (ffd >= 0 || w->o->no_hash)
				queued = walk_file(k, ffd, &e);
			if (ffd >= 0)
				close(ffd);
			else if (!w->o->no_hash)
				walk_file_failed(k, &e, ffd);
			if (queued)
				continue;
			break;
		}
		case FT_DIR:
			k->st.dirs++;
			if (sb.st_dev == w->dev)
				walk_push(w, xstrdup(e.path));
			break;
		case FT_LNK:
			k->st.links++;
			if (read_link(fd, de->d_name, &e.link) < 0)
				e.link = xstrdup("");
			break;
		default:
			k->st.other++;
			break;
		}
		if (e.type == FT_NONE) {
			fentry_release(&e);
			continue;
		}
		baseline_add(&k->b, &e);
	}
	closedir(d);
}

static void *
walker_main(void *arg)
{
	struct walker *k = arg;
	struct walk *w = k->w;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		char *rel;

		while (w->nqueue == 0 && w->busy > 0)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->nqueue == 0)
			break;		/* nothing queued and nobody can queue more */
		rel = w->queue[--w->nqueue];
		w->busy++;
		pthread_mutex_unlock(&w->lock);
		walk_dir(k, rel);
		free(rel);
		pthread_mutex_lock(&w->lock);
		w->busy--;
		if (w->nqueue == 0 && w->busy == 0)
			pthread_cond_broadcast(&w->wake);
	}
	pthread_cond_broadcast(&w->wake);
	pthread_mutex_unlock(&w->lock);
	batch_flush(k);
	return NULL;
}

static unsigned
pool_threads(unsigned want)
{
	long n;

	if (want > 0)
		return want > 64 ? 64 : want;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

static void
stats_add(struct scan_stats *a, const struct scan_stats *b)
{
	a->dirs += b->dirs;
	a->links += b->links;
	a->other += b->other;
	a->hashed_bytes += b->hashed_bytes;
	a->reused += b->reused;
	a->vanished += b->vanished;
	a->unreadable += b->unreadable;
	a->not_stored += b->not_stored;
	a->store_errors += b->store_errors;
	if (b->store_error < 0)
		a->store_error = b->store_error;
}

int
tree_scan(const char *root, const struct scan_opts *opts, struct baseline *ret,
	struct scan_stats *ret_stats, scan_problem_cb cb, void *cbdata)
{
	static const struct scan_opts default_opts;
	const struct scan_opts *o = opts != NULL ? opts : &default_opts;
	struct walk w = { .o = o, .cb = cb, .cbdata = cbdata };
	struct walker *k = NULL;	/* nthreads of them */
	pthread_t threads[64];
	struct scan_stats st = { 0 };
	struct baseline b;
	struct fentry e = { 0 };
	struct stat sb;
	unsigned nthreads, started = 0;
	int64_t t0 = now_monotonic_ns();
	int rootfd, r;

	baseline_init(&b, root);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rootfd < 0) {
		r = -errno;
		if (r == -ENOTDIR && lstat(root, &sb) == 0 && S_ISLNK(sb.st_mode))
			r = -ELOOP;
		goto out;
	}
	if (fstat(rootfd, &sb) < 0) {
		r = -errno;
		goto out;
	}
	e.path = xstrdup("");
	fentry_set_stat(&e, &sb);
	baseline_add(&b, &e);

	w.rootfd = rootfd;
	w.dev = sb.st_dev;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.wake, NULL);
	w.queue = xgrow(NULL, &w.capqueue, 1, sizeof(*w.queue));
	w.queue[w.nqueue++] = xstrdup("");
	nthreads = pool_threads(o->threads);
	k = xcalloc(nthreads, sizeof(*k));
	for (unsigned t = 0; t < nthreads; t++) {
		k[t].w = &w;
		baseline_init(&k[t].b, root);
		if (o->store == NULL && !o->no_hash) {
			k[t].cap = BATCH_BYTES_ALL / nthreads < BATCH_BYTES_MAX ?
				BATCH_BYTES_ALL / nthreads : BATCH_BYTES_MAX;
			k[t].hb = sha256_batch_new();
			k[t].buf = xmalloc(k[t].cap);
		}
	}
	for (unsigned t = 1; t < nthreads; t++)
		if (pthread_create(&threads[started], NULL, walker_main, &k[t]) == 0)
			started++;
	walker_main(&k[0]);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_cond_destroy(&w.wake);
	pthread_mutex_destroy(&w.lock);
	free(w.queue);

	for (unsigned t = 0; t < nthreads; t++) {
		for (size_t i = 0; i < k[t].b.n; i++)
			baseline_add(&b, &k[t].b.e[i]);
		k[t].b.n = 0;
		stats_add(&st, &k[t].st);
		baseline_release(&k[t].b);
		sha256_batch_free(k[t].hb);
		free(k[t].buf);
	}
	baseline_finish(&b);
	st.files = st.bytes = 0;
	for (size_t i = 0; i < b.n; i++) {
		if (b.e[i].type != FT_REG)
			continue;
		st.files++;
		st.bytes += b.e[i].size;
	}
	st.seconds = (double)(now_monotonic_ns() - t0) / 1e9;
	*ret = b;
	memset(&b, 0, sizeof(b));
	if (ret_stats != NULL)
		*ret_stats = st;
	r = 0;
out:
	free(k);
	if (rootfd >= 0)
		close(rootfd);
	if (b.root != NULL)
		baseline_release(&b);
	return r;
}
