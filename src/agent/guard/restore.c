/* restore.c - atomic restore of baseline entries, and quarantine of intruders. */
#include "agent/guard/restore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/guard/guard.h"
#include "agent/guard/store.h"
#include "agent/guard/syncer.h"
#include "core/fdio.h"
#include "core/json.h"
#include "core/path.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "core/banned.h"

static atomic_uint restore_counter;

/* Open the parent directory of rel below the guard's root. */
static int
open_parent(struct guard *g, const char *rel, const char **ret_name)
{
	if (rel[0] == '\0') {
		int fd = fcntl(g->parentfd, F_DUPFD_CLOEXEC, 3);

		*ret_name = g->rootname;
		return fd < 0 ? -errno : fd;
	}
	return openat_parent_beneath(g->rootfd, rel, ret_name);
}

/* Set owner, mode and (for files) mtime on an open fd. */
static int
apply_metadata_fd(int fd, const struct fentry *want)
{
	struct timespec times[2] = { { .tv_nsec = UTIME_OMIT },
		{ .tv_sec = want->mtime_ns / 1000000000, .tv_nsec = want->mtime_ns % 1000000000 } };

	if (fchown(fd, want->uid, want->gid) < 0)
		return -errno;
	if (fchmod(fd, want->mode) < 0)	/* after chown, which clears set-id bits */
		return -errno;
	if (want->type == FT_REG && futimens(fd, times) < 0)
		return -errno;
	return 0;
}

static void
refresh_identity(int pfd, const char *name, struct fentry *want)
{
	struct stat st;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		want->ino = st.st_ino;
		want->dev = st.st_dev;
		want->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
		if (want->type != FT_REG)
			want->mtime_ns =
				(int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	}
}

static void
temp_name(char *out, size_t outlen)
{
	snprintf(out, outlen, ".yingji-restore.%d.%u", (int)getpid(),
		atomic_fetch_add(&restore_counter, 1));
}

