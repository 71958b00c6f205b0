/* watch_inotify.c - the fallback: one inotify watch per directory, no writer pid. */
#include "agent/guard/watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent/guard/guard.h"
#include "agent/guard/watch_refs.h"
#include "core/bmap.h"
#include "core/path.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define IN_DIR_EVENTS (IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
	IN_MOVED_TO | IN_CLOSE_WRITE | IN_EXCL_UNLINK | IN_ONLYDIR)
#define IN_PARENT_EVENTS (IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	IN_ONLYDIR)

struct watcher {
	int		 fd;
	uint64_t	 round;
	struct bmap	 wds;	/* int wd -> watch_ref chain */
	char		 buf[65536] __attribute__((aligned(8)));
};

static int
ino_open(struct watcher **ret)
{
	struct watcher *w = xcalloc(1, sizeof(*w));

	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		int r = -errno;

		free(w);
		return r;
	}
	bmap_init(&w->wds);
	*ret = w;
	return 0;
}

static int
add_watch(struct watcher *w, int dfd, size_t idx, const char *rel, const char *only, uint32_t mask)
{
	char proc[64];
	int wd;

	/* inotify takes a path: watch the directory we hold open, not a name that
	 * could be swapped for a symlink. Masks add up when guards share it. */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dfd);
	wd = inotify_add_watch(w->fd, proc, mask | IN_MASK_ADD);
	if (wd < 0)
		return -errno;
	watch_refs_put(&w->wds, &wd, sizeof(wd), idx, w->round, rel, only);
	return 0;
}

struct ancestor_ctx {
	struct watcher	*w;
	size_t		 idx;
};

static int
register_ancestor(const char *dir, const char *name, void *data)
{
	struct ancestor_ctx *c = data;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	add_watch(c->w, fd, c->idx, "", name, IN_PARENT_EVENTS);
	close(fd);
	return 0;
}

static void
unwatch(const void *key, size_t klen, void *data)
{
	struct watcher *w = data;
	int wd;

	memcpy(&wd, key, sizeof(wd));
	inotify_rm_watch(w->fd, wd);
}

static int
ino_watch_guard(struct watcher *w, size_t idx, struct guard *g)
{
	struct ancestor_ctx actx = { .w = w, .idx = idx };
	int r;

	w->round++;
	r = add_watch(w, g->parentfd, idx, "", g->rootname, IN_PARENT_EVENTS);
	if (r < 0)
		return r;
	watch_each_ancestor(g->root, register_ancestor, &actx);
	for (size_t i = 0; i < g->base.n; i++) {
		const struct fentry *e = &g->base.e[i];
		int dfd;

		if (e->type != FT_DIR)
			continue;
		dfd = openat_beneath(g->rootfd, e->path, O_RDONLY | O_DIRECTORY, 0);
		if (dfd < 0)
			continue;
		r = add_watch(w, dfd, idx, e->path, NULL, IN_DIR_EVENTS);
		close(dfd);
		if (r < 0)
			return r;	/* -ENOSPC: max_user_watches reached */
	}
	watch_refs_drop_guard(&w->wds, idx, w->round, unwatch, w);
	return 0;
}

static int
ino_fd(struct watcher *w)
{
	return w->fd;
}

static int
ino_read(struct watcher *w, const struct watch_sink *sink)
{
	for (;;) {
		ssize_t len = read(w->fd, w->buf, sizeof(w->buf));
		const char *p;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && errno == EAGAIN)
			return 0;
		if (len <= 0)
			return len < 0 ? -errno : 0;
		for (p = w->buf; p + sizeof(struct inotify_event) <= w->buf + len;) {
			const struct inotify_event *ev = (const void *)p;

			if (p + sizeof(*ev) + ev->len > w->buf + len)
				break;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				sink->overflow(sink->data, -1);
				continue;
			}
			if (ev->mask & IN_IGNORED) {
				watch_refs_del(&w->wds, &ev->wd, sizeof(ev->wd));
				continue;
			}
			watch_refs_dispatch(&w->wds, &ev->wd, sizeof(ev->wd), ev->len > 0 ? ev->name : "",
				0, sink);
		}
	}
}

static void
ino_close(struct watcher *w)
{
	if (w == NULL)
		return;
	watch_refs_release(&w->wds);
	close(w->fd);
	free(w);
}

const struct watcher_ops watcher_inotify = {
	.name = "inotify",
	.open = ino_open,
	.watch_guard = ino_watch_guard,
	.fd = ino_fd,
	.read = ino_read,
	.close = ino_close,
};
