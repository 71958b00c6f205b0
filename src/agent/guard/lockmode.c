/* lockmode.c - FS_IMMUTABLE_FL on and off, through FS_IOC_{GET,SET}FLAGS. */
#include "agent/guard/lockmode.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/guard/guard.h"
#include "core/path.h"
#include "core/banned.h"

int
lock_path(struct guard *g, const char *rel, bool on)
{
	int fd, flags, want, r = 0;

	fd = openat_beneath(g->rootfd, rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0) {
		r = (errno == ENOTTY || errno == EINVAL) ? -EOPNOTSUPP : -errno;
		goto out;
	}
	want = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
	if (want != flags && ioctl(fd, FS_IOC_SETFLAGS, &want) < 0)
		r = (errno == ENOTTY || errno == EINVAL) ? -EOPNOTSUPP : -errno;
out:
	close(fd);
	return r;
}

int
lock_tree(struct guard *g, bool on)
{
	int first = 0;

	for (size_t i = 0; i < g->base.n; i++) {
		const struct fentry *e = &g->base.e[i];
		int r;

		if (e->type != FT_REG && e->type != FT_DIR)
			continue;
		r = lock_path(g, e->path, on);
		if (r == -EOPNOTSUPP)
			return r;
		if (r < 0 && r != -ENOENT && first == 0)
			first = r;
	}
	return first;
}