static int
restore_file(struct guard *g, int pfd, const char *name, struct fentry *want)
{
	char tmp[64];
	bool linked = false;
	int fd, r;

	if (!(want->flags & FE_STORED))
		return -ENODATA;
	temp_name(tmp, sizeof(tmp));
	fd = openat(pfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		fd = openat(pfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
		linked = fd >= 0;
	}
	if (fd < 0)
		return -errno;
	r = store_get_fd(g->store, want->hash, fd);
	if (r < 0)
		goto out;
	r = apply_metadata_fd(fd, want);
	if (r < 0)
		goto out;
	if (!linked) {
		if (linkat(fd, "", pfd, tmp, AT_EMPTY_PATH) < 0) {
			r = -errno;
			goto out;
		}
		linked = true;
	}
	if (renameat(pfd, tmp, pfd, name) < 0) {
		r = -errno;
		goto out;
	}
	linked = false;
	{
		struct stat st;

		/* What we wrote is what we record, read from our own fd. */
		if (fstat(fd, &st) == 0) {
			want->ino = st.st_ino;
			want->dev = st.st_dev;
			want->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
		}
	}
	/* Verified content is in place; the disk catches up off this path. */
	syncer_sync_fd(fd);
	fd = -1;
	r = 0;
out:
	if (linked)
		unlinkat(pfd, tmp, 0);
	if (fd >= 0)
		close(fd);
	return r;
}

static int
restore_symlink(int pfd, const char *name, const struct fentry *want)
{
	char tmp[64];

	temp_name(tmp, sizeof(tmp));
	if (symlinkat(want->link != NULL ? want->link : "", pfd, tmp) < 0)
		return -errno;
	fchownat(pfd, tmp, want->uid, want->gid, AT_SYMLINK_NOFOLLOW);
	if (renameat(pfd, tmp, pfd, name) < 0) {
		int r = -errno;

		unlinkat(pfd, tmp, 0);
		return r;
	}
	return 0;
}

static int
restore_dir(int pfd, const char *name, const struct fentry *want)
{
	struct stat st;
	bool created = true;
	int fd, r;

	if (mkdirat(pfd, name, 0700) < 0) {
		if (errno != EEXIST)
			return -errno;
		created = false;
	}
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* A directory we did not just make must be the recorded one: never
	 * chown or chmod one an attacker put in its place. */
	if (!created && (fstat(fd, &st) < 0 || st.st_ino != want->ino || st.st_dev != want->dev)) {
		close(fd);
		return -ESTALE;
	}
	r = apply_metadata_fd(fd, want);
	close(fd);
	return r;
}

/* First index whose path starts with prefix (entries are sorted). */
static size_t
lower_bound(const struct baseline *b, const char *prefix)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(b->e[mid].path, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int restore_one(struct guard *g, struct fentry *want, unsigned depth);

/* A directory was recreated: everything recorded below it is missing. */
static int
restore_children(struct guard *g, const char *rel)
{
	char *prefix = rel[0] == '\0' ? xstrdup("") : xasprintf("%s/", rel);
	size_t plen = strlen(prefix);
	int first_err = 0;

	for (size_t i = lower_bound(&g->base, prefix); i < g->base.n; i++) {
		struct fentry *e = &g->base.e[i];
		int r;

		if (strncmp(e->path, prefix, plen) != 0)
			break;
		if (e->path[0] == '\0')
			continue;
		r = restore_one(g, e, 0);
		if (r < 0 && first_err == 0)
			first_err = r;
	}
	free(prefix);
	return first_err;
}

static int
reopen_root(struct guard *g)
{
	int fd = openat(g->parentfd, g->rootname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(g->rootfd);
	g->rootfd = fd;
	g->generation++;
	return 0;
}

static int
restore_one(struct guard *g, struct fentry *want, unsigned depth)
{
	const char *name = NULL;
	struct stat st;
	bool existed;
	int pfd, r;

	if (depth > 64)
		return -ELOOP;
	pfd = open_parent(g, want->path, &name);
	if (pfd == -ENOENT || pfd == -ENOTDIR) {
		/* The parent is gone too: put it back first. */
		char *slash = strrchr(want->path, '/');
		char *parent = slash != NULL ? xstrndup(want->path, (size_t)(slash - want->path))
					     : xstrdup("");
		struct fentry *pe = baseline_find(&g->base, parent);

		free(parent);
		if (pe == NULL || pe->type != FT_DIR)
			return pfd;
		r = restore_one(g, pe, depth + 1);
		if (r < 0)
			return r;
		/* restoring the parent directory restored its children, us included */
		return 0;
	}
	if (pfd < 0)
		return pfd;
	existed = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
	switch (want->type) {
	case FT_REG:
		r = restore_file(g, pfd, name, want);
		break;
	case FT_LNK:
		r = restore_symlink(pfd, name, want);
		break;
	case FT_DIR:
		r = restore_dir(pfd, name, want);
		if (r == 0 && want->path[0] == '\0')
			r = reopen_root(g);
		if (r == 0 && !existed) {
			g->generation++;
			refresh_identity(pfd, name, want);
			r = restore_children(g, want->path);
		}
		break;
	default:
		r = -EOPNOTSUPP;
		break;
	}
	if (r == 0 && want->type != FT_REG)
		refresh_identity(pfd, name, want);
	close(pfd);
	return r;
}

int
restore_entry(struct guard *g, struct fentry *want)
{
	return restore_one(g, want, 0);
}

int
restore_metadata(struct guard *g, struct fentry *want, uint64_t expect_ino)
{
	const char *name = NULL;
	struct stat st;
	int pfd, fd, r;

	pfd = open_parent(g, want->path, &name);
	if (pfd < 0)
		return pfd;
	if (want->type == FT_LNK) {
		fd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		if (fstat(fd, &st) < 0 || !S_ISLNK(st.st_mode) || st.st_ino != expect_ino)
			r = -ESTALE;
		else
			r = fchownat(fd, "", want->uid, want->gid, AT_EMPTY_PATH) < 0 ? -errno : 0;
		close(fd);
		goto out;
	}
	fd = openat(pfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	/* Only the inode that was compared gets its owner and mode set. */
	if (fstat(fd, &st) < 0 || st.st_ino != expect_ino)
		r = -ESTALE;
	else
		r = apply_metadata_fd(fd, want);
	close(fd);
out:
	if (r == 0)
		refresh_identity(pfd, name, want);
	close(pfd);
	return r;
}

int
remove_tree(int pdir, const char *name, unsigned depth)
{
	int fd, r = 0;

	if (unlinkat(pdir, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth > 256)
		return -ELOOP;
	fd = openat(pdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	{
		DIR *d = fdopendir(fd);
		struct dirent *de;

		if (d == NULL) {
			close(fd);
			return -errno;
		}
		while ((de = readdir(d)) != NULL && r == 0) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			r = remove_tree(dirfd(d), de->d_name, depth + 1);
		}
		closedir(d);
	}
	if (r == 0 && unlinkat(pdir, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

/* Copy an entry into the quarantine directory when rename cannot (another
 * filesystem), then remove the original. */
static int copy_out_once(int sfd, const char *sname, int dfd, const char *dname,
	unsigned depth);

/* Copy, and on failure leave nothing half-copied behind (it would only fill
 * the state directory and hide the failure). */
static int
copy_out(int sfd, const char *sname, int dfd, const char *dname, unsigned depth)
{
	int r = copy_out_once(sfd, sname, dfd, dname, depth);

	if (r < 0)
		remove_tree(dfd, dname, 0);
	return r;
}

static int
copy_out_once(int sfd, const char *sname, int dfd, const char *dname, unsigned depth)
{
	struct stat st;
	int in = -1, out = -1, r;

	if (depth > 256)
		return -ELOOP;
	if (fstatat(sfd, sname, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode)) {
		char target[4097];
		ssize_t n = readlinkat(sfd, sname, target, sizeof(target) - 1);

		if (n < 0)
			return -errno;
		target[n] = '\0';
		if (symlinkat(target, dfd, dname) < 0)
			return -errno;
		return unlinkat(sfd, sname, 0) < 0 ? -errno : 0;
	}
	if (S_ISDIR(st.st_mode)) {
		struct dirent *de;
		DIR *d;

		if (mkdirat(dfd, dname, 0700) < 0)
			return -errno;
		in = openat(sfd, sname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		out = openat(dfd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0 || out < 0) {
			r = -errno;
			goto out;
		}
		d = fdopendir(in);
		if (d == NULL) {
			r = -errno;
			goto out;
		}
		in = -1;
		r = 0;
		while ((de = readdir(d)) != NULL && r == 0) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			r = copy_out_once(dirfd(d), de->d_name, out, de->d_name, depth + 1);
		}
		closedir(d);
		if (r == 0 && unlinkat(sfd, sname, AT_REMOVEDIR) < 0)
			r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode))
		return unlinkat(sfd, sname, 0) < 0 ? -errno : 0;	/* fifo, socket: nothing to keep */
	in = openat(sfd, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	out = openat(dfd, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (in < 0 || out < 0) {
		r = -errno;
		goto out;
	}
	for (;;) {
		char buf[65536];
		ssize_t n = fd_read(in, buf, sizeof(buf));

		if (n <= 0) {
			r = (int)n;
			if (n < 0)
				goto out;
			break;
		}
		r = fd_write_all(out, buf, (size_t)n);
		if (r < 0)
			goto out;
	}
	if (fsync(out) < 0) {
		r = -errno;
		goto out;
	}
	r = unlinkat(sfd, sname, 0) < 0 ? -errno : 0;
out:
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return r;
}

/* One line per quarantined entry in the area's index.jsonl: appending to one
 * file is a single write, where a note file per entry cost a create in an
 * ever larger directory on the repair path. */
#define QUARANTINE_INDEX	"index.jsonl"

static void
write_sidecar(struct guard *g, int qdirfd, const char *qname, const char *rel)
{
	char *abs = guard_abs(g, rel), when[48];
	struct buf out;
	struct json j;
	int fd;

	buf_init(&out, 0);
	json_begin(&j, &out);
	json_key_str(&j, "quarantine", qname);
	json_key_str(&j, "path", abs);
	json_key_str(&j, "guard", g->root);
	time_format_local(now_realtime_ns(), when, sizeof(when));
	json_key_str(&j, "time", when);
	json_end(&j);
	buf_putc(&out, '\n');
	fd = openat(qdirfd, QUARANTINE_INDEX, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		0600);
	if (fd >= 0) {
		(void)fd_write_all(fd, out.data, out.len);
		close(fd);
	}
	buf_release(&out);
	free(abs);
}

/* Quarantine names are stamp-pid-counter-name with the name reduced to
 * printable UTF-8 (the original path is in the note and the event). */
static void
quarantine_name(char *out, size_t outlen, const char *name, unsigned attempt)
{
	char stamp[32], safe[201];
	time_t now = time(NULL);
	size_t k = 0;
	struct tm tm;

	for (const unsigned char *p = (const unsigned char *)name; *p && k + 4 < sizeof(safe);) {
		size_t n = utf8_char_len(p, strlen((const char *)p));

		if (n == 0 || *p < 0x20 || *p == 0x7f) {
			safe[k++] = '_';
			p++;
			continue;
		}
		memcpy(safe + k, p, n);
		k += n;
		p += n;
	}
	safe[k] = '\0';
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(out, outlen, "%s-%d-%u%s%u-%s", stamp, (int)getpid(),
		atomic_fetch_add(&restore_counter, 1), attempt ? "." : "", attempt, safe);
}

/* Rename without ever replacing an earlier piece of evidence. */
static int
rename_noreplace(int sfd, const char *sname, int dfd, char *dname, size_t dlen, const char *base)
{
	for (unsigned attempt = 0; attempt < 16; attempt++) {
		quarantine_name(dname, dlen, base, attempt);
		if (renameat2(sfd, sname, dfd, dname, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Beside the guarded root, on its filesystem: where intruders go when the
 * state directory is on another one, so they are moved (whole, atomically,
 * even while being written) instead of copied. */
#define LOCAL_QUARANTINE	".yingji-quarantine"

int
quarantine_entry(struct guard *g, const char *rel, char **ret_where)
{
	char qname[300];
	const char *name = NULL;
	int pfd, lfd = -1, r;

	pfd = open_parent(g, rel, &name);
	if (pfd < 0)
		return pfd;
	r = rename_noreplace(pfd, name, g->quarantine_dirfd, qname, sizeof(qname), name);
	if (r == 0) {
		write_sidecar(g, g->quarantine_dirfd, qname, rel);
		if (ret_where != NULL)
			*ret_where = xasprintf("quarantine/%s", qname);
		goto out;
	}
	if (r != -EXDEV)
		goto out;
	if (mkdirat(g->parentfd, LOCAL_QUARANTINE, 0700) < 0 && errno != EEXIST) {
		r = -errno;
	} else {
		lfd = openat(g->parentfd, LOCAL_QUARANTINE, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			O_CLOEXEC);
		r = lfd < 0 ? -errno : rename_noreplace(pfd, name, lfd, qname, sizeof(qname), name);
	}
	if (r == 0) {
		char *parent = xstrdup(g->root), *slash = strrchr(parent, '/');

		if (slash != NULL)
			*slash = '\0';
		write_sidecar(g, lfd, qname, rel);
		if (ret_where != NULL)
			*ret_where = xasprintf("%s/%s/%s", parent, LOCAL_QUARANTINE, qname);
		free(parent);
		goto out;
	}
	/* Last resort: copy into the state directory, then remove. */
	quarantine_name(qname, sizeof(qname), name, 0);
	r = copy_out(pfd, name, g->quarantine_dirfd, qname, 0);
	if (r == 0) {
		write_sidecar(g, g->quarantine_dirfd, qname, rel);
		if (ret_where != NULL)
			*ret_where = xasprintf("quarantine/%s", qname);
	}
out:
	if (lfd >= 0)
		close(lfd);
	close(pfd);
	return r;
}
