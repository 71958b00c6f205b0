/* scan.c - the tree walk and the parallel hashing pool. */
#include "agent/guard/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/guard/store.h"
#include "core/path.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "tls/sha256.h"
#include "core/banned.h"

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

/* Open a regular file below rootfd for hashing; O_NOATIME where we may. */
static int
open_for_hash(int rootfd, const char *rel)
{
	int fd = openat_beneath(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOATIME, 0);

	if (fd == -EPERM)
		fd = openat_beneath(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	return fd;
}

/* Hash (and store) the regular file e. Refreshes e's metadata from the opened
 * file, so a file replaced between listing and hashing is recorded as it is. */
static int
hash_entry(int rootfd, struct fentry *e, struct store *store, uint64_t *ret_read, bool *ret_stored,
	int *ret_store_err)
{
	struct stat st;
	bool stored = false;
	uint64_t size = 0;
	int fd, r;

	fd = open_for_hash(rootfd, e->path);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -ENOENT;	/* replaced by something else: the watcher will say so */
		goto out;
	}
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
		goto out;
	e->flags = FE_HASHED | (stored ? FE_STORED : 0);
	*ret_read = size;
	*ret_stored = stored;
out:
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

struct hash_pool {
	int			 rootfd;
	struct baseline		*b;
	struct store		*store;
	size_t			*todo;		/* indices into b->e */
	size_t			 ntodo;
	atomic_size_t		 next;
	atomic_uint_fast64_t	 hashed_bytes, vanished, unreadable, not_stored, store_errors;
	_Atomic int		 store_error;
	scan_problem_cb		 cb;
	void			*cbdata;
	pthread_mutex_t		 cb_lock;
};

static void *
hash_worker(void *arg)
{
	struct hash_pool *p = arg;
	size_t i;

	while ((i = atomic_fetch_add(&p->next, 1)) < p->ntodo) {
		struct fentry *e = &p->b->e[p->todo[i]];
		uint64_t nread = 0;
		bool stored = false;
		int r;

		int store_err = 0;

		r = hash_entry(p->rootfd, e, p->store, &nread, &stored, &store_err);
		if (store_err < 0) {
			atomic_fetch_add(&p->store_errors, 1);
			p->store_error = store_err;
		}
		if (r == -ENOENT) {
			atomic_fetch_add(&p->vanished, 1);
			e->type = FT_NONE;	/* dropped after the pool finishes */
			continue;
		}
		if (r < 0) {
			atomic_fetch_add(&p->unreadable, 1);
			e->flags = 0;
			if (p->cb != NULL) {
				pthread_mutex_lock(&p->cb_lock);
				p->cb(e->path, r, p->cbdata);
				pthread_mutex_unlock(&p->cb_lock);
			}
			continue;
		}
		atomic_fetch_add(&p->hashed_bytes, nread);
		if (p->store != NULL && !stored)
			atomic_fetch_add(&p->not_stored, 1);
	}
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

static int
hash_all(int rootfd, struct baseline *b, const struct scan_opts *o, struct scan_stats *st,
	scan_problem_cb cb, void *cbdata)
{
	struct hash_pool p = { .rootfd = rootfd, .b = b, .store = o->store, .cb = cb,
		.cbdata = cbdata };
	pthread_t threads[64];
	unsigned nthreads, started = 0;
	size_t out = 0;

	p.todo = xmalloc(sizeof(*p.todo) * (b->n + 1));
	for (size_t i = 0; i < b->n; i++) {
		struct fentry *e = &b->e[i];
		const struct fentry *old;

		if (e->type != FT_REG)
			continue;
		old = o->reuse != NULL ? baseline_find(o->reuse, e->path) : NULL;
		if (old != NULL && old->type == FT_REG && (old->flags & FE_HASHED) &&
			old->ino == e->ino && old->size == e->size &&
			old->mtime_ns == e->mtime_ns && old->ctime_ns == e->ctime_ns &&
			(o->store == NULL || (old->flags & FE_STORED) == 0 ||
				store_has(o->store, old->hash))) {
			memcpy(e->hash, old->hash, sizeof(e->hash));
			e->flags = old->flags;
			st->reused++;
			continue;
		}
		p.todo[p.ntodo++] = i;
	}
	pthread_mutex_init(&p.cb_lock, NULL);
	nthreads = pool_threads(o->threads);
	if (nthreads > p.ntodo)
		nthreads = p.ntodo > 0 ? (unsigned)p.ntodo : 1;
	for (unsigned t = 1; t < nthreads; t++)
		if (pthread_create(&threads[started], NULL, hash_worker, &p) == 0)
			started++;
	hash_worker(&p);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	pthread_mutex_destroy(&p.cb_lock);
	free(p.todo);

	st->hashed_bytes = p.hashed_bytes;
	st->vanished += p.vanished;
	st->unreadable += p.unreadable;
	st->not_stored += p.not_stored;
	st->store_errors += p.store_errors;
	if (p.store_error < 0)
		st->store_error = p.store_error;
	/* Drop entries that vanished while we were hashing. */
	for (size_t i = 0; i < b->n; i++) {
		if (b->e[i].type == FT_NONE) {
			fentry_release(&b->e[i]);
			continue;
		}
		b->e[out++] = b->e[i];
	}
	b->n = out;
	return 0;
}

/* List one directory (rel below rootfd) into b; subdirectories are appended to
 * the queue. dev is the root's filesystem. */
static void
walk_dir(int rootfd, const char *rel, dev_t dev, struct baseline *b, char ***queue,
	size_t *nqueue, size_t *capqueue, struct scan_stats *st, scan_problem_cb cb, void *cbdata)
{
	struct dirent *de;
	DIR *d = NULL;
	int fd;

	fd = openat_beneath(rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);
	if (fd < 0) {
		if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
			st->vanished++;
		else if (cb != NULL)
			cb(rel, fd, cbdata);
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
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				st->vanished++;
			else if (cb != NULL)
				cb(de->d_name, -errno, cbdata);
			continue;
		}
		e.path = path_join_rel(rel, de->d_name);
		fentry_set_stat(&e, &sb);
		switch (e.type) {
		case FT_REG:
			st->files++;
			st->bytes += e.size;
			break;
		case FT_DIR:
			st->dirs++;
			if (sb.st_dev == dev) {
				*queue = xgrow(*queue, capqueue, *nqueue + 1, sizeof(**queue));
				(*queue)[(*nqueue)++] = xstrdup(e.path);
			}
			break;
		case FT_LNK:
			st->links++;
			if (read_link(fd, de->d_name, &e.link) < 0)
				e.link = xstrdup("");
			break;
		default:
			st->other++;
			break;
		}
		baseline_add(b, &e);
	}
	closedir(d);
}

int
tree_scan(const char *root, const struct scan_opts *opts, struct baseline *ret,
	struct scan_stats *ret_stats, scan_problem_cb cb, void *cbdata)
{
	static const struct scan_opts default_opts;
	const struct scan_opts *o = opts != NULL ? opts : &default_opts;
	struct scan_stats st = { 0 };
	struct baseline b;
	struct fentry e = { 0 };
	struct stat sb;
	char **queue = NULL;
	size_t nqueue = 0, capqueue = 0, head = 0;
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

	queue = xgrow(queue, &capqueue, 1, sizeof(*queue));
	queue[nqueue++] = xstrdup("");
	while (head < nqueue) {
		walk_dir(rootfd, queue[head], sb.st_dev, &b, &queue, &nqueue, &capqueue, &st, cb,
			cbdata);
		free(queue[head]);
		queue[head++] = NULL;
	}
	if (!o->no_hash) {
		r = hash_all(rootfd, &b, o, &st, cb, cbdata);
		if (r < 0)
			goto out;
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
	free(queue);
	if (rootfd >= 0)
		close(rootfd);
	if (b.root != NULL)
		baseline_release(&b);
	return r;
}
