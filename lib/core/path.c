/* path.c - symlink-proof opening below a directory, and path joining. */
#include "core/path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "core/banned.h"

static bool openat2_missing;

/* The fallback: one component at a time, each with O_NOFOLLOW. */
static int
openat_walk(int dirfd, const char *rel, int flags, mode_t mode)
{
	char *copy = xstrdup(rel), *save = NULL, *comp, *next;
	int cur = dirfd, fd = -1, r;

	comp = strtok_r(copy, "/", &save);
	while (comp != NULL) {
		next = strtok_r(NULL, "/", &save);
		if (strcmp(comp, "..") == 0) {
			r = -EXDEV;
			goto out;
		}
		if (next == NULL)
			fd = openat(cur, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode);
		else
			fd = openat(cur, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			goto out;
		}
		if (cur != dirfd)
			close(cur);
		cur = fd;
		fd = -1;
		comp = next;
	}
	if (cur == dirfd) {
		r = openat(dirfd, ".", flags | O_CLOEXEC, mode);
		r = r < 0 ? -errno : r;
		goto out;
	}
	r = cur;
	cur = dirfd;
out:
	if (cur != dirfd)
		close(cur);
	free(copy);
	return r;
}

int
openat_beneath(int dirfd, const char *rel, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (rel[0] == '\0')
		rel = ".";
	if (!openat2_missing) {
		do
			fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		while (fd < 0 && errno == EAGAIN);
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS)
			return -errno;
		openat2_missing = true;
	}
	return openat_walk(dirfd, rel, flags, mode);
}

int
openat_parent_beneath(int dirfd, const char *rel, const char **ret_name)
{
	const char *slash = strrchr(rel, '/');
	char *dir;
	int fd;

	if (slash == NULL) {
		fd = openat_beneath(dirfd, "", O_PATH | O_DIRECTORY, 0);
		if (fd >= 0)
			*ret_name = rel;
		return fd;
	}
	dir = xstrndup(rel, (size_t)(slash - rel));
	fd = openat_beneath(dirfd, dir, O_PATH | O_DIRECTORY, 0);
	free(dir);
	if (fd >= 0)
		*ret_name = slash + 1;
	return fd;
}

char *
path_join_rel(const char *dir, const char *name)
{
	if (dir[0] == '\0')
		return xstrdup(name);
	return xasprintf("%s/%s", dir, name);
}

char *
path_join_abs(const char *root, const char *rel)
{
	size_t n = strlen(root);

	if (rel[0] == '\0')
		return xstrdup(root);
	if (n > 0 && root[n - 1] == '/')
		return xasprintf("%s%s", root, rel);
	return xasprintf("%s/%s", root, rel);
}

char *
path_absolute(const char *path)
{
	struct buf out;
	char *copy = NULL, *save = NULL, *comp;
	char cwd[PATH_MAX];

	if (path == NULL || path[0] == '\0')
		return NULL;
	buf_init(&out, 0);
	if (path[0] != '/') {
		if (getcwd(cwd, sizeof(cwd)) == NULL)
			return NULL;
		copy = xasprintf("%s/%s", cwd, path);
	} else {
		copy = xstrdup(path);
	}
	for (comp = strtok_r(copy, "/", &save); comp != NULL; comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			char *slash = strrchr(out.data, '/');

			if (slash != NULL) {
				out.len = (size_t)(slash - out.data);
				out.data[out.len] = '\0';
			}
			continue;
		}
		buf_putc(&out, '/');
		buf_puts(&out, comp);
	}
	if (out.len == 0)
		buf_putc(&out, '/');
	free(copy);
	return buf_detach(&out, NULL);
}
